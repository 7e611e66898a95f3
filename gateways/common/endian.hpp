#pragma once
// Big-endian (network order) loads and stores over unaligned wire bytes. memcpy + byteswap
// compiles to one MOVBE (or MOV + BSWAP) on x86-64; no alignment is assumed.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace hft::wire {

[[nodiscard]] inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}
[[nodiscard]] inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}
[[nodiscard]] inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}
// ITCH timestamps are 6-byte big-endian nanoseconds since midnight (TotalView-ITCH 5.0,
// "Data Types"): a 16-bit and a 32-bit load, assembled by hand.
[[nodiscard]] inline std::uint64_t load_be48(const std::uint8_t* p) noexcept {
  return (static_cast<std::uint64_t>(load_be16(p)) << 32) | load_be32(p + 2);
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be48(std::uint8_t* p, std::uint64_t v) noexcept {
  store_be16(p, static_cast<std::uint16_t>(v >> 32));
  store_be32(p + 2, static_cast<std::uint32_t>(v));
}

// Fixed-width alpha fields: left-justified, right-padded with spaces.
inline void store_alpha(std::uint8_t* p, std::size_t width, const char* text, std::size_t len) noexcept {
  const std::size_t n = len < width ? len : width;
  std::memcpy(p, text, n);
  std::memset(p + n, ' ', width - n);
}

}  // namespace hft::wire
