#pragma once
// A deliberately simple matcher with the same rules as hft::match::Engine (engine.hpp states
// them), written for obviousness, not speed: std::map of price levels, std::list queues, an
// unordered_map from ref to price level and a linear search within the level, stops in one list
// scanned at each trigger check, and FOK/MinQty decided by matching a copy of the book. Tests
// compare every event and every book of the engine against it; the benchmarks use it as the
// baseline (it is the textbook design). It has no pools, so it never reports kOrderPoolFull or
// kBookFull.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "venue/matching/engine.hpp"

namespace hft::match::testing {

template <class L>
class ReferenceMatcher {
 public:
  ReferenceMatcher(const EngineConfig& config, L& listener) : config_(config), listener_(&listener) {
    books_.resize(config.max_symbols);
    next_match_ = config.first_match_number;
  }

  void add_symbol(SymbolIndex symbol, const SymbolConfig& sc = {}) {
    Book& b = books_.at(symbol);
    b.active = true;
    b.cfg = sc;
  }

  SubmitResult submit(const NewOrder& r) {
    const RejectReason why = validate(r);
    if (why != RejectReason::kNone) {
      ++stats_.rejected;
      listener_->on_rejected(Rejected{RequestKind::kNew, why, r.symbol, 0, r.owner, r.user_ref});
      return {0, why};
    }
    Book& b = books_[r.symbol];
    ROrder o;
    o.ref = next_ref_++;
    o.symbol = r.symbol;
    o.side = r.side;
    o.type = r.type;
    o.tif = r.tif;
    o.hidden = r.hidden;
    o.price = (r.type == OrderType::kLimit || r.type == OrderType::kStopLimit) ? r.price : 0;
    o.stop_price = (r.type == OrderType::kStop || r.type == OrderType::kStopLimit) ? r.stop_price : 0;
    o.leaves = r.quantity;
    o.max_floor = (!r.hidden && r.display_quantity != 0 && r.display_quantity < r.quantity) ? r.display_quantity : 0;
    o.min_qty = r.tif == TimeInForce::kFok ? r.quantity : r.min_quantity;
    o.owner = r.owner;
    o.user_ref = r.user_ref;
    o.smp = r.smp_group;
    o.seq = next_seq_++;
    ++stats_.accepted;
    listener_->on_accepted(Accepted{o.ref, o.symbol, o.side, o.type, o.tif, o.hidden, r.quantity, o.price, o.stop_price,
                                    o.max_floor, r.min_quantity, o.owner, o.user_ref});
    if (o.type == OrderType::kStop || o.type == OrderType::kStopLimit) {
      b.stops.push_back(o);
      index_[o.ref] = Loc{o.symbol, o.side, 0, true};
    } else {
      incoming(b, o, o.min_qty);
    }
    run_stops(b);
    return {o.ref, RejectReason::kNone};
  }

  RejectReason cancel(OwnerId owner, OrderRef ref, Qty reduce_to = 0) {
    Found f = find_order(ref);
    RejectReason why = RejectReason::kNone;
    if (!f.order) why = RejectReason::kUnknownOrder;
    else if (f.order->owner != owner) why = RejectReason::kNotOwner;
    else if (reduce_to >= f.order->leaves) why = RejectReason::kInvalidQuantity;
    if (why != RejectReason::kNone) {
      ++stats_.rejected;
      listener_->on_rejected(Rejected{RequestKind::kCancel, why, f.order ? f.order->symbol : SymbolIndex{0}, ref, owner, 0});
      return why;
    }
    ROrder& o = *f.order;
    const Qty n = o.leaves - reduce_to;
    if (f.stop) {
      o.leaves = reduce_to;
      emit_cancel(o, n, 0, CancelReason::kUser, false);
      if (reduce_to == 0) f.stop_list->erase(f.it);
      return RejectReason::kNone;
    }
    const Qty shown = take(o, n);
    emit_cancel(o, n, shown, CancelReason::kUser, true);
    if (o.leaves == 0) erase_resting(f);
    return RejectReason::kNone;
  }

