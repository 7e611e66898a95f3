#pragma once
// MoldUDP64 receiver session (../shared/specs/moldudp64-1.0.txt, "Receiver Example";
// PROTOCOLS.md §2.2).
//
// Feed it every downstream packet (multicast and retransmissions alike) with on_packet(), and call
// poll() after each packet and from the idle loop: it returns the request packet to send when one
// is due. The caller passes the time in both; the session reads no clock and makes no syscall.
//
//  * The session is learned from the first valid packet (or fixed in the config); packets of
//    another session are counted and dropped.
//  * Messages reach Handler::on_message(sequence, bytes, length) exactly once, in sequence order
//    (during the call, next_expected() is already sequence + 1).
//    A packet that starts before the next expected number has its new tail delivered and its
//    head counted as duplicates (packets may overlap).
//  * A heartbeat (count 0) or end of session (count 0xFFFF) carries the next expected sequence
//    number (spec p.6), so one that is ahead reveals a gap. End of session is reported;
//    re-requests stay possible (spec: "the last chance to ensure that all messages have been
//    received").
//  * A gap starts recovery: packets beyond it are copied into a bounded store allocated at
//    construction, and request packets ask for the missing range in chunks of at most
//    max_request_count messages (the server answers with what fits in one packet, spec p.7, so
//    the rest is asked for as soon as a chunk arrives) and again after request_timeout_ns without
//    progress. When retransmissions fill the hole, the stored packets follow in order.
//  * When the store is full, or no progress was made for recovery_deadline_ns, the head of the
//    gap is declared lost (counted, Handler::on_lost) and delivery skips to the next data held.
//    The re-request server has no "gone" reply (rerequest_server.hpp): it stays silent about
//    messages it no longer holds, so its silence past the deadline is its "cannot serve".
//
// One packet never moves the session on its own word (STYLE habit 16; issue 18: a heartbeat
// forged at sequence 2^63 used to open a gap of 2^63 messages, declared lost a second later,
// after which every real message was a "duplicate" for the rest of the day):
//
//  * Plausibility bound. A packet from the feed whose sequence lies more than max_sequence_jump
//    beyond the highest message known to exist is suspect: counted, not delivered, not held, no
//    gap, no end of session. The session keeps one suspect jump (the first; later unrelated ones
//    are counted only) and asks the re-request server about it: a request for the one message
//    at its sequence, repeated every request_timeout_ns.
//  * Confirmation. The jump is believed when the re-request server's answer says the stream
//    reaches it (a data packet reaching it, or a heartbeat whose next sequence is past it), or
//    when confirm_packets further feed packets carry messages that continue it (each starts at or
//    after where the jump's packets ended, within the bound): the confirming packet is then
//    applied as usual and the gap before it is recovered as any other. A repeated heartbeat
//    advances nothing and never confirms. Refuted (the server's heartbeat says its stream ends
//    at or before the jump) or unconfirmed after recovery_deadline_ns, the jump is dropped.
//  * Answers of the re-request server (PacketOrigin::kRerequestServer: the caller knows them by
//    their source address) are believed without the bound. A heartbeat answer always means "no
//    message from the sequence you asked for on" (the server sends one only for a request at or
//    beyond its next sequence), so one that comes during a recovery with its next sequence at or
//    before ours says the hole, and anything held beyond it, never existed: withdrawn and
//    counted as phantom, not declared lost.
//
// Malformed packets (header shorter than 20 bytes, a block length past the end, a count larger
// than the blocks present, a sequence range that wraps) are counted and dropped whole, before any
// of their bytes is trusted. Nothing allocates after construction.
//
// Optional handler members: on_gap(first, end) when a new missing range [first, end) is seen,
// on_lost(first, end) when one is given up, on_end_of_session(next_sequence).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gateways/common/endian.hpp"
#include "gateways/moldudp64/packet.hpp"

