// A damaged control file in front of hftctl: the input patches and truncates a valid control
// file, which ControlReader then attaches (stale allowed) and every hftctl page renders from.
// Checked beyond "no crash, no out-of-bounds read": attaching either fails with a message or
// yields a snapshot whose exposition still ends in a newline.
//
// Input: byte 0 = flags (bit 0: truncate to the size in bytes 1-2, in 64-byte units), then
// records of [offset: u16 LE][length: u8][bytes] written over the file.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/control/control_file.hpp"
#include "pipeline/control/metrics.hpp"
#include "pipeline/control/report.hpp"
#include "pipeline/control/snapshot.hpp"

namespace {

using namespace hft::control;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

struct Pristine {
  std::filesystem::path dir;
  std::vector<std::uint8_t> bytes;
  Pristine() {
    // Each input rewrites (truncates) the file and maps it again. On a disk file system that costs a
    // block-freeing truncation per input (ext4 mounted with `discard`: about 0.6 ms per open, most of
    // this replay's time); /dev/shm, where there is one, keeps it in memory.
    const std::filesystem::path shm = "/dev/shm";
    const std::filesystem::path base =
        ::access(shm.c_str(), W_OK | X_OK) == 0 ? shm : std::filesystem::temp_directory_path();
    dir = base / ("hft_fuzz_control_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ControlSizes sizes;
    sizes.counters = 8;
    sizes.histograms = 2;
    sizes.threads = 2;
    sizes.positions = 4;
    sizes.commands = 2;
    const auto layout = hft::core::HistogramLayout::make(1, 1'000'000, 2);
    ControlFile cf("model", sizes, layout, dir.string());
    cf.counter("net.datagrams")->value.store(5);
    cf.counter("orders.open", CounterKind::kGauge)->value.store(2);
    hft::core::Histogram h(layout, cf.histogram("tick_to_trade"));
    for (std::uint64_t v = 100; v < 5000; v += 37) h.record(v);
    PositionSlot* p = cf.position_slot(0);
    seq_write(p->lock, [&] {
      p->used = 1;
      p->position = 10;
      p->reference = 1'000'000;
    });
    ThreadSlot* t = cf.thread_slot(0);
    seq_write(t->lock, [&] {
      t->used = 1;
      put_text(t->name, "t");
    });
    cf.set_state(DaemonState::kRunning);
    cf.heartbeat();
    std::ifstream in(cf.path(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ~Pristine() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Pristine model;
  std::vector<std::uint8_t> file = model.bytes;
  std::size_t i = 0;
  if (size >= 3 && (data[0] & 1)) {
    const std::size_t keep = (static_cast<std::size_t>(data[1]) | static_cast<std::size_t>(data[2]) << 8) * 64;
    if (keep < file.size()) file.resize(keep);
    i = 3;
  } else if (size >= 1) {
    i = 1;
  }
  while (i + 3 <= size) {
    const std::size_t offset = static_cast<std::size_t>(data[i]) | static_cast<std::size_t>(data[i + 1]) << 8;
    const std::size_t length = data[i + 2];
    i += 3;
    for (std::size_t k = 0; k < length && i < size; ++k, ++i)
      if (offset + k < file.size()) file[offset + k] = data[i];
  }
  const std::string path = (model.dir / "hftd.fuzz").string();
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(::write(fd, file.data(), file.size()) == static_cast<ssize_t>(file.size()));
    ::close(fd);
  }
  try {
    ControlReader reader("fuzz", model.dir.string(), true);
    const Snapshot s = take_snapshot(reader);
    const std::string text = render_prometheus(s);
    FUZZ_CHECK(!text.empty() && text.back() == '\n');
    FUZZ_CHECK(!format_status(s).empty());
    FUZZ_CHECK(!format_counters(s).empty());
    FUZZ_CHECK(!format_histogram_table(s).empty());
    FUZZ_CHECK(!format_rates(s, s).empty());
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(std::string(e.what()).find(path) != std::string::npos);  // the message names the file
  }
  return 0;
}
