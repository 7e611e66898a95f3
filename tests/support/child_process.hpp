#pragma once
// Child processes for the program tests (hft-exchange, hftctl, hftd, perf scripts): spawn with
// stdout and stderr to files (or both to one), every wait bounded (a child past its deadline is
// killed), signals; where the programs are; a free loopback port.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace hft::testing {

// build/<preset>/tests/<binary> -> build/<preset>/bin/<program>
inline std::filesystem::path program_path(const std::string& name) {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin" / name;
}

// The first executable of that name on PATH, if any.
inline std::optional<std::filesystem::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const std::filesystem::path p = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A loopback port that was free a moment ago (bound to 0, read back, released).
inline std::uint16_t free_port(int type = SOCK_STREAM) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class Child {
 public:
  // `env` entries are added to (or replace) this process's environment.
  Child(const std::vector<std::string>& argv, const std::filesystem::path& out, const std::filesystem::path& err,
        const std::map<std::string, std::string>& env = {})
      : out_(out), err_(err) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv(*e);
      const auto eq = kv.find('=');
      if (eq != std::string::npos && env.count(kv.substr(0, eq)) != 0) continue;
      env_text.push_back(kv);
    }
    for (const auto& [k, v] : env) env_text.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err == out) posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);  // one file for both
    else posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait_for(std::chrono::seconds(5));
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  [[nodiscard]] bool started() const { return pid_ > 0; }
  [[nodiscard]] bool running() const { return pid_ > 0 && !status_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  void signal(int sig) const {
    if (running()) ::kill(pid_, sig);
  }
  std::optional<int> wait_for(std::chrono::milliseconds limit) {
    if (status_ || pid_ <= 0) return status_;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      if (r < 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // The exit code; -1 when it had to be killed at the deadline.
  int finish(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    if (const auto rc = wait_for(limit)) return *rc;
    ::kill(pid_, SIGKILL);
    wait_for(std::chrono::seconds(5));
    return -1;
  }
  [[nodiscard]] std::string out() const { return read_file(out_); }
  [[nodiscard]] std::string err() const { return err_ == out_ ? std::string() : read_file(err_); }
  // Waits until stdout or stderr contains `text` (or the child ends, or the deadline passes).
  bool await_output(const std::string& text, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    const auto seen = [&] { return out().find(text) != std::string::npos || err().find(text) != std::string::npos; };
    while (std::chrono::steady_clock::now() < deadline) {
      if (seen()) return true;
      if (wait_for(std::chrono::milliseconds(0))) return seen();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path out_, err_;
};

}  // namespace hft::testing
