// SPSC ring: throughput and round-trip latency between two pinned threads, hft::core::SpscRing
// against boost::lockfree::spsc_queue (the baseline) in the same binary and run.
//
// The host is a noisy 2-vCPU VM whose cross-core latency drifts when the hypervisor moves vCPUs,
// so each benchmark alternates the two implementations in short rounds (fresh queues and threads
// each round) and reports the median round of each: drift hits both alike instead of biasing
// the ratio.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>
#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "core/compiler.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"

namespace {

constexpr std::size_t kCapacity = 4096;
constexpr std::uint64_t kItemsPerRound = 4'000'000;
constexpr int kRounds = 9;
constexpr int kTripsPerRound = 40'000;
constexpr int kWarmupTrips = 4'000;

// A pipeline-sized event: 56 bytes, so a ring cell (sequence + event) is one cache line.
struct Event56 {
  std::uint64_t seq;
  std::uint64_t payload[6];
};

template <class T>
struct HftQueue {
  hft::core::SpscRing<T> q{kCapacity};
  bool push(const T& v) noexcept { return q.try_push(v); }
  bool pop(T& v) noexcept { return q.try_pop(v); }
  std::size_t pop_batch(T* out, std::size_t n) noexcept { return q.try_pop_batch(out, n); }
};

template <class T>
struct BoostQueue {
  boost::lockfree::spsc_queue<T, boost::lockfree::capacity<kCapacity>> q;
  bool push(const T& v) noexcept { return q.push(v); }
  bool pop(T& v) noexcept { return q.pop(v); }
  std::size_t pop_batch(T* out, std::size_t n) noexcept { return q.pop(out, n); }
};

template <class T>
T make_item(std::uint64_t i) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(i);
  } else {
    T t{};
    t.seq = i;
    return t;
  }
}
template <class T>
std::uint64_t item_seq(const T& t) {
  if constexpr (std::is_integral_v<T>) return t;
  else return t.seq;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Items per second for one round: the producer (pinned to CPU 0) pushes every item; the consumer
// (CPU 1) pops one at a time or drains batches of up to 64, as a pipeline stage does. A full or
// empty queue is waited on with one `pause`, for both implementations alike.
//
// Each thread works on locals only: the queue pointer is copied in, the consumer keeps its
// checks in a register and writes the outcome once, and the clock starts once both threads are
// pinned and ready. An earlier version captured `ok` and the queue's unique_ptr by reference:
// the atomics in push and pop are compiler barriers, so the consumer stored `ok` once per item
// and both threads reloaded `q` from the producer's stack once per item. Whether `ok` and `q`
// shared a cache line (or a 128-byte prefetch pair) depended on the frame layout of each
// template instance, so some rows paid a false-sharing miss per item and others did not (the
// u64 single-pop row, with the most items per second, worst), and thread start-up (which CPU the
// consumer first ran on, before pinning) was inside the timed interval.
template <class Q, class T>
double throughput_round(bool batch, bool& ok) {
  auto owner = std::make_unique<Q>();
  Q* const queue = owner.get();
  std::atomic<int> ready{0};
  std::atomic<bool> consumer_ok{true};
  std::thread consumer([queue, batch, &ready, &consumer_ok] {
    hft::bench::pin_if_possible(1);
    ready.fetch_add(1, std::memory_order_acq_rel);
    while (ready.load(std::memory_order_acquire) != 2) hft::core::cpu_relax();
    std::uint64_t expected = 0;
    bool good = true;
    alignas(64) T buf[64];
    while (expected < kItemsPerRound) {
      const std::size_t n = batch ? queue->pop_batch(buf, 64) : (queue->pop(buf[0]) ? 1 : 0);
      if (n == 0) hft::core::cpu_relax();
      for (std::size_t i = 0; i < n; ++i) good &= item_seq(buf[i]) == expected++;
    }
    consumer_ok.store(good, std::memory_order_relaxed);
  });
  hft::bench::pin_if_possible(0);
  while (ready.load(std::memory_order_acquire) != 1) hft::core::cpu_relax();
  const std::uint64_t t0 = hft::core::monotonic_ns();
  ready.store(2, std::memory_order_release);
  for (std::uint64_t i = 0; i < kItemsPerRound; ++i) {
    const T item = make_item<T>(i);
    while (!queue->push(item)) hft::core::cpu_relax();
  }
  consumer.join();
  const std::uint64_t t1 = hft::core::monotonic_ns();
  ok &= consumer_ok.load(std::memory_order_relaxed);
  return static_cast<double>(kItemsPerRound) * 1e9 / static_cast<double>(t1 - t0);
}

template <class T>
void BM_Throughput(benchmark::State& state) {
  const bool batch = state.range(0) != 0;
  std::vector<double> hft_rates, boost_rates;
  bool ok = true;
  for (auto _ : state) {
    for (int r = 0; r < kRounds; ++r) {
      hft_rates.push_back(throughput_round<HftQueue<T>, T>(batch, ok));
      boost_rates.push_back(throughput_round<BoostQueue<T>, T>(batch, ok));
    }
  }
  if (!ok) state.SkipWithError("an item was lost, duplicated or reordered");
  state.counters["hft_Mps"] = median(hft_rates) / 1e6;
  state.counters["boost_Mps"] = median(boost_rates) / 1e6;
  state.counters["ratio"] = median(hft_rates) / median(boost_rates);
}

// Ping-pong: the measuring thread (CPU 0) pushes a TSC stamp into one queue; an echo thread
// (CPU 1) pops it and pushes it back on a second queue. Every round trip after warm-up is
// recorded in an HdrHistogram-style histogram.
template <class Q>
void round_trip_round(hft::core::Histogram& hist) {
  auto ping = std::make_unique<Q>();
  auto pong = std::make_unique<Q>();
  std::atomic<bool> done{false};
  std::thread echo([&] {
    hft::bench::pin_if_possible(1);
    std::uint64_t v = 0;
    while (!done.load(std::memory_order_relaxed)) {
      if (ping->pop(v))
        while (!pong->push(v)) hft::core::cpu_relax();
    }
  });
  hft::bench::pin_if_possible(0);
  const auto& clk = hft::core::tsc_clock();
  for (int i = 0; i < kWarmupTrips + kTripsPerRound; ++i) {
    const std::uint64_t t0 = hft::core::rdtsc();
    while (!ping->push(t0)) hft::core::cpu_relax();
    std::uint64_t back = 0;
    while (!pong->pop(back)) {
    }
    const std::uint64_t t1 = hft::core::rdtscp();
    if (i >= kWarmupTrips) hist.record(clk.to_ns(t1 - back));
  }
  done = true;
  echo.join();
}

void BM_RoundTrip(benchmark::State& state) {
  hft::core::Histogram h_hft(1, 10'000'000'000ull, 3), h_boost(1, 10'000'000'000ull, 3);
  for (auto _ : state) {
    for (int r = 0; r < kRounds; ++r) {
      round_trip_round<HftQueue<std::uint64_t>>(h_hft);
      round_trip_round<BoostQueue<std::uint64_t>>(h_boost);
    }
  }
  for (auto [name, h] : {std::pair{"hft", &h_hft}, std::pair{"boost", &h_boost}}) {
    const std::string n(name);
    state.counters[n + "_p50_ns"] = static_cast<double>(h->value_at_percentile(50));
    state.counters[n + "_p99_ns"] = static_cast<double>(h->value_at_percentile(99));
    state.counters[n + "_p99.9_ns"] = static_cast<double>(h->value_at_percentile(99.9));
  }
}

BENCHMARK_TEMPLATE(BM_Throughput, std::uint64_t)->Name("ring/throughput/u64/single_pop")->Arg(0)->Iterations(1)->Repetitions(1)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, std::uint64_t)->Name("ring/throughput/u64/batch_pop")->Arg(1)->Iterations(1)->Repetitions(1)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, Event56)->Name("ring/throughput/event56/single_pop")->Arg(0)->Iterations(1)->Repetitions(1)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Throughput, Event56)->Name("ring/throughput/event56/batch_pop")->Arg(1)->Iterations(1)->Repetitions(1)->UseRealTime();
BENCHMARK(BM_RoundTrip)->Name("ring/roundtrip/u64")->Iterations(1)->Repetitions(1)->UseRealTime();

