// The risk/egress stage against a scripted OUCH 5.0 venue (SoupBinTCP server engine on the epoll
// runtime) over 127.0.0.1, on both backends: login and account query, orders accepted and
// executed, risk refusals that never reach the wire, cancels, and the kill switch.
#include "pipeline/stages/egress_stage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "gateways/soupbintcp/server.hpp"
#include "net/epoll_backend.hpp"
#include "net/tcp_server.hpp"
#include "net/uring_backend.hpp"

namespace hft::pipeline {
namespace {

// Accepts every order; executes a buy at or above 100.0000 in full; keeps the rest live under
// their UserRefNum as a real venue does: a replace moves the order to the new number (and is
// refused at a price of 99.0000), a cancel of a number that is not live is ignored (OUCH 5.0 §2.3).
struct ScriptedVenue {
  soup::ServerContext* ctx = nullptr;
  std::uint32_t user = 0;
  std::vector<char> seen;  // inbound types, in order
  std::uint64_t next_ref = 1000;
  std::uint64_t now = 0;
  std::map<ouch::UserRefNum, std::uint32_t> live;  // UserRefNum -> shares
  int ignored_cancels = 0;
  bool acknowledge = true;  // false: a venue that stops answering orders (Storm Guard's test)
  bool reject_new = false;  // true: every Enter Order is rejected (Storm Guard's reject-rate test)

  void on_event(const soup::SessionEvent&) {}
  void on_unsequenced(std::uint32_t u, std::span<const std::uint8_t> m, std::uint64_t) {
    user = u;
    ouch::decode_inbound(m.data(), m.size(), *this);
  }
  template <class T>
  void reply(const T& msg) {
    std::uint8_t buf[256];
    const std::size_t n = ouch::encode(buf, sizeof buf, msg);
    ctx->append(user, std::span<const std::uint8_t>(buf, n));
  }
  void on_message(const ouch::AccountQuery&) {
    seen.push_back('Q');
    ouch::AccountQueryResponse r;
    r.next_user_ref_num = 500;
    reply(r);
  }
  void on_message(const ouch::EnterOrder& o) {
    seen.push_back('O');
    if (!acknowledge) return;
    if (reject_new) {
      ouch::OrderRejected r;
      r.user_ref_num = o.user_ref_num;
      r.reason = ouch::RejectReason::kHalted;
      reply(r);
      return;
    }
    ouch::OrderAccepted a;
    a.user_ref_num = o.user_ref_num;
    a.side = o.side;
    a.quantity = o.quantity;
    a.symbol = o.symbol;
    a.price = o.price;
    a.order_reference_number = ++next_ref;
    reply(a);
    if (o.side == ouch::Side::kBuy && o.price >= 1'000'000) {
      ouch::OrderExecuted e;
      e.user_ref_num = o.user_ref_num;
      e.quantity = o.quantity;
      e.price = 1'000'000;
      e.match_number = next_ref;
      reply(e);
    } else {
      live[o.user_ref_num] = o.quantity;
    }
  }
  void on_message(const ouch::ReplaceOrder& m) {
    seen.push_back('U');
    const auto it = live.find(m.orig_user_ref_num);
    if (it == live.end()) return;  // §2.2: the order is no longer live
    if (m.price == 990'000) {
      ouch::OrderRejected r;
      r.user_ref_num = m.user_ref_num;
      r.reason = ouch::RejectReason::kReplaceNotAllowed;
      reply(r);
      return;
    }
    live.erase(it);
    live[m.user_ref_num] = m.quantity;
    ouch::OrderReplaced r;
    r.orig_user_ref_num = m.orig_user_ref_num;
    r.user_ref_num = m.user_ref_num;
    r.quantity = m.quantity;
    r.price = m.price;
    r.order_reference_number = ++next_ref;
    reply(r);
  }
  void on_message(const ouch::CancelOrder& c) {
    seen.push_back('X');
    const auto it = live.find(c.user_ref_num);
    if (it == live.end()) {
      ++ignored_cancels;
      return;
    }
    ouch::OrderCanceled r;
    r.user_ref_num = c.user_ref_num;
    r.quantity = it->second;
    live.erase(it);
    reply(r);
  }
  template <class T>
  void on_message(const T&) {
    seen.push_back('?');
  }
};

using ServerSessionT = soup::ServerSession<ScriptedVenue>;

template <class B>
class EgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (B::kKind == net::BackendKind::kIoUring) {
      const auto f = net::probe_io_uring();
      if (!f.available || !f.multishot_recv || !f.provided_buffer_ring) GTEST_SKIP() << f.describe();
    }
    soup::ServerConfig sc;
    sc.session = "TESTVENUE";
    sc.users = {{"HFT01", "pw"}};
    ctx_ = std::make_unique<soup::ServerContext>(sc);
    venue_.ctx = ctx_.get();
    server_ = std::make_unique<net::TcpServer<ServerSessionT>>(
        net::parse_endpoint("127.0.0.1:0"), net::TcpServerOptions{},
        [&](std::size_t) { return std::make_unique<ServerSessionT>(*ctx_, venue_); });
    symbols_.set(3, itch::Symbol::from("AAPL").key());
    refs_.set(3, 1'000'000);
    OrderEntryConfig oc;
    oc.venue = server_->local();
    oc.soup.username = "HFT01";
    oc.soup.password = "pw";
    oc.firm = "HFTA";
    backend_ = std::make_unique<B>(net::BackendOptions{});
    stage_ = std::make_unique<EgressStage<B>>(*backend_, oc, intents_, reports_, gate_, refs_, symbols_, oms_,
                                              typename EgressStage<B>::Hops{&d2w_, &t2t_, &send_});
    stage_->on_thread_start();
  }
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      server_->poll(0);
      stage_->poll();
      if (done()) return true;
    }
    return false;
  }
  OrderIntent intent(IntentType t, std::uint64_t id, Side side, Price px, Quantity qty) {
    OrderIntent in{};
    in.type = t;
    in.order_id = id;
    in.side = side;
    in.price = px;
    in.quantity = qty;
    in.locate = 3;
    in.strategy = 1;
    in.origin_tsc = core::rdtsc();
    in.decision_tsc = in.origin_tsc;
    return in;
  }
  std::vector<ExecReport> drain() {
    std::vector<ExecReport> v;
    ExecReport r;
    while (reports_.try_pop(r)) v.push_back(r);
    return v;
  }

  std::unique_ptr<soup::ServerContext> ctx_;
  ScriptedVenue venue_;
  std::unique_ptr<net::TcpServer<ServerSessionT>> server_;
  core::SpscRing<OrderIntent> intents_{256};
  core::SpscRing<ExecReport> reports_{256};
  risk::RiskLimits limits_ = [] {
    risk::RiskLimits l;
    l.max_order_quantity = 1000;
    return l;
  }();
  risk::RiskGate gate_{limits_, core::tsc_clock().ticks_per_ns() * 1e9};
  risk::ReferencePrices refs_{16};
  SymbolTable symbols_{16};
  oms::OrderManager oms_{64, 16, 1};
  core::Histogram d2w_{1, 10'000'000'000ull, 3}, t2t_{1, 10'000'000'000ull, 3}, send_{1, 10'000'000'000ull, 3};
  std::unique_ptr<B> backend_;
  std::unique_ptr<EgressStage<B>> stage_;
};

