#pragma once
// hftctl's machine-readable pages (`status`, `stats`, `hist` with --json): one JSON document each,
// rendered from Snapshots, with the shapes documented in docs/json-output.md. Pure functions of
// their inputs, like the text pages of report.hpp. Each document ends with a newline.
#include <string>
#include <vector>

#include "pipeline/control/snapshot.hpp"

namespace hft::control {

// Increase when a field changes meaning or goes away (adding fields keeps the version).
inline constexpr int kJsonSchemaVersion = 1;

std::string status_json(const Snapshot& s);
std::string counters_json(const Snapshot& s);
// `hftctl positions --json`: exactly {"positions":[{"symbol","position","open_buy","open_sell","cash","realized_pnl"}]}
// (cash and realized P&L in 1/10,000 $), one entry per symbol hftd has traded today.
std::string positions_json(const Snapshot& s);
// One `stats --watch --json` refresh (a line of JSON Lines): values now and per-second rates since `before`.
std::string rates_json(const Snapshot& before, const Snapshot& now);
// Per hop: count and percentiles in nanoseconds; `files`: the .hgrm and plot files written.
std::string risk_status_json(const Snapshot& s);
std::string risk_events_json(const Snapshot& s);
std::string histograms_json(const Snapshot& s, const std::vector<std::string>& files);

// Strategy library (issue 13), shared by hftctl and the API: one strategy's state and performance
// ({"name","type","state","realized_pnl",...,"position","fees"}; dollars) and one parent order;
// the lists as {"strategies":[...]} and {"algos":[...]} (with a newline).
std::string strategy_json(const StrategySlot& s);
std::string algo_json(const AlgoSlot& a);
std::string strategies_json(const std::vector<StrategySlot>& strategies);
std::string algos_json(const std::vector<AlgoSlot>& algos);

}  // namespace hft::control
