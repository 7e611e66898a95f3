// GLIMPSE 5.0's Snapshot message and the receiver's snapshot reader (gateways/itch/glimpse.hpp).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>

#include "gateways/itch/encoder.hpp"
#include "gateways/itch/glimpse.hpp"

namespace hft::itch::glimpse {
namespace {

TEST(GlimpseSnapshot, EncodesTwentyLeftJustifiedDigitsAndParsesThemBack) {
  std::array<std::uint8_t, kSnapshotLength> m{};
  ASSERT_EQ(encode_snapshot(m.data(), 1234567), kSnapshotLength);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.data()), m.size()), "M1234567             ");
  std::uint64_t seq = 0;
  ASSERT_TRUE(parse_snapshot(m.data(), m.size(), seq));
  EXPECT_EQ(seq, 1234567u);
  encode_snapshot(m.data(), ~std::uint64_t{0});
  ASSERT_TRUE(parse_snapshot(m.data(), m.size(), seq));
  EXPECT_EQ(seq, ~std::uint64_t{0});
}

TEST(GlimpseSnapshot, RejectsBadNumbers) {
  auto parse = [](std::string text) {
    std::uint64_t seq = 0;
    return parse_snapshot(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), seq);
  };
  EXPECT_TRUE(parse("M               12345"));   // right justified is tolerated
  EXPECT_FALSE(parse("M                    "));  // no digits
  EXPECT_FALSE(parse("M12 45               "));  // a space inside
  EXPECT_FALSE(parse("M99999999999999999999"));  // above 2^64 - 1
  EXPECT_FALSE(parse("M123"));                   // short
  EXPECT_FALSE(parse("X1                   "));
}

TEST(GlimpseSnapshot, ReaderClassifiesMessagesAndRefusesWrongLengths) {
  SnapshotReader r;
  std::array<std::uint8_t, 64> m{};
  const std::size_t n = encode::add_order(m.data(), MessageHeader{1, 0, 5}, 42, 'B', 100, Symbol::from("AAA"), 1'000'000);
  EXPECT_EQ(r.on_message(m.data(), n), SnapshotItem::kMessage);
  EXPECT_EQ(r.on_message(m.data(), n - 1), SnapshotItem::kMalformed);
  const std::uint8_t unknown[3] = {'!', 0, 0};
  EXPECT_EQ(r.on_message(unknown, 3), SnapshotItem::kMalformed);
  EXPECT_EQ(r.on_message(m.data(), 0), SnapshotItem::kMalformed);
  std::array<std::uint8_t, kSnapshotLength> s{};
  encode_snapshot(s.data(), 77);
  EXPECT_EQ(r.on_message(s.data(), s.size()), SnapshotItem::kEnd);
  EXPECT_TRUE(r.ended());
  EXPECT_EQ(r.sequence(), 77u);
  EXPECT_EQ(r.on_message(m.data(), n), SnapshotItem::kAfterEnd);
  EXPECT_EQ(r.counters().add_orders, 1u);
  EXPECT_EQ(r.counters().malformed, 3u);
  EXPECT_EQ(r.counters().after_end, 1u);
}

}  // namespace
}  // namespace hft::itch::glimpse
