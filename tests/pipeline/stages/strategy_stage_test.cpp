#include "pipeline/stages/strategy_stage.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/alloc_counter.hpp"

#include <cstdio>
#include <cstring>
#include <tuple>

namespace hft::pipeline {
namespace {

struct StrategyRig {
  core::SpscRing<BookEvent> books{256};
  core::SpscRing<ExecReport> reports{256};
  core::SpscRing<OrderIntent> intents{256};
  SymbolTable symbols{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 1'000'000};

  StrategyRig() {
    symbols.set(5, itch::Symbol::from("AAPL").key());
    symbols.set(9, itch::Symbol::from("ZPROBE").key());
    strategy::MarketMakerParams mm;
    mm.symbols = {"AAPL"};
    stage.add("mm", strategy::MarketMaker(mm), mm.symbols);
    stage.add("probe", strategy::ProbeStrategy(strategy::ProbeParams{}), {"ZPROBE"});
    stage.poll();  // first timer tick resolves the symbols
  }
  static BookEvent depth(Locate l, std::int32_t bid, std::int32_t ask) {
    BookEvent e{};
    e.type = BookEventType::kDepthChange;
    e.locate = l;
    e.origin_tsc = core::rdtsc();
    e.stage_tsc = e.origin_tsc;
    e.timestamp = 34'200'000'000'000;
    if (bid > 0) e.bids[0] = {bid, 100};
    if (ask > 0) e.asks[0] = {ask, 100};
    return e;
  }
  std::vector<OrderIntent> drain() {
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (intents.try_pop(in)) v.push_back(in);
    return v;
  }
};

TEST(StrategyStage, ResolvesSymbolsAndSubscribesTheBookStage) {
  StrategyRig r;
  EXPECT_TRUE(r.subs.test(5));
  EXPECT_TRUE(r.subs.test(9));
  EXPECT_FALSE(r.subs.test(6));
}

TEST(StrategyStage, BookEventsReachOnlyTheirSubscribers) {
  StrategyRig r;
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  auto v = r.drain();
  ASSERT_EQ(v.size(), 2u) << "the market maker quotes both sides";
  EXPECT_EQ(v[0].strategy, 0);
  EXPECT_EQ(r.hop.total_count(), 1u) << "book -> decision recorded";
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'000, 0)));
  r.stage.poll();
  v = r.drain();
  ASSERT_EQ(v.size(), 1u) << "the probe answers";
  EXPECT_EQ(v[0].strategy, 1);
  EXPECT_EQ(v[0].tif, TimeInForce::kIoc);
}

TEST(StrategyStage, ReportsGoToTheOwnerAndStaleFeedPullsQuotes) {
  StrategyRig r;
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  const auto quotes = r.drain();
  ASSERT_EQ(quotes.size(), 2u);
  for (const auto& q : quotes) {
    ExecReport a{};
    a.type = ReportType::kAccepted;
    a.order_id = q.order_id;
    a.price = q.price;
    a.quantity = a.leaves = q.quantity;
    a.locate = q.locate;
    a.side = q.side;
    a.strategy = q.strategy;
    ASSERT_TRUE(r.reports.try_push(a));
  }
  r.stage.poll();
  EXPECT_EQ(r.stage.context(0).working_count(), 2u);
  EXPECT_EQ(r.stage.context(1).working_count(), 0u);
  BookEvent stale{};
  stale.type = BookEventType::kFeedStale;
  ASSERT_TRUE(r.books.try_push(stale));
  r.stage.poll();
  const auto cancels = r.drain();
  ASSERT_EQ(cancels.size(), 2u);
  EXPECT_EQ(cancels[0].type, IntentType::kCancel);
  EXPECT_TRUE(r.stage.book(5).stale);
  // While stale, a new depth event does not make the market maker quote.
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'800, 1'000'200)));
  r.stage.poll();
  EXPECT_TRUE(r.drain().empty());
}

TEST(StrategyStage, TradingStatesReachTheBookViewAndTheSubscribersCallback) {
  StrategyRig r;
  auto state = [](Locate l, char c) {
    BookEvent e{};
    e.type = BookEventType::kTradingState;
    e.locate = l;
    e.set_trading_state(c);
    return e;
  };
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  const auto quotes = r.drain();
  ASSERT_EQ(quotes.size(), 2u);
  for (const auto& q : quotes) {
    ExecReport a{};
    a.type = ReportType::kAccepted;
    a.order_id = q.order_id;
    a.price = q.price;
    a.quantity = a.leaves = q.quantity;
    a.locate = q.locate;
    a.side = q.side;
    a.strategy = q.strategy;
    ASSERT_TRUE(r.reports.try_push(a));
  }
  r.stage.poll();
  ASSERT_TRUE(r.books.try_push(state(6, 'H')));  // nobody trades locate 6
  ASSERT_TRUE(r.books.try_push(state(5, 'H')));
  r.stage.poll();
  EXPECT_EQ(r.stage.book(6).trading_state, 'H') << "kept for a strategy that subscribes later";
  EXPECT_TRUE(r.stage.book(5).halted());
  const auto cancels = r.drain();
  ASSERT_EQ(cancels.size(), 2u) << "the market maker's on_trading_state pulled its quotes";
  EXPECT_EQ(cancels[0].type, IntentType::kCancel);
  EXPECT_EQ(cancels[0].locate, 5);
  ASSERT_TRUE(r.books.try_push(state(5, 'T')));
  r.stage.poll();
  EXPECT_EQ(r.stage.book(5).trading_state, 'T');
  EXPECT_FALSE(r.stage.book(5).halted());
}

// Issue 11: Storm Guard's WARN factors changed at run time (`hftctl set risk.storm_warn_*`, from
// the control thread) reach the strategies' ctx.storm() on the stage's next pass.
TEST(StrategyStage, StormWarnFactorsChangeAtRunTime) {
  StrategyRig r;
  std::atomic<std::uint8_t> state{1};  // WARN
  r.stage.set_storm_state(&state, 2, 0.5);
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'000, 0)));
  r.stage.poll();
  EXPECT_EQ(r.stage.context(1).storm().state, 1);
  EXPECT_EQ(r.stage.context(1).storm().widen, 2);
  EXPECT_EQ(r.stage.context(1).storm().size, 0.5);
  r.stage.set_storm_factors(3, 0.25);
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'100, 0)));
  r.stage.poll();
  EXPECT_EQ(r.stage.context(1).storm().widen, 3);
  EXPECT_EQ(r.stage.context(1).storm().size, 0.25);
}

TEST(StrategyStage, HaltStopsNewOrders) {
  StrategyRig r;
  r.stage.set_halted(true);
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'000, 0)));
  r.stage.poll();
  EXPECT_TRUE(r.drain().empty());
  EXPECT_GE(r.stage.context(1).refusals().halted, 1u);
}

// While the order-entry session is down (or recovering), new orders are refused in the strategy's
// context: no intent travels to the egress stage to be refused (and journaled) there. Without
// this, a market maker sent one intent per book update for the whole outage (28,046 refusals
// journaled in one soak minute).
TEST(StrategyStage, NoNewOrdersWhileTheOrderEntrySessionIsDown) {
  StrategyRig r;
  std::atomic<bool> ready{false};
  r.stage.set_order_entry_ready(&ready);
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'000, 0)));
  r.stage.poll();
  EXPECT_TRUE(r.drain().empty()) << "an order was sent while the session is down";
  EXPECT_GE(r.stage.context(1).refusals().not_connected, 1u);
  ready = true;
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 0, 0)));  // the probe is gone; the next one appears
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'000, 0)));
  r.stage.poll();
  r.stage.poll();
  EXPECT_FALSE(r.drain().empty()) << "the session is up again: the probe is answered";
}

