// hft-itch profile: the intraday volume profile of a day of ITCH, in the CSV the VWAP execution
// strategy reads (pipeline/strategy/execution.hpp, VolumeProfile): a header `time,volume`, then
// one row `HH:MM:SS,shares` per bin of ITCH time from the first bin with volume to the last
// (empty bins in between written as 0). Volume is what executed: Order Executed (E), Order
// Executed With Price (C) when printable, and non-cross Trade (P). Cross trades (Q) and the
// non-printable C executions that belong to a cross are left out; broken trades (B) are not
// subtracted.
#include <charconv>
#include <cstdio>
#include <map>
#include <string>

#include "commands.hpp"

namespace hft::itch_tool {
namespace {

constexpr std::uint64_t kDayNs = 86'400ull * 1'000'000'000ull;

std::uint64_t parse_bins(const std::string& text) {
  std::uint64_t n = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  const auto [p, ec] = std::from_chars(b, e, n);
  const std::string unit(p, e);
  std::uint64_t scale = 0;
  if (unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  if (ec != std::errc() || p == b || scale == 0 || n == 0 || n * scale > 86'400 || n > 86'400)
    throw ToolError(kExitUsage, "--bins '" + text + "': want a whole number of s, m or h (1s to 24h), e.g. 1m");
  return n * scale;
}

struct ProfileSink {
  std::uint64_t bin_ns = 60'000'000'000ull;
  std::string want;  // empty: every stock
  std::map<std::uint16_t, bool> wanted;  // by locate, from the stock directory
  std::map<std::uint64_t, std::uint64_t> by_bin;
  std::uint64_t total = 0, outside_day = 0, executions = 0;

  bool selected(std::uint16_t locate) const {
    if (want.empty()) return true;
    const auto it = wanted.find(locate);
    return it != wanted.end() && it->second;
  }
  void add(std::uint64_t ts, std::uint64_t shares) {
    if (ts >= kDayNs) {
      ++outside_day;
      return;
    }
    by_bin[ts / bin_ns] += shares;
    total += shares;
    ++executions;
  }
  void on_stock_directory(const itch::StockDirectory& m) {
    wanted[m.stock_locate()] = std::string(trim_right(m.stock().view())) == want;
  }
  void on_order_executed(const itch::OrderExecuted& m) {
    if (selected(m.stock_locate())) add(m.timestamp(), m.executed_shares());
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) {
    if (m.printable() == 'Y' && selected(m.stock_locate())) add(m.timestamp(), m.executed_shares());
  }
  void on_trade(const itch::Trade& m) {
    if (selected(m.stock_locate())) add(m.timestamp(), m.shares());
  }
};

}  // namespace

int run_profile(const InputSpec& in, const ProfileOptions& o) {
  ProfileSink sink;
  sink.bin_ns = parse_bins(o.bins) * 1'000'000'000ull;
  sink.want = o.symbol;
  const InputReport rep = decode_input(in, sink);
  report_input_errors(in, rep);
  if (sink.by_bin.empty()) throw ToolError(kExitBadInput, "no executed volume in " + in.path + (o.symbol.empty() ? "" : " for " + o.symbol));

  std::FILE* f = stdout;
  if (!o.out.empty() && o.out != "-") {
    f = std::fopen(o.out.c_str(), "wb");
    if (f == nullptr) throw ToolError(kExitIo, "cannot write " + o.out);
  }
  {
    Output out(f);
    out.append("time,volume\n");
    const std::uint64_t first = sink.by_bin.begin()->first, last = sink.by_bin.rbegin()->first;
    for (std::uint64_t b = first; b <= last; ++b) {
      const std::uint64_t s = b * sink.bin_ns / 1'000'000'000ull;
      const auto it = sink.by_bin.find(b);
      out.print("{:02}:{:02}:{:02},{}\n", s / 3600, s / 60 % 60, s % 60, it == sink.by_bin.end() ? 0 : it->second);
    }
    out.flush();
  }
  if (f != stdout && std::fclose(f) != 0) throw ToolError(kExitIo, "cannot write " + o.out);
  if (o.verbose) {
    std::fprintf(stderr, "executions=%llu shares=%llu bins=%zu outside_day=%llu\n",
                 static_cast<unsigned long long>(sink.executions), static_cast<unsigned long long>(sink.total),
                 sink.by_bin.size(), static_cast<unsigned long long>(sink.outside_day));
  }
  return rep.has_errors(in.pcap) ? kExitBadInput : kExitOk;
}

}  // namespace hft::itch_tool
