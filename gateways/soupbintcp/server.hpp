#pragma once
// SoupBinTCP server: the venue's side of an order-entry session, free of I/O.
//
// ServerContext is the one logical session (its name, its users, their sequenced streams) shared
// by every connection; ServerSession is the engine of one TCP connection. The engine takes bytes
// and the current time (passed in: it never reads a clock) and produces bytes in its output
// buffer and events to a handler chosen at compile time:
//
//   struct Venue {
//     void on_unsequenced(std::uint32_t user, std::span<const std::uint8_t> msg, std::uint64_t now_ns);
//     void on_event(const hft::soup::SessionEvent& e);          // optional: login, reject, close
//     void on_debug(std::uint32_t user, std::string_view text); // optional
//     void on_session_lost(std::uint32_t user, hft::soup::CloseReason why); // optional: a logged-in
//                                                               // user's session ended (after on_event)
//   };
//
// Choices (SoupBinTCP leaves them to the server):
//  * Sequenced streams are per user: each user (one OUCH account) has its own stream numbered
//    from 1, as an OUCH port is bound to one account (OUCH 5.0 §1.1). A user may hold one
//    connection at a time; a second login is refused 'S' while the first is live.
//  * Requested Sequence Number: 0 = start with the next new message (the JNX capture logs in
//    with 0 and is accepted at 135); 1..next = replay from there, then live; beyond next, or
//    older than the store holds (store.hpp), is refused 'S' rather than silently skipping.
//  * Heartbeat 'H' after heartbeat_interval of send-idleness; the connection is dead after
//    `timeout` without a byte from the client (also before login). A 4.1 login's Requested
//    Heartbeat Timeout replaces `timeout` for that connection, clamped to the configured range.
//  * Login deadline (issue 18, slowloris): a connection must be logged in within login_timeout
//    of its opening, however often it sends a byte; the dead-peer timer does not extend it.
//  * Failed logins (issue 18, password guessing): a refused credential (unknown user, wrong
//    password) is answered 'J' only after login_failure_delay, from a timer in poll() (the
//    server never sleeps); after max_login_failures from one source for one username (or four
//    times as many from one source for any), that source is locked out for login_lockout: its
//    logins are refused 'A' without looking at the password (LoginFailure::kLockedOut). Sources
//    are the transport's (set_source(), an IPv4 address); other sources are not affected.
//  * End of session: once a logged-in client has every sequenced message, it gets 'Z' and the
//    connection closes. A client may still log in afterwards to recover what it missed.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/soupbintcp/events.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/output_buffer.hpp"
#include "gateways/soupbintcp/packet.hpp"
#include "gateways/soupbintcp/store.hpp"

