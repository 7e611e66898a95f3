#include "pipeline/journal/writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/runner.hpp"
#include "pipeline/journal/crc32c.hpp"
#include "pipeline/journal/reader.hpp"

namespace hft::journal {

std::string_view to_string(AppendStatus s) noexcept {
  switch (s) {
    case AppendStatus::kOk: return "ok";
    case AppendStatus::kTooLarge: return "record too large";
    case AppendStatus::kNotReady: return "next segment not ready";
    case AppendStatus::kClosed: return "journal closed";
  }
  return "?";
}

namespace {

// Segments in flight at once: the one being written, the one prepared after it, and ones the
// flusher has not yet retired.
constexpr std::uint32_t kSlots = 4;
constexpr std::uint64_t kPage = 4096;

enum SlotState : std::uint32_t { kFree, kReady, kActive };

}  // namespace

struct JournalWriter::Slot {
  alignas(core::kFalseSharingRange) std::atomic<std::uint32_t> state{kFree};
  std::uint32_t index = 0;  // segment index (set before state becomes kReady / kActive)
  int fd = -1;
  std::uint8_t* base = nullptr;
  std::uint64_t bytes = 0;
  std::string path;
  std::uint64_t synced = 0;  // flusher only: bytes known durable
  // The producer stores its append position after every record; the flusher reads it to sync.
  alignas(core::kFalseSharingRange) std::atomic<std::uint64_t> end{0};
};

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// Creates (or replaces) a segment file, preallocates it, writes its header and maps it. The file
// is made under a temporary name and renamed into place once its header is on disk, so a reader
// of a live journal (hft-journal while hftd runs) never meets a segment without its header.
bool create_segment(const std::string& path, const FileHeader& header, JournalWriter::Slot& slot, int dir_fd,
                    std::string& error) noexcept {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("{}: cannot create: {}", tmp, errno_text(errno));
    return false;
  }
  const auto bytes = static_cast<off_t>(header.segment_bytes);
  // Allocate the blocks now so that writing never finds the disk full and never extends the file
  // (no metadata update per msync beyond the unwritten-extent conversion).
  int rc = ::posix_fallocate(fd, 0, bytes);
  if (rc == EOPNOTSUPP || rc == EINVAL) rc = ::ftruncate(fd, bytes) == 0 ? 0 : errno;
  if (rc != 0) {
    error = fmt::format("{}: cannot preallocate {} bytes: {}", path, header.segment_bytes, errno_text(rc));
    ::close(fd);
    return false;
  }
  if (::pwrite(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) || ::fdatasync(fd) != 0) {
    error = fmt::format("{}: cannot write the header: {}", tmp, errno_text(errno));
    ::close(fd);
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = fmt::format("{}: cannot rename to {}: {}", tmp, path, errno_text(errno));
    ::close(fd);
    return false;
  }
  void* m = ::mmap(nullptr, header.segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) {
    error = fmt::format("{}: cannot map: {}", path, errno_text(errno));
    ::close(fd);
    return false;
  }
  if (dir_fd >= 0) (void)::fsync(dir_fd);  // the new directory entry survives a power loss
  slot.fd = fd;
  slot.base = static_cast<std::uint8_t*>(m);
  slot.bytes = header.segment_bytes;
  slot.path = path;
  slot.synced = 0;
  slot.index = header.segment_index;
  return true;
}

}  // namespace

