// all_on includes per-strategy limits on every order's strategy and Reg SHO on every 4th symbol;
// all_on includes the circuit breaker's and Storm Guard's byte per order; all_on_storm has every 8th
// symbol in Storm Guard STORM (the restricted path, mostly refusals there).
// Pre-trade risk: the full check of a new order by the gate of issue 11 (all of its checks, the
// new ones on with limits the orders stay inside, and with its defaults: the new ones off) against the gate before
// it (eight checks, kept here verbatim as the baseline), in the same run. Each check includes
// what the egress stage does around it: the market view (or reference price) of the order's
// locate, its exposure, and the TSC read for the rate buckets. `risk/per_check/*` times each
// check alone with the TSC and reports its median and p99 (the rdtscp pair, ~10 ns here, included
// and reported apart).
//
//   build/release/bin/bench_risk
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "core/compiler.hpp"
#include "pipeline/events.hpp"
#include "pipeline/risk/risk.hpp"

// The eight-check gate and its reference-price table as they were before issue 11.
namespace hft::risk_baseline {
using pipeline::Locate;
using pipeline::Price;
using pipeline::Quantity;
using pipeline::RejectReason;
using risk::Exposure;
using risk::RiskLimits;

class ReferencePrices {
 public:
  explicit ReferencePrices(std::size_t locates) : prices_(locates) {}
  void set(Locate locate, Price price) noexcept {
    if (locate < prices_.size()) prices_[locate].store(price, std::memory_order_relaxed);
  }
  [[nodiscard]] Price get(Locate locate) const noexcept {
    return locate < prices_.size() ? prices_[locate].load(std::memory_order_relaxed) : 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return prices_.size(); }

 private:
  std::vector<std::atomic<Price>> prices_;
};

class RiskGate {
 public:
  explicit RiskGate(const RiskLimits& limits, double ticks_per_second) noexcept
      : limits_(limits), ticks_per_second_(ticks_per_second), tokens_(limits.order_burst) {}

  // A new order. `now_ticks`: TSC (or clock) ticks for the rate bucket.
  RejectReason check_new(const pipeline::OrderIntent& in, const Exposure& ex, Price reference,
                         std::uint32_t open_orders, std::uint64_t now_ticks) noexcept {
    if (const RejectReason r = check_common(in.price, in.quantity, reference); r != RejectReason::kNone) return count(r);
    const std::int64_t q = in.quantity;
    if (in.side == pipeline::Side::kBuy ? ex.position + ex.open_buy + q > limits_.max_position
                                        : ex.position - ex.open_sell - q < -limits_.max_position)
      return count(RejectReason::kPositionLimit);
    if (open_orders >= limits_.max_open_orders) return count(RejectReason::kOpenOrderLimit);
    if (!take_token(now_ticks)) return count(RejectReason::kOrderRate);
    ++passed_;
    return RejectReason::kNone;
  }

  // A replace to `price`/`quantity` of an order with `leaves` working on side `side`.
  // `in.quantity` is the leaves wanted after the replace (not the OUCH total, which counts what
  // already executed; pipeline/events.hpp): the position can grow by at most their difference.
  RejectReason check_replace(const pipeline::OrderIntent& in, Quantity leaves, const Exposure& ex, Price reference,
                             std::uint64_t now_ticks) noexcept {
    if (const RejectReason r = check_common(in.price, in.quantity, reference); r != RejectReason::kNone) return count(r);
    const std::int64_t growth = static_cast<std::int64_t>(in.quantity) - static_cast<std::int64_t>(leaves);
    if (growth > 0 && (in.side == pipeline::Side::kBuy ? ex.position + ex.open_buy + growth > limits_.max_position
                                                       : ex.position - ex.open_sell - growth < -limits_.max_position))
      return count(RejectReason::kPositionLimit);
    if (!take_token(now_ticks)) return count(RejectReason::kOrderRate);
    ++passed_;
    return RejectReason::kNone;
  }

  // Cancels are never refused by limits: they only reduce risk.

