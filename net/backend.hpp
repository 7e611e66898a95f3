#pragma once
// The network backends' shared vocabulary. Two backends offer the same members, so a stage is a
// template over its backend and the choice (config `net.backend`) costs no call per packet:
//
//   UringBackend  (uring_backend.hpp)  multishot recvmsg/recv into provided buffer rings,
//                                      registered files, sends through the SQ; busy-polls the CQ
//   EpollBackend  (epoll_backend.hpp)  epoll + recvmmsg/recv/send; for comparison and for hosts
//                                      where io_uring is disabled (kernel.io_uring_disabled)
//
// Both:  int add_udp(Fd, bool kernel_timestamps);  int add_tcp(Fd);
//        template <Handler H> int poll(H&) noexcept;            // bounded batch, returns work done
//        bool send(int socket, const void*, std::size_t) noexcept;           // TCP
//        bool send_to(int socket, const void*, std::size_t, const sockaddr_in&) noexcept;  // UDP
//        void close_socket(int socket) noexcept;
#include <netinet/in.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>

namespace hft::net {

enum class BackendKind : std::uint8_t { kIoUring, kEpoll };

struct BackendOptions {
  unsigned queue_depth = 256;          // io_uring SQ entries
  unsigned buffer_count = 512;         // provided receive buffers (power of two)
  unsigned buffer_size = 2048;         // bytes each: a whole MoldUDP64 datagram (<= 1472) + headers
  bool busy_poll = true;               // poll() never blocks; with false it waits up to wait_us
  unsigned wait_us = 1000;             // upper bound of one blocking wait when !busy_poll
  bool sqpoll = false;                 // io_uring: kernel SQ polling thread (costs a core)
  int sqpoll_cpu = -1;
  unsigned send_buffer_bytes = 64 * 1024;  // per TCP socket, for sends still in flight
};

// A received UDP datagram; the bytes are valid only during the handler call.
struct Datagram {
  int socket = -1;
  const std::uint8_t* data = nullptr;
  std::uint32_t size = 0;
  std::uint64_t kernel_rx_ns = 0;  // SO_TIMESTAMPNS (CLOCK_REALTIME), 0 if not enabled
  sockaddr_in from{};
  bool truncated = false;          // larger than the receive buffer (counted, bytes cut)
};

template <class H>
concept NetHandler = requires(H& h, const Datagram& d, const std::uint8_t* p, std::size_t n, int s) {
  { h.on_datagram(d) } noexcept;
  { h.on_stream_data(s, p, n) } noexcept;
  { h.on_stream_closed(s, s) } noexcept;  // (socket, errno or 0 for an orderly close)
};

// Counters every backend keeps (written by the polling thread only).
struct NetCounters {
  std::uint64_t datagrams = 0;
  std::uint64_t datagram_bytes = 0;
  std::uint64_t truncated = 0;
  std::uint64_t stream_bytes_in = 0;
  std::uint64_t stream_bytes_out = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t send_backlog_full = 0;  // a send refused because the socket's buffer was full
  std::uint64_t rearms = 0;             // multishot receives re-armed (buffers ran out, etc.)
  std::uint64_t polls = 0;
  std::uint64_t empty_polls = 0;
};

// What the kernel offers io_uring; filled by probe_io_uring().
struct UringFeatures {
  bool available = false;      // io_uring_setup works for this process
  int disabled_sysctl = 0;     // /proc/sys/kernel/io_uring_disabled (0, 1 or 2)
  bool multishot_recv = false; // IORING_RECV_MULTISHOT / recvmsg multishot (5.19+/6.0+)
  bool provided_buffer_ring = false;  // IORING_REGISTER_PBUF_RING (5.19+)
  bool registered_files = false;
  bool sqpoll = false;         // IORING_SETUP_SQPOLL permitted
  bool defer_taskrun = false;  // IORING_SETUP_DEFER_TASKRUN (6.1+)
  std::string error;           // why io_uring is unavailable
  [[nodiscard]] std::string describe() const;
};

// Probes by setting up throw-away rings; safe to call at start-up.
UringFeatures probe_io_uring();

}  // namespace hft::net
