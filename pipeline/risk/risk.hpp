#pragma once
// Pre-trade risk: every intent passes here before anything reaches the wire. A refused intent
// goes back to its strategy with the reason and is counted; it never reaches the venue.
//
// Checks, in order: kill switch, operator halt, max order quantity, max notional, price band
// around the reference price, position limit per symbol (position plus everything that could
// still fill on that side), open-order limit, and an order-rate token bucket.
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/compiler.hpp"
#include "pipeline/events.hpp"

namespace hft::risk {

using pipeline::Locate;
using pipeline::Price;
using pipeline::Quantity;
using pipeline::RejectReason;

struct RiskLimits {
  Quantity max_order_quantity = 10'000;
  std::int64_t max_notional = 1'000'000 * 10'000ll;  // 1/10,000 $: $1M per order
  std::int32_t price_band_bps = 500;                  // 5% around the reference price
  std::int64_t max_position = 5'000;                  // shares per symbol, long or short
  std::uint32_t max_open_orders = 200;
  double max_orders_per_second = 2'000;               // token bucket rate
  std::uint32_t order_burst = 200;                    // token bucket depth
  bool require_reference_price = true;                // refuse orders on a symbol with no price yet
};

// Per-symbol exposure the order manager keeps.
struct Exposure {
  std::int64_t position = 0;     // signed shares
  std::int64_t open_buy = 0;     // shares working to buy
  std::int64_t open_sell = 0;
};

// Reference prices (last trade, else mid) written by the book stage and read by risk: one
// relaxed atomic per stock locate, single writer, so neither side ever waits.
class ReferencePrices {
 public:
  explicit ReferencePrices(std::size_t locates) : prices_(locates) {}
  void set(Locate locate, Price price) noexcept {
    if (locate < prices_.size()) prices_[locate].store(price, std::memory_order_relaxed);
  }
  [[nodiscard]] Price get(Locate locate) const noexcept {
    return locate < prices_.size() ? prices_[locate].load(std::memory_order_relaxed) : 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return prices_.size(); }

 private:
  std::vector<std::atomic<Price>> prices_;
};

class RiskGate {
 public:
  explicit RiskGate(const RiskLimits& limits, double ticks_per_second) noexcept
      : limits_(limits), ticks_per_second_(ticks_per_second), tokens_(limits.order_burst) {}

  // A new order. `now_ticks`: TSC (or clock) ticks for the rate bucket.
  RejectReason check_new(const pipeline::OrderIntent& in, const Exposure& ex, Price reference,
                         std::uint32_t open_orders, std::uint64_t now_ticks) noexcept {
    if (const RejectReason r = check_common(in.price, in.quantity, reference); r != RejectReason::kNone) return count(r);
    const std::int64_t q = in.quantity;
    if (in.side == pipeline::Side::kBuy ? ex.position + ex.open_buy + q > limits_.max_position
                                        : ex.position - ex.open_sell - q < -limits_.max_position)
      return count(RejectReason::kPositionLimit);
    if (open_orders >= limits_.max_open_orders) return count(RejectReason::kOpenOrderLimit);
    if (!take_token(now_ticks)) return count(RejectReason::kOrderRate);
    ++passed_;
    return RejectReason::kNone;
  }

  // A replace to `price`/`quantity` of an order with `leaves` working on side `side`.
  // `in.quantity` is the leaves wanted after the replace (not the OUCH total, which counts what
  // already executed; pipeline/events.hpp): the position can grow by at most their difference.
  RejectReason check_replace(const pipeline::OrderIntent& in, Quantity leaves, const Exposure& ex, Price reference,
                             std::uint64_t now_ticks) noexcept {
    if (const RejectReason r = check_common(in.price, in.quantity, reference); r != RejectReason::kNone) return count(r);
    const std::int64_t growth = static_cast<std::int64_t>(in.quantity) - static_cast<std::int64_t>(leaves);
    if (growth > 0 && (in.side == pipeline::Side::kBuy ? ex.position + ex.open_buy + growth > limits_.max_position
                                                       : ex.position - ex.open_sell - growth < -limits_.max_position))
      return count(RejectReason::kPositionLimit);
    if (!take_token(now_ticks)) return count(RejectReason::kOrderRate);
    ++passed_;
    return RejectReason::kNone;
  }

  // Cancels are never refused by limits: they only reduce risk.

  void set_kill_switch(bool on) noexcept { kill_.store(on, std::memory_order_seq_cst); }
  [[nodiscard]] bool kill_switch() const noexcept { return kill_.load(std::memory_order_relaxed); }
  void set_halted(bool on) noexcept { halted_.store(on, std::memory_order_relaxed); }
  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_relaxed); }

  // Limits may change at run time (from the control plane, applied on this stage's thread).
  void set_limits(const RiskLimits& limits) noexcept {
    limits_ = limits;
    if (tokens_ > limits_.order_burst) tokens_ = limits_.order_burst;
  }
  [[nodiscard]] const RiskLimits& limits() const noexcept { return limits_; }

  [[nodiscard]] std::uint64_t rejected(RejectReason r) const noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < rejects_.size() ? rejects_[i] : 0;
  }
  [[nodiscard]] std::uint64_t passed() const noexcept { return passed_; }
  [[nodiscard]] std::uint64_t rejected_total() const noexcept {
    std::uint64_t t = 0;
    for (auto v : rejects_) t += v;
    return t;
  }

 private:
  RejectReason check_common(Price price, Quantity quantity, Price reference) const noexcept {
    if (kill_switch()) return RejectReason::kKillSwitch;
    if (halted()) return RejectReason::kHalted;
    if (quantity == 0 || quantity > limits_.max_order_quantity) return RejectReason::kMaxOrderQuantity;
    if (price <= 0 || static_cast<std::int64_t>(quantity) * price > limits_.max_notional) return RejectReason::kMaxNotional;
    if (reference <= 0) return limits_.require_reference_price ? RejectReason::kNoReferencePrice : RejectReason::kNone;
    const std::int64_t off = price > reference ? price - reference : reference - price;
    if (off * 10'000 > static_cast<std::int64_t>(limits_.price_band_bps) * reference) return RejectReason::kPriceBand;
    return RejectReason::kNone;
  }

  bool take_token(std::uint64_t now_ticks) noexcept {
    if (last_ticks_ != 0 && now_ticks > last_ticks_) {
      tokens_ += static_cast<double>(now_ticks - last_ticks_) / ticks_per_second_ * limits_.max_orders_per_second;
      if (tokens_ > limits_.order_burst) tokens_ = limits_.order_burst;
    }
    last_ticks_ = now_ticks;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  RejectReason count(RejectReason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    if (i < rejects_.size()) ++rejects_[i];
    return r;
  }

  RiskLimits limits_;
  double ticks_per_second_;
  double tokens_;
  std::uint64_t last_ticks_ = 0;
  std::uint64_t passed_ = 0;
  std::array<std::uint64_t, 16> rejects_{};
  alignas(core::kCacheLine) std::atomic<bool> kill_{false};
  std::atomic<bool> halted_{false};
};

}  // namespace hft::risk
