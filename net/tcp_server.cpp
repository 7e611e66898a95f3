#include "net/tcp_server.hpp"

#include <exception>

#include "core/log.hpp"

namespace hft::net::detail {

void log_listening(const Endpoint& where, std::size_t max_connections) {
  core::log::info("tcp server listening on {} ({} connection slots)", where.to_string(), max_connections);
}

void log_accepted(std::uint64_t id, const Endpoint& peer) {
  core::log::info("tcp server: connection {} accepted from {}", id, peer.to_string());
}

void log_refused(const Endpoint& peer, std::size_t max_connections) {
  core::log::warn("tcp server: connection from {} refused: all {} slots are in use", peer.to_string(), max_connections);
}

void log_accept_error(const char* what) { core::log::warn("tcp server: {}", what); }

bool accept_one(int listen_fd, const TcpOptions& options, Fd& out, Endpoint& peer) noexcept {
  try {
    out = tcp_accept(listen_fd, options, &peer);
    return out.valid();
  } catch (const std::exception& e) {
    // EMFILE, ENFILE, ENOBUFS...: the pending connection stays queued; try again next pass.
    core::log::warn("tcp server: accept failed: {}", e.what());
    return false;
  }
}

}  // namespace hft::net::detail
