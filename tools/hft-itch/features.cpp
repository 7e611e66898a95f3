// hft-itch features: the microstructure features of pipeline/features as a table, one row per
// sample of a stock: every book-changing message while both sides have a price (event), or bars
// closing on time, message count, executed shares or executed dollars. Columns: timestamp (ITCH
// ns since midnight), symbol, then the chosen features in the order of docs/features.md; an empty
// cell (JSON null) while a feature warms up or is undefined.
#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

#include "commands.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/features/book_driver.hpp"

namespace hft::itch_tool {
namespace {

enum class Sampling { kEvent, kTime, kTick, kVolume, kDollar };

struct SampleSpec {
  Sampling mode = Sampling::kEvent;
  double size = 0;
};

SampleSpec parse_sample(const std::string& text) {
  if (text == "event") return {};
  const std::size_t colon = text.find(':');
  auto bad = [&]() -> SampleSpec {
    throw ToolError(kExitUsage, "--sample '" + text + "': want event, time:<n>(ns|us|ms|s), tick:N, volume:N or dollar:N");
  };
  if (colon == std::string::npos) return bad();
  const std::string kind = text.substr(0, colon);
  std::string value = text.substr(colon + 1);
  double scale = 1;
  if (kind == "time") {
    auto ends = [&](std::string_view suffix) {
      return value.size() > suffix.size() && value.compare(value.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends("ns")) { value.resize(value.size() - 2); scale = 1; }
    else if (ends("us")) { value.resize(value.size() - 2); scale = 1e3; }
    else if (ends("ms")) { value.resize(value.size() - 2); scale = 1e6; }
    else if (ends("s")) { value.resize(value.size() - 1); scale = 1e9; }
    else return bad();
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || !(v > 0) || v > 1e18) return bad();
  SampleSpec s;
  s.size = v * scale;
  if (kind == "time") s.mode = Sampling::kTime;
  else if (kind == "tick") s.mode = Sampling::kTick;
  else if (kind == "volume") s.mode = Sampling::kVolume;
  else if (kind == "dollar") s.mode = Sampling::kDollar;
  else return bad();
  if (s.mode == Sampling::kTime && s.size < 1) return bad();
  return s;
}

// A double as the shortest text that reads back as the same double. Most cells are prices,
// spreads and share counts: decimals with at most five places, written here with integer
// arithmetic after checking that the text parses back to exactly `x` (a decimal literal reads as
// the correctly rounded quotient, which is what the division computes). The rest go through
// std::to_chars (shortest round trip), several times slower.
char* append_double(char* p, char* end, double x) noexcept {
  const double y = x * 1e5;
  if (std::fabs(y) < 9e15) {
    const auto i = static_cast<std::int64_t>(std::nearbyint(y));
    if (static_cast<double>(i) / 1e5 == x) {
      std::uint64_t u = i < 0 ? static_cast<std::uint64_t>(-i) : static_cast<std::uint64_t>(i);
      if (i < 0) *p++ = '-';
      p = std::to_chars(p, end, u / 100000).ptr;
      std::uint64_t frac = u % 100000;
      if (frac != 0) {
        *p++ = '.';
        int digits = 5;
        while (frac % 10 == 0) {
          frac /= 10;
          --digits;
        }
        for (int d = digits - 1; d >= 0; --d) {
          p[d] = static_cast<char>('0' + frac % 10);
          frac /= 10;
        }
        p += digits;
      }
      return p;
    }
  }
  return std::to_chars(p, end, x).ptr;
}

// Decides the rows and writes them.
class RowWriter {
 public:
  RowWriter(const book::BookSet& books, features::FeatureEngine& engine, Output& out, SampleSpec sample, bool jsonl,
            std::vector<itch::Symbol> symbols, std::uint32_t max_locate)
      : books_(books), engine_(engine), out_(out), sample_(sample), jsonl_(jsonl), symbols_(std::move(symbols)),
        wanted_state_(std::size_t{max_locate} + 1, 0), bar_(std::size_t{max_locate} + 1, 0),
        mark_(std::size_t{max_locate} + 1, 0) {
    for (std::size_t i = 0; i < features::kFeatureCount; ++i) {
      const auto f = static_cast<features::Feature>(i);
      if (!(engine.wanted() & features::bit(f))) continue;
      columns_.push_back(f);
      source_.push_back(source_of(f));
      if (source_.back() != Source::kNone) ++cached_columns_;
    }
    cache_of_.assign(std::size_t{max_locate} + 1, 0);
  }

  void header() {
    if (jsonl_) return;
    out_.append("timestamp,symbol");
    for (const auto f : columns_) {
      out_.put(',');
      out_.append(features::feature_name(f));
    }
    out_.put('\n');
  }

  bool wants(std::uint16_t l) noexcept {
    if (l >= wanted_state_.size()) return false;
    std::uint8_t& st = wanted_state_[l];
    if (st == 0) {
      if (symbols_.empty()) {
        st = 1;
      } else {
        const itch::Symbol s = books_.info(l).symbol;
        st = 2;
        for (const auto& w : symbols_)
          if (w == s) st = 1;
      }
    }
    return st == 1;
  }

  void before(std::uint16_t l, std::uint64_t ts) {
    if (sample_.mode != Sampling::kTime || l >= bar_.size() || bar_[l] == 0 || ts < bar_[l]) return;
    row(l, bar_[l]);  // the bar closed before this message: its state as of the boundary
    const auto width = static_cast<std::uint64_t>(sample_.size);
    bar_[l] = (ts / width + 1) * width;
  }

  void after(std::uint16_t l, const features::Event& e) {
    const std::uint64_t ts = e.timestamp;
    switch (sample_.mode) {
      case Sampling::kEvent: {
        const features::Depth* d = engine_.depth(l);
        if (d != nullptr && d->two_sided()) row(l, ts);
        break;
      }
      case Sampling::kTime: {
        const auto width = static_cast<std::uint64_t>(sample_.size);
        if (bar_[l] == 0) bar_[l] = (ts / width + 1) * width;
        break;
      }
      case Sampling::kTick:
        if (static_cast<double>(++bar_[l]) >= sample_.size) {
          bar_[l] = 0;
          row(l, ts);
        }
        break;
      case Sampling::kVolume:
      case Sampling::kDollar: {
        const double total = sample_.mode == Sampling::kVolume ? static_cast<double>(engine_.executed_shares(l))
                                                                : engine_.executed_dollars(l);
        if (total - mark_[l] >= sample_.size) {
          mark_[l] = total;
          row(l, ts);
        }
        break;
      }
    }
  }

  std::uint64_t rows() const noexcept { return rows_; }

 private:
  // What a feature is computed from, when that alone: its cell's text is reused while the
  // engine's counter of that source is unchanged (most cells are unchanged from a stock's previous
  // row, and formatting a double is the dump's largest cost).
  enum class Source : std::uint8_t { kNone, kDepth, kMids, kExecutions, kConstant };
  static Source source_of(features::Feature f) noexcept {
    using F = features::Feature;
    switch (f) {
      case F::kMid: case F::kMicroPrice: case F::kWeightedMid: case F::kImbalance: case F::kWeightedImbalance:
      case F::kBookPressure: case F::kSpread: case F::kRelativeSpread: case F::kEntropy: case F::kMicroPriceDepth:
      case F::kMicroPriceAdjusted: case F::kVwapBuy: case F::kVwapSell: case F::kSlippageBuy: case F::kSlippageSell:
        return Source::kDepth;
      case F::kRealizedVol: case F::kVelocity: case F::kAcceleration: case F::kFracPrice: case F::kRsi:
      case F::kMacdSignal: case F::kBollingerPosition: case F::kHurst:
        return Source::kMids;
      case F::kKyleLambda: case F::kAmihud: case F::kFracVolume: case F::kRollSpread:
        return Source::kExecutions;
      case F::kHawkesExcitation:
        return Source::kConstant;
      default:
        return Source::kNone;
    }
  }
  struct Cell {
    std::uint64_t key = ~std::uint64_t{0};  // the source's counter when `text` was made
    std::uint8_t len = 0;                   // 0: empty cell
    char text[31];
  };
  // The cached cells of stock `l` (cached_columns_ of them), made on its first row.
  Cell* cells_of(std::uint16_t l) {
    std::uint32_t& at = cache_of_[l];
    if (at == 0) {
      cells_.resize(cells_.size() + cached_columns_);
      at = static_cast<std::uint32_t>(cells_.size() / cached_columns_);
    }
    return cells_.data() + std::size_t{at - 1} * cached_columns_;
  }

  void row(std::uint16_t l, std::uint64_t ts) {
    engine_.values(l, values_);
    engine_.consume(l);
    const features::FeatureEngine::Versions ver = engine_.versions(l);
    Cell* cell = cached_columns_ != 0 ? cells_of(l) : nullptr;
    ++rows_;
    fmt::memory_buffer& b = out_.buffer();
    const itch::Symbol symbol = books_.info(l).symbol;  // info() returns a copy: keep it alive
    const std::string_view sym = symbol.view();
    char num[32];
    if (jsonl_) {
      out_.append("{\"timestamp\":");
      append_uint(ts);
      out_.append(",\"symbol\":");
      append_json_string(b, sym);
      for (const auto f : columns_) {
        out_.append(",\"");
        out_.append(features::feature_name(f));
        out_.append("\":");
        if (values_.has_value(f)) {
          b.append(num, append_double(num, num + sizeof num, values_.v[static_cast<std::size_t>(f)]));
        } else {
          out_.append("null");
        }
      }
      out_.append("}\n");
    } else {
      append_uint(ts);
      out_.put(',');
      out_.append(sym);
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        const auto f = columns_[c];
        out_.put(',');
        const Source src = source_[c];
        if (src == Source::kNone) {
          if (values_.has_value(f))
            b.append(num, append_double(num, num + sizeof num, values_.v[static_cast<std::size_t>(f)]));
          continue;
        }
        const std::uint64_t key = src == Source::kDepth ? ver.depth
                                  : src == Source::kMids ? ver.mids
                                  : src == Source::kExecutions ? ver.executions
                                                               : 0;
        Cell& k = *cell++;
        if (k.key != key) {
          k.key = key;
          k.len = values_.has_value(f) ? static_cast<std::uint8_t>(append_double(k.text, k.text + sizeof k.text,
                                                                                  values_.v[static_cast<std::size_t>(f)]) -
                                                                    k.text)
                                       : 0;
        }
        b.append(k.text, k.text + k.len);
      }
      out_.put('\n');
    }
    out_.maybe_flush();
  }
  void append_uint(std::uint64_t v) {
    char num[24];
    const auto r = std::to_chars(num, num + sizeof num, v);
    out_.buffer().append(num, r.ptr);
  }

  const book::BookSet& books_;
  features::FeatureEngine& engine_;
  Output& out_;
  SampleSpec sample_;
  bool jsonl_;
  std::vector<itch::Symbol> symbols_;
  std::vector<std::uint8_t> wanted_state_;  // by locate: 0 not yet decided, 1 selected, 2 not
  std::vector<std::uint64_t> bar_;          // by locate: next time boundary, or messages in the bar
  std::vector<double> mark_;                // by locate: executed shares or dollars at the last row
  std::vector<features::Feature> columns_;
  std::vector<Source> source_;       // by column
  std::size_t cached_columns_ = 0;   // columns with a source other than kNone
  std::vector<std::uint32_t> cache_of_;  // by locate: 0 none yet, else 1 + index of its cells
  std::vector<Cell> cells_;
  features::Values values_;
  std::uint64_t rows_ = 0;
};

}  // namespace

int run_features(const InputSpec& in, const FeaturesOptions& o) {
  features::Params params;
  features::FeatureMask wanted = 0;
  try {
    for (const auto& p : o.params) params.set(p);
    wanted = features::parse_set(o.set);
  } catch (const std::invalid_argument& e) {
    throw ToolError(kExitUsage, e.what());
  }
  const SampleSpec sample = parse_sample(o.sample);
  std::vector<itch::Symbol> symbols;
  for (std::string_view rest = o.symbols; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (name.empty() || name.size() > 8) throw ToolError(kExitUsage, "--symbols: bad symbol '" + std::string(name) + "'");
    symbols.push_back(itch::Symbol::from(name));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }

  InputReport rep;
  files::MappedFile file;
  std::vector<std::uint8_t> blocks;
  std::span<const std::uint8_t> data;
  if (in.pcap) {
    blocks = pcap_to_blocks(in.path, rep);
    data = blocks;
  } else {
    file = open_binary_file(in.path);
    data = file.bytes();
  }
  const BlockScan scan = scan_blocks(data.data(), data.size(), std::nullopt);
  const auto books = std::make_unique<book::BookSet>(book_config_for(scan, false));
  const std::uint32_t max_locate = books->config().max_locate;
  // One slot per stock that has a book-changing message (the per-stock rings are tens of KB).
  std::uint32_t active = 0;
  {
    std::vector<bool> seen(std::size_t{max_locate} + 1, false);
    for (std::size_t off = 0; off + 2 <= scan.cut;) {
      const std::size_t len = wire::load_be16(data.data() + off);
      if (len > scan.cut - off - 2) break;
      const std::uint8_t* m = data.data() + off + 2;
      const char type = len >= 3 ? static_cast<char>(m[0]) : '\0';
      const std::uint16_t l = len >= 3 ? wire::load_be16(m + 1) : 0;
      if (type != '\0' && l <= max_locate && !seen[l] && std::strchr("AFECXDU", type) != nullptr) {
        seen[l] = true;
        ++active;
      }
      off += 2 + len;
    }
  }
  const std::uint32_t slots =
      symbols.empty() ? active : std::min(active, static_cast<std::uint32_t>(symbols.size()));
  features::FeatureEngine engine(params, wanted, max_locate, slots);

  std::FILE* f = stdout;
  if (!o.out.empty() && o.out != "-") {
    f = std::fopen(o.out.c_str(), "wb");
    if (f == nullptr) throw ToolError(kExitIo, fmt::format("{}: cannot open for writing", o.out));
  }
  struct Closer {
    std::FILE* f;
    ~Closer() {
      if (f != stdout) std::fclose(f);
    }
  } closer{f};
  std::uint64_t rows = 0;
  {
    Output out(f);
    RowWriter writer(*books, engine, out, sample, o.format == "jsonl", symbols, max_locate);
    writer.header();
    features::FeatureBookHandler<RowWriter> handler(*books, engine, writer);
    itch::DecodeStats stats;
    std::size_t off = 0;
    itch::BlockStreamResult r;
    while (off + 2 <= scan.cut) {
      const std::size_t len = wire::load_be16(data.data() + off);
      if (len > scan.cut - off - 2) break;
      ++r.blocks;
      if (len == 0) {
        off += 2;
        r.end_marker = true;
        break;
      }
      itch::decode_message(data.data() + off + 2, len, handler, stats);
      off += 2 + len;
    }
    if (off != scan.cut && !r.end_marker) {
      r.truncated = true;
      ++stats.truncated;
    }
    r.consumed = off;
    out.flush();
    rows = writer.rows();
    if (!in.pcap) {
      rep.itch = stats;
      rep.file = files::describe_binary_file(data.first(scan.cut), r);
    }
  }
  if (books->degraded())
    fmt::print(stderr, "hft-itch: {}: the book pools ran out ({} orders, {} levels): some orders were dropped\n", in.path,
               books->config().orders, books->config().levels);
  if (engine.stats().no_slot != 0)
    fmt::print(stderr, "hft-itch: {} updates of stocks beyond the {} the features were sized for\n",
               engine.stats().no_slot, slots);
  if (o.verbose) fmt::print(stderr, "hft-itch: {} messages, {} rows\n", scan.messages, rows);
  report_input_errors(in, rep);
  return rep.has_errors(in.pcap) ? kExitBadInput : kExitOk;
}

}  // namespace hft::itch_tool
