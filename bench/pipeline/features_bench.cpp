// Feature computation per book event (pipeline/features). A generated day (1M messages, 1000
// stocks) is built once through the books and the feature driver, recording each update the
// engine receives (stock, L3 event, depth after it); the benchmarks then replay that stream into
// a fresh engine: update + values() per event, for the seed set, the whole set, and mid only (the
// baseline: what BookView already did). `features/per_event/*` times each event alone with the
// TSC and reports the median and p99 (rdtsc overhead, ~10 ns here, included).
//
//   build/release/bin/bench_features
//   HFT_FEATURES_BENCH_MESSAGES=3000000 build/release/bin/bench_features --benchmark_filter=seed
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "pipeline/features/book_driver.hpp"
#include "venue/sim/day_generator.hpp"

namespace {

using namespace hft;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Update {
  std::uint16_t locate;
  features::Event event;
  features::Depth depth;
};

struct Recorder {
  const features::FeatureEngine* engine = nullptr;
  std::vector<Update>* out = nullptr;
  bool wants(std::uint16_t) noexcept { return true; }
  void before(std::uint16_t, std::uint64_t) noexcept {}
  void after(std::uint16_t l, const features::Event& e) { out->push_back({l, e, *engine->depth(l)}); }
};

constexpr std::uint32_t kStocks = 1000;

const std::vector<Update>& stream() {
  static const std::vector<Update> s = [] {
    sim::DayConfig c;
    c.messages = env_or("HFT_FEATURES_BENCH_MESSAGES", 1'000'000);
    c.stocks = kStocks;
    c.seed = 7;
    sim::DaySummary summary;
    const std::vector<std::uint8_t> day = sim::generate_binaryfile(c, &summary);
    book::BookConfig bc;
    bc.orders = static_cast<std::uint32_t>(std::max<std::uint64_t>(summary.peak_live_orders * 2, 1024));
    bc.levels = 1u << 20;
    bc.max_locate = kStocks;
    auto books = std::make_unique<book::BookSet>(bc);
    features::FeatureEngine engine(features::Params{}, features::bit(features::Feature::kMid), kStocks, kStocks);
    std::vector<Update> out;
    out.reserve(c.messages);
    Recorder rec{&engine, &out};
    features::FeatureBookHandler<Recorder> handler(*books, engine, rec);
    itch::DecodeStats stats;
    itch::decode_blocks(day.data(), day.size(), handler, stats);
    return out;
  }();
  return s;
}

void BM_Replay(benchmark::State& state, features::FeatureMask set) {
  hft::bench::pin_if_possible(0);
  const auto& s = stream();
  std::uint64_t events = 0;
  double sink = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto engine = std::make_unique<features::FeatureEngine>(features::Params{}, set, kStocks, kStocks);
    features::Values v;
    state.ResumeTiming();
    for (const Update& u : s) {
      engine->update(u.locate, u.event, u.depth);
      engine->values(u.locate, v);
      sink += v.v[0];
    }
    events += s.size();
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

void BM_PerEvent(benchmark::State& state, features::FeatureMask set) {
  hft::bench::pin_if_possible(0);
  const auto& s = stream();
  const core::TscClock& clock = core::tsc_clock();
  std::vector<std::uint32_t> ticks(s.size());
  double p50 = 0, p99 = 0, overhead = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto engine = std::make_unique<features::FeatureEngine>(features::Params{}, set, kStocks, kStocks);
    features::Values v;
    double sink = 0;
    state.ResumeTiming();
    for (std::size_t i = 0; i < s.size(); ++i) {
      const Update& u = s[i];
      const std::uint64_t t0 = core::rdtscp();
      engine->update(u.locate, u.event, u.depth);
      engine->values(u.locate, v);
      sink += v.v[0];
      ticks[i] = static_cast<std::uint32_t>(core::rdtscp() - t0);
    }
    state.PauseTiming();
    benchmark::DoNotOptimize(sink);
    std::vector<std::uint32_t> empty(1001);
    for (auto& e : empty) {
      const std::uint64_t t0 = core::rdtscp();
      e = static_cast<std::uint32_t>(core::rdtscp() - t0);
    }
    std::nth_element(empty.begin(), empty.begin() + 500, empty.end());
    overhead = double(clock.to_ns(empty[500]));
    auto sorted = ticks;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    p50 = double(clock.to_ns(sorted[sorted.size() / 2]));
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() * 99 / 100, sorted.end());
    p99 = double(clock.to_ns(sorted[sorted.size() * 99 / 100]));
    engine.reset();
    state.ResumeTiming();
  }
  state.counters["p50_ns"] = p50;
  state.counters["p99_ns"] = p99;
  state.counters["rdtsc_ns"] = overhead;
  state.SetItemsProcessed(static_cast<std::int64_t>(s.size() * state.iterations()));
}

constexpr features::FeatureMask kMidOnly = features::bit(features::Feature::kMid);
// The seed set without fractional differentiation (O(window) per mid change, 1458 weights at d = 0.4).
constexpr features::FeatureMask kSeedNoFrac =
    features::kSeedSet & ~(features::bit(features::Feature::kFracPrice) | features::bit(features::Feature::kFracVolume));

BENCHMARK_CAPTURE(BM_Replay, mid, kMidOnly)->Name("features/replay/mid_only")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Replay, seed, features::kSeedSet)->Name("features/replay/seed")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Replay, seed_no_frac, kSeedNoFrac)->Name("features/replay/seed_no_frac")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Replay, all, features::kAllSet)->Name("features/replay/all")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_PerEvent, mid, kMidOnly)->Name("features/per_event/mid_only")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_PerEvent, seed, features::kSeedSet)->Name("features/per_event/seed")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_PerEvent, seed_no_frac, kSeedNoFrac)->Name("features/per_event/seed_no_frac")->Unit(benchmark::kMillisecond)->UseRealTime();

void summarize(const hft::bench::Results& r) {
  auto get = [&](const char* name) -> const hft::bench::Result* {
    const auto it = r.find(name);
    return it == r.end() ? nullptr : &it->second;
  };
  fmt::print("\n== features per book event, {} events of a generated day, {} stocks (medians) ==\n", stream().size(),
             kStocks);
  for (const char* set : {"mid_only", "seed", "seed_no_frac", "all"}) {
    const auto* rep = get(fmt::format("features/replay/{}", set).c_str());
    const auto* per = get(fmt::format("features/per_event/{}", set).c_str());
    const double mean = rep != nullptr && rep->counter("items_per_second") > 0 ? 1e9 / rep->counter("items_per_second") : 0;
    fmt::print("{:14} mean {:7.1f} ns/event", set, mean);
    if (per != nullptr)
      fmt::print("   per event p50 {:6.0f} ns  p99 {:6.0f} ns  (rdtsc pair {:3.0f} ns)", per->counter("p50_ns"),
                 per->counter("p99_ns"), per->counter("rdtsc_ns"));
    fmt::print("\n");
  }
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
