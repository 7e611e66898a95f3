#include "gateways/moldudp64/retransmit_store.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "mold_pub_test_util.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::mold {
namespace {

using test::Bytes;
using test::message_bytes;

RetransmitStoreConfig sized(std::size_t messages, std::size_t bytes) {
  RetransmitStoreConfig c;
  c.max_messages = messages;
  c.max_bytes = bytes;
  return c;
}

Bytes held(const RetransmitStore& s, std::uint64_t seq) {
  std::span<const std::uint8_t> m;
  EXPECT_EQ(s.find(seq, m), StoreLookup::kHeld) << "sequence " << seq;
  return Bytes(m.begin(), m.end());
}

TEST(MoldRetransmitStore, HoldsWhatWasAppended) {
  RetransmitStore s(sized(100, 1 << 16));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.next_sequence(), 1u);
  std::span<const std::uint8_t> m;
  EXPECT_EQ(s.find(1, m), StoreLookup::kNotPublished);
  EXPECT_EQ(s.find(0, m), StoreLookup::kEvicted) << "sequence 0 never exists";
  for (std::uint64_t seq = 1; seq <= 50; ++seq) {
    const Bytes b = message_bytes(seq, seq % 7 == 0 ? 0 : 20 + seq);
    ASSERT_TRUE(s.append(seq, b.data(), b.size()));
  }
  EXPECT_EQ(s.size(), 50u);
  EXPECT_EQ(s.first_sequence(), 1u);
  EXPECT_EQ(s.next_sequence(), 51u);
  for (std::uint64_t seq = 1; seq <= 50; ++seq) EXPECT_EQ(held(s, seq), message_bytes(seq, seq % 7 == 0 ? 0 : 20 + seq));
  EXPECT_EQ(s.find(51, m), StoreLookup::kNotPublished);
  EXPECT_EQ(s.find(~std::uint64_t{0}, m), StoreLookup::kNotPublished);
}

TEST(MoldRetransmitStore, RefusesOutOfOrderAppends) {
  RetransmitStore s(sized(10, 1 << 16));
  const Bytes b = message_bytes(1, 10);
  ASSERT_TRUE(s.append(500, b.data(), b.size())) << "the first message sets the base";
  EXPECT_EQ(s.first_sequence(), 500u);
  EXPECT_FALSE(s.append(502, b.data(), b.size()));
  EXPECT_FALSE(s.append(500, b.data(), b.size()));
  EXPECT_FALSE(s.append(501, b.data(), 65536)) << "longer than a MoldUDP64 length";
  EXPECT_EQ(s.stats().rejected, 3u);
  EXPECT_TRUE(s.append(501, b.data(), b.size()));
  EXPECT_EQ(s.next_sequence(), 502u);

  s.reset(9000);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.first_sequence(), 9000u);
  EXPECT_EQ(s.next_sequence(), 9000u);
  std::span<const std::uint8_t> m;
  EXPECT_EQ(s.find(501, m), StoreLookup::kEvicted);
  EXPECT_EQ(s.find(9000, m), StoreLookup::kNotPublished);
  EXPECT_TRUE(s.append(9000, b.data(), b.size()));
  EXPECT_EQ(held(s, 9000), b);
}

TEST(MoldRetransmitStore, EvictsTheOldestByMessageCount) {
  RetransmitStore s(sized(8, 1 << 16));
  for (std::uint64_t seq = 1; seq <= 20; ++seq) {
    const Bytes b = message_bytes(seq, 10);
    ASSERT_TRUE(s.append(seq, b.data(), b.size()));
    EXPECT_EQ(s.size(), std::min<std::uint64_t>(seq, 8));
  }
  EXPECT_EQ(s.first_sequence(), 13u);
  std::span<const std::uint8_t> m;
  EXPECT_EQ(s.find(12, m), StoreLookup::kEvicted);
  for (std::uint64_t seq = 13; seq <= 20; ++seq) EXPECT_EQ(held(s, seq), message_bytes(seq, 10));
  EXPECT_EQ(s.stats().evicted, 12u);
}

