#pragma once
// Pre-trade risk: every intent passes here before anything reaches the wire. A refused intent
// goes back to its strategy with the reason and is counted; it never reaches the venue.
//
// Checks, in order: kill switch, operator halt, max order quantity, max notional, price band
// around the reference price, position limit per symbol (position plus everything that could
// still fill on that side), open-order limit, then (issue 11, each off unless configured) the
// symbol's trading state (ITCH 'H'), a stale market reference, the price collar against the
// touch, fat finger against the symbol's average trade size, the symbol's notional, gross and
// net exposure across symbols (net, gross shares, gross notional), duplicate orders, and finally the message-rate bucket toward the venue and the order-rate bucket.
// Cancels are never refused; they only draw on the message bucket (note_cancel).
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/compiler.hpp"
#include "pipeline/events.hpp"

namespace hft::risk {

using pipeline::Locate;
using pipeline::Price;
using pipeline::Quantity;
using pipeline::RejectReason;

// Per-strategy limits (issue 11), from the strategy's own `[[strategies]]` table (risk_* keys):
// strategy index i (its place in the config) uses RiskLimits::strategy[i]; one strategy cannot
// consume another's budget. Zero switches a check off. Changeable at run time
// (hftctl set strategy.NAME.risk_*) for a strategy configured with at least one (pipeline/risk/keys.hpp).
inline constexpr std::size_t kMaxStrategyLimits = 32;
struct StrategyLimits {
  std::int64_t max_position = 0;      // shares per symbol: the strategy's own position + its working orders on the side
  std::int64_t max_notional = 0;      // 1/10,000 $: the strategy's gross exposure across symbols (its own
                                      // position + working, worst side, x the price of its last order or fill)
  double max_orders_per_second = 0;   // the strategy's own order-rate bucket (depth: one second's worth, at least 1)
  std::int64_t max_loss = 0;          // 1/10,000 $: the strategy's day P&L at or below minus this: only its
                                      // risk-reducing orders until `hftctl risk reset`
  [[nodiscard]] bool any() const noexcept {
    return max_position != 0 || max_notional != 0 || max_orders_per_second != 0 || max_loss != 0;
  }
};

struct RiskLimits {
  Quantity max_order_quantity = 10'000;
  std::int64_t max_notional = 1'000'000 * 10'000ll;  // 1/10,000 $: $1M per order
  std::int32_t price_band_bps = 500;                  // 5% around the reference price
  std::int64_t max_position = 5'000;                  // shares per symbol, long or short
  std::uint32_t max_open_orders = 200;
  double max_orders_per_second = 2'000;               // token bucket rate
  std::uint32_t order_burst = 200;                    // token bucket depth
  bool require_reference_price = true;                // refuse orders on a symbol with no price yet
  // Issue 11. Zero (or false) switches a check off.
  std::int32_t price_collar_bps = 0;          // a buy above the ask (sell below the bid) by more than this
  std::int64_t reference_max_age_ms = 0;      // no market update for this long: stale
  bool refuse_halted_symbols = true;          // ITCH 'H' halted ('H') or paused ('P'): refuse new orders
  double fat_finger_multiple = 0;             // quantity above this x the symbol's average trade size
  std::int64_t max_symbol_notional = 0;       // 1/10,000 $: |position + working + order| x price per symbol
  std::int64_t duplicate_window_ms = 0;       // same strategy/symbol/side/price/quantity within this
  double max_messages_per_second = 0;         // message bucket toward the venue (cancels count): rate
  std::uint32_t message_burst = 400;          // message bucket: depth
  std::int64_t max_gross_position = 0;        // shares, across symbols (Totals); 0 = off
  std::int64_t max_net_position = 0;          // shares, across symbols, long or short; 0 = off
  std::int64_t max_gross_notional = 0;        // 1/10,000 $, across symbols; 0 = off
  // The circuit breaker (issue 11): the day's P&L (realized + unrealized at the mid) below
  // -max_daily_loss, or max_drawdown below the day's peak, or max_drawdown_pct percent of
  // (account_equity + the peak) below the peak, trips it. 0 = that trigger off.
  std::int64_t max_daily_loss = 0;            // 1/10,000 $
  std::int64_t max_drawdown = 0;              // 1/10,000 $
  double max_drawdown_pct = 0;                // percent
  std::int64_t account_equity = 0;            // 1/10,000 $: what max_drawdown_pct is a percent of (with the peak)
  // Storm Guard (pipeline/risk/storm_guard.hpp): each driver's STORM threshold (WARN at half); 0 = off.
  double storm_vol_bps = 0;                   // realized volatility of the mid over storm_window_ms
  std::int64_t storm_window_ms = 1000;
  double storm_spread_bps = 0;                // the touch's spread
  std::int64_t storm_feed_gap_ms = 0;         // a feed gap (or snapshot recovery) open this long
  std::int64_t storm_ack_timeout_ms = 0;      // an order unacknowledged this long, or the session down
  std::int64_t storm_loss_per_minute = 0;     // 1/10,000 $: the day's P&L fell this much within a minute
  std::int64_t storm_halt_after_ms = 0;       // STORM held this long becomes HALT; 0 = never
  std::int64_t storm_min_dwell_ms = 1000;     // least time in a state before stepping down
  double storm_warn_widen = 2;                // WARN: the market maker's half-spread x this
  double storm_warn_size = 0.5;               // WARN: its quote size x this
  double storm_reject_rate_pct = 0;           // the venue's rejects, % of its answers over storm_entry_window_ms
  double storm_ack_p99_ms = 0;                // p99 acknowledgement latency over storm_entry_window_ms
  std::int64_t storm_entry_window_ms = 5000;  // the order-entry health window
  // Issue 11, third tranche. Zero switches a check off.
  std::int64_t price_collar_ticks = 0;        // the collar in ticks (1/10,000 $) beyond the touch; with
                                              // price_collar_bps both apply (the tighter refuses)
  // The restricted list ([risk] restricted_symbols): new orders and replaces on these symbols are
  // refused (kRestricted). Each entry is an ITCH/OUCH symbol word (8 bytes, space padded:
  // itch::Symbol::key()); start-up only.
  static constexpr std::size_t kMaxRestricted = 64;
  std::int64_t max_buying_power = 0;          // 1/10,000 $: (long shares + working buys) x price, across symbols; 0 = off
  std::array<std::uint64_t, kMaxRestricted> restricted{};
  std::uint32_t restricted_count = 0;
  // Reg SHO (ITCH 'Y', Rule 201): refuse a short sale at or below the national best bid in a
  // symbol under the short-sale price test (a sell that would take the firm's position below zero).
  bool refuse_restricted_short_sales = true;
  std::array<StrategyLimits, kMaxStrategyLimits> strategy{};
  [[nodiscard]] bool is_restricted(std::uint64_t symbol_word) const noexcept {
    for (std::uint32_t i = 0; i < restricted_count; ++i)
      if (restricted[i] == symbol_word) return true;
    return false;
  }
};

// Why the circuit breaker is tripped (0: it is not).
enum class BreakerCause : std::uint8_t { kNone = 0, kDailyLoss = 1, kDrawdown = 2, kDrawdownPct = 3 };
inline const char* breaker_cause_name(BreakerCause c) noexcept {
  switch (c) {
    case BreakerCause::kNone: return "none";
    case BreakerCause::kDailyLoss: return "daily_loss";
    case BreakerCause::kDrawdown: return "drawdown";
    case BreakerCause::kDrawdownPct: return "drawdown_pct";
  }
  return "?";
}

// The P&L the breaker watches, and its state (1/10,000 $).
struct BreakerState {
  BreakerCause cause = BreakerCause::kNone;
  std::int64_t pnl = 0;       // the latest mark
  std::int64_t peak = 0;      // the day's peak P&L (starts at 0: the day starts flat)
  std::int64_t trip_pnl = 0;  // the P&L when it tripped
};

// Per-symbol exposure the order manager keeps.
struct Exposure {
  std::int64_t position = 0;     // signed shares
  std::int64_t open_buy = 0;     // shares working to buy
  std::int64_t open_sell = 0;
  std::int64_t gross_notional = 0;  // this symbol's share of Totals::gross_notional (1/10,000 $)
  std::int64_t buy_notional = 0;    // this symbol's share of Totals::buying_power (1/10,000 $)
};

// The worst case of a symbol's exposure, in shares: every working order on one side filled.
inline std::int64_t gross_shares(std::int64_t position, std::int64_t open_buy, std::int64_t open_sell) noexcept {
  const std::int64_t up = position + open_buy, down = position - open_sell;
  const std::int64_t a = up < 0 ? -up : up, b = down < 0 ? -down : down;
  return a > b ? a : b;
}

// Exposure across every symbol, kept as running totals by the order manager (each change of a
// symbol's exposure swaps that symbol's old share for its new one), so the checks are O(1).
//   gross_shares:   sum of gross_shares() per symbol
//   net_long/short: sum of position + open_buy / position - open_sell (the net if every working
//                   buy / every working sell filled)
//   gross_notional: sum of gross_shares() x the price of the symbol's last order or fill
struct Totals {
  std::int64_t gross_shares = 0;
  std::int64_t net_long = 0;
  std::int64_t net_short = 0;
  std::int64_t gross_notional = 0;
  std::int64_t buying_power = 0;  // sum of (max(position, 0) + open_buy) x the symbol's last order or fill price
};

// What risk knows of a symbol's market: the book stage writes it, the egress stage reads it.
struct MarketView {
  Price reference = 0;        // last trade, else the mid, else the one side there is; 0 = none
  Price bid = 0, ask = 0;     // the touch; 0 = that side is empty
  std::uint64_t updated_tsc = 0;  // when the book stage last changed any of it (0 = never)
  std::uint32_t avg_trade = 0;    // EWMA of the trade size, shares (0 = no trade yet)
  char state = ' ';               // ITCH 'H' trading state ('H', 'P', 'Q', 'T'; ' ' = not heard)
  std::uint64_t symbol = 0;       // the symbol word (itch::Symbol::key()) when the caller knows it; 0 = unknown
  bool short_sale_restricted = false;  // ITCH 'Y' Reg SHO action '1' or '2' (the price test is in effect)
};

// One strategy's own ledger (kept by the order manager for strategies with per-strategy limits):
// its exposure per symbol, average cost and realized P&L, and its gross notional across symbols.
struct StrategyLedger {
  std::vector<Exposure> exposure;        // per locate; gross_notional / buy_notional: this strategy's share
  std::vector<std::int64_t> cost, realized;
  std::vector<std::uint8_t> filled;
  std::vector<Locate> filled_list;       // reserved: no growth
  std::int64_t gross_notional = 0;       // sum of exposure[l].gross_notional
  explicit StrategyLedger(std::size_t locates)
      : exposure(locates), cost(locates, 0), realized(locates, 0), filled(locates, 0) {
    filled_list.reserve(locates);
  }
  // Realized + unrealized at `mark(locate)` (1/10,000 $).
  template <class Mark>
  [[nodiscard]] std::int64_t pnl(Mark&& mark) const noexcept {
    std::int64_t total = 0;
    for (const Locate l : filled_list) {
      total += realized[l];
      const std::int64_t pos = exposure[l].position;
      if (pos == 0) continue;
      const Price m = mark(l);
      if (m > 0) total += pos * m - cost[l];
    }
    return total;
  }
};

// The per-locate market reference table (last trade, touch, update time, average trade size,
// trading state) written by the book stage and read by risk: relaxed atomics, one cache line per
// stock locate, single writer, so neither side ever waits. The reference price is the last
// trade, else the mid, else the one side there is (issue 11: a depth change no longer overwrites
// the last trade). Fields are read one by one: a reader may see a touch one update newer than
// the trade, which is as good as the feed is.
class ReferencePrices {
 public:
  explicit ReferencePrices(std::size_t locates) : slots_(locates) {}
  // A trade print at `price` of `shares` (shares 0: the price alone, e.g. a test or a snapshot).
  void set(Locate locate, Price price, std::uint32_t shares = 0, std::uint64_t tsc = 0) noexcept {
    if (locate >= slots_.size()) return;
    Slot& s = slots_[locate];
    s.last.store(price, std::memory_order_relaxed);
    if (shares != 0) {
      // EWMA, alpha = 1/16, 8 fraction bits (single writer: a plain read-modify-write).
      std::uint64_t e = s.ewma_fp;
      const std::uint64_t x = static_cast<std::uint64_t>(shares) << 8;
      e = e == 0 ? x : e - (e >> 4) + (x >> 4);
      s.ewma_fp = e;
      s.avg.store(static_cast<std::uint32_t>(e >> 8 == 0 ? 1 : e >> 8), std::memory_order_relaxed);
    }
    if (tsc != 0) s.updated.store(tsc, std::memory_order_relaxed);
  }
  // The touch after a depth change (0 for an empty side).
  void set_touch(Locate locate, Price bid, Price ask, std::uint64_t tsc) noexcept {
    if (locate >= slots_.size()) return;
    Slot& s = slots_[locate];
    s.bid.store(bid, std::memory_order_relaxed);
    s.ask.store(ask, std::memory_order_relaxed);
    s.updated.store(tsc, std::memory_order_relaxed);
  }
  void set_state(Locate locate, char state, std::uint64_t tsc) noexcept {
    if (locate >= slots_.size()) return;
    slots_[locate].state.store(state, std::memory_order_relaxed);
    slots_[locate].updated.store(tsc, std::memory_order_relaxed);
  }
  // ITCH 'Y' (Reg SHO short sale price test): '0' no restriction, '1' in effect (intraday drop),
  // '2' remains in effect.
  void set_reg_sho(Locate locate, char action) noexcept {
    if (locate >= slots_.size()) return;
    slots_[locate].reg_sho.store(action == '1' || action == '2', std::memory_order_relaxed);
  }
  [[nodiscard]] bool short_sale_restricted(Locate locate) const noexcept {
    return locate < slots_.size() && slots_[locate].reg_sho.load(std::memory_order_relaxed);
  }
  // The reference price: last trade, else the mid, else the one side there is, else 0.
  [[nodiscard]] Price get(Locate locate) const noexcept {
    if (locate >= slots_.size()) return 0;
    const Slot& s = slots_[locate];
    return reference(s.last.load(std::memory_order_relaxed), s.bid.load(std::memory_order_relaxed),
                     s.ask.load(std::memory_order_relaxed));
  }
  [[nodiscard]] MarketView view(Locate locate) const noexcept {
    MarketView v;
    if (locate >= slots_.size()) return v;
    const Slot& s = slots_[locate];
    v.bid = s.bid.load(std::memory_order_relaxed);
    v.ask = s.ask.load(std::memory_order_relaxed);
    v.reference = reference(s.last.load(std::memory_order_relaxed), v.bid, v.ask);
    v.updated_tsc = s.updated.load(std::memory_order_relaxed);
    v.avg_trade = s.avg.load(std::memory_order_relaxed);
    v.state = s.state.load(std::memory_order_relaxed);
    v.short_sale_restricted = s.reg_sho.load(std::memory_order_relaxed);
    return v;
  }
  [[nodiscard]] Price last_trade(Locate locate) const noexcept {
    return locate < slots_.size() ? slots_[locate].last.load(std::memory_order_relaxed) : 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }

