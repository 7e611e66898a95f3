// hftctl serve (docs/data.md): the REST API, the WebSocket event stream and the dashboard, against
// a live hftd and hft-exchange on loopback; and the server's limits and security without a daemon.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/tools/hftctl/fake_daemon.hpp"
#include "tests/tools/hftctl/trading_run.hpp"

namespace hft::hftctl_test {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
constexpr const char* kToken = "test-token-0123456789abcdef";

struct Reply {
  int status = 0;
  std::string body;
  json j;
};

Reply request(std::uint16_t port, const std::string& method, const std::string& target, const std::string& extra = "",
              const std::string& body = "") {
  const std::string raw = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{}Content-Length: {}\r\n\r\n{}",
                                      method, target, extra, body.size(), body);
  const std::string resp = http_get(port, raw);
  Reply r;
  if (resp.size() > 12) r.status = std::atoi(resp.c_str() + 9);
  const std::size_t b = resp.find("\r\n\r\n");
  if (b != std::string::npos) r.body = resp.substr(b + 4);
  r.j = json::parse(r.body, nullptr, false);
  return r;
}

fs::path token_file(const fs::path& dir, mode_t mode) {
  const fs::path p = dir / fmt::format("token{:o}", mode);
  std::ofstream(p) << kToken << "\n";
  ::chmod(p.c_str(), mode);
  return p;
}

// `hftctl serve` on a free port; waits until it listens.
struct Serve {
  Serve(const fs::path& dir, std::vector<std::string> args) : port(free_port(SOCK_STREAM)) {
    std::vector<std::string> argv{program("hftctl").string(), "serve", "--listen", fmt::format("127.0.0.1:{}", port)};
    argv.insert(argv.end(), args.begin(), args.end());
    child = std::make_unique<Child>(argv, dir / fmt::format("serve{}.out", port), dir / fmt::format("serve{}.err", port));
    listening = wait_until([&] { return tcp_listening(port); }, std::chrono::seconds(10));
  }
  std::string stop() {
    child->signal(SIGTERM);
    child->finish(std::chrono::seconds(10));
    return child->out() + child->err();
  }
  std::uint16_t port;
  std::unique_ptr<Child> child;
  bool listening = false;
};

class HftctlServe : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(program("hftctl"))) GTEST_SKIP() << "needs hftctl built";
    dir_ = fs::temp_directory_path() / ("hftctl_serve_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "shm");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(HftctlServe, RefusesATokenFileOthersCanRead) {
  const Result r = run({program("hftctl").string(), "serve", "--listen", fmt::format("127.0.0.1:{}", free_port(SOCK_STREAM)),
                        "--dir", (dir_ / "shm").string(), "--instance", "nobody", "--token-file", token_file(dir_, 0644).string()},
                       dir_, {}, std::chrono::seconds(10));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("must be 0600"), std::string::npos) << r.err;
}

