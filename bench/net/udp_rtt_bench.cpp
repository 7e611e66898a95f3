// UDP round trip on loopback through each receive path: an echo thread (CPU 1) receives with the
// io_uring backend, the epoll backend, or a plain blocking recvfrom (the kernel wakes it), and
// answers with sendto; the measuring thread (CPU 0) sends, spins on a non-blocking recv for the
// answer, and records the round trip. Rounds alternate the three so host drift hits all alike.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "net/epoll_backend.hpp"
#include "net/socket.hpp"
#include "net/uring_backend.hpp"

namespace {

using namespace hft;

constexpr int kRounds = 5;
constexpr int kTripsPerRound = 4000;
constexpr int kWarmup = 400;
constexpr std::size_t kPayload = 64;  // a MoldUDP64 header and one ITCH add order

template <class Backend>
struct Echo {
  Backend* backend = nullptr;
  int socket = -1;
  void on_datagram(const net::Datagram& d) noexcept { backend->send_to(socket, d.data, d.size, d.from); }
  void on_stream_data(int, const std::uint8_t*, std::size_t) noexcept {}
  void on_stream_closed(int, int) noexcept {}
};

enum class Path { kUring, kEpoll, kBlocking };

void echo_thread(Path path, net::Fd fd, std::atomic<bool>& ready, std::atomic<bool>& stop) {
  hft::bench::pin_if_possible(1);
  net::BackendOptions o;
  o.busy_poll = true;
  if (path == Path::kBlocking) {
    net::set_nonblocking(fd.get(), false);
    timeval tv{0, 100'000};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ready = true;
    std::uint8_t buf[2048];
    while (!stop.load(std::memory_order_relaxed)) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) ::sendto(fd.get(), buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
    return;
  }
  auto run = [&](auto& backend) {
    Echo<std::remove_reference_t<decltype(backend)>> echo{&backend, backend.add_udp(std::move(fd), false)};
    backend.on_thread_start();
    ready = true;
    while (!stop.load(std::memory_order_relaxed)) backend.poll(echo);
  };
  if (path == Path::kUring) {
    net::UringBackend b(o);
    run(b);
  } else {
    net::EpollBackend b(o);
    run(b);
  }
}

void round_trips(Path path, core::Histogram& hist) {
  net::Fd server = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = net::local_endpoint(server.get());
  std::atomic<bool> ready{false}, stop{false};
  std::thread echo(echo_thread, path, std::move(server), std::ref(ready), std::ref(stop));
  while (!ready) std::this_thread::yield();
  hft::bench::pin_if_possible(0);
  net::Fd client = net::udp_sender();
  const auto& clk = core::tsc_clock();
  std::uint8_t msg[kPayload] = {}, back[2048];
  for (int i = 0; i < kWarmup + kTripsPerRound; ++i) {
    const std::uint64_t t0 = core::rdtsc();
    ::sendto(client.get(), msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&where.addr), sizeof where.addr);
    while (::recv(client.get(), back, sizeof back, MSG_DONTWAIT) <= 0) {
    }
    if (i >= kWarmup) hist.record(clk.to_ns(core::rdtscp() - t0));
  }
  stop = true;
  echo.join();
}

void BM_UdpRoundTrip(benchmark::State& state) {
  core::Histogram uring(1, 10'000'000'000ull, 3), epoll(1, 10'000'000'000ull, 3), blocking(1, 10'000'000'000ull, 3);
  const bool have_uring = net::probe_io_uring().available;
  for (auto _ : state) {
    for (int r = 0; r < kRounds; ++r) {
      if (have_uring) round_trips(Path::kUring, uring);
      round_trips(Path::kEpoll, epoll);
      round_trips(Path::kBlocking, blocking);
    }
  }
  for (auto [name, h] : {std::pair{"uring", &uring}, std::pair{"epoll", &epoll}, std::pair{"blocking", &blocking}}) {
    state.counters[std::string(name) + "_p50_ns"] = static_cast<double>(h->value_at_percentile(50));
    state.counters[std::string(name) + "_p99_ns"] = static_cast<double>(h->value_at_percentile(99));
  }
}
BENCHMARK(BM_UdpRoundTrip)->Name("net/udp_roundtrip")->Iterations(1)->Repetitions(1)->UseRealTime()->Unit(benchmark::kMillisecond);

void summarize(const hft::bench::Results& r) {
  const auto it = r.find("net/udp_roundtrip");
  if (it == r.end()) return;
  const auto& x = it->second;
  fmt::print("\n== UDP round trip on loopback, {}-byte datagrams, median-free: all {} rounds pooled ==\n", kPayload, kRounds);
  for (const char* p : {"uring", "epoll", "blocking"})
    fmt::print("{:<9} receive path   p50 {:7.0f} ns   p99 {:7.0f} ns\n", p, x.counter(fmt::format("{}_p50_ns", p)),
               x.counter(fmt::format("{}_p99_ns", p)));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
