// Storm Guard (issue 11): every transition NORMAL -> WARN -> STORM -> HALT and back, with its
// hysteresis and minimum dwell, driven by a volatility burst of the mid (a flash crash and its
// rebound, sampled every 10 ms), the spread, the feed's health, the order entry's and the speed
// of losses; and the gate refusing through its one byte per symbol.
#include "pipeline/risk/storm_guard.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace hft::risk {
namespace {

constexpr std::uint64_t kStep = StormGuard::kEvalIntervalNs;

struct Driven {
  StormGuard g{8};
  RiskLimits l;
  std::map<Locate, Price> mid;
  std::map<Locate, double> spread;
  std::vector<StormTransition> seen;
  std::uint64_t now = 1'000'000'000;
  double feed_ms = 0, entry_ms = 0, loss = 0;
  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      now += kStep;
      g.evaluate(now, l, [&](Locate x) { return mid[x]; }, [&](Locate x) { return spread[x]; }, feed_ms, entry_ms, loss,
                 [&](const StormTransition& t) { seen.push_back(t); });
    }
  }
};

TEST(StormGuard, AFlashCrashDrivesASymbolThroughEveryStateAndBack) {
  Driven r;
  r.l.storm_vol_bps = 100;      // STORM at 100 bps of realized volatility over the window, WARN at 50
  r.l.storm_window_ms = 500;    // 50 samples
  r.l.storm_min_dwell_ms = 200;
  r.l.storm_halt_after_ms = 0;
  r.g.watch(3);
  r.mid[3] = 1'000'000;
  r.tick(60);
  EXPECT_EQ(r.g.symbol_state(3), StormState::kNormal);
  EXPECT_TRUE(r.seen.empty());
  // A 40 bps drop: sqrt(40^2) = 40 < 50: still normal.
  r.mid[3] = 996'000;
  r.tick();
  EXPECT_EQ(r.g.symbol_state(3), StormState::kNormal);
  // A second drop of 40 bps: sqrt(40^2 + 40^2) = 56.6 >= 50: WARN.
  r.mid[3] = 992'016;
  r.tick();
  ASSERT_EQ(r.g.symbol_state(3), StormState::kWarn);
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].cause, StormCause::kVolatility);
  EXPECT_EQ(r.seen[0].locate, 3);
  EXPECT_NEAR(r.seen[0].value, 56.6, 0.1);
  EXPECT_EQ(r.g.modes()[3], 0) << "WARN restricts nothing at the gate";
  // The crash: 5% down in one step: STORM at once (no dwell on the way up).
  r.mid[3] = 942'000;
  r.tick();
  ASSERT_EQ(r.g.symbol_state(3), StormState::kStorm);
  EXPECT_EQ(r.g.modes()[3], 1) << "STORM: only risk-reducing orders";
  EXPECT_EQ(r.g.modes()[4], 0) << "another symbol is not concerned";
  EXPECT_EQ(r.g.global(), StormState::kNormal);
  EXPECT_EQ(r.g.worst(), StormState::kStorm);
  EXPECT_EQ(r.g.published().load(), 2);
  // Quiet again: the burst stays in the window for 50 samples, then STORM steps down one level at
  // a time, each after the minimum dwell.
  r.tick(49);
  EXPECT_EQ(r.g.symbol_state(3), StormState::kStorm) << "the burst is still in the window";
  r.tick(1);
  EXPECT_EQ(r.g.symbol_state(3), StormState::kWarn) << "the crash left the window";
  r.tick(19);
  EXPECT_EQ(r.g.symbol_state(3), StormState::kWarn) << "minimum dwell of 200 ms in WARN";
  r.tick(1);
  EXPECT_EQ(r.g.symbol_state(3), StormState::kNormal);
  EXPECT_EQ(r.g.modes()[3], 0);
}

TEST(StormGuard, HysteresisHoldsAStateUntilTheDriverIsAQuarterBelowItsThreshold) {
  Driven r;
  r.l.storm_spread_bps = 100;  // STORM at 100 bps, WARN at 50
  r.l.storm_min_dwell_ms = 0;
  r.g.watch(2);
  r.mid[2] = 1'000'000;
  r.spread[2] = 50;
  r.tick();
  ASSERT_EQ(r.g.symbol_state(2), StormState::kWarn);
  r.spread[2] = 49.9;  // below WARN's 50, but not by a quarter (40)
  r.tick(5);
  EXPECT_EQ(r.g.symbol_state(2), StormState::kWarn);
  r.spread[2] = 40.1;
  r.tick();
  EXPECT_EQ(r.g.symbol_state(2), StormState::kWarn);
  r.spread[2] = 39.9;
  r.tick();
  EXPECT_EQ(r.g.symbol_state(2), StormState::kNormal);
  ASSERT_EQ(r.seen.size(), 2u);
  EXPECT_EQ(r.seen[1].cause, StormCause::kCalm);
}

