#pragma once
// The control file /dev/shm/hftd.<instance>: how hftd shows itself to hftctl (after Aeron's CnC
// file and AeronStat). One shared mapping, created by hftd (mode 0600) and removed on a clean
// exit. Every field has one writer; readers never block it:
//  * counters are one cache line each, written with relaxed atomic stores by the thread that owns
//    them (a publisher copies each stage's counters on that stage's own thread);
//  * histograms are the pipeline's own latency histograms, living here (core::Histogram over
//    external storage): the recording thread updates each count with a relaxed atomic store;
//  * the thread table, risk block and positions are small records under a sequence lock (odd
//    while being written), so a reader retries until it sees one whole, even version;
//  * commands go the other way: hftctl claims a free slot with a compare-and-swap, fills it, marks
//    it pending; hftd's control thread applies it and writes the outcome back into the slot.
//
// Layout version 3; offsets are in the header so a reader needs no compile-time sizes but these
// record formats. A reader refuses a file with another magic or layout version.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace hft::control {

inline constexpr char kMagic[8] = {'H', 'F', 'T', 'D', 'C', 'T', 'L', '1'};
inline constexpr std::uint32_t kLayoutVersion = 3;  // 2: self-describing risk limits; 3: StrategySlot::fees, signal, the restricted list

// kRecovering: the journal was replayed; the venue's replay and the reconciliation are under way
// (strategies do not trade yet).
enum class DaemonState : std::uint32_t { kStarting = 0, kRunning = 1, kStopping = 2, kStopped = 3, kRecovering = 4 };

struct alignas(64) Header {
  char magic[8];
  std::uint32_t layout_version;
  std::uint32_t header_bytes;
  std::uint64_t total_bytes;
  std::int32_t pid;
  std::uint32_t uid;
  std::uint64_t start_realtime_ns;
  std::atomic<std::uint64_t> heartbeat_realtime_ns;  // the control thread, about every 10 ms
  std::atomic<std::uint32_t> state;                  // DaemonState
  std::uint32_t reserved0;
  char instance[64];
  char config_path[256];
  char version[32];
  char backend[32];        // "io_uring" / "epoll"
  char arena[256];         // core::ArenaReport::describe()
  char net_features[256];  // io_uring probe
  char clock[128];
  // Sections.
  std::uint32_t counter_slots, counters_offset;
  std::uint32_t histogram_slots, histograms_offset;
  std::uint32_t histogram_counts_len, histogram_bytes;  // per histogram: name block + counts
  std::uint64_t histogram_lowest, histogram_highest;
  std::uint32_t histogram_digits, reserved1;
  std::uint32_t thread_slots, threads_offset;
  std::uint32_t position_slots, positions_offset;
  std::uint32_t risk_offset, reserved2;
  std::uint32_t command_slots, commands_offset;
  std::uint32_t feed_offset, order_entry_offset;
  // Strategy library (issue 13): parent orders of the execution strategies and per-strategy
  // performance (0 slots in a file written before these sections existed).
  std::uint32_t algo_slots, algos_offset;
  std::uint32_t strategy_slots, strategies_offset;
};
static_assert(sizeof(Header) <= 4096);

enum class CounterKind : std::uint8_t { kCounter = 0, kGauge = 1 };

// One cache line: a value and its self-describing name ("net.datagrams", "risk.rejects.price_band").
struct alignas(64) CounterSlot {
  std::atomic<std::uint64_t> value;
  char name[48];
  CounterKind kind;
  std::uint8_t used;  // 1 when the slot is defined
  std::uint8_t reserved[6];
};
static_assert(sizeof(CounterSlot) == 64);

// Histogram blocks: this header, then histogram_counts_len uint64 counts (core::Histogram layout
// made from histogram_lowest/highest/digits).
struct alignas(64) HistogramHeader {
  char name[48];
  std::uint8_t used;
  std::uint8_t reserved[15];
};
static_assert(sizeof(HistogramHeader) == 64);

// A sequence-locked record: writers bump `seq` to odd, write, bump to even. A plain integer used
// through std::atomic_ref, so the records stay trivially copyable (readers copy them whole).
struct SeqLock {
  std::uint32_t seq;
  std::uint32_t reserved;
};

