#pragma once
// Prometheus text exposition (format 0.0.4) of a control-file Snapshot, for `hftctl metrics`.
//  * counters: hftd_<name>_total (dots and other characters outside [a-zA-Z0-9_] become '_');
//  * gauges: hftd_<name>;
//  * latency hops: one histogram family hftd_latency_seconds{hop="..."} with the fixed bounds
//    below, _sum from the HdrHistogram counts (each count at its bucket's median value, as
//    HdrHistogram's mean does) and _count; plus the exact HdrHistogram percentiles as gauges,
//    since fixed buckets cannot show a p99.99;
//  * state: up, heartbeat age, uptime, kill switch, halted, session flags, feed, risk limits,
//    positions and P&L per symbol, threads.
// Every series carries instance="<name>".
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.hpp"
#include "pipeline/control/snapshot.hpp"

namespace hft::control {

// Upper bounds (seconds) of the latency buckets: 1-2.5-5 steps from 100 ns (the fastest hop on
// this hardware) to 2.5 s (a send call stuck behind a full socket buffer), then +Inf.
inline constexpr std::array<double, 23> kLatencyBucketsSeconds = {
    1e-7,   2.5e-7, 5e-7,   1e-6,   2.5e-6, 5e-6,   1e-5,   2.5e-5, 5e-5,   1e-4, 2.5e-4, 5e-4,
    1e-3,   2.5e-3, 5e-3,   1e-2,   2.5e-2, 5e-2,   1e-1,   2.5e-1, 5e-1,   1.0,  2.5};

// The percentiles exported as hftd_latency_percentile_seconds{percentile=...}.
inline constexpr std::array<double, 6> kExportedPercentiles = {50.0, 90.0, 99.0, 99.9, 99.99, 100.0};

// A Prometheus metric name from a counter name: "risk.rejects.price_band" -> "risk_rejects_price_band".
std::string metric_name(std::string_view counter_name);
// A label value with \\, \" and \n escaped (exposition format 0.0.4).
std::string escape_label_value(std::string_view value);
// A HELP line's text (format 0.0.4): backslash as \\ and line feed as \n, so that a control-file
// string inside it (a counter's name) cannot end the line and start a forged sample; other
// control bytes and non-ASCII become '?', as in label values.
std::string escape_help(std::string_view text);
// A float as Prometheus reads it (Go ParseFloat): shortest round-trip text, "+Inf", "NaN".
std::string prometheus_float(double v);

struct CumulativeBucket {
  double le_seconds;        // +infinity for the last
  std::uint64_t cumulative;
};
// Cumulative counts of `h` (values in ns) under each bound of kLatencyBucketsSeconds, then +Inf.
// A HdrHistogram bucket counts under a bound only when its highest equivalent value is within
// it, so a bucket never claims a sample faster than it may have been.
std::vector<CumulativeBucket> cumulative_buckets(const core::Histogram& h);
// Sum of the samples in seconds, each HdrHistogram count taken at its bucket's median value.
double histogram_sum_seconds(const core::Histogram& h);

// The whole exposition of one snapshot.
std::string render_prometheus(const Snapshot& s);
// What a scrape returns when the instance cannot be read: hftd_up 0 and the reason as a label
// (the exporter itself answers, as Prometheus exporters do for a dead target).
std::string render_prometheus_down(std::string_view instance, std::string_view reason);

}  // namespace hft::control
