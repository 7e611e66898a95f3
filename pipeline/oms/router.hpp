#pragma once
// Order router (issue 14): where an order with `route = best` goes when hftd trades on several
// venues. Pure: it reads each venue's top of book and fees and returns the legs; it sends nothing.
//
//  - Marketable (a buy whose limit reaches some venue's ask, a sell whose limit reaches some bid):
//    the venues whose touch the limit reaches, best price net of the take fee first (a buy: ask +
//    take fee lowest; a sell: bid - take fee highest; ties to the lower venue id), each given at
//    most its displayed size at the touch; what is left after every such venue goes to the best
//    one (it rests there, or dies there as an IOC's remainder).
//  - Passive (the limit reaches no venue's touch): the whole order goes to the venue with the best
//    rebate for adding (the lowest add fee; ties to the lower id) among the venues where it would
//    rest at that price (it does not cross there).
//  - Pinned (the caller names the venue): that venue, whole, whatever the books say.
// Venues whose order-entry session is down are never chosen (a pinned one is the caller's
// decision: the egress stage refuses it with venue_down). Decisions are counted per venue.
//
// Prices are integer ticks (1/10,000 $); fees are 1/10,000 $ per share (< 0: a rebate).
// No allocation, no branch on anything but the inputs: safe on the strategy thread's hot path.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "pipeline/events.hpp"

namespace hft::oms {

using pipeline::kMaxVenues;
using pipeline::Locate;
using pipeline::Price;
using pipeline::Quantity;
using pipeline::Side;
using pipeline::VenueId;

// One venue's touch for one instrument. price 0 / shares 0: that side is empty.
struct VenueTop {
  Price bid = 0, ask = 0;
  Quantity bid_shares = 0, ask_shares = 0;
  bool up = false;  // the venue's order-entry session is up (and its book is usable)
};

// Per-venue tops of book per instrument: the small interface the strategy stage fills (from each
// venue's book; until per-venue books exist, venue 0's from the one book) and the router and the
// cross-venue strategies read. Fixed size after construction.
class VenueTops {
 public:
  explicit VenueTops(std::size_t locates = 0, std::size_t venues = 1) : venues_(venues), tops_(locates) {}
  void resize(std::size_t locates, std::size_t venues) {
    tops_.assign(locates, {});
    venues_ = venues;
  }
  [[nodiscard]] std::size_t venues() const noexcept { return venues_; }
  [[nodiscard]] std::size_t locates() const noexcept { return tops_.size(); }
  void set(VenueId venue, Locate locate, const VenueTop& top) noexcept {
    if (locate < tops_.size() && venue < kMaxVenues) tops_[locate][venue] = top;
  }
  // Marks a venue's session up or down on every instrument.
  void set_up(VenueId venue, bool up) noexcept {
    if (venue >= kMaxVenues) return;
    for (auto& t : tops_) t[venue].up = up;
  }
  [[nodiscard]] std::span<const VenueTop> of(Locate locate) const noexcept {
    if (locate >= tops_.size()) return {};
    return {tops_[locate].data(), venues_};
  }
  [[nodiscard]] const VenueTop& get(VenueId venue, Locate locate) const noexcept { return tops_[locate][venue]; }

 private:
  std::size_t venues_;
  std::vector<std::array<VenueTop, kMaxVenues>> tops_;
};

struct VenueFees {
  std::int64_t take = 0;  // per share removing liquidity
  std::int64_t add = 0;   // per share adding liquidity (< 0: a rebate)
};

struct RouteLeg {
  VenueId venue = 0;
  Quantity quantity = 0;
};

struct RouteDecision {
  enum class Kind : std::uint8_t { kNone, kMarketable, kPassive, kPinned };
  Kind kind = Kind::kNone;  // kNone: no venue up (nothing to send)
  std::uint8_t count = 0;
  std::array<RouteLeg, kMaxVenues> legs{};
};

struct RouterCounters {
  std::uint64_t marketable = 0, passive = 0, pinned = 0, no_venue = 0, split = 0;  // decisions
  std::array<std::uint64_t, kMaxVenues> legs{};    // legs sent to each venue
  std::array<std::uint64_t, kMaxVenues> shares{};  // shares routed to each venue
};

class Router {
 public:
  void set_fees(VenueId venue, VenueFees fees) noexcept {
    if (venue < kMaxVenues) fees_[venue] = fees;
  }
  [[nodiscard]] const VenueFees& fees(VenueId venue) const noexcept { return fees_[venue]; }
  [[nodiscard]] const RouterCounters& counters() const noexcept { return counters_; }

