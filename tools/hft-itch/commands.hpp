#pragma once
// The hft-itch subcommands. Each returns the process exit code (common.hpp) or throws ToolError.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"

namespace hft::itch_tool {

struct GenOptions {
  std::string out;
  std::uint64_t messages = 1'000'000;
  std::uint32_t stocks = 100;
  std::uint64_t seed = 1;
  std::string profile = "realistic";  // realistic | legacy (sim::Profile)
  std::string mix;  // realistic | snippet | steady; empty: the profile's (realistic: realistic, legacy: snippet)
  std::string scenario = "none";  // none | trending | mean-reverting | volatile | flash-crash
  double drift_pct = 5.0;
  double volatility_pct = 0;  // 0: the scenario's default
  std::string crash_at = "13:00:00";  // HH:MM[:SS] Eastern
  double crash_pct = 10.0;
  double crash_seconds = 5.0;
  double recovery_seconds = 60.0;
};
int run_gen(const GenOptions& o);

int run_stats(const InputSpec& in);

struct DecodeOptions {
  std::string format = "jsonl";  // jsonl | text
};
int run_decode(const InputSpec& in, const DecodeOptions& o);

struct BookOptions {
  std::optional<std::string> stock;
  std::uint32_t depth = 0;  // 0 = all levels
  std::optional<std::uint64_t> until;
  std::string format = "text";  // text | json
};
int run_book(const InputSpec& in, const BookOptions& o);

struct BenchOptions {
  std::string mode = "parse";  // parse | book
  std::uint32_t repeat = 3;
  int ref_stride_log2 = -1;  // book: [book] ref_stride_log2; -1 = from the input's references
};
int run_bench(const InputSpec& in, const BenchOptions& o);

struct FeaturesOptions {
  std::string symbols;            // comma-separated; empty = every stock
  std::string sample = "event";   // event | time:1ms | tick:N | volume:N | dollar:N
  std::string set = "seed";       // seed | all | name,name,...
  std::string format = "csv";     // csv | jsonl
  std::string out;                // empty or "-" = stdout
  std::vector<std::string> params;  // name=value
  bool verbose = false;
  std::string fit_microprice;  // non-empty: fit Stoikov's table and write it here (no rows)
  std::string fit_ofi;         // non-empty: fit ofi_integrated's weights and write them here
  std::string fit_hawkes;      // non-empty: fit the Hawkes parameters and write them here
  std::vector<std::string> param_files;  // name=value lines, applied before `params`
};
int run_features(const InputSpec& in, const FeaturesOptions& o);

struct ProfileOptions {
  std::string bins = "1m";  // Ns | Nm | Nh
  std::string symbol;       // empty = every stock
  std::string out;          // empty or "-" = stdout
  bool verbose = false;
};
int run_profile(const InputSpec& in, const ProfileOptions& o);

// hft-itch ticks: the day's books into hft_market_ticks (ticks.cpp).
struct TicksOptions {
  std::string sqlite;      // a SQLite file, or
  std::string clickhouse;  // http://host:port of a ClickHouse server
  std::uint32_t levels = 5;
  std::string every = "change";  // change | an interval: 100ms, 1s, 1m
  std::string instance = "itch";
  std::uint32_t date = 0;  // YYYYMMDD
  std::size_t batch = 5000;
};
int run_ticks(const InputSpec& in, const TicksOptions& o);

}  // namespace hft::itch_tool
