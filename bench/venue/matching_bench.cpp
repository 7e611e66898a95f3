// Matching engine throughput: hft::match::Engine against the std::map/std::list reference matcher
// (tests/venue/matching/reference_matcher.hpp, the textbook design) on the same request
// streams in the same run.
//
//   matching/mixed/*  a synthetic mix: passive adds near the top, cancels (some of orders already
//                     filled), cancel-reduces, replaces, aggressive IOC limits and small market
//                     orders that sweep one to a few levels.
//   matching/itch/*   an ITCH 5.0 day, encoded in memory with hft::itch::encode (or the BinaryFILE
//                     named by HFT_BENCH_ITCH_FILE), decoded with hft::itch::decode_blocks and
//                     turned into requests: A/F -> new DAY limit, D -> cancel, X -> cancel-reduce,
//                     U -> replace, E/C -> an IOC limit on the other side at the referenced
//                     order's price for the executed shares.
//   matching/itch_latency/engine  the same stream, every request timed with rdtsc (the two
//                     reads, ~10 ns on this host, are included) into an HdrHistogram.
//
// Requests are prepared before timing; each timed pass builds a fresh matcher (not timed) and
// replays the whole stream. The figure is requests per second, one thread.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "venue/matching/engine.hpp"
#include "tests/venue/matching/reference_matcher.hpp"

namespace {

using namespace hft::match;

// ---- requests --------------------------------------------------------------------------------
enum class OpKind : std::uint8_t { kAdd, kCancel, kReduce, kReplace, kCross, kMarket };

struct Op {
  OpKind kind;
  Side side;
  SymbolIndex symbol;
  Qty qty;           // add/cross/market: quantity; reduce: new open quantity; replace: new quantity
  std::uint32_t id;  // add: the new order's id; cancel/reduce/replace: the target's id
  std::uint32_t id2; // replace: the replacement's id
  Price price;
};

struct Stream {
  std::string name;
  std::vector<Op> ops;
  std::vector<SymbolIndex> symbols;
  std::uint32_t ids = 0;            // order ids used
  std::uint64_t itch_messages = 0;  // ITCH streams: messages decoded
  std::uint64_t itch_bytes = 0;
  std::uint64_t skipped = 0;        // ITCH messages referring to unknown orders
  std::uint32_t max_live = 0;
};

constexpr OwnerId kOwner = 1;

struct Counting {
  std::uint64_t events = 0;
  std::uint64_t executions = 0;
  std::uint64_t shares = 0;
  std::uint64_t rejects = 0;
  void on_accepted(const Accepted&) noexcept { ++events; }
  void on_rejected(const Rejected&) noexcept { ++rejects; }
  void on_book_added(const BookAdded&) noexcept { ++events; }
  void on_execution(const Execution& e) noexcept {
    ++executions;
    shares += e.quantity;
  }
  void on_canceled(const Canceled&) noexcept { ++events; }
  void on_replaced(const Replaced&) noexcept { ++events; }
  void on_refreshed(const Refreshed&) noexcept { ++events; }
  void on_stop_triggered(const StopTriggered&) noexcept { ++events; }
};

EngineConfig engine_config(const Stream& s) {
  EngineConfig c;
  c.max_orders = std::max<std::uint32_t>(1u << 16, std::bit_ceil(s.max_live + 1024));
  c.max_levels = 1u << 18;
  c.max_symbols = 65536;
  c.max_quantity = 0xFFFF'FFFFu;
  return c;
}
SymbolConfig symbol_config() {
  SymbolConfig sc;
  sc.max_levels_per_side = 2048;
  return sc;
}

template <class M>
HFT_ALWAYS_INLINE void apply(M& m, const Op& op, OrderRef* refs) noexcept {
  switch (op.kind) {
    case OpKind::kAdd:
    case OpKind::kCross:
    case OpKind::kMarket: {
      NewOrder o;
      o.symbol = op.symbol;
      o.side = op.side;
      o.type = op.kind == OpKind::kMarket ? OrderType::kMarket : OrderType::kLimit;
      o.tif = op.kind == OpKind::kAdd ? TimeInForce::kDay : TimeInForce::kIoc;
      o.quantity = op.qty;
      o.price = op.price;
      o.owner = kOwner;
      o.user_ref = op.id;
      refs[op.id] = m.submit(o).ref;
      break;
    }
    case OpKind::kCancel: m.cancel(kOwner, refs[op.id], 0); break;
    case OpKind::kReduce: m.cancel(kOwner, refs[op.id], op.qty); break;
    case OpKind::kReplace:
      refs[op.id2] = m.replace(ReplaceOrder{kOwner, refs[op.id], op.id2, op.qty, op.price}).ref;
      break;
  }
}

// ---- synthetic mixed workload --------------------------------------------------------------
// The generator replays each request into an engine of its own as it goes, so cancel, reduce
// and replace targets are drawn from the orders really resting (uniformly, as most orders on a
// real feed are cancelled), and cancels speed up while the book is above `target_live` orders,
// holding it near that size: the working set is part of what is measured.
class LiveSet {
 public:
  void add(std::uint32_t id) {
    if (id >= pos_.size()) pos_.resize(id + 1, kNone);
    if (pos_[id] != kNone) return;
    pos_[id] = static_cast<std::uint32_t>(ids_.size());
    ids_.push_back(id);
  }
  void remove(std::uint32_t id) {
    if (id >= pos_.size() || pos_[id] == kNone) return;
    const std::uint32_t at = pos_[id];
    ids_[at] = ids_.back();
    pos_[ids_[at]] = at;
    ids_.pop_back();
    pos_[id] = kNone;
  }
  [[nodiscard]] std::size_t size() const { return ids_.size(); }
  [[nodiscard]] std::uint32_t at(std::size_t i) const { return ids_[i]; }

