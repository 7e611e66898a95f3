// Edge cases of the feature engine: empty and one-sided books, locked and crossed books, zero
// volume, halts, the first update, warm-up, capacity, and no allocation per update.
#include <cmath>

#include <gtest/gtest.h>

#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "pipeline/features/book_driver.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::features {
namespace {

Depth book(std::uint32_t bid, std::int64_t bq, std::uint32_t ask, std::int64_t aq) {
  Depth d;
  d.bid_px[0] = bid;
  d.bid_sz[0] = bid == 0 ? 0 : bq;
  d.ask_px[0] = ask;
  d.ask_sz[0] = ask == 0 ? 0 : aq;
  return d;
}

Event ev(std::uint64_t ts, EventKind k, std::uint8_t side, std::uint32_t shares, std::uint32_t price) {
  return Event{ts, k, side, shares, price, 0};
}

void expect_finite(const Values& v) {
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    const auto f = static_cast<Feature>(i);
    if (v.has_value(f)) {
      EXPECT_TRUE(std::isfinite(v.v[i])) << feature_name(f);
    }
  }
}

TEST(FeatureEdges, NamesAndSets) {
  EXPECT_EQ(feature_name(Feature::kMid), "mid");
  EXPECT_EQ(feature_name(Feature::kBollingerPosition), "bollinger_position");
  EXPECT_EQ(feature_name(static_cast<Feature>(kSeedCount - 1)), "bollinger_position");
  EXPECT_EQ(parse_set("seed"), kSeedSet);
  EXPECT_EQ(parse_set("mid,ofi_5"), bit(Feature::kMid) | bit(Feature::kOfi5));
  EXPECT_THROW((void)parse_set("mid,nonsense"), std::invalid_argument);
  Params p;
  p.set("vol_window=7");
  EXPECT_EQ(p.vol_window, 7u);
  EXPECT_THROW(p.set("vol_window=0"), std::invalid_argument);
  EXPECT_EQ(p.vol_window, 7u) << "a rejected value leaves the parameter as it was";
  EXPECT_NO_THROW(p.validate());
  EXPECT_THROW(p.set("no_such=1"), std::invalid_argument);
  EXPECT_THROW(p.set("frac_d=abc"), std::invalid_argument);
  EXPECT_EQ(frac_weights(0.4, 1e-5).size(), 1458u);
}

TEST(FeatureEdges, EmptyBookFirstUpdate) {
  FeatureEngine e(Params{}, kAllSet, 10, 10);
  Values v;
  e.values(3, v);
  EXPECT_EQ(v.has, 0u) << "a stock never updated has nothing";
  e.update(3, ev(1000, EventKind::kDelete, 0, 100, 1000000), Depth{});
  e.values(3, v);
  expect_finite(v);
  EXPECT_FALSE(v.has_value(Feature::kMid));
  EXPECT_FALSE(v.has_value(Feature::kImbalance));
  EXPECT_FALSE(v.has_value(Feature::kWeightedImbalance));
  EXPECT_FALSE(v.has_value(Feature::kEntropy));
  EXPECT_FALSE(v.has_value(Feature::kSpread));
  EXPECT_EQ(v.get(Feature::kOfi1), 0.0);
  EXPECT_EQ(v.get(Feature::kOfiCancel), -100.0) << "bid shares removed: sell pressure";
  EXPECT_EQ(v.get(Feature::kHawkesBuy), 0.1);
  EXPECT_EQ(v.get(Feature::kHawkesExcitation), 0.5);
}

TEST(FeatureEdges, OneSidedBook) {
  FeatureEngine e(Params{}, kAllSet, 10, 10);
  Values v;
  e.update(1, ev(1, EventKind::kAdd, 0, 300, 100000), book(100000, 300, 0, 0));
  e.values(1, v);
  expect_finite(v);
  EXPECT_EQ(v.get(Feature::kOfi1), 300.0) << "first update: against the empty book";
  EXPECT_EQ(v.get(Feature::kOfi5), 300.0);
  EXPECT_EQ(v.get(Feature::kOfiLimit), 300.0);
  EXPECT_EQ(v.get(Feature::kImbalance), 1.0);
  EXPECT_EQ(v.get(Feature::kWeightedImbalance), 1.0);
  EXPECT_EQ(v.get(Feature::kEntropy), 0.0);
  EXPECT_FALSE(v.has_value(Feature::kMid));
  EXPECT_FALSE(v.has_value(Feature::kMicroPrice));
  EXPECT_FALSE(v.has_value(Feature::kBookPressure));
  // the ask side alone, after the bid leaves: OFI counts the bid leaving and the ask arriving
  e.consume(1);
  e.update(1, ev(2, EventKind::kAdd, 1, 200, 100100), book(0, 0, 100100, 200));
  e.values(1, v);
  EXPECT_EQ(v.get(Feature::kOfi1), -300.0 - 200.0);
  EXPECT_EQ(v.get(Feature::kImbalance), -1.0);
}

