// hft-exchange: a NASDAQ-like venue on loopback. ITCH 5.0 over MoldUDP64 (with a re-request
// server), OUCH 5.0 over SoupBinTCP, a price-time matching engine, seeded background traders and
// a wire-to-wire latency probe. The venue itself is venue/venue.hpp; this file reads
// the configuration, applies the command-line overrides, and runs it until the duration ends or
// SIGINT/SIGTERM arrives (a second signal cuts the end-of-day tail short).
//
//   hft-exchange --duration 10
//   hft-exchange --config venue.toml --feed 239.1.1.1:31001 --user ALICE:pw --rate 50000
//                --capture day.itch --book-dump books.json --latency-probe probe.hgrm   (one line)
//   hft-exchange --duration 5 --json     (the summary as JSON on stdout; the log stays on stderr)
//   hft-exchange --lead-listen 127.0.0.1:31010 ...                       (a leader, docs/venue.md)
//   hft-exchange --venue BX --feed 127.0.0.1:31101 --rerequest 127.0.0.1:31102 --ouch 127.0.0.1:31103
//                --follow 127.0.0.1:31010 --lag-ms 50 --follow-noise-bps 2        (its follower; one line)
//
// Exit status: 0 after a clean run, 1 when an output file could not be written or the venue
// failed, 2 for a bad configuration or bad flags.
#include <atomic>
#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "venue/config.hpp"
#include "venue/summary_json.hpp"
#include "venue/venue.hpp"

