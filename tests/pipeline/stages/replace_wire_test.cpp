// Replace quantity at the wire: the market maker (pipeline/strategy/market_maker.hpp) through its
// Context and the real risk/egress stage, logged in over TCP to the real venue (venue::Venue in
// this process: matching engine and OUCH 5.0 order entry, driven step by step from the test
// thread). OUCH 5.0 §2.2: a Replace Order's Quantity is the chain's total liability, executions
// included, so after a partial fill the replace must carry filled + wanted leaves. The test checks
// the venue's book (not the appliance's belief) and counts the replaces the market maker sends.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "net/epoll_backend.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/strategy/market_maker.hpp"
#include "tests/venue/venue_test_util.hpp"
#include "venue/venue.hpp"

namespace hft::pipeline {
namespace {

using venue::testing::OuchClient;

class ReplaceWire : public ::testing::Test {
 protected:
  static constexpr Locate kLocate = 1;  // the venue's first symbol (venue locates are 1-based)

  void SetUp() override {
    feed_ = std::make_unique<venue::testing::FeedReceiver>(0);
    venue::VenueConfig c = venue::testing::test_config(feed_->port());
    venue_ = std::make_unique<venue::Venue>(c);
    venue_->start();
    symbol_ = std::string(venue_->config().symbols[0].symbol.view());
    reference_ = static_cast<Price>(venue_->config().symbols[0].reference_price) / 100 * 100;

    symbols_.set(kLocate, itch::Symbol::from(symbol_).key());
    refs_.set(kLocate, reference_);
    OrderEntryConfig oc;
    oc.venue = venue_->ouch_endpoint();
    oc.soup.username = "BOB";
    oc.soup.password = "b";
    egress_ = std::make_unique<EgressStage<net::EpollBackend>>(backend_, oc, intents_, reports_, gate_, refs_, symbols_,
                                                               oms_, EgressStage<net::EpollBackend>::Hops{&d2w_, &t2t_, &send_});
    egress_->on_thread_start();

    books_[kLocate].locate = kLocate;
    ctx_.init_tables(books_.size());
    ctx_.subscribe(kLocate);
    strategy::MarketMakerParams p;
    p.symbols = {symbol_};
    p.quote_size = 100;
    p.max_position = 100'000;
    mm_.emplace(p);
  }
  void TearDown() override {
    if (counterparty_) counterparty_->disconnect();
    venue_->stop();
    venue_->finish();
  }

