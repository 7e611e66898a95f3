#include "pipeline/control/control_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace hft::control {
namespace {

constexpr std::uint64_t kStaleHeartbeatNs = 3'000'000'000;  // the control thread beats every 100 ms

std::uint64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint32_t align64(std::uint64_t v) { return static_cast<std::uint32_t>((v + 63) & ~std::uint64_t{63}); }

std::string err(int e) { return fmt::format("{} ({})", std::strerror(e), e); }

// The instance lock: a write lock over the whole control file, of the open-file-description kind
// (fcntl F_OFD_SETLK, Linux 3.15). Like flock(2) it belongs to the open file, not to a pid, so the
// kernel drops it only when the owner's descriptor closes: at exit, or at death by any signal. A
// stopped or hung owner keeps it, whatever its heartbeat says. Unlike flock, F_OFD_GETLK lets a
// reader ask whether it is held without taking it; a reader that took it, even shared and briefly,
// could turn away an hftd starting at that moment.
struct flock whole_file(short type) noexcept {
  struct flock l{};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;  // to the end, however the file grows
  return l;
}

bool try_lock(int fd) noexcept {
  struct flock l = whole_file(F_WRLCK);
  return ::fcntl(fd, F_OFD_SETLK, &l) == 0;
}

// True when another open file (this process's or another's) holds a lock on the file.
bool held_by_other(int fd) noexcept {
  struct flock l = whole_file(F_WRLCK);
  return ::fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
}

// Whether `path` still names the file open on `fd`: an owner that was exiting may have unlinked it
// (and another hftd created a new one) between our open and our lock.
bool names_same_file(int fd, const std::string& path) noexcept {
  struct stat a{}, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// What a held file says of its owner: "pid N" and how old its heartbeat is, when its header is
// complete; an owner still creating it has not written them yet.
struct OwnerInfo {
  std::int32_t pid = 0;
  std::uint64_t heartbeat_age_ns = 0;
};
std::optional<OwnerInfo> read_owner(int fd) noexcept {
  struct stat st{};
  if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(Header)) return std::nullopt;
  void* mem = ::mmap(nullptr, sizeof(Header), PROT_READ, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) return std::nullopt;
  const auto* h = static_cast<const Header*>(mem);
  std::optional<OwnerInfo> out;
  if (std::memcmp(h->magic, kMagic, sizeof kMagic) == 0) {
    const std::uint64_t hb = h->heartbeat_realtime_ns.load(std::memory_order_acquire);
    const std::uint64_t now = realtime_ns();
    out = OwnerInfo{h->pid, now > hb ? now - hb : 0};
  }
  ::munmap(mem, sizeof(Header));
  return out;
}

}  // namespace

