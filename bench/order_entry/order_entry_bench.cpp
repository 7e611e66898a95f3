// Order entry: OUCH 5.0 codec, SoupBinTCP framing, the session engines, and an order round trip
// over loopback TCP, each against a baseline in the same binary and run.
//
//  * ouch/encode/*: an Enter Order with a Firm appendage (53 bytes, the real capture's shape),
//    hft::ouch::encode into a caller's buffer; baseline: a std::vector built field by field and
//    returned by value, the way a naive encoder does it.
//  * ouch/decode/*: Enter Order and Order Accepted (with two options) into structs, dispatched by
//    type; baseline: memcpy of the same bytes (the floor: touching the message once).
//  * soup/framer/*: a stream of 'U' packets carrying 53-byte orders, arriving in 1,460-byte reads
//    (one TCP segment of a 1,500-byte MTU); baseline: a std::vector byte buffer that appends each
//    read, copies each packet out into its own vector and erases it from the front.
//  * session/order_round_trip: client engine -> server engine -> venue handler (decode Enter
//    Order, encode Order Accepted into the sequenced store) -> client engine -> decode, in memory.
//  * tcp/*: the same round trip over 127.0.0.1 with the epoll server on another thread (both
//    sides busy-polling), every sample in an HdrHistogram; baseline: raw non-blocking TCP
//    ping-pong of the same sizes (56 bytes out, 76 back) with no protocol at all.
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "gateways/ouch/codec.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/server.hpp"
#include "net/tcp_client.hpp"
#include "net/tcp_server.hpp"

