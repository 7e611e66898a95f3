#pragma once
// Sizes of the book stage's pools, read from the [book] TOML table. Every pool is allocated once
// at start-up from these numbers; when one is exhausted at run time the book is marked degraded
// and the event counted (BookStats), never undefined behaviour.
//
//   [book]
//   orders = 8388608      # live orders, all stocks together
//   levels = 1048576      # live price levels, all stocks and both sides together
//   max_locate = 65535    # highest ITCH stock locate kept (1..65535; 0 is "not a stock")
//   level_events = false  # also publish every price-level change, not only top-of-book changes
//   ref_stride_log2 = 2   # log2 of the step of the feed's order-reference streams (book_set.hpp, home)
#include <cstdint>

#include "core/config.hpp"

namespace hft::book {

struct BookConfig {
  std::uint32_t orders = 1u << 23;
  std::uint32_t levels = 1u << 20;
  std::uint32_t max_locate = 65535;
  bool level_events = false;
  // The order table's home slot rotates the reference's low bits right by this many bits, so a
  // stream stepping by 2^k fills consecutive slots: 2 for four streams stepping by 4 (the
  // default), 0 for one sequence stepping by 1 (hft-itch gen's realistic day). Any value is
  // correct for any feed; a wrong one only spreads recent orders over more cache lines.
  std::uint32_t ref_stride_log2 = 2;
};
inline constexpr std::uint32_t kMaxRefStrideLog2 = 4;

inline constexpr std::uint32_t kMaxOrders = 1u << 30;
inline constexpr std::uint32_t kMaxLevels = 1u << 28;

// Reads and validates a [book] table; throws core::ConfigError naming file, line and key.
BookConfig parse_book_config(const core::ConfigSection& book);

}  // namespace hft::book