std::string control_dir() {
  const char* env = std::getenv("HFT_CONTROL_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string("/dev/shm");
}

std::string control_path(std::string_view instance, std::string_view dir) {
  return fmt::format("{}/hftd.{}", dir.empty() ? control_dir() : std::string(dir), instance);
}

ControlFile::ControlFile(std::string_view instance, const ControlSizes& sizes, const core::HistogramLayout& hl,
                         std::string_view dir)
    : path_(control_path(instance, dir)) {
  // Sections, each 64-byte aligned.
  std::uint64_t off = 4096;
  const std::uint32_t counters_off = align64(off);
  off = counters_off + std::uint64_t{sizes.counters} * sizeof(CounterSlot);
  const std::uint32_t hist_bytes = align64(sizeof(HistogramHeader) + std::uint64_t{hl.counts_len} * 8);
  const std::uint32_t hist_off = align64(off);
  off = hist_off + std::uint64_t{sizes.histograms} * hist_bytes;
  const std::uint32_t threads_off = align64(off);
  off = threads_off + std::uint64_t{sizes.threads} * sizeof(ThreadSlot);
  const std::uint32_t positions_off = align64(off);
  off = positions_off + std::uint64_t{sizes.positions} * sizeof(PositionSlot);
  const std::uint32_t risk_off = align64(off);
  off = risk_off + sizeof(RiskBlock);
  const std::uint32_t feed_off = align64(off);
  off = feed_off + sizeof(FeedBlock);
  const std::uint32_t oe_off = align64(off);
  off = oe_off + sizeof(OrderEntryBlock);
  const std::uint32_t commands_off = align64(off);
  off = commands_off + std::uint64_t{sizes.commands} * sizeof(CommandSlot);
  const std::uint32_t algos_off = align64(off);
  off = algos_off + std::uint64_t{sizes.algos} * sizeof(AlgoSlot);
  const std::uint32_t strategies_off = align64(off);
  off = strategies_off + std::uint64_t{sizes.strategies} * sizeof(StrategySlot);
  size_ = align64(off);

  // Own the instance: open (or create) the file and take its lock. Held: a living hftd owns the
  // name, refused whatever its heartbeat says. Free: the file (if any) is a dead owner's, reused.
  int fd = -1;
  for (int attempt = 0;; ++attempt) {
    fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot create the control file: {}", path_, err(errno)));
    const bool locked = try_lock(fd);
    const int lock_error = errno;
    if (!names_same_file(fd, path_) && attempt < 100) {  // unlinked under us by an exiting owner
      ::close(fd);
      continue;
    }
    if (locked) break;
    ::close(fd);
    if (lock_error != EAGAIN && lock_error != EACCES)
      throw std::runtime_error(fmt::format("{}: cannot lock the control file: {}", path_, err(lock_error)));
    const int again = ::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    const auto owner = again >= 0 ? read_owner(again) : std::nullopt;
    if (again >= 0) ::close(again);
    throw std::runtime_error(
        owner ? fmt::format("{}: hftd instance '{}' is already running (pid {}); it holds the instance lock until it "
                            "exits{}; stop it or pick another `instance`",
                            path_, instance, owner->pid,
                            owner->heartbeat_age_ns >= kStaleHeartbeatNs
                                ? fmt::format(" (its heartbeat is {:.1f} s old: stopped or hung)",
                                              static_cast<double>(owner->heartbeat_age_ns) / 1e9)
                                : std::string())
              : fmt::format("{}: hftd instance '{}' is already running (pid not yet written: it is starting); stop it "
                            "or pick another `instance`",
                            path_, instance));
  }
  // A dead owner's file is reused in place, never shrunk: a reader still mapping it must not
  // fault past a new end. Its magic goes first, so a reader attaching meanwhile refuses it.
  struct stat st{};
  if (::fstat(fd, &st) != 0 || (static_cast<std::uint64_t>(st.st_size) < size_ && ::ftruncate(fd, static_cast<off_t>(size_)) != 0)) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot size the control file: {}", path_, err(e)));
  }
  void* mem = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot map the control file: {}", path_, err(e)));
  }
  lock_fd_ = fd;
  base_ = static_cast<std::uint8_t*>(mem);
  std::memset(base_, 0, sizeof kMagic);
  std::atomic_thread_fence(std::memory_order_release);
  std::memset(base_ + sizeof kMagic, 0, size_ - sizeof kMagic);
  header_ = new (base_) Header{};
  Header& h = *header_;
  h.layout_version = kLayoutVersion;
  h.header_bytes = sizeof(Header);
  h.total_bytes = size_;
  h.pid = static_cast<std::int32_t>(::getpid());
  h.uid = static_cast<std::uint32_t>(::getuid());
  h.start_realtime_ns = realtime_ns();
  h.heartbeat_realtime_ns.store(h.start_realtime_ns, std::memory_order_relaxed);
  h.state.store(static_cast<std::uint32_t>(DaemonState::kStarting), std::memory_order_relaxed);
  put_text(h.instance, instance);
  h.counter_slots = sizes.counters;
  h.counters_offset = counters_off;
  h.histogram_slots = sizes.histograms;
  h.histograms_offset = hist_off;
  h.histogram_counts_len = hl.counts_len;
  h.histogram_bytes = hist_bytes;
  h.histogram_lowest = hl.lowest_discernible;
  h.histogram_highest = hl.highest_trackable;
  h.histogram_digits = static_cast<std::uint32_t>(hl.significant_figures);
  h.thread_slots = sizes.threads;
  h.threads_offset = threads_off;
  h.position_slots = sizes.positions;
  h.positions_offset = positions_off;
  h.risk_offset = risk_off;
  h.feed_offset = feed_off;
  h.order_entry_offset = oe_off;
  h.command_slots = sizes.commands;
  h.commands_offset = commands_off;
  h.algo_slots = sizes.algos;
  h.algos_offset = algos_off;
  h.strategy_slots = sizes.strategies;
  h.strategies_offset = strategies_off;
  // The magic goes in last: a reader that sees it sees a complete header.
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(h.magic, kMagic, sizeof kMagic);
}

