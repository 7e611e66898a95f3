// hftctl against a real hftd trading with hft-exchange on loopback: both started here on free
// ports with a private control directory. Skipped when either program is not built
// (hft-exchange: build/<preset>/bin, or $HFT_EXCHANGE).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/histogram.hpp"
#include "net/backend.hpp"
#include "pipeline/control/control_file.hpp"
#include "tests/support/notify_socket.hpp"
#include "tests/tools/hftctl/child.hpp"

namespace hft::hftctl_test {
namespace {

class HftdEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto venue = exchange_program();
    if (!fs::exists(program("hftd")) || !fs::exists(program("hftctl")) || !venue)
      GTEST_SKIP() << "needs hftd, hftctl and hft-exchange built (or $HFT_EXCHANGE)";
    dir_ = fs::temp_directory_path() / ("hftd_e2e_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "shm");
    instance_ = "e2e" + std::to_string(::getpid());
    const auto feed = free_port(SOCK_DGRAM), rerequest = free_port(SOCK_DGRAM), ouch = free_port(SOCK_STREAM);
    std::ofstream(dir_ / "hftd.toml") << fmt::format(R"(instance = "{instance}"
[memory]
size_mb = 32
hugepages = "normal"
[log]
level = "info"
[net]
backend = "{backend}"
[feed]
listen = "127.0.0.1:{feed}"
rerequest = "127.0.0.1:{rerequest}"
request_timeout_ms = 20
[order_entry]
venue = "127.0.0.1:{ouch}"
user = "HFT01"
password = "hft01pw"
firm = "HFTA"
reconnect_ms = 100
[book]
orders = 65536
levels = 16384
max_locate = 64
[risk]
max_order_quantity = 1000
max_notional_usd = 250000
price_band_bps = 500
max_position = 2000
max_open_orders = 100
max_orders_per_second = 2000
order_burst = 200
{strategies}
[[threads]]
name = "hft-pipeline"
idle = "backoff"
stages = ["net", "parse", "book", "strategy", "risk"]
[stats]
histogram_dir = "{hist}"
[control]
dir = "{shm}"
)",
                                                     fmt::arg("instance", instance_), fmt::arg("feed", feed),
                                                     fmt::arg("strategies", strategies_), fmt::arg("backend", backend_),
                                                     fmt::arg("rerequest", rerequest), fmt::arg("ouch", ouch),
                                                     fmt::arg("hist", (dir_ / "hist").string()),
                                                     fmt::arg("shm", (dir_ / "shm").string()));
    fs::create_directories(dir_ / "hist");
    venue_argv_ = {venue->string(), "--feed", fmt::format("127.0.0.1:{}", feed), "--rerequest",
                   fmt::format("127.0.0.1:{}", rerequest), "--ouch", fmt::format("127.0.0.1:{}", ouch),
                   "--symbols", "AAA,BBB,CCC,DDD", "--rate", "3000", "--duration", "120",
                   "--log-level", "warn", "--executions", (dir_ / "executions.jsonl").string()};
    ouch_port_ = ouch;
    venue_ = std::make_unique<Child>(venue_argv_, dir_ / "venue.out", dir_ / "venue.err");
    // hftd refuses to start when the venue does not answer, and the venue's start-up (its pools
    // are allocated and zeroed first) takes seconds on a loaded machine: wait until its OUCH port
    // listens (read from /proc/net/tcp, so no session is opened) instead of a fixed pause.
    ASSERT_TRUE(wait_until([&] { return tcp_listening(ouch); }, std::chrono::seconds(20)))
        << "hft-exchange never listened on its OUCH port\n" << venue_->err();
    // Under systemd (Type=notify, WatchdogSec=0.2) when a test asks: hftd tells the socket when it
    // is ready, feeds the watchdog and says when it stops. (Only then: a socket nobody reads
    // fills up, and a full one blocks the sender, as it would block a service whose systemd hung.)
    std::map<std::string, std::string> env;
    if (under_systemd_) {
      notify_ = std::make_unique<hft::testing::NotifySocket>(dir_ / "notify.sock");
      env = {{"NOTIFY_SOCKET", notify_->path().string()}, {"WATCHDOG_USEC", "200000"}};
    }
    env_ = env;
    feed_port_ = feed;
    if (!defer_hftd_) start_hftd();
  }
  void start_hftd() {
    hftd_ = std::make_unique<Child>(
        std::vector<std::string>{program("hftd").string(), "--config", (dir_ / "hftd.toml").string(), "--duration", "120"},
        dir_ / "hftd.out", dir_ / "hftd.err", env_);
  }
  void TearDown() override {
    if (hftd_) {
      hftd_->signal(SIGTERM);
      hftd_->finish(std::chrono::seconds(10));
    }
    if (venue_) {
      venue_->signal(SIGTERM);
      venue_->finish(std::chrono::seconds(10));
    }
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  Result ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{program("hftctl").string(), args.front(), "--dir", (dir_ / "shm").string(),
                                  "--instance", instance_};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return run(argv, dir_, {}, std::chrono::seconds(30));
  }
  std::string logs() const {
    return "\nhftd:\n" + (hftd_ ? hftd_->out() + hftd_->err() : std::string("(not started)")) + "\nvenue:\n" + venue_->err();
  }

  fs::path dir_;
  std::vector<std::string> venue_argv_;
  std::uint16_t ouch_port_ = 0, feed_port_ = 0;
  std::map<std::string, std::string> env_;
  bool defer_hftd_ = false;  // SetUp leaves hftd to the test (start_hftd())
  std::string backend_ = "auto";
  // The [[strategies]] tables of hftd.toml (a subclass may set others before SetUp).
  std::string strategies_ = R"([[strategies]]
type = "market_maker"
symbols = ["AAA", "BBB", "CCC", "DDD"]
quote_size = 100
max_position = 1000
features = ["micro_price", "ofi_1", "realized_vol"]
[[strategies]]
type = "execution"
name = "exec"
symbols = ["AAA", "BBB", "CCC", "DDD"]
slice_s = 0.5)";
  std::string instance_;
  std::unique_ptr<Child> venue_, hftd_;
  bool under_systemd_ = false;
  std::unique_ptr<hft::testing::NotifySocket> notify_;
};

