#pragma once
// `hftd --check-host`: what a tuned low-latency host needs, what this one has, and what to change.
// Each check reads /proc and /sys (and probes io_uring); nothing is modified.
#include <cstdint>
#include <string>
#include <vector>

namespace hft::app {

enum class Verdict : std::uint8_t { kPass, kWarn, kFail };

struct HostCheck {
  std::string name;
  Verdict verdict;
  std::string found;   // what the host has
  std::string advice;  // what to change (empty on pass)
};

struct HostCheckInput {
  std::vector<int> pinned_cpus;          // CPUs the configuration pins hot threads to
  std::uint64_t arena_bytes = 64u << 20; // memory to lock and back with hugepages
  std::string sysfs_root = "";           // prefix for /sys and /proc (tests point it at a fake tree)
};

std::vector<HostCheck> check_host(const HostCheckInput& input);
// One line per check ("PASS isolcpus: ..."), then a summary; returns the text.
std::string format_host_checks(const std::vector<HostCheck>& checks);
[[nodiscard]] bool any_failed(const std::vector<HostCheck>& checks);

}  // namespace hft::app