using Backends = ::testing::Types<net::UringBackend, net::EpollBackend>;
TYPED_TEST_SUITE(EgressTest, Backends);

TYPED_TEST(EgressTest, OrdersRiskCancelsAndKillSwitch) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }))
      << "login and account query; last session event: " << soup::describe(this->stage_->last_event());
  EXPECT_EQ(this->oms_.next_user_ref(), 500u) << "the venue's next UserRefNum is adopted";

  // A buy at the market executes; a resting sell is accepted.
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 1, Side::kBuy, 1'000'000, 100)));
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 2, Side::kSell, 1'010'000, 100)));
  std::vector<ExecReport> got;
  ASSERT_TRUE(this->run_until([&] {
    for (auto& r : this->drain()) got.push_back(r);
    return got.size() >= 3;
  }));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, ReportType::kAccepted);
  EXPECT_EQ(got[0].order_id, 1u);
  EXPECT_EQ(got[1].type, ReportType::kFill);
  EXPECT_EQ(got[1].quantity, 100u);
  EXPECT_EQ(got[2].type, ReportType::kAccepted);
  EXPECT_EQ(got[2].order_id, 2u);
  EXPECT_EQ(this->oms_.exposure(3).position, 100);
  EXPECT_EQ(this->t2t_.total_count(), 2u) << "tick-to-trade recorded per order sent";

  // Risk refusals come back at once and never reach the venue.
  const std::size_t venue_orders = this->venue_.seen.size();
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 3, Side::kBuy, 1'000'000, 5000)));
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 4, Side::kBuy, 2'000'000, 10)));
  got.clear();
  ASSERT_TRUE(this->run_until([&] {
    for (auto& r : this->drain()) got.push_back(r);
    return got.size() >= 2;
  }));
  EXPECT_EQ(got[0].reason, RejectReason::kMaxOrderQuantity);
  EXPECT_EQ(got[1].reason, RejectReason::kPriceBand);
  EXPECT_EQ(this->venue_.seen.size(), venue_orders);

  // Kill switch: the resting sell is cancelled at the venue, new orders are refused.
  this->gate_.set_kill_switch(true);
  got.clear();
  ASSERT_TRUE(this->run_until([&] {
    for (auto& r : this->drain()) got.push_back(r);
    return this->oms_.open_orders() == 0;
  }));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().type, ReportType::kCanceled);
  EXPECT_EQ(got.back().order_id, 2u);
  EXPECT_EQ(this->stage_->counters().kill_cancels, 1u);
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 5, Side::kBuy, 1'000'000, 10)));
  got.clear();
  ASSERT_TRUE(this->run_until([&] {
    for (auto& r : this->drain()) got.push_back(r);
    return !got.empty();
  }));
  EXPECT_EQ(got[0].reason, RejectReason::kKillSwitch);
  EXPECT_EQ(this->venue_.seen.back(), 'X');
}

// A cancel sent while a replace of the same order is in flight reaches the order whichever way
// the venue decides the replace; so does the kill switch. Each case's replace and cancel go out
// before the venue reads either.
TYPED_TEST(EgressTest, CancelDuringReplaceReachesTheOrder) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  auto rest = [&](std::uint64_t id) {
    ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, id, Side::kSell, 1'010'000, 100)));
    ASSERT_TRUE(this->run_until([&] {
      this->drain();
      return this->oms_.by_id(id) != nullptr && this->oms_.by_id(id)->state == oms::OrderState::kLive;
    }));
  };
  auto flat = [&] {
    return this->run_until([&] {
      this->drain();
      return this->oms_.open_orders() == 0 && this->venue_.live.empty();
    });
  };
  // The replace goes through: the order lives under the new number when the cancel arrives.
  rest(1);
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kReplace, 1, Side::kSell, 1'020'000, 100)));
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kCancel, 1, Side::kSell, 0, 0)));
  this->stage_->poll();
  EXPECT_TRUE(flat()) << this->venue_.live.size() << " live at the venue, " << this->oms_.open_orders() << " open";
  // The replace is refused: the order still lives under the original number.
  rest(2);
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kReplace, 2, Side::kSell, 990'000, 100)));
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kCancel, 2, Side::kSell, 0, 0)));
  this->stage_->poll();
  EXPECT_TRUE(flat()) << this->venue_.live.size() << " live at the venue, " << this->oms_.open_orders() << " open";
  // The kill switch goes on with a replace in flight.
  rest(3);
  EXPECT_FALSE(this->stage_->published_killed_flat());
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kReplace, 3, Side::kSell, 1'020'000, 100)));
  this->stage_->poll();  // the replace is sent; the venue has not read it yet
  ASSERT_EQ(this->oms_.by_id(3)->state, oms::OrderState::kPendingReplace);
  this->gate_.set_kill_switch(true);
  this->stage_->poll();
  EXPECT_FALSE(this->stage_->published_killed_flat()) << "the order is still working";
  EXPECT_TRUE(flat()) << this->venue_.live.size() << " live at the venue, " << this->oms_.open_orders() << " open";
  this->stage_->poll();
  EXPECT_TRUE(this->stage_->published_killed_flat());
  EXPECT_EQ(this->venue_.ignored_cancels, 3) << "one superfluous cancel per case; the venue saw " << std::string(this->venue_.seen.begin(), this->venue_.seen.end());
  this->gate_.set_kill_switch(false);
  this->stage_->poll();
  EXPECT_FALSE(this->stage_->published_killed_flat());
}