class HftdUnderSystemd : public HftdEndToEnd {
 protected:
  void SetUp() override {
    under_systemd_ = true;
    HftdEndToEnd::SetUp();
  }
};

// systemd's view: READY=1 once the order-entry session is logged in (not before: hftctl shows it
// ready by then), WATCHDOG=1 at least every half WatchdogSec from the control thread, STOPPING=1 at
// SIGTERM, then a clean exit.
TEST_F(HftdUnderSystemd, NotifiesReadyWatchdogAndStopping) {
  ASSERT_TRUE(notify_->bound()) << notify_->path();
  ASSERT_TRUE(notify_->hear("READY=1", std::chrono::seconds(20))) << notify_->heard() << logs();
  // The control file's order-entry block is refreshed each publish interval: it shows the ready
  // session within one (it would not if READY=1 had come before the login).
  control::ControlReader reader(instance_, (dir_ / "shm").string());
  EXPECT_TRUE(wait_until([&] { return reader.order_entry().ready != 0; }, std::chrono::seconds(1)))
      << "READY=1, but the order-entry session is not ready";
  const std::size_t ready_at = notify_->heard().find("READY=1");
  EXPECT_TRUE(notify_->hear("WATCHDOG=1", std::chrono::seconds(2))) << notify_->heard();
  EXPECT_EQ(notify_->heard().find("STOPPING=1"), std::string::npos);
  hftd_->signal(SIGTERM);
  EXPECT_TRUE(notify_->hear("STOPPING=1", std::chrono::seconds(10))) << notify_->heard() << logs();
  EXPECT_GT(notify_->heard().find("STOPPING=1"), ready_at);
  EXPECT_EQ(hftd_->finish(std::chrono::seconds(15)), 0) << logs();
  hftd_.reset();
}

