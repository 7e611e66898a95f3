#pragma once
// Strategy SDK. A strategy is a plain C++ class with any of these members (all optional):
//
//   void on_book(Context&, const BookView&) noexcept;      // top-5 depth of one of its symbols changed
//   void on_trade(Context&, const TradePrint&) noexcept;   // a trade on one of its symbols
//   void on_order(Context&, const OrderUpdate&) noexcept;  // accepted, rejected, canceled, replaced
//   void on_fill(Context&, const Fill&) noexcept;          // one of its orders executed
//   void on_timer(Context&, std::uint64_t now_ns) noexcept;// every [stats] timer_us (default 1000)
//   void on_feed(Context&, bool stale) noexcept;           // the feed lost (or regained) sequence
//   void on_feed(Context&, VenueId, bool stale) noexcept;  // several venues: which venue's feed
//   void on_trading_state(Context&, Locate, char state) noexcept;  // ITCH 'H' on one of its symbols
//                                                          // (BookView::trading_state, halted())
//   void on_venue(Context&, VenueId, bool up) noexcept;    // issue 14: a venue's order-entry session
//                                                          // went down or came back (several venues)
//
// The strategy stage holds its strategies in a std::variant and calls the member for the event's
// type directly (std::visit over a closed set: a jump table, no virtual call per message; a
// member that a class does not define costs nothing). Order and fill events go only to the
// strategy that owns the order. Through its Context a strategy sees the books of its symbols
// (5 levels per side), its own working orders and positions, and sends new / cancel / replace
// intents, which pre-trade risk checks before anything reaches the wire. A stale book (a
// MoldUDP64 gap not yet recovered) refuses new orders and replaces locally.
//
// Several venues (issue 14; docs/pipeline.md, "Several venues"): a Locate is an instrument id (a
// symbol across venues). ctx.book(locate) is the first venue's book (where orders go until the
// order side routes them), ctx.book(locate, venue) any venue's, ctx.nbbo(locate) the consolidated
// view (pipeline/strategy/consolidated.hpp). A strategy that declares
//   static constexpr bool kAllVenues = true;
// hears every venue's events (BookView::venue / TradePrint::venue say which, and
// on_feed(Context&, VenueId, bool) if it has it); any other strategy hears the first venue's only,
// exactly as with one venue.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/id_map.hpp"
#include "core/spsc_ring.hpp"
#include "pipeline/events.hpp"
#include "pipeline/features/features.hpp"
#include "pipeline/oms/router.hpp"
#include "pipeline/strategy/consolidated.hpp"

namespace hft::strategy {

using pipeline::Level;
using pipeline::Locate;
using pipeline::Price;
using pipeline::Quantity;
using pipeline::Side;
using pipeline::TimeInForce;
using pipeline::VenueId;

// Issue 14: where a new order goes when hftd trades on several venues. Route::to(v) names the
// venue (Route{} is venue 0: what the calls without a route do); Route::best() lets the router
// choose (pipeline/oms/router.hpp: a marketable order to the best prices net of take fees, split
// by displayed size; a passive one to the best rebate).
struct Route {
  enum class Kind : std::uint8_t { kVenue, kBest };
  Kind kind = Kind::kVenue;
  VenueId venue = 0;
  static constexpr Route to(VenueId v) noexcept { return Route{Kind::kVenue, v}; }
  static constexpr Route best() noexcept { return Route{Kind::kBest, 0}; }
};

struct BookView {
  Locate locate = 0;
  std::array<char, 8> symbol{};
  std::array<Level, pipeline::kDepth> bids{};  // best first; price 0 = empty
  std::array<Level, pipeline::kDepth> asks{};
  std::uint16_t bid_orders = 0, ask_orders = 0;
  std::uint64_t timestamp = 0;  // ITCH ns since midnight of the last change
  Price last_trade_price = 0;
  bool stale = true;            // no depth yet, or the feed has a gap
  // Last ITCH 'H' Trading State: 'T' trading, 'H' halted, 'P' paused (LULD), 'Q' quotation only
  // (orders accepted, no matching: the lead-in to a reopening); ' ' none seen yet.
  char trading_state = ' ';
  VenueId venue = 0;            // issue 14: the venue whose book this is

  // No matching while halted or paused: a resting quote would only be picked off on reopening.
  [[nodiscard]] bool halted() const noexcept { return trading_state == 'H' || trading_state == 'P'; }

