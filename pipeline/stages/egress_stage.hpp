#pragma once
// Risk/egress stage: the last hop before the wire and the first after the venue.
//
//  intents (strategy)  -> pre-trade risk -> order manager -> OUCH 5.0 -> SoupBinTCP -> backend send
//  venue replies       -> SoupBinTCP client -> OUCH decode -> order manager -> ExecReports (strategy)
//
// It owns the order-entry TCP connection on its own backend (io_uring or epoll, a template
// parameter), logs in, asks the venue for its next UserRefNum (OUCH Account Query) before the
// first order, reconnects and resumes the sequenced stream after a disconnect, and applies the
// kill switch: block new orders and cancel every working order at the venue.
//
// Reconnects (issue 10, defect 4; issue 18, finding 2) are a state machine driven by poll(),
// never a wait on the pipeline thread: a non-blocking connect (EINPROGRESS, then the socket's
// writability and SO_ERROR on later polls, given up after connect_timeout_ms), the login sent
// and awaited across polls by the SoupBinTCP engine, and a backoff between attempts (from
// reconnect_interval_ns, doubling up to reconnect_max_interval_ns, back to the start after a
// login). Failures are errno values and counters; log_events() (cold, the control publisher)
// logs them once each with their numbers.
//
// Losing the order-entry session tells the strategies at once: each working order is reported
// canceled (reason kNotConnected), so none counts as working on their side. The order manager
// keeps them (in doubt) so that a resumed session books whatever the venue replays; on resume
// they are canceled at the venue. A login refused with 'S' (the venue no longer serves the
// session, e.g. it restarted with a new one) is retried with the backoff; after
// new_session_after_refusals refusals the next login asks for the venue's current session at
// sequence 1 (blank session name). A login accepted for a different session than before means
// the old session's orders are gone at the venue: the order manager closes them (counted).
//
// Records the decision -> order handed to the kernel hop and the whole tick-to-trade (packet TSC
// to send) for every intent that a packet caused.
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <ctime>
#include <optional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/log.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/ouch/codec.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "net/backend.hpp"
#include "net/socket.hpp"
#include "pipeline/events.hpp"
#include "pipeline/journal/writer.hpp"
#include "pipeline/oms/order_manager.hpp"
#include "pipeline/risk/keys.hpp"
#include "pipeline/risk/risk.hpp"
#include "pipeline/risk/storm_guard.hpp"
#include "pipeline/symbols.hpp"

namespace hft::pipeline {

struct OrderEntryConfig {
  net::Endpoint venue;
  soup::ClientConfig soup;
  std::string firm;                          // OUCH Firm appendage on every order ("" = none)
  std::uint64_t reconnect_interval_ns = 1'000'000'000;      // first retry after a loss...
  std::uint64_t reconnect_max_interval_ns = 8'000'000'000;  // ...doubling up to this
  int connect_timeout_ms = 1000;
  // Logins refused 'S' in a row before the next one asks for the venue's current session at
  // sequence 1 (0: never, keep asking for the old session).
  std::uint32_t new_session_after_refusals = 3;
  // Between orders, every this often, the stage rehearses the send path without sending (encodes
  // an Enter Order into the session's output and does not commit it; brings the order manager's
  // next slots and the risk state into cache), so an order after a quiet spell does not wait on
  // memory. 0 (the default): never; bench/e2e/warm_ab.sh showed no reliable gain on the 2-vCPU VM.
  std::uint64_t warm_interval_ns = 0;
  // Issue 14: the venue's name (logs, per-venue counters); "" with one venue.
  std::string name;
};

// Operator requests applied on the egress thread (from hftd's control thread, through a ring).
// kNote: an operator command applied elsewhere (kill, halt, ...), journaled here, on the one
// thread that writes the journal, before the control thread applies it.
// kResetRisk: `hftctl risk reset` (the circuit breaker closes; the P&L peak starts again).
struct ControlRequest {
  enum class Op : std::uint8_t { kSetLimits, kFlatten, kNote, kResetRisk } op;
  std::uint32_t id;
  risk::RiskLimits limits;
  char text[96];  // the command as hftd's log shows it (NUL-terminated)
  char who[32];   // kSetLimits: who asked ("uid 1000 (alice)"; NUL-terminated; empty: unknown)
};

// How far a crash recovery has come (the control file shows it; hftctl status says "recovering").
enum class RecoveryState : std::uint8_t {
  kNone = 0,        // no journal of today, or no journal: a fresh start
  kRecovering = 1,  // journal replayed; waiting for the venue's replay and the reconciliation
  kRecovered = 2,   // reconciled: strategies may trade
};
enum class WorkingOrders : std::uint8_t { kAdopt, kCancel };

struct EgressCounters {
  std::uint64_t intents = 0, sent_new = 0, sent_cancel = 0, sent_replace = 0;
  std::uint64_t risk_rejects = 0, not_connected = 0, unknown_order = 0, backlog = 0;
  std::uint64_t replies = 0, reply_errors = 0, report_overflow = 0;
  std::uint64_t connects = 0, connect_failures = 0, kill_cancels = 0;
  std::uint64_t login_timeouts = 0;  // connections the venue accepted but never answered the login on
  std::uint64_t broken_trades = 0, cancel_rejects = 0, flatten_orders = 0;
  std::uint64_t disconnects = 0;            // order-entry sessions lost
  std::uint64_t login_refusals = 0;         // Login Rejected 'S' (retried)
  std::uint64_t new_session_joins = 0;      // logins for the venue's current session after refusals
  std::uint64_t session_changes = 0;        // logins accepted for another session than before
  std::uint64_t orders_told_lost = 0;       // working orders reported gone to strategies on a loss
  std::uint64_t orders_of_old_session = 0;  // orders closed because the venue's session changed
  std::uint64_t journal_failures = 0;       // appends the journal refused (orders refused with them)
  std::uint64_t recovered_unsent = 0;       // journaled orders the venue never received (closed at recovery)
  std::uint64_t recovery_cancels = 0;       // working orders cancelled at recovery (working_orders = "cancel")
  std::uint64_t breaker_trips = 0;          // the daily-loss / drawdown circuit breaker tripped
  std::uint64_t breaker_cancels = 0;        // working orders cancelled because it tripped
  std::uint64_t storm_transitions = 0;      // Storm Guard state changes (global and per symbol)
  std::uint64_t storm_cancels = 0;          // resting orders cancelled on entering STORM
  std::uint64_t strategy_loss_trips = 0;    // per-strategy loss limits tripped (risk_max_loss_usd)
  std::uint64_t strategy_loss_cancels = 0;  // that strategy's working orders cancelled because of it
  std::uint64_t foreign_replies = 0;        // a venue's reply naming another venue's order (ignored)
  std::uint64_t venue_down = 0;             // new orders refused because their venue's session was down
};

// Issue 14: one venue's order-entry session, counted on its own (EgressCounters sums the venues).
struct VenueSessionCounters {
  std::uint64_t connects = 0, connect_failures = 0, disconnects = 0, login_refusals = 0, new_session_joins = 0,
                session_changes = 0, login_timeouts = 0, orders_told_lost = 0, orders_of_old_session = 0;
  std::uint64_t sent_new = 0, sent_cancel = 0, sent_replace = 0, replies = 0, refused_down = 0;
  std::uint64_t fills = 0, rejects = 0;  // executions and OUCH Rejected messages from this venue
};

// A risk event as the egress thread records it (binary: formatted by readers, never here). The
// control plane copies the last ones into the control file (control::RiskEventSlot, same fields).
struct RiskEvent {
  std::uint64_t wall_ns = 0;
  std::uint8_t kind = 0;      // control::RiskEventKind
  std::uint8_t code = 0;
  std::uint8_t side = 0;
  std::uint8_t strategy = 0;
  char name[32] = {};
  double a = 0, b = 0, c = 0;
};

template <class Backend>
class EgressStage {
 public:
  static constexpr int kBatch = 32;
  struct Link;  // one venue's order-entry session (below)

  // decision_to_wire and tick_to_trade end when the send call is issued (the order is handed to
  // the kernel); send_call is the time spent inside it, which on loopback includes the venue's
  // TCP receive processing and its wake-up, so it is kept apart rather than hidden or mixed in.
  struct Hops {
    core::Histogram* decision_to_wire;
    core::Histogram* tick_to_trade;
    core::Histogram* send_call;
    // Issue 14: decision -> the last leg of a multi-venue decision (OrderIntent::legs) handed to
    // the kernel (null: not recorded).
    core::Histogram* legs_to_wire = nullptr;
  };

  // One venue (today's appliance and tests).
  EgressStage(Backend& backend, const OrderEntryConfig& config, core::SpscRing<OrderIntent>& in,
              core::SpscRing<ExecReport>& out, risk::RiskGate& gate, const risk::ReferencePrices& refs,
              const SymbolTable& symbols, oms::OrderManager& oms, Hops hops)
      : EgressStage(backend, std::span<const OrderEntryConfig>(&config, 1), in, out, gate, refs, symbols, oms, hops) {}

  // Issue 14: one order-entry session per venue (venue id = index in `configs`, 1 to kMaxVenues),
  // each with its own SoupBinTCP state machine, login, heartbeats, reconnect and sequence, all on
  // this stage's backend. UserRefNums come from the one order manager: unique across venues.
  EgressStage(Backend& backend, std::span<const OrderEntryConfig> configs, core::SpscRing<OrderIntent>& in,
              core::SpscRing<ExecReport>& out, risk::RiskGate& gate, const risk::ReferencePrices& refs,
              const SymbolTable& symbols, oms::OrderManager& oms, Hops hops)
      : backend_(backend), in_(in), out_(out), gate_(gate), refs_(refs), symbols_(symbols), oms_(oms), hops_(hops),
        clock_(core::tsc_clock()), storm_(refs.size()) {
    if (configs.empty() || configs.size() > kMaxVenues)
      throw std::invalid_argument("order entry: 1 to 4 venues (kMaxVenues)");
    for (std::size_t v = 0; v < configs.size(); ++v)
      links_[v] = std::make_unique<Link>(*this, static_cast<VenueId>(v), configs[v]);
    link_count_ = static_cast<std::uint8_t>(configs.size());
    gate_.set_totals(&oms_.totals());  // gross and net exposure across symbols
    gate_.set_storm_modes(storm_.modes(), refs.size());
    track_strategy_limits();
  }

