// hft-itch: NASDAQ TotalView-ITCH 5.0 files from the command line. A thin front end over the
// project's decoder (gateways/itch), BinaryFILE and pcap readers (gateways/files), order books
// (pipeline/book) and day generator (venue/sim):
//
//   hft-itch gen --out day.itch --messages 20000000 --stocks 1000 --seed 7
//   hft-itch stats day.itch
//   hft-itch decode day.itch --format jsonl | head
//   hft-itch decode --pcap capture.pcap
//   hft-itch book day.itch --stock AAPL --depth 5 --until 10:00:00
//   hft-itch bench day.itch --mode book --repeat 5
//   hft-itch features day.itch --symbols AAPL --sample time:1ms --out aapl.csv
//   hft-itch profile day.itch --bins 1m --out profile.csv
#include <charconv>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"

namespace {

using namespace hft::itch_tool;

constexpr const char* kFooter =
    "Inputs are NASDAQ BinaryFILE (uint16 big-endian length + message, repeated), or with --pcap a\n"
    "capture of MoldUDP64 packets carrying ITCH 5.0 (Ethernet/VLAN, Linux cooked or raw IP; pcap or pcapng).\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  I/O error: a file cannot be opened, read or written\n"
    "  2  usage error: bad or missing arguments\n"
    "  3  the input had decoding errors (truncated, wrong-length or unknown messages, broken packets);\n"
    "     the output was still written for everything readable. `stats` reports these counts and\n"
    "     exits 0 unless the file cannot be read.";

// Nanoseconds since midnight from "34200000000000" or "09:30:00[.123456789]".
std::uint64_t parse_time(const std::string& text) {
  auto fail = [&]() -> std::uint64_t {
    throw CLI::ValidationError("--until", "'" + text + "' is neither nanoseconds nor HH:MM:SS[.fraction]");
  };
  auto number = [&](std::string_view s) {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) fail();
    return v;
  };
  if (text.find(':') == std::string::npos) return number(text);
  const std::string_view t = text;
  if (t.size() < 8 || t[2] != ':' || t[5] != ':') fail();
  const std::uint64_t h = number(t.substr(0, 2)), m = number(t.substr(3, 2)), s = number(t.substr(6, 2));
  if (m > 59 || s > 59) fail();
  std::uint64_t ns = ((h * 60 + m) * 60 + s) * 1'000'000'000;
  if (t.size() > 8) {
    if (t[8] != '.' || t.size() > 18 || t.size() == 9) fail();
    std::uint64_t frac = number(t.substr(9));
    for (std::size_t digits = t.size() - 9; digits < 9; ++digits) frac *= 10;
    ns += frac;
  }
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hft-itch: inspect, decode, rebuild books from and benchmark NASDAQ TotalView-ITCH 5.0 files", "hft-itch"};
  app.footer(kFooter);
  app.require_subcommand(1);

  InputSpec in;
  auto add_input = [&](CLI::App* cmd) {
    cmd->add_option("FILE", in.path, "input: a BinaryFILE, or a capture with --pcap")->required();
    cmd->add_flag("--pcap", in.pcap, "FILE is a pcap/pcapng capture of MoldUDP64 packets carrying ITCH 5.0");
  };

