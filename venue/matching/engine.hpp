#pragma once
// Price-time priority matching engine: one book per symbol, single-threaded, every outcome
// reported to a listener chosen at compile time (listener.hpp is the contract).
//
// Order types: limit, market, stop, stop-limit; time in force DAY, IOC, FOK, GTX (post-only);
// MinQty; reserve (iceberg) orders; hidden orders; cancel, cancel-reduce, replace; self-match
// prevention (SmpPolicy). Matching rules, in priority order at one price level:
//   1. displayed orders in time order (a reserve order executes only its displayed slice; when
//      that is used up, a new slice comes from the reserve and joins the back of this queue);
//   2. hidden orders in time order.
// Executions print at the resting order's price. Levels are visited best price first.
//
// Policies the venue builds on (each also stated where it is decided):
//   * Validation failures reject before acceptance (Rejected, no ref). Outcomes that depend on
//     the book (IOC/market remainder, FOK, MinQty, post-only, self-match) accept, then cancel.
//   * Post-only (GTX): if any resting order is at a price the order would cross, the order is
//     cancelled on entry (CancelReason::kPostOnly, OUCH 'G') and never touches the book; a
//     replace that would cross is rejected and leaves the order as it was.
//   * MinQty and FOK are decided before anything executes, by a dry run that follows exactly
//     the path the match will take (priority, refreshes, self-match policy). MinQty binds only
//     on entry; a DAY remainder then rests as an ordinary order.
//   * Stops: a buy stop triggers when the symbol's last trade price >= its stop price, a sell
//     stop when <= (at entry too, when a last trade exists). After every request that executed,
//     triggered stops are entered one at a time: buy stops first (lowest stop price, then
//     earliest), then sell stops (highest, then earliest), re-checking after each, so cascades
//     run to completion without recursion. Stops cannot be replaced; they can be cancelled and
//     reduced.
//   * Replace: same price and a quantity not above the open quantity keeps the ref and the
//     queue place; anything else gets a new ref at the back of the queue, and a replace to a
//     crossing price re-enters as an incoming order. A replace is atomic: it applies in full or
//     is rejected.
//   * Cancel-reduce and self-match decrement take shares from the reserve first, then from the
//     displayed slice, so a reduced order keeps its place.
//
// Memory: every order, price level and book is allocated when the engine is built (books: their
// per-side level arrays when the symbol is added); submit/cancel/replace allocate nothing, take
// no lock and throw nothing. A full pool is a reject (or a kBookFull cancel of a remainder that
// cannot rest), never undefined behaviour.
//
// Order references encode the pool slot: ref = (sequence << slot_bits) | slot. Lookup is one
// load and a compare, a superseded or reused ref fails the compare, and refs stay unique and
// increasing for the engine's life.
#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/compiler.hpp"
#include "venue/matching/listener.hpp"
#include "venue/matching/types.hpp"

