#include "gateways/moldudp64/rerequest_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <thread>

#include "mold_pub_test_util.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::mold {
namespace {

using test::Bytes;
using test::decode;
using test::message_bytes;

const SessionId kRetransSession = SessionId::from("RETRANS001");

// 100 messages of 50 bytes (52-byte blocks): 27 fit a 1,472-byte packet (20 + 27 x 52 = 1,424).
constexpr std::size_t kLen = 50;
constexpr std::uint64_t kPublished = 100;
constexpr std::size_t kFitInMtu = 27;

RetransmitStoreConfig store_config(std::size_t messages = 4096) {
  RetransmitStoreConfig c;
  c.max_messages = messages;
  c.max_bytes = 1 << 20;
  return c;
}

void fill(RetransmitStore& store, std::uint64_t from, std::uint64_t to, std::size_t len = kLen) {
  for (std::uint64_t seq = from; seq <= to; ++seq) {
    const Bytes b = message_bytes(seq, len);
    ASSERT_TRUE(store.append(seq, b.data(), b.size()));
  }
}

RerequestConfig server_config() {
  RerequestConfig c;
  c.session = kRetransSession;
  return c;
}

Bytes request_bytes(const SessionId& session, std::uint64_t seq, std::uint16_t count) {
  Bytes b(kRequestSize);
  RequestPacket{session, seq, count}.write(b.data());
  return b;
}

// The reply answers [seq, seq + n) with the stored bytes.
void expect_messages(const test::Decoded& d, std::uint64_t seq, std::size_t n, std::size_t len = kLen) {
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.header.session, kRetransSession);
  EXPECT_EQ(d.header.sequence, seq);
  ASSERT_EQ(d.messages.size(), n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(d.messages[i], message_bytes(seq + i, len)) << "message " << seq + i;
}

class MoldRequestHandler : public ::testing::Test {
 protected:
  MoldRequestHandler() : store_(store_config()), handler_(server_config(), store_) { fill(store_, 1, kPublished); }

  RequestHandler::Reply ask(std::uint64_t seq, std::uint16_t count, const SessionId& session = kRetransSession) {
    const Bytes req = request_bytes(session, seq, count);
    return handler_.handle(req.data(), req.size(), out_.data());
  }
  test::Decoded reply(const RequestHandler::Reply& r) { return decode({out_.data(), r.length}); }

