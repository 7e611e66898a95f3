#pragma once
// Turns a TCP byte stream into SoupBinTCP logical packets. TCP may split a packet across reads or
// put several in one (SoupBinTCP 3.00 §1.1: logical packets do not map to physical ones), so:
//  * whole packets inside one read are handed out in place, without a copy;
//  * only a packet cut by the end of a read is copied into a buffer sized once, at construction,
//    for the largest packet this direction allows (2 + max_length bytes): no allocation later.
// The header (length + type) is validated as soon as its 3 bytes are in, before any payload is
// buffered, so an oversize or unknown packet is refused without waiting for (or storing) it.
// After an error the framer stays failed until reset(): the session closes with that reason.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "gateways/common/endian.hpp"
#include "gateways/soupbintcp/packet.hpp"

namespace hft::soup {

struct Packet {
  std::uint8_t type = 0;
  const std::uint8_t* payload = nullptr;  // valid only during the callback
  std::size_t size = 0;                   // payload bytes (Packet Length - 1)
};

struct FramerError {
  PacketError error = PacketError::kNone;
  std::uint8_t type = 0;      // the offending packet's type byte (0 when not read yet)
  std::size_t length = 0;     // its Packet Length field
};

struct FeedResult {
  std::size_t consumed = 0;  // bytes taken from the input (all of it unless stopped or failed)
  std::size_t packets = 0;   // packets handed out
  bool stopped = false;      // the callback returned false
  bool failed = false;       // a malformed packet: see Framer::error()
};

class Framer {
 public:
  // max_length: the largest Packet Length (type + payload) accepted, 1..65535.
  Framer(Direction direction, std::size_t max_length, bool server_unsequenced = false)
      : direction_(direction),
        max_length_(max_length < 1 ? 1 : (max_length > kMaxPacketLength ? kMaxPacketLength : max_length)),
        server_unsequenced_(server_unsequenced),
        buffer_(std::make_unique<std::uint8_t[]>(kLengthFieldSize + max_length_)) {}

  // Feeds bytes; calls on_packet(const Packet&) -> bool for each complete packet, stopping early
  // when it returns false (the unconsumed rest is the caller's to drop or re-feed).
  template <class OnPacket>
  FeedResult feed(const std::uint8_t* data, std::size_t size, OnPacket&& on_packet) {
    FeedResult r;
    if (error_.error != PacketError::kNone) {
      r.failed = true;
      return r;
    }
    std::size_t off = 0;
    // 1. Complete a packet left over from the previous read.
    if (have_ > 0) {
      off = fill_partial(data, size);
      if (error_.error != PacketError::kNone) return fail(r, off);
      if (!partial_complete()) {
        r.consumed = off;
        return r;
      }
      const Packet p{buffer_[2], buffer_.get() + kHeaderSize, need_ - kHeaderSize};
      have_ = 0;
      need_ = 0;
      ++r.packets;
      if (!on_packet(p)) {
        r.consumed = off;
        r.stopped = true;
        return r;
      }
    }
    // 2. Whole packets in place.
    while (size - off >= kHeaderSize) {
      const std::uint8_t* h = data + off;
      const std::size_t length = wire::load_be16(h);
      const PacketError e = validate_header(direction_, h[2], length, max_length_, server_unsequenced_);
      if (e != PacketError::kNone) {
        error_ = {e, h[2], length};
        return fail(r, off);
      }
      if (size - off < kLengthFieldSize + length) break;
      const Packet p{h[2], h + kHeaderSize, length - 1};
      off += kLengthFieldSize + length;
      ++r.packets;
      if (!on_packet(p)) {
        r.consumed = off;
        r.stopped = true;
        return r;
      }
    }
    // 3. Keep the tail (a partial header or packet). A 2-byte tail already tells the length.
    const std::size_t rest = size - off;
    if (rest > 0) {
      if (rest >= kLengthFieldSize && wire::load_be16(data + off) == 0) {
        error_ = {PacketError::kZeroLength, 0, 0};
        return fail(r, off);
      }
      std::memcpy(buffer_.get(), data + off, rest);
      have_ = rest;
      need_ = rest >= kLengthFieldSize ? kLengthFieldSize + wire::load_be16(data + off) : 0;
      if (rest >= kLengthFieldSize && need_ - kLengthFieldSize > max_length_) {
        error_ = {PacketError::kOversize, 0, need_ - kLengthFieldSize};
        have_ = 0;
        return fail(r, off);
      }
      off = size;
    }
    r.consumed = off;
    return r;
  }

  void reset() noexcept {
    have_ = 0;
    need_ = 0;
    error_ = {};
  }
  [[nodiscard]] const FramerError& error() const noexcept { return error_; }
  [[nodiscard]] bool failed() const noexcept { return error_.error != PacketError::kNone; }
  [[nodiscard]] std::size_t buffered() const noexcept { return have_; }
  [[nodiscard]] std::size_t max_length() const noexcept { return max_length_; }
  [[nodiscard]] Direction direction() const noexcept { return direction_; }

 private:
  [[nodiscard]] bool partial_complete() const noexcept { return need_ != 0 && have_ == need_; }

  // Moves bytes into the partial packet; validates the header once 3 bytes are in.
  std::size_t fill_partial(const std::uint8_t* data, std::size_t size) noexcept {
    std::size_t off = 0;
    if (have_ < kHeaderSize) {
      const std::size_t n = kHeaderSize - have_ < size ? kHeaderSize - have_ : size;
      std::memcpy(buffer_.get() + have_, data, n);
      have_ += n;
      off = n;
      if (have_ >= kLengthFieldSize) {
        const std::size_t length = wire::load_be16(buffer_.get());
        if (length == 0 || length > max_length_) {
          error_ = {length == 0 ? PacketError::kZeroLength : PacketError::kOversize, 0, length};
          return off;
        }
        need_ = kLengthFieldSize + length;
      }
      if (have_ < kHeaderSize) return off;
      const std::size_t length = need_ - kLengthFieldSize;
      const PacketError e = validate_header(direction_, buffer_[2], length, max_length_, server_unsequenced_);
      if (e != PacketError::kNone) {
        error_ = {e, buffer_[2], length};
        return off;
      }
    }
    const std::size_t want = need_ - have_;
    const std::size_t n = want < size - off ? want : size - off;
    std::memcpy(buffer_.get() + have_, data + off, n);
    have_ += n;
    return off + n;
  }

  FeedResult& fail(FeedResult& r, std::size_t off) noexcept {
    have_ = 0;
    need_ = 0;
    r.consumed = off;
    r.failed = true;
    return r;
  }

  Direction direction_;
  std::size_t max_length_;
  bool server_unsequenced_;
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t have_ = 0;  // bytes of the partial packet held
  std::size_t need_ = 0;  // its total size (length field included); 0 until the length is known
  FramerError error_{};
};

}  // namespace hft::soup
