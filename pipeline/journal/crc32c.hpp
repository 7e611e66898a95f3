#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78; RFC 3720 B.4), the checksum of every
// journal record. Debian 12 packages no C/C++ CRC32C library (only a Python one; Abseil's
// absl/crc arrived after the 20220623 release Debian ships), so it is here: the SSE4.2 CRC32
// instruction, 8 bytes per instruction, when the CPU has it (Intel SDM vol. 2, CRC32), else a
// slicing-by-8 table. Both give the standard check value crc32c("123456789") = 0xE3069283.
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

namespace hft::journal {

// Runtime dispatch: the CRC32 instruction when the CPU has it, else the table.
[[nodiscard]] std::uint32_t crc32c_extend_dispatch(std::uint32_t crc, const void* data, std::size_t size) noexcept;

// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a ++ b). Start from 0. Inline when the
// build targets SSE4.2 (-march=native on any x86-64 of the last decade), so a record's CRC costs
// no call.
[[nodiscard]] inline std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) noexcept {
#if defined(__SSE4_2__)
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint64_t c = ~crc;
  while (size >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (size-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
#else
  return crc32c_extend_dispatch(crc, data, size);
#endif
}
[[nodiscard]] inline std::uint32_t crc32c(const void* data, std::size_t size) noexcept { return crc32c_extend(0, data, size); }

// The portable table version, whatever the CPU (tests compare the two).
[[nodiscard]] std::uint32_t crc32c_extend_portable(std::uint32_t crc, const void* data, std::size_t size) noexcept;
// Whether crc32c_extend uses the CRC32 instruction on this host.
[[nodiscard]] bool crc32c_hardware() noexcept;

}  // namespace hft::journal
