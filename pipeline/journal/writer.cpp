#include "pipeline/journal/writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
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
// How far ahead of the writer the flusher keeps pages writable (Flusher::arm).
constexpr std::uint64_t kArmAhead = 256 << 10;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

enum SlotState : std::uint32_t { kFree, kReady, kActive };

}  // namespace

struct JournalWriter::Slot {
  alignas(core::kFalseSharingRange) std::atomic<std::uint32_t> state{kFree};
  std::uint32_t index = 0;  // segment index (set before state becomes kReady / kActive)
  int fd = -1;                   // the segment file on disk (never mapped)
  std::uint8_t* base = nullptr;  // the segment's stage: a tmpfs file mapping, where the writer appends
  int stage_fd = -1;
  std::uint64_t bytes = 0;
  std::string path;
  std::string stage_path;
  std::uint64_t copied = 0;  // flusher only: bytes [0, copied) written from the stage to the file
  std::uint64_t synced = 0;  // flusher only: bytes known durable
  std::uint64_t armed = 0;   // flusher only: stage pages below this offset were faulted in ahead of the writer
  // The producer stores its append position after every record; the flusher reads it to sync.
  alignas(core::kFalseSharingRange) std::atomic<std::uint64_t> end{0};
};

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// FNV-1a, 64 bits: names a journal directory's stage files (stable across builds and restarts).
std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// Creates and maps the stage of a segment: a tmpfs file of the segment's size whose first
// `prefix` bytes are copied from the segment file (its header, or all a reopened segment holds).
bool create_stage(JournalWriter::Slot& slot, std::uint64_t prefix, std::string& error) noexcept {
  const int sfd = ::open(slot.stage_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (sfd < 0) {
    error = fmt::format("{}: cannot create the stage: {} ([journal] stage_dir)", slot.stage_path, errno_text(errno));
    return false;
  }
  // Reserve the memory now: a full tmpfs never meets the writer as a SIGBUS.
  const int rc = ::posix_fallocate(sfd, 0, static_cast<off_t>(slot.bytes));
  if (rc != 0) {
    error = fmt::format("{}: cannot reserve {} bytes for the stage: {} ([journal] stage_dir, segment_mb)", slot.stage_path,
                        slot.bytes, errno_text(rc));
    ::close(sfd);
    ::unlink(slot.stage_path.c_str());
    return false;
  }
  void* m = ::mmap(nullptr, slot.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
  if (m == MAP_FAILED) {
    error = fmt::format("{}: cannot map the stage: {}", slot.stage_path, errno_text(errno));
    ::close(sfd);
    ::unlink(slot.stage_path.c_str());
    return false;
  }
  auto* base = static_cast<std::uint8_t*>(m);
  for (std::uint64_t done = 0; done < prefix;) {
    const ssize_t n = ::pread(slot.fd, base + done, prefix - done, static_cast<off_t>(done));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      error = fmt::format("{}: cannot read into the stage: {}", slot.path, n < 0 ? errno_text(errno) : "short file");
      ::munmap(m, slot.bytes);
      ::close(sfd);
      ::unlink(slot.stage_path.c_str());
      return false;
    }
    done += static_cast<std::uint64_t>(n);
  }
  slot.stage_fd = sfd;
  slot.base = base;
  return true;
}

// Creates (or replaces) a segment file, preallocates it, writes its header, and creates its
// stage. The file is made under a temporary name and renamed into place once its header is on
// disk, so a reader of a live journal (hft-journal while hftd runs) never meets a segment
// without its header.
bool create_segment(const std::string& path, const std::string& stage_path, const FileHeader& header,
                    JournalWriter::Slot& slot, int dir_fd, std::string& error) noexcept {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("{}: cannot create: {}", tmp, errno_text(errno));
    return false;
  }
  const auto bytes = static_cast<off_t>(header.segment_bytes);
  // Allocate the blocks now so that writing never finds the disk full and never extends the file.
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
  if (dir_fd >= 0) (void)::fsync(dir_fd);  // the new directory entry survives a power loss
  slot.fd = fd;
  slot.bytes = header.segment_bytes;
  slot.path = path;
  slot.stage_path = stage_path;
  if (!create_stage(slot, sizeof header, error)) {
    ::close(fd);
    slot.fd = -1;
    return false;
  }
  slot.copied = 0;
  slot.synced = 0;
  slot.armed = 0;
  slot.index = header.segment_index;
  return true;
}

