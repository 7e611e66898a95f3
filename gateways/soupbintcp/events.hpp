#pragma once
// Session lifecycle events, reported by the server and client engines to their handler: one per
// login accepted, login rejected and session close (with the reason). They are rare (not per
// message), fixed-size and trivially copyable; describe() turns one into the log line.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "core/log.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/packet.hpp"

namespace hft::soup {

enum class Role : std::uint8_t { kServer, kClient };

enum class EventKind : std::uint8_t { kLoginAccepted, kLoginRejected, kClosed };

// Why a login was refused; the wire code is 'A' for the first two, 'S' for the rest.
enum class LoginFailure : std::uint8_t {
  kNone,
  kUnknownUser,
  kBadPassword,
  kUnknownSession,         // requested session is neither blank nor the current one
  kAlreadyLoggedIn,        // the user has a live connection already
  kSequenceAhead,          // requested sequence number beyond the next one the server will send
  kSequenceNotRetained,    // requested sequence number older than the store still holds
  kRejectedByServer,       // client side: the server answered 'J' (see reject_code)
  kLockedOut,              // server: too many failed logins from this source (for this user); not checked
};

[[nodiscard]] constexpr RejectCode wire_code(LoginFailure f) noexcept {
  return f == LoginFailure::kUnknownUser || f == LoginFailure::kBadPassword || f == LoginFailure::kLockedOut
             ? RejectCode::kNotAuthorized
                                                                            : RejectCode::kSessionNotAvailable;
}

enum class CloseReason : std::uint8_t {
  kNone,
  kLogout,             // client sent Logout Request (server) / we logged out (client)
  kLoginRejected,      // server sent / client received Login Rejected
  kEndOfSession,       // server sent / client received End of Session 'Z'
  kTimeout,            // nothing received from the peer for the dead-peer timeout
  kMalformedPacket,    // see packet_error, packet_type, packet_length
  kProtocolViolation,  // a well-formed packet at the wrong time; see violation
  kPeerClosed,         // the transport saw EOF
  kIoError,            // the transport saw an error
  kFellBehind,         // server: messages this client still needed were evicted from the store
  kOutputOverflow,     // output buffer full with a packet that cannot wait
  kLocal,              // closed by the application
  kLoginDeadline,      // server: no login accepted within login_timeout of the connection
  kEvicted,            // server: an unauthenticated connection closed to make room for a new one
};

enum class Violation : std::uint8_t {
  kNone,
  kNotLoggedIn,      // data or logout before the login was accepted
  kDuplicateLogin,   // a second Login Request on a logged-in connection
  kUnexpectedPacket, // client: data before Login Accepted, a second Login Accepted, ...
};

[[nodiscard]] constexpr std::string_view to_string(LoginFailure f) noexcept {
  switch (f) {
    case LoginFailure::kNone: return "none";
    case LoginFailure::kUnknownUser: return "unknown user";
    case LoginFailure::kBadPassword: return "bad password";
    case LoginFailure::kUnknownSession: return "unknown session";
    case LoginFailure::kAlreadyLoggedIn: return "user already logged in";
    case LoginFailure::kSequenceAhead: return "requested sequence number is beyond the stream";
    case LoginFailure::kSequenceNotRetained: return "requested sequence number is no longer retained";
    case LoginFailure::kRejectedByServer: return "rejected by server";
    case LoginFailure::kLockedOut: return "locked out after repeated failures";
  }
  return "?";
}

[[nodiscard]] constexpr std::string_view to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::kNone: return "none";
    case CloseReason::kLogout: return "logout";
    case CloseReason::kLoginRejected: return "login rejected";
    case CloseReason::kEndOfSession: return "end of session";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kMalformedPacket: return "malformed packet";
    case CloseReason::kProtocolViolation: return "protocol violation";
    case CloseReason::kPeerClosed: return "peer closed the connection";
    case CloseReason::kIoError: return "I/O error";
    case CloseReason::kFellBehind: return "fell behind the retained stream";
    case CloseReason::kOutputOverflow: return "output buffer overflow";
    case CloseReason::kLocal: return "closed locally";
    case CloseReason::kLoginDeadline: return "no login within the login deadline";
    case CloseReason::kEvicted: return "evicted before login to make room";
  }
  return "?";
}

