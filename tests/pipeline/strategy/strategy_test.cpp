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

// Bid and ask of the first quotes of `mm` on `book` (after `warm`, if given, as an earlier book).
std::pair<Price, Price> first_quotes(MarketMakerParams p, const BookView& book, const BookView* warm = nullptr) {
  Fixture f;
  MarketMaker mm(std::move(p));
  if (warm != nullptr) {
    f.books[5] = *warm;
    mm.on_book(f.ctx, f.books[5]);
    for (const OrderIntent& in : f.drain()) {  // cancel them: the next book quotes afresh
      const WorkingOrder* o = f.ctx.apply(f.report(ReportType::kRejected, in.order_id, 0, 0, 0));
      mm.on_order(f.ctx, OrderUpdate{o, in.order_id, ReportType::kRejected, {}, 0});
    }
  }
  f.books[5] = book;
  mm.on_book(f.ctx, f.books[5]);
  Price bid = 0, ask = 0;
  for (const OrderIntent& in : f.drain()) (in.side == Side::kBuy ? bid : ask) = in.price;
  return {bid, ask};
}

TEST(MarketMaker, FairValueIsTheLibrarysMicroPriceSkewedByImbalanceAndOfi) {
  Fixture f;
  BookView book = f.books[5];
  book.bids[0] = {999'000, 300};
  book.asks[0] = {1'001'000, 100};  // micro-price 100.05, imbalance +0.5
  EXPECT_DOUBLE_EQ(*features::micro_price(depth_of(book)), 100.05);
  MarketMakerParams p;
  p.quote_size = 100;
  const auto [bid0, ask0] = first_quotes(p, book);
  EXPECT_EQ(bid0, 1'000'300) << "100.05 less a half spread of ~1.3 ticks, floored";
  EXPECT_EQ(ask0, 1'000'700);
  MarketMakerParams skewed = p;
  skewed.imbalance_skew = 4;  // 4 ticks x imbalance 0.5 = 2 ticks up
  const auto [bid1, ask1] = first_quotes(skewed, book);
  EXPECT_EQ(bid1, bid0 + 200);
  EXPECT_EQ(ask1, ask0 + 200);

  // OFI: the same micro-price, but the bid grew 150 -> 300 and the ask 50 -> 100: OFI = 150 - 50 = +100,
  // tanh(100 / 100) = 0.76 -> 3.05 ticks up
  BookView before = book;
  before.bids[0] = {999'000, 150};
  before.asks[0] = {1'001'000, 50};
  before.timestamp -= 1000;
  const auto [bid2, ask2] = first_quotes(p, book, &before);
  EXPECT_EQ(bid2, bid0) << "no OFI skew by default";
  EXPECT_EQ(ask2, ask0);
  MarketMakerParams ofi = p;
  ofi.ofi_skew = 4;
  const auto [bid3, ask3] = first_quotes(ofi, book, &before);
  EXPECT_EQ(bid3, bid0 + 300) << "fair value 100.0805";
  EXPECT_EQ(ask3, ask0 + 300);
  BookView fewer = book;
  fewer.bids[0] = {999'000, 50};
  const Price bid4 = first_quotes(ofi, fewer, &book).first;
  EXPECT_LT(bid4, first_quotes(p, fewer, &book).first) << "a shrinking bid is negative OFI: quotes move down";
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

// The feed shows this strategy's own resting quotes (the venue publishes them like anyone's).
// Adds `o`'s leaves to the level at its price, as the book stage would see it.
void show_on_feed(BookView& b, const WorkingOrder& o) {
  auto& levels = o.side == Side::kBuy ? b.bids : b.asks;
  const bool buy = o.side == Side::kBuy;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].price == o.price) {
      levels[i].shares += o.leaves;
      return;
    }
    if (levels[i].price == 0 || (buy ? o.price > levels[i].price : o.price < levels[i].price)) {
      for (std::size_t j = levels.size() - 1; j > i; --j) levels[j] = levels[j - 1];
      levels[i] = {static_cast<std::int32_t>(o.price), o.leaves};
      return;
    }
  }
}

TEST(BookWithout, RemovesOwnLeavesAndEmptiedLevels) {
  BookView b;
  b.locate = 5;
  b.bids[0] = {1000, 100};  // own 100 only
  b.bids[1] = {900, 300};   // own 100 of 300
  b.bids[2] = {800, 50};
  b.asks[0] = {1100, 70};
  WorkingOrder own_bid{1, 5, Side::kBuy, 1000, 100, 100, OrderState::kWorking, 0, 0};
  WorkingOrder own_bid2{2, 5, Side::kBuy, 900, 100, 100, OrderState::kPendingReplace, 950, 100};
  WorkingOrder pending{3, 5, Side::kSell, 1100, 70, 70, OrderState::kPendingNew, 0, 0};  // not on the book yet
  const WorkingOrder* own[] = {&own_bid, &own_bid2, &pending, nullptr};
  const BookView v = book_without(b, own);
  EXPECT_EQ(v.bids[0].price, 900);
  EXPECT_EQ(v.bids[0].shares, 200u);
  EXPECT_EQ(v.bids[1].price, 800);
  EXPECT_EQ(v.bids[2].price, 0) << "the emptied level is gone, the rest moved up";
  EXPECT_EQ(v.asks[0].shares, 70u) << "an order not yet accepted is not on the book";
  WorkingOrder more{4, 5, Side::kSell, 1100, 500, 500, OrderState::kWorking, 0, 0};
  const WorkingOrder* own2[] = {&more};
  EXPECT_EQ(book_without(b, own2).asks[0].price, 0) << "never below zero: the feed may lag the order";
}

// A market maker prices off the others' book: its own quotes showing on the feed move the
// micro-price, and quoting off that chases itself (quote flicker: a replace per book update,
// until the order-rate limit refuses them). Over a sweep of spreads and sizes, the quotes the
// feed shows back must not make the market maker move them.
TEST(MarketMaker, ItsOwnQuotesOnTheFeedDoNotMoveItsQuotes) {
  int cases = 0, flickering = 0;
  for (const double skew : {0.0, 3.0})  // imbalance and OFI skews (features of the others' book)
  for (const Price spread_ticks : {2, 3, 4, 6, 10})
    for (const std::uint32_t bid_size : {100u, 300u, 1000u})
      for (const std::uint32_t ask_size : {100u, 300u, 1000u}) {
        Fixture f;
        BookView others = f.books[5];
        others.bids[0] = {999'500, bid_size};
        others.asks[0] = {static_cast<std::int32_t>(999'500 + spread_ticks * 100), ask_size};
        MarketMakerParams p;
        p.quote_size = 100;
        p.imbalance_skew = p.ofi_skew = skew;
        MarketMaker mm(p);
        f.books[5] = others;
        mm.on_book(f.ctx, f.books[5]);
        int replaces = 0;
        for (int round = 0; round < 8; ++round) {
          for (const OrderIntent& in : f.drain()) {
            const ReportType t = in.type == IntentType::kNew ? ReportType::kAccepted : ReportType::kReplaced;
            if (in.type == IntentType::kReplace) ++replaces;
            const WorkingOrder* o = f.ctx.apply(f.report(t, in.order_id, in.price, in.quantity, in.quantity));
            ASSERT_NE(o, nullptr);
            mm.on_order(f.ctx, OrderUpdate{o, in.order_id, t, {}, 0});
          }
          f.books[5] = others;  // what the feed shows: the others plus this strategy's quotes
          for (const WorkingOrder& o : f.ctx.orders())
            if (o.state == OrderState::kWorking && o.locate == 5) show_on_feed(f.books[5], o);
          f.books[5].timestamp += 1'000'000;
          mm.on_book(f.ctx, f.books[5]);
        }
        ++cases;
        if (replaces > 0) ++flickering;
        EXPECT_EQ(replaces, 0) << "skew " << skew << ", spread " << spread_ticks << " ticks, sizes " << bid_size << " x " << ask_size;
      }
  EXPECT_EQ(flickering, 0) << "of " << cases << " books";
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