  [[nodiscard]] bool two_sided() const noexcept { return bids[0].shares > 0 && asks[0].shares > 0; }
  [[nodiscard]] Price best_bid() const noexcept { return bids[0].price; }
  [[nodiscard]] Price best_ask() const noexcept { return asks[0].price; }
  [[nodiscard]] Price spread() const noexcept { return asks[0].price - bids[0].price; }
  // Mid and micro-price in price units (1/10,000 $), as doubles for models.
  [[nodiscard]] double mid() const noexcept { return 0.5 * static_cast<double>(bids[0].price + asks[0].price); }
  // Size-weighted mid: leans toward the side with less depth (the price the next trade is likelier at).
  [[nodiscard]] double micro_price() const noexcept {
    const double bq = bids[0].shares, aq = asks[0].shares;
    if (bq + aq <= 0) return mid();
    return (static_cast<double>(bids[0].price) * aq + static_cast<double>(asks[0].price) * bq) / (bq + aq);
  }
  // Order-book imbalance over the top `levels` levels, in [-1, 1] (+1: all depth on the bid).
  [[nodiscard]] double imbalance(int levels = 1) const noexcept {
    double b = 0, a = 0;
    for (int i = 0; i < levels && i < pipeline::kDepth; ++i) {
      b += bids[static_cast<std::size_t>(i)].shares;
      a += asks[static_cast<std::size_t>(i)].shares;
    }
    return b + a > 0 ? (b - a) / (b + a) : 0.0;
  }
};

// A view's levels as the features library's Depth (pipeline/features: micro_price(), imbalance(),
// ofi() apply to any book, e.g. a strategy's book less its own quotes).
[[nodiscard]] inline features::Depth depth_of(const BookView& b) noexcept {
  features::Depth d;
  for (std::size_t i = 0; i < static_cast<std::size_t>(pipeline::kDepth); ++i) {
    d.bid_px[i] = b.bids[i].price > 0 && b.bids[i].shares > 0 ? static_cast<std::uint32_t>(b.bids[i].price) : 0;
    d.bid_sz[i] = d.bid_px[i] != 0 ? b.bids[i].shares : 0;
    d.ask_px[i] = b.asks[i].price > 0 && b.asks[i].shares > 0 ? static_cast<std::uint32_t>(b.asks[i].price) : 0;
    d.ask_sz[i] = d.ask_px[i] != 0 ? b.asks[i].shares : 0;
  }
  return d;
}

struct TradePrint {
  Locate locate;
  Price price;
  Quantity shares;
  char aggressor;  // 'B' buyer-initiated, 'S' seller-initiated, ' ' unknown
  std::uint64_t timestamp;
  VenueId venue = 0;  // issue 14: the venue that printed it
};

// Issue 14: every venue's books as the strategy stage keeps them (venue 0's are the stage's
// single-venue books), and which venues' feeds are stale.
struct VenueBooks {
  std::array<const std::vector<BookView>*, pipeline::kMaxVenues> books{};
  std::array<bool, pipeline::kMaxVenues> stale{};
  std::size_t venues = 1;
};

enum class OrderState : std::uint8_t { kPendingNew, kWorking, kPendingCancel, kPendingReplace, kDone };

struct WorkingOrder {
  std::uint64_t id = 0;
  Locate locate = 0;
  Side side = Side::kBuy;
  Price price = 0;
  Quantity quantity = 0;  // current total
  Quantity leaves = 0;
  OrderState state = OrderState::kDone;
  Price pending_price = 0;       // for kPendingReplace
  Quantity pending_quantity = 0; // leaves asked for by the replace in flight
  std::uint64_t sent_tsc = 0;    // when the new order was decided (performance: time to fill)
  bool any_fill = false;
  VenueId venue = 0;             // issue 14: the venue the order went to
};

// The book as the others quote it: `book` less the leaves of the given resting orders (those
// working or awaiting a cancel or replace answer; a new order not yet accepted is not on the book)
// at their price, clamped at zero (the feed may lag the order entry port either way), levels
// emptied by it removed. A strategy that prices off a book holding its own quotes chases itself:
// each of its replaces moves the book it prices from (quote flicker). Null entries are skipped.
[[nodiscard]] inline BookView book_without(const BookView& book, std::span<const WorkingOrder* const> own) noexcept {
  BookView v = book;
  for (const WorkingOrder* o : own) {
    if (o == nullptr || o->locate != book.locate ||
        (o->state != OrderState::kWorking && o->state != OrderState::kPendingCancel &&
         o->state != OrderState::kPendingReplace))
      continue;
    auto& levels = o->side == Side::kBuy ? v.bids : v.asks;
    for (std::size_t i = 0; i < levels.size() && levels[i].price != 0; ++i) {
      if (levels[i].price != o->price) continue;
      levels[i].shares -= std::min<std::uint32_t>(levels[i].shares, o->leaves);
      if (levels[i].shares == 0) {
        for (std::size_t j = i; j + 1 < levels.size(); ++j) levels[j] = levels[j + 1];
        levels.back() = {};
      }
      break;
    }
  }
  return v;
}

struct OrderUpdate {
  const WorkingOrder* order;      // nullptr once done is reported only through `type`
  std::uint64_t order_id;
  pipeline::ReportType type;      // kAccepted, kRejected, kCanceled, kReplaced
  pipeline::RejectReason reason;
  std::uint16_t venue_code;
};

struct Fill {
  std::uint64_t order_id;
  Locate locate;
  Side side;
  Price price;
  Quantity quantity;
  Quantity leaves;
  // The operator's flatten order closed (part of) this strategy's position: not one of its own
  // orders (order_id is the operator's), but booked in its position all the same.
  bool flatten = false;
};

struct Position {
  std::int64_t shares = 0;           // signed: + long, - short
  std::int64_t cash = 0;             // sum of -signed fill notional, 1/10,000 $
  std::uint64_t bought = 0, sold = 0;
  // Mark-to-market P&L at `mark` (1/10,000 $ per share), in 1/10,000 $.
  [[nodiscard]] std::int64_t pnl(Price mark) const noexcept { return cash + shares * mark; }
  // Books one execution (the same arithmetic as the order manager's, oms/order_manager.cpp).
  void book(Side side, Price price, Quantity quantity) noexcept {
    const auto q = static_cast<std::int64_t>(quantity);
    if (side == Side::kBuy) {
      shares += q;
      cash -= q * price;
      bought += quantity;
    } else {
      shares -= q;
      cash += q * price;
      sold += quantity;
    }
  }
};

// A stop or stop-limit order held by the appliance (NASDAQ has none): it triggers on the last
// trade (a buy stop at a print at or above its stop price, a sell stop at or below) or on the
// touch (a buy stop when the best ask reaches the stop price, a sell stop when the best bid does),
// checked by the strategy stage before the strategy's own callback for that event. Triggered, it
// is sent as an order like any other (and meets pre-trade risk): a stop as a market order (an IOC
// at a collared marketable limit, Context::market), a stop-limit as a day limit order at its limit.
enum class StopTrigger : std::uint8_t { kLastTrade, kTouch };
struct HeldStop {
  std::uint64_t id = 0;  // the order id it is sent under when triggered (0: slot free)
  Locate locate = 0;
  Side side = Side::kBuy;
  StopTrigger trigger = StopTrigger::kLastTrade;
  Quantity quantity = 0;
  Price stop_price = 0;
  Price limit_price = 0;  // 0: a stop (market when triggered)
  std::int32_t collar_bps = 50;
};

// What a strategy sees and does. One per strategy instance, owned by the strategy stage.
//
// Its orders and positions are a projection, not a second ledger. The order manager of the
// risk/egress stage (pipeline/oms/order_manager.hpp) is the one source of truth; it runs on
// another thread, so the strategy side cannot read it without a lock or a shared cache line on
// the hot path. Instead every change the order manager makes is sent back as an ExecReport on the
// risk -> strategy ring, and apply() changes the projection only from those reports: a fill moves
// the position of the report's locate and side, whatever this context believed about the order.
// Fills of orders no strategy owns (the operator's flatten, kOperatorStrategy) are booked against
// the strategies that held the opposite position on that symbol (book_flatten, then on_fill with
// Fill::flatten), and what no strategy held by the strategy stage's operator ledger. Once the ring is drained, the sum over the contexts and the
// operator ledger equals the order manager's positions and cash per symbol, and each context's
// working orders are the order manager's orders of that strategy (tests/pipeline/stages/ledger_test.cpp).
// Between a send and its report the projection lags; a strategy sees pending states for that.
// A report the egress stage could not push (egress.report_overflow, a full ring) breaks the
// projection: size [rings] risk_strategy so that it never happens.
class Context {
 public:
  static constexpr std::size_t kMaxOrders = 256;  // working orders per strategy

