#pragma once
// The consolidated view of one instrument across venues (issue 14): the NBBO (best bid and ask
// over the venues, with the venue of each) and the aggregated top kDepth levels per side, each
// level saying which venues quote that price (a bit per venue id). Built from the venues' top-5
// BookViews; a venue whose view is stale (its feed has a gap, or it has no depth yet) is left out
// and named in `stale_venues`. Pure and allocation-free: ctx.nbbo(instrument) builds one on
// demand (pipeline/strategy/sdk.hpp).
#include <array>
#include <cstdint>
#include <span>

#include "pipeline/events.hpp"

namespace hft::strategy {

struct ConsolidatedLevel {
  pipeline::Price price = 0;      // 0 = no level
  pipeline::Quantity shares = 0;  // summed over the venues at this price
  std::uint8_t venues = 0;        // bit v: venue v quotes this price
};

struct ConsolidatedBook {
  pipeline::Locate locate = 0;
  std::array<ConsolidatedLevel, pipeline::kDepth> bids{};  // best first
  std::array<ConsolidatedLevel, pipeline::kDepth> asks{};
  pipeline::VenueId bid_venue = 0;  // the venue of the best bid (the lowest id if several)
  pipeline::VenueId ask_venue = 0;
  std::uint8_t stale_venues = 0;    // bit v: venue v left out (stale)
  bool stale = true;                // no venue contributed

  [[nodiscard]] pipeline::Price best_bid() const noexcept { return bids[0].price; }
  [[nodiscard]] pipeline::Price best_ask() const noexcept { return asks[0].price; }
  [[nodiscard]] bool two_sided() const noexcept { return bids[0].shares > 0 && asks[0].shares > 0; }
  // The best bid on one venue is above the best ask on another (an arbitrage before fees).
  [[nodiscard]] bool crossed() const noexcept { return two_sided() && bids[0].price > asks[0].price; }
};

namespace detail {
// One side: the kDepth best distinct prices over the venues' levels (bids: highest first).
template <class View>
void consolidate_side(std::span<const View* const> views, std::uint8_t use, bool bid,
                      std::array<ConsolidatedLevel, pipeline::kDepth>& out) noexcept {
  pipeline::Price last = 0;
  for (std::size_t k = 0; k < out.size(); ++k) {
    ConsolidatedLevel level;
    for (std::size_t v = 0; v < views.size(); ++v) {
      if (((use >> v) & 1u) == 0) continue;
      const auto& levels = bid ? views[v]->bids : views[v]->asks;
      for (const pipeline::Level& l : levels) {
        if (l.price <= 0 || l.shares == 0) continue;
        const pipeline::Price p = l.price;
        if (k != 0 && (bid ? p >= last : p <= last)) continue;  // already taken
        if (level.price == 0 || (bid ? p > level.price : p < level.price)) level = ConsolidatedLevel{p, 0, 0};
        if (p == level.price) {
          level.shares += l.shares;
          level.venues = static_cast<std::uint8_t>(level.venues | (1u << v));
        }
      }
    }
    if (level.price == 0) break;
    out[k] = level;
    last = level.price;
  }
}
inline pipeline::VenueId lowest_venue(std::uint8_t mask) noexcept {
  for (pipeline::VenueId v = 0; v < 8; ++v)
    if ((mask >> v) & 1u) return v;
  return 0;
}
}  // namespace detail

// `views[v]` is venue v's view of the instrument (any type with bids/asks arrays of
// pipeline::Level and a `stale` flag: BookView).
template <class View>
[[nodiscard]] ConsolidatedBook consolidate(std::span<const View* const> views) noexcept {
  ConsolidatedBook c;
  std::uint8_t use = 0;
  for (std::size_t v = 0; v < views.size() && v < 8; ++v) {
    if (views[v] == nullptr) continue;
    if (views[v]->stale) c.stale_venues = static_cast<std::uint8_t>(c.stale_venues | (1u << v));
    else use = static_cast<std::uint8_t>(use | (1u << v));
  }
  if (!views.empty()) c.locate = views[0] != nullptr ? views[0]->locate : 0;
  c.stale = use == 0;
  detail::consolidate_side(views, use, true, c.bids);
  detail::consolidate_side(views, use, false, c.asks);
  c.bid_venue = detail::lowest_venue(c.bids[0].venues);
  c.ask_venue = detail::lowest_venue(c.asks[0].venues);
  return c;
}

}  // namespace hft::strategy
