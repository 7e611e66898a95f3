#pragma once
// The events that travel between hftd's stages on SPSC rings. All are fixed-size and trivially
// copyable; each carries `origin_tsc`, the TSC at which the network stage took the packet that
// caused it, so every hop and the whole tick-to-trade can be measured downstream.
//
//   net --RxMessage--> parse --MdEvent--> book --BookEvent--> strategy --OrderIntent--> risk/egress
//                                                                  ^--------ExecReport-----'
//
// Sizes are chosen for the ring's cells: a 56-byte event makes a one-cache-line cell
// (core/spsc_ring.hpp); the two larger events take two lines.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace hft::pipeline {

using Price = std::int64_t;     // 1/10,000 dollar (ITCH Price(4), OUCH 5.0 Price)
using Quantity = std::uint32_t; // shares
using Locate = std::uint16_t;   // ITCH stock locate
// Issue 14: a venue is an index into the configured venues (pipeline/app/venues.hpp), 0 when
// there is one. Events that concern one venue carry it.
using VenueId = std::uint8_t;
inline constexpr std::size_t kMaxVenues = 4;

// ---- net -> parse: one in-sequence ITCH message, as delivered by the MoldUDP64 session ----------
struct RxMessage {
  std::uint64_t origin_tsc;    // TSC when the packet was taken off the completion queue / socket
  std::uint64_t sequence;      // MoldUDP64 sequence number
  std::uint32_t kernel_delay_ns;  // packet receive (SO_TIMESTAMPNS) to origin_tsc, saturated
  std::uint8_t length;         // ITCH message length (<= 50 for ITCH 5.0)
  std::uint8_t kind;           // 0 = ITCH message; 1 = feed became stale (gap); 2 = fresh again; 3 = new session (reset books)
  std::array<std::uint8_t, 50> bytes;
  VenueId venue;               // issue 14: the feed it came from (0 with one venue)
};
static_assert(sizeof(RxMessage) <= 120 && std::is_trivially_copyable_v<RxMessage>);

// ---- parse -> book: a normalized market-data event ----------------------------------------------
enum class MdType : std::uint8_t {
  kAdd,          // ref, side, shares, price (A, F)
  kExecute,      // ref, shares, aux = match number (E)
  kExecutePrice, // ref, shares, price, aux = match number, flags bit0 = printable (C)
  kCancel,       // ref, shares cancelled (X)
  kDelete,       // ref (D)
  kReplace,      // ref = original, aux = new ref, shares, price (U)
  kTrade,        // side, shares, price, aux = match number (P)
  kCrossTrade,   // shares, price, aux = match number (Q)
  kBrokenTrade,  // aux = match number (B)
  kDirectory,    // aux = 8-byte symbol, shares = round lot size, side = market category (R)
  kTradingState, // aux = 8-byte symbol, side = trading state H/P/Q/T (H)
  kSystemEvent,  // side = event code (S)
  kFeedStale,    // a MoldUDP64 gap: books may be wrong until kFeedFresh
  kFeedFresh,    // the gap was filled
  kFeedReset,    // a new feed session (new day, restarted venue): books reset, stale until rebuilt
  kRegSho,       // aux = 8-byte symbol, side = Reg SHO action '0' / '1' / '2' (Y)
};

struct MdEvent {
  std::uint64_t origin_tsc;
  std::uint64_t stage_tsc;  // when the parser emitted it (the book stage records parsed -> book)
  std::uint64_t ref;
  std::uint64_t aux;
  std::uint64_t time_locate;  // ITCH timestamp (48 bits, ns since midnight) << 16 | stock locate
  std::int32_t price;         // ITCH Price(4) fits: at most 200,000.0000 $ = 2,000,000,000
  std::uint32_t shares;
  MdType type;
  char side;
  std::uint8_t flags;
  VenueId venue;              // issue 14: the venue whose feed said it; locate() is the instrument id

