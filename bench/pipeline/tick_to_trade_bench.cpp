// bench_tick_to_trade (issue 17): hftd's real stages and runner in-process, fed real MoldUDP64
// packets of a generated day, orders captured instead of sent (bench/pipeline/tick_to_trade_rig.hpp).
// Reports "packet handed to the net stage -> order bytes ready to send" for the fused one-thread
// layout and the two-thread one, with the same run's baseline: the same packets with no decision
// (the probe watches a symbol the day does not have), timed from the packet's hand-over to the
// moment every message of it went through the book, the strategy and the egress (the rings
// between the stages empty; the next packet waits for that, so no packet queues behind another). Also the stages' own hop histograms (hftd's names).
//
//   bench_tick_to_trade [--packets N] [--every K] [--gap-ns G] [--stocks S] [--runs R]
//                       [--layout fused|split|inline|all] [--cpus A,B] [--no-baseline | --baseline-only]
//                       [--no-run-to-completion]
//
// --layout inline runs the fused runner's passes on the main thread (Runner::run_once) with no
// pacing: that is what perf/callgrind.sh --t2t counts instructions of.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/pipeline/tick_to_trade_rig.hpp"

namespace {

using namespace hft::bench::t2t;

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

void print_row(const char* layout, const char* what, const HopFigures& f) {
  std::printf("%-7s %-48s %8llu %8llu %8llu %8llu %9llu\n", layout, what, static_cast<unsigned long long>(f.count),
              static_cast<unsigned long long>(f.p50), static_cast<unsigned long long>(f.p99),
              static_cast<unsigned long long>(f.p999), static_cast<unsigned long long>(f.max));
}

const char* name_of(Layout l) { return l == Layout::kFused ? "fused" : l == Layout::kSplit ? "split" : "inline"; }

int usage() {
  std::fprintf(stderr,
               "usage: bench_tick_to_trade [--packets N] [--every K] [--gap-ns G] [--stocks S] [--runs R]\n"
               "                           [--layout fused|split|inline|all] [--cpus A,B] [--no-baseline | --baseline-only]\n"
               "                           [--no-run-to-completion]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  DayOptions d;
  std::uint64_t gap_ns = 5'000;
  int runs = 1, cpu_a = -1, cpu_b = -1;
  bool baseline = true, decision = true, rtc = true;
  std::vector<Layout> layouts{Layout::kFused, Layout::kSplit};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(usage());
      }
      return argv[++i];
    };
    if (a == "--packets") d.packets = std::strtoull(value(), nullptr, 10);
    else if (a == "--every") d.every = static_cast<std::uint32_t>(std::strtoul(value(), nullptr, 10));
    else if (a == "--gap-ns") gap_ns = std::strtoull(value(), nullptr, 10);
    else if (a == "--stocks") d.stocks = static_cast<std::uint32_t>(std::strtoul(value(), nullptr, 10));
    else if (a == "--warmup") d.warmup = static_cast<std::uint32_t>(std::strtoul(value(), nullptr, 10));
    else if (a == "--runs") runs = std::atoi(value());
    else if (a == "--no-baseline") baseline = false;
    else if (a == "--baseline-only") decision = false;
    else if (a == "--no-run-to-completion") rtc = false;
    else if (a == "--cpus") {
      const std::string v = value();
      cpu_a = std::atoi(v.c_str());
      const auto comma = v.find(',');
      cpu_b = comma == std::string::npos ? cpu_a : std::atoi(v.c_str() + comma + 1);
    } else if (a == "--layout") {
      const std::string_view v = value();
      if (v == "fused") layouts = {Layout::kFused};
      else if (v == "split") layouts = {Layout::kSplit};
      else if (v == "inline") layouts = {Layout::kInline};
      else if (v == "all") layouts = {Layout::kFused, Layout::kSplit};
      else return usage();
    } else return usage();
  }
  if (d.packets <= d.warmup + d.every || d.every < 3 || d.stocks == 0 || d.stocks > 65000 || runs < 1) return usage();

  const Day day = make_day(d);
  std::printf("bench_tick_to_trade: %zu MoldUDP64 packets (%llu messages, %llu triggers: one every %u packets after "
              "%u), %u stocks, a packet every %llu ns; %s, %u CPUs online\n",
              day.packets.size(), static_cast<unsigned long long>(day.messages),
              static_cast<unsigned long long>(day.triggers), d.every, d.warmup, d.stocks,
              static_cast<unsigned long long>(gap_ns), cpu_name().c_str(), std::thread::hardware_concurrency());
  std::printf("%-7s %-48s %8s %8s %8s %8s %9s  (ns)\n", "layout", "figure", "count", "p50", "p99", "p99.9", "max");
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    for (const Layout l : layouts) {
      RigOptions o;
      o.layout = l;
      o.gap_ns = l == Layout::kInline ? 0 : gap_ns;
      o.cpu_a = cpu_a;
      o.cpu_b = l == Layout::kSplit ? cpu_b : cpu_a;
      o.run_to_completion = rtc;
      // Baseline first, then the decision run, in the same process (alternating per run).
      if (baseline) {
        o.decide = false;
        Rig rig(day, o);
        const RigResult r = rig.run();
        print_row(name_of(l), "baseline: packet -> all of it through (no order)", r.pass);
      }
      if (!decision) continue;
      o.decide = true;
      Rig rig(day, o);
      const RigResult r = rig.run();
      print_row(name_of(l), "packet -> order bytes ready to send", r.t2t);
      print_row(name_of(l), "packet -> all of it through (with the order)", r.pass);
      for (const HopFigures& h : r.hops) print_row(name_of(l), ("  stage hop " + h.name).c_str(), h);
      if (r.orders != r.triggers || r.unmatched != 0 || r.risk_rejects != 0) {
        std::fprintf(stderr, "%s: %llu orders for %llu triggers (%llu unmatched, %llu risk refusals: %s)\n", name_of(l),
                     static_cast<unsigned long long>(r.orders), static_cast<unsigned long long>(r.triggers),
                     static_cast<unsigned long long>(r.unmatched), static_cast<unsigned long long>(r.risk_rejects), r.reject_reasons.c_str());
        ++failures;
      }
    }
  }
  return failures == 0 ? 0 : 1;
}
