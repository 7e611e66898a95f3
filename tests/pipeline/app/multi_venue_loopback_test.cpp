// Issue 14 on loopback: two venues (the real venue::Venue, hft-exchange's engine, each with its own
// feed, re-request server and order-entry port) trade the same symbols, listed in a different
// order so their ITCH locates differ, and one hftd with two [[venues]] receives both feeds. Both
// venues' books build in hftd (one instrument per symbol), equal to each venue's own books, and
// the consolidated touch (risk's reference: best bid and ask over the fresh venues) is the better
// of the two. The venues run in this process, stepped by the test thread, so that the comparison
// happens with both venues still (no process to signal, nothing moving while hftd catches up).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/config.hpp"
#include "pipeline/app/appliance.hpp"
#include "pipeline/app/config.hpp"
#include "pipeline/control/control_file.hpp"
#include "tests/support/child_process.hpp"
#include "venue/venue.hpp"

namespace hft::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::unique_ptr<venue::Venue> make_venue(std::uint16_t feed_port, std::vector<const char*> symbols, std::uint64_t seed) {
  venue::VenueConfig v;
  v.feed = net::parse_endpoint(fmt::format("127.0.0.1:{}", feed_port));
  v.rerequest = net::parse_endpoint("127.0.0.1:0");
  v.ouch = net::parse_endpoint("127.0.0.1:0");
  v.publisher.heartbeat_interval_ns = 50'000'000;
  v.publisher.end_of_session_packets = 2;
  v.store.max_messages = 1 << 20;
  v.store.max_bytes = 64u << 20;
  v.accounts = {venue::Account{"HFT01", "hft01pw", "HFTA"}};
  v.symbols.clear();  // not the default list
  for (const char* s : symbols) v.symbols.push_back(venue::SymbolSpec{itch::Symbol::from(s), 1'000'000});
  v.engine.max_symbols = static_cast<std::uint32_t>(v.symbols.size() + 2);
  v.engine.max_orders = 1 << 17;
  v.engine.max_levels = 1 << 13;
  v.max_levels_per_side = 512;
  v.background.rate = 2000;
  v.background.max_resting_per_symbol = 500;
  v.seed = seed;
  v.open_delay_ns = 500'000'000;
  v.shutdown_linger_ns = 0;
  v.log.level = core::LogLevel::kWarn;
  return std::make_unique<venue::Venue>(v);
}

