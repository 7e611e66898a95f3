#pragma once
// OUCH 5.0 optional fields (spec §1.2 "TagValue element", Appendix B). A message with options
// ends in an appendage: uint16 Appendage Length, then TagValue elements
//
//   uint8 Length (= 1 + value size: "remaining length of the TagValue element") | uint8 OptionTag | value
//
// Two levels:
//  * AppendageReader walks the raw elements of any appendage, known tags or not, bounds-checked.
//  * Options holds the Appendix B options typed, in a fixed-size trivially copyable struct, and
//    remembers their wire order so that encode(decode(bytes)) == bytes. parse_options() skips
//    (and counts) tags Appendix B does not define, by their length; a known tag with the wrong
//    value size, a repeated tag, or an element that runs past the appendage is an error.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "gateways/common/endian.hpp"
#include "gateways/ouch/types.hpp"

namespace hft::ouch {

// X(name, Name, tag, size, type, kind): every Appendix B option, in tag order.
#define HFT_OUCH_OPTIONS(X)                                                  \
  X(secondary_ord_ref_num, SecondaryOrdRefNum, 1, 8, std::uint64_t, u64)     \
  X(firm, Firm, 2, 4, Firm, text)                                            \
  X(min_qty, MinQty, 3, 4, std::uint32_t, u32)                               \
  X(customer_type, CustomerType, 4, 1, char, ch)                             \
  X(max_floor, MaxFloor, 5, 4, std::uint32_t, u32)                           \
  X(price_type, PriceType, 6, 1, char, ch)                                   \
  X(peg_offset, PegOffset, 7, 4, SignedPrice, i32)                           \
  X(discretion_price, DiscretionPrice, 9, 8, Price, u64)                     \
  X(discretion_price_type, DiscretionPriceType, 10, 1, char, ch)             \
  X(discretion_peg_offset, DiscretionPegOffset, 11, 4, SignedPrice, i32)     \
  X(post_only, PostOnly, 12, 1, char, ch)                                    \
  X(random_reserves, RandomReserves, 13, 4, std::uint32_t, u32)              \
  X(route, Route, 14, 4, Route, text)                                        \
  X(expire_time, ExpireTime, 15, 4, std::uint32_t, u32)                      \
  X(trade_now, TradeNow, 16, 1, char, ch)                                    \
  X(handle_inst, HandleInst, 17, 1, char, ch)                                \
  X(bbo_weight_indicator, BboWeightIndicator, 18, 1, char, ch)               \
  X(display_quantity, DisplayQuantity, 22, 4, std::uint32_t, u32)            \
  X(display_price, DisplayPrice, 23, 8, Price, u64)                          \
  X(group_id, GroupId, 24, 2, std::uint16_t, u16)                            \
  X(shares_located, SharesLocated, 25, 1, char, ch)

enum class OptionTag : std::uint8_t {
#define HFT_OUCH_TAG(name, Name, tag, size, type, kind) k##Name = tag,
  HFT_OUCH_OPTIONS(HFT_OUCH_TAG)
#undef HFT_OUCH_TAG
};

// Value size by tag; 0 for a tag Appendix B does not define.
inline constexpr std::array<std::uint8_t, 256> kOptionSize = [] {
  std::array<std::uint8_t, 256> t{};
#define HFT_OUCH_SIZE(name, Name, tag, size, type, kind) t[tag] = size;
  HFT_OUCH_OPTIONS(HFT_OUCH_SIZE)
#undef HFT_OUCH_SIZE
  return t;
}();
inline constexpr std::size_t kOptionCount = 21;
// Every option once: 21 elements, 70 value bytes + 2 per element.
inline constexpr std::size_t kMaxKnownAppendage = 112;

enum class AppendageError : std::uint8_t {
  kNone,
  kEmptyElement,      // Length 0: an element without a tag
  kTruncated,         // an element runs past the end of the appendage
  kBadOptionSize,     // an Appendix B tag whose value is not the size it defines
  kDuplicateOption,   // the same Appendix B tag twice
};

[[nodiscard]] constexpr std::string_view to_string(AppendageError e) noexcept {
  switch (e) {
    case AppendageError::kNone: return "none";
    case AppendageError::kEmptyElement: return "TagValue element of length 0";
    case AppendageError::kTruncated: return "TagValue element runs past the appendage";
    case AppendageError::kBadOptionSize: return "option value of the wrong size";
    case AppendageError::kDuplicateOption: return "option given twice";
  }
  return "?";
}

struct TagValue {
  std::uint8_t tag = 0;
  const std::uint8_t* value = nullptr;
  std::size_t size = 0;
};

// Walks the TagValue elements of an appendage body (the bytes after Appendage Length).
class AppendageReader {
 public:
  AppendageReader(const std::uint8_t* data, std::size_t size) noexcept : p_(data), end_(data + size) {}
  // The next element; false at the end or on a malformed element (then error() says which).
  bool next(TagValue& out) noexcept {
    if (p_ == end_ || error_ != AppendageError::kNone) return false;
    const std::size_t length = p_[0];
    if (length == 0) return fail(AppendageError::kEmptyElement);
    if (static_cast<std::size_t>(end_ - p_ - 1) < length) return fail(AppendageError::kTruncated);
    out.tag = p_[1];
    out.value = p_ + 2;
    out.size = length - 1;
    p_ += 1 + length;
    return true;
  }
  [[nodiscard]] AppendageError error() const noexcept { return error_; }

