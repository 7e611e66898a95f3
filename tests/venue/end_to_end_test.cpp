// The venue running on its own thread with background flow, as a client and a feed handler see
// it: an OUCH client crosses the background's quotes and gets Accepted and Executed (and a
// Rejected for a reused UserRefNum); a MoldUDP64 receiver that drops packets on purpose
// recovers every message from the re-request server and ends with the venue's own books.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/log.hpp"
#include "venue/venue.hpp"
#include "tests/venue/venue_test_util.hpp"

namespace hft::venue::testing {
namespace {

class QuietLog {
 public:
  QuietLog() : saved_(core::logger().sinks()) {
    core::logger().sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)};
  }
  ~QuietLog() {
    core::logger().sinks() = saved_;
    if (::testing::Test::HasFailure() || std::getenv("HFT_TEST_SHOW_LOG") != nullptr) std::cerr << log_.str();
  }
  QuietLog(const QuietLog&) = delete;
  QuietLog& operator=(const QuietLog&) = delete;
  [[nodiscard]] std::string text() const { return log_.str(); }

 private:
  std::ostringstream log_;
  std::vector<spdlog::sink_ptr> saved_;
};

// Every locate's displayed levels as the receiver rebuilt them equal the engine's.
void expect_same_books(const ItchBook& book, const std::vector<match::BookDump>& engine) {
  ASSERT_FALSE(engine.empty());
  for (const match::BookDump& d : engine) {
    const auto bids = book.levels(d.symbol, 'B');
    const auto asks = book.levels(d.symbol, 'S');
    ASSERT_EQ(bids.size(), d.bids.size()) << "locate " << d.symbol;
    ASSERT_EQ(asks.size(), d.asks.size()) << "locate " << d.symbol;
    for (std::size_t i = 0; i < bids.size(); ++i) {
      EXPECT_EQ(bids[i][0], static_cast<std::uint64_t>(d.bids[i].price)) << "locate " << d.symbol << " bid " << i;
      EXPECT_EQ(bids[i][1], d.bids[i].shares) << "locate " << d.symbol << " bid " << i;
      EXPECT_EQ(bids[i][2], d.bids[i].orders) << "locate " << d.symbol << " bid " << i;
    }
    for (std::size_t i = 0; i < asks.size(); ++i) {
      EXPECT_EQ(asks[i][0], static_cast<std::uint64_t>(d.asks[i].price)) << "locate " << d.symbol << " ask " << i;
      EXPECT_EQ(asks[i][1], d.asks[i].shares) << "locate " << d.symbol << " ask " << i;
      EXPECT_EQ(asks[i][2], d.asks[i].orders) << "locate " << d.symbol << " ask " << i;
    }
  }
}

