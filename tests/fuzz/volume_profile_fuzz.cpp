// A VWAP volume profile file (pipeline/strategy/execution.hpp, VolumeProfile::parse): any bytes
// either fail with std::runtime_error or give bins in increasing time order with finite,
// non-negative volumes, whose cumulative volume never decreases over the day.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "pipeline/strategy/execution.hpp"

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hft::strategy::VolumeProfile p;
  try {
    p = hft::strategy::VolumeProfile::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const std::runtime_error&) {
    return 0;
  }
  FUZZ_CHECK(!p.empty() && p.start_s.size() == p.volume.size());
  for (std::size_t i = 0; i < p.start_s.size(); ++i) {
    FUZZ_CHECK(p.start_s[i] < 86'400);
    FUZZ_CHECK(i == 0 || p.start_s[i] > p.start_s[i - 1]);
    FUZZ_CHECK(std::isfinite(p.volume[i]) && p.volume[i] >= 0);
  }
  double last = 0;
  for (double t = 0; t <= 86'400; t += 997) {
    const double c = p.cumulative(t);
    FUZZ_CHECK(std::isfinite(c) && c >= last - 1e-6 * (1 + std::fabs(last)));
    last = c;
  }
  return 0;
}