  [[nodiscard]] Locate locate() const noexcept { return static_cast<Locate>(time_locate & 0xffff); }
  [[nodiscard]] std::uint64_t timestamp() const noexcept { return time_locate >> 16; }
  static std::uint64_t pack(std::uint64_t timestamp, Locate locate) noexcept { return timestamp << 16 | locate; }
};
static_assert(sizeof(MdEvent) <= 56 && std::is_trivially_copyable_v<MdEvent>, "one cache-line ring cell");

// ---- book -> strategy --------------------------------------------------------------------------
inline constexpr int kDepth = 5;

struct Level {
  std::int32_t price;   // 1/10,000 $, fits ITCH Price(4); 0 = no level
  std::uint32_t shares;
};

enum class BookEventType : std::uint8_t {
  kDepthChange, // the top kDepth levels of a subscribed stock changed
  kTrade,       // an execution or trade print on a subscribed stock
  kFeedStale,   // every book is stale until kFeedFresh
  kFeedFresh,
  kTradingState, // ITCH 'H' on any stock, subscribed or not: trading_state() says which
  kFeedReset,    // a new feed session: every book is empty and stale until kFeedFresh
  // An order-book message of a subscribed stock that left its top kDepth levels as they were:
  // carries only the message's L3 fact (l3_kind() ...), not the depth (the last kDepthChange's holds).
  kOrder,
};

// What one order-book message did to the book, read from the resting order before the message
// changed it (the L3 fact the features' OFI decomposition needs: pipeline/features).
enum class L3Kind : std::uint8_t {
  kNone,     // no fact (the event was not caused by an order-book message, or its order was unknown)
  kAdd,      // A, F: l3_shares() added at l3_price() on l3_side()
  kCancel,   // X: l3_shares() taken off a resting order (clamped to what rested)
  kDelete,   // D: the order's remaining l3_shares() removed
  kExecute,  // E, C: l3_shares() of a resting order executed at l3_price() (E: its price; C: the message's)
  kReplace,  // U: the old order's remaining l3_shares() removed, l3_new_shares() added (0 if refused)
};

struct BookEvent {
  std::uint64_t origin_tsc;
  std::uint64_t stage_tsc;            // when the book stage emitted it
  // ITCH ns since midnight (48 bits on the wire). Issue 14: the word's top byte is the venue whose
  // book this is (0 with one venue), so the event keeps its two cache lines. Both read and assign
  // like plain fields (not addressable: copy `timestamp` into a std::uint64_t to take a pointer).
  std::uint64_t timestamp : 56;
  std::uint64_t venue : 8;            // VenueId
  Level bids[kDepth];                 // best first
  Level asks[kDepth];
  std::uint16_t bid_orders;           // orders at the best bid / ask (saturated at 65535)
  std::uint16_t ask_orders;
  Locate locate;
  BookEventType type;
  // kTrade: the aggressor's side. An execution ('E', 'C') names the resting order it hit, and the
  // aggressor was on the other side: a resting buy executed means the aggressor sold ('S'), a
  // resting sell means it bought ('B'). ' ' when unknown ('P' and 'Q' carry no usable side).
  char trade_side;
  std::int32_t trade_price;           // kTrade
  std::uint32_t trade_shares;         // kTrade; kTradingState: the state character (no room for a field)

  // kTradingState: ITCH 'H' Trading State: 'H' halted, 'P' paused, 'Q' quotation only, 'T' trading.
  [[nodiscard]] char trading_state() const noexcept { return static_cast<char>(trade_shares); }
  void set_trading_state(char state) noexcept { trade_shares = static_cast<unsigned char>(state); }

