#pragma once
// OUCH 5.0 encoding and decoding. One message at a time, delimited by its carrier (the
// SoupBinTCP packet length), never by a table: the fixed part must be exactly the spec's size
// (April 2023 revision), and a message with options must carry an Appendage Length equal to the
// bytes that follow it. Bad input is an error code, never an out-of-bounds read.
//
//   ouch::EnterOrder m;
//   if (ouch::decode(bytes, size, m) == ouch::DecodeError::kOk) ...
//   std::size_t n = ouch::encode(out, capacity, m);       // 0 when capacity is too small
//
// Dispatch by type byte, per direction ('U', 'M' and 'Q' mean different messages inbound and
// outbound); the handler implements on_message(const T&) for the types it wants:
//
//   struct Venue { void on_message(const ouch::EnterOrder&); void on_message(const ouch::CancelOrder&); };
//   ouch::decode_inbound(bytes, size, venue);
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "gateways/common/endian.hpp"
#include "gateways/ouch/appendage.hpp"
#include "gateways/ouch/messages.hpp"
#include "gateways/ouch/types.hpp"

namespace hft::ouch {

enum class DecodeError : std::uint8_t {
  kOk,
  kEmpty,                // zero bytes
  kUnknownType,          // not an OUCH 5.0 type for this direction
  kWrongType,            // decode<T>() of a message whose type byte is not T's
  kBadLength,            // fixed-size message of another size, or shorter than its fixed part
  kAppendageLength,      // Appendage Length does not match the bytes after the fixed part
  kEmptyElement,         // see AppendageError
  kTruncatedElement,
  kBadOptionSize,
  kDuplicateOption,
};

[[nodiscard]] constexpr std::string_view to_string(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::kOk: return "ok";
    case DecodeError::kEmpty: return "empty message";
    case DecodeError::kUnknownType: return "unknown message type";
    case DecodeError::kWrongType: return "wrong message type";
    case DecodeError::kBadLength: return "wrong length for the message type";
    case DecodeError::kAppendageLength: return "appendage length does not match the message length";
    case DecodeError::kEmptyElement: return "TagValue element of length 0";
    case DecodeError::kTruncatedElement: return "TagValue element runs past the appendage";
    case DecodeError::kBadOptionSize: return "option value of the wrong size";
    case DecodeError::kDuplicateOption: return "option given twice";
  }
  return "?";
}

[[nodiscard]] constexpr DecodeError from(AppendageError e) noexcept {
  switch (e) {
    case AppendageError::kNone: return DecodeError::kOk;
    case AppendageError::kEmptyElement: return DecodeError::kEmptyElement;
    case AppendageError::kTruncated: return DecodeError::kTruncatedElement;
    case AppendageError::kBadOptionSize: return DecodeError::kBadOptionSize;
    case AppendageError::kDuplicateOption: return DecodeError::kDuplicateOption;
  }
  return DecodeError::kTruncatedElement;
}

// Field offsets of each message's fixed part (spec §2, §3; PROTOCOLS.md §5).
template <class T>
struct Layout;

namespace detail {
using wire::load_be16;
using wire::load_be32;
using wire::load_be64;
using wire::store_be16;
using wire::store_be32;
using wire::store_be64;
template <class E>
inline E ch(const std::uint8_t* p) noexcept {
  return static_cast<E>(static_cast<char>(*p));
}
template <class E>
inline void put(std::uint8_t* p, E v) noexcept {
  *p = static_cast<std::uint8_t>(static_cast<char>(v));
}
inline Symbol symbol(const std::uint8_t* p) noexcept { return Symbol::from_wire(p); }
inline void put_symbol(std::uint8_t* p, const Symbol& s) noexcept { std::memcpy(p, s.chars.data(), 8); }
}  // namespace detail