 private:
  static constexpr std::uint32_t kNone = 0xFFFF'FFFFu;
  std::vector<std::uint32_t> ids_;
  std::vector<std::uint32_t> pos_;
};

struct LiveTracker {
  LiveSet live;
  void on_accepted(const Accepted&) noexcept {}
  void on_rejected(const Rejected&) noexcept {}
  void on_book_added(const BookAdded& e) { live.add(e.user_ref); }
  void on_execution(const Execution& e) {
    if (e.resting_leaves == 0) live.remove(e.resting_user_ref);
  }
  void on_canceled(const Canceled& e) {
    if (e.leaves == 0) live.remove(e.user_ref);
  }
  void on_replaced(const Replaced& e) {
    live.remove(e.old_user_ref);
    if (e.outcome != ReplaceOutcome::kReentered) live.add(e.user_ref);
  }
  void on_refreshed(const Refreshed&) noexcept {}
  void on_stop_triggered(const StopTriggered&) noexcept {}
};

Stream make_mixed(std::size_t n, std::uint32_t target_live, std::uint64_t seed) {
  Stream s;
  s.name = fmt::format("mixed, book held near {} orders", target_live);
  constexpr SymbolIndex kSymbols = 8;
  constexpr Price kTick = 100;
  for (SymbolIndex i = 1; i <= kSymbols; ++i) s.symbols.push_back(i);
  std::mt19937_64 rng(seed);
  auto rnd = [&](std::uint64_t k) { return rng() % k; };
  std::vector<Price> mid(kSymbols + 1, 50'0000);
  std::vector<Side> side_of(2 * n + 2, Side::kBuy);
  std::vector<SymbolIndex> symbol_of(2 * n + 2, 0);

  EngineConfig cfg;
  cfg.max_orders = std::bit_ceil(std::uint32_t{target_live} * 2 + 65536);
  cfg.max_symbols = kSymbols + 1;
  LiveTracker tracker;
  auto sim = std::make_unique<Engine<LiveTracker>>(cfg, tracker);
  SymbolConfig sc;
  sc.max_levels_per_side = 2048;
  for (SymbolIndex i = 1; i <= kSymbols; ++i) sim->add_symbol(i, sc);
  std::vector<OrderRef> refs(2 * n + 2, 0);

  s.ops.reserve(n);
  std::uint32_t next_id = 1;
  for (std::size_t i = 0; i < n; ++i) {
    Op op{};
    op.symbol = static_cast<SymbolIndex>(1 + rnd(kSymbols));
    Price& m = mid[op.symbol];
    if (rnd(200) == 0) m += rnd(2) ? kTick : -kTick;
    op.side = rnd(2) ? Side::kBuy : Side::kSell;
    const std::size_t live = tracker.live.size();
    // Below the target: add 55%, cancel/reduce 12%, replace 8%, cross 22%, market 3%;
    // above it: add 40%, cancel/reduce 35%, replace 10%, cross 13%, market 2%.
    const bool grow = live < target_live;
    const std::uint64_t k = rnd(100);
    const std::uint64_t add_end = grow ? 55 : 40;
    const std::uint64_t cancel_end = add_end + (grow ? 12 : 35);
    const std::uint64_t replace_end = cancel_end + (grow ? 8 : 10);
    const std::uint64_t cross_end = replace_end + (grow ? 22 : 13);
    if (k < add_end || live == 0) {
      op.kind = OpKind::kAdd;
      op.id = next_id++;
      op.qty = 100 * (1 + static_cast<Qty>(rnd(5)));
      const int sign = op.side == Side::kBuy ? -1 : 1;
      op.price = m + sign * kTick * static_cast<Price>(std::min<std::uint64_t>(rnd(4) * rnd(5), 12));
    } else if (k < cancel_end) {
      op.id = tracker.live.at(rnd(live));
      op.kind = rnd(6) == 0 ? OpKind::kReduce : OpKind::kCancel;
      op.qty = 100;  // reduce to 100 shares (rejected when not below the open quantity)
    } else if (k < replace_end) {
      op.kind = OpKind::kReplace;
      op.id = tracker.live.at(rnd(live));
      op.id2 = next_id++;
      const int sign = side_of[op.id] == Side::kBuy ? -1 : 1;
      op.qty = 100 * (1 + static_cast<Qty>(rnd(5)));
      op.price = mid[symbol_of[op.id]] + sign * kTick * static_cast<Price>(rnd(6));
    } else if (k < cross_end) {
      op.kind = OpKind::kCross;  // through the touch: one to a few levels
      op.id = next_id++;
      op.qty = 100 * (1 + static_cast<Qty>(rnd(6)));
      const int sign = op.side == Side::kBuy ? 1 : -1;
      op.price = m + sign * kTick * static_cast<Price>(1 + rnd(2));
    } else {
      op.kind = OpKind::kMarket;
      op.id = next_id++;
      op.qty = 100;
    }
    if (op.kind == OpKind::kAdd) {
      side_of[op.id] = op.side;
      symbol_of[op.id] = op.symbol;
    } else if (op.kind == OpKind::kReplace) {
      side_of[op.id2] = side_of[op.id];
      symbol_of[op.id2] = symbol_of[op.id];
    }
    apply(*sim, op, refs.data());
    s.ops.push_back(op);
  }
  s.ids = next_id;
  s.max_live = target_live * 2 + 65536;
  return s;
}

// ---- ITCH day generator -----------------------------------------------------------------------
// A compact, self-consistent day: symbols with a drifting mid price; adds mostly within a few
// ticks of the touch and never crossing; deletes, partial cancels and replaces of random live
// orders; executions always of the first order at the best price (as on the real feed, where an
// E refers to the order with priority). A full generator lives in venue/sim.
class DayGenerator {
 public:
  DayGenerator(int symbols, std::uint64_t seed) : rng_(seed), books_(static_cast<std::size_t>(symbols) + 1) {
    for (std::size_t i = 1; i < books_.size(); ++i) books_[i].mid = 20'0000 + static_cast<Price>(rnd(200)) * 10'000;
  }

  std::vector<std::uint8_t> generate(std::size_t messages) {
    std::vector<std::uint8_t> out;
    out.reserve(messages * 40);
    std::uint8_t msg[64];
    auto put = [&](std::size_t len) {
      out.push_back(static_cast<std::uint8_t>(len >> 8));
      out.push_back(static_cast<std::uint8_t>(len));
      out.insert(out.end(), msg, msg + len);
    };
    put(hft::itch::encode::system_event(msg, header(0), 'O'));
    for (std::size_t i = 1; i < books_.size(); ++i) {
      hft::itch::StockDirectoryFields f;
      f.stock = hft::itch::Symbol::from(fmt::format("SYM{}", i));
      put(hft::itch::encode::stock_directory(msg, header(static_cast<std::uint16_t>(i)), f));
    }
    put(hft::itch::encode::system_event(msg, header(0), 'Q'));
    for (std::size_t m = 0; m < messages; ++m) put(next(msg));
    put(hft::itch::encode::system_event(msg, header(0), 'C'));
    return out;
  }

 private:
  static constexpr Price kTick = 100;
  struct Live {
    std::uint16_t locate;
    char side;
    std::uint32_t shares;
    std::uint32_t price;
    std::list<std::uint64_t>::iterator pos;
    std::size_t index;  // in live_
  };
  struct Book {
    std::map<std::uint32_t, std::list<std::uint64_t>> bids, asks;
    Price mid = 0;
  };

  std::uint64_t rnd(std::uint64_t k) { return rng_() % k; }
  hft::itch::MessageHeader header(std::uint16_t locate) {
    ts_ += 1 + rnd(2000);
    return hft::itch::MessageHeader{locate, 0, ts_};
  }

  std::uint32_t passive_price(const Book& b, char side) {
    const Price d = kTick * static_cast<Price>(std::min<std::uint64_t>(rnd(4) * rnd(5), 15));
    Price p = side == 'B' ? b.mid - kTick - d : b.mid + kTick + d;
    if (side == 'B' && !b.asks.empty()) p = std::min<Price>(p, b.asks.begin()->first - kTick);
    if (side == 'S' && !b.bids.empty()) p = std::max<Price>(p, b.bids.rbegin()->first + kTick);
    return static_cast<std::uint32_t>(std::max<Price>(p, kTick));
  }

  void insert(std::uint64_t ref, std::uint16_t locate, char side, std::uint32_t shares, std::uint32_t price) {
    Book& b = books_[locate];
    auto& lv = (side == 'B' ? b.bids : b.asks)[price];
    lv.push_back(ref);
    live_.push_back(ref);
    orders_[ref] = Live{locate, side, shares, price, std::prev(lv.end()), live_.size() - 1};
  }
  void erase(std::uint64_t ref) {
    const Live o = orders_.at(ref);
    Book& b = books_[o.locate];
    auto& side = o.side == 'B' ? b.bids : b.asks;
    auto lv = side.find(o.price);
    lv->second.erase(o.pos);
    if (lv->second.empty()) side.erase(lv);
    const std::uint64_t moved = live_.back();
    live_[o.index] = moved;
    orders_[moved].index = o.index;
    live_.pop_back();
    orders_.erase(ref);
  }

  std::size_t next(std::uint8_t* msg) {
    const std::uint64_t k = rnd(100);
    const bool few = live_.size() < 64 * (books_.size() - 1);
    if (k < 40 || few) {  // add
      const auto locate = static_cast<std::uint16_t>(1 + rnd(books_.size() - 1));
      Book& b = books_[locate];
      if (rnd(50) == 0) b.mid += rnd(2) ? kTick : -kTick;
      const char side = rnd(2) ? 'B' : 'S';
      const std::uint32_t price = passive_price(b, side);
      const auto shares = static_cast<std::uint32_t>(100 * (1 + rnd(10)));
      const std::uint64_t ref = next_ref_++;
      insert(ref, locate, side, shares, price);
      const auto stock = hft::itch::Symbol::from(fmt::format("SYM{}", locate));
      if (k < 4) return hft::itch::encode::add_order_mpid(msg, header(locate), ref, side, shares, stock, price, "GSCO");
      return hft::itch::encode::add_order(msg, header(locate), ref, side, shares, stock, price);
    }
    const std::uint64_t ref = live_[rnd(live_.size())];
    Live& o = orders_.at(ref);
    const std::uint16_t locate = o.locate;
    if (k < 76) {  // delete
      erase(ref);
      return hft::itch::encode::order_delete(msg, header(locate), ref);
    }
    if (k < 80 && o.shares > 1) {  // partial cancel
      const auto n = static_cast<std::uint32_t>(1 + rnd(o.shares - 1));
      o.shares -= n;
      return hft::itch::encode::order_cancel(msg, header(locate), ref, n);
    }
    if (k < 89) {  // replace: new ref, new price near the old one, back of the queue
      const char side = o.side;
      erase(ref);
      Book& b = books_[locate];
      const std::uint32_t price = passive_price(b, side);
      const auto shares = static_cast<std::uint32_t>(100 * (1 + rnd(10)));
      const std::uint64_t nref = next_ref_++;
      insert(nref, locate, side, shares, price);
      return hft::itch::encode::order_replace(msg, header(locate), ref, nref, shares, price);
    }
    // Execute the order with priority on one side of this symbol.
    Book& b = books_[locate];
    const bool bid = rnd(2) != 0 ? !b.bids.empty() : b.asks.empty();
    if (bid ? b.bids.empty() : b.asks.empty()) {
      erase(ref);
      return hft::itch::encode::order_delete(msg, header(locate), ref);
    }
    const std::uint64_t xref = bid ? b.bids.rbegin()->second.front() : b.asks.begin()->second.front();
    Live& x = orders_.at(xref);
    const auto n = rnd(2) ? x.shares : static_cast<std::uint32_t>(1 + rnd(x.shares));
    const std::uint32_t price = x.price;
    x.shares -= n;
    if (x.shares == 0) erase(xref);
    const std::uint64_t match = next_match_++;
    if (k < 97) return hft::itch::encode::order_executed(msg, header(locate), xref, n, match);
    return hft::itch::encode::order_executed_with_price(msg, header(locate), xref, n, match, 'Y', price);
  }

  std::mt19937_64 rng_;
  std::vector<Book> books_;
  std::unordered_map<std::uint64_t, Live> orders_;
  std::vector<std::uint64_t> live_;
  std::uint64_t next_ref_ = 1;
  std::uint64_t next_match_ = 1;
  std::uint64_t ts_ = 34'200'000'000'000;  // 09:30
};

// ITCH -> requests.
struct ItchToOps {
  struct Known {
    std::uint32_t id;
    SymbolIndex symbol;
    Side side;
    std::uint32_t shares;
    Price price;
  };
  Stream& s;
  std::unordered_map<std::uint64_t, Known> orders;
  std::vector<bool> seen = std::vector<bool>(65536, false);
  std::uint32_t next_id = 1;

  void symbol(std::uint16_t locate) {
    if (!seen[locate]) {
      seen[locate] = true;
      s.symbols.push_back(locate);
    }
  }
  void on_stock_directory(const hft::itch::StockDirectory& m) { symbol(m.stock_locate()); }
  void on_add_order(const hft::itch::AddOrder& m) {
    symbol(m.stock_locate());
    const Side side = m.buy_sell_indicator() == 'B' ? Side::kBuy : Side::kSell;
    const Known k{next_id++, m.stock_locate(), side, m.shares(), static_cast<Price>(m.price())};
    orders[m.order_reference_number()] = k;
    s.ops.push_back(Op{OpKind::kAdd, side, k.symbol, k.shares, k.id, 0, k.price});
    s.max_live = std::max<std::uint32_t>(s.max_live, static_cast<std::uint32_t>(orders.size()));
  }
  Known* find(std::uint64_t ref) {
    const auto it = orders.find(ref);
    if (it == orders.end()) {
      ++s.skipped;
      return nullptr;
    }
    return &it->second;
  }
  void on_order_delete(const hft::itch::OrderDelete& m) {
    if (Known* k = find(m.order_reference_number())) {
      s.ops.push_back(Op{OpKind::kCancel, k->side, k->symbol, 0, k->id, 0, 0});
      orders.erase(m.order_reference_number());
    }
  }
  void on_order_cancel(const hft::itch::OrderCancel& m) {
    if (Known* k = find(m.order_reference_number())) {
      const std::uint32_t n = std::min(k->shares, m.cancelled_shares());
      k->shares -= n;
      s.ops.push_back(Op{k->shares == 0 ? OpKind::kCancel : OpKind::kReduce, k->side, k->symbol, k->shares, k->id, 0, 0});
      if (k->shares == 0) orders.erase(m.order_reference_number());
    }
  }
  void on_order_replace(const hft::itch::OrderReplace& m) {
    if (Known* k = find(m.original_order_reference_number())) {
      Known n{next_id++, k->symbol, k->side, m.shares(), static_cast<Price>(m.price())};
      s.ops.push_back(Op{OpKind::kReplace, k->side, k->symbol, n.shares, k->id, n.id, n.price});
      orders.erase(m.original_order_reference_number());
      orders[m.new_order_reference_number()] = n;
    }
  }
  void executed(std::uint64_t ref, std::uint32_t shares) {
    if (Known* k = find(ref)) {
      const std::uint32_t n = std::min(k->shares, shares);
      s.ops.push_back(Op{OpKind::kCross, opposite(k->side), k->symbol, n, next_id++, 0, k->price});
      k->shares -= n;
      if (k->shares == 0) orders.erase(ref);
    }
  }
  void on_order_executed(const hft::itch::OrderExecuted& m) { executed(m.order_reference_number(), m.executed_shares()); }
  void on_order_executed_with_price(const hft::itch::OrderExecutedWithPrice& m) {
    executed(m.order_reference_number(), m.executed_shares());
  }
};

Stream make_itch_stream() {
  Stream s;
  std::vector<std::uint8_t> bytes;
  if (const char* path = std::getenv("HFT_BENCH_ITCH_FILE"); path != nullptr && *path != '\0') {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "HFT_BENCH_ITCH_FILE={}: cannot open\n", path);
      std::exit(2);
    }
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    s.name = fmt::format("itch file {}", path);
  } else {
    DayGenerator gen(16, 20261121);
    bytes = gen.generate(2'000'000);
    s.name = "generated itch day (16 symbols, 2M messages)";
  }
  ItchToOps conv{s, {}};
  hft::itch::DecodeStats stats;
  hft::itch::decode_blocks(bytes.data(), bytes.size(), conv, stats, ~std::size_t{0}, true);
  s.ids = conv.next_id;
  s.itch_messages = stats.messages;
  s.itch_bytes = bytes.size();
  return s;
}