// The background thread's stage: every syscall of the journal happens here.
class JournalWriter::Flusher {
 public:
  Flusher(JournalWriter& w, int dir_fd) : w_(w), dir_fd_(dir_fd) {}
  ~Flusher() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }

  int poll() noexcept {
    int work = 0;
    const std::uint64_t w = w_.position_.writer_segment.load(std::memory_order_acquire);
    work += sync(false);
    work += retire(w);
    work += prepare(w + 1);
    return work;
  }
  [[nodiscard]] std::string_view name() const noexcept { return "journal-flush"; }

  // Syncs every segment up to the writer's; `force` ignores the policy (close()).
  int sync(bool force) noexcept {
    const SyncPolicy& p = w_.config_.sync;
    std::uint64_t now = 0;
    if (!force) {
      if (p.mode == SyncMode::kNone) return 0;
      if (p.mode == SyncMode::kInterval) {
        now = core::monotonic_ns();
        if (now - last_sync_ns_ < p.interval_ns) return 0;
      }
    }
    // The committed sequence first: every record up to it lies in a segment up to the one read
    // next, below that segment's `end`.
    const std::uint64_t c = w_.shared_.committed.load(std::memory_order_acquire);
    if (c <= synced_sequence_) return 0;
    const std::uint64_t w = w_.position_.writer_segment.load(std::memory_order_acquire);
    bool ok = true;
    for (std::uint64_t s = oldest_; s <= w; ++s) ok = sync_slot(slot(s)) && ok;
    if (now == 0) now = core::monotonic_ns();
    last_sync_ns_ = now;
    if (!ok) return 1;
    synced_sequence_ = c;
    w_.durable_.value.store(c, std::memory_order_release);
    w_.durable_.syncs.fetch_add(1, std::memory_order_relaxed);
    return 1;
  }

  // Unmaps the segments the writer has left (synced first unless the policy is "none").
  int retire(std::uint64_t writer_segment) noexcept {
    int work = 0;
    while (oldest_ < writer_segment) {
      Slot& s = slot(oldest_);
      if (w_.config_.sync.mode != SyncMode::kNone && !sync_slot(s)) break;
      release(s);
      ++oldest_;
      ++work;
    }
    return work;
  }

  int prepare(std::uint64_t index) noexcept {
    if (index <= prepared_) return 0;
    Slot& s = slot(index);
    if (s.state.load(std::memory_order_acquire) != kFree) return 0;
    const std::uint64_t now = core::monotonic_ns();
    if (failed_at_ns_ != 0 && now - failed_at_ns_ < 100'000'000) return 0;  // retry a failure every 100 ms
    const FileHeader h = make_header(w_.instance_, w_.date_, static_cast<std::uint32_t>(index), w_.config_.segment_bytes, 0);
    const std::string path = (std::filesystem::path(w_.config_.dir) / segment_name(w_.instance_, w_.date_, h.segment_index)).string();
    std::string error;
    if (!create_segment(path, h, s, dir_fd_, error)) {
      failed_at_ns_ = now;
      w_.durable_.errors.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    failed_at_ns_ = 0;
    s.end.store(sizeof(FileHeader), std::memory_order_relaxed);
    s.state.store(kReady, std::memory_order_release);
    prepared_ = index;
    w_.durable_.prepared.fetch_add(1, std::memory_order_relaxed);
    return 1;
  }

  // close(): after the thread stopped. Syncs all, unmaps all, removes an unused prepared segment.
  void finish() noexcept {
    sync(true);
    for (std::uint32_t i = 0; i < kSlots; ++i) {
      Slot& s = w_.slots_[i];
      const std::uint32_t st = s.state.load(std::memory_order_acquire);
      if (st == kFree) continue;
      const std::string path = s.path;
      release(s);
      if (st == kReady) (void)::unlink(path.c_str());
    }
    if (dir_fd_ >= 0) (void)::fsync(dir_fd_);
  }

  void adopt(std::uint64_t segment) noexcept {
    oldest_ = segment;
    prepared_ = segment;
  }

 private:
  Slot& slot(std::uint64_t index) noexcept { return w_.slots_[index % kSlots]; }

  bool sync_slot(Slot& s) noexcept {
    const std::uint64_t end = s.end.load(std::memory_order_acquire);
    if (end <= s.synced || s.base == nullptr) return true;
    const std::uint64_t from = s.synced & ~(kPage - 1);
    // msync(MS_SYNC) on a shared file mapping is vfs_fsync_range(datasync=1) over the range
    // (mm/msync.c): fdatasync's guarantee, including the extent conversion after fallocate.
    if (::msync(s.base + from, end - from, MS_SYNC) != 0) {
      w_.durable_.errors.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    s.synced = end;
    return true;
  }

  static void release(Slot& s) noexcept {
    if (s.base != nullptr) ::munmap(s.base, s.bytes);
    if (s.fd >= 0) ::close(s.fd);
    s.base = nullptr;
    s.fd = -1;
    s.path.clear();
    s.state.store(kFree, std::memory_order_release);
  }

  JournalWriter& w_;
  int dir_fd_;
  std::uint64_t oldest_ = 0;    // first segment not yet retired
  std::uint64_t prepared_ = 0;  // highest segment index prepared (or adopted)
  std::uint64_t synced_sequence_ = 0;
  std::uint64_t last_sync_ns_ = 0;
  std::uint64_t failed_at_ns_ = 0;
};

JournalWriter::JournalWriter(const JournalConfig& config, std::string_view instance, std::uint32_t trading_date,
                             std::uint64_t now_ns)
    : config_(config), instance_(instance), date_(trading_date), slots_(new Slot[kSlots]) {
  if (!valid_instance(instance))
    throw JournalError(fmt::format("journal: instance name \"{}\" must be 1..{} characters of [A-Za-z0-9_.-]", instance,
                                   kInstanceBytes));
  if (!valid_date(trading_date)) throw JournalError(fmt::format("journal: trading date {} is not YYYYMMDD", trading_date));
  if (config.segment_bytes < kMinSegmentBytes || config.segment_bytes % kPage != 0)
    throw JournalError(fmt::format("journal: segment size {} must be a multiple of 4096, at least {}", config.segment_bytes,
                                   kMinSegmentBytes));
  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  if (ec) throw JournalError(fmt::format("journal: cannot create {}: {}", config.dir, ec.message()));
  const int dir_fd = ::open(config.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) throw JournalError(fmt::format("journal: cannot open {}: {}", config.dir, errno_text(errno)));
  flusher_ = std::make_unique<Flusher>(*this, dir_fd);

  // What is there already: read it all, stop at an error, truncate a torn tail.
  std::uint32_t segment = 0;
  std::uint64_t offset = sizeof(FileHeader);
  std::uint64_t first_sequence = 1;
  bool existing = false;
  {
    JournalReader reader = JournalReader::open_dir(config.dir, instance_, date_);
    Record r;
    while (reader.next(r)) {
    }
    const Issue& issue = reader.issue();
    if (issue.is_error()) throw JournalError("journal: " + issue.message());
    report_.records = reader.records();
    report_.last_sequence = reader.last_sequence();
    if (issue.problem == Problem::kTornTail) {
      report_.torn = issue.message();
      report_.truncated_bytes = reader.torn_bytes();
      std::string error;
      if (!reader.truncate_tail(error)) throw JournalError("journal: cannot truncate the torn tail: " + error);
    }
    const auto& segs = reader.segments();
    if (!segs.empty() && reader.tail_segment() < segs.size() && segs[reader.tail_segment()].header_valid) {
      const SegmentInfo& tail = segs[reader.tail_segment()];
      existing = true;
      segment = tail.header.segment_index;
      offset = reader.tail_offset();
      first_sequence = reader.last_sequence() + 1;
      if (tail.header.first_sequence != 0 && tail.records == 0) first_sequence = tail.header.first_sequence;
    }
  }
  Slot& s = slots_[segment % kSlots];
  const std::string path = (std::filesystem::path(config.dir) / segment_name(instance_, date_, segment)).string();
  std::string error;
  if (!existing) {
    const FileHeader h = make_header(instance_, date_, segment, config.segment_bytes, first_sequence);
    if (!create_segment(path, h, s, dir_fd, error)) throw JournalError("journal: " + error);
  } else {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw JournalError(fmt::format("journal: {}: cannot open: {}", path, errno_text(errno)));
    FileHeader h{};
    if (::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) {
      ::close(fd);
      throw JournalError(fmt::format("journal: {}: cannot read the header", path));
    }
    // A segment cut short (a truncated file) gets its preallocated size back.
    struct stat st{};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < h.segment_bytes) {
      int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(h.segment_bytes));
      if (rc == EOPNOTSUPP || rc == EINVAL) rc = ::ftruncate(fd, static_cast<off_t>(h.segment_bytes)) == 0 ? 0 : errno;
      if (rc != 0) {
        ::close(fd);
        throw JournalError(fmt::format("journal: {}: cannot extend to {} bytes: {}", path, h.segment_bytes, errno_text(rc)));
      }
    }
    void* m = ::mmap(nullptr, h.segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
      ::close(fd);
      throw JournalError(fmt::format("journal: {}: cannot map: {}", path, errno_text(errno)));
    }
    s.fd = fd;
    s.base = static_cast<std::uint8_t*>(m);
    s.bytes = h.segment_bytes;
    s.path = path;
    s.index = segment;
    if (h.first_sequence == 0) {
      h.first_sequence = first_sequence;
      seal_header(h);
      std::memcpy(s.base, &h, sizeof h);
    }
  }
  s.synced = 0;
  s.end.store(offset, std::memory_order_relaxed);
  s.state.store(kActive, std::memory_order_release);
  base_ = s.base;
  cursor_ = offset;
  limit_ = s.bytes;
  sequence_ = first_sequence;
  segment_ = segment;
  slot_ = &s;
  shared_.committed.store(first_sequence - 1, std::memory_order_relaxed);
  position_.writer_segment.store(segment, std::memory_order_release);
  report_.segment_index = segment;
  flusher_->adopt(segment);

  core::RunnerOptions ro;
  ro.name = "journal-flush";
  ro.cpu = config.flusher_cpu;
  ro.idle.kind = core::IdleKind::kBackoff;
  ro.idle.spins = 0;
  ro.idle.yields = 0;
  ro.idle.min_park_ns = 1'000;
  switch (config.sync.mode) {
    case SyncMode::kEvery: ro.idle.max_park_ns = 20'000; break;
    case SyncMode::kInterval: ro.idle.max_park_ns = std::clamp<std::uint64_t>(config.sync.interval_ns / 4, 1'000, 1'000'000); break;
    case SyncMode::kNone: ro.idle.max_park_ns = 1'000'000; break;
  }
  runner_ = std::make_unique<core::Runner>(ro, std::vector<core::StageRef>{core::StageRef::of(*flusher_)});
  runner_->start();

  WriterOpenedPayload opened{};
  opened.truncated_bytes = report_.truncated_bytes;
  opened.pid = static_cast<std::uint32_t>(::getpid());
  opened.segment_index = segment;
  (void)append(opened, now_ns);
}