namespace hft::match {

// One book as an `hft-itch book` dump shows it: displayed levels, best first.
struct BookDump {
  SymbolIndex symbol = 0;
  itch::Symbol name{};
  std::vector<DepthLevel> bids;
  std::vector<DepthLevel> asks;
  std::uint64_t hidden_orders = 0;   // resting non-displayed orders (not in the levels)
  std::uint64_t hidden_shares = 0;   // their open shares plus reserve shares of reserve orders
  std::uint64_t held_stops = 0;
  Price last_trade = 0;              // 0: no trade yet
};

namespace detail {

inline constexpr std::uint32_t kNil = 0xFFFF'FFFFu;

enum class SlotState : std::uint8_t { kFree, kIncoming, kResting, kStop };

// One cache line per order: everything matching touches.
struct alignas(64) Order {
  OrderRef ref;
  Price price;
  OwnerId owner;
  UserRef user_ref;
  SmpGroup smp_group;
  Qty leaves;     // open shares, reserve included
  Qty visible;    // displayed part of leaves (0 for hidden orders)
  Qty max_floor;  // displayed slice size of a reserve order; 0: not a reserve order
  Qty executed;
  std::uint32_t next;   // level queue / stop list / free list
  std::uint32_t prev;
  std::uint32_t level;  // resting: the level's index
  SymbolIndex symbol;
  Side side;
  TimeInForce tif;
  OrderType type;
  SlotState state;
  bool hidden;
};
static_assert(sizeof(Order) == 64, "an order is one cache line");

// Cold per-slot data, touched only by stop orders and on entry.
struct OrderAux {
  Price stop_price;
  Qty min_quantity;
  Qty entered_quantity;
};

struct Level {
  Price price;
  std::uint64_t displayed_shares;
  std::uint64_t total_shares;  // displayed + reserve + hidden
  std::uint32_t displayed_orders;
  std::uint32_t hidden_orders;
  std::uint32_t head, tail;                // displayed queue
  std::uint32_t hidden_head, hidden_tail;  // hidden queue
};

// Price levels of one side, sorted so that the best price is last: the common searches (at or
// near the top) touch the end of the array, and removing the best level is a pop. Keys are the
// price for bids and minus the price for asks, so "better" is "greater" on both sides.
struct SideBook {
  std::int32_t* keys = nullptr;
  std::uint32_t* levels = nullptr;
  std::uint32_t size = 0;
  std::uint32_t capacity = 0;
  std::uint32_t stop_head = kNil;  // held stops, in trigger priority
};

struct Book {
  SideBook sides[2];
  Price last_trade = 0;
  Price min_price = 1;
  Price max_price = kMaxPrice;
  Price tick = 1;
  itch::Symbol name{};
  bool active = false;
  std::unique_ptr<std::int32_t[]> key_storage;
  std::unique_ptr<std::uint32_t[]> level_storage;
};

[[nodiscard]] inline std::int32_t side_key(Side s, Price p) noexcept {
  return s == Side::kBuy ? static_cast<std::int32_t>(p) : -static_cast<std::int32_t>(p);
}

}  // namespace detail

template <Listener L>
class Engine {
 public:
  // Allocates every pool. Throws std::invalid_argument for a configuration out of range.
  Engine(const EngineConfig& config, L& listener) : listener_(listener), config_(config) {
    if (config.max_orders == 0 || config.max_orders > (1u << 30))
      throw std::invalid_argument("matching engine: max_orders must be in [1, 2^30]");
    if (config.max_levels == 0 || config.max_levels >= detail::kNil)
      throw std::invalid_argument("matching engine: max_levels must be in [1, 2^32-2]");
    if (config.max_symbols == 0 || config.max_symbols > 65536)
      throw std::invalid_argument("matching engine: max_symbols must be in [1, 65536]");
    if (config.max_quantity == 0) throw std::invalid_argument("matching engine: max_quantity must be > 0");
    slot_bits_ = std::max(1u, static_cast<unsigned>(std::bit_width(config.max_orders - 1u)));
    slot_mask_ = (OrderRef{1} << slot_bits_) - 1;
    orders_ = std::make_unique<detail::Order[]>(config.max_orders);
    aux_ = std::make_unique<detail::OrderAux[]>(config.max_orders);
    levels_ = std::make_unique<detail::Level[]>(config.max_levels);
    books_ = std::make_unique<detail::Book[]>(config.max_symbols);
    // Free lists in index order, so a fresh engine hands out low slots first.
    for (std::uint32_t i = 0; i < config.max_orders; ++i) {
      orders_[i].state = detail::SlotState::kFree;
      orders_[i].next = i + 1 < config.max_orders ? i + 1 : detail::kNil;
    }
    free_order_ = 0;
    for (std::uint32_t i = 0; i < config.max_levels; ++i) levels_[i].head = i + 1 < config.max_levels ? i + 1 : detail::kNil;
    free_level_ = 0;
    next_match_ = config.first_match_number;
  }

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Start-up: makes `symbol` tradable and allocates its level arrays. Throws std::invalid_argument
  // on an index out of range, a symbol added twice or a bad band.
  void add_symbol(SymbolIndex symbol, const SymbolConfig& sc = {}) {
    if (symbol >= config_.max_symbols)
      throw std::invalid_argument("matching engine: symbol index " + std::to_string(symbol) + " >= max_symbols");
    detail::Book& b = books_[symbol];
    if (b.active) throw std::invalid_argument("matching engine: symbol index " + std::to_string(symbol) + " added twice");
    if (sc.tick <= 0 || sc.min_price < 1 || sc.max_price > kMaxPrice || sc.min_price > sc.max_price)
      throw std::invalid_argument("matching engine: symbol " + std::to_string(symbol) +
                                  ": price band must satisfy 1 <= min_price <= max_price <= 1999999900, tick > 0");
    if (sc.max_levels_per_side == 0) throw std::invalid_argument("matching engine: max_levels_per_side must be > 0");
    const std::size_t cap = sc.max_levels_per_side;
    b.key_storage = std::make_unique<std::int32_t[]>(2 * cap);
    b.level_storage = std::make_unique<std::uint32_t[]>(2 * cap);
    for (int s = 0; s < 2; ++s) {
      b.sides[s].keys = b.key_storage.get() + s * cap;
      b.sides[s].levels = b.level_storage.get() + s * cap;
      b.sides[s].capacity = sc.max_levels_per_side;
      b.sides[s].size = 0;
      b.sides[s].stop_head = detail::kNil;
    }
    b.min_price = sc.min_price;
    b.max_price = sc.max_price;
    b.tick = sc.tick;
    b.name = sc.name;
    b.last_trade = 0;
    b.active = true;
  }

  [[nodiscard]] bool has_symbol(SymbolIndex symbol) const noexcept {
    return symbol < config_.max_symbols && books_[symbol].active;
  }

  // ---- requests (hot path: noexcept, no allocation) ----------------------------------------

  SubmitResult submit(const NewOrder& req) noexcept {
    const RejectReason why = validate(req);
    if (why != RejectReason::kNone) [[unlikely]] {
      reject_new(req, why);
      return {0, why};
    }
    detail::Book& b = books_[req.symbol];
    const std::uint32_t oi = alloc_order();
    detail::Order& o = orders_[oi];
    const bool reserve = !req.hidden && req.display_quantity != 0 && req.display_quantity < req.quantity;
    o.ref = next_ref(oi);
    o.price = (req.type == OrderType::kLimit || req.type == OrderType::kStopLimit) ? req.price : 0;
    o.owner = req.owner;
    o.user_ref = req.user_ref;
    o.smp_group = req.smp_group;
    o.leaves = req.quantity;
    o.visible = 0;
    o.max_floor = reserve ? req.display_quantity : 0;
    o.executed = 0;
    o.next = o.prev = o.level = detail::kNil;
    o.symbol = req.symbol;
    o.side = req.side;
    o.tif = req.tif;
    o.type = req.type;
    o.hidden = req.hidden;
    detail::OrderAux& aux = aux_[oi];
    aux.stop_price = is_stop(req.type) ? req.stop_price : 0;
    aux.min_quantity = req.tif == TimeInForce::kFok ? req.quantity : req.min_quantity;
    aux.entered_quantity = req.quantity;
    ++stats_.accepted;
    listener_.on_accepted(Accepted{o.ref, o.symbol, o.side, o.type, o.tif, o.hidden, req.quantity, o.price,
                                   aux.stop_price, o.max_floor, req.min_quantity, o.owner, o.user_ref});
    const OrderRef ref = o.ref;
    if (is_stop(req.type)) {
      hold_stop(b, oi);
      run_stops(b);  // triggers it at once when the last trade already passed its stop price
      return {ref, RejectReason::kNone};
    }
    o.state = detail::SlotState::kIncoming;
    const Price last = b.last_trade;
    process_incoming(b, oi, aux.min_quantity);
    // Held stops are never triggered at the current last price (each request ends with this
    // check), so only a new trade can trigger one.
    if (b.last_trade != last) run_stops(b);
    return {ref, RejectReason::kNone};
  }

