// The background flow: deterministic per seed, the message mix of NASDAQ's 09:30 sample, books
// that stay two-sided, uncrossed and bounded; and the venue's steady state allocates nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "tests/venue/venue_fixture.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::venue::testing {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("hft_venue_bg_" + std::to_string(::getpid()) + "_" + name)).string();
}

// A BinaryFILE as a list of messages, with the 6-byte timestamps (offset 5) zeroed: two runs of
// the same seed differ only in when things happened.
std::vector<std::vector<std::uint8_t>> read_capture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t pos = 0;
  while (pos + 2 <= bytes.size()) {
    const std::size_t n = static_cast<std::size_t>(bytes[pos]) << 8 | bytes[pos + 1];
    if (n == 0 || pos + 2 + n > bytes.size()) break;
    std::vector<std::uint8_t> m(bytes.begin() + static_cast<std::ptrdiff_t>(pos + 2),
                                bytes.begin() + static_cast<std::ptrdiff_t>(pos + 2 + n));
    if (m.size() >= 11) std::fill(m.begin() + 5, m.begin() + 11, std::uint8_t{0});
    out.push_back(std::move(m));
    pos += 2 + n;
  }
  return out;
}

struct VenueRun {
  std::vector<std::vector<std::uint8_t>> messages;
  VenueSummary summary;
  std::vector<match::BookDump> books;
};

VenueRun run_venue(std::uint64_t seed, double rate, double seconds, const std::function<void(VenueConfig&)>& tweak = {}) {
  std::ostringstream log;
  const auto saved = core::logger().sinks();
  core::logger().sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(log)};
  FeedReceiver sink;  // somewhere for the packets to go
  VenueConfig c = test_config(sink.port());
  c.seed = seed;
  c.background.rate = rate;
  c.duration_ns = static_cast<std::uint64_t>(seconds * 1e9);
  c.capture = temp_path(std::to_string(seed) + ".itch");
  if (tweak) tweak(c);
  VenueRun r;
  {
    Venue v(c);
    v.run();
    r.summary = v.summary();
    r.books = v.books();
  }
  core::logger().sinks() = saved;
  r.messages = read_capture(c.capture);
  std::filesystem::remove(c.capture);
  return r;
}

TEST(BackgroundFlow, TheSameSeedGivesTheSameFeedAndAnotherSeedAnother) {
  const VenueRun a = run_venue(7, 40000, 0.25);
  const VenueRun b = run_venue(7, 40000, 0.25);
  const VenueRun c = run_venue(8, 40000, 0.25);
  // The runs last as long as the clock says, so they end at different messages: compare up to
  // the shorter one's end-of-day system events (its last three messages).
  const std::size_t common = std::min(a.messages.size(), b.messages.size()) - 3;
  ASSERT_GT(common, 2000u);
  std::size_t same = 0;
  while (same < common && a.messages[same] == b.messages[same]) ++same;
  EXPECT_EQ(same, common) << "runs of one seed diverge at message " << same;
  std::size_t same_other = 0;
  while (same_other < std::min(common, c.messages.size()) && a.messages[same_other] == c.messages[same_other]) ++same_other;
  EXPECT_LT(same_other, 100u) << "another seed should change the flow from its first orders";
}

TEST(BackgroundFlow, MessageMixIsCloseToNasdaqsOpeningMinute) {
  // Books far below their bound: the opening minute's proportions, adds outnumbering deletes.
  const VenueRun r = run_venue(3, 40000, 0.5, [](VenueConfig& c) { c.background.max_resting_per_symbol = 20000; });
  std::map<char, std::uint64_t> n;
  std::uint64_t total = 0;
  for (const auto& m : r.messages) {
    ++n[static_cast<char>(m[0])];
    ++total;
  }
  ASSERT_GT(total, 10000u);
  auto pct = [&](char t) { return 100.0 * static_cast<double>(n[t]) / static_cast<double>(total); };
  // ../shared/data/README.md: A 36.7%, U 22.5%, F 19.3%, D 16.7%, E 2.8%, X 0.6%, P 0.4%.
  EXPECT_NEAR(pct('A'), 36.7, 5.0);
  EXPECT_NEAR(pct('U'), 22.5, 4.0);
  EXPECT_NEAR(pct('F'), 19.3, 4.0);
  EXPECT_NEAR(pct('D'), 16.7, 4.0);
  EXPECT_NEAR(pct('E'), 2.8, 2.0);
  EXPECT_GT(n['X'], 0u);
  EXPECT_GT(n['P'], 0u);
  EXPECT_EQ(n['S'], 6u);  // O S Q ... M E C
}

