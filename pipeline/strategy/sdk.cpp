#include "pipeline/strategy/sdk.hpp"

#include "core/clock.hpp"

namespace hft::strategy {

using pipeline::IntentType;
using pipeline::OrderIntent;
using pipeline::ReportType;

const WorkingOrder* Context::order(std::uint64_t id) const noexcept {
  const std::uint32_t* slot = by_id_.find(id);
  return slot != nullptr ? &orders_[*slot] : nullptr;
}

WorkingOrder* Context::find(std::uint64_t id) noexcept {
  const std::uint32_t* slot = by_id_.find(id);
  return slot != nullptr ? &orders_[*slot] : nullptr;
}

void Context::release(WorkingOrder& o) noexcept {
  by_id_.erase(o.id);
  o.state = OrderState::kDone;
  free_.push_back(static_cast<std::uint32_t>(&o - orders_.data()));
  --working_;
}

bool Context::push(const OrderIntent& intent) noexcept {
  if (!out_->try_push(intent)) {
    ++refusals_.ring_full;
    return false;
  }
  ++intents_sent_;
  last_decision_tsc_ = intent.decision_tsc;
  return true;
}

std::uint64_t Context::submit_new(Locate locate, Side side, Price price, Quantity qty, TimeInForce tif,
                                  bool post_only, Quantity min_qty, std::uint64_t preassigned, VenueId venue) noexcept {
  if (halted_) {
    ++refusals_.halted;
    return 0;
  }
  if (paused_) {
    ++refusals_.paused;
    return 0;
  }
  if (venue == 0 ? entry_down_ : ((venue_down_ >> venue) & 1u) != 0) [[unlikely]] {
    if (venue == 0 && order_venues_ == 1) ++refusals_.not_connected;
    else ++refusals_.venue_down;
    return 0;
  }
  if (locate >= books_->size() || (*books_)[locate].stale) {
    ++refusals_.stale_book;
    return 0;
  }
  if (free_.empty()) {
    ++refusals_.too_many_orders;
    return 0;
  }
  const std::uint64_t id = preassigned != 0 ? preassigned : (static_cast<std::uint64_t>(index_) << 56) | next_seq_++;
  OrderIntent in{};
  in.origin_tsc = origin_tsc_;
  in.decision_tsc = legs_ != 0 ? legs_tsc_ : core::rdtsc();
  in.order_id = id;
  in.price = price;
  in.quantity = qty;
  in.locate = locate;
  in.venue = venue;
  in.legs = legs_;
  in.type = IntentType::kNew;
  in.side = side;
  in.tif = tif;
  in.strategy = index_;
  in.post_only = post_only;
  in.min_quantity = min_qty;
  if (!push(in)) return 0;
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  orders_[slot] = WorkingOrder{id, locate, side, price, qty, qty, OrderState::kPendingNew, 0, 0, in.decision_tsc, false, venue};
  ++new_orders_;
  by_id_.insert(id, slot);
  ++working_;
  return id;
}

std::uint64_t Context::submit_routed(Locate locate, Side side, Price price, Quantity qty, TimeInForce tif,
                                     bool post_only, Route route) noexcept {
  if (route.kind == Route::Kind::kVenue) return submit_new(locate, side, price, qty, tif, post_only, 0, 0, route.venue);
  if (router_ == nullptr || tops_ == nullptr || order_venues_ <= 1)  // one venue: nothing to choose
    return submit_new(locate, side, price, qty, tif, post_only);
  last_route_ = router_->route(side, price, qty, tops_->of(locate));
  if (last_route_.kind == oms::RouteDecision::Kind::kNone) {
    ++refusals_.venue_down;
    return 0;
  }
  std::uint64_t first = 0;
  for (std::uint8_t i = 0; i < last_route_.count; ++i) {
    const oms::RouteLeg& leg = last_route_.legs[i];
    const std::uint64_t id = submit_new(locate, side, price, leg.quantity, tif, post_only, 0, 0, leg.venue);
    if (first == 0) first = id;
  }
  return first;
}

bool Context::cancel(std::uint64_t order_id) noexcept {
  WorkingOrder* o = find(order_id);
  if (o == nullptr || o->state == OrderState::kPendingCancel) {
    ++refusals_.not_working;
    return false;
  }
  OrderIntent in{};
  in.origin_tsc = origin_tsc_;
  in.decision_tsc = core::rdtsc();
  in.order_id = order_id;
  in.locate = o->locate;
  in.type = IntentType::kCancel;
  in.side = o->side;
  in.strategy = index_;
  if (!push(in)) return false;
  o->state = OrderState::kPendingCancel;
  return true;
}

bool Context::replace(std::uint64_t order_id, Price price, Quantity qty) noexcept {
  WorkingOrder* o = find(order_id);
  if (o == nullptr || o->state != OrderState::kWorking) {
    ++refusals_.not_working;
    return false;
  }
  if (halted_) {
    ++refusals_.halted;
    return false;
  }
  if (paused_) {
    ++refusals_.paused;
    return false;
  }
  if ((*books_)[o->locate].stale) {
    ++refusals_.stale_book;
    return false;
  }
  OrderIntent in{};
  in.origin_tsc = origin_tsc_;
  in.decision_tsc = core::rdtsc();
  in.order_id = order_id;
  in.price = price;
  in.quantity = qty;
  in.locate = o->locate;
  in.type = IntentType::kReplace;
  in.side = o->side;
  in.strategy = index_;
  if (!push(in)) return false;
  o->state = OrderState::kPendingReplace;
  o->pending_price = price;
  o->pending_quantity = qty;
  return true;
}

void Context::cancel_all() noexcept {
  if (working_ == 0) return;
  for (WorkingOrder& o : orders_)
    if (o.state == OrderState::kWorking || o.state == OrderState::kPendingReplace) cancel(o.id);
}

WorkingOrder* Context::apply(const pipeline::ExecReport& r) noexcept {
  // A fill is booked from the report alone (the order manager booked exactly this), even for an
  // order this context no longer tracks.
  if (r.type == ReportType::kFill && r.locate < positions_.size()) positions_[r.locate].book(r.side, r.price, r.quantity);
  WorkingOrder* o = find(r.order_id);
  if (r.type == ReportType::kFill) {
    last_fill_first_ = o != nullptr && !o->any_fill;
    last_fill_sent_tsc_ = o != nullptr ? o->sent_tsc : 0;
    if (o != nullptr) o->any_fill = true;
  }
  if (o == nullptr) return nullptr;
  switch (r.type) {
    case ReportType::kAccepted:
      if (o->state == OrderState::kPendingNew) o->state = OrderState::kWorking;
      o->price = r.price;
      o->quantity = r.quantity;
      o->leaves = r.leaves;
      break;
    case ReportType::kReplaced:
      o->state = OrderState::kWorking;
      o->price = r.price;
      o->quantity = r.quantity;
      o->leaves = r.leaves;
      break;
    case ReportType::kFill:
      o->leaves = r.leaves;
      break;
    case ReportType::kRejected:
      // A rejected replace or cancel leaves the order as it was; a rejected new order is gone.
      if (o->state == OrderState::kPendingReplace || o->state == OrderState::kPendingCancel) {
        o->state = OrderState::kWorking;
        return o;
      }
      o->leaves = 0;
      break;
    case ReportType::kCanceled:
      o->leaves = r.leaves;
      break;
  }
  // Done at zero leaves, as in the order manager (which closes a replace to zero too).
  if (o->leaves == 0 && r.type != ReportType::kAccepted) release(*o);
  return o;
}

Price Context::marketable_price(Locate locate, Side side, std::int32_t collar_bps) const noexcept {
  if (locate >= books_->size()) return 0;
  const BookView& b = (*books_)[locate];
  const Price touch = side == Side::kBuy ? b.best_ask() : b.best_bid();
  if (touch <= 0 || (side == Side::kBuy ? b.asks[0].shares : b.bids[0].shares) == 0) return 0;
  const Price collar = static_cast<Price>(static_cast<std::int64_t>(touch) * collar_bps / 10'000);
  // Rounded toward the touch onto the penny grid: never beyond the collar.
  if (side == Side::kBuy) {
    const Price p = touch + collar;
    return std::max<Price>(p - p % 100, touch);
  }
  const Price p = touch - collar;
  return std::min<Price>(p % 100 == 0 ? p : p + (100 - p % 100), touch);
}

std::uint64_t Context::market(Locate locate, Side side, Quantity qty, std::int32_t collar_bps) noexcept {
  const Price px = marketable_price(locate, side, collar_bps);
  if (px <= 0) {
    ++refusals_.no_market;
    return 0;
  }
  return submit_new(locate, side, px, qty, TimeInForce::kIoc, false);
}

std::uint64_t Context::stop(Locate locate, Side side, Quantity qty, Price stop_price, Price limit_price,
                            StopTrigger trigger, std::int32_t collar_bps) noexcept {
  if (locate >= books_->size() || qty == 0 || stop_price <= 0) return 0;
  for (HeldStop& s : stops_) {
    if (s.id != 0) continue;
    s = HeldStop{(static_cast<std::uint64_t>(index_) << 56) | next_seq_++, locate, side, trigger, qty,
                 stop_price, limit_price, collar_bps};
    ++stops_held_;
    return s.id;
  }
  ++refusals_.too_many_orders;
  return 0;
}

bool Context::cancel_stop(std::uint64_t id) noexcept {
  for (HeldStop& s : stops_) {
    if (s.id != id || id == 0) continue;
    s = HeldStop{};
    --stops_held_;
    return true;
  }
  return false;
}

const HeldStop* Context::held_stop(std::uint64_t id) const noexcept {
  for (const HeldStop& s : stops_)
    if (s.id == id && id != 0) return &s;
  return nullptr;
}

void Context::trigger_stops_slow(const BookView& book, bool on_trade) noexcept {
  for (HeldStop& s : stops_) {
    if (s.id == 0 || s.locate != book.locate) continue;
    bool hit = false;
    if (s.trigger == StopTrigger::kLastTrade) {
      if (!on_trade || book.last_trade_price <= 0) continue;
      hit = s.side == Side::kBuy ? book.last_trade_price >= s.stop_price : book.last_trade_price <= s.stop_price;
    } else {
      if (on_trade) continue;
      hit = s.side == Side::kBuy ? book.asks[0].shares > 0 && book.best_ask() >= s.stop_price
                                 : book.bids[0].shares > 0 && book.best_bid() <= s.stop_price;
    }
    if (!hit) continue;
    std::uint64_t sent = 0;
    if (s.limit_price > 0) {
      sent = submit_new(s.locate, s.side, s.limit_price, s.quantity, TimeInForce::kDay, false, 0, s.id);
    } else {
      const Price px = marketable_price(s.locate, s.side, s.collar_bps);
      if (px > 0) sent = submit_new(s.locate, s.side, px, s.quantity, TimeInForce::kIoc, false, 0, s.id);
      else ++refusals_.no_market;
    }
    if (sent == 0) continue;  // stays held: tried again on the next event
    s = HeldStop{};
    --stops_held_;
    ++stops_triggered_;
  }
}

}  // namespace hft::strategy
