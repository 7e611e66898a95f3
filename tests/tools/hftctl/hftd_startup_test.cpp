// hftd's start-up refusals and start-up logging (issue 18, Low): a pinned CPU the process may not
// run on, two busy-spinning threads on one CPU, a histogram_dir outside the state directory, and a
// venue that accepts the TCP connection but never answers the login. The venue here is a bare
// listening socket (the kernel completes the handshake; nothing is ever read or written).
// Skipped when hftd is not built.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/tools/hftctl/child.hpp"

namespace hft::hftctl_test {
namespace {

int first_allowed_cpu() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof mask, &mask) == 0)
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &mask)) return i;
  return 0;
}

class HftdStartup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(program("hftd"))) GTEST_SKIP() << "needs hftd built";
    dir_ = fs::temp_directory_path() /
           fmt::format("hftd_startup_{}_{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "shm");
    // A venue that never answers: listening, never accepting or reading.
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listener_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    venue_port_ = ntohs(a.sin_port);
  }
  void TearDown() override {
    if (listener_ >= 0) ::close(listener_);
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // Writes hftd.toml with `threads` and `stats` tables; runs hftd for `seconds`.
  Result run_hftd(const std::string& threads, const std::string& stats, double seconds,
                  const std::map<std::string, std::string>& env = {}) {
    write_config(threads, stats);
    return run({program("hftd").string(), "--config", (dir_ / "hftd.toml").string(), "--duration",
                fmt::format("{}", seconds)},
               dir_, env, std::chrono::seconds(60));
  }
  void write_config(const std::string& threads, std::string stats) {
    // The histograms hftd dumps at exit go to the test's directory, not the working directory.
    if (stats.find("histogram_dir") == std::string::npos) stats += fmt::format("\nhistogram_dir = \"{}\"", dir_.string());
    std::ofstream(dir_ / "hftd.toml") << fmt::format(R"(instance = "startup{pid}"
[memory]
size_mb = 32
hugepages = "normal"
[feed]
listen = "127.0.0.1:{feed}"
rerequest = "127.0.0.1:{rerequest}"
[order_entry]
venue = "127.0.0.1:{venue}"
user = "HFT01"
password = "hft01pw"
connect_timeout_ms = 500
[book]
orders = 4096
levels = 1024
max_locate = 16
[[strategies]]
type = "probe"
symbol = "AAA"
{threads}
[stats]
shutdown_wait_ms = 0
{stats}
[control]
dir = "{shm}"
)",
                                                      fmt::arg("pid", ::getpid()), fmt::arg("feed", free_port(SOCK_DGRAM)),
                                                      fmt::arg("rerequest", free_port(SOCK_DGRAM)),
                                                      fmt::arg("venue", venue_port_), fmt::arg("threads", threads),
                                                      fmt::arg("stats", stats), fmt::arg("shm", (dir_ / "shm").string()));
  }

  static constexpr const char* kOneThread = R"([[threads]]
name = "hft-pipeline"
stages = ["net", "parse", "book", "strategy", "risk"]
)";

  fs::path dir_;
  int listener_ = -1;
  std::uint16_t venue_port_ = 0;
};

// Was: accepted, logged at info ("pin to cpu 4000 failed"), the thread ran unpinned, exit 0.
TEST_F(HftdStartup, RefusesACpuItMayNotRunOn) {
  const Result r = run_hftd(R"([[threads]]
name = "hft-pipeline"
cpu = 4000
stages = ["net", "parse", "book", "strategy", "risk"]
)",
                            "", 1);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("threads[0].cpu: CPU 4000 is not one this process may run on"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hftd.toml:"), std::string::npos) << r.err;
}

// Was: accepted; the two spinners shared the CPU by the scheduler's time slices.
TEST_F(HftdStartup, RefusesTwoSpinningThreadsOnOneCpu) {
  const int cpu = first_allowed_cpu();
  const Result r = run_hftd(fmt::format(R"([[threads]]
name = "hft-md"
cpu = {0}
idle = "spin"
stages = ["net", "parse", "book"]
[[threads]]
name = "hft-oe"
cpu = {0}
idle = "spin"
stages = ["strategy", "risk"]
)",
                                        cpu),
                            "", 1);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(fmt::format("threads[1].cpu: thread \"hft-oe\" shares CPU {} with thread \"hft-md\"", cpu)),
            std::string::npos)
      << r.err;
}

// Was: accepted, and the directory (with its missing parents) created silently at the first dump.
TEST_F(HftdStartup, RefusesAHistogramDirOutsideTheStateDirectory) {
  const fs::path hist = dir_ / "missing" / "hist";
  const Result r = run_hftd(kOneThread, fmt::format("histogram_dir = \"{}\"", hist.string()), 1);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("stats.histogram_dir"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(hist));
}

