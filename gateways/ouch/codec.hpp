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
#include <type_traits>

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

// How a field of type V sits on the wire: unsigned big-endian numbers, one-character codes,
// fixed-width alpha fields. read() writes into the message in place (a returned Text would be
// built on the stack and copied: a store-forwarding stall per decode).
template <class V>
struct Wire;
template <>
struct Wire<std::uint16_t> {
  static constexpr std::size_t kSize = 2;
  static void read(const std::uint8_t* p, std::uint16_t& v) noexcept { v = wire::load_be16(p); }
  static void write(std::uint8_t* p, std::uint16_t v) noexcept { wire::store_be16(p, v); }
};
template <>
struct Wire<std::uint32_t> {
  static constexpr std::size_t kSize = 4;
  static void read(const std::uint8_t* p, std::uint32_t& v) noexcept { v = wire::load_be32(p); }
  static void write(std::uint8_t* p, std::uint32_t v) noexcept { wire::store_be32(p, v); }
};
template <>
struct Wire<std::uint64_t> {
  static constexpr std::size_t kSize = 8;
  static void read(const std::uint8_t* p, std::uint64_t& v) noexcept { v = wire::load_be64(p); }
  static void write(std::uint8_t* p, std::uint64_t v) noexcept { wire::store_be64(p, v); }
};
template <>
struct Wire<char> {
  static constexpr std::size_t kSize = 1;
  static void read(const std::uint8_t* p, char& v) noexcept { v = static_cast<char>(*p); }
  static void write(std::uint8_t* p, char v) noexcept { *p = static_cast<std::uint8_t>(v); }
};
template <class E>
  requires std::is_enum_v<E>
struct Wire<E> {  // codes: the width of the underlying type (char, or 16-bit reason codes)
  using U = Wire<std::underlying_type_t<E>>;
  static constexpr std::size_t kSize = U::kSize;
  static void read(const std::uint8_t* p, E& v) noexcept {
    std::underlying_type_t<E> u;
    U::read(p, u);
    v = static_cast<E>(u);
  }
  static void write(std::uint8_t* p, E v) noexcept { U::write(p, static_cast<std::underlying_type_t<E>>(v)); }
};
template <std::size_t N>
struct Wire<Text<N>> {
  static constexpr std::size_t kSize = N;
  static void read(const std::uint8_t* p, Text<N>& v) noexcept { std::memcpy(v.chars.data(), p, N); }
  static void write(std::uint8_t* p, const Text<N>& v) noexcept { v.write(p); }
};
template <>
struct Wire<Symbol> {
  static constexpr std::size_t kSize = 8;
  static void read(const std::uint8_t* p, Symbol& v) noexcept { std::memcpy(v.chars.data(), p, 8); }
  static void write(std::uint8_t* p, const Symbol& v) noexcept { std::memcpy(p, v.chars.data(), 8); }
};

// One field of a message: its offset in the fixed part and the member it fills.
template <std::size_t Offset, auto Member>
struct At;
template <std::size_t Offset, class M, class V, V M::*Member>
struct At<Offset, Member> {
  static constexpr std::size_t kOffset = Offset;
  static constexpr std::size_t kSize = Wire<V>::kSize;
  static void read(const std::uint8_t* p, M& m) noexcept { Wire<V>::read(p + Offset, m.*Member); }
  static void write(std::uint8_t* p, const M& m) noexcept { Wire<V>::write(p + Offset, m.*Member); }
};

// A message's fixed part as its fields in wire order, from the byte after the type.
template <class... F>
struct Fields {
  template <class M>
  static void read([[maybe_unused]] const std::uint8_t* p, [[maybe_unused]] M& m) noexcept {
    (F::read(p, m), ...);
  }
  template <class M>
  static void write([[maybe_unused]] std::uint8_t* p, [[maybe_unused]] const M& m) noexcept {
    (F::write(p, m), ...);
  }
  // Where the fields end when each starts where the one before it ends; 0 when one does not.
  static constexpr std::size_t end() noexcept {
    std::size_t at = 1;
    bool contiguous = true;
    ((contiguous = contiguous && F::kOffset == at, at = F::kOffset + F::kSize), ...);
    return contiguous ? at : 0;
  }
};

// The fixed part of each message (spec §2, §3; PROTOCOLS.md §5). decode() and encode() check at
// compile time that the fields leave no gap and fill the fixed part up to the Appendage Length.
template <class T>
struct Layout;

// clang-format off
template <> struct Layout<EnterOrder> : Fields<
    At<1, &EnterOrder::user_ref_num>, At<5, &EnterOrder::side>, At<6, &EnterOrder::quantity>,
    At<10, &EnterOrder::symbol>, At<18, &EnterOrder::price>, At<26, &EnterOrder::time_in_force>,
    At<27, &EnterOrder::display>, At<28, &EnterOrder::capacity>, At<29, &EnterOrder::intermarket_sweep>,
    At<30, &EnterOrder::cross_type>, At<31, &EnterOrder::cl_ord_id>> {};
template <> struct Layout<ReplaceOrder> : Fields<
    At<1, &ReplaceOrder::orig_user_ref_num>, At<5, &ReplaceOrder::user_ref_num>, At<9, &ReplaceOrder::quantity>,
    At<13, &ReplaceOrder::price>, At<21, &ReplaceOrder::time_in_force>, At<22, &ReplaceOrder::display>,
    At<23, &ReplaceOrder::intermarket_sweep>, At<24, &ReplaceOrder::cl_ord_id>> {};
template <> struct Layout<CancelOrder> : Fields<At<1, &CancelOrder::user_ref_num>, At<5, &CancelOrder::quantity>> {};
template <> struct Layout<ModifyOrder> : Fields<
    At<1, &ModifyOrder::user_ref_num>, At<5, &ModifyOrder::side>, At<6, &ModifyOrder::quantity>> {};
