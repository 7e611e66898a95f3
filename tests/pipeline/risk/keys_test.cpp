// The table of risk keys: every row reads and writes its own member of RiskLimits, [risk] parsing
// and `hftctl set` both follow it, and the control file's RiskBlock carries it whole.
#include "pipeline/risk/keys.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/control/risk_block.hpp"

namespace hft::risk {
namespace {

TEST(RiskKeys, EveryRowOwnsOneMemberAndRoundTrips) {
  std::set<std::string_view> names;
  for (const RiskKey& k : kRiskKeys) {
    EXPECT_TRUE(names.insert(k.name).second) << "duplicate key " << k.name;
    EXPECT_LE(k.min, k.max) << k.name;
    EXPECT_LT(k.name.size(), sizeof(control::RiskLimitSlot{}.name)) << k.name;
    EXPECT_FALSE(k.help.empty()) << k.name;
    // Setting this key's value changes this key and no other.
    const RiskLimits defaults;
    RiskLimits l = defaults;
    const double v = k.kind == KeyKind::kBoolean ? (k.get(defaults) != 0 ? 0.0 : 1.0) : k.max;
    k.set(l, v);
    EXPECT_EQ(k.get(l), v) << k.name;
    for (const RiskKey& other : kRiskKeys) {
      if (other.name != k.name) {
        EXPECT_EQ(other.get(l), other.get(defaults)) << k.name << " changed " << other.name;
      }
    }
  }
  EXPECT_EQ(find_risk_key("max_notional_usd"), &kRiskKeys[1]);
  EXPECT_EQ(find_risk_key("nope"), nullptr);
}

TEST(RiskKeys, ScaleOfTheNotional) {
  RiskLimits l;
  find_risk_key("max_notional_usd")->set(l, 250'000.5);
  EXPECT_EQ(l.max_notional, 2'500'005'000);  // 1/10,000 $
  EXPECT_EQ(format_risk_value(*find_risk_key("max_notional_usd"), find_risk_key("max_notional_usd")->get(l)), "250000.50");
}

TEST(RiskKeys, SetAtRunTime) {
  RiskLimits l;
  SetOutcome o = set_risk_key(l, "risk.max_order_quantity", "50");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.message, "risk.max_order_quantity: 10000 -> 50");
  EXPECT_EQ(l.max_order_quantity, 50u);
  o = set_risk_key(l, "risk.max_notional_usd", "1234.5");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.message, "risk.max_notional_usd: 1000000.00 -> 1234.50");
  EXPECT_EQ(l.max_notional, 12'345'000);
  o = set_risk_key(l, "risk.max_orders_per_second", "2.5");
  EXPECT_EQ(o.message, "risk.max_orders_per_second: 2000 -> 2.5");
  EXPECT_EQ(l.max_orders_per_second, 2.5);

  const RiskLimits before = l;
  o = set_risk_key(l, "risk.max_order_quantity", "0");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.message, "risk.max_order_quantity: \"0\" is not a number in [1, 999999]");
  o = set_risk_key(l, "risk.max_notional_usd", "lots");
  EXPECT_EQ(o.message, "risk.max_notional_usd: \"lots\" is not a number in [0.01, 1e+12]");
  o = set_risk_key(l, "risk.bogus", "1");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("unknown key \"risk.bogus\" (keys: risk.max_order_quantity, "), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find("require_reference_price"), std::string::npos) << "not settable, not listed";
  o = set_risk_key(l, "max_order_quantity", "5");
  EXPECT_FALSE(o.ok) << "the risk. prefix is required";
  o = set_risk_key(l, "risk.require_reference_price", "0");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("cannot change while hftd runs"), std::string::npos) << o.message;
  EXPECT_EQ(l.max_order_quantity, before.max_order_quantity);
  EXPECT_EQ(l.max_notional, before.max_notional);
  EXPECT_EQ(l.require_reference_price, before.require_reference_price);
}

