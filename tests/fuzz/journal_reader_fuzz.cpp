// Arbitrary bytes as journal segments into the reader: never a crash, never a read outside the
// segments (ASan), and what it returns holds together: every record lies inside its segment,
// sequences run without a gap, and reading twice gives the same answer.
//
// Whatever the reader accepts is then replayed into an order manager (hftd's crash recovery,
// pipeline/app/recovery.hpp): never a crash, and a journal with an error is refused, not replayed.
//
// Input: byte 0 picks 1..3 segments; for each but the last, a little-endian uint16 length and
// that many bytes; the last segment takes the rest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/app/recovery.hpp"
#include "pipeline/journal/reader.hpp"

namespace {

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

using Segments = std::vector<std::pair<std::string, std::span<const std::uint8_t>>>;

struct Outcome {
  std::uint64_t records = 0, last = 0;
  hft::journal::Problem problem{};
  std::uint64_t offset = 0;
};

Outcome read(const Segments& segs) {
  using namespace hft::journal;
  JournalReader reader = JournalReader::from_memory(segs);
  Record r;
  Outcome o;
  std::uint64_t prev = 0;
  while (reader.next(r)) {
    const auto& seg = segs[r.segment].second;
    FUZZ_CHECK(r.payload >= seg.data() && r.payload + r.payload_bytes <= seg.data() + seg.size());
    FUZZ_CHECK(r.offset % kRecordAlign == 0);
    FUZZ_CHECK(prev == 0 || r.header.sequence == prev + 1);
    prev = r.header.sequence;
    BlobPayload head;
    std::span<const std::uint8_t> bytes;
    if (r.blob(head, bytes)) FUZZ_CHECK(bytes.data() + bytes.size() <= seg.data() + seg.size());
    ++o.records;
  }
  FUZZ_CHECK(reader.records() == o.records);
  o.last = reader.last_sequence();
  o.problem = reader.issue().problem;
  o.offset = reader.issue().offset;
  (void)reader.issue().message();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t n = 1 + data[0] % 3;
  std::size_t pos = 1;
  Segments segs;
  for (std::size_t i = 0; i + 1 < n && pos + 2 <= size; ++i) {
    std::size_t len = static_cast<std::size_t>(data[pos]) | static_cast<std::size_t>(data[pos + 1]) << 8;
    pos += 2;
    if (len > size - pos) len = size - pos;
    segs.emplace_back("seg" + std::to_string(i), std::span<const std::uint8_t>(data + pos, len));
    pos += len;
  }
  segs.emplace_back("last", std::span<const std::uint8_t>(data + pos, size - pos));
  const Outcome a = read(segs);
  const Outcome b = read(segs);
  FUZZ_CHECK(a.records == b.records && a.last == b.last && a.problem == b.problem && a.offset == b.offset);
  {
    hft::journal::JournalReader reader = hft::journal::JournalReader::from_memory(segs);
    hft::oms::OrderManager oms(64, 16, 1);
    std::uint64_t fills = 0;
    bool refused = false;
    try {
      const hft::app::ReplayResult r = hft::app::replay_journal(reader, oms, [&](const hft::pipeline::ExecReport&) { ++fills; });
      FUZZ_CHECK(r.records == a.records);
      FUZZ_CHECK(oms.next_user_ref() >= 1);
    } catch (const std::runtime_error&) {
      refused = true;
    }
    FUZZ_CHECK(refused == (a.problem != hft::journal::Problem::kNone && a.problem != hft::journal::Problem::kTornTail));
  }
  return 0;
}
