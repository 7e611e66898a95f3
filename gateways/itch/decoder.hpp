#pragma once
// ITCH 5.0 decoding: one message, or a stream of length-prefixed blocks (the framing shared by
// BinaryFILE and MoldUDP64: uint16 big-endian length, then the message).
//
// Dispatch is a switch on the type byte that calls the handler's member for that type; the
// handler is a template parameter, so each call is direct and usually inlined. A handler
// implements only the members it cares about:
//
//   struct Counter {
//     void on_add_order(const hft::itch::AddOrder& m) noexcept { ... }     // 'A'
//     void on_order_delete(const hft::itch::OrderDelete& m) noexcept { ... }
//   };
//
// Members: on_system_event (S), on_stock_directory (R), on_stock_trading_action (H),
// on_reg_sho_restriction (Y), on_market_participant_position (L), on_mwcb_decline_level (V),
// on_mwcb_status (W), on_ipo_quoting_period_update (K), on_luld_auction_collar (J),
// on_operational_halt (h), on_add_order (A), on_add_order_mpid (F; falls back to on_add_order),
// on_order_executed (E), on_order_executed_with_price (C; falls back to on_order_executed), on_order_cancel (X),
// on_order_delete (D), on_order_replace (U), on_trade (P), on_cross_trade (Q),
// on_broken_trade (B), on_noii (I), on_rpii (N), on_direct_listing_capital_raise (O).
//
// Bad input never crashes and never reads out of bounds: an unknown type, a length that does not
// match the type, or a block that runs past the buffer is counted and skipped by its length.
#include <array>
#include <cstddef>
#include <cstdint>

#include "gateways/common/endian.hpp"
#include "gateways/itch/messages.hpp"

namespace hft::itch {

enum class DecodeResult : std::uint8_t {
  kOk,           // dispatched (or the handler had no member for the type: ignored)
  kEmpty,        // zero-length message
  kUnknownType,  // not one of the 23 ITCH 5.0 types
  kBadLength,    // known type, wrong length
};

struct DecodeStats {
  std::array<std::uint64_t, 256> by_type{};  // messages dispatched, by type byte
  std::uint64_t messages = 0;                // dispatched
  std::uint64_t bytes = 0;                   // bytes of dispatched messages
  std::uint64_t empty = 0;
  std::uint64_t unknown_type = 0;
  std::uint64_t bad_length = 0;
  std::uint64_t truncated = 0;               // a block whose length runs past the end of the buffer