// Inside systemd's state directory ($STATE_DIRECTORY) a missing histogram_dir is created at
// start-up, and the log says so.
TEST_F(HftdStartup, CreatesAHistogramDirInsideTheStateDirectoryAndSaysSo) {
  fs::create_directories(dir_ / "state");
  const fs::path hist = dir_ / "state" / "hist";
  const Result r = run_hftd(kOneThread, fmt::format("histogram_dir = \"{}\"", hist.string()), 1,
                            {{"STATE_DIRECTORY", (dir_ / "state").string()}});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(fs::is_directory(hist));
  EXPECT_NE((r.out + r.err).find(fmt::format("created [stats] histogram_dir {}", hist.string())), std::string::npos)
      << r.out << r.err;
}

// Was: 16 s of silence (the 15 s session timeout, then a reconnect) with nothing in the log.
TEST_F(HftdStartup, LogsAVenueThatNeverAnswersTheLogin) {
  const Result r = run_hftd(kOneThread, "", 4);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  const std::string log = r.out + r.err;
  EXPECT_NE(log.find(fmt::format("order entry: no answer from the venue 127.0.0.1:{} to the login of HFT01",
                                 venue_port_)),
            std::string::npos)
      << log;
}

// The threads hftd does not pin (main, logging, control, journal flusher, metrics) run on the
// housekeeping CPUs only, never on the pinned pipeline thread's: on a 2-vCPU host an unpinned
// thread woken on the hot CPU preempts the busy-polling pipeline thread (docs/benchmarks.md).
// Was: every unpinned thread allowed on every CPU.
TEST_F(HftdStartup, UnpinnedThreadsStayOffThePinnedCpu) {
  std::vector<int> allowed;
  {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    ASSERT_EQ(::sched_getaffinity(0, sizeof mask, &mask), 0);
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &mask)) allowed.push_back(i);
  }
  if (allowed.size() < 2) GTEST_SKIP() << "needs two CPUs";
  const int hot = allowed.back();
  write_config(fmt::format("[[threads]]\nname = \"hft-pipeline\"\ncpu = {}\nidle = \"backoff\"\n"
                           "stages = [\"net\", \"parse\", \"book\", \"strategy\", \"risk\"]\n[journal]\ndir = \"{}\"\n",
                           hot, (dir_ / "journal").string()),
               "");
  Child c({program("hftd").string(), "--config", (dir_ / "hftd.toml").string(), "--duration", "20"}, dir_ / "hftd.out",
          dir_ / "hftd.err", {{"HFT_CONTROL_DIR", (dir_ / "shm").string()}});
  ASSERT_TRUE(c.started());
  // Each thread's name and the CPUs it may run on, once the pipeline thread and the journal's
  // flusher exist.
  std::map<std::string, std::string> threads;
  const auto read_threads = [&] {
    threads.clear();
    std::error_code ec;
    for (const auto& t : fs::directory_iterator(fmt::format("/proc/{}/task", c.pid()), ec)) {
      std::string name = slurp(t.path() / "comm");
      while (!name.empty() && name.back() == '\n') name.pop_back();
      std::ifstream status(t.path() / "status");
      for (std::string line; std::getline(status, line);)
        if (line.starts_with("Cpus_allowed_list:")) threads[name + " " + t.path().filename().string()] = line.substr(line.find_first_not_of(" \t", 18));
    }
    bool pipeline = false, flusher = false;
    for (const auto& [name, cpus] : threads) {
      pipeline = pipeline || name.starts_with("hft-pipeline ");
      flusher = flusher || name.starts_with("journal-flush ");
    }
    return pipeline && flusher;
  };
  ASSERT_TRUE(wait_until(read_threads, std::chrono::seconds(15))) << slurp(dir_ / "hftd.err");
  const std::string hot_text = std::to_string(hot);
  for (const auto& [name, cpus] : threads) {
    if (name.starts_with("hft-pipeline ")) {
      EXPECT_EQ(cpus, hot_text) << name;
      continue;
    }
    std::vector<int> list;
    for (std::size_t pos = 0; pos < cpus.size();) {  // "0-3,5" -> 0 1 2 3 5
      const std::size_t end = std::min(cpus.find(',', pos), cpus.size());
      const std::string part = cpus.substr(pos, end - pos);
      const std::size_t dash = part.find('-');
      const int lo = std::stoi(part.substr(0, dash)), hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
      for (int i = lo; i <= hi; ++i) list.push_back(i);
      pos = end + 1;
    }
    EXPECT_EQ(std::count(list.begin(), list.end(), hot), 0) << name << " may run on the pinned CPU " << hot << ": " << cpus;
    EXPECT_FALSE(list.empty()) << name;
  }
  c.signal(SIGTERM);
  EXPECT_EQ(c.finish(std::chrono::seconds(20)), 0) << slurp(dir_ / "hftd.err");
}

}  // namespace
}  // namespace hft::hftctl_test