namespace hft::soup {

struct UserCredentials {
  std::string username;  // 1..6 characters
  std::string password;  // 0..10 characters
};

struct ServerConfig {
  std::string session = "SESSION01";               // 1..10 characters, the current session's name
  std::vector<UserCredentials> users;              // at least one
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;
  std::uint64_t timeout_ns = 15'000'000'000;       // dead peer: nothing received for this long
  std::uint64_t min_requested_timeout_ns = 2'000'000'000;   // clamp of a 4.1 Requested Heartbeat Timeout
  std::uint64_t max_requested_timeout_ns = 60'000'000'000;
  std::uint64_t close_linger_ns = 1'000'000'000;   // how long a closing session may take to flush 'J' / 'Z'
  std::size_t max_inbound_packet = 1024;           // Packet Length limit from clients (OUCH inbound: 47 + appendage)
  std::size_t max_message = 1024;                  // largest sequenced or unsequenced payload sent
  std::size_t output_buffer_bytes = 256 * 1024;    // per connection
  std::size_t store_messages = 1u << 20;           // per user (see store.hpp)
  std::size_t store_bytes = 64u << 20;             // per user
  bool unsequenced_to_client = false;              // 4.x best-effort server -> client 'U'
  std::uint64_t login_timeout_ns = 5'000'000'000;  // absolute: from the connection to a login accepted
  std::uint64_t login_failure_delay_ns = 1'000'000'000;  // a refused credential is answered this late
  std::uint32_t max_login_failures = 5;            // per source and username before a lockout; 0 = never
  std::uint64_t login_lockout_ns = 60'000'000'000; // how long a lockout lasts (from the last failure)
  std::size_t login_failure_sources = 1024;        // entries of the failure table (least recent reused)
};

// Throws std::invalid_argument naming the field at fault.
inline void validate(const ServerConfig& c) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("soupbintcp server config: " + what); };
  if (c.session.empty() || c.session.size() > kSessionSize) fail("session \"" + c.session + "\" must be 1..10 characters");
  if (c.users.empty()) fail("users: at least one user is required");
  for (std::size_t i = 0; i < c.users.size(); ++i) {
    const auto& u = c.users[i];
    if (u.username.empty() || u.username.size() > kUsernameSize || u.username.find(' ') != std::string::npos)
      fail("users[" + std::to_string(i) + "].username \"" + u.username + "\" must be 1..6 characters without spaces");
    if (u.password.size() > kPasswordSize)
      fail("users[" + std::to_string(i) + "].password must be at most 10 characters");
    for (std::size_t j = 0; j < i; ++j)
      if (c.users[j].username == u.username) fail("users: \"" + u.username + "\" is listed twice");
  }
  if (c.heartbeat_interval_ns == 0) fail("heartbeat_interval must be positive");
  if (c.timeout_ns <= c.heartbeat_interval_ns) fail("timeout must be longer than heartbeat_interval");
  if (c.min_requested_timeout_ns > c.max_requested_timeout_ns) fail("min_requested_timeout exceeds max_requested_timeout");
  if (c.max_inbound_packet < kLoginRequest41Length || c.max_inbound_packet > kMaxPacketLength)
    fail("max_inbound_packet must be 52..65535 (a 4.1 login request is 52)");
  if (c.max_message == 0 || c.max_message > kMaxPayload) fail("max_message must be 1..65534");
  if (c.output_buffer_bytes < kHeaderSize + c.max_message + kLengthFieldSize + kLoginAcceptedLength)
    fail("output_buffer_bytes must hold a login accepted and the largest message");
  if (c.store_messages == 0) fail("store_messages must be positive");
  if (c.store_bytes < c.max_message) fail("store_bytes must hold the largest message");
  if (c.login_timeout_ns == 0) fail("login_timeout must be positive");
  if (c.max_login_failures != 0 && c.login_lockout_ns == 0) fail("login_lockout must be positive");
  if (c.login_failure_sources == 0) fail("login_failure_sources must be positive");
}

// The logical session shared by every connection: users and their sequenced streams. Allocated
// at construction; append() and the sessions allocate nothing.
class ServerContext {
 public:
  static constexpr std::uint32_t kNoUser = ~std::uint32_t{0};

  explicit ServerContext(ServerConfig config) : config_(std::move(config)) {
    validate(config_);
    session_ = SessionName::from(config_.session);
    failures_.resize(config_.login_failure_sources);
    users_.reserve(config_.users.size());
    for (const auto& u : config_.users)
      users_.push_back(std::make_unique<User>(Username::from(u.username), Password::from(u.password),
                                              config_.store_messages, config_.store_bytes, config_.max_message));
  }

