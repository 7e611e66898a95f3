#include "pipeline/risk/keys.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>

#include <fmt/format.h>

#include "core/config.hpp"
#include "gateways/itch/messages.hpp"

namespace hft::risk {

const RiskKey* find_risk_key(std::string_view name) noexcept {
  for (const RiskKey& k : kRiskKeys)
    if (k.name == name) return &k;
  return nullptr;
}

std::string format_risk_value(KeyKind kind, std::uint8_t decimals, double value) {
  switch (kind) {
    case KeyKind::kBoolean: return value != 0 ? "yes" : "no";
    case KeyKind::kInteger: return fmt::format("{}", static_cast<std::int64_t>(value));
    case KeyKind::kNumber: break;
  }
  return decimals == kShortest ? fmt::format("{}", value) : fmt::format("{:.{}f}", value, decimals);
}

namespace {
std::string bound_text(double v) {
  // Whole numbers below ten million in full (999999), larger ones as powers of ten (1e12).
  if (v == std::trunc(v) && std::fabs(v) < 1e7) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{:g}", v);
}
}  // namespace

std::string risk_range_text(const RiskKey& k) { return fmt::format("[{}, {}]", bound_text(k.min), bound_text(k.max)); }

std::string risk_key_list(bool runtime_only) {
  std::string s;
  for (const RiskKey& k : kRiskKeys) {
    if (runtime_only && !k.runtime) continue;
    s += fmt::format("{}risk.{}", s.empty() ? "" : ", ", k.name);
  }
  return s;
}

void parse_risk_section(const core::ConfigSection& r, RiskLimits& limits) {
  for (const RiskKey& k : kRiskKeys) {
    switch (k.kind) {
      case KeyKind::kInteger:
        k.set(limits, static_cast<double>(r.integer(k.name, static_cast<std::int64_t>(k.get(limits)),
                                                    static_cast<std::int64_t>(k.min), static_cast<std::int64_t>(k.max))));
        break;
      case KeyKind::kNumber: k.set(limits, r.number(k.name, k.get(limits), k.min, k.max)); break;
      case KeyKind::kBoolean: k.set(limits, r.boolean(k.name, k.get(limits) != 0) ? 1.0 : 0.0); break;
    }
  }
  const std::vector<std::string> restricted = r.strings("restricted_symbols");
  if (restricted.size() > RiskLimits::kMaxRestricted)
    r.fail("restricted_symbols", fmt::format("{} symbols, at most {}", restricted.size(), RiskLimits::kMaxRestricted));
  limits.restricted_count = 0;
  for (const std::string& name : restricted) {
    if (name.empty() || name.size() > 8)
      r.fail("restricted_symbols", fmt::format("\"{}\" is not a symbol of 1 to 8 characters", name));
    limits.restricted[limits.restricted_count++] = itch::Symbol::from(name).key();
  }
  r.reject_unknown_keys();
}

std::string restricted_text(const RiskLimits& limits) {
  std::string s;
  for (std::uint32_t i = 0; i < limits.restricted_count; ++i) {
    itch::Symbol sym;
    std::memcpy(sym.chars.data(), &limits.restricted[i], sizeof sym.chars);
    s += fmt::format("{}{}", s.empty() ? "" : ",", sym.view());
  }
  return s.empty() ? "none" : s;
}

namespace {
// `hftctl set risk.restricted_symbols=A,B` (the whole list; "none" empties it), `=+A` (adds),
// `=-A` (removes). Symbols of 1 to 8 characters, at most kMaxRestricted.
SetOutcome set_restricted(RiskLimits& limits, std::string_view key, std::string_view value) {
  RiskLimits next = limits;
  auto bad = [&](std::string_view why) {
    return SetOutcome{false, fmt::format("{}: \"{}\": {}", key, value, why)};
  };
  auto valid = [](std::string_view sym) {
    if (sym.empty() || sym.size() > 8) return false;
    for (const char c : sym)
      if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != ' ') return false;
    return true;
  };
  if (value.empty()) return bad("empty (\"none\" empties the list)");
  const char op = value.front();
  if (op == '+' || op == '-') {
    const std::string_view sym = value.substr(1);
    if (!valid(sym)) return bad("not a symbol of 1 to 8 characters A-Z, 0-9, '.', '-'");
    const std::uint64_t word = itch::Symbol::from(sym).key();
    const bool there = next.is_restricted(word);
    if (op == '+' && !there) {
      if (next.restricted_count == RiskLimits::kMaxRestricted)
        return bad(fmt::format("the list is full ({} symbols)", RiskLimits::kMaxRestricted));
      next.restricted[next.restricted_count++] = word;
    } else if (op == '-' && there) {
      std::uint32_t j = 0;
      for (std::uint32_t i = 0; i < next.restricted_count; ++i)
        if (next.restricted[i] != word) next.restricted[j++] = next.restricted[i];
      next.restricted_count = j;
      for (std::uint32_t i = j; i < RiskLimits::kMaxRestricted; ++i) next.restricted[i] = 0;
    }
  } else {
    next.restricted = {};
    next.restricted_count = 0;
    if (value != "none") {
      std::size_t from = 0;
      while (from <= value.size()) {
        const std::size_t comma = value.find(',', from);
        const std::string_view sym = value.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from);
        if (!valid(sym)) return bad(fmt::format("\"{}\" is not a symbol of 1 to 8 characters A-Z, 0-9, '.', '-'", sym));
        if (next.restricted_count == RiskLimits::kMaxRestricted)
          return bad(fmt::format("more than {} symbols", RiskLimits::kMaxRestricted));
        const std::uint64_t word = itch::Symbol::from(sym).key();
        if (!next.is_restricted(word)) next.restricted[next.restricted_count++] = word;
        if (comma == std::string_view::npos) break;
        from = comma + 1;
      }
    }
  }
  const std::string old_text = restricted_text(limits);
  limits = next;
  return {true, fmt::format("{}: {} -> {}", key, old_text, restricted_text(limits))};
}
}  // namespace

