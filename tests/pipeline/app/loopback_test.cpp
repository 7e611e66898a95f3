// hftd's loopback integration: the real appliance (app::Appliance: every stage, ring and runner
// thread, on the configured network backend) trading with the real venue (venue::Venue: matching
// engine, ITCH 5.0 over MoldUDP64 with a re-request server, OUCH 5.0 over SoupBinTCP) on
// 127.0.0.1, in one process so that the test can count the pipeline threads' allocations.
//
// The venue is driven step by step from the test thread (it owns it; nothing else touches it),
// the appliance runs on its own threads, and the test reads the appliance through its control
// file (/dev/shm's layout in a private directory), as hftctl does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/config.hpp"
#include "net/backend.hpp"
#include "pipeline/app/appliance.hpp"
#include "pipeline/app/config.hpp"
#include "pipeline/control/control_file.hpp"
#include "venue/venue.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/child_process.hpp"

namespace hft::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;


// What a test varies: the backend, the venue's packet loss, the risk limits and strategies.
struct Scenario {
  std::string backend = "epoll";
  std::uint32_t drop_every = 0;
  double background_rate = 4000;
  bool probe = false;
  std::string risk;        // the [risk] table's body
  std::string strategies;  // [[strategies]] tables
  // GLIMPSE snapshot recovery (issue 10)
  bool glimpse = false;             // the venue serves GLIMPSE and hftd's [feed] glimpse names it
  std::uint64_t drop_burst = 0;     // the venue keeps one burst of message packets off the wire...
  std::uint64_t drop_burst_after = 0;
  std::size_t store_messages = 1 << 20;  // the re-request server's window
  std::chrono::milliseconds late_join{0};  // the day runs this long before hftd starts
  std::string feed_extra;           // more [feed] keys
};

