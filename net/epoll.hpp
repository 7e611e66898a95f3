#pragma once
// The plain-socket pieces shared by the epoll TCP runtimes (tcp_server.hpp, tcp_client.hpp):
// an epoll set, and non-blocking read/write that report "would block", "peer closed" and errors
// as values, never as exceptions (errors on a connection are that connection's business).
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>

#include "net/socket.hpp"

namespace hft::net {

enum class IoStatus : std::uint8_t { kOk, kWouldBlock, kClosed, kError };

struct IoResult {
  std::size_t bytes = 0;
  IoStatus status = IoStatus::kOk;
  int error = 0;  // errno for kError
};

// recv() once; kClosed on EOF.
IoResult read_some(int fd, std::uint8_t* buffer, std::size_t capacity) noexcept;
// send() once with MSG_NOSIGNAL (a peer that went away is an error code, not SIGPIPE).
IoResult write_some(int fd, const std::uint8_t* data, std::size_t size) noexcept;

class Epoll {
 public:
  Epoll();  // throws std::system_error
  void add(int fd, std::uint32_t events, std::uint64_t tag);
  // False if epoll_ctl failed (only for a descriptor that is not in the set).
  bool modify(int fd, std::uint32_t events, std::uint64_t tag) noexcept;
  void remove(int fd) noexcept;
  // epoll_wait; EINTR counts as no events.
  int wait(epoll_event* events, int max_events, int timeout_ms) noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  Fd fd_;
};

}  // namespace hft::net
