// hft-backtest (issue 15): hand-built ITCH days where the right fills are known, determinism, and
// every strategy type of the project in a backtest; the sweep through the program.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/histogram.hpp"
#include "gateways/itch/encoder.hpp"
#include "tools/hft-backtest/backtest.hpp"
#include "venue/sim/day_generator.hpp"

extern char** environ;

#ifndef HFT_BIN_DIR
#error "HFT_BIN_DIR must be defined by tools/hft-backtest/CMakeLists.txt"
#endif

namespace hft {
namespace {

namespace fs = std::filesystem;
using backtest::FillRow;

constexpr std::uint64_t kMs = 1'000'000;

// A BinaryFILE built message by message (timestamps in ns since midnight; locate 1 = "AAA").
class Day {
 public:
  Day() {
    itch::StockDirectoryFields f;
    f.stock = itch::Symbol::from("AAA");
    put(itch::encode::stock_directory(buf_, h(1 * kMs), f));
  }
  Day& add(std::uint64_t t, std::uint64_t ref, char side, std::uint32_t shares, std::uint32_t price) {
    put(itch::encode::add_order(buf_, h(t), ref, side, shares, itch::Symbol::from("AAA"), price));
    return *this;
  }
  Day& exec(std::uint64_t t, std::uint64_t ref, std::uint32_t shares) {
    put(itch::encode::order_executed(buf_, h(t), ref, shares, ++match_));
    return *this;
  }
  Day& cancel(std::uint64_t t, std::uint64_t ref, std::uint32_t shares) {
    put(itch::encode::order_cancel(buf_, h(t), ref, shares));
    return *this;
  }
  Day& trade(std::uint64_t t, char side, std::uint32_t shares, std::uint32_t price) {
    put(itch::encode::trade(buf_, h(t), side, shares, itch::Symbol::from("AAA"), price, ++match_));
    return *this;
  }
  Day& end(std::uint64_t t) {  // a message that moves the clock on (system event 'E')
    put(itch::encode::system_event(buf_, itch::MessageHeader{0, 0, t}, 'E'));
    return *this;
  }
  void write(const fs::path& p) const { std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes_.data()), static_cast<std::streamsize>(bytes_.size())); }

 private:
  static itch::MessageHeader h(std::uint64_t t) { return itch::MessageHeader{1, 0, t}; }
  void put(std::size_t n) {
    bytes_.push_back(static_cast<std::uint8_t>(n >> 8));
    bytes_.push_back(static_cast<std::uint8_t>(n));
    bytes_.insert(bytes_.end(), buf_, buf_ + n);
  }
  std::uint8_t buf_[64] = {};
  std::vector<std::uint8_t> bytes_;
  std::uint64_t match_ = 0;
};

class BacktestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("hft_backtest_test_{}_{}", ::getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A scripted strategy with the given order(s) (TOML inline tables), 100 µs timers, 1 µs feed,
  // 10 µs order entry and response latency. The order is sent on the first timer tick after the
  // book of AAA is live (the first add + 1 µs) and reaches the venue 10 µs later.
  backtest::Result run(const Day& day, const std::string& orders, const std::string& extra = "") {
    day.write(dir_ / "day.itch");
    std::ofstream(dir_ / "bt.toml") << "[stats]\ntimer_us = 100\n[risk]\nmax_order_quantity = 100000\n"
                                       "max_notional_usd = 10000000\nprice_band_bps = 10000\nmax_position = 100000\n"
                                       "max_open_orders = 100\nmax_orders_per_second = 100000\norder_burst = 1000\n"
                                       "[[strategies]]\ntype = \"scripted\"\norders = [ "
                                    << orders << " ]\n[backtest]\nfeed_latency = \"constant:1us\"\n"
                                    << "order_latency = \"constant:10us\"\nresponse_latency = \"constant:10us\"\n" << extra;
    const backtest::BacktestConfig c = backtest::load_config((dir_ / "bt.toml").string());
    return backtest::run(c, {{(dir_ / "day.itch").string(), false}});
  }
  static std::string describe(const std::vector<FillRow>& fills) {
    std::string s;
    for (const auto& f : fills) s += fmt::format("[{} {} {}@{} {}] ", f.timestamp, f.side, f.quantity, f.price, f.liquidity);
    return s.empty() ? "no fills" : s;
  }
  fs::path dir_;
};

