// The incremental features (pipeline/features) against a naive recomputation: after every update
// of a stock, each feature is recomputed from scratch with its textbook formula over the whole
// history of that stock (its depth after every message, from the map-based ReferenceBook of the
// book tests, and the L3 event read from that reference book before the message), and the two
// must agree within 1e-9 relative (integer features exactly), with the same has-value bits.
// Over NASDAQ's real 2019-12-30 snippet and over generated days; then edge cases.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "pipeline/features/book_driver.hpp"
#include "pipeline/features/hawkes.hpp"
#include "tests/pipeline/book/reference_book.hpp"
#include "tests/pipeline/book/test_util.hpp"
#include "tests/support/test_data.hpp"
#include "venue/sim/day_generator.hpp"

namespace hft::features {
namespace {

using book::testing::ReferenceBook;

// ---------------------------------------------------------------- the naive side ------------------
struct Snap {
  std::uint64_t ts = 0;
  Depth depth;
  Event event;
};

struct NaiveEvent {
  bool valid = false;
  std::uint16_t locate = 0;
  Event e;
};

// Reads the L3 event of a message from the reference book before the book applies it.
struct EventReader {
  const ReferenceBook* ref;
  NaiveEvent out;
  void resting(std::uint16_t l, std::uint64_t ref_no, std::uint64_t ts, EventKind kind) {
    const ReferenceBook::Order* o = ref->order(ref_no);
    if (o == nullptr || o->locate != l) return;
    out.valid = true;
    out.locate = l;
    out.e.timestamp = ts;
    out.e.kind = kind;
    out.e.side = o->bid ? 0 : 1;
    out.e.price = o->price;
    out.e.shares = o->shares;
  }
  void on_add_order(const itch::AddOrder& m) {
    if (m.shares() == 0 || m.price() == 0) return;
    out = {true, m.stock_locate(),
           Event{m.timestamp(), EventKind::kAdd, static_cast<std::uint8_t>(m.buy_sell_indicator() == 'S'), m.shares(),
                 m.price(), 0}};
  }
  void on_order_executed(const itch::OrderExecuted& m) {
    resting(m.stock_locate(), m.order_reference_number(), m.timestamp(), EventKind::kExecute);
    out.e.shares = std::min(out.e.shares, m.executed_shares());
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) {
    resting(m.stock_locate(), m.order_reference_number(), m.timestamp(), EventKind::kExecute);
    out.e.shares = std::min(out.e.shares, m.executed_shares());
    out.e.price = m.execution_price();
  }
  void on_order_cancel(const itch::OrderCancel& m) {
    resting(m.stock_locate(), m.order_reference_number(), m.timestamp(), EventKind::kCancel);
    out.e.shares = std::min(out.e.shares, m.cancelled_shares());
  }
  void on_order_delete(const itch::OrderDelete& m) {
    resting(m.stock_locate(), m.order_reference_number(), m.timestamp(), EventKind::kDelete);
  }
  void on_order_replace(const itch::OrderReplace& m) {
    resting(m.stock_locate(), m.original_order_reference_number(), m.timestamp(), EventKind::kReplace);
    out.e.new_shares = m.shares();
    out.e.price = m.price();
  }
};

Depth depth_of(const ReferenceBook& ref, std::uint16_t l, std::uint32_t n) {
  Depth d;
  std::array<book::Level, kMaxLevels> lv{};
  const std::size_t nb = ref.top(l, book::Side::kBid, std::span<book::Level>(lv.data(), n));
  for (std::size_t i = 0; i < nb; ++i) {
    d.bid_px[i] = lv[i].price;
    d.bid_sz[i] = static_cast<std::int64_t>(lv[i].shares);
  }
  lv = {};
  const std::size_t na = ref.top(l, book::Side::kAsk, std::span<book::Level>(lv.data(), n));
  for (std::size_t i = 0; i < na; ++i) {
    d.ask_px[i] = lv[i].price;
    d.ask_sz[i] = static_cast<std::int64_t>(lv[i].shares);
  }
  return d;
}

// The textbook formulas over a stock's whole history; `since` = index of the first update of the
// current row (flows sum from there).
Values naive(const Params& p, const std::vector<Snap>& h, std::size_t since) {
  Values out;
  const Snap& now = h.back();
  const Depth& d = now.depth;
  const std::uint32_t nl = p.levels;
  const bool two = d.bid_px[0] != 0 && d.ask_px[0] != 0;
  auto px = [](std::uint32_t v) { return v / 10000.0; };
  if (two) {
    const double b = px(d.bid_px[0]), a = px(d.ask_px[0]);
    const double mid = (b + a) / 2;
    out.set(Feature::kMid, mid);
    const double bq = double(d.bid_sz[0]), aq = double(d.ask_sz[0]);
    out.set(Feature::kMicroPrice, (b * aq + a * bq) / (bq + aq));
    double vb = 0, qb = 0, va = 0, qa = 0;
    for (std::uint32_t i = 0; i < nl; ++i) {
      vb += px(d.bid_px[i]) * double(d.bid_sz[i]);
      qb += double(d.bid_sz[i]);
      va += px(d.ask_px[i]) * double(d.ask_sz[i]);
      qa += double(d.ask_sz[i]);
    }
    out.set(Feature::kWeightedMid, ((vb / qb) * qa + (va / qa) * qb) / (qa + qb));
    // distances in ticks from the prices in ticks (exact), not from dollars
    double bp = 0;
    const double mid_units = (double(d.bid_px[0]) + double(d.ask_px[0])) / 2;
    for (std::uint32_t i = 0; i < nl; ++i) {
      if (d.bid_sz[i] > 0) bp += double(d.bid_sz[i]) / std::max((mid_units - d.bid_px[i]) / p.tick, 0.5);
      if (d.ask_sz[i] > 0) bp -= double(d.ask_sz[i]) / std::max((d.ask_px[i] - mid_units) / p.tick, 0.5);
    }
    out.set(Feature::kBookPressure, bp);
    out.set(Feature::kSpread, a - b);
    out.set(Feature::kRelativeSpread, (a - b) / mid * 10000);
    double wb = 0, wa = 0;  // depth-weighted micro-price: level-1 prices, decayed depth over N levels
    for (std::uint32_t i = 0; i < nl; ++i) {
      wb += std::exp(-p.imbalance_decay * i) * double(d.bid_sz[i]);
      wa += std::exp(-p.imbalance_decay * i) * double(d.ask_sz[i]);
    }
    if (wb + wa > 0) out.set(Feature::kMicroPriceDepth, (b * wa + a * wb) / (wb + wa));
    if (bq + aq > 0) {
      const double sign = bq > aq ? 1 : bq < aq ? -1 : 0;
      out.set(Feature::kMicroPriceAdjusted, (b * aq + a * bq) / (bq + aq) + p.mp_adjust * (a - b) * sign);
    }
  }
  // VWAP of vwap_shares walking the displayed levels
  for (int side = 0; side < 2; ++side) {
    const auto& lp = side == 0 ? d.ask_px : d.bid_px;
    const auto& ls = side == 0 ? d.ask_sz : d.bid_sz;
    double left = p.vwap_shares, cost = 0;
    for (std::size_t i = 0; i < kMaxLevels && lp[i] != 0 && left > 0; ++i) {
      const double take = std::min(left, double(ls[i]));
      cost += take * px(lp[i]);
      left -= take;
    }
    if (left > 0) continue;
    const double v = cost / p.vwap_shares;
    out.set(side == 0 ? Feature::kVwapBuy : Feature::kVwapSell, v);
    if (two) {
      const double mid = (px(d.bid_px[0]) + px(d.ask_px[0])) / 2;
      out.set(side == 0 ? Feature::kSlippageBuy : Feature::kSlippageSell, (side == 0 ? v - mid : mid - v) / mid * 1e4);
    }
  }
  // EMD between the depth when the row began and now: integral of |F_prev - F_now| over price
  if (since > 0) {
    const Depth& q0 = h[since - 1].depth;
    std::map<std::uint32_t, std::pair<double, double>> mass;  // price -> (prev shares, now shares)
    double t0 = 0, t1 = 0;
    for (std::uint32_t i = 0; i < nl; ++i) {
      if (q0.bid_sz[i] > 0) mass[q0.bid_px[i]].first += double(q0.bid_sz[i]);
      if (q0.ask_sz[i] > 0) mass[q0.ask_px[i]].first += double(q0.ask_sz[i]);
      if (d.bid_sz[i] > 0) mass[d.bid_px[i]].second += double(d.bid_sz[i]);
      if (d.ask_sz[i] > 0) mass[d.ask_px[i]].second += double(d.ask_sz[i]);
      t0 += double(q0.bid_sz[i] + q0.ask_sz[i]);
      t1 += double(d.bid_sz[i] + d.ask_sz[i]);
    }
    if (t0 > 0 && t1 > 0) {
      double emd = 0;
      for (auto it = mass.begin(); it != mass.end() && std::next(it) != mass.end(); ++it) {
        double f0 = 0, f1 = 0;  // the two CDFs at this price, from scratch
        for (auto jt = mass.begin(); jt != std::next(it); ++jt) {
          f0 += jt->second.first / t0;
          f1 += jt->second.second / t1;
        }
        emd += std::fabs(f0 - f1) * px(std::next(it)->first - it->first);
      }
      out.set(Feature::kEmd, emd);
    }
  }
  {
    const double bq = double(d.bid_sz[0]), aq = double(d.ask_sz[0]);
    if (bq + aq > 0) out.set(Feature::kImbalance, (bq - aq) / (bq + aq));
    double num = 0, den = 0;
    for (std::uint32_t i = 0; i < nl; ++i) {
      const double w = std::exp(-p.imbalance_decay * i);
      num += w * double(d.bid_sz[i] - d.ask_sz[i]);
      den += w * double(d.bid_sz[i] + d.ask_sz[i]);
    }
    if (den > 0) out.set(Feature::kWeightedImbalance, num / den);
    double total = 0;
    for (std::uint32_t i = 0; i < nl; ++i) total += double(d.bid_sz[i] + d.ask_sz[i]);
    if (total > 0) {
      double e = 0;
      for (std::uint32_t i = 0; i < nl; ++i)
        for (const double q : {double(d.bid_sz[i]), double(d.ask_sz[i])})
          if (q > 0) e -= q / total * std::log(q / total);
      out.set(Feature::kEntropy, e);
    }
  }
  // Flows since the row began. OFI per Cont, Kukanov & Stoikov, eq. (10) for each level.
  std::array<std::int64_t, 5> ofi{};  // levels 1..5 summed
  std::array<std::int64_t, 5> ofi_lv{};  // each level alone
  std::int64_t lim = 0, can = 0, trd = 0;
  bool has_eff = false;
  double eff = 0;
  const Depth empty;
  for (std::size_t j = since; j < h.size(); ++j) {
    const Depth& a = h[j].depth;
    const Depth& b = j == 0 ? empty : h[j - 1].depth;
    std::int64_t cum = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      const double pb = a.bid_px[i], pb0 = b.bid_px[i];
      const double pa = a.ask_px[i] == 0 ? INFINITY : a.ask_px[i], pa0 = b.ask_px[i] == 0 ? INFINITY : b.ask_px[i];
      std::int64_t e = 0;
      if (pb >= pb0) e += a.bid_sz[i];
      if (pb <= pb0) e -= b.bid_sz[i];
      if (pa <= pa0) e -= a.ask_sz[i];
      if (pa >= pa0) e += b.ask_sz[i];
      cum += e;
      ofi[i] += cum;
      ofi_lv[i] += e;
    }
    const Event& ev = h[j].event;
    const std::int64_t s = ev.side == 0 ? 1 : -1;
    if (ev.kind == EventKind::kAdd) lim += s * ev.shares;
    if (ev.kind == EventKind::kCancel || ev.kind == EventKind::kDelete) can -= s * ev.shares;
    if (ev.kind == EventKind::kExecute) trd -= s * ev.shares;
    if (ev.kind == EventKind::kReplace) {
      can -= s * ev.shares;
      lim += s * ev.new_shares;
    }
    if (ev.kind == EventKind::kExecute && b.bid_px[0] != 0 && b.ask_px[0] != 0) {
      has_eff = true;
      eff = 2 * std::fabs(px(ev.price) - (px(b.bid_px[0]) + px(b.ask_px[0])) / 2);
    }
  }
  out.set(Feature::kOfi1, double(ofi[0]));
  out.set(Feature::kOfi2, double(ofi[1]));
  out.set(Feature::kOfi3, double(ofi[2]));
  out.set(Feature::kOfi5, double(ofi[4]));
  out.set(Feature::kOfiLimit, double(lim));
  out.set(Feature::kOfiCancel, double(can));
  out.set(Feature::kOfiTrade, double(trd));
  if (has_eff) out.set(Feature::kEffectiveSpread, eff);
  {
    double x = 0;
    for (std::size_t i = 0; i < 5; ++i) x += p.ofi_weights[i] * double(ofi_lv[i]);
    out.set(Feature::kOfiIntegrated, x);
  }
  // Stoikov: mid + the table's entry for (spread in ticks, imbalance bucket of Q_b / (Q_b + Q_a))
  if (!p.stoikov.empty() && two && d.bid_sz[0] > 0 && d.ask_sz[0] > 0 && d.ask_px[0] > d.bid_px[0]) {
    const std::uint32_t spread = d.ask_px[0] - d.bid_px[0];
    const std::uint32_t ticks = spread / p.stoikov.tick;
    if (spread % p.stoikov.tick == 0 && ticks >= 1 && ticks <= p.stoikov.spread_buckets) {
      const double i = double(d.bid_sz[0]) / double(d.bid_sz[0] + d.ask_sz[0]);
      std::uint32_t b = 0;
      while (b + 1 < p.stoikov.imbalance_buckets && i >= double(b + 1) / p.stoikov.imbalance_buckets) ++b;
      out.set(Feature::kMicroPriceStoikov,
              (px(d.bid_px[0]) + px(d.ask_px[0])) / 2 + p.stoikov.adjustment[(ticks - 1) * p.stoikov.imbalance_buckets + b]);
    }
  }

