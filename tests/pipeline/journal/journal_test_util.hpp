#pragma once
// Helpers of the journal tests: a fresh directory per test, small segments, file bytes in and out.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "pipeline/journal/reader.hpp"
#include "pipeline/journal/writer.hpp"

namespace hft::journal::testing {

namespace fs = std::filesystem;

inline constexpr std::uint32_t kDate = 20240607;
inline constexpr const char* kInstance = "hftd-test";

inline fs::path fresh_dir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() /
                       fmt::format("hft_journal_{}_{}_{}_{}", tag, ::getpid(), info->test_suite_name(), info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline JournalConfig small_config(const fs::path& dir, std::uint64_t segment_bytes = 64 << 10, std::string_view sync = "none") {
  JournalConfig c;
  c.dir = dir.string();
  c.segment_bytes = segment_bytes;
  EXPECT_TRUE(parse_sync_policy(sync, c.sync));
  return c;
}

inline std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline fs::path segment_path(const fs::path& dir, std::uint32_t index) {
  return dir / segment_name(kInstance, kDate, index);
}

// Appends, waiting for the flusher when a rotation finds the next segment not prepared yet.
template <class F>
AppendStatus append_retry(F&& f) {
  for (int i = 0; i < 20000; ++i) {
    const AppendStatus s = f();
    if (s != AppendStatus::kNotReady) return s;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return AppendStatus::kNotReady;
}

inline IntentPayload intent(std::uint64_t order_id) {
  IntentPayload p{};
  p.order_id = order_id;
  p.price = 1'234'500 + static_cast<std::int64_t>(order_id);
  p.origin_tsc = 77 * order_id;
  p.quantity = 100 + static_cast<std::uint32_t>(order_id % 900);
  p.user_ref_num = static_cast<std::uint32_t>(order_id + 1000);
  p.locate = static_cast<std::uint16_t>(order_id % 8000);
  p.intent_type = 0;
  p.side = static_cast<std::uint8_t>(order_id & 1);
  std::memcpy(p.symbol, "AAPL    ", 8);
  p.strategy = 2;
  return p;
}

struct ReadAll {
  std::vector<Record> records;
  std::vector<std::vector<std::uint8_t>> payloads;  // copies (the reader's mappings go away)
  Issue issue;
  std::uint64_t last_sequence = 0;
};

inline ReadAll read_all(JournalReader reader) {
  ReadAll out;
  Record r;
  while (reader.next(r)) {
    out.payloads.emplace_back(r.payload, r.payload + r.payload_bytes);
    r.payload = nullptr;
    out.records.push_back(r);
  }
  out.issue = reader.issue();
  out.last_sequence = reader.last_sequence();
  return out;
}

inline ReadAll read_dir(const fs::path& dir) { return read_all(JournalReader::open_dir(dir.string(), kInstance, kDate)); }

// Sequences 1..n with no gap.
inline bool continuous(const ReadAll& r) {
  for (std::size_t i = 0; i < r.records.size(); ++i)
    if (r.records[i].header.sequence != i + 1) return false;
  return true;
}

}  // namespace hft::journal::testing
