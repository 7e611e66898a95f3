// Both network backends pass the same tests (typed tests): UDP receive with source address and
// kernel timestamps, buffer recycling beyond the provided-buffer count, TCP in both directions
// with back-pressure, orderly close, and an allocation-free steady state.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "net/epoll_backend.hpp"
#include "net/socket.hpp"
#include "net/uring_backend.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::net {
namespace {

struct Collector {
  std::vector<std::vector<std::uint8_t>> datagrams;
  std::vector<std::uint64_t> kernel_ns;
  std::vector<sockaddr_in> from;
  std::vector<std::uint8_t> stream;
  int closed_socket = -1;
  int closed_error = -2;
  bool record = true;
  std::uint64_t count = 0;

  void on_datagram(const Datagram& d) noexcept {
    ++count;
    if (!record) return;
    datagrams.emplace_back(d.data, d.data + d.size);
    kernel_ns.push_back(d.kernel_rx_ns);
    from.push_back(d.from);
  }
  void on_stream_data(int, const std::uint8_t* p, std::size_t n) noexcept { stream.insert(stream.end(), p, p + n); }
  void on_stream_closed(int socket, int error) noexcept {
    closed_socket = socket;
    closed_error = error;
  }
};

template <class B>
class BackendTest : public ::testing::Test {
 protected:
  static BackendOptions options() {
    BackendOptions o;
    o.buffer_count = 64;  // fewer than the datagrams in flight: buffers must be recycled
    o.buffer_size = 2048;
    o.send_buffer_bytes = 4096;
    return o;
  }
  void SetUp() override {
    if constexpr (B::kKind == BackendKind::kIoUring) {
      const UringFeatures f = probe_io_uring();
      if (!f.available || !f.multishot_recv || !f.provided_buffer_ring) GTEST_SKIP() << f.describe();
    }
  }
  template <class Pred>
  static void poll_until(B& b, Collector& c, Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (b.poll(c) == 0) std::this_thread::yield();
    }
  }
};

using Backends = ::testing::Types<UringBackend, EpollBackend>;
TYPED_TEST_SUITE(BackendTest, Backends);

TYPED_TEST(BackendTest, ReceivesEveryDatagramWithSourceAndKernelTimestamp) {
  TypeParam b(this->options());
  UdpOptions uo;
  uo.receive_buffer = 4 << 20;
  Fd rx = udp_receiver(parse_endpoint("127.0.0.1:0"), uo);
  const Endpoint where = local_endpoint(rx.get());
  const int id = b.add_udp(std::move(rx), true);
  b.on_thread_start();
  Fd tx = udp_sender();
  const Endpoint sender = local_endpoint(tx.get());
  Collector c;
  constexpr int kCount = 1000;  // > 64 buffers
  std::uint8_t payload[1472];
  for (int i = 0; i < kCount; ++i) {
    const std::size_t size = 20 + static_cast<std::size_t>(i) % 1400;
    std::memset(payload, static_cast<int>(i & 0xff), size);
    std::memcpy(payload, &i, sizeof i);
    ASSERT_EQ(::sendto(tx.get(), payload, size, 0, reinterpret_cast<const sockaddr*>(&where.addr), sizeof where.addr),
              static_cast<ssize_t>(size));
    if (i % 32 == 31) this->poll_until(b, c, [&] { return c.datagrams.size() >= static_cast<std::size_t>(i - 16); });
  }
  this->poll_until(b, c, [&] { return c.datagrams.size() == kCount; });
  ASSERT_EQ(c.datagrams.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const auto& d = c.datagrams[static_cast<std::size_t>(i)];
    ASSERT_EQ(d.size(), 20 + static_cast<std::size_t>(i) % 1400);
    int seq = -1;
    std::memcpy(&seq, d.data(), sizeof seq);
    EXPECT_EQ(seq, i);
    EXPECT_EQ(d.back(), static_cast<std::uint8_t>(i & 0xff));
    EXPECT_GT(c.kernel_ns[static_cast<std::size_t>(i)], 1'600'000'000'000'000'000ull) << "CLOCK_REALTIME ns";
    EXPECT_EQ(Endpoint::from_sockaddr(c.from[static_cast<std::size_t>(i)]).to_string(),
              "127.0.0.1:" + std::to_string(sender.port()));
  }
  EXPECT_EQ(b.counters().datagrams, static_cast<std::uint64_t>(kCount));
  (void)id;
}

