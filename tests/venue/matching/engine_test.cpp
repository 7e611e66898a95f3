// Behaviour of hft::match::Engine, one feature at a time: every event of a scenario is checked,
// not only the final book.
#include "venue/matching/engine.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/venue/matching/recorder.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::match {
namespace {

using testing::Recorder;

constexpr SymbolIndex kSym = 3;

class EngineTest : public ::testing::Test {
 protected:
  void make(SmpPolicy policy = SmpPolicy::kCancelResting, std::uint32_t max_orders = 1024, std::uint32_t max_levels = 256,
            std::uint32_t levels_per_side = 64) {
    EngineConfig cfg;
    cfg.max_orders = max_orders;
    cfg.max_levels = max_levels;
    cfg.max_symbols = 8;
    cfg.smp_policy = policy;
    eng_ = std::make_unique<Engine<Recorder>>(cfg, rec_);
    SymbolConfig sc;
    sc.name = itch::Symbol::from("AAPL");
    sc.max_levels_per_side = levels_per_side;
    eng_->add_symbol(kSym, sc);
  }
  void SetUp() override { make(); }

  SubmitResult limit(Side side, Qty qty, Price px, TimeInForce tif = TimeInForce::kDay, OwnerId owner = 1,
                     SmpGroup smp = 0) {
    NewOrder o;
    o.symbol = kSym;
    o.side = side;
    o.type = OrderType::kLimit;
    o.tif = tif;
    o.quantity = qty;
    o.price = px;
    o.owner = owner;
    o.user_ref = ++user_ref_;
    o.smp_group = smp;
    return eng_->submit(o);
  }
  SubmitResult submit(NewOrder o) {
    o.symbol = kSym;
    if (o.user_ref == 0) o.user_ref = ++user_ref_;
    if (o.owner == 0) o.owner = 1;
    return eng_->submit(o);
  }
  std::vector<DepthLevel> depth(Side s) {
    std::vector<DepthLevel> d(16);
    d.resize(eng_->depth(kSym, s, d));
    return d;
  }
  std::vector<OrderRef> queue() {
    std::vector<OrderRef> refs;
    eng_->for_each_resting(kSym, [&](const OrderView& v) { refs.push_back(v.ref); });
    return refs;
  }