  // Realized spread: each execution j is resolved at the first later update whose time is past
  // t_j + delta, against the mid before that update; the row shows the last one resolved in it.
  {
    const std::size_t last = h.size() - 1;
    bool has = false;
    double val = 0;
    std::size_t best_k = 0;
    for (std::size_t j = 0; j < h.size(); ++j) {
      const Event& ev = h[j].event;
      if (ev.kind != EventKind::kExecute || ev.price == 0) continue;
      std::size_t k = j + 1;
      while (k < h.size() && h[k].ts <= ev.timestamp + p.realized_delta_ns) ++k;
      if (k > last || k < since) continue;  // not resolved yet, or in an earlier row
      const Depth& before = h[k - 1].depth;
      if (before.bid_px[0] == 0 || before.ask_px[0] == 0) continue;
      const double mid = (px(before.bid_px[0]) + px(before.ask_px[0])) / 2;
      const double sign = ev.side == 1 ? 1 : -1;  // a resting ask executed: buyer-initiated
      // the last resolved: the latest update k, then the latest execution j
      if (!has || k >= best_k) {
        best_k = k;
        has = true;
        val = 2 * sign * (px(ev.price) - mid);
      }
    }
    if (has) out.set(Feature::kRealizedSpread, val);
  }

  // The series of mid changes, rebuilt from every snapshot.
  std::vector<double> m;
  for (const Snap& s : h) {
    if (s.depth.bid_px[0] == 0 || s.depth.ask_px[0] == 0) continue;
    const double mid = (px(s.depth.bid_px[0]) + px(s.depth.ask_px[0])) / 2;
    if (m.empty() || mid != m.back()) m.push_back(mid);
  }
  const std::size_t n = m.size();
  if (n >= std::size_t{p.vol_window} + 1) {
    double ss = 0;
    for (std::size_t i = n - p.vol_window; i < n; ++i) ss += std::pow(std::log(m[i] / m[i - 1]), 2);
    out.set(Feature::kRealizedVol, std::sqrt(ss));
  }
  const std::size_t k = p.step;
  if (n > k) out.set(Feature::kVelocity, (m[n - 1] - m[n - 1 - k]) / double(k));
  if (n > 2 * k) out.set(Feature::kAcceleration, (m[n - 1] - 2 * m[n - 1 - k] + m[n - 1 - 2 * k]) / double(k * k));
  // fractional differentiation (Lopez de Prado, AFML ch. 5, fixed-width window)
  std::vector<double> w{1.0};
  while (true) {
    const double kk = double(w.size());
    const double next = -w.back() * (p.frac_d - kk + 1) / kk;
    if (std::fabs(next) < p.frac_threshold) break;
    w.push_back(next);
  }
  if (n >= w.size()) {
    double f = 0;
    for (std::size_t j = 0; j < w.size(); ++j) f += w[j] * m[n - 1 - j];
    out.set(Feature::kFracPrice, f);
  }
  // Hurst: R/S over the last hurst_window returns at the last multiple of hurst_every mid changes
  for (std::size_t nn = n; nn > 0; --nn) {
    if (nn % p.hurst_every != 0) continue;
    if (nn - 1 < p.hurst_window) break;
    std::vector<double> r;
    for (std::size_t i = nn - p.hurst_window; i < nn; ++i) r.push_back(std::log(m[i] / m[i - 1]));
    std::vector<std::pair<double, double>> pts;  // (ln size, ln mean R/S)
    for (std::size_t size = r.size(); size >= 8; size /= 2) {
      const std::size_t chunks = r.size() / size;
      std::vector<double> rs;
      for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t from = r.size() - (chunks - c) * size;
        double mean = 0;
        for (std::size_t i = 0; i < size; ++i) mean += r[from + i];
        mean /= size;
        std::vector<double> y{0.0};  // cumulative deviations, Y_0 = 0
        double var = 0;
        for (std::size_t i = 0; i < size; ++i) {
          y.push_back(y.back() + (r[from + i] - mean));
          var += (r[from + i] - mean) * (r[from + i] - mean);
        }
        const double sd = std::sqrt(var / size);
        if (sd > 0) rs.push_back((*std::max_element(y.begin(), y.end()) - *std::min_element(y.begin(), y.end())) / sd);
      }
      double sum = 0;
      for (const double x : rs) sum += x;
      if (!rs.empty() && sum > 0) pts.emplace_back(std::log(double(size)), std::log(sum / rs.size()));
    }
    if (pts.size() >= 2) {
      double mx = 0, my = 0;
      for (const auto& [x, y] : pts) {
        mx += x;
        my += y;
      }
      mx /= pts.size();
      my /= pts.size();
      double sxy = 0, sxx = 0;
      for (const auto& [x, y] : pts) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
      }
      out.set(Feature::kHurst, sxy / sxx);
    }
    break;
  }
  if (n > p.rsi_period) {
    double g = 0, l = 0;
    for (std::size_t i = 1; i <= p.rsi_period; ++i) {
      g += std::max(m[i] - m[i - 1], 0.0);
      l += std::max(m[i - 1] - m[i], 0.0);
    }
    g /= p.rsi_period;
    l /= p.rsi_period;
    for (std::size_t i = p.rsi_period + 1; i < n; ++i) {
      g = (g * (p.rsi_period - 1) + std::max(m[i] - m[i - 1], 0.0)) / p.rsi_period;
      l = (l * (p.rsi_period - 1) + std::max(m[i - 1] - m[i], 0.0)) / p.rsi_period;
    }
    out.set(Feature::kRsi, l == 0 ? 100.0 : 100 - 100 / (1 + g / l));
  }
  if (n >= std::size_t{p.macd_slow} + p.macd_signal - 1) {
    double ef = m[0], es = m[0], sig = 0;
    const double af = 2.0 / (p.macd_fast + 1), as = 2.0 / (p.macd_slow + 1), ag = 2.0 / (p.macd_signal + 1);
    for (std::size_t i = 1; i < n; ++i) {
      ef = af * m[i] + (1 - af) * ef;
      es = as * m[i] + (1 - as) * es;
      sig = ag * (ef - es) + (1 - ag) * sig;
    }
    out.set(Feature::kMacdSignal, sig);
  }
  if (n >= p.bollinger_window) {
    const std::size_t bw = p.bollinger_window;
    long double mean = 0, var = 0;
    for (std::size_t i = n - bw; i < n; ++i) mean += m[i];
    mean /= bw;
    for (std::size_t i = n - bw; i < n; ++i) var += (m[i] - mean) * (m[i] - mean);
    var /= bw;
    if (var > 1e-30L) out.set(Feature::kBollingerPosition, double((m[n - 1] - mean) / (2 * std::sqrt(var))));
  }

  // The series of executions.
  std::vector<double> cum;
  double total_shares = 0;
  std::vector<std::pair<std::uint64_t, bool>> trades;  // time, buyer-initiated
  struct Obs {
    double x, y, r, dv;
  };
  std::vector<Obs> obs;
  double last_mid = 0;
  std::uint64_t t_now = 0;
  for (const Snap& s : h) {
    t_now = std::max(t_now, s.ts);
    if (s.event.kind != EventKind::kExecute) continue;
    total_shares += s.event.shares;
    cum.push_back(total_shares);
    trades.emplace_back(s.ts, s.event.side == 1);
    const bool two_after = s.depth.bid_px[0] != 0 && s.depth.ask_px[0] != 0;
    const double mid = two_after ? (px(s.depth.bid_px[0]) + px(s.depth.ask_px[0])) / 2 : 0;
    if (mid != 0 && last_mid != 0) {
      obs.push_back({s.event.side == 1 ? double(s.event.shares) : -double(s.event.shares), mid - last_mid,
                     std::fabs(std::log(mid / last_mid)), px(s.event.price) * s.event.shares});
    }
    last_mid = mid;
  }
  // Roll: covariance of successive execution price changes over the last roll_window pairs, exact
  {
    std::vector<std::int64_t> prices, dps;
    for (const Snap& s : h)
      if (s.event.kind == EventKind::kExecute && s.event.price != 0) prices.push_back(s.event.price);
    for (std::size_t i = 1; i < prices.size(); ++i) dps.push_back(prices[i] - prices[i - 1]);
    const std::size_t pairs = dps.size() > 0 ? dps.size() - 1 : 0, rw = p.roll_window;
    if (pairs >= rw) {
      i128 sx = 0, sy = 0, sxy = 0;
      for (std::size_t j = dps.size() - rw; j < dps.size(); ++j) {
        sx += dps[j];
        sy += dps[j - 1];
        sxy += i128{dps[j]} * dps[j - 1];
      }
      const i128 cov = i128(rw) * sxy - sx * sy;  // rw^2 x cov
      if (cov <= 0) out.set(Feature::kRollSpread, 2 * std::sqrt(double(-cov)) / double(rw) / 10000);
    }
  }
  if (cum.size() >= w.size()) {
    double f = 0;
    for (std::size_t j = 0; j < w.size(); ++j) f += w[j] * cum[cum.size() - 1 - j];
    out.set(Feature::kFracVolume, f);
  }
  double sb = 0, ss = 0;
  for (const auto& [t, buy] : trades) (buy ? sb : ss) += std::exp(-p.hawkes_beta * double(t_now - t) * 1e-9);
  double lb = p.hawkes_mu + p.hawkes_alpha * sb, ls = p.hawkes_mu + p.hawkes_alpha * ss;
  if (p.hawkes_power) {  // mu + sum over earlier executions of the kernel at their age
    const auto kernel = hawkes::Kernel::power_law(p.hawkes_alpha / p.hawkes_beta, p.hawkes_theta, p.hawkes_tau0);
    lb = ls = p.hawkes_mu;
    for (const auto& [t, buy] : trades) (buy ? lb : ls) += kernel(double(t_now - t) * 1e-9);
  }
  out.set(Feature::kHawkesBuy, lb);
  out.set(Feature::kHawkesSell, ls);
  if (lb + ls > 0) out.set(Feature::kHawkesRatio, lb / (lb + ls));
  out.set(Feature::kHawkesExcitation, p.hawkes_alpha / p.hawkes_beta);
  if (obs.size() >= p.kyle_window) {
    const std::size_t kw = p.kyle_window;
    long double mx = 0, my = 0;
    bool all_same = true;
    for (std::size_t i = obs.size() - kw; i < obs.size(); ++i) {
      mx += obs[i].x;
      my += obs[i].y;
      all_same = all_same && obs[i].x == obs[obs.size() - kw].x;
    }
    mx /= kw;
    my /= kw;
    long double sxy = 0, sxx = 0;
    for (std::size_t i = obs.size() - kw; i < obs.size(); ++i) {
      sxy += (obs[i].x - mx) * (obs[i].y - my);
      sxx += (obs[i].x - mx) * (obs[i].x - mx);
    }
    if (!all_same) out.set(Feature::kKyleLambda, double(sxy / sxx));
  }
  std::vector<double> am;
  for (const Obs& o : obs)
    if (o.dv > 0) am.push_back(o.r / o.dv);
  if (am.size() >= p.amihud_window) {
    double s = 0;
    for (std::size_t i = am.size() - p.amihud_window; i < am.size(); ++i) s += am[i];
    out.set(Feature::kAmihud, s / p.amihud_window);
  }
  return out;
}

