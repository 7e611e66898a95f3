// The order-entry port under hostile clients (issue 18, findings 4 and 5), against the real
// venue on loopback: idle and slowloris connections, password guessing, log injection and log
// floods. Sources are told apart by binding clients to 127.0.0.x (all of 127/8 is loopback).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "gateways/soupbintcp/packet.hpp"
#include "tests/venue/venue_fixture.hpp"

namespace hft::venue::testing {
namespace {

// A raw non-blocking TCP connection from a chosen loopback address.
class RawConn {
 public:
  RawConn(const net::Endpoint& to, const char* from) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &local.sin_addr);
    ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local);
    ::connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), sizeof to.addr);
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  void send(const std::uint8_t* p, std::size_t n) {
    if (!closed_) (void)::send(fd_, p, n, MSG_NOSIGNAL);
  }
  void send_login(const std::string& user, const std::string& password) {
    soup::LoginRequest r;
    r.username = soup::Username::from(user);
    r.password = soup::Password::from(password);
    r.sequence = 1;
    std::uint8_t buf[64];
    const std::size_t n = soup::encode_login_request(buf, r);
    send(buf, n);
  }
  // Reads what has arrived; notices the peer closing.
  void poll() {
    std::uint8_t buf[4096];
    while (!closed_) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closed_ = true;
      } else {
        return;
      }
    }
  }
  [[nodiscard]] bool closed() const { return closed_; }
  // The type of the first packet received (0 = none yet).
  [[nodiscard]] char first_type() const { return in_.size() >= 3 ? in_[2] : 0; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string in_;
};

std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = text.find(needle, from);
    if (at == std::string::npos) return n;
    ++n;
    from = at + needle.size();
  }
}

class PortHardeningTest : public VenueFixture {
 protected:
  void poll_all(std::vector<std::unique_ptr<RawConn>>& conns) {
    step();
    for (auto& c : conns) c->poll();
  }
};

// Finding 4: idle connections from one source must not lock real clients out.
TEST_F(PortHardeningTest, IdleConnectionsFromOneSourceDoNotBlockARealLogin) {
  make([](VenueConfig& c) { c.max_connections = 16; });
  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 24; ++i) {
    idle.push_back(std::make_unique<RawConn>(venue_->ouch_endpoint(), "127.0.0.9"));
    poll_all(idle);
  }
  settle();
  OuchClient& alice = connect("ALICE", "a");
  EXPECT_TRUE(run([&] { return alice.logged_in(); }, std::chrono::milliseconds(2000)))
      << "a real login was refused while one source held idle connections";
}

// Finding 4: idle connections from several sources fill every slot; the oldest without a login
// makes room for a new connection.
TEST_F(PortHardeningTest, WhenEverySlotIsTakenAConnectionWithoutALoginMakesRoom) {
  make([](VenueConfig& c) {
    c.max_connections = 4;
    c.max_connections_per_source = 2;
  });
  std::vector<std::unique_ptr<RawConn>> idle;
  for (const char* from : {"127.0.0.8", "127.0.0.8", "127.0.0.9", "127.0.0.9"}) {
    idle.push_back(std::make_unique<RawConn>(venue_->ouch_endpoint(), from));
    poll_all(idle);
  }
  settle();
  OuchClient& alice = connect("ALICE", "a");
  EXPECT_TRUE(run([&] { return alice.logged_in(); }, std::chrono::milliseconds(2000)));
  for (int i = 0; i < 20; ++i) poll_all(idle);
  EXPECT_EQ(std::count_if(idle.begin(), idle.end(), [](const auto& c) { return c->closed(); }), 1);
  EXPECT_NE(log_.str().find("closed before its login to make room"), std::string::npos);
  EXPECT_EQ(venue_->summary().connections_evicted, 1u);
}

