#pragma once
// Latency histogram with HdrHistogram's log-linear bucket scheme (Gil Tene's HdrHistogram,
// "AbstractHistogram"): values up to 2*10^d are counted exactly, larger ones with relative error
// below 10^-d, in (bucket_count + 1) * sub_bucket_count / 2 counters. record() is a shift, a
// count-leading-zeros and an increment: O(1), no allocation, no branch on the value's size.
//
// One thread records; other threads may read counts at any time (each counter is updated with a
// relaxed atomic store, which is a plain store on x86-64), so a reader sees a slightly stale but
// never torn value.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hft::core {

struct HistogramLayout {
  std::uint64_t lowest_discernible = 1;
  std::uint64_t highest_trackable = 0;
  int significant_figures = 3;
  int unit_magnitude = 0;
  int sub_bucket_half_count_magnitude = 0;
  std::uint32_t sub_bucket_count = 0;
  std::uint32_t sub_bucket_half_count = 0;
  std::uint64_t sub_bucket_mask = 0;
  std::uint32_t bucket_count = 0;
  std::uint32_t counts_len = 0;

  // Throws std::invalid_argument unless lowest >= 1, highest >= 2 * lowest and 1 <= digits <= 5.
  static HistogramLayout make(std::uint64_t lowest_discernible, std::uint64_t highest_trackable, int significant_figures);
  friend bool operator==(const HistogramLayout&, const HistogramLayout&) = default;
};

class Histogram {
 public:
  // Owns its counters (allocated here, at start-up).
  Histogram(std::uint64_t lowest_discernible, std::uint64_t highest_trackable, int significant_figures);
  // Uses caller-provided counters (arena or shared memory); counts.size() >= layout.counts_len.
  Histogram(const HistogramLayout& layout, std::span<std::uint64_t> counts);

  Histogram(const Histogram& other);
  Histogram& operator=(const Histogram&) = delete;

  // Records one value. Values above highest_trackable are counted at highest_trackable and
  // reported by clamped_count(); nothing is dropped. Returns false when the value was clamped.
  bool record(std::uint64_t value) noexcept { return record_n(value, 1); }
  bool record_n(std::uint64_t value, std::uint64_t count) noexcept;

  void reset() noexcept;
  // Adds every count of `other`; layouts may differ (then values are re-bucketed).
  void merge(const Histogram& other) noexcept;

  [[nodiscard]] std::uint64_t total_count() const noexcept { return total_count_; }
  [[nodiscard]] std::uint64_t clamped_count() const noexcept { return clamped_count_; }
  [[nodiscard]] std::uint64_t min() const noexcept;  // lowest equivalent of the smallest value, 0 if empty
  [[nodiscard]] std::uint64_t max() const noexcept;  // highest equivalent of the largest value, 0 if empty
  [[nodiscard]] double mean() const noexcept;
  [[nodiscard]] double stddev() const noexcept;
  // Highest equivalent value at or below which `percentile` (0..100) of the values lie.
  [[nodiscard]] std::uint64_t value_at_percentile(double percentile) const noexcept;

  [[nodiscard]] std::uint64_t lowest_equivalent(std::uint64_t v) const noexcept;
  [[nodiscard]] std::uint64_t highest_equivalent(std::uint64_t v) const noexcept;
  [[nodiscard]] std::uint64_t median_equivalent(std::uint64_t v) const noexcept;
  [[nodiscard]] std::uint64_t equivalent_range(std::uint64_t v) const noexcept;
  [[nodiscard]] bool values_equivalent(std::uint64_t a, std::uint64_t b) const noexcept {
    return lowest_equivalent(a) == lowest_equivalent(b);
  }

  [[nodiscard]] const HistogramLayout& layout() const noexcept { return layout_; }
  [[nodiscard]] std::span<const std::uint64_t> counts() const noexcept { return {counts_, layout_.counts_len}; }
  [[nodiscard]] std::uint64_t value_at_index(std::size_t index) const noexcept;

  // HdrHistogram's percentile-distribution text (Java AbstractHistogram
  // outputPercentileDistribution): Value, Percentile, TotalCount, 1/(1-Percentile) rows and the
  // Mean/StdDeviation/Max/Total count/Buckets trailer. Values are divided by `unit_ratio`
  // (1000 prints nanosecond samples in microseconds).
  [[nodiscard]] std::string percentile_distribution(double unit_ratio = 1.0, int ticks_per_half_distance = 5) const;

 private:
  [[nodiscard]] std::size_t counts_index_for(std::uint64_t value) const noexcept;

  HistogramLayout layout_;
  std::unique_ptr<std::uint64_t[]> owned_;
  std::uint64_t* counts_ = nullptr;
  std::uint64_t total_count_ = 0;
  std::uint64_t clamped_count_ = 0;
  std::uint64_t min_value_ = ~0ull;
  std::uint64_t max_value_ = 0;
};

// A parsed `.hgrm` file (what HdrHistogram's plotters read).
struct HgrmRow {
  double value = 0;
  double percentile = 0;          // 0..1
  std::uint64_t total_count = 0;
  double inverse = 0;             // 1/(1-percentile); 0 on the final 100% row, which has no column
};
struct HgrmFile {
  std::vector<HgrmRow> rows;
  double mean = 0, stddev = 0, max = 0;
  std::uint64_t total_count = 0;
  std::uint32_t buckets = 0, sub_buckets = 0;
};
// Returns false and sets `error` (with the line number) on malformed text.
bool parse_hgrm(std::string_view text, HgrmFile& out, std::string& error);

}  // namespace hft::core
