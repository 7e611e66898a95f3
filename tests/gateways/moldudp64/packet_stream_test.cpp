// Back-to-back MoldUDP64 packets: framing, sequences, truncation; and the packet.hpp primitives.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "gateways/files/binary_file.hpp"
#include "gateways/moldudp64/packet.hpp"
#include "gateways/moldudp64/packet_stream.hpp"
#include "tests/support/test_data.hpp"

namespace {

using namespace hft;
using Buf = std::vector<std::uint8_t>;

Buf packet(std::uint64_t seq, std::uint16_t count, const std::vector<Buf>& msgs) {
  Buf b = {'S', 'E', 'S', 'S', 'I', 'O', 'N', ' ', ' ', ' '};
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  b.push_back(static_cast<std::uint8_t>(count >> 8));
  b.push_back(static_cast<std::uint8_t>(count));
  for (const auto& m : msgs) {
    b.push_back(static_cast<std::uint8_t>(m.size() >> 8));
    b.push_back(static_cast<std::uint8_t>(m.size()));
    b.insert(b.end(), m.begin(), m.end());
  }
  return b;
}

TEST(MoldPacket, HeaderAndRequestLayout) {
  const Buf p = packet(0x0102030405060708ULL, 2, {{1, 2, 3}, {}});
  mold::PacketHeader h;
  ASSERT_TRUE(mold::PacketHeader::parse(p.data(), p.size(), h));
  EXPECT_EQ(h.session.view(), "SESSION   ");
  EXPECT_EQ(h.sequence, 0x0102030405060708ULL);
  EXPECT_EQ(h.count, 2);
  EXPECT_EQ(h.kind(), mold::PacketKind::kMessages);
  EXPECT_FALSE(mold::PacketHeader::parse(p.data(), 19, h));
  Buf out(20);
  h.write(out.data());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), p.begin()));

  mold::MessageBlocks blocks(p.data(), p.size(), h.count);
  const std::uint8_t* m = nullptr;
  std::size_t n = 0;
  ASSERT_TRUE(blocks.next(m, n));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(m[2], 3);
  ASSERT_TRUE(blocks.next(m, n));  // a zero-length message is legal (spec p.6)
  EXPECT_EQ(n, 0u);
  EXPECT_FALSE(blocks.next(m, n));
  EXPECT_FALSE(blocks.truncated());

  // Request packet: session, first sequence, count, all big-endian (spec p.7).
  mold::RequestPacket r;
  r.session = mold::SessionId::from("000010059B");
  r.sequence = 14764496;
  r.count = 38;
  Buf req(20);
  r.write(req.data());
  const Buf expected = {'0', '0', '0', '0', '1', '0', '0', '5', '9', 'B', 0, 0, 0, 0, 0x00, 0xE1, 0x49, 0xD0, 0x00, 0x26};
  EXPECT_EQ(req, expected);
  mold::RequestPacket back;
  ASSERT_TRUE(mold::RequestPacket::parse(req.data(), req.size(), back));
  EXPECT_EQ(back.sequence, 14764496u);
  EXPECT_EQ(back.count, 38);
  EXPECT_FALSE(mold::RequestPacket::parse(req.data(), 19, back));
}

TEST(MoldPacketStream, WalksBackToBackPacketsAndLocatesTheCut) {
  Buf all = packet(1, 2, {{'a'}, {'b', 'b'}});
  const Buf hb = packet(3, 0, {});
  all.insert(all.end(), hb.begin(), hb.end());
  const Buf third = packet(3, 2, {{'c', 'c', 'c'}, {'d', 'd', 'd', 'd'}});
  all.insert(all.end(), third.begin(), third.end());

  mold::PacketStreamCursor cur(all);
  mold::StreamPacket p;
  ASSERT_TRUE(cur.next(p));
  EXPECT_EQ(p.header.sequence, 1u);
  EXPECT_EQ(p.complete_messages, 2);
  EXPECT_EQ(p.size, 20u + 3 + 4);
  ASSERT_TRUE(cur.next(p));
  EXPECT_EQ(p.header.kind(), mold::PacketKind::kHeartbeat);
  EXPECT_EQ(p.offset, 27u);
  EXPECT_EQ(p.size, 20u);
  ASSERT_TRUE(cur.next(p));
  EXPECT_EQ(p.complete_messages, 2);
  EXPECT_FALSE(p.truncated);
  EXPECT_FALSE(cur.next(p));
  EXPECT_FALSE(cur.tail_truncated());

  // Every cut of the stream: whole packets, then at most one truncated one, never a read past.
  for (std::size_t cut = 0; cut < all.size(); ++cut) {
    const Buf part(all.begin(), all.begin() + static_cast<long>(cut));
    mold::PacketStreamCursor c(part);
    std::size_t packets = 0;
    std::size_t covered = 0;
    bool saw_truncated = false;
    while (c.next(p)) {
      ++packets;
      EXPECT_FALSE(saw_truncated);
      saw_truncated = p.truncated;
      covered = p.offset + p.size;
      if (p.truncated) {
        EXPECT_GT(p.missing, 0u);
      }
    }
    EXPECT_LE(packets, 3u);
    if (!c.tail_truncated()) {
      EXPECT_EQ(covered, cut) << cut;
    }
  }
}

TEST(MoldPacketStream, NordicSampleThreePackets) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const files::MappedFile f((dir / "moldudp64/three_packets_nordic_payload.bin").string());
  ASSERT_EQ(f.size(), 2775u);
  mold::PacketStreamCursor cur(f.bytes());
  std::vector<mold::StreamPacket> got;
  mold::StreamPacket p;
  while (cur.next(p)) got.push_back(p);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].header.sequence, 1u);
  EXPECT_EQ(got[0].header.count, 15);
  EXPECT_EQ(got[0].complete_messages, 15);
  EXPECT_FALSE(got[0].truncated);
  EXPECT_EQ(got[1].header.sequence, 16u);
  EXPECT_EQ(got[1].header.count, 13);
  EXPECT_EQ(got[1].offset, got[0].size);
  EXPECT_FALSE(got[1].truncated);
  EXPECT_EQ(got[2].header.sequence, 29u);
  EXPECT_EQ(got[2].header.count, 13);
  EXPECT_EQ(got[2].complete_messages, 12);  // the 13th is cut
  EXPECT_TRUE(got[2].truncated);
  EXPECT_EQ(got[2].missing, 5u);
  EXPECT_EQ(got[2].offset + got[2].size, 2775u);
  // Sequences chain: each packet starts where the previous one ended.
  EXPECT_EQ(got[0].header.sequence + got[0].header.count, got[1].header.sequence);
  EXPECT_EQ(got[1].header.sequence + got[1].header.count, got[2].header.sequence);
  // The same session on all three (ten NUL bytes in this sample).
  EXPECT_EQ(got[0].header.session, got[2].header.session);
  EXPECT_FALSE(cur.tail_truncated());
}

}  // namespace
