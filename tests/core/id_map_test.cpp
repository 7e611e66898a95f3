#include "core/id_map.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "tests/support/alloc_counter.hpp"

namespace hft::core {
namespace {

TEST(IdMap, InsertFindErase) {
  IdMap m(4);
  EXPECT_TRUE(m.insert(10, 1));
  EXPECT_TRUE(m.insert(11, 2));
  EXPECT_FALSE(m.insert(10, 3)) << "duplicate";
  EXPECT_FALSE(m.insert(0, 3)) << "0 is reserved";
  ASSERT_NE(m.find(10), nullptr);
  EXPECT_EQ(*m.find(10), 1u);
  EXPECT_EQ(m.find(12), nullptr);
  EXPECT_TRUE(m.insert(12, 3));
  EXPECT_TRUE(m.insert(13, 4));
  EXPECT_FALSE(m.insert(14, 5)) << "full at max_entries";
  EXPECT_TRUE(m.erase(11));
  EXPECT_FALSE(m.erase(11));
  EXPECT_EQ(m.find(11), nullptr);
  EXPECT_TRUE(m.insert(14, 5));
  EXPECT_EQ(m.size(), 4u);
}

// Random inserts and erases against std::unordered_map: backward-shift deletion must never lose
// a key that sits later in a probe run.
TEST(IdMap, AgreesWithReferenceUnderChurn) {
  IdMap m(1000);
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200'000; ++i) {
    const std::uint64_t key = 1 + rng() % 3000;  // dense keys collide in probe runs
    if (rng() % 2 == 0 && ref.size() < 1000) {
      const bool fresh = ref.emplace(key, static_cast<std::uint32_t>(i)).second;
      ASSERT_EQ(m.insert(key, static_cast<std::uint32_t>(i)), fresh);
    } else {
      ASSERT_EQ(m.erase(key), ref.erase(key) == 1);
    }
    if (i % 997 == 0) {
      for (const auto& [k, v] : ref) {
        const std::uint32_t* got = m.find(k);
        ASSERT_NE(got, nullptr) << k;
        ASSERT_EQ(*got, v);
      }
    }
  }
  EXPECT_EQ(m.size(), ref.size());
}

TEST(IdMap, AllocatesNothingAfterConstruction) {
  IdMap m(10'000);
  const hft::testing::AllocationScope scope;
  for (std::uint64_t k = 1; k <= 10'000; ++k) m.insert(k * 7919, static_cast<std::uint32_t>(k));
  for (std::uint64_t k = 1; k <= 10'000; ++k) m.erase(k * 7919);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(m.size(), 0u);
}

}  // namespace
}  // namespace hft::core
