// The hft-exchange program as a user runs it: bad flags and configurations end with a clear
// message and a non-zero status; SIGTERM ends the day cleanly (summary logged, every file
// written); tshark decodes its traffic with the moldudp64 and soupbintcp dissectors and finds
// nothing malformed; under systemd it reports READY, feeds the watchdog and says STOPPING; each
// start is a new session; --executions writes a line per execution while it runs.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>

#include "core/histogram.hpp"
#include "core/version.hpp"
#include "gateways/files/binary_file.hpp"
#include "net/socket.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/book/snapshot.hpp"
#include "tests/venue/venue_test_util.hpp"
#include "tests/support/notify_socket.hpp"
#include "tests/tools/hft_exchange/process.hpp"

namespace hft::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class HftExchange : public ::testing::Test {
 protected:
  void SetUp() override {
    exe_ = program_path("hft-exchange");
    ASSERT_TRUE(fs::exists(exe_)) << exe_ << " not found: build the hft-exchange target";
    dir_ = fs::temp_directory_path() / ("hft_exchange_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::pair<int, std::string> run(std::vector<std::string> args) {
    args.insert(args.begin(), exe_.string());
    return run_command(args, dir_ / "out.txt");
  }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  // Fast timers so the end-of-day tail takes a fraction of a second.
  fs::path fast_config() {
    return write("fast.toml", "shutdown_linger_ms = 2000\n[feed]\nheartbeat_interval_ms = 50\n");
  }

  fs::path exe_;
  fs::path dir_;
};

TEST_F(HftExchange, BadFlagsAndConfigurationsExitNonZeroWithAClearMessage) {
  auto [rc, out] = run({"--bogus"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("--bogus"), std::string::npos) << out;

  std::tie(rc, out) = run({"--rate", "-5"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("--rate"), std::string::npos) << out;

  std::tie(rc, out) = run({"--stocks", "3", "--symbols", "AAPL"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("excludes"), std::string::npos) << out;

  std::tie(rc, out) = run({"--user", "NOPASSWORD"});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("expected NAME:PASSWORD"), std::string::npos) << out;

  std::tie(rc, out) = run({"--feed", "localhost"});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("expected HOST:PORT"), std::string::npos) << out;

  std::tie(rc, out) = run({"--config", (dir_ / "missing.toml").string()});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("missing.toml: cannot open configuration file"), std::string::npos) << out;

  const fs::path bad = write("bad.toml", "[feed]\nttl = \"one\"\n");
  std::tie(rc, out) = run({"--config", bad.string()});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("bad.toml:2:7: feed.ttl: expected an integer, got a string"), std::string::npos) << out;

  const fs::path unknown = write("unknown.toml", "[background]\nrate = 10\nspeed = 3\n");
  std::tie(rc, out) = run({"--config", unknown.string()});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("unknown.toml:3:1: background.speed: unknown key"), std::string::npos) << out;
}

TEST_F(HftExchange, APortInUseIsAClearErrorAtStartUp) {
  net::Fd taken = net::tcp_listen(net::parse_endpoint("127.0.0.1:0"));
  const std::uint16_t port = net::local_endpoint(taken.get()).port();
  const auto [rc, out] = run({"--ouch", "127.0.0.1:" + std::to_string(port), "--rerequest", "127.0.0.1:0", "--duration", "1"});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find(std::to_string(port)), std::string::npos) << out;
}