 private:
  static Price reference(Price last, Price bid, Price ask) noexcept {
    if (last > 0) return last;
    if (bid > 0 && ask > 0) return (bid + ask) / 2;
    return bid > 0 ? bid : ask;
  }
  struct alignas(core::kCacheLine) Slot {
    std::atomic<Price> last{0}, bid{0}, ask{0};
    std::atomic<std::uint64_t> updated{0};
    std::atomic<std::uint32_t> avg{0};
    std::atomic<char> state{' '};
    std::atomic<bool> reg_sho{false};
    std::uint64_t ewma_fp = 0;  // the writer's own
  };
  std::vector<Slot> slots_;
};

class RiskGate {
 public:
  explicit RiskGate(const RiskLimits& limits, double ticks_per_second) noexcept
      : limits_(limits), ticks_per_second_(ticks_per_second) {
    for (VenueBucket& b : venue_) b.tokens = limits.order_burst, b.msg_tokens = limits.message_burst;
    derive();
  }

  // A new order. `now_ticks`: TSC (or clock) ticks for the rate buckets, the same clock as the
  // market view's updated_tsc.
  RejectReason check_new(const pipeline::OrderIntent& in, const Exposure& ex, const MarketView& m,
                         std::uint32_t open_orders, std::uint64_t now_ticks) noexcept {
    if (const RejectReason r = check_common(in.price, in.quantity, m.reference); r != RejectReason::kNone) return count(r);
    const std::int64_t q = in.quantity;
    // One byte each: the breaker, and Storm Guard's mode for the symbol.
    if ((reduce_only_ | storm_mode(in.locate)) != 0)
      if (const RejectReason r = restricted(in.locate, in.side, q, ex); r != RejectReason::kNone) return count(r);
    if (in.side == pipeline::Side::kBuy ? ex.position + ex.open_buy + q > limits_.max_position
                                        : ex.position - ex.open_sell - q < -limits_.max_position)
      return count(RejectReason::kPositionLimit);
    if (open_orders >= limits_.max_open_orders) return count(RejectReason::kOpenOrderLimit);
    if (m.short_sale_restricted && in.side == pipeline::Side::kSell && limits_.refuse_restricted_short_sales &&
        short_sale_refused(in, q, ex, m))
      return count(RejectReason::kShortSaleRestricted);
    if (const RejectReason r = check_market(in, q, ex, m, now_ticks); r != RejectReason::kNone) return count(r);
    if (const RejectReason r = check_totals(in, q, ex); r != RejectReason::kNone) return count(r);
    const StrategyLedger* sl = in.strategy < kMaxStrategyLimits ? ledgers_[in.strategy] : nullptr;
    if (sl != nullptr)
      if (const RejectReason r = check_strategy(in, q, *sl, now_ticks, true); r != RejectReason::kNone) return count(r);
    if (duplicate_ticks_ != 0 && duplicate(in, now_ticks)) return count(RejectReason::kDuplicate);
    if (const RejectReason r = take_tokens(now_ticks, in.venue); r != RejectReason::kNone) return count(r);
    if (sl != nullptr) take_strategy_token(in.strategy);
    if (duplicate_ticks_ != 0) remember(in, now_ticks);
    ++passed_;
    return RejectReason::kNone;
  }
  // Today's callers and tests that know only a reference price.
  RejectReason check_new(const pipeline::OrderIntent& in, const Exposure& ex, Price reference,
                         std::uint32_t open_orders, std::uint64_t now_ticks) noexcept {
    MarketView m;
    m.reference = reference;
    return check_new(in, ex, m, open_orders, now_ticks);
  }

