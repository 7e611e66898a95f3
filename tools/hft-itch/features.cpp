// hft-itch features: the microstructure features of pipeline/features as a table, one row per
// sample of a stock: every book-changing message while both sides have a price (event), or bars
// closing on time, message count, executed shares or executed dollars. Columns: timestamp (ITCH
// ns since midnight), symbol, then the chosen features in the order of docs/features.md; an empty
// cell (JSON null) while a feature warms up or is undefined.
#include <array>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "commands.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/features/book_driver.hpp"
#include "pipeline/features/fit.hpp"
#include "pipeline/features/hawkes.hpp"

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

// Number text for the dump, written with integer arithmetic (std::to_chars's shortest round trip
// was the dump's largest cost).
//
// write_uint: the decimal digits of v, two at a time from a table.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
char* write_uint(char* p, std::uint64_t v) noexcept {
  char tmp[20];
  char* t = tmp + sizeof tmp;
  while (v >= 100) {
    const std::uint64_t q = v / 100;
    const auto r = static_cast<unsigned>(v - q * 100);
    t -= 2;
    std::memcpy(t, kDigitPairs + 2 * r, 2);
    v = q;
  }
  if (v >= 10) {
    t -= 2;
    std::memcpy(t, kDigitPairs + 2 * v, 2);
  } else {
    *--t = static_cast<char>('0' + v);
  }
  const auto n = static_cast<std::size_t>(tmp + sizeof tmp - t);
  std::memcpy(p, t, n);
  return p + n;
}

