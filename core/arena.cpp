#include "core/arena.hpp"

#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace hft::core {
namespace {

constexpr std::size_t kHugePage = 2u << 20;  // x86-64 PMD-level page

std::size_t round_up(std::size_t v, std::size_t to) { return (v + to - 1) / to * to; }

std::string errno_text(int err) { return fmt::format("{} ({})", std::strerror(err), err); }

void append_note(std::string& notes, const std::string& note) {
  if (!notes.empty()) notes += "; ";
  notes += note;
}

// Sum of AnonHugePages over the smaps entries that overlap [begin, end).
std::size_t thp_backed_bytes(const std::byte* begin, std::size_t len) {
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) return 0;
  const auto lo = reinterpret_cast<std::uintptr_t>(begin);
  const auto hi = lo + len;
  std::string line;
  bool inside = false;
  std::size_t total_kb = 0;
  while (std::getline(smaps, line)) {
    unsigned long a = 0, b = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> a >> dash >> b && dash == '-') {
      inside = a < hi && b > lo;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) {
      std::istringstream v(line.substr(14));
      std::size_t kb = 0;
      v >> kb;
      total_kb += kb;
    }
  }
  return total_kb * 1024;
}

}  // namespace

std::string_view to_string(PageMode mode) noexcept {
  switch (mode) {
    case PageMode::kAuto: return "auto";
    case PageMode::kHugetlb: return "hugetlb";
    case PageMode::kThp: return "thp";
    case PageMode::kNormal: return "normal";
  }
  return "?";
}

std::string_view to_string(PageOutcome outcome) noexcept {
  switch (outcome) {
    case PageOutcome::kHugetlb: return "hugetlb";
    case PageOutcome::kThp: return "thp";
    case PageOutcome::kNormal: return "normal";
  }
  return "?";
}

bool parse_page_mode(std::string_view text, PageMode& out) noexcept {
  for (PageMode m : {PageMode::kAuto, PageMode::kHugetlb, PageMode::kThp, PageMode::kNormal}) {
    if (text == to_string(m)) {
      out = m;
      return true;
    }
  }
  return false;
}

std::size_t free_hugetlb_pages() noexcept {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::size_t value = 0;
  while (meminfo >> key) {
    if (key == "HugePages_Free:") {
      meminfo >> value;
      return value;
    }
    meminfo.ignore(256, '\n');
  }
  return 0;
}

std::string ArenaReport::describe() const {
  std::string s = fmt::format("{} MiB on {} pages", mapped_bytes >> 20, to_string(outcome));
  if (outcome == PageOutcome::kThp) s += fmt::format(" ({} MiB THP-backed)", thp_backed_bytes >> 20);
  s += numa_bound ? fmt::format(", NUMA node {}", numa_node) : std::string(", no NUMA binding");
  s += prefaulted ? ", pre-faulted" : ", not pre-faulted";
  s += locked ? ", locked" : ", not locked";
  if (!notes.empty()) s += " [" + notes + "]";
  return s;
}