TEST_F(HftExchange, SigtermEndsTheDayCleanlyWithTheSummaryAndEveryFileWritten) {
  venue::testing::FeedReceiver feed;
  const fs::path capture = dir_ / "day.itch", probe = dir_ / "probe.hgrm", books = dir_ / "books.json";
  Process p({exe_.string(), "--config", fast_config().string(), "--feed", "127.0.0.1:" + std::to_string(feed.port()),
             "--rerequest", "127.0.0.1:0", "--ouch", "127.0.0.1:0", "--rate", "20000", "--capture", capture.string(),
             "--latency-probe", probe.string(), "--book-dump", books.string(), "--duration", "0"},
            dir_ / "venue.txt");
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.await_output("background flow", 30000ms)) << p.output();
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until) feed.poll(5);
  p.signal(SIGTERM);
  const auto end = std::chrono::steady_clock::now() + 5000ms;
  while (p.running() && std::chrono::steady_clock::now() < end) {
    feed.poll(5);
    p.wait_for(0ms);
  }
  const std::optional<int> rc = p.wait_for(1000ms);
  ASSERT_TRUE(rc.has_value()) << "still running 5 s after SIGTERM\n" << p.output();
  EXPECT_EQ(*rc, 0) << p.output();
  const std::string out = p.output();
  for (const char* line : {"summary: ", "ITCH mix", "re-requests:", "OUCH in:", "engine:", "probe:"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;

  // The capture: every message published, then the end-of-session marker (BinaryFILE §1.2).
  files::MappedFile file(capture.string());
  const std::uint8_t* p8 = file.data();
  std::size_t pos = 0, messages = 0;
  char last_type = 0;
  while (pos + 2 <= file.size()) {
    const std::size_t n = static_cast<std::size_t>(p8[pos]) << 8 | p8[pos + 1];
    if (n == 0) break;
    ASSERT_LE(pos + 2 + n, file.size());
    last_type = static_cast<char>(p8[pos + 2]);
    ++messages;
    pos += 2 + n;
  }
  EXPECT_EQ(pos + 2, file.size()) << "the capture must end with the zero-length end-of-session record";
  EXPECT_GT(messages, 1000u);
  EXPECT_EQ(feed.counters().messages, messages) << "the feed carried exactly what the capture holds";
  EXPECT_EQ(last_type, 'S');  // S 'C': end of messages

  core::HgrmFile h;
  std::string error;
  ASSERT_TRUE(core::parse_hgrm(read_file(probe), h, error)) << error;
  EXPECT_EQ(h.total_count, 0u);  // nobody answered the probes

  // The books rebuilt from the capture (what `hft-itch book --format json` does) are the venue's
  // --book-dump, byte for byte.
  const std::string dumped = read_file(books);
  ASSERT_FALSE(dumped.empty());
  book::BookConfig bc;
  bc.orders = 1 << 20;
  bc.levels = 1 << 18;
  book::BookSet rebuilt(bc);
  book::NullSink sink;
  book::ItchBookHandler<book::NullSink> handler(rebuilt, sink);
  itch::DecodeStats stats;
  const auto r = book::build_blocks(file.data(), file.size(), handler, stats, /*stop_at_empty=*/true);
  EXPECT_TRUE(r.end_marker);
  EXPECT_EQ(book::to_json(book::take_snapshot(rebuilt)), dumped);
  // And through the data tool itself, once it is built alongside.
  if (const fs::path itch_tool = program_path("hft-itch"); fs::exists(itch_tool)) {
    const auto [tool_rc, tool_out] = run_command({itch_tool.string(), "book", "--format", "json", capture.string()},
                                                 dir_ / "hft-itch.txt");
    EXPECT_EQ(tool_rc, 0) << tool_out;
    EXPECT_EQ(tool_out, dumped);
  }
}

// --json: the end-of-run summary is one JSON document on stdout (the log stays on stderr), with
// the fields of docs/json-output.md.
TEST_F(HftExchange, JsonSummaryOnStdout) {
  using nlohmann::json;
  venue::testing::FeedReceiver feed;
  const fs::path out = dir_ / "summary.json", log = dir_ / "log.txt";
  const std::string cmd = fmt::format(
      "'{}' --config '{}' --feed 127.0.0.1:{} --rerequest 127.0.0.1:0 --ouch 127.0.0.1:0 --stocks 4 --rate 5000 "
      "--duration 0.5 --json >'{}' 2>'{}'",
      exe_.string(), fast_config().string(), feed.port(), out.string(), log.string());
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << read_file(log);
  const std::string text = read_file(out);
  json j;
  ASSERT_NO_THROW(j = json::parse(text)) << text;  // the whole of stdout is one document
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["kind"], "venue_summary");
  EXPECT_EQ(j["outputs_ok"], true);
  EXPECT_GT(j["seconds"].get<double>(), 0.3);
  EXPECT_LT(j["seconds"].get<double>(), 5.0);
  const auto messages = j["itch"]["messages"].get<std::uint64_t>();
  EXPECT_GT(messages, 100u);
  std::uint64_t by_type = 0;
  for (const auto& [type, n] : j["itch"]["by_type"].items()) {
    EXPECT_EQ(type.size(), 1u) << type;
    by_type += n.get<std::uint64_t>();
  }
  EXPECT_EQ(by_type, messages) << "the mix adds up to the total";
  EXPECT_EQ(j["itch"]["by_type"]["R"], 5) << "one stock directory per stock and the probe's symbol";
  EXPECT_GE(j["feed"]["message_packets"].get<std::uint64_t>(), 1u);
  EXPECT_GE(j["feed"]["packets"].get<std::uint64_t>(), j["feed"]["message_packets"].get<std::uint64_t>());
  for (const char* section : {"rerequests", "sessions", "ouch", "engine", "background", "probe"})
    EXPECT_TRUE(j[section].is_object()) << section;
  EXPECT_EQ(j["sessions"]["logins"], 0);
  EXPECT_GT(j["background"]["actions"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["engine"]["client_orders"], 0);
  EXPECT_TRUE(j["probe"].contains("p99_ns"));
  // Issue 14: the venue's identity and fees (defaults: today's NASDAQ, no fees), fees per user.
  EXPECT_EQ(j["venue"]["name"], "NASDAQ");
  EXPECT_EQ(j["venue"]["mpid"], "NSDQ");
  EXPECT_EQ(j["venue"]["fee_add"], 0.0);
  EXPECT_TRUE(j["fees"].is_object());
  EXPECT_FALSE(j.contains("lead")) << "no lead channel unless asked";
  EXPECT_FALSE(j.contains("follow"));
  EXPECT_NE(read_file(log).find("summary: "), std::string::npos) << "the text summary still goes to the log";
}

TEST_F(HftExchange, VersionComesFromCMake) {
  auto [rc, out] = run({"--version"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, std::string("hft-exchange ") + kVersion + "\n");
}

// Issue 18: a restarted venue is a new day. Each start publishes a new MoldUDP64 session name
// and opens a new SoupBinTCP session (the same name on both), so a receiver or a client of the
// previous run can tell that its sequence numbers mean nothing here; an explicit [feed] /
// [order_entry] session stays as configured.
TEST_F(HftExchange, EachStartPublishesANewSessionOnTheFeedAndTheOrderEntryPort) {
  struct Seen {
    std::string feed, order_entry;
  };
  auto one_run = [&](const fs::path& config) {
    Seen seen;
    venue::testing::FeedReceiver feed;
    const std::uint16_t tcp = free_port(SOCK_STREAM);
    const std::vector<std::string> argv = {exe_.string(), "--config", config.string(), "--feed",
                                     "127.0.0.1:" + std::to_string(feed.port()), "--rerequest", "127.0.0.1:0",
                                     "--ouch", "127.0.0.1:" + std::to_string(tcp), "--user", "ALICE:a", "--rate", "100",
                                     "--duration", "0"};
    Process venue(argv, dir_ / "venue.txt");
    EXPECT_TRUE(venue.await_output("background flow", 30000ms)) << venue.output();
    venue::testing::OuchClient alice("ALICE", "a", net::parse_endpoint("127.0.0.1:" + std::to_string(tcp)));
    const auto step = [&] {
      alice.poll(0);
      feed.poll(2);
    };
    EXPECT_TRUE(venue::testing::run_until(step, [&] { return alice.logged_in() && feed.counters().messages > 0; }))
        << venue.output();
    seen.feed = std::string(feed.session().session().view());
    seen.order_entry = std::string(alice.session().session().chars.data(), 10);
    alice.logout();
    venue::testing::run_until(step, [&] { return !alice.connected(); });
    venue.signal(SIGTERM);
    EXPECT_EQ(venue.finish(10000ms), 0) << venue.output();
    EXPECT_NE(venue.output().find("session " + seen.feed), std::string::npos) << "the log names the session\n" << venue.output();
    return seen;
  };
  const Seen first = one_run(fast_config());
  const Seen second = one_run(fast_config());
  for (const Seen& s : {first, second}) {
    ASSERT_EQ(s.feed.size(), 10u) << s.feed;
    EXPECT_EQ(s.feed.find(' '), std::string::npos) << "all 10 characters are used: \"" << s.feed << '"';
    EXPECT_EQ(s.order_entry, s.feed) << "one session name per start, on both protocols";
  }
  EXPECT_NE(first.feed, second.feed) << "a restarted venue must not reuse the previous run's session";

  const fs::path fixed = write("fixed.toml", "shutdown_linger_ms = 2000\n[feed]\nheartbeat_interval_ms = 50\nsession = \"MYFEED\"\n"
                                             "[order_entry]\nsession = \"MYOUCH\"\n");
  const Seen configured = one_run(fixed);
  EXPECT_EQ(configured.feed, "MYFEED    ");
  EXPECT_EQ(configured.order_entry, "MYOUCH    ");
}

// Issue 10: --executions FILE gets one JSON line per execution reported to a user, written while
// the venue runs (a test that kill -9s a client reconciles from it without stopping the venue).
TEST_F(HftExchange, ExecutionsAreJsonLinesInTheFileWhileTheVenueRuns) {
  const fs::path executions = dir_ / "executions.jsonl";
  venue::testing::FeedReceiver feed;
  const std::uint16_t tcp = free_port(SOCK_STREAM);
  Process venue({exe_.string(), "--config", fast_config().string(), "--feed", "127.0.0.1:" + std::to_string(feed.port()),
                 "--rerequest", "127.0.0.1:0", "--ouch", "127.0.0.1:" + std::to_string(tcp), "--user", "ALICE:a",
                 "--user", "BOB:b", "--symbols", "AAA", "--rate", "0", "--duration", "0", "--executions",
                 executions.string(), "--venue", "PSX", "--fee-add", "-0.002", "--fee-remove", "0.003"},
                dir_ / "venue.txt");
  ASSERT_TRUE(venue.await_output("background flow", 30000ms)) << venue.output();
  const net::Endpoint ouch = net::parse_endpoint("127.0.0.1:" + std::to_string(tcp));
  venue::testing::OuchClient alice("ALICE", "a", ouch), bob("BOB", "b", ouch);
  const auto step = [&] {
    alice.poll(0);
    bob.poll(0);
    feed.poll(1);
  };
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return alice.logged_in() && bob.logged_in(); })) << venue.output();
  alice.send(venue::testing::enter(1, ouch::Side::kSell, 500, "AAA", 1'000'000));
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return alice.all<ouch::OrderAccepted>().size() == 1; }));
  for (ouch::UserRefNum ref = 1; ref <= 3; ++ref)
    bob.send(venue::testing::enter(ref, ouch::Side::kBuy, 100, "AAA", 1'000'000, ouch::TimeInForce::kIoc));
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return bob.all<ouch::OrderExecuted>().size() == 3; }));
  auto lines = [&] {
    const std::string text = read_file(executions);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  // Six lines (three executions, both sides) while the venue still runs: within a loop pass.
  EXPECT_TRUE(venue::testing::run_until(step, [&] { return lines() == 6; }, 1000ms)) << read_file(executions);
  const std::string text = read_file(executions);
  const auto fills = bob.all<ouch::OrderExecuted>();
  for (const auto& f : fills) {
    EXPECT_NE(text.find(fmt::format(R"({{"user":"BOB","user_ref_num":{},"order_token":"T{}","symbol":"AAA","side":"B",)"
                                    R"("price":1000000,"quantity":100,"match_number":{},"timestamp":{},"venue":"PSX","liquidity":"R","fee":0.3}})",
                                    f.user_ref_num, f.user_ref_num, f.match_number, f.timestamp)),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(fmt::format(R"({{"user":"ALICE","user_ref_num":1,"order_token":"T1","symbol":"AAA","side":"S",)"
                                    R"("price":1000000,"quantity":100,"match_number":{},)",
                                    f.match_number)),
              std::string::npos)
        << text;
  }
  // Issue 14: the resting seller added liquidity (a rebate of $0.002 a share), the buyer removed it.
  std::size_t rebates = 0;
  for (std::size_t at = 0; (at = text.find(R"("venue":"PSX","liquidity":"A","fee":-0.2})", at)) != std::string::npos; ++at) ++rebates;
  EXPECT_EQ(rebates, 3u) << text;
  alice.disconnect();
  bob.disconnect();
  venue.signal(SIGTERM);
  EXPECT_EQ(venue.finish(10000ms), 0) << venue.output();
  EXPECT_EQ(read_file(executions), text) << "nothing more, nothing lost at the end";
  EXPECT_NE(venue.output().find("summary: venue PSX (MPID PSXX), fees add -$0.0020 remove $0.0030 per share; "
                                "ALICE 3 executions, 300 shares added, 0 removed, fees -$0.6000; "
                                "BOB 3 executions, 0 shares added, 300 removed, fees $0.9000"),
            std::string::npos)
      << venue.output();
  EXPECT_NE(venue.output().find("executions " + executions.string() + ": 6 lines"), std::string::npos) << venue.output();
}

