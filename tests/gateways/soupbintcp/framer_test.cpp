#include "gateways/soupbintcp/framer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/alloc_counter.hpp"

namespace hft::soup {
namespace {

struct Seen {
  std::uint8_t type;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

std::vector<std::uint8_t> packet(std::uint8_t type, const std::string& payload) {
  std::vector<std::uint8_t> p(3 + payload.size());
  write_header(p.data(), type, payload.size());
  std::copy(payload.begin(), payload.end(), p.begin() + 3);
  return p;
}

std::vector<std::uint8_t> stream_of(const std::vector<Seen>& packets) {
  std::vector<std::uint8_t> s;
  for (const auto& p : packets) {
    const auto b = packet(p.type, p.payload);
    s.insert(s.end(), b.begin(), b.end());
  }
  return s;
}

// Feeds `bytes` in chunks of the given sizes (cycled) and collects packets.
std::vector<Seen> feed_chunked(Framer& f, const std::vector<std::uint8_t>& bytes, const std::vector<std::size_t>& chunks,
                               bool* failed = nullptr) {
  std::vector<Seen> seen;
  std::size_t off = 0;
  std::size_t i = 0;
  while (off < bytes.size()) {
    const std::size_t n = std::min(chunks[i++ % chunks.size()], bytes.size() - off);
    const FeedResult r = f.feed(bytes.data() + off, n, [&](const Packet& p) {
      seen.push_back({p.type, std::string(reinterpret_cast<const char*>(p.payload), p.size)});
      return true;
    });
    if (r.failed) {
      if (failed != nullptr) *failed = true;
      return seen;
    }
    EXPECT_EQ(r.consumed, n);
    off += n;
  }
  return seen;
}

const std::vector<Seen> kServerPackets = {
    {'A', std::string("SESSION01 ") + "                   1"},
    {'S', "first message"},
    {'H', ""},
    {'S', std::string(300, 'x')},
    {'+', "debug text"},
    {'S', ""},
    {'Z', ""},
};

TEST(SoupFramer, WholeStreamInOneRead) {
  Framer f(Direction::kServerToClient, 1024);
  EXPECT_EQ(feed_chunked(f, stream_of(kServerPackets), {100000}), kServerPackets);
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(SoupFramer, ByteByByte) {
  Framer f(Direction::kServerToClient, 1024);
  EXPECT_EQ(feed_chunked(f, stream_of(kServerPackets), {1}), kServerPackets);
}

TEST(SoupFramer, EverySplitPointAndRandomChunks) {
  const auto bytes = stream_of(kServerPackets);
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    Framer f(Direction::kServerToClient, 1024);
    ASSERT_EQ(feed_chunked(f, bytes, {cut, bytes.size()}), kServerPackets) << "cut at " << cut;
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> chunks;
    for (int i = 0; i < 16; ++i) chunks.push_back(1 + rng() % 40);
    Framer f(Direction::kServerToClient, 1024);
    ASSERT_EQ(feed_chunked(f, bytes, chunks), kServerPackets);
  }
}

TEST(SoupFramer, StopsWhenTheCallbackSaysSo) {
  Framer f(Direction::kServerToClient, 1024);
  const auto bytes = stream_of(kServerPackets);
  int calls = 0;
  const FeedResult r = f.feed(bytes.data(), bytes.size(), [&](const Packet&) { return ++calls < 2; });
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.consumed, 33u + 16u);  // login accepted + first 'S'
}

struct BadCase {
  const char* name;
  std::vector<std::uint8_t> bytes;
  Direction dir;
  PacketError error;
};

TEST(SoupFramer, MalformedPacketsAreReportedWithAReason) {
  const std::vector<BadCase> cases = {
      {"zero length", {0x00, 0x00, 'U'}, Direction::kClientToServer, PacketError::kZeroLength},
      {"oversize", {0x04, 0x01, 'U'}, Direction::kClientToServer, PacketError::kOversize},
      {"oversize, known from the length alone", {0x04, 0x01}, Direction::kClientToServer, PacketError::kOversize},
      {"zero length, known from the length alone", {0x00, 0x00}, Direction::kServerToClient, PacketError::kZeroLength},
      {"unknown type", {0x00, 0x01, 'Q'}, Direction::kClientToServer, PacketError::kUnknownType},
      {"server type from a client", {0x00, 0x01, 'H'}, Direction::kClientToServer, PacketError::kUnknownType},
      {"client type from a server", {0x00, 0x01, 'R'}, Direction::kServerToClient, PacketError::kUnknownType},
      {"login of 46", {0x00, 46, 'L'}, Direction::kClientToServer, PacketError::kBadLoginLength},
      {"heartbeat with payload", {0x00, 0x02, 'R', 'x'}, Direction::kClientToServer, PacketError::kBadLength},
      {"ascii garbage", {'h', 'e', 'l', 'l', 'o'}, Direction::kClientToServer, PacketError::kOversize},
  };
  for (const auto& c : cases) {
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{100}}) {
      Framer f(c.dir, 1024);
      bool failed = false;
      const auto seen = feed_chunked(f, c.bytes, {chunk}, &failed);
      EXPECT_TRUE(failed) << c.name << " chunk " << chunk;
      EXPECT_TRUE(seen.empty()) << c.name;
      EXPECT_EQ(f.error().error, c.error) << c.name << " chunk " << chunk;
      // Failed for good: more input is refused.
      const std::uint8_t heartbeat = c.dir == Direction::kClientToServer ? 'R' : 'H';
      const std::uint8_t ok[] = {0x00, 0x01, heartbeat};
      EXPECT_TRUE(f.feed(ok, sizeof ok, [](const Packet&) { return true; }).failed) << c.name;
      f.reset();
      EXPECT_EQ(f.feed(ok, sizeof ok, [](const Packet&) { return true; }).packets, 1u) << c.name;
    }
  }
}

TEST(SoupFramer, GoodPacketsBeforeGarbageAreDelivered) {
  Framer f(Direction::kClientToServer, 64);
  auto bytes = stream_of({{'R', ""}, {'U', "order"}});
  bytes.insert(bytes.end(), {0xde, 0xad, 0xbe, 0xef});
  bool failed = false;
  const auto seen = feed_chunked(f, bytes, {3}, &failed);
  EXPECT_TRUE(failed);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], (Seen{'U', "order"}));
  EXPECT_EQ(f.error().error, PacketError::kOversize);
  EXPECT_EQ(f.error().length, 0xdeadu);
}

TEST(SoupFramer, NoAllocationWhileFraming) {
  ASSERT_TRUE(testing::counting_active());
  Framer f(Direction::kServerToClient, 1024);
  const auto bytes = stream_of(kServerPackets);
  std::size_t packets = 0;
  ::hft::testing::AllocationScope scope;
  for (int round = 0; round < 100; ++round) {
    for (std::size_t off = 0; off < bytes.size(); off += 7) {
      const std::size_t n = std::min<std::size_t>(7, bytes.size() - off);
      packets += f.feed(bytes.data() + off, n, [](const Packet&) { return true; }).packets;
    }
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(packets, 100 * kServerPackets.size());
}

}  // namespace
}  // namespace hft::soup
