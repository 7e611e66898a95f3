// hft-journal: the write-ahead journal (pipeline/journal) from the command line.
//
//   hft-journal dump /var/lib/hftd/journal/hftd-a-20240607-*.hjl          # one line per record
//   hft-journal dump --json FILE...                                         # one JSON object per line
//   hft-journal verify FILE... [--date 20240607] [--instance hftd-a] [--truncate]
//   hft-journal load FILE... --sqlite hft.db | --clickhouse http://127.0.0.1:8123    # into tables (docs/data.md)
//   hft-journal follow --dir /var/lib/hft/journal --instance hftd-a [--date D] --sqlite hft.db
//
// Exit status: 0 clean; 1 I/O error; 2 usage; 3 the journal has a problem (verify: any, including
// a torn tail not truncated; dump: an error, a torn tail is only reported).
#include <csignal>
#include <cstdio>
#include <ctime>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "data/journal_loader.hpp"
#include "data/sink.hpp"
#include "gateways/ouch/codec.hpp"
#include "pipeline/events.hpp"
#include "pipeline/journal/reader.hpp"

namespace {

using namespace hft;
using namespace hft::journal;

constexpr int kExitOk = 0, kExitIo = 1, kExitUsage = 2, kExitBad = 3;

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string s;
  for (const auto b : bytes) s += fmt::format("{:02x}", b);
  return s;
}

std::string_view trim(const char* p, std::size_t n) {
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0')) --n;
  return {p, n};
}

// Fields of one record as (key, JSON literal) pairs; the text form prints them as key=value.
using Fields = std::vector<std::pair<std::string, std::string>>;

void add(Fields& f, std::string key, std::uint64_t v) { f.emplace_back(std::move(key), std::to_string(v)); }
void add_signed(Fields& f, std::string key, std::int64_t v) { f.emplace_back(std::move(key), std::to_string(v)); }
void add_text(Fields& f, std::string key, std::string_view v) { f.emplace_back(std::move(key), json_string(v)); }
void add_char(Fields& f, std::string key, char c) { add_text(f, std::move(key), std::string_view(&c, 1)); }

void intent_fields(Fields& f, const IntentPayload& p) {
  static constexpr const char* kTypes[] = {"new", "cancel", "replace", "cancel_all"};
  add_text(f, "intent", p.intent_type < 4 ? kTypes[p.intent_type] : "?");
  add(f, "strategy", p.strategy);
  add(f, "order_id", p.order_id);
  add_text(f, "symbol", trim(p.symbol, sizeof p.symbol));
  add(f, "locate", p.locate);
  add_text(f, "side", p.side == 0 ? "B" : "S");
  add_signed(f, "price", p.price);
  add(f, "quantity", p.quantity);
  add(f, "user_ref_num", p.user_ref_num);
  if (p.orig_user_ref_num != 0) add(f, "orig_user_ref_num", p.orig_user_ref_num);
  add_text(f, "tif", p.tif == 0 ? "day" : "ioc");
  if (p.post_only != 0) add(f, "post_only", 1);
  if (p.venue != 0) add(f, "venue", p.venue);  // issue 14 (0, the first venue, is left out)
  add(f, "origin_tsc", p.origin_tsc);
}