TEST(StormGuard, GlobalDriversAndHaltUntilReset) {
  Driven r;
  r.l.storm_feed_gap_ms = 100;
  r.l.storm_ack_timeout_ms = 200;
  r.l.storm_loss_per_minute = 1'000 * 10'000;  // $1,000 a minute
  r.l.storm_halt_after_ms = 300;
  r.l.storm_min_dwell_ms = 0;
  r.g.watch(1);
  // A dropped feed: a gap open 49 ms is normal, 50 ms WARN, 100 ms STORM for everything.
  r.feed_ms = 49;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kNormal);
  r.feed_ms = 50;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kWarn);
  r.feed_ms = 100;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kStorm);
  EXPECT_EQ(r.seen.back().cause, StormCause::kFeed);
  for (Locate x = 0; x < 8; ++x) EXPECT_EQ(r.g.modes()[x], 1) << x;
  // Held 300 ms: HALT, which nothing but the operator leaves.
  r.tick(29);
  EXPECT_EQ(r.g.global(), StormState::kStorm);
  r.tick(1);
  ASSERT_EQ(r.g.global(), StormState::kHalt);
  EXPECT_EQ(r.seen.back().cause, StormCause::kHeldStorm);
  for (Locate x = 0; x < 8; ++x) EXPECT_EQ(r.g.modes()[x], 2) << x;
  r.feed_ms = 0;
  r.tick(100);
  EXPECT_EQ(r.g.global(), StormState::kHalt) << "the feed came back: HALT stays";
  r.g.reset(r.now, [&](const StormTransition& t) { r.seen.push_back(t); });
  EXPECT_EQ(r.g.global(), StormState::kNormal);
  EXPECT_EQ(r.seen.back().cause, StormCause::kReset);
  for (Locate x = 0; x < 8; ++x) EXPECT_EQ(r.g.modes()[x], 0) << x;
  // A venue that stops acknowledging: an order unacknowledged 200 ms is STORM.
  r.entry_ms = 199;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kWarn);
  r.entry_ms = 200;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kStorm);
  EXPECT_EQ(r.seen.back().cause, StormCause::kOrderEntry);
  r.entry_ms = 0;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kWarn);
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kNormal);
  // Losses of $1,000 within a minute.
  r.loss = 1'000;
  r.tick();
  EXPECT_EQ(r.g.global(), StormState::kStorm);
  EXPECT_EQ(r.seen.back().cause, StormCause::kLossSpeed);
}

