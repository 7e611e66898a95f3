#include "pipeline/journal/crc32c.hpp"

#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace hft::journal {
namespace {

TEST(Crc32c, StandardCheckValue) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c_extend_portable(0, s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c_extend_dispatch(0, s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c(s, 0), 0u);
}

TEST(Crc32c, Rfc3720Vectors) {
  // RFC 3720 B.4: 32 bytes of zeros, of 0xFF, and an ascending run.
  std::uint8_t buf[32];
  std::memset(buf, 0, sizeof buf);
  EXPECT_EQ(crc32c(buf, 32), 0x8A9136AAu);
  std::memset(buf, 0xff, sizeof buf);
  EXPECT_EQ(crc32c(buf, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(crc32c(buf, 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c_extend_portable(0, buf, 32), 0x46DD794Eu);
}

TEST(Crc32c, HardwareAndTableAgreeAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(7);
  std::vector<std::uint8_t> data(600);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (std::size_t off = 0; off < 8; ++off)
    for (std::size_t n = 0; n + off <= data.size(); n += 7) {
      ASSERT_EQ(crc32c(data.data() + off, n), crc32c_extend_portable(0, data.data() + off, n)) << off << " " << n;
      ASSERT_EQ(crc32c_extend_dispatch(0, data.data() + off, n), crc32c_extend_portable(0, data.data() + off, n));
    }
}

TEST(Crc32c, ExtendEqualsConcatenation) {
  const char* s = "hello, journal: 0123456789abcdef";
  const std::size_t n = std::strlen(s);
  for (std::size_t cut = 0; cut <= n; ++cut) EXPECT_EQ(crc32c_extend(crc32c(s, cut), s + cut, n - cut), crc32c(s, n));
}

}  // namespace
}  // namespace hft::journal
