// The epoll TCP runtime with SoupBinTCP engines over real sockets on 127.0.0.1: one server,
// several clients, all driven from this thread (no sleeps: every wait is a bounded poll).
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/log.hpp"
#include "gateways/soupbintcp/server.hpp"
#include "net/tcp_client.hpp"
#include "net/tcp_server.hpp"

namespace hft::net {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The venue side: acknowledges each order as a sequenced message on the sender's stream.
struct Venue {
  soup::ServerContext* ctx = nullptr;
  std::vector<soup::SessionEvent> events;
  std::map<std::uint32_t, int> orders;
  void on_event(const soup::SessionEvent& e) { events.push_back(e); }
  void on_unsequenced(std::uint32_t user, std::span<const std::uint8_t> m, std::uint64_t) {
    ++orders[user];
    ctx->append(user, bytes("ACK " + std::string(reinterpret_cast<const char*>(m.data()), m.size())));
  }
  int count(soup::EventKind k, soup::CloseReason r = soup::CloseReason::kNone) const {
    int n = 0;
    for (const auto& e : events) n += e.kind == k && (r == soup::CloseReason::kNone || e.close_reason == r) ? 1 : 0;
    return n;
  }
};

struct Trader {
  std::vector<std::pair<std::uint64_t, std::string>> received;
  std::vector<soup::SessionEvent> events;
  void on_event(const soup::SessionEvent& e) { events.push_back(e); }
  void on_sequenced(std::uint64_t seq, std::span<const std::uint8_t> m, std::uint64_t) {
    received.emplace_back(seq, std::string(reinterpret_cast<const char*>(m.data()), m.size()));
  }
};

using ServerSessionT = soup::ServerSession<soup::Logged<Venue>>;
using ClientSessionT = soup::ClientSession<soup::Logged<Trader>>;

struct Participant {
  soup::Logged<Trader> trader;
  std::unique_ptr<ClientSessionT> session;
  std::unique_ptr<TcpClient<ClientSessionT>> link;
};

class SoupLoopback : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_sinks_ = core::logger().sinks();
    core::logger().sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)};
    soup::ServerConfig c;
    c.session = "LOOPBACK01";
    c.users = {{"ALICE", "a"}, {"BOB", "b"}, {"CAROL", "c"}, {"DAVE", "d"}};
    c.store_messages = 4096;
    c.store_bytes = 1 << 20;
    c.output_buffer_bytes = 64 * 1024;
    ctx_ = std::make_unique<soup::ServerContext>(c);
    venue_.ctx = ctx_.get();
    TcpServerOptions o;
    o.max_connections = 6;
    server_ = std::make_unique<TcpServer<ServerSessionT>>(parse_endpoint("127.0.0.1:0"), o, [&](std::size_t) {
      return std::make_unique<ServerSessionT>(*ctx_, venue_);
    });
  }
  void TearDown() override {
    for (auto& p : people_) p->link.reset();
    server_.reset();
    core::logger().sinks() = saved_sinks_;
    if (HasFailure() || std::getenv("HFT_TEST_SHOW_LOG") != nullptr) std::cerr << log_.str();
  }

  Participant& join(const std::string& user, const std::string& password) {
    auto p = std::make_unique<Participant>();
    soup::ClientConfig c;
    c.username = user;
    c.password = password;
    p->session = std::make_unique<ClientSessionT>(c, p->trader);
    TcpClientOptions o;
    o.reconnect_delay_ns = 10'000'000;
    p->link = std::make_unique<TcpClient<ClientSessionT>>(server_->local(), *p->session, o);
    people_.push_back(std::move(p));
    return *people_.back();
  }

  // Runs the server and every client until `done` or 3 s pass.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      server_->poll(1);
      for (auto& p : people_) p->link->poll(0);
      if (done()) return true;
    }
    return false;
  }

  std::ostringstream log_;
  std::vector<spdlog::sink_ptr> saved_sinks_;
  std::unique_ptr<soup::ServerContext> ctx_;
  soup::Logged<Venue> venue_;
  std::unique_ptr<TcpServer<ServerSessionT>> server_;
  std::vector<std::unique_ptr<Participant>> people_;
};

