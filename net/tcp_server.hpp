#pragma once
// An epoll TCP server that drives one I/O-free session engine per connection (the venue's
// SoupBinTCP order-entry port; tests). Single-threaded: poll() waits on epoll, reads into one
// scratch buffer, hands the bytes to the connection's session, lets every session run its
// timers and fill its output, writes what it produced, and closes the connections whose session
// is finished. Sessions are created once, up front (max_connections of them), and reused; a
// connection beyond that is accepted and closed at once with a warning.
//
// A Session is any type with:
//   void open(std::uint64_t connection_id, std::uint64_t now_ns);
//   void on_bytes(const std::uint8_t*, std::size_t, std::uint64_t now_ns);
//   void poll(std::uint64_t now_ns);
//   std::span<const std::uint8_t> output() const;  void consume_output(std::size_t);
//   bool finished() const;                          // close the transport now
//   void close(std::uint64_t now_ns);               // server shutdown
//   void on_transport_closed(std::uint64_t now_ns, int error);  // 0: orderly / peer EOF
// hft::soup::ServerSession<Handler> is one. The runtime logs accepts and refusals; the session's
// handler logs the session events (soup::log_event).
#include <sys/epoll.h>

#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/clock.hpp"
#include "net/epoll.hpp"
#include "net/socket.hpp"

namespace hft::net {

template <class S>
concept StreamSession = requires(S& s, const S& cs, const std::uint8_t* p, std::size_t n, std::uint64_t now) {
  s.open(std::uint64_t{1}, now);
  s.on_bytes(p, n, now);
  s.poll(now);
  { cs.output() } -> std::convertible_to<std::span<const std::uint8_t>>;
  s.consume_output(n);
  { cs.finished() } -> std::convertible_to<bool>;
  s.close(now);
  s.on_transport_closed(now, 0);
};

struct TcpServerOptions {
  std::size_t max_connections = 64;
  std::size_t read_buffer_bytes = 64 * 1024;
  int max_events = 64;
  int reads_per_event = 4;  // bounded, so one busy peer cannot starve the others
  int backlog = 64;
  TcpOptions tcp;           // TCP_NODELAY etc. for accepted connections
};

namespace detail {
// Cold-path logging, kept out of the template.
void log_listening(const Endpoint& where, std::size_t max_connections);
void log_accepted(std::uint64_t id, const Endpoint& peer);
void log_refused(const Endpoint& peer, std::size_t max_connections);
void log_accept_error(const char* what);
// Accepts one pending connection into `out` (false when none is pending or on error, logged).
bool accept_one(int listen_fd, const TcpOptions& options, Fd& out, Endpoint& peer) noexcept;
}  // namespace detail

template <StreamSession Session>
class TcpServer {
 public:
  // make_session(slot) -> std::unique_ptr<Session>, called max_connections times, here only.
  template <class MakeSession>
  TcpServer(const Endpoint& listen, const TcpServerOptions& options, MakeSession&& make_session)
      : options_(options), read_buffer_(options.read_buffer_bytes), events_(static_cast<std::size_t>(options.max_events)) {
    slots_.reserve(options.max_connections);
    for (std::size_t i = 0; i < options.max_connections; ++i) slots_.push_back(Slot{make_session(i), Fd{}, 0, 0, false, false});
    TcpOptions listen_options;
    listen_options.nonblocking = true;
    listen_ = tcp_listen(listen, options.backlog, listen_options);
    epoll_.add(listen_.get(), EPOLLIN, kListenTag);
    local_ = local_endpoint(listen_.get());
    detail::log_listening(local_, options.max_connections);
  }
  ~TcpServer() { shutdown(); }
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  [[nodiscard]] const Endpoint& local() const noexcept { return local_; }
  // The server's epoll descriptor: readable while any of its sockets has an event, so a program
  // with other descriptors can wait on it inside its own epoll set and then call poll(0).
  [[nodiscard]] int epoll_fd() const noexcept { return epoll_.fd(); }

  // One pass: wait up to timeout_ms for I/O, then run every session. Returns I/O events handled.
  int poll(int timeout_ms) noexcept {
    const int n = epoll_.wait(events_.data(), static_cast<int>(events_.size()), timeout_ms);
    const std::uint64_t now = core::monotonic_ns();
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[static_cast<std::size_t>(i)];
      if (ev.data.u64 == kListenTag) {
        accept_pending(now);
        continue;
      }
      const std::size_t index = static_cast<std::uint32_t>(ev.data.u64);
      if (index >= slots_.size()) continue;
      Slot& s = slots_[index];
      // A slot closed (and maybe reused) earlier in this batch carries a new generation.
      if (!s.active || s.generation != static_cast<std::uint32_t>(ev.data.u64 >> 32)) continue;
      if ((ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) read(s, now);
      if (s.active && (ev.events & EPOLLOUT) != 0) flush(s, now);
    }
    for (Slot& s : slots_) {
      if (!s.active) continue;
      s.session->poll(now);
      flush(s, now);
      if (s.active && s.session->finished()) {
        flush(s, now);
        close_slot(s, now, 0);
      }
    }
    return n;
  }

