// The allocation-counting harness itself, and the core hot paths it guards.
#include "tests/support/alloc_counter.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"

namespace hft {
namespace {

TEST(AllocCounter, CountsThisThreadsAllocations) {
  ASSERT_TRUE(testing::counting_active()) << "the counting operator new is not linked in";
  const testing::AllocationScope scope;
  auto p = std::make_unique<int>(1);
  std::vector<int> v(100);
  EXPECT_EQ(scope.allocations(), 2u);
  EXPECT_GE(scope.bytes(), sizeof(int) + 100 * sizeof(int));
  p.reset();
  EXPECT_EQ(scope.deallocations(), 1u);
}

TEST(AllocCounter, AttributesAllocationsToTheirThread) {
  pid_t tid = 0;
  const testing::AllocationScope scope;
  std::thread t([&] {
    tid = static_cast<pid_t>(::gettid());
    for (int i = 0; i < 5; ++i) {
      int* volatile p = new int(i);  // volatile: the compiler may not elide the pair
      delete p;
    }
  });
  t.join();
  EXPECT_EQ(testing::thread_counts(tid).allocations, 5u);
  EXPECT_GE(testing::thread_counts(tid).deallocations, 5u) << "plus the std::thread state it frees";
  EXPECT_GE(testing::process_counts().allocations, 5u);
}

TEST(AllocCounter, RingPushPopAllocatesNothingInSteadyState) {
  core::SpscRing<std::uint64_t> ring(64);
  std::uint64_t batch[16] = {};
  const testing::AllocationScope scope;
  for (std::uint64_t i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(ring.try_push(i));
    std::uint64_t v;
    ASSERT_TRUE(ring.try_pop(v));
    ASSERT_EQ(ring.try_push_batch(batch, 16), 16u);
    ASSERT_EQ(ring.try_pop_batch(batch, 16), 16u);
    if (auto* slot = ring.claim()) {
      *slot = i;
      ring.publish();
    }
    ASSERT_NE(ring.front(), nullptr);
    ring.pop();
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

TEST(AllocCounter, HistogramRecordAllocatesNothing) {
  core::Histogram h(1, 60'000'000'000ull, 3);
  std::mt19937_64 rng(1);
  const testing::AllocationScope scope;
  for (int i = 0; i < 1'000'000; ++i) h.record(rng() % 100'000'000'000ull);
  (void)h.value_at_percentile(99.9);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(h.total_count(), 1'000'000u);
}

}  // namespace
}  // namespace hft
