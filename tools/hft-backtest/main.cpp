// hft-backtest: replay recorded ITCH 5.0 through hftd's strategy, risk and order code against a
// simulated venue (docs/backtest.md).
//
//   hft-backtest --config FILE --data FILE... [--pcap] --out DIR [--param KEY=VALUE ...]
//   hft-backtest sweep --config FILE --data FILE... [--pcap] --param strategies.0.quote_size=50,100,200 ...
//                [--jobs N] [--sort METRIC] --out DIR [--slurm [--partition P] [--time T] [--slurm-wait]]
//   hft-backtest sweep --collect DIR [--sort METRIC]
//
// Exit codes: 0 done, 1 an input or output cannot be read or written, 2 bad arguments or
// configuration, 3 a sweep run failed (or did not finish); with --slurm, 1 also: sbatch missing or
// refusing the job.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
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

// A sweep's grid: the axes (KEY, values) and every point ("KEY=VALUE" per axis), first axis slowest.
struct Grid {
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
  std::vector<std::vector<std::string>> points{{}};
};

Grid make_grid(const std::vector<std::string>& params) {
  Grid g;
  for (const auto& p : params) g.axes.push_back(split_param(p));
  for (const auto& [key, values] : g.axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& pt : g.points)
      for (const auto& v : values) {
        auto h = pt;
        h.push_back(key + "=" + v);
        next.push_back(h);
      }
    g.points = std::move(next);
  }
  return g;
}

std::string run_name(std::size_t i) { return fmt::format("run_{:03}", i); }

std::string describe_point(const std::vector<std::string>& point) {
  std::string s;
  for (const auto& p : point) s += fmt::format("{}{}", s.empty() ? "" : " ", p);
  return s;
}

// The arguments of one grid point's run (after the program's path): the same for a local child and
// a Slurm array task.
std::vector<std::string> run_args(const std::string& config, const std::vector<std::string>& data, bool pcap,
                                  const std::string& dir, const std::vector<std::string>& point) {
  std::vector<std::string> args{"--config", config, "--out", dir};
  for (const auto& d : data) {
    args.push_back("--data");
    args.push_back(d);
  }
  if (pcap) args.push_back("--pcap");
  for (const auto& p : point) {
    args.push_back("--param");
    args.push_back(p);
  }
  return args;
}

// DIR/sweep.json: what --collect needs to write the summary of a sweep that ran elsewhere.
void write_manifest(const fs::path& out, const Grid& g, const std::string& sort) {
  nlohmann::json j;
  j["version"] = 1;
  j["sort"] = sort;
  j["axes"] = nlohmann::json::array();
  for (const auto& [key, values] : g.axes) j["axes"].push_back({{"key", key}, {"values", values}});
  j["points"] = g.points;
  std::ofstream(out / "sweep.json") << j.dump(1) << "\n";
}

std::string tail_of(const fs::path& p, std::size_t lines) {
  std::ifstream f(p);
  std::vector<std::string> all;
  for (std::string l; std::getline(f, l);) all.push_back(l);
  std::string s;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) s += "    " + all[i] + "\n";
  return s;
}