class Loopback : public ::testing::Test {
 protected:
  void TearDown() override {
    if (appliance_ && !stopped_) stop_appliance();
    if (venue_) {
      venue_->stop();
      venue_->stop();  // no linger
      venue_->finish();
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Builds and starts the venue (stepped by this thread) and the appliance (its own threads).
  // Empty, or why the backend cannot run on this kernel (the test then skips).
  static std::string unavailable(const Scenario& s) {
    if (s.backend == "io_uring" && !net::probe_io_uring().available)
      return "io_uring is not available here (" + net::probe_io_uring().error + "); the epoll case covers this host";
    return {};
  }
  void start(const Scenario& s) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("hft_loopback_{}_{}", ::getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "shm");
    fs::create_directories(dir_ / "hist");
    instance_ = fmt::format("loop{}", ::getpid());
    const std::uint16_t feed_port = hft::testing::free_port(SOCK_DGRAM);

    venue::VenueConfig v;
    v.feed = net::parse_endpoint(fmt::format("127.0.0.1:{}", feed_port));
    v.rerequest = net::parse_endpoint("127.0.0.1:0");
    v.ouch = net::parse_endpoint("127.0.0.1:0");
    v.drop_every = s.drop_every;
    v.drop_burst = s.drop_burst;
    v.drop_burst_after = s.drop_burst_after;
    if (s.glimpse) v.glimpse = net::parse_endpoint("127.0.0.1:0");
    v.book_dump = (dir_ / "venue_books.json").string();
    v.publisher.heartbeat_interval_ns = 50'000'000;
    v.publisher.end_of_session_packets = 2;
    v.store.max_messages = s.store_messages;
    v.store.max_bytes = 64u << 20;
    v.accounts = {venue::Account{"HFT01", "hft01pw", "HFTA"}};
    v.symbols = {venue::SymbolSpec{itch::Symbol::from("AAA"), 1'000'000},
                 venue::SymbolSpec{itch::Symbol::from("BBB"), 500'000}};
    v.engine.max_symbols = static_cast<std::uint32_t>(v.symbols.size() + 2);
    v.engine.max_orders = 1 << 17;
    v.engine.max_levels = 1 << 14;
    v.max_levels_per_side = 512;
    v.background.rate = s.background_rate;
    v.background.max_resting_per_symbol = 2000;
    v.open_delay_ns = 1'500'000'000;  // hftd logs in first (waited for below), then the day opens
    v.shutdown_linger_ns = 200'000'000;
    if (s.probe) {
      v.probe.histogram = (dir_ / "probe.hgrm").string();
      v.probe.interval_ns = 2'000'000;
    }
    v.log.level = core::LogLevel::kWarn;
    venue_ = std::make_unique<venue::Venue>(v);

    const std::string toml = fmt::format(R"(instance = "{instance}"
[memory]
size_mb = 32
hugepages = "normal"
[log]
level = "warn"
[net]
backend = "{backend}"
[feed]
listen = "127.0.0.1:{feed}"
rerequest = "127.0.0.1:{rerequest}"
request_timeout_ms = 20
{feed_extra}
[order_entry]
venue = "127.0.0.1:{ouch}"
user = "HFT01"
password = "hft01pw"
firm = "HFTA"
warm_interval_us = 20   # exercise the send-path rehearsal: it must send and allocate nothing
[book]
orders = 65536
levels = 16384
max_locate = 64
[risk]
{risk}
{strategies}
[[threads]]
name = "hft-pipeline"
idle = "backoff"
stages = ["net", "parse", "book", "strategy", "risk"]
[stats]
histogram_dir = "{hist}"
[control]
dir = "{shm}"
publish_interval_ms = 5
[journal]               # the write-ahead journal on the hot path: it must allocate nothing either
dir = "{journal}"
segment_mb = 1
sync = "interval:10ms"
)",
                                         fmt::arg("instance", instance_), fmt::arg("backend", s.backend),
                                         fmt::arg("feed", feed_port), fmt::arg("rerequest", venue_->rerequest_endpoint().port()),
                                         fmt::arg("ouch", venue_->ouch_endpoint().port()), fmt::arg("risk", s.risk),
                                         fmt::arg("strategies", s.strategies), fmt::arg("hist", (dir_ / "hist").string()),
                                         fmt::arg("shm", (dir_ / "shm").string()),
                                         fmt::arg("journal", (dir_ / "journal").string()),
                                         fmt::arg("feed_extra", s.glimpse ? fmt::format("glimpse = \"127.0.0.1:{}\"\n{}",
                                                                                        venue_->glimpse_endpoint().port(), s.feed_extra)
                                                                          : s.feed_extra));
    const auto doc = core::ConfigDocument::parse(toml, "loopback.toml");
    config_ = parse_hftd_config(doc->root());
    venue_->start();
    if (s.late_join.count() != 0) {  // the day opens and runs before hftd starts
      const auto join_at = std::chrono::steady_clock::now() + std::chrono::nanoseconds(v.open_delay_ns) + s.late_join;
      while (std::chrono::steady_clock::now() < join_at) venue_->step(1'000'000);
    }
    appliance_ = std::make_unique<Appliance>(config_);
    appliance_->start();
    reader_ = std::make_unique<control::ControlReader>(instance_, (dir_ / "shm").string());
    // Logged in before the day opens, so that no strategy meets a session that is not up yet.
    const auto open_at = std::chrono::steady_clock::now() + 1500ms;
    while (!appliance_->ready() && std::chrono::steady_clock::now() < open_at) venue_->step(1'000'000);
    ASSERT_TRUE(appliance_->ready()) << "hftd did not log in before the open";
  }

  // Steps the venue and ticks the appliance's control plane until `done` or `limit`.
  bool run(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    auto next_tick = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < end) {
      venue_->step(1'000'000);
      if (std::chrono::steady_clock::now() >= next_tick) {
        appliance_->control_tick();
        next_tick = std::chrono::steady_clock::now() + 5ms;
        if (done()) return true;
      }
    }
    appliance_->control_tick();
    return done();
  }
  void run_for(std::chrono::milliseconds t) { run([] { return false; }, t); }

  // Stops the appliance (it cancels its working orders and waits for the venue's answers) while
  // this thread keeps the venue going.
  Summary stop_appliance() {
    auto done = std::async(std::launch::async, [this] { return appliance_->stop(); });
    while (done.wait_for(0ms) != std::future_status::ready) venue_->step(1'000'000);
    stopped_ = true;
    return done.get();
  }

  [[nodiscard]] std::uint64_t counter(const std::string& name) const { return reader_->counter(name).value_or(0); }
  // Allocations so far by the appliance's pipeline threads.
  [[nodiscard]] std::uint64_t pipeline_allocations() const {
    std::uint64_t n = 0;
    for (const int tid : appliance_->thread_ids()) n += hft::testing::thread_counts(tid).allocations;
    return n;
  }
  [[nodiscard]] std::string state() const {
    std::string out;
    for (const auto& c : reader_->counters())
      if (c.value != 0) out += fmt::format("{}={} ", c.name, c.value);
    return out;
  }

  fs::path dir_;
  std::string instance_;
  HftdConfig config_;
  std::unique_ptr<venue::Venue> venue_;
  std::unique_ptr<Appliance> appliance_;
  std::unique_ptr<control::ControlReader> reader_;
  bool stopped_ = false;
};

constexpr const char* kRoomyRisk = R"(max_order_quantity = 1000
max_notional_usd = 250000
price_band_bps = 500
max_position = 2000
max_open_orders = 100
max_orders_per_second = 2000
order_burst = 200)";

