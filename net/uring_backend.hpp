#pragma once
// io_uring backend. Receives with one multishot recvmsg (UDP: source address and SO_TIMESTAMPNS
// come back in the buffer) or multishot recv (TCP) per socket, into a provided buffer ring, so
// the steady state submits nothing to receive. Sockets are registered files. TCP sends are
// copied into a per-socket byte ring and submitted at once (one io_uring_enter, the network's own
// syscall); at most one send is in flight per socket so bytes stay in order.
//
// Busy polling: poll() reads the completion queue in user space; when it is empty it reads the
// ring's IORING_SQ_TASKRUN flag (a plain load) and enters the kernel only when receive work is
// pending there (IORING_SETUP_TASKRUN_FLAG with DEFER_TASKRUN, or COOP_TASKRUN on kernels
// without it), so an idle poll makes no syscall and the kernel never has to interrupt the
// spinning thread. When busy_poll is off, poll() waits in io_uring_wait_cqe_timeout.
#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "net/backend.hpp"
#include "net/socket.hpp"

namespace hft::net {

class UringBackend {
 public:
  static constexpr BackendKind kKind = BackendKind::kIoUring;
  static constexpr int kMaxSockets = 16;

  // Throws std::runtime_error naming the failing call (and the io_uring_disabled sysctl when it
  // is the cause) when io_uring cannot be used.
  explicit UringBackend(const BackendOptions& options);
  ~UringBackend();
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  // Registers and arms a socket; returns its id (0..kMaxSockets-1). Start-up only.
  int add_udp(Fd fd, bool kernel_timestamps);
  int add_tcp(Fd fd);
  void close_socket(int socket) noexcept;
  // Must be called on the thread that will poll, before the first poll (enables a ring that was
  // created disabled for DEFER_TASKRUN's single-issuer rule). Harmless otherwise.
  void on_thread_start() noexcept;

  template <NetHandler H>
  int poll(H& handler) noexcept;

  bool send(int socket, const void* data, std::size_t size) noexcept;
  bool send_to(int socket, const void* data, std::size_t size, const sockaddr_in& to) noexcept;

  [[nodiscard]] const NetCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const UringFeatures& features() const noexcept { return features_; }
  [[nodiscard]] std::string describe() const;
  [[nodiscard]] int native_fd(int socket) const noexcept { return sockets_[static_cast<std::size_t>(socket)].fd.get(); }

 private:
  enum Op : std::uint64_t { kRecv = 1, kSend = 2 };
  struct SendRing {
    std::unique_ptr<std::uint8_t[]> bytes;
    std::size_t capacity = 0;
    std::uint64_t head = 0;  // next byte to hand to the kernel
    std::uint64_t tail = 0;  // end of queued bytes
    std::uint32_t in_flight = 0;
  };
  struct Socket {
    Fd fd;
    bool open = false;
    bool udp = false;
    bool timestamps = false;
    SendRing send;
  };

  void arm_recv(int socket) noexcept;
  void submit_send(int socket) noexcept;
  void recycle(std::uint16_t buffer_id) noexcept;
  template <NetHandler H>
  void on_recv(int socket, const io_uring_cqe& cqe, H& handler) noexcept;
  void on_send(int socket, const io_uring_cqe& cqe) noexcept;
  int file_index(int socket) const noexcept { return registered_ ? socket : sockets_[static_cast<std::size_t>(socket)].fd.get(); }
  unsigned sqe_flags() const noexcept { return registered_ ? IOSQE_FIXED_FILE : 0u; }

