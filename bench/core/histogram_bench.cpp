// Cost of recording one latency sample: hft::core::Histogram::record against the common
// alternative of appending raw samples to a pre-reserved vector (to sort at the end).
#include <cstdint>
#include <random>
#include <vector>

#include "bench/support/bench_main.hpp"
#include "core/histogram.hpp"

namespace {

std::vector<std::uint64_t> samples() {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> d(6.0, 1.2);  // ~400 ns median with a long tail
  std::vector<std::uint64_t> v(1 << 16);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  const auto values = samples();
  hft::core::Histogram h(1, 60'000'000'000ull, 3);
  std::size_t i = 0;
  for (auto _ : state) {
    h.record(values[i++ & (values.size() - 1)]);
  }
  benchmark::DoNotOptimize(h.total_count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord)->Name("histogram/record/hft");

void BM_VectorAppend(benchmark::State& state) {
  const auto values = samples();
  std::vector<std::uint64_t> raw;
  raw.reserve(1 << 26);
  std::size_t i = 0;
  for (auto _ : state) {
    if (raw.size() == raw.capacity()) raw.clear();
    raw.push_back(values[i++ & (values.size() - 1)]);
  }
  benchmark::DoNotOptimize(raw.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VectorAppend)->Name("histogram/record/vector_baseline");

void BM_HistogramP999(benchmark::State& state) {
  const auto values = samples();
  hft::core::Histogram h(1, 60'000'000'000ull, 3);
  for (auto v : values) h.record(v);
  for (auto _ : state) benchmark::DoNotOptimize(h.value_at_percentile(99.9));
}
BENCHMARK(BM_HistogramP999)->Name("histogram/percentile/hft");

}  // namespace
