#include "pipeline/journal/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace hft::journal {
namespace {

constexpr std::uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli

// Slicing-by-8 tables: kTable[k][b] is the CRC of byte b followed by k zero bytes.
constexpr std::array<std::array<std::uint32_t, 256>, 8> kTable = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1u) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][b] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xffu];
  return t;
}();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t extend_hw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t c = ~crc;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

[[maybe_unused]] bool detect_hw() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}
#endif

}  // namespace

std::uint32_t crc32c_extend_portable(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t c = ~crc;
  while (size >= 8) {
    std::uint32_t lo;
    std::uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;  // little-endian hosts only (x86-64, AArch64 as the project builds them)
    c = kTable[7][lo & 0xff] ^ kTable[6][(lo >> 8) & 0xff] ^ kTable[5][(lo >> 16) & 0xff] ^ kTable[4][lo >> 24] ^
        kTable[3][hi & 0xff] ^ kTable[2][(hi >> 8) & 0xff] ^ kTable[1][(hi >> 16) & 0xff] ^ kTable[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) c = (c >> 8) ^ kTable[0][(c ^ *p++) & 0xffu];
  return ~c;
}

bool crc32c_hardware() noexcept {
#if defined(__SSE4_2__)
  return true;
#elif defined(__x86_64__)
  static const bool hw = detect_hw();
  return hw;
#else
  return false;
#endif
}

std::uint32_t crc32c_extend_dispatch(std::uint32_t crc, const void* data, std::size_t size) noexcept {
#if defined(__SSE4_2__)
  return extend_hw(crc, static_cast<const std::uint8_t*>(data), size);
#elif defined(__x86_64__)
  if (crc32c_hardware()) return extend_hw(crc, static_cast<const std::uint8_t*>(data), size);
  return crc32c_extend_portable(crc, data, size);
#else
  return crc32c_extend_portable(crc, data, size);
#endif
}

}  // namespace hft::journal
