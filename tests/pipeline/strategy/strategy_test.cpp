#include <gtest/gtest.h>

#include "pipeline/strategy/market_maker.hpp"
#include "pipeline/strategy/probe.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {
namespace {

using pipeline::ExecReport;
using pipeline::IntentType;
using pipeline::OrderIntent;
using pipeline::ReportType;

struct Fixture {
  core::SpscRing<OrderIntent> out{64};
  std::vector<BookView> books = std::vector<BookView>(16);
  Context ctx{3, "test", &out, &books};
  Fixture() {
    ctx.init_tables(16);
    ctx.subscribe(5);
    BookView& b = books[5];
    b.locate = 5;
    b.stale = false;
    b.bids[0] = {999'900, 300};
    b.asks[0] = {1'000'100, 100};
    b.timestamp = 34'200'000'000'000;
  }
  std::vector<OrderIntent> drain() {
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (out.try_pop(in)) v.push_back(in);
    return v;
  }
  ExecReport report(ReportType t, std::uint64_t id, Price px, Quantity qty, Quantity leaves) {
    ExecReport r{};
    r.type = t;
    r.order_id = id;
    r.price = px;
    r.quantity = qty;
    r.leaves = leaves;
    r.locate = 5;
    r.strategy = 3;
    return r;
  }
};

TEST(Context, SendsIntentsWithOwnerAndUniqueIds) {
  Fixture f;
  f.ctx.set_event(42, 0);
  const auto a = f.ctx.buy(5, 999'900, 100);
  const auto b = f.ctx.sell(5, 1'000'100, 100, TimeInForce::kIoc);
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a >> 56, 3u) << "strategy index in the top byte";
  const auto v = f.drain();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kNew);
  EXPECT_EQ(v[0].origin_tsc, 42u);
  EXPECT_EQ(v[0].strategy, 3);
  EXPECT_EQ(v[1].side, Side::kSell);
  EXPECT_EQ(v[1].tif, TimeInForce::kIoc);
  EXPECT_EQ(f.ctx.working_count(), 2u);
}

TEST(Context, StaleBookAndHaltRefuseNewOrdersLocally) {
  Fixture f;
  f.books[5].stale = true;
  EXPECT_EQ(f.ctx.buy(5, 999'900, 100), 0u);
  EXPECT_EQ(f.ctx.refusals().stale_book, 1u);
  f.books[5].stale = false;
  f.ctx.set_halted(true);
  EXPECT_EQ(f.ctx.buy(5, 999'900, 100), 0u);
  EXPECT_EQ(f.ctx.refusals().halted, 1u);
  EXPECT_TRUE(f.drain().empty());
}

TEST(Context, ReportsDriveOrderStateAndPosition) {
  Fixture f;
  const auto id = f.ctx.buy(5, 999'900, 100);
  f.drain();
  f.ctx.apply(f.report(ReportType::kAccepted, id, 999'900, 100, 100));
  ASSERT_NE(f.ctx.order(id), nullptr);
  EXPECT_EQ(f.ctx.order(id)->state, OrderState::kWorking);
  EXPECT_TRUE(f.ctx.replace(id, 999'800, 100));
  EXPECT_EQ(f.ctx.order(id)->state, OrderState::kPendingReplace);
  EXPECT_FALSE(f.ctx.replace(id, 999'700, 100)) << "one change in flight at a time";
  f.ctx.apply(f.report(ReportType::kReplaced, id, 999'800, 100, 100));
  f.ctx.apply(f.report(ReportType::kFill, id, 999'800, 40, 60));
  EXPECT_EQ(f.ctx.position(5).shares, 40);
  EXPECT_EQ(f.ctx.position(5).cash, -40 * 999'800);
  EXPECT_EQ(f.ctx.position(5).pnl(1'000'000), 40 * 200);
  EXPECT_TRUE(f.ctx.cancel(id));
  f.ctx.apply(f.report(ReportType::kCanceled, id, 999'800, 100, 0));
  EXPECT_EQ(f.ctx.order(id), nullptr);
  EXPECT_EQ(f.ctx.working_count(), 0u);
}

TEST(Context, RejectedNewOrderIsGoneRejectedCancelKeepsTheOrder) {
  Fixture f;
  const auto a = f.ctx.buy(5, 999'900, 100);
  f.ctx.apply(f.report(ReportType::kRejected, a, 0, 0, 0));
  EXPECT_EQ(f.ctx.order(a), nullptr);
  const auto b = f.ctx.buy(5, 999'900, 100);
  f.ctx.apply(f.report(ReportType::kAccepted, b, 999'900, 100, 100));
  f.ctx.cancel(b);
  f.ctx.apply(f.report(ReportType::kRejected, b, 999'900, 100, 100));
  ASSERT_NE(f.ctx.order(b), nullptr);
  EXPECT_EQ(f.ctx.order(b)->state, OrderState::kWorking);
}

TEST(MarketMaker, QuotesBothSidesAroundTheMicroPriceWithoutCrossing) {
  Fixture f;
  MarketMakerParams p;
  p.quote_size = 100;
  MarketMaker mm(p);
  mm.on_book(f.ctx, f.books[5]);
  const auto v = f.drain();
  ASSERT_EQ(v.size(), 2u);
  const OrderIntent& bid = v[0].side == Side::kBuy ? v[0] : v[1];
  const OrderIntent& ask = v[0].side == Side::kBuy ? v[1] : v[0];
  EXPECT_LT(bid.price, ask.price);
  EXPECT_LT(bid.price, f.books[5].best_ask()) << "post-only bid stays below the ask";
  EXPECT_GT(ask.price, f.books[5].best_bid());
  EXPECT_EQ(bid.price % 100, 0) << "penny grid";
  EXPECT_TRUE(bid.post_only);
  EXPECT_EQ(bid.quantity, 100u);
}

TEST(MarketMaker, LongInventorySkewsQuotesDownAndPullsTheBidAtTheLimit) {
  Fixture f;
  MarketMakerParams p;
  p.quote_size = 100;
  p.max_position = 250;
  p.sigma_floor = 0.02;  // ~2.4 ticks of skew per lot held
  MarketMaker flat(p);
  flat.on_book(f.ctx, f.books[5]);
  auto v = f.drain();
  ASSERT_EQ(v.size(), 2u);
  const Price flat_ask = v[0].side == Side::kSell ? v[0].price : v[1].price;

  // Get long 200 shares through a filled bid.
  Fixture g;
  const auto id = g.ctx.buy(5, 999'900, 200);
  g.drain();
  g.ctx.apply(g.report(ReportType::kAccepted, id, 999'900, 200, 200));
  g.ctx.apply(g.report(ReportType::kFill, id, 999'900, 200, 0));
  MarketMaker mm(p);
  mm.on_book(g.ctx, g.books[5]);
  v = g.drain();
  ASSERT_EQ(v.size(), 1u) << "buying 100 more would exceed 250: only the offer is quoted";
  EXPECT_EQ(v[0].side, Side::kSell);
  EXPECT_LT(v[0].price, flat_ask) << "a long book offers lower to get out";
  EXPECT_GE(v[0].price, g.books[5].best_bid() + 100) << "but never crosses the bid";
}

TEST(MarketMaker, PullsItsQuotesOnAHaltAndQuotesAgainWhenTradingResumes) {
  Fixture f;
  MarketMakerParams p;
  MarketMaker mm(p);
  mm.on_book(f.ctx, f.books[5]);
  auto quotes = f.drain();
  ASSERT_EQ(quotes.size(), 2u);
  for (const auto& q : quotes) f.ctx.apply(f.report(ReportType::kAccepted, q.order_id, q.price, q.quantity, q.quantity));
  ASSERT_EQ(f.ctx.working_count(), 2u);

  f.books[5].trading_state = 'H';  // the strategy stage records the state, then calls
  mm.on_trading_state(f.ctx, 5, 'H');
  auto v = f.drain();
  ASSERT_EQ(v.size(), 2u) << "both quotes pulled";
  EXPECT_EQ(v[0].type, IntentType::kCancel);
  EXPECT_EQ(v[1].type, IntentType::kCancel);
  for (const auto& c : v) f.ctx.apply(f.report(ReportType::kCanceled, c.order_id, 0, 0, 0));
  for (const auto& q : quotes) mm.on_order(f.ctx, OrderUpdate{nullptr, q.order_id, ReportType::kCanceled, {}, 0});

  f.books[5].bids[0] = {999'800, 200};  // the book moves during the halt: still no quote
  mm.on_book(f.ctx, f.books[5]);
  EXPECT_TRUE(f.drain().empty());
  f.books[5].trading_state = 'P';       // a LULD pause is no better
  mm.on_trading_state(f.ctx, 5, 'P');
  mm.on_book(f.ctx, f.books[5]);
  EXPECT_TRUE(f.drain().empty());

  f.books[5].trading_state = 'T';
  mm.on_trading_state(f.ctx, 5, 'T');
  v = f.drain();
  ASSERT_EQ(v.size(), 2u) << "quotes return with trading, without waiting for a book change";
  EXPECT_EQ(v[0].type, IntentType::kNew);
  EXPECT_EQ(v[1].type, IntentType::kNew);
}

TEST(MarketMaker, AQuoteAcceptedAfterTheHaltIsPulled) {
  Fixture f;
  MarketMaker mm(MarketMakerParams{});
  mm.on_book(f.ctx, f.books[5]);
  const auto quotes = f.drain();
  ASSERT_EQ(quotes.size(), 2u);
  f.books[5].trading_state = 'H';
  mm.on_trading_state(f.ctx, 5, 'H');
  EXPECT_TRUE(f.drain().empty()) << "nothing working yet: the quotes are still pending";
  for (const auto& q : quotes) {
    const WorkingOrder* o = f.ctx.apply(f.report(ReportType::kAccepted, q.order_id, q.price, q.quantity, q.quantity));
    mm.on_order(f.ctx, OrderUpdate{o, q.order_id, ReportType::kAccepted, {}, 0});
  }
  const auto v = f.drain();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kCancel);
  EXPECT_EQ(v[1].type, IntentType::kCancel);
}

TEST(ProbeStrategy, AnswersEachProbeOnceOnTheOppositeSide) {
  Fixture f;
  ProbeStrategy probe(ProbeParams{});
  BookView b = f.books[5];
  b.bids[0] = {1'000'000, 1};
  b.asks[0] = {0, 0};
  probe.on_book(f.ctx, b);
  probe.on_book(f.ctx, b);  // the same probe again: no second answer
  auto v = f.drain();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::kSell);
  EXPECT_EQ(v[0].price, 1'000'000);
  EXPECT_EQ(v[0].tif, TimeInForce::kIoc);
  b.bids[0] = {0, 0};
  probe.on_book(f.ctx, b);
  b.asks[0] = {1'000'500, 1};
  probe.on_book(f.ctx, b);
  v = f.drain();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::kBuy);
}

}  // namespace
}  // namespace hft::strategy