class LoopbackBackends : public Loopback, public ::testing::WithParamInterface<const char*> {};

// A market maker and the probe answerer trade with the venue's background flow while the venue
// keeps every 40th feed packet off the wire: orders are accepted and filled, every gap is filled
// from the re-request server (nothing lost), the probe is answered, and once warm the pipeline
// threads allocate nothing.
TEST_P(LoopbackBackends, TradesRecoversDroppedPacketsAndAllocatesNothing) {
  ASSERT_TRUE(hft::testing::counting_active());
  Scenario s;
  s.backend = GetParam();
  s.drop_every = 40;
  s.probe = true;
  s.risk = kRoomyRisk;
  s.strategies = R"([[strategies]]
type = "probe"
symbol = "ZPROBE"
[[strategies]]
type = "market_maker"
symbols = ["AAA", "BBB"]
quote_size = 100
max_position = 1000)";
  if (const auto why = unavailable(s); !why.empty()) GTEST_SKIP() << why;
  start(s);
  if (HasFatalFailure()) return;
  EXPECT_NE(appliance_->describe().find(s.backend), std::string::npos) << appliance_->describe();

  // Warm-up: logged in, quotes accepted, a fill, a gap recovered.
  EXPECT_TRUE(run([&] { return counter("orders.fills") > 0 && counter("feed.recovered") > 0; }, 20s)) << state();
  const std::uint64_t before = pipeline_allocations();
  const std::uint64_t sent_before = counter("orders.sent") + counter("orders.replaces_sent");
  const std::uint64_t recovered_before = counter("feed.recovered");
  run_for(1500ms);
  EXPECT_EQ(pipeline_allocations() - before, 0u) << "the pipeline threads allocated after warm-up";
  EXPECT_GT(counter("orders.sent") + counter("orders.replaces_sent"), sent_before) << "the strategy kept trading";
  EXPECT_GT(counter("feed.recovered"), recovered_before) << "gaps kept being filled";
  EXPECT_GT(counter("journal.records"), 0u) << "intents, OUCH messages and session states are journaled";
  EXPECT_EQ(counter("journal.append_failures"), 0u);
  for (const auto& c : reader_->counters())
    if (c.name.rfind("risk.rejects.", 0) == 0) {
      EXPECT_EQ(c.value, 0u) << c.name << " while trading within roomy limits; " << state();
    }

  const Summary sum = stop_appliance();
  EXPECT_EQ(sum.backend, s.backend);
  EXPECT_GT(sum.orders_sent, 0u);
  EXPECT_GT(sum.accepted, 0u);
  EXPECT_GT(sum.fills, 0u);
  EXPECT_GT(sum.gaps, 0u);
  EXPECT_GT(sum.recovered, 0u);
  EXPECT_EQ(sum.lost, 0u) << "every dropped packet is recovered";
  // Positions per symbol, named as the feed's directory names them; gross and net derived.
  std::int64_t gross = 0, net = 0;
  for (const auto& p : sum.positions) {
    EXPECT_EQ(p.symbol.rfind("locate", 0), std::string::npos) << "a symbol the feed named: " << p.symbol;
    gross += p.shares < 0 ? -p.shares : p.shares;
    net += p.shares;
  }
  EXPECT_EQ(sum.gross_position, gross);
  EXPECT_EQ(sum.net_position, net);
  const venue::VenueSummary v = venue_->summary();
  EXPECT_GT(v.dropped_on_purpose, 0u);
  EXPECT_GT(v.rerequests.requests, 0u);
  EXPECT_GT(v.probe.answered, 0u) << "the probe strategy answers the venue's probes";
  EXPECT_EQ(v.order_entry.enter, sum.orders_sent) << "every order hftd sent reached the venue";
  EXPECT_EQ(v.client_orders, 0u) << "stop cancels every working order";
}

