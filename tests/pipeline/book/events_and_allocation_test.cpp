// Over a generated day: TopOfBook events are emitted exactly when a stock's best bid/offer (or
// its trading state) changes, carry the new top, and book building allocates nothing.
#include <array>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "gateways/itch/decoder.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "venue/sim/day_generator.hpp"
#include "tests/pipeline/book/test_util.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::book {
namespace {

struct CountingSink {
  std::uint64_t events = 0;
  TopOfBook last;
  void on_top_of_book(const TopOfBook& e) noexcept {
    ++events;
    last = e;
  }
};

std::vector<std::uint8_t> small_day(std::uint64_t messages, std::uint64_t seed) {
  sim::DayConfig c;
  c.messages = messages;
  c.stocks = 50;
  c.seed = seed;
  return sim::generate_binaryfile(c);
}

BookConfig config_for_tests() {
  BookConfig c;
  c.orders = 1u << 18;
  c.levels = 1u << 14;
  c.max_locate = 64;
  return c;
}

TEST(BookEvents, TopOfBookIsEmittedExactlyWhenTheTopChanges) {
  const std::vector<std::uint8_t> day = small_day(200'000, 11);
  BookSet books(config_for_tests());
  CountingSink sink;
  ItchBookHandler handler(books, sink);
  std::uint64_t changes = 0;
  std::uint64_t mismatches = 0;
  testing::for_each_block(day, [&](const std::uint8_t* msg, std::size_t len) {
    const std::uint16_t locate = wire::load_be16(msg + 1);
    const Level bid0 = books.best(locate, Side::kBid);
    const Level ask0 = books.best(locate, Side::kAsk);
    const char state0 = books.info(locate).trading_state;
    const std::uint64_t events0 = sink.events;
    itch::decode_message(msg, len, handler);
    const Level bid = books.best(locate, Side::kBid);
    const Level ask = books.best(locate, Side::kAsk);
    const bool changed = !(bid == bid0) || !(ask == ask0) || books.info(locate).trading_state != state0;
    changes += changed;
    if (sink.events - events0 != (changed ? 1u : 0u)) {
      ++mismatches;
      return;
    }
    if (changed) {
      const TopOfBook& e = sink.last;
      const bool same = e.locate == locate && e.bid_price == bid.price && e.bid_shares == bid.shares &&
                        e.bid_orders == bid.orders && e.ask_price == ask.price && e.ask_shares == ask.shares &&
                        e.ask_orders == ask.orders && e.sequence == books.sequence() &&
                        e.timestamp == wire::load_be48(msg + 5);
      mismatches += !same;
    }
  });
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(sink.events, changes);
  EXPECT_EQ(books.stats().top_events, changes);
  EXPECT_GT(changes, 20'000u);  // the top moves often in a real-looking day
  EXPECT_LT(changes, 200'000u);
}

TEST(BookAllocation, SteadyStateBookBuildingAllocatesNothing) {
  ASSERT_TRUE(hft::testing::counting_active()) << "the counting operator new is not linked in";
  {  // the harness sees an allocation when there is one
    hft::testing::AllocationScope probe;
    auto p = std::make_unique<std::array<char, 100>>();
    EXPECT_GT(probe.allocations(), 0u);
  }
  const std::vector<std::uint8_t> day = small_day(300'000, 12);
  BookConfig cfg = config_for_tests();
  cfg.level_events = true;
  BookSet books(cfg);
  CountingSink sink;
  ItchBookHandler handler(books, sink);
  itch::DecodeStats stats;
  hft::testing::AllocationScope scope;
  const auto r = itch::decode_blocks(day.data(), day.size(), handler, stats);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(scope.bytes(), 0u);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(stats.messages, 300'000u);
  EXPECT_GT(books.live_orders(), 1000u);
  EXPECT_GT(sink.events, 1000u);
}

}  // namespace
}  // namespace hft::book