TEST(BackgroundFlow, BooksStayTwoSidedUncrossedAndBounded) {
  const VenueRun r = run_venue(5, 100000, 0.5, [](VenueConfig& c) { c.background.max_resting_per_symbol = 400; });
  ASSERT_EQ(r.books.size(), 5u);  // four symbols and the probe's
  for (std::size_t i = 0; i + 1 < r.books.size(); ++i) {
    const match::BookDump& b = r.books[i];
    ASSERT_FALSE(b.bids.empty()) << "locate " << b.symbol;
    ASSERT_FALSE(b.asks.empty()) << "locate " << b.symbol;
    EXPECT_LT(b.bids[0].price, b.asks[0].price) << "locate " << b.symbol;
    std::uint64_t orders = 0;
    for (const auto& l : b.bids) orders += l.orders;
    for (const auto& l : b.asks) orders += l.orders;
    EXPECT_LE(orders, 400u) << "locate " << b.symbol;
  }
  // The busiest symbol is tens of levels deep on each side.
  EXPECT_GE(r.books[0].bids.size(), 10u);
  EXPECT_GE(r.books[0].asks.size(), 10u);
  EXPECT_TRUE(r.books.back().bids.empty() && r.books.back().asks.empty()) << "the flow never trades the probe symbol";
  // At the bound, makers delete as much as they add.
  EXPECT_GT(r.summary.itch_by_type['D'], r.summary.itch_by_type['A'] / 2);
  // Prices move: the busiest symbol trades over a range of several ticks.
  std::map<std::uint64_t, std::uint32_t> price_of;  // order reference -> price
  std::uint32_t low = ~0u, high = 0;
  for (const auto& m : r.messages) {
    if (wire::load_be16(m.data() + 1) != 1) continue;
    if (m[0] == 'A' || m[0] == 'F') price_of[wire::load_be64(m.data() + 11)] = wire::load_be32(m.data() + 32);
    if (m[0] == 'U') price_of[wire::load_be64(m.data() + 19)] = wire::load_be32(m.data() + 31);
    if (m[0] == 'E') {
      const auto it = price_of.find(wire::load_be64(m.data() + 11));
      if (it == price_of.end()) continue;
      low = std::min(low, it->second);
      high = std::max(high, it->second);
    }
  }
  ASSERT_GT(high, 0u);
  EXPECT_GE(high - low, 3u * 100u) << "executions of locate 1 all within " << (high - low) / 100 << " ticks";
}

class SteadyState : public VenueFixture {};

TEST_F(SteadyState, TheVenueLoopAllocatesNothingWhileTradingWithClientsAndTheFlow) {
  ASSERT_TRUE(hft::testing::counting_active());
  make([](VenueConfig& c) { c.background.rate = 50000; });
  OuchClient& alice = login("ALICE", "a");
  OuchClient& bob = login("BOB", "b");
  const ouch::Price px = reference();
  ouch::UserRefNum a = 1, b = 1;
  auto trade = [&](int i) {
    alice.send(enter(a++, ouch::Side::kSell, 200, symbol(), px + static_cast<ouch::Price>(i % 5) * 100));
    bob.send(enter(b++, ouch::Side::kBuy, 100, symbol(), px + 400, ouch::TimeInForce::kIoc));
    ouch::CancelOrder c;
    c.user_ref_num = a - 1;
    c.quantity = 0;
    alice.send(c);
  };
  for (int i = 0; i < 50; ++i) {  // warm up: every path taken once, every pool touched
    trade(i);
    step();
  }
  std::uint64_t venue_allocations = 0;
  for (int i = 0; i < 300; ++i) {
    trade(i);
    hft::testing::AllocationScope scope;
    venue_->step(1'000'000);
    venue_allocations += scope.allocations();
    for (auto& c : clients_) c->poll(0);
    feed_->poll(0);
  }
  settle();
  EXPECT_EQ(venue_allocations, 0u);
  const VenueSummary s = venue_->summary();
  EXPECT_GT(s.background_messages, 1000u);
  EXPECT_EQ(s.order_entry.accepted, 2u * 350u);
  EXPECT_GT(s.order_entry.executions, 0u);
}

}  // namespace
}  // namespace hft::venue::testing
