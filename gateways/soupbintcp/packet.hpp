#pragma once
// SoupBinTCP 3.00 / 4.0 / 4.1 logical packets (../shared/PROTOCOLS.md §4).
//
//   uint16 BE Packet Length (= 1 type byte + payload; excludes itself) | Packet Type | payload
//
// Types: '+' Debug (both ways); server -> client: 'A' Login Accepted, 'J' Login Rejected,
// 'S' Sequenced Data, 'H' Server Heartbeat, 'Z' End of Session, and in 4.x a best-effort 'U';
// client -> server: 'L' Login Request, 'U' Unsequenced Data, 'R' Client Heartbeat, 'O' Logout.
//
// Field formatting: alpha fields are left-justified and space-padded; the numeric fields of Login
// Request / Login Accepted are ASCII decimal, emitted right-justified and space-padded (nassau,
// go-finproto, the real JNX capture) and parsed tolerantly (spaces trimmed on both sides, since
// NASDAQ's own Python library emits them left-justified), rejecting anything but digits.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "gateways/common/endian.hpp"

namespace hft::soup {

inline constexpr std::size_t kLengthFieldSize = 2;
inline constexpr std::size_t kHeaderSize = 3;  // length + type
// The Packet Length field is 16 bits and counts the type byte.
inline constexpr std::size_t kMaxPacketLength = 0xFFFF;
inline constexpr std::size_t kMaxPayload = kMaxPacketLength - 1;

namespace packet_type {
inline constexpr std::uint8_t kDebug = '+';
inline constexpr std::uint8_t kLoginAccepted = 'A';
inline constexpr std::uint8_t kLoginRejected = 'J';
inline constexpr std::uint8_t kSequencedData = 'S';
inline constexpr std::uint8_t kServerHeartbeat = 'H';
inline constexpr std::uint8_t kEndOfSession = 'Z';
inline constexpr std::uint8_t kLoginRequest = 'L';
inline constexpr std::uint8_t kUnsequencedData = 'U';
inline constexpr std::uint8_t kClientHeartbeat = 'R';
inline constexpr std::uint8_t kLogoutRequest = 'O';
}  // namespace packet_type

inline constexpr std::size_t kUsernameSize = 6;
inline constexpr std::size_t kPasswordSize = 10;
inline constexpr std::size_t kSessionSize = 10;
inline constexpr std::size_t kSequenceSize = 20;
inline constexpr std::size_t kHeartbeatTimeoutSize = 5;  // 4.1 only, milliseconds

// Packet Length values (type byte + payload).
inline constexpr std::size_t kLoginRequestLength = 1 + kUsernameSize + kPasswordSize + kSessionSize + kSequenceSize;  // 47
inline constexpr std::size_t kLoginRequest41Length = kLoginRequestLength + kHeartbeatTimeoutSize;                   // 52
inline constexpr std::size_t kLoginAcceptedLength = 1 + kSessionSize + kSequenceSize;                               // 31
inline constexpr std::size_t kLoginRejectedLength = 2;
static_assert(kLoginRequestLength == 47 && kLoginRequest41Length == 52 && kLoginAcceptedLength == 31);

enum class RejectCode : std::uint8_t {
  kNotAuthorized = 'A',        // bad username or password
  kSessionNotAvailable = 'S',  // the requested session (or sequence) cannot be served
};

enum class Direction : std::uint8_t { kClientToServer, kServerToClient };

// Why a packet was refused. Any of these closes the session; nothing else is affected.
enum class PacketError : std::uint8_t {
  kNone,
  kZeroLength,           // Packet Length 0: there is no type byte
  kOversize,             // longer than the configured maximum for this direction
  kUnknownType,          // not a SoupBinTCP type for this direction
  kBadLength,            // fixed-size type ('H', 'R', 'O', 'Z', 'A', 'J') with another length
  kBadLoginLength,       // Login Request neither 47 (3.00/4.0) nor 52 (4.1) bytes
  kNonNumericSequence,   // sequence number field holds something other than spaces and digits
  kNonNumericTimeout,    // 4.1 heartbeat timeout field is not numeric
  kBadRejectCode,        // Login Rejected code other than 'A' / 'S'
  kUnsequencedDisabled,  // server -> client 'U' while 4.x best-effort data is not enabled
};

[[nodiscard]] constexpr std::string_view to_string(PacketError e) noexcept {
  switch (e) {
    case PacketError::kNone: return "none";
    case PacketError::kZeroLength: return "zero packet length";
    case PacketError::kOversize: return "packet longer than the configured maximum";
    case PacketError::kUnknownType: return "unknown packet type for this direction";
    case PacketError::kBadLength: return "wrong length for the packet type";
    case PacketError::kBadLoginLength: return "login request length is neither 47 nor 52";
    case PacketError::kNonNumericSequence: return "sequence number field is not numeric";
    case PacketError::kNonNumericTimeout: return "heartbeat timeout field is not numeric";
    case PacketError::kBadRejectCode: return "login rejected code is neither 'A' nor 'S'";
    case PacketError::kUnsequencedDisabled: return "server unsequenced data is not enabled";
  }
  return "?";
}

[[nodiscard]] constexpr std::string_view to_string(Direction d) noexcept {
  return d == Direction::kClientToServer ? "client->server" : "server->client";
}

// A fixed-width alpha field: left-justified, right-padded with spaces.
template <std::size_t N>
struct Alpha {
  std::array<char, N> chars = filled();

