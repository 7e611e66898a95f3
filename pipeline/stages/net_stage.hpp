#pragma once
// Network stage: owns the market-data socket on its backend (io_uring or epoll, a template
// parameter so nothing is virtual per packet), runs the MoldUDP64 receiver session, and hands
// every in-sequence ITCH message to the parser as an RxMessage stamped with the packet's TSC.
//
// Gaps: the session detects them and holds later packets; this stage sends its request packets
// to the venue's re-request server from the same socket (the answer comes back to it) and
// brackets the recovery with feed-stale / feed-fresh markers in the message stream, so every
// book downstream is stale from the moment the gap is seen until the missing messages have been
// applied. If messages are declared lost, the feed stays stale: the books cannot be trusted.
//
// Sources (issue 18: anyone who can reach the feed port could move the session): every datagram's
// sender address comes with it (recvmmsg msg_name; io_uring multishot recvmsg puts the name in
// the buffer). Answers from the re-request server's address go to the session as
// PacketOrigin::kRerequestServer; feed packets are accepted only from the feed source:
//   * `source` configured ("IP:PORT", or "IP" for any port of that host), or
//   * learned: the first sender whose kLearnPackets consecutive packets each delivered new
//     messages in sequence (PacketOutcome::kDelivered), with no other sender's such packet
//     between them. Its own heartbeat, duplicate or suspect jump proves nothing and resets its
//     count. Until a
//     source is learned every sender's packets reach the session, whose plausibility bound still
//     holds. A learned source that has sent nothing for source_silence_ns while another sender
//     sends is forgotten and learning starts again (a restarted venue sends from a new port).
// Packets from any other sender are dropped and counted (foreign).
//
// Markers (issue 10, defect 3): stale / fresh / reset markers are state, not samples: one that
// finds the ring full stays pending and goes out before the next message (deliver() flushes it
// first; poll() retries it), so no message of a book with a hole reaches the parser unbracketed.
// Lost data (declared by the session, or a message the full ring could not take) keeps the feed
// stale: without snapshot recovery the books have a hole. That condition ends only with a new
// session (below): the new day rebuilds every book from sequence 1. It is counted (lost_stale)
// and logged once by log_events().
//
// New session (issue 18, finding 2: a restarted venue publishes a new MoldUDP64 session from a
// new socket, numbered from 1). Packets of another session are dropped by the session; the stage
// believes the new one only when the current session has been silent for source_silence_ns (its
// learned source is forgotten by then) and kNewSessionPackets consecutive data packets of the new
// session came from one sender, each starting where the previous ended. Then: the session
// restarts from sequence 1 (what came before is re-requested), the sender becomes the source, a
// reset marker (kind 3) clears the books downstream, the feed is stale until the new session has
// no hole, and the old day's loss is over. A session fixed in the config never changes. Nothing is logged here: the
// hot path counts and keeps the last numbers; log_events() (cold, e.g. from the stage's counter
// publisher) logs each kind of event once with its numbers when its counter has moved.
#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/moldudp64/session.hpp"
#include "net/backend.hpp"
#include "net/socket.hpp"
#include "pipeline/events.hpp"
#include "pipeline/stages/glimpse_fetch.hpp"
#include "pipeline/stages/subscriptions.hpp"