  void count(DecodeResult r, const std::uint8_t* msg, std::size_t len) noexcept {
    switch (r) {
      case DecodeResult::kOk:
        ++messages;
        bytes += len;
        ++by_type[msg[0]];
        break;
      case DecodeResult::kEmpty: ++empty; break;
      case DecodeResult::kUnknownType: ++unknown_type; break;
      case DecodeResult::kBadLength: ++bad_length; break;
    }
  }
  [[nodiscard]] std::uint64_t errors() const noexcept { return unknown_type + bad_length + truncated; }
  void merge(const DecodeStats& o) noexcept {
    for (std::size_t i = 0; i < by_type.size(); ++i) by_type[i] += o.by_type[i];
    messages += o.messages;
    bytes += o.bytes;
    empty += o.empty;
    unknown_type += o.unknown_type;
    bad_length += o.bad_length;
    truncated += o.truncated;
  }
};

#define HFT_ITCH_DISPATCH(ch, View, member)                               \
  case ch:                                                                \
    if constexpr (requires { handler.member(View{{msg}}); }) handler.member(View{{msg}}); \
    break;

// Decodes one message of `len` bytes.
template <class Handler>
DecodeResult decode_message(const std::uint8_t* msg, std::size_t len, Handler& handler) noexcept {
  if (len == 0) return DecodeResult::kEmpty;
  const std::uint8_t expected = kMessageLength[msg[0]];
  if (expected == 0) [[unlikely]] return DecodeResult::kUnknownType;
  if (len != expected) [[unlikely]] return DecodeResult::kBadLength;
  switch (static_cast<char>(msg[0])) {
    HFT_ITCH_DISPATCH('A', AddOrder, on_add_order)
    case 'F':
      if constexpr (requires { handler.on_add_order_mpid(AddOrderMpid{{{msg}}}); })
        handler.on_add_order_mpid(AddOrderMpid{{{msg}}});
      else if constexpr (requires { handler.on_add_order(AddOrder{{msg}}); })
        handler.on_add_order(AddOrder{{msg}});
      break;
    HFT_ITCH_DISPATCH('U', OrderReplace, on_order_replace)
    HFT_ITCH_DISPATCH('D', OrderDelete, on_order_delete)
    HFT_ITCH_DISPATCH('E', OrderExecuted, on_order_executed)
    case 'C':  // a handler without the with-price member still sees the execution ('E' fields)
      if constexpr (requires { handler.on_order_executed_with_price(OrderExecutedWithPrice{{{msg}}}); })
        handler.on_order_executed_with_price(OrderExecutedWithPrice{{{msg}}});
      else if constexpr (requires { handler.on_order_executed(OrderExecuted{{msg}}); })
        handler.on_order_executed(OrderExecuted{{msg}});
      break;
    HFT_ITCH_DISPATCH('X', OrderCancel, on_order_cancel)
    HFT_ITCH_DISPATCH('P', Trade, on_trade)
    HFT_ITCH_DISPATCH('Q', CrossTrade, on_cross_trade)
    HFT_ITCH_DISPATCH('B', BrokenTrade, on_broken_trade)
    HFT_ITCH_DISPATCH('I', Noii, on_noii)
    HFT_ITCH_DISPATCH('S', SystemEvent, on_system_event)
    HFT_ITCH_DISPATCH('R', StockDirectory, on_stock_directory)
    HFT_ITCH_DISPATCH('H', StockTradingAction, on_stock_trading_action)
    HFT_ITCH_DISPATCH('Y', RegShoRestriction, on_reg_sho_restriction)
    HFT_ITCH_DISPATCH('L', MarketParticipantPosition, on_market_participant_position)
    HFT_ITCH_DISPATCH('V', MwcbDeclineLevel, on_mwcb_decline_level)
    HFT_ITCH_DISPATCH('W', MwcbStatus, on_mwcb_status)
    HFT_ITCH_DISPATCH('K', IpoQuotingPeriodUpdate, on_ipo_quoting_period_update)
    HFT_ITCH_DISPATCH('J', LuldAuctionCollar, on_luld_auction_collar)
    HFT_ITCH_DISPATCH('h', OperationalHalt, on_operational_halt)
    HFT_ITCH_DISPATCH('N', Rpii, on_rpii)
    HFT_ITCH_DISPATCH('O', DirectListingCapitalRaise, on_direct_listing_capital_raise)
    default:
      break;
  }
  return DecodeResult::kOk;
}

#undef HFT_ITCH_DISPATCH

// Decodes one message and counts the outcome.
template <class Handler>
DecodeResult decode_message(const std::uint8_t* msg, std::size_t len, Handler& handler, DecodeStats& stats) noexcept {
  const DecodeResult r = decode_message(msg, len, handler);
  stats.count(r, msg, len);
  return r;
}

struct BlockStreamResult {
  std::size_t consumed = 0;   // bytes of whole blocks read
  std::size_t blocks = 0;     // blocks read (zero-length ones included)
  bool truncated = false;     // the buffer ended inside a block (header or body)
  bool end_marker = false;    // stopped at a zero-length block (BinaryFILE end of session)
};

// Decodes up to `max_blocks` length-prefixed blocks. With `stop_at_empty`, a zero-length block
// ends the stream (BinaryFILE's end-of-session marker); otherwise it is counted and skipped.
template <class Handler>
BlockStreamResult decode_blocks(const std::uint8_t* data, std::size_t size, Handler& handler, DecodeStats& stats,
                                std::size_t max_blocks = ~std::size_t{0}, bool stop_at_empty = false) noexcept {
  BlockStreamResult r;
  std::size_t off = 0;
  while (r.blocks < max_blocks && off < size) {
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
    decode_message(data + off + 2, len, handler, stats);
    off += 2 + len;
  }
  if (r.truncated) ++stats.truncated;
  r.consumed = off;
  return r;
}

}  // namespace hft::itch