  BackendOptions options_;
  UringFeatures features_;
  io_uring ring_{};
  bool ring_ready_ = false;
  bool disabled_until_thread_start_ = false;
  bool registered_ = false;
  io_uring_buf_ring* buf_ring_ = nullptr;
  std::size_t buf_ring_bytes_ = 0;
  std::uint8_t* buffers_ = nullptr;
  std::size_t buffers_bytes_ = 0;
  unsigned buffer_mask_ = 0;
  unsigned pending_recycles_ = 0;
  bool need_submit_ = false;
  msghdr recvmsg_template_{};
  std::vector<Socket> sockets_;
  NetCounters counters_;
};

// ---- inline hot path --------------------------------------------------------------------------

inline void UringBackend::recycle(std::uint16_t buffer_id) noexcept {
  io_uring_buf_ring_add(buf_ring_, buffers_ + static_cast<std::size_t>(buffer_id) * options_.buffer_size,
                        options_.buffer_size, buffer_id, static_cast<int>(buffer_mask_),
                        static_cast<int>(pending_recycles_));
  ++pending_recycles_;
}

template <NetHandler H>
void UringBackend::on_recv(int socket, const io_uring_cqe& cqe, H& handler) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (cqe.res <= 0 || (cqe.flags & IORING_CQE_F_BUFFER) == 0) {
    if (cqe.flags & IORING_CQE_F_BUFFER) recycle(static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    // TCP: 0 is an orderly close, an error other than -ENOBUFS a broken connection.
    if (!s.udp && (cqe.res == 0 || (cqe.res < 0 && cqe.res != -ENOBUFS))) {
      if (s.open) {
        s.open = false;
        handler.on_stream_closed(socket, cqe.res == 0 ? 0 : -cqe.res);
      }
      return;
    }
    // -ENOBUFS: every provided buffer was in use; the data waits in the socket. Re-arm.
    if (!more && s.open) arm_recv(socket);
    return;
  }
  const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  std::uint8_t* buf = buffers_ + static_cast<std::size_t>(bid) * options_.buffer_size;
  if (s.udp) {
    io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buf, cqe.res, &recvmsg_template_);
    if (out != nullptr) {
      Datagram d;
      d.socket = socket;
      d.data = static_cast<const std::uint8_t*>(io_uring_recvmsg_payload(out, &recvmsg_template_));
      d.size = io_uring_recvmsg_payload_length(out, cqe.res, &recvmsg_template_);
      d.truncated = (out->flags & MSG_TRUNC) != 0;
      if (out->namelen >= sizeof(sockaddr_in)) std::memcpy(&d.from, io_uring_recvmsg_name(out), sizeof(sockaddr_in));
      for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(out, &recvmsg_template_); c != nullptr;
           c = io_uring_recvmsg_cmsg_nexthdr(out, &recvmsg_template_, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          d.kernel_rx_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
        }
      }
      ++counters_.datagrams;
      counters_.datagram_bytes += d.size;
      counters_.truncated += d.truncated ? 1 : 0;
      handler.on_datagram(d);
    }
  } else {
    counters_.stream_bytes_in += static_cast<std::uint64_t>(cqe.res);
    handler.on_stream_data(socket, buf, static_cast<std::size_t>(cqe.res));
  }
  recycle(bid);
  if (!more && s.open) arm_recv(socket);
}

template <NetHandler H>
int UringBackend::poll(H& handler) noexcept {
  ++counters_.polls;
  if (io_uring_cq_ready(&ring_) == 0) {
    if (!options_.busy_poll) {
      __kernel_timespec ts{0, static_cast<long long>(options_.wait_us) * 1000};
      io_uring_cqe* first = nullptr;
      io_uring_wait_cqe_timeout(&ring_, &first, &ts);
    } else if ((IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0) {
      io_uring_get_events(&ring_);  // receive work is pending: run it, which posts the completions
    } else {
      ++counters_.empty_polls;
      return 0;  // nothing pending: no kernel entry
    }
  }
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    const std::uint64_t ud = io_uring_cqe_get_data64(cqe);
    const int socket = static_cast<int>(ud >> 8);
    if ((ud & 0xff) == kRecv) on_recv(socket, *cqe, handler);
    else if ((ud & 0xff) == kSend) on_send(socket, *cqe);
    if (++seen == 64) break;  // bounded batch: let the other stages of this thread run
  }
  if (seen != 0) io_uring_cq_advance(&ring_, seen);
  if (pending_recycles_ != 0) {
    io_uring_buf_ring_advance(buf_ring_, static_cast<int>(pending_recycles_));
    pending_recycles_ = 0;
  }
  if (need_submit_) {
    need_submit_ = false;
    io_uring_submit(&ring_);
  }
  return static_cast<int>(seen);
}

}  // namespace hft::net
