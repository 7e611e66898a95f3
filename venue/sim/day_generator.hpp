#pragma once
// Synthetic NASDAQ TotalView-ITCH 5.0 trading day, deterministic per seed.
//
// Shape of the day: S 'O' (start of messages, 03:00), an R directory entry per stock, S 'S'
// (04:00), H 'T' per stock, S 'Q' (09:30), continuous trading until 16:00, then S 'M', 'E' and
// 'C' (ITCH 5.0 spec 1.1, System Event codes). Stock locates are 1..stocks with unique 1-5
// letter symbols; prices sit on the penny grid (100 in Price(4) units) around a per-stock price
// that wanders with the flow, with tens of levels per side near the touch; most cancels and
// replaces hit orders added moments before (the flow comes in bursts a few microseconds apart,
// so those orders live well under a millisecond). Timestamps strictly increase. The generator keeps
// its own book, so it never names an order that is not resting, never executes or cancels more
// than rests, and never crosses the book.
//
// The order-flow mix defaults to that of NASDAQ's 2019-12-30 sample at 09:30 (A 37%, U 22%,
// F 19%, D 17%, E 3%; ../shared/data/README.md). In that mix adds outnumber deletes, as they do
// in the opening minutes, so the number of resting orders grows by about 0.37 per message;
// MessageMix::steady() balances them for long runs with a flat order count.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gateways/itch/messages.hpp"

namespace hft::sim {

// Relative weights of the order-flow messages during continuous trading.
struct MessageMix {
  std::uint32_t add = 367;                 // A
  std::uint32_t add_mpid = 193;            // F
  std::uint32_t replace = 225;             // U
  std::uint32_t remove = 167;              // D
  std::uint32_t execute = 28;              // E
  std::uint32_t cancel = 6;                // X (partial)
  std::uint32_t trade = 4;                 // P
  std::uint32_t cross_trade = 4;           // Q
  std::uint32_t noii = 4;                  // I
  std::uint32_t execute_with_price = 1;    // C
  std::uint32_t broken_trade = 0;          // B

  // The 09:30 sample's mix (the default).
  static MessageMix snippet() noexcept { return {}; }
  // Deletes raised so that orders leave about as fast as they arrive: the resting count grows
  // by about 1 per 100 messages instead of 37 (a balance of exactly zero would random-walk the
  // books down to empty).
  static MessageMix steady() noexcept {
    MessageMix m;
    m.remove = 530;
    return m;
  }
  // A whole continuous-trading day as published for a 10M-message, 8,000-stock day of another
  // generator calibrated on NASDAQ TotalView-ITCH (issue 17: A 45%, D 37%, U 9.5%, E 4.7%,
  // X 1.9%, F 1.6%, P 0.5%): adds and deletes dominate, replaces and executions are rare, and
  // the resting count grows by about 0.065 per message (~640K resting after 10M messages).
  static MessageMix realistic() noexcept {
    MessageMix m;
    m.add = 449;
    m.add_mpid = 16;
    m.replace = 95;
    m.remove = 370;
    m.execute = 47;
    m.cancel = 19;
    m.trade = 5;
    m.cross_trade = 0;
    m.noii = 0;
    m.execute_with_price = 1;
    m.broken_trade = 0;
    return m;
  }
};

// How the generator picks references and the orders that cancels, replaces and executions name.
//  * kLegacy: the generator's first day (the default of DayConfig, bytes unchanged): four
//    reference streams from 4,000,000 stepping by 4, and 85% of cancels and replaces hit one of
//    the day's 32 latest orders (lifetimes of microseconds), the rest any resting order.
//  * kRealistic: one reference sequence from 1 stepping by 1 (so the largest reference is about
//    the number of adds and replaces, 5.6M in a 10M-message day), and the order a cancel,
//    replace or execution names is 80% one of the 32 latest orders (mostly the same burst: well
//    under a second), 12% one of the 4,096 latest (seconds to minutes in a 10M-message day) and
//    8% any resting order (the long tail: minutes to hours). Use with MessageMix::realistic();
//    DayConfig::realistic() sets both.
enum class Profile : std::uint8_t { kLegacy, kRealistic };

// Parses "realistic|legacy"; throws std::invalid_argument.
Profile parse_profile(const std::string& name);

// Market-wide shape of the day's prices: every emitted price is the generator's own book price
// times a factor of the time of day (the same for every stock), rounded to the cent. The factor
// is 1 at the open for every scenario. Resting orders keep the price they were sent at, so during
// a fast move new quotes can cross stale ones, as they do in a real crash.
enum class Scenario : std::uint8_t {
  kNone,           // factor 1 all day (the default; the bytes are those of earlier versions)
  kTrending,       // factor drifts linearly to 1 + drift_pct/100 at 16:00, with small noise (1/20 of volatility)
  kMeanReverting,  // per-second Ornstein-Uhlenbeck path pulled back to 1 (half-life ~30 s)
  kVolatile,       // per-second random walk (bounded) with volatility_pct per sqrt(minute)
  kFlashCrash,     // 1 until crash_at, falls by crash_pct over crash_seconds, recovers over recovery_seconds
};

struct ScenarioConfig {
  Scenario kind = Scenario::kNone;
  double drift_pct = 5.0;                      // trending: total drift over the session (may be < 0)
  double volatility_pct = 0;  // mean-reverting / volatile: noise per sqrt(minute), %; 0: 0.5 / 1.5
  std::uint64_t crash_at_ns = 13ull * 3600'000'000'000ull;  // flash-crash start, ns since midnight
  double crash_pct = 10.0;                     // depth of the crash, % of the price (0 < pct < 100)
  double crash_seconds = 5.0;                  // fall duration
  double recovery_seconds = 60.0;              // climb back to the pre-crash price
};

// Parses "none|trending|mean-reverting|volatile|flash-crash"; throws std::invalid_argument.
Scenario parse_scenario(const std::string& name);

struct DayConfig {
  std::uint64_t messages = 1'000'000;  // every message of the day, system and directory included
  std::uint32_t stocks = 100;          // locates 1..stocks
  std::uint64_t seed = 1;
  MessageMix mix;
  ScenarioConfig scenario;
  // Messages per burst, uniform in [burst_min, burst_max] (1 <= min <= max). Small bursts spread a
  // short day's flow evenly (a message every few ms instead of a burst every few seconds), e.g. to
  // watch a scenario's move tick by tick.
  std::uint32_t burst_min = 50;
  std::uint32_t burst_max = 749;
  Profile profile = Profile::kLegacy;