TEST(FeatureEdges, LockedAndCrossedBooks) {
  FeatureEngine e(Params{}, kAllSet, 10, 10);
  Values v;
  e.update(1, ev(1, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 100000, 200));
  e.values(1, v);
  expect_finite(v);
  EXPECT_EQ(v.get(Feature::kSpread), 0.0);
  EXPECT_EQ(v.get(Feature::kRelativeSpread), 0.0);
  EXPECT_EQ(v.get(Feature::kBookPressure), 100 / 0.5 - 200 / 0.5) << "distance floored at half a tick";
  EXPECT_DOUBLE_EQ(*v.get(Feature::kMid), 10.0);
  e.update(1, ev(2, EventKind::kAdd, 0, 100, 100100), book(100100, 100, 100000, 200));
  e.values(1, v);
  expect_finite(v);
  EXPECT_NEAR(*v.get(Feature::kSpread), -0.01, 1e-12);
  EXPECT_LT(*v.get(Feature::kRelativeSpread), 0.0);
  EXPECT_EQ(v.get(Feature::kBookPressure), 100 / 0.5 - 200 / 0.5);
}

TEST(FeatureEdges, ZeroVolumeExecutionsAndAmihud) {
  Params p;
  p.amihud_window = 1;
  p.kyle_window = 2;
  FeatureEngine e(p, kAllSet, 10, 10);
  Values v;
  e.update(1, ev(1, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 100100, 100));
  e.update(1, ev(2, EventKind::kExecute, 1, 0, 100100), book(100000, 100, 100100, 100));
  e.update(1, ev(3, EventKind::kExecute, 1, 0, 100100), book(100000, 100, 100200, 100));
  e.values(1, v);
  expect_finite(v);
  EXPECT_FALSE(v.has_value(Feature::kAmihud)) << "no dollar volume: no observation";
  EXPECT_FALSE(v.has_value(Feature::kKyleLambda)) << "x never varies";
  e.update(1, ev(4, EventKind::kExecute, 1, 50, 100200), book(100000, 100, 100400, 100));
  e.values(1, v);
  ASSERT_TRUE(v.has_value(Feature::kAmihud));
  EXPECT_NEAR(*v.get(Feature::kAmihud), std::log(200400.0 / 200200.0) / (10.02 * 50), 1e-15);
  EXPECT_NEAR(*v.get(Feature::kKyleLambda), 0.005 / 50, 1e-15) << "(x, y): (0 shares, 0.005 $), (50, 0.01)";
}

TEST(FeatureEdges, WarmUpOfTheMidSeries) {
  Params p;
  p.rsi_period = 3;
  p.bollinger_window = 3;
  p.vol_window = 2;
  p.step = 1;
  FeatureEngine e(p, kAllSet, 10, 10);
  Values v;
  const std::uint32_t mids[] = {100000, 100100, 100000, 100200, 100300};
  for (int i = 0; i < 5; ++i) {
    e.update(1, ev(std::uint64_t(i) + 1, EventKind::kAdd, 0, 100, mids[i] - 50), book(mids[i] - 50, 100, mids[i] + 50, 100));
    e.values(1, v);
    expect_finite(v);
    EXPECT_EQ(v.has_value(Feature::kVelocity), i >= 1) << i;
    EXPECT_EQ(v.has_value(Feature::kAcceleration), i >= 2) << i;
    EXPECT_EQ(v.has_value(Feature::kRealizedVol), i >= 2) << i;
    EXPECT_EQ(v.has_value(Feature::kBollingerPosition), i >= 2) << i;
    EXPECT_EQ(v.has_value(Feature::kRsi), i >= 3) << i;
    EXPECT_FALSE(v.has_value(Feature::kFracPrice)) << "1458 observations at the defaults";
  }
  EXPECT_NEAR(*v.get(Feature::kVelocity), 0.01, 1e-12);
  // gains 100, 0, 200 then 100; losses 0, 100, 0 then 0: Wilder averages 100, 33.3 -> (200+100)/3, 66.7/3
  const double g = (100.0 + 200.0) / 3, l = 100.0 / 3;
  const double g2 = (g * 2 + 100) / 3, l2 = l * 2 / 3;
  EXPECT_NEAR(*v.get(Feature::kRsi), 100 - 100 / (1 + g2 / l2), 1e-9);
  // a repeated mid is no new observation
  e.update(1, ev(9, EventKind::kAdd, 0, 100, 100250), book(100250, 200, 100350, 100));
  Values w;
  e.values(1, w);
  EXPECT_EQ(w.get(Feature::kRsi), v.get(Feature::kRsi));
}

