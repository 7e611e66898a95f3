#include "pipeline/features/features.hpp"

#include "pipeline/features/hawkes.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace hft::features {

namespace {

constexpr std::array<std::string_view, kFeatureCount> kNames = {
    "mid",          "micro_price", "weighted_mid",  "ofi_1",      "ofi_2",           "ofi_3",
    "ofi_5",        "imbalance",   "weighted_imbalance", "book_pressure", "spread",   "relative_spread",
    "realized_vol", "velocity",    "acceleration",  "hawkes_buy", "hawkes_sell",     "hawkes_ratio",
    "hawkes_excitation", "kyle_lambda", "amihud",   "frac_price", "frac_volume",     "rsi",
    "macd_signal",  "bollinger_position", "ofi_limit", "ofi_cancel", "ofi_trade",  "effective_spread",
    "entropy",      "micro_price_depth", "micro_price_adjusted", "ofi_integrated", "roll_spread", "emd",
    "vwap_buy",     "vwap_sell",   "slippage_buy_bps", "slippage_sell_bps", "realized_spread", "hurst",
    "micro_price_stoikov",
};

constexpr double kMid2PerDollar = 2e4;  // mid x 2 in price units per $ (division: exact decimals print short)
constexpr double kFixedScale = 1237940039285380274899124224.0;  // 2^90
constexpr double kFixedInv = 1.0 / kFixedScale;
static_assert(kFixedBits == 90);

i128 to_fixed(double x) noexcept { return static_cast<i128>(x * kFixedScale); }
double from_fixed(i128 x) noexcept { return static_cast<double>(x) * kFixedInv; }

std::uint32_t pow2_at_least(std::uint64_t n) noexcept {
  return static_cast<std::uint32_t>(std::bit_ceil(std::max<std::uint64_t>(n, 2)));
}

constexpr FeatureMask kOfiMask = bit(Feature::kOfi1) | bit(Feature::kOfi2) | bit(Feature::kOfi3) | bit(Feature::kOfi5) |
                                 bit(Feature::kOfiIntegrated);
constexpr FeatureMask kL3Mask = bit(Feature::kOfiLimit) | bit(Feature::kOfiCancel) | bit(Feature::kOfiTrade);
constexpr FeatureMask kMidSeriesMask = bit(Feature::kHurst) | bit(Feature::kRealizedVol) | bit(Feature::kVelocity) |
                                       bit(Feature::kAcceleration) | bit(Feature::kFracPrice) | bit(Feature::kRsi) |
                                       bit(Feature::kMacdSignal) | bit(Feature::kBollingerPosition);
constexpr FeatureMask kTradeMask = bit(Feature::kHawkesBuy) | bit(Feature::kHawkesSell) | bit(Feature::kHawkesRatio) |
                                   bit(Feature::kKyleLambda) | bit(Feature::kAmihud) | bit(Feature::kFracVolume) |
                                   bit(Feature::kEffectiveSpread) | bit(Feature::kRollSpread);

}  // namespace

std::string_view feature_name(Feature f) noexcept {
  const auto i = static_cast<std::size_t>(f);
  return i < kFeatureCount ? kNames[i] : std::string_view{};
}

std::optional<Feature> feature_by_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kFeatureCount; ++i)
    if (kNames[i] == name) return static_cast<Feature>(i);
  return std::nullopt;
}

FeatureMask parse_set(std::string_view text) {
  if (text == "seed") return kSeedSet;
  if (text == "all") return kAllSet;
  FeatureMask m = 0;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    const auto f = feature_by_name(name);
    if (!f) throw std::invalid_argument("unknown feature '" + std::string(name) + "'");
    m |= bit(*f);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (m == 0) throw std::invalid_argument("empty feature set");
  return m;
}

void Params::set(std::string_view nv) {
  // All or nothing: a rejected value leaves the parameters as they were.
  Params before = *this;
  try {
    set_unchecked(nv);
    validate();
  } catch (...) {
    *this = std::move(before);
    throw;
  }
}

void Params::set_unchecked(std::string_view nv) {
  const std::size_t eq = nv.find('=');
  if (eq == std::string_view::npos) throw std::invalid_argument("--param wants name=value, got '" + std::string(nv) + "'");
  const std::string_view name = nv.substr(0, eq);
  const std::string value(nv.substr(eq + 1));
  auto as_double = [&]() {
    double v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size() || !std::isfinite(v))
      throw std::invalid_argument("parameter " + std::string(name) + ": '" + value + "' is not a number");
    return v;
  };
  auto as_uint = [&]() {
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size())
      throw std::invalid_argument("parameter " + std::string(name) + ": '" + value + "' is not a whole number");
    return v;
  };
  if (name == "levels") levels = as_uint();
  else if (name == "imbalance_decay") imbalance_decay = as_double();
  else if (name == "tick") tick = as_uint();
  else if (name == "vol_window") vol_window = as_uint();
  else if (name == "step") step = as_uint();
  else if (name == "hawkes_mu") hawkes_mu = as_double();
  else if (name == "hawkes_alpha") hawkes_alpha = as_double();
  else if (name == "hawkes_beta") hawkes_beta = as_double();
  else if (name == "kyle_window") kyle_window = as_uint();
  else if (name == "amihud_window") amihud_window = as_uint();
  else if (name == "frac_d") frac_d = as_double();
  else if (name == "frac_threshold") frac_threshold = as_double();
  else if (name == "rsi_period") rsi_period = as_uint();
  else if (name == "macd_fast") macd_fast = as_uint();
  else if (name == "macd_slow") macd_slow = as_uint();
  else if (name == "macd_signal") macd_signal = as_uint();
  else if (name == "bollinger_window") bollinger_window = as_uint();
  else if (name == "mp_adjust") mp_adjust = as_double();
  else if (name == "roll_window") roll_window = as_uint();
  else if (name == "vwap_shares") vwap_shares = as_uint();
  else if (name == "realized_delta_ns") {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size())
      throw std::invalid_argument("parameter realized_delta_ns: '" + value + "' is not a whole number");
    realized_delta_ns = v;
  } else if (name == "hurst_window") hurst_window = as_uint();
  else if (name == "hurst_every") hurst_every = as_uint();
  else if (name == "hawkes_kernel") {
    if (value != "exp" && value != "power") throw std::invalid_argument("parameter hawkes_kernel: exp or power, got '" + value + "'");
    hawkes_power = value == "power";
  } else if (name == "hawkes_theta") hawkes_theta = as_double();
  else if (name == "hawkes_tau0") hawkes_tau0 = as_double();
  else if (name == "stoikov_table") stoikov = StoikovTable::load(value);
  else if (name == "stoikov_buckets") stoikov_buckets = as_uint();
  else if (name == "stoikov_spreads") stoikov_spreads = as_uint();
  else if (name == "ofi_fit_interval_ns") {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size())
      throw std::invalid_argument("parameter ofi_fit_interval_ns: '" + value + "' is not a whole number");
    ofi_fit_interval_ns = v;
  } else if (name == "ofi_weights") {
    std::array<double, 5> w{};
    std::size_t n = 0;
    for (std::string_view rest = value; n <= 5;) {
      const std::size_t sep = rest.find_first_of(",/");
      const std::string item(rest.substr(0, sep));
      double v = 0;
      const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || p != item.data() + item.size() || !std::isfinite(v) || n == 5)
        throw std::invalid_argument("parameter ofi_weights: want 5 numbers separated by ',' or '/', got '" + value + "'");
      w[n++] = v;
      if (sep == std::string_view::npos) break;
      rest.remove_prefix(sep + 1);
    }
    if (n != 5) throw std::invalid_argument("parameter ofi_weights: want 5 numbers, got '" + value + "'");
    ofi_weights = w;
  }
  else throw std::invalid_argument("unknown parameter '" + std::string(name) + "'");
}

