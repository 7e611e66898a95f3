#include "pipeline/control/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "core/log.hpp"
#include "pipeline/risk/keys.hpp"

namespace hft::control {
namespace {

const char* yes_no(std::uint8_t v) noexcept { return v != 0 ? "yes" : "no"; }

std::string microseconds(std::uint64_t ns) { return fmt::format("{:.3f}", static_cast<double>(ns) / 1000.0); }

// A text field of the control file, ready for one line of a page: every byte outside printable
// ASCII escaped (\n, \t, \\, \xHH; core::escape). The file is written by whoever owns the
// instance: a newline inside a field must not start a line of its own (issue 18).
std::string field(std::string_view text) { return core::escape(text); }
std::string field_or_dash(std::string_view text) { return text.empty() ? std::string("-") : field(text); }

// Escapes a string for a double-quoted gnuplot string (one line: a newline would end the command).
std::string gnuplot_quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += '?';
    else out += c;
  }
  return out + '"';
}

}  // namespace

std::string price4(std::int64_t v) {
  const bool negative = v < 0;
  const std::uint64_t a = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  return fmt::format("{}{}.{:04}", negative ? "-" : "", a / 10'000, a % 10'000);
}

std::string usd2(std::int64_t v) {
  const bool negative = v < 0;
  const std::uint64_t a = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  const std::uint64_t cents = (a + 50) / 100;
  if (cents == 0) return "0.00";
  return fmt::format("{}{}.{:02}", negative ? "-" : "", cents / 100, cents % 100);
}

std::string duration_text(std::uint64_t ns) {
  const std::uint64_t s = ns / 1'000'000'000ull;
  const std::uint64_t d = s / 86'400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d != 0) return fmt::format("{}d {:02}:{:02}:{:02}", d, h, m, sec);
  return fmt::format("{:02}:{:02}:{:02}", h, m, sec);
}

