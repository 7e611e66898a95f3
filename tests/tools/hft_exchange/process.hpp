#pragma once
// Child processes for the hft-exchange program tests: stdout and stderr to one file
// (tests/support/child_process.hpp does the work).
#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/child_process.hpp"

namespace hft::testing {

class Process : public Child {
 public:
  // Starts argv[0] with stdout and stderr both written to `output`.
  Process(const std::vector<std::string>& argv, const std::filesystem::path& output) : Child(argv, output, output) {}
  [[nodiscard]] std::string output() const { return out(); }
};

// Runs a command to completion; its exit code and output.
inline std::pair<int, std::string> run_command(const std::vector<std::string>& argv, const std::filesystem::path& output,
                                               std::chrono::milliseconds limit = std::chrono::milliseconds(30000)) {
  Process p(argv, output);
  if (!p.started()) return {-1, "cannot start " + argv[0]};
  const int rc = p.finish(limit);
  return {rc, p.output()};
}

}  // namespace hft::testing