// The gate reads the symbol's mode: STORM refuses what adds risk, HALT everything.
// Issue 11: the order-entry health window: the reject rate (none below 10 answers) and the p99
// acknowledgement latency (nearest rank) of the answers within the window.
TEST(EntryHealth, RejectRateAndAckP99OverTheWindow) {
  EntryHealth h;
  const std::uint64_t s = 1'000'000'000;
  for (int i = 0; i < 9; ++i) h.record(s + static_cast<std::uint64_t>(i), 1'000'000, true);
  EXPECT_EQ(h.figures(s + 10, 1'000'000'000).reject_pct, 0) << "9 answers: too few for a rate";
  h.record(s + 9, 1'000'000, false);
  EntryHealth::Figures f = h.figures(s + 10, 1'000'000'000);
  EXPECT_EQ(f.answers, 10u);
  EXPECT_DOUBLE_EQ(f.reject_pct, 90.0);
  // 100 answers: 98 at 1 ms, 2 at 50 ms: the p99 (the 99th smallest) is 50 ms; 99 at 1 ms: 1 ms.
  EntryHealth p;
  for (int i = 0; i < 100; ++i) p.record(s + static_cast<std::uint64_t>(i), i < 98 ? 1'000'000 : 50'000'000, false);
  EXPECT_DOUBLE_EQ(p.figures(s + 100, 1'000'000'000).ack_p99_ms, 50.0);
  EntryHealth q;
  for (int i = 0; i < 100; ++i) q.record(s + static_cast<std::uint64_t>(i), i < 99 ? 1'000'000 : 50'000'000, false);
  EXPECT_DOUBLE_EQ(q.figures(s + 100, 1'000'000'000).ack_p99_ms, 1.0);
  // Out of the window: forgotten.
  f = p.figures(s + 3'000'000'000, 1'000'000'000);
  EXPECT_EQ(f.answers, 0u);
  EXPECT_EQ(f.ack_p99_ms, 0);
}

// The two order-entry drivers through every global transition: WARN at half the threshold, STORM
// at it, down one level at a time after the dwell once a quarter below.
TEST(StormGuard, RejectRateAndAckLatencyDrivers) {
  for (const bool rejects : {true, false}) {
    Driven r;
    r.l.storm_min_dwell_ms = 100;
    if (rejects) r.l.storm_reject_rate_pct = 40;
    else r.l.storm_ack_p99_ms = 20;
    const StormCause cause = rejects ? StormCause::kRejectRate : StormCause::kAckLatency;
    auto set = [&](double v) { rejects ? r.g.set_entry_health(v, 0) : r.g.set_entry_health(0, v / 2); };
    set(rejects ? 19.9 : 19.9);  // just under half: normal
    r.tick();
    EXPECT_EQ(r.g.global(), StormState::kNormal) << rejects;
    set(rejects ? 20 : 20);      // half: WARN
    r.tick();
    ASSERT_EQ(r.g.global(), StormState::kWarn) << rejects;
    EXPECT_EQ(r.seen.back().cause, cause);
    set(rejects ? 40 : 40);      // the threshold: STORM
    r.tick();
    ASSERT_EQ(r.g.global(), StormState::kStorm) << rejects;
    EXPECT_EQ(r.g.modes()[5], 1) << "STORM: only risk-reducing orders";
    set(rejects ? 31 : 31);      // x1.25 = 38.75 < 40 but >= 20: down to WARN after the dwell
    r.tick(9);
    EXPECT_EQ(r.g.global(), StormState::kStorm) << "dwell";
    r.tick(2);
    EXPECT_EQ(r.g.global(), StormState::kWarn) << rejects;
    set(rejects ? 17 : 17);      // x1.25 = 21.25 >= 20: stays WARN (hysteresis)
    r.tick(20);
    EXPECT_EQ(r.g.global(), StormState::kWarn) << rejects;
    set(rejects ? 15 : 15);      // x1.25 = 18.75 < 20: NORMAL
    r.tick(20);
    EXPECT_EQ(r.g.global(), StormState::kNormal) << rejects;
    EXPECT_EQ(r.seen.size(), 4u) << rejects;
  }
}

TEST(StormGuard, TheGateRefusesThroughTheSymbolsMode) {
  std::vector<std::uint8_t> modes(8, 0);
  RiskLimits l;
  RiskGate gate(l, 1e9);
  gate.set_storm_modes(modes.data(), modes.size());
  pipeline::OrderIntent in{};
  in.locate = 3;
  in.side = pipeline::Side::kBuy;
  in.price = 1'000'000;
  in.quantity = 100;
  Exposure ex;
  ex.position = -100;  // short 100: a buy of 100 reduces it
  std::uint64_t t = 1;
  EXPECT_EQ(gate.check_new(in, ex, 1'000'000, 0, t += 1'000'000), pipeline::RejectReason::kNone);
  modes[3] = 1;
  EXPECT_EQ(gate.check_new(in, ex, 1'000'000, 0, t += 1'000'000), pipeline::RejectReason::kNone) << "reduces";
  in.quantity = 101;
  EXPECT_EQ(gate.check_new(in, ex, 1'000'000, 0, t += 1'000'000), pipeline::RejectReason::kStormGuard) << "flips";
  in.locate = 4;
  EXPECT_EQ(gate.check_new(in, ex, 1'000'000, 0, t += 1'000'000), pipeline::RejectReason::kNone) << "another symbol";
  in.locate = 3;
  in.quantity = 100;
  modes[3] = 2;
  EXPECT_EQ(gate.check_new(in, ex, 1'000'000, 0, t += 1'000'000), pipeline::RejectReason::kStormGuard) << "HALT";
  EXPECT_EQ(gate.rejected(pipeline::RejectReason::kStormGuard), 2u);
}

}  // namespace
}  // namespace hft::risk