// Decoded OUCH fields for the messages the order manager acts on; others by type only.
struct OuchFields {
  Fields& f;
  void on_message(const ouch::EnterOrder& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add_char(f, "side", static_cast<char>(m.side));
    add(f, "quantity", m.quantity);
    add_text(f, "symbol", m.symbol.view());
    add(f, "price", m.price);
  }
  void on_message(const ouch::ReplaceOrder& m) {
    add(f, "orig_user_ref_num", m.orig_user_ref_num);
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "quantity", m.quantity);
    add(f, "price", m.price);
  }
  void on_message(const ouch::CancelOrder& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "quantity", m.quantity);
  }
  void on_message(const ouch::OrderAccepted& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add_char(f, "side", static_cast<char>(m.side));
    add(f, "quantity", m.quantity);
    add_text(f, "symbol", m.symbol.view());
    add(f, "price", m.price);
    add(f, "order_reference_number", m.order_reference_number);
  }
  void on_message(const ouch::OrderReplaced& m) {
    add(f, "orig_user_ref_num", m.orig_user_ref_num);
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "quantity", m.quantity);
    add(f, "price", m.price);
  }
  void on_message(const ouch::OrderCanceled& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "quantity", m.quantity);
    add_char(f, "reason", static_cast<char>(m.reason));
  }
  void on_message(const ouch::OrderExecuted& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "quantity", m.quantity);
    add(f, "price", m.price);
    add(f, "match_number", m.match_number);
  }
  void on_message(const ouch::BrokenTrade& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "match_number", m.match_number);
  }
  void on_message(const ouch::OrderRejected& m) {
    add(f, "user_ref_num", m.user_ref_num);
    add(f, "reason", static_cast<std::uint16_t>(m.reason));
  }
  void on_message(const ouch::AccountQueryResponse& m) { add(f, "next_user_ref_num", m.next_user_ref_num); }
  template <class T>
  void on_message(const T& m) {
    if constexpr (requires { m.user_ref_num; }) add(f, "user_ref_num", m.user_ref_num);
  }
};

