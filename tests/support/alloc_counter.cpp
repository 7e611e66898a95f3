#include "tests/support/alloc_counter.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace hft::testing {
namespace {

// A fixed table of per-thread slots, claimed lock-free on a thread's first allocation; a slot
// outlives its thread so a test can read a runner thread's counts after it stopped.
struct Slot {
  std::atomic<pid_t> tid{0};
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> deallocations{0};
  std::atomic<std::uint64_t> bytes{0};
};
constexpr int kSlots = 4096;
Slot g_slots[kSlots];
std::atomic<int> g_next_slot{0};
std::atomic<std::uint64_t> g_allocations{0};
std::atomic<std::uint64_t> g_deallocations{0};
std::atomic<std::uint64_t> g_bytes{0};
thread_local Slot* t_slot = nullptr;

Slot* my_slot() noexcept {
  if (t_slot == nullptr) {
    const int i = g_next_slot.fetch_add(1, std::memory_order_relaxed);
    if (i >= kSlots) return nullptr;
    g_slots[i].tid.store(static_cast<pid_t>(::gettid()), std::memory_order_release);
    t_slot = &g_slots[i];
  }
  return t_slot;
}

void count_alloc(std::size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(n, std::memory_order_relaxed);
  if (Slot* s = my_slot()) {
    s->allocations.fetch_add(1, std::memory_order_relaxed);
    s->bytes.fetch_add(n, std::memory_order_relaxed);
  }
}

void count_free() noexcept {
  g_deallocations.fetch_add(1, std::memory_order_relaxed);
  if (Slot* s = my_slot()) s->deallocations.fetch_add(1, std::memory_order_relaxed);
}

void* checked_alloc(std::size_t n) {
  count_alloc(n);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void* checked_aligned_alloc(std::size_t n, std::align_val_t al) {
  count_alloc(n);
  const auto a = static_cast<std::size_t>(al);
  const std::size_t size = (n + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, size == 0 ? a : size)) return p;
  throw std::bad_alloc();
}

AllocCounts read(const Slot& s) noexcept {
  return {s.allocations.load(std::memory_order_relaxed), s.deallocations.load(std::memory_order_relaxed),
          s.bytes.load(std::memory_order_relaxed)};
}

}  // namespace

AllocCounts this_thread_counts() noexcept {
  Slot* s = my_slot();
  return s != nullptr ? read(*s) : AllocCounts{};
}

AllocCounts thread_counts(pid_t tid) noexcept {
  const int n = g_next_slot.load(std::memory_order_acquire);
  for (int i = 0; i < n && i < kSlots; ++i)
    if (g_slots[i].tid.load(std::memory_order_acquire) == tid) return read(g_slots[i]);
  return {};
}

AllocCounts process_counts() noexcept {
  return {g_allocations.load(std::memory_order_relaxed), g_deallocations.load(std::memory_order_relaxed),
          g_bytes.load(std::memory_order_relaxed)};
}

bool counting_active() noexcept {
  const std::uint64_t before = this_thread_counts().allocations;
  int* volatile probe = new int(1);
  delete probe;
  return this_thread_counts().allocations == before + 1;
}

}  // namespace hft::testing

using hft::testing::checked_alloc;
using hft::testing::checked_aligned_alloc;
using hft::testing::count_free;

void* operator new(std::size_t n) { return checked_alloc(n); }
void* operator new[](std::size_t n) { return checked_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return checked_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return checked_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return checked_aligned_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return checked_aligned_alloc(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return checked_aligned_alloc(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return checked_aligned_alloc(n, a);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  count_free();
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { operator delete(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { operator delete(p); }
