#include "pipeline/journal/config.hpp"

#include <charconv>

#include <fmt/format.h>

namespace hft::journal {

bool parse_sync_policy(std::string_view text, SyncPolicy& out) noexcept {
  if (text == "none") {
    out = {SyncMode::kNone, 0};
    return true;
  }
  if (text == "every") {
    out = {SyncMode::kEvery, 0};
    return true;
  }
  constexpr std::string_view kPrefix = "interval:";
  if (!text.starts_with(kPrefix)) return false;
  text.remove_prefix(kPrefix.size());
  std::uint64_t unit = 0;
  if (text.ends_with("ms")) {
    unit = 1'000'000;
  } else if (text.ends_with("us")) {
    unit = 1'000;
  } else {
    return false;
  }
  text.remove_suffix(2);
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return false;
  const std::uint64_t ns = n * unit;
  if (n > 60'000'000 || ns < 1'000 || ns > 60'000'000'000ull) return false;
  out = {SyncMode::kInterval, ns};
  return true;
}

std::string to_string(const SyncPolicy& policy) {
  switch (policy.mode) {
    case SyncMode::kNone: return "none";
    case SyncMode::kEvery: return "every";
    case SyncMode::kInterval:
      return policy.interval_ns % 1'000'000 == 0 ? fmt::format("interval:{}ms", policy.interval_ns / 1'000'000)
                                                 : fmt::format("interval:{}us", policy.interval_ns / 1'000);
  }
  return "?";
}

JournalConfig parse_journal_config(const core::ConfigSection& section) {
  JournalConfig c;
  c.dir = section.require_string("dir");
  if (c.dir.empty()) section.fail("dir", "must not be empty");
  c.segment_bytes = static_cast<std::uint64_t>(section.integer("segment_mb", 64, 1, 4096)) << 20;
  const std::string sync = section.string("sync", "interval:10ms");
  if (!parse_sync_policy(sync, c.sync))
    section.fail("sync", fmt::format("expected \"none\", \"every\" or \"interval:<n>ms\" / \"interval:<n>us\" "
                                     "(1 us .. 60 s), got \"{}\"", sync));
  c.flusher_cpu = static_cast<int>(section.integer("flusher_cpu", -1, -1, 4095));
  c.stage_dir = section.string("stage_dir", "");
  section.reject_unknown_keys();
  return c;
}

}  // namespace hft::journal
