#pragma once
// Full-depth, order-by-order books for every ITCH stock locate, in pools allocated once.
//
// Layout (why each piece is shaped as it is). Each step was measured against the one before with
// bench/pipeline/book_bench.cpp; the figures are in docs/benchmarks.md, "History of attempts".
//  * Orders live in the order-reference hash table itself: open addressing with linear probing
//    in Robin Hood order over 32-byte order records, sized to a power of two >= 2x the [book]
//    orders (load <= 0.5), backward-shift deletion (no tombstones, so a day of adds and deletes
//    never degrades the table), and a hard probe limit (kMaxProbe) so no input can make a lookup
//    long. Robin Hood order lets a delete stop at the first entry that sits in its home slot;
//    plain linear probing must scan to the end of the cluster, and sequential references make
//    the recent orders of a stream one long cluster. A lookup is one cache line:
//    the first version kept a separate order pool behind 16-byte {reference, index} slots, and
//    that second line was the largest single cost in the profile.
//    NASDAQ assigns order references in a few interleaved increasing sequences (the 2019-12-30
//    sample: four streams stepping by 4), and most references a message names were added
//    moments ago. The home slot is therefore built from the reference's own low bits (rotated so
//    a stream stepping by 4 fills consecutive slots) folded with its high bits: recent orders sit
//    in a few adjacent cache lines instead of being scattered over a table of hundreds of MB,
//    which a multiplicative hash would do (a DRAM miss per message).
//  * Price levels: per stock and side, one contiguous array of 16-byte {shares, price key,
//    orders} levels sorted with the best price last (CppTrader's layout). An order finds its
//    level by searching from the best end, 8 levels at a time over the 32 nearest the touch
//    (most adds, cancels and executions land there), by binary search beyond. The search and
//    the update touch the same cache line, and the levels near the touch of a stock share a few
//    lines. The first version kept levels in a pool addressed by an index held in each order (no
//    search on a cancel); alone, the change measured even (the search costs what the scattered
//    level records did), but with no index left in the orders they could move into the order
//    table (above). Each window of 8 is counted without a data-dependent branch (one AVX-512
//    compare when the build has it): an early-exit scan mispredicted its exit on most messages
//    (the top test went branch-free in that step). Inserting or removing near the best moves only
//    the few levels behind it. Arrays come from a slab in power-of-two capacities with free
//    lists, so a stock with thousands of levels and one with two share the memory without a
//    per-stock cap. A tick-indexed array (hftbacktest) would make a level O(1) but needs a price
//    window per stock and a scan over empty ticks for depth; ITCH prices run from $0.0001 to
//    $200,000, so the window would be huge or need a second path.
//  * Top-of-book changes are detected without touching the level arrays: a message can change
//    the top only if it touches a price at or better than the last published best, and only
//    then is the top recomputed and compared with the last published one. Changes of the best
//    N levels (a DepthSink, book/events.hpp) come from the touched level's place in its sorted
//    array, known already: no copy of the depth and no compare against a published one.
//
// Every hot-path operation is noexcept, allocates nothing and takes no lock. Bad input is
// counted in BookStats and skipped: unknown references (a file that starts mid-day), executions
// and cancels larger than the order (clamped), duplicate references, invalid locates, sides and
// zero quantities. Exhausted pools mark the book degraded and drop the order that did not fit.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/compiler.hpp"
#include "gateways/common/endian.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/book/config.hpp"
#include "pipeline/book/events.hpp"

namespace hft::core {
class Arena;
}

namespace hft::book {

inline constexpr std::uint32_t kNil = 0xFFFF'FFFFu;

// A write prefetch that the compiler keeps. GCC 12 treats __builtin_prefetch as free of side
// effects, infers that a function made only of prefetches is `const`, and deletes every call to
// it: the first prefetching loop compiled to no prefetch instruction at all. An asm volatile
// statement is a side effect, so the hint survives.
HFT_ALWAYS_INLINE void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
  asm volatile("" : : "r"(p));
#endif
}

// Buy/Sell Indicator byte -> 0 bid, 1 ask, 2 invalid: one table load and one never-taken branch
// where comparisons against 'B' and 'S' would mispredict on every change of side.
inline constexpr std::array<std::uint8_t, 256> kSideCode = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(2);
  t['B'] = 0;
  t['S'] = 1;
  return t;
}();

enum class Side : std::uint8_t { kBid = 0, kAsk = 1 };

// One resting order (and one slot of the order table). `priority` is the book's add counter:
// within a price level, lower means earlier in time priority. A replace ('U') gives the new
// order a new priority (ITCH 5.0 spec, 1.6.3: the replacement loses its place in the queue).
struct Order {
  std::uint64_t ref = 0;
  std::uint64_t priority = 0;
  std::uint32_t price = 0;   // ITCH Price(4)
  std::uint32_t shares = 0;  // displayed shares still resting
  std::uint16_t locate = 0;
  std::uint8_t side = 0;     // 0 bid, 1 ask
  std::uint8_t live = 0;     // 0: the table slot is empty
  std::uint32_t reserved = 0;
};
static_assert(sizeof(Order) == 32, "two orders per cache line");

// One price level: total displayed shares and order count at a price.
struct Level {
  std::uint64_t shares = 0;
  std::uint32_t price = 0;
  std::uint32_t orders = 0;  // next free level while on the free list
  friend bool operator==(const Level&, const Level&) = default;
};
static_assert(sizeof(Level) == 16);

// The best N levels of both sides of one stock, best first (the strategy SDK's view of a book).
template <std::size_t N>
struct BookDepth {
  std::array<Level, N> bids{};
  std::array<Level, N> asks{};
  std::uint32_t bid_levels = 0;  // filled entries of bids
  std::uint32_t ask_levels = 0;
};

