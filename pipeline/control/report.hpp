#pragma once
// hftctl's human-readable pages, rendered from Snapshots: status, counters, counter rates,
// the latency percentile table, and the gnuplot script of the percentile-distribution plot.
// Pure functions of their inputs, so the tests compare exact text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/control/snapshot.hpp"

namespace hft::control {

// 1/10,000 $ as dollars: exact with 4 decimals ("-12.3400"), or rounded half away from zero to
// cents ("-12.34").
std::string price4(std::int64_t ten_thousandths);
std::string usd2(std::int64_t ten_thousandths);
// "3d 04:05:06", "04:05:06".
std::string duration_text(std::uint64_t ns);

std::string format_status(const Snapshot& s);
// Every counter with its value, gauges marked.
std::string format_counters(const Snapshot& s);
// `hftctl positions`: per symbol position, open buy/sell shares, cash and realized P&L (USD).
std::string format_positions(const Snapshot& s);
// One `stats --watch` refresh: values now, and per-second rates of the counters since `before`
// (gauges are shown as values). A counter that went backwards (daemon restarted) shows no rate.
std::string format_rates(const Snapshot& before, const Snapshot& now);
// `hftctl risk status`: every limit with its usage where the daemon publishes one, the circuit
// breaker and the day's P&L. `hftctl risk events`: the last risk events, oldest first.
std::string format_risk_status(const Snapshot& s);
std::string format_risk_events(const Snapshot& s);
// One event as a line (no newline).
std::string risk_event_text(const RiskEventSlot& e);

// The percentiles of the latency table, in the order of its columns.
inline constexpr double kTablePercentiles[] = {50.0, 90.0, 99.0, 99.9, 99.99};
// Per hop: count, p50, p90, p99, p99.9, p99.99 and max in microseconds.
std::string format_histogram_table(const Snapshot& s);

// dir/hftd.<instance>.<hop>.hgrm, the names hftd's own `dump` uses.
std::string hgrm_path(std::string_view dir, std::string_view instance, std::string_view hop);

// A percentile-distribution curve: (1/(1-p), latency in µs) points from an .hgrm file.
struct PlotSeries {
  std::string title;
  std::string data_path;  // two columns: 1/(1-p) and µs
  double max_inverse = 1;
};
// Writes `series.data_path` from HdrHistogram percentile-distribution text (core::parse_hgrm);
// false with `error` when the text is malformed or holds no samples.
bool write_plot_data(std::string_view hgrm_text, PlotSeries& series, std::string& error);
// The gnuplot script drawing every series on log-log axes, x ticks labelled 0%, 90%, 99%, ...
std::string gnuplot_script(const std::vector<PlotSeries>& series, std::string_view png_path, std::string_view title);

}  // namespace hft::control