  // kDepthChange, kOrder: the L3 fact of the message that caused the event, kept in the three
  // trade_* fields such an event leaves unused (the event stays within its two cache lines):
  // trade_side = kind | resting side << 7 (0 bid, 1 ask); trade_shares = the shares;
  // trade_price = the price, except for kReplace, where it holds the new order's shares (a
  // replace's price is not carried). A depth event of an execution carries kExecute: the preceding
  // kTrade event is the same message.
  [[nodiscard]] L3Kind l3_kind() const noexcept { return static_cast<L3Kind>(static_cast<std::uint8_t>(trade_side) & 0x7f); }
  [[nodiscard]] std::uint8_t l3_side() const noexcept { return static_cast<std::uint8_t>(static_cast<std::uint8_t>(trade_side) >> 7); }
  [[nodiscard]] std::uint32_t l3_shares() const noexcept { return trade_shares; }
  [[nodiscard]] std::uint32_t l3_price() const noexcept {
    return l3_kind() == L3Kind::kReplace ? 0 : static_cast<std::uint32_t>(trade_price);
  }
  [[nodiscard]] std::uint32_t l3_new_shares() const noexcept {
    return l3_kind() == L3Kind::kReplace ? static_cast<std::uint32_t>(trade_price) : 0;
  }
  void set_l3(L3Kind kind, std::uint8_t side, std::uint32_t price, std::uint32_t shares, std::uint32_t new_shares) noexcept {
    trade_side = static_cast<char>(static_cast<std::uint8_t>(kind) | (side != 0 ? 0x80 : 0));
    trade_shares = shares;
    trade_price = static_cast<std::int32_t>(kind == L3Kind::kReplace ? new_shares : price);
  }
};
static_assert(sizeof(BookEvent) <= 120 && std::is_trivially_copyable_v<BookEvent>);

// ---- strategy -> risk/egress -------------------------------------------------------------------
enum class Side : std::uint8_t { kBuy, kSell };
enum class TimeInForce : std::uint8_t { kDay, kIoc };
enum class IntentType : std::uint8_t { kNew, kCancel, kReplace };

struct OrderIntent {
  std::uint64_t origin_tsc;    // the packet that caused the decision
  std::uint64_t decision_tsc;  // when the strategy decided
  std::uint64_t order_id;      // strategy-assigned, unique per process (strategy index in the top 8 bits)
  Price price;
  // kNew: the order's size. kReplace: the leaves wanted after the replace (open shares, not the
  // OUCH total): the egress stage adds what already executed, since an OUCH 5.0 Replace Order's
  // Quantity is the chain's total liability (§2.2), and risk checks the growth of the leaves.
  Quantity quantity;
  Locate locate;
  IntentType type;
  Side side;
  TimeInForce tif;
  std::uint8_t strategy;       // index of the strategy that owns the order
  bool post_only;
  // Issue 14: the venue the order goes to (an index into the configured venues; 0 with one). The
  // strategy stage resolves a routing instruction (route = best) into venues before the intent.
  VenueId venue;
  // kNew: OUCH 5.0 MinQty (appendage tag 3): the order executes only if at least this much fills
  // at once; 0 none. A FOK is an IOC with min_quantity = quantity (strategy::Context::fok).
  std::uint32_t min_quantity;
  // Issue 14: non-zero on the legs of one multi-venue decision (cross-venue arbitrage): the egress
  // stage records decision -> the last of the legs handed to the kernel (Hops::legs_to_wire).
  std::uint8_t legs;
};
static_assert(sizeof(OrderIntent) <= 56 && std::is_trivially_copyable_v<OrderIntent>);

// ---- risk/egress -> strategy -------------------------------------------------------------------
enum class ReportType : std::uint8_t {
  kAccepted,       // the venue accepted the order
  kRejected,       // refused by risk (before the wire) or by the venue; `reason` says which
  kCanceled,       // no longer working (leaves = 0)
  kReplaced,       // price/quantity changed
  kFill,           // an execution; price/quantity of the fill, leaves after it
};

