#pragma once
// ITCH 5.0 out of captured MoldUDP64 datagrams: each UDP payload is a MoldUDP64 downstream packet
// (header via mold::PacketHeader::parse, blocks via mold::MessageBlocks) whose messages go through
// the ITCH decoder. No session logic here (no gap handling): a capture is decoded as it was seen;
// gateways/moldudp64/session.hpp is the live receiver.
//
// The handler is an ITCH handler (gateways/itch/decoder.hpp) that may also implement
//   void on_mold_packet(const UdpDatagram&, const mold::PacketHeader&)   every valid header
//   void on_mold_message(const MoldMessageContext&)                      before each message
// so that a tool can print each message's session and sequence number.
#include <cstdint>

#include "gateways/files/pcap_reader.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/moldudp64/packet.hpp"

namespace hft::files {

struct MoldMessageContext {
  const UdpDatagram* datagram = nullptr;
  mold::SessionId session;
  std::uint64_t sequence = 0;  // of this message: the packet's sequence + index
  std::uint16_t index = 0;     // within its packet
};

struct MoldStats {
  std::uint64_t packets = 0;            // datagrams with a whole 20-byte header
  std::uint64_t messages = 0;           // message blocks handed to the ITCH decoder
  std::uint64_t heartbeats = 0;         // count 0
  std::uint64_t end_of_session = 0;     // count 0xFFFF
  std::uint64_t short_packets = 0;      // shorter than the header: not MoldUDP64
  std::uint64_t truncated_packets = 0;  // a block runs past the datagram, or fewer blocks than the count
  std::uint64_t trailing_bytes = 0;     // packets with bytes after their last block

  [[nodiscard]] std::uint64_t errors() const noexcept { return short_packets + truncated_packets + trailing_bytes; }
};

// Decodes one datagram. Messages before a bad block are still delivered (they are whole).
template <class Handler>
void decode_mold_datagram(const UdpDatagram& d, Handler& handler, MoldStats& mold_stats,
                          itch::DecodeStats& itch_stats) noexcept {
  mold::PacketHeader header;
  if (!mold::PacketHeader::parse(d.payload, d.length, header)) {
    ++mold_stats.short_packets;
    return;
  }
  ++mold_stats.packets;
  if constexpr (requires { handler.on_mold_packet(d, header); }) handler.on_mold_packet(d, header);
  switch (header.kind()) {
    case mold::PacketKind::kHeartbeat: ++mold_stats.heartbeats; return;
    case mold::PacketKind::kEndOfSession: ++mold_stats.end_of_session; return;
    case mold::PacketKind::kMessages: break;
  }
  mold::MessageBlocks blocks(d.payload, d.length, header.count);
  MoldMessageContext ctx;
  ctx.datagram = &d;
  ctx.session = header.session;
  ctx.sequence = header.sequence;
  const std::uint8_t* msg = nullptr;
  std::size_t len = 0;
  while (blocks.next(msg, len)) {
    if constexpr (requires { handler.on_mold_message(ctx); }) handler.on_mold_message(static_cast<const MoldMessageContext&>(ctx));
    itch::decode_message(msg, len, handler, itch_stats);
    ++mold_stats.messages;
    ++ctx.sequence;
    ++ctx.index;
  }
  if (blocks.truncated()) {
    ++mold_stats.truncated_packets;
  } else if (blocks.trailing_bytes() != 0) {
    ++mold_stats.trailing_bytes;
  }
}

// Decodes every UDP datagram of a capture as MoldUDP64 + ITCH. Returns the datagrams read.
template <class Handler>
std::uint64_t decode_itch_pcap(PcapReader& reader, Handler& handler, MoldStats& mold_stats,
                               itch::DecodeStats& itch_stats) noexcept {
  std::uint64_t n = 0;
  UdpDatagram d;
  while (reader.next(d)) {
    decode_mold_datagram(d, handler, mold_stats, itch_stats);
    ++n;
  }
  return n;
}

}  // namespace hft::files
