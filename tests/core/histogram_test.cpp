#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace hft::core {
namespace {

std::string read_golden(const char* name) {
  std::ifstream in(std::string(HFT_SOURCE_DIR) + "/tests/core/data/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(HistogramLayout, MatchesHdrHistogramBucketCounts) {
  // Same figures HdrHistogram's Java implementation prints in its trailer.
  const auto a = HistogramLayout::make(1, 3'600'000'000'000ull, 3);
  EXPECT_EQ(a.bucket_count, 32u);
  EXPECT_EQ(a.sub_bucket_count, 2048u);
  const auto b = HistogramLayout::make(1000, 100'000'000ull, 4);
  EXPECT_EQ(b.bucket_count, 4u);
  EXPECT_EQ(b.sub_bucket_count, 32768u);
  EXPECT_THROW(HistogramLayout::make(0, 100, 3), std::invalid_argument);
  EXPECT_THROW(HistogramLayout::make(10, 15, 3), std::invalid_argument);
  EXPECT_THROW(HistogramLayout::make(1, 1000, 6), std::invalid_argument);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h(1, 1'000'000, 3);
  for (std::uint64_t v = 0; v < 2000; ++v) {
    h.record(v);
    EXPECT_EQ(h.lowest_equivalent(v), v);
    EXPECT_EQ(h.highest_equivalent(v), v);
  }
  EXPECT_EQ(h.total_count(), 2000u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 1999u);
  EXPECT_EQ(h.value_at_percentile(50.0), 999u);
  EXPECT_EQ(h.value_at_percentile(100.0), 1999u);
}

// Percentiles against a sorted-array reference on random data: the histogram's answer and the
// exact order statistic must fall in the same bucket, i.e. agree within 10^-digits relative.
TEST(Histogram, PercentilesAgreeWithSortedReferenceWithinPrecision) {
  for (int digits : {2, 3, 4}) {
    Histogram h(1, 100'000'000'000ull, digits);
    std::mt19937_64 rng(1234 + static_cast<unsigned>(digits));
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 200'000; ++i) {
      // Log-uniform from 1 ns to ~10 s, like a latency distribution with a long tail.
      const double e = std::uniform_real_distribution<double>(0.0, 10.0)(rng);
      values.push_back(static_cast<std::uint64_t>(std::pow(10.0, e)));
      h.record(values.back());
    }
    std::sort(values.begin(), values.end());
    const double tolerance = std::pow(10.0, -digits);
    for (double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0}) {
      auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
      rank = std::clamp<std::size_t>(rank, 1, values.size());
      const std::uint64_t expected = values[rank - 1];
      const std::uint64_t got = h.value_at_percentile(p);
      EXPECT_TRUE(h.values_equivalent(got, expected)) << "digits " << digits << " p" << p << " got " << got << " want " << expected;
      EXPECT_LE(std::fabs(static_cast<double>(got) - static_cast<double>(expected)),
                tolerance * static_cast<double>(expected) + 1.0);
    }
    EXPECT_TRUE(h.values_equivalent(h.max(), values.back()));
    EXPECT_TRUE(h.values_equivalent(h.min(), values.front()));
  }
}

TEST(Histogram, ValuesAboveTheRangeAreClampedAndCounted) {
  Histogram h(1, 1'000'000, 3);
  EXPECT_TRUE(h.record(10));
  EXPECT_FALSE(h.record(5'000'000));
  EXPECT_EQ(h.total_count(), 2u);
  EXPECT_EQ(h.clamped_count(), 1u);
  EXPECT_TRUE(h.values_equivalent(h.max(), 1'000'000));
}

TEST(Histogram, MergeAndReset) {
  Histogram a(1, 10'000'000, 3), b(1, 10'000'000, 3), c(1, 1'000'000'000, 2);
  for (std::uint64_t v = 1; v <= 1000; ++v) a.record(v);
  for (std::uint64_t v = 1001; v <= 3000; ++v) b.record(v);
  c.record(5'000'000);
  a.merge(b);
  EXPECT_EQ(a.total_count(), 3000u);
  EXPECT_EQ(a.value_at_percentile(50.0), a.highest_equivalent(1500));
  a.merge(c);  // different layout: re-bucketed
  EXPECT_EQ(a.total_count(), 3001u);
  EXPECT_GE(a.max(), c.min()) << "c's value lands in a's top bucket";
  EXPECT_LE(a.lowest_equivalent(a.max()), c.max());
  a.reset();
  EXPECT_EQ(a.total_count(), 0u);
  EXPECT_EQ(a.max(), 0u);
  EXPECT_EQ(a.value_at_percentile(99.0), 0u);
}

TEST(Histogram, ExternalStorage) {
  const auto layout = HistogramLayout::make(1, 1'000'000, 3);
  std::vector<std::uint64_t> counts(layout.counts_len, 77);
  Histogram h(layout, counts);
  EXPECT_EQ(counts[5], 0u) << "external counters are cleared";
  h.record(5);
  EXPECT_EQ(counts[5], 1u);
  std::vector<std::uint64_t> tiny(3);
  EXPECT_THROW(Histogram(layout, tiny), std::invalid_argument);
}

// Byte-for-byte against HdrHistogram's own Java implementation (tests/core/data/README.md).
TEST(HistogramHgrm, MatchesReferenceImplementationExactly) {
  {
    Histogram h(1, 3'600'000'000'000ull, 3);
    for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
    EXPECT_EQ(h.percentile_distribution(1000.0), read_golden("linear_1_10000.hgrm"));
  }
  {
    Histogram h(1, 10'000'000'000ull, 2);
    std::uint64_t x = 12345;
    for (int i = 0; i < 100000; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const std::uint64_t r = x >> 33;
      const int shift = static_cast<int>(r % 30);
      h.record(((r >> 5) & ((1ull << shift) - 1)) + 1);
    }
    EXPECT_EQ(h.percentile_distribution(1.0), read_golden("lcg_2digits.hgrm"));
  }
  {
    Histogram h(1000, 100'000'000ull, 4);
    for (std::uint64_t v : {1000ull, 1500ull, 2000ull, 2000ull, 999999ull, 50000000ull, 12345678ull}) h.record(v);
    EXPECT_EQ(h.percentile_distribution(1000.0), read_golden("sparse_4digits.hgrm"));
  }
}

TEST(HistogramHgrm, RoundTripsThroughTheParser) {
  Histogram h(1, 60'000'000'000ull, 3);
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);
  for (int i = 0; i < 50'000; ++i) h.record(static_cast<std::uint64_t>(dist(rng)));
  const std::string text = h.percentile_distribution(1000.0);
  HgrmFile f;
  std::string error;
  ASSERT_TRUE(parse_hgrm(text, f, error)) << error;
  ASSERT_GT(f.rows.size(), 10u);
  EXPECT_EQ(f.total_count, h.total_count());
  EXPECT_NEAR(f.max, static_cast<double>(h.max()) / 1000.0, 0.001);
  EXPECT_NEAR(f.mean, h.mean() / 1000.0, 0.001);
  EXPECT_NEAR(f.stddev, h.stddev() / 1000.0, 0.001);
  EXPECT_EQ(f.buckets, h.layout().bucket_count);
  EXPECT_EQ(f.sub_buckets, h.layout().sub_bucket_count);
  EXPECT_EQ(f.rows.back().percentile, 1.0);
  EXPECT_EQ(f.rows.back().total_count, h.total_count());
  // Each row's TotalCount is exactly the number of samples at or below its value.
  for (const auto& row : f.rows) {
    const auto value = static_cast<std::uint64_t>(std::llround(row.value * 1000.0));
    std::uint64_t at_or_below = 0;
    const auto counts = h.counts();
    for (std::size_t i = 0; i < counts.size(); ++i)
      if (h.value_at_index(i) <= value) at_or_below += counts[i];
    EXPECT_EQ(row.total_count, at_or_below) << "row value " << row.value;
    if (row.percentile < 1.0) {
      EXPECT_NEAR(row.inverse, 1.0 / (1.0 - row.percentile), 0.01);
    }
  }
}

TEST(HistogramHgrm, ParserRejectsMalformedText) {
  HgrmFile f;
  std::string error;
  EXPECT_FALSE(parse_hgrm("", f, error));
  EXPECT_FALSE(parse_hgrm("       Value     Percentile TotalCount 1/(1-Percentile)\n\n  1.0 abc 3 1.0\n", f, error));
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  EXPECT_FALSE(parse_hgrm("Value\n1.0 0.5 3 2.0\n", f, error)) << "missing trailer";
}

TEST(Histogram, EmptyHistogramPrintsOnlyTheTrailer) {
  Histogram h(1, 1000, 3);
  const std::string text = h.percentile_distribution();
  HgrmFile f;
  std::string error;
  ASSERT_TRUE(parse_hgrm(text, f, error)) << error;
  EXPECT_TRUE(f.rows.empty());
  EXPECT_EQ(f.total_count, 0u);
}

}  // namespace
}  // namespace hft::core