const Stream& mixed_stream() {
  static const Stream s = make_mixed(2'000'000, 8'000, 42);
  return s;
}
const Stream& mixed_deep_stream() {
  static const Stream s = make_mixed(2'000'000, 100'000, 43);
  return s;
}
const Stream& itch_stream() {
  static const Stream s = make_itch_stream();
  return s;
}

// This thread's CPU time: the host is a shared 2-vCPU VM, and time spent descheduled is not the
// engine's. The wall-clock rate is reported beside it.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct RunResult {
  double seconds = 0;  // thread CPU time
  double wall_seconds = 0;
  std::uint32_t live_orders = 0;  // engine only: resting orders and held stops at the end
  std::uint32_t live_levels = 0;
  Counting counts;
  EngineStats stats;
};

template <class M>
RunResult run_once(const Stream& s) {
  const EngineConfig cfg = engine_config(s);
  RunResult r;
  auto m = std::make_unique<M>(cfg, r.counts);
  for (SymbolIndex sym : s.symbols) m->add_symbol(sym, symbol_config());
  std::vector<OrderRef> refs(s.ids + 1, 0);
  const double c0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (const Op& op : s.ops) apply(*m, op, refs.data());
  const auto t1 = std::chrono::steady_clock::now();
  r.seconds = thread_cpu_seconds() - c0;
  r.wall_seconds = std::chrono::duration<double>(t1 - t0).count();
  r.stats = m->stats();
  if constexpr (std::is_same_v<M, Engine<Counting>>) {
    r.live_orders = m->live_orders();
    r.live_levels = m->live_levels();
  }
  return r;
}

template <class M>
void BM_Stream(benchmark::State& state, const Stream& (*stream)()) {
  const Stream& s = stream();
  hft::bench::pin_if_possible(0);
  RunResult last;
  for (auto _ : state) {
    last = run_once<M>(s);
    state.SetIterationTime(last.seconds);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.ops.size()));
  state.counters["executions"] = static_cast<double>(last.counts.executions);
  state.counters["shares"] = static_cast<double>(last.counts.shares);
  state.counters["rejects"] = static_cast<double>(last.counts.rejects);
  state.counters["requests"] = static_cast<double>(s.ops.size());
  state.counters["wall_Mps"] = static_cast<double>(s.ops.size()) / last.wall_seconds / 1e6;
  if (last.live_orders != 0) {
    state.counters["live_orders"] = static_cast<double>(last.live_orders);
    state.counters["live_levels"] = static_cast<double>(last.live_levels);
  }
}