namespace hft::mold {

// The most messages one response of kMaxPayload bytes can hold: ITCH's smallest messages (S, W)
// are 12 bytes, 14 with their length prefix.
inline constexpr std::uint16_t kDefaultMaxRequestCount = (kMaxPayload - kHeaderSize) / (2 + 12);

struct SessionConfig {
  bool fixed_session = false;  // accept only `session` (else: learn it from the first packet)
  SessionId session;
  std::uint64_t first_sequence = 0;  // next expected at start (a restart); 0 = the first packet's
  std::size_t store_packets = 1024;  // packets held behind a gap
  std::size_t store_packet_bytes = kMaxPayload;  // larger packets are not held (re-requested)
  std::uint16_t max_request_count = kDefaultMaxRequestCount;
  std::uint64_t request_timeout_ns = 50'000'000;       // resend a request after this without progress
  std::uint64_t recovery_deadline_ns = 1'000'000'000;  // give up the head of a gap after this without progress
  // Plausibility bound: a feed packet further than this beyond the highest message known to exist
  // is suspect until confirmed. Seconds of a busy TotalView day; a larger genuine jump only waits
  // for the re-request server's answer (one round trip) or the next confirm_packets packets.
  std::uint64_t max_sequence_jump = 1'000'000;
  // Feed packets that must continue a suspect jump before it is believed without the server;
  // 0: only the re-request server's answer confirms.
  std::uint32_t confirm_packets = 2;
};

// Where a packet came from, as the caller knows it by the datagram's source address.
enum class PacketOrigin : std::uint8_t {
  kFeed,             // the feed (multicast or unicast stream)
  kRerequestServer,  // an answer of the configured re-request server
};

// Throws std::invalid_argument naming the field at fault.
void validate(const SessionConfig& config);

struct SessionCounters {
  std::uint64_t packets = 0;             // valid packets of the session, heartbeats included
  std::uint64_t messages = 0;            // delivered to the handler
  std::uint64_t duplicates = 0;          // messages dropped as already delivered or already held
  std::uint64_t gaps = 0;                // missing ranges detected
  std::uint64_t recovered = 0;           // missing messages that arrived after all
  std::uint64_t lost = 0;                // missing messages given up
  std::uint64_t heartbeats = 0;
  std::uint64_t end_of_session = 0;      // end-of-session packets
  std::uint64_t session_mismatches = 0;  // packets of another session, dropped
  std::uint64_t malformed = 0;           // dropped whole
  std::uint64_t requests = 0;            // request packets produced
  std::uint64_t request_retries = 0;     // of which repeats after request_timeout_ns
  std::uint64_t buffered = 0;            // packets held behind a gap
  std::uint64_t store_overflows = 0;     // a packet arrived with the store full: losses declared
  std::uint64_t deadline_expiries = 0;   // recovery_deadline_ns passed: losses declared
  std::uint64_t oversize = 0;            // packets ahead of a gap too large for a store slot
  std::uint64_t suspect = 0;             // feed packets beyond max_sequence_jump: not applied
  std::uint64_t suspect_confirmed = 0;   // suspect jumps believed (server answer or following packets)
  std::uint64_t suspect_refuted = 0;     // suspect jumps the server's answer denied
  std::uint64_t suspect_expired = 0;     // suspect jumps unconfirmed after recovery_deadline_ns
  std::uint64_t probes = 0;              // requests asking the server about a suspect jump
  std::uint64_t phantom = 0;             // believed-missing messages the server's answer denied: withdrawn
  std::uint64_t session_changes = 0;     // restart(): a new session believed
};

enum class PacketOutcome : std::uint8_t {
  kDelivered,        // new messages delivered (perhaps after duplicates, perhaps held ones too)
  kDuplicate,        // nothing new
  kBuffered,         // ahead of a gap: held
  kHeartbeat,
  kEndOfSession,
  kDropped,          // ahead of a gap and larger than a store slot
  kSessionMismatch,
  kMalformed,
  kSuspect,          // beyond the plausibility bound, unconfirmed: nothing applied
};

// The suspect jump the session is asking about (see the header comment).
struct SuspectJump {
  std::uint64_t first = 0;     // its first sequence (a heartbeat's next sequence)
  std::uint64_t end = 0;       // one past the last message its agreeing packets carried
  std::uint64_t since_ns = 0;  // first seen
  std::uint64_t probe_ns = 0;  // last probe sent
  std::uint32_t agreeing = 0;  // following feed packets that continued it
  bool active = false;
  bool probed = false;
};

struct SequenceRange {
  std::uint64_t first = 0;  // [first, end)
  std::uint64_t end = 0;
  [[nodiscard]] std::uint64_t size() const noexcept { return end - first; }
  [[nodiscard]] bool empty() const noexcept { return end <= first; }
};

// Packets held behind a gap: fixed slots allocated once, kept sorted by first sequence in a ring
// of entries (packets arrive mostly in order, so insertion is an append).
class PacketStore {
 public:
  struct Entry {
    std::uint64_t first;
    std::uint64_t end;
    std::uint32_t length;
    std::uint32_t slot;
  };
  enum class Insert : std::uint8_t { kStored, kRedundant, kFull, kTooLarge };