  // A replace to `price`/`quantity` of an order with `leaves` working on side `side`.
  // `in.quantity` is the leaves wanted after the replace (not the OUCH total, which counts what
  // already executed; pipeline/events.hpp): the position can grow by at most their difference.
  // The market checks see the replace's new price and the growth of the leaves (a replace that
  // shrinks the order passes the fat-finger and symbol-notional checks on its growth, zero).
  RejectReason check_replace(const pipeline::OrderIntent& in, Quantity leaves, const Exposure& ex, const MarketView& m,
                             std::uint64_t now_ticks) noexcept {
    if (const RejectReason r = check_common(in.price, in.quantity, m.reference); r != RejectReason::kNone) return count(r);
    const std::int64_t growth = static_cast<std::int64_t>(in.quantity) - static_cast<std::int64_t>(leaves);
    if ((reduce_only_ | storm_mode(in.locate)) != 0 && (growth > 0 || storm_mode(in.locate) == 2))
      return count(reduce_only_ != 0 && storm_mode(in.locate) != 2 ? RejectReason::kLossBreaker : RejectReason::kStormGuard);
    if (growth > 0 && (in.side == pipeline::Side::kBuy ? ex.position + ex.open_buy + growth > limits_.max_position
                                                       : ex.position - ex.open_sell - growth < -limits_.max_position))
      return count(RejectReason::kPositionLimit);
    if (m.short_sale_restricted && in.side == pipeline::Side::kSell && limits_.refuse_restricted_short_sales &&
        short_sale_refused(in, growth > 0 ? growth : 0, ex, m))
      return count(RejectReason::kShortSaleRestricted);
    if (const RejectReason r = check_market(in, growth > 0 ? growth : 0, ex, m, now_ticks); r != RejectReason::kNone)
      return count(r);
    if (growth > 0)
      if (const RejectReason r = check_totals(in, growth, ex); r != RejectReason::kNone) return count(r);
    const StrategyLedger* sl = in.strategy < kMaxStrategyLimits ? ledgers_[in.strategy] : nullptr;
    if (sl != nullptr)
      if (const RejectReason r = check_strategy(in, growth > 0 ? growth : 0, *sl, now_ticks, false); r != RejectReason::kNone)
        return count(r);
    if (const RejectReason r = take_tokens(now_ticks, in.venue); r != RejectReason::kNone) return count(r);
    if (sl != nullptr) take_strategy_token(in.strategy);
    ++passed_;
    return RejectReason::kNone;
  }
  RejectReason check_replace(const pipeline::OrderIntent& in, Quantity leaves, const Exposure& ex, Price reference,
                             std::uint64_t now_ticks) noexcept {
    MarketView m;
    m.reference = reference;
    return check_replace(in, leaves, ex, m, now_ticks);
  }