  void set_kill_switch(bool on) noexcept { kill_.store(on, std::memory_order_seq_cst); }
  [[nodiscard]] bool kill_switch() const noexcept { return kill_.load(std::memory_order_relaxed); }
  void set_halted(bool on) noexcept { halted_.store(on, std::memory_order_relaxed); }
  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_relaxed); }

  // Limits may change at run time (from the control plane, applied on this stage's thread).
  void set_limits(const RiskLimits& limits) noexcept {
    limits_ = limits;
    if (tokens_ > limits_.order_burst) tokens_ = limits_.order_burst;
  }
  [[nodiscard]] const RiskLimits& limits() const noexcept { return limits_; }

  [[nodiscard]] std::uint64_t rejected(RejectReason r) const noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < rejects_.size() ? rejects_[i] : 0;
  }
  [[nodiscard]] std::uint64_t passed() const noexcept { return passed_; }
  [[nodiscard]] std::uint64_t rejected_total() const noexcept {
    std::uint64_t t = 0;
    for (auto v : rejects_) t += v;
    return t;
  }

 private:
  RejectReason check_common(Price price, Quantity quantity, Price reference) const noexcept {
    if (kill_switch()) return RejectReason::kKillSwitch;
    if (halted()) return RejectReason::kHalted;
    if (quantity == 0 || quantity > limits_.max_order_quantity) return RejectReason::kMaxOrderQuantity;
    if (price <= 0 || static_cast<std::int64_t>(quantity) * price > limits_.max_notional) return RejectReason::kMaxNotional;
    if (reference <= 0) return limits_.require_reference_price ? RejectReason::kNoReferencePrice : RejectReason::kNone;
    const std::int64_t off = price > reference ? price - reference : reference - price;
    if (off * 10'000 > static_cast<std::int64_t>(limits_.price_band_bps) * reference) return RejectReason::kPriceBand;
    return RejectReason::kNone;
  }

  bool take_token(std::uint64_t now_ticks) noexcept {
    if (last_ticks_ != 0 && now_ticks > last_ticks_) {
      tokens_ += static_cast<double>(now_ticks - last_ticks_) / ticks_per_second_ * limits_.max_orders_per_second;
      if (tokens_ > limits_.order_burst) tokens_ = limits_.order_burst;
    }
    last_ticks_ = now_ticks;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  RejectReason count(RejectReason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    if (i < rejects_.size()) ++rejects_[i];
    return r;
  }

  RiskLimits limits_;
  double ticks_per_second_;
  double tokens_;
  std::uint64_t last_ticks_ = 0;
  std::uint64_t passed_ = 0;
  std::array<std::uint64_t, 32> rejects_{};
  alignas(core::kCacheLine) std::atomic<bool> kill_{false};
  std::atomic<bool> halted_{false};
};

}  // namespace hft::risk_baseline