// Reads every run's exit status (DIR/run_NNN/exit.txt, written by the local sweep and by the Slurm
// task alike) and report.json, names each failed point with its log, and writes DIR/summary.csv
// of the runs that succeeded, sorted by the metric (highest first). 0: every run succeeded; 3: some
// failed or did not finish; 2: a report cannot be read or lacks the metric.
int collect(const fs::path& out, const Grid& g, const std::string& sort) {
  struct Row {
    std::size_t index;
    double metric;
    nlohmann::json total;
  };
  std::vector<Row> rows;
  int failed = 0;
  for (std::size_t i = 0; i < g.points.size(); ++i) {
    const fs::path dir = out / run_name(i);
    std::ifstream ef(dir / "exit.txt");
    int status = -1;
    if (!(ef >> status)) {
      std::cerr << fmt::format("hft-backtest sweep: {} ({}) did not finish: no {} (killed, or not run yet?)\n",
                               run_name(i), describe_point(g.points[i]), (dir / "exit.txt").string());
      ++failed;
      continue;
    }
    if (status != 0) {
      std::cerr << fmt::format("hft-backtest sweep: {} ({}) failed (exit {}); its log: {}\n{}", run_name(i),
                               describe_point(g.points[i]), status, (dir / "stderr.txt").string(),
                               tail_of(dir / "stderr.txt", 5));
      ++failed;
      continue;
    }
    std::ifstream f(dir / "report.json");
    nlohmann::json j;
    try {
      f >> j;
      rows.push_back({i, metric_of(j, sort), j.at("total")});
    } catch (const std::exception& e) {
      std::cerr << fmt::format("hft-backtest sweep: {}: {}\n", run_name(i), e.what());
      return 2;
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.metric > b.metric; });
  const std::vector<std::string> cols{"net_pnl", "gross_pnl", "fees", "sharpe_per_minute", "sortino_per_minute",
                                      "max_drawdown", "win_rate", "trades", "orders", "fill_ratio", "turnover_usd"};
  std::string csv = "run";
  for (const auto& [key, values] : g.axes) csv += "," + key;
  for (const auto& c : cols) csv += "," + c;
  csv += "\n";
  for (const Row& r : rows) {
    csv += run_name(r.index);
    for (const auto& p : g.points[r.index]) csv += "," + p.substr(p.find('=') + 1);
    for (const auto& c : cols) csv += "," + r.total.at(c).dump();
    csv += "\n";
  }
  std::ofstream(out / "summary.csv") << csv;
  std::cout << csv;
  return failed != 0 ? 3 : 0;
}

// `hft-backtest sweep --collect DIR`: the summary of a sweep whose runs are done (Slurm without
// --slurm-wait), from DIR/sweep.json.
int collect_dir(const std::string& dir, const std::string& sort_override) {
  Grid g;
  std::string sort;
  try {
    std::ifstream f(fs::path(dir) / "sweep.json");
    if (!f) throw std::runtime_error((fs::path(dir) / "sweep.json").string() + ": cannot read (not a sweep's output?)");
    nlohmann::json j;
    f >> j;
    sort = sort_override.empty() ? j.at("sort").get<std::string>() : sort_override;
    for (const auto& a : j.at("axes")) g.axes.emplace_back(a.at("key").get<std::string>(), a.at("values").get<std::vector<std::string>>());
    g.points = j.at("points").get<std::vector<std::vector<std::string>>>();
  } catch (const std::exception& e) {
    std::cerr << "hft-backtest sweep --collect: " << e.what() << "\n";
    return 2;
  }
  return collect(dir, g, sort);
}

int run_local(const std::string& self, const std::string& config, const std::vector<std::string>& data, bool pcap,
              const fs::path& out, const Grid& g, unsigned jobs) {
  struct Run {
    std::size_t index;
    pid_t pid;
  };
  std::vector<Run> running;
  auto finish = [&](std::size_t i, int status) { std::ofstream(out / run_name(i) / "exit.txt") << status << "\n"; };
  auto wait_one = [&] {
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, 0);
    for (std::size_t i = 0; i < running.size(); ++i)
      if (running[i].pid == pid) {
        finish(running[i].index, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
  };
  for (std::size_t i = 0; i < g.points.size(); ++i) {
    while (running.size() >= std::max(1u, jobs)) wait_one();
    const fs::path dir = out / run_name(i);
    std::vector<std::string> args{self};
    for (auto& a : run_args(config, data, pcap, dir.string(), g.points[i])) args.push_back(std::move(a));
    fs::create_directories(dir);
    fs::remove(dir / "exit.txt");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, (dir / "stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, self.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      std::ofstream(dir / "stderr.txt") << "cannot start " << self << ": " << std::strerror(rc) << "\n";
      finish(i, 127);
      continue;
    }
    running.push_back({i, pid});
  }
  while (!running.empty()) wait_one();
  return 0;
}

// Single quotes for bash: 'it'\''s'.
std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream in(path != nullptr ? path : "");
  for (std::string d; std::getline(in, d, ':');) {
    if (d.empty()) continue;
    const fs::path p = fs::path(d) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

// Runs a command through the shell; its stdout, and its exit status in `status`.
std::string capture(const std::string& cmd, int& status) {
  std::string s;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    status = -1;
    return s;
  }
  char buf[512];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) s.append(buf, n);
  const int st = ::pclose(p);
  status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return s;
}

struct SlurmOptions {
  std::string partition, time;
  bool wait = false;
  unsigned max_running = 0;  // the array's %N (0: Slurm decides)
};

