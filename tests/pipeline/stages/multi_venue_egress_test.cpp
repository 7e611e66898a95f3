// Issue 14: the risk/egress stage with two order-entry sessions, against two real in-process
// OUCH 5.0 venues (SoupBinTCP server engine on the epoll runtime) over 127.0.0.1: orders reach the
// venue they name and no other, UserRefNums are unique across venues, one venue's session drop
// leaves the other trading (orders to the dropped one refused venue_down, its working orders
// reported gone), the position limit binds across venues, and each venue's fees are booked.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "gateways/soupbintcp/server.hpp"
#include "net/epoll_backend.hpp"
#include "net/tcp_server.hpp"
#include "pipeline/stages/egress_stage.hpp"

namespace hft::pipeline {
namespace {

// Accepts every order; executes a buy at or above 100.0000 in full (liquidity 'R'); keeps the
// rest live. Answers the Account Query with its own next UserRefNum.
struct MvVenue {
  soup::ServerContext* ctx = nullptr;
  std::uint32_t user = 0;
  std::uint32_t next_user_ref = 500;
  std::vector<std::uint32_t> refs;  // UserRefNums of the Enter Orders it received, in order
  std::vector<char> seen;
  std::map<ouch::UserRefNum, std::uint32_t> live;
  std::uint64_t next_ref = 1000;

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
    r.next_user_ref_num = next_user_ref;
    reply(r);
  }
  void on_message(const ouch::EnterOrder& o) {
    seen.push_back('O');
    refs.push_back(o.user_ref_num);
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
      e.liquidity_flag = 'R';
      e.match_number = next_ref;
      reply(e);
    } else {
      live[o.user_ref_num] = o.quantity;
    }
  }
  void on_message(const ouch::CancelOrder& c) {
    seen.push_back('X');
    const auto it = live.find(c.user_ref_num);
    if (it == live.end()) return;
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

using MvSession = soup::ServerSession<MvVenue>;

struct MvExchange {
  std::unique_ptr<soup::ServerContext> ctx;
  MvVenue venue;
  std::unique_ptr<net::TcpServer<MvSession>> server;
  MvExchange(const char* session, std::uint32_t next_user_ref) {
    soup::ServerConfig sc;
    sc.session = session;
    sc.users = {{"HFT01", "pw"}};
    sc.store_messages = 1024;  // a few orders: small stores and few slots keep the set-up quick
    sc.store_bytes = 1u << 20;
    ctx = std::make_unique<soup::ServerContext>(sc);
    venue.ctx = ctx.get();
    venue.next_user_ref = next_user_ref;
    server = std::make_unique<net::TcpServer<MvSession>>(
        net::parse_endpoint("127.0.0.1:0"), [] {
          net::TcpServerOptions o;
          o.max_connections = 2;
          return o;
        }(),
        [this](std::size_t) { return std::make_unique<MvSession>(*ctx, venue); });
  }
  void poll() {
    if (server) server->poll(0);
  }
};

class MultiVenueEgress : public ::testing::Test {
 protected:
  void SetUp() override {
    symbols_.set(3, itch::Symbol::from("AAPL").key());
    refs_.set(3, 1'000'000);
    std::vector<OrderEntryConfig> configs;
    for (MvExchange* x : {&a_, &b_}) {
      OrderEntryConfig oc;
      oc.venue = x->server->local();
      oc.soup.username = "HFT01";
      oc.soup.password = "pw";
      oc.name = x == &a_ ? "VENA" : "VENB";
      oc.reconnect_interval_ns = 50'000'000;
      configs.push_back(oc);
    }
    stage_ = std::make_unique<EgressStage<net::EpollBackend>>(
        backend_, std::span<const OrderEntryConfig>(configs), intents_, reports_, gate_, refs_, symbols_, oms_,
        EgressStage<net::EpollBackend>::Hops{&d2w_, &t2t_, &send_, &legs_});
    stage_->on_thread_start();
    ASSERT_TRUE(stage_->connect()) << stage_->last_error();
    ASSERT_TRUE(run_until([&] { return stage_->ready(0) && stage_->ready(1); })) << "both venues log in";
  }
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      a_.poll();
      b_.poll();
      stage_->poll();
      if (done()) return true;
    }
    return false;
  }
  OrderIntent order(std::uint64_t id, VenueId venue, Side side, Price px, Quantity qty) {
    OrderIntent in{};
    in.type = IntentType::kNew;
    in.order_id = id;
    in.side = side;
    in.price = px;
    in.quantity = qty;
    in.locate = 3;
    in.strategy = 1;
    in.venue = venue;
    in.origin_tsc = core::rdtsc();
    in.decision_tsc = in.origin_tsc;
    return in;
  }
  // Sends the intents and collects reports until `n` arrived.
  std::vector<ExecReport> send(std::initializer_list<OrderIntent> ins, std::size_t n) {
    for (const OrderIntent& in : ins) EXPECT_TRUE(intents_.try_push(in));
    std::vector<ExecReport> got;
    EXPECT_TRUE(run_until([&] {
      ExecReport r;
      while (reports_.try_pop(r)) got.push_back(r);
      return got.size() >= n;
    })) << "got " << got.size() << " of " << n << " reports";
    return got;
  }