  RetransmitStore store_;
  RequestHandler handler_;
  std::array<std::uint8_t, kMaxPayload> out_{};
};

TEST_F(MoldRequestHandler, AnswersExactlyTheRequestedMessages) {
  auto r = ask(10, 5);
  EXPECT_EQ(r.outcome, RequestOutcome::kAnswered);
  EXPECT_EQ(r.length, 20u + 5 * 52);
  expect_messages(reply(r), 10, 5);
  r = ask(1, 1);
  expect_messages(reply(r), 1, 1);
  r = ask(100, 1);
  expect_messages(reply(r), 100, 1);
  EXPECT_EQ(handler_.stats().answered, 3u);
  EXPECT_EQ(handler_.stats().messages_resent, 7u);
  EXPECT_EQ(handler_.stats().partial, 0u);
}

TEST_F(MoldRequestHandler, PartialAnswerWhenTheRangeDoesNotFitOnePacket) {
  // The receiver asks again from where each answer stopped until it has all 100.
  std::uint64_t next = 1;
  int rounds = 0;
  while (next <= kPublished) {
    const auto r = ask(next, static_cast<std::uint16_t>(kPublished - next + 1));
    ASSERT_EQ(r.outcome, RequestOutcome::kAnswered);
    ASSERT_LE(r.length, kMaxPayload);
    const auto d = reply(r);
    const std::size_t expected = std::min<std::uint64_t>(kFitInMtu, kPublished - next + 1);
    expect_messages(d, next, expected);
    next += d.messages.size();
    ++rounds;
  }
  EXPECT_EQ(rounds, 4);  // 27 + 27 + 27 + 19
  EXPECT_EQ(handler_.stats().partial, 3u);
  EXPECT_EQ(handler_.stats().messages_resent, kPublished);
}

TEST_F(MoldRequestHandler, StopsAtTheLastPublishedMessage) {
  const auto r = ask(95, 20);
  ASSERT_EQ(r.outcome, RequestOutcome::kAnswered);
  expect_messages(reply(r), 95, 6);
  EXPECT_EQ(handler_.stats().partial, 1u);
}

TEST(MoldRequestHandlerLimits, CapsMessagesPerRequest) {
  RetransmitStore store(store_config());
  fill(store, 1, kPublished);
  RerequestConfig c = server_config();
  c.max_messages_per_request = 4;
  RequestHandler h(c, store);
  std::array<std::uint8_t, kMaxPayload> out{};
  const Bytes req = request_bytes(kRetransSession, 20, 10);
  const auto r = h.handle(req.data(), req.size(), out.data());
  ASSERT_EQ(r.outcome, RequestOutcome::kAnswered);
  expect_messages(decode({out.data(), r.length}), 20, 4);
  EXPECT_EQ(h.stats().capped, 1u);
  EXPECT_EQ(h.stats().partial, 1u);
}

TEST(MoldRequestHandlerLimits, ReplyBudgetIsConfigurable) {
  RetransmitStore store(store_config());
  fill(store, 1, kPublished);
  RerequestConfig c = server_config();
  c.max_payload = 20 + 3 * 52;  // exactly three messages
  RequestHandler h(c, store);
  std::array<std::uint8_t, kMaxPayload> out{};
  const Bytes req = request_bytes(kRetransSession, 1, 50);
  const auto r = h.handle(req.data(), req.size(), out.data());
  EXPECT_EQ(r.length, c.max_payload);
  expect_messages(decode({out.data(), r.length}), 1, 3);
}

TEST(MoldRequestHandlerLimits, MessageLargerThanTheReplyBudgetIsCountedNotSent) {
  RetransmitStore store(store_config());
  fill(store, 1, 5, 200);
  RerequestConfig c = server_config();
  c.max_payload = 100;  // a misconfiguration: smaller than the feed's packets
  RequestHandler h(c, store);
  std::array<std::uint8_t, kMaxPayload> out{};
  const Bytes req = request_bytes(kRetransSession, 2, 1);
  const auto r = h.handle(req.data(), req.size(), out.data());
  EXPECT_EQ(r.outcome, RequestOutcome::kTooLarge);
  EXPECT_EQ(r.length, 0u);
  EXPECT_EQ(h.stats().too_large, 1u);
}

TEST_F(MoldRequestHandler, BeyondThePublishedRangeGetsTheNextSequence) {
  auto r = ask(101, 5);
  EXPECT_EQ(r.outcome, RequestOutcome::kBeyondRange);
  ASSERT_EQ(r.length, kHeaderSize);
  auto d = reply(r);
  EXPECT_EQ(d.header.kind(), PacketKind::kHeartbeat);
  EXPECT_EQ(d.header.sequence, 101u);
  EXPECT_EQ(d.header.session, kRetransSession);
  r = ask(~std::uint64_t{0}, 1);
  EXPECT_EQ(r.outcome, RequestOutcome::kBeyondRange);

  handler_.set_session_ended(true);
  r = ask(500, 1);
  d = reply(r);
  EXPECT_EQ(d.header.kind(), PacketKind::kEndOfSession);
  EXPECT_EQ(d.header.sequence, 101u);
  EXPECT_EQ(handler_.stats().beyond_range, 3u);
  EXPECT_EQ(handler_.stats().answered, 0u);
  // Within the range, the session's end changes nothing.
  r = ask(100, 1);
  expect_messages(reply(r), 100, 1);
}

TEST_F(MoldRequestHandler, IgnoresOtherSessionsEmptyAndEvictedRequests) {
  EXPECT_EQ(ask(10, 5, SessionId::from("OTHER00001")).outcome, RequestOutcome::kWrongSession);
  EXPECT_EQ(ask(10, 5, SessionId::from("retrans001")).outcome, RequestOutcome::kWrongSession) << "case matters";
  EXPECT_EQ(ask(10, 0).outcome, RequestOutcome::kEmpty);
  EXPECT_EQ(ask(0, 5).outcome, RequestOutcome::kUnavailable) << "sequence numbers start at 1";
  EXPECT_EQ(handler_.stats().wrong_session, 2u);
  EXPECT_EQ(handler_.stats().empty, 1u);
  EXPECT_EQ(handler_.stats().unavailable, 1u);
  EXPECT_EQ(handler_.stats().requests, 2u);

  // Push the first messages out of the store: they are no longer held.
  RetransmitStore small(store_config(50));
  fill(small, 1, kPublished);
  RequestHandler h(server_config(), small);
  const Bytes evicted = request_bytes(kRetransSession, 50, 10);
  EXPECT_EQ(h.handle(evicted.data(), evicted.size(), out_.data()).outcome, RequestOutcome::kUnavailable);
  const Bytes held = request_bytes(kRetransSession, 51, 10);
  const auto r = h.handle(held.data(), held.size(), out_.data());
  expect_messages(decode({out_.data(), r.length}), 51, 10);
  EXPECT_EQ(h.stats().unavailable, 1u);
}

TEST_F(MoldRequestHandler, IgnoresMalformedDatagrams) {
  const Bytes good = request_bytes(kRetransSession, 1, 1);
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{19}, std::size_t{21}, std::size_t{64}}) {
    Bytes b = good;
    b.resize(len, 0);
    const auto r = handler_.handle(b.data(), b.size(), out_.data());
    EXPECT_EQ(r.outcome, RequestOutcome::kMalformed) << len;
    EXPECT_EQ(r.length, 0u);
  }
  EXPECT_EQ(handler_.stats().malformed, 5u);
  EXPECT_EQ(handler_.stats().datagrams, 5u);
  EXPECT_EQ(handler_.stats().requests, 0u);
}