  Recorder rec_;
  std::unique_ptr<Engine<Recorder>> eng_;
  UserRef user_ref_ = 0;
};

TEST_F(EngineTest, LimitOrderRestsAndIsReported) {
  const SubmitResult r = limit(Side::kBuy, 100, 10'0000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(rec_.events.size(), 2u);
  const Accepted a = std::get<Accepted>(rec_.events[0]);
  EXPECT_EQ(a.ref, r.ref);
  EXPECT_EQ(a.quantity, 100u);
  EXPECT_EQ(a.price, 10'0000);
  EXPECT_EQ(a.user_ref, 1u);
  const BookAdded b = std::get<BookAdded>(rec_.events[1]);
  EXPECT_EQ(b.ref, r.ref);
  EXPECT_EQ(b.displayed, 100u);
  EXPECT_EQ(b.side, Side::kBuy);
  EXPECT_EQ(depth(Side::kBuy), (std::vector<DepthLevel>{{10'0000, 100, 1}}));
  EXPECT_TRUE(depth(Side::kSell).empty());
  const auto v = eng_->find(r.ref);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->leaves, 100u);
  EXPECT_EQ(v->status, OrderStatus::kResting);
}

TEST_F(EngineTest, PriceTimePriorityAcrossAndWithinLevels) {
  const auto s1 = limit(Side::kSell, 100, 10'0100);  // worse price, first in time
  const auto s2 = limit(Side::kSell, 50, 10'0000);
  const auto s3 = limit(Side::kSell, 70, 10'0000);   // same price, later
  rec_.clear();
  const auto b = limit(Side::kBuy, 200, 10'0100);
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].resting_ref, s2.ref);
  EXPECT_EQ(ex[0].quantity, 50u);
  EXPECT_EQ(ex[0].price, 10'0000);  // the resting order's price, not the aggressor's
  EXPECT_EQ(ex[1].resting_ref, s3.ref);
  EXPECT_EQ(ex[1].quantity, 70u);
  EXPECT_EQ(ex[2].resting_ref, s1.ref);
  EXPECT_EQ(ex[2].quantity, 80u);  // partial fill of the resting order
  EXPECT_EQ(ex[2].resting_leaves, 20u);
  EXPECT_EQ(ex[2].incoming_leaves, 0u);
  EXPECT_EQ(ex[0].incoming_ref, b.ref);
  EXPECT_EQ(ex[1].match, ex[0].match + 1);
  EXPECT_EQ(ex[2].match, ex[1].match + 1);
  EXPECT_TRUE(ex[0].resting_displayed);
  EXPECT_EQ(resting_liquidity_flag(ex[0]), 'A');
  EXPECT_EQ(incoming_liquidity_flag(ex[0]), 'R');
  EXPECT_EQ(rec_.count<BookAdded>(), 0u);  // filled in full: nothing rests
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0100, 20, 1}}));
  EXPECT_EQ(eng_->last_trade(kSym), 10'0100);
  EXPECT_FALSE(eng_->find(s2.ref).has_value());
  EXPECT_EQ(eng_->find(s1.ref)->executed, 80u);
}

TEST_F(EngineTest, PartialFillRestsTheRemainder) {
  limit(Side::kSell, 30, 10'0000);
  rec_.clear();
  const auto b = limit(Side::kBuy, 100, 10'0500);
  ASSERT_EQ(rec_.count<Execution>(), 1u);
  const auto added = rec_.all<BookAdded>();
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].ref, b.ref);
  EXPECT_EQ(added[0].displayed, 70u);
  EXPECT_EQ(added[0].price, 10'0500);
  EXPECT_EQ(depth(Side::kBuy), (std::vector<DepthLevel>{{10'0500, 70, 1}}));
  EXPECT_TRUE(depth(Side::kSell).empty());
}

TEST_F(EngineTest, MarketOrderSweepsAndCancelsItsRest) {
  limit(Side::kBuy, 10, 9'9900);
  limit(Side::kBuy, 10, 9'9800);
  rec_.clear();
  NewOrder m;
  m.side = Side::kSell;
  m.type = OrderType::kMarket;
  m.quantity = 25;
  const auto r = submit(m);
  ASSERT_TRUE(r.ok());
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].price, 9'9900);
  EXPECT_EQ(ex[1].price, 9'9800);
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ref, r.ref);
  EXPECT_EQ(c[0].canceled, 5u);
  EXPECT_EQ(c[0].reason, CancelReason::kMarketRemainder);
  EXPECT_FALSE(c[0].on_book);
  EXPECT_TRUE(depth(Side::kBuy).empty());
}

TEST_F(EngineTest, MarketOrderAgainstEmptyBookIsCancelled) {
  NewOrder m;
  m.side = Side::kBuy;
  m.type = OrderType::kMarket;
  m.quantity = 100;
  const auto r = submit(m);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(rec_.events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<Accepted>(rec_.events[0]));
  const Canceled c = std::get<Canceled>(rec_.events[1]);
  EXPECT_EQ(c.reason, CancelReason::kMarketRemainder);
  EXPECT_EQ(c.canceled, 100u);
  EXPECT_EQ(c.leaves, 0u);
  EXPECT_EQ(ouch_cancel_reason(c.reason), 'I');
  EXPECT_FALSE(eng_->find(r.ref).has_value());
  EXPECT_EQ(eng_->live_orders(), 0u);
}

TEST_F(EngineTest, IocCancelsWhatDoesNotFill) {
  limit(Side::kSell, 40, 10'0000);
  rec_.clear();
  const auto r = limit(Side::kBuy, 100, 10'0000, TimeInForce::kIoc);
  ASSERT_EQ(rec_.count<Execution>(), 1u);
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ref, r.ref);
  EXPECT_EQ(c[0].canceled, 60u);
  EXPECT_EQ(c[0].reason, CancelReason::kImmediateOrCancel);
  EXPECT_EQ(rec_.count<BookAdded>(), 0u);
  // Not marketable at all: accepted and cancelled, the book untouched.
  rec_.clear();
  limit(Side::kBuy, 10, 9'0000, TimeInForce::kIoc);
  EXPECT_EQ(rec_.count<Canceled>(), 1u);
  EXPECT_TRUE(depth(Side::kBuy).empty());
}

TEST_F(EngineTest, FillOrKillIsAllOrNothing) {
  limit(Side::kSell, 40, 10'0000);
  limit(Side::kSell, 40, 10'0100);
  rec_.clear();
  const auto k = limit(Side::kBuy, 81, 10'0100, TimeInForce::kFok);  // 80 available
  EXPECT_EQ(rec_.count<Execution>(), 0u);
  auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ref, k.ref);
  EXPECT_EQ(c[0].reason, CancelReason::kFillOrKill);
  EXPECT_EQ(c[0].canceled, 81u);
  EXPECT_EQ(depth(Side::kSell).size(), 2u);
  // Limit price excludes the second level.
  rec_.clear();
  limit(Side::kBuy, 50, 10'0000, TimeInForce::kFok);
  EXPECT_EQ(rec_.count<Execution>(), 0u);
  EXPECT_EQ(rec_.count<Canceled>(), 1u);
  // Exactly enough across two levels.
  rec_.clear();
  limit(Side::kBuy, 80, 10'0100, TimeInForce::kFok);
  EXPECT_EQ(rec_.count<Execution>(), 2u);
  EXPECT_EQ(rec_.count<Canceled>(), 0u);
  EXPECT_TRUE(depth(Side::kSell).empty());
}

TEST_F(EngineTest, PostOnlyRestsOrIsCancelledWithoutTouchingTheBook) {
  limit(Side::kSell, 40, 10'0000);
  rec_.clear();
  const auto ok = limit(Side::kBuy, 10, 9'9900, TimeInForce::kGtx);
  EXPECT_EQ(rec_.count<BookAdded>(), 1u);
  rec_.clear();
  const auto cross = limit(Side::kBuy, 10, 10'0000, TimeInForce::kGtx);
  ASSERT_TRUE(cross.ok());
  ASSERT_EQ(rec_.events.size(), 2u);
  const Canceled c = std::get<Canceled>(rec_.events[1]);
  EXPECT_EQ(c.reason, CancelReason::kPostOnly);
  EXPECT_EQ(ouch_cancel_reason(c.reason), 'G');
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0000, 40, 1}}));
  // A replace that would cross is refused; the order stays as it was.
  rec_.clear();
  ReplaceOrder rp{1, ok.ref, 99, 10, 10'0000};
  EXPECT_EQ(eng_->replace(rp).reason, RejectReason::kPostOnlyWouldCross);
  EXPECT_EQ(eng_->find(ok.ref)->price, 9'9900);
  // Post-only on a market order or with MinQty is invalid.
  NewOrder m;
  m.side = Side::kBuy;
  m.type = OrderType::kMarket;
  m.tif = TimeInForce::kGtx;
  m.quantity = 1;
  EXPECT_EQ(submit(m).reason, RejectReason::kInvalidTimeInForce);
}

TEST_F(EngineTest, MinQtyExecutesOnlyWhenEnoughFillsAtOnce) {
  limit(Side::kSell, 30, 10'0000);
  limit(Side::kSell, 30, 10'0200);
  rec_.clear();
  NewOrder o;
  o.side = Side::kBuy;
  o.quantity = 100;
  o.price = 10'0100;
  o.min_quantity = 31;  // only 30 at or below 10.01
  const auto no = submit(o);
  EXPECT_EQ(rec_.count<Execution>(), 0u);
  auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ref, no.ref);
  EXPECT_EQ(c[0].reason, CancelReason::kMinQtyNotMet);
  EXPECT_EQ(c[0].canceled, 100u);
  rec_.clear();
  o.min_quantity = 30;
  const auto yes = submit(o);
  EXPECT_EQ(rec_.count<Execution>(), 1u);
  const auto added = rec_.all<BookAdded>();  // MinQty binds on entry only: the rest rests
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].ref, yes.ref);
  EXPECT_EQ(added[0].displayed, 70u);
  o.min_quantity = 101;
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidMinQty);
}

TEST_F(EngineTest, ReserveOrderShowsItsSliceAndRefreshesToTheBack) {
  NewOrder ice;
  ice.side = Side::kSell;
  ice.quantity = 250;
  ice.price = 10'0000;
  ice.display_quantity = 100;
  const auto i = submit(ice);
  const auto other = limit(Side::kSell, 50, 10'0000);
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0000, 150, 2}}));
  ASSERT_EQ(rec_.all<BookAdded>()[0].displayed, 100u);
  EXPECT_EQ(rec_.all<BookAdded>()[0].leaves, 250u);
  rec_.clear();
  limit(Side::kBuy, 100, 10'0000, TimeInForce::kIoc);  // takes exactly the slice
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].resting_ref, i.ref);
  EXPECT_EQ(ex[0].resting_leaves, 150u);
  const auto rf = rec_.all<Refreshed>();
  ASSERT_EQ(rf.size(), 1u);
  EXPECT_EQ(rf[0].old_ref, i.ref);
  EXPECT_NE(rf[0].new_ref, i.ref);
  EXPECT_EQ(rf[0].displayed, 100u);
  EXPECT_EQ(rf[0].leaves, 150u);
  EXPECT_FALSE(eng_->find(i.ref).has_value());  // the old ref is superseded
  EXPECT_EQ(queue(), (std::vector<OrderRef>{other.ref, rf[0].new_ref}));  // behind `other` now
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0000, 150, 2}}));

  // A large order walks the queue: other (50), then the slice (100), then the last 50 refreshed.
  rec_.clear();
  limit(Side::kBuy, 300, 10'0000, TimeInForce::kIoc);
  const auto ex2 = rec_.all<Execution>();
  ASSERT_EQ(ex2.size(), 3u);
  EXPECT_EQ(ex2[0].resting_ref, other.ref);
  EXPECT_EQ(ex2[1].resting_ref, rf[0].new_ref);
  EXPECT_EQ(ex2[1].quantity, 100u);
  const auto rf2 = rec_.all<Refreshed>();
  ASSERT_EQ(rf2.size(), 1u);
  EXPECT_EQ(rf2[0].displayed, 50u);
  EXPECT_EQ(ex2[2].resting_ref, rf2[0].new_ref);
  EXPECT_EQ(ex2[2].quantity, 50u);
  EXPECT_EQ(rec_.all<Canceled>()[0].canceled, 100u);  // IOC rest
  EXPECT_TRUE(depth(Side::kSell).empty());
  EXPECT_EQ(eng_->live_orders(), 0u);
}

TEST_F(EngineTest, HiddenOrdersTradeAfterDisplayedOnesAndStayOutOfDepth) {
  NewOrder h;
  h.side = Side::kSell;
  h.quantity = 100;
  h.price = 10'0000;
  h.hidden = true;
  const auto hid = submit(h);
  const auto shown = limit(Side::kSell, 10, 10'0000);
  EXPECT_EQ(rec_.all<BookAdded>()[0].displayed, 0u);
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0000, 10, 1}}));
  rec_.clear();
  limit(Side::kBuy, 30, 10'0000);
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].resting_ref, shown.ref);  // displayed first, although later in time
  EXPECT_TRUE(ex[0].resting_displayed);
  EXPECT_EQ(ex[1].resting_ref, hid.ref);
  EXPECT_FALSE(ex[1].resting_displayed);    // ITCH 'P'
  EXPECT_EQ(resting_liquidity_flag(ex[1]), 'J');
  EXPECT_TRUE(depth(Side::kSell).empty());  // only hidden shares left
  const BookDump d = eng_->dump(kSym);
  EXPECT_TRUE(d.asks.empty());
  EXPECT_EQ(d.hidden_orders, 1u);
  EXPECT_EQ(d.hidden_shares, 80u);
  NewOrder bad = h;
  bad.display_quantity = 10;
  EXPECT_EQ(submit(bad).reason, RejectReason::kInvalidDisplay);
}

TEST_F(EngineTest, StopIsHeldUntilTheLastTradeReachesIt) {
  NewOrder st;
  st.side = Side::kBuy;
  st.type = OrderType::kStop;
  st.quantity = 20;
  st.stop_price = 10'0500;
  const auto s = submit(st);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(eng_->find(s.ref)->status, OrderStatus::kStopHeld);
  EXPECT_TRUE(depth(Side::kBuy).empty());  // off-book
  limit(Side::kSell, 100, 10'0400);
  limit(Side::kSell, 100, 10'0600);
  rec_.clear();
  limit(Side::kBuy, 10, 10'0400);  // trade at 10.04: below the stop
  EXPECT_EQ(rec_.count<StopTriggered>(), 0u);
  rec_.clear();
  limit(Side::kBuy, 90, 10'0400);  // empties 10.04
  EXPECT_EQ(rec_.count<StopTriggered>(), 0u);
  rec_.clear();
  limit(Side::kBuy, 10, 10'0600);  // trade at 10.06 >= 10.05: triggers
  const auto t = rec_.all<StopTriggered>();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].ref, s.ref);
  EXPECT_EQ(t[0].becomes, OrderType::kMarket);
  EXPECT_EQ(t[0].last_trade, 10'0600);
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[1].incoming_ref, s.ref);  // the stop, now a market order, executes under its ref
  EXPECT_EQ(ex[1].quantity, 20u);
  EXPECT_FALSE(eng_->find(s.ref).has_value());
}

TEST_F(EngineTest, StopLimitBecomesALimitOrderAndRests) {
  limit(Side::kBuy, 10, 10'0000);
  limit(Side::kSell, 10, 10'0000);  // trade at 10.00
  rec_.clear();
  NewOrder st;
  st.side = Side::kSell;
  st.type = OrderType::kStopLimit;
  st.quantity = 20;
  st.stop_price = 10'0000;  // already reached: triggers on entry
  st.price = 9'9000;
  const auto s = submit(st);
  ASSERT_EQ(rec_.count<StopTriggered>(), 1u);
  EXPECT_EQ(rec_.all<StopTriggered>()[0].becomes, OrderType::kLimit);
  const auto added = rec_.all<BookAdded>();
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].ref, s.ref);
  EXPECT_EQ(added[0].price, 9'9000);
  EXPECT_EQ(eng_->find(s.ref)->type, OrderType::kLimit);
}

TEST_F(EngineTest, StopsCascadeInTriggerPriority) {
  // Resting sells at rising prices; buy stops whose executions walk the price up.
  limit(Side::kSell, 10, 10'0000);
  limit(Side::kSell, 10, 10'0100);
  limit(Side::kSell, 10, 10'0200);
  limit(Side::kSell, 10, 10'0300);
  auto stop = [&](Price sp, Qty q) {
    NewOrder st;
    st.side = Side::kBuy;
    st.type = OrderType::kStop;
    st.quantity = q;
    st.stop_price = sp;
    return submit(st);
  };
  const auto s3 = stop(10'0200, 10);  // entered first, triggers later
  const auto s1 = stop(10'0000, 10);
  const auto s2 = stop(10'0100, 10);
  NewOrder sell_stop;  // a sell stop far below: never triggered here
  sell_stop.side = Side::kSell;
  sell_stop.type = OrderType::kStop;
  sell_stop.quantity = 5;
  sell_stop.stop_price = 9'0000;
  const auto ss = submit(sell_stop);
  rec_.clear();
  limit(Side::kBuy, 10, 10'0000);  // trade at 10.00 -> s1 -> 10.01 -> s2 -> 10.02 -> s3 -> 10.03
  const auto t = rec_.all<StopTriggered>();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].ref, s1.ref);
  EXPECT_EQ(t[1].ref, s2.ref);
  EXPECT_EQ(t[2].ref, s3.ref);
  EXPECT_EQ(t[2].last_trade, 10'0200);
  EXPECT_EQ(eng_->last_trade(kSym), 10'0300);
  EXPECT_TRUE(depth(Side::kSell).empty());
  EXPECT_EQ(eng_->find(ss.ref)->status, OrderStatus::kStopHeld);
}

TEST_F(EngineTest, StopsCanBeCancelledAndReducedButNotReplaced) {
  NewOrder st;
  st.side = Side::kSell;
  st.type = OrderType::kStopLimit;
  st.quantity = 50;
  st.stop_price = 9'0000;
  st.price = 8'9000;
  const auto s = submit(st);
  rec_.clear();
  EXPECT_EQ(eng_->cancel(1, s.ref, 20), RejectReason::kNone);
  auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].on_book);
  EXPECT_EQ(c[0].canceled, 30u);
  EXPECT_EQ(eng_->find(s.ref)->leaves, 20u);
  EXPECT_EQ(eng_->replace(ReplaceOrder{1, s.ref, 77, 10, 8'9000}).reason, RejectReason::kReplaceNotAllowed);
  EXPECT_EQ(eng_->cancel(1, s.ref), RejectReason::kNone);
  EXPECT_FALSE(eng_->find(s.ref).has_value());
  EXPECT_EQ(eng_->dump(kSym).held_stops, 0u);
  // Invalid stop price.
  st.stop_price = 0;
  EXPECT_EQ(submit(st).reason, RejectReason::kInvalidStopPrice);
}

TEST_F(EngineTest, CancelAndCancelReduceKeepPriority) {
  const auto a = limit(Side::kBuy, 100, 10'0000);
  const auto b = limit(Side::kBuy, 100, 10'0000);
  rec_.clear();
  EXPECT_EQ(eng_->cancel(1, a.ref, 40), RejectReason::kNone);
  auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].on_book);
  EXPECT_EQ(c[0].canceled, 60u);
  EXPECT_EQ(c[0].leaves, 40u);
  EXPECT_EQ(c[0].displayed_decrement, 60u);
  EXPECT_EQ(c[0].reason, CancelReason::kUser);
  EXPECT_EQ(depth(Side::kBuy), (std::vector<DepthLevel>{{10'0000, 140, 2}}));
  rec_.clear();
  limit(Side::kSell, 50, 10'0000);
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].resting_ref, a.ref);  // still first
  EXPECT_EQ(ex[0].quantity, 40u);
  EXPECT_EQ(ex[1].resting_ref, b.ref);
  // Full cancel.
  rec_.clear();
  EXPECT_EQ(eng_->cancel(1, b.ref), RejectReason::kNone);
  c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].leaves, 0u);
  EXPECT_EQ(c[0].canceled, 90u);
  EXPECT_TRUE(depth(Side::kBuy).empty());
  EXPECT_EQ(eng_->live_levels(), 0u);
  // Rejections: gone, not below the open quantity, another owner.
  EXPECT_EQ(eng_->cancel(1, b.ref), RejectReason::kUnknownOrder);
  const auto d = limit(Side::kBuy, 10, 10'0000);
  EXPECT_EQ(eng_->cancel(1, d.ref, 10), RejectReason::kInvalidQuantity);
  EXPECT_EQ(eng_->cancel(2, d.ref), RejectReason::kNotOwner);
  EXPECT_EQ(eng_->cancel(1, 0), RejectReason::kUnknownOrder);
  EXPECT_EQ(eng_->cancel(1, ~OrderRef{0}), RejectReason::kUnknownOrder);
  EXPECT_EQ(rec_.all<Rejected>().back().kind, RequestKind::kCancel);
}

TEST_F(EngineTest, CancelReduceOfAReserveOrderTakesTheReserveFirst) {
  NewOrder ice;
  ice.side = Side::kSell;
  ice.quantity = 300;
  ice.price = 10'0000;
  ice.display_quantity = 100;
  const auto i = submit(ice);
  rec_.clear();
  eng_->cancel(1, i.ref, 150);  // 150 of the 200 reserve
  auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].displayed_decrement, 0u);  // no ITCH message: the displayed slice is intact
  EXPECT_EQ(eng_->find(i.ref)->displayed, 100u);
  rec_.clear();
  eng_->cancel(1, i.ref, 60);  // the rest of the reserve and 40 displayed
  c = rec_.all<Canceled>();
  EXPECT_EQ(c[0].displayed_decrement, 40u);
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0000, 60, 1}}));
}

TEST_F(EngineTest, ReplacePriorityRules) {
  const auto a = limit(Side::kBuy, 100, 10'0000);
  const auto b = limit(Side::kBuy, 100, 10'0000);
  // Quantity down: keeps ref and place.
  rec_.clear();
  auto r = eng_->replace(ReplaceOrder{1, a.ref, 500, 60, 10'0000});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ref, a.ref);
  auto rp = rec_.all<Replaced>();
  ASSERT_EQ(rp.size(), 1u);
  EXPECT_EQ(rp[0].outcome, ReplaceOutcome::kPriorityKept);
  EXPECT_EQ(rp[0].old_displayed - rp[0].displayed, 40u);  // the ITCH 'X'
  EXPECT_EQ(rp[0].user_ref, 500u);
  EXPECT_EQ(queue(), (std::vector<OrderRef>{a.ref, b.ref}));
  // Quantity up: new ref, back of the queue.
  rec_.clear();
  r = eng_->replace(ReplaceOrder{1, a.ref, 501, 200, 10'0000});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.ref, a.ref);
  rp = rec_.all<Replaced>();
  EXPECT_EQ(rp[0].outcome, ReplaceOutcome::kRequeued);
  EXPECT_EQ(rp[0].old_ref, a.ref);
  EXPECT_EQ(rp[0].new_ref, r.ref);
  EXPECT_EQ(queue(), (std::vector<OrderRef>{b.ref, r.ref}));
  EXPECT_FALSE(eng_->find(a.ref).has_value());
  EXPECT_EQ(eng_->find(r.ref)->user_ref, 501u);
  // Price change: new ref, new level.
  const OrderRef a2 = r.ref;
  r = eng_->replace(ReplaceOrder{1, a2, 502, 200, 10'0100});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.ref, a2);
  EXPECT_EQ(depth(Side::kBuy), (std::vector<DepthLevel>{{10'0100, 200, 1}, {10'0000, 100, 1}}));
  // Price back to the old level: behind b even with a smaller quantity.
  const OrderRef a3 = r.ref;
  r = eng_->replace(ReplaceOrder{1, a3, 503, 10, 10'0000});
  EXPECT_EQ(queue(), (std::vector<OrderRef>{b.ref, r.ref}));
  // Replacing a superseded ref, or another owner's order, is refused.
  EXPECT_EQ(eng_->replace(ReplaceOrder{1, a3, 504, 10, 10'0000}).reason, RejectReason::kUnknownOrder);
  EXPECT_EQ(eng_->replace(ReplaceOrder{2, b.ref, 504, 10, 10'0000}).reason, RejectReason::kNotOwner);
  EXPECT_EQ(eng_->replace(ReplaceOrder{1, b.ref, 504, 0, 10'0000}).reason, RejectReason::kInvalidQuantity);
  EXPECT_EQ(eng_->replace(ReplaceOrder{1, b.ref, 504, 10, 0}).reason, RejectReason::kInvalidPrice);
}

TEST_F(EngineTest, ReplaceToACrossingPriceReentersAndExecutes) {
  limit(Side::kSell, 30, 10'0100);
  const auto b = limit(Side::kBuy, 100, 10'0000);
  rec_.clear();
  const auto r = eng_->replace(ReplaceOrder{1, b.ref, 900, 100, 10'0100});
  ASSERT_TRUE(r.ok());
  ASSERT_GE(rec_.events.size(), 3u);
  const Replaced rp = std::get<Replaced>(rec_.events[0]);
  EXPECT_EQ(rp.outcome, ReplaceOutcome::kReentered);
  EXPECT_EQ(rp.old_displayed, 100u);
  const Execution ex = std::get<Execution>(rec_.events[1]);
  EXPECT_EQ(ex.incoming_ref, r.ref);
  EXPECT_EQ(ex.incoming_user_ref, 900u);
  EXPECT_EQ(ex.quantity, 30u);
  const BookAdded ba = std::get<BookAdded>(rec_.events[2]);
  EXPECT_EQ(ba.ref, r.ref);
  EXPECT_EQ(ba.displayed, 70u);
  EXPECT_EQ(depth(Side::kBuy), (std::vector<DepthLevel>{{10'0100, 70, 1}}));
}

TEST_F(EngineTest, SelfMatchCancelResting) {
  make(SmpPolicy::kCancelResting);
  const auto own = limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 1, 7);
  const auto other = limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 2, 8);
  rec_.clear();
  const auto in = limit(Side::kBuy, 80, 10'0000, TimeInForce::kDay, 3, 7);
  ASSERT_EQ(rec_.events.size(), 4u);  // accepted, cancel own, execution, book add of the rest
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ref, own.ref);
  EXPECT_EQ(c[0].reason, CancelReason::kSelfMatch);
  EXPECT_TRUE(c[0].on_book);
  EXPECT_EQ(ouch_cancel_reason(c[0].reason), 'Q');
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].resting_ref, other.ref);
  EXPECT_EQ(rec_.all<BookAdded>()[0].ref, in.ref);
  EXPECT_EQ(rec_.all<BookAdded>()[0].displayed, 30u);
  EXPECT_EQ(eng_->stats().self_match_preventions, 1u);
}

TEST_F(EngineTest, SelfMatchCancelIncoming) {
  make(SmpPolicy::kCancelIncoming);
  const auto other = limit(Side::kSell, 20, 10'0000, TimeInForce::kDay, 2, 8);
  const auto own = limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 1, 7);
  rec_.clear();
  const auto in = limit(Side::kBuy, 80, 10'0000, TimeInForce::kDay, 3, 7);
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].resting_ref, other.ref);
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ref, in.ref);
  EXPECT_EQ(c[0].canceled, 60u);
  EXPECT_FALSE(c[0].on_book);
  EXPECT_EQ(eng_->find(own.ref)->leaves, 50u);
  EXPECT_EQ(rec_.count<BookAdded>(), 0u);
}

TEST_F(EngineTest, SelfMatchCancelBoth) {
  make(SmpPolicy::kCancelBoth);
  const auto own = limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 1, 7);
  limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 2, 8);
  rec_.clear();
  const auto in = limit(Side::kBuy, 80, 10'0000, TimeInForce::kDay, 3, 7);
  EXPECT_EQ(rec_.count<Execution>(), 0u);
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].ref, own.ref);
  EXPECT_EQ(c[1].ref, in.ref);
  EXPECT_EQ(c[1].canceled, 80u);
  EXPECT_EQ(depth(Side::kSell), (std::vector<DepthLevel>{{10'0000, 50, 1}}));
}

TEST_F(EngineTest, SelfMatchDecrement) {
  make(SmpPolicy::kDecrement);
  const auto own = limit(Side::kSell, 30, 10'0000, TimeInForce::kDay, 1, 7);
  const auto other = limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 2, 8);
  rec_.clear();
  const auto in = limit(Side::kBuy, 40, 10'0000, TimeInForce::kDay, 3, 7);
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].ref, own.ref);  // 30 off the resting order: it is gone
  EXPECT_EQ(c[0].canceled, 30u);
  EXPECT_EQ(c[0].leaves, 0u);
  EXPECT_EQ(c[1].ref, in.ref);   // and 30 off the incoming one
  EXPECT_EQ(c[1].canceled, 30u);
  EXPECT_EQ(c[1].leaves, 10u);
  const auto ex = rec_.all<Execution>();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].resting_ref, other.ref);
  EXPECT_EQ(ex[0].quantity, 10u);
  // Smaller incoming: the resting order is decremented and keeps its place.
  const auto own2 = limit(Side::kBuy, 100, 9'0000, TimeInForce::kDay, 1, 7);
  limit(Side::kBuy, 100, 9'0000, TimeInForce::kDay, 2, 8);
  rec_.clear();
  limit(Side::kSell, 25, 9'0000, TimeInForce::kDay, 4, 7);
  EXPECT_EQ(rec_.count<Execution>(), 0u);
  EXPECT_EQ(eng_->find(own2.ref)->leaves, 75u);
  EXPECT_EQ(queue().front(), own2.ref);
  // SMP group 0 never matches itself.
  rec_.clear();
  limit(Side::kSell, 5, 9'0000, TimeInForce::kDay, 1, 0);
  EXPECT_EQ(rec_.count<Execution>(), 1u);
}

TEST_F(EngineTest, FokAndMinQtyCountSelfMatchesAsTheMatchWould) {
  make(SmpPolicy::kCancelIncoming);
  limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 2, 8);
  limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 1, 7);  // own order blocks the rest
  limit(Side::kSell, 50, 10'0000, TimeInForce::kDay, 2, 8);
  rec_.clear();
  limit(Side::kBuy, 60, 10'0000, TimeInForce::kFok, 3, 7);
  EXPECT_EQ(rec_.count<Execution>(), 0u);
  EXPECT_EQ(rec_.all<Canceled>()[0].reason, CancelReason::kFillOrKill);
  rec_.clear();
  limit(Side::kBuy, 50, 10'0000, TimeInForce::kFok, 3, 7);
  EXPECT_EQ(rec_.count<Execution>(), 1u);
}

TEST_F(EngineTest, InvalidRequestsAreRejectedWithAReason) {
  NewOrder o;
  o.side = Side::kBuy;
  o.quantity = 0;
  o.price = 10'0000;
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidQuantity);
  o.quantity = 1'000'000;
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidQuantity);
  o.quantity = 10;
  o.price = 0;
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidPrice);
  o.price = kMaxPrice + 1;
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidPrice);
  o.price = -5;
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidPrice);
  o.price = 10'0000;
  o.side = static_cast<Side>(7);
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidSide);
  o.side = Side::kBuy;
  o.type = static_cast<OrderType>(9);
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidOrderType);
  o.type = OrderType::kLimit;
  o.tif = static_cast<TimeInForce>(9);
  EXPECT_EQ(submit(o).reason, RejectReason::kInvalidTimeInForce);
  o.tif = TimeInForce::kDay;
  o.symbol = 5;  // in range, never added
  EXPECT_EQ(eng_->submit(o).reason, RejectReason::kUnknownSymbol);
  o.symbol = 60000;  // out of range
  EXPECT_EQ(eng_->submit(o).reason, RejectReason::kUnknownSymbol);
  const auto rej = rec_.all<Rejected>();
  ASSERT_EQ(rej.size(), 10u);
  EXPECT_EQ(rej[0].kind, RequestKind::kNew);
  EXPECT_EQ(rej[0].ref, 0u);
  EXPECT_EQ(ouch_reject_reason(rej[0].reason), 0x0013);
  EXPECT_EQ(rec_.count<Accepted>(), 0u);
  EXPECT_EQ(eng_->stats().rejected, 10u);
  EXPECT_EQ(eng_->live_orders(), 0u);
}

TEST_F(EngineTest, TickAndBandArePerSymbol) {
  SymbolConfig sc;
  sc.min_price = 1'0000;
  sc.max_price = 100'0000;
  sc.tick = 100;  // one cent
  eng_->add_symbol(4, sc);
  NewOrder o;
  o.symbol = 4;
  o.side = Side::kBuy;
  o.quantity = 10;
  o.owner = 1;
  o.price = 10'0050;
  EXPECT_EQ(eng_->submit(o).reason, RejectReason::kInvalidPrice);
  o.price = 10'0100;
  EXPECT_TRUE(eng_->submit(o).ok());
  o.price = 9900;
  EXPECT_EQ(eng_->submit(o).reason, RejectReason::kInvalidPrice);
  EXPECT_THROW(eng_->add_symbol(4, sc), std::invalid_argument);
  EXPECT_THROW(eng_->add_symbol(8, sc), std::invalid_argument);
  sc.tick = 0;
  EXPECT_THROW(eng_->add_symbol(5, sc), std::invalid_argument);
}

TEST_F(EngineTest, OrderPoolExhaustionRejects) {
  make(SmpPolicy::kCancelResting, /*max_orders=*/3);
  EXPECT_TRUE(limit(Side::kBuy, 1, 1'0000).ok());
  EXPECT_TRUE(limit(Side::kBuy, 1, 1'0000).ok());
  EXPECT_TRUE(limit(Side::kBuy, 1, 1'0000).ok());
  const auto r = limit(Side::kBuy, 1, 1'0000);
  EXPECT_EQ(r.reason, RejectReason::kOrderPoolFull);
  EXPECT_EQ(r.ref, 0u);
  EXPECT_EQ(ouch_reject_reason(r.reason), 0x000A);
  // A full pool still lets existing orders trade, cancel and be replaced.
  const auto refs = queue();
  EXPECT_EQ(eng_->cancel(1, refs[0]), RejectReason::kNone);
  EXPECT_TRUE(limit(Side::kSell, 1, 1'0000).ok());  // one slot free again: executes
  EXPECT_EQ(eng_->live_orders(), 1u);
}

TEST_F(EngineTest, LevelExhaustionCancelsTheRestOrRejectsTheReplace) {
  make(SmpPolicy::kCancelResting, 64, /*max_levels=*/2, /*levels_per_side=*/8);
  limit(Side::kBuy, 10, 1'0000);
  const auto b = limit(Side::kBuy, 10, 1'0100);
  rec_.clear();
  const auto r = limit(Side::kBuy, 10, 1'0200);  // a third level: none free
  ASSERT_TRUE(r.ok());
  const auto c = rec_.all<Canceled>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].reason, CancelReason::kBookFull);
  EXPECT_TRUE(limit(Side::kBuy, 10, 1'0100).ok());  // an existing level still takes orders
  EXPECT_EQ(eng_->replace(ReplaceOrder{1, b.ref, 50, 10, 1'0300}).reason, RejectReason::kBookFull);
  EXPECT_EQ(eng_->find(b.ref)->price, 1'0100);  // untouched
  // Per-side capacity.
  make(SmpPolicy::kCancelResting, 64, 64, /*levels_per_side=*/2);
  limit(Side::kSell, 1, 2'0000);
  limit(Side::kSell, 1, 2'0100);
  rec_.clear();
  limit(Side::kSell, 1, 2'0200);
  EXPECT_EQ(rec_.all<Canceled>()[0].reason, CancelReason::kBookFull);
  EXPECT_TRUE(limit(Side::kBuy, 1, 1'0000).ok());
  EXPECT_EQ(rec_.count<BookAdded>(), 1u);
}

TEST_F(EngineTest, DumpListsLevelsBestFirst) {
  limit(Side::kBuy, 100, 10'0000);
  limit(Side::kBuy, 50, 10'0000);
  limit(Side::kBuy, 10, 9'9900);
  limit(Side::kSell, 70, 10'0200);
  limit(Side::kSell, 30, 10'0100);
  const BookDump d = eng_->dump(kSym);
  EXPECT_EQ(d.name.view(), "AAPL");
  EXPECT_EQ(d.bids, (std::vector<DepthLevel>{{10'0000, 150, 2}, {9'9900, 10, 1}}));
  EXPECT_EQ(d.asks, (std::vector<DepthLevel>{{10'0100, 30, 1}, {10'0200, 70, 1}}));
  const auto all = eng_->dump_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].symbol, kSym);
  std::vector<DepthLevel> top(1);
  EXPECT_EQ(eng_->depth(kSym, Side::kSell, top), 1u);
  EXPECT_EQ(top[0].price, 10'0100);
  EXPECT_EQ(eng_->best(kSym, Side::kBuy)->shares, 150u);
}

TEST_F(EngineTest, ManyLevelsStaySorted) {
  // Inserts far from and near the top, so both the short scan and the binary search run.
  std::vector<Price> prices;
  for (int i = 0; i < 60; ++i) prices.push_back(1'0000 + ((i * 37) % 60) * 100);
  for (Price p : prices) limit(Side::kBuy, 1, p);
  const auto d = depth(Side::kBuy);
  ASSERT_EQ(d.size(), 16u);
  for (std::size_t i = 1; i < d.size(); ++i) EXPECT_GT(d[i - 1].price, d[i].price);
  EXPECT_EQ(d[0].price, 1'0000 + 59 * 100);
  // Remove levels from the middle.
  std::vector<OrderRef> refs = queue();
  for (std::size_t i = 5; i < refs.size(); i += 3) eng_->cancel(1, refs[i]);
  std::vector<Price> left;
  eng_->for_each_resting(kSym, [&](const OrderView& v) { left.push_back(v.price); });
  EXPECT_TRUE(std::is_sorted(left.rbegin(), left.rend()));
  EXPECT_EQ(eng_->live_levels(), left.size());
}

TEST_F(EngineTest, BadConfigurationThrows) {
  EngineConfig cfg;
  cfg.max_orders = 0;
  EXPECT_THROW((Engine<Recorder>(cfg, rec_)), std::invalid_argument);
  cfg = EngineConfig{};
  cfg.max_symbols = 70000;
  EXPECT_THROW((Engine<Recorder>(cfg, rec_)), std::invalid_argument);
}

TEST_F(EngineTest, SteadyStateAllocatesNothing) {
  ASSERT_TRUE(hft::testing::counting_active());
  make(SmpPolicy::kDecrement, 4096, 1024, 256);
  struct Counting {
    std::uint64_t n = 0;
    void on_accepted(const Accepted&) noexcept { ++n; }
    void on_rejected(const Rejected&) noexcept { ++n; }
    void on_book_added(const BookAdded&) noexcept { ++n; }
    void on_execution(const Execution&) noexcept { ++n; }
    void on_canceled(const Canceled&) noexcept { ++n; }
    void on_replaced(const Replaced&) noexcept { ++n; }
    void on_refreshed(const Refreshed&) noexcept { ++n; }
    void on_stop_triggered(const StopTriggered&) noexcept { ++n; }
  } counting;
  EngineConfig cfg;
  cfg.max_orders = 4096;
  cfg.max_levels = 1024;
  cfg.max_symbols = 4;
  cfg.smp_policy = SmpPolicy::kDecrement;
  Engine<Counting> e(cfg, counting);
  e.add_symbol(1);
  std::vector<OrderRef> live;
  live.reserve(100'000);
  std::uint64_t x = 88172645463325252ull;
  auto rnd = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  hft::testing::AllocationScope scope;
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t r = rnd();
    NewOrder o;
    o.symbol = 1;
    o.side = (r & 1) ? Side::kBuy : Side::kSell;
    o.quantity = 1 + static_cast<Qty>((r >> 8) % 500);
    o.price = 10'0000 + static_cast<Price>((r >> 20) % 40) * 100 - 2000;
    o.owner = 1 + static_cast<OwnerId>((r >> 30) % 3);
    o.smp_group = o.owner;
    o.user_ref = static_cast<UserRef>(i);
    switch ((r >> 40) % 10) {
      case 0: o.tif = TimeInForce::kIoc; break;
      case 1: o.display_quantity = 50; break;
      case 2: o.hidden = true; break;
      case 3:
        o.type = OrderType::kStopLimit;
        o.stop_price = o.price;
        break;
      case 4: o.tif = TimeInForce::kFok; break;
      default: break;
    }
    const std::uint64_t op = (r >> 50) % 10;
    if (op < 5 || live.empty()) {
      const auto res = e.submit(o);
      if (res.ok() && live.size() < live.capacity()) live.push_back(res.ref);
    } else {
      const std::size_t k = static_cast<std::size_t>(r >> 5) % live.size();
      const OrderRef ref = live[k];
      const auto v = e.find(ref);
      if (op < 8) {
        e.cancel(v ? v->owner : 1, ref, 0);
      } else if (v) {
        const auto res = e.replace(ReplaceOrder{v->owner, ref, o.user_ref, o.quantity, o.price});
        if (res.ok()) live[k] = res.ref;
      }
      if (!e.find(live[k])) {
        live[k] = live.back();
        live.pop_back();
      }
    }
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_GT(e.stats().executions, 1000u);
  EXPECT_GT(e.stats().refreshes, 10u);
  EXPECT_GT(e.stats().stops_triggered, 10u);
  EXPECT_GT(e.stats().self_match_preventions, 10u);
  EXPECT_GT(counting.n, 100'000u);
}

}  // namespace
}  // namespace hft::match