  [[nodiscard]] const ServerConfig& config() const noexcept { return config_; }
  [[nodiscard]] const SessionName& session() const noexcept { return session_; }
  [[nodiscard]] std::uint32_t user_count() const noexcept { return static_cast<std::uint32_t>(users_.size()); }
  [[nodiscard]] std::uint32_t find_user(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i < users_.size(); ++i)
      if (users_[i]->name.trimmed() == name) return i;
    return kNoUser;
  }
  [[nodiscard]] const Username& username(std::uint32_t user) const noexcept { return users_[user]->name; }
  [[nodiscard]] SequencedStore& store(std::uint32_t user) noexcept { return users_[user]->store; }
  [[nodiscard]] const SequencedStore& store(std::uint32_t user) const noexcept { return users_[user]->store; }
  [[nodiscard]] bool logged_in(std::uint32_t user) const noexcept { return users_[user]->connection != 0; }

  // A sequenced message for `user`: its sequence number, or 0 when larger than max_message.
  // Connected sessions pick it up on their next poll().
  std::uint64_t append(std::uint32_t user, std::span<const std::uint8_t> msg) noexcept {
    return users_[user]->store.append(msg.data(), msg.size());
  }
  // In place: encode into reserve()'s bytes, then commit() how many were written.
  [[nodiscard]] std::uint8_t* reserve(std::uint32_t user, std::size_t max_size) noexcept {
    return users_[user]->store.reserve(max_size);
  }
  std::uint64_t commit(std::uint32_t user, std::size_t size) noexcept { return users_[user]->store.commit(size); }

  // After this, each logged-in client receives what it is missing, then 'Z'.
  void end_session() noexcept { ended_ = true; }
  [[nodiscard]] bool ended() const noexcept { return ended_; }

  // Checks a login; on success the user is bound to `connection` (non-zero) until release().
  // `source` (0: unknown) and `now` drive the failed-login lockout (see the top of this file).
  LoginFailure authorize(const LoginRequest& req, std::uint64_t connection, std::uint32_t& user,
                         std::uint64_t& start, std::uint64_t source = 0, std::uint64_t now = 0) noexcept {
    user = find_user(req.username.trimmed());
    if (locked_out(source, req.username, now)) {
      record_failure(source, req.username, now);
      ++lockout_refusals_;
      return LoginFailure::kLockedOut;
    }
    if (user == kNoUser) {
      record_failure(source, req.username, now);
      return LoginFailure::kUnknownUser;
    }
    User& u = *users_[user];
    if (u.password.trimmed() != req.password.trimmed()) {
      record_failure(source, req.username, now);
      return LoginFailure::kBadPassword;
    }
    if (!req.session.blank() && req.session.trimmed() != session_.trimmed()) return LoginFailure::kUnknownSession;
    if (u.connection != 0) return LoginFailure::kAlreadyLoggedIn;
    const std::uint64_t next = u.store.next_sequence();
    start = req.sequence == 0 ? next : req.sequence;
    if (start > next) return LoginFailure::kSequenceAhead;
    if (start < u.store.first_sequence()) return LoginFailure::kSequenceNotRetained;
    u.connection = connection;
    forget_failures(source, req.username);
    return LoginFailure::kNone;
  }
  // Logins refused because their source was locked out.
  [[nodiscard]] std::uint64_t lockout_refusals() const noexcept { return lockout_refusals_; }
  void release(std::uint32_t user, std::uint64_t connection) noexcept {
    if (user < users_.size() && users_[user]->connection == connection) users_[user]->connection = 0;
  }

 private:
  struct User {
    User(Username n, Password p, std::size_t messages, std::size_t bytes, std::size_t max_message)
        : name(n), password(p), store(messages, bytes, max_message) {}
    Username name;
    Password password;
    SequencedStore store;
    std::uint64_t connection = 0;  // live connection id, 0 = none
  };

  // Failed logins of one source, for one username or (any_user) for all of them.
  struct Failures {
    std::uint64_t source = 0;
    Username username;
    bool any_user = false;
    bool used = false;
    std::uint32_t count = 0;
    std::uint64_t last_ns = 0;
  };
  static constexpr std::uint32_t kAnyUserFactor = 4;

  Failures* find_failures(std::uint64_t source, const Username& name, bool any_user, std::uint64_t now, bool create) noexcept {
    Failures* lru = nullptr;
    for (Failures& f : failures_) {
      if (f.used && f.source == source && f.any_user == any_user && (any_user || f.username == name)) {
        if (now - f.last_ns >= config_.login_lockout_ns) f.count = 0;  // an old streak is forgotten
        return &f;
      }
      if (lru == nullptr || !f.used || (lru->used && f.last_ns < lru->last_ns)) lru = &f;
    }
    if (!create || lru == nullptr) return nullptr;
    *lru = Failures{source, name, any_user, true, 0, now};
    return lru;
  }
  bool locked_out(std::uint64_t source, const Username& name, std::uint64_t now) noexcept {
    const std::uint32_t max = config_.max_login_failures;
    if (max == 0) return false;
    const Failures* f = find_failures(source, name, false, now, false);
    if (f != nullptr && f->count >= max) return true;
    f = find_failures(source, name, true, now, false);
    return f != nullptr && f->count >= max * kAnyUserFactor;
  }
  void record_failure(std::uint64_t source, const Username& name, std::uint64_t now) noexcept {
    if (config_.max_login_failures == 0) return;
    for (const bool any : {false, true}) {
      if (Failures* f = find_failures(source, name, any, now, true)) {
        ++f->count;
        f->last_ns = now;
      }
    }
  }
  void forget_failures(std::uint64_t source, const Username& name) noexcept {
    if (Failures* f = find_failures(source, name, false, 0, false)) f->used = false;
  }

  ServerConfig config_;
  SessionName session_;
  std::vector<std::unique_ptr<User>> users_;
  std::vector<Failures> failures_;
  std::uint64_t lockout_refusals_ = 0;
  bool ended_ = false;
};

