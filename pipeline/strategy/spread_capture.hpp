#pragma once
// `spread_capture`: the worked example of docs/strategy-sdk.md. When the spread of one of its
// symbols is at least `min_spread_ticks` wide, it improves both sides by one tick (post-only, so
// it never takes), hoping to buy on the bid and sell on the ask; when the spread narrows below
// that, or the feed goes stale, it pulls its quotes. A side is not quoted when a fill there would
// take the position past `max_position`.
//
//   [[strategies]]
//   type = "spread_capture"
//   symbols = ["AAA"]
//   size = 100
//   min_spread_ticks = 3
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct SpreadCaptureParams {
  std::vector<std::string> symbols;
  Quantity size = 100;
  Price tick = 100;                 // $0.01 in 1/10,000 $
  std::int64_t min_spread_ticks = 3;
  std::int64_t max_position = 500;  // shares, long or short

  static constexpr auto fields() {
    using P = SpreadCaptureParams;
    return std::tuple{
        param::symbols("symbols", &P::symbols, "spread_capture needs at least one symbol"),
        param::integer("size", &P::size, 1, 1'000'000),
        param::integer("tick", &P::tick, 1, 1'000'000),
        param::integer("min_spread_ticks", &P::min_spread_ticks, 2, 1'000'000),
        param::integer("max_position", &P::max_position, 0, 1'000'000'000),
    };
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return symbols; }
};

class SpreadCapture {
 public:
  explicit SpreadCapture(SpreadCaptureParams p) : p_(std::move(p)), quotes_(p_.symbols.size()) {}

  void on_book(Context& ctx, const BookView& book) noexcept {
    Quotes* q = quotes(book.locate);
    if (q == nullptr) return;
    const std::int64_t pos = ctx.position(book.locate).shares;
    const bool wide = !book.stale && book.two_sided() && book.spread() >= p_.min_spread_ticks * p_.tick;
    quote(ctx, book.locate, Side::kBuy, book.best_bid() + p_.tick, wide && pos + p_.size <= p_.max_position, q->bid);
    quote(ctx, book.locate, Side::kSell, book.best_ask() - p_.tick, wide && pos - p_.size >= -p_.max_position, q->ask);
  }

  void on_feed(Context& ctx, bool stale) noexcept {
    if (stale) ctx.cancel_all();  // do not leave quotes on a book we cannot see
  }

 private:
  struct Quotes {
    Locate locate = 0;
    std::uint64_t bid = 0, ask = 0;  // order ids, 0 = none
  };

  // The quote slots of a symbol; the first book of a symbol takes a free slot (one per symbol,
  // sized at construction: nothing allocates here).
  Quotes* quotes(Locate locate) noexcept {
    for (Quotes& q : quotes_) {
      if (q.locate == locate) return &q;
      if (q.locate == 0) {
        q.locate = locate;
        return &q;
      }
    }
    return nullptr;
  }

  // Keeps at most one order per side and symbol at `price`: sends, moves or pulls it.
  void quote(Context& ctx, Locate locate, Side side, Price price, bool wanted, std::uint64_t& id) noexcept {
    const WorkingOrder* mine = id != 0 ? ctx.order(id) : nullptr;  // nullptr once the order is done
    if (mine == nullptr) id = 0;
    if (!wanted) {
      if (mine != nullptr && mine->state == OrderState::kWorking) ctx.cancel(mine->id);
      return;
    }
    if (mine == nullptr) {
      id = side == Side::kBuy ? ctx.buy(locate, price, p_.size, TimeInForce::kDay, true)
                              : ctx.sell(locate, price, p_.size, TimeInForce::kDay, true);
    } else if (mine->state == OrderState::kWorking && mine->price != price) {
      ctx.replace(mine->id, price, p_.size);
    }
  }

  SpreadCaptureParams p_;
  std::vector<Quotes> quotes_;
};

}  // namespace hft::strategy
