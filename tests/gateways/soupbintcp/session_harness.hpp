#pragma once
// Test harness: a SoupBinTCP client engine and a server engine joined by an in-memory "wire"
// that moves bytes in chosen chunk sizes, with time injected by the test. No sockets, no clock.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/server.hpp"

namespace hft::soup::testing {

inline constexpr std::uint64_t kSecond = 1'000'000'000;

struct ServerRecorder {
  std::vector<SessionEvent> events;
  std::vector<std::pair<std::uint32_t, std::string>> unsequenced;
  std::vector<std::string> debug;
  void on_debug(std::uint32_t, std::string_view text) { debug.emplace_back(text); }
  // The reason of the last rejected login (kNone when there was none).
  [[nodiscard]] LoginFailure last_failure() const {
    const SessionEvent* e = last(EventKind::kLoginRejected);
    return e == nullptr ? LoginFailure::kNone : e->login_failure;
  }
  // The last close event (a default one, reason kNone, when there was none).
  [[nodiscard]] SessionEvent last_close() const {
    const SessionEvent* e = last(EventKind::kClosed);
    return e == nullptr ? SessionEvent{} : *e;
  }
  void on_event(const SessionEvent& e) { events.push_back(e); }
  void on_unsequenced(std::uint32_t user, std::span<const std::uint8_t> m, std::uint64_t) {
    unsequenced.emplace_back(user, std::string(reinterpret_cast<const char*>(m.data()), m.size()));
  }
  [[nodiscard]] const SessionEvent* last(EventKind k) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == k) return &*it;
    return nullptr;
  }
};

struct ClientRecorder {
  std::vector<SessionEvent> events;
  std::vector<std::pair<std::uint64_t, std::string>> sequenced;
  std::vector<std::string> unsequenced;
  std::vector<std::string> debug;
  void on_event(const SessionEvent& e) { events.push_back(e); }
  void on_unsequenced(std::span<const std::uint8_t> m, std::uint64_t) {
    unsequenced.emplace_back(reinterpret_cast<const char*>(m.data()), m.size());
  }
  void on_debug(std::string_view text) { debug.emplace_back(text); }
  [[nodiscard]] SessionEvent last_close() const {
    const SessionEvent* e = last(EventKind::kClosed);
    return e == nullptr ? SessionEvent{} : *e;
  }
  void on_sequenced(std::uint64_t seq, std::span<const std::uint8_t> m, std::uint64_t) {
    sequenced.emplace_back(seq, std::string(reinterpret_cast<const char*>(m.data()), m.size()));
  }
  [[nodiscard]] const SessionEvent* last(EventKind k) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == k) return &*it;
    return nullptr;
  }
};

inline ServerConfig test_server_config() {
  ServerConfig c;
  c.session = "TESTSESS01";
  c.users = {{"ALICE", "alicepw"}, {"BOB", "bobpw"}, {"CAROL", ""}};
  c.store_messages = 1024;
  c.store_bytes = 64 * 1024;
  c.max_message = 256;
  c.output_buffer_bytes = 4096;
  c.login_failure_delay_ns = 0;  // answered at once and never locked out, unless a test says so
  c.max_login_failures = 0;
  return c;
}

inline ClientConfig test_client_config(const std::string& user = "ALICE", const std::string& password = "alicepw") {
  ClientConfig c;
  c.username = user;
  c.password = password;
  c.max_message = 256;
  return c;
}

// One connection between a client engine and a server engine.
template <class ServerSessionT, class ClientSessionT>
struct Wire {
  ServerSessionT& server;
  ClientSessionT& client;
  std::size_t chunk = ~std::size_t{0};  // bytes moved per transfer
  bool up = false;
  bool client_to_server = true;        // false: the client's bytes are lost (a dead client)
  bool server_to_client = true;

  void connect(std::uint64_t id, std::uint64_t now) {
    server.open(id, now);
    client.open(id, now);
    up = true;
  }
  // Moves bytes both ways and runs both engines' timers until nothing moves (or a side closes).
  void pump(std::uint64_t now) {
    for (int i = 0; i < 100000 && up; ++i) {
      server.poll(now);
      client.poll(now);
      bool moved = false;
      moved |= transfer(client.output(), [&](std::size_t n) { client.consume_output(n); },
                        [&](const std::uint8_t* p, std::size_t n) { server.on_bytes(p, n, now); }, client_to_server);
      moved |= transfer(server.output(), [&](std::size_t n) { server.consume_output(n); },
                        [&](const std::uint8_t* p, std::size_t n) { client.on_bytes(p, n, now); }, server_to_client);
      if (server.finished() || client.finished()) {
        // Deliver what the finishing side still has, then close both ends.
        if (server.finished() && server_to_client) drain(server, client, now);
        if (client.finished() && client_to_server) drain(client, server, now);
        disconnect(now);
        return;
      }
      if (!moved) return;
    }
  }
  // Drops the connection (what is in flight is lost).
  void disconnect(std::uint64_t now) {
    if (!up) return;
    up = false;
    server.on_transport_closed(now, 0);
    client.on_transport_closed(now, 0);
  }

 private:
  template <class Consume, class Deliver>
  bool transfer(std::span<const std::uint8_t> out, Consume consume, Deliver deliver, bool pass) {
    if (out.empty()) return false;
    const std::size_t n = std::min(chunk, out.size());
    if (pass) deliver(out.data(), n);
    consume(n);
    return true;
  }
  template <class From, class To>
  static void drain(From& from, To& to, std::uint64_t now) {
    while (!from.output().empty()) {
      const auto out = from.output();
      to.on_bytes(out.data(), out.size(), now);
      from.consume_output(out.size());
    }
  }
};

template <class S, class C>
Wire(S&, C&) -> Wire<S, C>;

}  // namespace hft::soup::testing
