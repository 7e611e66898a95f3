#pragma once
// hft-backtest's engine (issue 15): replays recorded ITCH 5.0 days through hftd's own parse, book
// and strategy stages, its risk gate and its order manager, with a simulated venue in place of the
// order-entry session (docs/backtest.md).
//
//   file reader --(ITCH at its timestamp)--> simulated venue (L3 queue of every traded symbol)
//        \--(timestamp + feed latency)--> ParseStage -> BookStage -> StrategyStage --intents-->
//   RiskGate + OrderManager (as the egress stage does) --(+ order entry latency)--> simulated venue
//   --(replies + response latency)--> OrderManager -> ExecReports -> StrategyStage
//
// Time is the ITCH timestamps (ns since midnight; day i of several adds i x 86,400 s): every
// event (a message at the venue, its delivery to the strategies, an order's arrival at the venue,
// a reply's arrival at hftd, a strategy timer) runs in time order, so the strategies' timers fire
// in simulated time. Latencies are sampled from a seeded generator: the same inputs and
// configuration give the same fills, byte for byte.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "core/histogram.hpp"
#include "pipeline/app/config.hpp"

namespace hft::backtest {

// "constant:10us" (ns, us, ms, s) or "hgrm:PATH" (an HdrHistogram percentile distribution in
// microseconds, as hftd and the venue's probe write them), sampled by inverse CDF.
class Latency {
 public:
  static Latency parse(const std::string& spec);  // throws std::runtime_error naming the problem
  std::uint64_t sample(std::uint64_t& rng) const noexcept;
  [[nodiscard]] std::uint64_t minimum() const noexcept;
  [[nodiscard]] bool is_constant() const noexcept { return cdf_.empty(); }
  [[nodiscard]] const std::string& spec() const noexcept { return spec_; }

 private:
  std::string spec_;
  std::uint64_t constant_ns_ = 0;
  std::vector<std::pair<double, double>> cdf_;  // (percentile 0..1, value ns), ascending
};

// How an own resting order's place in the queue moves (docs/backtest.md): by the orders ahead
// of it (l3), or from the level's total only (risk_averse, power:N).
enum class QueueModel : std::uint8_t { kL3, kRiskAverse, kPower };

struct BacktestSettings {
  Latency feed = Latency::parse("constant:0us");
  Latency order_entry = Latency::parse("constant:0us");
  Latency response = Latency::parse("constant:0us");
  std::uint64_t seed = 1;
  double fee_add_per_share = 0;     // dollars; negative: a rebate (used where a strategy sets none)
  double fee_remove_per_share = 0;
  std::uint64_t equity_interval_ns = 1'000'000'000;
  std::string queue_model = "l3";  // as written
  QueueModel queue = QueueModel::kL3;
  double queue_power = 1;  // N of power:N
  bool skip_idle_timers = true;  // simulated timer ticks that would do nothing are skipped
  bool auto_book = false;  // no [book] given: size the books from the inputs
};

struct BacktestConfig {
  app::HftdConfig hftd;
  BacktestSettings bt;
};

// Reads hftd's TOML plus its [backtest] section. `overrides`: "strategies.N.key=value" or
// "section.key=value" (sweeps), applied to the TOML before it is validated. Throws core::ConfigError.
BacktestConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from TOML text (`name` in error messages).
BacktestConfig load_config_text(std::string_view text, const std::string& name);

struct InputFile {
  std::string path;
  bool pcap = false;
};

struct FillRow {
  std::uint64_t timestamp;  // simulated ns
  std::uint8_t strategy;
  char symbol[9];
  char side;       // 'B' / 'S'
  std::int64_t price;
  std::uint32_t quantity;
  char liquidity;  // 'A' / 'R'
};

struct EquityRow {
  std::uint64_t timestamp;
  std::uint8_t strategy;
  double net_pnl, gross_pnl, fees;
  std::int64_t position;
  double mid;  // of the strategy's first symbol, dollars (0: none)
};

struct StrategyResult {
  std::string name, type;
  double net_pnl = 0, gross_pnl = 0, fees = 0, realized = 0;
  double sharpe = 0, sortino = 0, max_drawdown = 0, win_rate = 0, turnover_usd = 0, fill_ratio = 0;
  std::uint64_t trades = 0, round_trips = 0, orders = 0, cancels = 0, rejects = 0, volume_shares = 0;
  std::int64_t position = 0;
  double avg_time_in_queue_us = 0;
  std::uint64_t queue_fills = 0;
  // Execution algorithms: per parent order.
  struct ParentResult {
    std::uint32_t id;
    std::string symbol;
    char side;
    std::uint32_t quantity, filled;
    double avg_price, shortfall_bps, slippage_bps;
  };
  std::vector<ParentResult> parents;
};

struct Result {
  std::vector<StrategyResult> strategies;
  StrategyResult total;
  std::vector<FillRow> fills;
  std::vector<EquityRow> equity;
  std::uint64_t messages = 0, bad_messages = 0, order_events = 0, orders_sent = 0;
  std::uint64_t risk_rejects = 0, venue_rejects = 0;
  std::uint64_t state_hash = 0;
  double wall_seconds = 0;
  std::uint64_t first_ns = 0, last_ns = 0;
  std::vector<std::string> input_errors;
  // Sampled latencies (ns) and time in queue of the resting fills (ns).
  std::unique_ptr<core::Histogram> feed_latency, order_latency, response_latency, queue_time;
  std::vector<std::string> symbols;  // traded
};

// Runs one backtest. Throws std::runtime_error when an input cannot be read.
Result run(const BacktestConfig& config, const std::vector<InputFile>& inputs);
// One day from an in-memory BinaryFILE block stream (uint16 length + message ...): the fuzz target.
// The configuration should carry a [book] section (no scan of the bytes sizes the books).
Result run_bytes(const BacktestConfig& config, std::span<const std::uint8_t> blocks);

// DIR/report.json, DIR/fills.csv, DIR/equity.csv, DIR/report.html (report.cpp).
void write_outputs(const std::string& dir, const BacktestConfig& config, const std::vector<InputFile>& inputs,
                   const Result& r);
// The stdout summary, ending with "state_hash=<hex>\n".
std::string summary(const Result& r);

}  // namespace hft::backtest
