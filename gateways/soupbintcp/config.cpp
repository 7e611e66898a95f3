#include "gateways/soupbintcp/config.hpp"

#include <algorithm>
#include <stdexcept>

namespace hft::soup {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kHour = 3'600'000;

std::string text(const core::ConfigSection& s, std::string_view key, std::string_view fallback, std::size_t min,
                 std::size_t max) {
  std::string v = min > 0 && fallback.empty() ? s.require_string(key) : s.string(key, fallback);
  if (v.size() < min || v.size() > max)
    s.fail(key, "must be " + std::to_string(min) + ".." + std::to_string(max) + " characters, got \"" + v + "\"");
  return v;
}

// The remaining cross-field rules (buffer sizes against max_message): reported on the table.
template <class F>
void check_all(const core::ConfigSection& s, F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    s.fail("output_buffer_bytes", e.what());
  }
}

}  // namespace

void parse_server_keys(const core::ConfigSection& s, ServerConfig& c) {
  c.session = text(s, "session", c.session, 1, kSessionSize);
  c.heartbeat_interval_ns = static_cast<std::uint64_t>(s.integer("heartbeat_interval_ms", 1000, 1, kHour) * kMs);
  c.timeout_ns = static_cast<std::uint64_t>(s.integer("timeout_ms", 15000, 1, kHour) * kMs);
  c.min_requested_timeout_ns = static_cast<std::uint64_t>(s.integer("min_requested_timeout_ms", 2000, 1, kHour) * kMs);
  c.max_requested_timeout_ns = static_cast<std::uint64_t>(s.integer("max_requested_timeout_ms", 60000, 1, kHour) * kMs);
  c.close_linger_ns = static_cast<std::uint64_t>(s.integer("close_linger_ms", 1000, 0, kHour) * kMs);
  c.max_inbound_packet = static_cast<std::size_t>(
      s.integer("max_inbound_packet", static_cast<std::int64_t>(c.max_inbound_packet), kLoginRequest41Length, kMaxPacketLength));
  c.max_message = static_cast<std::size_t>(s.integer("max_message", static_cast<std::int64_t>(c.max_message), 1, kMaxPayload));
  c.output_buffer_bytes = static_cast<std::size_t>(
      s.integer("output_buffer_bytes", static_cast<std::int64_t>(c.output_buffer_bytes), 1024, std::int64_t{1} << 30));
  c.store_messages = static_cast<std::size_t>(
      s.integer("store_messages", static_cast<std::int64_t>(c.store_messages), 1, std::int64_t{1} << 32));
  c.store_bytes = static_cast<std::size_t>(
      s.integer("store_bytes", static_cast<std::int64_t>(c.store_bytes), 1, (std::int64_t{1} << 32) - 1));
  c.unsequenced_to_client = s.boolean("unsequenced_to_client", c.unsequenced_to_client);
  c.login_timeout_ns = static_cast<std::uint64_t>(s.integer("login_timeout_ms", 5000, 1, kHour) * kMs);
  c.login_failure_delay_ns = static_cast<std::uint64_t>(s.integer("login_failure_delay_ms", 1000, 0, 60'000) * kMs);
  c.max_login_failures = static_cast<std::uint32_t>(s.integer("max_login_failures", 5, 0, 1'000'000));
  c.login_lockout_ns = static_cast<std::uint64_t>(s.integer("login_lockout_ms", 60000, 1, 24 * kHour) * kMs);
}

UserCredentials parse_user(const core::ConfigSection& u, const std::function<bool(const std::string&)>& taken) {
  UserCredentials cred;
  cred.username = text(u, "username", "", 1, kUsernameSize);
  if (cred.username.find(' ') != std::string::npos) u.fail("username", "must not contain spaces");
  if (taken(cred.username)) u.fail("username", "\"" + cred.username + "\" is listed twice");
  cred.password = text(u, "password", "", 0, kPasswordSize);
  return cred;
}

void finish_server_section(const core::ConfigSection& s, const ServerConfig& c) {
  s.reject_unknown_keys();
  if (c.timeout_ns <= c.heartbeat_interval_ns) s.fail("timeout_ms", "must be longer than heartbeat_interval_ms");
  if (c.min_requested_timeout_ns > c.max_requested_timeout_ns)
    s.fail("min_requested_timeout_ms", "must not exceed max_requested_timeout_ms");
  if (c.store_bytes < c.max_message) s.fail("store_bytes", "must hold the largest message (max_message)");
}

ServerConfig parse_server_config(const core::ConfigSection& s) {
  ServerConfig c;
  parse_server_keys(s, c);
  const auto users = s.sections("users");
  if (users.empty()) s.fail("users", "at least one [[users]] entry is required");
  for (const auto& u : users) {
    UserCredentials cred = parse_user(u, [&](const std::string& name) {
      return std::any_of(c.users.begin(), c.users.end(), [&](const UserCredentials& o) { return o.username == name; });
    });
    u.reject_unknown_keys();
    c.users.push_back(std::move(cred));
  }
  finish_server_section(s, c);
  check_all(s, [&] { validate(c); });
  return c;
}

ClientConfig parse_client_config(const core::ConfigSection& s) {
  ClientConfig c;
  c.username = text(s, "username", "", 1, kUsernameSize);
  c.password = text(s, "password", "", 0, kPasswordSize);
  c.session = text(s, "session", "", 0, kSessionSize);
  c.next_sequence = static_cast<std::uint64_t>(s.integer("next_sequence", 1, 0, std::int64_t{1} << 62));
  c.requested_heartbeat_timeout_ms =
      static_cast<std::uint32_t>(s.integer("requested_heartbeat_timeout_ms", 0, 0, kMaxHeartbeatTimeoutMs));
  c.heartbeat_interval_ns = static_cast<std::uint64_t>(s.integer("heartbeat_interval_ms", 1000, 1, kHour) * kMs);
  c.timeout_ns = static_cast<std::uint64_t>(s.integer("timeout_ms", 15000, 1, kHour) * kMs);
  c.max_inbound_packet = static_cast<std::size_t>(
      s.integer("max_inbound_packet", static_cast<std::int64_t>(c.max_inbound_packet), kLoginAcceptedLength, kMaxPacketLength));
  c.max_message = static_cast<std::size_t>(s.integer("max_message", static_cast<std::int64_t>(c.max_message), 1, kMaxPayload));
  c.output_buffer_bytes = static_cast<std::size_t>(
      s.integer("output_buffer_bytes", static_cast<std::int64_t>(c.output_buffer_bytes), 1024, std::int64_t{1} << 30));
  c.accept_unsequenced = s.boolean("accept_unsequenced", false);
  s.reject_unknown_keys();
  if (c.timeout_ns <= c.heartbeat_interval_ns) s.fail("timeout_ms", "must be longer than heartbeat_interval_ms");
  check_all(s, [&] { validate(c); });
  return c;
}

}  // namespace hft::soup
