// Crash recovery end to end (issue 10): the real hft-exchange (with --executions) and the real
// hftd with the market maker on loopback; hftd is killed with SIGKILL at random moments, 20 times,
// and restarted each time with its write-ahead journal. After each restart, once hftd says it has
// recovered, its positions per symbol (`hftctl positions --json`) must equal the sum of the
// venue's executions for its user (no execution lost or counted twice); at the end the venue has
// counted no UserRefNum violation (none reused) and, once hftd has cancelled what it knows, no
// client order is left working at the venue (none that hftd does not know).
//
// Without the journal wired in and the recovery, hftd restarts flat and at sequence 1 (or with the
// venue's UserRefNum only) and the first comparison fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/control/control_file.hpp"
#include "tests/tools/hftctl/child.hpp"
#include "tests/tools/hftctl/trading_run.hpp"

namespace hft::hftctl_test {
namespace {

using nlohmann::json;

struct Book {
  std::map<std::string, std::int64_t> shares;  // signed, per symbol
  std::map<std::string, std::int64_t> cash;    // 1/10,000 $
  std::size_t executions = 0;
  std::size_t duplicate_matches = 0;
  bool operator==(const Book& o) const { return shares == o.shares && cash == o.cash; }
};

std::string describe(const Book& b) {
  std::string s;
  for (const auto& [sym, q] : b.shares) s += fmt::format("{} {} (cash {}); ", sym, q, b.cash.at(sym));
  return s.empty() ? "(flat, no cash)" : s;
}

// The venue's executions for `user`, from the --executions file (whole lines only).
Book venue_book(const fs::path& file, const std::string& user) {
  Book b;
  std::ifstream in(file);
  std::string line;
  std::set<std::pair<std::uint64_t, std::uint32_t>> seen;  // (match number, UserRefNum)
  while (std::getline(in, line)) {
    if (line.empty() || line.back() != '}') continue;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("user", "") != user) continue;
    const std::string sym = j.at("symbol").get<std::string>();
    const auto q = j.at("quantity").get<std::int64_t>();
    const auto px = j.at("price").get<std::int64_t>();
    const bool buy = j.at("side").get<std::string>() == "B";
    if (!seen.insert({j.at("match_number").get<std::uint64_t>(), j.at("user_ref_num").get<std::uint32_t>()}).second)
      ++b.duplicate_matches;
    b.shares[sym] += buy ? q : -q;
    b.cash[sym] += buy ? -q * px : q * px;
    ++b.executions;
  }
  for (auto it = b.shares.begin(); it != b.shares.end();) {  // flat with no cash: as hftd leaves it out
    if (it->second == 0 && b.cash[it->first] == 0) {
      b.cash.erase(it->first);
      it = b.shares.erase(it);
    } else {
      ++it;
    }
  }
  return b;
}

class HftdCrashRecovery : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto venue = exchange_program();
    if (!fs::exists(program("hftd")) || !fs::exists(program("hftctl")) || !venue)
      GTEST_SKIP() << "needs hftd, hftctl and hft-exchange built (or $HFT_EXCHANGE)";
    dir_ = fs::temp_directory_path() / ("hftd_crash_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "shm");
    fs::create_directories(dir_ / "hist");
    fs::create_directories(dir_ / "journal");
    instance_ = "crash" + std::to_string(::getpid());
    const auto feed = free_port(SOCK_DGRAM), rerequest = free_port(SOCK_DGRAM), ouch = free_port(SOCK_STREAM);
    for (const char* mode : {"adopt", "cancel"}) {
      std::ofstream(dir_ / fmt::format("hftd-{}.toml", mode))
          << journaled_market_maker_config(instance_, feed, rerequest, ouch, dir_,
                                           "risk_max_position = 4000\nrisk_max_loss_usd = 100000\n")
          << fmt::format("[recovery]\nworking_orders = \"{}\"\n", mode);
    }
    executions_ = dir_ / "executions.jsonl";
    // Takers cross the spread often (a quarter of the flow's actions rather than NASDAQ's 3%) and
    // makers quote near the fair value, so the market maker's quotes are hit while hftd is up and
    // while it is down (those fills reach it through the venue's replay).
    std::ofstream(dir_ / "venue.toml") << "[background]\nexecute = 300\nlevels = 4\n";
    venue_ = std::make_unique<Child>(
        std::vector<std::string>{venue->string(), "--config", (dir_ / "venue.toml").string(), "--feed", fmt::format("127.0.0.1:{}", feed), "--rerequest",
                                 fmt::format("127.0.0.1:{}", rerequest), "--ouch", fmt::format("127.0.0.1:{}", ouch),
                                 "--symbols", "AAA,BBB,CCC,DDD", "--rate", "2000", "--duration", "300", "--executions",
                                 executions_.string(), "--json", "--log-level", "warn"},
        dir_ / "venue.out", dir_ / "venue.err");
    ASSERT_TRUE(wait_until([&] { return tcp_listening(ouch); }, std::chrono::seconds(20)))
        << "hft-exchange never listened on its OUCH port\n" << venue_->err();
  }
  void TearDown() override {
    if (hftd_) {
      hftd_->signal(SIGKILL);
      hftd_->finish(std::chrono::seconds(5));
    }
    if (venue_) {
      venue_->signal(SIGTERM);
      venue_->finish(std::chrono::seconds(10));
    }
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  void start_hftd(const char* mode) {
    const int n = ++starts_;
    hftd_ = std::make_unique<Child>(std::vector<std::string>{program("hftd").string(), "--config",
                                                             (dir_ / fmt::format("hftd-{}.toml", mode)).string()},
                                    dir_ / fmt::format("hftd{}.out", n), dir_ / fmt::format("hftd{}.err", n));
  }

  // The new hftd's control file, once it is the new process's and says running (recovered).
  std::unique_ptr<control::ControlReader> await_running(std::chrono::milliseconds limit) {
    std::unique_ptr<control::ControlReader> reader;
    wait_until(
        [&] {
          try {
            auto r = std::make_unique<control::ControlReader>(instance_, (dir_ / "shm").string());
            if (r->header().pid != hftd_->pid()) return false;
            if (r->header().state.load() != static_cast<std::uint32_t>(control::DaemonState::kRunning)) return false;
            if (r->order_entry().ready == 0) return false;
            reader = std::move(r);
            return true;
          } catch (const std::exception&) {
            return false;
          }
        },
        limit);
    return reader;
  }

  // hftd's positions through `hftctl positions --json`.
  std::optional<Book> hftd_book() {
    const Result r = run({program("hftctl").string(), "positions", "--json", "--dir", (dir_ / "shm").string(),
                          "--instance", instance_},
                         dir_, {}, std::chrono::seconds(10));
    if (r.rc != 0) return std::nullopt;
    const json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("positions")) return std::nullopt;
    Book b;
    for (const auto& p : j["positions"]) {
      EXPECT_EQ(p.size(), 6u) << p.dump();  // exactly symbol, position, open_buy, open_sell, cash, realized_pnl
      const std::string sym = p.at("symbol").get<std::string>();
      if (p.at("position").get<std::int64_t>() == 0 && p.at("cash").get<std::int64_t>() == 0) continue;
      b.shares[sym] = p.at("position").get<std::int64_t>();
      b.cash[sym] = p.at("cash").get<std::int64_t>();
    }
    return b;
  }