namespace {

using namespace hft;

ouch::EnterOrder sample_order() {
  ouch::EnterOrder m;
  m.user_ref_num = 1;
  m.side = ouch::Side::kBuy;
  m.quantity = 100;
  m.symbol = ouch::Symbol::from("CVLT");
  m.price = 630'200;
  m.cl_ord_id = ouch::ClOrdId::from("BENCH0001");
  m.options.set_firm(ouch::Firm::from("LIME"));
  return m;
}

ouch::OrderAccepted accepted_for(const ouch::EnterOrder& o, std::uint64_t ref) {
  ouch::OrderAccepted a;
  a.timestamp = 44'647'000'000'000;
  a.user_ref_num = o.user_ref_num;
  a.side = o.side;
  a.quantity = o.quantity;
  a.symbol = o.symbol;
  a.price = o.price;
  a.order_reference_number = ref;
  a.cl_ord_id = o.cl_ord_id;
  a.options.set_firm(ouch::Firm::from("LIME")).set_bbo_weight_indicator('0');
  return a;
}

// ---- OUCH codec --------------------------------------------------------------------------------

void BM_Encode(benchmark::State& state) {
  ouch::EnterOrder m = sample_order();
  std::uint8_t buf[128];
  std::uint64_t sum = 0;
  for (auto _ : state) {
    ++m.user_ref_num;
    sum += ouch::encode(buf, sizeof buf, m);
    benchmark::DoNotOptimize(buf);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encode)->Name("ouch/encode/enter_order");

std::vector<std::uint8_t> naive_encode(const ouch::EnterOrder& m) {
  std::vector<std::uint8_t> v;
  auto u32 = [&](std::uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
  };
  auto u64 = [&](std::uint64_t x) {
    for (int s = 56; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
  };
  v.push_back('O');
  u32(m.user_ref_num);
  v.push_back(static_cast<std::uint8_t>(m.side));
  u32(m.quantity);
  for (char c : m.symbol.chars) v.push_back(static_cast<std::uint8_t>(c));
  u64(m.price);
  for (char c : {static_cast<char>(m.time_in_force), static_cast<char>(m.display), static_cast<char>(m.capacity),
                 static_cast<char>(m.intermarket_sweep), static_cast<char>(m.cross_type)})
    v.push_back(static_cast<std::uint8_t>(c));
  for (char c : m.cl_ord_id.chars) v.push_back(static_cast<std::uint8_t>(c));
  v.push_back(0);
  v.push_back(6);
  v.push_back(5);
  v.push_back(2);
  const ouch::Firm firm = m.options.firm().value_or(ouch::Firm{});  // (a copy: firm() returns by value)
  for (char c : firm.chars) v.push_back(static_cast<std::uint8_t>(c));
  return v;
}

void BM_NaiveEncode(benchmark::State& state) {
  ouch::EnterOrder m = sample_order();
  std::uint64_t sum = 0;
  for (auto _ : state) {
    ++m.user_ref_num;
    const std::vector<std::uint8_t> v = naive_encode(m);
    sum += v.size() + v[4];
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NaiveEncode)->Name("ouch/encode/naive_vector");

// Every field of the decoded message is kept (DoNotOptimize): the compiler may not leave out
// the fields the handler does not read.
struct Sum {
  std::uint64_t n = 0;
  void on_message(const ouch::EnterOrder& m) noexcept {
    benchmark::DoNotOptimize(m);
    n += m.quantity + m.options.size();
  }
  void on_message(const ouch::OrderAccepted& m) noexcept {
    benchmark::DoNotOptimize(m);
    n += m.quantity + m.options.size();
  }
};

template <bool kInbound>
void BM_Decode(benchmark::State& state) {
  std::uint8_t buf[128];
  const ouch::EnterOrder order = sample_order();
  const std::size_t n = kInbound ? ouch::encode(buf, sizeof buf, order) : ouch::encode(buf, sizeof buf, accepted_for(order, 7));
  Sum sum;
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf);
    if constexpr (kInbound) {
      (void)ouch::decode_inbound(buf, n, sum);
    } else {
      (void)ouch::decode_outbound(buf, n, sum);
    }
  }
  benchmark::DoNotOptimize(sum.n);
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(n);
}
BENCHMARK(BM_Decode<true>)->Name("ouch/decode/enter_order");
BENCHMARK(BM_Decode<false>)->Name("ouch/decode/order_accepted");

void BM_DecodeBaseline(benchmark::State& state) {
  std::uint8_t buf[128];
  std::uint8_t copy[128];
  const std::size_t n = ouch::encode(buf, sizeof buf, sample_order());
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf);
    std::memcpy(copy, buf, n);
    benchmark::DoNotOptimize(copy);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeBaseline)->Name("ouch/decode/memcpy_baseline");

// ---- SoupBinTCP framing ------------------------------------------------------------------------

constexpr std::size_t kSegment = 1460;

std::vector<std::uint8_t> order_stream(std::size_t packets) {
  std::vector<std::uint8_t> s;
  std::uint8_t msg[128];
  ouch::EnterOrder m = sample_order();
  for (std::size_t i = 0; i < packets; ++i) {
    ++m.user_ref_num;
    const std::size_t n = ouch::encode(msg, sizeof msg, m);
    std::uint8_t h[3];
    soup::write_header(h, soup::packet_type::kUnsequencedData, n);
    s.insert(s.end(), h, h + 3);
    s.insert(s.end(), msg, msg + n);
  }
  return s;
}

void BM_Framer(benchmark::State& state) {
  const std::vector<std::uint8_t> s = order_stream(4096);
  soup::Framer f(soup::Direction::kClientToServer, 1024);
  std::uint64_t sum = 0;
  std::size_t packets = 0;
  for (auto _ : state) {
    for (std::size_t off = 0; off < s.size(); off += kSegment) {
      const std::size_t n = std::min(kSegment, s.size() - off);
      packets += f.feed(s.data() + off, n, [&](const soup::Packet& p) {
                    sum += p.payload[p.size - 1];
                    return true;
                  }).packets;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_Framer)->Name("soup/framer/chunked_1460");

void BM_NaiveFramer(benchmark::State& state) {
  const std::vector<std::uint8_t> s = order_stream(4096);
  std::vector<std::uint8_t> buffer;
  std::uint64_t sum = 0;
  std::size_t packets = 0;
  for (auto _ : state) {
    for (std::size_t off = 0; off < s.size(); off += kSegment) {
      const std::size_t n = std::min(kSegment, s.size() - off);
      buffer.insert(buffer.end(), s.begin() + static_cast<long>(off), s.begin() + static_cast<long>(off + n));
      while (buffer.size() >= 2) {
        const std::size_t len = static_cast<std::size_t>(buffer[0]) << 8 | buffer[1];
        if (buffer.size() < 2 + len) break;
        const std::vector<std::uint8_t> packet(buffer.begin() + 2, buffer.begin() + 2 + static_cast<long>(len));
        sum += packet.back();
        buffer.erase(buffer.begin(), buffer.begin() + 2 + static_cast<long>(len));
        ++packets;
      }
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_NaiveFramer)->Name("soup/framer/naive_vector");

// ---- Session engines in memory -------------------------------------------------------------------

soup::ServerConfig server_config() {
  soup::ServerConfig c;
  c.session = "BENCH";
  c.users = {{"TRADER", "pw"}};
  c.store_messages = 1 << 16;
  c.store_bytes = 8 << 20;
  c.max_message = 256;
  return c;
}
soup::ClientConfig client_config() {
  soup::ClientConfig c;
  c.username = std::string("TRADER");
  c.password = std::string("pw");
  c.max_message = 256;
  return c;
}

// The venue: Enter Order in, Order Accepted out on the user's sequenced stream.
struct Venue {
  soup::ServerContext* ctx = nullptr;
  std::uint32_t user = 0;
  std::uint64_t next_ref = 1;
  void on_unsequenced(std::uint32_t u, std::span<const std::uint8_t> m, std::uint64_t) noexcept {
    user = u;
    (void)ouch::decode_inbound(m.data(), m.size(), *this);
  }
  void on_message(const ouch::EnterOrder& o) noexcept {
    const ouch::OrderAccepted a = accepted_for(o, next_ref++);
    std::uint8_t* p = ctx->reserve(user, 128);
    ctx->commit(user, ouch::encode(p, 128, a));
  }
};

struct Trader {
  std::uint64_t accepted = 0;
  void on_sequenced(std::uint64_t, std::span<const std::uint8_t> m, std::uint64_t) noexcept {
    (void)ouch::decode_outbound(m.data(), m.size(), *this);
  }
  void on_message(const ouch::OrderAccepted&) noexcept { ++accepted; }
};

template <class From, class To>
void move_bytes(From& from, To& to, std::uint64_t now) {
  const auto out = from.output();
  if (out.empty()) return;
  to.on_bytes(out.data(), out.size(), now);
  from.consume_output(out.size());
}

bool send_order(soup::ClientSession<Trader>& client, ouch::EnterOrder& order, std::uint64_t now) {
  ++order.user_ref_num;
  std::uint8_t* p = client.begin_unsequenced(128);
  if (p == nullptr) return false;
  client.commit_unsequenced(ouch::encode(p, 128, order), now);
  return true;
}

void BM_SessionRoundTrip(benchmark::State& state) {
  soup::ServerContext ctx(server_config());
  Venue venue{&ctx};
  Trader trader;
  soup::ServerSession<Venue> server(ctx, venue);
  soup::ClientSession<Trader> client(client_config(), trader);
  std::uint64_t now = 1;
  server.open(1, now);
  client.open(1, now);
  move_bytes(client, server, now);
  move_bytes(server, client, now);
  ouch::EnterOrder order = sample_order();
  for (auto _ : state) {
    send_order(client, order, now);
    move_bytes(client, server, now);
    server.poll(now);
    move_bytes(server, client, now);
  }
  if (trader.accepted != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("lost an order");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SessionRoundTrip)->Name("session/order_round_trip");

// ---- Loopback TCP ---------------------------------------------------------------------------------

constexpr std::uint64_t kRttSamples = 20'000;

void report(benchmark::State& state, const core::Histogram& h) {
  state.counters["p50_ns"] = static_cast<double>(h.value_at_percentile(50));
  state.counters["p99_ns"] = static_cast<double>(h.value_at_percentile(99));
  state.counters["p99.9_ns"] = static_cast<double>(h.value_at_percentile(99.9));
  state.counters["max_ns"] = static_cast<double>(h.max());
}

void BM_TcpOrderRtt(benchmark::State& state) {
  soup::ServerContext ctx(server_config());
  Venue venue{&ctx};
  net::TcpServerOptions so;
  so.max_connections = 2;
  net::TcpServer<soup::ServerSession<Venue>> server(net::parse_endpoint("127.0.0.1:0"), so, [&](std::size_t) {
    return std::make_unique<soup::ServerSession<Venue>>(ctx, venue);
  });
  std::atomic<bool> stop{false};
  std::thread venue_thread([&] {
    bench::pin_if_possible(1);
    while (!stop.load(std::memory_order_relaxed)) server.poll(0);
  });
  bench::pin_if_possible(0);
  Trader trader;
  soup::ClientSession<Trader> session(client_config(), trader);
  net::TcpClient<soup::ClientSession<Trader>> link(server.local(), session);
  link.connect();
  while (!session.logged_in()) link.poll(0);
  ouch::EnterOrder order = sample_order();
  core::Histogram h(1, 1'000'000'000, 3);
  for (int i = 0; i < 2000; ++i) {  // warm up
    const std::uint64_t want = trader.accepted + 1;
    send_order(session, order, core::monotonic_ns());
    while (trader.accepted < want) link.poll(0);
  }
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < kRttSamples; ++i) {
      const std::uint64_t want = trader.accepted + 1;
      const std::uint64_t t0 = core::monotonic_ns();
      send_order(session, order, t0);
      while (trader.accepted < want) link.poll(0);
      h.record(core::monotonic_ns() - t0);
    }
  }
  stop = true;
  venue_thread.join();
  report(state, h);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRttSamples));
}
BENCHMARK(BM_TcpOrderRtt)->Name("tcp/order_rtt")->Iterations(1)->UseRealTime();

// Busy-polling non-blocking recv of exactly n bytes.
bool recv_exact(int fd, std::uint8_t* p, std::size_t n, const std::atomic<bool>& stop) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, p + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || stop.load(std::memory_order_relaxed)) {
      return false;
    }
  }
  return true;
}

