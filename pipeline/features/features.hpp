#pragma once
// Microstructure features computed incrementally on the order-by-order book (docs/features.md).
//
// One FeatureEngine holds the state of up to `symbols` stocks, every array allocated by the
// constructor: update() and values() allocate nothing, take no lock and throw nothing. The caller
// applies each ITCH message to its book, then hands the engine the L3 event (what the message did
// to which resting order: book/events of pipeline/book) and the best levels after it (Depth). The
// engine keeps, per stock: the previous depth (order-flow imbalance), flow sums since the last
// row (consume()), the series of mid changes (volatility, motion, technical indicators,
// fractional differentiation) and the series of executions (Hawkes intensities, Kyle's lambda,
// Amihud, fractional volume).
//
// Values never hold NaN or infinity: every feature has an explicit has-value bit, clear while it
// warms up or when its formula is undefined (an empty side, a zero denominator). Rolling sums of
// doubles are kept as 128-bit fixed-point integers (each term rounded once, on entry), so a
// window that slides for a whole day carries no accumulated rounding; sums of prices and sizes
// are exact integers.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hft::features {

__extension__ using i128 = __int128;  // rolling sums (exact integers and fixed point)

// Column order of the dump: the 26 of the seed set first, in the order, then the rest.
enum class Feature : std::uint8_t {
  kMid,
  kMicroPrice,
  kWeightedMid,
  kOfi1,
  kOfi2,
  kOfi3,
  kOfi5,
  kImbalance,
  kWeightedImbalance,
  kBookPressure,
  kSpread,
  kRelativeSpread,
  kRealizedVol,
  kVelocity,
  kAcceleration,
  kHawkesBuy,
  kHawkesSell,
  kHawkesRatio,
  kHawkesExcitation,
  kKyleLambda,
  kAmihud,
  kFracPrice,
  kFracVolume,
  kRsi,
  kMacdSignal,
  kBollingerPosition,
  // beyond the seed set
  kOfiLimit,
  kOfiCancel,
  kOfiTrade,
  kEffectiveSpread,
  kEntropy,
  kMicroPriceDepth,
  kMicroPriceAdjusted,
  kOfiIntegrated,
  kRollSpread,
  kEmd,
  kVwapBuy,
  kVwapSell,
  kSlippageBuy,
  kSlippageSell,
  kRealizedSpread,
  kHurst,
  kMicroPriceStoikov,
  kCount
};
inline constexpr std::size_t kFeatureCount = static_cast<std::size_t>(Feature::kCount);
inline constexpr std::size_t kSeedCount = 26;

// Column names, indexed by Feature.
[[nodiscard]] std::string_view feature_name(Feature f) noexcept;
[[nodiscard]] std::optional<Feature> feature_by_name(std::string_view name) noexcept;

// A set of features: bit i = Feature i.
using FeatureMask = std::uint64_t;
[[nodiscard]] constexpr FeatureMask bit(Feature f) noexcept { return FeatureMask{1} << static_cast<unsigned>(f); }
inline constexpr FeatureMask kSeedSet = (FeatureMask{1} << kSeedCount) - 1;
inline constexpr FeatureMask kAllSet = (FeatureMask{1} << kFeatureCount) - 1;
// "seed", "all", or comma-separated names; throws std::invalid_argument naming an unknown one.
[[nodiscard]] FeatureMask parse_set(std::string_view text);

struct Depth;

// Stoikov's micro-price adjustment table, fitted offline (fit.hpp: StoikovFitter), looked up online.
struct StoikovTable {
  std::uint32_t imbalance_buckets = 0;  // 0: no table
  std::uint32_t spread_buckets = 0;
  std::uint32_t tick = 100;             // price units (1/10,000 $) per tick
  std::vector<double> adjustment;       // $, [ (spread ticks - 1) * imbalance_buckets + bucket ]