namespace hft::pipeline {

struct FeedConfig {
  net::Endpoint listen;      // unicast local address:port, or a multicast group:port
  std::string interface;     // multicast interface address ("" = any)
  net::Endpoint rerequest;   // the venue's re-request server
  mold::SessionConfig session;
  bool kernel_timestamps = true;
  int receive_buffer = 8 << 20;
  int socket_busy_poll_us = 0;
  // The feed's sender: fixed when source_fixed (port 0 = any port of that address), else learned.
  bool source_fixed = false;
  sockaddr_in source{};
  std::uint64_t source_silence_ns = 5'000'000'000;  // forget a learned source silent this long
  // GLIMPSE 5.0 snapshot recovery (issue 10): at start and for any loss (see the top of this file).
  GlimpseConfig glimpse;
};

// "IP:PORT" or "IP" (any port). Throws std::invalid_argument.
inline sockaddr_in parse_feed_source(const std::string& text) {
  const bool has_port = text.find(':') != std::string::npos;
  return net::parse_endpoint(has_port ? text : text + ":0").addr;
}

struct NetCountersView {
  std::uint64_t datagrams = 0, messages = 0, overflow = 0, requests_sent = 0, stale_marks = 0;
  std::uint64_t foreign = 0;          // datagrams from a sender other than the feed source: dropped
  std::uint64_t source_changes = 0;   // feed source learned (or forgotten after silence and learned again)
  std::uint64_t sources_forgotten = 0;
  std::uint64_t lost_stale = 0;       // times the feed went stale for the rest of the session (data lost)
  std::uint64_t run_to_completion = 0;  // messages of a watched stock taken through the fused stages at once
  // GLIMPSE snapshot recovery
  std::uint64_t snapshot_recoveries = 0;  // books rebuilt from a snapshot and the buffered feed: fresh again
  std::uint64_t snapshot_attempts = 0;    // snapshots requested
  std::uint64_t snapshot_failures = 0;    // attempts that failed (connect, login, closed, malformed, timeout)
  std::uint64_t snapshot_overflows = 0;   // the live buffer filled during a recovery: restarted
  std::uint64_t snapshot_restarts = 0;    // restarted for a loss during the recovery or a snapshot behind the feed
  std::uint64_t snapshot_skipped = 0;     // live messages already in the snapshot (sequence below it)
};

// The last snapshot recovery's numbers (log_events()).
struct SnapshotRecoveryStats {
  std::uint64_t sequence = 0;        // where the real-time feed took over
  std::uint64_t messages = 0;        // snapshot messages applied
  std::uint64_t orders = 0;          // of which Add Orders
  std::uint64_t buffered = 0;        // live messages held during the recovery
  std::uint64_t applied = 0;         // of which applied after the snapshot (sequence >= its number)
  std::uint64_t fetch_ns = 0;        // request to End of Session
  std::uint64_t total_ns = 0;        // request to fresh
  std::uint64_t attempts = 0;        // attempts this recovery took
};

template <class Backend>
class NetStage {
 public:
  // `venue` tags every RxMessage (issue 14; 0 with one venue).
  NetStage(Backend& backend, const FeedConfig& config, core::SpscRing<RxMessage>& out, core::Histogram& kernel_to_user,
           VenueId venue = 0)
      : venue_(venue),
        backend_(backend),
        out_(out),
        kernel_hist_(kernel_to_user),
        clock_(core::tsc_clock()),
        sink_{this},
        session_(sink_, config.session),
        rerequest_(config.rerequest),
        source_fixed_(config.source_fixed),
        source_(config.source),
        source_silence_ns_(config.source_silence_ns) {
    net::UdpOptions o;
    o.interface = config.interface;
    o.receive_buffer = config.receive_buffer;
    o.busy_poll_us = config.socket_busy_poll_us;
    socket_ = backend_.add_udp(net::udp_receiver(config.listen, o), config.kernel_timestamps);
    if (config.glimpse.enabled) {
      glimpse_ = std::make_unique<GlimpseFetch>(config.glimpse);
      live_.resize(config.glimpse.buffer_messages);
      retry_ns_ = config.glimpse.retry_ns;
      // A late joiner starts from a snapshot instead of replaying the day (issue 10).
      start_recovery_ = true;
      want_stale_ = true;
    }
  }

  int poll() noexcept {
    before_poll();
    const int work = backend_.poll(*this);
    after_poll(work);
    return work;
  }
  // The two halves of poll() around the backend's poll (NetStages, below, polls the backend once
  // for every venue's feed).
  void before_poll() noexcept {
    if (glimpse_ && (recovery_ != Recovery::kNone || start_recovery_)) [[unlikely]] drive_recovery();
    flush_markers();
  }
  void after_poll(int work) noexcept {
    if (session_.in_recovery() || session_.suspect_pending() || work != 0) {
      mold::RequestPacket req;
      // The pass's time (core::pass_rdtsc): request timeouts are milliseconds, and the packets
      // just handled were stamped with their own read.
      if (session_.poll(clock_.to_monotonic_ns(core::pass_rdtsc()), req)) {
        std::uint8_t bytes[mold::kRequestSize];
        req.write(bytes);
        if (backend_.send_to(socket_, bytes, sizeof bytes, rerequest_.addr)) ++counters_.requests_sent;
      }
    }
  }
  [[nodiscard]] const char* name() const noexcept { return "net"; }
  void on_thread_start() noexcept { backend_.on_thread_start(); }