  // The realistic profile with its mix (hft-itch gen's default day).
  static DayConfig realistic() noexcept {
    DayConfig c;
    c.profile = Profile::kRealistic;
    c.mix = MessageMix::realistic();
    return c;
  }
};

// The scenario's price factor at `ts` (ns since midnight) for a day of `config`; the generator
// uses exactly this function. Exposed for tests and docs.
class PriceShape {
 public:
  explicit PriceShape(const DayConfig& config);
  [[nodiscard]] double factor(std::uint64_t ts) const noexcept;

 private:
  ScenarioConfig sc_;
  std::vector<double> path_;  // per second of market hours (mean-reverting, volatile, trending noise)
};

struct StockSpec {
  std::uint16_t locate = 0;
  itch::Symbol symbol;
  char market_category = 'Q';
  std::uint32_t start_price = 0;  // Price(4)
};

inline constexpr std::size_t kMaxMessageLength = 64;  // every ITCH 5.0 message is <= 50 bytes

class DayGenerator {
 public:
  // Throws std::invalid_argument when stocks is 0 or above 65535, or messages cannot hold the
  // fixed messages of the day (2 * stocks + 6) plus one of order flow.
  explicit DayGenerator(const DayConfig& config);
  ~DayGenerator();
  DayGenerator(const DayGenerator&) = delete;
  DayGenerator& operator=(const DayGenerator&) = delete;

  // Writes the next message at `out` (room for kMaxMessageLength bytes) and returns its length;
  // 0 once the day is over.
  std::size_t next(std::uint8_t* out);

  // Calls on_message(const std::uint8_t* msg, std::size_t len) for every remaining message.
  template <class F>
  std::uint64_t run(F&& on_message) {
    std::uint8_t buf[kMaxMessageLength];
    std::uint64_t n = 0;
    while (const std::size_t len = next(buf)) {
      on_message(static_cast<const std::uint8_t*>(buf), len);
      ++n;
    }
    return n;
  }

  [[nodiscard]] std::uint64_t produced() const noexcept;
  [[nodiscard]] const std::array<std::uint64_t, 256>& counts() const noexcept;  // by type byte
  [[nodiscard]] std::span<const StockSpec> stocks() const noexcept;
  [[nodiscard]] std::uint64_t live_orders() const noexcept;       // resting in the generator's book
  [[nodiscard]] std::uint64_t peak_live_orders() const noexcept;
  [[nodiscard]] std::uint64_t max_order_ref() const noexcept;
  [[nodiscard]] const DayConfig& config() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct DaySummary {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;  // BinaryFILE bytes (2-byte length prefixes included)
  std::array<std::uint64_t, 256> counts{};
  std::uint64_t peak_live_orders = 0;
  std::uint64_t end_live_orders = 0;  // resting in the generator's book after the last message
  std::uint64_t max_order_ref = 0;    // largest order reference of the day
};

// The day in BinaryFILE framing (uint16 big-endian length, then the message; BinaryFILE 1.00),
// in memory.
std::vector<std::uint8_t> generate_binaryfile(const DayConfig& config, DaySummary* summary = nullptr);

// The day in BinaryFILE framing, written to `path` through a 1 MiB buffer. Throws
// std::system_error naming the path when it cannot be created or written.
DaySummary write_binaryfile(const DayConfig& config, const std::string& path);

// Message mix as text, e.g. "A 36.70% F 19.30% ..." (types with a count, largest first).
std::string describe_mix(const std::array<std::uint64_t, 256>& counts);

}  // namespace hft::sim
