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
