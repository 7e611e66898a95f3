// Real OUCH 5.0 over SoupBinTCP bytes (../shared/data/pcap/nasdaq_ouch50): every capture holds one
// whole SoupBinTCP packet in one TCP segment. Each is framed, decoded, checked field by field, and
// re-encoded from the decoded fields: the bytes must come out identical.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateways/ouch/codec.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "tests/gateways/soupbintcp/pcap_tcp.hpp"
#include "tests/support/test_data.hpp"

namespace hft::ouch {
namespace {

struct Framed {
  std::vector<std::uint8_t> wire;  // the TCP payload
  std::uint8_t type = 0;           // SoupBinTCP packet type
  std::vector<std::uint8_t> message;
};

// The single SoupBinTCP packet of a capture, checked to fill the TCP payload exactly.
Framed packet_of(const std::filesystem::path& file, soup::Direction dir) {
  Framed f;
  const auto segments = ::hft::testing::read_tcp_payloads(file);
  EXPECT_TRUE(segments.has_value()) << file;
  if (!segments) return f;
  EXPECT_EQ(segments->size(), 1u) << file;
  if (segments->empty()) return f;
  f.wire = segments->front().payload;
  soup::Framer framer(dir, 4096);
  int packets = 0;
  const soup::FeedResult r = framer.feed(f.wire.data(), f.wire.size(), [&](const soup::Packet& p) {
    ++packets;
    f.type = p.type;
    f.message.assign(p.payload, p.payload + p.size);
    return true;
  });
  EXPECT_FALSE(r.failed) << file;
  EXPECT_EQ(packets, 1) << file;
  EXPECT_EQ(framer.buffered(), 0u) << file << ": the segment must end with the packet";
  return f;
}

// SoupBinTCP header + the re-encoded OUCH message.
template <class T>
std::vector<std::uint8_t> reencode(std::uint8_t soup_type, const T& m) {
  std::vector<std::uint8_t> b(3 + encoded_size(m));
  soup::write_header(b.data(), soup_type, encoded_size(m));
  EXPECT_EQ(encode(b.data() + 3, b.size() - 3, m), b.size() - 3);
  return b;
}

TEST(OuchRealCapture, EnterOrderWithFirmAppendage) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const Framed f = packet_of(dir / "pcap/nasdaq_ouch50/EnterOrderMessage.pcap", soup::Direction::kClientToServer);
  ASSERT_EQ(f.type, 'U');
  ASSERT_EQ(f.message.size(), 53u);
  EnterOrder m;
  ASSERT_EQ(decode(f.message.data(), f.message.size(), m), DecodeError::kOk);
  EXPECT_EQ(m.user_ref_num, 113u);
  EXPECT_EQ(m.side, Side::kSellShort);
  EXPECT_EQ(m.quantity, 225u);
  EXPECT_EQ(m.symbol.view(), "CVLT");
  EXPECT_EQ(m.price, 630'200u);  // $63.02
  EXPECT_EQ(m.time_in_force, TimeInForce::kDay);
  EXPECT_EQ(m.display, Display::kVisible);
  EXPECT_EQ(m.capacity, Capacity::kAgency);
  EXPECT_EQ(m.intermarket_sweep, IntermarketSweep::kNotEligible);
  EXPECT_EQ(m.cross_type, CrossType::kContinuous);
  EXPECT_EQ(m.cl_ord_id.view(), "H8FUB8IV");
  ASSERT_EQ(m.options.size(), 1u);
  EXPECT_EQ(m.options.firm()->view(), "LIME");
  EXPECT_EQ(reencode('U', m), f.wire);
}

TEST(OuchRealCapture, CancelOrder) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const Framed f = packet_of(dir / "pcap/nasdaq_ouch50/CancelOrderMessage.pcap", soup::Direction::kClientToServer);
  ASSERT_EQ(f.type, 'U');
  ASSERT_EQ(f.message.size(), 9u);
  CancelOrder m;
  ASSERT_EQ(decode(f.message.data(), f.message.size(), m), DecodeError::kOk);
  EXPECT_EQ(m.user_ref_num, 0x00752e71u);
  EXPECT_EQ(m.quantity, 0u);  // cancel all
  EXPECT_EQ(reencode('U', m), f.wire);
}

TEST(OuchRealCapture, OrderAcceptedWithFirmAndBboWeightAppendages) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const Framed f = packet_of(dir / "pcap/nasdaq_ouch50/OrderAcceptedMessage.pcap", soup::Direction::kServerToClient);
  ASSERT_EQ(f.type, 'S');
  ASSERT_EQ(f.message.size(), 73u);
  OrderAccepted m;
  ASSERT_EQ(decode(f.message.data(), f.message.size(), m), DecodeError::kOk);
  EXPECT_EQ(m.timestamp, 0x0000289b4d64af87u);
  EXPECT_EQ(m.timestamp / 1'000'000'000, 44'647u);  // 12:24:07
  EXPECT_EQ(m.user_ref_num, 0x00753a8du);
  EXPECT_EQ(m.side, Side::kBuy);
  EXPECT_EQ(m.quantity, 40u);
  EXPECT_EQ(m.symbol.view(), "ADBE");
  EXPECT_EQ(m.price, 0x48e748u);
  EXPECT_EQ(m.time_in_force, TimeInForce::kGtx);
  EXPECT_EQ(m.display, Display::kVisible);
  EXPECT_EQ(m.order_reference_number, 0x0f56b4f5u);
  EXPECT_EQ(m.capacity, Capacity::kAgency);
  EXPECT_EQ(m.order_state, OrderState::kLive);
  EXPECT_EQ(m.cl_ord_id.view(), "7682701");
  ASSERT_EQ(m.options.size(), 2u);
  EXPECT_EQ(m.options.tag_at(0), OptionTag::kFirm);
  EXPECT_EQ(m.options.firm()->view(), "MLRO");
  EXPECT_EQ(m.options.bbo_weight_indicator(), '0');
  EXPECT_EQ(reencode('S', m), f.wire);
}

TEST(OuchRealCapture, OrderCanceled) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const Framed f = packet_of(dir / "pcap/nasdaq_ouch50/CanceledMessage.pcap", soup::Direction::kServerToClient);
  ASSERT_EQ(f.type, 'S');
  ASSERT_EQ(f.message.size(), 18u);
  OrderCanceled m;
  ASSERT_EQ(decode(f.message.data(), f.message.size(), m), DecodeError::kOk);
  EXPECT_EQ(m.user_ref_num, 0x00753a8du);  // the order accepted above
  EXPECT_EQ(m.quantity, 40u);
  EXPECT_EQ(m.reason, CancelReason::kUserRequested);
  EXPECT_EQ(reencode('S', m), f.wire);
}

TEST(OuchRealCapture, Heartbeats) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const Framed client = packet_of(dir / "pcap/nasdaq_ouch50/ClientHeartbeatPacket.pcap", soup::Direction::kClientToServer);
  const Framed server = packet_of(dir / "pcap/nasdaq_ouch50/ServerHeartbeatPacket.pcap", soup::Direction::kServerToClient);
  EXPECT_EQ(client.type, 'R');
  EXPECT_EQ(server.type, 'H');
  std::uint8_t b[3];
  ASSERT_EQ(soup::encode_empty(b, soup::packet_type::kClientHeartbeat), 3u);
  EXPECT_EQ(std::vector<std::uint8_t>(b, b + 3), client.wire);
  soup::encode_empty(b, soup::packet_type::kServerHeartbeat);
  EXPECT_EQ(std::vector<std::uint8_t>(b, b + 3), server.wire);
}

}  // namespace
}  // namespace hft::ouch
