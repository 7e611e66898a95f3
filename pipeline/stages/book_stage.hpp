#pragma once
// Book stage: applies normalized market data (MdEvent) to the full-depth books of every stock,
// keeps the shared tables other stages read (stock directory -> SymbolTable; last trade, touch,
// average trade size, trading state and update time of every stock -> risk::ReferencePrices), and publishes BookEvents for the stocks the strategies subscribed to:
// the top 5 levels of both sides whenever they change (the book says when: book::DepthSink), and
// trade prints. Trading states (ITCH 'H': halts, pauses, resumptions) are published for every
// stock, so a strategy that subscribes later still learns the state. Feed-stale / fresh markers
// and trading states wait for room in the output ring: they are state, not a snapshot that the
// next change repeats. Records the parsed -> book hop.
//
// Several venues (issue 14): one BookSet per venue (add_venue(); each sized by [book], indexed by
// instrument id), chosen by the MdEvent's venue; every BookEvent says its venue. A venue's stale /
// fresh / reset markers concern its books alone. Risk's touch of an instrument (ReferencePrices) is
// then the consolidated one: the best bid and ask over the venues whose feed is not stale. With
// one venue none of this runs (one predictable branch per message).
#include <array>
#include <cstdint>
#include <cstring>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/events.hpp"
#include "pipeline/risk/risk.hpp"
#include "pipeline/stages/subscriptions.hpp"
#include "pipeline/symbols.hpp"

namespace hft::pipeline {

struct BookStageCounters {
  std::uint64_t events = 0, depth_events = 0, trade_events = 0, trading_states = 0, overflow = 0, resets = 0;
  std::uint64_t order_events = 0;  // kOrder: L3 facts of messages that left the top levels as they were
};

class BookStage {
 public:
  static constexpr int kBatch = 64;

  BookStage(core::SpscRing<MdEvent>& in, core::SpscRing<BookEvent>& out, book::BookSet& books, SymbolTable& symbols,
            risk::ReferencePrices& refs, const Subscriptions& subs, core::Histogram& parsed_to_book)
      : in_(in), out_(out), books_(&books), symbols_(symbols), refs_(refs), subs_(subs), hop_(parsed_to_book),
        clock_(core::tsc_clock()) {
    venue_books_[0] = &books;
  }

  // Issue 14: the books of the next venue (venue ids in order: the constructor's are venue 0's).
  // Before the stage runs.
  void add_venue(book::BookSet& books) noexcept {
    if (venues_ < kMaxVenues) venue_books_[venues_++] = &books;
  }
  [[nodiscard]] std::size_t venues() const noexcept { return venues_; }
  [[nodiscard]] const book::BookSet& books(VenueId venue) const noexcept { return *venue_books_[venue < venues_ ? venue : 0]; }
  // The venue's feed is stale (as the last marker through this stage said).
  [[nodiscard]] bool venue_stale(VenueId venue) const noexcept { return venue < venues_ && venue_stale_[venue]; }

  int poll() noexcept {
    int n = 0;
    for (; n < kBatch; ++n) {
      const MdEvent* e = in_.front();
      if (e == nullptr) break;
      if (!apply(*e)) break;  // a feed marker waits for room: it must never be dropped
      hop_.record(clock_.to_ns(core::rdtsc() - e->stage_tsc));
      in_.pop();
      // Latency first: once a strategy has something to look at, let it (the next stage of a
      // fused thread) run before the rest of the batch.
      if (published_ != 0) {
        published_ = 0;
        ++n;
        break;
      }
    }
    return n;
  }
  [[nodiscard]] const char* name() const noexcept { return "book"; }
  [[nodiscard]] const BookStageCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const book::BookSet& books() const noexcept { return *venue_books_[0]; }

 private:
  // Told by the book that the message just applied changed the top kDepth levels of its stock.
  struct DepthWatch {
    static constexpr std::uint32_t kDepthLevels = kDepth;
    bool changed = false;
    void on_depth_change(std::uint16_t) noexcept { changed = true; }
  };
  static_assert(book::DepthSink<DepthWatch>);

