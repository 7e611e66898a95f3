// GLIMPSE 5.0 snapshot recovery of a book of ~1M resting orders (issue 10's figure), against the
// baseline a receiver without snapshots has: replaying the day from sequence 1.
//
// Setup (not timed): an in-process venue (100 generated symbols, background flow up to 10,500
// resting orders a symbol) runs until its engine holds 1,000,000 resting orders; the feed goes to
// a UDP port nobody reads, and into a BinaryFILE capture (the day so far, for the baseline).
//
// Then the flow goes on at 20,000 messages/s (the venue is stepped while hftd fetches).
//
//   glimpse/build     the venue builds the snapshot (engine walk, ITCH encode, SoupBinTCP framing)
//   glimpse/recovery  what hftd does: GlimpseFetch (pipeline/stages/glimpse_fetch.hpp) connects
//                     to the venue's GLIMPSE port over loopback, logs in, receives the snapshot
//                     (the venue stepped on this thread between the client's polls), then the
//                     messages are applied to an empty BookSet (pipeline/book). The BookSet is
//                     allocated outside the timing.
//   replay/from_1     baseline: every message of the day so far applied to an empty BookSet
//                     (build_blocks on the capture, in memory: a lower bound of a replay, which
//                     over the network would also wait on the re-request server).
//
//   build/release/bin/bench_glimpse --benchmark_repetitions=5
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "gateways/files/binary_file.hpp"
#include "gateways/itch/decoder.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/stages/glimpse_fetch.hpp"
#include "venue/venue.hpp"

