#pragma once
// ITCH 5.0 -> BookSet -> FeatureEngine: an ITCH decoder handler that applies each message to the
// books and hands the engine the L3 event (read from the resting order before the message
// changes it: its side, price and remaining shares) and the best levels after it. The depth is
// copied from the book only when the book reports that its best kMaxLevels levels changed
// (book::DepthSink); otherwise the engine's previous depth is still exact.
//
// `Hook` is told around each update: hook.before(locate, ts) before the message is applied (a
// time bar closes on the state before it), hook.after(locate, event) after the engine has it, and
// hook.wants(locate) whether the engine should see the stock at all.
#include <span>

#include "gateways/itch/decoder.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/features/features.hpp"

namespace hft::features {

template <class Hook>
class FeatureBookHandler {
 public:
  FeatureBookHandler(book::BookSet& books, FeatureEngine& engine, Hook& hook) noexcept
      : books_(&books), engine_(&engine), hook_(&hook),
        read_levels_(engine.params().levels > 5 ? engine.params().levels : 5) {}

  void on_add_order(const itch::AddOrder& m) noexcept {
    const std::uint16_t l = m.stock_locate();
    start(l, m.timestamp());
    books_->add_order(m.timestamp(), l, m.order_reference_number(), m.buy_sell_indicator(), m.shares(), m.price(),
                      watch_, m.stock());
    Event e{m.timestamp(), EventKind::kAdd, static_cast<std::uint8_t>(m.buy_sell_indicator() == 'S'), m.shares(),
            m.price(), 0};
    if (m.shares() != 0 && m.price() != 0 && (m.buy_sell_indicator() == 'B' || m.buy_sell_indicator() == 'S'))
      emit(l, e);
  }
  void on_order_executed(const itch::OrderExecuted& m) noexcept {
    Event e;
    const std::uint16_t l = m.stock_locate();
    const bool known = lookup(l, m.order_reference_number(), e);
    start(l, m.timestamp());
    books_->execute(m.timestamp(), l, m.order_reference_number(), m.executed_shares(), m.match_number(), watch_);
    if (known) finish(l, m.timestamp(), EventKind::kExecute, m.executed_shares(), e);
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) noexcept {
    Event e;
    const std::uint16_t l = m.stock_locate();
    const bool known = lookup(l, m.order_reference_number(), e);
    start(l, m.timestamp());
    books_->execute_with_price(m.timestamp(), l, m.order_reference_number(), m.executed_shares(), m.match_number(),
                               m.printable(), m.execution_price(), watch_);
    e.price = m.execution_price();
    if (known) finish(l, m.timestamp(), EventKind::kExecute, m.executed_shares(), e);
  }
  void on_order_cancel(const itch::OrderCancel& m) noexcept {
    Event e;
    const std::uint16_t l = m.stock_locate();
    const bool known = lookup(l, m.order_reference_number(), e);
    start(l, m.timestamp());
    books_->cancel(m.timestamp(), l, m.order_reference_number(), m.cancelled_shares(), watch_);
    if (known) finish(l, m.timestamp(), EventKind::kCancel, m.cancelled_shares(), e);
  }
  void on_order_delete(const itch::OrderDelete& m) noexcept {
    Event e;
    const std::uint16_t l = m.stock_locate();
    const bool known = lookup(l, m.order_reference_number(), e);
    start(l, m.timestamp());
    books_->remove(m.timestamp(), l, m.order_reference_number(), watch_);
    if (known) finish(l, m.timestamp(), EventKind::kDelete, e.shares, e);
  }
  void on_order_replace(const itch::OrderReplace& m) noexcept {
    Event e;
    const std::uint16_t l = m.stock_locate();
    const bool known = lookup(l, m.original_order_reference_number(), e);
    start(l, m.timestamp());
    const std::uint64_t before = books_->stats().duplicate_order + books_->stats().bad_quantity;
    books_->replace(m.timestamp(), l, m.original_order_reference_number(), m.new_order_reference_number(), m.shares(),
                    m.price(), watch_);
    if (!known) return;
    // A replace the book refused after removing the old order still removed it.
    const bool added = books_->stats().duplicate_order + books_->stats().bad_quantity == before;
    e.new_shares = added ? m.shares() : 0;
    e.price = m.price();
    finish(l, m.timestamp(), EventKind::kReplace, e.shares, e);
  }
  void on_stock_directory(const itch::StockDirectory& m) noexcept { books_->stock_directory(m.timestamp(), m); }
  void on_stock_trading_action(const itch::StockTradingAction& m) noexcept {
    books_->trading_action(m.timestamp(), m.stock_locate(), m.trading_state(), watch_);
    watch_.changed = false;
  }
  void on_trade(const itch::Trade& m) noexcept {
    books_->trade(m.timestamp(), m.stock_locate(), m.shares(), m.price(), m.match_number(), 'P');
  }
  void on_cross_trade(const itch::CrossTrade& m) noexcept {
    books_->trade(m.timestamp(), m.stock_locate(), m.shares(), m.cross_price(), m.match_number(), 'Q');
  }
  void on_broken_trade(const itch::BrokenTrade& m) noexcept {
    books_->broken_trade(m.timestamp(), m.stock_locate(), m.match_number());
  }
  void on_system_event(const itch::SystemEvent& m) noexcept { books_->system_event(m.timestamp(), m.event_code()); }

