#pragma once
// hftd's configuration: one TOML file, validated as a whole before anything starts. Every error
// names the file, line and key (core/config.hpp) and hftd refuses to start.
//
//   instance, [memory], [log], [[threads]]      core/runtime_config.hpp
//   [net]          backend = "auto" | "io_uring" | "epoll", busy_poll, buffer_count, buffer_size,
//                  socket_busy_poll_us, sqpoll
//   [feed]         listen, interface, rerequest, session, first_sequence, store_packets, request_timeout_ms,
//                  glimpse ("HOST:PORT": GLIMPSE 5.0 snapshot recovery), glimpse_user, glimpse_password,
//                  glimpse_max_mb, glimpse_buffer_messages, glimpse_timeout_ms, glimpse_retry_ms,
//                  recovery_deadline_ms, kernel_timestamps, receive_buffer_kb
//   [order_entry]  venue, user, password, session, firm, heartbeat_ms, timeout_ms, reconnect_ms,
//                  reconnect_max_ms, connect_timeout_ms, new_session_after_refusals,
//                  warm_interval_us (rehearse the send path between orders; 0 = never)
//   [book]         pipeline/book/config.hpp
//   [risk]         pipeline/risk/keys.hpp (the table of risk keys)
//   [[strategies]] type (one of pipeline/strategy/registry.hpp), name, and the type's parameters
//   [rings]        net_parse, parse_book, book_strategy, strategy_risk, risk_strategy (capacities)
//   [stats]        histogram_dir, timer_us, shutdown_wait_ms, max_orders
//   [control]      enabled, dir (default $HFT_CONTROL_DIR or /dev/shm), publish_interval_ms
//   [journal]      dir, segment_mb, sync, flusher_cpu (pipeline/journal/config.hpp); absent: no journal
//   [recovery]     working_orders = "adopt" | "cancel" (orders still working after a crash recovery)
//   [[venues]]     name, fee_add_per_share, fee_remove_per_share, [venues.feed] (the [feed] keys),
//                  [venues.order_entry] (the [order_entry] keys): several venues instead of [feed] +
//                  [order_entry] (docs/pipeline.md, "Several venues")
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "core/runtime_config.hpp"
#include "net/backend.hpp"
#include "pipeline/book/config.hpp"
#include "pipeline/journal/config.hpp"
#include "pipeline/risk/risk.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/net_stage.hpp"
#include "pipeline/strategy/registry.hpp"
#include "pipeline/app/venues.hpp"

namespace hft::app {

enum class BackendChoice : std::uint8_t { kAuto, kIoUring, kEpoll };

struct StrategySpec {
  std::string type;   // an Entry of strategy::Registry
  std::string name;
  std::vector<std::string> symbols;  // params' traded_symbols()
  strategy::AnyParams params;
  features::FeatureMask features = 0;  // `features = [...]`: what ctx.features(locate) computes
  features::Params feature_params;      // `feature_params = ["name=value", ...]`
  double fee_add_per_share = 0;         // dollars per share on fills adding liquidity (< 0: rebate)
  double fee_remove_per_share = 0;      // dollars per share on every other fill
};

struct RingSizes {
  std::size_t net_parse = 1 << 16;
  std::size_t parse_book = 1 << 16;
  std::size_t book_strategy = 1 << 14;
  std::size_t strategy_risk = 1 << 12;
  std::size_t risk_strategy = 1 << 12;
};

struct HftdConfig {
  std::string file;
  std::string instance = "default";
  core::RuntimeConfig runtime;
  BackendChoice backend = BackendChoice::kAuto;
  net::BackendOptions net;
  pipeline::FeedConfig feed;
  pipeline::OrderEntryConfig order_entry;
  // Every venue, in configuration order (pipeline/app/venues.hpp): [[venues]], or one built from
  // [feed] and [order_entry] (feed and order_entry above are venues[0]'s).
  std::vector<VenueSpec> venues;
  book::BookConfig book;
  risk::RiskLimits risk;
  std::vector<StrategySpec> strategies;
  RingSizes rings;
  std::string histogram_dir = ".";
  std::uint64_t timer_ns = 1'000'000;
  std::uint64_t shutdown_wait_ns = 2'000'000'000;
  std::size_t max_orders = 4096;
  bool control = true;              // the /dev/shm/hftd.<instance> control file for hftctl
  std::string control_dir;          // "" = $HFT_CONTROL_DIR or /dev/shm
  std::uint64_t publish_interval_ns = 10'000'000;
  std::optional<journal::JournalConfig> journal;  // the write-ahead journal (docs/journal.md)
  pipeline::WorkingOrders working_orders = pipeline::WorkingOrders::kAdopt;
};

// Reads and validates a whole hftd configuration. Throws core::ConfigError.
HftdConfig load_hftd_config(const std::string& path);
HftdConfig parse_hftd_config(const core::ConfigSection& root);

// The five stage names, in pipeline order.
inline constexpr const char* kStageNames[] = {"net", "parse", "book", "strategy", "risk"};

}  // namespace hft::app
