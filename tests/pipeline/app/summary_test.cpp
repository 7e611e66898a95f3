// hftd's exit summary (pipeline/app/appliance.hpp): positions are per symbol, never a sum of
// shares of different stocks.
#include <gtest/gtest.h>

#include <string>

#include "pipeline/app/appliance.hpp"

namespace hft::app {
namespace {

TEST(Summary, PositionsArePerSymbolWithGrossAndNet) {
  Summary s;
  s.positions = {{"AAPL", 100, -1'000.0}, {"MSFT", -100, 2'000.0}};
  s.gross_position = 200;
  s.net_position = 0;
  const std::string kv = s.key_values();
  EXPECT_NE(kv.find("\nposition.AAPL=100\n"), std::string::npos) << kv;
  EXPECT_NE(kv.find("\nposition.MSFT=-100\n"), std::string::npos) << kv;
  EXPECT_NE(kv.find("\ngross_position=200\n"), std::string::npos) << kv;
  EXPECT_NE(kv.find("\nnet_position=0\n"), std::string::npos) << kv;
  EXPECT_EQ(kv.find("\nposition="), std::string::npos) << "no sum of shares of different symbols: " << kv;
  const std::string text = s.text();
  EXPECT_NE(text.find("AAPL 100"), std::string::npos) << text;
  EXPECT_NE(text.find("MSFT -100"), std::string::npos) << text;
}

}  // namespace
}  // namespace hft::app
