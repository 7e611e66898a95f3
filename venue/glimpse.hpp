#pragma once
// The venue's GLIMPSE 5.0 port (`hft-exchange --glimpse HOST:PORT`): a snapshot of the book in
// ITCH 5.0 formats over SoupBinTCP (gateways/itch/glimpse.hpp; docs/market-data.md).
//
// One GlimpseSession per TCP connection, driven by the venue's net::TcpServer like the order-entry
// port (the same per-source limit, eviction of connections not logged in, rate-limited logging).
// A client logs in with an order-entry account's credentials for sequence 1 (0 is taken as 1;
// anything later is refused 'S': a snapshot is not resumable). The credential check, the failed-
// login delay and the lockout are the SoupBinTCP server's (soup::ServerContext::authorize on a
// context of its own, so GLIMPSE failures do not lock order entry out and vice versa), and the
// login must complete within login_timeout of the connection (absolute, issue 18).
//
// On the login the session asks its builder for the snapshot - all of it at once, from the
// matching engine's current state, with the feed's next MoldUDP64 sequence number: the venue is
// single-threaded and calls the server between requests, so the books and the number agree - and
// the whole answer (Login Accepted, one Sequenced Data packet per message, End of Session) is one
// buffer the transport writes as the socket takes it. The buffer is released when the connection
// closes. A client that sends nothing for `timeout` (it must heartbeat, SoupBinTCP 3.00 §1.3) is
// dropped.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/clock.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/packet.hpp"
#include "gateways/soupbintcp/server.hpp"

namespace hft::venue {

struct GlimpseCounters {
  std::uint64_t connections = 0;
  std::uint64_t snapshots = 0;        // logins accepted: snapshots built and sent
  std::uint64_t login_rejects = 0;
  std::uint64_t snapshot_messages = 0;
  std::uint64_t snapshot_bytes = 0;
  std::uint64_t completed = 0;        // every byte written, End of Session included
  std::uint64_t closed_early = 0;     // peer gone, timeout, login deadline, malformed, evicted
  std::uint64_t last_build_ns = 0;    // time to build the last snapshot
};

// Appends the snapshot's sequenced messages to `out` as SoupBinTCP packets (glimpse.cpp has
// the venue's); returns how many messages.
using GlimpseBuilder = std::size_t (*)(void* context, std::vector<std::uint8_t>& out);

class GlimpseSession {
 public:
  GlimpseSession(soup::ServerContext& context, GlimpseBuilder build, void* build_context, GlimpseCounters& counters)
      : ctx_(&context),
        build_(build),
        build_context_(build_context),
        counters_(&counters),
        framer_(soup::Direction::kClientToServer, context.config().max_inbound_packet) {}
  GlimpseSession(const GlimpseSession&) = delete;
  GlimpseSession& operator=(const GlimpseSession&) = delete;

  void set_source(std::uint64_t source) noexcept { source_ = source; }

  void open(std::uint64_t connection_id, std::uint64_t now) noexcept;
  void on_bytes(const std::uint8_t* data, std::size_t size, std::uint64_t now) noexcept;
  void poll(std::uint64_t now) noexcept;
  [[nodiscard]] std::span<const std::uint8_t> output() const noexcept {
    return {out_.data() + sent_, out_.size() - sent_};
  }
  void consume_output(std::size_t n) noexcept;
  [[nodiscard]] bool finished() const noexcept {
    return state_ == State::kClosed || (state_ == State::kFlushing && sent_ == out_.size());
  }
  void close(std::uint64_t now) noexcept;
  void on_transport_closed(std::uint64_t now, int error) noexcept;
  [[nodiscard]] bool authenticated() const noexcept { return authenticated_; }
  void evict(std::uint64_t now) noexcept;

 private:
  enum class State : std::uint8_t { kIdle, kAwaitingLogin, kRejecting, kFlushing, kClosed };
  void login(const soup::Packet& p, std::uint64_t now) noexcept;
  void reject(soup::RejectCode code, std::uint64_t now) noexcept;
  void end(bool early) noexcept;

  soup::ServerContext* ctx_;
  GlimpseBuilder build_;
  void* build_context_;
  GlimpseCounters* counters_;
  soup::Framer framer_;
  std::vector<std::uint8_t> out_;
  std::size_t sent_ = 0;
  State state_ = State::kIdle;
  std::uint64_t connection_ = 0;
  std::uint64_t source_ = 0;
  std::uint64_t opened_ = 0;
  std::uint64_t last_recv_ = 0;
  std::uint64_t flush_started_ = 0;
  std::uint64_t reject_at_ = 0;
  soup::RejectCode reject_code_ = soup::RejectCode::kNotAuthorized;
  bool authenticated_ = false;
  bool ended_ = false;
};

// Appends one Sequenced Data packet holding `msg`.
inline void append_sequenced(std::vector<std::uint8_t>& out, const std::uint8_t* msg, std::size_t n) {
  const std::size_t at = out.size();
  out.resize(at + soup::kHeaderSize + n);
  soup::write_header(out.data() + at, soup::packet_type::kSequencedData, n);
  std::memcpy(out.data() + at + soup::kHeaderSize, msg, n);
}

}  // namespace hft::venue
