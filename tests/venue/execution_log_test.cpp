// The executions file's writer (venue/execution_log.hpp): the exact line, escaping of client
// bytes, buffering across many lines, append, and a failing disk counted rather than fatal.
#include "venue/execution_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "tests/support/child_process.hpp"

namespace hft::venue {
namespace {

ExecutionRecord sample() {
  ExecutionRecord r;
  r.user = "HFT01";
  r.user_ref_num = 42;
  r.order_token = "MM-42";
  r.symbol = "AAA";
  r.side = 'S';
  r.price = 1'000'100;
  r.quantity = 300;
  r.match_number = 18'446'744'073'709'551'615ull;
  r.timestamp = 34'200'000'000'001;
  return r;
}

std::string formatted(const ExecutionRecord& r) {
  char buf[ExecutionLog::kMaxLine];
  return {buf, ExecutionLog::format(r, buf)};
}

TEST(ExecutionLog, OneJsonObjectPerLineWithEveryField) {
  EXPECT_EQ(formatted(sample()),
            R"({"user":"HFT01","user_ref_num":42,"order_token":"MM-42","symbol":"AAA","side":"S","price":1000100,)"
            R"("quantity":300,"match_number":18446744073709551615,"timestamp":34200000000001})"
            "\n");
  ExecutionRecord r = sample();
  r.order_token = "";  // no ClOrdID: the key is left out
  r.side = 'B';
  EXPECT_EQ(formatted(r),
            R"({"user":"HFT01","user_ref_num":42,"symbol":"AAA","side":"B","price":1000100,)"
            R"("quantity":300,"match_number":18446744073709551615,"timestamp":34200000000001})"
            "\n");
}

// Issue 14: the venue, the liquidity flag and the fee in dollars (micro-dollar exact).
TEST(ExecutionLog, VenueLiquidityAndFee) {
  ExecutionRecord r = sample();
  r.venue = "BX";
  r.liquidity = 'A';
  r.fee_micros = -600'000;
  EXPECT_NE(formatted(r).find(R"("timestamp":34200000000001,"venue":"BX","liquidity":"A","fee":-0.6})"), std::string::npos)
      << formatted(r);
  for (const auto& [micros, text] : std::vector<std::pair<std::int64_t, std::string>>{
           {0, "0"}, {300, "0.0003"}, {900'000, "0.9"}, {12'345'678, "12.345678"}, {-1, "-0.000001"}, {-3'000'000, "-3"}}) {
    r.fee_micros = micros;
    EXPECT_NE(formatted(r).find("\"fee\":" + text + "}"), std::string::npos) << micros << " " << formatted(r);
  }
}

TEST(ExecutionLog, ClientBytesAreEscapedAndTheLongestLineFits) {
  ExecutionRecord r = sample();
  r.order_token = std::string_view("a\"b\\c\x01\n\xff", 8);
  EXPECT_NE(formatted(r).find(R"("order_token":"a\"b\\c\u0001\u000a\u00ff")"), std::string::npos) << formatted(r);
  const std::string nasty(14, '\x7f'), user(6, '"'), sym(8, '\\');
  r.order_token = nasty;
  r.user = user;
  r.symbol = sym;
  r.user_ref_num = 0xFFFFFFFFu;
  r.price = r.timestamp = ~std::uint64_t{0};
  r.quantity = 0xFFFFFFFFu;
  const std::string line = formatted(r);
  EXPECT_LT(line.size(), ExecutionLog::kMaxLine);
  EXPECT_EQ(line.back(), '\n');
  // Longer inputs than the protocols allow are cut, never written past the line.
  const std::string too_long(200, '\x01');  // ExecutionRecord holds views: keep the bytes alive
  r.order_token = too_long;
  EXPECT_LT(formatted(r).size(), ExecutionLog::kMaxLine);
}

TEST(ExecutionLog, BuffersUntilFlushAndAppendsEveryLine) {
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) / ("execution_log_" + std::to_string(::getpid()) + ".jsonl");
  { std::ofstream(path) << "before\n"; }
  ExecutionLog log(path.string(), 1);  // the smallest buffer: two lines' room
  log.record(sample());
  EXPECT_TRUE(log.pending());
  EXPECT_EQ(::hft::testing::read_file(path), "before\n") << "nothing written before flush() or a full buffer";
  for (int i = 1; i < 1000; ++i) log.record(sample());
  EXPECT_TRUE(log.flush());
  EXPECT_FALSE(log.pending());
  const std::string text = ::hft::testing::read_file(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1001);
  EXPECT_EQ(text.substr(0, 7), "before\n");
  EXPECT_EQ(log.stats().lines, 1000u);
  EXPECT_EQ(log.stats().bytes, text.size() - 7);
  EXPECT_GT(log.stats().writes, 100u) << "a full buffer is written at once";
  std::filesystem::remove(path);
}

TEST(ExecutionLog, AnUnopenableFileIsAStartUpErrorAndAFullDiskIsCounted) {
  try {
    ExecutionLog bad("/nonexistent-dir/x.jsonl");
    FAIL() << "opened";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.jsonl"), std::string::npos) << e.what();
  }
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  ExecutionLog full("/dev/full");
  full.record(sample());
  full.record(sample());
  EXPECT_FALSE(full.flush());
  EXPECT_EQ(full.stats().write_errors, 1u);
  EXPECT_EQ(full.stats().lost_lines, 2u);
  EXPECT_FALSE(full.pending());
  full.record(sample());  // and it goes on
  EXPECT_FALSE(full.flush());
  EXPECT_EQ(full.stats().lost_lines, 3u);
}

}  // namespace
}  // namespace hft::venue