TEST_F(SoupLoopback, SeveralClientsTradeOnTheirOwnStreamsAndOneResumesAfterAReconnect) {
  Participant& alice = join("ALICE", "a");
  Participant& bob = join("BOB", "b");
  Participant& carol = join("CAROL", "c");
  for (auto* p : {&alice, &bob, &carol}) ASSERT_TRUE(p->link->connect());
  ASSERT_TRUE(run_until([&] { return alice.session->logged_in() && bob.session->logged_in() && carol.session->logged_in(); }));
  EXPECT_EQ(server_->active_connections(), 3u);

  constexpr int kOrders = 200;
  for (int i = 0; i < kOrders; ++i) {
    for (auto* p : {&alice, &bob, &carol}) {
      ASSERT_TRUE(p->session->send_unsequenced(bytes("o" + std::to_string(i)), core::monotonic_ns()));
    }
    if (i % 50 == 49) run_until([] { return true; });  // let the output buffers drain now and then
  }
  ASSERT_TRUE(run_until([&] {
    return alice.trader.received.size() == kOrders && bob.trader.received.size() == kOrders &&
           carol.trader.received.size() == kOrders;
  }));
  for (auto* p : {&alice, &bob, &carol}) {
    for (int i = 0; i < kOrders; ++i) {
      EXPECT_EQ(p->trader.received[static_cast<std::size_t>(i)].first, static_cast<std::uint64_t>(i + 1));
      EXPECT_EQ(p->trader.received[static_cast<std::size_t>(i)].second, "ACK o" + std::to_string(i));
    }
  }

  // BOB's connection drops; the venue keeps producing for him; he comes back for exactly the rest.
  bob.link->disconnect();
  ASSERT_TRUE(run_until([&] { return venue_.count(soup::EventKind::kClosed, soup::CloseReason::kPeerClosed) == 1; }));
  const std::uint32_t bob_id = ctx_->find_user("BOB");
  for (int i = 0; i < 7; ++i) ctx_->append(bob_id, bytes("while away " + std::to_string(i)));
  ASSERT_TRUE(bob.link->connect());
  ASSERT_TRUE(run_until([&] { return bob.trader.received.size() == kOrders + 7; }));
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(bob.trader.received[kOrders + static_cast<std::size_t>(i)].first, static_cast<std::uint64_t>(kOrders + 1 + i));
    EXPECT_EQ(bob.trader.received[kOrders + static_cast<std::size_t>(i)].second, "while away " + std::to_string(i));
  }
  EXPECT_EQ(bob.session->counters().duplicates_dropped, 0u);
  EXPECT_EQ(bob.link->connections(), 2u);

  // Now the venue drops BOB: the client runner reconnects by itself (after its 10 ms delay) and
  // resumes where it was.
  server_->for_each_session([&](ServerSessionT& s, bool active) {
    if (active && s.user() == bob_id) s.close(core::monotonic_ns());
  });
  ctx_->append(bob_id, bytes("after the kick"));
  ASSERT_TRUE(run_until([&] { return bob.trader.received.size() == kOrders + 8; }));
  EXPECT_EQ(bob.trader.received.back(), (std::pair<std::uint64_t, std::string>{kOrders + 8, "after the kick"}));
  EXPECT_EQ(bob.link->connections(), 3u);
  EXPECT_EQ(bob.session->counters().duplicates_dropped, 0u);

  // End of session: every client gets 'Z' and stops.
  ctx_->end_session();
  ASSERT_TRUE(run_until([&] { return alice.session->ended() && bob.session->ended() && carol.session->ended(); }));
  ASSERT_TRUE(run_until([&] { return server_->active_connections() == 0; }));
  for (auto* p : {&alice, &bob, &carol}) {
    EXPECT_FALSE(p->link->connected());
    EXPECT_FALSE(p->session->may_reconnect());
  }
  EXPECT_EQ(venue_.count(soup::EventKind::kClosed, soup::CloseReason::kEndOfSession), 3);

  const std::string log = log_.str();
  EXPECT_NE(log.find("user \"BOB\": login accepted, session \"LOOPBACK01\", next sequence 201 (requested 201)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("closed: peer closed the connection"), std::string::npos) << log;
  EXPECT_NE(log.find("closed: end of session"), std::string::npos) << log;
  EXPECT_NE(log.find("user \"BOB\": closed: closed locally at sequence 208"), std::string::npos) << log;
}

TEST_F(SoupLoopback, BadPasswordGarbageAndCapacityAreHandledPerConnection) {
  Participant& alice = join("ALICE", "a");
  Participant& intruder = join("DAVE", "wrong");
  ASSERT_TRUE(alice.link->connect());
  ASSERT_TRUE(intruder.link->connect());
  ASSERT_TRUE(run_until([&] { return alice.session->logged_in() && intruder.session->rejected(); }));
  EXPECT_EQ(intruder.session->reject_code(), soup::RejectCode::kNotAuthorized);
  EXPECT_FALSE(intruder.session->may_reconnect());
  ASSERT_TRUE(run_until([&] { return !intruder.link->connected(); }));

  // A raw socket that speaks garbage is dropped with the reason; ALICE is untouched.
  Fd raw = tcp_connect(server_->local());
  const char junk[] = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::send(raw.get(), junk, sizeof junk - 1, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof junk - 1));
  ASSERT_TRUE(run_until([&] { return venue_.count(soup::EventKind::kClosed, soup::CloseReason::kMalformedPacket) == 1; }));
  char buf[16];
  ASSERT_TRUE(run_until([&] { return ::recv(raw.get(), buf, sizeof buf, MSG_DONTWAIT) == 0; }));  // closed by the server

  // Fill the remaining slots, then one more: the oldest connection without a login makes room
  // for it (issue 18: idle connections must not lock real clients out); ALICE, logged in, stays.
  std::vector<Fd> idle;
  while (server_->active_connections() < 6) {
    idle.push_back(tcp_connect(server_->local()));
    run_until([&] { return true; });
  }
  Fd extra = tcp_connect(server_->local());
  ASSERT_TRUE(run_until([&] { return server_->evicted() == 1; }));
  ASSERT_TRUE(run_until([&] { return ::recv(idle[0].get(), buf, sizeof buf, MSG_DONTWAIT) == 0; }));
  EXPECT_EQ(server_->refused(), 0u);
  EXPECT_EQ(server_->active_connections(), 6u);

  ASSERT_TRUE(alice.session->send_unsequenced(bytes("still here"), core::monotonic_ns()));
  ASSERT_TRUE(run_until([&] { return alice.trader.received.size() == 1; }));
  EXPECT_EQ(alice.trader.received[0].second, "ACK still here");

  const std::string log = log_.str();
  EXPECT_NE(log.find("user \"DAVE\": login rejected 'A' (bad password)"), std::string::npos) << log;
  EXPECT_NE(log.find("closed: malformed packet"), std::string::npos) << log;
  EXPECT_NE(log.find("closed before its login to make room"), std::string::npos) << log;
}

}  // namespace
}  // namespace hft::net
