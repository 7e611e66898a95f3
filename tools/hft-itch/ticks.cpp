// hft-itch ticks: a day's books into the hft_market_ticks table (data/schema.hpp) of a SQLite file
// or a ClickHouse server, for research queries: the top N levels of a stock's book (prices in
// 1/10,000 $, sizes in shares, best first, as arrays) at each change of those levels, or sampled:
// the book at the end of each interval of ITCH time in which it changed.
//
// Keys: instance (--instance, default "itch"), trading_date (--date), seq: in change mode the
// book's message number (1 = the file's first message applied), in sampled mode
// interval number x 65,536 + locate; ts_ns is the ITCH timestamp (ns since midnight, exchange
// time), in sampled mode the interval's end. Loading twice writes nothing the second time: rows
// at or below the table's highest stored seq for (instance, date) are skipped, as the journal
// loader does.
//
// Links the books and hft::data_store (schema and sinks) only: not the appliance.
#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <span>
#include <vector>

#include "commands.hpp"
#include "data/sink.hpp"
#include "pipeline/book/itch_handler.hpp"

namespace hft::itch_tool {
namespace {

constexpr std::uint32_t kMaxLevels = 10;

struct Depth {
  std::array<book::Level, kMaxLevels> bids{}, asks{};
  std::uint32_t nb = 0, na = 0;
  // The rows keep prices and sizes: a change of a level's order count alone is not a new row.
  bool operator==(const Depth& o) const {
    if (nb != o.nb || na != o.na) return false;
    for (std::uint32_t i = 0; i < nb; ++i)
      if (bids[i].price != o.bids[i].price || bids[i].shares != o.bids[i].shares) return false;
    for (std::uint32_t i = 0; i < na; ++i)
      if (asks[i].price != o.asks[i].price || asks[i].shares != o.asks[i].shares) return false;
    return true;
  }
};

// The book's DepthSink: told after each message that changed a stock's best kMaxLevels levels.
struct TickSink {
  static constexpr std::uint32_t kDepthLevels = kMaxLevels;
  const book::BookSet* books = nullptr;
  std::uint32_t levels = 5;
  std::uint64_t interval_ns = 0;  // 0: every change
  data::Sink* sink = nullptr;
  std::string instance;
  std::uint32_t date = 0;
  std::uint64_t stored = 0;  // highest seq already in the table
  std::size_t batch = 5000;

  std::vector<Depth> last;            // by locate: the last row written (change mode) or pending (sampled)
  std::vector<std::uint8_t> pending;  // sampled: the stock changed in the current interval
  std::vector<std::uint16_t> pending_list;
  std::uint64_t interval = 0;
  std::vector<data::Row> rows;
  std::uint64_t written = 0, skipped = 0;