  // Cancels an order (reduce_to == 0) or reduces its open quantity to reduce_to (keeps priority).
  RejectReason cancel(OwnerId owner, OrderRef ref, Qty reduce_to = 0) noexcept {
    const std::uint32_t oi = find_slot(ref);
    RejectReason why = RejectReason::kNone;
    if (oi == detail::kNil) why = RejectReason::kUnknownOrder;
    else if (orders_[oi].owner != owner) why = RejectReason::kNotOwner;
    else if (reduce_to >= orders_[oi].leaves) why = RejectReason::kInvalidQuantity;
    if (why != RejectReason::kNone) [[unlikely]] {
      ++stats_.rejected;
      listener_.on_rejected(Rejected{RequestKind::kCancel, why, oi == detail::kNil ? SymbolIndex{0} : orders_[oi].symbol,
                                     ref, owner, 0});
      return why;
    }
    detail::Order& o = orders_[oi];
    detail::Book& b = books_[o.symbol];
    if (o.state == detail::SlotState::kStop) {
      const Qty removed = o.leaves - reduce_to;
      o.leaves = reduce_to;
      emit_cancel(o, removed, 0, CancelReason::kUser, false);
      if (reduce_to == 0) {
        unlink_stop(b, oi);
        free_order(oi);
      }
      return RejectReason::kNone;
    }
    reduce_resting(b, oi, o.leaves - reduce_to, CancelReason::kUser);
    return RejectReason::kNone;
  }

  SubmitResult replace(const ReplaceOrder& req) noexcept {
    const std::uint32_t oi = find_slot(req.ref);
    RejectReason why = RejectReason::kNone;
    if (oi == detail::kNil) {
      why = RejectReason::kUnknownOrder;
    } else {
      const detail::Order& o = orders_[oi];
      const detail::Book& b = books_[o.symbol];
      if (o.owner != req.owner) why = RejectReason::kNotOwner;
      else if (o.state != detail::SlotState::kResting) why = RejectReason::kReplaceNotAllowed;
      else if (req.quantity == 0 || req.quantity > config_.max_quantity) why = RejectReason::kInvalidQuantity;
      else if (!price_ok(b, req.price)) why = RejectReason::kInvalidPrice;
      else if (o.tif == TimeInForce::kGtx && would_cross(b, o.side, req.price)) why = RejectReason::kPostOnlyWouldCross;
    }
    if (why != RejectReason::kNone) [[unlikely]] {
      ++stats_.rejected;
      listener_.on_rejected(Rejected{RequestKind::kReplace, why, oi == detail::kNil ? SymbolIndex{0} : orders_[oi].symbol,
                                     req.ref, req.owner, req.new_user_ref});
      return {0, why};
    }
    detail::Order& o = orders_[oi];
    detail::Book& b = books_[o.symbol];
    const OrderRef old_ref = o.ref;
    const Price old_price = o.price;
    const Qty old_leaves = o.leaves;
    const Qty old_displayed = o.visible;
    const UserRef old_user_ref = o.user_ref;
    ++stats_.replaces;

    if (req.price == o.price && req.quantity <= o.leaves) {  // keeps its place
      const Qty removed = o.leaves - req.quantity;
      const Qty shown_removed = take_shares(b, o, removed);
      (void)shown_removed;
      o.user_ref = req.new_user_ref;
      listener_.on_replaced(Replaced{old_ref, o.ref, o.symbol, o.side, ReplaceOutcome::kPriorityKept, o.hidden, old_price,
                                     o.price, old_leaves, o.leaves, old_displayed, o.visible, o.owner, old_user_ref,
                                     o.user_ref});
      return {o.ref, RejectReason::kNone};
    }

    const bool crossing = would_cross(b, o.side, req.price);
    if (!crossing) {
      // Needs a level at the new price: refuse up front rather than lose the order half-way.
      const bool same_level = req.price == o.price;
      if (!same_level && !level_available(b.sides[static_cast<int>(o.side)], o.side, req.price)) [[unlikely]] {
        --stats_.replaces;
        ++stats_.rejected;
        listener_.on_rejected(Rejected{RequestKind::kReplace, RejectReason::kBookFull, o.symbol, req.ref, req.owner,
                                       req.new_user_ref});
        return {0, RejectReason::kBookFull};
      }
    }
    unlink_resting(b, oi);
    o.ref = next_ref(oi);
    o.price = req.price;
    o.leaves = req.quantity;
    o.visible = crossing ? 0 : initial_visible(o);
    o.user_ref = req.new_user_ref;
    if (!crossing) {
      const std::uint32_t li = find_or_add_level(b, o.side, o.price);  // checked above: cannot fail
      append_resting(li, oi);
      listener_.on_replaced(Replaced{old_ref, o.ref, o.symbol, o.side, ReplaceOutcome::kRequeued, o.hidden, old_price,
                                     o.price, old_leaves, o.leaves, old_displayed, o.visible, o.owner, old_user_ref,
                                     o.user_ref});
      return {o.ref, RejectReason::kNone};
    }
    o.state = detail::SlotState::kIncoming;
    listener_.on_replaced(Replaced{old_ref, o.ref, o.symbol, o.side, ReplaceOutcome::kReentered, o.hidden, old_price,
                                   o.price, old_leaves, o.leaves, old_displayed, o.visible, o.owner, old_user_ref,
                                   o.user_ref});
    const OrderRef ref = o.ref;
    process_incoming(b, oi, 0);
    run_stops(b);
    return {ref, RejectReason::kNone};
  }

