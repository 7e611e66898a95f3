// MoldUDP64 venue side: the publisher and the re-request server, each against a baseline in the
// same binary and run.
//
//  * publish/*: packing an ITCH message mix (the snippet's: A 36.7%, U 22.5%, F 19.3%, D 16.7%,
//    E 2.8%, the rest X/P/C) into 1,472-byte packets, per message, without the network:
//    Publisher::publish (copy) and claim()+commit() (encode in place), with and without the
//    retransmission store; baseline: a std::vector packet built with insert() and handed over by
//    value per packet, the way a naive packer does it.
//  * udp/*: the same stream sent to a loopback socket nobody reads (the kernel drops what the
//    buffer cannot hold; sendto still pays the full send path): the publisher's packets against
//    one MoldUDP64 packet per message (the baseline: no batching).
//  * rerequest/*: answering requests for 20 messages each: the socket-free handler alone; the
//    server over loopback UDP, 64 requests per poll (one recvmmsg + one sendmmsg) against a
//    recvfrom/sendto loop per request (the baseline).
#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "gateways/itch/encoder.hpp"
#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/rerequest_server.hpp"

namespace {

using namespace hft;
using namespace hft::mold;

constexpr std::size_t kStreamMessages = 1 << 16;
const SessionId kSession = SessionId::from("BENCH00001");

// One message of the mix into `out`; returns its length.
std::size_t generate(std::mt19937_64& rng, std::uint64_t i, std::uint8_t* out) {
  const itch::MessageHeader h{static_cast<std::uint16_t>(1 + rng() % 8000), 0, 34'200'000'000'000ULL + i * 1000};
  const itch::Symbol sym = itch::Symbol::from("ZVZZT");
  const auto r = rng() % 1000;
  if (r < 367) return itch::encode::add_order(out, h, i, 'B', 100, sym, 1'000'000 + static_cast<std::uint32_t>(rng() % 1000));
  if (r < 592) return itch::encode::order_replace(out, h, i - 1, i, 200, 1'000'100);
  if (r < 785) return itch::encode::add_order_mpid(out, h, i, 'S', 300, sym, 1'000'200, "VIRT");
  if (r < 952) return itch::encode::order_delete(out, h, i - 3);
  if (r < 980) return itch::encode::order_executed(out, h, i - 5, 100, i);
  if (r < 990) return itch::encode::order_cancel(out, h, i - 7, 50);
  return itch::encode::trade(out, h, 'B', 100, sym, 1'000'000, i);
}

// A pre-encoded stream: the venue's matching engine hands the publisher bytes like these.
struct Stream {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> offset;
  std::vector<std::uint8_t> length;
  Stream() {
    std::mt19937_64 rng(42);
    bytes.resize(kStreamMessages * 64);
    std::size_t at = 0;
    for (std::size_t i = 0; i < kStreamMessages; ++i) {
      const std::size_t n = generate(rng, i + 10, bytes.data() + at);
      offset.push_back(static_cast<std::uint32_t>(at));
      length.push_back(static_cast<std::uint8_t>(n));
      at += n;
    }
  }
  [[nodiscard]] const std::uint8_t* data(std::size_t i) const { return bytes.data() + offset[i]; }
};
const Stream& stream() {
  static const Stream s;
  return s;
}

RetransmitStoreConfig store_config() {
  RetransmitStoreConfig c;
  c.max_messages = 1 << 20;
  c.max_bytes = 64 << 20;
  return c;
}
PublisherConfig publisher_config() {
  PublisherConfig c;
  c.session = kSession;
  return c;
}

// The benchmarks share a 2-vCPU host with builds and other runs: wall time there measures the
// neighbours as much as the code, so each benchmark also reports the calling thread's own CPU
// time (CLOCK_THREAD_CPUTIME_ID; loopback delivery runs in the sender's softirq context, so it
// counts), and the summary prints that.
std::uint64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(ts.tv_nsec);
}
void set_cpu(benchmark::State& state, std::uint64_t cpu_ns, double items) {
  state.counters["cpu_ns"] = static_cast<double>(cpu_ns) / items;
}

