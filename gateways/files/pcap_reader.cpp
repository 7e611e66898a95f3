#include "gateways/files/pcap_reader.hpp"

#include <pcap/pcap.h>

#include "gateways/common/endian.hpp"

namespace hft::files {
namespace {

// Ethertypes (IEEE 802.3 / IANA).
constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherVlan = 0x8100;      // 802.1Q C-tag
constexpr std::uint16_t kEtherQinQ = 0x88A8;      // 802.1ad S-tag
constexpr std::uint16_t kEtherQinQLegacy = 0x9100;  // pre-standard QinQ, still seen on switches
constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kSllHeader = 16;   // protocol type at offset 14 (pcap-linktype(7) LINUX_SLL)
constexpr std::size_t kSll2Header = 20;  // protocol type at offset 0 (LINUX_SLL2)
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kUdpHeader = 8;
constexpr std::uint8_t kIpProtoUdp = 17;

// Skips any stack of VLAN tags starting at `off` (where the ethertype after the tags' TPID
// would be read from `type`). Returns false when a tag is cut short.
bool skip_vlan_tags(const std::uint8_t* frame, std::size_t caplen, std::size_t& off, std::uint16_t& type) noexcept {
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQLegacy) {
    if (caplen - off < kVlanTag) return false;
    type = wire::load_be16(frame + off + 2);
    off += kVlanTag;
  }
  return true;
}

}  // namespace

LinkType link_type_from_dlt(int dlt) noexcept {
  switch (dlt) {
    case DLT_EN10MB: return LinkType::kEthernet;
    case DLT_LINUX_SLL: return LinkType::kLinuxSll;
    case DLT_LINUX_SLL2: return LinkType::kLinuxSll2;
    case DLT_RAW:
    case DLT_IPV4: return LinkType::kRawIp;
    default: return LinkType::kUnsupported;
  }
}

std::string to_string(const Ipv4Endpoint& e) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    s += std::to_string((e.address >> shift) & 0xFF);
    s += shift > 0 ? '.' : ':';
  }
  s += std::to_string(e.port);
  return s;
}

std::string_view to_string(FrameStatus s) noexcept {
  switch (s) {
    case FrameStatus::kUdp: return "udp";
    case FrameStatus::kNotIpv4: return "not_ipv4";
    case FrameStatus::kNotUdp: return "not_udp";
    case FrameStatus::kFragment: return "ip_fragment";
    case FrameStatus::kTruncated: return "truncated_capture";
    case FrameStatus::kBadIpHeader: return "bad_ip_header";
    case FrameStatus::kBadIpLength: return "bad_ip_length";
    case FrameStatus::kBadUdpLength: return "bad_udp_length";
    case FrameStatus::kUnsupportedLink: return "unsupported_link_type";
  }
  return "unknown";
}