  GenOptions gen;
  CLI::App* gen_cmd = app.add_subcommand("gen", "write a synthetic, deterministic trading day as a BinaryFILE");
  gen_cmd->add_option("--out,-o", gen.out, "output file")->required();
  gen_cmd->add_option("--messages,-n", gen.messages, "messages of the whole day, system and directory included")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  gen_cmd->add_option("--stocks,-k", gen.stocks, "stocks (locates 1..K)")->capture_default_str()->check(CLI::Range(1, 65535));
  gen_cmd->add_option("--seed,-s", gen.seed, "random seed: the same seed writes the same bytes")->capture_default_str();
  gen_cmd->add_option("--profile", gen.profile,
                      "realistic (one reference sequence, most orders cancelled within a second with a long tail, "
                      "the whole day's mix: A 45% D 37% U 9.5% E 4.7%; docs/hft-itch.md) or legacy (the first "
                      "generator's day: four reference streams, orders cancelled within microseconds, the 09:30 mix)")
      ->capture_default_str()
      ->check(CLI::IsMember({"realistic", "legacy"}));
  gen_cmd->add_option("--mix", gen.mix,
                      "order flow (default: the profile's): 'realistic' (a whole day's mix), 'snippet' (NASDAQ's "
                      "2019-12-30 09:30 mix, resting orders grow fast) or 'steady' (snippet with deletes balancing adds)")
      ->check(CLI::IsMember({"realistic", "snippet", "steady"}));
  gen_cmd->add_option("--scenario", gen.scenario,
                      "shape of the day's prices: none, trending (drift), mean-reverting (pulled back to the open's "
                      "level), volatile (random walk), flash-crash (fall of --crash-pct at --crash-at, then recovery)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "trending", "mean-reverting", "volatile", "flash-crash"}));
  gen_cmd->add_option("--drift-pct", gen.drift_pct, "trending: drift over the session, %")->capture_default_str();
  gen_cmd->add_option("--volatility-pct", gen.volatility_pct, "mean-reverting/volatile: noise per sqrt(minute), % (0: 0.5 and 1.5)")
      ->capture_default_str();
  gen_cmd->add_option("--crash-at", gen.crash_at, "flash-crash: start, HH:MM[:SS] (Eastern, 09:30-16:00)")
      ->capture_default_str();
  gen_cmd->add_option("--crash-pct", gen.crash_pct, "flash-crash: depth, % of the price")->capture_default_str();
  gen_cmd->add_option("--crash-seconds", gen.crash_seconds, "flash-crash: fall duration, s")->capture_default_str();
  gen_cmd->add_option("--recovery-seconds", gen.recovery_seconds, "flash-crash: recovery duration, s")
      ->capture_default_str();
  gen_cmd->footer(kFooter);

  CLI::App* stats_cmd = app.add_subcommand(
      "stats", "count messages per type (all 23, spec order), bytes, stocks, first/last timestamps and errors");
  add_input(stats_cmd);
  stats_cmd->footer(kFooter);

  DecodeOptions dec;
  CLI::App* decode_cmd = app.add_subcommand("decode", "print every message, one line each");
  add_input(decode_cmd);
  decode_cmd
      ->add_option("--format,-f", dec.format,
                   "jsonl: one JSON object per message, every spec field under its snake_case name (integers, "
                   "prices in 1/10000 $ or 1/10^8 $ for 'V', timestamps in ns since midnight; with --pcap also "
                   "\"session\" and \"sequence\"); text: one readable line, prices in dollars")
      ->capture_default_str()
      ->check(CLI::IsMember({"jsonl", "text"}));
  decode_cmd->footer(kFooter);

  BookOptions book;
  std::string until_text;
  CLI::App* book_cmd = app.add_subcommand("book", "rebuild the order books and print each non-empty one");
  add_input(book_cmd);
  book_cmd->add_option("--stock", book.stock, "only this symbol (e.g. AAPL)");
  book_cmd->add_option("--depth", book.depth, "levels per side (0 = all)")->capture_default_str()->check(CLI::Range(0u, 1u << 24));
  book_cmd->add_option("--until", until_text,
                       "books as of this time: apply the messages with timestamp <= T and stop at the first later one; "
                       "T is ns since midnight or HH:MM:SS[.fraction]");
  book_cmd
      ->add_option("--format,-f", book.format,
                   "text: readable, prices in dollars; json: one line per stock in locate order, "
                   "{\"stock\":..,\"locate\":..,\"bids\":[[price,shares,orders],..],\"asks\":[..]}, best level "
                   "first, prices in 1/10000 $")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  book_cmd->footer(kFooter);

  BenchOptions bench;
  CLI::App* bench_cmd = app.add_subcommand(
      "bench", "load the input into memory, then time decoding (parse) or book building (book) over it");
  add_input(bench_cmd);
  bench_cmd->add_option("--mode,-m", bench.mode, "parse: decode every message and read its fields; book: build every book")
      ->capture_default_str()
      ->check(CLI::IsMember({"parse", "book"}));
  bench_cmd->add_option("--repeat,-r", bench.repeat, "timed passes")->capture_default_str()->check(CLI::Range(1, 1000));
  bench_cmd->add_option("--ref-stride-log2", bench.ref_stride_log2,
                        "book: the order table's [book] ref_stride_log2 (0: references step by 1, 2: by 4); -1: chosen "
                        "from the input's references")
      ->capture_default_str()
      ->check(CLI::Range(-1, 4));
  bench_cmd->footer(kFooter);

  FeaturesOptions feat;
  CLI::App* features_cmd = app.add_subcommand(
      "features", "microstructure features of the books as a table (docs/features.md): CSV or JSON lines");
  add_input(features_cmd);
  features_cmd->add_option("--symbols", feat.symbols, "only these stocks, comma-separated (default: all)");
  features_cmd
      ->add_option("--sample", feat.sample,
                   "event: a row per book-changing message while both sides have a price; time:<n>(ns|us|ms|s): a row "
                   "per stock and interval with activity, at its end; tick:N messages, volume:N shares or dollar:N "
                   "executed dollars per row")
      ->capture_default_str();
  features_cmd->add_option("--set", feat.set, "seed (the 26 of the seed), all, or feature names comma-separated")
      ->capture_default_str();
  features_cmd->add_option("--format,-f", feat.format, "csv: header timestamp,symbol,<features>, empty cell while "
                                                       "warming up; jsonl: one object per row, null while warming up")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "jsonl"}));
  features_cmd->add_option("--out,-o", feat.out, "output file (default stdout)");
  features_cmd->add_option("--param", feat.params, "name=value, repeatable (levels, vol_window, hawkes_beta, frac_d, ...: "
                                                   "docs/features.md)");
  features_cmd->add_flag("--verbose,-v", feat.verbose, "print the message and row counts on stderr");
  features_cmd->add_option("--fit-microprice", feat.fit_microprice,
                           "instead of rows: fit Stoikov's micro-price adjustment table over the input and write it "
                           "here (use with --param stoikov_table=FILE; buckets: stoikov_buckets, stoikov_spreads, tick)");
  features_cmd->add_option("--fit-ofi", feat.fit_ofi,
                           "instead of rows: fit ofi_integrated's level weights (first principal component of the "
                           "multi-level OFI over ofi_fit_interval_ns intervals) and write 'ofi_weights=...' here");
  features_cmd->add_option("--fit-hawkes", feat.fit_hawkes,
                           "instead of rows: fit the Hawkes intensities of buyer- and seller-initiated executions by "
                           "maximum likelihood and write 'hawkes_mu=...' lines and the bivariate fit here");
  features_cmd->add_option("--param-file", feat.param_files,
                           "name=value lines ('#' comments), as written by --fit-ofi and --fit-hawkes; before --param")
      ->check(CLI::ExistingFile);
  features_cmd->footer(kFooter);

  ProfileOptions prof;
  CLI::App* profile_cmd = app.add_subcommand(
      "profile", "intraday volume profile (executed shares by bin of ITCH time) as the CSV the VWAP strategy reads");
  add_input(profile_cmd);
  profile_cmd->add_option("--bins", prof.bins, "bin width: Ns, Nm or Nh (1s to 24h)")->capture_default_str();
  profile_cmd->add_option("--symbol", prof.symbol, "only this stock (default: all)");
  profile_cmd->add_option("--out,-o", prof.out, "output file (default stdout)");
  profile_cmd->add_flag("--verbose,-v", prof.verbose, "print executions, shares and bins on stderr");
  profile_cmd->footer(kFooter);

  TicksOptions ticks;
  CLI::App* ticks_cmd = app.add_subcommand(
      "ticks", "the books' top N levels at each change (or sampled) into hft_market_ticks of SQLite or ClickHouse");
  add_input(ticks_cmd);
  ticks_cmd->add_option("--sqlite", ticks.sqlite, "a SQLite database file (created when absent)");
  ticks_cmd->add_option("--clickhouse", ticks.clickhouse, "a ClickHouse server, http://host:port");
  ticks_cmd->add_option("--levels", ticks.levels, "levels per side, 1 to 10")->capture_default_str();
  ticks_cmd->add_option("--every", ticks.every, "'change': a row at each change of those levels; or an interval of "
                                                "ITCH time (100ms, 1s, 1m): a stock's book at the end of each "
                                                "interval in which it changed")
      ->capture_default_str();
  ticks_cmd->add_option("--instance", ticks.instance, "the rows' instance column")->capture_default_str();
  ticks_cmd->add_option("--date", ticks.date, "the trading date, YYYYMMDD")->required()->check(CLI::Range(19700101, 99991231));
  ticks_cmd->add_option("--batch", ticks.batch, "rows per insert")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  ticks_cmd->footer(kFooter);

  try {
    app.parse(argc, argv);
    if (!until_text.empty()) book.until = parse_time(until_text);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error and a hint, as CLI11 does
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (gen_cmd->parsed()) return run_gen(gen);
    if (stats_cmd->parsed()) return run_stats(in);
    if (decode_cmd->parsed()) return run_decode(in, dec);
    if (book_cmd->parsed()) return run_book(in, book);
    if (bench_cmd->parsed()) return run_bench(in, bench);
    if (features_cmd->parsed()) return run_features(in, feat);
    if (profile_cmd->parsed()) return run_profile(in, prof);
    if (ticks_cmd->parsed()) return run_ticks(in, ticks);
  } catch (const ToolError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "hft-itch: {}\n", e.what());
    return e.code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "hft-itch: {}\n", e.what());
    return kExitIo;
  }
  return kExitUsage;
}
