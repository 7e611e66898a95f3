#pragma once
// UDP datagrams out of a pcap capture file (libpcap offline; classic pcap and pcapng, microsecond
// and nanosecond timestamps, all read at nanosecond precision).
//
// Link types: Ethernet (DLT_EN10MB) with any stack of 802.1Q / 802.1ad (QinQ) tags — NASDAQ's
// own sample captures carry 802.1Q tags —, Linux cooked v1 and v2 (DLT_LINUX_SLL, _SLL2, what
// `tcpdump -i any` writes) and raw IP (DLT_RAW, DLT_IPV4). Above that: IPv4 with its header and
// total length checked against the captured bytes (Ethernet padding after the datagram is
// ignored), fragments counted and skipped (a capture carries no reassembly context; MoldUDP64
// packets are sized to fit one frame), then UDP with its length checked. Every frame that is not
// delivered is counted under one reason; nothing is read beyond the captured bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateways/files/binary_file.hpp"  // FileError

struct pcap;  // libpcap's handle (pcap_t), kept out of this header

namespace hft::files {

enum class LinkType : std::uint8_t { kEthernet, kLinuxSll, kLinuxSll2, kRawIp, kUnsupported };

// libpcap's DLT_* value → LinkType.
LinkType link_type_from_dlt(int dlt) noexcept;

struct Ipv4Endpoint {
  std::uint32_t address = 0;  // host byte order: 10.0.0.1 is 0x0A000001
  std::uint16_t port = 0;
  friend bool operator==(const Ipv4Endpoint&, const Ipv4Endpoint&) = default;
};
// "a.b.c.d:port" (tools, tests; allocates).
std::string to_string(const Ipv4Endpoint& e);

struct UdpDatagram {
  std::uint64_t timestamp_ns = 0;  // capture time, ns since the Unix epoch
  std::uint64_t frame = 0;         // 1-based frame number in the file (as Wireshark numbers them)
  Ipv4Endpoint source;
  Ipv4Endpoint destination;
  const std::uint8_t* payload = nullptr;  // valid until the next read
  std::size_t length = 0;
};

// Why a frame was or was not delivered.
enum class FrameStatus : std::uint8_t {
  kUdp,            // delivered
  kNotIpv4,        // another ethertype / IP version (ARP, IPv6, LLC, ...)
  kNotUdp,         // IPv4, another protocol (TCP, IGMP, ...)
  kFragment,       // IPv4 fragment (MF set or offset != 0)
  kTruncated,      // the capture holds fewer bytes than the headers need (snap length)
  kBadIpHeader,    // version != 4 under an IPv4 ethertype, or header length < 20
  kBadIpLength,    // total length < header length, or longer than the frame on the wire
  kBadUdpLength,   // UDP length < 8 or longer than the IPv4 payload
  kUnsupportedLink,
};
inline constexpr std::size_t kFrameStatusCount = 9;
std::string_view to_string(FrameStatus s) noexcept;

// Parses one frame of `link` down to its UDP payload. `wire_len` is the frame's length on the
// wire (pcap's `len`; >= caplen): it separates a short capture (kTruncated) from a lying header
// (kBadIpLength). On kUdp fills out's addresses and payload (not its timestamp or frame).
FrameStatus parse_frame(LinkType link, const std::uint8_t* frame, std::size_t caplen, std::size_t wire_len,
                        UdpDatagram& out) noexcept;
inline FrameStatus parse_frame(LinkType link, const std::uint8_t* frame, std::size_t caplen, UdpDatagram& out) noexcept {
  return parse_frame(link, frame, caplen, caplen, out);
}

struct PcapStats {
  std::uint64_t frames = 0;                              // records read
  std::array<std::uint64_t, kFrameStatusCount> by_status{};  // by FrameStatus
  [[nodiscard]] std::uint64_t count(FrameStatus s) const noexcept { return by_status[static_cast<std::size_t>(s)]; }
  [[nodiscard]] std::uint64_t udp() const noexcept { return count(FrameStatus::kUdp); }
  [[nodiscard]] std::uint64_t skipped() const noexcept { return frames - udp(); }
  // Frames that were broken rather than merely other traffic.
  [[nodiscard]] std::uint64_t malformed() const noexcept {
    return count(FrameStatus::kTruncated) + count(FrameStatus::kBadIpHeader) + count(FrameStatus::kBadIpLength) +
           count(FrameStatus::kBadUdpLength);
  }
};

// Reads a capture file front to back. Not copyable; one reader per file.
class PcapReader {
 public:
  // Throws FileError naming the file and libpcap's reason (missing file, not a capture, a link
  // type this reader does not parse).
  explicit PcapReader(const std::string& path);
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // The next UDP datagram; other frames are counted in stats() and skipped. False at the end of
  // the file, or at a damaged record (then error() says what libpcap found).
  bool next(UdpDatagram& out) noexcept;

  // Calls fn(const UdpDatagram&) for every datagram; returns how many.
  template <class Fn>
  std::uint64_t for_each(Fn&& fn) {
    std::uint64_t n = 0;
    UdpDatagram d;
    while (next(d)) {
      fn(static_cast<const UdpDatagram&>(d));
      ++n;
    }
    return n;
  }

  [[nodiscard]] LinkType link_type() const noexcept { return link_; }
  [[nodiscard]] int dlt() const noexcept { return dlt_; }
  [[nodiscard]] const PcapStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  ::pcap* pcap_ = nullptr;
  LinkType link_ = LinkType::kUnsupported;
  int dlt_ = 0;
  PcapStats stats_;
  std::string error_;
  std::string path_;
};

}  // namespace hft::files
