#pragma once
// Hot-path time is the TSC: one `rdtsc` (about 20-40 cycles), no syscall, no vDSO call. It is
// calibrated against CLOCK_MONOTONIC at start-up and converted to nanoseconds only for output.
// Without an invariant TSC (CPUID 0x80000007 EDX bit 8) the TSC may change rate with P-states
// or stop in deep C-states, so the clock falls back to clock_gettime(CLOCK_MONOTONIC) and
// "ticks" are then nanoseconds.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace hft::core {

__extension__ using uint128 = unsigned __int128;

[[nodiscard]] inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__) || defined(__i386__)
// Not ordered against earlier loads: cheapest, fine for stamping an event as it is handled.
[[nodiscard]] inline std::uint64_t rdtsc() noexcept { return __rdtsc(); }
// Waits for earlier instructions to complete: use at the end of a measured region.
[[nodiscard]] inline std::uint64_t rdtscp() noexcept {
  unsigned aux = 0;
  return __rdtscp(&aux);
}
#else
[[nodiscard]] inline std::uint64_t rdtsc() noexcept { return monotonic_ns(); }
[[nodiscard]] inline std::uint64_t rdtscp() noexcept { return monotonic_ns(); }
#endif

// The counter at the start of this thread's current runner pass (core/runner.cpp sets it once per
// pass when the TSC is in use). Stages that need only coarse time (timers, heartbeats, publishing
// intervals) read this instead of the counter: on a VM a counter read costs 10-25 ns, and a fused
// thread would otherwise read it in every stage of every pass. Off a runner thread (tests polling a
// stage by hand) it reads the counter.
namespace detail {
inline thread_local std::uint64_t t_pass_tsc = 0;
}
[[nodiscard]] inline std::uint64_t pass_rdtsc() noexcept {
  const std::uint64_t t = detail::t_pass_tsc;
  return t != 0 ? t : rdtsc();
}
inline void set_pass_rdtsc(std::uint64_t tsc) noexcept { detail::t_pass_tsc = tsc; }

// CPUID leaf 0x80000007, EDX bit 8: the TSC runs at a constant rate in all P-, C- and T-states.
[[nodiscard]] bool has_invariant_tsc() noexcept;

enum class ClockSource : std::uint8_t { kAuto, kTsc, kMonotonic };

class TscClock {
 public:
  // Measures the TSC rate against CLOCK_MONOTONIC over `window`. kAuto picks the TSC when it is
  // invariant; kTsc and kMonotonic force a source (tests walk both paths).
  static TscClock calibrate(ClockSource source = ClockSource::kAuto,
                            std::chrono::milliseconds window = std::chrono::milliseconds(20));

  // Ticks now: TSC ticks, or nanoseconds on the fallback source.
  [[nodiscard]] std::uint64_t now() const noexcept { return use_tsc_ ? rdtsc() : monotonic_ns(); }

  // Tick interval -> nanoseconds, 32.32 fixed point (exact to < 1 ns per second of interval).
  [[nodiscard]] std::uint64_t to_ns(std::uint64_t ticks) const noexcept {
    return static_cast<std::uint64_t>((static_cast<uint128>(ticks) * ns_per_tick_q32_) >> 32);
  }
  [[nodiscard]] std::uint64_t from_ns(std::uint64_t ns) const noexcept {
    return static_cast<std::uint64_t>((static_cast<uint128>(ns) * ticks_per_ns_q32_) >> 32);
  }
  // A tick stamp -> CLOCK_MONOTONIC nanoseconds (for matching against kernel timestamps).
  [[nodiscard]] std::uint64_t to_monotonic_ns(std::uint64_t stamp) const noexcept {
    return stamp >= base_ticks_ ? base_ns_ + to_ns(stamp - base_ticks_) : base_ns_ - to_ns(base_ticks_ - stamp);
  }

  [[nodiscard]] bool uses_tsc() const noexcept { return use_tsc_; }
  [[nodiscard]] double ticks_per_ns() const noexcept { return ticks_per_ns_; }
  [[nodiscard]] std::string describe() const;

 private:
  bool use_tsc_ = false;
  bool invariant_ = false;
  double ticks_per_ns_ = 1.0;
  std::uint64_t ns_per_tick_q32_ = 1ull << 32;
  std::uint64_t ticks_per_ns_q32_ = 1ull << 32;
  std::uint64_t base_ticks_ = 0;
  std::uint64_t base_ns_ = 0;
};

// The process-wide clock, calibrated on first use (call it once at start-up, off the hot path).
const TscClock& tsc_clock();
// Replaces the process-wide clock (start-up only, before any thread reads it).
void set_tsc_clock(const TscClock& clock);

}  // namespace hft::core
