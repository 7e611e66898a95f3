// Fuzz target: one arbitrary datagram into the MoldUDP64 re-request server's request handling
// (RequestHandler::handle, the part of RerequestServer::poll() that sees network bytes), against
// a retransmission store that has wrapped and evicted. Beyond "no crash, no out-of-bounds read",
// every reply is checked: within the budget, a well-formed downstream packet for our session
// starting at the requested sequence, byte-equal to what was published, no more messages than
// asked or allowed, and stopping early only when the next message would not fit.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gateways/moldudp64/rerequest_server.hpp"

namespace {

using namespace hft::mold;

constexpr std::uint64_t kPublished = 10'000;
const SessionId kSession = SessionId::from("FUZZSESS01");

// Message `seq`: mostly ITCH-sized, some empty, some large enough that few fit in a reply.
std::size_t length_of(std::uint64_t seq) {
  if (seq % 97 == 0) return 0;
  if (seq % 31 == 0) return 700 + seq % 751;  // up to 1,450: one fills a 1,472-byte packet
  return 12 + seq % 39;
}
std::uint8_t byte_of(std::uint64_t seq, std::size_t i) { return static_cast<std::uint8_t>(seq * 131 + i * 7); }

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rerequest_server_fuzz: %s\n", what);
  std::abort();
}
void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

struct World {
  RetransmitStore store{[] {
    RetransmitStoreConfig c;
    c.max_messages = 3000;
    c.max_bytes = 256 * 1024;
    return c;
  }()};
  RequestHandler active;
  RequestHandler ended;
  RequestHandler capped;

  static RerequestConfig config(std::uint16_t cap, std::size_t budget) {
    RerequestConfig c;
    c.session = kSession;
    c.max_messages_per_request = cap;
    c.max_payload = budget;
    return c;
  }

  World() : active(config(1024, kMaxPayload), store), ended(config(1024, kMaxPayload), store), capped(config(5, 600), store) {
    std::array<std::uint8_t, 2048> msg{};
    for (std::uint64_t seq = 1; seq <= kPublished; ++seq) {
      const std::size_t len = length_of(seq);
      for (std::size_t i = 0; i < len; ++i) msg[i] = byte_of(seq, i);
      if (!store.append(seq, msg.data(), len)) fail("store refused a message");
    }
    ended.set_session_ended(true);
  }
};

void verify(const RequestHandler& h, bool session_ended, const std::uint8_t* data, std::size_t size,
            const RequestHandler::Reply& reply, const std::uint8_t* out, const RetransmitStore& store) {
  const std::size_t budget = h.config().max_payload;
  check(reply.length <= budget, "reply longer than the budget");
  RequestPacket req;
  const bool parsed = RequestPacket::parse(data, size, req);
  check(parsed == (size == kRequestSize), "parse disagrees with the 20-byte rule");
  switch (reply.outcome) {
    case RequestOutcome::kMalformed:
      check(!parsed && reply.length == 0, "malformed outcome for a parsable request");
      return;
    case RequestOutcome::kWrongSession:
      check(parsed && req.session != kSession && reply.length == 0, "wrong-session outcome");
      return;
    case RequestOutcome::kEmpty:
      check(parsed && req.count == 0 && reply.length == 0, "empty outcome");
      return;
    case RequestOutcome::kUnavailable:
      check(parsed && req.session == kSession && req.count > 0 && req.sequence < store.first_sequence() &&
                reply.length == 0,
            "unavailable outcome");
      return;
    case RequestOutcome::kTooLarge:
      check(parsed && req.session == kSession && req.count > 0 && req.sequence >= store.first_sequence() &&
                req.sequence < store.next_sequence() && kHeaderSize + 2 + length_of(req.sequence) > budget &&
                reply.length == 0,
            "too-large outcome for a message that fits");
      return;
    case RequestOutcome::kBeyondRange: {
      check(parsed && req.sequence >= store.next_sequence() && reply.length == kHeaderSize, "beyond-range outcome");
      PacketHeader hdr;
      check(PacketHeader::parse(out, reply.length, hdr), "beyond-range header");
      check(hdr.session == kSession && hdr.sequence == store.next_sequence(), "beyond-range sequence");
      check(hdr.count == (session_ended ? kEndOfSessionCount : kHeartbeatCount), "beyond-range count");
      return;
    }
    case RequestOutcome::kAnswered:
      break;
  }
  check(parsed && req.session == kSession && req.count > 0, "answered a request that is not valid");
  PacketHeader hdr;
  check(PacketHeader::parse(out, reply.length, hdr), "answer header");
  check(hdr.session == kSession && hdr.sequence == req.sequence, "answer starts elsewhere");
  check(hdr.kind() == PacketKind::kMessages && hdr.count <= req.count, "answer count");
  check(hdr.count <= h.config().max_messages_per_request, "answer above the per-request cap");
  MessageBlocks blocks(out, reply.length, hdr.count);
  const std::uint8_t* msg = nullptr;
  std::size_t len = 0;
  std::uint64_t seq = hdr.sequence;
  while (blocks.next(msg, len)) {
    check(len == length_of(seq), "resent message has the wrong length");
    for (std::size_t i = 0; i < len; ++i) check(msg[i] == byte_of(seq, i), "resent message has the wrong bytes");
    ++seq;
  }
  check(!blocks.truncated() && blocks.trailing_bytes() == 0 && seq == hdr.sequence + hdr.count, "answer framing");
  // Stopping short of the request is allowed only at the cap, at the end of what was published,
  // or when the next message would not have fitted.
  const bool stopped_short = hdr.count < req.count && hdr.count < h.config().max_messages_per_request &&
                             seq < store.next_sequence();
  if (stopped_short) check(reply.length + 2 + length_of(seq) > budget, "answer stopped although the next message fitted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  static std::array<std::uint8_t, kMaxUdpPayload> out;
  RequestHandler* handlers[] = {&world.active, &world.ended, &world.capped};
  for (RequestHandler* h : handlers) {
    std::memset(out.data(), 0xA5, h->config().max_payload);
    const RequestHandler::Reply reply = h->handle(data, size, out.data());
    verify(*h, h == &world.ended, data, size, reply, out.data(), world.store);
  }
  return 0;
}