// The flag that shutdown waits for says nothing until a poll has seen the kill switch: an
// order intent still in the ring when the switch goes on is met by it, not sent.
TYPED_TEST(EgressTest, KilledFlatOnlyAfterAPollSawTheSwitch) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  EXPECT_FALSE(this->stage_->published_killed_flat());
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 1, Side::kSell, 1'010'000, 100)));
  const std::uint64_t polls = this->stage_->published_polls();
  this->gate_.set_kill_switch(true);
  EXPECT_FALSE(this->stage_->published_killed_flat()) << "no poll has seen the switch yet";
  this->stage_->poll();
  EXPECT_EQ(this->stage_->published_polls(), polls + 1);
  EXPECT_TRUE(this->stage_->published_killed_flat());
  const auto got = this->drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].reason, RejectReason::kKillSwitch);
  EXPECT_TRUE(this->venue_.live.empty());
}

// Issue 11's checks through the real stage: for each, an order just inside its limit reaches the
// venue and one just outside comes back refused with its reason and never reaches the wire.
TYPED_TEST(EgressTest, MarketChecksRefuseJustOutsideTheirLimits) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  auto& refs = this->refs_;
  refs.set_touch(3, 999'000, 1'001'000, core::rdtsc());
  refs.set(3, 1'000'000, 100, core::rdtsc());  // average trade size 100
  risk::RiskLimits l = this->limits_;
  l.price_collar_bps = 10;
  l.fat_finger_multiple = 3;
  l.duplicate_window_ms = 60'000;
  l.reference_max_age_ms = 60'000;
  this->gate_.set_limits(l);
  std::uint64_t id = 0;
  // Sends a new sell (resting at this venue) and returns its first report's reason (kNone: accepted).
  auto sell = [&](Price px, Quantity qty) {
    const std::uint64_t my = ++id;
    EXPECT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my, Side::kSell, px, qty)));
    std::optional<ExecReport> got;
    EXPECT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my && !got) got = r;
      return got.has_value();
    }));
    return got && got->type == ReportType::kRejected ? got->reason : RejectReason::kNone;
  };
  auto orders_at_venue = [&] { return std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'O'); };

  // Collar: 10 bps of the $99.90 bid is 999 ticks.
  EXPECT_EQ(sell(998'001, 100), RejectReason::kNone);
  auto seen = orders_at_venue();
  EXPECT_EQ(sell(998'000, 100), RejectReason::kPriceCollar);
  EXPECT_EQ(orders_at_venue(), seen);
  // Collar in ticks: 500 ticks below the $99.90 bid passes, 501 is refused (the bps collar off).
  l.price_collar_bps = 0;
  l.price_collar_ticks = 500;
  this->gate_.set_limits(l);
  EXPECT_EQ(sell(998'500, 100), RejectReason::kNone);
  seen = orders_at_venue();
  EXPECT_EQ(sell(998'499, 100), RejectReason::kPriceCollar);
  EXPECT_EQ(orders_at_venue(), seen);
  l.price_collar_ticks = 0;
  l.price_collar_bps = 10;
  this->gate_.set_limits(l);
  // Fat finger: 3 x 100 shares.
  EXPECT_EQ(sell(1'005'000, 300), RejectReason::kNone);
  seen = orders_at_venue();
  EXPECT_EQ(sell(1'005'100, 301), RejectReason::kFatFinger);
  EXPECT_EQ(orders_at_venue(), seen);
  // Duplicate: the same order again within the window.
  EXPECT_EQ(sell(1'005'000, 300), RejectReason::kDuplicate);
  EXPECT_EQ(orders_at_venue(), seen);
  // Symbol notional: room for exactly 100 more shares at $100.20.
  const risk::Exposure ex = this->oms_.exposure(3);
  l.max_symbol_notional = (ex.open_sell - ex.position + 100) * 1'002'000;
  this->gate_.set_limits(l);
  EXPECT_EQ(sell(1'002'000, 100), RejectReason::kNone);
  seen = orders_at_venue();
  EXPECT_EQ(sell(1'002'100, 1), RejectReason::kSymbolNotional);
  EXPECT_EQ(orders_at_venue(), seen);
  l.max_symbol_notional = 0;
  // Halted by the feed, then trading again.
  refs.set_state(3, 'H', core::rdtsc());
  this->gate_.set_limits(l);
  EXPECT_EQ(sell(1'003'000, 10), RejectReason::kSymbolHalted);
  refs.set_state(3, 'T', core::rdtsc());
  EXPECT_EQ(sell(1'003'000, 10), RejectReason::kNone);
  // Stale: no market update for longer than 200 ms.
  l.reference_max_age_ms = 200;
  this->gate_.set_limits(l);
  refs.set_touch(3, 999'000, 1'001'000, core::rdtsc());
  EXPECT_EQ(sell(1'003'100, 10), RejectReason::kNone);
  const auto quiet = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
  while (std::chrono::steady_clock::now() < quiet) this->stage_->poll();
  seen = orders_at_venue();
  EXPECT_EQ(sell(1'003'200, 10), RejectReason::kStaleReference);
  EXPECT_EQ(orders_at_venue(), seen);
  refs.set_touch(3, 999'000, 1'001'000, core::rdtsc());
  EXPECT_EQ(sell(1'003'200, 10), RejectReason::kNone);
  // Message rate: a bucket of 3 (no refill to speak of). A cancel uses one and goes out; one new
  // order fits; the next is refused; a cancel still goes out.
  l.reference_max_age_ms = 0;
  l.max_messages_per_second = 0.001;
  l.message_burst = 3;
  this->gate_.set_limits(l);
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kCancel, 1, Side::kSell, 0, 0)));
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kCancel, 3, Side::kSell, 0, 0)));
  ASSERT_TRUE(this->run_until([&] {
    this->drain();
    return this->oms_.by_id(1) == nullptr && this->oms_.by_id(3) == nullptr;
  }));
  EXPECT_EQ(sell(1'004'000, 10), RejectReason::kNone);
  seen = orders_at_venue();
  EXPECT_EQ(sell(1'004'100, 10), RejectReason::kMessageRate);
  EXPECT_EQ(orders_at_venue(), seen);
  const auto cancels = std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'X');
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kCancel, id - 1, Side::kSell, 0, 0)));
  ASSERT_TRUE(this->run_until([&] {
    this->drain();
    return std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'X') > cancels;
  })) << "a cancel is never refused, whatever the message bucket says";
  EXPECT_EQ(this->gate_.rejected(RejectReason::kPriceCollar), 2u) << "bps and ticks";
  // Restricted list: locate 3's symbol on it refuses; another symbol on it does not.
  l.max_messages_per_second = 0;
  l.restricted[0] = itch::Symbol::from("NOPE").key();
  l.restricted_count = 1;
  this->gate_.set_limits(l);
  EXPECT_EQ(sell(1'004'200, 10), RejectReason::kNone);
  l.restricted[1] = this->symbols_.symbol(3).key();
  ASSERT_NE(l.restricted[1], 0u) << "locate 3 has a symbol";
  l.restricted_count = 2;
  this->gate_.set_limits(l);
  seen = orders_at_venue();
  EXPECT_EQ(sell(1'004'300, 10), RejectReason::kRestricted);
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(this->gate_.rejected(RejectReason::kRestricted), 1u);
  l.restricted_count = 0;
  // Buying power: room for exactly 10 more shares to buy at $99.00 (resting, below the bid).
  {
    const risk::Exposure bx = this->oms_.exposure(3);
    l.max_buying_power = this->oms_.totals().buying_power - bx.buy_notional +
                         ((bx.position > 0 ? bx.position : 0) + bx.open_buy + 10) * 990'000;
    this->gate_.set_limits(l);
    const std::uint64_t my = ++id;
    ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my, Side::kBuy, 990'000, 10)));
    std::optional<ExecReport> got;
    ASSERT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my && !got) got = r;
      return got.has_value();
    }));
    EXPECT_NE(got->type, ReportType::kRejected) << static_cast<int>(got->reason);
    seen = orders_at_venue();
    const std::uint64_t my2 = ++id;
    ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my2, Side::kBuy, 990'000, 1)));
    std::optional<ExecReport> got2;
    ASSERT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my2 && !got2) got2 = r;
      return got2.has_value();
    }));
    EXPECT_EQ(got2->reason, RejectReason::kBuyingPower);
    EXPECT_EQ(orders_at_venue(), seen);
    l.max_buying_power = 0;
    this->gate_.set_limits(l);
  }
  for (const RejectReason r : {RejectReason::kFatFinger, RejectReason::kDuplicate,
                               RejectReason::kSymbolNotional, RejectReason::kSymbolHalted,
                               RejectReason::kStaleReference, RejectReason::kMessageRate})
    EXPECT_EQ(this->gate_.rejected(r), 1u) << static_cast<int>(r);
}

