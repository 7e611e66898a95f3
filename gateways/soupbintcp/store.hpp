#pragma once
// The server's record of one sequenced stream, so that a client that logs in again with its next
// expected sequence number gets exactly what it missed (SoupBinTCP 3.00 §1.2: re-login with the
// next expected number resumes without gap or duplicate).
//
// Bounded, allocated once: a ring of `max_messages` index entries and a byte ring of `max_bytes`.
// Past either bound the OLDEST messages are evicted (counted in evicted()): the stream and the
// live sessions go on, and only a client asking for an evicted sequence number is refused
// (Login Rejected 'S'); a connected client whose send position falls behind the window is
// disconnected with a logged reason rather than silently skipped. Size the store for a trading
// day of one account's outbound messages and neither happens.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

namespace hft::soup {

class SequencedStore {
 public:
  // max_message: the largest payload append() accepts (<= max_bytes).
  SequencedStore(std::size_t max_messages, std::size_t max_bytes, std::size_t max_message)
      : max_messages_(max_messages), max_bytes_(max_bytes), max_message_(max_message) {
    if (max_messages == 0 || max_bytes == 0) throw std::invalid_argument("sequenced store: sizes must be positive");
    if (max_message > max_bytes)
      throw std::invalid_argument("sequenced store: max_bytes (" + std::to_string(max_bytes) +
                                  ") must hold the largest message (" + std::to_string(max_message) + ")");
    if (max_bytes > 0xFFFFFFFFull) throw std::invalid_argument("sequenced store: max_bytes must be below 4 GiB");
    entries_ = std::make_unique<Entry[]>(max_messages);
    bytes_ = std::make_unique<std::uint8_t[]>(max_bytes);
  }

  // Sequence number the next append() gets; the first message of a stream is 1.
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_; }
  // Oldest sequence number still held (== next_sequence() when none is).
  [[nodiscard]] std::uint64_t first_sequence() const noexcept { return next_ - count_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t evicted() const noexcept { return evicted_; }
  [[nodiscard]] std::size_t max_message() const noexcept { return max_message_; }

  // Room for a message of up to `n` bytes, written in place, then commit()ed; nullptr when
  // n > max_message. May evict old messages to make room.
  [[nodiscard]] std::uint8_t* reserve(std::size_t n) noexcept {
    if (n > max_message_) return nullptr;
    std::size_t pos = head_;
    if (max_bytes_ - pos < n) pos = 0;  // no wrap inside a message: skip the ring's tail
    // Evict, oldest first, every message in the stretch from head_ to the end of the new one.
    const std::size_t span = pos == head_ ? n : (max_bytes_ - head_) + n;
    while (count_ > 0 && (count_ == max_messages_ || forward_distance(oldest().offset) < span)) evict_one();
    if (count_ == 0) {
      head_ = 0;
      pos = 0;
    }
    reserved_at_ = pos;
    return bytes_.get() + pos;
  }
  // Makes the reserved message (n <= the reserved size) sequence next_sequence().
  std::uint64_t commit(std::size_t n) noexcept {
    Entry& e = entries_[next_ % max_messages_];
    e.offset = static_cast<std::uint32_t>(reserved_at_);
    e.size = static_cast<std::uint32_t>(n);
    head_ = reserved_at_ + n;
    if (head_ == max_bytes_) head_ = 0;
    ++count_;
    return next_++;
  }
  // Appends a copy; returns its sequence number, or 0 when it is larger than max_message.
  std::uint64_t append(const std::uint8_t* data, std::size_t n) noexcept {
    std::uint8_t* p = reserve(n);
    if (p == nullptr) return 0;
    if (n > 0) std::memcpy(p, data, n);
    return commit(n);
  }

  [[nodiscard]] bool holds(std::uint64_t seq) const noexcept { return seq >= first_sequence() && seq < next_; }
  // The message with sequence number `seq`; holds(seq) must be true.
  [[nodiscard]] std::span<const std::uint8_t> get(std::uint64_t seq) const noexcept {
    const Entry& e = entries_[seq % max_messages_];
    return {bytes_.get() + e.offset, e.size};
  }

  // Forgets everything and restarts the stream at sequence 1 (a new session / trading day).
  void clear() noexcept {
    next_ = 1;
    count_ = 0;
    head_ = 0;
  }

 private:
  struct Entry {
    std::uint32_t offset;
    std::uint32_t size;
  };
  [[nodiscard]] const Entry& oldest() const noexcept { return entries_[first_sequence() % max_messages_]; }
  void evict_one() noexcept {
    --count_;
    ++evicted_;
  }
  // Bytes from head_ forward (wrapping) to `offset`.
  [[nodiscard]] std::size_t forward_distance(std::size_t offset) const noexcept {
    return offset >= head_ ? offset - head_ : max_bytes_ - head_ + offset;
  }

  std::size_t max_messages_;
  std::size_t max_bytes_;
  std::size_t max_message_;
  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<std::uint8_t[]> bytes_;
  std::uint64_t next_ = 1;
  std::size_t count_ = 0;
  std::size_t head_ = 0;  // where the byte after the newest message is
  std::size_t reserved_at_ = 0;
  std::uint64_t evicted_ = 0;
};

}  // namespace hft::soup
