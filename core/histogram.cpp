#include "core/histogram.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace hft::core {
namespace {

void store_relaxed(std::uint64_t& slot, std::uint64_t value) noexcept {
  std::atomic_ref<std::uint64_t>(slot).store(value, std::memory_order_relaxed);
}

int floor_log2(std::uint64_t v) noexcept { return 63 - std::countl_zero(v); }

// Fixed-point text of `v` with `decimals` digits, right-aligned in `width`, rounded the way Java's
// Formatter rounds (HALF_UP on the shortest decimal that round-trips the double), so the output
// matches HdrHistogram's reference implementation digit for digit. printf would round the exact
// binary value instead and differ on ties such as 0.9997802734375.
std::string java_fixed(double v, int decimals, int width) {
  char buf[400];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  std::string s(buf, res.ptr);
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.erase(0, 1);
  }
  auto dot = s.find('.');
  if (dot == std::string::npos) {
    dot = s.size();
    s += '.';
  }
  const std::size_t have = s.size() - dot - 1;
  const auto want = static_cast<std::size_t>(decimals);
  if (have < want) {
    s.append(want - have, '0');
  } else if (have > want) {
    const bool round_up = s[dot + 1 + want] >= '5';
    s.resize(dot + 1 + want);
    if (round_up) {
      std::size_t i = s.size();
      while (i-- > 0) {
        if (s[i] == '.') continue;
        if (s[i] == '9') {
          s[i] = '0';
          continue;
        }
        ++s[i];
        break;
      }
      if (i == static_cast<std::size_t>(-1)) s.insert(s.begin(), '1');
    }
  }
  if (want == 0) s.pop_back();
  if (negative) s.insert(s.begin(), '-');
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), ' ');
  return s;
}

}  // namespace

