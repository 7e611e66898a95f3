// The venue's GLIMPSE 5.0 port (venue/glimpse.hpp) against hftd's client (pipeline/stages/
// glimpse_fetch.hpp): the snapshot rebuilds the engine's books exactly and names the feed's next
// sequence number; bad logins and clients that never log in are refused like on order entry.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "gateways/itch/decoder.hpp"
#include "gateways/itch/glimpse.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/stages/glimpse_fetch.hpp"
#include "tests/venue/venue_fixture.hpp"

namespace hft::venue::testing {
namespace {

class GlimpseTest : public VenueFixture {
 protected:
  Venue& make_glimpse(const std::function<void(VenueConfig&)>& tweak = {}) {
    return make([&](VenueConfig& c) {
      c.glimpse = net::parse_endpoint("127.0.0.1:0");
      c.background.rate = 20000;
      if (tweak) tweak(c);
    });
  }
  pipeline::GlimpseConfig client(const std::string& user, const std::string& password) const {
    pipeline::GlimpseConfig g;
    g.enabled = true;
    g.endpoint = venue_->glimpse_endpoint();
    g.username = user;
    g.password = password;
    g.max_bytes = 8u << 20;
    g.timeout_ns = 5'000'000'000;
    return g;
  }
  // Steps the venue between the client's polls until the attempt ends.
  pipeline::FetchStatus fetch(pipeline::GlimpseFetch& f) {
    f.start(core::monotonic_ns());
    pipeline::FetchStatus st = pipeline::FetchStatus::kBusy;
    run([&] { return (st = f.poll(core::monotonic_ns())) != pipeline::FetchStatus::kBusy; },
        std::chrono::milliseconds(5000));
    return st;
  }
};

// Every displayed order of the engine, with its current shares, in queue order: the levels a
// receiver rebuilds from the snapshot alone are the engine's, and the Snapshot message carries
// the sequence number the feed's next message will have.
TEST_F(GlimpseTest, TheSnapshotRebuildsTheEngineBooksExactly) {
  make_glimpse();
  run([] { return false; }, std::chrono::milliseconds(400));  // a day with quotes, executions, replaces
  std::vector<std::uint8_t> out;
  const std::size_t n = venue_->build_snapshot(out);
  const std::vector<match::BookDump> engine = venue_->books();
  const std::uint64_t next = venue_->summary().itch_messages + 1;
  ASSERT_GT(n, 100u);

  book::BookConfig bc;
  bc.orders = 1 << 16;
  bc.levels = 1 << 14;
  bc.max_locate = 16;
  book::BookSet books(bc);
  book::NullSink sink;
  book::ItchBookHandler<book::NullSink> handler(books, sink);
  itch::DecodeStats stats;
  itch::glimpse::SnapshotReader reader;
  soup::Framer framer(soup::Direction::kServerToClient, 1024);
  std::size_t sequenced = 0;
  framer.feed(out.data(), out.size(), [&](const soup::Packet& p) {
    EXPECT_EQ(p.type, soup::packet_type::kSequencedData);
    ++sequenced;
    if (reader.on_message(p.payload, p.size) == itch::glimpse::SnapshotItem::kMessage)
      itch::decode_message(p.payload, p.size, handler, stats);
    return true;
  });
  EXPECT_EQ(sequenced, n);
  EXPECT_TRUE(reader.ended());
  EXPECT_EQ(reader.sequence(), next);
  EXPECT_EQ(reader.counters().malformed, 0u);
  EXPECT_EQ(reader.counters().directories, venue_->config().symbols.size() + 1);
  EXPECT_EQ(books.stats().unknown_order, 0u);
  EXPECT_EQ(books.stats().duplicate_order, 0u);
  std::size_t levels = 0;
  for (const match::BookDump& d : engine) {
    for (const auto side : {book::Side::kBid, book::Side::kAsk}) {
      const auto& want = side == book::Side::kBid ? d.bids : d.asks;
      std::vector<book::Level> got(want.size() + 1);
      got.resize(books.depth(d.symbol, side, got));
      ASSERT_EQ(got.size(), want.size()) << "locate " << d.symbol;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].price, want[i].price) << "locate " << d.symbol << " level " << i;
        EXPECT_EQ(got[i].shares, want[i].shares) << "locate " << d.symbol << " level " << i;
        EXPECT_EQ(got[i].orders, want[i].orders) << "locate " << d.symbol << " level " << i;
      }
      levels += got.size();
    }
  }
  EXPECT_GT(levels, 20u);
}

// hftd's client fetches a snapshot over loopback; a wrong password is refused (after the failed-
// login delay) and the client reports it; several users may fetch one after another.
TEST_F(GlimpseTest, ServesTheClientAndRefusesAWrongPassword) {
  make_glimpse([](VenueConfig& c) { c.order_entry.login_failure_delay_ns = 50'000'000; });
  run([] { return false; }, std::chrono::milliseconds(200));
  pipeline::GlimpseFetch good(client("ALICE", "a"));
  ASSERT_EQ(fetch(good), pipeline::FetchStatus::kDone) << pipeline::to_string(good.failure());
  EXPECT_GT(good.counters().add_orders, 10u);
  EXPECT_GT(good.sequence(), 1u);
  ASSERT_EQ(fetch(good), pipeline::FetchStatus::kDone) << "a second snapshot";
  pipeline::GlimpseFetch bad(client("BOB", "wrong"));
  ASSERT_EQ(fetch(bad), pipeline::FetchStatus::kFailed);
  EXPECT_EQ(bad.failure(), pipeline::FetchFailure::kRejected);
  settle();
  const GlimpseCounters& g = venue_->summary().glimpse;
  EXPECT_EQ(g.snapshots, 2u);
  EXPECT_EQ(g.completed, 2u);
  EXPECT_EQ(g.login_rejects, 1u);
}

// A connection that never logs in is closed at the login deadline (absolute), and one source
// cannot hold more than its share of the port's connections.
TEST_F(GlimpseTest, ConnectionsWithoutALoginAreClosedAtTheDeadline) {
  make_glimpse([](VenueConfig& c) {
    c.order_entry.login_timeout_ns = 200'000'000;
    c.glimpse_max_connections = 4;
    c.glimpse_max_connections_per_source = 2;
  });
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const net::Endpoint to = venue_->glimpse_endpoint();
    (void)::connect(fd, reinterpret_cast<const sockaddr*>(&to.addr), sizeof to.addr);
    fds.push_back(fd);
    settle(5);
  }
  auto closed = [&](int fd) {
    char b[64];
    const ssize_t n = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  };
  settle(5);
  EXPECT_TRUE(closed(fds[2])) << "a third connection from one source was kept (limit 2)";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(run([&] { return closed(fds[0]) && closed(fds[1]); }, std::chrono::milliseconds(3000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_GE(venue_->summary().glimpse.closed_early, 2u);
  for (const int fd : fds) ::close(fd);
}

}  // namespace
}  // namespace hft::venue::testing
