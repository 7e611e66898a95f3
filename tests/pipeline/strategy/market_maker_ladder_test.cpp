// The market maker's ladder and guards (pipeline/strategy/market_maker.hpp): levels and sizes,
// minimum edge, replace threshold, widening and pulling on volatility, spread blow-out, a stale book.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "pipeline/strategy/market_maker.hpp"

namespace hft::strategy {
namespace {

using pipeline::ExecReport;
using pipeline::IntentType;
using pipeline::OrderIntent;
using pipeline::ReportType;

struct Rig {
  core::SpscRing<OrderIntent> out{256};
  std::vector<BookView> books = std::vector<BookView>(8);
  Context ctx{1, "mm", &out, &books};
  MarketMaker mm;
  std::uint64_t t = 34'200'000'000'000;
  explicit Rig(MarketMakerParams p) : mm(std::move(p)) {
    ctx.init_tables(8);
    ctx.subscribe(5);
    set(999'900, 1'000'100);
  }
  void set(Price bid, Price ask, Quantity bq = 300, Quantity aq = 300) {
    BookView& b = books[5];
    b.locate = 5;
    b.stale = false;
    b.bids = {};
    b.asks = {};
    b.bids[0] = {static_cast<std::int32_t>(bid), bq};
    b.asks[0] = {static_cast<std::int32_t>(ask), aq};
    b.timestamp = t;
  }
  // A book event `dt_ms` after the last one.
  std::vector<OrderIntent> book(Price bid, Price ask, double dt_ms = 100) {
    t += static_cast<std::uint64_t>(dt_ms * 1e6);
    set(bid, ask);
    ctx.set_event(0, t);
    mm.on_book(ctx, books[5]);
    return drain();
  }
  std::vector<OrderIntent> drain() {
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (out.try_pop(in)) v.push_back(in);
    return v;
  }
  void accept(const std::vector<OrderIntent>& v) {
    for (const auto& in : v) {
      ExecReport r{};
      r.type = in.type == IntentType::kNew ? ReportType::kAccepted
               : in.type == IntentType::kReplace ? ReportType::kReplaced
                                                 : ReportType::kCanceled;
      r.order_id = in.order_id;
      r.price = in.price;
      r.quantity = in.quantity;
      r.leaves = in.type == IntentType::kCancel ? 0 : in.quantity;
      r.locate = 5;
      r.side = in.side;
      r.strategy = 1;
      const WorkingOrder* o = ctx.apply(r);
      if (r.type != ReportType::kReplaced)
        mm.on_order(ctx, OrderUpdate{o != nullptr && o->state != OrderState::kDone ? o : nullptr, r.order_id, r.type, {}, 0});
    }
  }
  void fill(Side side, Price px, Quantity q) {  // an execution of an order placed for the purpose
    const auto id = side == Side::kBuy ? ctx.buy(5, px, q) : ctx.sell(5, px, q);
    drain();
    ExecReport r{};
    r.order_id = id;
    r.locate = 5;
    r.side = side;
    r.strategy = 1;
    r.price = px;
    r.type = ReportType::kAccepted;
    r.quantity = q;
    r.leaves = q;
    ctx.apply(r);
    r.type = ReportType::kFill;
    r.leaves = 0;
    ctx.apply(r);
  }
};

MarketMakerParams base() {
  MarketMakerParams p;
  p.symbols = {"AAA"};
  p.quote_size = 100;
  p.max_position = 10'000;
  return p;
}

std::vector<Price> prices(const std::vector<OrderIntent>& v, Side side) {
  std::vector<Price> out;
  for (const auto& in : v)
    if (in.side == side && in.type != IntentType::kCancel) out.push_back(in.price);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MarketMakerLadder, QuotesLevelsSpacedApartWithTheirSizes) {
  MarketMakerParams p = base();
  p.levels = 3;
  p.level_spacing_ticks = 2;
  p.level_size = 50;
  Rig r(p);
  const auto v = r.book(999'900, 1'000'100);
  ASSERT_EQ(v.size(), 6u);
  const auto bids = prices(v, Side::kBuy), asks = prices(v, Side::kSell);
  ASSERT_EQ(bids.size(), 3u);
  EXPECT_EQ(bids[2] - bids[1], 200);
  EXPECT_EQ(bids[1] - bids[0], 200);
  EXPECT_EQ(asks[1] - asks[0], 200);
  for (const auto& in : v) {
    const bool best = in.price == bids[2] || in.price == asks[0];
    EXPECT_EQ(in.quantity, best ? 100u : 50u) << in.price;
    EXPECT_TRUE(in.post_only);
  }
  // The position limit pulls the deeper levels first: long 9,900 of 10,000 leaves room for the
  // first bid (100) but not the second (150 in all).
  Rig g(p);
  g.fill(Side::kBuy, 999'900, 9'900);
  const auto w = g.book(999'900, 1'000'100);
  EXPECT_EQ(prices(w, Side::kBuy).size(), 1u);
  EXPECT_EQ(prices(w, Side::kSell).size(), 3u);
}

TEST(MarketMakerLadder, MinimumEdgeKeepsQuotesAwayFromFairValueWhateverTheSkew) {
  MarketMakerParams p = base();
  p.sigma_floor = 0.02;  // ~2.4 ticks of skew per lot
  Rig skew(p);
  skew.fill(Side::kBuy, 999'900, 500);  // long 5 lots: the reservation price is ~12 ticks under 100.00
  const Price ask_no_edge = prices(skew.book(999'000, 1'001'000), Side::kSell).at(0);
  EXPECT_LT(ask_no_edge, 1'000'000) << "without an edge, a long book offers below the fair value";
  p.min_edge_ticks = 2;
  Rig edge(p);
  edge.fill(Side::kBuy, 999'900, 500);
  const auto v = edge.book(999'000, 1'001'000);
  EXPECT_GE(prices(v, Side::kSell).at(0), 1'000'200) << "fair value 100.00 + 2 ticks";
  EXPECT_LE(prices(v, Side::kBuy).at(0), 999'800);
}

TEST(MarketMakerLadder, ReplacesOnlyWhenTheQuoteMovesByReplaceTicks) {
  MarketMakerParams p = base();
  p.replace_ticks = 3;
  Rig r(p);
  auto v = r.book(999'900, 1'000'100);
  ASSERT_EQ(v.size(), 2u);
  r.accept(v);
  EXPECT_TRUE(r.book(1'000'000, 1'000'200).empty()) << "a 1-tick move keeps the quotes";
  EXPECT_TRUE(r.book(1'000'100, 1'000'300).empty()) << "2 ticks: still kept";
  v = r.book(1'000'200, 1'000'400);
  ASSERT_EQ(v.size(), 2u) << "3 ticks: both replaced";
  for (const auto& in : v) {
    EXPECT_EQ(in.type, IntentType::kReplace);
    EXPECT_EQ(in.quantity, 100u) << "the leaves wanted after the replace";
  }
}

// Jumps of the book widen the quoted spread (sigma in the model, and the fast/slow ratio).
TEST(MarketMakerLadder, WidensInVolatilityAndPullsOnAVolatilityJump) {
  MarketMakerParams p = base();
  p.sigma_floor = 0.001;
  p.vol_widen_ratio = 1.5;
  const auto spread_after = [&](bool jumpy, MarketMakerParams q) {
    Rig r(q);
    Price mid = 1'000'000;
    std::vector<OrderIntent> v;
    for (int i = 0; i < 60; ++i) {
      mid += jumpy ? (i % 2 == 0 ? 500 : -500) : (i % 2 == 0 ? 100 : -100);
      v = r.book(mid - 100, mid + 100);
      r.accept(v);
    }
    const WorkingOrder* bid = nullptr;
    const WorkingOrder* ask = nullptr;
    for (const auto& o : r.ctx.orders())
      if (o.state == OrderState::kWorking) (o.side == Side::kBuy ? bid : ask) = &o;
    return std::pair{bid != nullptr && ask != nullptr ? ask->price - bid->price : 0, r.mm.last_pull(5)};
  };
  const auto calm = spread_after(false, p).first;
  const auto wild = spread_after(true, p).first;
  ASSERT_GT(calm, 0);
  EXPECT_GT(wild, calm) << "calm " << calm << ", wild " << wild;

  // A sudden jump after a calm stretch: the fast estimate runs ahead of the slow one.
  p.vol_pull_ratio = 3;
  Rig r(p);
  Price mid = 1'000'000;
  for (int i = 0; i < 100; ++i) {
    mid += i % 2 == 0 ? 100 : -100;
    r.accept(r.book(mid - 100, mid + 100));
  }
  EXPECT_EQ(r.ctx.working_count(), 2u);
  EXPECT_EQ(r.mm.last_pull(5), MarketMaker::Pull::kNone);
  r.accept(r.book(mid + 4'900, mid + 5'100, 10));  // 50 ticks in 10 ms
  const auto [fast, slow] = r.mm.sigmas(5);
  EXPECT_GT(fast, 3 * slow);
  EXPECT_EQ(r.mm.last_pull(5), MarketMaker::Pull::kVolatility);
  EXPECT_EQ(r.ctx.working_count(), 0u) << "both quotes canceled";
}

TEST(MarketMakerLadder, PullsWhenTheSpreadBlowsOutAndComesBack) {
  MarketMakerParams p = base();
  p.max_spread_ticks = 10;
  Rig r(p);
  r.accept(r.book(999'900, 1'000'100));
  ASSERT_EQ(r.ctx.working_count(), 2u);
  auto v = r.book(999'000, 1'002'000);  // 30 ticks wide
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kCancel);
  EXPECT_EQ(v[1].type, IntentType::kCancel);
  EXPECT_EQ(r.mm.last_pull(5), MarketMaker::Pull::kSpread);
  r.accept(v);
  v = r.book(999'900, 1'000'100);
  EXPECT_EQ(v.size(), 2u) << "quotes again once the spread is back";
  EXPECT_EQ(r.mm.last_pull(5), MarketMaker::Pull::kNone);
}

TEST(MarketMakerLadder, PullsWhenTheBookStopsChanging) {
  MarketMakerParams p = base();
  p.stale_ms = 500;
  Rig r(p);
  r.accept(r.book(999'900, 1'000'100));
  ASSERT_EQ(r.ctx.working_count(), 2u);
  r.ctx.set_event(0, r.t + 400'000'000);  // feed time moves on (other symbols) 400 ms
  r.mm.on_timer(r.ctx, 0);
  EXPECT_TRUE(r.drain().empty());
  r.ctx.set_event(0, r.t + 600'000'000);
  r.mm.on_timer(r.ctx, 0);
  auto v = r.drain();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kCancel);
  EXPECT_EQ(r.mm.last_pull(5), MarketMaker::Pull::kStale);
  r.accept(v);
  r.mm.on_timer(r.ctx, 0);
  EXPECT_TRUE(r.drain().empty()) << "pulled once";
}

}  // namespace
}  // namespace hft::strategy
