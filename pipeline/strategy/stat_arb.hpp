#pragma once
// `stat_arb`: pairs trading on the z-score of the log price spread, with a rolling hedge ratio.
//
// Every `sample_s` of feed time (on a book change of either leg) the mids of legs A and B are
// sampled as x = ln B, y = ln A into a window of `window` samples. The hedge ratio is the OLS
// slope of y on x over the window (running sums: O(1) per sample); the spread is y - beta x and
// its z-score the distance from the window's mean spread in the window's standard deviations.
// Flat and nothing working: z > `entry_z` sells the spread (sell A, buy B), z < -entry_z buys it;
// in a position, |z| < `exit_z` closes both legs. Leg A trades `size_a` shares (at most
// `max_position` held), leg B beta x size_a x price A / price B shares (the dollar hedge of the
// log-price regression), rounded to a share. Both legs go in the same pass, as marketable IOCs
// (Context::market). It refuses to enter (counted in refused_stale()) while either leg's book is
// stale, one-sided or halted.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "pipeline/strategy/params.hpp"
#include "pipeline/strategy/sdk.hpp"

namespace hft::strategy {

struct StatArbParams {
  std::string leg_a, leg_b;
  int window = 120;
  double sample_s = 1.0;
  double entry_z = 2.0, exit_z = 0.5;
  Quantity size_a = 100;
  std::int64_t max_position = 100;  // shares of leg A, long or short
  std::int32_t collar_bps = 50;
  static constexpr int kMaxWindow = 4096;