struct LastTrade {
  std::uint64_t match = 0;
  std::uint64_t timestamp = 0;
  std::uint64_t shares = 0;
  std::uint32_t price = 0;
  char kind = 0;  // 'E', 'C', 'P' or 'Q'; 0 = none yet
};

// Directory ('R'), trading state ('H') and trade data of one locate.
struct StockInfo {
  itch::Symbol symbol;
  std::uint32_t round_lot = 0;
  char market_category = ' ';
  char trading_state = ' ';
  bool in_directory = false;  // an 'R' was seen (else the symbol, if any, came from an add)
  std::uint8_t flags = 0;     // BookFlags
  LastTrade last_trade;
  std::uint64_t volume = 0;   // executed and printed shares (E, printable C, P, Q)
  std::uint64_t broken_trades = 0;
};

struct BookStats {
  std::uint64_t messages = 0;  // messages applied (every call of a BookSet operation)
  std::uint64_t adds = 0, executions = 0, cancels = 0, deletes = 0, replaces = 0;
  std::uint64_t trades = 0, cross_trades = 0, broken_trades = 0;
  std::uint64_t directory = 0, trading_actions = 0, system_events = 0;
  // skipped input
  std::uint64_t unknown_order = 0;       // E/C/X/D/U naming a reference that is not resting
  std::uint64_t over_execution = 0;      // E/C/X larger than the order: clamped to what rests
  std::uint64_t duplicate_order = 0;     // add or replace with a reference already resting
  std::uint64_t bad_locate = 0;          // locate 0 or above max_locate
  std::uint64_t locate_mismatch = 0;     // message locate differs from the order's
  std::uint64_t bad_side = 0;            // buy/sell indicator neither 'B' nor 'S'
  std::uint64_t bad_quantity = 0;        // add or replace with 0 shares or price 0
  // capacity (each one marks the book degraded)
  std::uint64_t order_pool_exhausted = 0;
  std::uint64_t order_table_full = 0;    // no free slot within kMaxProbe of the home slot
  std::uint64_t level_pool_exhausted = 0;   // live levels would exceed [book] levels
  std::uint64_t level_index_exhausted = 0;  // the level slab has no block of the size needed
  // book state
  std::uint64_t crossed = 0;             // transitions of a stock into a crossed book
  std::uint64_t locked = 0;              // transitions into a locked book
  std::uint64_t top_events = 0;          // TopOfBook events emitted
  std::uint64_t level_events = 0;        // LevelUpdate events emitted

  [[nodiscard]] std::uint64_t capacity_drops() const noexcept {
    return order_pool_exhausted + order_table_full + level_pool_exhausted + level_index_exhausted;
  }
};

class BookSet {
 public:
  static constexpr std::uint32_t kMaxProbe = 128;     // order table probe limit
  static constexpr std::uint32_t kLinearScan = 8;     // level search: 8 levels at once...
  static constexpr std::uint32_t kScanWindows = 4;    // ...for the 32 levels nearest the touch
  static constexpr std::uint32_t kMinBlock = 4;       // smallest level array: one cache line

  // Allocates every pool now: from `arena` when given (throws std::runtime_error when it is too
  // small: BookSet::memory_bytes says how much is needed), else from an arena of its own (2 MiB
  // pages when the host has them: the order table and pool are hundreds of MB and touched at
  // random, so 4 KiB pages would add a TLB miss to most messages). Pre-faults all of it.
  explicit BookSet(const BookConfig& config, core::Arena* arena = nullptr);
  ~BookSet();
  BookSet(const BookSet&) = delete;
  BookSet& operator=(const BookSet&) = delete;

  [[nodiscard]] static std::size_t memory_bytes(const BookConfig& config) noexcept;

  // ---- hot path: one call per ITCH message (ItchBookHandler makes them from wire bytes) -------
  template <class Sink>
  void add_order(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, char side, std::uint32_t shares,
                 std::uint32_t price, Sink& sink, itch::Symbol symbol = {}) noexcept;
  template <class Sink>
  void execute(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares, std::uint64_t match,
               Sink& sink) noexcept;
  template <class Sink>
  void execute_with_price(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares,
                          std::uint64_t match, char printable, std::uint32_t price, Sink& sink) noexcept;
  template <class Sink>
  void cancel(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares, Sink& sink) noexcept;
  template <class Sink>
  void remove(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, Sink& sink) noexcept;
  template <class Sink>
  void replace(std::uint64_t ts, std::uint16_t locate, std::uint64_t old_ref, std::uint64_t new_ref,
               std::uint32_t shares, std::uint32_t price, Sink& sink) noexcept;
  void trade(std::uint64_t ts, std::uint16_t locate, std::uint64_t shares, std::uint32_t price, std::uint64_t match,
             char kind) noexcept;
  void broken_trade(std::uint64_t ts, std::uint16_t locate, std::uint64_t match) noexcept;
  void stock_directory(std::uint64_t ts, const itch::StockDirectory& m) noexcept;
  // The same from fields already decoded (the appliance's parse stage hands these on).
  void stock_directory(std::uint64_t ts, std::uint16_t locate, itch::Symbol symbol, std::uint32_t round_lot,
                       char market_category) noexcept;
  template <class Sink>
  void trading_action(std::uint64_t ts, std::uint16_t locate, char state, Sink& sink) noexcept;
  void system_event(std::uint64_t ts, char code) noexcept;

  // Cache hint for a message a few positions ahead (build_blocks calls it): fetches the
  // order-table slot of its reference(s), which holds the order itself, its stock, and for an
  // add the best end of its side's level array. It reads only inside the message's `len` bytes
  // and changes nothing.
  void prefetch_order(const std::uint8_t* msg, std::size_t len) const noexcept;

