#pragma once
// Vocabulary of the price-time matching engine (hft::match): identifiers, order attributes,
// requests, the events reported to the listener, configuration and read-only views.
//
// Every event is a fixed-size, trivially copyable struct: the listener may copy it into a ring
// as is. Prices are integers in 1/10,000 dollar (ITCH Price(4), OUCH 5.0 prices, PROTOCOLS.md §1).
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "gateways/itch/messages.hpp"

namespace hft::match {

using Price = std::int64_t;         // 1/10,000 dollar
using Qty = std::uint32_t;          // shares
using OrderRef = std::uint64_t;     // engine-assigned, day-unique order reference number (ITCH/OUCH)
using MatchNumber = std::uint64_t;  // engine-assigned, unique and increasing per execution
using SymbolIndex = std::uint16_t;  // dense symbol index, e.g. the ITCH stock locate
using OwnerId = std::uint32_t;      // session/user that entered the order (opaque to the engine)
using UserRef = std::uint32_t;      // the client's reference, OUCH 5.0 UserRefNum (opaque)
using SmpGroup = std::uint32_t;     // self-match prevention id (trader/firm); 0 = none

// OUCH 5.0 §1.2: the maximum price is $199,999.9900. Every accepted price is in [1, kMaxPrice],
// which also keeps it below 2^31 (the engine stores book keys in 32 bits).
inline constexpr Price kMaxPrice = 1'999'999'900;

enum class Side : std::uint8_t { kBuy = 0, kSell = 1 };
[[nodiscard]] constexpr Side opposite(Side s) noexcept { return s == Side::kBuy ? Side::kSell : Side::kBuy; }
// 'B' / 'S', as ITCH's Buy/Sell Indicator and OUCH's Side.
[[nodiscard]] constexpr char side_code(Side s) noexcept { return s == Side::kBuy ? 'B' : 'S'; }

enum class OrderType : std::uint8_t {
  kLimit = 0,
  kMarket = 1,     // executes at any price; never rests (the remainder is cancelled)
  kStop = 2,       // held off-book until the last trade reaches stop_price, then a market order
  kStopLimit = 3,  // held off-book until triggered, then a limit order at `price`
};

enum class TimeInForce : std::uint8_t {
  kDay = 0,  // the remainder rests until cancelled
  kIoc = 1,  // immediate or cancel: the remainder is cancelled
  kFok = 2,  // fill or kill: executes in full immediately, or is cancelled without executing
  kGtx = 3,  // post-only ("good till crossing"): never takes liquidity; see CancelReason::kPostOnly
};

// What happens when an incoming order would execute against a resting order of the same
// non-zero SmpGroup. Engine-wide (EngineConfig::smp_policy).
enum class SmpPolicy : std::uint8_t {
  kCancelResting = 0,   // cancel the resting order in full; the incoming order keeps matching
  kCancelIncoming = 1,  // cancel the rest of the incoming order; the resting order is untouched
  kCancelBoth = 2,      // cancel the resting order and the rest of the incoming order
  kDecrement = 3,       // subtract the smaller open quantity from both, without an execution
                        // (from the resting order's reserve first, so its displayed part and
                        // priority stay while it has reserve); continue matching
};

// Why a request was refused. A rejected new order was never accepted (no ref); a rejected cancel
// or replace leaves the order exactly as it was.
enum class RejectReason : std::uint8_t {
  kNone = 0,
  kUnknownSymbol,       // symbol index out of range or not added
  kInvalidSide,
  kInvalidOrderType,
  kInvalidTimeInForce,  // e.g. GTX on a market or stop order
  kInvalidQuantity,     // zero, above the configured maximum, or a reduce-to not below the open quantity
  kInvalidPrice,        // outside the symbol's band or not a multiple of its tick
  kInvalidStopPrice,
  kInvalidMinQty,       // above the quantity, or on a post-only order
  kInvalidDisplay,      // hidden and a display quantity at once
  kUnknownOrder,        // not live: never existed, filled, cancelled, or a ref superseded by a refresh/replace
  kNotOwner,            // the order belongs to another owner
  kReplaceNotAllowed,   // stop orders cannot be replaced (cancel and re-enter)
  kPostOnlyWouldCross,  // a replace would make a post-only order take liquidity
  kOrderPoolFull,       // no free order slot
  kBookFull,            // no free price level (pool or the symbol's per-side capacity)
};

// Why shares were taken off an accepted order.
enum class CancelReason : std::uint8_t {
  kUser = 0,           // cancel or cancel-reduce request
  kImmediateOrCancel,  // the unfilled rest of an IOC order
  kFillOrKill,         // a FOK order that could not fill in full
  kMinQtyNotMet,       // less than MinQty could execute immediately
  kPostOnly,           // a post-only (GTX) order would have crossed on entry
  kSelfMatch,          // self-match prevention
  kMarketRemainder,    // the unfilled rest of a market order (includes an empty book)
  kBookFull,           // the remainder could not rest: no free price level
};

// ---- requests -------------------------------------------------------------------------------
struct NewOrder {
  SymbolIndex symbol = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kDay;
  bool hidden = false;     // non-displayed: never in the visible book; executions print as ITCH 'P'
  Qty quantity = 0;
  Price price = 0;         // limit price (kLimit, kStopLimit); ignored for kMarket and kStop
  Price stop_price = 0;    // kStop, kStopLimit
  Qty display_quantity = 0;  // reserve (iceberg) order: the displayed slice; 0 or >= quantity: all displayed
  Qty min_quantity = 0;    // OUCH MinQty: the order executes only if at least this much fills at once
  OwnerId owner = 0;
  UserRef user_ref = 0;
  SmpGroup smp_group = 0;
};

struct ReplaceOrder {
  OwnerId owner = 0;
  OrderRef ref = 0;         // the live order to replace
  UserRef new_user_ref = 0; // reported on every later event of the order
  Qty quantity = 0;         // the new open quantity (the venue converts OUCH's chain total)
  Price price = 0;
};

struct SubmitResult {
  OrderRef ref = 0;  // the order's reference after the request (0 when rejected)
  RejectReason reason = RejectReason::kNone;
  [[nodiscard]] bool ok() const noexcept { return reason == RejectReason::kNone; }
  friend bool operator==(const SubmitResult&, const SubmitResult&) = default;
};

// ---- events (see listener.hpp for when each is emitted and what the venue publishes) -----------
enum class RequestKind : std::uint8_t { kNew, kCancel, kReplace };

struct Accepted {
  OrderRef ref;
  SymbolIndex symbol;
  Side side;
  OrderType type;
  TimeInForce tif;
  bool hidden;
  Qty quantity;
  Price price;           // limit price (0 for market and stop orders)
  Price stop_price;      // 0 unless a stop order
  Qty display_quantity;  // 0: all displayed (or hidden)
  Qty min_quantity;
  OwnerId owner;
  UserRef user_ref;
  friend bool operator==(const Accepted&, const Accepted&) = default;
};

struct Rejected {
  RequestKind kind;
  RejectReason reason;
  SymbolIndex symbol;  // of the request (new) or of the order (cancel/replace when known), else 0
  OrderRef ref;        // the target of a cancel/replace; 0 for a new order
  OwnerId owner;
  UserRef user_ref;    // new order: its user_ref; replace: the new user_ref; cancel: 0
  friend bool operator==(const Rejected&, const Rejected&) = default;
};

// An order (or the rest of one) starts resting on the book.
struct BookAdded {
  OrderRef ref;
  SymbolIndex symbol;
  Side side;
  bool hidden;
  Price price;
  Qty displayed;  // visible shares (ITCH Add Order shares); 0 for a hidden order
  Qty leaves;     // open shares, reserve included
  OwnerId owner;
  UserRef user_ref;
  friend bool operator==(const BookAdded&, const BookAdded&) = default;
};

struct Execution {
  MatchNumber match;
  SymbolIndex symbol;
  Price price;  // the resting order's price
  Qty quantity;
  // The resting order: provided liquidity (OUCH liquidity flag 'A', or 'J' when not displayed).
  OrderRef resting_ref;
  OwnerId resting_owner;
  UserRef resting_user_ref;
  Side resting_side;
  bool resting_displayed;  // executed against displayed shares: ITCH 'E'; otherwise ITCH 'P'
  Qty resting_leaves;      // open after this execution (before any refresh)
  // The incoming order: removed liquidity (OUCH liquidity flag 'R').
  OrderRef incoming_ref;
  OwnerId incoming_owner;
  UserRef incoming_user_ref;
  Qty incoming_leaves;     // still to match after this execution
  friend bool operator==(const Execution&, const Execution&) = default;
};

struct Canceled {
  OrderRef ref;
  SymbolIndex symbol;
  Side side;
  CancelReason reason;
  bool on_book;             // the order was resting: the book (and ITCH) changes
  Price price;
  Qty canceled;             // shares taken off (OUCH Canceled Quantity, incremental)
  Qty leaves;               // open after; 0 = the order is gone
  Qty displayed_decrement;  // of the displayed shares (ITCH Order Cancel shares)
  OwnerId owner;
  UserRef user_ref;
  friend bool operator==(const Canceled&, const Canceled&) = default;
};

enum class ReplaceOutcome : std::uint8_t {
  kPriorityKept,  // same price, quantity not raised: same ref, same queue place
  kRequeued,      // rests at the back of its (new) price level with a new ref (ITCH 'U')
  kReentered,     // left the book and re-enters as an incoming order with a new ref: executions,
                  // then BookAdded for any rest (ITCH: 'D' of the old ref, then as a new order)
};

struct Replaced {
  OrderRef old_ref;
  OrderRef new_ref;  // == old_ref when kPriorityKept
  SymbolIndex symbol;
  Side side;
  ReplaceOutcome outcome;
  bool hidden;
  Price old_price;
  Price price;
  Qty old_leaves;
  Qty leaves;
  Qty old_displayed;
  Qty displayed;  // visible shares now; 0 for kReentered (BookAdded follows if it rests)
  OwnerId owner;
  UserRef old_user_ref;
  UserRef user_ref;
  friend bool operator==(const Replaced&, const Replaced&) = default;
};

// A reserve order's displayed slice was used up: a new slice comes from the reserve, goes to the
// back of the queue at the same price, under a new ref (ITCH: Add Order for new_ref).
struct Refreshed {
  OrderRef old_ref;
  OrderRef new_ref;
  SymbolIndex symbol;
  Side side;
  Price price;
  Qty displayed;  // the new slice
  Qty leaves;     // open shares, reserve included
  OwnerId owner;
  UserRef user_ref;
  friend bool operator==(const Refreshed&, const Refreshed&) = default;
};

// A held stop order was triggered by the last trade price; it now enters as a market (kStop) or
// limit (kStopLimit) order under the same ref, with its own events following.
struct StopTriggered {
  OrderRef ref;
  SymbolIndex symbol;
  Side side;
  OrderType becomes;  // kMarket or kLimit
  Price stop_price;
  Price last_trade;
  Qty quantity;
  OwnerId owner;
  UserRef user_ref;
  friend bool operator==(const StopTriggered&, const StopTriggered&) = default;
};

static_assert(std::is_trivially_copyable_v<Accepted> && std::is_trivially_copyable_v<Rejected> &&
              std::is_trivially_copyable_v<BookAdded> && std::is_trivially_copyable_v<Execution> &&
              std::is_trivially_copyable_v<Canceled> && std::is_trivially_copyable_v<Replaced> &&
              std::is_trivially_copyable_v<Refreshed> && std::is_trivially_copyable_v<StopTriggered>,
              "events are copied into rings as raw bytes");

// ---- configuration --------------------------------------------------------------------------
struct EngineConfig {
  std::uint32_t max_orders = 1u << 20;    // resting orders + held stops + the one incoming order
  std::uint32_t max_levels = 1u << 18;    // price levels, all symbols and sides together
  std::uint32_t max_symbols = 1024;       // symbol indices are 0 .. max_symbols-1
  Qty max_quantity = 999'999;             // OUCH 5.0: quantity "less than 1,000,000"
  SmpPolicy smp_policy = SmpPolicy::kCancelResting;
  MatchNumber first_match_number = 1;
};

struct SymbolConfig {
  itch::Symbol name{};                   // for dumps; the engine never looks at it
  Price min_price = 1;
  Price max_price = kMaxPrice;
  Price tick = 1;                        // prices must be multiples of it
  std::uint32_t max_levels_per_side = 1024;
};

// ---- views (queries; not the hot path) ------------------------------------------------------
struct DepthLevel {
  Price price = 0;
  std::uint64_t shares = 0;   // displayed shares
  std::uint32_t orders = 0;   // displayed orders
  friend bool operator==(const DepthLevel&, const DepthLevel&) = default;
};

enum class OrderStatus : std::uint8_t { kResting, kStopHeld };

struct OrderView {
  OrderRef ref;
  SymbolIndex symbol;
  Side side;
  OrderType type;
  TimeInForce tif;
  OrderStatus status;
  bool hidden;
  Price price;
  Price stop_price;
  Qty leaves;
  Qty displayed;
  Qty display_quantity;
  Qty executed;   // cumulative over the order's life (replaces included)
  OwnerId owner;
  UserRef user_ref;
  SmpGroup smp_group;
  friend bool operator==(const OrderView&, const OrderView&) = default;
};

struct EngineStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t executions = 0;
  std::uint64_t executed_shares = 0;
  std::uint64_t cancels = 0;       // Canceled events
  std::uint64_t replaces = 0;
  std::uint64_t refreshes = 0;
  std::uint64_t stops_triggered = 0;
  std::uint64_t self_match_preventions = 0;
};

