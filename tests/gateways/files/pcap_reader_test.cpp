// pcap reader: link types, VLAN stacks, IPv4/UDP checks, drop reasons; MoldUDP64 + ITCH decoding of
// NASDAQ's own captures (../shared/data/pcap).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gateways/files/itch_pcap.hpp"
#include "gateways/files/pcap_reader.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/test_data.hpp"

namespace {

using namespace hft;
using files::FrameStatus;
using files::LinkType;
namespace fs = std::filesystem;

using Buf = std::vector<std::uint8_t>;

void put16(Buf& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Buf& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
void put32le(Buf& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void append(Buf& b, const Buf& x) { b.insert(b.end(), x.begin(), x.end()); }

struct IpOpts {
  std::uint8_t protocol = 17;
  std::uint16_t flags_fragment = 0x4000;  // DF
  std::size_t options = 0;                // bytes of IP options (multiple of 4)
  int total_length_delta = 0;             // lie in the total length
  int udp_length_delta = 0;               // lie in the UDP length
  std::uint8_t version = 4;
};

// IPv4 + UDP around `payload`: 10.1.2.3:1234 -> 233.54.12.111:26477.
Buf ipv4_udp(const Buf& payload, const IpOpts& o = {}) {
  Buf b;
  const std::size_t ihl = 20 + o.options;
  const std::size_t total = ihl + 8 + payload.size();
  b.push_back(static_cast<std::uint8_t>((o.version << 4) | (ihl / 4)));
  b.push_back(0);
  put16(b, static_cast<std::uint16_t>(static_cast<int>(total) + o.total_length_delta));
  put16(b, 0x1234);
  put16(b, o.flags_fragment);
  b.push_back(64);
  b.push_back(o.protocol);
  put16(b, 0);
  put32(b, 0x0A010203);
  put32(b, 0xE9360C6F);
  for (std::size_t i = 0; i < o.options; ++i) b.push_back(1);  // NOP options
  put16(b, 1234);
  put16(b, 26477);
  put16(b, static_cast<std::uint16_t>(static_cast<int>(8 + payload.size()) + o.udp_length_delta));
  put16(b, 0);
  append(b, payload);
  return b;
}

Buf ethernet(const Buf& ip, std::initializer_list<std::uint16_t> tags = {}, std::uint16_t type = 0x0800) {
  Buf b = {0x01, 0x00, 0x5e, 0x36, 0x0c, 0x6f, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  for (std::uint16_t tpid : tags) {
    put16(b, tpid);
    put16(b, 100);  // PCP/DEI/VID
  }
  put16(b, type);
  append(b, ip);
  return b;
}

Buf sll(const Buf& ip, std::uint16_t type = 0x0800) {
  Buf b;
  put16(b, 0);      // packet type: to us
  put16(b, 1);      // ARPHRD_ETHER
  put16(b, 6);      // address length
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(i));
  put16(b, type);
  append(b, ip);
  return b;
}

Buf sll2(const Buf& ip, std::uint16_t type = 0x0800) {
  Buf b;
  put16(b, type);   // protocol type
  put16(b, 0);      // reserved
  put32(b, 2);      // interface index
  put16(b, 1);      // ARPHRD_ETHER
  b.push_back(0);   // packet type
  b.push_back(6);   // address length
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(i));
  append(b, ip);
  return b;
}

const Buf kPayload = {'h', 'e', 'l', 'l', 'o'};

FrameStatus parse(LinkType link, const Buf& f, files::UdpDatagram& d) {
  return files::parse_frame(link, f.data(), f.size(), d);
}

TEST(PcapFrame, EthernetUdp) {
  files::UdpDatagram d;
  const Buf f = ethernet(ipv4_udp(kPayload));
  ASSERT_EQ(parse(LinkType::kEthernet, f, d), FrameStatus::kUdp);
  EXPECT_EQ(d.source, (files::Ipv4Endpoint{0x0A010203, 1234}));
  EXPECT_EQ(d.destination, (files::Ipv4Endpoint{0xE9360C6F, 26477}));
  EXPECT_EQ(files::to_string(d.destination), "233.54.12.111:26477");
  ASSERT_EQ(d.length, 5u);
  EXPECT_EQ(d.payload, f.data() + 14 + 20 + 8);
  EXPECT_EQ(d.payload[0], 'h');
}

TEST(PcapFrame, VlanStacksAreSkipped) {
  files::UdpDatagram d;
  for (auto tags : {std::vector<std::uint16_t>{0x8100}, {0x88A8, 0x8100}, {0x9100, 0x8100}, {0x8100, 0x8100, 0x8100}}) {
    Buf f = {0x01, 0x00, 0x5e, 0x36, 0x0c, 0x6f, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    for (auto t : tags) {
      put16(f, t);
      put16(f, 7);
    }
    put16(f, 0x0800);
    append(f, ipv4_udp(kPayload));
    ASSERT_EQ(parse(LinkType::kEthernet, f, d), FrameStatus::kUdp) << tags.size();
    EXPECT_EQ(d.length, 5u);
    EXPECT_EQ(d.payload, f.data() + 14 + 4 * tags.size() + 28);
  }
}

TEST(PcapFrame, LinuxCookedAndRawIp) {
  files::UdpDatagram d;
  const Buf ip = ipv4_udp(kPayload);
  Buf f = sll(ip);
  ASSERT_EQ(parse(LinkType::kLinuxSll, f, d), FrameStatus::kUdp);
  EXPECT_EQ(d.payload, f.data() + 16 + 28);
  f = sll2(ip);
  ASSERT_EQ(parse(LinkType::kLinuxSll2, f, d), FrameStatus::kUdp);
  EXPECT_EQ(d.payload, f.data() + 20 + 28);
  ASSERT_EQ(parse(LinkType::kRawIp, ip, d), FrameStatus::kUdp);
  EXPECT_EQ(d.payload, ip.data() + 28);
  EXPECT_EQ(parse(LinkType::kLinuxSll, sll(ip, 0x86DD), d), FrameStatus::kNotIpv4);
  EXPECT_EQ(parse(LinkType::kLinuxSll2, sll2(ip, 0x0806), d), FrameStatus::kNotIpv4);
  Buf v6 = ip;
  v6[0] = 0x60;
  EXPECT_EQ(parse(LinkType::kRawIp, v6, d), FrameStatus::kNotIpv4);
  EXPECT_EQ(parse(LinkType::kUnsupported, ip, d), FrameStatus::kUnsupportedLink);
}

TEST(PcapFrame, IpOptionsAndEthernetPadding) {
  files::UdpDatagram d;
  IpOpts o;
  o.options = 8;
  Buf f = ethernet(ipv4_udp(kPayload, o));
  ASSERT_EQ(parse(LinkType::kEthernet, f, d), FrameStatus::kUdp);
  EXPECT_EQ(d.payload, f.data() + 14 + 28 + 8);
  // A short frame is padded to 60 bytes on the wire: the padding is not payload.
  f = ethernet(ipv4_udp({1}));
  f.resize(60, 0);
  ASSERT_EQ(parse(LinkType::kEthernet, f, d), FrameStatus::kUdp);
  EXPECT_EQ(d.length, 1u);
}

TEST(PcapFrame, OtherTrafficIsClassified) {
  files::UdpDatagram d;
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload), {}, 0x0806), d), FrameStatus::kNotIpv4);
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload), {}, 0x86DD), d), FrameStatus::kNotIpv4);
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload), {}, 0x0030), d), FrameStatus::kNotIpv4);  // 802.3
  IpOpts tcp;
  tcp.protocol = 6;
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, tcp)), d), FrameStatus::kNotUdp);
  IpOpts mf;
  mf.flags_fragment = 0x2000;  // more fragments, offset 0
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, mf)), d), FrameStatus::kFragment);
  IpOpts later;
  later.flags_fragment = 0x00B9;  // last fragment, offset 185 x 8
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, later)), d), FrameStatus::kFragment);
}