// Feature-specific scale under which a difference is rounding, not a bug: 1e-9 of the terms the
// formula subtracts (a kyle covariance near zero, a Bollinger deviation near the mean).
double floor_of(Feature f, const Values& n) {
  switch (f) {
    case Feature::kKyleLambda: return 1e-15;
    case Feature::kEmd: return 1e-12;
    case Feature::kHurst: return 1e-9;
    case Feature::kEffectiveSpread:
    case Feature::kRealizedSpread: return 1e-9 * std::max(1.0, n.v[static_cast<std::size_t>(Feature::kMid)]);
    case Feature::kSlippageBuy:
    case Feature::kSlippageSell: return 1e-6;
    case Feature::kMicroPriceAdjusted: return 1e-9 * std::max(1.0, n.v[static_cast<std::size_t>(Feature::kMid)]);
    case Feature::kBollingerPosition: return 1e-9;
    case Feature::kMacdSignal:
    case Feature::kVelocity:
    case Feature::kAcceleration:
    case Feature::kFracPrice: return 1e-9 * std::max(1.0, n.v[static_cast<std::size_t>(Feature::kMid)]);
    default: return 0;
  }
}

bool is_integer_feature(Feature f) {
  return f == Feature::kOfi1 || f == Feature::kOfi2 || f == Feature::kOfi3 || f == Feature::kOfi5 ||
         f == Feature::kOfiLimit || f == Feature::kOfiCancel || f == Feature::kOfiTrade;
}

