#include "pipeline/control/control_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
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

bool pid_alive(std::int32_t pid) noexcept { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string err(int e) { return fmt::format("{} ({})", std::strerror(e), e); }

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
  size_ = align64(off);

  // A leftover file: replace it if its process is gone, refuse if it is alive.
  if (::access(path_.c_str(), F_OK) == 0) {
    try {
      ControlReader old(instance, dir, true);
      if (old.alive())
        throw std::runtime_error(fmt::format("{}: hftd instance '{}' is already running (pid {}); stop it or pick "
                                             "another `instance`",
                                             path_, instance, old.header().pid));
    } catch (const std::runtime_error& e) {
      if (std::string_view(e.what()).find("already running") != std::string_view::npos) throw;
    }
    ::unlink(path_.c_str());
  }
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot create the control file: {}", path_, err(errno)));
  if (::ftruncate(fd, static_cast<off_t>(size_)) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(path_.c_str());
    throw std::runtime_error(fmt::format("{}: cannot size the control file: {}", path_, err(e)));
  }
  void* mem = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (mem == MAP_FAILED) {
    ::unlink(path_.c_str());
    throw std::runtime_error(fmt::format("{}: cannot map the control file: {}", path_, err(e)));
  }
  base_ = static_cast<std::uint8_t*>(mem);
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
  // The magic goes in last: a reader that sees it sees a complete header.
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(h.magic, kMagic, sizeof kMagic);
}

ControlFile::~ControlFile() {
  if (base_ != nullptr) {
    set_state(DaemonState::kStopped);
    ::munmap(base_, size_);
    ::unlink(path_.c_str());
  }
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
  ::close(fd);
  if (mem == MAP_FAILED) throw std::runtime_error(fmt::format("{}: cannot map: {}", path_, err(e)));
  base_ = static_cast<std::uint8_t*>(mem);
  header_ = reinterpret_cast<const Header*>(base_);
  if (std::memcmp(header_->magic, kMagic, sizeof kMagic) != 0) {
    ::munmap(base_, size_);
    base_ = nullptr;
    throw std::runtime_error(fmt::format("{}: not an hftd control file (bad magic), or one still being created", path_));
  }
  if (header_->layout_version != kLayoutVersion) {
    const auto v = header_->layout_version;
    ::munmap(base_, size_);
    base_ = nullptr;
    throw std::runtime_error(fmt::format("{}: layout version {} but this hftctl reads version {}: use the hftctl built "
                                         "with that hftd",
                                         path_, v, kLayoutVersion));
  }
  if (header_->total_bytes > size_) {
    ::munmap(base_, size_);
    base_ = nullptr;
    throw std::runtime_error(fmt::format("{}: truncated control file", path_));
  }
  layout_ = core::HistogramLayout::make(header_->histogram_lowest, header_->histogram_highest,
                                        static_cast<int>(header_->histogram_digits));
  if (!allow_stale && !alive()) {
    const bool dead = !pid_alive(header_->pid);
    const auto pid = header_->pid;
    const auto age = heartbeat_age_ns();
    ::munmap(base_, size_);
    base_ = nullptr;
    throw std::runtime_error(dead ? fmt::format("{}: stale control file: its hftd (pid {}) is gone; remove the file "
                                                "or start hftd again",
                                                path_, pid)
                                  : fmt::format("{}: stale control file: hftd pid {} has not updated it for {:.1f} s "
                                                "(hung, or stopped with SIGSTOP)",
                                                path_, pid, static_cast<double>(age) / 1e9));
  }
}

ControlReader::~ControlReader() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

std::uint64_t ControlReader::heartbeat_age_ns() const noexcept {
  const std::uint64_t hb = header_->heartbeat_realtime_ns.load(std::memory_order_acquire);
  const std::uint64_t now = realtime_ns();
  return now > hb ? now - hb : 0;
}

bool ControlReader::alive() const noexcept {
  return pid_alive(header_->pid) && heartbeat_age_ns() < kStaleHeartbeatNs &&
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
      // Leave it pending: the daemon frees slots nobody collects. Say so.
      return {false, fmt::format("no answer from hftd pid {} within {} ms", header_->pid, timeout_ms)};
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
