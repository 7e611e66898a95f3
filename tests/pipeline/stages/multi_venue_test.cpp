// Issue 14, the market-data side of several venues: instrument ids across venues, the parse and
// book stages with two venues, the consolidated view, and what strategies hear.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "gateways/itch/encoder.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/instruments.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "pipeline/strategy/market_maker.hpp"

namespace hft::pipeline {
namespace {

std::uint64_t symbol_key(const char* s) { return itch::Symbol::from(s).key(); }

TEST(InstrumentMap, FirstVenueLocatesAreIdsAndSymbolsJoinAcrossVenues) {
  InstrumentMap m(2, 100);
  EXPECT_EQ(m.map(0, 7), 7) << "the first venue's locate is the instrument before its directory";
  EXPECT_EQ(m.map(1, 7), InstrumentMap::kNone) << "another venue's unlisted locate is unknown";
  EXPECT_EQ(m.on_directory(0, 7, symbol_key("AAA")), 7);
  EXPECT_EQ(m.on_directory(1, 3, symbol_key("AAA")), 7) << "the same symbol on another venue is the same instrument";
  EXPECT_EQ(m.map(1, 3), 7);
  // A symbol first seen on the second venue: the first id above the first venue's range.
  EXPECT_EQ(m.on_directory(1, 7, symbol_key("BBB")), 101);
  EXPECT_EQ(m.map(1, 7), 101);
  EXPECT_EQ(m.on_directory(0, 9, symbol_key("BBB")), 101) << "the symbol keeps its id on the first venue";
  EXPECT_EQ(m.map(0, 9), 101);
  EXPECT_EQ(m.on_directory(0, 200, symbol_key("CCC")), InstrumentMap::kNone) << "first-venue locate above its range";
  // A new session on the first venue reuses locate 7 for another symbol: it must not take AAA's id.
  m.reset_venue(0);
  EXPECT_EQ(m.map(0, 9), 9);
  const Locate ddd = m.on_directory(0, 7, symbol_key("DDD"));
  EXPECT_NE(ddd, 7);
  EXPECT_GT(ddd, 100);
  EXPECT_EQ(m.on_directory(0, 8, symbol_key("AAA")), 7) << "AAA keeps its id";
}

// The configuration's symbols get their ids first, so a restart gives every traded symbol the same
// id whatever venue's directory arrives first (the journal names instruments by id). Without it,
// the id depended on that order: in the two-venue crash test a restart that read BX's directory
// first replayed AAA's position onto an unnamed instrument ("#unnamed0 -100 ... AAA -200" against
// the venues' "AAA -300").
TEST(InstrumentMap, PreassignedSymbolsKeepTheirIdsWhateverVenueListsThemFirst) {
  Locate first_run_aaa = 0, first_run_bbb = 0;
  for (const bool bx_first : {false, true}) {
    InstrumentMap m(2, 100);
    const Locate aaa = m.preassign(symbol_key("AAA")), bbb = m.preassign(symbol_key("BBB"));
    EXPECT_EQ(m.preassign(symbol_key("AAA")), aaa) << "asking again gives the same id";
    if (bx_first) {
      EXPECT_EQ(m.on_directory(1, 4, symbol_key("BBB")), bbb);
      EXPECT_EQ(m.on_directory(1, 3, symbol_key("AAA")), aaa);
      EXPECT_EQ(m.on_directory(0, 7, symbol_key("AAA")), aaa);
      EXPECT_EQ(m.on_directory(0, 8, symbol_key("BBB")), bbb);
      EXPECT_EQ(aaa, first_run_aaa);
      EXPECT_EQ(bbb, first_run_bbb);
    } else {
      EXPECT_EQ(m.on_directory(0, 7, symbol_key("AAA")), aaa);
      EXPECT_EQ(m.on_directory(0, 8, symbol_key("BBB")), bbb);
      EXPECT_EQ(m.on_directory(1, 3, symbol_key("AAA")), aaa);
      EXPECT_EQ(m.on_directory(1, 4, symbol_key("BBB")), bbb);
      first_run_aaa = aaa;
      first_run_bbb = bbb;
    }
    EXPECT_EQ(m.map(0, 7), aaa);
    EXPECT_EQ(m.map(1, 3), aaa);
    EXPECT_EQ(m.map(1, 4), bbb);
    EXPECT_GT(aaa, 100) << "from the upper range: never a first-venue locate";
    EXPECT_EQ(m.on_directory(0, 9, symbol_key("CCC")), 9) << "an unconfigured symbol: as before";
  }
}

RxMessage venue_rx(const std::uint8_t* msg, std::size_t len, VenueId venue) {
  RxMessage m{};
  m.origin_tsc = core::rdtsc();
  m.length = static_cast<std::uint8_t>(len);
  m.venue = venue;
  std::memcpy(m.bytes.data(), msg, len);
  return m;
}

// Two venues list AAA under different locates (5 and 9): their messages become events of one
// instrument with the venue attached; a locate the second venue never listed is dropped.
TEST(MultiVenueParse, DifferentLocatesOfOneSymbolAreOneInstrument) {
  core::SpscRing<RxMessage> in{64};
  core::SpscRing<MdEvent> out{64};
  core::Histogram hop{1, 1'000'000'000, 3};
  InstrumentMap map(2, 32767);
  ParseStage stage{in, out, hop, &map};
  std::uint8_t b[64];
  const auto aaa = itch::Symbol::from("AAA");
  auto push = [&](std::size_t n, VenueId v) { ASSERT_TRUE(in.try_push(venue_rx(b, n, v))); };
  push(itch::encode::stock_directory(b, itch::MessageHeader{5, 0, 1}, itch::StockDirectoryFields{.stock = aaa}), 0);
  push(itch::encode::stock_directory(b, itch::MessageHeader{9, 0, 2}, itch::StockDirectoryFields{.stock = aaa}), 1);
  push(itch::encode::add_order(b, itch::MessageHeader{5, 0, 3}, 1, 'B', 100, aaa, 100'000), 0);
  push(itch::encode::add_order(b, itch::MessageHeader{9, 0, 4}, 1, 'B', 200, aaa, 100'100), 1);
  push(itch::encode::add_order(b, itch::MessageHeader{11, 0, 5}, 2, 'B', 200, aaa, 100'100), 1);  // never listed
  RxMessage stale{};
  stale.kind = 1;
  stale.venue = 1;
  ASSERT_TRUE(in.try_push(stale));
  while (stage.poll() != 0) {
  }
  std::vector<MdEvent> ev;
  MdEvent e{};
  while (out.try_pop(e)) ev.push_back(e);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].type, MdType::kDirectory);
  EXPECT_EQ(ev[0].locate(), 5);
  EXPECT_EQ(ev[1].locate(), 5) << "the second venue's locate 9 is instrument 5";
  EXPECT_EQ(ev[1].venue, 1);
  EXPECT_EQ(ev[2].locate(), 5);
  EXPECT_EQ(ev[2].venue, 0);
  EXPECT_EQ(ev[3].locate(), 5);
  EXPECT_EQ(ev[3].venue, 1);
  EXPECT_EQ(ev[3].price, 100'100);
  EXPECT_EQ(ev[4].type, MdType::kFeedStale);
  EXPECT_EQ(ev[4].venue, 1) << "a venue's stale marker says its venue";
  EXPECT_EQ(stage.unmapped(), 1u);
}

// The book stage with two venues: a book set each (the same order reference on both venues is
// two orders), events tagged with their venue, and risk's touch the best of the fresh venues.
struct TwoVenueRig {
  static book::BookConfig config() {
    book::BookConfig c;
    c.orders = 4096;
    c.levels = 1024;
    c.max_locate = 63;
    return c;
  }
  core::SpscRing<MdEvent> in{256};
  core::SpscRing<BookEvent> out{256};
  book::BookSet a{config()}, b{config()};
  SymbolTable symbols{64};
  risk::ReferencePrices refs{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  BookStage stage{in, out, a, symbols, refs, subs, hop};
  TwoVenueRig() { stage.add_venue(b); }

  void push(VenueId v, MdType type, Locate l, std::uint64_t ref, char side, std::uint32_t shares, std::int32_t price,
            std::uint64_t aux = 0) {
    MdEvent e{};
    e.type = type;
    e.venue = v;
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

TEST(MultiVenueBook, BooksPerVenueAndTheConsolidatedTouch) {
  TwoVenueRig r;
  r.subs.set(5);
  r.push(0, MdType::kDirectory, 5, 0, 'Q', 100, 0, symbol_key("AAA"));
  r.push(1, MdType::kDirectory, 5, 0, 'Q', 100, 0, symbol_key("AAA"));
  r.push(0, MdType::kAdd, 5, 1, 'B', 100, 100'000);
  r.push(0, MdType::kAdd, 5, 2, 'S', 100, 100'500);
  r.push(1, MdType::kAdd, 5, 1, 'B', 300, 100'100);  // the same reference on the other venue
  r.push(1, MdType::kAdd, 5, 2, 'S', 300, 100'600);
  r.run();
  EXPECT_EQ(r.a.best(5, book::Side::kBid).price, 100'000u);
  EXPECT_EQ(r.b.best(5, book::Side::kBid).price, 100'100u);
  EXPECT_EQ(r.b.best(5, book::Side::kBid).shares, 300u);
  EXPECT_EQ(r.a.live_orders(), 2u);
  EXPECT_EQ(r.b.live_orders(), 2u);
  const auto events = r.drain();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].venue, 0u);
  EXPECT_EQ(events[2].venue, 1u);
  EXPECT_EQ(events[3].venue, 1u);
  EXPECT_EQ(events[3].bids[0].price, 100'100);
  EXPECT_EQ(events[3].timestamp, 34'200'000'000'002u) << "the venue byte leaves the timestamp whole";
  // NBBO: the bid of the second venue, the ask of the first.
  EXPECT_EQ(r.refs.view(5).bid, 100'100);
  EXPECT_EQ(r.refs.view(5).ask, 100'500);
  // The second venue goes stale: the next change leaves it out of the consolidated touch.
  r.push(1, MdType::kFeedStale, 0, 0, ' ', 0, 0);
  r.push(0, MdType::kAdd, 5, 3, 'B', 100, 99'900);
  r.push(0, MdType::kCancel, 5, 3, ' ', 100, 0);  // no depth change at the top: nothing recomputed
  r.push(0, MdType::kAdd, 5, 4, 'S', 100, 100'400);
  r.run();
  EXPECT_TRUE(r.stage.venue_stale(1));
  EXPECT_FALSE(r.stage.venue_stale(0));
  EXPECT_EQ(r.refs.view(5).bid, 100'000) << "the stale venue's better bid is out";
  EXPECT_EQ(r.refs.view(5).ask, 100'400);
  const auto later = r.drain();
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later[0].type, BookEventType::kFeedStale);
  EXPECT_EQ(later[0].venue, 1u);
  EXPECT_TRUE(r.b.info(5).flags & book::kFlagStale) << "only that venue's books are marked";
  EXPECT_FALSE(r.a.info(5).flags & book::kFlagStale);
}

strategy::BookView venue_view(VenueId v, std::int32_t bid, std::uint32_t bid_shares, std::int32_t ask, std::uint32_t ask_shares,
                        bool stale = false) {
  strategy::BookView b;
  b.locate = 5;
  b.venue = v;
  b.stale = stale;
  b.bids[0] = {bid, bid_shares};
  b.bids[1] = {bid - 100, 50};
  b.asks[0] = {ask, ask_shares};
  b.asks[1] = {ask + 100, 50};
  return b;
}

TEST(Consolidated, NbboPicksTheBetterVenueAndAggregatesLevels) {
  const auto a = venue_view(0, 100'000, 100, 100'500, 100);
  const auto b = venue_view(1, 100'100, 300, 100'500, 200);
  const strategy::BookView* views[] = {&a, &b};
  const strategy::ConsolidatedBook c = strategy::consolidate<strategy::BookView>(views);
  EXPECT_FALSE(c.stale);
  EXPECT_EQ(c.best_bid(), 100'100);
  EXPECT_EQ(c.bid_venue, 1);
  EXPECT_EQ(c.bids[0].shares, 300u);
  EXPECT_EQ(c.bids[0].venues, 0b10);
  EXPECT_EQ(c.bids[1].price, 100'000) << "the first venue's best and the second's second level";
  EXPECT_EQ(c.bids[1].shares, 150u);
  EXPECT_EQ(c.bids[1].venues, 0b11);
  EXPECT_EQ(c.bids[2].price, 99'900);
  EXPECT_EQ(c.bids[3].price, 0) << "no fourth price";
  EXPECT_EQ(c.asks[0].price, 100'500);
  EXPECT_EQ(c.asks[0].shares, 300u) << "both venues at the ask: shares add up";
  EXPECT_EQ(c.asks[0].venues, 0b11);
  EXPECT_EQ(c.ask_venue, 0);
  EXPECT_EQ(c.asks[1].price, 100'600);
  EXPECT_EQ(c.asks[1].shares, 100u);
}

TEST(Consolidated, AStaleVenueLeavesTheView) {
  const auto a = venue_view(0, 100'000, 100, 100'500, 100);
  const auto b = venue_view(1, 100'100, 300, 100'400, 200, /*stale=*/true);
  const strategy::BookView* views[] = {&a, &b};
  const strategy::ConsolidatedBook c = strategy::consolidate<strategy::BookView>(views);
  EXPECT_EQ(c.stale_venues, 0b10);
  EXPECT_EQ(c.best_bid(), 100'000);
  EXPECT_EQ(c.best_ask(), 100'500);
  EXPECT_EQ(c.bid_venue, 0);
  EXPECT_EQ(c.bids[0].venues, 0b01);
  const auto sa = venue_view(0, 100'000, 100, 100'500, 100, true);
  const strategy::BookView* both_stale[] = {&sa, &b};
  EXPECT_TRUE(strategy::consolidate<strategy::BookView>(both_stale).stale);
  EXPECT_EQ(strategy::consolidate<strategy::BookView>(both_stale).best_bid(), 0);
}

// The strategy stage with two venues: each venue's depth updates its own views; a single-venue
// strategy (the market maker) hears the first venue only, a second venue's stale feed is not its
// (its quotes stay), and ctx.nbbo() takes the better venue per side and drops a stale one.
TEST(MultiVenueStrategy, VenueViewsNbboAndWhoHearsWhat) {
  core::SpscRing<BookEvent> books{256};
  core::SpscRing<ExecReport> reports{256};
  core::SpscRing<OrderIntent> intents{256};
  SymbolTable symbols{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 1'000'000};
  stage.set_venues(2);
  symbols.set(5, itch::Symbol::from("AAPL").key());
  strategy::MarketMakerParams mm;
  mm.symbols = {"AAPL"};
  stage.add("mm", strategy::MarketMaker(mm), mm.symbols);
  stage.poll();  // resolves AAPL
  auto depth = [](VenueId v, std::int32_t bid, std::int32_t ask) {
    BookEvent e{};
    e.type = BookEventType::kDepthChange;
    e.locate = 5;
    e.venue = v;
    e.origin_tsc = core::rdtsc();
    e.stage_tsc = e.origin_tsc;
    e.timestamp = 34'200'000'000'000;
    e.bids[0] = {bid, 100};
    e.asks[0] = {ask, 100};
    return e;
  };
  auto drain = [&] {
    std::size_t n = 0;
    OrderIntent in;
    while (intents.try_pop(in)) ++n;
    return n;
  };
  ASSERT_TRUE(books.try_push(depth(1, 1'000'000, 1'000'200)));
  stage.poll();
  EXPECT_EQ(drain(), 0u) << "the market maker hears the first venue only";
  EXPECT_EQ(stage.book(5, 1).best_bid(), 1'000'000);
  EXPECT_EQ(stage.book(5, 1).venue, 1);
  EXPECT_FALSE(stage.book(5, 1).stale);
  EXPECT_EQ(stage.book(5).timestamp, 0u) << "the first venue's view is untouched";
  ASSERT_TRUE(books.try_push(depth(0, 999'900, 1'000'100)));
  stage.poll();
  EXPECT_EQ(drain(), 2u) << "the first venue's depth: the market maker quotes";
  const strategy::Context& ctx = stage.context(0);
  EXPECT_EQ(ctx.venues(), 2u);
  EXPECT_EQ(ctx.book(5, 1).best_ask(), 1'000'200);
  strategy::ConsolidatedBook c = ctx.nbbo(5);
  EXPECT_EQ(c.best_bid(), 1'000'000);
  EXPECT_EQ(c.bid_venue, 1);
  EXPECT_EQ(c.best_ask(), 1'000'100);
  EXPECT_EQ(c.ask_venue, 0);
  BookEvent stale{};
  stale.type = BookEventType::kFeedStale;
  stale.venue = 1;
  ASSERT_TRUE(books.try_push(stale));
  stage.poll();
  EXPECT_EQ(drain(), 0u) << "another venue's stale feed does not pull the first venue's quotes";
  EXPECT_TRUE(ctx.feed_stale(1));
  EXPECT_FALSE(ctx.feed_stale(0));
  EXPECT_TRUE(stage.book(5, 1).stale);
  EXPECT_FALSE(stage.book(5).stale);
  c = ctx.nbbo(5);
  EXPECT_EQ(c.best_bid(), 999'900) << "the stale venue left the consolidated view";
  EXPECT_EQ(c.bid_venue, 0);
  EXPECT_EQ(c.stale_venues, 0b10);
}

}  // namespace
}  // namespace hft::pipeline
