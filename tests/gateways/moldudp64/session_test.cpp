// MoldUDP64 receiver session: ordering, duplicates, gaps, recovery, requests, losses, bad packets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateways/moldudp64/packet.hpp"
#include "gateways/moldudp64/session.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

using namespace hft::mold;
using Buf = std::vector<std::uint8_t>;

constexpr const char* kSession = "TESTSESS01";

// Message k carries its own sequence number (8 bytes big-endian), so the handler can check that
// the bytes it gets belong to the sequence it is told.
Buf message(std::uint64_t seq, std::size_t extra = 0) {
  Buf m;
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  m.resize(8 + extra, 0xAB);
  return m;
}

Buf packet(std::uint64_t seq, std::uint16_t count, const char* session = kSession, std::size_t extra = 0) {
  Buf b(session, session + 10);
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  b.push_back(static_cast<std::uint8_t>(count >> 8));
  b.push_back(static_cast<std::uint8_t>(count));
  if (count != kEndOfSessionCount) {
    for (std::uint16_t i = 0; i < count; ++i) {
      const Buf m = message(seq + i, extra);
      b.push_back(static_cast<std::uint8_t>(m.size() >> 8));
      b.push_back(static_cast<std::uint8_t>(m.size()));
      b.insert(b.end(), m.begin(), m.end());
    }
  }
  return b;
}
Buf heartbeat(std::uint64_t next, const char* session = kSession) { return packet(next, 0, session); }
Buf end_of_session(std::uint64_t next) { return packet(next, kEndOfSessionCount); }

std::uint64_t load_seq(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

struct Recorder {
  std::vector<std::uint64_t> seqs;
  std::uint64_t mismatched_payloads = 0;
  std::vector<SequenceRange> gaps;
  std::vector<SequenceRange> lost;
  std::vector<std::uint64_t> ends;
  void on_message(std::uint64_t seq, const std::uint8_t* p, std::size_t n) {
    seqs.push_back(seq);
    if (n < 8 || load_seq(p) != seq) ++mismatched_payloads;
  }
  void on_gap(std::uint64_t first, std::uint64_t end) { gaps.push_back({first, end}); }
  void on_lost(std::uint64_t first, std::uint64_t end) { lost.push_back({first, end}); }
  void on_end_of_session(std::uint64_t next) { ends.push_back(next); }
};

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t end) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t s = first; s < end; ++s) v.push_back(s);
  return v;
}

class SessionTest : public ::testing::Test {
 protected:
  PacketOutcome feed(const Buf& p, std::uint64_t now = 0) { return session_.on_packet(p.data(), p.size(), now); }

  Recorder rec_;
  SessionConfig cfg_ = [] {
    SessionConfig c;
    c.store_packets = 16;
    c.max_request_count = 100;
    c.request_timeout_ns = 1000;
    c.recovery_deadline_ns = 100000;
    return c;
  }();
  Session<Recorder> session_{rec_, cfg_};
};

TEST_F(SessionTest, InOrderDeliveryLearnsTheSession) {
  EXPECT_FALSE(session_.session_known());
  EXPECT_EQ(feed(packet(1, 3)), PacketOutcome::kDelivered);
  EXPECT_EQ(feed(packet(4, 2)), PacketOutcome::kDelivered);
  EXPECT_EQ(feed(packet(6, 1)), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 7));
  EXPECT_EQ(rec_.mismatched_payloads, 0u);
  EXPECT_TRUE(session_.session_known());
  EXPECT_EQ(session_.session().view(), kSession);
  EXPECT_EQ(session_.next_expected(), 7u);
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_TRUE(session_.missing().empty());
  const auto& c = session_.counters();
  EXPECT_EQ(c.packets, 3u);
  EXPECT_EQ(c.messages, 6u);
  EXPECT_EQ(c.duplicates + c.gaps + c.lost + c.malformed + c.requests, 0u);
  RequestPacket r;
  EXPECT_FALSE(session_.poll(1'000'000, r));
}

TEST_F(SessionTest, JoinsMidStreamAtTheFirstPacketsSequence) {
  EXPECT_EQ(feed(packet(19009117, 2)), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(19009117, 19009119));
  EXPECT_FALSE(session_.in_recovery());
}

// A snapshot taken before the feed's first packet (GLIMPSE, net_stage.hpp) starts the session at
// its sequence: a later first packet opens a gap from there, which is re-requested.
TEST_F(SessionTest, StartAtASnapshotsSequenceMakesALaterFirstPacketAGap) {
  EXPECT_TRUE(session_.start_at(100));
  EXPECT_FALSE(session_.start_at(50)) << "only before the session started";
  EXPECT_EQ(feed(packet(105, 2), 10), PacketOutcome::kBuffered);
  EXPECT_TRUE(session_.in_recovery());
  EXPECT_EQ(session_.missing().first, 100u);
  EXPECT_EQ(session_.missing().end, 105u);
  EXPECT_EQ(feed(packet(100, 5), 20), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(100, 107));
  EXPECT_FALSE(session_.in_recovery());
}

