#include "core/runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/topology.hpp"

namespace hft::core {
namespace {

// A stage that has `budget` units of work, does at most `batch` per poll, and records the order in
// which the runner called it.
struct CountingStage {
  const char* label;
  std::atomic<int> budget{0};
  int batch = 4;
  std::vector<char>* order = nullptr;
  std::atomic<int> cpu_seen{-1};
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

  int poll() noexcept {
    if (order != nullptr && order->size() < 64) order->push_back(label[0]);
    cpu_seen.store(current_cpu(), std::memory_order_relaxed);
    const int left = budget.load(std::memory_order_relaxed);
    const int n = left < batch ? left : batch;
    budget.store(left - n, std::memory_order_relaxed);
    return n;
  }
  std::string_view name() const noexcept { return label; }
  void on_thread_start() noexcept { started = true; }
  void on_thread_stop() noexcept { stopped = true; }
};

TEST(Runner, CallsStagesInConfiguredOrder) {
  std::vector<char> order;
  CountingStage a{"a"}, b{"b"}, c{"c"};
  a.order = b.order = c.order = &order;
  Runner r(RunnerOptions{}, {StageRef::of(c), StageRef::of(a), StageRef::of(b)});
  r.run_once();
  r.run_once();
  EXPECT_EQ(std::string(order.begin(), order.end()), "cabcab");
}

TEST(Runner, RunOnceReturnsTheWorkDone) {
  CountingStage a{"a"}, b{"b"};
  a.budget = 10;
  b.budget = 1;
  Runner r(RunnerOptions{}, {StageRef::of(a), StageRef::of(b)});
  EXPECT_EQ(r.run_once(), 5);
  EXPECT_EQ(r.run_once(), 4);
  EXPECT_EQ(r.run_once(), 2);
  EXPECT_EQ(r.run_once(), 0);
}

void run_until_drained(IdleKind kind) {
  CountingStage s{"s"};
  s.budget = 1000;
  RunnerOptions o;
  o.name = "hft-test";
  o.idle.kind = kind;
  o.idle.spins = 10;
  o.idle.yields = 10;
  o.idle.max_park_ns = 200'000;
  o.cpu = 0;
  Runner r(o, {StageRef::of(s)});
  r.start();
  EXPECT_TRUE(r.running());
  EXPECT_TRUE(s.started);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.budget.load() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Let the idle strategy run out its ladder (on a loaded host a yield can take a whole time slice).
  while ((kind == IdleKind::kBackoff ? r.stats().parks.load() == 0 : r.stats().passes.load() < 2000) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  r.stop();
  EXPECT_FALSE(r.running());
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.budget.load(), 0);
  EXPECT_EQ(s.cpu_seen.load(), 0) << "the runner pinned itself to cpu 0";
  const auto& st = r.stats();
  EXPECT_EQ(st.work_items.load(), 1000u);
  EXPECT_EQ(st.work_passes.load(), 250u);
  EXPECT_GT(st.passes.load(), st.work_passes.load()) << "idle passes after the work ran out";
  EXPECT_GT(st.idle_ticks.load(), 0u);
  if (kind == IdleKind::kBackoff) {
    EXPECT_GT(st.parks.load(), 0u) << "backoff ends in sleeps";
  } else {
    EXPECT_EQ(st.parks.load(), 0u);
  }
}

TEST(Runner, BusySpinDrainsAndStops) { run_until_drained(IdleKind::kBusySpin); }
TEST(Runner, YieldDrainsAndStops) { run_until_drained(IdleKind::kYield); }
TEST(Runner, BackoffDrainsAndStops) { run_until_drained(IdleKind::kBackoff); }

TEST(Runner, IdleBackoffThreadIsMostlyIdleAndStopsWithinTheParkBound) {
  CountingStage s{"s"};
  RunnerOptions o;
  o.idle = IdleConfig{IdleKind::kBackoff, 10, 10, 1'000, 1'000'000};
  Runner r(o, {StageRef::of(s)});
  r.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GT(r.idle_ratio(), 0.5);
  const auto t0 = std::chrono::steady_clock::now();
  r.stop();
  // Bounded by one park of at most 1 ms plus scheduling; a generous bound for a loaded host.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(Runner, ReportsPlacement) {
  CountingStage s{"s"};
  RunnerOptions o;
  o.name = "hft-placed";
  o.cpu = 0;
  Runner r(o, {StageRef::of(s)});
  r.start();
  r.stop();
  ASSERT_GE(r.placement().size(), 2u);
  EXPECT_NE(r.placement()[0].find("hft-placed"), std::string::npos);
  EXPECT_NE(r.placement()[1].find("cpu 0"), std::string::npos);
  EXPECT_GT(r.tid(), 0);
}

TEST(IdleStrategy, ParsesKinds) {
  IdleKind k{};
  EXPECT_TRUE(parse_idle_kind("spin", k));
  EXPECT_EQ(k, IdleKind::kBusySpin);
  EXPECT_TRUE(parse_idle_kind("backoff", k));
  EXPECT_FALSE(parse_idle_kind("sleep", k));
}

TEST(IdleStrategy, BackoffEscalatesThenResets) {
  IdleStrategy s(IdleConfig{IdleKind::kBackoff, 2, 2, 1'000, 4'000});
  for (int i = 0; i < 4; ++i) s.idle(0);  // spins and yields
  EXPECT_EQ(s.parks(), 0u);
  s.idle(0);
  s.idle(0);
  EXPECT_EQ(s.parks(), 2u);
  s.idle(5);  // work resets the ladder
  for (int i = 0; i < 4; ++i) s.idle(0);
  EXPECT_EQ(s.parks(), 2u);
}

}  // namespace
}  // namespace hft::core