  // ---- backend handler --------------------------------------------------------------------
  void on_datagram(const net::Datagram& d) noexcept {
    if (d.socket != socket_) return;
    ++counters_.datagrams;
    packet_tsc_ = core::rdtsc();
    const std::uint64_t mono = clock_.to_monotonic_ns(packet_tsc_);
    kernel_delay_ns_ = 0;
    if (d.kernel_rx_ns != 0) {
      // Kernel timestamps are CLOCK_REALTIME: compare with that clock read now (vDSO, no
      // syscall), not with the TSC, whose calibrated rate drifts from it by microseconds a minute.
      timespec rt{};
      ::clock_gettime(CLOCK_REALTIME, &rt);
      const std::int64_t user_realtime = rt.tv_sec * 1'000'000'000ll + rt.tv_nsec;
      const std::int64_t delay = user_realtime - static_cast<std::int64_t>(d.kernel_rx_ns);
      kernel_delay_ns_ = delay <= 0 ? 0 : delay > 0xffffffffll ? 0xffffffffu : static_cast<std::uint32_t>(delay);
      kernel_hist_.record(kernel_delay_ns_);
    }
    mold::PacketOutcome outcome;
    if (same_sender(d.from, rerequest_.addr)) {
      outcome = session_.on_packet(d.data, d.size, mono, mold::PacketOrigin::kRerequestServer);
    } else if (source_known_ && same_sender(d.from, source_)) {
      last_source_ns_ = mono;
      outcome = session_.on_packet(d.data, d.size, mono);
    } else if (!learning(mono)) {
      ++counters_.foreign;
      last_foreign_ = d.from;
      return;
    } else {
      outcome = session_.on_packet(d.data, d.size, mono);
      learn(d.from, outcome, mono);
    }
    if (outcome == mold::PacketOutcome::kSessionMismatch) {
      new_session_candidate(d, mono);
    } else if (outcome != mold::PacketOutcome::kMalformed && outcome != mold::PacketOutcome::kSuspect) {
      last_session_ns_ = mono;
    }
    if (want_stale_ && !lost_ && !session_.in_recovery() && recovery_ == Recovery::kNone && !start_recovery_)
      want_stale_ = false;  // the gap is filled
    flush_markers();
  }
  void on_stream_data(int, const std::uint8_t*, std::size_t) noexcept {}
  void on_stream_closed(int, int) noexcept {}

  // ---- MoldUDP64 session handler (through SessionSink) --------------------------------------
  void deliver(std::uint64_t sequence, const std::uint8_t* bytes, std::size_t length) noexcept {
    if (recovery_ != Recovery::kNone || start_recovery_) [[unlikely]] {
      hold_live(sequence, bytes, length);
      return;
    }
    if (sequence < skip_below_) [[unlikely]] {  // already in the snapshot the books were rebuilt from
      ++counters_.snapshot_skipped;
      return;
    }
    RxMessage* m = flush_markers() ? out_.claim() : nullptr;
    if (m == nullptr || length > m->bytes.size()) {
      // The parser fell a whole ring behind (or a message is not ITCH 5.0-sized): a message is
      // lost for the books, exactly like a declared MoldUDP64 loss.
      ++counters_.overflow;
      data_lost();
      return;
    }
    m->origin_tsc = packet_tsc_;
    m->sequence = sequence;
    m->kernel_delay_ns = kernel_delay_ns_;
    m->length = static_cast<std::uint8_t>(length);
    m->kind = 0;
    m->venue = venue_;
    std::memcpy(m->bytes.data(), bytes, length);
    out_.publish();
    ++counters_.messages;
    // Run to completion (issue 17): a message of a stock a strategy watches goes through the rest
    // of a fused thread's stages now, before the rest of its packet is even handed on.
    if (downstream_ != nullptr && length >= 3 && subs_->test(static_cast<Locate>((bytes[1] << 8) | bytes[2])))
        [[unlikely]] {
      ++counters_.run_to_completion;
      downstream_(downstream_ctx_);
    }
  }
  // Start-up only, on a thread that runs every stage (net first): `downstream(ctx)` runs the other
  // stages once (pipeline/stages/run_to_completion.hpp). `subs`: the stocks the strategies watch.
  void set_run_to_completion(const Subscriptions* subs, void (*downstream)(void*) noexcept, void* ctx) noexcept {
    subs_ = subs;
    downstream_ = subs != nullptr ? downstream : nullptr;
    downstream_ctx_ = ctx;
  }
  void gap_seen() noexcept { want_stale_ = true; }
  void messages_lost() noexcept { data_lost(); }

  [[nodiscard]] const mold::SessionCounters& session_counters() const noexcept { return session_.counters(); }
  [[nodiscard]] const NetCountersView& counters() const noexcept { return counters_; }
  // The feed is stale (or a stale marker is waiting for room in the ring).
  [[nodiscard]] bool stale() const noexcept { return stale_ || want_stale_; }
  // Data was lost in this session: stale until a new session.
  [[nodiscard]] bool lost() const noexcept { return lost_; }
  // A snapshot recovery is under way (or about to start).
  [[nodiscard]] bool recovering() const noexcept { return recovery_ != Recovery::kNone || start_recovery_; }
  [[nodiscard]] const SnapshotRecoveryStats& last_recovery() const noexcept { return last_recovery_; }
  [[nodiscard]] bool in_recovery() const noexcept { return session_.in_recovery(); }
  [[nodiscard]] std::uint64_t next_expected() const noexcept { return session_.next_expected(); }
  // The MoldUDP64 session being followed (10 characters; blanks before the first packet).
  [[nodiscard]] std::string_view feed_session() const noexcept { return session_.session().view(); }
  [[nodiscard]] int socket() const noexcept { return socket_; }
  [[nodiscard]] VenueId venue() const noexcept { return venue_; }
  [[nodiscard]] bool source_known() const noexcept { return source_known_; }
  [[nodiscard]] const sockaddr_in& source() const noexcept { return source_; }