  // A limit order of `quantity` at `limit` on `side` given each venue's top (index = venue id).
  // `pinned` >= 0: that venue, whole.
  RouteDecision route(Side side, Price limit, Quantity quantity, std::span<const VenueTop> tops, int pinned = -1) noexcept {
    RouteDecision d;
    if (quantity == 0) return d;
    if (pinned >= 0) {
      d.kind = RouteDecision::Kind::kPinned;
      d.legs[0] = {static_cast<VenueId>(pinned), quantity};
      d.count = 1;
      ++counters_.pinned;
      return note(d);
    }
    const std::size_t n = tops.size() < kMaxVenues ? tops.size() : kMaxVenues;
    const bool buy = side == Side::kBuy;
    // The venues whose touch the limit reaches, best net price first (insertion sort: n <= 4).
    std::array<VenueId, kMaxVenues> order{};
    std::array<std::int64_t, kMaxVenues> net{};
    std::size_t m = 0;
    for (std::size_t v = 0; v < n; ++v) {
      const VenueTop& t = tops[v];
      if (!t.up) continue;
      const Price touch = buy ? t.ask : t.bid;
      const Quantity shown = buy ? t.ask_shares : t.bid_shares;
      if (touch <= 0 || shown == 0 || (buy ? touch > limit : touch < limit)) continue;
      // Lower is better for both sides: a buy pays ask + fee; a sell receives bid - fee (negated).
      const std::int64_t cost = buy ? touch + fees_[v].take : -(touch - fees_[v].take);
      std::size_t i = m++;
      while (i > 0 && net[i - 1] > cost) {
        net[i] = net[i - 1];
        order[i] = order[i - 1];
        --i;
      }
      net[i] = cost;
      order[i] = static_cast<VenueId>(v);
    }
    if (m > 0) {
      d.kind = RouteDecision::Kind::kMarketable;
      Quantity left = quantity;
      for (std::size_t i = 0; i < m && left > 0; ++i) {
        const VenueTop& t = tops[order[i]];
        const Quantity shown = buy ? t.ask_shares : t.bid_shares;
        const Quantity q = left < shown ? left : shown;
        d.legs[d.count++] = {order[i], q};
        left -= q;
      }
      if (left > 0) d.legs[0].quantity += left;  // the remainder to the best venue
      ++counters_.marketable;
      if (d.count > 1) ++counters_.split;
      return note(d);
    }
    // Passive: the best rebate among the venues where the order rests at this price.
    int best = -1;
    for (std::size_t v = 0; v < n; ++v) {
      const VenueTop& t = tops[v];
      if (!t.up) continue;
      if (best < 0 || fees_[v].add < fees_[static_cast<std::size_t>(best)].add) best = static_cast<int>(v);
    }
    if (best < 0) {
      ++counters_.no_venue;
      return d;
    }
    d.kind = RouteDecision::Kind::kPassive;
    d.legs[0] = {static_cast<VenueId>(best), quantity};
    d.count = 1;
    ++counters_.passive;
    return note(d);
  }

 private:
  const RouteDecision& note(const RouteDecision& d) noexcept {
    for (std::uint8_t i = 0; i < d.count; ++i) {
      if (d.legs[i].venue >= kMaxVenues) continue;
      ++counters_.legs[d.legs[i].venue];
      counters_.shares[d.legs[i].venue] += d.legs[i].quantity;
    }
    return d;
  }

  std::array<VenueFees, kMaxVenues> fees_{};
  RouterCounters counters_;
};

}  // namespace hft::oms
