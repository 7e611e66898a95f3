// Issue 14: the SDK's order side for several venues (Route::to, Route::best, venue_down) and the
// cross-venue arbitrage strategy, on hand-fed per-venue tops: the test sets each venue's touch,
// calls the strategy as the strategy stage does and answers its IOCs as a venue would.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pipeline/strategy/cross_venue_arb.hpp"
#include "pipeline/strategy/probe.hpp"

namespace hft::strategy {
namespace {

using pipeline::ExecReport;
using pipeline::OrderIntent;
using pipeline::ReportType;

struct TwoVenueDesk {
  static constexpr Locate kLoc = 3;
  core::SpscRing<OrderIntent> out{64};
  std::vector<BookView> books = std::vector<BookView>(8);
  oms::Router router;
  oms::VenueTops tops{8, 2};
  Context ctx{2, "arb", &out, &books};
  TwoVenueDesk() {
    ctx.init_tables(8);
    ctx.subscribe(kLoc);
    books[kLoc].locate = kLoc;
    std::memcpy(books[kLoc].symbol.data(), "AAPL    ", 8);
    books[kLoc].stale = false;
    books[kLoc].trading_state = 'T';
    router.set_fees(0, oms::VenueFees{30, -20});  // 0.0030 $/share to take at each venue
    router.set_fees(1, oms::VenueFees{30, -25});
    ctx.set_venues(2, &router, &tops);
  }
  void touch(VenueId v, Price bid, Quantity bid_shares, Price ask, Quantity ask_shares) {
    oms::VenueTop t;
    t.bid = bid;
    t.bid_shares = bid_shares;
    t.ask = ask;
    t.ask_shares = ask_shares;
    t.up = true;
    tops.set(v, kLoc, t);
  }
  // Venue 1 bids 100.0200 over venue 0's 100.0000 ask: the strategy takes the pair; what it sent.
  template <class S>
  std::vector<OrderIntent> cross(S& s) {
    touch(0, 999'000, 500, 1'000'000, 500);
    touch(1, 1'000'200, 500, 1'001'000, 500);
    s.on_book(ctx, books[kLoc]);
    return sent();
  }
  std::vector<OrderIntent> sent() {
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (out.try_pop(in)) v.push_back(in);
    return v;
  }
  // A venue's answer to an IOC: accepted, `filled` executed, the rest cancelled; the strategy is
  // called as the strategy stage calls it (on_fill after a fill, on_order otherwise).
  template <class S>
  void answer(S& s, const OrderIntent& in, Quantity filled) {
    ExecReport r{};
    r.order_id = in.order_id;
    r.locate = in.locate;
    r.side = in.side;
    r.strategy = 2;
    r.venue = in.venue;
    r.price = in.price;
    r.quantity = in.quantity;
    r.leaves = in.quantity;
    r.type = ReportType::kAccepted;
    deliver(s, r);
    if (filled > 0) {
      r.type = ReportType::kFill;
      r.quantity = filled;
      r.leaves = in.quantity - filled;
      deliver(s, r);
    }
    if (filled < in.quantity) {
      r.type = ReportType::kCanceled;
      r.quantity = in.quantity;
      r.leaves = 0;
      deliver(s, r);
    }
  }
  template <class S>
  void deliver(S& s, const ExecReport& r) {
    const WorkingOrder* o = ctx.apply(r);
    if (r.type == ReportType::kFill) {
      s.on_fill(ctx, Fill{r.order_id, r.locate, r.side, r.price, r.quantity, r.leaves});
    } else {
      s.on_order(ctx, OrderUpdate{o, r.order_id, r.type, r.reason, r.venue_code});
    }
  }
};

CrossVenueArbParams arb_params() {
  CrossVenueArbParams p;
  p.symbol = "AAPL";
  p.size = 100;
  p.max_position = 300;
  p.min_profit_bps = 1.0;  // 0.0100 $ at 100 $
  p.hedge_collar_bps = 0;  // hedges at the touch (the collar: its own test)
  return p;
}

TEST(SdkRoutes, OrdersNameTheirVenueOrTheRouterSplitsThem) {
  TwoVenueDesk d;
  EXPECT_NE(d.ctx.buy(TwoVenueDesk::kLoc, 1'000'000, 100), 0u);  // today's call: venue 0
  EXPECT_NE(d.ctx.sell(TwoVenueDesk::kLoc, 1'010'000, 100, Route::to(1)), 0u);
  auto v = d.sent();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].venue, 0);
  EXPECT_EQ(v[1].venue, 1);
  EXPECT_EQ(d.ctx.order(v[1].order_id)->venue, 1);

