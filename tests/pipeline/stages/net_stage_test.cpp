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

}  // namespace
}  // namespace hft::pipeline