TEST_F(HftctlServe, LimitsAndErrorsAreJson) {
  Serve s(dir_, {"--dir", (dir_ / "shm").string(), "--instance", "nobody", "--token-file", token_file(dir_, 0600).string(),
                 "--rate", "1000", "--burst", "1000", "--max-connections", "4"});
  ASSERT_TRUE(s.listening) << s.stop();
  // No daemon: 503 with the reason, as JSON.
  Reply r = request(s.port, "GET", "/api/v1/hft/status");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.j.value("error", "").find("not running"), std::string::npos) << r.body;
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/nope").status, 404);
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/orders").status, 503);  // no journal followed
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/orders?strategy=x").status, 400);
  // Mutations need the token.
  r = request(s.port, "POST", "/api/v1/hft/halt");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.j.value("status", 0), 401) << r.body;
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/halt", "Authorization: Bearer wrong-token-0123456789\r\n").status, 401);
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/halt", fmt::format("Authorization: Bearer {}\r\n", kToken)).status, 503);
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/strategies/mm/stop", fmt::format("Authorization: Bearer {}\r\n", kToken)).status, 503);
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/strategies").status, 503);
  // Bodies and ids are validated before anything reaches hftd.
  const std::string auth = fmt::format("Authorization: Bearer {}\r\n", kToken);
  r = request(s.port, "POST", "/api/v1/hft/orders", auth, R"({"symbol":"AAA","side":"up","quantity":100,"price":10})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.j.value("error", "").find("side"), std::string::npos) << r.body;
  r = request(s.port, "POST", "/api/v1/hft/orders", auth, R"({"symbol":"AAA","side":"buy","quantity":1.5,"price":10})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/orders", auth, "not json").status, 400);
  r = request(s.port, "POST", "/api/v1/hft/algos", auth, R"({"algo":"twap","symbol":"AAA","side":"buy","quantity":100})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.j.value("error", "").find("duration_s"), std::string::npos) << r.body;
  EXPECT_EQ(request(s.port, "DELETE", "/api/v1/hft/orders/12x", auth).status, 400);
  EXPECT_EQ(request(s.port, "DELETE", "/api/v1/hft/orders/12").status, 401);
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/strategies/a%20b/stop", auth).status, 400);
  // Size limits.
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/halt", "", std::string(20000, 'x')).status, 413);
  std::string many;
  for (int i = 0; i < 80; ++i) many += fmt::format("X-H{}: v\r\n", i);
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/status", many).status, 431);
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/status", "X-Big: " + std::string(10000, 'a') + "\r\n").status, 431);
  EXPECT_EQ(request(s.port, "GARBAGE\x01", "/").status, 400);
  // The dashboard is served.
  r = request(s.port, "GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("/ws/hft"), std::string::npos);
  EXPECT_EQ(request(s.port, "GET", "/../CMakeLists.txt").status, 404);
  // Connection limit: idle connections hold their places; the next one is answered 503.
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // accepted (not a timing check: a late accept only delays)
  EXPECT_TRUE(wait_until([&] { return request(s.port, "GET", "/api/v1/hft/status").status == 503; }, std::chrono::seconds(5)));
  r = request(s.port, "GET", "/api/v1/hft/status");
  EXPECT_NE(r.body.find("too many connections"), std::string::npos) << r.body;
  for (const int fd : idle) ::close(fd);
  const std::string out = s.stop();
  EXPECT_NE(out.find("connections refused"), std::string::npos) << out;
}

TEST_F(HftctlServe, PerClientRateLimit) {
  Serve s(dir_, {"--dir", (dir_ / "shm").string(), "--instance", "nobody", "--token-file", token_file(dir_, 0600).string(),
                 "--rate", "1", "--burst", "5"});
  ASSERT_TRUE(s.listening) << s.stop();
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    const Reply r = request(s.port, "GET", "/api/v1/hft/status");
    if (r.status == 429) ++limited;
  }
  EXPECT_GE(limited, 5);  // a burst of 5, then 1 a second: at most 5 + the seconds elapsed pass
  s.stop();
}

// A command waiting for hftd's answer (up to 2 s) holds up no other client: a GET is answered
// while the POST's command is still pending in the control file.
TEST_F(HftctlServe, ACommandWaitingForHftdDoesNotHoldUpOtherClients) {
  FakeDaemon::Options o;
  o.answer = false;  // this test answers the command itself, after the GET
  FakeDaemon d("quiet", (dir_ / "shm").string(), o);
  Serve s(dir_, {"--dir", (dir_ / "shm").string(), "--instance", "quiet", "--token-file", token_file(dir_, 0600).string()});
  ASSERT_TRUE(s.listening) << s.stop();
  Reply post;
  std::thread poster([&] { post = request(s.port, "POST", "/api/v1/hft/halt", fmt::format("Authorization: Bearer {}\r\n", kToken)); });
  control::CommandSlot* pending = nullptr;
  const auto find_pending = [&] {
    for (std::uint32_t i = 0; i < d.file().command_slots(); ++i)
      if (d.file().command_slot(i)->state.load() == static_cast<std::uint32_t>(control::CommandState::kPending))
        pending = d.file().command_slot(i);
    return pending != nullptr;
  };
  if (!wait_until(find_pending, std::chrono::seconds(5))) {
    poster.join();  // (a joinable thread must not outlive the test)
    FAIL() << "the halt never reached the control file: " << post.status << " " << post.body;
  }
  const Reply get = request(s.port, "GET", "/api/v1/hft/status");
  const bool still_pending = pending->state.load() == static_cast<std::uint32_t>(control::CommandState::kPending);
  // Answer it now, as hftd would.
  std::uint32_t expected = static_cast<std::uint32_t>(control::CommandState::kPending);
  if (pending->state.compare_exchange_strong(expected, static_cast<std::uint32_t>(control::CommandState::kTaken))) {
    pending->ok = 1;
    control::put_text(pending->result, "strategies halted");
    pending->state.store(static_cast<std::uint32_t>(control::CommandState::kDone));
  }
  poster.join();
  EXPECT_EQ(get.status, 200) << get.body;
  EXPECT_TRUE(still_pending) << "the GET was answered only after the POST's command had ended";
  EXPECT_EQ(post.status, still_pending ? 200 : 409) << post.body;
  s.stop();
}

