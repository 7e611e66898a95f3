#pragma once
// Storm Guard (issue 11): a state machine NORMAL -> WARN -> STORM -> HALT per watched symbol and
// for the whole book of orders, driven by
//   per symbol: realized volatility of the mid over a rolling window (the root of the sum of the
//               squared returns in bps, sampled at each evaluation), and the spread in bps;
//   global:     feed health (a gap open, or a snapshot recovery under way, this long), order-entry
//               health (the session down, or an order unacknowledged this long: a venue that
//               stops acknowledging) and the speed of losses (the day's P&L now against a minute ago).
// Each driver has a STORM threshold; WARN is at half of it. A state rises at once to the highest
// level any driver asks for; it falls one level at a time, only after the minimum dwell in the
// current state and only when every driver is below its threshold with a 25% margin (hysteresis).
// STORM held for storm_halt_after_ms becomes HALT, which only the operator leaves (`hftctl risk
// reset`). Every transition is an event with its cause and the value that drove it.
//
// Off the per-order path: the risk/egress stage evaluates it on its timer (every kEvalIntervalNs),
// and the gate reads one byte per order, the symbol's effective mode (max of the symbol's state
// and the global one): STORM lets only risk-reducing orders through, HALT none.
// Fixed capacity: kWatched symbols (the first ones the order manager trades), no allocation after
// construction.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pipeline/risk/risk.hpp"

namespace hft::risk {

enum class StormState : std::uint8_t { kNormal = 0, kWarn = 1, kStorm = 2, kHalt = 3 };
inline const char* storm_state_name(StormState s) noexcept {
  switch (s) {
    case StormState::kNormal: return "normal";
    case StormState::kWarn: return "warn";
    case StormState::kStorm: return "storm";
    case StormState::kHalt: return "halt";
  }
  return "?";
}
enum class StormCause : std::uint8_t {
  kNone = 0, kVolatility = 1, kSpread = 2, kFeed = 3, kOrderEntry = 4, kLossSpeed = 5, kHeldStorm = 6, kReset = 7,
  kCalm = 8,  // every driver back below its threshold (a step down)
  kRejectRate = 9,   // the venue's order rejects as a share of its answers over storm_entry_window_ms
  kAckLatency = 10,  // the p99 of the order acknowledgement latency over storm_entry_window_ms
};
inline const char* storm_cause_name(StormCause c) noexcept {
  switch (c) {
    case StormCause::kNone: return "none";
    case StormCause::kVolatility: return "volatility";
    case StormCause::kSpread: return "spread";
    case StormCause::kFeed: return "feed";
    case StormCause::kOrderEntry: return "order_entry";
    case StormCause::kLossSpeed: return "loss_speed";
    case StormCause::kHeldStorm: return "storm_held";
    case StormCause::kReset: return "reset";
    case StormCause::kCalm: return "calm";
    case StormCause::kRejectRate: return "reject_rate";
    case StormCause::kAckLatency: return "ack_p99";
  }
  return "?";
}

// What the other stages tell Storm Guard (written on their threads, read on the egress thread).
struct StormInputs {
  std::atomic<std::uint64_t> feed_gap_since_ns{0};  // monotonic ns a gap (or recovery) opened; 0 = none
};

// Order-entry health over a rolling window (issue 11): the venue's answers to new orders (accepted
// or rejected) with their acknowledgement latency, in a fixed ring of the last kSamples. The
// risk/egress stage records each answer; Storm Guard's evaluation reads the reject rate and the
// p99 latency of the answers within the window. Fewer than kMinSamples answers in the window: no
// rate (0), so that one reject of one order is not 100 %.
class EntryHealth {
 public:
  static constexpr std::size_t kSamples = 256;
  static constexpr std::size_t kMinSamples = 10;
  void record(std::uint64_t now_ns, std::uint64_t latency_ns, bool rejected) noexcept {
    ring_[next_] = Sample{now_ns == 0 ? 1 : now_ns, latency_ns, rejected};
    next_ = (next_ + 1) % kSamples;
  }
  struct Figures {
    std::size_t answers = 0, rejects = 0;
    double reject_pct = 0;   // 0 below kMinSamples answers
    double ack_p99_ms = 0;   // of the accepted and rejected answers in the window (0: none)
  };
  // Over the answers of the last `window_ns` (no allocation: sorts a copy on the stack).
  [[nodiscard]] Figures figures(std::uint64_t now_ns, std::uint64_t window_ns) const noexcept {
    std::array<std::uint64_t, kSamples> lat;
    Figures f;
    for (const Sample& x : ring_) {
      if (x.at == 0 || x.at + window_ns < now_ns) continue;
      lat[f.answers++] = x.latency;
      if (x.rejected) ++f.rejects;
    }
    if (f.answers >= kMinSamples) f.reject_pct = 100.0 * static_cast<double>(f.rejects) / static_cast<double>(f.answers);
    if (f.answers != 0) {
      // Nearest rank: the smallest latency at or above 99 % of the answers.
      const std::size_t rank = (f.answers * 99 + 99) / 100;
      std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(rank - 1), lat.begin() + static_cast<std::ptrdiff_t>(f.answers));
      f.ack_p99_ms = static_cast<double>(lat[rank - 1]) / 1e6;
    }
    return f;
  }
  void clear() noexcept { ring_ = {}; }

