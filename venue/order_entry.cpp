#include "venue/order_entry.hpp"

#include <algorithm>
#include <cctype>

#include "core/log.hpp"
#include "venue/venue.hpp"

namespace hft::venue {
namespace {

using R = ouch::RejectReason;

constexpr match::Price kTick = 100;  // the penny grid (Reg NMS Rule 612, prices of $1.00 and above)
// OUCH 5.0 §1.2: $200,000.0000 and anything above $199,999.99 up to the maximum integer value
// flag a market order (0x7FFFFFFF being the documented one).
constexpr ouch::Price kMarketPriceFloor = 2'000'000'000;
// Malformed OUCH messages logged one line each before the venue only counts them.
constexpr std::uint64_t kMalformedLogLimit = 16;

[[nodiscard]] constexpr std::uint16_t code(R r) noexcept { return static_cast<std::uint16_t>(r); }
[[nodiscard]] constexpr bool is_sell(ouch::Side s) noexcept {
  return s == ouch::Side::kSell || s == ouch::Side::kSellShort || s == ouch::Side::kSellShortExempt;
}
[[nodiscard]] bool blank(const ouch::Firm& f) noexcept { return f.view().empty(); }

}  // namespace

OrderEntry::OrderEntry(const VenueConfig& config, soup::ServerContext& context, VenueEngine& engine, VenueClock& clock,
                       std::uint16_t probe_locate)
    : context_(context),
      engine_(engine),
      clock_(clock),
      probe_locate_(probe_locate),
      orders_(config.max_client_orders),
      index_(config.max_client_orders),
      fees_(config.accounts.size()),
      venue_name_(config.venue),
      fee_add_micros_(fee_micros(config.fee_add)),
      fee_remove_micros_(fee_micros(config.fee_remove)) {
  users_.reserve(config.accounts.size());
  for (std::size_t i = 0; i < config.accounts.size(); ++i) {
    const Account& a = config.accounts[i];
    UserState u{ouch::UserRefNumValidator(config.user_ref_num_policy, R::kOther), {}, false,
                config.cancels_on_disconnect(i)};
    if (!a.firm.empty()) {
      u.firm = ouch::Firm::from(a.firm);
      u.firm_fixed = true;
    } else {
      // Appendix B: "This field should contain all caps".
      std::string f = a.username.substr(0, 4);
      for (char& c : f) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      u.firm = ouch::Firm::from(f);
    }
    users_.push_back(u);
  }
  for (std::uint32_t i = 0; i < orders_.size(); ++i) orders_[i].next_free = i + 1 < orders_.size() ? i + 1 : kNil;
  free_ = orders_.empty() ? kNil : 0;
  gtt_.reserve(orders_.size());
}

void OrderEntry::set_symbols(const std::vector<itch::Symbol>& by_locate) {
  symbols_ = by_locate;
  locates_.clear();
  for (std::size_t i = 0; i < by_locate.size(); ++i)
    locates_.emplace_back(by_locate[i].key(), static_cast<std::uint16_t>(i + 1));
  std::sort(locates_.begin(), locates_.end());
}

std::uint16_t OrderEntry::locate_of(const itch::Symbol& s) const noexcept {
  const std::uint64_t k = s.key();
  const auto it = std::lower_bound(locates_.begin(), locates_.end(), std::pair<std::uint64_t, std::uint16_t>{k, 0});
  return it != locates_.end() && it->first == k ? it->second : 0;
}

// ---- table ------------------------------------------------------------------------------------

std::uint32_t OrderEntry::allocate(std::uint32_t user, ouch::UserRefNum ref) noexcept {
  if (free_ == kNil) return kNil;
  const std::uint32_t i = free_;
  if (!index_.insert(key(user, ref), i)) return kNil;
  free_ = orders_[i].next_free;
  ClientOrder& o = orders_[i];
  o = ClientOrder{};
  o.user = user;
  o.user_ref = ref;
  o.live = true;
  ++live_;
  return i;
}

void OrderEntry::release(ClientOrder& o) noexcept {
  if (!o.live) return;
  if (o.expire_ns != 0) untrack_expiry(o);
  index_.erase(key(o.user, o.user_ref));
  o.live = false;
  const auto i = static_cast<std::uint32_t>(&o - orders_.data());
  o.next_free = free_;
  free_ = i;
  --live_;
}

void OrderEntry::rekey(ClientOrder& o, ouch::UserRefNum new_ref) noexcept {
  if (new_ref == o.user_ref) return;
  index_.erase(key(o.user, o.user_ref));
  o.user_ref = new_ref;
  index_.insert(key(o.user, new_ref), static_cast<std::uint32_t>(&o - orders_.data()));
}

void OrderEntry::track_expiry(ClientOrder& o, std::uint64_t deadline) noexcept {
  o.expire_ns = deadline;
  next_expiry_ = next_expiry_ == 0 ? deadline : std::min(next_expiry_, deadline);
  o.gtt_pos = static_cast<std::uint32_t>(gtt_.size());
  gtt_.push_back(static_cast<std::uint32_t>(&o - orders_.data()));  // capacity reserved: one per order
}

void OrderEntry::untrack_expiry(ClientOrder& o) noexcept {
  const std::uint32_t last = gtt_.back();
  gtt_[o.gtt_pos] = last;
  orders_[last].gtt_pos = o.gtt_pos;
  gtt_.pop_back();
  o.expire_ns = 0;
}

// ---- inbound ----------------------------------------------------------------------------------

void OrderEntry::handle(std::uint32_t user, std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept {
  ++counters_.messages;
  user_ = user;
  now_ns_ = now_ns;
  clock_.set(now_ns);
  const ouch::DecodeError e = ouch::decode_inbound(msg.data(), msg.size(), *this);
  if (e == ouch::DecodeError::kOk) return;
  ++counters_.malformed;
  if (counters_.malformed <= kMalformedLogLimit) [[unlikely]] {
    core::log::warn("order entry: user \"{}\": malformed OUCH message ({}, {} bytes, type 0x{:02x}) dropped{}",
                    context_.username(user).trimmed(), ouch::to_string(e), msg.size(), msg.empty() ? 0 : msg[0],
                    counters_.malformed == kMalformedLogLimit ? "; further ones are only counted" : "");
  }
}

std::uint16_t OrderEntry::check_enter(const ouch::EnterOrder& m, ouch::Firm& firm, std::uint16_t& locate,
                                      match::NewOrder& req) const noexcept {
  const UserState& u = users_[user_];
  const ouch::Options& opt = m.options;
  switch (m.side) {
    case ouch::Side::kBuy: req.side = match::Side::kBuy; break;
    case ouch::Side::kSell:
    case ouch::Side::kSellShort:
    case ouch::Side::kSellShortExempt: req.side = match::Side::kSell; break;
    default: return code(R::kInvalidSide);
  }
  if (locate == 0) return code(R::kInvalidSymbol);
  req.symbol = locate;
  req.quantity = m.quantity;  // 0 and >= 1,000,000 are the engine's 0x0013
  if (m.price == ouch::kMarketCrossPrice || m.price >= kMarketPriceFloor) {
    req.type = match::OrderType::kMarket;
  } else {
    if (m.price > static_cast<ouch::Price>(match::kMaxPrice)) return code(R::kInvalidPrice);
    req.type = match::OrderType::kLimit;
    req.price = static_cast<match::Price>(m.price);  // 0 and off-grid prices: the engine's 0x001D
  }
  switch (m.time_in_force) {
    case ouch::TimeInForce::kDay:
    case ouch::TimeInForce::kGtx:
    case ouch::TimeInForce::kAfterHours:
    case ouch::TimeInForce::kGtt: req.tif = match::TimeInForce::kDay; break;
    case ouch::TimeInForce::kIoc: req.tif = match::TimeInForce::kIoc; break;
    default: return code(R::kOther);
  }
  // Appendix B: ExpireTime "must be less than 86400"; GTT "needs ExpireTime to be specified".
  if (opt.expire_time() && *opt.expire_time() >= 86400) return code(R::kOther);
  if (m.time_in_force == ouch::TimeInForce::kGtt && opt.expire_time().value_or(0) == 0) return code(R::kOther);
  switch (m.display) {
    case ouch::Display::kVisible:
    case ouch::Display::kConformant:
    case ouch::Display::kAttributable: req.hidden = false; break;
    case ouch::Display::kHidden: req.hidden = true; break;
    default: return code(R::kInvalidDisplay);
  }
  switch (m.capacity) {
    case ouch::Capacity::kAgency:
    case ouch::Capacity::kPrincipal:
    case ouch::Capacity::kRiskless:
    case ouch::Capacity::kOther: break;
    default: return code(R::kOther);
  }
  if (m.intermarket_sweep == ouch::IntermarketSweep::kEligible) return code(R::kIsoNotAllowed);
  if (m.intermarket_sweep != ouch::IntermarketSweep::kNotEligible) return code(R::kOther);
  if (m.cross_type != ouch::CrossType::kContinuous) return code(R::kInvalidCrossOrder);

  firm = u.firm;
  if (const auto f = opt.firm(); f && !blank(*f)) {
    if (u.firm_fixed && !(*f == u.firm)) return code(R::kFirmNotAuthorized);
    firm = *f;
  }
  if (const auto q = opt.min_qty(); q && *q != 0) {
    if (*q % 100 != 0) return code(R::kInvalidMinQuantity);  // Appendix B: "MinQty must be a round lot"
    req.min_quantity = *q;
  }
  if (const auto f = opt.max_floor(); f && *f != 0) {
    if (req.hidden) return code(R::kInvalidMaxFloor);
    req.display_quantity = *f;
  }
  if (const auto p = opt.post_only()) {
    if (*p != 'P' && *p != 'N') return code(R::kOther);
    if (*p == 'P') {
      if (req.tif == match::TimeInForce::kIoc) return code(R::kOther);
      req.tif = match::TimeInForce::kGtx;
    }
  }
  if (const auto t = opt.price_type(); t && *t != 'L') return code(R::kPeggingNotAllowed);
  if (const auto o = opt.peg_offset(); o && *o != 0) return code(R::kPeggingNotAllowed);
  if (const auto d = opt.discretion_price(); d && *d != 0) return code(R::kOther);
  if (const auto d = opt.discretion_price_type(); d && *d != 'L') return code(R::kOther);
  if (const auto d = opt.discretion_peg_offset(); d && *d != 0) return code(R::kOther);
  if (const auto r = opt.random_reserves(); r && *r != 0) return code(R::kOther);
  if (const auto r = opt.route(); r && !r->view().empty()) return code(R::kRoutingNotAllowed);
  if (const auto h = opt.handle_inst(); h && *h != ' ') return code(R::kInvalidCrossOrder);
  // Restated-only fields (Appendix B) have no meaning on an order.
  if (opt.display_quantity() || opt.display_price() || opt.secondary_ord_ref_num()) return code(R::kOther);

  req.owner = client_owner(user_);
  req.user_ref = m.user_ref_num;
  // Self-match prevention within one account: its own orders never trade with each other.
  req.smp_group = client_owner(user_);
  return 0;
}

void OrderEntry::on_message(const ouch::EnterOrder& m) noexcept {
  ++counters_.enter;
  const std::uint16_t locate = locate_of(m.symbol);
  // The latency probe times the arrival of any Enter Order on its symbol (first, before any
  // check), then cancels what is left of the probe once the order has been handled.
  const bool probe = probe_hook_ != nullptr && locate != 0 && locate == probe_locate_;
  if (probe) probe_hook_(probe_context_, true, now_ns_);
  enter(m, locate);
  if (probe) probe_hook_(probe_context_, false, now_ns_);
}

void OrderEntry::enter(const ouch::EnterOrder& m, std::uint16_t locate) noexcept {
  UserState& u = users_[user_];
  const ouch::UserRefNumCheck check = u.validator.admit(m.user_ref_num);
  if (!check.accepted()) {
    ++counters_.user_ref_violations;
    if (check.verdict == ouch::UserRefNumVerdict::kReject) {
      send_rejected(user_, m.user_ref_num, check.reason, m.cl_ord_id);
    } else {
      ++counters_.ignored;
    }
    return;
  }
  if (!open_) {  // before the start of day or after its end: no book to trade on
    send_rejected(user_, m.user_ref_num, R::kDestinationClosed, m.cl_ord_id);
    return;
  }
  match::NewOrder req;
  ouch::Firm firm;
  if (const std::uint16_t why = check_enter(m, firm, locate, req); why != 0) {
    send_rejected(user_, m.user_ref_num, static_cast<R>(why), m.cl_ord_id);
    return;
  }
  const std::uint32_t slot = allocate(user_, m.user_ref_num);
  if (slot == kNil) [[unlikely]] {
    ++counters_.table_full;
    send_rejected(user_, m.user_ref_num, R::kProcessingError, m.cl_ord_id);
    return;
  }
  ClientOrder& o = orders_[slot];
  o.locate = locate;
  o.side = m.side;
  o.tif = m.time_in_force;
  o.display = m.display;
  o.capacity = m.capacity;
  o.iso = m.intermarket_sweep;
  o.cross = m.cross_type;
  o.post_only = req.tif == match::TimeInForce::kGtx;
  o.min_qty = req.min_quantity;
  o.max_floor = req.display_quantity;
  o.cl_ord_id = m.cl_ord_id;
  o.firm = firm;
  entering_ = &m;
  engine_.submit(req);
  entering_ = nullptr;
  // Still resting after its entry (not filled, not cancelled, not rejected): arm its expiry.
  if (m.time_in_force == ouch::TimeInForce::kGtt) {
    if (ClientOrder* live = find(user_, m.user_ref_num); live != nullptr)
      track_expiry(*live, now_ns_ + std::uint64_t{*m.options.expire_time()} * 1'000'000'000ull);
  }
}

bool OrderEntry::replace_changes_options(const ClientOrder& o, const ouch::Options& opt) noexcept {
  if (const auto q = opt.min_qty(); q && *q != o.min_qty) return true;
  if (const auto f = opt.max_floor(); f && *f != o.max_floor) return true;
  if (const auto p = opt.post_only(); p && (*p == 'P') != o.post_only) return true;
  if (const auto t = opt.price_type(); t && *t != 'L') return true;
  if (const auto v = opt.peg_offset(); v && *v != 0) return true;
  if (const auto v = opt.discretion_price(); v && *v != 0) return true;
  if (const auto v = opt.discretion_price_type(); v && *v != 'L') return true;
  if (const auto v = opt.discretion_peg_offset(); v && *v != 0) return true;
  if (const auto v = opt.random_reserves(); v && *v != 0) return true;
  if (opt.expire_time()) return true;  // a GTT order keeps the expiry it was entered with
  if (const auto h = opt.handle_inst(); h && *h != ' ') return true;
  return false;
}

void OrderEntry::on_message(const ouch::ReplaceOrder& m) noexcept {
  ++counters_.replace;
  if (ignored_while_closed()) return;
  ClientOrder* o = find(user_, m.orig_user_ref_num);
  if (o == nullptr) {  // §2.2 case 1: the order is no longer live
    ++counters_.ignored;
    return;
  }
  UserState& u = users_[user_];
  const ouch::UserRefNumCheck check = u.validator.check(m.user_ref_num);
  if (!check.accepted()) {  // case 1: the replacement number was used already
    u.validator.count_violation();
    ++counters_.user_ref_violations;
    if (check.verdict == ouch::UserRefNumVerdict::kReject) {
      send_rejected(user_, m.user_ref_num, check.reason, m.cl_ord_id);
    } else {
      ++counters_.ignored;
    }
    return;
  }
  const std::optional<match::OrderView> view = engine_.find(o->ref);
  if (!view) {
    ++counters_.ignored;
    return;
  }
  // Case 3: what the engine cannot change in place is refused; the order stays as it was.
  if (m.time_in_force != o->tif || m.display != o->display || m.intermarket_sweep != o->iso ||
      replace_changes_options(*o, m.options)) {
    u.validator.consume(m.user_ref_num);
    send_rejected(user_, m.user_ref_num, R::kReplaceNotAllowed, m.cl_ord_id);
    return;
  }
  // Case 2: invalid details take the existing order out of the book; the number is not consumed.
  const bool price_ok = m.price >= 1 && m.price <= static_cast<ouch::Price>(match::kMaxPrice) && m.price % kTick == 0;
  if (m.quantity == 0 || m.quantity > ouch::kMaxQuantity || !price_ok) {
    cancel_order(*o, 0, 0);
    return;
  }
  // Quantity is the chain's total liability, executions included (§2.2).
  if (m.quantity <= view->executed) {
    cancel_order(*o, 0, 0);
    return;
  }
  const match::ReplaceOrder r{client_owner(user_), o->ref, m.user_ref_num, m.quantity - view->executed,
                              static_cast<match::Price>(m.price)};
  replacing_ = &m;
  engine_.replace(r);
  replacing_ = nullptr;
}

bool OrderEntry::ignored_while_closed() noexcept {
  if (open_) return false;
  ++counters_.ignored;  // the books are closed: nothing to change (§2.3: superfluous, ignored)
  return true;
}

std::optional<match::OrderView> OrderEntry::live_order(ouch::UserRefNum ref, ClientOrder*& o) noexcept {
  o = find(user_, ref);
  return o != nullptr ? engine_.find(o->ref) : std::nullopt;
}

void OrderEntry::on_message(const ouch::CancelOrder& m) noexcept {
  ++counters_.cancel;
  if (ignored_while_closed()) return;
  ClientOrder* o = nullptr;
  const std::optional<match::OrderView> view = live_order(m.user_ref_num, o);
  if (!view) {  // §2.3: superfluous cancels are silently ignored
    ++counters_.ignored;
    return;
  }
  const match::Qty open_after = open_after_intended(m.quantity, *view);
  if (open_after >= view->leaves) {
    ++counters_.ignored;
    return;
  }
  cancel_order(*o, open_after, 0);
}

void OrderEntry::on_message(const ouch::ModifyOrder& m) noexcept {
  ++counters_.modify;
  if (ignored_while_closed()) return;
  ClientOrder* o = nullptr;
  const std::optional<match::OrderView> view = live_order(m.user_ref_num, o);
  // §2.4: only S, T and E may be exchanged, and the size may only go down.
  const bool side_ok = view && (m.side == o->side || (is_sell(m.side) && is_sell(o->side)));
  const match::Qty open_after = view ? open_after_intended(m.quantity, *view) : 0;
  if (!side_ok || open_after > view->leaves) {
    ++counters_.ignored;
    return;
  }
  const std::uint32_t user = user_;
  const ouch::UserRefNum ref = o->user_ref;
  o->side = m.side;
  if (open_after < view->leaves) {
    modifying_ = true;
    engine_.cancel(client_owner(user), o->ref, open_after);  // may release `o`
    modifying_ = false;
  }
  ouch::OrderModified out;
  out.timestamp = clock_.since_midnight();
  out.user_ref_num = ref;
  out.side = m.side;
  out.quantity = open_after;
  send(user, out);
  ++counters_.modified;
}

void OrderEntry::on_message(const ouch::AccountQuery&) noexcept {
  ++counters_.account_query;
  ouch::AccountQueryResponse out;
  out.timestamp = clock_.since_midnight();
  out.next_user_ref_num = users_[user_].validator.next_available();
  send(user_, out);
}

void OrderEntry::cancel_order(ClientOrder& o, match::Qty open_after, char reason) noexcept {
  cancel_reason_ = reason;
  engine_.cancel(client_owner(o.user), o.ref, open_after);  // may release `o`
  cancel_reason_ = 0;
}

void OrderEntry::send_rejected(std::uint32_t user, ouch::UserRefNum ref, ouch::RejectReason reason,
                               const ouch::ClOrdId& cl_ord_id) noexcept {
  ouch::OrderRejected out;
  out.timestamp = clock_.since_midnight();
  out.user_ref_num = ref;
  out.reason = reason;
  out.cl_ord_id = cl_ord_id;
  send(user, out);
  ++counters_.rejected;
  const auto r = static_cast<std::uint16_t>(reason);
  if (r <= ouch::kMaxRejectReason) ++counters_.reject_reasons[r];
}

void OrderEntry::system_event(ouch::SystemEventCode event) noexcept {
  ouch::SystemEvent out;
  out.timestamp = clock_.since_midnight();
  out.event_code = event;
  for (std::uint32_t u = 0; u < users_.size(); ++u) send(u, out);
  open_ = event == ouch::SystemEventCode::kStartOfDay;
}

std::uint32_t OrderEntry::session_lost(std::uint32_t user, soup::CloseReason reason, std::uint64_t now_ns) noexcept {
  // The end of the day closes every session with 'Z' once it has the whole stream: the day's
  // orders are no longer working and nothing may follow the End of Day system event.
  if (user >= users_.size() || !users_[user].cancel_on_disconnect || !open_ ||
      reason == soup::CloseReason::kEndOfSession)
    return 0;
  ++counters_.sessions_lost;
  user_ = user;
  now_ns_ = now_ns;
  clock_.set(now_ns);
  // A walk of the table (cold: once per lost session). Cancelling releases the slot, which
  // changes no other slot, so the walk may go on.
  std::uint32_t n = 0;
  for (ClientOrder& o : orders_) {
    if (!o.live || o.user != user) continue;
    cancel_order(o, 0, static_cast<char>(ouch::CancelReason::kSystem));
    ++n;
  }
  counters_.canceled_on_disconnect += n;
  if (n != 0)
    core::log::info("order entry: user \"{}\": session lost ({}): {} working order{} cancelled (cancel on disconnect)",
                    context_.username(user).trimmed(), soup::to_string(reason), n, n == 1 ? "" : "s");
  return n;
}

std::uint64_t OrderEntry::expire(std::uint64_t now_ns) noexcept {
  std::uint64_t next = 0;
  std::size_t i = 0;
  while (i < gtt_.size()) {
    ClientOrder& o = orders_[gtt_[i]];
    if (o.expire_ns > now_ns) {
      next = next == 0 ? o.expire_ns : std::min(next, o.expire_ns);
      ++i;
      continue;
    }
    const std::uint32_t slot = gtt_[i];
    user_ = o.user;
    now_ns_ = now_ns;
    clock_.set(now_ns);
    ++counters_.expired;
    cancel_order(o, 0, 'T');  // OUCH Appendix C 'T': "The Time In Force for this order has expired"
    // The cancel released the order and took it off the list; if it could not, take it off here.
    if (i < gtt_.size() && gtt_[i] == slot && orders_[slot].expire_ns != 0) {
      untrack_expiry(orders_[slot]);
    }
  }
  next_expiry_ = next;
  return next;
}

// ---- engine events ------------------------------------------------------------------------------

void OrderEntry::on_accepted(const match::Accepted& e) noexcept {
  const std::uint32_t user = client_user(e.owner);
  ClientOrder* o = find(user, e.user_ref);
  if (o == nullptr || entering_ == nullptr) return;  // only orders entered through OUCH
  o->ref = e.ref;
  const ouch::EnterOrder& m = *entering_;
  ouch::OrderAccepted out;
  out.timestamp = clock_.since_midnight();
  out.user_ref_num = e.user_ref;
  out.side = o->side;
  out.quantity = e.quantity;
  out.symbol = m.symbol;
  out.price = e.type == match::OrderType::kMarket ? m.price : static_cast<ouch::Price>(e.price);
  out.time_in_force = o->tif;
  out.display = o->display;
  out.order_reference_number = e.ref;
  out.capacity = o->capacity;
  out.intermarket_sweep = o->iso;
  out.cross_type = o->cross;
  out.order_state = ouch::OrderState::kLive;
  out.cl_ord_id = o->cl_ord_id;
  out.options = m.options;
  if (o->display == ouch::Display::kAttributable) out.options.set_firm(o->firm);
  send(user, out);
  ++counters_.accepted;
}

void OrderEntry::on_rejected(const match::Rejected& e) noexcept {
  const std::uint32_t user = client_user(e.owner);
  switch (e.kind) {
    case match::RequestKind::kNew: {
      if (ClientOrder* o = find(user, e.user_ref)) release(*o);
      send_rejected(user, e.user_ref, static_cast<R>(match::ouch_reject_reason(e.reason)),
                    entering_ != nullptr ? entering_->cl_ord_id : ouch::ClOrdId{});
      break;
    }
    case match::RequestKind::kReplace:
      // §2.2 case 3: the order is intact and the Rejected consumes the replacement number.
      users_[user].validator.consume(e.user_ref);
      send_rejected(user, e.user_ref, static_cast<R>(match::ouch_reject_reason(e.reason)),
                    replacing_ != nullptr ? replacing_->cl_ord_id : ouch::ClOrdId{});
      break;
    case match::RequestKind::kCancel:  // the venue checks first; a refusal here is superfluous (§2.3)
      ++counters_.ignored;
      break;
  }
}

void OrderEntry::on_execution(const match::Execution& e, bool resting) noexcept {
  const match::OwnerId owner = resting ? e.resting_owner : e.incoming_owner;
  const std::uint32_t user = client_user(owner);
  const match::UserRef ref = resting ? e.resting_user_ref : e.incoming_user_ref;
  ouch::OrderExecuted out;
  out.timestamp = clock_.since_midnight();
  out.user_ref_num = ref;
  out.quantity = e.quantity;
  out.price = static_cast<ouch::Price>(e.price);
  out.liquidity_flag = resting ? match::resting_liquidity_flag(e) : match::incoming_liquidity_flag(e);
  out.match_number = e.match;
  send(user, out);
  ++counters_.executions;
  // The resting side added liquidity, the incoming side removed it.
  const std::int64_t fee = (resting ? fee_add_micros_ : fee_remove_micros_) * static_cast<std::int64_t>(e.quantity);
  if (user < fees_.size()) {
    UserFees& f = fees_[user];
    ++f.executions;
    (resting ? f.shares_added : f.shares_removed) += e.quantity;
    f.fees_micros += fee;
  }
  if (executions_ != nullptr) {
    const ClientOrder* o = find(user, ref);
    ExecutionRecord r;
    r.user = context_.username(user).trimmed();
    r.user_ref_num = ref;
    if (o != nullptr) r.order_token = o->cl_ord_id.view();
    r.symbol = e.symbol >= 1 && e.symbol <= symbols_.size() ? symbols_[e.symbol - 1u].view() : std::string_view{};
    const bool sell = o != nullptr ? is_sell(o->side) : (e.resting_side == match::Side::kSell) == resting;
    r.side = sell ? 'S' : 'B';
    r.price = out.price;
    r.quantity = out.quantity;
    r.match_number = out.match_number;
    r.timestamp = out.timestamp;
    r.venue = venue_name_;
    r.liquidity = out.liquidity_flag;
    r.fee_micros = fee;
    executions_->record(r);
  }
  if ((resting ? e.resting_leaves : e.incoming_leaves) == 0) {
    if (ClientOrder* o = find(user, ref)) release(*o);
  }
}

void OrderEntry::on_canceled(const match::Canceled& e) noexcept {
  const std::uint32_t user = client_user(e.owner);
  if (!modifying_) {
    ouch::OrderCanceled out;
    out.timestamp = clock_.since_midnight();
    out.user_ref_num = e.user_ref;
    out.quantity = e.canceled;
    const char reason = cancel_reason_ != 0 && e.reason == match::CancelReason::kUser ? cancel_reason_
                                                                                        : match::ouch_cancel_reason(e.reason);
    out.reason = static_cast<ouch::CancelReason>(reason);
    send(user, out);
    ++counters_.canceled;
  }
  if (e.leaves == 0) {
    if (ClientOrder* o = find(user, e.user_ref)) release(*o);
  }
}

void OrderEntry::on_replaced(const match::Replaced& e) noexcept {
  const std::uint32_t user = client_user(e.owner);
  ClientOrder* o = find(user, e.old_user_ref);
  if (o == nullptr) return;
  rekey(*o, e.user_ref);
  o->ref = e.new_ref;
  if (replacing_ != nullptr) o->cl_ord_id = replacing_->cl_ord_id;
  users_[user].validator.consume(e.user_ref);
  ouch::OrderReplaced out;
  out.timestamp = clock_.since_midnight();
  out.orig_user_ref_num = e.old_user_ref;
  out.user_ref_num = e.user_ref;
  out.side = o->side;
  out.quantity = e.leaves;  // §3.3: "Total number of shares outstanding"
  out.symbol = symbols_[o->locate - 1];
  out.price = static_cast<ouch::Price>(e.price);
  out.time_in_force = o->tif;
  out.display = o->display;
  out.order_reference_number = e.new_ref;
  out.capacity = o->capacity;
  out.intermarket_sweep = o->iso;
  out.cross_type = o->cross;
  out.order_state = ouch::OrderState::kLive;
  out.cl_ord_id = o->cl_ord_id;
  if (replacing_ != nullptr) out.options = replacing_->options;
  send(user, out);
  ++counters_.replaced;
}

void OrderEntry::on_refreshed(const match::Refreshed& e) noexcept {
  const std::uint32_t user = client_user(e.owner);
  ClientOrder* o = find(user, e.user_ref);
  if (o != nullptr) o->ref = e.new_ref;
  ouch::OrderRestated out;
  out.timestamp = clock_.since_midnight();
  out.user_ref_num = e.user_ref;
  out.reason = ouch::RestatedReason::kRefresh;
  out.options.set_display_quantity(e.displayed);
  // Appendix B: "an alternative order reference number used when publishing the order on the
  // market data feeds (identifying, for example, the displayed portion of a reserve order)".
  out.options.set_secondary_ord_ref_num(e.new_ref);
  send(user, out);
  ++counters_.restated;
}

const char* OrderEntry::mpid(match::OwnerId owner, match::UserRef user_ref) const noexcept {
  const ClientOrder* o = find(client_user(owner), user_ref);
  return o != nullptr && o->display == ouch::Display::kAttributable ? o->firm.chars.data() : nullptr;
}

}  // namespace hft::venue