  static constexpr std::array<char, N> filled() noexcept {
    std::array<char, N> a{};
    for (auto& c : a) c = ' ';
    return a;
  }
  // Text longer than N is cut (configuration validates lengths before it gets here).
  static constexpr Alpha from(std::string_view text) noexcept {
    Alpha a;
    for (std::size_t i = 0; i < N && i < text.size(); ++i) a.chars[i] = text[i];
    return a;
  }
  static Alpha from_wire(const std::uint8_t* p) noexcept {
    Alpha a;
    std::memcpy(a.chars.data(), p, N);
    return a;
  }
  void write(std::uint8_t* p) const noexcept { std::memcpy(p, chars.data(), N); }
  // Without leading and trailing spaces (peers differ in justification; see the header comment).
  [[nodiscard]] constexpr std::string_view trimmed() const noexcept {
    std::size_t b = 0;
    std::size_t e = N;
    while (b < e && chars[b] == ' ') ++b;
    while (e > b && chars[e - 1] == ' ') --e;
    return {chars.data() + b, e - b};
  }
  [[nodiscard]] constexpr bool blank() const noexcept { return trimmed().empty(); }
  friend constexpr bool operator==(const Alpha&, const Alpha&) = default;
};

using Username = Alpha<kUsernameSize>;
using Password = Alpha<kPasswordSize>;
using SessionName = Alpha<kSessionSize>;

// ASCII decimal, right-justified, space-padded. A value with more digits than `width` keeps its
// low-order digits (cannot happen for 20-digit sequence numbers; callers clamp 5-digit timeouts).
inline void write_numeric(std::uint8_t* p, std::size_t width, std::uint64_t v) noexcept {
  std::size_t i = width;
  do {
    p[--i] = static_cast<std::uint8_t>('0' + v % 10);
    v /= 10;
  } while (v != 0 && i > 0);
  while (i > 0) p[--i] = ' ';
}

enum class NumericParse : std::uint8_t { kOk, kBlank, kInvalid };

// Spaces trimmed on both sides; then only digits, no overflow. All spaces is kBlank.
[[nodiscard]] inline NumericParse parse_numeric(const std::uint8_t* p, std::size_t width, std::uint64_t& out) noexcept {
  std::size_t b = 0;
  std::size_t e = width;
  while (b < e && p[b] == ' ') ++b;
  while (e > b && p[e - 1] == ' ') --e;
  if (b == e) return NumericParse::kBlank;
  std::uint64_t v = 0;
  for (std::size_t i = b; i < e; ++i) {
    const unsigned d = static_cast<unsigned>(p[i]) - '0';
    if (d > 9) return NumericParse::kInvalid;
    if (v > (~std::uint64_t{0} - d) / 10) return NumericParse::kInvalid;  // would overflow
    v = v * 10 + d;
  }
  out = v;
  return NumericParse::kOk;
}

// Checks a packet's type and length (type byte + payload) for the direction it travels. Called
// by the framer as soon as the 3-byte header is in, before any payload is buffered.
[[nodiscard]] constexpr PacketError validate_header(Direction dir, std::uint8_t type, std::size_t length,
                                                    std::size_t max_length, bool server_unsequenced) noexcept {
  if (length == 0) return PacketError::kZeroLength;
  if (length > max_length) return PacketError::kOversize;
  namespace t = packet_type;
  if (type == t::kDebug) return PacketError::kNone;
  if (dir == Direction::kClientToServer) {
    switch (type) {
      case t::kLoginRequest:
        return length == kLoginRequestLength || length == kLoginRequest41Length ? PacketError::kNone
                                                                                : PacketError::kBadLoginLength;
      case t::kUnsequencedData: return PacketError::kNone;
      case t::kClientHeartbeat:
      case t::kLogoutRequest: return length == 1 ? PacketError::kNone : PacketError::kBadLength;
      default: return PacketError::kUnknownType;
    }
  }
  switch (type) {
    case t::kLoginAccepted: return length == kLoginAcceptedLength ? PacketError::kNone : PacketError::kBadLength;
    case t::kLoginRejected: return length == kLoginRejectedLength ? PacketError::kNone : PacketError::kBadLength;
    case t::kSequencedData: return PacketError::kNone;
    case t::kServerHeartbeat:
    case t::kEndOfSession: return length == 1 ? PacketError::kNone : PacketError::kBadLength;
    case t::kUnsequencedData: return server_unsequenced ? PacketError::kNone : PacketError::kUnsequencedDisabled;
    default: return PacketError::kUnknownType;
  }
}

// ---- Packet bodies -----------------------------------------------------------------------------

struct LoginRequest {
  Username username;
  Password password;
  SessionName session;               // blank: the currently active session
  std::uint64_t sequence = 0;        // next sequence number the client expects; 0: start from now
  std::uint32_t heartbeat_timeout_ms = 0;  // 4.1 only; 0 with the 4.1 form: the server's default
  bool v41 = false;                  // 52-byte 4.1 form (with the heartbeat timeout field)