// Issue 11: per-strategy limits ([[strategies]] risk_*) through the real stage. Strategy 1 has
// limits, strategy 2 none: each limit passes an order just inside and refuses one just outside
// (never on the wire), and strategy 2's orders pass while strategy 1 is at its limit (one
// strategy cannot consume another's budget).
TYPED_TEST(EgressTest, PerStrategyLimitsJustInsideAndOutside) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  std::uint64_t id = 0;
  auto send = [&](std::uint8_t strategy, Side side, Price px, Quantity qty) {
    const std::uint64_t my = ++id;
    OrderIntent in = this->intent(IntentType::kNew, my, side, px, qty);
    in.strategy = strategy;
    EXPECT_TRUE(this->intents_.try_push(in));
    std::optional<ExecReport> got;
    EXPECT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my && !got) got = r;
      return got.has_value();
    }));
    return got && got->type == ReportType::kRejected ? got->reason : RejectReason::kNone;
  };
  auto orders_at_venue = [&] { return std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'O'); };
  risk::RiskLimits l = this->limits_;
  // Position: 300 shares of strategy 1's own (resting sells at $101).
  l.strategy[1].max_position = 300;
  this->gate_.set_limits(l);
  this->stage_->track_strategy_limits();
  EXPECT_EQ(send(1, Side::kSell, 1'010'000, 200), RejectReason::kNone);
  EXPECT_EQ(send(1, Side::kSell, 1'010'000, 100), RejectReason::kNone);
  auto seen = orders_at_venue();
  EXPECT_EQ(send(1, Side::kSell, 1'010'100, 1), RejectReason::kStrategyPosition);
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(send(2, Side::kSell, 1'010'000, 300), RejectReason::kNone) << "strategy 2 has its own budget";
  // Notional: strategy 1 has 300 shares working at $101; room for exactly 100 more at $101.
  l.strategy[1].max_position = 0;
  l.strategy[1].max_notional = 400 * 1'010'000;
  this->gate_.set_limits(l);
  EXPECT_EQ(send(1, Side::kSell, 1'010'000, 100), RejectReason::kNone);
  seen = orders_at_venue();
  EXPECT_EQ(send(1, Side::kSell, 1'010'000, 1), RejectReason::kStrategyNotional);
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(send(2, Side::kSell, 1'010'000, 100), RejectReason::kNone);
  // Order rate: a bucket of one order (0.001 orders/s refills nothing in this test).
  l.strategy[1].max_notional = 0;
  l.strategy[1].max_orders_per_second = 0.001;
  this->gate_.set_limits(l);
  EXPECT_EQ(send(1, Side::kSell, 1'010'200, 10), RejectReason::kNone);
  seen = orders_at_venue();
  EXPECT_EQ(send(1, Side::kSell, 1'010'300, 10), RejectReason::kStrategyOrderRate);
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(send(2, Side::kSell, 1'010'300, 10), RejectReason::kNone);
  // Loss: strategy 1 buys 100 at $100.00 (filled), marked at a mid of $99.00: -$100.00. A limit of
  // $100.01 holds; $100.00 trips, cancels strategy 1's resting orders (not strategy 2's), and
  // lets through only strategy 1's orders toward flat.
  l.strategy[1].max_orders_per_second = 0;
  l.strategy[1].max_loss = 1'000'100;
  this->gate_.set_limits(l);
  EXPECT_EQ(send(1, Side::kBuy, 1'000'000, 100), RejectReason::kNone);
  ASSERT_TRUE(this->run_until([&] { return this->oms_.ledger(1)->exposure[3].position == 100; }));
  this->refs_.set_touch(3, 989'000, 991'000, core::rdtsc());
  ASSERT_TRUE(this->run_until([&] { return this->gate_.strategy_pnl(1) == -1'000'000; }));
  EXPECT_FALSE(this->gate_.strategy_tripped(1)) << "-$100.00 against a $100.01 limit";
  EXPECT_EQ(this->stage_->counters().strategy_loss_trips, 0u);
  const auto cancels = std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'X');
  l.strategy[1].max_loss = 1'000'000;
  this->gate_.set_limits(l);
  ASSERT_TRUE(this->run_until([&] { return this->gate_.strategy_tripped(1); }));
  ASSERT_TRUE(this->run_until([&] {
    this->drain();
    bool s1 = false;
    this->oms_.for_each_working([&](oms::Order& o) { s1 = s1 || o.strategy == 1; });
    return !s1;
  })) << "strategy 1's resting orders are cancelled at the venue";
  EXPECT_GT(std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'X'), cancels);
  bool s2 = false;
  this->oms_.for_each_working([&](oms::Order& o) { s2 = s2 || o.strategy == 2; });
  EXPECT_TRUE(s2) << "strategy 2's orders stay";
  seen = orders_at_venue();
  EXPECT_EQ(send(1, Side::kBuy, 990'000, 10), RejectReason::kStrategyLoss);
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(send(1, Side::kSell, 990'000, 100), RejectReason::kNone) << "toward flat";
  EXPECT_EQ(send(2, Side::kBuy, 990'000, 10), RejectReason::kNone);
  EXPECT_EQ(this->stage_->counters().strategy_loss_trips, 1u);
  bool event = false;
  for (std::uint64_t s = 1; s <= this->stage_->risk_event_count(); ++s)
    event = event || (this->stage_->risk_event(s).kind == 6 && this->stage_->risk_event(s).strategy == 1);
  EXPECT_TRUE(event) << "the trip is a risk event";
  this->gate_.reset_breaker(0);
  EXPECT_EQ(send(1, Side::kBuy, 990'000, 10), RejectReason::kNone) << "after the operator's reset";
  for (const RejectReason r : {RejectReason::kStrategyPosition, RejectReason::kStrategyNotional,
                               RejectReason::kStrategyOrderRate, RejectReason::kStrategyLoss})
    EXPECT_EQ(this->gate_.rejected(r), 1u) << static_cast<int>(r);
}

// Issue 11: Reg SHO through the real stage. With ITCH 'Y' in effect for the symbol, a short sale
// (a sell beyond the firm's long position) one tick above the national best bid passes and one at
// the bid is refused (never on the wire); a long sale at the bid passes; once lifted, a short
// sale at the bid passes.
TYPED_TEST(EgressTest, RegShoRefusesShortSalesAtOrBelowTheBid) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  std::uint64_t id = 0;
  auto send = [&](Side side, Price px, Quantity qty) {
    const std::uint64_t my = ++id;
    EXPECT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my, side, px, qty)));
    std::optional<ExecReport> got;
    EXPECT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my && !got) got = r;
      return got.has_value();
    }));
    return got && got->type == ReportType::kRejected ? got->reason : RejectReason::kNone;
  };
  auto orders_at_venue = [&] { return std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'O'); };
  this->refs_.set_touch(3, 999'000, 1'001'000, core::rdtsc());
  this->refs_.set_reg_sho(3, '1');
  EXPECT_EQ(send(Side::kSell, 999'001, 100), RejectReason::kNone) << "a short sale above the bid";
  auto seen = orders_at_venue();
  EXPECT_EQ(send(Side::kSell, 999'000, 100), RejectReason::kShortSaleRestricted) << "at the bid";
  EXPECT_EQ(orders_at_venue(), seen);
  // Buy 200 (filled): 200 long, 100 working to sell: a sale of 100 at the bid is a long sale.
  EXPECT_EQ(send(Side::kBuy, 1'000'000, 200), RejectReason::kNone);
  ASSERT_TRUE(this->run_until([&] { return this->oms_.exposure(3).position == 200; }));
  EXPECT_EQ(send(Side::kSell, 999'000, 100), RejectReason::kNone) << "a long sale";
  seen = orders_at_venue();
  EXPECT_EQ(send(Side::kSell, 999'000, 1), RejectReason::kShortSaleRestricted) << "one share beyond the long position";
  EXPECT_EQ(orders_at_venue(), seen);
  this->refs_.set_reg_sho(3, '0');
  EXPECT_EQ(send(Side::kSell, 999'000, 1), RejectReason::kNone) << "restriction lifted";
  this->refs_.set_reg_sho(3, '2');
  this->refs_.set_state(3, 'H', core::rdtsc());
  EXPECT_EQ(send(Side::kBuy, 999'000, 1), RejectReason::kSymbolHalted) << "halted still refuses";
  EXPECT_EQ(this->gate_.rejected(RejectReason::kShortSaleRestricted), 2u);
}

// Issue 11: Storm Guard's reject-rate driver through the real stage: a venue that starts
// rejecting every order takes the global state to STORM once the rejects reach the threshold
// share of at least 10 answers in the window; the transition is an event with that cause.
TYPED_TEST(EgressTest, StormGuardRejectRateOfTheVenue) {
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  risk::RiskLimits l = this->limits_;
  l.storm_reject_rate_pct = 50;
  l.storm_entry_window_ms = 60'000;
  this->gate_.set_limits(l);
  std::uint64_t id = 0;
  auto send = [&](Price px) {
    const std::uint64_t my = ++id;
    ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my, Side::kSell, px, 10)));
    ASSERT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my) return true;
      return false;
    }));
  };
  for (int i = 0; i < 6; ++i) send(1'010'000 + i * 100);  // accepted
  this->venue_.reject_new = true;
  for (int i = 0; i < 4; ++i) send(1'011'000 + i * 100);  // 4 of 10 rejected: 40 %: WARN at 25 %
  const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  while (std::chrono::steady_clock::now() < settle) this->stage_->poll();
  EXPECT_EQ(this->stage_->storm_guard().global(), risk::StormState::kWarn);
  send(1'012'000);
  send(1'012'100);  // 6 of 12: 50 %: STORM
  ASSERT_TRUE(this->run_until([&] { return this->stage_->storm_guard().global() == risk::StormState::kStorm; }));
  bool event = false;
  for (std::uint64_t s = 1; s <= this->stage_->risk_event_count(); ++s) {
    const RiskEvent& e = this->stage_->risk_event(s);
    if (e.kind == 5 && e.code == static_cast<std::uint8_t>(risk::StormState::kStorm) &&
        e.strategy == static_cast<std::uint8_t>(risk::StormCause::kRejectRate))
      event = event || std::abs(e.a - 50.0) < 1e-9;
  }
  EXPECT_TRUE(event) << "a STORM event with the reject rate (50 %) as its cause";
}

// Issue 11: the daily-loss circuit breaker through the real stage. The day's P&L (realized +
// unrealized at the mid) just above -max_daily_loss leaves it closed; just at it trips it: every
// working order is cancelled at the venue, an order that adds risk is refused (and never reaches
// the wire), one that reduces the position still goes out, until the operator's reset.
TYPED_TEST(EgressTest, LossBreakerTripsCancelsAndAllowsOnlyReducingOrders) {
  core::SpscRing<ControlRequest> control(8);
  this->stage_->set_control_ring(&control);
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  auto& refs = this->refs_;
  refs.set_touch(3, 999'000, 1'001'000, core::rdtsc());
  risk::RiskLimits l = this->limits_;
  l.max_daily_loss = 99 * 10'000;  // $99
  this->gate_.set_limits(l);
  std::uint64_t id = 0;
  auto send = [&](Side side, Price px, Quantity qty) {
    const std::uint64_t my = ++id;
    EXPECT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my, side, px, qty)));
    std::optional<ExecReport> got;
    EXPECT_TRUE(this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my && !got) got = r;
      return got.has_value();
    }));
    return got && got->type == ReportType::kRejected ? got->reason : RejectReason::kNone;
  };
  auto orders_at_venue = [&] { return std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'O'); };
  // Long 100 at $100.00 (the venue fills the buy) and a resting buy of 10 at $99.90.
  ASSERT_EQ(send(Side::kBuy, 1'000'000, 100), RejectReason::kNone);
  ASSERT_TRUE(this->run_until([&] { return this->oms_.exposure(3).position == 100; }));
  ASSERT_EQ(send(Side::kBuy, 999'000, 10), RejectReason::kNone);
  ASSERT_EQ(this->venue_.live.size(), 1u);
  // Mid $99.0101: P&L -$98.99, just inside.
  refs.set_touch(3, 990'100, 990'102, core::rdtsc());
  const auto settle = [&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (std::chrono::steady_clock::now() < until) {
      this->server_->poll(0);
      this->stage_->poll();
    }
  };
  settle();
  EXPECT_EQ(this->gate_.breaker().pnl, -989'900);
  EXPECT_EQ(this->gate_.breaker().cause, risk::BreakerCause::kNone);
  EXPECT_FALSE(this->gate_.reduce_only());
  // Mid $99.0099: P&L -$99.01, just outside: tripped, the resting buy cancelled at the venue.
  refs.set_touch(3, 990'098, 990'100, core::rdtsc());
  ASSERT_TRUE(this->run_until([&] { return this->gate_.breaker().cause == risk::BreakerCause::kDailyLoss; }));
  EXPECT_EQ(this->gate_.breaker().trip_pnl, -990'100);
  ASSERT_TRUE(this->run_until([&] {
    this->drain();
    return this->venue_.live.empty() && this->oms_.open_orders() == 0;
  })) << "the breaker cancels every working order";
  EXPECT_EQ(this->stage_->counters().breaker_trips, 1u);
  EXPECT_EQ(this->stage_->counters().breaker_cancels, 1u);
  auto seen = orders_at_venue();
  EXPECT_EQ(send(Side::kBuy, 990'100, 1), RejectReason::kLossBreaker) << "adds to the long";
  EXPECT_EQ(send(Side::kSell, 1'010'000, 101), RejectReason::kLossBreaker) << "would flip the position short";
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(send(Side::kSell, 1'010'000, 60), RejectReason::kNone) << "reduces the long";
  EXPECT_EQ(send(Side::kSell, 1'010'000, 40), RejectReason::kNone) << "reduces it to flat (counting the working sell)";
  seen = orders_at_venue();
  EXPECT_EQ(send(Side::kSell, 1'010'000, 1), RejectReason::kLossBreaker) << "the working sells already flatten it";
  EXPECT_EQ(orders_at_venue(), seen);
  EXPECT_EQ(this->gate_.rejected(RejectReason::kLossBreaker), 3u);
  // The operator's reset: orders that add risk go out again; the peak starts at the P&L then.
  ControlRequest reset{};
  reset.op = ControlRequest::Op::kResetRisk;
  reset.id = 1;
  ASSERT_TRUE(control.try_push(reset));
  ASSERT_TRUE(this->run_until([&] { return this->stage_->control_applied() == 1; }));
  EXPECT_EQ(this->gate_.breaker().cause, risk::BreakerCause::kNone);
  EXPECT_EQ(this->gate_.breaker().peak, -990'100);
  EXPECT_EQ(send(Side::kBuy, 990'000, 1), RejectReason::kNone);
  // The events: the trip and the reset; the refusals (a ring of their own) with their values.
  std::vector<std::uint8_t> kinds;
  for (std::uint64_t s = 1; s <= this->stage_->risk_event_count(); ++s) kinds.push_back(this->stage_->risk_event(s).kind);
  EXPECT_EQ(kinds, (std::vector<std::uint8_t>{2, 3}));
  EXPECT_EQ(this->stage_->refusal_event_count(), 3u);
  const RiskEvent& trip = this->stage_->risk_event(1);
  EXPECT_DOUBLE_EQ(trip.a, -99.01);
  EXPECT_DOUBLE_EQ(trip.c, 99.0);
  const RiskEvent& refusal = this->stage_->refusal_event(1);
  EXPECT_EQ(refusal.code, static_cast<std::uint8_t>(RejectReason::kLossBreaker));
  EXPECT_EQ(refusal.side, 'B');
  EXPECT_DOUBLE_EQ(refusal.a, 99.01);
  EXPECT_EQ(std::string(refusal.name, 4), "AAPL");
}

// Issue 11: Storm Guard through the real stage. A venue that stops acknowledging drives the global
// state to WARN, then STORM (resting orders cancelled, orders that add risk refused), and a
// dropped feed held past storm_halt_after_ms to HALT (every order refused) until the reset.
TYPED_TEST(EgressTest, StormGuardOnAVenueThatStopsAcknowledgingAndADroppedFeed) {
  core::SpscRing<ControlRequest> control(8);
  this->stage_->set_control_ring(&control);
  risk::StormInputs inputs;
  this->stage_->set_storm_inputs(&inputs);
  ASSERT_TRUE(this->stage_->connect()) << this->stage_->last_error();
  ASSERT_TRUE(this->run_until([&] { return this->stage_->ready(); }));
  risk::RiskLimits l = this->limits_;
  l.storm_ack_timeout_ms = 200;
  l.storm_feed_gap_ms = 100;
  l.storm_halt_after_ms = 300;
  l.storm_min_dwell_ms = 0;
  this->gate_.set_limits(l);
  std::uint64_t id = 0;
  auto send = [&](Side side, Price px, Quantity qty) {
    const std::uint64_t my = ++id;
    EXPECT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, my, side, px, qty)));
    std::optional<ExecReport> got;
    this->run_until([&] {
      for (auto& r : this->drain())
        if (r.order_id == my && !got) got = r;
      return got.has_value();
    });
    return got && got->type == ReportType::kRejected ? got->reason : RejectReason::kNone;
  };
  const auto& storm = this->stage_->storm_guard();
  // A resting sell, acknowledged; then the venue goes silent and a buy waits for its answer.
  ASSERT_EQ(send(Side::kSell, 1'010'000, 100), RejectReason::kNone);
  ASSERT_EQ(this->venue_.live.size(), 1u);
  this->venue_.acknowledge = false;
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, ++id, Side::kBuy, 990'000, 10)));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(this->run_until([&] { return storm.global() == risk::StormState::kWarn; }));
  const auto warn_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(warn_ms, 90) << "WARN at half of the 200 ms timeout, not before";
  ASSERT_TRUE(this->run_until([&] { return storm.global() == risk::StormState::kStorm; }));
  ASSERT_TRUE(this->run_until([&] {
    this->drain();
    return this->venue_.live.empty();
  })) << "STORM cancels the resting orders";
  const auto orders = std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'O');
  EXPECT_EQ(send(Side::kBuy, 990'000, 10), RejectReason::kStormGuard) << "flat: every order adds risk";
  EXPECT_EQ(std::count(this->venue_.seen.begin(), this->venue_.seen.end(), 'O'), orders);
  // The venue answers again (the waiting buy is accepted): back to NORMAL, a level at a time.
  this->venue_.acknowledge = true;
  ouch::OrderAccepted late;
  late.user_ref_num = this->oms_.next_user_ref() - 1;
  late.side = ouch::Side::kBuy;
  late.quantity = 10;
  late.symbol = ouch::Symbol::from("AAPL");
  late.price = 990'000;
  late.order_reference_number = 77;
  this->venue_.reply(late);
  ASSERT_TRUE(this->run_until([&] {
    this->drain();
    return storm.global() == risk::StormState::kNormal;
  }));
  // A dropped feed: a gap open since 150 ms ago is STORM at once, and held 300 ms, HALT.
  inputs.feed_gap_since_ns.store(core::tsc_clock().to_monotonic_ns(core::rdtsc()) - 150'000'000);
  ASSERT_TRUE(this->run_until([&] { return storm.global() == risk::StormState::kStorm; }));
  ASSERT_TRUE(this->run_until([&] { return storm.global() == risk::StormState::kHalt; }));
  inputs.feed_gap_since_ns.store(0);
  const auto quiet = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  while (std::chrono::steady_clock::now() < quiet) this->stage_->poll();
  EXPECT_EQ(storm.global(), risk::StormState::kHalt) << "HALT stays when the feed is back";
  EXPECT_EQ(send(Side::kSell, 1'010'000, 10), RejectReason::kStormGuard) << "HALT: even a reducing sell (long 0)";
  ControlRequest reset{};
  reset.op = ControlRequest::Op::kResetRisk;
  reset.id = 1;
  ASSERT_TRUE(control.try_push(reset));
  ASSERT_TRUE(this->run_until([&] { return this->stage_->control_applied() == 1; }));
  EXPECT_EQ(storm.global(), risk::StormState::kNormal);
  EXPECT_EQ(send(Side::kSell, 1'010'000, 10), RejectReason::kNone);
  // Every transition is an event with its cause.
  std::vector<std::pair<int, int>> moves;  // (to, cause)
  for (std::uint64_t s = 1; s <= this->stage_->risk_event_count(); ++s) {
    const RiskEvent& e = this->stage_->risk_event(s);
    if (e.kind == 5) moves.emplace_back(e.code, e.strategy);
  }
  using SS = risk::StormState;
  using SC = risk::StormCause;
  const auto m = [](SS s, SC c) { return std::pair<int, int>(static_cast<int>(s), static_cast<int>(c)); };
  EXPECT_EQ(moves, (std::vector<std::pair<int, int>>{m(SS::kWarn, SC::kOrderEntry), m(SS::kStorm, SC::kOrderEntry),
                                                      m(SS::kWarn, SC::kCalm), m(SS::kNormal, SC::kCalm),
                                                      m(SS::kStorm, SC::kFeed), m(SS::kHalt, SC::kHeldStorm),
                                                      m(SS::kNormal, SC::kReset)}));
}

// Issue 11: the drawdown triggers, from the day's peak, through the same marks.
TEST(LossBreaker, DrawdownFromThePeakAbsoluteAndPercent) {
  risk::RiskLimits l;
  l.max_drawdown = 500 * 10'000;  // $500 below the peak
  risk::RiskGate g(l, 1e9);
  EXPECT_EQ(g.mark_pnl(2'000 * 10'000), risk::BreakerCause::kNone);
  EXPECT_EQ(g.mark_pnl(1'500 * 10'000 + 1), risk::BreakerCause::kNone) << "$499.9999 below the peak";
  EXPECT_EQ(g.mark_pnl(1'500 * 10'000), risk::BreakerCause::kDrawdown) << "$500 below the peak";
  EXPECT_EQ(g.mark_pnl(0), risk::BreakerCause::kNone) << "tripped once";
  EXPECT_TRUE(g.reduce_only());
  g.reset_breaker(0);
  EXPECT_FALSE(g.reduce_only());
  EXPECT_EQ(g.breaker().peak, 0);
  // 5% of ($100,000 equity + the $1,000 peak) = $5,050.
  l.max_drawdown = 0;
  l.max_drawdown_pct = 5;
  l.account_equity = 100'000 * 10'000ll;
  g.set_limits(l);
  EXPECT_EQ(g.mark_pnl(1'000 * 10'000), risk::BreakerCause::kNone);
  EXPECT_EQ(g.mark_pnl(-4'050 * 10'000 + 1), risk::BreakerCause::kNone);
  EXPECT_EQ(g.mark_pnl(-4'050 * 10'000), risk::BreakerCause::kDrawdownPct);
  // A daily loss with no peak: the loss alone.
  risk::RiskLimits d;
  d.max_daily_loss = 1'000 * 10'000;
  risk::RiskGate h(d, 1e9);
  EXPECT_EQ(h.mark_pnl(-1'000 * 10'000 + 1), risk::BreakerCause::kNone);
  EXPECT_EQ(h.mark_pnl(-1'000 * 10'000), risk::BreakerCause::kDailyLoss);
}

TYPED_TEST(EgressTest, OrdersBeforeLoginAreRefusedNotQueued) {
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 1, Side::kBuy, 1'000'000, 100)));
  this->stage_->poll();
  const auto got = this->drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].reason, RejectReason::kNotConnected);
  EXPECT_TRUE(this->venue_.seen.empty());
}

TYPED_TEST(EgressTest, UnreachableVenueIsAClearError) {
  OrderEntryConfig oc;
  oc.venue = net::parse_endpoint("127.0.0.1:1");
  oc.soup.username = "X";
  TypeParam b(net::BackendOptions{});
  EgressStage<TypeParam> s(b, oc, this->intents_, this->reports_, this->gate_, this->refs_, this->symbols_, this->oms_,
                           typename EgressStage<TypeParam>::Hops{&this->d2w_, &this->t2t_, &this->send_});
  EXPECT_FALSE(s.connect());
  EXPECT_NE(s.last_error().find("127.0.0.1:1"), std::string::npos) << s.last_error();
}


// Issue 10, defect 4: a reconnect must not block the pipeline thread. The venue's listener has a
// full accept queue, so the kernel drops our SYN and a blocking connect waits out its timeout;
// every poll() must still return at once (non-blocking connect, checked on later polls).
TYPED_TEST(EgressTest, ReconnectNeverBlocksThePoll) {
  net::Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener.get(), 0), 0);
  const net::Endpoint where = net::local_endpoint(listener.get());
  std::vector<net::Fd> fillers;  // fill the accept queue (never accepted)
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    (void)::connect(fillers.back().get(), reinterpret_cast<const sockaddr*>(&where.addr), sizeof where.addr);
  }
  OrderEntryConfig oc;
  oc.venue = where;
  oc.soup.username = "X";
  // A blocking connect would hold poll() for the whole timeout (1 s); the bound below is half of
  // it, so a descheduled pass on a loaded 2-CPU host (130 ms seen under ctest -j2) is no failure.
  oc.connect_timeout_ms = 1000;
  oc.reconnect_interval_ns = 10'000'000;
  TypeParam b(net::BackendOptions{});
  EgressStage<TypeParam> s(b, oc, this->intents_, this->reports_, this->gate_, this->refs_, this->symbols_, this->oms_,
                           typename EgressStage<TypeParam>::Hops{&this->d2w_, &this->t2t_, &this->send_});
  s.on_thread_start();
  std::chrono::nanoseconds worst{0};
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < end) {
    const auto t0 = std::chrono::steady_clock::now();
    s.poll();
    worst = std::max(worst, std::chrono::steady_clock::now() - t0);
  }
  EXPECT_LT(worst, std::chrono::milliseconds(500)) << "a poll blocked on the reconnect";
  EXPECT_GE(s.counters().connect_failures, 1u) << "the pending connect timed out and was counted";
  EXPECT_FALSE(s.ready());
}

