// The network stage against the venue's own MoldUDP64 publisher and re-request server on
// loopback: every message arrives once, in order, even when packets are dropped on purpose, and
// the recovery is bracketed by stale/fresh markers. Both backends.
#include "pipeline/stages/net_stage.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "gateways/itch/encoder.hpp"
#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/rerequest_server.hpp"
#include "net/epoll_backend.hpp"
#include "net/uring_backend.hpp"

namespace hft::pipeline {
namespace {

// Sends to UDP but drops every `every`-th packet (after the first) on purpose.
struct DroppingSink {
  mold::UdpSink udp;
  int every;
  int n = 0;
  int dropped = 0;
  bool send(const mold::PacketHeader& h, std::span<const std::uint8_t> packet) noexcept {
    ++n;
    if (h.message_count() > 0 && n > 1 && n % every == 0) {
      ++dropped;
      return true;
    }
    return udp.send(h, packet);
  }
};

template <class B>
class NetStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (B::kKind == net::BackendKind::kIoUring) {
      const auto f = net::probe_io_uring();
      if (!f.available || !f.multishot_recv || !f.provided_buffer_ring) GTEST_SKIP() << f.describe();
    }
  }
};
using Backends = ::testing::Types<net::UringBackend, net::EpollBackend>;
TYPED_TEST_SUITE(NetStageTest, Backends);

TYPED_TEST(NetStageTest, RecoversDroppedPacketsInOrderWithStaleMarkers) {
  const auto session = mold::SessionId::from("TEST000001");
  mold::RetransmitStore store(mold::RetransmitStoreConfig{});
  mold::RerequestConfig rc;
  rc.session = session;
  mold::RerequestServer server(rc, store, net::parse_endpoint("127.0.0.1:0"));

  net::BackendOptions bo;
  TypeParam backend(bo);
  FeedConfig fc;
  fc.listen = net::parse_endpoint("127.0.0.1:0");
  fc.rerequest = server.local_endpoint();
  fc.session.request_timeout_ns = 5'000'000;
  core::SpscRing<RxMessage> ring(1 << 16);
  core::Histogram kernel(1, 10'000'000'000ull, 3);
  NetStage<TypeParam> stage(backend, fc, ring, kernel);
  stage.on_thread_start();
  const net::Endpoint feed = net::local_endpoint(backend.native_fd(stage.socket()));

  mold::PublisherConfig pc;
  pc.session = session;
  mold::Publisher<DroppingSink> pub(pc, DroppingSink{mold::UdpSink(feed), 7}, &store);
  constexpr int kMessages = 3000;
  std::uint8_t msg[64];
  std::uint64_t t = 1;
  for (int i = 0; i < kMessages; ++i) {
    const auto len = itch::encode::order_delete(msg, itch::MessageHeader{1, 0, t}, 1000 + static_cast<std::uint64_t>(i));
    pub.publish(msg, len, t++);
    if (i % 20 == 19) pub.flush();
    if (i % 100 == 99) {
      for (int k = 0; k < 50; ++k) {
        stage.poll();
        server.poll();
      }
    }
  }
  pub.flush();
  pub.end_session(t);

  std::vector<std::uint64_t> seqs;
  int stale = 0, fresh = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seqs.size() < kMessages && std::chrono::steady_clock::now() < deadline) {
    stage.poll();
    server.poll();
    pub.poll(++t);
    RxMessage m;
    while (ring.try_pop(m)) {
      if (m.kind == 1) ++stale;
      else if (m.kind == 2) ++fresh;
      else seqs.push_back(m.sequence);
    }
  }
  ASSERT_GT(pub.sink().dropped, 10) << "the test must actually drop packets";
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kMessages));
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1) << "in order, once";
  EXPECT_GT(stale, 0);
  EXPECT_EQ(stale, fresh) << "every gap was filled";
  EXPECT_FALSE(stage.stale());
  EXPECT_GT(stage.counters().requests_sent, 0u);
  EXPECT_EQ(stage.session_counters().lost, 0u);
  EXPECT_GT(kernel.total_count(), 0u) << "kernel receive timestamps were read";
}

