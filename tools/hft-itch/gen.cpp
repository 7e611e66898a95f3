// hft-itch gen: the synthetic day generator (venue/sim/day_generator.hpp) to a BinaryFILE.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include "commands.hpp"
#include "venue/sim/day_generator.hpp"

namespace hft::itch_tool {
namespace {

// "HH:MM" or "HH:MM:SS" inside market hours to ns since midnight.
std::uint64_t parse_clock(const std::string& text) {
  unsigned h = 0, m = 0, sec = 0;
  char tail = 0;
  const int n = std::sscanf(text.c_str(), "%2u:%2u:%2u%c", &h, &m, &sec, &tail);
  const bool ok = (n == 2 || n == 3) && m < 60 && sec < 60;
  const std::uint64_t t = ((h * 60ull + m) * 60 + sec) * 1'000'000'000ull;
  if (!ok || t < 34'200'000'000'000ull || t >= 57'600'000'000'000ull) {
    throw ToolError(kExitUsage, fmt::format("--crash-at '{}': want HH:MM[:SS] between 09:30 and 16:00", text));
  }
  return t;
}

}  // namespace

int run_gen(const GenOptions& o) {
  sim::DayConfig c;
  try {
    c.profile = sim::parse_profile(o.profile);
  } catch (const std::invalid_argument& e) {
    throw ToolError(kExitUsage, e.what());
  }
  const std::string mix = !o.mix.empty() ? o.mix : c.profile == sim::Profile::kRealistic ? "realistic" : "snippet";
  c.mix = mix == "steady"      ? sim::MessageMix::steady()
          : mix == "realistic" ? sim::MessageMix::realistic()
                               : sim::MessageMix::snippet();
  c.messages = o.messages;
  c.stocks = o.stocks;
  c.seed = o.seed;
  c.scenario.drift_pct = o.drift_pct;
  c.scenario.volatility_pct = o.volatility_pct;
  c.scenario.crash_at_ns = parse_clock(o.crash_at);
  c.scenario.crash_pct = o.crash_pct;
  c.scenario.crash_seconds = o.crash_seconds;
  c.scenario.recovery_seconds = o.recovery_seconds;
  const auto t0 = std::chrono::steady_clock::now();
  sim::DaySummary s;
  try {
    c.scenario.kind = sim::parse_scenario(o.scenario);
    s = sim::write_binaryfile(c, o.out);
  } catch (const std::invalid_argument& e) {
    throw ToolError(kExitUsage, e.what());
  } catch (const std::system_error& e) {
    throw ToolError(kExitIo, e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("wrote {} messages, {} bytes, {} stocks, seed {} to {} in {:.2f} s ({:.1f} M msgs/s)\n", s.messages,
             s.bytes, o.stocks, o.seed, o.out, seconds, static_cast<double>(s.messages) / seconds / 1e6);
  fmt::print("profile: {}\nmix: {}\npeak resting orders: {}\nresting orders at the end: {}\nlargest order reference: {}\n",
             o.profile, sim::describe_mix(s.counts), s.peak_live_orders, s.end_live_orders, s.max_order_ref);
  if (o.scenario != "none") fmt::print("scenario: {}\n", o.scenario);
  return kExitOk;
}

}  // namespace hft::itch_tool
