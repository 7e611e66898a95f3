// The ITCH decoder on NASDAQ's own bytes (../shared/data/itch, described in its README.md).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gateways/files/binary_file.hpp"
#include "gateways/itch/decoder.hpp"
#include "tests/support/test_data.hpp"

namespace {

using namespace hft;

// Reads every field of the types present, remembers the first few messages and checks that
// timestamps never go backwards within the file.
struct Checker {
  struct Seen {
    char type;
    std::uint16_t locate;
    std::uint64_t timestamp;
  };
  std::vector<Seen> first;
  std::uint64_t last_ts = 0;
  std::uint64_t backwards = 0;
  std::uint64_t order_refs_zero = 0;
  char s_event = 0;
  std::uint64_t s_timestamp = 0;
  std::string symbols_with_dash;

  template <class M>
  void seen(const M& m) {
    if (first.size() < 4) first.push_back({m.message_type(), m.stock_locate(), m.timestamp()});
    if (m.timestamp() < last_ts) ++backwards;
    last_ts = m.timestamp();
  }
  void on_system_event(const itch::SystemEvent& m) {
    seen(m);
    s_event = m.event_code();
    s_timestamp = m.timestamp();
  }
  void on_stock_directory(const itch::StockDirectory& m) { seen(m); }
  void on_stock_trading_action(const itch::StockTradingAction& m) { seen(m); }
  void on_reg_sho_restriction(const itch::RegShoRestriction& m) { seen(m); }
  void on_add_order(const itch::AddOrder& m) {
    seen(m);
    if (m.order_reference_number() == 0) ++order_refs_zero;
  }
  void on_add_order_mpid(const itch::AddOrderMpid& m) { on_add_order(m); }
  void on_order_executed(const itch::OrderExecuted& m) { seen(m); }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) { seen(m); }
  void on_order_cancel(const itch::OrderCancel& m) { seen(m); }
  void on_order_delete(const itch::OrderDelete& m) { seen(m); }
  void on_order_replace(const itch::OrderReplace& m) { seen(m); }
  void on_trade(const itch::Trade& m) { seen(m); }
  void on_cross_trade(const itch::CrossTrade& m) { seen(m); }
  void on_noii(const itch::Noii& m) { seen(m); }
};

std::uint64_t count(const itch::DecodeStats& s, char t) { return s.by_type[static_cast<std::uint8_t>(t)]; }

TEST(ItchRealData, SnippetDecodesWithExactCounts) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const files::MappedFile f((dir / "itch/12302019_SNIPPET.NASDAQ_ITCH50").string());
  ASSERT_EQ(f.size(), 35'570u);
  Checker c;
  itch::DecodeStats stats;
  const auto rep = files::decode_binary_file(f.bytes(), c, stats);

  EXPECT_EQ(stats.errors(), 0u);
  EXPECT_EQ(stats.empty, 0u);
  EXPECT_EQ(stats.messages, 1000u);
  EXPECT_EQ(rep.messages, 1000u);
  EXPECT_EQ(rep.consumed, 35'570u);
  EXPECT_EQ(stats.bytes, 35'570u - 2 * 1000u);
  EXPECT_FALSE(rep.truncated);
  EXPECT_FALSE(rep.end_marker);  // a cut from mid-day: no end-of-session marker
  const std::pair<char, std::uint64_t> expected[] = {{'A', 367}, {'U', 225}, {'F', 193}, {'D', 167},
                                                     {'E', 28},  {'X', 6},   {'P', 4},   {'Q', 4},
                                                     {'I', 4},   {'S', 1},   {'C', 1}};
  std::uint64_t sum = 0;
  for (const auto& [t, n] : expected) {
    EXPECT_EQ(count(stats, t), n) << t;
    sum += n;
  }
  EXPECT_EQ(sum, 1000u);  // and so no other type appears

  // Observed in the file (xxd): the first message is an Order Delete at 09:30:00.000000230
  // (34,200,000,000,230 ns, locate 3041); the S/'Q' start-of-market-hours event is the third
  // message, at 09:30:00.000075566. (data/README.md and PROTOCOLS.md §1 put the S first.)
  ASSERT_GE(c.first.size(), 3u);
  EXPECT_EQ(c.first[0].type, 'D');
  EXPECT_EQ(c.first[0].locate, 3041);
  EXPECT_EQ(c.first[0].timestamp, 34'200'000'000'230ULL);
  EXPECT_EQ(c.first[1].type, 'E');
  EXPECT_EQ(c.first[2].type, 'S');
  EXPECT_EQ(c.first[2].locate, 0);
  EXPECT_EQ(c.s_event, 'Q');
  EXPECT_EQ(c.s_timestamp, 34'200'000'075'566ULL);
  EXPECT_EQ(c.backwards, 0u);
  EXPECT_EQ(c.order_refs_zero, 0u);
}

TEST(ItchRealData, StartOfDaySliceEndsInATruncatedMessage) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const files::MappedFile f((dir / "itch/start_of_day_truncated.NASDAQ_ITCH50").string());
  ASSERT_EQ(f.size(), 500u);
  Checker c;
  itch::DecodeStats stats;
  const auto rep = files::decode_binary_file(f.bytes(), c, stats);
  EXPECT_EQ(count(stats, 'S'), 1u);
  EXPECT_EQ(count(stats, 'R'), 7u);
  EXPECT_EQ(count(stats, 'H'), 4u);
  EXPECT_EQ(count(stats, 'Y'), 4u);
  EXPECT_EQ(stats.messages, 16u);
  EXPECT_EQ(stats.bad_length + stats.unknown_type, 0u);
  EXPECT_EQ(stats.truncated, 1u);
  EXPECT_TRUE(rep.truncated);
  // 14 (S) + 7 x 41 (R) + 4 x 27 (H) + 4 x 22 (Y) = 497: then an R (39 bytes) with 1 byte present.
  EXPECT_EQ(rep.truncated_offset, 497u);
  EXPECT_EQ(rep.truncated_missing, 38u);
  EXPECT_EQ(c.first[0].type, 'S');
  EXPECT_EQ(c.s_event, 'O');  // start of messages
  EXPECT_EQ(c.backwards, 0u);
}

}  // namespace
