// Unit tests of BookSet: each ITCH message type's effect, replace semantics, bad input,
// crossed/locked detection, pool exhaustion, top-of-book and level events.
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/arena.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "tests/pipeline/book/test_util.hpp"

namespace hft::book {
namespace {

namespace enc = itch::encode;

struct RecordingSink {
  std::vector<TopOfBook> tops;
  std::vector<LevelUpdate> levels;
  void on_top_of_book(const TopOfBook& e) { tops.push_back(e); }
  void on_level_update(const LevelUpdate& e) { levels.push_back(e); }
};

constexpr std::uint16_t kLoc = 7;
const itch::Symbol kSym = itch::Symbol::from("ZVZZT");

class BookTest : public ::testing::Test {
 protected:
  explicit BookTest(BookConfig cfg = small()) : books_(cfg), handler_(books_, sink_) {}

  static BookConfig small() {
    BookConfig c;
    c.orders = 64;
    c.levels = 64;
    c.max_locate = 16;
    c.level_events = true;
    return c;
  }

  itch::MessageHeader h(std::uint16_t locate = kLoc) { return {locate, 0, ++ts_}; }
  void apply(const std::uint8_t* msg, std::size_t len) {
    ASSERT_EQ(itch::decode_message(msg, len, handler_), itch::DecodeResult::kOk);
  }
  void add(std::uint64_t ref, char side, std::uint32_t shares, std::uint32_t price, std::uint16_t locate = kLoc) {
    std::uint8_t b[64];
    apply(b, enc::add_order(b, h(locate), ref, side, shares, kSym, price));
  }
  void add_mpid(std::uint64_t ref, char side, std::uint32_t shares, std::uint32_t price) {
    std::uint8_t b[64];
    apply(b, enc::add_order_mpid(b, h(), ref, side, shares, kSym, price, "GSCO"));
  }
  void exec(std::uint64_t ref, std::uint32_t shares, std::uint64_t match = 1, std::uint16_t locate = kLoc) {
    std::uint8_t b[64];
    apply(b, enc::order_executed(b, h(locate), ref, shares, match));
  }
  void exec_price(std::uint64_t ref, std::uint32_t shares, std::uint32_t price, char printable = 'Y') {
    std::uint8_t b[64];
    apply(b, enc::order_executed_with_price(b, h(), ref, shares, 9, printable, price));
  }
  void cancel(std::uint64_t ref, std::uint32_t shares) {
    std::uint8_t b[64];
    apply(b, enc::order_cancel(b, h(), ref, shares));
  }
  void del(std::uint64_t ref, std::uint16_t locate = kLoc) {
    std::uint8_t b[64];
    apply(b, enc::order_delete(b, h(locate), ref));
  }
  void replace(std::uint64_t old_ref, std::uint64_t new_ref, std::uint32_t shares, std::uint32_t price) {
    std::uint8_t b[64];
    apply(b, enc::order_replace(b, h(), old_ref, new_ref, shares, price));
  }

  Level bid() const { return books_.best(kLoc, Side::kBid); }
  Level ask() const { return books_.best(kLoc, Side::kAsk); }
  void expect_consistent() const { EXPECT_EQ(books_.check_invariants(), ""); }