Arena::Arena(const ArenaOptions& options) {
  if (options.bytes == 0) throw std::invalid_argument("arena size must be > 0");
  const std::size_t base_page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* mem = MAP_FAILED;
  std::size_t len = 0;

  const bool try_hugetlb = options.mode == PageMode::kAuto || options.mode == PageMode::kHugetlb;
  const bool try_thp = options.mode == PageMode::kAuto || options.mode == PageMode::kThp;

  if (try_hugetlb) {
    len = round_up(options.bytes, kHugePage);
    // Without MAP_NORESERVE the kernel reserves the pages at mmap time, so a host with too few
    // free hugetlb pages refuses here instead of raising SIGBUS at the first touch.
    mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (mem != MAP_FAILED) {
      report_.outcome = PageOutcome::kHugetlb;
      report_.page_bytes = kHugePage;
    } else {
      const int err = errno;
      const std::string why = fmt::format("hugetlb: {} for {} pages of 2 MiB, {} free (reserve with "
                                          "vm.nr_hugepages)",
                                          errno_text(err), len / kHugePage, free_hugetlb_pages());
      if (options.mode == PageMode::kHugetlb) throw std::runtime_error("arena: " + why);
      append_note(report_.notes, why);
    }
  }

  if (mem == MAP_FAILED && try_thp) {
    // Over-map by one huge page so the usable range can start on a 2 MiB boundary, which THP
    // needs to back it with PMD mappings.
    len = round_up(options.bytes, kHugePage);
    void* raw = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw != MAP_FAILED) {
      auto addr = reinterpret_cast<std::uintptr_t>(raw);
      const std::uintptr_t aligned = round_up(addr, kHugePage);
      if (aligned > addr) ::munmap(raw, aligned - addr);
      const std::uintptr_t end = aligned + len;
      const std::uintptr_t raw_end = addr + len + kHugePage;
      if (raw_end > end) ::munmap(reinterpret_cast<void*>(end), raw_end - end);
      mem = reinterpret_cast<void*>(aligned);
      if (::madvise(mem, len, MADV_HUGEPAGE) == 0) {
        report_.outcome = PageOutcome::kThp;
        report_.page_bytes = kHugePage;
      } else {
        const int err = errno;
        append_note(report_.notes, fmt::format("thp: madvise(MADV_HUGEPAGE) {}", errno_text(err)));
        report_.outcome = PageOutcome::kNormal;
        report_.page_bytes = base_page;
      }
    } else {
      const int err = errno;
      append_note(report_.notes, fmt::format("thp: mmap {}", errno_text(err)));
    }
  }

  if (mem == MAP_FAILED) {
    len = round_up(options.bytes, base_page);
    mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      const int err = errno;
      throw std::runtime_error(fmt::format("arena: mmap of {} bytes failed: {}", len, errno_text(err)));
    }
    report_.outcome = PageOutcome::kNormal;
    report_.page_bytes = base_page;
  }

  base_ = static_cast<std::byte*>(mem);
  report_.mapped_bytes = len;

  // Bind before the first touch: mbind decides where pages land when they are faulted in.
  if (numa_available() >= 0) {
    int node = options.numa_node;
    if (node < 0) {
      const int cpu = ::sched_getcpu();
      node = cpu >= 0 ? numa_node_of_cpu(cpu) : 0;
    }
    if (node < 0 || node > numa_max_node()) {
      append_note(report_.notes, fmt::format("numa: node {} does not exist (max {})", node, numa_max_node()));
    } else {
      unsigned long mask[16] = {};
      mask[static_cast<unsigned>(node) / (8 * sizeof(unsigned long))] |=
          1ul << (static_cast<unsigned>(node) % (8 * sizeof(unsigned long)));
      if (::mbind(base_, len, MPOL_BIND, mask, sizeof(mask) * 8, MPOL_MF_STRICT) == 0) {
        report_.numa_bound = true;
        report_.numa_node = node;
      } else {
        const int err = errno;
        append_note(report_.notes, fmt::format("numa: mbind to node {} {}", node, errno_text(err)));
      }
    }
  } else {
    append_note(report_.notes, "numa: not available on this host");
  }

  if (options.prefault) {
    for (std::size_t off = 0; off < len; off += report_.page_bytes) base_[off] = std::byte{0};
    report_.prefaulted = true;
  }
  if (options.lock) {
    if (::mlock(base_, len) == 0) {
      report_.locked = true;
    } else {
      const int err = errno;
      append_note(report_.notes, fmt::format("mlock: {} (raise LimitMEMLOCK / ulimit -l)", errno_text(err)));
    }
  }
  if (report_.outcome == PageOutcome::kThp) report_.thp_backed_bytes = thp_backed_bytes(base_, len);
}

Arena::~Arena() {
  if (base_ != nullptr) ::munmap(base_, report_.mapped_bytes);
}

void* Arena::allocate(std::size_t bytes, std::size_t align) noexcept {
  if (align == 0 || (align & (align - 1)) != 0) return nullptr;
  const std::size_t start = (used_ + align - 1) & ~(align - 1);
  if (start > report_.mapped_bytes || bytes > report_.mapped_bytes - start) return nullptr;
  used_ = start + bytes;
  return base_ + start;
}

}  // namespace hft::core