HistogramLayout HistogramLayout::make(std::uint64_t lowest, std::uint64_t highest, int digits) {
  if (lowest < 1) throw std::invalid_argument("histogram: lowest discernible value must be >= 1");
  if (highest < 2 * lowest) throw std::invalid_argument("histogram: highest trackable value must be >= 2 * lowest");
  if (digits < 1 || digits > 5) throw std::invalid_argument("histogram: significant figures must be 1..5");
  HistogramLayout l;
  l.lowest_discernible = lowest;
  l.highest_trackable = highest;
  l.significant_figures = digits;
  std::uint64_t single_unit_resolution = 2;
  for (int i = 0; i < digits; ++i) single_unit_resolution *= 10;
  const int sub_bucket_count_magnitude = static_cast<int>(std::ceil(std::log2(static_cast<double>(single_unit_resolution))));
  l.sub_bucket_half_count_magnitude = std::max(sub_bucket_count_magnitude, 1) - 1;
  l.unit_magnitude = floor_log2(lowest);
  l.sub_bucket_count = 1u << (l.sub_bucket_half_count_magnitude + 1);
  l.sub_bucket_half_count = l.sub_bucket_count / 2;
  l.sub_bucket_mask = (static_cast<std::uint64_t>(l.sub_bucket_count) - 1) << l.unit_magnitude;
  if (l.unit_magnitude + l.sub_bucket_half_count_magnitude > 61)
    throw std::invalid_argument("histogram: lowest discernible value too large for the precision");
  // Buckets needed so that highest_trackable has a counter.
  std::uint64_t smallest_untrackable = static_cast<std::uint64_t>(l.sub_bucket_count) << l.unit_magnitude;
  std::uint32_t buckets = 1;
  while (smallest_untrackable <= highest) {
    if (smallest_untrackable > (~0ull >> 1)) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  l.bucket_count = buckets;
  l.counts_len = (buckets + 1) * (l.sub_bucket_count / 2);
  return l;
}

Histogram::Histogram(std::uint64_t lowest, std::uint64_t highest, int digits)
    : layout_(HistogramLayout::make(lowest, highest, digits)),
      owned_(new std::uint64_t[layout_.counts_len]()),
      counts_(owned_.get()) {}

Histogram::Histogram(const HistogramLayout& layout, std::span<std::uint64_t> counts) : layout_(layout) {
  if (counts.size() < layout.counts_len) throw std::invalid_argument("histogram: counts storage too small");
  counts_ = counts.data();
  std::fill_n(counts_, layout_.counts_len, 0ull);
}

Histogram::Histogram(const Histogram& other)
    : layout_(other.layout_),
      owned_(new std::uint64_t[layout_.counts_len]()),
      counts_(owned_.get()),
      total_count_(other.total_count_),
      clamped_count_(other.clamped_count_),
      min_value_(other.min_value_),
      max_value_(other.max_value_) {
  std::copy_n(other.counts_, layout_.counts_len, counts_);
}

std::size_t Histogram::counts_index_for(std::uint64_t value) const noexcept {
  const auto& l = layout_;
  const int pow2_ceiling = 64 - std::countl_zero(value | l.sub_bucket_mask);
  const int bucket_index = pow2_ceiling - l.unit_magnitude - (l.sub_bucket_half_count_magnitude + 1);
  const auto sub_bucket_index = static_cast<std::int64_t>(value >> (bucket_index + l.unit_magnitude));
  const std::int64_t bucket_base = static_cast<std::int64_t>(bucket_index + 1) << l.sub_bucket_half_count_magnitude;
  return static_cast<std::size_t>(bucket_base + (sub_bucket_index - l.sub_bucket_half_count));
}

std::uint64_t Histogram::value_at_index(std::size_t index) const noexcept {
  const auto& l = layout_;
  int bucket_index = static_cast<int>(index >> l.sub_bucket_half_count_magnitude) - 1;
  std::uint64_t sub_bucket_index = (index & (l.sub_bucket_half_count - 1)) + l.sub_bucket_half_count;
  if (bucket_index < 0) {
    sub_bucket_index -= l.sub_bucket_half_count;
    bucket_index = 0;
  }
  return sub_bucket_index << (bucket_index + l.unit_magnitude);
}

bool Histogram::record_n(std::uint64_t value, std::uint64_t count) noexcept {
  bool in_range = true;
  if (value > layout_.highest_trackable) [[unlikely]] {
    value = layout_.highest_trackable;
    store_relaxed(clamped_count_, clamped_count_ + count);
    in_range = false;
  }
  const std::size_t index = counts_index_for(value);
  store_relaxed(counts_[index], counts_[index] + count);
  store_relaxed(total_count_, total_count_ + count);
  if (value < min_value_) store_relaxed(min_value_, value);
  if (value > max_value_) store_relaxed(max_value_, value);
  return in_range;
}

void Histogram::reset() noexcept {
  for (std::uint32_t i = 0; i < layout_.counts_len; ++i) store_relaxed(counts_[i], std::uint64_t{0});
  store_relaxed(total_count_, std::uint64_t{0});
  store_relaxed(clamped_count_, std::uint64_t{0});
  store_relaxed(min_value_, ~0ull);
  store_relaxed(max_value_, std::uint64_t{0});
}

void Histogram::merge(const Histogram& other) noexcept {
  if (layout_ == other.layout_) {
    for (std::uint32_t i = 0; i < layout_.counts_len; ++i)
      if (other.counts_[i] != 0) store_relaxed(counts_[i], counts_[i] + other.counts_[i]);
    store_relaxed(total_count_, total_count_ + other.total_count_);
    store_relaxed(clamped_count_, clamped_count_ + other.clamped_count_);
    if (other.total_count_ != 0) {
      if (other.min_value_ < min_value_) store_relaxed(min_value_, other.min_value_);
      if (other.max_value_ > max_value_) store_relaxed(max_value_, other.max_value_);
    }
    return;
  }
  for (std::uint32_t i = 0; i < other.layout_.counts_len; ++i)
    if (other.counts_[i] != 0) record_n(other.value_at_index(i), other.counts_[i]);
}

std::uint64_t Histogram::equivalent_range(std::uint64_t v) const noexcept {
  const auto& l = layout_;
  const int pow2_ceiling = 64 - std::countl_zero(v | l.sub_bucket_mask);
  const int bucket_index = pow2_ceiling - l.unit_magnitude - (l.sub_bucket_half_count_magnitude + 1);
  const std::uint64_t sub_bucket_index = v >> (bucket_index + l.unit_magnitude);
  const int adjusted = sub_bucket_index >= l.sub_bucket_count ? bucket_index + 1 : bucket_index;
  return 1ull << (l.unit_magnitude + adjusted);
}

std::uint64_t Histogram::lowest_equivalent(std::uint64_t v) const noexcept {
  const auto& l = layout_;
  const int pow2_ceiling = 64 - std::countl_zero(v | l.sub_bucket_mask);
  const int bucket_index = pow2_ceiling - l.unit_magnitude - (l.sub_bucket_half_count_magnitude + 1);
  const std::uint64_t sub_bucket_index = v >> (bucket_index + l.unit_magnitude);
  return sub_bucket_index << (bucket_index + l.unit_magnitude);
}

std::uint64_t Histogram::highest_equivalent(std::uint64_t v) const noexcept {
  return lowest_equivalent(v) + equivalent_range(v) - 1;
}

std::uint64_t Histogram::median_equivalent(std::uint64_t v) const noexcept {
  return lowest_equivalent(v) + (equivalent_range(v) >> 1);
}

std::uint64_t Histogram::min() const noexcept { return total_count_ == 0 ? 0 : lowest_equivalent(min_value_); }

std::uint64_t Histogram::max() const noexcept { return max_value_ == 0 ? 0 : highest_equivalent(max_value_); }

double Histogram::mean() const noexcept {
  if (total_count_ == 0) return 0.0;
  double total = 0;
  for (std::uint32_t i = 0; i < layout_.counts_len; ++i)
    if (counts_[i] != 0) total += static_cast<double>(median_equivalent(value_at_index(i))) * static_cast<double>(counts_[i]);
  return total / static_cast<double>(total_count_);
}

double Histogram::stddev() const noexcept {
  if (total_count_ == 0) return 0.0;
  const double m = mean();
  double total = 0;
  for (std::uint32_t i = 0; i < layout_.counts_len; ++i) {
    if (counts_[i] == 0) continue;
    const double dev = static_cast<double>(median_equivalent(value_at_index(i))) - m;
    total += dev * dev * static_cast<double>(counts_[i]);
  }
  return std::sqrt(total / static_cast<double>(total_count_));
}

std::uint64_t Histogram::value_at_percentile(double percentile) const noexcept {
  if (total_count_ == 0) return 0;
  const double requested = std::clamp(percentile, 0.0, 100.0);
  auto count_at = static_cast<std::uint64_t>(requested / 100.0 * static_cast<double>(total_count_) + 0.5);
  count_at = std::max<std::uint64_t>(count_at, 1);
  std::uint64_t running = 0;
  for (std::uint32_t i = 0; i < layout_.counts_len; ++i) {
    running += counts_[i];
    if (running >= count_at) {
      const std::uint64_t v = value_at_index(i);
      return requested == 0.0 ? lowest_equivalent(v) : highest_equivalent(v);
    }
  }
  return max();
}

std::string Histogram::percentile_distribution(double unit_ratio, int ticks_per_half_distance) const {
  const int digits = layout_.significant_figures;
  std::string out = fmt::format("{:>12} {:>14} {:>10} {:>14}\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");

  // HdrHistogram's PercentileIterator: steps of 100 / (ticks * 2^k) percent, halving the step each
  // time half the remaining distance to 100% is covered, then one final row at 100%.
  const std::uint64_t total = total_count_;
  double level = 0.0;
  std::uint64_t running = 0;
  std::uint32_t index = 0;
  bool fresh = true;
  bool reached_last = false;
  const auto has_next = [&] {
    if (running < total) return true;
    if (!reached_last && total > 0) {  // one more row, at 100%
      reached_last = true;
      level = 100.0;
      return true;
    }
    return false;
  };
  while (has_next()) {
    bool emitted = false;
    while (index < layout_.counts_len) {
      const std::uint64_t count = counts_[index];
      if (fresh) {
        running += count;
        fresh = false;
      }
      if (count != 0 && 100.0 * static_cast<double>(running) / static_cast<double>(total) >= level) {
        const double value = static_cast<double>(highest_equivalent(value_at_index(index))) / unit_ratio;
        if (level != 100.0) {
          out += fmt::format("{} {} {:10d} {}\n", java_fixed(value, digits, 12), java_fixed(level / 100.0, 12, 2),
                             running, java_fixed(1.0 / (1.0 - level / 100.0), 2, 14));
        } else {
          out += fmt::format("{} {} {:10d}\n", java_fixed(value, digits, 12), java_fixed(1.0, 12, 2), running);
        }
        const double halvings = std::floor(std::log(100.0 / (100.0 - level)) / std::log(2.0)) + 1;
        level += 100.0 / (static_cast<double>(ticks_per_half_distance) * std::pow(2.0, halvings));
        emitted = true;
        break;
      }
      ++index;
      fresh = true;
    }
    if (!emitted) break;
  }
  out += fmt::format("#[Mean    = {}, StdDeviation   = {}]\n", java_fixed(mean() / unit_ratio, digits, 12),
                     java_fixed(stddev() / unit_ratio, digits, 12));
  out += fmt::format("#[Max     = {}, Total count    = {:12d}]\n",
                     java_fixed(static_cast<double>(max()) / unit_ratio, digits, 12), total);
  out += fmt::format("#[Buckets = {:12d}, SubBuckets     = {:12d}]\n", layout_.bucket_count, layout_.sub_bucket_count);
  return out;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) fields.push_back(s.substr(start, i - start));
  }
  return fields;
}

