#include "core/arena.hpp"

#include <gtest/gtest.h>
#include <numaif.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace hft::core {
namespace {

ArenaOptions opts(PageMode mode, std::size_t mib = 8) {
  ArenaOptions o;
  o.bytes = mib << 20;
  o.mode = mode;
  return o;
}

long read_long(const char* path) {
  std::ifstream f(path);
  long v = -1;
  f >> v;
  return v;
}

bool write_long(const char* path, long v) {
  std::ofstream f(path);
  f << v;
  f.close();
  return !f.fail();
}

// Reserves `pages` 2 MiB hugetlb pages for the test's duration when the process may (root), and
// puts the old reservation back afterwards.
class HugetlbReservation {
 public:
  explicit HugetlbReservation(long pages) {
    old_ = read_long("/proc/sys/vm/nr_hugepages");
    if (old_ < 0) return;
    if (static_cast<long>(free_hugetlb_pages()) >= pages) {
      ok_ = true;
      return;
    }
    changed_ = write_long("/proc/sys/vm/nr_hugepages", old_ + pages);
    ok_ = changed_ && static_cast<long>(free_hugetlb_pages()) >= pages;
  }
  ~HugetlbReservation() {
    if (changed_) write_long("/proc/sys/vm/nr_hugepages", old_);
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  long old_ = -1;
  bool changed_ = false;
  bool ok_ = false;
};

TEST(Arena, NormalPagesWhenForced) {
  Arena a(opts(PageMode::kNormal));
  EXPECT_EQ(a.report().outcome, PageOutcome::kNormal);
  EXPECT_EQ(a.report().page_bytes, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
  EXPECT_GE(a.capacity(), 8u << 20);
  EXPECT_TRUE(a.report().prefaulted);
}

TEST(Arena, TransparentHugepagesWhenForced) {
  Arena a(opts(PageMode::kThp));
  EXPECT_EQ(a.report().outcome, PageOutcome::kThp) << a.report().describe();
  EXPECT_EQ(a.report().page_bytes, 2u << 20);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.base()) % (2u << 20), 0u) << "THP needs a 2 MiB aligned range";
  EXPECT_EQ(a.capacity() % (2u << 20), 0u);
}

TEST(Arena, HugetlbPagesWhenReserved) {
  HugetlbReservation reservation(8);
  if (!reservation.ok()) GTEST_SKIP() << "cannot reserve hugetlb pages here (needs root and free memory)";
  Arena a(opts(PageMode::kHugetlb, 8));
  EXPECT_EQ(a.report().outcome, PageOutcome::kHugetlb) << a.report().describe();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.base()) % (2u << 20), 0u);
  auto data = a.allocate_array<std::uint64_t>(1000);
  ASSERT_EQ(data.size(), 1000u);
  data[999] = 42;
  EXPECT_EQ(data[999], 42u);
}

TEST(Arena, RequiredHugetlbFailsClearlyWhenTooFewPages) {
  // Far more pages than any test host reserves: the mmap is refused up front.
  try {
    Arena a(opts(PageMode::kHugetlb, 64u << 10));
    FAIL() << "expected a refusal, got " << a.report().describe();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("hugetlb"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nr_hugepages"), std::string::npos) << e.what();
  }
}

TEST(Arena, AutoFallsBackFromHugetlbAndSaysWhy) {
  // Ask for one page more than the host has free, so hugetlb must be refused and auto must fall
  // back to THP and note why.
  const std::size_t pages = free_hugetlb_pages() + 1;
  if (pages > 2048) GTEST_SKIP() << "host has more than 4 GiB of free hugetlb pages";
  ArenaOptions o = opts(PageMode::kAuto, pages * 2);
  o.lock = false;
  Arena a(o);
  EXPECT_EQ(a.report().outcome, PageOutcome::kThp);
  EXPECT_NE(a.report().notes.find("hugetlb"), std::string::npos) << a.report().describe();
}

TEST(Arena, WithoutPrefaultNothingIsTouched) {
  ArenaOptions o = opts(PageMode::kNormal, 2);
  o.prefault = false;
  o.lock = false;
  Arena a(o);
  EXPECT_FALSE(a.report().prefaulted);
  EXPECT_FALSE(a.report().locked);
}

TEST(Arena, AllocationsAreAlignedAndBounded) {
  Arena a(opts(PageMode::kNormal, 2));
  void* p1 = a.allocate(3, 1);
  void* p2 = a.allocate(100, 64);
  void* p3 = a.allocate(8, 4096);
  ASSERT_NE(p1, nullptr);
  ASSERT_NE(p2, nullptr);
  ASSERT_NE(p3, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p2) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p3) % 4096, 0u);
  EXPECT_GT(p2, p1);
  EXPECT_EQ(a.allocate(8, 3), nullptr) << "alignment must be a power of two";
  EXPECT_EQ(a.allocate(a.capacity(), 1), nullptr) << "exhaustion returns nullptr, never overflows";
  EXPECT_LE(a.used(), a.capacity());
  auto big = a.allocate_array<std::uint64_t>(a.capacity());
  EXPECT_TRUE(big.empty());
}

TEST(Arena, BindsToTheRequestedNumaNode) {
  ArenaOptions o = opts(PageMode::kNormal, 4);
  o.numa_node = 0;
  Arena a(o);
  ASSERT_TRUE(a.report().numa_bound) << a.report().describe();
  EXPECT_EQ(a.report().numa_node, 0);
  int mode = -1;
  unsigned long mask[16] = {};
  ASSERT_EQ(::get_mempolicy(&mode, mask, sizeof(mask) * 8, a.base(), MPOL_F_ADDR), 0);
  EXPECT_EQ(mode, MPOL_BIND);
  EXPECT_EQ(mask[0] & 1ul, 1ul) << "node 0 in the policy's node mask";
  int node = -1;
  ASSERT_EQ(::get_mempolicy(&node, nullptr, 0, a.base(), MPOL_F_NODE | MPOL_F_ADDR), 0);
  EXPECT_EQ(node, 0) << "the pre-faulted page lives on node 0";
}

TEST(Arena, NonexistentNumaNodeIsReportedNotFatal) {
  ArenaOptions o = opts(PageMode::kNormal, 2);
  o.numa_node = 1000;
  Arena a(o);
  EXPECT_FALSE(a.report().numa_bound);
  EXPECT_NE(a.report().notes.find("numa"), std::string::npos) << a.report().describe();
}

TEST(Arena, LockOutcomeIsReported) {
  Arena a(opts(PageMode::kNormal, 2));
  if (!a.report().locked) {
    EXPECT_NE(a.report().notes.find("mlock"), std::string::npos) << a.report().describe();
  }
  EXPECT_NE(a.report().describe().find("MiB"), std::string::npos);
}

TEST(Arena, ParsesPageModes) {
  PageMode m{};
  EXPECT_TRUE(parse_page_mode("thp", m));
  EXPECT_EQ(m, PageMode::kThp);
  EXPECT_TRUE(parse_page_mode("hugetlb", m));
  EXPECT_EQ(m, PageMode::kHugetlb);
  EXPECT_FALSE(parse_page_mode("huge", m));
}

}  // namespace
}  // namespace hft::core
