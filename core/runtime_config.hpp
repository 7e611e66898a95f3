#pragma once
// The configuration tables that every program shares: [memory], [log] and [[threads]].
// Program-specific tables (pipeline stages, venue, strategies) are read by their owners.
#include <cstdint>
#include <string>
#include <vector>

#include "core/arena.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "core/runner.hpp"

namespace hft::core {

struct ThreadConfig {
  std::string name;                 // thread name (15 characters are kept by the kernel)
  int cpu = -1;                     // -1: not pinned
  int fifo_priority = 0;            // 0: SCHED_OTHER
  IdleConfig idle;
  std::vector<std::string> stages;  // what the thread runs, in poll order
};

struct RuntimeConfig {
  ArenaOptions memory;
  LogOptions log;
  std::vector<ThreadConfig> threads;
};

// [memory] size_mb, hugepages = "auto"|"hugetlb"|"thp"|"normal", numa_node, prefault, lock
ArenaOptions parse_memory(const ConfigSection& memory);
// idle = "spin"|"yield"|"backoff", spins, yields, min_park_us, max_park_us (keys of a [[threads]] table)
IdleConfig parse_idle(const ConfigSection& thread);
// [[threads]] name, cpu, fifo_priority, stages, idle...
ThreadConfig parse_thread(const ConfigSection& thread);
// [log] level, file
LogOptions parse_log(const ConfigSection& log);

// Reads the shared tables from the root of a document; the caller reads its own tables and then
// calls root.reject_unknown_keys(). Thread placement is checked against `allowed_cpus` (the
// one-argument form: this process's affinity mask, core::allowed_cpus()):
//  - a `cpu` outside it is refused (the kernel would refuse the pin; the thread would run unpinned);
//  - a thread with idle = "spin" may share its CPU only with threads that park (idle = "backoff"):
//    a spinner never gives its CPU up, so another spinner (or a "yield" thread, which never sleeps
//    either) on it runs only when the scheduler's time slice, milliseconds, preempts the first.
RuntimeConfig parse_runtime(const ConfigSection& root);
RuntimeConfig parse_runtime(const ConfigSection& root, const std::vector<int>& allowed_cpus);

}  // namespace hft::core
