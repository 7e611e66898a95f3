// hft-backtest's replay rate (tools/hft-backtest) over a generated day, against plain book replay
// of the same bytes (decode_blocks + ItchBookHandler into a BookSet: the baseline, no strategy, no
// simulated venue) in the same binary and run. The backtest runs twice: with no strategy (the
// sizing scan, the file reader and the simulated venue: with no stock traded, every order message
// stops at the venue) and with a market maker quoting 3 stocks (their messages through the parse,
// book and strategy stages, the 1 ms timers, the orders, the risk gate, the order manager, the
// venue's queues). Figures: docs/backtest.md ("Untraded stocks stop at the venue").
//
//   build/release/bin/bench_backtest                                   # 2M-message day, 100 stocks
//   HFT_BACKTEST_BENCH_MESSAGES=20000000 HFT_BACKTEST_BENCH_STOCKS=1000 build/release/bin/bench_backtest
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "gateways/itch/decoder.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "tools/hft-backtest/backtest.hpp"
#include "venue/sim/day_generator.hpp"

namespace {

using namespace hft;
namespace fs = std::filesystem;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Day {
  sim::DayConfig config;
  sim::DaySummary summary;
  std::vector<std::uint8_t> bytes;
  fs::path file, dir;
  std::vector<std::string> symbols;
};

const Day& day() {
  static const Day d = [] {
    Day out;
    out.config.messages = env_or("HFT_BACKTEST_BENCH_MESSAGES", 2'000'000);
    out.config.stocks = static_cast<std::uint32_t>(env_or("HFT_BACKTEST_BENCH_STOCKS", 100));
    out.config.seed = 7;
    out.bytes = sim::generate_binaryfile(out.config, &out.summary);
    out.dir = fs::temp_directory_path() / fmt::format("bench_backtest_{}", ::getpid());
    fs::create_directories(out.dir);
    out.file = out.dir / "day.itch";
    std::ofstream(out.file, std::ios::binary)
        .write(reinterpret_cast<const char*>(out.bytes.data()), static_cast<std::streamsize>(out.bytes.size()));
    for (std::size_t p = 0; p + 2 < out.bytes.size() && out.symbols.size() < 3;) {
      const std::size_t len = static_cast<std::size_t>(out.bytes[p] << 8 | out.bytes[p + 1]);
      if (out.bytes[p + 2] == 'R') {
        std::string s(reinterpret_cast<const char*>(&out.bytes[p + 2 + 11]), 8);
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out.symbols.push_back(s);
      }
      p += 2 + len;
    }
    return out;
  }();
  return d;
}

void BM_BookReplay(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  const Day& d = day();
  book::BookConfig c;
  c.orders = static_cast<std::uint32_t>(std::max<std::uint64_t>(d.summary.peak_live_orders * 2, 1024));
  c.levels = 1u << 20;
  c.max_locate = d.config.stocks;
  for (auto _ : state) {
    state.PauseTiming();
    auto books = std::make_unique<book::BookSet>(c);
    book::NullSink sink;
    book::ItchBookHandler handler(*books, sink);
    itch::DecodeStats stats;
    state.ResumeTiming();
    itch::decode_blocks(d.bytes.data(), d.bytes.size(), handler, stats);
    benchmark::DoNotOptimize(books->live_orders());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.summary.messages));
}

void BM_Backtest(benchmark::State& state) {
  hft::bench::pin_if_possible(0);
  const Day& d = day();
  const bool mm = state.range(0) != 0;
  const fs::path cfg = d.dir / (mm ? "mm.toml" : "none.toml");
  {
    std::ofstream f(cfg);
    f << "[risk]\nmax_order_quantity = 10000\nmax_notional_usd = 10000000\nprice_band_bps = 2000\n"
         "max_position = 100000\nmax_open_orders = 100\nmax_orders_per_second = 100000\norder_burst = 1000\n";
    if (mm)
      f << fmt::format("[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"{}\", \"{}\", \"{}\"]\nquote_size = 100\n",
                       d.symbols.at(0), d.symbols.at(1), d.symbols.at(2));
    f << "[backtest]\nfeed_latency = \"constant:5us\"\norder_latency = \"constant:10us\"\nresponse_latency = \"constant:10us\"\n";
  }
  const backtest::BacktestConfig c = backtest::load_config(cfg.string());
  std::uint64_t fills = 0;
  for (auto _ : state) {
    const backtest::Result r = backtest::run(c, {{d.file.string(), false}});
    fills = r.fills.size();
    benchmark::DoNotOptimize(r.state_hash);
  }
  state.counters["fills"] = static_cast<double>(fills);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.summary.messages));
}

BENCHMARK(BM_BookReplay)->Name("book/replay")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Backtest)->Name("backtest/no_strategy")->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Backtest)->Name("backtest/market_maker")->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void summarize(const hft::bench::Results& r) {
  auto rate = [&](const char* name) {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.counter("items_per_second") / 1e6;
  };
  const Day& d = day();
  const double base = rate("book/replay");
  fmt::print("\n== hft-backtest replay, {} messages, {} stocks (median, M msgs/s) ==\n", d.summary.messages, d.config.stocks);
  fmt::print("book replay (baseline)   {:7.2f}\n", base);
  fmt::print("backtest, no strategy    {:7.2f}   {:5.1f}x slower\n", rate("backtest/no_strategy"),
             rate("backtest/no_strategy") > 0 ? base / rate("backtest/no_strategy") : 0.0);
  fmt::print("backtest, market maker   {:7.2f}   {:5.1f}x slower ({} fills)\n", rate("backtest/market_maker"),
             rate("backtest/market_maker") > 0 ? base / rate("backtest/market_maker") : 0.0,
             r.count("backtest/market_maker") ? r.at("backtest/market_maker").counter("fills") : 0.0);
  std::error_code ec;
  fs::remove_all(d.dir, ec);
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
