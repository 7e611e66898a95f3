// SoupBinTCP server and client engines against each other, with injected time.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/server.hpp"
#include "tests/gateways/soupbintcp/session_harness.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::soup {
namespace {

using testing::ClientRecorder;
using testing::kSecond;
using testing::ServerRecorder;
using testing::test_client_config;
using testing::test_server_config;
using Server = ServerSession<ServerRecorder>;
using Client = ClientSession<ClientRecorder>;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string msg(std::uint64_t i) { return "msg-" + std::to_string(i); }

struct SoupSession : ::testing::Test {
  ServerContext ctx{test_server_config()};
  ServerRecorder srec;
  ClientRecorder crec;
  Server server{ctx, srec};
  std::uint64_t now = 1'000 * kSecond;

  void append(std::uint32_t user, std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t i = from; i <= to; ++i) ASSERT_EQ(ctx.append(user, bytes(msg(i))), i);
  }
  static void expect_exactly(const ClientRecorder& rec, std::uint64_t from, std::uint64_t to) {
    ASSERT_EQ(rec.sequenced.size(), to - from + 1);
    for (std::uint64_t i = from; i <= to; ++i) {
      EXPECT_EQ(rec.sequenced[i - from].first, i);
      EXPECT_EQ(rec.sequenced[i - from].second, msg(i));
    }
  }
};

TEST_F(SoupSession, LoginAcceptedThenDataBothWays) {
  Client client(test_client_config(), crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  ASSERT_TRUE(client.logged_in());
  ASSERT_EQ(server.state(), ServerState::kLoggedIn);
  EXPECT_EQ(server.user(), ctx.find_user("ALICE"));
  EXPECT_TRUE(ctx.logged_in(server.user()));
  ASSERT_NE(srec.last(EventKind::kLoginAccepted), nullptr);
  EXPECT_EQ(srec.last(EventKind::kLoginAccepted)->sequence, 1u);
  EXPECT_EQ(client.session().trimmed(), "TESTSESS01");

  append(0, 1, 3);
  ASSERT_TRUE(client.send_unsequenced(bytes("order-1"), now));
  wire.pump(now);
  expect_exactly(crec, 1, 3);
  ASSERT_EQ(srec.unsequenced.size(), 1u);
  EXPECT_EQ(srec.unsequenced[0], (std::pair<std::uint32_t, std::string>{0, "order-1"}));
  EXPECT_EQ(client.next_expected(), 4u);
  // Another user's stream is not ALICE's.
  append(1, 1, 2);
  wire.pump(now);
  EXPECT_EQ(crec.sequenced.size(), 3u);
}

TEST_F(SoupSession, LoginRejectedForBadPasswordUnknownUserAndUnknownSession) {
  struct Case {
    std::string user, password, session;
    LoginFailure failure;
    RejectCode code;
  };
  const std::vector<Case> cases = {
      {"ALICE", "wrong", "", LoginFailure::kBadPassword, RejectCode::kNotAuthorized},
      {"MALLET", "x", "", LoginFailure::kUnknownUser, RejectCode::kNotAuthorized},
      {"ALICE", "alicepw", "OTHERSESS", LoginFailure::kUnknownSession, RejectCode::kSessionNotAvailable},
  };
  std::uint64_t id = 0;
  for (const auto& c : cases) {
    ClientRecorder rec;
    ClientConfig cc = test_client_config(c.user, c.password);
    cc.session = c.session;
    Client client(cc, rec);
    testing::Wire wire{server, client};
    wire.connect(++id, now);
    wire.pump(now);
    EXPECT_FALSE(wire.up) << c.user;
    EXPECT_TRUE(client.rejected());
    EXPECT_EQ(client.reject_code(), c.code);
    EXPECT_EQ(client.close_reason(), CloseReason::kLoginRejected);
    EXPECT_EQ(client.may_reconnect(), c.code == RejectCode::kSessionNotAvailable);
    const SessionEvent* e = srec.last(EventKind::kLoginRejected);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->login_failure, c.failure);
    EXPECT_EQ(e->reject_code, c.code);
    EXPECT_EQ(e->username.trimmed(), c.user);
    EXPECT_NE(describe(*e).find(std::string(to_string(c.failure))), std::string::npos) << describe(*e);
    EXPECT_EQ(server.state(), ServerState::kIdle);
  }
  EXPECT_FALSE(ctx.logged_in(0));
}

