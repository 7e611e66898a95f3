#pragma once
// `probe`: answers the venue's latency probes at once. hft-exchange --latency-probe adds, at most
// one at a time, a small order on a reserved symbol; this strategy sends a crossing IOC order as
// soon as the probe appears at the top of that book, so the venue can time packet-out to
// order-in. Probes alternate sides, and so do the answers, so the position stays flat.
#include <cstdint>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct ProbeParams {
  std::string symbol = "ZPROBE";

  static constexpr auto fields() { return std::tuple{param::symbol("symbol", &ProbeParams::symbol)}; }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return {symbol}; }
};

class ProbeStrategy {
 public:
  explicit ProbeStrategy(ProbeParams p) : params_(std::move(p)) {}
  [[nodiscard]] const ProbeParams& params() const noexcept { return params_; }

  void on_book(Context& ctx, const BookView& book) noexcept {
    // A probe is the only resting interest on its symbol: answer the side that just appeared.
    const bool bid = book.bids[0].shares > 0, ask = book.asks[0].shares > 0;
    if (bid && !had_bid_) ctx.sell(book.locate, book.bids[0].price, 1, TimeInForce::kIoc);
    if (ask && !had_ask_) ctx.buy(book.locate, book.asks[0].price, 1, TimeInForce::kIoc);
    had_bid_ = bid;
    had_ask_ = ask;
  }
  void on_feed(Context&, bool stale) noexcept {
    if (stale) had_bid_ = had_ask_ = false;
  }

 private:
  ProbeParams params_;
  bool had_bid_ = false;
  bool had_ask_ = false;
};

}  // namespace hft::strategy