  // Cold path (formats, logs): one line for each kind of event whose counters moved since the
  // last call, with its numbers. Call it from the stage's own thread at a human rate.
  void log_events() {
    const mold::SessionCounters& m = session_.counters();
    Logged now{counters_.foreign, counters_.source_changes, counters_.sources_forgotten, m.suspect, m.suspect_confirmed,
               m.suspect_refuted, m.suspect_expired, m.phantom, m.lost, m.session_mismatches, counters_.lost_stale,
               m.session_changes};
    if (now.sources_forgotten != logged_.sources_forgotten)
      core::log::warn("feed: source {} silent for {} ms while others sent: forgotten, learning again",
                      address(source_), source_silence_ns_ / 1'000'000);
    if (now.source_changes != logged_.source_changes && source_known_)
      core::log::info("feed: source learned: {} ({} consecutive packets delivering messages in sequence)",
                      address(source_), kLearnPackets);
    // Foreign datagrams and packets of another session can arrive all the time (a restarted
    // venue before its session is believed, a neighbour's feed): at most one line a second for
    // these two, with the count since the last line and the total.
    const std::uint64_t t = core::monotonic_ns();
    const bool repeat_ok = t - repeat_logged_ns_ >= kRepeatLogIntervalNs;
    std::uint64_t foreign_logged = logged_.foreign, mismatches_logged = logged_.mismatches;
    if (now.foreign != logged_.foreign && repeat_ok) {
      foreign_logged = now.foreign;
      core::log::warn("feed: {} datagrams from senders other than the feed source {} dropped ({} in all; last from {})",
                      now.foreign - logged_.foreign, source_known_ ? address(source_) : std::string("(not learned)"),
                      now.foreign, address(last_foreign_));
    }
    if (now.suspect != logged_.suspect) {
      const mold::SuspectJump& j = session_.suspect();
      core::log::warn("feed: {} packets beyond the plausibility bound of {} messages dropped as suspect ({} in all); "
                      "last jump to sequence {} while next expected is {}; jumps confirmed {}, refuted by the "
                      "re-request server {}, expired unconfirmed {}",
                      now.suspect - logged_.suspect, session_.config().max_sequence_jump, now.suspect, j.first,
                      session_.next_expected(), now.suspect_confirmed, now.suspect_refuted, now.suspect_expired);
    } else if (now.suspect_confirmed != logged_.suspect_confirmed || now.suspect_refuted != logged_.suspect_refuted ||
               now.suspect_expired != logged_.suspect_expired) {
      core::log::warn("feed: suspect jumps confirmed {}, refuted by the re-request server {}, expired unconfirmed {}",
                      now.suspect_confirmed, now.suspect_refuted, now.suspect_expired);
    }
    if (now.phantom != logged_.phantom)
      core::log::warn("feed: the re-request server denied {} messages believed missing: withdrawn, not lost ({} in all)",
                      now.phantom - logged_.phantom, now.phantom);
    if (now.lost != logged_.lost)
      core::log::error("feed: {} messages declared lost (the re-request server did not serve them within {} ms; {} in "
                       "all); next expected {}; the books are stale",
                       now.lost - logged_.lost, session_.config().recovery_deadline_ns / 1'000'000, now.lost,
                       session_.next_expected());
    if (now.lost_stale != logged_.lost_stale) {
      if (glimpse_) {
        core::log::error("feed: market data lost in session {} (next expected {}): every book is stale until rebuilt "
                         "from a GLIMPSE snapshot; {} times in all", session_name(), session_.next_expected(),
                         now.lost_stale);
      } else {
        core::log::error("feed: market data lost in session {} (next expected {}): every book is stale and no strategy "
                         "trades on this feed until a new session rebuilds the books (no [feed] glimpse configured); "
                         "{} times in all", session_name(), session_.next_expected(), now.lost_stale);
      }
    }
    if (counters_.snapshot_recoveries != logged_snapshot_.snapshot_recoveries) {
      const SnapshotRecoveryStats& r = last_recovery_;
      core::log::info("feed: books rebuilt from a GLIMPSE snapshot: {} messages ({} orders) up to sequence {}, then {} "
                      "of {} live messages held; fetched in {:.1f} ms, fresh after {:.1f} ms, {} attempts; {} "
                      "recoveries in all", r.messages, r.orders, r.sequence, r.applied, r.buffered,
                      static_cast<double>(r.fetch_ns) / 1e6, static_cast<double>(r.total_ns) / 1e6, r.attempts,
                      counters_.snapshot_recoveries);
    }
    if (counters_.snapshot_failures != logged_snapshot_.snapshot_failures)
      core::log::warn("feed: {} GLIMPSE snapshot attempts failed (last: {}{}); retried every {} ms; {} in all",
                      counters_.snapshot_failures - logged_snapshot_.snapshot_failures, to_string(last_failure_),
                      last_failure_errno_ != 0 ? fmt::format(", {}", std::strerror(last_failure_errno_)) : std::string(),
                      retry_ns_ / 1'000'000, counters_.snapshot_failures);
    if (counters_.snapshot_overflows != logged_snapshot_.snapshot_overflows ||
        counters_.snapshot_restarts != logged_snapshot_.snapshot_restarts)
      core::log::warn("feed: GLIMPSE recovery restarted: {} live-buffer overflows, {} losses during a recovery or "
                      "snapshots behind the feed (in all)", counters_.snapshot_overflows, counters_.snapshot_restarts);
    logged_snapshot_ = counters_;
    if (now.session_changes != logged_.session_changes)
      core::log::warn("feed: new MoldUDP64 session {} believed from {} (the old session silent for {} ms, {} "
                      "consecutive in-sequence packets): books reset, stale until rebuilt from sequence 1; {} session "
                      "changes in all", session_name(), address(source_), source_silence_ns_ / 1'000'000,
                      kNewSessionPackets, now.session_changes);
    if (now.mismatches != logged_.mismatches && repeat_ok) {
      mismatches_logged = now.mismatches;
      core::log::warn("feed: {} packets of another MoldUDP64 session dropped ({} in all)", now.mismatches - logged_.mismatches,
                      now.mismatches);
    }
    if (foreign_logged != logged_.foreign || mismatches_logged != logged_.mismatches) repeat_logged_ns_ = t;
    logged_ = now;
    logged_.foreign = foreign_logged;
    logged_.mismatches = mismatches_logged;
  }