// DIR/sweep.sbatch: one array task per grid point; task N runs this program on point N into
// DIR/run_NNN/ (stdout.txt, stderr.txt, exit.txt), exactly as a local sweep's child.
std::string slurm_script(const std::string& self, const std::string& config, const std::vector<std::string>& data,
                         bool pcap, const fs::path& out, const Grid& g, const SlurmOptions& o) {
  std::string s = "#!/bin/bash\n";
  s += "#SBATCH --job-name=hft-backtest-sweep\n";
  s += fmt::format("#SBATCH --array=0-{}{}\n", g.points.size() - 1, o.max_running != 0 ? fmt::format("%{}", o.max_running) : "");
  s += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
  s += fmt::format("#SBATCH --output={}\n", (out / "slurm-%A_%a.out").string());
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
  s += "# Written by hft-backtest sweep --slurm (docs/backtest.md): task N runs grid point N of sweep.json\n"
       "# into run_NNN/; then `hft-backtest sweep --collect DIR` writes summary.csv.\n";
  s += "set -u\ncase \"${SLURM_ARRAY_TASK_ID:?not a Slurm array task}\" in\n";
  for (std::size_t i = 0; i < g.points.size(); ++i) {
    s += fmt::format("  {}) run={}; params=(", i, run_name(i));
    for (std::size_t k = 0; k < g.points[i].size(); ++k) s += fmt::format("{}--param {}", k != 0 ? " " : "", sh_quote(g.points[i][k]));
    s += ") ;;\n";
  }
  s += "  *) echo \"no grid point $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n";
  s += "dir=" + sh_quote(out.string()) + "/$run\n";
  s += "mkdir -p \"$dir\" && rm -f \"$dir/exit.txt\"\n";
  std::string cmd = sh_quote(self);
  for (const auto& a : run_args(config, data, pcap, "@DIR@", {})) cmd += " " + (a == "@DIR@" ? std::string("\"$dir\"") : sh_quote(a));
  s += cmd + " \"${params[@]}\" > \"$dir/stdout.txt\" 2> \"$dir/stderr.txt\"\n";
  s += "rc=$?\necho $rc > \"$dir/exit.txt\"\nexit $rc\n";
  return s;
}