 private:
  bool fail(AppendageError e) noexcept {
    error_ = e;
    return false;
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  AppendageError error_ = AppendageError::kNone;
};

class Options {
 public:
  [[nodiscard]] bool has(OptionTag t) const noexcept { return (present_ >> static_cast<unsigned>(t)) & 1u; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  // Tags of the options present, in wire order.
  [[nodiscard]] OptionTag tag_at(std::size_t i) const noexcept { return static_cast<OptionTag>(order_[i]); }
  // Elements with a tag Appendix B does not define, skipped by parse_options().
  [[nodiscard]] std::uint16_t unknown_skipped() const noexcept { return unknown_; }

  // Typed access: firm() -> std::optional<Firm>, set_firm(Firm), ... for every option. A setter
  // appends the option to the wire order the first time and overwrites its value after that.
#define HFT_OUCH_ACCESS(name, Name, tag, size, type, kind)                                     \
  [[nodiscard]] std::optional<type> name() const noexcept {                                    \
    return has(OptionTag::k##Name) ? std::optional<type>(name##_) : std::nullopt;             \
  }                                                                                            \
  Options& set_##name(type v) noexcept {                                                       \
    name##_ = v;                                                                               \
    mark(OptionTag::k##Name);                                                                  \
    return *this;                                                                              \
  }
  HFT_OUCH_OPTIONS(HFT_OUCH_ACCESS)
#undef HFT_OUCH_ACCESS

  // Forgets every option. Values of absent options are never read (the getters and == check
  // presence first), so only the bookkeeping is reset: decoding does not pay for ~130 bytes.
  void clear() noexcept {
    present_ = 0;
    count_ = 0;
    unknown_ = 0;
  }

  // Bytes encode() writes (the elements, without the Appendage Length field).
  [[nodiscard]] std::size_t encoded_size() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < count_; ++i) n += 2 + kOptionSize[order_[i]];
    return n;
  }
  // Writes the elements in wire order; returns encoded_size().
  std::size_t encode(std::uint8_t* out) const noexcept {
    std::uint8_t* p = out;
    for (std::size_t i = 0; i < count_; ++i) {
      const std::uint8_t tag = order_[i];
      p[0] = static_cast<std::uint8_t>(1 + kOptionSize[tag]);
      p[1] = tag;
      write_value(tag, p + 2);
      p += 2 + kOptionSize[tag];
    }
    return static_cast<std::size_t>(p - out);
  }

