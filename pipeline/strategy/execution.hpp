#pragma once
// `execution`: works parent orders (TWAP and VWAP) in child orders.
//
// A parent order: symbol, side, quantity, start and duration, optional limit price and maximum
// participation of the market's volume. Its schedule is the fraction of the quantity due by each
// moment: linear in time (TWAP), or the cumulative volume of an intraday profile over the window
// (VWAP with `profile`, a CSV made from history: `time,volume` rows, one per bin, time HH:MM or
// HH:MM:SS of the bin's start), or without a profile a flat schedule whose next slice is scaled by
// the market volume of the last slice against the window's average so far (clamped to 0.5..2).
// Every `slice_s` a slice goal is set: the schedule at the end of the next slice, moved by up to
// ± `randomize` of a slice's quantity (a deterministic xorshift stream per parent). Within the
// slice one child works at a time: passive at the near touch (the bid for a buy), replaced as the
// touch moves; when the fills are behind the schedule by more than `behind_slices` slices' worth,
// or in the last slice, the child crosses the spread (an IOC at the far touch). A buy never pays
// above the limit, a sell never sells below it; the child never takes the parent's fills above
// `max_participation` times the market volume printed since the start. At the end time the
// child is canceled and the parent is done (filled) or expired (with the shortfall reported).
//
// Each parent reports the arrival price (mid at its start), average fill price, implementation
// shortfall in bps (signed: positive = cost), the market's VWAP over its window (trade prints) and
// the slippage against it, and its participation so far.
//
// Parents come from the config (`parents = [...]`, started `start_s` after their symbol's book is
// live) or at run time through start() (hftctl algo start, through the strategy stage's command
// ring). Everything runs in on_timer/on_trade/on_fill/on_order on the strategy thread; no
// allocation after construction (parents live in a fixed array; profiles are read at start-up).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

enum class Algo : std::uint8_t { kTwap, kVwap };
enum class ParentState : std::uint8_t { kPending, kWorking, kDone, kCanceled, kExpired };
[[nodiscard]] constexpr const char* to_string(ParentState s) noexcept {
  switch (s) {
    case ParentState::kPending: return "pending";
    case ParentState::kWorking: return "working";
    case ParentState::kDone: return "done";
    case ParentState::kCanceled: return "canceled";
    case ParentState::kExpired: return "expired";
  }
  return "?";
}

// A parent order as given (config or hftctl algo start).
struct ParentSpec {
  Algo algo = Algo::kTwap;
  std::array<char, 8> symbol{};   // space- or NUL-padded
  Side side = Side::kBuy;
  Quantity quantity = 0;
  std::uint64_t start_ns = 0;     // on the on_timer clock (monotonic ns); 0: at once
  std::uint64_t duration_ns = 0;
  Price limit = 0;                // 0: none
  double max_participation = 0;   // 0: none
  std::uint32_t start_tod_s = 0;  // time of day of the start (VWAP profile), seconds since midnight
};

struct Parent {
  std::uint32_t id = 0;           // 0: slot free
  ParentSpec spec;
  ParentState state = ParentState::kPending;
  Locate locate = 0;
  std::uint64_t start_ns = 0, end_ns = 0;
  Quantity filled = 0;
  std::int64_t notional = 0;      // sum of fill price x shares, 1/10,000 $
  Price arrival = 0;              // mid at the start
  std::uint64_t market_volume = 0;  // shares printed on the symbol since the start (ours included)
  double market_notional = 0;
  std::uint64_t child_id = 0;
  bool child_crossing = false;
  std::uint32_t children = 0, crosses = 0;
  std::uint64_t next_slice_ns = 0;
  double slice_goal = 0;          // shares due by the end of the current slice
  double schedule_now = 0;        // shares due at the current slice's start
  std::uint64_t slice_start_volume = 0, last_slice_volume = 0, slices = 0;
  double flat_adjusted = 0;       // flat VWAP: the volume-adjusted schedule so far
  std::uint64_t rng = 0;

