// End to end on 127.0.0.1: a publisher sends the feed to a receiver socket that throws away some
// packets on purpose; the receiver detects each gap (from later packets, heartbeats or the end of
// session) and recovers every message from the re-request server, asking from the same socket so
// the answers come back to it (MoldUDP64 1.00 p.7).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <thread>

#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/rerequest_server.hpp"
#include "mold_pub_test_util.hpp"

namespace hft::mold {
namespace {

using test::Bytes;
using test::message_bytes;

const SessionId kSession = SessionId::from("LOOPBACK01");

std::size_t length_of(std::uint64_t seq) { return 12 + (seq * 37) % 39; }  // ITCH-sized: 12..50

class LossyReceiver {
 public:
  LossyReceiver(const net::Endpoint& server, std::uint64_t total)
      : fd_(net::udp_receiver(net::parse_endpoint("127.0.0.1:0"))), server_(server), got_(total + 1) {}

  [[nodiscard]] net::Endpoint endpoint() const { return net::local_endpoint(fd_.get()); }

  // Which feed packets never "arrive": every fifth, a burst of three, and the one with the last
  // message (a tail loss only the end-of-session packets reveal).
  [[nodiscard]] bool drop(std::uint64_t index, const PacketHeader& h) const {
    return index % 5 == 2 || (index >= 10 && index <= 12) ||
           (h.message_count() > 0 && h.sequence + h.message_count() - 1 == got_.size() - 1);
  }

  void drain() {
    std::uint8_t buf[kMaxUdpPayload];
    for (;;) {
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) return;
      PacketHeader h;
      if (!PacketHeader::parse(buf, static_cast<std::size_t>(n), h)) {
        ++bad_packets;
        continue;
      }
      const bool is_reply = from.sin_port == server_.addr.sin_port;
      if (!is_reply) {
        const std::uint64_t index = feed_packets++;
        if (drop(index, h)) {
          ++dropped_packets;
          dropped_messages += h.message_count();
          continue;
        }
      } else {
        ++replies;
      }
      if (h.session != kSession) ++bad_packets;
      if (h.kind() == PacketKind::kEndOfSession) end_of_session_seen = true;
      accept(h, buf, static_cast<std::size_t>(n));
    }
  }

  // Asks for the first gap; again when the gap start moves or the last ask went unanswered.
  void request_gaps() {
    ++tick_;
    if (expected_ >= announced_next_) return;
    if (expected_ == last_requested_ && tick_ - last_request_tick_ < 50) return;
    // The gap ends at the next message already held (or at the announced next sequence).
    std::uint64_t gap = 1;
    while (expected_ + gap < announced_next_ && expected_ + gap < got_.size() && !got_[expected_ + gap]) ++gap;
    Bytes req(kRequestSize);
    RequestPacket{kSession, expected_, static_cast<std::uint16_t>(gap < 0xFFFE ? gap : 0xFFFE)}.write(req.data());
    ::sendto(fd_.get(), req.data(), req.size(), 0, reinterpret_cast<const sockaddr*>(&server_.addr), sizeof server_.addr);
    ++requests_sent;
    last_requested_ = expected_;
    last_request_tick_ = tick_;
  }

  [[nodiscard]] bool complete() const { return expected_ == got_.size() && end_of_session_seen; }
  [[nodiscard]] const std::optional<Bytes>& message(std::uint64_t seq) const { return got_[seq]; }
  [[nodiscard]] std::uint64_t expected() const { return expected_; }

  std::uint64_t feed_packets = 0;
  std::uint64_t dropped_packets = 0;
  std::uint64_t dropped_messages = 0;
  std::uint64_t replies = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t mismatched_duplicates = 0;
  std::uint64_t bad_packets = 0;
  bool end_of_session_seen = false;

