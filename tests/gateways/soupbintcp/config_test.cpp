#include "gateways/soupbintcp/config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hft::soup {
namespace {

ServerConfig server_from(const std::string& toml) {
  auto doc = core::ConfigDocument::parse(toml, "venue.toml");
  return parse_server_config(doc->root().require_section("order_entry"));
}

std::string error_of(const std::string& toml) {
  try {
    (void)server_from(toml);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SoupConfig, ServerSettingsAndUsers) {
  const ServerConfig c = server_from(R"(
[order_entry]
session = "HFTVENUE01"
heartbeat_interval_ms = 500
timeout_ms = 5000
store_messages = 1000
store_bytes = 100000
unsequenced_to_client = true
[[order_entry.users]]
username = "ALICE"
password = "secret"
[[order_entry.users]]
username = "BOB"
)");
  EXPECT_EQ(c.session, "HFTVENUE01");
  EXPECT_EQ(c.heartbeat_interval_ns, 500'000'000u);
  EXPECT_EQ(c.timeout_ns, 5'000'000'000u);
  EXPECT_EQ(c.store_messages, 1000u);
  EXPECT_EQ(c.store_bytes, 100000u);
  EXPECT_TRUE(c.unsequenced_to_client);
  ASSERT_EQ(c.users.size(), 2u);
  EXPECT_EQ(c.users[0].username, "ALICE");
  EXPECT_EQ(c.users[0].password, "secret");
  EXPECT_EQ(c.users[1].password, "");
  ServerContext ctx(c);  // and it is usable as is
  EXPECT_EQ(ctx.user_count(), 2u);
}

TEST(SoupConfig, ErrorsNameTheFileLineAndKey) {
  const std::string user = "\n[[order_entry.users]]\nusername = \"ALICE\"\n";
  EXPECT_NE(error_of("[order_entry]\nsession = \"WAY_TOO_LONG_NAME\"\n" + user).find("venue.toml:2:"), std::string::npos);
  EXPECT_NE(error_of("[order_entry]\nsession = \"WAY_TOO_LONG_NAME\"\n" + user).find("order_entry.session"),
            std::string::npos);
  EXPECT_NE(error_of("[order_entry]\nheartbeat_interval_ms = 2000\ntimeout_ms = 1000\n" + user).find("order_entry.timeout_ms"),
            std::string::npos);
  EXPECT_NE(error_of("[order_entry]\ntimeout = 1000\n" + user).find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("[order_entry]\n").find("order_entry.users"), std::string::npos);
  EXPECT_NE(error_of("[order_entry]\n[[order_entry.users]]\nusername = \"SEVENCH\"\n").find("username"), std::string::npos);
  EXPECT_NE(error_of("[order_entry]\n[[order_entry.users]]\nusername = \"A\"\n[[order_entry.users]]\nusername = \"A\"\n")
                .find("listed twice"),
            std::string::npos);
  EXPECT_NE(error_of("[order_entry]\n[[order_entry.users]]\npassword = \"x\"\n").find("username"), std::string::npos);
}

TEST(SoupConfig, ClientSettings) {
  auto doc = core::ConfigDocument::parse(R"(
[session]
username = "ALICE"
password = "secret"
next_sequence = 0
requested_heartbeat_timeout_ms = 3000
)",
                                         "hftd.toml");
  const ClientConfig c = parse_client_config(doc->root().require_section("session"));
  EXPECT_EQ(c.username, "ALICE");
  EXPECT_EQ(c.next_sequence, 0u);
  EXPECT_EQ(c.requested_heartbeat_timeout_ms, 3000u);
  EXPECT_EQ(c.timeout_ns, 15'000'000'000u);

  auto bad = core::ConfigDocument::parse("[session]\nusername = \"ALICE\"\nrequested_heartbeat_timeout_ms = 100000\n", "hftd.toml");
  EXPECT_THROW((void)parse_client_config(bad->root().require_section("session")), core::ConfigError);
}

}  // namespace
}  // namespace hft::soup

namespace hft::soup {
namespace {

TEST(SoupConfig, LoginHardeningKeysAndTheirDefaults) {
  const ServerConfig d = server_from(R"(
[order_entry]
[[order_entry.users]]
username = "ALICE"
)");
  EXPECT_EQ(d.login_timeout_ns, 5'000'000'000u);
  EXPECT_EQ(d.login_failure_delay_ns, 1'000'000'000u);
  EXPECT_EQ(d.max_login_failures, 5u);
  EXPECT_EQ(d.login_lockout_ns, 60'000'000'000u);
  const ServerConfig c = server_from(R"(
[order_entry]
login_timeout_ms = 200
login_failure_delay_ms = 0
max_login_failures = 0
login_lockout_ms = 1500
[[order_entry.users]]
username = "ALICE"
)");
  EXPECT_EQ(c.login_timeout_ns, 200'000'000u);
  EXPECT_EQ(c.login_failure_delay_ns, 0u);
  EXPECT_EQ(c.max_login_failures, 0u);
  EXPECT_EQ(c.login_lockout_ns, 1'500'000'000u);
  EXPECT_NE(error_of("[order_entry]\nlogin_timeout_ms = 0\n[[order_entry.users]]\nusername = \"A\"\n").find("login_timeout_ms"),
            std::string::npos);
}

}  // namespace
}  // namespace hft::soup
