// The shipped systemd units pass `systemd-analyze verify` (unit syntax, every directive known to
// this systemd, the ExecStart binary present and executable), with the templates' placeholders
// filled as the install fills them and ExecStart pointed at this build's programs. Also checks the directives the operations issue
// requires are there, so a unit that loses one fails here rather than on a production host.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace {

namespace fs = std::filesystem;

fs::path build_bin() { return hft::testing::program_path("hftd").parent_path(); }
std::string slurp(const fs::path& p) { return hft::testing::read_file(p); }

// Runs a shell command; returns its exit status and what it printed (stdout and stderr).
int run_command(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class SystemdUnits : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string ignored;
    if (run_command("command -v systemd-analyze", ignored) != 0)
      GTEST_SKIP() << "systemd-analyze is not installed (tools/setup.sh installs the systemd package)";
    dir_ = fs::temp_directory_path() / ("hft_units_" + std::to_string(::getpid()) + "_" + GetParam());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_P(SystemdUnits, VerifyPassesAndTheRequiredDirectivesArePresent) {
  const std::string unit = GetParam();
  const fs::path src = fs::path(HFT_SOURCE_DIR) / "systemd" / (unit + ".in");
  std::string text = slurp(src);
  ASSERT_FALSE(text.empty()) << src;

  const bool loader = unit.rfind("hft-journal-follow", 0) == 0;  // the journal loader: no trading daemon
  const std::vector<const char*> required =
      loader ? std::vector<const char*>{"CPUAffinity=", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                                        "PrivateTmp=yes", "RestrictAddressFamilies=", "After=hftd@%i.service"}
             : std::vector<const char*>{"Type=notify", "WatchdogSec=", "CPUAffinity=", "LimitMEMLOCK=infinity", "LimitRTPRIO=",
                                        "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                                        "RestrictAddressFamilies=", "CapabilityBoundingSet="};
  for (const char* directive : required)
    EXPECT_NE(text.find(std::string("\n") + directive), std::string::npos) << unit << " lacks " << directive;

  // Point ExecStart at this build's program (verify checks that it exists and is executable).
  const std::string program = loader ? "hft-journal" : unit.rfind("hftd", 0) == 0 ? "hftd" : "hft-exchange";
  if (!fs::exists(build_bin() / program)) GTEST_SKIP() << program << " is not built";
  // The template's placeholders, as `cmake --install` fills them (cmake/HftInstall.cmake), with
  // the programs' directory this build's.
  const auto fill = [&text](const std::string& key, const std::string& value) {
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  };
  fill("@HFT_BINDIR@", build_bin().string());
  fill("@HFT_SYSCONFDIR@", "/etc");
  fill("@HFT_DOCDIR@", "/usr/share/doc/hft");
  EXPECT_EQ(text.find('@' + std::string("HFT_")), std::string::npos) << "a placeholder the install does not fill";
  // Verified as the instance "demo" of the template: only an instance has an ExecStart to check.
  const std::string instance = unit.substr(0, unit.find('@')) + "@demo.service";
  std::ofstream(dir_ / instance) << text;

  std::string out;
  const int rc = run_command("SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no '" + (dir_ / instance).string() + "'", out);
  // Anything it says about our unit is a problem (it also prints lines about the host's own units
  // when they are broken; those are not ours).
  std::string ours;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.find(unit.substr(0, unit.find('@'))) != std::string::npos) ours += line + "\n";
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(ours, "") << "systemd-analyze verify on " << instance << ":\n" << out;
}

INSTANTIATE_TEST_SUITE_P(Units, SystemdUnits, ::testing::Values("hftd@.service", "hft-exchange@.service", "hft-journal-follow@.service"),
                         [](const auto& p) {
                           std::string n = p.param;
                           for (char& c : n)
                             if (c == '@' || c == '.' || c == '-') c = '_';
                           return n;
                         });

TEST(TunedProfile, IncludesALatencyProfileAndReservesHugepages) {
  const std::string conf = slurp(fs::path(HFT_SOURCE_DIR) / "systemd" / "tuned" / "hft-latency" / "tuned.conf");
  ASSERT_FALSE(conf.empty());
  EXPECT_TRUE(conf.find("include=network-latency") != std::string::npos ||
              conf.find("include=cpu-partitioning") != std::string::npos)
      << conf;
  EXPECT_NE(conf.find("nr_hugepages"), std::string::npos) << conf;
}

}  // namespace
