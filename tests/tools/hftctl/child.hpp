#pragma once
// Helpers of the hftctl program tests, over tests/support/child_process.hpp: run a program to
// completion with its output, one HTTP request.
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tests/support/child_process.hpp"

namespace hft::hftctl_test {

namespace fs = std::filesystem;
using hft::testing::Child;
using hft::testing::free_port;
inline fs::path program(const std::string& name) { return hft::testing::program_path(name); }
inline std::string slurp(const fs::path& p) { return hft::testing::read_file(p); }
inline std::optional<fs::path> on_path(const std::string& name) { return hft::testing::find_on_path(name); }

struct Result {
  int rc = -1;
  std::string out, err;
};

inline Result run(const std::vector<std::string>& argv, const fs::path& work,
                  const std::map<std::string, std::string>& env = {},
                  std::chrono::milliseconds limit = std::chrono::milliseconds(30000)) {
  static int n = 0;
  const fs::path out = work / ("run" + std::to_string(++n) + ".out");
  const fs::path err = work / ("run" + std::to_string(n) + ".err");
  Child c(argv, out, err, env);
  if (!c.started()) return {-1, "", "cannot start " + argv[0]};
  Result r;
  r.rc = c.finish(limit);
  r.out = c.out();
  r.err = c.err();
  return r;
}

// One HTTP request over loopback; the whole response (the server closes after it).
inline std::string http_get(std::uint16_t port, const std::string& request, int timeout_ms = 5000) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    [[maybe_unused]] const auto s = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

// hft-exchange for the end-to-end tests: $HFT_EXCHANGE, else this build's.
inline std::optional<fs::path> exchange_program() {
  if (const char* env = std::getenv("HFT_EXCHANGE"); env != nullptr && *env != '\0' && fs::exists(env)) return fs::path(env);
  if (fs::exists(program("hft-exchange"))) return program("hft-exchange");
  return std::nullopt;
}

// Polls `done` every 10 ms until it holds or `limit` passes; its last answer.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// True when a TCP socket listens on `port` (IPv4, any address): /proc/net/tcp, state 0A.
inline bool tcp_listening(std::uint16_t port) {
  std::ifstream f("/proc/net/tcp");
  std::string line;
  const std::string want = fmt::format(":{:04X} ", port);
  while (std::getline(f, line)) {
    const std::size_t local = line.find(':', line.find(':') + 1);  // after "sl:", the local address
    if (local == std::string::npos) continue;
    if (line.compare(local, want.size(), want) == 0 && line.find(" 0A ") != std::string::npos) return true;
  }
  return false;
}

}  // namespace hft::hftctl_test