  // False only when a feed marker or a trading state found the output ring full (retried next
  // poll, before anything was applied).
  bool apply(const MdEvent& e) noexcept {
    ++counters_.events;
    if (venues_ > 1) [[unlikely]] books_ = venue_books_[e.venue < venues_ ? e.venue : 0];
    const Locate l = e.locate();
    const std::uint64_t ts = e.timestamp();
    books_->set_rx_tsc(e.origin_tsc);
    const auto price = static_cast<std::uint32_t>(e.price);
    l3_ = L3Fact{};
    if (subs_.test(l)) l3_fact(e, l, price);
    switch (e.type) {
      case MdType::kAdd: books_->add_order(ts, l, e.ref, e.side, e.shares, price, sink_); break;
      case MdType::kExecute: {
        const char aggressor = aggressor_of(e.ref);
        books_->execute(ts, l, e.ref, e.shares, e.aux, sink_);
        traded(e, l, aggressor);
        return true;
      }
      case MdType::kExecutePrice: {
        const char aggressor = aggressor_of(e.ref);
        books_->execute_with_price(ts, l, e.ref, e.shares, e.aux, (e.flags & 1) ? 'Y' : 'N', price, sink_);
        traded(e, l, aggressor);
        return true;
      }
      case MdType::kCancel: books_->cancel(ts, l, e.ref, e.shares, sink_); break;
      case MdType::kDelete: books_->remove(ts, l, e.ref, sink_); break;
      case MdType::kReplace: {
        const std::uint64_t refused = books_->stats().duplicate_order + books_->stats().bad_quantity;
        books_->replace(ts, l, e.ref, e.aux, e.shares, price, sink_);
        // A replace the book refused after removing the old order still removed it.
        if (books_->stats().duplicate_order + books_->stats().bad_quantity != refused) l3_.new_shares = 0;
        break;
      }
      case MdType::kTrade:
        books_->trade(ts, l, e.shares, price, e.aux, 'P');
        traded(e, l, ' ');  // 'P' carries no usable side since 2014 (spec revision log)
        return true;
      case MdType::kCrossTrade:
        books_->trade(ts, l, e.shares, price, e.aux, 'Q');
        traded(e, l, ' ');
        return true;
      case MdType::kBrokenTrade: books_->broken_trade(ts, l, e.aux); return true;
      case MdType::kDirectory: {
        itch::Symbol symbol;
        std::memcpy(symbol.chars.data(), &e.aux, sizeof symbol.chars);
        books_->stock_directory(ts, l, symbol, e.shares, e.side);
        symbols_.set(l, e.aux);
        return true;
      }
      case MdType::kTradingState: return trading_state(e, l);
      case MdType::kRegSho: refs_.set_reg_sho(l, e.side); return true;  // risk's short-sale price test (issue 11)
      case MdType::kSystemEvent: books_->system_event(ts, e.side); return true;
      case MdType::kFeedStale:
        if (!control(e, BookEventType::kFeedStale)) return false;
        books_->mark_all_stale();
        set_venue_stale(e.venue, true);
        return true;
      case MdType::kFeedFresh:
        if (!control(e, BookEventType::kFeedFresh)) return false;
        set_venue_stale(e.venue, false);
        return true;
      case MdType::kFeedReset:
        // The strategies hear "stale" (their books are stale until the new session's directory
        // and orders rebuild them; the net stage sends "fresh" once it has no hole).
        if (!control(e, BookEventType::kFeedReset)) return false;
        books_->reset();
        set_venue_stale(e.venue, true);
        ++counters_.resets;
        return true;
    }
    depth_changed(e, l);
    return true;
  }