  Context(std::uint8_t index, std::string name, core::SpscRing<pipeline::OrderIntent>* out,
          const std::vector<BookView>* books)
      : index_(index), name_(std::move(name)), out_(out), books_(books), by_id_(kMaxOrders) {}

  // ---- market ----------------------------------------------------------------------------
  [[nodiscard]] const BookView& book(Locate locate) const noexcept { return (*books_)[locate]; }
  // Issue 14: venue `venue`'s book of an instrument (the first venue's for an unknown venue).
  [[nodiscard]] const BookView& book(Locate locate, VenueId venue) const noexcept {
    return venues_ != nullptr && venue < venues_->venues ? (*venues_->books[venue])[locate] : (*books_)[locate];
  }
  [[nodiscard]] std::size_t venues() const noexcept { return venues_ != nullptr ? venues_->venues : order_venues_; }
  // The venue's feed has a gap (or was reset) not yet recovered.
  [[nodiscard]] bool feed_stale(VenueId venue) const noexcept {
    return venues_ != nullptr && venue < venues_->venues ? venues_->stale[venue] : false;
  }
  // The consolidated view of an instrument: NBBO with the venue of each side, aggregated depth
  // with the venues of each level; stale venues left out (consolidated.hpp).
  [[nodiscard]] ConsolidatedBook nbbo(Locate locate) const noexcept {
    std::array<const BookView*, pipeline::kMaxVenues> views{};
    const std::size_t n = venues();
    for (std::size_t v = 0; v < n; ++v) views[v] = &book(locate, static_cast<VenueId>(v));
    return consolidate<BookView>(std::span<const BookView* const>(views.data(), n));
  }
  void set_venue_books(const VenueBooks* venues) noexcept { venues_ = venues; }
  [[nodiscard]] std::span<const Locate> symbols() const noexcept { return symbols_; }
  [[nodiscard]] std::uint64_t now_ns() const noexcept { return now_ns_; }  // ITCH time of the current event
  // The microstructure features this strategy declared (StrategyStage::add), of one of its
  // stocks, as of the current event: the strategy stage updates them from each book event before
  // the callbacks. A feature not declared is empty; so is every one when none was declared.
  // docs/features.md lists them; here OFI and the flows are per book event, and the L3
  // decomposition (ofi_limit/cancel/trade) is not available (book events carry depth and trades).
  [[nodiscard]] features::Values features(Locate locate) const noexcept {
    features::Values v;
    if (features_ != nullptr) {
      features_->values(locate, v);
      v.has &= feature_mask_;
    }
    return v;
  }

