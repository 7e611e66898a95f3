#pragma once
// `market_maker`: quotes both sides around the micro-price with an inventory skew, after
// Avellaneda & Stoikov, "High-frequency trading in a limit order book" (2008):
//   reservation price  r = s - q * gamma * sigma^2 * tau
//   total spread       delta = gamma * sigma^2 * tau + (2 / gamma) * ln(1 + gamma / k)
// with s the fair value, q the inventory in lots, sigma the volatility of s (EWMA, per
// second), tau the horizon, gamma the risk aversion and k the order-arrival decay. Quotes are
// rounded outward to the tick, never cross the opposite best (post-only), and are replaced when
// the wanted price moves by at least `replace_ticks`, or topped up to `quote_size` leaves when a
// partial fill leaves less than half (Context::replace takes the leaves wanted; the OUCH total,
// executions included, is the egress stage's business); a side is pulled at the position limit.
// Prices come from the others' book (book_without: the book less this strategy's own resting
// quotes), not the feed's book as is: the venue publishes our quotes like anyone's, and pricing
// off them chases them (quote flicker: a replace per book update until the order-rate limit
// refuses them).
// The fair value s is the features library's level-1 micro-price of that book (pipeline/features:
// features::micro_price), optionally skewed by its level-1 imbalance I and its order-flow imbalance
// (Cont, Kukanov & Stoikov's OFI over `ofi_levels` levels, between successive books of the others,
// decayed with `ofi_halflife_s`):
//   s = micro_price + tick * (imbalance_skew * I + ofi_skew * tanh(OFI / quote_size))
// Both skews default to 0 (s = the micro-price).
// A halted or paused symbol (ITCH 'H') is not quoted: its quotes are pulled when the halt is
// published, and quoting resumes when trading does (quotation-only periods are quoted).
// Ladder and guards (all off by default, so a config of the single-level maker is unchanged):
// - `levels` quotes per side, `level_spacing_ticks` apart, the first of `quote_size` shares and the
//   deeper ones of `level_size` (0: quote_size); a level is quoted only while the position plus the
//   levels up to it stays within `max_position`.
// - `min_edge_ticks`: no bid above s - edge nor ask below s + edge, whatever the inventory skew.
// - pulled (both sides) when the symbol's book has not changed for `stale_ms` of feed time
//   (checked on the timer), when the others' spread is wider than `max_spread_ticks`, or when the
//   fast volatility estimate (EWMA half-life `vol_fast_halflife_s`) exceeds `vol_pull_ratio` times
//   the slow one; above `vol_widen_ratio` times the slow one, the half spread is multiplied by
//   that ratio (fast / slow).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct MarketMakerParams {
  std::vector<std::string> symbols;
  Quantity quote_size = 100;
  Price tick = 100;              // $0.01 in 1/10,000 $
  // The model works in dollars; quotes are converted to ticks at the end.
  double gamma = 2.0;            // risk aversion, per dollar per lot: ~1 tick of skew per lot held
  double k = 100.0;              // order-arrival decay, per dollar away from the mid
  double horizon_s = 30.0;       // tau
  double sigma_halflife_s = 5.0; // EWMA half-life of the variance estimate
  double sigma_floor = 0.01;     // dollars per sqrt(s): keeps quotes sane before data arrives
  std::int64_t max_position = 500;  // shares; the side that would grow it is pulled
  int replace_ticks = 1;
  int min_half_spread_ticks = 1;
  double imbalance_skew = 0;     // ticks of fair value per unit of level-1 imbalance (features::imbalance)
  double ofi_skew = 0;           // ticks of fair value at saturation of tanh(OFI / quote_size)
  double ofi_halflife_s = 1.0;   // decay of the OFI sum
  int ofi_levels = 1;            // OFI over levels 1..n
  int levels = 1;                // quotes per side (the ladder)
  int level_spacing_ticks = 1;   // between ladder levels
  Quantity level_size = 0;       // size of levels 2..n (0: quote_size)
  int min_edge_ticks = 0;        // distance from the fair value a quote keeps at least
  double stale_ms = 0;           // pull when the book has not changed for this long (0: off)
  int max_spread_ticks = 0;      // pull when the others' spread is wider (0: off)
  double vol_fast_halflife_s = 0.5;
  double vol_widen_ratio = 0;    // fast/slow sigma above which the spread widens by that ratio (0: off)
  double vol_pull_ratio = 0;     // fast/slow sigma above which both sides are pulled (0: off)
  static constexpr int kMaxLevels = 8;

  static constexpr auto fields() {
    using P = MarketMakerParams;
    return std::tuple{
        param::symbols("symbols", &P::symbols, "a market maker needs at least one symbol"),
        param::integer("quote_size", &P::quote_size, 1, 1'000'000),
        param::integer("tick", &P::tick, 1, 1'000'000),
        param::number("gamma", &P::gamma, 1e-6, 1e6),
        param::number("k", &P::k, 1e-6, 1e9),
        param::number("horizon_s", &P::horizon_s, 1e-3, 1e6),
        param::number("sigma_halflife_s", &P::sigma_halflife_s, 1e-3, 1e6),
        param::number("sigma_floor", &P::sigma_floor, 0, 1e6),
        param::integer("max_position", &P::max_position, 0, 1'000'000'000),
        param::integer("replace_ticks", &P::replace_ticks, 1, 1'000'000),
        param::integer("min_half_spread_ticks", &P::min_half_spread_ticks, 0, 1'000'000),
        param::number("imbalance_skew", &P::imbalance_skew, -1e6, 1e6),
        param::number("ofi_skew", &P::ofi_skew, -1e6, 1e6),
        param::number("ofi_halflife_s", &P::ofi_halflife_s, 1e-6, 1e6),
        param::integer("ofi_levels", &P::ofi_levels, 1, pipeline::kDepth),
        param::integer("levels", &P::levels, 1, kMaxLevels),
        param::integer("level_spacing_ticks", &P::level_spacing_ticks, 1, 1'000'000),
        param::integer("level_size", &P::level_size, 0, 1'000'000),
        param::integer("min_edge_ticks", &P::min_edge_ticks, 0, 1'000'000),
        param::number("stale_ms", &P::stale_ms, 0, 1e9),
        param::integer("max_spread_ticks", &P::max_spread_ticks, 0, 1'000'000),
        param::number("vol_fast_halflife_s", &P::vol_fast_halflife_s, 1e-3, 1e6),
        param::number("vol_widen_ratio", &P::vol_widen_ratio, 0, 1e6),
        param::number("vol_pull_ratio", &P::vol_pull_ratio, 0, 1e6),
    };
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return symbols; }
  // After a run-time change (hftctl strategy set): "" or why the combination is refused.
  [[nodiscard]] std::string validate() const {
    if (vol_pull_ratio > 0 && vol_widen_ratio > 0 && vol_pull_ratio <= vol_widen_ratio)
      return "vol_pull_ratio (" + std::to_string(vol_pull_ratio) + ") must be above vol_widen_ratio (" +
             std::to_string(vol_widen_ratio) + ")";
    if (quote_size > max_position && max_position > 0)
      return "quote_size " + std::to_string(quote_size) + " is above max_position " + std::to_string(max_position);
    return {};
  }
};

