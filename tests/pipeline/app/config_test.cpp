#include "pipeline/app/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "core/topology.hpp"

namespace hft::app {
namespace {

std::string error_of(const std::string& text) {
  try {
    auto doc = core::ConfigDocument::parse(text, "hftd.toml");
    (void)parse_hftd_config(doc->root());
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kMinimal = R"(
[feed]
listen = "127.0.0.1:31001"
[order_entry]
user = "HFT01"
)";

// The examples pin threads: each parses where this process may run on the CPUs it names, and is
// refused (naming the key) where it may not.
TEST(HftdConfig, ShippedExamplesParse) {
  const auto allowed = core::allowed_cpus();
  const auto may_use = [&](std::initializer_list<int> cpus) {
    for (int c : cpus)
      if (std::find(allowed.begin(), allowed.end(), c) == allowed.end()) return false;
    return true;
  };
  const std::string dir = std::string(HFT_SOURCE_DIR) + "/config/";
  if (may_use({1})) {
    const HftdConfig two = load_hftd_config(dir + "hftd-2core.toml");
    EXPECT_EQ(two.runtime.threads.size(), 1u);
    EXPECT_EQ(two.runtime.threads[0].stages.size(), 5u);
    ASSERT_EQ(two.strategies.size(), 3u);  // probe, market maker, and the execution strategy (hftctl algo)
    EXPECT_EQ(two.strategies[2].name, "exec");
    EXPECT_EQ(two.feed.session.first_sequence, 1u) << "late joiners replay the session";
  }
  if (may_use({1, 2})) {
    const HftdConfig four = load_hftd_config(dir + "hftd-4core.toml");
    EXPECT_EQ(four.runtime.threads.size(), 2u);
  } else {
    try {
      (void)load_hftd_config(dir + "hftd-4core.toml");
      ADD_FAILURE() << "hftd-4core.toml pins CPU 2, which this process may not use";
    } catch (const core::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(".cpu: CPU 2 is not one this process may run on"), std::string::npos)
          << e.what();
    }
  }
  if (may_use({2, 3, 4, 5, 6})) {
    EXPECT_NO_THROW(load_hftd_config(dir + "hftd-5core.toml"));
  }
}

TEST(HftdConfig, DefaultsToOneFusedBackoffThread) {
  auto doc = core::ConfigDocument::parse(kMinimal, "min.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_EQ(c.runtime.threads.size(), 1u);
  EXPECT_EQ(c.runtime.threads[0].idle.kind, core::IdleKind::kBackoff);
  EXPECT_EQ(c.order_entry.venue.to_string(), "127.0.0.1:31003");
}

TEST(HftdConfig, StagesMustEachRunOnExactlyOneThread) {
  const std::string base = std::string(kMinimal);
  std::string e = error_of(base + "[[threads]]\nname = \"a\"\nstages = [\"net\", \"parse\", \"book\", \"strategy\"]\n");
  EXPECT_NE(e.find("stage \"risk\" is not assigned to any thread"), std::string::npos) << e;
  e = error_of(base + "[[threads]]\nname = \"a\"\nstages = [\"net\", \"parse\", \"book\", \"strategy\", \"risk\", \"net\"]\n");
  EXPECT_NE(e.find("stage \"net\" is already run by another thread"), std::string::npos) << e;
  e = error_of(base + "[[threads]]\nname = \"a\"\nstages = [\"net\", \"parse\", \"book\", \"strategy\", \"riks\"]\n");
  EXPECT_NE(e.find("unknown stage \"riks\""), std::string::npos) << e;
}

TEST(HftdConfig, RefusesMoreSpinningThreadsThanCpus) {
  std::string text = kMinimal;
  const unsigned n = std::thread::hardware_concurrency() + 1;
  const char* stages[] = {"net", "parse", "book", "strategy", "risk"};
  if (n > 5) GTEST_SKIP() << "needs a host with at most 4 CPUs";
  for (unsigned i = 0; i < 5; ++i) {
    text += "[[threads]]\nname = \"t" + std::to_string(i) + "\"\nidle = \"" + (i < n ? "spin" : "backoff") +
            "\"\nstages = [\"" + stages[i] + "\"]\n";
  }
  const std::string e = error_of(text);
  EXPECT_NE(e.find("busy-spin"), std::string::npos) << e;
}

TEST(HftdConfig, ClearErrors) {
  std::string e = error_of("[feed]\nlisten = \"nowhere\"\n[order_entry]\nuser = \"U\"\n");
  EXPECT_NE(e.find("feed.listen: endpoint \"nowhere\": expected HOST:PORT"), std::string::npos) << e;
  e = error_of("[feed]\n[order_entry]\nuser = \"TOOLONGNAME\"\n");
  EXPECT_NE(e.find("order_entry.user: must be 1 to 6 characters"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"arbitrage\"\n");
  EXPECT_NE(e.find("strategies[0].type: expected one of"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"market_maker\"\n");
  EXPECT_NE(e.find("a market maker needs at least one symbol"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[risk]\nmax_order_quantity = 0\n");
  EXPECT_NE(e.find("risk.max_order_quantity: 0 is out of range"), std::string::npos) << e;
  e = error_of("[order_entry]\nuser = \"U\"\n");
  EXPECT_NE(e.find("feed: required table is missing"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[rings]\nnet_parse = 1000\n");
  EXPECT_NE(e.find("powers of two"), std::string::npos) << e;
}

TEST(HftdConfig, StrategiesDeclareTheirFeatures) {
  const std::string mm = std::string(kMinimal) + "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"AAPL\"]\n";
  auto doc = core::ConfigDocument::parse(mm + "features = [\"micro_price\", \"ofi_1\"]\nfeature_params = [\"vol_window=50\"]\n",
                                         "hftd.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_EQ(c.strategies.size(), 1u);
  EXPECT_EQ(c.strategies[0].features,
            features::bit(features::Feature::kMicroPrice) | features::bit(features::Feature::kOfi1));
  EXPECT_EQ(c.strategies[0].feature_params.vol_window, 50u);
  auto plain = core::ConfigDocument::parse(mm, "hftd.toml");
  EXPECT_EQ(parse_hftd_config(plain->root()).strategies[0].features, 0u) << "no key: no features";
  auto seed = core::ConfigDocument::parse(mm + "features = [\"seed\"]\n", "hftd.toml");
  EXPECT_EQ(parse_hftd_config(seed->root()).strategies[0].features, features::kSeedSet);

  std::string e = error_of(mm + "features = [\"mid\", \"micro_prise\"]\n");
  EXPECT_NE(e.find("hftd.toml"), std::string::npos) << e;
  EXPECT_NE(e.find(":9"), std::string::npos) << "the line of the key: " << e;
  EXPECT_NE(e.find("strategies[0].features: unknown feature \"micro_prise\""), std::string::npos) << e;
  e = error_of(mm + "feature_params = [\"vol_window=0\"]\n");
  EXPECT_NE(e.find("strategies[0].feature_params"), std::string::npos) << e;
  e = error_of(mm + "feature_params = [\"no_such=1\"]\n");
  EXPECT_NE(e.find("strategies[0].feature_params"), std::string::npos) << e;
}

// Issue 11: per-strategy risk limits in each [[strategies]] table, by the strategy's index.
TEST(HftdConfig, PerStrategyRiskLimits) {
  const std::string mm = std::string(kMinimal) + "[[strategies]]\ntype = \"market_maker\"\nname = \"a\"\nsymbols = [\"AAPL\"]\n";
  const std::string two = mm + "[[strategies]]\ntype = \"market_maker\"\nname = \"b\"\nsymbols = [\"MSFT\"]\n"
                               "risk_max_position = 300\nrisk_max_notional_usd = 12345.67\n"
                               "risk_max_orders_per_second = 5\nrisk_max_loss_usd = 250\n";
  auto doc = core::ConfigDocument::parse(two, "hftd.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  EXPECT_FALSE(c.risk.strategy[0].any()) << "strategy a has none";
  EXPECT_EQ(c.risk.strategy[1].max_position, 300);
  EXPECT_EQ(c.risk.strategy[1].max_notional, 123'456'700);
  EXPECT_EQ(c.risk.strategy[1].max_orders_per_second, 5.0);
  EXPECT_EQ(c.risk.strategy[1].max_loss, 2'500'000);
  const std::string e = error_of(mm + "risk_max_position = -1\n");
  EXPECT_NE(e.find("strategies[0].risk_max_position"), std::string::npos) << e;
}

TEST(HftdConfig, JournalAndRecovery) {
  auto doc = core::ConfigDocument::parse(std::string("instance = \"a-1\"\n") + kMinimal +
                                             "[journal]\ndir = \"/tmp/j\"\nsync = \"every\"\n[recovery]\nworking_orders = \"cancel\"\n",
                                         "hftd.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_TRUE(c.journal.has_value());
  EXPECT_EQ(c.journal->dir, "/tmp/j");
  EXPECT_EQ(c.journal->sync.mode, journal::SyncMode::kEvery);
  EXPECT_EQ(c.working_orders, pipeline::WorkingOrders::kCancel);
  auto plain = core::ConfigDocument::parse(kMinimal, "hftd.toml");
  const HftdConfig d = parse_hftd_config(plain->root());
  EXPECT_FALSE(d.journal.has_value()) << "no [journal]: no journal";
  EXPECT_EQ(d.working_orders, pipeline::WorkingOrders::kAdopt);
  std::string e = error_of(std::string(kMinimal) + "[recovery]\nworking_orders = \"keep\"\n");
  EXPECT_NE(e.find("recovery.working_orders"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[journal]\nsync = \"every\"\n");
  EXPECT_NE(e.find("journal.dir"), std::string::npos) << e;
  e = error_of(std::string("instance = \"a b\"\n") + kMinimal + "[journal]\ndir = \"/tmp/j\"\n");
  EXPECT_NE(e.find("instance"), std::string::npos) << e;
}

TEST(HftdConfig, ScriptedStrategyOrders) {
  auto doc = core::ConfigDocument::parse(std::string(kMinimal) + R"(
[[strategies]]
type = "scripted"
orders = [ { symbol = "AAA", side = "sell", quantity = 5000, price_offset_bps = -20, tif = "ioc", repeat = 3 },
           { symbol = "BBB", at_ms = 500 } ]
)",
                                        "s.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_EQ(c.strategies.size(), 1u);
  const auto& p = std::get<strategy::ScriptedParams>(c.strategies[0].params);
  ASSERT_EQ(p.orders.size(), 2u);
  EXPECT_EQ(p.orders[0].side, pipeline::Side::kSell);
  EXPECT_EQ(p.orders[0].repeat, 3u);
  EXPECT_EQ(p.orders[1].at_ms, 500u);
  EXPECT_EQ(c.strategies[0].symbols, (std::vector<std::string>{"AAA", "BBB"}));
  const std::string e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"scripted\"\norders = [ { symbol = \"A\", sid = \"buy\" } ]\n");
  EXPECT_NE(e.find("sid: unknown key"), std::string::npos) << e;
}

// Every registered type is accepted by name, its parameters are read from the declaration beside
// its struct (defaults from the struct, ranges and messages from the declaration).
TEST(HftdConfig, StrategiesComeFromTheRegistry) {
  auto doc = core::ConfigDocument::parse(std::string(kMinimal) + R"(
[[strategies]]
type = "spread_capture"
symbols = ["AAA", "BBB"]
min_spread_ticks = 4
[[strategies]]
type = "market_maker"
symbols = ["AAA"]
gamma = 0.5
[[strategies]]
type = "probe"
)",
                                        "r.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_EQ(c.strategies.size(), 3u);
  const auto& sc = std::get<strategy::SpreadCaptureParams>(c.strategies[0].params);
  EXPECT_EQ(sc.min_spread_ticks, 4);
  EXPECT_EQ(sc.size, strategy::SpreadCaptureParams{}.size) << "a missing key keeps the struct's default";
  EXPECT_EQ(c.strategies[0].symbols, (std::vector<std::string>{"AAA", "BBB"}));
  EXPECT_EQ(c.strategies[0].name, "spread_capture");
  const auto& mm = std::get<strategy::MarketMakerParams>(c.strategies[1].params);
  EXPECT_EQ(mm.gamma, 0.5);
  EXPECT_EQ(mm.quote_size, strategy::MarketMakerParams{}.quote_size);
  EXPECT_EQ(c.strategies[2].symbols, (std::vector<std::string>{"ZPROBE"}));

  std::string e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"arbitrage\"\n");
  EXPECT_NE(e.find(R"(expected one of "probe", "market_maker", "scripted", "spread_capture", "execution", "momentum", "stat_arb", "manual", "cross_venue_arb", got "arbitrage")"),
            std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"spread_capture\"\nsymbols = [\"A\"]\nmin_spread_ticks = 1\n");
  EXPECT_NE(e.find("hftd.toml:"), std::string::npos) << e;
  EXPECT_NE(e.find("strategies[0].min_spread_ticks: 1 is out of range [2, 1000000]"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"spread_capture\"\nsymbols = [\"A\"]\nsize_ = 5\n");
  EXPECT_NE(e.find("strategies[0].size_: unknown key"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"probe\"\nsymbol = \"TOOLONGSYM\"\n");
  EXPECT_NE(e.find("strategies[0].symbol: symbols are 1 to 8 characters"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"scripted\"\norders = [ { symbol = \"A\", side = \"short\" } ]\n");
  EXPECT_NE(e.find(R"(side: expected one of "buy", "sell", got "short")"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[[strategies]]\ntype = \"scripted\"\n");
  EXPECT_NE(e.find("a scripted strategy needs at least one order"), std::string::npos) << e;
}

// Issue 14: [[venues]].
constexpr const char* kTwoVenues = R"(
[[venues]]
name = "NASDAQ"
fee_add_per_share = -0.0020
fee_remove_per_share = 0.0030
[venues.feed]
listen = "127.0.0.1:31001"
rerequest = "127.0.0.1:31002"
[venues.order_entry]
venue = "127.0.0.1:31003"
user = "HFT01"
[[venues]]
name = "BX"
fee_add_per_share = 0.0015
[venues.feed]
listen = "127.0.0.1:32001"
rerequest = "127.0.0.1:32002"
glimpse = "127.0.0.1:32004"
[venues.order_entry]
venue = "127.0.0.1:32003"
user = "HFT02"
password = "pw"
)";

TEST(HftdConfig, TwoVenues) {
  auto doc = core::ConfigDocument::parse(kTwoVenues, "hftd.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_EQ(c.venues.size(), 2u);
  EXPECT_EQ(c.venues[0].name, "NASDAQ");
  EXPECT_EQ(c.venues[1].name, "BX");
  EXPECT_EQ(c.venues[0].feed.listen.text, "127.0.0.1:31001");
  EXPECT_EQ(c.venues[1].feed.listen.text, "127.0.0.1:32001");
  EXPECT_EQ(c.venues[1].feed.rerequest.text, "127.0.0.1:32002");
  EXPECT_TRUE(c.venues[1].feed.glimpse.enabled);
  EXPECT_EQ(c.venues[1].feed.glimpse.username, "HFT02") << "GLIMPSE logs in with the venue's order-entry account";
  EXPECT_EQ(c.venues[1].feed.session.first_sequence, 0u);
  EXPECT_FALSE(c.venues[0].feed.glimpse.enabled);
  EXPECT_EQ(c.venues[1].order_entry.venue.text, "127.0.0.1:32003");
  EXPECT_EQ(c.venues[1].order_entry.soup.password, "pw");
  EXPECT_DOUBLE_EQ(c.venues[0].fee_add_per_share, -0.002);
  EXPECT_DOUBLE_EQ(c.venues[0].fee_remove_per_share, 0.003);
  EXPECT_DOUBLE_EQ(c.venues[1].fee_add_per_share, 0.0015);
  EXPECT_EQ(c.feed.listen.text, "127.0.0.1:31001") << "feed / order_entry are the first venue's";
  EXPECT_EQ(c.order_entry.soup.username, "HFT01");
  EXPECT_EQ(c.book.max_locate, kMaxVenueLocate) << "room for instruments first seen on the second venue";
}

TEST(HftdConfig, OldFormIsOneVenue) {
  auto doc = core::ConfigDocument::parse(std::string(kMinimal) + "[net]\nsocket_busy_poll_us = 50\n", "hftd.toml");
  const HftdConfig c = parse_hftd_config(doc->root());
  ASSERT_EQ(c.venues.size(), 1u);
  EXPECT_EQ(c.venues[0].name, "NASDAQ");
  EXPECT_EQ(c.venues[0].feed.listen.text, "127.0.0.1:31001");
  EXPECT_EQ(c.venues[0].order_entry.soup.username, "HFT01");
  EXPECT_EQ(c.venues[0].feed.socket_busy_poll_us, 50);
  EXPECT_EQ(c.feed.socket_busy_poll_us, 50);
  EXPECT_EQ(c.book.max_locate, 65535u) << "one venue: [book] as before";
}

TEST(HftdConfig, VenueErrors) {
  std::string e = error_of(std::string(kTwoVenues) + "[feed]\nlisten = \"127.0.0.1:33001\"\n");
  EXPECT_NE(e.find("hftd.toml:"), std::string::npos) << e;
  EXPECT_NE(e.find("feed: [[venues]] and the single-venue [feed] / [order_entry] tables cannot be mixed"), std::string::npos) << e;
  EXPECT_NE(e.find("[venues.feed]"), std::string::npos) << e;

  std::string dup_name = kTwoVenues;
  dup_name.replace(dup_name.find("name = \"BX\""), 11, "name = \"NASDAQ\"");
  e = error_of(dup_name);
  EXPECT_NE(e.find("venues[1].name: duplicate venue name \"NASDAQ\""), std::string::npos) << e;

  std::string dup_port = kTwoVenues;
  dup_port.replace(dup_port.find("127.0.0.1:32001"), 15, "127.0.0.2:31001");
  e = error_of(dup_port);
  EXPECT_NE(e.find("venues[1].feed.listen: port 31001 is already another venue's feed port"), std::string::npos) << e;

  std::string bad_name = kTwoVenues;
  bad_name.replace(bad_name.find("name = \"BX\""), 11, "name = \"bx\"");
  e = error_of(bad_name);
  EXPECT_NE(e.find("venues[1].name: a venue name is 1 to 8 characters"), std::string::npos) << e;

  e = error_of(std::string(kTwoVenues) + "[book]\nmax_locate = 40000\n");
  EXPECT_NE(e.find("book.max_locate: with several venues, at most 32767"), std::string::npos) << e;

  std::string five;
  for (int i = 0; i < 5; ++i)
    five += "[[venues]]\nname = \"V" + std::to_string(i) + "\"\n[venues.feed]\nlisten = \"127.0.0.1:" +
            std::to_string(31001 + 10 * i) + "\"\n[venues.order_entry]\nuser = \"U\"\n";
  e = error_of(five);
  EXPECT_NE(e.find("venues: at most 4 venues"), std::string::npos) << e;

  e = error_of("[[venues]]\nname = \"A\"\n[venues.order_entry]\nuser = \"U\"\n");
  EXPECT_NE(e.find("feed"), std::string::npos) << e;
}

}  // namespace
}  // namespace hft::app