  SubmitResult replace(const ReplaceOrder& r) {
    Found f = find_order(r.ref);
    RejectReason why = RejectReason::kNone;
    if (!f.order) why = RejectReason::kUnknownOrder;
    else if (f.order->owner != r.owner) why = RejectReason::kNotOwner;
    else if (f.stop) why = RejectReason::kReplaceNotAllowed;
    else if (r.quantity == 0 || r.quantity > config_.max_quantity) why = RejectReason::kInvalidQuantity;
    else if (!price_ok(books_[f.order->symbol], r.price)) why = RejectReason::kInvalidPrice;
    else if (f.order->tif == TimeInForce::kGtx && crosses_book(books_[f.order->symbol], f.order->side, r.price))
      why = RejectReason::kPostOnlyWouldCross;
    if (why != RejectReason::kNone) {
      ++stats_.rejected;
      listener_->on_rejected(Rejected{RequestKind::kReplace, why, f.order ? f.order->symbol : SymbolIndex{0}, r.ref, r.owner,
                                      r.new_user_ref});
      return {0, why};
    }
    ++stats_.replaces;
    Book& b = books_[f.order->symbol];
    ROrder o = *f.order;
    const ROrder old = o;
    if (r.price == o.price && r.quantity <= o.leaves) {
      take(*f.order, o.leaves - r.quantity);
      f.order->user_ref = r.new_user_ref;
      const ROrder& n = *f.order;
      listener_->on_replaced(Replaced{old.ref, n.ref, n.symbol, n.side, ReplaceOutcome::kPriorityKept, n.hidden, old.price,
                                      n.price, old.leaves, n.leaves, old.visible, n.visible, n.owner, old.user_ref,
                                      n.user_ref});
      return {n.ref, RejectReason::kNone};
    }
    erase_resting(f);
    o.ref = next_ref_++;
    o.price = r.price;
    o.leaves = r.quantity;
    o.user_ref = r.new_user_ref;
    const bool crossing = crosses_book(b, o.side, o.price);
    o.visible = crossing ? 0 : initial_visible(o);
    listener_->on_replaced(Replaced{old.ref, o.ref, o.symbol, o.side,
                                    crossing ? ReplaceOutcome::kReentered : ReplaceOutcome::kRequeued, o.hidden,
                                    old.price, o.price, old.leaves, o.leaves, old.visible, o.visible, o.owner,
                                    old.user_ref, o.user_ref});
    if (!crossing) {
      rest(b, o, false);
    } else {
      incoming(b, o, 0);
      run_stops(b);
    }
    return {o.ref, RejectReason::kNone};
  }

  // Same order and fields as Engine::for_each_resting / for_each_stop.
  void for_each_resting(SymbolIndex symbol, const std::function<void(const OrderView&)>& fn) const {
    const Book& b = books_.at(symbol);
    for (auto it = b.bids.rbegin(); it != b.bids.rend(); ++it) visit_level(it->second, fn);
    for (auto it = b.asks.begin(); it != b.asks.end(); ++it) visit_level(it->second, fn);
  }
  void for_each_stop(SymbolIndex symbol, const std::function<void(const OrderView&)>& fn) const {
    const Book& b = books_.at(symbol);
    for (Side s : {Side::kBuy, Side::kSell}) {
      std::vector<const ROrder*> v;
      for (const ROrder& o : b.stops)
        if (o.side == s) v.push_back(&o);
      std::stable_sort(v.begin(), v.end(), [s](const ROrder* a, const ROrder* c) {
        return s == Side::kBuy ? a->stop_price < c->stop_price : a->stop_price > c->stop_price;
      });
      for (const ROrder* o : v) fn(view(*o, OrderStatus::kStopHeld));
    }
  }
  [[nodiscard]] BookDump dump(SymbolIndex symbol) const {
    const Book& b = books_.at(symbol);
    BookDump d;
    d.symbol = symbol;
    d.name = b.cfg.name;
    d.last_trade = b.last;
    auto add = [&](const Level& lv, std::vector<DepthLevel>& out, Price p) {
      DepthLevel dl{p, 0, 0};
      for (const ROrder& o : lv.shown) {
        dl.shares += o.visible;
        ++dl.orders;
        d.hidden_shares += o.leaves - o.visible;
      }
      for (const ROrder& o : lv.hidden) {
        ++d.hidden_orders;
        d.hidden_shares += o.leaves;
      }
      if (dl.orders != 0) out.push_back(dl);
    };
    for (auto it = b.bids.rbegin(); it != b.bids.rend(); ++it) add(it->second, d.bids, it->first);
    for (auto it = b.asks.begin(); it != b.asks.end(); ++it) add(it->second, d.asks, it->first);
    d.held_stops = b.stops.size();
    return d;
  }
  [[nodiscard]] const EngineStats& stats() const noexcept { return stats_; }

