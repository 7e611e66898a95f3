#include <fmt/format.h>

#include "bench/support/bench_main.hpp"

namespace {

void summarize(const hft::bench::Results& r) {
  auto ns = [&](const char* name) {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.real_ns_per_iter;
  };
  fmt::print("\n== core costs (median ns per call) ==\n");
  fmt::print("histogram record   hft {:6.2f} ns   vector append baseline {:6.2f} ns\n", ns("histogram/record/hft"),
             ns("histogram/record/vector_baseline"));
  fmt::print("histogram p99.9    hft {:6.0f} ns per query (cold path)\n", ns("histogram/percentile/hft"));
  fmt::print("clock read         rdtsc {:5.2f}  rdtscp {:5.2f}  tsc_clock {:5.2f}  clock_gettime {:5.2f}  steady_clock {:5.2f} ns\n",
             ns("clock/rdtsc"), ns("clock/rdtscp"), ns("clock/tsc_clock_now"), ns("clock/clock_gettime_monotonic"),
             ns("clock/steady_clock"));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
