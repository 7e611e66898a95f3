// hftctl: looks at and steers a running hftd through its control file (/dev/shm/hftd.<instance>,
// pipeline/control/layout.hpp), after Aeron's AeronStat: status, counters and rates, latency
// percentiles (.hgrm files and a PNG plot), operator commands, and a Prometheus endpoint.
// Nothing here touches the daemon's threads: reads are lock-free copies, commands go through the
// command slots and are applied by hftd's control thread.
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/log.hpp"
#include "core/version.hpp"
#include "data/api/service.hpp"
#include "net/socket.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/json.hpp"
#include "pipeline/control/metrics.hpp"
#include "pipeline/control/metrics_server.hpp"
#include "pipeline/control/report.hpp"
#include "pipeline/control/snapshot.hpp"
#include "pipeline/risk/keys.hpp"
#include "tools/hftctl/strategy_commands.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace hft::control;

// Exit codes (also in the usage footer).
constexpr int kExitOk = 0;
constexpr int kExitError = 1;         // cannot attach, refused by hftd, I/O
constexpr int kExitUsage = 2;         // bad command line
constexpr int kExitUnconfirmed = 3;   // no answer from hftd, or its effect not seen in time

constexpr const char* kFooter =
    "Exit status: 0 done; 1 error (no such instance, stale file, layout version, owner, refused by hftd, I/O);\n"
    "2 usage; 3 hftd did not answer, or the command's effect was not seen in time.";

std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

void install_stop_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() and sleeps return at once
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

// Sleeps up to `d`, returning early (false) on SIGINT/SIGTERM.
bool sleep_unless_stopped(std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(end - now, std::chrono::milliseconds(20)));
  }
  return false;
}

// The dashboard's files: beside the program in a build (../../data/dashboard is not known at run
// time, so the build defines it), else the installed share/hft/dashboard.
std::string default_dashboard_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "hft" / "dashboard";
    if (std::filesystem::exists(installed / "index.html")) return installed.string();
  }
#ifdef HFT_DASHBOARD_SOURCE_DIR
  if (std::filesystem::exists(std::filesystem::path(HFT_DASHBOARD_SOURCE_DIR) / "index.html")) return HFT_DASHBOARD_SOURCE_DIR;
#endif
  return "";
}

struct Target {
  std::string instance;  // empty: choose
  std::string dir;       // empty: $HFT_CONTROL_DIR or /dev/shm
};

// The instance to use when none is given: the only live one, else "default".
std::string resolve_instance(const Target& t) {
  if (!t.instance.empty()) return t.instance;
  std::vector<std::string> live;
  for (const auto& name : ControlReader::list_instances(t.dir)) {
    try {
      ControlReader r(name, t.dir);
      live.push_back(name);
    } catch (const std::exception&) {
      // stale, foreign or broken: not a candidate
    }
  }
  std::sort(live.begin(), live.end());
  if (live.size() == 1) return live.front();
  if (live.size() > 1) {
    std::string names;
    for (const auto& n : live) names += (names.empty() ? "" : ", ") + n;
    throw std::runtime_error(fmt::format("several hftd instances are running ({}): pick one with --instance", names));
  }
  return "default";
}

std::unique_ptr<ControlReader> attach(const Target& t) {
  return std::make_unique<ControlReader>(resolve_instance(t), t.dir);
}

// ---- status / stats / hist ---------------------------------------------------------------------

// A page built from control-file text, made safe for a terminal (issue 18): the control file is
// writable by whoever owns the instance, so its strings (the session's last event, thread names,
// command answers) must not reach the terminal as control sequences. Line structure is kept
// (newline, tab); every other C0 byte, DEL, a C1 control in UTF-8 (U+0080..U+009F, e.g. CSI) and
// any byte that is not part of valid UTF-8 (a lone 0x9b is CSI to some terminals) is written as
// \xHH, as core::escape does. Text that is not a page (one field) goes through core::escape.
std::string terminal_safe(std::string_view page) {
  std::string out;
  out.reserve(page.size());
  auto hex = [&](unsigned char c) { out += hft::core::escape(std::string_view(reinterpret_cast<const char*>(&c), 1)); };
  for (std::size_t i = 0; i < page.size();) {
    const auto c = static_cast<unsigned char>(page[i]);
    if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    bool valid = len != 0 && i + len <= page.size();
    for (std::size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(page[i + k]) & 0xc0) == 0x80;
    if (valid && c == 0xc2 && static_cast<unsigned char>(page[i + 1]) < 0xa0) valid = false;  // C1 controls
    if (!valid) {
      hex(c);
      ++i;
      continue;
    }
    out.append(page.substr(i, len));
    i += len;
  }
  return out;
}

