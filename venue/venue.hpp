#pragma once
// hft-exchange as a library: a NASDAQ-like venue on one thread, so the program, the integration
// tests and the backtester can run one in-process.
//
//   venue::Venue v(config);      // binds every socket, allocates every pool
//   std::thread t([&] { v.run(); });
//   ... clients trade against v.ouch_endpoint(), listen on v.feed_destination() ...
//   v.stop(); t.join();          // end of day, summary, output files
//
// What it is made of: the price-time matching engine (venue/matching), whose events the
// listener turns into ITCH 5.0 for everyone (MoldUDP64 feed, re-request server, BinaryFILE
// capture) and OUCH 5.0 for the order's owner (SoupBinTCP sequenced streams); the background
// flow (background.hpp); the latency probe (probe.hpp).
//
// One event loop, no busy spin (it shares a 2-core host with the appliance). Each pass:
//   1. wait in epoll_pwait2 until a socket is readable or the next timer is due: the background
//      flow's next tick, the probe's send or timeout, a GTT expiry, the end of the run, or 10 ms
//      of housekeeping (heartbeats, dead-peer timeouts). The set holds the TCP server's own epoll
//      descriptor (nested), the re-request socket and a stop eventfd.
//   2. order entry first: OUCH from clients (probe answers among them) waits least, and the
//      market data it caused is sent at once;
//   3. re-requests: a receiver recovering a gap is waiting on them;
//   4. the probe, then the background flow's burst (at most max_batch messages, so a backlog
//      never starves steps 2-3);
//   5. everything published in the pass goes out (MoldUDP64 packets), and OUCH produced by
//      step 4 (fills of resting client orders) is written to the sockets at once; the pass's
//      lines of the executions file (--executions) are written with one write(2).
// The TCP server is polled when its descriptor is ready or every 10 ms (its sessions' timers);
// the re-request socket only when ready.
// Issue 14 (venue/lead.hpp): the lead channel's listening socket and the follower's socket are in
// the same epoll set; the follower's queued values are due at a deadline of the loop, and the
// fair values that changed in a pass go to the followers at its end (non-blocking sends).
#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateways/moldudp64/rerequest_server.hpp"
#include "gateways/soupbintcp/log.hpp"
#include "gateways/soupbintcp/server.hpp"
#include "net/epoll.hpp"
#include "net/tcp_server.hpp"
#include "venue/background.hpp"
#include "venue/config.hpp"
#include "venue/execution_log.hpp"
#include "venue/feed.hpp"
#include "venue/glimpse.hpp"
#include "venue/lead.hpp"
#include "venue/listener.hpp"
#include "venue/order_entry.hpp"
#include "venue/probe.hpp"
#include "venue/rng.hpp"

namespace hft::venue {

class ShadowBook;

// What the venue did, for the exit summary and for tests.
struct VenueSummary {
  double seconds = 0;                  // from the start of day to the end of day
  std::uint64_t itch_messages = 0;
  std::array<std::uint64_t, 128> itch_by_type{};
  std::uint64_t background_messages = 0;
  std::uint64_t packets = 0;           // MoldUDP64 packets of every kind
  std::uint64_t message_packets = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t end_of_session_packets = 0;
  std::uint64_t feed_bytes = 0;
  std::uint64_t send_errors = 0;       // sendto refused (counted drops; receivers recover them)
  std::uint64_t dropped_on_purpose = 0;  // [feed] drop_every: message packets kept off the wire
  std::uint64_t captured_messages = 0;
  mold::RerequestStats rerequests;
  OrderEntryCounters order_entry;
  std::uint64_t logins = 0, login_rejects = 0, disconnects = 0;
  // The order-entry port under pressure (issue 18): connections refused (per-source limit, or every
  // slot logged in), closed before their login to make room, logins refused during a lockout.
  std::uint64_t connections_refused = 0, connections_evicted = 0, lockout_refusals = 0;
  match::EngineStats engine;
  std::uint32_t live_orders = 0;       // resting in the engine
  std::uint32_t client_orders = 0;     // live in the order-entry table
  BackgroundCounters background;
  ProbeCounters probe;
  std::uint64_t probe_p50_ns = 0, probe_p90_ns = 0, probe_p99_ns = 0, probe_p999_ns = 0, probe_max_ns = 0;
  ExecutionLogStats executions_file;   // --executions
  GlimpseCounters glimpse;             // --glimpse
  // Issue 14: the venue's identity, fees per user, the lead channel and the follower.
  std::string venue, mpid;
  double fee_add = 0, fee_remove = 0;    // dollars per share
  std::vector<std::pair<std::string, UserFees>> user_fees;  // config.accounts order
  bool leading = false, following = false;
  std::size_t lead_followers = 0;
  LeadServerCounters lead;
  FollowCounters follow;
  std::string leader_venue;             // the leader's name from its hello ("" before one)
  bool outputs_ok = true;              // capture, book dump, histogram and executions written without error
};

class Venue {
 public:
  // Throws std::invalid_argument (configuration) or std::system_error (a socket or file).
  explicit Venue(VenueConfig config);
  ~Venue();
  Venue(const Venue&) = delete;
  Venue& operator=(const Venue&) = delete;

