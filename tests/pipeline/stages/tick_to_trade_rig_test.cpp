// bench_tick_to_trade's rig (bench/pipeline/tick_to_trade_rig.hpp) on a small day, the fused
// runner's passes on this thread: one order per trigger packet, matched to its packet, byte for
// byte the probe's IOC Enter Order; none without a decision; and the whole path (net stage's
// packet handling, parse, book, strategy, risk, order manager, OUCH, SoupBinTCP, the scripted
// venue's answers) allocates nothing once warm.
#include "bench/pipeline/tick_to_trade_rig.hpp"

#include <gtest/gtest.h>

#include "tests/support/alloc_counter.hpp"

namespace hft::bench::t2t {
namespace {

DayOptions small_day() {
  DayOptions d;
  d.packets = 1500;
  d.warmup = 300;
  d.every = 10;
  d.stocks = 50;
  return d;
}

TEST(TickToTradeRig, OneOrderPerTriggerPacketAndNothingAllocatedOnceWarm) {
  ASSERT_TRUE(hft::testing::counting_active());
  const Day day = make_day(small_day());
  ASSERT_EQ(day.packets.size(), 1500u);
  ASSERT_GT(day.triggers, 100u);
  RigOptions o;
  o.layout = Layout::kInline;
  o.gap_ns = 0;
  Rig rig(day, o);
  rig.run_inline_until(600);  // login, directory, books filling, the first triggers
  hft::testing::AllocationScope scope;
  rig.drive();
  EXPECT_EQ(scope.allocations(), 0u) << "the tick-to-trade path allocated once warm";
  const RigResult r = rig.figures();
  EXPECT_EQ(r.packets, day.packets.size());
  EXPECT_EQ(r.orders, day.triggers);
  EXPECT_EQ(r.unmatched, 0u);
  EXPECT_EQ(r.risk_rejects, 0u) << r.reject_reasons;
  EXPECT_EQ(r.rerequests, 0u);
  // Run to completion (the fused layout): every order left before its packet's other messages.
  EXPECT_EQ(r.orders_in_packet, day.triggers);
  EXPECT_EQ(r.t2t.count, day.triggers);
  EXPECT_EQ(r.pass.count, day.triggers);
  EXPECT_GT(r.t2t.p50, 0u);
  // The last captured send: one SoupBinTCP Unsequenced Data packet with the probe's answer to
  // the last trigger (its add's price; a bid is answered by a sell).
  ASSERT_GE(r.last_order.size(), 3u);
  const std::size_t len = (std::size_t{r.last_order[0]} << 8) | r.last_order[1];
  ASSERT_EQ(len + 2, r.last_order.size());
  EXPECT_EQ(r.last_order[2], 'U');
  ouch::EnterOrder e;
  ASSERT_EQ(ouch::decode(r.last_order.data() + 3, len - 1, e), ouch::DecodeError::kOk);
  const std::uint64_t last = day.triggers - 1;
  EXPECT_EQ(e.symbol, ouch::Symbol::from("ZPROBE"));
  EXPECT_EQ(e.quantity, 1u);
  EXPECT_EQ(e.time_in_force, ouch::TimeInForce::kIoc);
  EXPECT_EQ(e.price, kProbeBasePrice + (last % kProbeIds) * 100);
  EXPECT_EQ(e.side, (last & 1) == 0 ? ouch::Side::kSell : ouch::Side::kBuy);
}

TEST(TickToTradeRig, WithoutRunToCompletionTheOrderWaitsForTheWholePacket) {
  const Day day = make_day(small_day());
  RigOptions o;
  o.layout = Layout::kInline;
  o.gap_ns = 0;
  o.run_to_completion = false;
  Rig rig(day, o);
  const RigResult r = rig.run();
  EXPECT_EQ(r.orders, day.triggers);
  EXPECT_EQ(r.orders_in_packet, 0u);
}

TEST(TickToTradeRig, NoDecisionNoOrder) {
  const Day day = make_day(small_day());
  RigOptions o;
  o.layout = Layout::kInline;
  o.gap_ns = 0;
  o.decide = false;
  Rig rig(day, o);
  const RigResult r = rig.run();
  EXPECT_EQ(r.packets, day.packets.size());
  EXPECT_EQ(r.orders, 0u);
  EXPECT_EQ(r.t2t.count, 0u);
  EXPECT_EQ(r.pass.count, day.triggers);
}

}  // namespace
}  // namespace hft::bench::t2t