int run_status(const Target& t, bool json) {
  const auto reader = attach(t);
  const Snapshot s = take_snapshot(*reader);
  std::fputs((json ? status_json(s) : terminal_safe(format_status(s))).c_str(), stdout);
  return kExitOk;
}

int run_positions(const Target& t, bool json) {
  const auto reader = attach(t);
  const Snapshot s = take_snapshot(*reader, false);
  std::fputs((json ? positions_json(s) : terminal_safe(format_positions(s))).c_str(), stdout);
  return kExitOk;
}

// `hftctl risk status|events [--json]` (issue 11).
int run_risk_view(const Target& t, bool events, bool json) {
  const auto reader = attach(t);
  const Snapshot s = take_snapshot(*reader, false);
  const std::string out = events ? (json ? risk_events_json(s) : terminal_safe(format_risk_events(s)))
                                 : (json ? risk_status_json(s) : terminal_safe(format_risk_status(s)));
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

int run_stats(const Target& t, double watch_seconds, std::uint64_t count, bool json) {
  const auto reader = attach(t);
  if (watch_seconds <= 0) {
    const Snapshot s = take_snapshot(*reader, false);
    std::fputs((json ? counters_json(s) : terminal_safe(format_counters(s))).c_str(), stdout);
    return kExitOk;
  }
  install_stop_handlers();
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  const auto interval = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(watch_seconds * 1000.0)));
  Snapshot before = take_snapshot(*reader, false);
  for (std::uint64_t n = 0; count == 0 || n < count; ++n) {
    if (!sleep_unless_stopped(interval)) break;
    Snapshot now = take_snapshot(*reader, false);
    if (!now.alive) {
      std::fflush(stdout);
      fmt::print(stderr, "hftctl: hftd instance '{}' (pid {}) stopped\n", hft::core::escape(now.instance), now.pid);
      return kExitError;
    }
    std::string page = json ? rates_json(before, now) : terminal_safe(format_rates(before, now));
    if (json) {
      // JSON Lines: one document per refresh, never redrawn in place.
    } else if (tty) page = "\033[H\033[2J" + page;  // redraw in place on a terminal; plain blocks in a pipe
    else if (n != 0) page = "\n" + page;
    std::fputs(page.c_str(), stdout);
    std::fflush(stdout);
    before = std::move(now);
  }
  return kExitOk;
}

// Runs a program with arguments (no shell); its exit code, or -1 when it could not start.
int spawn_wait(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_hist(const Target& t, const std::string& hgrm_dir, const std::string& plot_path, bool json) {
  const auto reader = attach(t);
  const Snapshot s = take_snapshot(*reader);
  // With --json the files written are listed in the one document, printed last.
  std::vector<std::string> written;
  auto wrote = [&](const std::string& path) {
    if (json) written.push_back(path);
    else fmt::print("wrote {}\n", path);
  };
  if (!json) std::fputs(terminal_safe(format_histogram_table(s)).c_str(), stdout);

  if (!hgrm_dir.empty()) {
    std::error_code ec;
    fs::create_directories(hgrm_dir, ec);
    if (ec) throw std::runtime_error(fmt::format("{}: cannot create the directory: {}", hgrm_dir, ec.message()));
    for (const auto& hop : s.histograms) {
      const std::string path = hgrm_path(hgrm_dir, s.instance, hop.name);
      std::ofstream f(path);
      f << hop.histogram.percentile_distribution(1000.0);  // ns samples, µs in the file
      f.close();
      if (!f) throw std::runtime_error(fmt::format("{}: cannot write", path));
      wrote(path);
    }
  }

  if (!plot_path.empty()) {
    char tmpl[] = "/tmp/hftctl-plot-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("cannot create a temporary directory for the plot data");
    const fs::path work(tmpl);
    struct Cleanup {
      fs::path p;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(p, ec);
      }
    } cleanup{work};
    std::vector<PlotSeries> series;
    for (const auto& hop : s.histograms) {
      if (hop.histogram.total_count() == 0) continue;
      PlotSeries ps;
      ps.title = fmt::format("{} (n={})", hop.name, hop.histogram.total_count());
      ps.data_path = (work / (hop.name + ".dat")).string();
      std::string error;
      if (!write_plot_data(hop.histogram.percentile_distribution(1000.0), ps, error))
        throw std::runtime_error(fmt::format("plot data of {}: {}", hop.name, error));
      series.push_back(std::move(ps));
    }
    if (series.empty()) throw std::runtime_error("nothing to plot: every latency histogram is empty");
    const fs::path script = work / "plot.gp";
    {
      std::ofstream f(script);
      f << gnuplot_script(series, plot_path,
                          fmt::format("hftd {}: latency by percentile (pid {}, up {})", s.instance, s.pid,
                                      duration_text(s.uptime_ns())));
      if (!f) throw std::runtime_error(fmt::format("{}: cannot write", script.string()));
    }
    std::error_code ec;
    fs::remove(plot_path, ec);
    const int rc = spawn_wait({"gnuplot", script.string()});
    if (rc == -1) throw std::runtime_error("cannot run gnuplot: is it installed? (Debian: apt-get install gnuplot-nox)");
    if (rc != 0) throw std::runtime_error(fmt::format("gnuplot failed (exit {})", rc));
    if (!fs::exists(plot_path) || fs::file_size(plot_path) == 0)
      throw std::runtime_error(fmt::format("gnuplot wrote no {}", plot_path));
    wrote(plot_path);
  }
  if (json) std::fputs(histograms_json(s, written).c_str(), stdout);
  return kExitOk;
}

