// Differential test: the pooled BookSet against the map-based ReferenceBook, compared on the
// touched stock's best bid/offer and top five levels per side after every message, over a
// generated day of a million messages and over NASDAQ's real 2019-12-30 snippet.
#include <array>
#include <string>

#include <gtest/gtest.h>

#include "gateways/itch/decoder.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "venue/sim/day_generator.hpp"
#include "tests/pipeline/book/reference_book.hpp"
#include "tests/pipeline/book/test_util.hpp"
#include "tests/support/test_data.hpp"

namespace hft::book {
namespace {

using testing::ReferenceBook;

std::string describe(const Level& l) {
  return std::to_string(l.price) + "x" + std::to_string(l.shares) + "/" + std::to_string(l.orders);
}

// Compares the top `kDepth` levels of both sides of `locate`; returns "" or the first difference.
std::string compare_top(const BookSet& books, const ReferenceBook& ref, std::uint16_t locate) {
  constexpr std::size_t kDepth = 5;
  for (const Side side : {Side::kBid, Side::kAsk}) {
    std::array<Level, kDepth> a{};
    std::array<Level, kDepth> b{};
    const std::size_t na = books.depth(locate, side, a);
    const std::size_t nb = ref.top(locate, side, b);
    const char* name = side == Side::kBid ? "bid" : "ask";
    if (na != nb && (na < kDepth || nb < kDepth)) {
      return "locate " + std::to_string(locate) + " " + name + ": " + std::to_string(na) + " levels vs reference " +
             std::to_string(nb);
    }
    for (std::size_t i = 0; i < na; ++i) {
      if (!(a[i] == b[i])) {
        return "locate " + std::to_string(locate) + " " + name + " level " + std::to_string(i) + ": " +
               describe(a[i]) + " vs reference " + describe(b[i]);
      }
    }
    if (!(books.best(locate, side) == b[0]) && nb != 0) return std::string("best ") + name + " differs";
  }
  return {};
}

struct Outcome {
  std::uint64_t messages = 0;
  std::uint64_t compared = 0;
};

// Feeds every block to both books and compares the touched stock after each one.
Outcome run_differential(const std::vector<std::uint8_t>& day, BookSet& books, ReferenceBook& ref) {
  NullSink sink;
  ItchBookHandler handler(books, sink);
  Outcome out;
  std::string first_error;
  const bool whole = testing::for_each_block(day, [&](const std::uint8_t* msg, std::size_t len) {
    if (!first_error.empty()) return;
    ++out.messages;
    itch::decode_message(msg, len, handler);
    itch::decode_message(msg, len, ref);
    const std::uint16_t locate = wire::load_be16(msg + 1);
    if (locate == 0 || !books.valid_locate(locate)) return;
    ++out.compared;
    std::string diff = compare_top(books, ref, locate);
    if (!diff.empty()) first_error = "after message " + std::to_string(out.messages) + " ('" +
                                     static_cast<char>(msg[0]) + "'): " + diff;
  });
  EXPECT_TRUE(whole) << "the stream ended inside a block";
  EXPECT_EQ(first_error, "");
  return out;
}

// Every level of every stock, and the order counts, agree at the end.
void expect_same_books(const BookSet& books, const ReferenceBook& ref) {
  EXPECT_EQ(books.live_orders(), ref.live_orders());
  std::size_t levels = 0;
  for (const auto& [locate, book] : ref.books()) {
    for (const Side side : {Side::kBid, Side::kAsk}) {
      const std::vector<Level> want = ref.levels(locate, side);
      std::vector<Level> got(want.size() + 1);
      got.resize(books.depth(locate, side, got));
      ASSERT_EQ(got.size(), want.size()) << "locate " << locate;
      for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "locate " << locate << " level " << i;
      levels += want.size();
    }
  }
  EXPECT_EQ(books.live_levels(), levels);
  EXPECT_EQ(books.check_invariants(), "");
}

TEST(BookDifferential, GeneratedDayOfOneMillionMessages) {
  sim::DayConfig day_cfg;
  day_cfg.messages = 1'000'000;
  day_cfg.stocks = 300;
  day_cfg.seed = 20261121;
  const std::vector<std::uint8_t> day = sim::generate_binaryfile(day_cfg);

  BookConfig cfg;
  cfg.orders = 1u << 19;
  cfg.levels = 1u << 16;
  cfg.max_locate = day_cfg.stocks;
  BookSet books(cfg);
  ReferenceBook ref(cfg.max_locate);
  const Outcome out = run_differential(day, books, ref);
  EXPECT_EQ(out.messages, day_cfg.messages);
  EXPECT_GT(out.compared, day_cfg.messages * 99 / 100);
  expect_same_books(books, ref);
  // A generated day is clean: nothing to skip, nothing to clamp, never crossed, never degraded.
  EXPECT_EQ(books.stats().unknown_order, 0u);
  EXPECT_EQ(books.stats().over_execution, 0u);
  EXPECT_EQ(books.stats().crossed + books.stats().locked, 0u);
  EXPECT_FALSE(books.degraded());
  EXPECT_GT(books.live_orders(), 10'000u);
}

// The realistic day (one reference sequence stepping by 1), with the order table's home slot
// unrotated (ref_stride_log2 0, what hft-itch picks for it) and rotated by the default 2: the
// same books either way.
TEST(BookDifferential, RealisticDayWithEitherReferenceStride) {
  sim::DayConfig day_cfg = sim::DayConfig::realistic();
  day_cfg.messages = 400'000;
  day_cfg.stocks = 320;
  day_cfg.seed = 20261207;
  const std::vector<std::uint8_t> day = sim::generate_binaryfile(day_cfg);
  for (const std::uint32_t stride : {0u, 2u, 4u}) {
    SCOPED_TRACE(stride);
    BookConfig cfg;
    cfg.orders = 1u << 16;  // ~27K rest at the end: a table of 128K slots
    cfg.levels = 1u << 16;
    cfg.max_locate = day_cfg.stocks;
    cfg.ref_stride_log2 = stride;
    BookSet books(cfg);
    ReferenceBook ref(cfg.max_locate);
    const Outcome out = run_differential(day, books, ref);
    EXPECT_EQ(out.messages, day_cfg.messages);
    expect_same_books(books, ref);
    EXPECT_EQ(books.stats().unknown_order + books.stats().over_execution + books.stats().capacity_drops(), 0u);
    EXPECT_FALSE(books.degraded());
  }
}

TEST(BookDifferential, RealNasdaqSnippetStartingMidDay) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const std::vector<std::uint8_t> day = testing::read_file(dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50");
  ASSERT_EQ(day.size(), 35'570u);

  BookConfig cfg;
  cfg.orders = 4096;
  cfg.levels = 4096;
  BookSet books(cfg);
  ReferenceBook ref;
  const Outcome out = run_differential(day, books, ref);
  EXPECT_EQ(out.messages, 1000u);
  expect_same_books(books, ref);
  // The snippet starts at 09:30 with no directory: references to orders added earlier are
  // counted and skipped (here as many as the reference book saw), and those stocks are stale.
  EXPECT_GT(books.stats().unknown_order, 0u);
  EXPECT_EQ(books.stats().unknown_order, ref.violations().unknown_order);
  EXPECT_EQ(books.stats().adds, 367u + 193u);
  EXPECT_EQ(books.stats().replaces, 225u);
  EXPECT_EQ(books.stats().deletes, 167u);
  EXPECT_EQ(books.stats().trades, 4u);
  EXPECT_EQ(books.stats().cross_trades, 4u);
  EXPECT_FALSE(books.degraded());
}

// The book's own report of depth changes (DepthSink) against copying the top five levels after
// every message and comparing them with the copy before, as the appliance's book stage did:
// reported exactly when the levels differ.
struct DepthRecorder {
  static constexpr std::uint32_t kDepthLevels = 5;
  std::uint32_t calls = 0;
  std::uint16_t locate = 0;
  void on_depth_change(std::uint16_t l) noexcept {
    ++calls;
    locate = l;
  }
};

bool same(const BookDepth<5>& a, const BookDepth<5>& b) {
  return a.bids == b.bids && a.asks == b.asks && a.bid_levels == b.bid_levels && a.ask_levels == b.ask_levels;
}

struct DepthOutcome {
  std::uint64_t messages = 0, changes = 0, reports = 0;
};

DepthOutcome run_depth_reports(const std::vector<std::uint8_t>& day, BookSet& books) {
  DepthRecorder sink;
  ItchBookHandler handler(books, sink);
  std::vector<BookDepth<5>> last(std::size_t{books.config().max_locate} + 1);
  DepthOutcome out;
  std::string first_error;
  testing::for_each_block(day, [&](const std::uint8_t* msg, std::size_t len) {
    if (!first_error.empty()) return;
    ++out.messages;
    sink.calls = 0;
    itch::decode_message(msg, len, handler);
    const std::uint16_t locate = wire::load_be16(msg + 1);
    if (!books.valid_locate(locate)) {
      if (sink.calls != 0) first_error = "a report for an invalid locate";
      return;
    }
    const BookDepth<5> now = books.depth<5>(locate);
    const bool changed = !same(now, last[locate]);
    last[locate] = now;
    out.changes += changed ? 1 : 0;
    out.reports += sink.calls;
    if (sink.calls > 1 || (sink.calls == 1 && sink.locate != locate) || changed != (sink.calls == 1)) {
      first_error = "message " + std::to_string(out.messages) + " ('" + static_cast<char>(msg[0]) + "') locate " +
                    std::to_string(locate) + ": levels " + (changed ? "changed" : "unchanged") + ", " +
                    std::to_string(sink.calls) + " reports";
    }
  });
  EXPECT_EQ(first_error, "");
  return out;
}

TEST(BookDepthReports, MatchACompareOfTheTopFiveLevelsOverAGeneratedDay) {
  sim::DayConfig day_cfg;
  day_cfg.messages = 300'000;
  day_cfg.stocks = 100;
  day_cfg.seed = 20261207;
  const std::vector<std::uint8_t> day = sim::generate_binaryfile(day_cfg);
  BookConfig cfg;
  cfg.orders = 1u << 18;
  cfg.levels = 1u << 16;
  cfg.max_locate = day_cfg.stocks;
  BookSet books(cfg);
  const DepthOutcome out = run_depth_reports(day, books);
  EXPECT_EQ(out.messages, day_cfg.messages);
  EXPECT_EQ(out.reports, out.changes);
  EXPECT_GT(out.changes, out.messages / 10) << "most of the flow is near the touch";
  EXPECT_LT(out.changes, out.messages) << "and some of it is deeper than five levels";
}

TEST(BookDepthReports, MatchACompareOfTheTopFiveLevelsOverTheRealSnippet) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const std::vector<std::uint8_t> day = testing::read_file(dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50");
  BookConfig cfg;
  cfg.orders = 4096;
  cfg.levels = 4096;
  BookSet books(cfg);
  const DepthOutcome out = run_depth_reports(day, books);
  EXPECT_EQ(out.messages, 1000u);
  EXPECT_GT(out.changes, 0u);
}

TEST(BookDepthReports, AReplaceThatPutsBackTheSameOrderReportsNothing) {
  BookConfig cfg;
  cfg.orders = 64;
  cfg.levels = 64;
  cfg.max_locate = 4;
  BookSet books(cfg);
  DepthRecorder sink;
  books.add_order(1, 2, 10, 'B', 100, 1'000'000, sink);
  books.add_order(2, 2, 11, 'B', 300, 1'000'000, sink);
  ASSERT_EQ(sink.calls, 2u);
  books.replace(3, 2, 10, 12, 100, 1'000'000, sink);  // same price, same shares: only time priority moves
  EXPECT_EQ(sink.calls, 2u);
  books.add_order(4, 2, 40, 'B', 50, 999'000, sink);  // alone at its level
  ASSERT_EQ(sink.calls, 3u);
  books.replace(5, 2, 40, 41, 50, 999'000, sink);     // the level empties and is made again
  EXPECT_EQ(sink.calls, 3u);
  books.replace(6, 2, 12, 15, 99, 1'000'000, sink);   // one share fewer
  EXPECT_EQ(sink.calls, 4u);
  books.replace(7, 2, 15, 16, 99, 999'900, sink);     // a new price
  EXPECT_EQ(sink.calls, 5u);
  // The fifth best level of a side is reported, the sixth and beyond are not.
  for (std::uint32_t i = 1; i <= 4; ++i) books.add_order(8, 2, 20 + i, 'S', 10, 1'000'100 + 100 * i, sink);
  ASSERT_EQ(sink.calls, 9u);
  books.add_order(9, 2, 30, 'S', 10, 1'000'600, sink);   // fifth ask level
  EXPECT_EQ(sink.calls, 10u);
  books.add_order(10, 2, 31, 'S', 10, 1'000'700, sink);  // sixth
  books.cancel(11, 2, 31, 5, sink);
  books.remove(12, 2, 31, sink);
  EXPECT_EQ(sink.calls, 10u);
  books.remove(13, 2, 30, sink);
  EXPECT_EQ(sink.calls, 11u);
}

}  // namespace
}  // namespace hft::book
