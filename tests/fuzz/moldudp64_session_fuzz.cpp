// Fuzz target: a MoldUDP64 receiver session fed a script of packets and clock ticks.
//
// Input: byte 0 and 1 shape the config (store size, request chunk), then operations:
//   op % 4 == 0, 1: a raw packet: u16 length (capped at what is left), then that many bytes
//   op % 4 == 2:    a well-formed packet of the fuzz session: 1 byte sequence, 1 byte count
//                   (0 = heartbeat, 7 = end of session), short messages — reaches deep
//                   gap/recovery states quickly
//   op % 4 == 3:    time advances by (op >> 2) x 97 ns, poll(); a due request is answered
//                   like a re-request server would (origin kRerequestServer), with at most 5
//                   messages, or with a heartbeat at the server's next sequence when the request
//                   starts at or beyond it (the server's stream ends at byte 1's high nibble x 16)
// The plausibility bound is small (byte 1's high nibble + 4) so that suspect jumps, their probes,
// confirmations, refutations and phantom withdrawals are reached.
// Invariants checked after every step: messages reach the handler exactly in sequence (a jump
// only after an on_lost that covers it), requests ask for the head of the gap, counters agree.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "gateways/moldudp64/session.hpp"

namespace {

using namespace hft::mold;

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr char kFuzzSession[] = "FUZZSESS00";

struct Checker {
  // The session's next_expected(), reached through a pointer set once the session exists
  // (Session<Checker> needs Checker complete first).
  const void* session = nullptr;
  std::uint64_t (*next_expected_of)(const void*) = nullptr;
  [[nodiscard]] std::uint64_t next_expected() const { return next_expected_of(session); }
  bool have_last = false;
  std::uint64_t last = 0;
  std::uint64_t lost_until = 0;
  std::uint64_t delivered = 0;

  void on_message(std::uint64_t seq, const std::uint8_t* p, std::size_t n) {
    check(seq + 1 == next_expected());
    if (have_last) check(seq == last + 1 || (seq > last && seq <= lost_until));
    if (n > 0) check(p != nullptr);
    volatile std::uint8_t touch = 0;
    for (std::size_t i = 0; i < n; ++i) touch = static_cast<std::uint8_t>(touch ^ p[i]);
    have_last = true;
    last = seq;
    ++delivered;
  }
  void on_lost(std::uint64_t first, std::uint64_t end) {
    check(first < end);
    check(first == next_expected());
    lost_until = end;
  }
  void on_gap(std::uint64_t first, std::uint64_t end) { check(first < end); }
};

std::vector<std::uint8_t> make_packet(std::uint64_t seq, std::uint16_t count) {
  std::vector<std::uint8_t> b(kFuzzSession, kFuzzSession + 10);
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  b.push_back(static_cast<std::uint8_t>(count >> 8));
  b.push_back(static_cast<std::uint8_t>(count));
  if (count == kEndOfSessionCount) return b;
  for (std::uint16_t i = 0; i < count; ++i) {
    b.push_back(0);
    b.push_back(3);
    b.push_back(static_cast<std::uint8_t>(seq + i));
    b.push_back(static_cast<std::uint8_t>(i));
    b.push_back(0xEE);
  }
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  SessionConfig cfg;
  cfg.store_packets = 1 + (data[0] & 7);
  cfg.store_packet_bytes = 64 + (data[0] >> 3) * 16;
  cfg.max_request_count = static_cast<std::uint16_t>(1 + data[1] % 16);
  cfg.request_timeout_ns = 200;
  cfg.recovery_deadline_ns = 2000;
  cfg.max_sequence_jump = 4 + (data[1] >> 4);
  cfg.confirm_packets = data[0] & 1 ? 2u : 0u;
  const std::uint64_t server_next = 64 + static_cast<std::uint64_t>(data[1] >> 4) * 16;
  Checker checker;
  Session<Checker> s(checker, cfg);
  checker.session = &s;
  checker.next_expected_of = [](const void* p) { return static_cast<const Session<Checker>*>(p)->next_expected(); };

  std::uint64_t now = 0;
  std::size_t i = 2;
  std::vector<std::uint8_t> packet;
  while (i < size) {
    const std::uint8_t op = data[i++];
    switch (op % 4) {
      case 0:
      case 1: {
        if (size - i < 2) return 0;
        std::size_t len = (static_cast<std::size_t>(data[i]) << 8) | data[i + 1];
        i += 2;
        if (len > size - i) len = size - i;
        // A heap copy of exactly `len` bytes, so that any read past the packet is caught.
        packet.assign(data + i, data + i + len);
        packet.shrink_to_fit();
        s.on_packet(packet.data(), packet.size(), now);
        i += len;
        break;
      }
      case 2: {
        if (size - i < 2) return 0;
        const std::uint64_t seq = data[i];
        const std::uint8_t c = data[i + 1] % 8;
        i += 2;
        const std::uint16_t count = c == 7 ? kEndOfSessionCount : c;
        packet = make_packet(seq, count);
        s.on_packet(packet.data(), packet.size(), now);
        break;
      }
      default: {
        now += static_cast<std::uint64_t>(op >> 2) * 97;
        RequestPacket r;
        if (s.poll(now, r)) {
          if (s.in_recovery()) {
            check(r.sequence == s.next_expected());
            check(r.count >= 1 && r.count <= cfg.max_request_count);
            check(r.count <= s.missing().size());
          } else {
            // A probe about a suspect jump: the one message at its sequence.
            check(s.suspect_pending());
            check(r.sequence == s.suspect().first && r.count == 1);
          }
          check(r.session == s.session());
          std::uint8_t wire[kRequestSize];
          r.write(wire);
          RequestPacket back;
          check(RequestPacket::parse(wire, sizeof wire, back) && back.sequence == r.sequence && back.count == r.count);
          if (r.session == SessionId::from(kFuzzSession)) {
            const std::uint64_t have = r.sequence < server_next ? server_next - r.sequence : 0;
            const std::uint64_t n = std::min<std::uint64_t>({r.count, 5, have});
            packet = make_packet(n == 0 ? server_next : r.sequence, static_cast<std::uint16_t>(n));
            const std::uint64_t before = s.next_expected();
            s.on_packet(packet.data(), packet.size(), now, PacketOrigin::kRerequestServer);
            if (n == 0) check(s.next_expected() == before && (!s.in_recovery() || before < server_next));
          }
        }
        break;
      }
    }
    const auto& c = s.counters();
    check(c.messages == checker.delivered);
    check(c.request_retries <= c.requests);
    check(s.held_packets() <= cfg.store_packets);
    if (s.in_recovery()) {
      check(!s.missing().empty());
      check(s.missing().first == s.next_expected());
    } else {
      check(s.missing().empty());
    }
    check(s.next_expected() <= s.highest_seen() || !s.started());
  }
  return 0;
}