// Through the ITCH driver: a halt changes no depth and makes no update; nothing goes stale or NaN.
struct CountingHook {
  int updates = 0;
  bool wants(std::uint16_t) noexcept { return true; }
  void before(std::uint16_t, std::uint64_t) noexcept {}
  void after(std::uint16_t, const Event&) noexcept { ++updates; }
};

TEST(FeatureEdges, HaltThroughTheDriver) {
  book::BookConfig cfg;
  cfg.orders = 1024;
  cfg.levels = 1024;
  cfg.max_locate = 10;
  book::BookSet books(cfg);
  FeatureEngine engine(Params{}, kAllSet, 10, 10);
  CountingHook hook;
  FeatureBookHandler<CountingHook> h(books, engine, hook);
  std::uint8_t m[64];
  const itch::Symbol s = itch::Symbol::from("TEST");
  auto feed = [&](std::size_t len) { ASSERT_EQ(itch::decode_message(m, len, h), itch::DecodeResult::kOk); };
  feed(itch::encode::add_order(m, {1, 0, 100}, 11, 'B', 100, s, 100000));
  feed(itch::encode::add_order(m, {1, 0, 200}, 12, 'S', 300, s, 100100));
  EXPECT_EQ(hook.updates, 2);
  Values before;
  engine.values(1, before);
  feed(itch::encode::stock_trading_action(m, {1, 0, 300}, s, 'H', "T1  "));
  EXPECT_EQ(hook.updates, 2) << "a halt is no book update";
  Values after;
  engine.values(1, after);
  EXPECT_EQ(after.has, before.has);
  EXPECT_EQ(after.get(Feature::kMid), before.get(Feature::kMid));
  // executions, a cancel, a replace and a delete during and after it: L3 flows by side
  engine.consume(1);
  feed(itch::encode::order_executed(m, {1, 0, 400}, 12, 100, 1));
  feed(itch::encode::order_cancel(m, {1, 0, 500}, 11, 30));
  feed(itch::encode::order_replace(m, {1, 0, 600}, 11, 13, 50, 100050));
  feed(itch::encode::order_delete(m, {1, 0, 700}, 99));  // unknown: no update
  EXPECT_EQ(hook.updates, 5);
  engine.values(1, after);
  expect_finite(after);
  EXPECT_EQ(after.get(Feature::kOfiTrade), 100.0) << "ask shares executed: buy pressure";
  EXPECT_EQ(after.get(Feature::kOfiCancel), -30.0 - 70.0);
  EXPECT_EQ(after.get(Feature::kOfiLimit), 50.0);
  EXPECT_GT(*after.get(Feature::kHawkesBuy), *after.get(Feature::kHawkesSell));
  Depth want;
  want.bid_px[0] = 100050;
  want.bid_sz[0] = 50;
  want.ask_px[0] = 100100;
  want.ask_sz[0] = 200;
  EXPECT_TRUE(*engine.depth(1) == want) << "the driver's depth is the book's";
}

TEST(FeatureEdges, CapacityAndBadLocate) {
  FeatureEngine e(Params{}, kSeedSet, 10, 1);
  e.update(1, ev(1, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 0, 0));
  e.update(2, ev(1, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 0, 0));
  e.update(11, ev(1, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 0, 0));
  EXPECT_EQ(e.stats().no_slot, 1u);
  EXPECT_EQ(e.stats().bad_locate, 1u);
  Values v;
  e.values(2, v);
  EXPECT_EQ(v.has, 0u);
  e.values(11, v);
  EXPECT_EQ(v.has, 0u);
}

