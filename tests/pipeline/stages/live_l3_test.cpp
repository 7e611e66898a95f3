// The live path's L3 facts: ITCH bytes through hftd's parse, book and strategy stages give a
// strategy's ctx.features(locate) the same OFI decomposition (ofi_limit, ofi_cancel, ofi_trade) as
// hft-itch features computes from the order-by-order book (pipeline/features/book_driver.hpp),
// per update, exactly.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gateways/itch/decoder.hpp"
#include "pipeline/features/book_driver.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "tests/pipeline/book/test_util.hpp"
#include "tests/support/test_data.hpp"
#include "venue/sim/day_generator.hpp"

namespace hft::pipeline {
namespace {

using features::Feature;

constexpr features::FeatureMask kL3 =
    features::bit(Feature::kOfiLimit) | features::bit(Feature::kOfiCancel) | features::bit(Feature::kOfiTrade);

struct Row {
  std::uint16_t locate = 0;
  std::int64_t limit = 0, cancel = 0, trade = 0;
  friend bool operator==(const Row&, const Row&) = default;
};

Row row_of(std::uint16_t l, const features::Values& v) {
  auto get = [&](Feature f) { return static_cast<std::int64_t>(v.get(f).value_or(-1e18)); };
  return Row{l, get(Feature::kOfiLimit), get(Feature::kOfiCancel), get(Feature::kOfiTrade)};
}

// The stocks named by the day's directory and add messages.
struct Names {
  std::map<std::uint16_t, itch::Symbol> by_locate;
  void on_stock_directory(const itch::StockDirectory& m) noexcept { by_locate[m.stock_locate()] = m.stock(); }
  void on_add_order(const itch::AddOrder& m) noexcept { by_locate.emplace(m.stock_locate(), m.stock()); }
};

// hft-itch's path: each message's flows alone (consumed before it), recorded after each update.
struct Hook {
  features::FeatureEngine* engine = nullptr;
  const std::set<std::uint16_t>* subscribed = nullptr;
  std::vector<Row>* rows = nullptr;
  bool wants(std::uint16_t l) noexcept { return subscribed->count(l) != 0; }
  void before(std::uint16_t l, std::uint64_t) noexcept { engine->consume(l); }
  void after(std::uint16_t l, const features::Event&) noexcept {
    features::Values v;
    engine->values(l, v);
    rows->push_back(row_of(l, v));
  }
};

book::BookConfig book_config(std::uint32_t max_locate) {
  book::BookConfig c;
  c.orders = 1u << 17;
  c.levels = 1u << 15;
  c.max_locate = max_locate;
  return c;
}

struct Counts {
  std::size_t rows = 0, adds = 0, cancels = 0, trades = 0;
};

Counts compare(const std::vector<std::uint8_t>& day, std::uint32_t max_locate) {
  Names names;
  book::testing::for_each_block(day, [&](const std::uint8_t* msg, std::size_t len) { itch::decode_message(msg, len, names); });
  std::set<std::uint16_t> subscribed;
  std::vector<std::string> symbols;
  SymbolTable table{max_locate + 1};
  for (const auto& [l, s] : names.by_locate) {
    if (l == 0 || l > max_locate) continue;
    subscribed.insert(l);
    symbols.emplace_back(s.view());
    table.set(l, s.key());
  }

  // hft-itch features' path
  std::vector<Row> want;
  book::BookSet ref_books(book_config(max_locate));
  features::FeatureEngine ref_engine(features::Params{}, kL3, max_locate, static_cast<std::uint32_t>(symbols.size()));
  Hook hook{&ref_engine, &subscribed, &want};
  features::FeatureBookHandler<Hook> handler(ref_books, ref_engine, hook);

  // hftd's path: parse -> book -> strategy, one message at a time
  core::SpscRing<RxMessage> rx{64};
  core::SpscRing<MdEvent> md{64};
  core::SpscRing<BookEvent> be{64};
  core::SpscRing<ExecReport> reports{64};
  core::SpscRing<OrderIntent> intents{256};
  core::Histogram hop{1, 10'000'000'000ull, 3};
  Subscriptions subs{max_locate + 1};
  book::BookSet books(book_config(max_locate));
  risk::ReferencePrices refs{max_locate + 1};
  ParseStage parse(rx, md, hop);
  BookStage book_stage(md, be, books, table, refs, subs, hop);
  StrategyStage strategy(be, reports, intents, table, subs, hop, 1'000'000'000);
  strategy.add("l3", strategy::ProbeStrategy(strategy::ProbeParams{}), symbols, kL3);
  strategy.poll();  // resolves the symbols, subscribes the book stage
  std::vector<Row> got;
  std::string error;
  std::uint64_t seen = 0;
  book::testing::for_each_block(day, [&](const std::uint8_t* msg, std::size_t len) {
    itch::decode_message(msg, len, handler);
    RxMessage m{};
    m.length = static_cast<std::uint8_t>(len);
    std::memcpy(m.bytes.data(), msg, len);
    if (!rx.try_push(m)) error = "rx ring full";
    while (parse.poll() != 0 || book_stage.poll() != 0 || strategy.poll() != 0) {
    }
    OrderIntent drop;
    while (intents.try_pop(drop)) {
    }
    const std::uint64_t updates = strategy.features()->stats().updates;
    if (updates == seen) return;
    if (updates != seen + 1 && error.empty()) error = "more than one update for one message";
    seen = updates;
    const auto l = static_cast<std::uint16_t>(msg[1] << 8 | msg[2]);
    got.push_back(row_of(l, strategy.context(0).features(l)));
  });
  EXPECT_EQ(error, "");
  EXPECT_EQ(book_stage.counters().overflow, 0u);
  EXPECT_EQ(got.size(), want.size()) << "updates: live vs hft-itch";
  Counts c;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
    if (got[i] != want[i]) {
      ADD_FAILURE() << "update " << i << " locate " << want[i].locate << ": live (" << got[i].locate << ") limit "
                    << got[i].limit << " cancel " << got[i].cancel << " trade " << got[i].trade << ", hft-itch limit "
                    << want[i].limit << " cancel " << want[i].cancel << " trade " << want[i].trade;
      break;
    }
    c.adds += want[i].limit != 0;
    c.cancels += want[i].cancel != 0;
    c.trades += want[i].trade != 0;
  }
  c.rows = want.size();
  std::printf("%zu updates compared: %zu with ofi_limit, %zu with ofi_cancel, %zu with ofi_trade\n", c.rows, c.adds,
              c.cancels, c.trades);
  return c;
}

TEST(LiveL3, GeneratedDayMatchesTheBookDriverPerUpdate) {
  sim::DayConfig c;
  c.messages = 30'000;
  c.stocks = 8;
  c.seed = 41;
  const Counts n = compare(sim::generate_binaryfile(c), c.stocks);
  EXPECT_GT(n.rows, 20'000u);
  EXPECT_GT(n.adds, 1000u);
  EXPECT_GT(n.cancels, 1000u);
  EXPECT_GT(n.trades, 100u);
}

TEST(LiveL3, RealNasdaqSnippetMatchesTheBookDriverPerUpdate) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const auto day = book::testing::read_file(dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50");
  ASSERT_FALSE(day.empty());
  const Counts n = compare(day, 65535);
  EXPECT_GT(n.rows, 100u);
}

}  // namespace
}  // namespace hft::pipeline
