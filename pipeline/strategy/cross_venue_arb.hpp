#pragma once
// `cross_venue_arb` (issue 14): one instrument traded on several venues. When one venue's bid
// exceeds another's ask by more than the two venues' take fees plus `min_profit_bps` of the price,
// it sends an IOC buy at the cheap venue's ask and an IOC sell at the rich venue's bid in the same
// pass (Context::begin_legs: the egress stage puts both on the wire in one pass and records
// detection -> the last leg handed to the kernel, hftd's "legs_to_wire" histogram).
//
// Leg risk: when both legs are done (filled, or their IOC remainder cancelled) and only one filled
// (or they filled unequal amounts), the difference is closed by `leg_rule`:
//   "hedge"  (default) the missing leg is sent again as an IOC at its venue's touch now;
//   "unwind" the filled leg is reversed with an IOC at its own venue's touch now.
// No new pair while a pair or a hedge is in flight; no pair that would take |position| (the
// instrument across venues) beyond `max_position` should one leg alone fill.
//
// It reads every venue's top of book from the per-venue view (Context::venue_tops(); the
// strategy stage fills it) and the venues' take fees from the router (Context::take_fee).
// Counted: opportunities seen (a new crossed state), taken (both legs sent), both legs filled,
// one leg filled, hedges / unwinds sent.
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

enum class LegRule : std::uint8_t { kHedge, kUnwind };

struct CrossVenueArbParams {
  std::string symbol;
  Quantity size = 100;                // shares per pair (at most the shares shown at both touches)
  std::int64_t max_position = 500;    // shares, long or short, across venues
  double min_profit_bps = 1.0;        // edge beyond both take fees, in bps of the ask
  LegRule leg_rule = LegRule::kHedge;
  // A hedge or unwind that does not fill whole leaves a position: it is sent again for what is
  // left, at the best touch of any venue up, at most this many times per one-leg outcome.
  std::int64_t hedge_retries = 3;
  // Hedges, unwinds and retries cross the touch by this much (bps of the touch, rounded onto the
  // penny grid toward the touch): a marketable limit that still fills when the touch moved a
  // little between the decision and the venue, never worse than the collar.
  std::int64_t hedge_collar_bps = 5;

