#pragma once
// OUCH 5.0 messages as fixed-size, trivially copyable structs (spec §2 inbound, §3 outbound).
// kFixedSize is the length without options; a message with kHasAppendage carries an Appendage
// Length as its last fixed field and then its options (appendage.hpp). Offsets are in codec.hpp.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "gateways/ouch/appendage.hpp"
#include "gateways/ouch/types.hpp"

namespace hft::ouch {

// ---- Inbound (client -> OUCH host), spec §2 --------------------------------------------------

struct EnterOrder {  // §2.1
  static constexpr char kType = 'O';
  static constexpr std::size_t kFixedSize = 47;
  static constexpr bool kHasAppendage = true;
  UserRefNum user_ref_num = 0;
  Side side = Side::kBuy;
  std::uint32_t quantity = 0;
  Symbol symbol;
  Price price = 0;
  TimeInForce time_in_force = TimeInForce::kDay;
  Display display = Display::kVisible;
  Capacity capacity = Capacity::kAgency;
  IntermarketSweep intermarket_sweep = IntermarketSweep::kNotEligible;
  CrossType cross_type = CrossType::kContinuous;
  ClOrdId cl_ord_id;
  Options options;
  friend bool operator==(const EnterOrder&, const EnterOrder&) = default;
};

struct ReplaceOrder {  // §2.2
  static constexpr char kType = 'U';
  static constexpr std::size_t kFixedSize = 40;
  static constexpr bool kHasAppendage = true;
  UserRefNum orig_user_ref_num = 0;
  UserRefNum user_ref_num = 0;
  std::uint32_t quantity = 0;
  Price price = 0;
  TimeInForce time_in_force = TimeInForce::kDay;
  Display display = Display::kVisible;
  IntermarketSweep intermarket_sweep = IntermarketSweep::kNotEligible;
  ClOrdId cl_ord_id;
  Options options;
  friend bool operator==(const ReplaceOrder&, const ReplaceOrder&) = default;
};

struct CancelOrder {  // §2.3
  static constexpr char kType = 'X';
  static constexpr std::size_t kFixedSize = 9;
  static constexpr bool kHasAppendage = false;
  UserRefNum user_ref_num = 0;
  std::uint32_t quantity = 0;  // the new intended order size; 0 cancels the rest
  friend bool operator==(const CancelOrder&, const CancelOrder&) = default;
};

struct ModifyOrder {  // §2.4
  static constexpr char kType = 'M';
  static constexpr std::size_t kFixedSize = 10;
  static constexpr bool kHasAppendage = false;
  UserRefNum user_ref_num = 0;
  Side side = Side::kSell;
  std::uint32_t quantity = 0;
  friend bool operator==(const ModifyOrder&, const ModifyOrder&) = default;
};

struct AccountQuery {  // §2.5
  static constexpr char kType = 'Q';
  static constexpr std::size_t kFixedSize = 1;
  static constexpr bool kHasAppendage = false;
  friend bool operator==(const AccountQuery&, const AccountQuery&) = default;
};

// ---- Outbound (OUCH host -> client), spec §3 -------------------------------------------------
// Every one starts with Type and an 8-byte Timestamp (nanoseconds since midnight).

struct SystemEvent {  // §3.1
  static constexpr char kType = 'S';
  static constexpr std::size_t kFixedSize = 10;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  SystemEventCode event_code = SystemEventCode::kStartOfDay;
  friend bool operator==(const SystemEvent&, const SystemEvent&) = default;
};

struct OrderAccepted {  // §3.2
  static constexpr char kType = 'A';
  static constexpr std::size_t kFixedSize = 64;
  static constexpr bool kHasAppendage = true;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  Side side = Side::kBuy;
  std::uint32_t quantity = 0;
  Symbol symbol;
  Price price = 0;
  TimeInForce time_in_force = TimeInForce::kDay;
  Display display = Display::kVisible;
  std::uint64_t order_reference_number = 0;
  Capacity capacity = Capacity::kAgency;
  IntermarketSweep intermarket_sweep = IntermarketSweep::kNotEligible;
  CrossType cross_type = CrossType::kContinuous;
  OrderState order_state = OrderState::kLive;
  ClOrdId cl_ord_id;
  Options options;
  friend bool operator==(const OrderAccepted&, const OrderAccepted&) = default;
};

struct OrderReplaced {  // §3.3
  static constexpr char kType = 'U';
  static constexpr std::size_t kFixedSize = 68;
  static constexpr bool kHasAppendage = true;
  std::uint64_t timestamp = 0;
  UserRefNum orig_user_ref_num = 0;
  UserRefNum user_ref_num = 0;
  Side side = Side::kBuy;
  std::uint32_t quantity = 0;
  Symbol symbol;
  Price price = 0;
  TimeInForce time_in_force = TimeInForce::kDay;
  Display display = Display::kVisible;
  std::uint64_t order_reference_number = 0;
  Capacity capacity = Capacity::kAgency;
  IntermarketSweep intermarket_sweep = IntermarketSweep::kNotEligible;
  CrossType cross_type = CrossType::kContinuous;
  OrderState order_state = OrderState::kLive;
  ClOrdId cl_ord_id;
  Options options;
  friend bool operator==(const OrderReplaced&, const OrderReplaced&) = default;
};

struct OrderCanceled {  // §3.4
  static constexpr char kType = 'C';
  static constexpr std::size_t kFixedSize = 18;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  std::uint32_t quantity = 0;  // decrement, not the remaining size
  CancelReason reason = CancelReason::kUserRequested;
  friend bool operator==(const OrderCanceled&, const OrderCanceled&) = default;
};

struct AiqCanceled {  // §3.5
  static constexpr char kType = 'D';
  static constexpr std::size_t kFixedSize = 32;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  std::uint32_t decrement_shares = 0;
  CancelReason reason = CancelReason::kSelfMatchPrevention;  // always 'Q'
  std::uint32_t quantity_prevented = 0;
  Price execution_price = 0;
  char liquidity_flag = ' ';  // Appendix E
  char aiq_strategy = ' ';
  friend bool operator==(const AiqCanceled&, const AiqCanceled&) = default;
};

struct OrderExecuted {  // §3.6
  static constexpr char kType = 'E';
  static constexpr std::size_t kFixedSize = 36;
  static constexpr bool kHasAppendage = true;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  std::uint32_t quantity = 0;
  Price price = 0;
  char liquidity_flag = 'A';  // Appendix E
  std::uint64_t match_number = 0;
  Options options;
  friend bool operator==(const OrderExecuted&, const OrderExecuted&) = default;
};

struct BrokenTrade {  // §3.7
  static constexpr char kType = 'B';
  static constexpr std::size_t kFixedSize = 36;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  std::uint64_t match_number = 0;
  BrokenTradeReason reason = BrokenTradeReason::kErroneous;
  ClOrdId cl_ord_id;
  friend bool operator==(const BrokenTrade&, const BrokenTrade&) = default;
};

struct OrderRejected {  // §3.8
  static constexpr char kType = 'J';
  static constexpr std::size_t kFixedSize = 29;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  RejectReason reason = RejectReason::kOther;
  ClOrdId cl_ord_id;
  friend bool operator==(const OrderRejected&, const OrderRejected&) = default;
};

struct CancelPending {  // §3.9
  static constexpr char kType = 'P';
  static constexpr std::size_t kFixedSize = 13;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  friend bool operator==(const CancelPending&, const CancelPending&) = default;
};

struct CancelReject {  // §3.10
  static constexpr char kType = 'I';
  static constexpr std::size_t kFixedSize = 13;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  friend bool operator==(const CancelReject&, const CancelReject&) = default;
};

struct OrderPriorityUpdate {  // §3.11
  static constexpr char kType = 'T';
  static constexpr std::size_t kFixedSize = 30;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  Price price = 0;
  Display display = Display::kVisible;
  std::uint64_t order_reference_number = 0;
  friend bool operator==(const OrderPriorityUpdate&, const OrderPriorityUpdate&) = default;
};

struct OrderModified {  // §3.12
  static constexpr char kType = 'M';
  static constexpr std::size_t kFixedSize = 18;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  Side side = Side::kSell;
  std::uint32_t quantity = 0;  // shares outstanding
  friend bool operator==(const OrderModified&, const OrderModified&) = default;
};

struct OrderRestated {  // §3.13
  static constexpr char kType = 'R';
  static constexpr std::size_t kFixedSize = 16;
  static constexpr bool kHasAppendage = true;
  std::uint64_t timestamp = 0;
  UserRefNum user_ref_num = 0;
  RestatedReason reason = RestatedReason::kRefresh;
  Options options;  // DisplayQuantity, DisplayPrice, SecondaryOrdRefNum
  friend bool operator==(const OrderRestated&, const OrderRestated&) = default;
};

struct AccountQueryResponse {  // §3.14
  static constexpr char kType = 'Q';
  static constexpr std::size_t kFixedSize = 13;
  static constexpr bool kHasAppendage = false;
  std::uint64_t timestamp = 0;
  UserRefNum next_user_ref_num = 0;
  friend bool operator==(const AccountQueryResponse&, const AccountQueryResponse&) = default;
};

#define HFT_OUCH_CHECK(T) \
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T::kType) == 1, #T " must be trivially copyable");
HFT_OUCH_CHECK(EnterOrder)
HFT_OUCH_CHECK(ReplaceOrder)
HFT_OUCH_CHECK(CancelOrder)
HFT_OUCH_CHECK(ModifyOrder)
HFT_OUCH_CHECK(AccountQuery)
HFT_OUCH_CHECK(SystemEvent)
HFT_OUCH_CHECK(OrderAccepted)
HFT_OUCH_CHECK(OrderReplaced)
HFT_OUCH_CHECK(OrderCanceled)
HFT_OUCH_CHECK(AiqCanceled)
HFT_OUCH_CHECK(OrderExecuted)
HFT_OUCH_CHECK(BrokenTrade)
HFT_OUCH_CHECK(OrderRejected)
HFT_OUCH_CHECK(CancelPending)
HFT_OUCH_CHECK(CancelReject)
HFT_OUCH_CHECK(OrderPriorityUpdate)
HFT_OUCH_CHECK(OrderModified)
HFT_OUCH_CHECK(OrderRestated)
HFT_OUCH_CHECK(AccountQueryResponse)
#undef HFT_OUCH_CHECK

}  // namespace hft::ouch