 private:
  struct ROrder {
    OrderRef ref = 0;
    SymbolIndex symbol = 0;
    Side side = Side::kBuy;
    OrderType type = OrderType::kLimit;
    TimeInForce tif = TimeInForce::kDay;
    bool hidden = false;
    Price price = 0;
    Price stop_price = 0;
    Qty leaves = 0;
    Qty visible = 0;
    Qty max_floor = 0;
    Qty min_qty = 0;
    Qty executed = 0;
    OwnerId owner = 0;
    UserRef user_ref = 0;
    SmpGroup smp = 0;
    std::uint64_t seq = 0;
  };
  struct Level {
    std::list<ROrder> shown;
    std::list<ROrder> hidden;
  };
  struct Book {
    std::map<Price, Level> bids, asks;
    std::list<ROrder> stops;
    Price last = 0;
    bool active = false;
    SymbolConfig cfg;
  };
  struct Found {
    ROrder* order = nullptr;
    bool stop = false;
    std::list<ROrder>* stop_list = nullptr;
    std::map<Price, Level>* side = nullptr;
    std::list<ROrder>* queue = nullptr;
    typename std::list<ROrder>::iterator it;
  };

  static OrderView view(const ROrder& o, OrderStatus st) {
    return OrderView{o.ref,    o.symbol, o.side,       o.type,    o.tif,       st,        o.hidden, o.price,
                     o.stop_price, o.leaves, o.visible, o.max_floor, o.executed, o.owner, o.user_ref, o.smp};
  }
  static void visit_level(const Level& lv, const std::function<void(const OrderView&)>& fn) {
    for (const ROrder& o : lv.shown) fn(view(o, OrderStatus::kResting));
    for (const ROrder& o : lv.hidden) fn(view(o, OrderStatus::kResting));
  }

  static bool price_ok(const Book& b, Price p) {
    return p >= b.cfg.min_price && p <= b.cfg.max_price && p % b.cfg.tick == 0;
  }
  RejectReason validate(const NewOrder& r) const {
    if (r.symbol >= books_.size() || !books_[r.symbol].active) return RejectReason::kUnknownSymbol;
    if (r.side != Side::kBuy && r.side != Side::kSell) return RejectReason::kInvalidSide;
    if (static_cast<int>(r.type) > 3) return RejectReason::kInvalidOrderType;
    if (static_cast<int>(r.tif) > 3) return RejectReason::kInvalidTimeInForce;
    if (r.quantity == 0 || r.quantity > config_.max_quantity) return RejectReason::kInvalidQuantity;
    const Book& b = books_[r.symbol];
    const bool limit = r.type == OrderType::kLimit || r.type == OrderType::kStopLimit;
    const bool stop = r.type == OrderType::kStop || r.type == OrderType::kStopLimit;
    if (limit && !price_ok(b, r.price)) return RejectReason::kInvalidPrice;
    if (stop && !price_ok(b, r.stop_price)) return RejectReason::kInvalidStopPrice;
    if (r.tif == TimeInForce::kGtx && r.type != OrderType::kLimit) return RejectReason::kInvalidTimeInForce;
    if (r.min_quantity > r.quantity || (r.min_quantity != 0 && r.tif == TimeInForce::kGtx)) return RejectReason::kInvalidMinQty;
    if (r.hidden && r.display_quantity != 0) return RejectReason::kInvalidDisplay;
    return RejectReason::kNone;
  }

  static Qty initial_visible(const ROrder& o) {
    if (o.hidden) return 0;
    return o.max_floor != 0 ? std::min(o.max_floor, o.leaves) : o.leaves;
  }
  // Takes n shares off a resting order, reserve first; returns the displayed shares taken.
  static Qty take(ROrder& o, Qty n) {
    const Qty reserve = o.leaves - o.visible;
    const Qty shown = n > reserve ? n - reserve : 0;
    o.leaves -= n;
    o.visible -= shown;
    return shown;
  }

  // The index says where an order was put (symbol, side, price); the order is then searched for
  // there, so entries of orders that have since left need no upkeep.
  Found find_order(OrderRef ref) {
    Found f;
    const auto at = index_.find(ref);
    if (at == index_.end()) return f;
    const Loc loc = at->second;
    Book& b = books_[loc.symbol];
    if (loc.stop) {
      for (auto it = b.stops.begin(); it != b.stops.end(); ++it)
        if (it->ref == ref) {
          f.order = &*it;
          f.stop = true;
          f.stop_list = &b.stops;
          f.it = it;
          return f;
        }
    } else {
      auto* side = loc.side == Side::kBuy ? &b.bids : &b.asks;
      const auto lv = side->find(loc.price);
      if (lv != side->end())
        for (auto* q : {&lv->second.shown, &lv->second.hidden})
          for (auto it = q->begin(); it != q->end(); ++it)
            if (it->ref == ref) {
              f.order = &*it;
              f.side = side;
              f.queue = q;
              f.it = it;
              return f;
            }
    }
    index_.erase(at);
    return f;
  }
  void erase_resting(Found& f) {
    const Price p = f.it->price;
    f.queue->erase(f.it);
    Level& lv = f.side->at(p);
    if (lv.shown.empty() && lv.hidden.empty()) f.side->erase(p);
  }