  static constexpr auto fields() {
    using P = CrossVenueArbParams;
    return std::tuple{
        param::symbol("symbol", &P::symbol, true),
        param::integer("size", &P::size, 1, 1'000'000),
        param::integer("max_position", &P::max_position, 1, 1'000'000'000),
        param::number("min_profit_bps", &P::min_profit_bps, 0, 10'000),
        param::choice("leg_rule", &P::leg_rule, std::pair{"hedge", LegRule::kHedge}, std::pair{"unwind", LegRule::kUnwind}),
        param::integer("hedge_retries", &P::hedge_retries, 0, 100),
        param::integer("hedge_collar_bps", &P::hedge_collar_bps, 0, 1000),
    };
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return {symbol}; }
  [[nodiscard]] std::string validate() const {
    if (static_cast<std::int64_t>(size) > max_position)
      return "size " + std::to_string(size) + " is above max_position " + std::to_string(max_position);
    return {};
  }
};

class CrossVenueArb {
 public:
  struct Counters {
    std::uint64_t seen = 0, taken = 0, both_filled = 0, one_leg = 0, none_filled = 0, hedges = 0, unwinds = 0;
    std::uint64_t refused = 0;  // an opportunity whose legs the context refused (venue down, stale ...)
    std::uint64_t retries = 0;   // hedges or unwinds sent again for what the last one left
    std::uint64_t left_open = 0; // one-leg outcomes that still left a position after every retry
  };

  // Hears every venue's book events (sdk.hpp, kAllVenues), not only the first venue's.
  static constexpr bool kAllVenues = true;

  explicit CrossVenueArb(CrossVenueArbParams p) : p_(std::move(p)) {}
  [[nodiscard]] const CrossVenueArbParams& params() const noexcept { return p_; }
  CrossVenueArbParams& mutable_params() noexcept { return p_; }
  [[nodiscard]] const Counters& counters() const noexcept { return c_; }
  // Its signal (control file, journal): the best edge seen last, in bps net of fees.
  [[nodiscard]] std::pair<const char*, double> signal() const noexcept { return {"edge_bps", edge_bps_}; }
  [[nodiscard]] bool busy() const noexcept { return buy_.id != 0 || sell_.id != 0 || hedge_id_ != 0; }

  void on_book(Context& ctx, const BookView& b) noexcept {
    resolve(ctx, b);
    if (locate_ == 0 || b.locate != locate_) return;
    scan(ctx);
  }
  void on_timer(Context& ctx, std::uint64_t) noexcept {
    if (locate_ != 0) scan(ctx);
  }
  void on_fill(Context& ctx, const Fill& f) noexcept {
    if (f.order_id == buy_.id) buy_.filled += f.quantity;
    else if (f.order_id == sell_.id) sell_.filled += f.quantity;
    settle(ctx);
  }
  void on_order(Context& ctx, const OrderUpdate&) noexcept { settle(ctx); }
  void on_venue(Context& ctx, VenueId, bool) noexcept { settle(ctx); }

  // The locate of its instrument (tests hand it over; hftd finds it in the directory).
  void set_locate(Locate l) noexcept { locate_ = l; }

 private:
  struct Leg {
    std::uint64_t id = 0;
    VenueId venue = 0;
    Quantity sent = 0, filled = 0;
  };

  static bool is(const BookView& b, const std::string& sym) noexcept {
    std::array<char, 8> want{};
    want.fill(' ');
    std::memcpy(want.data(), sym.data(), sym.size() < 8 ? sym.size() : 8);
    for (std::size_t i = 0; i < 8; ++i)
      if ((b.symbol[i] == '\0' ? ' ' : b.symbol[i]) != want[i]) return false;
    return true;
  }
  void resolve(const Context& ctx, const BookView&) noexcept {
    if (locate_ != 0) return;
    for (Locate l : ctx.symbols())
      if (is(ctx.book(l), p_.symbol)) locate_ = l;
  }

  // Looks for the best crossed pair of venues; takes it when nothing is in flight.
  void scan(Context& ctx) noexcept {
    const oms::VenueTops* tops = ctx.venue_tops();
    if (tops == nullptr || busy()) return;
    const auto t = tops->of(locate_);
    int best_buy = -1, best_sell = -1;
    std::int64_t best_edge = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {      // buy at i's ask
      if (!t[i].up || t[i].ask <= 0 || t[i].ask_shares == 0) continue;
      for (std::size_t j = 0; j < t.size(); ++j) {    // sell at j's bid
        if (j == i || !t[j].up || t[j].bid <= 0 || t[j].bid_shares == 0) continue;
        const std::int64_t fees = ctx.take_fee(static_cast<VenueId>(i)) + ctx.take_fee(static_cast<VenueId>(j));
        const std::int64_t edge = t[j].bid - t[i].ask - fees;  // per share, net of both take fees
        const double need = p_.min_profit_bps * 1e-4 * static_cast<double>(t[i].ask);
        if (edge > 0 && static_cast<double>(edge) > need && edge > best_edge) {
          best_edge = edge;
          best_buy = static_cast<int>(i);
          best_sell = static_cast<int>(j);
        }
      }
    }
    if (best_buy < 0) {
      last_ask_ = last_bid_ = 0;
      return;
    }
    const oms::VenueTop& cheap = t[static_cast<std::size_t>(best_buy)];
    const oms::VenueTop& rich = t[static_cast<std::size_t>(best_sell)];
    edge_bps_ = static_cast<double>(best_edge) * 1e4 / static_cast<double>(cheap.ask);
    if (cheap.ask != last_ask_ || rich.bid != last_bid_) ++c_.seen;  // a new crossed state
    last_ask_ = cheap.ask;
    last_bid_ = rich.bid;
    Quantity q = p_.size;
    if (cheap.ask_shares < q) q = cheap.ask_shares;
    if (rich.bid_shares < q) q = rich.bid_shares;
    const std::int64_t pos = ctx.position(locate_).shares;
    const std::int64_t room = p_.max_position - (pos < 0 ? -pos : pos);  // one leg alone must stay within
    if (room <= 0) return;
    if (q > room) q = static_cast<Quantity>(room);
    ctx.begin_legs();
    buy_ = Leg{ctx.ioc(locate_, Side::kBuy, cheap.ask, q, Route::to(static_cast<VenueId>(best_buy))),
               static_cast<VenueId>(best_buy), q, 0};
    sell_ = Leg{buy_.id != 0 ? ctx.ioc(locate_, Side::kSell, rich.bid, q, Route::to(static_cast<VenueId>(best_sell))) : 0,
                static_cast<VenueId>(best_sell), q, 0};
    ctx.end_legs();
    if (buy_.id == 0) {  // refused locally: nothing sent
      ++c_.refused;
      buy_ = sell_ = Leg{};
      return;
    }
    if (sell_.id != 0) ++c_.taken;
    else ++c_.refused;  // the buy went alone: settle() treats it as a pair whose sell filled nothing
    pair_open_ = true;
  }

  // When both legs are done, counts the outcome and closes a difference by the leg rule.
  void settle(Context& ctx) noexcept {
    if (hedge_id_ != 0 && ctx.order(hedge_id_) == nullptr) {
      hedge_id_ = 0;
      retry(ctx);
    }
    if (!pair_open_) return;
    if ((buy_.id != 0 && ctx.order(buy_.id) != nullptr) || (sell_.id != 0 && ctx.order(sell_.id) != nullptr)) return;
    pair_open_ = false;
    const Leg buy = buy_, sell = sell_;
    buy_ = sell_ = Leg{};
    if (buy.filled == 0 && sell.filled == 0) {
      ++c_.none_filled;
      return;
    }
    if (buy.filled == sell.filled) {
      ++c_.both_filled;
      return;
    }
    ++c_.one_leg;
    const oms::VenueTops* tops = ctx.venue_tops();
    if (tops == nullptr) return;
    const auto t = tops->of(locate_);
    // Long the difference (the buy filled more): sell it; short: buy it.
    const bool long_diff = buy.filled > sell.filled;
    const Quantity diff = long_diff ? buy.filled - sell.filled : sell.filled - buy.filled;
    // hedge: the missing leg again at its venue; unwind: the filled leg reversed at its own venue.
    const VenueId v = p_.leg_rule == LegRule::kHedge ? (long_diff ? sell.venue : buy.venue)
                                                     : (long_diff ? buy.venue : sell.venue);
    if (v >= t.size() || !t[v].up) return;
    const Price px = long_diff ? t[v].bid : t[v].ask;
    if (px <= 0) return;
    const Side hedge_side = long_diff ? Side::kSell : Side::kBuy;
    hedge_id_ = ctx.ioc(locate_, hedge_side, collared(px, hedge_side), diff, Route::to(v));
    if (hedge_id_ != 0) {
      ++(p_.leg_rule == LegRule::kHedge ? c_.hedges : c_.unwinds);
      retries_left_ = p_.hedge_retries;
    }
  }

  // A hedge or unwind is done: what it left of the position (the arbitrage holds none between
  // pairs) goes again as an IOC at the best touch of any venue up, while retries are left.
  void retry(Context& ctx) noexcept {
    const std::int64_t pos = ctx.position(locate_).shares;
    if (pos == 0) {
      retries_left_ = -1;
      return;
    }
    const oms::VenueTops* tops = ctx.venue_tops();
    if (retries_left_ <= 0 || tops == nullptr) {
      if (retries_left_ == 0) ++c_.left_open;
      retries_left_ = -1;  // counted once
      return;
    }
    const auto t = tops->of(locate_);
    int best = -1;
    for (std::size_t v = 0; v < t.size(); ++v) {
      if (!t[v].up) continue;
      const Price px = pos > 0 ? t[v].bid : t[v].ask;
      if (px <= 0) continue;
      const Price have = best < 0 ? 0 : (pos > 0 ? t[static_cast<std::size_t>(best)].bid : t[static_cast<std::size_t>(best)].ask);
      if (best < 0 || (pos > 0 ? px > have : px < have)) best = static_cast<int>(v);
    }
    if (best < 0) return;  // no venue shows that side: the next retry waits for the next outcome
    const auto& top = t[static_cast<std::size_t>(best)];
    const Quantity q = static_cast<Quantity>(pos > 0 ? pos : -pos);
    --retries_left_;
    const Side side = pos > 0 ? Side::kSell : Side::kBuy;
    hedge_id_ = ctx.ioc(locate_, side, collared(pos > 0 ? top.bid : top.ask, side), q, Route::to(static_cast<VenueId>(best)));
    if (hedge_id_ != 0) ++c_.retries;
  }

  // The touch moved through by hedge_collar_bps, on the penny grid, never beyond the collar.
  [[nodiscard]] Price collared(Price touch, Side side) const noexcept {
    const Price c = static_cast<Price>(static_cast<std::int64_t>(touch) * p_.hedge_collar_bps / 10'000);
    if (side == Side::kBuy) {
      const Price px = touch + c;
      return px - px % 100 > touch ? px - px % 100 : touch;
    }
    const Price px = touch - c;
    const Price up = px % 100 == 0 ? px : px + (100 - px % 100);
    return up < touch ? up : touch;
  }

  CrossVenueArbParams p_;
  Locate locate_ = 0;
  Leg buy_, sell_;
  bool pair_open_ = false;
  std::uint64_t hedge_id_ = 0;
  std::int64_t retries_left_ = -1;  // -1: no one-leg outcome being closed
  Price last_ask_ = 0, last_bid_ = 0;
  double edge_bps_ = 0;
  Counters c_;
};

}  // namespace hft::strategy