// The book: 300 + 200 shares bid at 10.00 before us, an ask at 10.05.
Day queue_day() {
  Day d;
  d.add(2 * kMs, 1, 'B', 300, 100'000).add(2 * kMs, 2, 'B', 200, 100'000).add(2 * kMs, 3, 'S', 100, 100'500);
  return d;
}
const char* kBuy100 = R"({ symbol = "AAA", side = "buy", quantity = 100, price = 100000 })";

TEST_F(BacktestTest, QueuedBehind500FillsOnlyAfterExactly500AheadAreGone) {
  Day d = queue_day();
  d.add(10 * kMs, 4, 'B', 100, 100'000);  // joins behind the own order
  d.exec(20 * kMs, 1, 300);               // 200 ahead
  d.cancel(30 * kMs, 2, 100);             // 100 ahead
  d.exec(40 * kMs, 2, 100);               // 0 ahead: reached, but nothing traded at the price after that yet
  d.exec(50 * kMs, 4, 60);                // a later execution at its price: 60 of the own order's 100
  d.exec(60 * kMs, 4, 40);
  d.end(70 * kMs);
  const auto r = run(d, kBuy100);
  ASSERT_EQ(r.fills.size(), 2u) << describe(r.fills);
  EXPECT_EQ(r.fills[0].timestamp, 50 * kMs);
  EXPECT_EQ(r.fills[0].quantity, 60u);
  EXPECT_EQ(r.fills[0].liquidity, 'A');
  EXPECT_EQ(r.fills[0].price, 100'000);
  EXPECT_EQ(r.fills[1].timestamp, 60 * kMs);
  EXPECT_EQ(r.fills[1].quantity, 40u);
  EXPECT_EQ(r.strategies.at(0).position, 100);
  EXPECT_EQ(r.total.queue_fills, 2u);
}

// The L2 queue models on one day: 300 + 200 shares ahead, 100 behind (ref 4); the 200 ahead are
// canceled, the 300 executed, then 60 of the 100 behind. l3 knows the cancel was ahead: 0 ahead,
// the 60 fill. risk_averse only moves up as far as the level shrank (500 -> 400 left), executions
// take 300: 100 ahead, no fill. power:2 takes 200 x 500^2 / (500^2 + 100^2) = 192 of the cancel
// from the front: 308 ahead, 8 after the 300, and the 60 executed fill 52.
Day l2_queue_day() {
  Day d = queue_day();
  d.add(10 * kMs, 4, 'B', 100, 100'000);
  d.cancel(20 * kMs, 2, 200);
  d.exec(30 * kMs, 1, 300);
  d.exec(40 * kMs, 4, 60);
  d.end(70 * kMs);
  return d;
}

TEST_F(BacktestTest, QueueModelL3KnowsTheCancelWasAhead) {
  const auto r = run(l2_queue_day(), kBuy100, "queue_model = \"l3\"\n");
  ASSERT_EQ(r.fills.size(), 1u) << describe(r.fills);
  EXPECT_EQ(r.fills[0].quantity, 60u);
  EXPECT_EQ(r.fills[0].timestamp, 40 * kMs);
}

TEST_F(BacktestTest, QueueModelRiskAverseMovesUpOnlyByTradesAndTheLevelShrinking) {
  const auto r = run(l2_queue_day(), kBuy100, "queue_model = \"risk_averse\"\n");
  EXPECT_EQ(r.fills.size(), 0u) << describe(r.fills);
}

TEST_F(BacktestTest, QueueModelPowerTakesTheCancelFromTheFrontByXToTheN) {
  const auto r = run(l2_queue_day(), kBuy100, "queue_model = \"power:2\"\n");
  ASSERT_EQ(r.fills.size(), 1u) << describe(r.fills);
  EXPECT_EQ(r.fills[0].quantity, 52u);
  EXPECT_EQ(r.fills[0].timestamp, 40 * kMs);
  EXPECT_EQ(r.fills[0].liquidity, 'A');
  // A bad model is a configuration error naming the key.
  std::ofstream(dir_ / "bad.toml") << "[backtest]\nqueue_model = \"power:x\"\n";
  try {
    (void)backtest::load_config((dir_ / "bad.toml").string());
    ADD_FAILURE() << "power:x accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("queue_model"), std::string::npos) << e.what();
  }
}

TEST_F(BacktestTest, OneShareStillAheadMeansNoFill) {
  Day d = queue_day();
  d.add(10 * kMs, 4, 'B', 100, 100'000);
  d.exec(20 * kMs, 1, 300);
  d.exec(30 * kMs, 2, 199);  // 1 share still ahead
  d.exec(40 * kMs, 4, 100);  // behind the own order: cannot reach it
  d.end(50 * kMs);
  const auto r = run(d, kBuy100);
  EXPECT_TRUE(r.fills.empty()) << describe(r.fills);
}

TEST_F(BacktestTest, CancelArrivingAfterTheFillIsTooLate) {
  // Sent at ~2.001 ms, reaches the venue at ~2.011 ms; the cancel is sent 1 ms after the order
  // (~3.001 ms) and arrives ~3.011 ms: executions at 3.005 ms reach the order first.
  Day late;
  late.add(2 * kMs, 1, 'B', 100, 100'000).add(2 * kMs, 3, 'S', 100, 100'500).add(2'500'000, 2, 'B', 100, 100'000);
  late.exec(3'004'000, 1, 100).exec(3'005'000, 2, 100).end(10 * kMs);
  const std::string order = R"({ symbol = "AAA", side = "buy", quantity = 100, price = 100000, cancel_after_ms = 1 })";
  const auto r = run(late, order);
  ASSERT_EQ(r.fills.size(), 1u) << describe(r.fills);
  EXPECT_EQ(r.fills[0].timestamp, 3'005'000u);
  EXPECT_EQ(r.strategies.at(0).position, 100);
  // The same executions after the cancel arrived: no fill, the order canceled.
  Day in_time;
  in_time.add(2 * kMs, 1, 'B', 100, 100'000).add(2 * kMs, 3, 'S', 100, 100'500).add(2'500'000, 2, 'B', 100, 100'000);
  in_time.exec(3'020'000, 1, 100).exec(3'021'000, 2, 100).end(10 * kMs);
  const auto r2 = run(in_time, order);
  EXPECT_TRUE(r2.fills.empty()) << describe(r2.fills);
  EXPECT_EQ(r2.strategies.at(0).cancels, 1u);
}

// Own order behind ref 1 (100); ref 2 (100) joins behind it at 2.5 ms; a replace at ~3 ms.
Day replace_day() {
  Day d;
  d.add(2 * kMs, 1, 'B', 100, 100'000).add(2 * kMs, 3, 'S', 100, 100'500).add(2'500'000, 2, 'B', 100, 100'000);
  d.exec(4 * kMs, 1, 100);  // everything ahead of the original place is gone
  d.exec(5 * kMs, 2, 100);  // ref 2: behind the original place, ahead of a requeued one
  d.add(6 * kMs, 5, 'B', 100, 100'000).exec(7 * kMs, 5, 100);
  d.end(10 * kMs);
  return d;
}

TEST_F(BacktestTest, ReplaceUpInSizeLosesPriority) {
  const auto r = run(replace_day(), R"({ symbol = "AAA", side = "buy", quantity = 100, price = 100000, replace_after_ms = 1, replace_quantity = 200 })");
  ASSERT_FALSE(r.fills.empty()) << describe(r.fills);
  EXPECT_EQ(r.fills[0].timestamp, 7 * kMs) << "requeued behind ref 2: " << describe(r.fills);
  EXPECT_EQ(r.fills[0].quantity, 100u);
}

TEST_F(BacktestTest, ReplaceDownInSizeKeepsPriority) {
  const auto r = run(replace_day(), R"({ symbol = "AAA", side = "buy", quantity = 100, price = 100000, replace_after_ms = 1, replace_quantity = 50 })");
  ASSERT_FALSE(r.fills.empty()) << describe(r.fills);
  EXPECT_EQ(r.fills[0].timestamp, 5 * kMs) << "kept its place ahead of ref 2: " << describe(r.fills);
  EXPECT_EQ(r.fills[0].quantity, 50u);
}

// Thin asks: 100 at 10.01, 100 at 10.02, 100 at 10.05.
Day thin_day() {
  Day d;
  d.add(2 * kMs, 1, 'B', 100, 99'000).add(2 * kMs, 2, 'S', 100, 100'100).add(2 * kMs, 3, 'S', 100, 100'200);
  d.add(2 * kMs, 4, 'S', 100, 100'500).end(10 * kMs);
  return d;
}

TEST_F(BacktestTest, IocTakesLevelByLevelAndCancelsTheRest) {
  const auto r = run(thin_day(), R"({ symbol = "AAA", side = "buy", quantity = 300, price = 100200, tif = "ioc" })");
  ASSERT_EQ(r.fills.size(), 2u) << describe(r.fills);
  EXPECT_EQ(r.fills[0].price, 100'100);
  EXPECT_EQ(r.fills[0].quantity, 100u);
  EXPECT_EQ(r.fills[0].liquidity, 'R');
  EXPECT_EQ(r.fills[1].price, 100'200);
  EXPECT_EQ(r.fills[1].quantity, 100u);
  EXPECT_EQ(r.strategies.at(0).position, 200);
  EXPECT_EQ(r.strategies.at(0).cancels, 1u);  // the 100 that found nothing
}

TEST_F(BacktestTest, FokFillsWholeOrNothing) {
  const auto none = run(thin_day(), R"({ symbol = "AAA", side = "buy", quantity = 300, price = 100200, fok = true })");
  EXPECT_TRUE(none.fills.empty()) << describe(none.fills);
  const auto all = run(thin_day(), R"({ symbol = "AAA", side = "buy", quantity = 200, price = 100200, fok = true })");
  ASSERT_EQ(all.fills.size(), 2u) << describe(all.fills);
  EXPECT_EQ(all.strategies.at(0).position, 200);
}

TEST_F(BacktestTest, PostOnlyThatWouldCrossIsCanceled) {
  const auto r = run(thin_day(), R"({ symbol = "AAA", side = "buy", quantity = 100, price = 100100, post_only = true })");
  EXPECT_TRUE(r.fills.empty()) << describe(r.fills);
  EXPECT_EQ(r.strategies.at(0).cancels, 1u);
}

TEST_F(BacktestTest, TradeThroughThePriceFillsTheRestingOrder) {
  Day d;
  d.add(2 * kMs, 1, 'B', 1000, 100'000).add(2 * kMs, 3, 'S', 100, 100'500);
  d.trade(5 * kMs, 'B', 300, 99'900);  // a print below the own bid: the seller would have met it
  d.end(10 * kMs);
  const auto r = run(d, kBuy100);
  ASSERT_EQ(r.fills.size(), 1u) << describe(r.fills);
  EXPECT_EQ(r.fills[0].price, 100'000);
  EXPECT_EQ(r.fills[0].quantity, 100u);
  EXPECT_EQ(r.fills[0].liquidity, 'A');
}

TEST_F(BacktestTest, FeesPerShareForAddingAndRemoving) {
  // 200 shares removed (IOC) at 0.003 $, then the same buy as a resting order that adds 100
  // shares at a 0.002 $ rebate.
  const std::string fees = "fee_add_per_share = -0.002\nfee_remove_per_share = 0.003\n";
  const auto taker = run(thin_day(), R"({ symbol = "AAA", side = "buy", quantity = 300, price = 100200, tif = "ioc" })", fees);
  EXPECT_NEAR(taker.strategies.at(0).fees, 0.6, 1e-9);
  EXPECT_NEAR(taker.strategies.at(0).gross_pnl - taker.strategies.at(0).net_pnl, 0.6, 1e-9);
  Day d;
  d.add(2 * kMs, 1, 'B', 100, 100'000).add(2 * kMs, 3, 'S', 100, 100'500).trade(5 * kMs, 'B', 100, 99'900).end(10 * kMs);
  const auto maker = run(d, kBuy100, fees);
  ASSERT_EQ(maker.fills.size(), 1u);
  EXPECT_NEAR(maker.strategies.at(0).fees, -0.2, 1e-9);
}

// [risk] reference_max_age_ms in simulated time: AAA's book last changes at 2 ms; an order sent
// 20 ms after the book went live finds a reference 20 ms old: refused as stale with a 10 ms limit,
// sent with a 50 ms one.
TEST_F(BacktestTest, ReferenceMaxAgeCountsSimulatedTime) {
  Day d = queue_day();
  d.end(100 * kMs);
  d.write(dir_ / "day.itch");
  auto run_with = [&](int max_age_ms) {
    std::ofstream(dir_ / "bt.toml") << "[stats]\ntimer_us = 100\n[risk]\nmax_order_quantity = 100000\n"
                                       "max_notional_usd = 10000000\nprice_band_bps = 10000\nmax_position = 100000\n"
                                       "max_open_orders = 100\nmax_orders_per_second = 100000\norder_burst = 1000\n"
                                       "reference_max_age_ms = "
                                    << max_age_ms
                                    << "\n[[strategies]]\ntype = \"scripted\"\norders = [ { symbol = \"AAA\", side = \"buy\", "
                                       "quantity = 100, price = 100000, at_ms = 20 } ]\n[backtest]\n"
                                       "feed_latency = \"constant:1us\"\norder_latency = \"constant:10us\"\n";
    return backtest::run(backtest::load_config((dir_ / "bt.toml").string()), {{(dir_ / "day.itch").string(), false}});
  };
  const auto stale = run_with(10);
  EXPECT_EQ(stale.orders_sent, 0u);
  EXPECT_EQ(stale.risk_rejects, 1u);
  const auto fresh = run_with(50);
  EXPECT_EQ(fresh.orders_sent, 1u);
  EXPECT_EQ(fresh.risk_rejects, 0u);
}

// ---- generated days: determinism and every strategy type ---------------------------------------
struct Generated {
  fs::path file;
  std::vector<std::string> symbols;  // the first stocks of the directory
};

Generated generate(const fs::path& dir, std::uint64_t messages, std::uint32_t stocks = 4) {
  sim::DayConfig c;
  c.messages = messages;
  c.stocks = stocks;
  c.seed = 1;
  c.mix = sim::MessageMix::steady();
  const auto bytes = sim::generate_binaryfile(c);
  Generated g{dir / "gen.itch", {}};
  std::ofstream(g.file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  for (std::size_t p = 0; p + 2 < bytes.size() && g.symbols.size() < 4;) {
    const std::size_t len = static_cast<std::size_t>(bytes[p] << 8 | bytes[p + 1]);
    if (bytes[p + 2] == 'R') {
      std::string s(reinterpret_cast<const char*>(&bytes[p + 2 + 11]), 8);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      g.symbols.push_back(s);
    }
    p += 2 + len;
  }
  return g;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kRisk = "[stats]\ntimer_us = 100000\n[risk]\nmax_order_quantity = 10000\nmax_notional_usd = 10000000\n"
                    "price_band_bps = 2000\nmax_position = 100000\nmax_open_orders = 100\nmax_orders_per_second = 100000\n"
                    "order_burst = 1000\n";

TEST_F(BacktestTest, SameInputsGiveByteIdenticalOutputsAndHash) {
  const Generated g = generate(dir_, 150'000);
  ASSERT_GE(g.symbols.size(), 2u);
  // A sampled latency (an .hgrm as hftd writes them) exercises the seeded generator.
  core::Histogram h(1, 10'000'000'000ull, 3);
  for (std::uint64_t v = 1'000; v < 60'000; v += 37) h.record(v);
  std::ofstream(dir_ / "lat.hgrm") << h.percentile_distribution(1000.0);
  std::ofstream(dir_ / "bt.toml") << kRisk << "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"" << g.symbols[0]
                                  << "\", \"" << g.symbols[1] << "\"]\nquote_size = 100\nmax_position = 1000\n"
                                  << "[backtest]\nfeed_latency = \"hgrm:" << (dir_ / "lat.hgrm").string()
                                  << "\"\norder_latency = \"constant:20us\"\nresponse_latency = \"hgrm:"
                                  << (dir_ / "lat.hgrm").string() << "\"\nseed = 5\nfee_add_per_share = -0.002\n";
  const auto c = backtest::load_config((dir_ / "bt.toml").string());
  std::vector<std::string> json, fills;
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 2; ++i) {
    const auto r = backtest::run(c, {{g.file.string(), false}});
    const fs::path out = dir_ / fmt::format("out{}", i);
    backtest::write_outputs(out.string(), c, {{g.file.string(), false}}, r);
    json.push_back(slurp(out / "report.json"));
    fills.push_back(slurp(out / "fills.csv"));
    hashes.push_back(r.state_hash);
    EXPECT_GT(r.fills.size(), 0u);
    EXPECT_NE(backtest::summary(r).find(fmt::format("state_hash={:016x}\n", r.state_hash)), std::string::npos);
    EXPECT_TRUE(fs::exists(out / "report.html"));
    EXPECT_TRUE(fs::exists(out / "equity.csv"));
  }
  EXPECT_EQ(json[0], json[1]);
  EXPECT_EQ(fills[0], fills[1]);
  EXPECT_EQ(hashes[0], hashes[1]);
  // Another seed samples other latencies: another run.
  auto c2 = backtest::load_config((dir_ / "bt.toml").string(), {"backtest.seed=6"});
  EXPECT_NE(backtest::run(c2, {{g.file.string(), false}}).state_hash, hashes[0]);
}

// Skipping the simulated timer ticks that would do nothing changes nothing: the market maker
// (stale pull at 50 ms of feed time) and momentum (a 2 s time stop) give the same orders, fills,
// equity and hash as with every 1 ms tick run.
TEST_F(BacktestTest, SkippingIdleTimerTicksChangesNothing) {
  const Generated g = generate(dir_, 300'000, 20);
  ASSERT_GE(g.symbols.size(), 2u);
  std::ofstream(dir_ / "bt.toml")
      << kRisk
      << fmt::format("[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"{}\", \"{}\"]\nquote_size = 100\n"
                     "stale_ms = 50\n\n", g.symbols[0], g.symbols[1])
      << fmt::format("[[strategies]]\ntype = \"momentum\"\nsymbols = [\"{}\", \"{}\"]\nsize = 100\nbar_s = 1\n"
                     "fast_s = 5\nslow_s = 20\nbreakout_bars = 3\nvolume_mult = 0\nmax_hold_s = 2\n\n",
                     g.symbols[0], g.symbols[1])
      << "[backtest]\nfeed_latency = \"constant:3us\"\norder_latency = \"constant:10us\"\n"
         "response_latency = \"constant:10us\"\nequity_interval_ms = 100\n";
  const auto skip = backtest::run(backtest::load_config((dir_ / "bt.toml").string()), {{g.file.string(), false}});
  const auto every = backtest::run(backtest::load_config((dir_ / "bt.toml").string(), {"backtest.skip_idle_timers=false"}),
                                   {{g.file.string(), false}});
  ASSERT_GT(every.orders_sent, 0u);
  EXPECT_GT(every.strategies.at(1).orders, 0u) << "momentum sent nothing: the time stop is not exercised";
  EXPECT_EQ(skip.orders_sent, every.orders_sent);
  EXPECT_EQ(skip.fills.size(), every.fills.size());
  EXPECT_EQ(skip.equity.size(), every.equity.size());
  for (std::size_t i = 0; i < std::min(skip.equity.size(), every.equity.size()); ++i)
    ASSERT_EQ(skip.equity[i].net_pnl, every.equity[i].net_pnl) << "equity row " << i;
  EXPECT_EQ(skip.total.max_drawdown, every.total.max_drawdown);
  EXPECT_EQ(skip.state_hash, every.state_hash);
}

TEST_F(BacktestTest, EveryStrategyTypeTradesInABacktest) {
  const Generated g = generate(dir_, 600'000, 20);
  ASSERT_GE(g.symbols.size(), 2u);
  const std::string a = g.symbols[0], b = g.symbols[1];
  std::ofstream(dir_ / "bt.toml")
      << kRisk
      << fmt::format("[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"{}\"]\nquote_size = 100\n\n", a)
      << fmt::format("[[strategies]]\ntype = \"spread_capture\"\nsymbols = [\"{}\"]\nsize = 100\n\n", b)
      << fmt::format("[[strategies]]\ntype = \"momentum\"\nsymbols = [\"{}\", \"{}\"]\nsize = 100\nbar_s = 1\n"
                     "fast_s = 5\nslow_s = 20\nbreakout_bars = 3\nvolume_mult = 0\n\n", a, b)
      << fmt::format("[[strategies]]\ntype = \"stat_arb\"\nleg_a = \"{}\"\nleg_b = \"{}\"\nwindow = 20\nsample_s = 1\n"
                     "entry_z = 1.0\nexit_z = 0.2\nsize_a = 100\n\n", a, b)
      << fmt::format("[[strategies]]\ntype = \"execution\"\nname = \"twap\"\nsymbols = [\"{}\"]\nslice_s = 1\n"
                     "parents = [ {{ algo = \"twap\", symbol = \"{}\", side = \"buy\", quantity = 2000, duration_s = 600 }} ]\n",
                     a, a)
      << "[backtest]\norder_latency = \"constant:10us\"\nresponse_latency = \"constant:10us\"\n";
  const auto c = backtest::load_config((dir_ / "bt.toml").string());
  const auto r = backtest::run(c, {{g.file.string(), false}});
  ASSERT_EQ(r.strategies.size(), 5u);
  for (const auto& s : r.strategies) EXPECT_GT(s.orders, 0u) << s.name << " sent no order";
  EXPECT_GT(r.strategies[0].trades, 0u) << "market_maker";
  const auto& twap = r.strategies[4];
  ASSERT_EQ(twap.parents.size(), 1u);
  EXPECT_GT(twap.parents[0].filled, 0u);
  EXPECT_TRUE(std::isfinite(twap.parents[0].shortfall_bps));
}

TEST_F(BacktestTest, BadConfigurationIsAClearError) {
  std::ofstream(dir_ / "bt.toml") << "[[strategies]]\ntype = \"scripted\"\norders = [ " << kBuy100
                                  << " ]\n[backtest]\norder_latency = \"fast\"\n";
  try {
    (void)backtest::load_config((dir_ / "bt.toml").string());
    FAIL() << "accepted a bad latency";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("order_latency"), std::string::npos) << e.what();
  }
}

TEST_F(BacktestTest, TruncatedInputIsCountedNotACrash) {
  Day d = queue_day();
  d.end(10 * kMs);
  d.write(dir_ / "day.itch");
  const auto size = fs::file_size(dir_ / "day.itch");
  fs::resize_file(dir_ / "day.itch", size - 5);
  std::ofstream(dir_ / "bt.toml") << "[[strategies]]\ntype = \"scripted\"\norders = [ " << kBuy100 << " ]\n";
  const auto r = backtest::run(backtest::load_config((dir_ / "bt.toml").string()), {{(dir_ / "day.itch").string(), false}});
  EXPECT_EQ(r.bad_messages, 1u);
}

TEST_F(BacktestTest, SweepRunsTheGridAndSortsTheSummary) {
  const Generated g = generate(dir_, 60'000);
  std::ofstream(dir_ / "bt.toml") << kRisk << "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"" << g.symbols[0]
                                  << "\"]\nquote_size = 100\n";
  const std::string cmd = fmt::format("{}/hft-backtest sweep --config {} --data {} --param strategies.0.quote_size=100,200 "
                                      "--param strategies.0.tick=100,200 --jobs 2 --sort trades --out {} > {} 2>&1",
                                      HFT_BIN_DIR, (dir_ / "bt.toml").string(), g.file.string(), (dir_ / "sweep").string(),
                                      (dir_ / "sweep.log").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir_ / "sweep.log");
  std::ifstream f(dir_ / "sweep" / "summary.csv");
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header.rfind("run,strategies.0.quote_size,strategies.0.tick,net_pnl", 0), 0u) << header;
  std::vector<double> trades;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    ASSERT_GE(cells.size(), 11u);
    trades.push_back(std::stod(cells[10]));  // run, 2 params, net, gross, fees, sharpe, sortino, dd, win, trades
  }
  ASSERT_EQ(trades.size(), 4u);
  EXPECT_TRUE(std::is_sorted(trades.rbegin(), trades.rend()));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fs::exists(dir_ / "sweep" / fmt::format("run_{:03}", i) / "report.json"));
}


// A sweep whose second point cannot be configured: the summary has the first, and the error names
// the failed point and its log; --collect writes the same summary again from the run directories.
TEST_F(BacktestTest, SweepNamesTheFailedPointAndCollectRewritesTheSummary) {
  const Generated g = generate(dir_, 20'000);
  std::ofstream(dir_ / "bt.toml") << kRisk << "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"" << g.symbols[0]
                                  << "\"]\nquote_size = 100\n";
  const std::string bin = fmt::format("{}/hft-backtest", HFT_BIN_DIR);
  const std::string cmd = fmt::format("{} sweep --config {} --data {} --param backtest.order_latency=constant:5us,fast "
                                      "--out {} > {} 2> {}",
                                      bin, (dir_ / "bt.toml").string(), g.file.string(), (dir_ / "sweep").string(),
                                      (dir_ / "out.log").string(), (dir_ / "err.log").string());
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 3) << slurp(dir_ / "err.log");
  const std::string err = slurp(dir_ / "err.log");
  EXPECT_NE(err.find("run_001 (backtest.order_latency=fast) failed (exit 2); its log: " +
                     (dir_ / "sweep" / "run_001" / "stderr.txt").string()),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("order_latency"), std::string::npos) << err;  // the log's tail
  const std::string summary = slurp(dir_ / "sweep" / "summary.csv");
  EXPECT_NE(summary.find("\nrun_000,constant:5us,"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("run_001"), std::string::npos) << summary;
  fs::remove(dir_ / "sweep" / "summary.csv");
  const int rc2 = std::system(fmt::format("{} sweep --collect {} > /dev/null 2>&1", bin, (dir_ / "sweep").string()).c_str());
  EXPECT_EQ(WEXITSTATUS(rc2), 3);
  EXPECT_EQ(slurp(dir_ / "sweep" / "summary.csv"), summary);
}

TEST_F(BacktestTest, SlurmSweepWithoutSbatchIsAClearError) {
  const Generated g = generate(dir_, 20'000);
  std::ofstream(dir_ / "bt.toml") << kRisk << "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"" << g.symbols[0]
                                  << "\"]\n";
  const std::string cmd = fmt::format("PATH={} {}/hft-backtest sweep --slurm --config {} --data {} "
                                      "--param strategies.0.quote_size=100,200 --out {} > /dev/null 2> {}",
                                      dir_.string(), HFT_BIN_DIR, (dir_ / "bt.toml").string(), g.file.string(),
                                      (dir_ / "sweep").string(), (dir_ / "err.log").string());
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  const std::string err = slurp(dir_ / "err.log");
  EXPECT_NE(err.find("sbatch not found in PATH"), std::string::npos) << err;
  EXPECT_NE(err.find((dir_ / "sweep" / "sweep.sbatch").string()), std::string::npos) << err;
  const std::string script = slurp(dir_ / "sweep" / "sweep.sbatch");
  EXPECT_NE(script.find("#SBATCH --array=0-1\n"), std::string::npos) << script;
  EXPECT_NE(script.find("--param 'strategies.0.quote_size=200'"), std::string::npos) << script;
}

// ---- a one-node Slurm cluster (slurm-wlm, munge) started by the test ---------------------------
std::string which(const std::string& name) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream ss(path);
  for (std::string d; std::getline(ss, d, ':');)
    if (!d.empty() && ::access((fs::path(d) / name).c_str(), X_OK) == 0) return (fs::path(d) / name).string();
  return {};
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// munged, slurmctld and slurmd in the foreground, each in its own session (process group), with
// everything (key, socket, state, spool, logs) under `dir`; stopped by the destructor.
class SlurmCluster {
 public:
  explicit SlurmCluster(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_ / "state");
    fs::create_directories(dir_ / "spool");
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    host_ = host;
    host_ = host_.substr(0, host_.find('.'));
    {
      std::ofstream key(dir_ / "munge.key", std::ios::binary);
      std::ifstream rnd("/dev/urandom", std::ios::binary);
      char buf[1024];
      rnd.read(buf, sizeof buf);
      key.write(buf, sizeof buf);
    }
    fs::permissions(dir_ / "munge.key", fs::perms::owner_read | fs::perms::owner_write);
    const std::string sock = (dir_ / "munge.sock").string();
    std::ofstream(dir_ / "slurm.conf")
        << "ClusterName=hftbt\nSlurmctldHost=" << host_ << "\nSlurmctldPort=" << free_port() << "\nSlurmdPort=" << free_port()
        << "\nSlurmUser=root\nSlurmdUser=root\nAuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket=" << sock
        << "\nStateSaveLocation=" << (dir_ / "state").string() << "\nSlurmdSpoolDir=" << (dir_ / "spool").string()
        << "\nSlurmctldPidFile=" << (dir_ / "slurmctld.pid").string() << "\nSlurmdPidFile=" << (dir_ / "slurmd.pid").string()
        << "\nSlurmctldLogFile=" << (dir_ / "slurmctld.log").string() << "\nSlurmdLogFile=" << (dir_ / "slurmd.log").string()
        << "\nProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n"
           "SelectTypeParameters=CR_CPU\nSchedulerType=sched/builtin\nMpiDefault=none\nJobCompType=jobcomp/none\n"
           "AccountingStorageType=accounting_storage/none\nReturnToService=2\nNodeName="
        << host_ << " CPUs=" << std::max(1u, std::thread::hardware_concurrency()) << " RealMemory=100 State=UNKNOWN\n"
        << "PartitionName=bt Nodes=" << host_ << " Default=YES MaxTime=INFINITE State=UP\n";
    ::setenv("SLURM_CONF", (dir_ / "slurm.conf").c_str(), 1);
    start({which("munged"), "--foreground", "--socket=" + sock, "--key-file=" + (dir_ / "munge.key").string(),
           "--pid-file=" + (dir_ / "munged.pid").string(), "--log-file=" + (dir_ / "munged.log").string(),
           "--seed-file=" + (dir_ / "munge.seed").string()},
          "munged.out");
    for (int i = 0; i < 100 && !fs::exists(sock); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    start({which("slurmctld"), "-D", "-c", "-i"}, "slurmctld.out");
    start({which("slurmd"), "-D"}, "slurmd.out");
  }
  ~SlurmCluster() {
    for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) stop(*it);
    ::unsetenv("SLURM_CONF");
  }
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // The node idle in sinfo within 15 s; else why not (the daemons' logs).
  bool wait_idle(std::string& why) {
    const std::string cmd = fmt::format("{} -h -o %t > {} 2>&1", which("sinfo"), (dir_ / "sinfo.txt").string());
    for (int i = 0; i < 150; ++i) {
      if (std::system(cmd.c_str()) == 0 && slurp(dir_ / "sinfo.txt") == "idle\n") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    why = "sinfo: " + slurp(dir_ / "sinfo.txt") + "\nslurmctld: " + slurp(dir_ / "slurmctld.out") +
          "\nslurmd: " + slurp(dir_ / "slurmd.out") + "\nmunged: " + slurp(dir_ / "munged.log");
    return false;
  }

 private:
  void start(const std::vector<std::string>& args, const std::string& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (dir_ / log).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    std::vector<std::string> a = args;
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, a[0].c_str(), &fa, &at, argv.data(), environ) == 0) pids_.push_back(pid);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
  }
  // SIGTERM to the process group, SIGKILL after 5 s.
  static void stop(pid_t pid) {
    ::kill(-pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        ::kill(-pid, SIGKILL);  // anything the daemon left in its group
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  fs::path dir_;
  std::string host_;
  std::vector<pid_t> pids_;
};

// The same 4-point grid as a local sweep and as a Slurm job array on a one-node cluster: the same
// summary, byte for byte; --collect rewrites it from the run directories.
TEST_F(BacktestTest, SlurmSweepOnAOneNodeClusterGivesTheLocalSummary) {
  if (::geteuid() != 0) GTEST_SKIP() << "the one-node Slurm cluster needs root (slurmd runs jobs as their user)";
  for (const char* b : {"munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue"})
    if (which(b).empty()) GTEST_SKIP() << b << " not found: install slurm-wlm and munge (tools/setup.sh)";
  const Generated g = generate(dir_, 60'000);
  std::ofstream(dir_ / "bt.toml") << kRisk << "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"" << g.symbols[0]
                                  << "\"]\nquote_size = 100\n";
  SlurmCluster cluster(dir_ / "slurm");
  const std::string grid = fmt::format("--config {} --data {} --param strategies.0.quote_size=100,200 "
                                       "--param strategies.0.tick=100,200 --sort trades",
                                       (dir_ / "bt.toml").string(), g.file.string());
  const std::string bin = fmt::format("{}/hft-backtest", HFT_BIN_DIR);
  const std::string local = fmt::format("{} sweep {} --jobs 2 --out {} > {} 2>&1", bin, grid, (dir_ / "local").string(),
                                        (dir_ / "local.log").string());
  ASSERT_EQ(std::system(local.c_str()), 0) << slurp(dir_ / "local.log");
  std::string why;
  ASSERT_TRUE(cluster.wait_idle(why)) << why;
  const std::string slurm = fmt::format("{} sweep {} --slurm --partition bt --time 5 --slurm-wait --out {} > {} 2>&1", bin,
                                        grid, (dir_ / "slurm_sweep").string(), (dir_ / "slurm.log").string());
  ASSERT_EQ(std::system(slurm.c_str()), 0) << slurp(dir_ / "slurm.log") << slurp(dir_ / "slurm" / "slurmctld.log");
  EXPECT_NE(slurp(dir_ / "slurm.log").find("Slurm job "), std::string::npos) << slurp(dir_ / "slurm.log");
  const std::string expected = slurp(dir_ / "local" / "summary.csv");
  EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'), 5) << expected;
  EXPECT_EQ(slurp(dir_ / "slurm_sweep" / "summary.csv"), expected);
  for (int i = 0; i < 4; ++i) {
    const fs::path run = dir_ / "slurm_sweep" / fmt::format("run_{:03}", i);
    EXPECT_EQ(slurp(run / "exit.txt"), "0\n") << run;
    EXPECT_EQ(slurp(run / "fills.csv"), slurp(dir_ / "local" / fmt::format("run_{:03}", i) / "fills.csv")) << run;
  }
  fs::remove(dir_ / "slurm_sweep" / "summary.csv");
  ASSERT_EQ(std::system(fmt::format("{} sweep --collect {} > /dev/null", bin, (dir_ / "slurm_sweep").string()).c_str()), 0);
  EXPECT_EQ(slurp(dir_ / "slurm_sweep" / "summary.csv"), expected);
}

}  // namespace
}  // namespace hft