// ---- commands ----------------------------------------------------------------------------------

// Polls the control file until `done` holds (true) or `timeout` passes (false).
bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// What `set risk.KEY=VALUE` must make the risk block show: the limit, as hftd publishes it (in the
// key's unit; integers truncated, max_notional_usd kept to 1/10,000 $).
std::function<bool(const RiskBlock&)> expected_limit(const std::string& key, double v) {
  const std::string name = key.starts_with("risk.") ? key.substr(5) : key;
  return [=](const RiskBlock& r) {
    const RiskLimitSlot* l = r.find(name);
    if (l == nullptr) return false;
    if (static_cast<hft::risk::KeyKind>(l->kind) == hft::risk::KeyKind::kInteger) return l->value == std::trunc(v);
    return std::fabs(l->value - v) <= 1e-4 + 1e-9 * std::fabs(v);
  };
}

int run_command(const Target& t, CommandOp op, const std::string& assignment, int timeout_ms) {
  std::string key, value;
  if (op == CommandOp::kSetRisk) {
    const std::size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == assignment.size()) {
      fmt::print(stderr, "hftctl: set needs KEY=VALUE (e.g. risk.max_order_quantity=500), not \"{}\"\n", assignment);
      return kExitUsage;
    }
    key = assignment.substr(0, eq);
    value = assignment.substr(eq + 1);
    if (key.size() >= sizeof(CommandSlot{}.key) || value.size() >= sizeof(CommandSlot{}.value)) {
      fmt::print(stderr, "hftctl: key or value too long (at most {} and {} characters)\n", sizeof(CommandSlot{}.key) - 1,
                 sizeof(CommandSlot{}.value) - 1);
      return kExitUsage;
    }
  }
  std::string sent = value;
  if (op == CommandOp::kSetRisk) {
    // Who asked, for hftd's limit-change event (dropped when it does not fit the slot's value).
    const uid_t uid = ::getuid();
    const passwd* pw = ::getpwuid(uid);
    const std::string by = fmt::format(" by uid {} ({})", uid, pw != nullptr ? pw->pw_name : "?");
    if (sent.size() + by.size() < sizeof(CommandSlot{}.value)) sent += by;
  }
  const auto reader = attach(t);
  const std::string who =
      fmt::format("hftd {} (pid {})", hft::core::escape(get_text(reader->header().instance)), reader->header().pid);
  const CommandResult r = reader->command(op, key, sent, timeout_ms);
  if (!r.ok) {
    const bool no_answer = r.message.find("no answer") != std::string::npos ||
                           r.message.find("did not answer") != std::string::npos ||
                           r.message.find("slot is busy") != std::string::npos;
    fmt::print(stderr, "hftctl: {}: {}{}\n", who, no_answer ? "" : "refused: ", hft::core::escape(r.message));
    return no_answer ? kExitUnconfirmed : kExitError;
  }
  fmt::print("{}: {}\n", who, hft::core::escape(r.message));

  // The acknowledgement says the control thread accepted it; confirm that the pipeline shows it
  // (the egress thread publishes the risk block).
  const auto limit = std::chrono::milliseconds(timeout_ms);
  auto risk_shows = [&](const std::function<bool(const RiskBlock&)>& pred, const std::string& what) {
    if (wait_for([&] { return pred(reader->risk()); }, limit)) return kExitOk;
    fmt::print(stderr, "hftctl: {}: acknowledged, but {} was not seen within {} ms\n", who, what, timeout_ms);
    return kExitUnconfirmed;
  };
  switch (op) {
    case CommandOp::kHalt: return risk_shows([](const RiskBlock& b) { return b.halted != 0; }, "halted");
    case CommandOp::kResume: return risk_shows([](const RiskBlock& b) { return b.halted == 0; }, "resumed");
    case CommandOp::kUnkill: return risk_shows([](const RiskBlock& b) { return b.kill_switch == 0; }, "the kill switch off");
    case CommandOp::kFlatten: return risk_shows([](const RiskBlock& b) { return b.halted != 0; }, "halted");
    case CommandOp::kKill: {
      if (const int rc = risk_shows([](const RiskBlock& b) { return b.kill_switch != 0; }, "the kill switch on"); rc != kExitOk)
        return rc;
      // Working orders are cancelled at the venue; wait for the cancel acknowledgements.
      if (!wait_for([&] { return reader->risk().open_orders == 0; }, limit)) {
        fmt::print(stderr, "hftctl: {}: kill switch on, but {} orders still working after {} ms\n", who,
                   reader->risk().open_orders, timeout_ms);
        return kExitUnconfirmed;
      }
      fmt::print("{}: no working orders\n", who);
      return kExitOk;
    }
    case CommandOp::kSetRisk: {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end != value.c_str() + value.size()) return kExitOk;  // hftd accepted what this hftctl cannot read
      if (key.starts_with("strategy.")) {
        // strategy.NAME.[risk_]FIELD: the strategy's risk slot (the index of its StrategySlot) shows it.
        const std::string rest = key.substr(9);
        const std::size_t dot = rest.rfind('.');
        const std::string name = rest.substr(0, dot);
        std::string field = rest.substr(dot + 1);
        if (field.starts_with("risk_")) field = field.substr(5);
        const std::vector<StrategySlot> slots = reader->strategies();
        std::size_t index = slots.size();
        for (std::size_t i = 0; i < slots.size(); ++i)
          if (slots[i].used != 0 && get_text(slots[i].name) == name) index = i;
        if (index >= hft::control::kStrategyRiskSlots) return kExitOk;  // not shown: nothing to wait for
        return risk_shows(
            [=](const RiskBlock& b) {
              const hft::control::StrategyRiskSlot& slot = b.strategies[index];
              const double shown = field == "max_position"       ? static_cast<double>(slot.max_position)
                                   : field == "max_notional_usd" ? static_cast<double>(slot.max_notional) / 1e4
                                   : field == "max_loss_usd"     ? static_cast<double>(slot.max_loss) / 1e4
                                                                 : slot.max_orders_per_second;
              return std::fabs(shown - v) <= 1e-4 + 1e-9 * std::fabs(v);
            },
            fmt::format("{} = {}", key, value));
      }
      return risk_shows(expected_limit(key, v), fmt::format("{} = {}", key, value));
    }
    case CommandOp::kRiskReset: return risk_shows([](const RiskBlock& b) { return b.breaker == 0; }, "the breaker closed");
    case CommandOp::kDumpHistograms:
    case CommandOp::kNone: break;
    default: break;  // algo / strategy commands: tools/hftctl/strategy_commands.cpp
  }
  return kExitOk;
}

