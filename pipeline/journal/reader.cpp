#include "pipeline/journal/reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace hft::journal {

std::string_view to_string(Problem p) noexcept {
  switch (p) {
    case Problem::kNone: return "ok";
    case Problem::kTornTail: return "torn tail";
    case Problem::kCorrupt: return "corrupt record";
    case Problem::kSequenceGap: return "sequence gap";
    case Problem::kBadHeader: return "bad segment header";
    case Problem::kWrongDate: return "wrong trading date";
    case Problem::kWrongInstance: return "wrong instance";
    case Problem::kMissingSegment: return "missing segment";
    case Problem::kIo: return "I/O error";
  }
  return "?";
}

std::string Issue::message() const {
  if (problem == Problem::kNone) return "ok";
  return fmt::format("{}:{}: {}: {}", file, offset, to_string(problem), detail);
}

bool Record::blob(BlobPayload& head, std::span<const std::uint8_t>& bytes) const noexcept {
  if (header.type != RecordType::kOuchSent && header.type != RecordType::kOuchReceived && header.type != RecordType::kCommand)
    return false;
  if (payload_bytes < sizeof(BlobPayload)) return false;
  std::memcpy(&head, payload, sizeof head);
  if (sizeof(BlobPayload) + head.length != payload_bytes) return false;
  bytes = {payload + sizeof(BlobPayload), head.length};
  return true;
}

// One segment's bytes: a read-only mapping of a file, or memory the caller keeps.
struct JournalReader::Segment {
  std::string path;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  void* map = nullptr;
  bool from_file = false;
  ~Segment() {
    if (map != nullptr) ::munmap(map, size);
  }
};

namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) noexcept {
  // Word at a time: the tail of a 64 MiB preallocated segment is scanned at memory speed.
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if (v != 0) return false;
    p += 8;
    n -= 8;
  }
  while (n-- > 0)
    if (*p++ != 0) return false;
  return true;
}

std::size_t last_nonzero_end(const std::uint8_t* p, std::size_t from, std::size_t size) noexcept {
  std::size_t end = size;
  while (end > from && p[end - 1] == 0) --end;
  return end;
}

enum class At : std::uint8_t { kGood, kEnd, kBad, kWrongSequence };

struct Check {
  At at;
  RecordHeader header;
  std::string why;
};

// The record at `pos` of a segment of `size` bytes. Reads nothing outside [data, data + size).
Check check_at(const std::uint8_t* data, std::size_t size, std::uint64_t pos, std::uint64_t expected) {
  Check c{At::kBad, {}, {}};
  if (pos >= size) {
    c.at = At::kEnd;
    return c;
  }
  if (size - pos < sizeof(RecordHeader)) {
    if (all_zero(data + pos, size - pos)) {
      c.at = At::kEnd;
    } else {
      c.why = fmt::format("partial record header: {} bytes left in the file", size - pos);
    }
    return c;
  }
  std::memcpy(&c.header, data + pos, sizeof(RecordHeader));
  const RecordHeader& h = c.header;
  if (h.size == 0) {
    if (all_zero(data + pos, size - pos)) {
      c.at = At::kEnd;
    } else {
      c.why = "record size 0 with non-zero bytes after it";
    }
    return c;
  }
  if (h.size < sizeof(RecordHeader)) {
    c.why = fmt::format("record size {} is below the {}-byte header", h.size, sizeof(RecordHeader));
    return c;
  }
  if (h.size > size - pos) {
    c.why = fmt::format("record of {} bytes runs past the end of the file ({} bytes left)", h.size, size - pos);
    return c;
  }
  const std::size_t payload = h.size - sizeof(RecordHeader);
  const std::uint32_t crc = record_crc(h, data + pos + sizeof(RecordHeader), payload);
  if (crc != h.crc) {
    c.why = fmt::format("CRC32C mismatch: stored {:08x}, computed {:08x}", h.crc, crc);
    return c;
  }
  const auto type = static_cast<std::uint8_t>(h.type);
  if (!known_type(type)) {
    c.why = fmt::format("unknown record type {}", type);
    return c;
  }
  const PayloadBounds b = payload_bounds(h.type);
  if (payload < b.min || payload > b.max) {
    c.why = fmt::format("{} payload of {} bytes (expected {}..{})", to_string(h.type), payload, b.min, b.max);
    return c;
  }
  if (b.min == sizeof(BlobPayload) && b.max != b.min) {
    BlobPayload head;
    std::memcpy(&head, data + pos + sizeof(RecordHeader), sizeof head);
    if (sizeof head + head.length != payload) {
      c.why = fmt::format("{} length {} does not match its record ({} payload bytes)", to_string(h.type), head.length, payload);
      return c;
    }
  }
  if (h.sequence == 0) {
    c.why = "sequence number 0";
    return c;
  }
  if (expected != 0 && h.sequence != expected) {
    c.at = At::kWrongSequence;
    c.why = fmt::format("sequence {} where {} was expected", h.sequence, expected);
    return c;
  }
  c.at = At::kGood;
  return c;
}

