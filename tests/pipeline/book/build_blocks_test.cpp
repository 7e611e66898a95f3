// build_blocks (the prefetching block loop) must be decode_blocks with a book handler, exactly:
// same results, statistics, books and events, on clean, truncated, empty-block and garbage input.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "gateways/itch/decoder.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "venue/sim/day_generator.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::book {
namespace {

struct BlockRecordingSink {
  std::vector<TopOfBook> tops;
  void on_top_of_book(const TopOfBook& e) { tops.push_back(e); }
};

bool same_top(const TopOfBook& a, const TopOfBook& b) {
  return a.sequence == b.sequence && a.timestamp == b.timestamp && a.locate == b.locate && a.bid_price == b.bid_price &&
         a.bid_shares == b.bid_shares && a.bid_orders == b.bid_orders && a.ask_price == b.ask_price &&
         a.ask_shares == b.ask_shares && a.ask_orders == b.ask_orders && a.flags == b.flags &&
         a.trading_state == b.trading_state;
}

BookConfig config(std::uint32_t orders) {
  BookConfig c;
  c.orders = orders;
  c.levels = 1u << 14;
  c.max_locate = 64;
  return c;
}

// Runs both loops over `data` and expects identical outcomes.
void expect_equivalent(const std::vector<std::uint8_t>& data, std::uint32_t orders, bool stop_at_empty = false) {
  BookSet a(config(orders));
  BookSet b(config(orders));
  BlockRecordingSink sa;
  BlockRecordingSink sb;
  ItchBookHandler ha(a, sa);
  ItchBookHandler hb(b, sb);
  itch::DecodeStats da;
  itch::DecodeStats db;
  const auto ra = itch::decode_blocks(data.data(), data.size(), ha, da, ~std::size_t{0}, stop_at_empty);
  const auto rb = build_blocks(data.data(), data.size(), hb, db, stop_at_empty);
  EXPECT_EQ(ra.consumed, rb.consumed);
  EXPECT_EQ(ra.blocks, rb.blocks);
  EXPECT_EQ(ra.truncated, rb.truncated);
  EXPECT_EQ(ra.end_marker, rb.end_marker);
  EXPECT_EQ(da.messages, db.messages);
  EXPECT_EQ(da.bytes, db.bytes);
  EXPECT_EQ(da.by_type, db.by_type);
  EXPECT_EQ(da.errors(), db.errors());
  EXPECT_EQ(da.empty, db.empty);
  ASSERT_EQ(sa.tops.size(), sb.tops.size());
  for (std::size_t i = 0; i < sa.tops.size(); ++i) ASSERT_TRUE(same_top(sa.tops[i], sb.tops[i])) << "event " << i;
  EXPECT_EQ(a.live_orders(), b.live_orders());
  EXPECT_EQ(a.live_levels(), b.live_levels());
  EXPECT_EQ(a.stats().capacity_drops(), b.stats().capacity_drops());
  EXPECT_EQ(b.check_invariants(), "");
}

std::vector<std::uint8_t> day(std::uint64_t messages) {
  sim::DayConfig c;
  c.messages = messages;
  c.stocks = 40;
  c.seed = 31;
  return sim::generate_binaryfile(c);
}

TEST(BuildBlocks, SameAsDecodeBlocksOnAGeneratedDay) { expect_equivalent(day(100'000), 1u << 16); }

TEST(BuildBlocks, SameAsDecodeBlocksWhenPoolsRunOut) { expect_equivalent(day(20'000), 500); }

TEST(BuildBlocks, SameOnTruncatedInput) {
  std::vector<std::uint8_t> d = day(5'000);
  for (const std::size_t cut : {std::size_t{1}, std::size_t{2}, std::size_t{3}, d.size() / 2 + 1, d.size() - 1}) {
    std::vector<std::uint8_t> t(d.begin(), d.begin() + static_cast<long>(cut));
    expect_equivalent(t, 1u << 14);
  }
}

TEST(BuildBlocks, StopsAtAnEmptyBlockWhenAsked) {
  std::vector<std::uint8_t> d = day(3'000);
  const std::size_t half = d.size() / 2;
  std::size_t off = 0;  // find a block boundary near the middle
  while (off < half) off += 2 + ((std::size_t{d[off]} << 8) | d[off + 1]);
  d.insert(d.begin() + static_cast<long>(off), {0, 0});
  expect_equivalent(d, 1u << 14, true);
  expect_equivalent(d, 1u << 14, false);
}

TEST(BuildBlocks, SameOnGarbage) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::uint8_t> d = day(2'000);
    for (int flips = 0; flips < 40; ++flips) d[rng() % d.size()] = static_cast<std::uint8_t>(rng());
    expect_equivalent(d, 300);
  }
}

TEST(BuildBlocks, AllocatesNothing) {
  const std::vector<std::uint8_t> d = day(200'000);
  BookSet books(config(1u << 17));
  NullSink sink;
  ItchBookHandler handler(books, sink);
  itch::DecodeStats stats;
  hft::testing::AllocationScope scope;
  build_blocks(d.data(), d.size(), handler, stats);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(stats.messages, 200'000u);
}

}  // namespace
}  // namespace hft::book
