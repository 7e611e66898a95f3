#include "pipeline/control/snapshot.hpp"

#include <ctime>
#include <limits>

namespace hft::control {

std::uint64_t realtime_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

const char* to_string(DaemonState s) noexcept {
  switch (s) {
    case DaemonState::kStarting: return "starting";
    case DaemonState::kRunning: return "running";
    case DaemonState::kStopping: return "stopping";
    case DaemonState::kStopped: return "stopped";
    case DaemonState::kRecovering: return "recovering";
  }
  return "unknown";
}

const char* recovery_text(std::uint8_t recovery) noexcept {
  switch (recovery) {
    case 0: return "none";
    case 1: return "recovering";
    case 2: return "recovered";
    default: return "unknown";
  }
}

std::string_view trim_symbol(const char (&symbol)[8]) noexcept {
  std::size_t n = 0;
  while (n < 8 && symbol[n] != '\0') ++n;
  while (n > 0 && symbol[n - 1] == ' ') --n;
  return {symbol, n};
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

Pnl position_pnl(const PositionSlot& p) noexcept {
  if (p.position != 0 && p.reference <= 0) return {p.cash, false};
  // Shares x price in 1/10,000 $ can pass 2^63 (1e9 shares at $1e6): saturate, never wrap.
  std::int64_t value = 0;
  if (__builtin_mul_overflow(p.position, p.reference, &value))
    value = p.position > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  return {saturating_add(p.cash, value), true};
}

const CounterValue* Snapshot::find_counter(std::string_view name) const noexcept {
  for (const auto& c : counters)
    if (c.name == name) return &c;
  return nullptr;
}

const HopHistogram* Snapshot::find_histogram(std::string_view name) const noexcept {
  for (const auto& h : histograms)
    if (h.name == name) return &h;
  return nullptr;
}

Snapshot take_snapshot(const ControlReader& reader, bool with_histograms) {
  const Header& h = reader.header();
  Snapshot s;
  s.instance = std::string(get_text(h.instance));
  s.path = reader.path();
  s.pid = h.pid;
  s.uid = h.uid;
  s.state = static_cast<DaemonState>(h.state.load(std::memory_order_acquire));
  s.alive = reader.alive();
  s.start_realtime_ns = h.start_realtime_ns;
  s.heartbeat_realtime_ns = h.heartbeat_realtime_ns.load(std::memory_order_acquire);
  s.config_path = std::string(get_text(h.config_path));
  s.version = std::string(get_text(h.version));
  s.backend = std::string(get_text(h.backend));
  s.arena = std::string(get_text(h.arena));
  s.net_features = std::string(get_text(h.net_features));
  s.clock = std::string(get_text(h.clock));
  s.counters = reader.counters();
  if (with_histograms) {
    for (const auto& name : reader.histogram_names())
      if (auto copy = reader.histogram(name)) s.histograms.push_back(HopHistogram{name, std::move(*copy)});
  }
  s.threads = reader.threads();
  s.risk = reader.risk();
  s.feed = reader.feed();
  s.order_entry = reader.order_entry();
  s.positions = reader.positions();
  s.strategies = reader.strategies();
  s.taken_realtime_ns = realtime_now_ns();
  return s;
}

std::vector<CounterGroup> counter_groups(const std::vector<CounterValue>& counters, std::string_view prefix) {
  std::vector<CounterGroup> out;
  for (const CounterValue& c : counters) {
    const std::string_view n = c.name;
    if (!n.starts_with(prefix)) continue;
    const std::size_t dot = n.rfind('.');
    if (dot == std::string_view::npos || dot <= prefix.size() || dot + 1 == n.size()) continue;
    const std::string_view name = n.substr(prefix.size(), dot - prefix.size());
    CounterGroup* g = nullptr;
    for (auto& e : out)
      if (e.name == name) g = &e;
    if (g == nullptr) g = &out.emplace_back(CounterGroup{std::string(name), {}});
    g->values.emplace_back(std::string(n.substr(dot + 1)), &c);
  }
  return out;
}

}  // namespace hft::control
