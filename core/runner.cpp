#include "core/runner.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <ctime>

#include "core/clock.hpp"
#include "core/topology.hpp"

namespace hft::core {

std::string_view to_string(IdleKind kind) noexcept {
  switch (kind) {
    case IdleKind::kBusySpin: return "spin";
    case IdleKind::kYield: return "yield";
    case IdleKind::kBackoff: return "backoff";
  }
  return "?";
}

bool parse_idle_kind(std::string_view text, IdleKind& out) noexcept {
  for (IdleKind k : {IdleKind::kBusySpin, IdleKind::kYield, IdleKind::kBackoff}) {
    if (text == to_string(k)) {
      out = k;
      return true;
    }
  }
  return false;
}

void IdleStrategy::idle() noexcept {
  switch (config_.kind) {
    case IdleKind::kBusySpin:
      cpu_relax();
      return;
    case IdleKind::kYield:
      ::sched_yield();
      return;
    case IdleKind::kBackoff:
      if (spins_ < config_.spins) {
        ++spins_;
        cpu_relax();
      } else if (yields_ < config_.yields) {
        ++yields_;
        ::sched_yield();
      } else {
        timespec ts{static_cast<time_t>(park_ns_ / 1'000'000'000ull), static_cast<long>(park_ns_ % 1'000'000'000ull)};
        ::nanosleep(&ts, nullptr);
        ++parks_;
        park_ns_ = park_ns_ * 2 < config_.max_park_ns ? park_ns_ * 2 : config_.max_park_ns;
      }
      return;
  }
}

Runner::Runner(RunnerOptions options, std::vector<StageRef> stages)
    : options_(std::move(options)), stages_(std::move(stages)) {}

Runner::~Runner() { stop(); }

void Runner::start() {
  if (thread_.joinable()) return;
  stop_.store(false, std::memory_order_release);
  ready_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { thread_main(); });
  while (!ready_.load(std::memory_order_acquire)) std::this_thread::yield();
}

void Runner::stop() noexcept {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

int Runner::run_once() noexcept {
  int work = 0;
  for (const StageRef& s : stages_) work += s.poll();
  return work;
}

double Runner::idle_ratio() const noexcept {
  const std::uint64_t start = stats_.started_ticks.load(std::memory_order_relaxed);
  if (start == 0) return 0.0;
  const std::uint64_t elapsed = tsc_clock().now() - start;
  if (elapsed == 0) return 0.0;
  const double r = static_cast<double>(stats_.idle_ticks.load(std::memory_order_relaxed)) / static_cast<double>(elapsed);
  return r > 1.0 ? 1.0 : r;
}

void Runner::thread_main() noexcept {
  const TscClock& clk = tsc_clock();
  tid_.store(static_cast<pid_t>(::gettid()), std::memory_order_release);
  placement_.push_back(name_current_thread(options_.name).message);
  if (options_.cpu >= 0) placement_.push_back(pin_current_thread(options_.cpu).message);
  if (options_.fifo_priority > 0) placement_.push_back(set_current_thread_fifo(options_.fifo_priority).message);
  // nanosleep's default timer slack is 50 us; a backoff park should wake when asked.
  if (options_.idle.kind == IdleKind::kBackoff) ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  for (const StageRef& s : stages_) s.on_thread_start();
  stats_.started_ticks.store(clk.now(), std::memory_order_relaxed);
  running_.store(true, std::memory_order_release);
  ready_.store(true, std::memory_order_release);

  // One clock read per pass: a pass that found no work counts as idle from its start to the end
  // of the idle strategy's wait, so the idle ratio includes empty polls.
  IdleStrategy idle(options_.idle);
  std::uint64_t passes = 0, work_passes = 0, work_items = 0, idle_ticks = 0;
  std::uint64_t pass_start = clk.now();
  const bool share_pass_time = clk.uses_tsc();  // clk.now() is then the counter rdtsc() reads
  if (share_pass_time) set_pass_rdtsc(pass_start);
  while (!stop_.load(std::memory_order_acquire)) {
    const int work = run_once();
    ++passes;
    if (work > 0) {
      ++work_passes;
      work_items += static_cast<std::uint64_t>(work);
      idle.reset();
      stats_.work_passes.store(work_passes, std::memory_order_relaxed);
      stats_.work_items.store(work_items, std::memory_order_relaxed);
    } else {
      idle.idle();
    }
    const std::uint64_t now = clk.now();
    if (work <= 0) {
      idle_ticks += now - pass_start;
      stats_.idle_ticks.store(idle_ticks, std::memory_order_relaxed);
      stats_.parks.store(idle.parks(), std::memory_order_relaxed);
    }
    pass_start = now;
    if (share_pass_time) set_pass_rdtsc(now);
    stats_.passes.store(passes, std::memory_order_relaxed);
  }
  set_pass_rdtsc(0);
  for (const StageRef& s : stages_) s.on_thread_stop();
  running_.store(false, std::memory_order_release);
}

}  // namespace hft::core
