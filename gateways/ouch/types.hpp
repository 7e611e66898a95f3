#pragma once
// OUCH 5.0 field types and codes (../shared/specs/nasdaq-ouch-5.0.txt, "Updated April, 2023";
// ../shared/PROTOCOLS.md §5). Binary numbers are unsigned big-endian; alpha fields are
// left-justified and space-padded; prices are integers with 4 implied decimals (1 = $0.0001).
//
// One-character fields are enums over char so that every byte value survives a decode/encode
// round trip: the codec does not judge values, the venue does (and rejects with a reason code).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "gateways/itch/messages.hpp"

namespace hft::ouch {

using UserRefNum = std::uint32_t;  // day-unique, strictly increasing per account (§1.2)
using Price = std::uint64_t;       // 1/10,000 dollar (§1.2: "implied 4 decimal places")
using SignedPrice = std::int32_t;  // PegOffset, DiscretionPegOffset (Appendix B: "Signed Price")
using Symbol = itch::Symbol;       // 8 bytes, space-padded: the same wire form as ITCH's Stock

// §1.2: $199,999.9900 is the largest price; 0x7FFFFFFF ($214,748.3647) flags a market order for
// a cross, and so do $200,000.0000 and the max integer value.
inline constexpr Price kMaxPrice = 0x7735939C;
inline constexpr Price kMarketCrossPrice = 0x7FFFFFFF;
// §2.1: "Must be greater than zero and less than 1,000,000".
inline constexpr std::uint32_t kMaxQuantity = 999'999;

// A fixed-width alpha field, compared byte for byte.
template <std::size_t N>
struct Text {
  std::array<char, N> chars = blank();

  static constexpr std::array<char, N> blank() noexcept {
    std::array<char, N> a{};
    for (auto& c : a) c = ' ';
    return a;
  }
  static constexpr Text from(std::string_view s) noexcept {
    Text t;
    for (std::size_t i = 0; i < N && i < s.size(); ++i) t.chars[i] = s[i];
    return t;
  }
  static Text from_wire(const std::uint8_t* p) noexcept {
    Text t;
    std::memcpy(t.chars.data(), p, N);
    return t;
  }
  void write(std::uint8_t* p) const noexcept { std::memcpy(p, chars.data(), N); }
  // Without trailing spaces.
  [[nodiscard]] constexpr std::string_view view() const noexcept {
    std::size_t n = N;
    while (n > 0 && chars[n - 1] == ' ') --n;
    return {chars.data(), n};
  }
  friend constexpr bool operator==(const Text&, const Text&) = default;
};

using ClOrdId = Text<14>;
using Firm = Text<4>;
using Route = Text<4>;

enum class Side : char { kBuy = 'B', kSell = 'S', kSellShort = 'T', kSellShortExempt = 'E' };
enum class TimeInForce : char { kDay = '0', kIoc = '3', kGtx = '5', kGtt = '6', kAfterHours = 'E' };
enum class Display : char { kVisible = 'Y', kHidden = 'N', kAttributable = 'A', kConformant = 'Z' };
enum class Capacity : char { kAgency = 'A', kPrincipal = 'P', kRiskless = 'R', kOther = 'O' };
enum class IntermarketSweep : char { kEligible = 'Y', kNotEligible = 'N' };
enum class CrossType : char {
  kContinuous = 'N', kOpening = 'O', kClosing = 'C', kHalt = 'H', kSupplemental = 'S', kRetail = 'R',
  kExtendedLife = 'E', kAfterHoursClose = 'A',
};
enum class OrderState : char { kLive = 'L', kDead = 'D' };
enum class SystemEventCode : char { kStartOfDay = 'S', kEndOfDay = 'E' };
enum class BrokenTradeReason : char { kErroneous = 'E', kConsent = 'C', kSupervisory = 'S', kExternal = 'X' };
enum class RestatedReason : char { kRefresh = 'R', kPriceUpdate = 'P' };

// Appendix C.
enum class CancelReason : char {
  kRegulatoryRestriction = 'D',
  kClosed = 'E',
  kPostOnlyNms = 'F',
  kPostOnlyDisplayed = 'G',
  kHalted = 'H',
  kImmediateOrCancel = 'I',
  kMarketCollars = 'K',
  kSelfMatchPrevention = 'Q',
  kSupervisory = 'S',
  kTimeout = 'T',
  kUserRequested = 'U',
  kOpenProtection = 'X',
  kSystem = 'Z',
  kDirectListingExceeded = 'e',
};

// Appendix D: the Reason of a Rejected 'J' message (2 bytes).
enum class RejectReason : std::uint16_t {
  kQuoteUnavailable = 0x0001,
  kDestinationClosed = 0x0002,
  kInvalidDisplay = 0x0003,
  kInvalidMaxFloor = 0x0004,
  kInvalidPegType = 0x0005,
  kFatFinger = 0x0006,
  kHalted = 0x0007,
  kIsoNotAllowed = 0x0008,
  kInvalidSide = 0x0009,
  kProcessingError = 0x000A,
  kCancelPending = 0x000B,
  kFirmNotAuthorized = 0x000C,
  kInvalidMinQuantity = 0x000D,
  kNoClosingReferencePrice = 0x000E,
  kOther = 0x000F,
  kCancelNotAllowed = 0x0010,
  kPeggingNotAllowed = 0x0011,
  kCrossedMarket = 0x0012,
  kInvalidQuantity = 0x0013,
  kInvalidCrossOrder = 0x0014,
  kReplaceNotAllowed = 0x0015,
  kRoutingNotAllowed = 0x0016,
  kInvalidSymbol = 0x0017,
  kTest = 0x0018,
  kLateLocTooAggressive = 0x0019,
  kRetailNotAllowed = 0x001A,
  kInvalidMidpointPostOnlyPrice = 0x001B,
  kInvalidDestination = 0x001C,
  kInvalidPrice = 0x001D,
  kSharesExceedThreshold = 0x001E,
  kExceedsMaxNotional = 0x001F,
  kRiskAggregateExposure = 0x0020,
  kRiskMarketImpact = 0x0021,
  kRiskRestrictedStock = 0x0022,
  kRiskShortSellRestricted = 0x0023,
  kRiskOrderTypeRestricted = 0x0024,
  kRiskExceedsAdvLimit = 0x0025,
  kRiskFatFinger = 0x0026,
  kRiskLocateRequired = 0x0027,
  kRiskSymbolMessageRate = 0x0028,
  kRiskPortMessageRate = 0x0029,
  kRiskDuplicateMessageRate = 0x002A,
};
inline constexpr std::uint16_t kMaxRejectReason = 0x002A;

// The spec's wording ("Invalid Max Floor"); "unknown reject reason" outside Appendix D.
[[nodiscard]] std::string_view to_string(RejectReason r) noexcept;
// Appendix C wording; "unknown cancel reason" otherwise.
[[nodiscard]] std::string_view to_string(CancelReason r) noexcept;

}  // namespace hft::ouch