 private:
  static constexpr int kLearnPackets = 3;
  static constexpr std::uint64_t kRepeatLogIntervalNs = 1'000'000'000;
  static constexpr int kNewSessionPackets = 3;

  std::string session_name() const {
    const auto& id = session_.session();
    std::string n(reinterpret_cast<const char*>(&id), sizeof id);
    for (char& c : n)
      if (c < 0x20 || c > 0x7e) c = '?';
    return n;
  }

  void data_lost() noexcept {
    if (!lost_) ++counters_.lost_stale;
    lost_ = true;
    want_stale_ = true;
    if (glimpse_) {
      // A book that lost data is rebuilt from a snapshot. During a recovery, the held live
      // messages have a hole now: start over.
      if (recovery_ != Recovery::kNone || start_recovery_) {
        ++counters_.snapshot_restarts;
        restart_recovery();
      } else {
        start_recovery_ = true;
      }
    }
  }

  // ---- GLIMPSE snapshot recovery (cold: only while the feed is stale) ---------------------------
  enum class Recovery : std::uint8_t { kNone, kFetching, kWaitRetry, kReplaying };
  struct LiveMessage {
    std::uint64_t sequence;
    std::uint8_t length;
    std::array<std::uint8_t, 50> bytes;
  };

  void hold_live(std::uint64_t sequence, const std::uint8_t* bytes, std::size_t length) noexcept {
    if (live_count_ == live_.size() || length > sizeof(LiveMessage::bytes)) {
      ++counters_.snapshot_overflows;
      restart_recovery();
      return;
    }
    LiveMessage& l = live_[(live_head_ + live_count_) % live_.size()];
    l.sequence = sequence;
    l.length = static_cast<std::uint8_t>(length);
    std::memcpy(l.bytes.data(), bytes, length);
    ++live_count_;
    ++recovery_stats_.buffered;
  }

  void restart_recovery() noexcept {
    live_head_ = live_count_ = 0;
    recovery_ = Recovery::kNone;
    start_recovery_ = true;
    if (glimpse_) glimpse_->abort();
  }

  std::uint64_t now_ns() const noexcept { return clock_.to_monotonic_ns(core::pass_rdtsc()); }