TEST(MoldRetransmitStore, WrapsTheByteRingKeepingEveryMessageContiguous) {
  // 65,535 bytes hold 65 messages of 1,000 bytes; the 66th does not fit before the end, so it
  // starts again at offset 0 and pushes out exactly one message, and so on.
  RetransmitStore s(sized(1000, RetransmitStoreConfig::kMinBytes));
  for (std::uint64_t seq = 1; seq <= 1000; ++seq) {
    const Bytes b = message_bytes(seq, 1000);
    ASSERT_TRUE(s.append(seq, b.data(), b.size()));
    ASSERT_EQ(s.size(), std::min<std::uint64_t>(seq, 65)) << "after " << seq;
    ASSERT_LE(s.bytes_in_use(), s.capacity_bytes());
  }
  EXPECT_EQ(s.first_sequence(), 936u);
  for (std::uint64_t seq = 936; seq <= 1000; ++seq) EXPECT_EQ(held(s, seq), message_bytes(seq, 1000));
  std::span<const std::uint8_t> m;
  EXPECT_EQ(s.find(935, m), StoreLookup::kEvicted);
}

TEST(MoldRetransmitStore, AMaximalMessageReplacesEverything) {
  RetransmitStore s(sized(1000, RetransmitStoreConfig::kMinBytes));
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    const Bytes b = message_bytes(seq, 300);
    ASSERT_TRUE(s.append(seq, b.data(), b.size()));
  }
  const Bytes big = message_bytes(11, 65535);
  ASSERT_TRUE(s.append(11, big.data(), big.size()));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(held(s, 11), big);
  const Bytes small = message_bytes(12, 1);
  ASSERT_TRUE(s.append(12, small.data(), small.size()));
  EXPECT_EQ(s.first_sequence(), 12u);
  EXPECT_EQ(held(s, 12), small);
}

// Random lengths against a model that keeps every message: the store must always hold a
// suffix of the stream, byte for byte, within both limits, and the newest message always.
TEST(MoldRetransmitStore, RandomStreamMatchesTheModel) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    const std::size_t max_messages = 16 + rng() % 500;
    const std::size_t max_bytes = RetransmitStoreConfig::kMinBytes + rng() % 100'000;
    RetransmitStore s(sized(max_messages, max_bytes));
    std::vector<Bytes> all(1);  // index 0 unused
    for (std::uint64_t seq = 1; seq <= 5000; ++seq) {
      const std::size_t len = rng() % 16 == 0 ? rng() % 20'000 : rng() % 120;
      all.push_back(message_bytes(seq, len));
      ASSERT_TRUE(s.append(seq, all.back().data(), len));
      ASSERT_EQ(s.next_sequence(), seq + 1);
      ASSERT_LE(s.size(), max_messages);
      ASSERT_GE(s.size(), 1u);
      ASSERT_LE(s.bytes_in_use(), max_bytes);
      if (seq % 97 == 0) {
        for (std::uint64_t q = s.first_sequence(); q <= seq; ++q) ASSERT_EQ(held(s, q), all[q]) << q;
      }
    }
    std::size_t held_bytes = 0;
    for (std::uint64_t q = s.first_sequence(); q < s.next_sequence(); ++q) held_bytes += all[q].size();
    // Not evicting more than needed: either the index is full or the newest evicted message
    // plus what is held (plus the skipped ring tails between them: at most two, each shorter
    // than the longest message) would not fit.
    const std::size_t previous = all[s.first_sequence() - 1].size();
    EXPECT_TRUE(s.size() == max_messages || held_bytes + previous + 2 * 20'000 > max_bytes)
        << "held " << s.size() << " messages, " << held_bytes << " bytes";
  }
}

TEST(MoldRetransmitStore, AppendAllocatesNothing) {
  ASSERT_TRUE(testing::counting_active());
  RetransmitStore s(sized(1024, 1 << 17));
  std::uint8_t msg[200] = {};
  testing::AllocationScope scope;
  std::span<const std::uint8_t> m;
  for (std::uint64_t seq = 1; seq <= 100'000; ++seq) {
    ASSERT_TRUE(s.append(seq, msg, seq % 200));
    ASSERT_EQ(s.find(seq, m), StoreLookup::kHeld);
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

TEST(MoldRetransmitStore, RejectsBadConfiguration) {
  EXPECT_THROW(RetransmitStore(sized(0, 1 << 20)), std::invalid_argument);
  EXPECT_THROW(RetransmitStore(sized(10, 65534)), std::invalid_argument);
  EXPECT_THROW(RetransmitStore(sized(10, RetransmitStoreConfig::kMaxBytes + 1)), std::invalid_argument);
  EXPECT_NO_THROW(RetransmitStore(sized(1, RetransmitStoreConfig::kMinBytes)));
}

}  // namespace
}  // namespace hft::mold
