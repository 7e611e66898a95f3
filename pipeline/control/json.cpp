#include "pipeline/control/json.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

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

std::string jstr(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}
std::string number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }
std::string symbol_text(const char (&s)[8]) {
  std::string out(s, ::strnlen(s, 8));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}
const char* parent_state_name(std::uint8_t s) {
  static constexpr const char* kNames[] = {"pending", "working", "done", "canceled", "expired"};
  return s < 5 ? kNames[s] : "?";
}
const char* run_state_text(std::uint8_t s) {
  static constexpr const char* kNames[] = {"running", "paused", "stopped"};
  return s < 3 ? kNames[s] : "?";
}

}  // namespace

std::string algo_json(const AlgoSlot& a) {
  return fmt::format(
      "{{\"id\":{},\"strategy\":{},\"algo\":\"{}\",\"symbol\":{},\"side\":\"{}\",\"state\":\"{}\",\"quantity\":{},"
      "\"filled\":{},\"remaining\":{},\"avg_price\":{},\"arrival_price\":{},\"shortfall_bps\":{},\"market_vwap\":{},"
      "\"slippage_bps\":{},\"participation\":{},\"limit_price\":{},\"max_participation\":{},\"children\":{},"
      "\"crosses\":{},\"start_realtime_ns\":{},\"end_realtime_ns\":{}}}",
      a.id, jstr(get_text(a.strategy)), a.algo == 1 ? "vwap" : "twap", jstr(symbol_text(a.symbol)),
      a.side == 0 ? "buy" : "sell", parent_state_name(a.state), a.quantity, a.filled,
      a.quantity > a.filled ? a.quantity - a.filled : 0, number(a.avg_price * 1e-4), number(a.arrival * 1e-4),
      number(a.shortfall_bps), number(a.market_vwap * 1e-4), number(a.slippage_bps),
      number(a.participation), number(static_cast<double>(a.limit) * 1e-4), number(a.max_participation),
      a.children, a.crosses, a.start_realtime_ns, a.end_realtime_ns);
}

std::string strategy_json(const StrategySlot& s) {
  return fmt::format(
      "{{\"name\":{},\"type\":{},\"state\":\"{}\",\"realized_pnl\":{},\"unrealized_pnl\":{},\"pnl\":{},"
      "\"volume_shares\":{},\"volume_usd\":{},\"orders\":{},\"fills\":{},\"cancels\":{},\"rejects\":{},"
      "\"fill_ratio\":{},\"avg_time_to_fill_us\":{},\"round_trips\":{},\"wins\":{},\"win_rate\":{},\"sharpe\":{},"
      "\"max_drawdown\":{},\"position\":{},\"fees\":{},\"signal_name\":{},\"signal\":{}}}",
      jstr(get_text(s.name)), jstr(get_text(s.type)), run_state_text(s.state), number(s.realized_pnl),
      number(s.unrealized_pnl), number(s.realized_pnl + s.unrealized_pnl), s.volume_shares,
      number(s.volume_usd), s.orders, s.fills, s.cancels, s.rejects, number(s.fill_ratio),
      number(s.avg_time_to_fill_us), s.round_trips, s.wins, number(s.win_rate), number(s.sharpe),
      number(s.max_drawdown), s.position, number(s.fees), jstr(get_text(s.signal_name)), number(s.signal));
}

std::string strategies_json(const std::vector<StrategySlot>& strategies) {
  std::string out = "{\"strategies\":[";
  for (std::size_t i = 0; i < strategies.size(); ++i) {
    if (i != 0) out += ',';
    out += strategy_json(strategies[i]);
  }
  return out + "]}\n";
}

std::string algos_json(const std::vector<AlgoSlot>& algos) {
  std::string out = "{\"algos\":[";
  for (std::size_t i = 0; i < algos.size(); ++i) {
    if (i != 0) out += ',';
    out += algo_json(algos[i]);
  }
  return out + "]}\n";
}

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
  // Issue 14: per venue (several venues only) and per cross_venue_arb: their counters by key.
  for (const auto& [prefix, key] : {std::pair<const char*, const char*>{"venue.", "venues"}, {"arb.", "arbs"}}) {
    const auto groups = counter_groups(s.counters, prefix);
    if (groups.empty()) continue;
    json list = json::array();
    for (const auto& g : groups) {
      json one = {{"name", g.name}};
      for (const auto& [k, c] : g.values) one[k] = c->value;
      list.push_back(std::move(one));
    }
    j[key] = std::move(list);
  }
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
