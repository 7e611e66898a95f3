#pragma once
// Socket set-up shared by every backend and program: endpoints, UDP (unicast and multicast) and
// TCP sockets with the options a low-latency host wants. Set-up failures throw
// std::system_error naming the endpoint and the call; nothing here is on a hot path.
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace hft::net {

// Owns a file descriptor.
class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// An IPv4 endpoint from "HOST:PORT" (HOST: dotted quad, "localhost" or "*"/"0.0.0.0" for any).
struct Endpoint {
  sockaddr_in addr{};
  std::string text;  // as given, for messages

  [[nodiscard]] bool is_multicast() const noexcept;
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] std::string to_string() const;  // "a.b.c.d:port"
  static Endpoint from_sockaddr(const sockaddr_in& sa);
};
// Throws std::invalid_argument with a clear message on malformed text.
Endpoint parse_endpoint(std::string_view text);

struct UdpOptions {
  bool nonblocking = true;
  bool reuse_address = true;       // SO_REUSEADDR: several listeners of one multicast group
  int receive_buffer = 0;          // SO_RCVBUF bytes; 0 = kernel default
  int send_buffer = 0;             // SO_SNDBUF bytes; 0 = kernel default
  bool kernel_timestamps = false;  // SO_TIMESTAMPNS: receive time in a control message
  int busy_poll_us = 0;            // SO_BUSY_POLL: spin in the driver this long on an empty read
  std::string interface;           // multicast interface address (empty: INADDR_ANY)
  int multicast_ttl = 1;
  bool multicast_loop = true;      // IP_MULTICAST_LOOP: deliver our own multicast locally (loopback tests)
};

// A UDP socket that receives on `local`: bound to its port; when `local` is a multicast group,
// it joins the group (IP_ADD_MEMBERSHIP) on options.interface.
Fd udp_receiver(const Endpoint& local, const UdpOptions& options = {});
// A UDP socket for sending (bound to an ephemeral port; multicast TTL, loop and interface set).
Fd udp_sender(const UdpOptions& options = {});
// The local address a socket is bound to.
Endpoint local_endpoint(int fd);

struct TcpOptions {
  bool nonblocking = true;
  bool no_delay = true;   // TCP_NODELAY: no Nagle delay on small order messages
  int busy_poll_us = 0;
};
Fd tcp_listen(const Endpoint& local, int backlog = 16, const TcpOptions& options = {});
// Accepts one pending connection; returns an invalid Fd when none is pending (EAGAIN).
Fd tcp_accept(int listen_fd, const TcpOptions& options = {}, Endpoint* peer = nullptr);
// Connects (blocking, bounded by timeout_ms), then applies `options`.
Fd tcp_connect(const Endpoint& remote, int timeout_ms = 2000, const TcpOptions& options = {});

void set_nonblocking(int fd, bool on = true);

// Non-blocking connect for a reconnect driven by a stage's poll() (no exception, no wait, no
// formatting: the caller reports the errno from its cold path). Opens a non-blocking socket with
// `options` applied into `out` and starts the connection. Returns 0 (connected at once),
// EINPROGRESS (pending: ask tcp_connect_result() on later polls) or the errno of the failure
// (`out` is then invalid).
int tcp_connect_start(const Endpoint& remote, const TcpOptions& options, Fd& out) noexcept;
// A pending connect, without waiting (poll(2) with a zero timeout, then SO_ERROR): EINPROGRESS
// while pending, 0 once connected, else the errno of the failure.
int tcp_connect_result(int fd) noexcept;

}  // namespace hft::net