enum class ServerState : std::uint8_t {
  kIdle,           // no connection
  kAwaitingLogin,
  kLoggedIn,
  kClosing,        // a final packet ('J', 'Z') is being flushed
  kClosed,         // the transport should close now
  kRejecting,      // a refused credential: 'J' waits for login_failure_delay (input ignored)
};

struct ServerCounters {
  std::uint64_t packets_in = 0;
  std::uint64_t unsequenced_in = 0;
  std::uint64_t heartbeats_in = 0;
  std::uint64_t debug_in = 0;
  std::uint64_t sequenced_out = 0;
  std::uint64_t heartbeats_out = 0;
  std::uint64_t unsequenced_out = 0;
  std::uint64_t unsequenced_dropped = 0;  // best-effort 'U' with no room in the output buffer
};

template <class Handler>
class ServerSession {
 public:
  ServerSession(ServerContext& context, Handler& handler)
      : ctx_(&context),
        handler_(&handler),
        framer_(Direction::kClientToServer, context.config().max_inbound_packet),
        out_(context.config().output_buffer_bytes) {}
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // The transport's source of the next connection (an IPv4 address; 0 = unknown), for the
  // failed-login lockout. Set before open(); kept across it.
  void set_source(std::uint64_t source) noexcept { source_ = source; }
  [[nodiscard]] std::uint64_t source() const noexcept { return source_; }

  // A new connection (connection ids are non-zero and unique per server). Resets all state.
  void open(std::uint64_t connection_id, std::uint64_t now) noexcept {
    framer_.reset();
    out_.clear();
    state_ = ServerState::kAwaitingLogin;
    connection_ = connection_id;
    user_ = ServerContext::kNoUser;
    username_ = {};
    cursor_ = 0;
    last_recv_ = last_send_ = opened_ = now;
    authenticated_ = false;
    timeout_ns_ = ctx_->config().timeout_ns;
    close_reason_ = CloseReason::kNone;
    counters_ = {};
  }

  // Bytes received from the client.
  void on_bytes(const std::uint8_t* data, std::size_t size, std::uint64_t now) noexcept {
    if (!open_for_input()) return;
    last_recv_ = now;
    framer_.feed(data, size, [&](const Packet& p) noexcept {
      ++counters_.packets_in;
      dispatch(p, now);
      return open_for_input();
    });
    if (framer_.failed() && open_for_input())
      close_now(with_packet_error(event(EventKind::kClosed, CloseReason::kMalformedPacket), framer_.error()));
  }