TEST_F(SessionTest, OtherSessionsAreCountedAndDropped) {
  feed(packet(1, 2));
  EXPECT_EQ(feed(packet(3, 2, "OTHERSESS1")), PacketOutcome::kSessionMismatch);
  EXPECT_EQ(feed(heartbeat(50, "OTHERSESS1")), PacketOutcome::kSessionMismatch);
  EXPECT_EQ(feed(packet(3, 1)), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 4));
  EXPECT_EQ(session_.counters().session_mismatches, 2u);
  EXPECT_EQ(session_.counters().packets, 2u);
  EXPECT_FALSE(session_.in_recovery());  // the other session's heartbeat revealed nothing
}

TEST(Session, FixedSessionAndRestartSequence) {
  Recorder rec;
  SessionConfig cfg;
  cfg.fixed_session = true;
  cfg.session = SessionId::from(kSession);
  cfg.first_sequence = 10;  // restarting: 1..9 were processed before
  Session<Recorder> s(rec, cfg);
  const Buf other = packet(10, 1, "XXXXXXXXXX");
  EXPECT_EQ(s.on_packet(other.data(), other.size(), 0), PacketOutcome::kSessionMismatch);
  const Buf old = packet(8, 2);
  EXPECT_EQ(s.on_packet(old.data(), old.size(), 0), PacketOutcome::kDuplicate);
  const Buf ahead = packet(12, 1);
  EXPECT_EQ(s.on_packet(ahead.data(), ahead.size(), 0), PacketOutcome::kBuffered);
  EXPECT_TRUE(s.in_recovery());
  EXPECT_EQ(s.missing().first, 10u);
  EXPECT_EQ(s.missing().end, 12u);
  const Buf fill = packet(10, 2);
  EXPECT_EQ(s.on_packet(fill.data(), fill.size(), 0), PacketOutcome::kDelivered);
  EXPECT_EQ(rec.seqs, range(10, 13));
}

TEST_F(SessionTest, DuplicatePacketsAreDroppedMessageByMessage) {
  feed(packet(1, 3));
  EXPECT_EQ(feed(packet(1, 3)), PacketOutcome::kDuplicate);
  EXPECT_EQ(feed(packet(2, 1)), PacketOutcome::kDuplicate);
  EXPECT_EQ(rec_.seqs, range(1, 4));
  EXPECT_EQ(session_.counters().duplicates, 4u);
  EXPECT_FALSE(session_.in_recovery());
}

TEST_F(SessionTest, OverlappingPacketDeliversOnlyItsNewTail) {
  feed(packet(1, 4));
  EXPECT_EQ(feed(packet(3, 5)), PacketOutcome::kDelivered);  // 3,4 old; 5,6,7 new
  EXPECT_EQ(rec_.seqs, range(1, 8));
  EXPECT_EQ(rec_.mismatched_payloads, 0u);
  EXPECT_EQ(session_.counters().duplicates, 2u);
  EXPECT_EQ(session_.counters().messages, 7u);
}

TEST_F(SessionTest, HeartbeatInSequenceIsQuiet) {
  feed(packet(1, 2));
  EXPECT_EQ(feed(heartbeat(3)), PacketOutcome::kHeartbeat);
  EXPECT_EQ(feed(heartbeat(2)), PacketOutcome::kHeartbeat);  // stale: no effect
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(session_.counters().heartbeats, 2u);
  EXPECT_EQ(session_.counters().gaps, 0u);
  RequestPacket r;
  EXPECT_FALSE(session_.poll(10, r));
}

TEST_F(SessionTest, HeartbeatAheadRevealsAGapAndRequestsIt) {
  feed(packet(1, 2));
  EXPECT_EQ(feed(heartbeat(7), 500), PacketOutcome::kHeartbeat);
  EXPECT_TRUE(session_.in_recovery());
  EXPECT_EQ(session_.missing().first, 3u);
  EXPECT_EQ(session_.missing().end, 7u);
  EXPECT_EQ(session_.counters().gaps, 1u);
  ASSERT_EQ(rec_.gaps.size(), 1u);
  EXPECT_EQ(rec_.gaps[0].first, 3u);
  EXPECT_EQ(rec_.gaps[0].end, 7u);

  RequestPacket r;
  ASSERT_TRUE(session_.poll(500, r));
  Buf bytes(kRequestSize);
  r.write(bytes.data());
  const Buf expected = {'T', 'E', 'S', 'T', 'S', 'E', 'S', 'S', '0', '1',  // session
                        0,   0,   0,   0,   0,   0,   0,   3,              // first wanted
                        0,   4};                                          // count
  EXPECT_EQ(bytes, expected);
  EXPECT_FALSE(session_.poll(501, r));  // outstanding, not yet timed out

  EXPECT_EQ(feed(packet(3, 4), 600), PacketOutcome::kDelivered);  // the retransmission
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(rec_.seqs, range(1, 7));
  EXPECT_EQ(session_.counters().recovered, 4u);
  EXPECT_FALSE(session_.poll(700, r));
}

