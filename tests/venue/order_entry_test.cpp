// OUCH 5.0 order entry against an in-process venue over real SoupBinTCP sessions on loopback:
// what each inbound message becomes, the reasons of every refusal, UserRefNum rules, replaces,
// cancels, modifies, reserve orders, expiry, recovery of missed messages after a reconnect,
// cancel-on-disconnect, and the executions file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "tests/support/child_process.hpp"
#include "tests/venue/venue_fixture.hpp"

namespace hft::venue::testing {
namespace {

using ouch::Side;
using ouch::TimeInForce;
using R = ouch::RejectReason;

class OrderEntryTest : public VenueFixture {};

TEST_F(OrderEntryTest, LoginStartsTheStreamWithStartOfDayAndBadCredentialsAreRefused) {
  make();
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(await(alice, 1));
  const auto events = alice.all<ouch::SystemEvent>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_code, ouch::SystemEventCode::kStartOfDay);

  OuchClient& mallory = connect("ALICE", "wrong");
  ASSERT_TRUE(run([&] { return mallory.rejected(); }));
  EXPECT_FALSE(mallory.logged_in());
  EXPECT_NE(log_.str().find("login rejected"), std::string::npos);
}

TEST_F(OrderEntryTest, BeforeTheOpenClientsLogInButOrdersAreRefusedAsDestinationClosed) {
  make([](VenueConfig& c) { c.open_delay_ns = 300'000'000; });
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(1, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 1)) << alice.types();
  EXPECT_EQ(alice.types(), "J");
  EXPECT_EQ(alice.all<ouch::OrderRejected>()[0].reason, R::kDestinationClosed);
  EXPECT_EQ(feed_->by_type()['S'], 0u) << "no market data before the start of day";
  ASSERT_TRUE(await(alice, 2)) << alice.types();  // the start of day
  ASSERT_TRUE(alice.send(enter(2, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 3)) << alice.types();
  EXPECT_EQ(alice.types(), "JSA");
  ASSERT_TRUE(run([&] { return feed_->by_type()['A'] == 1; }));
  EXPECT_EQ(feed_->by_type()['R'], 5u);  // the directory came first, with the open
  // An opening cross print of 0 shares at its reference price for every symbol, the probe's too:
  // receivers know a price for each before any trade.
  EXPECT_EQ(feed_->by_type()['Q'], 5u);
  EXPECT_EQ(feed_->books().info(1).last_trade.price, venue_->config().symbols[0].reference_price);
  EXPECT_EQ(feed_->books().info(1).last_trade.kind, 'Q');
  EXPECT_EQ(feed_->books().info(5).last_trade.price, venue_->config().probe.price);
}

TEST_F(OrderEntryTest, CrossingOrdersExecuteAndBothOwnersHearOfItWithOneMatchNumber) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  const ouch::Price px = reference();
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 300, symbol(), px)));
  ASSERT_TRUE(await(alice, 2));  // S, A
  ASSERT_TRUE(bob.send(enter(7, Side::kBuy, 100, symbol(), px + 500, TimeInForce::kIoc)));
  ASSERT_TRUE(await(bob, 3)) << bob.types();  // S, A, E (filled in full: no C)
  settle();

  const auto accepted = bob.all<ouch::OrderAccepted>();
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].user_ref_num, 7u);
  EXPECT_EQ(accepted[0].side, Side::kBuy);
  EXPECT_EQ(accepted[0].quantity, 100u);
  EXPECT_EQ(accepted[0].symbol.view(), symbol());
  EXPECT_EQ(accepted[0].price, px + 500);
  EXPECT_EQ(accepted[0].time_in_force, TimeInForce::kIoc);
  EXPECT_EQ(accepted[0].cl_ord_id.view(), "T7");
  EXPECT_EQ(accepted[0].order_state, ouch::OrderState::kLive);
  EXPECT_NE(accepted[0].order_reference_number, 0u);

  const auto bob_fills = bob.all<ouch::OrderExecuted>();
  const auto alice_fills = alice.all<ouch::OrderExecuted>();
  ASSERT_EQ(bob_fills.size(), 1u);
  ASSERT_EQ(alice_fills.size(), 1u);
  EXPECT_EQ(bob_fills[0].quantity, 100u);
  EXPECT_EQ(bob_fills[0].price, px);  // the resting order's price
  EXPECT_EQ(bob_fills[0].liquidity_flag, 'R');
  EXPECT_EQ(alice_fills[0].liquidity_flag, 'A');
  EXPECT_EQ(alice_fills[0].match_number, bob_fills[0].match_number);
  EXPECT_EQ(alice_fills[0].user_ref_num, 1u);
  EXPECT_TRUE(bob.all<ouch::OrderCanceled>().empty());  // filled in full: nothing to cancel

  // The feed saw the add and the execution ('E' on the resting order's reference).
  ASSERT_TRUE(run([&] { return feed_->by_type()['E'] == 1; }));
  EXPECT_EQ(feed_->book().levels(1, 'S').size(), 1u);
  EXPECT_EQ(feed_->book().levels(1, 'S')[0][1], 200u);
}