ControlFile::~ControlFile() {
  if (base_ != nullptr) {
    set_state(DaemonState::kStopped);
    ::munmap(base_, size_);
    // Unlinked while the lock is still held, so the path names our file: a newcomer that opened
    // it meanwhile sees the path gone (or another file) once it has the lock, and starts over.
    ::unlink(path_.c_str());
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

CounterSlot* ControlFile::counter(std::string_view name, CounterKind kind) noexcept {
  if (next_counter_ >= header_->counter_slots) return nullptr;
  CounterSlot* c = at<CounterSlot>(header_->counters_offset) + next_counter_++;
  put_text(c->name, name);
  c->kind = kind;
  c->value.store(0, std::memory_order_relaxed);
  c->used = 1;
  return c;
}

std::span<std::uint64_t> ControlFile::histogram(std::string_view name) noexcept {
  if (next_histogram_ >= header_->histogram_slots) return {};
  std::uint8_t* block = base_ + header_->histograms_offset + std::uint64_t{next_histogram_++} * header_->histogram_bytes;
  auto* hh = reinterpret_cast<HistogramHeader*>(block);
  put_text(hh->name, name);
  hh->used = 1;
  return {reinterpret_cast<std::uint64_t*>(block + sizeof(HistogramHeader)), header_->histogram_counts_len};
}

ThreadSlot* ControlFile::thread_slot(std::uint32_t i) noexcept {
  return i < header_->thread_slots ? at<ThreadSlot>(header_->threads_offset) + i : nullptr;
}
PositionSlot* ControlFile::position_slot(std::uint32_t i) noexcept {
  return i < header_->position_slots ? at<PositionSlot>(header_->positions_offset) + i : nullptr;
}
RiskBlock& ControlFile::risk() noexcept { return *at<RiskBlock>(header_->risk_offset); }
FeedBlock& ControlFile::feed() noexcept { return *at<FeedBlock>(header_->feed_offset); }
OrderEntryBlock& ControlFile::order_entry() noexcept { return *at<OrderEntryBlock>(header_->order_entry_offset); }
CommandSlot* ControlFile::command_slot(std::uint32_t i) noexcept {
  return i < header_->command_slots ? at<CommandSlot>(header_->commands_offset) + i : nullptr;
}
AlgoSlot* ControlFile::algo_slot(std::uint32_t i) noexcept {
  return i < header_->algo_slots ? at<AlgoSlot>(header_->algos_offset) + i : nullptr;
}
StrategySlot* ControlFile::strategy_slot(std::uint32_t i) noexcept {
  return i < header_->strategy_slots ? at<StrategySlot>(header_->strategies_offset) + i : nullptr;
}

void ControlFile::heartbeat() noexcept { header_->heartbeat_realtime_ns.store(realtime_ns(), std::memory_order_release); }

// ---- reader ------------------------------------------------------------------------------------

ControlReader::ControlReader(std::string_view instance, std::string_view dir, bool allow_stale)
    : path_(control_path(instance, dir)) {
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      const auto others = list_instances(dir);
      std::string known;
      for (const auto& o : others) known += (known.empty() ? "" : ", ") + o;
      throw std::runtime_error(fmt::format("no hftd instance '{}' is running (no {}){}", instance, path_,
                                           others.empty() ? std::string() : "; running instances: " + known));
    }
    if (e == EACCES) throw std::runtime_error(fmt::format("{}: permission denied (the file is owned by another user)", path_));
    throw std::runtime_error(fmt::format("{}: {}", path_, err(e)));
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0 || st.st_uid != ::getuid()) {
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: owned by uid {}, not by this user (uid {}): refused; run hftctl as the "
                                         "user that runs hftd",
                                         path_, st.st_uid, ::getuid()));
  }
  if (static_cast<std::size_t>(st.st_size) < sizeof(Header)) {
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: too short to be an hftd control file ({} bytes)", path_, st.st_size));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  void* mem = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  if (mem == MAP_FAILED) {
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot map: {}", path_, err(e)));
  }
  fd_ = fd;  // kept open to ask whether the owner still holds the instance lock
  base_ = static_cast<std::uint8_t*>(mem);
  header_ = reinterpret_cast<const Header*>(base_);
  if (std::memcmp(header_->magic, kMagic, sizeof kMagic) != 0) {
    release();
    throw std::runtime_error(fmt::format("{}: not an hftd control file (bad magic), or one still being created", path_));
  }
  if (header_->layout_version != kLayoutVersion) {
    const auto v = header_->layout_version;
    release();
    throw std::runtime_error(fmt::format("{}: layout version {} but this hftctl reads version {}: use the hftctl built "
                                         "with that hftd",
                                         path_, v, kLayoutVersion));
  }
  if (header_->total_bytes > size_) {
    release();
    throw std::runtime_error(fmt::format("{}: truncated control file", path_));
  }
  // Every section must lie inside the mapping before anything is read through it: a damaged or
  // foreign file is refused here, never read out of bounds.
  std::string bad;
  try {
    layout_ = core::HistogramLayout::make(header_->histogram_lowest, header_->histogram_highest,
                                          static_cast<int>(header_->histogram_digits));
    bad = check_sections();
  } catch (const std::invalid_argument& invalid) {
    bad = invalid.what();
  }
  if (!bad.empty()) {
    release();
    throw std::runtime_error(fmt::format("{}: corrupt control file: {}", path_, bad));
  }
  if (!allow_stale && !alive()) {
    const bool dead = !owned();
    const auto pid = header_->pid;
    const auto age = heartbeat_age_ns();
    release();
    throw std::runtime_error(dead ? fmt::format("{}: stale control file: its hftd (pid {}) is gone; remove the file "
                                                "or start hftd again",
                                                path_, pid)
                                  : fmt::format("{}: stale control file: hftd pid {} has not updated it for {:.1f} s "
                                                "(hung, or stopped with SIGSTOP); it still owns the instance",
                                                path_, pid, static_cast<double>(age) / 1e9));
  }
}

