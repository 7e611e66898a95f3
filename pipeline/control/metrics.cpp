#include "pipeline/control/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace hft::control {
namespace {

// Writes families: HELP and TYPE once per name, then its samples. A name already written is
// refused (a second family of one name makes the whole scrape invalid).
class Exposition {
 public:
  explicit Exposition(std::string_view instance) : instance_label_("instance=\"" + escape_label_value(instance) + "\"") {}

  bool family(std::string_view name, std::string_view type, std::string_view help) {
    if (!names_.insert(std::string(name)).second) return false;
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
    return true;
  }
  // labels: extra `k="v"` pairs, already escaped, comma separated (or empty).
  void sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += fmt::format("{}{{{}{}{}}} {}\n", name, instance_label_, labels.empty() ? "" : ",", labels, value);
  }
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) { sample(name, labels, std::to_string(value)); }
  void sample(std::string_view name, std::string_view labels, std::int64_t value) { sample(name, labels, std::to_string(value)); }
  void sample(std::string_view name, std::string_view labels, double value) { sample(name, labels, prometheus_float(value)); }
  void gauge(std::string_view name, std::string_view help, double value) {
    if (family(name, "gauge", help)) sample(name, {}, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string instance_label_;
  std::set<std::string> names_;
  std::string out_;
};

std::string label(std::string_view key, std::string_view value) {
  return fmt::format("{}=\"{}\"", key, escape_label_value(value));
}

double usd(std::int64_t ten_thousandths) { return static_cast<double>(ten_thousandths) / 1e4; }

}  // namespace

std::string metric_name(std::string_view counter_name) {
  std::string out;
  out.reserve(counter_name.size());
  for (const char c : counter_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    // Control bytes and non-ASCII (a torn or foreign string) would make the scrape invalid
    // UTF-8 or unreadable: hftd's strings are ASCII.
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) out += '?';
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) out += '?';  // as labels
    else out += c;
  }
  return out;
}

std::string prometheus_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::vector<CumulativeBucket> cumulative_buckets(const core::Histogram& h) {
  std::vector<CumulativeBucket> out;
  out.reserve(kLatencyBucketsSeconds.size() + 1);
  for (const double b : kLatencyBucketsSeconds) out.push_back({b, 0});
  out.push_back({std::numeric_limits<double>::infinity(), 0});
  const auto counts = h.counts();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    const double top_s = static_cast<double>(h.highest_equivalent(h.value_at_index(i))) / 1e9;
    // The first bound that holds this bucket's highest value; the counts add up afterwards.
    std::size_t k = 0;
    while (k < kLatencyBucketsSeconds.size() && top_s > kLatencyBucketsSeconds[k]) ++k;
    out[k].cumulative += counts[i];
  }
  std::uint64_t running = 0;
  for (auto& b : out) {
    running += b.cumulative;
    b.cumulative = running;
  }
  return out;
}

double histogram_sum_seconds(const core::Histogram& h) {
  const auto counts = h.counts();
  long double ns = 0;
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] != 0)
      ns += static_cast<long double>(h.median_equivalent(h.value_at_index(i))) * static_cast<long double>(counts[i]);
  return static_cast<double>(ns / 1e9L);
}