  // Start of day, the event loop until stop() or the configured duration, end of day (the
  // end-of-session tail for at most shutdown_linger), then the output files and the summary log.
  void run();
  // The same in steps, for a caller that drives the venue from its own loop (tests): start(),
  // step() until it returns false, finish(). start() opens the day at once, or after
  // open_delay (sessions and re-requests are served meanwhile, so clients connect first).
  void start();
  // One pass of the loop, waiting at most max_wait_ns for I/O or a timer. False once stop() was
  // called or the configured duration has passed.
  bool step(std::uint64_t max_wait_ns = ~std::uint64_t{0});
  void finish();
  // From any thread or a signal handler (async-signal-safe: an atomic and a write(2)). A second
  // call during the end-of-day linger ends it at once.
  void stop() noexcept;

  [[nodiscard]] const VenueConfig& config() const noexcept { return config_; }
  [[nodiscard]] net::Endpoint feed_destination() const { return config_.feed; }
  [[nodiscard]] net::Endpoint rerequest_endpoint() const { return rerequest_.local_endpoint(); }
  [[nodiscard]] net::Endpoint ouch_endpoint() const { return tcp_->local(); }
  // The GLIMPSE port (config().glimpse set), else an empty endpoint.
  [[nodiscard]] net::Endpoint glimpse_endpoint() const { return glimpse_tcp_ ? glimpse_tcp_->local() : net::Endpoint{}; }
  // The lead channel's listening address (config().lead.listen set), else an empty endpoint.
  [[nodiscard]] net::Endpoint lead_endpoint() const { return lead_ ? lead_->local() : net::Endpoint{}; }
  // Appends a GLIMPSE 5.0 snapshot of the current state (sequenced SoupBinTCP packets) to `out`;
  // returns its message count. Between requests only (the port calls it from the loop; tests
  // and the benchmark with the loop stopped).
  std::size_t build_snapshot(std::vector<std::uint8_t>& out);
  // Writes the capture buffer (--capture) out now (benchmarks read the day so far).
  void feed_flush_capture() noexcept { feed_.sink().flush_capture(); }
  // Changes the background flow's rate from now on (benchmarks: build a book fast, then trade at
  // a normal rate). Not with run() on another thread.
  void set_background_rate(double rate) noexcept {
    config_.background.rate = rate;
    bg_base_ns_ = core::monotonic_ns();
    bg_produced_ = 0;
  }
  [[nodiscard]] std::uint16_t probe_locate() const noexcept { return static_cast<std::uint16_t>(config_.symbols.size() + 1); }
  [[nodiscard]] VenueSummary summary() const;
  // The engine's books (displayed levels), in locate order; the probe's symbol last.
  [[nodiscard]] std::vector<match::BookDump> books() const { return engine_.dump_all(); }
  [[nodiscard]] const core::Histogram& probe_histogram() const noexcept { return probe_.histogram(); }
  [[nodiscard]] const BackgroundFlow& background() const noexcept { return background_; }
  // Client orders resting in the engine (a walk of every book: tests and fuzzing). Equals
  // summary().client_orders, the order-entry table's count, after every request.
  [[nodiscard]] std::uint32_t resting_client_orders() const;
  // Handles `msg` as if `user` had sent it on its SoupBinTCP session, and sends what it published
  // (fuzzing and benchmarks drive the order entry without a socket). Not with run() on another thread.
  void inject(std::uint32_t user, std::span<const std::uint8_t> msg) noexcept;

  // ---- engine events (VenueListener forwards here; defined below) --------------------------
  void on_accepted(const match::Accepted& e) noexcept;
  void on_rejected(const match::Rejected& e) noexcept;
  void on_book_added(const match::BookAdded& e) noexcept;
  void on_execution(const match::Execution& e) noexcept;
  void on_canceled(const match::Canceled& e) noexcept;
  void on_replaced(const match::Replaced& e) noexcept;
  void on_refreshed(const match::Refreshed& e) noexcept;