std::string format_status(const Snapshot& s) {
  std::string o;
  o += fmt::format("hftd instance {}: pid {}, {}{}, up {}, heartbeat {:.2f} s ago\n", field(s.instance), s.pid,
                   to_string(s.state), s.alive ? "" : " (NOT ALIVE)", duration_text(s.uptime_ns()),
                   static_cast<double>(s.heartbeat_age_ns()) / 1e9);
  o += fmt::format("  control file  {}\n", field(s.path));
  o += fmt::format("  config        {}\n", field_or_dash(s.config_path));
  o += fmt::format("  version       {}\n", field_or_dash(s.version));
  o += fmt::format("  backend       {}\n", field_or_dash(s.backend));
  o += fmt::format("  io features   {}\n", field_or_dash(s.net_features));
  o += fmt::format("  memory        {}\n", field_or_dash(s.arena));
  o += fmt::format("  clock         {}\n", field_or_dash(s.clock));

  o += "\nthreads\n";
  if (s.threads.empty()) o += "  (none published yet)\n";
  else {
    o += fmt::format("  {:<16} {:>4} {:<6} {:>7} {:>14} {:>14} {:>14} {:>8}  {}\n", "name", "cpu", "idle", "idle%",
                     "passes", "work passes", "work items", "parks", "stages");
    for (const auto& t : s.threads)
      o += fmt::format("  {:<16} {:>4} {:<6} {:>6.1f}% {:>14} {:>14} {:>14} {:>8}  {}\n", field(get_text(t.name)),
                       t.cpu < 0 ? std::string("any") : std::to_string(t.cpu), field(get_text(t.idle)), t.idle_ratio * 100.0,
                       t.passes, t.work_passes, t.work_items, t.parks, field(get_text(t.stages)));
  }

  const FeedBlock& f = s.feed;
  o += "\nfeed\n";
  o += fmt::format("  session {}, next sequence {}, gaps {}, recovered {}, lost {}, stale {}, in recovery {}\n",
                   field_or_dash(get_text(f.session)), f.next_sequence, f.gaps, f.recovered,
                   f.lost, yes_no(f.stale), yes_no(f.in_recovery));

  const OrderEntryBlock& e = s.order_entry;
  o += "\norder entry\n";
  o += fmt::format("  venue {}, user {}, session {}\n", field_or_dash(get_text(e.venue)),
                   field_or_dash(get_text(e.user)),
                   field_or_dash(get_text(e.session)));
  o += fmt::format("  connected {}, logged in {}, ready {}, next UserRefNum {}, session sequence {}\n",
                   yes_no(e.connected), yes_no(e.logged_in), yes_no(e.ready), e.next_user_ref, e.session_sequence);
  o += fmt::format("  last session event: {}\n", field_or_dash(get_text(e.last_event)));
  if (e.recovery != 0) o += fmt::format("  crash recovery: {}\n", recovery_text(e.recovery));

  // Issue 14: several venues (counters venue.NAME.*, router.*, arb.NAME.*).
  const auto venues = counter_groups(s.counters, "venue.");
  if (!venues.empty()) {
    o += "\nvenues\n";
    o += fmt::format("  {:<8} {:<10} {:<8} {:>6} {:>6} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>9}\n", "venue", "session",
                     "feed", "gaps", "lost", "sent", "fills", "shares", "rejects", "refused", "routed", "routed sh");
    for (const auto& v : venues) {
      const std::string session = v.get("recovering") != 0 ? "recovering" : v.get("session_up") != 0 ? "up"
                                  : v.get("connected") != 0 ? "login" : "DOWN";
      const std::string feed = !v.has("feed_stale") ? "-" : v.get("feed_stale") != 0 ? "STALE"
                               : v.get("feed_in_recovery") != 0 ? "gap" : "ok";
      o += fmt::format("  {:<8} {:<10} {:<8} {:>6} {:>6} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>9}\n", field(v.name), session,
                       feed, v.get("feed_gaps"), v.get("feed_lost"), v.get("orders_sent"), v.get("fills"),
                       v.get("filled_shares"), v.get("rejects"), v.get("refused_down"), v.get("routed_legs"),
                       v.get("routed_shares"));
    }
    std::string router;
    for (const auto& c : s.counters)
      if (c.name.starts_with("router.")) router += fmt::format("{}{} {}", router.empty() ? "" : ", ", c.name.substr(7), c.value);
    if (!router.empty()) o += fmt::format("  router decisions: {}\n", router);
  }
  for (const auto& a : counter_groups(s.counters, "arb."))
    o += fmt::format("  arbitrage {}: seen {}, taken {}, both legs filled {}, one leg {}, none {}, hedges {}, unwinds {}, "
                     "refused {}, retries {}, left open {}\n", field(a.name), a.get("seen"), a.get("taken"), a.get("both_filled"),
                     a.get("one_leg"), a.get("none_filled"), a.get("hedges"), a.get("unwinds"), a.get("refused"),
                     a.get("retries"), a.get("left_open"));

  const RiskBlock& r = s.risk;
  o += "\nrisk\n";
  o += fmt::format("  kill switch {}, halted {}, open orders {}\n", r.kill_switch != 0 ? "ON" : "off", yes_no(r.halted),
                   r.open_orders);
  o += fmt::format("  circuit breaker {}, day's P&L {} USD (peak {})\n",
                   r.breaker != 0 ? fmt::format("TRIPPED ({})", risk::breaker_cause_name(static_cast<risk::BreakerCause>(r.breaker)))
                                  : std::string("closed"),
                   usd2(r.pnl), usd2(r.peak_pnl));
  o += "  limits:";
  for (std::uint32_t i = 0; i < r.limit_count && i < kRiskLimitSlots; ++i) {
    const RiskLimitSlot& l = r.limits[i];
    const bool last = i + 1 == r.limit_count || i + 1 == kRiskLimitSlots;
    o += fmt::format(" {} {}{}", field(get_text(l.name)),
                     risk::format_risk_value(static_cast<risk::KeyKind>(l.kind), l.decimals, l.value),
                     last ? "\n" : i % 4 == 3 ? ",\n         " : ",");
  }
  if (r.limit_count == 0) o += " (none published yet)\n";

  o += "\npositions (P&L marked at the reference price)\n";
  if (s.positions.empty()) o += "  (none)\n";
  else {
    o += fmt::format("  {:<8} {:>6} {:>10} {:>9} {:>9} {:>12} {:>14} {:>12}\n", "symbol", "locate", "position",
                     "open buy", "open sell", "reference", "cash", "P&L");
    std::int64_t total = 0;
    bool all_marked = true;
    for (const auto& p : s.positions) {
      const Pnl pnl = position_pnl(p);
      total = saturating_add(total, pnl.value);
      all_marked = all_marked && pnl.marked;
      o += fmt::format("  {:<8} {:>6} {:>10} {:>9} {:>9} {:>12} {:>14} {:>12}{}\n", field(trim_symbol(p.symbol)), p.locate,
                       p.position, p.open_buy, p.open_sell, p.reference > 0 ? price4(p.reference) : std::string("-"),
                       usd2(p.cash), usd2(pnl.value), pnl.marked ? "" : " (no reference price: cash only)");
    }
    o += fmt::format("  {:<8} {:>6} {:>10} {:>9} {:>9} {:>12} {:>14} {:>12}{}\n", "total", "", "", "", "", "", "",
                     usd2(total), all_marked ? "" : " (partly unmarked)");
  }
  return o;
}