void BM_RawTcpPingPong(benchmark::State& state) {
  constexpr std::size_t kOut = 56;  // 'U' packet with a 53-byte Enter Order
  constexpr std::size_t kBack = 76;  // 'S' packet with a 73-byte Order Accepted
  net::Fd listener = net::tcp_listen(net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = net::local_endpoint(listener.get());
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    bench::pin_if_possible(1);
    net::Fd c;
    while (!c.valid() && !stop.load()) c = net::tcp_accept(listener.get());
    std::uint8_t in[kOut];
    std::uint8_t out[kBack] = {};
    while (recv_exact(c.get(), in, kOut, stop)) {
      out[3] = in[3];
      if (::send(c.get(), out, kBack, MSG_NOSIGNAL) != static_cast<ssize_t>(kBack)) break;
    }
  });
  bench::pin_if_possible(0);
  net::Fd fd = net::tcp_connect(where);
  std::uint8_t out[kOut] = {};
  std::uint8_t in[kBack];
  core::Histogram h(1, 1'000'000'000, 3);
  const std::atomic<bool> never{false};
  for (int i = 0; i < 2000; ++i) {
    ::send(fd.get(), out, kOut, MSG_NOSIGNAL);
    recv_exact(fd.get(), in, kBack, never);
  }
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < kRttSamples; ++i) {
      const std::uint64_t t0 = core::monotonic_ns();
      ::send(fd.get(), out, kOut, MSG_NOSIGNAL);
      recv_exact(fd.get(), in, kBack, never);
      h.record(core::monotonic_ns() - t0);
    }
  }
  stop = true;
  fd.reset();
  echo.join();
  report(state, h);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRttSamples));
}
BENCHMARK(BM_RawTcpPingPong)->Name("tcp/raw_pingpong_baseline")->Iterations(1)->UseRealTime();

