// hft-journal as a program: dump (text and JSON) and verify on journals written by the library,
// then damaged the way a power loss or a bad disk would.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "gateways/ouch/codec.hpp"
#include "pipeline/journal/writer.hpp"
#include "tests/pipeline/journal/journal_test_util.hpp"
#include "tests/tools/hft_itch/tool_runner.hpp"

#ifndef HFT_JOURNAL_BIN_DIR
#error "HFT_JOURNAL_BIN_DIR must be defined by tools/hft-journal/CMakeLists.txt"
#endif

namespace hft::journal {
namespace {

using namespace testing;
using hft::testing::RunResult;
using hft::testing::split_lines;

class HftJournalTool : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("tool");
    ASSERT_TRUE(fs::exists(program())) << program();
  }
  void TearDown() override { fs::remove_all(dir_); }
  static fs::path program() { return fs::path(HFT_JOURNAL_BIN_DIR) / "hft-journal"; }
  RunResult run(std::vector<std::string> args) { return hft::testing::run_tool(program(), args, dir_); }

  // 1 kWriterOpened + an intent, a sent EnterOrder, a received Accepted, a command, then `extra` intents.
  std::vector<std::string> write_journal(int extra, std::uint64_t segment_bytes = 64 << 10) {
    JournalWriter w(small_config(dir_ / "j", segment_bytes), kInstance, kDate, 5);
    EXPECT_EQ(w.append(intent(1), 6), AppendStatus::kOk);
    ouch::EnterOrder e;
    e.user_ref_num = 1001;
    e.quantity = 200;
    e.symbol = ouch::Symbol::from("AAPL");
    e.price = 1'500'000;
    std::uint8_t buf[256];
    EXPECT_EQ(w.append_sent({buf, ouch::encode(buf, sizeof buf, e)}, 7), AppendStatus::kOk);
    ouch::OrderAccepted a;
    a.user_ref_num = 1001;
    a.quantity = 200;
    a.symbol = ouch::Symbol::from("AAPL");
    a.price = 1'500'000;
    a.order_reference_number = 555;
    EXPECT_EQ(w.append_received(42, {buf, ouch::encode(buf, sizeof buf, a)}, 8), AppendStatus::kOk);
    EXPECT_EQ(w.append_command("kill \"now\"", 9), AppendStatus::kOk);
    for (int i = 0; i < extra; ++i)
      EXPECT_EQ(append_retry([&] { return w.append(intent(static_cast<std::uint64_t>(i + 2)), 10); }), AppendStatus::kOk);
    w.close();
    return files();
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ / "j")) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(HftJournalTool, DumpPrintsEveryRecord) {
  const auto f = write_journal(0);
  std::vector<std::string> args{"dump"};
  args.insert(args.end(), f.begin(), f.end());
  const RunResult text = run(args);
  ASSERT_EQ(text.code, 0) << text.err;
  const auto lines = split_lines(text.out);
  ASSERT_EQ(lines.size(), 5u) << text.out;
  EXPECT_NE(lines[0].find("type=\"writer_opened\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("intent=\"new\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("symbol=\"AAPL\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("msg=\"O\" user_ref_num=1001 side=\"B\" quantity=200 symbol=\"AAPL\" price=1500000"), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find("soup_seq=42"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("order_reference_number=555"), std::string::npos) << lines[3];

  args.push_back("--json");
  const RunResult json = run(args);
  ASSERT_EQ(json.code, 0) << json.err;
  const auto jl = split_lines(json.out);
  ASSERT_EQ(jl.size(), 5u);
  for (std::size_t i = 0; i < jl.size(); ++i) {
    EXPECT_EQ(jl[i].front(), '{');
    EXPECT_EQ(jl[i].back(), '}');
    EXPECT_NE(jl[i].find(fmt::format("\"seq\":{},", i + 1)), std::string::npos) << jl[i];
  }
  EXPECT_NE(jl[3].find("\"type\":\"ouch_received\""), std::string::npos) << jl[3];
  EXPECT_NE(jl[3].find("\"msg\":\"A\""), std::string::npos) << jl[3];
  EXPECT_NE(jl[4].find("\"text\":\"kill \\\"now\\\"\""), std::string::npos) << jl[4];
}

TEST_F(HftJournalTool, VerifyCleanAcrossSegments) {
  const auto f = write_journal(2000);
  ASSERT_GE(f.size(), 3u);
  std::vector<std::string> args{"verify", "--date", std::to_string(kDate), "--instance", kInstance};
  args.insert(args.end(), f.rbegin(), f.rend());  // any order
  const RunResult r = run(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2005 records, sequence 1..2005"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok"), std::string::npos);
  // Wrong date: refused with a clear message.
  args[2] = "20240610";
  const RunResult wrong = run(args);
  EXPECT_EQ(wrong.code, 3);
  EXPECT_NE(wrong.err.find("wrong trading date"), std::string::npos) << wrong.err;
}