std::string format_positions(const Snapshot& s) {
  std::string o = fmt::format("{:<8} {:>10} {:>9} {:>9} {:>16} {:>16}\n", "symbol", "position", "open buy", "open sell",
                              "cash", "realized P&L");
  if (s.positions.empty()) o += "(no symbol traded today)\n";
  for (const auto& p : s.positions)
    o += fmt::format("{:<8} {:>10} {:>9} {:>9} {:>16} {:>16}\n", field(trim_symbol(p.symbol)), p.position, p.open_buy, p.open_sell,
                     usd2(p.cash), usd2(p.realized_pnl));
  return o;
}

std::string format_counters(const Snapshot& s) {
  std::size_t width = 8;
  for (const auto& c : s.counters) width = std::max(width, field(c.name).size());
  std::string o = fmt::format("{:<{}}  {:>20}\n", "counter", width, "value");
  for (const auto& c : s.counters)
    o += fmt::format("{:<{}}  {:>20}{}\n", field(c.name), width, c.value, c.kind == CounterKind::kGauge ? "  (gauge)" : "");
  return o;
}

std::string format_rates(const Snapshot& before, const Snapshot& now) {
  const double dt = static_cast<double>(now.taken_realtime_ns - std::min(before.taken_realtime_ns, now.taken_realtime_ns)) / 1e9;
  std::size_t width = 8;
  for (const auto& c : now.counters) width = std::max(width, field(c.name).size());
  std::string o = fmt::format("hftd {} (pid {}), up {}, over the last {:.2f} s\n", field(now.instance), now.pid,
                              duration_text(now.uptime_ns()), dt);
  o += fmt::format("{:<{}}  {:>20}  {:>14}\n", "counter", width, "value", "per second");
  for (const auto& c : now.counters) {
    // string_view for the fixed texts: GCC 12 -O3 warns falsely (-Wrestrict) on assigning a
    // literal to a std::string here.
    std::string computed;
    std::string_view rate = "-";
    if (c.kind == CounterKind::kGauge) rate = "(gauge)";
    else if (const CounterValue* b = before.find_counter(c.name); b != nullptr && b->value <= c.value && dt > 0)
      rate = computed = fmt::format("{:.1f}", static_cast<double>(c.value - b->value) / dt);
    o += fmt::format("{:<{}}  {:>20}  {:>14}\n", field(c.name), width, c.value, rate);
  }
  return o;
}

