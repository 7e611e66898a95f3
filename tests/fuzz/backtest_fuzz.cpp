// hft-backtest's engine (tools/hft-backtest) over any bytes as a BinaryFILE day: a market maker
// and a scripted taker run against the simulated venue. Never crashes, hangs or reads out of
// bounds; every fill is of a positive quantity with liquidity 'A' or 'R', and the counts add up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tools/hft-backtest/backtest.hpp"

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

namespace {

const hft::backtest::BacktestConfig& config() {
  static const hft::backtest::BacktestConfig c = hft::backtest::load_config_text(
      "[book]\norders = 1024\nlevels = 1024\nmax_locate = 4\n[stats]\ntimer_us = 10000000\n"
      "[risk]\nmax_order_quantity = 10000\nmax_notional_usd = 100000000\nprice_band_bps = 10000\nmax_position = 100000\n"
      "max_open_orders = 100\nmax_orders_per_second = 100000\norder_burst = 1000\n"
      "[[strategies]]\ntype = \"market_maker\"\nsymbols = [\"AAA\"]\nquote_size = 100\n"
      "[[strategies]]\ntype = \"scripted\"\norders = [ { symbol = \"AAA\", side = \"buy\", quantity = 300, "
      "price_offset_bps = 100, tif = \"ioc\", repeat = 3 } ]\n"
      "[backtest]\nfeed_latency = \"constant:1us\"\norder_latency = \"constant:5us\"\nresponse_latency = \"constant:5us\"\n",
      "fuzz.toml");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const hft::backtest::Result r = hft::backtest::run_bytes(config(), std::span<const std::uint8_t>(data, size));
  for (const auto& f : r.fills) {
    FUZZ_CHECK(f.quantity > 0);
    FUZZ_CHECK(f.liquidity == 'A' || f.liquidity == 'R');
    FUZZ_CHECK(f.side == 'B' || f.side == 'S');
  }
  FUZZ_CHECK(r.strategies.size() == 2);
  FUZZ_CHECK(r.total.trades == r.strategies[0].trades + r.strategies[1].trades);
  FUZZ_CHECK(r.total.trades <= r.fills.size());
  return 0;
}
