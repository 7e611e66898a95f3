#pragma once
// Helpers for the MoldUDP64 venue-side tests: deterministic message bytes, a sink that keeps
// every packet, a sink that allocates nothing, and a decoder of downstream packets.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "gateways/moldudp64/packet.hpp"

namespace hft::mold::test {

using Bytes = std::vector<std::uint8_t>;

// Message `seq` of `len` bytes; every byte depends on both, so a mix-up shows.
inline Bytes message_bytes(std::uint64_t seq, std::size_t len) {
  Bytes b(len);
  for (std::size_t i = 0; i < len; ++i) b[i] = static_cast<std::uint8_t>(seq * 131 + i * 7 + (seq >> 8));
  return b;
}

struct Decoded {
  PacketHeader header;
  std::vector<Bytes> messages;
  bool ok = false;  // header parsed, blocks exact (no truncation, no trailing bytes)
};

inline Decoded decode(std::span<const std::uint8_t> packet) {
  Decoded d;
  if (!PacketHeader::parse(packet.data(), packet.size(), d.header)) return d;
  MessageBlocks blocks(packet.data(), packet.size(), d.header.count);
  const std::uint8_t* msg = nullptr;
  std::size_t len = 0;
  while (blocks.next(msg, len)) d.messages.emplace_back(msg, msg + len);
  d.ok = !blocks.truncated() && blocks.trailing_bytes() == 0 && d.messages.size() == d.header.message_count();
  return d;
}

// Keeps a copy of every packet (allocates: not for the allocation tests).
struct CollectSink {
  std::vector<Bytes>* packets;
  bool send(const PacketHeader&, std::span<const std::uint8_t> packet) noexcept {
    packets->emplace_back(packet.begin(), packet.end());
    return true;
  }
};

// Checks and counts without allocating.
struct CountingSink {
  std::uint64_t packets = 0;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::size_t largest = 0;
  std::uint64_t expected_sequence = 1;
  std::uint64_t sequence_errors = 0;
  bool send(const PacketHeader& h, std::span<const std::uint8_t> packet) noexcept {
    ++packets;
    bytes += packet.size();
    if (packet.size() > largest) largest = packet.size();
    if (h.sequence != expected_sequence) ++sequence_errors;
    expected_sequence = h.sequence + h.message_count();
    messages += h.message_count();
    return true;
  }
};

}  // namespace hft::mold::test