  // One pass: the venue, the egress stage, and the reports into the strategy, as the strategy
  // stage dispatches them.
  void step() {
    venue_->step(200'000);
    egress_->poll();
    if (counterparty_) counterparty_->poll(0);
    ExecReport r;
    while (reports_.try_pop(r)) {
      const strategy::WorkingOrder* o = ctx_.apply(r);
      if (r.type == ReportType::kFill) {
        mm_->on_fill(ctx_, strategy::Fill{r.order_id, r.locate, r.side, r.price, r.quantity, r.leaves});
      } else {
        mm_->on_order(ctx_, strategy::OrderUpdate{o, r.order_id, r.type, r.reason, r.venue_code});
      }
    }
  }
  bool run(const std::function<bool()>& done) { return venue::testing::run_until([&] { step(); }, done); }
  void settle(int passes = 50) {
    for (int i = 0; i < passes; ++i) step();
  }

  // A two-sided book around the venue's reference price, as the book stage would publish it.
  void book_update() {
    strategy::BookView& b = books_[kLocate];
    b.bids[0] = Level{static_cast<std::int32_t>(reference_ - 1000), 500};
    b.asks[0] = Level{static_cast<std::int32_t>(reference_ + 1000), 500};
    b.stale = false;
    b.trading_state = 'T';
    b.timestamp += 1'000'000;  // 1 ms of ITCH time per update
    ctx_.set_event(core::rdtsc(), b.timestamp);
    mm_->on_book(ctx_, b);
  }

  [[nodiscard]] const strategy::WorkingOrder* working(Side side) const {
    for (const auto& o : ctx_.orders())
      if (o.state != strategy::OrderState::kDone && o.id != 0 && o.side == side && o.leaves > 0) return &o;
    return nullptr;
  }
  // Displayed shares at `price` on the venue's bid side of the symbol.
  [[nodiscard]] std::uint64_t venue_bid_shares(Price price) const {
    for (const auto& d : venue_->books())
      if (d.name.view() == symbol_)
        for (const auto& l : d.bids)
          if (static_cast<Price>(l.price) == price) return l.shares;
    return 0;
  }

  std::unique_ptr<venue::testing::FeedReceiver> feed_;
  std::unique_ptr<venue::Venue> venue_;
  std::unique_ptr<OuchClient> counterparty_;
  std::string symbol_;
  Price reference_ = 0;

  net::EpollBackend backend_{net::BackendOptions{}};
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
  std::unique_ptr<EgressStage<net::EpollBackend>> egress_;

  std::vector<strategy::BookView> books_ = std::vector<strategy::BookView>(16);
  strategy::Context ctx_{0, "mm", &intents_, &books_};
  std::optional<strategy::MarketMaker> mm_;
};

TEST_F(ReplaceWire, AfterAPartialFillTheReplaceRestoresLeavesAtTheVenueAndIsNotRepeated) {
  ASSERT_TRUE(egress_->connect()) << egress_->last_error();
  ASSERT_TRUE(run([&] { return egress_->ready(); })) << "login and account query";
  counterparty_ = std::make_unique<OuchClient>("CAROL", "c", venue_->ouch_endpoint());
  ASSERT_TRUE(run([&] { return counterparty_->logged_in(); }));

  // The market maker quotes both sides; both quotes rest at the venue.
  book_update();
  ASSERT_TRUE(run([&] {
    const auto* b = working(Side::kBuy);
    const auto* a = working(Side::kSell);
    return b != nullptr && a != nullptr && b->state == strategy::OrderState::kWorking &&
           a->state == strategy::OrderState::kWorking;
  })) << "quotes accepted";
  const strategy::WorkingOrder* bid = working(Side::kBuy);
  const std::uint64_t bid_id = bid->id;
  const Price bid_price = bid->price;
  ASSERT_EQ(venue_bid_shares(bid_price), 100u) << "the venue holds the quote";

  // 60 of the bid's 100 shares execute: leaves 40, below half the quote size.
  ASSERT_TRUE(counterparty_->send(venue::testing::enter(1, ouch::Side::kSell, 60, symbol_,
                                                        static_cast<ouch::Price>(bid_price), ouch::TimeInForce::kIoc)));
  ASSERT_TRUE(run([&] { return ctx_.position(kLocate).shares == 60; })) << "the partial fill reaches the strategy";
  // The market maker replaces the bid back to its quote size (on the fill, or on the next book
  // update); let every answer land.
  book_update();
  settle();
  bid = ctx_.order(bid_id);
  ASSERT_NE(bid, nullptr) << "the bid is still working";
  ASSERT_EQ(bid->state, strategy::OrderState::kWorking);
  EXPECT_EQ(bid->leaves, 100u) << "the strategy sees its quote size working again";
  EXPECT_EQ(venue_bid_shares(bid->price), 100u)
      << "the venue's order has the intended leaves (OUCH 5.0: replace quantity = executed + new leaves)";
  const oms::Order* o = oms_.by_id(bid_id);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->leaves, 100u);
  EXPECT_EQ(o->filled, 60u);
  EXPECT_EQ(oms_.exposure(kLocate).open_buy, 100);

  // Book updates that do not move the wanted price send no replace.
  const std::uint64_t replaces = egress_->counters().sent_replace;
  for (int i = 0; i < 10; ++i) {
    book_update();
    settle(5);
  }
  EXPECT_EQ(egress_->counters().sent_replace, replaces) << "no replace per book update";
  EXPECT_EQ(gate_.rejected(RejectReason::kOrderRate), 0u);
}

}  // namespace
}  // namespace hft::pipeline
