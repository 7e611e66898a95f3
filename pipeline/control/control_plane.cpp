#include "pipeline/control/control_plane.hpp"

namespace hft::control {

const char* reject_name(pipeline::RejectReason r) noexcept {
  using pipeline::RejectReason;
  switch (r) {
    case RejectReason::kNone: return "none";
    case RejectReason::kMaxOrderQuantity: return "max_order_quantity";
    case RejectReason::kMaxNotional: return "max_notional";
    case RejectReason::kPriceBand: return "price_band";
    case RejectReason::kNoReferencePrice: return "no_reference_price";
    case RejectReason::kPositionLimit: return "position_limit";
    case RejectReason::kOpenOrderLimit: return "open_order_limit";
    case RejectReason::kOrderRate: return "order_rate";
    case RejectReason::kKillSwitch: return "kill_switch";
    case RejectReason::kHalted: return "halted";
    case RejectReason::kNotConnected: return "not_connected";
    case RejectReason::kUnknownOrder: return "unknown_order";
    case RejectReason::kBacklog: return "backlog";
    case RejectReason::kPriceCollar: return "price_collar";
    case RejectReason::kStaleReference: return "stale_reference";
    case RejectReason::kSymbolHalted: return "symbol_halted";
    case RejectReason::kFatFinger: return "fat_finger";
    case RejectReason::kSymbolNotional: return "symbol_notional";
    case RejectReason::kDuplicate: return "duplicate";
    case RejectReason::kMessageRate: return "message_rate";
    case RejectReason::kNetPosition: return "net_position";
    case RejectReason::kGrossPosition: return "gross_position";
    case RejectReason::kGrossNotional: return "gross_notional";
    case RejectReason::kLossBreaker: return "loss_breaker";
    case RejectReason::kStormGuard: return "storm_guard";
    case RejectReason::kRestricted: return "restricted";
    case RejectReason::kBuyingPower: return "buying_power";
    case RejectReason::kStrategyPosition: return "strategy_position";
    case RejectReason::kStrategyNotional: return "strategy_notional";
    case RejectReason::kStrategyOrderRate: return "strategy_order_rate";
    case RejectReason::kStrategyLoss: return "strategy_loss";
    case RejectReason::kShortSaleRestricted: return "short_sale_restricted";
    case RejectReason::kVenueDown: return "venue_down";
    case RejectReason::kVenue: return "venue";
  }
  return "other";
}

std::string command_text(const CommandSlot& c) {
  switch (c.op) {
    case CommandOp::kHalt: return "halt";
    case CommandOp::kResume: return "resume";
    case CommandOp::kKill: return "kill";
    case CommandOp::kUnkill: return "unkill";
    case CommandOp::kSetRisk: return fmt::format("set {}={}", get_text(c.key), get_text(c.value));
    case CommandOp::kFlatten: return "flatten";
    case CommandOp::kDumpHistograms: return "dump histograms";
    case CommandOp::kRiskReset: return "risk reset";
    case CommandOp::kAlgoStart: return fmt::format("algo start {} {}", get_text(c.key), get_text(c.value));
    case CommandOp::kAlgoCancel: return fmt::format("algo cancel {}", get_text(c.key));
    case CommandOp::kStrategyStart: return fmt::format("strategy start {}", get_text(c.key));
    case CommandOp::kStrategyStop: return fmt::format("strategy stop {}", get_text(c.key));
    case CommandOp::kStrategyPause: return fmt::format("strategy pause {}", get_text(c.key));
    case CommandOp::kStrategySet: return fmt::format("strategy set {} {}", get_text(c.key), get_text(c.value));
    case CommandOp::kOrderNew: return fmt::format("order new {} {}", get_text(c.key), get_text(c.value));
    case CommandOp::kOrderCancel: return fmt::format("order cancel {}", get_text(c.key));
    case CommandOp::kNone: break;
  }
  return "?";
}

}  // namespace hft::control