// '.' and the `digits` digits of `frac` (leading zeros kept), trailing zeros dropped; nothing
// when frac is 0.
char* write_fraction(char* p, std::uint64_t frac, int digits) noexcept {
  if (frac == 0) return p;
  *p++ = '.';
  char* q = p + digits;
  int left = digits;
  while (left >= 2) {
    const std::uint64_t d = frac / 100;
    q -= 2;
    std::memcpy(q, kDigitPairs + 2 * (frac - d * 100), 2);
    frac = d;
    left -= 2;
  }
  if (left == 1) *--q = static_cast<char>('0' + frac);
  q = p + digits;
  while (q[-1] == '0') --q;  // frac != 0: a nonzero digit stops it
  return q;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int kSignificant = 12;  // digits of a value that is not a short decimal

// A double as text: exact for decimals with at most five places (prices, spreads, sizes, the
// integer flows: the text reads back as exactly `x`, checked by dividing), otherwise rounded to
// 12 significant digits (relative error <= 5e-12; docs/features.md), std::to_chars's shortest
// round trip only outside 1e-9 <= |x| < 1e15. At most 32 characters.
char* append_double(char* p, char* end, double x) noexcept {
  const double ax = std::fabs(x);
  if (ax < 9e10) {
    const double y = x * 1e5;
    const auto i = static_cast<std::int64_t>(std::nearbyint(y));
    if (static_cast<double>(i) / 1e5 == x) {
      const std::uint64_t u = i < 0 ? static_cast<std::uint64_t>(-i) : static_cast<std::uint64_t>(i);
      if (i < 0) *p++ = '-';
      p = write_uint(p, u / 100000);
      return write_fraction(p, u % 100000, 5);
    }
  }
  if (!(ax >= 1e-9 && ax < 1e15)) return std::to_chars(p, end, x).ptr;
  // e: the decimal exponent of ax (10^e <= ax < 10^(e+1)), -9..14
  int e = 0;
  if (ax >= 1) {
    while (e < 14 && ax >= kPow10[e + 1]) ++e;
  } else {
    e = -1;
    while (e > -9 && ax * kPow10[-e] < 1) --e;
  }
  // m: ax scaled to kSignificant digits, 10^11 <= m <= 10^12
  const int shift = kSignificant - 1 - e;  // -3..20
  const double scaled = shift >= 0 ? (shift <= 22 ? ax * kPow10[shift] : ax * 1e22 * kPow10[shift - 22])
                                   : ax / kPow10[-shift];
  auto m = static_cast<std::uint64_t>(std::nearbyint(scaled));
  int dec = shift;  // value = m / 10^dec
  if (m >= 1'000'000'000'000ull) {  // rounded up to 10^12
    m /= 10;
    --dec;
  }
  if (x < 0) *p++ = '-';
  if (dec <= 0) {  // an integer: m then -dec zeros
    p = write_uint(p, m);
    for (int k = 0; k < -dec; ++k) *p++ = '0';
    return p;
  }
  const auto pow = static_cast<std::uint64_t>(kPow10[dec < 19 ? dec : 0]);
  if (dec >= 19) {  // 0.000...: below 1e-7 the integer part is 0 and m has all the digits
    *p++ = '0';
    return write_fraction(p, m, dec);
  }
  p = write_uint(p, m / pow);
  return write_fraction(p, m % pow, dec);
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
      if (source_.back() != Source::kNone) {
        ++cached_columns_;
        source_mask_[static_cast<std::size_t>(source_.back()) - 1] |= features::bit(f);
      } else {
        uncached_mask_ |= features::bit(f);
      }
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
      case F::kMicroPriceAdjusted: case F::kMicroPriceStoikov: case F::kVwapBuy: case F::kVwapSell: case F::kSlippageBuy: case F::kSlippageSell:
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
  // A cached cell: 32 bytes, two per cache line. The counters its text was made at are kept per
  // stock and source (keys_), not per cell.
  struct Cell {
    std::uint8_t len = 0;  // 0: empty cell
    char text[31];         // append_double writes at most 24 characters
  };
  using Keys = std::array<std::uint64_t, 4>;  // by Source - 1: depth, mids, executions, constant
  // The cached cells of stock `l` (cached_columns_ of them) and their keys, made on its first row.
  Cell* cells_of(std::uint16_t l, Keys*& keys) {
    std::uint32_t& at = cache_of_[l];
    if (at == 0) {
      cells_.resize(cells_.size() + cached_columns_);
      keys_.push_back(Keys{~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}});
      at = static_cast<std::uint32_t>(keys_.size());
    }
    keys = &keys_[at - 1];
    return cells_.data() + std::size_t{at - 1} * cached_columns_;
  }

  void row(std::uint16_t l, std::uint64_t ts) {
    ++rows_;
    const itch::Symbol symbol = books_.info(l).symbol;  // info() returns a copy: keep it alive
    const std::string_view sym = symbol.view();
    if (jsonl_) {
      engine_.values(l, values_);
      engine_.consume(l);
      fmt::memory_buffer& b = out_.buffer();
      char num[32];
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
      out_.maybe_flush();
      return;
    }
    const features::FeatureEngine::Versions ver = engine_.versions(l);
    Keys* keys = nullptr;
    Cell* const cells = cached_columns_ != 0 ? cells_of(l, keys) : nullptr;
    // Only the features whose cell text is stale are computed.
    const Keys now{ver.depth, ver.mids, ver.executions, 0};
    std::array<bool, 4> stale_source{};
    features::FeatureMask stale = uncached_mask_;
    if (keys != nullptr)
      for (std::size_t k = 0; k < 4; ++k) {
        stale_source[k] = (*keys)[k] != now[k];
        if (stale_source[k]) stale |= source_mask_[k];
      }
    engine_.values(l, values_, stale);
    engine_.consume(l);
    // Written in place: a row is at most 20 + 1 + 8 + 33 bytes per column.
    fmt::memory_buffer& b = out_.buffer();
    const std::size_t at = b.size();
    b.resize(at + 32 + columns_.size() * 33);
    char* p = b.data() + at;
    p = write_uint(p, ts);
    *p++ = ',';
    std::memcpy(p, sym.data(), sym.size());
    p += sym.size();
    Cell* k = cells;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const auto f = columns_[c];
      *p++ = ',';
      const Source src = source_[c];
      if (src == Source::kNone) {
        if (values_.has_value(f)) p = append_double(p, p + 32, values_.v[static_cast<std::size_t>(f)]);
        continue;
      }
      if (stale_source[static_cast<std::size_t>(src) - 1]) {
        k->len = values_.has_value(f) ? static_cast<std::uint8_t>(
                                            append_double(k->text, k->text + sizeof k->text,
                                                          values_.v[static_cast<std::size_t>(f)]) -
                                            k->text)
                                      : 0;
      }
      std::memcpy(p, k->text, sizeof k->text);  // a fixed-size copy; only len bytes are kept
      p += k->len;
      ++k;
    }
    *p++ = '\n';
    b.resize(static_cast<std::size_t>(p - b.data()));
    if (keys != nullptr) *keys = now;
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
  features::FeatureMask uncached_mask_ = 0;  // the kNone columns
  std::vector<std::uint32_t> cache_of_;  // by locate: 0 none yet, else 1 + index of its cells
  std::vector<Cell> cells_;
  std::vector<Keys> keys_;                     // by cache index
  std::array<features::FeatureMask, 4> source_mask_{};  // the cached columns of each source
  features::Values values_;
  std::uint64_t rows_ = 0;
};

