#pragma once
// Events the book stage publishes to the strategy stage. Fixed-size and trivially copyable so
// they travel through core::SpscRing; 56 bytes at most, so a ring cell (8-byte sequence + event)
// is one 64-byte cache line (core/spsc_ring.hpp, kCellAlign).
//
// Sinks are chosen at compile time: the book calls `sink.on_top_of_book(e)` and
// `sink.on_level_update(e)` only when the sink type has those members (no virtual call, and
// a sink without them compiles the event construction away). A DepthSink also hears, once per
// message, that the best `kDepthLevels` levels of a side changed.
#include <concepts>
#include <cstdint>
#include <type_traits>

namespace hft::book {

// TopOfBook::flags and LevelUpdate::flags.
enum BookFlags : std::uint8_t {
  kFlagCrossed = 1u << 0,   // best bid > best ask
  kFlagLocked = 1u << 1,    // best bid == best ask
  kFlagStale = 1u << 2,     // the book is known to be incomplete (unknown orders seen, feed gap)
  kFlagDegraded = 1u << 3,  // a pool was exhausted: an order of this stock was dropped
};

// Best bid and offer of one stock, emitted whenever any of the six top values changes.
// Prices are ITCH Price(4) (1/10,000 $); 0 = that side is empty. Shares saturate at 2^32-1
// (the book itself keeps 64-bit totals).
struct TopOfBook {
  std::uint64_t sequence = 0;   // BookSet message count when emitted (1 = first message applied)
  std::uint64_t timestamp = 0;  // ITCH timestamp of the message, ns since midnight
  std::uint64_t rx_tsc = 0;     // TSC of the packet that carried it (BookSet::set_rx_tsc)
  std::uint32_t bid_price = 0;
  std::uint32_t bid_shares = 0;
  std::uint32_t bid_orders = 0;
  std::uint32_t ask_price = 0;
  std::uint32_t ask_shares = 0;
  std::uint32_t ask_orders = 0;
  std::uint16_t locate = 0;
  std::uint8_t flags = 0;       // BookFlags
  char trading_state = ' ';     // last ITCH 'H' state: 'T' trading, 'H' halted, 'P' paused, 'Q' quote only
  std::uint8_t reserved[4] = {};
};
static_assert(std::is_trivially_copyable_v<TopOfBook>);
static_assert(sizeof(TopOfBook) == 56, "TopOfBook + ring sequence must fill exactly one 64-byte cache line");

// One price level after a change (shares 0 and orders 0: the level is gone). Emitted only when
// the [book] table sets level_events = true and the sink has on_level_update.
struct LevelUpdate {
  std::uint64_t sequence = 0;
  std::uint64_t timestamp = 0;
  std::uint64_t rx_tsc = 0;
  std::uint64_t shares = 0;
  std::uint32_t price = 0;
  std::uint32_t orders = 0;
  std::uint16_t locate = 0;
  std::uint8_t side = 0;        // 0 bid, 1 ask
  std::uint8_t flags = 0;       // BookFlags
  std::uint8_t reserved[4] = {};
};
static_assert(std::is_trivially_copyable_v<LevelUpdate>);
static_assert(sizeof(LevelUpdate) <= 56, "LevelUpdate must fit a one-cache-line ring cell");

// A sink that watches the best Sink::kDepthLevels levels of each side: the book calls
// `sink.on_depth_change(locate)` after a message that changed them (the shares or order count of
// one of those levels, or a level entering or leaving them). The book knows where the
// touched level sits in its sorted array, so the test costs one compare and no copy; a replace
// that puts back the same shares at the same price changes nothing and is not reported.
template <class Sink>
concept DepthSink = requires(Sink& s, std::uint16_t locate) {
  { Sink::kDepthLevels } -> std::convertible_to<std::uint32_t>;
  s.on_depth_change(locate);
};

// A sink that takes nothing: book building alone.
struct NullSink {};

// Pushes top-of-book events into an SPSC ring (core::SpscRing<TopOfBook>); a full ring is a
// counted drop, never a wait (the book stage must not stall on a slow strategy).
template <class Ring>
struct RingSink {
  Ring* ring = nullptr;
  std::uint64_t pushed = 0;
  std::uint64_t dropped = 0;
  void on_top_of_book(const TopOfBook& e) noexcept {
    if (ring->try_push(e)) {
      ++pushed;
    } else {
      ++dropped;
    }
  }
};

}  // namespace hft::book