class MarketMaker {
 public:
  explicit MarketMaker(MarketMakerParams p) : p_(std::move(p)) { states_.reserve(p_.symbols.size() + 1); }
  [[nodiscard]] const MarketMakerParams& params() const noexcept { return p_; }
  MarketMakerParams& mutable_params() noexcept { return p_; }  // hftctl strategy set

  // Why the last quote() of a symbol pulled its quotes (tests, status).
  enum class Pull : std::uint8_t { kNone, kHalted, kStale, kSpread, kVolatility };
  [[nodiscard]] Pull last_pull(Locate locate) const noexcept {
    for (const auto& [l, st] : states_)
      if (l == locate) return st.pulled;
    return Pull::kNone;
  }
  // Fast and slow volatility estimates of a symbol's fair value, dollars per sqrt(s).
  [[nodiscard]] std::pair<double, double> sigmas(Locate locate) const noexcept {
    for (const auto& [l, st] : states_)
      if (l == locate) return {std::sqrt(st.var_fast), std::sqrt(st.var_per_s)};
    return {0, 0};
  }

  void on_book(Context& ctx, const BookView& book) noexcept {
    if (book.halted()) return pull(ctx, book.locate, Pull::kHalted);
    if (!book.two_sided() || book.stale) return;
    State& st = state(book.locate);
    const BookView others = others_book(ctx, book, st);
    const double t = static_cast<double>(book.timestamp) * 1e-9;
    const double s = fair_value(others, st, t);  // dollars
    if (st.last_t > 0 && t > st.last_t) {
      const double dt = t - st.last_t;
      const double r = s - st.last_s;
      const double v = r * r / std::max(dt, 1e-6);
      st.var_per_s += (1.0 - std::exp2(-dt / p_.sigma_halflife_s)) * (v - st.var_per_s);
      st.var_fast += (1.0 - std::exp2(-dt / p_.vol_fast_halflife_s)) * (v - st.var_fast);
    }
    st.last_s = s;
    st.last_t = t;
    quote(ctx, others, st, s);
  }

