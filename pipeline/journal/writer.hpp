#pragma once
// The write-ahead journal's writer. One producer (the egress thread) appends records into the
// segment's *stage*, a tmpfs file mapping of the segment's size (/dev/shm by default): a bounds
// check, a CRC32C and a copy; no syscall, lock, allocation, exception or page fault. A
// background flusher thread (core::Runner, its own duty cycle) does every syscall: it copies
// what was appended from the stage into the preallocated segment file with pwrite (every pass,
// so readers of the live journal see it within a pass), fdatasyncs according to the sync policy
// and publishes how far is durable, faults in the stage's pages ahead of the writer, prepares
// the next segment and its stage ahead of time, and releases segments the writer has left.
//
// Why a stage and not a mapping of the segment file: a store to a page of a shared *file*
// mapping faults whenever the page is clean (first touch, and again after every writeback or
// msync write-protects it), and on ext4 that fault joins a jbd2 transaction: microseconds, and
// milliseconds while another process fsyncs. tmpfs pages are never written back. A process
// crash leaves the stage in tmpfs: the next open writes its records into the segment file
// before reading the journal; a power loss loses what was not yet synced, as before.
//
//   journal::JournalWriter jw(config, "hftd-a", 20240607);   // recovers a torn tail, starts the flusher
//   if (jw.append(intent_payload, now_ns) != journal::AppendStatus::kOk) ... refuse the order
//   jw.append_sent(bytes, now_ns);  jw.append_received(soup_seq, bytes, now_ns);
//   jw.durable_sequence();    // any thread
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/compiler.hpp"
#include "pipeline/journal/config.hpp"
#include "pipeline/journal/format.hpp"

namespace hft::core {
class Runner;
}

namespace hft::journal {

class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class AppendStatus : std::uint8_t {
  kOk,
  kTooLarge,         // the bytes exceed kMaxBlob
  kNotReady,         // the segment is full and the flusher has not prepared the next one yet
  kClosed,
};
[[nodiscard]] std::string_view to_string(AppendStatus s) noexcept;

// What opening the journal found.
struct OpenReport {
  std::uint64_t records = 0;          // good records already in the journal
  std::uint64_t last_sequence = 0;    // of those
  std::uint64_t truncated_bytes = 0;  // torn tail zeroed (0: the journal ended cleanly)
  std::string torn;                   // the reader's description of the torn tail, if any
  std::uint32_t segment_index = 0;    // where appending resumes
  std::uint32_t stages_recovered = 0; // stages left by a writer that did not close, written back
  std::uint64_t stage_bytes = 0;      // the bytes of those stages
};

// Counters of the writer thread (read them on that thread, or after close()).
struct WriterCounters {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t rotations = 0;
  std::uint64_t not_ready = 0;  // appends refused: the next segment was not prepared in time
  std::uint64_t too_large = 0;
};

class JournalWriter {
 public:
  // Opens the journal of (instance, trading_date) in config.dir, creating the directory and the
  // first segment if needed; a torn tail is truncated (open_report() says so). Throws
  // JournalError for a journal with errors (corruption in the middle, gaps, foreign segments)
  // or an I/O failure.
  JournalWriter(const JournalConfig& config, std::string_view instance, std::uint32_t trading_date,
                std::uint64_t now_ns = 0);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // ---- the producer thread -----------------------------------------------------------------
  template <class P>
  [[nodiscard]] AppendStatus append(const P& payload, std::uint64_t now_ns) noexcept {
    static_assert(std::is_trivially_copyable_v<P> && sizeof(P) + sizeof(RecordHeader) <= 0xffff);
    return write(P::kType, &payload, sizeof(P), nullptr, 0, now_ns);
  }
  // An OUCH message handed to SoupBinTCP.
  // Issue 14: `venue` is the session's (BlobPayload::venue; 0 with one venue).
  [[nodiscard]] AppendStatus append_sent(std::span<const std::uint8_t> ouch, std::uint64_t now_ns,
                                         std::uint8_t venue = 0) noexcept {
    return append_blob(RecordType::kOuchSent, 0, false, ouch, now_ns, venue);
  }
  // An OUCH message from the venue: `soup_sequence` of a Sequenced Data packet, 0 for Unsequenced.
  [[nodiscard]] AppendStatus append_received(std::uint64_t soup_sequence, std::span<const std::uint8_t> ouch,
                                             std::uint64_t now_ns, std::uint8_t venue = 0) noexcept {
    return append_blob(RecordType::kOuchReceived, soup_sequence, soup_sequence != 0, ouch, now_ns, venue);
  }
  [[nodiscard]] AppendStatus append_command(std::string_view text, std::uint64_t now_ns) noexcept {
    return append_blob(RecordType::kCommand, 0, false,
                       {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, now_ns);
  }
  [[nodiscard]] AppendStatus append_blob(RecordType type, std::uint64_t soup_sequence, bool sequenced,
                                         std::span<const std::uint8_t> bytes, std::uint64_t now_ns,
                                         std::uint8_t venue = 0) noexcept;

  // The sequence the next record gets.
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return sequence_; }
  [[nodiscard]] const WriterCounters& counters() const noexcept { return counters_; }