// ---- metrics -----------------------------------------------------------------------------------

// Renders the exposition at each scrape, re-attaching when the daemon restarted (its old file is
// gone) or is not there yet.
class Scraper {
 public:
  Scraper(std::string instance, std::string dir) : instance_(std::move(instance)), dir_(std::move(dir)) {}
  std::string render(std::string* error = nullptr) {
    try {
      if (reader_ == nullptr || !reader_->alive()) {
        reader_.reset();
        reader_ = std::make_unique<ControlReader>(instance_, dir_);
      }
      return render_prometheus(take_snapshot(*reader_));
    } catch (const std::exception& e) {
      reader_.reset();
      if (error != nullptr) *error = e.what();
      return render_prometheus_down(instance_, e.what());
    }
  }
  [[nodiscard]] const std::string& instance() const { return instance_; }

 private:
  std::string instance_, dir_;
  std::unique_ptr<ControlReader> reader_;
};

int run_metrics(const Target& t, const std::string& listen, bool once) {
  std::string instance;
  try {
    instance = resolve_instance(t);
  } catch (const std::exception& e) {
    fmt::print(stderr, "hftctl: {}\n", hft::core::escape(e.what()));
    return kExitError;
  }
  Scraper scraper(instance, t.dir);
  if (once) {
    std::string error;
    const std::string text = scraper.render(&error);
    if (!error.empty()) {
      fmt::print(stderr, "hftctl: {}\n", error);
      return kExitError;
    }
    std::fputs(terminal_safe(text).c_str(), stdout);
    return kExitOk;
  }
  if (listen.empty()) {
    fmt::print(stderr, "hftctl: metrics needs --listen HOST:PORT (or --once)\n");
    return kExitUsage;
  }
  const hft::net::Endpoint ep = hft::net::parse_endpoint(listen);
  install_stop_handlers();
  ::signal(SIGPIPE, SIG_IGN);
  MetricsServer server(ep, [&] { return scraper.render(); });
  {
    std::string error;
    scraper.render(&error);
    if (!error.empty()) fmt::print(stderr, "hftctl: warning: {} (serving hftd_up 0 until it runs)\n", error);
  }
  fmt::print("hftctl: serving Prometheus metrics of hftd instance '{}' at http://{}:{}/metrics\n", instance,
             ep.to_string().substr(0, ep.to_string().rfind(':')), server.port());
  std::fflush(stdout);
  server.run(g_stop);
  const auto& st = server.stats();
  fmt::print("hftctl: stopped after {} scrapes ({} connections, {} not found, {} bad requests, {} timeouts, {} refused)\n",
             st.scrapes, st.connections, st.not_found, st.bad_requests, st.timeouts, st.refused);
  return kExitOk;
}