  [[nodiscard]] bool empty() const noexcept { return imbalance_buckets == 0; }
  // The adjustment ($) for a depth: empty without a table, unless both sides have a price and
  // shares, or when the spread is not a whole number of ticks in 1..spread_buckets.
  [[nodiscard]] std::optional<double> lookup(const Depth& d) const noexcept;
  // Text form: "stoikov_table v1 <imbalance_buckets> <spread_buckets> <tick>" then one line per
  // spread of imbalance_buckets adjustments. parse() throws std::invalid_argument naming the problem.
  [[nodiscard]] std::string to_text() const;
  [[nodiscard]] static StoikovTable parse(std::string_view text);
  [[nodiscard]] static StoikovTable load(const std::string& path);  // throws std::invalid_argument
};

// Parameters (defaults documented in docs/features.md). Windows count observations of the
// series named; times are ITCH ns, rates per second.
struct Params {
  std::uint32_t levels = 5;            // N for weighted_mid, weighted_imbalance, book_pressure, entropy (1..10)
  double imbalance_decay = 0.5;        // weighted_imbalance: level i (0 = best) weighs exp(-decay * i)
  std::uint32_t tick = 100;            // book_pressure: price units (1/10,000 $) per tick
  std::uint32_t vol_window = 100;      // realized_vol: log mid returns
  std::uint32_t step = 1;              // velocity, acceleration: mid changes per step
  double hawkes_mu = 0.1;              // baseline intensity, 1/s
  double hawkes_alpha = 0.5;           // jump of intensity per trade, 1/s
  double hawkes_beta = 1.0;            // decay rate, 1/s
  bool hawkes_power = false;           // hawkes_kernel=power: the power-law kernel (hawkes.hpp) of branching
  double hawkes_theta = 0.5;           //   ratio alpha/beta, exponent theta and timescale hawkes_tau0 (s),
  double hawkes_tau0 = 1e-3;           //   as a sum of 24 exponentials; hawkes_kernel=exp (default): alpha e^{-beta t}
  std::uint32_t kyle_window = 50;      // executions
  std::uint32_t amihud_window = 50;    // executions
  double frac_d = 0.4;                 // fractional differentiation order
  double frac_threshold = 1e-5;        // weights kept while |w_k| >= threshold
  std::uint32_t rsi_period = 14;
  std::uint32_t macd_fast = 12, macd_slow = 26, macd_signal = 9;
  std::uint32_t bollinger_window = 20;
  double mp_adjust = 0.1;              // micro_price_adjusted: MP + mp_adjust * spread * sign(imbalance)
  std::array<double, 5> ofi_weights{0.2, 0.2, 0.2, 0.2, 0.2};  // ofi_integrated: weight of levels 1..5
  std::uint32_t roll_window = 50;      // roll_spread: pairs of successive execution price changes
  std::uint32_t vwap_shares = 1000;    // vwap_buy/sell, slippage_*_bps: the order walked through the book
  std::uint64_t realized_delta_ns = 1'000'000'000;  // realized_spread: the mid this long after the execution
  std::uint32_t hurst_window = 128;    // hurst: log mid returns in the rescaled-range estimate
  std::uint32_t hurst_every = 32;      // hurst: recomputed every this many mid changes
  StoikovTable stoikov;                // micro_price_stoikov (set with stoikov_table=FILE); empty: no value
  std::uint32_t stoikov_buckets = 10;  // --fit-microprice: imbalance buckets
  std::uint32_t stoikov_spreads = 2;   // --fit-microprice: spreads of 1..this many ticks
  std::uint64_t ofi_fit_interval_ns = 1'000'000'000;  // --fit-ofi: the OFI vectors' interval

  // name=value (the names of the fields above); throws std::invalid_argument on an unknown name
  // or a value out of range, and then leaves the parameters unchanged.
  void set(std::string_view name_equals_value);
  void validate() const;  // throws std::invalid_argument

 private:
  void set_unchecked(std::string_view name_equals_value);

 public:
};