  PacketStore(std::size_t slots, std::size_t slot_bytes);

  // Copies a packet holding messages [first, end). kRedundant: a held packet already covers them.
  Insert insert(std::uint64_t first, std::uint64_t end, const std::uint8_t* packet, std::size_t len) noexcept;
  [[nodiscard]] const Entry& front() const noexcept { return entries_[head_]; }
  [[nodiscard]] const std::uint8_t* bytes(const Entry& e) const noexcept {
    return bytes_.data() + static_cast<std::size_t>(e.slot) * slot_bytes_;
  }
  void pop_front() noexcept;
  void clear() noexcept;

  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] bool full() const noexcept { return count_ == entries_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return entries_.size(); }
  [[nodiscard]] std::size_t slot_bytes() const noexcept { return slot_bytes_; }

 private:
  [[nodiscard]] std::size_t index(std::size_t i) const noexcept {
    const std::size_t j = head_ + i;
    return j >= entries_.size() ? j - entries_.size() : j;
  }
  std::vector<std::uint8_t> bytes_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;  // stack of free slots
  std::size_t slot_bytes_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t free_top_ = 0;
};

// True when `count` blocks lie wholly inside the packet (walked, bounds-checked).
inline bool blocks_fit(const std::uint8_t* packet, std::size_t len, std::uint16_t count) noexcept {
  if (len < kHeaderSize) return false;
  std::size_t pos = kHeaderSize;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (len - pos < 2) return false;
    const std::size_t n = wire::load_be16(packet + pos);
    if (n > len - pos - 2) return false;
    pos += 2 + n;
  }
  return true;
}

template <class Handler>
concept SessionHandler = requires(Handler& h, std::uint64_t seq, const std::uint8_t* p, std::size_t n) {
  h.on_message(seq, p, n);
};

template <SessionHandler Handler>
class Session {
 public:
  explicit Session(Handler& handler, const SessionConfig& config = {})
      : handler_(handler), config_((validate(config), config)), store_(config.store_packets, config.store_packet_bytes) {
    if (config_.fixed_session) {
      session_ = config_.session;
      session_known_ = true;
    }
  }

  PacketOutcome on_packet(const std::uint8_t* packet, std::size_t len, std::uint64_t now_ns,
                          PacketOrigin origin = PacketOrigin::kFeed) noexcept {
    PacketHeader h;
    if (!PacketHeader::parse(packet, len, h)) return malformed();
    const PacketKind kind = h.kind();
    const std::uint16_t n = h.message_count();
    if (kind == PacketKind::kMessages) {
      if (h.sequence > ~std::uint64_t{0} - n) return malformed();
      if (!blocks_fit(packet, len, n)) return malformed();
    }
    if (!session_known_) {
      session_ = h.session;
      session_known_ = true;
    } else if (h.session != session_) {
      ++counters_.session_mismatches;
      return PacketOutcome::kSessionMismatch;
    }
    if (!started_) {
      started_ = true;
      expected_ = config_.first_sequence != 0 ? config_.first_sequence : h.sequence;
      highest_seen_ = expected_;
    }
    const std::uint64_t first = h.sequence;
    const std::uint64_t end = first + n;
    if (origin == PacketOrigin::kRerequestServer) {
      on_answer(kind, first, end);
    } else if (first > highest_seen_ && first - highest_seen_ > config_.max_sequence_jump) {
      if (!continues_suspect(kind, first, end, now_ns)) return PacketOutcome::kSuspect;
    }
    ++counters_.packets;

    switch (kind) {
      case PacketKind::kHeartbeat:
        ++counters_.heartbeats;
        note_seen(h.sequence, h.sequence, now_ns);
        return PacketOutcome::kHeartbeat;
      case PacketKind::kEndOfSession:
        ++counters_.end_of_session;
        ended_ = true;
        note_seen(h.sequence, h.sequence, now_ns);
        if constexpr (requires { handler_.on_end_of_session(h.sequence); }) handler_.on_end_of_session(h.sequence);
        return PacketOutcome::kEndOfSession;
      case PacketKind::kMessages:
        break;
    }
    return on_data(packet, len, first, end, now_ns);
  }

