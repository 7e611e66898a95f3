#pragma once
// NASDAQ GLIMPSE 5.0: a point-in-time snapshot of the book in TotalView-ITCH 5.0 message formats,
// delivered as the sequenced messages of a SoupBinTCP session (the client logs in for sequence 1;
// docs/market-data.md records the layout and its source). Upon login the server sends System
// Event, Stock Directory, Stock Trading Action and Reg SHO messages, an Add Order ('A' or 'F')
// for every displayed resting order with its current shares, then one Snapshot message ('M') that
// carries the ITCH sequence number from which the real-time feed takes over, then End of Session.
//
// Snapshot message (GLIMPSE 5.0 §1.7), 21 bytes:
//   offset 0  length 1   Message Type     'M'
//   offset 1  length 20  Sequence Number  Alpha: the ITCH sequence number, ASCII digits, left
//                                         justified, padded on the right with spaces
// This project's meaning of the number (the spec's words are "where firms should begin
// processing real-time updates"): the snapshot reflects every real-time message with a sequence
// number below it; the receiver applies the real-time messages from it on.
//
// SnapshotReader is the receiving side's parser: it takes each sequenced SoupBinTCP payload and
// classifies it (a book message to apply, the snapshot's end, or a malformed message, counted).
// It never trusts a length: a message must have exactly its type's ITCH 5.0 length. Nothing
// allocates.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gateways/itch/messages.hpp"

namespace hft::itch::glimpse {

inline constexpr char kSnapshotType = 'M';
inline constexpr std::size_t kSnapshotLength = 21;
inline constexpr std::size_t kSequenceDigits = 20;

// Writes the 21-byte Snapshot message; returns its length.
inline std::size_t encode_snapshot(std::uint8_t* out, std::uint64_t sequence) noexcept {
  out[0] = static_cast<std::uint8_t>(kSnapshotType);
  char digits[kSequenceDigits];
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + sequence % 10);
    sequence /= 10;
  } while (sequence != 0 && n < kSequenceDigits);
  for (std::size_t i = 0; i < kSequenceDigits; ++i) out[1 + i] = i < n ? static_cast<std::uint8_t>(digits[n - 1 - i]) : ' ';
  return kSnapshotLength;
}

// Parses a Snapshot message: 'M', then 1..20 ASCII digits, left justified, space padded (leading
// spaces are tolerated: "right justified" senders exist). False for anything else, including a
// number above 2^64 - 1.
inline bool parse_snapshot(const std::uint8_t* p, std::size_t n, std::uint64_t& sequence) noexcept {
  if (n != kSnapshotLength || p[0] != static_cast<std::uint8_t>(kSnapshotType)) return false;
  std::size_t i = 1;
  while (i < n && p[i] == ' ') ++i;
  std::uint64_t v = 0;
  std::size_t digits = 0;
  for (; i < n && p[i] >= '0' && p[i] <= '9'; ++i, ++digits) {
    const std::uint64_t d = p[i] - '0';
    if (v > (~std::uint64_t{0} - d) / 10) return false;
    v = v * 10 + d;
  }
  if (digits == 0) return false;
  for (; i < n; ++i)
    if (p[i] != ' ') return false;
  sequence = v;
  return true;
}

enum class SnapshotItem : std::uint8_t {
  kMessage,    // an ITCH 5.0 message of the snapshot: apply it to the (reset) books
  kEnd,        // the Snapshot message: sequence() is where the real-time feed takes over
  kMalformed,  // an unknown type or a wrong length: counted, the snapshot cannot be trusted
  kAfterEnd,   // a message after the Snapshot message (a protocol error): counted
};

struct SnapshotCounters {
  std::uint64_t messages = 0;
  std::uint64_t add_orders = 0;
  std::uint64_t directories = 0;
  std::uint64_t malformed = 0;
  std::uint64_t after_end = 0;
};

class SnapshotReader {
 public:
  void reset() noexcept { *this = SnapshotReader{}; }

  SnapshotItem on_message(const std::uint8_t* p, std::size_t n) noexcept {
    if (ended_) {
      ++counters_.after_end;
      return SnapshotItem::kAfterEnd;
    }
    if (n == 0) return malformed();
    if (p[0] == static_cast<std::uint8_t>(kSnapshotType)) {
      if (!parse_snapshot(p, n, sequence_)) return malformed();
      ended_ = true;
      return SnapshotItem::kEnd;
    }
    const std::uint8_t want = kMessageLength[p[0]];
    if (want == 0 || n != want) return malformed();
    ++counters_.messages;
    if (p[0] == 'A' || p[0] == 'F') ++counters_.add_orders;
    if (p[0] == 'R') ++counters_.directories;
    return SnapshotItem::kMessage;
  }

  [[nodiscard]] bool ended() const noexcept { return ended_; }
  [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }
  [[nodiscard]] const SnapshotCounters& counters() const noexcept { return counters_; }

 private:
  SnapshotItem malformed() noexcept {
    ++counters_.malformed;
    return SnapshotItem::kMalformed;
  }
  SnapshotCounters counters_;
  std::uint64_t sequence_ = 0;
  bool ended_ = false;
};

}  // namespace hft::itch::glimpse
