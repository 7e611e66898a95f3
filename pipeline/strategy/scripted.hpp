#pragma once
// `scripted`: sends a configured list of orders at given times after the book of their symbol is
// live. For operators (send these orders now) and for tests that must make specific orders: one
// that breaks each risk limit, a burst that trips the rate limit, orders to cancel with the kill
// switch.
//
//   [[strategies]]
//   type = "scripted"
//   orders = [ { symbol = "AAA", side = "buy", quantity = 100, price_offset_bps = -50, at_ms = 0 },
//              { symbol = "AAA", side = "sell", quantity = 5000, price_offset_bps = 0, tif = "ioc", repeat = 3 } ]
//
// Price: `price` (1/10,000 $) if given, else the reference (mid, or the one side there is) moved
// by price_offset_bps and rounded to the cent.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct ScriptedOrder {
  std::string symbol;
  Side side = Side::kBuy;
  Quantity quantity = 100;
  Price price = 0;                 // absolute; 0 = from the reference and the offset
  std::int32_t price_offset_bps = 0;
  TimeInForce tif = TimeInForce::kDay;
  std::uint32_t at_ms = 0;         // after the first moment this order's symbol's book is live
  std::uint32_t repeat = 1;
  // Additions for hft-backtest's tests (issue 15): FOK (tif = "fok"), post-only, and a cancel or a
  // replace of the order (each sent copy) this long after it was sent (0: never).
  bool fok = false;
  bool post_only = false;
  std::uint32_t cancel_after_ms = 0;
  std::uint32_t replace_after_ms = 0;
  Price replace_price = 0;          // 0: the order's price
  Quantity replace_quantity = 0;    // 0: the order's quantity

  static constexpr auto fields() {
    using O = ScriptedOrder;
    return std::tuple{
        param::symbol("symbol", &O::symbol, true),
        param::choice("side", &O::side, std::pair{"buy", Side::kBuy}, std::pair{"sell", Side::kSell}),
        param::integer("quantity", &O::quantity, 1, 1'000'000'000),
        param::integer("price", &O::price, 0, 2'000'000'000),
        param::integer("price_offset_bps", &O::price_offset_bps, -10'000, 1'000'000),
        param::choice("tif", &O::tif, std::pair{"day", TimeInForce::kDay}, std::pair{"ioc", TimeInForce::kIoc}),
        param::integer("at_ms", &O::at_ms, 0, 86'400'000),
        param::integer("repeat", &O::repeat, 1, 100'000),
        param::flag("fok", &O::fok),
        param::flag("post_only", &O::post_only),
        param::integer("cancel_after_ms", &O::cancel_after_ms, 0, 86'400'000),
        param::integer("replace_after_ms", &O::replace_after_ms, 0, 86'400'000),
        param::integer("replace_price", &O::replace_price, 0, 2'000'000'000),
        param::integer("replace_quantity", &O::replace_quantity, 0, 1'000'000'000),
    };
  }
};

struct ScriptedParams {
  std::vector<std::string> symbols;  // of the orders, each once, in order of first mention
  std::vector<ScriptedOrder> orders;

  static constexpr auto fields() {
    return std::tuple{param::tables("orders", &ScriptedParams::orders, 1, "a scripted strategy needs at least one order")};
  }
  // After the fields are read.
  void finish(const core::ConfigSection&) {
    for (const auto& o : orders)
      if (std::find(symbols.begin(), symbols.end(), o.symbol) == symbols.end()) symbols.push_back(o.symbol);
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return symbols; }
};

class ScriptedStrategy {
 public:
  explicit ScriptedStrategy(ScriptedParams p) : p_(std::move(p)), sent_(p_.orders.size(), false) {
    // Each order's symbol, numbered once: at_ms counts from that symbol going live.
    std::vector<std::string> names;
    for (const auto& o : p_.orders) {
      auto it = std::find(names.begin(), names.end(), o.symbol);
      if (it == names.end()) it = names.insert(names.end(), o.symbol);
      symbol_of_.push_back(static_cast<std::size_t>(it - names.begin()));
    }
    live_since_.assign(names.size(), 0);
  }
  [[nodiscard]] const ScriptedParams& params() const noexcept { return p_; }

  void on_timer(Context& ctx, std::uint64_t now_ns) noexcept {
    follow_ups(ctx, now_ns);
    for (std::size_t i = 0; i < p_.orders.size(); ++i) {
      if (sent_[i]) continue;
      const ScriptedOrder& o = p_.orders[i];
      const BookView* book = find(ctx, o.symbol);
      if (book == nullptr || book->stale || (book->bids[0].shares == 0 && book->asks[0].shares == 0)) continue;
      std::uint64_t& since = live_since_[symbol_of_[i]];
      if (since == 0) since = now_ns;
      if (now_ns - since < std::uint64_t{o.at_ms} * 1'000'000) continue;
      const Price ref = book->two_sided() ? (book->best_bid() + book->best_ask()) / 2
                                          : (book->bids[0].shares > 0 ? book->best_bid() : book->best_ask());
      Price px = o.price;
      if (px == 0) {
        px = ref + ref * o.price_offset_bps / 10'000;
        px -= px % 100;
      }
      // An order the context refuses locally (session down or recovering, book stale, operator
      // halt, too many orders) was never sent: it is tried again on the next tick. Refusals by
      // risk or the venue come back as reports and are final.
      for (; done_[i] < o.repeat; ++done_[i]) {
        const std::uint64_t id = o.fok ? ctx.fok(book->locate, o.side, px, o.quantity)
                                 : o.side == Side::kBuy ? ctx.buy(book->locate, px, o.quantity, o.tif, o.post_only)
                                                        : ctx.sell(book->locate, px, o.quantity, o.tif, o.post_only);
        if (id == 0) break;
        if ((o.cancel_after_ms != 0 || o.replace_after_ms != 0) && sent_ids_.size() < kMaxFollowUps)
          sent_ids_.push_back(SentOrder{id, i, now_ns, px, false, false});
      }
      sent_[i] = done_[i] == o.repeat;
    }
  }

 private:
  static constexpr std::size_t kMaxFollowUps = 1024;
  struct SentOrder {
    std::uint64_t id;
    std::size_t order;
    std::uint64_t sent_ns;
    Price price;
    bool canceled, replaced;
  };
  // Cancels and replaces due (cancel_after_ms, replace_after_ms) of the orders sent.
  void follow_ups(Context& ctx, std::uint64_t now_ns) noexcept {
    for (SentOrder& s : sent_ids_) {
      const ScriptedOrder& o = p_.orders[s.order];
      if (o.replace_after_ms != 0 && !s.replaced && now_ns - s.sent_ns >= std::uint64_t{o.replace_after_ms} * 1'000'000) {
        s.replaced = true;
        (void)ctx.replace(s.id, o.replace_price != 0 ? o.replace_price : s.price,
                          o.replace_quantity != 0 ? o.replace_quantity : o.quantity);
      }
      if (o.cancel_after_ms != 0 && !s.canceled && now_ns - s.sent_ns >= std::uint64_t{o.cancel_after_ms} * 1'000'000) {
        s.canceled = true;
        (void)ctx.cancel(s.id);
      }
    }
  }
  static const BookView* find(const Context& ctx, const std::string& symbol) noexcept {
    for (Locate l : ctx.symbols()) {
      const BookView& b = ctx.book(l);
      const std::string_view name(b.symbol.data(), ::strnlen(b.symbol.data(), 8));
      std::string_view trimmed = name;
      while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
      if (trimmed == symbol) return &b;
    }
    return nullptr;
  }

  ScriptedParams p_;
  std::vector<bool> sent_;
  std::vector<std::uint32_t> done_ = std::vector<std::uint32_t>(p_.orders.size(), 0);  // sent so far of `repeat`
  std::vector<std::size_t> symbol_of_;     // per order: index of its symbol
  std::vector<std::uint64_t> live_since_;  // per symbol: first timer tick it was live (0: not yet)
  std::vector<SentOrder> sent_ids_ = [] {
    std::vector<SentOrder> v;
    v.reserve(kMaxFollowUps);
    return v;
  }();
};

}  // namespace hft::strategy
