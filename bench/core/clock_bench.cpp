// Cost of reading the time: TSC (rdtsc, rdtscp, the calibrated clock) against clock_gettime and
// std::chrono::steady_clock (the vDSO path).
#include <chrono>
#include <ctime>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"

namespace {

void BM_Rdtsc(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hft::core::rdtsc());
}
BENCHMARK(BM_Rdtsc)->Name("clock/rdtsc");

void BM_Rdtscp(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hft::core::rdtscp());
}
BENCHMARK(BM_Rdtscp)->Name("clock/rdtscp");

void BM_TscClockNow(benchmark::State& state) {
  const auto& c = hft::core::tsc_clock();
  for (auto _ : state) benchmark::DoNotOptimize(c.now());
}
BENCHMARK(BM_TscClockNow)->Name("clock/tsc_clock_now");

void BM_ClockGettime(benchmark::State& state) {
  for (auto _ : state) {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockGettime)->Name("clock/clock_gettime_monotonic");

void BM_SteadyClock(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_SteadyClock)->Name("clock/steady_clock");

}  // namespace
