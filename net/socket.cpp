#include "net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace hft::net {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

void set_int_option(int fd, int level, int name, int value, const char* label) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) fail(fmt::format("setsockopt({})", label));
}

}  // namespace

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool Endpoint::is_multicast() const noexcept { return IN_MULTICAST(ntohl(addr.sin_addr.s_addr)); }
std::uint16_t Endpoint::port() const noexcept { return ntohs(addr.sin_port); }

std::string Endpoint::to_string() const {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf);
  return fmt::format("{}:{}", buf, port());
}

Endpoint Endpoint::from_sockaddr(const sockaddr_in& sa) {
  Endpoint e;
  e.addr = sa;
  e.text = e.to_string();
  return e;
}

Endpoint parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size())
    throw std::invalid_argument(fmt::format("endpoint \"{}\": expected HOST:PORT", text));
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || port > 65535)
    throw std::invalid_argument(fmt::format("endpoint \"{}\": port must be 0..65535", text));
  Endpoint e;
  e.text = std::string(text);
  e.addr.sin_family = AF_INET;
  e.addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (host.empty() || host == "*" || host == "0.0.0.0") {
    e.addr.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (host == "localhost") {
    e.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (::inet_pton(AF_INET, host.c_str(), &e.addr.sin_addr) != 1) {
    throw std::invalid_argument(fmt::format("endpoint \"{}\": host must be an IPv4 address or localhost", text));
  }
  return e;
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) != 0) fail("fcntl(O_NONBLOCK)");
}

namespace {

void apply_udp(int fd, const UdpOptions& o) {
  if (o.nonblocking) set_nonblocking(fd);
  if (o.receive_buffer > 0) set_int_option(fd, SOL_SOCKET, SO_RCVBUF, o.receive_buffer, "SO_RCVBUF");
  if (o.send_buffer > 0) set_int_option(fd, SOL_SOCKET, SO_SNDBUF, o.send_buffer, "SO_SNDBUF");
  if (o.kernel_timestamps) set_int_option(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  if (o.busy_poll_us > 0) set_int_option(fd, SOL_SOCKET, SO_BUSY_POLL, o.busy_poll_us, "SO_BUSY_POLL");
}

in_addr interface_address(const UdpOptions& o) {
  in_addr a{};
  a.s_addr = htonl(INADDR_ANY);
  if (!o.interface.empty() && ::inet_pton(AF_INET, o.interface.c_str(), &a) != 1)
    throw std::invalid_argument(fmt::format("interface \"{}\": expected an IPv4 address", o.interface));
  return a;
}

}  // namespace

Fd udp_receiver(const Endpoint& local, const UdpOptions& o) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  if (!fd.valid()) fail("socket(UDP)");
  if (o.reuse_address) set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  apply_udp(fd.get(), o);
  // A multicast receiver binds the group address so it sees only that group's datagrams.
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local.addr), sizeof local.addr) != 0)
    fail(fmt::format("bind UDP {}", local.text));
  if (local.is_multicast()) {
    ip_mreq mreq{};
    mreq.imr_multiaddr = local.addr.sin_addr;
    mreq.imr_interface = interface_address(o);
    if (::setsockopt(fd.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
      fail(fmt::format("IP_ADD_MEMBERSHIP {} on interface {}", local.text, o.interface.empty() ? "any" : o.interface));
  }
  return fd;
}

Fd udp_sender(const UdpOptions& o) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  if (!fd.valid()) fail("socket(UDP)");
  apply_udp(fd.get(), o);
  set_int_option(fd.get(), IPPROTO_IP, IP_MULTICAST_TTL, o.multicast_ttl, "IP_MULTICAST_TTL");
  set_int_option(fd.get(), IPPROTO_IP, IP_MULTICAST_LOOP, o.multicast_loop ? 1 : 0, "IP_MULTICAST_LOOP");
  if (!o.interface.empty()) {
    const in_addr a = interface_address(o);
    if (::setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) != 0) fail("IP_MULTICAST_IF");
  }
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) fail("bind UDP sender");
  return fd;
}

Endpoint local_endpoint(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) fail("getsockname");
  return Endpoint::from_sockaddr(sa);
}

namespace {
void apply_tcp(int fd, const TcpOptions& o) {
  if (o.nonblocking) set_nonblocking(fd);
  if (o.no_delay) set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  if (o.busy_poll_us > 0) set_int_option(fd, SOL_SOCKET, SO_BUSY_POLL, o.busy_poll_us, "SO_BUSY_POLL");
}
}  // namespace

Fd tcp_listen(const Endpoint& local, int backlog, const TcpOptions& o) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  if (!fd.valid()) fail("socket(TCP)");
  set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local.addr), sizeof local.addr) != 0)
    fail(fmt::format("bind TCP {}", local.text));
  if (::listen(fd.get(), backlog) != 0) fail(fmt::format("listen TCP {}", local.text));
  set_nonblocking(fd.get(), o.nonblocking);
  return fd;
}

Fd tcp_accept(int listen_fd, const TcpOptions& o, Endpoint* peer) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  Fd fd(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_CLOEXEC));
  if (!fd.valid()) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return Fd{};
    fail("accept");
  }
  apply_tcp(fd.get(), o);
  if (peer != nullptr) *peer = Endpoint::from_sockaddr(sa);
  return fd;
}

Fd tcp_connect(const Endpoint& remote, int timeout_ms, const TcpOptions& o) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fail("socket(TCP)");
  set_nonblocking(fd.get(), true);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&remote.addr), sizeof remote.addr) != 0) {
    if (errno != EINPROGRESS) fail(fmt::format("connect TCP {}", remote.text));
    pollfd p{fd.get(), POLLOUT, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n == 0) {
      errno = ETIMEDOUT;
      fail(fmt::format("connect TCP {} ({} ms)", remote.text, timeout_ms));
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (n < 0 || err != 0) {
      errno = n < 0 ? errno : err;
      fail(fmt::format("connect TCP {}", remote.text));
    }
  }
  set_nonblocking(fd.get(), false);
  apply_tcp(fd.get(), o);
  return fd;
}

int tcp_connect_start(const Endpoint& remote, const TcpOptions& o, Fd& out) noexcept {
  out.reset();
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno;
  const int one = 1;
  if (o.no_delay) (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (o.busy_poll_us > 0) (void)::setsockopt(fd.get(), SOL_SOCKET, SO_BUSY_POLL, &o.busy_poll_us, sizeof o.busy_poll_us);
  int result = 0;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&remote.addr), sizeof remote.addr) != 0) {
    result = errno;
    if (result != EINPROGRESS) return result;
  }
  out = std::move(fd);
  return result;
}

int tcp_connect_result(int fd) noexcept {
  pollfd p{fd, POLLOUT, 0};
  const int n = ::poll(&p, 1, 0);
  if (n < 0) return errno == EINTR ? EINPROGRESS : errno;
  if (n == 0) return EINPROGRESS;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  if (err == 0 && (p.revents & (POLLERR | POLLHUP)) != 0) return ECONNREFUSED;
  return err;
}

}  // namespace hft::net