  Depth read(std::uint16_t locate) const {
    Depth d;
    d.nb = static_cast<std::uint32_t>(books->depth(locate, book::Side::kBid, std::span(d.bids.data(), levels)));
    d.na = static_cast<std::uint32_t>(books->depth(locate, book::Side::kAsk, std::span(d.asks.data(), levels)));
    return d;
  }
  void on_depth_change(std::uint16_t locate) {
    if (last.size() <= locate) {
      last.resize(std::size_t{locate} + 1);
      pending.resize(std::size_t{locate} + 1);
    }
    const book::TopOfBook top = books->top(locate);
    if (interval_ns == 0) {
      const Depth d = read(locate);
      if (d == last[locate]) return;  // a change beyond the N levels kept
      last[locate] = d;
      emit(top.sequence, static_cast<std::int64_t>(top.timestamp), locate, d);
      return;
    }
    const std::uint64_t bin = top.timestamp / interval_ns;
    if (bin != interval) flush_interval();
    interval = bin;
    last[locate] = read(locate);
    if (!pending[locate]) {
      pending[locate] = 1;
      pending_list.push_back(locate);
    }
  }
  // Sampled mode: the books of the stocks that changed in the interval, as they stood at its end.
  void flush_interval() {
    std::sort(pending_list.begin(), pending_list.end());
    for (const std::uint16_t l : pending_list) {
      pending[l] = 0;
      emit(interval * 65'536 + l, static_cast<std::int64_t>((interval + 1) * interval_ns), l, last[l]);
    }
    pending_list.clear();
  }
  void emit(std::uint64_t seq, std::int64_t ts, std::uint16_t locate, const Depth& d) {
    if (seq <= stored) {
      ++skipped;
      return;
    }
    std::vector<std::int64_t> bp, bs, ap, as;
    for (std::uint32_t i = 0; i < d.nb; ++i) {
      bp.push_back(d.bids[i].price);
      bs.push_back(static_cast<std::int64_t>(d.bids[i].shares));
    }
    for (std::uint32_t i = 0; i < d.na; ++i) {
      ap.push_back(d.asks[i].price);
      as.push_back(static_cast<std::int64_t>(d.asks[i].shares));
    }
    const book::StockInfo info = books->info(locate);
    rows.push_back(data::Row{instance, std::int64_t{date}, static_cast<std::int64_t>(seq), ts,
                             std::string(trim_right(info.symbol.view())), std::int64_t{locate}, std::move(bp), std::move(bs),
                             std::move(ap), std::move(as)});
    if (rows.size() >= batch) flush();
  }
  void flush() {
    if (rows.empty()) return;
    sink->insert(data::TableId::kMarketTicks, rows);
    written += rows.size();
    rows.clear();
  }
};

}  // namespace

int run_ticks(const InputSpec& in, const TicksOptions& o) {
  if (o.sqlite.empty() == o.clickhouse.empty()) throw ToolError(kExitUsage, "give one of --sqlite FILE or --clickhouse URL");
  if (o.levels == 0 || o.levels > kMaxLevels) throw ToolError(kExitUsage, fmt::format("--levels: 1 to {}", kMaxLevels));
  std::uint64_t interval_ns = 0;
  if (o.every != "change") {
    char* end = nullptr;
    const double v = std::strtod(o.every.c_str(), &end);
    const std::string unit(end);
    const double scale = unit == "ms" ? 1e6 : unit == "s" ? 1e9 : unit == "us" ? 1e3 : unit == "m" ? 60e9 : 0;
    if (end == o.every.c_str() || !(v > 0) || scale == 0 || v * scale < 1e3 || v * scale > 86'400e9)
      throw ToolError(kExitUsage, "--every '" + o.every + "': 'change' or an interval such as 100ms, 1s, 1m");
    interval_ns = static_cast<std::uint64_t>(v * scale);
  }

  InputReport rep;
  files::MappedFile file;
  std::vector<std::uint8_t> blocks;
  std::span<const std::uint8_t> bytes;
  if (in.pcap) {
    blocks = pcap_to_blocks(in.path, rep);
    bytes = blocks;
  } else {
    file = open_binary_file(in.path);
    bytes = file.bytes();
  }
  const BlockScan scan = scan_blocks(bytes.data(), bytes.size(), std::nullopt);

  std::unique_ptr<data::Sink> sink;
  try {
    sink = o.sqlite.empty() ? data::open_clickhouse(o.clickhouse) : data::open_sqlite(o.sqlite);
    sink->create_schema();
  } catch (const std::exception& e) {
    throw ToolError(kExitIo, e.what());
  }
  auto books = std::make_unique<book::BookSet>(book_config_for(scan, /*safe=*/true));
  TickSink ticks;
  ticks.books = books.get();
  ticks.levels = o.levels;
  ticks.interval_ns = interval_ns;
  ticks.sink = sink.get();
  ticks.instance = o.instance;
  ticks.date = o.date;
  ticks.batch = o.batch;
  itch::DecodeStats stats;
  itch::BlockStreamResult r;
  try {
    ticks.stored = sink->max_seq(data::TableId::kMarketTicks, o.instance, o.date);
    book::ItchBookHandler<TickSink> handler(*books, ticks);
    r = book::build_blocks(bytes.data(), scan.cut, handler, stats, /*stop_at_empty=*/true);
    if (interval_ns != 0) ticks.flush_interval();
    ticks.flush();
  } catch (const std::exception& e) {
    throw ToolError(kExitIo, std::string("loading ") + std::string(sink->kind()) + ": " + e.what());
  }
  if (!in.pcap) {
    rep.itch = stats;
    rep.file = files::describe_binary_file(bytes.first(scan.cut), r);
  }
  std::printf("%llu rows into %.*s hft_market_ticks (%llu already there), %llu messages\n",
              static_cast<unsigned long long>(ticks.written), static_cast<int>(sink->kind().size()), sink->kind().data(),
              static_cast<unsigned long long>(ticks.skipped), static_cast<unsigned long long>(scan.messages));
  report_input_errors(in, rep);
  return rep.has_errors(in.pcap) ? kExitBadInput : kExitOk;
}

}  // namespace hft::itch_tool
