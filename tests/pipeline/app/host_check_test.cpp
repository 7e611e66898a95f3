#include "pipeline/app/host_check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace hft::app {
namespace {

namespace fs = std::filesystem;

// A fake /proc + /sys tree, so every verdict can be driven both ways.
class FakeHost {
 public:
  FakeHost() : root_(fs::temp_directory_path() / fs::path("hft_fake_host_" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
  }
  ~FakeHost() { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }
  [[nodiscard]] std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

const HostCheck& find(const std::vector<HostCheck>& v, const std::string& name) {
  for (const auto& c : v)
    if (c.name == name) return c;
  throw std::runtime_error("no check " + name);
}

TEST(HostCheck, TunedHostPasses) {
  FakeHost h;
  h.write("proc/cmdline", "BOOT_IMAGE=/vmlinuz isolcpus=2,3 nohz_full=2,3 rcu_nocbs=2,3 processor.max_cstate=1");
  h.write("sys/devices/system/cpu/isolated", "2-3");
  h.write("sys/devices/system/cpu/nohz_full", "2-3");
  h.write("proc/meminfo", "MemTotal: 1000 kB\nHugePages_Total: 64\nHugePages_Free: 64\n");
  h.write("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never");
  h.write("sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "performance");
  h.write("sys/devices/system/cpu/cpu3/cpufreq/scaling_governor", "performance");
  h.write("sys/devices/system/cpu/cpu0/cpuidle/state0/name", "POLL");
  h.write("sys/devices/system/cpu/cpu0/cpuidle/state0/latency", "0");
  h.write("sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "2");
  h.write("sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "3");
  h.write("proc/irq/default_smp_affinity", "00000000,00000003");  // CPUs 0-1: housekeeping
  const auto v = check_host(HostCheckInput{{2, 3}, 64u << 20, h.root()});
  for (const char* name : {"isolcpus", "nohz_full", "rcu_nocbs", "irqaffinity", "hugepages", "thp", "cpu governor", "c-states",
                           "irqbalance", "smt siblings"})
    EXPECT_EQ(find(v, name).verdict, Verdict::kPass) << name << ": " << find(v, name).found;
}

TEST(HostCheck, UntunedHostSaysWhatToChange) {
  FakeHost h;
  h.write("proc/cmdline", "BOOT_IMAGE=/vmlinuz quiet");
  h.write("sys/devices/system/cpu/isolated", "");
  h.write("sys/devices/system/cpu/nohz_full", "1");
  h.write("proc/meminfo", "HugePages_Total: 0\nHugePages_Free: 0\n");
  h.write("sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]");
  h.write("sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "powersave");
  h.write("sys/devices/system/cpu/cpu0/cpuidle/state2/name", "C6");  // no state0..1: stops at the gap
  h.write("sys/devices/system/cpu/cpu0/cpuidle/state0/name", "C6");
  h.write("sys/devices/system/cpu/cpu0/cpuidle/state0/latency", "133");
  h.write("sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "2,6");
  h.write("sys/devices/system/cpu/cpu6/online", "1");
  h.write("proc/4242/comm", "irqbalance");
  h.write("proc/irq/default_smp_affinity", "ff");  // every CPU takes interrupts
  const auto v = check_host(HostCheckInput{{2}, 64u << 20, h.root()});
  EXPECT_EQ(find(v, "isolcpus").verdict, Verdict::kWarn);
  EXPECT_NE(find(v, "isolcpus").advice.find("isolcpus=2"), std::string::npos);
  EXPECT_EQ(find(v, "nohz_full").verdict, Verdict::kFail) << "set, but not on the pinned cpu";
  EXPECT_EQ(find(v, "irqaffinity").verdict, Verdict::kWarn);
  EXPECT_NE(find(v, "irqaffinity").found.find("0,1,2,3,4,5,6,7"), std::string::npos) << find(v, "irqaffinity").found;
  EXPECT_NE(find(v, "irqaffinity").advice.find("irqaffinity="), std::string::npos);
  EXPECT_EQ(find(v, "hugepages").verdict, Verdict::kWarn);
  EXPECT_NE(find(v, "hugepages").advice.find("vm.nr_hugepages=32"), std::string::npos) << find(v, "hugepages").advice;
  EXPECT_EQ(find(v, "thp").verdict, Verdict::kWarn);
  EXPECT_EQ(find(v, "cpu governor").verdict, Verdict::kFail);
  EXPECT_EQ(find(v, "c-states").verdict, Verdict::kWarn);
  EXPECT_EQ(find(v, "irqbalance").verdict, Verdict::kWarn);
  EXPECT_EQ(find(v, "smt siblings").verdict, Verdict::kWarn);
  EXPECT_TRUE(any_failed(v));
  const std::string text = format_host_checks(v);
  EXPECT_NE(text.find("FAIL cpu governor"), std::string::npos) << text;
  EXPECT_NE(text.find("->"), std::string::npos);
}

TEST(HostCheck, ThisHostRunsEveryCheck) {
  const auto v = check_host(HostCheckInput{{0}, 64u << 20, ""});
  EXPECT_NO_THROW(find(v, "io_uring"));
  EXPECT_NO_THROW(find(v, "memlock"));
  EXPECT_NO_THROW(find(v, "irqaffinity"));
  EXPECT_GE(v.size(), 12u);
}

}  // namespace
}  // namespace hft::app