int run_slurm(const std::string& self, std::string config, std::vector<std::string> data, bool pcap,
              const fs::path& out_rel, const Grid& g, const std::string& sort, const SlurmOptions& o) {
  // The tasks run elsewhere: every path absolute (they must be on a file system the nodes share).
  const fs::path out = fs::absolute(out_rel);
  config = fs::absolute(config).string();
  for (auto& d : data) d = fs::absolute(d).string();
  const fs::path script = out / "sweep.sbatch";
  std::ofstream(script) << slurm_script(self, config, data, pcap, out, g, o);
  for (std::size_t i = 0; i < g.points.size(); ++i) {
    fs::create_directories(out / run_name(i));
    fs::remove(out / run_name(i) / "exit.txt");
  }
  const std::string sbatch = find_in_path("sbatch");
  if (sbatch.empty()) {
    std::cerr << "hft-backtest sweep --slurm: sbatch not found in PATH (install Slurm's client, Debian: slurm-client); "
                 "the job script is "
              << script.string() << ": submit it where Slurm runs, then hft-backtest sweep --collect " << out.string()
              << "\n";
    return 1;
  }
  int st = 0;
  const std::string err = (out / "sbatch.err").string();
  const std::string reply = capture(sh_quote(sbatch) + " --parsable " + sh_quote(script.string()) + " 2> " + sh_quote(err), st);
  std::uint64_t job = 0;
  const auto digits = reply.find_first_not_of("0123456789");
  if (st != 0 || digits == 0 || reply.empty()) {
    std::cerr << "hft-backtest sweep --slurm: sbatch refused " << script.string() << " (exit " << st << "):\n"
              << tail_of(err, 10);
    return 1;
  }
  job = std::stoull(reply.substr(0, digits));
  std::cout << fmt::format("hft-backtest sweep: Slurm job {} ({} array tasks), script {}\n", job, g.points.size(),
                           script.string())
            << std::flush;
  if (!o.wait) {
    std::cout << "when it is done: hft-backtest sweep --collect " << out.string() << "\n";
    return 0;
  }
  // Done when every task has written its exit status, or the job has left the queue (a task
  // killed by Slurm writes none: collect names it).
  const std::string squeue = find_in_path("squeue");
  for (unsigned n = 0;; ++n) {
    std::size_t done = 0;
    for (std::size_t i = 0; i < g.points.size(); ++i) done += fs::exists(out / run_name(i) / "exit.txt") ? 1 : 0;
    if (done == g.points.size()) break;
    if (!squeue.empty() && n % 5 == 4) {
      int qs = 0;
      const std::string q = capture(fmt::format("{} -h -j {} -o %i 2>&1", sh_quote(squeue), job), qs);
      const bool gone = (qs == 0 && q.find_first_not_of(" \n") == std::string::npos) ||
                        q.find("Invalid job id") != std::string::npos;
      if (gone) break;
    }
    ::usleep(200'000);
  }
  return collect(out, g, sort);
}

int sweep(const std::string& self, const std::string& config, const std::vector<std::string>& data, bool pcap,
          const std::string& out, const std::vector<std::string>& params, unsigned jobs, const std::string& sort,
          bool slurm, const SlurmOptions& so) {
  Grid g;
  try {
    g = make_grid(params);
    // Validate the first point before starting anything.
    (void)backtest::load_config(config, g.points.front());
  } catch (const std::exception& e) {
    std::cerr << "hft-backtest sweep: " << e.what() << "\n";
    return 2;
  }
  fs::create_directories(out);
  write_manifest(out, g, sort);
  if (slurm) return run_slurm(self, config, data, pcap, out, g, sort, so);
  run_local(self, config, data, pcap, out, g, jobs);
  return collect(out, g, sort);
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
  auto* sw = app.add_subcommand("sweep", "run a parameter grid (--param KEY=V1,V2,...) across local cores or as a Slurm job array");
  sw->add_option("--config", config);
  sw->add_option("--data", data);
  sw->add_flag("--pcap", pcap);
  sw->add_option("--out", out);
  sw->add_option("--param", params, "KEY=V1,V2,... (one axis of the grid)");
  auto* jobs_opt = sw->add_option("--jobs", jobs, "runs at once (with --slurm: the array's task limit)")->check(CLI::Range(1u, 256u));
  std::string sort_given;
  sw->add_option("--sort", sort_given, "metric of report.json's total to sort the summary by (highest first; default net_pnl)");
  bool slurm = false;
  SlurmOptions so;
  std::string collect_from;
  sw->add_flag("--slurm", slurm, "write DIR/sweep.sbatch (a job array, one task per point) and submit it with sbatch");
  sw->add_option("--partition", so.partition, "with --slurm: the partition (sbatch --partition)");
  sw->add_option("--time", so.time, "with --slurm: each task's time limit (sbatch --time, e.g. 30 or 1:00:00)");
  sw->add_flag("--slurm-wait", so.wait, "with --slurm: wait until every task is done, then write summary.csv");
  sw->add_option("--collect", collect_from, "write DIR/summary.csv from the finished runs of a sweep (after --slurm)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (sw->parsed()) {
    if (!collect_from.empty()) return collect_dir(collect_from, sort_given);
    if (config.empty() || data.empty() || out.empty() || params.empty()) {
      std::cerr << "hft-backtest sweep: --config, --data, --param and --out are required (or --collect DIR)\n";
      return 2;
    }
    if (!fs::is_regular_file(config)) {
      std::cerr << "hft-backtest sweep: --config " << config << ": not a file\n";
      return 2;
    }
    for (const auto& d : data)
      if (!fs::is_regular_file(d)) {
        std::cerr << "hft-backtest sweep: --data " << d << ": not a file\n";
        return 2;
      }
    if (!slurm && (!so.partition.empty() || !so.time.empty() || so.wait)) {
      std::cerr << "hft-backtest sweep: --partition, --time and --slurm-wait need --slurm\n";
      return 2;
    }
    if (slurm && jobs_opt->count() != 0) so.max_running = jobs;
    std::error_code ec;
    std::string self = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) self = argv[0];
    return sweep(self, config, data, pcap, out, params, jobs, sort_given.empty() ? "net_pnl" : sort_given, slurm, so);
  }
  if (config.empty() || data.empty() || out.empty()) {
    std::cerr << "hft-backtest: --config, --data and --out are required (see --help)\n";
    return 2;
  }
  return run_one(config, data, pcap, out, params);
}