  // Keeps a ledger of its own for each strategy the limits give per-strategy limits, and hands it
  // to the gate (cold: allocates; the constructor, or a test after it changed the limits).
  void track_strategy_limits() {
    for (std::size_t s = 0; s < risk::kMaxStrategyLimits; ++s)
      if (gate_.limits().strategy[s].any())
        gate_.set_strategy_ledger(static_cast<std::uint8_t>(s), oms_.track_strategy(static_cast<std::uint8_t>(s)));
  }

  // Connects and logs in (blocking connect, start-up or reconnect path). False when the venue is
  // unreachable; the error is in last_error().
  // Every venue's session: true when all connected (a venue that did not is retried by poll()).
  bool connect() noexcept {
    bool all = true;
    for (std::uint8_t v = 0; v < link_count_; ++v) all = connect(v) && all;
    return all;
  }
  bool connect(VenueId venue) noexcept {
    Link& l = *links_[venue];
    const std::uint64_t now = now_ns();
    l.last_connect_attempt = now;
    try {
      net::Fd fd = net::tcp_connect(l.config.venue, l.config.connect_timeout_ms, net::TcpOptions{});
      l.socket = backend_.add_tcp(std::move(fd));
    } catch (const std::exception& e) {
      l.last_error = e.what();
      last_error_ = e.what();
      ++counters_.connect_failures;
      ++l.c.connect_failures;
      return false;
    }
    ++counters_.connects;
    ++l.c.connects;
    l.account_known = false;
    l.login_answered = false;
    l.soup.open(l.c.connects, now);
    flush(l);
    return true;
  }