  // TSC of the packet being applied, copied into every event (0 unless the caller sets it).
  void set_rx_tsc(std::uint64_t tsc) noexcept { rx_tsc_ = tsc; }
  // A feed gap makes every book incomplete until it is repaired or rebuilt: flags them stale
  // (published with the next change of each book).
  void mark_all_stale() noexcept;
  // A new feed session (a new day, a restarted venue): every order, level, stock and directory
  // entry of the old one is forgotten, and every book is stale until the new session rebuilds it.
  // Touches every table (milliseconds for a full-size book): once per session change, never per
  // message. Statistics are kept.
  void reset() noexcept;

  // ---- queries (no allocation) ---------------------------------------------------------------
  [[nodiscard]] bool valid_locate(std::uint16_t locate) const noexcept {
    return locate != 0 && locate <= config_.max_locate;
  }
  // Best level of a side (all zero when the side is empty or the locate invalid).
  [[nodiscard]] Level best(std::uint16_t locate, Side side) const noexcept;
  // The current top of book in event form (sequence and timestamp of the last message applied).
  [[nodiscard]] TopOfBook top(std::uint16_t locate) const noexcept;
  // Copies up to out.size() levels of one side, best first; returns how many.
  std::size_t depth(std::uint16_t locate, Side side, std::span<Level> out) const noexcept;
  // The best N levels of both sides, by value.
  template <std::size_t N>
  [[nodiscard]] BookDepth<N> depth(std::uint16_t locate) const noexcept {
    BookDepth<N> d;
    d.bid_levels = static_cast<std::uint32_t>(depth(locate, Side::kBid, d.bids));
    d.ask_levels = static_cast<std::uint32_t>(depth(locate, Side::kAsk, d.asks));
    return d;
  }
  [[nodiscard]] std::uint32_t level_count(std::uint16_t locate, Side side) const noexcept;
  // The resting order with this reference, or nullptr. The pointer is valid until the next
  // message is applied (deletes move table entries).
  [[nodiscard]] const Order* find_order(std::uint64_t ref) const noexcept;
  // The order-table slot a reference hashes to (tests build colliding references with it).
  [[nodiscard]] std::uint32_t home_slot(std::uint64_t ref) const noexcept { return home(ref); }
  [[nodiscard]] StockInfo info(std::uint16_t locate) const noexcept;

  [[nodiscard]] const BookStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const BookConfig& config() const noexcept { return config_; }
  [[nodiscard]] bool degraded() const noexcept { return stats_.capacity_drops() != 0; }
  [[nodiscard]] std::uint32_t live_orders() const noexcept { return live_orders_; }
  [[nodiscard]] std::uint32_t live_levels() const noexcept { return live_levels_; }
  [[nodiscard]] char last_system_event() const noexcept { return system_event_; }
  [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }

  // Cold: walks every structure and checks that they agree (order table <-> pool <-> levels <->
  // level index, sums, sort order, free lists). Returns an empty string or what is wrong.
  [[nodiscard]] std::string check_invariants() const;

 private:
  // E, C and X: takes `shares` off an order; `counted` is the statistic the message counts in.
  template <class Sink>
  void take_shares(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares,
                   std::uint64_t& counted, std::uint64_t match, char kind, std::uint32_t price, Sink& sink) noexcept;
  // One price level inside a side's array. key = price for bids, ~price for asks, so both sides
  // sort ascending with the best price last.
  struct Entry {
    std::uint64_t shares;
    std::uint32_t key;
    std::uint32_t orders;  // slab free-list link while the block is free
  };
  static_assert(sizeof(Entry) == 16, "four levels per cache line");
  struct SideIndex {
    std::uint32_t block = kNil;  // offset of the level array in the slab, in entries
    std::uint32_t size = 0;
    std::uint32_t capacity = 0;
  };
  // The first cache line is what every message touches; the second is directory and trades.
  struct alignas(64) Stock {
    SideIndex side[2];
    // last published top
    std::uint64_t top_bid_shares = 0;
    std::uint64_t top_ask_shares = 0;
    std::uint32_t top_bid_price = 0;
    std::uint32_t top_ask_price = 0;
    std::uint32_t top_bid_orders = 0;
    std::uint32_t top_ask_orders = 0;
    std::uint8_t flags = 0;           // current BookFlags
    std::uint8_t top_flags = 0;       // published BookFlags
    char trading_state = ' ';
    char top_trading_state = ' ';
    bool has_symbol = false;  // checked by every add: kept on the first line
    // second line
    alignas(64) itch::Symbol symbol;
    std::uint32_t round_lot = 0;
    char market_category = ' ';
    bool in_directory = false;
    LastTrade last_trade;
    std::uint64_t volume = 0;
    std::uint64_t broken_trades = 0;
  };
  static_assert(sizeof(Stock) == 128, "a stock is two cache lines");
  struct Found {
    std::uint32_t pos;
    bool found;
  };

  static std::uint32_t key_of(std::uint8_t side, std::uint32_t price) noexcept { return side == 0 ? price : ~price; }
  static Level level_of(std::uint8_t side, const Entry& e) noexcept {
    return Level{e.shares, key_of(side, e.key), e.orders};
  }
  static Found find_key(const Entry* e, std::uint32_t n, std::uint32_t key) noexcept;