std::string ControlReader::check_sections() const {
  const Header& h = *header_;
  const std::uint64_t end = size_;
  auto fits = [&](const char* what, std::uint64_t offset, std::uint64_t count, std::uint64_t bytes) -> std::string {
    if (offset < sizeof(Header) || offset % 64 != 0) return fmt::format("{} at offset {}", what, offset);
    if (count > (1u << 20) || offset + count * bytes > end)
      return fmt::format("{} ({} x {} bytes at {}) past the end ({} bytes)", what, count, bytes, offset, end);
    return {};
  };
  if (h.histogram_counts_len != layout_.counts_len)
    return fmt::format("histogram counts {} but its layout needs {}", h.histogram_counts_len, layout_.counts_len);
  if (h.histogram_bytes < sizeof(HistogramHeader) + std::uint64_t{h.histogram_counts_len} * 8 || h.histogram_bytes % 64 != 0)
    return fmt::format("histogram block of {} bytes", h.histogram_bytes);
  for (auto r : {fits("counters", h.counters_offset, h.counter_slots, sizeof(CounterSlot)),
                 fits("histograms", h.histograms_offset, h.histogram_slots, h.histogram_bytes),
                 fits("threads", h.threads_offset, h.thread_slots, sizeof(ThreadSlot)),
                 fits("positions", h.positions_offset, h.position_slots, sizeof(PositionSlot)),
                 fits("risk", h.risk_offset, 1, sizeof(RiskBlock)), fits("feed", h.feed_offset, 1, sizeof(FeedBlock)),
                 fits("order entry", h.order_entry_offset, 1, sizeof(OrderEntryBlock)),
                 fits("commands", h.commands_offset, h.command_slots, sizeof(CommandSlot)),
                 h.algo_slots == 0 ? std::string() : fits("algos", h.algos_offset, h.algo_slots, sizeof(AlgoSlot)),
                 h.strategy_slots == 0 ? std::string()
                                       : fits("strategies", h.strategies_offset, h.strategy_slots, sizeof(StrategySlot))})
    if (!r.empty()) return r;
  return {};
}

