// Issue 11's pre-trade checks, each with an order just inside and just outside its limit, on the
// gate alone (the egress stage runs them too: tests/pipeline/stages/egress_stage_test.cpp).
#include <gtest/gtest.h>

#include "pipeline/risk/keys.hpp"
#include "pipeline/risk/risk.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::risk {
namespace {

using pipeline::OrderIntent;
using pipeline::Side;

constexpr double kTicksPerSecond = 1e9;  // tests pass nanoseconds as ticks
constexpr Price kBid = 1'000'000, kAsk = 1'000'200;  // $100.00 / $100.02

OrderIntent order(Side side, Price price, Quantity qty, std::uint8_t strategy = 1) {
  OrderIntent in{};
  in.side = side;
  in.price = price;
  in.quantity = qty;
  in.locate = 1;
  in.strategy = strategy;
  return in;
}

MarketView market(std::uint64_t updated = 1) {
  MarketView m;
  m.bid = kBid;
  m.ask = kAsk;
  m.reference = (kBid + kAsk) / 2;
  m.updated_tsc = updated;
  m.avg_trade = 100;
  m.state = 'T';
  return m;
}

RiskLimits wide() {
  RiskLimits l;
  l.max_orders_per_second = 1e6;
  l.order_burst = 1000;
  return l;
}

TEST(RiskMarketChecks, AllOffByDefault) {
  const RiskLimits d;
  EXPECT_EQ(d.price_collar_bps, 0);
  EXPECT_EQ(d.reference_max_age_ms, 0);
  EXPECT_EQ(d.fat_finger_multiple, 0);
  EXPECT_EQ(d.max_symbol_notional, 0);
  EXPECT_EQ(d.duplicate_window_ms, 0);
  EXPECT_EQ(d.max_messages_per_second, 0);
  RiskGate g(wide(), kTicksPerSecond);
  MarketView m = market();
  m.avg_trade = 1;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 2000, 5000), Exposure{}, m, 0, 10), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 2000, 5000), Exposure{}, m, 0, 11), RejectReason::kNone)
      << "no duplicate check";
}

TEST(RiskMarketChecks, PriceCollarAgainstTheTouch) {
  RiskLimits l = wide();
  l.price_collar_bps = 10;  // 0.1%: $0.10 above a $100.02 ask is 1,000.2 ticks
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market();
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 1000, 10), Exposure{}, m, 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 1001, 10), Exposure{}, m, 0, 2), RejectReason::kPriceCollar);
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid - 1000, 10), Exposure{}, m, 0, 3), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid - 1001, 10), Exposure{}, m, 0, 4), RejectReason::kPriceCollar);
  // A passive order far from the touch on its own side is not the collar's business.
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid - 3000, 10), Exposure{}, m, 0, 5), RejectReason::kNone);
  // An empty side: nothing to collar against.
  MarketView one = m;
  one.ask = 0;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 1001, 10), Exposure{}, one, 0, 6), RejectReason::kNone);
  // Replaces too.
  EXPECT_EQ(g.check_replace(order(Side::kBuy, kAsk + 1001, 10), 10, Exposure{}, m, 7), RejectReason::kPriceCollar);
  EXPECT_EQ(g.rejected(RejectReason::kPriceCollar), 3u);
}

TEST(RiskMarketChecks, StaleReference) {
  RiskLimits l = wide();
  l.reference_max_age_ms = 5;
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market(1'000'000'000);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 1'005'000'000), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 1'005'000'001), RejectReason::kStaleReference);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, market(0), 0, 1'005'000'002),
            RejectReason::kStaleReference)
      << "never updated";
  EXPECT_EQ(g.rejected(RejectReason::kStaleReference), 2u);
}

TEST(RiskMarketChecks, HaltedOrPausedSymbol) {
  RiskGate g(wide(), kTicksPerSecond);
  MarketView m = market();
  for (const char s : {'T', 'Q', ' '}) {
    m.state = s;
    EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 1), RejectReason::kNone) << s;
  }
  for (const char s : {'H', 'P'}) {
    m.state = s;
    EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 2), RejectReason::kSymbolHalted) << s;
  }
  RiskLimits l = wide();
  l.refuse_halted_symbols = false;
  g.set_limits(l);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 3), RejectReason::kNone);
}

TEST(RiskMarketChecks, FatFingerAgainstTheAverageTradeSize) {
  RiskLimits l = wide();
  l.fat_finger_multiple = 2.5;
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market();  // average trade 100 shares
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 250), Exposure{}, m, 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 251), Exposure{}, m, 0, 2), RejectReason::kFatFinger);
  MarketView none = m;
  none.avg_trade = 0;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 251), Exposure{}, none, 0, 3), RejectReason::kNone)
      << "no trade yet: no average to compare with";
  // A replace is judged on its growth.
  EXPECT_EQ(g.check_replace(order(Side::kBuy, kBid, 400), 150, Exposure{}, m, 4), RejectReason::kNone);
  EXPECT_EQ(g.check_replace(order(Side::kBuy, kBid, 401), 150, Exposure{}, m, 5), RejectReason::kFatFinger);
}