  void on_fill(Context& ctx, const Fill& f) noexcept {
    const BookView& book = ctx.book(f.locate);
    if (book.two_sided() && !book.stale && !book.halted()) {
      State& st = state(f.locate);
      const BookView others = others_book(ctx, book, st);
      quote(ctx, others, st, skewed(others, st));
    }
  }

  void on_trading_state(Context& ctx, Locate locate, char) noexcept {
    const BookView& book = ctx.book(locate);
    if (book.halted()) {
      pull(ctx, locate, Pull::kHalted);
    } else if (book.two_sided() && !book.stale) {
      State& st = state(locate);  // back from a halt: no need to wait for a change
      const BookView others = others_book(ctx, book, st);
      quote(ctx, others, st, skewed(others, st));
    }
  }

  // A book that stopped changing (the symbol went quiet, or its updates are lost upstream
  // without a sequence gap) is a book we cannot see: pull after `stale_ms` of feed time.
  void on_timer(Context& ctx, std::uint64_t) noexcept {
    if (p_.stale_ms <= 0) return;
    const auto limit = static_cast<std::uint64_t>(p_.stale_ms * 1e6);
    for (auto& [locate, st] : states_) {
      const BookView& b = ctx.book(locate);
      if (ctx.now_ns() > b.timestamp + limit && st.pulled != Pull::kStale) pull(ctx, locate, Pull::kStale);
    }
  }

  // hft-backtest: on_timer reads feed time (ctx.now_ns()) and state only, so it can act no earlier
  // than this feed time (UINT64_MAX: never); StrategyStage skips idle simulated ticks before it.
  [[nodiscard]] std::uint64_t timer_due_feed_ns(const Context& ctx) const noexcept {
    if (p_.stale_ms <= 0) return UINT64_MAX;
    const auto limit = static_cast<std::uint64_t>(p_.stale_ms * 1e6);
    std::uint64_t due = UINT64_MAX;
    for (const auto& [locate, st] : states_)
      if (st.pulled != Pull::kStale) due = std::min(due, ctx.book(locate).timestamp + limit + 1);
    return due;
  }

  void on_order(Context& ctx, const OrderUpdate& u) noexcept {
    // A quote sent before the halt was published and accepted after it: pull it too.
    if (u.type == pipeline::ReportType::kAccepted && u.order != nullptr && u.order->state == OrderState::kWorking &&
        ctx.book(u.order->locate).halted())
      ctx.cancel(u.order_id);
    if (u.type == pipeline::ReportType::kRejected || u.type == pipeline::ReportType::kCanceled) {
      for (auto& [locate, st] : states_) {
        for (auto& id : st.ids)
          if (id == u.order_id && (u.order == nullptr || u.order->state == OrderState::kDone)) id = 0;
      }
    }
  }

