#pragma once
// Test helper: the TCP payloads of a classic pcap file (Ethernet, optional 802.1Q tags, IPv4,
// TCP), read with libpcap. The payload is bounded by the IPv4 Total Length, not the frame length:
// the OMI captures carry Ethernet trailers (timestamps) after the IP packet.
#include <pcap/pcap.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gateways/common/endian.hpp"

namespace hft::testing {

struct TcpSegment {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::vector<std::uint8_t> payload;
};

// All TCP segments with a payload, in file order; nullopt if the file cannot be read or a frame
// is not Ethernet/IPv4/TCP.
inline std::optional<std::vector<TcpSegment>> read_tcp_payloads(const std::filesystem::path& file) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline(file.c_str(), err);
  if (pc == nullptr) return std::nullopt;
  std::vector<TcpSegment> out;
  bool ok = pcap_datalink(pc) == DLT_EN10MB;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (ok && pcap_next_ex(pc, &h, &data) == 1) {
    const std::uint8_t* p = data;
    std::size_t n = h->caplen;
    if (n < 14) { ok = false; break; }
    std::size_t off = 12;
    std::uint16_t ethertype = wire::load_be16(p + off);
    while (ethertype == 0x8100 || ethertype == 0x88a8) {  // VLAN tags
      off += 4;
      if (n < off + 2) { ok = false; break; }
      ethertype = wire::load_be16(p + off);
    }
    off += 2;
    if (!ok || ethertype != 0x0800 || n < off + 20) { ok = false; break; }
    const std::uint8_t* ip = p + off;
    const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
    const std::size_t total = wire::load_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || total < ihl + 20 || n < off + total) { ok = false; break; }
    const std::uint8_t* tcp = ip + ihl;
    const std::size_t thl = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    if (thl < 20 || total < ihl + thl) { ok = false; break; }
    TcpSegment s;
    s.src_port = wire::load_be16(tcp);
    s.dst_port = wire::load_be16(tcp + 2);
    s.payload.assign(tcp + thl, ip + total);
    if (!s.payload.empty()) out.push_back(std::move(s));
  }
  pcap_close(pc);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace hft::testing