  // ---- queries (not the hot path) ----------------------------------------------------------

  [[nodiscard]] std::optional<OrderView> find(OrderRef ref) const noexcept {
    const std::uint32_t oi = find_slot(ref);
    if (oi == detail::kNil) return std::nullopt;
    return view_of(oi);
  }

  // Top levels of displayed interest, best first; returns how many were written.
  std::size_t depth(SymbolIndex symbol, Side side, std::span<DepthLevel> out) const noexcept {
    if (!has_symbol(symbol)) return 0;
    const detail::SideBook& s = books_[symbol].sides[static_cast<int>(side)];
    std::size_t n = 0;
    for (std::uint32_t i = s.size; i-- > 0 && n < out.size();) {
      const detail::Level& lv = levels_[s.levels[i]];
      if (lv.displayed_orders == 0) continue;
      out[n++] = DepthLevel{lv.price, lv.displayed_shares, lv.displayed_orders};
    }
    return n;
  }

  // Best displayed level of a side; nullopt when there is none.
  [[nodiscard]] std::optional<DepthLevel> best(SymbolIndex symbol, Side side) const noexcept {
    DepthLevel d;
    if (depth(symbol, side, std::span<DepthLevel>(&d, 1)) == 0) return std::nullopt;
    return d;
  }

  [[nodiscard]] Price last_trade(SymbolIndex symbol) const noexcept {
    return has_symbol(symbol) ? books_[symbol].last_trade : 0;
  }

  // Visits every resting order of a symbol in priority order: bids best price first, then asks;
  // at each level displayed orders in queue order, then hidden ones.
  void for_each_resting(SymbolIndex symbol, const std::function<void(const OrderView&)>& fn) const {
    if (!has_symbol(symbol)) return;
    for (int s = 0; s < 2; ++s) {
      const detail::SideBook& sb = books_[symbol].sides[s];
      for (std::uint32_t i = sb.size; i-- > 0;) {
        const detail::Level& lv = levels_[sb.levels[i]];
        for (std::uint32_t oi = lv.head; oi != detail::kNil; oi = orders_[oi].next) fn(view_of(oi));
        for (std::uint32_t oi = lv.hidden_head; oi != detail::kNil; oi = orders_[oi].next) fn(view_of(oi));
      }
    }
  }

  // Visits held stops: buys in trigger priority, then sells.
  void for_each_stop(SymbolIndex symbol, const std::function<void(const OrderView&)>& fn) const {
    if (!has_symbol(symbol)) return;
    for (int s = 0; s < 2; ++s)
      for (std::uint32_t oi = books_[symbol].sides[s].stop_head; oi != detail::kNil; oi = orders_[oi].next) fn(view_of(oi));
  }

  // The book of one symbol as `hft-itch book` shows it (displayed levels, best first).
  [[nodiscard]] BookDump dump(SymbolIndex symbol) const {
    BookDump d;
    d.symbol = symbol;
    if (!has_symbol(symbol)) return d;
    const detail::Book& b = books_[symbol];
    d.name = b.name;
    d.last_trade = b.last_trade;
    for (int s = 0; s < 2; ++s) {
      std::vector<DepthLevel>& out = s == 0 ? d.bids : d.asks;
      const detail::SideBook& sb = b.sides[s];
      for (std::uint32_t i = sb.size; i-- > 0;) {
        const detail::Level& lv = levels_[sb.levels[i]];
        if (lv.displayed_orders != 0) out.push_back(DepthLevel{lv.price, lv.displayed_shares, lv.displayed_orders});
        d.hidden_orders += lv.hidden_orders;
        d.hidden_shares += lv.total_shares - lv.displayed_shares;
      }
      for (std::uint32_t oi = sb.stop_head; oi != detail::kNil; oi = orders_[oi].next) ++d.held_stops;
    }
    return d;
  }

  // Every added symbol's book, in symbol index order (the venue's end-of-day book file).
  [[nodiscard]] std::vector<BookDump> dump_all() const {
    std::vector<BookDump> all;
    for (std::uint32_t s = 0; s < config_.max_symbols; ++s)
      if (books_[s].active) all.push_back(dump(static_cast<SymbolIndex>(s)));
    return all;
  }

  [[nodiscard]] const EngineStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const EngineConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::uint32_t free_orders() const noexcept { return config_.max_orders - live_orders_; }
  [[nodiscard]] std::uint32_t live_orders() const noexcept { return live_orders_; }
  [[nodiscard]] std::uint32_t live_levels() const noexcept { return live_levels_; }

 private:
  using Order = detail::Order;
  using Level = detail::Level;
  using Book = detail::Book;
  using SideBook = detail::SideBook;
  static constexpr std::uint32_t kNil = detail::kNil;

  static constexpr bool is_stop(OrderType t) noexcept { return t == OrderType::kStop || t == OrderType::kStopLimit; }

  [[nodiscard]] static bool price_ok(const Book& b, Price p) noexcept {
    return p >= b.min_price && p <= b.max_price && p % b.tick == 0;
  }

