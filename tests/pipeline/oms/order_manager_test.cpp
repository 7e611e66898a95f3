#include "pipeline/oms/order_manager.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/alloc_counter.hpp"

namespace hft::oms {
namespace {

using pipeline::IntentType;
using pipeline::OrderIntent;
using pipeline::ReportType;

OrderIntent intent(std::uint64_t id, Side side, Price price, Quantity qty, Locate locate = 2) {
  OrderIntent in{};
  in.order_id = id;
  in.side = side;
  in.price = price;
  in.quantity = qty;
  in.locate = locate;
  in.type = IntentType::kNew;
  in.strategy = 1;
  return in;
}

TEST(OrderManager, LifeOfAnOrderWithFillsAndPosition) {
  OrderManager m(16, 8, 1000);
  Order* o = m.open(intent(7, Side::kBuy, 500'000, 300));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->user_ref, 1000u);
  EXPECT_EQ(m.next_user_ref(), 1001u);
  EXPECT_EQ(m.exposure(2).open_buy, 300);
  ExecReport r{};
  ASSERT_TRUE(m.on_accepted(1000, 555, 500'000, 300, r));
  EXPECT_EQ(r.type, ReportType::kAccepted);
  EXPECT_EQ(r.order_id, 7u);
  EXPECT_EQ(r.strategy, 1);
  ASSERT_TRUE(m.on_executed(1000, 100, 499'900, r));
  EXPECT_EQ(r.type, ReportType::kFill);
  EXPECT_EQ(r.quantity, 100u);
  EXPECT_EQ(r.price, 499'900);
  EXPECT_EQ(r.leaves, 200u);
  EXPECT_EQ(m.exposure(2).position, 100);
  EXPECT_EQ(m.exposure(2).open_buy, 200);
  EXPECT_EQ(m.cash(2), -100 * 499'900);
  ASSERT_TRUE(m.on_executed(1000, 200, 500'000, r));
  EXPECT_EQ(r.leaves, 0u);
  EXPECT_EQ(m.open_orders(), 0u);
  EXPECT_EQ(m.by_user_ref(1000), nullptr) << "done orders are forgotten";
  EXPECT_EQ(m.exposure(2).position, 300);
  EXPECT_EQ(m.exposure(2).open_buy, 0);
}

// Realized P&L at average cost: 100 @ 50.00 + 100 @ 51.00 (average 50.50), sell 150 @ 52.00
// realizes 150 x 1.50; selling 100 more @ 49.00 closes the last 50 (-1.50 each) and opens 50 short.
TEST(OrderManager, RealizedPnlAtAverageCost) {
  OrderManager m(16, 8, 1);
  ExecReport r{};
  auto fill = [&](std::uint64_t id, Side side, Price px, Quantity q) {
    Order* o = m.open(intent(id, side, px, q));
    ASSERT_NE(o, nullptr);
    ASSERT_TRUE(m.on_executed(o->user_ref, q, px, r));
  };
  fill(1, Side::kBuy, 500'000, 100);
  fill(2, Side::kBuy, 510'000, 100);
  EXPECT_EQ(m.realized_pnl(2), 0);
  fill(3, Side::kSell, 520'000, 150);
  EXPECT_EQ(m.realized_pnl(2), 150 * 15'000);
  fill(4, Side::kSell, 490'000, 100);
  EXPECT_EQ(m.realized_pnl(2), 150 * 15'000 - 50 * 15'000);
  EXPECT_EQ(m.exposure(2).position, -50);
  fill(5, Side::kBuy, 480'000, 50);  // the short of 50 @ 49.00 closed @ 48.00
  EXPECT_EQ(m.exposure(2).position, 0);
  EXPECT_EQ(m.realized_pnl(2), 150 * 15'000 - 50 * 15'000 + 50 * 10'000);
  EXPECT_EQ(m.realized_pnl(2), m.cash(2)) << "flat: everything is realized";
  EXPECT_TRUE(m.active(2));
  EXPECT_FALSE(m.active(3));
}

// After a recovery the venue's next UserRefNum says which journaled orders never reached it.
TEST(OrderManager, ReconcileClosesOrdersTheVenueNeverReceived) {
  OrderManager m(16, 8, 1);
  Order* a = m.restore_open(intent(1, Side::kBuy, 500'000, 100), 10);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->user_ref, 10u);
  ExecReport r{};
  ASSERT_TRUE(m.on_accepted(10, 1, 500'000, 100, r));
  ASSERT_EQ(m.restore_replace(*a, 501'000, 100, 11), 11u);
  Order* b = m.restore_open(intent(2, Side::kSell, 510'000, 100), 12);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(m.next_user_ref(), 13u);
  std::vector<ExecReport> told;
  EXPECT_EQ(m.reconcile_unsent(11, [&](const ExecReport& x) { told.push_back(x); }), 2u);
  ASSERT_EQ(told.size(), 2u);
  EXPECT_EQ(m.open_orders(), 1u) << "the accepted order stays; the unsent new order is closed";
  EXPECT_EQ(m.by_user_ref(10)->state, OrderState::kLive) << "the unsent replace is dropped";
  EXPECT_EQ(m.exposure(2).open_sell, 0);
  EXPECT_EQ(m.next_user_ref(), 13u) << "numbers are never reused, sent or not";
}

TEST(OrderManager, ReplaceCarriesANewUserRefNumAndMovesExposure) {
  OrderManager m(16, 8, 1);
  Order* o = m.open(intent(9, Side::kSell, 1'000'000, 100));
  ExecReport r{};
  m.on_accepted(o->user_ref, 77, 1'000'000, 100, r);
  const std::uint32_t new_ref = m.begin_replace(*o, 1'000'100, 150, 0);
  EXPECT_EQ(new_ref, 2u);
  ASSERT_TRUE(m.on_replaced(1, 2, 78, 1'000'100, 150, r));
  EXPECT_EQ(r.type, ReportType::kReplaced);
  EXPECT_EQ(r.price, 1'000'100);
  EXPECT_EQ(m.exposure(2).open_sell, 150);
  EXPECT_EQ(m.by_user_ref(1), nullptr) << "the old UserRefNum is retired";
  ASSERT_NE(m.by_user_ref(2), nullptr);
  EXPECT_EQ(m.by_id(9)->user_ref, 2u);
}

TEST(OrderManager, RejectedReplaceKeepsTheOriginal) {
  OrderManager m(16, 8, 1);
  Order* o = m.open(intent(9, Side::kBuy, 1'000'000, 100));
  ExecReport r{};
  m.on_accepted(1, 5, 1'000'000, 100, r);
  m.begin_replace(*o, 990'000, 100, 0);
  ASSERT_TRUE(m.on_rejected(2, 42, r));
  EXPECT_EQ(r.type, ReportType::kRejected);
  EXPECT_EQ(r.venue_code, 42);
  EXPECT_EQ(r.leaves, 100u) << "still working";
  EXPECT_EQ(m.by_id(9)->state, OrderState::kLive);
  EXPECT_EQ(m.open_orders(), 1u);
}

TEST(OrderManager, CancelAndPartialCancel) {
  OrderManager m(16, 8, 1);
  Order* o = m.open(intent(3, Side::kBuy, 1'000'000, 100));
  ExecReport r{};
  m.on_accepted(1, 5, 1'000'000, 100, r);
  m.begin_cancel(*o, 0);
  ASSERT_TRUE(m.on_canceled(1, 40, 'U', r));
  EXPECT_EQ(r.leaves, 60u);
  EXPECT_EQ(m.exposure(2).open_buy, 60);
  ASSERT_TRUE(m.on_canceled(1, 60, 'U', r));
  EXPECT_EQ(r.leaves, 0u);
  EXPECT_EQ(m.open_orders(), 0u);
  EXPECT_EQ(m.exposure(2).open_buy, 0);
}

TEST(OrderManager, VenueRejectOfANewOrder) {
  OrderManager m(16, 8, 1);
  m.open(intent(3, Side::kBuy, 1'000'000, 100));
  ExecReport r{};
  ASSERT_TRUE(m.on_rejected(1, 7, r));
  EXPECT_EQ(r.reason, pipeline::RejectReason::kVenue);
  EXPECT_EQ(m.open_orders(), 0u);
  EXPECT_EQ(m.exposure(2).open_buy, 0);
}

TEST(OrderManager, UnknownRepliesAreCountedNotApplied) {
  OrderManager m(16, 8, 1);
  ExecReport r{};
  EXPECT_FALSE(m.on_executed(99, 10, 1, r));
  EXPECT_FALSE(m.on_canceled(99, 10, 0, r));
  EXPECT_EQ(m.counters().unknown_replies, 2u);
}

// An execution is a fact from the venue: one larger than the order's leaves is booked whole
// (position, cash, filled), open exposure falls by what was open, and the anomaly is counted.
TEST(OrderManager, OverfillIsBookedWholeAndCounted) {
  OrderManager m(16, 8, 1);
  m.open(intent(4, Side::kBuy, 1'000'000, 100));
  ExecReport r{};
  ASSERT_TRUE(m.on_accepted(1, 5, 1'000'000, 100, r));
  ASSERT_TRUE(m.on_executed(1, 150, 1'000'000, r));
  EXPECT_EQ(r.type, ReportType::kFill);
  EXPECT_EQ(r.quantity, 150u) << "the report carries the whole execution";
  EXPECT_EQ(r.leaves, 0u);
  EXPECT_EQ(m.exposure(2).position, 150);
  EXPECT_EQ(m.cash(2), -150 * 1'000'000);
  EXPECT_EQ(m.exposure(2).open_buy, 0) << "open exposure falls by what was open, never below zero";
  EXPECT_EQ(m.counters().filled_shares, 150u);
  EXPECT_EQ(m.counters().overfills, 1u);
  EXPECT_EQ(m.open_orders(), 0u);
}

// A cancel (or a replace to zero) and an execution cross on the wire: the order is closed here
// when the execution arrives. It must still be booked, under the closed order's side and symbol.
TEST(OrderManager, ExecutionOfAClosedOrderIsBookedNotLost) {
  OrderManager m(16, 8, 1);
  Order* o = m.open(intent(6, Side::kSell, 1'000'000, 100));
  ExecReport r{};
  ASSERT_TRUE(m.on_accepted(1, 5, 1'000'000, 100, r));
  m.begin_cancel(*o, 0);
  ASSERT_TRUE(m.on_canceled(1, 100, 'U', r));
  ASSERT_EQ(m.open_orders(), 0u);
  ASSERT_TRUE(m.on_executed(1, 30, 1'000'100, r)) << "an execution for a closed order is not an unknown reply";
  EXPECT_EQ(r.type, ReportType::kFill);
  EXPECT_EQ(r.order_id, 6u);
  EXPECT_EQ(r.strategy, 1);
  EXPECT_EQ(r.side, Side::kSell);
  EXPECT_EQ(r.locate, 2);
  EXPECT_EQ(r.quantity, 30u);
  EXPECT_EQ(r.leaves, 0u);
  EXPECT_EQ(m.exposure(2).position, -30);
  EXPECT_EQ(m.cash(2), 30 * 1'000'100);
  EXPECT_EQ(m.exposure(2).open_sell, 0);
  EXPECT_EQ(m.counters().overfills, 1u);
  EXPECT_EQ(m.counters().unknown_replies, 0u);
  EXPECT_EQ(m.open_orders(), 0u);
}

TEST(OrderManager, FullPoolRefusesAndRecovers) {
  OrderManager m(2, 8, 1);
  EXPECT_NE(m.open(intent(1, Side::kBuy, 1, 1)), nullptr);
  EXPECT_NE(m.open(intent(2, Side::kBuy, 1, 1)), nullptr);
  EXPECT_EQ(m.open(intent(3, Side::kBuy, 1, 1)), nullptr);
  EXPECT_EQ(m.open(intent(2, Side::kBuy, 1, 1)), nullptr) << "duplicate id";
  ExecReport r{};
  m.on_rejected(1, 0, r);
  EXPECT_NE(m.open(intent(3, Side::kBuy, 1, 1)), nullptr);
}

TEST(OrderManager, SteadyStateAllocatesNothing) {
  OrderManager m(1024, 8, 1);
  const hft::testing::AllocationScope scope;
  ExecReport r{};
  for (std::uint64_t i = 1; i <= 100'000; ++i) {
    Order* o = m.open(intent(i, i % 2 ? Side::kBuy : Side::kSell, 1'000'000, 100));
    ASSERT_NE(o, nullptr);
    const std::uint32_t ref = o->user_ref;
    m.on_accepted(ref, i, 1'000'000, 100, r);
    m.on_executed(ref, 100, 1'000'000, r);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(m.open_orders(), 0u);
}

}  // namespace
}  // namespace hft::oms

namespace hft::oms {
namespace {

// Issue 11: the running totals across symbols equal a recomputation from the per-symbol exposure
// after every step of a mixed life (opens on both sides of two symbols, fills, a cancel).
TEST(OrderManager, ExposureTotalsAcrossSymbolsFollowEveryChange) {
  OrderManager m(16, 8, 1000);
  auto check = [&](const char* when) {
    risk::Totals t;
    for (Locate l = 0; l < 8; ++l) {
      const risk::Exposure& e = m.exposure(l);
      t.gross_shares += risk::gross_shares(e.position, e.open_buy, e.open_sell);
      t.net_long += e.position + e.open_buy;
      t.net_short += e.position - e.open_sell;
      t.gross_notional += e.gross_notional;
    }
    EXPECT_EQ(m.totals().gross_shares, t.gross_shares) << when;
    EXPECT_EQ(m.totals().net_long, t.net_long) << when;
    EXPECT_EQ(m.totals().net_short, t.net_short) << when;
    EXPECT_EQ(m.totals().gross_notional, t.gross_notional) << when;
  };
  ExecReport r{};
  ASSERT_NE(m.open(intent(1, Side::kBuy, 500'000, 300, 2)), nullptr);
  ASSERT_NE(m.open(intent(2, Side::kSell, 510'000, 100, 2)), nullptr);
  ASSERT_NE(m.open(intent(3, Side::kSell, 2'000'000, 200, 3)), nullptr);
  check("opened");
  EXPECT_EQ(m.totals().gross_shares, 300 + 200);
  EXPECT_EQ(m.totals().net_long, 300);
  EXPECT_EQ(m.totals().net_short, -100 - 200);
  EXPECT_EQ(m.totals().gross_notional, 300 * 510'000 + 200 * 2'000'000) << "at each symbol's last order price";
  ASSERT_TRUE(m.on_accepted(1000, 1, 500'000, 300, r));
  ASSERT_TRUE(m.on_accepted(1001, 2, 510'000, 100, r));
  ASSERT_TRUE(m.on_accepted(1002, 3, 2'000'000, 200, r));
  ASSERT_TRUE(m.on_executed(1000, 300, 500'000, r));
  check("bought");
  EXPECT_EQ(m.totals().net_long, 300 + 0);
  ASSERT_TRUE(m.on_executed(1002, 50, 2'000'000, r));
  check("sold part");
  ASSERT_TRUE(m.on_canceled(1002, 150, 0, r));
  check("cancelled");
  EXPECT_EQ(m.totals().gross_shares, 300 + 50);
  EXPECT_EQ(m.totals().net_long, 300 - 50);
  EXPECT_EQ(m.totals().net_short, 200 - 50);
}

}  // namespace
}  // namespace hft::oms
