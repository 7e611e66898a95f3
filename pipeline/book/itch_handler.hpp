#pragma once
// ITCH 5.0 -> BookSet adapter: a handler for hft::itch::decode_message / decode_blocks, so
//
//   hft::book::ItchBookHandler handler(books, sink);
//   hft::itch::decode_message(msg, len, handler);
//
// builds the books straight from wire bytes. Each member reads the fields it needs from the
// message view (one big-endian load each) and calls the BookSet operation; the sink receives
// TopOfBook (and, when enabled, LevelUpdate) events. Message types that do not change a book
// (Y, L, V, W, K, J, h, I, N, O) have no member, so the decoder skips them at no cost.
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/book/book_set.hpp"

namespace hft::book {

template <class Sink = NullSink>
class ItchBookHandler {
 public:
  ItchBookHandler(BookSet& books, Sink& sink) noexcept : books_(&books), sink_(&sink) {}

  void on_add_order(const itch::AddOrder& m) noexcept {
    books_->add_order(m.timestamp(), m.stock_locate(), m.order_reference_number(), m.buy_sell_indicator(), m.shares(),
                      m.price(), *sink_, m.stock());
  }
  // 'F' carries an MPID the book does not keep; the decoder falls back to on_add_order.
  void on_order_executed(const itch::OrderExecuted& m) noexcept {
    books_->execute(m.timestamp(), m.stock_locate(), m.order_reference_number(), m.executed_shares(), m.match_number(),
                    *sink_);
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) noexcept {
    books_->execute_with_price(m.timestamp(), m.stock_locate(), m.order_reference_number(), m.executed_shares(),
                               m.match_number(), m.printable(), m.execution_price(), *sink_);
  }
  void on_order_cancel(const itch::OrderCancel& m) noexcept {
    books_->cancel(m.timestamp(), m.stock_locate(), m.order_reference_number(), m.cancelled_shares(), *sink_);
  }
  void on_order_delete(const itch::OrderDelete& m) noexcept {
    books_->remove(m.timestamp(), m.stock_locate(), m.order_reference_number(), *sink_);
  }
  void on_order_replace(const itch::OrderReplace& m) noexcept {
    books_->replace(m.timestamp(), m.stock_locate(), m.original_order_reference_number(),
                    m.new_order_reference_number(), m.shares(), m.price(), *sink_);
  }
  // 'P': a non-displayable order executed; it never rested, so the book is unchanged (spec 1.7.1).
  void on_trade(const itch::Trade& m) noexcept {
    books_->trade(m.timestamp(), m.stock_locate(), m.shares(), m.price(), m.match_number(), 'P');
  }
  void on_cross_trade(const itch::CrossTrade& m) noexcept {
    books_->trade(m.timestamp(), m.stock_locate(), m.shares(), m.cross_price(), m.match_number(), 'Q');
  }
  void on_broken_trade(const itch::BrokenTrade& m) noexcept {
    books_->broken_trade(m.timestamp(), m.stock_locate(), m.match_number());
  }
  void on_stock_directory(const itch::StockDirectory& m) noexcept { books_->stock_directory(m.timestamp(), m); }
  void on_stock_trading_action(const itch::StockTradingAction& m) noexcept {
    books_->trading_action(m.timestamp(), m.stock_locate(), m.trading_state(), *sink_);
  }
  void on_system_event(const itch::SystemEvent& m) noexcept { books_->system_event(m.timestamp(), m.event_code()); }

  [[nodiscard]] BookSet& books() const noexcept { return *books_; }
  [[nodiscard]] Sink& sink() const noexcept { return *sink_; }

 private:
  BookSet* books_;
  Sink* sink_;
};

namespace detail {
inline bool next_block(const std::uint8_t* data, std::size_t size, std::size_t& off, const std::uint8_t*& msg,
                       std::size_t& len) noexcept {
  if (size - off < 2) return false;
  len = wire::load_be16(data + off);
  if (len > size - off - 2) return false;
  msg = data + off + 2;
  off += 2 + len;
  return true;
}
}  // namespace detail

// Lookahead of build_blocks, in messages: the order (its table slot) and the stock of message
// i+16 are requested while message i is applied; a DRAM miss costs a few messages' time. Of 8,
// 16 and 24 ahead, 16 measured fastest. A second stage that reads the prefetched order, or the
// stock, to fetch the level array stalls on its own load and was slower. An add's level array is
// fetched from a small per-locate copy of where its best level is instead (BookSet::best_hint_).
// The figures of these attempts: docs/benchmarks.md, "History of attempts".
inline constexpr int kPrefetchAhead = 16;

// decode_blocks for books: the same framing, results and statistics (BinaryFILE, or the message
// blocks of a MoldUDP64 packet), but while applying message i it asks the cache for the order
// message i+16 names, so the misses of orders that rested for a while overlap instead of
// stalling one after another.
template <class Sink>
itch::BlockStreamResult build_blocks(const std::uint8_t* data, std::size_t size, ItchBookHandler<Sink>& handler,
                                     itch::DecodeStats& stats, bool stop_at_empty = false) noexcept {
  const BookSet& books = handler.books();
  std::size_t ahead = 0;
  const std::uint8_t* m = nullptr;
  std::size_t l = 0;
  for (int i = 0; i < kPrefetchAhead && detail::next_block(data, size, ahead, m, l); ++i) books.prefetch_order(m, l);
  itch::BlockStreamResult r;
  std::size_t off = 0;
  while (off < size) {
    if (size - off < 2) {
      r.truncated = true;
      break;
    }
    const std::size_t len = wire::load_be16(data + off);
    if (len > size - off - 2) {
      r.truncated = true;
      break;
    }
    ++r.blocks;
    if (len == 0 && stop_at_empty) {
      off += 2;
      r.end_marker = true;
      break;
    }
    if (detail::next_block(data, size, ahead, m, l)) books.prefetch_order(m, l);
    itch::decode_message(data + off + 2, len, handler, stats);
    off += 2 + len;
  }
  if (r.truncated) ++stats.truncated;
  r.consumed = off;
  return r;
}

}  // namespace hft::book
