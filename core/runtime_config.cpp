#include "core/runtime_config.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/topology.hpp"

namespace hft::core {

ArenaOptions parse_memory(const ConfigSection& s) {
  ArenaOptions o;
  o.bytes = static_cast<std::size_t>(s.integer("size_mb", 64, 2, 1 << 20)) << 20;
  o.mode = s.choice("hugepages", PageMode::kAuto,
                    {{"auto", PageMode::kAuto}, {"hugetlb", PageMode::kHugetlb}, {"thp", PageMode::kThp},
                     {"normal", PageMode::kNormal}});
  o.numa_node = static_cast<int>(s.integer("numa_node", -1, -1, 1023));
  o.prefault = s.boolean("prefault", true);
  o.lock = s.boolean("lock", true);
  s.reject_unknown_keys();
  return o;
}

IdleConfig parse_idle(const ConfigSection& s) {
  IdleConfig c;
  c.kind = s.choice("idle", IdleKind::kBackoff,
                    {{"spin", IdleKind::kBusySpin}, {"yield", IdleKind::kYield}, {"backoff", IdleKind::kBackoff}});
  c.spins = static_cast<std::uint32_t>(s.integer("spins", c.spins, 0, 100'000'000));
  c.yields = static_cast<std::uint32_t>(s.integer("yields", c.yields, 0, 100'000'000));
  c.min_park_ns = static_cast<std::uint64_t>(s.integer("min_park_us", 1, 1, 1'000'000)) * 1000;
  c.max_park_ns = static_cast<std::uint64_t>(s.integer("max_park_us", 1000, 1, 10'000'000)) * 1000;
  if (c.max_park_ns < c.min_park_ns) s.fail("max_park_us", "must be >= min_park_us");
  return c;
}

ThreadConfig parse_thread(const ConfigSection& s) {
  ThreadConfig t;
  t.name = s.require_string("name");
  if (t.name.empty() || t.name.size() > 15) s.fail("name", "must be 1 to 15 characters (the kernel's limit for thread names)");
  t.cpu = static_cast<int>(s.integer("cpu", -1, -1, 4095));
  t.fifo_priority = static_cast<int>(s.integer("fifo_priority", 0, 0, 99));
  t.idle = parse_idle(s);
  t.stages = s.strings("stages");
  s.reject_unknown_keys();
  return t;
}

LogOptions parse_log(const ConfigSection& s) {
  LogOptions o;
  o.level = s.choice("level", LogLevel::kInfo,
                     {{"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo}, {"warn", LogLevel::kWarn},
                      {"error", LogLevel::kError}});
  o.file = s.string("file", "");
  s.reject_unknown_keys();
  return o;
}

RuntimeConfig parse_runtime(const ConfigSection& root) { return parse_runtime(root, allowed_cpus()); }

RuntimeConfig parse_runtime(const ConfigSection& root, const std::vector<int>& allowed) {
  RuntimeConfig c;
  if (auto m = root.section("memory")) c.memory = parse_memory(*m);
  if (auto l = root.section("log")) c.log = parse_log(*l);
  std::set<std::string> names;
  const auto threads = root.sections("threads");
  for (std::size_t i = 0; i < threads.size(); ++i) {
    const ConfigSection& s = threads[i];
    const ThreadConfig t = parse_thread(s);
    if (!names.insert(t.name).second) s.fail("name", "duplicate thread name \"" + t.name + "\"");
    if (t.cpu >= 0 && std::find(allowed.begin(), allowed.end(), t.cpu) == allowed.end())
      s.fail("cpu", fmt::format("CPU {} is not one this process may run on (its affinity mask, sched_getaffinity: {}); "
                                "pick one of those, or widen the mask (taskset, the cgroup cpuset, systemd CPUAffinity=)",
                                t.cpu, format_cpu_list(allowed)));
    for (const ThreadConfig& other : c.threads) {
      if (t.cpu < 0 || other.cpu != t.cpu) continue;
      const bool spin = t.idle.kind == IdleKind::kBusySpin, other_spins = other.idle.kind == IdleKind::kBusySpin;
      if ((spin && other.idle.kind != IdleKind::kBackoff) || (other_spins && t.idle.kind != IdleKind::kBackoff))
        s.fail("cpu", fmt::format("thread \"{}\" shares CPU {} with thread \"{}\", and {} busy-spins (idle = "
                                  "\"spin\"): a spinner never gives its CPU up, so the other runs only when the "
                                  "scheduler's time slice preempts it; pin them to different CPUs, or give one "
                                  "idle = \"backoff\"",
                                  t.name, t.cpu, other.name,
                                  spin && other_spins ? std::string("both") : fmt::format("\"{}\"", spin ? t.name : other.name)));
    }
    c.threads.push_back(t);
  }
  return c;
}

}  // namespace hft::core