  // Options equal: the same options, in the same order, with the same values.
  friend bool operator==(const Options& a, const Options& b) noexcept {
    if (a.present_ != b.present_ || a.count_ != b.count_) return false;
    for (std::size_t i = 0; i < a.count_; ++i)
      if (a.order_[i] != b.order_[i]) return false;
#define HFT_OUCH_EQ(name, Name, tag, size, type, kind) \
  if (a.has(OptionTag::k##Name) && !(a.name##_ == b.name##_)) return false;
    HFT_OUCH_OPTIONS(HFT_OUCH_EQ)
#undef HFT_OUCH_EQ
    return true;
  }

  // Parses an appendage body (the bytes after Appendage Length) into `out` (cleared first).
  static AppendageError parse(const std::uint8_t* data, std::size_t size, Options& out) noexcept {
    out.clear();
    AppendageReader reader(data, size);
    TagValue tv;
    while (reader.next(tv)) {
      const std::uint8_t expected = kOptionSize[tv.tag];
      if (expected == 0) {
        if (out.unknown_ != 0xFFFF) ++out.unknown_;
        continue;
      }
      if (tv.size != expected) return AppendageError::kBadOptionSize;
      const auto tag = static_cast<OptionTag>(tv.tag);
      if (out.has(tag)) return AppendageError::kDuplicateOption;
      out.read_value(tv.tag, tv.value);
      out.mark(tag);
    }
    return reader.error();
  }

 private:
  void mark(OptionTag t) noexcept {
    if (has(t)) return;
    present_ |= 1u << static_cast<unsigned>(t);
    order_[count_++] = static_cast<std::uint8_t>(t);
  }

  void write_value(std::uint8_t tag, std::uint8_t* p) const noexcept {
    switch (tag) {
#define HFT_OUCH_WRITE(name, Name, tag_, size, type, kind) \
  case tag_:                                               \
    store_##kind(p, name##_);                              \
    break;
      HFT_OUCH_OPTIONS(HFT_OUCH_WRITE)
#undef HFT_OUCH_WRITE
      default:
        break;
    }
  }
  void read_value(std::uint8_t tag, const std::uint8_t* p) noexcept {
    switch (tag) {
#define HFT_OUCH_READ(name, Name, tag_, size, type, kind) \
  case tag_:                                              \
    load_##kind(p, name##_);                              \
    break;
      HFT_OUCH_OPTIONS(HFT_OUCH_READ)
#undef HFT_OUCH_READ
      default:
        break;
    }
  }

  static void store_u16(std::uint8_t* p, std::uint16_t v) noexcept { wire::store_be16(p, v); }
  static void store_u32(std::uint8_t* p, std::uint32_t v) noexcept { wire::store_be32(p, v); }
  static void store_u64(std::uint8_t* p, std::uint64_t v) noexcept { wire::store_be64(p, v); }
  static void store_i32(std::uint8_t* p, std::int32_t v) noexcept { wire::store_be32(p, static_cast<std::uint32_t>(v)); }
  static void store_ch(std::uint8_t* p, char v) noexcept { p[0] = static_cast<std::uint8_t>(v); }
  static void store_text(std::uint8_t* p, const Text<4>& v) noexcept { v.write(p); }
  static void load_u16(const std::uint8_t* p, std::uint16_t& v) noexcept { v = wire::load_be16(p); }
  static void load_u32(const std::uint8_t* p, std::uint32_t& v) noexcept { v = wire::load_be32(p); }
  static void load_u64(const std::uint8_t* p, std::uint64_t& v) noexcept { v = wire::load_be64(p); }
  static void load_i32(const std::uint8_t* p, std::int32_t& v) noexcept { v = static_cast<std::int32_t>(wire::load_be32(p)); }
  static void load_ch(const std::uint8_t* p, char& v) noexcept { v = static_cast<char>(p[0]); }
  static void load_text(const std::uint8_t* p, Text<4>& v) noexcept { v = Text<4>::from_wire(p); }

  std::uint32_t present_ = 0;  // bit `tag` set when the option is present (tags are 1..25)
  std::uint8_t count_ = 0;
  std::uint16_t unknown_ = 0;
  std::array<std::uint8_t, kOptionCount> order_{};
#define HFT_OUCH_FIELD(name, Name, tag, size, type, kind) type name##_{};
  HFT_OUCH_OPTIONS(HFT_OUCH_FIELD)
#undef HFT_OUCH_FIELD
};
static_assert(std::is_trivially_copyable_v<Options>);

inline AppendageError parse_options(const std::uint8_t* data, std::size_t size, Options& out) noexcept {
  return Options::parse(data, size, out);
}

}  // namespace hft::ouch
