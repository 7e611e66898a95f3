// hft-itch gen: the synthetic day generator (venue/sim/day_generator.hpp) to a BinaryFILE.
#include <chrono>
#include <stdexcept>
#include <system_error>

#include "commands.hpp"
#include "venue/sim/day_generator.hpp"

namespace hft::itch_tool {

int run_gen(const GenOptions& o) {
  sim::DayConfig c;
  c.messages = o.messages;
  c.stocks = o.stocks;
  c.seed = o.seed;
  c.mix = o.mix == "steady" ? sim::MessageMix::steady() : sim::MessageMix::snippet();
  const auto t0 = std::chrono::steady_clock::now();
  sim::DaySummary s;
  try {
    s = sim::write_binaryfile(c, o.out);
  } catch (const std::invalid_argument& e) {
    throw ToolError(kExitUsage, e.what());
  } catch (const std::system_error& e) {
    throw ToolError(kExitIo, e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("wrote {} messages, {} bytes, {} stocks, seed {} to {} in {:.2f} s ({:.1f} M msgs/s)\n", s.messages,
             s.bytes, o.stocks, o.seed, o.out, seconds, static_cast<double>(s.messages) / seconds / 1e6);
  fmt::print("mix: {}\npeak resting orders: {}\n", sim::describe_mix(s.counts), s.peak_live_orders);
  return kExitOk;
}

}  // namespace hft::itch_tool
