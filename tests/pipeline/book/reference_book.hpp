#pragma once
// A deliberately simple full-depth book for tests and as the benchmark's baseline: ordered maps
// per side, a hash map of orders, no pools, no cleverness. It applies the same rules as
// hft::book::BookSet (unknown references skipped, executions and cancels clamped to what rests,
// a replace inherits side and stock, zero quantities and bad sides dropped) so the two can be
// compared level by level. It also records every rule a generated day must never break.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

#include "gateways/itch/messages.hpp"
#include "pipeline/book/book_set.hpp"

namespace hft::book::testing {

class ReferenceBook {
 public:
  struct Order {
    std::uint16_t locate;
    bool bid;
    std::uint32_t price;
    std::uint32_t shares;
  };
  struct LevelSum {
    std::uint64_t shares = 0;
    std::uint32_t orders = 0;
  };
  struct Book {
    std::map<std::uint32_t, LevelSum, std::greater<>> bids;  // best first
    std::map<std::uint32_t, LevelSum> asks;                 // best first
  };
  // Things a valid day never does.
  struct Violations {
    std::uint64_t unknown_order = 0;
    std::uint64_t over_execution = 0;
    std::uint64_t full_cancel_by_x = 0;  // an 'X' that removes every share (that is a 'D')
    std::uint64_t duplicate_order = 0;
    std::uint64_t crossed_or_locked = 0;
    std::uint64_t bad_field = 0;  // side, zero shares or price, locate 0
  };

  explicit ReferenceBook(std::uint32_t max_locate = 65535) : max_locate_(max_locate) {}

  // ---- ITCH handler members ----
  void on_add_order(const itch::AddOrder& m) {
    add(m.stock_locate(), m.order_reference_number(), m.buy_sell_indicator(), m.shares(), m.price());
  }
  void on_order_executed(const itch::OrderExecuted& m) {
    reduce(m.stock_locate(), m.order_reference_number(), m.executed_shares(), false);
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) {
    reduce(m.stock_locate(), m.order_reference_number(), m.executed_shares(), false);
  }
  void on_order_cancel(const itch::OrderCancel& m) {
    reduce(m.stock_locate(), m.order_reference_number(), m.cancelled_shares(), true);
  }
  void on_order_delete(const itch::OrderDelete& m) {
    const auto it = find(m.stock_locate(), m.order_reference_number());
    if (it == orders_.end()) return;
    reduce(m.stock_locate(), m.order_reference_number(), it->second.shares, false);
  }
  void on_order_replace(const itch::OrderReplace& m) {
    const auto it = find(m.stock_locate(), m.original_order_reference_number());
    if (it == orders_.end()) return;
    const Order old = it->second;
    reduce(m.stock_locate(), m.original_order_reference_number(), old.shares, false);
    add(old.locate, m.new_order_reference_number(), old.bid ? 'B' : 'S', m.shares(), m.price());
  }

  // ---- queries ----
  // Copies up to out.size() levels of one side, best first; returns how many.
  std::size_t top(std::uint16_t locate, Side side, std::span<Level> out) const {
    const auto b = books_.find(locate);
    if (b == books_.end()) return 0;
    std::size_t n = 0;
    auto take = [&](const auto& levels) {
      for (const auto& [price, sum] : levels) {
        if (n == out.size()) break;
        out[n++] = Level{sum.shares, price, sum.orders};
      }
    };
    if (side == Side::kBid) {
      take(b->second.bids);
    } else {
      take(b->second.asks);
    }
    return n;
  }
  [[nodiscard]] std::vector<Level> levels(std::uint16_t locate, Side side) const {
    std::vector<Level> out(100000);
    out.resize(top(locate, side, out));
    return out;
  }
  [[nodiscard]] Level best(std::uint16_t locate, Side side) const {
    Level l{};
    top(locate, side, std::span<Level>(&l, 1));
    return l;
  }
  [[nodiscard]] const Violations& violations() const noexcept { return v_; }
  [[nodiscard]] std::size_t live_orders() const noexcept { return orders_.size(); }
  [[nodiscard]] const std::unordered_map<std::uint16_t, Book>& books() const noexcept { return books_; }
  [[nodiscard]] const Order* order(std::uint64_t ref) const {
    const auto it = orders_.find(ref);
    return it == orders_.end() ? nullptr : &it->second;
  }

 private:
  using Orders = std::unordered_map<std::uint64_t, Order>;

  Orders::iterator find(std::uint16_t locate, std::uint64_t ref) {
    const auto it = orders_.find(ref);
    if (it == orders_.end()) {
      ++v_.unknown_order;
      return it;
    }
    if (it->second.locate != locate) return orders_.end();
    return it;
  }

  void add(std::uint16_t locate, std::uint64_t ref, char side, std::uint32_t shares, std::uint32_t price) {
    if (locate == 0 || locate > max_locate_ || (side != 'B' && side != 'S') || shares == 0 || price == 0) {
      ++v_.bad_field;
      return;
    }
    if (!orders_.emplace(ref, Order{locate, side == 'B', price, shares}).second) {
      ++v_.duplicate_order;
      return;
    }
    Book& b = books_[locate];
    LevelSum& l = side == 'B' ? b.bids[price] : b.asks[price];
    l.shares += shares;
    ++l.orders;
    check_cross(b);
  }

  void reduce(std::uint16_t locate, std::uint64_t ref, std::uint32_t n, bool is_x) {
    const auto it = find(locate, ref);
    if (it == orders_.end()) return;
    Order& o = it->second;
    if (n > o.shares) {
      ++v_.over_execution;
      n = o.shares;
    }
    if (is_x && n == o.shares) ++v_.full_cancel_by_x;
    Book& b = books_[o.locate];
    auto apply = [&](auto& side) {
      const auto lv = side.find(o.price);
      lv->second.shares -= n;
      o.shares -= n;
      if (o.shares == 0) {
        if (--lv->second.orders == 0) side.erase(lv);
        orders_.erase(it);
      }
    };
    if (o.bid) {
      apply(b.bids);
    } else {
      apply(b.asks);
    }
  }

  void check_cross(const Book& b) {
    if (!b.bids.empty() && !b.asks.empty() && b.bids.begin()->first >= b.asks.begin()->first) ++v_.crossed_or_locked;
  }

  std::uint32_t max_locate_;
  Orders orders_;
  std::unordered_map<std::uint16_t, Book> books_;
  Violations v_;
};

}  // namespace hft::book::testing
