#include "pipeline/book/book_set.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "core/arena.hpp"

namespace hft::book {
namespace {

constexpr std::size_t kAlign = 64;

std::size_t round_up(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

struct Sizes {
  std::uint32_t table_slots;
  std::uint32_t slab_entries;
};

Sizes sizes_of(const BookConfig& c) noexcept {
  // Load factor <= 0.5 keeps linear-probing clusters short (Knuth: ~1.5 probes per hit).
  const std::uint32_t table = std::bit_ceil(std::max<std::uint32_t>(16, c.orders) * 2u);
  // Each side's array holds at most twice its peak level count (doubling), plus a minimum block
  // for every side in use; freed blocks are reused through per-size free lists.
  const std::uint64_t slab = std::uint64_t{c.levels} * 4 + std::uint64_t{c.max_locate + 1} * 2 * BookSet::kMinBlock;
  return {table, static_cast<std::uint32_t>(std::min<std::uint64_t>(slab, 0xFFFF'FFF0u))};
}

}  // namespace

std::size_t BookSet::memory_bytes(const BookConfig& c) noexcept {
  const Sizes s = sizes_of(c);
  return round_up(std::size_t{s.table_slots} * sizeof(Order)) + round_up(std::size_t{s.slab_entries} * sizeof(Entry)) +
         round_up(std::size_t{c.max_locate + 1} * sizeof(Stock)) +
         round_up(std::size_t{c.max_locate + 1} * 2 * sizeof(std::uint32_t)) + 4 * kAlign;
}

void* BookSet::allocate(std::size_t bytes) {
  void* p = arena_->allocate(round_up(bytes), kAlign);
  if (p == nullptr) {
    throw std::runtime_error(fmt::format("book: the memory arena has {} bytes left, the [book] pools need {} in all",
                                         arena_->capacity() - arena_->used(), memory_bytes(config_)));
  }
  return p;
}

BookSet::BookSet(const BookConfig& config, core::Arena* arena) : config_(config), arena_(arena) {
  if (config_.orders == 0 || config_.orders > kMaxOrders) throw std::invalid_argument("book: orders out of range");
  if (config_.levels == 0 || config_.levels > kMaxLevels) throw std::invalid_argument("book: levels out of range");
  if (config_.max_locate == 0 || config_.max_locate > 65535) throw std::invalid_argument("book: max_locate out of range");
  if (config_.ref_stride_log2 > kMaxRefStrideLog2) throw std::invalid_argument("book: ref_stride_log2 out of range");
  if (arena_ == nullptr) {
    core::ArenaOptions options;
    options.bytes = memory_bytes(config_);
    // 2 MiB pages pay off for the large tables; a small book (tests, fuzzing) takes base pages.
    options.mode = options.bytes >= (16u << 20) ? core::PageMode::kAuto : core::PageMode::kNormal;
    options.prefault = true;
    options.lock = false;  // the caller's arena decides about mlock; a private one must not fail on RLIMIT_MEMLOCK
    own_arena_ = std::make_unique<core::Arena>(options);
    arena_ = own_arena_.get();
  }
  const Sizes s = sizes_of(config_);
  table_ = static_cast<Order*>(allocate(std::size_t{s.table_slots} * sizeof(Order)));
  slab_ = static_cast<Entry*>(allocate(std::size_t{s.slab_entries} * sizeof(Entry)));
  stocks_ = static_cast<Stock*>(allocate(std::size_t{config_.max_locate + 1} * sizeof(Stock)));
  best_hint_ = static_cast<std::uint32_t*>(allocate(std::size_t{config_.max_locate + 1} * 2 * sizeof(std::uint32_t)));
  for (std::size_t i = 0; i < std::size_t{config_.max_locate + 1} * 2; ++i) best_hint_[i] = kNil;
  table_mask_ = s.table_slots - 1;
  table_bits_ = static_cast<std::uint32_t>(std::countr_zero(s.table_slots));
  rotate_bits_ = std::min(config_.ref_stride_log2, table_bits_);
  rotate_shift_ = table_bits_ - rotate_bits_;
  rotate_mask_ = (std::uint64_t{1} << rotate_bits_) - 1;
  slab_entries_ = s.slab_entries;

  // Writing every byte now pre-faults the pages, so the hot path never takes a page fault.
  for (std::uint32_t i = 0; i < s.table_slots; ++i) table_[i] = Order{};
  std::memset(static_cast<void*>(slab_), 0, std::size_t{s.slab_entries} * sizeof(Entry));
  slab_free_.fill(kNil);
  for (std::uint32_t i = 0; i <= config_.max_locate; ++i) ::new (static_cast<void*>(stocks_ + i)) Stock();
}

BookSet::~BookSet() = default;

void BookSet::trade(std::uint64_t ts, std::uint16_t locate, std::uint64_t shares, std::uint32_t price,
                    std::uint64_t match, char kind) noexcept {
  begin(ts);
  if (kind == 'Q') {
    ++stats_.cross_trades;
  } else {
    ++stats_.trades;
  }
  if (!valid_locate(locate)) {
    ++stats_.bad_locate;
    return;
  }
  Stock& st = stocks_[locate];
  st.last_trade = LastTrade{match, ts, shares, price, kind};
  st.volume += shares;
}

void BookSet::broken_trade(std::uint64_t ts, std::uint16_t locate, std::uint64_t /*match*/) noexcept {
  begin(ts);
  ++stats_.broken_trades;
  if (!valid_locate(locate)) {
    ++stats_.bad_locate;
    return;
  }
  ++stocks_[locate].broken_trades;
}

void BookSet::stock_directory(std::uint64_t ts, const itch::StockDirectory& m) noexcept {
  stock_directory(ts, m.stock_locate(), m.stock(), m.round_lot_size(), m.market_category());
}

void BookSet::stock_directory(std::uint64_t ts, std::uint16_t locate, itch::Symbol symbol, std::uint32_t round_lot,
                              char market_category) noexcept {
  begin(ts);
  ++stats_.directory;
  if (!valid_locate(locate)) {
    ++stats_.bad_locate;
    return;
  }
  Stock& st = stocks_[locate];
  st.symbol = symbol;
  st.has_symbol = true;
  st.in_directory = true;
  st.round_lot = round_lot;
  st.market_category = market_category;
}

void BookSet::system_event(std::uint64_t ts, char code) noexcept {
  begin(ts);
  ++stats_.system_events;
  system_event_ = code;
}

void BookSet::mark_all_stale() noexcept {
  for (std::uint32_t i = 1; i <= config_.max_locate; ++i) stocks_[i].flags |= kFlagStale;
}

void BookSet::reset() noexcept {
  const Sizes s = sizes_of(config_);
  for (std::uint32_t i = 0; i < s.table_slots; ++i) table_[i] = Order{};
  std::memset(static_cast<void*>(slab_), 0, std::size_t{s.slab_entries} * sizeof(Entry));
  slab_free_.fill(kNil);
  slab_used_ = 0;
  for (std::size_t i = 0; i < std::size_t{config_.max_locate + 1} * 2; ++i) best_hint_[i] = kNil;
  for (std::uint32_t i = 0; i <= config_.max_locate; ++i) stocks_[i] = Stock();
  live_orders_ = 0;
  live_levels_ = 0;
  seq_ = 0;
  ts_ = 0;
  dirty_ = 0;
  depth_changed_ = false;
  system_event_ = ' ';
  mark_all_stale();
}

Level BookSet::best(std::uint16_t locate, Side side) const noexcept {
  if (!valid_locate(locate)) return {};
  const auto s = static_cast<std::uint8_t>(side);
  const SideIndex& si = stocks_[locate].side[s];
  if (si.size == 0) return {};
  return level_of(s, slab_[si.block + si.size - 1]);
}

TopOfBook BookSet::make_top(const Stock& st, std::uint16_t locate) const noexcept {
  auto sat = [](std::uint64_t v) { return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xFFFF'FFFFu)); };
  TopOfBook e;
  e.sequence = seq_;
  e.timestamp = ts_;
  e.rx_tsc = rx_tsc_;
  e.bid_price = st.top_bid_price;
  e.bid_shares = sat(st.top_bid_shares);
  e.bid_orders = st.top_bid_orders;
  e.ask_price = st.top_ask_price;
  e.ask_shares = sat(st.top_ask_shares);
  e.ask_orders = st.top_ask_orders;
  e.locate = locate;
  e.flags = st.top_flags;
  e.trading_state = st.top_trading_state;
  return e;
}

TopOfBook BookSet::top(std::uint16_t locate) const noexcept {
  if (!valid_locate(locate)) return {};
  return make_top(stocks_[locate], locate);
}

std::size_t BookSet::depth(std::uint16_t locate, Side side, std::span<Level> out) const noexcept {
  if (!valid_locate(locate)) return 0;
  const auto s = static_cast<std::uint8_t>(side);
  const SideIndex& si = stocks_[locate].side[s];
  const std::size_t n = std::min<std::size_t>(si.size, out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = level_of(s, slab_[si.block + si.size - 1 - i]);
  return n;
}

std::uint32_t BookSet::level_count(std::uint16_t locate, Side side) const noexcept {
  if (!valid_locate(locate)) return 0;
  return stocks_[locate].side[static_cast<int>(side)].size;
}

const Order* BookSet::find_order(std::uint64_t ref) const noexcept {
  const std::uint32_t pos = find_slot(ref);
  return pos == kNil ? nullptr : &table_[pos];
}

StockInfo BookSet::info(std::uint16_t locate) const noexcept {
  StockInfo i;
  if (!valid_locate(locate)) return i;
  const Stock& st = stocks_[locate];
  if (st.has_symbol) i.symbol = st.symbol;
  i.round_lot = st.round_lot;
  i.market_category = st.market_category;
  i.trading_state = st.trading_state;
  i.in_directory = st.in_directory;
  i.flags = st.flags;
  i.last_trade = st.last_trade;
  i.volume = st.volume;
  i.broken_trades = st.broken_trades;
  return i;
}

std::string BookSet::check_invariants() const {
  // What the resting orders say each level must hold: (locate, side, price) -> shares, orders.
  std::map<std::tuple<std::uint16_t, std::uint8_t, std::uint32_t>, std::pair<std::uint64_t, std::uint32_t>> want;
  std::uint32_t table_entries = 0;
  for (std::uint32_t i = 0; i <= table_mask_; ++i) {
    const Order& o = table_[i];
    if (o.live == 0) continue;
    if (o.live != 1) return fmt::format("table slot {} has live = {}", i, o.live);
    ++table_entries;
    if (find_slot(o.ref) != i) return fmt::format("ref {} is in the table twice or unreachable", o.ref);
    const Order& s = o;
    // Every entry must be reachable from its home within the probe limit, with no hole between.
    const std::uint32_t h = home(s.ref);
    const std::uint32_t dist = (i - h) & table_mask_;
    if (dist >= kMaxProbe) return fmt::format("ref {} sits {} slots from home", s.ref, dist);
    for (std::uint32_t j = h; j != i; j = (j + 1) & table_mask_) {
      if (table_[j].live == 0) return fmt::format("ref {} is unreachable: hole at slot {}", s.ref, j);
    }
    // Robin Hood order: along a run, each entry is at most one slot further from home than the one before.
    const std::uint32_t prev = (i - 1) & table_mask_;
    if (table_[prev].live != 0 && dist > distance(prev) + 1) {
      return fmt::format("ref {} breaks Robin Hood order at slot {}", s.ref, i);
    }
    if (o.shares == 0) return fmt::format("order {} rests with 0 shares", o.ref);
    if (!valid_locate(o.locate) || o.side > 1) return fmt::format("order {} has locate {} side {}", o.ref, o.locate, o.side);
    auto& w = want[{o.locate, o.side, o.price}];
    w.first += o.shares;
    ++w.second;
  }
  if (table_entries != live_orders_) return fmt::format("table has {} entries, live_orders {}", table_entries, live_orders_);
  if (live_orders_ > config_.orders) return fmt::format("{} live orders, more than the {} configured", live_orders_, config_.orders);
  std::uint32_t levels = 0;
  for (std::uint32_t loc = 1; loc <= config_.max_locate; ++loc) {
    for (std::uint8_t side = 0; side < 2; ++side) {
      const SideIndex& si = stocks_[loc].side[side];
      if (si.size > si.capacity) return fmt::format("locate {} side {}: size above capacity", loc, side);
      const std::uint32_t hint = best_hint_[std::size_t{loc} * 2 + side];
      if (hint != (si.size == 0 ? kNil : si.block + si.size - 1)) return fmt::format("locate {} side {}: stale best hint", loc, side);
      if (si.capacity == 0) continue;
      if (si.size == 0) return fmt::format("locate {} side {}: an empty array keeps its block", loc, side);
      if (si.block + std::uint64_t{si.capacity} > slab_used_) return fmt::format("locate {}: block past the slab", loc);
      for (std::uint32_t k = 0; k < si.size; ++k) {
        const Entry& e = slab_[si.block + k];
        if (k > 0 && slab_[si.block + k - 1].key >= e.key) return fmt::format("locate {}: levels not sorted", loc);
        const std::uint32_t price = key_of(side, e.key);
        const auto it = want.find({static_cast<std::uint16_t>(loc), side, price});
        if (it == want.end()) return fmt::format("locate {} side {} price {}: a level with no order", loc, side, price);
        if (e.orders != it->second.second || e.shares != it->second.first) {
          return fmt::format("locate {} side {} price {}: {} orders/{} shares, the orders say {}/{}", loc, side, price,
                             e.orders, e.shares, it->second.second, it->second.first);
        }
        ++levels;
      }
    }
  }
  if (levels != want.size()) return fmt::format("{} levels in the arrays, the orders make {}", levels, want.size());
  if (levels != live_levels_) return fmt::format("{} levels in the arrays, live_levels {}", levels, live_levels_);
  return {};
}

}  // namespace hft::book