using Hft = Engine<Counting>;
using Ref = hft::match::testing::ReferenceMatcher<Counting>;

void BM_ItchLatency(benchmark::State& state) {
  const Stream& s = itch_stream();
  hft::bench::pin_if_possible(0);
  const hft::core::TscClock& clock = hft::core::tsc_clock();
  hft::core::Histogram h(1, 10'000'000, 3);
  for (auto _ : state) {
    Counting counts;
    const EngineConfig cfg = engine_config(s);
    auto m = std::make_unique<Hft>(cfg, counts);
    for (SymbolIndex sym : s.symbols) m->add_symbol(sym, symbol_config());
    std::vector<OrderRef> refs(s.ids + 1, 0);
    h.reset();
    std::uint64_t total = 0;
    for (const Op& op : s.ops) {
      const std::uint64_t t0 = clock.now();
      apply(*m, op, refs.data());
      const std::uint64_t dt = clock.now() - t0;
      total += dt;
      h.record(clock.to_ns(dt));
    }
    state.SetIterationTime(static_cast<double>(clock.to_ns(total)) * 1e-9);
  }
  state.counters["p50_ns"] = static_cast<double>(h.value_at_percentile(50));
  state.counters["p99_ns"] = static_cast<double>(h.value_at_percentile(99));
  state.counters["p99.9_ns"] = static_cast<double>(h.value_at_percentile(99.9));
  state.counters["p99.99_ns"] = static_cast<double>(h.value_at_percentile(99.99));
  state.counters["max_ns"] = static_cast<double>(h.max());
}

