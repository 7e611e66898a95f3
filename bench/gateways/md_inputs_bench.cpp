// Market-data inputs: BinaryFILE decoding from an mmap'd file against a read()-per-message
// reader (the baseline), and the MoldUDP64 receiver session against stateless datagram decoding
// of the same packets.
//
// The stream is generated here with the snippet's message mix (../shared/data/README.md: A 36.7%,
// U 22.5%, F 19.3%, D 16.7%, E 2.8%, the rest X/P/Q/I/C/S), 2,000,000 messages, written to a
// temporary file so both readers start from the page cache.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "gateways/files/binary_file.hpp"
#include "gateways/files/itch_pcap.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "gateways/moldudp64/packet.hpp"
#include "gateways/moldudp64/session.hpp"

namespace {

using namespace hft;

constexpr std::size_t kMessages = 2'000'000;

// Touches the fields a book builder reads, so decoding is not optimised away.
struct BookFields {
  std::uint64_t acc = 0;
  void on_add_order(const itch::AddOrder& m) noexcept { acc += m.order_reference_number() + m.shares() + m.price(); }
  void on_order_executed(const itch::OrderExecuted& m) noexcept { acc += m.order_reference_number() + m.executed_shares(); }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) noexcept { acc += m.execution_price(); }
  void on_order_cancel(const itch::OrderCancel& m) noexcept { acc += m.cancelled_shares(); }
  void on_order_delete(const itch::OrderDelete& m) noexcept { acc += m.order_reference_number(); }
  void on_order_replace(const itch::OrderReplace& m) noexcept { acc += m.new_order_reference_number() + m.price(); }
  void on_trade(const itch::Trade& m) noexcept { acc += m.match_number(); }
  void on_cross_trade(const itch::CrossTrade& m) noexcept { acc += m.shares(); }
  void on_noii(const itch::Noii& m) noexcept { acc += m.paired_shares(); }
  void on_system_event(const itch::SystemEvent& m) noexcept { acc += static_cast<std::uint64_t>(m.event_code()); }
};

// One message of the mix into `out`; returns its length.
std::size_t generate(std::mt19937_64& rng, std::uint64_t i, std::uint8_t* out) {
  const itch::MessageHeader h{static_cast<std::uint16_t>(1 + rng() % 8000), 0, 34'200'000'000'000ULL + i * 1000};
  const itch::Symbol sym = itch::Symbol::from("ZVZZT");
  const auto r = rng() % 1000;
  if (r < 367) return itch::encode::add_order(out, h, i, 'B', 100, sym, 1'000'000 + rng() % 1000);
  if (r < 592) return itch::encode::order_replace(out, h, i - 1, i, 200, 1'000'100);
  if (r < 785) return itch::encode::add_order_mpid(out, h, i, 'S', 300, sym, 1'000'200, "VIRT");
  if (r < 952) return itch::encode::order_delete(out, h, i - 3);
  if (r < 980) return itch::encode::order_executed(out, h, i - 5, 100, i);
  if (r < 986) return itch::encode::order_cancel(out, h, i - 7, 50);
  if (r < 990) return itch::encode::trade(out, h, 'B', 100, sym, 1'000'000, i);
  if (r < 994) return itch::encode::cross_trade(out, h, 1000, sym, 1'000'000, i, 'O');
  if (r < 998) {
    itch::NoiiFields f;
    f.stock = sym;
    return itch::encode::noii(out, h, f);
  }
  return itch::encode::order_executed_with_price(out, h, i - 9, 10, i, 'Y', 1'000'000);
}

struct Data {
  std::vector<std::uint8_t> binary_file;       // BinaryFILE bytes
  std::vector<std::vector<std::uint8_t>> packets;  // the same messages in MoldUDP64 packets
  std::string path;

  Data() {
    std::mt19937_64 rng(20191230);
    std::uint8_t msg[64];
    std::vector<std::uint8_t> pkt;
    std::uint16_t in_packet = 0;
    std::uint64_t first_seq = 1;
    auto start_packet = [&](std::uint64_t seq) {
      pkt.assign(mold::kHeaderSize, 0);
      mold::PacketHeader ph;
      ph.session = mold::SessionId::from("BENCH00001");
      ph.sequence = seq;
      ph.write(pkt.data());
      in_packet = 0;
    };
    auto finish_packet = [&] {
      pkt[18] = static_cast<std::uint8_t>(in_packet >> 8);
      pkt[19] = static_cast<std::uint8_t>(in_packet);
      packets.push_back(pkt);
    };
    start_packet(1);
    for (std::uint64_t i = 0; i < kMessages; ++i) {
      const std::size_t n = generate(rng, i + 1, msg);
      binary_file.push_back(0);
      binary_file.push_back(static_cast<std::uint8_t>(n));
      binary_file.insert(binary_file.end(), msg, msg + n);
      if (pkt.size() + 2 + n > mold::kMaxPayload) {
        finish_packet();
        first_seq += in_packet;
        start_packet(first_seq);
      }
      pkt.push_back(0);
      pkt.push_back(static_cast<std::uint8_t>(n));
      pkt.insert(pkt.end(), msg, msg + n);
      ++in_packet;
    }
    finish_packet();
    binary_file.push_back(0);
    binary_file.push_back(0);  // end of session
    path = (std::filesystem::temp_directory_path() / ("hft_md_bench_" + std::to_string(::getpid()) + ".itch")).string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(binary_file.data()), static_cast<std::streamsize>(binary_file.size()));
  }
  ~Data() { std::remove(path.c_str()); }
};