namespace {

using namespace hft;
using pipeline::OrderIntent;
using pipeline::Price;
using pipeline::Side;

constexpr std::size_t kLocates = 1024;
constexpr std::size_t kOrders = 4096;

risk::RiskLimits permissive() {
  risk::RiskLimits l;
  l.max_orders_per_second = 1e12;  // the buckets never run dry: every order takes the full path
  l.order_burst = 1'000'000;
  return l;
}
risk::RiskLimits all_on() {
  risk::RiskLimits l = permissive();
  l.price_collar_bps = 100;
  l.reference_max_age_ms = 3'600'000;  // the fixture's market is stamped once, at start-up
  l.fat_finger_multiple = 100;
  l.max_symbol_notional = 10'000'000 * 10'000ll;
  l.duplicate_window_ms = 1;
  l.max_messages_per_second = 1e12;
  l.message_burst = 1'000'000;
  l.max_net_position = 1'000'000'000;
  l.max_gross_position = 1'000'000'000;
  l.max_gross_notional = 1'000'000'000 * 10'000ll;
  // Issue 11, second tranche: the breaker and Storm Guard cost the order one byte each (their
  // evaluation runs on the stage's timer, not per order).
  l.max_daily_loss = 1'000'000 * 10'000ll;
  l.max_drawdown = 1'000'000 * 10'000ll;
  l.storm_vol_bps = 100;
  l.storm_spread_bps = 100;
  // Third tranche: the collar in ticks, buying power, a restricted list of 8 symbols the orders
  // never name (the full scan is paid).
  l.price_collar_ticks = 10'000;
  l.max_buying_power = 1'000'000'000 * 10'000ll;
  for (std::uint32_t i = 0; i < 8; ++i) l.restricted[l.restricted_count++] = 0x5A5A5A5A00000000ull + i;
  // Fourth tranche: per-strategy limits on every strategy the orders name (0..3: position,
  // notional, order rate, loss) and Reg SHO in force on every 4th symbol (Current sets the flag).
  for (std::size_t s = 0; s < 4; ++s)
    l.strategy[s] = risk::StrategyLimits{1'000'000, 1'000'000'000 * 10'000ll, 1e12, 1'000'000 * 10'000ll};
  return l;
}

struct Fixture {
  std::vector<OrderIntent> orders;
  std::vector<risk::Exposure> exposure;
  risk::ReferencePrices market{kLocates};
  risk_baseline::ReferencePrices refs{kLocates};
  Fixture() : exposure(kLocates) {
    const std::uint64_t now = core::rdtsc();
    for (std::size_t l = 1; l < kLocates; ++l) {
      const Price mid = 1'000'000 + static_cast<Price>(l) * 100;
      market.set_touch(static_cast<pipeline::Locate>(l), mid - 100, mid + 100, now);
      market.set(static_cast<pipeline::Locate>(l), mid, 200, now);
      market.set_state(static_cast<pipeline::Locate>(l), 'T', now);
      refs.set(static_cast<pipeline::Locate>(l), mid);
      exposure[l].position = static_cast<std::int64_t>(l % 7) * 100 - 300;
      exposure[l].open_buy = 100;
      exposure[l].open_sell = 100;
    }
    std::uint32_t x = 12345;
    for (std::size_t i = 0; i < kOrders; ++i) {
      x = x * 1664525u + 1013904223u;
      OrderIntent in{};
      in.locate = static_cast<pipeline::Locate>(1 + x % (kLocates - 1));
      in.side = (x >> 12) & 1 ? Side::kBuy : Side::kSell;
      in.quantity = 100 + (x >> 16) % 400;
      in.price = 1'000'000 + static_cast<Price>(in.locate) * 100 + static_cast<Price>((x >> 8) % 200) - 100;
      in.strategy = static_cast<std::uint8_t>(x % 4);
      in.type = pipeline::IntentType::kNew;
      orders.push_back(in);
    }
  }
};
Fixture& fixture() {
  static Fixture f;
  return f;
}

// The gate's clock is the TSC, as in the egress stage.
double ticks_per_second() { return core::tsc_clock().ticks_per_ns() * 1e9; }

template <class Check>
void loop(benchmark::State& state, Check&& check) {
  hft::bench::pin_if_possible(0);
  Fixture& f = fixture();
  std::uint64_t refused = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const OrderIntent& in = f.orders[i];
    i = (i + 1) % kOrders;
    refused += check(in) != pipeline::RejectReason::kNone;
  }
  benchmark::DoNotOptimize(refused);
  state.counters["refused"] = static_cast<double>(refused);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

template <class Check>
void per_check(benchmark::State& state, Check&& check) {
  hft::bench::pin_if_possible(0);
  Fixture& f = fixture();
  const core::TscClock& clock = core::tsc_clock();
  constexpr std::size_t kSamples = 200'000;
  std::vector<std::uint32_t> ticks(kSamples);
  double p50 = 0, p99 = 0, overhead = 0;
  std::uint64_t refused = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kSamples; ++i) {
      const OrderIntent& in = f.orders[i % kOrders];
      const std::uint64_t t0 = core::rdtscp();
      refused += check(in) != pipeline::RejectReason::kNone;
      ticks[i] = static_cast<std::uint32_t>(core::rdtscp() - t0);
    }
    state.PauseTiming();
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
    state.ResumeTiming();
  }
  benchmark::DoNotOptimize(refused);
  state.counters["p50_ns"] = p50;
  state.counters["p99_ns"] = p99;
  state.counters["rdtsc_ns"] = overhead;
  state.counters["refused"] = static_cast<double>(refused);
}