  // ---- any thread --------------------------------------------------------------------------
  // Last sequence appended (visible to the flusher).
  [[nodiscard]] std::uint64_t appended_sequence() const noexcept { return shared_.committed.load(std::memory_order_acquire); }
  // Last sequence known to be on stable storage (fdatasync returned); 0 for none.
  // With sync = "none" it moves only at close().
  [[nodiscard]] std::uint64_t durable_sequence() const noexcept { return durable_.value.load(std::memory_order_acquire); }
  // Waits (sleeping) until durable_sequence() >= sequence or the timeout passes. Not for the hot path.
  bool wait_durable(std::uint64_t sequence, std::uint64_t timeout_ns) const noexcept;
  // Last sequence written from the stage into the segment files: what a reader of the live
  // journal (hft-journal, hftctl serve) can see. Moves every flusher pass, whatever the policy.
  [[nodiscard]] std::uint64_t written_sequence() const noexcept { return durable_.written.load(std::memory_order_acquire); }
  bool wait_written(std::uint64_t sequence, std::uint64_t timeout_ns) const noexcept;
  [[nodiscard]] std::uint64_t syncs() const noexcept { return durable_.syncs.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t sync_errors() const noexcept { return durable_.errors.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t segments_prepared() const noexcept { return durable_.prepared.load(std::memory_order_relaxed); }

  // ---- cold --------------------------------------------------------------------------------
  [[nodiscard]] const OpenReport& open_report() const noexcept { return report_; }
  [[nodiscard]] const JournalConfig& config() const noexcept { return config_; }
  // Stops the flusher, writes out and syncs everything appended (whatever the policy), releases
  // the stages, and removes a prepared segment that received no record. Appends after it return
  // kClosed.
  void close() noexcept;

  // A writer that did not close (a crash, kill -9) leaves its stages in tmpfs with records its
  // flusher had not yet written to the segment files. This writes them there and removes the
  // stages; the constructor does it, and whoever reads the journal before opening the writer
  // (hftd's recovery) must call it first. Throws JournalError.
  struct StageRecovery {
    std::uint32_t stages = 0;
    std::uint64_t bytes = 0;
  };
  static StageRecovery recover_stages(const JournalConfig& config, std::string_view instance, std::uint32_t date);
  static std::string stage_dir_of(const JournalConfig& config);     // config.stage_dir, $HFT_CONTROL_DIR, /dev/shm
  static std::string stage_prefix_of(const JournalConfig& config);  // "hft-journal-<FNV-1a of the directory>-"

  struct Slot;
  class Flusher;

 private:
  AppendStatus write(RecordType type, const void* head, std::size_t head_bytes, const void* tail, std::size_t tail_bytes,
                     std::uint64_t now_ns) noexcept;
  HFT_COLD bool rotate() noexcept;
  [[nodiscard]] std::string segment_path(std::uint32_t index) const;
  [[nodiscard]] std::string stage_path(std::uint32_t index) const;

  // The producer's own state: one cache line read and written by it alone.
  std::uint8_t* base_ = nullptr;
  std::uint64_t cursor_ = 0;
  std::uint64_t limit_ = 0;
  std::uint64_t sequence_ = 1;
  std::uint32_t segment_ = 0;
  Slot* slot_ = nullptr;
  bool closed_ = false;
  WriterCounters counters_;

  // Written by the producer, read by the flusher. The segment index changes only at a rotation,
  // so it has a line of its own: the flusher polls it without taking the line that every append
  // writes away from the producer.
  struct alignas(core::kFalseSharingRange) Shared {
    std::atomic<std::uint64_t> committed{0};  // last sequence appended
  } shared_;
  struct alignas(core::kFalseSharingRange) Position {
    std::atomic<std::uint64_t> writer_segment{0};  // index of the segment being appended to
  } position_;
  // Written by the flusher, read by anyone.
  struct alignas(core::kFalseSharingRange) Durable {
    std::atomic<std::uint64_t> value{0};
    std::atomic<std::uint64_t> syncs{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> prepared{0};
    std::atomic<std::uint64_t> written{0};
  } durable_;
  static_assert(alignof(Shared) >= core::kFalseSharingRange && alignof(Durable) >= core::kFalseSharingRange,
                "the producer's and the flusher's published fields sit on their own cache lines");

  JournalConfig config_;
  std::string instance_;
  std::uint32_t date_;
  OpenReport report_;
  std::string stage_dir_;     // where the stages live (config.stage_dir, else $HFT_CONTROL_DIR, else /dev/shm)
  std::string stage_prefix_;  // "hft-journal-<FNV-1a of the journal directory>-"
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<Flusher> flusher_;
  std::unique_ptr<core::Runner> runner_;
};

}  // namespace hft::journal