  static constexpr auto fields() {
    using P = StatArbParams;
    return std::tuple{
        param::symbol("leg_a", &P::leg_a, true),
        param::symbol("leg_b", &P::leg_b, true),
        param::integer("window", &P::window, 10, kMaxWindow),
        param::number("sample_s", &P::sample_s, 1e-3, 3600),
        param::number("entry_z", &P::entry_z, 0.1, 100),
        param::number("exit_z", &P::exit_z, 0, 100),
        param::integer("size_a", &P::size_a, 1, 1'000'000),
        param::integer("max_position", &P::max_position, 1, 1'000'000'000),
        param::integer("collar_bps", &P::collar_bps, 0, 10'000),
    };
  }
  [[nodiscard]] std::vector<std::string> traded_symbols() const { return {leg_a, leg_b}; }
  [[nodiscard]] std::string validate() const {
    if (exit_z >= entry_z) return "exit_z (" + std::to_string(exit_z) + ") must be below entry_z (" + std::to_string(entry_z) + ")";
    if (static_cast<std::int64_t>(size_a) > max_position)
      return "size_a " + std::to_string(size_a) + " is above max_position " + std::to_string(max_position);
    return {};
  }
};

class StatArb {
 public:
  explicit StatArb(StatArbParams p) : p_(std::move(p)) {}
  [[nodiscard]] const StatArbParams& params() const noexcept { return p_; }
  StatArbParams& mutable_params() noexcept { return p_; }
  [[nodiscard]] double beta() const noexcept { return beta_; }
  [[nodiscard]] double z() const noexcept { return z_; }
  // Its signal, published to the control file and journaled (hft_signals): the spread's z-score.
  [[nodiscard]] std::pair<const char*, double> signal() const noexcept { return {"z", z_}; }
  [[nodiscard]] int samples() const noexcept { return n_; }
  [[nodiscard]] std::uint64_t refused_stale() const noexcept { return refused_stale_; }

  void on_book(Context& ctx, const BookView& b) noexcept {
    resolve(ctx, b);
    if (a_ == 0 || b_ == 0 || (b.locate != a_ && b.locate != b_)) return;
    const BookView& ba = ctx.book(a_);
    const BookView& bb = ctx.book(b_);
    if (!ba.two_sided() || !bb.two_sided()) return;
    const double t = static_cast<double>(b.timestamp) * 1e-9;
    if (next_sample_ == 0) next_sample_ = t;
    if (t < next_sample_) return;
    next_sample_ = t + p_.sample_s;
    sample(std::log(ba.mid()), std::log(bb.mid()));
    if (n_ < std::min(p_.window, 10)) return;
    decide(ctx, ba, bb);
  }

 private:
  static bool is(const BookView& b, const std::string& sym) noexcept {
    std::array<char, 8> want{};
    std::fill(want.begin(), want.end(), ' ');
    std::memcpy(want.data(), sym.data(), std::min<std::size_t>(8, sym.size()));
    for (std::size_t i = 0; i < 8; ++i)
      if ((b.symbol[i] == '\0' ? ' ' : b.symbol[i]) != want[i]) return false;
    return true;
  }
  // The legs' locates, from the strategy's symbols as the feed's directory names them.
  void resolve(const Context& ctx, const BookView&) noexcept {
    if (a_ != 0 && b_ != 0) return;
    for (Locate l : ctx.symbols()) {
      if (a_ == 0 && is(ctx.book(l), p_.leg_a)) a_ = l;
      if (b_ == 0 && is(ctx.book(l), p_.leg_b)) b_ = l;
    }
  }

  void sample(double y, double x) noexcept {
    const auto w = static_cast<std::size_t>(p_.window);
    if (n_ == p_.window) {  // evict the oldest
      const auto [ox, oy] = ring_[head_];
      sx_ -= ox;
      sy_ -= oy;
      sxx_ -= ox * ox;
      syy_ -= oy * oy;
      sxy_ -= ox * oy;
    } else {
      ++n_;
    }
    ring_[head_] = {x, y};
    head_ = (head_ + 1) % w;
    sx_ += x;
    sy_ += y;
    sxx_ += x * x;
    syy_ += y * y;
    sxy_ += x * y;
    const double n = n_;
    const double vx = sxx_ / n - (sx_ / n) * (sx_ / n);
    const double cxy = sxy_ / n - (sx_ / n) * (sy_ / n);
    beta_ = vx > 1e-18 ? cxy / vx : 1.0;
    const double mean = (sy_ - beta_ * sx_) / n;
    const double var = (syy_ - 2 * beta_ * sxy_ + beta_ * beta_ * sxx_) / n - mean * mean;
    const double spread = y - beta_ * x;
    z_ = var > 1e-18 ? (spread - mean) / std::sqrt(var) : 0.0;
  }

  void decide(Context& ctx, const BookView& ba, const BookView& bb) noexcept {
    if (ctx.working_count() != 0) return;  // legs of the last decision still in flight
    const std::int64_t pa = ctx.position(a_).shares, pb = ctx.position(b_).shares;
    if (pa != 0 || pb != 0) {
      if (std::fabs(z_) >= p_.exit_z) return;
      // Close both legs in this pass.
      if (pa != 0) ctx.market(a_, pa > 0 ? Side::kSell : Side::kBuy, static_cast<Quantity>(std::llabs(pa)), p_.collar_bps);
      if (pb != 0) ctx.market(b_, pb > 0 ? Side::kSell : Side::kBuy, static_cast<Quantity>(std::llabs(pb)), p_.collar_bps);
      return;
    }
    if (std::fabs(z_) <= p_.entry_z) return;
    if (ba.stale || bb.stale || ba.halted() || bb.halted()) {
      ++refused_stale_;
      return;
    }
    const Quantity qa = static_cast<Quantity>(std::min<std::int64_t>(p_.size_a, p_.max_position));
    const double qb_f = std::fabs(beta_) * qa * ba.mid() / bb.mid();
    const auto qb = static_cast<Quantity>(std::llround(qb_f));
    if (qb == 0) return;
    // z high: A rich against B: sell A, buy B (beta > 0; with a negative beta B goes the same way as A).
    const Side side_a = z_ > 0 ? Side::kSell : Side::kBuy;
    const Side other = side_a == Side::kSell ? Side::kBuy : Side::kSell;
    const Side side_b = beta_ >= 0 ? other : side_a;
    if (ctx.market(a_, side_a, qa, p_.collar_bps) == 0) return;
    ctx.market(b_, side_b, qb, p_.collar_bps);
  }

  StatArbParams p_;
  Locate a_ = 0, b_ = 0;
  std::array<std::pair<double, double>, StatArbParams::kMaxWindow> ring_{};
  std::size_t head_ = 0;
  int n_ = 0;
  double sx_ = 0, sy_ = 0, sxx_ = 0, syy_ = 0, sxy_ = 0;
  double beta_ = 1.0, z_ = 0, next_sample_ = 0;
  std::uint64_t refused_stale_ = 0;
};

}  // namespace hft::strategy
