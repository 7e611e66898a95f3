#include "venue/matching/types.hpp"

namespace hft::match {

std::string_view to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::kNone: return "none";
    case RejectReason::kUnknownSymbol: return "unknown symbol";
    case RejectReason::kInvalidSide: return "invalid side";
    case RejectReason::kInvalidOrderType: return "invalid order type";
    case RejectReason::kInvalidTimeInForce: return "invalid time in force";
    case RejectReason::kInvalidQuantity: return "invalid quantity";
    case RejectReason::kInvalidPrice: return "invalid price";
    case RejectReason::kInvalidStopPrice: return "invalid stop price";
    case RejectReason::kInvalidMinQty: return "invalid minimum quantity";
    case RejectReason::kInvalidDisplay: return "invalid display";
    case RejectReason::kUnknownOrder: return "unknown order";
    case RejectReason::kNotOwner: return "not the order's owner";
    case RejectReason::kReplaceNotAllowed: return "replace not allowed";
    case RejectReason::kPostOnlyWouldCross: return "post-only order would cross";
    case RejectReason::kOrderPoolFull: return "order pool full";
    case RejectReason::kBookFull: return "book full";
  }
  return "?";
}

std::string_view to_string(CancelReason r) noexcept {
  switch (r) {
    case CancelReason::kUser: return "user";
    case CancelReason::kImmediateOrCancel: return "immediate or cancel";
    case CancelReason::kFillOrKill: return "fill or kill";
    case CancelReason::kMinQtyNotMet: return "minimum quantity not met";
    case CancelReason::kPostOnly: return "post-only would cross";
    case CancelReason::kSelfMatch: return "self-match prevention";
    case CancelReason::kMarketRemainder: return "market order remainder";
    case CancelReason::kBookFull: return "book full";
  }
  return "?";
}

std::string_view to_string(SmpPolicy p) noexcept {
  switch (p) {
    case SmpPolicy::kCancelResting: return "cancel-resting";
    case SmpPolicy::kCancelIncoming: return "cancel-incoming";
    case SmpPolicy::kCancelBoth: return "cancel-both";
    case SmpPolicy::kDecrement: return "decrement";
  }
  return "?";
}

std::string_view to_string(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::kDay: return "DAY";
    case TimeInForce::kIoc: return "IOC";
    case TimeInForce::kFok: return "FOK";
    case TimeInForce::kGtx: return "GTX";
  }
  return "?";
}

std::string_view to_string(OrderType t) noexcept {
  switch (t) {
    case OrderType::kLimit: return "limit";
    case OrderType::kMarket: return "market";
    case OrderType::kStop: return "stop";
    case OrderType::kStopLimit: return "stop-limit";
  }
  return "?";
}

bool parse_smp_policy(std::string_view text, SmpPolicy& out) noexcept {
  for (SmpPolicy p : {SmpPolicy::kCancelResting, SmpPolicy::kCancelIncoming, SmpPolicy::kCancelBoth,
                      SmpPolicy::kDecrement}) {
    if (text == to_string(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

char ouch_cancel_reason(CancelReason r) noexcept {
  switch (r) {
    case CancelReason::kUser: return 'U';               // user requested cancel
    case CancelReason::kImmediateOrCancel:              // 'I': Immediate or Cancel order
    case CancelReason::kFillOrKill:
    case CancelReason::kMinQtyNotMet:
    case CancelReason::kMarketRemainder: return 'I';
    case CancelReason::kPostOnly: return 'G';           // would be slid by a contra-side order
    case CancelReason::kSelfMatch: return 'Q';          // Self Match Prevention
    case CancelReason::kBookFull: return 'Z';           // system cancel
  }
  return 'Z';
}

std::uint16_t ouch_reject_reason(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::kNone: return 0;
    case RejectReason::kUnknownSymbol: return 0x0017;        // Invalid Symbol
    case RejectReason::kInvalidSide: return 0x0009;          // Invalid Side
    case RejectReason::kInvalidQuantity: return 0x0013;      // Invalid Quantity
    case RejectReason::kInvalidPrice:
    case RejectReason::kInvalidStopPrice: return 0x001D;     // Invalid Price
    case RejectReason::kInvalidMinQty: return 0x000D;        // Invalid Min Quantity
    case RejectReason::kInvalidDisplay: return 0x0003;       // Invalid Display
    case RejectReason::kReplaceNotAllowed: return 0x0015;    // Replace Not Allowed
    case RejectReason::kPostOnlyWouldCross: return 0x0012;   // Crossed Market
    case RejectReason::kOrderPoolFull:
    case RejectReason::kBookFull: return 0x000A;             // Processing Error
    case RejectReason::kInvalidOrderType:
    case RejectReason::kInvalidTimeInForce:
    case RejectReason::kUnknownOrder:
    case RejectReason::kNotOwner: return 0x000F;             // Other
  }
  return 0x000F;
}

}  // namespace hft::match
