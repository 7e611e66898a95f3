#pragma once
// The strategy types hftd knows: one line each in `Registry` below. Everything else derives from
// that list: the `type = "..."` names the config accepts (and lists in its error), the variant of
// parameter structs a parsed [[strategies]] table holds (AnyParams), the variant of strategies the
// strategy stage dispatches over with std::visit (AnyStrategy: static dispatch, no virtual call per
// message), and the construction of each strategy from its parameters.
//
// Adding a strategy: write its header (the class, its parameter struct with fields() and
// traded_symbols(); see pipeline/strategy/params.hpp and docs/strategy-sdk.md), include it here and
// add one Entry line.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "pipeline/strategy/cross_venue_arb.hpp"
#include "pipeline/strategy/execution.hpp"
#include "pipeline/strategy/manual.hpp"
#include "pipeline/strategy/market_maker.hpp"
#include "pipeline/strategy/momentum.hpp"
#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/probe.hpp"
#include "pipeline/strategy/scripted.hpp"
#include "pipeline/strategy/spread_capture.hpp"
#include "pipeline/strategy/stat_arb.hpp"

namespace hft::strategy {

// A string usable as a template argument (the type name of an Entry).
template <std::size_t N>
struct TypeName {
  char chars[N]{};
  constexpr TypeName(const char (&s)[N]) { std::copy_n(s, N, chars); }  // NOLINT: implicit on purpose
  [[nodiscard]] constexpr std::string_view view() const { return {chars, N - 1}; }
};

template <TypeName Name, class S, class P>
struct Entry {
  static constexpr std::string_view kType = Name.view();
  using Strategy = S;
  using Params = P;
  static_assert(std::is_constructible_v<S, P>, "a strategy is constructed from its parameter struct");
  static_assert(requires(const P& p) {
    { p.traded_symbols() } -> std::same_as<std::vector<std::string>>;
    P::fields();
  }, "a parameter struct declares fields() and traded_symbols() (pipeline/strategy/params.hpp)");
};

template <class... E>
struct TypeList {
  using AnyStrategy = std::variant<typename E::Strategy...>;
  using AnyParams = std::variant<typename E::Params...>;
};

// ---- the registry: one line per strategy type ------------------------------------------------
using Registry = TypeList<
    Entry<"probe", ProbeStrategy, ProbeParams>,
    Entry<"market_maker", MarketMaker, MarketMakerParams>,
    Entry<"scripted", ScriptedStrategy, ScriptedParams>,
    Entry<"spread_capture", SpreadCapture, SpreadCaptureParams>,
    Entry<"execution", Execution, ExecutionParams>,
    Entry<"momentum", Momentum, MomentumParams>,
    Entry<"stat_arb", StatArb, StatArbParams>,
    Entry<"manual", ManualOrders, ManualParams>,
    Entry<"cross_venue_arb", CrossVenueArb, CrossVenueArbParams>>;
// -----------------------------------------------------------------------------------------------

using AnyStrategy = Registry::AnyStrategy;
using AnyParams = Registry::AnyParams;

namespace detail {
template <class L>
struct Ops;
template <class... E>
struct Ops<TypeList<E...>> {
  static std::string names() {
    std::string s;
    const auto add = [&](std::string_view type) {
      if (!s.empty()) s.append(", ");
      s.append(1, '"').append(type).append(1, '"');
    };
    (add(E::kType), ...);
    return s;
  }
  static bool known(std::string_view type) { return ((type == E::kType) || ...); }
  static AnyParams parse(std::string_view type, const core::ConfigSection& s) {
    AnyParams out;
    const bool found = ((type == E::kType ? (out = read<typename E::Params>(s), true) : false) || ...);
    if (!found) s.fail("type", "expected one of " + names() + ", got \"" + std::string(type) + "\"");
    return out;
  }
  template <class P>
  static P read(const core::ConfigSection& s) {
    P p{};
    param::read(s, p);
    if constexpr (requires { p.finish(s); }) p.finish(s);
    return p;
  }
};
template <class P, class... E>
struct StrategyFor;
template <class P, class E, class... Rest>
struct StrategyFor<P, E, Rest...> {
  using type = std::conditional_t<std::is_same_v<P, typename E::Params>, typename E::Strategy,
                                  typename StrategyFor<P, Rest...>::type>;
};
template <class P>
struct StrategyFor<P> {
  using type = void;
};
template <class P, class L>
struct StrategyForList;
template <class P, class... E>
struct StrategyForList<P, TypeList<E...>> : StrategyFor<P, E...> {};
}  // namespace detail

// `"probe", "market_maker", ...`: for messages and docs.
inline std::string registered_types() { return detail::Ops<Registry>::names(); }
[[nodiscard]] inline bool is_registered(std::string_view type) { return detail::Ops<Registry>::known(type); }

// Reads the parameters of a `type` strategy from its [[strategies]] table (throws ConfigError
// naming the file, line and key). The caller reads `type` and `name` and rejects unknown keys.
inline AnyParams parse_params(std::string_view type, const core::ConfigSection& s) {
  return detail::Ops<Registry>::parse(type, s);
}

// The symbols a strategy trades (resolved to locates by the strategy stage).
inline std::vector<std::string> traded_symbols(const AnyParams& p) {
  return std::visit([](const auto& q) { return q.traded_symbols(); }, p);
}

// The microstructure features a [[strategies]] table declares (read through ctx.features(locate);
// docs/features.md): `features = ["micro_price", "ofi_1", ...]` (names of the dump's columns, or
// "seed" / "all") and `feature_params = ["vol_window=50", ...]` (hft-itch features' --param).
// Neither key: no features, no cost. An unknown name or a bad parameter throws ConfigError naming
// the file, line and key.
struct FeatureDeclaration {
  features::FeatureMask mask = 0;
  features::Params params;
};
inline FeatureDeclaration parse_features(const core::ConfigSection& s) {
  FeatureDeclaration d;
  for (const auto& name : s.strings("features")) {
    if (name == "seed" || name == "all") {
      d.mask |= features::parse_set(name);
      continue;
    }
    const auto f = features::feature_by_name(name);
    if (!f) {
      std::string known;
      for (std::size_t i = 0; i < features::kFeatureCount; ++i)
        known.append(i == 0 ? "" : ", ").append(features::feature_name(static_cast<features::Feature>(i)));
      s.fail("features", "unknown feature \"" + name + "\" (known: seed, all, " + known + ")");
    }
    d.mask |= features::bit(*f);
  }
  for (const auto& nv : s.strings("feature_params")) {
    try {
      d.params.set(nv);
    } catch (const std::invalid_argument& e) {
      s.fail("feature_params", e.what());
    }
  }
  try {
    d.params.validate();
  } catch (const std::invalid_argument& e) {
    s.fail("feature_params", e.what());
  }
  return d;
}

// The `type` name of a strategy (hftctl strategy list).
inline std::string_view type_name(const AnyStrategy& s) noexcept {
  return []<class... E>(TypeList<E...>*, std::size_t i) {
    constexpr std::string_view names[] = {E::kType...};
    return i < sizeof...(E) ? names[i] : std::string_view("?");
  }(static_cast<Registry*>(nullptr), s.index());
}

// Start-up: the strategy for a set of parameters.
inline AnyStrategy make_strategy(const AnyParams& p) {
  return std::visit(
      [](const auto& q) -> AnyStrategy {
        using P = std::decay_t<decltype(q)>;
        using S = typename detail::StrategyForList<P, Registry>::type;
        static_assert(!std::is_void_v<S>, "each parameter struct belongs to exactly one registry entry");
        return AnyStrategy(std::in_place_type<S>, q);
      },
      p);
}

}  // namespace hft::strategy