enum class RejectReason : std::uint16_t {
  kNone = 0,
  // pre-trade risk (never reached the wire)
  kMaxOrderQuantity = 1,
  kMaxNotional,
  kPriceBand,
  kNoReferencePrice,
  kPositionLimit,
  kOpenOrderLimit,
  kOrderRate,
  kKillSwitch,
  kHalted,           // strategies halted by the operator
  kNotConnected,     // order-entry session down
  kUnknownOrder,     // cancel/replace of an order that is not working
  kBacklog,          // the order-entry send buffer is full
  // pre-trade risk, issue 11 (each off by default: pipeline/risk/keys.hpp)
  kPriceCollar,      // a buy above the ask (sell below the bid) by more than price_collar_bps
  kStaleReference,   // no market update on the symbol for reference_max_age_ms
  kSymbolHalted,     // the feed says the symbol is halted or paused (ITCH 'H')
  kFatFinger,        // quantity above fat_finger_multiple x the symbol's average trade size
  kSymbolNotional,   // the symbol's exposure (position + working + this order) at this price
  kDuplicate,        // same strategy, symbol, side, price and quantity within duplicate_window_ms
  kMessageRate,      // the message bucket toward the venue is empty
  kNetPosition,      // net exposure across symbols (shares) beyond max_net_position
  kGrossPosition,    // gross exposure across symbols (shares) beyond max_gross_position
  kGrossNotional,    // gross exposure across symbols (USD) beyond max_gross_notional_usd
  kLossBreaker,      // the daily-loss / drawdown circuit breaker is tripped: only risk-reducing orders
  kStormGuard,       // Storm Guard in STORM (only risk-reducing orders) or HALT (none) for this symbol or all
  kRestricted,       // the symbol is on the restricted list ([risk] restricted_symbols)
  kBuyingPower,      // long positions + working buys (USD) across symbols beyond max_buying_power_usd
  // per-strategy limits ([[strategies]] risk_*: one strategy cannot consume another's budget)
  kStrategyPosition,   // the strategy's own position + working in the symbol beyond risk_max_position
  kStrategyNotional,   // the strategy's gross exposure across symbols beyond risk_max_notional_usd
  kStrategyOrderRate,  // the strategy's own order-rate bucket (risk_max_orders_per_second) is empty
  kStrategyLoss,       // the strategy's day P&L reached -risk_max_loss_usd: only its risk-reducing orders
  kShortSaleRestricted,  // Reg SHO (ITCH 'Y'): a short sale at or below the national best bid
  // issue 14: the order's venue has no order-entry session up (or is not configured) while other
  // venues trade (one venue: kNotConnected, as before)
  kVenueDown,
  // from the venue (OUCH Rejected reason code in `venue_code`)
  kVenue = 100,
};
// Reason codes below this are counted per reason (risk.rejects.<reason>).
inline constexpr std::size_t kRejectReasonSlots = 33;

struct ExecReport {
  std::uint64_t origin_tsc;
  std::uint64_t order_id;
  Price price;             // fill price, or the working price after accept/replace
  Quantity quantity;       // fill quantity, or the order's quantity after accept/replace
  Quantity leaves;         // shares still working
  Locate locate;
  ReportType type;
  Side side;
  RejectReason reason;
  std::uint16_t venue_code;  // OUCH reject reason / cancel reason code
  std::uint8_t strategy;
  char liquidity;  // fills: the venue's OUCH liquidity flag ('A' added, 'R' removed, ...; 0 unknown)
  VenueId venue;   // issue 14: the order's venue
};
static_assert(sizeof(ExecReport) <= 56 && std::is_trivially_copyable_v<ExecReport>);

// Orders the egress stage makes itself (the operator's flatten) belong to this strategy index.
// Their reports still travel to the strategy stage, which books their fills in its operator
// ledger, so the strategy side's positions stay a projection of every fill the order manager
// booked (pipeline/oms/order_manager.hpp).
inline constexpr std::uint8_t kOperatorStrategy = 255;

}  // namespace hft::pipeline