  // Time-driven work: gives up the head of a gap after recovery_deadline_ns without progress,
  // drops an unconfirmed suspect jump after the same time, and writes the request packet to send
  // now, if one is due (true): the gap's first, else a probe about the suspect jump.
  bool poll(std::uint64_t now_ns, RequestPacket& request) noexcept {
    return poll_recovery(now_ns, request) || poll_suspect(now_ns, request);
  }

  // A new session (a new day, or a restarted venue), believed by the caller on its own evidence
  // (net_stage.hpp: the old source silent, several in-sequence packets of the new session from
  // one sender): everything of the old session is dropped and the new one is expected from
  // sequence 1 (MoldUDP64 numbers each session from 1), so a later first packet opens a gap that
  // is re-requested like any other. Refused (false) when the session is fixed by the config.
  bool restart(const SessionId& session) noexcept {
    if (config_.fixed_session) return false;
    session_ = session;
    session_known_ = true;
    started_ = true;
    expected_ = 1;
    highest_seen_ = 1;
    store_.clear();
    suspect_ = SuspectJump{};
    ended_ = false;
    request_outstanding_ = false;
    ++counters_.session_changes;
    return true;
  }

  // A receiver that took a snapshot (GLIMPSE, pipeline/stages/net_stage.hpp) before the feed's
  // first packet: the stream is expected from `sequence` on, so a later first packet opens a gap
  // that is re-requested like any other. False (nothing changed) once the session has started.
  bool start_at(std::uint64_t sequence) noexcept {
    if (started_ || sequence == 0) return false;
    started_ = true;
    expected_ = sequence;
    highest_seen_ = sequence;
    return true;
  }

  // A suspect jump is being asked about (poll() has a timer to run).
  [[nodiscard]] bool suspect_pending() const noexcept { return suspect_.active; }
  [[nodiscard]] const SuspectJump& suspect() const noexcept { return suspect_; }

 private:
  bool poll_recovery(std::uint64_t now_ns, RequestPacket& request) noexcept {
    if (!in_recovery()) return false;
    if (elapsed(now_ns, progress_ns_) >= config_.recovery_deadline_ns) {
      ++counters_.deadline_expiries;
      declare_loss(now_ns, ~std::uint64_t{0});
      if (!in_recovery()) return false;
    }
    const bool moved = !request_outstanding_ || request_sequence_ != expected_;
    const bool timed_out = !moved && elapsed(now_ns, last_request_ns_) >= config_.request_timeout_ns;
    if (!moved && !timed_out) return false;
    if (timed_out) ++counters_.request_retries;
    const std::uint64_t want = missing().size();
    request.session = session_;
    request.sequence = expected_;
    request.count = static_cast<std::uint16_t>(want < config_.max_request_count ? want : config_.max_request_count);
    request_outstanding_ = true;
    request_sequence_ = expected_;
    last_request_ns_ = now_ns;
    ++counters_.requests;
    return true;
  }

  // Asks the server about the suspect jump (the one message at its sequence), again after
  // request_timeout_ns; drops it unconfirmed after recovery_deadline_ns.
  bool poll_suspect(std::uint64_t now_ns, RequestPacket& request) noexcept {
    if (!suspect_.active) return false;
    if (elapsed(now_ns, suspect_.since_ns) >= config_.recovery_deadline_ns) {
      ++counters_.suspect_expired;
      suspect_.active = false;
      return false;
    }
    if (suspect_.probed && elapsed(now_ns, suspect_.probe_ns) < config_.request_timeout_ns) return false;
    request.session = session_;
    request.sequence = suspect_.first;
    request.count = 1;
    suspect_.probed = true;
    suspect_.probe_ns = now_ns;
    ++counters_.probes;
    return true;
  }