// More strategies on one stock than the old fixed list held (7): every one of them sees the book.
TEST(StrategyStage, AnyNumberOfStrategiesShareASymbol) {
  StrategyRig r;
  for (int i = 0; i < 10; ++i) r.stage.add("probe" + std::to_string(i), strategy::ProbeStrategy(strategy::ProbeParams{}), {"ZPROBE"});
  r.stage.add("twice", strategy::ProbeStrategy(strategy::ProbeParams{}), {"ZPROBE", "ZPROBE"});
  // The next timer tick resolves the new strategies' symbols.
  for (int i = 0; i < 3 && r.stage.counters().timers < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    r.stage.poll();
  }
  ASSERT_GE(r.stage.counters().timers, 2u);
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(9, 1'000'000, 0)));
  r.stage.poll();
  const auto v = r.drain();
  ASSERT_EQ(v.size(), 12u) << "the first probe, ten more, and the one that lists the symbol twice answers once";
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i].strategy, i + 1) << "in the order the strategies were added";
}

// The operator's own orders (flatten) have no strategy; their fills are booked in the stage's
// operator ledger. A strategy's fill is booked from the report even when its context no longer
// tracks the order, so the strategy side sums to what the order manager booked.
TEST(StrategyStage, EveryFillIsBookedOnTheStrategySide) {
  StrategyRig r;
  ExecReport f{};
  f.type = ReportType::kFill;
  f.order_id = (std::uint64_t{kOperatorStrategy} << 56) | 1;
  f.strategy = kOperatorStrategy;
  f.locate = 5;
  f.side = Side::kSell;
  f.price = 1'000'000;
  f.quantity = 300;
  ASSERT_TRUE(r.reports.try_push(f));
  ExecReport g = f;
  g.order_id = 77;  // an order strategy 0 does not know
  g.strategy = 0;
  g.side = Side::kBuy;
  g.quantity = 100;
  ASSERT_TRUE(r.reports.try_push(g));
  r.stage.poll();
  EXPECT_EQ(r.stage.counters().unknown_owner, 0u);
  EXPECT_EQ(r.stage.counters().operator_fills, 1u);
  EXPECT_EQ(r.stage.operator_position(5).shares, -300);
  EXPECT_EQ(r.stage.operator_position(5).cash, 300 * 1'000'000);
  EXPECT_EQ(r.stage.context(0).position(5).shares, 100);
  EXPECT_EQ(r.stage.total_position(5).shares, -200);
  EXPECT_EQ(r.stage.total_position(5).cash, 200 * 1'000'000);
}