  void drive_recovery() noexcept {
    const std::uint64_t now = now_ns();
    if (start_recovery_) {
      start_recovery_ = false;
      if (recovery_began_ns_ == 0) {
        recovery_began_ns_ = now;
        recovery_stats_ = SnapshotRecoveryStats{};
      }
      live_head_ = live_count_ = 0;
      recovery_ = Recovery::kFetching;
      fetch_began_ns_ = now;
      ++counters_.snapshot_attempts;
      ++recovery_stats_.attempts;
      glimpse_->start(now);
    }
    switch (recovery_) {
      case Recovery::kNone: return;
      case Recovery::kWaitRetry:
        if (now - retry_at_ns_ < (std::uint64_t{1} << 63)) start_recovery_ = true;
        return;
      case Recovery::kFetching: {
        const FetchStatus st = glimpse_->poll(now);
        if (st == FetchStatus::kFailed || st == FetchStatus::kIdle) {
          ++counters_.snapshot_failures;
          last_failure_ = glimpse_->failure();
          last_failure_errno_ = glimpse_->failure_errno();
          recovery_ = Recovery::kWaitRetry;
          retry_at_ns_ = now + retry_ns_;
          live_head_ = live_count_ = 0;  // the next attempt holds the feed from its own start
          return;
        }
        if (st != FetchStatus::kDone) return;
        snapshot_done(now);
        return;
      }
      case Recovery::kReplaying: replay(now); return;
    }
  }

  // The snapshot is complete: it may be applied when every live message from its sequence on is
  // held or still to come. Messages below it that are still to come are skipped.
  void snapshot_done(std::uint64_t now) noexcept {
    const std::uint64_t n = glimpse_->sequence();
    recovery_stats_.fetch_ns = now - fetch_began_ns_;
    const bool behind = live_count_ != 0 ? live_[live_head_].sequence > n
                                         : session_.started() && session_.next_expected() > n;
    if (behind || n == 0) {  // the feed moved past the snapshot before it was held: a newer one
      ++counters_.snapshot_restarts;
      restart_recovery();
      return;
    }
    if (!session_.started()) session_.start_at(n);
    skip_below_ = n;
    recovery_stats_.sequence = n;
    recovery_stats_.orders = glimpse_->counters().add_orders;
    replay_pos_ = 0;
    recovery_ = Recovery::kReplaying;
    pending_reset_ = true;  // the books restart empty, then the snapshot, then the held feed
    want_stale_ = true;
    replay(now);
  }

  // Pushes the snapshot, then the held live messages, into the ring as far as it has room.
  void replay(std::uint64_t now) noexcept {
    if (!flush_markers()) return;
    const std::uint8_t* base = glimpse_->data();
    while (replay_pos_ < glimpse_->size()) {
      RxMessage* m = out_.claim();
      if (m == nullptr) return;
      const std::uint8_t len = base[replay_pos_];
      m->origin_tsc = core::pass_rdtsc();
      m->sequence = 0;
      m->kernel_delay_ns = 0;
      m->length = len;
      m->kind = 0;
      m->venue = venue_;
      std::memcpy(m->bytes.data(), base + replay_pos_ + 1, len);
      out_.publish();
      replay_pos_ += 1u + len;
      ++recovery_stats_.messages;
    }
    while (live_count_ != 0) {
      const LiveMessage& l = live_[live_head_];
      if (l.sequence >= skip_below_) {
        RxMessage* m = out_.claim();
        if (m == nullptr) return;
        m->origin_tsc = core::pass_rdtsc();
        m->sequence = l.sequence;
        m->kernel_delay_ns = 0;
        m->length = l.length;
        m->kind = 0;
        m->venue = venue_;
        std::memcpy(m->bytes.data(), l.bytes.data(), l.length);
        out_.publish();
        ++counters_.messages;
        ++recovery_stats_.applied;
      } else {
        ++counters_.snapshot_skipped;
      }
      live_head_ = (live_head_ + 1) % live_.size();
      --live_count_;
    }
    // Everything held is applied: the books are whole again.
    recovery_ = Recovery::kNone;
    live_head_ = 0;
    lost_ = false;
    if (!session_.in_recovery()) want_stale_ = false;
    recovery_stats_.total_ns = now - recovery_began_ns_;
    last_recovery_ = recovery_stats_;
    recovery_began_ns_ = 0;
    ++counters_.snapshot_recoveries;
    flush_markers();
  }