// Finding 4: a login trickled one byte at a time is closed at the login deadline, although each
// byte arrives well within the dead-peer timeout.
TEST_F(PortHardeningTest, ASlowlorisLoginIsClosedAtTheLoginDeadline) {
  make([](VenueConfig& c) { c.order_entry.login_timeout_ns = 300'000'000; });
  std::vector<std::unique_ptr<RawConn>> conns;
  conns.push_back(std::make_unique<RawConn>(venue_->ouch_endpoint(), "127.0.0.1"));
  soup::LoginRequest r;
  r.username = soup::Username::from("ALICE");
  r.password = soup::Password::from("a");
  std::uint8_t login[64];
  const std::size_t n = soup::encode_login_request(login, r);
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  auto last_byte = start;
  ASSERT_TRUE(run_until(
      [&] {
        poll_all(conns);
        if (sent + 1 < n && std::chrono::steady_clock::now() - last_byte >= std::chrono::milliseconds(50)) {
          conns[0]->send(login + sent++, 1);
          last_byte = std::chrono::steady_clock::now();
        }
      },
      [&] { return conns[0]->closed(); }, std::chrono::milliseconds(3000)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_NE(log_.str().find("no login within the login deadline"), std::string::npos);
}

// Finding 5: a username with a newline and an ESC sequence is logged escaped.
TEST_F(PortHardeningTest, ControlBytesFromAClientAreLoggedEscaped) {
  make();
  std::vector<std::unique_ptr<RawConn>> conns;
  conns.push_back(std::make_unique<RawConn>(venue_->ouch_endpoint(), "127.0.0.1"));
  conns.back()->send_login("\n\x1b[31m", "x");
  ASSERT_TRUE(run_until([&] { poll_all(conns); }, [&] { return conns[0]->closed(); }, std::chrono::milliseconds(5000)));
  settle();
  const std::string log = log_.str();
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "raw ESC in the log";
  EXPECT_EQ(log.find("\"\n"), std::string::npos) << "raw newline from the username in the log";
  EXPECT_NE(log.find("\\x1b[31m"), std::string::npos) << log;
}

// Finding 5: password guessing is throttled, and a correct login from another source still works.
TEST_F(PortHardeningTest, WrongPasswordLoginsAreThrottledPerSource) {
  make([](VenueConfig& c) { c.max_connections = 16; });
  std::vector<std::unique_ptr<RawConn>> conns;
  std::size_t answered = 0;
  const auto start = std::chrono::steady_clock::now();
  // 1.5 s: a first round of answers (after the 1 s delay) is in, a second is not yet due.
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500)) {
    // Up to 4 guesses in flight, a new connection for each.
    while (conns.size() < 4) {
      conns.push_back(std::make_unique<RawConn>(venue_->ouch_endpoint(), "127.0.0.7"));
      conns.back()->send_login("ALICE", "guess");
    }
    poll_all(conns);
    for (auto it = conns.begin(); it != conns.end();) {
      if ((*it)->closed()) {
        answered += (*it)->first_type() == 'J' ? 1 : 0;
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
  }
  EXPECT_LE(answered, 30u) << "wrong-password logins answered in 1.5 s from one source";
  EXPECT_GE(answered, 1u) << "wrong passwords must still be answered";
  conns.clear();
  OuchClient& alice = connect("ALICE", "a");  // 127.0.0.1: another source
  EXPECT_TRUE(run([&] { return alice.logged_in(); }, std::chrono::milliseconds(3000)))
      << "a correct login from another source was locked out";
}

// Finding 5: a flood of refused connections is summarized, not logged line by line.
TEST_F(PortHardeningTest, RefusedConnectionsAreSummarizedInTheLog) {
  make([](VenueConfig& c) { c.max_connections = 2; });
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 200; ++i) {
    conns.push_back(std::make_unique<RawConn>(venue_->ouch_endpoint(), "127.0.0.5"));
    if (conns.size() > 8) conns.erase(conns.begin() + 2);  // the first two stay, the rest churn
    poll_all(conns);
  }
  settle();
  const std::string log = log_.str();
  const std::size_t lines = count_lines(log, "\n");
  EXPECT_LE(count_lines(log, "refused"), 10u) << log.substr(0, 2000);
  EXPECT_LE(lines, 60u) << "log lines for 200 connections from one source";
  const VenueSummary sum = venue_->summary();
  EXPECT_GE(sum.connections_refused + sum.connections_evicted, 190u) << "every connection beyond the slots is counted";
}

}  // namespace
}  // namespace hft::venue::testing