TEST_F(SoupSession, SecondLoginOfALoggedInUserIsRefused) {
  Client first(test_client_config(), crec);
  testing::Wire w1{server, first};
  w1.connect(1, now);
  w1.pump(now);
  ASSERT_TRUE(first.logged_in());

  ServerRecorder srec2;
  Server server2(ctx, srec2);
  ClientRecorder rec2;
  Client second(test_client_config(), rec2);
  testing::Wire w2{server2, second};
  w2.connect(2, now);
  w2.pump(now);
  EXPECT_TRUE(second.rejected());
  EXPECT_EQ(second.reject_code(), RejectCode::kSessionNotAvailable);
  EXPECT_EQ(srec2.last_failure(), LoginFailure::kAlreadyLoggedIn);
  // The first connection is untouched by the refusal.
  append(0, 1, 1);
  w1.pump(now);
  expect_exactly(crec, 1, 1);
  EXPECT_TRUE(ctx.logged_in(0));
}

TEST_F(SoupSession, RequestedSequenceBeyondTheStreamOrNoLongerRetainedIsRefused) {
  append(0, 1, 5);
  {
    ClientConfig cc = test_client_config();
    cc.next_sequence = 7;  // the server's next is 6
    ClientRecorder rec;
    Client client(cc, rec);
    testing::Wire wire{server, client};
    wire.connect(1, now);
    wire.pump(now);
    EXPECT_TRUE(client.rejected());
    EXPECT_EQ(srec.last_failure(), LoginFailure::kSequenceAhead);
  }
  ServerConfig small = test_server_config();
  small.store_messages = 4;
  ServerContext ctx2(small);
  for (int i = 1; i <= 10; ++i) ctx2.append(0, bytes(msg(static_cast<std::uint64_t>(i))));
  ServerRecorder rec2;
  Server server2(ctx2, rec2);
  ClientRecorder crec2;
  Client client(test_client_config(), crec2);  // asks for 1; 7..10 are held
  testing::Wire wire{server2, client};
  wire.connect(1, now);
  wire.pump(now);
  EXPECT_TRUE(client.rejected());
  EXPECT_EQ(rec2.last_failure(), LoginFailure::kSequenceNotRetained);
}

