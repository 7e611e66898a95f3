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

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

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
    return run({program("hftd").string(), "--config", (dir_ / "hftd.toml").string(), "--duration",
                fmt::format("{}", seconds)},
               dir_, env, std::chrono::seconds(60));
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

}  // namespace
}  // namespace hft::hftctl_test