// The offline fits (--fit-microprice, --fit-ofi): sees every book event of the selected stocks.
class FitHook {
 public:
  FitHook(const book::BookSet& books, const features::FeatureEngine& engine, std::vector<itch::Symbol> symbols,
          std::uint32_t max_locate, const features::Params& p, const FeaturesOptions& o)
      : books_(books), engine_(engine), symbols_(std::move(symbols)), wanted_state_(std::size_t{max_locate} + 1, 0) {
    if (!o.fit_microprice.empty())
      stoikov_.emplace(p.stoikov_buckets, p.stoikov_spreads, p.tick, max_locate);
    if (!o.fit_ofi.empty()) ofi_.emplace(p.ofi_fit_interval_ns, max_locate);
    if (!o.fit_hawkes.empty()) trades_.resize(std::size_t{max_locate} + 1);
    seen_.assign(std::size_t{max_locate} + 1, 0);
  }
  bool wants(std::uint16_t l) noexcept {
    if (l >= wanted_state_.size()) return false;
    std::uint8_t& st = wanted_state_[l];
    if (st == 0) {
      st = symbols_.empty() ? 1 : 2;
      const itch::Symbol s = books_.info(l).symbol;
      for (const auto& w : symbols_)
        if (w == s) st = 1;
    }
    return st == 1;
  }
  void before(std::uint16_t l, std::uint64_t) noexcept {
    if (!ofi_) return;
    const features::Depth* d = engine_.depth(l);
    before_ = d != nullptr ? *d : features::Depth{};
  }
  void after(std::uint16_t l, const features::Event& e) {
    first_ts_ = std::min(first_ts_, e.timestamp);
    last_ts_ = std::max(last_ts_, e.timestamp);
    seen_[l] = 1;
    if (!trades_.empty() && e.kind == features::EventKind::kExecute) {
      // one event per aggressive order: executions of one side at one time count once
      auto& side = trades_[l][e.side == 1 ? 0 : 1];  // a resting ask executed: buyer-initiated (0)
      if (side.empty() || side.back() != e.timestamp) side.push_back(e.timestamp);
    }
    const features::Depth* d = engine_.depth(l);
    if (d == nullptr) return;
    if (stoikov_) stoikov_->observe(l, *d);
    if (ofi_) ofi_->observe(l, e.timestamp, before_, *d);
  }
  std::optional<features::StoikovFitter> stoikov_;
  std::optional<features::OfiPcaFitter> ofi_;
  std::vector<std::array<std::vector<std::uint64_t>, 2>> trades_;  // by locate: buyer-, seller-initiated times
  std::vector<std::uint8_t> seen_;  // by locate: had a book event
  std::uint64_t first_ts_ = ~std::uint64_t{0}, last_ts_ = 0;

 private:
  const book::BookSet& books_;
  const features::FeatureEngine& engine_;
  std::vector<itch::Symbol> symbols_;
  std::vector<std::uint8_t> wanted_state_;
  features::Depth before_;
};

void write_text_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw ToolError(kExitIo, fmt::format("{}: cannot open for writing", path));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw ToolError(kExitIo, fmt::format("{}: write failed", path));
}