  [[nodiscard]] Quantity remaining() const noexcept { return filled < spec.quantity ? spec.quantity - filled : 0; }
  [[nodiscard]] double avg_price() const noexcept { return filled != 0 ? static_cast<double>(notional) / filled : 0.0; }
  [[nodiscard]] double sign() const noexcept { return spec.side == Side::kBuy ? 1.0 : -1.0; }
  // Implementation shortfall against the arrival mid, bps (positive: paid more / sold for less).
  [[nodiscard]] double shortfall_bps() const noexcept {
    return filled != 0 && arrival > 0 ? sign() * (avg_price() - arrival) / arrival * 1e4 : 0.0;
  }
  [[nodiscard]] double market_vwap() const noexcept {
    return market_volume != 0 ? market_notional / static_cast<double>(market_volume) : 0.0;
  }
  [[nodiscard]] double slippage_bps() const noexcept {
    const double v = market_vwap();
    return filled != 0 && v > 0 ? sign() * (avg_price() - v) / v * 1e4 : 0.0;
  }
  [[nodiscard]] double participation() const noexcept {
    return market_volume != 0 ? static_cast<double>(filled) / static_cast<double>(market_volume) : 0.0;
  }
  [[nodiscard]] bool active() const noexcept { return state == ParentState::kPending || state == ParentState::kWorking; }
};

struct ExecParentConfig {
  Algo algo = Algo::kTwap;
  std::string symbol;
  Side side = Side::kBuy;
  Quantity quantity = 0;
  double start_s = 0;       // after the symbol's book is live
  double duration_s = 60;
  Price limit_price = 0;    // 1/10,000 $; 0 none
  double max_participation = 0;