  void on_feed(Context& ctx, bool stale) noexcept {
    if (stale) ctx.cancel_all();  // do not leave quotes on a book we cannot see
  }

 private:
  static constexpr int kL = MarketMakerParams::kMaxLevels;
  struct State {
    double last_s = 0, last_t = 0, var_per_s = 0, var_fast = 0;
    double ofi = 0, ofi_t = 0;     // decayed OFI of the others' book, and when it was last updated
    features::Depth prev{};        // the others' book at the last update (OFI)
    bool has_prev = false;
    Pull pulled = Pull::kNone;
    // Order ids: bids in [0, kL), asks in [kL, 2 kL), best level first.
    std::array<std::uint64_t, 2 * kL> ids{};
  };

  // The book without this symbol's own quotes; the feed's book when that leaves a side empty
  // (we are alone there: our quote is the touch, and pricing keeps it).
  static BookView others_book(const Context& ctx, const BookView& book, const State& st) noexcept {
    std::array<const WorkingOrder*, 2 * kL> own{};
    for (std::size_t i = 0; i < own.size(); ++i) own[i] = st.ids[i] != 0 ? ctx.order(st.ids[i]) : nullptr;
    BookView v = book_without(book, own);
    return v.two_sided() ? v : book;
  }

  // The micro-price of the others' book, skewed; updates the OFI state (once per book event).
  double fair_value(const BookView& others, State& st, double t) const noexcept {
    const features::Depth d = depth_of(others);
    if (p_.ofi_skew != 0) {
      if (st.has_prev) {
        const double decay = t > st.ofi_t ? std::exp2(-(t - st.ofi_t) / p_.ofi_halflife_s) : 1.0;
        st.ofi = st.ofi * decay +
                 static_cast<double>(features::ofi(st.prev, d, static_cast<std::uint32_t>(p_.ofi_levels)));
      }
      st.prev = d;
      st.has_prev = true;
      st.ofi_t = t;
    }
    return skewed(d, st);
  }
  double skewed(const BookView& others, const State& st) const noexcept { return skewed(depth_of(others), st); }
  double skewed(const features::Depth& d, const State& st) const noexcept {
    double s = features::micro_price(d).value_or(0.0);  // two-sided here: always a value
    if (p_.imbalance_skew != 0 || p_.ofi_skew != 0) {
      const double tick = static_cast<double>(p_.tick) * 1e-4;
      s += tick * (p_.imbalance_skew * features::imbalance(d).value_or(0.0) +
                   p_.ofi_skew * std::tanh(st.ofi / static_cast<double>(p_.quote_size)));
    }
    return s;
  }

  State& state(Locate locate) {
    for (auto& [l, st] : states_)
      if (l == locate) return st;
    states_.emplace_back(locate, State{});  // once per symbol, into capacity reserved up front
    return states_.back().second;
  }

  // Cancels every quote of a symbol (those still working; one pending an answer is pulled by
  // on_order when it is accepted, or by the next quote()).
  void pull(Context& ctx, Locate locate, Pull why) noexcept {
    for (auto& [l, st] : states_) {
      if (l != locate) continue;
      st.pulled = why;
      for (int i = 0; i < 2 * kL; ++i)
        work(ctx, locate, i < kL ? Side::kBuy : Side::kSell, 0, 0, false, st.ids[static_cast<std::size_t>(i)]);
    }
  }

