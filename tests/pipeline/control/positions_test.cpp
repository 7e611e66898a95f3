// `hftctl positions` and the recovery state as hftctl renders them from a snapshot.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/control/json.hpp"
#include "pipeline/control/report.hpp"
#include "pipeline/control/snapshot.hpp"

namespace hft::control {
namespace {

Snapshot sample() {
  Snapshot s;
  s.instance = "unit";
  s.state = DaemonState::kRecovering;
  s.order_entry.recovery = 1;
  PositionSlot p{};
  std::memcpy(p.symbol, "AAA     ", 8);
  p.locate = 1;
  p.position = -100;
  p.open_buy = 100;
  p.open_sell = 0;
  p.cash = 412'010'000;
  p.realized_pnl = -3'000;
  p.used = 1;
  s.positions.push_back(p);
  PositionSlot flat = p;
  std::memcpy(flat.symbol, "BBB     ", 8);
  flat.position = flat.open_buy = 0;
  flat.cash = flat.realized_pnl = 5'000;
  s.positions.push_back(flat);
  return s;
}

TEST(Positions, JsonHasExactlyTheDocumentedFields) {
  const auto j = nlohmann::json::parse(positions_json(sample()));
  ASSERT_EQ(j.size(), 1u);
  ASSERT_EQ(j["positions"].size(), 2u);
  EXPECT_EQ(j["positions"][0], nlohmann::json::parse(R"({"symbol":"AAA","position":-100,"open_buy":100,"open_sell":0,
                                                          "cash":412010000,"realized_pnl":-3000})"));
  EXPECT_EQ(j["positions"][1]["symbol"], "BBB") << "a symbol traded today stays listed when flat";
  EXPECT_EQ(j["positions"][1]["realized_pnl"], 5000);
}

TEST(Positions, TextShowsUsd) {
  const std::string t = format_positions(sample());
  EXPECT_NE(t.find("realized P&L"), std::string::npos) << t;
  EXPECT_NE(t.find("AAA"), std::string::npos) << t;
  EXPECT_NE(t.find("41201.00"), std::string::npos) << t;
  EXPECT_NE(t.find("-0.30"), std::string::npos) << t;
}

TEST(Positions, StatusSaysRecoveringUntilDone) {
  Snapshot s = sample();
  EXPECT_NE(format_status(s).find("pid 0, recovering"), std::string::npos) << format_status(s);
  EXPECT_NE(format_status(s).find("crash recovery: recovering"), std::string::npos) << format_status(s);
  auto j = nlohmann::json::parse(status_json(s));
  EXPECT_EQ(j["state"], "recovering");
  EXPECT_EQ(j["order_entry"]["recovery"], "recovering");
  s.state = DaemonState::kRunning;
  s.order_entry.recovery = 2;
  j = nlohmann::json::parse(status_json(s));
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["order_entry"]["recovery"], "recovered");
}

}  // namespace
}  // namespace hft::control