 private:
  void accept(const PacketHeader& h, const std::uint8_t* p, std::size_t n) {
    MessageBlocks blocks(p, n, h.count);
    const std::uint8_t* msg = nullptr;
    std::size_t len = 0;
    std::uint64_t seq = h.sequence;
    while (blocks.next(msg, len)) {
      if (seq == 0 || seq >= got_.size()) {
        ++bad_packets;
      } else if (got_[seq].has_value()) {
        ++duplicates;
        if (*got_[seq] != Bytes(msg, msg + len)) ++mismatched_duplicates;
      } else {
        got_[seq].emplace(msg, msg + len);
      }
      ++seq;
    }
    if (blocks.truncated()) ++bad_packets;
    // Heartbeats and end of session carry the next sequence; a message packet ends at seq.
    announced_next_ = std::max(announced_next_, h.kind() == PacketKind::kMessages ? seq : h.sequence);
    while (expected_ < got_.size() && got_[expected_].has_value()) ++expected_;
  }

  net::Fd fd_;
  net::Endpoint server_;
  std::vector<std::optional<Bytes>> got_;  // by sequence; [0] unused
  std::uint64_t expected_ = 1;
  std::uint64_t announced_next_ = 1;
  std::uint64_t last_requested_ = 0;
  std::uint64_t tick_ = 0;
  std::uint64_t last_request_tick_ = 0;
};

TEST(MoldLoopback, ReceiverRecoversEveryDroppedMessageThroughTheServer) {
  constexpr std::uint64_t kTotal = 20'000;
  RetransmitStoreConfig sc;
  sc.max_messages = kTotal;
  sc.max_bytes = 4 << 20;
  RetransmitStore store(sc);
  RerequestConfig rc;
  rc.session = kSession;
  RerequestServer server(rc, store, net::parse_endpoint("127.0.0.1:0"));
  LossyReceiver receiver(server.local_endpoint(), kTotal);
  PublisherConfig pc;
  pc.session = kSession;
  Publisher<UdpSink> publisher(pc, UdpSink(receiver.endpoint()), &store);

  // The venue's loop, with the receiver's loop interleaved so its socket buffer never overflows.
  std::uint64_t now = 0;
  auto turn = [&] {
    publisher.poll(now);
    server.poll();
    receiver.drain();
    receiver.request_gaps();
  };
  for (std::uint64_t seq = 1; seq <= kTotal; ++seq) {
    now += 1'000;
    const Bytes m = message_bytes(seq, length_of(seq));
    ASSERT_EQ(publisher.publish(m, now), PublishResult::kOk);
    if (seq % 50 == 0) turn();
  }
  publisher.end_session(now);
  server.set_session_ended(true);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((!receiver.complete() || !publisher.finished()) && std::chrono::steady_clock::now() < deadline) {
    now += 100'000'000;  // end-of-session packets go out once a (simulated) second
    turn();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }

  ASSERT_TRUE(receiver.complete()) << "stuck at sequence " << receiver.expected() << "; server answered "
                                   << server.stats().answered << ", unavailable " << server.stats().unavailable;
  for (std::uint64_t seq = 1; seq <= kTotal; ++seq) {
    ASSERT_TRUE(receiver.message(seq).has_value()) << seq;
    ASSERT_EQ(*receiver.message(seq), message_bytes(seq, length_of(seq))) << "message " << seq;
  }
  EXPECT_GT(receiver.dropped_packets, 100u);
  EXPECT_EQ(receiver.bad_packets, 0u);
  EXPECT_EQ(receiver.mismatched_duplicates, 0u);
  EXPECT_GT(server.stats().answered, 0u);
  EXPECT_GT(server.stats().partial, 0u) << "the three-packet burst needs more than one answer";
  EXPECT_GE(server.stats().messages_resent, receiver.dropped_messages);
  EXPECT_EQ(server.stats().malformed + server.stats().wrong_session + server.stats().unavailable, 0u);
  EXPECT_EQ(server.stats().send_errors, 0u);
  EXPECT_EQ(publisher.stats().send_errors, 0u);
  EXPECT_EQ(publisher.stats().messages, kTotal);
  EXPECT_TRUE(publisher.finished());
}

}  // namespace
}  // namespace hft::mold