  std::string logs() const {
    return fmt::format("\nhftd (start {}):\n{}{}\nvenue:\n{}", starts_, hftd_ ? hftd_->out() : "", hftd_ ? hftd_->err() : "",
                       venue_->err());
  }

  fs::path dir_, executions_;
  std::string instance_;
  std::unique_ptr<Child> venue_, hftd_;
  int starts_ = 0;
};

TEST_F(HftdCrashRecovery, PositionsMatchTheVenueAfterTwentyKillNines) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> trade_ms(150, 700);
  constexpr int kKills = 20;
  std::size_t recovered_rounds = 0;
  for (int round = 0; round <= kKills; ++round) {
    const char* mode = round % 2 == 0 ? "adopt" : "cancel";
    start_hftd(mode);
    auto reader = await_running(std::chrono::seconds(20));
    ASSERT_TRUE(reader != nullptr) << "round " << round << ": hftd never came up running and ready" << logs();
    if (round > 0) {
      EXPECT_EQ(reader->order_entry().recovery, 2) << "round " << round << ": not a journaled recovery" << logs();
      ++recovered_rounds;
    }
    // A quiet moment to compare: the kill switch cancels every working order hftd knows; with
    // nothing working nothing more can execute, so both sides must agree and stay so.
    ASSERT_TRUE(reader->command(control::CommandOp::kKill).ok) << logs();
    ASSERT_TRUE(wait_until([&] { return reader->risk().open_orders == 0; }, std::chrono::seconds(5)))
        << "round " << round << ": orders still open after the kill switch" << logs();
    Book venue, ours;
    const bool equal = wait_until(
        [&] {
          venue = venue_book(executions_, "HFT01");
          const auto b = hftd_book();
          if (!b) return false;
          ours = *b;
          return venue == ours;
        },
        std::chrono::seconds(3));
    ASSERT_TRUE(equal) << "round " << round << " (" << mode << "): hftd " << describe(ours) << "\nvenue " << describe(venue)
                       << " from " << venue.executions << " executions" << logs();
    EXPECT_EQ(venue.duplicate_matches, 0u);
    if (round == kKills) break;
    ASSERT_TRUE(reader->command(control::CommandOp::kUnkill).ok) << logs();
    std::this_thread::sleep_for(std::chrono::milliseconds(trade_ms(rng)));
    hftd_->signal(SIGKILL);
    hftd_->finish(std::chrono::seconds(5));
  }
  EXPECT_EQ(recovered_rounds, static_cast<std::size_t>(kKills));
  const Book final_venue = venue_book(executions_, "HFT01");
  EXPECT_GT(final_venue.executions, 0u) << "the market maker never traded: the test proved nothing" << logs();
  std::printf("%zu executions for HFT01 across %d kill -9 restarts; final: %s\n", final_venue.executions, kKills,
              describe(final_venue).c_str());

  // A clean stop cancels what hftd knows; the venue must then have no client order working.
  hftd_->signal(SIGTERM);
  EXPECT_EQ(hftd_->finish(std::chrono::seconds(15)), 0) << logs();
  hftd_.reset();
  venue_->signal(SIGTERM);
  ASSERT_EQ(venue_->finish(std::chrono::seconds(20)), 0) << venue_->err();
  const json summary = json::parse(venue_->out(), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << venue_->out();
  EXPECT_EQ(summary["ouch"]["user_ref_violations"].get<std::uint64_t>(), 0u) << summary.dump();
  EXPECT_EQ(summary["engine"]["client_orders"].get<std::uint64_t>(), 0u)
      << "orders left working at the venue that hftd did not know: " << summary.dump();
  venue_.reset();
}


