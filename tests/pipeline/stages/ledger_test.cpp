// One ledger: the order manager (risk/egress stage) is the source of truth for orders and
// positions; the strategy side (each strategy's Context plus the stage's operator ledger) is a
// projection fed only by the ExecReports the egress stage sends back. A long deterministic random
// run through the real egress stage, a TCP venue and the real strategy stage checks, after every
// event that leaves the report ring drained, that both sides hold the same position and cash per
// symbol and the same working orders per strategy, including the fills of the operator's flatten
// orders and the cancels of the kill switch, which no strategy asked for.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "gateways/soupbintcp/server.hpp"
#include "net/epoll_backend.hpp"
#include "net/tcp_server.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"

namespace hft::pipeline {
namespace {

// Accepts everything; an IOC order executes in full at its price; a day order rests until step()
// executes part or all of it at its price.
struct RandomVenue {
  soup::ServerContext* ctx = nullptr;
  std::uint32_t user = 0;
  std::uint64_t next_ref = 1000;
  struct Live {
    std::uint32_t shares;
    ouch::Price price;
    std::uint32_t executed = 0;  // over the replace chain (OUCH 5.0 §2.2)
  };
  std::map<ouch::UserRefNum, Live> live;

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
    ouch::AccountQueryResponse r;
    r.next_user_ref_num = 1;
    reply(r);
  }
  void execute(ouch::UserRefNum ref, std::uint32_t shares, ouch::Price price) {
    ouch::OrderExecuted e;
    e.user_ref_num = ref;
    e.quantity = shares;
    e.price = price;
    e.match_number = ++next_ref;
    reply(e);
  }
  void on_message(const ouch::EnterOrder& o) {
    ouch::OrderAccepted a;
    a.user_ref_num = o.user_ref_num;
    a.side = o.side;
    a.quantity = o.quantity;
    a.symbol = o.symbol;
    a.price = o.price;
    a.order_reference_number = ++next_ref;
    reply(a);
    if (o.time_in_force == ouch::TimeInForce::kIoc) execute(o.user_ref_num, o.quantity, o.price);
    else live[o.user_ref_num] = {o.quantity, o.price};
  }
  void on_message(const ouch::ReplaceOrder& m) {
    const auto it = live.find(m.orig_user_ref_num);
    if (it == live.end()) return;
    // The Replace's quantity is the chain's total, executions included (§2.2); at or below what
    // executed, the order is taken out of the book.
    const Live old = it->second;
    live.erase(it);
    if (m.quantity <= old.executed) {
      ouch::OrderCanceled c;
      c.user_ref_num = m.orig_user_ref_num;
      c.quantity = old.shares;
      reply(c);
      return;
    }
    const std::uint32_t leaves = m.quantity - old.executed;
    live[m.user_ref_num] = {leaves, m.price, old.executed};
    ouch::OrderReplaced r;
    r.orig_user_ref_num = m.orig_user_ref_num;
    r.user_ref_num = m.user_ref_num;
    r.quantity = leaves;  // §3.3: shares outstanding
    r.price = m.price;
    r.order_reference_number = ++next_ref;
    reply(r);
  }
  void on_message(const ouch::CancelOrder& c) {
    const auto it = live.find(c.user_ref_num);
    if (it == live.end()) return;
    ouch::OrderCanceled r;
    r.user_ref_num = c.user_ref_num;
    r.quantity = it->second.shares;
    live.erase(it);
    reply(r);
  }
  template <class T>
  void on_message(const T&) {}

