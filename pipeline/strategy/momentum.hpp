#pragma once
// `momentum`: trend following on an EMA crossover and breakouts of the N-bar high/low, confirmed
// by volume, with a stop-loss, a take-profit and a time stop.
//
// Per symbol, on each book change (ITCH time): the mid feeds a fast and a slow EMA (time
// constants `fast_s`, `slow_s`) and `bar_s` bars (high, low, traded volume from the trade prints).
// Entry (flat, nothing working): long when the mid breaks above the highest high of the last
// `breakout_bars` completed bars while fast EMA > slow EMA and the current bar's volume is at least
// `volume_mult` times the average bar volume of those bars; short on the mirror image. Entries and
// exits are market orders (Context::market: an IOC at the touch collared by `collar_bps`) of
// `size` shares. Exit: the mid `stop_bps` against the entry price (stop-loss), `take_bps` in its
// favour (take-profit), or `max_hold_s` after entry (time stop).
// No allocation after construction: per-symbol state and bar rings are sized up front.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct MomentumParams {
  std::vector<std::string> symbols;
  Quantity size = 100;
  double fast_s = 5, slow_s = 30;  // EMA time constants
  double bar_s = 1.0;
  int breakout_bars = 20;
  double volume_mult = 1.5;
  double stop_bps = 20, take_bps = 40, max_hold_s = 60;
  std::int32_t collar_bps = 50;
  static constexpr int kMaxBars = 256;

  static constexpr auto fields() {
    using P = MomentumParams;
    return std::tuple{
        param::symbols("symbols", &P::symbols, "momentum needs at least one symbol"),
        param::integer("size", &P::size, 1, 1'000'000),
        param::number("fast_s", &P::fast_s, 1e-3, 1e6),
        param::number("slow_s", &P::slow_s, 1e-3, 1e6),
        param::number("bar_s", &P::bar_s, 1e-3, 3600),
        param::integer("breakout_bars", &P::breakout_bars, 2, kMaxBars - 1),
        param::number("volume_mult", &P::volume_mult, 0, 1e6),
        param::number("stop_bps", &P::stop_bps, 0.1, 1e5),
        param::number("take_bps", &P::take_bps, 0.1, 1e5),
        param::number("max_hold_s", &P::max_hold_s, 0.001, 1e6),
        param::integer("collar_bps", &P::collar_bps, 0, 10'000),
    };
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return symbols; }
  [[nodiscard]] std::string validate() const {
    if (fast_s >= slow_s) return "fast_s (" + std::to_string(fast_s) + ") must be below slow_s (" + std::to_string(slow_s) + ")";
    return {};
  }
};

class Momentum {
 public:
  explicit Momentum(MomentumParams p) : p_(std::move(p)) { states_.reserve(p_.symbols.size() + 1); }
  [[nodiscard]] const MomentumParams& params() const noexcept { return p_; }
  MomentumParams& mutable_params() noexcept { return p_; }
  enum class Exit : std::uint8_t { kNone, kStop, kTake, kTime };
  [[nodiscard]] Exit last_exit() const noexcept { return last_exit_; }
  // Its signal, published to the control file and journaled (hft_signals): the fast EMA's lead
  // over the slow one on the last symbol updated, in bps.
  [[nodiscard]] std::pair<const char*, double> signal() const noexcept { return {"trend_bps", trend_bps_}; }
  [[nodiscard]] std::uint64_t entries() const noexcept { return entries_; }

  void on_trade(Context&, const TradePrint& t) noexcept {
    if (State* s = find(t.locate)) s->bar_volume += t.shares;
  }

  void on_book(Context& ctx, const BookView& b) noexcept {
    if (!b.two_sided() || b.stale) return;
    State& s = state(b.locate);
    const double t = static_cast<double>(b.timestamp) * 1e-9;
    const double mid = b.mid();
    if (s.last_t == 0) {
      s.fast = s.slow = mid;
      s.bar_start = t;
      s.bar_high = s.bar_low = mid;
    } else if (t > s.last_t) {
      const double dt = t - s.last_t;
      s.fast += (1 - std::exp(-dt / p_.fast_s)) * (mid - s.fast);
      s.slow += (1 - std::exp(-dt / p_.slow_s)) * (mid - s.slow);
      trend_bps_ = s.slow > 0 ? (s.fast - s.slow) / s.slow * 1e4 : 0.0;
    }
    s.last_t = t;
    while (t - s.bar_start >= p_.bar_s) close_bar(s, mid);
    s.bar_high = std::max(s.bar_high, mid);
    s.bar_low = std::min(s.bar_low, mid);
    decide(ctx, b, s, t, mid);
  }

  void on_timer(Context& ctx, std::uint64_t) noexcept {
    // The time stop also fires on a quiet book (feed time moves with the other symbols).
    const double t = static_cast<double>(ctx.now_ns()) * 1e-9;
    for (auto& [l, s] : states_) {
      const BookView& b = ctx.book(l);
      if (ctx.position(l).shares != 0 && s.entry_t > 0 && t - s.entry_t >= p_.max_hold_s && b.two_sided() && !b.stale)
        close_position(ctx, b, s, Exit::kTime);
    }
  }

