#pragma once
// A copy of a BookSet's state for tools and operators (cold path: it allocates): the levels per
// stock, best first, with each stock's directory data and last trade, and the set's counters.
// hft-itch and the venue's --book-dump print it as text or JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/book/book_set.hpp"

namespace hft::book {

struct StockSnapshot {
  std::uint16_t locate = 0;
  StockInfo info;
  std::uint32_t bid_levels = 0;  // levels on the side (bids.size() may be fewer: depth limit)
  std::uint32_t ask_levels = 0;
  std::vector<Level> bids;  // best first
  std::vector<Level> asks;
};

struct BookSnapshot {
  std::uint64_t sequence = 0;
  std::uint32_t live_orders = 0;
  std::uint32_t live_levels = 0;
  bool degraded = false;
  BookStats stats;
  std::vector<StockSnapshot> stocks;  // by locate; only stocks with a directory entry, a symbol, levels or trades
};

// `depth` levels per side (0 = all).
BookSnapshot take_snapshot(const BookSet& books, std::size_t depth = 0);

// Human-readable: one block per stock, prices in dollars ("123.4500").
std::string to_text(const BookSnapshot& s);
// The canonical book dump, shared by `hft-itch book --format json` and the venue's --book-dump
// (tests compare the two byte for byte, so both must come from this one function): one line per
// stock with at least one level, in locate order,
//   {"stock":"AAPL","locate":13,"bids":[[1234500,300,2],...],"asks":[[1234600,100,1],...]}
// each level [price, shares, orders], best first, prices as Price(4) integers (1/10,000 $), no
// spaces, every line ending in '\n'. Empty when every book is empty.
std::string to_json(const BookSnapshot& s);
// Everything the snapshot holds as one JSON object (counters, directory data, last trades,
// level counts): for operators. Prices as Price(4) integers ("price_scale": 10000).
std::string to_json_state(const BookSnapshot& s);

}  // namespace hft::book