FrameStatus parse_frame(LinkType link, const std::uint8_t* frame, std::size_t caplen, std::size_t wire_len,
                        UdpDatagram& out) noexcept {
  if (wire_len < caplen) wire_len = caplen;
  std::size_t off = 0;
  std::uint16_t type = kEtherIpv4;
  switch (link) {
    case LinkType::kEthernet:
      if (caplen < kEthernetHeader) return FrameStatus::kTruncated;
      type = wire::load_be16(frame + 12);
      off = kEthernetHeader;
      break;
    case LinkType::kLinuxSll:
      if (caplen < kSllHeader) return FrameStatus::kTruncated;
      type = wire::load_be16(frame + 14);
      off = kSllHeader;
      break;
    case LinkType::kLinuxSll2:
      if (caplen < kSll2Header) return FrameStatus::kTruncated;
      type = wire::load_be16(frame);
      off = kSll2Header;
      break;
    case LinkType::kRawIp:
      if (caplen < 1) return FrameStatus::kTruncated;
      if ((frame[0] >> 4) != 4) return FrameStatus::kNotIpv4;
      break;
    case LinkType::kUnsupported:
      return FrameStatus::kUnsupportedLink;
  }
  if (!skip_vlan_tags(frame, caplen, off, type)) return FrameStatus::kTruncated;
  if (type != kEtherIpv4) return FrameStatus::kNotIpv4;

  const std::uint8_t* ip = frame + off;
  const std::size_t captured = caplen - off;
  const std::size_t on_wire = wire_len - off;
  if (captured < kIpv4MinHeader) return on_wire < kIpv4MinHeader ? FrameStatus::kBadIpHeader : FrameStatus::kTruncated;
  if ((ip[0] >> 4) != 4) return FrameStatus::kBadIpHeader;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0F) * 4;
  if (ihl < kIpv4MinHeader) return FrameStatus::kBadIpHeader;
  const std::size_t total = wire::load_be16(ip + 2);
  if (total < ihl || total > on_wire) return FrameStatus::kBadIpLength;
  if (total > captured) return FrameStatus::kTruncated;
  // RFC 791: flags (3 bits) then the 13-bit fragment offset; MF or a non-zero offset is a fragment.
  if ((wire::load_be16(ip + 6) & 0x3FFF) != 0) return FrameStatus::kFragment;
  if (ip[9] != kIpProtoUdp) return FrameStatus::kNotUdp;

  const std::uint8_t* udp = ip + ihl;
  const std::size_t ip_payload = total - ihl;
  if (ip_payload < kUdpHeader) return FrameStatus::kBadUdpLength;
  const std::size_t udp_len = wire::load_be16(udp + 4);
  if (udp_len < kUdpHeader || udp_len > ip_payload) return FrameStatus::kBadUdpLength;

  out.source = {wire::load_be32(ip + 12), wire::load_be16(udp)};
  out.destination = {wire::load_be32(ip + 16), wire::load_be16(udp + 2)};
  out.payload = udp + kUdpHeader;
  out.length = udp_len - kUdpHeader;
  return FrameStatus::kUdp;
}

PcapReader::PcapReader(const std::string& path) : path_(path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap_ == nullptr) throw FileError(path + ": " + errbuf);
  dlt_ = pcap_datalink(pcap_);
  link_ = link_type_from_dlt(dlt_);
  if (link_ == LinkType::kUnsupported) {
    const char* name = pcap_datalink_val_to_name(dlt_);
    pcap_close(pcap_);
    pcap_ = nullptr;
    throw FileError(path + ": unsupported link type " + std::to_string(dlt_) + " (" + (name ? name : "unknown") +
                    "); expected Ethernet, Linux cooked (SLL, SLL2) or raw IP");
  }
}

PcapReader::~PcapReader() {
  if (pcap_ != nullptr) pcap_close(pcap_);
}

bool PcapReader::next(UdpDatagram& out) noexcept {
  for (;;) {
    pcap_pkthdr* hdr = nullptr;
    const std::uint8_t* data = nullptr;
    const int rc = pcap_next_ex(pcap_, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) return false;  // end of file
    if (rc != 1) {
      // A damaged record (e.g. a capture cut mid-record). Building the message may allocate:
      // this ends the read, it is not the steady state.
      try {
        error_ = path_ + ": frame " + std::to_string(stats_.frames + 1) + ": " + pcap_geterr(pcap_);
      } catch (...) {
      }
      return false;
    }
    ++stats_.frames;
    const FrameStatus st = parse_frame(link_, data, hdr->caplen, hdr->len, out);
    ++stats_.by_status[static_cast<std::size_t>(st)];
    if (st != FrameStatus::kUdp) continue;
    // With PCAP_TSTAMP_PRECISION_NANO, tv_usec carries nanoseconds (pcap_open_offline(3PCAP)).
    out.timestamp_ns = static_cast<std::uint64_t>(hdr->ts.tv_sec) * 1'000'000'000ULL +
                       static_cast<std::uint64_t>(hdr->ts.tv_usec);
    out.frame = stats_.frames;
    return true;
  }
}

}  // namespace hft::files
