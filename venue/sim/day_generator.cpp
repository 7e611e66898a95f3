#include "venue/sim/day_generator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <unordered_set>

#include <fmt/format.h>

#include "gateways/common/endian.hpp"
#include "gateways/itch/encoder.hpp"

namespace hft::sim {
namespace {

__extension__ using u128 = unsigned __int128;

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::uint64_t kHour = 3600 * kSecond;
// System event times of a NASDAQ day (ns since midnight, Eastern): ITCH 5.0 spec 1.1.
constexpr std::uint64_t kStartOfMessages = 3 * kHour;
constexpr std::uint64_t kStartOfSystemHours = 4 * kHour;
constexpr std::uint64_t kStartOfMarketHours = 9 * kHour + 30 * 60 * kSecond;
constexpr std::uint64_t kEndOfMarketHours = 16 * kHour;
constexpr std::uint64_t kEndOfSystemHours = 20 * kHour;
constexpr std::uint64_t kEndOfMessages = 20 * kHour + 5 * 60 * kSecond;
constexpr std::uint64_t kMidday = 12 * kHour + 45 * 60 * kSecond;

constexpr std::int32_t kWindow = 1024;  // price window of a stock, in cents
constexpr std::uint32_t kCent = 100;    // one cent in Price(4) units
constexpr std::uint32_t kNone = 0xFFFF'FFFFu;
constexpr std::uint64_t kMaxMessages = 4'000'000'000ull;
constexpr std::uint64_t kBurstGapNs = 20'000;  // largest gap inside a burst

// splitmix64: a 64-bit counter through a bijective mixer; passes BigCrush, and its integer
// arithmetic gives the same stream on every platform (unlike std:: distributions).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E37'79B9'7F4A'7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (multiply-shift; n <= 2^32).
  std::uint32_t below(std::uint64_t n) noexcept { return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32); }
  bool chance(std::uint32_t per_mille) noexcept { return below(1000) < per_mille; }
  // Number of successes before the first failure, each success with probability per_mille/1000.
  std::uint32_t geometric(std::uint32_t per_mille, std::uint32_t cap) noexcept {
    std::uint32_t k = 0;
    while (k < cap && chance(per_mille)) ++k;
    return k;
  }

 private:
  std::uint64_t state_;
};

enum class Flow : std::uint8_t { kA, kF, kU, kD, kE, kX, kP, kQ, kI, kC, kB, kCount };

struct GenOrder {
  std::uint64_t ref = 0;
  std::uint32_t shares = 0;
  std::uint32_t pos = 0;     // index in its stock's live list
  std::uint32_t gpos = 0;    // index in the day's live list
  std::int32_t tick = 0;     // offset in the stock's price window
  std::uint16_t stock = 0;   // index into stocks (locate - 1)
  std::uint8_t side = 0;     // 0 bid, 1 ask
};

struct StockState {
  StockSpec spec;
  std::int64_t base_cents = 1;    // price of window tick 0, in cents (>= 1)
  std::int32_t center = kWindow / 2;
  std::int32_t mid = kWindow / 2; // last mid, in window ticks (anchor for an empty book)
  std::int32_t best[2] = {-1, kWindow};  // best bid tick (-1: none), best ask tick (kWindow: none)
  std::uint32_t* count[2] = {nullptr, nullptr};
  std::vector<std::uint32_t> live;
};

}  // namespace

Scenario parse_scenario(const std::string& name) {
  if (name == "none") return Scenario::kNone;
  if (name == "trending") return Scenario::kTrending;
  if (name == "mean-reverting") return Scenario::kMeanReverting;
  if (name == "volatile") return Scenario::kVolatile;
  if (name == "flash-crash") return Scenario::kFlashCrash;
  throw std::invalid_argument(
      fmt::format("unknown scenario '{}' (none, trending, mean-reverting, volatile, flash-crash)", name));
}

Profile parse_profile(const std::string& name) {
  if (name == "realistic") return Profile::kRealistic;
  if (name == "legacy") return Profile::kLegacy;
  throw std::invalid_argument(fmt::format("unknown profile '{}' (realistic, legacy)", name));
}