Fields fields_of(const Record& r) {
  Fields f;
  add(f, "seq", r.header.sequence);
  add(f, "ts", r.header.timestamp_ns);
  add_text(f, "type", to_string(r.header.type));
  switch (r.header.type) {
    case RecordType::kIntent: {
      IntentPayload p{};
      if (r.get(p)) intent_fields(f, p);
      break;
    }
    case RecordType::kRiskRefusal: {
      RefusalPayload p{};
      if (r.get(p)) {
        add(f, "reason", p.reason);
        intent_fields(f, p.intent);
      }
      break;
    }
    case RecordType::kOuchSent:
    case RecordType::kOuchReceived: {
      BlobPayload head{};
      std::span<const std::uint8_t> bytes;
      if (!r.blob(head, bytes)) break;
      if (head.venue != 0) add(f, "venue", head.venue);
      if (r.header.type == RecordType::kOuchReceived) {
        add(f, "soup_seq", head.soup_sequence);
        add(f, "sequenced", head.sequenced);
      }
      if (!bytes.empty()) add_char(f, "msg", static_cast<char>(bytes[0]));
      OuchFields of{f};
      const ouch::DecodeError e = r.header.type == RecordType::kOuchSent
                                      ? ouch::decode_inbound(bytes.data(), bytes.size(), of)
                                      : ouch::decode_outbound(bytes.data(), bytes.size(), of);
      if (e != ouch::DecodeError::kOk) add_text(f, "decode_error", ouch::to_string(e));
      add_text(f, "hex", hex(bytes));
      break;
    }
    case RecordType::kCommand: {
      BlobPayload head{};
      std::span<const std::uint8_t> bytes;
      if (r.blob(head, bytes)) add_text(f, "text", {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
      break;
    }
    case RecordType::kSessionState: {
      SessionStatePayload p{};
      if (r.get(p)) {
        add(f, "next_soup_sequence", p.next_soup_sequence);
        add(f, "next_user_ref_num", p.next_user_ref_num);
        add(f, "flags", p.flags);
        add_text(f, "session", trim(p.session, sizeof p.session));
        if (p.venue != 0) add(f, "venue", p.venue);
      }
      break;
    }
    case RecordType::kWriterOpened: {
      WriterOpenedPayload p{};
      if (r.get(p)) {
        add(f, "pid", p.pid);
        add(f, "segment", p.segment_index);
        add(f, "truncated_bytes", p.truncated_bytes);
      }
      break;
    }
  }
  return f;
}

void print(const Fields& f, bool json) {
  std::string line;
  if (json) {
    line = "{";
    for (std::size_t i = 0; i < f.size(); ++i) line += fmt::format("{}\"{}\":{}", i ? "," : "", f[i].first, f[i].second);
    line += "}\n";
  } else {
    for (std::size_t i = 0; i < f.size(); ++i) line += fmt::format("{}{}={}", i ? " " : "", f[i].first, f[i].second);
    line += '\n';
  }
  std::fwrite(line.data(), 1, line.size(), stdout);
}

int exit_for(const Issue& issue) { return issue.problem == Problem::kIo ? kExitIo : kExitBad; }

int dump(const std::vector<std::string>& files, bool json) {
  JournalReader reader = JournalReader::open(files);
  Record r;
  while (reader.next(r)) print(fields_of(r), json);
  std::fflush(stdout);
  const Issue& issue = reader.issue();
  if (issue.ok()) return kExitOk;
  fmt::print(stderr, "hft-journal: {}\n", issue.message());
  return issue.problem == Problem::kTornTail ? kExitOk : exit_for(issue);
}

int verify(const std::vector<std::string>& files, std::optional<std::uint32_t> date, std::optional<std::string> instance,
           bool truncate) {
  Expect e;
  e.trading_date = date;
  e.instance = std::move(instance);
  JournalReader reader = JournalReader::open(files, e);
  Record r;
  std::map<std::string_view, std::uint64_t> by_type;
  std::uint64_t first = 0;
  while (reader.next(r)) {
    if (first == 0) first = r.header.sequence;
    ++by_type[to_string(r.header.type)];
  }
  const Issue& issue = reader.issue();
  std::string types;
  for (const auto& [t, n] : by_type) types += fmt::format(" {}={}", t, n);
  fmt::print("{} segments, {} records, sequence {}..{}{}\n", reader.segments().size(), reader.records(), first,
             reader.last_sequence(), types);
  if (issue.ok()) {
    fmt::print("ok\n");
    return kExitOk;
  }
  fmt::print(stderr, "hft-journal: {}\n", issue.message());
  if (issue.problem == Problem::kTornTail && truncate) {
    std::string error;
    if (!reader.truncate_tail(error)) {
      fmt::print(stderr, "hft-journal: truncation failed: {}\n", error);
      return kExitIo;
    }
    fmt::print("truncated {} bytes after sequence {} (the last good record)\n", reader.torn_bytes(), reader.last_sequence());
    return kExitOk;
  }
  if (issue.problem == Problem::kTornTail) fmt::print(stderr, "hft-journal: run with --truncate to cut it off\n");
  return exit_for(issue);
}

struct Target {
  std::string sqlite, clickhouse;
};

std::unique_ptr<data::Sink> open_sink(const Target& t) {
  auto sink = t.clickhouse.empty() ? data::open_sqlite(t.sqlite) : data::open_clickhouse(t.clickhouse);
  sink->create_schema();
  return sink;
}

void print_stats(const data::LoadStats& s, double seconds, std::string_view kind) {
  std::string per;
  for (std::size_t t = 0; t < data::kTableCount; ++t)
    if (s.rows[t] != 0) per += fmt::format(" {}={}", data::table(static_cast<data::TableId>(t)).name, s.rows[t]);
  fmt::print("{} records, {} rows into {} ({:.0f} rows/s), {} already stored{}\n", s.records, s.total_rows(), kind,
             seconds > 0 ? static_cast<double>(s.total_rows()) / seconds : 0.0, s.skipped_rows, per);
  std::fflush(stdout);
}

int load(const std::vector<std::string>& files, const Target& target, std::size_t batch) {
  auto sink = open_sink(target);
  JournalReader reader = JournalReader::open(files);
  data::JournalLoader loader(*sink, batch);
  const auto t0 = std::chrono::steady_clock::now();
  loader.load(reader);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print_stats(loader.stats(), secs, sink->kind());
  const Issue& issue = reader.issue();
  if (issue.ok()) return kExitOk;
  fmt::print(stderr, "hft-journal: {}\n", issue.message());
  return issue.problem == Problem::kTornTail ? kExitOk : exit_for(issue);
}

std::atomic<bool> g_stop{false};
void on_stop(int) { g_stop.store(true); }

std::uint32_t today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  return static_cast<std::uint32_t>((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

// Reopens the live journal every `poll_ms` and loads what is new, until SIGTERM/SIGINT. A torn
// tail is where the writer is (or stopped): the next poll reads past it once it is written.
int follow(const std::string& dir, const std::string& instance, std::optional<std::uint32_t> date, const Target& target,
           std::size_t batch, int poll_ms) {
  std::signal(SIGTERM, on_stop);
  std::signal(SIGINT, on_stop);
  auto sink = open_sink(target);
  data::JournalLoader loader(*sink, batch);
  const std::uint32_t day = date.value_or(today());
  fmt::print("following {}/{}-{}-*.hjl into {}\n", dir, instance, day, sink->kind());
  std::fflush(stdout);
  std::uint64_t reported = 0;
  auto next_report = std::chrono::steady_clock::now();
  while (!g_stop.load()) {
    JournalReader reader = JournalReader::open_dir(dir, instance, day);
    loader.load(reader);
    if (reader.issue().is_error() && reader.issue().problem != Problem::kIo) {
      fmt::print(stderr, "hft-journal: {}\n", reader.issue().message());
      return kExitBad;
    }
    if (loader.stats().records != reported && std::chrono::steady_clock::now() >= next_report) {
      reported = loader.stats().records;
      next_report = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      print_stats(loader.stats(), 0, sink->kind());
    }
    for (int waited = 0; waited < poll_ms && !g_stop.load(); waited += 10)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  JournalReader last = JournalReader::open_dir(dir, instance, day);  // what was written before the signal
  loader.load(last);
  print_stats(loader.stats(), 0, sink->kind());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hft-journal: dump and verify hftd's write-ahead journal"};
  app.require_subcommand(1);
  app.footer(
      "Segments are <instance>-<YYYYMMDD>-<index>.hjl files; give all of a day's segments, in any order.\n"
      "Exit status: 0 clean; 1 I/O error; 2 usage; 3 the journal has a problem (verify: any, including a\n"
      "torn tail left in place; dump: an error; a torn tail is reported on stderr). The format is in docs/journal.md.");
  std::vector<std::string> files;
  bool json = false;
  auto* d = app.add_subcommand("dump", "print every record, one per line");
  d->add_option("files", files, "segment files")->required()->check(CLI::ExistingFile);
  d->add_flag("--json", json, "one JSON object per line");
  std::optional<std::uint32_t> date;
  std::optional<std::string> instance;
  bool truncate = false;
  auto* v = app.add_subcommand("verify", "check headers, CRCs and sequence continuity");
  v->add_option("files", files, "segment files")->required()->check(CLI::ExistingFile);
  v->add_option("--date", date, "refuse segments of another trading date (YYYYMMDD)");
  v->add_option("--instance", instance, "refuse segments of another instance");
  v->add_flag("--truncate", truncate, "zero a torn tail after the last good record (and remove segments after it)");
  Target target;
  std::size_t batch = 5000;
  auto add_target = [&](CLI::App* c) {
    auto* sq = c->add_option("--sqlite", target.sqlite, "SQLite database file (created when absent)");
    auto* ch = c->add_option("--clickhouse", target.clickhouse, "ClickHouse HTTP URL, e.g. http://127.0.0.1:8123/?database=hft");
    sq->excludes(ch);
    c->add_option("--batch", batch, "rows per insert batch")->check(CLI::Range(1, 1000000));
    c->callback([&, c] {
      if (target.sqlite.empty() && target.clickhouse.empty()) throw CLI::RequiredError("--sqlite or --clickhouse");
    });
  };
  auto* l = app.add_subcommand("load", "load records into SQLite or ClickHouse tables (idempotent: the journal sequence is the key)");
  l->add_option("files", files, "segment files")->required()->check(CLI::ExistingFile);
  add_target(l);
  std::string dir;
  int poll_ms = 200;
  auto* fo = app.add_subcommand("follow", "tail a live journal and load it continuously until SIGTERM");
  fo->add_option("--dir", dir, "journal directory ([journal] dir of hftd)")->required();
  fo->add_option("--instance", instance, "hftd instance")->required();
  fo->add_option("--date", date, "trading date YYYYMMDD (default: today, local time)");
  fo->add_option("--poll-ms", poll_ms, "how often to look for new records")->check(CLI::Range(10, 60000));
  add_target(fo);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error and a hint, as CLI11 does
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    if (d->parsed()) return dump(files, json);
    if (l->parsed()) return load(files, target, batch);
    if (fo->parsed()) return follow(dir, *instance, date, target, batch, poll_ms);
    return verify(files, date, instance, truncate);
  } catch (const std::exception& e) {
    fmt::print(stderr, "hft-journal: {}\n", e.what());
    return kExitIo;
  }
}