  RejectReason validate(const NewOrder& r) const noexcept {
    if (r.symbol >= config_.max_symbols || !books_[r.symbol].active) return RejectReason::kUnknownSymbol;
    if (r.side != Side::kBuy && r.side != Side::kSell) return RejectReason::kInvalidSide;
    if (static_cast<std::uint8_t>(r.type) > static_cast<std::uint8_t>(OrderType::kStopLimit))
      return RejectReason::kInvalidOrderType;
    if (static_cast<std::uint8_t>(r.tif) > static_cast<std::uint8_t>(TimeInForce::kGtx))
      return RejectReason::kInvalidTimeInForce;
    if (r.quantity == 0 || r.quantity > config_.max_quantity) return RejectReason::kInvalidQuantity;
    const Book& b = books_[r.symbol];
    if ((r.type == OrderType::kLimit || r.type == OrderType::kStopLimit) && !price_ok(b, r.price))
      return RejectReason::kInvalidPrice;
    if (is_stop(r.type) && !price_ok(b, r.stop_price)) return RejectReason::kInvalidStopPrice;
    // Post-only must be able to rest: only plain limit orders.
    if (r.tif == TimeInForce::kGtx && r.type != OrderType::kLimit) return RejectReason::kInvalidTimeInForce;
    if (r.min_quantity > r.quantity || (r.min_quantity != 0 && r.tif == TimeInForce::kGtx))
      return RejectReason::kInvalidMinQty;
    if (r.hidden && r.display_quantity != 0) return RejectReason::kInvalidDisplay;
    if (free_order_ == kNil) return RejectReason::kOrderPoolFull;
    return RejectReason::kNone;
  }

  HFT_COLD void reject_new(const NewOrder& r, RejectReason why) noexcept {
    ++stats_.rejected;
    listener_.on_rejected(Rejected{RequestKind::kNew, why, r.symbol, 0, r.owner, r.user_ref});
  }

  // ---- slots and refs -------------------------------------------------------------------------
  std::uint32_t alloc_order() noexcept {
    const std::uint32_t oi = free_order_;
    free_order_ = orders_[oi].next;
    ++live_orders_;
    return oi;
  }
  void free_order(std::uint32_t oi) noexcept {
    Order& o = orders_[oi];
    o.state = detail::SlotState::kFree;
    o.ref = 0;
    o.next = free_order_;
    free_order_ = oi;
    --live_orders_;
  }
  OrderRef next_ref(std::uint32_t oi) noexcept { return (ref_sequence_++ << slot_bits_) | oi; }

  [[nodiscard]] std::uint32_t find_slot(OrderRef ref) const noexcept {
    const OrderRef slot = ref & slot_mask_;
    if (ref == 0 || slot >= config_.max_orders) return kNil;
    const Order& o = orders_[slot];
    if (o.ref != ref || (o.state != detail::SlotState::kResting && o.state != detail::SlotState::kStop)) return kNil;
    return static_cast<std::uint32_t>(slot);
  }

  [[nodiscard]] OrderView view_of(std::uint32_t oi) const noexcept {
    const Order& o = orders_[oi];
    return OrderView{o.ref, o.symbol, o.side, o.type, o.tif,
                     o.state == detail::SlotState::kStop ? OrderStatus::kStopHeld : OrderStatus::kResting, o.hidden,
                     o.price, aux_[oi].stop_price, o.leaves, o.visible, o.max_floor, o.executed, o.owner, o.user_ref,
                     o.smp_group};
  }

  // ---- levels ----------------------------------------------------------------------------------
  // Position of `key` in a side: index of the equal key, or where it would be inserted.
  [[nodiscard]] static std::uint32_t find_pos(const SideBook& s, std::int32_t key) noexcept {
    std::uint32_t i = s.size;
    // Most keys are at or near the best price, i.e. the end of the array.
    for (int steps = 0; steps < 8 && i > 0; ++steps, --i)
      if (s.keys[i - 1] <= key) return s.keys[i - 1] == key ? i - 1 : i;
    if (i == 0) return 0;
    return static_cast<std::uint32_t>(std::lower_bound(s.keys, s.keys + i, key) - s.keys);
  }

  [[nodiscard]] bool level_available(const SideBook& s, Side side, Price price) const noexcept {
    const std::int32_t key = detail::side_key(side, price);
    const std::uint32_t pos = find_pos(s, key);
    if (pos < s.size && s.keys[pos] == key) return true;
    return free_level_ != kNil && s.size < s.capacity;
  }

  // The level at `price` on `side`, created (empty) when absent; kNil when no level is free.
  std::uint32_t find_or_add_level(Book& b, Side side, Price price) noexcept {
    SideBook& s = b.sides[static_cast<int>(side)];
    const std::int32_t key = detail::side_key(side, price);
    const std::uint32_t pos = find_pos(s, key);
    if (pos < s.size && s.keys[pos] == key) return s.levels[pos];
    if (free_level_ == kNil || s.size == s.capacity) [[unlikely]] return kNil;
    const std::uint32_t li = free_level_;
    Level& lv = levels_[li];
    free_level_ = lv.head;
    ++live_levels_;
    lv = Level{price, 0, 0, 0, 0, kNil, kNil, kNil, kNil};
    const std::uint32_t tail = s.size - pos;
    if (tail != 0) {
      std::memmove(s.keys + pos + 1, s.keys + pos, tail * sizeof(std::int32_t));
      std::memmove(s.levels + pos + 1, s.levels + pos, tail * sizeof(std::uint32_t));
    }
    s.keys[pos] = key;
    s.levels[pos] = li;
    ++s.size;
    return li;
  }

  void remove_level(Book& b, Side side, std::uint32_t li) noexcept {
    SideBook& s = b.sides[static_cast<int>(side)];
    std::uint32_t pos = s.size - 1;
    if (s.levels[pos] != li) pos = find_pos(s, detail::side_key(side, levels_[li].price));
    assert(pos < s.size && s.levels[pos] == li);
    const std::uint32_t tail = s.size - pos - 1;
    if (tail != 0) {
      std::memmove(s.keys + pos, s.keys + pos + 1, tail * sizeof(std::int32_t));
      std::memmove(s.levels + pos, s.levels + pos + 1, tail * sizeof(std::uint32_t));
    }
    --s.size;
    levels_[li].head = free_level_;
    free_level_ = li;
    --live_levels_;
  }

  [[nodiscard]] bool level_empty(const Level& lv) const noexcept { return lv.displayed_orders + lv.hidden_orders == 0; }