  // ---- own state -------------------------------------------------------------------------
  [[nodiscard]] const Position& position(Locate locate) const noexcept { return positions_[locate]; }
  [[nodiscard]] std::span<const WorkingOrder> orders() const noexcept { return {orders_.data(), orders_.size()}; }
  [[nodiscard]] const WorkingOrder* order(std::uint64_t id) const noexcept;
  [[nodiscard]] std::size_t working_count() const noexcept { return working_; }

  // ---- actions (return the order id, 0 when refused locally; the reason is counted) ---------
  std::uint64_t buy(Locate locate, Price price, Quantity qty, TimeInForce tif = TimeInForce::kDay, bool post_only = false) noexcept {
    return submit_new(locate, Side::kBuy, price, qty, tif, post_only);
  }
  std::uint64_t sell(Locate locate, Price price, Quantity qty, TimeInForce tif = TimeInForce::kDay, bool post_only = false) noexcept {
    return submit_new(locate, Side::kSell, price, qty, tif, post_only);
  }
  // Order types (each a new order through pre-trade risk like buy()/sell()):
  // IOC; FOK = IOC with OUCH MinQty = qty (NASDAQ: MinQty must be a round lot, else the venue
  // rejects it); post-only day order (OUCH PostOnly 'P'); market = an IOC at the opposite best
  // moved `collar_bps` through it (a marketable limit, collared: never worse than that), refused
  // locally (refusals().no_market) when the opposite side is empty.
  std::uint64_t ioc(Locate locate, Side side, Price price, Quantity qty) noexcept {
    return submit_new(locate, side, price, qty, TimeInForce::kIoc, false);
  }
  std::uint64_t fok(Locate locate, Side side, Price price, Quantity qty) noexcept {
    return submit_new(locate, side, price, qty, TimeInForce::kIoc, false, qty);
  }
  std::uint64_t post_only(Locate locate, Side side, Price price, Quantity qty) noexcept {
    return submit_new(locate, side, price, qty, TimeInForce::kDay, true);
  }
  std::uint64_t market(Locate locate, Side side, Quantity qty, std::int32_t collar_bps = 50) noexcept;
  // The collared marketable limit of a market order now (0: no opposite side), on the penny grid.
  [[nodiscard]] Price marketable_price(Locate locate, Side side, std::int32_t collar_bps = 50) const noexcept;
  // A stop (limit_price 0) or stop-limit held here until triggered (see HeldStop); returns the id
  // its order will carry, 0 when all kMaxStops slots are taken. cancel_stop() before it triggers.
  static constexpr std::size_t kMaxStops = 32;
  std::uint64_t stop(Locate locate, Side side, Quantity qty, Price stop_price, Price limit_price = 0,
                     StopTrigger trigger = StopTrigger::kLastTrade, std::int32_t collar_bps = 50) noexcept;
  bool cancel_stop(std::uint64_t id) noexcept;
  [[nodiscard]] const HeldStop* held_stop(std::uint64_t id) const noexcept;
  [[nodiscard]] std::size_t stops_held() const noexcept { return stops_held_; }
  [[nodiscard]] std::uint64_t stops_triggered() const noexcept { return stops_triggered_; }

