#include "net/epoll_backend.hpp"

#include <unistd.h>

#include <stdexcept>

#include <fmt/format.h>

namespace hft::net {

EpollBackend::EpollBackend(const BackendOptions& options)
    : options_(options), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_.valid()) throw std::runtime_error(fmt::format("epoll_create1: {}", std::strerror(errno)));
  sockets_.resize(kMaxSockets);
  rx_.reset(new std::uint8_t[static_cast<std::size_t>(options_.buffer_size) * kBatch]);
  for (int i = 0; i < kBatch; ++i) {
    iov_[i].iov_base = rx_.get() + static_cast<std::size_t>(i) * options_.buffer_size;
    iov_[i].iov_len = options_.buffer_size;
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &names_[i];
    msgs_[i].msg_hdr.msg_control = control_[i];
  }
}

std::string EpollBackend::describe() const {
  return fmt::format("epoll backend ({} poll, recvmmsg batches of {})", options_.busy_poll ? "busy" : "blocking", kBatch);
}

namespace {
int register_socket(int epoll_fd, int fd, int id) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = static_cast<std::uint32_t>(id);
  return ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}
}  // namespace

int EpollBackend::add_udp(Fd fd, bool kernel_timestamps) {
  for (int i = 0; i < kMaxSockets; ++i) {
    Socket& s = sockets_[static_cast<std::size_t>(i)];
    if (s.fd.valid()) continue;
    if (kernel_timestamps) {
      const int one = 1;
      if (::setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0)
        throw std::runtime_error(fmt::format("setsockopt(SO_TIMESTAMPNS): {}", std::strerror(errno)));
    }
    set_nonblocking(fd.get());
    if (register_socket(epoll_.get(), fd.get(), i) != 0)
      throw std::runtime_error(fmt::format("epoll_ctl(ADD): {}", std::strerror(errno)));
    s.fd = std::move(fd);
    s.open = true;
    s.udp = true;
    return i;
  }
  throw std::runtime_error(fmt::format("epoll backend: more than {} sockets", kMaxSockets));
}

int EpollBackend::add_tcp(Fd fd) {
  for (int i = 0; i < kMaxSockets; ++i) {
    Socket& s = sockets_[static_cast<std::size_t>(i)];
    if (s.fd.valid()) continue;
    set_nonblocking(fd.get());
    if (register_socket(epoll_.get(), fd.get(), i) != 0)
      throw std::runtime_error(fmt::format("epoll_ctl(ADD): {}", std::strerror(errno)));
    s.fd = std::move(fd);
    s.open = true;
    s.udp = false;
    s.out_capacity = options_.send_buffer_bytes;
    s.out.reset(new std::uint8_t[s.out_capacity]);
    s.out_head = s.out_tail = 0;
    return i;
  }
  throw std::runtime_error(fmt::format("epoll backend: more than {} sockets", kMaxSockets));
}

void EpollBackend::close_socket(int socket) noexcept {
  if (socket < 0 || socket >= kMaxSockets) return;
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  if (!s.fd.valid()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s.fd.get(), nullptr);
  s.open = false;
  s.fd.reset();
}

void EpollBackend::set_want_out(int socket, bool on) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  if (s.want_out == on) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<std::uint32_t>(socket);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, s.fd.get(), &ev);
  s.want_out = on;
}

void EpollBackend::flush_out(int socket) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  while (s.out_head != s.out_tail) {
    const std::size_t start = static_cast<std::size_t>(s.out_head % s.out_capacity);
    const std::size_t pending = static_cast<std::size_t>(s.out_tail - s.out_head);
    const std::size_t n = pending < s.out_capacity - start ? pending : s.out_capacity - start;
    const ssize_t sent = ::send(s.fd.get(), s.out.get() + start, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent <= 0) {
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ++counters_.send_errors;
      break;
    }
    s.out_head += static_cast<std::uint64_t>(sent);
    counters_.stream_bytes_out += static_cast<std::uint64_t>(sent);
  }
  set_want_out(socket, s.out_head != s.out_tail);
}

bool EpollBackend::send(int socket, const void* data, std::size_t size) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  if (!s.open || s.udp) {
    ++counters_.send_errors;
    return false;
  }
  // Refuse the whole message up front when it might not fit, so a message is never cut.
  if (s.out_capacity - static_cast<std::size_t>(s.out_tail - s.out_head) < size) {
    ++counters_.send_backlog_full;
    return false;
  }
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::size_t done = 0;
  if (s.out_head == s.out_tail) {  // nothing queued: try the kernel directly
    const ssize_t sent = ::send(s.fd.get(), p, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      ++counters_.send_errors;
      return false;
    }
    done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    counters_.stream_bytes_out += done;
    if (done == size) return true;
  }
  const std::size_t rest = size - done;
  const std::size_t start = static_cast<std::size_t>(s.out_tail % s.out_capacity);
  const std::size_t first = rest < s.out_capacity - start ? rest : s.out_capacity - start;
  std::memcpy(s.out.get() + start, p + done, first);
  std::memcpy(s.out.get(), p + done + first, rest - first);
  s.out_tail += rest;
  set_want_out(socket, true);
  return true;
}

bool EpollBackend::send_to(int socket, const void* data, std::size_t size, const sockaddr_in& to) noexcept {
  const Socket& s = sockets_[static_cast<std::size_t>(socket)];
  const ssize_t n = ::sendto(s.fd.get(), data, size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (n != static_cast<ssize_t>(size)) {
    ++counters_.send_errors;
    return false;
  }
  return true;
}

}  // namespace hft::net