template <>
struct Layout<EnterOrder> {
  static void read(const std::uint8_t* p, EnterOrder& m) noexcept {
    using namespace detail;
    m.user_ref_num = load_be32(p + 1);
    m.side = ch<Side>(p + 5);
    m.quantity = load_be32(p + 6);
    m.symbol = symbol(p + 10);
    m.price = load_be64(p + 18);
    m.time_in_force = ch<TimeInForce>(p + 26);
    m.display = ch<Display>(p + 27);
    m.capacity = ch<Capacity>(p + 28);
    m.intermarket_sweep = ch<IntermarketSweep>(p + 29);
    m.cross_type = ch<CrossType>(p + 30);
    m.cl_ord_id = ClOrdId::from_wire(p + 31);
  }
  static void write(std::uint8_t* p, const EnterOrder& m) noexcept {
    using namespace detail;
    store_be32(p + 1, m.user_ref_num);
    put(p + 5, m.side);
    store_be32(p + 6, m.quantity);
    put_symbol(p + 10, m.symbol);
    store_be64(p + 18, m.price);
    put(p + 26, m.time_in_force);
    put(p + 27, m.display);
    put(p + 28, m.capacity);
    put(p + 29, m.intermarket_sweep);
    put(p + 30, m.cross_type);
    m.cl_ord_id.write(p + 31);
  }
};

template <>
struct Layout<ReplaceOrder> {
  static void read(const std::uint8_t* p, ReplaceOrder& m) noexcept {
    using namespace detail;
    m.orig_user_ref_num = load_be32(p + 1);
    m.user_ref_num = load_be32(p + 5);
    m.quantity = load_be32(p + 9);
    m.price = load_be64(p + 13);
    m.time_in_force = ch<TimeInForce>(p + 21);
    m.display = ch<Display>(p + 22);
    m.intermarket_sweep = ch<IntermarketSweep>(p + 23);
    m.cl_ord_id = ClOrdId::from_wire(p + 24);
  }
  static void write(std::uint8_t* p, const ReplaceOrder& m) noexcept {
    using namespace detail;
    store_be32(p + 1, m.orig_user_ref_num);
    store_be32(p + 5, m.user_ref_num);
    store_be32(p + 9, m.quantity);
    store_be64(p + 13, m.price);
    put(p + 21, m.time_in_force);
    put(p + 22, m.display);
    put(p + 23, m.intermarket_sweep);
    m.cl_ord_id.write(p + 24);
  }
};

template <>
struct Layout<CancelOrder> {
  static void read(const std::uint8_t* p, CancelOrder& m) noexcept {
    m.user_ref_num = detail::load_be32(p + 1);
    m.quantity = detail::load_be32(p + 5);
  }
  static void write(std::uint8_t* p, const CancelOrder& m) noexcept {
    detail::store_be32(p + 1, m.user_ref_num);
    detail::store_be32(p + 5, m.quantity);
  }
};

template <>
struct Layout<ModifyOrder> {
  static void read(const std::uint8_t* p, ModifyOrder& m) noexcept {
    m.user_ref_num = detail::load_be32(p + 1);
    m.side = detail::ch<Side>(p + 5);
    m.quantity = detail::load_be32(p + 6);
  }
  static void write(std::uint8_t* p, const ModifyOrder& m) noexcept {
    detail::store_be32(p + 1, m.user_ref_num);
    detail::put(p + 5, m.side);
    detail::store_be32(p + 6, m.quantity);
  }
};

template <>
struct Layout<AccountQuery> {
  static void read(const std::uint8_t*, AccountQuery&) noexcept {}
  static void write(std::uint8_t*, const AccountQuery&) noexcept {}
};

template <>
struct Layout<SystemEvent> {
  static void read(const std::uint8_t* p, SystemEvent& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.event_code = detail::ch<SystemEventCode>(p + 9);
  }
  static void write(std::uint8_t* p, const SystemEvent& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::put(p + 9, m.event_code);
  }
};

