// Issue 11: a flash-crash day from the generator (hft-itch gen --scenario flash-crash) replayed
// through hftd's real parse, book and strategy stages, with the real Storm Guard evaluated every
// 10 ms of feed time on the mids the book stage publishes (the egress stage's formula). The crash
// takes the stock NORMAL -> WARN -> STORM on volatility, the strategy sees it, and after the fall it
// steps back down one level at a time, each only after the dwell and with the 25 % margin.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gateways/itch/decoder.hpp"
#include "pipeline/risk/storm_guard.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "tests/pipeline/book/test_util.hpp"
#include "venue/sim/day_generator.hpp"

namespace hft::pipeline {
namespace {

constexpr std::uint64_t kNs = 1'000'000'000ull;
constexpr std::uint64_t kCrashAt = 14 * 3600 * kNs;

struct Move {
  std::uint64_t ts;
  risk::StormTransition t;
};

TEST(StormReplay, FlashCrashDayDrivesStormGuardUpAndBackWithHysteresis) {
  sim::DayConfig c;
  c.messages = 1'500'000;
  c.stocks = 2;
  c.seed = 5;
  c.mix = sim::MessageMix::steady();
  c.burst_min = 1;  // an even flow: a message about every 15 ms, so the mids move tick by tick
  c.burst_max = 2;
  c.scenario.kind = sim::Scenario::kFlashCrash;
  c.scenario.crash_at_ns = kCrashAt;
  c.scenario.crash_pct = 10;
  c.scenario.crash_seconds = 3;
  c.scenario.recovery_seconds = 60;
  sim::DayGenerator gen(c);
  const std::uint16_t locate = 1;
  const itch::Symbol symbol = gen.stocks()[0].symbol;
  const std::uint32_t max_locate = c.stocks;

  SymbolTable table{max_locate + 1};
  for (const auto& s : gen.stocks()) table.set(s.locate, s.symbol.key());
  core::SpscRing<RxMessage> rx{64};
  core::SpscRing<MdEvent> md{64};
  core::SpscRing<BookEvent> be{64};
  core::SpscRing<ExecReport> reports{64};
  core::SpscRing<OrderIntent> intents{256};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  Subscriptions subs{max_locate + 1};
  book::BookConfig bc;
  bc.orders = 1u << 17;
  bc.levels = 1u << 15;
  bc.max_locate = max_locate;
  book::BookSet books(bc);
  risk::ReferencePrices refs{max_locate + 1};
  ParseStage parse(rx, md, hop);
  BookStage book_stage(md, be, books, table, refs, subs, hop);
  StrategyStage strategy(be, reports, intents, table, subs, hop, 1'000'000'000);
  strategy::MarketMakerParams mm;
  mm.symbols = {std::string(symbol.view())};
  strategy.add("mm", strategy::MarketMaker(mm), mm.symbols);

  risk::StormGuard guard(max_locate + 1);
  guard.watch(locate);
  strategy.set_storm_state(&guard.published(), 2, 0.5);
  strategy.poll();  // resolves the symbols, subscribes the book stage

  risk::RiskLimits l;
  l.storm_vol_bps = 60;  // WARN at 30 bps of realized volatility over the window
  l.storm_window_ms = 1000;
  l.storm_min_dwell_ms = 2000;
  auto mid = [&](Locate x) noexcept {
    const risk::MarketView v = refs.view(x);
    return v.bid > 0 && v.ask > 0 ? (v.bid + v.ask) / 2 : v.reference;
  };
  auto spread = [](Locate) noexcept { return 0.0; };

  std::vector<Move> moves;
  std::uint8_t strategy_saw = 0;
  std::uint64_t next_eval = 0;
  std::string error;
  std::uint8_t buf[sim::kMaxMessageLength];
  while (const std::size_t len = gen.next(buf)) {
    std::uint64_t ts = 0;
    for (int i = 5; i < 11; ++i) ts = ts << 8 | buf[i];
    if (ts >= 34'200 * kNs && next_eval == 0) next_eval = ts;
    // Storm Guard's timer, in feed time, up to this message.
    while (next_eval != 0 && next_eval <= ts) {
      guard.evaluate(next_eval, l, mid, spread, 0, 0, 0,
                     [&](const risk::StormTransition& t) { moves.push_back({next_eval, t}); });
      next_eval += risk::StormGuard::kEvalIntervalNs;
    }
    RxMessage m{};
    m.length = static_cast<std::uint8_t>(len);
    std::memcpy(m.bytes.data(), buf, len);
    if (!rx.try_push(m) && error.empty()) error = "rx ring full";
    while (parse.poll() != 0 || book_stage.poll() != 0 || strategy.poll() != 0) {
    }
    const std::uint8_t s = strategy.context(0).storm().state;
    strategy_saw = s > strategy_saw ? s : strategy_saw;
    OrderIntent drop;
    while (intents.try_pop(drop)) {
    }
  }
  EXPECT_EQ(error, "");
  EXPECT_EQ(book_stage.counters().overflow, 0u);

  using S = risk::StormState;
  for (const Move& m : moves) {
    std::printf("%02llu:%02llu:%06.3f locate %u %s -> %s (%s) value %.1f threshold %.1f\n",
                static_cast<unsigned long long>(m.ts / kNs / 3600), static_cast<unsigned long long>(m.ts / kNs / 60 % 60),
                static_cast<double>(m.ts % (60 * kNs)) / 1e9, m.t.locate, risk::storm_state_name(m.t.from),
                risk::storm_state_name(m.t.to), risk::storm_cause_name(m.t.cause), m.t.value, m.t.threshold);
  }
  ASSERT_FALSE(moves.empty()) << "the crash moved nothing";
  // Calm before the crash.
  EXPECT_GE(moves.front().ts, kCrashAt) << "a transition before the crash: the day is calm until 14:00";
  // Up: NORMAL -> WARN -> STORM on volatility, within the fall.
  ASSERT_GE(moves.size(), 4u);
  EXPECT_EQ(moves[0].t.from, S::kNormal);
  EXPECT_EQ(moves[0].t.to, S::kWarn);
  EXPECT_EQ(moves[1].t.from, S::kWarn);
  EXPECT_EQ(moves[1].t.to, S::kStorm);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(moves[i].t.cause, risk::StormCause::kVolatility);
    EXPECT_EQ(moves[i].t.locate, locate);
    EXPECT_LE(moves[i].ts, kCrashAt + 3 * kNs + 100'000'000) << "rises during the fall";
  }
  EXPECT_EQ(strategy_saw, static_cast<std::uint8_t>(S::kStorm)) << "the strategy's ctx.storm() saw STORM";
  // Down, one level at a time, after the dwell, each with the value under the threshold's 25 % margin.
  S at = S::kStorm;
  std::uint64_t since = moves[1].ts;
  for (std::size_t i = 2; i < moves.size(); ++i) {
    const Move& m = moves[i];
    if (m.t.to > m.t.from) {  // a new rise (the recovery's own moves): allowed, but rises only
      at = m.t.to;
      since = m.ts;
      continue;
    }
    EXPECT_EQ(m.t.cause, risk::StormCause::kCalm);
    EXPECT_EQ(static_cast<int>(m.t.to), static_cast<int>(at) - 1) << "one level at a time";
    EXPECT_GE(m.ts - since, static_cast<std::uint64_t>(l.storm_min_dwell_ms) * 1'000'000) << "after the dwell";
    const double level = m.t.from == S::kStorm ? l.storm_vol_bps : l.storm_vol_bps / 2;
    EXPECT_LT(m.t.value * 1.25, level) << "hysteresis: below the threshold by the 25 % margin";
    at = m.t.to;
    since = m.ts;
  }
  EXPECT_EQ(at, S::kNormal) << "back to NORMAL after the recovery";
  EXPECT_LE(moves.size(), 10u) << "no flapping";
}

}  // namespace
}  // namespace hft::pipeline