struct alignas(64) ThreadSlot {
  SeqLock lock;
  char name[16];
  char stages[48];
  char idle[8];
  std::int32_t cpu;
  std::int32_t tid;
  std::uint64_t passes;
  std::uint64_t work_passes;
  std::uint64_t work_items;
  std::uint64_t parks;
  double idle_ratio;
  std::uint8_t used;
  std::uint8_t reserved[7];
};

// One risk limit, self-describing like a counter: hftd writes the names, kinds and units from the
// table of risk keys (pipeline/risk/keys.hpp) at start-up, then the values as they change; hftctl
// shows whatever limits the daemon has, with no compile-time list of its own.
struct RiskLimitSlot {
  char name[32];          // "max_order_quantity" (the [risk] key; `hftctl set risk.<name>`)
  std::uint8_t kind;      // risk::KeyKind: 0 integer, 1 number, 2 boolean
  std::uint8_t decimals;  // numbers: decimals shown, 0xFF = shortest
  std::uint8_t runtime;   // 1 when `hftctl set` may change it
  std::uint8_t used;
  std::uint8_t reserved[4];
  double value;           // in the key's unit (USD, shares, bps, orders/s; booleans 0 or 1)
};
static_assert(sizeof(RiskLimitSlot) == 48);
inline constexpr std::uint32_t kRiskLimitSlots = 48;

// A risk event (issue 11): a refusal with its order, a circuit-breaker trip or reset, a limit
// change with its old and new values. Binary, formatted by the reader (hftctl risk events), so the
// egress thread never formats. kind: RiskEventKind.
// kStormTransition: code = the new risk::StormState, side = the old one, strategy = risk::StormCause,
// name = the symbol ("*": global), a = the driver's value, b = its STORM threshold.
enum class RiskEventKind : std::uint8_t {
  kNone = 0, kRefusal = 1, kBreakerTrip = 2, kBreakerReset = 3, kLimitChange = 4, kStormTransition = 5,
  kStrategyLossTrip = 6,  // strategy = its index, a = its P&L, c = its loss limit ($)
};
struct RiskEventSlot {
  std::uint64_t seq;       // 1, 2, ... (0: unused)
  std::uint64_t wall_ns;   // CLOCK_REALTIME
  std::uint8_t kind;       // RiskEventKind
  std::uint8_t code;       // refusal: pipeline::RejectReason; breaker trip: risk::BreakerCause
  std::uint8_t side;       // refusal: 'B' / 'S'
  std::uint8_t strategy;   // refusal: the strategy index (255: the operator)
  std::uint32_t reserved;
  char name[32];           // refusal: the symbol; limit change: the key; trip/reset: who ("pnl" / "hftctl")
  double a, b, c;          // refusal: price ($), quantity; trip: P&L, peak, limit ($); reset: P&L; change: old, new
};
static_assert(sizeof(RiskEventSlot) == 80);
inline constexpr std::uint32_t kRiskEventSlots = 16;

// Per-strategy limits and their usage (issue 11), slot i = strategy index i (the [[strategies]]
// order; hftctl names it from the StrategySlot of the same index). 1/10,000 $ for money.
struct StrategyRiskSlot {
  std::uint8_t used;       // 1: the strategy has per-strategy limits
  std::uint8_t tripped;    // its loss limit is tripped (only its risk-reducing orders)
  std::uint8_t reserved[6];
  std::int64_t max_position, max_notional, max_loss;
  double max_orders_per_second;
  std::int64_t position;        // usage: the largest of its symbols' own position + working (worst side), shares
  std::int64_t gross_notional;  // usage: its gross exposure across symbols
  std::int64_t pnl;             // its day P&L as last marked
};
static_assert(sizeof(StrategyRiskSlot) == 64);
inline constexpr std::uint32_t kStrategyRiskSlots = 32;
inline constexpr std::uint32_t kRestrictedSlots = 64;  // risk::RiskLimits::kMaxRestricted

