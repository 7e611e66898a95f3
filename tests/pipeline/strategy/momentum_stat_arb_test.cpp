// Momentum and statistical arbitrage on scripted books: the test sets the books and prints, calls
// the strategy as the strategy stage does, and fills every marketable IOC at its limit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "pipeline/strategy/momentum.hpp"
#include "pipeline/strategy/stat_arb.hpp"

namespace hft::strategy {
namespace {

using pipeline::ExecReport;
using pipeline::IntentType;
using pipeline::OrderIntent;
using pipeline::ReportType;

struct Desk {
  core::SpscRing<OrderIntent> out{256};
  std::vector<BookView> books = std::vector<BookView>(8);
  Context ctx{4, "s", &out, &books};
  std::uint64_t t = 34'200'000'000'000;
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
  BookView& set(Locate l, Price mid) {
    BookView& b = books[l];
    b.bids[0] = {static_cast<std::int32_t>(mid - 100), 1000};
    b.asks[0] = {static_cast<std::int32_t>(mid + 100), 1000};
    b.timestamp = t;
    ctx.set_event(0, t);
    return b;
  }
  // Fills every new IOC at its price in full; returns what was sent.
  std::vector<OrderIntent> fill_all() {
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (out.try_pop(in)) {
      v.push_back(in);
      ExecReport r{};
      r.order_id = in.order_id;
      r.locate = in.locate;
      r.side = in.side;
      r.strategy = 4;
      r.price = in.price;
      r.type = ReportType::kAccepted;
      r.quantity = in.quantity;
      r.leaves = in.quantity;
      ctx.apply(r);
      r.type = ReportType::kFill;
      r.leaves = 0;
      ctx.apply(r);
    }
    return v;
  }
};

MomentumParams momentum_params() {
  MomentumParams p;
  p.symbols = {"AAA"};
  p.size = 100;
  p.fast_s = 2;
  p.slow_s = 10;
  p.bar_s = 1;
  p.breakout_bars = 10;
  p.volume_mult = 2;
  p.stop_bps = 20;
  p.take_bps = 50;
  p.max_hold_s = 30;
  return p;
}

// 20 s of a range-bound market with 1,000 shares a second, then a rise to the top of the range.
void range(Desk& d, Momentum& m) {
  for (int i = 0; i < 200; ++i) {
    d.t += 100'000'000;
    m.on_trade(d.ctx, TradePrint{1, 1'000'000, 100, 'B', d.t});
    m.on_book(d.ctx, d.set(1, 1'000'000 + (i % 4) * 100));  // 100.00 .. 100.03
  }
}

TEST(Momentum, EntersOnABreakoutWithVolumeAndExitsAtItsStop) {
  Desk d;
  Momentum m(momentum_params());
  range(d, m);
  EXPECT_TRUE(d.fill_all().empty()) << "no breakout in the range";
  // A breakout above 100.03 with 3x the usual volume in the bar.
  for (int i = 0; i < 5; ++i) {
    d.t += 100'000'000;
    m.on_trade(d.ctx, TradePrint{1, 1'000'500, 600, 'B', d.t});
    m.on_book(d.ctx, d.set(1, 1'000'500 + i * 100));
  }
  auto v = d.fill_all();
  ASSERT_EQ(v.size(), 1u) << "one entry";
  EXPECT_EQ(v[0].side, Side::kBuy);
  EXPECT_EQ(v[0].tif, pipeline::TimeInForce::kIoc);
  EXPECT_EQ(d.ctx.position(1).shares, 100);
  // The mid falls 20 bps below the entry: the stop sells it all.
  d.t += 100'000'000;
  m.on_book(d.ctx, d.set(1, 1'000'600));
  EXPECT_TRUE(d.fill_all().empty()) << "above the stop";
  d.t += 100'000'000;
  m.on_book(d.ctx, d.set(1, 998'400));
  v = d.fill_all();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::kSell);
  EXPECT_EQ(v[0].quantity, 100u);
  EXPECT_EQ(m.last_exit(), Momentum::Exit::kStop);
  EXPECT_EQ(d.ctx.position(1).shares, 0);
}

TEST(Momentum, NoEntryWithoutVolumeAndATimeStop) {
  Desk d;
  Momentum m(momentum_params());
  range(d, m);
  for (int i = 0; i < 5; ++i) {  // the same breakout on the usual volume
    d.t += 100'000'000;
    m.on_trade(d.ctx, TradePrint{1, 1'000'500, 100, 'B', d.t});
    m.on_book(d.ctx, d.set(1, 1'000'500 + i * 100));
  }
  EXPECT_TRUE(d.fill_all().empty()) << "a breakout without volume is not confirmed";
  EXPECT_EQ(m.entries(), 0u);
  // With volume it enters; held past max_hold_s at a flat price, the time stop closes it.
  for (int i = 0; i < 10; ++i) {
    d.t += 100'000'000;
    m.on_trade(d.ctx, TradePrint{1, 1'001'000, 2000, 'B', d.t});
    m.on_book(d.ctx, d.set(1, 1'001'000 + i * 100));
  }
  ASSERT_EQ(d.fill_all().size(), 1u);
  d.t += 31'000'000'000;
  d.set(1, 1'001'900);
  m.on_timer(d.ctx, 0);
  const auto v = d.fill_all();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].side, Side::kSell);
  EXPECT_EQ(m.last_exit(), Momentum::Exit::kTime);
}

StatArbParams pair_params() {
  StatArbParams p;
  p.leg_a = "AAA";
  p.leg_b = "BBB";
  p.window = 60;
  p.sample_s = 1;
  p.entry_z = 2;
  p.exit_z = 0.5;
  p.size_a = 100;
  p.max_position = 100;
  return p;
}

// B wanders; A = 2 x B plus a small oscillation (a stationary spread), one sample a second.
void history(Desk& d, StatArb& s, int n) {
  for (int i = 0; i < n; ++i) {
    d.t += 1'000'000'000;
    const Price b = 500'000 + static_cast<Price>(20'000 * std::sin(i * 0.05));
    const Price a = 2 * b + (i % 2 == 0 ? 300 : -300);
    d.set(2, b);
    s.on_book(d.ctx, d.set(1, a));
  }
}

