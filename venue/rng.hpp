#pragma once
// The venue's deterministic random numbers: xoshiro256** (Blackman & Vigna, 2018) seeded through
// SplitMix64, so one 64-bit seed gives the same stream on every platform and compiler (unlike
// the std:: distributions, whose algorithms are implementation-defined).
#include <cstdint>

namespace hft::venue {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept {
    for (auto& word : s_) word = splitmix(seed);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) (n > 0), without modulo bias: Lemire's multiply-and-reject.
  std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ using u128 = unsigned __int128;
    u128 m = static_cast<u128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<u128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // True with probability per_mille / 1000.
  bool chance(std::uint32_t per_mille) noexcept { return below(1000) < per_mille; }

  // Geometric in [1, max]: 1, then each further step with probability continue_per_mille / 1000
  // (quotes crowd near the touch and thin out with distance, as on a real book).
  std::uint32_t geometric(std::uint32_t max, std::uint32_t continue_per_mille) noexcept {
    std::uint32_t d = 1;
    while (d < max && chance(continue_per_mille)) ++d;
    return d;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E37'79B9'7F4A'7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4];
};

}  // namespace hft::venue