  // Timers and output: dead-peer timeout, sequenced messages (replay and live) into the output
  // buffer as far as it has room, end of session, heartbeat. Call after input and whenever the
  // stream may have grown.
  void poll(std::uint64_t now) noexcept {
    if (state_ == ServerState::kRejecting) {
      if (now - reject_at_ < (std::uint64_t{1} << 63)) {  // now >= reject_at_ (monotonic, no wrap)
        std::uint8_t* out = out_.reserve(kLengthFieldSize + kLoginRejectedLength);
        if (out != nullptr) out_.commit(encode_login_rejected(out, reject_code_));
        state_ = ServerState::kClosing;
        close_started_ = now;
      }
      return;
    }
    if (state_ == ServerState::kClosing) {
      if (now - close_started_ >= ctx_->config().close_linger_ns) state_ = ServerState::kClosed;
      return;
    }
    if (!open_for_input()) return;
    if (state_ == ServerState::kAwaitingLogin && elapsed(now, opened_) >= ctx_->config().login_timeout_ns) {
      SessionEvent ev = event(EventKind::kClosed, CloseReason::kLoginDeadline);
      ev.timeout_ms = ctx_->config().login_timeout_ns / 1'000'000;
      close_now(ev);
      return;
    }
    if (elapsed(now, last_recv_) >= timeout_ns_) {
      SessionEvent ev = event(EventKind::kClosed, CloseReason::kTimeout);
      ev.timeout_ms = timeout_ns_ / 1'000'000;
      close_now(ev);
      return;
    }
    if (state_ != ServerState::kLoggedIn) return;
    const SequencedStore& store = ctx_->store(user_);
    if (cursor_ < store.first_sequence()) {
      close_now(event(EventKind::kClosed, CloseReason::kFellBehind));
      return;
    }
    while (cursor_ < store.next_sequence()) {
      if (!out_.put_packet(packet_type::kSequencedData, store.get(cursor_))) break;
      ++cursor_;
      ++counters_.sequenced_out;
      last_send_ = now;
    }
    if (ctx_->ended() && cursor_ == store.next_sequence()) {
      if (queue(packet_type::kEndOfSession, {}, now)) {
        close_flushing(event(EventKind::kClosed, CloseReason::kEndOfSession), now);
      }
      return;
    }
    if (elapsed(now, last_send_) >= ctx_->config().heartbeat_interval_ns && queue(packet_type::kServerHeartbeat, {}, now))
      ++counters_.heartbeats_out;
  }

  // The transport is closed: by us after finished(), by the peer (error 0), or by an I/O error
  // (its errno). A session still open logs the disconnect.
  void on_transport_closed(std::uint64_t /*now*/, int error = 0) noexcept {
    if (open_for_input())
      close_now(event(EventKind::kClosed, error == 0 ? CloseReason::kPeerClosed : CloseReason::kIoError));
    state_ = ServerState::kIdle;
    out_.clear();
  }

  // Closes the session from the application (a kill switch, a shutdown): 'Z' is not sent.
  void close(std::uint64_t /*now*/) noexcept {
    if (open_for_input()) close_now(event(EventKind::kClosed, CloseReason::kLocal));
    if (state_ == ServerState::kRejecting) state_ = ServerState::kClosed;
  }
  // Closes a connection that has not logged in, to make room for a new one (the transport's
  // choice, issue 18): logged as kEvicted. A logged-in session is left alone.
  void evict(std::uint64_t /*now*/) noexcept {
    if (state_ == ServerState::kAwaitingLogin) close_now(event(EventKind::kClosed, CloseReason::kEvicted));
    if (state_ == ServerState::kRejecting || (state_ == ServerState::kClosing && !authenticated_)) state_ = ServerState::kClosed;
  }
  // A login was accepted on this connection (the transport evicts only connections without one).
  [[nodiscard]] bool authenticated() const noexcept { return authenticated_; }

  // 4.x best-effort server -> client data; false when disabled, not logged in, or no room.
  bool send_unsequenced(std::span<const std::uint8_t> msg, std::uint64_t now) noexcept {
    if (!ctx_->config().unsequenced_to_client || state_ != ServerState::kLoggedIn || msg.size() > ctx_->config().max_message) {
      ++counters_.unsequenced_dropped;
      return false;
    }
    return queue(packet_type::kUnsequencedData, msg, now) ? (++counters_.unsequenced_out, true)
                                                           : (++counters_.unsequenced_dropped, false);
  }
  bool send_debug(std::string_view text, std::uint64_t now) noexcept {
    if (!open_for_input() || text.size() > ctx_->config().max_message) return false;
    return queue(packet_type::kDebug, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, now);
  }

