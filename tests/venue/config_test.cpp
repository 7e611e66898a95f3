// The venue's configuration: defaults that run as they are, the example file, and errors that
// name the file, line, column and key.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/config.hpp"
#include "venue/config.hpp"
#include "venue/feed.hpp"

namespace hft::venue {
namespace {

VenueConfig parse(const std::string& text) {
  return parse_venue_config(core::ConfigDocument::parse(text, "venue.toml")->root());
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(VenueConfig, DefaultsRunOnLoopbackWithTwoUsersAndEightSymbols) {
  const VenueConfig c = parse("");
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.feed.to_string(), "127.0.0.1:31001");
  EXPECT_EQ(c.rerequest.to_string(), "127.0.0.1:31002");
  EXPECT_EQ(c.ouch.to_string(), "127.0.0.1:31003");
  // The appliance's example configuration (config/hftd-2core.toml) runs against these.
  ASSERT_EQ(c.accounts.size(), 2u);
  EXPECT_EQ(c.accounts[0].username, "HFT01");
  EXPECT_EQ(c.accounts[0].password, "hft01pw");
  ASSERT_EQ(c.symbols.size(), 8u);
  EXPECT_EQ(c.symbols[0].symbol.view(), "AAA");
  EXPECT_EQ(c.symbols[3].symbol.view(), "DDD");
  EXPECT_EQ(c.user_ref_num_policy, ouch::UserRefNumPolicy::kReject);
  EXPECT_FALSE(c.probe.enabled());
  EXPECT_EQ(c.rerequest_options.session, c.publisher.session);
  // No session configured: each start names its own (name_blank_sessions(new_session_name())).
  EXPECT_EQ(c.publisher.session, mold::SessionId{});
  EXPECT_EQ(c.order_entry.session, "");
  EXPECT_FALSE(c.cancel_on_disconnect);
  EXPECT_FALSE(c.cancels_on_disconnect(0));
  EXPECT_EQ(c.executions, "");
}

TEST(VenueConfig, ASessionNameIsTheStartDateAndTheMillisecondOfTheDayInTenCharacters) {
  EXPECT_EQ(start_session_name(1'718'112'600'123), "06110SXO3F");  // 2024-06-11 13:30:00.123 UTC
  EXPECT_EQ(start_session_name(1'767'225'599'999), "12311FFUNZ");  // 2025-12-31 23:59:59.999 UTC
  EXPECT_EQ(start_session_name(1'767'225'600'000), "0101000000");  // the next midnight
  // Within one process, later names are later even inside one millisecond.
  std::set<std::string> names;
  std::string last;
  for (int i = 0; i < 100; ++i) {
    const std::string n = new_session_name();
    ASSERT_EQ(n.size(), 10u) << n;
    EXPECT_TRUE(names.insert(n).second) << n << " issued twice";
    if (!last.empty() && n.substr(0, 4) == last.substr(0, 4)) {
      EXPECT_GT(n, last);
    }
    last = n;
  }
}

TEST(VenueConfig, OnlyBlankSessionsAreNamedAtStart) {
  VenueConfig c = parse("");
  c.name_blank_sessions("0611ABCDEF");
  EXPECT_EQ(c.publisher.session.view(), "0611ABCDEF");
  EXPECT_EQ(c.rerequest_options.session, c.publisher.session);
  EXPECT_EQ(c.order_entry.session, "0611ABCDEF");
  VenueConfig d = parse("[feed]\nsession = \"FEED1\"\n[order_entry]\nsession = \"OUCH1\"\n");
  d.name_blank_sessions("0611ABCDEF");
  EXPECT_EQ(d.publisher.session.view(), "FEED1     ");
  EXPECT_EQ(d.rerequest_options.session, d.publisher.session);
  EXPECT_EQ(d.order_entry.session, "OUCH1");
  // A [feed] table without a session key is no session either (it used to be "SESSION001").
  VenueConfig e = parse("[feed]\nheartbeat_interval_ms = 50\n");
  EXPECT_EQ(e.publisher.session, mold::SessionId{});
}

TEST(VenueConfig, CancelOnDisconnectIsTheTablesUnlessAUserSaysOtherwise) {
  const VenueConfig c = parse(R"(
executions = "fills.jsonl"
[order_entry]
cancel_on_disconnect = true
[[order_entry.users]]
username = "ALICE"
password = "a"
[[order_entry.users]]
username = "BOB"
password = "b"
cancel_on_disconnect = false
)");
  EXPECT_EQ(c.executions, "fills.jsonl");
  EXPECT_TRUE(c.cancel_on_disconnect);
  EXPECT_TRUE(c.cancels_on_disconnect(0));
  EXPECT_FALSE(c.cancels_on_disconnect(1));
  const VenueConfig d = parse("[[order_entry.users]]\nusername = \"ALICE\"\ncancel_on_disconnect = true\n");
  EXPECT_FALSE(d.cancel_on_disconnect);
  EXPECT_TRUE(d.cancels_on_disconnect(0));
  EXPECT_NE(error_of("[order_entry]\ncancel_on_disconnect = \"yes\"\n").find("order_entry.cancel_on_disconnect"),
            std::string::npos);
}

TEST(VenueConfig, TheExampleFileParsesToTheDefaults) {
  const auto doc = core::ConfigDocument::load_file(std::string(HFT_SOURCE_DIR) + "/tools/hft-exchange/example.toml");
  const VenueConfig c = parse_venue_config(doc->root());
  const VenueConfig d = parse("");
  EXPECT_EQ(c.background.rate, d.background.rate);
  EXPECT_EQ(c.background.mix.add, d.background.mix.add);
  EXPECT_EQ(c.background.mix.execute, d.background.mix.execute);
  EXPECT_EQ(c.background.max_resting_per_symbol, d.background.max_resting_per_symbol);
  EXPECT_EQ(c.symbols.size(), d.symbols.size());
  EXPECT_EQ(c.symbols[0].symbol, d.symbols[0].symbol);
  EXPECT_EQ(c.accounts.size(), 2u);
  EXPECT_EQ(c.order_entry.store_messages, d.order_entry.store_messages);
  EXPECT_EQ(c.max_connections_per_source, d.max_connections_per_source);
  EXPECT_EQ(c.order_entry.login_timeout_ns, d.order_entry.login_timeout_ns);
  EXPECT_EQ(c.order_entry.login_failure_delay_ns, d.order_entry.login_failure_delay_ns);
  EXPECT_EQ(c.order_entry.max_login_failures, d.order_entry.max_login_failures);
  EXPECT_EQ(c.order_entry.login_lockout_ns, d.order_entry.login_lockout_ns);
  EXPECT_EQ(c.warning_interval_ns, d.warning_interval_ns);
  EXPECT_EQ(c.warnings_per_interval, d.warnings_per_interval);
  EXPECT_EQ(c.store.max_messages, d.store.max_messages);
  EXPECT_EQ(c.probe.interval_ns, d.probe.interval_ns);
  EXPECT_EQ(c.engine.max_orders, d.engine.max_orders);
  EXPECT_EQ(c.publisher.session, d.publisher.session) << "the example names no session: one per start";
  EXPECT_EQ(c.order_entry.session, d.order_entry.session);
  EXPECT_EQ(c.cancel_on_disconnect, d.cancel_on_disconnect);
  EXPECT_EQ(c.executions, d.executions);
}

TEST(VenueConfig, TablesOverrideTheDefaults) {
  const VenueConfig c = parse(R"(
seed = 9
duration_s = 2.5
clock_start = "09:30:00"
[feed]
destination = "239.1.2.3:31001"
session = "TEST01"
drop_every = 50
[rerequest]
listen = "127.0.0.1:31002"
[order_entry]
listen = "0.0.0.0:31003"
user_ref_num_policy = "ignore"
max_connections_per_source = 3
login_timeout_ms = 700
warning_interval_ms = 2000
warnings_per_interval = 2
[[order_entry.users]]
username = "ALICE"
password = "pw"
firm = "ALCE"
[symbols]
names = ["AAPL", "MSFT"]
[background]
rate = 500
makers = 3
[probe]
histogram = "p.hgrm"
interval_ms = 7
)");
  EXPECT_EQ(VenueConfig{}.drop_every, 0u) << "no loss unless asked for";
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.duration_ns, 2'500'000'000u);
  EXPECT_EQ(*c.clock_start_ns, 34'200'000'000'000u);
  EXPECT_TRUE(c.feed.is_multicast());
  EXPECT_EQ(c.publisher.session.view(), "TEST01    ");
  EXPECT_EQ(c.drop_every, 50u);
  EXPECT_EQ(c.rerequest_options.session, c.publisher.session);
  EXPECT_EQ(c.ouch.port(), 31003);
  EXPECT_EQ(c.user_ref_num_policy, ouch::UserRefNumPolicy::kIgnore);
  EXPECT_EQ(c.max_connections_per_source, 3u);
  EXPECT_EQ(VenueConfig{}.max_connections_per_source, 8u);
  EXPECT_EQ(c.order_entry.login_timeout_ns, 700'000'000u);
  EXPECT_EQ(c.warning_interval_ns, 2'000'000'000u);
  EXPECT_EQ(c.warnings_per_interval, 2u);
  ASSERT_EQ(c.accounts.size(), 1u);
  EXPECT_EQ(c.accounts[0].firm, "ALCE");
  ASSERT_EQ(c.symbols.size(), 2u);
  EXPECT_EQ(c.symbols[1].symbol.view(), "MSFT");
  EXPECT_EQ(c.background.rate, 500);
  EXPECT_EQ(c.background.makers, 3u);
  EXPECT_TRUE(c.probe.enabled());
  EXPECT_EQ(c.probe.interval_ns, 7'000'000u);
}

TEST(VenueConfig, ErrorsNameTheFileLineAndKey) {
  EXPECT_EQ(error_of("[feed]\nttl = \"x\"\n"), "venue.toml:2:7: feed.ttl: expected an integer, got a string");
  EXPECT_NE(error_of("[background]\nrate = -1\n").find("venue.toml:2:8: background.rate: -1 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of("[background]\nspeed = 1\n").find("venue.toml:2:1: background.speed: unknown key"), std::string::npos);
  EXPECT_NE(error_of("colour = 1\n").find("venue.toml:1:1: colour: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[order_entry]\nlisten = \"nowhere\"\n").find("venue.toml:2:10: order_entry.listen: endpoint"),
            std::string::npos);
  EXPECT_NE(error_of("[order_entry]\nuser_ref_num_policy = \"maybe\"\n").find("order_entry.user_ref_num_policy: expected one of"),
            std::string::npos);
  EXPECT_NE(error_of("[[order_entry.users]]\nusername = \"TOOLONGNAME\"\n").find("order_entry.users[0].username: must be 1..6"),
            std::string::npos);
  EXPECT_NE(error_of("[[order_entry.users]]\nusername = \"A\"\n[[order_entry.users]]\nusername = \"A\"\n")
                .find("order_entry.users[1].username: \"A\" is listed twice"),
            std::string::npos);
  EXPECT_NE(error_of("[symbols]\ncount = 3\nnames = [\"A\"]\n").find("symbols.count: give either count or names"),
            std::string::npos);
  EXPECT_NE(error_of("[symbols]\nnames = [\"AAPL\", \"AAPL\"]\n").find("symbols.names: symbol \"AAPL\" is listed twice"),
            std::string::npos);
  EXPECT_NE(error_of("[symbols]\nnames = [\"ZPROBE\"]\n").find("venue.toml: venue config: the probe symbol"), std::string::npos);
  EXPECT_NE(error_of("clock_start = \"25:00:00\"\n").find("venue.toml:1:15: clock_start: clock start \"25:00:00\""),
            std::string::npos);
  EXPECT_NE(error_of("[engine]\nsmp_policy = \"never\"\n").find("engine.smp_policy: expected"), std::string::npos);
  EXPECT_NE(error_of("[probe]\nprice = 1000050\n").find("probe.price: must be on the penny grid"), std::string::npos);
  EXPECT_NE(error_of("[order_entry]\ntimeout_ms = 500\n").find("order_entry.timeout_ms: must be longer"), std::string::npos);
  EXPECT_NE(error_of("[feed]\nmax_payload = 9000\n[rerequest]\nmax_payload = 1472\n").find("rerequest max_payload must be"),
            std::string::npos);
  EXPECT_NE(error_of("[engine]\nmax_orders = 100\n").find("engine max_orders (100) must be at least"), std::string::npos);
}

TEST(VenueConfig, ReRequestRepliesFollowALargerFeedPayloadUnlessSetExplicitly) {
  const VenueConfig c = parse("[feed]\nmax_payload = 9000\n");
  EXPECT_EQ(c.rerequest_options.max_payload, 9000u);
}

TEST(VenueConfig, AccountsFromTheCommandLine) {
  const Account a = parse_account("ALICE:secret");
  EXPECT_EQ(a.username, "ALICE");
  EXPECT_EQ(a.password, "secret");
  EXPECT_EQ(a.firm, "");
  const Account b = parse_account("BOB::BOBF");
  EXPECT_EQ(b.password, "");
  EXPECT_EQ(b.firm, "BOBF");
  EXPECT_THROW(parse_account("NOPASSWORD"), std::invalid_argument);
  EXPECT_THROW(parse_account("SEVENCH:pw"), std::invalid_argument);
  EXPECT_THROW(parse_account("A:elevenchars"), std::invalid_argument);
  EXPECT_THROW(parse_account("A:pw:FIVEC"), std::invalid_argument);
  EXPECT_THROW(parse_account(":pw"), std::invalid_argument);
}

TEST(VenueConfig, GeneratedSymbolsAreUniqueDeterministicAndOnThePennyGrid) {
  const auto a = generate_symbols(2000, 1);
  const auto b = generate_symbols(2000, 1);
  ASSERT_EQ(a.size(), 2000u);
  std::set<std::uint64_t> keys;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].symbol, b[i].symbol);
    EXPECT_EQ(a[i].reference_price, b[i].reference_price);
    EXPECT_TRUE(keys.insert(a[i].symbol.key()).second) << a[i].symbol.view();
    EXPECT_GE(a[i].symbol.view().size(), 2u);
    EXPECT_LE(a[i].symbol.view().size(), 4u);
    EXPECT_EQ(a[i].reference_price % 100, 0);
    EXPECT_GE(a[i].reference_price, 100'000);
    EXPECT_LE(a[i].reference_price, 5'000'000);
  }
  EXPECT_THROW(symbols_from_list({"A B"}, 1), std::invalid_argument);
  EXPECT_THROW(symbols_from_list({"NINECHARS"}, 1), std::invalid_argument);
  EXPECT_THROW(symbols_from_list({""}, 1), std::invalid_argument);
}

TEST(VenueConfig, ClockStart) {
  EXPECT_EQ(parse_clock_start("00:00:00"), 0u);
  EXPECT_EQ(parse_clock_start("23:59:59"), 86'399'000'000'000u);
  EXPECT_THROW(parse_clock_start("9:30:00"), std::invalid_argument);
  EXPECT_THROW(parse_clock_start("09:60:00"), std::invalid_argument);
  EXPECT_THROW(parse_clock_start("09-30-00"), std::invalid_argument);
}

}  // namespace
}  // namespace hft::venue

namespace hft::venue {
namespace {

TEST(VenueClock, StartsAtTheConfiguredTimeOfDayAndNeverGoesBackwards) {
  VenueClock clock(34'200'000'000'000ull);  // 09:30:00
  const std::uint64_t t0 = clock.now();
  EXPECT_EQ(clock.since_midnight(), 34'200'000'000'000ull);
  clock.set(t0 + 1'000);
  EXPECT_EQ(clock.since_midnight(), 34'200'000'001'000ull);
  // A time read earlier but served later (the loop's, after the TCP server's) keeps the clock.
  clock.set(t0 + 500);
  EXPECT_EQ(clock.now(), t0 + 1'000);
  EXPECT_GE(clock.tick(), t0 + 1'000);
  const VenueClock wall;
  EXPECT_LT(wall.since_midnight(), 86'400'000'000'000ull);
}


// Issue 14: the venue's name, MPID and fees; the lead channel and the follower.
TEST(VenueConfig, VenueNameMpidFeesLeadAndFollow) {
  const VenueConfig d = parse("");
  EXPECT_EQ(d.venue, "NASDAQ");
  EXPECT_EQ(effective_mpid(d), "NSDQ");
  EXPECT_EQ(d.fee_add, 0.0);
  EXPECT_FALSE(d.lead.listen);
  EXPECT_FALSE(d.follow.leader);
  const VenueConfig c = parse(
      "venue = \"BX\"\nfee_add = 0.0018\nfee_remove = -0.0006\n[lead]\nlisten = \"127.0.0.1:31110\"\nmax_followers = 2\n"
      "[follow]\nleader = \"127.0.0.1:31010\"\nlag_ms = 50\nnoise_bps = 2.5\nretry_ms = 200\n");
  EXPECT_EQ(c.venue, "BX");
  EXPECT_EQ(effective_mpid(c), "BXXX");
  EXPECT_EQ(fee_micros(c.fee_add), 1800);
  EXPECT_EQ(fee_micros(c.fee_remove), -600);
  ASSERT_TRUE(c.lead.listen);
  EXPECT_EQ(c.lead.listen->to_string(), "127.0.0.1:31110");
  EXPECT_EQ(c.lead.max_followers, 2u);
  ASSERT_TRUE(c.follow.leader);
  EXPECT_EQ(c.follow.leader->to_string(), "127.0.0.1:31010");
  EXPECT_EQ(c.follow.lag_ns, 50'000'000u);
  EXPECT_EQ(c.follow.noise_bps, 2.5);
  EXPECT_EQ(c.follow.retry_ns, 200'000'000u);
  EXPECT_EQ(effective_mpid(parse("venue = \"PSX\"\nmpid = \"PHLX\"\n")), "PHLX");
  EXPECT_NE(error_of("venue = \"bx\"\n").find("A-Z"), std::string::npos);
  EXPECT_NE(error_of("venue = \"TOOLONGNAME\"\n").find("1-8"), std::string::npos);
  EXPECT_NE(error_of("mpid = \"AB\"\n").find("4 characters"), std::string::npos);
  EXPECT_NE(error_of("fee_add = 2\n").find("fee_add"), std::string::npos);
  EXPECT_NE(error_of("[follow]\nlag = 5\n").find("lag"), std::string::npos);  // unknown key
  EXPECT_NE(error_of("[lead]\nlisten = \"127.0.0.1:31010\"\n[follow]\nleader = \"127.0.0.1:31010\"\n").find("its own"),
            std::string::npos);
}

}  // namespace
}  // namespace hft::venue