TEST_F(MoldRequestHandler, HandlingAllocatesNothing) {
  ASSERT_TRUE(testing::counting_active());
  const Bytes reqs[] = {request_bytes(kRetransSession, 1, 100), request_bytes(kRetransSession, 50, 3), request_bytes(kRetransSession, 200, 1),
                        request_bytes(SessionId::from("X"), 1, 1), Bytes(7, 1)};
  testing::AllocationScope scope;
  std::size_t bytes = 0;
  for (int i = 0; i < 10'000; ++i) {
    const Bytes& r = reqs[i % 5];
    bytes += handler_.handle(r.data(), r.size(), out_.data()).length;
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_GT(bytes, 0u);
}

TEST(MoldRequestHandlerConfig, RejectsBadConfiguration) {
  RetransmitStore store(store_config());
  RerequestConfig c = server_config();
  c.max_payload = 21;
  EXPECT_THROW(RequestHandler(c, store), std::invalid_argument);
  c = server_config();
  c.max_requests_per_poll = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.max_requests_per_poll = 1025;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = server_config();
  c.max_messages_per_request = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Over real UDP sockets on 127.0.0.1

struct Client {
  net::Fd fd = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));

  void send(const net::Endpoint& to, const Bytes& datagram) const {
    ASSERT_EQ(::sendto(fd.get(), datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to.addr),
                       sizeof to.addr),
              static_cast<ssize_t>(datagram.size()));
  }
  // Polls the server until a reply arrives (at most ~2 s on a loaded host).
  std::optional<Bytes> receive(RerequestServer& server) const {
    std::uint8_t buf[kMaxUdpPayload];
    for (int i = 0; i < 20'000; ++i) {
      server.poll();
      const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n >= 0) return Bytes(buf, buf + n);
      if (i > 100) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return std::nullopt;
  }
};

class MoldRerequestServerUdp : public ::testing::Test {
 protected:
  MoldRerequestServerUdp() : store_(store_config()) { fill(store_, 1, kPublished); }
  RetransmitStore store_;
};

