#pragma once
// MoldUDP64 1.00 packet formats (../shared/specs/moldudp64-1.0.txt; PROTOCOLS.md §2.2).
//
// Downstream packet: Session (10 alpha) | Sequence Number (u64 BE, of the first message) |
// Message Count (u16 BE; 0 = heartbeat, 0xFFFF = end of session) | count x {u16 BE length, bytes}.
// Request packet (client -> re-request server): Session | Sequence Number | Requested Count.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "gateways/common/endian.hpp"

namespace hft::mold {

inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::size_t kRequestSize = 20;
inline constexpr std::size_t kSessionSize = 10;
inline constexpr std::uint16_t kHeartbeatCount = 0;
inline constexpr std::uint16_t kEndOfSessionCount = 0xFFFF;
// 1500-byte Ethernet MTU - 20 IPv4 - 8 UDP: the largest payload NASDAQ sends (a real packet in
// ../shared/data/pcap/nasdaq_itch50/Multiple.Packets.pcap has 1,472 bytes).
inline constexpr std::size_t kMaxPayload = 1472;

struct SessionId {
  std::array<char, kSessionSize> chars{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  static SessionId from(std::string_view text) noexcept {
    SessionId s;
    for (std::size_t i = 0; i < kSessionSize && i < text.size(); ++i) s.chars[i] = text[i];
    return s;
  }
  [[nodiscard]] std::string_view view() const noexcept { return {chars.data(), chars.size()}; }
  friend bool operator==(const SessionId&, const SessionId&) = default;
};

enum class PacketKind : std::uint8_t { kMessages, kHeartbeat, kEndOfSession };

// A validated view of a downstream packet header. parse() checks only the header; message
// blocks are walked with MessageBlocks, which bounds-checks every length.
struct PacketHeader {
  SessionId session;
  std::uint64_t sequence = 0;  // of the first message (heartbeat / end: the next expected)
  std::uint16_t count = 0;

  [[nodiscard]] PacketKind kind() const noexcept {
    return count == kHeartbeatCount ? PacketKind::kHeartbeat
           : count == kEndOfSessionCount ? PacketKind::kEndOfSession
                                          : PacketKind::kMessages;
  }
  // Messages the packet carries (0 for heartbeat and end of session).
  [[nodiscard]] std::uint16_t message_count() const noexcept { return kind() == PacketKind::kMessages ? count : 0; }

  // False when the buffer is shorter than the 20-byte header.
  static bool parse(const std::uint8_t* p, std::size_t len, PacketHeader& out) noexcept {
    if (len < kHeaderSize) return false;
    std::memcpy(out.session.chars.data(), p, kSessionSize);
    out.sequence = wire::load_be64(p + 10);
    out.count = wire::load_be16(p + 18);
    return true;
  }
  void write(std::uint8_t* p) const noexcept {
    std::memcpy(p, session.chars.data(), kSessionSize);
    wire::store_be64(p + 10, sequence);
    wire::store_be16(p + 18, count);
  }
};

// Walks the message blocks after the header. next() returns false at the end or when a length
// runs past the buffer (then truncated() is true): never a read out of bounds.
class MessageBlocks {
 public:
  MessageBlocks(const std::uint8_t* packet, std::size_t len, std::uint16_t count) noexcept
      : p_(packet + (len >= kHeaderSize ? kHeaderSize : len)),
        end_(packet + len),
        left_(count == kEndOfSessionCount ? 0 : count) {}
  bool next(const std::uint8_t*& msg, std::size_t& msg_len) noexcept {
    if (left_ == 0) return false;
    if (end_ - p_ < 2) return fail();
    const std::size_t n = wire::load_be16(p_);
    if (static_cast<std::size_t>(end_ - p_ - 2) < n) return fail();
    msg = p_ + 2;
    msg_len = n;
    p_ += 2 + n;
    --left_;
    return true;
  }
  [[nodiscard]] bool truncated() const noexcept { return truncated_; }
  [[nodiscard]] std::size_t trailing_bytes() const noexcept { return static_cast<std::size_t>(end_ - p_); }

 private:
  bool fail() noexcept {
    truncated_ = true;
    left_ = 0;
    return false;
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::uint16_t left_;
  bool truncated_ = false;
};

struct RequestPacket {
  SessionId session;
  std::uint64_t sequence = 0;  // first message wanted
  std::uint16_t count = 0;     // how many; the server answers with what fits in one packet

  void write(std::uint8_t* p) const noexcept {
    std::memcpy(p, session.chars.data(), kSessionSize);
    wire::store_be64(p + 10, sequence);
    wire::store_be16(p + 18, count);
  }
  // Exactly 20 bytes, or false.
  static bool parse(const std::uint8_t* p, std::size_t len, RequestPacket& out) noexcept {
    if (len != kRequestSize) return false;
    std::memcpy(out.session.chars.data(), p, kSessionSize);
    out.sequence = wire::load_be64(p + 10);
    out.count = wire::load_be16(p + 18);
    return true;
  }
};

}  // namespace hft::mold
