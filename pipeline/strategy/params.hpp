#pragma once
// How a strategy's parameters are read from its [[strategies]] table: one declaration per
// parameter (key, member, range, message), written once beside the parameter struct as
//
//   struct MyParams {
//     Quantity size = 100;                       // the default is the struct's own initializer
//     static constexpr auto fields() {
//       return std::tuple{param::integer("size", &MyParams::size, 1, 1'000'000)};
//     }
//     std::vector<std::string> traded_symbols() const;  // what the strategy stage resolves
//   };
//
// read() walks the tuple at start-up: a missing key keeps the default, a present one is checked
// for type and range, and every error names the file, line and key (core/config.hpp). Cold code
// only: nothing here runs on the hot path.
#include <array>
#include <charconv>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/config.hpp"

namespace hft::strategy::param {

inline constexpr std::size_t kMaxSymbolLength = 8;  // ITCH 5.0 Stock: alpha, 8 characters
inline constexpr std::string_view kSymbolLength = "symbols are 1 to 8 characters";

template <class P, class T>
struct Integer {
  std::string_view key;
  T P::*member;
  std::int64_t min, max;
  void read(const core::ConfigSection& s, P& p) const {
    p.*member = static_cast<T>(s.integer(key, static_cast<std::int64_t>(p.*member), min, max));
  }
  std::string set(P& p, std::string_view v) const {
    std::int64_t x = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || end != v.data() + v.size()) return std::string(key) + ": \"" + std::string(v) + "\" is not an integer";
    if (x < min || x > max)
      return std::string(key) + ": " + std::to_string(x) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    p.*member = static_cast<T>(x);
    return {};
  }
};

template <class P>
struct Number {
  std::string_view key;
  double P::*member;
  double min, max;
  void read(const core::ConfigSection& s, P& p) const { p.*member = s.number(key, p.*member, min, max); }
  std::string set(P& p, std::string_view v) const {
    const std::string text(v);
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(x == x)) return std::string(key) + ": \"" + text + "\" is not a number";
    if (x < min || x > max)
      return std::string(key) + ": " + text + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    p.*member = x;
    return {};
  }
};

template <class P>
struct Flag {
  std::string_view key;
  bool P::*member;
  void read(const core::ConfigSection& s, P& p) const { p.*member = s.boolean(key, p.*member); }
  std::string set(P& p, std::string_view v) const {
    if (v != "true" && v != "false") return std::string(key) + ": expected true or false, got \"" + std::string(v) + "\"";
    p.*member = v == "true";
    return {};
  }
};

// One stock symbol; `required` or defaulted to the struct's value.
template <class P>
struct Symbol {
  std::string_view key;
  std::string P::*member;
  bool required;
  void read(const core::ConfigSection& s, P& p) const {
    p.*member = required ? s.require_string(key) : s.string(key, p.*member);
    if ((p.*member).empty() || (p.*member).size() > kMaxSymbolLength) s.fail(key, kSymbolLength);
  }
};

// A non-empty list of stock symbols; `if_empty` is the error when it is missing or empty.
template <class P>
struct Symbols {
  std::string_view key;
  std::vector<std::string> P::*member;
  std::string_view if_empty;
  void read(const core::ConfigSection& s, P& p) const {
    p.*member = s.strings(key);
    if ((p.*member).empty()) s.fail(key, if_empty);
    for (const auto& sym : p.*member)
      if (sym.empty() || sym.size() > kMaxSymbolLength) s.fail(key, kSymbolLength);
  }
};

// One of a fixed set of strings, mapped to a value.
template <class P, class T, std::size_t N>
struct Choice {
  std::string_view key;
  T P::*member;
  std::array<std::pair<std::string_view, T>, N> options;
  void read(const core::ConfigSection& s, P& p) const {
    if (!s.has(key)) {
      (void)s.string(key, "");  // a known key (listed in the unknown-key message); the default stays
      return;
    }
    const std::string text = s.require_string(key);
    std::string allowed;
    for (const auto& [name, value] : options) {
      if (name == text) {
        p.*member = value;
        return;
      }
      allowed += allowed.empty() ? "" : ", ";
      allowed += '"' + std::string(name) + '"';
    }
    s.fail(key, "expected one of " + allowed + ", got \"" + text + "\"");
  }
};

// An array of tables, each read with the element's own fields(); at least `min_count` of them.
template <class P, class E>
struct Tables {
  std::string_view key;
  std::vector<E> P::*member;
  std::size_t min_count;
  std::string_view too_few;
  void read(const core::ConfigSection& s, P& p) const;
};

template <class P, class T>
constexpr auto integer(std::string_view key, T P::*m, std::int64_t min, std::int64_t max) {
  return Integer<P, T>{key, m, min, max};
}
template <class P>
constexpr auto number(std::string_view key, double P::*m, double min, double max) {
  return Number<P>{key, m, min, max};
}
template <class P>
constexpr auto flag(std::string_view key, bool P::*m) {
  return Flag<P>{key, m};
}
template <class P>
constexpr auto symbol(std::string_view key, std::string P::*m, bool required = false) {
  return Symbol<P>{key, m, required};
}
template <class P>
constexpr auto symbols(std::string_view key, std::vector<std::string> P::*m, std::string_view if_empty) {
  return Symbols<P>{key, m, if_empty};
}
template <class P, class T, class... O>
constexpr auto choice(std::string_view key, T P::*m, O... options) {
  return Choice<P, T, sizeof...(O)>{key, m, {std::pair<std::string_view, T>(options)...}};
}
template <class P, class E>
constexpr auto tables(std::string_view key, std::vector<E> P::*m, std::size_t min_count, std::string_view too_few) {
  return Tables<P, E>{key, m, min_count, too_few};
}

// Reads every declared field of `p` from `s` (keys not declared are left for the caller's
// reject_unknown_keys()).
template <class P>
void read(const core::ConfigSection& s, P& p) {
  std::apply([&](const auto&... field) { (field.read(s, p), ...); }, P::fields());
}

// Changes one parameter of `p` at run time (hftctl strategy set NAME key=value), checked as the
// config checks it (type, range) and then by the struct's own validate() if it has one (a
// std::string: empty when fine). Returns "" when applied, else why not (naming the key and the
// refused value); `p` is unchanged then. Symbols, choices and tables are fixed at start-up.
template <class P>
std::string set(P& p, std::string_view key, std::string_view value) {
  P copy = p;
  std::string err;
  bool found = false;
  std::string known;
  std::apply(
      [&](const auto&... field) {
        const auto one = [&](const auto& f) {
          known += known.empty() ? "" : ", ";
          known += f.key;
          if (found || f.key != key) return;
          found = true;
          if constexpr (requires { f.set(copy, value); }) err = f.set(copy, value);
          else err = std::string(key) + " cannot be changed at run time";
        };
        (one(field), ...);
      },
      P::fields());
  if (!found) return "unknown parameter \"" + std::string(key) + "\" (known: " + known + ")";
  if (!err.empty()) return err;
  if constexpr (requires { copy.validate(); }) {
    err = copy.validate();
    if (!err.empty()) return err;
  }
  p = std::move(copy);
  return {};
}

template <class P, class E>
void Tables<P, E>::read(const core::ConfigSection& s, P& p) const {
  for (const auto& t : s.sections(key)) {
    E e{};
    param::read(t, e);
    t.reject_unknown_keys();
    (p.*member).push_back(std::move(e));
  }
  if ((p.*member).size() < min_count) s.fail(key, too_few);
}

}  // namespace hft::strategy::param