// ---------------------------------------------------------------- the run --------------------------
struct Hook {
  bool updated = false;
  std::uint16_t locate = 0;
  bool wants(std::uint16_t) noexcept { return true; }
  void before(std::uint16_t, std::uint64_t) noexcept {}
  void after(std::uint16_t l, const Event&) noexcept {
    updated = true;
    locate = l;
  }
};

struct Outcome {
  std::uint64_t updates = 0;
  std::uint64_t compared_values = 0;
  std::array<std::uint64_t, kFeatureCount> had{};  // updates where each feature had a value
};

Outcome run(const std::vector<std::uint8_t>& day, const Params& p, std::uint32_t max_locate,
            std::size_t consume_every) {
  book::BookConfig cfg;
  cfg.orders = 1u << 18;
  cfg.levels = 1u << 16;
  cfg.max_locate = max_locate;
  book::BookSet books(cfg);
  FeatureEngine engine(p, kAllSet, max_locate, 1024);
  Hook hook;
  FeatureBookHandler<Hook> handler(books, engine, hook);
  ReferenceBook ref(max_locate);
  EventReader reader{&ref, {}};
  std::map<std::uint16_t, std::vector<Snap>> history;
  std::map<std::uint16_t, std::size_t> row_start;
  Outcome o;
  std::string first_error;
  Values got;
  book::testing::for_each_block(day, [&](const std::uint8_t* msg, std::size_t len) {
    if (!first_error.empty()) return;
    reader.out = {};
    itch::decode_message(msg, len, reader);
    hook.updated = false;
    itch::decode_message(msg, len, handler);
    itch::decode_message(msg, len, ref);
    if (hook.updated != reader.out.valid || (hook.updated && hook.locate != reader.out.locate)) {
      first_error = std::string("message '") + char(msg[0]) + "': engine updated " + std::to_string(hook.updated) +
                    ", naive event " + std::to_string(reader.out.valid);
      return;
    }
    if (!hook.updated) return;
    const std::uint16_t l = hook.locate;
    auto& h = history[l];
    h.push_back({reader.out.e.timestamp, depth_of(ref, l, std::max(p.levels, 5u)), reader.out.e});
    ++o.updates;
    engine.values(l, got);
    const Values want = naive(p, h, row_start[l]);
    for (std::size_t i = 0; i < kFeatureCount && first_error.empty(); ++i) {
      const auto f = static_cast<Feature>(i);
      const auto a = got.get(f), b = want.get(f);
      if (a.has_value()) {
        ++o.had[i];
        if (!std::isfinite(*a)) first_error = std::string(feature_name(f)) + " is not finite";
      }
      if (a.has_value() != b.has_value()) {
        first_error = std::string(feature_name(f)) + ": engine " + (a ? "has a value" : "is empty") + ", naive " +
                      (b ? std::to_string(*b) : std::string("is empty"));
      } else if (a.has_value()) {
        ++o.compared_values;
        const double diff = std::fabs(*a - *b);
        const bool ok = is_integer_feature(f) ? *a == *b
                                              : diff <= 1e-9 * std::max(std::fabs(*a), std::fabs(*b)) + floor_of(f, want);
        if (!ok) {
          char buf[200];
          std::snprintf(buf, sizeof buf, "%s: engine %.17g, naive %.17g", std::string(feature_name(f)).c_str(), *a, *b);
          first_error = buf;
        }
      }
    }
    if (!first_error.empty()) {
      first_error = "locate " + std::to_string(l) + " update " + std::to_string(h.size()) + " (message '" +
                    char(msg[0]) + "'): " + first_error;
      return;
    }
    if (h.size() % consume_every == 0) {
      engine.consume(l);
      row_start[l] = h.size();
    }
  });
  EXPECT_EQ(first_error, "");
  return o;
}

