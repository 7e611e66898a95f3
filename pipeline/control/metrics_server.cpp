#include "pipeline/control/metrics_server.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <system_error>

#include <fmt/format.h>

namespace hft::control {
namespace {

// RFC 9110 §5.6.2 token characters.
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// One line without its terminator (LF, and a CR before it).
std::string_view strip_cr(std::string_view line) noexcept {
  return !line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line;
}

bool parse_request_line(std::string_view line, HttpRequestHead& out) noexcept {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty()) return false;
  for (const char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' || version[5] > '9' ||
      version[6] != '.' || version[7] < '0' || version[7] > '9')
    return false;
  out = {method, target, version};
  return true;
}

const char* reason(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string response(int status, std::string_view content_type, std::string_view body, bool head_only,
                     std::string_view extra_headers = {}) {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}", status,
                     reason(status), content_type, body.size(), extra_headers, head_only ? std::string_view{} : body);
}

}  // namespace

HttpParse parse_http_head(std::string_view buffer, HttpRequestHead& out) {
  // Refuse a first line that can no longer become a request (a TLS hello, binary noise) at once,
  // rather than holding the connection until its deadline.
  const std::size_t first_end = std::min(buffer.find('\n'), buffer.size());
  const std::size_t method_end = std::min(buffer.find(' '), first_end);
  for (std::size_t i = 0; i < method_end; ++i)
    if (!is_tchar(buffer[i])) return HttpParse::kBad;
  for (std::size_t i = 0; i < first_end; ++i) {
    const auto c = static_cast<unsigned char>(buffer[i]);
    if ((c < 0x20 && c != '\r') || c == 0x7f) return HttpParse::kBad;
  }
  std::size_t pos = 0;
  bool first = true;
  while (pos < buffer.size()) {
    const std::size_t nl = buffer.find('\n', pos);
    if (nl == std::string_view::npos) return HttpParse::kIncomplete;
    const std::string_view line = strip_cr(buffer.substr(pos, nl - pos));
    pos = nl + 1;
    if (first) {
      if (!parse_request_line(line, out)) return HttpParse::kBad;
      first = false;
      continue;
    }
    if (line.empty()) return HttpParse::kComplete;  // the blank line ends the head
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return HttpParse::kBad;
    for (const char c : line)
      if (c == '\0') return HttpParse::kBad;
  }
  return HttpParse::kIncomplete;
}

std::string http_respond(const HttpRequestHead& request, const std::function<std::string()>& render) {
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head)
    return response(405, "text/plain; charset=utf-8", "only GET and HEAD\n", false, "Allow: GET, HEAD\r\n");
  std::string_view path = request.target;
  if (const std::size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (path != "/metrics") return response(404, "text/plain; charset=utf-8", "not found: the metrics are at /metrics\n", head);
  std::string body;
  try {
    body = render();
  } catch (const std::exception& e) {
    return response(500, "text/plain; charset=utf-8", fmt::format("cannot render the metrics: {}\n", e.what()), head);
  }
  return response(200, kExpositionContentType, body, head);
}

std::string http_error_response(int status) {
  return response(status, "text/plain; charset=utf-8", fmt::format("{} {}\n", status, reason(status)), false);
}

MetricsServer::MetricsServer(const net::Endpoint& listen, Render render, MetricsServerOptions options)
    : listen_(net::tcp_listen(listen, 64)), render_(std::move(render)), options_(options) {
  port_ = net::local_endpoint(listen_.get()).port();
}

void MetricsServer::run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) poll_once(std::chrono::milliseconds(100));
}

void MetricsServer::accept_all() {
  for (;;) {
    net::TcpOptions o;
    o.nonblocking = true;
    o.no_delay = true;
    net::Fd fd;
    try {
      fd = net::tcp_accept(listen_.get(), o);
    } catch (const std::system_error&) {
      return;  // ECONNABORTED, EMFILE ...: the next round tries again
    }
    if (!fd.valid()) return;
    ++stats_.connections;
    if (connections_.size() >= options_.max_connections) {
      ++stats_.refused;
      const std::string busy = http_error_response(503);
      [[maybe_unused]] const auto n = ::send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;  // closed by Fd
    }
    Connection c;
    c.fd = std::move(fd);
    c.deadline = std::chrono::steady_clock::now() + options_.timeout;
    connections_.push_back(std::move(c));
  }
}

bool MetricsServer::on_readable(Connection& c) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n == 0) return false;  // the client closed before sending a whole request
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
    if (c.in.size() > options_.max_request_bytes) break;
  }
  HttpRequestHead head;
  const HttpParse r = parse_http_head(c.in, head);
  if (r == HttpParse::kIncomplete && c.in.size() <= options_.max_request_bytes) return true;
  if (r == HttpParse::kComplete) {
    c.out = http_respond(head, render_);
    const bool metrics = c.out.starts_with("HTTP/1.1 200");
    if (metrics) ++stats_.scrapes;
    else if (c.out.starts_with("HTTP/1.1 404")) ++stats_.not_found;
    else ++stats_.bad_requests;
  } else {
    ++stats_.bad_requests;
    c.out = http_error_response(r == HttpParse::kBad ? 400 : 431);
  }
  c.responding = true;
  c.in.clear();
  return on_writable(c);
}

bool MetricsServer::on_writable(Connection& c) {
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return false;
    }
    c.sent += static_cast<std::size_t>(n);
  }
  ::shutdown(c.fd.get(), SHUT_WR);
  return false;
}

void MetricsServer::poll_once(std::chrono::milliseconds wait) {
  std::vector<pollfd> fds;
  fds.reserve(connections_.size() + 1);
  fds.push_back({listen_.get(), POLLIN, 0});
  for (const auto& c : connections_) fds.push_back({c.fd.get(), static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
  const int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
  if (n < 0) return;  // EINTR: a signal, the caller looks at its stop flag
  std::vector<Connection> kept;
  kept.reserve(connections_.size());
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    Connection& c = connections_[i];
    const short ev = fds[i + 1].revents;
    bool open = true;
    if (ev & (POLLERR | POLLNVAL)) open = false;
    else if (!c.responding && (ev & (POLLIN | POLLHUP))) open = on_readable(c);
    else if (c.responding && (ev & POLLOUT)) open = on_writable(c);
    else if (ev & POLLHUP) open = false;
    if (open && now >= c.deadline) {
      ++stats_.timeouts;
      if (!c.responding) {
        const std::string late = http_error_response(408);
        [[maybe_unused]] const auto s = ::send(c.fd.get(), late.data(), late.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      open = false;
    }
    if (open) kept.push_back(std::move(c));
  }
  connections_ = std::move(kept);
  if (fds[0].revents & POLLIN) accept_all();
}

}  // namespace hft::control
