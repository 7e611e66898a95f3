#include "pipeline/oms/order_manager.hpp"

namespace hft::oms {

using pipeline::ReportType;

OrderManager::OrderManager(std::size_t max_orders, std::size_t locates, std::uint32_t first_user_ref)
    : orders_(max_orders),
      by_id_(max_orders),
      by_user_ref_(max_orders * 2),  // an order in replace has two UserRefNums for a while
      closed_(max_orders * 2),
      closed_by_user_ref_(max_orders * 2),
      exposure_(locates),
      cash_(locates, 0),
      cost_(locates, 0),
      realized_(locates, 0),
      active_(locates, 0),
      filled_(locates, 0),
      next_user_ref_(first_user_ref == 0 ? 1 : first_user_ref) {
  free_.reserve(max_orders);
  filled_list_.reserve(locates);  // never grows past this: no allocation on a fill
  active_list_.reserve(locates);
  for (std::size_t i = max_orders; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
}

Order* OrderManager::by_id(std::uint64_t order_id) noexcept {
  const std::uint32_t* slot = by_id_.find(order_id);
  return slot != nullptr ? &orders_[*slot] : nullptr;
}

Order* OrderManager::by_user_ref(std::uint32_t user_ref) noexcept {
  const std::uint32_t* slot = by_user_ref_.find(user_ref);
  return slot != nullptr ? &orders_[*slot] : nullptr;
}

namespace {
// A strategy's own exposure changed: swap its old share of the strategy's gross notional.
void strategy_retotal(risk::StrategyLedger& sl, risk::Exposure& e, Price price) noexcept {
  const std::int64_t notional = risk::gross_shares(e.position, e.open_buy, e.open_sell) * (price > 0 ? price : 0);
  sl.gross_notional += notional - e.gross_notional;
  e.gross_notional = notional;
}
}  // namespace

const risk::StrategyLedger* OrderManager::track_strategy(std::uint8_t strategy) {
  if (strategy >= risk::kMaxStrategyLimits) return nullptr;
  if (!ledgers_[strategy]) ledgers_[strategy] = std::make_unique<risk::StrategyLedger>(exposure_.size());
  return ledgers_[strategy].get();
}

void OrderManager::add_open(Order& o, std::int64_t shares) noexcept {
  risk::Exposure& e = exposure_[o.locate];
  const risk::Exposure before = e;
  (o.side == Side::kBuy ? e.open_buy : e.open_sell) += shares;
  retotal(e, before, o.price);
  if (o.strategy < risk::kMaxStrategyLimits && ledgers_[o.strategy]) {
    risk::StrategyLedger& sl = *ledgers_[o.strategy];
    risk::Exposure& se = sl.exposure[o.locate];
    (o.side == Side::kBuy ? se.open_buy : se.open_sell) += shares;
    strategy_retotal(sl, se, o.price);
  }
}

void OrderManager::average_cost(std::int64_t pos, std::int64_t signed_q, Price price, std::int64_t& cost,
                                std::int64_t& realized) noexcept {
  const std::int64_t sq = signed_q < 0 ? -signed_q : signed_q;
  if (pos == 0 || (pos > 0) == (signed_q > 0)) {
    cost += signed_q * price;
    return;
  }
  const std::int64_t held = pos > 0 ? pos : -pos;
  const std::int64_t closed = sq < held ? sq : held;
  // cost * closed / held without overflowing 64 bits.
  const std::int64_t portion = (cost / held) * closed + (cost % held) * closed / held;
  realized += (pos > 0 ? closed * price : -closed * price) - portion;
  cost -= portion;
  if (closed == held) cost = 0;
  if (sq > closed) cost = (signed_q > 0 ? 1 : -1) * (sq - closed) * price;
}

void OrderManager::retotal(risk::Exposure& e, const risk::Exposure& before, Price price) noexcept {
  const std::int64_t was = risk::gross_shares(before.position, before.open_buy, before.open_sell);
  const std::int64_t now = risk::gross_shares(e.position, e.open_buy, e.open_sell);
  totals_.gross_shares += now - was;
  totals_.net_long += (e.position + e.open_buy) - (before.position + before.open_buy);
  totals_.net_short += (e.position - e.open_sell) - (before.position - before.open_sell);
  const std::int64_t notional = now * (price > 0 ? price : 0);
  totals_.gross_notional += notional - before.gross_notional;
  e.gross_notional = notional;
  const std::int64_t buys = ((e.position > 0 ? e.position : 0) + e.open_buy) * (price > 0 ? price : 0);
  totals_.buying_power += buys - before.buy_notional;
  e.buy_notional = buys;
}

Order* OrderManager::open(const pipeline::OrderIntent& in) noexcept {
  if (free_.empty() || in.locate >= exposure_.size() || by_id_.find(in.order_id) != nullptr) return nullptr;
  const std::uint32_t slot = free_.back();
  const std::uint32_t user_ref = next_user_ref_;
  if (!by_id_.insert(in.order_id, slot)) return nullptr;
  if (!by_user_ref_.insert(user_ref, slot)) {
    by_id_.erase(in.order_id);
    return nullptr;
  }
  free_.pop_back();
  ++next_user_ref_;
  Order& o = orders_[slot];
  o = Order{};
  o.order_id = in.order_id;
  o.origin_tsc = in.origin_tsc;
  o.price = in.price;
  o.quantity = o.leaves = in.quantity;
  o.user_ref = user_ref;
  o.locate = in.locate;
  o.side = in.side;
  o.state = OrderState::kPendingNew;
  o.strategy = in.strategy;
  o.venue = in.venue;
  add_open(o, in.quantity);
  if (active_[in.locate] == 0) active_list_.push_back(in.locate);
  active_[in.locate] = 1;
  ++open_;
  ++counters_.sent_new;
  return &o;
}

void OrderManager::remember_closed(const Order& o, std::uint32_t user_ref) noexcept {
  ClosedOrder& c = closed_[closed_next_];
  if (c.user_ref != 0) closed_by_user_ref_.erase(c.user_ref);  // the oldest is forgotten
  c = ClosedOrder{o.order_id, user_ref, o.locate, o.side, o.strategy, o.venue};
  if (!closed_by_user_ref_.insert(user_ref, static_cast<std::uint32_t>(closed_next_))) c.user_ref = 0;
  closed_next_ = closed_next_ + 1 == closed_.size() ? 0 : closed_next_ + 1;
}

void OrderManager::close(Order& o, bool remember) noexcept {
  if (remember) {
    remember_closed(o, o.user_ref);
    if (o.pending_user_ref != 0) remember_closed(o, o.pending_user_ref);
  }
  add_open(o, -static_cast<std::int64_t>(o.leaves));
  o.leaves = 0;
  by_id_.erase(o.order_id);
  by_user_ref_.erase(o.user_ref);
  if (o.pending_user_ref != 0) by_user_ref_.erase(o.pending_user_ref);
  const auto slot = static_cast<std::uint32_t>(&o - orders_.data());
  o.state = OrderState::kFree;
  free_.push_back(slot);
  --open_;
}

void OrderManager::abandon(Order& o) noexcept {
  --counters_.sent_new;
  close(o, false);  // never on the wire: no execution can follow
}

std::uint32_t OrderManager::begin_replace(Order& o, Price price, Quantity quantity, std::uint64_t origin_tsc) noexcept {
  const std::uint32_t user_ref = next_user_ref_;
  const auto slot = static_cast<std::uint32_t>(&o - orders_.data());
  if (!by_user_ref_.insert(user_ref, slot)) return 0;
  ++next_user_ref_;
  o.pending_user_ref = user_ref;
  o.pending_price = price;
  o.pending_quantity = quantity;
  o.origin_tsc = origin_tsc;
  o.state = OrderState::kPendingReplace;
  ++counters_.sent_replace;
  return user_ref;
}

void OrderManager::end_replace_failed(Order& o) noexcept {
  if (o.pending_user_ref != 0) by_user_ref_.erase(o.pending_user_ref);
  o.pending_user_ref = 0;
  o.state = OrderState::kLive;
}

void OrderManager::begin_cancel(Order& o, std::uint64_t origin_tsc) noexcept {
  o.cancel_requested = true;
  o.origin_tsc = origin_tsc;
  if (o.state == OrderState::kLive) o.state = OrderState::kPendingCancel;
  ++counters_.sent_cancel;
}

ExecReport OrderManager::report(const Order& o, ReportType type) const noexcept {
  ExecReport r{};
  r.origin_tsc = o.origin_tsc;
  r.order_id = o.order_id;
  r.price = o.price;
  r.quantity = o.quantity;
  r.leaves = o.leaves;
  r.locate = o.locate;
  r.type = type;
  r.side = o.side;
  r.strategy = o.strategy;
  r.venue = o.venue;
  return r;
}

// A fill's fee at its venue (only when fees are configured: nothing to do otherwise). Realized
// P&L carries it, so the day's P&L (and the loss limits) see fees net of rebates.
void OrderManager::book_fee(Locate locate, pipeline::VenueId venue, Quantity quantity, char liquidity) noexcept {
  if (venue < pipeline::kMaxVenues) venue_shares_[venue] += quantity;
  if (venue >= pipeline::kMaxVenues || (fees_[venue].add == 0 && fees_[venue].remove == 0)) return;
  const std::int64_t fee = static_cast<std::int64_t>(quantity) * (liquidity == 'A' ? fees_[venue].add : fees_[venue].remove);
  fees_paid_[venue] += fee;
  realized_[locate] -= fee;
  cash_[locate] -= fee;
}

bool OrderManager::on_accepted(std::uint32_t user_ref, std::uint64_t venue_ref, Price price, Quantity quantity,
                               ExecReport& out) noexcept {
  Order* o = by_user_ref(user_ref);
  if (o == nullptr || o->user_ref != user_ref) {
    ++counters_.unknown_replies;
    return false;
  }
  o->venue_ref = venue_ref;
  o->price = price;
  if (quantity != o->leaves) {  // the venue may accept less (e.g. a size cap): follow it
    add_open(*o, static_cast<std::int64_t>(quantity) - static_cast<std::int64_t>(o->leaves));
    o->leaves = quantity;
    o->quantity = quantity + o->filled;
  }
  if (o->state == OrderState::kPendingNew) o->state = o->cancel_requested ? OrderState::kPendingCancel : OrderState::kLive;
  ++counters_.accepted;
  out = report(*o, ReportType::kAccepted);
  return true;
}

bool OrderManager::on_replaced(std::uint32_t old_user_ref, std::uint32_t new_user_ref, std::uint64_t venue_ref,
                               Price price, Quantity quantity, ExecReport& out) noexcept {
  Order* o = by_user_ref(new_user_ref);
  if (o == nullptr) o = by_user_ref(old_user_ref);
  if (o == nullptr) {
    ++counters_.unknown_replies;
    return false;
  }
  if (o->user_ref != new_user_ref) {
    by_user_ref_.erase(o->user_ref);
    o->user_ref = new_user_ref;
  }
  o->pending_user_ref = 0;
  o->venue_ref = venue_ref;
  o->price = price;
  add_open(*o, static_cast<std::int64_t>(quantity) - static_cast<std::int64_t>(o->leaves));
  o->leaves = quantity;
  o->quantity = quantity + o->filled;
  o->state = o->cancel_requested ? OrderState::kPendingCancel : OrderState::kLive;
  ++counters_.replaced;
  out = report(*o, ReportType::kReplaced);
  if (quantity == 0) close(*o);
  return true;
}

void OrderManager::book_fill(Locate locate, Side side, Quantity quantity, Price price, std::uint8_t strategy) noexcept {
  if (strategy < risk::kMaxStrategyLimits && ledgers_[strategy]) {
    risk::StrategyLedger& sl = *ledgers_[strategy];
    risk::Exposure& se = sl.exposure[locate];
    const std::int64_t sq = side == Side::kBuy ? static_cast<std::int64_t>(quantity) : -static_cast<std::int64_t>(quantity);
    average_cost(se.position, sq, price, sl.cost[locate], sl.realized[locate]);
    se.position += sq;
    if (sl.filled[locate] == 0) {
      sl.filled[locate] = 1;
      sl.filled_list.push_back(locate);
    }
    strategy_retotal(sl, se, price);
  }
  risk::Exposure& e = exposure_[locate];
  const risk::Exposure before = e;
  const auto sq = static_cast<std::int64_t>(quantity);
  // Average cost: a fill that adds to the position (or opens it) adds to its cost; one that
  // reduces it realizes price - average cost on the shares it closes; the rest opens the other way.
  const std::int64_t pos = e.position;
  const std::int64_t signed_q = side == Side::kBuy ? sq : -sq;
  std::int64_t& cost = cost_[locate];
  if (pos == 0 || (pos > 0) == (signed_q > 0)) {
    cost += signed_q * price;
  } else {
    const std::int64_t held = pos > 0 ? pos : -pos;
    const std::int64_t closed = sq < held ? sq : held;
    // cost * closed / held without overflowing 64 bits.
    const std::int64_t portion = (cost / held) * closed + (cost % held) * closed / held;
    realized_[locate] += (pos > 0 ? closed * price : -closed * price) - portion;
    cost -= portion;
    if (closed == held) cost = 0;
    if (sq > closed) cost = (signed_q > 0 ? 1 : -1) * (sq - closed) * price;
  }
  if (active_[locate] == 0) active_list_.push_back(locate);
  active_[locate] = 1;
  if (filled_[locate] == 0) {
    filled_[locate] = 1;
    filled_list_.push_back(locate);
  }
  if (side == Side::kBuy) {
    e.position += sq;
    cash_[locate] -= sq * price;
  } else {
    e.position -= sq;
    cash_[locate] += sq * price;
  }
  retotal(e, before, price);
  ++counters_.fills;
  counters_.filled_shares += quantity;
}

bool OrderManager::on_executed(std::uint32_t user_ref, Quantity quantity, Price price, ExecReport& out,
                               char liquidity) noexcept {
  Order* o = by_user_ref(user_ref);
  if (o == nullptr) {
    // Closed here already (e.g. a cancel crossed this execution): still a fact, book it whole.
    const std::uint32_t* slot = closed_by_user_ref_.find(user_ref);
    if (slot == nullptr) {
      ++counters_.unknown_replies;
      return false;
    }
    const ClosedOrder& c = closed_[*slot];
    book_fill(c.locate, c.side, quantity, price, c.strategy);
    book_fee(c.locate, c.venue, quantity, liquidity);
    ++counters_.overfills;
    ++counters_.fills_after_close;
    out = ExecReport{};
    out.order_id = c.order_id;
    out.price = price;
    out.quantity = quantity;
    out.leaves = 0;
    out.locate = c.locate;
    out.type = ReportType::kFill;
    out.side = c.side;
    out.strategy = c.strategy;
    out.venue = c.venue;
    return true;
  }
  // The whole execution is booked; open exposure falls by what was open, at most.
  const Quantity open = quantity < o->leaves ? quantity : o->leaves;
  if (quantity > o->leaves) ++counters_.overfills;
  book_fill(o->locate, o->side, quantity, price, o->strategy);
  book_fee(o->locate, o->venue, quantity, liquidity);
  add_open(*o, -static_cast<std::int64_t>(open));
  o->leaves -= open;
  o->filled += quantity;
  out = report(*o, ReportType::kFill);
  out.price = price;
  out.quantity = quantity;
  if (o->leaves == 0) close(*o);
  return true;
}

bool OrderManager::on_canceled(std::uint32_t user_ref, Quantity decrement, std::uint16_t reason, ExecReport& out) noexcept {
  Order* o = by_user_ref(user_ref);
  if (o == nullptr) {
    ++counters_.unknown_replies;
    return false;
  }
  const Quantity d = decrement < o->leaves ? decrement : o->leaves;
  add_open(*o, -static_cast<std::int64_t>(d));
  o->leaves -= d;
  ++counters_.canceled;
  out = report(*o, ReportType::kCanceled);
  out.venue_code = reason;
  if (o->leaves == 0) close(*o);
  else if (o->state == OrderState::kPendingCancel) o->state = OrderState::kLive;
  return true;
}

bool OrderManager::on_rejected(std::uint32_t user_ref, std::uint16_t reason, ExecReport& out) noexcept {
  Order* o = by_user_ref(user_ref);
  if (o == nullptr) {
    ++counters_.unknown_replies;
    return false;
  }
  ++counters_.rejected;
  if (o->pending_user_ref == user_ref) {  // the replace was refused; the original stands
    end_replace_failed(*o);
    out = report(*o, ReportType::kRejected);
    out.reason = pipeline::RejectReason::kVenue;
    out.venue_code = reason;
    return true;
  }
  out = report(*o, ReportType::kRejected);
  out.reason = pipeline::RejectReason::kVenue;
  out.venue_code = reason;
  close(*o);
  out.leaves = 0;
  return true;
}

}  // namespace hft::oms
