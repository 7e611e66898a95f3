#pragma once
// The one table of pre-trade risk keys. Config parsing ([risk] in hftd's TOML), the run-time
// `hftctl set risk.KEY=VALUE`, hftctl's help and confirmation, the status report and the
// Prometheus exposition all read this table (the last three through the control file's
// self-describing RiskBlock, written from it). A new limit is one member of RiskLimits and one
// row below.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "pipeline/risk/risk.hpp"

namespace hft::core {
class ConfigSection;
}

namespace hft::risk {

enum class KeyKind : std::uint8_t { kInteger = 0, kNumber = 1, kBoolean = 2 };

inline constexpr std::uint8_t kShortest = 0xFF;  // RiskKey::decimals: the shortest exact text

// One risk key. Values "in the key's unit" are what an operator writes (USD, shares, bps); the
// member of RiskLimits may use another scale (max_notional is in 1/10,000 $).
struct RiskKey {
  std::string_view name;   // [risk] key; `hftctl set risk.<name>`; report and metrics label
  KeyKind kind;
  double min, max;         // accepted range, in the key's unit
  bool runtime;            // may change while hftd runs (hftctl set)
  std::uint8_t decimals;   // kNumber shown with this many decimals, or kShortest
  std::string_view unit;
  std::string_view help;
  double (*get)(const RiskLimits&) noexcept;       // the member, in the key's unit
  void (*set)(RiskLimits&, double) noexcept;       // from the key's unit; integers truncate
};

namespace detail {
template <auto Member, std::int64_t Scale>
double get_member(const RiskLimits& l) noexcept {
  return static_cast<double>(l.*Member) / static_cast<double>(Scale);
}
template <auto Member, std::int64_t Scale>
void set_member(RiskLimits& l, double v) noexcept {
  using T = std::remove_cvref_t<decltype(l.*Member)>;
  if constexpr (std::is_same_v<T, bool>) l.*Member = v != 0;
  else l.*Member = static_cast<T>(v * static_cast<double>(Scale));
}
// A row: the member of RiskLimits and its scale (member = value in the key's unit * Scale).
template <auto Member, std::int64_t Scale = 1>
constexpr RiskKey row(std::string_view name, KeyKind kind, double min, double max, bool runtime, std::string_view unit,
                      std::string_view help, std::uint8_t decimals = kShortest) {
  return RiskKey{name, kind, min, max, runtime, decimals, unit, help, &get_member<Member, Scale>,
                 &set_member<Member, Scale>};
}
}  // namespace detail

// In the order the report shows them.
inline constexpr std::array kRiskKeys{
    detail::row<&RiskLimits::max_order_quantity>("max_order_quantity", KeyKind::kInteger, 1, 999'999, true, "shares",
                                                 "largest quantity of one order"),
    detail::row<&RiskLimits::max_notional, 10'000>("max_notional_usd", KeyKind::kNumber, 0.01, 1e12, true, "USD",
                                                   "largest price x quantity of one order", 2),
    detail::row<&RiskLimits::price_band_bps>("price_band_bps", KeyKind::kInteger, 1, 100'000, true, "bps",
                                             "farthest an order's price may be from the reference price"),
    detail::row<&RiskLimits::max_position>("max_position", KeyKind::kInteger, 0, 1e9, true, "shares",
                                           "position per symbol, long or short, counting what could still fill"),
    detail::row<&RiskLimits::max_open_orders>("max_open_orders", KeyKind::kInteger, 1, 1e6, true, "orders",
                                              "working orders at once"),
    detail::row<&RiskLimits::max_orders_per_second>("max_orders_per_second", KeyKind::kNumber, 0.001, 1e9, true,
                                                    "orders/s", "order-rate token bucket: refill rate"),
    detail::row<&RiskLimits::order_burst>("order_burst", KeyKind::kInteger, 1, 1e6, true, "orders",
                                          "order-rate token bucket: depth"),
    detail::row<&RiskLimits::require_reference_price>("require_reference_price", KeyKind::kBoolean, 0, 1, false, "",
                                                      "refuse orders on a symbol with no reference price yet"),
    detail::row<&RiskLimits::price_collar_bps>("price_collar_bps", KeyKind::kInteger, 0, 100'000, true, "bps",
                                               "farthest a buy may be above the ask (a sell below the bid); 0 = off"),
    detail::row<&RiskLimits::reference_max_age_ms>("reference_max_age_ms", KeyKind::kInteger, 0, 86'400'000, true, "ms",
                                                   "refuse orders on a symbol with no market update for this long; 0 = off"),
    detail::row<&RiskLimits::refuse_halted_symbols>("refuse_halted_symbols", KeyKind::kBoolean, 0, 1, true, "",
                                                    "refuse orders on a symbol the feed says is halted or paused"),
    detail::row<&RiskLimits::fat_finger_multiple>("fat_finger_multiple", KeyKind::kNumber, 0, 1e6, true, "x",
                                                  "largest order as a multiple of the symbol's average trade size; 0 = off"),
    detail::row<&RiskLimits::max_symbol_notional, 10'000>("max_symbol_notional_usd", KeyKind::kNumber, 0, 1e12, true,
                                                          "USD", "exposure per symbol (position + working + order) "
                                                          "x price; 0 = off", 2),
    detail::row<&RiskLimits::duplicate_window_ms>("duplicate_window_ms", KeyKind::kInteger, 0, 3'600'000, true, "ms",
                                                  "refuse a repeat of the same order (strategy, symbol, side, price, "
                                                  "quantity) within this; 0 = off"),
    detail::row<&RiskLimits::max_messages_per_second>("max_messages_per_second", KeyKind::kNumber, 0, 1e9, true,
                                                      "messages/s", "message bucket toward the venue, cancels "
                                                      "included: refill rate; 0 = off"),
    detail::row<&RiskLimits::message_burst>("message_burst", KeyKind::kInteger, 1, 1e6, true, "messages",
                                            "message bucket toward the venue: depth"),
    detail::row<&RiskLimits::max_net_position>("max_net_position", KeyKind::kInteger, 0, 1e12, true, "shares",
                                               "net position across symbols, long or short, counting what could "
                                               "still fill; 0 = off"),
    detail::row<&RiskLimits::max_gross_position>("max_gross_position", KeyKind::kInteger, 0, 1e12, true, "shares",
                                                 "gross position across symbols, counting what could still fill; "
                                                 "0 = off"),
    detail::row<&RiskLimits::max_gross_notional, 10'000>("max_gross_notional_usd", KeyKind::kNumber, 0, 1e12, true,
                                                         "USD", "gross exposure across symbols at each symbol's last "
                                                         "order or fill price; 0 = off", 2),
    detail::row<&RiskLimits::max_daily_loss, 10'000>("max_daily_loss_usd", KeyKind::kNumber, 0, 1e12, true, "USD",
                                                     "the day's P&L (realized + unrealized at the mid) at or below "
                                                     "minus this trips the circuit breaker; 0 = off", 2),
    detail::row<&RiskLimits::max_drawdown, 10'000>("max_drawdown_usd", KeyKind::kNumber, 0, 1e12, true, "USD",
                                                   "the day's P&L this far below its peak trips the circuit "
                                                   "breaker; 0 = off", 2),
    detail::row<&RiskLimits::max_drawdown_pct>("max_drawdown_pct", KeyKind::kNumber, 0, 100, true, "%",
                                               "the day's P&L this percent of (account_equity_usd + peak) below "
                                               "its peak trips the circuit breaker; 0 = off"),
    detail::row<&RiskLimits::account_equity, 10'000>("account_equity_usd", KeyKind::kNumber, 0, 1e12, true, "USD",
                                                     "capital at the day's start (what max_drawdown_pct is a "
                                                     "percent of); 0 = the percent trigger off", 2),
    detail::row<&RiskLimits::storm_vol_bps>("storm_vol_bps", KeyKind::kNumber, 0, 1e6, true, "bps",
                                            "Storm Guard: realized volatility of a symbol's mid over storm_window_ms "
                                            "for STORM (WARN at half); 0 = off"),
    detail::row<&RiskLimits::storm_window_ms>("storm_window_ms", KeyKind::kInteger, 20, 1'280, true, "ms",
                                              "Storm Guard: the volatility window (sampled every 10 ms)"),
    detail::row<&RiskLimits::storm_spread_bps>("storm_spread_bps", KeyKind::kNumber, 0, 1e6, true, "bps",
                                               "Storm Guard: a symbol's spread for STORM (WARN at half); 0 = off"),
    detail::row<&RiskLimits::storm_feed_gap_ms>("storm_feed_gap_ms", KeyKind::kInteger, 0, 3'600'000, true, "ms",
                                                "Storm Guard: a feed gap or snapshot recovery open this long for STORM "
                                                "(WARN at half); 0 = off"),
    detail::row<&RiskLimits::storm_ack_timeout_ms>("storm_ack_timeout_ms", KeyKind::kInteger, 0, 3'600'000, true, "ms",
                                                   "Storm Guard: an order unacknowledged this long, or the session "
                                                   "down, for STORM (WARN at half); 0 = off"),
    detail::row<&RiskLimits::storm_loss_per_minute, 10'000>("storm_loss_per_minute_usd", KeyKind::kNumber, 0, 1e12,
                                                            true, "USD", "Storm Guard: the day's P&L falling this much "
                                                            "within a minute for STORM (WARN at half); 0 = off", 2),
    detail::row<&RiskLimits::storm_halt_after_ms>("storm_halt_after_ms", KeyKind::kInteger, 0, 86'400'000, true, "ms",
                                                  "Storm Guard: STORM held this long becomes HALT (until hftctl risk "
                                                  "reset); 0 = never"),
    detail::row<&RiskLimits::storm_min_dwell_ms>("storm_min_dwell_ms", KeyKind::kInteger, 0, 3'600'000, true, "ms",
                                                 "Storm Guard: least time in a state before stepping down"),
    detail::row<&RiskLimits::storm_warn_widen>("storm_warn_widen", KeyKind::kNumber, 1, 100, true, "x",
                                               "Storm Guard WARN: the market maker's half-spread times this"),
    detail::row<&RiskLimits::storm_warn_size>("storm_warn_size", KeyKind::kNumber, 0, 1, true, "x",
                                              "Storm Guard WARN: the market maker's quote size times this"),
    detail::row<&RiskLimits::price_collar_ticks>("price_collar_ticks", KeyKind::kInteger, 0, 1e9, true, "ticks",
                                                 "farthest a buy may be above the ask (a sell below the bid) in "
                                                 "ticks of 1/10,000 $; 0 = off"),
    detail::row<&RiskLimits::max_buying_power, 10'000>("max_buying_power_usd", KeyKind::kNumber, 0, 1e12, true, "USD",
                                                       "long positions + working buys across symbols at each symbol's "
                                                       "last order or fill price; 0 = off", 2),
    detail::row<&RiskLimits::storm_reject_rate_pct>("storm_reject_rate_pct", KeyKind::kNumber, 0, 100, true, "%",
                                                    "Storm Guard: the venue's order rejects as a percent of its answers "
                                                    "over storm_entry_window_ms (at least 10) for STORM (WARN at half); "
                                                    "0 = off"),
    detail::row<&RiskLimits::storm_ack_p99_ms>("storm_ack_p99_ms", KeyKind::kNumber, 0, 3'600'000, true, "ms",
                                               "Storm Guard: the p99 order acknowledgement latency over "
                                               "storm_entry_window_ms for STORM (WARN at half); 0 = off"),
    detail::row<&RiskLimits::refuse_restricted_short_sales>("refuse_restricted_short_sales", KeyKind::kBoolean, 0, 1,
                                                            true, "", "Reg SHO (ITCH 'Y' in effect): refuse a short "
                                                            "sale at or below the national best bid"),
    detail::row<&RiskLimits::storm_entry_window_ms>("storm_entry_window_ms", KeyKind::kInteger, 100, 3'600'000, true,
                                                    "ms", "Storm Guard: the order-entry health window (reject rate, "
                                                    "ack p99; the last 256 answers at most)"),
};

