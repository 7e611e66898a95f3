#include "pipeline/oms/order_manager.hpp"

#include <gtest/gtest.h>

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