TEST(RiskMarketChecks, SymbolNotionalCountsPositionAndWorkingOrders) {
  RiskLimits l = wide();
  l.max_symbol_notional = 100'000 * 10'000ll;  // $100,000
  RiskGate g(l, kTicksPerSecond);
  Exposure ex;
  ex.position = 500;
  ex.open_buy = 300;
  // (500 + 300 + 200) x $100.00 = $100,000: inside; one share more is outside.
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 200), ex, market(), 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 201), ex, market(), 0, 2), RejectReason::kSymbolNotional);
  // Selling out of a long position reduces the exposure.
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid, 900), ex, market(), 0, 3), RejectReason::kNone);
  ex.position = -500;
  ex.open_buy = 0;
  ex.open_sell = 300;
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid, 200), ex, market(), 0, 4), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid, 201), ex, market(), 0, 5), RejectReason::kSymbolNotional);
}

TEST(RiskMarketChecks, DuplicateWithinTheWindow) {
  RiskLimits l = wide();
  l.duplicate_window_ms = 10;
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market();
  const std::uint64_t t0 = 1'000'000'000;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 100), Exposure{}, m, 0, t0), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 100), Exposure{}, m, 0, t0 + 10'000'000), RejectReason::kDuplicate);
  // Any field different is another order.
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 101), Exposure{}, m, 0, t0 + 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid - 100, 100), Exposure{}, m, 0, t0 + 2), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid, 100), Exposure{}, m, 0, t0 + 3), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 100, 2), Exposure{}, m, 0, t0 + 4), RejectReason::kNone);
  // Just past the window (the first order's time, not the refused repeat's).
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 100), Exposure{}, m, 0, t0 + 10'000'001), RejectReason::kNone);
  EXPECT_EQ(g.rejected(RejectReason::kDuplicate), 1u);
}

TEST(RiskMarketChecks, MessageRateCountsCancelsButNeverRefusesThem) {
  RiskLimits l = wide();
  l.max_messages_per_second = 10;
  l.message_burst = 4;
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market();
  const std::uint64_t t = 1'000;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 1), Exposure{}, m, 0, t), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 1), Exposure{}, m, 0, t), RejectReason::kNone);
  g.note_cancel(t);  // the fourth message: the bucket is empty now
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 1), Exposure{}, m, 0, t), RejectReason::kNone) << "the fourth token";
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 1), Exposure{}, m, 0, t), RejectReason::kMessageRate);
  EXPECT_EQ(g.check_replace(order(Side::kBuy, kBid, 1), 1, Exposure{}, m, t), RejectReason::kMessageRate);
  // Cancels keep going (into debt, -2): 0.2 s refills two tokens, one short; 0.35 s three and a half.
  g.note_cancel(t);
  g.note_cancel(t);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 1), Exposure{}, m, 0, t + 200'000'000), RejectReason::kMessageRate);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 1), Exposure{}, m, 0, t + 350'000'000), RejectReason::kNone);
  EXPECT_EQ(g.rejected(RejectReason::kMessageRate), 3u);
  EXPECT_EQ(g.rejected(RejectReason::kOrderRate), 0u) << "the order bucket lent no token to a refused order";
}

TEST(RiskMarketChecks, PriceCollarInTicks) {
  RiskLimits l = wide();
  l.price_collar_ticks = 500;  // $0.05 beyond the touch
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market();
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 500, 10), Exposure{}, m, 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 501, 10), Exposure{}, m, 0, 2), RejectReason::kPriceCollar);
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid - 500, 10), Exposure{}, m, 0, 3), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kSell, kBid - 501, 10), Exposure{}, m, 0, 4), RejectReason::kPriceCollar);
  EXPECT_EQ(g.check_replace(order(Side::kSell, kBid - 501, 10), 10, Exposure{}, m, 5), RejectReason::kPriceCollar);
  // With the bps collar too, the tighter of the two refuses: 10 bps of the ~$100 ask is ~1,000 ticks.
  l.price_collar_bps = 10;
  g.set_limits(l);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 501, 10), Exposure{}, m, 0, 6), RejectReason::kPriceCollar);
  l.price_collar_ticks = 5'000;
  g.set_limits(l);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 1001, 10), Exposure{}, m, 0, 7), RejectReason::kPriceCollar);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kAsk + 900, 10), Exposure{}, m, 0, 8), RejectReason::kNone);
  EXPECT_EQ(g.rejected(RejectReason::kPriceCollar), 5u);
  RiskLimits k;
  EXPECT_EQ(k.price_collar_ticks, 0) << "off by default";
  EXPECT_TRUE(set_risk_key(k, "risk.price_collar_ticks", "250").ok);
  EXPECT_EQ(k.price_collar_ticks, 250);
}