  // ---- several venues (issue 14) -----------------------------------------------------------
  // The same orders with a route: a venue (Route::to(v)) or the router's choice (Route::best(),
  // which may split a marketable order into one order per venue: the first one's id is returned,
  // last_route() has the legs; 0 and refusals().venue_down when no venue is up).
  std::uint64_t buy(Locate locate, Price price, Quantity qty, Route route, TimeInForce tif = TimeInForce::kDay,
                    bool post_only = false) noexcept {
    return submit_routed(locate, Side::kBuy, price, qty, tif, post_only, route);
  }
  std::uint64_t sell(Locate locate, Price price, Quantity qty, Route route, TimeInForce tif = TimeInForce::kDay,
                     bool post_only = false) noexcept {
    return submit_routed(locate, Side::kSell, price, qty, tif, post_only, route);
  }
  std::uint64_t ioc(Locate locate, Side side, Price price, Quantity qty, Route route) noexcept {
    return submit_routed(locate, side, price, qty, TimeInForce::kIoc, false, route);
  }
  std::uint64_t post_only(Locate locate, Side side, Price price, Quantity qty, Route route) noexcept {
    return submit_routed(locate, side, price, qty, TimeInForce::kDay, true, route);
  }
  // The legs of the last Route::best() order.
  [[nodiscard]] const oms::RouteDecision& last_route() const noexcept { return last_route_; }
  // Venues configured (1 with one), whether one's order-entry session is up, and every venue's top
  // of book per instrument (null with one venue).
  // venues(): above (the market-data side's count; the order side's order_venues_ agrees)
  [[nodiscard]] bool venue_up(VenueId v) const noexcept {
    return v == 0 ? !entry_down_ : v < order_venues_ && ((venue_down_ >> v) & 1u) == 0;
  }
  [[nodiscard]] const oms::VenueTops* venue_tops() const noexcept { return tops_; }
  // A venue's take fee per share (1/10,000 $; the router's, from the venue's fee_remove_per_share).
  [[nodiscard]] std::int64_t take_fee(VenueId v) const noexcept {
    return router_ != nullptr && v < pipeline::kMaxVenues ? router_->fees(v).take : 0;
  }
  // Orders sent between begin_legs() and end_legs() are the legs of one decision: they share the
  // decision time, and the egress stage records decision -> the last leg handed to the kernel.
  void begin_legs() noexcept {
    legs_ = 1;
    legs_tsc_ = core::rdtsc();
  }
  void end_legs() noexcept { legs_ = 0; }