TEST(PcapFrame, MalformedHeadersAreCountedByReason) {
  files::UdpDatagram d;
  IpOpts v6;
  v6.version = 6;
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, v6)), d), FrameStatus::kBadIpHeader);
  Buf f = ethernet(ipv4_udp(kPayload));
  f[14] = 0x44;  // IHL 4 words: below the 20-byte minimum
  EXPECT_EQ(parse(LinkType::kEthernet, f, d), FrameStatus::kBadIpHeader);
  IpOpts short_total;
  short_total.total_length_delta = -(8 + 5 + 1);  // total 19 < IHL 20
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, short_total)), d), FrameStatus::kBadIpLength);
  IpOpts long_total;
  long_total.total_length_delta = 1;  // one byte more than the frame holds
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, long_total)), d), FrameStatus::kBadIpLength);
  IpOpts udp_short;
  udp_short.udp_length_delta = -(5 + 1);  // 7 < 8
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, udp_short)), d), FrameStatus::kBadUdpLength);
  IpOpts udp_long;
  udp_long.udp_length_delta = 1;
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, udp_long)), d), FrameStatus::kBadUdpLength);
  IpOpts no_udp_header;
  no_udp_header.total_length_delta = -(8 + 5) + 4;  // 4 bytes of IP payload
  EXPECT_EQ(parse(LinkType::kEthernet, ethernet(ipv4_udp(kPayload, no_udp_header)), d), FrameStatus::kBadUdpLength);
}

