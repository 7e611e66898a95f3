// hft-journal load and follow end to end: the real hft-exchange (with --executions) and hftd with
// the market maker and its journal on loopback, `hft-journal follow` tailing the live journal into
// SQLite; after hftd's clean stop (it cancels what is working), `hft-journal load` of the same
// journal into a fresh SQLite file and into a private clickhouse-server. Each store must hold the
// venue's executions for hftd's user exactly (count, shares, cash per side, final position per
// symbol), and loading again (or after follow) adds no row.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/journal_loader.hpp"
#include "data/sink.hpp"
#include "pipeline/journal/writer.hpp"
#include "tests/support/clickhouse_server.hpp"
#include "tests/tools/hftctl/trading_run.hpp"

namespace hft::hftctl_test {
namespace {

using nlohmann::json;

using Venue = VenueFills;

// What a store holds, by the same measures.
Venue stored(data::Sink& s) {
  Venue v;
  v.executions = s.query_int("SELECT count(*) FROM hft_fills");
  v.shares = s.query_int("SELECT sum(quantity) FROM hft_fills");
  v.cash = s.query_int("SELECT sum(CASE WHEN side = 'B' THEN -(quantity * price) ELSE quantity * price END) FROM hft_fills");
  for (const char* sym : {"AAA", "BBB", "CCC", "DDD"}) {
    // The symbol's last position row; it must agree with the fills' sum.
    const std::int64_t last = s.query_int(fmt::format("SELECT max(seq) FROM hft_positions WHERE symbol = '{}'", sym));
    if (last == 0) continue;
    v.position[sym] = s.query_int(fmt::format("SELECT max(position) FROM hft_positions WHERE symbol = '{}' AND seq = {}", sym, last));
    EXPECT_EQ(v.position[sym],
              s.query_int(fmt::format("SELECT sum(CASE WHEN side = 'B' THEN quantity ELSE -quantity END) FROM hft_fills WHERE symbol = '{}'", sym)))
        << s.kind() << " " << sym;
  }
  return v;
}

std::string describe(const Venue& v) {
  std::string s = fmt::format("{} executions, {} shares, cash {};", v.executions, v.shares, v.cash);
  for (const auto& [sym, q] : v.position) s += fmt::format(" {} {}", sym, q);
  return s;
}

class JournalLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(program("hft-journal"))) GTEST_SKIP() << "needs hft-journal built";
    run_ = std::make_unique<TradingRun>("hft_journal_load");
    if (!run_->why().empty()) GTEST_SKIP() << run_->why();
    dir_ = run_->dir;
    fs::create_directories(dir_ / "ch");
    instance_ = run_->instance;
    executions_ = run_->executions;
  }
  void TearDown() override {
    if (follow_) {
      follow_->signal(SIGTERM);
      follow_->finish(std::chrono::seconds(10));
    }
    if (run_ && HasFailure()) run_->keep();
    run_.reset();
  }
  Result journal(std::vector<std::string> args) {
    args.insert(args.begin(), program("hft-journal").string());
    return run(args, dir_, {}, std::chrono::seconds(60));
  }
  std::vector<std::string> segments() const { return run_->segments(); }
  std::string logs() const {
    return run_->logs() + fmt::format("\nfollow:\n{}{}", follow_ ? follow_->out() : "", follow_ ? follow_->err() : "");
  }

  std::unique_ptr<TradingRun> run_;
  fs::path dir_, executions_;
  std::string instance_;
  std::unique_ptr<Child> follow_;
};