  // The low table bits of the reference rotated right by [book] ref_stride_log2 (2 by default),
  // folded with its high bits. NASDAQ steps each reference stream by 4, so the rotation puts a
  // stream's consecutive references in consecutive slots (two to a cache line) instead of one
  // per two lines; a feed with one sequence stepping by 1 wants no rotation (0), else its
  // consecutive references land in four regions of the table. A rotation is a bijection on the
  // low bits, so references that differ only there never share a home.
  [[nodiscard]] std::uint32_t home(std::uint64_t ref) const noexcept {
    const std::uint64_t low = ref & table_mask_;
    const std::uint64_t rotated = (low >> rotate_bits_) | ((low & rotate_mask_) << rotate_shift_);
    return static_cast<std::uint32_t>((rotated ^ (ref >> table_bits_)) & table_mask_);
  }
  // How far the entry in slot i sits from its home slot.
  [[nodiscard]] std::uint32_t distance(std::uint32_t i) const noexcept { return (i - home(table_[i].ref)) & table_mask_; }
  [[nodiscard]] std::uint32_t find_slot(std::uint64_t ref) const noexcept;
  void erase_slot(std::uint32_t pos) noexcept;
  static constexpr std::uint32_t kDuplicate = kNil - 1;
  // The slot a new reference belongs in (Robin Hood order), kDuplicate if it rests already, kNil
  // if none is within kMaxProbe of its home. Reads only.
  [[nodiscard]] std::uint32_t table_probe(std::uint64_t ref) const noexcept;
  // Puts `o` at `pos` (from table_probe), moving the rest of its run one slot on; false, with
  // nothing changed, if that would push an entry kMaxProbe or more from its home.
  bool table_place(std::uint32_t pos, const Order& o) noexcept;

  bool slab_alloc(std::uint32_t capacity, std::uint32_t& block) noexcept;
  void slab_free(std::uint32_t block, std::uint32_t capacity) noexcept;
  // The level of `price` on one side, created (empty) if needed; nullptr when no room (counted).
  // The pointer is valid until the side's array next changes shape.
  Entry* find_or_add_level(Stock& st, std::uint8_t side, std::uint32_t price) noexcept;
  void remove_level(Stock& st, std::uint8_t side, std::uint32_t pos) noexcept;

  void begin(std::uint64_t ts) noexcept {
    ++seq_;
    ++stats_.messages;
    ts_ = ts;
  }
  // Could an operation at `price` on `side` change the published top?
  // Branch-free: which side a message touches is random, so a branch here mispredicts often.
  // An empty ask side (price 0) wraps to the largest value: every ask touches it. Prices are >= 1.
  [[nodiscard]] static bool touches_top(const Stock& st, std::uint8_t side, std::uint32_t price) noexcept {
    const unsigned bid = price >= st.top_bid_price ? 1u : 0u;
    const unsigned ask = st.top_ask_price - 1u >= price - 1u ? 1u : 0u;
    return ((bid & (side ^ 1u)) | (ask & side)) != 0;
  }
  void mark_degraded(Stock& st) noexcept {
    st.flags |= kFlagDegraded;
    dirty_ = kDirtyBoth;
  }
  void mark_stale(std::uint16_t locate) noexcept {
    if (valid_locate(locate)) {
      stocks_[locate].flags |= kFlagStale;
      dirty_ = kDirtyBoth;
    }
  }
  template <class Sink>
  void level_event(const Stock& st, std::uint16_t locate, std::uint8_t side, std::uint32_t price, std::uint64_t shares,
                   std::uint32_t orders, Sink& sink) noexcept;
  template <class Sink>
  bool insert_order(Stock& st, std::uint16_t locate, std::uint64_t ref, std::uint8_t side, std::uint32_t shares,
                    std::uint32_t price, Sink& sink) noexcept;
  // Removes `n` (<= resting) shares of the order in table slot `pos`; frees it at zero (which
  // may move other orders in the table).
  template <class Sink>
  void reduce(Stock& st, std::uint32_t pos, std::uint32_t n, Sink& sink) noexcept;
  // Resolves a reference for E/C/X/D/U: the table slot, or kNil (counted) when unknown/mismatched.
  std::uint32_t resolve(std::uint16_t locate, std::uint64_t ref) noexcept;
  template <class Sink>
  void finish(Stock& st, std::uint16_t locate, Sink& sink) noexcept;
  // Recomputes the top of the `sides` that may have changed; true if it differs from the published top.
  bool refresh_top(Stock& st, std::uint8_t sides) noexcept;
  TopOfBook make_top(const Stock& st, std::uint16_t locate) const noexcept;

  void* allocate(std::size_t bytes);

  BookConfig config_;
  std::unique_ptr<core::Arena> own_arena_;
  core::Arena* arena_ = nullptr;

  Order* table_ = nullptr;
  Entry* slab_ = nullptr;
  // Slab offset of the best level of each (locate, side), kNil when empty: a copy of what the
  // Stock records, 8 bytes per locate so it stays in cache, for prefetch_order to fetch an add's
  // level array without waiting for the stock's own line (a gain with many stocks).
  std::uint32_t* best_hint_ = nullptr;
  Stock* stocks_ = nullptr;
  std::uint32_t table_mask_ = 0;
  std::uint32_t table_bits_ = 0;
  std::uint32_t rotate_bits_ = 2;   // [book] ref_stride_log2
  std::uint32_t rotate_shift_ = 0;  // table_bits_ - rotate_bits_
  std::uint64_t rotate_mask_ = 3;   // (1 << rotate_bits_) - 1
  std::uint32_t slab_entries_ = 0;
  std::uint32_t slab_used_ = 0;
  std::array<std::uint32_t, 32> slab_free_{};
  std::uint32_t live_orders_ = 0;
  std::uint32_t live_levels_ = 0;

  std::uint64_t seq_ = 0;
  std::uint64_t ts_ = 0;
  std::uint64_t rx_tsc_ = 0;
  std::uint64_t priority_ = 0;
  // Sides of the current message's stock whose top may have changed (bit 0 bid, bit 1 ask). Every
  // book change of one message is on one side ('U' keeps the side), so the other side's
  // published top is still exact and need not be read again.
  static constexpr std::uint8_t kDirtyBoth = 3;
  std::uint8_t dirty_ = 0;
  // A DepthSink's levels changed during the current message (reported and cleared by finish).
  bool depth_changed_ = false;
  char system_event_ = ' ';
  BookStats stats_;
};

