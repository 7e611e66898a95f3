// Book building over an in-memory generated ITCH day: hft::book::BookSet against the map-based
// reference book (the baseline) in the same binary and run, plus decoding alone for scale and
// the day generator's own speed; and the appliance's book stage (pipeline/stages/book_stage.hpp)
// over the same day already normalized to MdEvents, with every stock subscribed (each message
// may publish depth) and with 10 subscribed (a typical configuration).
//
//   build/release/bin/bench_book                                  # 3M-message day, 1000 stocks
//   HFT_BOOK_BENCH_MESSAGES=20000000 build/release/bin/bench_book --benchmark_filter=book/build/hft
//   build/release/bin/bench_book --benchmark_filter=book/stage
//
// Each iteration builds the whole day into fresh books; pool construction is outside the timing.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "bench/support/bench_main.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/common/endian.hpp"
#include "gateways/itch/decoder.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
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

// The day as the parse stage hands it to the book stage (built once, outside any timing).
const std::vector<pipeline::MdEvent>& md_events() {
  static const std::vector<pipeline::MdEvent> events = [] {
    const Day& d = day();
    std::vector<pipeline::MdEvent> out;
    out.reserve(d.summary.messages);
    core::SpscRing<pipeline::RxMessage> rx(1024);
    core::SpscRing<pipeline::MdEvent> md(1024);
    core::Histogram hop(1, 10'000'000'000ull, 3);
    pipeline::ParseStage parse(rx, md, hop);
    auto drain = [&] {
      while (!rx.empty_approx()) {
        parse.poll();
        pipeline::MdEvent e;
        while (md.try_pop(e)) out.push_back(e);
      }
    };
    std::size_t off = 0;
    while (off + 2 <= d.bytes.size()) {  // BinaryFILE: 2-byte big-endian length, then the message
      const std::size_t len = wire::load_be16(d.bytes.data() + off);
      if (len == 0 || len > 50 || off + 2 + len > d.bytes.size()) break;
      pipeline::RxMessage m{};
      m.length = static_cast<std::uint8_t>(len);
      std::memcpy(m.bytes.data(), d.bytes.data() + off + 2, len);
      if (!rx.try_push(m)) {
        drain();
        (void)rx.try_push(m);
      }
      off += 2 + len;
    }
    drain();
    return out;
  }();
  return events;
}

// The book stage over the whole day: events pushed into its input ring in batches, the stage
// polled until the ring is empty, its output drained. kSubscribed 0: every stock subscribed.
template <std::uint32_t kSubscribed>
void BM_BookStage(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  const Day& d = day();
  const std::vector<pipeline::MdEvent>& events = md_events();
  const std::size_t locates = std::size_t{d.config.stocks} + 1;
  std::uint64_t messages = 0;
  std::uint64_t published = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto books = std::make_unique<book::BookSet>(book_config());
    pipeline::SymbolTable symbols(locates);
    risk::ReferencePrices refs(locates);
    pipeline::Subscriptions subs(locates);
    const std::uint32_t step = kSubscribed == 0 ? 1 : std::max<std::uint32_t>(d.config.stocks / kSubscribed, 1);
    for (std::uint32_t l = 1; l <= d.config.stocks; l += step) subs.set(static_cast<pipeline::Locate>(l));
    core::SpscRing<pipeline::MdEvent> in(4096);
    core::SpscRing<pipeline::BookEvent> out(4096);
    core::Histogram hop(1, 10'000'000'000ull, 3);
    pipeline::BookStage stage(in, out, *books, symbols, refs, subs, hop);
    state.ResumeTiming();
    std::size_t i = 0;
    while (i < events.size()) {
      i += in.try_push_batch(events.data() + i, std::min<std::size_t>(1024, events.size() - i));
      while (!in.empty_approx()) {
        stage.poll();
        while (out.front() != nullptr) {
          out.pop();
          ++published;
        }
      }
    }
    benchmark::DoNotOptimize(books->live_orders());
    state.PauseTiming();
    if (books->degraded() || books->stats().unknown_order != 0) state.SkipWithError("book degraded");
    messages += events.size();
    books.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
  state.counters["published_per_msg"] =
      benchmark::Counter(messages ? static_cast<double>(published) / static_cast<double>(messages) : 0.0);
}

BENCHMARK(BM_BuildHft<book::NullSink, true>)->Name("book/build/hft")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildHft<book::NullSink, false>)->Name("book/build/hft_no_prefetch")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildHft<CountingSink, true>)->Name("book/build/hft_top_events")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BookStage<0>)->Name("book/stage/all_subscribed")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BookStage<10>)->Name("book/stage/10_subscribed")->Unit(benchmark::kMillisecond)->UseRealTime();
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
  fmt::print("book stage, all   {:7.2f}   (MdEvents in, BookEvents out; every stock subscribed)\n",
             rate("book/stage/all_subscribed"));
  fmt::print("book stage, 10    {:7.2f}   (10 stocks subscribed)\n", rate("book/stage/10_subscribed"));
  fmt::print("reference (maps)  {:7.2f}   hft/reference {:5.1f}x\n", ref, ref > 0 ? hft / ref : 0.0);
  fmt::print("decode only       {:7.2f}\n", rate("book/parse_only"));
  fmt::print("generator         {:7.2f} in memory, {:5.2f} to a file (20M messages, 8000 stocks)\n",
             rate("sim/generate"), rate("sim/write_file"));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