TEST(StatArb, EntersBeyondEntryZWithBothLegsBalancedAndExitsInsideExitZ) {
  Desk d;
  StatArb s(pair_params());
  history(d, s, 60);
  EXPECT_TRUE(d.fill_all().empty()) << "z stays inside the entry threshold";
  EXPECT_NEAR(s.beta(), 1.0, 0.05) << "ln A = ln 2 + ln B: slope 1";
  // A jumps 0.5% rich against B.
  d.t += 1'000'000'000;
  const Price b = 500'000 + static_cast<Price>(20'000 * std::sin(60 * 0.05));
  d.set(2, b);
  s.on_book(d.ctx, d.set(1, 2 * b + 5'000));
  EXPECT_GT(s.z(), 2.0);
  const auto v = d.fill_all();
  ASSERT_EQ(v.size(), 2u) << "both legs in the same pass";
  const OrderIntent& a = v[0].locate == 1 ? v[0] : v[1];
  const OrderIntent& bo = v[0].locate == 1 ? v[1] : v[0];
  EXPECT_EQ(a.side, Side::kSell) << "A is rich: sell A";
  EXPECT_EQ(bo.side, Side::kBuy) << "buy B";
  EXPECT_EQ(a.quantity, 100u);
  const double expect_b = s.beta() * 100 * (2.0 * b + 5'000) / b;
  EXPECT_NEAR(static_cast<double>(bo.quantity), expect_b, 1.0) << "B = beta x qty A x price A / price B";
  EXPECT_EQ(d.ctx.position(1).shares, -100);
  // The spread comes back: held while |z| >= exit_z, both legs closed in the pass it falls inside.
  bool closed = false;
  for (int k = 0; k < 10 && !closed; ++k) {
    d.t += 1'000'000'000;
    d.set(2, b);
    s.on_book(d.ctx, d.set(1, 2 * b + (k % 2 == 0 ? 100 : -100)));
    const auto w = d.fill_all();
    if (std::fabs(s.z()) >= 0.5) {
      EXPECT_TRUE(w.empty()) << "z " << s.z() << " is outside the exit threshold";
      continue;
    }
    ASSERT_EQ(w.size(), 2u) << "z " << s.z();
    closed = true;
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(d.ctx.position(1).shares, 0);
  EXPECT_EQ(d.ctx.position(2).shares, 0);
}

TEST(StatArb, RefusesToEnterWhenALegIsStaleOrHalted) {
  Desk d;
  StatArb s(pair_params());
  history(d, s, 60);
  d.books[2].trading_state = 'H';
  d.t += 1'000'000'000;
  const Price b = 500'000 + static_cast<Price>(20'000 * std::sin(60 * 0.05));
  d.set(2, b);
  s.on_book(d.ctx, d.set(1, 2 * b + 5'000));
  EXPECT_TRUE(d.fill_all().empty());
  EXPECT_EQ(s.refused_stale(), 1u);
}

TEST(StrategyParams, RunTimeChangesAreCheckedByTypeRangeAndTheStrategy) {
  StatArbParams p = pair_params();
  EXPECT_EQ(param::set(p, "entry_z", "3"), "");
  EXPECT_EQ(p.entry_z, 3.0);
  EXPECT_NE(param::set(p, "exit_z", "4").find("exit_z (4.000000) must be below entry_z"), std::string::npos);
  EXPECT_EQ(p.exit_z, 0.5) << "unchanged after a refusal";
  EXPECT_NE(param::set(p, "window", "5").find("window: 5 is out of range [10, 4096]"), std::string::npos);
  EXPECT_NE(param::set(p, "window", "ten").find("not an integer"), std::string::npos);
  EXPECT_NE(param::set(p, "leg_a", "CCC").find("cannot be changed at run time"), std::string::npos);
  EXPECT_NE(param::set(p, "gamma", "1").find("unknown parameter \"gamma\" (known: leg_a, leg_b, window"), std::string::npos);
}

}  // namespace
}  // namespace hft::strategy