  // Route::best: 300 shown at venue 1's 100.00, 200 at venue 0's 100.01: a 400-share buy at 100.01
  // takes 300 at venue 1 (the best) and 100 at venue 0.
  d.touch(0, 999'900, 100, 1'000'100, 200);
  d.touch(1, 999'800, 100, 1'000'000, 300);
  EXPECT_NE(d.ctx.buy(TwoVenueDesk::kLoc, 1'000'100, 400, Route::best(), pipeline::TimeInForce::kIoc), 0u);
  v = d.sent();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].venue, 1);
  EXPECT_EQ(v[0].quantity, 300u);
  EXPECT_EQ(v[1].venue, 0);
  EXPECT_EQ(v[1].quantity, 100u);
  EXPECT_EQ(d.router.counters().split, 1u);

  // A venue down: orders to it are refused locally with the reason, the other venue still trades.
  d.ctx.set_venue_down(1, true);
  EXPECT_FALSE(d.ctx.venue_up(1));
  EXPECT_EQ(d.ctx.buy(TwoVenueDesk::kLoc, 999'000, 10, Route::to(1)), 0u);
  EXPECT_EQ(d.ctx.refusals().venue_down, 1u);
  EXPECT_NE(d.ctx.buy(TwoVenueDesk::kLoc, 999'000, 10, Route::to(0)), 0u);
}

TEST(CrossVenueArb, NoOrdersBelowTheThreshold) {
  TwoVenueDesk d;
  CrossVenueArb s(arb_params());
  // Venue 1 bids 100.0150, venue 0 asks 100.0000: 0.0150 gross, 0.0090 net of the two take fees,
  // below the 0.0100 wanted.
  d.touch(0, 999'000, 500, 1'000'000, 500);
  d.touch(1, 1'000'150, 500, 1'001'000, 500);
  s.on_book(d.ctx, d.books[TwoVenueDesk::kLoc]);
  EXPECT_TRUE(d.sent().empty());
  EXPECT_EQ(s.counters().seen, 0u);
}

TEST(CrossVenueArb, AboveTheThresholdBothLegsGoInOnePassAndFill) {
  TwoVenueDesk d;
  CrossVenueArb s(arb_params());
  // 0.0200 gross, 0.0140 net: above 0.0100.
  d.touch(0, 999'000, 500, 1'000'000, 80);
  d.touch(1, 1'000'200, 500, 1'001'000, 500);
  s.on_book(d.ctx, d.books[TwoVenueDesk::kLoc]);
  const auto v = d.sent();
  ASSERT_EQ(v.size(), 2u) << "both legs in the same pass";
  EXPECT_EQ(v[0].side, Side::kBuy);
  EXPECT_EQ(v[0].venue, 0) << "buy on the cheap venue";
  EXPECT_EQ(v[0].price, 1'000'000);
  EXPECT_EQ(v[1].side, Side::kSell);
  EXPECT_EQ(v[1].venue, 1) << "sell on the rich venue";
  EXPECT_EQ(v[1].price, 1'000'200);
  EXPECT_EQ(v[0].quantity, 80u) << "at most what the cheap venue shows";
  EXPECT_EQ(v[1].quantity, 80u);
  for (const OrderIntent& in : v) {
    EXPECT_EQ(in.tif, pipeline::TimeInForce::kIoc);
    EXPECT_EQ(in.legs, 1) << "marked as legs of one decision";
  }
  EXPECT_EQ(v[0].decision_tsc, v[1].decision_tsc) << "one detection time for both";
  EXPECT_EQ(s.counters().seen, 1u);
  EXPECT_EQ(s.counters().taken, 1u);
  // Nothing more while the pair is in flight.
  s.on_book(d.ctx, d.books[TwoVenueDesk::kLoc]);
  EXPECT_TRUE(d.sent().empty());
  d.answer(s, v[0], 80);
  d.answer(s, v[1], 80);
  EXPECT_EQ(s.counters().both_filled, 1u);
  EXPECT_EQ(d.ctx.position(TwoVenueDesk::kLoc).shares, 0) << "the position nets out across venues";
  EXPECT_TRUE(d.sent().empty()) << "nothing to hedge";
}

TEST(CrossVenueArb, OneLegFilledIsHedgedAtTheOtherVenuesTouch) {
  TwoVenueDesk d;
  CrossVenueArb s(arb_params());
  d.touch(0, 999'000, 500, 1'000'000, 500);
  d.touch(1, 1'000'200, 500, 1'001'000, 500);
  s.on_book(d.ctx, d.books[TwoVenueDesk::kLoc]);
  const auto v = d.sent();
  ASSERT_EQ(v.size(), 2u);
  d.answer(s, v[0], 100);  // the buy filled
  // The rich venue's bid moved away before the sell arrived: nothing filled.
  d.touch(1, 1'000'100, 300, 1'001'000, 500);
  d.answer(s, v[1], 0);
  EXPECT_EQ(s.counters().one_leg, 1u);
  const auto h = d.sent();
  ASSERT_EQ(h.size(), 1u) << "the hedge";
  EXPECT_EQ(h[0].side, Side::kSell);
  EXPECT_EQ(h[0].venue, 1) << "the missing leg again, at its venue";
  EXPECT_EQ(h[0].price, 1'000'100) << "at that venue's touch now";
  EXPECT_EQ(h[0].quantity, 100u);
  EXPECT_EQ(h[0].tif, pipeline::TimeInForce::kIoc);
  EXPECT_EQ(s.counters().hedges, 1u);
  d.answer(s, h[0], 100);
  EXPECT_EQ(d.ctx.position(TwoVenueDesk::kLoc).shares, 0);
  EXPECT_FALSE(s.busy());
}

TEST(CrossVenueArb, UnwindRuleReversesTheFilledLegAtItsOwnVenueAndPositionIsCapped) {
  TwoVenueDesk d;
  CrossVenueArbParams p = arb_params();
  p.leg_rule = LegRule::kUnwind;
  p.max_position = 150;
  p.hedge_retries = 0;  // a missed unwind stays open (the retries: the next test)
  CrossVenueArb s(p);
  d.touch(0, 999'000, 500, 1'000'000, 500);
  d.touch(1, 1'000'200, 500, 1'001'000, 500);
  s.on_book(d.ctx, d.books[TwoVenueDesk::kLoc]);
  auto v = d.sent();
  ASSERT_EQ(v.size(), 2u);
  d.answer(s, v[0], 0);
  d.answer(s, v[1], 100);  // only the sell filled: short 100
  const auto u = d.sent();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].side, Side::kBuy);
  EXPECT_EQ(u[0].venue, 1) << "the filled leg reversed at its own venue";
  EXPECT_EQ(u[0].price, 1'001'000) << "at its ask";
  EXPECT_EQ(s.counters().unwinds, 1u);
  d.answer(s, u[0], 0);  // the unwind missed: still short 100
  EXPECT_EQ(s.counters().left_open, 1u);
  // The next pair may only take 50 (one leg alone must keep |position| <= 150).
  s.on_book(d.ctx, d.books[TwoVenueDesk::kLoc]);
  v = d.sent();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].quantity, 50u);
}

// A hedge that fills only in part is sent again for what is left, at the best touch of any venue
// up, at most hedge_retries times; then the position left is counted (left_open). Before the
// retries a partial hedge left the position open for good and the arbitrage stopped once it
// reached max_position (the demo ended every run at -500 BBB).
TEST(CrossVenueArb, APartialHedgeIsRetriedAtTheBestTouchThenCountedLeftOpen) {
  TwoVenueDesk d;
  CrossVenueArbParams p = arb_params();
  p.hedge_retries = 1;
  CrossVenueArb s(p);
  const auto v = d.cross(s);
  ASSERT_EQ(v.size(), 2u);
  d.answer(s, v[0], 100);  // the buy filled, the sell did not
  d.touch(1, 1'000'100, 300, 1'001'000, 500);
  d.answer(s, v[1], 0);
  auto h = d.sent();
  ASSERT_EQ(h.size(), 1u) << "the hedge";
  EXPECT_EQ(h[0].venue, 1);
  // The hedge fills 40 of 100; venue 0's bid is now the better one: the retry sells 60 there.
  d.touch(0, 1'000'150, 200, 1'000'400, 500);
  d.answer(s, h[0], 40);
  EXPECT_EQ(d.ctx.position(TwoVenueDesk::kLoc).shares, 60);
  h = d.sent();
  ASSERT_EQ(h.size(), 1u) << "the retry";
  EXPECT_EQ(h[0].side, Side::kSell);
  EXPECT_EQ(h[0].venue, 0) << "the best bid of the venues up";
  EXPECT_EQ(h[0].price, 1'000'150);
  EXPECT_EQ(h[0].quantity, 60u);
  EXPECT_EQ(s.counters().retries, 1u);
  EXPECT_TRUE(s.busy());
  // The retry fills nothing and none is left: the position stays, counted once, nothing more sent.
  d.answer(s, h[0], 0);
  EXPECT_TRUE(d.sent().empty());
  EXPECT_EQ(s.counters().left_open, 1u);
  EXPECT_FALSE(s.busy());
  EXPECT_EQ(d.ctx.position(TwoVenueDesk::kLoc).shares, 60);
}

// hedge_collar_bps: the hedge crosses the touch by the collar, rounded onto the penny grid toward
// the touch (a sell at 100.0100 with 5 bps: 99.9600; a buy at 100.0100: 100.0600).
TEST(CrossVenueArb, HedgesCrossTheTouchByTheCollarOnThePennyGrid) {
  for (const bool buy_filled : {true, false}) {
    TwoVenueDesk d;
    CrossVenueArbParams p = arb_params();
    p.hedge_collar_bps = 5;
    CrossVenueArb s(p);
    const auto v = d.cross(s);
    ASSERT_EQ(v.size(), 2u);
    d.touch(0, 999'000, 500, 1'000'100, 500);
    d.touch(1, 1'000'100, 300, 1'001'000, 500);
    d.answer(s, v[0], buy_filled ? 100 : 0);
    d.answer(s, v[1], buy_filled ? 0 : 100);
    const auto h = d.sent();
    ASSERT_EQ(h.size(), 1u);
    if (buy_filled) {
      EXPECT_EQ(h[0].side, Side::kSell);
      EXPECT_EQ(h[0].price, 999'600) << "100.0100 - 5 bps (0.0500) = 99.9600";
    } else {
      EXPECT_EQ(h[0].side, Side::kBuy);
      EXPECT_EQ(h[0].price, 1'000'600) << "100.0100 + 5 bps (0.0500) = 100.0600";
    }
  }
}

// The latency probe with several venues: `venue = 1` answers BX's probes on BX's session and
// ignores the same symbol's book at the first venue; the default answers the first venue's only.
TEST(ProbeStrategy, AnswersOnlyItsVenuesProbesOnThatVenuesSession) {
  TwoVenueDesk d;
  ProbeParams p;
  p.venue = 1;
  ProbeStrategy bx(p);
  ProbeStrategy first(ProbeParams{});
  BookView b = d.books[TwoVenueDesk::kLoc];
  b.bids[0] = {1'000'000, 1};
  b.venue = 0;
  bx.on_book(d.ctx, b);
  EXPECT_TRUE(d.sent().empty()) << "venue 1's probe answered the first venue's book";
  first.on_book(d.ctx, b);
  auto v = d.sent();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].venue, 0);
  b.venue = 1;
  first.on_book(d.ctx, b);
  EXPECT_TRUE(d.sent().empty()) << "the first venue's probe answered venue 1's book";
  bx.on_book(d.ctx, b);
  bx.on_book(d.ctx, b);  // the same probe again: no second answer
  v = d.sent();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].venue, 1);
  EXPECT_EQ(v[0].side, Side::kSell);
  EXPECT_EQ(v[0].price, 1'000'000);
  EXPECT_EQ(v[0].tif, TimeInForce::kIoc);
}

}  // namespace
}  // namespace hft::strategy