  // A data packet of another session (see the header comment).
  void new_session_candidate(const net::Datagram& d, std::uint64_t now_ns) noexcept {
    mold::PacketHeader h;
    if (!mold::PacketHeader::parse(d.data, d.size, h) || h.kind() != mold::PacketKind::kMessages) return;
    const std::uint64_t end = h.sequence + h.message_count();
    const bool continues = candidate_session_packets_ != 0 && h.session == candidate_session_ &&
                           exact_sender(d.from, candidate_session_from_) && h.sequence == candidate_session_end_;
    if (!continues) {
      candidate_session_ = h.session;
      candidate_session_from_ = d.from;
      candidate_session_packets_ = 0;
    }
    candidate_session_end_ = end;
    if (++candidate_session_packets_ < kNewSessionPackets) return;
    if (now_ns < last_session_ns_ || now_ns - last_session_ns_ < source_silence_ns_) return;  // the old one lives
    if (!session_.restart(h.session)) return;  // counted by the session (session_changes)
    candidate_session_packets_ = 0;
    if (!source_fixed_) {
      source_ = d.from;
      source_known_ = true;
    }
    last_source_ns_ = last_session_ns_ = now_ns;
    lost_ = false;
    if (glimpse_ && (recovery_ != Recovery::kNone || start_recovery_)) {  // the new day rebuilds from 1
      glimpse_->abort();
      recovery_ = Recovery::kNone;
      start_recovery_ = false;
      recovery_began_ns_ = 0;
      live_head_ = live_count_ = 0;
    }
    skip_below_ = 0;
    pending_reset_ = true;
    want_stale_ = true;
    stale_ = false;  // the reset marker goes first, then "stale" again
    session_.on_packet(d.data, d.size, now_ns);  // opens the gap from 1: re-requested
  }

  // Publishes the pending reset marker, then the stale/fresh marker if the wanted state differs
  // from the published one. False while one still waits for room.
  bool flush_markers() noexcept {
    if (pending_reset_) {
      if (!mark(3)) return false;
      pending_reset_ = false;
    }
    if (want_stale_ != stale_ && !mark(want_stale_ ? 1 : 2)) return false;
    return true;
  }

  struct Logged {
    std::uint64_t foreign = 0, source_changes = 0, sources_forgotten = 0, suspect = 0, suspect_confirmed = 0,
                  suspect_refuted = 0, suspect_expired = 0, phantom = 0, lost = 0, mismatches = 0, lost_stale = 0,
                  session_changes = 0;
  };