TEST(RiskKeys, ConfigSectionFollowsTheTable) {
  auto doc = core::ConfigDocument::parse(
      "[risk]\nmax_order_quantity = 7\nmax_notional_usd = 12.5\nprice_band_bps = 9\nmax_position = 11\n"
      "max_open_orders = 13\nmax_orders_per_second = 0.5\norder_burst = 17\nrequire_reference_price = false\n",
      "t.toml");
  RiskLimits l;
  parse_risk_section(*doc->root().section("risk"), l);
  EXPECT_EQ(l.max_order_quantity, 7u);
  EXPECT_EQ(l.max_notional, 125'000);
  EXPECT_EQ(l.price_band_bps, 9);
  EXPECT_EQ(l.max_position, 11);
  EXPECT_EQ(l.max_open_orders, 13u);
  EXPECT_EQ(l.max_orders_per_second, 0.5);
  EXPECT_EQ(l.order_burst, 17u);
  EXPECT_FALSE(l.require_reference_price);
  // Every key's range is enforced, with the key named.
  for (const RiskKey& k : kRiskKeys) {
    if (k.kind == KeyKind::kBoolean) continue;
    auto bad = core::ConfigDocument::parse(fmt::format("[risk]\n{} = {}\n", k.name, k.max * 10), "t.toml");
    RiskLimits m;
    try {
      parse_risk_section(*bad->root().section("risk"), m);
      ADD_FAILURE() << k.name << " accepted " << k.max * 10;
    } catch (const core::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("risk." + std::string(k.name)), std::string::npos) << e.what();
    }
  }
}

TEST(RiskKeys, RestrictedSymbolsFromConfig) {
  auto doc = core::ConfigDocument::parse("[risk]\nrestricted_symbols = [\"XYZ\", \"ABCDEFGH\"]\n", "t.toml");
  RiskLimits l;
  parse_risk_section(*doc->root().section("risk"), l);
  ASSERT_EQ(l.restricted_count, 2u);
  EXPECT_TRUE(l.is_restricted(itch::Symbol::from("XYZ").key()));
  EXPECT_TRUE(l.is_restricted(itch::Symbol::from("ABCDEFGH").key()));
  EXPECT_FALSE(l.is_restricted(itch::Symbol::from("XY").key()));
  EXPECT_EQ(RiskLimits{}.restricted_count, 0u) << "empty by default";
  for (const char* bad : {"[risk]\nrestricted_symbols = [\"TOOLONGNAME\"]\n", "[risk]\nrestricted_symbols = [\"\"]\n"}) {
    auto d = core::ConfigDocument::parse(bad, "t.toml");
    RiskLimits m;
    try {
      parse_risk_section(*d->root().section("risk"), m);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const core::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("risk.restricted_symbols"), std::string::npos) << e.what();
    }
  }
}

// Issue 11: the restricted list at run time (`hftctl set risk.restricted_symbols=...`), validated.
TEST(RiskKeys, RestrictedSymbolsAtRunTime) {
  RiskLimits l;
  SetOutcome o = set_risk_key(l, "risk.restricted_symbols", "AAPL,MSFT");
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.message, "risk.restricted_symbols: none -> AAPL,MSFT");
  EXPECT_TRUE(l.is_restricted(itch::Symbol::from("MSFT").key()));
  o = set_risk_key(l, "risk.restricted_symbols", "+TSLA");
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(restricted_text(l), "AAPL,MSFT,TSLA");
  o = set_risk_key(l, "risk.restricted_symbols", "-AAPL");
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(restricted_text(l), "MSFT,TSLA");
  EXPECT_FALSE(l.is_restricted(itch::Symbol::from("AAPL").key()));
  for (const char* bad : {"", "TOOLONGSYM", "aapl", "A,,B", "+"}) {
    const RiskLimits before = l;
    o = set_risk_key(l, "risk.restricted_symbols", bad);
    EXPECT_FALSE(o.ok) << bad;
    EXPECT_EQ(l.restricted_count, before.restricted_count) << "unchanged after \"" << bad << "\"";
  }
  o = set_risk_key(l, "risk.restricted_symbols", "none");
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(l.restricted_count, 0u);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(set_risk_key(l, "risk.restricted_symbols", "+S" + std::to_string(i)).ok) << i;
  EXPECT_FALSE(set_risk_key(l, "risk.restricted_symbols", "+FULL").ok) << "at most 64";
}

