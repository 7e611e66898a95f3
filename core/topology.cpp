#include "core/topology.hpp"

#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hft::core {

bool parse_cpu_list(std::string_view text, std::vector<int>& out) {
  out.clear();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return true;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto dash = item.find('-');
    int lo = 0, hi = 0;
    auto parse = [](std::string_view s, int& v) {
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      return r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0 && v < 65536;
    };
    if (dash == std::string_view::npos) {
      if (!parse(item, lo)) return false;
      hi = lo;
    } else if (!parse(item.substr(0, dash), lo) || !parse(item.substr(dash + 1), hi) || hi < lo) {
      return false;
    }
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
    i = j + 1;
  }
  return out.empty() ? std::string("none") : out;
}

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof(mask), &mask) == 0)
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &mask)) cpus.push_back(i);
  return cpus;
}

std::vector<int> read_isolated_cpus() {
  std::ifstream f("/sys/devices/system/cpu/isolated");
  std::string line;
  std::getline(f, line);
  std::vector<int> cpus;
  if (!parse_cpu_list(line, cpus)) cpus.clear();
  return cpus;
}

namespace {

struct TopologyDeleter {
  void operator()(hwloc_topology_t t) const noexcept { hwloc_topology_destroy(t); }
};

std::vector<int> cpus_of(hwloc_const_bitmap_t set) {
  std::vector<int> cpus;
  for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i)) cpus.push_back(i);
  return cpus;
}

}  // namespace

Topology Topology::discover() {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) throw std::runtime_error("hwloc_topology_init failed");
  std::unique_ptr<hwloc_topology, TopologyDeleter> topo(raw);
  // Report every CPU of the machine, not only those in this process's cpuset.
  hwloc_topology_set_flags(raw, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  if (hwloc_topology_load(raw) != 0) throw std::runtime_error("hwloc_topology_load failed");

  Topology t;
  t.isolated = read_isolated_cpus();
  const int npu = hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_PU);
  t.cores = hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_CORE);
  t.numa_nodes = std::max(1, hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_NUMANODE));
  for (int i = 0; i < npu; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(raw, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    CpuInfo c;
    c.os_index = static_cast<int>(pu->os_index);
    if (hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(raw, HWLOC_OBJ_CORE, pu)) {
      c.core = static_cast<int>(core->logical_index);
      for (int s : cpus_of(core->cpuset))
        if (s != c.os_index) c.smt_siblings.push_back(s);
    }
    if (hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(raw, HWLOC_OBJ_PACKAGE, pu))
      c.package = static_cast<int>(pkg->logical_index);
    hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
    hwloc_cpuset_to_nodeset(raw, pu->cpuset, nodes);
    c.numa_node = hwloc_bitmap_first(nodes);
    hwloc_bitmap_free(nodes);
    c.isolated = std::find(t.isolated.begin(), t.isolated.end(), c.os_index) != t.isolated.end();
    t.cpus.push_back(std::move(c));
  }
  for (hwloc_obj_type_t type : {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE}) {
    const int n = hwloc_get_nbobjs_by_type(raw, type);
    for (int i = 0; i < n; ++i) {
      hwloc_obj_t o = hwloc_get_obj_by_type(raw, type, static_cast<unsigned>(i));
      CacheInfo ci;
      ci.level = static_cast<int>(o->attr->cache.depth);
      ci.bytes = o->attr->cache.size;
      ci.line_bytes = static_cast<int>(o->attr->cache.linesize);
      ci.cpus = cpus_of(o->cpuset);
      t.caches.push_back(std::move(ci));
    }
  }
  t.allowed = allowed_cpus();
  return t;
}

const CpuInfo* Topology::cpu(int os_index) const noexcept {
  for (const auto& c : cpus)
    if (c.os_index == os_index) return &c;
  return nullptr;
}

std::string Topology::describe() const {
  std::string s = fmt::format("{} CPUs, {} cores, {} NUMA node(s); isolated: {}; allowed: {}", cpus.size(), cores,
                              numa_nodes, isolated.empty() ? std::string("none") : fmt::format("{}", fmt::join(isolated, ",")),
                              fmt::join(allowed, ","));
  for (const auto& c : caches)
    s += fmt::format("; L{} {} KiB x{} CPUs", c.level, c.bytes >> 10, c.cpus.size());
  return s;
}

PlacementResult pin_current_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return {false, fmt::format("cpu {} out of range", cpu)};
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int rc = ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
  if (rc != 0) return {false, fmt::format("pin to cpu {} failed: {} (is it in this process's cpuset?)", cpu, std::strerror(rc))};
  return {true, fmt::format("pinned to cpu {}", cpu)};
}

PlacementResult keep_current_thread_off(const std::vector<int>& hot) {
  if (hot.empty()) return {true, "no pinned CPU: unpinned threads run anywhere"};
  std::vector<int> keep;
  for (const int c : allowed_cpus())
    if (std::find(hot.begin(), hot.end(), c) == hot.end()) keep.push_back(c);
  if (keep.empty())
    return {false, fmt::format("every allowed CPU is pinned ({}): unpinned threads share them", format_cpu_list(hot))};
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int c : keep)
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
  const int rc = ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
  if (rc != 0) return {false, fmt::format("keeping off cpus {} failed: {}", format_cpu_list(hot), std::strerror(rc))};
  return {true, fmt::format("unpinned threads on cpus {} (off the pinned {})", format_cpu_list(keep), format_cpu_list(hot))};
}

PlacementResult name_current_thread(std::string_view name) {
  char buf[16] = {};
  const std::size_t n = std::min<std::size_t>(name.size(), 15);
  std::memcpy(buf, name.data(), n);
  const int rc = ::pthread_setname_np(::pthread_self(), buf);
  if (rc != 0) return {false, fmt::format("naming thread '{}' failed: {}", buf, std::strerror(rc))};
  return {true, fmt::format("named '{}'", buf)};
}

PlacementResult set_current_thread_fifo(int priority) {
  if (priority < 1 || priority > 99) return {false, fmt::format("SCHED_FIFO priority {} outside 1..99", priority)};
  sched_param sp{};
  sp.sched_priority = priority;
  const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp);
  if (rc != 0) {
    rlimit rl{};
    ::getrlimit(RLIMIT_RTPRIO, &rl);
    return {false, fmt::format("SCHED_FIFO {} not permitted ({}); RLIMIT_RTPRIO is {}: grant CAP_SYS_NICE or "
                               "LimitRTPRIO={} (systemd) / 'rtprio' in limits.conf; staying on SCHED_OTHER",
                               priority, std::strerror(rc), rl.rlim_cur, priority)};
  }
  return {true, fmt::format("SCHED_FIFO priority {}", priority)};
}

int current_cpu() noexcept { return ::sched_getcpu(); }

}  // namespace hft::core