TEST_F(SessionTest, EndOfSessionIsReportedAndRerequestsStayPossible) {
  feed(packet(1, 2));
  EXPECT_EQ(feed(end_of_session(3)), PacketOutcome::kEndOfSession);
  EXPECT_TRUE(session_.end_of_session());
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(rec_.ends, (std::vector<std::uint64_t>{3}));

  // An end-of-session packet ahead of us: a gap, and the request still goes out.
  Recorder rec;
  Session<Recorder> s(rec, cfg_);
  const Buf first = packet(1, 1);
  s.on_packet(first.data(), first.size(), 0);
  const Buf eos = end_of_session(5);
  EXPECT_EQ(s.on_packet(eos.data(), eos.size(), 0), PacketOutcome::kEndOfSession);
  EXPECT_TRUE(s.end_of_session());
  EXPECT_EQ(s.counters().end_of_session, 1u);
  EXPECT_TRUE(s.in_recovery());
  RequestPacket r;
  ASSERT_TRUE(s.poll(0, r));
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 3);
  const Buf fill = packet(2, 3);
  s.on_packet(fill.data(), fill.size(), 1);
  EXPECT_EQ(rec.seqs, range(1, 5));
  EXPECT_FALSE(s.in_recovery());
}

TEST_F(SessionTest, RecoveryDeliversHeldPacketsInOrderAfterTheGapFills) {
  feed(packet(1, 2), 0);                                   // 1,2
  EXPECT_EQ(feed(packet(7, 2), 10), PacketOutcome::kBuffered);   // 7,8 (gap 3..6)
  EXPECT_EQ(feed(packet(5, 2), 20), PacketOutcome::kBuffered);   // 5,6 out of order
  EXPECT_EQ(feed(packet(9, 1), 30), PacketOutcome::kBuffered);   // 9
  EXPECT_EQ(feed(packet(7, 2), 35), PacketOutcome::kDuplicate);  // held already
  EXPECT_EQ(rec_.seqs, range(1, 3));
  EXPECT_EQ(session_.held_packets(), 3u);
  EXPECT_EQ(session_.missing().first, 3u);
  EXPECT_EQ(session_.missing().end, 5u);  // up to the first held message
  EXPECT_EQ(session_.counters().gaps, 1u);

  RequestPacket r;
  ASSERT_TRUE(session_.poll(40, r));
  EXPECT_EQ(r.sequence, 3u);
  EXPECT_EQ(r.count, 2);

  EXPECT_EQ(feed(packet(3, 2), 50), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 10));
  EXPECT_EQ(rec_.mismatched_payloads, 0u);
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(session_.held_packets(), 0u);
  const auto& c = session_.counters();
  EXPECT_EQ(c.recovered, 2u);
  EXPECT_EQ(c.buffered, 3u);
  EXPECT_EQ(c.duplicates, 2u);
  EXPECT_EQ(c.lost, 0u);
  EXPECT_EQ(c.messages, 9u);
}

TEST_F(SessionTest, HolesBetweenHeldPacketsAreRecoveredOneAfterAnother) {
  feed(packet(1, 1));
  feed(packet(4, 1));  // gap 2..3
  feed(packet(7, 1));  // gap 5..6
  EXPECT_EQ(session_.counters().gaps, 2u);
  RequestPacket r;
  ASSERT_TRUE(session_.poll(0, r));
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 2);
  feed(packet(2, 2), 10);
  EXPECT_EQ(rec_.seqs, range(1, 5));
  EXPECT_TRUE(session_.in_recovery());
  EXPECT_EQ(session_.missing().first, 5u);
  EXPECT_EQ(session_.missing().end, 7u);
  ASSERT_TRUE(session_.poll(10, r));  // the head moved: ask for the next hole at once
  EXPECT_EQ(r.sequence, 5u);
  EXPECT_EQ(r.count, 2);
  feed(packet(5, 2), 20);
  EXPECT_EQ(rec_.seqs, range(1, 8));
  EXPECT_EQ(session_.counters().recovered, 4u);
}

