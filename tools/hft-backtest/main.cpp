// hft-backtest: replay recorded ITCH 5.0 through hftd's strategy, risk and order code against a
// simulated venue (docs/backtest.md).
//
//   hft-backtest --config FILE --data FILE... [--pcap] --out DIR [--param KEY=VALUE ...]
//   hft-backtest sweep --config FILE --data FILE... [--pcap] --param strategies.0.quote_size=50,100,200 ...
//                [--jobs N] [--sort METRIC] --out DIR
//
// Exit codes: 0 done, 1 an input or output cannot be read or written, 2 bad arguments or
// configuration, 3 a sweep run failed.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "tools/hft-backtest/backtest.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace hft;

int run_one(const std::string& config, const std::vector<std::string>& data, bool pcap, const std::string& out,
            const std::vector<std::string>& params) {
  backtest::BacktestConfig c;
  try {
    c = backtest::load_config(config, params);
  } catch (const std::exception& e) {
    std::cerr << "hft-backtest: " << e.what() << "\n";
    return 2;
  }
  std::vector<backtest::InputFile> inputs;
  for (const auto& d : data) inputs.push_back({d, pcap});
  try {
    const backtest::Result r = backtest::run(c, inputs);
    backtest::write_outputs(out, c, inputs, r);
    std::cout << backtest::summary(r) << std::flush;
  } catch (const std::exception& e) {
    std::cerr << "hft-backtest: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// "strategies.0.quote_size=50,100,200" -> key and values.
std::pair<std::string, std::vector<std::string>> split_param(const std::string& p) {
  const auto eq = p.find('=');
  if (eq == std::string::npos) throw std::runtime_error("--param " + p + ": expected KEY=V1,V2,...");
  std::vector<std::string> values;
  std::string v;
  std::istringstream in(p.substr(eq + 1));
  while (std::getline(in, v, ',')) values.push_back(v);
  if (values.empty()) throw std::runtime_error("--param " + p + ": no values");
  return {p.substr(0, eq), values};
}

double metric_of(const nlohmann::json& report, const std::string& metric) {
  const auto& t = report.at("total");
  if (!t.contains(metric)) throw std::runtime_error("--sort " + metric + ": not a metric of report.json's total");
  return t.at(metric).get<double>();
}

int sweep(const std::string& self, const std::string& config, const std::vector<std::string>& data, bool pcap,
          const std::string& out, const std::vector<std::string>& params, unsigned jobs, const std::string& sort) {
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
  try {
    for (const auto& p : params) axes.push_back(split_param(p));
  } catch (const std::exception& e) {
    std::cerr << "hft-backtest sweep: " << e.what() << "\n";
    return 2;
  }
  // The grid, first axis slowest.
  std::vector<std::vector<std::string>> grid{{}};
  for (const auto& [key, values] : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& g : grid)
      for (const auto& v : values) {
        auto h = g;
        h.push_back(key + "=" + v);
        next.push_back(h);
      }
    grid = std::move(next);
  }
  // Validate the first point before starting anything.
  try {
    (void)backtest::load_config(config, grid.front());
  } catch (const std::exception& e) {
    std::cerr << "hft-backtest sweep: " << e.what() << "\n";
    return 2;
  }
  fs::create_directories(out);
  struct Run {
    std::size_t index;
    pid_t pid;
  };
  std::vector<Run> running;
  std::vector<int> status(grid.size(), -1);
  auto wait_one = [&] {
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, 0);
    for (std::size_t i = 0; i < running.size(); ++i)
      if (running[i].pid == pid) {
        status[running[i].index] = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
  };
  for (std::size_t i = 0; i < grid.size(); ++i) {
    while (running.size() >= std::max(1u, jobs)) wait_one();
    const std::string dir = (fs::path(out) / fmt::format("run_{:03}", i)).string();
    std::vector<std::string> args{self, "--config", config, "--out", dir};
    for (const auto& d : data) {
      args.push_back("--data");
      args.push_back(d);
    }
    if (pcap) args.push_back("--pcap");
    for (const auto& p : grid[i]) {
      args.push_back("--param");
      args.push_back(p);
    }
    fs::create_directories(dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, (fs::path(dir) / "stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, self.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      std::cerr << "hft-backtest sweep: cannot start " << self << ": " << std::strerror(rc) << "\n";
      status[i] = 127;
      continue;
    }
    running.push_back({i, pid});
  }
  while (!running.empty()) wait_one();
  // The summary, sorted by the metric (best = highest first).
  struct Row {
    std::size_t index;
    double metric;
    nlohmann::json total;
  };
  std::vector<Row> rows;
  int failed = 0;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    if (status[i] != 0) {
      std::cerr << fmt::format("hft-backtest sweep: run_{:03} failed (exit {})\n", i, status[i]);
      ++failed;
      continue;
    }
    std::ifstream f(fs::path(out) / fmt::format("run_{:03}", i) / "report.json");
    nlohmann::json j;
    try {
      f >> j;
      rows.push_back({i, metric_of(j, sort), j.at("total")});
    } catch (const std::exception& e) {
      std::cerr << fmt::format("hft-backtest sweep: run_{:03}: {}\n", i, e.what());
      return 2;
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.metric > b.metric; });
  const std::vector<std::string> cols{"net_pnl", "gross_pnl", "fees", "sharpe_per_minute", "sortino_per_minute",
                                      "max_drawdown", "win_rate", "trades", "orders", "fill_ratio", "turnover_usd"};
  std::string csv = "run";
  for (const auto& [key, values] : axes) csv += "," + key;
  for (const auto& c : cols) csv += "," + c;
  csv += "\n";
  for (const Row& r : rows) {
    csv += fmt::format("run_{:03}", r.index);
    for (const auto& p : grid[r.index]) csv += "," + p.substr(p.find('=') + 1);
    for (const auto& c : cols) csv += "," + r.total.at(c).dump();
    csv += "\n";
  }
  std::ofstream(fs::path(out) / "summary.csv") << csv;
  std::cout << csv;
  return failed != 0 ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hft-backtest: replay ITCH 5.0 days through hftd's strategy, risk and order code against a simulated "
               "venue (docs/backtest.md)"};
  std::string config, out, sort = "net_pnl";
  std::vector<std::string> data, params;
  bool pcap = false;
  unsigned jobs = 1;
  app.add_option("--config", config, "hftd's TOML plus a [backtest] section")->check(CLI::ExistingFile);
  app.add_option("--data", data, "ITCH 5.0 BinaryFILE (or pcap with --pcap); several: one day after another")
      ->check(CLI::ExistingFile);
  app.add_flag("--pcap", pcap, "the data files are pcap captures of MoldUDP64");
  app.add_option("--out", out, "output directory");
  app.add_option("--param", params, "KEY=VALUE configuration override (e.g. strategies.0.quote_size=200)");
  auto* sw = app.add_subcommand("sweep", "run a parameter grid (--param KEY=V1,V2,...) across local cores");
  sw->add_option("--config", config)->required()->check(CLI::ExistingFile);
  sw->add_option("--data", data)->required()->check(CLI::ExistingFile);
  sw->add_flag("--pcap", pcap);
  sw->add_option("--out", out)->required();
  sw->add_option("--param", params, "KEY=V1,V2,... (one axis of the grid)")->required();
  sw->add_option("--jobs", jobs, "runs at once")->check(CLI::Range(1u, 256u));
  sw->add_option("--sort", sort, "metric of report.json's total to sort the summary by (highest first)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (sw->parsed()) {
    std::error_code ec;
    std::string self = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) self = argv[0];
    return sweep(self, config, data, pcap, out, params, jobs, sort);
  }
  if (config.empty() || data.empty() || out.empty()) {
    std::cerr << "hft-backtest: --config, --data and --out are required (see --help)\n";
    return 2;
  }
  return run_one(config, data, pcap, out, params);
}
