// Journal append cost per record (pipeline/journal) against the plain alternatives in the same
// binary and run: write(2) of the same bytes to a file, and fwrite into stdio's buffer.
//
//   build/release/bin/bench_journal
//   HFT_JOURNAL_BENCH_DIR=/mnt/nvme build/release/bin/bench_journal   # default: the temp directory
//
// The journal's figure includes the CRC32C, the copy into the mapped segment, publishing the
// position to the flusher, rotations (256 MiB segments), and the minor fault of the first store
// to each page of the mapping. "sync_every" runs the flusher polling the writer's position and
// msyncing behind it, to show what that costs the writer.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "pipeline/journal/writer.hpp"

namespace {

using namespace hft;
using namespace hft::journal;
namespace fs = std::filesystem;

fs::path bench_dir(const std::string& tag) {
  const char* env = std::getenv("HFT_JOURNAL_BENCH_DIR");
  const fs::path base = env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
  const fs::path dir = base / fmt::format("hft_journal_bench_{}_{}", ::getpid(), tag);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

IntentPayload sample_intent() {
  IntentPayload p{};
  p.order_id = 42;
  p.price = 1'234'500;
  p.quantity = 100;
  p.user_ref_num = 1001;
  p.locate = 7;
  std::memcpy(p.symbol, "AAPL    ", 8);
  return p;
}

void run_journal(benchmark::State& state, const char* sync, bool ouch) {
  bench::pin_if_possible(0);
  const fs::path dir = bench_dir(sync);
  JournalConfig c;
  c.dir = dir.string();
  c.segment_bytes = 256ull << 20;
  (void)parse_sync_policy(sync, c.sync);
  c.flusher_cpu = -1;
  std::uint64_t not_ready = 0;
  {
    JournalWriter w(c, "bench", 20240607);
    const IntentPayload p = sample_intent();
    std::uint8_t msg[48] = {'E'};  // an OUCH Order Executed is 36 bytes + appendage
    std::uint64_t soup = 1;
    for (auto _ : state) {
      AppendStatus s;
      do {
        s = ouch ? w.append_received(soup, msg, soup) : w.append(p, soup);
        not_ready += s == AppendStatus::kNotReady;
      } while (s == AppendStatus::kNotReady);
      ++soup;
    }
    state.counters["rotations"] = static_cast<double>(w.counters().rotations);
  }
  state.counters["not_ready_spins"] = static_cast<double>(not_ready);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  fs::remove_all(dir);
}

void BM_JournalIntent(benchmark::State& state) { run_journal(state, "none", false); }
void BM_JournalIntentInterval(benchmark::State& state) { run_journal(state, "interval:10ms", false); }
void BM_JournalIntentEvery(benchmark::State& state) { run_journal(state, "every", false); }
void BM_JournalOuch(benchmark::State& state) { run_journal(state, "none", true); }

// The same 80 bytes (a journal intent record) per write(2): one syscall per record.
void BM_Write2(benchmark::State& state) {
  bench::pin_if_possible(0);
  const fs::path dir = bench_dir("write2");
  const int fd = ::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  std::uint8_t rec[80] = {1};
  for (auto _ : state) benchmark::DoNotOptimize(::write(fd, rec, sizeof rec));
  ::close(fd);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  fs::remove_all(dir);
}

// fwrite into a 64 KiB stdio buffer: a syscall per 800 records, no durability either.
void BM_Fwrite(benchmark::State& state) {
  bench::pin_if_possible(0);
  const fs::path dir = bench_dir("fwrite");
  std::FILE* f = std::fopen((dir / "out").c_str(), "wb");
  static char buf[64 << 10];
  std::setvbuf(f, buf, _IOFBF, sizeof buf);
  std::uint8_t rec[80] = {1};
  for (auto _ : state) benchmark::DoNotOptimize(std::fwrite(rec, sizeof rec, 1, f));
  std::fclose(f);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  fs::remove_all(dir);
}

BENCHMARK(BM_JournalIntent)->Name("journal/append_intent/sync_none")->UseRealTime();
BENCHMARK(BM_JournalIntentInterval)->Name("journal/append_intent/sync_interval_10ms")->UseRealTime();
BENCHMARK(BM_JournalIntentEvery)->Name("journal/append_intent/sync_every")->UseRealTime();
BENCHMARK(BM_JournalOuch)->Name("journal/append_ouch_48B/sync_none")->UseRealTime();
BENCHMARK(BM_Write2)->Name("baseline/write2_80B")->UseRealTime();
BENCHMARK(BM_Fwrite)->Name("baseline/fwrite_80B")->UseRealTime();

void summarize(const bench::Results& r) {
  auto ns = [&](const char* name) {
    const auto it = r.find(name);
    return it == r.end() ? 0.0 : it->second.real_ns_per_iter;
  };
  fmt::print("\n== journal append, ns per record (median of repetitions) ==\n");
  const double journal = ns("journal/append_intent/sync_none");
  const double w2 = ns("baseline/write2_80B");
  fmt::print("journal intent (80 B), sync none        {:8.1f}\n", journal);
  fmt::print("journal intent (80 B), sync interval    {:8.1f}\n", ns("journal/append_intent/sync_interval_10ms"));
  fmt::print("journal intent (80 B), sync every       {:8.1f}\n", ns("journal/append_intent/sync_every"));
  fmt::print("journal OUCH 48 B (88 B), sync none     {:8.1f}\n", ns("journal/append_ouch_48B/sync_none"));
  fmt::print("write(2) of 80 B                        {:8.1f}   write(2)/journal {:5.1f}x\n", w2, journal > 0 ? w2 / journal : 0.0);
  fmt::print("fwrite of 80 B (64 KiB buffer)          {:8.1f}\n", ns("baseline/fwrite_80B"));
}

}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
