#pragma once
// hftd assembled: every stage, ring, table and thread of the five-stage pipeline, built from a
// validated HftdConfig. The backend (io_uring or epoll) is a template parameter of the pipeline,
// chosen once here from the configuration and the kernel's probed features.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/app/config.hpp"

namespace hft::app {

// What hftd reports at exit (and `hftctl` later reads live).
struct Summary {
  std::string backend;
  std::string arena;
  std::uint64_t feed_packets = 0, feed_messages = 0, gaps = 0, recovered = 0, lost = 0, requests = 0;
  std::uint64_t book_messages = 0, book_events = 0;
  std::uint64_t snapshot_recoveries = 0;  // books rebuilt from a GLIMPSE snapshot
  std::string books_json;                 // the final books, as `hft-itch book --format json` / hft-exchange --book-dump
  std::uint64_t orders_sent = 0, cancels_sent = 0, replaces_sent = 0, accepted = 0, fills = 0, filled_shares = 0;
  std::uint64_t venue_rejects = 0, canceled = 0, risk_rejects = 0;
  // Shares of different symbols do not add up: one entry per symbol with a position or cash
  // (fills), and gross (sum of |shares|) and net (signed sum) for scripts that want one number.
  struct SymbolPosition {
    std::string symbol;
    std::int64_t shares = 0;  // signed: + long, - short
    double cash_usd = 0;      // sum of -signed fill notional
  };
  std::vector<SymbolPosition> positions;
  std::int64_t gross_position = 0, net_position = 0;
  double pnl_usd = 0;            // marked at the reference prices
  struct Hop {
    std::string name;
    std::uint64_t count = 0, p50 = 0, p99 = 0, p999 = 0, max = 0;  // ns
  };
  std::vector<Hop> hops;
  std::vector<std::string> files;  // .hgrm written
  // Issue 14, several venues only: each venue's feed, its top of book per instrument, and the
  // consolidated touch (venue "NBBO": best bid and ask over the venues whose feed is fresh).
  struct VenueFeed {
    std::string venue;
    std::uint64_t feed_messages = 0, gaps = 0, book_messages = 0;
    std::uint64_t next_sequence = 0;  // the MoldUDP64 sequence expected next
    bool stale = false;
  };
  std::vector<VenueFeed> venues;
  struct Top {
    std::string venue;  // a venue's name, or "NBBO"
    std::string symbol;
    std::uint16_t instrument = 0;
    std::uint32_t bid = 0;  // 1/10,000 $; 0 = empty side
    std::uint64_t bid_shares = 0;  // 0 for the NBBO rows
    std::uint32_t ask = 0;
    std::uint64_t ask_shares = 0;
  };
  std::vector<Top> tops;
  // Each cross_venue_arb strategy's counters (issue 14).
  struct Arb {
    std::string strategy;
    std::uint64_t seen = 0, taken = 0, both_filled = 0, one_leg = 0, none_filled = 0, hedges = 0, unwinds = 0,
                  refused = 0, retries = 0, left_open = 0;
  };
  std::vector<Arb> arbs;
  [[nodiscard]] std::string text() const;
  // key=value lines (scripts read this: tools/demo.sh): position.<SYMBOL>=<shares> per symbol,
  // gross_position= and net_position=.
  [[nodiscard]] std::string key_values() const;
};

class Appliance {
 public:
  // Builds everything; throws std::runtime_error (or core::ConfigError) with a clear message.
  explicit Appliance(const HftdConfig& config);
  ~Appliance();
  Appliance(const Appliance&) = delete;
  Appliance& operator=(const Appliance&) = delete;

  // Connects to the venue (a clear error when it is unreachable) and starts the threads.
  void start();
  // Halts strategies, cancels working orders and waits (bounded) for the venue's answers, logs
  // out, stops the threads, writes the histograms. Idempotent.
  Summary stop();

  // Operator controls, safe from any thread.
  void halt(bool on) noexcept;
  void kill_switch(bool on) noexcept;
  // The control plane's periodic work, from hftd's main (control) thread, never a pipeline
  // thread: heartbeat, thread table, and the commands hftctl left in the control file.
  void control_tick();
  // Writes every latency histogram as .hgrm into [stats] histogram_dir; returns the files.
  std::vector<std::string> dump_histograms();
  // After stop(): the final books in the canonical JSON of `hft-itch book --format json` and
  // `hft-exchange --book-dump` (one line per stock); empty before stop().
  [[nodiscard]] std::string books_json() const;
  [[nodiscard]] std::string control_path() const;
  // Kernel thread ids of the pipeline's runner threads (tests count their allocations).
  [[nodiscard]] std::vector<int> thread_ids() const;
  // True once the order-entry session is logged in and ready for orders.
  [[nodiscard]] bool ready() const noexcept;
  [[nodiscard]] std::string describe() const;  // backend, features, arena, threads: for the start-up log

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hft::app