// ================================ implementation (hot path) ====================================

// How many of the 8 levels at e[0..8) have a key above `key`. With AVX-512 two loads cover the 8
// entries (the key is 32-bit lane 2 of each 16-byte entry) and one masked compare counts them;
// otherwise eight scalar compares, which cost as much as the rest of an add.
HFT_ALWAYS_INLINE std::uint32_t count_above_last8(const void* e, std::uint32_t key) noexcept {
#if defined(__AVX512F__)
  const __m512i k = _mm512_set1_epi32(static_cast<int>(key));
  const __m512i lo = _mm512_loadu_si512(e);
  const __m512i hi = _mm512_loadu_si512(static_cast<const char*>(e) + 64);
  const __mmask16 a = _mm512_mask_cmpgt_epu32_mask(0x4444, lo, k);
  const __mmask16 b = _mm512_mask_cmpgt_epu32_mask(0x4444, hi, k);
  return static_cast<std::uint32_t>(__builtin_popcount(static_cast<unsigned>(a) | (static_cast<unsigned>(b) << 16)));
#else
  std::uint32_t above = 0;
  for (int j = 0; j < 8; ++j) {
    std::uint32_t v;
    std::memcpy(&v, static_cast<const char*>(e) + 16 * j + 8, sizeof v);
    above += v > key ? 1u : 0u;
  }
  return above;
#endif
}

// Searches from the best end in windows of kLinearScan levels, each counted without a
// data-dependent branch (an early-exit scan mispredicted its exit on most messages), for up to
// kScanWindows windows: these lines are next to each other and near the touch, so they are warm
// or fetched together. Past them, a branch-free binary search over the rest: its loads depend on
// one another, so on a cold array each step is a cache miss, and profiling showed it costing
// more than everything else an add does when it ran after a single window.
inline BookSet::Found BookSet::find_key(const Entry* e, std::uint32_t n, std::uint32_t key) noexcept {
  std::uint32_t end = n;  // every entry from `end` on is above the key
  for (std::uint32_t w = 0; w < kScanWindows && end >= kLinearScan; ++w) {
    const std::uint32_t above = count_above_last8(e + end - kLinearScan, key);
    if (above < kLinearScan) {
      const std::uint32_t pos = end - above;  // first level above the key
      if (pos != 0 && e[pos - 1].key == key) return {pos - 1, true};
      return {pos, false};
    }
    end -= kLinearScan;
  }
  if (end < kLinearScan) {  // the few left at the far end
    std::uint32_t above = 0;
    for (std::uint32_t j = 1; j <= end; ++j) above += e[end - j].key > key ? 1u : 0u;
    const std::uint32_t pos = end - above;
    if (pos != 0 && e[pos - 1].key == key) return {pos - 1, true};
    return {pos, false};
  }
  std::uint32_t lo = 0;
  std::uint32_t len = end;
  while (len > 1) {
    const std::uint32_t half = len / 2;
    lo += half & (0u - static_cast<std::uint32_t>(e[lo + half - 1].key < key));
    len -= half;
  }
  lo += e[lo].key < key ? 1u : 0u;  // end >= 1 here
  return {lo, lo < end && e[lo].key == key};
}

// Robin Hood order: along a run, entries sit in the order of their home slots, so a search can
// stop at the first entry closer to its home than the searched reference would be.
inline std::uint32_t BookSet::find_slot(std::uint64_t ref) const noexcept {
  std::uint32_t i = home(ref);
  for (std::uint32_t d = 0; d < kMaxProbe; ++d, i = (i + 1) & table_mask_) {
    const Order& s = table_[i];
    if (s.live == 0) return kNil;
    if (s.ref == ref) return i;
    if (distance(i) < d) return kNil;
  }
  return kNil;
}

inline std::uint32_t BookSet::table_probe(std::uint64_t ref) const noexcept {
  std::uint32_t i = home(ref);
  for (std::uint32_t d = 0; d < kMaxProbe; ++d, i = (i + 1) & table_mask_) {
    const Order& s = table_[i];
    if (s.live == 0) return i;
    if (s.ref == ref) return kDuplicate;
    if (distance(i) < d) return i;
  }
  return kNil;
}

inline bool BookSet::table_place(std::uint32_t pos, const Order& o) noexcept {
  if (table_[pos].live != 0) {
    // NASDAQ's references arrive in increasing order, so a new one lands past the end of its run
    // and nothing moves; an out-of-order one shifts the rest of its run by one slot.
    std::uint32_t end = pos;
    do {
      if (distance(end) + 1 >= kMaxProbe) return false;
      end = (end + 1) & table_mask_;
    } while (table_[end].live != 0);  // ends: the table is at most half full
    for (std::uint32_t k = end; k != pos;) {
      const std::uint32_t prev = (k - 1) & table_mask_;
      table_[k] = table_[prev];
      k = prev;
    }
  }
  table_[pos] = o;
  return true;
}

// Backward-shift deletion: pull the following entries of the run back by one until one sits in
// its home slot (Robin Hood order: nothing after it can move) or a slot is empty.
inline void BookSet::erase_slot(std::uint32_t hole) noexcept {
  for (;;) {
    const std::uint32_t next = (hole + 1) & table_mask_;
    if (table_[next].live == 0 || distance(next) == 0) break;
    table_[hole] = table_[next];
    hole = next;
  }
  table_[hole].live = 0;
}

