// The Debian package (cmake/HftInstall.cmake, CPack): built from this build with `cpack`, then
// checked the way an operator's host would meet it: its name and file list, the installed units
// naming the installed programs and passing `systemd-analyze verify`, the maintainer scripts'
// syntax, and its Depends line against the libraries the programs actually load. As root on a
// host without hft (CI's disposable machine), it is installed for real with `dpkg -i`, its
// programs run from /usr/bin, and `dpkg --purge` must leave nothing but the hft user.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/version.hpp"
#include "tests/support/child_process.hpp"

namespace {

namespace fs = std::filesystem;

int run(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
bool have(const std::string& tool) {
  std::string ignored;
  return run("command -v " + tool, ignored) == 0;
}
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) v.push_back(l);
  return v;
}

const std::vector<std::string> kPrograms = {"hftd", "hftctl", "hft-exchange", "hft-itch", "hft-journal"};

// The package is built once and shared: CTest runs each test as its own process, and cpack
// (installing every program into a staging tree, running dpkg-shlibdeps) takes seconds. It lives
// in the build tree and is rebuilt when a program, the CPack configuration or a maintainer
// script is newer; a lock serialises the tests that run at once.
class Package : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
#if defined(__SANITIZE_ADDRESS__)
    skip_ = "the package is built and checked from the release build (this one is instrumented)";
    return;
