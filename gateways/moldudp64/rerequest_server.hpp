#pragma once
// MoldUDP64 re-request server (../shared/specs/moldudp64-1.0.txt p.7; PROTOCOLS.md §2.2).
//
// A receiver that sees a sequence gap sends a 20-byte Request Packet (session, first sequence,
// count); "the response to a valid Request Packet is a standard Downstream Packet unicast back to
// the source of the retransmission request", holding "only the number of messages that
// completely fit" - the receiver asks again for the rest.
//
// RequestHandler turns one datagram into at most one reply, with no socket (the fuzz target and
// tests drive it directly). What it answers - the spec defines no error reply, so anything that
// cannot be served is counted and left unanswered, except where a plain downstream packet tells
// the receiver something true:
//
//   not exactly 20 bytes            ignored, counted malformed
//   another session                 ignored, counted (the requester is on another feed)
//   count 0                         ignored, counted empty
//   first sequence >= next one      heartbeat (count 0; 0xFFFF once the session has ended) with
//     published                     the next sequence: "nothing there yet, here is where we are"
//   first sequence no longer held   ignored, counted unavailable (no Mold packet says "gone";
//     (or 0)                        the receiver's timeout has to give up on it)
//   otherwise                       a downstream packet starting at the requested sequence with
//                                   as many consecutive messages as fit in max_payload, and at
//                                   most min(count, max_messages_per_request) of them
//
// RerequestServer owns the UDP socket: poll() reads a bounded batch of datagrams with one
// recvmmsg, answers them from the RetransmitStore with one sendmmsg to each request's source
// address, and returns. All buffers are allocated at construction; a request allocates nothing.
// It reads the store on the venue's thread (the store is not shared across threads).
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "gateways/moldudp64/packet.hpp"
#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/retransmit_store.hpp"
#include "net/socket.hpp"

namespace hft::mold {

struct RerequestConfig {
  SessionId session = SessionId::from("SESSION001");
  // Reply packet budget, header included: at least the publisher's, or a message the feed
  // carried could not be resent. 22..65,507.
  std::size_t max_payload = kMaxPayload;
  // Abuse limits: datagrams read per poll() (one recvmmsg), and messages resent per request
  // whatever the request asks.
  std::uint32_t max_requests_per_poll = 64;
  std::uint16_t max_messages_per_request = 1024;

  // Throws std::invalid_argument naming the field at fault.
  void validate() const;
};

// Reads max_payload, max_requests_per_poll and max_messages_per_request from a TOML table; the
// session is the publisher's.
RerequestConfig parse_rerequest_config(const core::ConfigSection& section, const SessionId& session);

enum class RequestOutcome : std::uint8_t {
  kAnswered,      // reply with >= 1 message
  kBeyondRange,   // reply: heartbeat / end of session with the next sequence
  kMalformed,     // no reply
  kWrongSession,  // no reply
  kEmpty,         // no reply
  kUnavailable,   // no reply
  kTooLarge,      // no reply: the first message is larger than max_payload allows
};

struct RerequestStats {
  std::uint64_t datagrams = 0;        // everything received
  std::uint64_t requests = 0;         // well-formed, for our session
  std::uint64_t answered = 0;         // replies carrying messages
  std::uint64_t messages_resent = 0;
  std::uint64_t reply_bytes = 0;      // every reply, heartbeats included
  std::uint64_t partial = 0;          // answered with fewer messages than requested
  std::uint64_t capped = 0;           // requested more than max_messages_per_request
  std::uint64_t malformed = 0;
  std::uint64_t wrong_session = 0;
  std::uint64_t empty = 0;
  std::uint64_t beyond_range = 0;
  std::uint64_t unavailable = 0;
  std::uint64_t too_large = 0;
  // RerequestServer only:
  std::uint64_t send_errors = 0;      // a reply sendmmsg refused (EAGAIN, unreachable...): dropped
  std::uint64_t receive_errors = 0;   // recvmmsg failures other than "nothing pending"
  std::uint64_t batch_limit_hits = 0; // polls that read max_requests_per_poll datagrams
};

class RequestHandler {
 public:
  struct Reply {
    RequestOutcome outcome;
    std::size_t length;  // bytes written at `out`; 0 = no reply
  };

  // Throws std::invalid_argument on a bad config. `store` must outlive the handler.
  RequestHandler(const RerequestConfig& config, const RetransmitStore& store);

  // Handles one datagram; writes the reply (at most config.max_payload bytes) at `out`.
  Reply handle(const std::uint8_t* datagram, std::size_t len, std::uint8_t* out) noexcept;

  // After the publisher's end_session(): beyond-range requests are answered with 0xFFFF.
  void set_session_ended(bool ended) noexcept { session_ended_ = ended; }

  [[nodiscard]] const RerequestConfig& config() const noexcept { return config_; }
  [[nodiscard]] const RerequestStats& stats() const noexcept { return stats_; }
  [[nodiscard]] RerequestStats& stats() noexcept { return stats_; }

 private:
  RerequestConfig config_;
  const RetransmitStore& store_;
  bool session_ended_ = false;
  RerequestStats stats_;
};

class RerequestServer {
 public:
  // Binds a UDP socket on `listen` (e.g. "0.0.0.0:30002", or port 0 for any) and allocates the
  // batch buffers. Throws on a bad config or when the socket cannot be set up.
  RerequestServer(const RerequestConfig& config, const RetransmitStore& store, const net::Endpoint& listen,
                  const net::UdpOptions& options = {});
  RerequestServer(const RerequestServer&) = delete;
  RerequestServer& operator=(const RerequestServer&) = delete;

  // Reads up to max_requests_per_poll pending datagrams and answers them. Never blocks.
  // Returns the number of datagrams handled.
  int poll() noexcept;
  [[nodiscard]] std::string_view name() const noexcept { return "mold-rerequest"; }

  void set_session_ended(bool ended) noexcept { handler_.set_session_ended(ended); }
  [[nodiscard]] net::Endpoint local_endpoint() const { return net::local_endpoint(fd_.get()); }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const RerequestStats& stats() const noexcept { return handler_.stats(); }
  [[nodiscard]] RequestHandler& handler() noexcept { return handler_; }

 private:
  // A request is 20 bytes; a larger buffer lets a longer datagram read as longer (malformed)
  // rather than as a truncated 20-byte one.
  static constexpr std::size_t kReceiveBuffer = 64;
  static_assert(kReceiveBuffer > kRequestSize, "a longer datagram must not read as a 20-byte request");

  RequestHandler handler_;
  net::Fd fd_;
  std::size_t batch_;
  std::unique_ptr<mmsghdr[]> rx_;
  std::unique_ptr<iovec[]> rx_iov_;
  std::unique_ptr<sockaddr_in[]> sources_;
  std::unique_ptr<std::uint8_t[]> rx_bytes_;
  std::unique_ptr<mmsghdr[]> tx_;
  std::unique_ptr<iovec[]> tx_iov_;
  std::unique_ptr<std::uint8_t[]> tx_bytes_;
};

}  // namespace hft::mold