  // Cancels are never refused by limits: they only reduce risk. Each cancel message toward the
  // venue draws on the message bucket (it may go into debt, down to minus its depth), so that a
  // flood of cancels holds back the new orders and replaces that follow.
  // Whether cancels count toward a message rate (callers skip the clock read when they do not).
  bool counts_messages() const noexcept { return msg_rate_ != 0; }
  // Issue 14: the order and message buckets are per venue session (`venue`, the order's).
  void note_cancel(std::uint64_t now_ticks, pipeline::VenueId venue = 0) noexcept {
    if (msg_rate_ == 0) return;
    VenueBucket& b = bucket(venue);
    refill_messages(now_ticks, b);
    if (b.msg_tokens > -static_cast<double>(limits_.message_burst)) b.msg_tokens -= 1.0;
  }
  // A refusal decided by the caller (the egress stage's venue_down), counted with the gate's own.
  void count_refusal(RejectReason r) noexcept { (void)count(r); }

  // A strategy's own ledger (the order manager's; null: that strategy's limits are off).
  void set_strategy_ledger(std::uint8_t strategy, const StrategyLedger* ledger) noexcept {
    if (strategy < kMaxStrategyLimits) ledgers_[strategy] = ledger;
  }
  [[nodiscard]] const StrategyLedger* strategy_ledger(std::uint8_t strategy) const noexcept {
    return strategy < kMaxStrategyLimits ? ledgers_[strategy] : nullptr;
  }
  // The strategy's day P&L (marked on the egress stage's timer, never per order). True when this
  // mark trips the strategy's loss limit (once; it stays tripped until reset_breaker()).
  bool mark_strategy_pnl(std::uint8_t strategy, std::int64_t pnl) noexcept {
    if (strategy >= kMaxStrategyLimits) return false;
    strategy_pnl_[strategy] = pnl;
    const std::int64_t max_loss = limits_.strategy[strategy].max_loss;
    if (strategy_tripped_[strategy] != 0 || max_loss <= 0 || pnl > -max_loss) return false;
    strategy_tripped_[strategy] = 1;
    return true;
  }
  // A restart found the strategy's loss limit tripped in the journal.
  void trip_strategy(std::uint8_t strategy) noexcept {
    if (strategy < kMaxStrategyLimits) strategy_tripped_[strategy] = 1;
  }
  [[nodiscard]] bool strategy_tripped(std::uint8_t strategy) const noexcept {
    return strategy < kMaxStrategyLimits && strategy_tripped_[strategy] != 0;
  }
  [[nodiscard]] std::int64_t strategy_pnl(std::uint8_t strategy) const noexcept {
    return strategy < kMaxStrategyLimits ? strategy_pnl_[strategy] : 0;
  }

