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
//   [[order_entry.users]]
//   username = "ALICE"                # 1..6 characters
//   password = "secret"               # 0..10 characters
//
//   [session]                         # the appliance (parse_client_config)
//   username = "ALICE"  password = "secret"  session = ""  next_sequence = 1
//   requested_heartbeat_timeout_ms = 0  heartbeat_interval_ms = 1000  timeout_ms = 15000
//   max_inbound_packet = 4096  max_message = 1024  output_buffer_bytes = 65536  accept_unsequenced = false
#include "core/config.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/server.hpp"

namespace hft::soup {

ServerConfig parse_server_config(const core::ConfigSection& section);
ClientConfig parse_client_config(const core::ConfigSection& section);

}  // namespace hft::soup
