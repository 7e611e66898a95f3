#pragma once
// Copies the counters of the stages of one runner thread into the control file, on that thread
// (so no counter is ever read by another thread while its owner writes it), every `interval`.
// It is the last stage of its runner; it reports no work, so the idle accounting is unchanged.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/clock.hpp"

namespace hft::control {

class Publisher {
 public:
  explicit Publisher(std::uint64_t interval_ns) noexcept
      : interval_ticks_(core::tsc_clock().from_ns(interval_ns)) {}

  // Start-up only.
  void add(std::function<void()> publish) { publishers_.push_back(std::move(publish)); }
  [[nodiscard]] bool empty() const noexcept { return publishers_.empty(); }

  int poll() noexcept {
    const std::uint64_t now = core::pass_rdtsc();
    if (now - last_ < interval_ticks_) return 0;
    last_ = now;
    publish_now();
    return 0;
  }
  void publish_now() noexcept {
    for (auto& p : publishers_) p();
  }
  [[nodiscard]] const char* name() const noexcept { return "publish"; }

 private:
  std::uint64_t interval_ticks_;
  std::uint64_t last_ = 0;
  std::vector<std::function<void()>> publishers_;
};

}  // namespace hft::control