// Keeps the optimiser from dropping the packets.
struct ChecksumSink {
  std::uint64_t sum = 0;
  bool send(const PacketHeader& h, std::span<const std::uint8_t> p) noexcept {
    sum += h.sequence + p.size() + p.back();
    return true;
  }
};

void BM_Publish(benchmark::State& state) {
  const bool with_store = state.range(0) != 0;
  const Stream& s = stream();
  RetransmitStore store(store_config());
  Publisher<ChecksumSink> pub(publisher_config(), ChecksumSink{}, with_store ? &store : nullptr);
  std::size_t i = 0;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    pub.publish(s.data(i), s.length[i], 0);
    i = (i + 1) & (kStreamMessages - 1);
  }
  benchmark::DoNotOptimize(pub.sink().sum);
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
  state.counters["msgs_per_packet"] =
      static_cast<double>(pub.stats().messages) / static_cast<double>(std::max<std::uint64_t>(1, pub.stats().message_packets));
}
BENCHMARK(BM_Publish)->Name("publish/copy/no_store")->Arg(0);
BENCHMARK(BM_Publish)->Name("publish/copy/store")->Arg(1);

void BM_ClaimCommit(benchmark::State& state) {
  RetransmitStore store(store_config());
  Publisher<ChecksumSink> pub(publisher_config(), ChecksumSink{}, &store);
  std::mt19937_64 rng(42);
  std::uint64_t i = 10;
  std::uint8_t* out = nullptr;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    pub.claim(itch::kMessageLength['F'], 0, out);  // the longest type of the mix
    pub.commit(generate(rng, i++, out));
  }
  benchmark::DoNotOptimize(pub.sink().sum);
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
}
BENCHMARK(BM_ClaimCommit)->Name("publish/encode_in_place/store");

void BM_EncodeThenPublish(benchmark::State& state) {
  RetransmitStore store(store_config());
  Publisher<ChecksumSink> pub(publisher_config(), ChecksumSink{}, &store);
  std::mt19937_64 rng(42);
  std::uint64_t i = 10;
  std::uint8_t tmp[64];
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    const std::size_t n = generate(rng, i++, tmp);
    pub.publish(tmp, n, 0);
  }
  benchmark::DoNotOptimize(pub.sink().sum);
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
}
BENCHMARK(BM_EncodeThenPublish)->Name("publish/encode_then_copy/store");

// Baseline: a packet as a growing std::vector, handed to the sink by value.
struct VectorPacker {
  std::vector<std::uint8_t> packet;
  std::uint64_t next = 1;
  std::uint16_t count = 0;
  std::uint64_t sum = 0;
  void sink(std::vector<std::uint8_t> p) { sum += p.size() + p.back(); }
  void flush() {
    PacketHeader{kSession, next - count, count}.write(packet.data());
    sink(std::move(packet));
    packet = std::vector<std::uint8_t>(kHeaderSize);
    count = 0;
  }
  void publish(const std::uint8_t* m, std::size_t n) {
    if (packet.empty()) packet.resize(kHeaderSize);
    if (packet.size() + 2 + n > kMaxPayload) flush();
    packet.push_back(static_cast<std::uint8_t>(n >> 8));
    packet.push_back(static_cast<std::uint8_t>(n));
    packet.insert(packet.end(), m, m + n);
    ++count;
    ++next;
  }
};

void BM_VectorBaseline(benchmark::State& state) {
  const Stream& s = stream();
  VectorPacker packer;
  std::size_t i = 0;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    packer.publish(s.data(i), s.length[i]);
    i = (i + 1) & (kStreamMessages - 1);
  }
  benchmark::DoNotOptimize(packer.sum);
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
}
BENCHMARK(BM_VectorBaseline)->Name("publish/vector_baseline/no_store");

