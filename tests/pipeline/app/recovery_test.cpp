// Replaying a journal into an empty order manager rebuilds what the egress stage had booked:
// orders, positions, cash, the UserRefNum counter, the SoupBinTCP position, the operator's last
// kill/halt, and the fills for the strategies' projection. A journal with corruption in the middle
// refuses the start with the reader's message.
#include "pipeline/app/recovery.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "gateways/ouch/codec.hpp"
#include "pipeline/journal/writer.hpp"

namespace hft::app {
namespace {

namespace fs = std::filesystem;
using namespace hft::journal;

constexpr std::uint32_t kDate = 20261207;

fs::path fresh_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path d = fs::temp_directory_path() / fmt::format("hft_recovery_{}_{}", ::getpid(), info->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

JournalConfig config(const fs::path& dir) {
  JournalConfig c;
  c.dir = dir.string();
  c.segment_bytes = 1 << 20;
  c.sync.mode = SyncMode::kNone;
  return c;
}

IntentPayload new_intent(std::uint64_t id, std::uint32_t ref, pipeline::Side side, std::int64_t price, std::uint32_t qty) {
  IntentPayload p{};
  p.order_id = id;
  p.price = price;
  p.quantity = qty;
  p.user_ref_num = ref;
  p.locate = 3;
  p.intent_type = static_cast<std::uint8_t>(pipeline::IntentType::kNew);
  p.side = static_cast<std::uint8_t>(side);
  p.strategy = static_cast<std::uint8_t>(id >> 56);
  return p;
}

template <class M>
void received(JournalWriter& w, std::uint64_t seq, const M& m) {
  std::uint8_t buf[256];
  const std::size_t n = ouch::encode(buf, sizeof buf, m);
  ASSERT_GT(n, 0u);
  ASSERT_EQ(w.append_received(seq, {buf, n}, 1), AppendStatus::kOk);
}

ouch::OrderAccepted accepted(std::uint32_t ref, std::int64_t price, std::uint32_t qty) {
  ouch::OrderAccepted a;
  a.user_ref_num = ref;
  a.price = price;
  a.quantity = qty;
  a.order_reference_number = ref * 10;
  return a;
}

ouch::OrderExecuted executed(std::uint32_t ref, std::int64_t price, std::uint32_t qty) {
  ouch::OrderExecuted e;
  e.user_ref_num = ref;
  e.price = price;
  e.quantity = qty;
  e.match_number = ref;
  return e;
}

TEST(Recovery, ReplayRebuildsOrdersPositionsCashAndCounters) {
  const fs::path dir = fresh_dir();
  const std::uint64_t strategy1 = std::uint64_t{1} << 56;
  {
    JournalWriter w(config(dir), "hftd-a", kDate);
    SessionStatePayload s{};
    s.next_soup_sequence = 1;
    s.next_user_ref_num = 5;
    s.flags = 1;
    std::memcpy(s.session, "SESSION001", 10);
    ASSERT_EQ(w.append(s, 1), AppendStatus::kOk);
    ASSERT_EQ(w.append(new_intent(strategy1 | 1, 5, pipeline::Side::kBuy, 500'000, 300), 1), AppendStatus::kOk);
    ASSERT_EQ(w.append(new_intent(strategy1 | 2, 6, pipeline::Side::kSell, 510'000, 100), 1), AppendStatus::kOk);
    received(w, 1, accepted(5, 500'000, 300));
    received(w, 2, accepted(6, 510'000, 100));
    received(w, 3, executed(5, 500'000, 100));
    received(w, 4, executed(6, 510'000, 100));  // closes order 6
    ASSERT_EQ(w.append(new_intent(strategy1 | 7, 7, pipeline::Side::kBuy, 499'000, 100), 1), AppendStatus::kOk);  // no answer journaled
    ASSERT_EQ(w.append_command("kill", 1), AppendStatus::kOk);
    ASSERT_EQ(w.append_command("unkill", 1), AppendStatus::kOk);
    ASSERT_EQ(w.append_command("halt", 1), AppendStatus::kOk);
    w.close();
  }
  auto reader = JournalReader::open_dir(dir.string(), "hftd-a", kDate);
  oms::OrderManager oms(64, 8, 1);
  std::vector<pipeline::ExecReport> fills;
  const ReplayResult r = replay_journal(reader, oms, [&](const pipeline::ExecReport& f) { fills.push_back(f); });
  EXPECT_EQ(r.intents, 3u);
  EXPECT_EQ(r.received, 4u);
  EXPECT_EQ(r.session, "SESSION001");
  EXPECT_EQ(r.next_soup_sequence, 5u) << "the login asks for the first message not journaled";
  EXPECT_EQ(r.next_user_ref, 8u);
  EXPECT_EQ(oms.next_user_ref(), 8u) << "no UserRefNum of the journal is used again";
  EXPECT_FALSE(r.kill_switch);
  EXPECT_TRUE(r.halted);
  EXPECT_EQ(r.next_order_seq[1], 8u) << "strategy 1's next order id is above every journaled one";
  EXPECT_EQ(oms.exposure(3).position, 0) << "+100 -100";
  EXPECT_EQ(oms.cash(3), -100 * 500'000 + 100 * 510'000);
  EXPECT_EQ(oms.realized_pnl(3), 100 * 10'000);
  EXPECT_EQ(oms.exposure(3).open_buy, 200 + 100);
  EXPECT_EQ(oms.open_orders(), 2u);
  ASSERT_NE(oms.by_user_ref(5), nullptr);
  EXPECT_EQ(oms.by_user_ref(5)->leaves, 200u);
  EXPECT_EQ(oms.by_user_ref(7)->state, oms::OrderState::kPendingNew);
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].strategy, 1);
  fs::remove_all(dir);
}

// Issue 14: records carry their venue; each venue's session and sequence come back on their own,
// orders keep their venue, a new session at one venue closes only that venue's orders, and a
// venue no longer configured is skipped (counted).
TEST(Recovery, EveryVenueKeepsItsSessionSequenceAndOrders) {
  const fs::path dir = fresh_dir();
  const auto session = [](std::uint8_t venue, const char* name, std::uint64_t next) {
    SessionStatePayload s{};
    s.next_soup_sequence = next;
    s.next_user_ref_num = 1;
    s.flags = 1;
    std::memcpy(s.session, name, 10);
    s.venue = venue;
    return s;
  };
  const auto on = [](IntentPayload p, std::uint8_t venue) {
    p.venue = venue;
    return p;
  };
  const auto blob = [](JournalWriter& w, std::uint8_t venue, std::uint64_t seq, const auto& m) {
    std::uint8_t buf[256];
    const std::size_t n = ouch::encode(buf, sizeof buf, m);
    return w.append_received(seq, {buf, n}, 1, venue);
  };
  {
    JournalWriter w(config(dir), "hftd-a", kDate);
    ASSERT_EQ(w.append(session(0, "NASDAQ0001", 1), 1), AppendStatus::kOk);
    ASSERT_EQ(w.append(session(1, "BXSESSION1", 1), 1), AppendStatus::kOk);
    ASSERT_EQ(w.append(on(new_intent(1, 1, pipeline::Side::kBuy, 500'000, 100), 0), 1), AppendStatus::kOk);
    ASSERT_EQ(w.append(on(new_intent(2, 2, pipeline::Side::kSell, 501'000, 100), 1), 1), AppendStatus::kOk);
    ASSERT_EQ(w.append(on(new_intent(3, 3, pipeline::Side::kSell, 502'000, 100), 1), 1), AppendStatus::kOk);
    ASSERT_EQ(blob(w, 0, 1, accepted(1, 500'000, 100)), AppendStatus::kOk);
    ASSERT_EQ(blob(w, 1, 1, accepted(2, 501'000, 100)), AppendStatus::kOk);
    ASSERT_EQ(blob(w, 1, 2, accepted(3, 502'000, 100)), AppendStatus::kOk);
    ouch::OrderExecuted added = executed(2, 501'000, 100);
    added.liquidity_flag = 'A';  // pays BX's add fee, not its remove rebate
    ASSERT_EQ(blob(w, 1, 3, added), AppendStatus::kOk);
    ouch::OrderExecuted removed = executed(3, 502'000, 40);
    removed.liquidity_flag = 'R';  // earns BX's remove rebate
    ASSERT_EQ(blob(w, 1, 4, removed), AppendStatus::kOk);
    // NASDAQ's next login was to a new session: its order 1 is gone there, BX's order 3 is not.
    ASSERT_EQ(w.append(session(0, "NASDAQ0002", 1), 1), AppendStatus::kOk);
    ASSERT_EQ(blob(w, 0, 1, accepted(4, 500'000, 100)), AppendStatus::kOk);  // unknown: no intent
    // A third venue, not configured at the restart.
    ASSERT_EQ(w.append(on(new_intent(5, 5, pipeline::Side::kBuy, 500'000, 100), 2), 1), AppendStatus::kOk);
    ASSERT_EQ(blob(w, 2, 9, accepted(5, 500'000, 100)), AppendStatus::kOk);
    w.close();
  }
  auto reader = JournalReader::open_dir(dir.string(), "hftd-a", kDate);
  oms::OrderManager oms(64, 8, 1);
  oms.set_venue_fees(1, 18, -6);  // 1/10,000 $ per share: add 0.0018, remove -0.0006
  std::vector<pipeline::ExecReport> fills;
  const ReplayResult r = replay_journal(reader, oms, [&](const pipeline::ExecReport& f) { fills.push_back(f); }, 2);
  EXPECT_EQ(r.venues[0].session, "NASDAQ0002");
  EXPECT_EQ(r.venues[0].next_soup_sequence, 2u);
  EXPECT_EQ(r.session, "NASDAQ0002") << "the single-venue fields are venue 0's";
  EXPECT_EQ(r.next_soup_sequence, 2u);
  EXPECT_EQ(r.venues[1].session, "BXSESSION1");
  EXPECT_EQ(r.venues[1].next_soup_sequence, 5u) << "BX's login asks for its first message not journaled";
  EXPECT_EQ(r.venues[1].received, 4u);
  EXPECT_EQ(r.venues[1].intents, 2u);
  EXPECT_EQ(r.closed_old_session, 1u) << "only NASDAQ's order closed at its new session";
  EXPECT_EQ(r.unknown_venue, 2u);
  EXPECT_EQ(oms.by_user_ref(1), nullptr);
  ASSERT_NE(oms.by_user_ref(3), nullptr);
  EXPECT_EQ(oms.by_user_ref(3)->venue, 1);
  EXPECT_EQ(oms.by_user_ref(3)->leaves, 60u);
  EXPECT_EQ(oms.by_user_ref(5), nullptr) << "an order of a venue not configured is not restored";
  EXPECT_EQ(oms.exposure(3).position, -140);
  EXPECT_EQ(oms.venue_filled_shares(1), 140u);
  EXPECT_EQ(oms.venue_fees_paid(1), 100 * 18 - 40 * 6) << "each fill pays the fee of its liquidity flag, as live";
  ASSERT_EQ(fills.size(), 2u);
  fs::remove_all(dir);
}

TEST(Recovery, CorruptionInTheMiddleRefusesTheStart) {
  const fs::path dir = fresh_dir();
  {
    JournalWriter w(config(dir), "hftd-a", kDate);
    for (std::uint32_t i = 0; i < 50; ++i)
      ASSERT_EQ(w.append(new_intent(i + 1, i + 1, pipeline::Side::kBuy, 500'000, 100), 1), AppendStatus::kOk);
    w.close();
  }
  const fs::path seg = dir / segment_name("hftd-a", kDate, 0);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(64 + 24 + 3 * 80 + 30);  // inside the fourth record's payload
    f.put('\x5a');
  }
  auto reader = JournalReader::open_dir(dir.string(), "hftd-a", kDate);
  oms::OrderManager oms(64, 8, 1);
  try {
    (void)replay_journal(reader, oms, [](const pipeline::ExecReport&) {});
    FAIL() << "a journal corrupt in the middle was replayed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(seg.filename().string()), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hft::app