// The row named `name` (without "risk."), or null.
const RiskKey* find_risk_key(std::string_view name) noexcept;

// A value as the report and `set` show it: integers exact, booleans yes/no, numbers with the
// key's decimals.
std::string format_risk_value(KeyKind kind, std::uint8_t decimals, double value);
inline std::string format_risk_value(const RiskKey& k, double value) { return format_risk_value(k.kind, k.decimals, value); }
// "[1, 999999]"
std::string risk_range_text(const RiskKey& k);
// "risk.max_order_quantity, risk.max_notional_usd, ..." (only the run-time keys when asked).
std::string risk_key_list(bool runtime_only);

// Reads the [risk] section into `limits` (keys absent keep their value); unknown keys and values
// out of range are core::ConfigError naming the file, line and key.
void parse_risk_section(const core::ConfigSection& section, RiskLimits& limits);

// `hftctl set risk.KEY=VALUE` on a copy of the limits: on success `limits` holds the new value and
// the message is "risk.KEY: old -> new"; otherwise `limits` is unchanged and the message says why.
struct SetOutcome {
  bool ok = false;
  std::string message;
};
// `risk.restricted_symbols` is a list, not a number: "A,B" sets it, "+A" adds, "-A" removes, "none"
// empties it (validated: 1 to 8 characters A-Z, 0-9, '.', '-'; at most RiskLimits::kMaxRestricted).
// Per-strategy limits (issue 11): `strategy.NAME.risk_max_position` (also `risk_max_notional_usd`,
// `risk_max_orders_per_second`, `risk_max_loss_usd`, the [[strategies]] keys; the `risk_` prefix may
// be left out), NAME one of `strategies` (the configuration's order: index i is RiskLimits::strategy[i]).
// 0 switches the check off; the message is "strategy.NAME.KEY: old -> new".
SetOutcome set_risk_key(RiskLimits& limits, std::string_view key, std::string_view value,
                        std::span<const std::string> strategies = {});
// The per-strategy limit keys, without "risk_" ("max_position", ...), as the limit-change events name
// them; the value of limit `field` of `l` in the key's unit (USD for the notional and loss), or NaN.
inline constexpr std::array<std::string_view, 4> kStrategyLimitFields{"max_position", "max_notional_usd",
                                                                      "max_orders_per_second", "max_loss_usd"};
double strategy_limit_value(const StrategyLimits& l, std::string_view field) noexcept;
// The restricted list as text ("AAPL,MSFT"; "none").
std::string restricted_text(const RiskLimits& limits);

}  // namespace hft::risk