  static constexpr auto fields() {
    using O = ExecParentConfig;
    return std::tuple{
        param::choice("algo", &O::algo, std::pair{"twap", Algo::kTwap}, std::pair{"vwap", Algo::kVwap}),
        param::symbol("symbol", &O::symbol, true),
        param::choice("side", &O::side, std::pair{"buy", Side::kBuy}, std::pair{"sell", Side::kSell}),
        param::integer("quantity", &O::quantity, 1, 1'000'000'000),
        param::number("start_s", &O::start_s, 0, 86'400),
        param::number("duration_s", &O::duration_s, 0.01, 86'400),
        param::integer("limit_price", &O::limit_price, 0, 2'000'000'000),
        param::number("max_participation", &O::max_participation, 0, 1),
    };
  }
};

// A VWAP volume profile: bins of the day and their volume.
struct VolumeProfile {
  std::vector<std::uint32_t> start_s;  // bin starts, seconds since midnight, increasing
  std::vector<double> volume;
  [[nodiscard]] bool empty() const noexcept { return start_s.empty(); }
  // Profile volume from midnight to `t` (seconds of the day), bins pro rata.
  [[nodiscard]] double cumulative(double t) const noexcept {
    double sum = 0;
    for (std::size_t i = 0; i < start_s.size(); ++i) {
      const double b0 = start_s[i];
      const double b1 = i + 1 < start_s.size() ? start_s[i + 1]
                                               : b0 + (i > 0 ? b0 - start_s[i - 1] : 60.0);
      if (t <= b0) break;
      sum += volume[i] * (t >= b1 ? 1.0 : (t - b0) / (b1 - b0));
    }
    return sum;
  }
  // Reads `time,volume` rows (a header row, comment lines (#) and blank lines skipped). Throws
  // std::runtime_error naming the file and line on anything else (tests/fuzz/volume_profile_fuzz.cpp).
  static VolumeProfile load(const std::string& path);
  static VolumeProfile parse(std::string_view text, const std::string& name);
};

inline VolumeProfile VolumeProfile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open profile " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(text, path);
}

inline VolumeProfile VolumeProfile::parse(std::string_view text, const std::string& path) {
  VolumeProfile p;
  std::size_t pos = 0;
  for (int n = 1; pos < text.size() || n == 1; ++n) {
    if (pos >= text.size()) break;
    const std::size_t nl = text.find('\n', pos);
    std::string line(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || (n == 1 && line.rfind("time", 0) == 0)) continue;
    const auto bad = [&] {
      std::string shown = line.substr(0, 80);
      for (char& c : shown)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
      return std::runtime_error(path + ":" + std::to_string(n) + ": expected \"HH:MM[:SS],volume\", got \"" + shown + "\"");
    };
    const auto comma = line.find(',');
    if (comma == std::string::npos || line.find('\0') != std::string::npos) throw bad();
    unsigned h = 0, m = 0, s = 0;
    char extra = 0;
    const std::string t = line.substr(0, comma);
    const int got = std::sscanf(t.c_str(), "%2u:%2u:%2u%c", &h, &m, &s, &extra);
    const std::string vtext = line.substr(comma + 1);
    char* end = nullptr;
    double v = std::strtod(vtext.c_str(), &end);
    while (end != nullptr && (*end == ' ' || *end == '\t')) ++end;
    if (end == vtext.c_str() || end == nullptr || *end != '\0') v = -1;
    if ((got != 2 && got != 3) || h > 23 || m > 59 || s > 59 || !(v >= 0) || !std::isfinite(v) || v > 1e15) throw bad();
    const std::uint32_t at = h * 3600 + m * 60 + s;
    if (!p.start_s.empty() && at <= p.start_s.back())
      throw std::runtime_error(path + ":" + std::to_string(n) + ": bins must be in increasing time order");
    if (p.start_s.size() >= 86'400) throw std::runtime_error(path + ": more bins than seconds in a day");
    p.start_s.push_back(at);
    p.volume.push_back(v);
  }
  if (p.start_s.empty()) throw std::runtime_error("profile " + path + " has no bins");
  return p;
}

struct ExecutionParams {
  std::vector<std::string> symbols;
  double slice_s = 1.0;
  double randomize = 0.2;        // of a slice's quantity, either way
  double behind_slices = 1.0;    // cross when behind the schedule by more than this many slices
  std::int32_t collar_bps = 50;  // (IOC crossing children are priced at the far touch)
  std::uint64_t seed = 1;
  std::string profile;           // VWAP profile CSV; empty: flat adjusted by live volume
  std::vector<ExecParentConfig> parents;
  VolumeProfile loaded;          // read by finish()

  static constexpr auto fields() {
    using P = ExecutionParams;
    return std::tuple{
        param::symbols("symbols", &P::symbols, "an execution strategy needs the symbols it may work parent orders on"),
        param::number("slice_s", &P::slice_s, 0.01, 3600),
        param::number("randomize", &P::randomize, 0, 1),
        param::number("behind_slices", &P::behind_slices, 0, 1000),
        param::integer("collar_bps", &P::collar_bps, 0, 10'000),
        param::integer("seed", &P::seed, 0, INT64_MAX),
        param::tables("parents", &P::parents, 0, ""),
    };
  }
  void finish(const core::ConfigSection& s) {
    profile = s.string("profile", "");
    if (!profile.empty()) {
      try {
        loaded = VolumeProfile::load(profile);
      } catch (const std::exception& e) {
        s.fail("profile", e.what());
      }
    }
    for (const auto& p : parents)
      if (std::find(symbols.begin(), symbols.end(), p.symbol) == symbols.end())
        s.fail("parents", "parent order on " + p.symbol + ", which is not in symbols");
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return symbols; }
};

class Execution {
 public:
  static constexpr std::size_t kMaxParents = 32;

  explicit Execution(ExecutionParams p) : p_(std::move(p)) {
    config_started_.assign(p_.parents.size(), false);
    live_since_.assign(p_.parents.size(), 0);
  }
  [[nodiscard]] const ExecutionParams& params() const noexcept { return p_; }
  [[nodiscard]] std::span<const Parent> parents() const noexcept { return parents_; }
  [[nodiscard]] const Parent* parent(std::uint32_t id) const noexcept {
    for (const Parent& q : parents_)
      if (q.id == id && id != 0) return &q;
    return nullptr;
  }

  // Starts a parent order; its id, or 0 when every slot holds an active parent or the quantity
  // or duration is 0. A finished parent's slot is reused (oldest first) once all are taken.
  // Does this strategy work parent orders on `symbol` (one of its symbols)?
  [[nodiscard]] bool trades(const std::array<char, 8>& symbol) const noexcept {
    for (const auto& s : p_.symbols) {
      std::array<char, 8> a{};
      std::memcpy(a.data(), s.data(), std::min<std::size_t>(8, s.size()));
      bool same = true;
      for (std::size_t i = 0; i < 8; ++i)
        same = same && (a[i] == '\0' ? ' ' : a[i]) == (symbol[i] == '\0' ? ' ' : symbol[i]);
      if (same) return true;
    }
    return false;
  }
  // hftctl strategy set (pipeline/strategy/params.hpp param::set).
  ExecutionParams& mutable_params() noexcept { return p_; }
  // `id`: the parent's id (the strategy stage numbers the operator's parents); 0: the next of
  // this strategy's own (config parents, from 1,000,001).
  std::uint32_t start(const ParentSpec& spec, std::uint32_t id = 0) noexcept {
    if (spec.quantity == 0 || spec.duration_ns == 0) return 0;
    Parent* slot = nullptr;
    for (Parent& q : parents_)
      if (q.id == 0) {
        slot = &q;
        break;
      }
    if (slot == nullptr)
      for (Parent& q : parents_)
        if (!q.active() && (slot == nullptr || q.id < slot->id)) slot = &q;
    if (slot == nullptr) return 0;
    *slot = Parent{};
    slot->id = id != 0 ? id : ++next_id_;
    slot->spec = spec;
    slot->rng = (p_.seed + 0x9E3779B97F4A7C15ull * slot->id) | 1;
    return slot->id;
  }
  // Cancels a parent: its child is canceled, the parent is final. False if unknown or final.
  bool cancel(Context& ctx, std::uint32_t id) noexcept {
    for (Parent& q : parents_) {
      if (q.id != id || id == 0 || !q.active()) continue;
      if (q.child_id != 0) ctx.cancel(q.child_id);
      q.state = ParentState::kCanceled;
      return true;
    }
    return false;
  }

  void on_timer(Context& ctx, std::uint64_t now) noexcept {
    start_configured(ctx, now);
    for (Parent& q : parents_)
      if (q.id != 0 && q.active()) drive(ctx, q, now);
  }

  void on_trade(Context&, const TradePrint& t) noexcept {
    for (Parent& q : parents_) {
      if (q.id == 0 || q.state != ParentState::kWorking || q.locate != t.locate) continue;
      q.market_volume += t.shares;
      q.market_notional += static_cast<double>(t.price) * t.shares;
    }
  }

  void on_fill(Context&, const Fill& f) noexcept {
    if (f.flatten) return;
    for (Parent& q : parents_) {
      if (q.id == 0 || q.child_id != f.order_id) continue;
      q.filled += f.quantity;
      q.notional += static_cast<std::int64_t>(f.price) * f.quantity;
      if (f.leaves == 0) q.child_id = 0;
      return;
    }
  }

  void on_order(Context&, const OrderUpdate& u) noexcept {
    if (u.order != nullptr) return;  // still working
    for (Parent& q : parents_)
      if (q.id != 0 && q.child_id == u.order_id) q.child_id = 0;
  }

 private:
  static std::uint64_t next_random(std::uint64_t& s) noexcept {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }

  static bool symbol_is(const BookView& b, const std::array<char, 8>& sym) noexcept {
    for (std::size_t i = 0; i < 8; ++i) {
      const char a = b.symbol[i] == '\0' ? ' ' : b.symbol[i];
      const char c = sym[i] == '\0' ? ' ' : sym[i];
      if (a != c) return false;
    }
    return true;
  }
  static const BookView* find(const Context& ctx, const std::array<char, 8>& sym) noexcept {
    for (Locate l : ctx.symbols())
      if (symbol_is(ctx.book(l), sym)) return &ctx.book(l);
    return nullptr;
  }
  static bool live(const BookView* b) noexcept { return b != nullptr && !b->stale && b->two_sided() && !b->halted(); }

  void start_configured(Context& ctx, std::uint64_t now) noexcept {
    for (std::size_t i = 0; i < p_.parents.size(); ++i) {
      if (config_started_[i]) continue;
      const ExecParentConfig& c = p_.parents[i];
      std::array<char, 8> sym{};
      std::memcpy(sym.data(), c.symbol.data(), std::min<std::size_t>(8, c.symbol.size()));
      if (!live(find(ctx, sym))) continue;
      if (live_since_[i] == 0) live_since_[i] = now;
      ParentSpec s;
      s.algo = c.algo;
      s.symbol = sym;
      s.side = c.side;
      s.quantity = c.quantity;
      s.start_ns = live_since_[i] + static_cast<std::uint64_t>(c.start_s * 1e9);
      s.duration_ns = static_cast<std::uint64_t>(c.duration_s * 1e9);
      s.limit = c.limit_price;
      s.max_participation = c.max_participation;
      s.start_tod_s = static_cast<std::uint32_t>(ctx.now_ns() / 1'000'000'000ull + static_cast<std::uint64_t>(c.start_s));
      config_started_[i] = start(s) != 0;
    }
  }

  // Fraction of the quantity due at `frac` of the window (the profile's, or linear).
  [[nodiscard]] double schedule(const Parent& q, double frac) const noexcept {
    frac = std::clamp(frac, 0.0, 1.0);
    if (q.spec.algo != Algo::kVwap || p_.loaded.empty()) return frac;
    const double t0 = q.spec.start_tod_s, d = static_cast<double>(q.spec.duration_ns) * 1e-9;
    const double base = p_.loaded.cumulative(t0);
    const double whole = p_.loaded.cumulative(t0 + d) - base;
    if (whole <= 0) return frac;  // no profile volume in the window: flat
    return (p_.loaded.cumulative(t0 + frac * d) - base) / whole;
  }

  void finish(Context& ctx, Parent& q, ParentState s) noexcept {
    if (q.child_id != 0) {
      const WorkingOrder* o = ctx.order(q.child_id);
      if (o != nullptr && o->state == OrderState::kWorking) ctx.cancel(q.child_id);
    }
    q.state = s;
  }

  void drive(Context& ctx, Parent& q, std::uint64_t now) noexcept {
    if (q.state == ParentState::kPending) {
      if (now < q.spec.start_ns) return;
      const BookView* b = find(ctx, q.spec.symbol);
      if (!live(b)) return;  // starts once its book is live
      q.locate = b->locate;
      q.arrival = (b->best_bid() + b->best_ask()) / 2;
      q.start_ns = now;
      q.end_ns = now + q.spec.duration_ns;
      q.next_slice_ns = now;
      q.state = ParentState::kWorking;
    }
    if (q.filled >= q.spec.quantity) return finish(ctx, q, ParentState::kDone);
    if (now >= q.end_ns) return finish(ctx, q, ParentState::kExpired);
    const BookView& b = ctx.book(q.locate);
    const double qty = q.spec.quantity;
    const auto slice_ns = static_cast<std::uint64_t>(p_.slice_s * 1e9);
    const double d = static_cast<double>(q.spec.duration_ns);
    const double slice_qty = qty * std::min(1.0, static_cast<double>(slice_ns) / d);
    if (now >= q.next_slice_ns) {  // a new slice: its goal
      const double f_now = schedule(q, static_cast<double>(now - q.start_ns) / d);
      const double f_next = schedule(q, static_cast<double>(now + slice_ns - q.start_ns) / d);
      q.last_slice_volume = q.market_volume - q.slice_start_volume;
      q.slice_start_volume = q.market_volume;
      double due = qty * f_next;
      if (q.spec.algo == Algo::kVwap && p_.loaded.empty()) {
        // Flat, paced by the live volume: the next increment scaled by the last slice's market
        // volume against the average slice so far.
        double scale = 1.0;
        if (q.slices > 0 && q.market_volume > 0) {
          const double avg = static_cast<double>(q.market_volume) / static_cast<double>(q.slices);
          scale = std::clamp(static_cast<double>(q.last_slice_volume) / avg, 0.5, 2.0);
        }
        q.flat_adjusted = std::min(qty, std::max(q.flat_adjusted, qty * f_now) + qty * (f_next - f_now) * scale);
        due = f_next >= 1.0 ? qty : q.flat_adjusted;
      }
      const double u = static_cast<double>(next_random(q.rng) >> 11) * 0x1.0p-53;  // [0, 1)
      const double jitter = f_next >= 1.0 ? 0.0 : (2 * u - 1) * p_.randomize * slice_qty;
      q.schedule_now = qty * f_now;
      q.slice_goal = std::clamp(due + jitter, static_cast<double>(q.filled), qty);
      q.next_slice_ns = now + slice_ns;
      ++q.slices;
    }
    if (!live(&b)) return;  // keep the child as it is; new decisions wait for a live book
    // Participation cap: fills (and the child's open shares) within max_participation x market volume.
    double room = qty - q.filled;
    if (q.spec.max_participation > 0)
      room = std::min(room, std::floor(q.spec.max_participation * static_cast<double>(q.market_volume)) - q.filled);
    const double want = std::min(std::floor(q.slice_goal) - q.filled, room);
    const bool last_slice = q.end_ns - now <= slice_ns;
    const bool behind = q.schedule_now - q.filled > p_.behind_slices * slice_qty || last_slice;
    const bool buy = q.spec.side == Side::kBuy;
    Price passive = buy ? b.best_bid() : b.best_ask();
    Price far = buy ? b.best_ask() : b.best_bid();
    const bool far_ok = q.spec.limit == 0 || (buy ? far <= q.spec.limit : far >= q.spec.limit);
    if (q.spec.limit != 0) passive = buy ? std::min(passive, q.spec.limit) : std::max(passive, q.spec.limit);
    const bool cross = behind && far_ok;

    const WorkingOrder* child = q.child_id != 0 ? ctx.order(q.child_id) : nullptr;
    if (child == nullptr) q.child_id = 0;
    if (want < 1) {
      if (child != nullptr && child->state == OrderState::kWorking) ctx.cancel(q.child_id);
      return;
    }
    const auto size = static_cast<Quantity>(want);
    if (child != nullptr) {
      if (child->state != OrderState::kWorking) return;  // an answer is pending
      if (q.child_crossing) return;                       // an IOC: its answer is on the way
      if (cross) {
        ctx.cancel(q.child_id);  // the passive child makes way for a crossing one
        return;
      }
      if (child->price != passive || child->leaves > size) ctx.replace(q.child_id, passive, std::min(size, child->leaves));
      return;
    }
    q.child_crossing = cross;
    q.child_id = cross ? ctx.ioc(q.locate, q.spec.side, far, size)
                       : (buy ? ctx.buy(q.locate, passive, size) : ctx.sell(q.locate, passive, size));
    if (q.child_id != 0) {
      ++q.children;
      if (cross) ++q.crosses;
    }
  }

  ExecutionParams p_;
  std::array<Parent, kMaxParents> parents_{};
  std::uint32_t next_id_ = 1'000'000;
  std::vector<bool> config_started_;
  std::vector<std::uint64_t> live_since_;
};

}  // namespace hft::strategy
