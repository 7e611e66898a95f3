#include "tools/hftctl/strategy_commands.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/log.hpp"
#include "pipeline/control/json.hpp"

namespace hftctl {

using namespace hft::control;

namespace {

constexpr int kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitUnconfirmed = 3;

const char* state_name(std::uint8_t s) {
  static constexpr const char* kNames[] = {"pending", "working", "done", "canceled", "expired"};
  return s < 5 ? kNames[s] : "?";
}
const char* run_state_name(std::uint8_t s) {
  static constexpr const char* kNames[] = {"running", "paused", "stopped"};
  return s < 3 ? kNames[s] : "?";
}
std::string symbol_of(const char (&s)[8]) {
  std::string out(s, ::strnlen(s, 8));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}
std::string text(std::string_view s) { return hft::core::escape(s); }

int send(const std::unique_ptr<ControlReader>& reader, CommandOp op, const std::string& key, const std::string& value,
         int timeout_ms, std::string* answer) {
  const CommandResult r = reader->command(op, key, value, timeout_ms);
  if (!r.ok) {
    const bool no_answer = r.message.find("no answer") != std::string::npos ||
                           r.message.find("did not answer") != std::string::npos ||
                           r.message.find("slot is busy") != std::string::npos;
    fmt::print(stderr, "hftctl: {}{}\n", no_answer ? "" : "refused: ", text(r.message));
    return no_answer ? kExitUnconfirmed : kExitError;
  }
  if (answer != nullptr) *answer = r.message;
  return kExitOk;
}

}  // namespace

std::optional<std::uint64_t> parse_duration_ms(const std::string& t) {
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || !(v > 0) || !std::isfinite(v)) return std::nullopt;
  const std::string_view unit(end);
  double ms = 0;
  if (unit.empty() || unit == "s") ms = v * 1e3;
  else if (unit == "ms") ms = v;
  else if (unit == "m") ms = v * 60e3;
  else if (unit == "h") ms = v * 3600e3;
  else return std::nullopt;
  if (ms < 1 || ms > 86'400e3) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(ms));
}

std::optional<std::int64_t> parse_price(const std::string& t) {
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !(v > 0) || v > 200'000) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(v * 1e4));
}

void StrategyCommands::add(CLI::App& app, const std::function<void(CLI::App*)>& add_target) {
  CLI::App* algo = app.add_subcommand("algo", "parent orders (TWAP, VWAP) of the execution strategies");
  algo->require_subcommand(1);
  algo_start_ = algo->add_subcommand("start", "start a parent order; prints its id");
  add_target(algo_start_);
  algo_start_->add_option("ALGO", algo_, "twap or vwap")->required()->check(CLI::IsMember({"twap", "vwap"}));
  algo_start_->add_option("--symbol", symbol_, "the stock (one of an execution strategy's symbols)")->required();
  algo_start_->add_option("--side", side_, "buy or sell")->required()->check(CLI::IsMember({"buy", "sell"}));
  algo_start_->add_option("--quantity", quantity_, "shares")->required()->check(CLI::Range(1, 1'000'000'000));
  algo_start_->add_option("--duration", duration_, "e.g. 10m, 15s, 1h, 500ms (plain number: seconds)")->required();
  algo_start_->add_option("--start", start_at_, "HH:MM:SS local time to start at (default: now)");
  algo_start_->add_option("--limit-price", limit_price_, "dollars: never buy above / sell below");
  algo_start_->add_option("--max-participation", max_participation_, "cap on the share of the market's volume, 0..1")
      ->check(CLI::Range(0.0, 1.0));
  algo_status_ = algo->add_subcommand("status", "parent orders: state, filled, remaining, prices, shortfall, participation");
  add_target(algo_status_);
  algo_status_->add_option("ID", id_, "one parent order (default: all)");
  algo_status_->add_flag("--json", json_, "print {\"algos\":[...]} (docs/strategy-library.md)");
  algo_cancel_ = algo->add_subcommand("cancel", "cancel a parent order (its child order is canceled)");
  add_target(algo_cancel_);
  algo_cancel_->add_option("ID", id_, "the parent order")->required();

  CLI::App* strategy = app.add_subcommand("strategy", "the strategies: list, start, stop, pause, set");
  strategy->require_subcommand(1);
  list_ = strategy->add_subcommand("list", "each strategy: state and performance");
  add_target(list_);
  list_->add_flag("--json", json_, "print {\"strategies\":[...]} (docs/strategy-library.md)");
  start_ = strategy->add_subcommand("start", "run a paused or stopped strategy again");
  stop_ = strategy->add_subcommand("stop", "stop a strategy: its orders are canceled, it sees no market data");
  pause_ = strategy->add_subcommand("pause", "pause a strategy: no new orders or replaces; its orders stay");
  for (CLI::App* c : {start_, stop_, pause_}) {
    add_target(c);
    c->add_option("NAME", name_, "the strategy's name (hftctl strategy list)")->required();
  }
  set_ = strategy->add_subcommand("set", "change a parameter: set NAME key=value (validated by the strategy)");
  add_target(set_);
  set_->add_option("NAME", name_, "the strategy's name")->required();
  set_->add_option("ASSIGNMENT", assignment_, "key=value")->required();

  CLI::App* order = app.add_subcommand("order", "manual orders through a `manual` strategy (SDK and risk like any order)");
  order->require_subcommand(1);
  order_new_ = order->add_subcommand("new", "send a limit order; prints its order id");
  add_target(order_new_);
  order_new_->add_option("--symbol", symbol_, "the stock (one of a manual strategy's symbols)")->required();
  order_new_->add_option("--side", side_, "buy or sell")->required()->check(CLI::IsMember({"buy", "sell"}));
  order_new_->add_option("--quantity", quantity_, "shares")->required()->check(CLI::Range(1, 1'000'000));
  order_new_->add_option("--price", price_, "limit price in dollars")->required();
  order_new_->add_flag("--ioc", ioc_, "immediate or cancel (default: a day order)");
  order_cancel_ = order->add_subcommand("cancel", "cancel a working order (any strategy's) by its order id");
  add_target(order_cancel_);
  order_cancel_->add_option("ID", order_id_, "the order id")->required();
}

std::optional<int> StrategyCommands::run(const std::function<std::unique_ptr<ControlReader>()>& attach, int timeout_ms) {
  if (algo_start_->parsed()) {
    const auto duration = parse_duration_ms(duration_);
    if (!duration) {
      fmt::print(stderr, "hftctl: --duration \"{}\": expected e.g. 10m, 15s, 1h, 500ms\n", text(duration_));
      return kExitUsage;
    }
    std::int64_t limit = 0;
    if (!limit_price_.empty()) {
      const auto p = parse_price(limit_price_);
      if (!p) {
        fmt::print(stderr, "hftctl: --limit-price \"{}\": expected dollars, e.g. 101.25\n", text(limit_price_));
        return kExitUsage;
      }
      limit = *p;
    }
    if (symbol_.empty() || symbol_.size() > 8) {
      fmt::print(stderr, "hftctl: --symbol: 1 to 8 characters\n");
      return kExitUsage;
    }
    std::int64_t delay_ms = 0;
    if (!start_at_.empty()) {
      unsigned h = 0, m = 0, s = 0;
      char extra = 0;
      if (std::sscanf(start_at_.c_str(), "%u:%u:%u%c", &h, &m, &s, &extra) != 3 || h > 23 || m > 59 || s > 59) {
        fmt::print(stderr, "hftctl: --start \"{}\": expected HH:MM:SS\n", text(start_at_));
        return kExitUsage;
      }
      const auto now = std::chrono::system_clock::now();
      const std::time_t tt = std::chrono::system_clock::to_time_t(now);
      std::tm local{};
      ::localtime_r(&tt, &local);
      const auto ms_now = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
      const std::int64_t now_ms = (local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec) * 1000LL + ms_now;
      delay_ms = (h * 3600 + m * 60 + s) * 1000LL - now_ms;
      if (delay_ms < 0) {
        fmt::print(stderr, "hftctl: --start {} is in the past\n", text(start_at_));
        return kExitUsage;
      }
    }
    const std::string value = fmt::format("{} {} {} {} {} {} {}", symbol_, side_, quantity_, *duration, delay_ms, limit,
                                          max_participation_);
    std::string answer;
    const auto reader = attach();
    if (const int rc = send(reader, CommandOp::kAlgoStart, algo_, value, timeout_ms, &answer); rc != kExitOk) return rc;
    fmt::print("{}\n", text(answer));
    return kExitOk;
  }
  if (order_new_->parsed()) {
    const auto price = parse_price(price_);
    if (!price) {
      fmt::print(stderr, "hftctl: --price \"{}\": expected dollars, e.g. 101.25\n", text(price_));
      return kExitUsage;
    }
    if (symbol_.empty() || symbol_.size() > 8) {
      fmt::print(stderr, "hftctl: --symbol: 1 to 8 characters\n");
      return kExitUsage;
    }
    std::string answer;
    const auto reader = attach();
    const std::string value = fmt::format("{} {} {} {}", side_, quantity_, *price, ioc_ ? "ioc" : "day");
    if (const int rc = send(reader, CommandOp::kOrderNew, symbol_, value, timeout_ms, &answer); rc != kExitOk) return rc;
    fmt::print("{}\n", text(answer));
    return kExitOk;
  }
  if (order_cancel_->parsed()) {
    std::string answer;
    const auto reader = attach();
    if (const int rc = send(reader, CommandOp::kOrderCancel, std::to_string(order_id_), {}, timeout_ms, &answer); rc != kExitOk)
      return rc;
    fmt::print("{}\n", text(answer));
    return kExitOk;
  }
  if (algo_cancel_->parsed()) {
    std::string answer;
    const auto reader = attach();
    if (const int rc = send(reader, CommandOp::kAlgoCancel, std::to_string(id_), {}, timeout_ms, &answer); rc != kExitOk)
      return rc;
    fmt::print("{}\n", text(answer));
    // The parent shows canceled once the strategy thread publishes it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const AlgoSlot& a : reader->algos())
        if (a.id == id_ && a.state == 3) return kExitOk;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    fmt::print(stderr, "hftctl: acknowledged, but parent {} was not seen canceled within {} ms\n", id_, timeout_ms);
    return kExitUnconfirmed;
  }
  if (algo_status_->parsed()) {
    const auto reader = attach();
    std::vector<AlgoSlot> algos;
    for (const AlgoSlot& a : reader->algos())
      if (id_ == 0 || a.id == id_) algos.push_back(a);
    if (id_ != 0 && algos.empty()) {
      fmt::print(stderr, "hftctl: no parent order {}\n", id_);
      return kExitError;
    }
    if (json_) {
      fmt::print("{}", algos_json(algos));
      return kExitOk;
    }
    if (algos.empty()) {
      fmt::print("no parent orders\n");
      return kExitOk;
    }
    fmt::print("{:>8} {:<12} {:<4} {:<8} {:<4} {:<8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>10} {:>8} {:>6}\n", "ID",
               "STRATEGY", "ALGO", "SYMBOL", "SIDE", "STATE", "QUANTITY", "FILLED", "REMAINING", "AVG", "ARRIVAL", "IS_BPS",
               "MKT_VWAP", "SLIP_BPS", "PART%");
    for (const AlgoSlot& a : algos)
      fmt::print("{:>8} {:<12} {:<4} {:<8} {:<4} {:<8} {:>9} {:>9} {:>9} {:>10.4f} {:>10.4f} {:>8.2f} {:>10.4f} {:>8.2f} {:>6.2f}\n",
                 a.id, text(get_text(a.strategy)), a.algo == 1 ? "vwap" : "twap", text(symbol_of(a.symbol)),
                 a.side == 0 ? "buy" : "sell", state_name(a.state), a.quantity, a.filled,
                 a.quantity > a.filled ? a.quantity - a.filled : 0, a.avg_price * 1e-4, a.arrival * 1e-4, a.shortfall_bps,
                 a.market_vwap * 1e-4, a.slippage_bps, a.participation * 100);
    return kExitOk;
  }
  if (list_->parsed()) {
    const auto reader = attach();
    const auto strategies = reader->strategies();
    if (json_) {
      fmt::print("{}", strategies_json(strategies));
      return kExitOk;
    }
    fmt::print("{:<16} {:<14} {:<8} {:>11} {:>11} {:>9} {:>7} {:>7} {:>7} {:>7} {:>6} {:>9} {:>6} {:>7} {:>9} {:>9}\n", "NAME",
               "TYPE", "STATE", "REALIZED$", "UNREAL$", "VOLUME", "ORDERS", "FILLS", "CANCELS", "REJECTS", "FILL%",
               "TTF_US", "WIN%", "SHARPE", "MAXDD$", "FEES$");
    for (const StrategySlot& s : strategies)
      fmt::print("{:<16} {:<14} {:<8} {:>11.2f} {:>11.2f} {:>9} {:>7} {:>7} {:>7} {:>7} {:>6.1f} {:>9.1f} {:>6.1f} {:>7.2f} {:>9.2f} {:>9.2f}\n",
                 text(get_text(s.name)), text(get_text(s.type)), run_state_name(s.state), s.realized_pnl,
                 s.unrealized_pnl, s.volume_shares, s.orders, s.fills, s.cancels, s.rejects, s.fill_ratio * 100,
                 s.avg_time_to_fill_us, s.win_rate * 100, s.sharpe, s.max_drawdown, s.fees);
    return kExitOk;
  }
  const std::pair<CLI::App*, CommandOp> simple[] = {
      {start_, CommandOp::kStrategyStart}, {stop_, CommandOp::kStrategyStop}, {pause_, CommandOp::kStrategyPause}};
  for (const auto& [cmd, op] : simple) {
    if (!cmd->parsed()) continue;
    if (name_.size() >= sizeof(CommandSlot{}.key)) {
      fmt::print(stderr, "hftctl: strategy name too long\n");
      return kExitUsage;
    }
    std::string answer;
    const auto reader = attach();
    if (const int rc = send(reader, op, name_, {}, timeout_ms, &answer); rc != kExitOk) return rc;
    fmt::print("{}\n", text(answer));
    return kExitOk;
  }
  if (set_->parsed()) {
    const auto eq = assignment_.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == assignment_.size()) {
      fmt::print(stderr, "hftctl: strategy set needs NAME key=value, not \"{}\"\n", text(assignment_));
      return kExitUsage;
    }
    if (name_.size() >= sizeof(CommandSlot{}.key) || assignment_.size() >= sizeof(CommandSlot{}.value)) {
      fmt::print(stderr, "hftctl: name or assignment too long\n");
      return kExitUsage;
    }
    std::string answer;
    const auto reader = attach();
    if (const int rc = send(reader, CommandOp::kStrategySet, name_, assignment_, timeout_ms, &answer); rc != kExitOk)
      return rc;
    fmt::print("{}\n", text(answer));
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace hftctl
