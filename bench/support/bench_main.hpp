#pragma once
// Shared main() for the benchmark binaries: runs Google Benchmark with repetitions (5 unless the
// command line says otherwise), keeps the median of each benchmark, and hands them to a summary
// function that prints the comparison against the baseline and its ratio.
#include <map>
#include <string>

#include <benchmark/benchmark.h>

namespace hft::bench {

struct Result {
  std::string name;                         // the name given with ->Name(), without arguments or suffixes
  double real_ns_per_iter = 0;              // median real time per iteration, ns
  std::map<std::string, double> counters;   // median of each counter (items_per_second, p50_ns, ...)
  [[nodiscard]] double counter(const std::string& key) const {
    const auto it = counters.find(key);
    return it == counters.end() ? 0.0 : it->second;
  }
};
using Results = std::map<std::string, Result>;

// Runs the registered benchmarks and then `summarize(results)`; returns main's exit code.
int run(int argc, char** argv, void (*summarize)(const Results&));

// Pins the calling thread to `cpu` when the host has more than one CPU; returns whether it did.
bool pin_if_possible(int cpu);

}  // namespace hft::bench