  bool cancel(std::uint64_t order_id) noexcept;
  // `qty`: the shares to leave working after the replace (the leaves), whatever executed before.
  // The egress stage turns it into OUCH 5.0's total (executed + qty). A replace to the current
  // leaves at a new price keeps the size; to a larger leaves it tops the order up after fills.
  bool replace(std::uint64_t order_id, Price price, Quantity qty) noexcept;
  void cancel_all() noexcept;

  // Counters of locally refused actions.
  struct Refusals {
    std::uint64_t stale_book = 0, halted = 0, ring_full = 0, too_many_orders = 0, not_working = 0;
    std::uint64_t not_connected = 0;  // the order-entry session is down (or still recovering)
    std::uint64_t no_market = 0;      // a market order with no opposite side to price it from
    std::uint64_t paused = 0;         // the strategy is paused or stopped (hftctl strategy pause|stop)
    std::uint64_t venue_down = 0;     // issue 14: the order's venue's session is down (others are up)
  };
  [[nodiscard]] const Refusals& refusals() const noexcept { return refusals_; }
  [[nodiscard]] std::uint8_t index() const noexcept { return index_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] bool halted() const noexcept { return halted_; }

  // ---- Storm Guard (issue 11; pipeline/risk/storm_guard.hpp) -------------------------------------
  // The worst Storm Guard state (0 normal, 1 WARN, 2 STORM, 3 HALT) as of this pass, and the
  // configured WARN factors: a quoting strategy widens its half-spread by `widen` and shrinks its
  // size by `size` in WARN (the market maker does); in STORM only risk-reducing orders pass risk.
  struct Storm {
    std::uint8_t state = 0;
    double widen = 1, size = 1;
  };
  [[nodiscard]] const Storm& storm() const noexcept { return storm_; }

