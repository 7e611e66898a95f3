#include "net/tcp_client.hpp"

#include <poll.h>

#include <cerrno>
#include <exception>

#include "core/log.hpp"

namespace hft::net::detail {

Fd connect_logged(const Endpoint& server, int timeout_ms, const TcpOptions& options) noexcept {
  try {
    return tcp_connect(server, timeout_ms, options);
  } catch (const std::exception& e) {
    core::log::warn("tcp client: {}", e.what());
    return Fd{};
  }
}

bool wait_readable(int fd, int timeout_ms) noexcept {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n >= 0) return n > 0;
    if (errno != EINTR) return true;  // let the read report the error
  }
}

void log_connected(const Endpoint& server, std::uint64_t id) {
  core::log::info("tcp client: connection {} to {} established", id, server.to_string());
}

}  // namespace hft::net::detail