TEST_F(OrderEntryTest, IocRemainderIsCanceledWithReasonI) {
  make();
  OuchClient& bob = login("BOB", "b");
  ASSERT_TRUE(bob.send(enter(1, Side::kBuy, 100, symbol(), reference(), TimeInForce::kIoc)));
  ASSERT_TRUE(await(bob, 3)) << bob.types();
  const auto canceled = bob.all<ouch::OrderCanceled>();
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(canceled[0].quantity, 100u);
  EXPECT_EQ(canceled[0].reason, ouch::CancelReason::kImmediateOrCancel);
}

TEST_F(OrderEntryTest, UserRefNumMustIncreaseAndARejectedNumberIsUsedUp) {
  make();
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(5, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(alice.send(enter(5, Side::kBuy, 100, symbol(), reference())));  // reused
  ASSERT_TRUE(alice.send(enter(3, Side::kBuy, 100, symbol(), reference())));  // lower
  ASSERT_TRUE(await(alice, 4)) << alice.types();
  settle();
  const auto rejected = alice.all<ouch::OrderRejected>();
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].user_ref_num, 5u);
  EXPECT_EQ(rejected[0].reason, R::kOther);
  EXPECT_EQ(rejected[1].user_ref_num, 3u);
  EXPECT_EQ(alice.all<ouch::OrderAccepted>().size(), 1u);
  // An order refused for its content still uses its number up (§3.8).
  ASSERT_TRUE(alice.send(enter(9, Side::kBuy, 100, "NOSUCH", reference())));
  ASSERT_TRUE(alice.send(enter(9, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 6)) << alice.types();
  const auto later = alice.all<ouch::OrderRejected>();
  ASSERT_EQ(later.size(), 4u);
  EXPECT_EQ(later[2].reason, R::kInvalidSymbol);
  EXPECT_EQ(later[3].reason, R::kOther);
  EXPECT_EQ(venue_->summary().order_entry.user_ref_violations, 3u);
}

