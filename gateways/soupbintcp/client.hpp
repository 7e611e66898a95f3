#pragma once
// SoupBinTCP client: the appliance's side of an order-entry session, free of I/O (hftd drives it
// from its own io_uring transport; net/tcp_client.hpp drives it over a plain socket for tests and
// tools). Bytes and the current time in; bytes in the output buffer and calls to a handler chosen
// at compile time out:
//
//   struct Egress {
//     void on_sequenced(std::uint64_t seq, std::span<const std::uint8_t> msg, std::uint64_t now_ns);
//     void on_event(const hft::soup::SessionEvent& e);                             // optional
//     void on_unsequenced(std::span<const std::uint8_t> msg, std::uint64_t now);   // optional, 4.x
//     void on_debug(std::string_view text);                                        // optional
//   };
//
// Sequenced messages carry no number on the wire: the first after Login Accepted has the number
// that packet announced, and each next 'S' is one more (SoupBinTCP 3.00 §1.2). The engine keeps
// the next expected number and the accepted session name across connections, so open() on a new
// connection logs in for exactly the next message: resume with no gap and no duplicate. If a
// server grants a number below the one requested, the messages before it are dropped as
// duplicates (counted); above it, the gap is reported in the login event (it cannot be recovered).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gateways/soupbintcp/events.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/output_buffer.hpp"
#include "gateways/soupbintcp/packet.hpp"

namespace hft::soup {

struct ClientConfig {
  std::string username;                       // 1..6 characters
  std::string password;                       // 0..10 characters
  std::string session;                        // requested session; empty: the current one
  std::uint64_t next_sequence = 1;            // first login: 1 = from the start, 0 = new messages only
  std::uint32_t requested_heartbeat_timeout_ms = 0;  // > 0: send the 52-byte 4.1 login with this value
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;
  std::uint64_t timeout_ns = 15'000'000'000;  // server silent this long: the link is dead
  std::size_t max_inbound_packet = 4096;      // Packet Length limit from the server
  std::size_t max_message = 1024;             // largest unsequenced payload sent
  std::size_t output_buffer_bytes = 64 * 1024;
  bool accept_unsequenced = false;            // 4.x best-effort server -> client 'U'
};

inline void validate(const ClientConfig& c) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("soupbintcp client config: " + what); };
  if (c.username.empty() || c.username.size() > kUsernameSize) fail("username must be 1..6 characters");
  if (c.password.size() > kPasswordSize) fail("password must be at most 10 characters");
  if (c.session.size() > kSessionSize) fail("session must be at most 10 characters");
  if (c.requested_heartbeat_timeout_ms > kMaxHeartbeatTimeoutMs) fail("requested_heartbeat_timeout_ms must be at most 99999");
  if (c.heartbeat_interval_ns == 0 || c.timeout_ns <= c.heartbeat_interval_ns)
    fail("timeout must be longer than a positive heartbeat_interval");
  if (c.max_inbound_packet < kLoginAcceptedLength || c.max_inbound_packet > kMaxPacketLength)
    fail("max_inbound_packet must be 31..65535");
  if (c.max_message == 0 || c.max_message > kMaxPayload) fail("max_message must be 1..65534");
  if (c.output_buffer_bytes < kHeaderSize + c.max_message + kLengthFieldSize + kLoginRequest41Length)
    fail("output_buffer_bytes must hold a login request and the largest message");
}

enum class ClientState : std::uint8_t {
  kDisconnected,  // no transport; open() on a new connection logs in (if may_reconnect())
  kLoginSent,
  kActive,        // logged in
  kClosing,       // Logout Request queued; finished() once written
  kClosed,        // the transport should close now
};

struct ClientCounters {
  std::uint64_t packets_in = 0;
  std::uint64_t sequenced_in = 0;
  std::uint64_t duplicates_dropped = 0;
  std::uint64_t heartbeats_in = 0;
  std::uint64_t unsequenced_in = 0;
  std::uint64_t unsequenced_out = 0;
  std::uint64_t heartbeats_out = 0;
  std::uint64_t logins = 0;
};