// ---- names and wire codes (cold) ------------------------------------------------------------
[[nodiscard]] std::string_view to_string(RejectReason r) noexcept;
[[nodiscard]] std::string_view to_string(CancelReason r) noexcept;
[[nodiscard]] std::string_view to_string(SmpPolicy p) noexcept;
[[nodiscard]] std::string_view to_string(TimeInForce t) noexcept;
[[nodiscard]] std::string_view to_string(OrderType t) noexcept;
// Parses "cancel-resting", "cancel-incoming", "cancel-both", "decrement" (configuration files).
[[nodiscard]] bool parse_smp_policy(std::string_view text, SmpPolicy& out) noexcept;

// OUCH 5.0 Appendix C cancel reason for a CancelReason.
[[nodiscard]] char ouch_cancel_reason(CancelReason r) noexcept;
// OUCH 5.0 Appendix D reject reason for a RejectReason (0x000F "Other" when none fits).
[[nodiscard]] std::uint16_t ouch_reject_reason(RejectReason r) noexcept;
// OUCH 5.0 Appendix E liquidity flags of the two sides of an execution.
[[nodiscard]] constexpr char resting_liquidity_flag(const Execution& e) noexcept {
  return e.resting_displayed ? 'A' : 'J';  // Added / Non-displayed adding liquidity
}
[[nodiscard]] constexpr char incoming_liquidity_flag(const Execution&) noexcept { return 'R'; }  // Removed

}  // namespace hft::match
