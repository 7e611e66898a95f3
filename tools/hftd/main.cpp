// hftd: the trading appliance. `hftd --config FILE` runs the five-stage pipeline until SIGINT or
// SIGTERM (or --duration); `hftd --check-host` reports what a tuned host needs.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include <systemd/sd-daemon.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/topology.hpp"
#include "core/version.hpp"
#include "pipeline/app/appliance.hpp"
#include "pipeline/app/config.hpp"
#include "pipeline/app/host_check.hpp"
#include "pipeline/app/state_dir.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_dump = 0;
void on_signal(int) { g_stop = 1; }
void on_usr1(int) { g_dump = 1; }

// Logs a multi-line text one line at a time.
void log_lines(const std::string& text) {
  for (std::size_t pos = 0, nl; pos < text.size(); pos = nl + 1) {
    nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) hft::core::log::info("{}", text.substr(pos, nl - pos));
  }
}

int check_host(const std::string& config_path) {
  hft::app::HostCheckInput in;
  if (!config_path.empty()) {
    const auto c = hft::app::load_hftd_config(config_path);
    in.arena_bytes = c.runtime.memory.bytes;
    for (const auto& t : c.runtime.threads)
      if (t.cpu >= 0) in.pinned_cpus.push_back(t.cpu);
  }
  const auto checks = hft::app::check_host(in);
  std::fputs(hft::app::format_host_checks(checks).c_str(), stdout);
  return hft::app::any_failed(checks) ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hftd: low-latency NASDAQ trading appliance (ITCH 5.0 over MoldUDP64 in, OUCH 5.0 over SoupBinTCP out)"};
  std::string config_path;
  bool host = false;
  double duration = 0;
  std::string summary_path;
  std::string book_dump_path;
  app.add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  app.add_flag("--check-host", host, "report pass/warn/fail for what a tuned host needs, then exit (1 if any fails)");
  app.add_option("--duration", duration, "stop after this many seconds (default: run until SIGINT/SIGTERM)")->check(CLI::NonNegativeNumber);
  app.add_option("--summary", summary_path, "at exit, also write the summary as key=value lines to FILE");
  app.add_option("--book-dump", book_dump_path,
                 "at exit, write the final books to FILE as `hft-exchange --book-dump` does (compare them)");
  app.set_version_flag("--version", std::string("hftd ") + hft::kVersion);
  CLI11_PARSE(app, argc, argv);

  try {
    if (host) return check_host(config_path);
    if (config_path.empty()) {
      std::fprintf(stderr, "hftd: --config FILE is required (or --check-host)\n");
      return 2;
    }
    const hft::app::HftdConfig config = hft::app::load_hftd_config(config_path);
    // Before any thread exists: the unpinned ones (logging, control, journal flusher, metrics)
    // inherit the housekeeping CPUs and never preempt a pinned pipeline thread.
    std::vector<int> pinned;
    for (const auto& t : config.runtime.threads)
      if (t.cpu >= 0) pinned.push_back(t.cpu);
    const auto housekeeping = hft::core::keep_current_thread_off(pinned);
    hft::core::init_logging(config.runtime.log);
    hft::core::log::info("{}", housekeeping.message);
    hft::core::log::info("hftd instance '{}' starting with {}", config.instance, config.file);
    if (const auto note = hft::app::ensure_state_subdir(config.histogram_dir, "stats.histogram_dir", config.file);
        !note.empty())
      hft::core::log::info("{}", note);

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGUSR1, on_usr1);  // dump the latency histograms as .hgrm now
    hft::app::Appliance appliance(config);
    log_lines(appliance.describe());
    appliance.start();
    const auto started = std::chrono::steady_clock::now();
    // systemd (Type=notify): READY=1 once orders can flow; the watchdog is fed from this thread,
    // never from a pipeline thread.
    std::uint64_t watchdog_us = 0;
    const bool watchdog = ::sd_watchdog_enabled(0, &watchdog_us) > 0;
    auto last_ping = started;
    bool announced = false;
    while (g_stop == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      appliance.control_tick();  // this thread is the control thread: heartbeat, threads, hftctl commands
      if (g_dump != 0) {
        g_dump = 0;
        for (const auto& f : appliance.dump_histograms()) hft::core::log::info("SIGUSR1: wrote {}", f);
      }
      const auto now = std::chrono::steady_clock::now();
      if (!announced && appliance.ready()) {
        announced = true;
        hft::core::log::info("order entry ready: trading");
        ::sd_notify(0, "READY=1\nSTATUS=trading");
      }
      if (watchdog && now - last_ping >= std::chrono::microseconds(watchdog_us / 2)) {
        ::sd_notify(0, "WATCHDOG=1");
        last_ping = now;
      }
      if (duration > 0 && now - started >= std::chrono::duration<double>(duration)) break;
    }
    ::sd_notify(0, "STOPPING=1\nSTATUS=cancelling working orders");
    hft::core::log::info("stopping: cancelling working orders");
    const hft::app::Summary summary = appliance.stop();
    log_lines(summary.text());
    if (!summary_path.empty()) {
      std::FILE* f = std::fopen(summary_path.c_str(), "w");
      if (f == nullptr) {
        std::fprintf(stderr, "hftd: cannot write %s\n", summary_path.c_str());
        return 1;
      }
      std::fputs(summary.key_values().c_str(), f);
      std::fclose(f);
    }
    if (!book_dump_path.empty()) {
      std::ofstream f(book_dump_path, std::ios::binary | std::ios::trunc);
      f << appliance.books_json();
      f.close();
      if (!f) {
        std::fprintf(stderr, "hftd: cannot write %s\n", book_dump_path.c_str());
        return 1;
      }
      hft::core::log::info("book dump {}", book_dump_path);
    }
    return 0;
  } catch (const hft::core::ConfigError& e) {
    std::fprintf(stderr, "hftd: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hftd: %s\n", e.what());
    return 1;
  }
}