template <class Handler>
class ClientSession {
 public:
  ClientSession(const ClientConfig& config, Handler& handler)
      : config_(Settings::of(validated(config))),
        handler_(&handler),
        framer_(Direction::kServerToClient, config.max_inbound_packet, config.accept_unsequenced),
        out_(config.output_buffer_bytes),
        username_(Username::from(config.username)),
        password_(Password::from(config.password)),
        session_(SessionName::from(config.session)),
        next_expected_(config.next_sequence) {}
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // A new connection: queues the Login Request. False (and nothing queued) when the session may
  // not reconnect (after End of Session, a logout, or a rejection 'A').
  bool open(std::uint64_t connection_id, std::uint64_t now) noexcept {
    if (!may_reconnect()) return false;
    framer_.reset();
    out_.clear();
    connection_ = connection_id;
    LoginRequest req;
    req.username = username_;
    req.password = password_;
    req.session = session_;
    // After skipping duplicates was cut short, ask for the first message not yet delivered.
    req.sequence = next_expected_ > skip_below_ ? next_expected_ : skip_below_;
    req.v41 = config_.requested_heartbeat_timeout_ms != 0;
    req.heartbeat_timeout_ms = config_.requested_heartbeat_timeout_ms;
    requested_ = req.sequence;
    std::uint8_t* p = out_.reserve(kLengthFieldSize + kLoginRequest41Length);
    out_.commit(encode_login_request(p, req));  // the empty buffer holds one (validated size)
    last_recv_ = last_send_ = login_sent_ = now;
    state_ = ClientState::kLoginSent;
    close_reason_ = CloseReason::kNone;
    return true;
  }

  void on_bytes(const std::uint8_t* data, std::size_t size, std::uint64_t now) noexcept {
    if (!connected()) return;
    last_recv_ = now;
    framer_.feed(data, size, [&](const Packet& p) noexcept {
      ++counters_.packets_in;
      dispatch(p, now);
      return connected();
    });
    if (framer_.failed() && connected())
      close_now(with_packet_error(event(EventKind::kClosed, CloseReason::kMalformedPacket), framer_.error()));
  }

  // Dead-server timeout and client heartbeats.
  void poll(std::uint64_t now) noexcept {
    if (!connected()) return;
    if (elapsed(now, last_recv_) >= config_.timeout_ns) {
      SessionEvent ev = event(EventKind::kClosed, CloseReason::kTimeout);
      ev.timeout_ms = config_.timeout_ns / 1'000'000;
      close_now(ev);
      return;
    }
    if (elapsed(now, last_send_) >= config_.heartbeat_interval_ns && queue(packet_type::kClientHeartbeat, {}, now))
      ++counters_.heartbeats_out;
  }

  // An Unsequenced Data packet (an OUCH inbound message). False when not logged in or no room.
  bool send_unsequenced(std::span<const std::uint8_t> msg, std::uint64_t now) noexcept {
    if (state_ != ClientState::kActive || msg.size() > config_.max_message) return false;
    if (!queue(packet_type::kUnsequencedData, msg, now)) return false;
    ++counters_.unsequenced_out;
    return true;
  }
  // Zero-copy form: encode the message into the returned bytes, then commit_unsequenced().
  [[nodiscard]] std::uint8_t* begin_unsequenced(std::size_t max_size) noexcept {
    if (state_ != ClientState::kActive || max_size > config_.max_message) return nullptr;
    std::uint8_t* p = out_.reserve(kHeaderSize + max_size);
    return p == nullptr ? nullptr : p + kHeaderSize;
  }
  void commit_unsequenced(std::size_t size, std::uint64_t now) noexcept {
    std::uint8_t* p = out_.reserve(kHeaderSize + size);  // the same bytes begin_unsequenced() returned
    write_header(p, packet_type::kUnsequencedData, size);
    out_.commit(kHeaderSize + size);
    last_send_ = now;
    ++counters_.unsequenced_out;
  }

  // The next open() logs in for the server's current session (blank name, SoupBinTCP 3.00 §2.2.1)
  // from its first message (sequence 1): for a server that restarted with a new session and
  // refuses the old one ('S'). Only while disconnected; the old session's numbering is forgotten.
  void join_current_session() noexcept {
    if (connected()) return;
    session_ = SessionName::from("");
    next_expected_ = 1;
    skip_below_ = 0;
    rejected_ = false;
  }

  // The next open() logs in to `session` at `next_sequence`: a client that restarted and knows
  // from its own records (hftd's journal) where it stopped. Only while disconnected.
  void resume_at(const SessionName& session, std::uint64_t next_sequence) noexcept {
    if (connected()) return;
    session_ = session;
    next_expected_ = next_sequence == 0 ? 1 : next_sequence;
    skip_below_ = 0;
    rejected_ = false;
  }