std::string render_prometheus(const Snapshot& s) {
  Exposition e(s.instance);
  e.gauge("hftd_up", "1 when the hftd control file is live (process exists, heartbeat fresh, not stopped)",
          s.alive ? 1.0 : 0.0);
  if (e.family("hftd_info", "gauge", "Constant 1, labelled with the daemon's version, backend, state and pid"))
    e.sample("hftd_info",
             fmt::format("{},{},{},{}", label("version", s.version), label("backend", s.backend),
                         label("state", to_string(s.state)), label("pid", std::to_string(s.pid))),
             std::uint64_t{1});
  e.gauge("hftd_heartbeat_age_seconds", "Seconds since the daemon's control thread last beat (about every 10 ms)",
          static_cast<double>(s.heartbeat_age_ns()) / 1e9);
  e.gauge("hftd_start_time_seconds", "Daemon start time, seconds since the Unix epoch",
          static_cast<double>(s.start_realtime_ns) / 1e9);
  e.gauge("hftd_uptime_seconds", "Seconds since the daemon started", static_cast<double>(s.uptime_ns()) / 1e9);

  // The daemon's own counters and gauges. Issue 14: venue.NAME.KEY and arb.NAME.KEY become
  // hftd_venue_KEY{venue="NAME"} and hftd_arb_KEY{strategy="NAME"} (one family per KEY).
  for (const auto& [prefix, family, label_key] :
       {std::tuple<const char*, const char*, const char*>{"venue.", "hftd_venue_", "venue"}, {"arb.", "hftd_arb_", "strategy"}}) {
    const auto groups = counter_groups(s.counters, prefix);
    std::vector<std::string> keys;  // in definition order
    for (const auto& g : groups)
      for (const auto& [k, c] : g.values)
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    for (const std::string& k : keys) {
      const CounterValue* first = nullptr;
      for (const auto& g : groups)
        for (const auto& [gk, c] : g.values)
          if (gk == k && first == nullptr) first = c;
      const bool counter = first->kind == CounterKind::kCounter;
      std::string name = family + metric_name(k);
      if (counter && !name.ends_with("_total")) name += "_total";
      if (!e.family(name, counter ? "counter" : "gauge", fmt::format("hftd {} {}KEY.{} per {}", counter ? "counter" : "gauge",
                                                                     prefix, k, label_key)))
        continue;
      for (const auto& g : groups)
        for (const auto& [gk, c] : g.values)
          if (gk == k) e.sample(name, label(label_key, g.name), c->value);
    }
  }
  for (const auto& c : s.counters) {
    if (c.name.starts_with("venue.") || c.name.starts_with("arb.")) continue;
    const bool counter = c.kind == CounterKind::kCounter;
    std::string name = "hftd_" + metric_name(c.name);
    if (counter && !name.ends_with("_total")) name += "_total";
    if (!e.family(name, counter ? "counter" : "gauge", fmt::format("hftd {} {}", counter ? "counter" : "gauge", c.name)))
      continue;
    e.sample(name, {}, c.value);
  }

  // Latency hops.
  if (!s.histograms.empty() &&
      e.family("hftd_latency_seconds", "histogram", "Pipeline hop latency in seconds (HdrHistogram, 3 digits)")) {
    for (const auto& hop : s.histograms) {
      const std::string hop_label = label("hop", hop.name);
      for (const auto& b : cumulative_buckets(hop.histogram))
        e.sample("hftd_latency_seconds_bucket", fmt::format("{},le=\"{}\"", hop_label, prometheus_float(b.le_seconds)),
                 b.cumulative);
      e.sample("hftd_latency_seconds_sum", hop_label, histogram_sum_seconds(hop.histogram));
      e.sample("hftd_latency_seconds_count", hop_label, hop.histogram.total_count());
    }
  }
  if (!s.histograms.empty() &&
      e.family("hftd_latency_percentile_seconds", "gauge",
               "Exact HdrHistogram percentile of each hop since start (percentile=\"100\" is the max)")) {
    for (const auto& hop : s.histograms) {
      if (hop.histogram.total_count() == 0) continue;
      for (const double p : kExportedPercentiles) {
        const std::uint64_t ns = p >= 100.0 ? hop.histogram.max() : hop.histogram.value_at_percentile(p);
        e.sample("hftd_latency_percentile_seconds",
                 fmt::format("{},{}", label("hop", hop.name), label("percentile", prometheus_float(p))),
                 static_cast<double>(ns) / 1e9);
      }
    }
  }

  // Risk.
  const RiskBlock& r = s.risk;
  e.gauge("hftd_kill_switch", "1 while the kill switch blocks new orders", r.kill_switch != 0 ? 1.0 : 0.0);
  e.gauge("hftd_halted", "1 while the strategies are halted by the operator", r.halted != 0 ? 1.0 : 0.0);
  e.gauge("hftd_risk_open_orders", "Working orders as the risk gate counts them", static_cast<double>(r.open_orders));
  if (e.family("hftd_risk_limit", "gauge", "Current pre-trade risk limits (hftctl set risk.KEY=VALUE changes them)")) {
    for (std::uint32_t i = 0; i < r.limit_count && i < kRiskLimitSlots; ++i)
      e.sample("hftd_risk_limit", label("limit", get_text(r.limits[i].name)), r.limits[i].value);
  }
  e.gauge("hftd_risk_breaker_tripped", "1 while the daily-loss / drawdown circuit breaker is tripped (hftctl risk reset)",
          r.breaker != 0 ? 1.0 : 0.0);
  e.gauge("hftd_storm_guard_state", "Storm Guard's global state: 0 normal, 1 warn, 2 storm, 3 halt",
          static_cast<double>(r.storm_global));
  e.gauge("hftd_storm_guard_worst_state", "The worst Storm Guard state, global or of any watched symbol",
          static_cast<double>(r.storm_worst));
  e.gauge("hftd_risk_pnl_usd", "The day's P&L as the circuit breaker marks it (realized + unrealized at the mid)",
          static_cast<double>(r.pnl) / 1e4);
  e.gauge("hftd_risk_peak_pnl_usd", "The day's peak P&L (drawdown is measured from it)", static_cast<double>(r.peak_pnl) / 1e4);
  e.gauge("hftd_risk_drawdown_usd", "The day's peak P&L minus the P&L", static_cast<double>(r.peak_pnl - r.pnl) / 1e4);
  e.gauge("hftd_risk_gross_shares", "Gross exposure across symbols, shares, counting working orders",
          static_cast<double>(r.gross_shares));
  e.gauge("hftd_risk_gross_notional_usd", "Gross exposure across symbols, USD", static_cast<double>(r.gross_notional) / 1e4);
  e.gauge("hftd_risk_events", "Risk events so far (refusals, breaker trips and resets, limit changes)",
          static_cast<double>(r.event_count + r.refusal_count));
  // Per-strategy limits (issue 11; hftctl set strategy.NAME.risk_*), their usage and the loss trip.
  // Limits of 0 are off. The strategy label is its [[strategies]] name ("#i" when not published).
  std::vector<std::pair<std::string, const StrategyRiskSlot*>> strategy_risk;
  for (std::uint32_t i = 0; i < kStrategyRiskSlots; ++i)
    if (r.strategies[i].used != 0)
      strategy_risk.emplace_back(label("strategy", i < s.strategies.size() && s.strategies[i].used != 0
                                                       ? std::string(get_text(s.strategies[i].name))
                                                       : fmt::format("#{}", i)),
                                 &r.strategies[i]);
  auto risk_of_strategy = [&](const char* name, const char* help, auto value) {
    if (strategy_risk.empty() || !e.family(name, "gauge", help)) return;
    for (const auto& [lab, t] : strategy_risk) e.sample(name, lab, value(*t));
  };
  risk_of_strategy("hftd_risk_strategy_max_position", "Per-strategy limit: shares per symbol (own position + working), 0 = off",
               [](const StrategyRiskSlot& t) { return static_cast<double>(t.max_position); });
  risk_of_strategy("hftd_risk_strategy_max_notional_usd", "Per-strategy limit: gross exposure across symbols, USD, 0 = off",
               [](const StrategyRiskSlot& t) { return static_cast<double>(t.max_notional) / 1e4; });
  risk_of_strategy("hftd_risk_strategy_max_orders_per_second", "Per-strategy limit: order rate, 0 = off",
               [](const StrategyRiskSlot& t) { return t.max_orders_per_second; });
  risk_of_strategy("hftd_risk_strategy_max_loss_usd", "Per-strategy limit: day loss before its loss trip, USD, 0 = off",
               [](const StrategyRiskSlot& t) { return static_cast<double>(t.max_loss) / 1e4; });
  risk_of_strategy("hftd_risk_strategy_position", "Per-strategy usage: its largest own position + working (worst side), shares",
               [](const StrategyRiskSlot& t) { return static_cast<double>(t.position); });
  risk_of_strategy("hftd_risk_strategy_gross_notional_usd", "Per-strategy usage: its gross exposure across symbols, USD",
               [](const StrategyRiskSlot& t) { return static_cast<double>(t.gross_notional) / 1e4; });
  risk_of_strategy("hftd_risk_strategy_pnl_usd", "Per-strategy usage: its day P&L as last marked, USD",
               [](const StrategyRiskSlot& t) { return static_cast<double>(t.pnl) / 1e4; });
  risk_of_strategy("hftd_risk_strategy_tripped", "1 while the strategy's loss limit is tripped (hftctl risk reset)",
               [](const StrategyRiskSlot& t) { return t.tripped != 0 ? 1.0 : 0.0; });

  // Feed and order-entry session.
  const FeedBlock& f = s.feed;
  e.gauge("hftd_feed_stale", "1 while the market-data feed is stale", f.stale != 0 ? 1.0 : 0.0);
  e.gauge("hftd_feed_in_recovery", "1 while a MoldUDP64 gap is being re-requested", f.in_recovery != 0 ? 1.0 : 0.0);
  e.gauge("hftd_feed_next_sequence", "Next MoldUDP64 sequence number expected", static_cast<double>(f.next_sequence));
  const OrderEntryBlock& o = s.order_entry;
  e.gauge("hftd_order_entry_connected", "1 while the SoupBinTCP connection to the venue is up", o.connected != 0 ? 1.0 : 0.0);
  e.gauge("hftd_order_entry_logged_in", "1 while the SoupBinTCP session is logged in", o.logged_in != 0 ? 1.0 : 0.0);
  e.gauge("hftd_order_entry_ready", "1 when orders can be sent (logged in, UserRefNum known)", o.ready != 0 ? 1.0 : 0.0);
  e.gauge("hftd_order_entry_next_user_ref", "Next OUCH UserRefNum", static_cast<double>(o.next_user_ref));
  e.gauge("hftd_order_entry_session_sequence", "Next SoupBinTCP sequenced message expected",
          static_cast<double>(o.session_sequence));

  // Positions and P&L.
  if (!s.positions.empty()) {
    auto per_symbol = [&](const char* name, const char* help, auto value) {
      if (!e.family(name, "gauge", help)) return;
      for (const auto& p : s.positions) e.sample(name, label("symbol", trim_symbol(p.symbol)), value(p));
    };
    per_symbol("hftd_position_shares", "Net position in shares", [](const PositionSlot& p) { return p.position; });
    per_symbol("hftd_position_open_buy_shares", "Shares on working buy orders", [](const PositionSlot& p) { return p.open_buy; });
    per_symbol("hftd_position_open_sell_shares", "Shares on working sell orders",
               [](const PositionSlot& p) { return p.open_sell; });
    per_symbol("hftd_reference_price_usd", "Reference price the P&L is marked at",
               [](const PositionSlot& p) { return usd(p.reference); });
    per_symbol("hftd_pnl_usd", "P&L marked at the reference price (cash alone while a position has no reference price)",
               [](const PositionSlot& p) { return usd(position_pnl(p).value); });
  }
  std::int64_t total = 0;
  for (const auto& p : s.positions) total = saturating_add(total, position_pnl(p).value);
  e.gauge("hftd_portfolio_pnl_usd", "P&L of every position, marked at the reference prices", usd(total));

  // Strategies (issue 13): performance per strategy instance.
  if (!s.strategies.empty()) {
    auto per_strategy = [&](const char* name, const char* type, const char* help, auto value) {
      if (!e.family(name, type, help)) return;
      for (const auto& t : s.strategies) e.sample(name, label("strategy", get_text(t.name)), value(t));
    };
    using T = StrategySlot;
    per_strategy("hftd_strategy_realized_pnl_usd", "gauge", "Realized P&L of a strategy (average cost)",
                 [](const T& t) { return t.realized_pnl; });
    per_strategy("hftd_strategy_unrealized_pnl_usd", "gauge", "Unrealized P&L of a strategy, marked at mid",
                 [](const T& t) { return t.unrealized_pnl; });
    per_strategy("hftd_strategy_volume_shares_total", "counter", "Shares a strategy traded", [](const T& t) { return t.volume_shares; });
    per_strategy("hftd_strategy_orders_total", "counter", "New orders a strategy sent", [](const T& t) { return t.orders; });
    per_strategy("hftd_strategy_fills_total", "counter", "Fills of a strategy's orders", [](const T& t) { return t.fills; });
    per_strategy("hftd_strategy_cancels_total", "counter", "A strategy's orders canceled", [](const T& t) { return t.cancels; });
    per_strategy("hftd_strategy_rejects_total", "counter", "A strategy's orders or changes rejected", [](const T& t) { return t.rejects; });
    per_strategy("hftd_strategy_fill_ratio", "gauge", "Orders with a fill / orders", [](const T& t) { return t.fill_ratio; });
    per_strategy("hftd_strategy_avg_time_to_fill_seconds", "gauge", "Mean time from sending an order to its first fill",
                 [](const T& t) { return t.avg_time_to_fill_us * 1e-6; });
    per_strategy("hftd_strategy_win_rate", "gauge", "Round trips closed at a profit / round trips", [](const T& t) { return t.win_rate; });
    per_strategy("hftd_strategy_sharpe", "gauge", "Sharpe ratio of per-minute P&L changes (not annualized)",
                 [](const T& t) { return t.sharpe; });
    per_strategy("hftd_strategy_max_drawdown_usd", "gauge", "Largest fall of total P&L from its peak", [](const T& t) { return t.max_drawdown; });
    per_strategy("hftd_strategy_fees_usd", "gauge", "Fees a strategy paid (negative: rebates), already in its realized P&L",
                 [](const T& t) { return t.fees; });
    per_strategy("hftd_strategy_running", "gauge", "1 running, 0 paused or stopped", [](const T& t) { return t.state == 0 ? 1.0 : 0.0; });
  }

  // Threads.
  if (!s.threads.empty()) {
    if (e.family("hftd_thread_idle_ratio", "gauge", "Share of a runner thread's passes that found no work"))
      for (const auto& t : s.threads) e.sample("hftd_thread_idle_ratio", label("thread", get_text(t.name)), t.idle_ratio);
    if (e.family("hftd_thread_passes_total", "counter", "Duty-cycle passes of a runner thread"))
      for (const auto& t : s.threads) e.sample("hftd_thread_passes_total", label("thread", get_text(t.name)), t.passes);
    if (e.family("hftd_thread_work_items_total", "counter", "Work items a runner thread's stages reported"))
      for (const auto& t : s.threads) e.sample("hftd_thread_work_items_total", label("thread", get_text(t.name)), t.work_items);
  }
  return e.take();
}

std::string render_prometheus_down(std::string_view instance, std::string_view reason) {
  Exposition e(instance);
  e.gauge("hftd_up", "1 when the hftd control file is live (process exists, heartbeat fresh, not stopped)", 0.0);
  if (e.family("hftd_down_reason", "gauge", "Constant 1, labelled with why the instance cannot be read"))
    e.sample("hftd_down_reason", label("reason", reason), std::uint64_t{1});
  return e.take();
}

}  // namespace hft::control
