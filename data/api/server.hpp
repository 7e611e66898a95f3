#pragma once
// The HTTP and WebSocket server of `hftctl serve` (Boost.Beast, one thread): the REST routes of
// api.hpp, the dashboard's static files, and /ws/hft, a JSON event stream. Limits: request body,
// header bytes and header count, open connections, a per-client (address) request rate, and per
// WebSocket client a bounded send queue (bytes): a client that falls that far behind is dropped with close
// code 1008 ("slow client"), never slowing the others. Nothing here touches hftd's threads.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "data/api/api.hpp"

namespace hft::data::api {

struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8090;  // 0: any free port (port() says which)
  Limits limits;
  std::size_t max_connections = 64;
  double rate_per_second = 200;  // per client address
  double burst = 400;
  std::size_t ws_queue_bytes = 4 << 20;  // event bytes waiting for one WebSocket client before it is dropped
  int ws_send_buffer = 0;          // SO_SNDBUF of WebSocket connections (0: the kernel's)
  std::string static_dir;          // the dashboard's files; "" serves none
  int idle_timeout_seconds = 30;   // an HTTP connection with no complete request for this long is closed
};

struct ServerStats {
  std::atomic<std::uint64_t> requests{0}, rejected_connections{0}, rate_limited{0}, bad_requests{0}, unauthorized{0},
      ws_clients{0}, ws_dropped{0}, ws_messages{0};
};

class Server {
 public:
  Server(const ServerConfig& config, Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  // Queues one event (a JSON text) for every WebSocket client; callable from any thread.
  void broadcast(std::string json);
  // Calls `tick` every `period_ms` on the server's thread (the event sources).
  void every(int period_ms, std::function<void()> tick);
  // Serves until `stop` turns true (checked every 50 ms).
  void run(const std::atomic<bool>& stop);
  [[nodiscard]] const ServerStats& stats() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hft::data::api