ControlReader::~ControlReader() { release(); }

void ControlReader::release() noexcept {
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  fd_ = -1;
}

std::uint64_t ControlReader::heartbeat_age_ns() const noexcept {
  const std::uint64_t hb = header_->heartbeat_realtime_ns.load(std::memory_order_acquire);
  const std::uint64_t now = realtime_ns();
  return now > hb ? now - hb : 0;
}

bool ControlReader::owned() const noexcept { return held_by_other(fd_); }

bool ControlReader::alive() const noexcept {
  return owned() && heartbeat_age_ns() < kStaleHeartbeatNs &&
         header_->state.load(std::memory_order_acquire) != static_cast<std::uint32_t>(DaemonState::kStopped);
}

std::vector<CounterValue> ControlReader::counters() const {
  std::vector<CounterValue> out;
  const auto* c = at<CounterSlot>(header_->counters_offset);
  for (std::uint32_t i = 0; i < header_->counter_slots; ++i)
    if (c[i].used) out.push_back({std::string(get_text(c[i].name)), c[i].kind, c[i].value.load(std::memory_order_relaxed)});
  return out;
}

std::optional<std::uint64_t> ControlReader::counter(std::string_view name) const {
  const auto* c = at<CounterSlot>(header_->counters_offset);
  for (std::uint32_t i = 0; i < header_->counter_slots; ++i)
    if (c[i].used && get_text(c[i].name) == name) return c[i].value.load(std::memory_order_relaxed);
  return std::nullopt;
}

std::vector<std::string> ControlReader::histogram_names() const {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < header_->histogram_slots; ++i) {
    const auto* hh = reinterpret_cast<const HistogramHeader*>(base_ + header_->histograms_offset + std::uint64_t{i} * header_->histogram_bytes);
    if (hh->used) out.emplace_back(get_text(hh->name));
  }
  return out;
}

std::optional<core::Histogram> ControlReader::histogram(std::string_view name) const {
  for (std::uint32_t i = 0; i < header_->histogram_slots; ++i) {
    const std::uint8_t* block = base_ + header_->histograms_offset + std::uint64_t{i} * header_->histogram_bytes;
    const auto* hh = reinterpret_cast<const HistogramHeader*>(block);
    if (!hh->used || get_text(hh->name) != name) continue;
    core::Histogram h(layout_.lowest_discernible, layout_.highest_trackable, layout_.significant_figures);
    const auto* counts = reinterpret_cast<const std::uint64_t*>(block + sizeof(HistogramHeader));
    for (std::uint32_t k = 0; k < header_->histogram_counts_len; ++k) {
      const std::uint64_t n = std::atomic_ref<const std::uint64_t>(counts[k]).load(std::memory_order_relaxed);
      if (n != 0) h.record_n(h.value_at_index(k), n);
    }
    return h;
  }
  return std::nullopt;
}

std::vector<ThreadSlot> ControlReader::threads() const {
  std::vector<ThreadSlot> out;
  const auto* t = at<ThreadSlot>(header_->threads_offset);
  for (std::uint32_t i = 0; i < header_->thread_slots; ++i) {
    ThreadSlot copy;
    if (seq_read(t[i], copy) && copy.used) out.push_back(copy);
  }
  return out;
}

std::vector<PositionSlot> ControlReader::positions() const {
  std::vector<PositionSlot> out;
  const auto* p = at<PositionSlot>(header_->positions_offset);
  for (std::uint32_t i = 0; i < header_->position_slots; ++i) {
    PositionSlot copy;
    if (seq_read(p[i], copy) && copy.used) out.push_back(copy);
  }
  return out;
}