// Issue 18, finding 2: the venue restarts with a new SoupBinTCP session. The loss of the session
// is told to the strategies at once (their working order is reported gone); the login for the
// old session is refused ('S'), retried with backoff, and after order_entry.new_session_after_refusals
// refusals hftd logs in for the venue's current session (blank name) at sequence 1, and trades.
TYPED_TEST(EgressTest, VenueRestartWithANewSessionIsJoinedAfterRefusals) {
  const net::Endpoint where = this->server_->local();
  OrderEntryConfig oc;
  oc.venue = where;
  oc.soup.username = "HFT01";
  oc.soup.password = "pw";
  oc.reconnect_interval_ns = 5'000'000;
  TypeParam b(net::BackendOptions{});
  EgressStage<TypeParam> s(b, oc, this->intents_, this->reports_, this->gate_, this->refs_, this->symbols_, this->oms_,
                           typename EgressStage<TypeParam>::Hops{&this->d2w_, &this->t2t_, &this->send_});
  s.on_thread_start();
  ASSERT_TRUE(s.connect());
  auto run = [&](const std::function<bool()>& done, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (this->server_) this->server_->poll(0);
      s.poll();
      if (done()) return true;
    }
    return false;
  };
  ASSERT_TRUE(run([&] { return s.ready(); }, 5));
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 7, Side::kSell, 1'010'000, 100)));
  ASSERT_TRUE(run([&] { return this->oms_.open_orders() == 1 && !this->venue_.live.empty(); }, 5));
  (void)this->drain();

  // The venue dies: the strategy hears at once that its order is no longer working.
  this->server_.reset();
  std::vector<ExecReport> got;
  ASSERT_TRUE(run([&] {
    for (const auto& r : this->drain()) got.push_back(r);
    return !got.empty();
  }, 2)) << "the strategy was not told that the order-entry session was lost";
  EXPECT_EQ(got[0].order_id, 7u);
  EXPECT_EQ(got[0].type, ReportType::kCanceled);
  EXPECT_EQ(got[0].reason, RejectReason::kNotConnected);

  // A new venue on the same port with a new session.
  soup::ServerConfig sc;
  sc.session = "NEWVENUE";
  sc.users = {{"HFT01", "pw"}};
  this->ctx_ = std::make_unique<soup::ServerContext>(sc);
  this->venue_ = ScriptedVenue{};
  this->venue_.ctx = this->ctx_.get();
  this->server_ = std::make_unique<net::TcpServer<ServerSessionT>>(
      where, net::TcpServerOptions{}, [&](std::size_t) { return std::make_unique<ServerSessionT>(*this->ctx_, this->venue_); });
  ASSERT_TRUE(run([&] { return s.ready(); }, 10)) << "never logged in to the venue's new session";
  EXPECT_EQ(s.session().session().trimmed(), "NEWVENUE");
  EXPECT_EQ(this->oms_.open_orders(), 0u) << "the old session's order is not working";
  EXPECT_GE(s.counters().login_refusals, 3u) << "the old session was asked for first";
  EXPECT_EQ(s.counters().new_session_joins, 1u);
  EXPECT_EQ(s.counters().session_changes, 1u);
  EXPECT_EQ(s.counters().orders_of_old_session, 1u);
  ASSERT_TRUE(this->intents_.try_push(this->intent(IntentType::kNew, 8, Side::kBuy, 1'000'000, 100)));
  ASSERT_TRUE(run([&] {
    for (const auto& r : this->drain())
      if (r.order_id == 8 && r.type == ReportType::kFill) return true;
    return false;
  }, 5)) << "trades again";
}

}  // namespace
}  // namespace hft::pipeline
