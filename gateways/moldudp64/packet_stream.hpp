#pragma once
// MoldUDP64 downstream packets stored back to back with no framing between them (a raw dump of
// the UDP payloads). A packet's extent is known only by walking its `count` blocks, so the cursor
// walks every length, bounds-checked: a packet cut short by the end of the data is returned once
// with `truncated` set, how many of its messages are whole, and how many bytes are missing.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gateways/common/endian.hpp"
#include "gateways/moldudp64/packet.hpp"

namespace hft::mold {

struct StreamPacket {
  PacketHeader header;
  const std::uint8_t* data = nullptr;  // header first; `size` bytes (up to the end if truncated)
  std::size_t size = 0;
  std::uint64_t offset = 0;            // in the stream
  std::uint16_t complete_messages = 0; // whole message blocks
  bool truncated = false;              // the data ends inside this packet
  std::size_t missing = 0;             // bytes that would complete the cut block (or header)
};

class PacketStreamCursor {
 public:
  explicit PacketStreamCursor(std::span<const std::uint8_t> data) noexcept : data_(data.data()), size_(data.size()) {}

  // The next packet, false at the end. A cut header is not returned: it shows as tail_truncated().
  bool next(StreamPacket& out) noexcept {
    if (done_ || off_ == size_) return false;
    const std::size_t start = off_;
    std::size_t left = size_ - start;
    if (left < kHeaderSize) {
      done_ = true;
      tail_truncated_ = true;
      tail_missing_ = kHeaderSize - left;
      return false;
    }
    out = StreamPacket{};
    PacketHeader::parse(data_ + start, left, out.header);
    out.data = data_ + start;
    out.offset = start;
    std::size_t pos = start + kHeaderSize;
    const std::uint16_t count = out.header.message_count();
    for (std::uint16_t i = 0; i < count; ++i) {
      left = size_ - pos;
      if (left < 2) return cut(out, 2 - left);
      const std::size_t len = wire::load_be16(data_ + pos);
      if (len > left - 2) return cut(out, len - (left - 2));
      pos += 2 + len;
      ++out.complete_messages;
    }
    out.size = pos - start;
    off_ = pos;
    return true;
  }

  [[nodiscard]] bool tail_truncated() const noexcept { return tail_truncated_; }
  [[nodiscard]] std::size_t tail_missing() const noexcept { return tail_missing_; }
  [[nodiscard]] std::uint64_t offset() const noexcept { return off_; }

 private:
  bool cut(StreamPacket& out, std::size_t missing) noexcept {
    out.truncated = true;
    out.missing = missing;
    out.size = size_ - out.offset;
    off_ = size_;
    done_ = true;
    return true;
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t off_ = 0;
  bool done_ = false;
  bool tail_truncated_ = false;
  std::size_t tail_missing_ = 0;
};

}  // namespace hft::mold