// Small windows, so that every feature warms up within a short day.
Params small_windows() {
  Params p;
  p.vol_window = 5;
  p.step = 2;
  p.kyle_window = 4;
  p.amihud_window = 3;
  p.frac_threshold = 1e-2;
  p.rsi_period = 3;
  p.macd_fast = 2;
  p.macd_slow = 4;
  p.macd_signal = 3;
  p.bollinger_window = 4;
  p.hawkes_beta = 50;
  p.roll_window = 3;
  p.vwap_shares = 300;
  p.mp_adjust = 0.25;
  p.ofi_weights = {0.5, 0.25, 0.125, 0.0625, 0.0625};
  p.realized_delta_ns = 1'000'000;
  p.hurst_window = 16;
  p.hurst_every = 4;
  // a micro-price table of 4 buckets x 3 spreads of one cent
  p.stoikov.imbalance_buckets = 4;
  p.stoikov.spread_buckets = 3;
  p.stoikov.tick = 100;
  p.stoikov.adjustment = {-0.003, -0.001, 0.001, 0.003, -0.004, -0.002, 0.002, 0.004, -0.005, 0.0, 0.0, 0.005};
  return p;
}

// (hurst wants hurst_window + 1 mid changes of one stock: the generated days' mids move a few
// times per thousand messages, so the ten-level run below checks it.)
void expect_every_feature_seen(const Outcome& o) {
  for (std::size_t i = 0; i < kFeatureCount; ++i)
    if (static_cast<Feature>(i) != Feature::kHurst) {
      EXPECT_GT(o.had[i], 0u) << feature_name(static_cast<Feature>(i)) << " never had a value";
    }
}

