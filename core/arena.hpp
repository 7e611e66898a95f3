#pragma once
// Start-up memory arena: one mapping, backed by 2 MiB hugetlb pages when the host has them
// reserved, else transparent hugepages (madvise), else normal pages. Bound to a NUMA node,
// pre-faulted and locked so the hot path never takes a page fault. Allocation is a bump pointer;
// nothing is freed until the arena goes away.
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace hft::core {

// What the configuration asks for. kAuto walks hugetlb -> THP -> normal; the others start the
// walk lower down (kThp, kNormal) or refuse to fall back at all (kHugetlb).
enum class PageMode : std::uint8_t { kAuto, kHugetlb, kThp, kNormal };
// What the arena got.
enum class PageOutcome : std::uint8_t { kHugetlb, kThp, kNormal };

[[nodiscard]] std::string_view to_string(PageMode mode) noexcept;
[[nodiscard]] std::string_view to_string(PageOutcome outcome) noexcept;
// Parses "auto", "hugetlb", "thp" or "normal"; returns false on anything else.
[[nodiscard]] bool parse_page_mode(std::string_view text, PageMode& out) noexcept;

struct ArenaOptions {
  std::size_t bytes = 64u << 20;
  PageMode mode = PageMode::kAuto;
  int numa_node = -1;   // -1: the node of the CPU the constructing thread runs on
  bool prefault = true; // touch every page now rather than on the hot path
  bool lock = true;     // mlock; failure is reported, not fatal
};

struct ArenaReport {
  PageOutcome outcome = PageOutcome::kNormal;
  std::size_t mapped_bytes = 0;       // rounded up to the page size used
  std::size_t page_bytes = 0;         // 2 MiB for hugetlb and THP, else the base page size
  std::size_t thp_backed_bytes = 0;   // AnonHugePages of the mapping after pre-faulting (THP only)
  int numa_node = -1;                 // node the memory is bound to, -1 if not bound
  bool numa_bound = false;
  bool prefaulted = false;
  bool locked = false;
  std::string notes;                  // why each faster option was not used, and lock failures

  [[nodiscard]] std::string describe() const;
};

class Arena {
 public:
  // Throws std::runtime_error when no mapping at all can be made, or when kHugetlb is required
  // and the host has no free hugetlb pages.
  explicit Arena(const ArenaOptions& options);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Bump allocation; returns nullptr when the arena is exhausted (the caller reports it).
  [[nodiscard]] void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept;

  // Value-initialised array of n T; empty span when exhausted.
  template <class T>
  [[nodiscard]] std::span<T> allocate_array(std::size_t n) noexcept {
    static_assert(std::is_trivially_destructible_v<T>, "arena memory is never destroyed element-wise");
    void* p = allocate(n * sizeof(T), alignof(T) < 64 ? 64 : alignof(T));
    if (p == nullptr) return {};
    T* first = static_cast<T*>(p);
    for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(first + i)) T();
    return {first, n};
  }

  // Constructs a T in the arena. T's destructor is never run, so T must not own other resources.
  template <class T, class... Args>
  [[nodiscard]] T* create(Args&&... args) {
    void* p = allocate(sizeof(T), alignof(T) < 64 ? 64 : alignof(T));
    if (p == nullptr) return nullptr;
    return ::new (p) T(std::forward<Args>(args)...);
  }

  [[nodiscard]] const ArenaReport& report() const noexcept { return report_; }
  [[nodiscard]] std::size_t used() const noexcept { return used_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return report_.mapped_bytes; }
  [[nodiscard]] std::byte* base() const noexcept { return base_; }
  [[nodiscard]] bool contains(const void* p) const noexcept {
    auto* b = static_cast<const std::byte*>(p);
    return b >= base_ && b < base_ + report_.mapped_bytes;
  }

 private:
  std::byte* base_ = nullptr;
  std::size_t used_ = 0;
  ArenaReport report_;
};

// Free hugetlb pages of the default size (HugePages_Free in /proc/meminfo), 0 if unknown.
[[nodiscard]] std::size_t free_hugetlb_pages() noexcept;

}  // namespace hft::core