Data& data() {
  static Data d;
  return d;
}

void BM_BinaryFileMmap(benchmark::State& state) {
  const std::string& path = data().path;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    const files::MappedFile f(path);
    BookFields h;
    itch::DecodeStats stats;
    const auto rep = files::decode_binary_file(f.bytes(), h, stats);
    if (rep.messages != kMessages || stats.errors() != 0) state.SkipWithError("decode mismatch");
    acc += h.acc;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMessages));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data().binary_file.size()));
}

// Baseline: the textbook reader — std::ifstream, read the 2-byte length, then the message.
void BM_BinaryFileStreamRead(benchmark::State& state) {
  const std::string& path = data().path;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    std::ifstream in(path, std::ios::binary);
    BookFields h;
    itch::DecodeStats stats;
    std::uint8_t len_be[2];
    std::uint8_t msg[65536];
    while (in.read(reinterpret_cast<char*>(len_be), 2)) {
      const std::size_t n = static_cast<std::size_t>(len_be[0]) << 8 | len_be[1];
      if (n == 0) break;
      if (!in.read(reinterpret_cast<char*>(msg), static_cast<std::streamsize>(n))) break;
      itch::decode_message(msg, n, h, stats);
    }
    if (stats.messages != kMessages) state.SkipWithError("decode mismatch");
    acc += h.acc;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMessages));
}

// Parse-only over memory (no file, no mapping): the decoder's own ceiling.
void BM_DecodeBlocksInMemory(benchmark::State& state) {
  const auto& bytes = data().binary_file;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    BookFields h;
    itch::DecodeStats stats;
    itch::decode_blocks(bytes.data(), bytes.size(), h, stats, ~std::size_t{0}, true);
    acc += h.acc;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMessages));
}

struct DecodingHandler {
  BookFields fields;
  itch::DecodeStats stats;
  void on_message(std::uint64_t, const std::uint8_t* p, std::size_t n) noexcept {
    itch::decode_message(p, n, fields, stats);
  }
};

void BM_MoldSessionInOrder(benchmark::State& state) {
  const auto& packets = data().packets;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    state.PauseTiming();
    DecodingHandler h;
    mold::Session<DecodingHandler> s(h);
    state.ResumeTiming();
    std::uint64_t now = 0;
    for (const auto& p : packets) s.on_packet(p.data(), p.size(), ++now);
    if (s.counters().messages != kMessages) state.SkipWithError("session mismatch");
    acc += h.fields.acc;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMessages));
  state.counters["packets"] = static_cast<double>(packets.size());
}

// Baseline: the same packets decoded with no session state (no sequence or session checks).
void BM_MoldStatelessDecode(benchmark::State& state) {
  const auto& packets = data().packets;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    BookFields h;
    files::MoldStats ms;
    itch::DecodeStats is;
    files::UdpDatagram d;
    for (const auto& p : packets) {
      d.payload = p.data();
      d.length = p.size();
      files::decode_mold_datagram(d, h, ms, is);
    }
    if (ms.messages != kMessages) state.SkipWithError("decode mismatch");
    acc += h.acc;
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kMessages));
}

BENCHMARK(BM_BinaryFileMmap)->Name("binaryfile/mmap_decode")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BinaryFileStreamRead)->Name("binaryfile/ifstream_baseline")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DecodeBlocksInMemory)->Name("itch/decode_blocks_in_memory")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MoldSessionInOrder)->Name("mold/session_in_order")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MoldStatelessDecode)->Name("mold/stateless_baseline")->Unit(benchmark::kMillisecond)->UseRealTime();

void summarize(const bench::Results& r) {
  auto mps = [&](const char* name) {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.counter("items_per_second") / 1e6;
  };
  fmt::print("\n== market-data inputs, {} generated messages (median M msg/s) ==\n", kMessages);
  fmt::print("BinaryFILE  mmap + decode {:7.1f}   ifstream read() baseline {:7.1f}   ratio {:.2f}x\n",
             mps("binaryfile/mmap_decode"), mps("binaryfile/ifstream_baseline"),
             mps("binaryfile/mmap_decode") / mps("binaryfile/ifstream_baseline"));
  fmt::print("ITCH        decode_blocks in memory {:7.1f}\n", mps("itch/decode_blocks_in_memory"));
  fmt::print("MoldUDP64   session in order {:7.1f}   stateless decode baseline {:7.1f}   ratio {:.2f}x\n",
             mps("mold/session_in_order"), mps("mold/stateless_baseline"),
             mps("mold/session_in_order") / mps("mold/stateless_baseline"));
}

}  // namespace

int main(int argc, char** argv) {
  bench::pin_if_possible(1);
  (void)data();
  return bench::run(argc, argv, summarize);
}
