// Crash recovery time (issue 10): replaying a 1,000,000-record journal into an empty order manager
// (pipeline/app/recovery.hpp), against reading the same journal without booking it (the reader's
// share: mapping, CRC32C and sequence checks) in the same run.
//
//   build/release/bin/bench_recovery
//   HFT_JOURNAL_BENCH_DIR=/mnt/nvme build/release/bin/bench_recovery   # default: the temp directory
//
// The journal is what a trading day leaves: per order an intent, the Enter Order bytes, the
// venue's Accepted and an Execution (each 100 shares, the order done), 250,000 orders on 8
// symbols, written once before the timed runs (page cache warm: a restart after a process crash;
// a host reboot adds reading the files from disk).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "gateways/ouch/codec.hpp"
#include "pipeline/app/recovery.hpp"
#include "pipeline/journal/reader.hpp"
#include "pipeline/journal/writer.hpp"

namespace {

using namespace hft;
using namespace hft::journal;
namespace fs = std::filesystem;

constexpr std::uint32_t kDate = 20240607;
constexpr std::uint64_t kOrders = 250'000;  // x 4 records = 1,000,000

struct Fixture {
  fs::path dir;
  std::uint64_t records = 0;
  Fixture() {
    const char* env = std::getenv("HFT_JOURNAL_BENCH_DIR");
    dir = (env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path()) /
          fmt::format("hft_recovery_bench_{}", ::getpid());
    fs::remove_all(dir);
    JournalConfig c;
    c.dir = dir.string();
    c.segment_bytes = 256ull << 20;
    c.sync.mode = SyncMode::kNone;
    JournalWriter w(c, "bench", kDate);
    std::uint8_t buf[256];
    std::uint64_t soup = 1;
    // A rotation can find the next segment not prepared yet: wait for the flusher and retry.
    auto must = [](AppendStatus s) { return s != AppendStatus::kNotReady; };
    for (std::uint64_t i = 0; i < kOrders; ++i) {
      const auto ref = static_cast<std::uint32_t>(i + 1);
      const auto locate = static_cast<std::uint16_t>(1 + i % 8);
      const std::int64_t price = 1'000'000 + static_cast<std::int64_t>(i % 50) * 100;
      IntentPayload p{};
      p.order_id = (std::uint64_t{1} << 56) | (i + 1);
      p.price = price;
      p.quantity = 100;
      p.user_ref_num = ref;
      p.locate = locate;
      p.side = static_cast<std::uint8_t>(i % 2);
      p.strategy = 1;
      while (!must(w.append(p, i))) ::usleep(100);
      ouch::EnterOrder e;
      e.user_ref_num = ref;
      e.quantity = 100;
      e.price = price;
      std::size_t n = ouch::encode(buf, sizeof buf, e);
      while (!must(w.append_sent({buf, n}, i))) ::usleep(100);
      ouch::OrderAccepted a;
      a.user_ref_num = ref;
      a.quantity = 100;
      a.price = price;
      a.order_reference_number = i + 1;
      n = ouch::encode(buf, sizeof buf, a);
      while (!must(w.append_received(soup, {buf, n}, i))) ::usleep(100);
      ++soup;
      ouch::OrderExecuted x;
      x.user_ref_num = ref;
      x.quantity = 100;
      x.price = price;
      x.match_number = i + 1;
      n = ouch::encode(buf, sizeof buf, x);
      while (!must(w.append_received(soup, {buf, n}, i))) ::usleep(100);
      ++soup;
    }
    records = w.next_sequence() - 1;
    w.close();
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_Replay(benchmark::State& state) {
  Fixture& f = fixture();
  std::uint64_t records = 0;
  for (auto _ : state) {
    auto reader = JournalReader::open_dir(f.dir.string(), "bench", kDate);
    oms::OrderManager oms(65536, 64, 1);
    const app::ReplayResult r = app::replay_journal(reader, oms, [](const pipeline::ExecReport&) {});
    records = r.records;
    benchmark::DoNotOptimize(oms.exposure(1).position);
  }
  state.counters["records"] = static_cast<double>(records);
}

void BM_ReadOnly(benchmark::State& state) {
  Fixture& f = fixture();
  std::uint64_t records = 0;
  for (auto _ : state) {
    auto reader = JournalReader::open_dir(f.dir.string(), "bench", kDate);
    Record r;
    records = 0;
    while (reader.next(r)) ++records;
    benchmark::DoNotOptimize(records);
  }
  state.counters["records"] = static_cast<double>(records);
}

BENCHMARK(BM_Replay)->Name("recovery/replay_1M_records")->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_ReadOnly)->Name("baseline/read_1M_records")->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void summarize(const bench::Results& r) {
  auto ms = [&](const char* name) {
    for (const auto& [key, result] : r)  // keys carry "/iterations:1/real_time"
      if (key.rfind(name, 0) == 0) return result.real_ns_per_iter;  // in the benchmark's unit: ms
    return 0.0;
  };
  fmt::print("\n== crash recovery from the journal, ms (median of repetitions) ==\n");
  fmt::print("replay 1,000,000 records into the order manager   {:8.1f}\n", ms("recovery/replay_1M_records"));
  fmt::print("read the same records only (CRC, sequence checks) {:8.1f}\n", ms("baseline/read_1M_records"));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