TEST_F(OrderEntryTest, IgnorePolicyDropsAReusedUserRefNumSilently) {
  make([](VenueConfig& c) { c.user_ref_num_policy = ouch::UserRefNumPolicy::kIgnore; });
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(5, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(alice.send(enter(5, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(alice.send(enter(6, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 3));
  settle();
  EXPECT_EQ(alice.types(), "SAA");
}

struct BadOrder {
  const char* name;
  std::function<void(ouch::EnterOrder&)> mutate;
  R reason;
};

TEST_F(OrderEntryTest, EachUnsupportedOrInvalidFieldIsRefusedWithItsAppendixDReason) {
  make();
  OuchClient& alice = login("ALICE", "a");  // firm ALCE is fixed for ALICE
  const std::vector<BadOrder> cases = {
      {"quantity 0", [](ouch::EnterOrder& m) { m.quantity = 0; }, R::kInvalidQuantity},
      {"quantity 1,000,000", [](ouch::EnterOrder& m) { m.quantity = 1'000'000; }, R::kInvalidQuantity},
      {"price off the penny grid", [](ouch::EnterOrder& m) { m.price += 1; }, R::kInvalidPrice},
      {"price 0", [](ouch::EnterOrder& m) { m.price = 0; }, R::kInvalidPrice},
      {"side X", [](ouch::EnterOrder& m) { m.side = static_cast<Side>('X'); }, R::kInvalidSide},
      {"display Q", [](ouch::EnterOrder& m) { m.display = static_cast<ouch::Display>('Q'); }, R::kInvalidDisplay},
      {"ISO", [](ouch::EnterOrder& m) { m.intermarket_sweep = ouch::IntermarketSweep::kEligible; }, R::kIsoNotAllowed},
      {"opening cross", [](ouch::EnterOrder& m) { m.cross_type = ouch::CrossType::kOpening; }, R::kInvalidCrossOrder},
      {"TIF 9", [](ouch::EnterOrder& m) { m.time_in_force = static_cast<TimeInForce>('9'); }, R::kOther},
      {"GTT without ExpireTime", [](ouch::EnterOrder& m) { m.time_in_force = TimeInForce::kGtt; }, R::kOther},
      {"hidden with MaxFloor",
       [](ouch::EnterOrder& m) {
         m.display = ouch::Display::kHidden;
         m.options.set_max_floor(100);
       },
       R::kInvalidMaxFloor},
      {"MinQty not a round lot", [](ouch::EnterOrder& m) { m.options.set_min_qty(150); }, R::kInvalidMinQuantity},
      {"MinQty above the quantity", [](ouch::EnterOrder& m) { m.options.set_min_qty(1000); }, R::kInvalidMinQuantity},
      {"peg", [](ouch::EnterOrder& m) { m.options.set_price_type('M'); }, R::kPeggingNotAllowed},
      {"route", [](ouch::EnterOrder& m) { m.options.set_route(ouch::Route::from("ROUT")); }, R::kRoutingNotAllowed},
      {"another firm", [](ouch::EnterOrder& m) { m.options.set_firm(ouch::Firm::from("EVIL")); }, R::kFirmNotAuthorized},
      {"post-only IOC",
       [](ouch::EnterOrder& m) {
         m.time_in_force = TimeInForce::kIoc;
         m.options.set_post_only('P');
       },
       R::kOther},
  };
  ouch::UserRefNum ref = 1;
  for (const BadOrder& c : cases) {
    ouch::EnterOrder m = enter(ref++, Side::kBuy, 200, symbol(), reference());
    c.mutate(m);
    ASSERT_TRUE(alice.send(m)) << c.name;
  }
  ASSERT_TRUE(await(alice, 1 + cases.size())) << alice.types();
  const auto rejected = alice.all<ouch::OrderRejected>();
  ASSERT_EQ(rejected.size(), cases.size()) << alice.types();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(rejected[i].reason, cases[i].reason) << cases[i].name;
    EXPECT_EQ(rejected[i].user_ref_num, i + 1) << cases[i].name;
  }
  EXPECT_EQ(venue_->summary().engine.accepted, 0u);
}

TEST_F(OrderEntryTest, CancelTakesTheIntendedTotalAndSuperfluousCancelsAreIgnored) {
  make();
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(1, Side::kBuy, 500, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  ouch::CancelOrder c;
  c.user_ref_num = 1;
  c.quantity = 200;  // intended size: 300 shares come off
  ASSERT_TRUE(alice.send(c));
  ASSERT_TRUE(await(alice, 3)) << alice.types();
  c.quantity = 0;
  ASSERT_TRUE(alice.send(c));
  ASSERT_TRUE(await(alice, 4)) << alice.types();
  ASSERT_TRUE(alice.send(c));  // the order is gone: superfluous
  c.user_ref_num = 99;         // never existed
  ASSERT_TRUE(alice.send(c));
  settle();
  const auto canceled = alice.all<ouch::OrderCanceled>();
  ASSERT_EQ(canceled.size(), 2u) << alice.types();
  EXPECT_EQ(canceled[0].quantity, 300u);
  EXPECT_EQ(canceled[1].quantity, 200u);
  EXPECT_EQ(canceled[0].reason, ouch::CancelReason::kUserRequested);
  EXPECT_EQ(venue_->summary().order_entry.ignored, 2u);
  ASSERT_TRUE(run([&] { return feed_->by_type()['D'] == 1 && feed_->by_type()['X'] == 1; }));
}

TEST_F(OrderEntryTest, ReplaceMovesTheOrderAndFollowsSection22ForEveryOutcome) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  const ouch::Price px = reference();
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 500, symbol(), px)));
  ASSERT_TRUE(await(alice, 2));
  ASSERT_TRUE(bob.send(enter(1, Side::kBuy, 100, symbol(), px, TimeInForce::kIoc)));
  ASSERT_TRUE(await(alice, 3));  // executed 100

  ouch::ReplaceOrder r;
  r.orig_user_ref_num = 1;
  r.user_ref_num = 2;
  r.quantity = 600;  // the chain's total: 500 open after the 100 executed
  r.price = px + 100;
  r.cl_ord_id = ouch::ClOrdId::from("R2");
  ASSERT_TRUE(alice.send(r));
  ASSERT_TRUE(await(alice, 4)) << alice.types();
  const auto replaced = alice.all<ouch::OrderReplaced>();
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].orig_user_ref_num, 1u);
  EXPECT_EQ(replaced[0].user_ref_num, 2u);
  EXPECT_EQ(replaced[0].quantity, 500u);
  EXPECT_EQ(replaced[0].price, px + 100);
  EXPECT_EQ(replaced[0].side, Side::kSell);
  EXPECT_EQ(replaced[0].cl_ord_id.view(), "R2");
  EXPECT_NE(replaced[0].order_reference_number, alice.all<ouch::OrderAccepted>()[0].order_reference_number);

  // Case 1: the old number is no longer live, or the new one was used: ignored / rejected.
  r.orig_user_ref_num = 1;
  r.user_ref_num = 3;
  ASSERT_TRUE(alice.send(r));  // 1 is not live any more: silently ignored
  r.orig_user_ref_num = 2;
  r.user_ref_num = 2;  // used: rejected under the "reject" policy
  ASSERT_TRUE(alice.send(r));
  ASSERT_TRUE(await(alice, 5)) << alice.types();
  // Case 3: a change the engine cannot make in place (TIF) is refused; the order is intact.
  r.user_ref_num = 4;
  r.time_in_force = TimeInForce::kIoc;
  ASSERT_TRUE(alice.send(r));
  ASSERT_TRUE(await(alice, 6)) << alice.types();
  auto rejected = alice.all<ouch::OrderRejected>();
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].user_ref_num, 2u);
  EXPECT_EQ(rejected[1].user_ref_num, 4u);
  EXPECT_EQ(rejected[1].reason, R::kReplaceNotAllowed);
  // Case 2: invalid details cancel the order; the number (5) is not used up.
  r.time_in_force = TimeInForce::kDay;
  r.user_ref_num = 5;
  r.quantity = 1'000'000;
  ASSERT_TRUE(alice.send(r));
  ASSERT_TRUE(await(alice, 7)) << alice.types();
  const auto canceled = alice.all<ouch::OrderCanceled>();
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(canceled[0].user_ref_num, 2u);
  EXPECT_EQ(canceled[0].quantity, 500u);
  ASSERT_TRUE(alice.send(enter(5, Side::kBuy, 100, symbol(), px - 1000)));
  ASSERT_TRUE(await(alice, 8)) << alice.types();
  EXPECT_EQ(alice.all<ouch::OrderAccepted>().size(), 2u);
  // ITCH: the replace was a 'U' (new price: back of the queue under a new reference).
  ASSERT_TRUE(run([&] { return feed_->by_type()['U'] == 1; }));
}