  // ---- stage side (not for strategies) ----------------------------------------------------
  void set_storm(const Storm& s) noexcept { storm_ = s; }
  void set_event(std::uint64_t origin_tsc, std::uint64_t now_ns) noexcept {
    origin_tsc_ = origin_tsc;
    now_ns_ = now_ns;
  }
  void set_halted(bool halted) noexcept { halted_ = halted; }
  // hftctl strategy pause|stop: new orders and replaces refused (cancels still go).
  void set_paused(bool paused) noexcept { paused_ = paused; }
  [[nodiscard]] bool paused() const noexcept { return paused_; }
  // Drops every held stop (hftctl strategy stop).
  void clear_stops() noexcept {
    stops_.fill(HeldStop{});
    stops_held_ = 0;
  }
  // New orders sent (performance), and of the last fill applied: was it its order's first, and
  // when the order was decided.
  [[nodiscard]] std::uint64_t new_orders() const noexcept { return new_orders_; }
  [[nodiscard]] bool last_fill_first() const noexcept { return last_fill_first_; }
  [[nodiscard]] std::uint64_t last_fill_sent_tsc() const noexcept { return last_fill_sent_tsc_; }
  // The order-entry session is down or not yet ready (set by the strategy stage once per pass).
  void set_entry_down(bool down) noexcept { entry_down_ = down; }
  // Issue 14 (the strategy stage, at start-up / when a venue's session changes): venues, the
  // router and tops the Route::best() orders use, and a venue's session state (venue 0's is
  // set_entry_down's).
  void set_venues(std::size_t venues, oms::Router* router, const oms::VenueTops* tops) noexcept {
    order_venues_ = venues;
    router_ = router;
    tops_ = tops;
  }
  void set_venue_down(VenueId v, bool down) noexcept {
    if (v >= 32) return;
    if (down) venue_down_ |= 1u << v;
    else venue_down_ &= ~(1u << v);
  }
  void set_features(const features::FeatureEngine* engine, features::FeatureMask mask) noexcept {
    features_ = engine;
    feature_mask_ = mask;
  }
  void subscribe(Locate locate) { symbols_.push_back(locate); }
  void init_tables(std::size_t locates) {
    symbols_.reserve(locates);  // subscribe() happens on the pipeline thread as symbols appear
    positions_.assign(locates, Position{});
    orders_.assign(kMaxOrders, WorkingOrder{});
    free_.clear();
    for (std::size_t i = kMaxOrders; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
  }
  // Books `quantity` of an operator's flatten fill against this strategy's position (the strategy
  // stage decides how much: pipeline/stages/strategy_stage.hpp).
  void book_flatten(Locate locate, Side side, Price price, Quantity quantity) noexcept {
    if (locate < positions_.size()) positions_[locate].book(side, price, quantity);
  }
  // ---- crash recovery (hftd replayed its journal; before the threads start) -----------------
  // A fill booked before the crash: moves the position only.
  void restore_fill(const pipeline::ExecReport& r) noexcept {
    if (r.locate < positions_.size()) positions_[r.locate].book(r.side, r.price, r.quantity);
  }
  // An order still working at the venue, adopted (recovery working_orders = "adopt"): it is in
  // the projection as if this context had sent it. False when no slot is free.
  bool adopt(const WorkingOrder& w) noexcept {
    if (free_.empty() || by_id_.find(w.id) != nullptr) return false;
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    orders_[slot] = w;
    by_id_.insert(w.id, slot);
    ++working_;
    return true;
  }
  // Order ids from here on are above every id the journal holds (the order manager refuses a
  // duplicate id of an order still known).
  void restore_sequence(std::uint64_t next_seq) noexcept {
    if (next_seq > next_seq_) next_seq_ = next_seq;
  }

  // Sends the held stops of `book.locate` its last trade (on_trade) or its touch triggers. A
  // triggered stop refused locally (e.g. a stale book) stays held and is tried again next event.
  void trigger_stops(const BookView& book, bool on_trade) noexcept {
    if (stops_held_ != 0) trigger_stops_slow(book, on_trade);
  }
  // Applies a report for one of this strategy's orders; returns the order slot (or nullptr).
  WorkingOrder* apply(const pipeline::ExecReport& r) noexcept;
  [[nodiscard]] std::uint64_t intents_sent() const noexcept { return intents_sent_; }
  [[nodiscard]] std::uint64_t last_decision_tsc() const noexcept { return last_decision_tsc_; }

 private:
  std::uint64_t submit_new(Locate locate, Side side, Price price, Quantity qty, TimeInForce tif, bool post_only,
                           Quantity min_qty = 0, std::uint64_t id = 0, VenueId venue = 0) noexcept;
  std::uint64_t submit_routed(Locate locate, Side side, Price price, Quantity qty, TimeInForce tif, bool post_only,
                              Route route) noexcept;
  void trigger_stops_slow(const BookView& book, bool on_trade) noexcept;
  bool push(const pipeline::OrderIntent& intent) noexcept;
  WorkingOrder* find(std::uint64_t id) noexcept;
  void release(WorkingOrder& o) noexcept;

  std::uint8_t index_;
  std::string name_;
  core::SpscRing<pipeline::OrderIntent>* out_;
  const std::vector<BookView>* books_;
  const VenueBooks* venues_ = nullptr;  // issue 14: null with one venue (set by the strategy stage)
  const features::FeatureEngine* features_ = nullptr;
  Storm storm_;
  features::FeatureMask feature_mask_ = 0;
  std::vector<Locate> symbols_;
  std::vector<Position> positions_;
  std::vector<WorkingOrder> orders_;  // fixed kMaxOrders slots
  std::vector<std::uint32_t> free_;   // free slots (a stack, sized once)
  core::IdMap by_id_;                 // order id -> slot of a live order
  std::size_t working_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t origin_tsc_ = 0;
  std::uint64_t now_ns_ = 0;
  std::uint64_t intents_sent_ = 0;
  std::uint64_t last_decision_tsc_ = 0;
  bool halted_ = false;
  bool paused_ = false;
  bool last_fill_first_ = false;
  std::uint64_t last_fill_sent_tsc_ = 0;
  std::uint64_t new_orders_ = 0;
  bool entry_down_ = false;
  Refusals refusals_;
  std::array<HeldStop, kMaxStops> stops_{};
  std::size_t stops_held_ = 0;
  std::uint64_t stops_triggered_ = 0;
  // issue 14
  std::size_t order_venues_ = 1;  // order-entry sessions (set_venues)
  std::uint32_t venue_down_ = 0;  // bit v: venue v's session is down (v >= 1)
  oms::Router* router_ = nullptr;
  const oms::VenueTops* tops_ = nullptr;
  oms::RouteDecision last_route_{};
  std::uint8_t legs_ = 0;
  std::uint64_t legs_tsc_ = 0;
};

}  // namespace hft::strategy
