#include "pipeline/app/host_check.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/topology.hpp"
#include "net/backend.hpp"

namespace hft::app {
namespace {

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}


std::string cmdline_value(const std::string& cmdline, const std::string& key) {
  std::istringstream in(cmdline);
  std::string word;
  while (in >> word)
    if (word.rfind(key + "=", 0) == 0) return word.substr(key.size() + 1);
  return "";
}

std::string cpus_text(const std::vector<int>& v) { return v.empty() ? "none" : fmt::format("{}", fmt::join(v, ",")); }

bool covers(const std::vector<int>& set, const std::vector<int>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](int c) { return std::find(set.begin(), set.end(), c) != set.end(); });
}

std::uint64_t meminfo(const std::string& root, const std::string& key) {
  std::ifstream f(root + "/proc/meminfo");
  std::string k;
  std::uint64_t v = 0;
  while (f >> k) {
    if (k == key + ":") {
      f >> v;
      return v;
    }
    f.ignore(256, '\n');
  }
  return 0;
}

bool process_running(const std::string& root, const std::string& comm) {
  DIR* d = ::opendir((root + "/proc").c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (read_line(root + "/proc/" + e->d_name + "/comm") == comm) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

}  // namespace

std::vector<HostCheck> check_host(const HostCheckInput& in) {
  const std::string& r = in.sysfs_root;
  std::vector<HostCheck> out;
  const std::string cmdline = read_line(r + "/proc/cmdline");
  const std::string pinned = cpus_text(in.pinned_cpus);

  // isolcpus / nohz_full / rcu_nocbs: keep the scheduler, the tick and RCU callbacks off hot cores.
  std::vector<int> isolated, nohz;
  core::parse_cpu_list(read_line(r + "/sys/devices/system/cpu/isolated"), isolated);
  core::parse_cpu_list(read_line(r + "/sys/devices/system/cpu/nohz_full"), nohz);
  std::vector<int> rcu;
  core::parse_cpu_list(cmdline_value(cmdline, "rcu_nocbs"), rcu);
  const auto cpu_set_check = [&](const char* name, const std::vector<int>& have, const char* param) {
    if (!have.empty() && covers(have, in.pinned_cpus))
      out.push_back({name, Verdict::kPass, cpus_text(have), ""});
    else
      out.push_back({name, have.empty() ? Verdict::kWarn : Verdict::kFail, cpus_text(have),
                     fmt::format("add {}={} to the kernel command line (pinned hot CPUs: {})", param,
                                 in.pinned_cpus.empty() ? "<hot cpus>" : pinned, pinned)});
  };
  cpu_set_check("isolcpus", isolated, "isolcpus");
  cpu_set_check("nohz_full", nohz, "nohz_full");
  cpu_set_check("rcu_nocbs", rcu, "rcu_nocbs");

  // irqaffinity: device interrupts (by default, and as the kernel command line sets it) stay off
  // the hot cores. /proc/irq/default_smp_affinity is a hex mask, 32 bits per comma group.
  {
    std::string mask = read_line(r + "/proc/irq/default_smp_affinity");
    mask.erase(std::remove(mask.begin(), mask.end(), ','), mask.end());
    std::vector<int> irq_cpus;
    for (std::size_t i = 0; i < mask.size(); ++i) {
      const char ch = mask[mask.size() - 1 - i];
      const int nibble = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : 0;
      for (int b = 0; b < 4; ++b)
        if (nibble & (1 << b)) irq_cpus.push_back(static_cast<int>(i * 4 + b));
    }
    std::vector<int> hit;
    for (int c : in.pinned_cpus)
      if (std::find(irq_cpus.begin(), irq_cpus.end(), c) != irq_cpus.end()) hit.push_back(c);
    const std::string given = cmdline_value(cmdline, "irqaffinity");
    const std::string found = fmt::format("default IRQ affinity {}{}", cpus_text(irq_cpus),
                                          given.empty() ? "" : fmt::format(" (irqaffinity={})", given));
    if (mask.empty())
      out.push_back({"irqaffinity", Verdict::kWarn, "no /proc/irq/default_smp_affinity", "check interrupt placement by hand"});
    else if (!in.pinned_cpus.empty() && hit.empty())
      out.push_back({"irqaffinity", Verdict::kPass, found, ""});
    else
      out.push_back({"irqaffinity", Verdict::kWarn, found,
                     fmt::format("add irqaffinity=<housekeeping cpus> to the kernel command line so that device "
                                 "interrupts stay off the pinned hot CPUs ({})",
                                 pinned)});
  }

  // Hugepages for the arena.
  const std::uint64_t huge_free = meminfo(r, "HugePages_Free");
  const std::uint64_t need = (in.arena_bytes + (2u << 20) - 1) / (2u << 20);
  if (huge_free >= need)
    out.push_back({"hugepages", Verdict::kPass, fmt::format("{} free 2 MiB pages (need {})", huge_free, need), ""});
  else
    out.push_back({"hugepages", Verdict::kWarn, fmt::format("{} free 2 MiB pages (need {})", huge_free, need),
                   fmt::format("reserve them: sysctl vm.nr_hugepages={} (or hugepages={} on the kernel command line); "
                               "the arena falls back to THP meanwhile",
                               need + meminfo(r, "HugePages_Total") - huge_free, need)});

  // THP: madvise is what the arena uses; "always" also works but adds khugepaged activity.
  const std::string thp = read_line(r + "/sys/kernel/mm/transparent_hugepage/enabled");
  if (thp.find("[madvise]") != std::string::npos || thp.find("[always]") != std::string::npos)
    out.push_back({"thp", Verdict::kPass, thp, ""});
  else
    out.push_back({"thp", Verdict::kWarn, thp.empty() ? "not available" : thp,
                   "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (used when no hugetlb pages are reserved)"});

  // CPU frequency governor of the pinned CPUs.
  {
    std::vector<std::string> bad;
    bool any = false;
    const std::vector<int> cpus = in.pinned_cpus.empty() ? std::vector<int>{0} : in.pinned_cpus;
    for (int c : cpus) {
      const std::string gov = read_line(fmt::format("{}/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor", r, c));
      if (gov.empty()) continue;
      any = true;
      if (gov != "performance") bad.push_back(fmt::format("cpu{}={}", c, gov));
    }
    if (!any)
      out.push_back({"cpu governor", Verdict::kWarn, "no cpufreq interface (a VM, or frequency fixed by firmware)",
                     "on bare metal: cpupower frequency-set -g performance"});
    else if (bad.empty())
      out.push_back({"cpu governor", Verdict::kPass, "performance", ""});
    else
      out.push_back({"cpu governor", Verdict::kFail, fmt::format("{}", fmt::join(bad, " ")),
                     "cpupower frequency-set -g performance (or the tuned profile in systemd/)"});
  }

  // C-states: deep idle states add tens of microseconds of wake-up latency.
  {
    std::vector<std::string> deep;
    for (int s = 0; s < 16; ++s) {
      const std::string base = fmt::format("{}/sys/devices/system/cpu/cpu0/cpuidle/state{}", r, s);
      const std::string name = read_line(base + "/name");
      if (name.empty()) break;
      const std::string latency = read_line(base + "/latency");
      const bool disabled = read_line(base + "/disable") == "1";
      if (!disabled && !latency.empty() && std::stoul(latency) > 10) deep.push_back(fmt::format("{}({} us)", name, latency));
    }
    const std::string max_cstate = cmdline_value(cmdline, "processor.max_cstate") + cmdline_value(cmdline, "intel_idle.max_cstate");
    if (deep.empty())
      out.push_back({"c-states", Verdict::kPass, max_cstate.empty() ? "no idle state deeper than 10 us enabled" : "max_cstate=" + max_cstate, ""});
    else
      out.push_back({"c-states", Verdict::kWarn, fmt::format("enabled: {}", fmt::join(deep, " ")),
                     "add processor.max_cstate=1 intel_idle.max_cstate=0 (or use the tuned profile, which holds /dev/cpu_dma_latency)"});
  }

  // irqbalance moves interrupts onto isolated cores unless told not to.
  if (process_running(r, "irqbalance"))
    out.push_back({"irqbalance", Verdict::kWarn, "running",
                   fmt::format("stop it (systemctl disable --now irqbalance) or set IRQBALANCE_BANNED_CPULIST={}, and "
                               "use irqaffinity= on the kernel command line",
                               pinned)});
  else
    out.push_back({"irqbalance", Verdict::kPass, "not running", ""});

  // SMT siblings of the pinned cores share their core's pipeline and caches.
  {
    std::vector<std::string> shared;
    for (int c : in.pinned_cpus) {
      std::vector<int> sib;
      core::parse_cpu_list(read_line(fmt::format("{}/sys/devices/system/cpu/cpu{}/topology/thread_siblings_list", r, c)), sib);
      for (int s : sib)
        if (s != c && read_line(fmt::format("{}/sys/devices/system/cpu/cpu{}/online", r, s)) != "0")
          shared.push_back(fmt::format("cpu{}~cpu{}", c, s));
    }
    if (shared.empty())
      out.push_back({"smt siblings", Verdict::kPass, in.pinned_cpus.empty() ? "no pinned cpus configured" : "no online sibling of a pinned cpu", ""});
    else
      out.push_back({"smt siblings", Verdict::kWarn, fmt::format("{}", fmt::join(shared, " ")),
                     "take the siblings offline (echo 0 > /sys/devices/system/cpu/cpuN/online) or add nosmt"});
  }

  // io_uring.
  if (r.empty()) {
    const net::UringFeatures f = net::probe_io_uring();
    if (f.available && f.multishot_recv && f.provided_buffer_ring)
      out.push_back({"io_uring", Verdict::kPass, f.describe(), ""});
    else
      out.push_back({"io_uring", Verdict::kWarn, f.describe(),
                     "set kernel.io_uring_disabled=0 and use Linux 6.0+, or run with net.backend = \"epoll\""});
  }

  // memlock: the arena and the rings are mlock()ed.
  {
    rlimit rl{};
    ::getrlimit(RLIMIT_MEMLOCK, &rl);
    const bool unlimited = rl.rlim_cur == RLIM_INFINITY;
    if (unlimited || rl.rlim_cur >= in.arena_bytes)
      out.push_back({"memlock", Verdict::kPass, unlimited ? "unlimited" : fmt::format("{} KiB", rl.rlim_cur >> 10), ""});
    else
      out.push_back({"memlock", Verdict::kWarn, fmt::format("{} KiB (arena needs {} KiB)", rl.rlim_cur >> 10, in.arena_bytes >> 10),
                     "LimitMEMLOCK=infinity in the unit (hftd@.service) or 'memlock unlimited' in limits.conf; "
                     "root with CAP_IPC_LOCK is exempt"});
  }
  return out;
}

std::string format_host_checks(const std::vector<HostCheck>& checks) {
  std::string s;
  int pass = 0, warn = 0, fail = 0;
  for (const auto& c : checks) {
    const char* v = c.verdict == Verdict::kPass ? "PASS" : c.verdict == Verdict::kWarn ? "WARN" : "FAIL";
    (c.verdict == Verdict::kPass ? pass : c.verdict == Verdict::kWarn ? warn : fail)++;
    s += fmt::format("{} {:<13} {}\n", v, c.name, c.found);
    if (!c.advice.empty()) s += fmt::format("     {:<13} -> {}\n", "", c.advice);
  }
  s += fmt::format("{} pass, {} warn, {} fail\n", pass, warn, fail);
  return s;
}

bool any_failed(const std::vector<HostCheck>& checks) {
  return std::any_of(checks.begin(), checks.end(), [](const HostCheck& c) { return c.verdict == Verdict::kFail; });
}

}  // namespace hft::app