struct alignas(64) RiskBlock {
  SeqLock lock;
  std::uint8_t kill_switch;
  std::uint8_t halted;
  std::uint8_t reserved[6];
  std::uint64_t open_orders;
  std::uint32_t limit_count;  // slots of `limits` in use, from the first
  std::uint32_t reserved1;
  RiskLimitSlot limits[kRiskLimitSlots];
  // Issue 11: the circuit breaker and the day's P&L (1/10,000 $), and the last risk events.
  std::uint8_t breaker;        // risk::BreakerCause (0: not tripped)
  std::uint8_t storm_global;   // risk::StormState of the global machine
  std::uint8_t storm_worst;    // the worst of it and every watched symbol's
  std::uint8_t reserved2[5];
  std::int64_t pnl, peak_pnl, trip_pnl;
  std::int64_t gross_shares, net_long, net_short, gross_notional;  // across symbols (risk::Totals)
  std::uint64_t event_count;   // events but refusals so far (the last kRiskEventSlots in `events`, slot = (seq-1) % N)
  RiskEventSlot events[kRiskEventSlots];
  std::uint64_t refusal_count;  // refusals so far, the last ones in `refusals` (a ring of their own)
  RiskEventSlot refusals[kRiskEventSlots];
  StrategyRiskSlot strategies[kStrategyRiskSlots];  // per-strategy limits (issue 11)
  // The restricted list ([risk] restricted_symbols, hftctl set risk.restricted_symbols): symbols of
  // 8 characters, space-padded, the first `restricted_count`.
  std::uint32_t restricted_count;
  std::uint32_t reserved3;
  char restricted[kRestrictedSlots][8];

  // The limit named `name`, or null.
  [[nodiscard]] const RiskLimitSlot* find(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i < limit_count && i < kRiskLimitSlots; ++i)
      if (std::string_view(limits[i].name, ::strnlen(limits[i].name, sizeof limits[i].name)) == name) return &limits[i];
    return nullptr;
  }
};

struct alignas(64) PositionSlot {
  SeqLock lock;
  std::uint16_t locate;
  char symbol[8];
  std::uint8_t used;
  std::uint8_t reserved[5];
  std::int64_t position;     // shares
  std::int64_t cash;         // 1/10,000 $
  std::int64_t reference;    // 1/10,000 $ per share
  std::int64_t open_buy, open_sell;
  std::uint64_t fills;
  std::int64_t realized_pnl;  // 1/10,000 $ (average cost)
};

struct alignas(64) FeedBlock {
  SeqLock lock;
  char session[16];
  std::uint64_t next_sequence;
  std::uint64_t gaps, recovered, lost;
  std::uint8_t stale, in_recovery;
  std::uint8_t reserved[6];
};

struct alignas(64) OrderEntryBlock {
  SeqLock lock;
  char venue[64];
  char user[8];
  char session[16];
  std::uint8_t connected, logged_in, ready;
  std::uint8_t recovery;  // pipeline::RecoveryState: 0 none, 1 recovering, 2 recovered
  std::uint8_t reserved[4];
  std::uint64_t next_user_ref;
  std::uint64_t session_sequence;  // next sequenced message expected
  char last_event[160];
};

enum class CommandOp : std::uint8_t {
  kNone = 0,
  kHalt,         // strategies stop sending (working orders stay)
  kResume,
  kKill,         // kill switch: cancel all, block new orders
  kUnkill,
  kSetRisk,      // key = value
  kFlatten,      // cancel all and close every position at the reference price band
  kDumpHistograms,
  kRiskReset,    // the circuit breaker closes (issue 11)
  // Strategy library (issue 13), applied on the strategy thread:
  kAlgoStart,      // key: "twap"/"vwap"; value: "SYMBOL buy|sell QTY DURATION_MS DELAY_MS LIMIT MAXPART"
  kAlgoCancel,     // key: parent id
  kStrategyStart,  // key: strategy name
  kStrategyStop,   // cancels its orders
  kStrategyPause,  // no new decisions; its orders stay
  kStrategySet,    // key: strategy name; value: "param=value"
  // Manual orders (issue 16), placed by a `manual` strategy through the SDK and risk:
  kOrderNew,       // key: symbol; value: "buy|sell QTY PRICE_TICKS day|ioc"; answer: the order id
  kOrderCancel,    // key: order id (any strategy's working order)
};