// Fractional-differentiation weights w_0 = 1, w_k = -w_{k-1} (d - k + 1) / k, while |w_k| >= threshold.
[[nodiscard]] std::vector<double> frac_weights(double d, double threshold);

inline constexpr std::uint32_t kMaxLevels = 10;

// The best levels of both sides after a message, best first; price 0 / shares 0 past the last level.
struct Depth {
  std::array<std::uint32_t, kMaxLevels> bid_px{}, ask_px{};
  std::array<std::int64_t, kMaxLevels> bid_sz{}, ask_sz{};
  [[nodiscard]] bool two_sided() const noexcept { return bid_px[0] != 0 && ask_px[0] != 0; }
  friend bool operator==(const Depth&, const Depth&) = default;
};

// Formulas on one book, shared by the engine's columns and by strategies that price off a book of
// their own (the market maker prices off the book less its own quotes). Allocation-free.
//
// micro_price: (b Q_a + a Q_b) / (Q_b + Q_a) in $, empty unless both sides have a price and shares.
[[nodiscard]] inline std::optional<double> micro_price(const Depth& d) noexcept {
  const double bq = double(d.bid_sz[0]), aq = double(d.ask_sz[0]);
  if (!d.two_sided() || bq + aq <= 0) return std::nullopt;
  return (double(d.bid_px[0]) * aq + double(d.ask_px[0]) * bq) / (bq + aq) / 1e4;
}
// imbalance: (Q_b - Q_a) / (Q_b + Q_a) at level 1, empty when both are 0.
[[nodiscard]] inline std::optional<double> imbalance(const Depth& d) noexcept {
  const double bq = double(d.bid_sz[0]), aq = double(d.ask_sz[0]);
  if (bq + aq <= 0) return std::nullopt;
  return (bq - aq) / (bq + aq);
}
// Cont, Kukanov & Stoikov's e at level i (0 = best) between two depths, in shares:
// q_b 1{P_b >= P_b'} - q_b' 1{P_b <= P_b'} - q_a 1{P_a <= P_a'} + q_a' 1{P_a >= P_a'} (' = before;
// an empty ask level sits at +infinity, an empty bid level at 0).
[[nodiscard]] inline std::int64_t ofi_level(const Depth& before, const Depth& after, std::uint32_t i) noexcept {
  const std::uint64_t pb = after.bid_px[i], pb0 = before.bid_px[i];
  const std::uint64_t pa = after.ask_px[i] == 0 ? ~std::uint64_t{0} : after.ask_px[i];
  const std::uint64_t pa0 = before.ask_px[i] == 0 ? ~std::uint64_t{0} : before.ask_px[i];
  return (pb >= pb0 ? after.bid_sz[i] : 0) - (pb <= pb0 ? before.bid_sz[i] : 0) - (pa <= pa0 ? after.ask_sz[i] : 0) +
         (pa >= pa0 ? before.ask_sz[i] : 0);
}
// OFI summed over levels 1..n (n <= kMaxLevels).
[[nodiscard]] inline std::int64_t ofi(const Depth& before, const Depth& after, std::uint32_t n) noexcept {
  std::int64_t sum = 0;
  for (std::uint32_t i = 0; i < n && i < kMaxLevels; ++i) sum += ofi_level(before, after, i);
  return sum;
}

// The average price ($) of `shares` bought (side 0: walking the asks) or sold (side 1: the bids)
// against the displayed levels of `d`, best first; empty when they hold fewer shares.
[[nodiscard]] inline std::optional<double> vwap_to_fill(const Depth& d, int side, std::uint64_t shares) noexcept {
  if (shares == 0) return std::nullopt;
  const auto& px = side == 0 ? d.ask_px : d.bid_px;
  const auto& sz = side == 0 ? d.ask_sz : d.bid_sz;
  std::uint64_t left = shares;
  i128 notional = 0;
  for (std::uint32_t i = 0; i < kMaxLevels && left > 0 && px[i] != 0; ++i) {
    if (sz[i] <= 0) continue;
    const std::uint64_t take = std::min<std::uint64_t>(left, static_cast<std::uint64_t>(sz[i]));
    notional += static_cast<i128>(px[i]) * static_cast<i128>(take);
    left -= take;
  }
  if (left != 0) return std::nullopt;
  return static_cast<double>(notional) / static_cast<double>(shares) / 1e4;
}

