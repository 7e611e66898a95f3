#include "pipeline/stages/book_stage.hpp"

#include <gtest/gtest.h>

#include "tests/support/alloc_counter.hpp"

namespace hft::pipeline {
namespace {

struct Rig {
  core::SpscRing<MdEvent> in{256};
  core::SpscRing<BookEvent> out{256};
  book::BookSet books{[] {
    book::BookConfig c;
    c.orders = 4096;
    c.levels = 1024;
    c.max_locate = 63;
    return c;
  }()};
  SymbolTable symbols{64};
  risk::ReferencePrices refs{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  BookStage stage{in, out, books, symbols, refs, subs, hop};

  void push(MdType type, Locate l, std::uint64_t ref, char side, std::uint32_t shares, std::int32_t price,
            std::uint64_t aux = 0) {
    MdEvent e{};
    e.type = type;
    e.time_locate = MdEvent::pack(34'200'000'000'000 + ref, l);
    e.ref = ref;
    e.side = side;
    e.shares = shares;
    e.price = price;
    e.aux = aux;
    e.origin_tsc = core::rdtsc();
    e.stage_tsc = e.origin_tsc;
    ASSERT_TRUE(in.try_push(e));
  }
  // The stage ends a batch early after publishing (latency first): poll until the input is empty.
  void run() {
    while (!in.empty_approx()) stage.poll();
  }
  std::vector<BookEvent> drain() {
    std::vector<BookEvent> v;
    BookEvent e;
    while (out.try_pop(e)) v.push_back(e);
    return v;
  }
};

TEST(BookStage, DirectoryFillsTheSymbolTable) {
  Rig r;
  r.push(MdType::kDirectory, 7, 0, 'G', 50, 0, itch::Symbol::from("MSFT").key());
  r.run();
  EXPECT_EQ(r.symbols.locate_of("MSFT"), 7);
  const book::StockInfo info = r.books.info(7);
  EXPECT_EQ(info.symbol.view(), "MSFT");
  EXPECT_TRUE(info.in_directory);
  EXPECT_EQ(info.round_lot, 50u);
  EXPECT_EQ(info.market_category, 'G');
  EXPECT_TRUE(r.drain().empty());
}

// Issue 11: ITCH 'Y' (Reg SHO short sale price test) sets risk's per-locate flag: '1' and '2'
// restrict short sales, '0' lifts it; other locates are untouched.
TEST(BookStage, RegShoSetsTheShortSaleFlagForRisk) {
  Rig r;
  EXPECT_FALSE(r.refs.view(5).short_sale_restricted);
  r.push(MdType::kRegSho, 5, 0, '1', 0, 0, itch::Symbol::from("MSFT").key());
  r.run();
  EXPECT_TRUE(r.refs.view(5).short_sale_restricted);
  EXPECT_FALSE(r.refs.view(6).short_sale_restricted);
  r.push(MdType::kRegSho, 5, 1, '0', 0, 0, itch::Symbol::from("MSFT").key());
  r.run();
  EXPECT_FALSE(r.refs.short_sale_restricted(5));
  r.push(MdType::kRegSho, 5, 2, '2', 0, 0, itch::Symbol::from("MSFT").key());
  r.run();
  EXPECT_TRUE(r.refs.short_sale_restricted(5));
}

TEST(BookStage, TradingStatesArePublishedForEveryStockAndWaitForRoom) {
  core::SpscRing<MdEvent> in(16);
  core::SpscRing<BookEvent> out(2);
  Rig r;
  BookStage stage(in, out, r.books, r.symbols, r.refs, r.subs, r.hop);
  r.subs.set(5);
  const char states[] = {'H', 'Q', 'T'};
  for (int i = 0; i < 3; ++i) {
    MdEvent e{};
    e.type = MdType::kTradingState;
    e.time_locate = MdEvent::pack(34'200'000'000'000 + static_cast<std::uint64_t>(i), i == 0 ? 6 : 5);
    e.aux = itch::Symbol::from("MSFT").key();
    e.side = states[i];
    ASSERT_TRUE(in.try_push(e));
  }
  while (stage.poll() != 0) {
  }
  EXPECT_EQ(in.size_approx(), 1u) << "the third state waits, it is not dropped";
  EXPECT_EQ(r.books.info(5).trading_state, 'Q');
  BookEvent b;
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.type, BookEventType::kTradingState);
  EXPECT_EQ(b.locate, 6) << "not subscribed, published all the same";
  EXPECT_EQ(b.trading_state(), 'H');
  EXPECT_EQ(b.timestamp, 34'200'000'000'000u);
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.locate, 5);
  EXPECT_EQ(b.trading_state(), 'Q');
  stage.poll();
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.trading_state(), 'T');
  EXPECT_EQ(r.books.info(5).trading_state, 'T');
  EXPECT_EQ(stage.counters().trading_states, 3u);
  EXPECT_EQ(stage.counters().overflow, 0u);
}