#endif
    for (const char* tool : {"cpack", "dpkg-deb", "dpkg-shlibdeps", "file", "readelf"})
      if (!have(tool)) {
        skip_ = std::string(tool) + " is not installed (tools/setup.sh installs it)";
        return;
      }
    build_ = hft::testing::program_path("hftd").parent_path().parent_path();
    std::vector<fs::path> inputs = {build_ / "CPackConfig.cmake"};
    for (const auto& p : kPrograms) {
      if (!fs::exists(build_ / "bin" / p)) {
        skip_ = p + " is not built";
        return;
      }
      inputs.push_back(build_ / "bin" / p);
    }
    for (const char* script : {"postinst", "prerm", "postrm"})
      inputs.push_back(fs::path(HFT_SOURCE_DIR) / "packaging/debian" / script);
    dir_ = fs::temp_directory_path() / ("hft_package_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const fs::path shared = build_ / "package-test";
    fs::create_directories(shared);
    deb_ = shared / ("hft_" + std::string(hft::kVersion) + "_amd64.deb");
    const int lock = ::open((shared / "lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock >= 0) ::flock(lock, LOCK_EX);
    bool fresh = fs::exists(deb_);
    for (const auto& in : inputs)
      if (fresh && fs::exists(in) && fs::last_write_time(in) > fs::last_write_time(deb_)) fresh = false;
    if (!fresh) {
      fs::remove(deb_);
      run("cd '" + shared.string() + "' && cpack --config '" + (build_ / "CPackConfig.cmake").string() + "' -B '" +
              shared.string() + "'",
          cpack_output_);
    }
    if (lock >= 0) ::close(lock);
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(fs::exists(deb_)) << "no " << deb_.filename() << "; cpack said:\n" << cpack_output_;
  }
  static std::string field(const std::string& name) {
    std::string out;
    EXPECT_EQ(run("dpkg-deb -f '" + deb_.string() + "' " + name, out), 0) << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  static inline std::string skip_, cpack_output_;
  static inline fs::path build_, dir_, deb_;
};

TEST_F(Package, HoldsTheProgramsUnitsProfileDocsAndExamples) {
  std::string out;
  ASSERT_EQ(run("dpkg-deb -c '" + deb_.string() + "'", out), 0) << out;
  std::set<std::string> files;
  for (const auto& l : lines_of(out)) files.insert(l.substr(l.rfind(' ') + 1));
  std::vector<std::string> expected;
  for (const auto& p : kPrograms) expected.push_back("./usr/bin/" + p);
  for (const char* f :
       {"./usr/lib/systemd/system/hftd@.service", "./usr/lib/systemd/system/hft-exchange@.service",
        "./usr/lib/tuned/hft-latency/tuned.conf", "./usr/share/doc/hft/README.md",
        "./usr/share/doc/hft/docs/operations.md", "./usr/share/doc/hft/examples/hftd-2core.toml",
        "./usr/share/doc/hft/examples/hftd-5core.toml", "./usr/share/doc/hft/examples/example.toml",
        "./usr/share/doc/hft/examples/sysctl.d-90-hft.conf", "./usr/share/hft/perf/record.sh",
        "./usr/share/hft/perf/common.sh", "./usr/lib/systemd/system/hft-journal-follow@.service",
        "./usr/share/hft/dashboard/index.html", "./usr/share/hft/grafana/hft.json"})
    expected.emplace_back(f);
  for (const auto& f : expected) EXPECT_TRUE(files.count(f)) << f << " is not in the package:\n" << out;
  for (const auto& f : files) {
    EXPECT_EQ(f.find("/tests/"), std::string::npos) << "a test program in the package: " << f;
    EXPECT_EQ(f.find("bench_"), std::string::npos) << "a benchmark in the package: " << f;
  }
  EXPECT_EQ(field("Package"), "hft");
  EXPECT_EQ(field("Version"), hft::kVersion);
  EXPECT_EQ(field("Architecture"), "amd64");
}

TEST_F(Package, UnitsNameTheInstalledProgramsAndVerify) {
  const fs::path root = dir_ / "root";
  std::string out;
  ASSERT_EQ(run("dpkg-deb -x '" + deb_.string() + "' '" + root.string() + "'", out), 0) << out;
  for (const std::string unit : {"hftd@.service", "hft-exchange@.service"}) {
    std::string text = hft::testing::read_file(root / "usr/lib/systemd/system" / unit);
    ASSERT_FALSE(text.empty()) << unit;
    const std::string program = unit.rfind("hftd", 0) == 0 ? "hftd" : "hft-exchange";
    const std::string exec = "ExecStart=/usr/bin/" + program + " --config /etc/hft/%i";
    EXPECT_NE(text.find(exec), std::string::npos) << unit << " does not start the installed " << program << ":\n" << text;
    EXPECT_EQ(text.find('@' + std::string("HFT_")), std::string::npos) << "an unfilled placeholder in " << unit;
    EXPECT_TRUE(fs::exists(root / "usr/bin" / program));
    if (!have("systemd-analyze")) continue;
    // verify checks the ExecStart program exists and is executable: point it into the unpacked tree.
    const std::string installed = "/usr/bin/", here = (root / "usr/bin").string() + "/";
    for (std::size_t at = text.find(installed); at != std::string::npos; at = text.find(installed, at + here.size()))
      text.replace(at, installed.size(), here);
    const fs::path instance = dir_ / (unit.substr(0, unit.find('@')) + "@pkg.service");
    std::ofstream(instance) << text;
    const int rc = run("SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no '" + instance.string() + "'", out);
    std::string ours;
    for (const auto& l : lines_of(out))
      if (l.find(unit.substr(0, unit.find('@'))) != std::string::npos) ours += l + "\n";
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(ours, "") << out;
  }
}

TEST_F(Package, MaintainerScriptsParseAndNeverStartAnInstance) {
  const fs::path control = dir_ / "control";
  std::string out;
  ASSERT_EQ(run("dpkg-deb -e '" + deb_.string() + "' '" + control.string() + "'", out), 0) << out;
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    const fs::path p = control / script;
    ASSERT_TRUE(fs::exists(p)) << script;
    EXPECT_NE(fs::status(p).permissions() & fs::perms::owner_exec, fs::perms::none) << script << " is not executable";
    EXPECT_EQ(run("sh -n '" + p.string() + "'", out), 0) << script << ": " << out;
    for (const auto& line : lines_of(hft::testing::read_file(p))) {
      if (line.find_first_not_of(' ') != std::string::npos && line[line.find_first_not_of(' ')] == '#') continue;
      EXPECT_EQ(line.find("systemctl start"), std::string::npos) << script << " starts an instance: " << line;
      EXPECT_EQ(line.find("systemctl enable"), std::string::npos) << script << " enables an instance: " << line;
      EXPECT_EQ(line.find("systemctl restart"), std::string::npos) << script << " restarts an instance: " << line;
    }
  }
  const std::string postinst = hft::testing::read_file(control / "postinst");
  EXPECT_NE(postinst.find("useradd --system"), std::string::npos);
  EXPECT_NE(postinst.find("nologin"), std::string::npos) << "the hft user has no login shell";
}

// Every library a program loads directly (its NEEDED entries, resolved by the loader as ldd
// shows) belongs to a Debian package named in Depends.
TEST_F(Package, DependsCoversEveryLibraryTheProgramsLoad) {
  std::set<std::string> depends;
  {
    std::string d = field("Depends");
    ASSERT_FALSE(d.empty()) << "no Depends: dpkg-shlibdeps did not run";
    std::istringstream in(d);
    for (std::string item; std::getline(in, item, ',');) {
      const std::size_t b = item.find_first_not_of(' ');
      const std::size_t e = item.find_first_of(" (", b);
      depends.insert(item.substr(b, e == std::string::npos ? std::string::npos : e - b));
    }
  }
  // program -> (library name, path the loader resolves it to)
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> loads;
  std::string out, paths;
  for (const auto& program : kPrograms) {
    const fs::path bin = build_ / "bin" / program;
    ASSERT_EQ(run("readelf -d '" + bin.string() + "'", out), 0) << out;
    std::set<std::string> needed;
    for (const auto& l : lines_of(out)) {
      const std::size_t a = l.find("(NEEDED)");
      if (a == std::string::npos) continue;
      const std::size_t o = l.find('[', a), c = l.find(']', a);
      needed.insert(l.substr(o + 1, c - o - 1));
    }
    ASSERT_FALSE(needed.empty()) << program;
    ASSERT_EQ(run("ldd '" + bin.string() + "'", out), 0) << out;
    for (const auto& l : lines_of(out)) {
      std::istringstream in(l);
      std::string name, arrow, path;
      in >> name >> arrow >> path;
      if (!needed.count(name) || arrow != "=>") continue;
      const std::string canonical = fs::canonical(path).string();  // merged /usr: dpkg records /usr/lib/...
      loads.push_back({program, {name, canonical}});
      paths += " '" + canonical + "'";
      if (canonical.rfind("/usr/", 0) == 0) paths += " '" + canonical.substr(4) + "'";  // libc6 still says /lib
    }
  }
  ASSERT_FALSE(loads.empty());
  // One dpkg query for every path (the database is read once): "package:arch: path" lines.
  run("dpkg -S" + paths, out);
  std::map<std::string, std::string> owner_of;
  for (const auto& l : lines_of(out)) {
    const std::size_t sep = l.find(": ");
    if (sep == std::string::npos || l.rfind("dpkg-query", 0) == 0) continue;
    const std::string path = l.substr(sep + 2), package = l.substr(0, l.find(':'));
    owner_of[path.rfind("/usr/", 0) == 0 ? path : "/usr" + path] = package;
  }
  for (const auto& [program, lib] : loads) {
    const auto it = owner_of.find(lib.second);
    if (it == owner_of.end()) {
      ADD_FAILURE() << program << " loads " << lib.second << ", which no Debian package owns";
      continue;
    }
    // Depends may name the package or a virtual package it provides (libspdlog1.10 provides
    // libspdlog1.10-fmt9, the name dpkg-shlibdeps writes).
    bool named = depends.count(it->second) != 0;
    std::string provides;
    run("dpkg-query -W -f='${Provides}' " + it->second, provides);
    std::istringstream in(provides);
    for (std::string v; !named && std::getline(in, v, ',');) {
      const std::size_t b = v.find_first_not_of(' ');
      if (b != std::string::npos) named = depends.count(v.substr(b, v.find_first_of(" (", b) - b)) != 0;
    }
    EXPECT_TRUE(named) << program << " loads " << lib.first << " (" << it->second << "), not in Depends: " << field("Depends");
  }
}

// `cmake --install` into any prefix: the units name that prefix's programs and configuration.
TEST(Install, IntoAnyPrefixTheUnitsFollowThePrefix) {
  const fs::path build = hft::testing::program_path("hftd").parent_path().parent_path();
  if (!have("cmake")) GTEST_SKIP() << "no cmake";
  const fs::path prefix = fs::temp_directory_path() / ("hft_prefix_" + std::to_string(::getpid())) / "opt-hft";
  fs::remove_all(prefix.parent_path());
  std::string out;
  ASSERT_EQ(run("cmake --install '" + build.string() + "' --prefix '" + prefix.string() + "'", out), 0) << out;
  for (const auto& p : kPrograms) EXPECT_TRUE(fs::exists(prefix / "bin" / p)) << p;
  const std::string unit = hft::testing::read_file(prefix / "lib/systemd/system/hftd@.service");
  EXPECT_NE(unit.find("ExecStart=" + (prefix / "bin/hftd").string() + " --config " + (prefix / "etc/hft/%i.toml").string()),
            std::string::npos)
      << unit;
  EXPECT_NE(unit.find("file://" + (prefix / "share/doc/hft/README.md").string()), std::string::npos) << unit;
  // The installed profiling scripts find the installed programs (not a build tree).
  EXPECT_EQ(run("HFT_ITCH= bash -c 'source \"" + (prefix / "share/hft/perf/common.sh").string() +
                    "\"; echo \"$HFT_BIN\"'",
                out),
            0)
      << out;
  EXPECT_EQ(out, (prefix / "bin").string() + "\n");
  fs::remove_all(prefix.parent_path());
}

// The real thing, where it cannot hurt: root, and no hft installed or configured on this host.
TEST_F(Package, InstallsRunsAndPurgesCleanly) {
  if (::geteuid() != 0) GTEST_SKIP() << "installing the package needs root (CI runs as root)";
  std::string out;
  if (!have("dpkg")) GTEST_SKIP() << "no dpkg";
  if (run("dpkg-query -W -f='${Status}' hft", out) == 0 && out.find("installed") != std::string::npos)
    GTEST_SKIP() << "hft is already installed on this host: not touching it";
  if (fs::exists("/etc/hft") || fs::exists("/var/lib/hft"))
    GTEST_SKIP() << "/etc/hft or /var/lib/hft exists on this host: not installing over an operator's files";

  ASSERT_EQ(run("DEBIAN_FRONTEND=noninteractive dpkg -i '" + deb_.string() + "'", out), 0) << out;
  struct Purge {
    ~Purge() {
      std::string ignored;
      run("DEBIAN_FRONTEND=noninteractive dpkg --purge hft", ignored);
    }
  } purge_at_exit;
  EXPECT_EQ(run("getent passwd hft", out), 0) << "postinst created no hft user";
  EXPECT_NE(out.find("nologin"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_directory("/etc/hft"));
  EXPECT_EQ(run("/usr/bin/hftctl --help", out), 0) << out;
  // --check-host exits 1 when a check fails (this VM is not a tuned host); it must run and report.
  const int rc = run("/usr/bin/hftd --check-host", out);
  EXPECT_TRUE(rc == 0 || rc == 1) << rc << ": " << out;
  EXPECT_NE(out.find("pass"), std::string::npos) << out;
  EXPECT_EQ(run("/usr/bin/hftd --version", out), 0) << out;
  EXPECT_NE(out.find(hft::kVersion), std::string::npos) << out;

  ASSERT_EQ(run("DEBIAN_FRONTEND=noninteractive dpkg --purge hft", out), 0) << out;
  for (const char* gone : {"/usr/bin/hftd", "/usr/bin/hftctl", "/usr/lib/systemd/system/hftd@.service",
                           "/usr/lib/tuned/hft-latency", "/usr/share/doc/hft", "/usr/share/hft", "/etc/hft",
                           "/var/lib/hft"})
    EXPECT_FALSE(fs::exists(gone)) << gone << " is left after the purge";
  run("dpkg-query -W -f='${Status}' hft", out);
  EXPECT_EQ(out.find("ok installed"), std::string::npos) << "still installed: " << out;
}

}  // namespace
