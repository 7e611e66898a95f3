#pragma once
// Fixed-capacity open-addressing map from a 64-bit id to a 32-bit index, for the hot path: no
// allocation after construction, linear probing, and backward-shift deletion (no tombstones, so
// lookups never degrade after many erases). Key 0 is reserved as "empty".
#include <bit>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace hft::core {

class IdMap {
 public:
  // Room for `max_entries` at a load factor of at most 1/2.
  explicit IdMap(std::size_t max_entries)
      : capacity_(std::bit_ceil(max_entries * 2 < 16 ? 16 : max_entries * 2)),
        mask_(capacity_ - 1),
        slots_(new Slot[capacity_]()),
        max_entries_(max_entries) {}

  // False when full or when the key is 0 or already present.
  bool insert(std::uint64_t key, std::uint32_t value) noexcept {
    if (key == 0 || size_ >= max_entries_) return false;
    for (std::size_t i = hash(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == 0) {
        slots_[i] = {key, value};
        ++size_;
        return true;
      }
      if (slots_[i].key == key) return false;
    }
  }

  // Brings the home slot of `key` into cache (an insert or find of it is coming).
  void prefetch(std::uint64_t key) const noexcept { __builtin_prefetch(&slots_[hash(key)], 1, 3); }

  // The value, or nullptr.
  [[nodiscard]] const std::uint32_t* find(std::uint64_t key) const noexcept {
    if (key == 0) return nullptr;
    for (std::size_t i = hash(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].value;
      if (slots_[i].key == 0) return nullptr;
    }
  }

  bool erase(std::uint64_t key) noexcept {
    if (key == 0) return false;
    std::size_t i = hash(key);
    while (slots_[i].key != key) {
      if (slots_[i].key == 0) return false;
      i = (i + 1) & mask_;
    }
    // Backward shift: pull later members of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, j].
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      const std::size_t home = hash(slots_[j].key);
      const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_in_range) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = {};
    --size_;
    return true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t max_entries() const noexcept { return max_entries_; }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t value;
  };
  // Fibonacci hashing: ids are often sequential, so multiply to spread them over the table.
  [[nodiscard]] std::size_t hash(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - std::countr_zero(capacity_))) & mask_;
  }

  std::size_t capacity_;
  std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  std::size_t max_entries_;
  std::size_t size_ = 0;
};

}  // namespace hft::core
