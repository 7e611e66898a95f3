#pragma once
// A simple TCP client runner for one I/O-free session engine (tests and tools; hftd drives the
// same engine from its io_uring egress stage). It connects, calls session.open(), then on each
// poll() waits for input (poll(2) on the one socket), feeds it to the session, runs its timers,
// writes its output, and closes the socket when the session is finished or the server goes away.
// With reconnect on, a lost connection is retried after a delay that doubles up to a bound, for
// as long as the session allows it (a session with `bool may_reconnect() const` is asked).
//
// Session: the StreamSession members of tcp_server.hpp (open() may return bool: false = refused).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/clock.hpp"
#include "net/epoll.hpp"
#include "net/socket.hpp"
#include "net/tcp_server.hpp"

namespace hft::net {

struct TcpClientOptions {
  int connect_timeout_ms = 2000;
  bool reconnect = true;
  std::uint64_t reconnect_delay_ns = 100'000'000;       // first retry after 100 ms...
  std::uint64_t max_reconnect_delay_ns = 5'000'000'000;  // ...doubling up to 5 s
  std::size_t read_buffer_bytes = 64 * 1024;
  TcpOptions tcp;
};

namespace detail {
// Connects (blocking, bounded by the timeout); an invalid Fd and a logged warning on failure.
Fd connect_logged(const Endpoint& server, int timeout_ms, const TcpOptions& options) noexcept;
// poll(2) for input on one descriptor; true when readable (or hung up / in error).
bool wait_readable(int fd, int timeout_ms) noexcept;
void log_connected(const Endpoint& server, std::uint64_t id);
}  // namespace detail

template <StreamSession Session>
class TcpClient {
 public:
  TcpClient(const Endpoint& server, Session& session, const TcpClientOptions& options = {})
      : server_(server), session_(&session), options_(options), read_buffer_(options.read_buffer_bytes),
        delay_ns_(options.reconnect_delay_ns) {}
  ~TcpClient() { disconnect(); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // One connection attempt now (blocking up to connect_timeout_ms). True when connected and the
  // session accepted the connection.
  bool connect() noexcept {
    if (fd_.valid()) return true;
    if (!session_may_reconnect()) return false;
    const std::uint64_t now = core::monotonic_ns();
    Fd fd = detail::connect_logged(server_, options_.connect_timeout_ms, options_.tcp);
    if (!fd.valid()) {
      schedule_retry(now);
      return false;
    }
    fd_ = std::move(fd);
    ++connections_;
    detail::log_connected(server_, connections_);
    bool accepted = true;
    if constexpr (requires { { session_->open(connections_, now) } -> std::convertible_to<bool>; }) {
      accepted = session_->open(connections_, now);
    } else {
      session_->open(connections_, now);
    }
    if (!accepted) {
      fd_.reset();
      return false;
    }
    delay_ns_ = options_.reconnect_delay_ns;
    flush(now);
    return fd_.valid();
  }

  // One pass: (re)connect when due, wait up to timeout_ms for input, run the session, write.
  // Returns true when anything was read.
  bool poll(int timeout_ms) noexcept {
    if (!fd_.valid()) {
      if (options_.reconnect && retry_at_ != 0 && core::monotonic_ns() >= retry_at_) {
        retry_at_ = 0;
        connect();
      }
      if (!fd_.valid()) return false;
    }
    const bool readable = detail::wait_readable(fd_.get(), timeout_ms);
    const std::uint64_t now = core::monotonic_ns();
    const bool got = readable && read(now);
    if (fd_.valid()) session_->poll(now);
    flush(now);
    if (fd_.valid() && session_->finished()) close_transport(now, 0);
    return got;
  }

  // Closes the socket now (the session sees close() and the transport closing); no reconnect
  // until connect() is called again.
  void disconnect() noexcept {
    if (!fd_.valid()) return;
    const std::uint64_t now = core::monotonic_ns();
    session_->close(now);
    close_transport(now, 0);
    retry_at_ = 0;
  }

  [[nodiscard]] bool connected() const noexcept { return fd_.valid(); }
  [[nodiscard]] std::uint64_t connections() const noexcept { return connections_; }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  bool session_may_reconnect() const noexcept {
    if constexpr (requires { { session_->may_reconnect() } -> std::convertible_to<bool>; }) {
      return session_->may_reconnect();
    } else {
      return true;
    }
  }

  void schedule_retry(std::uint64_t now) noexcept {
    if (!options_.reconnect || !session_may_reconnect()) {
      retry_at_ = 0;
      return;
    }
    retry_at_ = now + delay_ns_;
    delay_ns_ = delay_ns_ * 2 > options_.max_reconnect_delay_ns ? options_.max_reconnect_delay_ns : delay_ns_ * 2;
  }

  bool read(std::uint64_t now) noexcept {
    bool got = false;
    for (int i = 0; i < 4 && fd_.valid(); ++i) {
      const IoResult r = read_some(fd_.get(), read_buffer_.data(), read_buffer_.size());
      if (r.status == IoStatus::kOk) {
        got = true;
        session_->on_bytes(read_buffer_.data(), r.bytes, now);
        if (r.bytes < read_buffer_.size() || session_->finished()) break;
        continue;
      }
      if (r.status != IoStatus::kWouldBlock) close_transport(now, r.status == IoStatus::kClosed ? 0 : r.error);
      break;
    }
    return got;
  }

  void flush(std::uint64_t now) noexcept {
    while (fd_.valid()) {
      const std::span<const std::uint8_t> out = session_->output();
      if (out.empty()) return;
      const IoResult r = write_some(fd_.get(), out.data(), out.size());
      if (r.status == IoStatus::kOk) {
        session_->consume_output(r.bytes);
        continue;
      }
      if (r.status == IoStatus::kWouldBlock) return;  // the next poll() tries again
      close_transport(now, r.error != 0 ? r.error : EPIPE);
    }
  }

  void close_transport(std::uint64_t now, int error) noexcept {
    fd_.reset();
    session_->on_transport_closed(now, error);
    schedule_retry(now);
  }

  Endpoint server_;
  Session* session_;
  TcpClientOptions options_;
  std::vector<std::uint8_t> read_buffer_;
  Fd fd_;
  std::uint64_t connections_ = 0;
  std::uint64_t retry_at_ = 0;
  std::uint64_t delay_ns_;
};

}  // namespace hft::net
