// SymbolTable (pipeline/symbols.hpp): locate -> symbol as the feed's stock directory sets it, and
// symbol -> locate in constant time (the strategy stage looks unresolved symbols up on every
// timer tick, and a full ITCH day has ~12,000 locates in a table sized for 65,536).
#include "pipeline/symbols.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace hft::pipeline {
namespace {

// "S<n>" (not "S" + std::to_string(n): g++ 12 -O3 warns falsely in basic_string).
std::string name(std::uint32_t n) {
  char buf[16];
  const int len = std::snprintf(buf, sizeof buf, "S%u", n);
  return std::string(buf, static_cast<std::size_t>(len));
}

TEST(SymbolTable, LocateOfFindsSetSymbolsAndFollowsChanges) {
  SymbolTable t(64);
  EXPECT_EQ(t.locate_of("AAPL"), 0);
  t.set(7, itch::Symbol::from("AAPL").key());
  t.set(9, itch::Symbol::from("MSFT").key());
  EXPECT_EQ(t.locate_of("AAPL"), 7);
  EXPECT_EQ(t.locate_of("MSFT"), 9);
  EXPECT_EQ(t.locate_of("ZVZZT"), 0);
  t.set(7, itch::Symbol::from("AMZN").key());  // a locate reassigned (a new directory)
  EXPECT_EQ(t.locate_of("AAPL"), 0) << "the old name no longer maps to the locate";
  EXPECT_EQ(t.locate_of("AMZN"), 7);
  t.set(11, itch::Symbol::from("AAPL").key());
  EXPECT_EQ(t.locate_of("AAPL"), 11);
  EXPECT_EQ(t.locate_of(""), 0);
  t.set(200, itch::Symbol::from("OUT").key());  // beyond the table: ignored
  EXPECT_EQ(t.locate_of("OUT"), 0);
}

TEST(SymbolTable, EveryLocateOfAFullTableIsFound) {
  SymbolTable t(65'536);
  for (std::uint32_t l = 1; l < 65'536; ++l) t.set(static_cast<std::uint16_t>(l), itch::Symbol::from(name(l)).key());
  for (std::uint32_t l = 1; l < 65'536; l += 97) ASSERT_EQ(t.locate_of(name(l)), l);
}

// An unknown symbol must not cost a scan of every locate (the old locate_of read all 65,536
// words for each miss): a lookup reads a few slots of the index, whether the name is there or not.
TEST(SymbolTable, LookupOfAnUnknownSymbolDoesNotScanTheTable) {
  SymbolTable t(65'536);
  for (std::uint16_t l = 1; l < 12'000; ++l) t.set(l, itch::Symbol::from(name(l)).key());
  EXPECT_EQ(t.locate_of("NOSUCH"), 0u);
  std::size_t worst = 0;
  for (const char* n : {"NOSUCH", "ZZZZZZZZ", "QQQ", "A"}) worst = std::max(worst, t.probes_for(n));
  for (std::uint16_t l = 1; l < 12'000; l += 7) worst = std::max(worst, t.probes_for(name(l)));
  EXPECT_LT(worst, 64u) << "a lookup read " << worst << " slots of a 12,000-name index";
}

}  // namespace
}  // namespace hft::pipeline