// Issue 11: the circuit breaker and the day's `hftctl set` changes survive a restart (through the
// journal) until the operator resets it. The market maker trades against the venue's flow; a
// drawdown limit of one cent trips the breaker at the first dip of the day's P&L below its peak.
TEST_F(HftdCrashRecovery, BreakerAndLimitChangesSurviveARestartUntilReset) {
  auto hftctl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{program("hftctl").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--dir", (dir_ / "shm").string(), "--instance", instance_});
    return run(argv, dir_, {}, std::chrono::seconds(10));
  };
  auto risk_status = [&]() -> json {
    const Result r = hftctl({"risk", "status", "--json"});
    const json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  };
  start_hftd("adopt");
  auto reader = await_running(std::chrono::seconds(20));
  ASSERT_TRUE(reader != nullptr) << "hftd never came up running and ready" << logs();
  ASSERT_EQ(hftctl({"set", "risk.max_order_quantity=900"}).rc, 0) << logs();
  // Issue 11: per-strategy limits change at run time too, validated by hftd, and survive the restart.
  {
    const Result set = hftctl({"set", "strategy.market_maker.risk_max_position=3000"});
    ASSERT_EQ(set.rc, 0) << set.out << set.err << logs();
    EXPECT_NE(set.out.find("strategy.market_maker.risk_max_position: 4000 -> 3000"), std::string::npos) << set.out;
    const Result loss = hftctl({"set", "strategy.market_maker.max_loss_usd=2500.5"});
    ASSERT_EQ(loss.rc, 0) << loss.out << loss.err << logs();
    const Result bad = hftctl({"set", "strategy.market_maker.risk_max_position=-5"});
    EXPECT_EQ(bad.rc, 1) << bad.out << bad.err;
    EXPECT_NE(bad.err.find("is not an integer in [0, "), std::string::npos) << bad.err;
    const Result nobody = hftctl({"set", "strategy.nobody.risk_max_position=5"});
    EXPECT_EQ(nobody.rc, 1);
    EXPECT_NE(nobody.err.find("no strategy named \"nobody\" (configured: market_maker)"), std::string::npos) << nobody.err;
    const json st = risk_status();
    ASSERT_EQ(st["strategies"].size(), 1u) << st.dump();
    EXPECT_EQ(st["strategies"][0]["name"], "market_maker");
    EXPECT_EQ(st["strategies"][0]["risk_max_position"], 3000) << st.dump();
    EXPECT_DOUBLE_EQ(st["strategies"][0]["risk_max_loss_usd"].get<double>(), 2500.5) << st.dump();
    const json ev = json::parse(hftctl({"risk", "events", "--json"}).out, nullptr, false);
    bool seen = false;
    for (const auto& e : ev["events"])
      if (e.value("key", "") == "strategy.0.risk_max_position" && e["old"] == 4000 && e["new"] == 3000) {
        seen = true;
        EXPECT_EQ(e["by"].get<std::string>().rfind("uid ", 0), 0u) << e.dump();
      }
    EXPECT_TRUE(seen) << "no limit-change event for the per-strategy limit: " << ev.dump();
  }
  ASSERT_EQ(hftctl({"set", "risk.max_drawdown_usd=0.01"}).rc, 0) << logs();
  ASSERT_TRUE(wait_until([&] { return risk_status().value("breaker", json::object()).value("tripped", false); },
                         std::chrono::seconds(20)))
      << "the breaker never tripped: " << risk_status().dump() << logs();
  const json tripped = risk_status();
  EXPECT_EQ(tripped["breaker"]["cause"], "drawdown") << tripped.dump();
  EXPECT_GE(tripped["peak_pnl_usd"].get<double>() - tripped["breaker"]["trip_pnl_usd"].get<double>(), 0.01 - 1e-9)
      << "tripped a cent or more below the peak: " << tripped.dump();
  ASSERT_TRUE(wait_until([&] { return reader->risk().open_orders == 0; }, std::chrono::seconds(5)))
      << "the trip cancels every working order" << logs();
  const Result events = hftctl({"risk", "events", "--json"});
  const json ev = json::parse(events.out, nullptr, false);
  ASSERT_FALSE(ev.is_discarded()) << events.out << events.err;
  std::set<std::string> kinds;
  for (const auto& e : ev["events"]) kinds.insert(e["kind"].get<std::string>());
  EXPECT_TRUE(kinds.count("breaker_trip") && kinds.count("limit_change")) << ev.dump();

  // A clean restart: the breaker is still tripped, the limits are as set.
  reader.reset();
  hftd_->signal(SIGTERM);
  EXPECT_EQ(hftd_->finish(std::chrono::seconds(15)), 0) << logs();
  start_hftd("adopt");
  reader = await_running(std::chrono::seconds(20));
  ASSERT_TRUE(reader != nullptr) << "hftd never came up again" << logs();
  json again;
  ASSERT_TRUE(wait_until(
      [&] {
        again = risk_status();
        return again.contains("limits") && again["limits"]["max_order_quantity"]["value"] == 900;
      },
      std::chrono::seconds(5)))
      << again.dump() << logs();
  EXPECT_TRUE(again["breaker"]["tripped"].get<bool>()) << "the breaker closed across a restart: " << again.dump() << logs();
  EXPECT_EQ(again["breaker"]["cause"], "drawdown");
  EXPECT_DOUBLE_EQ(again["limits"]["max_drawdown_usd"]["value"].get<double>(), 0.01);
  ASSERT_EQ(again["strategies"].size(), 1u) << again.dump();
  EXPECT_EQ(again["strategies"][0]["risk_max_position"], 3000) << "the per-strategy limit came back as configured";
  EXPECT_DOUBLE_EQ(again["strategies"][0]["risk_max_loss_usd"].get<double>(), 2500.5) << again.dump();

  // The operator switches the trigger off and resets: closed, and still closed after a restart.
  ASSERT_EQ(hftctl({"set", "risk.max_drawdown_usd=0"}).rc, 0) << logs();
  const Result reset = hftctl({"risk", "reset"});
  ASSERT_EQ(reset.rc, 0) << reset.out << reset.err << logs();
  EXPECT_FALSE(risk_status()["breaker"]["tripped"].get<bool>());
  reader.reset();
  hftd_->signal(SIGTERM);
  EXPECT_EQ(hftd_->finish(std::chrono::seconds(15)), 0) << logs();
  start_hftd("adopt");
  reader = await_running(std::chrono::seconds(20));
  ASSERT_TRUE(reader != nullptr) << logs();
  ASSERT_TRUE(wait_until(
      [&] {
        again = risk_status();
        return again.contains("breaker");
      },
      std::chrono::seconds(5)));
  EXPECT_FALSE(again["breaker"]["tripped"].get<bool>()) << again.dump() << logs();
  EXPECT_EQ(again["limits"]["max_drawdown_usd"]["value"].get<double>(), 0.0);
}

}  // namespace
}  // namespace hft::hftctl_test