// tshark (Debian's Wireshark) dissects MoldUDP64 and SoupBinTCP: an independent check of what the
// venue puts on the wire, feed, retransmissions and order entry alike.
// Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while running, STOPPING=1 at
// SIGTERM, on the socket named by NOTIFY_SOCKET, as systemd would receive them.
TEST_F(HftExchange, NotifiesSystemdReadyWatchdogAndStopping) {
  hft::testing::NotifySocket notify(dir_ / "notify.sock");
  ASSERT_TRUE(notify.bound()) << notify.path();
  Child venue({exe_.string(), "--config", fast_config().string(), "--feed", "127.0.0.1:" + std::to_string(free_port(SOCK_DGRAM)),
               "--rerequest", "127.0.0.1:0", "--ouch", "127.0.0.1:0", "--rate", "0", "--duration", "0"},
              dir_ / "venue.txt", dir_ / "venue.txt", {{"NOTIFY_SOCKET", notify.path().string()}, {"WATCHDOG_USEC", "200000"}});
  ASSERT_TRUE(venue.started());
  EXPECT_TRUE(notify.hear("READY=1", 30000ms)) << notify.heard() << venue.out();
  EXPECT_TRUE(notify.hear("WATCHDOG=1", 2000ms)) << "fed at a quarter of WatchdogSec\n" << notify.heard();
  venue.signal(SIGTERM);
  EXPECT_TRUE(notify.hear("STOPPING=1", 5000ms)) << notify.heard();
  EXPECT_EQ(venue.finish(10000ms), 0) << venue.out();
}

