#pragma once
// Order manager of the risk/egress stage: the authoritative life of every order, from the intent
// to the venue's last word, and the positions and P&L that follow from fills. It assigns OUCH
// UserRefNums (day-unique, strictly increasing per account: one counter for the session) and
// turns the venue's replies, already decoded, into ExecReports for the owning strategy.
//
// This is the one ledger of orders and positions. The strategy side (strategy::Context and the
// strategy stage's operator ledger) is a projection on another thread, fed only by the reports
// returned here, every one of them, the operator's flatten orders too (pipeline/strategy/sdk.hpp);
// so every change of state here must come out as a report.
//
// Fixed capacity: a pool of order slots and two IdMaps (strategy order id -> slot, UserRefNum ->
// slot); nothing is allocated after construction. A full pool refuses new orders.
//
// Executions are facts from the venue and are never clamped or dropped: one larger than the
// order's leaves is booked whole and counted (overfills); one for an order already closed here
// (a cancel or replace crossing an execution on the wire) is found in a ring of the most recently
// closed orders (UserRefNum -> order id, strategy, symbol, side; as many as the pool has slots)
// and booked the same way.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/id_map.hpp"
#include "pipeline/events.hpp"
#include "pipeline/risk/risk.hpp"

namespace hft::oms {

using pipeline::ExecReport;
using pipeline::Locate;
using pipeline::Price;
using pipeline::Quantity;
using pipeline::Side;

enum class OrderState : std::uint8_t { kFree, kPendingNew, kLive, kPendingCancel, kPendingReplace };

struct Order {
  std::uint64_t order_id = 0;       // the strategy's id
  std::uint64_t origin_tsc = 0;     // packet that caused the latest intent on this order
  std::uint64_t venue_ref = 0;      // the venue's order reference number (OUCH Accepted)
  std::uint64_t sent_ns = 0;        // when its Enter Order went to the session (Storm Guard's ack latency)
  Price price = 0;
  Price pending_price = 0;
  Quantity quantity = 0;
  Quantity leaves = 0;
  Quantity filled = 0;
  Quantity pending_quantity = 0;
  std::uint32_t user_ref = 0;       // current OUCH UserRefNum
  std::uint32_t pending_user_ref = 0;  // of a replace in flight
  Locate locate = 0;
  Side side = Side::kBuy;
  OrderState state = OrderState::kFree;
  std::uint8_t strategy = 0;
  bool cancel_requested = false;
  pipeline::VenueId venue = 0;  // issue 14: the venue whose session carries the order
};

struct OmsCounters {
  std::uint64_t sent_new = 0, sent_cancel = 0, sent_replace = 0;
  // Of the overfills, executions of an order already closed here (looked up among closed orders).
  std::uint64_t fills_after_close = 0;
  std::uint64_t accepted = 0, rejected = 0, canceled = 0, replaced = 0, fills = 0, filled_shares = 0;
  std::uint64_t unknown_replies = 0;  // replies for a UserRefNum we do not know (counted, ignored)
  std::uint64_t overfills = 0;  // executions beyond the order's leaves (or of a closed order): booked whole
};

class OrderManager {
 public:
  OrderManager(std::size_t max_orders, std::size_t locates, std::uint32_t first_user_ref);

  // ---- outbound ------------------------------------------------------------------------------
  // Opens an order for a new-order intent: assigns the next UserRefNum. nullptr when full.
  Order* open(const pipeline::OrderIntent& in) noexcept;
  // Brings what the next open() writes into cache: its order slot, the UserRefNum table's home
  // slot for the next UserRefNum, and the exposure of `locate` (the egress stage calls it between
  // orders, so that an order after a quiet spell does not wait on memory).
  void warm(Locate locate) const noexcept {
    if (!free_.empty()) __builtin_prefetch(&orders_[free_.back()], 1, 3);
    by_user_ref_.prefetch(next_user_ref_);
    if (locate < exposure_.size()) __builtin_prefetch(&exposure_[locate], 0, 3);
  }
  // Forgets an order opened by open() that never reached the wire (send failed).
  void abandon(Order& o) noexcept;
  [[nodiscard]] Order* by_id(std::uint64_t order_id) noexcept;
  [[nodiscard]] Order* by_user_ref(std::uint32_t user_ref) noexcept;
  // Marks a replace in flight and returns the UserRefNum the replacement will carry (0 if full).
  std::uint32_t begin_replace(Order& o, Price price, Quantity quantity, std::uint64_t origin_tsc) noexcept;
  void end_replace_failed(Order& o) noexcept;
  void begin_cancel(Order& o, std::uint64_t origin_tsc) noexcept;

