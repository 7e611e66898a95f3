#include "gateways/itch/messages.hpp"

namespace hft::itch {
namespace {

using K = FieldKind;

constexpr FieldSpec kHeader[] = {
    {"stock_locate", 1, 2, K::kU16}, {"tracking_number", 3, 2, K::kU16}, {"timestamp", 5, 6, K::kU48}};

constexpr FieldSpec kS[] = {{"event_code", 11, 1, K::kChar}};
constexpr FieldSpec kR[] = {
    {"stock", 11, 8, K::kAlpha},          {"market_category", 19, 1, K::kChar},
    {"financial_status_indicator", 20, 1, K::kChar}, {"round_lot_size", 21, 4, K::kU32},
    {"round_lots_only", 25, 1, K::kChar}, {"issue_classification", 26, 1, K::kChar},
    {"issue_sub_type", 27, 2, K::kAlpha}, {"authenticity", 29, 1, K::kChar},
    {"short_sale_threshold_indicator", 30, 1, K::kChar}, {"ipo_flag", 31, 1, K::kChar},
    {"luld_reference_price_tier", 32, 1, K::kChar}, {"etp_flag", 33, 1, K::kChar},
    {"etp_leverage_factor", 34, 4, K::kU32}, {"inverse_indicator", 38, 1, K::kChar}};
constexpr FieldSpec kH[] = {{"stock", 11, 8, K::kAlpha}, {"trading_state", 19, 1, K::kChar},
                            {"reserved", 20, 1, K::kChar}, {"reason", 21, 4, K::kAlpha}};
constexpr FieldSpec kY[] = {{"stock", 11, 8, K::kAlpha}, {"reg_sho_action", 19, 1, K::kChar}};
constexpr FieldSpec kL[] = {{"mpid", 11, 4, K::kAlpha}, {"stock", 15, 8, K::kAlpha},
                            {"primary_market_maker", 23, 1, K::kChar}, {"market_maker_mode", 24, 1, K::kChar},
                            {"market_participant_state", 25, 1, K::kChar}};
constexpr FieldSpec kV[] = {{"level_1", 11, 8, K::kPrice8}, {"level_2", 19, 8, K::kPrice8}, {"level_3", 27, 8, K::kPrice8}};
constexpr FieldSpec kW[] = {{"breached_level", 11, 1, K::kChar}};
constexpr FieldSpec kK[] = {{"stock", 11, 8, K::kAlpha}, {"ipo_quotation_release_time", 19, 4, K::kU32},
                            {"ipo_quotation_release_qualifier", 23, 1, K::kChar}, {"ipo_price", 24, 4, K::kPrice4}};
constexpr FieldSpec kJ[] = {{"stock", 11, 8, K::kAlpha}, {"auction_collar_reference_price", 19, 4, K::kPrice4},
                            {"upper_auction_collar_price", 23, 4, K::kPrice4},
                            {"lower_auction_collar_price", 27, 4, K::kPrice4}, {"auction_collar_extension", 31, 4, K::kU32}};
constexpr FieldSpec kh[] = {{"stock", 11, 8, K::kAlpha}, {"market_code", 19, 1, K::kChar},
                            {"operational_halt_action", 20, 1, K::kChar}};
constexpr FieldSpec kA[] = {{"order_reference_number", 11, 8, K::kU64}, {"buy_sell_indicator", 19, 1, K::kChar},
                            {"shares", 20, 4, K::kU32}, {"stock", 24, 8, K::kAlpha}, {"price", 32, 4, K::kPrice4}};
constexpr FieldSpec kF[] = {{"order_reference_number", 11, 8, K::kU64}, {"buy_sell_indicator", 19, 1, K::kChar},
                            {"shares", 20, 4, K::kU32}, {"stock", 24, 8, K::kAlpha}, {"price", 32, 4, K::kPrice4},
                            {"attribution", 36, 4, K::kAlpha}};
constexpr FieldSpec kE[] = {{"order_reference_number", 11, 8, K::kU64}, {"executed_shares", 19, 4, K::kU32},
                            {"match_number", 23, 8, K::kU64}};
constexpr FieldSpec kC[] = {{"order_reference_number", 11, 8, K::kU64}, {"executed_shares", 19, 4, K::kU32},
                            {"match_number", 23, 8, K::kU64}, {"printable", 31, 1, K::kChar},
                            {"execution_price", 32, 4, K::kPrice4}};
constexpr FieldSpec kX[] = {{"order_reference_number", 11, 8, K::kU64}, {"cancelled_shares", 19, 4, K::kU32}};
constexpr FieldSpec kD[] = {{"order_reference_number", 11, 8, K::kU64}};
constexpr FieldSpec kU[] = {{"original_order_reference_number", 11, 8, K::kU64},
                            {"new_order_reference_number", 19, 8, K::kU64}, {"shares", 27, 4, K::kU32},
                            {"price", 31, 4, K::kPrice4}};
constexpr FieldSpec kP[] = {{"order_reference_number", 11, 8, K::kU64}, {"buy_sell_indicator", 19, 1, K::kChar},
                            {"shares", 20, 4, K::kU32}, {"stock", 24, 8, K::kAlpha}, {"price", 32, 4, K::kPrice4},
                            {"match_number", 36, 8, K::kU64}};
constexpr FieldSpec kQ[] = {{"shares", 11, 8, K::kU64}, {"stock", 19, 8, K::kAlpha}, {"cross_price", 27, 4, K::kPrice4},
                            {"match_number", 31, 8, K::kU64}, {"cross_type", 39, 1, K::kChar}};
constexpr FieldSpec kB[] = {{"match_number", 11, 8, K::kU64}};
constexpr FieldSpec kI[] = {{"paired_shares", 11, 8, K::kU64}, {"imbalance_shares", 19, 8, K::kU64},
                            {"imbalance_direction", 27, 1, K::kChar}, {"stock", 28, 8, K::kAlpha},
                            {"far_price", 36, 4, K::kPrice4}, {"near_price", 40, 4, K::kPrice4},
                            {"current_reference_price", 44, 4, K::kPrice4}, {"cross_type", 48, 1, K::kChar},
                            {"price_variation_indicator", 49, 1, K::kChar}};
constexpr FieldSpec kN[] = {{"stock", 11, 8, K::kAlpha}, {"interest_flag", 19, 1, K::kChar}};
constexpr FieldSpec kO[] = {{"stock", 11, 8, K::kAlpha}, {"open_eligibility_status", 19, 1, K::kChar},
                            {"minimum_allowable_price", 20, 4, K::kPrice4}, {"maximum_allowable_price", 24, 4, K::kPrice4},
                            {"near_execution_price", 28, 4, K::kPrice4}, {"near_execution_time", 32, 8, K::kU64},
                            {"lower_price_range_collar", 40, 4, K::kPrice4}, {"upper_price_range_collar", 44, 4, K::kPrice4}};

constexpr MessageSpec kSpecs[] = {
    {'S', "System Event", 12, kS},
    {'R', "Stock Directory", 39, kR},
    {'H', "Stock Trading Action", 25, kH},
    {'Y', "Reg SHO Short Sale Price Test Restricted Indicator", 20, kY},
    {'L', "Market Participant Position", 26, kL},
    {'V', "MWCB Decline Level", 35, kV},
    {'W', "MWCB Status", 12, kW},
    {'K', "IPO Quoting Period Update", 28, kK},
    {'J', "LULD Auction Collar", 35, kJ},
    {'h', "Operational Halt", 21, kh},
    {'A', "Add Order - No MPID Attribution", 36, kA},
    {'F', "Add Order with MPID Attribution", 40, kF},
    {'E', "Order Executed", 31, kE},
    {'C', "Order Executed With Price", 36, kC},
    {'X', "Order Cancel", 23, kX},
    {'D', "Order Delete", 19, kD},
    {'U', "Order Replace", 35, kU},
    {'P', "Trade (Non-Cross)", 44, kP},
    {'Q', "Cross Trade", 40, kQ},
    {'B', "Broken Trade / Order Execution", 19, kB},
    {'I', "Net Order Imbalance Indicator (NOII)", 50, kI},
    {'N', "Retail Price Improvement Indicator (RPII)", 20, kN},
    {'O', "Direct Listing with Capital Raise Price Discovery", 48, kO},
};

}  // namespace

std::span<const FieldSpec> header_fields() noexcept { return kHeader; }

const MessageSpec* message_spec(char type) noexcept {
  for (const auto& s : kSpecs)
    if (s.type == type) return &s;
  return nullptr;
}

}  // namespace hft::itch