TEST_F(HftExchange, TsharkDecodesTheTrafficWithoutAMalformedPacket) {
#ifdef HFT_SANITIZED
  // What it checks is Wireshark's reading of our bytes on the wire, which the release run checks on
  // the same bytes; the venue's memory safety under loss and re-requests is the asan run's other tests'.
  GTEST_SKIP() << "tshark's dissection of the wire format is checked in the release build, not the sanitized one";
#endif
  const auto tshark = find_on_path("tshark");
  if (!tshark) GTEST_SKIP() << "tshark not installed (tools/setup.sh installs it): skipped";
  venue::testing::FeedReceiver feed(/*drop_every=*/7);  // lossy: the capture holds re-requests too
  const std::uint16_t udp = feed.port();
  const std::uint16_t tcp = free_port(SOCK_STREAM);
  const std::uint16_t rerequest = free_port(SOCK_DGRAM);
  const fs::path pcap = dir_ / "venue.pcap";
  // Frames to the feed port (packets and retransmissions) and the order-entry connection.
  Process capture({tshark->string(), "-i", "lo", "-f",
                   "udp dst port " + std::to_string(udp) + " or tcp port " + std::to_string(tcp), "-w", pcap.string()},
                  dir_ / "tshark.txt");
  if (!capture.await_output("Capturing on", 10000ms)) {
    GTEST_SKIP() << "tshark cannot capture on lo here (permissions?): skipped\n" << capture.output();
  }
  Process venue({exe_.string(), "--config", fast_config().string(), "--feed", "127.0.0.1:" + std::to_string(udp),
                 "--rerequest", "127.0.0.1:" + std::to_string(rerequest), "--ouch", "127.0.0.1:" + std::to_string(tcp),
                 "--user", "ALICE:a", "--stocks", "4", "--rate", "5000", "--duration", "0"},
                dir_ / "venue.txt");
  ASSERT_TRUE(venue.await_output("background flow", 30000ms)) << venue.output();
  feed.set_rerequest(net::parse_endpoint("127.0.0.1:" + std::to_string(rerequest)));
  venue::testing::OuchClient alice("ALICE", "a", net::parse_endpoint("127.0.0.1:" + std::to_string(tcp)));
  const auto step = [&] {
    alice.poll(0);
    feed.poll(2);
  };
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return alice.logged_in(); }));
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return feed.book().levels(1, 'S').size() >= 3; }));
  venue::testing::run_until(step, [] { return false; }, 400ms);  // a few hundred packets
  const std::string sym(feed.book().symbols().at(1).view());
  const std::uint64_t ask = feed.book().levels(1, 'S')[0][0];
  alice.send(venue::testing::enter(1, ouch::Side::kBuy, 100, sym, ask + 100, ouch::TimeInForce::kIoc));
  alice.send(venue::testing::enter(2, ouch::Side::kBuy, 300, sym, ask - 1000));
  ouch::CancelOrder cancel;
  cancel.user_ref_num = 2;
  alice.send(cancel);
  alice.send(venue::testing::enter(2, ouch::Side::kBuy, 300, sym, ask - 1000));  // rejected: reused
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return alice.all<ouch::OrderRejected>().size() == 1; }));
  alice.logout();
  venue::testing::run_until(step, [&] { return !alice.connected(); });
  venue.signal(SIGTERM);
  ASSERT_TRUE(venue::testing::run_until(step, [&] { return feed.complete(); }, 5000ms));
  EXPECT_EQ(venue.finish(), 0) << venue.output();
  EXPECT_GT(feed.retransmissions, 0u);
  std::this_thread::sleep_for(200ms);  // the last frames reach the capture file
  capture.signal(SIGINT);
  ASSERT_EQ(capture.finish(5000ms), 0) << capture.output();

  const std::vector<std::string> decode = {tshark->string(), "-r", pcap.string(), "-d",
                                           "udp.port==" + std::to_string(udp) + ",moldudp64", "-d",
                                           "tcp.port==" + std::to_string(tcp) + ",soupbintcp"};
  // tshark's own notice when run as root is not about the capture.
  auto lines = [](const std::string& text) {
    std::string kept;
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      const std::string line = text.substr(start, end - start);
      if (line.find("Running as user") == std::string::npos && !line.empty()) kept += line + '\n';
      start = end + 1;
    }
    return kept;
  };
  auto count = [&](const std::string& filter) {
    std::vector<std::string> a = decode;
    a.insert(a.end(), {"-Y", filter});
    const auto [rc, out] = run_command(a, dir_ / "count.txt");
    EXPECT_EQ(rc, 0) << out;
    const std::string kept = lines(out);
    return std::count(kept.begin(), kept.end(), '\n');
  };
  EXPECT_GT(count("moldudp64"), 100);
  EXPECT_GT(count("soupbintcp"), 5);
  std::vector<std::string> check = decode;
  check.insert(check.end(), {"-Y", "_ws.malformed || _ws.expert.severity >= error"});
  const auto [rc, out] = run_command(check, dir_ / "check.txt");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(lines(out), "") << "tshark reports malformed or erroneous frames:\n" << out;
}

}  // namespace
}  // namespace hft::testing