  // Graceful logoff ('O'); the session will not reconnect.
  void logout(std::uint64_t now) noexcept {
    logged_out_ = true;
    if (state_ == ClientState::kActive && queue(packet_type::kLogoutRequest, {}, now)) {
      close_reason_ = CloseReason::kLogout;
      state_ = ClientState::kClosing;
      emit(event(EventKind::kClosed, CloseReason::kLogout));
    } else if (connected()) {
      close_now(event(EventKind::kClosed, CloseReason::kLogout));
    }
  }
  void close(std::uint64_t /*now*/) noexcept {
    if (connected()) close_now(event(EventKind::kClosed, CloseReason::kLocal));
  }
  // The transport is closed: by us after finished(), by the server (error 0), or by an I/O error
  // (its errno). A session still connected logs the disconnect.
  void on_transport_closed(std::uint64_t /*now*/, int error = 0) noexcept {
    if (connected())
      close_now(event(EventKind::kClosed, error == 0 ? CloseReason::kPeerClosed : CloseReason::kIoError));
    state_ = ClientState::kDisconnected;
    out_.clear();
  }

  [[nodiscard]] std::span<const std::uint8_t> output() const noexcept { return out_.pending(); }
  void consume_output(std::size_t n) noexcept { out_.consume(n); }
  [[nodiscard]] bool finished() const noexcept {
    return state_ == ClientState::kClosed || (state_ == ClientState::kClosing && out_.empty());
  }

  // False after End of Session, a logout, or a Login Rejected 'A' (credentials will not improve);
  // a rejection 'S' may be retried.
  [[nodiscard]] bool may_reconnect() const noexcept {
    return !ended_ && !logged_out_ && !(rejected_ && reject_code_ == RejectCode::kNotAuthorized);
  }
  [[nodiscard]] ClientState state() const noexcept { return state_; }
  // When the last Login Request was queued: while state() is kLoginSent, the venue has not answered
  // it since (a caller reports a venue slow to answer; this engine only times the link out).
  [[nodiscard]] std::uint64_t login_sent_at() const noexcept { return login_sent_; }
  [[nodiscard]] bool logged_in() const noexcept { return state_ == ClientState::kActive; }
  [[nodiscard]] bool ended() const noexcept { return ended_; }
  [[nodiscard]] bool rejected() const noexcept { return rejected_; }
  [[nodiscard]] RejectCode reject_code() const noexcept { return reject_code_; }
  [[nodiscard]] CloseReason close_reason() const noexcept { return close_reason_; }
  // Sequence number of the next 'S' packet (after a login: the one to request on reconnect).
  [[nodiscard]] std::uint64_t next_expected() const noexcept { return next_expected_; }
  [[nodiscard]] const SessionName& session() const noexcept { return session_; }
  [[nodiscard]] const ClientCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t connection_id() const noexcept { return connection_; }

 private:
  static const ClientConfig& validated(const ClientConfig& c) {
    validate(c);
    return c;
  }
  [[nodiscard]] bool connected() const noexcept {
    return state_ == ClientState::kLoginSent || state_ == ClientState::kActive;
  }

  void dispatch(const Packet& p, std::uint64_t now) noexcept {
    namespace t = packet_type;
    switch (p.type) {
      case t::kSequencedData: {
        if (state_ != ClientState::kActive) {
          violation(p.type);
          break;
        }
        const std::uint64_t seq = next_expected_++;
        if (seq < skip_below_) {
          ++counters_.duplicates_dropped;
          break;
        }
        ++counters_.sequenced_in;
        handler_->on_sequenced(seq, std::span<const std::uint8_t>(p.payload, p.size), now);
        break;
      }
      case t::kServerHeartbeat:
        ++counters_.heartbeats_in;
        break;
      case t::kLoginAccepted:
        if (state_ != ClientState::kLoginSent) {
          violation(p.type);
          break;
        }
        accepted(p);
        break;
      case t::kLoginRejected: {
        if (state_ != ClientState::kLoginSent) {
          violation(p.type);
          break;
        }
        RejectCode code{};
        if (const PacketError e = parse_login_rejected(p.payload, p.size, code); e != PacketError::kNone) {
          malformed(e, p);
          break;
        }
        rejected_ = true;
        reject_code_ = code;
        SessionEvent ev = event(EventKind::kLoginRejected, CloseReason::kLoginRejected);
        ev.login_failure = LoginFailure::kRejectedByServer;
        ev.reject_code = code;
        ev.requested_sequence = requested_;
        close_now(ev);
        break;
      }
      case t::kEndOfSession:
        ended_ = true;
        close_now(event(EventKind::kClosed, CloseReason::kEndOfSession));
        break;
      case t::kUnsequencedData:  // only when accept_unsequenced (the framer checks)
        if (state_ != ClientState::kActive) {
          violation(p.type);
          break;
        }
        ++counters_.unsequenced_in;
        if constexpr (requires { handler_->on_unsequenced(std::span<const std::uint8_t>{}, now); })
          handler_->on_unsequenced(std::span<const std::uint8_t>(p.payload, p.size), now);
        break;
      case t::kDebug:
        if constexpr (requires { handler_->on_debug(std::string_view{}); })
          handler_->on_debug(std::string_view(reinterpret_cast<const char*>(p.payload), p.size));
        break;
      default:
        break;
    }
  }