void summarize(const hft::bench::Results& r) {
  fmt::print("\n== SPSC ring: hft::core::SpscRing vs boost::lockfree::spsc_queue ({} CPUs, median of {} alternating rounds) ==\n",
             std::thread::hardware_concurrency(), kRounds);
  for (const char* name : {"ring/throughput/u64/batch_pop", "ring/throughput/u64/single_pop",
                           "ring/throughput/event56/batch_pop", "ring/throughput/event56/single_pop"}) {
    const auto it = r.find(name);
    if (it == r.end()) continue;
    const auto& x = it->second;
    fmt::print("{:<36} hft {:7.1f} M/s   boost {:7.1f} M/s   ratio {:.2f}x\n", name, x.counter("hft_Mps"),
               x.counter("boost_Mps"), x.counter("ratio"));
  }
  if (const auto it = r.find("ring/roundtrip/u64"); it != r.end()) {
    const auto& x = it->second;
    for (const char* p : {"p50", "p99", "p99.9"})
      fmt::print("{:<36} hft {:7.0f} ns    boost {:7.0f} ns    ratio {:.2f}\n", fmt::format("ring/roundtrip/u64 {}", p),
                 x.counter(fmt::format("hft_{}_ns", p)), x.counter(fmt::format("boost_{}_ns", p)),
                 x.counter(fmt::format("hft_{}_ns", p)) / x.counter(fmt::format("boost_{}_ns", p)));
  }
  const auto tp = r.find("ring/throughput/u64/batch_pop");
  const auto rt = r.find("ring/roundtrip/u64");
  if (tp != r.end() && rt != r.end()) {
    const bool tp_ok = tp->second.counter("ratio") >= 1.2;
    const bool rt_ok = rt->second.counter("hft_p50_ns") <= rt->second.counter("boost_p50_ns");
    fmt::print("targets: throughput >= 1.20x boost: {}; round-trip p50 <= boost: {}\n", tp_ok ? "met" : "MISSED",
               rt_ok ? "met" : "MISSED");
  }
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