// Headless Chromium on the dashboard: the DOM after `budget_ms` of page time (in out), and, when
// `shot` is not empty, a screenshot of the same load (one Chromium start: the new headless mode
// runs --dump-dom and --screenshot together; a second start only if no screenshot came of it).
Result run_chromium(const fs::path& chromium, const std::string& url, const fs::path& dir, const fs::path& shot, int budget_ms = 4000) {
  const fs::path profile = dir / "chromium-profile";
  const std::vector<std::string> common{chromium.string(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                        "--no-first-run", "--user-data-dir=" + profile.string(),
                                        fmt::format("--virtual-time-budget={}", budget_ms), "--window-size=1280,900"};
  auto dom_args = common;
  dom_args.push_back("--dump-dom");
  if (!shot.empty()) dom_args.push_back("--screenshot=" + shot.string());
  dom_args.push_back(url);
  Result dom = run(dom_args, dir, {{"HOME", dir.string()}}, std::chrono::seconds(40));
  if (shot.empty() || fs::exists(shot)) return dom;
  auto shot_args = common;
  shot_args.push_back("--screenshot=" + shot.string());
  shot_args.push_back(url.substr(0, url.find('&')));  // no click this time
  const Result s = run(shot_args, dir, {{"HOME", dir.string()}}, std::chrono::seconds(40));
  dom.err += s.err;
  return dom;
}

websocket::stream<asio::ip::tcp::socket> ws_connect(asio::io_context& io, std::uint16_t port, const std::string& target,
                                                    int rcvbuf = 0) {
  websocket::stream<asio::ip::tcp::socket> ws(io);
  ws.next_layer().open(asio::ip::tcp::v4());
  if (rcvbuf > 0) ws.next_layer().set_option(asio::socket_base::receive_buffer_size(rcvbuf));
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  ws.handshake("127.0.0.1", target);
  return ws;
}

// data/grafana/hft.json: every metric its expressions name is in a live scrape of `hftctl
// metrics`, and promtool parses every expression (as recording rules).
void check_grafana_against_a_live_scrape(const TradingRun& run, const fs::path& dir) {
  // Per-symbol series (positions, P&L) appear with the first fill: scrape until the expressions'
  // metrics are all there (or the deadline passes, and the check below names the missing ones).
  const json dash0 = json::parse(slurp(fs::path(HFT_SOURCE_DIR) / "data" / "grafana" / "hft.json"));
  std::set<std::string> wanted;
  const std::regex metric0("hftd_[A-Za-z0-9_]+");
  for (const auto& panel : dash0.at("panels"))
    for (const auto& target : panel.at("targets")) {
      const std::string expr = target.at("expr").get<std::string>();
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric0); it != std::sregex_iterator(); ++it) wanted.insert(it->str());
    }
  Result scrape;
  std::set<std::string> served;
  wait_until(
      [&] {
        scrape = hft::hftctl_test::run({program("hftctl").string(), "metrics", "--once", "--dir", (run.dir / "shm").string(),
                                        "--instance", run.instance},
                                       dir, {}, std::chrono::seconds(10));
        served.clear();
        std::istringstream lines(scrape.out);
        for (std::string line; std::getline(lines, line);)
          if (!line.empty() && line[0] != '#') served.insert(line.substr(0, line.find_first_of("{ ")));
        for (const auto& w : wanted)
          if (!served.count(w)) return false;
        return scrape.rc == 0;
      },
      std::chrono::seconds(30));
  ASSERT_EQ(scrape.rc, 0) << scrape.err;
  const json dash = json::parse(slurp(fs::path(HFT_SOURCE_DIR) / "data" / "grafana" / "hft.json"));
  std::string rules = "groups:\n- name: grafana\n  rules:\n";
  int n = 0;
  const std::regex metric("hftd_[A-Za-z0-9_]+");
  for (const auto& panel : dash.at("panels")) {
    for (const auto& target : panel.at("targets")) {
      const std::string expr = target.at("expr").get<std::string>();
      int names = 0;
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric); it != std::sregex_iterator(); ++it, ++names)
        EXPECT_TRUE(served.count(it->str())) << panel.value("title", "") << ": " << it->str() << " is not served by hftctl metrics";
      EXPECT_GT(names, 0) << expr;
      std::string quoted;
      for (const char c : expr) quoted += c == '\'' ? std::string("''") : std::string(1, c);
      rules += fmt::format("  - record: grafana:expr:{}\n    expr: '{}'\n", ++n, quoted);
    }
  }
  EXPECT_GT(n, 20);
  const auto promtool = on_path("promtool");
  if (!promtool) {
    std::printf("promtool not installed (Debian prometheus package): expressions not parsed\n");
    return;
  }
  std::ofstream(dir / "grafana_rules.yml") << rules;
  const Result check = hft::hftctl_test::run({promtool->string(), "check", "rules", (dir / "grafana_rules.yml").string()}, dir);
  EXPECT_EQ(check.rc, 0) << check.out << check.err << rules;
}