// What one ITCH message did to the book of its stock.
enum class EventKind : std::uint8_t {
  kAdd,      // A, F: `shares` added at `price` on `side`
  kCancel,   // X: `shares` taken off a resting order of `side`
  kDelete,   // D: the order's remaining `shares` removed
  kExecute,  // E, C: `shares` of a resting order of `side` executed at `price` (aggressor: the other side)
  kReplace,  // U: `shares` (the old order's remaining) removed, `new_shares` added at `price` on `side`
  kOther,    // anything else that changed the book (a trading state)
};

struct Event {
  std::uint64_t timestamp = 0;  // ITCH ns since midnight
  EventKind kind = EventKind::kOther;
  std::uint8_t side = 0;        // 0 bid, 1 ask: the side of the resting order
  std::uint32_t shares = 0;
  std::uint32_t price = 0;
  std::uint32_t new_shares = 0;
};

// The features of one stock. get() is empty while a feature warms up or is undefined.
struct Values {
  std::array<double, kFeatureCount> v{};
  FeatureMask has = 0;
  [[nodiscard]] bool has_value(Feature f) const noexcept { return (has & bit(f)) != 0; }
  [[nodiscard]] std::optional<double> get(Feature f) const noexcept {
    if (!has_value(f)) return std::nullopt;
    return v[static_cast<std::size_t>(f)];
  }
  void set(Feature f, double x) noexcept {
    v[static_cast<std::size_t>(f)] = x;
    has |= bit(f);
  }
};

struct EngineStats {
  std::uint64_t updates = 0;
  std::uint64_t no_slot = 0;      // updates of a stock beyond the `symbols` the engine was sized for
  std::uint64_t realized_dropped = 0;  // executions whose realized spread was not waited for (more than
                                       // kRealizedPending within realized_delta_ns of one stock)
  std::uint64_t bad_locate = 0;   // locate above max_locate
};

class FeatureEngine {
 public:
  // State for up to `symbols` distinct stocks (slots handed out on a stock's first update) among
  // locates 1..max_locate. Throws std::invalid_argument on bad parameters.
  FeatureEngine(const Params& params, FeatureMask wanted, std::uint32_t max_locate, std::uint32_t symbols);
  ~FeatureEngine();
  FeatureEngine(const FeatureEngine&) = delete;
  FeatureEngine& operator=(const FeatureEngine&) = delete;

  // Hot path: one call per book-changing message of `locate`, with the depth after it.
  void update(std::uint16_t locate, const Event& e, const Depth& after) noexcept;
  // The features of `locate` now (all empty for a stock never updated).
  void values(std::uint16_t locate, Values& out) const noexcept { values(locate, out, kAllSet); }
  // Only the features of `only` (and wanted); the others' has-value bits are clear. A caller that
  // keeps the values it already has (the dump reuses cells whose source is unchanged) computes less.
  void values(std::uint16_t locate, Values& out, FeatureMask only) const noexcept;
  // Forgets every stock (a new feed session); allocates nothing.
  void reset() noexcept;
  // Starts a new row: the flow sums (ofi_*, effective_spread) restart from zero.
  void consume(std::uint16_t locate) noexcept;