  [[nodiscard]] Qty initial_visible(const Order& o) const noexcept {
    if (o.hidden) return 0;
    return o.max_floor != 0 ? std::min(o.max_floor, o.leaves) : o.leaves;
  }

  // Appends a resting order (leaves, visible set) to the back of its queue at level li.
  void append_resting(std::uint32_t li, std::uint32_t oi) noexcept {
    Order& o = orders_[oi];
    Level& lv = levels_[li];
    o.level = li;
    o.state = detail::SlotState::kResting;
    o.next = kNil;
    std::uint32_t& head = o.hidden ? lv.hidden_head : lv.head;
    std::uint32_t& tail = o.hidden ? lv.hidden_tail : lv.tail;
    o.prev = tail;
    if (tail != kNil) orders_[tail].next = oi;
    else head = oi;
    tail = oi;
    if (o.hidden) {
      ++lv.hidden_orders;
    } else {
      ++lv.displayed_orders;
      lv.displayed_shares += o.visible;
    }
    lv.total_shares += o.leaves;
  }

  // Takes a resting order out of its queue and level (removing the level when empty).
  void unlink_resting(Book& b, std::uint32_t oi) noexcept {
    const Order& o = orders_[oi];
    const std::uint32_t li = o.level;
    Level& lv = levels_[li];
    unlink_from_queue(lv, oi);
    if (level_empty(lv)) remove_level(b, o.side, li);
  }

  // Takes `n` (< or == leaves) shares off a resting order, reserve first; returns the displayed
  // shares removed. Does not remove the order when it reaches zero (the caller does).
  Qty take_shares(Book& /*b*/, Order& o, Qty n) noexcept {
    Level& lv = levels_[o.level];
    const Qty reserve = o.leaves - o.visible;
    const Qty shown = n > reserve ? n - reserve : 0;
    o.leaves -= n;
    o.visible -= shown;
    lv.total_shares -= n;
    lv.displayed_shares -= shown;
    return shown;
  }

  // Cancels n shares of a resting order (all of them removes it) and reports it.
  void reduce_resting(Book& b, std::uint32_t oi, Qty n, CancelReason why) noexcept {
    Order& o = orders_[oi];
    if (n == o.leaves) {
      const Qty shown = o.visible;
      unlink_resting(b, oi);
      o.leaves = 0;
      o.visible = 0;
      emit_cancel(o, n, shown, why, true);
      free_order(oi);
      return;
    }
    const Qty shown = take_shares(b, o, n);
    emit_cancel(o, n, shown, why, true);
  }

  void emit_cancel(const Order& o, Qty n, Qty shown, CancelReason why, bool on_book) noexcept {
    ++stats_.cancels;
    listener_.on_canceled(Canceled{o.ref, o.symbol, o.side, why, on_book, o.price, n, o.leaves, shown, o.owner,
                                   o.user_ref});
  }

  // ---- matching --------------------------------------------------------------------------------
  [[nodiscard]] static bool crosses(const Order& in, Price resting_price) noexcept {
    if (in.type == OrderType::kMarket) return true;
    return in.side == Side::kBuy ? resting_price <= in.price : resting_price >= in.price;
  }
  // Would a limit order at `price` on `side` meet a resting order?
  [[nodiscard]] bool would_cross(const Book& b, Side side, Price price) const noexcept {
    const SideBook& opp = b.sides[static_cast<int>(opposite(side))];
    if (opp.size == 0) return false;
    const Price best = levels_[opp.levels[opp.size - 1]].price;
    return side == Side::kBuy ? best <= price : best >= price;
  }
  [[nodiscard]] bool self_match(const Order& in, const Order& r) const noexcept {
    return in.smp_group != 0 && in.smp_group == r.smp_group;
  }

  // The incoming order at slot oi (state kIncoming, leaves set): checks, matches, then rests or
  // cancels the rest. Frees the slot unless the order rests.
  void process_incoming(Book& b, std::uint32_t oi, Qty min_quantity) noexcept {
    Order& in = orders_[oi];
    if (in.tif == TimeInForce::kGtx) {
      if (would_cross(b, in.side, in.price)) {
        finish_incoming(oi, CancelReason::kPostOnly);
        return;
      }
    } else if (min_quantity != 0) [[unlikely]] {
      if (dry_run(b, in) < min_quantity) {
        finish_incoming(oi, in.tif == TimeInForce::kFok ? CancelReason::kFillOrKill : CancelReason::kMinQtyNotMet);
        return;
      }
    }
    const bool smp_stop = match(b, oi);
    if (in.leaves == 0) {
      free_order(oi);
      return;
    }
    if (smp_stop) {
      finish_incoming(oi, CancelReason::kSelfMatch);
      return;
    }
    if (in.type == OrderType::kMarket) {
      finish_incoming(oi, CancelReason::kMarketRemainder);
      return;
    }
    if (in.tif == TimeInForce::kIoc) {
      finish_incoming(oi, CancelReason::kImmediateOrCancel);
      return;
    }
    if (in.tif == TimeInForce::kFok) {  // the dry run said it fills: unreachable, kept safe
      finish_incoming(oi, CancelReason::kFillOrKill);
      return;
    }
    const std::uint32_t li = find_or_add_level(b, in.side, in.price);
    if (li == kNil) [[unlikely]] {
      finish_incoming(oi, CancelReason::kBookFull);
      return;
    }
    in.visible = initial_visible(in);
    append_resting(li, oi);
    listener_.on_book_added(BookAdded{in.ref, in.symbol, in.side, in.hidden, in.price, in.visible, in.leaves, in.owner,
                                      in.user_ref});
  }

  // Cancels the rest of an incoming order and frees its slot.
  void finish_incoming(std::uint32_t oi, CancelReason why) noexcept {
    Order& in = orders_[oi];
    const Qty n = in.leaves;
    in.leaves = 0;
    emit_cancel(in, n, 0, why, false);
    free_order(oi);
  }