TEST(FeatureEdges, ResetForgetsEveryStockAndFreesTheSlots) {
  FeatureEngine e(Params{}, kSeedSet, 10, 1);
  e.update(1, ev(1, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 100100, 100));
  e.reset();
  Values v;
  e.values(1, v);
  EXPECT_EQ(v.has, 0u);
  EXPECT_EQ(e.depth(1), nullptr);
  e.update(2, ev(2, EventKind::kAdd, 0, 100, 100000), book(100000, 100, 100100, 100));
  EXPECT_EQ(e.stats().no_slot, 0u) << "the one slot is free again";
  e.values(2, v);
  EXPECT_EQ(v.get(Feature::kOfi1), 0.0) << "against the empty book: +100 bid, -100 ask";
}

TEST(FeatureEdges, NoAllocationPerUpdate) {
  FeatureEngine e(Params{}, kAllSet, 100, 100);
  Values v;
  hft::testing::AllocationScope scope;
  for (std::uint32_t i = 0; i < 20000; ++i) {
    const std::uint16_t l = static_cast<std::uint16_t>(1 + i % 50);
    const std::uint32_t px = 100000 + (i % 7) * 100;
    e.update(l, ev(i * 1000ull, i % 5 == 0 ? EventKind::kExecute : EventKind::kAdd, std::uint8_t(i & 1), 100 + i % 9, px),
             book(px, 100 + i % 13, px + 100, 50 + i % 11));
    e.values(l, v);
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

}  // namespace
}  // namespace hft::features

namespace hft::features {
namespace {

TEST(FeatureEdges, VwapToFillEmdAndRollOnSmallBooks) {
  Depth d = book(100000, 300, 100200, 100);
  d.ask_px[1] = 100300;
  d.ask_sz[1] = 400;
  EXPECT_EQ(vwap_to_fill(d, 0, 100), 10.02);
  EXPECT_DOUBLE_EQ(*vwap_to_fill(d, 0, 300), (100200.0 * 100 + 100300.0 * 200) / 300 / 1e4);
  EXPECT_FALSE(vwap_to_fill(d, 0, 501).has_value()) << "more than the displayed asks";
  EXPECT_FALSE(vwap_to_fill(d, 1, 301).has_value());
  EXPECT_FALSE(vwap_to_fill(d, 1, 0).has_value());
  EXPECT_EQ(emd(d, d, 5), 0.0) << "the same profile";
  EXPECT_FALSE(emd(d, Depth{}, 5).has_value()) << "an empty book has no profile";
  // all the mass moves one tick ($0.01) up
  EXPECT_DOUBLE_EQ(*emd(book(100000, 100, 0, 0), book(100100, 50, 0, 0), 5), 0.01);

  Params p;
  p.roll_window = 2;
  p.vwap_shares = 400;
  FeatureEngine e(p, kAllSet, 10, 10);
  Values v;
  e.update(1, ev(1, EventKind::kAdd, 0, 300, 100000), book(100000, 300, 0, 0));
  e.values(1, v);
  expect_finite(v);
  EXPECT_FALSE(v.has_value(Feature::kVwapBuy)) << "no asks";
  EXPECT_FALSE(v.has_value(Feature::kVwapSell)) << "300 bid shares for 400";
  EXPECT_FALSE(v.has_value(Feature::kEmd)) << "no row began yet";
  EXPECT_FALSE(v.has_value(Feature::kMicroPriceDepth));
  e.consume(1);
  // executions at 10.00, 10.01, 10.00, 10.01: changes +1, -1, +1 cents: covariance -1 cent^2
  const std::uint32_t px[] = {100000, 100100, 100000, 100100};
  for (int i = 0; i < 4; ++i) {
    e.update(1, ev(10 + i, EventKind::kExecute, 1, 1, px[i]), d);
    e.values(1, v);
    expect_finite(v);
    EXPECT_EQ(v.has_value(Feature::kRollSpread), i == 3) << "two pairs of changes from the fourth execution";
  }
  EXPECT_DOUBLE_EQ(*v.get(Feature::kRollSpread), 0.02) << "2 sqrt(1 cent^2)";
  EXPECT_TRUE(v.has_value(Feature::kEmd));
  EXPECT_DOUBLE_EQ(*v.get(Feature::kVwapBuy), 10.0275);
  EXPECT_GT(*v.get(Feature::kSlippageBuy), 0.0);
}

}  // namespace
}  // namespace hft::features
