// Book building over an in-memory generated ITCH day: hft::book::BookSet against the map-based
// reference book (the baseline) in the same binary and run, plus decoding alone for scale and
// the day generator's own speed.
//
//   build/release/bin/bench_book                                  # 3M-message day, 1000 stocks
//   HFT_BOOK_BENCH_MESSAGES=20000000 build/release/bin/bench_book --benchmark_filter=book/build/hft
//
// Each iteration builds the whole day into fresh books; pool construction is outside the timing.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "bench/support/bench_main.hpp"
#include "gateways/itch/decoder.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "venue/sim/day_generator.hpp"
#include "tests/pipeline/book/reference_book.hpp"

namespace {

using namespace hft;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Day {
  sim::DayConfig config;
  sim::DaySummary summary;
  std::vector<std::uint8_t> bytes;
};

const Day& day() {
  static const Day d = [] {
    Day out;
    out.config.messages = env_or("HFT_BOOK_BENCH_MESSAGES", 3'000'000);
    out.config.stocks = static_cast<std::uint32_t>(env_or("HFT_BOOK_BENCH_STOCKS", 1000));
    out.config.seed = 1;
    out.bytes = sim::generate_binaryfile(out.config, &out.summary);
    return out;
  }();
  return d;
}

book::BookConfig book_config() {
  const Day& d = day();
  book::BookConfig c;
  c.orders = static_cast<std::uint32_t>(std::max<std::uint64_t>(d.summary.peak_live_orders + d.summary.peak_live_orders / 4, 1024));
  c.levels = 1u << 20;
  c.max_locate = d.config.stocks;
  return c;
}

struct CountingSink {
  std::uint64_t tops = 0;
  std::uint64_t bid_sum = 0;
  void on_top_of_book(const book::TopOfBook& e) noexcept {
    ++tops;
    bid_sum += e.bid_price;
  }
};

// Prefetching block loop (book::build_blocks) when kPrefetch, else decode_blocks + the handler.
template <class Sink, bool kPrefetch>
void BM_BuildHft(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  const Day& d = day();
  std::uint64_t messages = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto books = std::make_unique<book::BookSet>(book_config());
    Sink sink;
    book::ItchBookHandler handler(*books, sink);
    itch::DecodeStats stats;
    state.ResumeTiming();
    if constexpr (kPrefetch) {
      book::build_blocks(d.bytes.data(), d.bytes.size(), handler, stats);
    } else {
      itch::decode_blocks(d.bytes.data(), d.bytes.size(), handler, stats);
    }
    benchmark::DoNotOptimize(books->live_orders());
    benchmark::DoNotOptimize(sink);
    state.PauseTiming();
    if (books->degraded() || books->stats().unknown_order != 0) state.SkipWithError("book degraded");
    messages += stats.messages;
    books.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

void BM_BuildReference(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  const Day& d = day();
  std::uint64_t messages = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto ref = std::make_unique<book::testing::ReferenceBook>(d.config.stocks);
    itch::DecodeStats stats;
    state.ResumeTiming();
    itch::decode_blocks(d.bytes.data(), d.bytes.size(), *ref, stats);
    benchmark::DoNotOptimize(ref->live_orders());
    state.PauseTiming();
    messages += stats.messages;
    ref.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

// Decoding alone: every message dispatched to a handler that reads one field of each.
struct TouchHandler {
  std::uint64_t sum = 0;
  void on_add_order(const itch::AddOrder& m) noexcept { sum += m.order_reference_number(); }
  void on_order_executed(const itch::OrderExecuted& m) noexcept { sum += m.order_reference_number(); }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) noexcept { sum += m.order_reference_number(); }
  void on_order_cancel(const itch::OrderCancel& m) noexcept { sum += m.order_reference_number(); }
  void on_order_delete(const itch::OrderDelete& m) noexcept { sum += m.order_reference_number(); }
  void on_order_replace(const itch::OrderReplace& m) noexcept { sum += m.new_order_reference_number(); }
};

void BM_ParseOnly(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  const Day& d = day();
  std::uint64_t messages = 0;
  for (auto _ : state) {
    TouchHandler h;
    itch::DecodeStats stats;
    itch::decode_blocks(d.bytes.data(), d.bytes.size(), h, stats);
    benchmark::DoNotOptimize(h.sum);
    messages += stats.messages;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

void BM_Generate(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  sim::DayConfig c;
  c.messages = static_cast<std::uint64_t>(state.range(0));
  c.stocks = 1000;
  c.seed = 2;
  std::uint64_t messages = 0;
  for (auto _ : state) {
    sim::DayGenerator gen(c);
    std::uint64_t bytes = 0;
    messages += gen.run([&](const std::uint8_t*, std::size_t len) { bytes += len; });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

void BM_WriteFile(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  sim::DayConfig c;
  c.messages = static_cast<std::uint64_t>(state.range(0));
  c.stocks = 8000;
  c.seed = 3;
  const std::string path =
      (std::filesystem::temp_directory_path() / fmt::format("hft_bench_day_{}.itch", ::getpid())).string();
  std::uint64_t messages = 0;
  for (auto _ : state) messages += sim::write_binaryfile(c, path).messages;
  std::filesystem::remove(path);
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

BENCHMARK(BM_BuildHft<book::NullSink, true>)->Name("book/build/hft")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildHft<book::NullSink, false>)->Name("book/build/hft_no_prefetch")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildHft<CountingSink, true>)->Name("book/build/hft_top_events")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildReference)->Name("book/build/reference_maps")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ParseOnly)->Name("book/parse_only")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Generate)->Name("sim/generate")->Arg(2'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_WriteFile)->Name("sim/write_file")->Arg(20'000'000)->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void summarize(const hft::bench::Results& r) {
  auto rate = [&](const char* name) {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.counter("items_per_second") / 1e6;
  };
  const Day& d = day();
  fmt::print("\n== book building, {} messages, {} stocks, peak {} resting orders (median, M msgs/s) ==\n",
             d.summary.messages, d.config.stocks, d.summary.peak_live_orders);
  fmt::print("mix: {}\n", sim::describe_mix(d.summary.counts));
  const double hft = rate("book/build/hft");
  const double ref = rate("book/build/reference_maps");
  fmt::print("hft book          {:7.2f}   (build_blocks: prefetching loop)\n", hft);
  fmt::print("hft, no prefetch  {:7.2f}   (decode_blocks + ItchBookHandler)\n", rate("book/build/hft_no_prefetch"));
  fmt::print("hft + top events  {:7.2f}\n", rate("book/build/hft_top_events"));
  fmt::print("reference (maps)  {:7.2f}   hft/reference {:5.1f}x\n", ref, ref > 0 ? hft / ref : 0.0);
  fmt::print("decode only       {:7.2f}\n", rate("book/parse_only"));
  fmt::print("generator         {:7.2f} in memory, {:5.2f} to a file (20M messages, 8000 stocks)\n",
             rate("sim/generate"), rate("sim/write_file"));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
