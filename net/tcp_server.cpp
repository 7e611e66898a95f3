#include "net/tcp_server.hpp"

#include <arpa/inet.h>

#include <exception>
#include <string>

#include "core/log.hpp"

namespace hft::net::detail {

void log_listening(const Endpoint& where, std::size_t max_connections) {
  core::log::info("tcp server listening on {} ({} connection slots)", where.to_string(), max_connections);
}

namespace {
std::string suppressed_note(std::uint64_t suppressed) {
  return suppressed == 0 ? std::string() : fmt::format(" ({} more like it not logged)", suppressed);
}
std::string source_text(std::uint32_t source) {
  char buf[INET_ADDRSTRLEN] = {};
  in_addr a{};
  a.s_addr = source;
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}
}  // namespace

void log_accepted(std::uint64_t id, const Endpoint& peer, std::uint64_t suppressed) {
  core::log::info("tcp server: connection {} accepted from {}{}", id, peer.to_string(), suppressed_note(suppressed));
}

void log_refused(const Endpoint& peer, LogKind why, std::size_t limit, std::uint64_t suppressed) {
  if (why == LogKind::kRefusedSource) {
    core::log::warn("tcp server: connection from {} refused: the source holds its {} connections{}", peer.to_string(),
                    limit, suppressed_note(suppressed));
  } else {
    core::log::warn("tcp server: connection from {} refused: all {} slots are logged in{}", peer.to_string(), limit,
                    suppressed_note(suppressed));
  }
}

void log_evicted(std::uint64_t id, const Endpoint& peer, std::uint64_t suppressed) {
  core::log::warn("tcp server: connection {} from {} closed before its login to make room{}", id,
                  source_text(peer.addr.sin_addr.s_addr), suppressed_note(suppressed));
}

void log_suppressed(std::uint64_t key, std::uint64_t count, std::uint64_t interval_ns) {
  static constexpr const char* kWhat[] = {"accepted", "refused (all slots logged in)", "refused (per-source limit)",
                                          "evicted before login"};
  const auto kind = static_cast<std::size_t>(key >> 32);
  core::log::warn("tcp server: {} more connections from {} {} in the last {} s, not logged one by one", count,
                  source_text(static_cast<std::uint32_t>(key)), kind < 4 ? kWhat[kind] : "?", interval_ns / 1'000'000'000);
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