// A plausible, CRC-valid record at pos with a sequence after `after` (cheap tests first, so
// scanning megabytes of garbage stays fast).
bool valid_at(const std::uint8_t* data, std::size_t size, std::uint64_t pos, std::uint64_t after) noexcept {
  if (size - pos < sizeof(RecordHeader)) return false;
  RecordHeader h;
  std::memcpy(&h, data + pos, sizeof h);
  if (h.size < sizeof(RecordHeader) || h.size > size - pos) return false;
  if (!known_type(static_cast<std::uint8_t>(h.type)) || h.sequence <= after) return false;
  const std::size_t payload = h.size - sizeof(RecordHeader);
  const PayloadBounds b = payload_bounds(h.type);
  if (payload < b.min || payload > b.max) return false;
  return record_crc(h, data + pos + sizeof(RecordHeader), payload) == h.crc;
}

}  // namespace

JournalReader::JournalReader() = default;
JournalReader::JournalReader(JournalReader&&) noexcept = default;
JournalReader& JournalReader::operator=(JournalReader&&) noexcept = default;
JournalReader::~JournalReader() = default;

void JournalReader::fail(Problem p, std::size_t segment, std::uint64_t offset, std::string detail) {
  issue_.problem = p;
  issue_.file = segment < segs_.size() ? segs_[segment]->path : std::string();
  issue_.offset = offset;
  issue_.detail = std::move(detail);
  done_ = true;
}

JournalReader JournalReader::open(const std::vector<std::string>& files, const Expect& expect) {
  JournalReader r;
  for (const std::string& path : files) {
    auto s = std::make_unique<Segment>();
    s->path = path;
    s->from_file = true;
    r.segs_.push_back(std::move(s));
    Segment& seg = *r.segs_.back();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      r.fail(Problem::kIo, r.segs_.size() - 1, 0, fmt::format("cannot open: {}", std::strerror(errno)));
      return r;
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      r.fail(Problem::kIo, r.segs_.size() - 1, 0, "not a regular file");
      return r;
    }
    seg.size = static_cast<std::size_t>(st.st_size);
    if (seg.size > 0) {
      void* m = ::mmap(nullptr, seg.size, PROT_READ, MAP_SHARED, fd, 0);
      if (m == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        seg.size = 0;
        r.fail(Problem::kIo, r.segs_.size() - 1, 0, fmt::format("cannot map: {}", std::strerror(e)));
        return r;
      }
      seg.map = m;
      seg.data = static_cast<const std::uint8_t*>(m);
    }
    ::close(fd);
  }
  r.check_segments(expect);
  return r;
}

JournalReader JournalReader::open_dir(const std::string& dir, std::string_view instance, std::uint32_t date) {
  std::vector<std::string> files;
  const std::string prefix = fmt::format("{}-{:08}-", instance, date);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == prefix.size() + 10 && name.starts_with(prefix) && name.ends_with(".hjl")) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  Expect e;
  e.trading_date = date;
  e.instance = std::string(instance);
  JournalReader r = open(files, e);
  if (ec && r.issue_.ok()) {
    r.issue_.problem = Problem::kIo;
    r.issue_.file = dir;
    r.issue_.detail = fmt::format("cannot list the directory: {}", ec.message());
    r.done_ = true;
  }
  return r;
}

JournalReader JournalReader::from_memory(const std::vector<std::pair<std::string, std::span<const std::uint8_t>>>& segments,
                                         const Expect& expect) {
  JournalReader r;
  for (const auto& [name, bytes] : segments) {
    auto s = std::make_unique<Segment>();
    s->path = name;
    s->data = bytes.data();
    s->size = bytes.size();
    r.segs_.push_back(std::move(s));
  }
  r.check_segments(expect);
  return r;
}