  // Executes part or all of a random resting order.
  void step(std::mt19937_64& rng) {
    if (live.empty()) return;
    auto it = live.begin();
    std::advance(it, static_cast<long>(rng() % live.size()));
    const std::uint32_t q = 1 + static_cast<std::uint32_t>(rng() % it->second.shares);
    execute(it->first, q, it->second.price);
    it->second.executed += q;
    if ((it->second.shares -= q) == 0) live.erase(it);
  }
};

using Session = soup::ServerSession<RandomVenue>;

TEST(Ledger, StrategySideIsAProjectionOfTheOrderManagerAfterEveryEvent) {
  constexpr Locate kAapl = 3, kMsft = 4;
  soup::ServerConfig sc;
  sc.session = "LEDGER";
  sc.users = {{"HFT01", "pw"}};
  soup::ServerContext venue_ctx(sc);
  RandomVenue venue;
  venue.ctx = &venue_ctx;
  net::TcpServer<Session> server(net::parse_endpoint("127.0.0.1:0"), net::TcpServerOptions{},
                                 [&](std::size_t) { return std::make_unique<Session>(venue_ctx, venue); });

  SymbolTable symbols(16);
  symbols.set(kAapl, itch::Symbol::from("AAPL").key());
  symbols.set(kMsft, itch::Symbol::from("MSFT").key());
  risk::ReferencePrices refs(16);
  refs.set(kAapl, 1'000'000);
  refs.set(kMsft, 2'000'000);
  risk::RiskLimits limits;
  limits.max_orders_per_second = 1e9;
  limits.order_burst = 1'000'000;
  limits.max_position = 2'000;
  risk::RiskGate gate(limits, core::tsc_clock().ticks_per_ns() * 1e9);
  oms::OrderManager oms(256, 16, 1);
  core::SpscRing<OrderIntent> intents(1024);
  core::SpscRing<ExecReport> reports(1024);
  core::SpscRing<BookEvent> books(1024);
  core::SpscRing<ControlRequest> control(16);
  core::Histogram d2w{1, 10'000'000'000ull, 3}, t2t{1, 10'000'000'000ull, 3}, send{1, 10'000'000'000ull, 3},
      hop{1, 10'000'000'000ull, 3};
  OrderEntryConfig oc;
  oc.venue = server.local();
  oc.soup.username = "HFT01";
  oc.soup.password = "pw";
  net::EpollBackend backend(net::BackendOptions{});
  EgressStage<net::EpollBackend> egress(backend, oc, intents, reports, gate, refs, symbols, oms,
                                        EgressStage<net::EpollBackend>::Hops{&d2w, &t2t, &send});
  egress.set_control_ring(&control);
  egress.on_thread_start();
  Subscriptions subs(16);
  StrategyStage stage(books, reports, intents, symbols, subs, hop, 1'000);  // 1 us timer: resolves at once

  strategy::MarketMakerParams mm;
  mm.symbols = {"AAPL", "MSFT"};
  mm.max_position = 1'000;
  mm.horizon_s = 1.0;  // quotes within a few ticks of the mid
  stage.add("mm", strategy::make_strategy(mm), mm.symbols);
  strategy::SpreadCaptureParams sp;
  sp.symbols = {"AAPL"};
  sp.min_spread_ticks = 2;
  sp.max_position = 1'000;
  stage.add("sc", strategy::make_strategy(sp), sp.symbols);

  ASSERT_TRUE(egress.connect()) << egress.last_error();
  for (int i = 0; i < 100000 && !egress.ready(); ++i) {
    server.poll(0);
    egress.poll();
  }
  ASSERT_TRUE(egress.ready());
  stage.poll();
  ASSERT_TRUE(subs.test(kAapl) && subs.test(kMsft));

  std::mt19937_64 rng(20240611);
  std::uint64_t checks = 0, order_checks = 0;
  std::uint32_t control_id = 0;
  auto check = [&](int event) {
    if (!reports.empty_approx()) return;  // reports in flight: the projection lags by design
    ++checks;
    for (Locate l : {kAapl, kMsft}) {
      const strategy::Position p = stage.total_position(l);
      ASSERT_EQ(p.shares, oms.exposure(l).position) << "locate " << l << " after event " << event;
      ASSERT_EQ(p.cash, oms.cash(l)) << "locate " << l << " after event " << event;
    }
    if (!intents.empty_approx()) return;  // an intent not yet seen by the order manager
    ++order_checks;
    for (std::size_t s = 0; s < stage.size(); ++s) {
      std::size_t at_oms = 0;
      oms.for_each_working([&](const oms::Order& o) {
        if (o.strategy != s) return;
        ++at_oms;
        const strategy::WorkingOrder* w = stage.context(s).order(o.order_id);
        ASSERT_NE(w, nullptr) << "order " << o.order_id << " after event " << event;
        ASSERT_EQ(w->leaves, o.leaves) << "order " << o.order_id << " after event " << event;
      });
      ASSERT_EQ(stage.context(s).working_count(), at_oms) << "strategy " << s << " after event " << event;
    }
  };

  const int kEvents = 20'000;
  for (int event = 0; event < kEvents; ++event) {
    const std::uint64_t r = rng();
    if (r % 8 < 5) {  // a book change
      BookEvent e{};
      e.type = BookEventType::kDepthChange;
      e.locate = (r >> 8) % 3 == 0 ? kMsft : kAapl;
      const std::int32_t mid = (e.locate == kAapl ? 1'000'000 : 2'000'000) + 100 * static_cast<std::int32_t>((r >> 16) % 11) - 500;
      const std::int32_t half = 100 * static_cast<std::int32_t>(1 + (r >> 24) % 3);
      e.bids[0] = {mid - half, 100 + static_cast<std::uint32_t>((r >> 32) % 900)};
      e.asks[0] = {mid + half, 100 + static_cast<std::uint32_t>((r >> 40) % 900)};
      e.timestamp = 34'200'000'000'000 + static_cast<std::uint64_t>(event) * 1'000'000'000;  // 1 s apart
      ASSERT_TRUE(books.try_push(e));
    } else if (r % 8 < 7) {
      venue.step(rng);
    } else if ((r >> 8) % 256 == 0) {  // the operator flattens (cancel all, IOC to close each position)
      ASSERT_TRUE(control.try_push(ControlRequest{ControlRequest::Op::kFlatten, ++control_id, limits, {}, {}}));
    }
    if (event % 2'000 == 1'000) gate.set_kill_switch(true);  // on for 20 events: everything cancelled
    if (event % 2'000 == 1'020) gate.set_kill_switch(false);
    server.poll(0);
    egress.poll();
    stage.poll();
    check(event);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Quiesce: the kill switch off, everything answered, then one last comparison.
  gate.set_kill_switch(false);
  for (int i = 0; i < 2000; ++i) {
    server.poll(0);
    egress.poll();
    stage.poll();
  }
  check(kEvents);
  const auto& oc_counters = oms.counters();
  EXPECT_GT(checks, 10'000u);
  EXPECT_GT(order_checks, 5'000u);
  EXPECT_GT(oc_counters.fills, 500u) << "the run must trade to test anything: " << egress.counters().intents
                                      << " intents, " << egress.counters().sent_new << " sent, "
                                      << egress.counters().risk_rejects << " refused by risk, "
                                      << egress.counters().not_connected << " not connected, "
                                      << stage.counters().book_events << " book events, " << venue.live.size() << " live; by reason "
                                      << gate.rejected(RejectReason::kPriceBand) << " band " << gate.rejected(RejectReason::kPositionLimit)
                                      << " pos " << gate.rejected(RejectReason::kOpenOrderLimit) << " open "
                                      << gate.rejected(RejectReason::kKillSwitch) << " kill " << gate.rejected(RejectReason::kMaxNotional) << " notional";
  EXPECT_GT(stage.counters().operator_fills, 0u) << "flatten orders filled";
  EXPECT_GT(egress.counters().kill_cancels, 0u);
  EXPECT_EQ(egress.counters().report_overflow, 0u);
  EXPECT_EQ(stage.counters().unknown_owner, 0u);
}

}  // namespace
}  // namespace hft::pipeline