  void quote(Context& ctx, const BookView& book, State& st, double s) noexcept {
    const double sigma_slow = std::max(std::sqrt(st.var_per_s), p_.sigma_floor);
    const double jump = std::sqrt(st.var_fast) / sigma_slow;  // fast / slow volatility
    if (p_.max_spread_ticks > 0 && book.spread() > p_.max_spread_ticks * p_.tick)
      return pull(ctx, book.locate, Pull::kSpread);
    if (p_.vol_pull_ratio > 0 && jump >= p_.vol_pull_ratio) return pull(ctx, book.locate, Pull::kVolatility);
    st.pulled = Pull::kNone;
    const double sigma = sigma_slow;
    const double q = static_cast<double>(ctx.position(book.locate).shares) / static_cast<double>(p_.quote_size);
    const double risk = p_.gamma * sigma * sigma * p_.horizon_s;
    const double r = s - q * risk;
    const double tick = static_cast<double>(p_.tick) * 1e-4;
    double half = 0.5 * (risk + (2.0 / p_.gamma) * std::log1p(p_.gamma / p_.k));
    if (p_.vol_widen_ratio > 0 && jump >= p_.vol_widen_ratio) half *= jump;
    // Storm Guard WARN (issue 11): wider quotes, smaller sizes, by the configured factors.
    const bool warn = ctx.storm().state == 1;
    if (warn) half *= ctx.storm().widen;
    half = std::max(half, p_.min_half_spread_ticks * tick);
    double lo = r - half, hi = r + half;
    if (p_.min_edge_ticks > 0) {
      lo = std::min(lo, s - p_.min_edge_ticks * tick);
      hi = std::max(hi, s + p_.min_edge_ticks * tick);
    }
    Price bid = static_cast<Price>(std::floor(lo / tick)) * p_.tick;
    Price ask = static_cast<Price>(std::ceil(hi / tick)) * p_.tick;
    bid = std::min(bid, book.best_ask() - p_.tick);  // post-only: never cross
    ask = std::max(ask, book.best_bid() + p_.tick);
    const std::int64_t pos = ctx.position(book.locate).shares;
    std::int64_t cum = 0;
    for (int i = 0; i < kL; ++i) {
      const bool on = i < p_.levels;
      Quantity size = i == 0 || p_.level_size == 0 ? p_.quote_size : p_.level_size;
      if (warn) size = std::max<Quantity>(1, static_cast<Quantity>(static_cast<double>(size) * ctx.storm().size));
      cum += size;
      const Price step = static_cast<Price>(i) * p_.level_spacing_ticks * p_.tick;
      work(ctx, book.locate, Side::kBuy, bid - step, size, on && pos + cum <= p_.max_position,
           st.ids[static_cast<std::size_t>(i)]);
      work(ctx, book.locate, Side::kSell, ask + step, size, on && pos - cum >= -p_.max_position,
           st.ids[static_cast<std::size_t>(kL + i)]);
    }
  }

  void work(Context& ctx, Locate locate, Side side, Price price, Quantity size, bool allowed,
            std::uint64_t& id) noexcept {
    const WorkingOrder* o = id != 0 ? ctx.order(id) : nullptr;
    if (o == nullptr) id = 0;
    if (!allowed || price <= 0) {
      if (o != nullptr && o->state == OrderState::kWorking) ctx.cancel(id);
      return;
    }
    if (o == nullptr) {
      id = side == Side::kBuy ? ctx.buy(locate, price, size, TimeInForce::kDay, true)
                              : ctx.sell(locate, price, size, TimeInForce::kDay, true);
      return;
    }
    if (o->state != OrderState::kWorking) return;  // an answer is pending: wait for it
    // Replace only when the wanted price moved `replace_ticks`, or when fills left less than half
    // the size, or the size shrank (the replace's quantity is the leaves wanted: OUCH 5.0's total is the egress stage's).
    const Price moved = o->price > price ? o->price - price : price - o->price;
    if (moved >= p_.replace_ticks * p_.tick || o->leaves < size / 2 || o->leaves > size) ctx.replace(id, price, size);
  }

  MarketMakerParams p_;
  std::vector<std::pair<Locate, State>> states_;
};

}  // namespace hft::strategy