 private:
  struct Sample {
    std::uint64_t at = 0, latency = 0;
    bool rejected = false;
  };
  std::array<Sample, kSamples> ring_{};
  std::size_t next_ = 0;
};

// One transition, for the event log (locate 0: global).
struct StormTransition {
  Locate locate;
  StormState from, to;
  StormCause cause;
  double value;      // the driver's value (bps, ms, USD/min)
  double threshold;  // its STORM threshold
};

class StormGuard {
 public:
  static constexpr std::size_t kWatched = 64;
  static constexpr std::size_t kWindowSamples = 128;
  static constexpr std::uint64_t kEvalIntervalNs = 10'000'000;  // 10 ms

  explicit StormGuard(std::size_t locates) : modes_(locates, 0) {}

  [[nodiscard]] bool enabled(const RiskLimits& l) const noexcept {
    return l.storm_vol_bps > 0 || l.storm_spread_bps > 0 || l.storm_feed_gap_ms > 0 || l.storm_ack_timeout_ms > 0 ||
           l.storm_loss_per_minute > 0 || l.storm_reject_rate_pct > 0 || l.storm_ack_p99_ms > 0 ||
           global_ != StormState::kNormal;
  }

  // The effective mode of `locate` for the gate: 0 normal or warn, 1 only risk-reducing, 2 none.
  [[nodiscard]] const std::uint8_t* modes() const noexcept { return modes_.data(); }
  [[nodiscard]] StormState global() const noexcept { return global_; }
  [[nodiscard]] StormState worst() const noexcept { return worst_; }  // the global state or any symbol's
  [[nodiscard]] StormState symbol_state(Locate l) const noexcept {
    for (std::size_t i = 0; i < watched_; ++i)
      if (sym_[i].locate == l) return sym_[i].state;
    return StormState::kNormal;
  }
  // For strategies (any thread): the worst state, published after each evaluation.
  [[nodiscard]] const std::atomic<std::uint8_t>& published() const noexcept { return published_; }

  // Starts watching `locate` (no-op when watched or full).
  void watch(Locate locate) noexcept {
    if (locate == 0 || locate >= modes_.size()) return;
    for (std::size_t i = 0; i < watched_; ++i)
      if (sym_[i].locate == locate) return;
    if (watched_ == kWatched) return;
    sym_[watched_] = Symbol{};
    sym_[watched_].locate = locate;
    ++watched_;
  }

  // The order-entry health figures for the next evaluate() (EntryHealth::figures over
  // storm_entry_window_ms, measured by the caller): the reject rate in percent and the p99
  // acknowledgement latency in ms.
  void set_entry_health(double reject_pct, double ack_p99_ms) noexcept {
    reject_pct_ = reject_pct;
    ack_p99_ms_ = ack_p99_ms;
  }