TEST_F(HftdEndToEnd, ObserveAndSteerATradingDaemon) {
  std::unique_ptr<control::ControlReader> reader;
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          if (!reader) reader = std::make_unique<control::ControlReader>(instance_, (dir_ / "shm").string());
          return reader->order_entry().ready != 0 && reader->counter("orders.sent").value_or(0) > 0;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(20)))
      << "hftd never got ready and sent orders" << logs();
  // What the strategy sends: new orders and replaces.
  auto sends = [&] { return *reader->counter("orders.sent") + *reader->counter("orders.replaces_sent"); };

  Result r = ctl({"status"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("connected yes, logged in yes, ready yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("user HFT01"), std::string::npos);
  EXPECT_NE(r.out.find("hft-pipeline"), std::string::npos);
  r = ctl({"stats"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("orders.sent"), std::string::npos);
  EXPECT_NE(r.out.find("risk.rejects.max_order_quantity"), std::string::npos);

  // The strategy is sending.
  {
    const auto before = sends();
    EXPECT_TRUE(wait_until([&] { return sends() > before; }, std::chrono::seconds(10))) << "no sends to halt" << logs();
  }
  // halt: nothing more is sent; resume: sending again.
  r = ctl({"halt"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // intents already past the gate
  const auto halted_at = sends();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(sends(), halted_at) << "halted, yet the strategy sent";
  r = ctl({"resume"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(wait_until([&] { return sends() > halted_at; }, std::chrono::seconds(10))) << "resumed, nothing sent";

  // set: a limit below the quote size; the next orders meet it.
  const auto rejects = reader->counter("risk.rejects.max_order_quantity").value_or(0);
  r = ctl({"set", "risk.max_order_quantity=50"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("risk.max_order_quantity: 1000 -> 50"), std::string::npos) << r.out;
  EXPECT_TRUE(wait_until([&] { return reader->counter("risk.rejects.max_order_quantity").value_or(0) > rejects; },
                         std::chrono::seconds(10)))
      << "no order met the lowered limit";
  r = ctl({"set", "risk.max_order_quantity=abc"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("is not a number"), std::string::npos) << r.err;
  r = ctl({"set", "risk.nonsense=1"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("unknown key \"risk.nonsense\""), std::string::npos) << r.err;
  ASSERT_EQ(ctl({"set", "risk.max_order_quantity=1000"}).rc, 0);

  // hist: the table, .hgrm files that parse, a PNG.
  const fs::path hg = dir_ / "hgrm", png = dir_ / "lat.png";
  std::vector<std::string> hist{"hist", "--hgrm", hg.string()};
  const bool gnuplot = on_path("gnuplot").has_value();
  if (gnuplot) hist.insert(hist.end(), {"--plot", png.string()});
  r = ctl(hist);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\ntick_to_trade "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfeature_update "), std::string::npos) << "the strategy declared features: " << r.out;
  int parsed_files = 0;
  for (const auto& e : fs::directory_iterator(hg)) {
    core::HgrmFile f;
    std::string error;
    EXPECT_TRUE(core::parse_hgrm(slurp(e.path()), f, error)) << e.path() << ": " << error;
    ++parsed_files;
  }
  EXPECT_EQ(parsed_files, 8) << "one per hop, and feature_update";
  if (gnuplot) {
    EXPECT_EQ(slurp(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  }

  // metrics pass promtool.
  r = ctl({"metrics", "--once"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("hftd_order_entry_ready{instance=\"" + instance_ + "\"} 1\n"), std::string::npos);
  EXPECT_NE(r.out.find("hftd_latency_seconds_count{instance=\"" + instance_ + "\",hop=\"feature_update\"} "),
            std::string::npos)
      << "the feature-update times in Prometheus";
  EXPECT_EQ(r.out.find("hftd_latency_seconds_count{instance=\"" + instance_ + "\",hop=\"feature_update\"} 0\n"),
            std::string::npos)
      << "and some were recorded";
  if (const auto promtool = on_path("promtool")) {
    std::ofstream(dir_ / "m.txt") << r.out;
    const Result lint = run({"/bin/sh", "-c", promtool->string() + " check metrics < " + (dir_ / "m.txt").string()}, dir_);
    EXPECT_EQ(lint.rc, 0) << lint.out << lint.err;
  }

  // dump: hftd writes its own .hgrm files.
  r = ctl({"dump"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "hist" / fmt::format("hftd.{}.tick_to_trade.hgrm", instance_)));

  // kill: no working order left; nothing more sent until unkill.
  r = ctl({"kill"});
  ASSERT_EQ(r.rc, 0) << r.err << logs();
  EXPECT_NE(r.out.find("no working orders"), std::string::npos) << r.out;
  EXPECT_TRUE(wait_until([&] { return reader->counter("orders.open").value_or(1) == 0; }, std::chrono::seconds(5)));
  EXPECT_EQ(reader->risk().open_orders, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto killed_at = *reader->counter("orders.sent");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(*reader->counter("orders.sent"), killed_at) << "kill switch on, yet new orders went out";
  r = ctl({"unkill"});
  ASSERT_EQ(r.rc, 0) << r.err;

  // The daemon stops: hftctl says so.
  hftd_->signal(SIGTERM);
  ASSERT_TRUE(hftd_->wait_for(std::chrono::seconds(10)).has_value()) << "hftd did not stop on SIGTERM";
  r = ctl({"status"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(fmt::format("no hftd instance '{}' is running", instance_)), std::string::npos) << r.err;
}

// Issue 18, finding 3: pause the trading hftd past the heartbeat staleness (3 s) and start a second
// with the same instance. It must refuse, naming the first's pid, and leave the first's control
// file alone: once resumed, hftctl reaches the first again. Only after the first dies may another
// take the name.
// Issue 13: a TWAP parent order started through `hftctl algo start`, watched to completion through
// `hftctl algo status --json`, its fills checked in the venue's own records (--executions). The
// market maker is stopped first (`hftctl strategy stop`: its quotes are canceled), so every later
// execution of the user is the TWAP's. `hftctl strategy set` refuses an out-of-range value by name.
TEST_F(HftdEndToEnd, ATwapStartedThroughHftctlCompletesAndTheVenueRecordsItsFills) {
  // Two-word commands: --dir and --instance belong to the subcommand, so they go last.
  const auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{program("hftctl").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& a : std::vector<std::string>{"--dir", (dir_ / "shm").string(), "--instance", instance_})
      argv.push_back(a);
    return run(argv, dir_, {}, std::chrono::seconds(30));
  };
  std::unique_ptr<control::ControlReader> reader;
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          if (!reader) reader = std::make_unique<control::ControlReader>(instance_, (dir_ / "shm").string());
          return reader->order_entry().ready != 0 && reader->counter("orders.sent").value_or(0) > 0;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(20)))
      << "hftd never got ready and sent orders" << logs();
  Result r = ctl({"strategy", "list", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(R"("name":"market_maker","type":"market_maker","state":"running")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("name":"exec","type":"execution")"), std::string::npos) << r.out;
  r = ctl({"strategy", "stop", "market_maker"});
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_TRUE(wait_until([&] { return reader->risk().open_orders == 0; }, std::chrono::seconds(10)))
      << "the market maker's quotes were not canceled" << logs();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the venue's last lines of the market maker
  const auto venue_buys = [&] {
    std::ifstream in(dir_ / "executions.jsonl");
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line))
      if (!line.empty() && line.back() == '}' && line.find(R"("user":"HFT01")") != std::string::npos) lines.push_back(line);
    return lines;
  };
  const std::size_t before = venue_buys().size();

  r = ctl({"algo", "start", "twap", "--symbol", "AAA", "--side", "buy", "--quantity", "500", "--duration", "4s"});
  ASSERT_EQ(r.rc, 0) << r.err << logs();
  const std::string id = r.out.substr(0, r.out.find('\n'));
  ASSERT_FALSE(id.empty());
  std::string status;
  ASSERT_TRUE(wait_until(
      [&] {
        const Result s = ctl({"algo", "status", id, "--json"});
        status = s.out;
        return s.rc == 0 && (status.find(R"("state":"done")") != std::string::npos ||
                             status.find(R"("state":"expired")") != std::string::npos);
      },
      std::chrono::seconds(20)))
      << status << logs();
  EXPECT_NE(status.find(R"("state":"done")"), std::string::npos) << status;
  EXPECT_NE(status.find(R"("quantity":500,"filled":500,"remaining":0)"), std::string::npos) << status;
  EXPECT_NE(status.find(R"("arrival_price":)"), std::string::npos) << status;

  // The venue's records: the user's executions since, all AAA buys, 500 shares in all.
  long long shares = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        shares = 0;
        const auto lines = venue_buys();
        for (std::size_t i = before; i < lines.size(); ++i) {
          const auto& l = lines[i];
          EXPECT_NE(l.find(R"("symbol":"AAA","side":"B")"), std::string::npos) << l;
          const auto q = l.find(R"("quantity":)");
          if (q != std::string::npos) shares += std::atoll(l.c_str() + q + 11);
        }
        return shares >= 500;
      },
      std::chrono::seconds(5)));
  EXPECT_EQ(shares, 500) << "the venue executed exactly the parent's quantity for HFT01";

  // Manual orders need a `manual` strategy (none here): refused by name (the API's test places one).
  r = ctl({"order", "new", "--symbol", "AAA", "--side", "buy", "--quantity", "100", "--price", "1.00"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.err.find("no running manual strategy trades AAA"), std::string::npos) << r.err;
  r = ctl({"order", "cancel", "12345"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.err.find("no working order 12345"), std::string::npos) << r.err;

  r = ctl({"strategy", "set", "exec", "randomize=2"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("randomize: 2 is out of range [0"), std::string::npos) << r.err;
  r = ctl({"strategy", "set", "exec", "randomize=0.1"});
  EXPECT_EQ(r.rc, 0) << r.err;
  r = ctl({"strategy", "list"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("stopped"), std::string::npos) << r.out;
  std::printf("%s", r.out.c_str());
  std::printf("%s", ctl({"algo", "status"}).out.c_str());
}

TEST_F(HftdEndToEnd, ASecondDaemonNeverDisplacesAStoppedOne) {
  const std::string shm = (dir_ / "shm").string();
  const auto alive_pid = [&]() -> pid_t {
    try {
      return control::ControlReader(instance_, shm).header().pid;
    } catch (const std::exception&) {
      return 0;
    }
  };
  ASSERT_TRUE(wait_until([&] { return alive_pid() == hftd_->pid(); }, std::chrono::seconds(20)))
      << "the first hftd never published its control file" << logs();
  const std::string path = control::control_path(instance_, shm);

  hftd_->signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // past the 3 s heartbeat staleness
  Child second({program("hftd").string(), "--config", (dir_ / "hftd.toml").string(), "--duration", "5"},
               dir_ / "second.out", dir_ / "second.err");
  const int rc = second.finish(std::chrono::seconds(30));
  const std::string said = second.out() + second.err();
  EXPECT_EQ(rc, 1) << "the second hftd must refuse to start\n" << said;
  EXPECT_NE(said.find(fmt::format("is already running (pid {})", hftd_->pid())), std::string::npos) << said;
  ASSERT_TRUE(fs::exists(path)) << "the second hftd removed the first one's control file\n" << said;
  EXPECT_EQ(control::ControlReader(instance_, shm, true).header().pid, hftd_->pid()) << "the name changed hands";

  // Resumed, the first is reachable again: status, and the kill switch.
  hftd_->signal(SIGCONT);
  ASSERT_TRUE(wait_until([&] { return alive_pid() == hftd_->pid(); }, std::chrono::seconds(10)))
      << "hftctl cannot reach the resumed hftd" << logs();
  Result r = ctl({"status"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(fmt::format("pid {}", hftd_->pid())), std::string::npos) << r.out;
  r = ctl({"kill"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err << logs();

  // The first dies without cleaning up: its file stays, its lock goes, and a new hftd takes over.
  hftd_->signal(SIGKILL);
  ASSERT_TRUE(hftd_->wait_for(std::chrono::seconds(10)).has_value());
  EXPECT_TRUE(fs::exists(path)) << "SIGKILL leaves the file behind";
  hftd_ = std::make_unique<Child>(
      std::vector<std::string>{program("hftd").string(), "--config", (dir_ / "hftd.toml").string(), "--duration", "120"},
      dir_ / "third.out", dir_ / "third.err");
  EXPECT_TRUE(wait_until([&] { return alive_pid() == hftd_->pid(); }, std::chrono::seconds(20)))
      << "a new hftd could not take the name of a dead one\n" << hftd_->out() << hftd_->err();
}

// Issue 18, finding 2, and issue 10, defects 3 and 4: the venue is killed (SIGKILL) and a new one
// starts on the same ports with a new MoldUDP64 session and a new SoupBinTCP session. hftd logs
// the loss, reconnects without stalling its single pipeline thread, is refused for the old
// session and then logs in to the new one, believes the new feed session once the old one fell
// silent, rebuilds its books from sequence 1, and trades again.
TEST_F(HftdEndToEnd, RecoversFromAVenueRestart) {
  std::unique_ptr<control::ControlReader> reader;
  auto counter = [&](const char* name) -> std::uint64_t {
    try {
      if (!reader) reader = std::make_unique<control::ControlReader>(instance_, (dir_ / "shm").string());
      return reader->counter(name).value_or(0);
    } catch (const std::exception&) {
      return 0;
    }
  };
  ASSERT_TRUE(wait_until([&] { return counter("orders.sent") > 0; }, std::chrono::seconds(20)))
      << "hftd never traded" << logs();
  venue_->signal(SIGKILL);
  ASSERT_TRUE(venue_->wait_for(std::chrono::seconds(10)).has_value());
  EXPECT_TRUE(wait_until([&] { return counter("egress.disconnects") > 0; }, std::chrono::seconds(5)))
      << "the loss of the order-entry session was not counted";
  const std::uint64_t sent_before = counter("orders.sent");
  venue_ = std::make_unique<Child>(venue_argv_, dir_ / "venue2.out", dir_ / "venue2.err");
  ASSERT_TRUE(wait_until([&] { return tcp_listening(ouch_port_); }, std::chrono::seconds(20)))
      << "the new hft-exchange never listened" << venue_->err();
  ASSERT_TRUE(wait_until([&] { return counter("orders.sent") > sent_before + 5; }, std::chrono::seconds(40)))
      << "does not trade again after the venue's restart" << logs();
  EXPECT_GE(counter("egress.session_changes"), 1u) << "logged in to the venue's new session";
  EXPECT_GE(counter("feed.session_changes"), 1u) << "believed the new feed session";
  EXPECT_GE(counter("egress.login_refusals"), 1u) << "the old session was asked for first";
  EXPECT_GE(counter("egress.new_session_joins"), 1u);
  const std::string said = hftd_->out() + hftd_->err();
  EXPECT_NE(said.find("order entry: session"), std::string::npos) << "the loss was not logged" << logs();
  EXPECT_NE(said.find("new MoldUDP64 session"), std::string::npos) << logs();
  EXPECT_NE(said.find("logged in to the venue's new session"), std::string::npos) << logs();
}

// A counter of the running hftd through its control file (0 while it cannot be read).
class Counters {
 public:
  Counters(std::string instance, std::string dir) : instance_(std::move(instance)), dir_(std::move(dir)) {}
  std::uint64_t operator()(const char* name) {
    try {
      if (!reader_) reader_ = std::make_unique<control::ControlReader>(instance_, dir_);
      return reader_->counter(name).value_or(0);
    } catch (const std::exception&) {
      return 0;
    }
  }
  control::ControlReader* reader() { return reader_.get(); }

 private:
  std::string instance_, dir_;
  std::unique_ptr<control::ControlReader> reader_;
};

// A UDP or TCP socket of the attacker's, bound to `from` (any 127/8 address is this host).
int attacker_socket(int type, const char* from) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &a.sin_addr);
  if (fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}
sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Issue 18, finding 1, against the real programs: one MoldUDP64 heartbeat with hftd's own session
// name and sequence 2^63, sent from another local socket to hftd's feed port while it trades with
// hft-exchange. Before the fix this froze the feed for the rest of the day (lost 2^63 - n, every
// real message a duplicate, the market maker's quotes pulled). Now the packet is counted as
// foreign (not from the feed's source) or suspect, and hftd keeps trading on the real feed.
TEST_F(HftdEndToEnd, AForgedHeartbeatFarAheadDoesNotStopTrading) {
  Counters counter(instance_, (dir_ / "shm").string());
  ASSERT_TRUE(wait_until([&] { return counter("orders.sent") > 0 && counter("feed.packets") > 100; },
                         std::chrono::seconds(20)))
      << "hftd never traded" << logs();
  // The session name as hftd has it: the forged packet must pass the session check.
  std::string session;
  ASSERT_TRUE(wait_until(
      [&] {
        session = std::string(control::get_text(counter.reader()->feed().session));
        return session.size() == 10;
      },
      std::chrono::seconds(5)))
      << "no feed session in the control file: '" << session << "'";
  std::array<std::uint8_t, 20> forged{};
  std::memcpy(forged.data(), session.data(), 10);
  forged[10] = 0x80;  // sequence 2^63, big-endian; message count 0: a heartbeat
  const int fd = attacker_socket(SOCK_DGRAM, "127.0.0.1");
  ASSERT_GE(fd, 0);
  const sockaddr_in to = loopback(feed_port_);
  ASSERT_EQ(::sendto(fd, forged.data(), forged.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(forged.size()));
  ::close(fd);
  EXPECT_TRUE(wait_until([&] { return counter("feed.foreign") + counter("feed.suspect") >= 1; }, std::chrono::seconds(5)))
      << "the forged packet was neither counted foreign nor suspect" << logs();

  // Trading goes on: the strategy keeps sending, the feed keeps moving, nothing is declared lost.
  const auto sends = [&] { return counter("orders.sent") + counter("orders.replaces_sent"); };
  const std::uint64_t sent = sends(), next = counter.reader()->feed().next_sequence;
  EXPECT_TRUE(wait_until([&] { return sends() > sent + 5 && counter.reader()->feed().next_sequence > next + 100; },
                         std::chrono::seconds(10)))
      << "hftd stopped trading after one forged packet" << logs();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const control::FeedBlock feed = counter.reader()->feed();
  EXPECT_LT(feed.next_sequence, std::uint64_t{1} << 40) << "the forged sequence was applied";
  EXPECT_EQ(feed.lost, 0u);
  EXPECT_EQ(counter("feed.lost"), 0u);
  std::printf("forged heartbeat: feed.foreign %llu, feed.suspect %llu, feed.duplicates %llu, next sequence %llu\n",
              static_cast<unsigned long long>(counter("feed.foreign")),
              static_cast<unsigned long long>(counter("feed.suspect")),
              static_cast<unsigned long long>(counter("feed.duplicates")),
              static_cast<unsigned long long>(feed.next_sequence));
}

// The same forged heartbeat, but spoofing the feed's own source address and port (a raw socket,
// root only): what anyone on a multicast segment can send. The source check cannot tell it from
// the venue; the plausibility bound must: the jump is suspect, probed at the re-request server,
// refuted or expired, never applied, and hftd trades on.
TEST_F(HftdEndToEnd, AForgedHeartbeatFromTheFeedsOwnSourceIsSuspectAndTradingGoesOn) {
  Counters counter(instance_, (dir_ / "shm").string());
  ASSERT_TRUE(wait_until([&] { return counter("orders.sent") > 0 && counter("feed.packets") > 100; },
                         std::chrono::seconds(20)))
      << "hftd never traded" << logs();
  const int raw = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (raw < 0) GTEST_SKIP() << "a raw socket needs root (CAP_NET_RAW): " << std::strerror(errno);
  // hftd logs the source it learned: "feed: source learned: 127.0.0.1:PORT (...)".
  std::uint16_t source_port = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string said = hftd_->out() + hftd_->err();
        const std::string prefix = "feed: source learned: 127.0.0.1:";
        const std::size_t at = said.find(prefix);
        if (at == std::string::npos) return false;
        source_port = static_cast<std::uint16_t>(std::stoul(said.substr(at + prefix.size())));
        return true;
      },
      std::chrono::seconds(5)))
      << "hftd did not log the feed source it learned" << logs();
  const std::string session(control::get_text(counter.reader()->feed().session));
  ASSERT_EQ(session.size(), 10u) << "no feed session in the control file";

  // IPv4 header (the kernel fills in the checksum, the total length and the id), UDP header
  // (checksum 0: none), then the MoldUDP64 heartbeat: session, sequence 2^63, count 0.
  std::array<std::uint8_t, 20 + 8 + 20> p{};
  p[0] = 0x45;
  p[8] = 64;              // TTL
  p[9] = IPPROTO_UDP;
  const std::uint32_t lo = htonl(INADDR_LOOPBACK);
  std::memcpy(&p[12], &lo, 4);
  std::memcpy(&p[16], &lo, 4);
  const std::uint16_t sport = htons(source_port), dport = htons(feed_port_), ulen = htons(8 + 20);
  std::memcpy(&p[20], &sport, 2);
  std::memcpy(&p[22], &dport, 2);
  std::memcpy(&p[24], &ulen, 2);
  std::memcpy(&p[28], session.data(), 10);
  p[38] = 0x80;
  const std::uint64_t suspect_before = counter("feed.suspect");
  const sockaddr_in to = loopback(feed_port_);
  const ssize_t sent = ::sendto(raw, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  const int send_errno = errno;
  ::close(raw);
  ASSERT_EQ(sent, static_cast<ssize_t>(p.size())) << std::strerror(send_errno);
  EXPECT_TRUE(wait_until([&] { return counter("feed.suspect") > suspect_before; }, std::chrono::seconds(5)))
      << "the spoofed packet was not counted suspect (feed.foreign " << counter("feed.foreign") << ")" << logs();

  const auto sends = [&] { return counter("orders.sent") + counter("orders.replaces_sent"); };
  const std::uint64_t before = sends(), next = counter.reader()->feed().next_sequence;
  EXPECT_TRUE(wait_until([&] { return sends() > before + 5 && counter.reader()->feed().next_sequence > next + 100; },
                         std::chrono::seconds(10)))
      << "hftd stopped trading after one spoofed packet" << logs();
  // Refuted by the re-request server's answer or expired unconfirmed (recovery deadline).
  EXPECT_TRUE(wait_until([&] { return counter("feed.suspect_refuted") + counter("feed.suspect_expired") >= 1; },
                         std::chrono::seconds(10)))
      << "the suspect jump was neither refuted nor expired" << logs();
  EXPECT_EQ(counter("feed.suspect_confirmed"), 0u);
  const control::FeedBlock feed = counter.reader()->feed();
  EXPECT_LT(feed.next_sequence, std::uint64_t{1} << 40) << "the forged sequence was applied";
  EXPECT_EQ(counter("feed.lost"), 0u);
  std::printf("spoofed heartbeat from 127.0.0.1:%u: feed.suspect %llu, refuted %llu, expired %llu, probes %llu, "
              "phantom %llu, next sequence %llu\n",
              source_port, static_cast<unsigned long long>(counter("feed.suspect")),
              static_cast<unsigned long long>(counter("feed.suspect_refuted")),
              static_cast<unsigned long long>(counter("feed.suspect_expired")),
              static_cast<unsigned long long>(counter("feed.probes")),
              static_cast<unsigned long long>(counter("feed.phantom")),
              static_cast<unsigned long long>(feed.next_sequence));
}

class HftdAfterAnAttack : public HftdEndToEnd {
 protected:
  void SetUp() override {
    defer_hftd_ = true;
    HftdEndToEnd::SetUp();
  }
};

// Issue 18, finding 4, against the real programs: before hftd starts, an attacker holds 24
// connections to the venue's order-entry port (16 slots) from four addresses, half of them idle,
// half trickling a login one byte a second (slowloris), and opens new ones as the venue closes
// them. hftd must still log in and trade. Before the fix the 16 idle connections refused every
// real login for as long as the attacker wanted.
TEST_F(HftdAfterAnAttack, IdleAndSlowlorisConnectionsDoNotKeepHftdFromLoggingIn) {
  constexpr int kConnections = 24;
  const char* const kSources[] = {"127.0.0.8", "127.0.0.9", "127.0.0.10", "127.0.0.11"};
  // A SoupBinTCP login request (length 47, 'L', user, password, session, sequence), sent a byte at a time.
  const std::string login = std::string("\x00\x2f", 2) + "LHFT02 hft02pw             1                   ";
  struct Conn {
    int fd = -1;
    std::size_t sent = 0;
  };
  std::vector<Conn> conns(kConnections);
  const sockaddr_in venue = loopback(ouch_port_);
  std::atomic<bool> stop{false};
  std::atomic<int> opened{0}, reopened{0};
  auto open = [&](int i) {
    Conn c;
    c.fd = attacker_socket(SOCK_STREAM, kSources[i % 4]);
    const timeval limit{1, 0};  // connect() gives up after 1 s (a full backlog)
    if (c.fd >= 0) ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (c.fd >= 0 && ::connect(c.fd, reinterpret_cast<const sockaddr*>(&venue), sizeof venue) != 0) {
      ::close(c.fd);
      c.fd = -1;
    }
    return c;
  };
  for (int i = 0; i < kConnections; ++i) {
    conns[i] = open(i);
    if (conns[i].fd >= 0) ++opened;
  }
  ASSERT_GE(opened.load(), 16) << "the attacker could not open its connections";
  std::thread attacker([&] {
    while (!stop.load()) {
      for (int i = 0; i < kConnections; ++i) {
        Conn& c = conns[i];
        char b;
        const ssize_t r = c.fd < 0 ? 0 : ::recv(c.fd, &b, 1, MSG_DONTWAIT);
        const bool closed = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        if (closed) {
          if (c.fd >= 0) ::close(c.fd);
          c = open(i);
          ++reopened;
        } else if (i % 2 == 1 && c.sent + 1 < login.size()) {  // slowloris: never the last byte
          if (::send(c.fd, login.data() + c.sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++c.sent;
        }
      }
      for (int k = 0; k < 10 && !stop.load(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the venue has accepted them
  start_hftd();
  Counters counter(instance_, (dir_ / "shm").string());
  const bool traded = wait_until([&] { return counter("orders.sent") > 0; }, std::chrono::seconds(20));
  stop = true;
  attacker.join();
  for (auto& c : conns)
    if (c.fd >= 0) ::close(c.fd);
  EXPECT_TRUE(traded) << "hftd could not log in past the attacker's connections" << logs();
  std::printf("attacker: %d connections, %d reopened after the venue closed them; hftd: %llu logins refused, %llu connects\n",
              opened.load(), reopened.load(), static_cast<unsigned long long>(counter("egress.login_refusals")),
              static_cast<unsigned long long>(counter("egress.connects")));
}

// Issue 13: each strategy of the library trading against the real hft-exchange over the io_uring
// backend (skipped where the kernel lacks it), alone in hftd: it trades within seconds, then
// `hftctl strategy stop` cancels its orders, and the shares it counts as filled equal the shares
// the venue's own records (--executions) executed for the user.
class StrategyLoopback : public HftdEndToEnd {
 protected:
  void SetUp() override {
    const auto f = net::probe_io_uring();
    if (!f.available || !f.multishot_recv || !f.provided_buffer_ring) GTEST_SKIP() << f.describe();
    backend_ = "io_uring";
    strategies_ = strategy_toml();
    HftdEndToEnd::SetUp();
  }
  virtual std::string strategy_toml() const = 0;

  Result ctl2(std::vector<std::string> args) {
    std::vector<std::string> argv{program("hftctl").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& a : std::vector<std::string>{"--dir", (dir_ / "shm").string(), "--instance", instance_})
      argv.push_back(a);
    return run(argv, dir_, {}, std::chrono::seconds(30));
  }
  // The strategy's filled shares as `hftctl strategy list --json` shows them (-1: not shown).
  long long strategy_volume(const std::string& name) {
    const Result r = ctl2({"strategy", "list", "--json"});
    const auto at = r.out.find("\"name\":\"" + name + "\"");
    if (r.rc != 0 || at == std::string::npos) return -1;
    const auto v = r.out.find("\"volume_shares\":", at);
    return v == std::string::npos ? -1 : std::atoll(r.out.c_str() + v + 16);
  }
  // Shares the venue executed for HFT01 (its --executions file).
  long long venue_volume() const {
    std::ifstream in(dir_ / "executions.jsonl");
    std::string line;
    long long shares = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line.back() != '}' || line.find(R"("user":"HFT01")") == std::string::npos) continue;
      const auto q = line.find(R"("quantity":)");
      if (q != std::string::npos) shares += std::atoll(line.c_str() + q + 11);
    }
    return shares;
  }
  void trades_and_the_venue_agrees(const std::string& name) {
    std::unique_ptr<control::ControlReader> reader;
    ASSERT_TRUE(wait_until(
        [&] {
          try {
            if (!reader) reader = std::make_unique<control::ControlReader>(instance_, (dir_ / "shm").string());
            return reader->order_entry().ready != 0;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(15)))
        << "hftd never got ready" << logs();
    long long mine = 0;
    ASSERT_TRUE(wait_until([&] { return (mine = strategy_volume(name)) > 0; }, std::chrono::seconds(8)))
        << name << " never traded\n" << ctl2({"strategy", "list"}).out << logs();
    const Result r = ctl2({"strategy", "stop", name});
    ASSERT_EQ(r.rc, 0) << r.err;
    ASSERT_TRUE(wait_until([&] { return reader->risk().open_orders == 0; }, std::chrono::seconds(5)))
        << name << "'s orders were not canceled" << logs();
    long long venue = 0;
    EXPECT_TRUE(wait_until([&] { return (mine = strategy_volume(name)) == (venue = venue_volume()); },
                           std::chrono::seconds(5)))
        << name << " counts " << mine << " shares filled, the venue executed " << venue << logs();
    EXPECT_GT(venue, 0);
    // The strategy's signal, published with its performance (journaled as hft_signals rows).
    if (name != "market_maker") {
      const Result list = ctl2({"strategy", "list", "--json"});
      EXPECT_NE(list.out.find(fmt::format(R"("signal_name":"{}")", name == "stat_arb" ? "z" : "trend_bps")), std::string::npos)
          << list.out;
    }
    std::printf("%s", ctl2({"strategy", "list"}).out.c_str());
  }
};

// With its defaults (a cent or more either side of the fair value) the market maker's quotes sit
// behind the venue's touch and are rarely hit within seconds: a low risk aversion, a high order
// arrival rate, a short horizon and no minimum half-spread put them at the fair value.
class MarketMakerLoopback : public StrategyLoopback {
  std::string strategy_toml() const override {
    return R"([[strategies]]
type = "market_maker"
symbols = ["AAA", "BBB", "CCC", "DDD"]
quote_size = 100
max_position = 1000
gamma = 0.1
k = 10000
horizon_s = 1
min_half_spread_ticks = 0)";
  }
};
TEST_F(MarketMakerLoopback, TradesAndItsFillsAreTheVenues) { trades_and_the_venue_agrees("market_maker"); }

// The venue's generated flow wanders without trending for long: short EMAs and bars, a 2-bar
// breakout, no volume confirmation (volume_mult = 0) and tight exits make momentum enter (and
// exit) within seconds. The rules themselves are tested with scripted books (momentum_test).
class MomentumLoopback : public StrategyLoopback {
  std::string strategy_toml() const override {
    return R"([[strategies]]
type = "momentum"
symbols = ["AAA", "BBB", "CCC", "DDD"]
size = 100
fast_s = 0.1
slow_s = 0.5
bar_s = 0.1
breakout_bars = 2
volume_mult = 0
stop_bps = 2
take_bps = 2
max_hold_s = 0.5
collar_bps = 100)";
  }
};
TEST_F(MomentumLoopback, TradesAndItsFillsAreTheVenues) { trades_and_the_venue_agrees("momentum"); }

// Likewise for the pair AAA/BBB (independent random walks at the venue): the shortest window,
// fast sampling and a low entry z so that it enters within seconds.
class StatArbLoopback : public StrategyLoopback {
  std::string strategy_toml() const override {
    return R"([[strategies]]
type = "stat_arb"
leg_a = "AAA"
leg_b = "BBB"
window = 10
sample_s = 0.05
entry_z = 0.5
exit_z = 0.1
size_a = 100
max_position = 500
collar_bps = 100)";
  }
};
TEST_F(StatArbLoopback, TradesAndItsFillsAreTheVenues) { trades_and_the_venue_agrees("stat_arb"); }

}  // namespace
}  // namespace hft::hftctl_test

namespace hft::hftctl_test {
namespace {

// Issue 11: a hostile `scripted` strategy in the real hftd (io_uring) against the real
// hft-exchange: marketable IOC buys that each break one limit (quantity, notional, collar,
// position, restricted symbol, the strategy's own position limit) and one inside every limit.
// hftd's counters show each refusal with its reason, and the venue's own records (--executions)
// show a fill of the inside order only: the refused ones, marketable too, never reached the wire.
class HostileScripted : public HftdEndToEnd {
 protected:
  void SetUp() override {
    const auto f = net::probe_io_uring();
    if (!f.available || !f.multishot_recv || !f.provided_buffer_ring) GTEST_SKIP() << f.describe();
    backend_ = "io_uring";
    defer_hftd_ = true;
    // Risk keys first (they belong to the [risk] table the fixture writes just before), then the
    // strategy. AAA trades near $412 at the venue (its default seed); the quantities below work for
    // any AAA price from $334 to $666.
    strategies_ = R"(price_collar_bps = 200
restricted_symbols = ["DDD"]
[[strategies]]
type = "scripted"
name = "hostile"
risk_max_position = 200
orders = [ { symbol = "AAA", side = "buy", quantity = 1500, price_offset_bps = 50, tif = "ioc" },
           { symbol = "AAA", side = "buy", quantity = 900, price_offset_bps = 50, tif = "ioc" },
           { symbol = "AAA", side = "buy", quantity = 100, price_offset_bps = 400, tif = "ioc" },
           { symbol = "AAA", side = "buy", quantity = 450, price_offset_bps = 50, tif = "ioc" },
           { symbol = "DDD", side = "buy", quantity = 100, price_offset_bps = 50, tif = "ioc" },
           { symbol = "AAA", side = "buy", quantity = 300, price_offset_bps = 50, tif = "ioc" },
           { symbol = "AAA", side = "buy", quantity = 100, price_offset_bps = 150, tif = "ioc", at_ms = 300 } ])";
    HftdEndToEnd::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Other global limits than the fixture's: notional $300,000 (900 x ~$414 breaks it, 450 x
    // ~$414 does not) and position 400 (450 breaks it; 300 passes it and breaks the strategy's 200).
    std::string toml = slurp(dir_ / "hftd.toml");
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"max_notional_usd = 250000", "max_notional_usd = 300000"},
                                   {"max_position = 2000", "max_position = 400"}}) {
      const auto at = toml.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      toml.replace(at, from.size(), to);
    }
    std::ofstream(dir_ / "hftd.toml") << toml;
    start_hftd();
  }
};

TEST_F(HostileScripted, EachLimitRefusesItsOrderAndOnlyTheInsideOneReachesTheVenue) {
  Counters counter(instance_, (dir_ / "shm").string());
  const std::map<std::string, std::uint64_t> expected = {
      {"max_order_quantity", 1}, {"max_notional", 1}, {"price_collar", 1},
      {"position_limit", 1},     {"restricted", 1},   {"strategy_position", 1}};
  auto refusals_seen = [&] {
    for (const auto& [reason, n] : expected)
      if (counter(("risk.rejects." + reason).c_str()) < n) return false;
    return true;
  };
  // Shares the venue executed for HFT01, by symbol (its --executions file, whole lines only).
  auto venue_fills = [&] {
    std::map<std::string, long long> by_symbol;
    std::ifstream in(dir_ / "executions.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line.back() != '}' || line.find(R"("user":"HFT01")") == std::string::npos) continue;
      const auto s = line.find(R"("symbol":")");
      const auto q = line.find(R"("quantity":)");
      if (s == std::string::npos || q == std::string::npos) continue;
      by_symbol[line.substr(s + 10, line.find('"', s + 10) - s - 10)] += std::atoll(line.c_str() + q + 11);
    }
    return by_symbol;
  };
  ASSERT_TRUE(wait_until([&] { return refusals_seen() && counter("orders.sent") >= 1; }, std::chrono::seconds(12)))
      << "refusals: quantity " << counter("risk.rejects.max_order_quantity") << ", notional "
      << counter("risk.rejects.max_notional") << ", collar " << counter("risk.rejects.price_collar") << ", position "
      << counter("risk.rejects.position_limit") << ", restricted " << counter("risk.rejects.restricted")
      << ", strategy position " << counter("risk.rejects.strategy_position") << "; sent " << counter("orders.sent")
      << logs();
  // The inside order's fill is written by the venue when it matches; wait for it.
  EXPECT_TRUE(wait_until([&] { return venue_fills()["AAA"] > 0; }, std::chrono::seconds(5)))
      << "the inside order (100 AAA at +150 bps, IOC) did not fill at the venue" << logs();
  for (const auto& [reason, n] : expected) EXPECT_EQ(counter(("risk.rejects." + reason).c_str()), n) << reason;
  EXPECT_EQ(counter("orders.sent"), 1u) << "only the inside order went out";
  const auto fills = venue_fills();
  EXPECT_EQ(fills.size(), 1u) << "the venue executed HFT01 in AAA only (DDD is restricted)";
  EXPECT_GT(fills.count("AAA") ? fills.at("AAA") : 0, 0);
  EXPECT_LE(fills.count("AAA") ? fills.at("AAA") : 0, 100) << "more than the inside order's 100 shares executed";
  std::printf("refusals: quantity %llu, notional %llu, collar %llu, position %llu, restricted %llu, strategy position %llu; "
              "sent %llu; venue executed %lld AAA shares for HFT01\n",
              static_cast<unsigned long long>(counter("risk.rejects.max_order_quantity")),
              static_cast<unsigned long long>(counter("risk.rejects.max_notional")),
              static_cast<unsigned long long>(counter("risk.rejects.price_collar")),
              static_cast<unsigned long long>(counter("risk.rejects.position_limit")),
              static_cast<unsigned long long>(counter("risk.rejects.restricted")),
              static_cast<unsigned long long>(counter("risk.rejects.strategy_position")),
              static_cast<unsigned long long>(counter("orders.sent")), fills.count("AAA") ? fills.at("AAA") : 0LL);
}

}  // namespace
}  // namespace hft::hftctl_test
