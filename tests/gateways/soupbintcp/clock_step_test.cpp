// Times passed into the engines may come from different clock reads and step back slightly: a
// time earlier than the last activity means "no time has passed", never "ages ago".
#include <gtest/gtest.h>

#include "gateways/soupbintcp/client.hpp"

namespace hft::soup {
namespace {

struct Sink {
  int closed = 0;
  void on_sequenced(std::uint64_t, std::span<const std::uint8_t>, std::uint64_t) {}
  void on_event(const SessionEvent& e) { closed += e.kind == EventKind::kClosed; }
};

TEST(SoupClock, ATimeEarlierThanTheLastActivityIsNotATimeout) {
  ClientConfig c;
  c.username = "U";
  Sink sink;
  ClientSession<Sink> s(c, sink);
  ASSERT_TRUE(s.open(1, 5'000'000'000));
  s.poll(4'999'999'000);  // read a microsecond earlier than open()'s time
  EXPECT_EQ(sink.closed, 0);
  EXPECT_EQ(s.state(), ClientState::kLoginSent);
  EXPECT_EQ(elapsed(10, 20), 0u);
  EXPECT_EQ(elapsed(20, 10), 10u);
}

}  // namespace
}  // namespace hft::soup