  // One evaluation. `mid(locate)` and `spread_bps(locate)` from the market table; `feed_gap_ms`,
  // `order_entry_ms` (the session down: a value at the threshold; else the oldest unacknowledged
  // order's age) and `loss_per_minute` (USD) measured by the caller. Calls `on(transition)` for each.
  template <class Mid, class Spread, class On>
  void evaluate(std::uint64_t now_ns, const RiskLimits& l, Mid&& mid, Spread&& spread_bps, double feed_gap_ms,
                double order_entry_ms, double loss_per_minute, On&& on) noexcept {
    const std::uint64_t dwell = static_cast<std::uint64_t>(l.storm_min_dwell_ms) * 1'000'000;
    const std::size_t window = window_samples(l);
    StormState worst = StormState::kNormal;
    bool modes_dirty = false;
    // Global drivers.
    {
      Drive d;
      d.consider(feed_gap_ms, static_cast<double>(l.storm_feed_gap_ms), StormCause::kFeed);
      d.consider(order_entry_ms, static_cast<double>(l.storm_ack_timeout_ms), StormCause::kOrderEntry);
      d.consider(loss_per_minute, static_cast<double>(l.storm_loss_per_minute) / 1e4, StormCause::kLossSpeed);
      d.consider(reject_pct_, l.storm_reject_rate_pct, StormCause::kRejectRate);
      d.consider(ack_p99_ms_, l.storm_ack_p99_ms, StormCause::kAckLatency);
      if (step(global_, global_since_, storm_since_global_, d, now_ns, dwell, l, 0, on)) modes_dirty = true;
      worst = global_;
    }
    for (std::size_t i = 0; i < watched_; ++i) {
      Symbol& s = sym_[i];
      const Price m = mid(s.locate);
      Drive d;
      if (l.storm_vol_bps > 0 && m > 0) {
        if (s.next >= window) s.next = 0;  // the window shrank at run time
        if (s.prev_mid > 0) {
          const double r = static_cast<double>(m - s.prev_mid) * 1e4 / static_cast<double>(s.prev_mid);
          s.sum -= s.r2[s.next];
          s.r2[s.next] = r * r;
          s.sum += r * r;
          s.next = (s.next + 1) % window;
          if (s.sum < 0) s.sum = 0;
        }
        s.prev_mid = m;
        d.consider(std::sqrt(s.sum), l.storm_vol_bps, StormCause::kVolatility);
      }
      if (l.storm_spread_bps > 0) d.consider(spread_bps(s.locate), l.storm_spread_bps, StormCause::kSpread);
      if (step(s.state, s.since, s.storm_since, d, now_ns, dwell, l, s.locate, on)) modes_dirty = true;
      if (s.state > worst) worst = s.state;
    }
    // STORM anywhere held for storm_halt_after_ms: HALT, for everything.
    if (worst == StormState::kStorm && l.storm_halt_after_ms > 0) {
      if (storm_anywhere_since_ == 0) storm_anywhere_since_ = now_ns;
      else if (now_ns - storm_anywhere_since_ >= static_cast<std::uint64_t>(l.storm_halt_after_ms) * 1'000'000) {
        on(StormTransition{0, global_, StormState::kHalt, StormCause::kHeldStorm,
                           static_cast<double>(now_ns - storm_anywhere_since_) / 1e6, static_cast<double>(l.storm_halt_after_ms)});
        global_ = StormState::kHalt;
        global_since_ = now_ns;
        worst = StormState::kHalt;
        modes_dirty = true;
      }
    } else if (worst < StormState::kStorm) {
      storm_anywhere_since_ = 0;
    }
    worst_ = worst;
    if (modes_dirty) rebuild_modes();
    published_.store(static_cast<std::uint8_t>(worst), std::memory_order_relaxed);
  }

