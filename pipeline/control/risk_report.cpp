// `hftctl risk status` and `hftctl risk events` (issue 11): pages and JSON from the control
// file's RiskBlock (pipeline/control/layout.hpp). Cold path, hftctl's side.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "pipeline/control/json.hpp"
#include "pipeline/control/report.hpp"
#include "pipeline/events.hpp"
#include "pipeline/risk/keys.hpp"
#include "pipeline/risk/risk.hpp"
#include "pipeline/risk/storm_guard.hpp"

namespace hft::control {

const char* reject_name(pipeline::RejectReason r) noexcept;  // control_plane.cpp

namespace {

using nlohmann::json;

double usd(std::int64_t v) { return static_cast<double>(v) / 1e4; }

std::optional<double> limit_value(const RiskBlock& r, std::string_view name) {
  const RiskLimitSlot* l = r.find(name);
  return l == nullptr ? std::nullopt : std::optional<double>(l->value);
}

// The usage of a limit in the limit's unit, where the daemon publishes one.
std::optional<double> usage(const RiskBlock& r, std::string_view name) {
  const double down = usd(r.peak_pnl - r.pnl);
  if (name == "max_open_orders") return static_cast<double>(r.open_orders);
  if (name == "max_daily_loss_usd") return r.pnl < 0 ? usd(-r.pnl) : 0.0;
  if (name == "max_drawdown_usd") return down;
  if (name == "max_drawdown_pct") {
    const double equity = limit_value(r, "account_equity_usd").value_or(0) + usd(r.peak_pnl);
    if (equity <= 0) return std::nullopt;
    return down * 100.0 / equity;
  }
  if (name == "max_gross_position") return static_cast<double>(r.gross_shares);
  if (name == "max_net_position") return static_cast<double>(std::max(r.net_long, -r.net_short));
  if (name == "max_gross_notional_usd") return usd(r.gross_notional);
  return std::nullopt;
}

const char* kind_name(std::uint8_t k) {
  switch (static_cast<RiskEventKind>(k)) {
    case RiskEventKind::kRefusal: return "refusal";
    case RiskEventKind::kBreakerTrip: return "breaker_trip";
    case RiskEventKind::kBreakerReset: return "breaker_reset";
    case RiskEventKind::kLimitChange: return "limit_change";
    case RiskEventKind::kStormTransition: return "storm_transition";
    case RiskEventKind::kStrategyLossTrip: return "strategy_loss_trip";
    case RiskEventKind::kNone: break;
  }
  return "?";
}

std::string utc(std::uint64_t wall_ns) {
  const std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, wall_ns / 1'000'000 % 1000);
}

std::string name_of(const RiskEventSlot& e) {
  std::string_view n = get_text(e.name);
  while (!n.empty() && n.back() == ' ') n.remove_suffix(1);
  return core::escape(n);
}

// The events in the block (refusals and the rest), oldest first.
std::vector<RiskEventSlot> events_of(const RiskBlock& r) {
  std::vector<RiskEventSlot> out;
  auto take = [&](std::uint64_t n, const RiskEventSlot* slots) {
    const std::uint64_t first = n > kRiskEventSlots ? n - kRiskEventSlots + 1 : 1;
    for (std::uint64_t seq = first; seq <= n; ++seq) {
      const RiskEventSlot& e = slots[(seq - 1) % kRiskEventSlots];
      if (e.seq == seq) out.push_back(e);
    }
  };
  take(r.event_count, r.events);
  take(r.refusal_count, r.refusals);
  std::stable_sort(out.begin(), out.end(), [](const RiskEventSlot& a, const RiskEventSlot& b) { return a.wall_ns < b.wall_ns; });
  return out;
}

}  // namespace

// The restricted list as the risk block publishes it (trailing spaces trimmed).
std::vector<std::string> restricted_of(const RiskBlock& r) {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < r.restricted_count && i < kRestrictedSlots; ++i) {
    std::string sym(r.restricted[i], ::strnlen(r.restricted[i], sizeof r.restricted[i]));
    while (!sym.empty() && sym.back() == ' ') sym.pop_back();
    out.push_back(std::move(sym));
  }
  return out;
}

