// Arbitrary byte streams into the SoupBinTCP framer and the server and client session engines.
//
// Input: byte 0 = flags (bit 0: prefix a valid login so the engine gets past it; bits 1-3: chunk
// size seed; bit 4: also run the client engine; bit 5: 4.x server 'U' accepted), the rest = the
// stream. Checked beyond "no crash, no out-of-bounds read":
//  * the framer yields the same packets and the same error whether the stream arrives whole or
//    in chunks;
//  * each engine's output stays within its buffer, every byte it writes is a well-formed
//    packet for its direction, and a closed session accepts no more input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/server.hpp"

namespace {

using namespace hft::soup;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) std::abort(); \
  } while (0)

struct Seen {
  std::uint8_t type;
  std::size_t size;
  std::uint64_t hash;
};

std::uint64_t fnv(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

void collect(Framer& f, const std::uint8_t* data, std::size_t size, std::size_t chunk, std::vector<Seen>& out) {
  std::size_t off = 0;
  while (off < size) {
    const std::size_t n = chunk < size - off ? chunk : size - off;
    const FeedResult r = f.feed(data + off, n, [&](const Packet& p) {
      out.push_back({p.type, p.size, fnv(p.payload, p.size)});
      return true;
    });
    FUZZ_CHECK(r.consumed <= n);
    if (r.failed) return;
    FUZZ_CHECK(r.consumed == n);
    off += n;
  }
}

void check_framer(Direction dir, bool unsequenced, const std::uint8_t* data, std::size_t size, std::size_t chunk) {
  Framer whole(dir, 512, unsequenced);
  Framer split(dir, 512, unsequenced);
  std::vector<Seen> a;
  std::vector<Seen> b;
  collect(whole, data, size, size == 0 ? 1 : size, a);
  collect(split, data, size, chunk, b);
  FUZZ_CHECK(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    FUZZ_CHECK(a[i].type == b[i].type && a[i].size == b[i].size && a[i].hash == b[i].hash);
  FUZZ_CHECK(whole.error().error == split.error().error);
}

// Every byte an engine writes must parse as packets of its own direction.
void check_output(std::span<const std::uint8_t> out, Direction dir) {
  // Built once: the engines here never write a packet longer than 1 + 64 bytes.
  static Framer to_client(Direction::kServerToClient, 1024);
  static Framer to_server(Direction::kClientToServer, 1024);
  Framer& f = dir == Direction::kServerToClient ? to_client : to_server;
  f.reset();
  const FeedResult r = f.feed(out.data(), out.size(), [](const Packet&) { return true; });
  FUZZ_CHECK(!r.failed);
  FUZZ_CHECK(f.buffered() == 0);
}

struct NullServer {
  ServerContext* ctx;
  void on_unsequenced(std::uint32_t user, std::span<const std::uint8_t> m, std::uint64_t) noexcept {
    if (!m.empty() && m[0] == 'E') ctx->end_session();
    ctx->append(user, m.first(m.size() < 64 ? m.size() : 64));
  }
};
struct NullClient {
  std::uint64_t last = 0;
  void on_sequenced(std::uint64_t seq, std::span<const std::uint8_t>, std::uint64_t) noexcept {
    FUZZ_CHECK(last == 0 || seq == last + 1);
    last = seq;
  }
};

void run_server(const std::uint8_t* data, std::size_t size, bool login, std::size_t chunk) {
  ServerConfig c;
  c.session = "FUZZ";
  c.users = {{"FUZZ", "pw"}, {"OTHER", ""}};
  c.store_messages = 64;
  c.store_bytes = 4096;
  c.max_message = 64;
  c.max_inbound_packet = 256;
  c.output_buffer_bytes = 1024;
  ServerContext ctx(c);
  for (int i = 0; i < 3; ++i) ctx.append(0, std::span<const std::uint8_t>(data, size < 8 ? size : 8));
  NullServer h{&ctx};
  ServerSession<NullServer> s(ctx, h);
  std::uint64_t now = 1'000'000'000;
  s.open(1, now);
  if (login) {
    LoginRequest r;
    r.username = Username::from("FUZZ");
    r.password = Password::from("pw");
    r.sequence = 1;
    std::uint8_t buf[64];
    s.on_bytes(buf, encode_login_request(buf, r), now);
  }
  std::size_t off = 0;
  while (off < size && !s.finished()) {
    const std::size_t n = chunk < size - off ? chunk : size - off;
    s.on_bytes(data + off, n, now);
    now += static_cast<std::uint64_t>(data[off]) * 50'000'000;  // up to 12.75 s per chunk
    s.poll(now);
    FUZZ_CHECK(s.output().size() <= c.output_buffer_bytes);
    check_output(s.output(), Direction::kServerToClient);
    s.consume_output(s.output().size());
    off += n;
  }
  if (s.finished()) {
    const auto before = s.counters().packets_in;
    const std::uint8_t hb[] = {0, 1, 'R'};
    s.on_bytes(hb, sizeof hb, now);
    FUZZ_CHECK(s.counters().packets_in == before);
  }
  s.on_transport_closed(now, 0);
  FUZZ_CHECK(!ctx.logged_in(0) && !ctx.logged_in(1));
}

void run_client(const std::uint8_t* data, std::size_t size, bool login, bool unsequenced, std::size_t chunk) {
  ClientConfig c;
  c.username = std::string("FUZZ");  // (not `= "pw"`: g++ 12 -O3 warns falsely in basic_string::_M_replace)
  c.password = std::string("pw");
  c.max_inbound_packet = 256;
  c.accept_unsequenced = unsequenced;
  NullClient h;
  ClientSession<NullClient> s(c, h);
  std::uint64_t now = 1'000'000'000;
  FUZZ_CHECK(s.open(1, now));
  check_output(s.output(), Direction::kClientToServer);
  s.consume_output(s.output().size());
  if (login) {
    std::uint8_t buf[64];
    s.on_bytes(buf, encode_login_accepted(buf, LoginAccepted{SessionName::from("FUZZ"), 1}), now);
  }
  std::size_t off = 0;
  while (off < size && !s.finished()) {
    const std::size_t n = chunk < size - off ? chunk : size - off;
    s.on_bytes(data + off, n, now);
    now += static_cast<std::uint64_t>(data[off]) * 50'000'000;
    s.poll(now);
    if (s.logged_in()) {
      const std::uint8_t order[] = {'O', 1, 2, 3};
      (void)s.send_unsequenced(order, now);
    }
    check_output(s.output(), Direction::kClientToServer);
    s.consume_output(s.output().size());
    off += n;
  }
  s.on_transport_closed(now, 0);
  // A session that ended or was refused for bad credentials must not log in again.
  if (s.ended() || (s.rejected() && s.reject_code() == RejectCode::kNotAuthorized)) FUZZ_CHECK(!s.open(2, now));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  ++data;
  --size;
  const bool login = (flags & 1) != 0;
  const std::size_t chunk = std::size_t{1} << ((flags >> 1) & 7);  // 1..128
  const bool client = (flags & 0x10) != 0;
  const bool unsequenced = (flags & 0x20) != 0;
  check_framer(Direction::kClientToServer, false, data, size, chunk);
  check_framer(Direction::kServerToClient, unsequenced, data, size, chunk);
  run_server(data, size, login, chunk);
  if (client) run_client(data, size, login, unsequenced, chunk);
  return 0;
}