  static bool crosses(const ROrder& in, Price p) {
    if (in.type == OrderType::kMarket) return true;
    return in.side == Side::kBuy ? p <= in.price : p >= in.price;
  }
  static bool crosses_book(const Book& b, Side side, Price price) {
    if (side == Side::kBuy) return !b.asks.empty() && b.asks.begin()->first <= price;
    return !b.bids.empty() && b.bids.rbegin()->first >= price;
  }

  void emit_cancel(const ROrder& o, Qty n, Qty shown, CancelReason why, bool on_book) {
    if (!emit_) return;
    ++stats_.cancels;
    listener_->on_canceled(Canceled{o.ref, o.symbol, o.side, why, on_book, o.price, n, o.leaves, shown, o.owner, o.user_ref});
  }

  void rest(Book& b, ROrder& o, bool announce) {
    o.visible = initial_visible(o);
    auto& side = o.side == Side::kBuy ? b.bids : b.asks;
    Level& lv = side[o.price];
    (o.hidden ? lv.hidden : lv.shown).push_back(o);
    if (emit_) index_[o.ref] = Loc{o.symbol, o.side, o.price, false};
    if (announce && emit_)
      listener_->on_book_added(BookAdded{o.ref, o.symbol, o.side, o.hidden, o.price, o.visible, o.leaves, o.owner, o.user_ref});
  }

  void incoming(Book& b, ROrder& in, Qty min_qty) {
    if (in.tif == TimeInForce::kGtx) {
      if (crosses_book(b, in.side, in.price)) return finish(in, CancelReason::kPostOnly);
    } else if (min_qty != 0) {
      // Match a copy of the book, with events off, and see how much fills.
      Book copy = b;
      ROrder probe = in;
      const bool saved_emit = emit_;
      const OrderRef saved_ref = next_ref_;
      const MatchNumber saved_match = next_match_;
      const EngineStats saved_stats = stats_;
      emit_ = false;
      match(copy, probe);
      emit_ = saved_emit;
      next_ref_ = saved_ref;
      next_match_ = saved_match;
      stats_ = saved_stats;
      if (probe.executed - in.executed < min_qty)
        return finish(in, in.tif == TimeInForce::kFok ? CancelReason::kFillOrKill : CancelReason::kMinQtyNotMet);
    }
    const bool smp_stop = match(b, in);
    if (in.leaves == 0) return;
    if (smp_stop) return finish(in, CancelReason::kSelfMatch);
    if (in.type == OrderType::kMarket) return finish(in, CancelReason::kMarketRemainder);
    if (in.tif == TimeInForce::kIoc) return finish(in, CancelReason::kImmediateOrCancel);
    if (in.tif == TimeInForce::kFok) return finish(in, CancelReason::kFillOrKill);
    rest(b, in, true);
  }
  void finish(ROrder& in, CancelReason why) {
    const Qty n = in.leaves;
    in.leaves = 0;
    emit_cancel(in, n, 0, why, false);
  }

  bool match(Book& b, ROrder& in) {
    auto& opp = in.side == Side::kBuy ? b.asks : b.bids;
    while (in.leaves != 0 && !opp.empty()) {
      auto lit = in.side == Side::kBuy ? opp.begin() : std::prev(opp.end());
      if (!crosses(in, lit->first)) break;
      const bool stop = match_level(b, in, lit->second);
      if (lit->second.shown.empty() && lit->second.hidden.empty()) opp.erase(lit);
      if (stop) return true;
    }
    return false;
  }

  // Self-match prevention against *it; returns true when the incoming order stops. Advances or
  // erases `it`.
  bool smp(ROrder& in, std::list<ROrder>& q, typename std::list<ROrder>::iterator& it) {
    if (emit_) ++stats_.self_match_preventions;
    ROrder& r = *it;
    switch (config_.smp_policy) {
      case SmpPolicy::kCancelResting:
      case SmpPolicy::kCancelBoth: {
        const Qty n = r.leaves;
        const Qty shown = r.visible;
        r.leaves = 0;
        r.visible = 0;
        emit_cancel(r, n, shown, CancelReason::kSelfMatch, true);
        it = q.erase(it);
        return config_.smp_policy == SmpPolicy::kCancelBoth;
      }
      case SmpPolicy::kCancelIncoming:
        return true;
      case SmpPolicy::kDecrement: {
        const Qty d = std::min(in.leaves, r.leaves);
        const Qty shown = take(r, d);
        emit_cancel(r, d, shown, CancelReason::kSelfMatch, true);
        if (r.leaves == 0) it = q.erase(it);
        else ++it;
        in.leaves -= d;
        emit_cancel(in, d, 0, CancelReason::kSelfMatch, false);
        return false;
      }
    }
    return true;
  }