PriceShape::PriceShape(const DayConfig& config) : sc_(config.scenario) {
  const ScenarioConfig& c = sc_;
  if (c.kind == Scenario::kFlashCrash) {
    if (!(c.crash_pct > 0 && c.crash_pct < 100) || !(c.crash_seconds > 0) || !(c.recovery_seconds > 0)) {
      throw std::invalid_argument("flash-crash needs 0 < crash_pct < 100 and positive crash and recovery seconds");
    }
  }
  if (c.kind == Scenario::kTrending && !(c.drift_pct > -90 && c.drift_pct < 1000)) {
    throw std::invalid_argument("trending needs -90 < drift_pct < 1000");
  }
  if (!(c.volatility_pct >= 0 && c.volatility_pct <= 20)) throw std::invalid_argument("volatility_pct must be 0..20");
  if (c.kind != Scenario::kTrending && c.kind != Scenario::kMeanReverting && c.kind != Scenario::kVolatile) return;
  // A per-second path from its own generator (the order flow's stream is untouched). Normal-ish
  // steps from the sum of 4 uniforms (variance 1/3 each, so scaled by sqrt(3)/2 to unit variance).
  Rng r(config.seed ^ 0xA5A5'5A5A'0F0F'F0F0ull);
  auto gauss = [&r] {
    double sum = 0;
    for (int i = 0; i < 4; ++i) sum += static_cast<double>(r.next() >> 11) * 0x1p-53 * 2 - 1;
    return sum * 0.8660254037844386;
  };
  const std::size_t secs = (kEndOfMarketHours - kStartOfMarketHours) / kSecond + 1;
  const double vol = c.volatility_pct > 0 ? c.volatility_pct : (c.kind == Scenario::kVolatile ? 1.5 : 0.5);
  const double sigma_sec = vol / 100.0 / std::sqrt(60.0);  // per second
  path_.resize(secs);
  double x = 0;  // log deviation
  const double theta = c.kind == Scenario::kMeanReverting ? 0.0228 : 0.0;  // 1 - 0.5^(1/30)
  const double sigma = c.kind == Scenario::kTrending ? sigma_sec * 0.05 : sigma_sec;
  for (std::size_t i = 0; i < secs; ++i) {
    path_[i] = x;
    x += -theta * x + sigma * gauss();
    x = std::clamp(x, -1.5, 1.5);  // never below ~22% or above ~4.5x of the open
  }
}

double PriceShape::factor(std::uint64_t ts) const noexcept {
  const ScenarioConfig& c = sc_;
  const double t = ts <= kStartOfMarketHours ? 0.0 : static_cast<double>(ts - kStartOfMarketHours) / 1e9;
  auto path_at = [&]() {
    if (path_.empty()) return 0.0;
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(t), path_.size() - 1);
    const std::size_t j = std::min(i + 1, path_.size() - 1);
    const double w = t - static_cast<double>(i);
    return path_[i] + (path_[j] - path_[i]) * std::clamp(w, 0.0, 1.0);
  };
  switch (c.kind) {
    case Scenario::kNone: return 1.0;
    case Scenario::kTrending: {
      const double span = static_cast<double>(kEndOfMarketHours - kStartOfMarketHours) / 1e9;
      return (1.0 + c.drift_pct / 100.0 * std::min(t / span, 1.0)) * std::exp(path_at());
    }
    case Scenario::kMeanReverting:
    case Scenario::kVolatile: return std::exp(path_at());
    case Scenario::kFlashCrash: {
      if (ts <= c.crash_at_ns) return 1.0;
      const double s = static_cast<double>(ts - c.crash_at_ns) / 1e9;
      const double low = 1.0 - c.crash_pct / 100.0;
      if (s < c.crash_seconds) return 1.0 - (1.0 - low) * s / c.crash_seconds;
      const double up = s - c.crash_seconds;
      if (up < c.recovery_seconds) return low + (1.0 - low) * up / c.recovery_seconds;
      return 1.0;
    }
  }
  return 1.0;
}

struct DayGenerator::Impl {
  DayConfig cfg;
  Rng rng;
  std::vector<StockState> stocks;
  std::vector<StockSpec> specs;
  std::vector<std::uint32_t> counts_storage;
  std::vector<std::uint64_t> stock_cdf;
  std::array<std::uint64_t, static_cast<std::size_t>(Flow::kCount)> type_cdf{};
  std::vector<GenOrder> orders;
  std::vector<std::uint32_t> free_orders;
  std::vector<std::uint32_t> live_all;  // every resting order, latest adds at the back
  std::uint64_t live = 0;
  std::uint64_t peak_live = 0;
  std::array<std::uint64_t, 4> next_ref{};
  std::uint64_t max_ref = 0;
  std::uint64_t match = 0;

