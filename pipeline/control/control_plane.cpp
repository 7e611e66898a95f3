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
    case CommandOp::kNone: break;
  }
  return "?";
}

}  // namespace hft::control
