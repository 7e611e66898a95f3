// The SDK's order types at the wire: strategy::Context -> the real risk/egress stage, logged in
// over TCP to the real venue (venue::Venue in this process, stepped from the test thread), with a
// second OUCH session (CAROL) as the counterparty. Each test checks the venue's side of it (its
// book, the counterparty's fills) and the strategy's position from the execution reports.
// Order types: limit (day), IOC, market (IOC at a collared marketable limit), FOK (IOC with OUCH
// MinQty = quantity), post-only, and the stops the appliance holds (stop on the last trade,
// stop-limit on the touch), triggered by the strategy stage. Every test runs over both backends
// (io_uring, skipped where the kernel lacks it, and epoll).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/epoll_backend.hpp"
#include "net/uring_backend.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "tests/venue/venue_test_util.hpp"
#include "venue/venue.hpp"

namespace hft::pipeline {
namespace {

using venue::testing::OuchClient;

template <class B>
class OrderTypesWire : public ::testing::Test {
 protected:
  static constexpr Locate kLocate = 1;  // the venue's first symbol

  void SetUp() override {
    if constexpr (B::kKind == net::BackendKind::kIoUring) {
      const auto f = net::probe_io_uring();
      if (!f.available || !f.multishot_recv || !f.provided_buffer_ring) GTEST_SKIP() << f.describe();
    }
    backend_ = std::make_unique<B>(net::BackendOptions{});
    feed_ = std::make_unique<venue::testing::FeedReceiver>(0);
    venue_ = std::make_unique<venue::Venue>(venue::testing::test_config(feed_->port()));
    venue_->start();
    symbol_ = std::string(venue_->config().symbols[0].symbol.view());
    ref_ = static_cast<Price>(venue_->config().symbols[0].reference_price) / 100 * 100;
    symbols_.set(kLocate, itch::Symbol::from(symbol_).key());
    refs_.set(kLocate, ref_);
    OrderEntryConfig oc;
    oc.venue = venue_->ouch_endpoint();
    oc.soup.username = "BOB";
    oc.soup.password = "b";
    egress_ = std::make_unique<EgressStage<B>>(*backend_, oc, intents_, reports_, gate_, refs_, symbols_, oms_,
                                               typename EgressStage<B>::Hops{&d2w_, &t2t_, &send_});
    egress_->on_thread_start();
    books_[kLocate].locate = kLocate;
    books_[kLocate].stale = false;
    books_[kLocate].trading_state = 'T';
    ctx_.init_tables(books_.size());
    ctx_.subscribe(kLocate);
    ASSERT_TRUE(egress_->connect()) << egress_->last_error();
    ASSERT_TRUE(run([&] { return egress_->ready(); })) << "login";
    carol_ = std::make_unique<OuchClient>("CAROL", "c", venue_->ouch_endpoint());
    ASSERT_TRUE(run([&] { return carol_->logged_in(); }));
  }
  void TearDown() override {
    if (carol_) carol_->disconnect();
    if (!venue_) return;
    venue_->stop();
    venue_->finish();
  }

