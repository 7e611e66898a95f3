#pragma once
// Small portability layer: cache-line constants and the spin-wait hint.
#include <cstddef>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hft::core {

// x86-64 and most ARMv8 cores move 64-byte lines. Intel's L2 spatial prefetcher pulls lines in
// 128-byte pairs, so fields written by different threads are kept 128 bytes apart
// (kFalseSharingRange) where that costs little.
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kFalseSharingRange = 128;

// Spin-wait hint: PAUSE lowers power and frees pipeline resources for an SMT sibling while
// spinning (Intel SDM vol. 2, PAUSE).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace hft::core

#define HFT_ALWAYS_INLINE inline __attribute__((always_inline))
#define HFT_NOINLINE __attribute__((noinline))
#define HFT_COLD __attribute__((cold, noinline))