inline bool BookSet::slab_alloc(std::uint32_t capacity, std::uint32_t& block) noexcept {
  const auto cls = static_cast<unsigned>(std::countr_zero(capacity));
  if (slab_free_[cls] != kNil) {
    block = slab_free_[cls];
    slab_free_[cls] = slab_[block].orders;
    return true;
  }
  if (capacity > slab_entries_ - slab_used_) return false;
  block = slab_used_;
  slab_used_ += capacity;
  return true;
}

inline void BookSet::slab_free(std::uint32_t block, std::uint32_t capacity) noexcept {
  const auto cls = static_cast<unsigned>(std::countr_zero(capacity));
  slab_[block].orders = slab_free_[cls];
  slab_free_[cls] = block;
}

inline BookSet::Entry* BookSet::find_or_add_level(Stock& st, std::uint8_t side, std::uint32_t price) noexcept {
  SideIndex& si = st.side[side];
  const std::uint32_t key = key_of(side, price);
  std::uint32_t pos = 0;
  if (si.size != 0) {
    const Found f = find_key(slab_ + si.block, si.size, key);
    if (f.found) return slab_ + si.block + f.pos;
    pos = f.pos;
  }
  if (live_levels_ == config_.levels) [[unlikely]] {
    ++stats_.level_pool_exhausted;
    return nullptr;
  }
  if (si.size == si.capacity) {
    const std::uint32_t grown = si.capacity == 0 ? kMinBlock : si.capacity * 2;
    std::uint32_t block = 0;
    if (!slab_alloc(grown, block)) [[unlikely]] {
      ++stats_.level_index_exhausted;
      return nullptr;
    }
    if (si.size != 0) {
      std::memcpy(static_cast<void*>(slab_ + block), slab_ + si.block, std::size_t{si.size} * sizeof(Entry));
      slab_free(si.block, si.capacity);
    }
    si.block = block;
    si.capacity = grown;
  }
  ++live_levels_;
  Entry* e = slab_ + si.block;
  std::memmove(static_cast<void*>(e + pos + 1), e + pos, std::size_t{si.size - pos} * sizeof(Entry));
  e[pos] = Entry{0, key, 0};
  ++si.size;
  best_hint_[static_cast<std::size_t>(&st - stocks_) * 2 + side] = si.block + si.size - 1;
  return e + pos;
}

inline void BookSet::remove_level(Stock& st, std::uint8_t side, std::uint32_t pos) noexcept {
  SideIndex& si = st.side[side];
  Entry* e = slab_ + si.block;
  std::memmove(static_cast<void*>(e + pos), e + pos + 1, std::size_t{si.size - pos - 1} * sizeof(Entry));
  --si.size;
  --live_levels_;
  std::uint32_t& hint = best_hint_[static_cast<std::size_t>(&st - stocks_) * 2 + side];
  hint = si.block + si.size - 1;
  if (si.size == 0) {
    slab_free(si.block, si.capacity);
    si.block = kNil;
    si.capacity = 0;
    hint = kNil;
  }
}

namespace detail {
// The reference an order message names first (the original one for 'U'), or 0 for other types.
inline std::uint64_t order_ref_of(const std::uint8_t* msg, std::size_t len) noexcept {
  const std::uint8_t t = msg[0];
  if (len != itch::kMessageLength[t]) return 0;
  switch (t) {
    case 'E': case 'C': case 'X': case 'D': case 'U': return wire::load_be64(msg + 11);
    default: return 0;
  }
}
}  // namespace detail

// Without a branch on the type: the order-flow types arrive in random order (A 37%, U 22%,
// F 19%, D 17% in NASDAQ's 09:30 mix), so a switch here mispredicted on most messages, and that
// cost more than the few wasted prefetches of the other types (under 2% of messages). Every
// message of 19 bytes or more has 8 bytes at offset 11 (the reference of A/F/E/C/X/D/U), a
// locate at 1 and, when longer than 19, a byte at 19 (A/F: the side).
inline void BookSet::prefetch_order(const std::uint8_t* msg, std::size_t len) const noexcept {
  if (len < 19) return;  // S, W, and malformed blocks
  const std::uint8_t t = msg[0];
  // U: the new reference at 19. Arithmetic, not `?:`: GCC turned the select into a branch that
  // mispredicted on a quarter of all messages (cachegrind --branch-sim).
  const std::size_t second = 11 + 8 * static_cast<std::size_t>((t == 'U') & (len == itch::kMessageLength['U']));
  prefetch_for_write(&table_[home(wire::load_be64(msg + 11))]);
  prefetch_for_write(&table_[home(wire::load_be64(msg + second))]);
  const std::uint32_t locate = std::min<std::uint32_t>(wire::load_be16(msg + 1), config_.max_locate);
  prefetch_for_write(&stocks_[locate]);
  // An add's side picks the level array it will search; for other types this is one side of
  // the stock chosen by whatever byte 19 holds, still the right stock.
  const std::uint8_t side = kSideCode[msg[len > 19 ? 19 : 18]] & 1u;
  const std::uint32_t best = best_hint_[std::size_t{locate} * 2 + side];
  if (best != kNil) {
    prefetch_for_write(&slab_[best]);
    prefetch_for_write(&slab_[best >= 4 ? best - 4 : best]);
  }
}

template <class Sink>
inline void BookSet::level_event(const Stock& st, std::uint16_t locate, std::uint8_t side, std::uint32_t price,
                                 std::uint64_t shares, std::uint32_t orders, Sink& sink) noexcept {
  if constexpr (requires(const LevelUpdate& e) { sink.on_level_update(e); }) {
    if (config_.level_events) {
      LevelUpdate e;
      e.sequence = seq_;
      e.timestamp = ts_;
      e.rx_tsc = rx_tsc_;
      e.shares = shares;
      e.price = price;
      e.orders = orders;
      e.locate = locate;
      e.side = side;
      e.flags = st.flags;
      ++stats_.level_events;
      sink.on_level_update(e);
    }
  } else {
    (void)st, (void)locate, (void)side, (void)price, (void)shares, (void)orders, (void)sink;
  }
}