TEST_F(MoldRerequestServerUdp, AnswersEachRequestWithTheRequestedBytes) {
  RerequestServer server(server_config(), store_, net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = server.local_endpoint();
  Client client;
  client.send(where, request_bytes(kRetransSession, 42, 3));
  auto reply = client.receive(server);
  ASSERT_TRUE(reply.has_value());
  expect_messages(decode(*reply), 42, 3);

  // A whole-range request comes back in MTU-sized parts; the client re-requests the rest.
  std::uint64_t next = 1;
  while (next <= kPublished) {
    client.send(where, request_bytes(kRetransSession, next, static_cast<std::uint16_t>(kPublished - next + 1)));
    reply = client.receive(server);
    ASSERT_TRUE(reply.has_value());
    ASSERT_LE(reply->size(), kMaxPayload);
    const auto d = decode(*reply);
    expect_messages(d, next, std::min<std::uint64_t>(kFitInMtu, kPublished - next + 1));
    next += d.messages.size();
  }
  EXPECT_EQ(server.stats().answered, 5u);
  EXPECT_EQ(server.stats().partial, 3u);
  EXPECT_EQ(server.stats().send_errors, 0u);
}

TEST_F(MoldRerequestServerUdp, CountsAndIgnoresBadRequests) {
  RerequestServer server(server_config(), store_, net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = server.local_endpoint();
  Client client;
  // Datagrams on one socket pair arrive in order, so the first reply the client sees is the
  // answer to the last, valid request only if nothing before it was answered.
  client.send(where, Bytes{});                                        // empty datagram
  client.send(where, Bytes(19, 'x'));                                 // short
  client.send(where, Bytes(1400, 'x'));                               // long (truncated on read)
  client.send(where, request_bytes(SessionId::from("OTHERSESS1"), 5, 1));  // wrong session
  client.send(where, request_bytes(kRetransSession, 5, 0));                  // empty request
  client.send(where, request_bytes(kRetransSession, 7, 2));
  const auto reply = client.receive(server);
  ASSERT_TRUE(reply.has_value());
  expect_messages(decode(*reply), 7, 2);
  EXPECT_EQ(server.stats().malformed, 3u);
  EXPECT_EQ(server.stats().wrong_session, 1u);
  EXPECT_EQ(server.stats().empty, 1u);
  EXPECT_EQ(server.stats().answered, 1u);

  // Beyond the range: a heartbeat telling where the feed is.
  client.send(where, request_bytes(kRetransSession, 1000, 5));
  const auto hb = client.receive(server);
  ASSERT_TRUE(hb.has_value());
  const auto d = decode(*hb);
  EXPECT_EQ(d.header.kind(), PacketKind::kHeartbeat);
  EXPECT_EQ(d.header.sequence, kPublished + 1);
  EXPECT_EQ(server.stats().beyond_range, 1u);
}

TEST_F(MoldRerequestServerUdp, RepliesGoBackToEachRequester) {
  RerequestServer server(server_config(), store_, net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = server.local_endpoint();
  Client a;
  Client b;
  a.send(where, request_bytes(kRetransSession, 3, 1));
  b.send(where, request_bytes(kRetransSession, 60, 2));
  const auto ra = a.receive(server);
  const auto rb = b.receive(server);
  ASSERT_TRUE(ra.has_value());
  ASSERT_TRUE(rb.has_value());
  expect_messages(decode(*ra), 3, 1);
  expect_messages(decode(*rb), 60, 2);
}

TEST_F(MoldRerequestServerUdp, ReadsABoundedBatchPerPoll) {
  RerequestConfig c = server_config();
  c.max_requests_per_poll = 4;
  RerequestServer server(c, store_, net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = server.local_endpoint();
  Client client;
  for (std::uint64_t i = 1; i <= 10; ++i) client.send(where, request_bytes(kRetransSession, i, 1));
  // Loopback delivers synchronously: all ten are queued once sendto returns.
  EXPECT_EQ(server.poll(), 4);
  EXPECT_EQ(server.poll(), 4);
  EXPECT_EQ(server.poll(), 2);
  EXPECT_EQ(server.poll(), 0);
  EXPECT_EQ(server.stats().batch_limit_hits, 2u);
  for (std::uint64_t i = 1; i <= 10; ++i) {
    const auto reply = client.receive(server);
    ASSERT_TRUE(reply.has_value());
    expect_messages(decode(*reply), i, 1);
  }
}

TEST_F(MoldRerequestServerUdp, PollAllocatesNothing) {
  ASSERT_TRUE(testing::counting_active());
  RerequestServer server(server_config(), store_, net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = server.local_endpoint();
  Client client;
  const Bytes req = request_bytes(kRetransSession, 10, 20);
  std::uint8_t buf[2048];
  int replies = 0;
  testing::AllocationScope scope;
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(::sendto(client.fd.get(), req.data(), req.size(), 0, reinterpret_cast<const sockaddr*>(&where.addr),
                       sizeof where.addr),
              static_cast<ssize_t>(req.size()));
    server.poll();
    while (::recv(client.fd.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) ++replies;
  }
  EXPECT_EQ(server.poll(), 0);
  EXPECT_EQ(scope.allocations(), 0u);
  while (::recv(client.fd.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) ++replies;
  EXPECT_EQ(server.stats().answered, 200u);
  EXPECT_EQ(replies, 200);
}

}  // namespace
}  // namespace hft::mold