TEST(MultiVenueLoopback, BothBooksBuildAndTheConsolidatedTouchIsTheBetterVenue) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() / fmt::format("hft_mv_{}_{}", ::getpid(), info->name());
  fs::remove_all(dir);
  fs::create_directories(dir / "shm");
  const std::string instance = fmt::format("mv{}", ::getpid());
  const std::uint16_t port_a = hft::testing::free_port(SOCK_DGRAM);
  std::uint16_t port_b = hft::testing::free_port(SOCK_DGRAM);
  while (port_b == port_a) port_b = hft::testing::free_port(SOCK_DGRAM);
  auto a = make_venue(port_a, {"AAA", "BBB"}, 1);
  auto b = make_venue(port_b, {"BBB", "AAA"}, 2);  // AAA is locate 1 on A, 2 on B

  const std::string toml = fmt::format(R"(instance = "{instance}"
[memory]
size_mb = 32
hugepages = "normal"
[log]
level = "warn"
[net]
backend = "epoll"
[[venues]]
name = "NASDAQ"
[venues.feed]
listen = "127.0.0.1:{pa}"
rerequest = "127.0.0.1:{ra}"
[venues.order_entry]
venue = "127.0.0.1:{oa}"
user = "HFT01"
password = "hft01pw"
[[venues]]
name = "BX"
fee_add_per_share = 0.0015
[venues.feed]
listen = "127.0.0.1:{pb}"
rerequest = "127.0.0.1:{rb}"
[venues.order_entry]
venue = "127.0.0.1:{ob}"
user = "HFT01"
password = "hft01pw"
[book]
orders = 32768
levels = 8192
max_locate = 64
[[threads]]
name = "hft-pipeline"
idle = "backoff"
stages = ["net", "parse", "book", "strategy", "risk"]
[stats]
histogram_dir = "{dir}"
[control]
dir = "{shm}"
publish_interval_ms = 5
)",
                                       fmt::arg("instance", instance), fmt::arg("pa", port_a), fmt::arg("pb", port_b),
                                       fmt::arg("ra", a->rerequest_endpoint().port()), fmt::arg("oa", a->ouch_endpoint().port()),
                                       fmt::arg("rb", b->rerequest_endpoint().port()), fmt::arg("ob", b->ouch_endpoint().port()),
                                       fmt::arg("dir", dir.string()), fmt::arg("shm", (dir / "shm").string()));
  const auto doc = core::ConfigDocument::parse(toml, "multi_venue.toml");
  const HftdConfig config = parse_hftd_config(doc->root());
  ASSERT_EQ(config.venues.size(), 2u);
  a->start();
  b->start();
  auto appliance = std::make_unique<Appliance>(config);
  appliance->start();
  control::ControlReader reader(instance, (dir / "shm").string());
  auto step_both = [&] {
    a->step(500'000);
    b->step(500'000);
  };
  // Logged in to the first venue (order entry stays there until the order side routes), then
  // both days open and run.
  auto until = std::chrono::steady_clock::now() + 2s;
  while (!appliance->ready() && std::chrono::steady_clock::now() < until) step_both();
  ASSERT_TRUE(appliance->ready());
  until = std::chrono::steady_clock::now() + 1200ms;  // the days open after 500 ms: 700 ms of trading
  while (std::chrono::steady_clock::now() < until) {
    step_both();
    appliance->control_tick();
  }
  // Both venues stand still (not stepped); hftd takes what is on the wire.
  const std::uint64_t last_a = a->summary().itch_messages + 1;
  until = std::chrono::steady_clock::now() + 5s;
  while (reader.feed().next_sequence < last_a && std::chrono::steady_clock::now() < until) {
    appliance->control_tick();
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(reader.feed().next_sequence, last_a) << "hftd did not take the first venue's feed";
  std::this_thread::sleep_for(100ms);  // the second feed was sent in the same passes
  const Summary sum = appliance->stop();
  appliance.reset();

  ASSERT_EQ(sum.venues.size(), 2u);
  EXPECT_EQ(sum.venues[0].venue, "NASDAQ");
  EXPECT_EQ(sum.venues[1].venue, "BX");
  EXPECT_EQ(sum.venues[0].next_sequence, a->summary().itch_messages + 1) << "every message of the first venue";
  EXPECT_EQ(sum.venues[1].next_sequence, b->summary().itch_messages + 1) << "every message of the second venue";
  EXPECT_FALSE(sum.venues[0].stale);
  EXPECT_FALSE(sum.venues[1].stale);

  auto top_of = [&](const std::string& venue, const std::string& symbol) -> const Summary::Top* {
    for (const auto& t : sum.tops)
      if (t.venue == venue && t.symbol == symbol) return &t;
    return nullptr;
  };
  int compared = 0;
  for (const char* symbol : {"AAA", "BBB"}) {
    const Summary::Top* na = top_of("NASDAQ", symbol);
    const Summary::Top* bx = top_of("BX", symbol);
    const Summary::Top* nbbo = top_of("NBBO", symbol);
    ASSERT_NE(na, nullptr) << symbol << ": no book from the first venue";
    ASSERT_NE(bx, nullptr) << symbol << ": no book from the second venue";
    ASSERT_NE(nbbo, nullptr) << symbol;
    EXPECT_EQ(na->instrument, bx->instrument) << symbol << " is one instrument on both venues";
    // Each venue's book in hftd is that venue's own (displayed) book.
    for (auto [venue, top] : {std::pair{a.get(), na}, std::pair{b.get(), bx}}) {
      for (const auto& d : venue->books()) {
        if (d.name.view() != symbol) continue;
        const std::uint64_t bid = d.bids.empty() ? 0 : static_cast<std::uint64_t>(d.bids[0].price);
        const std::uint64_t ask = d.asks.empty() ? 0 : static_cast<std::uint64_t>(d.asks[0].price);
        EXPECT_EQ(top->bid, bid) << top->venue << " " << symbol;
        EXPECT_EQ(top->ask, ask) << top->venue << " " << symbol;
        EXPECT_EQ(top->bid_shares, d.bids.empty() ? 0 : d.bids[0].shares) << top->venue << " " << symbol;
        EXPECT_EQ(top->ask_shares, d.asks.empty() ? 0 : d.asks[0].shares) << top->venue << " " << symbol;
        ++compared;
      }
    }
    const std::uint32_t best_bid = std::max(na->bid, bx->bid);
    const std::uint32_t best_ask = na->ask == 0 ? bx->ask : bx->ask == 0 ? na->ask : std::min(na->ask, bx->ask);
    EXPECT_EQ(nbbo->bid, best_bid) << symbol << ": the consolidated bid is the better venue's";
    EXPECT_EQ(nbbo->ask, best_ask) << symbol << ": the consolidated ask is the better venue's";
  }
  EXPECT_EQ(compared, 4);
  a->stop();
  a->stop();
  a->finish();
  b->stop();
  b->stop();
  b->finish();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hft::app