  std::uint64_t flow_total = 0;
  std::uint64_t burst_left = 0;
  std::uint64_t flow_done = 0;
  std::uint64_t header_done = 0;
  std::uint64_t trailer_done = 0;
  std::uint64_t produced = 0;
  std::uint64_t ts = 0;
  std::array<std::uint64_t, 256> by_type{};
  PriceShape shape;

  explicit Impl(const DayConfig& c) : cfg(c), rng(c.seed ^ 0x5DEE'CE66'D1CE'4E5Bull), shape(c) {
    if (c.burst_min == 0 || c.burst_min > c.burst_max) {
      throw std::invalid_argument(fmt::format("bursts must be 1 <= min <= max, got {}..{}", c.burst_min, c.burst_max));
    }
    if (c.stocks == 0 || c.stocks > 65535) {
      throw std::invalid_argument(fmt::format("stocks must be 1..65535 (ITCH locates are 16-bit), got {}", c.stocks));
    }
    const std::uint64_t fixed = 2ull * c.stocks + 6;
    if (c.messages < fixed + 1 || c.messages > kMaxMessages) {
      throw std::invalid_argument(fmt::format(
          "messages must be {}..{} for {} stocks (a directory entry and a trading action per stock, six system "
          "events, and at least one order message), got {}",
          fixed + 1, kMaxMessages, c.stocks, c.messages));
    }
    const MessageMix& m = c.mix;
    const std::uint32_t w[] = {m.add,   m.add_mpid, m.replace, m.remove, m.execute,           m.cancel,
                               m.trade, m.cross_trade, m.noii, m.execute_with_price, m.broken_trade};
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < type_cdf.size(); ++i) type_cdf[i] = (acc += w[i]);
    if (acc == 0 || m.add + m.add_mpid == 0) throw std::invalid_argument("the message mix needs adds (A or F)");
    flow_total = c.messages - fixed;
    if (c.profile == Profile::kLegacy) {
      for (std::uint64_t s = 0; s < 4; ++s) next_ref[s] = 4'000'000 * (s + 1) + s;  // four streams, like NASDAQ's
    }
    make_stocks();
    orders.reserve(1u << 16);
  }

  void make_stocks() {
    const std::uint32_t k = cfg.stocks;
    stocks.resize(k);
    specs.resize(k);
    counts_storage.assign(std::size_t{k} * 2 * kWindow, 0);
    std::unordered_set<std::uint64_t> used;
    static constexpr char kCategories[] = {'Q', 'Q', 'Q', 'G', 'S', 'S', 'N', 'N', 'P', 'A', 'Z'};
    for (std::uint32_t i = 0; i < k; ++i) {
      StockState& st = stocks[i];
      itch::Symbol sym;
      do {  // 1-5 letters, most 3-4, unique
        static constexpr std::uint32_t kLenWeights[] = {2, 8, 35, 45, 10};
        std::uint32_t r = rng.below(100);
        std::size_t len = 1;
        for (std::uint32_t lw : kLenWeights) {
          if (r < lw) break;
          r -= lw;
          ++len;
        }
        char text[5];
        for (std::size_t j = 0; j < len; ++j) text[j] = static_cast<char>('A' + rng.below(26));
        sym = itch::Symbol::from(std::string_view(text, len));
      } while (!used.insert(sym.key()).second);
      // Log-uniform start price from about $3 to $400: 2^(1.6 .. 8.6) dollars.
      const std::uint32_t steps = rng.below(700);
      double dollars = 3.0;
      for (std::uint32_t j = 0; j < steps; ++j) dollars *= 1.00702;
      const auto cents = static_cast<std::int64_t>(dollars * 100);
      st.base_cents = std::max<std::int64_t>(1, cents - kWindow / 2);
      st.center = static_cast<std::int32_t>(cents - st.base_cents);
      st.mid = st.center;
      st.count[0] = &counts_storage[std::size_t{i} * 2 * kWindow];
      st.count[1] = st.count[0] + kWindow;
      st.spec.locate = static_cast<std::uint16_t>(i + 1);
      st.spec.symbol = sym;
      st.spec.market_category = kCategories[rng.below(sizeof kCategories)];
      st.spec.start_price = static_cast<std::uint32_t>(cents) * kCent;
      specs[i] = st.spec;
    }
    // Activity: a Zipf-like weight by a random rank, so a few names carry much of the flow.
    std::vector<std::uint32_t> rank(k);
    for (std::uint32_t i = 0; i < k; ++i) rank[i] = i;
    for (std::uint32_t i = k; i > 1; --i) std::swap(rank[i - 1], rank[rng.below(i)]);
    stock_cdf.resize(k);
    std::uint64_t acc = 0;
    for (std::uint32_t i = 0; i < k; ++i) stock_cdf[i] = (acc += 10'000'000 / (rank[i] + 8));
  }

  // ---- the generator's own book -------------------------------------------------------------
  std::uint32_t price_of(const StockState& st, std::int32_t tick) const {
    const std::int64_t cents = st.base_cents + tick;
    if (cfg.scenario.kind == Scenario::kNone) return static_cast<std::uint32_t>(cents) * kCent;
    const auto shaped = std::llround(static_cast<double>(cents) * shape.factor(ts));
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(shaped, 1, 400'000)) * kCent;
  }

  void book_add(StockState& st, std::uint8_t side, std::int32_t tick) {
    ++st.count[side][tick];
    if (side == 0 ? tick > st.best[0] : tick < st.best[1]) st.best[side] = tick;
  }
  void book_remove(StockState& st, std::uint8_t side, std::int32_t tick) {
    if (--st.count[side][tick] != 0 || tick != st.best[side]) return;
    std::int32_t t = tick;
    if (side == 0) {
      while (t >= 0 && st.count[0][t] == 0) --t;
    } else {
      while (t < kWindow && st.count[1][t] == 0) ++t;
    }
    st.best[side] = t;
  }
  bool has(const StockState& st, std::uint8_t side) const { return side == 0 ? st.best[0] >= 0 : st.best[1] < kWindow; }

  std::uint32_t new_order(std::uint16_t stock, std::uint8_t side, std::int32_t tick, std::uint32_t shares) {
    StockState& st = stocks[stock];
    std::uint32_t idx;
    if (!free_orders.empty()) {
      idx = free_orders.back();
      free_orders.pop_back();
    } else {
      idx = static_cast<std::uint32_t>(orders.size());
      orders.emplace_back();
    }
    GenOrder& o = orders[idx];
    if (cfg.profile == Profile::kRealistic) {
      o.ref = ++next_ref[0];
    } else {
      const std::uint32_t stream = st.spec.locate & 3u;
      next_ref[stream] += 4 * (rng.chance(60) ? 1 + rng.below(4) : 1);
      o.ref = next_ref[stream];
    }
    max_ref = std::max(max_ref, o.ref);
    o.shares = shares;
    o.tick = tick;
    o.stock = stock;
    o.side = side;
    o.pos = static_cast<std::uint32_t>(st.live.size());
    st.live.push_back(idx);
    o.gpos = static_cast<std::uint32_t>(live_all.size());
    live_all.push_back(idx);
    book_add(st, side, tick);
    if (++live > peak_live) peak_live = live;
    return idx;
  }
  void drop_order(std::uint32_t idx) {
    GenOrder& o = orders[idx];
    StockState& st = stocks[o.stock];
    const std::uint32_t last = st.live.back();
    st.live[o.pos] = last;
    orders[last].pos = o.pos;
    st.live.pop_back();
    const std::uint32_t glast = live_all.back();
    live_all[o.gpos] = glast;
    orders[glast].gpos = o.gpos;
    live_all.pop_back();
    book_remove(st, o.side, o.tick);
    free_orders.push_back(idx);
    --live;
  }
  // Mostly one of the latest orders of the day (most orders are cancelled or replaced within
  // milliseconds of being added), sometimes any resting order. `list` is non-empty.
  std::uint32_t pick_recent(const std::vector<std::uint32_t>& list) {
    const std::size_t n = list.size();
    if (cfg.profile == Profile::kRealistic) {  // lifetimes: see Profile
      const std::uint32_t r = rng.below(100);
      const std::size_t window = r < 80 ? 32 : r < 92 ? 4096 : n;
      return list[n - 1 - rng.below(std::min(n, window))];
    }
    const std::size_t recent = std::min<std::size_t>(n, 32);
    const std::size_t i = rng.chance(850) ? n - 1 - rng.below(recent) : rng.below(n);
    return list[i];
  }
  // The order at the stock's best price of one side, searched among its latest orders.
  std::uint32_t pick_at_touch(const StockState& st, std::uint8_t side) const {
    const std::size_t n = st.live.size();
    const std::size_t stop = n > 64 ? n - 64 : 0;
    for (std::size_t i = n; i > stop; --i) {
      const GenOrder& o = orders[st.live[i - 1]];
      if (o.side == side && o.tick == st.best[side]) return st.live[i - 1];
    }
    return kNone;
  }

  std::uint32_t random_shares() {
    const std::uint32_t r = rng.below(100);
    if (r < 85) return 100 * (1 + rng.geometric(500, 20));
    if (r < 95) return 1 + rng.below(99);  // odd lot
    return 100 * (1 + rng.below(50));
  }

  // A new order's price: mostly at or a few ticks behind its side's best, sometimes improving
  // the spread; improvements lean toward the stock's starting price so it wanders but stays in
  // its window. Returns false when no price fits (the window edge is against the other side).
  bool choose_add(const StockState& st, std::uint8_t& side, std::int32_t& tick) {
    side = static_cast<std::uint8_t>(rng.below(2));
    const std::uint8_t other = side ^ 1u;
    const std::int32_t dir = side == 0 ? -1 : 1;  // away from the touch
    if (has(st, side)) {
      const std::int32_t spread = has(st, other) ? st.best[1] - st.best[0] : 0;
      const std::int32_t lean = side == 0 ? st.center - st.mid : st.mid - st.center;
      const auto improve = static_cast<std::uint32_t>(std::clamp(120 + lean * 4, 20, 600));
      if (spread > 1 && rng.chance(improve)) {
        tick = st.best[side] - dir * static_cast<std::int32_t>(1 + rng.below(static_cast<std::uint32_t>(spread - 1)));
      } else {
        tick = st.best[side] + dir * static_cast<std::int32_t>(rng.geometric(800, 120));
      }
    } else if (has(st, other)) {
      tick = st.best[other] + dir * static_cast<std::int32_t>(1 + rng.geometric(700, 60));
    } else {
      tick = st.mid + dir * static_cast<std::int32_t>(1 + rng.geometric(700, 20));
    }
    tick = std::clamp(tick, 0, kWindow - 1);
    if (side == 0 && has(st, 1) && tick >= st.best[1]) tick = st.best[1] - 1;
    if (side == 1 && has(st, 0) && tick <= st.best[0]) tick = st.best[0] + 1;
    return tick >= 0 && tick < kWindow;
  }

  void update_mid(StockState& st) {
    if (has(st, 0) && has(st, 1)) st.mid = (st.best[0] + st.best[1]) / 2;
  }

  itch::MessageHeader head(std::uint16_t locate) const {
    itch::MessageHeader h;
    h.stock_locate = locate;
    h.tracking_number = 0;
    h.timestamp = ts;
    return h;
  }

  // ---- message producers ----------------------------------------------------------------------
  std::size_t emit_add(std::uint8_t* out, std::uint16_t s, bool mpid) {
    StockState& st = stocks[s];
    std::uint8_t side = 0;
    std::int32_t tick = 0;
    if (!choose_add(st, side, tick)) {  // pinned at the window edge: join the other side's best
      side ^= 1u;
      tick = st.best[side];
    }
    const std::uint32_t idx = new_order(s, side, tick, random_shares());
    const GenOrder& o = orders[idx];
    update_mid(st);
    const char bs = side == 0 ? 'B' : 'S';
    if (mpid) {
      static constexpr std::string_view kMpids[] = {"NITE", "GSCO", "MSCO", "JPMS", "VIRT", "CDRG"};
      return itch::encode::add_order_mpid(out, head(st.spec.locate), o.ref, bs, o.shares, st.spec.symbol,
                                          price_of(st, tick), kMpids[rng.below(std::size(kMpids))]);
    }
    return itch::encode::add_order(out, head(st.spec.locate), o.ref, bs, o.shares, st.spec.symbol, price_of(st, tick));
  }

  std::size_t emit_delete(std::uint8_t* out, std::uint32_t idx) {
    StockState& st = stocks[orders[idx].stock];
    const std::uint64_t ref = orders[idx].ref;
    drop_order(idx);
    update_mid(st);
    return itch::encode::order_delete(out, head(st.spec.locate), ref);
  }

  std::size_t emit_replace(std::uint8_t* out, std::uint32_t idx) {
    const std::uint16_t s = orders[idx].stock;
    StockState& st = stocks[s];
    const GenOrder old = orders[idx];
    drop_order(idx);
    std::int32_t tick = std::clamp(old.tick + static_cast<std::int32_t>(rng.below(5)) - 2, 0, kWindow - 1);
    if (old.side == 0 && has(st, 1) && tick >= st.best[1]) tick = st.best[1] - 1;
    if (old.side == 1 && has(st, 0) && tick <= st.best[0]) tick = st.best[0] + 1;
    if (tick < 0 || tick >= kWindow) tick = old.tick;  // the old price was valid and still is
    const std::uint32_t shares = rng.chance(400) ? old.shares : random_shares();
    const std::uint32_t n = new_order(s, old.side, tick, shares);
    update_mid(st);
    return itch::encode::order_replace(out, head(st.spec.locate), old.ref, orders[n].ref, shares, price_of(st, tick));
  }

  std::size_t emit_execute(std::uint8_t* out, std::uint16_t s, bool with_price) {
    StockState& st = stocks[s];
    std::uint8_t side = static_cast<std::uint8_t>(rng.below(2));
    std::uint32_t idx = pick_at_touch(st, side);
    if (idx == kNone) idx = pick_at_touch(st, side ^ 1u);
    if (idx == kNone) idx = pick_recent(st.live);
    GenOrder& o = orders[idx];
    const std::uint32_t shares = (o.shares < 2 || rng.chance(600)) ? o.shares : 1 + rng.below(o.shares - 1);
    const std::uint64_t ref = o.ref;
    const std::uint32_t price = price_of(st, o.tick);
    if (shares == o.shares) {
      drop_order(idx);
      update_mid(st);
    } else {
      o.shares -= shares;
    }
    ++match;
    if (with_price) {
      return itch::encode::order_executed_with_price(out, head(st.spec.locate), ref, shares, match, 'Y', price);
    }
    return itch::encode::order_executed(out, head(st.spec.locate), ref, shares, match);
  }

  std::size_t emit_cancel(std::uint8_t* out) {
    std::uint32_t idx = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
      idx = pick_recent(live_all);
      GenOrder& o = orders[idx];
      if (o.shares < 2) continue;
      const std::uint32_t n = 1 + rng.below(o.shares - 1);  // partial: a decrement that leaves some
      o.shares -= n;
      return itch::encode::order_cancel(out, head(stocks[o.stock].spec.locate), o.ref, n);
    }
    return emit_delete(out, idx);
  }

  std::uint32_t mid_price(const StockState& st) const { return price_of(st, std::clamp(st.mid, 0, kWindow - 1)); }

  std::size_t emit_trade(std::uint8_t* out, std::uint16_t s) {
    const StockState& st = stocks[s];
    std::int32_t tick = st.mid;
    if (has(st, 0) && has(st, 1)) tick = st.best[0] + static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(st.best[1] - st.best[0] + 1)));
    ++match;
    // 'P': reference 0 and side 'B' (spec revision log: fields zeroed since 2010 and 2014).
    return itch::encode::trade(out, head(st.spec.locate), 'B', 100 * (1 + rng.geometric(500, 30)), st.spec.symbol,
                               price_of(st, std::clamp(tick, 0, kWindow - 1)), match);
  }

  std::size_t emit_cross(std::uint8_t* out, std::uint16_t s) {
    const StockState& st = stocks[s];
    ++match;
    return itch::encode::cross_trade(out, head(st.spec.locate), 100ull * (10 + rng.below(5000)), st.spec.symbol,
                                     mid_price(st), match, ts < kMidday ? 'O' : 'C');
  }

  std::size_t emit_noii(std::uint8_t* out, std::uint16_t s) {
    const StockState& st = stocks[s];
    static constexpr char kDirections[] = {'B', 'S', 'N', 'O'};
    itch::NoiiFields f;
    f.paired_shares = 100ull * rng.below(20'000);
    f.imbalance_shares = 100ull * rng.below(2'000);
    f.imbalance_direction = kDirections[rng.below(4)];
    f.stock = st.spec.symbol;
    f.current_reference_price = mid_price(st);
    f.near_price = f.current_reference_price + kCent * rng.below(3);
    f.far_price = f.current_reference_price + kCent * rng.below(5);
    f.cross_type = ts < kMidday ? 'O' : 'C';
    f.price_variation_indicator = 'L';
    return itch::encode::noii(out, head(st.spec.locate), f);
  }

  std::size_t emit_broken(std::uint8_t* out, std::uint16_t s) {
    if (match == 0) return emit_trade(out, s);
    return itch::encode::broken_trade(out, head(stocks[s].spec.locate), 1 + rng.below(match));
  }

  std::uint16_t pick_stock() {
    const std::uint64_t r = (u128{rng.next()} * stock_cdf.back()) >> 64;
    return static_cast<std::uint16_t>(std::upper_bound(stock_cdf.begin(), stock_cdf.end(), r) - stock_cdf.begin());
  }
  Flow pick_type() {
    const std::uint64_t r = rng.below(type_cdf.back());
    return static_cast<Flow>(std::upper_bound(type_cdf.begin(), type_cdf.end(), r) - type_cdf.begin());
  }

  // Strictly increasing, spread evenly over market hours with jitter, never at or past 16:00.
  // Strictly increasing, never at or past 16:00, and bursty as a real feed is: the flow comes in
  // bursts of 50-750 messages a few microseconds apart (so an order cancelled a few dozen
  // messages after its add lives well under a millisecond, as most do on NASDAQ), and each burst
  // starts at its first message's place on an even grid over market hours, so a day of any
  // length spans the session. A burst never outruns the grid: its gaps are at most one grid step.
  void advance_flow_clock() {
    const std::uint64_t span = kEndOfMarketHours - kStartOfMarketHours;
    const std::uint64_t step = span / (flow_total + 1);
    std::uint64_t t = 0;
    if (burst_left == 0) {
      burst_left = cfg.burst_min + rng.below(cfg.burst_max - cfg.burst_min + 1);
      t = kStartOfMarketHours + static_cast<std::uint64_t>(u128{span} * (flow_done + 1) / (flow_total + 1));
    } else {
      t = ts + 1 + rng.below(std::min<std::uint64_t>(kBurstGapNs, step));
    }
    --burst_left;
    ts = std::max(ts + 1, t);
  }

  std::size_t flow(std::uint8_t* out) {
    advance_flow_clock();
    Flow type = pick_type();
    // Cancels and replaces follow the orders (most are the latest ones, whatever the stock);
    // everything else picks a stock by its activity. Executions take the stock's touch.
    std::uint16_t s = pick_stock();
    if (live_all.empty() &&
        (type == Flow::kU || type == Flow::kD || type == Flow::kE || type == Flow::kX || type == Flow::kC)) {
      type = Flow::kA;
    }
    if ((type == Flow::kE || type == Flow::kC) && stocks[s].live.empty()) s = orders[pick_recent(live_all)].stock;
    switch (type) {
      case Flow::kA: return emit_add(out, s, false);
      case Flow::kF: return emit_add(out, s, true);
      case Flow::kU: return emit_replace(out, pick_recent(live_all));
      case Flow::kD: return emit_delete(out, pick_recent(live_all));
      case Flow::kE: return emit_execute(out, s, false);
      case Flow::kC: return emit_execute(out, s, true);
      case Flow::kX: return emit_cancel(out);
      case Flow::kP: return emit_trade(out, s);
      case Flow::kQ: return emit_cross(out, s);
      case Flow::kI: return emit_noii(out, s);
      case Flow::kB: return emit_broken(out, s);
      case Flow::kCount: break;
    }
    return emit_add(out, s, false);
  }

  std::size_t header(std::uint8_t* out) {
    const std::uint64_t k = cfg.stocks;
    const std::uint64_t i = header_done++;
    if (i == 0) {
      ts = kStartOfMessages;
      return itch::encode::system_event(out, head(0), 'O');
    }
    if (i <= k) {
      ts = kStartOfMessages + i * 1000;
      const StockState& st = stocks[i - 1];
      itch::StockDirectoryFields f;
      f.stock = st.spec.symbol;
      f.market_category = st.spec.market_category;
      f.financial_status_indicator = st.spec.market_category == 'Q' || st.spec.market_category == 'G' ||
                                             st.spec.market_category == 'S'
                                         ? 'N'
                                         : ' ';
      f.round_lot_size = 100;
      return itch::encode::stock_directory(out, head(st.spec.locate), f);
    }
    if (i == k + 1) {
      ts = kStartOfSystemHours;
      return itch::encode::system_event(out, head(0), 'S');
    }
    if (i <= 2 * k + 1) {
      ts = kStartOfSystemHours + (i - k - 1) * 1000;
      const StockState& st = stocks[i - k - 2];
      return itch::encode::stock_trading_action(out, head(st.spec.locate), st.spec.symbol, 'T', "");
    }
    ts = kStartOfMarketHours;
    return itch::encode::system_event(out, head(0), 'Q');
  }

  std::size_t trailer(std::uint8_t* out) {
    static constexpr std::uint64_t kTimes[] = {kEndOfMarketHours, kEndOfSystemHours, kEndOfMessages};
    static constexpr char kCodes[] = {'M', 'E', 'C'};
    const std::uint64_t i = trailer_done++;
    ts = kTimes[i];
    return itch::encode::system_event(out, head(0), kCodes[i]);
  }

  std::size_t next(std::uint8_t* out) {
    std::size_t len = 0;
    if (header_done < 2ull * cfg.stocks + 3) {
      len = header(out);
    } else if (flow_done < flow_total) {
      len = flow(out);
      ++flow_done;
    } else if (trailer_done < 3) {
      len = trailer(out);
    } else {
      return 0;
    }
    ++produced;
    ++by_type[out[0]];
    return len;
  }
};

DayGenerator::DayGenerator(const DayConfig& config) : impl_(std::make_unique<Impl>(config)) {}
DayGenerator::~DayGenerator() = default;
std::size_t DayGenerator::next(std::uint8_t* out) { return impl_->next(out); }
std::uint64_t DayGenerator::produced() const noexcept { return impl_->produced; }
const std::array<std::uint64_t, 256>& DayGenerator::counts() const noexcept { return impl_->by_type; }
std::span<const StockSpec> DayGenerator::stocks() const noexcept { return impl_->specs; }
std::uint64_t DayGenerator::live_orders() const noexcept { return impl_->live; }
std::uint64_t DayGenerator::peak_live_orders() const noexcept { return impl_->peak_live; }
std::uint64_t DayGenerator::max_order_ref() const noexcept { return impl_->max_ref; }
const DayConfig& DayGenerator::config() const noexcept { return impl_->cfg; }

std::vector<std::uint8_t> generate_binaryfile(const DayConfig& config, DaySummary* summary) {
  DayGenerator gen(config);
  std::vector<std::uint8_t> out;
  out.reserve(config.messages * 34);  // the snippet's mix averages about 33 bytes a block
  gen.run([&](const std::uint8_t* msg, std::size_t len) {
    const std::size_t at = out.size();
    out.resize(at + 2 + len);
    wire::store_be16(out.data() + at, static_cast<std::uint16_t>(len));
    std::memcpy(out.data() + at + 2, msg, len);
  });
  if (summary != nullptr) {
    summary->messages = gen.produced();
    summary->bytes = out.size();
    summary->counts = gen.counts();
    summary->peak_live_orders = gen.peak_live_orders();
    summary->end_live_orders = gen.live_orders();
    summary->max_order_ref = gen.max_order_ref();
  }
  return out;
}

namespace {

class FileWriter {
 public:
  explicit FileWriter(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), path + ": cannot create");
    buf_.resize(kBuffer);
  }
  ~FileWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void put(const std::uint8_t* msg, std::size_t len) {
    if (used_ + 2 + len > buf_.size()) flush();
    wire::store_be16(buf_.data() + used_, static_cast<std::uint16_t>(len));
    std::memcpy(buf_.data() + used_ + 2, msg, len);
    used_ += 2 + len;
    bytes_ += 2 + len;
  }
  void flush() {
    std::size_t off = 0;
    while (off < used_) {
      const ssize_t n = ::write(fd_, buf_.data() + off, used_ - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), path_ + ": write failed");
      }
      off += static_cast<std::size_t>(n);
    }
    used_ = 0;
  }
  void close() {
    flush();
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw std::system_error(errno, std::generic_category(), path_ + ": close failed");
  }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  static constexpr std::size_t kBuffer = 1u << 20;
  std::string path_;
  int fd_ = -1;
  std::vector<std::uint8_t> buf_;
  std::size_t used_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace

DaySummary write_binaryfile(const DayConfig& config, const std::string& path) {
  DayGenerator gen(config);  // validates before the file is created
  FileWriter w(path);
  gen.run([&](const std::uint8_t* msg, std::size_t len) { w.put(msg, len); });
  w.close();
  DaySummary s;
  s.messages = gen.produced();
  s.bytes = w.bytes();
  s.counts = gen.counts();
  s.peak_live_orders = gen.peak_live_orders();
  s.end_live_orders = gen.live_orders();
  s.max_order_ref = gen.max_order_ref();
  return s;
}

std::string describe_mix(const std::array<std::uint64_t, 256>& counts) {
  std::uint64_t total = 0;
  std::vector<std::pair<std::uint64_t, char>> types;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    if (counts[t] == 0) continue;
    total += counts[t];
    types.emplace_back(counts[t], static_cast<char>(t));
  }
  std::sort(types.begin(), types.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::string out;
  for (const auto& [n, t] : types) {
    out += fmt::format("{}{} {:.2f}%", out.empty() ? "" : " ", t, 100.0 * static_cast<double>(n) / static_cast<double>(total));
  }
  return out;
}

}  // namespace hft::sim