template <>
struct Layout<OrderAccepted> {
  static void read(const std::uint8_t* p, OrderAccepted& m) noexcept {
    using namespace detail;
    m.timestamp = load_be64(p + 1);
    m.user_ref_num = load_be32(p + 9);
    m.side = ch<Side>(p + 13);
    m.quantity = load_be32(p + 14);
    m.symbol = symbol(p + 18);
    m.price = load_be64(p + 26);
    m.time_in_force = ch<TimeInForce>(p + 34);
    m.display = ch<Display>(p + 35);
    m.order_reference_number = load_be64(p + 36);
    m.capacity = ch<Capacity>(p + 44);
    m.intermarket_sweep = ch<IntermarketSweep>(p + 45);
    m.cross_type = ch<CrossType>(p + 46);
    m.order_state = ch<OrderState>(p + 47);
    m.cl_ord_id = ClOrdId::from_wire(p + 48);
  }
  static void write(std::uint8_t* p, const OrderAccepted& m) noexcept {
    using namespace detail;
    store_be64(p + 1, m.timestamp);
    store_be32(p + 9, m.user_ref_num);
    put(p + 13, m.side);
    store_be32(p + 14, m.quantity);
    put_symbol(p + 18, m.symbol);
    store_be64(p + 26, m.price);
    put(p + 34, m.time_in_force);
    put(p + 35, m.display);
    store_be64(p + 36, m.order_reference_number);
    put(p + 44, m.capacity);
    put(p + 45, m.intermarket_sweep);
    put(p + 46, m.cross_type);
    put(p + 47, m.order_state);
    m.cl_ord_id.write(p + 48);
  }
};

template <>
struct Layout<OrderReplaced> {
  static void read(const std::uint8_t* p, OrderReplaced& m) noexcept {
    using namespace detail;
    m.timestamp = load_be64(p + 1);
    m.orig_user_ref_num = load_be32(p + 9);
    m.user_ref_num = load_be32(p + 13);
    m.side = ch<Side>(p + 17);
    m.quantity = load_be32(p + 18);
    m.symbol = symbol(p + 22);
    m.price = load_be64(p + 30);
    m.time_in_force = ch<TimeInForce>(p + 38);
    m.display = ch<Display>(p + 39);
    m.order_reference_number = load_be64(p + 40);
    m.capacity = ch<Capacity>(p + 48);
    m.intermarket_sweep = ch<IntermarketSweep>(p + 49);
    m.cross_type = ch<CrossType>(p + 50);
    m.order_state = ch<OrderState>(p + 51);
    m.cl_ord_id = ClOrdId::from_wire(p + 52);
  }
  static void write(std::uint8_t* p, const OrderReplaced& m) noexcept {
    using namespace detail;
    store_be64(p + 1, m.timestamp);
    store_be32(p + 9, m.orig_user_ref_num);
    store_be32(p + 13, m.user_ref_num);
    put(p + 17, m.side);
    store_be32(p + 18, m.quantity);
    put_symbol(p + 22, m.symbol);
    store_be64(p + 30, m.price);
    put(p + 38, m.time_in_force);
    put(p + 39, m.display);
    store_be64(p + 40, m.order_reference_number);
    put(p + 48, m.capacity);
    put(p + 49, m.intermarket_sweep);
    put(p + 50, m.cross_type);
    put(p + 51, m.order_state);
    m.cl_ord_id.write(p + 52);
  }
};

template <>
struct Layout<OrderCanceled> {
  static void read(const std::uint8_t* p, OrderCanceled& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
    m.quantity = detail::load_be32(p + 13);
    m.reason = detail::ch<CancelReason>(p + 17);
  }
  static void write(std::uint8_t* p, const OrderCanceled& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
    detail::store_be32(p + 13, m.quantity);
    detail::put(p + 17, m.reason);
  }
};

template <>
struct Layout<AiqCanceled> {
  static void read(const std::uint8_t* p, AiqCanceled& m) noexcept {
    using namespace detail;
    m.timestamp = load_be64(p + 1);
    m.user_ref_num = load_be32(p + 9);
    m.decrement_shares = load_be32(p + 13);
    m.reason = ch<CancelReason>(p + 17);
    m.quantity_prevented = load_be32(p + 18);
    m.execution_price = load_be64(p + 22);
    m.liquidity_flag = static_cast<char>(p[30]);
    m.aiq_strategy = static_cast<char>(p[31]);
  }
  static void write(std::uint8_t* p, const AiqCanceled& m) noexcept {
    using namespace detail;
    store_be64(p + 1, m.timestamp);
    store_be32(p + 9, m.user_ref_num);
    store_be32(p + 13, m.decrement_shares);
    put(p + 17, m.reason);
    store_be32(p + 18, m.quantity_prevented);
    store_be64(p + 22, m.execution_price);
    p[30] = static_cast<std::uint8_t>(m.liquidity_flag);
    p[31] = static_cast<std::uint8_t>(m.aiq_strategy);
  }
};