TEST(RiskMarketChecks, RestrictedList) {
  RiskLimits l = wide();
  const std::uint64_t xyz = 0x2020202020'5A5958ull;  // "XYZ     " as a little-endian word
  const std::uint64_t abc = 0x2020202020'434241ull;
  l.restricted[0] = xyz;
  l.restricted_count = 1;
  RiskGate g(l, kTicksPerSecond);
  MarketView m = market();
  m.symbol = abc;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 1), RejectReason::kNone);
  m.symbol = xyz;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), Exposure{}, m, 0, 2), RejectReason::kRestricted);
  EXPECT_EQ(g.check_new(order(Side::kSell, kAsk, 10), Exposure{}, m, 0, 3), RejectReason::kRestricted);
  EXPECT_EQ(g.check_replace(order(Side::kSell, kAsk, 5), 10, Exposure{}, m, 4), RejectReason::kRestricted);
  EXPECT_EQ(g.rejected(RejectReason::kRestricted), 3u);
}

TEST(RiskMarketChecks, BuyingPower) {
  RiskLimits l = wide();
  l.max_buying_power = 100 * kBid;  // 100 shares at $100.00
  RiskGate g(l, kTicksPerSecond);
  Totals t;
  g.set_totals(&t);
  const MarketView m = market();
  // Another symbol holds 60 shares' worth; this one is flat.
  t.buying_power = 60 * kBid;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 40), Exposure{}, m, 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 41), Exposure{}, m, 0, 2), RejectReason::kBuyingPower);
  // This symbol long 20 with 10 working to buy (its share counted once, at the order's price).
  Exposure ex;
  ex.position = 20;
  ex.open_buy = 10;
  ex.buy_notional = 30 * kBid;
  t.buying_power = 60 * kBid + ex.buy_notional;
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 10), ex, m, 0, 3), RejectReason::kNone);
  EXPECT_EQ(g.check_new(order(Side::kBuy, kBid, 11), ex, m, 0, 4), RejectReason::kBuyingPower);
  EXPECT_EQ(g.check_new(order(Side::kSell, kAsk, 500), ex, m, 0, 5), RejectReason::kNone) << "a sell uses none";
  EXPECT_EQ(g.check_replace(order(Side::kBuy, kBid, 21), 10, ex, m, 6), RejectReason::kBuyingPower);
  EXPECT_EQ(g.rejected(RejectReason::kBuyingPower), 3u);
  RiskLimits k;
  EXPECT_EQ(k.max_buying_power, 0) << "off by default";
  EXPECT_TRUE(set_risk_key(k, "risk.max_buying_power_usd", "2500000").ok);
  EXPECT_EQ(k.max_buying_power, 2'500'000 * 10'000ll);
}

