#include "core/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "tests/support/alloc_counter.hpp"

namespace hft::core {
namespace {

TEST(HotLog, RecordsArgumentsWithoutFormatting) {
  HotLog lane("test", 8);
  lane.log(LogLevel::kWarn, "gap {} -> {} on {} ({:.2f}%, {}, {})", std::uint64_t{41}, -7, std::string_view("SESSION001"),
           12.345, true, 'Q');
  const LogRecord* r = lane.ring().front();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->level, static_cast<std::uint8_t>(LogLevel::kWarn));
  EXPECT_EQ(r->nargs, 6);
  EXPECT_EQ(format_record(*r), "gap 41 -> -7 on SESSION001 (12.35%, true, Q)");
}

TEST(HotLog, LongStringsAreCutToTheRecord) {
  HotLog lane("test", 8);
  const std::string long_text(200, 'x');
  lane.log(LogLevel::kInfo, "{}|{}", std::string_view(long_text), "tail");
  const std::string out = format_record(*lane.ring().front());
  EXPECT_EQ(out, std::string(LogRecord::kTextBytes, 'x') + "|");
}

TEST(HotLog, FullLaneDropsAndCounts) {
  HotLog lane("test", 4);
  for (int i = 0; i < 10; ++i) lane.log(LogLevel::kInfo, "n={}", i);
  EXPECT_EQ(lane.dropped(), 6u);
  EXPECT_EQ(lane.ring().size_approx(), 4u);
}

TEST(HotLog, LoggingAllocatesNothing) {
  ASSERT_TRUE(hft::testing::counting_active());
  HotLog lane("test", 1024);
  lane.log(LogLevel::kInfo, "warm-up calibrates the process clock once");
  const hft::testing::AllocationScope scope;
  for (int i = 0; i < 1000; ++i) lane.log(LogLevel::kInfo, "order {} px {} sym {}", i, 101.25, "AAPL");
  EXPECT_EQ(scope.allocations(), 0u);
}

TEST(HotLog, BadFormatIsReportedNotThrown) {
  HotLog lane("test", 4);
  lane.log(LogLevel::kInfo, "{} {}", 1);
  EXPECT_NE(format_record(*lane.ring().front()).find("bad log format"), std::string::npos);
}

TEST(LogDrain, DrainThreadWritesEveryLaneToTheLogger) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto saved = logger().sinks();
  logger().sinks() = {sink};
  {
    LogDrain drain;
    HotLog& a = drain.add_lane("md", 64);
    HotLog& b = drain.add_lane("oe", 64);
    drain.start();
    a.log(LogLevel::kInfo, "packet {}", 1);
    b.log(LogLevel::kError, "reject {}", "risk");
    drain.stop();
    EXPECT_EQ(drain.written(), 2u);
  }
  logger().sinks() = saved;
  const std::string text = captured.str();
  EXPECT_NE(text.find("[md] packet 1"), std::string::npos) << text;
  EXPECT_NE(text.find("[oe] reject risk"), std::string::npos) << text;
}

}  // namespace
}  // namespace hft::core

namespace hft::core {
namespace {

TEST(LogEscape, PrintableAsciiStaysAndEverythingElseIsEscaped) {
  EXPECT_EQ(escape("ALICE 1"), "ALICE 1");
  EXPECT_EQ(escape(std::string_view("\n\x1b[31m\r\t\\\x7f\x9b\0", 12)), "\\n\\x1b[31m\\r\\t\\\\\\x7f\\x9b\\x00");
}

TEST(LogLimiter, BurstThenCountThenSummary) {
  LogLimiter l(1000, 2, 4);
  std::uint64_t suppressed = 0;
  EXPECT_TRUE(l.allow(7, 0, suppressed));
  EXPECT_TRUE(l.allow(7, 1, suppressed));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.allow(7, 2, suppressed));
  EXPECT_TRUE(l.allow(8, 3, suppressed)) << "another key has its own budget";
  // The first line of the next interval carries the count.
  EXPECT_TRUE(l.allow(7, 1000, suppressed));
  EXPECT_EQ(suppressed, 5u);
  for (int i = 0; i < 3; ++i) (void)l.allow(7, 1001, suppressed);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> reported;
  l.flush(1500, [&](std::uint64_t k, std::uint64_t n) { reported.emplace_back(k, n); });
  EXPECT_TRUE(reported.empty()) << "the interval has not ended";
  l.flush(2000, [&](std::uint64_t k, std::uint64_t n) { reported.emplace_back(k, n); });
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], (std::pair<std::uint64_t, std::uint64_t>{7, 2}));
  EXPECT_EQ(l.total_suppressed(), 7u);
  // More keys than entries: the table is reused, never grows.
  for (std::uint64_t k = 100; k < 200; ++k) EXPECT_TRUE(l.allow(k, 3000 + k, suppressed));
}

}  // namespace
}  // namespace hft::core
