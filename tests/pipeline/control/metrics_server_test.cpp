// The scrape server over loopback: answers, errors, bounds and deadlines; and the command slot's
// withdrawal when hftd does not answer.
#include "pipeline/control/metrics_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/control/control_file.hpp"

namespace hft::control {
namespace {

// A loopback client socket, connected (blocking, with a receive timeout).
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string exchange(std::uint16_t port, const std::string& request) {
  const int fd = connect_to(port);
  if (fd < 0) return "connect failed";
  [[maybe_unused]] const auto s = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

// The server on its own thread, stopped and joined at the end of the test.
class Served {
 public:
  explicit Served(MetricsServerOptions o = {})
      : server_(net::parse_endpoint("127.0.0.1:0"), [this] { return "m{instance=\"t\"} " + std::to_string(++renders_) + "\n"; }, o),
        thread_([this] { server_.run(stop_); }) {}
  ~Served() { stop(); }
  std::uint16_t port() const { return server_.port(); }
  const MetricsServerStats& stats() const { return server_.stats(); }  // read after stop()
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int renders() const { return renders_.load(); }

 private:
  std::atomic<int> renders_{0};
  std::atomic<bool> stop_{false};
  MetricsServer server_;
  std::thread thread_;
};

TEST(HttpParse, RequestHeads) {
  HttpRequestHead h;
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", h), HttpParse::kComplete);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/metrics");
  EXPECT_EQ(h.version, "HTTP/1.1");
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.0\n\n", h), HttpParse::kComplete) << "bare LF";
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.1\r\nHost: x\r\n", h), HttpParse::kIncomplete);
  EXPECT_EQ(parse_http_head("GET /metr", h), HttpParse::kIncomplete);
  EXPECT_EQ(parse_http_head("", h), HttpParse::kIncomplete);
  EXPECT_EQ(parse_http_head(std::string_view("\x16\x03\x01\x02\x00\x01", 6), h), HttpParse::kBad)
      << "a TLS hello is refused before any newline";
  EXPECT_EQ(parse_http_head("GET /metrics HT", h), HttpParse::kIncomplete) << "a request still arriving";
  EXPECT_EQ(parse_http_head("GET  /metrics HTTP/1.1\r\n\r\n", h), HttpParse::kBad);
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/11\r\n\r\n", h), HttpParse::kBad);
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", h), HttpParse::kBad);
  EXPECT_EQ(parse_http_head("GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n", h), HttpParse::kBad);
  EXPECT_EQ(parse_http_head(std::string_view("GET /m\0x HTTP/1.1\r\n\r\n", 21), h), HttpParse::kBad);
}

TEST(HttpRespond, StatusesAndBodies) {
  int calls = 0;
  auto render = [&] {
    ++calls;
    return std::string("a 1\n");
  };
  const std::string ok = http_respond({"GET", "/metrics", "HTTP/1.1"}, render);
  EXPECT_EQ(ok,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\na 1\n");
  EXPECT_TRUE(http_respond({"GET", "/metrics?name[]=x", "HTTP/1.1"}, render).starts_with("HTTP/1.1 200 OK\r\n"));
  const std::string head = http_respond({"HEAD", "/metrics", "HTTP/1.1"}, render);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(head.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << "no body for HEAD";
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(http_respond({"GET", "/", "HTTP/1.1"}, render).starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(http_respond({"GET", "/metricsx", "HTTP/1.1"}, render).starts_with("HTTP/1.1 404"));
  const std::string post = http_respond({"POST", "/metrics", "HTTP/1.1"}, render);
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(calls, 3) << "render only for /metrics";
  const std::string failed = http_respond({"GET", "/metrics", "HTTP/1.1"}, []() -> std::string {
    throw std::runtime_error("boom");
  });
  EXPECT_TRUE(failed.starts_with("HTTP/1.1 500"));
  EXPECT_NE(failed.find("boom"), std::string::npos);
}

TEST(MetricsServer, ServesManyScrapesAndRefusesTheRest) {
  Served s;
  for (int i = 1; i <= 20; ++i) {
    const std::string r = exchange(s.port(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n");
    ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
    EXPECT_TRUE(r.ends_with("m{instance=\"t\"} " + std::to_string(i) + "\n")) << "rendered at each scrape: " << r;
  }
  EXPECT_TRUE(exchange(s.port(), "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
  EXPECT_TRUE(exchange(s.port(), "DELETE /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
  EXPECT_TRUE(exchange(s.port(), "garbage garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
  std::string huge = "GET /metrics HTTP/1.1\r\n";
  while (huge.size() < 20'000) huge += "X-Filler: " + std::string(100, 'a') + "\r\n";
  EXPECT_TRUE(exchange(s.port(), huge).starts_with("HTTP/1.1 431")) << "bounded request size";
  // A request split across several sends.
  {
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    for (const char* part : {"GE", "T /met", "rics HTTP/1.1\r", "\n\r\n"}) {
      ASSERT_GT(::send(fd, part, std::strlen(part), MSG_NOSIGNAL), 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(read_all(fd).starts_with("HTTP/1.1 200"));
    ::close(fd);
  }
  // Several clients at once: each is answered although the first never finishes its request.
  {
    const int idle = connect_to(s.port());
    ASSERT_GE(idle, 0);
    ASSERT_GT(::send(idle, "GET /metrics HTTP/1.1\r\n", 23, MSG_NOSIGNAL), 0);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(exchange(s.port(), "GET /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200"));
    ::close(idle);
  }
  // A client that disconnects at once, and one that resets.
  {
    const int fd = connect_to(s.port());
    ::close(fd);
    const int rst = connect_to(s.port());
    linger l{1, 0};
    ::setsockopt(rst, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    [[maybe_unused]] const auto n = ::send(rst, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL);
    ::close(rst);
  }
  EXPECT_TRUE(exchange(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200")) << "still serving";
  s.stop();
  EXPECT_GE(s.stats().scrapes, 25u);
  EXPECT_EQ(s.stats().not_found, 1u);
  EXPECT_EQ(s.stats().bad_requests, 3u);
}

TEST(MetricsServer, SilentClientsTimeOutAndExtraConnectionsAreRefused) {
  MetricsServerOptions o;
  o.timeout = std::chrono::milliseconds(200);
  o.max_connections = 2;
  Served s(o);
  const int a = connect_to(s.port());
  const int b = connect_to(s.port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Both slots are taken by silent clients: a third is told so at once.
  EXPECT_TRUE(exchange(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 503"));
  // The silent ones get 408 at their deadline and are closed.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(read_all(a).starts_with("HTTP/1.1 408"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(read_all(b).starts_with("HTTP/1.1 408"));
  ::close(a);
  ::close(b);
  EXPECT_TRUE(exchange(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200")) << "slots free again";
  s.stop();
  EXPECT_EQ(s.stats().timeouts, 2u);
  EXPECT_EQ(s.stats().refused, 1u);
}

TEST(MetricsServer, BindFailureNamesTheEndpoint) {
  Served s;
  try {
    MetricsServer again(net::parse_endpoint("127.0.0.1:" + std::to_string(s.port())), [] { return std::string(); });
    ADD_FAILURE() << "the port is taken";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(s.port())), std::string::npos) << e.what();
  }
}

// ---- commands that hftd does not answer --------------------------------------------------------

class CommandWithdrawal : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hft_withdraw_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static const core::HistogramLayout& layout() {
    static const auto l = core::HistogramLayout::make(1, 1'000'000, 3);
    return l;
  }
  std::filesystem::path dir_;
};

TEST_F(CommandWithdrawal, AnUntakenCommandIsWithdrawnAndNeverApplied) {
  ControlFile cf("w", ControlSizes{}, layout(), dir_.string());
  cf.set_state(DaemonState::kRunning);
  cf.heartbeat();
  ControlReader r("w", dir_.string());
  const CommandResult res = r.command(CommandOp::kHalt, {}, {}, 30);
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.message.find("withdrawn and not applied"), std::string::npos) << res.message;
  for (std::uint32_t i = 0; i < cf.command_slots(); ++i)
    EXPECT_EQ(cf.command_slot(i)->state.load(), static_cast<std::uint32_t>(CommandState::kFree)) << i;
}

TEST_F(CommandWithdrawal, ATakenCommandIsReportedAsUnknownOutcome) {
  ControlFile cf("t", ControlSizes{}, layout(), dir_.string());
  cf.set_state(DaemonState::kRunning);
  cf.heartbeat();
  std::atomic<bool> stop{false};
  std::thread daemon([&] {  // takes the command (as hftd's control thread does) and hangs in it
    while (!stop) {
      for (std::uint32_t i = 0; i < cf.command_slots(); ++i) {
        std::uint32_t pending = static_cast<std::uint32_t>(CommandState::kPending);
        cf.command_slot(i)->state.compare_exchange_strong(pending, static_cast<std::uint32_t>(CommandState::kTaken));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  ControlReader r("t", dir_.string());
  const CommandResult res = r.command(CommandOp::kKill, {}, {}, 50);
  stop = true;
  daemon.join();
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.message.find("took the command but did not answer"), std::string::npos) << res.message;
}

}  // namespace
}  // namespace hft::control