  // Bytes to write; consume_output() what the transport took.
  [[nodiscard]] std::span<const std::uint8_t> output() const noexcept { return out_.pending(); }
  void consume_output(std::size_t n) noexcept { out_.consume(n); }
  // True when the transport should be closed (after writing what output() still holds, if it can).
  [[nodiscard]] bool finished() const noexcept {
    return state_ == ServerState::kClosed || (state_ == ServerState::kClosing && out_.empty());
  }

  [[nodiscard]] ServerState state() const noexcept { return state_; }
  [[nodiscard]] std::uint32_t user() const noexcept { return user_; }
  [[nodiscard]] std::uint64_t connection_id() const noexcept { return connection_; }
  // The next sequence number this connection will send.
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return cursor_; }
  [[nodiscard]] std::uint64_t timeout_ns() const noexcept { return timeout_ns_; }
  [[nodiscard]] CloseReason close_reason() const noexcept { return close_reason_; }
  [[nodiscard]] const ServerCounters& counters() const noexcept { return counters_; }

 private:
  [[nodiscard]] bool open_for_input() const noexcept {
    return state_ == ServerState::kAwaitingLogin || state_ == ServerState::kLoggedIn;
  }

  void dispatch(const Packet& p, std::uint64_t now) noexcept {
    namespace t = packet_type;
    switch (p.type) {
      case t::kLoginRequest:
        if (state_ == ServerState::kAwaitingLogin) {
          login(p, now);
        } else {
          violation(Violation::kDuplicateLogin, p.type);
        }
        break;
      case t::kUnsequencedData:
        if (state_ != ServerState::kLoggedIn) {
          violation(Violation::kNotLoggedIn, p.type);
          break;
        }
        ++counters_.unsequenced_in;
        handler_->on_unsequenced(user_, std::span<const std::uint8_t>(p.payload, p.size), now);
        break;
      case t::kClientHeartbeat:  // accepted before login too: a client waiting for 'A' may send one
        ++counters_.heartbeats_in;
        break;
      case t::kLogoutRequest:
        if (state_ != ServerState::kLoggedIn) {
          violation(Violation::kNotLoggedIn, p.type);
          break;
        }
        close_now(event(EventKind::kClosed, CloseReason::kLogout));
        break;
      case t::kDebug:
        ++counters_.debug_in;
        if constexpr (requires { handler_->on_debug(user_, std::string_view{}); })
          handler_->on_debug(user_, std::string_view(reinterpret_cast<const char*>(p.payload), p.size));
        break;
      default:  // the framer lets no other type through
        break;
    }
  }

  void login(const Packet& p, std::uint64_t now) noexcept {
    LoginRequest req;
    const PacketError e = parse_login_request(p.payload, p.size, req);
    if (e != PacketError::kNone) {
      close_now(with_packet_error(event(EventKind::kClosed, CloseReason::kMalformedPacket), {e, p.type, p.size + 1}));
      return;
    }
    username_ = req.username;
    std::uint32_t user = ServerContext::kNoUser;
    std::uint64_t start = 0;
    const LoginFailure f = ctx_->authorize(req, connection_, user, start, source_, now);
    if (f != LoginFailure::kNone) {
      SessionEvent ev = event(EventKind::kLoginRejected, CloseReason::kLoginRejected);
      ev.login_failure = f;
      ev.reject_code = wire_code(f);
      ev.session = req.session;
      ev.requested_sequence = req.sequence;
      const bool credential = f == LoginFailure::kUnknownUser || f == LoginFailure::kBadPassword || f == LoginFailure::kLockedOut;
      if (credential && ctx_->config().login_failure_delay_ns != 0) {
        // Answered from poll() once the delay has passed: guessing costs the guesser time, not us.
        close_reason_ = ev.close_reason;
        reject_code_ = ev.reject_code;
        reject_at_ = now + ctx_->config().login_failure_delay_ns;
        state_ = ServerState::kRejecting;
        out_.clear();
        emit(ev);
        return;
      }
      std::uint8_t* out = out_.reserve(kLengthFieldSize + kLoginRejectedLength);
      if (out != nullptr) out_.commit(encode_login_rejected(out, ev.reject_code));
      close_flushing(ev, now);
      return;
    }
    user_ = user;
    cursor_ = start;
    if (req.v41 && req.heartbeat_timeout_ms != 0) {
      const std::uint64_t ns = std::uint64_t{req.heartbeat_timeout_ms} * 1'000'000;
      const ServerConfig& c = ctx_->config();
      timeout_ns_ = ns < c.min_requested_timeout_ns ? c.min_requested_timeout_ns
                    : ns > c.max_requested_timeout_ns ? c.max_requested_timeout_ns
                                                      : ns;
    }
    std::uint8_t* out = out_.reserve(kLengthFieldSize + kLoginAcceptedLength);
    if (out != nullptr) out_.commit(encode_login_accepted(out, LoginAccepted{ctx_->session(), cursor_}));
    last_send_ = now;
    state_ = ServerState::kLoggedIn;
    authenticated_ = true;
    SessionEvent ev = event(EventKind::kLoginAccepted, CloseReason::kNone);
    ev.session = ctx_->session();
    ev.requested_sequence = req.sequence;
    emit(ev);
  }

  void violation(Violation v, std::uint8_t type) noexcept {
    SessionEvent ev = event(EventKind::kClosed, CloseReason::kProtocolViolation);
    ev.violation = v;
    ev.packet_type = type;
    close_now(ev);
  }

  // One packet into the output buffer, if there is room (heartbeats and 'Z' wait otherwise).
  bool queue(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint64_t now) noexcept {
    if (!out_.put_packet(type, payload)) return false;
    last_send_ = now;
    return true;
  }

  [[nodiscard]] SessionEvent event(EventKind kind, CloseReason reason) const noexcept {
    SessionEvent e;
    e.kind = kind;
    e.role = Role::kServer;
    e.connection_id = connection_;
    e.username = username_;
    e.sequence = cursor_;
    e.close_reason = reason;
    e.timeout_ms = timeout_ns_ / 1'000'000;
    return e;
  }
  void emit(const SessionEvent& e) noexcept {
    if constexpr (requires { handler_->on_event(e); }) handler_->on_event(e);
  }
  void release() noexcept {
    if (user_ != ServerContext::kNoUser) ctx_->release(user_, connection_);
  }
  // A logged-in user's session ended (logout, peer gone, timeout, error, end of session): the
  // application may act on it (the venue's cancel-on-disconnect). Called once per session.
  void lost(std::uint32_t user, CloseReason why) noexcept {
    if constexpr (requires { handler_->on_session_lost(user, why); }) {
      if (user != ServerContext::kNoUser) handler_->on_session_lost(user, why);
    }
  }
  // Closes at once: what the output buffer holds is dropped.
  void close_now(const SessionEvent& e) noexcept {
    const std::uint32_t user = user_;
    release();
    close_reason_ = e.close_reason;
    state_ = ServerState::kClosed;
    out_.clear();
    emit(e);
    lost(user, e.close_reason);
  }
  // Closes after the output buffer (ending with 'J' or 'Z') is written, or close_linger passes.
  void close_flushing(const SessionEvent& e, std::uint64_t now) noexcept {
    const std::uint32_t user = user_;
    release();
    close_reason_ = e.close_reason;
    state_ = ServerState::kClosing;
    close_started_ = now;
    emit(e);
    lost(user, e.close_reason);
  }

  ServerContext* ctx_;
  Handler* handler_;
  Framer framer_;
  OutputBuffer out_;
  ServerState state_ = ServerState::kIdle;
  std::uint64_t connection_ = 0;
  std::uint32_t user_ = ServerContext::kNoUser;
  Username username_;
  std::uint64_t cursor_ = 0;
  std::uint64_t last_recv_ = 0;
  std::uint64_t last_send_ = 0;
  std::uint64_t timeout_ns_ = 0;
  std::uint64_t close_started_ = 0;
  std::uint64_t opened_ = 0;
  std::uint64_t reject_at_ = 0;
  std::uint64_t source_ = 0;
  RejectCode reject_code_ = RejectCode::kNotAuthorized;
  bool authenticated_ = false;
  CloseReason close_reason_ = CloseReason::kNone;
  ServerCounters counters_;
};

}  // namespace hft::soup