TEST_F(SoupSession, SequenceZeroMeansFromNowOn) {
  append(0, 1, 5);
  ClientConfig cc = test_client_config();
  cc.next_sequence = 0;
  Client client(cc, crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  ASSERT_TRUE(client.logged_in());
  EXPECT_EQ(client.next_expected(), 6u);
  append(0, 6, 7);
  wire.pump(now);
  expect_exactly(crec, 6, 7);
}

TEST_F(SoupSession, HeartbeatsKeepAnIdleSessionAlive) {
  Client client(test_client_config(), crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  for (int step = 0; step < 600; ++step) {  // 60 s in 100 ms steps, no data
    now += kSecond / 10;
    wire.pump(now);
  }
  ASSERT_TRUE(wire.up);
  EXPECT_TRUE(client.logged_in());
  // One heartbeat per second of send-idleness each way (1 s interval, 100 ms resolution).
  EXPECT_GE(server.counters().heartbeats_out, 59u);
  EXPECT_LE(server.counters().heartbeats_out, 61u);
  EXPECT_GE(client.counters().heartbeats_out, 59u);
  EXPECT_LE(client.counters().heartbeats_out, 61u);
  EXPECT_EQ(client.counters().heartbeats_in, server.counters().heartbeats_out);
  EXPECT_EQ(server.counters().heartbeats_in, client.counters().heartbeats_out);
}

TEST_F(SoupSession, HeartbeatsWaitForSendIdleness) {
  Client client(test_client_config(), crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  std::uint64_t seq = 0;
  for (int step = 0; step < 50; ++step) {  // a message every 500 ms for 25 s
    now += kSecond / 2;
    ++seq;
    append(0, seq, seq);
    ASSERT_TRUE(client.send_unsequenced(bytes("x"), now));
    wire.pump(now);
  }
  EXPECT_EQ(server.counters().heartbeats_out, 0u);
  EXPECT_EQ(client.counters().heartbeats_out, 0u);
  expect_exactly(crec, 1, 50);
}

TEST_F(SoupSession, ServerDropsASilentClientAfterTheTimeout) {
  Client client(test_client_config(), crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  wire.client_to_server = false;  // the client's heartbeats are lost from here on
  const std::uint64_t start = now;
  while (wire.up && now - start < 20 * kSecond) {
    now += kSecond / 10;
    wire.pump(now);
  }
  EXPECT_FALSE(wire.up);
  EXPECT_EQ(server.close_reason(), CloseReason::kTimeout);
  EXPECT_GE(now - start, 15 * kSecond);
  EXPECT_LE(now - start, 15 * kSecond + kSecond / 10);
  const SessionEvent* e = srec.last(EventKind::kClosed);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->close_reason, CloseReason::kTimeout);
  EXPECT_EQ(e->timeout_ms, 15000u);
  EXPECT_FALSE(ctx.logged_in(0));  // released: the user may log in again
}

TEST_F(SoupSession, ClientDropsASilentServerAfterItsTimeout) {
  ClientConfig cc = test_client_config();
  cc.timeout_ns = 5 * kSecond;
  Client client(cc, crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  wire.server_to_client = false;
  const std::uint64_t start = now;
  while (wire.up && now - start < 20 * kSecond) {
    now += kSecond / 10;
    wire.pump(now);
  }
  EXPECT_FALSE(wire.up);
  EXPECT_EQ(client.close_reason(), CloseReason::kTimeout);
  EXPECT_GE(now - start, 5 * kSecond);
  EXPECT_LE(now - start, 5 * kSecond + kSecond / 10);
  EXPECT_TRUE(client.may_reconnect());
}

TEST_F(SoupSession, LoginTimeoutAppliesBeforeLogin) {
  // A connection that never logs in is dropped at the login deadline (5 s by default), before
  // the dead-peer timeout (15 s).
  server.open(9, now);
  now += 5 * kSecond - 1;
  server.poll(now);
  EXPECT_FALSE(server.finished());
  now += 1;
  server.poll(now);
  EXPECT_TRUE(server.finished());
  EXPECT_EQ(server.close_reason(), CloseReason::kLoginDeadline);
}

TEST_F(SoupSession, SlowlorisLoginIsClosedAtTheAbsoluteLoginDeadline) {
  // One byte of a login every 4 s keeps resetting the dead-peer timer (15 s); the login must
  // still complete within a deadline counted from the connection, not from the last byte.
  server.open(9, now);
  const std::uint64_t opened = now;
  LoginRequest r;
  r.username = Username::from("ALICE");
  r.password = Password::from("alicepw");
  std::uint8_t login[64];
  const std::size_t n = encode_login_request(login, r);
  for (std::size_t i = 0; i + 1 < n && !server.finished(); ++i) {
    server.on_bytes(login + i, 1, now);
    server.poll(now);
    now += 4 * kSecond;
    server.poll(now);
  }
  ASSERT_TRUE(server.finished()) << "still open after " << (now - opened) / kSecond << " s";
  EXPECT_EQ(server.close_reason(), CloseReason::kLoginDeadline);
  EXPECT_LE(now - opened, 16 * kSecond);
}

// One login attempt on a fresh connection from `source`; returns the failure (kNone: accepted)
// and leaves the session logged in when accepted.
LoginFailure attempt(ServerContext& ctx, std::uint64_t source, const std::string& password, std::uint64_t& now,
                     ServerRecorder& rec, bool& answered_late) {
  ServerSession<ServerRecorder> server(ctx, rec);
  ClientRecorder crec;
  Client client(test_client_config("ALICE", password), crec);
  server.set_source(source);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  answered_late = !client.logged_in() && !client.rejected();
  for (int i = 0; i < 10 && answered_late && wire.up; ++i) {
    now += kSecond / 4;
    wire.pump(now);
  }
  const LoginFailure f = client.logged_in() ? LoginFailure::kNone : rec.last_failure();
  wire.disconnect(now);
  return f;
}

TEST(SoupLoginThrottle, RefusedCredentialsAreAnsweredLateAndASourceIsLockedOutAlone) {
  ServerConfig c = test_server_config();
  c.login_failure_delay_ns = kSecond;
  c.max_login_failures = 3;
  c.login_lockout_ns = 30 * kSecond;
  ServerContext ctx{c};
  ServerRecorder rec;
  std::uint64_t now = 1000 * kSecond;
  bool late = false;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(attempt(ctx, 7, "wrong", now, rec, late), LoginFailure::kBadPassword);
    EXPECT_TRUE(late) << "a wrong password was answered at once";
  }
  // Locked out: even the right password is refused, unchecked.
  EXPECT_EQ(attempt(ctx, 7, "alicepw", now, rec, late), LoginFailure::kLockedOut);
  EXPECT_EQ(ctx.lockout_refusals(), 1u);
  // Another source is not.
  EXPECT_EQ(attempt(ctx, 8, "alicepw", now, rec, late), LoginFailure::kNone);
  EXPECT_FALSE(late);
  // The lockout ends login_lockout after the last try.
  now += 31 * kSecond;
  EXPECT_EQ(attempt(ctx, 7, "alicepw", now, rec, late), LoginFailure::kNone);
}

TEST(SoupEventLog, ControlBytesFromTheWireAreEscaped) {
  SessionEvent e;
  e.kind = EventKind::kLoginRejected;
  e.role = Role::kServer;
  e.username = Username::from("\n\x1b[31m");
  e.session = SessionName::from("A\rB\x7f");
  const std::string line = describe(e);
  for (const char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte 0x" << std::hex << int(static_cast<unsigned char>(c)) << " in: " << line;
  EXPECT_NE(line.find("user \"\\n\\x1b[31m\""), std::string::npos) << line;
}

TEST_F(SoupSession, SoupBinTcp41RequestedTimeoutReplacesTheServerDefault) {
  ClientConfig cc = test_client_config();
  cc.requested_heartbeat_timeout_ms = 4000;
  Client client(cc, crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  ASSERT_TRUE(client.logged_in());
  EXPECT_EQ(server.timeout_ns(), 4 * kSecond);
  wire.client_to_server = false;
  const std::uint64_t start = now;
  while (wire.up) {
    now += kSecond / 10;
    wire.pump(now);
  }
  EXPECT_EQ(server.close_reason(), CloseReason::kTimeout);
  EXPECT_LE(now - start, 4 * kSecond + kSecond / 10);

  // Clamped to the configured range.
  ClientRecorder rec2;
  cc.requested_heartbeat_timeout_ms = 10;
  Client fast(cc, rec2);
  testing::Wire w2{server, fast};
  w2.connect(2, now);
  w2.pump(now);
  ASSERT_TRUE(fast.logged_in());
  EXPECT_EQ(server.timeout_ns(), ctx.config().min_requested_timeout_ns);
}

// The core promise: across any number of disconnects, cut anywhere in the byte stream, the
// client sees every sequenced message exactly once and in order.
TEST_F(SoupSession, ReconnectResumesWithNoGapAndNoDuplicate) {
  Client client(test_client_config(), crec);
  std::uint64_t next_msg = 1;
  std::uint64_t id = 0;
  for (int round = 0; round < 40; ++round) {
    testing::Wire wire{server, client};
    wire.chunk = 1 + static_cast<std::size_t>(round * 7 % 23);
    wire.connect(++id, now);
    wire.pump(now);
    ASSERT_TRUE(client.logged_in()) << "round " << round;
    // Live messages, then a cut after a few transfers: in-flight bytes are lost mid-packet.
    append(0, next_msg, next_msg + 9);
    next_msg += 10;
    for (int i = 0; i < round % 5 + 1; ++i) {
      server.poll(now);
      const auto out = server.output();
      const std::size_t n = std::min<std::size_t>(out.size(), 5 + static_cast<std::size_t>(round) * 3);
      client.on_bytes(out.data(), n, now);
      server.consume_output(out.size());  // the rest was "written" and is lost with the connection
    }
    wire.disconnect(now);
    // While the client is away the stream grows.
    append(0, next_msg, next_msg + 2);
    next_msg += 3;
    now += kSecond;
  }
  testing::Wire wire{server, client};
  wire.connect(++id, now);
  wire.pump(now);
  expect_exactly(crec, 1, next_msg - 1);
  EXPECT_EQ(client.counters().duplicates_dropped, 0u);
  EXPECT_EQ(client.next_expected(), next_msg);
}

TEST_F(SoupSession, SplitAndCoalescedReadsGiveTheSameStream) {
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{17}, ~std::size_t{0}}) {
    ServerContext c(test_server_config());
    ServerRecorder sr;
    ClientRecorder cr;
    Server s(c, sr);
    Client client(test_client_config(), cr);
    testing::Wire wire{s, client};
    wire.chunk = chunk;
    for (std::uint64_t i = 1; i <= 50; ++i) c.append(0, bytes(msg(i)));  // replayed on login, coalesced
    wire.connect(1, now);
    wire.pump(now);
    ASSERT_TRUE(client.logged_in());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.send_unsequenced(bytes("order-" + std::to_string(i)), now));
    wire.pump(now);
    expect_exactly(cr, 1, 50);
    ASSERT_EQ(sr.unsequenced.size(), 20u) << "chunk " << chunk;
    EXPECT_EQ(sr.unsequenced[19].second, "order-19");
  }
}

TEST_F(SoupSession, GarbageFromOneClientClosesOnlyThatSession) {
  Client client(test_client_config(), crec);
  testing::Wire good{server, client};
  good.connect(1, now);
  good.pump(now);
  ASSERT_TRUE(client.logged_in());

  ServerRecorder rec2;
  Server victim(ctx, rec2);
  victim.open(2, now);
  const std::uint8_t junk[] = {0x00, 0x05, 'Q', 1, 2, 3, 4};
  victim.on_bytes(junk, sizeof junk, now);
  EXPECT_TRUE(victim.finished());
  EXPECT_EQ(victim.close_reason(), CloseReason::kMalformedPacket);
  const SessionEvent* e = rec2.last(EventKind::kClosed);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->packet_error, PacketError::kUnknownType);
  EXPECT_EQ(e->packet_type, 'Q');
  EXPECT_EQ(e->packet_length, 5u);
  EXPECT_NE(describe(*e).find("unknown packet type"), std::string::npos) << describe(*e);

  append(0, 1, 2);
  good.pump(now);
  expect_exactly(crec, 1, 2);
  EXPECT_TRUE(client.logged_in());
}

TEST_F(SoupSession, MalformedLoginAndDataBeforeLoginCloseWithAReason) {
  {
    server.open(1, now);
    std::uint8_t login[64];
    LoginRequest r;
    r.username = Username::from("ALICE");
    r.password = Password::from("alicepw");
    const std::size_t n = encode_login_request(login, r);
    std::memcpy(login + 3 + 26, "       1x           ", 20);
    server.on_bytes(login, n, now);
    EXPECT_EQ(server.close_reason(), CloseReason::kMalformedPacket);
    EXPECT_EQ(srec.last_close().packet_error, PacketError::kNonNumericSequence);
    server.on_transport_closed(now, 0);
  }
  {
    server.open(2, now);
    const std::uint8_t data[] = {0x00, 0x03, 'U', 'h', 'i'};
    server.on_bytes(data, sizeof data, now);
    EXPECT_EQ(server.close_reason(), CloseReason::kProtocolViolation);
    EXPECT_EQ(srec.last_close().violation, Violation::kNotLoggedIn);
    server.on_transport_closed(now, 0);
  }
  {
    server.open(3, now);
    const std::uint8_t wrong_len[] = {0x00, 0x2e, 'L'};  // 46: neither 47 nor 52
    server.on_bytes(wrong_len, sizeof wrong_len, now);
    EXPECT_EQ(srec.last_close().packet_error, PacketError::kBadLoginLength);
    server.on_transport_closed(now, 0);
  }
  EXPECT_TRUE(srec.unsequenced.empty());
  EXPECT_FALSE(ctx.logged_in(0));
}

TEST_F(SoupSession, EndOfSessionAfterTheLastMessage) {
  Client client(test_client_config(), crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  append(0, 1, 4);
  ctx.end_session();
  wire.pump(now);
  EXPECT_FALSE(wire.up);
  expect_exactly(crec, 1, 4);  // everything before 'Z'
  EXPECT_TRUE(client.ended());
  EXPECT_FALSE(client.may_reconnect());
  EXPECT_EQ(client.close_reason(), CloseReason::kEndOfSession);
  EXPECT_EQ(srec.last_close().close_reason, CloseReason::kEndOfSession);
  EXPECT_FALSE(client.open(2, now));  // no reconnect to an ended session

  // A client that missed the tail can still log in, recover it, and get 'Z'.
  ClientRecorder late_rec;
  Client late(test_client_config(), late_rec);
  testing::Wire w2{server, late};
  w2.connect(3, now);
  w2.pump(now);
  expect_exactly(late_rec, 1, 4);
  EXPECT_TRUE(late.ended());
}

TEST_F(SoupSession, LogoutReleasesTheUser) {
  Client client(test_client_config(), crec);
  testing::Wire wire{server, client};
  wire.connect(1, now);
  wire.pump(now);
  client.logout(now);
  wire.pump(now);
  EXPECT_FALSE(wire.up);
  EXPECT_EQ(server.close_reason(), CloseReason::kLogout);
  EXPECT_EQ(srec.last_close().close_reason, CloseReason::kLogout);
  EXPECT_FALSE(ctx.logged_in(0));
  EXPECT_FALSE(client.may_reconnect());

  ClientRecorder rec2;
  Client again(test_client_config(), rec2);
  testing::Wire w2{server, again};
  w2.connect(2, now);
  w2.pump(now);
  EXPECT_TRUE(again.logged_in());
}

TEST_F(SoupSession, ClientSkipsDuplicatesWhenAServerGrantsALowerSequence) {
  ClientConfig cc = test_client_config();
  cc.next_sequence = 5;  // we hold 1..4
  Client client(cc, crec);
  ASSERT_TRUE(client.open(1, now));
  std::uint8_t buf[64];
  std::size_t n = encode_login_accepted(buf, LoginAccepted{SessionName::from("X"), 3});
  client.on_bytes(buf, n, now);
  ASSERT_TRUE(client.logged_in());
  for (int i = 3; i <= 6; ++i) {
    const std::string m = msg(static_cast<std::uint64_t>(i));
    n = write_header(buf, 'S', m.size());
    std::memcpy(buf + n, m.data(), m.size());
    client.on_bytes(buf, n + m.size(), now);
  }
  ASSERT_EQ(crec.sequenced.size(), 2u);
  EXPECT_EQ(crec.sequenced[0], (std::pair<std::uint64_t, std::string>{5, msg(5)}));
  EXPECT_EQ(crec.sequenced[1], (std::pair<std::uint64_t, std::string>{6, msg(6)}));
  EXPECT_EQ(client.counters().duplicates_dropped, 2u);
}

TEST_F(SoupSession, ClientRefusesDataBeforeLoginAndMalformedPackets) {
  {
    Client client(test_client_config(), crec);
    ASSERT_TRUE(client.open(1, now));
    const std::uint8_t s[] = {0x00, 0x02, 'S', 'x'};
    client.on_bytes(s, sizeof s, now);
    EXPECT_EQ(client.close_reason(), CloseReason::kProtocolViolation);
  }
  {
    ClientRecorder rec;
    Client client(test_client_config(), rec);
    ASSERT_TRUE(client.open(1, now));
    std::uint8_t a[40];
    const std::size_t n = encode_login_accepted(a, LoginAccepted{SessionName::from("X"), 1});
    std::memcpy(a + 13, "   --1              ", 20);
    client.on_bytes(a, n, now);
    EXPECT_EQ(client.close_reason(), CloseReason::kMalformedPacket);
    EXPECT_EQ(rec.last_close().packet_error, PacketError::kNonNumericSequence);
  }
  {
    ClientRecorder rec;
    Client client(test_client_config(), rec);
    ASSERT_TRUE(client.open(1, now));
    const std::uint8_t u[] = {0x00, 0x02, 'U', 'x'};  // 4.x server 'U' not enabled
    client.on_bytes(u, sizeof u, now);
    EXPECT_EQ(rec.last_close().packet_error, PacketError::kUnsequencedDisabled);
  }
}

TEST_F(SoupSession, FallingBehindTheRetainedWindowClosesTheSession) {
  ServerConfig small = test_server_config();
  small.store_messages = 8;
  small.output_buffer_bytes = 512;
  ServerContext c(small);
  ServerRecorder sr;
  Server s(c, sr);
  ClientRecorder cr;
  Client client(test_client_config(), cr);
  testing::Wire wire{s, client};
  wire.connect(1, now);
  wire.pump(now);
  ASSERT_TRUE(client.logged_in());
  // The client stops reading (nothing is transferred) while 100 messages are appended.
  for (std::uint64_t i = 1; i <= 100; ++i) {
    c.append(0, bytes(msg(i)));
    s.poll(now);
  }
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.close_reason(), CloseReason::kFellBehind);
}

// Steady state — orders in, responses out, heartbeats — allocates nothing, on either side.
struct CountingServer {
  ServerContext* ctx = nullptr;
  std::uint64_t orders = 0;
  void on_unsequenced(std::uint32_t user, std::span<const std::uint8_t> m, std::uint64_t) noexcept {
    ++orders;
    ctx->append(user, m);  // echo as a sequenced response
  }
};
struct CountingClient {
  std::uint64_t sequenced = 0;
  std::uint64_t last = 0;
  void on_sequenced(std::uint64_t seq, std::span<const std::uint8_t>, std::uint64_t) noexcept {
    ++sequenced;
    last = seq;
  }
};

TEST_F(SoupSession, SteadyStateAllocatesNothing) {
  ASSERT_TRUE(::hft::testing::counting_active());
  CountingServer sh{&ctx};
  CountingClient ch;
  ServerSession<CountingServer> s(ctx, sh);
  ClientSession<CountingClient> client(test_client_config(), ch);
  testing::Wire wire{s, client};
  wire.chunk = 100;  // partial packets on both sides
  wire.connect(1, now);
  wire.pump(now);
  ASSERT_TRUE(client.logged_in());
  const std::string order(53, 'O');
  ::hft::testing::AllocationScope scope;
  for (int i = 0; i < 20000; ++i) {
    now += 1'000'000;
    ASSERT_TRUE(client.send_unsequenced(bytes(order), now));
    wire.pump(now);
  }
  for (int i = 0; i < 30; ++i) {  // idle: heartbeats both ways
    now += kSecond;
    wire.pump(now);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(sh.orders, 20000u);
  EXPECT_EQ(ch.sequenced, 20000u);
  EXPECT_EQ(ch.last, 20000u);
  EXPECT_GT(s.counters().heartbeats_out, 0u);
}

TEST_F(SoupSession, BestEffortServerDataIsVersionGatedAndDebugPassesThrough) {
  Client plain(test_client_config(), crec);
  testing::Wire w1{server, plain};
  w1.connect(1, now);
  w1.pump(now);
  ASSERT_TRUE(plain.logged_in());
  EXPECT_FALSE(server.send_unsequenced(bytes("note"), now));  // not enabled on this server
  ASSERT_TRUE(server.send_debug("hello", now));
  w1.pump(now);
  EXPECT_EQ(crec.debug, std::vector<std::string>{"hello"});
  EXPECT_TRUE(crec.unsequenced.empty());

  ServerConfig sc = test_server_config();
  sc.unsequenced_to_client = true;
  ServerContext c2(sc);
  ServerRecorder sr2;
  Server s2(c2, sr2);
  ClientConfig cc = test_client_config();
  cc.accept_unsequenced = true;
  ClientRecorder cr2;
  Client client(cc, cr2);
  testing::Wire w2{s2, client};
  w2.connect(2, now);
  w2.pump(now);
  ASSERT_TRUE(s2.send_unsequenced(bytes("note"), now));
  c2.append(0, bytes(msg(1)));
  w2.pump(now);
  EXPECT_EQ(cr2.unsequenced, std::vector<std::string>{"note"});
  expect_exactly(cr2, 1, 1);  // best-effort data does not consume a sequence number
  EXPECT_EQ(client.next_expected(), 2u);
}

TEST(SoupServerConfig, ValidationNamesTheField) {
  ServerConfig c = test_server_config();
  c.users.push_back({"TOOLONGNAME", "x"});
  try {
    ServerContext ctx(c);
    FAIL() << "expected a config error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("TOOLONGNAME"), std::string::npos) << e.what();
  }
  c = test_server_config();
  c.users.push_back({"ALICE", "dup"});
  EXPECT_THROW(ServerContext{c}, std::invalid_argument);
  c = test_server_config();
  c.timeout_ns = c.heartbeat_interval_ns;
  EXPECT_THROW(ServerContext{c}, std::invalid_argument);
  c = test_server_config();
  c.users.clear();
  EXPECT_THROW(ServerContext{c}, std::invalid_argument);
}

}  // namespace
}  // namespace hft::soup