  // hft-backtest: on_timer reads feed time (ctx.now_ns()) and state only: the earliest feed time
  // at which its time stop can fire (UINT64_MAX: none); StrategyStage skips idle ticks before it.
  [[nodiscard]] std::uint64_t timer_due_feed_ns(const Context& ctx) const noexcept {
    std::uint64_t due = UINT64_MAX;
    for (const auto& [l, s] : states_)
      if (ctx.position(l).shares != 0 && s.entry_t > 0) {
        const double at = (s.entry_t + p_.max_hold_s) * 1e9 - 1e3;  // a microsecond early: rounding
        due = std::min(due, at <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(at));
      }
    return due;
  }

 private:
  struct State {
    double fast = 0, slow = 0, last_t = 0;
    double bar_start = 0, bar_high = 0, bar_low = 0;
    std::uint64_t bar_volume = 0;
    std::array<double, MomentumParams::kMaxBars> highs{}, lows{};
    std::array<std::uint64_t, MomentumParams::kMaxBars> volumes{};
    int bars = 0, head = 0;  // completed bars kept (up to breakout_bars), next slot
    double entry_px = 0, entry_t = 0;
  };

  void close_bar(State& s, double mid) noexcept {
    s.highs[static_cast<std::size_t>(s.head)] = s.bar_high;
    s.lows[static_cast<std::size_t>(s.head)] = s.bar_low;
    s.volumes[static_cast<std::size_t>(s.head)] = s.bar_volume;
    s.head = (s.head + 1) % MomentumParams::kMaxBars;
    s.bars = std::min(s.bars + 1, MomentumParams::kMaxBars);
    s.bar_start += p_.bar_s;
    s.bar_high = s.bar_low = mid;
    s.bar_volume = 0;
  }

  void decide(Context& ctx, const BookView& b, State& s, double t, double mid) noexcept {
    const std::int64_t pos = ctx.position(b.locate).shares;
    if (pos != 0) {
      if (s.entry_px <= 0) s.entry_px = mid;  // a position from before (recovery): its stop from here
      const double move_bps = (mid - s.entry_px) / s.entry_px * 1e4 * (pos > 0 ? 1 : -1);
      if (move_bps <= -p_.stop_bps) return close_position(ctx, b, s, Exit::kStop);
      if (move_bps >= p_.take_bps) return close_position(ctx, b, s, Exit::kTake);
      if (s.entry_t > 0 && t - s.entry_t >= p_.max_hold_s) return close_position(ctx, b, s, Exit::kTime);
      return;
    }
    if (ctx.working_count() != 0 || b.halted()) return;
    const int n = p_.breakout_bars;
    if (s.bars < n) return;
    double hi = -1e300, lo = 1e300, vol = 0;
    for (int i = 1; i <= n; ++i) {
      const auto k = static_cast<std::size_t>((s.head - i + MomentumParams::kMaxBars) % MomentumParams::kMaxBars);
      hi = std::max(hi, s.highs[k]);
      lo = std::min(lo, s.lows[k]);
      vol += static_cast<double>(s.volumes[k]);
    }
    const bool volume_ok = static_cast<double>(s.bar_volume) >= p_.volume_mult * vol / n;
    Side side;
    if (mid > hi && s.fast > s.slow && volume_ok) side = Side::kBuy;
    else if (mid < lo && s.fast < s.slow && volume_ok) side = Side::kSell;
    else return;
    if (ctx.market(b.locate, side, p_.size, p_.collar_bps) != 0) {
      s.entry_px = mid;
      s.entry_t = t;
      ++entries_;
    }
  }

  void close_position(Context& ctx, const BookView& b, State& s, Exit why) noexcept {
    const std::int64_t pos = ctx.position(b.locate).shares;
    if (pos == 0 || ctx.working_count() != 0) return;  // an exit (or entry) is in flight
    const auto q = static_cast<Quantity>(pos > 0 ? pos : -pos);
    if (ctx.market(b.locate, pos > 0 ? Side::kSell : Side::kBuy, q, p_.collar_bps) != 0) {
      last_exit_ = why;
      s.entry_px = 0;
      s.entry_t = 0;
    }
  }

  State* find(Locate l) noexcept {
    for (auto& [k, s] : states_)
      if (k == l) return &s;
    return nullptr;
  }
  State& state(Locate l) {
    if (State* s = find(l)) return *s;
    states_.emplace_back(l, State{});  // once per symbol, into capacity reserved up front
    return states_.back().second;
  }

  MomentumParams p_;
  std::vector<std::pair<Locate, State>> states_;
  double trend_bps_ = 0;
  Exit last_exit_ = Exit::kNone;
  std::uint64_t entries_ = 0;
};

}  // namespace hft::strategy
