// The execution strategy (pipeline/strategy/execution.hpp): TWAP and VWAP parent orders against a
// scripted market. The test plays the venue: it accepts every child, fills a crossing IOC at the
// far touch, fills resting children a lot at a time as the market trades through them, and prints
// market trades every tick (which is what participation is measured against).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "pipeline/strategy/execution.hpp"

namespace hft::strategy {
namespace {

using pipeline::ExecReport;
using pipeline::IntentType;
using pipeline::OrderIntent;
using pipeline::ReportType;

constexpr Locate kL = 5;
constexpr std::uint64_t kMs = 1'000'000;

struct Market {
  core::SpscRing<OrderIntent> out{1024};
  std::vector<BookView> books = std::vector<BookView>(8);
  Context ctx{2, "exec", &out, &books};
  Execution ex;
  std::uint64_t now = 1'000 * kMs;
  Quantity print_per_tick = 1000;   // market volume per tick (others)
  int passive_fill_every = 5;       // ticks between fills of a resting child
  Quantity passive_lot = 100;
  std::vector<std::pair<Price, Quantity>> fills;  // every fill the strategy got
  int tick_count = 0;

  explicit Market(ExecutionParams p) : ex(std::move(p)) {
    ctx.init_tables(8);
    ctx.subscribe(kL);
    BookView& b = books[kL];
    b.locate = kL;
    std::memcpy(b.symbol.data(), "AAA     ", 8);
    b.stale = false;
    b.trading_state = 'T';
    b.bids[0] = {999'900, 5000};
    b.asks[0] = {1'000'100, 5000};
    b.timestamp = 34'200'000'000'000;
  }
  void report(const OrderIntent& in, ReportType t, Price px, Quantity q, Quantity leaves) {
    ExecReport r{};
    r.type = t;
    r.order_id = in.order_id;
    r.price = px;
    r.quantity = q;
    r.leaves = leaves;
    r.locate = kL;
    r.side = in.side;
    r.strategy = 2;
    const WorkingOrder* o = ctx.apply(r);
    if (t == ReportType::kFill) {
      fills.emplace_back(px, q);
      ex.on_fill(ctx, Fill{in.order_id, kL, in.side, px, q, leaves});
      ex.on_trade(ctx, TradePrint{kL, px, q, ' ', 0});  // our fill prints too
    } else {
      ex.on_order(ctx, OrderUpdate{o != nullptr && o->state != OrderState::kDone ? o : nullptr, in.order_id, t, {}, 0});
    }
  }
  // One tick of `dt_ms`: market prints, the strategy's timer, the venue's answers.
  void tick(std::uint64_t dt_ms = 100) {
    now += dt_ms * kMs;
    ++tick_count;
    const BookView& b = books[kL];
    if (print_per_tick != 0) ex.on_trade(ctx, TradePrint{kL, (b.best_bid() + b.best_ask()) / 2, print_per_tick, ' ', 0});
    // Resting children get a lot filled every few ticks.
    if (passive_fill_every > 0 && tick_count % passive_fill_every == 0) {
      for (const WorkingOrder& o : ctx.orders()) {
        if (o.id == 0 || o.state != OrderState::kWorking || o.leaves == 0) continue;
        const bool at_touch = o.side == Side::kBuy ? o.price >= b.best_bid() : o.price <= b.best_ask();
        if (!at_touch) continue;
        OrderIntent in{};
        in.order_id = o.id;
        in.side = o.side;
        const Quantity q = std::min(o.leaves, passive_lot);
        report(in, ReportType::kFill, o.price, q, o.leaves - q);
        break;
      }
    }
    ctx.set_event(0, b.timestamp);
    ex.on_timer(ctx, now);
    OrderIntent in;
    while (out.try_pop(in)) {
      if (in.type == IntentType::kNew) {
        report(in, ReportType::kAccepted, in.price, in.quantity, in.quantity);
        const bool crosses = in.side == Side::kBuy ? in.price >= b.best_ask() : in.price <= b.best_bid();
        if (in.tif == pipeline::TimeInForce::kIoc) {
          if (crosses) {
            const Price px = in.side == Side::kBuy ? b.best_ask() : b.best_bid();
            report(in, ReportType::kFill, px, in.quantity, 0);
          } else {
            report(in, ReportType::kCanceled, in.price, in.quantity, 0);
          }
        }
      } else if (in.type == IntentType::kCancel) {
        report(in, ReportType::kCanceled, 0, 0, 0);
      } else {
        report(in, ReportType::kReplaced, in.price, in.quantity, in.quantity);
      }
    }
  }
};

ExecutionParams params() {
  ExecutionParams p;
  p.symbols = {"AAA"};
  p.slice_s = 1.0;
  p.randomize = 0.2;
  return p;
}

ParentSpec spec(Algo algo, Side side, Quantity qty, double duration_s) {
  ParentSpec s;
  s.algo = algo;
  std::memcpy(s.symbol.data(), "AAA", 3);
  s.side = side;
  s.quantity = qty;
  s.duration_ns = static_cast<std::uint64_t>(duration_s * 1e9);
  return s;
}

TEST(ExecutionTwap, FinishesItsQuantityInItsWindowOnScheduleWithinCapAndLimit) {
  Market m(params());
  ParentSpec s = spec(Algo::kTwap, Side::kBuy, 5000, 60);
  s.max_participation = 0.2;
  s.limit = 1'000'200;
  const auto id = m.ex.start(s);
  ASSERT_NE(id, 0u);
  const Parent* p = m.ex.parent(id);
  double worst_lag = 0;
  while (p->active() && m.tick_count < 1000) {
    m.tick();
    if (p->state != ParentState::kWorking) break;
    // Never above the participation cap; never behind the linear schedule by more than 3 slices.
    ASSERT_LE(p->filled, 0.2 * static_cast<double>(p->market_volume) + 1e-9) << "tick " << m.tick_count;
    const double due = 5000.0 * static_cast<double>(m.now - p->start_ns) / 60e9;
    worst_lag = std::max(worst_lag, due - p->filled);
  }
  EXPECT_EQ(p->state, ParentState::kDone);
  EXPECT_EQ(p->filled, 5000u);
  EXPECT_LE(m.now, p->end_ns) << "done within the window";
  EXPECT_LT(worst_lag, 3 * 5000.0 / 60) << "within 3 slices of the schedule";
  for (const auto& [px, q] : m.fills) EXPECT_LE(px, 1'000'200) << "never above the limit";
  EXPECT_GT(p->children, 10u);
  EXPECT_EQ(p->arrival, 1'000'000);
  EXPECT_NEAR(p->shortfall_bps(), (p->avg_price() - 1'000'000) / 100.0, 1e-9);
  EXPECT_GT(p->market_vwap(), 0);
  std::printf("TWAP 5000 over 60 s: %u children (%u crossing), avg %.1f, IS %.2f bps, vs market VWAP %.2f bps, "
              "participation %.3f\n",
              p->children, p->crosses, p->avg_price(), p->shortfall_bps(), p->slippage_bps(), p->participation());
}

TEST(ExecutionTwap, AParticipationCapOrALimitItCannotMeetEndsExpiredWithTheShortfall) {
  Market m(params());
  m.print_per_tick = 100;  // 1,000 shares a second of market volume
  ParentSpec s = spec(Algo::kTwap, Side::kSell, 5000, 10);
  s.max_participation = 0.1;
  const auto id = m.ex.start(s);
  const Parent* p = m.ex.parent(id);
  while (p->active() && m.tick_count < 500) {
    m.tick();
    ASSERT_LE(p->filled, 0.1 * static_cast<double>(p->market_volume) + 1e-9) << "tick " << m.tick_count;
  }
  EXPECT_EQ(p->state, ParentState::kExpired);
  EXPECT_GT(p->filled, 0u);
  EXPECT_LT(p->filled, 5000u);
  EXPECT_LE(p->participation(), 0.1 + 1e-9);
  EXPECT_EQ(m.ctx.working_count(), 0u) << "no child left at the end";

  // A buy limited below the ask never crosses: only passive fills at or below the limit.
  Market n(params());
  ParentSpec l = spec(Algo::kTwap, Side::kBuy, 5000, 10);
  l.limit = 999'900;
  n.passive_fill_every = 20;
  const Parent* q = n.ex.parent(n.ex.start(l));
  while (q->active() && n.tick_count < 500) n.tick();
  EXPECT_EQ(q->state, ParentState::kExpired);
  EXPECT_EQ(q->crosses, 0u);
  for (const auto& [px, qty] : n.fills) EXPECT_LE(px, 999'900);
  EXPECT_LT(q->filled, 5000u);
}

TEST(ExecutionTwap, CancelPullsTheChild) {
  Market m(params());
  m.passive_fill_every = 0;
  const auto id = m.ex.start(spec(Algo::kTwap, Side::kBuy, 5000, 60));
  m.tick();
  m.tick();
  ASSERT_EQ(m.ctx.working_count(), 1u) << "a passive child rests";
  EXPECT_TRUE(m.ex.cancel(m.ctx, id));
  OrderIntent in;
  ASSERT_TRUE(m.out.try_pop(in));
  EXPECT_EQ(in.type, IntentType::kCancel);
  EXPECT_EQ(m.ex.parent(id)->state, ParentState::kCanceled);
  EXPECT_FALSE(m.ex.cancel(m.ctx, id)) << "already final";
}

TEST(ExecutionVwap, CumulativeFillsTrackTheProfile) {
  const std::string path = ::testing::TempDir() + "vwap_profile.csv";
  {
    std::ofstream f(path);
    f << "time,volume\n09:30,1000\n09:31,3000\n09:32,1000\n09:33,5000\n09:34,2000\n";
  }
  ExecutionParams p = params();
  p.loaded = VolumeProfile::load(path);
  Market m(p);
  m.passive_fill_every = 2;
  m.passive_lot = 200;
  ParentSpec s = spec(Algo::kVwap, Side::kBuy, 10'000, 240);
  s.start_tod_s = 9 * 3600 + 30 * 60;
  const auto id = m.ex.start(s);
  const Parent* par = m.ex.parent(id);
  const double expect[4] = {0.1, 0.4, 0.5, 1.0};  // cumulative profile at each minute's end
  for (int minute = 0; minute < 4; ++minute) {
    for (int i = 0; i < 600 && par->active(); ++i) m.tick();
    const double got = static_cast<double>(par->filled) / 10'000;
    // Tolerance: 5% of the quantity (a slice is 1/240 of the window; the profile changes its pace
    // at the bin edges, where the schedule of the next slice is already due).
    EXPECT_NEAR(got, expect[minute], 0.05) << "minute " << minute + 1;
  }
  EXPECT_EQ(par->state, ParentState::kDone);
  EXPECT_EQ(par->filled, 10'000u);
}

TEST(ExecutionVwap, ProfileErrorsNameTheLine) {
  const std::string path = ::testing::TempDir() + "bad_profile.csv";
  {
    std::ofstream f(path);
    f << "time,volume\n09:30,1000\n09:31,lots\n";
  }
  try {
    (void)VolumeProfile::load(path);
    FAIL() << "a bad row must not load";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(":3: expected"), std::string::npos) << e.what();
  }
}

TEST(ExecutionVwap, WithoutAProfileTheFlatScheduleFollowsTheLiveVolume) {
  // Volume doubles in the second half: the flat VWAP buys more there than a TWAP would.
  Market m(params());
  m.passive_fill_every = 1;
  m.passive_lot = 300;
  m.print_per_tick = 500;
  const Parent* p = m.ex.parent(m.ex.start(spec(Algo::kVwap, Side::kBuy, 6000, 60)));
  for (int i = 0; i < 300; ++i) m.tick();
  const Quantity first_half = p->filled;
  m.print_per_tick = 2000;
  while (p->active() && m.tick_count < 1000) m.tick();
  EXPECT_EQ(p->state, ParentState::kDone);
  EXPECT_LE(first_half, 3000u + 200u);
  EXPECT_LT(first_half, p->filled - first_half) << "more bought when the market trades more";
}

}  // namespace
}  // namespace hft::strategy
