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