  // `hftctl risk reset`: everything back to NORMAL (the windows start again).
  template <class On>
  void reset(std::uint64_t now_ns, On&& on) noexcept {
    if (global_ != StormState::kNormal) on(StormTransition{0, global_, StormState::kNormal, StormCause::kReset, 0, 0});
    global_ = StormState::kNormal;
    global_since_ = now_ns;
    storm_since_global_ = storm_anywhere_since_ = 0;
    for (std::size_t i = 0; i < watched_; ++i) {
      Symbol& s = sym_[i];
      if (s.state != StormState::kNormal) on(StormTransition{s.locate, s.state, StormState::kNormal, StormCause::kReset, 0, 0});
      const Locate l = s.locate;
      s = Symbol{};
      s.locate = l;
      s.since = now_ns;
    }
    worst_ = StormState::kNormal;
    rebuild_modes();
    published_.store(0, std::memory_order_relaxed);
  }
  // A restart found HALT in the journal.
  void restore_halt(std::uint64_t now_ns) noexcept {
    global_ = worst_ = StormState::kHalt;
    global_since_ = now_ns;
    rebuild_modes();
    published_.store(static_cast<std::uint8_t>(StormState::kHalt), std::memory_order_relaxed);
  }

 private:
  struct Drive {
    StormState level = StormState::kNormal;  // what the drivers ask for now
    StormState calm = StormState::kNormal;   // the same with the 25% margin (for stepping down)
    StormCause cause = StormCause::kNone;
    double value = 0, threshold = 0;
    void consider(double v, double storm, StormCause c) noexcept {
      if (storm <= 0) return;
      const StormState at = v >= storm ? StormState::kStorm : v >= storm / 2 ? StormState::kWarn : StormState::kNormal;
      const double m = v * 1.25;
      const StormState margin = m >= storm ? StormState::kStorm : m >= storm / 2 ? StormState::kWarn : StormState::kNormal;
      if (at > level || (cause == StormCause::kNone && at == level)) {
        level = at;
        cause = c;
        value = v;
        threshold = storm;
      }
      if (margin > calm) calm = margin;
    }
  };

  // One state's step; true when it changed.
  template <class On>
  static bool step(StormState& state, std::uint64_t& since, std::uint64_t& storm_since, const Drive& d, std::uint64_t now,
                   std::uint64_t dwell, const RiskLimits&, Locate locate, On&& on) noexcept {
    (void)storm_since;
    if (state == StormState::kHalt) return false;  // only the operator leaves HALT
    if (d.level > state) {
      on(StormTransition{locate, state, d.level, d.cause, d.value, d.threshold});
      state = d.level;
      since = now;
      return true;
    }
    if (state != StormState::kNormal && d.calm < state && now - since >= dwell) {
      const auto to = static_cast<StormState>(static_cast<std::uint8_t>(state) - 1);
      on(StormTransition{locate, state, to, StormCause::kCalm, d.value, d.threshold});
      state = to;
      since = now;
      return true;
    }
    return false;
  }

  static std::size_t window_samples(const RiskLimits& l) noexcept {
    const std::uint64_t n = static_cast<std::uint64_t>(l.storm_window_ms) * 1'000'000 / kEvalIntervalNs;
    return n < 2 ? 2 : n > kWindowSamples ? kWindowSamples : static_cast<std::size_t>(n);
  }

  static std::uint8_t mode_of(StormState s) noexcept {
    return s == StormState::kHalt ? 2 : s == StormState::kStorm ? 1 : 0;
  }
  void rebuild_modes() noexcept {
    const std::uint8_t g = mode_of(global_);
    for (auto& m : modes_) m = g;
    for (std::size_t i = 0; i < watched_; ++i) {
      const std::uint8_t s = mode_of(sym_[i].state);
      if (s > modes_[sym_[i].locate]) modes_[sym_[i].locate] = s;
    }
  }

  struct Symbol {
    Locate locate = 0;
    StormState state = StormState::kNormal;
    std::uint64_t since = 0, storm_since = 0;
    Price prev_mid = 0;
    std::array<double, kWindowSamples> r2{};
    double sum = 0;
    std::size_t next = 0;
  };
  std::vector<std::uint8_t> modes_;
  std::array<Symbol, kWatched> sym_{};
  std::size_t watched_ = 0;
  StormState global_ = StormState::kNormal, worst_ = StormState::kNormal;
  std::uint64_t global_since_ = 0, storm_since_global_ = 0, storm_anywhere_since_ = 0;
  std::atomic<std::uint8_t> published_{0};
  double reject_pct_ = 0, ack_p99_ms_ = 0;
};

}  // namespace hft::risk