TYPED_TEST(BackendTest, TcpBothDirectionsBackPressureAndClose) {
  TypeParam b(this->options());
  Fd listener = tcp_listen(parse_endpoint("127.0.0.1:0"), 4, TcpOptions{.nonblocking = false, .no_delay = true, .busy_poll_us = 0});
  const Endpoint where = local_endpoint(listener.get());
  const int id = b.add_tcp(tcp_connect(where, 1000));
  b.on_thread_start();
  Fd peer(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(peer.valid());

  // Outbound: many small messages (OUCH-sized) arrive whole and in order.
  std::vector<std::uint8_t> sent;
  Collector c;
  for (int i = 0; i < 500; ++i) {
    std::uint8_t msg[53];
    for (std::size_t k = 0; k < sizeof msg; ++k) msg[k] = static_cast<std::uint8_t>(i + static_cast<int>(k));
    while (!b.send(id, msg, sizeof msg)) b.poll(c);  // back-pressure: poll until the ring drains
    sent.insert(sent.end(), msg, msg + sizeof msg);
    b.poll(c);
  }
  std::vector<std::uint8_t> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    b.poll(c);
    std::uint8_t buf[4096];
    const ssize_t n = ::recv(peer.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.insert(got.end(), buf, buf + n);
  }
  EXPECT_EQ(got, sent);

  // A single message larger than the send ring is refused whole.
  std::vector<std::uint8_t> huge(8192, 1);
  EXPECT_FALSE(b.send(id, huge.data(), huge.size()));
  EXPECT_GE(b.counters().send_backlog_full, 1u);

  // Inbound, then an orderly close.
  const char hello[] = "server says hello";
  ASSERT_EQ(::send(peer.get(), hello, sizeof hello, 0), static_cast<ssize_t>(sizeof hello));
  this->poll_until(b, c, [&] { return c.stream.size() >= sizeof hello; });
  EXPECT_EQ(std::memcmp(c.stream.data(), hello, sizeof hello), 0);
  peer.reset();
  this->poll_until(b, c, [&] { return c.closed_socket == id; });
  EXPECT_EQ(c.closed_socket, id);
  EXPECT_EQ(c.closed_error, 0);
}

TYPED_TEST(BackendTest, PollingAllocatesNothing) {
  TypeParam b(this->options());
  Fd rx = udp_receiver(parse_endpoint("127.0.0.1:0"));
  const Endpoint where = local_endpoint(rx.get());
  b.add_udp(std::move(rx), true);
  b.on_thread_start();
  Fd tx = udp_sender();
  Collector c;
  c.record = false;
  const char msg[64] = {};
  for (int i = 0; i < 100; ++i) {  // warm-up
    ::sendto(tx.get(), msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&where.addr), sizeof where.addr);
    this->poll_until(b, c, [&] { return c.count == static_cast<std::uint64_t>(i + 1); });
  }
  const hft::testing::AllocationScope scope;
  for (int i = 0; i < 2000; ++i) {
    ::sendto(tx.get(), msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&where.addr), sizeof where.addr);
    const auto target = c.count + 1;
    while (c.count < target) b.poll(c);
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

TEST(UringProbe, DescribesWhatTheKernelOffers) {
  const UringFeatures f = probe_io_uring();
  const std::string text = f.describe();
  EXPECT_NE(text.find("io_uring"), std::string::npos);
  if (f.available) {
    EXPECT_NE(text.find("multishot"), std::string::npos);
  } else {
    EXPECT_FALSE(f.error.empty());
  }
}

}  // namespace
}  // namespace hft::net
