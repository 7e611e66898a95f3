#pragma once
// Host topology (hwloc) and thread placement: which CPUs share a core, a cache or a NUMA node,
// which are isolated from the scheduler, and how to pin, name and prioritise a thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hft::core {

struct CpuInfo {
  int os_index = -1;          // the kernel's CPU number
  int core = -1;              // hwloc logical core index
  int package = -1;
  int numa_node = -1;
  std::vector<int> smt_siblings;  // other CPUs of the same core
  bool isolated = false;          // in /sys/devices/system/cpu/isolated
};

struct CacheInfo {
  int level = 0;
  std::uint64_t bytes = 0;
  int line_bytes = 0;
  std::vector<int> cpus;  // CPUs that share it
};

struct Topology {
  std::vector<CpuInfo> cpus;
  std::vector<CacheInfo> caches;
  int numa_nodes = 1;
  int cores = 0;
  std::vector<int> isolated;  // kernel-isolated CPUs (isolcpus / cpuset isolation)
  std::vector<int> allowed;   // CPUs this process may run on (its affinity mask)

  // Reads the host with hwloc. Throws std::runtime_error when hwloc cannot load a topology.
  static Topology discover();
  [[nodiscard]] const CpuInfo* cpu(int os_index) const noexcept;
  [[nodiscard]] std::string describe() const;
};

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}. Returns false on malformed text.
bool parse_cpu_list(std::string_view text, std::vector<int>& out);
// The inverse: sorted CPUs -> "0-3,8,10-11" ("none" when empty).
std::string format_cpu_list(const std::vector<int>& cpus);
std::vector<int> read_isolated_cpus();
// The CPUs this process may run on: its affinity mask (sched_getaffinity), which taskset, a
// cgroup cpuset or systemd's CPUAffinity= narrow. A thread can be pinned only inside it.
std::vector<int> allowed_cpus();

struct PlacementResult {
  bool ok = false;
  std::string message;  // what happened, or why not and what to change
};

// Pins the calling thread to one CPU.
PlacementResult pin_current_thread(int cpu);
// Names the calling thread (15 characters at most, as the kernel keeps them; longer is cut).
PlacementResult name_current_thread(std::string_view name);
// Restricts the calling thread (and every thread it creates afterwards) to the CPUs it may run
// on minus `hot`: the housekeeping CPUs. hftd calls it first thing, so that its unpinned threads
// (logging, control, journal flusher, metrics) never preempt a pinned pipeline thread; the
// pinned threads then place themselves. Nothing changes when no CPU would be left.
PlacementResult keep_current_thread_off(const std::vector<int>& hot);
// SCHED_FIFO at `priority` (1..99). Without CAP_SYS_NICE or an RLIMIT_RTPRIO this fails with a
// warning that says what to grant; the thread keeps running under SCHED_OTHER.
PlacementResult set_current_thread_fifo(int priority);
// The CPU the calling thread runs on now.
int current_cpu() noexcept;

}  // namespace hft::core