void summarize(const bench::Results& r) {
  auto ns = [&](const char* name) {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.real_ns_per_iter;
  };
  auto per_item = [&](const char* name) {
    const auto it = r.find(name);
    if (it == r.end()) return 0.0;
    const double ips = it->second.counter("items_per_second");
    return ips > 0 ? 1e9 / ips : 0.0;
  };
  auto has = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (r.find(n) == r.end()) return false;
    return true;
  };
  fmt::print("\nsummary (medians)\n");
  if (has({"ouch/encode/enter_order", "ouch/encode/naive_vector"}))
    fmt::print("  OUCH Enter Order encode: {:.1f} ns vs naive vector {:.1f} ns ({:.1f}x)\n", ns("ouch/encode/enter_order"),
               ns("ouch/encode/naive_vector"), ns("ouch/encode/naive_vector") / ns("ouch/encode/enter_order"));
  if (has({"ouch/decode/enter_order", "ouch/decode/order_accepted", "ouch/decode/memcpy_baseline"}))
    fmt::print("  OUCH decode: Enter Order {:.1f} ns, Order Accepted {:.1f} ns (memcpy of the 53-byte order: {:.1f} ns)\n",
               ns("ouch/decode/enter_order"), ns("ouch/decode/order_accepted"), ns("ouch/decode/memcpy_baseline"));
  if (has({"soup/framer/chunked_1460", "soup/framer/naive_vector"}))
    fmt::print("  SoupBinTCP framing: {:.1f} ns/packet vs naive vector {:.1f} ns/packet ({:.1f}x)\n",
               per_item("soup/framer/chunked_1460"), per_item("soup/framer/naive_vector"),
               per_item("soup/framer/naive_vector") / per_item("soup/framer/chunked_1460"));
  if (has({"session/order_round_trip"}))
    fmt::print("  order round trip through both engines, in memory: {:.1f} ns\n", ns("session/order_round_trip"));
  for (const char* name : {"tcp/order_rtt", "tcp/raw_pingpong_baseline"}) {
    const auto it = r.find(name);
    if (it == r.end()) continue;
    fmt::print("  {}: p50 {:.0f} ns, p99 {:.0f} ns, p99.9 {:.0f} ns, max {:.0f} ns\n", name, it->second.counter("p50_ns"),
               it->second.counter("p99_ns"), it->second.counter("p99.9_ns"), it->second.counter("max_ns"));
  }
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
