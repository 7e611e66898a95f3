#pragma once
// Bytes an engine has produced and the transport has not written yet. Fixed capacity, allocated
// once; the pending bytes are always one contiguous span (ready for send() or an io_uring SQE),
// and are slid to the front only when a new packet would not fit behind them.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "gateways/soupbintcp/packet.hpp"

namespace hft::soup {

class OutputBuffer {
 public:
  explicit OutputBuffer(std::size_t capacity)
      : capacity_(capacity), data_(std::make_unique<std::uint8_t[]>(capacity)) {}

  // Room for `n` more bytes, or nullptr. commit() the bytes actually written.
  [[nodiscard]] std::uint8_t* reserve(std::size_t n) noexcept {
    if (capacity_ - end_ >= n) return data_.get() + end_;
    if (capacity_ - (end_ - begin_) < n) return nullptr;
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    return data_.get() + end_;
  }
  void commit(std::size_t n) noexcept { end_ += n; }

  // Appends one whole SoupBinTCP packet (header + payload); false when it does not fit.
  bool put_packet(std::uint8_t type, std::span<const std::uint8_t> payload = {}) noexcept {
    std::uint8_t* p = reserve(kHeaderSize + payload.size());
    if (p == nullptr) return false;
    write_header(p, type, payload.size());
    if (!payload.empty()) std::memcpy(p + kHeaderSize, payload.data(), payload.size());
    commit(kHeaderSize + payload.size());
    return true;
  }

  [[nodiscard]] std::span<const std::uint8_t> pending() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  void consume(std::size_t n) noexcept {
    begin_ += n < end_ - begin_ ? n : end_ - begin_;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() noexcept { begin_ = end_ = 0; }

  [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t free_space() const noexcept { return capacity_ - (end_ - begin_); }

 private:
  std::size_t capacity_;
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace hft::soup