template <class Sink>
HFT_ALWAYS_INLINE bool BookSet::insert_order(Stock& st, std::uint16_t locate, std::uint64_t ref, std::uint8_t side,
                                             std::uint32_t shares, std::uint32_t price, Sink& sink) noexcept {
  if (live_orders_ == config_.orders) [[unlikely]] {
    ++stats_.order_pool_exhausted;
    mark_degraded(st);
    return false;
  }
  const std::uint32_t pos = table_probe(ref);
  if (pos >= kDuplicate) [[unlikely]] {
    if (pos == kDuplicate) {
      ++stats_.duplicate_order;
    } else {
      ++stats_.order_table_full;
      mark_degraded(st);
    }
    return false;
  }
  Entry* lv = find_or_add_level(st, side, price);
  if (lv == nullptr) [[unlikely]] {
    mark_degraded(st);
    return false;
  }
  Order o;
  o.ref = ref;
  o.priority = priority_ + 1;
  o.price = price;
  o.shares = shares;
  o.locate = locate;
  o.side = side;
  o.live = 1;
  if (!table_place(pos, o)) [[unlikely]] {
    ++stats_.order_table_full;
    mark_degraded(st);
    if (lv->orders == 0) remove_level(st, side, find_key(slab_ + st.side[side].block, st.side[side].size, key_of(side, price)).pos);
    return false;
  }
  ++priority_;
  ++live_orders_;
  lv->shares += shares;
  ++lv->orders;
  dirty_ |= static_cast<std::uint8_t>(touches_top(st, side, price)) << side;
  if constexpr (DepthSink<Sink>) {
    const SideIndex& si = st.side[side];
    const auto rank = si.block + si.size - 1 - static_cast<std::uint32_t>(lv - slab_);  // 0 = best
    depth_changed_ |= rank < Sink::kDepthLevels;
  }
  level_event(st, locate, side, price, lv->shares, lv->orders, sink);
  return true;
}

template <class Sink>
HFT_ALWAYS_INLINE void BookSet::reduce(Stock& st, std::uint32_t pos, std::uint32_t n, Sink& sink) noexcept {
  Order& o = table_[pos];
  SideIndex& si = st.side[o.side];
  const Found f = find_key(slab_ + si.block, si.size, key_of(o.side, o.price));
  // A resting order always has its level (check_invariants); never write through a miss.
  if (!f.found) [[unlikely]] return;
  Entry& lv = slab_[si.block + f.pos];
  dirty_ |= static_cast<std::uint8_t>(touches_top(st, o.side, o.price)) << o.side;
  if constexpr (DepthSink<Sink>) depth_changed_ |= si.size - 1 - f.pos < Sink::kDepthLevels;  // rank, 0 = best
  o.shares -= n;
  lv.shares -= n;
  const std::uint8_t side = o.side;
  const std::uint16_t locate = o.locate;
  const std::uint32_t price = o.price;
  if (o.shares == 0) {
    --lv.orders;
    erase_slot(pos);  // moves other orders: `o` is not this order any more
    --live_orders_;
    if (lv.orders == 0) {
      remove_level(st, side, f.pos);
      level_event(st, locate, side, price, 0, 0, sink);
      return;
    }
  }
  level_event(st, locate, side, price, lv.shares, lv.orders, sink);
}

inline std::uint32_t BookSet::resolve(std::uint16_t locate, std::uint64_t ref) noexcept {
  const std::uint32_t pos = find_slot(ref);
  if (pos == kNil) [[unlikely]] {
    ++stats_.unknown_order;
    mark_stale(locate);
    return kNil;
  }
  if (table_[pos].locate != locate) [[unlikely]] {
    ++stats_.locate_mismatch;
    return kNil;
  }
  return pos;
}

template <class Sink>
inline void BookSet::finish(Stock& st, std::uint16_t locate, Sink& sink) noexcept {
  if (dirty_ != 0) {
    const std::uint8_t sides = dirty_;
    dirty_ = 0;
    if (refresh_top(st, sides)) {
      ++stats_.top_events;
      if constexpr (requires(const TopOfBook& e) { sink.on_top_of_book(e); }) sink.on_top_of_book(make_top(st, locate));
    }
  }
  if constexpr (DepthSink<Sink>) {
    if (depth_changed_) {
      depth_changed_ = false;
      sink.on_depth_change(locate);
    }
  }
  (void)locate, (void)sink;
}

inline bool BookSet::refresh_top(Stock& st, std::uint8_t sides) noexcept {
  Level bid{st.top_bid_shares, st.top_bid_price, st.top_bid_orders};
  Level ask{st.top_ask_shares, st.top_ask_price, st.top_ask_orders};
  if (sides & 1u) bid = st.side[0].size == 0 ? Level{} : level_of(0, slab_[st.side[0].block + st.side[0].size - 1]);
  if (sides & 2u) ask = st.side[1].size == 0 ? Level{} : level_of(1, slab_[st.side[1].block + st.side[1].size - 1]);
  std::uint8_t flags = st.flags & static_cast<std::uint8_t>(~(kFlagCrossed | kFlagLocked));
  if (bid.price != 0 && ask.price != 0) {
    if (bid.price > ask.price) {
      flags |= kFlagCrossed;
    } else if (bid.price == ask.price) {
      flags |= kFlagLocked;
    }
  }
  if (bid.price == st.top_bid_price && bid.shares == st.top_bid_shares && bid.orders == st.top_bid_orders &&
      ask.price == st.top_ask_price && ask.shares == st.top_ask_shares && ask.orders == st.top_ask_orders &&
      flags == st.top_flags && st.trading_state == st.top_trading_state) {
    return false;
  }
  if ((flags & kFlagCrossed) && !(st.flags & kFlagCrossed)) ++stats_.crossed;
  if ((flags & kFlagLocked) && !(st.flags & kFlagLocked)) ++stats_.locked;
  st.flags = flags;
  st.top_flags = flags;
  st.top_bid_price = bid.price;
  st.top_bid_shares = bid.shares;
  st.top_bid_orders = bid.orders;
  st.top_ask_price = ask.price;
  st.top_ask_shares = ask.shares;
  st.top_ask_orders = ask.orders;
  st.top_trading_state = st.trading_state;
  return true;
}