std::string risk_event_text(const RiskEventSlot& e) {
  const std::string when = utc(e.wall_ns);
  switch (static_cast<RiskEventKind>(e.kind)) {
    case RiskEventKind::kRefusal:
      return fmt::format("{} refusal #{} {}: {} {} {} @ {:.4f} (strategy {})", when, e.seq,
                         reject_name(static_cast<pipeline::RejectReason>(e.code)), e.side == 'B' ? "buy" : "sell",
                         static_cast<std::uint64_t>(e.b), name_of(e), e.a, e.strategy);
    case RiskEventKind::kBreakerTrip:
      return fmt::format("{} #{} circuit breaker tripped ({}): P&L {:.2f} USD, peak {:.2f} USD, limit {}{}", when, e.seq,
                         name_of(e), e.a, e.b, e.c,
                         e.code == static_cast<std::uint8_t>(risk::BreakerCause::kDrawdownPct) ? " %" : " USD");
    case RiskEventKind::kBreakerReset:
      return fmt::format("{} #{} circuit breaker reset by {} (was {}): P&L {:.2f} USD, the peak starts there (was {:.2f})",
                         when, e.seq, name_of(e), risk::breaker_cause_name(static_cast<risk::BreakerCause>(e.code)), e.a,
                         e.b);
    case RiskEventKind::kLimitChange: {
      const risk::RiskKey* k = risk::find_risk_key(name_of(e));
      const std::string o = k != nullptr ? risk::format_risk_value(*k, e.a) : fmt::format("{}", e.a);
      const std::string n = k != nullptr ? risk::format_risk_value(*k, e.b) : fmt::format("{}", e.b);
      // Who asked follows the key after its NUL (pipeline/stages/egress_stage.hpp limit_changes).
      const std::size_t key_len = ::strnlen(e.name, sizeof e.name);
      const std::string who = key_len + 1 < sizeof e.name ? std::string(::strnlen(e.name + key_len + 1, sizeof e.name - key_len - 1) != 0
                                                                             ? e.name + key_len + 1 : "hftctl set") : "hftctl set";
      if (e.code == 1)  // a per-strategy limit (egress_stage.hpp limit_changes)
        return fmt::format("{} #{} limit strategy {} risk_{}: {} -> {} (by {})", when, e.seq, e.strategy, name_of(e), e.a,
                           e.b, core::escape(who));
      if (name_of(e) == "restricted_symbols")
        return fmt::format("{} #{} limit risk.restricted_symbols: {} -> {} symbols (by {})", when, e.seq, e.a, e.b,
                           core::escape(who));
      return fmt::format("{} #{} limit risk.{}: {} -> {} (by {})", when, e.seq, name_of(e), o, n, core::escape(who));
    }
    case RiskEventKind::kStormTransition:
      return fmt::format("{} #{} Storm Guard {}: {} -> {} ({}: {:.4g}, STORM threshold {:.4g})", when, e.seq,
                         name_of(e) == "*" ? std::string("global") : name_of(e),
                         risk::storm_state_name(static_cast<risk::StormState>(e.side)),
                         risk::storm_state_name(static_cast<risk::StormState>(e.code)),
                         risk::storm_cause_name(static_cast<risk::StormCause>(e.strategy)), e.a, e.b);
    case RiskEventKind::kStrategyLossTrip:
      return fmt::format("{} #{} strategy {} loss limit tripped: its P&L {:.2f} USD, limit {:.2f} USD (only its "
                         "risk-reducing orders until `hftctl risk reset`)", when, e.seq, e.strategy, e.a, e.c);
    case RiskEventKind::kNone: break;
  }
  return fmt::format("{} #{} event of kind {}", when, e.seq, e.kind);
}

