#pragma once
// `probe`: answers the venue's latency probes at once. hft-exchange --latency-probe adds, at most
// one at a time, a small order on a reserved symbol; this strategy sends a crossing IOC order as
// soon as the probe appears at the top of that book, so the venue can time packet-out to
// order-in. Probes alternate sides, and so do the answers, so the position stays flat.
// With several venues (issue 14) `venue` names the one whose probes it answers (index in
// [[venues]], default 0): it hears every venue's books and answers that venue's only, on that
// venue's session, so each venue's probe times its own wire-to-wire path.
#include <cstdint>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct ProbeParams {
  std::string symbol = "ZPROBE";
  std::int64_t venue = 0;

  static constexpr auto fields() {
    return std::tuple{param::symbol("symbol", &ProbeParams::symbol),
                      param::integer("venue", &ProbeParams::venue, 0, static_cast<std::int64_t>(pipeline::kMaxVenues) - 1)};
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return {symbol}; }
};

class ProbeStrategy {
 public:
  static constexpr bool kAllVenues = true;

  explicit ProbeStrategy(ProbeParams p) : params_(std::move(p)) {}
  [[nodiscard]] const ProbeParams& params() const noexcept { return params_; }

  void on_book(Context& ctx, const BookView& book) noexcept {
    if (book.venue != venue()) return;
    // A probe is the only resting interest on its symbol: answer the side that just appeared.
    const bool bid = book.bids[0].shares > 0, ask = book.asks[0].shares > 0;
    if (bid && !had_bid_) answer(ctx, book.locate, Side::kSell, book.bids[0].price);
    if (ask && !had_ask_) answer(ctx, book.locate, Side::kBuy, book.asks[0].price);
    had_bid_ = bid;
    had_ask_ = ask;
  }
  void on_feed(Context&, VenueId v, bool stale) noexcept {
    if (stale && v == venue()) had_bid_ = had_ask_ = false;
  }

 private:
  [[nodiscard]] VenueId venue() const noexcept { return static_cast<VenueId>(params_.venue); }
  // The first venue's answer takes the call without a route (the single-venue path the demo's
  // tick-to-trade measures); another venue's names its session.
  void answer(Context& ctx, Locate locate, Side side, Price price) noexcept {
    if (venue() == 0) ctx.ioc(locate, side, price, 1);
    else ctx.ioc(locate, side, price, 1, Route::to(venue()));
  }

  ProbeParams params_;
  bool had_bid_ = false;
  bool had_ask_ = false;
};

}  // namespace hft::strategy
