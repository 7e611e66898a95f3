// hft-itch stats: what a file holds, in one pass of the decoder.
#include <algorithm>
#include <bitset>
#include <vector>

#include "commands.hpp"
#include "gateways/common/endian.hpp"

namespace hft::itch_tool {
namespace {

struct SessionRange {
  mold::SessionId session;
  std::uint64_t packets = 0;
  std::uint64_t messages = 0;
  bool any = false;            // a packet with messages was seen
  std::uint64_t first = 0;     // lowest sequence number carried
  std::uint64_t last = 0;      // highest sequence number carried
  std::uint64_t expected = 0;  // the sequence the next packet should start at
  std::uint64_t gaps = 0;      // packets that started past `expected` (messages skipped)
  std::uint64_t missing = 0;   // sequence numbers skipped by those gaps
  std::uint64_t repeats = 0;   // packets that started before `expected` (retransmissions, duplicates)
  std::uint64_t heartbeats = 0;
  std::uint64_t end_of_session = 0;
};

struct StatsSink {
  std::bitset<65536> locates;
  std::uint64_t first_ts = 0, last_ts = 0, backwards = 0, valid = 0;
  std::vector<SessionRange> sessions;  // in order of appearance; a capture holds a handful

  void on_message(const std::uint8_t* msg) {
    const std::uint16_t locate = wire::load_be16(msg + 1);
    const std::uint64_t ts = wire::load_be48(msg + 5);
    if (locate != 0) locates.set(locate);
    if (valid == 0) first_ts = ts;
    if (valid != 0 && ts < last_ts) ++backwards;
    last_ts = ts;
    ++valid;
  }

  void on_mold_packet(const files::UdpDatagram&, const mold::PacketHeader& h) {
    auto it = std::find_if(sessions.begin(), sessions.end(), [&](const SessionRange& r) { return r.session == h.session; });
    if (it == sessions.end()) {
      SessionRange r;
      r.session = h.session;
      sessions.push_back(r);
      it = sessions.end() - 1;
    }
    SessionRange& r = *it;
    ++r.packets;
    switch (h.kind()) {
      case mold::PacketKind::kHeartbeat: ++r.heartbeats; break;
      case mold::PacketKind::kEndOfSession: ++r.end_of_session; break;
      case mold::PacketKind::kMessages: {
        if (!r.any) {
          r.any = true;
          r.first = h.sequence;
          r.last = h.sequence;
          r.expected = h.sequence;
        }
        if (h.sequence > r.expected) {
          ++r.gaps;
          r.missing += h.sequence - r.expected;
        } else if (h.sequence < r.expected) {
          ++r.repeats;
        }
        // Sequence numbers this packet claims (MoldUDP64: the first message's, then +1 each).
        const std::uint64_t end = h.sequence + h.count;
        r.messages += h.count;
        r.first = std::min(r.first, h.sequence);
        r.last = std::max(r.last, end - 1);
        r.expected = std::max(r.expected, end);
        break;
      }
    }
  }
};

void line(Output& out, std::string_view key, std::uint64_t value) { out.print("{:<28}{}\n", key, value); }

}  // namespace

int run_stats(const InputSpec& in) {
  StatsSink sink;
  RawMessages<StatsSink> raw{&sink};
  std::uint64_t file_bytes = 0;
  InputReport rep;
  if (in.pcap) {
    rep = decode_input(in, raw);
  } else {
    const files::MappedFile file = open_binary_file(in.path);
    file_bytes = file.size();
    rep.file = files::decode_binary_file(file.bytes(), raw, rep.itch);
  }
  const itch::DecodeStats& s = rep.itch;

  Output out;
  out.print("{:<28}{}\n", "file", in.path);
  out.print("{:<28}{}\n", "format", in.pcap ? "pcap (MoldUDP64, ITCH 5.0)" : "BinaryFILE (ITCH 5.0)");
  if (!in.pcap) line(out, "file bytes", file_bytes);
  line(out, "messages", s.messages);
  line(out, "message bytes", s.bytes);
  line(out, "stocks (locates seen)", sink.locates.count());
  if (sink.valid != 0) {
    out.print("{:<28}{} ({})\n", "first timestamp", sink.first_ts, clock_text(sink.first_ts));
    out.print("{:<28}{} ({})\n", "last timestamp", sink.last_ts, clock_text(sink.last_ts));
  } else {
    out.print("{:<28}-\n{:<28}-\n", "first timestamp", "last timestamp");
  }
  line(out, "timestamps out of order", sink.backwards);
  line(out, "invalid (bad length)", s.bad_length);
  line(out, "truncated", in.pcap ? rep.mold.truncated_packets : s.truncated);
  line(out, "unknown type", s.unknown_type);
  line(out, "empty (zero length)", s.empty);
  if (!in.pcap) {
    out.print("{:<28}{}\n", "end-of-session marker",
              rep.file.end_marker ? fmt::format("yes, at offset {}", rep.file.end_marker_offset) : std::string("no"));
    if (rep.file.bytes_after_marker != 0) line(out, "bytes after the marker", rep.file.bytes_after_marker);
    if (rep.file.truncated) {
      out.print("{:<28}offset {}, {} bytes missing\n", "truncated message", rep.file.truncated_offset,
                rep.file.truncated_missing);
    }
  }

  out.print("\n{:<6}{:<52}{:>12}\n", "type", "name", "count");
  for (const char t : itch::kMessageTypes) {
    const itch::MessageSpec* spec = itch::message_spec(t);
    out.print("{:<6}{:<52}{:>12}\n", t, spec->name, s.by_type[static_cast<std::uint8_t>(t)]);
  }

  if (in.pcap) {
    const files::PcapStats& p = rep.pcap;
    const files::MoldStats& m = rep.mold;
    out.print("\npcap\n");
    line(out, "frames", p.frames);
    for (std::size_t i = 0; i < files::kFrameStatusCount; ++i) {
      out.print("  {:<26}{}\n", files::to_string(static_cast<files::FrameStatus>(i)), p.by_status[i]);
    }
    if (!rep.pcap_error.empty()) out.print("{:<28}{}\n", "damaged record", rep.pcap_error);
    out.print("\nMoldUDP64\n");
    line(out, "packets", m.packets);
    line(out, "message blocks", m.messages);
    line(out, "heartbeats", m.heartbeats);
    line(out, "end of session", m.end_of_session);
    line(out, "short packets", m.short_packets);
    line(out, "truncated packets", m.truncated_packets);
    line(out, "trailing bytes", m.trailing_bytes);
    line(out, "sessions", sink.sessions.size());
    for (const SessionRange& r : sink.sessions) {
      fmt::memory_buffer name;
      append_json_string(name, trim_right(r.session.view()));
      out.print("  session {}: packets {} messages {} sequence {}", fmt::to_string(name), r.packets, r.messages,
                r.any ? fmt::format("{}..{}", r.first, r.last) : std::string("-"));
      out.print(" gaps {} (missing {}) repeats {} heartbeats {} end_of_session {}\n", r.gaps, r.missing, r.repeats,
                r.heartbeats, r.end_of_session);
    }
  }
  out.flush();
  report_input_errors(in, rep);
  return kExitOk;
}

}  // namespace hft::itch_tool
