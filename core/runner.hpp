#pragma once
// Runner threads and idle strategies (Aeron's duty-cycle agents). A stage is any object with a
// noexcept `poll()` that does a bounded batch of work and returns how much it did. A runner owns
// an ordered list of stages, pinned to one CPU, and calls them in that order; when a whole pass
// did no work it asks its idle strategy what to do. Stages are reached through a function
// pointer per pass (type erasure at configuration time), never a virtual call per message.
#include <atomic>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "core/compiler.hpp"

namespace hft::core {

template <class S>
concept Stage = requires(S& s) {
  { s.poll() } noexcept -> std::convertible_to<int>;
  { s.name() } -> std::convertible_to<std::string_view>;
};

class StageRef {
 public:
  template <Stage S>
  static StageRef of(S& stage) noexcept {
    StageRef r;
    r.self_ = &stage;
    r.poll_ = [](void* p) noexcept -> int { return static_cast<S*>(p)->poll(); };
    if constexpr (requires { stage.on_thread_start(); })
      r.on_start_ = [](void* p) noexcept { static_cast<S*>(p)->on_thread_start(); };
    if constexpr (requires { stage.on_thread_stop(); })
      r.on_stop_ = [](void* p) noexcept { static_cast<S*>(p)->on_thread_stop(); };
    r.name_ = std::string_view(stage.name());
    return r;
  }
  int poll() const noexcept { return poll_(self_); }
  void on_thread_start() const noexcept {
    if (on_start_ != nullptr) on_start_(self_);
  }
  void on_thread_stop() const noexcept {
    if (on_stop_ != nullptr) on_stop_(self_);
  }
  [[nodiscard]] std::string_view name() const noexcept { return name_; }

 private:
  void* self_ = nullptr;
  int (*poll_)(void*) noexcept = nullptr;
  void (*on_start_)(void*) noexcept = nullptr;
  void (*on_stop_)(void*) noexcept = nullptr;
  std::string_view name_;
};

enum class IdleKind : std::uint8_t { kBusySpin, kYield, kBackoff };
[[nodiscard]] std::string_view to_string(IdleKind kind) noexcept;
[[nodiscard]] bool parse_idle_kind(std::string_view text, IdleKind& out) noexcept;

struct IdleConfig {
  IdleKind kind = IdleKind::kBackoff;
  std::uint32_t spins = 1000;            // backoff: passes with `pause` before yielding
  std::uint32_t yields = 100;            // backoff: passes with sched_yield before parking
  std::uint64_t min_park_ns = 1'000;     // backoff: first sleep; doubles up to max_park_ns
  std::uint64_t max_park_ns = 1'000'000; // backoff: bound on one sleep (and on stop latency)
};

class IdleStrategy {
 public:
  explicit IdleStrategy(const IdleConfig& config) noexcept : config_(config), park_ns_(config.min_park_ns) {}
  // Called once per pass with the pass's work count.
  void idle(int work) noexcept {
    if (work > 0) {
      reset();
      return;
    }
    idle();
  }
  void idle() noexcept;
  void reset() noexcept {
    spins_ = 0;
    yields_ = 0;
    park_ns_ = config_.min_park_ns;
  }
  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }

 private:
  IdleConfig config_;
  std::uint32_t spins_ = 0;
  std::uint32_t yields_ = 0;
  std::uint64_t park_ns_;
  std::uint64_t parks_ = 0;
};

// Written by the runner thread only (relaxed stores); read by anyone.
struct alignas(kFalseSharingRange) RunnerStats {
  std::atomic<std::uint64_t> passes{0};      // duty cycles: one call of every stage
  std::atomic<std::uint64_t> work_passes{0}; // passes that did some work
  std::atomic<std::uint64_t> work_items{0};  // sum of the stages' work counts
  std::atomic<std::uint64_t> idle_ticks{0};  // clock ticks spent inside the idle strategy
  std::atomic<std::uint64_t> parks{0};       // sleeps taken by a backoff strategy
  std::atomic<std::uint64_t> started_ticks{0};
};

struct RunnerOptions {
  std::string name = "hft-runner";
  int cpu = -1;            // -1: not pinned
  IdleConfig idle;
  int fifo_priority = 0;   // 0: SCHED_OTHER; 1..99: try SCHED_FIFO
};

class Runner {
 public:
  Runner(RunnerOptions options, std::vector<StageRef> stages);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Starts the thread and waits until it has placed itself; placement() then says how.
  void start();
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }
  // Requests a stop and joins; bounded by one pass plus max_park_ns.
  void stop() noexcept;
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }

  // One duty cycle on the calling thread; returns the work done (tests, single-threaded runs).
  int run_once() noexcept;

  [[nodiscard]] const RunnerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const RunnerOptions& options() const noexcept { return options_; }
  [[nodiscard]] const std::vector<std::string>& placement() const noexcept { return placement_; }
  [[nodiscard]] pid_t tid() const noexcept { return tid_.load(std::memory_order_acquire); }
  // Fraction of wall time spent idle since start (0..1).
  [[nodiscard]] double idle_ratio() const noexcept;

 private:
  void thread_main() noexcept;

  RunnerOptions options_;
  std::vector<StageRef> stages_;
  RunnerStats stats_;
  alignas(kFalseSharingRange) std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> ready_{false};
  std::atomic<pid_t> tid_{0};
  std::vector<std::string> placement_;
  std::thread thread_;
};

}  // namespace hft::core