  // The order manager's running totals across symbols (null: the cross-symbol checks are off).
  void set_totals(const Totals* totals) noexcept { totals_ = totals; }

  void set_kill_switch(bool on) noexcept { kill_.store(on, std::memory_order_seq_cst); }
  [[nodiscard]] bool kill_switch() const noexcept { return kill_.load(std::memory_order_relaxed); }
  void set_halted(bool on) noexcept { halted_.store(on, std::memory_order_relaxed); }
  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_relaxed); }

  // Limits may change at run time (from the control plane, applied on this stage's thread).
  void set_limits(const RiskLimits& limits) noexcept {
    limits_ = limits;
    for (VenueBucket& b : venue_) {
      if (b.tokens > limits_.order_burst) b.tokens = limits_.order_burst;
      if (b.msg_tokens > limits_.message_burst) b.msg_tokens = limits_.message_burst;
    }
    derive();
  }
  [[nodiscard]] const RiskLimits& limits() const noexcept { return limits_; }

  // ---- the daily-loss / drawdown circuit breaker (issue 11) -----------------------------------
  // The day's P&L, marked by the risk/egress stage on its timer and after fills (never per order).
  // Returns the cause when this mark trips the breaker (kNone otherwise, and once tripped).
  BreakerCause mark_pnl(std::int64_t pnl) noexcept {
    breaker_.pnl = pnl;
    if (pnl > breaker_.peak) breaker_.peak = pnl;
    if (breaker_.cause != BreakerCause::kNone) return BreakerCause::kNone;
    const std::int64_t down = breaker_.peak - pnl;
    BreakerCause c = BreakerCause::kNone;
    if (limits_.max_daily_loss > 0 && pnl <= -limits_.max_daily_loss) c = BreakerCause::kDailyLoss;
    else if (limits_.max_drawdown > 0 && down >= limits_.max_drawdown) c = BreakerCause::kDrawdown;
    else if (limits_.max_drawdown_pct > 0 && limits_.account_equity > 0 && down > 0 &&
             static_cast<double>(down) * 100.0 >=
                 limits_.max_drawdown_pct * static_cast<double>(limits_.account_equity + breaker_.peak))
      c = BreakerCause::kDrawdownPct;
    if (c != BreakerCause::kNone) trip(c, pnl);
    return c;
  }
  // Trips the breaker (a mark above, or a restart that finds it tripped in the journal).
  void trip(BreakerCause c, std::int64_t pnl) noexcept {
    breaker_.cause = c;
    breaker_.trip_pnl = pnl;
    reduce_only_ = 1;
  }
  // The operator's `hftctl risk reset`: the breaker closes and the peak starts again at `pnl`.
  void reset_breaker(std::int64_t pnl) noexcept {
    breaker_ = BreakerState{BreakerCause::kNone, pnl, pnl, 0};
    reduce_only_ = 0;
    strategy_tripped_.fill(0);
  }
  // A restart: the day's peak as journaled (the next mark raises it to the P&L if that is higher).
  void restore_peak(std::int64_t peak) noexcept { breaker_.peak = peak; }
  [[nodiscard]] const BreakerState& breaker() const noexcept { return breaker_; }
  // Storm Guard's per-locate modes (0 normal or warn, 1 only risk-reducing, 2 none), `n` locates.
  void set_storm_modes(const std::uint8_t* modes, std::size_t n) noexcept {
    storm_modes_ = modes;
    storm_locates_ = n;
  }
  [[nodiscard]] std::uint8_t storm_mode(Locate l) const noexcept {
    return storm_modes_ != nullptr && l < storm_locates_ ? storm_modes_[l] : 0;
  }
  [[nodiscard]] bool reduce_only() const noexcept { return reduce_only_ != 0; }
  // Whether an order of `q` shares on `side` only brings the position toward flat, counting what
  // already works on that side (so several reducing orders cannot together flip it).
  static bool reduces(pipeline::Side side, std::int64_t q, const Exposure& ex) noexcept {
    return side == pipeline::Side::kBuy ? ex.position < 0 && ex.position + ex.open_buy + q <= 0
                                        : ex.position > 0 && ex.position - ex.open_sell - q >= 0;
  }

  [[nodiscard]] std::uint64_t rejected(RejectReason r) const noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < rejects_.size() ? rejects_[i] : 0;
  }
  [[nodiscard]] std::uint64_t passed() const noexcept { return passed_; }
  [[nodiscard]] std::uint64_t rejected_total() const noexcept {
    std::uint64_t t = 0;
    for (auto v : rejects_) t += v;
    return t;
  }

 private:
  RejectReason check_common(Price price, Quantity quantity, Price reference) const noexcept {
    if (kill_switch()) return RejectReason::kKillSwitch;
    if (halted()) return RejectReason::kHalted;
    if (quantity == 0 || quantity > limits_.max_order_quantity) return RejectReason::kMaxOrderQuantity;
    if (price <= 0 || static_cast<std::int64_t>(quantity) * price > limits_.max_notional) return RejectReason::kMaxNotional;
    if (reference <= 0) return limits_.require_reference_price ? RejectReason::kNoReferencePrice : RejectReason::kNone;
    const std::int64_t off = price > reference ? price - reference : reference - price;
    if (off * 10'000 > static_cast<std::int64_t>(limits_.price_band_bps) * reference) return RejectReason::kPriceBand;
    return RejectReason::kNone;
  }

  // The breaker or Storm Guard restricts this order's symbol: which refusal, if any.
  [[gnu::noinline]] RejectReason restricted(Locate l, pipeline::Side side, std::int64_t q, const Exposure& ex) const noexcept {
    const std::uint8_t storm = storm_mode(l);
    if (storm == 2) return RejectReason::kStormGuard;
    if (reduces(side, q, ex)) return RejectReason::kNone;
    return reduce_only_ != 0 ? RejectReason::kLossBreaker : RejectReason::kStormGuard;
  }

  // Reg SHO Rule 201: a short sale (a sell beyond the firm's long position and what already works
  // to sell) at or below the national best bid is refused; at or below the last trade when the
  // bid is unknown. A long sale passes.
  static bool short_sale_refused(const pipeline::OrderIntent& in, std::int64_t q, const Exposure& ex,
                                 const MarketView& m) noexcept {
    if (ex.position - ex.open_sell - q >= 0) return false;  // a long sale
    const Price bid = m.bid > 0 ? m.bid : m.reference;
    return bid <= 0 || in.price <= bid;
  }

  // The strategy's own limits (cold in the sense that only strategies given limits come here).
  RejectReason check_strategy(const pipeline::OrderIntent& in, std::int64_t q, const StrategyLedger& sl,
                                                std::uint64_t now_ticks, bool is_new) noexcept {
    const StrategyLimits& lim = limits_.strategy[in.strategy];
    const Exposure& ex = sl.exposure[in.locate < sl.exposure.size() ? in.locate : 0];
    const bool buy = in.side == pipeline::Side::kBuy;
    if (strategy_tripped_[in.strategy] != 0 && (is_new ? !reduces(in.side, q, ex) : q > 0))
      return RejectReason::kStrategyLoss;
    if (q > 0 && lim.max_position > 0 &&
        (buy ? ex.position + ex.open_buy + q > lim.max_position : ex.position - ex.open_sell - q < -lim.max_position))
      return RejectReason::kStrategyPosition;
    if (q > 0 && lim.max_notional > 0) {
      const std::int64_t after = buy ? gross_shares(ex.position, ex.open_buy + q, ex.open_sell)
                                     : gross_shares(ex.position, ex.open_buy, ex.open_sell + q);
      if (sl.gross_notional - ex.gross_notional + after * in.price > lim.max_notional) return RejectReason::kStrategyNotional;
    }
    if (lim.max_orders_per_second > 0) {
      StrategyBucket& b = buckets_[in.strategy];
      const double depth = lim.max_orders_per_second < 1 ? 1.0 : lim.max_orders_per_second;
      if (b.last == 0) b.tokens = depth;
      else if (now_ticks > b.last)
        b.tokens += static_cast<double>(now_ticks - b.last) * strategy_rate_[in.strategy];
      if (b.tokens > depth) b.tokens = depth;
      b.last = now_ticks == 0 ? 1 : now_ticks;
      if (b.tokens < 1.0) return RejectReason::kStrategyOrderRate;
    }
    return RejectReason::kNone;
  }
  void take_strategy_token(std::uint8_t strategy) noexcept {
    if (limits_.strategy[strategy].max_orders_per_second > 0) buckets_[strategy].tokens -= 1.0;
  }

  // Limits in the gate's own units (ticks), worked out once per change, off the hot path.
  void derive() noexcept {
    const double per_ms = ticks_per_second_ / 1000.0;
    max_age_ticks_ = static_cast<std::uint64_t>(static_cast<double>(limits_.reference_max_age_ms) * per_ms);
    duplicate_ticks_ = static_cast<std::uint64_t>(static_cast<double>(limits_.duplicate_window_ms) * per_ms);
    msg_rate_ = limits_.max_messages_per_second / ticks_per_second_;
    for (std::size_t s = 0; s < kMaxStrategyLimits; ++s)
      strategy_rate_[s] = limits_.strategy[s].max_orders_per_second / ticks_per_second_;
  }

  // The issue-11 checks that need the symbol's market. `q`: the shares the order can add.
  RejectReason check_market(const pipeline::OrderIntent& in, std::int64_t q, const Exposure& ex, const MarketView& m,
                            std::uint64_t now_ticks) const noexcept {
    if (limits_.restricted_count != 0 && m.symbol != 0 && limits_.is_restricted(m.symbol)) return RejectReason::kRestricted;
    if (limits_.refuse_halted_symbols && (m.state == 'H' || m.state == 'P')) return RejectReason::kSymbolHalted;
    if (max_age_ticks_ != 0 && (m.updated_tsc == 0 || (now_ticks > m.updated_tsc && now_ticks - m.updated_tsc > max_age_ticks_)))
      return RejectReason::kStaleReference;
    const bool buy = in.side == pipeline::Side::kBuy;
    if (limits_.price_collar_bps != 0) {
      // Buy above the ask, sell below the bid, by more than the collar (in bps of that touch).
      if (buy ? m.ask > 0 && (in.price - m.ask) * 10'000 > static_cast<std::int64_t>(limits_.price_collar_bps) * m.ask
              : m.bid > 0 && (m.bid - in.price) * 10'000 > static_cast<std::int64_t>(limits_.price_collar_bps) * m.bid)
        return RejectReason::kPriceCollar;
    }
    if (limits_.price_collar_ticks != 0 &&
        (buy ? m.ask > 0 && in.price - m.ask > limits_.price_collar_ticks
             : m.bid > 0 && m.bid - in.price > limits_.price_collar_ticks))
      return RejectReason::kPriceCollar;
    if (limits_.fat_finger_multiple > 0 && m.avg_trade != 0 &&
        static_cast<double>(q) > limits_.fat_finger_multiple * static_cast<double>(m.avg_trade))
      return RejectReason::kFatFinger;
    if (limits_.max_symbol_notional > 0) {
      const std::int64_t shares = buy ? ex.position + ex.open_buy + q : -(ex.position - ex.open_sell - q);
      if (shares > 0 && shares * in.price > limits_.max_symbol_notional) return RejectReason::kSymbolNotional;
    }
    return RejectReason::kNone;
  }

  // Gross and net exposure across symbols after this order (`q` shares more on its side).
  RejectReason check_totals(const pipeline::OrderIntent& in, std::int64_t q, const Exposure& ex) const noexcept {
    if (totals_ == nullptr) return RejectReason::kNone;
    const bool buy = in.side == pipeline::Side::kBuy;
    if (limits_.max_net_position > 0 &&
        (buy ? totals_->net_long + q > limits_.max_net_position : totals_->net_short - q < -limits_.max_net_position))
      return RejectReason::kNetPosition;
    if (buy && limits_.max_buying_power > 0 &&
        totals_->buying_power - ex.buy_notional + ((ex.position > 0 ? ex.position : 0) + ex.open_buy + q) * in.price >
            limits_.max_buying_power)
      return RejectReason::kBuyingPower;
    if (limits_.max_gross_position == 0 && limits_.max_gross_notional == 0) return RejectReason::kNone;
    const std::int64_t after = buy ? gross_shares(ex.position, ex.open_buy + q, ex.open_sell)
                                   : gross_shares(ex.position, ex.open_buy, ex.open_sell + q);
    if (limits_.max_gross_position > 0 &&
        totals_->gross_shares - gross_shares(ex.position, ex.open_buy, ex.open_sell) + after > limits_.max_gross_position)
      return RejectReason::kGrossPosition;
    if (limits_.max_gross_notional > 0 &&
        totals_->gross_notional - ex.gross_notional + after * in.price > limits_.max_gross_notional)
      return RejectReason::kGrossNotional;
    return RejectReason::kNone;
  }

  // A fixed ring of the last kDuplicates orders that passed (no allocation): a runaway loop that
  // sends the same order again within the window meets its earlier self.
  static constexpr std::size_t kDuplicates = 16;
  struct Recent {
    Price price;
    std::uint64_t tsc;
    Quantity quantity;
    Locate locate;
    pipeline::Side side;
    std::uint8_t strategy;
  };
  bool duplicate(const pipeline::OrderIntent& in, std::uint64_t now_ticks) const noexcept {
    for (const Recent& r : recent_)
      if (r.tsc != 0 && r.price == in.price && r.quantity == in.quantity && r.locate == in.locate &&
          r.side == in.side && r.strategy == in.strategy && now_ticks - r.tsc <= duplicate_ticks_)
        return true;
    return false;
  }
  void remember(const pipeline::OrderIntent& in, std::uint64_t now_ticks) noexcept {
    recent_[recent_next_] = Recent{in.price, now_ticks == 0 ? 1 : now_ticks, in.quantity, in.locate, in.side, in.strategy};
    recent_next_ = (recent_next_ + 1) % kDuplicates;
  }

  // One venue session's order and message buckets (issue 14: rate limits per venue session).
  struct VenueBucket {
    double tokens = 0;
    std::uint64_t last_ticks = 0;
    double msg_tokens = 0;
    std::uint64_t msg_last = 0;
  };
  VenueBucket& bucket(pipeline::VenueId venue) noexcept { return venue_[venue < pipeline::kMaxVenues ? venue : 0]; }

  void refill_messages(std::uint64_t now_ticks, VenueBucket& b) noexcept {
    if (b.msg_last != 0 && now_ticks > b.msg_last) {
      b.msg_tokens += static_cast<double>(now_ticks - b.msg_last) * msg_rate_;
      if (b.msg_tokens > limits_.message_burst) b.msg_tokens = limits_.message_burst;
    }
    b.msg_last = now_ticks;
  }
  // The message bucket (when on) and the order bucket; a token is taken only when both have one.
  RejectReason take_tokens(std::uint64_t now_ticks, pipeline::VenueId venue) noexcept {
    VenueBucket& b = bucket(venue);
    if (msg_rate_ != 0) {
      refill_messages(now_ticks, b);
      if (b.msg_tokens < 1.0) return RejectReason::kMessageRate;
    }
    if (!take_token(now_ticks, b)) return RejectReason::kOrderRate;
    if (msg_rate_ != 0) b.msg_tokens -= 1.0;
    return RejectReason::kNone;
  }

  bool take_token(std::uint64_t now_ticks, VenueBucket& b) noexcept {
    if (b.last_ticks != 0 && now_ticks > b.last_ticks) {
      b.tokens += static_cast<double>(now_ticks - b.last_ticks) / ticks_per_second_ * limits_.max_orders_per_second;
      if (b.tokens > limits_.order_burst) b.tokens = limits_.order_burst;
    }
    b.last_ticks = now_ticks;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

  RejectReason count(RejectReason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    if (i < rejects_.size()) ++rejects_[i];
    return r;
  }

  RiskLimits limits_;
  double ticks_per_second_;
  std::array<VenueBucket, pipeline::kMaxVenues> venue_{};
  std::uint64_t passed_ = 0;
  std::array<std::uint64_t, pipeline::kRejectReasonSlots> rejects_{};
  double msg_rate_ = 0;               // message tokens per tick (0: the bucket is off)
  std::uint64_t max_age_ticks_ = 0;   // 0: off
  std::uint64_t duplicate_ticks_ = 0; // 0: off
  std::array<Recent, kDuplicates> recent_{};
  std::size_t recent_next_ = 0;
  const Totals* totals_ = nullptr;
  struct StrategyBucket {
    double tokens = 0;
    std::uint64_t last = 0;
  };
  std::array<const StrategyLedger*, kMaxStrategyLimits> ledgers_{};
  std::array<StrategyBucket, kMaxStrategyLimits> buckets_{};
  std::array<double, kMaxStrategyLimits> strategy_rate_{};  // tokens per tick (derive())
  std::array<std::int64_t, kMaxStrategyLimits> strategy_pnl_{};
  std::array<std::uint8_t, kMaxStrategyLimits> strategy_tripped_{};
  std::uint8_t reduce_only_ = 0;  // 1: only risk-reducing orders (the breaker is tripped)
  const std::uint8_t* storm_modes_ = nullptr;
  std::size_t storm_locates_ = 0;
  BreakerState breaker_;
  alignas(core::kCacheLine) std::atomic<bool> kill_{false};
  std::atomic<bool> halted_{false};
};

}  // namespace hft::risk
