#pragma once
// The REST API of `hftctl serve` (docs/data.md), independent of the network: a request goes in,
// a response comes out. The server (server.hpp) does the I/O, the limits and the WebSocket; the
// routes here are pure functions of the request and a Backend, so the fuzz target and the tests
// drive them without sockets.
//
// Security: mutating requests (POST, DELETE) and the WebSocket need `Authorization: Bearer
// <token>` (the WebSocket also takes ?token=, as a browser cannot set headers on it), the token
// read from a file that must be mode 0600. Errors are JSON: {"error": "...", "status": N}.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hft::data::api {

inline constexpr std::string_view kPrefix = "/api/v1/hft";

struct Request {
  std::string method;         // GET, POST, DELETE, ...
  std::string target;         // path and query
  std::string authorization;  // the Authorization header, if any
  std::string body;
};

struct Response {
  int status = 200;
  std::string body;  // JSON
  std::string content_type = "application/json";
};

[[nodiscard]] Response error(int status, std::string_view message);

// What the routes read and act on: a running hftd (through its control file) and, when the server
// follows the journal, the recent orders, fills and risk events. Every method may throw
// std::runtime_error (the daemon is not running): the route answers 503 with its message.
class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual std::string status_json() = 0;
  [[nodiscard]] virtual std::string latency_json() = 0;
  [[nodiscard]] virtual std::string positions_json() = 0;
  // Recent rows of a journal table as a JSON array ("orders", "fills", "risk_events"); nullopt
  // when the server follows no journal. `strategy` filters when set.
  [[nodiscard]] virtual std::optional<std::string> recent_json(std::string_view table, std::optional<int> strategy) = 0;
  // An operator command through the control file ("kill", "unkill", "halt", "resume", "flatten"):
  // true and hftd's answer, or false and why.
  virtual bool command(std::string_view verb, std::string& message) = 0;

  // Strategy library (issues 13 and 16), through the control file like hftctl. The defaults
  // answer "not available" (503) for a back end without a daemon.
  // {"strategies":[...]} as `hftctl strategy list --json`, and {"algos":[...]} as `hftctl algo status --json`.
  [[nodiscard]] virtual std::string strategies_json() { throw std::runtime_error("no strategies here"); }
  [[nodiscard]] virtual std::string algos_json() { throw std::runtime_error("no parent orders here"); }
  // `hftctl strategy start|stop NAME`: verb "start" or "stop".
  virtual bool strategy_command(std::string_view verb, std::string_view name, std::string& message) {
    (void)verb, (void)name;
    message = "not available";
    return false;
  }
  // `hftctl order new`: a limit order of the `manual` strategy (SDK and risk like any order);
  // on success `message` is its order id.
  struct ManualOrder {
    std::string symbol;
    bool buy = true;
    std::uint64_t quantity = 0;
    std::int64_t price = 0;  // 1/10,000 $
    bool ioc = false;
  };
  virtual bool place_order(const ManualOrder& order, std::string& message) {
    (void)order;
    message = "not available";
    return false;
  }
  // `hftctl order cancel ID`: any strategy's working order.
  virtual bool cancel_order(std::uint64_t order_id, std::string& message) {
    (void)order_id;
    message = "not available";
    return false;
  }
  // `hftctl algo start`: on success `message` is the parent order's id.
  struct AlgoStart {
    std::string algo;  // "twap" / "vwap"
    std::string symbol;
    bool buy = true;
    std::uint64_t quantity = 0;
    std::uint64_t duration_ms = 0;
    std::int64_t limit_price = 0;  // 1/10,000 $; 0 none
    double max_participation = 0;
  };
  virtual bool start_algo(const AlgoStart& algo, std::string& message) {
    (void)algo;
    message = "not available";
    return false;
  }
};

// Splits "path?query" and reads one query parameter ("" when absent).
[[nodiscard]] std::string_view path_of(std::string_view target) noexcept;
[[nodiscard]] std::optional<std::string> query_param(std::string_view target, std::string_view key);

class Router {
 public:
  Router(Backend& backend, std::string token) : backend_(backend), token_(std::move(token)) {}
  [[nodiscard]] Response handle(const Request& r);
  // Whether a WebSocket upgrade to `target` with this Authorization header may proceed.
  [[nodiscard]] bool websocket_allowed(std::string_view target, std::string_view authorization) const;
  [[nodiscard]] bool authorized(std::string_view authorization) const;

 private:
  Backend& backend_;
  std::string token_;
};

// Reads the bearer token: the file must be a regular file of mode 0600 (owner read/write only)
// holding a token of at least 16 printable characters (a trailing newline is ignored). Throws
// std::runtime_error saying what is wrong.
[[nodiscard]] std::string read_token_file(const std::string& path);

// Token bucket per client address: `rate` requests per second, bursts of `burst`.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst, std::size_t max_clients = 4096) : rate_(rate), burst_(burst), max_clients_(max_clients) {}
  [[nodiscard]] bool allow(const std::string& client, double now_seconds);

 private:
  struct Bucket {
    double tokens, last;
  };
  double rate_, burst_;
  std::size_t max_clients_;
  std::vector<std::pair<std::string, Bucket>> buckets_;  // few clients: a flat list
};

// Parses one HTTP/1.1 request from raw bytes with the server's limits (Boost.Beast's parser):
// nullopt and a reason for anything malformed or over a limit. The fuzz target's entry.
struct Limits {
  std::size_t max_body = 16 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_headers = 64;
};
[[nodiscard]] std::optional<Request> parse_request(std::string_view bytes, const Limits& limits, std::string& why);

}  // namespace hft::data::api
