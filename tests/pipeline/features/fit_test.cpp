// The offline fits of pipeline/features/fit.hpp on processes whose answer is known in closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "pipeline/features/fit.hpp"

namespace hft::features {
namespace {

Depth book_at(std::uint32_t bid, std::uint32_t spread, std::int64_t bid_sz, std::int64_t ask_sz) {
  Depth d;
  d.bid_px[0] = bid;
  d.ask_px[0] = bid + spread;
  d.bid_sz[0] = bid_sz;
  d.ask_sz[0] = ask_sz;
  return d;
}

// A chain with a known micro-price: spread one tick, imbalance bucket b of n. Each step the mid
// moves one tick with probability q, up with probability u(b) = (b + 1/2) / n, after which the
// bucket is drawn uniformly; otherwise the bucket is drawn uniformly and the mid stays. Then
// G1(b) = q d (2 u(b) - 1) + (1 - q) mean(G1) with mean(G1) = 0 by symmetry, and B G1 = mean(G1)
// = 0, so the adjustment is G(b) = q d (2 u(b) - 1), d = one tick ($0.01).
TEST(StoikovFit, RecoversTheAdjustmentOfAKnownChain) {
  constexpr std::uint32_t n = 10, tick = 100;
  constexpr double q = 0.3, dollars_per_tick = 0.01;
  StoikovFitter fit(n, 2, tick, 3);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u01(0, 1);
  std::uniform_int_distribution<std::uint32_t> bucket(0, n - 1);
  std::uint32_t bid = 1'000'000, b = bucket(rng);
  for (int step = 0; step < 400'000; ++step) {
    // sizes whose imbalance Q_b / (Q_b + Q_a) falls in the middle of bucket b
    fit.observe(2, book_at(bid, tick, 10 * b + 5, 100 - (10 * b + 5)));
    if (u01(rng) < q) bid = u01(rng) < (b + 0.5) / n ? bid + tick : bid - tick;
    b = bucket(rng);
  }
  const StoikovTable t = fit.fit();
  ASSERT_EQ(t.imbalance_buckets, n);
  ASSERT_EQ(t.spread_buckets, 2u);
  ASSERT_EQ(t.adjustment.size(), 2 * n);
  EXPECT_GT(fit.mid_moves(), 100'000u);
  for (std::uint32_t k = 0; k < n; ++k) {
    const double want = q * dollars_per_tick * (2 * (k + 0.5) / n - 1);
    EXPECT_NEAR(t.adjustment[k], want, 2e-4) << "bucket " << k;
    EXPECT_EQ(t.adjustment[k], -t.adjustment[n - 1 - k]) << "antisymmetric in the imbalance";
    EXPECT_EQ(t.adjustment[n + k], 0.0) << "a spread never seen adjusts nothing";
  }
  for (std::uint32_t k = 0; k + 1 < n; ++k) EXPECT_LT(t.adjustment[k], t.adjustment[k + 1]);

  // the table's text form reads back exactly, and the engine looks it up
  const StoikovTable back = StoikovTable::parse(t.to_text());
  EXPECT_EQ(back.adjustment, t.adjustment);
  EXPECT_EQ(back.tick, tick);
  Params p;
  p.stoikov = back;
  FeatureEngine engine(p, bit(Feature::kMicroPriceStoikov) | bit(Feature::kMid), 4, 4);
  const Depth d = book_at(1'000'000, tick, 90, 10);  // I = 0.9: bucket 9
  engine.update(1, Event{1, EventKind::kAdd, 0, 90, 1'000'000, 0}, d);
  Values v;
  engine.values(1, v);
  ASSERT_TRUE(v.has_value(Feature::kMicroPriceStoikov));
  EXPECT_DOUBLE_EQ(*v.get(Feature::kMicroPriceStoikov), 100.005 + t.adjustment[9]);
  engine.update(1, Event{2, EventKind::kAdd, 0, 90, 1'000'000, 0}, book_at(1'000'000, 3 * tick, 90, 10));
  engine.values(1, v);
  EXPECT_FALSE(v.has_value(Feature::kMicroPriceStoikov)) << "a spread beyond the table";
  EXPECT_TRUE(v.has_value(Feature::kMid));
}

// A chain where the moves after the next one matter (the B^k G1 terms): the mid moves every step,
// up with probability 0.9 from the top bucket (0.1 from the bottom one), and lands in the top
// bucket after an up move, the bottom one after a down move. The sign of the state decays by
// p = 2 * 0.9 - 1 = 0.8 per step, so G(top) = d (p + p^2 + ...) = d p / (1 - p) = 4 d (the first
// move alone, G1, would be 0.8 d).
TEST(StoikovFit, LaterMovesCountThroughB) {
  constexpr std::uint32_t n = 10, tick = 100;
  StoikovFitter fit(n, 1, tick, 1);
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u01(0, 1);
  std::uint32_t bid = 5'000'000;
  bool top = true;
  for (int step = 0; step < 200'000; ++step) {
    fit.observe(1, top ? book_at(bid, tick, 95, 5) : book_at(bid, tick, 5, 95));
    const bool up = u01(rng) < (top ? 0.9 : 0.1);
    bid = up ? bid + tick : bid - tick;
    top = up;
  }
  const StoikovTable t = fit.fit();
  EXPECT_NEAR(t.adjustment[n - 1], 0.04, 0.003);
  EXPECT_NEAR(t.adjustment[0], -0.04, 0.003);
  for (std::uint32_t k = 1; k + 1 < n; ++k) EXPECT_EQ(t.adjustment[k], 0.0) << "bucket " << k << " never seen";
}

TEST(StoikovFit, BalancedBookAndBadTables) {
  // an odd number of buckets: the middle one (a balanced book) adjusts by exactly 0
  StoikovFitter fit(5, 1, 100, 1);
  std::mt19937_64 rng(5);
  std::uint32_t bid = 500'000;
  for (int i = 0; i < 20'000; ++i) {
    const std::int64_t bq = 1 + static_cast<std::int64_t>(rng() % 99);
    fit.observe(1, book_at(bid, 100, bq, 100 - bq));
    if (rng() % 4 == 0) bid = (rng() % 100) < static_cast<std::uint64_t>(bq) ? bid + 100 : bid - 100;
  }
  const StoikovTable t = fit.fit();
  EXPECT_EQ(t.adjustment[2], 0.0);
  EXPECT_GT(t.adjustment[4], 0.0);
  EXPECT_EQ(t.adjustment[0], -t.adjustment[4]);

  EXPECT_THROW((void)StoikovTable::parse("nonsense"), std::invalid_argument);
  EXPECT_THROW((void)StoikovTable::parse("stoikov_table v1 2 1 100\n0.1"), std::invalid_argument);
  EXPECT_THROW((void)StoikovTable::parse("stoikov_table v1 2 1 100\n0.1 nan"), std::invalid_argument);
  EXPECT_THROW((void)StoikovTable::parse("stoikov_table v1 2 1 100\n0.1 0.2 0.3"), std::invalid_argument);
  EXPECT_THROW((void)StoikovTable::parse("stoikov_table v1 0 1 100\n"), std::invalid_argument);
  EXPECT_NO_THROW((void)StoikovTable::parse("stoikov_table v1 2 1 100\n-0.1 0.1\n"));
  Params p;
  EXPECT_THROW(p.set("stoikov_table=/nonexistent/table"), std::invalid_argument);
}

TEST(OfiPca, FirstComponentOfAKnownDominantDirection) {
  // x = z v + small independent noise: the first principal component is v (L1 = 1, sum > 0)
  const std::array<double, 5> v{0.45, 0.25, 0.15, 0.1, 0.05};
  for (const double sign : {1.0, -1.0}) {
    OfiPcaFitter fit(1'000, 1);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> z(0, 10), noise(0, 0.3);
    for (int i = 0; i < 50'000; ++i) {
      const double a = z(rng);
      std::array<double, 5> x{};
      for (std::size_t k = 0; k < 5; ++k) x[k] = sign * a * v[k] + noise(rng);
      fit.add(x);
    }
    const auto r = fit.fit();
    ASSERT_TRUE(r.has_value());
    for (std::size_t k = 0; k < 5; ++k) EXPECT_NEAR(r->weights[k], v[k], 0.005) << "level " << k + 1;
    EXPECT_GT(r->explained, 0.95);
  }
  OfiPcaFitter none(1'000, 1);
  EXPECT_FALSE(none.fit().has_value());
}

TEST(OfiPca, IntervalsFromBookEvents) {
  // Level 1 alone moves: the weights are (1, 0, 0, 0, 0).
  OfiPcaFitter fit(1'000'000, 2);
  std::mt19937_64 rng(9);
  Depth before;
  for (std::uint32_t i = 0; i < 5; ++i) {
    before.bid_px[i] = 10'000 - 100 * i;
    before.ask_px[i] = 10'100 + 100 * i;
    before.bid_sz[i] = before.ask_sz[i] = 500;
  }
  for (std::uint64_t t = 1; t < 2'000'000'000; t += 5'000'000) {
    Depth after = before;
    after.bid_sz[0] = 100 + static_cast<std::int64_t>(rng() % 800);
    fit.observe(1, t, before, after);
    before = after;
  }
  fit.finish();
  const auto r = fit.fit();
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->weights[0], 1.0, 1e-12);
  for (std::size_t k = 1; k < 5; ++k) EXPECT_NEAR(r->weights[k], 0.0, 1e-12);
  EXPECT_GE(fit.samples(), 399u);
}

TEST(OfiPca, JacobiEigenOfAKnownMatrix) {
  // diag(1, 2, 3, 4, 5) rotated in the (0, 1) plane by 45 degrees: eigenvalues 5..1
  std::array<std::array<double, 5>, 5> a{};
  for (std::size_t i = 0; i < 5; ++i) a[i][i] = double(i + 1);
  a[0][0] = a[1][1] = 1.5;
  a[0][1] = a[1][0] = 0.5;
  const auto e = symmetric_eigen(a);
  EXPECT_NEAR(e.values[0], 5, 1e-12);
  EXPECT_NEAR(e.values[3], 2, 1e-12);
  EXPECT_NEAR(e.values[4], 1, 1e-12);
  EXPECT_NEAR(std::fabs(e.vectors[0][3]), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(std::fabs(e.vectors[1][3]), std::sqrt(0.5), 1e-12);
}

}  // namespace
}  // namespace hft::features