std::string tail(const std::string& s, std::size_t n = 3000) { return s.size() > n ? "..." + s.substr(s.size() - n) : s; }

// The page's text without its markup (what a reader of the dashboard saw), for failure messages.
std::string dom_text(const std::string& html) {
  std::string out;
  bool in_tag = false;
  for (const char c : html) {
    if (c == '<') in_tag = true;
    else if (c == '>') { in_tag = false; out += ' '; }
    else if (!in_tag) out += c;
  }
  out = std::regex_replace(out, std::regex("\\s+"), " ");
  return tail(out, 4000);
}

// hftd and hft-exchange on loopback, trading (its journal has begun), and `hftctl serve` on it.
struct LiveServe {
  explicit LiveServe(const fs::path& dir, const char* name, std::vector<std::string> extra = {}) : run(name) {
    if (!run.why().empty()) return;
    // Beside the market maker: the manual-order strategy (POST /orders) and an execution
    // strategy (POST /algos).
    std::ofstream(run.dir / "hftd.toml", std::ios::app) << R"(
[[strategies]]
type = "manual"
symbols = ["AAA", "BBB", "CCC", "DDD"]
[[strategies]]
type = "execution"
name = "exec"
symbols = ["AAA", "BBB"]
slice_s = 0.25
)";
    run.start_hftd();
    journal = wait_until([&] { return !run.journal_date().empty(); }, std::chrono::seconds(30));
    if (!journal) return;
    std::vector<std::string> args{"--dir", (run.dir / "shm").string(), "--instance", run.instance, "--token-file",
                                  token_file(dir, 0600).string(), "--journal", (run.dir / "journal").string(), "--date",
                                  run.journal_date()};
    args.insert(args.end(), extra.begin(), extra.end());
    serve = std::make_unique<Serve>(dir, args);
  }
  // hftd's and the venue's log tails and serve's output, for failure messages.
  std::string logs() const { return tail(run.logs()) + "\nhftctl serve:\n" + (serve ? tail(serve->child->err()) : ""); }
  TradingRun run;
  bool journal = false;
  std::unique_ptr<Serve> serve;
};

