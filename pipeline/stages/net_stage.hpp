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
#include <cstdint>
#include <cstring>
#include <ctime>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/moldudp64/session.hpp"
#include "net/backend.hpp"
#include "net/socket.hpp"
#include "pipeline/events.hpp"

namespace hft::pipeline {

struct FeedConfig {
  net::Endpoint listen;      // unicast local address:port, or a multicast group:port
  std::string interface;     // multicast interface address ("" = any)
  net::Endpoint rerequest;   // the venue's re-request server
  mold::SessionConfig session;
  bool kernel_timestamps = true;
  int receive_buffer = 8 << 20;
  int socket_busy_poll_us = 0;
};

struct NetCountersView {
  std::uint64_t datagrams = 0, messages = 0, overflow = 0, requests_sent = 0, stale_marks = 0;
};

template <class Backend>
class NetStage {
 public:
  NetStage(Backend& backend, const FeedConfig& config, core::SpscRing<RxMessage>& out, core::Histogram& kernel_to_user)
      : backend_(backend),
        out_(out),
        kernel_hist_(kernel_to_user),
        clock_(core::tsc_clock()),
        sink_{this},
        session_(sink_, config.session),
        rerequest_(config.rerequest) {
    net::UdpOptions o;
    o.interface = config.interface;
    o.receive_buffer = config.receive_buffer;
    o.busy_poll_us = config.socket_busy_poll_us;
    socket_ = backend_.add_udp(net::udp_receiver(config.listen, o), config.kernel_timestamps);
  }

  int poll() noexcept {
    const int work = backend_.poll(*this);
    if (session_.in_recovery() || work != 0) {
      mold::RequestPacket req;
      // The pass's time (core::pass_rdtsc): request timeouts are milliseconds, and the packets
      // just handled were stamped with their own read.
      if (session_.poll(clock_.to_monotonic_ns(core::pass_rdtsc()), req)) {
        std::uint8_t bytes[mold::kRequestSize];
        req.write(bytes);
        if (backend_.send_to(socket_, bytes, sizeof bytes, rerequest_.addr)) ++counters_.requests_sent;
      }
    }
    return work;
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
    session_.on_packet(d.data, d.size, mono);
    if (stale_ && !lost_ && !session_.in_recovery()) mark(2);  // the gap is filled
  }
  void on_stream_data(int, const std::uint8_t*, std::size_t) noexcept {}
  void on_stream_closed(int, int) noexcept {}

  // ---- MoldUDP64 session handler (through SessionSink) --------------------------------------
  void deliver(std::uint64_t sequence, const std::uint8_t* bytes, std::size_t length) noexcept {
    RxMessage* m = out_.claim();
    if (m == nullptr || length > m->bytes.size()) {
      // The parser fell a whole ring behind (or a message is not ITCH 5.0-sized): a message is
      // lost for the books, exactly like a declared MoldUDP64 loss.
      ++counters_.overflow;
      lost_ = true;
      if (!stale_) mark(1);
      return;
    }
    m->origin_tsc = packet_tsc_;
    m->sequence = sequence;
    m->kernel_delay_ns = kernel_delay_ns_;
    m->length = static_cast<std::uint8_t>(length);
    m->kind = 0;
    std::memcpy(m->bytes.data(), bytes, length);
    out_.publish();
    ++counters_.messages;
  }
  void gap_seen() noexcept {
    if (!stale_) mark(1);
  }
  void messages_lost() noexcept {
    lost_ = true;
    if (!stale_) mark(1);
  }

  [[nodiscard]] const mold::SessionCounters& session_counters() const noexcept { return session_.counters(); }
  [[nodiscard]] const NetCountersView& counters() const noexcept { return counters_; }
  [[nodiscard]] bool stale() const noexcept { return stale_; }
  [[nodiscard]] bool in_recovery() const noexcept { return session_.in_recovery(); }
  [[nodiscard]] std::uint64_t next_expected() const noexcept { return session_.next_expected(); }
  [[nodiscard]] int socket() const noexcept { return socket_; }

 private:

  // kind 1: stale, 2: fresh. A marker must not be lost: if the ring is full it is retried on the
  // next datagram (stale_ keeps its old value until the marker is out).
  void mark(std::uint8_t kind) noexcept {
    RxMessage* m = out_.claim();
    if (m == nullptr) return;
    *m = RxMessage{};
    m->origin_tsc = packet_tsc_;
    m->kind = kind;
    out_.publish();
    stale_ = kind == 1;
    ++counters_.stale_marks;
  }

  // The session's handler; a separate type because the session needs a complete one.
  struct SessionSink {
    NetStage* stage;
    void on_message(std::uint64_t seq, const std::uint8_t* p, std::size_t n) noexcept { stage->deliver(seq, p, n); }
    void on_gap(std::uint64_t, std::uint64_t) noexcept { stage->gap_seen(); }
    void on_lost(std::uint64_t, std::uint64_t) noexcept { stage->messages_lost(); }
  };

  Backend& backend_;
  core::SpscRing<RxMessage>& out_;
  core::Histogram& kernel_hist_;
  const core::TscClock& clock_;
  SessionSink sink_;
  mold::Session<SessionSink> session_;
  net::Endpoint rerequest_;
  int socket_ = -1;
  std::uint64_t packet_tsc_ = 0;
  std::uint32_t kernel_delay_ns_ = 0;
  bool stale_ = false;
  bool lost_ = false;
  NetCountersView counters_;
};

}  // namespace hft::pipeline