TEST(RiskMarketChecks, TheFullCheckAllocatesNothing) {
  RiskLimits l = wide();
  l.price_collar_bps = 10;
  l.reference_max_age_ms = 5;
  l.fat_finger_multiple = 10;
  l.max_symbol_notional = 1'000'000 * 10'000ll;
  l.duplicate_window_ms = 1;
  l.max_messages_per_second = 1e6;
  RiskGate g(l, kTicksPerSecond);
  const MarketView m = market(1'000);
  ASSERT_TRUE(hft::testing::counting_active());
  hft::testing::AllocationScope allocs;
  int passed = 0;
  for (std::uint32_t i = 0; i < 1000; ++i)
    passed += g.check_new(order(Side::kBuy, kBid, 1 + i % 100), Exposure{}, m, 0, 1'000 + i) == RejectReason::kNone;
  EXPECT_EQ(allocs.allocations(), 0u);
  EXPECT_GT(passed, 0);
}

TEST(RiskMarketChecks, KeysReachEveryNewLimit) {
  RiskLimits l;
  for (const char* kv : {"price_collar_bps=25", "reference_max_age_ms=250", "fat_finger_multiple=8.5",
                         "max_symbol_notional_usd=250000", "duplicate_window_ms=50", "max_messages_per_second=500",
                         "message_burst=60", "refuse_halted_symbols=0"}) {
    const std::string_view s(kv);
    const auto eq = s.find('=');
    const SetOutcome o = set_risk_key(l, std::string("risk.") + std::string(s.substr(0, eq)), s.substr(eq + 1));
    EXPECT_TRUE(o.ok) << kv << ": " << o.message;
  }
  EXPECT_EQ(l.price_collar_bps, 25);
  EXPECT_EQ(l.reference_max_age_ms, 250);
  EXPECT_EQ(l.fat_finger_multiple, 8.5);
  EXPECT_EQ(l.max_symbol_notional, 250'000 * 10'000ll);
  EXPECT_EQ(l.duplicate_window_ms, 50);
  EXPECT_EQ(l.max_messages_per_second, 500);
  EXPECT_EQ(l.message_burst, 60u);
  EXPECT_FALSE(l.refuse_halted_symbols);
}

TEST(ReferencePricesTable, LastTradeElseMidAndTheAverageTradeSize) {
  ReferencePrices p(8);
  p.set_touch(2, 1'000'000, 1'000'400, 5);
  EXPECT_EQ(p.get(2), 1'000'200) << "the mid";
  p.set(2, 1'000'400, 100, 6);
  p.set_touch(2, 1'000'100, 1'000'400, 7);
  EXPECT_EQ(p.get(2), 1'000'400) << "the last trade";
  MarketView v = p.view(2);
  EXPECT_EQ(v.bid, 1'000'100);
  EXPECT_EQ(v.ask, 1'000'400);
  EXPECT_EQ(v.updated_tsc, 7u);
  EXPECT_EQ(v.avg_trade, 100u) << "the first trade seeds the average";
  for (int i = 0; i < 200; ++i) p.set(2, 1'000'400, 1000, 8);
  EXPECT_NEAR(p.view(2).avg_trade, 1000, 2) << "the average follows the recent trades";
  p.set_state(2, 'H', 9);
  EXPECT_EQ(p.view(2).state, 'H');
  p.set_touch(3, 0, 2'000'000, 1);
  EXPECT_EQ(p.get(3), 2'000'000) << "one side only";
  EXPECT_EQ(p.view(100).reference, 0) << "out of range";
}

}  // namespace
}  // namespace hft::risk

namespace hft::risk {
namespace {

TEST(RiskMarketChecks, GrossAndNetExposureAcrossSymbols) {
  RiskLimits l;
  l.max_orders_per_second = 1e6;
  l.order_burst = 1000;
  l.max_net_position = 1000;
  l.max_gross_position = 1500;
  l.max_gross_notional = 200'000 * 10'000ll;  // $200,000
  RiskGate g(l, 1e9);
  Totals t;
  g.set_totals(&t);
  // Elsewhere: long 700 shares net (and 700 gross) worth $70,000; this symbol is flat.
  t.net_long = 700;
  t.net_short = 700;
  t.gross_shares = 700;
  t.gross_notional = 70'000 * 10'000ll;
  Exposure ex;
  const Price px = 1'000'000;
  auto buy = [&](Quantity q) {
    OrderIntent in{};
    in.side = Side::kBuy;
    in.price = px;
    in.quantity = q;
    in.locate = 1;
    return in;
  };
  EXPECT_EQ(g.check_new(buy(300), ex, px, 0, 1), RejectReason::kNone);
  EXPECT_EQ(g.check_new(buy(301), ex, px, 0, 2), RejectReason::kNetPosition);
  // Net is fine on the short side: gross decides.
  t.net_long = 0;
  EXPECT_EQ(g.check_new(buy(800), ex, px, 0, 3), RejectReason::kNone);
  EXPECT_EQ(g.check_new(buy(801), ex, px, 0, 4), RejectReason::kGrossPosition);
  // Gross notional: $70,000 + 1,300 x $100 = $200,000.
  l.max_gross_position = 0;
  g.set_limits(l);
  EXPECT_EQ(g.check_new(buy(1000), ex, px, 0, 5), RejectReason::kNone) << "$170,000";
  t.gross_notional = 100'000 * 10'000ll + 1;
  EXPECT_EQ(g.check_new(buy(1000), ex, px, 0, 6), RejectReason::kGrossNotional);
  // A sell that reduces this symbol's long does not add to the gross.
  ex.position = 500;
  ex.gross_notional = 500 * px;
  t.gross_notional = 199'000 * 10'000ll;
  t.gross_shares = 1500;
  OrderIntent sell = buy(500);
  sell.side = Side::kSell;
  EXPECT_EQ(g.check_new(sell, ex, px, 0, 7), RejectReason::kNone);
  EXPECT_EQ(g.rejected(RejectReason::kNetPosition), 1u);
  EXPECT_EQ(g.rejected(RejectReason::kGrossPosition), 1u);
  EXPECT_EQ(g.rejected(RejectReason::kGrossNotional), 1u);
}

}  // namespace
}  // namespace hft::risk