  // Matches the incoming order against the opposite side; returns true when self-match
  // prevention ended it (its rest is to be cancelled).
  bool match(Book& b, std::uint32_t ii) noexcept {
    Order& in = orders_[ii];
    const Side rs = opposite(in.side);
    SideBook& opp = b.sides[static_cast<int>(rs)];
    while (in.leaves != 0 && opp.size != 0) {
      const std::uint32_t li = opp.levels[opp.size - 1];
      Level& lv = levels_[li];
      if (!crosses(in, lv.price)) break;
      const bool stop = match_level(b, in, lv);
      if (level_empty(lv)) remove_level(b, rs, li);
      if (stop) return true;
    }
    return false;
  }

  // Applies self-match prevention between the incoming order and resting order ri; returns true
  // when the incoming order must stop.
  HFT_COLD bool prevent_self_match(Book& b, Order& in, std::uint32_t ri) noexcept {
    ++stats_.self_match_preventions;
    Order& r = orders_[ri];
    switch (config_.smp_policy) {
      case SmpPolicy::kCancelResting:
        reduce_resting_in_match(b, ri, r.leaves);
        return false;
      case SmpPolicy::kCancelIncoming:
        return true;
      case SmpPolicy::kCancelBoth:
        reduce_resting_in_match(b, ri, r.leaves);
        return true;
      case SmpPolicy::kDecrement: {
        const Qty d = std::min(in.leaves, r.leaves);
        reduce_resting_in_match(b, ri, d);
        in.leaves -= d;
        emit_cancel(in, d, 0, CancelReason::kSelfMatch, false);
        return false;
      }
    }
    return true;
  }

  // Like reduce_resting, but inside match_level: the level is left in place even when empty
  // (match() removes it), so the caller's reference stays valid.
  void reduce_resting_in_match(Book& /*b*/, std::uint32_t ri, Qty n) noexcept {
    Order& r = orders_[ri];
    Level& lv = levels_[r.level];
    if (n == r.leaves) {
      const Qty shown = r.visible;
      unlink_from_queue(lv, ri);
      r.leaves = 0;
      r.visible = 0;
      emit_cancel(r, n, shown, CancelReason::kSelfMatch, true);
      free_order(ri);
      return;
    }
    const Qty reserve = r.leaves - r.visible;
    const Qty shown = n > reserve ? n - reserve : 0;
    r.leaves -= n;
    r.visible -= shown;
    lv.total_shares -= n;
    lv.displayed_shares -= shown;
    emit_cancel(r, n, shown, CancelReason::kSelfMatch, true);
  }

  // Queue unlink without removing an empty level.
  void unlink_from_queue(Level& lv, std::uint32_t oi) noexcept {
    Order& o = orders_[oi];
    std::uint32_t& head = o.hidden ? lv.hidden_head : lv.head;
    std::uint32_t& tail = o.hidden ? lv.hidden_tail : lv.tail;
    if (o.prev != kNil) orders_[o.prev].next = o.next;
    else head = o.next;
    if (o.next != kNil) orders_[o.next].prev = o.prev;
    else tail = o.prev;
    if (o.hidden) {
      --lv.hidden_orders;
    } else {
      --lv.displayed_orders;
      lv.displayed_shares -= o.visible;
    }
    lv.total_shares -= o.leaves;
  }

  void emit_execution(Book& b, Order& in, Order& r, Qty q, bool displayed) noexcept {
    b.last_trade = r.price;
    ++stats_.executions;
    stats_.executed_shares += q;
    listener_.on_execution(Execution{next_match_++, r.symbol, r.price, q, r.ref, r.owner, r.user_ref, r.side, displayed,
                                     r.leaves, in.ref, in.owner, in.user_ref, in.leaves});
  }

  // Matches within one level: displayed queue (with refreshes), then hidden queue.
  bool match_level(Book& b, Order& in, Level& lv) noexcept {
    std::uint32_t oi = lv.head;
    while (in.leaves != 0 && oi != kNil) {
      Order& r = orders_[oi];
      std::uint32_t next = r.next;
      // The next order in the queue is another line, allocated at another time: start its load
      // while this one executes.
      if (next != kNil) __builtin_prefetch(&orders_[next]);
      if (self_match(in, r)) [[unlikely]] {
        if (prevent_self_match(b, in, oi)) return true;
        oi = next;
        continue;
      }
      const Qty q = std::min(in.leaves, r.visible);
      r.visible -= q;
      r.leaves -= q;
      r.executed += q;
      in.leaves -= q;
      in.executed += q;
      lv.displayed_shares -= q;
      lv.total_shares -= q;
      emit_execution(b, in, r, q, true);
      if (r.visible == 0) {
        if (r.leaves != 0) {
          refresh(lv, oi);
          if (next == kNil) next = oi;  // it was last: it is next again
        } else {
          unlink_from_queue(lv, oi);
          free_order(oi);
        }
      }
      oi = next;
    }
    oi = lv.hidden_head;
    while (in.leaves != 0 && oi != kNil) {
      Order& r = orders_[oi];
      const std::uint32_t next = r.next;
      if (self_match(in, r)) [[unlikely]] {
        if (prevent_self_match(b, in, oi)) return true;
        oi = next;
        continue;
      }
      const Qty q = std::min(in.leaves, r.leaves);
      r.leaves -= q;
      r.executed += q;
      in.leaves -= q;
      in.executed += q;
      lv.total_shares -= q;
      emit_execution(b, in, r, q, false);
      if (r.leaves == 0) {
        unlink_from_queue(lv, oi);
        free_order(oi);
      }
      oi = next;
    }
    return false;
  }

