#pragma once
// One consistent-enough copy of everything a control file shows, taken at one moment: what
// hftctl's status/stats/hist pages and the Prometheus exposition are rendered from. Rendering
// from a plain value (not from the live mapping) keeps the formatters pure and testable, and
// lets `stats --watch` difference two snapshots. Off the hot path: hftctl's side only.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/histogram.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/layout.hpp"

namespace hft::control {

struct HopHistogram {
  std::string name;  // "tick_to_trade"; values in nanoseconds
  core::Histogram histogram;
};

struct Snapshot {
  std::string instance;
  std::string path;
  std::int32_t pid = 0;
  std::uint32_t uid = 0;
  DaemonState state = DaemonState::kStarting;
  bool alive = false;
  std::uint64_t start_realtime_ns = 0;
  std::uint64_t heartbeat_realtime_ns = 0;
  std::uint64_t taken_realtime_ns = 0;  // when this snapshot was read (CLOCK_REALTIME)
  std::string config_path, version, backend, arena, net_features, clock;

  std::vector<CounterValue> counters;  // in the daemon's definition order
  std::vector<HopHistogram> histograms;
  std::vector<ThreadSlot> threads;
  RiskBlock risk{};
  FeedBlock feed{};
  OrderEntryBlock order_entry{};
  std::vector<PositionSlot> positions;
  std::vector<StrategySlot> strategies;  // per-strategy performance (issue 13)

  [[nodiscard]] std::uint64_t uptime_ns() const noexcept {
    return taken_realtime_ns > start_realtime_ns ? taken_realtime_ns - start_realtime_ns : 0;
  }
  [[nodiscard]] std::uint64_t heartbeat_age_ns() const noexcept {
    return taken_realtime_ns > heartbeat_realtime_ns ? taken_realtime_ns - heartbeat_realtime_ns : 0;
  }
  [[nodiscard]] const CounterValue* find_counter(std::string_view name) const noexcept;
  [[nodiscard]] const HopHistogram* find_histogram(std::string_view name) const noexcept;
};

// Reads everything now. `with_histograms` = false skips the histogram copies (stats --watch).
Snapshot take_snapshot(const ControlReader& reader, bool with_histograms = true);

std::uint64_t realtime_now_ns() noexcept;

const char* to_string(DaemonState s) noexcept;
// OrderEntryBlock::recovery: "none", "recovering", "recovered".
const char* recovery_text(std::uint8_t recovery) noexcept;

// An ITCH stock field (8 characters, space padded, spec 5.0 §1.3 "Alpha" fields) without its
// padding or NULs.
std::string_view trim_symbol(const char (&symbol)[8]) noexcept;

// Marked-to-market P&L of one position in 1/10,000 $: cash plus the position valued at the
// reference price. `marked` is false when a non-zero position has no reference price yet (the
// value is then the cash alone).
struct Pnl {
  std::int64_t value = 0;
  bool marked = true;
};
Pnl position_pnl(const PositionSlot& p) noexcept;
// a + b, clamped to the int64 range instead of wrapping.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept;

// Issue 14: counters named "PREFIX.NAME.KEY" ("venue.BX.orders_sent", "arb.arb.taken"), grouped
// by NAME in definition order: hftctl status and the Prometheus exporter label them by NAME.
struct CounterGroup {
  std::string name;
  std::vector<std::pair<std::string, const CounterValue*>> values;  // KEY, counter
  [[nodiscard]] std::uint64_t get(std::string_view key) const noexcept {
    for (const auto& [k, c] : values)
      if (k == key) return c->value;
    return 0;
  }
  [[nodiscard]] bool has(std::string_view key) const noexcept {
    for (const auto& [k, c] : values)
      if (k == key) return true;
    return false;
  }
};
// `prefix` with its dot ("venue.").
std::vector<CounterGroup> counter_groups(const std::vector<CounterValue>& counters, std::string_view prefix);

}  // namespace hft::control