// Issue 18, finding 1, on the real kernel path: a forged heartbeat and data packet of the right
// session at sequence 2^63, sent from another local UDP socket to the feed port while the stage
// receives the venue's publisher, used to freeze the feed (every later message a duplicate). Now
// the forged datagrams are foreign (the learned source is the publisher's socket) and, before a
// source is learned, suspect; every real message still arrives once, in order, nothing is lost.
TYPED_TEST(NetStageTest, ForgedPacketFromAnotherSocketNeitherFreezesNorFloodsTheFeed) {
  const auto session = mold::SessionId::from("TEST000001");
  mold::RetransmitStore store(mold::RetransmitStoreConfig{});
  mold::RerequestConfig rc;
  rc.session = session;
  mold::RerequestServer server(rc, store, net::parse_endpoint("127.0.0.1:0"));

  net::BackendOptions bo;
  TypeParam backend(bo);
  FeedConfig fc;
  fc.listen = net::parse_endpoint("127.0.0.1:0");
  fc.rerequest = server.local_endpoint();
  fc.session.first_sequence = 1;
  fc.session.request_timeout_ns = 5'000'000;
  fc.session.recovery_deadline_ns = 100'000'000;  // short, so that a loss would be declared in the test
  core::SpscRing<RxMessage> ring(1 << 16);
  core::Histogram kernel(1, 10'000'000'000ull, 3);
  NetStage<TypeParam> stage(backend, fc, ring, kernel);
  stage.on_thread_start();
  const net::Endpoint feed = net::local_endpoint(backend.native_fd(stage.socket()));

  mold::PublisherConfig pc;
  pc.session = session;
  mold::Publisher<mold::UdpSink> pub(pc, mold::UdpSink(feed), &store);

  // The forger: a datagram of the right session at 2^63, heartbeat and data.
  const net::Fd forger = net::udp_sender();
  auto forge = [&](std::uint16_t count) {
    std::uint8_t p[64];
    mold::PacketHeader h{session, 1ull << 63, count};
    h.write(p);
    std::size_t len = mold::kHeaderSize;
    for (std::uint16_t i = 0; i < count; ++i) {
      p[len++] = 0;
      p[len++] = 1;
      p[len++] = 'S';
    }
    ASSERT_EQ(::sendto(forger.get(), p, len, 0, reinterpret_cast<const sockaddr*>(&feed.addr), sizeof feed.addr),
              static_cast<ssize_t>(len));
  };

  std::vector<std::uint64_t> seqs;
  std::uint64_t t = 1;
  auto pump = [&](std::chrono::milliseconds for_at_least, std::size_t until_messages) {
    const auto deadline = std::chrono::steady_clock::now() + for_at_least;
    const auto give_up = deadline + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up &&
           (std::chrono::steady_clock::now() < deadline || seqs.size() < until_messages)) {
      stage.poll();
      server.poll();
      pub.poll(++t);
      RxMessage m;
      while (ring.try_pop(m))
        if (m.kind == 0) seqs.push_back(m.sequence);
    }
  };
  auto publish = [&](int n) {
    std::uint8_t msg[64];
    for (int i = 0; i < n; ++i) {
      const auto len = itch::encode::order_delete(msg, itch::MessageHeader{1, 0, t}, 1000 + seqs.size() + static_cast<std::uint64_t>(i));
      pub.publish(msg, len, t++);
      if (i % 10 == 9) pub.flush();
    }
    pub.flush();
  };

  forge(0);  // before any real packet: no source learned yet, the session's bound holds
  pump(std::chrono::milliseconds(20), 0);
  publish(200);
  pump(std::chrono::milliseconds(20), 200);
  ASSERT_EQ(seqs.size(), 200u);
  EXPECT_TRUE(stage.source_known()) << "the publisher's socket delivered in-sequence packets";
  forge(0);  // after: foreign
  forge(2);
  publish(200);
  // Past the recovery deadline, with the feed going on: nothing lost, nothing duplicated.
  pump(std::chrono::milliseconds(300), 400);
  publish(100);
  pump(std::chrono::milliseconds(20), 500);

  ASSERT_EQ(seqs.size(), 500u);
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1) << "in order, once";
  const auto& m = stage.session_counters();
  EXPECT_EQ(m.lost, 0u);
  EXPECT_EQ(m.duplicates, 0u);
  EXPECT_EQ(m.suspect, 1u) << "the forged heartbeat before the source was learned";
  EXPECT_EQ(m.suspect_refuted, 1u) << "the re-request server's heartbeat answer denied it";
  EXPECT_EQ(stage.counters().foreign, 2u);
  EXPECT_LT(m.requests + m.probes, 50u) << "no request storm";
  EXPECT_EQ(stage.next_expected(), 501u);
  EXPECT_FALSE(stage.stale());
}

TYPED_TEST(NetStageTest, AConfiguredSourceDropsEveryOtherSender) {
  mold::RetransmitStore store(mold::RetransmitStoreConfig{});
  mold::RerequestConfig rc;
  rc.session = mold::SessionId::from("TEST000001");
  mold::RerequestServer server(rc, store, net::parse_endpoint("127.0.0.1:0"));
  net::BackendOptions bo;
  TypeParam backend(bo);
  FeedConfig fc;
  fc.listen = net::parse_endpoint("127.0.0.1:0");
  fc.rerequest = server.local_endpoint();
  fc.source_fixed = true;
  fc.source = parse_feed_source("127.0.0.2");  // nobody sends from there
  core::SpscRing<RxMessage> ring(1 << 16);
  core::Histogram kernel(1, 10'000'000'000ull, 3);
  NetStage<TypeParam> stage(backend, fc, ring, kernel);
  stage.on_thread_start();
  const net::Endpoint feed = net::local_endpoint(backend.native_fd(stage.socket()));
  mold::PublisherConfig pc;
  pc.session = rc.session;
  mold::Publisher<mold::UdpSink> pub(pc, mold::UdpSink(feed), &store);
  std::uint8_t msg[64];
  for (std::uint64_t i = 1; i <= 20; ++i) {
    pub.publish(msg, itch::encode::order_delete(msg, itch::MessageHeader{1, 0, i}, i), i);
    pub.flush();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < deadline && stage.counters().foreign < 20) stage.poll();
  EXPECT_EQ(stage.counters().foreign, 20u);
  EXPECT_EQ(stage.session_counters().packets, 0u);
  EXPECT_EQ(ring.size_approx(), 0u);
}

}  // namespace
}  // namespace hft::pipeline