  void accepted(const Packet& p) noexcept {
    LoginAccepted a;
    if (const PacketError e = parse_login_accepted(p.payload, p.size, a); e != PacketError::kNone) {
      malformed(e, p);
      return;
    }
    session_ = a.session;
    // A server that restarts below what we asked for would resend messages we hold: skip them.
    skip_below_ = requested_ > a.sequence ? requested_ : 0;
    next_expected_ = a.sequence;
    rejected_ = false;
    state_ = ClientState::kActive;
    ++counters_.logins;
    SessionEvent ev = event(EventKind::kLoginAccepted, CloseReason::kNone);
    ev.requested_sequence = requested_;
    emit(ev);
  }

  void malformed(PacketError e, const Packet& p) noexcept {
    close_now(with_packet_error(event(EventKind::kClosed, CloseReason::kMalformedPacket), {e, p.type, p.size + 1}));
  }
  void violation(std::uint8_t type) noexcept {
    SessionEvent ev = event(EventKind::kClosed, CloseReason::kProtocolViolation);
    ev.violation = Violation::kUnexpectedPacket;
    ev.packet_type = type;
    close_now(ev);
  }

  bool queue(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint64_t now) noexcept {
    if (!out_.put_packet(type, payload)) return false;
    last_send_ = now;
    return true;
  }

  [[nodiscard]] SessionEvent event(EventKind kind, CloseReason reason) const noexcept {
    SessionEvent e;
    e.kind = kind;
    e.role = Role::kClient;
    e.connection_id = connection_;
    e.username = username_;
    e.session = session_;
    e.sequence = next_expected_;
    e.close_reason = reason;
    e.timeout_ms = config_.timeout_ns / 1'000'000;
    return e;
  }
  void emit(const SessionEvent& e) noexcept {
    if constexpr (requires { handler_->on_event(e); }) handler_->on_event(e);
  }
  void close_now(const SessionEvent& e) noexcept {
    close_reason_ = e.close_reason;
    state_ = ClientState::kClosed;
    out_.clear();
    emit(e);
  }

  // The numbers of ClientConfig (its strings live on as the fixed-width fields below).
  struct Settings {
    std::uint64_t heartbeat_interval_ns;
    std::uint64_t timeout_ns;
    std::size_t max_message;
    std::uint32_t requested_heartbeat_timeout_ms;
    static Settings of(const ClientConfig& c) noexcept {
      return {c.heartbeat_interval_ns, c.timeout_ns, c.max_message, c.requested_heartbeat_timeout_ms};
    }
  };

  Settings config_;
  Handler* handler_;
  Framer framer_;
  OutputBuffer out_;
  Username username_;
  Password password_;
  SessionName session_;
  ClientState state_ = ClientState::kDisconnected;
  std::uint64_t connection_ = 0;
  std::uint64_t next_expected_;
  std::uint64_t requested_ = 0;
  std::uint64_t skip_below_ = 0;
  std::uint64_t last_recv_ = 0;
  std::uint64_t last_send_ = 0;
  std::uint64_t login_sent_ = 0;
  bool ended_ = false;
  bool logged_out_ = false;
  bool rejected_ = false;
  RejectCode reject_code_ = RejectCode::kNotAuthorized;
  CloseReason close_reason_ = CloseReason::kNone;
  ClientCounters counters_;
};

}  // namespace hft::soup
