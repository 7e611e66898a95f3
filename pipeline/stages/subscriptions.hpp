#pragma once
// Which stocks the strategies want depth for: written by the strategy stage when a symbol's
// locate becomes known, read by the book stage (relaxed atomics, one byte per locate). Its own
// header so the book stage does not depend on the strategy stage.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pipeline/events.hpp"

namespace hft::pipeline {

class Subscriptions {
 public:
  explicit Subscriptions(std::size_t locates) : flags_(locates) {}
  void set(Locate locate) noexcept {
    if (locate < flags_.size()) flags_[locate].store(1, std::memory_order_release);
  }
  [[nodiscard]] bool test(Locate locate) const noexcept {
    return locate < flags_.size() && flags_[locate].load(std::memory_order_relaxed) != 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return flags_.size(); }

 private:
  std::vector<std::atomic<std::uint8_t>> flags_;
};

}  // namespace hft::pipeline