template <> struct Layout<AccountQuery> : Fields<> {};

template <> struct Layout<SystemEvent> : Fields<At<1, &SystemEvent::timestamp>, At<9, &SystemEvent::event_code>> {};
template <> struct Layout<OrderAccepted> : Fields<
    At<1, &OrderAccepted::timestamp>, At<9, &OrderAccepted::user_ref_num>, At<13, &OrderAccepted::side>,
    At<14, &OrderAccepted::quantity>, At<18, &OrderAccepted::symbol>, At<26, &OrderAccepted::price>,
    At<34, &OrderAccepted::time_in_force>, At<35, &OrderAccepted::display>,
    At<36, &OrderAccepted::order_reference_number>, At<44, &OrderAccepted::capacity>,
    At<45, &OrderAccepted::intermarket_sweep>, At<46, &OrderAccepted::cross_type>,
    At<47, &OrderAccepted::order_state>, At<48, &OrderAccepted::cl_ord_id>> {};
template <> struct Layout<OrderReplaced> : Fields<
    At<1, &OrderReplaced::timestamp>, At<9, &OrderReplaced::orig_user_ref_num>, At<13, &OrderReplaced::user_ref_num>,
    At<17, &OrderReplaced::side>, At<18, &OrderReplaced::quantity>, At<22, &OrderReplaced::symbol>,
    At<30, &OrderReplaced::price>, At<38, &OrderReplaced::time_in_force>, At<39, &OrderReplaced::display>,
    At<40, &OrderReplaced::order_reference_number>, At<48, &OrderReplaced::capacity>,
    At<49, &OrderReplaced::intermarket_sweep>, At<50, &OrderReplaced::cross_type>,
    At<51, &OrderReplaced::order_state>, At<52, &OrderReplaced::cl_ord_id>> {};
template <> struct Layout<OrderCanceled> : Fields<
    At<1, &OrderCanceled::timestamp>, At<9, &OrderCanceled::user_ref_num>, At<13, &OrderCanceled::quantity>,
    At<17, &OrderCanceled::reason>> {};
template <> struct Layout<AiqCanceled> : Fields<
    At<1, &AiqCanceled::timestamp>, At<9, &AiqCanceled::user_ref_num>, At<13, &AiqCanceled::decrement_shares>,
    At<17, &AiqCanceled::reason>, At<18, &AiqCanceled::quantity_prevented>, At<22, &AiqCanceled::execution_price>,
    At<30, &AiqCanceled::liquidity_flag>, At<31, &AiqCanceled::aiq_strategy>> {};
template <> struct Layout<OrderExecuted> : Fields<
    At<1, &OrderExecuted::timestamp>, At<9, &OrderExecuted::user_ref_num>, At<13, &OrderExecuted::quantity>,
    At<17, &OrderExecuted::price>, At<25, &OrderExecuted::liquidity_flag>, At<26, &OrderExecuted::match_number>> {};
template <> struct Layout<BrokenTrade> : Fields<
    At<1, &BrokenTrade::timestamp>, At<9, &BrokenTrade::user_ref_num>, At<13, &BrokenTrade::match_number>,
    At<21, &BrokenTrade::reason>, At<22, &BrokenTrade::cl_ord_id>> {};
template <> struct Layout<OrderRejected> : Fields<
    At<1, &OrderRejected::timestamp>, At<9, &OrderRejected::user_ref_num>, At<13, &OrderRejected::reason>,
    At<15, &OrderRejected::cl_ord_id>> {};
template <> struct Layout<CancelPending> : Fields<At<1, &CancelPending::timestamp>, At<9, &CancelPending::user_ref_num>> {};
template <> struct Layout<CancelReject> : Fields<At<1, &CancelReject::timestamp>, At<9, &CancelReject::user_ref_num>> {};
template <> struct Layout<OrderPriorityUpdate> : Fields<
    At<1, &OrderPriorityUpdate::timestamp>, At<9, &OrderPriorityUpdate::user_ref_num>, At<13, &OrderPriorityUpdate::price>,
    At<21, &OrderPriorityUpdate::display>, At<22, &OrderPriorityUpdate::order_reference_number>> {};
template <> struct Layout<OrderModified> : Fields<
    At<1, &OrderModified::timestamp>, At<9, &OrderModified::user_ref_num>, At<13, &OrderModified::side>,
    At<14, &OrderModified::quantity>> {};
template <> struct Layout<OrderRestated> : Fields<
    At<1, &OrderRestated::timestamp>, At<9, &OrderRestated::user_ref_num>, At<13, &OrderRestated::reason>> {};
template <> struct Layout<AccountQueryResponse> : Fields<
    At<1, &AccountQueryResponse::timestamp>, At<9, &AccountQueryResponse::next_user_ref_num>> {};
// clang-format on

namespace detail {
// Every field accounted for: the fixed part is the type byte, the fields, and for messages with
// options the 2-byte Appendage Length.
template <class T>
constexpr bool kLayoutFillsFixedPart = Layout<T>::end() == T::kFixedSize - (T::kHasAppendage ? 2 : 0);
}  // namespace detail

// Decodes one message of `size` bytes into `out`.
template <class T>
[[nodiscard]] DecodeError decode(const std::uint8_t* msg, std::size_t size, T& out) noexcept {
  static_assert(detail::kLayoutFillsFixedPart<T>, "the fields of T's Layout leave a gap or miss its fixed size");
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
  static_assert(detail::kLayoutFillsFixedPart<T>, "the fields of T's Layout leave a gap or miss its fixed size");
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