  std::uint64_t ts_ = 34'200'000'000'000;  // 09:30
  RecordingSink sink_;
  BookSet books_;
  ItchBookHandler<RecordingSink> handler_;
};

TEST_F(BookTest, AddOrdersAggregateIntoLevelsBestFirst) {
  add(1, 'B', 100, 100'000);
  add(2, 'B', 200, 100'000);
  add(3, 'B', 300, 99'900);
  add_mpid(4, 'S', 50, 100'100);
  add(5, 'S', 70, 100'300);
  EXPECT_EQ(bid(), (Level{300, 100'000, 2}));
  EXPECT_EQ(ask(), (Level{50, 100'100, 1}));
  std::array<Level, 5> depth{};
  ASSERT_EQ(books_.depth(kLoc, Side::kBid, depth), 2u);
  EXPECT_EQ(depth[1], (Level{300, 99'900, 1}));
  ASSERT_EQ(books_.depth(kLoc, Side::kAsk, depth), 2u);
  EXPECT_EQ(depth[1], (Level{70, 100'300, 1}));
  EXPECT_EQ(books_.level_count(kLoc, Side::kBid), 2u);
  const BookDepth<5> top5 = books_.depth<5>(kLoc);
  EXPECT_EQ(top5.bid_levels, 2u);
  EXPECT_EQ(top5.ask_levels, 2u);
  EXPECT_EQ(top5.bids[0], (Level{300, 100'000, 2}));
  EXPECT_EQ(top5.asks[1], (Level{70, 100'300, 1}));
  EXPECT_EQ(top5.bids[2], Level{});
  EXPECT_EQ(books_.live_orders(), 5u);
  EXPECT_EQ(books_.live_levels(), 4u);
  const Order* o = books_.find_order(4);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->side, 1);
  EXPECT_EQ(o->shares, 50u);
  EXPECT_EQ(o->locate, kLoc);
  // A file that starts mid-day has no directory: the symbol is learnt from the adds.
  EXPECT_EQ(books_.info(kLoc).symbol.view(), "ZVZZT");
  EXPECT_FALSE(books_.info(kLoc).in_directory);
  expect_consistent();
}

TEST_F(BookTest, ExecutionsDecrementAndRemoveAtZeroAndSetTheLastTrade) {
  add(1, 'S', 300, 101'000);
  add(2, 'S', 100, 101'000);
  exec(1, 100, 77);
  EXPECT_EQ(ask(), (Level{300, 101'000, 2}));
  EXPECT_EQ(books_.info(kLoc).last_trade.match, 77u);
  EXPECT_EQ(books_.info(kLoc).last_trade.price, 101'000u);
  EXPECT_EQ(books_.info(kLoc).last_trade.shares, 100u);
  EXPECT_EQ(books_.info(kLoc).last_trade.kind, 'E');
  exec(1, 200, 78);
  EXPECT_EQ(ask(), (Level{100, 101'000, 1}));
  EXPECT_EQ(books_.find_order(1), nullptr);
  exec_price(2, 100, 100'900);
  EXPECT_EQ(ask(), (Level{}));
  EXPECT_EQ(books_.info(kLoc).last_trade.price, 100'900u);
  EXPECT_EQ(books_.info(kLoc).last_trade.kind, 'C');
  EXPECT_EQ(books_.info(kLoc).volume, 400u);
  EXPECT_EQ(books_.live_levels(), 0u);
  EXPECT_EQ(books_.stats().executions, 3u);
  expect_consistent();
}

TEST_F(BookTest, NonPrintableExecutionChangesTheBookButNotVolume) {
  add(1, 'B', 300, 100'000);
  exec_price(1, 100, 100'000, 'N');
  EXPECT_EQ(bid(), (Level{200, 100'000, 1}));
  EXPECT_EQ(books_.info(kLoc).volume, 0u);
  EXPECT_EQ(books_.info(kLoc).last_trade.kind, 0);
}

TEST_F(BookTest, CancelIsADecrementAndDeleteRemoves) {
  add(1, 'B', 500, 100'000);
  add(2, 'B', 100, 100'000);
  cancel(1, 200);
  EXPECT_EQ(bid(), (Level{400, 100'000, 2}));
  EXPECT_EQ(books_.find_order(1)->shares, 300u);
  del(1);
  EXPECT_EQ(bid(), (Level{100, 100'000, 1}));
  del(2);
  EXPECT_EQ(bid(), (Level{}));
  EXPECT_EQ(books_.live_orders(), 0u);
  EXPECT_EQ(books_.stats().cancels, 1u);
  EXPECT_EQ(books_.stats().deletes, 2u);
  expect_consistent();
}

TEST_F(BookTest, ReplaceInheritsSideAndStockAndLosesPriority) {
  add(1, 'S', 100, 100'500);
  add(2, 'S', 100, 100'500);
  const std::uint64_t before = books_.find_order(1)->priority;
  EXPECT_LT(before, books_.find_order(2)->priority);
  replace(1, 10, 300, 100'500);  // same price: still loses its place behind order 2
  EXPECT_EQ(books_.find_order(1), nullptr);
  const Order* o = books_.find_order(10);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->side, 1);
  EXPECT_EQ(o->locate, kLoc);
  EXPECT_EQ(o->shares, 300u);
  EXPECT_GT(o->priority, books_.find_order(2)->priority);
  EXPECT_EQ(ask(), (Level{400, 100'500, 2}));
  replace(10, 11, 50, 100'400);  // to a new, better price
  EXPECT_EQ(ask(), (Level{50, 100'400, 1}));
  EXPECT_EQ(books_.level_count(kLoc, Side::kAsk), 2u);
  EXPECT_EQ(books_.stats().replaces, 2u);
  expect_consistent();
}

TEST_F(BookTest, UnknownReferencesAreCountedSkippedAndMarkTheBookStale) {
  add(1, 'B', 100, 100'000);
  exec(99, 10);
  cancel(98, 10);
  del(97);
  replace(96, 95, 100, 100'000);
  EXPECT_EQ(books_.stats().unknown_order, 4u);
  EXPECT_EQ(books_.find_order(95), nullptr);  // a replace of an unknown order adds nothing
  EXPECT_EQ(bid(), (Level{100, 100'000, 1}));
  EXPECT_TRUE(books_.info(kLoc).flags & kFlagStale);
  ASSERT_FALSE(sink_.tops.empty());
  EXPECT_TRUE(sink_.tops.back().flags & kFlagStale);
  expect_consistent();
}

TEST_F(BookTest, OverExecutionAndOverCancelAreClampedAndCounted) {
  add(1, 'B', 100, 100'000);
  add(2, 'B', 100, 100'000);
  exec(1, 150);
  EXPECT_EQ(books_.stats().over_execution, 1u);
  EXPECT_EQ(books_.find_order(1), nullptr);
  EXPECT_EQ(books_.info(kLoc).last_trade.shares, 100u);  // what rested, not what was claimed
  cancel(2, 1000);
  EXPECT_EQ(books_.stats().over_execution, 2u);
  EXPECT_EQ(bid(), (Level{}));
  expect_consistent();
}

TEST_F(BookTest, MessageLocateMustMatchTheOrders) {
  add(1, 'B', 100, 100'000, 3);
  del(1, 4);
  EXPECT_EQ(books_.stats().locate_mismatch, 1u);
  EXPECT_NE(books_.find_order(1), nullptr);
}

TEST_F(BookTest, BadFieldsAreCountedAndDropped) {
  add(1, 'X', 100, 100'000);
  add(2, 'B', 0, 100'000);
  add(3, 'B', 100, 0);
  add(4, 'B', 100, 100'000, 0);
  add(5, 'B', 100, 100'000, 17);  // above max_locate
  add(6, 'B', 100, 100'000);
  add(6, 'S', 100, 101'000);  // duplicate reference
  EXPECT_EQ(books_.stats().bad_side, 1u);
  EXPECT_EQ(books_.stats().bad_quantity, 2u);
  EXPECT_EQ(books_.stats().bad_locate, 2u);
  EXPECT_EQ(books_.stats().duplicate_order, 1u);
  EXPECT_EQ(books_.live_orders(), 1u);
  EXPECT_EQ(ask(), (Level{}));
  replace(6, 7, 0, 100'000);  // replacing with zero shares removes the old, adds nothing
  EXPECT_EQ(books_.stats().bad_quantity, 3u);
  EXPECT_EQ(books_.live_orders(), 0u);
  expect_consistent();
}

TEST_F(BookTest, LockedAndCrossedBooksAreDetectedAndCounted) {
  add(1, 'B', 100, 100'000);
  add(2, 'S', 100, 100'100);
  EXPECT_EQ(books_.stats().locked + books_.stats().crossed, 0u);
  add(3, 'B', 100, 100'100);
  EXPECT_EQ(books_.stats().locked, 1u);
  EXPECT_TRUE(sink_.tops.back().flags & kFlagLocked);
  add(4, 'B', 100, 100'200);
  EXPECT_EQ(books_.stats().crossed, 1u);
  EXPECT_TRUE(sink_.tops.back().flags & kFlagCrossed);
  EXPECT_FALSE(sink_.tops.back().flags & kFlagLocked);
  del(4);
  del(3);
  EXPECT_FALSE(sink_.tops.back().flags & (kFlagCrossed | kFlagLocked));
  EXPECT_EQ(books_.stats().crossed, 1u);
  EXPECT_EQ(books_.stats().locked, 2u);  // crossed -> locked again on the way out
}

TEST_F(BookTest, TopOfBookEventsCarryTheNewTop) {
  add(1, 'B', 100, 100'000);
  ASSERT_EQ(sink_.tops.size(), 1u);
  const TopOfBook& e = sink_.tops.back();
  EXPECT_EQ(e.locate, kLoc);
  EXPECT_EQ(e.bid_price, 100'000u);
  EXPECT_EQ(e.bid_shares, 100u);
  EXPECT_EQ(e.bid_orders, 1u);
  EXPECT_EQ(e.ask_price, 0u);
  EXPECT_EQ(e.timestamp, ts_);
  EXPECT_EQ(e.sequence, books_.sequence());
  add(2, 'B', 100, 99'000);  // behind the best: no event
  EXPECT_EQ(sink_.tops.size(), 1u);
  add(3, 'S', 10, 100'500);
  ASSERT_EQ(sink_.tops.size(), 2u);
  EXPECT_EQ(sink_.tops.back().ask_price, 100'500u);
  EXPECT_EQ(sink_.tops.back().bid_price, 100'000u);
  replace(1, 4, 100, 100'000);  // same price and size: the top is unchanged, no event
  EXPECT_EQ(sink_.tops.size(), 2u);
  EXPECT_EQ(books_.stats().top_events, 2u);
}

TEST_F(BookTest, LevelEventsReportEveryLevelChange) {
  add(1, 'B', 100, 100'000);
  add(2, 'B', 50, 100'000);
  cancel(2, 20);
  del(1);
  del(2);
  ASSERT_EQ(sink_.levels.size(), 5u);
  EXPECT_EQ(sink_.levels[1].shares, 150u);
  EXPECT_EQ(sink_.levels[1].orders, 2u);
  EXPECT_EQ(sink_.levels[2].shares, 130u);
  EXPECT_EQ(sink_.levels[4].shares, 0u);  // the level is gone
  EXPECT_EQ(sink_.levels[4].orders, 0u);
  EXPECT_EQ(sink_.levels[4].price, 100'000u);
  EXPECT_EQ(sink_.levels[4].side, 0);
}

TEST_F(BookTest, TradesCrossesBrokenTradesDirectoryAndTradingState) {
  std::uint8_t b[64];
  add(1, 'B', 100, 100'000);
  apply(b, enc::trade(b, h(), 'B', 300, kSym, 100'050, 500));
  EXPECT_EQ(bid(), (Level{100, 100'000, 1}));  // 'P' never touches resting orders
  EXPECT_EQ(books_.info(kLoc).last_trade.kind, 'P');
  EXPECT_EQ(books_.info(kLoc).last_trade.price, 100'050u);
  apply(b, enc::cross_trade(b, h(), 5'000'000'000ull, kSym, 100'020, 501, 'O'));
  EXPECT_EQ(books_.info(kLoc).last_trade.shares, 5'000'000'000ull);
  EXPECT_EQ(books_.info(kLoc).volume, 5'000'000'300ull);
  apply(b, enc::broken_trade(b, h(), 500));
  EXPECT_EQ(books_.stats().broken_trades, 1u);
  EXPECT_EQ(books_.info(kLoc).broken_trades, 1u);

  itch::StockDirectoryFields f;
  f.stock = itch::Symbol::from("AAPL");
  f.round_lot_size = 100;
  f.market_category = 'Q';
  apply(b, enc::stock_directory(b, h(), f));
  EXPECT_EQ(books_.info(kLoc).symbol.view(), "AAPL");
  EXPECT_EQ(books_.info(kLoc).round_lot, 100u);
  EXPECT_EQ(books_.info(kLoc).market_category, 'Q');
  EXPECT_TRUE(books_.info(kLoc).in_directory);

  const std::size_t events = sink_.tops.size();
  apply(b, enc::stock_trading_action(b, h(), f.stock, 'H', "T1"));
  EXPECT_EQ(books_.info(kLoc).trading_state, 'H');
  ASSERT_EQ(sink_.tops.size(), events + 1);  // a halt is news for the strategy
  EXPECT_EQ(sink_.tops.back().trading_state, 'H');
  apply(b, enc::system_event(b, h(0), 'Q'));
  EXPECT_EQ(books_.last_system_event(), 'Q');
}

TEST(BookPools, OrderPoolExhaustionDegradesWithoutCorruption) {
  BookConfig cfg;
  cfg.orders = 4;
  cfg.levels = 16;
  cfg.max_locate = 4;
  BookSet books(cfg);
  RecordingSink sink;
  for (std::uint64_t ref = 1; ref <= 6; ++ref) books.add_order(1, 1, ref, 'B', 100, 100'000 + 100 * static_cast<std::uint32_t>(ref), sink);
  EXPECT_EQ(books.live_orders(), 4u);
  EXPECT_EQ(books.stats().order_pool_exhausted, 2u);
  EXPECT_TRUE(books.degraded());
  EXPECT_TRUE(books.info(1).flags & kFlagDegraded);
  EXPECT_TRUE(sink.tops.back().flags & kFlagDegraded);
  EXPECT_EQ(books.find_order(5), nullptr);
  EXPECT_EQ(books.check_invariants(), "");
  // Freed orders are reused.
  books.remove(2, 1, 1, sink);
  books.add_order(3, 1, 7, 'S', 100, 200'000, sink);
  EXPECT_NE(books.find_order(7), nullptr);
  EXPECT_EQ(books.check_invariants(), "");
}

TEST(BookPools, LevelPoolExhaustionDegradesAndRollsBackTheOrder) {
  BookConfig cfg;
  cfg.orders = 16;
  cfg.levels = 2;
  cfg.max_locate = 4;
  BookSet books(cfg);
  NullSink sink;
  books.add_order(1, 1, 1, 'B', 100, 100'000, sink);
  books.add_order(1, 1, 2, 'S', 100, 100'100, sink);
  books.add_order(1, 1, 3, 'S', 100, 100'100, sink);  // existing level: fine
  books.add_order(1, 1, 4, 'S', 100, 100'200, sink);  // a third level: no room
  EXPECT_EQ(books.stats().level_pool_exhausted, 1u);
  EXPECT_EQ(books.find_order(4), nullptr);
  EXPECT_EQ(books.live_orders(), 3u);
  EXPECT_EQ(books.check_invariants(), "");
}

TEST(BookPools, OrderTableProbeLimitDegradesInsteadOfGrowingAChain) {
  BookConfig cfg;
  cfg.orders = 1024;  // 2048 table slots
  cfg.levels = 16;
  cfg.max_locate = 4;
  BookSet books(cfg);
  NullSink sink;
  // References that all hash to one slot: a worst case the table must survive.
  std::vector<std::uint64_t> refs;
  const std::uint32_t target = books.home_slot(1);
  for (std::uint64_t r = 1; refs.size() < BookSet::kMaxProbe + 5; ++r) {
    if (books.home_slot(r) == target) refs.push_back(r);
  }
  for (const std::uint64_t r : refs) books.add_order(1, 1, r, 'B', 100, 100'000, sink);
  EXPECT_EQ(books.live_orders(), BookSet::kMaxProbe);
  EXPECT_EQ(books.stats().order_table_full, 5u);
  EXPECT_TRUE(books.degraded());
  EXPECT_EQ(books.check_invariants(), "");
  // Deleting from the middle of the cluster keeps every other entry reachable.
  for (std::size_t i = 0; i < BookSet::kMaxProbe; i += 3) books.remove(2, 1, refs[i], sink);
  EXPECT_EQ(books.check_invariants(), "");
  for (std::size_t i = 1; i < BookSet::kMaxProbe; i += 3) EXPECT_NE(books.find_order(refs[i]), nullptr);
}

TEST(BookPools, OutOfOrderReferencesKeepTheTableInRobinHoodOrder) {
  BookConfig cfg;
  cfg.orders = 1024;
  cfg.levels = 64;
  cfg.max_locate = 4;
  BookSet books(cfg);
  NullSink sink;
  const std::uint32_t mask = 2047;  // 2048 slots
  const std::uint32_t base = books.home_slot(77);
  // refs[i] hashes to base + i; extra[i] hashes to base + 1 too, so each one must be placed
  // inside the run and push the rest of it along.
  std::vector<std::uint64_t> refs(6, 0);
  std::vector<std::uint64_t> extra;
  for (std::uint64_t r = 1; refs.back() == 0 || extra.size() < 3; ++r) {
    const std::uint32_t d = (books.home_slot(r) - base) & mask;
    if (d < refs.size() && refs[d] == 0) {
      refs[d] = r;
    } else if (d == 1 && extra.size() < 3) {
      extra.push_back(r);
    }
  }
  for (const std::uint64_t r : refs) books.add_order(1, 1, r, 'B', 100, 100'000, sink);
  EXPECT_EQ(books.check_invariants(), "");
  for (const std::uint64_t r : extra) {
    books.add_order(2, 1, r, 'S', 100, 100'100, sink);
    EXPECT_EQ(books.check_invariants(), "");
  }
  for (const std::uint64_t r : refs) ASSERT_NE(books.find_order(r), nullptr);
  for (const std::uint64_t r : extra) ASSERT_NE(books.find_order(r), nullptr);
  // Deleting inside the run pulls the displaced entries back.
  books.remove(3, 1, refs[1], sink);
  books.remove(3, 1, extra[1], sink);
  EXPECT_EQ(books.check_invariants(), "");
  EXPECT_EQ(books.find_order(refs[1]), nullptr);
  for (const std::uint64_t r : {refs[0], refs[2], refs[5], extra[0], extra[2]}) EXPECT_NE(books.find_order(r), nullptr);
  EXPECT_EQ(books.live_orders(), 7u);
}

TEST(BookPools, ManyLevelsGrowTheLevelIndexAndShrinkBack) {
  BookConfig cfg;
  cfg.orders = 4096;
  cfg.levels = 4096;
  cfg.max_locate = 2;
  BookSet books(cfg);
  NullSink sink;
  // 3000 bid levels, added from the far end toward the best and then the other way round.
  for (std::uint32_t i = 0; i < 1500; ++i) books.add_order(1, 1, 1 + i, 'B', 10, 1'000'000 - 100 * i, sink);
  for (std::uint32_t i = 0; i < 1500; ++i) books.add_order(1, 1, 5000 + i, 'B', 10, 100 * (i + 1), sink);
  EXPECT_EQ(books.level_count(1, Side::kBid), 3000u);
  EXPECT_EQ(books.best(1, Side::kBid).price, 1'000'000u);
  EXPECT_EQ(books.check_invariants(), "");
  for (std::uint32_t i = 0; i < 1500; i += 2) books.remove(1, 1, 1 + i, sink);
  for (std::uint32_t i = 0; i < 1500; ++i) books.remove(1, 1, 5000 + i, sink);
  EXPECT_EQ(books.level_count(1, Side::kBid), 750u);
  EXPECT_EQ(books.best(1, Side::kBid).price, 1'000'000u - 100);
  EXPECT_EQ(books.check_invariants(), "");
  EXPECT_FALSE(books.degraded());
}

TEST(BookMemory, UsesAGivenArenaAndRefusesOneTooSmall) {
  BookConfig cfg;
  cfg.orders = 1000;
  cfg.levels = 1000;
  cfg.max_locate = 100;
  core::ArenaOptions o;
  o.bytes = BookSet::memory_bytes(cfg);
  o.mode = core::PageMode::kNormal;
  o.lock = false;
  core::Arena arena(o);
  {
    BookSet books(cfg, &arena);
    NullSink sink;
    books.add_order(1, 1, 1, 'B', 100, 100'000, sink);
    EXPECT_EQ(books.best(1, Side::kBid).shares, 100u);
    EXPECT_GT(arena.used(), std::size_t{1000} * sizeof(Order));
  }
  core::ArenaOptions tiny;
  tiny.bytes = 4096;
  tiny.mode = core::PageMode::kNormal;
  tiny.lock = false;
  core::Arena small_arena(tiny);
  EXPECT_THROW(BookSet(cfg, &small_arena), std::runtime_error);
}

TEST(BookSinks, RingSinkPublishesThroughAnSpscRingAndCountsDrops) {
  core::SpscRing<TopOfBook> ring(2);
  RingSink<core::SpscRing<TopOfBook>> sink{&ring};
  BookConfig cfg;
  cfg.orders = 16;
  cfg.levels = 16;
  cfg.max_locate = 2;
  BookSet books(cfg);
  books.add_order(1, 1, 1, 'B', 100, 100'000, sink);
  books.add_order(2, 1, 2, 'B', 100, 100'100, sink);
  books.add_order(3, 1, 3, 'B', 100, 100'200, sink);
  EXPECT_EQ(sink.pushed, 2u);
  EXPECT_EQ(sink.dropped, 1u);
  TopOfBook e;
  ASSERT_TRUE(ring.try_pop(e));
  EXPECT_EQ(e.bid_price, 100'000u);
  ASSERT_TRUE(ring.try_pop(e));
  EXPECT_EQ(e.bid_price, 100'100u);
}

}  // namespace
}  // namespace hft::book
