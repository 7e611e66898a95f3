#pragma once
// SoupBinTCP server and client settings from TOML (core/config.hpp): every key is type- and
// range-checked, and an error names the file, line and dotted key. Durations are milliseconds.
//
//   [order_entry]                     # the venue (parse_server_config)
//   session = "HFTVENUE01"            # 1..10 characters
//   heartbeat_interval_ms = 1000
//   timeout_ms = 15000                # dead peer: nothing received for this long
//   min_requested_timeout_ms = 2000   # clamp of a 4.1 Requested Heartbeat Timeout
//   max_requested_timeout_ms = 60000
//   close_linger_ms = 1000
//   max_inbound_packet = 1024
//   max_message = 1024
//   output_buffer_bytes = 262144
//   store_messages = 1048576          # per user: sequenced messages kept for replay
//   store_bytes = 67108864            # per user
//   unsequenced_to_client = false
//   login_timeout_ms = 5000           # absolute: connect to login accepted (a trickled login is closed)
//   login_failure_delay_ms = 1000     # a refused username / password is answered this late (0: at once)
//   max_login_failures = 5            # per source address and username (x4 for any username); 0: no lockout
//   login_lockout_ms = 60000          # a locked-out source is refused 'A' unchecked this long after its last try
//   [[order_entry.users]]
//   username = "ALICE"                # 1..6 characters
//   password = "secret"               # 0..10 characters
//
//   [session]                         # the appliance (parse_client_config)
//   username = "ALICE"  password = "secret"  session = ""  next_sequence = 1
//   requested_heartbeat_timeout_ms = 0  heartbeat_interval_ms = 1000  timeout_ms = 15000
//   max_inbound_packet = 4096  max_message = 1024  output_buffer_bytes = 65536  accept_unsequenced = false
#include <functional>
#include <string>

#include "core/config.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/server.hpp"

namespace hft::soup {

ServerConfig parse_server_config(const core::ConfigSection& section);

// The parts of parse_server_config, for a section that adds keys of its own (the venue's
// [order_entry]): the server keys above except the users, into `c` (its values are the defaults);
// one [[users]] entry (`taken`: whether a username is listed already); and, after the caller has
// read its own keys, the unknown-key check and the rules between keys (timeouts, store size; the
// server checks the rest, users included, when it is built).
void parse_server_keys(const core::ConfigSection& section, ServerConfig& c);
UserCredentials parse_user(const core::ConfigSection& user, const std::function<bool(const std::string&)>& taken);
void finish_server_section(const core::ConfigSection& section, const ServerConfig& c);
ClientConfig parse_client_config(const core::ConfigSection& section);

}  // namespace hft::soup
