#pragma once
// An epoll TCP server that drives one I/O-free session engine per connection (the venue's
// SoupBinTCP order-entry port; tests). Single-threaded: poll() waits on epoll, reads into one
// scratch buffer, hands the bytes to the connection's session, lets every session run its
// timers and fill its output, writes what it produced, and closes the connections whose session
// is finished. Sessions are created once, up front (max_connections of them), and reused.
//
// Slot exhaustion (issue 18): a source address may hold at most max_connections_per_source
// slots; when every slot is taken, a new connection evicts the oldest connection that has not
// logged in (session.authenticated() false) of the source holding the most such connections,
// so idle or slowloris peers cannot lock real clients out; only when every slot is logged in is
// the new connection refused. Accepts, refusals and evictions are logged per source and rate
// limited (log_burst lines per log_interval, then a count).
//
// A Session is any type with:
//   void open(std::uint64_t connection_id, std::uint64_t now_ns);
//   void on_bytes(const std::uint8_t*, std::size_t, std::uint64_t now_ns);
//   void poll(std::uint64_t now_ns);
//   std::span<const std::uint8_t> output() const;  void consume_output(std::size_t);
//   bool finished() const;                          // close the transport now
//   void close(std::uint64_t now_ns);               // server shutdown
//   void on_transport_closed(std::uint64_t now_ns, int error);  // 0: orderly / peer EOF
// and optionally: bool authenticated() const; void evict(std::uint64_t now_ns);
//   void set_source(std::uint64_t source);  // the peer's IPv4 address, before open()
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
#include "core/log.hpp"
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
  std::size_t max_connections_per_source = 0;  // 0: no limit per source address
  std::uint64_t log_interval_ns = 10'000'000'000;  // accept / refuse / evict lines: per source,
  std::uint32_t log_burst = 3;                     // at most log_burst per interval, then counted
};

namespace detail {
// Cold-path logging, kept out of the template.
void log_listening(const Endpoint& where, std::size_t max_connections);
enum class LogKind : std::uint8_t { kAccepted, kRefusedFull, kRefusedSource, kEvicted };
void log_accepted(std::uint64_t id, const Endpoint& peer, std::uint64_t suppressed);
void log_refused(const Endpoint& peer, LogKind why, std::size_t limit, std::uint64_t suppressed);
void log_evicted(std::uint64_t id, const Endpoint& peer, std::uint64_t suppressed);
void log_suppressed(std::uint64_t key, std::uint64_t count, std::uint64_t interval_ns);
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
      : options_(options),
        read_buffer_(options.read_buffer_bytes),
        events_(static_cast<std::size_t>(options.max_events)),
        log_limiter_(options.log_interval_ns, options.log_burst) {
    slots_.reserve(options.max_connections);
    for (std::size_t i = 0; i < options.max_connections; ++i)
      slots_.push_back(Slot{make_session(i), Fd{}, 0, 0, false, false, 0});
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
    if (now >= next_log_flush_) {
      next_log_flush_ = now + options_.log_interval_ns;
      log_limiter_.flush(now, [&](std::uint64_t key, std::uint64_t count) {
        detail::log_suppressed(key, count, options_.log_interval_ns);
      });
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
  [[nodiscard]] std::uint64_t evicted() const noexcept { return evicted_; }
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
    std::uint32_t source;  // the peer's IPv4 address (network order)
  };

  [[nodiscard]] static bool authenticated(const Session& s) noexcept {
    if constexpr (requires { s.authenticated(); }) {
      return s.authenticated();
    } else {
      return true;  // a session that cannot say is never evicted
    }
  }
  // Line-limiter keys: the source address and what happened.
  [[nodiscard]] static std::uint64_t log_key(std::uint32_t source, detail::LogKind kind) noexcept {
    return (std::uint64_t{static_cast<std::uint8_t>(kind)} << 32) | source;
  }
  bool log_allowed(std::uint32_t source, detail::LogKind kind, std::uint64_t now, std::uint64_t& suppressed) noexcept {
    return log_limiter_.allow(log_key(source, kind), now, suppressed);
  }

  // The oldest connection without a login, of the source that holds the most of them.
  Slot* eviction_victim() noexcept {
    Slot* victim = nullptr;
    std::size_t victim_count = 0;
    for (Slot& s : slots_) {
      if (!s.active || authenticated(*s.session)) continue;
      std::size_t count = 0;
      for (const Slot& o : slots_) count += o.active && o.source == s.source && !authenticated(*o.session) ? 1 : 0;
      if (victim == nullptr || count > victim_count || (count == victim_count && s.id < victim->id)) {
        victim = &s;
        victim_count = count;
      }
    }
    return victim;
  }

  [[nodiscard]] std::uint64_t tag(const Slot& s) const noexcept {
    return (std::uint64_t{s.generation} << 32) | static_cast<std::uint64_t>(&s - slots_.data());
  }

  void accept_pending(std::uint64_t now) noexcept {
    for (;;) {
      Fd fd;
      Endpoint peer;
      if (!detail::accept_one(listen_.get(), options_.tcp, fd, peer)) return;
      const std::uint32_t source = peer.addr.sin_addr.s_addr;
      std::uint64_t suppressed = 0;
      Slot* free = nullptr;
      std::size_t from_source = 0;
      for (Slot& s : slots_) {
        if (!s.active) {
          if (free == nullptr) free = &s;
        } else if (s.source == source) {
          ++from_source;
        }
      }
      if (options_.max_connections_per_source != 0 && from_source >= options_.max_connections_per_source) {
        ++refused_;
        if (log_allowed(source, detail::LogKind::kRefusedSource, now, suppressed))
          detail::log_refused(peer, detail::LogKind::kRefusedSource, options_.max_connections_per_source, suppressed);
        continue;  // fd closes here
      }
      if (free == nullptr) {
        if constexpr (requires(Session& x) { x.evict(now); }) {
          if (Slot* victim = eviction_victim()) {
            ++evicted_;
            Endpoint victim_peer;
            victim_peer.addr.sin_family = AF_INET;
            victim_peer.addr.sin_addr.s_addr = victim->source;
            if (log_allowed(victim->source, detail::LogKind::kEvicted, now, suppressed))
              detail::log_evicted(victim->id, victim_peer, suppressed);
            victim->session->evict(now);
            close_slot(*victim, now, 0);
            free = victim;
          }
        }
      }
      if (free == nullptr) {
        ++refused_;
        if (log_allowed(source, detail::LogKind::kRefusedFull, now, suppressed))
          detail::log_refused(peer, detail::LogKind::kRefusedFull, slots_.size(), suppressed);
        continue;  // fd closes here
      }
      free->fd = std::move(fd);
      free->id = ++next_id_;
      free->active = true;
      free->want_write = false;
      free->source = source;
      try {
        epoll_.add(free->fd.get(), kReadEvents, tag(*free));
      } catch (...) {
        detail::log_accept_error("epoll_ctl(ADD) for an accepted connection");
        free->fd.reset();
        free->active = false;
        continue;
      }
      if (log_allowed(source, detail::LogKind::kAccepted, now, suppressed)) detail::log_accepted(free->id, peer, suppressed);
      if constexpr (requires(Session& x) { x.set_source(std::uint64_t{}); }) free->session->set_source(source);
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
  std::uint64_t evicted_ = 0;
  core::LogLimiter log_limiter_;
  std::uint64_t next_log_flush_ = 0;
};

}  // namespace hft::net