INSTANTIATE_TEST_SUITE_P(Backends, LoopbackBackends, ::testing::Values("io_uring", "epoll"),
                         [](const auto& p) { return std::string(p.param); });

// A scripted strategy breaks each limit once (two for the open-order limit): those orders are
// refused with their reason and never reach the venue; the orders within limits do.
TEST_F(Loopback, EachRiskLimitStopsItsOrdersBeforeTheWire) {
  Scenario s;
  s.background_rate = 1000;
  s.risk = R"(max_order_quantity = 1000
max_notional_usd = 80000
price_band_bps = 500
max_position = 1500
max_open_orders = 4
max_orders_per_second = 1000
order_burst = 100)";
  // AAA's reference price is $100: 900 x $99 breaks the notional, +20% the band, the third buy
  // of 700 the position limit (2 x 700 working), the last two sells the open-order limit.
  s.strategies = R"([[strategies]]
type = "scripted"
orders = [ { symbol = "AAA", side = "buy", quantity = 2000, price_offset_bps = -300 },
           { symbol = "AAA", side = "buy", quantity = 900, price_offset_bps = -100 },
           { symbol = "AAA", side = "sell", quantity = 100, price_offset_bps = 2000 },
           { symbol = "AAA", side = "buy", quantity = 700, price_offset_bps = -300, repeat = 3 },
           { symbol = "AAA", side = "sell", quantity = 100, price_offset_bps = 300, repeat = 4 } ])";
  if (const auto why = unavailable(s); !why.empty()) GTEST_SKIP() << why;
  start(s);
  if (HasFatalFailure()) return;
  const std::map<std::string, std::uint64_t> expected = {{"max_order_quantity", 1}, {"max_notional", 1},
                                                         {"price_band", 1},         {"position_limit", 1},
                                                         {"open_order_limit", 2}};
  EXPECT_TRUE(run([&] { return counter("orders.accepted") == 4 && counter("risk.rejects.open_order_limit") == 2; }, 20s))
      << state();
  run_for(200ms);  // anything else would have shown by now
  for (const auto& [reason, n] : expected) EXPECT_EQ(counter("risk.rejects." + reason), n) << reason;
  for (const char* other : {"order_rate", "kill_switch", "halted", "no_reference_price"})
    EXPECT_EQ(counter(std::string("risk.rejects.") + other), 0u) << other;
  EXPECT_EQ(counter("orders.sent"), 4u);
  EXPECT_EQ(venue_->summary().order_entry.enter, 4u) << "only the four orders within limits reached the venue";
  EXPECT_EQ(venue_->summary().client_orders, 4u);
  const Summary sum = stop_appliance();
  EXPECT_EQ(sum.risk_rejects, 6u);
  EXPECT_EQ(venue_->summary().order_entry.enter, 4u);
}