TEST_F(JournalLoad, SqliteAndClickHouseHoldTheVenuesExecutionsOnce) {
  run_->start_hftd();
  auto& hftd_ = run_->hftd;
  // follow tails the live journal from hftd's first record (the files appear once hftd opens it).
  ASSERT_TRUE(wait_until([&] { return !segments().empty(); }, std::chrono::seconds(20))) << "no journal segment" << logs();
  follow_ = std::make_unique<Child>(
      std::vector<std::string>{program("hft-journal").string(), "follow", "--dir", (dir_ / "journal").string(), "--instance",
                               instance_, "--date", run_->journal_date(),
                               "--sqlite", (dir_ / "follow.db").string(), "--poll-ms", "50"},
      dir_ / "follow.out", dir_ / "follow.err");
  ASSERT_TRUE(wait_until([&] { return venue_executions(executions_, "HFT01").executions >= 12; }, std::chrono::seconds(20)))
      << "the market maker was not filled 12 times in 20 s: " << describe(venue_executions(executions_, "HFT01")) << logs();
  hftd_->signal(SIGTERM);  // a clean stop cancels every working order: no fill after it
  ASSERT_EQ(hftd_->finish(std::chrono::seconds(15)), 0) << logs();
  follow_->signal(SIGTERM);
  ASSERT_EQ(follow_->finish(std::chrono::seconds(15)), 0) << logs();
  const Venue venue = venue_executions(executions_, "HFT01");
  ASSERT_GE(venue.executions, 12) << logs();

  // The journal tailed while it was written.
  {
    auto followed = data::open_sqlite((dir_ / "follow.db").string());
    const Venue got = stored(*followed);
    EXPECT_EQ(describe(got), describe(venue)) << "follow into SQLite" << logs();
  }
  // load after follow: every row is there already.
  std::vector<std::string> load{"load"};
  const auto files = segments();
  load.insert(load.end(), files.begin(), files.end());
  auto with = [&](std::vector<std::string> extra) {
    auto a = load;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const Result again = journal(with({"--sqlite", (dir_ / "follow.db").string()}));
  ASSERT_EQ(again.rc, 0) << again.out << again.err;
  EXPECT_NE(again.out.find(" 0 rows into sqlite"), std::string::npos) << again.out;

  // A fresh SQLite file, loaded twice.
  const Result first = journal(with({"--sqlite", (dir_ / "load.db").string()}));
  ASSERT_EQ(first.rc, 0) << first.out << first.err;
  std::printf("sqlite: %s", first.out.c_str());
  const Result second = journal(with({"--sqlite", (dir_ / "load.db").string()}));
  ASSERT_EQ(second.rc, 0) << second.err;
  EXPECT_NE(second.out.find(" 0 rows into sqlite"), std::string::npos) << second.out;
  {
    auto db = data::open_sqlite((dir_ / "load.db").string());
    EXPECT_EQ(describe(stored(*db)), describe(venue)) << "load into SQLite";
    EXPECT_GT(db->query_int("SELECT count(*) FROM hft_orders WHERE event = 'new'"), 0);
    EXPECT_EQ(db->query_int("SELECT count(DISTINCT match_number * 4294967296 + user_ref_num) FROM hft_fills"), venue.executions);
    // hftd journals a snapshot of each strategy once a second when it changed (hft_strategies).
    EXPECT_GT(db->query_int("SELECT count(*) FROM hft_strategies WHERE event = 'snapshot' AND name = 'market_maker' AND fills > 0"), 0);
  }

  // ClickHouse: the same rows, loaded twice.
  testing::ClickHouseServer ch(dir_ / "ch");
  if (!ch.available()) {
    std::printf("clickhouse part skipped: %s\n", ch.why().c_str());
    return;
  }
  const Result ch1 = journal(with({"--clickhouse", ch.url(), "--batch", "100"}));
  ASSERT_EQ(ch1.rc, 0) << ch1.out << ch1.err;
  std::printf("clickhouse: %s", ch1.out.c_str());
  const Result ch2 = journal(with({"--clickhouse", ch.url()}));
  ASSERT_EQ(ch2.rc, 0) << ch2.out << ch2.err;
  EXPECT_NE(ch2.out.find(" 0 rows into clickhouse"), std::string::npos) << ch2.out;
  auto db = data::open_clickhouse(ch.url());
  EXPECT_EQ(describe(stored(*db)), describe(venue)) << "load into ClickHouse";
  auto lite = data::open_sqlite((dir_ / "load.db").string());
  for (const auto& t : data::tables()) {
    const std::string count = fmt::format("SELECT count(*) FROM {}", t.name);
    EXPECT_EQ(db->query_int(count), lite->query_int(count)) << t.name;
  }
}

// hftd's strategy notes (control_plane.hpp: an operator's strategy command once applied, and the
// periodic snapshots and signals) become hft_strategies and hft_signals rows; any other note stays a risk-event command row.
TEST(JournalLoadNotes, StrategyCommandsAndSnapshotsFillHftStrategies) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("hft_notes_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    journal::JournalConfig c;
    c.dir = dir.string();
    c.segment_bytes = 64 << 10;
    journal::JournalWriter w(c, "notes", 20261207, 1);
    for (const char* text : {"strategy stop mm = mm stopped: 2 working orders being canceled",
                             "snapshot mm stopped 12.3400 -1.5000 0.2500 7 -100", "strategy set exec randomize=0.1 = exec: randomize=0.1",
                             "halt", "strategy start mm = mm running", "signal pairs z -2.1500"})
      ASSERT_EQ(w.append_command(text, 1'000'000'000), journal::AppendStatus::kOk);
  }
  auto db = data::open_sqlite((dir / "notes.db").string());
  db->create_schema();
  data::JournalLoader loader(*db);
  journal::JournalReader reader = journal::JournalReader::open_dir(dir.string(), "notes", 20261207);
  loader.load(reader);
  loader.flush();
  EXPECT_EQ(db->query_int("SELECT count(*) FROM hft_strategies"), 4);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM hft_strategies WHERE name = 'mm' AND event = 'stop' AND state = 'stopped'"), 1);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM hft_strategies WHERE name = 'mm' AND event = 'start' AND state = 'running'"), 1);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM hft_strategies WHERE name = 'exec' AND event = 'set' AND state = 'randomize=0.1'"), 1);
  EXPECT_EQ(db->query_int("SELECT realized_pnl FROM hft_strategies WHERE event = 'snapshot'"), 123'400);
  EXPECT_EQ(db->query_int("SELECT unrealized_pnl FROM hft_strategies WHERE event = 'snapshot'"), -15'000);
  EXPECT_EQ(db->query_int("SELECT fees FROM hft_strategies WHERE event = 'snapshot'"), 2'500);
  EXPECT_EQ(db->query_int("SELECT fills * 1000 + position FROM hft_strategies WHERE event = 'snapshot'"), 7'000 - 100);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM hft_risk_events WHERE kind = 'command' AND reason = 'halt'"), 1);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM hft_signals"), 1);
  EXPECT_EQ(db->query_int("SELECT value FROM hft_signals WHERE name = 'pairs.z'"), -21'500);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hft::hftctl_test