  // The L3 fact of an order-book message of a subscribed stock, read from the resting order before
  // the message changes it (the same rules as the features' book driver: pipeline/features/book_driver.hpp).
  struct L3Fact {
    L3Kind kind = L3Kind::kNone;
    std::uint8_t side = 0;
    std::uint32_t price = 0, shares = 0, new_shares = 0;
  };
  void l3_fact(const MdEvent& e, Locate l, std::uint32_t price) noexcept {
    if (e.type == MdType::kAdd) {
      if (e.shares != 0 && price != 0 && (e.side == 'B' || e.side == 'S'))
        l3_ = L3Fact{L3Kind::kAdd, static_cast<std::uint8_t>(e.side == 'S'), price, e.shares, 0};
      return;
    }
    L3Kind kind;
    switch (e.type) {
      case MdType::kExecute:
      case MdType::kExecutePrice: kind = L3Kind::kExecute; break;
      case MdType::kCancel: kind = L3Kind::kCancel; break;
      case MdType::kDelete: kind = L3Kind::kDelete; break;
      case MdType::kReplace: kind = L3Kind::kReplace; break;
      default: return;
    }
    const book::Order* o = books_->find_order(e.ref);
    if (o == nullptr || o->locate != l) return;
    const std::uint32_t rest = o->shares;
    l3_.kind = kind;
    l3_.side = o->side;
    l3_.price = e.type == MdType::kExecutePrice ? price : o->price;
    l3_.shares = kind == L3Kind::kDelete || kind == L3Kind::kReplace ? rest : e.shares < rest ? e.shares : rest;
    if (kind == L3Kind::kReplace) {
      l3_.price = price;
      l3_.new_shares = e.shares;
    }
  }

  // Publishes the depth if the message changed it (and clears the book's report either way), or
  // else the message's L3 fact alone (kOrder). Every stock's touch goes to risk's market
  // reference table, subscribed or not.
  void depth_changed(const MdEvent& e, Locate l) noexcept {
    if (!sink_.changed) {
      if (l3_.kind != L3Kind::kNone) publish_order(e, l);
      return;
    }
    sink_.changed = false;
    if (venues_ > 1) [[unlikely]] {
      consolidated_touch(e, l);
    } else {
      const book::Level bid = books_->best(l, book::Side::kBid), ask = books_->best(l, book::Side::kAsk);
      refs_.set_touch(l, static_cast<Price>(bid.price), static_cast<Price>(ask.price), stamp(e));
    }
    if (subs_.test(l)) publish_depth(e, l);
  }
  // Several venues: risk's touch is the best bid and ask over the venues whose feed is fresh.
  void consolidated_touch(const MdEvent& e, Locate l) noexcept {
    std::uint32_t bid = 0, ask = 0;
    for (std::size_t v = 0; v < venues_; ++v) {
      if (venue_stale_[v]) continue;
      const book::Level b = venue_books_[v]->best(l, book::Side::kBid), a = venue_books_[v]->best(l, book::Side::kAsk);
      if (b.shares != 0 && b.price > bid) bid = b.price;
      if (a.shares != 0 && a.price != 0 && (ask == 0 || a.price < ask)) ask = a.price;
    }
    refs_.set_touch(l, static_cast<Price>(bid), static_cast<Price>(ask), stamp(e));
  }
  void set_venue_stale(VenueId venue, bool stale) noexcept {
    if (venue < venues_) venue_stale_[venue] = stale;
  }

  // The time of a market update for risk's staleness check: the packet's TSC (now, if none).
  static std::uint64_t stamp(const MdEvent& e) noexcept { return e.origin_tsc != 0 ? e.origin_tsc : core::rdtsc(); }

  // An execution's aggressor is on the other side of the resting order it hit.
  char aggressor_of(std::uint64_t ref) const noexcept {
    const book::Order* o = books_->find_order(ref);
    return o == nullptr ? ' ' : o->side == 0 ? 'S' : 'B';
  }

  void traded(const MdEvent& e, Locate l, char aggressor) noexcept {
    const book::StockInfo info = books_->info(l);
    const std::uint32_t px = info.last_trade.price;
    if (px != 0) refs_.set(l, static_cast<Price>(px), static_cast<std::uint32_t>(info.last_trade.shares), stamp(e));
    if (!subs_.test(l)) {
      depth_changed(e, l);
      return;
    }
    BookEvent* out = claim(e, BookEventType::kTrade, l);
    if (out == nullptr) {
      ++counters_.overflow;
    } else {
      out->trade_side = aggressor;
      out->trade_price = static_cast<std::int32_t>(px);
      out->trade_shares = static_cast<std::uint32_t>(info.last_trade.shares);
      publish(out);
      ++counters_.trade_events;
    }
    depth_changed(e, l);  // an execution also changes the depth
  }