double strategy_limit_value(const StrategyLimits& l, std::string_view field) noexcept {
  if (field == "max_position") return static_cast<double>(l.max_position);
  if (field == "max_notional_usd") return static_cast<double>(l.max_notional) / 10'000.0;
  if (field == "max_orders_per_second") return l.max_orders_per_second;
  if (field == "max_loss_usd") return static_cast<double>(l.max_loss) / 10'000.0;
  return std::nan("");
}

namespace {
SetOutcome set_strategy_key(RiskLimits& limits, std::string_view key, std::string_view value,
                            std::span<const std::string> strategies) {
  const std::string_view rest = key.substr(9);  // after "strategy."
  const std::size_t dot = rest.rfind('.');
  const std::string_view name = dot == std::string_view::npos ? std::string_view{} : rest.substr(0, dot);
  std::string_view field = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
  if (field.starts_with("risk_")) field.remove_prefix(5);
  const bool known = std::find(kStrategyLimitFields.begin(), kStrategyLimitFields.end(), field) != kStrategyLimitFields.end();
  if (name.empty() || !known)
    return {false, fmt::format("unknown key \"{}\" (per-strategy: strategy.NAME.risk_max_position, "
                               "risk_max_notional_usd, risk_max_orders_per_second, risk_max_loss_usd)", key)};
  std::size_t index = strategies.size();
  for (std::size_t i = 0; i < strategies.size(); ++i)
    if (strategies[i] == name) index = i;
  if (index == strategies.size()) {
    std::string list;
    for (const std::string& s : strategies) list.append(list.empty() ? "" : ", ").append(s);
    return {false, fmt::format("{}: no strategy named \"{}\" (configured: {})", key, name, list.empty() ? "none" : list)};
  }
  if (index >= kMaxStrategyLimits)
    return {false, fmt::format("{}: per-strategy risk limits are for the first {} strategies only", key, kMaxStrategyLimits)};
  const bool integer = field == "max_position";
  const double max = integer ? 1e9 : field == "max_orders_per_second" ? 1e9 : 1e12;
  const std::string text(value);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= 0 && v <= max) || (integer && v != std::trunc(v)))
    return {false, fmt::format("{}: \"{}\" is not {} in [0, {}] (0 = off)", key, value,
                               integer ? "an integer" : "a number", max)};
  StrategyLimits& l = limits.strategy[index];
  const double old = strategy_limit_value(l, field);
  if (field == "max_position") l.max_position = static_cast<std::int64_t>(v);
  else if (field == "max_notional_usd") l.max_notional = static_cast<std::int64_t>(std::llround(v * 10'000));
  else if (field == "max_orders_per_second") l.max_orders_per_second = v;
  else l.max_loss = static_cast<std::int64_t>(std::llround(v * 10'000));
  return {true, fmt::format("strategy.{}.risk_{}: {} -> {}", name, field, old, strategy_limit_value(l, field))};
}
}  // namespace

SetOutcome set_risk_key(RiskLimits& limits, std::string_view key, std::string_view value,
                        std::span<const std::string> strategies) {
  if (key.starts_with("strategy.")) return set_strategy_key(limits, key, value, strategies);
  if (key == "risk.restricted_symbols") return set_restricted(limits, key, value);
  const std::string_view name = key.starts_with("risk.") ? key.substr(5) : std::string_view{};
  const RiskKey* k = name.empty() ? nullptr : find_risk_key(name);
  if (k == nullptr)
    return {false, fmt::format("unknown key \"{}\" (keys: {}, risk.restricted_symbols)", key, risk_key_list(true))};
  if (!k->runtime)
    return {false, fmt::format("{} cannot change while hftd runs: set it in [risk] and restart", key)};
  const std::string text(value);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= k->min && v <= k->max))
    return {false, fmt::format("{}: \"{}\" is not a number in {}", key, value, risk_range_text(*k))};
  const std::string old_text = format_risk_value(*k, k->get(limits));
  RiskLimits next = limits;
  k->set(next, v);
  // A number shows what was asked (max_notional_usd keeps 1/10,000 $, shown to the cent); an
  // integer what was stored (truncated).
  const std::string new_text = format_risk_value(*k, k->kind == KeyKind::kNumber ? v : k->get(next));
  limits = next;
  return {true, fmt::format("{}: {} -> {}", key, old_text, new_text)};
}

}  // namespace hft::risk