  // Closes every connection (sessions see close(), then the transport closing).
  void shutdown() noexcept {
    const std::uint64_t now = core::monotonic_ns();
    for (Slot& s : slots_) {
      if (!s.active) continue;
      s.session->close(now);
      close_slot(s, now, 0);
    }
  }

  [[nodiscard]] std::size_t active_connections() const noexcept {
    std::size_t n = 0;
    for (const Slot& s : slots_) n += s.active ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::uint64_t accepted() const noexcept { return next_id_; }
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }
  // Every session, connected or not (the venue appends to streams and reaches sessions this way).
  template <class F>
  void for_each_session(F&& f) {
    for (Slot& s : slots_) f(*s.session, s.active);
  }

 private:
  static constexpr std::uint64_t kListenTag = ~std::uint64_t{0};
  static constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;

  struct Slot {
    std::unique_ptr<Session> session;
    Fd fd;
    std::uint64_t id;
    std::uint32_t generation;
    bool active;
    bool want_write;  // EPOLLOUT registered: the last write would have blocked
  };

  [[nodiscard]] std::uint64_t tag(const Slot& s) const noexcept {
    return (std::uint64_t{s.generation} << 32) | static_cast<std::uint64_t>(&s - slots_.data());
  }

  void accept_pending(std::uint64_t now) noexcept {
    for (;;) {
      Fd fd;
      Endpoint peer;
      if (!detail::accept_one(listen_.get(), options_.tcp, fd, peer)) return;
      Slot* free = nullptr;
      for (Slot& s : slots_) {
        if (!s.active) {
          free = &s;
          break;
        }
      }
      if (free == nullptr) {
        ++refused_;
        detail::log_refused(peer, slots_.size());
        continue;  // fd closes here
      }
      free->fd = std::move(fd);
      free->id = ++next_id_;
      free->active = true;
      free->want_write = false;
      try {
        epoll_.add(free->fd.get(), kReadEvents, tag(*free));
      } catch (...) {
        detail::log_accept_error("epoll_ctl(ADD) for an accepted connection");
        free->fd.reset();
        free->active = false;
        continue;
      }
      detail::log_accepted(free->id, peer);
      free->session->open(free->id, now);
    }
  }

  void read(Slot& s, std::uint64_t now) noexcept {
    for (int i = 0; i < options_.reads_per_event && s.active; ++i) {
      const IoResult r = read_some(s.fd.get(), read_buffer_.data(), read_buffer_.size());
      if (r.status == IoStatus::kOk) {
        s.session->on_bytes(read_buffer_.data(), r.bytes, now);
        if (s.session->finished()) return;
        if (r.bytes < read_buffer_.size()) return;  // drained
        continue;
      }
      if (r.status == IoStatus::kWouldBlock) return;
      close_slot(s, now, r.status == IoStatus::kClosed ? 0 : r.error);
      return;
    }
  }

  void flush(Slot& s, std::uint64_t now) noexcept {
    while (s.active) {
      const std::span<const std::uint8_t> out = s.session->output();
      if (out.empty()) {
        if (s.want_write) {
          s.want_write = false;
          epoll_.modify(s.fd.get(), kReadEvents, tag(s));
        }
        return;
      }
      const IoResult r = write_some(s.fd.get(), out.data(), out.size());
      if (r.status == IoStatus::kOk) {
        s.session->consume_output(r.bytes);
        continue;
      }
      if (r.status == IoStatus::kWouldBlock) {
        if (!s.want_write) {
          s.want_write = true;
          epoll_.modify(s.fd.get(), kReadEvents | EPOLLOUT, tag(s));
        }
        return;
      }
      close_slot(s, now, r.error != 0 ? r.error : EPIPE);
    }
  }

  void close_slot(Slot& s, std::uint64_t now, int error) noexcept {
    epoll_.remove(s.fd.get());
    s.fd.reset();
    s.active = false;
    s.want_write = false;
    ++s.generation;
    s.session->on_transport_closed(now, error);
  }

  TcpServerOptions options_;
  Epoll epoll_;
  Fd listen_;
  Endpoint local_;
  std::vector<Slot> slots_;
  std::vector<std::uint8_t> read_buffer_;
  std::vector<epoll_event> events_;
  std::uint64_t next_id_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace hft::net