  [[nodiscard]] book::BookSet& books() const noexcept { return *books_; }

 private:
  struct Watch {
    static constexpr std::uint32_t kDepthLevels = kMaxLevels;
    bool changed = false;
    void on_depth_change(std::uint16_t) noexcept { changed = true; }
  };

  void start(std::uint16_t l, std::uint64_t ts) noexcept {
    watch_.changed = false;
    hook_->before(l, ts);
  }
  // The resting order a message names, before the message changes it.
  bool lookup(std::uint16_t locate, std::uint64_t ref, Event& e) const noexcept {
    const book::Order* o = books_->find_order(ref);
    if (o == nullptr || o->locate != locate) return false;
    e.side = o->side;
    e.price = o->price;
    e.shares = o->shares;
    return true;
  }
  void finish(std::uint16_t l, std::uint64_t ts, EventKind kind, std::uint32_t shares, Event& e) noexcept {
    e.timestamp = ts;
    e.kind = kind;
    e.shares = shares < e.shares ? shares : e.shares;  // the book clamps to what rests
    emit(l, e);
  }
  void emit(std::uint16_t l, const Event& e) noexcept {
    if (!hook_->wants(l)) return;
    const Depth* prev = engine_->depth(l);
    if (watch_.changed || prev == nullptr) {
      watch_.changed = false;
      std::array<book::Level, kMaxLevels> lv;
      const std::span<book::Level> span(lv.data(), read_levels_);
      const std::size_t nb = books_->depth(l, book::Side::kBid, span);
      for (std::size_t i = 0; i < read_levels_; ++i) {
        depth_.bid_px[i] = i < nb ? lv[i].price : 0;
        depth_.bid_sz[i] = i < nb ? static_cast<std::int64_t>(lv[i].shares) : 0;
      }
      const std::size_t na = books_->depth(l, book::Side::kAsk, span);
      for (std::size_t i = 0; i < read_levels_; ++i) {
        depth_.ask_px[i] = i < na ? lv[i].price : 0;
        depth_.ask_sz[i] = i < na ? static_cast<std::int64_t>(lv[i].shares) : 0;
      }
      engine_->update(l, e, depth_);
    } else {
      engine_->update(l, e, *prev);
    }
    hook_->after(l, e);
  }

  book::BookSet* books_;
  FeatureEngine* engine_;
  Hook* hook_;
  std::size_t read_levels_;
  Watch watch_;
  Depth depth_;
};

}  // namespace hft::features