  // A feed packet beyond the bound. True when it confirms the suspect jump (it is then applied).
  bool continues_suspect(PacketKind kind, std::uint64_t first, std::uint64_t end, std::uint64_t now_ns) noexcept {
    ++counters_.suspect;
    if (!suspect_.active) {
      suspect_ = SuspectJump{first, end, now_ns, 0, 0, true, false};
      return false;
    }
    // Continues it: carries messages from where the jump's packets ended on, within the bound.
    const bool continues = kind == PacketKind::kMessages && first >= suspect_.end && end > suspect_.end &&
                           first - suspect_.end <= config_.max_sequence_jump;
    if (!continues) return false;
    suspect_.end = end;
    if (config_.confirm_packets == 0 || ++suspect_.agreeing < config_.confirm_packets) return false;
    ++counters_.suspect_confirmed;
    suspect_.active = false;
    return true;
  }

  // An answer of the re-request server: [first, end) exists (a heartbeat: its stream ends at first).
  void on_answer(PacketKind kind, std::uint64_t first, std::uint64_t end) noexcept {
    const bool data = kind == PacketKind::kMessages;
    if (suspect_.active) {
      if ((data ? end : first) > suspect_.first) {
        ++counters_.suspect_confirmed;
        suspect_.active = false;
      } else if (!data) {
        ++counters_.suspect_refuted;
        suspect_.active = false;
      }
    }
    if (!data && in_recovery() && first <= expected_) {
      // Nothing exists from expected_ on: what was believed missing (and anything held beyond
      // it, which the server would hold too had it been sent) is withdrawn, not lost.
      counters_.phantom += highest_seen_ - expected_;
      store_.clear();
      highest_seen_ = expected_;
      request_outstanding_ = false;
    }
  }

