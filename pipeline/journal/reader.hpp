#pragma once
// Reads a journal back: every record of every segment in sequence order, each checked (CRC32C,
// size, type, payload size, sequence continuity). Cold path (recovery at start-up, hft-journal):
// it maps the files read-only and never reads outside them, whatever their bytes.
//
// Where reading stops, issue() says why:
//  * kTornTail: the last records are incomplete or damaged and nothing valid follows them, which
//    is what a power loss mid-write leaves (a partial record, a zeroed tail, a bad CRC at the end,
//    a segment file whose header was never written). Everything before is good; truncate_tail()
//    zeroes the damaged bytes so a writer can append after the last good record.
//  * every other problem is an error: damaged data followed by valid records (corruption in the
//    middle), a sequence gap or repeat, a bad or foreign file header, a missing segment.
//
//   auto reader = journal::JournalReader::open_dir(dir, "hftd-a", 20240607);
//   journal::Record r;
//   while (reader.next(r)) { if (journal::IntentPayload p; r.get(p)) ... }
//   if (reader.issue().is_error()) fail(reader.issue().message());
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/journal/format.hpp"

namespace hft::journal {

enum class Problem : std::uint8_t {
  kNone,
  kTornTail,        // truncatable
  kCorrupt,         // damaged record followed by valid ones
  kSequenceGap,     // a valid record with the wrong sequence number, or a segment that does not continue the last
  kBadHeader,       // a segment file header that is not ours (magic, version, CRC, size)
  kWrongDate,       // a segment of another trading date than asked for (or than the first segment)
  kWrongInstance,   // likewise for the instance name
  kMissingSegment,  // segment indices not consecutive
  kIo,              // cannot open or map a file
};
[[nodiscard]] std::string_view to_string(Problem p) noexcept;

struct Issue {
  Problem problem = Problem::kNone;
  std::string file;
  std::uint64_t offset = 0;  // byte offset in `file` of the first damaged byte
  std::string detail;
  [[nodiscard]] bool ok() const noexcept { return problem == Problem::kNone; }
  [[nodiscard]] bool is_error() const noexcept { return problem != Problem::kNone && problem != Problem::kTornTail; }
  // "<file>:<offset>: <problem>: <detail>"
  [[nodiscard]] std::string message() const;
};

struct Expect {
  std::optional<std::uint32_t> trading_date;
  std::optional<std::string> instance;
};

struct Record {
  RecordHeader header{};
  const std::uint8_t* payload = nullptr;
  std::size_t payload_bytes = 0;
  std::size_t segment = 0;   // index into JournalReader::segments()
  std::uint64_t offset = 0;  // of the record header in its file

  // Copies a fixed-size payload when the record is of P's type.
  template <class P>
  [[nodiscard]] bool get(P& out) const noexcept {
    if (header.type != P::kType || payload_bytes != sizeof(P)) return false;
    std::memcpy(&out, payload, sizeof(P));
    return true;
  }
  // kOuchSent, kOuchReceived, kCommand: the head and the bytes after it.
  [[nodiscard]] bool blob(BlobPayload& head, std::span<const std::uint8_t>& bytes) const noexcept;
};

struct SegmentInfo {
  std::string path;
  FileHeader header{};
  bool header_valid = false;  // false: an incomplete file (shorter than a header, or a zero header)
  std::uint64_t file_bytes = 0;
  std::uint64_t records = 0;  // read so far
  std::uint64_t first_sequence = 0, last_sequence = 0;  // of the records read so far (0: none)
  std::uint64_t end_offset = 0;  // end of the last good record read so far
};

class JournalReader {
 public:
  // The given files (any order; they are sorted by their header's segment index).
  [[nodiscard]] static JournalReader open(const std::vector<std::string>& files, const Expect& expect = {});
  // The segments of (instance, date) in `dir` (<instance>-<YYYYMMDD>-<index>.hjl); none is an empty journal.
  [[nodiscard]] static JournalReader open_dir(const std::string& dir, std::string_view instance, std::uint32_t date);
  // Segments held in memory (the fuzz target, tests): (name, bytes) pairs, bytes kept by the caller.
  [[nodiscard]] static JournalReader from_memory(const std::vector<std::pair<std::string, std::span<const std::uint8_t>>>& segments,
                                                 const Expect& expect = {});

  JournalReader(JournalReader&&) noexcept;
  JournalReader& operator=(JournalReader&&) noexcept;
  ~JournalReader();

  // The next good record; false at the end or at a problem (then see issue()).
  [[nodiscard]] bool next(Record& out);
  [[nodiscard]] const Issue& issue() const noexcept { return issue_; }
  [[nodiscard]] const std::vector<SegmentInfo>& segments() const noexcept { return info_; }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_sequence_; }
  [[nodiscard]] std::uint64_t records() const noexcept { return records_; }
  // Where the next record would go: (segment, offset) after the last good record; valid at the end.
  [[nodiscard]] std::size_t tail_segment() const noexcept { return tail_segment_; }
  [[nodiscard]] std::uint64_t tail_offset() const noexcept { return tail_offset_; }
  // Damaged bytes after the last good record (kTornTail), up to the last non-zero byte.
  [[nodiscard]] std::uint64_t torn_bytes() const noexcept { return torn_bytes_; }

  // After a kTornTail: zeroes the damaged bytes of that segment (the file keeps its size) and
  // removes later segment files (they hold no valid record) or a segment file without a header.
  // Files only (not from_memory). Returns false and sets `error` on an I/O failure.
  bool truncate_tail(std::string& error);

  struct Segment;

 private:
  JournalReader();
  void check_segments(const Expect& expect);
  void fail(Problem p, std::size_t segment, std::uint64_t offset, std::string detail);
  [[nodiscard]] bool valid_record_after(std::size_t segment, std::uint64_t offset) const noexcept;

  std::vector<std::unique_ptr<Segment>> segs_;
  std::vector<SegmentInfo> info_;
  Issue issue_;
  bool done_ = false;
  std::size_t seg_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t expected_ = 0;  // next sequence; 0 until known
  std::uint64_t last_sequence_ = 0;
  std::uint64_t records_ = 0;
  std::size_t tail_segment_ = 0;
  std::uint64_t tail_offset_ = 0;
  std::uint64_t torn_bytes_ = 0;
  std::size_t torn_segment_ = 0;
  std::uint64_t torn_offset_ = 0;
};

}  // namespace hft::journal
