#include "gateways/ouch/types.hpp"

namespace hft::ouch {

std::string_view to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::kQuoteUnavailable: return "Quote Unavailable";
    case RejectReason::kDestinationClosed: return "Destination Closed";
    case RejectReason::kInvalidDisplay: return "Invalid Display";
    case RejectReason::kInvalidMaxFloor: return "Invalid Max Floor";
    case RejectReason::kInvalidPegType: return "Invalid Peg Type";
    case RejectReason::kFatFinger: return "Fat Finger";
    case RejectReason::kHalted: return "Halted";
    case RejectReason::kIsoNotAllowed: return "ISO Not Allowed";
    case RejectReason::kInvalidSide: return "Invalid Side";
    case RejectReason::kProcessingError: return "Processing Error";
    case RejectReason::kCancelPending: return "Cancel Pending";
    case RejectReason::kFirmNotAuthorized: return "Firm Not Authorized";
    case RejectReason::kInvalidMinQuantity: return "Invalid Min Quantity";
    case RejectReason::kNoClosingReferencePrice: return "No Closing Reference Price";
    case RejectReason::kOther: return "Other";
    case RejectReason::kCancelNotAllowed: return "Cancel Not Allowed";
    case RejectReason::kPeggingNotAllowed: return "Pegging Not Allowed";
    case RejectReason::kCrossedMarket: return "Crossed Market";
    case RejectReason::kInvalidQuantity: return "Invalid Quantity";
    case RejectReason::kInvalidCrossOrder: return "Invalid Cross Order";
    case RejectReason::kReplaceNotAllowed: return "Replace Not Allowed";
    case RejectReason::kRoutingNotAllowed: return "Routing Not Allowed";
    case RejectReason::kInvalidSymbol: return "Invalid Symbol";
    case RejectReason::kTest: return "Test";
    case RejectReason::kLateLocTooAggressive: return "Late LOC Too Aggressive";
    case RejectReason::kRetailNotAllowed: return "Retail Not Allowed";
    case RejectReason::kInvalidMidpointPostOnlyPrice: return "Invalid Midpoint Post Only Price";
    case RejectReason::kInvalidDestination: return "Invalid Destination";
    case RejectReason::kInvalidPrice: return "Invalid Price";
    case RejectReason::kSharesExceedThreshold: return "Shares Exceed Threshold";
    case RejectReason::kExceedsMaxNotional: return "Exceeds Maximum Allowed Notional Value";
    case RejectReason::kRiskAggregateExposure: return "Risk: Aggregate Exposure Exceeded";
    case RejectReason::kRiskMarketImpact: return "Risk: Market Impact";
    case RejectReason::kRiskRestrictedStock: return "Risk: Restricted Stock";
    case RejectReason::kRiskShortSellRestricted: return "Risk: Short Sell Restricted";
    case RejectReason::kRiskOrderTypeRestricted: return "Risk: Order Type Restricted";
    case RejectReason::kRiskExceedsAdvLimit: return "Risk: Exceeds ADV Limit";
    case RejectReason::kRiskFatFinger: return "Risk: Fat Finger";
    case RejectReason::kRiskLocateRequired: return "Risk: Locate Required";
    case RejectReason::kRiskSymbolMessageRate: return "Risk: Symbol Message Rate Restriction";
    case RejectReason::kRiskPortMessageRate: return "Risk: Port Message Rate Restriction";
    case RejectReason::kRiskDuplicateMessageRate: return "Risk: Duplicate Message Rate Restriction";
  }
  return "unknown reject reason";
}

std::string_view to_string(CancelReason r) noexcept {
  switch (r) {
    case CancelReason::kRegulatoryRestriction: return "regulatory restriction";
    case CancelReason::kClosed: return "closed";
    case CancelReason::kPostOnlyNms: return "post only: would be price slid for NMS";
    case CancelReason::kPostOnlyDisplayed: return "post only: would be price slid by a displayed contra order";
    case CancelReason::kHalted: return "halted";
    case CancelReason::kImmediateOrCancel: return "immediate or cancel";
    case CancelReason::kMarketCollars: return "market collars";
    case CancelReason::kSelfMatchPrevention: return "self match prevention";
    case CancelReason::kSupervisory: return "supervisory";
    case CancelReason::kTimeout: return "timeout";
    case CancelReason::kUserRequested: return "user requested";
    case CancelReason::kOpenProtection: return "open protection";
    case CancelReason::kSystem: return "system cancel";
    case CancelReason::kDirectListingExceeded: return "direct listing capital raise exceeds allowable shares";
  }
  return "unknown cancel reason";
}

}  // namespace hft::ouch