TEST_F(HftctlServe, LiveDaemonRestAndWebSocket) {
  LiveServe live(dir_, "hftctl_serve_ws", {"--ws-queue-bytes", "65536", "--ws-send-buffer", "4096"});
  if (!live.run.why().empty()) GTEST_SKIP() << live.run.why();
  ASSERT_TRUE(live.journal) << "hftd wrote no journal segment" << live.logs();
  Serve& s = *live.serve;
  ASSERT_TRUE(s.listening) << live.logs();
  const std::string auth = fmt::format("Authorization: Bearer {}\r\n", kToken);

  Reply r = request(s.port, "GET", "/api/v1/hft/status");
  ASSERT_EQ(r.status, 200) << r.body << live.logs();
  EXPECT_EQ(r.j.value("kind", ""), "status");
  EXPECT_EQ(r.j.value("instance", ""), live.run.instance);
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/positions").j.contains("positions"), true);
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/latency").j.value("kind", ""), "hist");
  ASSERT_TRUE(wait_until([&] { return request(s.port, "GET", "/api/v1/hft/orders").j.size() > 0; }, std::chrono::seconds(20)))
      << "no orders from the journal: " << request(s.port, "GET", "/api/v1/hft/orders").body << live.logs();
  EXPECT_EQ(request(s.port, "GET", "/api/v1/hft/orders?strategy=300").status, 400);

  // The WebSocket: refused without the token; with it, events arrive.
  asio::io_context io;
  EXPECT_THROW(ws_connect(io, s.port, "/ws/hft"), beast::system_error);
  // The fast client has a large receive buffer: a test thread starved for seconds on the loaded
  // host must not look slow.
  auto fast = ws_connect(io, s.port, fmt::format("/ws/hft?token={}", kToken), 4 << 20);
  std::mutex mu;
  std::set<std::string> types;
  std::deque<std::string> last_frames;  // the last few, for failure messages
  std::atomic<std::uint64_t> fast_events{0};
  std::string fast_end;
  std::thread reader([&] {
    try {
      for (;;) {
        beast::flat_buffer b;
        fast.read(b);
        const std::string text = beast::buffers_to_string(b.data());
        const json e = json::parse(text, nullptr, false);
        std::lock_guard lock(mu);
        types.insert(e.value("type", ""));
        if (e.contains("events"))
          for (const auto& ev : e["events"]) types.insert(ev.value("type", ""));
        last_frames.push_back(text.substr(0, 400));
        if (last_frames.size() > 5) last_frames.pop_front();
        ++fast_events;
      }
    } catch (const beast::system_error& e) {
      std::lock_guard lock(mu);
      fast_end = e.code().message();
    }
  });
  const auto seen_ws = [&] {
    std::lock_guard lock(mu);
    std::string out = fmt::format("\n{} frames; types seen:", fast_events.load());
    for (const auto& t : types) out += " " + t;
    out += "; reader ended: " + (fast_end.empty() ? std::string("no") : fast_end) + "\nlast frames:\n";
    for (const auto& f : last_frames) out += f + "\n";
    return out;
  };
  // However the test ends (an ASSERT returns early), the server is stopped, which ends the read.
  struct Join {
    Serve& s;
    std::thread& t;
    ~Join() {
      if (t.joinable()) {
        s.stop();
        t.join();
      }
    }
  } join{s, reader};
  auto slow = ws_connect(io, s.port, fmt::format("/ws/hft?token={}", kToken), 4096);  // never reads until the end
  EXPECT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return types.count("order") && types.count("status") && types.count("latency");
      },
      std::chrono::seconds(20)))
      << seen_ws() << live.logs();

  // Halt and resume through the API.
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/halt", auth).status, 200);
  EXPECT_TRUE(wait_until([&] { return request(s.port, "GET", "/api/v1/hft/status").j["risk"].value("halted", false); },
                         std::chrono::seconds(10)))
      << request(s.port, "GET", "/api/v1/hft/status").body << live.logs();
  r = request(s.port, "POST", "/api/v1/hft/resume", auth);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(wait_until([&] { return !request(s.port, "GET", "/api/v1/hft/status").j["risk"].value("halted", true); },
                         std::chrono::seconds(10)))
      << request(s.port, "GET", "/api/v1/hft/status").body << live.logs();

  // Strategies (issue 13 through the API): listed, stopped and started again.
  r = request(s.port, "GET", "/api/v1/hft/strategies");
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> names;
  if (r.j.contains("strategies"))
    for (const auto& st : r.j["strategies"]) names.insert(st.value("name", ""));
  EXPECT_EQ(names, (std::set<std::string>{"market_maker", "manual", "exec"})) << r.body;
  const auto state_of = [&](const std::string& name) {
    const Reply rr = request(s.port, "GET", "/api/v1/hft/strategies");
    if (rr.j.is_object() && rr.j.contains("strategies"))
      for (const auto& st : rr.j["strategies"])
        if (st.value("name", "") == name) return st;
    return json::object();
  };
  r = request(s.port, "POST", "/api/v1/hft/strategies/market_maker/stop", auth);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(wait_until([&] { return state_of("market_maker").value("state", "") == "stopped"; }, std::chrono::seconds(10)))
      << state_of("market_maker").dump();
  EXPECT_EQ(request(s.port, "POST", "/api/v1/hft/strategies/nobody/stop", auth).status, 404);
  r = request(s.port, "POST", "/api/v1/hft/strategies/market_maker/start", auth);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(wait_until([&] { return state_of("market_maker").value("state", "") == "running"; }, std::chrono::seconds(10)));

  // A manual order: placed through the manual strategy and risk, seen in its order count,
  // canceled by its id. Priced 3 % under the symbol's last fill, inside the 5 % price band, so it rests.
  double px = 0;
  std::string sym;
  ASSERT_TRUE(wait_until(
      [&] {
        const Reply rf = request(s.port, "GET", "/api/v1/hft/fills");
        if (rf.j.is_array())
          for (const auto& f : rf.j)
            if (f.is_object() && f.contains("price") && f["price"].is_number() && f.contains("symbol")) {
              px = f["price"].get<double>();
              sym = f.value("symbol", "");
            }
        return px > 0 && !sym.empty();
      },
      std::chrono::seconds(20)))
      << "no fill in the journal: " << request(s.port, "GET", "/api/v1/hft/fills").body << live.logs();
  const double limit = std::floor(px * 0.97 / 100) / 100;  // journal prices are in 1/10,000 $; dollars with cents
  r = request(s.port, "POST", "/api/v1/hft/orders", auth,
              fmt::format(R"({{"symbol":"{}","side":"buy","quantity":100,"price":{:.2f}}})", sym, limit));
  ASSERT_EQ(r.status, 201) << r.body << live.logs();
  const std::string order_id = r.j.value("order_id", "");
  ASSERT_FALSE(order_id.empty()) << r.body;
  EXPECT_TRUE(wait_until([&] { return state_of("manual").value("orders", 0) == 1; }, std::chrono::seconds(10)))
      << state_of("manual").dump();
  r = request(s.port, "POST", "/api/v1/hft/orders", auth, R"({"symbol":"ZZZ","side":"buy","quantity":100,"price":10})");
  EXPECT_EQ(r.status, 409) << r.body;  // ZZZ is not the manual strategy's
  EXPECT_NE(r.j.value("error", "").find("no running manual strategy trades ZZZ"), std::string::npos) << r.body;
  r = request(s.port, "DELETE", "/api/v1/hft/orders/" + order_id, auth);
  EXPECT_EQ(r.status, 200) << r.body << live.logs();
  EXPECT_TRUE(wait_until([&] { return state_of("manual").value("cancels", 0) == 1; }, std::chrono::seconds(10)))
      << state_of("manual").dump() << live.logs();
  EXPECT_EQ(request(s.port, "DELETE", "/api/v1/hft/orders/" + order_id, auth).status, 404);

  // A TWAP through POST /algos, worked to the end by the execution strategy.
  r = request(s.port, "POST", "/api/v1/hft/algos", auth,
              R"({"algo":"twap","symbol":"AAA","side":"buy","quantity":200,"duration_s":2})");
  ASSERT_EQ(r.status, 201) << r.body << live.logs();
  const int algo_id = r.j.value("id", 0);
  EXPECT_GT(algo_id, 0) << r.body;
  json algo = json::object();
  EXPECT_TRUE(wait_until(
      [&] {
        const Reply ra = request(s.port, "GET", "/api/v1/hft/algos");
        if (ra.j.is_object() && ra.j.contains("algos"))
          for (const auto& a : ra.j["algos"])
            if (a.value("id", 0) == algo_id) algo = a;
        return algo.value("state", "") == "done" || algo.value("state", "") == "expired";
      },
      std::chrono::seconds(20)))
      << algo.dump() << live.logs();
  EXPECT_EQ(algo.value("state", ""), "done") << algo.dump();
  EXPECT_EQ(algo.value("filled", 0), 200) << algo.dump();
  EXPECT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return types.count("strategies") != 0;
      },
      std::chrono::seconds(10)))
      << seen_ws();

  // The slow client is dropped (its queue passes 64 KiB after its small window fills); the fast
  // one still gets events.
  EXPECT_TRUE(wait_until([&] { return s.child->err().find("dropped a slow WebSocket client") != std::string::npos; },
                         std::chrono::seconds(30)))
      << seen_ws() << live.logs();
  const std::uint64_t seen = fast_events.load();
  EXPECT_TRUE(wait_until([&] { return fast_events.load() > seen + 2; }, std::chrono::seconds(15))) << seen_ws() << live.logs();
  bool slow_closed = false;
  std::string slow_end = "still open after 100000 frames";
  timeval tv{3, 0};  // a client still served would block here: 3 s, then the read fails with EAGAIN
  ::setsockopt(slow.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  try {
    for (int i = 0; i < 100000; ++i) {
      beast::flat_buffer b;
      slow.read(b);
    }
  } catch (const beast::system_error& e) {
    slow_closed = e.code() != asio::error::would_block && e.code() != asio::error::try_again;
    slow_end = fmt::format("{} (close code {})", e.code().message(), static_cast<int>(slow.reason().code));
  }
  EXPECT_TRUE(slow_closed) << "slow client: " << slow_end;
  const std::string out = s.stop();
  reader.join();  // the server's close ends the fast client's read
  EXPECT_EQ(out.find(" 0 slow clients dropped"), std::string::npos) << tail(out);
}