TEST(PcapFrame, SnapLengthCutIsTruncatedNotMalformed) {
  files::UdpDatagram d;
  const Buf f = ethernet(ipv4_udp(Buf(100, 7)));
  // Captured 60 of the frame's bytes (tcpdump -s 60): the headers are whole, the datagram is not.
  EXPECT_EQ(files::parse_frame(LinkType::kEthernet, f.data(), 60, f.size(), d), FrameStatus::kTruncated);
  EXPECT_EQ(files::parse_frame(LinkType::kEthernet, f.data(), 20, f.size(), d), FrameStatus::kTruncated);
}

TEST(PcapFrame, EveryPrefixIsSafe) {
  const Buf frames[] = {ethernet(ipv4_udp(kPayload), {0x88A8, 0x8100}), sll(ipv4_udp(kPayload)),
                        sll2(ipv4_udp(kPayload)), ipv4_udp(kPayload)};
  const LinkType links[] = {LinkType::kEthernet, LinkType::kLinuxSll, LinkType::kLinuxSll2, LinkType::kRawIp};
  for (int k = 0; k < 4; ++k) {
    for (std::size_t n = 0; n < frames[k].size(); ++n) {
      // A heap copy of exactly n bytes, so ASan catches any read past it.
      auto* copy = new std::uint8_t[n == 0 ? 1 : n];
      std::copy(frames[k].begin(), frames[k].begin() + static_cast<long>(n), copy);
      files::UdpDatagram d;
      const FrameStatus s = files::parse_frame(links[k], copy, n, d);
      EXPECT_NE(s, FrameStatus::kUdp) << k << " " << n;
      delete[] copy;
    }
  }
}

// ---- files ----------------------------------------------------------------------------------