TEST_F(OrderEntryTest, ModifyChangesTheSellKindAndShrinksWithoutACanceledMessage) {
  make();
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 500, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  ouch::ModifyOrder m;
  m.user_ref_num = 1;
  m.side = Side::kSellShort;
  m.quantity = 300;
  ASSERT_TRUE(alice.send(m));
  ASSERT_TRUE(await(alice, 3)) << alice.types();
  m.side = Side::kBuy;  // sell -> buy is not a modification §2.4 allows
  ASSERT_TRUE(alice.send(m));
  m.side = Side::kSellShort;
  m.quantity = 400;  // an increase is ignored
  ASSERT_TRUE(alice.send(m));
  settle();
  EXPECT_EQ(alice.types(), "SAM");
  const auto modified = alice.all<ouch::OrderModified>();
  ASSERT_EQ(modified.size(), 1u);
  EXPECT_EQ(modified[0].side, Side::kSellShort);
  EXPECT_EQ(modified[0].quantity, 300u);
  ASSERT_TRUE(run([&] { return feed_->by_type()['X'] == 1; }));
}

TEST_F(OrderEntryTest, AccountQueryAnswersTheNextUserRefNum) {
  make();
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(41, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(alice.send(ouch::AccountQuery{}));
  ASSERT_TRUE(await(alice, 3));
  const auto q = alice.all<ouch::AccountQueryResponse>();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].next_user_ref_num, 42u);
}