  void step() {
    venue_->step(200'000);
    egress_->poll();
    if (carol_) carol_->poll(0);
    ExecReport r;
    while (reports_.try_pop(r)) {
      ctx_.apply(r);
      seen_.push_back(r);
    }
  }
  bool run(const std::function<bool()>& done) { return venue::testing::run_until([&] { step(); }, done); }
  void settle(int passes = 60) {
    for (int i = 0; i < passes; ++i) step();
  }
  // CAROL rests an order at the venue; the test's view of the book shows it at the touch.
  void carol_rests(ouch::Side side, std::uint32_t qty, Price px) {
    ASSERT_TRUE(carol_->send(venue::testing::enter(++carol_ref_, side, qty, symbol_, static_cast<ouch::Price>(px))));
    ASSERT_TRUE(run([&] { return venue_shares(side == ouch::Side::kBuy, px) >= qty; })) << "CAROL's order rests";
    auto& level = side == ouch::Side::kBuy ? books_[kLocate].bids[0] : books_[kLocate].asks[0];
    level = Level{static_cast<std::int32_t>(px), qty};
  }
  [[nodiscard]] std::uint64_t venue_shares(bool bid, Price px) const {
    for (const auto& d : venue_->books())
      if (d.name.view() == symbol_)
        for (const auto& l : bid ? d.bids : d.asks)
          if (static_cast<Price>(l.price) == px) return l.shares;
    return 0;
  }
  // The order is done (no longer in the projection) once its final report arrived.
  bool done(std::uint64_t id) {
    return run([&] { return ctx_.order(id) == nullptr; });
  }
  [[nodiscard]] Quantity filled(std::uint64_t id) const {
    Quantity q = 0;
    for (const auto& r : seen_)
      if (r.order_id == id && r.type == ReportType::kFill) q += r.quantity;
    return q;
  }
  [[nodiscard]] bool saw(std::uint64_t id, ReportType t) const {
    for (const auto& r : seen_)
      if (r.order_id == id && r.type == t) return true;
    return false;
  }

  std::unique_ptr<venue::testing::FeedReceiver> feed_;
  std::unique_ptr<venue::Venue> venue_;
  std::unique_ptr<OuchClient> carol_;
  ouch::UserRefNum carol_ref_ = 0;
  std::string symbol_;
  Price ref_ = 0;
  std::unique_ptr<B> backend_;
  core::SpscRing<OrderIntent> intents_{256};
  core::SpscRing<ExecReport> reports_{256};
  risk::RiskLimits limits_ = [] {
    risk::RiskLimits l;
    l.max_order_quantity = 1000;
    l.max_position = 100'000;
    l.price_band_bps = 5000;
    return l;
  }();
  risk::RiskGate gate_{limits_, core::tsc_clock().ticks_per_ns() * 1e9};
  risk::ReferencePrices refs_{16};
  SymbolTable symbols_{16};
  oms::OrderManager oms_{64, 16, 1};
  core::Histogram d2w_{1, 10'000'000'000ull, 3}, t2t_{1, 10'000'000'000ull, 3}, send_{1, 10'000'000'000ull, 3};
  std::unique_ptr<EgressStage<B>> egress_;
  std::vector<strategy::BookView> books_ = std::vector<strategy::BookView>(16);
  strategy::Context ctx_{0, "types", &intents_, &books_};
  std::vector<ExecReport> seen_;

  // The tests, run by each backend below.
  void t_DayLimitRestsAndIocDoesNot();
  void t_MarketOrderTakesTheTouchWithinItsCollar();
  void t_FillOrKillTakesAllOrNothing();
  void t_PostOnlyNeverTakes();
  void t_StopTriggersOnTheLastTradeAndStopLimitOnTheTouch();
};

using Backends = ::testing::Types<net::UringBackend, net::EpollBackend>;
TYPED_TEST_SUITE(OrderTypesWire, Backends);


TYPED_TEST(OrderTypesWire, DayLimitRestsAndIocDoesNot) { this->t_DayLimitRestsAndIocDoesNot(); }
template <class B>
void OrderTypesWire<B>::t_DayLimitRestsAndIocDoesNot() {
  const Price px = ref_ - 1000;
  const auto day = ctx_.buy(kLocate, px, 100);
  ASSERT_NE(day, 0u);
  ASSERT_TRUE(run([&] { return ctx_.order(day) != nullptr && ctx_.order(day)->state == strategy::OrderState::kWorking; }));
  EXPECT_EQ(venue_shares(true, px), 100u) << "the day order rests at the venue";
  const auto ioc = ctx_.ioc(kLocate, Side::kBuy, px - 100, 100);
  ASSERT_NE(ioc, 0u);
  ASSERT_TRUE(done(ioc)) << "an IOC with nothing to take is canceled";
  EXPECT_EQ(venue_shares(true, px - 100), 0u);
  EXPECT_EQ(filled(ioc), 0u);
  EXPECT_EQ(venue_shares(true, px), 100u);
}

TYPED_TEST(OrderTypesWire, MarketOrderTakesTheTouchWithinItsCollar) { this->t_MarketOrderTakesTheTouchWithinItsCollar(); }
template <class B>
void OrderTypesWire<B>::t_MarketOrderTakesTheTouchWithinItsCollar() {
  const Price ask = ref_ + 500;
  carol_rests(ouch::Side::kSell, 100, ask);
  const Price far = ask + (ask / 10'000 + 1) * 100;  // 1% and a penny away: beyond a 50 bps collar
  carol_rests(ouch::Side::kSell, 100, far);
  books_[kLocate].asks[0] = Level{static_cast<std::int32_t>(ask), 100};
  const Price limit = ctx_.marketable_price(kLocate, Side::kBuy, 50);
  EXPECT_GE(limit, ask);
  EXPECT_LE(limit, ask + ask * 50 / 10'000) << "collared: never more than 50 bps through the touch";
  EXPECT_EQ(limit % 100, 0) << "on the penny grid";
  ASSERT_LT(limit, far) << "the test needs the second ask beyond the collar";
  const auto id = ctx_.market(kLocate, Side::kBuy, 200, 50);
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(done(id));
  EXPECT_EQ(filled(id), 100u) << "the touch is taken, the ask beyond the collar is not";
  EXPECT_EQ(ctx_.position(kLocate).shares, 100);
  EXPECT_EQ(ctx_.position(kLocate).cash, -100 * static_cast<std::int64_t>(ask)) << "filled at the resting price";
  EXPECT_EQ(venue_shares(false, far), 100u);
  // With no bid to price from, a market sell is refused locally.
  EXPECT_EQ(ctx_.market(kLocate, Side::kSell, 100), 0u);
  EXPECT_EQ(ctx_.refusals().no_market, 1u);
}

TYPED_TEST(OrderTypesWire, FillOrKillTakesAllOrNothing) { this->t_FillOrKillTakesAllOrNothing(); }
template <class B>
void OrderTypesWire<B>::t_FillOrKillTakesAllOrNothing() {
  const Price ask = ref_ + 500;
  carol_rests(ouch::Side::kSell, 100, ask);
  const auto kill = ctx_.fok(kLocate, Side::kBuy, ask, 200);
  ASSERT_NE(kill, 0u);
  ASSERT_TRUE(done(kill));
  EXPECT_EQ(filled(kill), 0u) << "200 wanted, 100 available: nothing executes";
  EXPECT_EQ(venue_shares(false, ask), 100u) << "CAROL's ask is untouched";
  const auto fill = ctx_.fok(kLocate, Side::kBuy, ask, 100);
  ASSERT_TRUE(done(fill));
  EXPECT_EQ(filled(fill), 100u);
  EXPECT_EQ(ctx_.position(kLocate).shares, 100);
  EXPECT_EQ(venue_shares(false, ask), 0u);
}

TYPED_TEST(OrderTypesWire, PostOnlyNeverTakes) { this->t_PostOnlyNeverTakes(); }
template <class B>
void OrderTypesWire<B>::t_PostOnlyNeverTakes() {
  const Price ask = ref_ + 500;
  carol_rests(ouch::Side::kSell, 100, ask);
  const auto cross = ctx_.post_only(kLocate, Side::kBuy, ask, 100);
  ASSERT_NE(cross, 0u);
  ASSERT_TRUE(done(cross));
  EXPECT_EQ(filled(cross), 0u);
  EXPECT_EQ(venue_shares(false, ask), 100u) << "a post-only order that would cross does not take";
  const auto rest = ctx_.post_only(kLocate, Side::kBuy, ask - 100, 100);
  ASSERT_TRUE(run([&] { return ctx_.order(rest) != nullptr && ctx_.order(rest)->state == strategy::OrderState::kWorking; }));
  EXPECT_EQ(venue_shares(true, ask - 100), 100u) << "one below the ask rests";
}

TYPED_TEST(OrderTypesWire, StopTriggersOnTheLastTradeAndStopLimitOnTheTouch) { this->t_StopTriggersOnTheLastTradeAndStopLimitOnTheTouch(); }
template <class B>
void OrderTypesWire<B>::t_StopTriggersOnTheLastTradeAndStopLimitOnTheTouch() {
  const Price ask = ref_ + 500;
  carol_rests(ouch::Side::kSell, 100, ask);
  strategy::BookView& b = books_[kLocate];
  // A buy stop at `ask`: held here, nothing at the venue until a print at or above it.
  const auto stop = ctx_.stop(kLocate, Side::kBuy, 100, ask);
  ASSERT_NE(stop, 0u);
  ASSERT_NE(ctx_.held_stop(stop), nullptr);
  b.last_trade_price = static_cast<std::int32_t>(ask - 100);
  ctx_.trigger_stops(b, true);
  settle(10);
  EXPECT_EQ(ctx_.stops_held(), 1u) << "a print below the stop does not trigger it";
  EXPECT_TRUE(seen_.empty());
  b.last_trade_price = static_cast<std::int32_t>(ask);
  ctx_.trigger_stops(b, false);
  EXPECT_EQ(ctx_.stops_held(), 1u) << "a last-trade stop ignores book changes";
  ctx_.trigger_stops(b, true);
  EXPECT_EQ(ctx_.stops_held(), 0u);
  ASSERT_TRUE(done(stop));
  EXPECT_EQ(filled(stop), 100u) << "triggered as a market order under the stop's id";
  EXPECT_EQ(ctx_.position(kLocate).shares, 100);

  // A sell stop-limit on the touch: triggers when the best bid falls to 1 $ below the reference,
  // and rests as a day limit at its limit price.
  const Price trigger = ref_ - 10'000, limit = ref_ - 5'000;
  const auto sl = ctx_.stop(kLocate, Side::kSell, 100, trigger, limit, strategy::StopTrigger::kTouch);
  b.bids[0] = Level{static_cast<std::int32_t>(trigger + 100), 300};
  ctx_.trigger_stops(b, false);
  EXPECT_EQ(ctx_.stops_held(), 1u);
  b.bids[0] = Level{static_cast<std::int32_t>(trigger), 300};
  ctx_.trigger_stops(b, true);
  EXPECT_EQ(ctx_.stops_held(), 1u) << "a touch stop ignores prints";
  ctx_.trigger_stops(b, false);
  ASSERT_EQ(ctx_.stops_held(), 0u);
  ASSERT_TRUE(run([&] { return ctx_.order(sl) != nullptr && ctx_.order(sl)->state == strategy::OrderState::kWorking; }));
  EXPECT_EQ(venue_shares(false, limit), 100u) << "the stop-limit rests at its limit";
  // A held stop can be canceled before it triggers.
  const auto c = ctx_.stop(kLocate, Side::kBuy, 100, ask + 10'000);
  EXPECT_TRUE(ctx_.cancel_stop(c));
  EXPECT_EQ(ctx_.held_stop(c), nullptr);
}

// The strategy stage checks the held stops of each subscriber on trade events, before the
// strategy's callback (here a strategy that holds a stop and is otherwise idle).
TEST(StrategyStageStops, ATradeEventTriggersAHeldStop) {
  core::SpscRing<BookEvent> books{64};
  core::SpscRing<ExecReport> reports{64};
  core::SpscRing<OrderIntent> intents{64};
  SymbolTable symbols{16};
  Subscriptions subs{16};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 1'000'000};
  symbols.set(3, itch::Symbol::from("AAA").key());
  strategy::SpreadCaptureParams p;
  p.symbols = {"AAA"};
  p.min_spread_ticks = 1000;  // never quotes
  stage.add("sc", strategy::make_strategy(p), p.traded_symbols());
  stage.poll();
  BookEvent e{};
  e.type = BookEventType::kDepthChange;
  e.locate = 3;
  e.timestamp = 1;
  e.bids[0] = {999'900, 100};
  e.asks[0] = {1'000'100, 100};
  ASSERT_TRUE(books.try_push(e));
  stage.poll();
  auto& ctx = const_cast<strategy::Context&>(stage.context(0));
  const auto id = ctx.stop(3, Side::kSell, 100, 999'000);
  e = BookEvent{};
  e.type = BookEventType::kTrade;
  e.locate = 3;
  e.trade_price = 999'500;
  e.trade_shares = 100;
  ASSERT_TRUE(books.try_push(e));
  stage.poll();
  EXPECT_TRUE(intents.empty_approx()) << "99.95 is above the sell stop at 99.90";
  e.trade_price = 999'000;
  ASSERT_TRUE(books.try_push(e));
  stage.poll();
  OrderIntent in{};
  ASSERT_TRUE(intents.try_pop(in));
  EXPECT_EQ(in.order_id, id);
  EXPECT_EQ(in.side, Side::kSell);
  EXPECT_EQ(in.tif, TimeInForce::kIoc);
  EXPECT_EQ(in.price, 995'000) << "the bid 99.99 less the 50 bps collar, on the penny grid";
}

}  // namespace
}  // namespace hft::pipeline