  // A reserve order's slice is used up: new slice from the reserve, back of the queue, new ref.
  void refresh(Level& lv, std::uint32_t oi) noexcept {
    Order& r = orders_[oi];
    // unlink (visible is 0, so the level's displayed shares are unaffected) and append
    if (lv.tail != oi) {
      if (r.prev != kNil) orders_[r.prev].next = r.next;
      else lv.head = r.next;
      orders_[r.next].prev = r.prev;
      r.prev = lv.tail;
      r.next = kNil;
      orders_[lv.tail].next = oi;
      lv.tail = oi;
    }
    r.visible = std::min(r.max_floor, r.leaves);
    lv.displayed_shares += r.visible;
    const OrderRef old_ref = r.ref;
    r.ref = next_ref(oi);
    ++stats_.refreshes;
    listener_.on_refreshed(Refreshed{old_ref, r.ref, r.symbol, r.side, r.price, r.visible, r.leaves, r.owner, r.user_ref});
  }

  // How much the incoming order would execute if matched now: follows match() exactly, without
  // changing anything (used for FOK and MinQty). Reserve slices refresh to the back of their
  // level, after every order seen in the first pass, so a level's reserve adds up after that pass.
  [[nodiscard]] Qty dry_run(const Book& b, const Order& in) const noexcept {
    Qty rem = in.leaves;
    Qty fill = 0;
    const SideBook& opp = b.sides[static_cast<int>(opposite(in.side))];
    // Returns true when the walk ends at resting order r.
    auto visit = [&](const Order& r, Qty available) noexcept -> bool {
      if (self_match(in, r)) {
        switch (config_.smp_policy) {
          case SmpPolicy::kCancelResting: return false;
          case SmpPolicy::kCancelIncoming:
          case SmpPolicy::kCancelBoth: return true;
          case SmpPolicy::kDecrement: rem -= std::min(rem, r.leaves); return rem == 0;
        }
      }
      const Qty q = std::min(rem, available);
      fill += q;
      rem -= q;
      return rem == 0;
    };
    for (std::uint32_t i = opp.size; i-- > 0;) {
      const Level& lv = levels_[opp.levels[i]];
      if (!crosses(in, lv.price)) break;
      std::uint64_t reserve = 0;
      for (std::uint32_t oi = lv.head; oi != kNil; oi = orders_[oi].next) {
        const Order& r = orders_[oi];
        if (visit(r, r.visible)) return fill;
        if (!self_match(in, r)) reserve += r.leaves - r.visible;
      }
      const Qty q = static_cast<Qty>(std::min<std::uint64_t>(rem, reserve));
      fill += q;
      rem -= q;
      if (rem == 0) return fill;
      for (std::uint32_t oi = lv.hidden_head; oi != kNil; oi = orders_[oi].next) {
        const Order& r = orders_[oi];
        if (visit(r, r.leaves)) return fill;
      }
    }
    return fill;
  }

  // ---- stops -----------------------------------------------------------------------------------
  // Trigger priority: buy stops by ascending stop price, sell stops by descending, then time.
  void hold_stop(Book& b, std::uint32_t oi) noexcept {
    Order& o = orders_[oi];
    o.state = detail::SlotState::kStop;
    SideBook& s = b.sides[static_cast<int>(o.side)];
    const Price sp = aux_[oi].stop_price;
    const bool buy = o.side == Side::kBuy;
    std::uint32_t prev = kNil;
    std::uint32_t cur = s.stop_head;
    while (cur != kNil) {
      const Price cp = aux_[cur].stop_price;
      if (buy ? cp > sp : cp < sp) break;
      prev = cur;
      cur = orders_[cur].next;
    }
    o.prev = prev;
    o.next = cur;
    if (prev != kNil) orders_[prev].next = oi;
    else s.stop_head = oi;
    if (cur != kNil) orders_[cur].prev = oi;
  }

  void unlink_stop(Book& b, std::uint32_t oi) noexcept {
    Order& o = orders_[oi];
    SideBook& s = b.sides[static_cast<int>(o.side)];
    if (o.prev != kNil) orders_[o.prev].next = o.next;
    else s.stop_head = o.next;
    if (o.next != kNil) orders_[o.next].prev = o.prev;
  }

  // Enters triggered stops one at a time until none is triggered.
  void run_stops(Book& b) noexcept {
    for (;;) {
      if (b.last_trade == 0) return;
      std::uint32_t si = kNil;
      const std::uint32_t buy = b.sides[0].stop_head;
      const std::uint32_t sell = b.sides[1].stop_head;
      if (buy != kNil && aux_[buy].stop_price <= b.last_trade) si = buy;
      else if (sell != kNil && aux_[sell].stop_price >= b.last_trade) si = sell;
      if (si == kNil) return;
      unlink_stop(b, si);
      Order& o = orders_[si];
      o.type = o.type == OrderType::kStop ? OrderType::kMarket : OrderType::kLimit;
      o.state = detail::SlotState::kIncoming;
      ++stats_.stops_triggered;
      listener_.on_stop_triggered(StopTriggered{o.ref, o.symbol, o.side, o.type, aux_[si].stop_price, b.last_trade,
                                                o.leaves, o.owner, o.user_ref});
      process_incoming(b, si, aux_[si].min_quantity);
    }
  }

  L& listener_;
  EngineConfig config_;
  std::unique_ptr<Order[]> orders_;
  std::unique_ptr<detail::OrderAux[]> aux_;
  std::unique_ptr<Level[]> levels_;
  std::unique_ptr<Book[]> books_;
  std::uint32_t free_order_ = kNil;
  std::uint32_t free_level_ = kNil;
  std::uint32_t live_orders_ = 0;
  std::uint32_t live_levels_ = 0;
  unsigned slot_bits_ = 1;
  OrderRef slot_mask_ = 1;
  OrderRef ref_sequence_ = 1;
  MatchNumber next_match_ = 1;
  EngineStats stats_;
};

}  // namespace hft::match