TEST_F(HftJournalTool, VerifyReportsATornTailAndTruncatesIt) {
  const auto f = write_journal(10);
  ASSERT_EQ(f.size(), 1u);
  ReadAll all = read_dir(dir_ / "j");
  const Record last = all.records.back();
  std::vector<std::uint8_t> bytes = read_bytes(f[0]);
  std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(last.offset + 9), 20, 0);
  write_bytes(f[0], bytes);

  const RunResult torn = run({"verify", f[0]});
  EXPECT_EQ(torn.code, 3);
  EXPECT_NE(torn.err.find(fmt::format("{}:{}: torn tail", f[0], last.offset)), std::string::npos) << torn.err;
  const RunResult dump = run({"dump", f[0]});
  EXPECT_EQ(dump.code, 0) << dump.err;  // dump reports a torn tail but prints what is good
  EXPECT_EQ(split_lines(dump.out).size(), all.records.size() - 1);
  EXPECT_NE(dump.err.find("torn tail"), std::string::npos);

  const RunResult fix = run({"verify", "--truncate", f[0]});
  EXPECT_EQ(fix.code, 0) << fix.err;
  EXPECT_NE(fix.out.find(fmt::format("after sequence {}", last.header.sequence - 1)), std::string::npos) << fix.out;
  const RunResult again = run({"verify", f[0]});
  EXPECT_EQ(again.code, 0) << again.err;
  // And the library appends after it with the next sequence.
  {
    JournalWriter w(small_config(dir_ / "j"), kInstance, kDate);
    EXPECT_EQ(w.next_sequence(), last.header.sequence + 1);
  }
}

TEST_F(HftJournalTool, CorruptionInTheMiddleIsAnErrorWithTheOffset) {
  const auto f = write_journal(10);
  const ReadAll all = read_dir(dir_ / "j");
  const Record victim = all.records[5];
  std::vector<std::uint8_t> bytes = read_bytes(f[0]);
  bytes[victim.offset + 40] ^= 0x01;
  write_bytes(f[0], bytes);
  const RunResult r = run({"verify", "--truncate", f[0]});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(fmt::format("{}:{}: corrupt record", f[0], victim.offset)), std::string::npos) << r.err;
  EXPECT_EQ(read_bytes(f[0]), bytes);  // --truncate never cuts good records
  const RunResult d = run({"dump", "--json", f[0]});
  EXPECT_EQ(d.code, 3);
  EXPECT_EQ(split_lines(d.out).size(), 5u);
}

TEST_F(HftJournalTool, UsageAndIoErrors) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"dump"}).code, 2);
  EXPECT_NE(run({"verify", (dir_ / "nope.hjl").string()}).code, 0);
  const fs::path junk = dir_ / "junk.hjl";
  write_bytes(junk, std::vector<std::uint8_t>(200, 'x'));
  const RunResult r = run({"verify", junk.string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("bad segment header"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hft::journal