  MvExchange a_{"VENUEA", 500}, b_{"VENUEB", 800};
  core::SpscRing<OrderIntent> intents_{256};
  core::SpscRing<ExecReport> reports_{256};
  risk::RiskLimits limits_ = [] {
    risk::RiskLimits l;
    l.max_order_quantity = 1000;
    l.max_position = 150;
    return l;
  }();
  risk::RiskGate gate_{limits_, core::tsc_clock().ticks_per_ns() * 1e9};
  risk::ReferencePrices refs_{16};
  SymbolTable symbols_{16};
  oms::OrderManager oms_{64, 16, 1};
  core::Histogram d2w_{1, 10'000'000'000ull, 3}, t2t_{1, 10'000'000'000ull, 3}, send_{1, 10'000'000'000ull, 3},
      legs_{1, 10'000'000'000ull, 3};
  net::EpollBackend backend_{net::BackendOptions{}};
  std::unique_ptr<EgressStage<net::EpollBackend>> stage_;
};

TEST_F(MultiVenueEgress, OrdersReachTheirVenueOnlyWithUserRefNumsUniqueAcrossVenues) {
  EXPECT_EQ(oms_.next_user_ref(), 800u) << "the higher of the two venues' next UserRefNums";
  const auto got = send({order(1, 1, Side::kSell, 1'010'000, 10), order(2, 0, Side::kSell, 1'010'000, 20),
                         order(3, 1, Side::kSell, 1'020'000, 30)},
                        3);
  ASSERT_EQ(got.size(), 3u);
  for (const ExecReport& r : got) {
    EXPECT_EQ(r.type, ReportType::kAccepted);
    EXPECT_EQ(r.venue, r.order_id == 2 ? 0 : 1) << "order " << r.order_id;
  }
  ASSERT_EQ(a_.venue.refs.size(), 1u) << "venue 0 received only the order sent to it";
  ASSERT_EQ(b_.venue.refs.size(), 2u) << "venue 1 received only its two";
  EXPECT_EQ(a_.venue.refs[0], 801u);
  EXPECT_EQ(b_.venue.refs[0], 800u);
  EXPECT_EQ(b_.venue.refs[1], 802u) << "each venue sees its numbers strictly increase";
  EXPECT_EQ(oms_.by_id(1)->venue, 1);
  EXPECT_EQ(oms_.by_id(2)->venue, 0);
  EXPECT_EQ(stage_->venue_counters(0).sent_new, 1u);
  EXPECT_EQ(stage_->venue_counters(1).sent_new, 2u);
  // A cancel goes to the order's venue, whatever venue the intent names.
  OrderIntent cancel = order(1, 0, Side::kSell, 0, 0);
  cancel.type = IntentType::kCancel;
  const auto canceled = send({cancel}, 1);
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(canceled[0].type, ReportType::kCanceled);
  EXPECT_EQ(canceled[0].venue, 1);
  EXPECT_EQ(b_.venue.seen.back(), 'X');
  EXPECT_EQ(std::count(a_.venue.seen.begin(), a_.venue.seen.end(), 'X'), 0);
}

TEST_F(MultiVenueEgress, OneVenueDownLeavesTheOtherTrading) {
  // A resting order at each venue.
  auto got = send({order(1, 0, Side::kSell, 1'010'000, 10), order(2, 1, Side::kSell, 1'010'000, 10)}, 2);
  ASSERT_EQ(oms_.open_orders(), 2u);
  b_.server.reset();  // venue 1 goes away: its session drops
  std::vector<ExecReport> lost;
  ASSERT_TRUE(run_until([&] {
    ExecReport r;
    while (reports_.try_pop(r)) lost.push_back(r);
    return !stage_->connected(1) && !lost.empty();
  }));
  EXPECT_TRUE(stage_->ready(0)) << "venue 0's session is untouched";
  ASSERT_EQ(lost.size(), 1u) << "only venue 1's working order is reported gone";
  EXPECT_EQ(lost[0].order_id, 2u);
  EXPECT_EQ(lost[0].type, ReportType::kCanceled);
  EXPECT_EQ(lost[0].reason, RejectReason::kNotConnected);
  EXPECT_EQ(lost[0].venue, 1);
  EXPECT_NE(oms_.by_id(2), nullptr) << "the order stays known (in doubt) until the venue resolves it";
  EXPECT_EQ(stage_->venue_counters(1).disconnects, 1u);
  EXPECT_EQ(stage_->venue_counters(0).disconnects, 0u);

  // Orders to venue 1 are refused with the reason; venue 0 keeps trading.
  got = send({order(3, 1, Side::kBuy, 1'000'000, 10), order(4, 0, Side::kBuy, 1'000'000, 10)}, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].order_id, 3u);
  EXPECT_EQ(got[0].type, ReportType::kRejected);
  EXPECT_EQ(got[0].reason, RejectReason::kVenueDown);
  EXPECT_EQ(got[0].venue, 1);
  EXPECT_EQ(got[1].order_id, 4u);
  EXPECT_EQ(got[1].type, ReportType::kAccepted);
  EXPECT_EQ(got[2].type, ReportType::kFill);
  EXPECT_EQ(got[2].venue, 0);
  EXPECT_EQ(stage_->counters().venue_down, 1u);
  EXPECT_EQ(gate_.rejected(RejectReason::kVenueDown), 1u);
  EXPECT_EQ(oms_.exposure(3).position, 10);
}

TEST_F(MultiVenueEgress, PositionLimitBindsAcrossVenuesAndFeesAreBookedPerVenue) {
  oms_.set_venue_fees(0, 0, 30);   // venue 0 takes 0.0030 $/share
  oms_.set_venue_fees(1, -20, 10); // venue 1 takes 0.0010 $/share
  // 100 bought at venue 0 and 50 at venue 1: 150, the limit.
  auto got = send({order(1, 0, Side::kBuy, 1'000'000, 100), order(2, 1, Side::kBuy, 1'000'000, 50)}, 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(oms_.exposure(3).position, 150) << "fills from both venues count toward the one position";
  EXPECT_EQ(oms_.venue_filled_shares(0), 100u);
  EXPECT_EQ(oms_.venue_filled_shares(1), 50u);
  EXPECT_EQ(oms_.venue_fees_paid(0), 100 * 30);
  EXPECT_EQ(oms_.venue_fees_paid(1), 50 * 10);
  EXPECT_EQ(oms_.realized_pnl(3), -(100 * 30 + 50 * 10)) << "fees are realized P&L";
  // One more share at either venue breaches the limit across venues.
  got = send({order(3, 1, Side::kBuy, 1'000'000, 1), order(4, 0, Side::kBuy, 1'000'000, 1)}, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].reason, RejectReason::kPositionLimit);
  EXPECT_EQ(got[1].reason, RejectReason::kPositionLimit);
  EXPECT_EQ(b_.venue.refs.size(), 1u);
  EXPECT_EQ(a_.venue.refs.size(), 1u);
}

TEST_F(MultiVenueEgress, LegsOfOneDecisionAreTimedToTheLastHandoff) {
  OrderIntent buy = order(1, 0, Side::kBuy, 1'000'000, 10), sell = order(2, 1, Side::kSell, 1'010'000, 10);
  buy.legs = sell.legs = 1;
  sell.decision_tsc = buy.decision_tsc;
  const auto got = send({buy, sell}, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(legs_.total_count(), 1u) << "one decision, two legs: one sample";
  EXPECT_EQ(d2w_.total_count(), 2u);
}

}  // namespace
}  // namespace hft::pipeline