TEST_F(OrderEntryTest, PostOnlyThatWouldTakeIsCanceledWithReasonG) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  ouch::EnterOrder m = enter(1, Side::kBuy, 100, symbol(), reference());
  m.options.set_post_only('P');
  ASSERT_TRUE(bob.send(m));
  ASSERT_TRUE(await(bob, 3)) << bob.types();
  const auto canceled = bob.all<ouch::OrderCanceled>();
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(canceled[0].reason, ouch::CancelReason::kPostOnlyDisplayed);
  EXPECT_TRUE(alice.all<ouch::OrderExecuted>().empty());
}

TEST_F(OrderEntryTest, MinQtyNotMetCancelsOnEntry) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  ouch::EnterOrder m = enter(1, Side::kBuy, 500, symbol(), reference(), TimeInForce::kIoc);
  m.options.set_min_qty(200);
  ASSERT_TRUE(bob.send(m));
  ASSERT_TRUE(await(bob, 3)) << bob.types();
  EXPECT_EQ(bob.types(), "SAC");
  EXPECT_EQ(bob.all<ouch::OrderCanceled>()[0].quantity, 500u);
}

TEST_F(OrderEntryTest, AttributableReserveOrderShowsItsFirmAndRestatesEachNewSlice) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  ouch::EnterOrder m = enter(1, Side::kSell, 500, symbol(), reference());
  m.display = ouch::Display::kAttributable;
  m.options.set_max_floor(100);
  ASSERT_TRUE(alice.send(m));
  ASSERT_TRUE(await(alice, 2));
  EXPECT_EQ(alice.all<ouch::OrderAccepted>()[0].options.firm()->view(), "ALCE");
  ASSERT_TRUE(bob.send(enter(1, Side::kBuy, 100, symbol(), reference(), TimeInForce::kIoc)));
  ASSERT_TRUE(await(alice, 4)) << alice.types();
  const auto restated = alice.all<ouch::OrderRestated>();
  ASSERT_EQ(restated.size(), 1u);
  EXPECT_EQ(restated[0].reason, ouch::RestatedReason::kRefresh);
  EXPECT_EQ(*restated[0].options.display_quantity(), 100u);
  const std::uint64_t new_ref = *restated[0].options.secondary_ord_ref_num();
  // ITCH: 'F' with the firm for each slice; the book shows 100 displayed under the new reference.
  ASSERT_TRUE(run([&] { return feed_->by_type()['F'] == 2; }));
  const auto asks = feed_->book().levels(1, 'S');
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0][1], 100u);
  EXPECT_NE(new_ref, alice.all<ouch::OrderAccepted>()[0].order_reference_number);
}