 public:
  // Something beyond the next expected message is known to exist and has not been delivered.
  [[nodiscard]] bool in_recovery() const noexcept { return expected_ < highest_seen_; }
  // The hole at the head: from the next expected message to the first message held (or, with
  // nothing held, to the highest sequence seen). Empty when not in recovery.
  [[nodiscard]] SequenceRange missing() const noexcept {
    if (!in_recovery()) return {expected_, expected_};
    return {expected_, store_.empty() ? highest_seen_ : store_.front().first};
  }
  [[nodiscard]] std::uint64_t next_expected() const noexcept { return expected_; }
  [[nodiscard]] std::uint64_t highest_seen() const noexcept { return highest_seen_; }
  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] bool session_known() const noexcept { return session_known_; }
  [[nodiscard]] const SessionId& session() const noexcept { return session_; }
  [[nodiscard]] bool end_of_session() const noexcept { return ended_; }
  [[nodiscard]] std::size_t held_packets() const noexcept { return store_.size(); }
  [[nodiscard]] const SessionCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const SessionConfig& config() const noexcept { return config_; }

 private:
  static std::uint64_t elapsed(std::uint64_t now, std::uint64_t since) noexcept { return now > since ? now - since : 0; }

  PacketOutcome malformed() noexcept {
    ++counters_.malformed;
    return PacketOutcome::kMalformed;
  }

  // Messages [first, end) exist (end == first for heartbeats: `first` is then the next expected).
  void note_seen(std::uint64_t first, std::uint64_t end, std::uint64_t now_ns) noexcept {
    if (first > highest_seen_) {
      ++counters_.gaps;
      if (!in_recovery()) enter_recovery(now_ns);
      if constexpr (requires { handler_.on_gap(highest_seen_, first); }) handler_.on_gap(highest_seen_, first);
    }
    if (end > highest_seen_) highest_seen_ = end;
  }

  void enter_recovery(std::uint64_t now_ns) noexcept {
    progress_ns_ = now_ns;
    request_outstanding_ = false;
  }

  PacketOutcome on_data(const std::uint8_t* packet, std::size_t len, std::uint64_t first, std::uint64_t end,
                        std::uint64_t now_ns) noexcept {
    if (end <= expected_) {
      counters_.duplicates += end - first;
      return PacketOutcome::kDuplicate;
    }
    if (first > expected_) {
      note_seen(first, end, now_ns);
      for (;;) {
        switch (store_.insert(first, end, packet, len)) {
          case PacketStore::Insert::kStored: ++counters_.buffered; return PacketOutcome::kBuffered;
          case PacketStore::Insert::kRedundant: counters_.duplicates += end - first; return PacketOutcome::kDuplicate;
          case PacketStore::Insert::kTooLarge: ++counters_.oversize; return PacketOutcome::kDropped;
          case PacketStore::Insert::kFull: break;
        }
        // Full: give up the head of the gap, up to this packet if it belongs before the held ones.
        ++counters_.store_overflows;
        declare_loss(now_ns, first);
        if (end <= expected_) {
          counters_.duplicates += end - first;
          return PacketOutcome::kDuplicate;
        }
        if (first <= expected_) break;  // the skip reached this packet: deliver it below
      }
    }
    const bool recovering = in_recovery();
    const std::uint64_t hole_end = missing().end;
    const std::uint64_t before = expected_;
    deliver(packet, len, first);
    if (recovering) {
      const std::uint64_t filled_to = expected_ < hole_end ? expected_ : hole_end;
      if (filled_to > before) counters_.recovered += filled_to - before;
    }
    if (end > highest_seen_) highest_seen_ = end;
    drain();
    if (recovering) progress_ns_ = now_ns;
    return PacketOutcome::kDelivered;
  }

  // Delivers the messages of a validated packet (first <= expected_) from expected_ on. The
  // blocks were bounds-checked by blocks_fit(), so the walk reads lengths without re-checking.
  void deliver(const std::uint8_t* packet, std::size_t len, std::uint64_t first) noexcept {
    const std::uint16_t count = wire::load_be16(packet + 18);
    (void)len;
    const std::uint8_t* p = packet + kHeaderSize;
    std::uint16_t i = 0;
    const std::uint64_t old = expected_ - first;  // messages of this packet already delivered
    for (; i < count && i < old; ++i) p += 2 + wire::load_be16(p);
    counters_.duplicates += i;
    const std::uint16_t fresh = static_cast<std::uint16_t>(count - i);
    for (; i < count; ++i) {
      const std::size_t n = wire::load_be16(p);
      // expected_ moves before the call so that the handler sees the session state after this
      // message (and a nested read of next_expected() is consistent).
      const std::uint64_t seq = expected_++;
      handler_.on_message(seq, p + 2, n);
      p += 2 + n;
    }
    counters_.messages += fresh;
  }

  // Delivers held packets that have become contiguous.
  void drain() noexcept {
    while (!store_.empty()) {
      const PacketStore::Entry& e = store_.front();
      if (e.first > expected_) break;
      if (e.end > expected_) {
        deliver(store_.bytes(e), e.length, e.first);
      } else {
        counters_.duplicates += e.end - e.first;
      }
      store_.pop_front();
    }
  }

  // Gives up the hole at the head (no further than `limit`) and skips to the next data held (or
  // the highest seen).
  void declare_loss(std::uint64_t now_ns, std::uint64_t limit) noexcept {
    SequenceRange hole = missing();
    if (hole.end > limit) hole.end = limit;
    if (hole.empty()) return;
    counters_.lost += hole.size();
    if constexpr (requires { handler_.on_lost(hole.first, hole.end); }) handler_.on_lost(hole.first, hole.end);
    expected_ = hole.end;
    drain();
    progress_ns_ = now_ns;
    request_outstanding_ = false;
  }

  Handler& handler_;
  SessionConfig config_;
  PacketStore store_;
  SessionCounters counters_;
  SessionId session_;
  std::uint64_t expected_ = 0;
  std::uint64_t highest_seen_ = 0;  // one past the last message known to exist
  std::uint64_t progress_ns_ = 0;   // recovery started or last moved
  std::uint64_t last_request_ns_ = 0;
  std::uint64_t request_sequence_ = 0;
  bool request_outstanding_ = false;
  bool session_known_ = false;
  bool started_ = false;
  bool ended_ = false;
  SuspectJump suspect_;
};

}  // namespace hft::mold