std::string format_histogram_table(const Snapshot& s) {
  std::size_t width = 6;
  for (const auto& h : s.histograms) width = std::max(width, field(h.name).size());
  std::string o = fmt::format("{:<{}} {:>12} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}\n", "hop (µs)", width + 1,
                              "count", "p50", "p90", "p99", "p99.9", "p99.99", "max");
  for (const auto& hop : s.histograms) {
    const core::Histogram& h = hop.histogram;
    o += fmt::format("{:<{}} {:>12}", field(hop.name), width, h.total_count());
    if (h.total_count() == 0) {
      for (int i = 0; i < 6; ++i) o += fmt::format(" {:>11}", "-");
    } else {
      for (const double p : kTablePercentiles) o += fmt::format(" {:>11}", microseconds(h.value_at_percentile(p)));
      o += fmt::format(" {:>11}", microseconds(h.max()));
    }
    o += '\n';
  }
  return o;
}

std::string hgrm_path(std::string_view dir, std::string_view instance, std::string_view hop) {
  return fmt::format("{}/hftd.{}.{}.hgrm", dir, instance, hop);
}

bool write_plot_data(std::string_view hgrm_text, PlotSeries& series, std::string& error) {
  core::HgrmFile parsed;
  if (!core::parse_hgrm(hgrm_text, parsed, error)) return false;
  if (parsed.total_count == 0) return error = "no samples", false;
  std::ofstream out(series.data_path);
  if (!out) return error = fmt::format("cannot write {}", series.data_path), false;
  series.max_inverse = 1;
  for (const auto& row : parsed.rows) {
    // The final 100% row has no finite 1/(1-p): HdrHistogram's plotter leaves it out too.
    if (row.percentile >= 1.0 || row.inverse <= 0) continue;
    out << fmt::format("{:.6f} {:.6f}\n", row.inverse, std::max(row.value, 0.001));
    series.max_inverse = std::max(series.max_inverse, row.inverse);
  }
  out.close();
  if (!out) return error = fmt::format("cannot write {}", series.data_path), false;
  return true;
}

std::string gnuplot_script(const std::vector<PlotSeries>& series, std::string_view png_path, std::string_view title) {
  // x is 1/(1-p) on a log axis, HdrHistogram's percentile-distribution picture: each decade is
  // one more nine. Up to the decade that holds the deepest tail drawn (at least 99.9%).
  double max_inverse = 1000;
  for (const auto& s : series) max_inverse = std::max(max_inverse, s.max_inverse);
  int decades = static_cast<int>(std::ceil(std::log10(max_inverse) - 1e-9));
  decades = std::clamp(decades, 3, 9);
  // Tic labels are format strings to gnuplot: a literal percent sign is "%%".
  std::string tics = "\"50%%\" 2, \"90%%\" 10";
  std::string nines = "99";
  for (int d = 2; d <= decades; ++d) {
    tics += fmt::format(", \"{}%%\" 1e{}", nines, d);
    nines += d == 2 ? ".9" : "9";
  }
  std::string o;
  o += "set terminal pngcairo size 1400,720 noenhanced font \"DejaVu Sans,11\"\n";
  o += fmt::format("set output {}\n", gnuplot_quoted(png_path));
  o += fmt::format("set title {}\n", gnuplot_quoted(title));
  o += "set logscale x 10\nset logscale y 10\n";
  o += fmt::format("set xrange [1:1e{}]\n", decades);
  o += fmt::format("set xtics ({})\n", tics);
  o += "set format y \"%g\"\n";
  o += "set xlabel \"percentile\"\nset ylabel \"latency (µs)\"\n";
  o += "set mytics 10\nset grid xtics ytics mytics lc rgb \"#d8d8d8\"\n";
  o += "set key outside right top box\n";
  // Dark, distinct line colours (gnuplot's default yellow is unreadable on white).
  constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#000000"};
  for (std::size_t i = 0; i < std::size(kColours); ++i)
    o += fmt::format("set linetype {} linecolor rgb \"{}\" linewidth 2\n", i + 1, kColours[i]);
  o += "set datafile commentschars \"#\"\n";
  o += "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i != 0) o += ", \\\n     ";
    o += fmt::format("{} using 1:2 with lines linetype {} title {}", gnuplot_quoted(series[i].data_path),
                     i % 10 + 1, gnuplot_quoted(series[i].title));
  }
  o += '\n';
  return o;
}

}  // namespace hft::control