void JournalReader::check_segments(const Expect& expect) {
  // Headers first, in the order given.
  std::vector<std::pair<FileHeader, bool>> headers;
  for (std::size_t i = 0; i < segs_.size(); ++i) {
    const Segment& s = *segs_[i];
    FileHeader h{};
    if (s.size < sizeof(FileHeader) || all_zero(s.data, sizeof(FileHeader))) {
      // A file whose header was never written: a crash while the next segment was prepared.
      if (!all_zero(s.data, s.size)) {
        fail(Problem::kBadHeader, i, 0, fmt::format("{} bytes, shorter than a segment header, and not all zero", s.size));
        return;
      }
      headers.emplace_back(h, false);
      continue;
    }
    std::memcpy(&h, s.data, sizeof h);
    if (h.magic != kMagic) return fail(Problem::kBadHeader, i, 0, "not a journal segment (bad magic)");
    if (h.version != kVersion) return fail(Problem::kBadHeader, i, 0, fmt::format("format version {}, this build reads {}", h.version, kVersion));
    if (header_crc(h) != h.crc) return fail(Problem::kBadHeader, i, 60, "header CRC32C mismatch");
    if (h.header_bytes != sizeof(FileHeader)) return fail(Problem::kBadHeader, i, 10, fmt::format("header size {}", h.header_bytes));
    headers.emplace_back(h, true);
  }
  // Segment order: by header index; files without a header can only be the last.
  std::vector<std::size_t> order(segs_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (headers[a].second != headers[b].second) return headers[a].second;
    return headers[a].first.segment_index < headers[b].first.segment_index;
  });
  std::vector<std::unique_ptr<Segment>> sorted;
  for (std::size_t i : order) sorted.push_back(std::move(segs_[i]));
  segs_ = std::move(sorted);
  for (std::size_t i : order) {
    SegmentInfo info;
    info.path = segs_[info_.size()]->path;
    info.header = headers[i].first;
    info.header_valid = headers[i].second;
    info.file_bytes = segs_[info_.size()]->size;
    info_.push_back(info);
  }
  std::optional<std::uint32_t> date = expect.trading_date;
  std::optional<std::string> instance = expect.instance;
  for (std::size_t i = 0; i < info_.size(); ++i) {
    const SegmentInfo& s = info_[i];
    if (!s.header_valid) {
      if (i + 1 != info_.size()) return fail(Problem::kBadHeader, i, 0, "segment without a header before the last segment");
      continue;
    }
    const std::string_view inst = header_instance(s.header);
    if (date && *date != s.header.trading_date)
      return fail(Problem::kWrongDate, i, 12,
                  fmt::format("trading date {} in the header, expected {}", s.header.trading_date, *date));
    if (instance && *instance != inst)
      return fail(Problem::kWrongInstance, i, 40, fmt::format("instance \"{}\" in the header, expected \"{}\"", inst, *instance));
    date = s.header.trading_date;
    instance = std::string(inst);
    if (i > 0 && info_[i - 1].header_valid && s.header.segment_index != info_[i - 1].header.segment_index + 1)
      return fail(Problem::kMissingSegment, i, 16,
                  fmt::format("segment {} follows segment {}", s.header.segment_index, info_[i - 1].header.segment_index));
    if (s.header.segment_bytes < s.header.header_bytes)
      return fail(Problem::kBadHeader, i, 32, fmt::format("segment size {} in the header", s.header.segment_bytes));
  }
}

bool JournalReader::valid_record_after(std::size_t segment, std::uint64_t offset) const noexcept {
  for (std::size_t i = segment; i < segs_.size(); ++i) {
    const Segment& s = *segs_[i];
    std::uint64_t p = i == segment ? align_record(offset + 1) : sizeof(FileHeader);
    if (!info_[i].header_valid) continue;
    for (; p + sizeof(RecordHeader) <= s.size; p += kRecordAlign)
      if (valid_at(s.data, s.size, p, last_sequence_)) return true;
  }
  return false;
}