template <class Sink>
inline void BookSet::add_order(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, char side,
                               std::uint32_t shares, std::uint32_t price, Sink& sink, itch::Symbol symbol) noexcept {
  begin(ts);
  ++stats_.adds;
  if (!valid_locate(locate)) [[unlikely]] {
    ++stats_.bad_locate;
    return;
  }
  Stock& st = stocks_[locate];
  if (!st.has_symbol) [[unlikely]] {  // a file that starts mid-day has no 'R': learn it here
    st.symbol = symbol;
    st.has_symbol = true;
  }
  const std::uint8_t s = kSideCode[static_cast<std::uint8_t>(side)];
  if (s > 1) [[unlikely]] {
    ++stats_.bad_side;
    return;
  }
  if (shares == 0 || price == 0) [[unlikely]] {
    ++stats_.bad_quantity;
    return;
  }
  insert_order(st, locate, ref, s, shares, price, sink);
  finish(st, locate, sink);
}

template <class Sink>
inline void BookSet::execute(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares,
                             std::uint64_t match, Sink& sink) noexcept {
  take_shares(ts, locate, ref, shares, stats_.executions, match, 'E', 0, sink);
}

template <class Sink>
inline void BookSet::execute_with_price(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref,
                                        std::uint32_t shares, std::uint64_t match, char printable,
                                        std::uint32_t price, Sink& sink) noexcept {
  // Printable 'N': the shares print later in a cross; not volume, not a last trade (spec 1.6.2).
  take_shares(ts, locate, ref, shares, stats_.executions, match, printable == 'N' ? '\0' : 'C', price, sink);
}

// E (at the resting price) and C (at `price`); kind '\0': no print (a C that prints later in a
// cross, or a cancel).
template <class Sink>
inline void BookSet::take_shares(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares,
                                 std::uint64_t& counted, std::uint64_t match, char kind, std::uint32_t price,
                                 Sink& sink) noexcept {
  begin(ts);
  ++counted;
  const std::uint32_t pos = resolve(locate, ref);
  if (pos == kNil) [[unlikely]] {
    if (valid_locate(locate)) finish(stocks_[locate], locate, sink);
    return;
  }
  const Order& o = table_[pos];
  Stock& st = stocks_[o.locate];
  if (shares > o.shares) [[unlikely]] {
    ++stats_.over_execution;
    shares = o.shares;
  }
  if (kind != '\0') {
    st.last_trade = LastTrade{match, ts, shares, kind == 'E' ? o.price : price, kind};
    st.volume += shares;
  }
  if (shares != 0) reduce(st, pos, shares, sink);
  finish(st, locate, sink);
}

template <class Sink>
inline void BookSet::cancel(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, std::uint32_t shares,
                            Sink& sink) noexcept {
  take_shares(ts, locate, ref, shares, stats_.cancels, 0, '\0', 0, sink);
}

template <class Sink>
inline void BookSet::remove(std::uint64_t ts, std::uint16_t locate, std::uint64_t ref, Sink& sink) noexcept {
  begin(ts);
  ++stats_.deletes;
  const std::uint32_t pos = resolve(locate, ref);
  if (pos == kNil) [[unlikely]] {
    if (valid_locate(locate)) finish(stocks_[locate], locate, sink);
    return;
  }
  const Order& o = table_[pos];
  Stock& st = stocks_[o.locate];
  reduce(st, pos, o.shares, sink);
  finish(st, locate, sink);
}

template <class Sink>
inline void BookSet::replace(std::uint64_t ts, std::uint16_t locate, std::uint64_t old_ref, std::uint64_t new_ref,
                             std::uint32_t shares, std::uint32_t price, Sink& sink) noexcept {
  begin(ts);
  ++stats_.replaces;
  const std::uint32_t pos = resolve(locate, old_ref);
  if (pos == kNil) [[unlikely]] {
    if (valid_locate(locate)) finish(stocks_[locate], locate, sink);
    return;
  }
  const Order& o = table_[pos];
  const std::uint8_t side = o.side;
  const std::uint32_t old_price = o.price;
  const std::uint32_t old_shares = o.shares;
  Stock& st = stocks_[o.locate];
  reduce(st, pos, o.shares, sink);
  if (shares == 0 || price == 0) [[unlikely]] {
    ++stats_.bad_quantity;
  } else if (insert_order(st, locate, new_ref, side, shares, price, sink)) {
    // The same shares back at the same price: every level is as it was (only time priority moved).
    if constexpr (DepthSink<Sink>) {
      if (price == old_price && shares == old_shares) depth_changed_ = false;
    }
  }
  (void)old_price, (void)old_shares;
  finish(st, locate, sink);
}

template <class Sink>
inline void BookSet::trading_action(std::uint64_t ts, std::uint16_t locate, char state, Sink& sink) noexcept {
  begin(ts);
  ++stats_.trading_actions;
  if (!valid_locate(locate)) [[unlikely]] {
    ++stats_.bad_locate;
    return;
  }
  Stock& st = stocks_[locate];
  st.trading_state = state;
  dirty_ = kDirtyBoth;
  finish(st, locate, sink);
}

}  // namespace hft::book