class PcapFile {
 public:
  PcapFile(std::uint32_t linktype, bool nanosecond) {
    put32le(bytes_, nanosecond ? 0xA1B23C4D : 0xA1B2C3D4);
    bytes_.push_back(2);
    bytes_.push_back(0);
    bytes_.push_back(4);
    bytes_.push_back(0);
    put32le(bytes_, 0);
    put32le(bytes_, 0);
    put32le(bytes_, 65535);
    put32le(bytes_, linktype);
  }
  void add(std::uint32_t sec, std::uint32_t frac, const Buf& frame, std::size_t wire_extra = 0) {
    put32le(bytes_, sec);
    put32le(bytes_, frac);
    put32le(bytes_, static_cast<std::uint32_t>(frame.size()));
    put32le(bytes_, static_cast<std::uint32_t>(frame.size() + wire_extra));
    append(bytes_, frame);
  }
  Buf& bytes() { return bytes_; }
  fs::path write(const std::string& name) const {
    const fs::path p = fs::temp_directory_path() / ("hft_pcap_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes_.data()), static_cast<std::streamsize>(bytes_.size()));
    return p;
  }

 private:
  Buf bytes_;
};

struct Cleanup {
  fs::path p;
  ~Cleanup() {
    std::error_code ec;
    fs::remove(p, ec);
  }
};

TEST(PcapReader, ReadsDatagramsAndCountsTheRestByReason) {
  PcapFile pf(1, /*nanosecond=*/true);
  IpOpts tcp;
  tcp.protocol = 6;
  IpOpts frag;
  frag.flags_fragment = 0x2000;
  IpOpts bad;
  bad.udp_length_delta = 3;
  pf.add(1692711000, 7661955, ethernet(ipv4_udp({1, 2, 3}), {0x8100}));
  pf.add(1692711000, 8000000, ethernet(ipv4_udp(kPayload), {}, 0x0806));
  pf.add(1692711000, 9000000, ethernet(ipv4_udp(kPayload, tcp)));
  pf.add(1692711000, 9500000, ethernet(ipv4_udp(kPayload, frag)));
  pf.add(1692711001, 0, ethernet(ipv4_udp(kPayload, bad)));
  const Buf cut = ethernet(ipv4_udp(Buf(50, 9)));
  pf.add(1692711001, 1, Buf(cut.begin(), cut.begin() + 50), cut.size() - 50);  // snap length 50
  pf.add(1692711002, 999999999, ethernet(ipv4_udp({4}), {0x88A8, 0x8100}));
  Cleanup c{pf.write("mixed.pcap")};

  files::PcapReader r(c.p.string());
  EXPECT_EQ(r.link_type(), LinkType::kEthernet);
  std::vector<files::UdpDatagram> got;
  std::vector<Buf> payloads;
  r.for_each([&](const files::UdpDatagram& d) {
    got.push_back(d);
    payloads.emplace_back(d.payload, d.payload + d.length);
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].frame, 1u);
  EXPECT_EQ(got[0].timestamp_ns, 1692711000'007661955ULL);
  EXPECT_EQ(payloads[0], (Buf{1, 2, 3}));
  EXPECT_EQ(got[1].frame, 7u);
  EXPECT_EQ(got[1].timestamp_ns, 1692711002'999999999ULL);
  EXPECT_EQ(payloads[1], (Buf{4}));
  const auto& s = r.stats();
  EXPECT_EQ(s.frames, 7u);
  EXPECT_EQ(s.udp(), 2u);
  EXPECT_EQ(s.count(FrameStatus::kNotIpv4), 1u);
  EXPECT_EQ(s.count(FrameStatus::kNotUdp), 1u);
  EXPECT_EQ(s.count(FrameStatus::kFragment), 1u);
  EXPECT_EQ(s.count(FrameStatus::kBadUdpLength), 1u);
  EXPECT_EQ(s.count(FrameStatus::kTruncated), 1u);
  EXPECT_EQ(s.malformed(), 2u);
  EXPECT_EQ(s.skipped(), 5u);
  EXPECT_TRUE(r.error().empty());
}

TEST(PcapReader, MicrosecondFilesAndOtherLinkTypes) {
  struct Case {
    std::uint32_t linktype;
    Buf frame;
  };
  const Buf ip = ipv4_udp(kPayload);
  // LINKTYPE_LINUX_SLL 113, LINKTYPE_LINUX_SLL2 276, LINKTYPE_RAW 101, LINKTYPE_IPV4 228.
  const Case cases[] = {{113, sll(ip)}, {276, sll2(ip)}, {101, ip}, {228, ip}};
  for (const auto& k : cases) {
    PcapFile pf(k.linktype, /*nanosecond=*/false);
    pf.add(1519764495, 151228, k.frame);
    Cleanup c{pf.write("link" + std::to_string(k.linktype) + ".pcap")};
    files::PcapReader r(c.p.string());
    files::UdpDatagram d;
    ASSERT_TRUE(r.next(d)) << k.linktype;
    EXPECT_EQ(d.timestamp_ns, 1519764495'151228000ULL);
    EXPECT_EQ(d.length, 5u);
    EXPECT_EQ(d.destination.port, 26477);
    EXPECT_FALSE(r.next(d));
  }
}

// pcapng (what Wireshark and dumpcap write by default): section header, interface description
// with nanosecond resolution (if_tsresol = 9), enhanced packet blocks.
TEST(PcapReader, ReadsPcapngWithNanosecondResolution) {
  Buf b;
  auto block = [&](std::uint32_t type, const Buf& body) {
    const auto total = static_cast<std::uint32_t>(12 + body.size());
    put32le(b, type);
    put32le(b, total);
    append(b, body);
    put32le(b, total);
  };
  Buf shb;
  put32le(shb, 0x1A2B3C4D);  // byte-order magic
  shb.push_back(1);          // major 1
  shb.push_back(0);
  shb.push_back(0);          // minor 0
  shb.push_back(0);
  for (int i = 0; i < 8; ++i) shb.push_back(0xFF);  // section length unknown
  block(0x0A0D0D0A, shb);
  Buf idb = {1, 0, 0, 0};     // LINKTYPE_ETHERNET, reserved
  put32le(idb, 65535);        // snap length
  idb.insert(idb.end(), {9, 0, 1, 0, 9, 0, 0, 0});  // if_tsresol = 10^-9, padded
  idb.insert(idb.end(), {0, 0, 0, 0});              // opt_endofopt
  block(1, idb);
  const Buf frame = ethernet(ipv4_udp(kPayload), {0x8100});
  const std::uint64_t ts = 1692711000'007661955ULL;
  Buf epb;
  put32le(epb, 0);  // interface 0
  put32le(epb, static_cast<std::uint32_t>(ts >> 32));
  put32le(epb, static_cast<std::uint32_t>(ts));
  put32le(epb, static_cast<std::uint32_t>(frame.size()));
  put32le(epb, static_cast<std::uint32_t>(frame.size()));
  append(epb, frame);
  while (epb.size() % 4 != 0) epb.push_back(0);
  block(6, epb);

  const fs::path p = fs::temp_directory_path() / ("hft_pcap_" + std::to_string(::getpid()) + "_ng.pcapng");
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  Cleanup c{p};
  files::PcapReader r(p.string());
  files::UdpDatagram d;
  ASSERT_TRUE(r.next(d)) << r.error();
  EXPECT_EQ(d.timestamp_ns, ts);
  EXPECT_EQ(d.length, 5u);
  EXPECT_EQ(d.payload[0], 'h');
  EXPECT_FALSE(r.next(d));
  EXPECT_TRUE(r.error().empty()) << r.error();
}

TEST(PcapReader, ErrorsNameTheFile) {
  const fs::path missing = fs::temp_directory_path() / "hft_no_such_capture.pcap";
  try {
    files::PcapReader r(missing.string());
    FAIL();
  } catch (const files::FileError& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  PcapFile wifi(105, false);  // IEEE 802.11: not parsed here
  Cleanup c{wifi.write("wifi.pcap")};
  try {
    files::PcapReader r(c.p.string());
    FAIL();
  } catch (const files::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported link type"), std::string::npos) << e.what();
  }
  PcapFile junk(1, false);
  junk.bytes()[0] = 'X';
  Cleanup c2{junk.write("junk.pcap")};
  EXPECT_THROW(files::PcapReader r(c2.p.string()), files::FileError);
}

TEST(PcapReader, DamagedRecordEndsTheReadWithAnError) {
  PcapFile pf(1, false);
  pf.add(1, 0, ethernet(ipv4_udp(kPayload)));
  pf.add(2, 0, ethernet(ipv4_udp(kPayload)));
  pf.bytes().resize(pf.bytes().size() - 10);  // the second record's body is cut
  Cleanup c{pf.write("cut.pcap")};
  files::PcapReader r(c.p.string());
  files::UdpDatagram d;
  EXPECT_TRUE(r.next(d));
  EXPECT_FALSE(r.next(d));
  EXPECT_NE(r.error().find("frame 2"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find(c.p.string()), std::string::npos) << r.error();
}

// ---- MoldUDP64 + ITCH over datagrams ----------------------------------------------------------

struct MoldRecorder {
  struct Msg {
    std::string session;
    std::uint64_t sequence;
    std::uint16_t index;
    char type;
  };
  std::vector<Msg> msgs;
  files::MoldMessageContext ctx;
  std::uint64_t packets = 0;
  std::map<char, std::uint64_t> types;

  void on_mold_packet(const files::UdpDatagram&, const mold::PacketHeader&) { ++packets; }
  void on_mold_message(const files::MoldMessageContext& c) { ctx = c; }
  template <class M>
  void record(const M& m) {
    msgs.push_back({std::string(ctx.session.view()), ctx.sequence, ctx.index, m.message_type()});
    ++types[m.message_type()];
  }
  void on_system_event(const itch::SystemEvent& m) { record(m); }
  void on_stock_trading_action(const itch::StockTradingAction& m) { record(m); }
  void on_reg_sho_restriction(const itch::RegShoRestriction& m) { record(m); }
  void on_market_participant_position(const itch::MarketParticipantPosition& m) { record(m); }
  void on_luld_auction_collar(const itch::LuldAuctionCollar& m) { record(m); }
  void on_add_order(const itch::AddOrder& m) { record(m); }
  void on_add_order_mpid(const itch::AddOrderMpid& m) { record(m); }
  void on_order_executed(const itch::OrderExecuted& m) { record(m); }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) { record(m); }
  void on_order_cancel(const itch::OrderCancel& m) { record(m); }
  void on_order_delete(const itch::OrderDelete& m) { record(m); }
  void on_order_replace(const itch::OrderReplace& m) { record(m); }
  void on_trade(const itch::Trade& m) { record(m); }
  void on_cross_trade(const itch::CrossTrade& m) { record(m); }
  void on_noii(const itch::Noii& m) { record(m); }
  void on_rpii(const itch::Rpii& m) { record(m); }
};

Buf mold_packet(const std::string& session, std::uint64_t seq, std::uint16_t count, const std::vector<Buf>& msgs) {
  Buf b(session.begin(), session.end());
  b.resize(10, ' ');
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  put16(b, count);
  for (const auto& m : msgs) {
    put16(b, static_cast<std::uint16_t>(m.size()));
    append(b, m);
  }
  return b;
}

Buf order_delete_msg(std::uint8_t ref) {
  Buf m(19, 0);
  m[0] = 'D';
  m[18] = ref;
  return m;
}

TEST(MoldDatagram, SequencesAndBadPackets) {
  MoldRecorder rec;
  files::MoldStats ms;
  itch::DecodeStats is;
  auto feed = [&](const Buf& payload) {
    files::UdpDatagram d;
    d.payload = payload.data();
    d.length = payload.size();
    files::decode_mold_datagram(d, rec, ms, is);
  };
  feed(mold_packet("SESSION001", 100, 3, {order_delete_msg(1), order_delete_msg(2), order_delete_msg(3)}));
  feed(mold_packet("SESSION001", 103, 0, {}));       // heartbeat
  feed(mold_packet("SESSION001", 103, 0xFFFF, {}));  // end of session
  feed(Buf(19, 0));                                  // shorter than a header
  Buf cut = mold_packet("SESSION001", 103, 2, {order_delete_msg(4), order_delete_msg(5)});
  cut.resize(cut.size() - 1);
  feed(cut);  // second block cut: first still delivered
  feed(mold_packet("SESSION001", 105, 5, {order_delete_msg(6)}));  // count larger than the blocks
  Buf trailing = mold_packet("SESSION001", 106, 1, {order_delete_msg(7)});
  trailing.push_back(0xEE);
  feed(trailing);

  ASSERT_EQ(rec.msgs.size(), 6u);
  EXPECT_EQ(rec.msgs[0].session, "SESSION001");
  EXPECT_EQ(rec.msgs[0].sequence, 100u);
  EXPECT_EQ(rec.msgs[2].sequence, 102u);
  EXPECT_EQ(rec.msgs[2].index, 2);
  EXPECT_EQ(rec.msgs[3].sequence, 103u);
  EXPECT_EQ(rec.msgs[4].sequence, 105u);
  EXPECT_EQ(rec.msgs[5].sequence, 106u);
  EXPECT_EQ(ms.packets, 6u);
  EXPECT_EQ(rec.packets, 6u);
  EXPECT_EQ(ms.messages, 6u);
  EXPECT_EQ(ms.heartbeats, 1u);
  EXPECT_EQ(ms.end_of_session, 1u);
  EXPECT_EQ(ms.short_packets, 1u);
  EXPECT_EQ(ms.truncated_packets, 2u);
  EXPECT_EQ(ms.trailing_bytes, 1u);
  EXPECT_EQ(is.messages, 6u);
  EXPECT_EQ(is.errors(), 0u);
}

TEST(MoldDatagram, DecodingAllocatesNothing) {
  ASSERT_TRUE(hft::testing::counting_active());
  const Buf p = mold_packet("S", 1, 2, {order_delete_msg(1), order_delete_msg(2)});
  struct Sum {
    std::uint64_t seq = 0;
    std::uint64_t s = 0;
    void on_mold_message(const files::MoldMessageContext& c) { seq += c.sequence; }
    void on_order_delete(const itch::OrderDelete& m) { s += m.order_reference_number(); }
  } sum;
  files::MoldStats ms;
  itch::DecodeStats is;
  files::UdpDatagram d;
  d.payload = p.data();
  d.length = p.size();
  hft::testing::AllocationScope scope;
  for (int i = 0; i < 100; ++i) files::decode_mold_datagram(d, sum, ms, is);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(sum.s, 300u);
  EXPECT_EQ(sum.seq, 300u);
}

// ---- NASDAQ's captures ------------------------------------------------------------------------

struct Expected {
  const char* file;
  std::uint64_t frames;
  const char* session;  // nullptr: ten NUL bytes (re-wrapped captures)
  std::uint64_t first_sequence;
  std::map<char, std::uint64_t> types;
  std::uint64_t first_timestamp_ns;
};

// Observed with tshark (-d udp.port==26477,moldudp64) and an independent Python walk of the bytes.
const Expected kCaptures[] = {
    {"bx_itch50/AddOrderNoMpidAttributionMessage.pcap", 1, "000010059D", 1621717, {{'A', 1}}, 1692711000'000086608},
    {"bx_itch50/OrderDeleteMessage.pcap", 1, "000010059D", 1621741, {{'D', 1}}, 1692711000'000255129},
    {"bx_itch50/OrderReplaceMessage.pcap", 1, "000010059D", 1621746, {{'U', 1}}, 1692711000'000394369},
    {"nasdaq_itch50/AddOrderNoMpidAttributionMessage.pcap", 1, "000010059B", 14757721, {{'A', 1}},
     1692711000'000059094},
    {"nasdaq_itch50/MarketParticipantPositionMessage.pcap", 1, "000010059B", 17861990, {{'L', 1}},
     1692711024'494967428},
    {"nasdaq_itch50/Multiple.Packets.pcap", 2, "000010059B", 14764496, {{'D', 1}, {'A', 36}, {'F', 2}},
     1692711000'007661955},
    {"nasdaq_itch50/NetOrderImbalanceIndicatorMessage.pcap", 1, "000010059B", 14757919, {{'I', 1}},
     1692711000'000434142},
    {"nasdaq_itch50/OrderDeleteMessage.D.pcap", 1, "000008057B", 302674815, {{'D', 1}}, 1519764495'151228000},
    {"nasdaq_itch50/OrderDeleteMessage.pcap", 1, "000010059B", 14757722, {{'D', 1}}, 1692711000'000059938},
    {"nasdaq_itch50/OrderExecutedMessage.pcap", 1, "000010059B", 14757745, {{'E', 1}}, 1692711000'000100490},
    {"nasdaq_itch50/OrderReplaceMessage.pcap", 1, "000010059B", 14757701, {{'U', 1}}, 1692711000'000001318},
    {"nasdaq_itch50/StockTradingActionMessage.pcap", 1, "000010059B", 34147961, {{'H', 1}}, 1692711563'322630726},
};

TEST(PcapRealData, NasdaqAndBxCapturesDecodeExactly) {
  HFT_REQUIRE_SHARED_DATA(dir);
  for (const Expected& e : kCaptures) {
    SCOPED_TRACE(e.file);
    files::PcapReader r((dir / "pcap" / e.file).string());
    MoldRecorder rec;
    files::MoldStats ms;
    itch::DecodeStats is;
    std::uint64_t first_ts = 0;
    files::UdpDatagram d;
    while (r.next(d)) {
      if (first_ts == 0) first_ts = d.timestamp_ns;
      files::decode_mold_datagram(d, rec, ms, is);
    }
    EXPECT_TRUE(r.error().empty()) << r.error();
    EXPECT_EQ(r.stats().frames, e.frames);
    EXPECT_EQ(r.stats().udp(), e.frames);
    EXPECT_EQ(ms.packets, e.frames);
    EXPECT_EQ(ms.errors(), 0u);
    EXPECT_EQ(is.errors(), 0u);
    EXPECT_EQ(rec.types, e.types);
    EXPECT_EQ(first_ts, e.first_timestamp_ns);
    ASSERT_FALSE(rec.msgs.empty());
    EXPECT_EQ(rec.msgs[0].session, e.session);
    EXPECT_EQ(rec.msgs[0].sequence, e.first_sequence);
  }
}

TEST(PcapRealData, MultiplePacketsSequences) {
  HFT_REQUIRE_SHARED_DATA(dir);
  files::PcapReader r((dir / "pcap/nasdaq_itch50/Multiple.Packets.pcap").string());
  MoldRecorder rec;
  files::MoldStats ms;
  itch::DecodeStats is;
  std::vector<std::size_t> lengths;
  std::vector<files::Ipv4Endpoint> dst;
  files::UdpDatagram d;
  while (r.next(d)) {
    lengths.push_back(d.length);
    dst.push_back(d.destination);
    files::decode_mold_datagram(d, rec, ms, is);
  }
  // A full 1,472-byte MoldUDP64 packet (1500 MTU - 20 IPv4 - 8 UDP) after a one-message packet.
  EXPECT_EQ(lengths, (std::vector<std::size_t>{41, 1472}));
  EXPECT_EQ(files::to_string(dst[0]), "233.54.12.111:26477");
  ASSERT_EQ(rec.msgs.size(), 39u);
  EXPECT_EQ(rec.msgs[0].sequence, 14764496u);
  EXPECT_EQ(rec.msgs[1].sequence, 19009117u);
  EXPECT_EQ(rec.msgs[1].index, 0);
  EXPECT_EQ(rec.msgs[38].sequence, 19009117u + 37);
  EXPECT_EQ(rec.msgs[38].index, 37);
  EXPECT_EQ(ms.messages, 39u);
  EXPECT_EQ(is.messages, 39u);
}

TEST(PcapRealData, RewrappedCapturesDecodeWithZeroErrors) {
  HFT_REQUIRE_SHARED_DATA(dir);
  struct Venue {
    const char* folder;
    std::uint64_t files;
    std::uint64_t messages;
    std::size_t types;
  };
  // 5 messages per file, 1 for SystemEvent; bx also carries 'N' (RPII).
  const Venue venues[] = {{"nasdaq", 15, 71, 15}, {"bx", 12, 56, 12}, {"psx", 11, 51, 11}};
  std::map<char, std::uint64_t> all_types;
  for (const Venue& v : venues) {
    SCOPED_TRACE(v.folder);
    std::uint64_t files_seen = 0;
    MoldRecorder rec;
    files::MoldStats ms;
    itch::DecodeStats is;
    for (const auto& entry : fs::directory_iterator(dir / "pcap/itch50_rewrapped" / v.folder)) {
      files::PcapReader r(entry.path().string());
      const std::uint64_t before = ms.messages;
      files::decode_itch_pcap(r, rec, ms, is);
      EXPECT_TRUE(r.error().empty()) << r.error();
      EXPECT_EQ(r.stats().skipped(), 0u) << entry.path();
      const std::uint64_t n = ms.messages - before;
      EXPECT_EQ(n, entry.path().filename().string().find("SystemEvent") == 0 ? 1u : 5u) << entry.path();
      ++files_seen;
    }
    EXPECT_EQ(files_seen, v.files);
    EXPECT_EQ(ms.messages, v.messages);
    EXPECT_EQ(ms.packets, v.messages);  // one message per packet
    EXPECT_EQ(ms.errors(), 0u);
    EXPECT_EQ(is.messages, v.messages);
    EXPECT_EQ(is.errors(), 0u);
    EXPECT_EQ(rec.types.size(), v.types);
    for (const auto& m : rec.msgs) {
      EXPECT_EQ(m.session, std::string(10, '\0'));
      EXPECT_EQ(m.sequence, 0u);
    }
    for (const auto& [t, n] : rec.types) all_types[t] += n;
  }
  std::string types;
  for (const auto& [t, n] : all_types) types += t;
  EXPECT_EQ(types, "ACDEFHIJLNPQSUXY");  // the 16 types data/README.md lists
}

}  // namespace