// ---------------------------------------------------------------------------------------------

struct Sink {
  net::Fd fd = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));
  net::Endpoint where = net::local_endpoint(fd.get());
};

void BM_UdpPublisher(benchmark::State& state) {
  const Stream& s = stream();
  Sink rx;
  RetransmitStore store(store_config());
  Publisher<UdpSink> pub(publisher_config(), UdpSink(rx.where), &store);
  std::size_t i = 0;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    pub.publish(s.data(i), s.length[i], 0);
    i = (i + 1) & (kStreamMessages - 1);
  }
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
  state.counters["send_errors"] = static_cast<double>(pub.stats().send_errors);
}
BENCHMARK(BM_UdpPublisher)->Name("udp/publisher_packed")->MinTime(0.2);

void BM_UdpPerMessage(benchmark::State& state) {
  const Stream& s = stream();
  Sink rx;
  net::Fd tx = net::udp_sender();
  std::uint8_t packet[kMaxPayload];
  std::uint64_t seq = 1;
  std::size_t i = 0;
  std::uint64_t errors = 0;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    PacketHeader{kSession, seq++, 1}.write(packet);
    wire::store_be16(packet + kHeaderSize, s.length[i]);
    std::memcpy(packet + kHeaderSize + 2, s.data(i), s.length[i]);
    const std::size_t n = kHeaderSize + 2 + s.length[i];
    if (::sendto(tx.get(), packet, n, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&rx.where.addr), sizeof rx.where.addr) !=
        static_cast<ssize_t>(n))
      ++errors;
    i = (i + 1) & (kStreamMessages - 1);
  }
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
  state.counters["send_errors"] = static_cast<double>(errors);
}
BENCHMARK(BM_UdpPerMessage)->Name("udp/one_message_per_packet_baseline")->MinTime(0.2);

// ---------------------------------------------------------------------------------------------

constexpr std::uint16_t kRequested = 20;
constexpr int kBatch = 64;

RetransmitStore& filled_store() {
  static RetransmitStore store = [] {
    RetransmitStore st(store_config());
    const Stream& s = stream();
    for (std::size_t i = 0; i < kStreamMessages; ++i) st.append(i + 1, s.data(i), s.length[i]);
    return st;
  }();
  return store;
}
RerequestConfig server_config() {
  RerequestConfig c;
  c.session = kSession;
  c.max_requests_per_poll = kBatch;
  return c;
}
std::array<std::uint8_t, kRequestSize> request(std::uint64_t seq) {
  std::array<std::uint8_t, kRequestSize> r{};
  RequestPacket{kSession, seq, kRequested}.write(r.data());
  return r;
}

void BM_Handle(benchmark::State& state) {
  RequestHandler h(server_config(), filled_store());
  std::array<std::uint8_t, kMaxPayload> out{};
  std::uint64_t seq = 1;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    const auto r = request(seq);
    benchmark::DoNotOptimize(h.handle(r.data(), r.size(), out.data()));
    seq = seq + kRequested < kStreamMessages ? seq + kRequested : 1;
  }
  state.SetItemsProcessed(state.iterations());
  set_cpu(state, thread_cpu_ns() - cpu0, static_cast<double>(state.iterations()));
}
BENCHMARK(BM_Handle)->Name("rerequest/handler_only");

