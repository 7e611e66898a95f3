#pragma once
// The [journal] section of hftd's configuration:
//
//   [journal]
//   dir = "/var/lib/hftd/journal"   # required
//   segment_mb = 64                 # preallocated size of one segment file, 1..4096
//   sync = "interval:10ms"          # "none" | "interval:<n>ms" | "interval:<n>us" | "every"
//   flusher_cpu = -1                # CPU of the flusher thread, -1: not pinned
//   stage_dir = "/dev/shm"          # tmpfs directory of the segments' stages (default: $HFT_CONTROL_DIR
//                                   # or /dev/shm); needs room for 2-3 segments (writer.hpp)
//
// Errors name the file, line and key (core::ConfigSection).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.hpp"

namespace hft::journal {

enum class SyncMode : std::uint8_t {
  kNone,      // the kernel writes back when it likes (durable against a process crash only)
  kInterval,  // the flusher msyncs what was appended, every interval_ns
  kEvery,     // the flusher msyncs as soon as anything was appended (it polls; the writer never waits)
};

struct SyncPolicy {
  SyncMode mode = SyncMode::kInterval;
  std::uint64_t interval_ns = 10'000'000;
  friend bool operator==(const SyncPolicy&, const SyncPolicy&) = default;
};

// "none", "every", "interval:10ms", "interval:500us"; false on anything else (interval 1us..60s).
[[nodiscard]] bool parse_sync_policy(std::string_view text, SyncPolicy& out) noexcept;
[[nodiscard]] std::string to_string(const SyncPolicy& policy);

struct JournalConfig {
  std::string dir;
  std::uint64_t segment_bytes = 64ull << 20;
  SyncPolicy sync;
  int flusher_cpu = -1;
  std::string stage_dir;  // "": $HFT_CONTROL_DIR, else /dev/shm
};

inline constexpr std::uint64_t kMinSegmentBytes = 64ull << 10;  // tests use small segments; the config's floor is 1 MiB

// Reads [journal]; throws core::ConfigError naming the file, line and key. Rejects unknown keys.
[[nodiscard]] JournalConfig parse_journal_config(const core::ConfigSection& section);

}  // namespace hft::journal