template <>
struct Layout<OrderExecuted> {
  static void read(const std::uint8_t* p, OrderExecuted& m) noexcept {
    using namespace detail;
    m.timestamp = load_be64(p + 1);
    m.user_ref_num = load_be32(p + 9);
    m.quantity = load_be32(p + 13);
    m.price = load_be64(p + 17);
    m.liquidity_flag = static_cast<char>(p[25]);
    m.match_number = load_be64(p + 26);
  }
  static void write(std::uint8_t* p, const OrderExecuted& m) noexcept {
    using namespace detail;
    store_be64(p + 1, m.timestamp);
    store_be32(p + 9, m.user_ref_num);
    store_be32(p + 13, m.quantity);
    store_be64(p + 17, m.price);
    p[25] = static_cast<std::uint8_t>(m.liquidity_flag);
    store_be64(p + 26, m.match_number);
  }
};

template <>
struct Layout<BrokenTrade> {
  static void read(const std::uint8_t* p, BrokenTrade& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
    m.match_number = detail::load_be64(p + 13);
    m.reason = detail::ch<BrokenTradeReason>(p + 21);
    m.cl_ord_id = ClOrdId::from_wire(p + 22);
  }
  static void write(std::uint8_t* p, const BrokenTrade& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
    detail::store_be64(p + 13, m.match_number);
    detail::put(p + 21, m.reason);
    m.cl_ord_id.write(p + 22);
  }
};

template <>
struct Layout<OrderRejected> {
  static void read(const std::uint8_t* p, OrderRejected& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
    m.reason = static_cast<RejectReason>(detail::load_be16(p + 13));
    m.cl_ord_id = ClOrdId::from_wire(p + 15);
  }
  static void write(std::uint8_t* p, const OrderRejected& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
    detail::store_be16(p + 13, static_cast<std::uint16_t>(m.reason));
    m.cl_ord_id.write(p + 15);
  }
};

template <>
struct Layout<CancelPending> {
  static void read(const std::uint8_t* p, CancelPending& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
  }
  static void write(std::uint8_t* p, const CancelPending& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
  }
};

template <>
struct Layout<CancelReject> {
  static void read(const std::uint8_t* p, CancelReject& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
  }
  static void write(std::uint8_t* p, const CancelReject& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
  }
};

template <>
struct Layout<OrderPriorityUpdate> {
  static void read(const std::uint8_t* p, OrderPriorityUpdate& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
    m.price = detail::load_be64(p + 13);
    m.display = detail::ch<Display>(p + 21);
    m.order_reference_number = detail::load_be64(p + 22);
  }
  static void write(std::uint8_t* p, const OrderPriorityUpdate& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
    detail::store_be64(p + 13, m.price);
    detail::put(p + 21, m.display);
    detail::store_be64(p + 22, m.order_reference_number);
  }
};

template <>
struct Layout<OrderModified> {
  static void read(const std::uint8_t* p, OrderModified& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
    m.side = detail::ch<Side>(p + 13);
    m.quantity = detail::load_be32(p + 14);
  }
  static void write(std::uint8_t* p, const OrderModified& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
    detail::put(p + 13, m.side);
    detail::store_be32(p + 14, m.quantity);
  }
};

template <>
struct Layout<OrderRestated> {
  static void read(const std::uint8_t* p, OrderRestated& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.user_ref_num = detail::load_be32(p + 9);
    m.reason = detail::ch<RestatedReason>(p + 13);
  }
  static void write(std::uint8_t* p, const OrderRestated& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.user_ref_num);
    detail::put(p + 13, m.reason);
  }
};

template <>
struct Layout<AccountQueryResponse> {
  static void read(const std::uint8_t* p, AccountQueryResponse& m) noexcept {
    m.timestamp = detail::load_be64(p + 1);
    m.next_user_ref_num = detail::load_be32(p + 9);
  }
  static void write(std::uint8_t* p, const AccountQueryResponse& m) noexcept {
    detail::store_be64(p + 1, m.timestamp);
    detail::store_be32(p + 9, m.next_user_ref_num);
  }
};

