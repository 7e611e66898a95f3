// The wire-to-wire latency probe: a probe goes out alone in its packet, alternates sides, is timed
// out and removed when nobody answers, and with a trivial answering client (blocking sockets)
// fills a histogram written as HdrHistogram .hgrm text that parses back.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "core/histogram.hpp"
#include "tests/venue/venue_fixture.hpp"

namespace hft::venue::testing {
namespace {

class ProbeTest : public VenueFixture {};

std::string probe_temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("hft_venue_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST_F(ProbeTest, UnansweredProbesAlternateSidesAndAreRemovedAfterTheTimeout) {
  Venue& v = make([](VenueConfig& c) {
    c.probe.histogram = probe_temp_path("unanswered.hgrm");
    c.probe.interval_ns = 2'000'000;
    c.probe.timeout_ns = 10'000'000;
  });
  const std::uint16_t probe = v.probe_locate();
  ASSERT_TRUE(run([&] { return v.summary().probe.timeouts >= 4; }));
  settle();
  const VenueSummary s = v.summary();
  EXPECT_EQ(s.probe.answered, 0u);
  EXPECT_GE(s.probe.sent, s.probe.timeouts);
  // Each probe is an add on the probe's locate, removed by a delete; they alternate sides.
  const auto& book = feed_->book();
  EXPECT_EQ(book.locate_of("ZPROBE"), probe);
  EXPECT_GE(feed_->by_type()['D'], 4u);
  EXPECT_LE(book.levels(probe, 'B').size() + book.levels(probe, 'S').size(), 1u);  // at most the live one
  std::filesystem::remove(v.config().probe.histogram);
}

TEST(LatencyProbe, AnsweringClientFillsTheHistogramAndTheHgrmParses) {
  std::ostringstream log;
  const auto saved = core::logger().sinks();
  core::logger().sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(log)};

  VenueConfig c = test_config(0);
  const auto probe_locate = static_cast<std::uint16_t>(c.symbols.size() + 1);
  ProbeAnswerer answerer(probe_locate);
  c.feed = net::parse_endpoint("127.0.0.1:" + std::to_string(answerer.port()));
  c.probe.histogram = probe_temp_path("answered.hgrm");
  c.probe.interval_ns = 1'000'000;
  c.probe.timeout_ns = 100'000'000;
  c.background.rate = 5000;  // ordinary packets between the probes
  std::uint64_t samples = 200;
  if (const char* env = std::getenv("HFT_PROBE_SAMPLES"); env != nullptr) samples = std::strtoull(env, nullptr, 10);

  Venue venue(c);
  std::thread loop([&] { venue.run(); });
  ASSERT_TRUE(answerer.login(venue.ouch_endpoint(), "BOB", "b"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10 + samples / 500);
  while (answerer.answered < samples && std::chrono::steady_clock::now() < deadline) answerer.run_once();
  venue.stop();
  answerer.close();
  loop.join();
  core::logger().sinks() = saved;

  const VenueSummary s = venue.summary();
  ASSERT_GE(answerer.answered, samples) << log.str();
  EXPECT_GE(s.probe.answered + 1, answerer.answered);  // the last answer may have crossed the stop
  EXPECT_GT(s.probe.answered, samples / 2);
  EXPECT_GE(s.engine.executions, s.probe.answered);    // each answer traded one share with its probe

  std::ifstream in(c.probe.histogram);
  ASSERT_TRUE(in) << c.probe.histogram;
  std::stringstream text;
  text << in.rdbuf();
  core::HgrmFile parsed;
  std::string error;
  ASSERT_TRUE(core::parse_hgrm(text.str(), parsed, error)) << error;
  EXPECT_EQ(parsed.total_count, s.probe.answered);
  EXPECT_GT(parsed.total_count, 0u);
  EXPECT_GT(parsed.max, 0.0);
  std::printf("probe wire-to-wire (blocking-socket answerer, %llu samples): p50 %.1f us, p90 %.1f us, p99 %.1f us, "
              "p99.9 %.1f us, max %.1f us\n",
              static_cast<unsigned long long>(s.probe.answered), s.probe_p50_ns / 1e3, s.probe_p90_ns / 1e3,
              s.probe_p99_ns / 1e3, s.probe_p999_ns / 1e3, s.probe_max_ns / 1e3);
  std::filesystem::remove(c.probe.histogram);
}

}  // namespace
}  // namespace hft::venue::testing