 private:
  // SoupBinTCP session handler: OUCH payloads to the order entry, session events counted and
  // logged (soup::Logged: one line per login accepted / rejected, logout, disconnect, timeout,
  // malformed packet).
  struct OuchPort {
    Venue* venue = nullptr;
    void on_unsequenced(std::uint32_t user, std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept {
      venue->order_entry_.handle(user, msg, now_ns);
    }
    void on_event(const soup::SessionEvent& e) noexcept {
      venue->count_session_event(e);
      venue->log_session_event(e);
    }
    void on_session_lost(std::uint32_t user, soup::CloseReason why) noexcept {
      venue->order_entry_.session_lost(user, why, core::monotonic_ns());
    }
  };
  using Session = soup::ServerSession<OuchPort>;

  void open_day(std::uint64_t now_ns) noexcept;
  void start_of_day(std::uint64_t now_ns) noexcept;
  void end_of_day();
  // One pass of the loop (see the top of this file); `trading` is false during the end-of-day tail.
  void pass(bool trading, std::uint64_t max_wait_ns) noexcept;
  [[nodiscard]] std::uint64_t next_deadline(std::uint64_t now_ns) const noexcept;
  // Sleeps until a descriptor is ready or the timeout passes; returns which were ready.
  unsigned wait(std::uint64_t timeout_ns) noexcept;
  void run_background(std::uint64_t now_ns) noexcept;
  // Issue 14: the follower's socket and lag queue; the leader's accepts, changes and writes.
  void run_follow(bool ready, std::uint64_t now_ns) noexcept;
  void run_lead(bool ready) noexcept;
  void register_follow_fd() noexcept;
  [[nodiscard]] match::Price with_noise(match::Price fair) noexcept;
  void write_capture_sidecar();
  static std::size_t glimpse_build(void* self, std::vector<std::uint8_t>& out) {
    return static_cast<Venue*>(self)->build_snapshot(out);
  }
  void count_session_event(const soup::SessionEvent& e) noexcept;
  // soup::log_event, with warnings limited per kind and reason (issue 18: a flood of refused
  // logins is a count, not a line each).
  void log_session_event(const soup::SessionEvent& e) noexcept;
  bool write_outputs();
  bool write_book_dump();
  void log_summary(const VenueSummary& s) const;
  [[nodiscard]] std::vector<itch::Symbol> all_symbols() const;
  static void probe_hook(void* context, bool before, std::uint64_t now_ns) noexcept;

  VenueConfig config_;
  VenueClock clock_;
  VenueListener listener_;
  VenueEngine engine_;
  ItchFeed feed_;
  mold::RerequestServer rerequest_;
  soup::ServerContext context_;
  OrderEntry order_entry_;
  BackgroundFlow background_;
  LatencyProbe probe_;
  std::unique_ptr<ShadowBook> shadow_;
  std::unique_ptr<ExecutionLog> executions_;
  OuchPort port_;
  std::unique_ptr<net::TcpServer<Session>> tcp_;
  std::unique_ptr<soup::ServerContext> glimpse_context_;
  GlimpseCounters glimpse_counters_;
  std::unique_ptr<net::TcpServer<GlimpseSession>> glimpse_tcp_;
  std::unique_ptr<LeadServer> lead_;
  std::unique_ptr<LeadFollower> follow_;
  Rng noise_rng_;
  int follow_fd_registered_ = -1;
  std::uint32_t follow_events_registered_ = 0;
  net::Epoll epoll_;
  net::Fd stop_fd_;
  std::atomic<int> stop_requests_{0};
  static_assert(std::atomic<int>::is_always_lock_free, "stop() is called from signal handlers");