// Decodes one message of `size` bytes into `out`.
template <class T>
[[nodiscard]] DecodeError decode(const std::uint8_t* msg, std::size_t size, T& out) noexcept {
  if (size == 0) return DecodeError::kEmpty;
  if (msg[0] != static_cast<std::uint8_t>(T::kType)) return DecodeError::kWrongType;
  if constexpr (T::kHasAppendage) {
    if (size < T::kFixedSize) return DecodeError::kBadLength;
    const std::size_t appendage = wire::load_be16(msg + T::kFixedSize - 2);
    if (appendage != size - T::kFixedSize) return DecodeError::kAppendageLength;
    Layout<T>::read(msg, out);
    return from(parse_options(msg + T::kFixedSize, appendage, out.options));
  } else {
    if (size != T::kFixedSize) return DecodeError::kBadLength;
    Layout<T>::read(msg, out);
    return DecodeError::kOk;
  }
}

// Bytes encode() writes for `m`.
template <class T>
[[nodiscard]] std::size_t encoded_size(const T& m) noexcept {
  if constexpr (T::kHasAppendage) {
    return T::kFixedSize + m.options.encoded_size();
  } else {
    (void)m;
    return T::kFixedSize;
  }
}

// Writes `m` at `out`; returns its size, or 0 when `capacity` is too small.
template <class T>
std::size_t encode(std::uint8_t* out, std::size_t capacity, const T& m) noexcept {
  const std::size_t size = encoded_size(m);
  if (capacity < size) return 0;
  out[0] = static_cast<std::uint8_t>(T::kType);
  Layout<T>::write(out, m);
  if constexpr (T::kHasAppendage) {
    wire::store_be16(out + T::kFixedSize - 2, static_cast<std::uint16_t>(size - T::kFixedSize));
    m.options.encode(out + T::kFixedSize);
  }
  return size;
}

namespace detail {
template <class T, class Handler>
DecodeError deliver(const std::uint8_t* msg, std::size_t size, Handler& handler) noexcept {
  T m;
  const DecodeError e = decode(msg, size, m);
  if (e == DecodeError::kOk) {
    if constexpr (requires { handler.on_message(m); }) handler.on_message(m);
  }
  return e;
}
}  // namespace detail

// Client -> host messages (what the venue receives).
template <class Handler>
DecodeError decode_inbound(const std::uint8_t* msg, std::size_t size, Handler& handler) noexcept {
  if (size == 0) return DecodeError::kEmpty;
  switch (msg[0]) {
    case 'O': return detail::deliver<EnterOrder>(msg, size, handler);
    case 'U': return detail::deliver<ReplaceOrder>(msg, size, handler);
    case 'X': return detail::deliver<CancelOrder>(msg, size, handler);
    case 'M': return detail::deliver<ModifyOrder>(msg, size, handler);
    case 'Q': return detail::deliver<AccountQuery>(msg, size, handler);
    default: return DecodeError::kUnknownType;
  }
}

// Host -> client messages (what the appliance receives).
template <class Handler>
DecodeError decode_outbound(const std::uint8_t* msg, std::size_t size, Handler& handler) noexcept {
  if (size == 0) return DecodeError::kEmpty;
  switch (msg[0]) {
    case 'S': return detail::deliver<SystemEvent>(msg, size, handler);
    case 'A': return detail::deliver<OrderAccepted>(msg, size, handler);
    case 'U': return detail::deliver<OrderReplaced>(msg, size, handler);
    case 'C': return detail::deliver<OrderCanceled>(msg, size, handler);
    case 'D': return detail::deliver<AiqCanceled>(msg, size, handler);
    case 'E': return detail::deliver<OrderExecuted>(msg, size, handler);
    case 'B': return detail::deliver<BrokenTrade>(msg, size, handler);
    case 'J': return detail::deliver<OrderRejected>(msg, size, handler);
    case 'P': return detail::deliver<CancelPending>(msg, size, handler);
    case 'I': return detail::deliver<CancelReject>(msg, size, handler);
    case 'T': return detail::deliver<OrderPriorityUpdate>(msg, size, handler);
    case 'M': return detail::deliver<OrderModified>(msg, size, handler);
    case 'R': return detail::deliver<OrderRestated>(msg, size, handler);
    case 'Q': return detail::deliver<AccountQueryResponse>(msg, size, handler);
    default: return DecodeError::kUnknownType;
  }
}

}  // namespace hft::ouch
