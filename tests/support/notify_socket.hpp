#pragma once
// The receiving end of systemd's notification protocol for program tests: a datagram socket at a
// path, handed to the child as NOTIFY_SOCKET, collecting what it says (READY=1, WATCHDOG=1, ...)
// as systemd would receive it.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

namespace hft::testing {

class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    std::filesystem::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.string().size() >= sizeof addr.sun_path) return;
    std::strcpy(addr.sun_path, path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bound_ = true;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove(path_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] bool bound() const { return bound_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // Everything heard so far, one datagram a line.
  [[nodiscard]] const std::string& heard() const { return heard_; }

  // Reads datagrams until one line of what was heard contains `what`, or `limit` passes.
  bool hear(const std::string& what, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (heard_.find(what) == std::string::npos && std::chrono::steady_clock::now() < end) {
      char buf[512];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) heard_.append(buf, static_cast<std::size_t>(n)).push_back('\n');
    }
    return heard_.find(what) != std::string::npos;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string heard_;
};

}  // namespace hft::testing
