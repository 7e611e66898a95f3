#pragma once
// Logging in two lanes.
//  * Cold paths (start-up, control, shutdown) call hft::core::log::info(...) and friends: spdlog,
//    formatted where called.
//  * Hot stages never format. HotLog::log() copies the format string's address and the raw
//    argument values into a fixed 128-byte record on the stage's own SPSC ring; the log-drain
//    thread formats and writes it. A full ring drops the record and counts it.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "core/runner.hpp"
#include "core/spsc_ring.hpp"

namespace hft::core {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };
[[nodiscard]] bool parse_log_level(std::string_view text, LogLevel& out) noexcept;

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  std::string file;  // empty: stderr only
};

// Configures the process logger (stderr, plus `file` when set). Call once at start-up.
void init_logging(const LogOptions& options);
spdlog::logger& logger();

namespace log {
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) { logger().debug(f, std::forward<Args>(args)...); }
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) { logger().info(f, std::forward<Args>(args)...); }
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) { logger().warn(f, std::forward<Args>(args)...); }
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) { logger().error(f, std::forward<Args>(args)...); }
}  // namespace log

// `text` with every byte outside printable ASCII written as an escape (\n, \r, \t, \\, \xHH),
// for any field that came from the network or a file before it reaches a log line or a
// terminal: a peer must not be able to forge log lines or drive the operator's terminal.
[[nodiscard]] inline std::string escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += ch;
        } else {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        }
    }
  }
  return out;
}

// Rate limit of one kind of log line per key (a source address, a reason): at most `burst` lines
// per `interval_ns` per key; the rest are counted, and the first line after the interval says
// how many were suppressed (flush() reports them when no new line comes). A fixed table of
// `keys` entries (the least recently used is reused), so a flood of keys costs no memory.
class LogLimiter {
 public:
  LogLimiter(std::uint64_t interval_ns, std::uint32_t burst, std::size_t keys = 64);
  // True: log this occurrence; `suppressed` is how many were held back before it (0: none).
  [[nodiscard]] bool allow(std::uint64_t key, std::uint64_t now_ns, std::uint64_t& suppressed) noexcept;
  // Calls report(key, suppressed) for keys whose interval has ended with lines held back.
  template <class F>
  void flush(std::uint64_t now_ns, F&& report) {
    for (Entry& e : entries_) {
      if (e.suppressed != 0 && now_ns - e.window_start >= interval_ns_) {
        const std::uint64_t n = e.suppressed;
        e.suppressed = 0;
        e.window_start = now_ns;
        e.in_window = 0;
        report(e.key, n);
      }
    }
  }
  [[nodiscard]] std::uint64_t interval_ns() const noexcept { return interval_ns_; }
  [[nodiscard]] std::uint64_t total_suppressed() const noexcept { return total_suppressed_; }

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::uint64_t window_start = 0;
    std::uint64_t last_use = 0;
    std::uint64_t suppressed = 0;
    std::uint32_t in_window = 0;
    bool used = false;
  };
  std::uint64_t interval_ns_;
  std::uint32_t burst_;
  std::vector<Entry> entries_;
  std::uint64_t total_suppressed_ = 0;
};

// A format string that is known at compile time to have static storage duration, so a record
// can carry its address instead of its text.
struct StaticFormat {
  const char* text;
  template <std::size_t N>
  consteval StaticFormat(const char (&literal)[N]) noexcept : text(literal) {}  // NOLINT: implicit by design
};

struct LogRecord {
  static constexpr int kMaxArgs = 6;
  static constexpr int kTextBytes = 47;
  enum class Kind : std::uint8_t { kSigned, kUnsigned, kDouble, kChar, kBool, kText };

  std::uint64_t ticks;          // tsc_clock() at the call
  const char* format;           // static storage, see StaticFormat
  std::uint8_t level;
  std::uint8_t nargs;
  std::uint8_t text_used;       // bytes of `text` in use
  Kind kinds[kMaxArgs];
  union Value {
    std::int64_t i;
    std::uint64_t u;
    double d;
    struct {
      std::uint8_t offset, length;
    } text;
  } values[kMaxArgs];
  char text[kTextBytes];
};
static_assert(sizeof(LogRecord) == 128, "one log record is two cache lines");
static_assert(std::is_trivially_copyable_v<LogRecord>);