  static std::string address(const sockaddr_in& a) {
    char ip[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
  }

  // The same socket: address and port (a candidate is one sender, not one host).
  static bool exact_sender(const sockaddr_in& a, const sockaddr_in& b) noexcept {
    return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
  }
  // Port 0 in `want` matches any port of that address.
  static bool same_sender(const sockaddr_in& from, const sockaddr_in& want) noexcept {
    return from.sin_addr.s_addr == want.sin_addr.s_addr && (want.sin_port == 0 || from.sin_port == want.sin_port);
  }

  // True when a packet from an unknown sender may reach the session: no fixed source, and none
  // learned or the learned one silent for source_silence_ns (then it is forgotten).
  bool learning(std::uint64_t now_ns) noexcept {
    if (source_fixed_) return false;
    if (!source_known_) return true;
    if (now_ns < last_source_ns_ || now_ns - last_source_ns_ < source_silence_ns_) return false;
    source_known_ = false;
    candidate_packets_ = 0;
    ++counters_.sources_forgotten;
    return true;
  }

  void learn(const sockaddr_in& from, mold::PacketOutcome outcome, std::uint64_t now_ns) noexcept {
    const bool same = candidate_packets_ != 0 && exact_sender(from, candidate_);
    if (outcome != mold::PacketOutcome::kDelivered) {
      if (same) candidate_packets_ = 0;
      return;
    }
    if (!same) {
      candidate_ = from;
      candidate_packets_ = 0;
    }
    if (++candidate_packets_ < kLearnPackets) return;
    source_ = candidate_;
    source_known_ = true;
    last_source_ns_ = now_ns;
    candidate_packets_ = 0;
    ++counters_.source_changes;
  }

  // kind 1: stale, 2: fresh, 3: new session. False when the ring is full (flush_markers() retries).
  bool mark(std::uint8_t kind) noexcept {
    RxMessage* m = out_.claim();
    if (m == nullptr) return false;
    *m = RxMessage{};
    m->origin_tsc = packet_tsc_;
    m->kind = kind;
    m->venue = venue_;
    out_.publish();
    if (kind != 3) stale_ = kind == 1;
    ++counters_.stale_marks;
    return true;
  }

  // The session's handler; a separate type because the session needs a complete one.
  struct SessionSink {
    NetStage* stage;
    void on_message(std::uint64_t seq, const std::uint8_t* p, std::size_t n) noexcept { stage->deliver(seq, p, n); }
    void on_gap(std::uint64_t, std::uint64_t) noexcept { stage->gap_seen(); }
    void on_lost(std::uint64_t, std::uint64_t) noexcept { stage->messages_lost(); }
  };

  VenueId venue_ = 0;
  Backend& backend_;
  core::SpscRing<RxMessage>& out_;
  core::Histogram& kernel_hist_;
  const core::TscClock& clock_;
  SessionSink sink_;
  const Subscriptions* subs_ = nullptr;
  void (*downstream_)(void*) noexcept = nullptr;
  void* downstream_ctx_ = nullptr;
  mold::Session<SessionSink> session_;
  net::Endpoint rerequest_;
  bool source_fixed_ = false;
  bool source_known_ = source_fixed_;
  sockaddr_in source_{};
  std::uint64_t source_silence_ns_ = 0;
  std::uint64_t last_source_ns_ = 0;
  sockaddr_in candidate_{};
  int candidate_packets_ = 0;
  sockaddr_in last_foreign_{};
  Logged logged_;
  NetCountersView logged_snapshot_;
  std::uint64_t repeat_logged_ns_ = 0;  // when log_events() last wrote a foreign / other-session line
  int socket_ = -1;
  std::uint64_t packet_tsc_ = 0;
  std::uint32_t kernel_delay_ns_ = 0;
  bool stale_ = false;       // what the last marker published said
  bool want_stale_ = false;  // what the feed is: a marker is pending while they differ
  bool pending_reset_ = false;
  bool lost_ = false;
  std::uint64_t last_session_ns_ = 0;  // last packet of the current session
  mold::SessionId candidate_session_{};
  sockaddr_in candidate_session_from_{};
  std::uint64_t candidate_session_end_ = 0;
  int candidate_session_packets_ = 0;
  NetCountersView counters_;
  // GLIMPSE snapshot recovery
  std::unique_ptr<GlimpseFetch> glimpse_;
  std::vector<LiveMessage> live_;
  std::size_t live_head_ = 0, live_count_ = 0;
  Recovery recovery_ = Recovery::kNone;
  bool start_recovery_ = false;
  std::uint64_t skip_below_ = 0;
  std::size_t replay_pos_ = 0;
  std::uint64_t retry_ns_ = 0, retry_at_ns_ = 0;
  std::uint64_t recovery_began_ns_ = 0, fetch_began_ns_ = 0;
  SnapshotRecoveryStats recovery_stats_, last_recovery_;
  FetchFailure last_failure_ = FetchFailure::kNone;
  int last_failure_errno_ = 0;
};

// Issue 14: several venues' feeds on one backend and one output ring. Each venue keeps its own
// NetStage (socket, MoldUDP64 session, sequence, gap and re-request state, source, GLIMPSE
// recovery, stale / fresh markers): a gap or a stale feed is that venue's alone, and every
// RxMessage says its venue. The backend is polled once per pass and each datagram goes to the
// feed whose socket it arrived on. With one venue hftd runs a NetStage itself (nothing of this on
// its hot path).
template <class Backend>
class NetStages {
 public:
  // `first`: venue 0's stage (the appliance's own, which its control plane reads); `others`: the
  // feeds of venues 1, 2, ... (on the same backend and ring).
  NetStages(Backend& backend, NetStage<Backend>& first, const std::vector<FeedConfig>& others,
            core::SpscRing<RxMessage>& out, core::Histogram& kernel_to_user)
      : backend_(&backend) {
    feeds_.push_back(&first);
    for (std::size_t i = 0; i < others.size() && feeds_.size() < kMaxVenues; ++i) {
      owned_.push_back(std::make_unique<NetStage<Backend>>(backend, others[i], out, kernel_to_user,
                                                           static_cast<VenueId>(feeds_.size())));
      feeds_.push_back(owned_.back().get());
    }
  }

  int poll() noexcept {
    for (auto& f : feeds_) f->before_poll();
    const int work = backend_->poll(*this);
    for (auto& f : feeds_) f->after_poll(work);
    return work;
  }
  [[nodiscard]] const char* name() const noexcept { return "net"; }
  void on_thread_start() noexcept { backend_->on_thread_start(); }

  void on_datagram(const net::Datagram& d) noexcept {
    for (auto& f : feeds_)
      if (d.socket == f->socket()) {
        f->on_datagram(d);
        return;
      }
  }
  void on_stream_data(int, const std::uint8_t*, std::size_t) noexcept {}
  void on_stream_closed(int, int) noexcept {}

  [[nodiscard]] std::size_t size() const noexcept { return feeds_.size(); }
  [[nodiscard]] NetStage<Backend>& feed(std::size_t venue) noexcept { return *feeds_[venue]; }
  [[nodiscard]] const NetStage<Backend>& feed(std::size_t venue) const noexcept { return *feeds_[venue]; }
  void log_events() {
    for (auto& f : feeds_) f->log_events();
  }

 private:
  Backend* backend_ = nullptr;
  std::vector<NetStage<Backend>*> feeds_;  // by venue id
  std::vector<std::unique_ptr<NetStage<Backend>>> owned_;
};

}  // namespace hft::pipeline
