// Snapshot and dump: the levels per stock, limited depth, text and JSON.
#include <string>

#include <gtest/gtest.h>

#include "pipeline/book/snapshot.hpp"

namespace hft::book {
namespace {

TEST(BookSnapshotTest, CopiesLevelsPerStockBestFirstAndPrintsThem) {
  BookConfig cfg;
  cfg.orders = 64;
  cfg.levels = 64;
  cfg.max_locate = 10;
  BookSet books(cfg);
  NullSink sink;
  const auto sym = itch::Symbol::from("AB\"C");
  books.add_order(1, 3, 1, 'B', 100, 1'234'500, sink, sym);
  books.add_order(2, 3, 2, 'B', 200, 1'234'400, sink, sym);
  books.add_order(3, 3, 3, 'B', 300, 1'234'300, sink, sym);
  books.add_order(4, 3, 4, 'S', 50, 1'234'600, sink, sym);
  books.add_order(5, 3, 5, 'S', 60, 1'234'600, sink, sym);
  books.trade(6, 3, 10, 1'234'550, 42, 'P');

  const BookSnapshot all = take_snapshot(books);
  ASSERT_EQ(all.stocks.size(), 1u);  // the other locates are untouched
  const StockSnapshot& st = all.stocks[0];
  EXPECT_EQ(st.locate, 3);
  ASSERT_EQ(st.bids.size(), 3u);
  EXPECT_EQ(st.bids[0].price, 1'234'500u);
  EXPECT_EQ(st.bids[2].price, 1'234'300u);
  ASSERT_EQ(st.asks.size(), 1u);
  EXPECT_EQ(st.asks[0].shares, 110u);
  EXPECT_EQ(st.asks[0].orders, 2u);
  EXPECT_EQ(all.live_orders, 5u);

  const BookSnapshot top2 = take_snapshot(books, 2);
  EXPECT_EQ(top2.stocks[0].bids.size(), 2u);
  EXPECT_EQ(top2.stocks[0].bid_levels, 3u);

  const std::string text = to_text(all);
  EXPECT_NE(text.find("123.4500"), std::string::npos) << text;
  EXPECT_NE(text.find("123.4600"), std::string::npos) << text;
  EXPECT_NE(text.find("last P 10@123.4550"), std::string::npos) << text;

  const std::string json = to_json_state(top2);
  EXPECT_NE(json.find("\"symbol\":\"AB\\\"C\""), std::string::npos) << json;  // escaped
  EXPECT_NE(json.find("{\"price\":1234500,\"shares\":100,\"orders\":1}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"bid_levels\":3"), std::string::npos) << json;
  EXPECT_EQ(json.find("1234300"), std::string::npos) << json;  // beyond the depth limit
  EXPECT_EQ(json.back(), '\n');

  // The canonical dump (hft-itch book --format json, the venue's --book-dump): exact bytes.
  EXPECT_EQ(to_json(top2),
            "{\"stock\":\"AB\\\"C\",\"locate\":3,\"bids\":[[1234500,100,1],[1234400,200,1]],"
            "\"asks\":[[1234600,110,2]]}\n");
}

TEST(BookSnapshotTest, CanonicalJsonHasOneLinePerNonEmptyBookInLocateOrder) {
  BookConfig cfg;
  cfg.orders = 64;
  cfg.levels = 64;
  cfg.max_locate = 10;
  BookSet books(cfg);
  NullSink sink;
  books.add_order(1, 7, 1, 'S', 5, 20'000, sink, itch::Symbol::from("ZZ"));
  books.add_order(2, 2, 2, 'B', 9, 10'000, sink, itch::Symbol::from("AA"));
  books.add_order(3, 5, 3, 'B', 1, 30'000, sink, itch::Symbol::from("EMPTY"));
  books.remove(4, 5, 3, sink);  // locate 5 has a symbol but no levels: no line
  EXPECT_EQ(to_json(take_snapshot(books)),
            "{\"stock\":\"AA\",\"locate\":2,\"bids\":[[10000,9,1]],\"asks\":[]}\n"
            "{\"stock\":\"ZZ\",\"locate\":7,\"bids\":[],\"asks\":[[20000,5,1]]}\n");
  BookSet empty(cfg);
  EXPECT_EQ(to_json(take_snapshot(empty)), "");
}

}  // namespace
}  // namespace hft::book
