// Decision time per market event of each strategy of the library (issue 13): the strategy's
// callback for one book change (every fourth event a trade print) through its real Context, with
// the intents it sends drained and answered (accepted; IOCs filled) so its state stays live.
// Baseline in the same run: the single-level market maker as it was configured before issue 13
// (market_maker defaults) and spread_capture.
//
//   build/release/bin/bench_strategies
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "pipeline/strategy/registry.hpp"

namespace {

using namespace hft;
using namespace hft::strategy;
using pipeline::ExecReport;
using pipeline::OrderIntent;
using pipeline::ReportType;

struct Desk {
  core::SpscRing<OrderIntent> out{4096};
  std::vector<BookView> books = std::vector<BookView>(8);
  Context ctx{1, "bench", &out, &books};
  std::uint64_t t = 34'200'000'000'000;
  std::uint64_t i = 0;
  Desk() {
    ctx.init_tables(8);
    for (Locate l : {Locate{1}, Locate{2}}) {
      ctx.subscribe(l);
      books[l].locate = l;
      std::memcpy(books[l].symbol.data(), l == 1 ? "AAA     " : "BBB     ", 8);
      books[l].stale = false;
      books[l].trading_state = 'T';
    }
  }
  void answer() {
    OrderIntent in;
    while (out.try_pop(in)) {
      ExecReport r{};
      r.order_id = in.order_id;
      r.locate = in.locate;
      r.side = in.side;
      r.strategy = 1;
      r.price = in.price;
      r.quantity = in.quantity;
      r.leaves = in.type == pipeline::IntentType::kCancel ? 0 : in.quantity;
      r.type = in.type == pipeline::IntentType::kNew       ? ReportType::kAccepted
               : in.type == pipeline::IntentType::kReplace ? ReportType::kReplaced
                                                           : ReportType::kCanceled;
      ctx.apply(r);
      if (in.type == pipeline::IntentType::kNew && in.tif == pipeline::TimeInForce::kIoc) {
        r.type = ReportType::kFill;
        r.leaves = 0;
        ctx.apply(r);
      }
    }
  }
};

template <class S>
void run_strategy(benchmark::State& state, S s) {
  Desk d;
  for (auto _ : state) {
    ++d.i;
    const Locate l = (d.i & 1) != 0 ? 1 : 2;
    d.t += 1'000'000;
    BookView& b = d.books[l];
    const auto mid = static_cast<std::int32_t>((l == 1 ? 1'000'000 : 2'000'000) + 100 * ((d.i * 7) % 13));
    b.bids[0] = {mid - 100, 300 + static_cast<std::uint32_t>(d.i % 5) * 100};
    b.asks[0] = {mid + 100, 300};
    b.timestamp = d.t;
    d.ctx.set_event(0, d.t);
    if (d.i % 4 == 0) {
      if constexpr (requires { s.on_trade(d.ctx, TradePrint{}); }) s.on_trade(d.ctx, TradePrint{l, mid, 200, 'B', d.t});
    } else if constexpr (requires { s.on_book(d.ctx, b); }) {
      s.on_book(d.ctx, b);
    }
    if constexpr (requires { s.on_timer(d.ctx, 0); })
      if (d.i % 64 == 0) s.on_timer(d.ctx, d.t);  // ~ a 1 ms timer at 64 events per ms
    benchmark::DoNotOptimize(d.ctx.intents_sent());
    d.answer();
  }
}

void BM_market_maker_baseline(benchmark::State& st) {
  MarketMakerParams p;
  p.symbols = {"AAA", "BBB"};
  p.max_position = 1'000'000'000;
  run_strategy(st, MarketMaker(p));
}
void BM_spread_capture_baseline(benchmark::State& st) {
  SpreadCaptureParams p;
  p.symbols = {"AAA", "BBB"};
  p.min_spread_ticks = 2;
  p.max_position = 1'000'000'000;
  run_strategy(st, SpreadCapture(p));
}
void BM_market_maker_ladder(benchmark::State& st) {
  MarketMakerParams p;
  p.symbols = {"AAA", "BBB"};
  p.levels = 3;
  p.min_edge_ticks = 1;
  p.max_spread_ticks = 50;
  p.vol_widen_ratio = 2;
  p.vol_pull_ratio = 5;
  p.stale_ms = 500;
  p.max_position = 1'000'000'000;
  run_strategy(st, MarketMaker(p));
}
void BM_execution_twap(benchmark::State& st) {
  ExecutionParams p;
  p.symbols = {"AAA"};
  Execution e(p);
  ParentSpec s;
  std::memcpy(s.symbol.data(), "AAA", 3);
  s.quantity = 1'000'000'000;
  s.duration_ns = 3'600'000'000'000ull;
  e.start(s);
  run_strategy(st, std::move(e));
}
void BM_momentum(benchmark::State& st) {
  MomentumParams p;
  p.symbols = {"AAA", "BBB"};
  p.bar_s = 0.01;
  p.breakout_bars = 20;
  p.volume_mult = 0.5;
  run_strategy(st, Momentum(p));
}
void BM_stat_arb(benchmark::State& st) {
  StatArbParams p;
  p.leg_a = "AAA";
  p.leg_b = "BBB";
  p.window = 120;
  p.sample_s = 0.001;
  p.entry_z = 1;
  p.exit_z = 0.2;
  run_strategy(st, StatArb(p));
}

BENCHMARK(BM_market_maker_baseline)->Name("market_maker_baseline");
BENCHMARK(BM_spread_capture_baseline)->Name("spread_capture_baseline");
BENCHMARK(BM_market_maker_ladder)->Name("market_maker_ladder");
BENCHMARK(BM_execution_twap)->Name("execution_twap");
BENCHMARK(BM_momentum)->Name("momentum");
BENCHMARK(BM_stat_arb)->Name("stat_arb");

void summarize(const hft::bench::Results& r) {
  const auto base = r.count("market_maker_baseline") ? r.at("market_maker_baseline").real_ns_per_iter : 0.0;
  fmt::print("\nDecision time per event (median of the repetitions, ns; ratio to market_maker_baseline):\n");
  for (const auto& [name, res] : r)
    fmt::print("  {:<26} {:>8.1f} ns  x{:.2f}\n", name, res.real_ns_per_iter, base > 0 ? res.real_ns_per_iter / base : 0.0);
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