TEST_F(OrderEntryTest, HiddenOrdersNeverShowAndTheirExecutionsPrintAsTrades) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  ouch::EnterOrder m = enter(1, Side::kSell, 300, symbol(), reference());
  m.display = ouch::Display::kHidden;
  ASSERT_TRUE(alice.send(m));
  ASSERT_TRUE(await(alice, 2));
  ASSERT_TRUE(bob.send(enter(1, Side::kBuy, 100, symbol(), reference(), TimeInForce::kIoc)));
  ASSERT_TRUE(await(alice, 3));
  ASSERT_TRUE(run([&] { return feed_->by_type()['P'] == 1; }));
  EXPECT_EQ(feed_->by_type()['A'] + feed_->by_type()['F'], 0u);
  EXPECT_EQ(alice.all<ouch::OrderExecuted>()[0].liquidity_flag, 'J');
}

TEST_F(OrderEntryTest, GoodTillTimeExpiresWithReasonT) {
  make();
  OuchClient& alice = login("ALICE", "a");
  ouch::EnterOrder m = enter(1, Side::kBuy, 100, symbol(), reference(), TimeInForce::kGtt);
  m.options.set_expire_time(1);
  ASSERT_TRUE(alice.send(m));
  ASSERT_TRUE(await(alice, 2));
  const auto entered = std::chrono::steady_clock::now();
  ASSERT_TRUE(run([&] { return alice.received() >= 3; }, std::chrono::milliseconds(3000))) << alice.types();
  EXPECT_GE(std::chrono::steady_clock::now() - entered, std::chrono::milliseconds(900));
  const auto canceled = alice.all<ouch::OrderCanceled>();
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(canceled[0].reason, ouch::CancelReason::kTimeout);
  EXPECT_EQ(venue_->summary().order_entry.expired, 1u);
}

TEST_F(OrderEntryTest, AReconnectingClientGetsExactlyWhatItMissed) {
  make();
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 300, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  alice.disconnect();
  ASSERT_TRUE(run([&] { return venue_->summary().disconnects >= 1; }));
  ASSERT_TRUE(bob.send(enter(1, Side::kBuy, 200, symbol(), reference(), TimeInForce::kIoc)));
  ASSERT_TRUE(await(bob, 3));
  OuchClient& again = login("ALICE", "a", 3);  // next expected: the third message of her stream
  ASSERT_TRUE(await(again, 1)) << again.types();
  settle();
  EXPECT_EQ(again.types(), "E");
  EXPECT_EQ(again.all<ouch::OrderExecuted>()[0].quantity, 200u);
  // Her order was not cancelled by the disconnect (cancel-on-disconnect is off by default).
  EXPECT_EQ(venue_->summary().client_orders, 1u);

  // The session is the venue's for the whole run: a later connection that asks for it by name
  // from sequence 1 gets the whole stream again; a connection asking for another session (a
  // previous run's) is refused 'S', as is one asking beyond the stream.
  const std::string session = venue_->config().order_entry.session;
  EXPECT_EQ(again.session().session().trimmed(), session);
  again.disconnect();
  ASSERT_TRUE(run([&] { return venue_->summary().disconnects >= 2; }));
  OuchClient& replay = login("ALICE", "a", 1, session);
  ASSERT_TRUE(await(replay, 3)) << replay.types();
  settle();
  EXPECT_EQ(replay.types(), "SAE");
  replay.disconnect();
  ASSERT_TRUE(run([&] { return venue_->summary().disconnects >= 3; }));
  OuchClient& stale = connect("ALICE", "a", 1, "HFTVENUE01");
  ASSERT_TRUE(run([&] { return stale.rejected(); }));
  OuchClient& ahead = connect("ALICE", "a", 5);
  ASSERT_TRUE(run([&] { return ahead.rejected(); }));
  EXPECT_EQ(venue_->summary().login_rejects, 2u);
}