namespace {

using namespace hft;
constexpr std::uint32_t kTargetOrders = 1'000'000;

struct Day {
  std::unique_ptr<venue::Venue> venue;
  std::string capture;
  std::uint32_t resting = 0;
  std::uint64_t messages = 0;
  std::string error;
};

Day& day() {
  static Day instance = [] {
    Day d;
    core::logger().set_level(spdlog::level::warn);
    venue::VenueConfig c;
    c.symbols = venue::generate_symbols(100, 1);
    c.feed = net::parse_endpoint("127.0.0.1:9");  // discard: nobody reads it
    c.rerequest = net::parse_endpoint("127.0.0.1:0");
    c.ouch = net::parse_endpoint("127.0.0.1:0");
    c.glimpse = net::parse_endpoint("127.0.0.1:0");
    c.accounts = {venue::Account{"HFT01", "hft01pw", "HFTA"}};
    c.capture = (std::filesystem::temp_directory_path() / fmt::format("bench_glimpse_{}.itch", ::getpid())).string();
    c.engine.max_orders = 1u << 21;
    c.engine.max_levels = 1u << 17;
    c.engine.max_symbols = static_cast<std::uint32_t>(c.symbols.size() + 2);
    c.background.rate = 3'000'000;
    c.background.max_batch = 1u << 16;
    c.background.max_resting_per_symbol = 10'500;
    c.store.max_messages = 1u << 16;
    d.capture = c.capture;
    d.venue = std::make_unique<venue::Venue>(c);
    d.venue->start();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    for (std::uint64_t i = 0;; ++i) {
      d.venue->step(0);
      if (i % 64 == 0 && d.venue->summary().live_orders >= kTargetOrders) break;
      if (std::chrono::steady_clock::now() > give_up) {
        d.error = fmt::format("the book reached only {} orders in 3 minutes", d.venue->summary().live_orders);
        break;
      }
    }
    d.venue->set_background_rate(20'000);  // the market goes on at a normal rate while snapshots are taken
    const venue::VenueSummary s = d.venue->summary();
    d.resting = s.live_orders;
    d.messages = s.itch_messages;
    return d;
  }();
  return instance;
}

book::BookConfig book_config() {
  book::BookConfig b;
  b.orders = 1u << 21;
  b.levels = 1u << 17;
  b.max_locate = 128;
  return b;
}

void BM_build(benchmark::State& state) {
  Day& d = day();
  if (!d.error.empty()) return state.SkipWithError(d.error.c_str());
  std::vector<std::uint8_t> out;
  std::size_t messages = 0;
  for (auto _ : state) {
    out.clear();
    messages = d.venue->build_snapshot(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["messages"] = static_cast<double>(messages);
  state.counters["bytes"] = static_cast<double>(out.size());
  state.counters["resting"] = d.resting;
}

void BM_recovery(benchmark::State& state) {
  Day& d = day();
  if (!d.error.empty()) return state.SkipWithError(d.error.c_str());
  pipeline::GlimpseConfig g;
  g.enabled = true;
  g.endpoint = d.venue->glimpse_endpoint();
  g.username = "HFT01";
  g.password = "hft01pw";
  g.max_bytes = std::size_t{256} << 20;
  g.timeout_ns = 60'000'000'000;
  pipeline::GlimpseFetch fetch(g);
  std::uint64_t orders = 0, live = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto books = std::make_unique<book::BookSet>(book_config());
    book::NullSink sink;
    book::ItchBookHandler<book::NullSink> handler(*books, sink);
    itch::DecodeStats stats;
    state.ResumeTiming();
    fetch.start(core::monotonic_ns());
    pipeline::FetchStatus st;
    while ((st = fetch.poll(core::monotonic_ns())) == pipeline::FetchStatus::kBusy) d.venue->step(0);
    if (st != pipeline::FetchStatus::kDone) return state.SkipWithError(pipeline::to_string(fetch.failure()));
    const std::uint8_t* p = fetch.data();
    const std::uint8_t* end = p + fetch.size();
    while (p < end) {
      itch::decode_message(p + 1, *p, handler, stats);
      p += 1 + *p;
    }
    state.PauseTiming();
    orders = fetch.counters().add_orders;
    live = books->live_orders();
    books.reset();
    state.ResumeTiming();
  }
  state.counters["orders"] = static_cast<double>(orders);
  state.counters["book_orders"] = static_cast<double>(live);
}

void BM_replay(benchmark::State& state) {
  Day& d = day();
  if (!d.error.empty()) return state.SkipWithError(d.error.c_str());
  d.venue->feed_flush_capture();
  const files::MappedFile file(d.capture);
  std::uint64_t live = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto books = std::make_unique<book::BookSet>(book_config());
    book::NullSink sink;
    book::ItchBookHandler<book::NullSink> handler(*books, sink);
    itch::DecodeStats stats;
    state.ResumeTiming();
    book::build_blocks(file.data(), file.size(), handler, stats, true);
    state.PauseTiming();
    live = books->live_orders();
    books.reset();
    state.ResumeTiming();
  }
  state.counters["messages"] = static_cast<double>(d.messages);
  state.counters["book_orders"] = static_cast<double>(live);
}

BENCHMARK(BM_build)->Name("glimpse/build")->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_recovery)->Name("glimpse/recovery")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_replay)->Name("replay/from_1")->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

void summarize(const hft::bench::Results& r) {
  auto get = [&](const char* name) -> const hft::bench::Result* {
    const auto it = r.find(name);
    return it == r.end() ? nullptr : &it->second;
  };
  const auto* b = get("glimpse/build");
  const auto* g = get("glimpse/recovery");
  const auto* x = get("replay/from_1");
  if (b == nullptr || g == nullptr || x == nullptr) return;
  // With ->Unit(kMillisecond), the reported times are milliseconds.
  fmt::print("\n== GLIMPSE recovery of a {:.0f}-order book (median of repetitions) ==\n", b->counter("resting"));
  fmt::print("venue builds the snapshot: {:.1f} ms ({:.0f} messages, {:.1f} MB)\n", b->real_ns_per_iter,
             b->counter("messages"), b->counter("bytes") / 1e6);
  fmt::print("hftd fetches it over loopback and applies it: {:.1f} ms ({:.0f} orders in the book)\n",
             g->real_ns_per_iter, g->counter("book_orders"));
  fmt::print("baseline, replay of the day's {:.0f} messages from sequence 1 (in memory): {:.1f} ms; ratio {:.1f}x\n",
             x->counter("messages"), x->real_ns_per_iter, x->real_ns_per_iter / g->real_ns_per_iter);
  std::filesystem::remove(day().capture);
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
