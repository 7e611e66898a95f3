#include "net/epoll.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace hft::net {

IoResult read_some(int fd, std::uint8_t* buffer, std::size_t capacity) noexcept {
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, capacity, 0);
    if (n > 0) return {static_cast<std::size_t>(n), IoStatus::kOk, 0};
    if (n == 0) return {0, IoStatus::kClosed, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, IoStatus::kWouldBlock, 0};
    return {0, IoStatus::kError, errno};
  }
}

IoResult write_some(int fd, const std::uint8_t* data, std::size_t size) noexcept {
  for (;;) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n >= 0) return {static_cast<std::size_t>(n), IoStatus::kOk, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, IoStatus::kWouldBlock, 0};
    return {0, IoStatus::kError, errno};
  }
}

Epoll::Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void Epoll::add(int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
}

bool Epoll::modify(int fd, std::uint32_t events, std::uint64_t tag) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  return ::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Epoll::remove(int fd) noexcept { ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

int Epoll::wait(epoll_event* events, int max_events, int timeout_ms) noexcept {
  const int n = ::epoll_wait(fd_.get(), events, max_events, timeout_ms);
  return n < 0 ? 0 : n;
}

}  // namespace hft::net
