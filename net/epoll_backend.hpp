#pragma once
// epoll backend, with the same members as UringBackend. UDP sockets are drained with recvmmsg
// (up to 32 datagrams per call, source address and SO_TIMESTAMPNS per datagram), TCP with recv;
// TCP sends go out with send(MSG_DONTWAIT) and what the kernel does not take waits in a
// per-socket byte ring until EPOLLOUT. In busy-poll mode each poll is one epoll_wait(0).
#include <sys/epoll.h>
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

class EpollBackend {
 public:
  static constexpr BackendKind kKind = BackendKind::kEpoll;
  static constexpr int kMaxSockets = 16;
  static constexpr int kBatch = 32;

  explicit EpollBackend(const BackendOptions& options);
  ~EpollBackend() = default;
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;

  int add_udp(Fd fd, bool kernel_timestamps);
  int add_tcp(Fd fd);
  void close_socket(int socket) noexcept;
  void on_thread_start() noexcept {}

  template <NetHandler H>
  int poll(H& handler) noexcept;

  bool send(int socket, const void* data, std::size_t size) noexcept;
  bool send_to(int socket, const void* data, std::size_t size, const sockaddr_in& to) noexcept;

  [[nodiscard]] const NetCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::string describe() const;
  [[nodiscard]] int native_fd(int socket) const noexcept { return sockets_[static_cast<std::size_t>(socket)].fd.get(); }

 private:
  struct Socket {
    Fd fd;
    bool open = false;
    bool udp = false;
    bool want_out = false;
    std::unique_ptr<std::uint8_t[]> out;  // TCP bytes the kernel has not taken yet
    std::size_t out_capacity = 0;
    std::uint64_t out_head = 0, out_tail = 0;
  };

  template <NetHandler H>
  int drain_udp(int socket, H& handler) noexcept;
  template <NetHandler H>
  int drain_tcp(int socket, H& handler) noexcept;
  void flush_out(int socket) noexcept;
  void set_want_out(int socket, bool on) noexcept;

  BackendOptions options_;
  Fd epoll_;
  std::vector<Socket> sockets_;
  std::unique_ptr<std::uint8_t[]> rx_;  // kBatch receive buffers of options_.buffer_size
  mmsghdr msgs_[kBatch]{};
  iovec iov_[kBatch]{};
  sockaddr_in names_[kBatch]{};
  alignas(8) std::uint8_t control_[kBatch][CMSG_SPACE(sizeof(timespec))]{};
  epoll_event events_[kMaxSockets]{};
  NetCounters counters_;
};

template <NetHandler H>
int EpollBackend::drain_udp(int socket, H& handler) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  for (int i = 0; i < kBatch; ++i) {
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    msgs_[i].msg_hdr.msg_controllen = sizeof control_[i];
  }
  const int n = ::recvmmsg(s.fd.get(), msgs_, kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) {
    Datagram d;
    d.socket = socket;
    d.data = static_cast<const std::uint8_t*>(iov_[i].iov_base);
    d.size = msgs_[i].msg_len;
    d.truncated = (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    d.from = names_[i];
    for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs_[i].msg_hdr, c)) {
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
  return n;
}

template <NetHandler H>
int EpollBackend::drain_tcp(int socket, H& handler) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  std::uint8_t* buf = rx_.get();
  const ssize_t n = ::recv(s.fd.get(), buf, options_.buffer_size * kBatch, MSG_DONTWAIT);
  if (n > 0) {
    counters_.stream_bytes_in += static_cast<std::uint64_t>(n);
    handler.on_stream_data(socket, buf, static_cast<std::size_t>(n));
    return 1;
  }
  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    const int err = n == 0 ? 0 : errno;
    close_socket(socket);
    handler.on_stream_closed(socket, err);
    return 1;
  }
  return 0;
}

template <NetHandler H>
int EpollBackend::poll(H& handler) noexcept {
  ++counters_.polls;
  const int ready = ::epoll_wait(epoll_.get(), events_, kMaxSockets,
                                 options_.busy_poll ? 0 : static_cast<int>((options_.wait_us + 999) / 1000));
  int work = 0;
  for (int i = 0; i < ready; ++i) {
    const int socket = static_cast<int>(events_[i].data.u32);
    Socket& s = sockets_[static_cast<std::size_t>(socket)];
    if (!s.open) continue;
    if ((events_[i].events & EPOLLOUT) != 0) flush_out(socket);
    if ((events_[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0)
      work += s.udp ? drain_udp(socket, handler) : drain_tcp(socket, handler);
  }
  if (work == 0) ++counters_.empty_polls;
  return work;
}

}  // namespace hft::net