// The dashboard in headless Chromium: waits for a fill, clicks stop on the market maker and sees
// it stopped, clicks Halt, and hftd is halted.
TEST_F(HftctlServe, LiveDaemonDashboardHaltsInChromium) {
  const auto chromium = on_path("chromium");
  if (!chromium) GTEST_SKIP() << "chromium is not installed (tools/setup.sh installs it)";
  LiveServe live(dir_, "hftctl_serve_dash");
  if (!live.run.why().empty()) GTEST_SKIP() << live.run.why();
  ASSERT_TRUE(live.journal) << "hftd wrote no journal segment" << live.logs();
  Serve& s = *live.serve;
  ASSERT_TRUE(s.listening) << live.logs();
  ASSERT_TRUE(wait_until([&] { return live.run.fills().executions >= 2; }, std::chrono::seconds(30)))
      << "fewer than 2 fills at the venue" << live.logs();
  // Clicks stop on the market maker (once the strategies table shows it), then Halt.
  const std::string url = fmt::format("http://127.0.0.1:{}/#token={}&click=stop-market_maker,halt-button&after=1", s.port, kToken);
  // A screenshot only when asked for (HFT_DASHBOARD_SCREENSHOT=FILE), of the same page load.
  const char* keep = std::getenv("HFT_DASHBOARD_SCREENSHOT");
  const fs::path shot = keep ? dir_ / "dashboard.png" : fs::path();
  const Result c = run_chromium(*chromium, url, dir_, shot);
  const std::string page = "\npage text: " + dom_text(c.out) + "\nchromium stderr: " + tail(c.err, 1500);
  EXPECT_TRUE(wait_until([&] { return request(s.port, "GET", "/api/v1/hft/status").j["risk"].value("halted", false); },
                         std::chrono::seconds(10)))
      << "the dashboard's Halt click did not halt hftd" << page << live.logs();
  EXPECT_NE(c.out.find("halt:200"), std::string::npos) << "the page did not record the halt answer" << page;
  EXPECT_NE(c.out.find("stop-market_maker:200"), std::string::npos) << "the page did not record the stop answer" << page;
  EXPECT_NE(c.out.find(R"(id="strategy-market_maker" data-state="stopped")"), std::string::npos)
      << "the strategies table does not show the market maker stopped" << page;
  EXPECT_TRUE(wait_until(
      [&] {
        bool stopped = false;
        const Reply st = request(s.port, "GET", "/api/v1/hft/strategies");
        if (st.j.is_object() && st.j.contains("strategies"))
          for (const auto& x : st.j["strategies"]) stopped |= x.value("name", "") == "market_maker" && x.value("state", "") == "stopped";
        return stopped;
      },
      std::chrono::seconds(10)))
      << request(s.port, "GET", "/api/v1/hft/strategies").body;
  EXPECT_NE(c.out.find("<td>"), std::string::npos) << "no table rows on the page" << page;
  if (keep) {
    EXPECT_TRUE(fs::exists(shot)) << c.err;
    if (fs::exists(shot)) fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
  }
  s.stop();
}

// data/grafana/hft.json against a live hftd's scrape, and promtool.
TEST_F(HftctlServe, LiveDaemonGrafanaExpressions) {
  TradingRun run("hftctl_serve_graf");
  if (!run.why().empty()) GTEST_SKIP() << run.why();
  run.start_hftd();
  ASSERT_TRUE(wait_until([&] { return !run.journal_date().empty(); }, std::chrono::seconds(30))) << tail(run.logs());
  check_grafana_against_a_live_scrape(run, dir_);
  if (HasFailure()) std::printf("%s\n", tail(run.logs()).c_str());
}

}  // namespace
}  // namespace hft::hftctl_test