  [[nodiscard]] FeatureMask wanted() const noexcept { return wanted_; }
  [[nodiscard]] const Params& params() const noexcept { return params_; }
  [[nodiscard]] const EngineStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t frac_width() const noexcept { return frac_w_.size(); }
  // The depth last given for `locate` (nullptr if never updated).
  [[nodiscard]] const Depth* depth(std::uint16_t locate) const noexcept;
  // Executed shares and notional (1/10,000 $ x shares) seen for `locate` (the samplers' bars).
  [[nodiscard]] std::uint64_t executed_shares(std::uint16_t locate) const noexcept;
  [[nodiscard]] double executed_dollars(std::uint16_t locate) const noexcept;
  // Change counters of `locate` (all 0 if never updated): the depth (bumped when an update's depth
  // differs from the last), the mid-change series and the execution series. A feature computed
  // from one of them alone keeps its value while its counter stays (the dump reuses its text).
  struct Versions {
    std::uint64_t depth = 0, mids = 0, executions = 0;
  };
  [[nodiscard]] Versions versions(std::uint16_t locate) const noexcept;

  struct State;  // per stock (features.cpp)

 private:
  void push_mid(State& s, std::int64_t mid2) noexcept;
  void push_trade(State& s, const Event& e, const Depth& before, const Depth& after) noexcept;

  Params params_;
  FeatureMask wanted_;
  std::uint32_t max_locate_;
  std::uint32_t capacity_;
  std::uint32_t used_ = 0;
  std::vector<std::uint32_t> slot_of_;  // by locate; 0 = none, else slot + 1
  std::vector<State> states_;
  // Rings, `capacity_` of each, one after the other.
  std::uint32_t mid_cap_ = 0, vol_cap_ = 0, kyle_cap_ = 0, amihud_cap_ = 0;
  std::vector<std::int64_t> mid_ring_;     // mid x 2 (bid + ask, price units), mid_cap_ per stock
  std::vector<std::int64_t> volume_ring_;  // cumulative executed shares at each execution, mid_cap_ per stock
  std::vector<i128> vol_ring_;         // fixed-point squared log returns, vol_cap_ per stock
  std::vector<std::int64_t> kyle_ring_;    // (signed shares, mid x 2 change) pairs, 2 x kyle_cap_ per stock
  std::vector<i128> amihud_ring_;      // fixed-point |return| / dollar volume, amihud_cap_ per stock
  std::uint32_t roll_cap_ = 0;
  void resolve_realized(State& s, std::uint64_t now) noexcept;
  std::vector<std::uint64_t> realized_ring_;  // (time, price | aggressor << 32) pairs, kRealizedPending per stock
  std::vector<double> hurst_buf_;             // hurst_window returns (scratch)
  std::vector<std::int64_t> roll_ring_;    // (price change, the one before) pairs, 2 x roll_cap_ per stock
  std::vector<double> frac_w_;
  std::array<double, kMaxLevels> level_w_{};  // exp(-decay * i)
  // hawkes_power: the kernel's terms, and per stock their sums for buys then sells (2 x terms)
  std::vector<double> hk_weight_, hk_rate_per_ns_, hk_sums_;
  double hawkes_decay_per_ns_ = 0;
  EngineStats stats_;
};

// Earth mover's distance ($) between the share profiles over price of the top `levels` levels (both
// sides) of two books, each normalized to unit mass: the integral of |F_p - F_q| over price, O(levels).
// Empty when either book has no shares there.
[[nodiscard]] std::optional<double> emd(const Depth& p, const Depth& q, std::uint32_t levels) noexcept;

// Rescaled-range (Hurst 1951; Mandelbrot & Wallis 1969) estimate of the Hurst exponent of the
// `n` values r: for chunk sizes s = n, n/2, n/4, ... >= 8, the mean of R/S over the n/s chunks
// ending at the newest value (R the range of the cumulative deviations from the chunk's mean, S
// its population standard deviation; chunks with S = 0 skipped); H = the least-squares slope of
// ln(R/S) on ln(s). Empty with fewer than two sizes. O(n log n), no allocation.
[[nodiscard]] std::optional<double> hurst_rs(const double* r, std::size_t n) noexcept;
inline constexpr std::uint32_t kRealizedPending = 256;

// Fixed point used for rolling sums of doubles: x -> round(x * 2^kFixedBits).
inline constexpr int kFixedBits = 90;

}  // namespace hft::features