// The order-rate bucket lets the burst through and refuses the rest; the kill switch cancels
// every working order at the venue and refuses what the strategy sends afterwards.
TEST_F(Loopback, RateLimitAndKillSwitch) {
  Scenario s;
  s.background_rate = 1000;
  s.risk = R"(max_order_quantity = 1000
max_notional_usd = 250000
price_band_bps = 500
max_position = 2000
max_open_orders = 100
max_orders_per_second = 0.01
order_burst = 3)";
  s.strategies = R"([[strategies]]
type = "scripted"
orders = [ { symbol = "AAA", side = "sell", quantity = 100, price_offset_bps = 300, repeat = 6 },
           { symbol = "BBB", side = "buy", quantity = 100, price_offset_bps = -300, at_ms = 1500 } ])";
  if (const auto why = unavailable(s); !why.empty()) GTEST_SKIP() << why;
  start(s);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(run([&] { return counter("orders.accepted") == 3 && counter("risk.rejects.order_rate") == 3; }, 20s))
      << state();
  EXPECT_EQ(venue_->summary().client_orders, 3u);

  appliance_->kill_switch(true);
  EXPECT_TRUE(run([&] { return venue_->summary().client_orders == 0 && counter("orders.open") == 0; }, 10s)) << state();
  EXPECT_EQ(venue_->summary().order_entry.canceled, 3u);
  EXPECT_TRUE(run([&] { return counter("risk.rejects.kill_switch") == 1; }, 10s)) << state();
  EXPECT_EQ(venue_->summary().order_entry.enter, 3u) << "nothing reached the venue after the kill switch";
  const Summary sum = stop_appliance();
  EXPECT_EQ(sum.orders_sent, 3u);
  EXPECT_EQ(sum.risk_rejects, 4u);
  EXPECT_EQ(venue_->summary().client_orders, 0u);
}

// ---- GLIMPSE snapshot recovery (issue 10) ---------------------------------------------------------

constexpr const char* kMarketMaker = R"([[strategies]]
type = "market_maker"
symbols = ["AAA", "BBB"]
quote_size = 100
max_position = 1000)";

