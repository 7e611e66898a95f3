#pragma once
// Per-strategy performance, kept by the strategy stage from the execution reports of the
// strategy's own orders (pipeline/stages/strategy_stage.hpp) and published to the control file
// (`hftctl strategy list`, Prometheus):
//  * realized P&L by average cost per symbol; unrealized = position x (mid - average cost);
//  * volume (shares, dollars), orders, fills, cancels, rejects; fill ratio = orders with at least
//    one fill / orders; average time to the first fill of an order (send -> fill report, TSC);
//  * round trips (flat -> flat, or a flip) and wins (a round trip closed with a positive P&L);
//  * Sharpe of the per-minute changes of total P&L (mean / standard deviation, per minute, not
//    annualized) and the maximum drawdown of total P&L (sampled on fills and every 100 ms);
//  * fees, when configured (set_fees: dollars per share, a negative fee is a rebate): a fill the
//    venue flags as adding liquidity (OUCH liquidity flag 'A') pays `add`, any other fill
//    `remove`. Realized P&L is net of fees (fees() is their sum).
// Updates are O(1) per report and per sample; nothing allocates after init().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "pipeline/events.hpp"

namespace hft::strategy {

class Performance {
 public:
  void init(std::size_t locates) {
    avg_cost_.assign(locates, 0.0);
    shares_.assign(locates, 0);
    trip_pnl_.assign(locates, 0.0);
  }

  void set_fees(double add_per_share, double remove_per_share) noexcept {
    fee_add_ = add_per_share;
    fee_remove_ = remove_per_share;
  }
  void on_cancel() noexcept { ++cancels_; }
  void on_reject() noexcept { ++rejects_; }
  // A fill; `first_of_order` with its time since the order was sent.
  void on_fill(pipeline::Locate l, pipeline::Side side, pipeline::Price px, pipeline::Quantity q, bool first_of_order,
               double ns_since_sent, char liquidity = 0) noexcept {
    if (l >= shares_.size() || q == 0) return;
    ++fills_;
    const double fee = static_cast<double>(q) * (liquidity == 'A' ? fee_add_ : fee_remove_);
    fees_ += fee;
    realized_ -= fee;
    trip_pnl_[l] -= fee;  // a round trip's win is net of its fees
    volume_shares_ += q;
    volume_usd_ += static_cast<double>(px) * 1e-4 * q;
    if (first_of_order) {
      ++filled_orders_;
      fill_time_sum_ns_ += ns_since_sent;
    }
    const std::int64_t p0 = shares_[l];
    const std::int64_t dq = side == pipeline::Side::kBuy ? static_cast<std::int64_t>(q) : -static_cast<std::int64_t>(q);
    const std::int64_t p1 = p0 + dq;
    const double price = static_cast<double>(px) * 1e-4;
    if (p0 == 0 || (p0 > 0) == (dq > 0)) {  // opening or adding
      avg_cost_[l] = (avg_cost_[l] * static_cast<double>(std::abs(p0)) + price * static_cast<double>(q)) /
                     static_cast<double>(std::abs(p1));
    } else {                                  // closing (and maybe flipping)
      const std::int64_t closed = std::min(std::abs(dq), std::abs(p0));
      const double pnl = static_cast<double>(closed) * (price - avg_cost_[l]) * (p0 > 0 ? 1.0 : -1.0);
      realized_ += pnl;
      trip_pnl_[l] += pnl;
      if (p1 == 0 || (p1 > 0) != (p0 > 0)) {
        ++round_trips_;
        if (trip_pnl_[l] > 0) ++wins_;
        trip_pnl_[l] = 0;
        avg_cost_[l] = p1 == 0 ? 0.0 : price;
      }
    }
    shares_[l] = p1;
  }