std::string format_risk_status(const Snapshot& s) {
  const RiskBlock& r = s.risk;
  std::string o = fmt::format("hftd {} (pid {}): risk\n", core::escape(s.instance), s.pid);
  o += fmt::format("  kill switch {}, halted {}, open orders {}\n", r.kill_switch != 0 ? "ON" : "off",
                   r.halted != 0 ? "yes" : "no", r.open_orders);
  const auto cause = static_cast<risk::BreakerCause>(r.breaker);
  if (cause == risk::BreakerCause::kNone)
    o += "  circuit breaker: closed\n";
  else
    o += fmt::format("  circuit breaker: TRIPPED ({}) at P&L {} USD: only risk-reducing orders until `hftctl risk reset`\n",
                     risk::breaker_cause_name(cause), usd2(r.trip_pnl));
  o += fmt::format("  Storm Guard: global {}, worst symbol or global {}\n",
                   risk::storm_state_name(static_cast<risk::StormState>(r.storm_global)),
                   risk::storm_state_name(static_cast<risk::StormState>(r.storm_worst)));
  o += fmt::format("  day's P&L {} USD (realized + unrealized at the mid), peak {} USD, drawdown {} USD\n", usd2(r.pnl),
                   usd2(r.peak_pnl), usd2(r.peak_pnl - r.pnl));
  o += fmt::format("  exposure across symbols: gross {} shares, net long {} / short {} shares, gross notional {} USD\n",
                   r.gross_shares, r.net_long, r.net_short, usd2(r.gross_notional));
  o += fmt::format("  {:<26} {:>16} {:>16}\n", "limit", "value", "usage");
  for (std::uint32_t i = 0; i < r.limit_count && i < kRiskLimitSlots; ++i) {
    const RiskLimitSlot& l = r.limits[i];
    const std::string name(get_text(l.name));
    const std::string value = risk::format_risk_value(static_cast<risk::KeyKind>(l.kind), l.decimals, l.value);
    const std::optional<double> u = usage(r, name);
    o += fmt::format("  {:<26} {:>16} {:>16}\n", core::escape(name), value, u ? fmt::format("{:.2f}", *u) : "-");
  }
  for (std::uint32_t i = 0; i < kStrategyRiskSlots; ++i) {
    const StrategyRiskSlot& t = r.strategies[i];
    if (t.used == 0) continue;
    const std::string name = i < s.strategies.size() && s.strategies[i].used != 0
                                 ? std::string(get_text(s.strategies[i].name)) : fmt::format("#{}", i);
    auto lim = [](std::int64_t v, std::string text) { return v == 0 ? std::string("off") : text; };
    o += fmt::format("  strategy {} (index {}): position {} / {} shares, notional {} / {} USD, orders/s max {}, "
                     "P&L {} USD, loss limit {} USD{}\n", core::escape(name), i, t.position,
                     lim(t.max_position, fmt::format("{}", t.max_position)), usd2(t.gross_notional),
                     lim(t.max_notional, usd2(t.max_notional)),
                     t.max_orders_per_second == 0 ? std::string("off") : fmt::format("{}", t.max_orders_per_second),
                     usd2(t.pnl), lim(t.max_loss, usd2(t.max_loss)), t.tripped != 0 ? " TRIPPED" : "");
  }
  {
    const std::vector<std::string> restricted = restricted_of(r);
    std::string list;
    for (const std::string& sym : restricted) list.append(list.empty() ? "" : ", ").append(core::escape(sym));
    o += fmt::format("  restricted symbols ({}): {}\n", restricted.size(), list.empty() ? "none" : list);
  }
  o += "  refusals by reason:";
  bool any = false;
  for (const auto& c : s.counters) {
    if (!c.name.starts_with("risk.rejects.") || c.value == 0) continue;
    o += fmt::format(" {} {}", core::escape(c.name.substr(13)), c.value);
    any = true;
  }
  o += any ? "\n" : " none\n";
  return o;
}

std::string format_risk_events(const Snapshot& s) {
  const auto events = events_of(s.risk);
  std::string o = fmt::format("hftd {} (pid {}): {} risk events in all ({} refusals), the last {}:\n",
                              core::escape(s.instance), s.pid, s.risk.event_count + s.risk.refusal_count,
                              s.risk.refusal_count, events.size());
  for (const auto& e : events) o += "  " + risk_event_text(e) + "\n";
  return o;
}