TEST_F(OrderEntryTest, CancelOnDisconnectCancelsTheUsersWorkingOrdersAndTheReconnectLearnsOfIt) {
  make([](VenueConfig& c) { c.accounts[0].cancel_on_disconnect = true; });  // ALICE only
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  const ouch::Price px = reference();
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 300, symbol(), px)));
  ASSERT_TRUE(alice.send(enter(2, Side::kBuy, 100, symbol(), px - 1000)));
  ASSERT_TRUE(await(alice, 3));  // S, A, A
  ASSERT_TRUE(bob.send(enter(1, Side::kBuy, 100, symbol(), px, TimeInForce::kIoc)));  // 100 of alice's 300
  ASSERT_TRUE(bob.send(enter(2, Side::kBuy, 100, symbol(), px - 2000)));              // rests
  ASSERT_TRUE(await(alice, 4)) << alice.types();
  ASSERT_TRUE(await(bob, 4)) << bob.types();  // S, A, E, A
  ASSERT_TRUE(run([&] { return feed_->by_type()['A'] == 3; }));
  EXPECT_EQ(venue_->summary().client_orders, 3u);

  alice.disconnect();  // no logout: a crash, a cable
  ASSERT_TRUE(run([&] { return venue_->summary().order_entry.canceled_on_disconnect == 2; }))
      << venue_->summary().order_entry.canceled_on_disconnect;
  EXPECT_EQ(venue_->summary().client_orders, 1u) << "bob's order stays";
  EXPECT_EQ(venue_->summary().order_entry.sessions_lost, 1u);
  ASSERT_TRUE(run([&] { return feed_->by_type()['D'] == 2; })) << "the book loses both orders";
  EXPECT_NE(log_.str().find("2 working orders cancelled (cancel on disconnect)"), std::string::npos) << log_.str();

  OuchClient& again = login("ALICE", "a", 5);  // she had S A A E
  ASSERT_TRUE(await(again, 2)) << again.types();
  settle();
  EXPECT_EQ(again.types(), "CC");
  auto canceled = again.all<ouch::OrderCanceled>();
  std::sort(canceled.begin(), canceled.end(), [](const auto& a, const auto& b) { return a.user_ref_num < b.user_ref_num; });
  EXPECT_EQ(canceled[0].user_ref_num, 1u);
  EXPECT_EQ(canceled[0].quantity, 200u);
  EXPECT_EQ(canceled[0].reason, ouch::CancelReason::kSystem);
  EXPECT_EQ(canceled[1].user_ref_num, 2u);
  EXPECT_EQ(canceled[1].quantity, 100u);
  EXPECT_EQ(canceled[1].reason, ouch::CancelReason::kSystem);
  // Her UserRefNums survive the session: 2 is used, 3 is next.
  ASSERT_TRUE(again.send(enter(2, Side::kBuy, 100, symbol(), px - 1000)));
  ASSERT_TRUE(again.send(ouch::AccountQuery{}));
  ASSERT_TRUE(await(again, 4)) << again.types();
  EXPECT_EQ(again.all<ouch::OrderRejected>().size(), 1u);
  EXPECT_EQ(again.all<ouch::AccountQueryResponse>()[0].next_user_ref_num, 3u);

  bob.disconnect();  // without cancel-on-disconnect: his order stays
  ASSERT_TRUE(run([&] { return venue_->summary().disconnects >= 2; }));
  settle();
  EXPECT_EQ(venue_->summary().client_orders, 1u);
  EXPECT_EQ(venue_->summary().order_entry.canceled_on_disconnect, 2u);
}

