#pragma once
// Bounded single-producer/single-consumer ring of trivially copyable events.
//
// Each slot is a cell {sequence, value}. The producer writes the value, then stores the cell's
// sequence (position + 1) with release; the consumer knows a slot is published by reading that
// sequence in the very cache line it has to read for the value anyway. A hop therefore moves one
// cache line from producer to consumer instead of two (the producer's index, then the slot),
// which measured 30% lower round-trip latency than the index-only design on this project's
// 2-vCPU Zen host (bench/core/ring_bench.cpp).
//
// Indices are free-running 64-bit counters (slot = index & mask): "full" is
// tail - head == capacity and no slot is wasted. The producer owns `tail` and caches the
// consumer's `head`, reading the real one only when its cache says the ring is full; the
// consumer owns `head` and never needs the producer's index (the cell sequence is its cache).
// Producer and consumer state live on separate cache-line pairs (static_asserts below).
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "core/compiler.hpp"

namespace hft::core {

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "SpscRing carries trivially copyable events only");

 public:
  using value_type = T;
  // Cells are aligned so none straddles a cache line: 16, 32 or 64 bytes, or whole lines for
  // events larger than 56 bytes. Pipeline events are sized to 56 bytes so a cell is one line.
  static constexpr std::size_t kCellAlign = sizeof(T) + 8 <= 16 ? 16 : sizeof(T) + 8 <= 32 ? 32 : kCacheLine;
  struct alignas(kCellAlign) Cell {
    std::atomic<std::uint64_t> sequence{0};  // position + 1 once published
    T value{};
  };
  static_assert(std::is_trivially_destructible_v<Cell>);

  // Owns its cells (allocated here, at start-up). `capacity` must be a power of two >= 2.
  explicit SpscRing(std::size_t capacity)
      : owned_(check_capacity(capacity) ? new Cell[capacity]() : nullptr) {
    init(owned_.get(), capacity);
  }

  // Uses caller-provided, value-initialised cells (e.g. Arena::allocate_array<Cell>).
  explicit SpscRing(std::span<Cell> cells) {
    check_capacity(cells.size());
    init(cells.data(), cells.size());
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // ---- producer side -------------------------------------------------------------------------
  [[nodiscard]] bool try_push(const T& item) noexcept {
    T* slot = claim();
    if (slot == nullptr) return false;
    *slot = item;
    publish();
    return true;
  }

  // Zero-copy producer path: claim() returns the next slot to fill (nullptr when full); publish()
  // makes it visible. Exactly one publish() per successful claim().
  [[nodiscard]] T* claim() noexcept {
    const std::uint64_t tail = prod_.tail.load(std::memory_order_relaxed);
    if (tail - prod_.head_cache == capacity_) [[unlikely]] {
      prod_.head_cache = cons_.head.load(std::memory_order_acquire);
      if (tail - prod_.head_cache == capacity_) return nullptr;
    }
    return &cells_[tail & mask_].value;
  }
  void publish() noexcept {
    const std::uint64_t tail = prod_.tail.load(std::memory_order_relaxed);
    cells_[tail & mask_].sequence.store(tail + 1, std::memory_order_release);
    prod_.tail.store(tail + 1, std::memory_order_relaxed);
  }

  // Pushes up to `n` items; returns how many were pushed (0 when full).
  [[nodiscard]] std::size_t try_push_batch(const T* items, std::size_t n) noexcept {
    const std::uint64_t tail = prod_.tail.load(std::memory_order_relaxed);
    std::uint64_t free_slots = capacity_ - (tail - prod_.head_cache);
    if (free_slots < n) {
      prod_.head_cache = cons_.head.load(std::memory_order_acquire);
      free_slots = capacity_ - (tail - prod_.head_cache);
    }
    const std::size_t count = n < free_slots ? n : static_cast<std::size_t>(free_slots);
    for (std::size_t i = 0; i < count; ++i) {
      Cell& c = cells_[(tail + i) & mask_];
      c.value = items[i];
      c.sequence.store(tail + i + 1, std::memory_order_release);
    }
    prod_.tail.store(tail + count, std::memory_order_relaxed);
    return count;
  }

  // ---- consumer side -------------------------------------------------------------------------
  [[nodiscard]] bool try_pop(T& out) noexcept {
    const T* item = front();
    if (item == nullptr) return false;
    out = *item;
    pop();
    return true;
  }

  // Zero-copy consumer path: front() returns the oldest item (nullptr when empty); pop()
  // releases it. The pointer stays valid until pop().
  [[nodiscard]] const T* front() noexcept {
    const std::uint64_t head = cons_.head_local;
    const Cell& c = cells_[head & mask_];
    if (c.sequence.load(std::memory_order_acquire) != head + 1) return nullptr;
    return &c.value;
  }
  void pop() noexcept {
    const std::uint64_t head = ++cons_.head_local;
    cons_.head.store(head, std::memory_order_release);
  }

  // Pops up to `max` items into `out`; returns how many were popped (0 when empty).
  [[nodiscard]] std::size_t try_pop_batch(T* out, std::size_t max) noexcept {
    const std::uint64_t head = cons_.head_local;
    std::size_t count = 0;
    while (count < max) {
      const Cell& c = cells_[(head + count) & mask_];
      if (c.sequence.load(std::memory_order_acquire) != head + count + 1) break;
      out[count++] = c.value;
    }
    if (count != 0) {
      cons_.head_local = head + count;
      cons_.head.store(head + count, std::memory_order_release);
    }
    return count;
  }

  // ---- either side (approximate while the other side runs) -----------------------------------
  [[nodiscard]] std::size_t size_approx() const noexcept {
    const std::uint64_t head = cons_.head.load(std::memory_order_acquire);
    const std::uint64_t tail = prod_.tail.load(std::memory_order_acquire);
    return tail >= head ? static_cast<std::size_t>(tail - head) : 0;
  }
  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct alignas(kFalseSharingRange) ProducerSide {
    std::atomic<std::uint64_t> tail{0};  // next position to write; written by the producer only
    std::uint64_t head_cache{0};         // producer's last view of the consumer's head
  };
  struct alignas(kFalseSharingRange) ConsumerSide {
    std::atomic<std::uint64_t> head{0};  // next position to read; read by the producer when full
    std::uint64_t head_local{0};         // the same, without an atomic load on the consumer's path
  };
  static_assert(sizeof(ProducerSide) == kFalseSharingRange && alignof(ProducerSide) == kFalseSharingRange,
                "producer index (tail) must own its cache lines");
  static_assert(sizeof(ConsumerSide) == kFalseSharingRange && alignof(ConsumerSide) == kFalseSharingRange,
                "consumer index (head) must own its cache lines");
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  static bool check_capacity(std::size_t capacity) {
    if (capacity < 2 || !std::has_single_bit(capacity))
      throw std::invalid_argument("SpscRing capacity must be a power of two >= 2");
    return true;
  }
  void init(Cell* cells, std::size_t capacity) noexcept {
    cells_ = cells;
    capacity_ = capacity;
    mask_ = capacity - 1;
  }

  ProducerSide prod_;
  ConsumerSide cons_;
  // Read-only after construction; on its own line so neither index write invalidates it.
  alignas(kFalseSharingRange) Cell* cells_{nullptr};
  std::size_t capacity_{0};
  std::size_t mask_{0};
  std::unique_ptr<Cell[]> owned_;
};

}  // namespace hft::core