  int poll() noexcept {
    std::uint64_t now = clock_.to_monotonic_ns(core::pass_rdtsc());  // session timers: coarse is enough
    // Orders first: what the strategy decided leaves before this stage polls its socket for
    // replies (an epoll backend pays a system call there) and does its session housekeeping.
    int work = 0;
    for (int i = 0; i < kBatch; ++i) {
      const OrderIntent* in = in_.front();
      if (in == nullptr) break;
      handle(*in, now);
      in_.pop();
      ++work;
    }
    flush_and_record();
    if (work == 0) warm(now);
    work += backend_.poll(*this);
    // The pass's start time serves an idle poll; after orders or replies (stamped with fresh reads)
    // the session must not see a time before them.
    if (work != 0) now = now_ns();
    mark_risk(now);
    for (std::uint8_t v = 0; v < link_count_; ++v) {
      Link& l = *links_[v];
      if (l.socket < 0) {
        reconnect(l, now);
      } else {
        l.soup.poll(now);
        if (l.soup.finished()) drop_connection(l, now);
      }
    }
    const bool kill = gate_.kill_switch();
    if (!kill) kill_done_ = false;
    else if (!kill_done_) kill_all(now);
    if (control_ != nullptr) {
      if (const ControlRequest* r = control_->front()) {
        apply(*r);
        control_applied_.store(r->id, std::memory_order_release);
        control_->pop();
      }
    }
    bool any_connected = false;
    for (std::uint8_t v = 0; v < link_count_; ++v) {
      Link& l = *links_[v];
      if (logout_requested_.load(std::memory_order_relaxed) && !l.logout_sent && l.socket >= 0) {
        l.logout_sent = true;
        l.soup.logout(now);
      }
      flush(l);  // heartbeats, cancels of the kill switch, the logout
      const bool up = l.ready();
      if (up != l.ready_flag.load(std::memory_order_relaxed)) l.ready_flag.store(up, std::memory_order_relaxed);
      any_connected = any_connected || l.socket >= 0;
    }
    published_open_.store(oms_.open_orders(), std::memory_order_relaxed);
    published_ready_.store(ready(), std::memory_order_relaxed);
    published_connected_.store(any_connected, std::memory_order_relaxed);
    // Nothing working and the kill switch seen: every later intent meets the switch.
    published_killed_flat_.store(kill && oms_.open_orders() == 0, std::memory_order_relaxed);
    published_polls_.store(published_polls_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return work;
  }
  [[nodiscard]] const char* name() const noexcept { return "risk"; }
  void on_thread_start() noexcept { backend_.on_thread_start(); }

  // ---- backend handler --------------------------------------------------------------------
  void on_datagram(const net::Datagram&) noexcept {}
  void on_stream_data(int socket, const std::uint8_t* data, std::size_t n) noexcept {
    if (Link* l = by_socket(socket)) l->soup.on_bytes(data, n, now_ns());
  }
  void on_stream_closed(int socket, int error) noexcept {
    Link* l = by_socket(socket);
    if (l == nullptr) return;
    l->soup.on_transport_closed(now_ns(), error);
    drop_connection(*l, now_ns());
  }

  // ---- one venue's session (issue 14) --------------------------------------------------------
  // The SoupBinTCP client and OUCH decoder of one venue call their handler: this forwards to the
  // stage with the venue it belongs to.
  struct Link {
    Link(EgressStage& owner, VenueId id, const OrderEntryConfig& cfg)
        : stage(owner), venue(id), config(cfg), soup(config.soup, *this) {
      if (!config.firm.empty()) firm = ouch::Firm::from(config.firm);
    }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    [[nodiscard]] bool ready() const noexcept { return socket >= 0 && soup.logged_in() && account_known; }
    void on_sequenced(std::uint64_t seq, std::span<const std::uint8_t> msg, std::uint64_t now) noexcept {
      stage.on_sequenced(*this, seq, msg, now);
    }
    void on_event(const soup::SessionEvent& e) noexcept { stage.on_event(*this, e); }
    template <class T>
    void on_message(const T& m) noexcept {
      stage.on_message(*this, m);
    }

    EgressStage& stage;
    VenueId venue;
    OrderEntryConfig config;
    soup::ClientSession<Link> soup;
    std::optional<ouch::Firm> firm;
    int socket = -1;
    bool account_known = false;
    bool login_answered = false;
    bool logout_sent = false;
    net::Fd pending_fd;            // a connect in progress
    int last_errno = 0;            // of the last failed connect
    std::uint64_t backoff_ns = 0;  // current delay between attempts (0: the first)
    std::uint32_t refusals_in_row = 0;
    soup::SessionName session_name{};  // last accepted
    std::uint64_t last_connect_attempt = 0;
    std::uint64_t handoff_tsc = 0, returned_tsc = 0;
    // log_events() bookkeeping
    std::uint64_t logged_connect_failures = 0, logged_disconnects = 0, logged_refusals = 0, logged_joins = 0,
                  logged_session_changes = 0, logged_login_wait = 0, logged_login_timeouts = 0;
    std::uint64_t session_events = 0;
    soup::SessionEvent last_event{};
    std::string last_error;
    VenueSessionCounters c;
    std::atomic<bool> ready_flag{false};
  };

  // ---- SoupBinTCP client handler ----------------------------------------------------------
  void on_sequenced(Link& l, std::uint64_t seq, std::span<const std::uint8_t> msg, std::uint64_t now) noexcept {
    ++counters_.replies;
    ++l.c.replies;
    // Journaled as it takes effect: the order manager books it right after. A crash before this
    // append leaves the message to the venue's replay (the journal's next sequence is this one).
    // Issue 14: every venue's, tagged with it (BlobPayload::venue): recovery resumes each session.
    if (journal_ != nullptr && journal_->append_received(seq, msg, wall(now), l.venue) != journal::AppendStatus::kOk)
      ++counters_.journal_failures;
    if (ouch::decode_outbound(msg.data(), msg.size(), l) != ouch::DecodeError::kOk) ++counters_.reply_errors;
  }
  void on_event(Link& l, const soup::SessionEvent& e) noexcept {
    l.last_event = e;
    ++l.session_events;
    if (l.venue == 0) {
      last_event_ = e;
      ++session_events_;
    }
    if (e.kind == soup::EventKind::kClosed && e.close_reason == soup::CloseReason::kTimeout && !l.login_answered) {
      ++counters_.login_timeouts;
      ++l.c.login_timeouts;
    }
    if (e.kind == soup::EventKind::kLoginAccepted || e.kind == soup::EventKind::kLoginRejected) l.login_answered = true;
    if (e.kind == soup::EventKind::kLoginRejected && e.reject_code == soup::RejectCode::kSessionNotAvailable) {
      ++counters_.login_refusals;
      ++l.c.login_refusals;
      ++l.refusals_in_row;
      if (l.config.new_session_after_refusals != 0 && l.refusals_in_row >= l.config.new_session_after_refusals) {
        l.soup.join_current_session();
        l.refusals_in_row = 0;
        ++counters_.new_session_joins;
        ++l.c.new_session_joins;
      }
    }
    if (e.kind == soup::EventKind::kLoginAccepted) {
      l.refusals_in_row = 0;
      l.backoff_ns = 0;
      if (!l.session_name.blank() && !(e.session == l.session_name)) session_changed(l);
      else resume_orders_in_doubt(l);
      l.session_name = e.session;
      journal_session(l, true);
      // The venue knows the next UserRefNum this account may use (OUCH 5.0 §2.5): ask before
      // sending any order, so a restart on the same day never reuses one.
      std::uint8_t q[1] = {static_cast<std::uint8_t>(ouch::AccountQuery::kType)};
      l.soup.send_unsequenced(q, now_ns());
    }
  }

  // ---- OUCH outbound messages -------------------------------------------------------------
  // A reply names an order by UserRefNum; with several venues it must be an order of that venue
  // (UserRefNums are unique across venues: a number another venue's order holds is not ours here).
  bool foreign(const Link& l, std::uint32_t user_ref) noexcept {
    if (link_count_ == 1) return false;
    const oms::Order* o = oms_.by_user_ref(user_ref);
    if (o == nullptr || o->venue == l.venue) return false;
    ++counters_.foreign_replies;
    return true;
  }
  void on_message(Link& l, const ouch::OrderAccepted& m) noexcept {
    if (foreign(l, m.user_ref_num)) return;
    ack_ns_ = now_ns();
    note_answer(m.user_ref_num, false);
    ExecReport r{};
    if (oms_.on_accepted(m.user_ref_num, m.order_reference_number, static_cast<Price>(m.price), m.quantity, r)) report(r);
  }
  void on_message(Link& l, const ouch::OrderReplaced& m) noexcept {
    if (foreign(l, m.orig_user_ref_num)) return;
    ExecReport r{};
    if (oms_.on_replaced(m.orig_user_ref_num, m.user_ref_num, m.order_reference_number, static_cast<Price>(m.price),
                         m.quantity, r))
      report(r);
  }
  void on_message(Link& l, const ouch::OrderCanceled& m) noexcept {
    if (foreign(l, m.user_ref_num)) return;
    ExecReport r{};
    if (oms_.on_canceled(m.user_ref_num, m.quantity, static_cast<std::uint16_t>(m.reason), r)) report(r);
  }
  void on_message(Link& l, const ouch::AiqCanceled& m) noexcept {
    if (foreign(l, m.user_ref_num)) return;
    ExecReport r{};
    if (oms_.on_canceled(m.user_ref_num, m.decrement_shares, static_cast<std::uint16_t>(m.reason), r)) report(r);
  }
  void on_message(Link& l, const ouch::OrderExecuted& m) noexcept {
    if (foreign(l, m.user_ref_num)) return;
    ++l.c.fills;
    ExecReport r{};
    if (oms_.on_executed(m.user_ref_num, m.quantity, static_cast<Price>(m.price), r, m.liquidity_flag)) {
      r.liquidity = m.liquidity_flag;
      report(r);
    }
  }
  void on_message(Link& l, const ouch::OrderRejected& m) noexcept {
    if (foreign(l, m.user_ref_num)) return;
    ++l.c.rejects;
    ack_ns_ = now_ns();
    note_answer(m.user_ref_num, true);
    ExecReport r{};
    if (oms_.on_rejected(m.user_ref_num, static_cast<std::uint16_t>(m.reason), r)) report(r);
  }
  void on_message(Link& l, const ouch::AccountQueryResponse& m) noexcept {
    // One counter for every venue: the highest next number any venue asks for, so a number is
    // never reused at any venue and each venue sees its numbers strictly increase.
    oms_.advance_user_ref(m.next_user_ref_num);
    l.account_known = true;
    // The venue answers the query after the messages it replayed at the login: everything missed
    // while hftd was down has been booked by now.
    if (((recovery_pending_ >> l.venue) & 1u) != 0 && recovery_.load(std::memory_order_relaxed) == RecoveryState::kRecovering)
      finish_recovery(l, m.next_user_ref_num);
  }
  void on_message(Link&, const ouch::BrokenTrade&) noexcept { ++counters_.broken_trades; }
  void on_message(Link&, const ouch::CancelReject&) noexcept { ++counters_.cancel_rejects; }
  template <class T>
  void on_message(Link&, const T&) noexcept {}  // system events, cancel pending, priority updates, ...

  // ---- state -------------------------------------------------------------------------------
  // Venue 0's session (the only one with one venue).
  [[nodiscard]] bool ready() const noexcept { return links_[0]->ready(); }
  // ---- several venues (issue 14) ---------------------------------------------------------------
  [[nodiscard]] std::size_t venues() const noexcept { return link_count_; }
  [[nodiscard]] bool ready(VenueId venue) const noexcept { return venue < link_count_ && links_[venue]->ready(); }
  [[nodiscard]] bool connected(VenueId venue) const noexcept { return venue < link_count_ && links_[venue]->socket >= 0; }
  [[nodiscard]] const VenueSessionCounters& venue_counters(VenueId venue) const noexcept { return links_[venue]->c; }
  [[nodiscard]] const soup::ClientSession<Link>& session(VenueId venue) const noexcept { return links_[venue]->soup; }
  [[nodiscard]] const OrderEntryConfig& venue_config(VenueId venue) const noexcept { return links_[venue]->config; }
  // Read by the strategy stage once per pass (on_venue when it changes): the venue's session is up.
  [[nodiscard]] const std::atomic<bool>& venue_ready_flag(VenueId venue) const noexcept { return links_[venue]->ready_flag; }
  [[nodiscard]] const EgressCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const soup::ClientCounters& session_counters() const noexcept { return links_[0]->soup.counters(); }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  [[nodiscard]] const soup::SessionEvent& last_event() const noexcept { return last_event_; }
  [[nodiscard]] std::uint64_t session_events() const noexcept { return session_events_; }
  [[nodiscard]] bool connected() const noexcept { return links_[0]->socket >= 0; }
  // For other threads (shutdown, control plane): refreshed at the end of every poll.
  [[nodiscard]] std::uint32_t published_open_orders() const noexcept { return published_open_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool published_ready() const noexcept { return published_ready_.load(std::memory_order_relaxed); }
  // The same flag for another stage to read once per pass (the strategy stage refuses new orders
  // locally while the session is down, instead of sending intents only to have them refused here).
  [[nodiscard]] const std::atomic<bool>& ready_flag() const noexcept { return published_ready_; }
  [[nodiscard]] bool published_connected() const noexcept { return published_connected_.load(std::memory_order_relaxed); }
  // Polls completed so far, and whether the last one saw the kill switch on with no order working.
  // A caller that turned the switch on waits for two more polls before trusting the flag (the
  // value it first reads may come from a poll that began before the switch).
  [[nodiscard]] std::uint64_t published_polls() const noexcept { return published_polls_.load(std::memory_order_acquire); }
  [[nodiscard]] bool published_killed_flat() const noexcept { return published_killed_flat_.load(std::memory_order_relaxed); }
  // Risk events so far and the event of sequence `seq` (1-based; the last kRiskEvents are kept).
  // Refusals have a ring of their own, so that a flood of them never hides a breaker trip, a
  // Storm Guard transition or a limit change. On the egress thread (its control publisher copies
  // them into the control file).
  static constexpr std::size_t kRiskEvents = 64;
  [[nodiscard]] std::uint64_t risk_event_count() const noexcept { return event_count_; }
  [[nodiscard]] const RiskEvent& risk_event(std::uint64_t seq) const noexcept { return events_[(seq - 1) % kRiskEvents]; }
  [[nodiscard]] std::uint64_t refusal_event_count() const noexcept { return refusal_count_; }
  [[nodiscard]] const RiskEvent& refusal_event(std::uint64_t seq) const noexcept {
    return refusals_[(seq - 1) % kRiskEvents];
  }
  // The day's P&L is marked this often (and after every fill), off the per-order path.
  static constexpr std::uint64_t kMarkIntervalNs = 1'000'000;
  // A restart found the breaker tripped (or the day's peak) in the journal: before the threads.
  void restore_breaker(risk::BreakerCause cause, std::int64_t trip_pnl, bool has_peak, std::int64_t peak) noexcept {
    if (has_peak) {
      gate_.restore_peak(peak);
      journaled_peak_ = peak;
    }
    if (cause != risk::BreakerCause::kNone) gate_.trip(cause, trip_pnl);
  }
  // Storm Guard (pipeline/risk/storm_guard.hpp): its state, for the control plane and strategies.
  [[nodiscard]] const risk::StormGuard& storm_guard() const noexcept { return storm_; }
  // Feed health from the net stage's side (null: the feed driver is off).
  void set_storm_inputs(const risk::StormInputs* in) noexcept { storm_inputs_ = in; }
  // A restart found Storm Guard in HALT in the journal (before the threads).
  void restore_storm_halt() noexcept { storm_.restore_halt(now_ns()); }
  // Operator requests (set risk limits, flatten) from the control thread.
  void set_control_ring(core::SpscRing<ControlRequest>* ring) noexcept { control_ = ring; }
  // The id of the last request applied (the control thread waits for it before answering).
  [[nodiscard]] std::uint32_t control_applied() const noexcept { return control_applied_.load(std::memory_order_acquire); }
  // ---- journal and recovery (set up before the threads start) -------------------------------
  // The write-ahead journal (null: none). Every intent that passed risk and the OUCH bytes it
  // became are appended before they are handed to the kernel; every risk refusal; every message
  // from the venue as it is booked; session state changes; operator commands (kNote requests).
  void set_journal(journal::JournalWriter* j) noexcept {
    journal_ = j;
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    wall_offset_ns_ = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec - static_cast<std::int64_t>(now_ns());
  }
  // A journal was replayed: log in to `session` asking for `next_sequence` (the venue replays what
  // was missed), reconcile at the Account Query answer, then report recovered.
  // `session` and `next_sequence` are venue 0's; resume_venue() gives the others' (before this).
  // Issue 14: every venue reconciles at its own Account Query answer (its orders only); the stage
  // reports recovered once all have.
  void begin_recovery(std::string_view session, std::uint64_t next_sequence, WorkingOrders mode,
                      std::uint64_t operator_seq) noexcept {
    resume_venue(0, session, next_sequence);
    working_orders_ = mode;
    if (operator_seq > operator_seq_) operator_seq_ = operator_seq;
    recovery_pending_ = static_cast<std::uint8_t>((1u << link_count_) - 1u);
    recovery_.store(RecoveryState::kRecovering, std::memory_order_release);
  }
  // Issue 14: the journaled session of `venue` and the sequence to ask for at its login.
  void resume_venue(VenueId venue, std::string_view session, std::uint64_t next_sequence) noexcept {
    if (venue >= link_count_) return;
    links_[venue]->soup.resume_at(soup::SessionName::from(session), next_sequence);
    links_[venue]->session_name = soup::SessionName::from(session);
  }
  [[nodiscard]] RecoveryState recovery_state() const noexcept { return recovery_.load(std::memory_order_acquire); }
  // Whether `venue` still waits for its reconciliation (on the egress thread: its publisher).
  [[nodiscard]] bool venue_recovering(VenueId venue) const noexcept { return ((recovery_pending_ >> venue) & 1u) != 0; }
  [[nodiscard]] const journal::JournalWriter* journal() const noexcept { return journal_; }

  // From any thread: the stage's own thread sends the Logout Request on its next poll.
  void request_logout() noexcept { logout_requested_.store(true, std::memory_order_relaxed); }
  [[nodiscard]] const soup::ClientSession<Link>& session() const noexcept { return links_[0]->soup; }

  // Cold path, on this stage's thread (its control publisher, every publish interval): says what
  // the session waits for. A venue that accepts the connection and never answers the login would
  // otherwise leave hftd silent until the session timeout (order_entry.timeout_ms) closes the link.
  // Logs once per connection, and once per such timeout.
  void log_events() {
    for (std::uint8_t v = 0; v < link_count_; ++v) log_events(*links_[v]);
  }

 private:
  // The venue's name in a log line: "" with one venue (today's lines), else "NAME ".
  std::string venue_label(const Link& l) const {
    if (link_count_ == 1) return std::string();
    return (l.config.name.empty() ? fmt::format("venue {}", l.venue) : l.config.name) + " ";
  }
  void log_events(Link& l) {
    const std::string who = venue_label(l);
    if (l.soup.state() == soup::ClientState::kLoginSent && l.logged_login_wait != l.c.connects) {
      const std::uint64_t waited = now_ns() - l.soup.login_sent_at();
      if (waited >= kLoginAnswerWarnNs) {
        l.logged_login_wait = l.c.connects;
        core::log::warn("order entry: {}no answer from the venue {} to the login of {} for {:.1f} s (connection {}); "
                        "waiting up to order_entry.timeout_ms = {}, then reconnecting",
                        who, l.config.venue.text, l.config.soup.username, static_cast<double>(waited) / 1e9,
                        l.c.connects, l.config.soup.timeout_ns / 1'000'000);
      }
    }
    if (l.c.disconnects != l.logged_disconnects) {
      l.logged_disconnects = l.c.disconnects;
      core::log::warn("order entry: {}session {} with the venue {} lost ({}); {} working orders reported gone to the "
                      "strategies ({} in all); reconnecting with backoff ({} disconnects in all){}",
                      who, std::string(l.session_name.trimmed()), l.config.venue.text, describe(l.last_event),
                      oms_.open_orders(), l.c.orders_told_lost, l.c.disconnects,
                      link_count_ > 1 ? "; the other venues keep trading, orders to this one are refused (venue_down)" : "");
    }
    if (l.c.connect_failures != l.logged_connect_failures) {
      core::log::warn("order entry: {}{} connects to the venue {} failed (last: {}); retrying every {} ms at most "
                      "({} in all)", who, l.c.connect_failures - l.logged_connect_failures, l.config.venue.text,
                      std::strerror(l.last_errno), (l.backoff_ns == 0 ? l.config.reconnect_interval_ns : l.backoff_ns) / 1'000'000,
                      l.c.connect_failures);
      l.logged_connect_failures = l.c.connect_failures;
    }
    if (l.c.login_refusals != l.logged_refusals) {
      core::log::warn("order entry: {}the venue {} refused the login of {} for session '{}' at sequence {} ('S': "
                      "session or sequence not available) {} times ({} in all); retrying with backoff{}",
                      who, l.config.venue.text, l.config.soup.username, std::string(l.last_event.session.trimmed()),
                      l.last_event.requested_sequence, l.c.login_refusals - l.logged_refusals,
                      l.c.login_refusals,
                      l.config.new_session_after_refusals == 0 ? std::string()
                          : fmt::format(", after {} in a row asking for the venue's current session at sequence 1",
                                        l.config.new_session_after_refusals));
      l.logged_refusals = l.c.login_refusals;
    }
    if (l.c.new_session_joins != l.logged_joins) {
      l.logged_joins = l.c.new_session_joins;
      core::log::warn("order entry: {}the venue {} offers only a new session: logging in for its current session at "
                      "sequence 1 (order_entry.new_session_after_refusals = {})", who, l.config.venue.text,
                      l.config.new_session_after_refusals);
    }
    if (l.c.session_changes != l.logged_session_changes) {
      l.logged_session_changes = l.c.session_changes;
      core::log::warn("order entry: {}logged in to the venue's new session {}: the old session's orders are gone "
                      "({} closed as not working, {} in all)", who, std::string(l.session_name.trimmed()),
                      l.c.orders_of_old_session, l.c.orders_of_old_session);
    }
    if (l.c.login_timeouts != l.logged_login_timeouts) {
      l.logged_login_timeouts = l.c.login_timeouts;
      core::log::warn("order entry: {}the venue {} never answered the login of {} within {} ms: connection closed, "
                      "reconnecting every {} ms ({} unanswered logins in all)",
                      who, l.config.venue.text, l.config.soup.username, l.config.soup.timeout_ns / 1'000'000,
                      l.config.reconnect_interval_ns / 1'000'000, l.c.login_timeouts);
    }
  }

  std::uint64_t now_ns() const noexcept { return clock_.to_monotonic_ns(core::rdtsc()); }
  std::uint64_t wall(std::uint64_t mono_ns) const noexcept {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(mono_ns) + wall_offset_ns_);
  }

  // ---- journal records (no syscall, allocation or lock: the writer copies into its mapping) ----
  journal::IntentPayload intent_payload(const OrderIntent& in, std::uint32_t user_ref,
                                        std::uint32_t orig_user_ref) const noexcept {
    journal::IntentPayload p{};
    p.order_id = in.order_id;
    p.price = in.price;
    p.origin_tsc = in.origin_tsc;
    p.quantity = in.quantity;
    p.user_ref_num = user_ref;
    p.orig_user_ref_num = orig_user_ref;
    p.locate = in.locate;
    p.intent_type = static_cast<std::uint8_t>(in.type);
    p.side = static_cast<std::uint8_t>(in.side);
    std::memcpy(p.symbol, symbols_.symbol(in.locate).chars.data(), sizeof p.symbol);
    p.tif = static_cast<std::uint8_t>(in.tif);
    p.strategy = in.strategy;
    p.post_only = in.post_only ? 1 : 0;
    p.venue = in.venue;
    return p;
  }
  void journal_session(const Link& l, bool logged_in) noexcept {
    if (journal_ == nullptr) return;
    journal::SessionStatePayload p{};
    p.next_soup_sequence = l.soup.next_expected();
    p.next_user_ref_num = oms_.next_user_ref();
    p.flags = logged_in ? 1u : 0u;
    std::memcpy(p.session, l.session_name.chars.data(), sizeof p.session);
    p.venue = l.venue;
    if (journal_->append(p, wall(now_ns())) != journal::AppendStatus::kOk) ++counters_.journal_failures;
  }
  // The cancel of a working order the operator or the stage decided (kill switch, recovery).
  journal::IntentPayload cancel_payload(const oms::Order& o) const noexcept {
    OrderIntent in{};
    in.order_id = o.order_id;
    in.price = o.price;
    in.quantity = o.leaves;
    in.locate = o.locate;
    in.type = IntentType::kCancel;
    in.side = o.side;
    in.strategy = o.strategy;
    in.venue = o.venue;
    return intent_payload(in, o.user_ref, 0);
  }

  // Reconciles the replayed journal with what the venue says (cold: once per recovery).
  // Issue 14: per venue, at that venue's answer, over that venue's orders (its own UserRefNum view).
  [[gnu::cold, gnu::noinline]] void finish_recovery(Link& l, std::uint32_t venue_next_user_ref) noexcept {
    counters_.recovered_unsent +=
        oms_.reconcile_unsent(venue_next_user_ref, [&](const ExecReport& r) { report(r); }, l.venue);
    if (working_orders_ == WorkingOrders::kCancel) {
      oms_.for_each_working([&](oms::Order& o) {
        if (o.state == oms::OrderState::kPendingNew || o.venue != l.venue) return;  // answered by the venue: cannot be (reconciled)
        const journal::IntentPayload p = cancel_payload(o);
        if (send_cancel(o, &p)) {
          oms_.begin_cancel(o, 0);
          ++counters_.recovery_cancels;
        }
      });
    }
    journal_session(l, true);
    recovery_pending_ = static_cast<std::uint8_t>(recovery_pending_ & ~(1u << l.venue));
    if (recovery_pending_ == 0) recovery_.store(RecoveryState::kRecovered, std::memory_order_release);
  }

  static std::string describe(const soup::SessionEvent& e) {
    switch (e.close_reason) {
      case soup::CloseReason::kPeerClosed: return "closed by the venue";
      case soup::CloseReason::kIoError: return "I/O error";
      case soup::CloseReason::kTimeout: return "venue silent past the timeout";
      case soup::CloseReason::kLoginRejected: return "login refused";
      case soup::CloseReason::kEndOfSession: return "end of session";
      default: return "closed";
    }
  }

  void handle(const OrderIntent& in, std::uint64_t now) noexcept {
    ++counters_.intents;
    switch (in.type) {
      case IntentType::kNew: return handle_new(in, now);
      case IntentType::kCancel: return handle_cancel(in, now);
      case IntentType::kReplace: return handle_replace(in, now);
    }
  }

  void refuse(const OrderIntent& in, RejectReason reason) noexcept {
    if (journal_ != nullptr) {
      journal::RefusalPayload p{};
      p.intent = intent_payload(in, 0, 0);
      p.reason = static_cast<std::uint16_t>(reason);
      if (journal_->append(p, wall(now_ns())) != journal::AppendStatus::kOk) ++counters_.journal_failures;
    }
    {
      RiskEvent& e = next_event(now_ns(), 1);
      e.code = static_cast<std::uint8_t>(reason);
      e.side = in.side == Side::kBuy ? 'B' : 'S';
      e.strategy = in.strategy;
      std::memcpy(e.name, symbols_.symbol(in.locate).chars.data(), 8);
      e.a = static_cast<double>(in.price) / 1e4;
      e.b = static_cast<double>(in.quantity);
    }
    ExecReport r{};
    r.origin_tsc = in.origin_tsc;
    r.order_id = in.order_id;
    r.price = in.price;
    r.quantity = in.quantity;
    r.locate = in.locate;
    r.type = ReportType::kRejected;
    r.side = in.side;
    r.reason = reason;
    r.strategy = in.strategy;
    r.venue = in.venue;
    report(r);
  }

  // The symbol's market view for the gate, with its symbol word when a restricted list is set.
  risk::MarketView market(Locate l) const noexcept {
    risk::MarketView m = refs_.view(l);
    if (gate_.limits().restricted_count != 0) m.symbol = symbols_.symbol(l).key();
    return m;
  }

  // The session an order goes to: its venue's (null: no such venue).
  Link* link(VenueId venue) noexcept { return venue < link_count_ ? links_[venue].get() : nullptr; }
  Link* by_socket(int socket) noexcept {
    for (std::uint8_t v = 0; v < link_count_; ++v)
      if (links_[v]->socket == socket) return links_[v].get();
    return nullptr;
  }
  // A new order whose venue cannot take it: with one venue the session is down (kNotConnected, as
  // ever); with several, that venue is (kVenueDown) while the others trade.
  void refuse_down(const OrderIntent& in, Link* l) noexcept {
    ++counters_.not_connected;
    if (link_count_ == 1 && l != nullptr) return refuse(in, RejectReason::kNotConnected);
    ++counters_.venue_down;
    if (l != nullptr) ++l->c.refused_down;
    gate_.count_refusal(RejectReason::kVenueDown);
    return refuse(in, RejectReason::kVenueDown);
  }

  void handle_new(const OrderIntent& in, std::uint64_t) noexcept {
    Link* const l = link(in.venue);
    if (l == nullptr || !l->ready()) [[unlikely]]
      return refuse_down(in, l);
    const RejectReason why = gate_.check_new(in, oms_.exposure(in.locate), market(in.locate), oms_.open_orders(),
                                             core::rdtsc());
    if (why != RejectReason::kNone) {
      ++counters_.risk_rejects;
      return refuse(in, why);
    }
    oms::Order* o = oms_.open(in);
    if (o == nullptr) {
      ++counters_.risk_rejects;
      return refuse(in, RejectReason::kOpenOrderLimit);
    }
    warm_locate_ = in.locate;
    const journal::IntentPayload p = intent_payload(in, o->user_ref, 0);
    if (!send(*l, enter_order(*l, in, o->user_ref), &p)) {
      oms_.abandon(*o);
      ++counters_.backlog;
      return refuse(in, RejectReason::kBacklog);
    }
    if (gate_.limits().storm_ack_p99_ms > 0 || gate_.limits().storm_reject_rate_pct > 0) o->sent_ns = now_ns();
    ++counters_.sent_new;
    ++l->c.sent_new;
    record_hops(in, *l);
  }

  void handle_cancel(const OrderIntent& in, std::uint64_t) noexcept {
    oms::Order* o = oms_.by_id(in.order_id);
    if (o == nullptr) {
      ++counters_.unknown_order;
      return refuse(in, RejectReason::kUnknownOrder);
    }
    Link& l = *links_[o->venue];
    if (!l.ready()) {
      ++counters_.not_connected;
      return refuse(in, link_count_ == 1 ? RejectReason::kNotConnected : RejectReason::kVenueDown);
    }
    OrderIntent named = in;
    named.venue = o->venue;
    const journal::IntentPayload p = intent_payload(named, o->user_ref, 0);
    if (!send_cancel(*o, &p)) {
      ++counters_.backlog;
      return refuse(in, RejectReason::kBacklog);
    }
    oms_.begin_cancel(*o, in.origin_tsc);
    if (gate_.counts_messages()) gate_.note_cancel(core::rdtsc(), o->venue);  // never refused; counts toward the message rate
    ++counters_.sent_cancel;
    ++l.c.sent_cancel;
    record_hops(in, l);
  }

  void handle_replace(const OrderIntent& in, std::uint64_t) noexcept {
    oms::Order* o = oms_.by_id(in.order_id);
    if (o == nullptr || o->state != oms::OrderState::kLive) {
      ++counters_.unknown_order;
      return refuse(in, RejectReason::kUnknownOrder);
    }
    Link& l = *links_[o->venue];
    if (!l.ready()) {
      ++counters_.not_connected;
      return refuse(in, link_count_ == 1 ? RejectReason::kNotConnected : RejectReason::kVenueDown);
    }
    // Quantity of a replace intent: the order's wanted leaves (pipeline/events.hpp).
    const std::uint64_t total = std::uint64_t{o->filled} + in.quantity;
    if (total > ouch::kMaxQuantity) {  // the venue would take the order out of the book (§2.2 case 2)
      ++counters_.risk_rejects;
      return refuse(in, RejectReason::kMaxOrderQuantity);
    }
    OrderIntent check = in;
    check.side = o->side;
    check.venue = o->venue;
    const RejectReason why = gate_.check_replace(check, o->leaves, oms_.exposure(o->locate), market(o->locate), core::rdtsc());
    if (why != RejectReason::kNone) {
      ++counters_.risk_rejects;
      return refuse(in, why);
    }
    const std::uint32_t new_ref = oms_.begin_replace(*o, in.price, in.quantity, in.origin_tsc);
    if (new_ref == 0) {
      ++counters_.risk_rejects;
      return refuse(in, RejectReason::kOpenOrderLimit);
    }
    ouch::ReplaceOrder m;
    m.orig_user_ref_num = o->user_ref;
    m.user_ref_num = new_ref;
    // The intent says the leaves wanted; OUCH 5.0 §2.2 wants the chain's total liability,
    // executions included. An execution still in flight to us makes the venue's leaves smaller,
    // never larger, than wanted: no double liability.
    m.quantity = static_cast<std::uint32_t>(total);
    m.price = static_cast<ouch::Price>(in.price);
    const journal::IntentPayload p = intent_payload(check, new_ref, o->user_ref);
    if (!send(l, m, &p)) {
      oms_.end_replace_failed(*o);
      ++counters_.backlog;
      return refuse(in, RejectReason::kBacklog);
    }
    ++counters_.sent_replace;
    ++l.c.sent_replace;
    record_hops(in, l);
  }

  void warm(std::uint64_t now) noexcept {
    Link& l = *links_[0];
    if (l.config.warm_interval_ns == 0 || now - last_warm_ns_ < l.config.warm_interval_ns || l.socket < 0) return;
    last_warm_ns_ = now;
    oms_.warm(warm_locate_);
    __builtin_prefetch(&gate_, 0, 3);
    (void)refs_.get(warm_locate_);
    std::uint8_t* p = l.soup.begin_unsequenced(kMaxOuch);
    if (p == nullptr) return;
    OrderIntent rehearsal{};
    rehearsal.locate = warm_locate_;
    rehearsal.side = Side::kBuy;
    rehearsal.quantity = 100;
    rehearsal.price = 1'000'000;
    rehearsal.tif = TimeInForce::kDay;
    (void)ouch::encode(p, kMaxOuch, enter_order(l, rehearsal, 1));  // not committed: nothing is sent
  }

  // The OUCH Enter Order of a new-order intent.
  ouch::EnterOrder enter_order(const Link& l, const OrderIntent& in, std::uint32_t user_ref) const noexcept {
    ouch::EnterOrder m;
    m.user_ref_num = user_ref;
    m.side = in.side == Side::kBuy ? ouch::Side::kBuy : ouch::Side::kSell;
    m.quantity = in.quantity;
    m.symbol = ouch::Symbol::from(symbols_.symbol(in.locate).view());
    m.price = static_cast<ouch::Price>(in.price);
    m.time_in_force = in.tif == TimeInForce::kIoc ? ouch::TimeInForce::kIoc : ouch::TimeInForce::kDay;
    if (l.firm) m.options.set_firm(*l.firm);
    if (in.post_only) m.options.set_post_only('P');
    if (in.min_quantity != 0) m.options.set_min_qty(in.min_quantity);  // FOK: IOC + MinQty = quantity
    return m;
  }

  // Cancels the order under its UserRefNum and, while a replace is in flight, under the
  // replacement's too: the venue handles the two in the order sent, after the replace, so the
  // order lives under exactly one of them by then (the replaced number if the replace went
  // through, the original if it was refused) and the cancel of the other is superfluous (OUCH
  // 5.0 §2.3: ignored). A cancel of the original alone would miss a replaced order.
  // `intent`: the journal record of the decision (written once, before the first message).
  bool send_cancel(const oms::Order& o, const journal::IntentPayload* intent) noexcept {
    Link& l = *links_[o.venue < link_count_ ? o.venue : 0];
    ouch::CancelOrder m;
    m.user_ref_num = o.user_ref;
    m.quantity = 0;
    if (!send(l, m, intent)) return false;
    if (o.state != oms::OrderState::kPendingReplace || o.pending_user_ref == 0) return true;
    m.user_ref_num = o.pending_user_ref;
    return send(l, m, nullptr);  // on failure the caller tries both again: a repeated cancel is harmless
  }

  // Encodes `m` into the session's output; with a journal, appends the intent (if any) and the
  // message's bytes before committing them, so nothing reaches the kernel that the journal does
  // not hold. A refused append refuses the send (counted).
  template <class M>
  bool send(Link& l, const M& m, const journal::IntentPayload* intent) noexcept {
    std::uint8_t* p = l.soup.begin_unsequenced(kMaxOuch);
    if (p == nullptr) {  // the output buffer is full: hand it to the kernel and try once more
      flush(l);
      p = l.soup.begin_unsequenced(kMaxOuch);
      if (p == nullptr) return false;
    }
    const std::size_t n = ouch::encode(p, kMaxOuch, m);
    if (n == 0) return false;
    const std::uint64_t now = now_ns();
    if (journal_ != nullptr) {
      if ((intent != nullptr && journal_->append(*intent, wall(now)) != journal::AppendStatus::kOk) ||
          journal_->append_sent({p, n}, wall(now), l.venue) != journal::AppendStatus::kOk) {
        ++counters_.journal_failures;
        return false;
      }
    }
    l.soup.commit_unsequenced(n, now);
    return true;
  }

  // Hands the session's output to the kernel; remembers when the call was issued and returned.
  void flush(Link& l) noexcept {
    if (l.socket < 0) return;
    const auto out = l.soup.output();
    if (out.empty()) return;
    l.handoff_tsc = core::rdtsc();
    if (backend_.send(l.socket, out.data(), out.size())) l.soup.consume_output(out.size());
    l.returned_tsc = core::rdtscp();
  }
  void flush() noexcept {
    for (std::uint8_t v = 0; v < link_count_; ++v) flush(*links_[v]);
  }

  // Orders of one batch leave in one send call per venue; their hops are recorded once it is issued.
  void record_hops(const OrderIntent& in, const Link& l) noexcept {
    if (pending_hops_ < kBatch) pending_[pending_hops_++] = {in.decision_tsc, in.origin_tsc, l.venue, in.legs};
    sent_to_ |= 1u << l.venue;
  }
  void flush_and_record() noexcept {
    if (pending_hops_ == 0) return flush();
    for (std::uint8_t v = 0; v < link_count_; ++v) flush(*links_[v]);
    bool legs = false;
    for (std::uint32_t i = 0; i < pending_hops_; ++i) {
      const std::uint64_t handoff = links_[pending_[i].venue]->handoff_tsc;
      if (pending_[i].decision != 0) hops_.decision_to_wire->record(clock_.to_ns(handoff - pending_[i].decision));
      if (pending_[i].origin != 0) hops_.tick_to_trade->record(clock_.to_ns(handoff - pending_[i].origin));
      legs = legs || pending_[i].legs != 0;
    }
    for (std::uint8_t v = 0; v < link_count_; ++v)
      if ((sent_to_ >> v) & 1u) hops_.send_call->record(clock_.to_ns(links_[v]->returned_tsc - links_[v]->handoff_tsc));
    if (legs && hops_.legs_to_wire != nullptr) record_legs();
    sent_to_ = 0;
    pending_hops_ = 0;
  }
  // The legs of one decision (same decision TSC, OrderIntent::legs set): decision -> the last of
  // their venues' send calls issued, once per decision.
  [[gnu::noinline]] void record_legs() noexcept {
    for (std::uint32_t i = 0; i < pending_hops_; ++i) {
      if (pending_[i].legs == 0 || pending_[i].decision == 0) continue;
      std::uint64_t last = links_[pending_[i].venue]->handoff_tsc;
      for (std::uint32_t j = i + 1; j < pending_hops_; ++j)
        if (pending_[j].legs != 0 && pending_[j].decision == pending_[i].decision) {
          const std::uint64_t h = links_[pending_[j].venue]->handoff_tsc;
          last = h > last ? h : last;
          pending_[j].legs = 0;  // recorded with the first leg
        }
      hops_.legs_to_wire->record(clock_.to_ns(last - pending_[i].decision));
    }
  }

  // Every report goes to the strategy stage, the operator's own orders (flatten, kOperatorStrategy)
  // too: the strategy side's positions are a projection of the fills booked here.
  void report(const ExecReport& r) noexcept {
    if (!out_.try_push(r)) ++counters_.report_overflow;
  }

  void apply(const ControlRequest& r) noexcept {
    if (journal_ != nullptr && r.text[0] != '\0' &&
        journal_->append_command({r.text, ::strnlen(r.text, sizeof r.text)}, wall(now_ns())) != journal::AppendStatus::kOk)
      ++counters_.journal_failures;
    if (r.op == ControlRequest::Op::kNote) return;
    if (r.op == ControlRequest::Op::kSetLimits) {
      limit_changes(gate_.limits(), r.limits, r.who);
      gate_.set_limits(r.limits);
      return;
    }
    if (r.op == ControlRequest::Op::kResetRisk) {
      const risk::BreakerState before = gate_.breaker();
      const std::int64_t pnl = oms_.day_pnl([this](Locate l) noexcept { return mark_price(l); });
      gate_.reset_breaker(pnl);
      breaker_cancels_pending_ = false;
      storm_.reset(now_ns(), [&](const risk::StormTransition& t) { storm_transition(t, now_ns()); });
      entry_health_.clear();
      storm_.set_entry_health(0, 0);
      journaled_peak_ = pnl;
      journal_text("risk peak %lld", static_cast<long long>(pnl));  // after "risk reset" (journaled above)
      RiskEvent& e = next_event(now_ns(), 3);
      e.code = static_cast<std::uint8_t>(before.cause);
      std::snprintf(e.name, sizeof e.name, "hftctl");
      e.a = static_cast<double>(pnl) / 1e4;
      e.b = static_cast<double>(before.peak) / 1e4;
      return;
    }
    // Flatten: cancel everything, then close each position with an IOC order at the edge of the
    // price band on the side that crosses (risk checks still apply).
    kill_all(now_ns());
    for (std::size_t l = 1; l < oms_.locates(); ++l) {
      const auto locate = static_cast<Locate>(l);
      const std::int64_t pos = oms_.exposure(locate).position;
      const Price ref = refs_.get(locate);
      if (pos == 0 || ref <= 0) continue;
      OrderIntent in{};
      in.order_id = (static_cast<std::uint64_t>(kOperatorStrategy) << 56) | ++operator_seq_;
      in.side = pos > 0 ? Side::kSell : Side::kBuy;
      in.quantity = static_cast<Quantity>(pos > 0 ? pos : -pos);
      const Price edge = ref * gate_.limits().price_band_bps / 20'000;  // half the band: inside it
      in.price = pos > 0 ? ref - edge : ref + edge;
      in.price -= in.price % 100;  // the penny grid
      in.locate = locate;
      in.type = IntentType::kNew;
      in.tif = TimeInForce::kIoc;
      in.strategy = kOperatorStrategy;
      in.venue = first_ready_venue();  // positions are per instrument across venues: any venue closes them
      handle_new(in, 0);
      ++counters_.flatten_orders;
    }
  }

  bool any_ready() const noexcept {
    for (std::uint8_t v = 0; v < link_count_; ++v)
      if (links_[v]->ready()) return true;
    return false;
  }
  bool all_ready() const noexcept {
    for (std::uint8_t v = 0; v < link_count_; ++v)
      if (!links_[v]->ready()) return false;
    return true;
  }
  VenueId first_ready_venue() const noexcept {
    for (std::uint8_t v = 0; v < link_count_; ++v)
      if (links_[v]->ready()) return v;
    return 0;
  }
  bool order_link_ready(const oms::Order& o) const noexcept { return o.venue < link_count_ && links_[o.venue]->ready(); }

  // Cancels every working order; orders still pending acceptance are cancelled once accepted
  // (the next poll sees them live), and a cancel that found no room is retried on the next poll.
  void kill_all(std::uint64_t) noexcept {
    if (!any_ready()) return;
    const bool complete = cancel_working(counters_.kill_cancels);
    kill_done_ = gate_.kill_switch() && complete;
  }
  // Cancels every working order not being cancelled yet; false when some could not be (pending
  // acceptance, or no room in the output): the caller tries again on a later poll.
  bool cancel_working(std::uint64_t& counter) noexcept {
    if (!any_ready()) return false;
    bool complete = true;
    oms_.for_each_working([&](oms::Order& o) {
      if (o.cancel_requested) return;
      if (o.state == oms::OrderState::kPendingNew || !order_link_ready(o)) {
        complete = false;
        return;
      }
      const journal::IntentPayload p = cancel_payload(o);
      if (send_cancel(o, &p)) {
        oms_.begin_cancel(o, 0);
        if (gate_.counts_messages()) gate_.note_cancel(core::rdtsc(), o.venue);
        ++counter;
      } else {
        complete = false;
      }
    });
    return complete;
  }

  // ---- the circuit breaker (issue 11) --------------------------------------------------------
  // Marks the day's P&L every kMarkIntervalNs and after fills; a mark that trips the breaker
  // cancels every working order (retried until done) and records the event.
  void mark_risk(std::uint64_t now) noexcept {
    const std::uint64_t fills = oms_.counters().fills;
    if (fills == marked_fills_ && now - last_mark_ns_ < kMarkIntervalNs) return;
    marked_fills_ = fills;
    last_mark_ns_ = now;
    const std::int64_t pnl = oms_.day_pnl([this](Locate l) noexcept { return mark_price(l); });
    const risk::BreakerCause c = gate_.mark_pnl(pnl);
    if (c != risk::BreakerCause::kNone) breaker_tripped(c, now);
    if (breaker_cancels_pending_ && cancel_working(counters_.breaker_cancels)) breaker_cancels_pending_ = false;
    mark_strategies(now);
    if (all_ready()) was_ready_ = true;
    if (now - last_storm_ns_ >= risk::StormGuard::kEvalIntervalNs) {
      last_storm_ns_ = now;
      pnl_minute_[(now / 1'000'000'000) % pnl_minute_.size()] = pnl;  // one sample per second (the last of it)
      if (storm_.enabled(gate_.limits())) evaluate_storm(now, pnl);
    }
    // The day's peak is journaled (at most once a second) so that a restart keeps the drawdown.
    const std::int64_t peak = gate_.breaker().peak;
    if (peak != journaled_peak_ && now - peak_journaled_ns_ >= 1'000'000'000) {
      peak_journaled_ns_ = now;
      journaled_peak_ = peak;
      journal_text("risk peak %lld", static_cast<long long>(peak));
    }
  }
  // Storm Guard's order-entry health (when one of its drivers is on): the venue's answer to a new
  // order, with the time since it was handed to the session.
  void note_answer(std::uint32_t user_ref, bool rejected) noexcept {
    const risk::RiskLimits& l = gate_.limits();
    if (l.storm_reject_rate_pct <= 0 && l.storm_ack_p99_ms <= 0) return;
    const oms::Order* o = oms_.by_user_ref(user_ref);
    if (o == nullptr || o->state != oms::OrderState::kPendingNew || o->sent_ns == 0) return;
    entry_health_.record(ack_ns_, ack_ns_ > o->sent_ns ? ack_ns_ - o->sent_ns : 0, rejected);
  }
  // Per-strategy loss limits: each strategy with one is marked with the P&L of its own ledger; a
  // trip cancels that strategy's working orders (retried until none is left) and lets only its
  // risk-reducing orders through until `hftctl risk reset`.
  void mark_strategies(std::uint64_t now) noexcept {
    for (std::uint8_t s = 0; s < risk::kMaxStrategyLimits; ++s) {
      const risk::StrategyLedger* sl = gate_.strategy_ledger(s);
      if (sl == nullptr) continue;
      const std::int64_t pnl = sl->pnl([this](Locate l) noexcept { return mark_price(l); });
      if (gate_.mark_strategy_pnl(s, pnl)) strategy_loss_tripped(s, pnl, now);
      if ((strategy_cancels_pending_ >> s) & 1u) {
        bool complete = true;
        oms_.for_each_working([&](oms::Order& o) {
          if (o.strategy != s || o.cancel_requested) return;
          if (o.state == oms::OrderState::kPendingNew) {
            complete = false;
            return;
          }
          const journal::IntentPayload p = cancel_payload(o);
          if (order_link_ready(o) && send_cancel(o, &p)) {
            oms_.begin_cancel(o, 0);
            if (gate_.counts_messages()) gate_.note_cancel(core::rdtsc(), o.venue);
            ++counters_.strategy_loss_cancels;
          } else {
            complete = false;
          }
        });
        if (complete) strategy_cancels_pending_ &= ~(1u << s);
      }
    }
  }
  [[gnu::cold, gnu::noinline]] void strategy_loss_tripped(std::uint8_t s, std::int64_t pnl, std::uint64_t now) noexcept {
    ++counters_.strategy_loss_trips;
    strategy_cancels_pending_ |= 1u << s;
    const std::int64_t limit = gate_.limits().strategy[s].max_loss;
    journal_text("risk strategy_loss %u pnl=%lld limit=%lld", static_cast<unsigned>(s), static_cast<long long>(pnl),
                 static_cast<long long>(limit));
    RiskEvent& e = next_event(now, 6);
    e.strategy = s;
    std::snprintf(e.name, sizeof e.name, "strategy_loss");
    e.a = static_cast<double>(pnl) / 1e4;
    e.c = static_cast<double>(limit) / 1e4;
  }
  // Storm Guard's evaluation (every 10 ms while any of its drivers is on).
  void evaluate_storm(std::uint64_t now, std::int64_t pnl) noexcept {
    const risk::RiskLimits& l = gate_.limits();
    const auto& active = oms_.active_list();
    for (; watched_upto_ < active.size(); ++watched_upto_) storm_.watch(active[watched_upto_]);
    double feed_ms = 0;
    if (storm_inputs_ != nullptr) {
      const std::uint64_t since = storm_inputs_->feed_gap_since_ns.load(std::memory_order_relaxed);
      if (since != 0 && now > since) feed_ms = static_cast<double>(now - since) / 1e6;
    }
    double entry_ms = 0;
    if (l.storm_ack_timeout_ms > 0) {
      if (was_ready_ && !all_ready() && !logout_requested_.load(std::memory_order_relaxed)) {
        entry_ms = static_cast<double>(l.storm_ack_timeout_ms);  // the session is down: at the threshold
      } else {
        bool waiting = false;
        oms_.for_each_working([&](const oms::Order& o) { waiting = waiting || o.state == oms::OrderState::kPendingNew; });
        if (!waiting) no_pending_ns_ = now;
        else {
          const std::uint64_t from = ack_ns_ > no_pending_ns_ ? ack_ns_ : no_pending_ns_;
          entry_ms = now > from ? static_cast<double>(now - from) / 1e6 : 0;
        }
      }
    }
    if (l.storm_reject_rate_pct > 0 || l.storm_ack_p99_ms > 0) {
      const risk::EntryHealth::Figures f =
          entry_health_.figures(now, static_cast<std::uint64_t>(l.storm_entry_window_ms) * 1'000'000);
      storm_.set_entry_health(f.reject_pct, f.ack_p99_ms);
    }
    std::int64_t minute_peak = pnl;
    for (const std::int64_t v : pnl_minute_) minute_peak = v > minute_peak ? v : minute_peak;
    const double loss_per_minute = static_cast<double>(minute_peak - pnl) / 1e4;
    storm_.evaluate(
        now, l, [this](Locate x) noexcept { return mark_price(x); },
        [this](Locate x) noexcept {
          const risk::MarketView v = refs_.view(x);
          return v.bid > 0 && v.ask > v.bid ? static_cast<double>(v.ask - v.bid) * 2e4 / static_cast<double>(v.ask + v.bid) : 0.0;
        },
        feed_ms, entry_ms, loss_per_minute, [&](const risk::StormTransition& t) { storm_transition(t, now); });
  }
  [[gnu::cold, gnu::noinline]] void storm_transition(const risk::StormTransition& t, std::uint64_t now) noexcept {
    ++counters_.storm_transitions;
    const char* sym = "*";
    char symbol[9] = {};
    if (t.locate != 0) {
      std::memcpy(symbol, symbols_.symbol(t.locate).chars.data(), 8);
      for (int i = 7; i >= 0 && (symbol[i] == ' ' || symbol[i] == '\0'); --i) symbol[i] = '\0';
      sym = symbol;
    }
    journal_text("risk storm %s %s %s value=%.4f threshold=%.4f", risk::storm_state_name(t.to), sym,
                 risk::storm_cause_name(t.cause), t.value, t.threshold);
    RiskEvent& e = next_event(now, 5);
    e.code = static_cast<std::uint8_t>(t.to);
    e.side = static_cast<std::uint8_t>(t.from);
    e.strategy = static_cast<std::uint8_t>(t.cause);
    std::snprintf(e.name, sizeof e.name, "%s", sym);
    e.a = t.value;
    e.b = t.threshold;
    // STORM (or HALT) for a symbol or all: cancel the resting orders it covers.
    if (t.to >= risk::StormState::kStorm && t.from < risk::StormState::kStorm) {
      oms_.for_each_working([&](oms::Order& o) {
        if (o.cancel_requested || o.state == oms::OrderState::kPendingNew || (t.locate != 0 && o.locate != t.locate) ||
            !order_link_ready(o))
          return;
        const journal::IntentPayload p = cancel_payload(o);
        if (send_cancel(o, &p)) {
          oms_.begin_cancel(o, 0);
          if (gate_.counts_messages()) gate_.note_cancel(core::rdtsc(), o.venue);
          ++counters_.storm_cancels;
        }
      });
    }
  }
  // The mid, else the reference price (last trade, else the one side there is).
  Price mark_price(Locate l) const noexcept {
    const risk::MarketView v = refs_.view(l);
    return v.bid > 0 && v.ask > 0 ? (v.bid + v.ask) / 2 : v.reference;
  }
  [[gnu::cold, gnu::noinline]] void breaker_tripped(risk::BreakerCause c, std::uint64_t now) noexcept {
    ++counters_.breaker_trips;
    breaker_cancels_pending_ = true;
    const risk::BreakerState& b = gate_.breaker();
    const risk::RiskLimits& l = gate_.limits();
    const std::int64_t limit = c == risk::BreakerCause::kDailyLoss ? l.max_daily_loss
                               : c == risk::BreakerCause::kDrawdown ? l.max_drawdown
                                                                    : static_cast<std::int64_t>(l.max_drawdown_pct * 10'000);
    journal_text("risk breaker %s pnl=%lld peak=%lld limit=%lld", risk::breaker_cause_name(c),
                 static_cast<long long>(b.trip_pnl), static_cast<long long>(b.peak), static_cast<long long>(limit));
    RiskEvent& e = next_event(now, 2);
    e.code = static_cast<std::uint8_t>(c);
    std::snprintf(e.name, sizeof e.name, "%s", risk::breaker_cause_name(c));
    e.a = static_cast<double>(b.trip_pnl) / 1e4;
    e.b = static_cast<double>(b.peak) / 1e4;
    e.c = c == risk::BreakerCause::kDrawdownPct ? l.max_drawdown_pct : static_cast<double>(limit) / 1e4;
  }
  // A command record of text (cold: trips, peaks); snprintf into the stack, no allocation.
  [[gnu::format(printf, 2, 3)]] void journal_text(const char* format, ...) noexcept {
    if (journal_ == nullptr) return;
    char text[128];
    va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    if (n <= 0) return;
    const std::size_t len = static_cast<std::size_t>(n) < sizeof text ? static_cast<std::size_t>(n) : sizeof text - 1;
    if (journal_->append_command({text, len}, wall(now_ns())) != journal::AppendStatus::kOk) ++counters_.journal_failures;
  }
  RiskEvent& next_event(std::uint64_t now, std::uint8_t kind) noexcept {
    RiskEvent& e = kind == 1 ? refusals_[refusal_count_++ % kRiskEvents] : events_[event_count_++ % kRiskEvents];
    e = RiskEvent{};
    e.wall_ns = wall(now);
    e.kind = kind;
    return e;
  }

  void drop_connection(Link& l, std::uint64_t now) noexcept {
    if (l.socket >= 0) {
      backend_.close_socket(l.socket);
      ++counters_.disconnects;
      ++l.c.disconnects;
      tell_orders_lost(l);
      journal_session(l, false);
    }
    l.socket = -1;
    l.account_known = false;
    l.last_connect_attempt = now;
    // The venue answered: the delay doubles with the logins it refused in a row (reconnect_ms
    // after a plain loss); connects that fail double it in connect_failed().
    const std::uint32_t shift = l.refusals_in_row > 20 ? 20 : l.refusals_in_row;
    const std::uint64_t delay = l.config.reconnect_interval_ns << shift;
    l.backoff_ns = delay > l.config.reconnect_max_interval_ns ? l.config.reconnect_max_interval_ns : delay;
  }

  // The reconnect state machine (see the header comment): one step per poll, never a wait.
  void reconnect(Link& l, std::uint64_t now) noexcept {
    if (!l.pending_fd.valid()) {
      if (logout_requested_.load(std::memory_order_relaxed) || !l.soup.may_reconnect()) return;
      if (now - l.last_connect_attempt < (l.backoff_ns == 0 ? l.config.reconnect_interval_ns : l.backoff_ns)) return;
      l.last_connect_attempt = now;
      const int r = net::tcp_connect_start(l.config.venue, net::TcpOptions{}, l.pending_fd);
      if (r != 0 && r != EINPROGRESS) return connect_failed(l, now, r);
      if (r == EINPROGRESS) return;
    } else {
      const int r = net::tcp_connect_result(l.pending_fd.get());
      if (r == EINPROGRESS) {
        if (now - l.last_connect_attempt >= static_cast<std::uint64_t>(l.config.connect_timeout_ms) * 1'000'000)
          connect_failed(l, now, ETIMEDOUT);
        return;
      }
      if (r != 0) return connect_failed(l, now, r);
    }
    if (!adopt(l, std::move(l.pending_fd))) return connect_failed(l, now, EMFILE);
    ++counters_.connects;
    ++l.c.connects;
    l.backoff_ns = 0;
    l.account_known = false;
    l.login_answered = false;
    l.soup.open(l.c.connects, now);
    flush(l);
  }

  // Registers a connected socket with the backend (which may refuse: no slot, epoll_ctl error).
  [[gnu::cold, gnu::noinline]] bool adopt(Link& l, net::Fd fd) noexcept {
    try {
      l.socket = backend_.add_tcp(std::move(fd));
      return true;
    } catch (...) {
      return false;
    }
  }

  void connect_failed(Link& l, std::uint64_t now, int error) noexcept {
    l.pending_fd.reset();
    l.last_errno = error;
    ++counters_.connect_failures;
    ++l.c.connect_failures;
    l.last_connect_attempt = now;
    l.backoff_ns = l.backoff_ns == 0 ? l.config.reconnect_interval_ns
                   : l.backoff_ns * 2 > l.config.reconnect_max_interval_ns ? l.config.reconnect_max_interval_ns
                                                                         : l.backoff_ns * 2;
  }

  // The session is lost: every working order at its venue is reported gone to its strategy once
  // (they stay in the order manager, in doubt, until the venue resolves them). Other venues' orders
  // are untouched.
  void tell_orders_lost(Link& l) noexcept {
    oms_.for_each_working([&](oms::Order& o) {
      if (o.cancel_requested || o.venue != l.venue) return;  // told already (or its cancel is on the way)
      o.cancel_requested = true;
      ExecReport r{};
      r.origin_tsc = o.origin_tsc;
      r.order_id = o.order_id;
      r.price = o.price;
      r.quantity = o.quantity;
      r.leaves = 0;
      r.locate = o.locate;
      r.type = ReportType::kCanceled;
      r.side = o.side;
      r.reason = RejectReason::kNotConnected;
      r.strategy = o.strategy;
      r.venue = o.venue;
      report(r);
      ++counters_.orders_told_lost;
      ++l.c.orders_told_lost;
    });
  }

  // The same session resumed: orders the strategies were told are gone are canceled at the venue
  // (what it replayed meanwhile has been booked).
  void resume_orders_in_doubt(Link& l) noexcept {
    oms_.for_each_working([&](oms::Order& o) {
      if (o.venue == l.venue && o.cancel_requested && o.state != oms::OrderState::kPendingNew) {
        const journal::IntentPayload p = cancel_payload(o);
        (void)send_cancel(o, &p);
      }
    });
  }

  // Another session: the venue restarted; the old session's orders do not exist there any more.
  void session_changed(Link& l) noexcept {
    ++counters_.session_changes;
    ++l.c.session_changes;
    oms_.for_each_working([&](oms::Order& o) {
      if (o.venue != l.venue) return;
      ExecReport r{};
      const std::uint32_t ref = o.user_ref;
      const bool told = o.cancel_requested;
      // The whole remainder: the order manager closes the order at zero leaves.
      if (oms_.on_canceled(ref, o.leaves == 0 ? o.quantity : o.leaves, 0, r) && !told) report(r);
      ++counters_.orders_of_old_session;
      ++l.c.orders_of_old_session;
    });
  }

  // One event per limit that changed (the key table says which members are limits).
  // The event's name is the key; who asked follows it after a NUL when it fits (a 32-byte field:
  // readers show "by WHO").
  [[gnu::cold]] void limit_changes(const risk::RiskLimits& before, const risk::RiskLimits& after,
                                   const char* who = nullptr) noexcept {
    auto note = [&](std::string_view name, double o, double n) -> RiskEvent& {
      RiskEvent& e = next_event(now_ns(), 4);
      std::snprintf(e.name, sizeof e.name, "%.*s", static_cast<int>(name.size()), name.data());
      const std::size_t used = name.size() + 1;
      if (who != nullptr && who[0] != '\0' && used < sizeof e.name)
        std::snprintf(e.name + used, sizeof e.name - used, "%s", who);
      e.a = o;
      e.b = n;
      return e;
    };
    for (const risk::RiskKey& k : risk::kRiskKeys) {
      const double o = k.get(before), n = k.get(after);
      if (o != n) note(k.name, o, n);
    }
    // Per-strategy limits: the event names the field ("max_position", ...) and carries the strategy's
    // index, code 1 (risk_report: "limit strategy N risk_max_position").
    for (std::size_t s = 0; s < risk::kMaxStrategyLimits; ++s)
      for (const std::string_view f : risk::kStrategyLimitFields) {
        const double o = risk::strategy_limit_value(before.strategy[s], f),
                     n = risk::strategy_limit_value(after.strategy[s], f);
        if (o == n) continue;
        RiskEvent& e = note(f, o, n);
        e.strategy = static_cast<std::uint8_t>(s);
        e.code = 1;
      }
    if (before.restricted_count != after.restricted_count ||
        !std::equal(before.restricted.begin(), before.restricted.begin() + before.restricted_count, after.restricted.begin()))
      note("restricted_symbols", before.restricted_count, after.restricted_count);
  }

  static constexpr std::size_t kMaxOuch = 256;

  Backend& backend_;
  core::SpscRing<OrderIntent>& in_;
  core::SpscRing<ExecReport>& out_;
  risk::RiskGate& gate_;
  const risk::ReferencePrices& refs_;
  const SymbolTable& symbols_;
  oms::OrderManager& oms_;
  Hops hops_;
  const core::TscClock& clock_;
  std::array<std::unique_ptr<Link>, kMaxVenues> links_{};
  std::uint8_t link_count_ = 0;
  std::uint32_t sent_to_ = 0;  // venues a send went to in this pass (bit per venue)
  std::uint64_t last_warm_ns_ = 0;
  Locate warm_locate_ = 0;
  struct PendingHop {
    std::uint64_t decision, origin;
    VenueId venue;
    std::uint8_t legs;
  };
  std::array<PendingHop, kBatch> pending_{};
  std::uint32_t pending_hops_ = 0;
  bool kill_done_ = false;
  // A Login Request unanswered this long is worth a line: venues answer in milliseconds.
  static constexpr std::uint64_t kLoginAnswerWarnNs = 1'000'000'000;
  std::uint64_t session_events_ = 0;  // venue 0's (session_events(), last_event())
  soup::SessionEvent last_event_{};
  std::string last_error_;
  EgressCounters counters_;
  alignas(core::kCacheLine) std::atomic<std::uint32_t> published_open_{0};
  std::atomic<bool> published_ready_{false};
  std::atomic<bool> published_connected_{false};
  std::atomic<bool> published_killed_flat_{false};
  std::atomic<std::uint64_t> published_polls_{0};
  std::atomic<bool> logout_requested_{false};
  std::atomic<std::uint32_t> control_applied_{0};
  core::SpscRing<ControlRequest>* control_ = nullptr;
  journal::JournalWriter* journal_ = nullptr;
  std::int64_t wall_offset_ns_ = 0;  // CLOCK_REALTIME - monotonic, for the journal's timestamps
  WorkingOrders working_orders_ = WorkingOrders::kAdopt;
  std::atomic<RecoveryState> recovery_{RecoveryState::kNone};
  std::uint8_t recovery_pending_ = 0;  // bit v: venue v has not reconciled yet (issue 14)
  std::uint64_t operator_seq_ = 0;
  // The circuit breaker's marks (mark_risk) and the risk events.
  std::uint64_t marked_fills_ = 0, last_mark_ns_ = 0;
  bool breaker_cancels_pending_ = false;
  std::uint32_t strategy_cancels_pending_ = 0;  // bit s: strategy s tripped its loss limit, orders to cancel
  std::int64_t journaled_peak_ = 0;
  std::uint64_t peak_journaled_ns_ = 0;
  std::array<RiskEvent, kRiskEvents> events_{}, refusals_{};
  std::uint64_t event_count_ = 0, refusal_count_ = 0;
  // Storm Guard.
  risk::StormGuard storm_;
  const risk::StormInputs* storm_inputs_ = nullptr;
  std::size_t watched_upto_ = 0;
  std::uint64_t last_storm_ns_ = 0, ack_ns_ = 0, no_pending_ns_ = 0;
  bool was_ready_ = false;
  std::array<std::int64_t, 60> pnl_minute_{};
  risk::EntryHealth entry_health_;
};

}  // namespace hft::pipeline