// Writes bytes [from, to) of the stage to the segment file.
bool write_out(const JournalWriter::Slot& s, std::uint64_t from, std::uint64_t to) noexcept {
  while (from < to) {
    const ssize_t n = ::pwrite(s.fd, s.base + from, to - from, static_cast<off_t>(from));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    from += static_cast<std::uint64_t>(n);
  }
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
    // The committed sequence first: every record up to it lies below `end` of a segment up to
    // the writer's, read next.
    const std::uint64_t c = w_.shared_.committed.load(std::memory_order_acquire);
    const std::uint64_t w = w_.position_.writer_segment.load(std::memory_order_acquire);
    bool copied = true;
    for (std::uint64_t i = oldest_; i <= w; ++i) {
      const int r = copy(slot(i));
      copied = copied && r >= 0;
      work += r > 0 ? 1 : 0;
    }
    if (copied && c > w_.durable_.written.load(std::memory_order_relaxed)) w_.durable_.written.store(c, std::memory_order_release);
    work += sync(false);
    work += retire(w);
    work += prepare(w + 1);
    work += arm(slot(w));
    Slot& next = slot(w + 1);
    if (next.state.load(std::memory_order_acquire) == kReady) work += arm(next);
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

  // Releases the segments the writer has left: copied out, synced unless the policy is "none".
  int retire(std::uint64_t writer_segment) noexcept {
    int work = 0;
    while (oldest_ < writer_segment) {
      Slot& s = slot(oldest_);
      if (copy(s) < 0) break;
      if (w_.config_.sync.mode != SyncMode::kNone && !sync_slot(s)) break;
      release(s, true);
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
    std::string error;
    if (!create_segment(w_.segment_path(h.segment_index), w_.stage_path(h.segment_index), h, s, dir_fd_, error)) {
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

  // close(): after the thread stopped. Copies and syncs all, releases all, removes an unused
  // prepared segment.
  void finish() noexcept {
    const std::uint64_t w = w_.position_.writer_segment.load(std::memory_order_acquire);
    for (std::uint64_t i = oldest_; i <= w; ++i) (void)copy(slot(i));
    sync(true);
    for (std::uint32_t i = 0; i < kSlots; ++i) {
      Slot& s = w_.slots_[i];
      const std::uint32_t st = s.state.load(std::memory_order_acquire);
      if (st == kFree) continue;
      const std::string path = s.path;
      // A stage whose bytes could not all be written out stays for the next open to recover.
      const bool written = st == kReady || s.copied == s.end.load(std::memory_order_acquire);
      release(s, written);
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

  // Writes what the writer appended to the stage since the last copy into the segment file (the
  // page cache: no disk wait). Readers of the live journal see records from here on. Returns 1
  // when it wrote, 0 when there was nothing, -1 on an error (counted; retried on the next pass).
  int copy(Slot& s) noexcept {
    if (s.state.load(std::memory_order_acquire) != kActive || s.base == nullptr) return 0;
    const std::uint64_t end = s.end.load(std::memory_order_acquire);
    if (end <= s.copied) return 0;
    if (!write_out(s, s.copied, end)) {
      w_.durable_.errors.fetch_add(1, std::memory_order_relaxed);
      return -1;
    }
    s.copied = end;
    return 1;
  }

  bool sync_slot(Slot& s) noexcept {
    if (copy(s) < 0) return false;
    if (s.copied <= s.synced || s.fd < 0) return true;
    if (::fdatasync(s.fd) != 0) {
      w_.durable_.errors.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    s.synced = s.copied;
    return true;
  }

  // Faults in the stage's pages from the writer's position to kArmAhead beyond it (madvise
  // MADV_POPULATE_WRITE: the faults are taken here, the data untouched), so the writer's stores
  // never fault. The stage is tmpfs: nothing writes its pages back, so nothing write-protects
  // them again. Kernels before 5.14 lack the advice: the writer then takes one minor fault per
  // new page.
  int arm(Slot& s) noexcept {
    if (!arm_supported_ || s.base == nullptr) return 0;
    const std::uint64_t end = s.end.load(std::memory_order_acquire);
    const std::uint64_t from = std::max(s.armed, end & ~(kPage - 1));
    const std::uint64_t to = std::min(s.bytes, ((end + kPage - 1) & ~(kPage - 1)) + kArmAhead);
    if (from >= to) return 0;
    // Ahead of the writer already: wait until it has used a quarter of the window.
    if (s.armed > end && to - from < kArmAhead / 4 && to != s.bytes) return 0;
    if (::madvise(s.base + from, to - from, MADV_POPULATE_WRITE) != 0) {
      if (errno == EINVAL) arm_supported_ = false;  // no MADV_POPULATE_WRITE on this kernel
      return 0;
    }
    s.armed = to;
    return 1;
  }

  // `drop_stage`: the segment file holds everything the stage does; the stage file goes.
  static void release(Slot& s, bool drop_stage) noexcept {
    if (s.base != nullptr) ::munmap(s.base, s.bytes);
    if (s.stage_fd >= 0) ::close(s.stage_fd);
    if (s.fd >= 0) ::close(s.fd);
    if (drop_stage && !s.stage_path.empty()) (void)::unlink(s.stage_path.c_str());
    s.base = nullptr;
    s.fd = -1;
    s.stage_fd = -1;
    s.path.clear();
    s.stage_path.clear();
    s.state.store(kFree, std::memory_order_release);
  }

  JournalWriter& w_;
  int dir_fd_;
  std::uint64_t oldest_ = 0;    // first segment not yet retired
  std::uint64_t prepared_ = 0;  // highest segment index prepared (or adopted)
  std::uint64_t synced_sequence_ = 0;
  std::uint64_t last_sync_ns_ = 0;
  std::uint64_t failed_at_ns_ = 0;
  bool arm_supported_ = true;
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

  // The stages: tmpfs files named after the journal directory, where the writer appends.
  stage_dir_ = stage_dir_of(config);
  stage_prefix_ = stage_prefix_of(config);
  const StageRecovery recovered = recover_stages(config, instance_, date_);
  report_.stages_recovered = recovered.stages;
  report_.stage_bytes = recovered.bytes;

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
  const std::string path = segment_path(segment);
  std::string error;
  if (!existing) {
    const FileHeader h = make_header(instance_, date_, segment, config.segment_bytes, first_sequence);
    if (!create_segment(path, stage_path(segment), h, s, dir_fd, error)) throw JournalError("journal: " + error);
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
    s.fd = fd;
    s.bytes = h.segment_bytes;
    s.path = path;
    s.stage_path = stage_path(segment);
    s.index = segment;
    if (!create_stage(s, offset, error)) {
      ::close(fd);
      s.fd = -1;
      throw JournalError("journal: " + error);
    }
    if (h.first_sequence == 0) {
      h.first_sequence = first_sequence;
      seal_header(h);
      std::memcpy(s.base, &h, sizeof h);
    }
  }
  s.copied = 0;  // the first copy writes the segment's prefix (and a header given its first sequence) again
  s.synced = 0;
  s.armed = 0;
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

std::string JournalWriter::segment_path(std::uint32_t index) const {
  return (std::filesystem::path(config_.dir) / segment_name(instance_, date_, index)).string();
}

std::string JournalWriter::stage_path(std::uint32_t index) const {
  return (std::filesystem::path(stage_dir_) / (stage_prefix_ + segment_name(instance_, date_, index))).string();
}

// A stage left by a writer that did not close (a crash, a kill -9) may hold records its flusher
// had not written to the segment file yet: write them there before the journal is read. A stage
// is never behind its segment file (the file is only ever written from it), so its bytes up to
// the last non-zero one replace the file's. A stage without its segment file is stale (the
// journal was removed) and goes.
std::string JournalWriter::stage_dir_of(const JournalConfig& config) {
  if (!config.stage_dir.empty()) return config.stage_dir;
  const char* env = std::getenv("HFT_CONTROL_DIR");
  return env != nullptr && *env != '\0' ? env : "/dev/shm";
}

std::string JournalWriter::stage_prefix_of(const JournalConfig& config) {
  std::error_code ec;
  const auto canon = std::filesystem::canonical(config.dir, ec);
  return fmt::format("hft-journal-{:016x}-", fnv1a(ec ? config.dir : canon.string()));
}

JournalWriter::StageRecovery JournalWriter::recover_stages(const JournalConfig& config, std::string_view instance,
                                                            std::uint32_t date) {
  StageRecovery out;
  const std::string stage_dir = stage_dir_of(config);
  const std::string stage_prefix = stage_prefix_of(config);
  std::error_code ec;
  std::filesystem::directory_iterator it(stage_dir, ec);
  if (ec) throw JournalError(fmt::format("journal: stage directory {}: {} ([journal] stage_dir)", stage_dir, ec.message()));
  const std::string mine = stage_prefix + segment_name(instance, date, 0).substr(0, instance.size() + 10);
  std::vector<std::filesystem::path> stages;
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(mine) && name.ends_with(".hjl")) stages.push_back(e.path());
  }
  std::sort(stages.begin(), stages.end());
  for (const auto& stage : stages) {
    const std::string name = stage.filename().string().substr(stage_prefix.size());
    const std::string file = (std::filesystem::path(config.dir) / name).string();
    const int sfd = ::open(stage.c_str(), O_RDONLY | O_CLOEXEC);
    if (sfd < 0) throw JournalError(fmt::format("journal: stage {}: cannot open: {}", stage.string(), errno_text(errno)));
    struct stat st{};
    const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 || ::fstat(sfd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(FileHeader))) {
      if (fd >= 0) ::close(fd);
      ::close(sfd);
      (void)::unlink(stage.c_str());
      continue;
    }
    const auto bytes = static_cast<std::size_t>(st.st_size);
    void* m = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, sfd, 0);
    if (m == MAP_FAILED) {
      ::close(fd);
      ::close(sfd);
      throw JournalError(fmt::format("journal: stage {}: cannot map: {}", stage.string(), errno_text(errno)));
    }
    const auto* p = static_cast<const std::uint8_t*>(m);
    std::size_t used = bytes;
    while (used > 0 && p[used - 1] == 0) --used;
    used = std::min(bytes, (used + kRecordAlign - 1) / kRecordAlign * kRecordAlign);
    bool ok = true;
    for (std::size_t done = 0; ok && done < used;) {
      const ssize_t n = ::pwrite(fd, p + done, used - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ok && ::fdatasync(fd) == 0;
    const int write_errno = errno;
    ::munmap(m, bytes);
    ::close(sfd);
    ::close(fd);
    if (!ok)
      throw JournalError(fmt::format("journal: {}: cannot write back its stage {}: {}", file, stage.string(), errno_text(write_errno)));
    (void)::unlink(stage.c_str());
    ++out.stages;
    out.bytes += used;
  }
  return out;
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

bool JournalWriter::wait_written(std::uint64_t sequence, std::uint64_t timeout_ns) const noexcept {
  const std::uint64_t deadline = core::monotonic_ns() + timeout_ns;
  while (written_sequence() < sequence) {
    if (core::monotonic_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
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
                                        std::span<const std::uint8_t> bytes, std::uint64_t now_ns,
                                        std::uint8_t venue) noexcept {
  if (bytes.size() > kMaxBlob) {
    ++counters_.too_large;
    return AppendStatus::kTooLarge;
  }
  BlobPayload head{};
  head.soup_sequence = soup_sequence;
  head.length = static_cast<std::uint16_t>(bytes.size());
  head.sequenced = sequenced ? 1 : 0;
  head.venue = venue;
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