template <class T>
bool to_number(std::string_view s, T& out) {
  s = trim(s);
  const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

// Reads "name = value" after `key` inside a trailer line.
template <class T>
bool trailer_value(std::string_view line, std::string_view key, T& out) {
  const auto at = line.find(key);
  if (at == std::string_view::npos) return false;
  auto rest = line.substr(at + key.size());
  const auto eq = rest.find('=');
  if (eq == std::string_view::npos) return false;
  rest = rest.substr(eq + 1);
  const auto end = rest.find_first_of(",]");
  return to_number(rest.substr(0, end), out);
}

}  // namespace

bool parse_hgrm(std::string_view text, HgrmFile& out, std::string& error) {
  out = HgrmFile{};
  bool saw_header = false, saw_mean = false, saw_max = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    if (line.starts_with("Value")) {
      saw_header = true;
      continue;
    }
    if (line.starts_with("#[Mean")) {
      saw_mean = trailer_value(line, "Mean", out.mean) && trailer_value(line, "StdDeviation", out.stddev);
      if (!saw_mean) return error = fmt::format("line {}: malformed Mean/StdDeviation trailer", line_no), false;
      continue;
    }
    if (line.starts_with("#[Max")) {
      saw_max = trailer_value(line, "Max", out.max) && trailer_value(line, "Total count", out.total_count);
      if (!saw_max) return error = fmt::format("line {}: malformed Max/Total count trailer", line_no), false;
      continue;
    }
    if (line.starts_with("#[Buckets")) {
      if (!trailer_value(line, "Buckets", out.buckets) || !trailer_value(line, "SubBuckets", out.sub_buckets))
        return error = fmt::format("line {}: malformed Buckets trailer", line_no), false;
      continue;
    }
    if (line.starts_with("#")) continue;
    const auto f = split_ws(line);
    HgrmRow row;
    if ((f.size() != 3 && f.size() != 4) || !to_number(f[0], row.value) || !to_number(f[1], row.percentile) ||
        !to_number(f[2], row.total_count) || (f.size() == 4 && !to_number(f[3], row.inverse)))
      return error = fmt::format("line {}: expected Value Percentile TotalCount [1/(1-Percentile)]", line_no), false;
    if (!out.rows.empty() && (row.percentile < out.rows.back().percentile || row.total_count < out.rows.back().total_count))
      return error = fmt::format("line {}: percentiles must not decrease", line_no), false;
    out.rows.push_back(row);
  }
  if (!saw_header) return error = "missing 'Value Percentile TotalCount' header", false;
  if (!saw_mean || !saw_max) return error = "missing #[Mean ...] / #[Max ...] trailer", false;
  return true;
}

}  // namespace hft::core