// ---- serve (docs/data.md) -----------------------------------------------------------------------

int run_serve(const Target& t, const std::string& listen, const std::string& token_file, const std::string& journal_dir,
              std::optional<std::uint32_t> date, const std::string& static_dir, const hft::data::api::ServerConfig& limits) {
  hft::data::api::ServeOptions o;
  o.server = limits;
  o.instance = resolve_instance(t);
  o.control_dir = t.dir;
  o.token_file = token_file;
  o.journal_dir = journal_dir;
  o.date = date;
  const hft::net::Endpoint ep = hft::net::parse_endpoint(listen);
  const std::string text = ep.to_string();
  o.server.address = text.substr(0, text.rfind(':'));
  o.server.port = static_cast<std::uint16_t>(std::stoi(text.substr(text.rfind(':') + 1)));
  o.server.static_dir = static_dir;
  if (o.server.address.rfind("127.", 0) != 0)
    fmt::print(stderr, "hftctl: warning: serving on {}, not loopback: anyone who can reach it can read hftd's state "
                       "(commands still need the token)\n", o.server.address);
  install_stop_handlers();
  ::signal(SIGPIPE, SIG_IGN);
  hft::data::api::serve(o, g_stop, [&](std::uint16_t port) {
    fmt::print("hftctl: serving the API of hftd instance '{}' at http://{}:{}/api/v1/hft/ (events: /ws/hft{})\n", o.instance,
               o.server.address, port, static_dir.empty() ? "" : ", dashboard: /");
    std::fflush(stdout);
  }, [](const hft::data::api::ServerStats& st) {
    fmt::print("hftctl: stopped after {} requests ({} rate-limited, {} bad, {} unauthorized, {} connections refused); "
               "{} WebSocket clients, {} events sent, {} slow clients dropped\n",
               st.requests.load(), st.rate_limited.load(), st.bad_requests.load(), st.unauthorized.load(),
               st.rejected_connections.load(), st.ws_clients.load(), st.ws_messages.load(), st.ws_dropped.load());
  });
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hftctl: status, counters, latency histograms, commands and Prometheus metrics of a running hftd",
               "hftctl"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("hftctl ") + hft::kVersion);
  app.require_subcommand(1);

  Target target;
  auto add_target = [&](CLI::App* cmd) {
    cmd->add_option("--instance,-i", target.instance,
                    "hftd instance (default: the only running one, else \"default\")");
    cmd->add_option("--dir", target.dir, "directory of the control files (default: $HFT_CONTROL_DIR, else /dev/shm)");
    cmd->footer(kFooter);
  };
  int timeout_ms = 3000;
  auto add_command = [&](const char* name, const char* help) {
    CLI::App* cmd = app.add_subcommand(name, help);
    add_target(cmd);
    cmd->add_option("--timeout-ms", timeout_ms, "how long to wait for hftd's answer and for the effect")
        ->capture_default_str()
        ->check(CLI::Range(1, 600'000));
    return cmd;
  };

  bool json = false;
  constexpr const char* kJsonHelp = "print one JSON document instead of the page (shapes: docs/json-output.md)";
  CLI::App* status = app.add_subcommand("status", "daemon, threads, feed, order entry, risk, positions and P&L");
  add_target(status);
  status->add_flag("--json", json, kJsonHelp);

  CLI::App* positions = app.add_subcommand("positions", "per symbol: position, open buy/sell shares, cash, realized P&L");
  add_target(positions);
  positions->add_flag("--json", json, "print {\"positions\":[{symbol,position,open_buy,open_sell,cash,realized_pnl}]} "
                                       "(cash and P&L in 1/10,000 $)");

  double watch = 0;
  std::uint64_t count = 0;
  CLI::App* stats = app.add_subcommand("stats", "every counter; with --watch, rates per second");
  add_target(stats);
  stats->add_option("--watch,-w", watch, "refresh every SECONDS, showing rates per second")->check(CLI::Range(0.01, 86400.0));
  stats->add_option("--count,-n", count, "with --watch: stop after N refreshes (default: until Ctrl-C)");
  stats->add_flag("--json", json, "print one JSON document (with --watch: one per refresh, JSON Lines; docs/json-output.md)");

  std::string hgrm_dir, plot_path;
  CLI::App* hist = app.add_subcommand("hist", "latency percentiles per hop (µs); .hgrm files and a PNG plot");
  add_target(hist);
  hist->add_option("--hgrm", hgrm_dir, "write each hop as HdrHistogram .hgrm into DIR (values in µs)");
  hist->add_option("--plot", plot_path, "draw the percentile distribution of every hop into FILE.png (gnuplot)");
  hist->add_flag("--json", json, kJsonHelp);

  CLI::App* halt = add_command("halt", "strategies stop sending new orders (working orders stay)");
  CLI::App* resume = add_command("resume", "strategies send again");
  CLI::App* kill = add_command("kill", "kill switch on: block new orders, cancel every working order");
  CLI::App* unkill = add_command("unkill", "kill switch off");
  std::string assignment;
  CLI::App* set = add_command("set", "change a risk limit: set risk.KEY=VALUE (hftd validates it and logs old -> new)");
  set->add_option("ASSIGNMENT", assignment, "risk.KEY=VALUE")->required();
  {
    std::string keys = "Risk keys (pipeline/risk/keys.hpp; `hftctl status` shows the current values):\n";
    for (const hft::risk::RiskKey& k : hft::risk::kRiskKeys)
      if (k.runtime)
        keys += fmt::format("  risk.{:<24} {} {}{}\n", k.name, hft::risk::risk_range_text(k), k.unit.empty() ? "" : std::string(k.unit) + ": ", k.help);
    set->footer(keys + kFooter);
  }
  CLI::App* flatten = add_command("flatten", "halt, cancel every working order and close every position");
  CLI::App* dump = add_command("dump", "hftd writes its latency histograms as .hgrm files");
  hftctl::StrategyCommands strategy_commands;  // algo start|status|cancel, strategy list|start|stop|pause|set
  strategy_commands.add(app, [&](CLI::App* cmd) {
    add_target(cmd);
    cmd->add_option("--timeout-ms", timeout_ms, "how long to wait for hftd's answer")->check(CLI::Range(1, 600'000));
  });

  CLI::App* risk = app.add_subcommand("risk", "risk: status (limits, usage, circuit breaker), events, reset");
  risk->require_subcommand(1);
  add_target(risk);  // `hftctl risk --dir D status` as well as `hftctl risk status --dir D`
  CLI::App* risk_status = risk->add_subcommand("status", "every limit and its usage, the circuit breaker, the day's P&L");
  add_target(risk_status);
  risk_status->add_flag("--json", json, kJsonHelp);
  CLI::App* risk_events = risk->add_subcommand("events", "the last risk events: refusals, breaker trips and resets, limit changes");
  add_target(risk_events);
  risk_events->add_flag("--json", json, kJsonHelp);
  CLI::App* risk_reset = risk->add_subcommand("reset", "close the tripped circuit breaker (the P&L peak starts again)");
  add_target(risk_reset);
  risk_reset->add_option("--timeout-ms", timeout_ms, "how long to wait for hftd's answer and for the effect")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));

  std::string listen;
  bool once = false;
  CLI::App* metrics = app.add_subcommand("metrics", "serve Prometheus metrics over HTTP (GET /metrics)");
  add_target(metrics);
  metrics->add_option("--listen,-l", listen, "HOST:PORT to serve on (e.g. 127.0.0.1:9464)");
  metrics->add_flag("--once", once, "print one exposition to stdout and exit");

  std::string token_file, journal_dir, static_dir = default_dashboard_dir();
  std::optional<std::uint32_t> serve_date;
  std::string serve_listen = "127.0.0.1:8090";
  CLI::App* serve = app.add_subcommand("serve", "REST API, WebSocket event stream and dashboard over HTTP (docs/data.md)");
  add_target(serve);
  serve->add_option("--listen,-l", serve_listen, "HOST:PORT (loopback by default; a warning otherwise)")->capture_default_str();
  serve->add_option("--token-file", token_file, "bearer token for commands and /ws/hft (the file must be mode 0600)")->required();
  serve->add_option("--journal", journal_dir, "hftd's journal directory: orders, fills and risk events for the API and events");
  serve->add_option("--date", serve_date, "the journal's trading date YYYYMMDD (default: today)");
  serve->add_option("--static", static_dir, "the dashboard's files (\"\" serves none)")->capture_default_str();
  hft::data::api::ServerConfig serve_limits;
  serve->add_option("--rate", serve_limits.rate_per_second, "requests per second per client address")->capture_default_str();
  serve->add_option("--burst", serve_limits.burst, "request burst per client address")->capture_default_str();
  serve->add_option("--max-connections", serve_limits.max_connections, "open connections (HTTP and WebSocket)")->capture_default_str();
  serve->add_option("--ws-send-buffer", serve_limits.ws_send_buffer, "SO_SNDBUF of WebSocket connections (0: the kernel's)");
  serve->add_option("--ws-queue-bytes", serve_limits.ws_queue_bytes,
                    "event bytes waiting for one WebSocket client before it is dropped (close 1008)")
      ->capture_default_str();

  // CLI11 2.1 reports a misspelt command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      found = found || sub->get_name() == argv[1];
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      fmt::print(stderr, "hftctl: unknown command \"{}\" (commands: {})\n", argv[1], known);
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (status->parsed()) return run_status(target, json);
    if (stats->parsed()) return run_stats(target, watch, count, json);
    if (positions->parsed()) return run_positions(target, json);
    if (hist->parsed()) return run_hist(target, hgrm_dir, plot_path, json);
    if (halt->parsed()) return run_command(target, CommandOp::kHalt, {}, timeout_ms);
    if (resume->parsed()) return run_command(target, CommandOp::kResume, {}, timeout_ms);
    if (kill->parsed()) return run_command(target, CommandOp::kKill, {}, timeout_ms);
    if (unkill->parsed()) return run_command(target, CommandOp::kUnkill, {}, timeout_ms);
    if (set->parsed()) return run_command(target, CommandOp::kSetRisk, assignment, timeout_ms);
    if (flatten->parsed()) return run_command(target, CommandOp::kFlatten, {}, timeout_ms);
    if (dump->parsed()) return run_command(target, CommandOp::kDumpHistograms, {}, timeout_ms);
    if (metrics->parsed()) return run_metrics(target, listen, once);
    if (risk_status->parsed()) return run_risk_view(target, false, json);
    if (risk_events->parsed()) return run_risk_view(target, true, json);
    if (risk_reset->parsed()) return run_command(target, CommandOp::kRiskReset, {}, timeout_ms);
    if (const auto rc = strategy_commands.run([&] { return attach(target); }, timeout_ms)) return *rc;
    if (serve->parsed()) return run_serve(target, serve_listen, token_file, journal_dir, serve_date, static_dir, serve_limits);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "hftctl: {}\n", hft::core::escape(e.what()));
    return kExitError;
  }
  return kExitUsage;
}
