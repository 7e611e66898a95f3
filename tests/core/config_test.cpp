#include "core/config.hpp"

#include <gtest/gtest.h>

#include <sched.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/runtime_config.hpp"

namespace hft::core {
namespace {

std::string error_of(std::string_view text, const char* name = "hftd.toml") {
  try {
    auto doc = ConfigDocument::parse(text, name);
    auto root = doc->root();
    (void)parse_runtime(root);
    root.reject_unknown_keys();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kValid = R"(
[memory]
size_mb = 32
hugepages = "thp"
numa_node = 0

[log]
level = "debug"

[[threads]]
name = "hft-md"
cpu = 1
idle = "spin"
stages = ["net", "parse", "book"]

[[threads]]
name = "hft-oe"
idle = "backoff"
max_park_us = 200
stages = ["strategy", "risk"]
)";

TEST(Config, ParsesAValidFile) {
  auto doc = ConfigDocument::parse(kValid, "ok.toml");
  auto root = doc->root();
  const RuntimeConfig c = parse_runtime(root);
  root.reject_unknown_keys();
  EXPECT_EQ(c.memory.bytes, 32u << 20);
  EXPECT_EQ(c.memory.mode, PageMode::kThp);
  EXPECT_EQ(c.memory.numa_node, 0);
  EXPECT_EQ(c.log.level, LogLevel::kDebug);
  ASSERT_EQ(c.threads.size(), 2u);
  EXPECT_EQ(c.threads[0].name, "hft-md");
  EXPECT_EQ(c.threads[0].cpu, 1);
  EXPECT_EQ(c.threads[0].idle.kind, IdleKind::kBusySpin);
  EXPECT_EQ(c.threads[0].stages, (std::vector<std::string>{"net", "parse", "book"}));
  EXPECT_EQ(c.threads[1].cpu, -1);
  EXPECT_EQ(c.threads[1].idle.max_park_ns, 200'000u);
}

TEST(Config, MalformedFileNamesFileLineAndColumn) {
  const std::string e = error_of("[memory]\nsize_mb = 32\nhugepages = \"thp\n", "bad.toml");
  EXPECT_NE(e.find("bad.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("syntax error"), std::string::npos) << e;
}

TEST(Config, MissingRequiredKeyNamesFileLineAndKey) {
  const std::string e = error_of("[memory]\nsize_mb = 32\n\n[[threads]]\ncpu = 1\n");
  EXPECT_NE(e.find("hftd.toml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("threads[0].name: required key is missing"), std::string::npos) << e;
}

TEST(Config, WrongTypeNamesTheValueLine) {
  const std::string e = error_of("[memory]\n\nsize_mb = \"big\"\n");
  EXPECT_NE(e.find("hftd.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("memory.size_mb: expected an integer, got a string"), std::string::npos) << e;
}

TEST(Config, OutOfRangeAndBadChoice) {
  std::string e = error_of("[memory]\nsize_mb = 1\n");
  EXPECT_NE(e.find("memory.size_mb: 1 is out of range"), std::string::npos) << e;
  e = error_of("[memory]\nhugepages = \"huge\"\n");
  EXPECT_NE(e.find("hftd.toml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("expected one of \"auto\", \"hugetlb\", \"thp\", \"normal\", got \"huge\""), std::string::npos) << e;
  e = error_of("[[threads]]\nname = \"this-name-is-too-long\"\n");
  EXPECT_NE(e.find("threads[0].name: must be 1 to 15 characters"), std::string::npos) << e;
}

TEST(Config, UnknownKeyIsAnErrorNotASilentDefault) {
  const std::string e = error_of("[memory]\nsize_mb = 32\nhugepage = \"thp\"\n");
  EXPECT_NE(e.find("hftd.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("memory.hugepage: unknown key"), std::string::npos) << e;
  const std::string top = error_of("colour = 1\n");
  EXPECT_NE(top.find("colour: unknown key"), std::string::npos) << top;
}

TEST(Config, DuplicateThreadNames) {
  const std::string e = error_of("[[threads]]\nname = \"a\"\n[[threads]]\nname = \"a\"\n");
  EXPECT_NE(e.find("duplicate thread name"), std::string::npos) << e;
}

// A CPU of this process's affinity mask (sched_getaffinity), so the tests hold under taskset.
int first_allowed_cpu() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof mask, &mask) == 0)
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &mask)) return i;
  return 0;
}

// Issue 18 (Low): a CPU the process may not run on was accepted, logged at info, and the thread
// ran unpinned. CPU 4000 is in range (0..4095) but beyond CPU_SETSIZE, so never in the mask.
TEST(Config, RefusesACpuOutsideTheAffinityMask) {
  const std::string e = error_of("[[threads]]\nname = \"a\"\ncpu = 4000\n");
  EXPECT_NE(e.find("hftd.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("threads[0].cpu: CPU 4000 is not one this process may run on"), std::string::npos) << e;
}

// Two busy-spinning threads on one CPU take turns by the scheduler's time slice (milliseconds):
// refused. A spinning thread beside one that parks (backoff) is allowed.
TEST(Config, RefusesTwoSpinningThreadsOnOneCpu) {
  const int cpu = first_allowed_cpu();
  const auto two = [&](const char* idle_a, const char* idle_b) {
    return error_of(fmt::format("[[threads]]\nname = \"a\"\ncpu = {0}\nidle = \"{1}\"\n"
                                "[[threads]]\nname = \"b\"\ncpu = {0}\nidle = \"{2}\"\n",
                                cpu, idle_a, idle_b));
  };
  std::string e = two("spin", "spin");
  EXPECT_NE(e.find("hftd.toml:7:"), std::string::npos) << e;
  EXPECT_NE(e.find(fmt::format("threads[1].cpu: thread \"b\" shares CPU {} with thread \"a\"", cpu)), std::string::npos) << e;
  e = two("yield", "spin");
  EXPECT_NE(e.find("shares CPU"), std::string::npos) << e;
  EXPECT_EQ(two("spin", "backoff"), "");
  EXPECT_EQ(two("backoff", "backoff"), "");
  EXPECT_EQ(two("yield", "yield"), "");
}

TEST(Config, MissingFileIsAClearError) {
  try {
    (void)ConfigDocument::load_file("/nonexistent/hftd.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hftd.toml: cannot open"), std::string::npos) << e.what();
  }
}

TEST(Config, LoadsFromDisk) {
  const auto path = std::filesystem::temp_directory_path() / "hft_config_test.toml";
  {
    std::ofstream f(path);
    f << kValid;
  }
  auto doc = ConfigDocument::load_file(path.string());
  const RuntimeConfig c = parse_runtime(doc->root());
  EXPECT_EQ(c.threads.size(), 2u);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hft::core