TEST_F(SessionTest, RequestsAreChunkedAndTheRestAskedAsPartsArrive) {
  feed(packet(1, 1), 0);
  feed(heartbeat(251), 0);  // 250 missing: 2..251
  RequestPacket r;
  ASSERT_TRUE(session_.poll(0, r));
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 100);  // max_request_count
  EXPECT_FALSE(session_.poll(1, r));
  // The server answers with what fits in one packet: 38 of them.
  feed(packet(2, 38), 2);
  ASSERT_TRUE(session_.poll(2, r));
  EXPECT_EQ(r.sequence, 40u);
  EXPECT_EQ(r.count, 100);
  feed(packet(40, 100), 3);
  ASSERT_TRUE(session_.poll(3, r));
  EXPECT_EQ(r.sequence, 140u);
  EXPECT_EQ(r.count, 100);
  feed(packet(140, 100), 4);
  ASSERT_TRUE(session_.poll(4, r));
  EXPECT_EQ(r.sequence, 240u);
  EXPECT_EQ(r.count, 11);  // the tail
  feed(packet(240, 11), 5);
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(rec_.seqs, range(1, 251));
  EXPECT_EQ(session_.counters().requests, 4u);
  EXPECT_EQ(session_.counters().recovered, 249u);
  EXPECT_FALSE(session_.poll(5, r));
}

TEST_F(SessionTest, UnansweredRequestIsRetriedAfterTheTimeout) {
  feed(packet(1, 1), 0);
  feed(packet(5, 1), 100);  // gap 2..4 at t=100
  RequestPacket r;
  ASSERT_TRUE(session_.poll(100, r));
  EXPECT_FALSE(session_.poll(100 + 999, r));
  ASSERT_TRUE(session_.poll(100 + 1000, r));  // request_timeout_ns = 1000
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 3);
  EXPECT_FALSE(session_.poll(100 + 1999, r));
  ASSERT_TRUE(session_.poll(100 + 2000, r));
  EXPECT_EQ(session_.counters().requests, 3u);
  EXPECT_EQ(session_.counters().request_retries, 2u);
  // Time going backwards (a caller bug) never triggers a request.
  EXPECT_FALSE(session_.poll(0, r));
}