  // Every event carries the full depth, so a change lost to a full ring (counted) is made good
  // by the next change of the same stock.
  void publish_depth(const MdEvent& e, Locate l) noexcept {
    BookEvent* out = claim(e, BookEventType::kDepthChange, l);
    if (out == nullptr) {
      ++counters_.overflow;
      return;
    }
    const book::BookDepth<kDepth> d = books_->depth<kDepth>(l);
    for (int i = 0; i < kDepth; ++i) {
      const auto k = static_cast<std::size_t>(i);
      out->bids[i] = {static_cast<std::int32_t>(d.bids[k].price), static_cast<std::uint32_t>(d.bids[k].shares)};
      out->asks[i] = {static_cast<std::int32_t>(d.asks[k].price), static_cast<std::uint32_t>(d.asks[k].shares)};
    }
    out->bid_orders = static_cast<std::uint16_t>(d.bids[0].orders > 0xffff ? 0xffff : d.bids[0].orders);
    out->ask_orders = static_cast<std::uint16_t>(d.asks[0].orders > 0xffff ? 0xffff : d.asks[0].orders);
    out->set_l3(l3_.kind, l3_.side, l3_.price, l3_.shares, l3_.new_shares);
    publish(out);
    ++counters_.depth_events;
  }
  void publish_order(const MdEvent& e, Locate l) noexcept {
    BookEvent* out = claim(e, BookEventType::kOrder, l);
    if (out == nullptr) {
      ++counters_.overflow;
      return;
    }
    out->set_l3(l3_.kind, l3_.side, l3_.price, l3_.shares, l3_.new_shares);
    publish(out);
    ++counters_.order_events;
  }

  // ITCH 'H' (spec 1.2.2): 'H' halted, 'P' paused, 'Q' quotation only, 'T' trading.
  bool trading_state(const MdEvent& e, Locate l) noexcept {
    BookEvent* out = claim(e, BookEventType::kTradingState, l);
    if (out == nullptr) return false;
    books_->trading_action(e.timestamp(), l, e.side, sink_);
    refs_.set_state(l, e.side, stamp(e));
    out->set_trading_state(e.side);
    publish(out);
    ++counters_.trading_states;
    return true;
  }

  bool control(const MdEvent& e, BookEventType type) noexcept {
    BookEvent* out = out_.claim();
    if (out == nullptr) return false;
    *out = BookEvent{};
    out->origin_tsc = e.origin_tsc;
    out->stage_tsc = core::rdtsc();
    out->type = type;
    out->venue = e.venue;
    out_.publish();
    return true;
  }

  // An event of `type` about stock `l` for the message `e` (nullptr when the ring is full).
  BookEvent* claim(const MdEvent& e, BookEventType type, Locate l) noexcept {
    BookEvent* out = out_.claim();
    if (out == nullptr) return nullptr;
    *out = BookEvent{};
    out->origin_tsc = e.origin_tsc;
    out->timestamp = e.timestamp();
    out->locate = l;
    out->type = type;
    out->venue = e.venue;
    return out;
  }
  // Stamps the stage time last (the book -> decision hop starts when the event is complete).
  void publish(BookEvent* out) noexcept {
    out->stage_tsc = core::rdtsc();
    out_.publish();
    ++published_;
  }

  core::SpscRing<MdEvent>& in_;
  core::SpscRing<BookEvent>& out_;
  book::BookSet* books_;  // the books of the event being applied (venue_books_[its venue])
  std::array<book::BookSet*, kMaxVenues> venue_books_{};
  std::array<bool, kMaxVenues> venue_stale_{};
  std::size_t venues_ = 1;
  SymbolTable& symbols_;
  risk::ReferencePrices& refs_;
  const Subscriptions& subs_;
  core::Histogram& hop_;
  const core::TscClock& clock_;
  DepthWatch sink_;
  L3Fact l3_;  // of the message being applied (subscribed stocks only)
  std::uint32_t published_ = 0;  // events published by the message being applied
  BookStageCounters counters_;
};

}  // namespace hft::pipeline