TEST(RiskKeys, TheControlFileBlockCarriesEveryKey) {
  control::RiskBlock b{};
  RiskLimits l;
  l.price_band_bps = 42;
  control::write_risk_limits(b, l);
  ASSERT_EQ(b.limit_count, kRiskKeys.size());
  for (const RiskKey& k : kRiskKeys) {
    const control::RiskLimitSlot* s = b.find(k.name);
    ASSERT_NE(s, nullptr) << k.name;
    EXPECT_EQ(s->value, k.get(l));
    EXPECT_EQ(s->kind, static_cast<std::uint8_t>(k.kind));
    EXPECT_EQ(s->runtime != 0, k.runtime);
  }
  EXPECT_EQ(b.find("price_band_bps")->value, 42.0);
}

}  // namespace
}  // namespace hft::risk

// Issue 11: per-strategy limits at run time (`hftctl set strategy.NAME.risk_max_position=300`),
// validated, and replayed from the journal's "set KEY=VALUE" text exactly like the global keys.
TEST(RiskKeys, SetsPerStrategyLimitsByName) {
  const std::vector<std::string> names{"mm", "momo"};
  hft::risk::RiskLimits l;
  l.strategy[1].max_position = 100;
  hft::risk::SetOutcome o = hft::risk::set_risk_key(l, "strategy.momo.risk_max_position", "300", names);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(l.strategy[1].max_position, 300);
  EXPECT_EQ(o.message, "strategy.momo.risk_max_position: 100 -> 300");
  o = hft::risk::set_risk_key(l, "strategy.mm.max_notional_usd", "2500.5", names);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(l.strategy[0].max_notional, 25'005'000);
  o = hft::risk::set_risk_key(l, "strategy.mm.risk_max_orders_per_second", "12.5", names);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(l.strategy[0].max_orders_per_second, 12.5);
  o = hft::risk::set_risk_key(l, "strategy.mm.risk_max_loss_usd", "750", names);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(l.strategy[0].max_loss, 7'500'000);
  EXPECT_EQ(hft::risk::strategy_limit_value(l.strategy[0], "max_loss_usd"), 750);

  const hft::risk::RiskLimits before = l;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"strategy.nobody.risk_max_position", "5"},   // no such strategy
           {"strategy.mm.risk_max_wealth", "5"},          // no such limit
           {"strategy.risk_max_position", "5"},           // no name
           {"strategy.mm.risk_max_position", "-1"},       // negative
           {"strategy.mm.risk_max_position", "2.5"},      // not an integer
           {"strategy.mm.risk_max_loss_usd", "lots"},     // not a number
           {"strategy.mm.risk_max_loss_usd", "1e13"}}) {  // out of range
    o = hft::risk::set_risk_key(l, key, value, names);
    EXPECT_FALSE(o.ok) << key << "=" << value;
    EXPECT_FALSE(o.message.empty());
  }
  EXPECT_EQ(std::memcmp(&before.strategy, &l.strategy, sizeof l.strategy), 0) << "a refused set changed a limit";
  o = hft::risk::set_risk_key(l, "strategy.nobody.risk_max_position", "5", names);
  EXPECT_NE(o.message.find("mm, momo"), std::string::npos) << o.message;

  // Replay: the journaled commands applied again on the configured limits give the same limits.
  hft::risk::RiskLimits replayed;
  replayed.strategy[1].max_position = 100;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"strategy.momo.risk_max_position", "300"}, {"strategy.mm.max_notional_usd", "2500.5"},
           {"strategy.mm.risk_max_orders_per_second", "12.5"}, {"strategy.mm.risk_max_loss_usd", "750"}})
    ASSERT_TRUE(hft::risk::set_risk_key(replayed, key, value, names).ok);
  EXPECT_EQ(std::memcmp(&replayed.strategy, &l.strategy, sizeof l.strategy), 0);
}