TEST_F(OrderEntryTest, CancelOnDisconnectAlsoActsOnALogoutButNotAtTheEndOfTheDay) {
  make([](VenueConfig& c) {
    c.cancel_on_disconnect = true;  // every user
    c.shutdown_linger_ns = 100'000'000;
  });
  OuchClient& alice = login("ALICE", "a");
  ASSERT_TRUE(alice.send(enter(1, Side::kSell, 300, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  alice.logout();
  ASSERT_TRUE(run([&] { return venue_->summary().order_entry.canceled_on_disconnect == 1; }));
  EXPECT_EQ(venue_->summary().client_orders, 0u);

  OuchClient& again = login("ALICE", "a", 3);
  ASSERT_TRUE(await(again, 1)) << again.types();
  EXPECT_EQ(again.all<ouch::OrderCanceled>().at(0).reason, ouch::CancelReason::kSystem);
  ASSERT_TRUE(again.send(enter(2, Side::kSell, 300, symbol(), reference())));
  ASSERT_TRUE(await(again, 2)) << again.types();
  // The end of the day closes her session with 'Z': the day's orders are not cancelled for it.
  venue_->stop();
  venue_->finish();
  EXPECT_EQ(venue_->summary().order_entry.canceled_on_disconnect, 1u);
  EXPECT_EQ(venue_->summary().order_entry.sessions_lost, 1u);
  EXPECT_EQ(venue_->summary().client_orders, 1u);
}

TEST_F(OrderEntryTest, EveryExecutionReportedToAUserIsALineOfTheExecutionsFileAtTheEndOfItsPass) {
  const std::string path = ::testing::TempDir() + "order_entry_executions_" + std::to_string(::getpid()) + ".jsonl";
  { std::ofstream(path) << "an earlier run's line\n"; }  // appended to, never truncated
  make([&](VenueConfig& c) { c.executions = path; });
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  const ouch::Price px = reference();
  ASSERT_TRUE(alice.send(enter(1, Side::kSellShort, 300, symbol(), px)));
  ASSERT_TRUE(await(alice, 2));
  ASSERT_TRUE(bob.send(enter(7, Side::kBuy, 200, symbol(), px + 500, TimeInForce::kIoc)));
  ASSERT_TRUE(await(bob, 3)) << bob.types();
  // Bob has his fill: the pass that produced it has written both lines already (no settling, no
  // end of day needed).
  const std::string written = ::hft::testing::read_file(path);
  ASSERT_TRUE(await(alice, 3)) << alice.types();
  const auto a = alice.all<ouch::OrderExecuted>().at(0);
  const auto b = bob.all<ouch::OrderExecuted>().at(0);
  ASSERT_EQ(a.match_number, b.match_number);
  auto line = [&](const char* user, int ref, const char* token, const char* side, const ouch::OrderExecuted& e,
                  char liquidity) {
    return fmt::format(R"({{"user":"{}","user_ref_num":{},"order_token":"{}","symbol":"{}","side":"{}","price":{},)"
                       R"("quantity":{},"match_number":{},"timestamp":{},"venue":"NASDAQ","liquidity":"{}","fee":0}})"
                       "\n",
                       user, ref, token, symbol(), side, px, 200, e.match_number, e.timestamp, liquidity);
  };
  // The resting side first (the engine reports it first), then the incoming one.
  EXPECT_EQ(written, "an earlier run's line\n" + line("ALICE", 1, "T1", "S", a, 'A') + line("BOB", 7, "T7", "B", b, 'R'));
  EXPECT_EQ(venue_->summary().executions_file.lines, 2u);
}

TEST_F(OrderEntryTest, MalformedOuchIsCountedAndTheSessionSurvives) {
  make();
  OuchClient& alice = login("ALICE", "a");
  const std::uint8_t unknown[] = {'Z', 1, 2, 3};
  const std::uint8_t short_enter[] = {'O', 0, 0, 0, 1};
  ASSERT_TRUE(alice.send_raw(unknown));
  ASSERT_TRUE(alice.send_raw(short_enter));
  ASSERT_TRUE(alice.send(enter(1, Side::kBuy, 100, symbol(), reference())));
  ASSERT_TRUE(await(alice, 2));
  EXPECT_TRUE(alice.logged_in());
  EXPECT_EQ(venue_->summary().order_entry.malformed, 2u);
  EXPECT_NE(log_.str().find("malformed OUCH message"), std::string::npos);
}

}  // namespace
}  // namespace hft::venue::testing
