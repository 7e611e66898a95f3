// The scripted strategy (pipeline/strategy/scripted.hpp): each order's `at_ms` counts from the
// moment its own symbol's book is live, not from the first symbol that went live.
// A locally refused order is tried again.
#include "pipeline/strategy/scripted.hpp"

#include <gtest/gtest.h>

namespace hft::strategy {
namespace {

using pipeline::OrderIntent;

struct ScriptedRig {
  core::SpscRing<OrderIntent> out{64};
  std::vector<BookView> books = std::vector<BookView>(16);
  Context ctx{0, "scripted", &out, &books};
  ScriptedRig() {
    ctx.init_tables(16);
    name(5, "AAA");
    name(6, "BBB");
    ctx.subscribe(5);
    ctx.subscribe(6);
  }
  void name(Locate l, const char* s) {
    BookView& b = books[l];
    b.locate = l;
    b.symbol.fill(' ');
    for (std::size_t i = 0; s[i] != 0 && i < 8; ++i) b.symbol[i] = s[i];
  }
  void go_live(Locate l) {
    BookView& b = books[l];
    b.stale = false;
    b.bids[0] = {999'900, 300};
    b.asks[0] = {1'000'100, 100};
  }
  std::vector<OrderIntent> drain() {
    std::vector<OrderIntent> v;
    OrderIntent in;
    while (out.try_pop(in)) v.push_back(in);
    return v;
  }
};

ScriptedOrder order(const char* symbol, std::uint32_t at_ms) {
  ScriptedOrder o;
  o.symbol = symbol;
  o.at_ms = at_ms;
  return o;
}

TEST(ScriptedStrategy, AtMsCountsFromTheOrdersOwnSymbolGoingLive) {
  ScriptedRig r;
  ScriptedParams p;
  p.orders = {order("AAA", 0), order("BBB", 100)};
  ScriptedStrategy s(p);
  constexpr std::uint64_t kMillis = 1'000'000;

  r.go_live(5);  // AAA live at t = 1 s; BBB not yet
  s.on_timer(r.ctx, 1'000 * kMillis);
  auto v = r.drain();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].locate, 5);

  r.go_live(6);  // BBB live at t = 5 s: its order is due at 5.1 s, not at 1.1 s
  s.on_timer(r.ctx, 5'000 * kMillis);
  EXPECT_TRUE(r.drain().empty()) << "BBB's at_ms = 100 counts from BBB going live";
  s.on_timer(r.ctx, 5'099 * kMillis);
  EXPECT_TRUE(r.drain().empty());
  s.on_timer(r.ctx, 5'100 * kMillis);
  v = r.drain();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].locate, 6);
}

}  // namespace
}  // namespace hft::strategy

namespace hft::strategy {
namespace {

// An order the context refuses locally (here: the order-entry session is not up yet) was never
// sent: the next tick tries it again, so "send these orders now" means as soon as it can be sent.
TEST(ScriptedStrategy, AnOrderRefusedLocallyIsTriedAgainOnTheNextTick) {
  ScriptedRig r;
  ScriptedParams p;
  ScriptedOrder o = order("AAA", 0);
  o.repeat = 2;
  p.orders = {o};
  ScriptedStrategy s(p);
  r.go_live(5);
  r.ctx.set_entry_down(true);
  s.on_timer(r.ctx, 1'000'000'000);
  EXPECT_TRUE(r.drain().empty());
  EXPECT_EQ(r.ctx.refusals().not_connected, 1u);
  r.ctx.set_entry_down(false);
  s.on_timer(r.ctx, 1'010'000'000);
  EXPECT_EQ(r.drain().size(), 2u) << "both repeats go once the session is up";
  s.on_timer(r.ctx, 1'020'000'000);
  EXPECT_TRUE(r.drain().empty()) << "and only once";
}

}  // namespace
}  // namespace hft::strategy
