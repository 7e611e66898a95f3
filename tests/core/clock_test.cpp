#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <thread>

namespace hft::core {
namespace {

TEST(Clock, ReportsInvariantTscAsTheKernelDoes) {
  // The kernel exports CPUID 0x80000007 EDX bit 8 as the "nonstop_tsc" flag.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool kernel_says = false;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      kernel_says = line.find(" nonstop_tsc") != std::string::npos;
      break;
    }
  EXPECT_EQ(has_invariant_tsc(), kernel_says);
}

// The calibrated TSC and CLOCK_MONOTONIC measure the same interval to within 0.5%: checks the
// calibration, not how long the sleep took.
TEST(Clock, TscCalibrationAgreesWithMonotonic) {
  const TscClock c = TscClock::calibrate(ClockSource::kTsc, std::chrono::milliseconds(50));
  EXPECT_TRUE(c.uses_tsc());
  EXPECT_GT(c.ticks_per_ns(), 0.1);
  const std::uint64_t t0 = c.now();
  const std::uint64_t m0 = monotonic_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::uint64_t t1 = c.now();
  const std::uint64_t m1 = monotonic_ns();
  const double tsc_ns = static_cast<double>(c.to_ns(t1 - t0));
  const double mono_ns = static_cast<double>(m1 - m0);
  EXPECT_NEAR(tsc_ns / mono_ns, 1.0, 0.005) << c.describe();
  EXPECT_NEAR(static_cast<double>(c.to_monotonic_ns(t1)), static_cast<double>(m1), 2e5);
}

TEST(Clock, ConversionsRoundTrip) {
  const TscClock c = TscClock::calibrate(ClockSource::kTsc, std::chrono::milliseconds(10));
  for (std::uint64_t ns : {1ull, 1000ull, 1'000'000ull, 3'600'000'000'000ull}) {
    const double back = static_cast<double>(c.to_ns(c.from_ns(ns)));
    EXPECT_NEAR(back, static_cast<double>(ns), static_cast<double>(ns) * 1e-6 + 2.0);
  }
}

TEST(Clock, MonotonicFallbackCountsNanoseconds) {
  const TscClock c = TscClock::calibrate(ClockSource::kMonotonic);
  EXPECT_FALSE(c.uses_tsc());
  EXPECT_EQ(c.to_ns(12345), 12345u);
  const std::uint64_t a = c.now();
  const std::uint64_t m = monotonic_ns();
  const std::uint64_t b = c.now();
  EXPECT_LE(a, m);
  EXPECT_LE(m, b);
  EXPECT_NE(c.describe().find("CLOCK_MONOTONIC"), std::string::npos);
}

TEST(Clock, ProcessClockIsCalibratedOnce) {
  const TscClock& a = tsc_clock();
  const TscClock& b = tsc_clock();
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(a.uses_tsc(), has_invariant_tsc());
}

}  // namespace
}  // namespace hft::core