std::string risk_status_json(const Snapshot& s) {
  const RiskBlock& r = s.risk;
  json limits = json::object();
  for (std::uint32_t i = 0; i < r.limit_count && i < kRiskLimitSlots; ++i) {
    const RiskLimitSlot& l = r.limits[i];
    const std::string name(get_text(l.name));
    const auto kind = static_cast<risk::KeyKind>(l.kind);
    const std::optional<double> u = usage(r, name);
    limits[name] = {{"value", kind == risk::KeyKind::kBoolean   ? json(l.value != 0)
                              : kind == risk::KeyKind::kInteger ? json(static_cast<std::int64_t>(l.value))
                                                                : json(l.value)},
                    {"usage", u ? json(*u) : json(nullptr)},
                    {"runtime", l.runtime != 0}};
  }
  json refusals = json::object();
  for (const auto& c : s.counters)
    if (c.name.starts_with("risk.rejects.")) refusals[c.name.substr(13)] = c.value;
  const auto cause = static_cast<risk::BreakerCause>(r.breaker);
  json j{{"schema", kJsonSchemaVersion}, {"kind", "risk_status"}, {"instance", s.instance}, {"pid", s.pid},
         {"kill_switch", r.kill_switch != 0}, {"halted", r.halted != 0}, {"open_orders", r.open_orders},
         {"breaker", {{"tripped", cause != risk::BreakerCause::kNone}, {"cause", risk::breaker_cause_name(cause)},
                      {"trip_pnl_usd", usd(r.trip_pnl)}}},
         {"storm_guard", {{"global", risk::storm_state_name(static_cast<risk::StormState>(r.storm_global))},
                          {"worst", risk::storm_state_name(static_cast<risk::StormState>(r.storm_worst))}}},
         {"pnl_usd", usd(r.pnl)}, {"peak_pnl_usd", usd(r.peak_pnl)}, {"drawdown_usd", usd(r.peak_pnl - r.pnl)},
         {"exposure", {{"gross_shares", r.gross_shares}, {"net_long", r.net_long}, {"net_short", r.net_short},
                       {"gross_notional_usd", usd(r.gross_notional)}}},
         {"limits", std::move(limits)}, {"refusals", std::move(refusals)}};
  json strategies = json::array();
  for (std::uint32_t i = 0; i < kStrategyRiskSlots; ++i) {
    const StrategyRiskSlot& t = r.strategies[i];
    if (t.used == 0) continue;
    strategies.push_back({{"index", i},
                          {"name", i < s.strategies.size() && s.strategies[i].used != 0
                                       ? std::string(get_text(s.strategies[i].name)) : std::string()},
                          {"risk_max_position", t.max_position}, {"position", t.position},
                          {"risk_max_notional_usd", usd(t.max_notional)}, {"notional_usd", usd(t.gross_notional)},
                          {"risk_max_orders_per_second", t.max_orders_per_second},
                          {"risk_max_loss_usd", usd(t.max_loss)}, {"pnl_usd", usd(t.pnl)}, {"tripped", t.tripped != 0}});
  }
  j["strategies"] = std::move(strategies);
  j["restricted_symbols"] = restricted_of(r);
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string risk_events_json(const Snapshot& s) {
  json events = json::array();
  for (const auto& e : events_of(s.risk)) {
    json ev{{"seq", e.seq}, {"wall_ns", e.wall_ns}, {"kind", kind_name(e.kind)}, {"text", risk_event_text(e)}};
    switch (static_cast<RiskEventKind>(e.kind)) {
      case RiskEventKind::kRefusal:
        ev["reason"] = reject_name(static_cast<pipeline::RejectReason>(e.code));
        ev["side"] = e.side == 'B' ? "buy" : "sell";
        ev["symbol"] = name_of(e);
        ev["price_usd"] = e.a;
        ev["quantity"] = static_cast<std::uint64_t>(e.b);
        ev["strategy"] = e.strategy;
        break;
      case RiskEventKind::kBreakerTrip:
        ev["cause"] = name_of(e);
        ev["pnl_usd"] = e.a;
        ev["peak_pnl_usd"] = e.b;
        ev["limit"] = e.c;
        break;
      case RiskEventKind::kBreakerReset:
        ev["by"] = name_of(e);
        ev["was"] = risk::breaker_cause_name(static_cast<risk::BreakerCause>(e.code));
        ev["pnl_usd"] = e.a;
        break;
      case RiskEventKind::kLimitChange:
        ev["key"] = e.code == 1 ? fmt::format("strategy.{}.risk_{}", e.strategy, name_of(e)) : "risk." + name_of(e);
        if (e.code == 1) ev["strategy"] = e.strategy;  // a per-strategy limit: the strategy's index
        ev["old"] = e.a;
        ev["new"] = e.b;
        {
          const std::size_t n = ::strnlen(e.name, sizeof e.name);
          ev["by"] = n + 1 < sizeof e.name && e.name[n + 1] != '\0'
                         ? std::string(e.name + n + 1, ::strnlen(e.name + n + 1, sizeof e.name - n - 1))
                         : std::string("hftctl set");
        }
        break;
      case RiskEventKind::kStormTransition:
        ev["scope"] = name_of(e) == "*" ? std::string("global") : name_of(e);
        ev["from"] = risk::storm_state_name(static_cast<risk::StormState>(e.side));
        ev["to"] = risk::storm_state_name(static_cast<risk::StormState>(e.code));
        ev["cause"] = risk::storm_cause_name(static_cast<risk::StormCause>(e.strategy));
        ev["value"] = e.a;
        ev["threshold"] = e.b;
        break;
      case RiskEventKind::kStrategyLossTrip:
        ev["strategy"] = e.strategy;
        ev["pnl_usd"] = e.a;
        ev["limit_usd"] = e.c;
        break;
      case RiskEventKind::kNone: break;
    }
    events.push_back(std::move(ev));
  }
  json j{{"schema", kJsonSchemaVersion}, {"kind", "risk_events"}, {"instance", s.instance}, {"pid", s.pid},
         {"event_count", s.risk.event_count + s.risk.refusal_count}, {"refusal_count", s.risk.refusal_count},
         {"events", std::move(events)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace hft::control
