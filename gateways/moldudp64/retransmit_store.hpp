#pragma once
// The venue's memory of what it published, for the re-request server: the most recent messages,
// indexed by MoldUDP64 sequence number. Two pre-allocated rings sized by configuration: one of
// message bytes, one of index entries (where each message starts, how long it is). Appending a
// message evicts the oldest ones until both fit; lookups of evicted sequences say so. Nothing is
// allocated after construction.
//
// Single-threaded: the publisher appends and the re-request server reads from the same thread
// (the venue's loop). Sharing it across threads would need a seqlock per entry.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/config.hpp"

namespace hft::mold {

struct RetransmitStoreConfig {
  std::size_t max_messages = std::size_t{1} << 20;  // index entries (16 bytes each)
  std::size_t max_bytes = std::size_t{64} << 20;    // message bytes; at least kMinBytes

  // One 64 KiB message must always fit (MoldUDP64 lengths are u16, spec 1.00 p.6), and offsets
  // are kept in 32 bits.
  static constexpr std::size_t kMinBytes = 0xFFFF;
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 31;
  static constexpr std::size_t kMaxMessages = std::size_t{1} << 31;

  // Throws std::invalid_argument naming the field at fault.
  void validate() const;
};

// Reads max_messages and max_mb (MiB of message bytes) from a TOML table; errors name the key.
RetransmitStoreConfig parse_retransmit_store_config(const core::ConfigSection& section);

enum class StoreLookup : std::uint8_t {
  kHeld,          // the message is in the store
  kEvicted,       // published, but pushed out by newer messages (or before the first one held)
  kNotPublished,  // at or beyond next_sequence()
};

struct RetransmitStoreStats {
  std::uint64_t appended = 0;
  std::uint64_t evicted = 0;
  std::uint64_t rejected = 0;  // append() of a sequence that does not follow the last one
};

class RetransmitStore {
 public:
  // Allocates (and touches, so no page fault comes later) both rings. Throws on a bad config.
  explicit RetransmitStore(const RetransmitStoreConfig& config);

  // Keeps message `sequence`. It must be next_sequence(), or anything while the store is empty
  // (the first message sets the base). Returns false, and counts it, otherwise or when the
  // message is longer than 65,535 bytes.
  bool append(std::uint64_t sequence, const std::uint8_t* msg, std::size_t len) noexcept;

  // Sets `out` to the bytes of message `sequence` when held. The view stays valid until the
  // next append().
  [[nodiscard]] StoreLookup find(std::uint64_t sequence, std::span<const std::uint8_t>& out) const noexcept;

  // Oldest sequence held (== next_sequence() when empty).
  [[nodiscard]] std::uint64_t first_sequence() const noexcept { return first_; }
  // One past the newest sequence appended; before any append, 1 (MoldUDP64 sessions start at 1).
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(next_ - first_); }
  [[nodiscard]] bool empty() const noexcept { return next_ == first_; }
  // Bytes of the ring between the oldest message held and the write position (includes the
  // unused tails skipped so that every message is contiguous).
  [[nodiscard]] std::size_t bytes_in_use() const noexcept;
  [[nodiscard]] const RetransmitStoreStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t capacity_messages() const noexcept { return max_messages_; }
  [[nodiscard]] std::size_t capacity_bytes() const noexcept { return max_bytes_; }

  // Forgets everything held; the store then expects `next_sequence` (the next append() may
  // still set another base, as on an empty store).
  void reset(std::uint64_t next_sequence) noexcept;

 private:
  // `begin` counts bytes written since construction (never wraps in practice: 2^64 bytes);
  // `offset` is where the bytes sit in the ring (begin mod max_bytes, kept to avoid a division).
  struct Entry {
    std::uint64_t begin;
    std::uint32_t offset;
    std::uint32_t length;
  };
  static_assert(sizeof(Entry) == 16, "two index entries per 32 bytes");

  [[nodiscard]] std::size_t slot_of(std::uint64_t sequence) const noexcept {
    const std::size_t s = first_slot_ + static_cast<std::size_t>(sequence - first_);
    return s >= max_messages_ ? s - max_messages_ : s;
  }
  void evict_oldest() noexcept;

  std::size_t max_messages_;
  std::size_t max_bytes_;
  std::unique_ptr<Entry[]> index_;
  std::unique_ptr<std::uint8_t[]> bytes_;
  std::uint64_t first_ = 1;
  std::uint64_t next_ = 1;
  std::size_t first_slot_ = 0;  // slot of first_
  std::uint64_t write_begin_ = 0;
  std::uint32_t write_offset_ = 0;
  RetransmitStoreStats stats_;
};

}  // namespace hft::mold