  void execute(Book& b, ROrder& in, ROrder& r, Qty q, bool displayed) {
    r.leaves -= q;
    r.executed += q;
    in.leaves -= q;
    in.executed += q;
    b.last = r.price;
    const MatchNumber m = next_match_++;
    if (!emit_) return;
    ++stats_.executions;
    stats_.executed_shares += q;
    listener_->on_execution(Execution{m, r.symbol, r.price, q, r.ref, r.owner, r.user_ref, r.side, displayed, r.leaves,
                                      in.ref, in.owner, in.user_ref, in.leaves});
  }

  bool match_level(Book& b, ROrder& in, Level& lv) {
    auto it = lv.shown.begin();
    while (in.leaves != 0 && it != lv.shown.end()) {
      if (in.smp != 0 && it->smp == in.smp) {
        if (smp(in, lv.shown, it)) return true;
        continue;
      }
      const Qty q = std::min(in.leaves, it->visible);
      it->visible -= q;
      execute(b, in, *it, q, true);
      if (it->visible != 0) continue;  // the incoming order is done
      if (it->leaves == 0) {
        it = lv.shown.erase(it);
        continue;
      }
      // Refresh: a new slice from the reserve, a new ref, the back of the queue.
      ROrder o = *it;
      it = lv.shown.erase(it);
      const OrderRef old_ref = o.ref;
      o.ref = next_ref_++;
      o.visible = std::min(o.max_floor, o.leaves);
      lv.shown.push_back(o);
      if (it == lv.shown.end()) it = std::prev(lv.shown.end());
      if (emit_) {
        index_[o.ref] = Loc{o.symbol, o.side, o.price, false};
        ++stats_.refreshes;
        listener_->on_refreshed(Refreshed{old_ref, o.ref, o.symbol, o.side, o.price, o.visible, o.leaves, o.owner, o.user_ref});
      }
    }
    it = lv.hidden.begin();
    while (in.leaves != 0 && it != lv.hidden.end()) {
      if (in.smp != 0 && it->smp == in.smp) {
        if (smp(in, lv.hidden, it)) return true;
        continue;
      }
      const Qty q = std::min(in.leaves, it->leaves);
      execute(b, in, *it, q, false);
      if (it->leaves == 0) it = lv.hidden.erase(it);
    }
    return false;
  }

  void run_stops(Book& b) {
    for (;;) {
      if (b.last == 0) return;
      auto pick = b.stops.end();
      for (auto it = b.stops.begin(); it != b.stops.end(); ++it) {
        if (it->side != Side::kBuy || it->stop_price > b.last) continue;
        if (pick == b.stops.end() || it->stop_price < pick->stop_price ||
            (it->stop_price == pick->stop_price && it->seq < pick->seq))
          pick = it;
      }
      if (pick == b.stops.end()) {
        for (auto it = b.stops.begin(); it != b.stops.end(); ++it) {
          if (it->side != Side::kSell || it->stop_price < b.last) continue;
          if (pick == b.stops.end() || it->stop_price > pick->stop_price ||
              (it->stop_price == pick->stop_price && it->seq < pick->seq))
            pick = it;
        }
      }
      if (pick == b.stops.end()) return;
      ROrder o = *pick;
      b.stops.erase(pick);
      o.type = o.type == OrderType::kStop ? OrderType::kMarket : OrderType::kLimit;
      ++stats_.stops_triggered;
      listener_->on_stop_triggered(
          StopTriggered{o.ref, o.symbol, o.side, o.type, o.stop_price, b.last, o.leaves, o.owner, o.user_ref});
      incoming(b, o, o.min_qty);
    }
  }

  struct Loc {
    SymbolIndex symbol;
    Side side;
    Price price;
    bool stop;
  };

  EngineConfig config_;
  L* listener_;
  std::vector<Book> books_;
  std::unordered_map<OrderRef, Loc> index_;
  OrderRef next_ref_ = 1;
  MatchNumber next_match_ = 1;
  std::uint64_t next_seq_ = 1;
  bool emit_ = true;
  EngineStats stats_;
};

}  // namespace hft::match::testing
