// The worked example of docs/strategy-sdk.md, driven through the real strategy stage: book
// events in, order intents out, reports back.
#include "pipeline/strategy/spread_capture.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "pipeline/stages/strategy_stage.hpp"

namespace hft::pipeline {
namespace {

struct SpreadRig {
  core::SpscRing<BookEvent> books{256};
  core::SpscRing<ExecReport> reports{256};
  core::SpscRing<OrderIntent> intents{256};
  SymbolTable symbols{64};
  Subscriptions subs{64};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  StrategyStage stage{books, reports, intents, symbols, subs, hop, 1'000'000};

  explicit SpreadRig(strategy::SpreadCaptureParams p) {
    symbols.set(7, itch::Symbol::from("AAA").key());
    stage.add("sc", strategy::make_strategy(p), p.traded_symbols());  // as hftd builds it
    stage.poll();  // the first timer tick resolves AAA to locate 7
  }
  std::vector<OrderIntent> book(std::int32_t bid, std::int32_t ask) {
    stage.poll();  // applies the reports answered so far (a pass reads book events before reports)
    EXPECT_TRUE(intents.empty_approx());
    BookEvent e{};
    e.type = BookEventType::kDepthChange;
    e.locate = 7;
    e.timestamp = 34'200'000'000'000;
    e.bids[0] = {bid, 500};
    e.asks[0] = {ask, 500};
    EXPECT_TRUE(books.try_push(e));
    stage.poll();
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (intents.try_pop(in)) v.push_back(in);
    return v;
  }
  void answer(const OrderIntent& in, ReportType type, Quantity leaves, Quantity fill = 0) {
    ExecReport r{};
    r.type = type;
    r.order_id = in.order_id;
    r.price = in.price;
    r.quantity = type == ReportType::kFill ? fill : in.quantity;
    r.leaves = leaves;
    r.locate = in.locate;
    r.side = in.side;
    r.strategy = in.strategy;
    EXPECT_TRUE(reports.try_push(r));
  }
};

strategy::SpreadCaptureParams params() {
  strategy::SpreadCaptureParams p;
  p.symbols = {"AAA"};
  p.size = 100;
  p.min_spread_ticks = 3;
  p.max_position = 100;
  return p;
}

TEST(SpreadCapture, ImprovesAWideSpreadAndPullsWhenItNarrows) {
  SpreadRig r(params());
  EXPECT_TRUE(r.book(1'000'000, 1'000'200).empty()) << "2 ticks wide: below min_spread_ticks";
  auto v = r.book(1'000'000, 1'000'500);  // 5 ticks wide
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kNew);
  EXPECT_EQ(v[0].side, Side::kBuy);
  EXPECT_EQ(v[0].price, 1'000'100) << "one tick better than the bid";
  EXPECT_EQ(v[1].side, Side::kSell);
  EXPECT_EQ(v[1].price, 1'000'400) << "one tick better than the ask";
  EXPECT_TRUE(v[0].post_only && v[1].post_only);
  EXPECT_EQ(v[0].quantity, 100u);
  for (const auto& in : v) r.answer(in, ReportType::kAccepted, in.quantity);
  const auto bid = v[0], ask = v[1];

  // The book moves: both quotes follow it with a replace.
  v = r.book(1'000'100, 1'000'600);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kReplace);
  EXPECT_EQ(v[0].order_id, bid.order_id);
  EXPECT_EQ(v[0].price, 1'000'200);
  EXPECT_EQ(v[1].order_id, ask.order_id);
  for (auto in : v) {
    in.quantity = 100;
    r.answer(in, ReportType::kReplaced, 100);
  }

  // The spread narrows to 2 ticks: both quotes are pulled.
  v = r.book(1'000'200, 1'000'400);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].type, IntentType::kCancel);
  EXPECT_EQ(v[1].type, IntentType::kCancel);
}

TEST(SpreadCapture, StopsBuyingAtTheMaximumPosition) {
  SpreadRig r(params());
  auto v = r.book(1'000'000, 1'000'500);
  ASSERT_EQ(v.size(), 2u);
  r.answer(v[0], ReportType::kAccepted, 100);
  r.answer(v[1], ReportType::kAccepted, 100);
  r.answer(v[0], ReportType::kFill, 0, 100);  // the bid is filled: long 100 = max_position
  r.stage.poll();
  EXPECT_EQ(r.stage.context(0).position(7).shares, 100);
  v = r.book(1'000'000, 1'000'500);
  EXPECT_TRUE(v.empty()) << "the offer stands; no new bid while long the maximum";
  v = r.book(1'000'000, 1'000'600);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].type, IntentType::kReplace);
  EXPECT_EQ(v[0].side, Side::kSell) << "only the offer follows the book";
}

TEST(SpreadCapture, PullsEverythingWhenTheFeedGoesStale) {
  SpreadRig r(params());
  auto v = r.book(1'000'000, 1'000'500);
  ASSERT_EQ(v.size(), 2u);
  for (const auto& in : v) r.answer(in, ReportType::kAccepted, in.quantity);
  r.stage.poll();
  BookEvent stale{};
  stale.type = BookEventType::kFeedStale;
  ASSERT_TRUE(r.books.try_push(stale));
  r.stage.poll();
  OrderIntent in;
  int cancels = 0;
  while (r.intents.try_pop(in)) cancels += in.type == IntentType::kCancel ? 1 : 0;
  EXPECT_EQ(cancels, 2);
}

}  // namespace
}  // namespace hft::pipeline
