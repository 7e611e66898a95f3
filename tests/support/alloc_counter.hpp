#pragma once
// Allocation-counting harness. Linking tests/support/alloc_counter.cpp into a binary replaces the
// global operator new/delete with versions that count every call, per thread and in total. Tests
// use it to prove that a hot path allocates nothing in steady state:
//
//   hft::testing::AllocationScope scope;   // counts this thread from here
//   ... run the hot path ...
//   EXPECT_EQ(scope.allocations(), 0u);
//
// Threads started elsewhere (runner threads) are looked up by their kernel thread id.
#include <cstdint>
#include <sys/types.h>

namespace hft::testing {

struct AllocCounts {
  std::uint64_t allocations = 0;
  std::uint64_t deallocations = 0;
  std::uint64_t bytes = 0;
};

// Counts of the calling thread since it started.
AllocCounts this_thread_counts() noexcept;
// Counts of thread `tid` (gettid()) since it started; zeros if it never allocated.
AllocCounts thread_counts(pid_t tid) noexcept;
// Counts of the whole process.
AllocCounts process_counts() noexcept;
// True when this binary's operator new is the counting one (guards against a harness that was
// not linked in, which would make every "zero allocations" assertion pass vacuously).
bool counting_active() noexcept;

class AllocationScope {
 public:
  AllocationScope() noexcept : start_(this_thread_counts()) {}
  [[nodiscard]] std::uint64_t allocations() const noexcept { return this_thread_counts().allocations - start_.allocations; }
  [[nodiscard]] std::uint64_t deallocations() const noexcept {
    return this_thread_counts().deallocations - start_.deallocations;
  }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return this_thread_counts().bytes - start_.bytes; }

 private:
  AllocCounts start_;
};

}  // namespace hft::testing