  // ---- inbound (venue replies; each returns the report for the owning strategy) -----------------
  bool on_accepted(std::uint32_t user_ref, std::uint64_t venue_ref, Price price, Quantity quantity, ExecReport& out) noexcept;
  bool on_replaced(std::uint32_t old_user_ref, std::uint32_t new_user_ref, std::uint64_t venue_ref, Price price,
                   Quantity quantity, ExecReport& out) noexcept;
  // `liquidity`: the OUCH liquidity flag ('A' added: the venue's add fee; otherwise, 'R' removed or
  // unknown, its remove fee) for the fees of the order's venue (set_venue_fees).
  bool on_executed(std::uint32_t user_ref, Quantity quantity, Price price, ExecReport& out, char liquidity = 0) noexcept;
  // `decrement`: shares taken off the book (OUCH Canceled quantity); the order is done at 0 leaves.
  bool on_canceled(std::uint32_t user_ref, Quantity decrement, std::uint16_t reason, ExecReport& out) noexcept;
  bool on_rejected(std::uint32_t user_ref, std::uint16_t reason, ExecReport& out) noexcept;

  // ---- state -------------------------------------------------------------------------------
  [[nodiscard]] const risk::Exposure& exposure(Locate locate) const noexcept { return exposure_[locate]; }
  [[nodiscard]] std::int64_t cash(Locate locate) const noexcept { return cash_[locate]; }  // 1/10,000 $
  // Realized P&L of `locate` (average cost: a fill that reduces the position realizes the
  // difference between its price and the position's average cost), 1/10,000 $. Flat, it is cash.
  [[nodiscard]] std::int64_t realized_pnl(Locate locate) const noexcept { return realized_[locate]; }
  // Whether `locate` ever had an order or a fill (positions are published for these).
  [[nodiscard]] bool active(Locate locate) const noexcept { return active_[locate] != 0; }
  [[nodiscard]] std::uint32_t open_orders() const noexcept { return open_; }
  // Exposure across every symbol, kept as running totals (pipeline/risk/risk.hpp).
  [[nodiscard]] const risk::Totals& totals() const noexcept { return totals_; }
  [[nodiscard]] const OmsCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint32_t next_user_ref() const noexcept { return next_user_ref_; }
  // The venue says which UserRefNum comes next for this account (OUCH Account Query Response):
  // never go back, never reuse.
  void advance_user_ref(std::uint32_t next) noexcept {
    if (next > next_user_ref_) next_user_ref_ = next;
  }
  // ---- fees per venue (issue 14) -------------------------------------------------------------
  // Fees per share in 1/10,000 $ for fills that add / remove liquidity at `venue` (< 0: a rebate).
  // Every fill pays its venue's fee; fees are part of the realized P&L (and of the day's P&L).
  void set_venue_fees(pipeline::VenueId venue, std::int64_t add_per_share, std::int64_t remove_per_share) noexcept {
    if (venue < pipeline::kMaxVenues) fees_[venue] = VenueFees{add_per_share, remove_per_share};
  }
  // Fees paid so far (1/10,000 $, negative: rebates earned) at `venue`, and in all.
  [[nodiscard]] std::int64_t venue_fees_paid(pipeline::VenueId venue) const noexcept {
    return venue < pipeline::kMaxVenues ? fees_paid_[venue] : 0;
  }
  [[nodiscard]] std::int64_t fees_paid() const noexcept {
    std::int64_t t = 0;
    for (const std::int64_t f : fees_paid_) t += f;
    return t;
  }
  // Shares filled at `venue` so far.
  [[nodiscard]] std::uint64_t venue_filled_shares(pipeline::VenueId venue) const noexcept {
    return venue < pipeline::kMaxVenues ? venue_shares_[venue] : 0;
  }

  // ---- recovery (cold, before the threads start or on the egress thread at reconciliation) ---
  // Opens an order under the UserRefNum the journal says it had (the counter moves past it).
  Order* restore_open(const pipeline::OrderIntent& in, std::uint32_t user_ref) noexcept {
    advance_user_ref(user_ref);
    return open(in);
  }
  std::uint32_t restore_replace(Order& o, Price price, Quantity quantity, std::uint32_t user_ref) noexcept {
    advance_user_ref(user_ref);
    return begin_replace(o, price, quantity, 0);
  }
  // The venue's next UserRefNum is known after a recovery: an order whose Enter Order (or a
  // replace whose Replace Order) carries a number at or above it never reached the venue (it
  // consumes every number it answered). Such orders are closed (replaces dropped), each reported
  // through `sink` (kCanceled with kNotConnected; kRejected for a replace). Returns how many.
  // Issue 14: `venue` >= 0: only that venue's orders (each venue answers for the numbers it saw).
  template <class F>
  std::uint32_t reconcile_unsent(std::uint32_t venue_next, F&& sink, int venue = -1) noexcept {
    std::uint32_t n = 0;
    for (Order& o : orders_) {
      if (venue >= 0 && o.state != OrderState::kFree && o.venue != venue) continue;
      if (o.state == OrderState::kPendingNew && o.user_ref >= venue_next) {
        ExecReport r = report(o, pipeline::ReportType::kCanceled);
        r.leaves = 0;
        r.reason = pipeline::RejectReason::kNotConnected;
        close(o, false);
        sink(r);
        ++n;
      } else if (o.state == OrderState::kPendingReplace && o.pending_user_ref >= venue_next) {
        end_replace_failed(o);
        ExecReport r = report(o, pipeline::ReportType::kRejected);
        r.reason = pipeline::RejectReason::kNotConnected;
        sink(r);
        ++n;
      }
    }
    return n;
  }
  // Visits every order still working (for the kill switch and shutdown).
  template <class F>
  void for_each_working(F&& f) noexcept {
    for (Order& o : orders_)
      if (o.state != OrderState::kFree) f(o);
  }
  [[nodiscard]] std::size_t locates() const noexcept { return exposure_.size(); }