namespace {

std::atomic<hft::venue::Venue*> g_venue{nullptr};
static_assert(std::atomic<hft::venue::Venue*>::is_always_lock_free, "read from a signal handler");

extern "C" void on_signal(int) {
  if (hft::venue::Venue* v = g_venue.load(); v != nullptr) v->stop();
}

// Points the signal handler at a venue for exactly its lifetime.
struct SignalTarget {
  explicit SignalTarget(hft::venue::Venue& v) { g_venue.store(&v); }
  ~SignalTarget() { g_venue.store(nullptr); }
  SignalTarget(const SignalTarget&) = delete;
  SignalTarget& operator=(const SignalTarget&) = delete;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = text.find(sep, start);
    out.push_back(text.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

struct Flags {
  std::string config;
  std::optional<std::string> feed, rerequest, ouch, glimpse;
  std::vector<std::string> users;
  std::optional<std::uint32_t> stocks;
  std::optional<std::string> symbols;
  std::optional<double> rate;
  std::optional<std::uint64_t> seed;
  std::optional<double> duration;
  std::optional<double> open_delay;
  std::optional<std::uint32_t> drop_every;
  std::optional<std::string> capture, book_dump, probe;
  std::optional<std::string> executions;
  std::optional<std::uint32_t> probe_interval_ms, probe_timeout_ms;
  std::optional<std::string> log_level;
  bool json = false;
  // Issue 14
  std::optional<std::string> venue, mpid, lead_listen, follow;
  std::optional<double> fee_add, fee_remove, follow_noise_bps;
  std::optional<std::uint32_t> lag_ms;
};

// Command-line values override the file's; each is checked as the file's would be.
void apply(const Flags& f, hft::venue::VenueConfig& c) {
  using hft::net::parse_endpoint;
  if (f.seed) c.seed = *f.seed;
  if (f.feed) c.feed = parse_endpoint(*f.feed);
  if (f.rerequest) c.rerequest = parse_endpoint(*f.rerequest);
  if (f.ouch) c.ouch = parse_endpoint(*f.ouch);
  if (f.glimpse) c.glimpse = parse_endpoint(*f.glimpse);
  if (!f.users.empty()) {
    c.accounts.clear();
    for (const std::string& u : f.users) {
      hft::venue::Account a = hft::venue::parse_account(u);
      for (const auto& other : c.accounts)
        if (other.username == a.username) throw std::invalid_argument("--user " + a.username + " is given twice");
      c.accounts.push_back(std::move(a));
    }
  }
  if (f.stocks) c.symbols = hft::venue::generate_symbols(*f.stocks, 1);
  if (f.symbols) c.symbols = hft::venue::symbols_from_list(split(*f.symbols, ','), 1);
  if (f.rate) c.background.rate = *f.rate;
  if (f.duration) c.duration_ns = static_cast<std::uint64_t>(*f.duration * 1e9);
  if (f.open_delay) c.open_delay_ns = static_cast<std::uint64_t>(*f.open_delay * 1e9);
  if (f.drop_every) c.drop_every = *f.drop_every;
  if (f.capture) c.capture = *f.capture;
  if (f.book_dump) c.book_dump = *f.book_dump;
  if (f.executions) c.executions = *f.executions;
  if (f.probe) c.probe.histogram = *f.probe;
  if (f.probe_interval_ms) c.probe.interval_ns = std::uint64_t{*f.probe_interval_ms} * 1'000'000;
  if (f.probe_timeout_ms) c.probe.timeout_ns = std::uint64_t{*f.probe_timeout_ms} * 1'000'000;
  if (f.venue) c.venue = *f.venue;
  if (f.mpid) c.mpid = *f.mpid;
  if (f.fee_add) c.fee_add = *f.fee_add;
  if (f.fee_remove) c.fee_remove = *f.fee_remove;
  if (f.lead_listen) c.lead.listen = parse_endpoint(*f.lead_listen);
  if (f.follow) c.follow.leader = parse_endpoint(*f.follow);
  if (f.lag_ms) c.follow.lag_ns = std::uint64_t{*f.lag_ms} * 1'000'000;
  if (f.follow_noise_bps) c.follow.noise_bps = *f.follow_noise_bps;
  if ((f.lag_ms || f.follow_noise_bps) && !c.follow.leader)
    throw std::invalid_argument("--lag-ms and --follow-noise-bps need --follow HOST:PORT");
  if (f.log_level && !hft::core::parse_log_level(*f.log_level, c.log.level))
    throw std::invalid_argument("--log-level must be debug, info, warn or error");
  c.engine.max_symbols = static_cast<std::uint32_t>(c.symbols.size() + 2);
  c.validate();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hft-exchange: a NASDAQ-like venue on loopback (ITCH 5.0/MoldUDP64, OUCH 5.0/SoupBinTCP)"};
  Flags f;
  app.add_option("--config", f.config, "TOML configuration file (tools/hft-exchange/example.toml)");
  app.add_option("--feed", f.feed, "ITCH feed destination HOST:PORT, unicast or multicast (default 127.0.0.1:31001)");
  app.add_option("--rerequest", f.rerequest, "MoldUDP64 re-request server listen address (default 127.0.0.1:31002)");
  app.add_option("--ouch", f.ouch, "SoupBinTCP/OUCH listen address (default 127.0.0.1:31003)");
  app.add_option("--glimpse", f.glimpse, "serve GLIMPSE 5.0 snapshots (SoupBinTCP) on HOST:PORT (default: none)");
  app.add_option("--user", f.users, "order-entry account NAME:PASSWORD[:FIRM] (repeatable; replaces the file's)");
  auto* stocks = app.add_option("--stocks", f.stocks, "trade N generated symbols")->check(CLI::Range(1, 60000));
  auto* symbols = app.add_option("--symbols", f.symbols, "trade these symbols: A,B,...");
  stocks->excludes(symbols);
  app.add_option("--rate", f.rate, "background flow, ITCH messages per second (0 = none)")->check(CLI::Range(0.0, 1e8));
  app.add_option("--seed", f.seed, "seed of the background flow");
  app.add_option("--duration", f.duration, "seconds to run; 0 = until SIGINT/SIGTERM")->check(CLI::Range(0.0, 604800.0));
  app.add_option("--open-delay", f.open_delay, "seconds of logins before the start of day (the feed starts then)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--drop-every", f.drop_every,
                 "keep every Nth message packet off the wire (a lossy link; receivers recover it by re-request)")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--capture", f.capture, "write every ITCH message published to FILE (BinaryFILE)");
  app.add_option("--book-dump", f.book_dump, "write the final books to FILE, as `hft-itch book --format json`");
  app.add_option("--executions", f.executions,
                 "append one JSON line per execution reported to a user to FILE (docs/venue.md)");
  app.add_option("--latency-probe", f.probe, "run the latency probe and write its histogram to FILE.hgrm");
  app.add_option("--probe-interval-ms", f.probe_interval_ms, "time between probes (default 5)")->check(CLI::Range(1, 60000));
  app.add_option("--probe-timeout-ms", f.probe_timeout_ms, "probe answer timeout (default 200)")->check(CLI::Range(1, 60000));
  app.add_option("--log-level", f.log_level, "debug, info, warn or error");
  app.add_option("--venue", f.venue, "the venue's name, 1-8 characters A-Z 0-9 _ (default NASDAQ)");
  app.add_option("--mpid", f.mpid, "the venue's MPID, 4 characters (default NSDQ for NASDAQ, else the name's first 4)");
  app.add_option("--fee-add", f.fee_add, "dollars per share on client fills that add liquidity (negative = rebate)")
      ->check(CLI::Range(-1.0, 1.0));
  app.add_option("--fee-remove", f.fee_remove, "dollars per share on client fills that remove liquidity")
      ->check(CLI::Range(-1.0, 1.0));
  app.add_option("--lead-listen", f.lead_listen, "publish the fair values to followers on HOST:PORT (docs/venue.md)");
  app.add_option("--follow", f.follow, "follow the fair values of the venue whose lead channel is HOST:PORT");
  app.add_option("--lag-ms", f.lag_ms, "apply the leader's values this many ms after they arrive (default 0)")
      ->check(CLI::Range(0, 60000));
  app.add_option("--follow-noise-bps", f.follow_noise_bps, "noise on the followed values, +- bps (default 0)")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_flag("--json", f.json, "at the end, print the summary to stdout as one JSON document (docs/json-output.md)");
  app.set_version_flag("--version", std::string("hft-exchange ") + hft::kVersion);
  CLI11_PARSE(app, argc, argv);

  hft::venue::VenueConfig config;
  try {
    if (!f.config.empty()) config = hft::venue::load_venue_config(f.config);
    apply(f, config);
  } catch (const hft::core::ConfigError& e) {
    std::fprintf(stderr, "hft-exchange: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hft-exchange: %s\n", e.what());
    return 2;
  }

  try {
    hft::core::init_logging(config.log);
    hft::venue::Venue venue(config);
    const SignalTarget target(venue);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    // systemd (Type=notify): READY=1 once the sockets are up and the day is scheduled; the
    // watchdog is fed between loop passes (each waits at most 100 ms for I/O or a timer).
    venue.start();
    ::sd_notify(0, "READY=1\nSTATUS=serving");
    std::uint64_t watchdog_usec = 0;
    const bool watchdog = ::sd_watchdog_enabled(0, &watchdog_usec) > 0;
    std::uint64_t last_feed = hft::core::monotonic_ns();
    while (venue.step(100'000'000)) {
      if (watchdog && hft::core::monotonic_ns() - last_feed >= watchdog_usec * 1000 / 4) {
        ::sd_notify(0, "WATCHDOG=1");
        last_feed = hft::core::monotonic_ns();
      }
    }
    ::sd_notify(0, "STOPPING=1\nSTATUS=end of day");
    venue.finish();
    const hft::venue::VenueSummary summary = venue.summary();
    if (f.json) {
      std::fputs(hft::venue::summary_json(summary).c_str(), stdout);
      std::fflush(stdout);
    }
    return summary.outputs_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hft-exchange: %s\n", e.what());
    return 1;
  }
}