// The operator's flatten closes positions the strategies opened: its fills are the strategies'
// business too. They are booked against the strategies holding the opposite position on that
// symbol (in the order the strategies were added, each down to zero at most), each hears of it
// through on_fill, and only what no strategy held stays in the operator ledger. Otherwise a
// market maker flattened at its position limit would keep believing it is there: after a resume
// it would skew its quotes and never quote the side that grows the position again.
TEST(StrategyStage, FlattenFillsReachTheStrategiesThatHeldThePosition) {
  StrategyRig r;
  ExecReport g{};
  g.type = ReportType::kFill;
  g.order_id = 77;
  g.strategy = 0;
  g.locate = 5;
  g.side = Side::kBuy;
  g.price = 1'000'000;
  g.quantity = 500;  // the market maker's max_position (500 by default)
  ASSERT_TRUE(r.reports.try_push(g));
  ExecReport f = g;
  f.order_id = (std::uint64_t{kOperatorStrategy} << 56) | 1;
  f.strategy = kOperatorStrategy;
  f.side = Side::kSell;
  f.price = 1'000'100;
  f.quantity = 600;  // 100 more than any strategy held (e.g. an earlier operator order)
  ASSERT_TRUE(r.reports.try_push(f));
  r.stage.poll();
  EXPECT_EQ(r.stage.counters().operator_fills, 1u);
  EXPECT_EQ(r.stage.context(0).position(5).shares, 0) << "the market maker's long was flattened";
  EXPECT_EQ(r.stage.context(0).position(5).cash, 500 * (1'000'100 - 1'000'000));
  EXPECT_EQ(r.stage.operator_position(5).shares, -100) << "only the rest stays with the operator";
  EXPECT_EQ(r.stage.operator_position(5).cash, 100 * 1'000'100);
  EXPECT_EQ(r.stage.total_position(5).shares, -100) << "the strategy side still sums to the order manager's";
  EXPECT_EQ(r.stage.total_position(5).cash, -500 * 1'000'000 + 600 * 1'000'100);
  // Flat again, the market maker quotes both sides.
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  const auto v = r.drain();
  ASSERT_EQ(v.size(), 2u) << "bid and ask: the strategy knows it is no longer at its position limit";
}

