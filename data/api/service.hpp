#pragma once
// `hftctl serve`: the API server over a running hftd (its control file) and, with a journal
// directory, the recent orders, fills, positions and risk events the journal loader derives from
// hftd's write-ahead journal (the same rows as hft-journal load). Events on /ws/hft:
//   {"type":"events","events":[{"type":"order"|"fill"|"position"|"risk_event", ...columns}]}  per journal poll
//   {"type":"latency", ...histograms}   every second
//   {"type":"status", ...status}        every second
//   {"type":"strategies","strategies":[...],"algos":[...]}  every second (hftctl strategy list / algo status --json)
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "data/api/server.hpp"

namespace hft::data::api {

struct ServeOptions {
  ServerConfig server;
  std::string instance;
  std::string control_dir;       // "" = hftd's default
  std::string token_file;        // mode 0600
  std::string journal_dir;       // "" = no orders/fills/risk events
  std::optional<std::uint32_t> date;
  int journal_poll_ms = 200;
};

// Serves until `stop`; `on_listening(port)` once bound. Throws std::runtime_error for a bad token
// file or an address it cannot bind.
void serve(const ServeOptions& options, const std::atomic<bool>& stop, const std::function<void(std::uint16_t)>& on_listening,
           const std::function<void(const ServerStats&)>& on_stopped = {});

}  // namespace hft::data::api