class GlimpseLoopback : public Loopback {
 protected:
  // Ends the venue's day (its --book-dump is written), lets hftd take the rest of the feed, stops
  // it, and returns its summary (books_json: hftd's final books, in the dump's format).
  Summary end_day_and_stop() {
    venue_->stop();
    venue_->stop();
    venue_->finish();
    const std::uint64_t last = venue_->summary().itch_messages + 1;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (reader_->feed().next_sequence < last && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    EXPECT_GE(reader_->feed().next_sequence, last) << "hftd did not receive the end of the day; " << state();
    auto done = std::async(std::launch::async, [this] { return appliance_->stop(); });
    const Summary sum = done.get();
    stopped_ = true;
    return sum;
  }
  [[nodiscard]] std::string venue_books() const {
    std::ifstream in(dir_ / "venue_books.json", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // The loss scenario: a burst of 300 message packets (about 1,200 messages at 4,000 messages/s)
  // kept off the wire against a re-request window of 256 messages: the head of the hole is gone.
  static Scenario burst_loss(bool glimpse) {
    Scenario s;
    s.glimpse = glimpse;
    s.background_rate = 4000;
    s.store_messages = 256;
    s.drop_burst_after = 400;
    s.drop_burst = 300;
    s.feed_extra = "recovery_deadline_ms = 200";
    s.risk = kRoomyRisk;
    s.strategies = kMarketMaker;
    return s;
  }
};

// The venue drops a burst larger than its retransmission window while hftd runs: the re-request
// server cannot serve the hole, the session declares it lost, hftd rebuilds every book from a
// GLIMPSE snapshot (holding the live feed meanwhile), the market maker trades again, and at the
// end of the day hftd's books are the venue's --book-dump byte for byte.
TEST_F(GlimpseLoopback, RebuildsTheBooksAfterALossBeyondTheRetransmissionWindow) {
  start(burst_loss(true));
  if (HasFatalFailure()) return;
  // One recovery at start (the snapshot replaces the replay from sequence 1), one for the loss.
  EXPECT_TRUE(run([&] { return counter("feed.lost") > 0 && counter("feed.snapshot_recoveries") >= 2; }, 20s)) << state();
  const std::uint64_t sent = counter("orders.sent") + counter("orders.replaces_sent");
  EXPECT_TRUE(run([&] { return counter("orders.sent") + counter("orders.replaces_sent") > sent + 2; }, 10s))
      << "the market maker trades again after the recovery; " << state();
  run_for(500ms);
  const Summary sum = end_day_and_stop();
  EXPECT_GT(venue_->summary().dropped_on_purpose, 0u);
  EXPECT_GT(sum.lost, 0u) << "the burst was beyond the re-request window";
  EXPECT_GE(sum.snapshot_recoveries, 2u);
  const std::string dumped = venue_books();
  ASSERT_FALSE(dumped.empty());
  EXPECT_EQ(sum.books_json, dumped) << "hftd's books differ from the venue's --book-dump";
}

// The same loss without [feed] glimpse: the books keep a hole (and the feed stays stale). This is
// what the test above fails with when snapshot recovery is taken away.
TEST_F(GlimpseLoopback, WithoutGlimpseTheSameLossLeavesTheBooksWrong) {
  start(burst_loss(false));
  if (HasFatalFailure()) return;
  EXPECT_TRUE(run([&] { return counter("feed.lost") > 0; }, 20s)) << state();
  run_for(500ms);
  EXPECT_EQ(counter("feed.lost_stale"), 1u);
  const Summary sum = end_day_and_stop();
  EXPECT_EQ(sum.snapshot_recoveries, 0u);
  EXPECT_NE(sum.books_json, venue_books()) << "a hole of ~1,000 messages left the books as they should be?";
}

// A late joiner: hftd starts 1.5 s into the day and builds its books from a snapshot, not from a
// replay of the day from sequence 1 (it receives fewer messages than the day had), trades, and
// ends with the venue's books.
TEST_F(GlimpseLoopback, ALateJoinerRecoversBySnapshot) {
  Scenario s;
  s.glimpse = true;
  s.background_rate = 4000;
  s.late_join = 1500ms;
  s.risk = kRoomyRisk;
  s.strategies = kMarketMaker;
  start(s);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(run([&] { return counter("feed.snapshot_recoveries") >= 1 && counter("orders.accepted") > 0; }, 20s))
      << state();
  run_for(500ms);
  const Summary sum = end_day_and_stop();
  EXPECT_GE(sum.snapshot_recoveries, 1u);
  EXPECT_EQ(sum.lost, 0u);
  EXPECT_LT(sum.feed_messages, venue_->summary().itch_messages) << "hftd replayed the day instead of the snapshot";
  EXPECT_GT(venue_->summary().glimpse.snapshot_messages, 100u) << "the snapshot carried the books";
  const std::string dumped = venue_books();
  ASSERT_FALSE(dumped.empty());
  EXPECT_EQ(sum.books_json, dumped) << "hftd's books differ from the venue's --book-dump";
}

}  // namespace
}  // namespace hft::app
