#pragma once
// The control file's two sides (layout.hpp): ControlFile, created and written by hftd, and
// ControlReader, attached by hftctl. Set-up errors throw std::runtime_error with a message that
// says what is wrong and what to do.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.hpp"
#include "pipeline/control/layout.hpp"

namespace hft::control {

struct ControlSizes {
  std::uint32_t counters = 256;
  std::uint32_t histograms = 16;
  std::uint32_t threads = 16;
  std::uint32_t positions = 256;
  std::uint32_t commands = 32;
  std::uint32_t algos = 64;
  std::uint32_t strategies = 32;
};

// Where control files live: $HFT_CONTROL_DIR, else /dev/shm.
std::string control_dir();
std::string control_path(std::string_view instance, std::string_view dir = {});

class ControlFile {
 public:
  // Creates dir/hftd.<instance> (mode 0600) and holds its lock (an F_OFD_SETLK write lock) for
  // its lifetime: the instance is owned by that lock, which the kernel releases only when the
  // owner exits or dies. A file whose lock is free (its owner died) is reused; a held lock is an
  // error naming the owner's pid, however old its heartbeat (a stopped or hung hftd keeps the name).
  ControlFile(std::string_view instance, const ControlSizes& sizes, const core::HistogramLayout& histograms,
              std::string_view dir = {});
  ~ControlFile();  // unmaps and removes the file, then releases the lock
  ControlFile(const ControlFile&) = delete;
  ControlFile& operator=(const ControlFile&) = delete;

  [[nodiscard]] Header& header() noexcept { return *header_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // Start-up: define a counter (nullptr when the table is full).
  CounterSlot* counter(std::string_view name, CounterKind kind = CounterKind::kCounter) noexcept;
  // Start-up: a named histogram's counts (the recording core::Histogram is built over them).
  std::span<std::uint64_t> histogram(std::string_view name) noexcept;
  ThreadSlot* thread_slot(std::uint32_t i) noexcept;
  PositionSlot* position_slot(std::uint32_t i) noexcept;
  RiskBlock& risk() noexcept;
  FeedBlock& feed() noexcept;
  OrderEntryBlock& order_entry() noexcept;
  CommandSlot* command_slot(std::uint32_t i) noexcept;
  [[nodiscard]] std::uint32_t command_slots() const noexcept { return header_->command_slots; }
  AlgoSlot* algo_slot(std::uint32_t i) noexcept;
  StrategySlot* strategy_slot(std::uint32_t i) noexcept;

  void set_state(DaemonState s) noexcept { header_->state.store(static_cast<std::uint32_t>(s), std::memory_order_release); }
  void heartbeat() noexcept;

 private:
  template <class T>
  T* at(std::uint32_t offset) noexcept { return reinterpret_cast<T*>(base_ + offset); }

  std::string path_;
  int lock_fd_ = -1;  // open for the lifetime: closing it releases the instance
  std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  Header* header_ = nullptr;
  std::uint32_t next_counter_ = 0;
  std::uint32_t next_histogram_ = 0;
};

// A snapshot of what hftctl shows, read without disturbing the daemon.
struct CounterValue {
  std::string name;
  CounterKind kind;
  std::uint64_t value;
};

struct CommandResult {
  bool ok = false;
  std::string message;
};

class ControlReader {
 public:
  // Attaches dir/hftd.<instance>. Throws std::runtime_error: no such instance (lists the ones
  // that exist), a file owned by another user (refused), another magic or layout version, or a
  // stale file (no process holds its lock, or its heartbeat stopped) unless `allow_stale`.
  explicit ControlReader(std::string_view instance, std::string_view dir = {}, bool allow_stale = false);
  ~ControlReader();
  ControlReader(const ControlReader&) = delete;
  ControlReader& operator=(const ControlReader&) = delete;

  [[nodiscard]] const Header& header() const noexcept { return *header_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // A living process holds the file's instance lock (the kernel's word: it drops the lock when
  // the owner exits or dies, never while it is stopped or hung).
  [[nodiscard]] bool owned() const noexcept;
  [[nodiscard]] bool alive() const noexcept;                   // owned, heartbeat fresh, not stopped
  [[nodiscard]] std::uint64_t heartbeat_age_ns() const noexcept;

  [[nodiscard]] std::vector<CounterValue> counters() const;
  [[nodiscard]] std::optional<std::uint64_t> counter(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> histogram_names() const;
  // A private copy of one histogram (counts copied now), or nullopt.
  [[nodiscard]] std::optional<core::Histogram> histogram(std::string_view name) const;
  [[nodiscard]] std::vector<ThreadSlot> threads() const;
  [[nodiscard]] std::vector<PositionSlot> positions() const;
  [[nodiscard]] RiskBlock risk() const;
  [[nodiscard]] FeedBlock feed() const;
  [[nodiscard]] OrderEntryBlock order_entry() const;
  [[nodiscard]] std::vector<AlgoSlot> algos() const;
  [[nodiscard]] std::vector<StrategySlot> strategies() const;

  // Sends a command and waits (up to timeout_ms) for the daemon's answer.
  CommandResult command(CommandOp op, std::string_view key = {}, std::string_view value = {}, int timeout_ms = 3000);

  // The instances with a control file in `dir`.
  static std::vector<std::string> list_instances(std::string_view dir = {});

 private:
  template <class T>
  const T* at(std::uint32_t offset) const noexcept { return reinterpret_cast<const T*>(base_ + offset); }
  void release() noexcept;  // unmaps, closes
  // Why the header's sections do not fit the mapping, or "".
  [[nodiscard]] std::string check_sections() const;

  std::string path_;
  int fd_ = -1;
  std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  const Header* header_ = nullptr;
  core::HistogramLayout layout_{};
};

}  // namespace hft::control
