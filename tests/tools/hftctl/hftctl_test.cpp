// The hftctl program against a control file written by the test (FakeDaemon): every subcommand,
// every error with its message and exit code, promtool on the exposition, and a real Prometheus
// server scraping `hftctl metrics --listen`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/histogram.hpp"
#include "core/version.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/risk/keys.hpp"
#include "tests/tools/hftctl/child.hpp"
#include "tests/tools/hftctl/fake_daemon.hpp"

namespace hft::hftctl_test {
namespace {

class HftctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hftctl_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "shm");
    hftctl_ = program("hftctl").string();
    if (!fs::exists(hftctl_)) GTEST_SKIP() << hftctl_ << " not built";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string shm() const { return (dir_ / "shm").string(); }
  // hftctl with --dir <shm> after the subcommand.
  Result ctl(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
    std::vector<std::string> argv{hftctl_};
    argv.push_back(args.front());
    argv.push_back("--dir");
    argv.push_back(shm());
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return run(argv, dir_, {}, limit);
  }

  fs::path dir_;
  std::string hftctl_;
};

TEST_F(HftctlTest, StatusShowsTheDaemon) {
  FakeDaemon d("t1", shm());
  const Result r = ctl({"status", "--instance", "t1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(fmt::format("hftd instance t1: pid {}, running, up ", ::getpid())), std::string::npos) << r.out;
  for (const char* want : {"config        config/test.toml", "version       0.1.0-test", "backend       epoll",
                           "clock         TSC at 3.0000 GHz (test)", "hft-pipeline", "net,parse,book,strategy,risk",
                           "venue 127.0.0.1:31003, user HFT01, session TESTSESS",
                           "connected yes, logged in yes, ready yes, next UserRefNum 77, session sequence 12",
                           "last session event: login accepted", "kill switch off, halted no, open orders 6",
                           "max_order_quantity 1000, max_notional_usd 250000.00"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  // AAA: 100 shares bought at $100, marked at $101: P&L $100.00.
  bool aaa = false;
  for (std::size_t pos = r.out.find("\n  AAA "); pos != std::string::npos; pos = std::string::npos) {
    const std::string line = r.out.substr(pos + 1, r.out.find('\n', pos + 1) - pos - 1);
    aaa = line.ends_with(" 100.00") && line.find(" 101.0000 ") != std::string::npos;
    EXPECT_TRUE(aaa) << line;
  }
  EXPECT_TRUE(aaa) << r.out;
}

// Issue 18 finding 5: text in the control file is printed escaped, so a forged field cannot
// drive the operator's terminal (ESC, BEL, OSC title sequences) or forge a line.
TEST_F(HftctlTest, StatusEscapesControlBytesFromTheControlFile) {
  FakeDaemon::Options o;
  o.last_event = "x\x1b]0;owned\x07\x1b[2J\rY";
  o.thread_name = "p\x1b[31m\x9b";
  FakeDaemon d("t1", shm(), o);
  const Result r = ctl({"status", "--instance", "t1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const char bad : {'\x1b', '\x07', '\r', '\x9b'})
    EXPECT_EQ(r.out.find(bad), std::string::npos) << "raw byte " << int(static_cast<unsigned char>(bad)) << " in:\n" << r.out;
  EXPECT_NE(r.out.find("last session event: x\\x1b]0;owned\\x07\\x1b[2J\\rY"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p\\x1b[31m\\x9b"), std::string::npos) << r.out;
}

TEST_F(HftctlTest, DefaultInstanceIsTheOnlyRunningOne) {
  {
    FakeDaemon d("only", shm());
    const Result r = run({hftctl_, "status"}, dir_, {{"HFT_CONTROL_DIR", shm()}});
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("hftd instance only:"), std::string::npos) << "found through $HFT_CONTROL_DIR";
    FakeDaemon e("other", shm());
    const Result two = ctl({"status"});
    EXPECT_EQ(two.rc, 1);
    EXPECT_NE(two.err.find("several hftd instances are running (only, other)"), std::string::npos) << two.err;
  }
  const Result none = ctl({"status"});
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("no hftd instance 'default' is running"), std::string::npos) << none.err;
}

TEST_F(HftctlTest, StatsAndWatchedRates) {
  FakeDaemon d("s", shm());
  const Result r = ctl({"stats"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("net.datagrams"), std::string::npos);
  EXPECT_NE(r.out.find("(gauge)"), std::string::npos);
  const Result w = ctl({"stats", "--watch", "0.2", "--count", "3"});
  ASSERT_EQ(w.rc, 0) << w.err;
  std::size_t blocks = 0;
  for (std::size_t p = w.out.find("per second"); p != std::string::npos; p = w.out.find("per second", p + 1)) ++blocks;
  EXPECT_EQ(blocks, 3u) << w.out;
  // orders.sent grows 5 per 2 ms while not halted: a positive rate.
  const std::size_t row = w.out.rfind("\norders.sent ");
  ASSERT_NE(row, std::string::npos) << w.out;
  std::istringstream in(w.out.substr(row + 1, w.out.find('\n', row + 1) - row - 1));
  std::string name;
  double value = 0, rate = 0;
  in >> name >> value >> rate;
  EXPECT_GT(rate, 100.0) << w.out;
  EXPECT_EQ(ctl({"stats", "--watch", "0"}).rc, 2) << "--watch must be positive";
}

TEST_F(HftctlTest, WatchStopsOnSigint) {
  FakeDaemon d("sig", shm());
  Child c({hftctl_, "stats", "--dir", shm(), "--watch", "0.1"}, dir_ / "w.out", dir_ / "w.err");
  // The handler is installed before the first page: wait for that page, not a fixed time (a
  // fixed 400 ms was too short under ASan on a loaded host: SIGINT's default action, exit 130).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (c.running() && c.out().find("per second") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(c.running()) << c.err();
  ASSERT_NE(c.out().find("per second"), std::string::npos) << "no page within 20 s";
  c.signal(SIGINT);
  EXPECT_EQ(c.finish(std::chrono::seconds(5)), 0);
  EXPECT_NE(c.out().find("per second"), std::string::npos);
}

TEST_F(HftctlTest, HistTableHgrmAndPlot) {
  FakeDaemon d("h", shm());
  const fs::path hg = dir_ / "hgrm";
  const fs::path png = dir_ / "lat.png";
  const bool gnuplot = on_path("gnuplot").has_value();
  std::vector<std::string> args{"hist", "--hgrm", hg.string()};
  if (gnuplot) args.insert(args.end(), {"--plot", png.string()});
  const Result r = ctl(args);
  ASSERT_EQ(r.rc, 0) << r.err;
  // tick_to_trade: 4001 samples 1-5 µs and one of 250 µs.
  const std::size_t row = r.out.find("\ntick_to_trade ");
  ASSERT_NE(row, std::string::npos) << r.out;
  std::istringstream in(r.out.substr(row + 1, r.out.find('\n', row + 1) - row - 1));
  std::string name, count, p50, p90, p99, p999, p9999, max;
  in >> name >> count >> p50 >> p90 >> p99 >> p999 >> p9999 >> max;
  EXPECT_EQ(count, "4002");
  EXPECT_EQ(p50, "3.001") << r.out;
  EXPECT_EQ(max.substr(0, 3), "250") << r.out;
  EXPECT_NE(r.out.find("\nsend_call "), std::string::npos);

  for (const char* hop : {"tick_to_trade", "decision_to_wire", "send_call"}) {
    const fs::path f = hg / fmt::format("hftd.h.{}.hgrm", hop);
    ASSERT_TRUE(fs::exists(f)) << f;
    core::HgrmFile parsed;
    std::string error;
    ASSERT_TRUE(core::parse_hgrm(slurp(f), parsed, error)) << f << ": " << error;
    if (std::string(hop) == "tick_to_trade") {
      EXPECT_EQ(parsed.total_count, 4002u);
      EXPECT_NEAR(parsed.max, 250.0, 0.2) << "µs";
    }
  }
  if (!gnuplot) GTEST_SKIP() << "gnuplot not installed (Debian gnuplot-nox): plot not checked";
  const std::string img = slurp(png);
  ASSERT_GT(img.size(), 10'000u);
  EXPECT_EQ(img.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Only non-empty hops are drawn; a daemon with every hop empty is an error, not an empty plot.
}

// --json: exactly one JSON document on stdout with the fields of docs/json-output.md.
TEST_F(HftctlTest, JsonOutputOfStatusStatsAndHist) {
  using nlohmann::json;
  FakeDaemon d("j", shm());
  Result r = ctl({"status", "--instance", "j", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);  // throws (fails the test) unless the whole output is one document
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["kind"], "status");
  EXPECT_EQ(j["instance"], "j");
  EXPECT_EQ(j["pid"], ::getpid());
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["alive"], true);
  EXPECT_EQ(j["version"], "0.1.0-test");
  EXPECT_EQ(j["backend"], "epoll");
  EXPECT_EQ(j["config"], "config/test.toml");
  ASSERT_EQ(j["threads"].size(), 1u);
  EXPECT_EQ(j["threads"][0]["name"], "hft-pipeline");
  EXPECT_EQ(j["threads"][0]["cpu"], 1);
  EXPECT_EQ(j["threads"][0]["passes"], 123456);
  EXPECT_EQ(j["threads"][0]["stages"], json({"net", "parse", "book", "strategy", "risk"}));
  EXPECT_EQ(j["order_entry"]["user"], "HFT01");
  EXPECT_EQ(j["order_entry"]["ready"], true);
  EXPECT_EQ(j["order_entry"]["next_user_ref"], 77);
  EXPECT_EQ(j["order_entry"]["last_event"], "login accepted");
  EXPECT_EQ(j["risk"]["kill_switch"], false);
  EXPECT_EQ(j["risk"]["open_orders"], 6);
  const json& limits = j["risk"]["limits"];
  EXPECT_EQ(limits.size(), risk::kRiskKeys.size()) << limits.dump();
  EXPECT_EQ(limits["max_order_quantity"], 1000);
  EXPECT_TRUE(limits["max_order_quantity"].is_number_integer());
  EXPECT_DOUBLE_EQ(limits["max_notional_usd"].get<double>(), 250000.0);
  EXPECT_EQ(limits["require_reference_price"], true);
  ASSERT_EQ(j["positions"].size(), 1u);
  EXPECT_EQ(j["positions"][0]["symbol"], "AAA");
  EXPECT_EQ(j["positions"][0]["position"], 100);
  EXPECT_DOUBLE_EQ(j["positions"][0]["reference_usd"].get<double>(), 101.0);
  EXPECT_DOUBLE_EQ(j["positions"][0]["pnl_usd"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["pnl_usd"].get<double>(), 100.0);
  EXPECT_EQ(j["pnl_marked"], true);

  r = ctl({"stats", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["kind"], "stats");
  EXPECT_GT(j["counters"]["net.datagrams"].get<std::uint64_t>(), 0u);
  EXPECT_TRUE(j["counters"].contains("orders.sent"));
  EXPECT_FALSE(j["counters"].contains("orders.open")) << "a gauge";
  EXPECT_EQ(j["gauges"]["orders.open"], 6);

  // --watch --json: JSON Lines, one document per refresh, with rates.
  r = ctl({"stats", "--json", "--watch", "0.05", "--count", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::size_t docs = 0;
  for (std::size_t pos = 0; pos < r.out.size();) {
    const std::size_t nl = r.out.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "every document ends its line";
    j = json::parse(r.out.substr(pos, nl - pos));
    EXPECT_EQ(j["kind"], "stats_rates");
    EXPECT_GT(j["interval_s"].get<double>(), 0.0);
    EXPECT_GT(j["rates_per_second"]["net.datagrams"].get<double>(), 0.0) << "the fake daemon counts 50,000/s";
    EXPECT_FALSE(j["rates_per_second"].contains("orders.open"));
    ++docs;
    pos = nl + 1;
  }
  EXPECT_EQ(docs, 2u);

  const std::string hgrm = (dir_ / "hgrm").string();
  r = ctl({"hist", "--json", "--hgrm", hgrm});
  ASSERT_EQ(r.rc, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["kind"], "hist");
  EXPECT_EQ(j["unit"], "ns");
  bool t2t = false, empty = false;
  for (const json& hop : j["hops"]) {
    if (hop["name"] == "tick_to_trade") {
      t2t = true;
      EXPECT_EQ(hop["count"], 4002);
      const auto p50 = hop["percentiles"]["50"].get<std::uint64_t>();
      EXPECT_NEAR(static_cast<double>(p50), 3000.0, 10.0);
      EXPECT_NEAR(hop["max"].get<double>(), 250'000.0, 250.0);
      EXPECT_TRUE(hop["percentiles"].contains("99.99"));
    }
    if (hop["name"] == "send_call") {
      empty = true;
      EXPECT_EQ(hop["count"], 0);
      EXPECT_TRUE(hop["max"].is_null());
      EXPECT_TRUE(hop["percentiles"]["50"].is_null());
    }
  }
  EXPECT_TRUE(t2t && empty) << j.dump();
  ASSERT_EQ(j["files"].size(), 3u) << "one .hgrm per hop, listed instead of printed";
  for (const json& f : j["files"]) EXPECT_TRUE(fs::exists(f.get<std::string>())) << f;
}

TEST_F(HftctlTest, VersionComesFromCMake) {
  const Result r = run({hftctl_, "--version"}, dir_);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, std::string("hftctl ") + hft::kVersion + "\n");
}

// Issue 11: `hftctl risk status|events [--json]` and `risk reset` against the fake daemon's risk block.
TEST_F(HftctlTest, RiskStatusEventsAndReset) {
  using nlohmann::json;
  FakeDaemon d("rk", shm());
  Result r = ctl({"risk", "status"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("circuit breaker: TRIPPED (daily_loss) at P&L -501.00 USD"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Storm Guard: global warn, worst symbol or global storm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_daily_loss_usd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(index 1): position 250 / 300 shares, notional 25000.00 / 50000.00 USD, orders/s max 5, "
                       "P&L -201.00 USD, loss limit 200.00 USD TRIPPED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("restricted symbols (2): AAA, ZZZZ\n"), std::string::npos) << r.out;
  r = ctl({"risk", "status", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["strategies"].size(), 1u) << r.out;
  EXPECT_EQ(j["strategies"][0]["index"], 1);
  EXPECT_EQ(j["strategies"][0]["risk_max_position"], 300);
  EXPECT_DOUBLE_EQ(j["strategies"][0]["risk_max_loss_usd"].get<double>(), 200.0);
  EXPECT_TRUE(j["strategies"][0]["tripped"].get<bool>());
  EXPECT_EQ(j["restricted_symbols"], json::array({"AAA", "ZZZZ"})) << r.out;
  EXPECT_TRUE(j["breaker"]["tripped"].get<bool>());
  EXPECT_EQ(j["breaker"]["cause"], "daily_loss");
  EXPECT_DOUBLE_EQ(j["limits"]["max_daily_loss_usd"]["value"].get<double>(), 500.0);
  EXPECT_DOUBLE_EQ(j["limits"]["max_daily_loss_usd"]["usage"].get<double>(), 501.0) << "the loss is the usage";
  EXPECT_DOUBLE_EQ(j["limits"]["max_open_orders"]["usage"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(j["drawdown_usd"].get<double>(), 521.0);
  r = ctl({"risk", "events"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("3 risk events in all (1 refusals)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("limit risk.max_daily_loss_usd: 0.00 -> 500.00 (by hftctl set)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("circuit breaker tripped (daily_loss): P&L -501.00 USD, peak 20.00 USD, limit 500 USD"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refusal #1 loss_breaker: buy 100 AAA @ 100.2500 (strategy 1)"), std::string::npos) << r.out;
  r = ctl({"risk", "events", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  j = json::parse(r.out);
  ASSERT_EQ(j["events"].size(), 3u) << r.out;
  EXPECT_EQ(j["events"][0]["kind"], "limit_change");
  EXPECT_EQ(j["events"][0]["key"], "risk.max_daily_loss_usd");
  EXPECT_EQ(j["events"][2]["reason"], "loss_breaker");
  EXPECT_EQ(j["events"][2]["symbol"], "AAA");
  r = ctl({"risk", "reset"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(d.file().risk().breaker, 0);
}

TEST_F(HftctlTest, CommandsTakeEffect) {
  FakeDaemon d("c", shm());
  Result r = ctl({"halt"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("strategies halted"), std::string::npos);
  EXPECT_EQ(d.file().risk().halted, 1);
  const auto sent = d.orders_sent();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(d.orders_sent(), sent) << "halted: nothing sent";
  r = ctl({"resume"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(d.file().risk().halted, 0);
  r = ctl({"set", "risk.max_order_quantity=50"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("risk.max_order_quantity: 1000 -> 50"), std::string::npos) << r.out;
  EXPECT_EQ(d.file().risk().find("max_order_quantity")->value, 50.0);
  EXPECT_EQ(d.who().rfind(fmt::format("uid {} (", ::getuid()), 0), 0u) << "who asked: " << d.who();
  r = ctl({"kill"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("no working orders"), std::string::npos) << r.out;
  EXPECT_EQ(d.file().risk().kill_switch, 1);
  r = ctl({"unkill"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(d.file().risk().kill_switch, 0);
  r = ctl({"flatten"});
  ASSERT_EQ(r.rc, 0) << r.err;
  r = ctl({"dump"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 3 histograms"), std::string::npos);
  EXPECT_EQ(d.commands(), 7);
}

TEST_F(HftctlTest, RefusedCommandsExitNonZeroWithTheDaemonsReason) {
  FakeDaemon d("r", shm());
  Result r = ctl({"set", "risk.bogus=1"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("refused: unknown key \"risk.bogus\""), std::string::npos) << r.err;
  r = ctl({"set", "risk.max_order_quantity=lots"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("is not a number"), std::string::npos) << r.err;
  EXPECT_EQ(d.file().risk().find("max_order_quantity")->value, 1000.0) << "unchanged";
  // Usage errors never reach the daemon.
  r = ctl({"set", "risk.max_order_quantity"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("KEY=VALUE"), std::string::npos) << r.err;
  r = ctl({"set", "risk.max_order_quantity=" + std::string(100, '9')});
  EXPECT_EQ(r.rc, 2);
  r = run({hftctl_, "frobnicate"}, dir_);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE((r.out + r.err).find("frobnicate"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(d.commands(), 2);
}

TEST_F(HftctlTest, SilentDaemonAndMissingEffect) {
  {
    FakeDaemon d("silent", shm(), {.answer = false, .effect = true, .beat = true});
    const Result r = ctl({"halt", "--timeout-ms", "200"});
    EXPECT_EQ(r.rc, 3);
    EXPECT_NE(r.err.find("no answer from hftd"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("withdrawn and not applied"), std::string::npos) << r.err;
  }
  {
    FakeDaemon d("noeffect", shm(), {.answer = true, .effect = false, .beat = true});
    const Result r = ctl({"kill", "--timeout-ms", "200"});
    EXPECT_EQ(r.rc, 3);
    EXPECT_NE(r.err.find("acknowledged, but the kill switch on was not seen within 200 ms"), std::string::npos) << r.err;
  }
}

TEST_F(HftctlTest, AttachErrors) {
  // No daemon.
  Result r = ctl({"status", "--instance", "nope"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("no hftd instance 'nope' is running"), std::string::npos) << r.err;
  // Stale: the heartbeat stopped (the process lives: hung or SIGSTOPped).
  {
    FakeDaemon d("hung", shm(), {.answer = true, .effect = true, .beat = false});
    d.file().header().heartbeat_realtime_ns.store(d.file().header().heartbeat_realtime_ns.load() - 10'000'000'000ull);
    r = ctl({"status", "--instance", "hung"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("stale control file: hftd pid"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("has not updated it for 1"), std::string::npos) << r.err;
  }
  // Stale: the process is gone. It died holding the file, so no destructor removed it; the kernel
  // released its instance lock (a pid field alone proves nothing: pids are reused).
  {
    const pid_t dead = ::fork();
    ASSERT_GE(dead, 0);
    if (dead == 0) {
      {
        control::ControlFile cf("dead", control::ControlSizes{}, hftd_layout(), shm());
        cf.heartbeat();
        ::raise(SIGKILL);
      }
      ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(dead, &status, 0), dead);
    r = ctl({"kill", "--instance", "dead"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find(fmt::format("its hftd (pid {}) is gone", dead)), std::string::npos) << r.err;
    fs::remove(control::control_path("dead", shm()));
  }
  // Another layout version.
  {
    FakeDaemon d("v2", shm());
    d.file().header().layout_version = control::kLayoutVersion + 1;
    r = ctl({"stats", "--instance", "v2"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find(fmt::format("layout version {} but this hftctl reads version {}", control::kLayoutVersion + 1,
                                     control::kLayoutVersion)),
              std::string::npos)
        << r.err;
    d.file().header().layout_version = control::kLayoutVersion;
  }
  // Sections that do not fit the file: refused before anything is read through them.
  {
    FakeDaemon d("bent", shm());
    const auto slots = d.file().header().counter_slots;
    d.file().header().counter_slots = 100'000;
    r = ctl({"status", "--instance", "bent"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("corrupt control file: counters (100000 x 64 bytes at"), std::string::npos) << r.err;
    d.file().header().counter_slots = slots;
    d.file().header().histogram_digits = 9;
    r = ctl({"metrics", "--once", "--instance", "bent"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("corrupt control file: histogram: significant figures"), std::string::npos) << r.err;
    d.file().header().histogram_digits = 3;
    EXPECT_EQ(ctl({"status", "--instance", "bent"}).rc, 0);
  }
  // Not a control file at all.
  {
    std::ofstream(shm() + "/hftd.junk") << std::string(8192, 'x');
    r = ctl({"status", "--instance", "junk"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("not an hftd control file"), std::string::npos) << r.err;
    std::ofstream(shm() + "/hftd.short") << "HFTD";
    r = ctl({"status", "--instance", "short"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("too short"), std::string::npos) << r.err;
  }
  // Owned by another user: refused (only root can hand a file to someone else).
  if (::getuid() == 0) {
    FakeDaemon d("theirs", shm());
    ASSERT_EQ(::chown(d.file().path().c_str(), 12345, 12345), 0);
    r = ctl({"halt", "--instance", "theirs"});
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("owned by uid 12345, not by this user (uid 0): refused"), std::string::npos) << r.err;
    EXPECT_EQ(d.commands(), 0);
  }
}

// ---- metrics ------------------------------------------------------------------------------------

TEST_F(HftctlTest, MetricsOncePassesPromtool) {
  FakeDaemon d("m", shm());
  const Result r = ctl({"metrics", "--once"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("hftd_up{instance=\"m\"} 1\n"), std::string::npos);
  EXPECT_NE(r.out.find("hftd_latency_seconds_count{instance=\"m\",hop=\"tick_to_trade\"} 4002\n"), std::string::npos);
  EXPECT_NE(r.out.find("hftd_position_shares{instance=\"m\",symbol=\"AAA\"} 100\n"), std::string::npos);
  EXPECT_NE(r.out.find("hftd_pnl_usd{instance=\"m\",symbol=\"AAA\"} 100\n"), std::string::npos);
  const Result none = ctl({"metrics", "--once", "--instance", "absent"});
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("no hftd instance 'absent' is running"), std::string::npos) << none.err;

  const auto promtool = on_path("promtool");
  if (!promtool) GTEST_SKIP() << "promtool not installed (Debian prometheus package): exposition not linted";
  const fs::path file = dir_ / "metrics.txt";
  std::ofstream(file) << r.out;
  const Result lint = run({"/bin/sh", "-c", promtool->string() + " check metrics < " + file.string()}, dir_);
  EXPECT_EQ(lint.rc, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out + lint.err, "") << "promtool found problems";
}

TEST_F(HftctlTest, MetricsServerAnswersScrapesAndStopsOnSigterm) {
  auto d = std::make_unique<FakeDaemon>("srv", shm());
  const std::uint16_t port = free_port();
  Child c({hftctl_, "metrics", "--dir", shm(), "--listen", fmt::format("127.0.0.1:{}", port)}, dir_ / "m.out",
          dir_ / "m.err");
  std::string first;
  for (int i = 0; i < 200 && first.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    first = http_get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  ASSERT_TRUE(first.starts_with("HTTP/1.1 200 OK\r\n")) << first << c.err();
  EXPECT_NE(first.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(first.find("hftd_up{instance=\"srv\"} 1\n"), std::string::npos);
  EXPECT_TRUE(http_get(port, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
  EXPECT_TRUE(http_get(port, "\x01\x02garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
  // The daemon goes away: the exporter still answers, with hftd_up 0 and the reason.
  d.reset();
  const std::string down = http_get(port, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(down.find("hftd_up{instance=\"srv\"} 0\n"), std::string::npos) << down;
  EXPECT_NE(down.find("hftd_down_reason{instance=\"srv\",reason=\"no hftd instance 'srv' is running"), std::string::npos)
      << down;
  // ... and picks the daemon up again when it is back.
  d = std::make_unique<FakeDaemon>("srv", shm());
  EXPECT_NE(http_get(port, "GET /metrics HTTP/1.1\r\n\r\n").find("hftd_up{instance=\"srv\"} 1\n"), std::string::npos);
  c.signal(SIGTERM);
  EXPECT_EQ(c.finish(std::chrono::seconds(5)), 0) << c.err();
  EXPECT_NE(c.out().find("stopped after 3 scrapes"), std::string::npos) << c.out();
  EXPECT_EQ(run({hftctl_, "metrics", "--dir", shm(), "--listen", "nonsense"}, dir_).rc, 1);
}

TEST_F(HftctlTest, PrometheusServerScrapesTheExporter) {
  const fs::path prometheus = "/usr/bin/prometheus";
  if (!fs::exists(prometheus)) GTEST_SKIP() << "no /usr/bin/prometheus (Debian prometheus package): real scrape not tested";
  FakeDaemon d("prom", shm());
  const std::uint16_t port = free_port();
  Child exporter({hftctl_, "metrics", "--dir", shm(), "--listen", fmt::format("127.0.0.1:{}", port)}, dir_ / "e.out",
                 dir_ / "e.err");
  const std::uint16_t web = free_port();
  const fs::path config = dir_ / "prometheus.yml";
  std::ofstream(config) << fmt::format(
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      "scrape_configs:\n  - job_name: hftd\n    honor_labels: true\n"
      "    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
      port);
  fs::create_directories(dir_ / "tsdb");
  Child prom({prometheus.string(), "--config.file=" + config.string(), "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
              fmt::format("--web.listen-address=127.0.0.1:{}", web), "--log.level=warn"},
             dir_ / "p.out", dir_ / "p.err");
  // Prometheus's HTTP API: an instant query for the exporter's series, until a value appears.
  const std::string query = fmt::format(
      "GET /api/v1/query?query=hftd_net_datagrams_total%7Binstance%3D%22prom%22%7D HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n"
      "Connection: close\r\n\r\n",
      web);
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && prom.running()) {
    answer = http_get(web, query, 2000);
    if (answer.find("\"result\":[{") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  prom.signal(SIGTERM);
  const int prc = prom.finish(std::chrono::seconds(10));
  exporter.signal(SIGTERM);
  EXPECT_EQ(exporter.finish(std::chrono::seconds(5)), 0);
  ASSERT_NE(answer.find("\"result\":[{"), std::string::npos) << answer << "\nprometheus: " << prom.err();
  EXPECT_NE(answer.find("\"__name__\":\"hftd_net_datagrams_total\""), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"job\":\"hftd\""), std::string::npos) << answer;
  EXPECT_EQ(prc, 0) << prom.err();
}

}  // namespace
}  // namespace hft::hftctl_test