// One producer thread's lane to the log-drain thread.
class HotLog {
 public:
  HotLog(std::string name, std::size_t capacity) : name_(std::move(name)), ring_(capacity) {}

  // Copies the arguments; never allocates, formats, locks or blocks. Arguments: integers,
  // floating point, bool, char, and strings (std::string_view / const char*; copied, at most
  // 39 bytes in total per record, the rest cut).
  template <class... Args>
  void log(LogLevel level, StaticFormat format, const Args&... args) noexcept {
    static_assert(sizeof...(Args) <= LogRecord::kMaxArgs, "at most 6 arguments per hot log record");
    LogRecord* r = ring_.claim();
    if (r == nullptr) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    r->ticks = tsc_clock().now();
    r->format = format.text;
    r->level = static_cast<std::uint8_t>(level);
    r->nargs = 0;
    r->text_used = 0;
    (encode(*r, args), ...);
    ring_.publish();
  }

  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  SpscRing<LogRecord>& ring() noexcept { return ring_; }

 private:
  template <class T>
  static void encode(LogRecord& r, const T& v) noexcept {
    const auto i = r.nargs++;
    if constexpr (std::is_same_v<T, bool>) {
      r.kinds[i] = LogRecord::Kind::kBool;
      r.values[i].u = v ? 1 : 0;
    } else if constexpr (std::is_same_v<T, char>) {
      r.kinds[i] = LogRecord::Kind::kChar;
      r.values[i].u = static_cast<unsigned char>(v);
    } else if constexpr (std::is_enum_v<T>) {
      r.kinds[i] = LogRecord::Kind::kSigned;
      r.values[i].i = static_cast<std::int64_t>(v);
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      r.kinds[i] = LogRecord::Kind::kSigned;
      r.values[i].i = v;
    } else if constexpr (std::is_integral_v<T>) {
      r.kinds[i] = LogRecord::Kind::kUnsigned;
      r.values[i].u = v;
    } else if constexpr (std::is_floating_point_v<T>) {
      r.kinds[i] = LogRecord::Kind::kDouble;
      r.values[i].d = static_cast<double>(v);
    } else {
      static_assert(std::is_convertible_v<const T&, std::string_view>, "unsupported hot log argument type");
      const std::string_view s(v);
      const std::size_t room = static_cast<std::size_t>(LogRecord::kTextBytes - r.text_used);
      const std::size_t n = s.size() < room ? s.size() : room;
      std::memcpy(r.text + r.text_used, s.data(), n);
      r.kinds[i] = LogRecord::Kind::kText;
      r.values[i].text = {r.text_used, static_cast<std::uint8_t>(n)};
      r.text_used = static_cast<std::uint8_t>(r.text_used + n);
    }
  }

  std::string name_;
  SpscRing<LogRecord> ring_;
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> dropped_{0};
};

// Formats a record as text (drain thread, and tests).
std::string format_record(const LogRecord& record);

// Owns the hot lanes and the thread that drains them into the process logger.
class LogDrain {
 public:
  LogDrain();
  ~LogDrain();
  // Creates a lane; call before start().
  HotLog& add_lane(std::string name, std::size_t capacity = 1024);
  void start(int cpu = -1);
  void stop() noexcept;  // drains what is left, then joins
  // Drains every lane once on the calling thread; returns records written.
  int poll() noexcept;
  [[nodiscard]] std::string_view name() const noexcept { return "log-drain"; }
  [[nodiscard]] std::uint64_t written() const noexcept { return written_; }

 private:
  std::vector<std::unique_ptr<HotLog>> lanes_;
  std::unique_ptr<Runner> runner_;
  std::uint64_t written_ = 0;
};

}  // namespace hft::core