TEST(StrategyStage, SteadyStateAllocatesNothing) {
  StrategyRig r;
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  r.drain();
  const hft::testing::AllocationScope scope;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900 - 100 * (i % 3), 1'000'100)));
    r.stage.poll();
    r.drain();
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

// ctx.features(locate): the stage computes what its strategies declared, from the book events,
// before their callbacks; each strategy sees only its own declaration.
TEST(StrategyStage, FeaturesDeclaredByAStrategyAreComputedFromBookEvents) {
  core::SpscRing<BookEvent> books{256};
  core::SpscRing<ExecReport> reports{256};
  core::SpscRing<OrderIntent> intents{256};
  SymbolTable symbols{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 1'000'000};
  symbols.set(9, itch::Symbol::from("ZPROBE").key());
  stage.add("plain", strategy::ProbeStrategy(strategy::ProbeParams{}), {"ZPROBE"});
  EXPECT_EQ(stage.features(), nullptr) << "nothing declared: no engine, no cost";
  const features::FeatureMask mine = features::bit(features::Feature::kMid) | features::bit(features::Feature::kOfi1) |
                                     features::bit(features::Feature::kHawkesBuy);
  stage.add("with_features", strategy::ProbeStrategy(strategy::ProbeParams{}), {"ZPROBE"}, mine);
  stage.add("other", strategy::ProbeStrategy(strategy::ProbeParams{}), {"ZPROBE"},
            features::bit(features::Feature::kImbalance));
  ASSERT_NE(stage.features(), nullptr);
  core::Histogram published{1, 10'000'000'000ull, 3};  // hftd: the control file's "feature_update"
  stage.set_feature_histogram(published);
  stage.poll();

  // the same events into an engine of our own
  features::FeatureEngine ref(features::Params{}, mine | features::bit(features::Feature::kImbalance), 63, 4);
  auto depth_event = [](std::uint64_t ts, std::int32_t bid, std::uint32_t bq, std::int32_t ask, std::uint32_t aq) {
    BookEvent e{};
    e.type = BookEventType::kDepthChange;
    e.locate = 9;
    e.timestamp = ts;
    e.bids[0] = {bid, bq};
    e.asks[0] = {ask, aq};
    return e;
  };
  auto depth_of = [](const BookEvent& e) {
    features::Depth d;
    d.bid_px[0] = static_cast<std::uint32_t>(e.bids[0].price);
    d.bid_sz[0] = e.bids[0].shares;
    d.ask_px[0] = static_cast<std::uint32_t>(e.asks[0].price);
    d.ask_sz[0] = e.asks[0].shares;
    return d;
  };
  const BookEvent e1 = depth_event(1'000'000, 999'900, 300, 1'000'100, 100);
  const BookEvent e2 = depth_event(2'000'000, 999'900, 500, 1'000'100, 100);
  BookEvent trade{};
  trade.type = BookEventType::kTrade;
  trade.locate = 9;
  trade.timestamp = 2'500'000;
  trade.trade_side = 'B';
  trade.trade_price = 1'000'100;
  trade.trade_shares = 100;
  // the execution's depth event carries its L3 fact (the resting ask executed): the features take
  // the execution there, with the depth after it, as hft-itch's book driver does
  BookEvent e3 = depth_event(2'500'000, 999'900, 500, 1'000'200, 200);
  e3.set_l3(L3Kind::kExecute, 1, 1'000'100, 100, 0);
  for (const BookEvent& e : {e1, e2, trade, e3}) ASSERT_TRUE(books.try_push(e));
  while (stage.poll() != 0) {
  }
  ref.update(9, {1'000'000, features::EventKind::kOther, 0, 0, 0, 0}, depth_of(e1));
  ref.consume(9);
  ref.update(9, {2'000'000, features::EventKind::kOther, 0, 0, 0, 0}, depth_of(e2));
  ref.consume(9);
  ref.update(9, {2'500'000, features::EventKind::kExecute, 1, 100, 1'000'100, 0}, depth_of(e3));
  features::Values want;
  ref.values(9, want);

  const features::Values got = stage.context(1).features(9);
  EXPECT_EQ(got.has, mine);
  EXPECT_EQ(got.get(features::Feature::kMid), want.get(features::Feature::kMid));
  EXPECT_DOUBLE_EQ(*got.get(features::Feature::kMid), 100.005);
  EXPECT_EQ(got.get(features::Feature::kOfi1), want.get(features::Feature::kOfi1));
  EXPECT_EQ(got.get(features::Feature::kOfi1), 100.0)
      << "the last event alone: the ask of 100 at 100.01 left (+100), the new one at 100.02 is above it (0)";
  EXPECT_EQ(got.get(features::Feature::kHawkesBuy), want.get(features::Feature::kHawkesBuy));
  EXPECT_GT(*got.get(features::Feature::kHawkesBuy), 0.1) << "one buyer-initiated trade excites";
  const features::Values other = stage.context(2).features(9);
  EXPECT_EQ(other.has, features::bit(features::Feature::kImbalance));
  EXPECT_EQ(other.get(features::Feature::kImbalance), want.get(features::Feature::kImbalance));
  EXPECT_EQ(stage.context(0).features(9).has, 0u) << "declared nothing, sees nothing";
  EXPECT_EQ(stage.feature_time().total_count(), 3u) << "one timed update per message (the trade waits for its depth)";
  EXPECT_EQ(published.total_count(), 3u) << "the times go to the histogram hftd publishes";
  EXPECT_EQ(&stage.feature_time(), &published);

  hft::testing::AllocationScope scope;
  for (std::uint32_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(books.try_push(depth_event(3'000'000 + i, 999'900 - 100 * std::int32_t(i % 3), 100 + i, 1'000'100, 50)));
    while (stage.poll() != 0) {
    }
    (void)stage.context(1).features(9);
  }
  EXPECT_EQ(scope.allocations(), 0u) << "features in the stage allocate nothing";
}

}  // namespace
}  // namespace hft::pipeline

namespace hft::pipeline {
namespace {

// The strategy library's strategies (issue 13) in the stage's steady state: the market maker with
// its ladder and guards, a working TWAP, momentum and a stat-arb pair, with book events, trades,
// timer ticks and the venue's answers (accepted; IOCs filled, cancels done) allocate nothing once
// warm. A stage timer of 0 ns runs on_timer on every pass.
TEST(StrategyStage, TheLibrarysStrategiesAllocateNothingInSteadyState) {
  core::SpscRing<BookEvent> books{256};
  core::SpscRing<ExecReport> reports{1024};
  core::SpscRing<OrderIntent> intents{1024};
  SymbolTable symbols{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 0};
  symbols.set(5, itch::Symbol::from("AAPL").key());
  symbols.set(6, itch::Symbol::from("MSFT").key());
  strategy::MarketMakerParams mm;
  mm.symbols = {"AAPL"};
  mm.levels = 3;
  mm.min_edge_ticks = 1;
  mm.stale_ms = 500;
  mm.max_spread_ticks = 50;
  mm.vol_widen_ratio = 2;
  mm.vol_pull_ratio = 5;
  mm.max_position = 1'000'000;
  stage.add("mm", strategy::make_strategy(mm), mm.traded_symbols());
  strategy::ExecutionParams ex;
  ex.symbols = {"AAPL"};
  ex.slice_s = 0.001;
  stage.add("exec", strategy::make_strategy(ex), ex.traded_symbols());
  strategy::MomentumParams mo;
  mo.symbols = {"AAPL"};
  mo.bar_s = 0.001;
  mo.breakout_bars = 5;
  mo.volume_mult = 0;
  stage.add("momentum", strategy::make_strategy(mo), mo.traded_symbols());
  strategy::StatArbParams sa;
  sa.leg_a = "AAPL";
  sa.leg_b = "MSFT";
  sa.window = 20;
  sa.sample_s = 0.001;
  sa.entry_z = 1;
  sa.exit_z = 0.2;
  sa.max_position = 100;
  stage.add("pair", strategy::make_strategy(sa), sa.traded_symbols());
  stage.poll();  // resolves the symbols
  StrategyCommand start{};
  start.id = 1;
  start.op = StrategyCommand::Op::kAlgoStart;
  std::memcpy(start.spec.symbol.data(), "AAPL", 4);
  start.spec.quantity = 2'000;
  start.spec.duration_ns = 20'000'000;  // the on_timer clock is the monotonic one: 20 ms of this test
  ASSERT_TRUE(stage.post(start));

  std::uint64_t ts = 34'200'000'000'000;
  const auto pass = [&](int i) {
    ts += 1'000'000;  // 1 ms of feed time per pass
    for (Locate l : {Locate{5}, Locate{6}}) {
      BookEvent e{};
      e.type = BookEventType::kDepthChange;
      e.locate = l;
      e.timestamp = ts;
      const std::int32_t mid = (l == 5 ? 1'000'000 : 2'000'000) + 100 * static_cast<std::int32_t>((i * 7 + l) % 13);
      e.bids[0] = {mid - 100, 500};
      e.asks[0] = {mid + 100, 500};
      EXPECT_TRUE(books.try_push(e));
      BookEvent t = e;
      t.type = BookEventType::kTrade;
      t.trade_price = mid;
      t.trade_shares = 300;
      t.trade_side = 'B';
      EXPECT_TRUE(books.try_push(t));
    }
    for (int k = 0; k < 4; ++k) stage.poll();
    OrderIntent in;
    while (intents.try_pop(in)) {  // the venue: accept, fill IOCs, confirm cancels and replaces
      ExecReport r{};
      r.order_id = in.order_id;
      r.locate = in.locate;
      r.side = in.side;
      r.strategy = in.strategy;
      r.price = in.price;
      r.quantity = in.quantity;
      r.leaves = in.quantity;
      r.type = in.type == IntentType::kNew ? ReportType::kAccepted
               : in.type == IntentType::kReplace ? ReportType::kReplaced
                                                 : ReportType::kCanceled;
      if (in.type == IntentType::kCancel) r.leaves = 0;
      EXPECT_TRUE(reports.try_push(r));
      if (in.type == IntentType::kNew && in.tif == TimeInForce::kIoc) {
        r.type = ReportType::kFill;
        r.leaves = 0;
        EXPECT_TRUE(reports.try_push(r));
      }
    }
    stage.poll();
  };
  for (int i = 0; i < 300; ++i) pass(i);  // warm: every state vector reached its size
  ASSERT_EQ(stage.applied(), 1u);
  start.id = 2;  // a second parent, worked while allocations are counted
  start.spec.quantity = 100'000;
  start.spec.duration_ns = 30'000'000;
  ASSERT_TRUE(stage.post(start));
  const hft::testing::AllocationScope scope;
  for (int i = 300; i < 2300; ++i) pass(i);
  EXPECT_EQ(scope.allocations(), 0u);
  std::uint64_t orders = 0;
  stage.for_each_strategy([&](const std::string&, std::string_view, RunState, const strategy::Performance&, double,
                              std::uint64_t n) { orders += n; });
  EXPECT_GT(orders, 100u) << "the strategies traded: the test proved something";
  bool parent = false;
  stage.for_each_parent([&](const std::string&, const strategy::Parent& p) { parent = parent || (p.id == 2 && p.filled > 0); });
  EXPECT_TRUE(parent) << "the TWAP worked";
}

// hftctl strategy pause|stop|start|set through the stage's command queue.
TEST(StrategyStage, OperatorCommandsPauseStopStartAndSetAStrategy) {
  StrategyRig r;
  const auto command = [&](StrategyCommand::Op op, const char* name, const char* arg = "") {
    static std::uint32_t id = 100;
    StrategyCommand c{};
    c.id = ++id;
    c.op = op;
    std::snprintf(c.name, sizeof c.name, "%s", name);
    std::snprintf(c.arg, sizeof c.arg, "%s", arg);
    EXPECT_TRUE(r.stage.post(c));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (r.stage.applied() != c.id && std::chrono::steady_clock::now() < deadline) r.stage.poll();  // on a timer tick
    EXPECT_EQ(r.stage.applied(), c.id);
    return r.stage.result();
  };
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  auto quotes = r.drain();
  ASSERT_EQ(quotes.size(), 2u);
  for (const auto& q : quotes) {
    ExecReport a{};
    a.type = ReportType::kAccepted;
    a.order_id = q.order_id;
    a.locate = q.locate;
    a.side = q.side;
    a.price = q.price;
    a.quantity = q.quantity;
    a.leaves = q.quantity;
    a.strategy = q.strategy;
    ASSERT_TRUE(r.reports.try_push(a));
  }
  r.stage.poll();
  auto [ok, msg] = command(StrategyCommand::Op::kPause, "mm");
  EXPECT_TRUE(ok) << msg;
  EXPECT_EQ(r.stage.run_state(0), RunState::kPaused);
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'000, 1'001'000)));  // would move both quotes
  r.stage.poll();
  EXPECT_TRUE(r.drain().empty()) << "paused: no replaces";
  std::tie(ok, msg) = command(StrategyCommand::Op::kStop, "mm");
  EXPECT_TRUE(ok);
  const auto cancels = r.drain();
  ASSERT_EQ(cancels.size(), 2u) << "stop cancels its orders";
  EXPECT_EQ(cancels[0].type, IntentType::kCancel);
  std::tie(ok, msg) = command(StrategyCommand::Op::kSet, "mm", "gamma=0");
  EXPECT_FALSE(ok);
  EXPECT_NE(msg.find("gamma: 0 is out of range"), std::string::npos) << msg;
  std::tie(ok, msg) = command(StrategyCommand::Op::kSet, "mm", "quote_size=200");
  EXPECT_TRUE(ok) << msg;
  std::tie(ok, msg) = command(StrategyCommand::Op::kStart, "nobody");
  EXPECT_FALSE(ok);
  EXPECT_NE(msg.find("no strategy named \"nobody\" (running: mm, probe)"), std::string::npos) << msg;
  std::tie(ok, msg) = command(StrategyCommand::Op::kStart, "mm");
  EXPECT_TRUE(ok);
  for (const auto& c : cancels) {  // the cancels are answered
    ExecReport a{};
    a.type = ReportType::kCanceled;
    a.order_id = c.order_id;
    a.locate = c.locate;
    a.strategy = c.strategy;
    ASSERT_TRUE(r.reports.try_push(a));
  }
  r.stage.poll();
  ASSERT_TRUE(r.books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  r.stage.poll();
  const auto v = r.drain();
  ASSERT_EQ(v.size(), 2u) << "running again: it quotes, at the new size";
  EXPECT_EQ(v[0].quantity, 200u);
}

}  // namespace
}  // namespace hft::pipeline

namespace hft::pipeline {
namespace {

// Fees per share: a fill the venue flags as adding liquidity pays fee_add (here a rebate), any
// other fill fee_remove; realized P&L and a round trip's win are net of them.
TEST(StrategyPerformance, FeesAndRebatesPerShareAreInTheNetPnl) {
  strategy::Performance p;
  p.init(4);
  p.set_fees(-0.002, 0.003);  // 0.2 cent rebate adding, 0.3 cent fee removing
  p.on_fill(1, Side::kBuy, 100'0000, 100, true, 0, 'A');   // add 100 @ 100.00: +0.20 rebate
  EXPECT_NEAR(p.fees(), -0.20, 1e-9);
  EXPECT_NEAR(p.realized(), 0.20, 1e-9);
  p.on_fill(1, Side::kSell, 100'0100, 100, true, 0, 'R');  // take 100 @ 100.01: +1.00 gross, -0.30
  EXPECT_NEAR(p.fees(), 0.10, 1e-9);
  EXPECT_NEAR(p.realized(), 1.00 - 0.10, 1e-9);
  EXPECT_EQ(p.round_trips(), 1u);
  EXPECT_EQ(p.wins(), 1u);
  // A round trip whose gross profit the fees eat is not a win; an unknown flag pays the remove fee.
  p.on_fill(2, Side::kBuy, 50'0000, 100, true, 0, 'R');
  p.on_fill(2, Side::kSell, 50'0001, 100, true, 0, 0);  // +0.01 gross, -0.60 in fees
  EXPECT_NEAR(p.fees(), 0.70, 1e-9);
  EXPECT_NEAR(p.realized(), 1.01 - 0.70, 1e-9);
  EXPECT_EQ(p.round_trips(), 2u);
  EXPECT_EQ(p.wins(), 1u);
  // Without fees configured, nothing is charged.
  strategy::Performance q;
  q.init(4);
  q.on_fill(1, Side::kBuy, 100'0000, 100, true, 0, 'R');
  EXPECT_EQ(q.fees(), 0.0);
  EXPECT_EQ(q.realized(), 0.0);
}

}  // namespace
}  // namespace hft::pipeline

namespace hft::pipeline {
namespace {

// Issue 14: the strategy stage with two venues: venue 0's tops come from its book events, another
// venue's are fed through the tops interface (the per-venue books' job after the merge); the
// cross-venue arbitrage sees the crossed venues and sends both legs in one pass; a venue's session
// flag going down is seen on the timer: the contexts refuse orders to it and the tops mark it down.
TEST(StrategyStageVenues, ArbitrageAcrossVenuesAndVenueDownTold) {
  core::SpscRing<BookEvent> books{64};
  core::SpscRing<ExecReport> reports{64};
  core::SpscRing<OrderIntent> intents{64};
  SymbolTable symbols{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 1'000'000};
  symbols.set(5, itch::Symbol::from("AAPL").key());
  strategy::CrossVenueArbParams p;
  p.symbol = "AAPL";
  stage.add("xarb", strategy::CrossVenueArb(p), {"AAPL"});
  stage.set_venues(2);
  std::atomic<bool> up0{true}, up1{true};
  stage.set_venue_ready(0, &up0);
  stage.set_venue_ready(1, &up1);
  stage.poll();  // resolves the symbol
  oms::VenueTop v1;
  v1.bid = 1'000'300;
  v1.bid_shares = 100;
  v1.ask = 1'000'500;
  v1.ask_shares = 100;
  v1.up = true;
  stage.venue_tops().set(1, 5, v1);
  ASSERT_TRUE(books.try_push(StrategyRig::depth(5, 999'900, 1'000'100)));
  stage.poll();
  EXPECT_EQ(stage.venue_tops().get(0, 5).ask, 1'000'100) << "venue 0's touch from its book event";
  std::vector<OrderIntent> v;
  OrderIntent in;
  while (intents.try_pop(in)) v.push_back(in);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].venue, 0);
  EXPECT_EQ(v[0].side, Side::kBuy);
  EXPECT_EQ(v[1].venue, 1);
  EXPECT_EQ(v[1].side, Side::kSell);

  up1 = false;
  stage.check_venues();
  EXPECT_EQ(stage.venues_up(), 1u);
  EXPECT_FALSE(stage.context(0).venue_up(1));
  EXPECT_TRUE(stage.context(0).venue_up(0));
  EXPECT_FALSE(stage.venue_tops().get(1, 5).up);
  EXPECT_EQ(stage.counters().venue_changes, 1u);
  up1 = true;
  stage.check_venues();
  EXPECT_TRUE(stage.context(0).venue_up(1));
  EXPECT_EQ(stage.counters().venue_changes, 2u);
}

}  // namespace
}  // namespace hft::pipeline