  // Unrealized P&L at `mid(locate)` over the given symbols, dollars.
  template <class Mid>
  [[nodiscard]] double unrealized(std::span<const pipeline::Locate> symbols, Mid&& mid) const noexcept {
    double u = 0;
    for (pipeline::Locate l : symbols) {
      if (l >= shares_.size() || shares_[l] == 0) continue;
      const double m = mid(l);
      if (m > 0) u += static_cast<double>(shares_[l]) * (m - avg_cost_[l]);
    }
    return u;
  }
  // A sample of total P&L at monotonic time `now_ns`: drawdown, and the per-minute change.
  void sample(double total, std::uint64_t now_ns) noexcept {
    peak_ = std::max(peak_, total);
    max_drawdown_ = std::max(max_drawdown_, peak_ - total);
    if (minute_start_ns_ == 0) {
      minute_start_ns_ = now_ns;
      minute_pnl_ = total;
      return;
    }
    if (now_ns - minute_start_ns_ < 60'000'000'000ull) return;
    const double x = total - minute_pnl_;
    ++minutes_;
    const double d = x - mean_;
    mean_ += d / static_cast<double>(minutes_);
    m2_ += d * (x - mean_);
    minute_pnl_ = total;
    minute_start_ns_ = now_ns;
  }

  [[nodiscard]] double realized() const noexcept { return realized_; }  // net of fees
  [[nodiscard]] double fees() const noexcept { return fees_; }
  [[nodiscard]] std::uint64_t fills() const noexcept { return fills_; }
  [[nodiscard]] std::uint64_t cancels() const noexcept { return cancels_; }
  [[nodiscard]] std::uint64_t rejects() const noexcept { return rejects_; }
  [[nodiscard]] std::uint64_t volume_shares() const noexcept { return volume_shares_; }
  [[nodiscard]] double volume_usd() const noexcept { return volume_usd_; }
  // Orders with at least one fill / `orders` sent (Context::new_orders()).
  [[nodiscard]] double fill_ratio(std::uint64_t orders) const noexcept {
    return orders != 0 ? static_cast<double>(filled_orders_) / static_cast<double>(orders) : 0.0;
  }
  [[nodiscard]] double avg_time_to_fill_us() const noexcept {
    return filled_orders_ != 0 ? fill_time_sum_ns_ / static_cast<double>(filled_orders_) / 1e3 : 0.0;
  }
  [[nodiscard]] std::uint64_t round_trips() const noexcept { return round_trips_; }
  [[nodiscard]] std::uint64_t wins() const noexcept { return wins_; }
  [[nodiscard]] double win_rate() const noexcept {
    return round_trips_ != 0 ? static_cast<double>(wins_) / static_cast<double>(round_trips_) : 0.0;
  }
  [[nodiscard]] double sharpe() const noexcept {
    if (minutes_ < 2) return 0.0;
    const double var = m2_ / static_cast<double>(minutes_ - 1);
    return var > 0 ? mean_ / std::sqrt(var) : 0.0;
  }
  [[nodiscard]] double max_drawdown() const noexcept { return max_drawdown_; }
  [[nodiscard]] std::int64_t shares(pipeline::Locate l) const noexcept { return l < shares_.size() ? shares_[l] : 0; }
  [[nodiscard]] std::int64_t total_shares() const noexcept {
    std::int64_t t = 0;
    for (auto s : shares_) t += s;
    return t;
  }

 private:
  std::vector<double> avg_cost_;
  std::vector<std::int64_t> shares_;
  std::vector<double> trip_pnl_;
  double realized_ = 0;
  double fee_add_ = 0, fee_remove_ = 0, fees_ = 0;
  std::uint64_t fills_ = 0, cancels_ = 0, rejects_ = 0, filled_orders_ = 0;
  std::uint64_t volume_shares_ = 0;
  double volume_usd_ = 0, fill_time_sum_ns_ = 0;
  std::uint64_t round_trips_ = 0, wins_ = 0;
  double peak_ = 0, max_drawdown_ = 0;
  std::uint64_t minute_start_ns_ = 0, minutes_ = 0;
  double minute_pnl_ = 0, mean_ = 0, m2_ = 0;
};

}  // namespace hft::strategy
