#include "pipeline/risk/risk.hpp"

#include <gtest/gtest.h>

namespace hft::risk {
namespace {

using pipeline::OrderIntent;
using pipeline::Side;

constexpr double kTicksPerSecond = 1e9;  // tests pass nanoseconds as ticks

OrderIntent order(Side side, Price price, Quantity qty) {
  OrderIntent in{};
  in.side = side;
  in.price = price;
  in.quantity = qty;
  in.locate = 1;
  return in;
}

RiskLimits limits() {
  RiskLimits l;
  l.max_order_quantity = 1000;
  l.max_notional = 50'000 * 10'000ll;  // $50,000
  l.price_band_bps = 100;              // 1%
  l.max_position = 2000;
  l.max_open_orders = 3;
  l.max_orders_per_second = 10;
  l.order_burst = 5;
  return l;
}

TEST(RiskGate, EachLimitRefusesWithItsReason) {
  RiskGate g(limits(), kTicksPerSecond);
  const Price ref = 100 * 10'000;  // $100
  Exposure ex;
  EXPECT_EQ(g.check_new(order(Side::kBuy, ref, 100), ex, ref, 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, ref, 1001), ex, ref, 0, 2), RejectReason::kMaxOrderQuantity);
  EXPECT_EQ(g.check_new(order(Side::kBuy, ref, 0), ex, ref, 0, 3), RejectReason::kMaxOrderQuantity);
  EXPECT_EQ(g.check_new(order(Side::kBuy, 600 * 10'000, 1000), ex, 600 * 10'000, 0, 4), RejectReason::kMaxNotional);
  EXPECT_EQ(g.check_new(order(Side::kBuy, ref + ref / 50, 10), ex, ref, 0, 5), RejectReason::kPriceBand) << "2% away";
  EXPECT_EQ(g.check_new(order(Side::kSell, ref - ref / 200, 10), ex, ref, 0, 6), RejectReason::kNone) << "0.5% away";
  EXPECT_EQ(g.check_new(order(Side::kBuy, ref, 10), ex, 0, 0, 7), RejectReason::kNoReferencePrice);
  ex.position = 1500;
  ex.open_buy = 400;
  EXPECT_EQ(g.check_new(order(Side::kBuy, ref, 200), ex, ref, 0, 8), RejectReason::kPositionLimit);
  EXPECT_EQ(g.check_new(order(Side::kSell, ref, 200), ex, ref, 3, 9), RejectReason::kOpenOrderLimit);
  EXPECT_EQ(g.rejected(RejectReason::kPriceBand), 1u);
  EXPECT_EQ(g.rejected(RejectReason::kMaxOrderQuantity), 2u);
}

TEST(RiskGate, ShortPositionLimit) {
  RiskGate g(limits(), kTicksPerSecond);
  Exposure ex;
  ex.position = -1900;
  ex.open_sell = 50;
  EXPECT_EQ(g.check_new(order(Side::kSell, 1'000'000, 100), ex, 1'000'000, 0, 1), RejectReason::kPositionLimit);
  EXPECT_EQ(g.check_new(order(Side::kSell, 1'000'000, 50), ex, 1'000'000, 0, 2), RejectReason::kNone);
}

TEST(RiskGate, TokenBucketLimitsTheOrderRate) {
  RiskGate g(limits(), kTicksPerSecond);
  Exposure ex;
  int passed = 0;
  for (int i = 0; i < 20; ++i) passed += g.check_new(order(Side::kBuy, 1'000'000, 1), ex, 1'000'000, 0, 1000) == RejectReason::kNone;
  EXPECT_EQ(passed, 5) << "the burst";
  // 10 orders/s: after 0.35 s three more tokens have accrued.
  passed = 0;
  for (int i = 0; i < 20; ++i)
    passed += g.check_new(order(Side::kBuy, 1'000'000, 1), ex, 1'000'000, 0, 1000 + 350'000'000) == RejectReason::kNone;
  EXPECT_EQ(passed, 3);
  EXPECT_GE(g.rejected(RejectReason::kOrderRate), 32u);
}

TEST(RiskGate, KillSwitchAndHaltBlockEverything) {
  RiskGate g(limits(), kTicksPerSecond);
  Exposure ex;
  g.set_kill_switch(true);
  EXPECT_EQ(g.check_new(order(Side::kBuy, 1'000'000, 1), ex, 1'000'000, 0, 1), RejectReason::kKillSwitch);
  g.set_kill_switch(false);
  g.set_halted(true);
  EXPECT_EQ(g.check_new(order(Side::kBuy, 1'000'000, 1), ex, 1'000'000, 0, 2), RejectReason::kHalted);
  g.set_halted(false);
  EXPECT_EQ(g.check_new(order(Side::kBuy, 1'000'000, 1), ex, 1'000'000, 0, 3), RejectReason::kNone);
}

TEST(RiskGate, ReplaceChecksOnlyTheGrowth) {
  RiskGate g(limits(), kTicksPerSecond);
  Exposure ex;
  ex.position = 1900;
  ex.open_buy = 100;  // the order being replaced
  OrderIntent in = order(Side::kBuy, 1'000'000, 100);
  EXPECT_EQ(g.check_replace(in, 100, ex, 1'000'000, 1), RejectReason::kNone) << "same size";
  in.quantity = 150;
  EXPECT_EQ(g.check_replace(in, 100, ex, 1'000'000, 2), RejectReason::kPositionLimit);
}

TEST(RiskGate, LimitsChangeAtRunTime) {
  RiskGate g(limits(), kTicksPerSecond);
  Exposure ex;
  EXPECT_EQ(g.check_new(order(Side::kBuy, 500'000, 900), ex, 500'000, 0, 1), RejectReason::kNone);
  RiskLimits l = limits();
  l.max_order_quantity = 500;
  g.set_limits(l);
  EXPECT_EQ(g.check_new(order(Side::kBuy, 500'000, 900), ex, 500'000, 0, 2), RejectReason::kMaxOrderQuantity);
}

TEST(ReferencePrices, SingleWriterTable) {
  ReferencePrices p(10);
  EXPECT_EQ(p.get(3), 0);
  p.set(3, 123);
  EXPECT_EQ(p.get(3), 123);
  p.set(99, 1);  // out of range: ignored
  EXPECT_EQ(p.get(99), 0);
}

}  // namespace
}  // namespace hft::risk
