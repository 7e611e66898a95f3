#pragma once
// NASDAQ TotalView-ITCH 5.0 messages as zero-copy views over the wire bytes (spec in
// ../shared/specs/nasdaq-totalview-itch-5.0.txt, field tables in ../shared/PROTOCOLS.md §3).
// A view holds a pointer to a message whose length the decoder has already checked; every
// accessor is one unaligned big-endian load at a constant offset. Prices stay integers:
// Price(4) in 1/10,000 dollar, Price(8) (MWCB levels only) in 1/10^8 dollar.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "gateways/common/endian.hpp"

namespace hft::itch {

// An 8-byte, space-padded stock symbol, compared as one 64-bit word.
struct Symbol {
  std::array<char, 8> chars{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

  static Symbol from(std::string_view text) noexcept {
    Symbol s;
    for (std::size_t i = 0; i < 8 && i < text.size(); ++i) s.chars[i] = text[i];
    return s;
  }
  static Symbol from_wire(const std::uint8_t* p) noexcept {
    Symbol s;
    std::memcpy(s.chars.data(), p, 8);
    return s;
  }
  // The symbol without its trailing spaces.
  [[nodiscard]] std::string_view view() const noexcept {
    std::size_t n = 8;
    while (n > 0 && chars[n - 1] == ' ') --n;
    return {chars.data(), n};
  }
  [[nodiscard]] std::uint64_t key() const noexcept {
    std::uint64_t k;
    std::memcpy(&k, chars.data(), 8);
    return k;
  }
  friend bool operator==(const Symbol& a, const Symbol& b) noexcept { return a.key() == b.key(); }
};

// Message lengths by type byte (the full message, type byte included; = the BinaryFILE /
// MoldUDP64 block length). 0 = not a TotalView-ITCH 5.0 type.
inline constexpr std::array<std::uint8_t, 256> kMessageLength = [] {
  std::array<std::uint8_t, 256> t{};
  t['S'] = 12; t['R'] = 39; t['H'] = 25; t['Y'] = 20; t['L'] = 26; t['V'] = 35; t['W'] = 12; t['K'] = 28;
  t['J'] = 35; t['h'] = 21; t['A'] = 36; t['F'] = 40; t['E'] = 31; t['C'] = 36; t['X'] = 23; t['D'] = 19;
  t['U'] = 35; t['P'] = 44; t['Q'] = 40; t['B'] = 19; t['I'] = 50; t['N'] = 20; t['O'] = 48;
  return t;
}();

// All 23 types, in the spec's order.
inline constexpr std::array<char, 23> kMessageTypes = {'S', 'R', 'H', 'Y', 'L', 'V', 'W', 'K', 'J', 'h', 'A', 'F',
                                                       'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'B', 'I', 'N', 'O'};

#define HFT_ITCH_U16(name, off) \
  [[nodiscard]] std::uint16_t name() const noexcept { return wire::load_be16(p + (off)); }
#define HFT_ITCH_U32(name, off) \
  [[nodiscard]] std::uint32_t name() const noexcept { return wire::load_be32(p + (off)); }
#define HFT_ITCH_U64(name, off) \
  [[nodiscard]] std::uint64_t name() const noexcept { return wire::load_be64(p + (off)); }
#define HFT_ITCH_CHAR(name, off) \
  [[nodiscard]] char name() const noexcept { return static_cast<char>(p[off]); }
#define HFT_ITCH_ALPHA(name, off, len) \
  [[nodiscard]] std::string_view name() const noexcept { return {reinterpret_cast<const char*>(p + (off)), (len)}; }
#define HFT_ITCH_STOCK(off) \
  [[nodiscard]] Symbol stock() const noexcept { return Symbol::from_wire(p + (off)); }

// Common 11-byte header: type, stock locate, tracking number, 48-bit timestamp.
struct Header {
  const std::uint8_t* p;
  HFT_ITCH_CHAR(message_type, 0)
  HFT_ITCH_U16(stock_locate, 1)
  HFT_ITCH_U16(tracking_number, 3)
  [[nodiscard]] std::uint64_t timestamp() const noexcept { return wire::load_be48(p + 5); }
};

struct SystemEvent : Header {  // 'S'
  HFT_ITCH_CHAR(event_code, 11)
};
struct StockDirectory : Header {  // 'R'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_CHAR(market_category, 19)
  HFT_ITCH_CHAR(financial_status_indicator, 20)
  HFT_ITCH_U32(round_lot_size, 21)
  HFT_ITCH_CHAR(round_lots_only, 25)
  HFT_ITCH_CHAR(issue_classification, 26)
  HFT_ITCH_ALPHA(issue_sub_type, 27, 2)
  HFT_ITCH_CHAR(authenticity, 29)
  HFT_ITCH_CHAR(short_sale_threshold_indicator, 30)
  HFT_ITCH_CHAR(ipo_flag, 31)
  HFT_ITCH_CHAR(luld_reference_price_tier, 32)
  HFT_ITCH_CHAR(etp_flag, 33)
  HFT_ITCH_U32(etp_leverage_factor, 34)
  HFT_ITCH_CHAR(inverse_indicator, 38)
};
struct StockTradingAction : Header {  // 'H'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_CHAR(trading_state, 19)
  HFT_ITCH_CHAR(reserved, 20)
  HFT_ITCH_ALPHA(reason, 21, 4)
};
struct RegShoRestriction : Header {  // 'Y'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_CHAR(reg_sho_action, 19)
};
struct MarketParticipantPosition : Header {  // 'L'
  HFT_ITCH_ALPHA(mpid, 11, 4)
  HFT_ITCH_STOCK(15)
  HFT_ITCH_CHAR(primary_market_maker, 23)
  HFT_ITCH_CHAR(market_maker_mode, 24)
  HFT_ITCH_CHAR(market_participant_state, 25)
};
struct MwcbDeclineLevel : Header {  // 'V'
  HFT_ITCH_U64(level_1, 11)
  HFT_ITCH_U64(level_2, 19)
  HFT_ITCH_U64(level_3, 27)
};
struct MwcbStatus : Header {  // 'W'
  HFT_ITCH_CHAR(breached_level, 11)
};
struct IpoQuotingPeriodUpdate : Header {  // 'K'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_U32(ipo_quotation_release_time, 19)
  HFT_ITCH_CHAR(ipo_quotation_release_qualifier, 23)
  HFT_ITCH_U32(ipo_price, 24)
};
struct LuldAuctionCollar : Header {  // 'J'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_U32(auction_collar_reference_price, 19)
  HFT_ITCH_U32(upper_auction_collar_price, 23)
  HFT_ITCH_U32(lower_auction_collar_price, 27)
  HFT_ITCH_U32(auction_collar_extension, 31)
};
struct OperationalHalt : Header {  // 'h'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_CHAR(market_code, 19)
  HFT_ITCH_CHAR(operational_halt_action, 20)
};
struct AddOrder : Header {  // 'A' (and the first 36 bytes of 'F')
  HFT_ITCH_U64(order_reference_number, 11)
  HFT_ITCH_CHAR(buy_sell_indicator, 19)
  HFT_ITCH_U32(shares, 20)
  HFT_ITCH_STOCK(24)
  HFT_ITCH_U32(price, 32)
};
struct AddOrderMpid : AddOrder {  // 'F'
  HFT_ITCH_ALPHA(attribution, 36, 4)
};
struct OrderExecuted : Header {  // 'E'
  HFT_ITCH_U64(order_reference_number, 11)
  HFT_ITCH_U32(executed_shares, 19)
  HFT_ITCH_U64(match_number, 23)
};
struct OrderExecutedWithPrice : OrderExecuted {  // 'C'
  HFT_ITCH_CHAR(printable, 31)
  HFT_ITCH_U32(execution_price, 32)
};
struct OrderCancel : Header {  // 'X'
  HFT_ITCH_U64(order_reference_number, 11)
  HFT_ITCH_U32(cancelled_shares, 19)
};
struct OrderDelete : Header {  // 'D'
  HFT_ITCH_U64(order_reference_number, 11)
};
struct OrderReplace : Header {  // 'U'
  HFT_ITCH_U64(original_order_reference_number, 11)
  HFT_ITCH_U64(new_order_reference_number, 19)
  HFT_ITCH_U32(shares, 27)
  HFT_ITCH_U32(price, 31)
};
struct Trade : Header {  // 'P'
  HFT_ITCH_U64(order_reference_number, 11)
  HFT_ITCH_CHAR(buy_sell_indicator, 19)
  HFT_ITCH_U32(shares, 20)
  HFT_ITCH_STOCK(24)
  HFT_ITCH_U32(price, 32)
  HFT_ITCH_U64(match_number, 36)
};
struct CrossTrade : Header {  // 'Q'
  HFT_ITCH_U64(shares, 11)  // 8 bytes here, unlike every other share count
  HFT_ITCH_STOCK(19)
  HFT_ITCH_U32(cross_price, 27)
  HFT_ITCH_U64(match_number, 31)
  HFT_ITCH_CHAR(cross_type, 39)
};
struct BrokenTrade : Header {  // 'B'
  HFT_ITCH_U64(match_number, 11)
};
struct Noii : Header {  // 'I'
  HFT_ITCH_U64(paired_shares, 11)
  HFT_ITCH_U64(imbalance_shares, 19)
  HFT_ITCH_CHAR(imbalance_direction, 27)
  HFT_ITCH_STOCK(28)
  HFT_ITCH_U32(far_price, 36)
  HFT_ITCH_U32(near_price, 40)
  HFT_ITCH_U32(current_reference_price, 44)
  HFT_ITCH_CHAR(cross_type, 48)
  HFT_ITCH_CHAR(price_variation_indicator, 49)
};
struct Rpii : Header {  // 'N'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_CHAR(interest_flag, 19)
};
struct DirectListingCapitalRaise : Header {  // 'O'
  HFT_ITCH_STOCK(11)
  HFT_ITCH_CHAR(open_eligibility_status, 19)
  HFT_ITCH_U32(minimum_allowable_price, 20)
  HFT_ITCH_U32(maximum_allowable_price, 24)
  HFT_ITCH_U32(near_execution_price, 28)
  HFT_ITCH_U64(near_execution_time, 32)
  HFT_ITCH_U32(lower_price_range_collar, 40)
  HFT_ITCH_U32(upper_price_range_collar, 44)
};

#undef HFT_ITCH_U16
#undef HFT_ITCH_U32
#undef HFT_ITCH_U64
#undef HFT_ITCH_CHAR
#undef HFT_ITCH_ALPHA
#undef HFT_ITCH_STOCK

// ---- field table (tools, tests, generic encoding; not the hot path) ----------------------------
enum class FieldKind : std::uint8_t {
  kU16, kU32, kU48, kU64,  // unsigned big-endian integers (kU48: the timestamp)
  kChar,                   // one ASCII character
  kAlpha,                  // space-padded ASCII text
  kPrice4,                 // uint32, 4 implied decimals
  kPrice8,                 // uint64, 8 implied decimals
};
struct FieldSpec {
  std::string_view name;  // the spec's field name in snake_case
  std::uint8_t offset;
  std::uint8_t length;
  FieldKind kind;
};
struct MessageSpec {
  char type;
  std::string_view name;
  std::uint8_t length;
  std::span<const FieldSpec> fields;  // after the common header (type, locate, tracking, timestamp)
};

// The common header fields (after the type byte), then the spec of one type (nullptr if unknown).
std::span<const FieldSpec> header_fields() noexcept;
const MessageSpec* message_spec(char type) noexcept;

}  // namespace hft::itch