void BM_MixedEngine(benchmark::State& st) { BM_Stream<Hft>(st, mixed_stream); }
void BM_MixedReference(benchmark::State& st) { BM_Stream<Ref>(st, mixed_stream); }
void BM_MixedDeepEngine(benchmark::State& st) { BM_Stream<Hft>(st, mixed_deep_stream); }
void BM_MixedDeepReference(benchmark::State& st) { BM_Stream<Ref>(st, mixed_deep_stream); }
void BM_ItchEngine(benchmark::State& st) { BM_Stream<Hft>(st, itch_stream); }
void BM_ItchReference(benchmark::State& st) { BM_Stream<Ref>(st, itch_stream); }

BENCHMARK(BM_MixedEngine)->Name("matching/mixed/engine")->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MixedReference)->Name("matching/mixed/reference")->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MixedDeepEngine)->Name("matching/mixed_deep/engine")->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MixedDeepReference)->Name("matching/mixed_deep/reference")->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ItchEngine)->Name("matching/itch/engine")->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ItchReference)->Name("matching/itch/reference")->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ItchLatency)->Name("matching/itch_latency/engine")->UseManualTime()->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond);

void summarize(const hft::bench::Results& r) {
  auto get = [&](const char* name) -> const hft::bench::Result* {
    const auto it = r.find(name);
    return it == r.end() ? nullptr : &it->second;
  };
  fmt::print("\n== matching engine, one thread (median of repetitions) ==\n");
  for (const char* w : {"mixed", "mixed_deep", "itch"}) {
    const auto* e = get(fmt::format("matching/{}/engine", w).c_str());
    const auto* b = get(fmt::format("matching/{}/reference", w).c_str());
    if (e == nullptr || b == nullptr) continue;
    const double er = e->counter("items_per_second");
    const double br = b->counter("items_per_second");
    const std::string wn = w;
    const Stream& s = wn == "mixed" ? mixed_stream() : wn == "mixed_deep" ? mixed_deep_stream() : itch_stream();
    fmt::print("{:10} {}: {} requests; engine book at the end: {:.0f} orders, {:.0f} levels\n", w, s.name,
               s.ops.size(), e->counter("live_orders"), e->counter("live_levels"));
    fmt::print("       hft::match::Engine  {:7.2f} M requests/s  ({:5.1f} ns/request; wall clock {:.2f} M/s)\n", er / 1e6,
               1e9 / er, e->counter("wall_Mps"));
    fmt::print("       reference (std::map) {:6.2f} M requests/s  ({:5.1f} ns/request)   ratio {:.1f}x\n", br / 1e6,
               1e9 / br, er / br);
    const bool same = e->counter("executions") == b->counter("executions") && e->counter("shares") == b->counter("shares") &&
                      e->counter("rejects") == b->counter("rejects");
    fmt::print("       executions {:.0f}, shares {:.0f}, rejects {:.0f}: {}\n", e->counter("executions"), e->counter("shares"),
               e->counter("rejects"), same ? "same as the reference" : "DIFFERENT from the reference");
    if (std::string(w) == "itch")
      fmt::print("       {} ITCH messages ({:.1f} MB), {} referring to unknown orders\n", s.itch_messages,
                 static_cast<double>(s.itch_bytes) / 1e6, s.skipped);
    fmt::print("       target >= 20 M requests/s: {}\n", er >= 20e6 ? "met" : "NOT met");
  }
  if (const auto* l = get("matching/itch_latency/engine"))
    fmt::print("latency per request (itch stream, rdtsc pair included): p50 {:.0f} ns  p99 {:.0f} ns  p99.9 {:.0f} ns  "
               "p99.99 {:.0f} ns  max {:.0f} ns\n",
               l->counter("p50_ns"), l->counter("p99_ns"), l->counter("p99.9_ns"), l->counter("p99.99_ns"),
               l->counter("max_ns"));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
