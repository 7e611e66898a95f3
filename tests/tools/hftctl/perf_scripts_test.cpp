// The profiling scripts of perf/ run for real on small inputs, and their outputs are checked:
// a valid flame graph SVG with one <rect> per frame, a perf stat report, callgrind's
// instructions per message, gprof's flat profile and call graph. A script that cannot run here
// (exit 77: perf_event_paranoid, no valgrind) is a skip with its reason.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/tools/hftctl/child.hpp"

namespace hft::hftctl_test {
namespace {

const fs::path kSource = HFT_SOURCE_DIR;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// The value of attribute `name` in the n-th <rect ...> of an SVG.
double rect_attribute(const std::string& svg, std::size_t n, const std::string& name) {
  std::size_t p = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    p = svg.find("<rect ", p + 1);
    if (p == std::string::npos) return -1;
  }
  const std::size_t a = svg.find(" " + name + "=\"", p);
  return a == std::string::npos ? -1 : std::strtod(svg.c_str() + a + name.size() + 3, nullptr);
}

// The SVG is well formed (xmllint when installed), and has as many rects as frame tooltips.
void expect_flame_graph(const fs::path& svg_path, std::size_t min_frames) {
  const std::string svg = slurp(svg_path);
  ASSERT_TRUE(svg.starts_with("<?xml")) << svg.substr(0, 200);
  EXPECT_NE(svg.find("<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  const std::size_t rects = count_of(svg, "<rect "), titles = count_of(svg, "<title>");
  EXPECT_EQ(rects, titles) << "one rect per frame, each with its tooltip";
  EXPECT_GE(rects, min_frames);
  if (const auto xmllint = on_path("xmllint")) {
    const Result r = run({xmllint->string(), "--noout", svg_path.string()}, svg_path.parent_path());
    EXPECT_EQ(r.rc, 0) << r.err;
  }
}

// The perf/ scripts drive external tools (perf, valgrind, gprof) over an uninstrumented or
// separately built hft-itch (build/callgrind, build/gprof are the same in both runs): the asan run
// would repeat the release run's check of those tools, not look at our memory safety. It skips them.
#ifdef HFT_SANITIZED
#define HFT_SKIP_IN_SANITIZED_BUILD() \
  GTEST_SKIP() << "tests the perf/ scripts and external tools; run in the release build, not the sanitized one"
#else
#define HFT_SKIP_IN_SANITIZED_BUILD() (void)0
#endif

class PerfScripts : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fs::temp_directory_path() / ("perf_scripts_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(work_);
    fs::create_directories(work_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(work_);
  }
  Result script(const std::string& name, std::vector<std::string> args, std::map<std::string, std::string> env = {},
                std::chrono::seconds limit = std::chrono::seconds(120)) {
    args.insert(args.begin(), (kSource / "perf" / name).string());
    return run(args, work_, env, limit);
  }
  // A small generated day (hft-itch of this build), or "" when hft-itch is not built.
  std::string day(int messages) {
    const fs::path itch = program("hft-itch");
    if (!fs::exists(itch)) return {};
    const fs::path file = work_ / "day.itch";
    const Result r = run({itch.string(), "gen", "--out", file.string(), "--messages", std::to_string(messages)}, work_);
    return r.rc == 0 ? file.string() : std::string();
  }
  fs::path work_;
};

TEST_F(PerfScripts, FlameGraphFromKnownStacks) {
  {
    std::ofstream(work_ / "in.folded") << "a;b 2\nd 1\na;c 1\n";
  }
  const Result r = run({"/bin/sh", "-c",
                        (kSource / "perf/flamegraph.sh").string() + " svg --title 'a <test> & more' --width 1020 < " +
                            (work_ / "in.folded").string() + " > " + (work_ / "out.svg").string()},
                       work_);
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_flame_graph(work_ / "out.svg", 5);
  const std::string svg = slurp(work_ / "out.svg");
  EXPECT_EQ(count_of(svg, "<rect "), 5u) << "all, a, b, c, d";
  EXPECT_NE(svg.find("a &lt;test&gt; &amp; more"), std::string::npos) << "title escaped";
  for (const char* t : {"<title>all (4 samples, 100.00%)</title>", "<title>a (3 samples, 75.00%)</title>",
                        "<title>b (2 samples, 50.00%)</title>", "<title>c (1 samples, 25.00%)</title>",
                        "<title>d (1 samples, 25.00%)</title>"})
    EXPECT_NE(svg.find(t), std::string::npos) << t << "\n" << svg;
  // Widths are shares of 1000 px (width 1020 less margins): all 1000, then a 750 ...
  std::vector<double> widths;
  for (std::size_t i = 0; i < 5; ++i) widths.push_back(rect_attribute(svg, i, "width"));
  std::sort(widths.begin(), widths.end());
  EXPECT_DOUBLE_EQ(widths[0], 250);
  EXPECT_DOUBLE_EQ(widths[1], 250);
  EXPECT_DOUBLE_EQ(widths[2], 500);
  EXPECT_DOUBLE_EQ(widths[3], 750);
  EXPECT_DOUBLE_EQ(widths[4], 1000);

  // perf script text -> folded stacks (root first, the command as the root frame), and the top.
  {
    std::ofstream(work_ / "script.txt") << "prog  1/1      250000 \n\t    55aa leaf_fn+0x12\n\t    55ab mid(int)+0x3 (/bin/prog)\n"
                                           "\t    55ac main+0x1\n\nprog  1/1      250000 \n\t    55aa leaf_fn+0x20\n"
                                           "\t    55ab mid(int)+0x9\n\t    55ac main+0x1\n\nprog  1/1      250000 \n\t    55ac main+0x5\n\n";
  }
  const Result fold = run({"/bin/sh", "-c", (kSource / "perf/flamegraph.sh").string() + " fold < " + (work_ / "script.txt").string()}, work_);
  ASSERT_EQ(fold.rc, 0) << fold.err;
  EXPECT_EQ(fold.out, "prog;main 1\nprog;main;mid(int);leaf_fn 2\n");
  std::ofstream(work_ / "f.folded") << fold.out;
  const Result top = run({"/bin/sh", "-c", (kSource / "perf/flamegraph.sh").string() + " top 5 < " + (work_ / "f.folded").string()}, work_);
  ASSERT_EQ(top.rc, 0) << top.err;
  EXPECT_EQ(top.out, "2\t66.67%\tleaf_fn\n1\t33.33%\tmain\n");
}

TEST_F(PerfScripts, RecordAReplayAndAProcess) {
  HFT_SKIP_IN_SANITIZED_BUILD();
  const std::string input = day(50'000);
  if (input.empty()) GTEST_SKIP() << "hft-itch not built";
  const std::map<std::string, std::string> env{{"HFT_ITCH", program("hft-itch").string()}};
  Result r = script("record.sh", {"--replay", input, "--repeat", "5", "--out", (work_ / "rec").string()}, env);
  if (r.rc == 77) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("top of the flame graph"), std::string::npos) << r.out;
  expect_flame_graph(work_ / "rec/flame.svg", 3);
  const std::string folded = slurp(work_ / "rec/stacks.folded");
  EXPECT_NE(folded.find("hft-itch;"), std::string::npos) << "the command is the root frame";
  EXPECT_FALSE(slurp(work_ / "rec/top.txt").empty());

  // --pid: a busy shell loop for one second.
  Child busy({"/bin/sh", "-c", "while :; do :; done"}, work_ / "busy.out", work_ / "busy.err");
  r = script("record.sh", {"--pid", std::to_string(busy.pid()), "--seconds", "1", "--out", (work_ / "pid").string()}, env);
  busy.signal(SIGKILL);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  expect_flame_graph(work_ / "pid/flame.svg", 2);
  EXPECT_NE(slurp(work_ / "pid/stacks.folded").find("sh;"), std::string::npos);

  // Bad arguments are refused with a reason.
  r = script("record.sh", {"--pid", "1", "--replay", input});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("exclude each other"), std::string::npos) << r.err;
  r = script("record.sh", {"--bogus"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(script("record.sh", {"--help"}).rc, 0);
}

TEST_F(PerfScripts, StatWithHardwareOrSoftwareEvents) {
  HFT_SKIP_IN_SANITIZED_BUILD();
  const std::string input = day(50'000);
  if (input.empty()) GTEST_SKIP() << "hft-itch not built";
  const Result r = script("stat.sh", {"--replay", input, "--repeat", "2", "--out", (work_ / "stat").string()},
                          {{"HFT_ITCH", program("hft-itch").string()}});
  if (r.rc == 77) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const std::string report = slurp(work_ / "stat/stat.txt");
  EXPECT_NE(report.find("Performance counter stats for"), std::string::npos) << report;
  EXPECT_NE(report.find("task-clock"), std::string::npos);
  EXPECT_NE(report.find("page-faults"), std::string::npos);
  const bool hw = report.find("# hardware counters available") != std::string::npos;
  const bool sw = report.find("# no hardware performance counters on this host") != std::string::npos;
  EXPECT_TRUE(hw != sw) << "says which: " << report;
  if (hw) {
    EXPECT_NE(report.find("instructions"), std::string::npos);
  }
  EXPECT_NE(slurp(work_ / "stat/stat.csv").find(",task-clock,"), std::string::npos);
  EXPECT_NE(r.out.find("ns/message"), std::string::npos) << r.out;
}

TEST_F(PerfScripts, CallgrindInstructionsPerMessage) {
  HFT_SKIP_IN_SANITIZED_BUILD();
  if (!on_path("valgrind")) GTEST_SKIP() << "valgrind not installed";
  std::vector<std::string> args{"--messages", "20000", "--out", (work_ / "cg").string()};
  const fs::path portable = kSource / "build/callgrind/bin/hft-itch";
  std::ifstream cpuinfo("/proc/cpuinfo");
  const bool avx512 = std::string((std::istreambuf_iterator<char>(cpuinfo)), std::istreambuf_iterator<char>()).find(" avx512f") != std::string::npos;
  const char* build = std::getenv("HFT_PERF_BUILD");
  if (fs::exists(portable)) {
    args.insert(args.end(), {"--itch", portable.string()});
  } else if (!avx512 && fs::exists(program("hft-itch"))) {
#ifdef HFT_SANITIZED
    GTEST_SKIP() << "a sanitized hft-itch does not run under valgrind";
#endif
    args.insert(args.end(), {"--itch", program("hft-itch").string()});
  } else if (build == nullptr || std::string(build) != "1") {
    GTEST_SKIP() << "this host has AVX-512, which valgrind cannot run: `perf/callgrind.sh` builds a portable hft-itch "
                    "in build/callgrind once (or set HFT_PERF_BUILD=1 to let this test build it)";
  }
  const Result r = script("callgrind.sh", args, {}, std::chrono::seconds(1200));
  if (r.rc == 77) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const std::string report = slurp(work_ / "cg/callgrind.txt");
  double parse = 0, book = 0;
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("parse: ")) parse = std::strtod(line.c_str() + 7, nullptr);
    if (line.starts_with("book: ")) book = std::strtod(line.c_str() + 6, nullptr);
  }
  EXPECT_GT(parse, 1.0) << report;
  EXPECT_GT(book, parse) << "building books costs more than decoding: " << report;
  EXPECT_LT(book, 100'000.0) << report;
  EXPECT_TRUE(fs::exists(work_ / "cg/callgrind.book.r2.out"));
}

TEST_F(PerfScripts, GprofFlatProfileAndCallGraph) {
  HFT_SKIP_IN_SANITIZED_BUILD();
  if (!on_path("gprof")) GTEST_SKIP() << "gprof not installed";
  std::vector<std::string> args{"--messages", "20000", "--repeat", "2", "--out", (work_ / "gp").string()};
  const char* build = std::getenv("HFT_PERF_BUILD");
  if (build == nullptr || std::string(build) != "1") {
    if (!fs::exists(kSource / "build/gprof/bin/hft-itch"))
      GTEST_SKIP() << "no build/gprof/bin/hft-itch: `perf/gprof.sh` builds the gprof preset once (or set "
                      "HFT_PERF_BUILD=1 to let this test build it)";
    args.push_back("--no-build");
  }
  const Result r = script("gprof.sh", args, {}, std::chrono::seconds(1200));
  if (r.rc == 77) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const std::string flat = slurp(work_ / "gp/gprof-flat.txt");
  EXPECT_NE(flat.find("Flat profile:"), std::string::npos) << flat.substr(0, 500);
  EXPECT_NE(flat.find("cumulative"), std::string::npos);
  EXPECT_NE(flat.find("hft::"), std::string::npos) << "the project's functions are in it";
  const std::string graph = slurp(work_ / "gp/gprof-callgraph.txt");
  EXPECT_NE(graph.find("Call graph"), std::string::npos) << graph.substr(0, 500);
  EXPECT_TRUE(fs::exists(work_ / "gp/gprof/gmon.out"));
}

}  // namespace
}  // namespace hft::hftctl_test
