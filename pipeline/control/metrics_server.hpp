#pragma once
// A minimal HTTP/1.1 server for Prometheus scrapes (`hftctl metrics --listen`): GET or HEAD
// /metrics answers the exposition rendered at that moment, any other path 404, any other
// method 405. One thread, non-blocking sockets and poll(); every connection has a bounded
// request size and a deadline, and is closed after one response (Connection: close), so a
// silent, slow or garbage-sending client costs one slot for at most the timeout. Operations
// tooling, not the trading hot path.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket.hpp"

namespace hft::control {

struct HttpRequestHead {
  std::string_view method;
  std::string_view target;
  std::string_view version;
};

enum class HttpParse { kIncomplete, kComplete, kBad };

// Parses a request head (request line and header lines up to the blank line; CRLF or bare LF,
// RFC 9112 §2.2). kComplete fills `out` (views into `buffer`).
HttpParse parse_http_head(std::string_view buffer, HttpRequestHead& out);

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// The full response text (status line, headers, body unless HEAD) for a parsed request;
// `render` is called only for a GET/HEAD of /metrics.
std::string http_respond(const HttpRequestHead& request, const std::function<std::string()>& render);
// A response with no request behind it (400, 408, 431, 503).
std::string http_error_response(int status);

struct MetricsServerOptions {
  std::size_t max_request_bytes = 8192;  // a scrape's head is a few hundred bytes
  std::chrono::milliseconds timeout{5000};
  std::size_t max_connections = 64;
};

struct MetricsServerStats {
  std::uint64_t connections = 0;
  std::uint64_t scrapes = 0;       // 200 on /metrics
  std::uint64_t not_found = 0;     // 404
  std::uint64_t bad_requests = 0;  // 400, 405, 431
  std::uint64_t timeouts = 0;      // closed at the deadline
  std::uint64_t refused = 0;       // over max_connections
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  // Binds and listens (throws std::system_error naming the endpoint).
  MetricsServer(const net::Endpoint& listen, Render render, MetricsServerOptions options = {});

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const MetricsServerStats& stats() const noexcept { return stats_; }

  // Serves until `stop` becomes true (looked at least every 100 ms).
  void run(const std::atomic<bool>& stop);
  // One poll round of at most `wait`: accepts, reads, answers, writes, expires.
  void poll_once(std::chrono::milliseconds wait);

 private:
  struct Connection {
    net::Fd fd;
    std::string in;
    std::string out;
    std::size_t sent = 0;
    bool responding = false;
    std::chrono::steady_clock::time_point deadline;
  };
  void accept_all();
  // False when the connection is finished (closed).
  bool on_readable(Connection& c);
  bool on_writable(Connection& c);

  net::Fd listen_;
  std::uint16_t port_ = 0;
  Render render_;
  MetricsServerOptions options_;
  MetricsServerStats stats_;
  std::vector<Connection> connections_;
};

}  // namespace hft::control