enum class CommandState : std::uint32_t { kFree = 0, kClaimed = 1, kPending = 2, kTaken = 3, kDone = 4 };

struct alignas(64) CommandSlot {
  std::atomic<std::uint32_t> state;  // CommandState
  std::uint32_t id;
  std::uint64_t claimed_realtime_ns;
  CommandOp op;
  std::uint8_t ok;                   // result, valid in kDone
  std::uint8_t reserved[6];
  char key[40];
  char value[64];
  char result[120];
};
static_assert(sizeof(CommandSlot) == 256);

// A parent order of an execution strategy (pipeline/strategy/execution.hpp), published by the
// strategy thread.
struct alignas(64) AlgoSlot {
  SeqLock lock;
  std::uint32_t id;
  std::uint8_t used;
  std::uint8_t algo;   // 0 twap, 1 vwap
  std::uint8_t side;   // 0 buy, 1 sell
  std::uint8_t state;  // strategy::ParentState: 0 pending, 1 working, 2 done, 3 canceled, 4 expired
  char symbol[8];
  char strategy[24];
  std::uint64_t quantity, filled;
  std::int64_t limit;            // 1/10,000 $; 0 none
  double max_participation;
  double avg_price, arrival, market_vwap;  // 1/10,000 $
  double shortfall_bps, slippage_bps, participation;
  std::uint64_t start_realtime_ns, end_realtime_ns;
  std::uint32_t children, crosses;
};

// Per-strategy state and performance, published by the strategy thread.
struct alignas(64) StrategySlot {
  SeqLock lock;
  std::uint8_t used;
  std::uint8_t state;  // 0 running, 1 paused, 2 stopped
  std::uint8_t reserved[6];
  char name[32];
  char type[24];
  double realized_pnl, unrealized_pnl;  // dollars; unrealized marked at mid
  double volume_usd;
  std::uint64_t volume_shares;
  std::uint64_t orders, fills, cancels, rejects;
  double fill_ratio;                    // orders with at least one fill / orders
  double avg_time_to_fill_us;
  std::uint64_t round_trips, wins;
  double win_rate;
  double sharpe;                        // of per-minute P&L changes (not annualized)
  double max_drawdown;                  // dollars
  std::int64_t position;                // shares, all symbols
  double fees;                          // dollars paid (negative: rebates earned); realized_pnl is net of them
  char signal_name[16];                 // the strategy's signal ("z", "trend_bps"; "" none) and its value
  double signal;
};

// Copies a string into a fixed char field, always NUL-terminated.
template <std::size_t N>
void put_text(char (&field)[N], std::string_view text) noexcept {
  const std::size_t n = text.size() < N - 1 ? text.size() : N - 1;
  if (n != 0) std::memcpy(field, text.data(), n);  // an empty view's data() may be null (UB in memcpy)
  field[n] = '\0';
}
template <std::size_t N>
std::string_view get_text(const char (&field)[N]) noexcept {
  return {field, ::strnlen(field, N)};
}

// Sequence lock helpers (one writer). The reader's copy races with a writer by design and is
// thrown away when the sequence moved (the classic seqlock; Linux's read_seqbegin/retry).
template <class F>
void seq_write(SeqLock& l, F&& write) noexcept {
  std::atomic_ref<std::uint32_t> seq(l.seq);
  const std::uint32_t s = seq.load(std::memory_order_relaxed);
  seq.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  write();
  seq.store(s + 2, std::memory_order_release);
}
// Copies a record whole: retries while the writer is in the middle of it (bounded).
template <class T>
bool seq_read(const T& src, T& out) noexcept {
  static_assert(std::is_trivially_copyable_v<T>);
  std::atomic_ref<std::uint32_t> seq(const_cast<std::uint32_t&>(src.lock.seq));
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    const std::uint32_t before = seq.load(std::memory_order_acquire);
    if (before & 1u) continue;
    std::memcpy(static_cast<void*>(&out), static_cast<const void*>(&src), sizeof(T));
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}

}  // namespace hft::control
