#include "bench/support/bench_main.hpp"

#include <cstring>
#include <thread>
#include <vector>

#include "core/topology.hpp"

namespace hft::bench {
namespace {

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  explicit CollectingReporter(Results& results) : results_(results) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      const bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
      if (!median && !single) continue;
      Result res;
      res.name = r.run_name.function_name;
      res.real_ns_per_iter = r.GetAdjustedRealTime();
      for (const auto& [k, c] : r.counters) res.counters[k] = c.value;
      results_[res.name] = res;
    }
  }

 private:
  Results& results_;
};

}  // namespace

bool pin_if_possible(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return false;
  return core::pin_current_thread(cpu).ok;
}

int run(int argc, char** argv, void (*summarize)(const Results&)) {
  std::vector<char*> args(argv, argv + argc);
  bool has_reps = false;
  for (int i = 1; i < argc; ++i) has_reps |= std::strncmp(argv[i], "--benchmark_repetitions", 23) == 0;
  static char reps[] = "--benchmark_repetitions=5";
  static char aggregates[] = "--benchmark_report_aggregates_only=true";
  if (!has_reps) {
    args.push_back(reps);
    args.push_back(aggregates);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  Results results;
  CollectingReporter reporter(results);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (summarize != nullptr) summarize(results);
  return 0;
}

}  // namespace hft::bench