  friend bool operator==(const LoginRequest&, const LoginRequest&) = default;
};

struct LoginAccepted {
  SessionName session;
  std::uint64_t sequence = 0;  // the next sequence number the server will send

  friend bool operator==(const LoginAccepted&, const LoginAccepted&) = default;
};

inline constexpr std::uint32_t kMaxHeartbeatTimeoutMs = 99'999;  // five ASCII digits

inline std::size_t write_header(std::uint8_t* out, std::uint8_t type, std::size_t payload_size) noexcept {
  wire::store_be16(out, static_cast<std::uint16_t>(payload_size + 1));
  out[2] = type;
  return kHeaderSize;
}

// Encoders write a whole packet (length field included) and return its size.
inline std::size_t encode_login_request(std::uint8_t* out, const LoginRequest& r) noexcept {
  const std::size_t length = r.v41 ? kLoginRequest41Length : kLoginRequestLength;
  write_header(out, packet_type::kLoginRequest, length - 1);
  std::uint8_t* p = out + kHeaderSize;
  r.username.write(p);
  r.password.write(p + 6);
  r.session.write(p + 16);
  write_numeric(p + 26, kSequenceSize, r.sequence);
  if (r.v41) {
    const std::uint32_t ms = r.heartbeat_timeout_ms < kMaxHeartbeatTimeoutMs ? r.heartbeat_timeout_ms : kMaxHeartbeatTimeoutMs;
    write_numeric(p + 46, kHeartbeatTimeoutSize, ms);
  }
  return kLengthFieldSize + length;
}

inline std::size_t encode_login_accepted(std::uint8_t* out, const LoginAccepted& a) noexcept {
  write_header(out, packet_type::kLoginAccepted, kLoginAcceptedLength - 1);
  a.session.write(out + kHeaderSize);
  write_numeric(out + kHeaderSize + kSessionSize, kSequenceSize, a.sequence);
  return kLengthFieldSize + kLoginAcceptedLength;
}

inline std::size_t encode_login_rejected(std::uint8_t* out, RejectCode code) noexcept {
  write_header(out, packet_type::kLoginRejected, 1);
  out[kHeaderSize] = static_cast<std::uint8_t>(code);
  return kLengthFieldSize + kLoginRejectedLength;
}

// 'H', 'R', 'Z', 'O': a type byte and nothing else.
inline std::size_t encode_empty(std::uint8_t* out, std::uint8_t type) noexcept { return write_header(out, type, 0); }

// Parsers take the payload (the bytes after the type byte) of a packet whose header passed
// validate_header().
[[nodiscard]] inline PacketError parse_login_request(const std::uint8_t* payload, std::size_t size,
                                                     LoginRequest& out) noexcept {
  if (size != kLoginRequestLength - 1 && size != kLoginRequest41Length - 1) return PacketError::kBadLoginLength;
  out.username = Username::from_wire(payload);
  out.password = Password::from_wire(payload + 6);
  out.session = SessionName::from_wire(payload + 16);
  if (parse_numeric(payload + 26, kSequenceSize, out.sequence) != NumericParse::kOk)
    return PacketError::kNonNumericSequence;
  out.v41 = size == kLoginRequest41Length - 1;
  out.heartbeat_timeout_ms = 0;
  if (out.v41) {
    std::uint64_t ms = 0;
    const NumericParse r = parse_numeric(payload + 46, kHeartbeatTimeoutSize, ms);
    if (r == NumericParse::kInvalid) return PacketError::kNonNumericTimeout;
    out.heartbeat_timeout_ms = static_cast<std::uint32_t>(ms);  // five digits: fits
  }
  return PacketError::kNone;
}

[[nodiscard]] inline PacketError parse_login_accepted(const std::uint8_t* payload, std::size_t size,
                                                      LoginAccepted& out) noexcept {
  if (size != kLoginAcceptedLength - 1) return PacketError::kBadLength;
  out.session = SessionName::from_wire(payload);
  if (parse_numeric(payload + kSessionSize, kSequenceSize, out.sequence) != NumericParse::kOk)
    return PacketError::kNonNumericSequence;
  return PacketError::kNone;
}

[[nodiscard]] inline PacketError parse_login_rejected(const std::uint8_t* payload, std::size_t size,
                                                      RejectCode& out) noexcept {
  if (size != kLoginRejectedLength - 1) return PacketError::kBadLength;
  if (payload[0] != 'A' && payload[0] != 'S') return PacketError::kBadRejectCode;
  out = static_cast<RejectCode>(payload[0]);
  return PacketError::kNone;
}

// Time since `then`, 0 when the caller's clock reads earlier than `then` (times passed in from
// different reads may step back a little; an unsigned difference would look like ages).
[[nodiscard]] constexpr std::uint64_t elapsed(std::uint64_t now, std::uint64_t then) noexcept {
  return now > then ? now - then : 0;
}

}  // namespace hft::soup
