#include "gateways/moldudp64/retransmit_store.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace hft::mold {

void RetransmitStoreConfig::validate() const {
  if (max_messages == 0 || max_messages > kMaxMessages)
    throw std::invalid_argument("retransmit store: max_messages must be 1.." + std::to_string(kMaxMessages) + ", got " +
                                std::to_string(max_messages));
  if (max_bytes < kMinBytes || max_bytes > kMaxBytes)
    throw std::invalid_argument("retransmit store: max_bytes must be " + std::to_string(kMinBytes) + ".." +
                                std::to_string(kMaxBytes) + " (one 64 KiB message must fit), got " +
                                std::to_string(max_bytes));
}

RetransmitStoreConfig parse_retransmit_store_config(const core::ConfigSection& s) {
  RetransmitStoreConfig c;
  c.max_messages = static_cast<std::size_t>(
      s.integer("max_messages", static_cast<std::int64_t>(c.max_messages), 1, RetransmitStoreConfig::kMaxMessages));
  c.max_bytes = static_cast<std::size_t>(s.integer("max_mb", static_cast<std::int64_t>(c.max_bytes >> 20), 1,
                                                   RetransmitStoreConfig::kMaxBytes >> 20))
                << 20;
  return c;
}

RetransmitStore::RetransmitStore(const RetransmitStoreConfig& config)
    : max_messages_((config.validate(), config.max_messages)), max_bytes_(config.max_bytes) {
  // make_unique value-initialises, which writes every page now rather than on the first append.
  index_ = std::make_unique<Entry[]>(max_messages_);
  bytes_ = std::make_unique<std::uint8_t[]>(max_bytes_);
}

bool RetransmitStore::append(std::uint64_t sequence, const std::uint8_t* msg, std::size_t len) noexcept {
  if (len > RetransmitStoreConfig::kMinBytes || (!empty() && sequence != next_)) {
    ++stats_.rejected;
    return false;
  }
  if (empty()) {
    first_ = sequence;
    next_ = sequence;
  }
  // Every message is contiguous in the ring, so a reply can copy it in one go: one that would
  // cross the end starts again at offset 0 and the tail stays unused.
  std::uint64_t begin = write_begin_;
  std::uint32_t offset = write_offset_;
  if (offset + len > max_bytes_) {
    begin += max_bytes_ - offset;
    offset = 0;
  }
  const std::uint64_t end = begin + len;
  while (!empty() && (size() == max_messages_ || end - index_[first_slot_].begin > max_bytes_)) evict_oldest();

  if (len != 0) std::memcpy(bytes_.get() + offset, msg, len);
  index_[slot_of(next_)] = Entry{begin, offset, static_cast<std::uint32_t>(len)};
  ++next_;
  ++stats_.appended;
  write_begin_ = end;
  const std::size_t write_end = offset + len;
  write_offset_ = write_end == max_bytes_ ? 0 : static_cast<std::uint32_t>(write_end);
  return true;
}

void RetransmitStore::evict_oldest() noexcept {
  ++first_;
  ++first_slot_;
  if (first_slot_ == max_messages_) first_slot_ = 0;
  ++stats_.evicted;
}

StoreLookup RetransmitStore::find(std::uint64_t sequence, std::span<const std::uint8_t>& out) const noexcept {
  if (sequence >= next_) return StoreLookup::kNotPublished;
  if (sequence < first_) return StoreLookup::kEvicted;
  const Entry& e = index_[slot_of(sequence)];
  out = {bytes_.get() + e.offset, e.length};
  return StoreLookup::kHeld;
}

std::size_t RetransmitStore::bytes_in_use() const noexcept {
  return empty() ? 0 : static_cast<std::size_t>(write_begin_ - index_[first_slot_].begin);
}

void RetransmitStore::reset(std::uint64_t next_sequence) noexcept {
  stats_.evicted += size();
  first_ = next_sequence;
  next_ = next_sequence;
}

}  // namespace hft::mold
