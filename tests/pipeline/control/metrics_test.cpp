// The Prometheus exposition and hftctl's text pages, rendered from a ControlFile written here.
#include "pipeline/control/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/control/control_file.hpp"
#include "pipeline/control/json.hpp"
#include "pipeline/control/risk_block.hpp"
#include "pipeline/control/report.hpp"
#include "pipeline/control/snapshot.hpp"

namespace hft::control {
namespace {

namespace fs = std::filesystem;

const core::HistogramLayout& hftd_layout() {
  static const auto l = core::HistogramLayout::make(1, 60'000'000'000ull, 3);  // as hftd's
  return l;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

// Sample value of an exact series ("name{labels}"), or NaN.
double sample(const std::string& text, const std::string& series) {
  for (const auto& l : lines_of(text))
    if (l.size() > series.size() && l.compare(0, series.size(), series) == 0 && l[series.size()] == ' ')
      return std::strtod(l.c_str() + series.size() + 1, nullptr);
  return std::nan("");
}

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

// Checks the exposition's grammar (format 0.0.4): HELP then TYPE before a family's samples, one
// family per name, names and label sets well formed, values numbers. Returns "" when fine.
std::string check_exposition(const std::string& text) {
  if (text.empty() || text.back() != '\n') return "must end with a newline";
  std::set<std::string> families;
  std::string current, current_type;
  for (const auto& l : lines_of(text)) {
    if (l.rfind("# HELP ", 0) == 0) {
      std::istringstream in(l.substr(7));
      in >> current;
      if (!families.insert(current).second) return "family twice: " + current;
      current_type.clear();
      continue;
    }
    if (l.rfind("# TYPE ", 0) == 0) {
      std::istringstream in(l.substr(7));
      std::string name;
      in >> name >> current_type;
      if (name != current) return "TYPE without HELP: " + l;
      if (current_type != "counter" && current_type != "gauge" && current_type != "histogram") return "type: " + l;
      continue;
    }
    if (l.empty() || l[0] == '#') return "stray line: " + l;
    std::size_t i = 0;
    while (i < l.size() && is_name_char(l[i], i == 0)) ++i;
    const std::string name = l.substr(0, i);
    if (name.empty()) return "no metric name: " + l;
    const bool belongs = name == current || (current_type == "histogram" && (name == current + "_bucket" ||
                                                                             name == current + "_sum" ||
                                                                             name == current + "_count"));
    if (!belongs) return "sample outside its family: " + l;
    if (current_type == "counter" && name.size() < 6) return "counter name: " + name;
    if (i >= l.size() || l[i] != '{') return "no labels: " + l;
    // label="value" pairs
    ++i;
    while (i < l.size() && l[i] != '}') {
      const std::size_t start = i;
      while (i < l.size() && is_name_char(l[i], i == start)) ++i;
      if (i == start || i + 1 >= l.size() || l[i] != '=' || l[i + 1] != '"') return "label: " + l;
      i += 2;
      while (i < l.size() && l[i] != '"') i += l[i] == '\\' ? 2 : 1;
      if (i >= l.size()) return "unterminated label value: " + l;
      ++i;
      if (i < l.size() && l[i] == ',') ++i;
    }
    if (i + 2 > l.size() || l[i] != '}' || l[i + 1] != ' ') return "label set: " + l;
    const std::string value = l.substr(i + 2);
    if (value != "+Inf" && value != "-Inf" && value != "NaN") {
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size()) return "value: " + l;
    }
  }
  return "";
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hft_metrics_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// A daemon's control file with known contents.
struct KnownFile {
  ControlFile cf;
  core::Histogram t2t;
  core::Histogram empty;
  explicit KnownFile(const fs::path& dir)
      : cf("unit", ControlSizes{}, hftd_layout(), dir.string()),
        t2t(hftd_layout(), cf.histogram("tick_to_trade")),
        empty(hftd_layout(), cf.histogram("send_call")) {
    Header& h = cf.header();
    put_text(h.version, "1.2.3");
    put_text(h.backend, "epoll");
    put_text(h.config_path, "cfg/\"odd\".toml");
    cf.counter("net.datagrams")->value.store(42);
    cf.counter("orders.open", CounterKind::kGauge)->value.store(3);
    cf.counter("risk.rejects.max_order_quantity")->value.store(7);
    t2t.record_n(50, 10);          // 50 ns
    t2t.record_n(1500, 5);         // 1.5 µs
    t2t.record(3'000'000);         // 3 ms
    seq_write(cf.risk().lock, [&] {
      cf.risk().kill_switch = 1;
      risk::RiskLimits l;
      l.max_order_quantity = 500;
      l.max_notional = 2'500'000'000;  // $250,000
      write_risk_limits(cf.risk(), l);
      cf.risk().open_orders = 4;
      // Per-strategy limits of strategy index 1 (issue 11), its loss limit tripped.
      cf.risk().strategies[1] = StrategyRiskSlot{1, 1, {}, 300, 50'000 * 10'000, 200 * 10'000, 5, 250, 25'000 * 10'000,
                                                 -201 * 10'000};
    });
    // hftd publishes every strategy in index order: 0 without per-strategy limits, 1 with.
    for (std::uint32_t i : {0u, 1u}) {
      StrategySlot* st = cf.strategy_slot(i);
      seq_write(st->lock, [&] {
        st->used = 1;
        put_text(st->name, i == 0 ? "plain" : "mm");
        put_text(st->type, "market_maker");
      });
    }
    PositionSlot* p = cf.position_slot(0);
    seq_write(p->lock, [&] {
      p->used = 1;
      p->locate = 1;
      std::memcpy(p->symbol, "AAA     ", 8);
      p->position = -200;
      p->cash = 201'000'000;   // sold 200 at $100.50
      p->reference = 1'000'000;  // $100.0000
      p->open_sell = 100;
    });
    PositionSlot* q = cf.position_slot(1);
    seq_write(q->lock, [&] {
      q->used = 1;
      q->locate = 2;
      std::memcpy(q->symbol, "BB\"\\    ", 8);  // a symbol that needs escaping
      q->position = 10;
      q->cash = -1'000'000;
      q->reference = 0;  // no reference price yet
    });
    ThreadSlot* t = cf.thread_slot(0);
    seq_write(t->lock, [&] {
      t->used = 1;
      put_text(t->name, "hft-pipeline");
      put_text(t->stages, "net,parse");
      put_text(t->idle, "spin");
      t->cpu = 1;
      t->passes = 1000;
      t->idle_ratio = 0.25;
    });
    cf.set_state(DaemonState::kRunning);
    cf.heartbeat();
  }
};

TEST_F(MetricsTest, ExpositionHasTheExactSeries) {
  KnownFile f(dir_);
  ControlReader r("unit", dir_.string());
  const std::string text = render_prometheus(take_snapshot(r));
  EXPECT_EQ(check_exposition(text), "") << text;

  EXPECT_TRUE(has_line(text, "hftd_up{instance=\"unit\"} 1"));
  EXPECT_TRUE(has_line(text, "# TYPE hftd_net_datagrams_total counter"));
  EXPECT_TRUE(has_line(text, "hftd_net_datagrams_total{instance=\"unit\"} 42"));
  EXPECT_TRUE(has_line(text, "# TYPE hftd_orders_open gauge"));
  EXPECT_TRUE(has_line(text, "hftd_orders_open{instance=\"unit\"} 3"));
  EXPECT_TRUE(has_line(text, "hftd_risk_rejects_max_order_quantity_total{instance=\"unit\"} 7"));
  EXPECT_TRUE(has_line(text, "hftd_kill_switch{instance=\"unit\"} 1"));
  EXPECT_TRUE(has_line(text, "hftd_halted{instance=\"unit\"} 0"));
  EXPECT_TRUE(has_line(text, "hftd_risk_open_orders{instance=\"unit\"} 4"));
  EXPECT_TRUE(has_line(text, "hftd_risk_limit{instance=\"unit\",limit=\"max_order_quantity\"} 500"));
  EXPECT_TRUE(has_line(text, "hftd_risk_limit{instance=\"unit\",limit=\"max_notional_usd\"} 250000"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_max_position{instance=\"unit\",strategy=\"mm\"} 300")) << text;
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_max_notional_usd{instance=\"unit\",strategy=\"mm\"} 50000"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_max_orders_per_second{instance=\"unit\",strategy=\"mm\"} 5"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_max_loss_usd{instance=\"unit\",strategy=\"mm\"} 200"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_position{instance=\"unit\",strategy=\"mm\"} 250"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_gross_notional_usd{instance=\"unit\",strategy=\"mm\"} 25000"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_pnl_usd{instance=\"unit\",strategy=\"mm\"} -201"));
  EXPECT_TRUE(has_line(text, "hftd_risk_strategy_tripped{instance=\"unit\",strategy=\"mm\"} 1"));
  EXPECT_EQ(text.find("hftd_risk_strategy_max_position{instance=\"unit\",strategy=\"plain\"}"), std::string::npos)
      << "a strategy without per-strategy limits has no series";
  EXPECT_TRUE(has_line(text, "hftd_position_shares{instance=\"unit\",symbol=\"AAA\"} -200"));
  EXPECT_TRUE(has_line(text, "hftd_pnl_usd{instance=\"unit\",symbol=\"AAA\"} 100")) << "201,000,000 - 200 x 1,000,000";
  EXPECT_TRUE(has_line(text, "hftd_position_shares{instance=\"unit\",symbol=\"BB\\\"\\\\\"} 10")) << text;
  EXPECT_TRUE(has_line(text, "hftd_portfolio_pnl_usd{instance=\"unit\"} 0")) << "100 + (-100): cash alone unmarked";
  EXPECT_TRUE(has_line(text, "hftd_thread_idle_ratio{instance=\"unit\",thread=\"hft-pipeline\"} 0.25"));
  EXPECT_TRUE(has_line(text, "hftd_info{instance=\"unit\",version=\"1.2.3\",backend=\"epoll\",state=\"running\",pid=\"" +
                                 std::to_string(::getpid()) + "\"} 1"));

  // The latency histogram: 10 x 50 ns, 5 x 1.5 µs, 1 x 3 ms.
  EXPECT_TRUE(has_line(text, "# TYPE hftd_latency_seconds histogram"));
  const std::string b = "hftd_latency_seconds_bucket{instance=\"unit\",hop=\"tick_to_trade\",le=";
  EXPECT_TRUE(has_line(text, b + "\"1e-07\"} 10")) << text;
  EXPECT_TRUE(has_line(text, b + "\"1e-06\"} 10"));
  EXPECT_TRUE(has_line(text, b + "\"2.5e-06\"} 15"));
  EXPECT_TRUE(has_line(text, b + "\"0.0025\"} 15")) << "3 ms is above 2.5 ms";
  EXPECT_TRUE(has_line(text, b + "\"0.005\"} 16"));
  EXPECT_TRUE(has_line(text, b + "\"+Inf\"} 16"));
  EXPECT_TRUE(has_line(text, "hftd_latency_seconds_count{instance=\"unit\",hop=\"tick_to_trade\"} 16"));
  const double sum = sample(text, "hftd_latency_seconds_sum{instance=\"unit\",hop=\"tick_to_trade\"}");
  EXPECT_NEAR(sum, (10 * 50 + 5 * 1500 + 3'000'000) * 1e-9, 3e-6) << "within the 3 ms bucket's width";
  // An empty hop still has its series, all zero.
  EXPECT_TRUE(has_line(text, "hftd_latency_seconds_bucket{instance=\"unit\",hop=\"send_call\",le=\"+Inf\"} 0"));
  EXPECT_TRUE(has_line(text, "hftd_latency_seconds_count{instance=\"unit\",hop=\"send_call\"} 0"));
  EXPECT_TRUE(has_line(text, "hftd_latency_percentile_seconds{instance=\"unit\",hop=\"tick_to_trade\",percentile=\"50\"} 5e-08"));
  EXPECT_EQ(text.find("hop=\"send_call\",percentile"), std::string::npos) << "no percentiles of an empty hop";
}

// Issue 13: each strategy's performance, fees shown apart (realized P&L is already net of them),
// in the exposition and in the JSON hftctl strategy list --json and the API serve.
TEST_F(MetricsTest, StrategiesShowTheirFeesApart) {
  KnownFile f(dir_);
  StrategySlot* t = f.cf.strategy_slot(0);
  ASSERT_NE(t, nullptr);
  seq_write(t->lock, [&] {
    t->used = 1;
    t->state = 2;
    put_text(t->name, "mm");
    put_text(t->type, "market_maker");
    t->realized_pnl = 40.5;
    t->fills = 3;
    t->fees = 12.25;
    put_text(t->signal_name, "z");
    t->signal = -2.5;
  });
  ControlReader r("unit", dir_.string());
  const Snapshot s = take_snapshot(r);
  const std::string text = render_prometheus(s);
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_TRUE(has_line(text, "# TYPE hftd_strategy_fees_usd gauge")) << text;
  EXPECT_TRUE(has_line(text, "hftd_strategy_fees_usd{instance=\"unit\",strategy=\"mm\"} 12.25")) << text;
  EXPECT_TRUE(has_line(text, "hftd_strategy_realized_pnl_usd{instance=\"unit\",strategy=\"mm\"} 40.5")) << text;
  const std::string j = strategies_json(s.strategies);
  EXPECT_NE(j.find(R"({"strategies":[{"name":"mm","type":"market_maker","state":"stopped","realized_pnl":40.5,)"),
            std::string::npos) << j;
  // The known file publishes a second strategy (index 1, with per-strategy limits) after this one.
  EXPECT_NE(j.find(R"("fees":12.25,"signal_name":"z","signal":-2.5},{"name":)"), std::string::npos) << j;
}

TEST_F(MetricsTest, BucketsAreCumulativeMonotoneAndEndAtTheCount) {
  core::Histogram h(hftd_layout().lowest_discernible, hftd_layout().highest_trackable, 3);
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(2000.0), 2.0);
  for (int i = 0; i < 20'000; ++i) h.record(static_cast<std::uint64_t>(latency(rng)));
  h.record(120'000'000'000ull);  // above the highest trackable value: clamped, still counted
  const auto buckets = cumulative_buckets(h);
  ASSERT_EQ(buckets.size(), kLatencyBucketsSeconds.size() + 1);
  EXPECT_TRUE(std::isinf(buckets.back().le_seconds));
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_GE(buckets[i].cumulative, buckets[i - 1].cumulative) << i;
    EXPECT_GT(buckets[i].le_seconds, buckets[i - 1].le_seconds);
  }
  EXPECT_EQ(buckets.back().cumulative, h.total_count());
  EXPECT_EQ(buckets[buckets.size() - 2].cumulative, h.total_count() - 1) << "only the 120 s sample is above 2.5 s";
  // Each bound holds exactly the samples whose HdrHistogram bucket lies wholly under it.
  for (std::size_t k = 0; k + 1 < buckets.size(); ++k) {
    std::uint64_t expect = 0;
    const auto counts = h.counts();
    for (std::size_t i = 0; i < counts.size(); ++i)
      if (static_cast<double>(h.highest_equivalent(h.value_at_index(i))) / 1e9 <= kLatencyBucketsSeconds[k])
        expect += counts[i];
    EXPECT_EQ(buckets[k].cumulative, expect) << kLatencyBucketsSeconds[k];
  }
  EXPECT_NEAR(histogram_sum_seconds(h) / static_cast<double>(h.total_count()), h.mean() / 1e9, 1e-12);
}

TEST_F(MetricsTest, NamesLabelsAndFloats) {
  EXPECT_EQ(metric_name("risk.rejects.price_band"), "risk_rejects_price_band");
  EXPECT_EQ(metric_name("ring.net-parse depth"), "ring_net_parse_depth");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value(std::string("x\x01\xff", 3)), "x??");
  EXPECT_EQ(escape_help("a\\b\nc\"d\x01"), "a\\\\b\\nc\"d?");
  EXPECT_EQ(prometheus_float(0.25), "0.25");
  EXPECT_EQ(prometheus_float(1e-7), "1e-07");
  EXPECT_EQ(prometheus_float(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(prometheus_float(std::nan("")), "NaN");
}

TEST_F(MetricsTest, DownExpositionNamesTheReason) {
  const std::string text = render_prometheus_down("gone", "no hftd instance 'gone' is running");
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_TRUE(has_line(text, "hftd_up{instance=\"gone\"} 0"));
  EXPECT_TRUE(has_line(text, "hftd_down_reason{instance=\"gone\",reason=\"no hftd instance 'gone' is running\"} 1"));
}

TEST_F(MetricsTest, DuplicateCounterNamesKeepOneFamily) {
  ControlFile cf("dup", ControlSizes{}, hftd_layout(), dir_.string());
  cf.counter("a.b")->value.store(1);
  cf.counter("a_b")->value.store(2);  // the same metric name once the dot is replaced
  cf.counter("up", CounterKind::kGauge)->value.store(5);  // hftd_up is the state gauge's
  cf.set_state(DaemonState::kRunning);
  cf.heartbeat();
  ControlReader r("dup", dir_.string());
  const std::string text = render_prometheus(take_snapshot(r));
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_TRUE(has_line(text, "hftd_a_b_total{instance=\"dup\"} 1"));
  EXPECT_TRUE(has_line(text, "hftd_up{instance=\"dup\"} 1"));
}

// Issue 14: per-venue counters (venue.NAME.KEY) and the arbitrage's (arb.NAME.KEY) are exported
// with a venue / strategy label, one family per KEY; hftctl status lists them per venue.
TEST_F(MetricsTest, VenueAndArbitrageCountersCarryTheirLabel) {
  ControlFile cf("mv", ControlSizes{}, hftd_layout(), dir_.string());
  cf.counter("orders.sent")->value.store(9);
  for (const char* v : {"NASDAQ", "BX"}) {
    const bool bx = std::string_view(v) == "BX";
    cf.counter(fmt::format("venue.{}.session_up", v), CounterKind::kGauge)->value.store(bx ? 0 : 1);
    cf.counter(fmt::format("venue.{}.feed_stale", v), CounterKind::kGauge)->value.store(bx ? 1 : 0);
    cf.counter(fmt::format("venue.{}.orders_sent", v))->value.store(bx ? 4 : 5);
    cf.counter(fmt::format("venue.{}.fills", v))->value.store(bx ? 2 : 3);
    cf.counter(fmt::format("venue.{}.routed_legs", v))->value.store(bx ? 7 : 8);
  }
  cf.counter("router.marketable")->value.store(11);
  cf.counter("arb.xarb.seen")->value.store(20);
  cf.counter("arb.xarb.taken")->value.store(6);
  cf.set_state(DaemonState::kRunning);
  cf.heartbeat();
  ControlReader r("mv", dir_.string());
  const Snapshot snap = take_snapshot(r);
  const std::string text = render_prometheus(snap);
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_TRUE(has_line(text, "hftd_venue_session_up{instance=\"mv\",venue=\"NASDAQ\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "hftd_venue_session_up{instance=\"mv\",venue=\"BX\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "hftd_venue_feed_stale{instance=\"mv\",venue=\"BX\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "hftd_venue_orders_sent_total{instance=\"mv\",venue=\"BX\"} 4")) << text;
  EXPECT_TRUE(has_line(text, "hftd_venue_routed_legs_total{instance=\"mv\",venue=\"NASDAQ\"} 8")) << text;
  EXPECT_TRUE(has_line(text, "hftd_arb_taken_total{instance=\"mv\",strategy=\"xarb\"} 6")) << text;
  EXPECT_TRUE(has_line(text, "hftd_router_marketable_total{instance=\"mv\"} 11")) << text;
  EXPECT_TRUE(has_line(text, "hftd_orders_sent_total{instance=\"mv\"} 9")) << text;
  EXPECT_EQ(text.find("hftd_venue_BX"), std::string::npos) << "no per-venue family names: " << text;

  const std::string status = format_status(snap);
  EXPECT_NE(status.find("\nvenues\n"), std::string::npos) << status;
  const auto line_of = [&](std::string_view start) {
    const auto at = status.find(start);
    return at == std::string::npos ? std::string() : status.substr(at, status.find('\n', at) - at);
  };
  const std::string bx = line_of("  BX "), nasdaq = line_of("  NASDAQ ");
  EXPECT_NE(bx.find("DOWN"), std::string::npos) << status;
  EXPECT_NE(bx.find("STALE"), std::string::npos) << status;
  EXPECT_NE(nasdaq.find(" up "), std::string::npos) << status;
  EXPECT_NE(nasdaq.find(" ok "), std::string::npos) << status;
  EXPECT_NE(status.find("router decisions: marketable 11"), std::string::npos) << status;
  EXPECT_NE(status.find("arbitrage xarb: seen 20, taken 6"), std::string::npos) << status;
  const auto j = nlohmann::json::parse(status_json(snap));
  ASSERT_EQ(j["venues"].size(), 2u) << j.dump();
  EXPECT_EQ(j["venues"][1]["name"], "BX");
  EXPECT_EQ(j["venues"][1]["session_up"], 0);
  EXPECT_EQ(j["venues"][1]["orders_sent"], 4);
  EXPECT_EQ(j["arbs"][0]["name"], "xarb");
  EXPECT_EQ(j["arbs"][0]["seen"], 20);
}

// ---- text pages ----------------------------------------------------------------------------------

TEST_F(MetricsTest, MoneyAndDurations) {
  EXPECT_EQ(price4(1'000'000), "100.0000");
  EXPECT_EQ(price4(-123'456), "-12.3456");
  EXPECT_EQ(price4(5), "0.0005");
  EXPECT_EQ(usd2(-123'456), "-12.35");
  EXPECT_EQ(usd2(49), "0.00");
  EXPECT_EQ(usd2(50), "0.01");
  EXPECT_EQ(usd2(-50), "-0.01");
  EXPECT_EQ(usd2(std::numeric_limits<std::int64_t>::min()), "-922337203685477.58");
  // P&L saturates instead of wrapping (found by the control_reader fuzz target).
  PositionSlot p{};
  p.position = 1'000'000'000;
  p.reference = 10'000'000'000'000;  // $1e9 a share
  p.cash = 1;
  EXPECT_EQ(position_pnl(p).value, std::numeric_limits<std::int64_t>::max());
  p.position = -p.position;
  p.cash = -5;
  EXPECT_EQ(position_pnl(p).value, std::numeric_limits<std::int64_t>::min());
  p.position = 0;
  EXPECT_EQ(position_pnl(p).value, -5);
  EXPECT_EQ(saturating_add(std::numeric_limits<std::int64_t>::max(), 1), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(duration_text(3'723'000'000'000ull), "01:02:03");
  EXPECT_EQ(duration_text(90'061'000'000'000ull), "1d 01:01:01");
}

TEST_F(MetricsTest, StatusShowsEverySection) {
  KnownFile f(dir_);
  ControlReader r("unit", dir_.string());
  const std::string s = format_status(take_snapshot(r));
  EXPECT_NE(s.find(fmt::format("hftd instance unit: pid {}, running, up ", ::getpid())), std::string::npos) << s;
  EXPECT_NE(s.find("  backend       epoll\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  config        cfg/\"odd\".toml\n"), std::string::npos);
  EXPECT_NE(s.find("hft-pipeline"), std::string::npos);
  EXPECT_NE(s.find("25.0%"), std::string::npos) << "idle ratio";
  EXPECT_NE(s.find("kill switch ON, halted no, open orders 4"), std::string::npos) << s;
  EXPECT_NE(s.find("max_order_quantity 500, max_notional_usd 250000.00"), std::string::npos) << s;
  // AAA: -200 shares marked at $100.0000, cash $20100.00, P&L $100.00.
  bool aaa = false;
  for (const auto& line : lines_of(s)) {
    if (line.rfind("  AAA ", 0) != 0) continue;
    aaa = true;
    EXPECT_NE(line.find(" -200 "), std::string::npos) << line;
    EXPECT_NE(line.find(" 100.0000 "), std::string::npos) << line;
    EXPECT_NE(line.find(" 20100.00 "), std::string::npos) << line;
    EXPECT_TRUE(line.ends_with(" 100.00")) << line;
  }
  EXPECT_TRUE(aaa) << s;
  EXPECT_NE(s.find("(no reference price: cash only)"), std::string::npos) << "BB has no reference price";
  EXPECT_NE(s.find("(partly unmarked)"), std::string::npos);
}

TEST_F(MetricsTest, CountersAndRates) {
  Snapshot a, b;
  a.instance = b.instance = "x";
  a.taken_realtime_ns = 10'000'000'000ull;
  b.taken_realtime_ns = 12'000'000'000ull;
  a.counters = {{"orders.sent", CounterKind::kCounter, 100}, {"orders.open", CounterKind::kGauge, 9},
                {"feed.gaps", CounterKind::kCounter, 50}};
  b.counters = {{"orders.sent", CounterKind::kCounter, 200}, {"orders.open", CounterKind::kGauge, 4},
                {"feed.gaps", CounterKind::kCounter, 3}, {"new.counter", CounterKind::kCounter, 8}};
  const std::string page = format_rates(a, b);
  EXPECT_NE(page.find("over the last 2.00 s"), std::string::npos) << page;
  auto row = [](const std::string& text, const std::string& name) {
    for (const auto& l : lines_of(text)) {
      std::istringstream in(l);
      std::vector<std::string> tokens;
      for (std::string t; in >> t;) tokens.push_back(t);
      if (!tokens.empty() && tokens[0] == name) return tokens;
    }
    return std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(row(page, "orders.sent"), (V{"orders.sent", "200", "50.0"}));
  EXPECT_EQ(row(page, "orders.open"), (V{"orders.open", "4", "(gauge)"}));
  EXPECT_EQ(row(page, "feed.gaps"), (V{"feed.gaps", "3", "-"})) << "went backwards: restarted daemon, no rate";
  EXPECT_EQ(row(page, "new.counter"), (V{"new.counter", "8", "-"})) << "no earlier value";

  const std::string all = format_counters(b);
  EXPECT_EQ(row(all, "orders.open"), (V{"orders.open", "4", "(gauge)"})) << all;
  EXPECT_EQ(row(all, "orders.sent"), (V{"orders.sent", "200"})) << all;
  EXPECT_EQ(lines_of(all).size(), 5u) << "a header and one line per counter";
}

TEST_F(MetricsTest, HistogramTableAndPlotInputs) {
  KnownFile f(dir_);
  ControlReader r("unit", dir_.string());
  const Snapshot s = take_snapshot(r);
  const std::string table = format_histogram_table(s);
  const auto rows = lines_of(table);
  ASSERT_EQ(rows.size(), 3u) << table;
  EXPECT_NE(rows[0].find("p99.99"), std::string::npos);
  // 16 samples: p50 and p90 are 50 ns (10 of 16 = 62.5%), p99 and up the 3 ms one.
  EXPECT_TRUE(rows[1].rfind("tick_to_trade ", 0) == 0) << rows[1];
  std::istringstream in(rows[1]);
  std::string name, count, p50, p90, p99, p999, p9999, max;
  in >> name >> count >> p50 >> p90 >> p99 >> p999 >> p9999 >> max;
  EXPECT_EQ(count, "16");
  EXPECT_EQ(p50, "0.050");
  EXPECT_EQ(p90, "1.500");
  EXPECT_EQ(p99, "3000.319") << "3 ms at its HdrHistogram bucket's top (2048 ns wide there)";
  EXPECT_EQ(max, p99);
  EXPECT_TRUE(rows[2].ends_with("-")) << "empty hop: " << rows[2];
  EXPECT_EQ(hgrm_path("/d", "unit", "tick_to_trade"), "/d/hftd.unit.tick_to_trade.hgrm");

  PlotSeries series{"tick_to_trade", (dir_ / "t2t.dat").string(), 1};
  std::string error;
  ASSERT_TRUE(write_plot_data(s.find_histogram("tick_to_trade")->histogram.percentile_distribution(1000.0), series, error))
      << error;
  double last_x = 0, last_y = 0;
  int points = 0;
  std::ifstream dat(series.data_path);
  for (double x = 0, y = 0; dat >> x >> y; ++points) {
    EXPECT_GE(x, 1.0);
    EXPECT_GE(x, last_x);
    EXPECT_GE(y, last_y) << "a percentile curve never falls";
    last_x = x;
    last_y = y;
  }
  EXPECT_GT(points, 5);
  EXPECT_DOUBLE_EQ(series.max_inverse, last_x);
  PlotSeries none{"x", (dir_ / "none.dat").string(), 1};
  EXPECT_FALSE(write_plot_data(s.find_histogram("send_call")->histogram.percentile_distribution(1000.0), none, error));
  EXPECT_FALSE(write_plot_data("not an hgrm\n", none, error));

  const std::string gp = gnuplot_script({series}, "/out/\"lat\".png", "title");
  EXPECT_NE(gp.find("set terminal pngcairo"), std::string::npos);
  EXPECT_NE(gp.find("set output \"/out/\\\"lat\\\".png\""), std::string::npos) << gp;
  EXPECT_NE(gp.find("set logscale x 10"), std::string::npos);
  EXPECT_NE(gp.find("set logscale y 10"), std::string::npos);
  EXPECT_NE(gp.find("\"90%%\" 10, \"99%%\" 1e2, \"99.9%%\" 1e3"), std::string::npos) << gp;
  EXPECT_NE(gp.find("using 1:2 with lines"), std::string::npos);
}

// ---- control-file text in the pages and the exposition (issue 18, finding 5) ----------------------

// A snapshot whose every text field carries a newline (and a backslash, a quote, ESC): the
// control file is written by whoever owns the instance, and a page or a scrape must not take a
// field's newline for its own.
Snapshot hostile_snapshot(bool hostile) {
  const auto t = [&](std::string clean, std::string_view evil) { return hostile ? clean + std::string(evil) : clean; };
  Snapshot s;
  s.instance = "unit";
  s.pid = 42;
  s.state = DaemonState::kRunning;
  s.alive = true;
  s.config_path = t("cfg.toml", "\nhftd instance forged: pid 1, running");
  s.version = t("1.0", "\n  backend       forged");
  s.backend = t("epoll", "\\\"\x1b[2J");
  s.counters = {{t("feed.gaps", "\nforged_metric{instance=\"unit\"} 1"), CounterKind::kCounter, 7},
                {"orders.open", CounterKind::kGauge, 3}};
  ThreadSlot th{};
  put_text(th.name, t("hft-md", "\nforged"));
  put_text(th.stages, t("net,parse", "\n  forged"));
  put_text(th.idle, "spin");
  th.used = 1;
  s.threads.push_back(th);
  put_text(s.feed.session, t("SESS", "\nforged"));
  put_text(s.order_entry.venue, "127.0.0.1:1");
  put_text(s.order_entry.user, "HFT01");
  put_text(s.order_entry.last_event, t("logged in", "\nrisk\n  kill switch off, halted no"));
  s.risk.limit_count = 1;
  put_text(s.risk.limits[0].name, t("max_order_quantity", "\n forged"));
  s.risk.limits[0].value = 500;
  s.risk.limits[0].used = 1;
  s.histograms.push_back({t("tick_to_trade", "\nforged_hop 1 2 3"), core::Histogram(1, 60'000'000'000ull, 3)});
  return s;
}

TEST_F(MetricsTest, ANewlineInsideAFieldDoesNotBreakAPage) {
  const Snapshot clean = hostile_snapshot(false), evil = hostile_snapshot(true);
  const std::string status = format_status(evil);
  EXPECT_EQ(lines_of(status).size(), lines_of(format_status(clean)).size()) << status;
  for (const auto& line : lines_of(status)) {
    EXPECT_NE(line.rfind("hftd instance forged", 0), 0u) << "a forged first line:\n" << status;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << "raw ESC:\n" << status;
  }
  EXPECT_NE(status.find("cfg.toml\\nhftd instance forged: pid 1, running"), std::string::npos) << status;
  EXPECT_NE(status.find("logged in\\nrisk\\n  kill switch off, halted no"), std::string::npos) << status;
  EXPECT_NE(status.find("epoll\\\\\"\\x1b[2J"), std::string::npos) << status;

  const std::string counters = format_counters(evil);
  EXPECT_EQ(lines_of(counters).size(), 3u) << "a header and one line per counter:\n" << counters;
  EXPECT_NE(counters.find("feed.gaps\\nforged_metric"), std::string::npos) << counters;
  const std::string rates = format_rates(clean, evil);
  EXPECT_EQ(lines_of(rates).size(), 4u) << "a title, a header and one line per counter:\n" << rates;
  const std::string table = format_histogram_table(evil);
  EXPECT_EQ(lines_of(table).size(), 2u) << "a header and one line per hop:\n" << table;
  EXPECT_NE(table.find("tick_to_trade\\nforged_hop"), std::string::npos) << table;
  // A plot's title and file name are gnuplot strings: a newline ends the command.
  const std::string gp = gnuplot_script({PlotSeries{"hop\nsystem \"rm\"", "/tmp/a\nb.dat", 1}}, "/o\n.png", "t\nx");
  for (const auto& line : lines_of(gp)) EXPECT_NE(line.rfind("system", 0), 0u) << gp;
  EXPECT_EQ(lines_of(gp).size(), lines_of(gnuplot_script({PlotSeries{"hop", "/tmp/ab.dat", 1}}, "/o.png", "tx")).size())
      << gp;
}

TEST_F(MetricsTest, ControlFileTextCannotBreakTheExposition) {
  const std::string text = render_prometheus(hostile_snapshot(true));
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_FALSE(has_line(text, "forged_metric{instance=\"unit\"} 1")) << text;
  // HELP text escapes backslash and newline (text format 0.0.4); label values also the quote.
  EXPECT_NE(text.find("# HELP hftd_feed_gaps_forged_metric_instance__unit___1_total hftd counter "
                      "feed.gaps\\nforged_metric{instance=\"unit\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("thread=\"hft-md\\nforged\""), std::string::npos) << text;
  EXPECT_NE(text.find("backend=\"epoll\\\\\\\"?[2J\""), std::string::npos) << text;
  EXPECT_NE(text.find("hop=\"tick_to_trade\\nforged_hop 1 2 3\""), std::string::npos) << text;
  EXPECT_NE(text.find("limit=\"max_order_quantity\\n forged\""), std::string::npos) << text;
}

}  // namespace
}  // namespace hft::control