  std::uint64_t start_ns_ = 0;
  std::uint64_t open_at_ns_ = 0;        // start_ns_ + open_delay
  std::uint64_t open_ns_ = 0;           // when the day opened (the duration counts from here)
  std::uint64_t end_ns_ = 0;
  std::uint64_t next_session_poll_ns_ = 0;
  std::uint64_t next_glimpse_poll_ns_ = 0;
  std::uint64_t bg_base_ns_ = 0;        // the background flow's clock origin
  std::uint64_t bg_produced_ = 0;       // its messages since bg_base_ns_
  std::uint64_t bg_messages_ = 0;       // its messages since the start
  std::uint64_t logins_ = 0, login_rejects_ = 0, disconnects_ = 0;
  core::LogLimiter session_log_limiter_{config_.warning_interval_ns, config_.warnings_per_interval};
  std::uint64_t next_session_log_flush_ = 0;
  std::array<std::uint64_t, 16> internal_rejects_{};  // the venue's own requests refused, by reason
  bool outputs_ok_ = true;
  bool started_ = false;
  bool open_ = false;
  bool finished_ = false;
};

// ---- the listener: every engine event is ITCH for everyone and OUCH/bookkeeping for its owner ----

inline void Venue::on_accepted(const match::Accepted& e) noexcept {
  if (is_client_owner(e.owner)) order_entry_.on_accepted(e);
}

inline void Venue::on_rejected(const match::Rejected& e) noexcept {
  if (is_client_owner(e.owner)) {
    order_entry_.on_rejected(e);
  } else {
    ++internal_rejects_[static_cast<std::size_t>(e.reason) % internal_rejects_.size()];
  }
}

inline void Venue::on_book_added(const match::BookAdded& e) noexcept {
  const char* mpid = nullptr;
  if (is_client_owner(e.owner)) {
    mpid = order_entry_.mpid(e.owner, e.user_ref);
  } else if (is_background_owner(e.owner)) {
    background_.on_book_added(e);
    mpid = background_.mpid(e.ref);
  } else {
    probe_.on_book_added(e);
  }
  // A hidden order is never in ITCH until it executes ('P').
  if (e.displayed > 0)
    feed_.add_order(e.symbol, e.ref, match::side_code(e.side), e.displayed, static_cast<std::uint32_t>(e.price), mpid);
}

inline void Venue::on_execution(const match::Execution& e) noexcept {
  if (e.resting_displayed) {
    feed_.executed(e.symbol, e.resting_ref, e.quantity, e.match);
  } else {
    feed_.trade(e.symbol, e.quantity, static_cast<std::uint32_t>(e.price), e.match);
  }
  if (is_client_owner(e.resting_owner)) {
    order_entry_.on_execution(e, true);
  } else if (is_background_owner(e.resting_owner)) {
    background_.on_resting_execution(e);
  } else if (e.resting_leaves == 0) {
    probe_.on_gone();
  }
  if (is_client_owner(e.incoming_owner)) order_entry_.on_execution(e, false);
}

inline void Venue::on_canceled(const match::Canceled& e) noexcept {
  if (e.on_book && e.displayed_decrement > 0) {
    if (e.leaves == 0) {
      feed_.remove(e.symbol, e.ref);
    } else {
      feed_.cancel(e.symbol, e.ref, e.displayed_decrement);
    }
  }
  if (is_client_owner(e.owner)) {
    order_entry_.on_canceled(e);
  } else if (is_background_owner(e.owner)) {
    background_.on_canceled(e);
  } else if (e.leaves == 0) {
    probe_.on_gone();
  }
}

inline void Venue::on_replaced(const match::Replaced& e) noexcept {
  switch (e.outcome) {
    case match::ReplaceOutcome::kPriorityKept:  // same price, fewer shares: a partial cancel
      if (e.old_displayed > e.displayed) feed_.cancel(e.symbol, e.old_ref, e.old_displayed - e.displayed);
      break;
    case match::ReplaceOutcome::kRequeued:
      if (e.displayed > 0)
        feed_.replace(e.symbol, e.old_ref, e.new_ref, e.displayed, static_cast<std::uint32_t>(e.price));
      break;
    case match::ReplaceOutcome::kReentered:  // it leaves the book; executions and an add may follow
      if (e.old_displayed > 0) feed_.remove(e.symbol, e.old_ref);
      break;
  }
  if (is_client_owner(e.owner)) {
    order_entry_.on_replaced(e);
  } else if (is_background_owner(e.owner)) {
    background_.on_replaced(e);
  }
}

inline void Venue::on_refreshed(const match::Refreshed& e) noexcept {
  const char* mpid = nullptr;
  if (is_client_owner(e.owner)) {
    order_entry_.on_refreshed(e);
    mpid = order_entry_.mpid(e.owner, e.user_ref);
  } else if (is_background_owner(e.owner)) {
    background_.on_refreshed(e);
    mpid = background_.mpid(e.new_ref);
  }
  // The old reference's displayed shares reached 0 through its executions; the new slice is a
  // new order at the back of the queue.
  feed_.add_order(e.symbol, e.new_ref, match::side_code(e.side), e.displayed, static_cast<std::uint32_t>(e.price), mpid);
}

inline void VenueListener::on_accepted(const match::Accepted& e) noexcept { venue->on_accepted(e); }
inline void VenueListener::on_rejected(const match::Rejected& e) noexcept { venue->on_rejected(e); }
inline void VenueListener::on_book_added(const match::BookAdded& e) noexcept { venue->on_book_added(e); }
inline void VenueListener::on_execution(const match::Execution& e) noexcept { venue->on_execution(e); }
inline void VenueListener::on_canceled(const match::Canceled& e) noexcept { venue->on_canceled(e); }
inline void VenueListener::on_replaced(const match::Replaced& e) noexcept { venue->on_replaced(e); }
inline void VenueListener::on_refreshed(const match::Refreshed& e) noexcept { venue->on_refreshed(e); }
// The venue enters no stop orders (OUCH 5.0 has none); their events would follow anyway.
inline void VenueListener::on_stop_triggered(const match::StopTriggered&) noexcept {}

}  // namespace hft::venue
