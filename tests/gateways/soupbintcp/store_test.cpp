#include "gateways/soupbintcp/store.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

#include "tests/support/alloc_counter.hpp"

namespace hft::soup {
namespace {

std::string at(const SequencedStore& s, std::uint64_t seq) {
  const auto m = s.get(seq);
  return {reinterpret_cast<const char*>(m.data()), m.size()};
}
std::uint64_t put(SequencedStore& s, const std::string& m) {
  return s.append(reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
}

TEST(SoupStore, NumbersFromOneAndReturnsWhatWasStored) {
  SequencedStore s(8, 1024, 100);
  EXPECT_EQ(s.next_sequence(), 1u);
  EXPECT_EQ(s.first_sequence(), 1u);
  EXPECT_EQ(put(s, "a"), 1u);
  EXPECT_EQ(put(s, ""), 2u);
  EXPECT_EQ(put(s, "ccc"), 3u);
  EXPECT_EQ(s.next_sequence(), 4u);
  EXPECT_EQ(at(s, 1), "a");
  EXPECT_EQ(at(s, 2), "");
  EXPECT_EQ(at(s, 3), "ccc");
  EXPECT_TRUE(s.holds(1));
  EXPECT_FALSE(s.holds(4));
  EXPECT_EQ(put(s, std::string(101, 'x')), 0u);  // above max_message: refused, nothing changes
  EXPECT_EQ(s.next_sequence(), 4u);
}

TEST(SoupStore, EvictsOldestByCount) {
  SequencedStore s(4, 1024, 100);
  for (int i = 1; i <= 10; ++i) put(s, std::to_string(i));
  EXPECT_EQ(s.first_sequence(), 7u);
  EXPECT_EQ(s.next_sequence(), 11u);
  EXPECT_EQ(s.evicted(), 6u);
  EXPECT_FALSE(s.holds(6));
  for (std::uint64_t q = 7; q <= 10; ++q) EXPECT_EQ(at(s, q), std::to_string(q));
}

// Against a model (a deque of the retained messages) with random sizes: every retained message
// reads back intact, the retained range is contiguous and ends at the newest, and the byte ring
// never holds more than it has room for.
TEST(SoupStore, ByteRingWrapsAndEvictsAgainstAModel) {
  SequencedStore s(64, 1000, 300);
  std::deque<std::pair<std::uint64_t, std::string>> model;
  std::mt19937 rng(42);
  for (int i = 0; i < 5000; ++i) {
    std::string m(rng() % 301, static_cast<char>('a' + i % 26));
    if (!m.empty()) m[0] = static_cast<char>(i);
    const std::uint64_t seq = put(s, m);
    ASSERT_EQ(seq, static_cast<std::uint64_t>(i + 1));
    model.emplace_back(seq, m);
    while (model.front().first < s.first_sequence()) model.pop_front();
    ASSERT_EQ(model.front().first, s.first_sequence());
    ASSERT_EQ(model.size(), s.size());
    std::size_t bytes = 0;
    for (const auto& [q, text] : model) {
      ASSERT_EQ(at(s, q), text) << "seq " << q << " after append " << i;
      bytes += text.size();
    }
    ASSERT_LE(bytes, 1000u);
    ASSERT_LE(s.size(), 64u);
  }
  EXPECT_GT(s.evicted(), 0u);
}

TEST(SoupStore, ReserveCommitInPlaceAndNoAllocation) {
  SequencedStore s(1024, 1 << 16, 256);
  ::hft::testing::AllocationScope scope;
  for (int i = 0; i < 10000; ++i) {
    std::uint8_t* p = s.reserve(256);
    ASSERT_NE(p, nullptr);
    p[0] = static_cast<std::uint8_t>(i);
    s.commit(1 + i % 50);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(s.next_sequence(), 10001u);
  EXPECT_EQ(s.get(10000).size(), 1u + 9999 % 50);
  EXPECT_EQ(s.get(10000)[0], static_cast<std::uint8_t>(9999));
}

TEST(SoupStore, ClearRestartsTheStream) {
  SequencedStore s(4, 64, 16);
  put(s, "x");
  put(s, "y");
  s.clear();
  EXPECT_EQ(s.next_sequence(), 1u);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(put(s, "z"), 1u);
  EXPECT_EQ(at(s, 1), "z");
}

TEST(SoupStore, RefusesImpossibleSizes) {
  EXPECT_THROW(SequencedStore(0, 10, 1), std::invalid_argument);
  EXPECT_THROW(SequencedStore(1, 10, 11), std::invalid_argument);
}

}  // namespace
}  // namespace hft::soup
