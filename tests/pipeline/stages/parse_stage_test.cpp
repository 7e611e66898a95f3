#include "pipeline/stages/parse_stage.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "gateways/itch/encoder.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::pipeline {
namespace {

RxMessage rx(const std::uint8_t* msg, std::size_t len, std::uint64_t tsc) {
  RxMessage m{};
  m.origin_tsc = tsc;
  m.length = static_cast<std::uint8_t>(len);
  std::memcpy(m.bytes.data(), msg, len);
  return m;
}

struct ParseRig {
  core::SpscRing<RxMessage> in{64};
  core::SpscRing<MdEvent> out{64};
  core::Histogram hop{1, 1'000'000'000, 3};
  ParseStage stage{in, out, hop};
};

TEST(ParseStage, NormalizesOrderFlowMessages) {
  ParseRig r;
  std::uint8_t b[64];
  const itch::MessageHeader h{7, 1, 34'200'000'000'123ull};
  const auto sym = itch::Symbol::from("AAPL");
  const std::uint64_t t0 = core::rdtsc();
  ASSERT_TRUE(r.in.try_push(rx(b, itch::encode::add_order(b, h, 42, 'B', 300, sym, 1'234'500), t0)));
  ASSERT_TRUE(r.in.try_push(rx(b, itch::encode::order_replace(b, h, 42, 43, 200, 1'234'600), t0)));
  ASSERT_TRUE(r.in.try_push(rx(b, itch::encode::order_executed_with_price(b, h, 43, 50, 9, 'Y', 1'234'700), t0)));
  ASSERT_TRUE(r.in.try_push(rx(b, itch::encode::noii(b, h, itch::NoiiFields{}), t0)));  // not forwarded
  ASSERT_TRUE(r.in.try_push(rx(b, itch::encode::stock_directory(b, h, itch::StockDirectoryFields{.stock = sym}), t0)));
  RxMessage stale{};
  stale.kind = 1;
  ASSERT_TRUE(r.in.try_push(stale));
  EXPECT_EQ(r.stage.poll(), 6);
  MdEvent e{};
  ASSERT_TRUE(r.out.try_pop(e));
  EXPECT_EQ(e.type, MdType::kAdd);
  EXPECT_EQ(e.locate(), 7);
  EXPECT_EQ(e.timestamp(), 34'200'000'000'123ull);
  EXPECT_EQ(e.ref, 42u);
  EXPECT_EQ(e.side, 'B');
  EXPECT_EQ(e.shares, 300u);
  EXPECT_EQ(e.price, 1'234'500);
  EXPECT_EQ(e.origin_tsc, t0);
  EXPECT_GE(e.stage_tsc, t0);
  ASSERT_TRUE(r.out.try_pop(e));
  EXPECT_EQ(e.type, MdType::kReplace);
  EXPECT_EQ(e.ref, 42u);
  EXPECT_EQ(e.aux, 43u);
  ASSERT_TRUE(r.out.try_pop(e));
  EXPECT_EQ(e.type, MdType::kExecutePrice);
  EXPECT_EQ(e.aux, 9u);
  EXPECT_EQ(e.flags, 1);
  ASSERT_TRUE(r.out.try_pop(e));
  EXPECT_EQ(e.type, MdType::kDirectory);
  EXPECT_EQ(e.aux, sym.key());
  EXPECT_EQ(e.shares, 100u);
  ASSERT_TRUE(r.out.try_pop(e));
  EXPECT_EQ(e.type, MdType::kFeedStale);
  EXPECT_FALSE(r.out.try_pop(e));
  EXPECT_EQ(r.stage.forwarded(), 5u);
  EXPECT_EQ(r.hop.total_count(), 4u) << "one hop sample per forwarded ITCH message";
}

TEST(ParseStage, BadBytesAreCountedAndNotForwarded) {
  ParseRig r;
  const std::uint8_t junk[3] = {'A', 1, 2};
  const std::uint8_t unknown[5] = {'z', 0, 0, 0, 0};
  ASSERT_TRUE(r.in.try_push(rx(junk, sizeof junk, 1)));
  ASSERT_TRUE(r.in.try_push(rx(unknown, sizeof unknown, 1)));
  EXPECT_EQ(r.stage.poll(), 2);
  EXPECT_EQ(r.stage.stats().bad_length, 1u);
  EXPECT_EQ(r.stage.stats().unknown_type, 1u);
  EXPECT_TRUE(r.out.empty_approx());
}

TEST(ParseStage, FullOutputRingHoldsInputBack) {
  core::SpscRing<RxMessage> in(16);
  core::SpscRing<MdEvent> out(2);
  core::Histogram hop(1, 1'000'000'000, 3);
  ParseStage stage(in, out, hop);
  std::uint8_t b[64];
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(in.try_push(rx(b, itch::encode::order_delete(b, itch::MessageHeader{1, 0, 1}, 100 + i), 1)));
  EXPECT_EQ(stage.poll(), 2);
  EXPECT_EQ(in.size_approx(), 3u) << "nothing dropped";
  MdEvent e{};
  while (out.try_pop(e)) {
  }
  EXPECT_EQ(stage.poll(), 2);
  while (out.try_pop(e)) {
  }
  EXPECT_EQ(stage.poll(), 1);
  ASSERT_TRUE(out.try_pop(e));
  EXPECT_EQ(e.ref, 104u);
  EXPECT_GE(stage.backpressure(), 2u);
}

TEST(ParseStage, AllocatesNothing) {
  ParseRig r;
  std::uint8_t b[64];
  const auto len = itch::encode::add_order(b, itch::MessageHeader{1, 0, 1}, 1, 'S', 1, itch::Symbol::from("X"), 1);
  const hft::testing::AllocationScope scope;
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(r.in.try_push(rx(b, len, 1)));
    r.stage.poll();
    MdEvent e;
    ASSERT_TRUE(r.out.try_pop(e));
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

}  // namespace
}  // namespace hft::pipeline