// --fit-hawkes: every stock with a book event is a realization over the input's span of time
// (first to last book event); the univariate model is fitted to both sides of every stock (the
// engine's hawkes_buy and hawkes_sell share mu, alpha, beta), the bivariate one to each stock's pair.
void write_hawkes_fit(const FitHook& hook, const std::string& path) {
  if (hook.last_ts_ <= hook.first_ts_) throw ToolError(kExitBadInput, "--fit-hawkes: no span of time in the input");
  const double horizon = double(hook.last_ts_ - hook.first_ts_) / 1e9;
  std::vector<features::hawkes::Realization> uni;
  std::vector<features::hawkes::BiRealization> bi;
  std::size_t stocks = 0;
  std::array<std::size_t, 2> events{};
  for (std::size_t l = 0; l < hook.trades_.size(); ++l) {
    if (hook.seen_[l] == 0) continue;
    ++stocks;
    features::hawkes::BiRealization b;
    b.horizon = horizon;
    for (int side = 0; side < 2; ++side) {
      for (const std::uint64_t ts : hook.trades_[l][side]) b.times[side].push_back(double(ts - hook.first_ts_) / 1e9);
      events[side] += b.times[side].size();
      uni.push_back({b.times[side], horizon});
    }
    bi.push_back(std::move(b));
  }
  if (events[0] + events[1] < 10) throw ToolError(kExitBadInput, "--fit-hawkes: fewer than 10 executions");
  const auto u = features::hawkes::fit(uni);
  const auto f = features::hawkes::fit(bi);
  std::string text = fmt::format(
      "# hft-itch features --fit-hawkes: {} buyer- and {} seller-initiated executions (one per side and time) of {} "
      "stocks over {:.3f} s\n"
      "# univariate exponential model, both sides of every stock: log-likelihood {:.6f}, branching ratio {:.6f}\n"
      "hawkes_mu={:.9g}\nhawkes_alpha={:.9g}\nhawkes_beta={:.9g}\n",
      events[0], events[1], stocks, horizon, u.log_likelihood, u.params.alpha / u.params.beta, u.params.mu,
      u.params.alpha, u.params.beta);
  const char* names[2] = {"buy", "sell"};
  for (int m = 0; m < 2; ++m)
    text += fmt::format("# bivariate, {} intensity: mu {:.9g}, alpha from buys {:.9g}, from sells {:.9g}, beta {:.9g} "
                        "(log-likelihood {:.6f})\n",
                        names[m], f.params.mu[m], f.params.alpha[m][0], f.params.alpha[m][1], f.params.beta[m],
                        f.log_likelihood[m]);
  write_text_file(path, text);
  fmt::print(stderr, "hft-itch: Hawkes mu {:.6g} alpha {:.6g} beta {:.6g} from {} executions: {}\n", u.params.mu,
             u.params.alpha, u.params.beta, events[0] + events[1], path);
}

}  // namespace

int run_features(const InputSpec& in, const FeaturesOptions& o) {
  features::Params params;
  features::FeatureMask wanted = 0;
  try {
    for (const auto& file : o.param_files) {
      std::FILE* pf = std::fopen(file.c_str(), "rb");
      if (pf == nullptr) throw ToolError(kExitIo, fmt::format("{}: cannot open", file));
      std::string text;
      char buf[4096];
      for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pf)) > 0 && text.size() < (1u << 20);) text.append(buf, n);
      std::fclose(pf);
      std::size_t line_no = 0;
      for (std::string_view rest = text; !rest.empty();) {
        const std::size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        ++line_no;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        try {
          params.set(line);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(fmt::format("{}:{}: {}", file, line_no, e.what()));
        }
      }
    }
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

  // Decodes every message of the input into `handler`; the input's report into rep.
  auto decode_all = [&](auto& handler) {
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
    if (!in.pcap) {
      rep.itch = stats;
      rep.file = files::describe_binary_file(data.first(scan.cut), r);
    }
  };

  const bool fitting = !o.fit_microprice.empty() || !o.fit_ofi.empty() || !o.fit_hawkes.empty();
  std::uint64_t rows = 0;
  if (fitting) {
    FitHook hook(*books, engine, symbols, max_locate, params, o);
    features::FeatureBookHandler<FitHook> handler(*books, engine, hook);
    decode_all(handler);
    if (hook.stoikov_) {
      const features::StoikovTable t = hook.stoikov_->fit();
      write_text_file(o.fit_microprice, t.to_text());
      fmt::print(stderr, "hft-itch: micro-price table from {} transitions ({} mid moves): {}\n",
                 hook.stoikov_->transitions(), hook.stoikov_->mid_moves(), o.fit_microprice);
    }
    if (hook.ofi_) {
      hook.ofi_->finish();
      const auto r = hook.ofi_->fit();
      if (!r) throw ToolError(kExitBadInput, "--fit-ofi: fewer than 2 OFI intervals with depth, or no variance");
      write_text_file(o.fit_ofi, fmt::format("ofi_weights={:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", r->weights[0],
                                             r->weights[1], r->weights[2], r->weights[3], r->weights[4]));
      fmt::print(stderr, "hft-itch: ofi weights from {} intervals, first component explains {:.1f}% of the variance: {}\n",
                 hook.ofi_->samples(), 100 * r->explained, o.fit_ofi);
    }
    if (!hook.trades_.empty()) write_hawkes_fit(hook, o.fit_hawkes);
  } else {
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
    Output out(f);
    RowWriter writer(*books, engine, out, sample, o.format == "jsonl", symbols, max_locate);
    writer.header();
    features::FeatureBookHandler<RowWriter> handler(*books, engine, writer);
    decode_all(handler);
    out.flush();
    rows = writer.rows();
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
