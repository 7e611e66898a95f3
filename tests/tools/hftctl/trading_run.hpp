#pragma once
// A loopback trading run for the data-and-access tests (hft-journal load, hftctl serve): the real
// hft-exchange with --executions and a background flow that trades, and the real hftd with the
// market maker on four symbols, its control file and its write-ahead journal in a private directory.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/tools/hftctl/child.hpp"

namespace hft::hftctl_test {

struct VenueFills {
  std::int64_t executions = 0, shares = 0, cash = 0;
  std::map<std::string, std::int64_t> position;
};

// The venue's executions for `user`, from the --executions file (whole lines only).
inline VenueFills venue_executions(const fs::path& file, const std::string& user) {
  VenueFills v;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.back() != '}') continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("user", "") != user) continue;
    const auto q = j.at("quantity").get<std::int64_t>();
    const auto px = j.at("price").get<std::int64_t>();
    const bool buy = j.at("side").get<std::string>() == "B";
    ++v.executions;
    v.shares += q;
    v.cash += buy ? -q * px : q * px;
    v.position[j.at("symbol").get<std::string>()] += buy ? q : -q;
  }
  return v;
}

// hftd's configuration for these runs: the market maker on AAA-DDD over epoll, its control file,
// histograms and write-ahead journal under `dir` (shm/, hist/, journal/). Tests append sections.
inline std::string journaled_market_maker_config(const std::string& instance, std::uint16_t feed,
                                                 std::uint16_t rerequest, std::uint16_t ouch,
                                                 const fs::path& dir, const std::string& strategy_extra = {}) {
  return fmt::format(R"(instance = "{instance}"
[memory]
size_mb = 32
hugepages = "normal"
[log]
level = "info"
[net]
backend = "epoll"
[feed]
listen = "127.0.0.1:{feed}"
rerequest = "127.0.0.1:{rerequest}"
request_timeout_ms = 20
[order_entry]
venue = "127.0.0.1:{ouch}"
user = "HFT01"
password = "hft01pw"
reconnect_ms = 50
connect_timeout_ms = 200
[book]
orders = 65536
levels = 16384
max_locate = 64
[risk]
max_order_quantity = 1000
max_notional_usd = 250000
price_band_bps = 500
max_position = 5000
max_open_orders = 100
max_orders_per_second = 2000
order_burst = 200
[[strategies]]
type = "market_maker"
symbols = ["AAA", "BBB", "CCC", "DDD"]
quote_size = 100
max_position = 2000
{strategy_extra}[[threads]]
name = "hft-pipeline"
idle = "backoff"
stages = ["net", "parse", "book", "strategy", "risk"]
[stats]
histogram_dir = "{hist}"
shutdown_wait_ms = 3000
[control]
dir = "{shm}"
publish_interval_ms = 5
[journal]
dir = "{journal}"
segment_mb = 1
sync = "none"
stage_dir = "{shm}"
)",
                     fmt::arg("instance", instance), fmt::arg("feed", feed), fmt::arg("rerequest", rerequest),
                     fmt::arg("ouch", ouch), fmt::arg("hist", (dir / "hist").string()),
                     fmt::arg("shm", (dir / "shm").string()), fmt::arg("journal", (dir / "journal").string()), fmt::arg("strategy_extra", strategy_extra));
}

class TradingRun {
 public:
  // Empty why() when both programs exist; the venue is started and listening on return.
  explicit TradingRun(const std::string& tag) {
    const auto venue = exchange_program();
    if (!fs::exists(program("hftd")) || !venue) {
      why_ = "needs hftd and hft-exchange built (or $HFT_EXCHANGE)";
      return;
    }
    dir = fs::temp_directory_path() / (tag + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    for (const char* d : {"shm", "hist", "journal"}) fs::create_directories(dir / d);
    instance = tag.substr(0, 8) + std::to_string(::getpid());
    const auto feed = free_port(SOCK_DGRAM), rerequest = free_port(SOCK_DGRAM), ouch = free_port(SOCK_STREAM);
    std::ofstream(dir / "hftd.toml") << journaled_market_maker_config(instance, feed, rerequest, ouch, dir);
    executions = dir / "executions.jsonl";
    std::ofstream(dir / "venue.toml") << "[background]\nexecute = 300\nlevels = 4\n";
    venue_ = std::make_unique<Child>(
        std::vector<std::string>{venue->string(), "--config", (dir / "venue.toml").string(), "--feed",
                                 fmt::format("127.0.0.1:{}", feed), "--rerequest", fmt::format("127.0.0.1:{}", rerequest),
                                 "--ouch", fmt::format("127.0.0.1:{}", ouch), "--symbols", "AAA,BBB,CCC,DDD", "--rate",
                                 "2000", "--duration", "120", "--executions", executions.string(), "--json",
                                 "--log-level", "warn"},
        dir / "venue.out", dir / "venue.err");
    if (!wait_until([&] { return tcp_listening(ouch); }, std::chrono::seconds(20)))
      why_ = "hft-exchange never listened on its OUCH port: " + venue_->err();
  }
  ~TradingRun() {
    for (auto* c : {&hftd, &venue_})
      if (*c) {
        (*c)->signal(SIGTERM);
        (*c)->finish(std::chrono::seconds(10));
      }
    if (!dir.empty() && keep_ == false) fs::remove_all(dir);
  }
  TradingRun(const TradingRun&) = delete;
  TradingRun& operator=(const TradingRun&) = delete;

  void start_hftd() {
    hftd = std::make_unique<Child>(std::vector<std::string>{program("hftd").string(), "--config", (dir / "hftd.toml").string()},
                                   dir / "hftd.out", dir / "hftd.err");
  }
  // The journal's trading date, from its first segment's name (<instance>-<YYYYMMDD>-<index>.hjl).
  [[nodiscard]] std::string journal_date() const {
    for (const auto& e : fs::directory_iterator(dir / "journal"))
      if (e.path().extension() == ".hjl") return e.path().stem().string().substr(instance.size() + 1, 8);
    return "";
  }
  [[nodiscard]] std::vector<std::string> segments() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir / "journal"))
      if (e.path().extension() == ".hjl") out.push_back(e.path().string());
    return out;
  }
  [[nodiscard]] VenueFills fills() const { return venue_executions(executions, "HFT01"); }
  [[nodiscard]] std::string logs() const {
    return fmt::format("\nhftd:\n{}{}\nvenue:\n{}", hftd ? hftd->out() : "", hftd ? hftd->err() : "", venue_ ? venue_->err() : "");
  }
  [[nodiscard]] const std::string& why() const noexcept { return why_; }
  void keep() { keep_ = true; }  // leave the directory for a failed test's forensics

  fs::path dir, executions;
  std::string instance;
  std::unique_ptr<Child> hftd;

 private:
  std::unique_ptr<Child> venue_;
  std::string why_;
  bool keep_ = false;
};

}  // namespace hft::hftctl_test