std::vector<AlgoSlot> ControlReader::algos() const {
  std::vector<AlgoSlot> out;
  const auto* p = at<AlgoSlot>(header_->algos_offset);
  for (std::uint32_t i = 0; i < header_->algo_slots; ++i) {
    AlgoSlot copy;
    if (seq_read(p[i], copy) && copy.used) out.push_back(copy);
  }
  return out;
}

std::vector<StrategySlot> ControlReader::strategies() const {
  std::vector<StrategySlot> out;
  const auto* p = at<StrategySlot>(header_->strategies_offset);
  for (std::uint32_t i = 0; i < header_->strategy_slots; ++i) {
    StrategySlot copy;
    if (seq_read(p[i], copy) && copy.used) out.push_back(copy);
  }
  return out;
}

RiskBlock ControlReader::risk() const {
  RiskBlock b;
  seq_read(*at<RiskBlock>(header_->risk_offset), b);
  return b;
}
FeedBlock ControlReader::feed() const {
  FeedBlock b;
  seq_read(*at<FeedBlock>(header_->feed_offset), b);
  return b;
}
OrderEntryBlock ControlReader::order_entry() const {
  OrderEntryBlock b;
  seq_read(*at<OrderEntryBlock>(header_->order_entry_offset), b);
  return b;
}

CommandResult ControlReader::command(CommandOp op, std::string_view key, std::string_view value, int timeout_ms) {
  auto* slots = reinterpret_cast<CommandSlot*>(base_ + header_->commands_offset);
  CommandSlot* slot = nullptr;
  for (std::uint32_t i = 0; i < header_->command_slots && slot == nullptr; ++i) {
    std::uint32_t expected = static_cast<std::uint32_t>(CommandState::kFree);
    if (slots[i].state.compare_exchange_strong(expected, static_cast<std::uint32_t>(CommandState::kClaimed),
                                               std::memory_order_acq_rel))
      slot = &slots[i];
  }
  if (slot == nullptr) return {false, "every command slot is busy; try again"};
  slot->claimed_realtime_ns = realtime_ns();
  slot->op = op;
  slot->ok = 0;
  put_text(slot->key, key);
  put_text(slot->value, value);
  slot->result[0] = '\0';
  slot->state.store(static_cast<std::uint32_t>(CommandState::kPending), std::memory_order_release);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (slot->state.load(std::memory_order_acquire) != static_cast<std::uint32_t>(CommandState::kDone)) {
    if (std::chrono::steady_clock::now() > deadline) {
      // Withdraw a command the daemon has not taken yet, so it cannot take effect after we have
      // reported failure. Once taken, its outcome lands in the slot (freed by the daemon later).
      std::uint32_t expected = static_cast<std::uint32_t>(CommandState::kPending);
      if (slot->state.compare_exchange_strong(expected, static_cast<std::uint32_t>(CommandState::kFree),
                                              std::memory_order_acq_rel))
        return {false, fmt::format("no answer from hftd pid {} within {} ms; the command was withdrawn and not "
                                   "applied",
                                   header_->pid, timeout_ms)};
      if (expected != static_cast<std::uint32_t>(CommandState::kDone))
        return {false, fmt::format("hftd pid {} took the command but did not answer within {} ms; its outcome is "
                                   "unknown (see hftd's log)",
                                   header_->pid, timeout_ms)};
      break;  // answered just now
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CommandResult r{slot->ok != 0, std::string(get_text(slot->result))};
  slot->state.store(static_cast<std::uint32_t>(CommandState::kFree), std::memory_order_release);
  return r;
}

std::vector<std::string> ControlReader::list_instances(std::string_view dir) {
  std::vector<std::string> out;
  const std::string d = dir.empty() ? control_dir() : std::string(dir);
  DIR* dp = ::opendir(d.c_str());
  if (dp == nullptr) return out;
  while (dirent* e = ::readdir(dp)) {
    const std::string_view n(e->d_name);
    if (n.rfind("hftd.", 0) == 0 && n.size() > 5) out.emplace_back(n.substr(5));
  }
  ::closedir(dp);
  return out;
}

}  // namespace hft::control
