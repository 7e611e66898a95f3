#include "core/clock.hpp"

#include <cpuid.h>

#include <thread>

#include <fmt/format.h>

namespace hft::core {

bool has_invariant_tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

namespace {

struct Pair {
  std::uint64_t ticks;
  std::uint64_t ns;
};

// One (TSC, monotonic) pair, taken where the two clock_gettime calls around rdtsc were closest,
// so the pair's error is bounded by half that gap (tens of ns).
Pair sample_pair() noexcept {
  Pair best{0, 0};
  std::uint64_t best_gap = ~0ull;
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t a = monotonic_ns();
    const std::uint64_t t = rdtscp();
    const std::uint64_t b = monotonic_ns();
    if (b - a < best_gap) {
      best_gap = b - a;
      best = {t, a + (b - a) / 2};
    }
  }
  return best;
}

TscClock* g_clock = nullptr;

}  // namespace

TscClock TscClock::calibrate(ClockSource source, std::chrono::milliseconds window) {
  TscClock c;
  c.invariant_ = has_invariant_tsc();
  c.use_tsc_ = source == ClockSource::kTsc || (source == ClockSource::kAuto && c.invariant_);
  if (!c.use_tsc_) {
    c.base_ns_ = c.base_ticks_ = monotonic_ns();
    return c;
  }
  const Pair first = sample_pair();
  std::this_thread::sleep_for(window);
  const Pair second = sample_pair();
  const double ticks = static_cast<double>(second.ticks - first.ticks);
  const double ns = static_cast<double>(second.ns - first.ns);
  c.ticks_per_ns_ = ticks / ns;
  c.ns_per_tick_q32_ = static_cast<std::uint64_t>(ns / ticks * 4294967296.0);
  c.ticks_per_ns_q32_ = static_cast<std::uint64_t>(ticks / ns * 4294967296.0);
  c.base_ticks_ = second.ticks;
  c.base_ns_ = second.ns;
  return c;
}

std::string TscClock::describe() const {
  if (!use_tsc_) return fmt::format("CLOCK_MONOTONIC (TSC {})", invariant_ ? "invariant but not used" : "not invariant");
  return fmt::format("TSC at {:.4f} GHz ({}invariant), calibrated against CLOCK_MONOTONIC", ticks_per_ns_,
                     invariant_ ? "" : "NOT ");
}

const TscClock& tsc_clock() {
  static TscClock* instance = [] {
    if (g_clock == nullptr) g_clock = new TscClock(TscClock::calibrate());
    return g_clock;
  }();
  return *instance;
}

void set_tsc_clock(const TscClock& c) {
  if (g_clock == nullptr) g_clock = new TscClock(c);
  else *g_clock = c;
}

}  // namespace hft::core
