#pragma once
// `manual`: orders an operator places by hand (`hftctl order new|cancel`, the API's
// POST /api/v1/hft/orders and DELETE /api/v1/hft/orders/{id}), sent through the strategy SDK and
// pre-trade risk like any strategy's order: the control file's command is applied on the strategy
// thread (StrategyStage::post), which calls place() with this strategy's context. It makes no
// decisions of its own; its orders, fills and P&L show under its name in `hftctl strategy list`.
// Stopping it cancels its working orders, as for any strategy.
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct ManualParams {
  std::vector<std::string> symbols;

  static constexpr auto fields() {
    return std::tuple{param::symbols("symbols", &ManualParams::symbols, "a manual strategy needs the symbols it may trade")};
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return symbols; }
};

class ManualOrders {
 public:
  explicit ManualOrders(ManualParams p) : params_(std::move(p)) {}
  [[nodiscard]] const ManualParams& params() const noexcept { return params_; }

  // The locate of `symbol` among this strategy's symbols whose book is known, or -1.
  [[nodiscard]] static int locate_of(const Context& ctx, const std::array<char, 8>& symbol) noexcept {
    for (Locate l : ctx.symbols()) {
      const BookView& b = ctx.book(l);
      bool same = true;
      for (std::size_t i = 0; i < 8 && same; ++i)
        same = (b.symbol[i] == '\0' ? ' ' : b.symbol[i]) == (symbol[i] == '\0' ? ' ' : symbol[i]);
      if (same) return static_cast<int>(l);
    }
    return -1;
  }
  // A limit order (day or IOC): its order id, or 0 when refused (the reason in `why`).
  std::uint64_t place(Context& ctx, const std::array<char, 8>& symbol, Side side, Quantity qty, Price price, bool ioc,
                      const char*& why) noexcept {
    const int l = locate_of(ctx, symbol);
    if (l < 0) {
      why = "the symbol is not one of this strategy's (or the feed has not named it yet)";
      return 0;
    }
    const auto before = ctx.refusals();
    const std::uint64_t id = side == Side::kBuy
                                 ? ctx.buy(static_cast<Locate>(l), price, qty, ioc ? TimeInForce::kIoc : TimeInForce::kDay)
                                 : ctx.sell(static_cast<Locate>(l), price, qty, ioc ? TimeInForce::kIoc : TimeInForce::kDay);
    if (id == 0) {
      const auto& r = ctx.refusals();
      why = r.halted != before.halted               ? "trading is halted"
            : r.paused != before.paused             ? "the strategy is paused or stopped"
            : r.not_connected != before.not_connected ? "the order-entry session is not ready"
            : r.stale_book != before.stale_book     ? "the symbol's book is stale"
            : r.too_many_orders != before.too_many_orders ? "too many working orders"
                                                      : "the order queue is full";
    }
    return id;
  }

 private:
  ManualParams params_;
};

}  // namespace hft::strategy
