#include "gateways/moldudp64/session.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace hft::mold {

void validate(const SessionConfig& c) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("moldudp64 session config: " + what); };
  if (c.store_packets == 0) bad("store_packets must be at least 1");
  if (c.store_packets > std::numeric_limits<std::uint32_t>::max()) bad("store_packets is too large");
  if (c.store_packet_bytes < kHeaderSize) bad("store_packet_bytes must be at least the 20-byte header");
  if (c.store_packet_bytes > 65535) bad("store_packet_bytes must be at most 65535 (no UDP payload is larger)");
  if (c.max_request_count == 0) bad("max_request_count must be at least 1");
  // 0xFFFF is the end-of-session count in a downstream header (spec p.5); a request never needs it.
  if (c.max_request_count == kEndOfSessionCount) bad("max_request_count must be below 65535");
  if (c.request_timeout_ns == 0) bad("request_timeout_ns must be positive");
  if (c.recovery_deadline_ns == 0) bad("recovery_deadline_ns must be positive");
  if (c.max_sequence_jump == 0) bad("max_sequence_jump must be at least 1");
}

PacketStore::PacketStore(std::size_t slots, std::size_t slot_bytes)
    : bytes_(slots * slot_bytes), entries_(slots), free_(slots), slot_bytes_(slot_bytes) {
  clear();
}

void PacketStore::clear() noexcept {
  head_ = 0;
  count_ = 0;
  free_top_ = free_.size();
  for (std::size_t i = 0; i < free_.size(); ++i) free_[i] = static_cast<std::uint32_t>(free_.size() - 1 - i);
}

PacketStore::Insert PacketStore::insert(std::uint64_t first, std::uint64_t end, const std::uint8_t* packet,
                                        std::size_t len) noexcept {
  if (len > slot_bytes_) return Insert::kTooLarge;
  // Position: after every entry whose first <= `first` (equal firsts keep arrival order).
  std::size_t pos = count_;
  while (pos > 0 && entries_[index(pos - 1)].first > first) --pos;
  if (pos > 0 && entries_[index(pos - 1)].end >= end) return Insert::kRedundant;
  if (full()) return Insert::kFull;
  const std::uint32_t slot = free_[--free_top_];
  std::memcpy(bytes_.data() + static_cast<std::size_t>(slot) * slot_bytes_, packet, len);
  for (std::size_t i = count_; i > pos; --i) entries_[index(i)] = entries_[index(i - 1)];
  entries_[index(pos)] = Entry{first, end, static_cast<std::uint32_t>(len), slot};
  ++count_;
  return Insert::kStored;
}

void PacketStore::pop_front() noexcept {
  if (count_ == 0) return;
  free_[free_top_++] = entries_[head_].slot;
  head_ = index(1);
  --count_;
}

}  // namespace hft::mold
