// The synthetic day: deterministic per seed, valid (replayed through the reference book), shaped
// like a NASDAQ day (system events, directory, timestamps, penny prices, depth, message mix).
#include <algorithm>
#include <cmath>
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "gateways/itch/decoder.hpp"
#include "venue/sim/day_generator.hpp"
#include "tests/pipeline/book/reference_book.hpp"
#include "tests/pipeline/book/test_util.hpp"

namespace hft::sim {
namespace {

using book::testing::for_each_block;

DayConfig config(std::uint64_t messages, std::uint32_t stocks, std::uint64_t seed) {
  DayConfig c;
  c.messages = messages;
  c.stocks = stocks;
  c.seed = seed;
  return c;
}

constexpr std::uint64_t kNs = 1'000'000'000ull;

TEST(DayGenerator, SameSeedSameBytesOtherSeedOtherBytes) {
  const auto a = generate_binaryfile(config(50'000, 40, 1));
  const auto b = generate_binaryfile(config(50'000, 40, 1));
  const auto c = generate_binaryfile(config(50'000, 40, 2));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // The pull API, the callback API and the in-memory file are the same day.
  DayGenerator gen(config(50'000, 40, 1));
  std::vector<std::uint8_t> pulled;
  std::uint8_t msg[kMaxMessageLength];
  while (const std::size_t len = gen.next(msg)) {
    pulled.push_back(static_cast<std::uint8_t>(len >> 8));
    pulled.push_back(static_cast<std::uint8_t>(len));
    pulled.insert(pulled.end(), msg, msg + len);
  }
  EXPECT_EQ(pulled, a);
  EXPECT_EQ(gen.produced(), 50'000u);
  EXPECT_EQ(gen.next(msg), 0u);
}

TEST(DayGenerator, StartsAndEndsLikeANasdaqDay) {
  constexpr std::uint32_t kStocks = 25;
  const auto day = generate_binaryfile(config(10'000, kStocks, 3));
  std::vector<std::vector<std::uint8_t>> msgs;
  ASSERT_TRUE(for_each_block(day, [&](const std::uint8_t* m, std::size_t len) { msgs.emplace_back(m, m + len); }));
  ASSERT_EQ(msgs.size(), 10'000u);
  auto type = [&](std::size_t i) { return static_cast<char>(msgs[i][0]); };
  auto event = [&](std::size_t i) { return type(i) == 'S' ? static_cast<char>(msgs[i][11]) : '?'; };
  EXPECT_EQ(event(0), 'O');
  std::set<std::uint16_t> directory;
  std::set<std::string> symbols;
  for (std::size_t i = 1; i <= kStocks; ++i) {
    ASSERT_EQ(type(i), 'R');
    const itch::StockDirectory r{{msgs[i].data()}};
    directory.insert(r.stock_locate());
    symbols.insert(std::string(r.stock().view()));
    EXPECT_EQ(r.round_lot_size(), 100u);
    const itch::Symbol stock = r.stock();
    const std::string_view sym = stock.view();
    EXPECT_TRUE(!sym.empty() && sym.size() <= 5 &&
                std::all_of(sym.begin(), sym.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }))
        << sym;
  }
  EXPECT_EQ(directory.size(), kStocks);
  EXPECT_EQ(*directory.begin(), 1);
  EXPECT_EQ(*directory.rbegin(), kStocks);
  EXPECT_EQ(symbols.size(), kStocks);  // unique
  EXPECT_EQ(event(kStocks + 1), 'S');
  for (std::size_t i = kStocks + 2; i < 2 * kStocks + 2; ++i) {
    ASSERT_EQ(type(i), 'H');
    EXPECT_EQ(static_cast<char>(msgs[i][19]), 'T');
  }
  EXPECT_EQ(event(2 * kStocks + 2), 'Q');
  EXPECT_EQ(event(msgs.size() - 3), 'M');
  EXPECT_EQ(event(msgs.size() - 2), 'E');
  EXPECT_EQ(event(msgs.size() - 1), 'C');
  for (std::size_t i = 2 * kStocks + 3; i < msgs.size() - 3; ++i) ASSERT_NE(type(i), 'S') << i;

  // Timestamps strictly increase; order flow stays within market hours (09:30-16:00).
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const std::uint64_t ts = wire::load_be48(msgs[i].data() + 5);
    ASSERT_GT(ts, prev) << "message " << i;
    prev = ts;
    if (i > 2 * kStocks + 2 && i < msgs.size() - 3) {
      ASSERT_GT(ts, (9 * 3600 + 1800) * kNs);
      ASSERT_LT(ts, 16 * 3600 * kNs);
    }
  }
  EXPECT_LT(prev, 24 * 3600 * kNs);
}

// Replays a day through the reference book, which records every rule a valid day must keep.
struct Replay {
  book::testing::ReferenceBook ref;
  std::array<std::uint64_t, 256> counts{};
  std::uint64_t off_grid_prices = 0;
  std::uint64_t messages = 0;
  struct Checker {
    Replay* r;
    void price(std::uint32_t p) { r->off_grid_prices += p % 100 != 0; }
    void on_add_order(const itch::AddOrder& m) {
      price(m.price());
      r->ref.on_add_order(m);
    }
    void on_order_executed(const itch::OrderExecuted& m) { r->ref.on_order_executed(m); }
    void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) {
      price(m.execution_price());
      r->ref.on_order_executed_with_price(m);
    }
    void on_order_cancel(const itch::OrderCancel& m) { r->ref.on_order_cancel(m); }
    void on_order_delete(const itch::OrderDelete& m) { r->ref.on_order_delete(m); }
    void on_order_replace(const itch::OrderReplace& m) {
      price(m.price());
      r->ref.on_order_replace(m);
    }
    void on_trade(const itch::Trade& m) { price(m.price()); }
  };
  explicit Replay(const std::vector<std::uint8_t>& day) {
    Checker c{this};
    itch::DecodeStats stats;
    const auto res = itch::decode_blocks(day.data(), day.size(), c, stats);
    EXPECT_FALSE(res.truncated);
    EXPECT_EQ(stats.errors(), 0u);
    counts = stats.by_type;
    messages = stats.messages;
  }
};

TEST(DayGenerator, NeverNamesADeadOrderOverExecutesOrCrosses) {
  const Replay r(generate_binaryfile(config(400'000, 120, 4)));
  const auto& v = r.ref.violations();
  EXPECT_EQ(v.unknown_order, 0u);
  EXPECT_EQ(v.over_execution, 0u);
  EXPECT_EQ(v.full_cancel_by_x, 0u);
  EXPECT_EQ(v.duplicate_order, 0u);
  EXPECT_EQ(v.crossed_or_locked, 0u);
  EXPECT_EQ(v.bad_field, 0u);
  EXPECT_EQ(r.off_grid_prices, 0u);
  EXPECT_GT(r.ref.live_orders(), 0u);
}

TEST(DayGenerator, MessageMixIsCloseToTheRealSample) {
  DaySummary summary;
  const auto day = generate_binaryfile(config(500'000, 100, 5), &summary);
  const Replay r(day);
  EXPECT_EQ(summary.counts, r.counts);
  EXPECT_EQ(summary.bytes, day.size());
  auto pct = [&](char t) { return 100.0 * static_cast<double>(r.counts[static_cast<std::uint8_t>(t)]) / 500'000.0; };
  // NASDAQ 2019-12-30 sample at 09:30: A 36.7%, U 22.5%, F 19.3%, D 16.7%, E 2.8% (data/README.md).
  EXPECT_NEAR(pct('A'), 36.7, 1.0);
  EXPECT_NEAR(pct('U'), 22.5, 1.0);
  EXPECT_NEAR(pct('F'), 19.3, 1.0);
  EXPECT_NEAR(pct('D'), 16.7, 1.0);
  EXPECT_NEAR(pct('E'), 2.8, 0.5);
  for (const char t : {'X', 'C', 'P', 'Q', 'I'}) {
    EXPECT_GT(r.counts[static_cast<std::uint8_t>(t)], 0u) << t;
    EXPECT_LT(pct(t), 1.0) << t;
  }
  const std::string mix = describe_mix(r.counts);
  EXPECT_EQ(mix.substr(0, 2), "A ") << mix;
  // The steady profile keeps the resting order count flat.
  DayConfig steady = config(500'000, 100, 5);
  steady.mix = MessageMix::steady();
  DaySummary s2;
  generate_binaryfile(steady, &s2);
  EXPECT_LT(s2.peak_live_orders * 4, summary.peak_live_orders);
}

TEST(DayGenerator, BooksHaveTensOfLevelsNearATightSpread) {
  const Replay r(generate_binaryfile(config(600'000, 30, 6)));
  std::vector<std::size_t> depth;
  std::vector<std::uint32_t> spreads;
  for (const auto& [locate, b] : r.ref.books()) {
    if (b.bids.empty() || b.asks.empty()) continue;
    const std::uint32_t bid = b.bids.begin()->first;
    const std::uint32_t ask = b.asks.begin()->first;
    spreads.push_back(ask - bid);
    // Levels within 50 cents of the touch.
    depth.push_back(static_cast<std::size_t>(std::count_if(b.bids.begin(), b.bids.end(), [&](const auto& l) {
      return l.first + 5000 >= bid;
    })));
  }
  ASSERT_GE(depth.size(), 25u);
  std::sort(depth.begin(), depth.end());
  std::sort(spreads.begin(), spreads.end());
  EXPECT_GE(depth[depth.size() / 2], 10u);
  EXPECT_LE(depth[depth.size() / 2], 51u);
  EXPECT_LE(spreads[spreads.size() / 2], 500u);  // a median spread of a few cents
}

// Most orders that are cancelled or replaced go within milliseconds of their add.
TEST(DayGenerator, MostRemovedOrdersLiveUnderTenMilliseconds) {
  struct Lifetimes {
    std::unordered_map<std::uint64_t, std::uint64_t> added;
    std::vector<std::uint64_t> lives;
    void on_add_order(const itch::AddOrder& m) { added[m.order_reference_number()] = m.timestamp(); }
    void gone(std::uint64_t ref, std::uint64_t ts) {
      const auto it = added.find(ref);
      ASSERT_NE(it, added.end());
      lives.push_back(ts - it->second);
      added.erase(it);
    }
    void on_order_delete(const itch::OrderDelete& m) { gone(m.order_reference_number(), m.timestamp()); }
    void on_order_replace(const itch::OrderReplace& m) {
      gone(m.original_order_reference_number(), m.timestamp());
      added[m.new_order_reference_number()] = m.timestamp();
    }
  };
  const auto day = generate_binaryfile(config(300'000, 200, 8));
  Lifetimes l;
  itch::DecodeStats stats;
  itch::decode_blocks(day.data(), day.size(), l, stats);
  ASSERT_GT(l.lives.size(), 100'000u);
  std::sort(l.lives.begin(), l.lives.end());
  const auto under_10ms = static_cast<std::size_t>(
      std::lower_bound(l.lives.begin(), l.lives.end(), 10'000'000ull) - l.lives.begin());
  EXPECT_GT(under_10ms * 100, l.lives.size() * 60);
  EXPECT_LT(l.lives[l.lives.size() / 2], 2'000'000u);  // median under 2 ms
}

// ---- the realistic profile (hft-itch gen's default day) ---------------------------------------

DayConfig realistic(std::uint64_t messages, std::uint32_t stocks, std::uint64_t seed) {
  DayConfig c = DayConfig::realistic();
  c.messages = messages;
  c.stocks = stocks;
  c.seed = seed;
  return c;
}

// Lifetimes of removed orders (D, U's original, full executions), with F adds and U's new orders.
struct RealisticLifetimes {
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> added;  // ref -> {ts, shares}
  std::vector<std::uint64_t> lives;
  void on_add_order(const itch::AddOrder& m) { added[m.order_reference_number()] = {m.timestamp(), m.shares()}; }
  void gone(std::uint64_t ref, std::uint64_t ts) {
    const auto it = added.find(ref);
    ASSERT_NE(it, added.end());
    lives.push_back(ts - it->second.first);
    added.erase(it);
  }
  void on_order_delete(const itch::OrderDelete& m) { gone(m.order_reference_number(), m.timestamp()); }
  void on_order_replace(const itch::OrderReplace& m) {
    gone(m.original_order_reference_number(), m.timestamp());
    added[m.new_order_reference_number()] = {m.timestamp(), m.shares()};
  }
  void on_order_cancel(const itch::OrderCancel& m) { added[m.order_reference_number()].second -= m.cancelled_shares(); }
  void on_order_executed(const itch::OrderExecuted& m) {
    auto& o = added[m.order_reference_number()];
    o.second -= m.executed_shares();
    if (o.second == 0) gone(m.order_reference_number(), m.timestamp());
  }
};

// The whole-day mix of issue 17's reference day (A 45%, D 37%, U 9.5%, E 4.7%, X 1.9%, F 1.6%,
// P 0.5%), about 0.065 resting orders per message at the end (640K after 10M messages), one
// reference sequence (largest reference = adds + replaces), and a valid day.
TEST(DayGeneratorRealistic, MixRestingBookAndReferencesLikeAWholeNasdaqDay) {
  constexpr std::uint64_t kMessages = 400'000;
  DaySummary summary;
  const auto day = generate_binaryfile(realistic(kMessages, 320, 11), &summary);  // 1,250 messages a stock, as 10M/8,000
  const Replay r(day);
  const auto& v = r.ref.violations();
  EXPECT_EQ(v.unknown_order + v.over_execution + v.full_cancel_by_x + v.duplicate_order + v.crossed_or_locked + v.bad_field,
            0u);
  auto pct = [&](char t) { return 100.0 * static_cast<double>(r.counts[static_cast<std::uint8_t>(t)]) / kMessages; };
  EXPECT_NEAR(pct('A'), 45.0, 1.5);
  EXPECT_NEAR(pct('D'), 37.0, 1.5);
  EXPECT_NEAR(pct('U'), 9.5, 1.0);
  EXPECT_NEAR(pct('E'), 4.7, 0.7);
  EXPECT_NEAR(pct('X'), 1.9, 0.5);
  EXPECT_NEAR(pct('F'), 1.6, 0.4);
  EXPECT_NEAR(pct('P'), 0.5, 0.2);
  EXPECT_EQ(summary.end_live_orders, r.ref.live_orders());
  EXPECT_GT(summary.end_live_orders, kMessages * 5 / 100);
  EXPECT_LT(summary.end_live_orders, kMessages * 8 / 100);
  const std::uint64_t new_refs = r.counts['A'] + r.counts['F'] + r.counts['U'];
  EXPECT_EQ(summary.max_order_ref, new_refs);  // 1, 2, 3, ...
  // The legacy profile keeps the first generator's day: the 09:30 mix and four reference streams.
  DaySummary legacy;
  generate_binaryfile(config(kMessages, 320, 11), &legacy);
  EXPECT_GT(legacy.end_live_orders, summary.end_live_orders * 4);
  EXPECT_GT(legacy.max_order_ref, 4'000'000u);
  EXPECT_EQ(parse_profile("realistic"), Profile::kRealistic);
  EXPECT_EQ(parse_profile("legacy"), Profile::kLegacy);
  EXPECT_THROW(parse_profile("real"), std::invalid_argument);
}

// Most orders go within a second of their add (a burst's messages are microseconds apart), with
// a long tail of orders resting for minutes or more.
TEST(DayGeneratorRealistic, MostOrdersLiveUnderASecondWithALongTail) {
  const auto day = generate_binaryfile(realistic(300'000, 240, 12));
  RealisticLifetimes l;
  itch::DecodeStats stats;
  itch::decode_blocks(day.data(), day.size(), l, stats);
  ASSERT_GT(l.lives.size(), 100'000u);
  std::sort(l.lives.begin(), l.lives.end());
  auto share_under = [&](std::uint64_t ns) {
    return static_cast<double>(std::lower_bound(l.lives.begin(), l.lives.end(), ns) - l.lives.begin()) /
           static_cast<double>(l.lives.size());
  };
  std::printf("removed orders: %.1f%% under 1 ms, %.1f%% under 1 s, %.1f%% over 60 s, longest %.0f s\n",
              100 * share_under(1'000'000), 100 * share_under(kNs), 100 * (1 - share_under(60 * kNs)),
              static_cast<double>(l.lives.back()) / 1e9);
  EXPECT_GT(share_under(kNs), 0.6);
  EXPECT_LT(share_under(kNs), 0.85);
  EXPECT_LT(share_under(60 * kNs), 0.95);  // >= 5% rest for more than a minute
  EXPECT_GT(l.lives.back(), 3600 * kNs);   // some for hours
}

TEST(DayGenerator, WritesTheSameBytesToAFile) {
  const DayConfig c = config(20'000, 10, 7);
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("hft_day_test_" + std::to_string(::getpid()) + ".itch");
  const DaySummary s = write_binaryfile(c, path.string());
  const auto bytes = book::testing::read_file(path);
  std::filesystem::remove(path);
  EXPECT_EQ(bytes, generate_binaryfile(c));
  EXPECT_EQ(s.messages, 20'000u);
  EXPECT_EQ(s.bytes, bytes.size());
  EXPECT_THROW(write_binaryfile(c, "/nonexistent-dir/day.itch"), std::system_error);
}

TEST(DayGenerator, RejectsImpossibleConfigurations) {
  EXPECT_THROW(DayGenerator(config(1000, 0, 1)), std::invalid_argument);
  EXPECT_THROW(DayGenerator(config(1000, 70'000, 1)), std::invalid_argument);
  EXPECT_THROW(DayGenerator(config(2 * 100 + 6, 100, 1)), std::invalid_argument);  // no room for order flow
  EXPECT_NO_THROW(DayGenerator(config(2 * 100 + 7, 100, 1)));
  DayConfig no_adds = config(1000, 10, 1);
  no_adds.mix.add = 0;
  no_adds.mix.add_mpid = 0;
  EXPECT_THROW(DayGenerator{no_adds}, std::invalid_argument);
}

// ---- scenarios ------------------------------------------------------------------------------

struct AddSeen {
  std::uint64_t ts = 0;
  std::uint16_t locate = 0;
  std::uint32_t price = 0;
};

std::vector<AddSeen> adds_of(const std::vector<std::uint8_t>& day) {
  struct H {
    std::vector<AddSeen>* out;
    void on_add_order(const itch::AddOrder& m) { out->push_back({m.timestamp(), m.stock_locate(), m.price()}); }
  };
  std::vector<AddSeen> out;
  H h{&out};
  itch::DecodeStats stats;
  itch::decode_blocks(day.data(), day.size(), h, stats);
  EXPECT_EQ(stats.errors(), 0u);
  return out;
}

DayConfig scenario_config(Scenario kind, std::uint64_t messages = 600'000, std::uint32_t stocks = 10) {
  DayConfig c = config(messages, stocks, 11);
  c.scenario.kind = kind;
  return c;
}

// Ratios of each add's price in the shaped day to the same add in the same day without a scenario
// (the order flow does not depend on the scenario, so the i-th adds are the same order).
std::vector<std::pair<std::uint64_t, double>> ratios_to_flat(const DayConfig& shaped) {
  DayConfig flat = shaped;
  flat.scenario = {};
  const auto a = adds_of(generate_binaryfile(shaped));
  const auto b = adds_of(generate_binaryfile(flat));
  EXPECT_EQ(a.size(), b.size());
  std::vector<std::pair<std::uint64_t, double>> out;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    EXPECT_EQ(a[i].ts, b[i].ts);
    out.emplace_back(a[i].ts, static_cast<double>(a[i].price) / b[i].price);
  }
  return out;
}

constexpr std::uint64_t kOpen = 34'200 * kNs;
constexpr std::uint64_t kClose = 57'600 * kNs;

TEST(DayGeneratorScenario, NoneIsTheUnshapedDayAndNamesParse) {
  DayConfig c = config(20'000, 10, 3);
  const auto plain = generate_binaryfile(c);
  c.scenario.kind = parse_scenario("none");
  EXPECT_EQ(generate_binaryfile(c), plain);
  EXPECT_EQ(parse_scenario("flash-crash"), Scenario::kFlashCrash);
  EXPECT_EQ(parse_scenario("mean-reverting"), Scenario::kMeanReverting);
  EXPECT_THROW(parse_scenario("crashy"), std::invalid_argument);
  c.scenario.kind = Scenario::kFlashCrash;
  c.scenario.crash_pct = 100;
  EXPECT_THROW(generate_binaryfile(c), std::invalid_argument);
  DayConfig b = config(20'000, 10, 3);
  b.burst_min = 0;
  EXPECT_THROW(generate_binaryfile(b), std::invalid_argument);
  b.burst_min = 5;
  b.burst_max = 4;
  EXPECT_THROW(generate_binaryfile(b), std::invalid_argument);
}

TEST(DayGeneratorScenario, TrendingDriftsUpByTheAskedPercent) {
  DayConfig c = scenario_config(Scenario::kTrending);
  c.scenario.drift_pct = 8;
  double first = 0, last = 0;
  std::size_t nf = 0, nl = 0;
  for (const auto& [ts, r] : ratios_to_flat(c)) {
    if (ts < kOpen + 600 * kNs) first += r, ++nf;
    if (ts >= kClose - 600 * kNs) last += r, ++nl;
  }
  ASSERT_GT(nf, 100u);
  ASSERT_GT(nl, 100u);
  std::printf("trending +8%%: first 10 min x%.4f, last 10 min x%.4f\n", first / nf, last / nl);
  EXPECT_NEAR(first / nf, 1.0, 0.01);
  EXPECT_NEAR(last / nl, 1.08, 0.015);
}

TEST(DayGeneratorScenario, MeanRevertingStaysNearItsLevelVolatileWandersFar) {
  auto spread = [](const DayConfig& c, double& mean) {
    double worst = 0, sum = 0;
    std::size_t n = 0;
    for (const auto& [ts, r] : ratios_to_flat(c)) {
      if (ts < kOpen) continue;
      worst = std::max(worst, std::abs(r - 1));
      sum += r, ++n;
    }
    mean = sum / n;
    return worst;
  };
  double mean_mr = 0, mean_vol = 0;
  const double mr = spread(scenario_config(Scenario::kMeanReverting), mean_mr);
  const double vol = spread(scenario_config(Scenario::kVolatile), mean_vol);
  std::printf("largest deviation from the level: mean-reverting %.4f (mean x%.4f), volatile %.4f\n", mr, mean_mr,
              vol);
  EXPECT_LT(mr, 0.03);
  EXPECT_NEAR(mean_mr, 1.0, 0.005);
  EXPECT_GT(vol, 0.08);
  EXPECT_GT(vol, 3 * mr);
}

TEST(DayGeneratorScenario, FlashCrashFallsByThePercentAtTheTimeThenRecovers) {
  DayConfig c = scenario_config(Scenario::kFlashCrash, 2'000'000, 8);
  c.scenario.crash_at_ns = 14 * 3600 * kNs;
  c.scenario.crash_pct = 12;
  c.scenario.crash_seconds = 4;
  c.scenario.recovery_seconds = 30;
  const auto adds = adds_of(generate_binaryfile(c));
  // Per stock: mean add price in the 20 s before, at the bottom (2 s after the fall) and 20-60 s
  // after the recovery; each stock's own prices, so the day's slow wander does not matter.
  const std::uint64_t t0 = c.scenario.crash_at_ns;
  const std::uint64_t bottom = t0 + 4 * kNs;
  const std::uint64_t back = bottom + 30 * kNs;
  std::map<std::uint16_t, std::array<std::pair<double, int>, 3>> by_stock;
  for (const AddSeen& a : adds) {
    int w = -1;
    if (a.ts >= t0 - 20 * kNs && a.ts < t0) w = 0;
    if (a.ts >= bottom && a.ts < bottom + 2 * kNs) w = 1;
    if (a.ts >= back + 20 * kNs && a.ts < back + 60 * kNs) w = 2;
    if (w < 0) continue;
    by_stock[a.locate][w].first += a.price;
    ++by_stock[a.locate][w].second;
  }
  std::vector<double> fall, recovered;
  for (const auto& [locate, w] : by_stock) {
    if (w[0].second < 5 || w[1].second < 3 || w[2].second < 5) continue;
    const double before = w[0].first / w[0].second;
    fall.push_back(w[1].first / w[1].second / before);
    recovered.push_back(w[2].first / w[2].second / before);
  }
  ASSERT_GE(fall.size(), 3u) << "too few adds around the crash";
  std::sort(fall.begin(), fall.end());
  std::sort(recovered.begin(), recovered.end());
  const double f = fall[fall.size() / 2], r = recovered[recovered.size() / 2];
  std::printf("flash crash -12%% at 14:00:00 over 4 s: median bottom/before x%.4f, after recovery x%.4f (%zu stocks)\n",
              f, r, fall.size());
  EXPECT_NEAR(f, 0.88, 0.02);
  EXPECT_NEAR(r, 1.0, 0.02);
  // Nothing moves before the stated time.
  PriceShape shape(c);
  EXPECT_DOUBLE_EQ(shape.factor(t0 - 1), 1.0);
  EXPECT_NEAR(shape.factor(t0 + 2 * kNs), 0.94, 1e-9);
  EXPECT_NEAR(shape.factor(bottom), 0.88, 1e-9);
  EXPECT_NEAR(shape.factor(back + kNs), 1.0, 1e-9);
}

}  // namespace
}  // namespace hft::sim
