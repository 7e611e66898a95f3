#include "pipeline/journal/config.hpp"

#include <gtest/gtest.h>

#include "core/config.hpp"

namespace hft::journal {
namespace {

JournalConfig parse(std::string_view text) {
  auto doc = core::ConfigDocument::parse(text, "hftd.toml");
  return parse_journal_config(doc->root().require_section("journal"));
}

std::string error_of(std::string_view text) {
  try {
    (void)parse(text);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(JournalConfig, DefaultsAndValues) {
  const JournalConfig d = parse("[journal]\ndir = \"/tmp/j\"\n");
  EXPECT_EQ(d.dir, "/tmp/j");
  EXPECT_EQ(d.segment_bytes, 64ull << 20);
  EXPECT_EQ(d.sync.mode, SyncMode::kInterval);
  EXPECT_EQ(d.sync.interval_ns, 10'000'000u);
  const JournalConfig c = parse("[journal]\ndir = \"j\"\nsegment_mb = 8\nsync = \"every\"\nflusher_cpu = 3\n");
  EXPECT_EQ(c.segment_bytes, 8ull << 20);
  EXPECT_EQ(c.sync.mode, SyncMode::kEvery);
  EXPECT_EQ(c.flusher_cpu, 3);
  EXPECT_EQ(parse("[journal]\ndir = \"j\"\nsync = \"none\"\n").sync.mode, SyncMode::kNone);
  EXPECT_EQ(parse("[journal]\ndir = \"j\"\nsync = \"interval:250us\"\n").sync.interval_ns, 250'000u);
}

TEST(JournalConfig, ErrorsNameFileLineAndKey) {
  const std::string bad_sync = error_of("[journal]\ndir = \"j\"\nsync = \"sometimes\"\n");
  EXPECT_NE(bad_sync.find("hftd.toml:3"), std::string::npos) << bad_sync;
  EXPECT_NE(bad_sync.find("journal.sync"), std::string::npos) << bad_sync;
  EXPECT_NE(bad_sync.find("sometimes"), std::string::npos) << bad_sync;
  const std::string missing = error_of("[journal]\nsync = \"every\"\n");
  EXPECT_NE(missing.find("journal.dir"), std::string::npos) << missing;
  const std::string range = error_of("[journal]\ndir = \"j\"\nsegment_mb = 0\n");
  EXPECT_NE(range.find("journal.segment_mb"), std::string::npos) << range;
  const std::string unknown = error_of("[journal]\ndir = \"j\"\nsegment_bytes = 5\n");
  EXPECT_NE(unknown.find("segment_bytes"), std::string::npos) << unknown;
}

TEST(JournalConfig, SyncPolicyText) {
  SyncPolicy p;
  for (const char* bad : {"", "interval", "interval:", "interval:10", "interval:10s", "interval:0ms", "interval:-1ms",
                          "interval:99999999ms", "interval:10msx", "Every"})
    EXPECT_FALSE(parse_sync_policy(bad, p)) << bad;
  ASSERT_TRUE(parse_sync_policy("interval:10ms", p));
  EXPECT_EQ(to_string(p), "interval:10ms");
  ASSERT_TRUE(parse_sync_policy("interval:1500us", p));
  EXPECT_EQ(to_string(p), "interval:1500us");
  ASSERT_TRUE(parse_sync_policy("every", p));
  EXPECT_EQ(to_string(p), "every");
}

}  // namespace
}  // namespace hft::journal