TEST(VenueEndToEnd, ClientTradesWithTheBackgroundAndALossyReceiverRecoversEveryMessage) {
  QuietLog quiet;
  FeedReceiver feed(/*drop_every=*/5);
  VenueConfig c = test_config(feed.port());
  c.background.rate = 20000;
  c.seed = 7;
  c.book_dump = (std::filesystem::temp_directory_path() / ("hft_venue_e2e_" + std::to_string(::getpid()) + ".json")).string();
  // Unanswered probes time out and are deleted: one more source of messages in every pass.
  c.probe.histogram = c.book_dump + ".hgrm";
  c.probe.interval_ns = 3'000'000;
  c.probe.timeout_ns = 7'000'000;
  Venue venue(c);
  feed.set_rerequest(venue.rerequest_endpoint());
  std::thread loop([&] { venue.run(); });

  OuchClient alice("ALICE", "a", venue.ouch_endpoint());
  const auto step = [&] {
    alice.poll(0);
    feed.poll(1);
  };
  ASSERT_TRUE(run_until(step, [&] { return alice.logged_in(); }));
  // The busiest symbol (locate 1) gets quotes on both sides within a few hundred ms.
  ASSERT_TRUE(run_until(step, [&] {
    return feed.book().levels(1, 'S').size() >= 5 && feed.book().levels(1, 'B').size() >= 5;
  }));
  const std::string sym(c.symbols[0].symbol.view());
  const std::uint64_t ask = feed.book().levels(1, 'S')[0][0];
  const std::uint64_t bid = feed.book().levels(1, 'B')[0][0];
  // Two cents through the touch, so a quote that moved meanwhile is still reached.
  ASSERT_TRUE(alice.send(enter(1, ouch::Side::kBuy, 100, sym, ask + 200, ouch::TimeInForce::kIoc)));
  ASSERT_TRUE(alice.send(enter(2, ouch::Side::kSell, 100, sym, bid - 200, ouch::TimeInForce::kIoc)));
  ASSERT_TRUE(alice.send(enter(2, ouch::Side::kSell, 100, sym, bid - 200, ouch::TimeInForce::kIoc)));  // reused
  ASSERT_TRUE(run_until(step, [&] {
    std::uint32_t filled = 0;
    for (const auto& e : alice.all<ouch::OrderExecuted>()) filled += e.quantity;
    return filled >= 200 && alice.all<ouch::OrderRejected>().size() == 1;
  })) << alice.types();
  const auto accepted = alice.all<ouch::OrderAccepted>();
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_EQ(accepted[0].user_ref_num, 1u);
  EXPECT_EQ(accepted[1].user_ref_num, 2u);
  for (const auto& e : alice.all<ouch::OrderExecuted>()) EXPECT_EQ(e.liquidity_flag, 'R');
  const auto rejected = alice.all<ouch::OrderRejected>();
  EXPECT_EQ(rejected[0].user_ref_num, 2u);
  EXPECT_EQ(rejected[0].reason, ouch::RejectReason::kOther);

  // More flow, then the end of the day; the receiver keeps recovering until the session's end.
  run_until(step, [] { return false; }, std::chrono::milliseconds(300));
  alice.logout();
  ASSERT_TRUE(run_until(step, [&] { return !alice.connected(); }));
  venue.stop();
  ASSERT_TRUE(run_until(step, [&] { return feed.complete(); }, std::chrono::milliseconds(8000)))
      << "next expected " << feed.session().next_expected() << ", highest seen " << feed.session().highest_seen();
  loop.join();

  const VenueSummary s = venue.summary();
  const mold::SessionCounters& rx = feed.counters();
  EXPECT_GT(feed.dropped_packets, 10u);
  EXPECT_GT(s.rerequests.answered, 0u);
  EXPECT_EQ(rx.lost, 0u);
  EXPECT_EQ(rx.recovered, feed.dropped_messages);
  EXPECT_EQ(rx.messages, s.itch_messages);  // every message published, exactly once, in order
  EXPECT_EQ(feed.book().errors, 0u);
  EXPECT_EQ(feed.timestamp_regressions, 0u);
  EXPECT_GT(s.background_messages, 5000u);
  EXPECT_EQ(s.order_entry.accepted, 2u);
  EXPECT_EQ(s.order_entry.rejected, 1u);
  expect_same_books(feed.book(), venue.books());
  // The appliance's books (pipeline/book) built by the lossy receiver print exactly as the
  // venue's --book-dump: the same canonical JSON, byte for byte.
  std::ifstream dump(c.book_dump, std::ios::binary);
  const std::string dumped((std::istreambuf_iterator<char>(dump)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(dumped.empty()) << c.book_dump;
  EXPECT_EQ(book::to_json(book::take_snapshot(feed.books())), dumped);
  EXPECT_TRUE(s.outputs_ok);
  EXPECT_GT(s.probe.timeouts, 10u);
  std::filesystem::remove(c.book_dump);
  std::filesystem::remove(c.probe.histogram);
}

}  // namespace
}  // namespace hft::venue::testing