TEST(BookStage, PublishesDepthOnlyForSubscribedStocksAndOnlyOnChange) {
  Rig r;
  r.subs.set(5);
  r.push(MdType::kAdd, 5, 1, 'B', 100, 1'000'000);
  r.push(MdType::kAdd, 5, 2, 'S', 200, 1'000'100);
  r.push(MdType::kAdd, 6, 3, 'B', 100, 500'000);   // not subscribed
  r.push(MdType::kAdd, 5, 4, 'B', 50, 990'000);    // second bid level: depth changes
  r.run();
  auto v = r.drain();
  ASSERT_EQ(v.size(), 3u);
  const BookEvent& last = v.back();
  EXPECT_EQ(last.type, BookEventType::kDepthChange);
  EXPECT_EQ(last.locate, 5);
  EXPECT_EQ(last.bids[0].price, 1'000'000);
  EXPECT_EQ(last.bids[0].shares, 100u);
  EXPECT_EQ(last.bids[1].price, 990'000);
  EXPECT_EQ(last.asks[0].price, 1'000'100);
  EXPECT_EQ(last.asks[0].shares, 200u);
  EXPECT_EQ(r.refs.get(5), 1'000'050) << "mid as the reference price before any trade";
  EXPECT_EQ(last.l3_kind(), L3Kind::kAdd) << "the depth event carries the message's L3 fact";
  EXPECT_EQ(last.l3_side(), 0);
  EXPECT_EQ(last.l3_price(), 990'000u);
  EXPECT_EQ(last.l3_shares(), 50u);
  // A change below the top 5 levels publishes no depth, only the message's L3 fact (kOrder).
  for (int i = 0; i < 5; ++i) r.push(MdType::kAdd, 5, 10 + static_cast<std::uint64_t>(i), 'B', 10, 980'000 - 100 * i);
  r.run();
  r.drain();
  r.push(MdType::kAdd, 5, 20, 'B', 10, 900'000);
  r.push(MdType::kCancel, 5, 20, ' ', 5, 0);
  r.push(MdType::kDelete, 5, 20, ' ', 0, 0);
  r.push(MdType::kCancel, 5, 999, ' ', 5, 0);  // an unknown order: no fact, nothing published
  r.run();
  v = r.drain();
  ASSERT_EQ(v.size(), 3u);
  for (const BookEvent& o : v) EXPECT_EQ(o.type, BookEventType::kOrder);
  EXPECT_EQ(v[0].l3_kind(), L3Kind::kAdd);
  EXPECT_EQ(v[0].l3_price(), 900'000u);
  EXPECT_EQ(v[0].l3_shares(), 10u);
  EXPECT_EQ(v[1].l3_kind(), L3Kind::kCancel);
  EXPECT_EQ(v[1].l3_shares(), 5u);
  EXPECT_EQ(v[2].l3_kind(), L3Kind::kDelete);
  EXPECT_EQ(v[2].l3_shares(), 5u) << "what was left of the order";
  EXPECT_EQ(r.stage.counters().order_events, 5u) << "and two of the five adds above, below the top 5";
  // A replace that puts back the same shares at the same price leaves the depth as it was.
  r.push(MdType::kReplace, 5, 4, ' ', 50, 990'000, 30);
  r.run();
  v = r.drain();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].type, BookEventType::kOrder);
  EXPECT_EQ(v[0].l3_kind(), L3Kind::kReplace);
  EXPECT_EQ(v[0].l3_shares(), 50u);
  EXPECT_EQ(v[0].l3_new_shares(), 50u);
  r.push(MdType::kReplace, 5, 30, ' ', 60, 990'000, 31);
  r.run();
  v = r.drain();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].bids[1].shares, 60u);
}

TEST(BookStage, ADepthChangeLostToAFullRingIsMadeGoodByTheNextOne) {
  core::SpscRing<MdEvent> in(16);
  core::SpscRing<BookEvent> out(2);
  Rig r;
  BookStage stage(in, out, r.books, r.symbols, r.refs, r.subs, r.hop);
  r.subs.set(5);
  for (std::uint64_t i = 0; i < 3; ++i) {
    MdEvent e{};
    e.type = MdType::kAdd;
    e.time_locate = MdEvent::pack(34'200'000'000'000 + i, 5);
    e.ref = 1 + i;
    e.side = 'B';
    e.shares = 100;
    e.price = 1'000'000 - 100 * static_cast<std::int32_t>(i);
    ASSERT_TRUE(in.try_push(e));
  }
  while (stage.poll() != 0) {
  }
  EXPECT_EQ(stage.counters().overflow, 1u);
  BookEvent b;
  ASSERT_TRUE(out.try_pop(b));
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.bids[2].price, 0) << "the third level's event was lost";
  MdEvent e{};
  e.type = MdType::kCancel;
  e.time_locate = MdEvent::pack(34'200'000'000'100, 5);
  e.ref = 1;
  e.shares = 10;
  ASSERT_TRUE(in.try_push(e));
  stage.poll();
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.bids[0].shares, 90u);
  EXPECT_EQ(b.bids[2].price, 999'800) << "every event carries the whole depth";
}

TEST(BookStage, ExecutionsPublishATradeWithTheAggressorAndSetTheReferencePrice) {
  Rig r;
  r.subs.set(5);
  r.push(MdType::kAdd, 5, 1, 'S', 100, 1'000'100);
  r.push(MdType::kExecute, 5, 1, ' ', 40, 0, 77);
  r.run();
  auto v = r.drain();
  ASSERT_EQ(v.size(), 3u);  // depth, trade, depth
  EXPECT_EQ(v[1].type, BookEventType::kTrade);
  EXPECT_EQ(v[1].trade_price, 1'000'100);
  EXPECT_EQ(v[1].trade_shares, 40u);
  EXPECT_EQ(v[1].trade_side, 'B') << "a buyer lifted the offer";
  EXPECT_EQ(v[2].asks[0].shares, 60u);
  EXPECT_EQ(r.refs.get(5), 1'000'100);
}

// Issue 11, item 1: the reference price is the last trade, else the mid. A depth change after a
// trade must not overwrite the trade with the mid.
TEST(BookStage, TheReferencePriceIsTheLastTradeNotTheMidOfTheNextDepthChange) {
  Rig r;
  r.subs.set(5);
  r.push(MdType::kAdd, 5, 1, 'B', 100, 1'000'000);
  r.push(MdType::kAdd, 5, 2, 'S', 100, 1'000'400);
  r.run();
  EXPECT_EQ(r.refs.get(5), 1'000'200) << "no trade yet: the mid";
  r.push(MdType::kExecute, 5, 2, ' ', 40, 0, 1);  // trade at the ask
  r.run();
  EXPECT_EQ(r.refs.get(5), 1'000'400);
  r.push(MdType::kAdd, 5, 3, 'B', 100, 1'000'100);  // a better bid: the depth changes
  r.run();
  EXPECT_EQ(r.refs.get(5), 1'000'400) << "the last trade stays the reference after a depth change";
}

TEST(BookStage, FeedMarkersPassThroughAndWaitForRoom) {
  core::SpscRing<MdEvent> in(16);
  core::SpscRing<BookEvent> out(2);
  Rig r;  // for the book and tables
  BookStage stage(in, out, r.books, r.symbols, r.refs, r.subs, r.hop);
  for (int i = 0; i < 3; ++i) {
    MdEvent e{};
    e.type = i % 2 == 0 ? MdType::kFeedStale : MdType::kFeedFresh;
    ASSERT_TRUE(in.try_push(e));
  }
  stage.poll();
  EXPECT_EQ(out.size_approx(), 2u);
  EXPECT_EQ(in.size_approx(), 1u) << "the third marker waits, it is not dropped";
  BookEvent b;
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.type, BookEventType::kFeedStale);
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.type, BookEventType::kFeedFresh);
  stage.poll();
  ASSERT_TRUE(out.try_pop(b));
  EXPECT_EQ(b.type, BookEventType::kFeedStale);
}

// Issue 18, finding 2: a new feed session (net stage marker kind 3) empties every book, tells the
// strategies (kFeedReset), and the same order references of the new day apply cleanly.
TEST(BookStage, ANewFeedSessionResetsTheBooks) {
  Rig r;
  r.push(MdType::kAdd, 5, 1, 'B', 100, 1'000'000);
  r.push(MdType::kAdd, 5, 2, 'S', 200, 1'000'100);
  r.push(MdType::kFeedReset, 0, 0, ' ', 0, 0);
  r.push(MdType::kAdd, 5, 1, 'B', 300, 990'000);  // the new day reuses reference 1
  for (int i = 0; i < 10; ++i) r.stage.poll();
  bool reset = false;
  BookEvent b;
  while (r.out.try_pop(b)) reset = reset || b.type == BookEventType::kFeedReset;
  EXPECT_TRUE(reset);
  EXPECT_EQ(r.books.live_orders(), 1u);
  EXPECT_EQ(r.books.best(5, book::Side::kBid).price, 990'000u);
  EXPECT_EQ(r.books.best(5, book::Side::kBid).shares, 300u);
  EXPECT_EQ(r.books.best(5, book::Side::kAsk).shares, 0u);
  EXPECT_EQ(r.stage.counters().resets, 1u);
}

TEST(BookStage, SteadyStateAllocatesNothing) {
  Rig r;
  r.subs.set(5);
  r.push(MdType::kAdd, 5, 1, 'B', 100, 1'000'000);
  r.run();
  r.drain();
  const hft::testing::AllocationScope scope;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    r.push(MdType::kAdd, 5, 100 + i, 'S', 100, 1'000'100 + static_cast<std::int32_t>(i % 7) * 100);
    r.push(MdType::kDelete, 5, 100 + i, ' ', 0, 0);
    r.run();
    BookEvent e;
    while (r.out.try_pop(e)) {
    }
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

}  // namespace
}  // namespace hft::pipeline