TEST_F(SessionTest, DeadlineDeclaresTheHeadLostAndSkipsToHeldData) {
  feed(packet(1, 1), 0);
  feed(packet(4, 2), 1000);  // gap 2..3 from t=1000
  feed(packet(8, 1), 1000);  // second hole 6..7
  RequestPacket r;
  ASSERT_TRUE(session_.poll(1000, r));
  (void)session_.poll(1000 + 99'999, r);  // retried, nothing given up yet
  EXPECT_EQ(session_.counters().lost, 0u);
  // recovery_deadline_ns = 100000 without progress: 2..3 lost, 4..5 delivered; then 6..7 missing,
  // asked for in the same poll.
  ASSERT_TRUE(session_.poll(1000 + 100'000, r));
  EXPECT_EQ(r.sequence, 6u);
  EXPECT_EQ(r.count, 2);
  EXPECT_EQ(session_.counters().deadline_expiries, 1u);
  EXPECT_EQ(session_.counters().lost, 2u);
  ASSERT_EQ(rec_.lost.size(), 1u);
  EXPECT_EQ(rec_.lost[0].first, 2u);
  EXPECT_EQ(rec_.lost[0].end, 4u);
  EXPECT_EQ(rec_.seqs, (std::vector<std::uint64_t>{1, 4, 5}));
  EXPECT_TRUE(session_.in_recovery());
  EXPECT_EQ(session_.missing().first, 6u);
  EXPECT_EQ(session_.missing().end, 8u);
  // The new hole has its own deadline, counted from the skip.
  (void)session_.poll(101'000 + 99'999, r);
  EXPECT_EQ(session_.counters().lost, 2u);
  (void)session_.poll(101'000 + 100'000, r);
  EXPECT_EQ(session_.counters().lost, 4u);
  EXPECT_EQ(rec_.seqs, (std::vector<std::uint64_t>{1, 4, 5, 8}));
  EXPECT_FALSE(session_.in_recovery());
  // A late retransmission of lost messages is a duplicate now.
  EXPECT_EQ(feed(packet(2, 2), 300'000), PacketOutcome::kDuplicate);
  EXPECT_EQ(rec_.seqs.size(), 4u);
}

TEST_F(SessionTest, ProgressPostponesTheDeadline) {
  feed(packet(1, 1), 0);
  feed(heartbeat(10), 0);  // 2..9 missing
  RequestPacket r;
  ASSERT_TRUE(session_.poll(0, r));
  feed(packet(2, 4), 90'000);  // progress at t=90000
  session_.poll(150'000, r);   // 60us after progress: not yet
  EXPECT_EQ(session_.counters().lost, 0u);
  session_.poll(190'000, r);
  EXPECT_EQ(session_.counters().lost, 4u);  // 6..9
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(session_.next_expected(), 10u);
}

TEST(Session, StoreOverflowDeclaresTheHeadLost) {
  Recorder rec;
  SessionConfig cfg;
  cfg.store_packets = 2;
  Session<Recorder> s(rec, cfg);
  auto feed = [&](const Buf& p) { return s.on_packet(p.data(), p.size(), 0); };
  feed(packet(1, 1));
  EXPECT_EQ(feed(packet(3, 1)), PacketOutcome::kBuffered);  // gap at 2
  EXPECT_EQ(feed(packet(5, 1)), PacketOutcome::kBuffered);  // hole 4
  // Store full: 2 is given up, 3 delivered, then 4 missing still; 7 is held.
  EXPECT_EQ(feed(packet(7, 1)), PacketOutcome::kBuffered);
  EXPECT_EQ(s.counters().store_overflows, 1u);
  EXPECT_EQ(s.counters().lost, 1u);
  ASSERT_EQ(rec.lost.size(), 1u);
  EXPECT_EQ(rec.lost[0].first, 2u);
  EXPECT_EQ(rec.lost[0].end, 3u);
  EXPECT_EQ(rec.seqs, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(s.missing().first, 4u);
  EXPECT_EQ(s.missing().end, 5u);
  feed(packet(4, 1));
  EXPECT_EQ(rec.seqs, (std::vector<std::uint64_t>{1, 3, 4, 5}));
  EXPECT_EQ(s.missing().first, 6u);
  feed(packet(6, 1));
  EXPECT_EQ(rec.seqs, (std::vector<std::uint64_t>{1, 3, 4, 5, 6, 7}));
  EXPECT_FALSE(s.in_recovery());
  EXPECT_EQ(rec.mismatched_payloads, 0u);
}

TEST(Session, StoreOverflowWithAnEarlierPacketDeliversIt) {
  // The store holds 10..11; 5 arrives (hole 2..9) with the store full: only 2..4 are given up.
  Recorder rec;
  SessionConfig cfg;
  cfg.store_packets = 1;
  Session<Recorder> s(rec, cfg);
  auto feed = [&](const Buf& p) { return s.on_packet(p.data(), p.size(), 0); };
  feed(packet(1, 1));
  feed(packet(10, 2));
  EXPECT_EQ(feed(packet(5, 1)), PacketOutcome::kDelivered);
  EXPECT_EQ(s.counters().lost, 3u);
  EXPECT_EQ(rec.seqs, (std::vector<std::uint64_t>{1, 5}));
  EXPECT_EQ(s.missing().first, 6u);
  EXPECT_EQ(s.missing().end, 10u);
}

TEST(Session, PacketsTooLargeForAStoreSlotAreDroppedAndRequested) {
  Recorder rec;
  SessionConfig cfg;
  cfg.store_packet_bytes = 100;
  Session<Recorder> s(rec, cfg);
  const Buf first = packet(1, 1);
  s.on_packet(first.data(), first.size(), 0);
  const Buf big = packet(3, 1, kSession, 200);
  EXPECT_EQ(s.on_packet(big.data(), big.size(), 0), PacketOutcome::kDropped);
  EXPECT_EQ(s.counters().oversize, 1u);
  EXPECT_EQ(s.missing().first, 2u);
  EXPECT_EQ(s.missing().end, 4u);  // the dropped packet's messages are asked for too
  RequestPacket r;
  ASSERT_TRUE(s.poll(0, r));
  EXPECT_EQ(r.count, 2);
  const Buf fill = packet(2, 2, kSession, 200);  // in sequence: delivered straight, never stored
  EXPECT_EQ(s.on_packet(fill.data(), fill.size(), 0), PacketOutcome::kDelivered);
  EXPECT_EQ(rec.seqs, range(1, 4));
}

TEST_F(SessionTest, MalformedPacketsAreDroppedWhole) {
  Buf short_header(19, '0');
  EXPECT_EQ(feed(short_header), PacketOutcome::kMalformed);
  EXPECT_FALSE(session_.session_known());  // nothing learned from a bad packet

  Buf cut = packet(1, 3);
  cut.pop_back();  // last block runs past the end
  EXPECT_EQ(feed(cut), PacketOutcome::kMalformed);
  Buf lying = packet(1, 2);
  lying[19] = 3;  // count 3, two blocks present
  EXPECT_EQ(feed(lying), PacketOutcome::kMalformed);
  Buf huge_len = packet(1, 1);
  huge_len[20] = 0xFF;  // block length 0xFF08 in a 30-byte packet
  EXPECT_EQ(feed(huge_len), PacketOutcome::kMalformed);
  EXPECT_EQ(feed(packet(0xFFFFFFFFFFFFFFFFULL, 2)), PacketOutcome::kMalformed);  // sequence wraps
  EXPECT_TRUE(rec_.seqs.empty());
  EXPECT_EQ(session_.counters().malformed, 5u);
  EXPECT_EQ(session_.counters().packets, 0u);
  EXPECT_FALSE(session_.started());

  EXPECT_EQ(feed(packet(1, 3)), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 4));
  // A heartbeat or end-of-session packet may carry trailing bytes; they are ignored.
  Buf hb = heartbeat(4);
  hb.push_back(1);
  EXPECT_EQ(feed(hb), PacketOutcome::kHeartbeat);
}

// ---- issue 18, finding 1: one forged packet must not move the session ------------------------
// A heartbeat (or data packet) of the right session with sequence 2^63 used to put the session
// into recovery, be declared lost after the deadline and leave next_expected at 2^63: every real
// message after it was a duplicate for the rest of the day.

constexpr std::uint64_t kForged = 1ull << 63;

TEST_F(SessionTest, ForgedHeartbeatFarAheadIsSuspectAndMovesNothing) {
  feed(packet(1, 3), 0);
  EXPECT_EQ(feed(heartbeat(kForged), 10), PacketOutcome::kSuspect);
  EXPECT_EQ(session_.next_expected(), 4u);
  EXPECT_EQ(session_.highest_seen(), 4u);
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_TRUE(rec_.gaps.empty());
  EXPECT_EQ(session_.counters().suspect, 1u);
  EXPECT_EQ(session_.counters().gaps, 0u);
  // Real packets keep flowing.
  EXPECT_EQ(feed(packet(4, 2), 20), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 6));
  // The suspect is asked about (one message at its sequence), never treated as a gap; it expires
  // unconfirmed after recovery_deadline_ns, and nothing is declared lost.
  RequestPacket r;
  ASSERT_TRUE(session_.poll(30, r));
  EXPECT_EQ(r.sequence, kForged);
  EXPECT_EQ(r.count, 1);
  for (std::uint64_t t = 40; t <= 300'000; t += 1000) (void)session_.poll(t, r);
  EXPECT_EQ(session_.counters().suspect_expired, 1u);
  EXPECT_EQ(session_.counters().lost, 0u);
  EXPECT_EQ(session_.counters().deadline_expiries, 0u);
  EXPECT_TRUE(rec_.lost.empty());
  EXPECT_EQ(session_.next_expected(), 6u);
  EXPECT_FALSE(session_.poll(400'000, r)) << "nothing left to ask";
  EXPECT_EQ(feed(packet(6, 1), 400'001), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 7));
  EXPECT_EQ(session_.counters().duplicates, 0u);
}

TEST_F(SessionTest, ForgedDataPacketFarAheadIsSuspectAndMovesNothing) {
  feed(packet(1, 3), 0);
  EXPECT_EQ(feed(packet(kForged, 2), 10), PacketOutcome::kSuspect);
  EXPECT_EQ(feed(end_of_session(kForged + 5), 11), PacketOutcome::kSuspect);
  EXPECT_FALSE(session_.end_of_session()) << "an unconfirmed end of session is not believed either";
  EXPECT_EQ(session_.next_expected(), 4u);
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(session_.held_packets(), 0u);
  EXPECT_EQ(session_.counters().suspect, 2u);
  EXPECT_EQ(feed(packet(4, 2), 20), PacketOutcome::kDelivered);
  RequestPacket r;
  for (std::uint64_t t = 30; t <= 300'000; t += 1000) (void)session_.poll(t, r);
  EXPECT_EQ(session_.counters().lost, 0u);
  EXPECT_EQ(feed(packet(6, 1), 300'001), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 7));
}

TEST_F(SessionTest, TheRerequestServerRefutesASuspect) {
  feed(packet(1, 3), 0);
  EXPECT_EQ(feed(heartbeat(kForged), 10), PacketOutcome::kSuspect);
  RequestPacket r;
  ASSERT_TRUE(session_.poll(20, r));
  EXPECT_EQ(r.sequence, kForged);
  // The server answers a request beyond its stream with a heartbeat carrying its next sequence
  // (rerequest_server.hpp): the stream ends at 4, so 2^63 does not exist.
  const Buf answer = heartbeat(4);
  EXPECT_EQ(session_.on_packet(answer.data(), answer.size(), 30, PacketOrigin::kRerequestServer), PacketOutcome::kHeartbeat);
  EXPECT_EQ(session_.counters().suspect_refuted, 1u);
  EXPECT_FALSE(session_.poll(10'000, r)) << "no more questions once refuted";
  EXPECT_EQ(session_.counters().suspect_expired, 0u);
  EXPECT_EQ(session_.next_expected(), 4u);
}

TEST_F(SessionTest, AGenuineJumpIsConfirmedByTheServersAnswer) {
  feed(packet(1, 1), 0);
  const std::uint64_t far = 5'000'001;
  EXPECT_EQ(feed(packet(far, 2), 10), PacketOutcome::kSuspect);
  RequestPacket r;
  ASSERT_TRUE(session_.poll(20, r));
  EXPECT_EQ(r.sequence, far);
  EXPECT_EQ(r.count, 1);
  const Buf answer = packet(far, 1);
  EXPECT_EQ(session_.on_packet(answer.data(), answer.size(), 30, PacketOrigin::kRerequestServer), PacketOutcome::kBuffered);
  EXPECT_EQ(session_.counters().suspect_confirmed, 1u);
  EXPECT_TRUE(session_.in_recovery());
  EXPECT_EQ(session_.missing().first, 2u);
  EXPECT_EQ(session_.missing().end, far);
  ASSERT_TRUE(session_.poll(40, r));  // the gap itself is now asked for, as before
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(session_.counters().gaps, 1u);
}

TEST_F(SessionTest, AGenuineJumpIsConfirmedByTheFollowingPackets) {
  feed(packet(1, 1), 0);
  const std::uint64_t far = 2'000'001;
  EXPECT_EQ(feed(packet(far, 2), 10), PacketOutcome::kSuspect);
  EXPECT_EQ(feed(packet(far + 2, 2), 11), PacketOutcome::kSuspect);  // one following packet agrees
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(feed(packet(far + 4, 1), 12), PacketOutcome::kBuffered);  // the second: believed
  EXPECT_EQ(session_.counters().suspect_confirmed, 1u);
  EXPECT_TRUE(session_.in_recovery());
  EXPECT_EQ(session_.missing().first, 2u);
  EXPECT_EQ(session_.missing().end, far + 4);  // the unconfirmed ones were not kept: asked for
  RequestPacket r;
  ASSERT_TRUE(session_.poll(13, r));
  EXPECT_EQ(r.sequence, 2u);
}

TEST_F(SessionTest, ARepeatedForgedHeartbeatDoesNotConfirmItself) {
  feed(packet(1, 1), 0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(feed(heartbeat(kForged), 10 + i), PacketOutcome::kSuspect);
  EXPECT_EQ(session_.counters().suspect_confirmed, 0u);
  EXPECT_FALSE(session_.in_recovery());
}

TEST_F(SessionTest, LossesAreDeclaredOnlyForWhatTheServerDoesNotDeny) {
  // A heartbeat inside the plausibility bound claims messages up to 1001 exist; the server's
  // answer says its stream ends at 2: the claimed messages never existed. The hole is withdrawn
  // (counted phantom), not declared lost.
  feed(packet(1, 1), 0);
  EXPECT_EQ(feed(heartbeat(1001), 10), PacketOutcome::kHeartbeat);
  EXPECT_TRUE(session_.in_recovery());
  RequestPacket r;
  ASSERT_TRUE(session_.poll(10, r));
  EXPECT_EQ(r.sequence, 2u);
  const Buf answer = heartbeat(2);
  session_.on_packet(answer.data(), answer.size(), 20, PacketOrigin::kRerequestServer);
  EXPECT_FALSE(session_.in_recovery());
  EXPECT_EQ(session_.counters().phantom, 999u);
  for (std::uint64_t t = 30; t <= 300'000; t += 1000) (void)session_.poll(t, r);
  EXPECT_EQ(session_.counters().lost, 0u);
  EXPECT_EQ(session_.next_expected(), 2u);
  EXPECT_EQ(feed(packet(2, 2), 300'001), PacketOutcome::kDelivered);
  EXPECT_EQ(rec_.seqs, range(1, 4));
}

TEST(Session, PlausibilityBoundIsConfigurable) {
  Recorder rec;
  SessionConfig cfg;
  cfg.max_sequence_jump = 10;
  Session<Recorder> s(rec, cfg);
  const Buf first = packet(1, 1);
  s.on_packet(first.data(), first.size(), 0);
  const Buf near = heartbeat(12);  // 2 + 10: at the bound, believed
  EXPECT_EQ(s.on_packet(near.data(), near.size(), 0), PacketOutcome::kHeartbeat);
  EXPECT_TRUE(s.in_recovery());
  const Buf far = heartbeat(23);  // 12 + 11: beyond
  EXPECT_EQ(s.on_packet(far.data(), far.size(), 0), PacketOutcome::kSuspect);
}

TEST(Session, ConfigErrorsNameTheField) {
  Recorder rec;
  auto expect_error = [&](SessionConfig c, const std::string& field) {
    try {
      Session<Recorder> s(rec, c);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  SessionConfig c;
  c.store_packets = 0;
  expect_error(c, "store_packets");
  c = {};
  c.store_packet_bytes = 10;
  expect_error(c, "store_packet_bytes");
  c = {};
  c.max_request_count = 0;
  expect_error(c, "max_request_count");
  c = {};
  c.max_request_count = 0xFFFF;
  expect_error(c, "max_request_count");
  c = {};
  c.request_timeout_ns = 0;
  expect_error(c, "request_timeout_ns");
  c = {};
  c.recovery_deadline_ns = 0;
  expect_error(c, "recovery_deadline_ns");
  c = {};
  c.max_sequence_jump = 0;
  expect_error(c, "max_sequence_jump");
  EXPECT_EQ(kDefaultMaxRequestCount, 103);  // (1472 - 20) / (2 + 12)
}

TEST(Session, NoAllocationAfterConstruction) {
  ASSERT_TRUE(hft::testing::counting_active());
  struct Counter {
    std::uint64_t n = 0;
    std::uint64_t sum = 0;
    void on_message(std::uint64_t seq, const std::uint8_t*, std::size_t len) { n += 1, sum += seq + len; }
  } h;
  SessionConfig cfg;
  cfg.store_packets = 64;
  Session<Counter> s(h, cfg);
  // Packets prepared up front: in order, then a gap with held packets, a duplicate, a heartbeat
  // and the retransmission that fills the gap.
  std::vector<Buf> stream;
  for (std::uint64_t seq = 1; seq < 1000; seq += 10) stream.push_back(packet(seq, 10));
  stream.push_back(packet(1011, 10));
  stream.push_back(packet(1021, 10));
  stream.push_back(packet(1011, 10));
  stream.push_back(heartbeat(1031));
  const Buf fill = packet(1001, 10);
  RequestPacket r;
  hft::testing::AllocationScope scope;
  std::uint64_t now = 0;
  for (const auto& p : stream) {
    s.on_packet(p.data(), p.size(), ++now);
    (void)s.poll(now, r);
  }
  s.on_packet(fill.data(), fill.size(), ++now);
  (void)s.poll(now, r);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(h.n, 1030u);
  EXPECT_FALSE(s.in_recovery());
  EXPECT_EQ(s.counters().requests, 1u);
}

// A lossy, reordering, duplicating network and a re-request server that answers with at most
// `per_response` messages: every message arrives exactly once, in order, with no loss declared.
TEST(Session, RandomisedNetworkDeliversEverythingOnce) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    Recorder rec;
    SessionConfig cfg;
    cfg.store_packets = 4096;
    cfg.max_request_count = 50;
    cfg.request_timeout_ns = 10;
    cfg.recovery_deadline_ns = 1'000'000'000;
    cfg.first_sequence = 1;  // the first packets may be lost too
    Session<Recorder> s(rec, cfg);

    const std::uint64_t total = 2000;
    std::vector<Buf> wire;
    for (std::uint64_t seq = 1; seq <= total;) {
      const auto n = static_cast<std::uint16_t>(1 + rng() % 12);
      const auto count = static_cast<std::uint16_t>(std::min<std::uint64_t>(n, total + 1 - seq));
      Buf p = packet(seq, count);
      seq += count;
      const auto fate = rng() % 10;
      if (fate == 0) continue;                      // lost
      if (fate == 1) wire.push_back(p);             // duplicated
      if (fate == 2 && !wire.empty()) {             // reordered
        wire.insert(wire.end() - 1, p);
        continue;
      }
      wire.push_back(p);
      if (rng() % 20 == 0) wire.push_back(heartbeat(seq));
    }
    wire.push_back(end_of_session(total + 1));

    const std::uint16_t per_response = 7;
    std::uint64_t now = 0;
    RequestPacket r;
    auto serve = [&] {
      while (s.poll(now, r)) {
        EXPECT_EQ(r.session.view(), kSession);
        EXPECT_GT(r.count, 0);
        const auto n = static_cast<std::uint16_t>(std::min<std::uint64_t>({r.count, per_response, total + 1 - r.sequence}));
        const Buf resp = packet(r.sequence, n);
        if (rng() % 4 != 0) s.on_packet(resp.data(), resp.size(), now);  // responses get lost too
      }
    };
    for (const auto& p : wire) {
      now += 1;
      s.on_packet(p.data(), p.size(), now);
      serve();
    }
    for (int i = 0; i < 100000 && s.in_recovery(); ++i) {
      now += 10;
      serve();
    }
    ASSERT_FALSE(s.in_recovery()) << seed;
    EXPECT_EQ(rec.seqs, range(1, total + 1)) << seed;
    EXPECT_EQ(rec.mismatched_payloads, 0u);
    EXPECT_EQ(s.counters().lost, 0u);
    EXPECT_EQ(s.counters().messages, total);
    EXPECT_TRUE(s.end_of_session());
  }
}

}  // namespace