// The egress stage's call, before and after issue 11.
struct Baseline {
  risk_baseline::RiskGate gate{permissive(), ticks_per_second()};
  pipeline::RejectReason operator()(const OrderIntent& in) noexcept {
    Fixture& f = fixture();
    return gate.check_new(in, f.exposure[in.locate], f.refs.get(in.locate), 10, core::rdtsc());
  }
};
struct Current {
  risk::RiskGate gate;
  risk::Totals totals{300'000, 100'000, -50'000, 30'000'000'000};  // elsewhere: $3M gross
  std::vector<std::uint8_t> storm = std::vector<std::uint8_t>(kLocates, 0);  // Storm Guard's modes
  // `stormy`: every 8th symbol in STORM (only risk-reducing orders pass there).
  std::vector<std::unique_ptr<risk::StrategyLedger>> ledgers;  // per-strategy limits: each strategy's own
  bool reg_sho = false;  // Reg SHO in force on every 4th symbol
  explicit Current(const risk::RiskLimits& l, bool stormy = false) : gate(l, ticks_per_second()) {
    gate.set_totals(&totals);
    gate.set_storm_modes(storm.data(), storm.size());
    if (stormy)
      for (std::size_t i = 0; i < storm.size(); i += 8) storm[i] = 1;
    for (std::uint8_t s = 0; s < 4; ++s) {
      if (!l.strategy[s].any()) continue;
      reg_sho = true;
      ledgers.push_back(std::make_unique<risk::StrategyLedger>(kLocates));
      for (std::size_t x = 0; x < kLocates; ++x) ledgers.back()->exposure[x] = fixture().exposure[x];
      gate.set_strategy_ledger(s, ledgers.back().get());
    }
  }
  pipeline::RejectReason operator()(const OrderIntent& in) noexcept {
    Fixture& f = fixture();
    risk::MarketView m = f.market.view(in.locate);
    m.symbol = 0x4141414100000000ull + in.locate;  // as the egress stage fills it (SymbolTable)
    m.short_sale_restricted = reg_sho && (in.locate & 3) == 0;
    return gate.check_new(in, f.exposure[in.locate], m, 10, core::rdtsc());
  }
};

void BM_Baseline(benchmark::State& s) { Baseline c; loop(s, c); }
void BM_Defaults(benchmark::State& s) { Current c(permissive()); loop(s, c); }
void BM_AllOn(benchmark::State& s) { Current c(all_on()); loop(s, c); }
void BM_AllOnStorm(benchmark::State& s) { Current c(all_on(), true); loop(s, c); }
void BM_PerBaseline(benchmark::State& s) { Baseline c; per_check(s, c); }
void BM_PerDefaults(benchmark::State& s) { Current c(permissive()); per_check(s, c); }
void BM_PerAllOn(benchmark::State& s) { Current c(all_on()); per_check(s, c); }
void BM_PerAllOnStorm(benchmark::State& s) { Current c(all_on(), true); per_check(s, c); }

BENCHMARK(BM_Baseline)->Name("risk/new_order/baseline_8_checks");
BENCHMARK(BM_Defaults)->Name("risk/new_order/defaults");
BENCHMARK(BM_AllOn)->Name("risk/new_order/all_on");
BENCHMARK(BM_AllOnStorm)->Name("risk/new_order/all_on_storm");
BENCHMARK(BM_PerBaseline)->Name("risk/per_check/baseline_8_checks")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PerDefaults)->Name("risk/per_check/defaults")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PerAllOn)->Name("risk/per_check/all_on")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PerAllOnStorm)->Name("risk/per_check/all_on_storm")->Unit(benchmark::kMillisecond)->UseRealTime();

void summarize(const hft::bench::Results& r) {
  auto get = [&](const std::string& name) -> const hft::bench::Result* {
    const auto it = r.find(name);
    return it == r.end() ? nullptr : &it->second;
  };
  fmt::print("\n== pre-trade risk, full check of a new order ({} orders over {} locates; medians) ==\n", kOrders,
             kLocates);
  const auto* base = get("risk/new_order/baseline_8_checks");
  for (const char* v : {"baseline_8_checks", "defaults", "all_on", "all_on_storm"}) {
    const auto* loopr = get(fmt::format("risk/new_order/{}", v));
    const auto* per = get(fmt::format("risk/per_check/{}", v));
    fmt::print("{:18}", v);
    if (loopr != nullptr) {
      fmt::print(" mean {:5.1f} ns/check", loopr->real_ns_per_iter);
      if (base != nullptr && base->real_ns_per_iter > 0)
        fmt::print(" ({:4.2f}x baseline)", loopr->real_ns_per_iter / base->real_ns_per_iter);
    }
    if (per != nullptr)
      fmt::print("   alone p50 {:4.0f} ns  p99 {:4.0f} ns  (rdtscp pair {:2.0f} ns)", per->counter("p50_ns"),
                 per->counter("p99_ns"), per->counter("rdtsc_ns"));
    fmt::print("\n");
  }
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