  // The day's P&L in 1/10,000 $: realized (average cost) plus unrealized of every open position
  // marked at `mark(locate)` (the mid; a symbol with no mark counts at its average cost, i.e. 0
  // unrealized). Visits only the symbols that ever had a fill (the risk/egress stage calls it on
  // its timer, off the per-order path; issue 11: daily loss and drawdown).
  template <class Mark>
  [[nodiscard]] std::int64_t day_pnl(Mark&& mark) const noexcept {
    std::int64_t total = 0;
    for (const Locate l : filled_list_) {
      total += realized_[l];
      const std::int64_t pos = exposure_[l].position;
      if (pos == 0) continue;
      const Price m = mark(l);
      if (m > 0) total += pos * m - cost_[l];
    }
    return total;
  }
  // ---- per-strategy ledgers (issue 11: per-strategy limits) -----------------------------------
  // Keeps `strategy`'s own exposure, cost and P&L from now on (cold: allocates; before the
  // threads or in a test). Only strategies below risk::kMaxStrategyLimits.
  const risk::StrategyLedger* track_strategy(std::uint8_t strategy);
  [[nodiscard]] const risk::StrategyLedger* ledger(std::uint8_t strategy) const noexcept {
    return strategy < risk::kMaxStrategyLimits ? ledgers_[strategy].get() : nullptr;
  }
  // Symbols that ever had an order, in order of the first (Storm Guard watches them).
  [[nodiscard]] const std::vector<Locate>& active_list() const noexcept { return active_list_; }
  // Unrealized P&L of `locate` at `mark` (1/10,000 $).
  [[nodiscard]] std::int64_t unrealized_pnl(Locate locate, Price mark) const noexcept {
    const std::int64_t pos = exposure_[locate].position;
    return pos == 0 || mark <= 0 ? 0 : pos * mark - cost_[locate];
  }

 private:
  // A closed order, remembered by UserRefNum so that a late execution is still booked.
  struct ClosedOrder {
    std::uint64_t order_id = 0;
    std::uint32_t user_ref = 0;
    Locate locate = 0;
    Side side = Side::kBuy;
    std::uint8_t strategy = 0;
    pipeline::VenueId venue = 0;
  };
  void close(Order& o, bool remember = true) noexcept;
  void remember_closed(const Order& o, std::uint32_t user_ref) noexcept;
  void book_fill(Locate locate, Side side, Quantity quantity, Price price, std::uint8_t strategy) noexcept;
  void book_fee(Locate locate, pipeline::VenueId venue, Quantity quantity, char liquidity) noexcept;
  // Average cost: books a fill into a position, its cost and realized P&L.
  static void average_cost(std::int64_t position, std::int64_t signed_q, Price price, std::int64_t& cost,
                           std::int64_t& realized) noexcept;
  void add_open(Order& o, std::int64_t shares) noexcept;
  // Swaps the symbol's old share of the totals for its new one after its exposure changed.
  void retotal(risk::Exposure& e, const risk::Exposure& before, Price price) noexcept;
  ExecReport report(const Order& o, pipeline::ReportType type) const noexcept;

  std::vector<Order> orders_;
  std::vector<std::uint32_t> free_;  // stack of free slots (pre-sized)
  core::IdMap by_id_;
  core::IdMap by_user_ref_;
  std::vector<ClosedOrder> closed_;  // ring, oldest overwritten
  std::size_t closed_next_ = 0;
  core::IdMap closed_by_user_ref_;    // UserRefNum -> index in closed_
  std::vector<risk::Exposure> exposure_;
  std::vector<std::int64_t> cash_;
  std::vector<std::int64_t> cost_;      // signed cost of the open position (+ long, - short), 1/10,000 $
  std::vector<std::int64_t> realized_;
  std::vector<std::uint8_t> active_;
  std::vector<std::uint8_t> filled_;     // had a fill (in filled_list_)
  std::vector<Locate> filled_list_;
  std::vector<Locate> active_list_;      // symbols with an order (reserved: no growth)      // symbols with a fill, in order of the first (reserved: no growth)
  std::uint32_t next_user_ref_;
  std::uint32_t open_ = 0;
  risk::Totals totals_;
  OmsCounters counters_;
  std::array<std::unique_ptr<risk::StrategyLedger>, risk::kMaxStrategyLimits> ledgers_;
  struct VenueFees {
    std::int64_t add = 0, remove = 0;
  };
  std::array<VenueFees, pipeline::kMaxVenues> fees_{};
  std::array<std::int64_t, pipeline::kMaxVenues> fees_paid_{};
  std::array<std::uint64_t, pipeline::kMaxVenues> venue_shares_{};
};

}  // namespace hft::oms