JournalWriter::~JournalWriter() { close(); }

void JournalWriter::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (runner_) runner_->stop();
  if (flusher_) flusher_->finish();
  base_ = nullptr;
  cursor_ = 0;
  limit_ = 0;
  slot_ = nullptr;
}

bool JournalWriter::wait_durable(std::uint64_t sequence, std::uint64_t timeout_ns) const noexcept {
  const std::uint64_t deadline = core::monotonic_ns() + timeout_ns;
  while (durable_sequence() < sequence) {
    if (core::monotonic_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

AppendStatus JournalWriter::append_blob(RecordType type, std::uint64_t soup_sequence, bool sequenced,
                                        std::span<const std::uint8_t> bytes, std::uint64_t now_ns) noexcept {
  if (bytes.size() > kMaxBlob) {
    ++counters_.too_large;
    return AppendStatus::kTooLarge;
  }
  BlobPayload head{};
  head.soup_sequence = soup_sequence;
  head.length = static_cast<std::uint16_t>(bytes.size());
  head.sequenced = sequenced ? 1 : 0;
  return write(type, &head, sizeof head, bytes.data(), bytes.size(), now_ns);
}

AppendStatus JournalWriter::write(RecordType type, const void* head, std::size_t head_bytes, const void* tail,
                                  std::size_t tail_bytes, std::uint64_t now_ns) noexcept {
  const std::size_t size = sizeof(RecordHeader) + head_bytes + tail_bytes;
  const std::size_t padded = align_record(size);
  if (cursor_ + padded > limit_) [[unlikely]] {
    if (closed_) return AppendStatus::kClosed;
    if (!rotate()) {
      ++counters_.not_ready;
      return AppendStatus::kNotReady;
    }
  }
  RecordHeader h;
  h.crc = 0;
  h.size = static_cast<std::uint16_t>(size);
  h.type = type;
  h.flags = 0;
  h.sequence = sequence_;
  h.timestamp_ns = now_ns;
  std::uint32_t crc = crc32c(reinterpret_cast<const std::uint8_t*>(&h) + 4, sizeof h - 4);
  crc = crc32c_extend(crc, head, head_bytes);
  if (tail_bytes != 0) crc = crc32c_extend(crc, tail, tail_bytes);
  h.crc = crc;
  // The bytes after the record (its padding, the next header) are zero already: preallocated,
  // or zeroed by the truncation of a torn tail at open.
  std::uint8_t* p = base_ + cursor_;
  std::memcpy(p, &h, sizeof h);
  std::memcpy(p + sizeof h, head, head_bytes);
  if (tail_bytes != 0) std::memcpy(p + sizeof h + head_bytes, tail, tail_bytes);
  cursor_ += padded;
  slot_->end.store(cursor_, std::memory_order_release);
  shared_.committed.store(sequence_, std::memory_order_release);
  ++sequence_;
  ++counters_.records;
  counters_.bytes += padded;
  return AppendStatus::kOk;
}

bool JournalWriter::rotate() noexcept {
  const std::uint32_t next = segment_ + 1;
  Slot& s = slots_[next % kSlots];
  if (s.state.load(std::memory_order_acquire) != kReady || s.index != next) return false;
  FileHeader h;
  std::memcpy(&h, s.base, sizeof h);
  h.first_sequence = sequence_;
  seal_header(h);
  std::memcpy(s.base, &h, sizeof h);
  s.end.store(sizeof(FileHeader), std::memory_order_relaxed);
  s.state.store(kActive, std::memory_order_release);
  base_ = s.base;
  cursor_ = sizeof(FileHeader);
  limit_ = s.bytes;
  slot_ = &s;
  segment_ = next;
  position_.writer_segment.store(next, std::memory_order_release);
  ++counters_.rotations;
  return true;
}

}  // namespace hft::journal
