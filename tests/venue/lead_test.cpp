// The lead channel (venue/lead.hpp): records, the parser at every split, malformed streams, and a
// leader that never blocks on a follower that does not read (records dropped and counted, then a
// snapshot once it has drained).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <vector>

#include "venue/lead.hpp"

namespace hft::venue {
namespace {

std::vector<std::uint8_t> stream(const std::vector<LeadRecord>& records) {
  std::vector<std::uint8_t> out(records.size() * kLeadRecordSize);
  for (std::size_t i = 0; i < records.size(); ++i) encode_lead(records[i], out.data() + i * kLeadRecordSize);
  return out;
}

LeadRecord hello() {
  LeadRecord h;
  h.type = 'H';
  h.symbol = itch::Symbol::from("BX");
  h.mpid = {'B', 'X', 'X', 'X'};
  h.time_ns = 1'700'000'000'000'000'000ull;
  h.count = 2;
  return h;
}

LeadRecord value(const char* symbol, std::int64_t fair, std::uint32_t seq) {
  LeadRecord v;
  v.type = 'V';
  v.symbol = itch::Symbol::from(symbol);
  v.fair = fair;
  v.time_ns = 1'700'000'000'123'456'789ull + seq;
  v.count = seq;
  return v;
}

TEST(LeadChannel, RecordsAreThirtyTwoBigEndianBytesAndParseAtEverySplit) {
  const auto bytes = stream({hello(), value("AAA", 1'000'100, 1), value("ZZZZZZZZ", 199'999'9900, 2)});
  // The documented layout (docs/venue.md).
  EXPECT_EQ(bytes[32], 'V');
  EXPECT_EQ(std::string(bytes.begin() + 36, bytes.begin() + 44), "AAA     ");
  EXPECT_EQ(bytes[32 + 19], 0xA4);  // 1,000,100 = 0xF42A4: its low byte last
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    LeadParser p;
    std::vector<LeadRecord> got;
    p.feed(std::span<const std::uint8_t>(bytes.data(), split), [&](const LeadRecord& r) { got.push_back(r); });
    p.feed(std::span<const std::uint8_t>(bytes.data() + split, bytes.size() - split),
           [&](const LeadRecord& r) { got.push_back(r); });
    ASSERT_EQ(p.error(), LeadError::kNone) << split;
    ASSERT_EQ(got.size(), 3u) << split;
    EXPECT_EQ(got[0].symbol.view(), "BX");
    EXPECT_EQ(std::string(got[0].mpid.data(), 4), "BXXX");
    EXPECT_EQ(got[0].count, 2u);
    EXPECT_EQ(got[1].symbol.view(), "AAA");
    EXPECT_EQ(got[1].fair, 1'000'100);
    EXPECT_EQ(got[1].count, 1u);
    EXPECT_EQ(got[1].time_ns, 1'700'000'000'123'456'790ull);
    EXPECT_EQ(got[2].fair, 199'999'9900);
  }
}

TEST(LeadChannel, AMalformedRecordStopsTheParserUntilReset) {
  auto expect_error = [](std::vector<std::uint8_t> bytes, LeadError want) {
    LeadParser p;
    std::size_t n = 0;
    p.feed(bytes, [&](const LeadRecord&) { ++n; });
    EXPECT_EQ(p.error(), want) << to_string(p.error());
    const auto more = stream({hello()});
    p.feed(more, [&](const LeadRecord&) { ++n; });
    EXPECT_EQ(n, want == LeadError::kNoHello ? 0u : 1u) << "nothing after the error";
    p.reset();
    p.feed(more, [&](const LeadRecord&) { ++n; });
    EXPECT_EQ(p.error(), LeadError::kNone);
  };
  expect_error(stream({value("AAA", 100, 1)}), LeadError::kNoHello);
  expect_error(stream({hello(), value("AAA", 0, 1)}), LeadError::kBadPrice);
  expect_error(stream({hello(), value("AAA", 2'000'000'000, 1)}), LeadError::kBadPrice);
  auto bytes = stream({hello(), value("AAA", 100, 1)});
  bytes[32] = 'Q';
  expect_error(bytes, LeadError::kBadType);
  bytes = stream({hello(), value("AAA", 100, 1)});
  bytes[32 + 4] = ' ';  // a blank first character
  expect_error(bytes, LeadError::kBadSymbol);
  bytes = stream({hello(), value("AAA", 100, 1)});
  bytes[32 + 3] = 1;
  expect_error(bytes, LeadError::kBadReserved);
  bytes = stream({hello(), value("AAA", 100, 1)});
  bytes[1] = 2;
  // The hello's version: refused before any record is delivered.
  LeadParser p;
  std::size_t n = 0;
  p.feed(bytes, [&](const LeadRecord&) { ++n; });
  EXPECT_EQ(p.error(), LeadError::kBadVersion);
  EXPECT_EQ(n, 0u);
}

// A follower that connects and never reads: the leader's publish() and flush() return at once,
// records beyond its bounded buffer are dropped and counted, and once the follower reads, it
// gets a fresh snapshot after the gap.
TEST(LeadChannel, TheLeaderNeverBlocksOnASlowFollowerAndResyncsIt) {
  const std::vector<itch::Symbol> symbols = {itch::Symbol::from("AAA"), itch::Symbol::from("BBB")};
  const std::vector<match::Price> fair = {1'000'000, 2'000'000};
  LeadServer server(net::parse_endpoint("127.0.0.1:0"), 2, 4096, "NASDAQ", "NSDQ", symbols, fair);
  net::Fd client = net::tcp_connect(server.local(), 2000);
  for (int i = 0; i < 200 && server.followers() == 0; ++i) {
    pollfd p{server.listen_fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    server.accept(1);
  }
  ASSERT_EQ(server.followers(), 1u);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200'000; ++i) {
    server.publish(1, 1'000'000 + 100 * (i % 50), 2 + static_cast<std::uint64_t>(i));
    if (i % 64 == 0) server.flush(2 + static_cast<std::uint64_t>(i));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0) << "publishing must not wait for the follower";
  EXPECT_GT(server.counters().dropped, 0u) << "the follower's buffer is bounded";
  EXPECT_EQ(server.followers(), 1u) << "a slow follower is not dropped, its records are";

  // The follower reads: a gap in the sequence, then a snapshot of both symbols at their last values.
  LeadParser parser;
  std::vector<LeadRecord> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    server.flush(1'000'000);
    pollfd p{client.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) == 0 && server.counters().snapshots >= 2) break;  // all read, the resync included
    std::uint8_t buf[65536];
    const ssize_t n = ::recv(client.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) parser.feed(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)), [&](const LeadRecord& r) { got.push_back(r); });
  }
  ASSERT_EQ(parser.error(), LeadError::kNone);
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got[0].type, 'H');
  std::uint32_t gaps = 0;
  for (std::size_t i = 2; i < got.size(); ++i)
    if (got[i].count != got[i - 1].count + 1) ++gaps;
  EXPECT_GE(gaps, 1u) << "a gap where records were dropped while the buffer was full";
  std::uint64_t missing = 0;
  for (std::size_t i = 2; i < got.size(); ++i) missing += got[i].count - got[i - 1].count - 1;
  EXPECT_EQ(missing, server.counters().dropped) << "the gaps are exactly the records dropped";
  EXPECT_GE(server.counters().snapshots, 2u) << "the connect's snapshot and a resync's";
  // Despite the drops the follower ends with every symbol's last value (the resync's snapshot,
  // and what followed it).
  std::int64_t aaa = 0, bbb = 0;
  for (const LeadRecord& r : got) {
    if (r.symbol.view() == "AAA") aaa = r.fair;
    if (r.symbol.view() == "BBB") bbb = r.fair;
  }
  EXPECT_EQ(aaa, 1'000'000 + 100 * (199'999 % 50));
  EXPECT_EQ(bbb, 2'000'000);
}

}  // namespace
}  // namespace hft::venue
