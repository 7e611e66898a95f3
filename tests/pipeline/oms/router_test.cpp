// Issue 14: the order router (pipeline/oms/router.hpp): marketable orders to the best prices net
// of take fees split by displayed size, passive orders to the best rebate, pinned orders whole,
// venues that are down never chosen, decisions counted per venue.
#include "pipeline/oms/router.hpp"

#include <gtest/gtest.h>

#include <array>

namespace hft::oms {
namespace {

VenueTop top(Price bid, Quantity bid_shares, Price ask, Quantity ask_shares, bool up = true) {
  VenueTop t;
  t.bid = bid;
  t.bid_shares = bid_shares;
  t.ask = ask;
  t.ask_shares = ask_shares;
  t.up = up;
  return t;
}

TEST(Router, MarketableBuySplitsByDisplayedSizeBestPriceFirst) {
  Router r;
  // Venue 1 offers 100.00 x 300, venue 0 100.01 x 200, venue 2 100.02 x 1000 (beyond the limit).
  const std::array<VenueTop, 3> tops{top(999'900, 100, 1'000'100, 200), top(999'800, 100, 1'000'000, 300),
                                     top(999'700, 100, 1'000'200, 1000)};
  const RouteDecision d = r.route(Side::kBuy, 1'000'100, 700, tops);
  ASSERT_EQ(d.kind, RouteDecision::Kind::kMarketable);
  ASSERT_EQ(d.count, 2);
  EXPECT_EQ(d.legs[0].venue, 1);
  EXPECT_EQ(d.legs[0].quantity, 300u + 200u) << "its displayed 300 plus the 200 no venue shows within the limit";
  EXPECT_EQ(d.legs[1].venue, 0);
  EXPECT_EQ(d.legs[1].quantity, 200u) << "never more than displayed at a venue but the best";
  EXPECT_EQ(r.counters().marketable, 1u);
  EXPECT_EQ(r.counters().split, 1u);
  EXPECT_EQ(r.counters().shares[1], 500u);
  EXPECT_EQ(r.counters().shares[0], 200u);
  EXPECT_EQ(r.counters().legs[2], 0u);
}

TEST(Router, SmallOrderTakesOnlyTheBestVenue) {
  Router r;
  const std::array<VenueTop, 2> tops{top(999'900, 100, 1'000'100, 200), top(999'800, 100, 1'000'000, 300)};
  const RouteDecision d = r.route(Side::kBuy, 1'000'100, 100, tops);
  ASSERT_EQ(d.count, 1);
  EXPECT_EQ(d.legs[0].venue, 1);
  EXPECT_EQ(d.legs[0].quantity, 100u);
}

TEST(Router, BestPriceIsNetOfTakeFees) {
  Router r;
  // Venue 0 sells at 100.0000 but takes 0.0030; venue 1 at 100.0001 takes 0.0010: venue 1 is cheaper.
  r.set_fees(0, VenueFees{30, -20});
  r.set_fees(1, VenueFees{10, -5});
  const std::array<VenueTop, 2> tops{top(999'000, 500, 1'000'000, 500), top(999'001, 500, 1'000'001, 500)};
  RouteDecision d = r.route(Side::kBuy, 1'000'100, 100, tops);
  ASSERT_EQ(d.kind, RouteDecision::Kind::kMarketable);
  EXPECT_EQ(d.legs[0].venue, 1);
  // A sell: venue 0 bids 99.9000 - 0.0030, venue 1 99.9001 - 0.0010: venue 1 again.
  d = r.route(Side::kSell, 990'000, 100, tops);
  EXPECT_EQ(d.legs[0].venue, 1);
  // Without fees the raw prices decide: venue 0's lower ask, venue 1's higher bid.
  Router plain;
  EXPECT_EQ(plain.route(Side::kBuy, 1'000'100, 100, tops).legs[0].venue, 0);
  EXPECT_EQ(plain.route(Side::kSell, 990'000, 100, tops).legs[0].venue, 1);
}

TEST(Router, PassiveOrderGoesToTheBestRebateUnlessPinned) {
  Router r;
  r.set_fees(0, VenueFees{30, -20});
  r.set_fees(1, VenueFees{30, -25});  // the better rebate
  r.set_fees(2, VenueFees{30, -30});  // better still, but down
  const std::array<VenueTop, 3> tops{top(999'900, 100, 1'000'100, 100), top(999'900, 100, 1'000'100, 100),
                                     top(999'900, 100, 1'000'100, 100, false)};
  RouteDecision d = r.route(Side::kBuy, 999'900, 100, tops);  // joins the bid: rests everywhere
  ASSERT_EQ(d.kind, RouteDecision::Kind::kPassive);
  ASSERT_EQ(d.count, 1);
  EXPECT_EQ(d.legs[0].venue, 1);
  EXPECT_EQ(d.legs[0].quantity, 100u);
  d = r.route(Side::kBuy, 999'900, 100, tops, 0);
  ASSERT_EQ(d.kind, RouteDecision::Kind::kPinned);
  EXPECT_EQ(d.legs[0].venue, 0);
  EXPECT_EQ(r.counters().passive, 1u);
  EXPECT_EQ(r.counters().pinned, 1u);
}

TEST(Router, VenuesDownAreNeverChosen) {
  Router r;
  const std::array<VenueTop, 2> tops{top(999'900, 100, 1'000'000, 100, false), top(999'800, 100, 1'000'100, 100)};
  RouteDecision d = r.route(Side::kBuy, 1'000'100, 100, tops);
  ASSERT_EQ(d.kind, RouteDecision::Kind::kMarketable);
  EXPECT_EQ(d.legs[0].venue, 1) << "the cheaper venue is down";
  const std::array<VenueTop, 2> none{top(1, 1, 2, 1, false), top(1, 1, 2, 1, false)};
  d = r.route(Side::kBuy, 1'000'100, 100, none);
  EXPECT_EQ(d.kind, RouteDecision::Kind::kNone);
  EXPECT_EQ(d.count, 0);
  EXPECT_EQ(r.counters().no_venue, 1u);
}

}  // namespace
}  // namespace hft::oms