[[nodiscard]] constexpr std::string_view to_string(Violation v) noexcept {
  switch (v) {
    case Violation::kNone: return "none";
    case Violation::kNotLoggedIn: return "packet before login";
    case Violation::kDuplicateLogin: return "second login request";
    case Violation::kUnexpectedPacket: return "unexpected packet in this state";
  }
  return "?";
}

struct SessionEvent {
  EventKind kind = EventKind::kClosed;
  Role role = Role::kServer;
  std::uint64_t connection_id = 0;
  Username username;                   // as requested in the login (server) / configured (client)
  SessionName session;
  std::uint64_t sequence = 0;          // accepted: next sequence number; closed: the position then
  std::uint64_t requested_sequence = 0;
  LoginFailure login_failure = LoginFailure::kNone;
  RejectCode reject_code = RejectCode::kNotAuthorized;
  CloseReason close_reason = CloseReason::kNone;
  PacketError packet_error = PacketError::kNone;
  Violation violation = Violation::kNone;
  std::uint8_t packet_type = 0;
  std::uint32_t packet_length = 0;
  std::uint64_t timeout_ms = 0;        // timeouts: the limit that was exceeded
};
static_assert(std::is_trivially_copyable_v<SessionEvent>);

// `ev` (a close for a malformed packet) with what is wrong with the packet: its error, type byte
// and Packet Length.
[[nodiscard]] inline SessionEvent with_packet_error(SessionEvent ev, const FramerError& e) noexcept {
  ev.packet_error = e.error;
  ev.packet_type = e.type;
  ev.packet_length = static_cast<std::uint32_t>(e.length);
  return ev;
}

namespace detail {
inline std::string printable_type(std::uint8_t t) {
  return t >= 0x20 && t < 0x7f ? fmt::format("'{}'", static_cast<char>(t)) : fmt::format("0x{:02x}", t);
}
}  // namespace detail

// One log line (cold path: formats and allocates).
inline std::string describe(const SessionEvent& e) {
  const std::string who = fmt::format("soupbintcp {} conn {} user \"{}\"", e.role == Role::kServer ? "server" : "client",
                                      e.connection_id, core::escape(e.username.trimmed()));
  switch (e.kind) {
    case EventKind::kLoginAccepted:
      return fmt::format("{}: login accepted, session \"{}\", next sequence {} (requested {})", who, core::escape(e.session.trimmed()),
                         e.sequence, e.requested_sequence);
    case EventKind::kLoginRejected:
      return fmt::format("{}: login rejected '{}' ({}), requested session \"{}\" sequence {}", who,
                         static_cast<char>(e.reject_code), to_string(e.login_failure), core::escape(e.session.trimmed()),
                         e.requested_sequence);
    case EventKind::kClosed:
      switch (e.close_reason) {
        case CloseReason::kMalformedPacket:
          return fmt::format("{}: closed: malformed packet: {} (type {}, length {}, {})", who, to_string(e.packet_error),
                             detail::printable_type(e.packet_type), e.packet_length,
                             to_string(e.role == Role::kServer ? Direction::kClientToServer : Direction::kServerToClient));
        case CloseReason::kProtocolViolation:
          return fmt::format("{}: closed: protocol violation: {} (type {})", who, to_string(e.violation),
                             detail::printable_type(e.packet_type));
        case CloseReason::kTimeout:
          return fmt::format("{}: closed: timeout (nothing received for {} ms)", who, e.timeout_ms);
        default:
          return fmt::format("{}: closed: {} at sequence {}", who, to_string(e.close_reason), e.sequence);
      }
  }
  return who;
}

}  // namespace hft::soup
