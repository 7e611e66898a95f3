#include "core/log.hpp"

#include <fmt/args.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace hft::core {

LogLimiter::LogLimiter(std::uint64_t interval_ns, std::uint32_t burst, std::size_t keys)
    : interval_ns_(interval_ns), burst_(burst), entries_(keys == 0 ? 1 : keys) {}

bool LogLimiter::allow(std::uint64_t key, std::uint64_t now_ns, std::uint64_t& suppressed) noexcept {
  suppressed = 0;
  Entry* e = nullptr;
  Entry* lru = &entries_[0];
  for (Entry& x : entries_) {
    if (x.used && x.key == key) {
      e = &x;
      break;
    }
    if (!x.used || (lru->used && x.last_use < lru->last_use)) lru = &x;
  }
  if (e == nullptr) {
    // A key pushed out keeps its count in the total; its summary is lost with it, which is the
    // price of a fixed table under a flood of distinct keys.
    e = lru;
    *e = Entry{key, now_ns, now_ns, 0, 0, true};
  }
  e->last_use = now_ns;
  if (now_ns - e->window_start >= interval_ns_) {
    e->window_start = now_ns;
    e->in_window = 0;
    suppressed = e->suppressed;
    e->suppressed = 0;
  }
  if (e->in_window < burst_) {
    ++e->in_window;
    return true;
  }
  ++e->suppressed;
  ++total_suppressed_;
  return false;
}

bool parse_log_level(std::string_view text, LogLevel& out) noexcept {
  if (text == "debug") out = LogLevel::kDebug;
  else if (text == "info") out = LogLevel::kInfo;
  else if (text == "warn") out = LogLevel::kWarn;
  else if (text == "error") out = LogLevel::kError;
  else return false;
  return true;
}

namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger>& logger_slot() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("hft", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%f %^%-5l%$ %v");
    return l;
  }();
  return instance;
}

}  // namespace

void init_logging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!options.file.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
  auto l = std::make_shared<spdlog::logger>("hft", sinks.begin(), sinks.end());
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%f %^%-5l%$ %v");
  l->set_level(to_spdlog(options.level));
  l->flush_on(spdlog::level::warn);
  logger_slot() = std::move(l);
}

spdlog::logger& logger() { return *logger_slot(); }

std::string format_record(const LogRecord& r) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (int i = 0; i < r.nargs && i < LogRecord::kMaxArgs; ++i) {
    const auto& v = r.values[i];
    switch (r.kinds[i]) {
      case LogRecord::Kind::kSigned: store.push_back(v.i); break;
      case LogRecord::Kind::kUnsigned: store.push_back(v.u); break;
      case LogRecord::Kind::kDouble: store.push_back(v.d); break;
      case LogRecord::Kind::kChar: store.push_back(static_cast<char>(v.u)); break;
      case LogRecord::Kind::kBool: store.push_back(v.u != 0); break;
      case LogRecord::Kind::kText: {
        const std::size_t off = v.text.offset < LogRecord::kTextBytes ? v.text.offset : 0;
        const std::size_t len = off + v.text.length <= LogRecord::kTextBytes ? v.text.length : 0;
        store.push_back(escape(std::string_view(r.text + off, len)));
        break;
      }
    }
  }
  try {
    return fmt::vformat(r.format, store);
  } catch (const fmt::format_error& e) {
    return fmt::format("<bad log format \"{}\": {}>", r.format, e.what());
  }
}

LogDrain::LogDrain() = default;
LogDrain::~LogDrain() { stop(); }

HotLog& LogDrain::add_lane(std::string name, std::size_t capacity) {
  lanes_.push_back(std::make_unique<HotLog>(std::move(name), capacity));
  return *lanes_.back();
}

int LogDrain::poll() noexcept {
  int n = 0;
  auto& out = logger();
  for (auto& lane : lanes_) {
    for (int batch = 0; batch < 64; ++batch) {
      const LogRecord* r = lane->ring().front();
      if (r == nullptr) break;
      try {
        out.log(to_spdlog(static_cast<LogLevel>(r->level)), "[{}] {}", lane->name(), format_record(*r));
      } catch (...) {
        // A failing sink must not take the drain thread down; the record is lost.
      }
      lane->ring().pop();
      ++n;
    }
  }
  written_ += static_cast<std::uint64_t>(n);
  return n;
}

void LogDrain::start(int cpu) {
  if (runner_) return;
  RunnerOptions o;
  o.name = "hft-log";
  o.cpu = cpu;
  o.idle = IdleConfig{IdleKind::kBackoff, 100, 10, 50'000, 10'000'000};
  runner_ = std::make_unique<Runner>(o, std::vector<StageRef>{StageRef::of(*this)});
  runner_->start();
}

void LogDrain::stop() noexcept {
  if (runner_) {
    runner_->stop();
    runner_.reset();
  }
  while (poll() > 0) {
  }
}

}  // namespace hft::core
