#pragma once
// Parser stage: in-sequence ITCH 5.0 bytes (RxMessage) -> normalized, fixed-size MdEvents for
// the book stage. Types the book does not use (Y, L, V, W, K, J, h, I, N, O) are counted and not
// forwarded. Records the rx -> parsed hop. A full output ring stops the batch (back-pressure:
// nothing is dropped), and the input message stays in its ring until there is room.
//
// Several venues (issue 14): with an InstrumentMap, each MdEvent's locate is the instrument id of
// the (venue, ITCH locate) it came from (pipeline/stages/instruments.hpp) and `venue` says which
// venue; a message of a locate its venue has not listed is dropped and counted (unmapped()). With
// one venue there is no map and nothing changes (one predictable branch per message).
#include <cstdint>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/itch/decoder.hpp"
#include "pipeline/events.hpp"
#include "pipeline/stages/instruments.hpp"

namespace hft::pipeline {

class ParseStage {
 public:
  static constexpr int kBatch = 64;

  ParseStage(core::SpscRing<RxMessage>& in, core::SpscRing<MdEvent>& out, core::Histogram& rx_to_parsed,
             InstrumentMap* instruments = nullptr) noexcept
      : in_(in), out_(out), hop_(rx_to_parsed), clock_(core::tsc_clock()), instruments_(instruments) {}

  int poll() noexcept {
    int n = 0;
    for (; n < kBatch; ++n) {
      const RxMessage* m = in_.front();
      if (m == nullptr) break;
      MdEvent* e = out_.claim();
      if (e == nullptr) {
        ++backpressure_;
        break;
      }
      if (translate(*m, *e)) {
        e->stage_tsc = core::rdtsc();
        if (m->kind == 0) hop_.record(clock_.to_ns(e->stage_tsc - m->origin_tsc));
        out_.publish();
      }
      in_.pop();
    }
    return n;
  }
  [[nodiscard]] const char* name() const noexcept { return "parse"; }

  [[nodiscard]] const itch::DecodeStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint64_t forwarded() const noexcept { return forwarded_; }
  [[nodiscard]] std::uint64_t backpressure() const noexcept { return backpressure_; }
  // Several venues: messages dropped because their venue's locate has no instrument (yet).
  [[nodiscard]] std::uint64_t unmapped() const noexcept { return unmapped_; }
  [[nodiscard]] const InstrumentMap* instruments() const noexcept { return instruments_; }

 private:
  // Fills `e` from one message; false when nothing is forwarded.
  bool translate(const RxMessage& m, MdEvent& e) noexcept {
    e = MdEvent{};
    e.origin_tsc = m.origin_tsc;
    if (m.kind != 0) {
      e.type = m.kind == 1 ? MdType::kFeedStale : m.kind == 3 ? MdType::kFeedReset : MdType::kFeedFresh;
      if (instruments_ != nullptr) [[unlikely]] {
        e.venue = m.venue;
        if (m.kind == 3) instruments_->reset_venue(m.venue);
      }
      ++forwarded_;
      return true;
    }
    Translator t{&e};
    itch::decode_message(m.bytes.data(), m.length, t, stats_);
    if (instruments_ != nullptr && t.emitted) [[unlikely]] return to_instrument(m, e);
    forwarded_ += t.emitted ? 1 : 0;
    return t.emitted;
  }

  // Several venues: the event's locate becomes the instrument id.
  bool to_instrument(const RxMessage& m, MdEvent& e) noexcept {
    e.venue = m.venue;
    const Locate l = e.locate();
    if (l != 0) {
      const Locate id = e.type == MdType::kDirectory ? instruments_->on_directory(m.venue, l, e.aux)
                                                     : instruments_->map(m.venue, l);
      if (id == InstrumentMap::kNone) {
        ++unmapped_;
        return false;
      }
      e.time_locate = MdEvent::pack(e.timestamp(), id);
    }
    ++forwarded_;
    return true;
  }

  struct Translator {
    MdEvent* e;
    bool emitted = false;
    void head(const itch::Header& h, MdType type) noexcept {
      e->time_locate = MdEvent::pack(h.timestamp(), h.stock_locate());
      e->type = type;
      emitted = true;
    }
    void on_add_order(const itch::AddOrder& m) noexcept {
      head(m, MdType::kAdd);
      e->ref = m.order_reference_number();
      e->side = m.buy_sell_indicator();
      e->shares = m.shares();
      e->price = static_cast<std::int32_t>(m.price());
    }
    void on_order_executed(const itch::OrderExecuted& m) noexcept {
      head(m, MdType::kExecute);
      e->ref = m.order_reference_number();
      e->shares = m.executed_shares();
      e->aux = m.match_number();
    }
    void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) noexcept {
      head(m, MdType::kExecutePrice);
      e->ref = m.order_reference_number();
      e->shares = m.executed_shares();
      e->aux = m.match_number();
      e->price = static_cast<std::int32_t>(m.execution_price());
      e->flags = m.printable() == 'Y' ? 1 : 0;
    }
    void on_order_cancel(const itch::OrderCancel& m) noexcept {
      head(m, MdType::kCancel);
      e->ref = m.order_reference_number();
      e->shares = m.cancelled_shares();
    }
    void on_order_delete(const itch::OrderDelete& m) noexcept {
      head(m, MdType::kDelete);
      e->ref = m.order_reference_number();
    }
    void on_order_replace(const itch::OrderReplace& m) noexcept {
      head(m, MdType::kReplace);
      e->ref = m.original_order_reference_number();
      e->aux = m.new_order_reference_number();
      e->shares = m.shares();
      e->price = static_cast<std::int32_t>(m.price());
    }
    void on_trade(const itch::Trade& m) noexcept {
      head(m, MdType::kTrade);
      e->side = m.buy_sell_indicator();
      e->shares = m.shares();
      e->price = static_cast<std::int32_t>(m.price());
      e->aux = m.match_number();
    }
    void on_cross_trade(const itch::CrossTrade& m) noexcept {
      head(m, MdType::kCrossTrade);
      e->shares = static_cast<std::uint32_t>(m.shares() > 0xffffffffull ? 0xffffffffull : m.shares());
      e->price = static_cast<std::int32_t>(m.cross_price());
      e->aux = m.match_number();
    }
    void on_broken_trade(const itch::BrokenTrade& m) noexcept {
      head(m, MdType::kBrokenTrade);
      e->aux = m.match_number();
    }
    void on_stock_directory(const itch::StockDirectory& m) noexcept {
      head(m, MdType::kDirectory);
      e->aux = m.stock().key();
      e->shares = m.round_lot_size();
      e->side = m.market_category();
    }
    void on_stock_trading_action(const itch::StockTradingAction& m) noexcept {
      head(m, MdType::kTradingState);
      e->aux = m.stock().key();
      e->side = m.trading_state();
    }
    void on_reg_sho_restriction(const itch::RegShoRestriction& m) noexcept {
      head(m, MdType::kRegSho);
      e->aux = m.stock().key();
      e->side = m.reg_sho_action();
    }
    void on_system_event(const itch::SystemEvent& m) noexcept {
      head(m, MdType::kSystemEvent);
      e->side = m.event_code();
    }
  };

  core::SpscRing<RxMessage>& in_;
  core::SpscRing<MdEvent>& out_;
  core::Histogram& hop_;
  const core::TscClock& clock_;
  itch::DecodeStats stats_;
  std::uint64_t forwarded_ = 0;
  std::uint64_t backpressure_ = 0;
  InstrumentMap* instruments_ = nullptr;
  std::uint64_t unmapped_ = 0;
};

}  // namespace hft::pipeline