TEST(FeaturesNaive, RealNasdaqSnippetSmallWindows) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const auto day = book::testing::read_file(dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50");
  ASSERT_FALSE(day.empty());
  const Outcome o = run(day, small_windows(), 65535, 1);
  EXPECT_GT(o.updates, 100u);
  std::printf("snippet: %llu updates, %llu values compared\n", (unsigned long long)o.updates,
              (unsigned long long)o.compared_values);
}

TEST(FeaturesNaive, RealNasdaqSnippetDefaultsAndRowsOfThree) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const auto day = book::testing::read_file(dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50");
  const Outcome o = run(day, Params{}, 65535, 3);
  EXPECT_GT(o.updates, 100u);
}

TEST(FeaturesNaive, GeneratedDaySmallWindows) {
  sim::DayConfig c;
  c.messages = 60'000;
  c.stocks = 20;
  c.seed = 12;
  const Outcome o = run(sim::generate_binaryfile(c), small_windows(), c.stocks, 1);
  EXPECT_GT(o.updates, 50'000u);
  expect_every_feature_seen(o);
  std::printf("generated: %llu updates, %llu values compared\n", (unsigned long long)o.updates,
              (unsigned long long)o.compared_values);
}

TEST(FeaturesNaive, GeneratedDayTenLevelsRowsOfFive) {
  sim::DayConfig c;
  c.messages = 40'000;
  c.stocks = 4;
  c.seed = 99;
  Params p;
  p.levels = 10;
  p.frac_threshold = 1e-2;
  p.vol_window = 10;
  p.realized_delta_ns = 50'000'000;
  const Outcome o = run(sim::generate_binaryfile(c), p, c.stocks, 5);
  EXPECT_GT(o.had[static_cast<std::size_t>(Feature::kRealizedSpread)], 0u);
  EXPECT_GT(o.updates, 30'000u);
  EXPECT_GT(o.had[static_cast<std::size_t>(Feature::kFracPrice)], 0u);
  EXPECT_GT(o.had[static_cast<std::size_t>(Feature::kRealizedVol)], 0u);
  std::printf("generated, 10 levels: %llu updates, %llu values compared, %llu with frac_price\n",
              (unsigned long long)o.updates, (unsigned long long)o.compared_values,
              (unsigned long long)o.had[static_cast<std::size_t>(Feature::kFracPrice)]);
}

// The power-law Hawkes kernel (24 exponentials, O(24) per execution) against the direct sum of
// the kernel over all earlier executions.
TEST(FeaturesNaive, GeneratedDayPowerLawHawkes) {
  sim::DayConfig c;
  c.messages = 10'000;
  c.stocks = 4;
  c.seed = 21;
  Params p = small_windows();
  p.set("hawkes_kernel=power");
  p.hawkes_alpha = 0.6;
  p.hawkes_beta = 1.0;
  p.hawkes_tau0 = 1e-2;
  const Outcome o = run(sim::generate_binaryfile(c), p, c.stocks, 1);
  EXPECT_GT(o.had[static_cast<std::size_t>(Feature::kHawkesBuy)], 5'000u);
  EXPECT_THROW(p.set("hawkes_kernel=cubic"), std::invalid_argument);
}

// A synthetic book whose mid walks (the generated days' mids move too rarely for hurst): every
// feature against the naive formulas after each update, one row per update.
TEST(FeaturesNaive, RandomWalkBookEveryFeature) {
  Params p = small_windows();
  p.hurst_window = 16;
  p.hurst_every = 4;
  FeatureEngine engine(p, kAllSet, 4, 4);
  std::vector<Snap> h;
  std::uint64_t state = 7, ts = 34'200'000'000'000;
  auto rnd = [&](std::uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  std::int64_t bid = 1'000'000;
  std::array<std::uint64_t, kFeatureCount> had{};
  Values got;
  for (int step = 0; step < 1500; ++step) {
    ts += rnd(2'000'000);
    bid += (static_cast<std::int64_t>(rnd(3)) - 1) * 100;
    Depth d;
    for (std::uint32_t i = 0; i < 5; ++i) {
      d.bid_px[i] = static_cast<std::uint32_t>(bid - 100 * i);
      d.bid_sz[i] = static_cast<std::int64_t>(100 * (1 + rnd(5)));
      d.ask_px[i] = static_cast<std::uint32_t>(bid + 100 * (1 + rnd(2)) + 100 * i);
      d.ask_sz[i] = static_cast<std::int64_t>(100 * (1 + rnd(5)));
    }
    Event e{ts, EventKind::kAdd, static_cast<std::uint8_t>(rnd(2)), 100, d.bid_px[0], 0};
    if (step % 4 == 0) {
      e.kind = EventKind::kExecute;
      e.price = e.side == 0 ? d.bid_px[0] : d.ask_px[0];
    }
    engine.update(1, e, d);
    h.push_back({ts, d, e});
    engine.values(1, got);
    const Values want = naive(p, h, h.size() - 1);
    for (std::size_t i = 0; i < kFeatureCount; ++i) {
      const auto f = static_cast<Feature>(i);
      const auto a = got.get(f), b = want.get(f);
      ASSERT_EQ(a.has_value(), b.has_value()) << feature_name(f) << " at update " << step;
      if (!a) continue;
      ++had[i];
      ASSERT_TRUE(std::isfinite(*a)) << feature_name(f);
      const double tol = is_integer_feature(f) ? 0 : 1e-9 * std::max(std::fabs(*a), std::fabs(*b)) + floor_of(f, want);
      ASSERT_LE(std::fabs(*a - *b), tol) << feature_name(f) << " at update " << step << ": engine " << *a << ", naive " << *b;
    }
    engine.consume(1);
  }
  EXPECT_GT(had[static_cast<std::size_t>(Feature::kHurst)], 1000u);
  EXPECT_GT(had[static_cast<std::size_t>(Feature::kRealizedSpread)], 100u);
  EXPECT_GT(had[static_cast<std::size_t>(Feature::kRollSpread)], 0u);
}

}  // namespace
}  // namespace hft::features