// Sends kBatch requests, lets the server answer, drains the answers: per request.
template <class Serve>
void udp_rounds(benchmark::State& state, const net::Endpoint& server, Serve&& serve) {
  net::Fd client = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));
  std::uint8_t buf[2048];
  std::uint64_t seq = 1;
  std::uint64_t answers = 0;
  std::uint64_t server_cpu = 0;
  const std::uint64_t cpu0 = thread_cpu_ns();
  for (auto _ : state) {
    for (int k = 0; k < kBatch; ++k) {
      const auto r = request(seq);
      ::sendto(client.get(), r.data(), r.size(), 0, reinterpret_cast<const sockaddr*>(&server.addr), sizeof server.addr);
      seq = seq + kRequested < kStreamMessages ? seq + kRequested : 1;
    }
    const std::uint64_t t0 = thread_cpu_ns();
    serve();
    server_cpu += thread_cpu_ns() - t0;
    while (::recv(client.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) ++answers;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  const double requests = static_cast<double>(state.iterations() * kBatch);
  set_cpu(state, thread_cpu_ns() - cpu0, requests);
  state.counters["server_cpu_ns"] = static_cast<double>(server_cpu) / requests;
  state.counters["answered_pct"] = 100.0 * static_cast<double>(answers) / static_cast<double>(state.iterations() * kBatch);
}

void BM_ServerBatched(benchmark::State& state) {
  RerequestServer server(server_config(), filled_store(), net::parse_endpoint("127.0.0.1:0"));
  udp_rounds(state, server.local_endpoint(), [&] {
    while (server.poll() > 0) {
    }
  });
}
BENCHMARK(BM_ServerBatched)->Name("rerequest/udp/recvmmsg_sendmmsg")->MinTime(0.2);

void BM_ServerPerRequest(benchmark::State& state) {
  RequestHandler h(server_config(), filled_store());
  net::Fd fd = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = net::local_endpoint(fd.get());
  std::array<std::uint8_t, kMaxPayload> out{};
  udp_rounds(state, where, [&] {
    std::uint8_t in[64];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n;
    while ((n = ::recvfrom(fd.get(), in, sizeof in, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len)) >= 0) {
      const auto r = h.handle(in, static_cast<std::size_t>(n), out.data());
      if (r.length > 0) ::sendto(fd.get(), out.data(), r.length, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&from), len);
      len = sizeof from;
    }
  });
}
BENCHMARK(BM_ServerPerRequest)->Name("rerequest/udp/recvfrom_sendto_baseline")->MinTime(0.2);

void summarize(const hft::bench::Results& r) {
  auto cpu = [&](const char* name, const char* counter = "cpu_ns") {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.counter(counter);
  };
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  fmt::print("\n== MoldUDP64 venue side: median thread CPU ns per message (per request for re-requests) ==\n");
  fmt::print("pack (copy)          no store {:6.1f}   with store {:6.1f}   std::vector baseline {:6.1f}  ({:.1f}x)\n",
             cpu("publish/copy/no_store"), cpu("publish/copy/store"), cpu("publish/vector_baseline/no_store"),
             ratio(cpu("publish/vector_baseline/no_store"), cpu("publish/copy/no_store")));
  fmt::print("encode + pack        in place {:6.1f}   encode then copy {:6.1f}\n", cpu("publish/encode_in_place/store"),
             cpu("publish/encode_then_copy/store"));
  fmt::print("UDP send             packed {:7.1f}   one message per packet {:7.1f}  ({:.1f}x)\n",
             cpu("udp/publisher_packed"), cpu("udp/one_message_per_packet_baseline"),
             ratio(cpu("udp/one_message_per_packet_baseline"), cpu("udp/publisher_packed")));
  fmt::print("re-request, {} msgs  handler {:6.1f}   server recvmmsg/sendmmsg {:7.1f}   recvfrom/sendto {:7.1f}  ({:.2f}x)\n",
             kRequested, cpu("rerequest/handler_only"), cpu("rerequest/udp/recvmmsg_sendmmsg", "server_cpu_ns"),
             cpu("rerequest/udp/recvfrom_sendto_baseline", "server_cpu_ns"),
             ratio(cpu("rerequest/udp/recvfrom_sendto_baseline", "server_cpu_ns"),
                   cpu("rerequest/udp/recvmmsg_sendmmsg", "server_cpu_ns")));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
