// The feature files a user hands hft-itch features and hftd: a Stoikov micro-price table
// (--param stoikov_table=FILE, StoikovTable::parse) and name=value parameter lines
// (--param-file, Params::set). Checked beyond "no crash": a table either throws
// std::invalid_argument or has buckets x spreads finite adjustments, reads back from its own text
// exactly and looks up any depth without reading outside; parameters either throw
// std::invalid_argument or leave a Params that validates.
//
// Input: byte 0 bit 0 selects the parser (0: table, 1: parameter lines); the rest is the text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pipeline/features/features.hpp"

namespace {

using namespace hft::features;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

void table(std::string_view text) {
  StoikovTable t;
  try {
    t = StoikovTable::parse(text);
  } catch (const std::invalid_argument&) {
    return;
  }
  FUZZ_CHECK(!t.empty());
  FUZZ_CHECK(t.adjustment.size() == std::size_t{t.imbalance_buckets} * t.spread_buckets);
  for (const double a : t.adjustment) FUZZ_CHECK(std::isfinite(a));
  const StoikovTable back = StoikovTable::parse(t.to_text());
  FUZZ_CHECK(back.adjustment == t.adjustment && back.tick == t.tick);
  Depth d;
  d.bid_px[0] = 1'000'000;
  d.bid_sz[0] = 300;
  d.ask_sz[0] = 100;
  for (std::uint32_t spread = 0; spread < 8 * t.tick && spread < 100'000; spread += t.tick / 2 + 1) {
    d.ask_px[0] = d.bid_px[0] + spread;
    if (const auto adj = t.lookup(d)) FUZZ_CHECK(std::isfinite(*adj));
  }
  Params p;
  p.stoikov = t;
  p.validate();
}

void params(std::string_view text) {
  Params p;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.rfind("stoikov_table", 0) == 0) continue;  // names a file: not the fuzzer's business
    try {
      p.set(line);
    } catch (const std::invalid_argument&) {
    }
  }
  p.validate();  // a rejected line left the parameters valid
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (text.size() > (1u << 16)) return 0;
  if ((data[0] & 1) == 0) table(text);
  else params(text);
  return 0;
}
