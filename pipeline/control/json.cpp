#include "pipeline/control/json.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/control/report.hpp"
#include "pipeline/risk/keys.hpp"

namespace hft::control {
namespace {

using nlohmann::json;

// Texts from the control file are the daemon's; a byte that is not UTF-8 becomes U+FFFD rather
// than an exception.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

double usd(std::int64_t ten_thousandths) { return static_cast<double>(ten_thousandths) / 1e4; }

json header(const Snapshot& s, const char* kind) {
  return json{{"schema", kJsonSchemaVersion}, {"kind", kind}, {"instance", s.instance}, {"pid", s.pid},
              {"state", to_string(s.state)}, {"alive", s.alive}, {"taken_realtime_ns", s.taken_realtime_ns},
              {"uptime_ns", s.uptime_ns()}};
}

json split(std::string_view csv) {
  json out = json::array();
  std::size_t start = 0;
  while (start < csv.size()) {
    const std::size_t comma = std::min(csv.find(',', start), csv.size());
    if (comma > start) out.push_back(std::string(csv.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

void add_counters(json& j, const Snapshot& s) {
  json counters = json::object(), gauges = json::object();
  for (const auto& c : s.counters) (c.kind == CounterKind::kGauge ? gauges : counters)[c.name] = c.value;
  j["counters"] = std::move(counters);
  j["gauges"] = std::move(gauges);
}

}  // namespace

std::string status_json(const Snapshot& s) {
  json j = header(s, "status");
  j["heartbeat_age_ns"] = s.heartbeat_age_ns();
  j["control_file"] = s.path;
  j["config"] = s.config_path;
  j["version"] = s.version;
  j["backend"] = s.backend;
  j["io_features"] = s.net_features;
  j["memory"] = s.arena;
  j["clock"] = s.clock;
  json threads = json::array();
  for (const auto& t : s.threads)
    threads.push_back({{"name", get_text(t.name)}, {"cpu", t.cpu < 0 ? json(nullptr) : json(t.cpu)}, {"tid", t.tid},
                       {"idle", get_text(t.idle)}, {"idle_ratio", t.idle_ratio}, {"passes", t.passes},
                       {"work_passes", t.work_passes}, {"work_items", t.work_items}, {"parks", t.parks},
                       {"stages", split(get_text(t.stages))}});
  j["threads"] = std::move(threads);
  const FeedBlock& f = s.feed;
  j["feed"] = {{"session", get_text(f.session)}, {"next_sequence", f.next_sequence}, {"gaps", f.gaps},
               {"recovered", f.recovered}, {"lost", f.lost}, {"stale", f.stale != 0}, {"in_recovery", f.in_recovery != 0}};
  const OrderEntryBlock& e = s.order_entry;
  j["order_entry"] = {{"venue", get_text(e.venue)}, {"user", get_text(e.user)}, {"session", get_text(e.session)},
                      {"connected", e.connected != 0}, {"logged_in", e.logged_in != 0}, {"ready", e.ready != 0},
                      {"recovery", recovery_text(e.recovery)}, {"next_user_ref", e.next_user_ref}, {"session_sequence", e.session_sequence},
                      {"last_event", get_text(e.last_event)}};
  const RiskBlock& r = s.risk;
  json limits = json::object();
  for (std::uint32_t i = 0; i < r.limit_count && i < kRiskLimitSlots; ++i) {
    const RiskLimitSlot& l = r.limits[i];
    const auto kind = static_cast<risk::KeyKind>(l.kind);
    limits[std::string(get_text(l.name))] = kind == risk::KeyKind::kBoolean ? json(l.value != 0)
                                            : kind == risk::KeyKind::kInteger ? json(static_cast<std::int64_t>(l.value))
                                                                              : json(l.value);
  }
  j["risk"] = {{"kill_switch", r.kill_switch != 0}, {"halted", r.halted != 0}, {"open_orders", r.open_orders},
               {"limits", std::move(limits)},
               {"breaker", risk::breaker_cause_name(static_cast<risk::BreakerCause>(r.breaker))},
               {"pnl_usd", usd(r.pnl)}, {"peak_pnl_usd", usd(r.peak_pnl)}};
  json positions = json::array();
  std::int64_t total = 0;
  bool all_marked = true;
  for (const auto& p : s.positions) {
    const Pnl pnl = position_pnl(p);
    total = saturating_add(total, pnl.value);
    all_marked = all_marked && pnl.marked;
    positions.push_back({{"symbol", std::string(trim_symbol(p.symbol))}, {"locate", p.locate}, {"position", p.position},
                         {"open_buy", p.open_buy}, {"open_sell", p.open_sell},
                         {"reference_usd", p.reference > 0 ? json(usd(p.reference)) : json(nullptr)},
                         {"cash_usd", usd(p.cash)}, {"pnl_usd", usd(pnl.value)}, {"marked", pnl.marked}});
  }
  j["positions"] = std::move(positions);
  j["pnl_usd"] = usd(total);
  j["pnl_marked"] = all_marked;
  return dump(j);
}

std::string positions_json(const Snapshot& s) {
  json positions = json::array();
  for (const auto& p : s.positions)
    positions.push_back({{"symbol", std::string(trim_symbol(p.symbol))}, {"position", p.position}, {"open_buy", p.open_buy},
                         {"open_sell", p.open_sell}, {"cash", p.cash}, {"realized_pnl", p.realized_pnl}});
  return dump(json{{"positions", std::move(positions)}});
}

std::string counters_json(const Snapshot& s) {
  json j = header(s, "stats");
  add_counters(j, s);
  return dump(j);
}

std::string rates_json(const Snapshot& before, const Snapshot& now) {
  json j = header(now, "stats_rates");
  const double dt =
      static_cast<double>(now.taken_realtime_ns - std::min(before.taken_realtime_ns, now.taken_realtime_ns)) / 1e9;
  j["interval_s"] = dt;
  add_counters(j, now);
  json rates = json::object();
  for (const auto& c : now.counters) {
    if (c.kind == CounterKind::kGauge) continue;
    const CounterValue* b = before.find_counter(c.name);
    rates[c.name] = b != nullptr && b->value <= c.value && dt > 0 ? json(static_cast<double>(c.value - b->value) / dt)
                                                                  : json(nullptr);
  }
  j["rates_per_second"] = std::move(rates);
  return dump(j);
}

std::string histograms_json(const Snapshot& s, const std::vector<std::string>& files) {
  json j = header(s, "hist");
  j["unit"] = "ns";
  json hops = json::array();
  for (const auto& hop : s.histograms) {
    const core::Histogram& h = hop.histogram;
    json o{{"name", hop.name}, {"count", h.total_count()}};
    json pct = json::object();
    for (const double p : kTablePercentiles)
      pct[fmt::format("{}", p)] = h.total_count() == 0 ? json(nullptr) : json(h.value_at_percentile(p));
    o["percentiles"] = std::move(pct);
    o["max"] = h.total_count() == 0 ? json(nullptr) : json(h.max());
    hops.push_back(std::move(o));
  }
  j["hops"] = std::move(hops);
  j["files"] = files;
  return dump(j);
}

}  // namespace hft::control