bool JournalReader::next(Record& out) {
  while (!done_) {
    if (seg_ >= segs_.size()) {
      done_ = true;
      break;
    }
    const Segment& s = *segs_[seg_];
    SegmentInfo& info = info_[seg_];
    if (!info.header_valid) {
      // Only ever the last file (check_segments): a segment whose preparation never finished.
      torn_segment_ = seg_;
      torn_offset_ = 0;
      torn_bytes_ = 0;
      fail(Problem::kTornTail, seg_, 0, fmt::format("segment file of {} bytes without a header", s.size));
      break;
    }
    if (pos_ == 0) {
      pos_ = sizeof(FileHeader);
      info.end_offset = pos_;
      const std::uint64_t first = info.header.first_sequence;
      if (first != 0 && expected_ != 0 && first != expected_) {
        fail(Problem::kSequenceGap, seg_, 24,
             fmt::format("segment {} starts at sequence {}, the previous one ended at {}", info.header.segment_index, first,
                         expected_ - 1));
        break;
      }
      if (first != 0 && expected_ == 0) expected_ = first;
      if (tail_segment_ < seg_ || records_ == 0) {
        tail_segment_ = seg_;
        tail_offset_ = pos_;
      }
    }
    const Check c = check_at(s.data, s.size, pos_, expected_);
    if (c.at == At::kGood) {
      if (info.header.first_sequence == 0) {
        fail(Problem::kCorrupt, seg_, 24, "segment holds records but its header has no first sequence");
        break;
      }
      out.header = c.header;
      out.payload = s.data + pos_ + sizeof(RecordHeader);
      out.payload_bytes = c.header.size - sizeof(RecordHeader);
      out.segment = seg_;
      out.offset = pos_;
      pos_ += align_record(c.header.size);
      if (pos_ > s.size) pos_ = s.size;
      expected_ = c.header.sequence + 1;
      last_sequence_ = c.header.sequence;
      ++records_;
      ++info.records;
      if (info.first_sequence == 0) info.first_sequence = c.header.sequence;
      info.last_sequence = c.header.sequence;
      info.end_offset = pos_;
      tail_segment_ = seg_;
      tail_offset_ = pos_;
      return true;
    }
    if (c.at == At::kEnd) {
      ++seg_;
      pos_ = 0;
      continue;
    }
    if (c.at == At::kWrongSequence) {
      fail(Problem::kSequenceGap, seg_, pos_, c.why);
      break;
    }
    if (valid_record_after(seg_, pos_)) {
      fail(Problem::kCorrupt, seg_, pos_, c.why + "; valid records follow");
      break;
    }
    torn_segment_ = seg_;
    torn_offset_ = pos_;
    torn_bytes_ = last_nonzero_end(s.data, pos_, s.size) - pos_;
    for (std::size_t i = seg_ + 1; i < segs_.size(); ++i) torn_bytes_ += last_nonzero_end(segs_[i]->data, sizeof(FileHeader) < segs_[i]->size ? sizeof(FileHeader) : segs_[i]->size, segs_[i]->size);
    fail(Problem::kTornTail, seg_, pos_, c.why);
    break;
  }
  return false;
}

bool JournalReader::truncate_tail(std::string& error) {
  if (issue_.problem != Problem::kTornTail) {
    error = "nothing to truncate: " + issue_.message();
    return false;
  }
  for (std::size_t i = torn_segment_; i < segs_.size(); ++i) {
    Segment& s = *segs_[i];
    if (!s.from_file) {
      error = "not a file: " + s.path;
      return false;
    }
    const bool remove = i > torn_segment_ || !info_[i].header_valid;
    if (remove) {
      if (::unlink(s.path.c_str()) != 0) {
        error = fmt::format("{}: cannot remove: {}", s.path, std::strerror(errno));
        return false;
      }
      continue;
    }
    const std::size_t end = last_nonzero_end(s.data, torn_offset_, s.size);
    const int fd = ::open(s.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      error = fmt::format("{}: cannot open for writing: {}", s.path, std::strerror(errno));
      return false;
    }
    static const std::uint8_t kZeros[4096] = {};
    for (std::uint64_t p = torn_offset_; p < end;) {
      const std::size_t n = std::min<std::uint64_t>(sizeof kZeros, end - p);
      const ssize_t w = ::pwrite(fd, kZeros, n, static_cast<off_t>(p));
      if (w <= 0) {
        error = fmt::format("{}: cannot write at {}: {}", s.path, p, std::strerror(errno));
        ::close(fd);
        return false;
      }
      p += static_cast<std::uint64_t>(w);
    }
    if (::fdatasync(fd) != 0) {
      error = fmt::format("{}: fdatasync: {}", s.path, std::strerror(errno));
      ::close(fd);
      return false;
    }
    ::close(fd);
  }
  return true;
}

}  // namespace hft::journal