void Params::validate() const {
  auto fail = [](const char* what) { throw std::invalid_argument(what); };
  if (levels < 1 || levels > kMaxLevels) fail("levels must be 1..10");
  if (!(imbalance_decay >= 0 && imbalance_decay <= 50)) fail("imbalance_decay must be 0..50");
  if (tick < 1) fail("tick must be >= 1");
  constexpr std::uint32_t kMaxWindow = 100'000;
  if (vol_window < 1 || vol_window > kMaxWindow) fail("vol_window must be 1..100000");
  if (step < 1 || step > 10'000) fail("step must be 1..10000");
  if (!(hawkes_mu >= 0) || !(hawkes_alpha >= 0) || !(hawkes_beta > 0)) fail("hawkes: mu, alpha >= 0 and beta > 0");
  if (kyle_window < 2 || kyle_window > kMaxWindow) fail("kyle_window must be 2..100000");
  if (amihud_window < 1 || amihud_window > kMaxWindow) fail("amihud_window must be 1..100000");
  if (!(frac_d > 0 && frac_d < 1)) fail("frac_d must be in (0, 1)");
  if (!(frac_threshold >= 1e-8 && frac_threshold < 1)) fail("frac_threshold must be in [1e-8, 1)");
  if (rsi_period < 1 || rsi_period > kMaxWindow) fail("rsi_period must be 1..100000");
  if (macd_fast < 1 || macd_slow < 1 || macd_signal < 1 || macd_fast > kMaxWindow || macd_slow > kMaxWindow ||
      macd_signal > kMaxWindow)
    fail("macd periods must be 1..100000");
  if (bollinger_window < 2 || bollinger_window > kMaxWindow) fail("bollinger_window must be 2..100000");
  if (!(mp_adjust >= 0 && mp_adjust <= 1)) fail("mp_adjust must be 0..1");
  if (roll_window < 2 || roll_window > kMaxWindow) fail("roll_window must be 2..100000");
  if (vwap_shares < 1 || vwap_shares > 100'000'000) fail("vwap_shares must be 1..100000000");
  if (realized_delta_ns < 1 || realized_delta_ns > 86'400'000'000'000ull) fail("realized_delta_ns must be 1 ns..1 day");
  if (hurst_window < 16 || hurst_window > 65536) fail("hurst_window must be 16..65536");
  if (hurst_every < 1 || hurst_every > kMaxWindow) fail("hurst_every must be 1..100000");
  for (const double x : ofi_weights)
    if (!(std::fabs(x) <= 1e6)) fail("ofi_weights must be finite, |w| <= 1e6");
  if (!(hawkes_theta > 0 && hawkes_theta <= 10) || !(hawkes_tau0 > 0 && hawkes_tau0 <= 86'400))
    fail("hawkes_theta must be in (0, 10], hawkes_tau0 in (0, 86400] s");
  if (stoikov_buckets < 2 || stoikov_buckets > 1000) fail("stoikov_buckets must be 2..1000");
  if (stoikov_spreads < 1 || stoikov_spreads > 100) fail("stoikov_spreads must be 1..100");
  if (ofi_fit_interval_ns < 1) fail("ofi_fit_interval_ns must be >= 1");
  if (!stoikov.empty() && stoikov.adjustment.size() != std::size_t{stoikov.imbalance_buckets} * stoikov.spread_buckets)
    fail("stoikov table: adjustments do not match buckets x spreads");
}

std::vector<double> frac_weights(double d, double threshold) {
  std::vector<double> w{1.0};
  for (std::size_t k = 1; k < 1'000'000; ++k) {
    const double next = -w.back() * (d - static_cast<double>(k) + 1.0) / static_cast<double>(k);
    if (std::fabs(next) < threshold) break;
    w.push_back(next);
  }
  return w;
}

std::optional<double> emd(const Depth& p, const Depth& q, std::uint32_t levels) noexcept {
  // Both profiles as (price, +mass) and (price, -mass), sorted by price; then the integral of
  // |F_p - F_q| is the sum over consecutive prices of |running mass| x the gap.
  std::array<std::pair<std::uint32_t, double>, 4 * kMaxLevels> pts{};
  std::size_t n = 0;
  double tp = 0, tq = 0;
  for (std::uint32_t i = 0; i < levels && i < kMaxLevels; ++i) {
    tp += double(p.bid_sz[i]) + double(p.ask_sz[i]);
    tq += double(q.bid_sz[i]) + double(q.ask_sz[i]);
  }
  if (!(tp > 0) || !(tq > 0)) return std::nullopt;
  for (std::uint32_t i = 0; i < levels && i < kMaxLevels; ++i) {
    if (p.bid_sz[i] > 0) pts[n++] = {p.bid_px[i], double(p.bid_sz[i]) / tp};
    if (p.ask_sz[i] > 0) pts[n++] = {p.ask_px[i], double(p.ask_sz[i]) / tp};
    if (q.bid_sz[i] > 0) pts[n++] = {q.bid_px[i], -double(q.bid_sz[i]) / tq};
    if (q.ask_sz[i] > 0) pts[n++] = {q.ask_px[i], -double(q.ask_sz[i]) / tq};
  }
  std::sort(pts.begin(), pts.begin() + static_cast<std::ptrdiff_t>(n),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double run = 0, sum = 0;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    run += pts[k].second;
    sum += std::fabs(run) * double(pts[k + 1].first - pts[k].first);
  }
  return sum / 1e4;
}

struct FeatureEngine::State {
  Depth depth;  // after the last update
  std::uint64_t depth_version = 0;  // changes of `depth`
  std::uint64_t ts = 0;
  std::uint32_t slot = 0;
  bool seen = false;
  // flows since the last row
  std::array<std::int64_t, 4> ofi{};  // levels 1, 2, 3, 5
  std::array<std::int64_t, 5> ofi_level{};  // e of each level 1..5 (ofi_integrated)
  Depth row_depth;  // the depth when the row began (emd)
  std::int64_t ofi_limit = 0, ofi_cancel = 0, ofi_trade = 0;
  double eff_spread = 0;
  bool has_eff_spread = false;
  // the series of mid changes
  std::uint64_t n_mid = 0;
  std::int64_t last_mid2 = 0;
  i128 vol_sum = 0;
  std::uint64_t n_ret = 0;
  double rsi_gain = 0, rsi_loss = 0;
  double ema_fast = 0, ema_slow = 0, ema_signal = 0;
  i128 bb_sum = 0, bb_sum2 = 0;
  double frac_price = 0;
  // the series of executions
  std::uint64_t n_exec = 0;
  std::uint64_t cum_shares = 0;
  double cum_dollars = 0;
  double frac_volume = 0;
  double hawkes_buy = 0, hawkes_sell = 0;  // sum of kernels at hawkes_t
  std::uint64_t hawkes_t = 0;
  std::int64_t trade_mid2 = 0;  // mid x 2 after the last execution (0: none, or one-sided)
  std::uint64_t n_kyle = 0;
  i128 kx = 0, ky = 0, kxy = 0, kxx = 0;
  std::uint64_t n_amihud = 0;
  i128 amihud_sum = 0;
  std::uint32_t last_exec_px = 0;  // roll_spread: price of the last execution (0: none)
  std::int64_t last_dp = 0;        // and the change before it
  std::uint64_t n_dp = 0;          // price changes seen
  std::uint64_t n_roll = 0;        // pairs pushed
  std::uint64_t real_head = 0, real_tail = 0;  // pending executions [head, tail) in the realized ring
  double realized = 0;             // the last realized spread resolved in this row
  bool has_realized = false;
  double hurst = 0;
  bool has_hurst = false;
  i128 rx = 0, ry = 0, rxy = 0;
};

FeatureEngine::FeatureEngine(const Params& params, FeatureMask wanted, std::uint32_t max_locate, std::uint32_t symbols)
    : params_(params), wanted_(wanted & kAllSet), max_locate_(max_locate), capacity_(std::max(symbols, 1u)) {
  params_.validate();
  slot_of_.assign(std::size_t{max_locate} + 1, 0);
  states_.resize(capacity_);
  frac_w_ = frac_weights(params_.frac_d, params_.frac_threshold);
  for (std::uint32_t i = 0; i < kMaxLevels; ++i) level_w_[i] = std::exp(-params_.imbalance_decay * i);
  hawkes_decay_per_ns_ = params_.hawkes_beta * 1e-9;
  if (params_.hawkes_power) {
    const auto k = hawkes::Kernel::power_law(params_.hawkes_alpha / params_.hawkes_beta, params_.hawkes_theta,
                                             params_.hawkes_tau0);
    hk_weight_ = k.weight;
    for (const double r : k.rate) hk_rate_per_ns_.push_back(r * 1e-9);
    hk_sums_.assign(2 * hk_weight_.size() * capacity_, 0.0);
  }
  if (wanted_ & kMidSeriesMask) {
    std::uint64_t need = std::uint64_t{2} * params_.step + 1;
    need = std::max<std::uint64_t>(need, std::uint64_t{params_.bollinger_window} + 1);
    need = std::max<std::uint64_t>(need, 2);
    if (wanted_ & bit(Feature::kHurst)) need = std::max<std::uint64_t>(need, std::uint64_t{params_.hurst_window} + 1);
    if (wanted_ & bit(Feature::kFracPrice)) need = std::max<std::uint64_t>(need, frac_w_.size());
    mid_cap_ = pow2_at_least(need);
    mid_ring_.assign(std::size_t{mid_cap_} * capacity_, 0);
  }
  if (wanted_ & bit(Feature::kFracVolume)) volume_ring_.assign(pow2_at_least(frac_w_.size()) * std::size_t{capacity_}, 0);
  if (wanted_ & bit(Feature::kRealizedVol)) {
    vol_cap_ = params_.vol_window;
    vol_ring_.assign(std::size_t{vol_cap_} * capacity_, 0);
  }
  if (wanted_ & bit(Feature::kKyleLambda)) {
    kyle_cap_ = params_.kyle_window;
    kyle_ring_.assign(std::size_t{kyle_cap_} * 2 * capacity_, 0);
  }
  if (wanted_ & bit(Feature::kAmihud)) {
    amihud_cap_ = params_.amihud_window;
    amihud_ring_.assign(std::size_t{amihud_cap_} * capacity_, 0);
  }
  if (wanted_ & bit(Feature::kRealizedSpread)) realized_ring_.assign(std::size_t{kRealizedPending} * 2 * capacity_, 0);
  if (wanted_ & bit(Feature::kHurst)) hurst_buf_.assign(params_.hurst_window, 0.0);
  if (wanted_ & bit(Feature::kRollSpread)) {
    roll_cap_ = params_.roll_window;
    roll_ring_.assign(std::size_t{roll_cap_} * 2 * capacity_, 0);
  }
}

FeatureEngine::~FeatureEngine() = default;

const Depth* FeatureEngine::depth(std::uint16_t locate) const noexcept {
  if (locate > max_locate_ || slot_of_[locate] == 0) return nullptr;
  return &states_[slot_of_[locate] - 1].depth;
}

std::uint64_t FeatureEngine::executed_shares(std::uint16_t locate) const noexcept {
  if (locate > max_locate_ || slot_of_[locate] == 0) return 0;
  return states_[slot_of_[locate] - 1].cum_shares;
}

void FeatureEngine::reset() noexcept {
  std::fill(slot_of_.begin(), slot_of_.end(), 0u);
  for (State& s : states_) s = State{};
  std::fill(hk_sums_.begin(), hk_sums_.end(), 0.0);
  used_ = 0;
}

double FeatureEngine::executed_dollars(std::uint16_t locate) const noexcept {
  if (locate > max_locate_ || slot_of_[locate] == 0) return 0;
  return states_[slot_of_[locate] - 1].cum_dollars;
}

void FeatureEngine::consume(std::uint16_t locate) noexcept {
  if (locate > max_locate_ || slot_of_[locate] == 0) return;
  State& s = states_[slot_of_[locate] - 1];
  s.ofi = {};
  s.ofi_level = {};
  if (wanted_ & bit(Feature::kEmd)) s.row_depth = s.depth;
  s.ofi_limit = s.ofi_cancel = s.ofi_trade = 0;
  s.has_eff_spread = false;
  s.has_realized = false;
}

void FeatureEngine::resolve_realized(State& s, std::uint64_t now) noexcept {
  // Executions older than now - delta: the mid in force delta after them is the current one.
  std::uint64_t* ring = realized_ring_.data() + std::size_t{s.slot} * 2 * kRealizedPending;
  while (s.real_head != s.real_tail) {
    const std::size_t at = 2 * (s.real_head % kRealizedPending);
    if (ring[at] + params_.realized_delta_ns >= now) break;
    if (s.depth.two_sided()) {
      const double mid = 0.5 * (double(s.depth.bid_px[0]) + double(s.depth.ask_px[0]));
      const double px = double(ring[at + 1] & 0xffffffffu);
      const double sign = (ring[at + 1] >> 32) != 0 ? 1.0 : -1.0;
      s.realized = 2.0 * sign * (px - mid) / 1e4;
      s.has_realized = true;
    }
    ++s.real_head;
  }
}

void FeatureEngine::update(std::uint16_t locate, const Event& e, const Depth& after) noexcept {
  ++stats_.updates;
  if (locate > max_locate_) [[unlikely]] {
    ++stats_.bad_locate;
    return;
  }
  std::uint32_t slot = slot_of_[locate];
  if (slot == 0) [[unlikely]] {
    if (used_ == capacity_) {
      ++stats_.no_slot;
      return;
    }
    slot = ++used_;
    slot_of_[locate] = slot;
    states_[slot - 1].slot = slot - 1;
    states_[slot - 1].seen = true;
  }
  State& s = states_[slot - 1];
  s.ts = std::max(s.ts, e.timestamp);
  if (!realized_ring_.empty()) {
    resolve_realized(s, e.timestamp);
    if (e.kind == EventKind::kExecute && e.price != 0) {
      if (s.real_tail - s.real_head == kRealizedPending) {
        ++s.real_head;  // full: the oldest is not waited for
        ++stats_.realized_dropped;
      }
      std::uint64_t* ring = realized_ring_.data() + std::size_t{s.slot} * 2 * kRealizedPending;
      const std::size_t at = 2 * (s.real_tail % kRealizedPending);
      ring[at] = e.timestamp;
      ring[at + 1] = std::uint64_t{e.price} | (std::uint64_t{e.side == 1 ? 1u : 0u} << 32);  // resting ask: buyer-initiated
      ++s.real_tail;
    }
  }

  if (wanted_ & kOfiMask) {
    // Cont, Kukanov & Stoikov (2014), per level: e = q_b 1{P_b >= P_b'} - q_b' 1{P_b <= P_b'}
    //   - q_a 1{P_a <= P_a'} + q_a' 1{P_a >= P_a'}; an empty ask level sits at +infinity.
    const Depth& b = s.depth;
    std::int64_t cum = 0;
    for (std::uint32_t i = 0; i < 5; ++i) {
      const std::int64_t e_i = ofi_level(b, after, i);
      s.ofi_level[i] += e_i;
      cum += e_i;
      if (i < 3) s.ofi[i] += cum;
    }
    s.ofi[3] += cum;
  }
  if (wanted_ & kL3Mask) {
    const std::int64_t sign = e.side == 0 ? 1 : -1;
    switch (e.kind) {
      case EventKind::kAdd: s.ofi_limit += sign * e.shares; break;
      case EventKind::kCancel:
      case EventKind::kDelete: s.ofi_cancel -= sign * e.shares; break;
      case EventKind::kExecute: s.ofi_trade -= sign * e.shares; break;
      case EventKind::kReplace:
        s.ofi_cancel -= sign * e.shares;
        s.ofi_limit += sign * e.new_shares;
        break;
      case EventKind::kOther: break;
    }
  }
  if (e.kind == EventKind::kExecute) {
    s.cum_shares += e.shares;
    s.cum_dollars += double(e.price) / 1e4 * double(e.shares);
    if (wanted_ & kTradeMask) push_trade(s, e, s.depth, after);
  }
  if ((wanted_ & kMidSeriesMask) && after.two_sided()) {
    const std::int64_t mid2 = std::int64_t{after.bid_px[0]} + after.ask_px[0];
    if (s.n_mid == 0 || mid2 != s.last_mid2) push_mid(s, mid2);
  }
  if (&after != &s.depth && !(after == s.depth)) {  // the driver passes the engine's own depth when unchanged
    s.depth = after;
    ++s.depth_version;
  }
}

FeatureEngine::Versions FeatureEngine::versions(std::uint16_t locate) const noexcept {
  if (locate > max_locate_ || slot_of_[locate] == 0) return {};
  const State& s = states_[slot_of_[locate] - 1];
  return {s.depth_version, s.n_mid, s.n_exec};
}

void FeatureEngine::push_trade(State& s, const Event& e, const Depth& before, const Depth& after) noexcept {
  // effective spread against the mid before the execution
  if (before.two_sided()) {
    const double mid = 0.5 * (double(before.bid_px[0]) + double(before.ask_px[0]));
    s.eff_spread = 2.0 * std::fabs(double(e.price) - mid) / 1e4;
    s.has_eff_spread = true;
  }
  // Hawkes: S(t) = S(t_last) exp(-beta (t - t_last)) + 1 for the aggressor's side.
  const std::uint64_t dt = e.timestamp > s.hawkes_t ? e.timestamp - s.hawkes_t : 0;
  if (s.n_exec != 0 && dt != 0) {
    const double f = std::exp(-hawkes_decay_per_ns_ * static_cast<double>(dt));
    s.hawkes_buy *= f;
    s.hawkes_sell *= f;
  }
  if (!hk_sums_.empty()) {  // the power law: each term's sum decays at its own rate
    const std::size_t terms = hk_weight_.size();
    double* sums = hk_sums_.data() + std::size_t{s.slot} * 2 * terms;
    for (std::size_t k = 0; k < terms; ++k) {
      if (s.n_exec != 0 && dt != 0) {
        const double f = std::exp(-hk_rate_per_ns_[k] * static_cast<double>(dt));
        sums[k] *= f;
        sums[terms + k] *= f;
      }
      sums[e.side == 1 ? k : terms + k] += 1.0;
    }
  }
  s.hawkes_t = std::max(s.hawkes_t, e.timestamp);
  if (e.side == 1) s.hawkes_buy += 1.0;  // a resting ask executed: buyer-initiated
  else s.hawkes_sell += 1.0;

  const std::uint32_t slot = s.slot;
  // frac_volume over the cumulative executed shares
  if (!volume_ring_.empty()) {
    const std::uint32_t cap = static_cast<std::uint32_t>(volume_ring_.size() / capacity_);
    std::int64_t* ring = volume_ring_.data() + std::size_t{slot} * cap;
    ring[s.n_exec & (cap - 1)] = static_cast<std::int64_t>(s.cum_shares);
    const std::size_t k = frac_w_.size();
    if (s.n_exec + 1 >= k) {
      double acc = 0;
      for (std::size_t j = 0; j < k; ++j) acc += frac_w_[j] * double(ring[(s.n_exec - j) & (cap - 1)]);
      s.frac_volume = acc;
    }
  }
  ++s.n_exec;

  // Kyle and Amihud: one observation per execution, against the mid after the previous one.
  const std::int64_t mid2 = after.two_sided() ? std::int64_t{after.bid_px[0]} + after.ask_px[0] : 0;
  if (mid2 != 0 && s.trade_mid2 != 0) {
    if (kyle_cap_ != 0) {
      const std::int64_t x = e.side == 1 ? std::int64_t{e.shares} : -std::int64_t{e.shares};
      const std::int64_t y = mid2 - s.trade_mid2;
      std::int64_t* ring = kyle_ring_.data() + std::size_t{slot} * 2 * kyle_cap_;
      const std::size_t at = 2 * (s.n_kyle % kyle_cap_);
      if (s.n_kyle >= kyle_cap_) {
        const i128 ox = ring[at], oy = ring[at + 1];
        s.kx -= ox;
        s.ky -= oy;
        s.kxy -= ox * oy;
        s.kxx -= ox * ox;
      }
      ring[at] = x;
      ring[at + 1] = y;
      s.kx += x;
      s.ky += y;
      s.kxy += i128{x} * y;
      s.kxx += i128{x} * x;
      ++s.n_kyle;
    }
    if (amihud_cap_ != 0 && e.shares != 0 && e.price != 0) {
      const double r = std::fabs(std::log(double(mid2) / double(s.trade_mid2)));
      const double dollar_volume = double(e.price) / 1e4 * double(e.shares);
      const i128 term = to_fixed(r / dollar_volume);
      i128* ring = amihud_ring_.data() + std::size_t{slot} * amihud_cap_;
      const std::size_t at = s.n_amihud % amihud_cap_;
      if (s.n_amihud >= amihud_cap_) s.amihud_sum -= ring[at];
      ring[at] = term;
      s.amihud_sum += term;
      ++s.n_amihud;
    }
  }
  s.trade_mid2 = mid2;

  // Roll (1984): pairs of successive execution price changes.
  if (roll_cap_ != 0 && e.price != 0) {
    if (s.last_exec_px != 0) {
      const std::int64_t dp = std::int64_t{e.price} - s.last_exec_px;
      if (s.n_dp >= 1) {
        std::int64_t* ring = roll_ring_.data() + std::size_t{slot} * 2 * roll_cap_;
        const std::size_t at = 2 * (s.n_roll % roll_cap_);
        if (s.n_roll >= roll_cap_) {
          const i128 ox = ring[at], oy = ring[at + 1];
          s.rx -= ox;
          s.ry -= oy;
          s.rxy -= ox * oy;
        }
        ring[at] = dp;
        ring[at + 1] = s.last_dp;
        s.rx += dp;
        s.ry += s.last_dp;
        s.rxy += i128{dp} * s.last_dp;
        ++s.n_roll;
      }
      s.last_dp = dp;
      ++s.n_dp;
    }
    s.last_exec_px = e.price;
  }
}

void FeatureEngine::push_mid(State& s, std::int64_t mid2) noexcept {
  const std::uint64_t n = s.n_mid;  // index of this observation
  const std::int64_t prev = s.last_mid2;
  std::int64_t* ring = mid_ring_.data() + std::size_t{s.slot} * mid_cap_;
  const std::uint64_t mask = mid_cap_ - 1;
  ring[n & mask] = mid2;
  const double x = double(mid2) / kMid2PerDollar;

  if (n >= 1) {
    if (vol_cap_ != 0) {
      const double r = std::log(double(mid2) / double(prev));
      const i128 term = to_fixed(r * r);
      i128* vr = vol_ring_.data() + std::size_t{s.slot} * vol_cap_;
      const std::size_t at = s.n_ret % vol_cap_;
      if (s.n_ret >= vol_cap_) s.vol_sum -= vr[at];
      vr[at] = term;
      s.vol_sum += term;
      ++s.n_ret;
    }
    if (wanted_ & bit(Feature::kRsi)) {
      // Wilder (1978): the first average is the mean of `period` changes, then
      // avg = (avg (period - 1) + change) / period.
      const double d = double(mid2 - prev);
      const double g = d > 0 ? d : 0, l = d < 0 ? -d : 0;
      const double p = params_.rsi_period;
      if (n <= params_.rsi_period) {
        s.rsi_gain += g;
        s.rsi_loss += l;
        if (n == params_.rsi_period) {
          s.rsi_gain /= p;
          s.rsi_loss /= p;
        }
      } else {
        s.rsi_gain = (s.rsi_gain * (p - 1) + g) / p;
        s.rsi_loss = (s.rsi_loss * (p - 1) + l) / p;
      }
    }
  }
  if (wanted_ & bit(Feature::kMacdSignal)) {
    if (n == 0) {
      s.ema_fast = s.ema_slow = x;
      s.ema_signal = 0;
    } else {
      const double af = 2.0 / (params_.macd_fast + 1.0), as = 2.0 / (params_.macd_slow + 1.0);
      const double ag = 2.0 / (params_.macd_signal + 1.0);
      s.ema_fast = af * x + (1 - af) * s.ema_fast;
      s.ema_slow = as * x + (1 - as) * s.ema_slow;
      s.ema_signal = ag * (s.ema_fast - s.ema_slow) + (1 - ag) * s.ema_signal;
    }
  }
  if (wanted_ & bit(Feature::kBollingerPosition)) {
    const std::uint32_t w = params_.bollinger_window;
    if (n >= w) {
      const i128 old = ring[(n - w) & mask];
      s.bb_sum -= old;
      s.bb_sum2 -= old * old;
    }
    s.bb_sum += mid2;
    s.bb_sum2 += i128{mid2} * mid2;
  }
  if (wanted_ & bit(Feature::kFracPrice)) {
    const std::size_t k = frac_w_.size();
    if (n + 1 >= k) {
      double acc = 0;
      for (std::size_t j = 0; j < k; ++j) acc += frac_w_[j] * double(ring[(n - j) & mask]);
      s.frac_price = acc / kMid2PerDollar;
    }
  }
  s.last_mid2 = mid2;
  s.n_mid = n + 1;
  if (!hurst_buf_.empty() && (n + 1) % params_.hurst_every == 0 && n >= params_.hurst_window) {
    const std::uint32_t hw = params_.hurst_window;
    for (std::uint32_t i = 0; i < hw; ++i) {  // the last hw returns, oldest first
      const std::uint64_t j = n + 1 - hw + i;   // return j: mid j over mid j - 1
      hurst_buf_[i] = std::log(double(ring[j & mask]) / double(ring[(j - 1) & mask]));
    }
    const auto h = hurst_rs(hurst_buf_.data(), hw);
    s.has_hurst = h.has_value();
    s.hurst = h.value_or(0.0);
  }
}

std::optional<double> hurst_rs(const double* r, std::size_t n) noexcept {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int scales = 0;
  for (std::size_t size = n; size >= 8; size /= 2) {
    const std::size_t chunks = n / size;
    double sum_rs = 0;
    std::size_t used = 0;
    for (std::size_t c = 0; c < chunks; ++c) {
      const double* x = r + (n - (chunks - c) * size);
      double mean = 0;
      for (std::size_t i = 0; i < size; ++i) mean += x[i];
      mean /= double(size);
      double y = 0, lo = 0, hi = 0, var = 0;
      for (std::size_t i = 0; i < size; ++i) {
        const double dev = x[i] - mean;
        y += dev;
        lo = std::min(lo, y);
        hi = std::max(hi, y);
        var += dev * dev;
      }
      const double sd = std::sqrt(var / double(size));
      if (!(sd > 0)) continue;
      sum_rs += (hi - lo) / sd;
      ++used;
    }
    if (used == 0 || !(sum_rs > 0)) continue;
    const double lx = std::log(double(size)), ly = std::log(sum_rs / double(used));
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
    ++scales;
  }
  if (scales < 2) return std::nullopt;
  const double k = scales;
  const double den = k * sxx - sx * sx;
  if (!(den > 0)) return std::nullopt;
  return (k * sxy - sx * sy) / den;
}

void FeatureEngine::values(std::uint16_t locate, Values& out, FeatureMask only) const noexcept {
  out.has = 0;
  if (locate > max_locate_ || slot_of_[locate] == 0) return;
  const State& s = states_[slot_of_[locate] - 1];
  const Depth& d = s.depth;
  const FeatureMask w = wanted_ & only;
  const std::uint32_t nl = params_.levels;
  const bool two = d.two_sided();
  const double bid = d.bid_px[0], ask = d.ask_px[0];

  if (two) {
    const double mid = 0.5 * (bid + ask);
    if (w & bit(Feature::kMid)) out.set(Feature::kMid, mid / 1e4);
    if (w & bit(Feature::kMicroPrice))
      if (const auto mp = micro_price(d)) out.set(Feature::kMicroPrice, *mp);
    if (w & bit(Feature::kWeightedMid)) {
      double pb = 0, qb = 0, pa = 0, qa = 0;
      for (std::uint32_t i = 0; i < nl; ++i) {
        pb += double(d.bid_px[i]) * double(d.bid_sz[i]);
        qb += double(d.bid_sz[i]);
        pa += double(d.ask_px[i]) * double(d.ask_sz[i]);
        qa += double(d.ask_sz[i]);
      }
      if (qb > 0 && qa > 0) out.set(Feature::kWeightedMid, (pb / qb * qa + pa / qa * qb) / (qa + qb) / 1e4);
    }
    if (w & bit(Feature::kBookPressure)) {
      const double mid2 = bid + ask, t2 = 2.0 * params_.tick;
      double p = 0;
      for (std::uint32_t i = 0; i < nl; ++i) {
        if (d.bid_sz[i] > 0) p += double(d.bid_sz[i]) / std::max((mid2 - 2.0 * d.bid_px[i]) / t2, 0.5);
        if (d.ask_sz[i] > 0) p -= double(d.ask_sz[i]) / std::max((2.0 * d.ask_px[i] - mid2) / t2, 0.5);
      }
      out.set(Feature::kBookPressure, p);
    }
    if (w & bit(Feature::kSpread)) out.set(Feature::kSpread, (ask - bid) / 1e4);
    if (w & bit(Feature::kRelativeSpread)) out.set(Feature::kRelativeSpread, (ask - bid) / mid * 1e4);
  }
  if (w & bit(Feature::kImbalance))
    if (const auto im = imbalance(d)) out.set(Feature::kImbalance, *im);
  if (w & bit(Feature::kWeightedImbalance)) {
    double num = 0, den = 0;
    for (std::uint32_t i = 0; i < nl; ++i) {
      num += level_w_[i] * double(d.bid_sz[i] - d.ask_sz[i]);
      den += level_w_[i] * double(d.bid_sz[i] + d.ask_sz[i]);
    }
    if (den > 0) out.set(Feature::kWeightedImbalance, num / den);
  }
  if (w & kOfiMask) {
    if (w & bit(Feature::kOfi1)) out.set(Feature::kOfi1, double(s.ofi[0]));
    if (w & bit(Feature::kOfi2)) out.set(Feature::kOfi2, double(s.ofi[1]));
    if (w & bit(Feature::kOfi3)) out.set(Feature::kOfi3, double(s.ofi[2]));
    if (w & bit(Feature::kOfi5)) out.set(Feature::kOfi5, double(s.ofi[3]));
  }
  if (w & bit(Feature::kOfiLimit)) out.set(Feature::kOfiLimit, double(s.ofi_limit));
  if (w & bit(Feature::kOfiCancel)) out.set(Feature::kOfiCancel, double(s.ofi_cancel));
  if (w & bit(Feature::kOfiTrade)) out.set(Feature::kOfiTrade, double(s.ofi_trade));
  if ((w & bit(Feature::kEffectiveSpread)) && s.has_eff_spread) out.set(Feature::kEffectiveSpread, s.eff_spread);
  if (w & bit(Feature::kEntropy)) {
    double total = 0;
    for (std::uint32_t i = 0; i < nl; ++i) total += double(d.bid_sz[i]) + double(d.ask_sz[i]);
    if (total > 0) {
      double h = 0;
      for (std::uint32_t i = 0; i < nl; ++i) {
        for (const double q : {double(d.bid_sz[i]), double(d.ask_sz[i])}) {
          if (q > 0) h -= q / total * std::log(q / total);
        }
      }
      out.set(Feature::kEntropy, h);
    }
  }

  if (two && (w & bit(Feature::kMicroPriceDepth))) {
    double qb = 0, qa = 0;
    for (std::uint32_t i = 0; i < nl; ++i) {
      qb += level_w_[i] * double(d.bid_sz[i]);
      qa += level_w_[i] * double(d.ask_sz[i]);
    }
    if (qb + qa > 0) out.set(Feature::kMicroPriceDepth, (bid * qa + ask * qb) / (qb + qa) / 1e4);
  }
  if (w & bit(Feature::kMicroPriceAdjusted)) {
    if (const auto mp = micro_price(d)) {
      const double sign = d.bid_sz[0] > d.ask_sz[0] ? 1.0 : d.bid_sz[0] < d.ask_sz[0] ? -1.0 : 0.0;
      out.set(Feature::kMicroPriceAdjusted, *mp + params_.mp_adjust * (ask - bid) / 1e4 * sign);
    }
  }
  if (w & bit(Feature::kOfiIntegrated)) {
    double x = 0;
    for (std::size_t i = 0; i < 5; ++i) x += params_.ofi_weights[i] * double(s.ofi_level[i]);
    out.set(Feature::kOfiIntegrated, x);
  }
  if (w & bit(Feature::kEmd))
    if (const auto e = emd(s.row_depth, d, nl)) out.set(Feature::kEmd, *e);
  if (w & (bit(Feature::kVwapBuy) | bit(Feature::kSlippageBuy)))
    if (const auto v = vwap_to_fill(d, 0, params_.vwap_shares)) {
      if (w & bit(Feature::kVwapBuy)) out.set(Feature::kVwapBuy, *v);
      if (two && (w & bit(Feature::kSlippageBuy))) out.set(Feature::kSlippageBuy, (*v * 1e4 - 0.5 * (bid + ask)) / (0.5 * (bid + ask)) * 1e4);
    }
  if (w & (bit(Feature::kVwapSell) | bit(Feature::kSlippageSell)))
    if (const auto v = vwap_to_fill(d, 1, params_.vwap_shares)) {
      if (w & bit(Feature::kVwapSell)) out.set(Feature::kVwapSell, *v);
      if (two && (w & bit(Feature::kSlippageSell))) out.set(Feature::kSlippageSell, (0.5 * (bid + ask) - *v * 1e4) / (0.5 * (bid + ask)) * 1e4);
    }
  if (w & bit(Feature::kMicroPriceStoikov))
    if (const auto adj = params_.stoikov.lookup(d)) out.set(Feature::kMicroPriceStoikov, 0.5 * (bid + ask) / 1e4 + *adj);
  if ((w & bit(Feature::kRealizedSpread)) && s.has_realized) out.set(Feature::kRealizedSpread, s.realized);
  if ((w & bit(Feature::kHurst)) && s.has_hurst) out.set(Feature::kHurst, s.hurst);
  if ((w & bit(Feature::kRollSpread)) && s.n_roll >= params_.roll_window) {
    const i128 m = params_.roll_window;
    const i128 cov = m * s.rxy - s.rx * s.ry;  // window^2 x covariance, price units^2
    if (cov <= 0) out.set(Feature::kRollSpread, 2.0 * std::sqrt(double(-cov)) / double(params_.roll_window) / 1e4);
  }

  // the series of mid changes
  const std::uint64_t n = s.n_mid;
  if ((w & bit(Feature::kRealizedVol)) && s.n_ret >= params_.vol_window)
    out.set(Feature::kRealizedVol, std::sqrt(from_fixed(s.vol_sum)));
  if (w & (bit(Feature::kVelocity) | bit(Feature::kAcceleration))) {
    const std::int64_t* ring = mid_ring_.data() + std::size_t{s.slot} * mid_cap_;
    const std::uint64_t mask = mid_cap_ - 1, k = params_.step;
    const double kd = double(k);
    if ((w & bit(Feature::kVelocity)) && n > k)
      out.set(Feature::kVelocity, double(ring[(n - 1) & mask] - ring[(n - 1 - k) & mask]) / kMid2PerDollar / kd);
    if ((w & bit(Feature::kAcceleration)) && n > 2 * k)
      out.set(Feature::kAcceleration,
              double(ring[(n - 1) & mask] - 2 * ring[(n - 1 - k) & mask] + ring[(n - 1 - 2 * k) & mask]) /
                  (kMid2PerDollar * kd * kd));
  }
  if ((w & bit(Feature::kFracPrice)) && n >= frac_w_.size()) out.set(Feature::kFracPrice, s.frac_price);
  if ((w & bit(Feature::kRsi)) && n > params_.rsi_period)
    out.set(Feature::kRsi, s.rsi_loss == 0 ? 100.0 : 100.0 - 100.0 / (1.0 + s.rsi_gain / s.rsi_loss));
  if ((w & bit(Feature::kMacdSignal)) && n >= std::uint64_t{params_.macd_slow} + params_.macd_signal - 1)
    out.set(Feature::kMacdSignal, s.ema_signal);
  if ((w & bit(Feature::kBollingerPosition)) && n >= params_.bollinger_window) {
    const i128 bw = params_.bollinger_window;
    const i128 var = bw * s.bb_sum2 - s.bb_sum * s.bb_sum;  // window^2 x variance
    if (var > 0) {
      const std::int64_t* ring = mid_ring_.data() + std::size_t{s.slot} * mid_cap_;
      const i128 dev = bw * ring[(n - 1) & (mid_cap_ - 1)] - s.bb_sum;  // window x (x - mean)
      out.set(Feature::kBollingerPosition, double(dev) / (2.0 * std::sqrt(double(var))));
    }
  }

  // the series of executions
  if ((w & bit(Feature::kFracVolume)) && s.n_exec >= frac_w_.size()) out.set(Feature::kFracVolume, s.frac_volume);
  if (w & (bit(Feature::kHawkesBuy) | bit(Feature::kHawkesSell) | bit(Feature::kHawkesRatio))) {
    double sb = 0, ss = 0;
    if (s.n_exec != 0) {
      const std::uint64_t dt = s.ts > s.hawkes_t ? s.ts - s.hawkes_t : 0;
      const double f = dt == 0 ? 1.0 : std::exp(-hawkes_decay_per_ns_ * double(dt));
      sb = s.hawkes_buy * f;
      ss = s.hawkes_sell * f;
    }
    double lb = params_.hawkes_mu + params_.hawkes_alpha * sb;
    double ls = params_.hawkes_mu + params_.hawkes_alpha * ss;
    if (!hk_sums_.empty()) {
      lb = ls = params_.hawkes_mu;
      if (s.n_exec != 0) {
        const std::size_t terms = hk_weight_.size();
        const double* sums = hk_sums_.data() + std::size_t{s.slot} * 2 * terms;
        const double dt = s.ts > s.hawkes_t ? double(s.ts - s.hawkes_t) : 0.0;
        for (std::size_t k = 0; k < terms; ++k) {
          const double f = hk_weight_[k] * std::exp(-hk_rate_per_ns_[k] * dt);
          lb += f * sums[k];
          ls += f * sums[terms + k];
        }
      }
    }
    if (w & bit(Feature::kHawkesBuy)) out.set(Feature::kHawkesBuy, lb);
    if (w & bit(Feature::kHawkesSell)) out.set(Feature::kHawkesSell, ls);
    if ((w & bit(Feature::kHawkesRatio)) && lb + ls > 0) out.set(Feature::kHawkesRatio, lb / (lb + ls));
  }
  if (w & bit(Feature::kHawkesExcitation)) out.set(Feature::kHawkesExcitation, params_.hawkes_alpha / params_.hawkes_beta);
  if ((w & bit(Feature::kKyleLambda)) && s.n_kyle >= params_.kyle_window) {
    const i128 m = params_.kyle_window;
    const i128 sxx = m * s.kxx - s.kx * s.kx;
    if (sxx > 0) {
      const i128 sxy = m * s.kxy - s.kx * s.ky;
      out.set(Feature::kKyleLambda, double(sxy) / double(sxx) / kMid2PerDollar);
    }
  }
  if ((w & bit(Feature::kAmihud)) && s.n_amihud >= params_.amihud_window)
    out.set(Feature::kAmihud, from_fixed(s.amihud_sum) / params_.amihud_window);
}

}  // namespace hft::features
