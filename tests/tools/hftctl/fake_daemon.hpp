#pragma once
// An in-process stand-in for hftd's control side: a ControlFile with known counters, histograms
// and records, and a control thread that beats, grows orders.sent while not halted, and answers
// commands the way hftd does (halt/resume/kill/unkill/set risk.*/flatten/dump), publishing their
// effect in the risk block. Switches make it silent, or acknowledge without any effect, so the
// tests reach hftctl's failure paths.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/histogram.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/risk_block.hpp"

namespace hft::hftctl_test {

inline const core::HistogramLayout& hftd_layout() {
  static const auto l = core::HistogramLayout::make(1, 60'000'000'000ull, 3);
  return l;
}

class FakeDaemon {
 public:
  struct Options {
    bool answer = true;   // answer commands at all
    bool effect = true;   // publish the effect of an accepted command
    bool beat = true;     // keep the heartbeat fresh
    std::string last_event = "login accepted";  // the order-entry session's last event
    std::string thread_name = "hft-pipeline";
  };

  FakeDaemon(const std::string& instance, const std::string& dir) : FakeDaemon(instance, dir, Options{}) {}
  FakeDaemon(const std::string& instance, const std::string& dir, Options o)
      : options_(o),
        cf_(instance, control::ControlSizes{}, hftd_layout(), dir),
        t2t_(hftd_layout(), cf_.histogram("tick_to_trade")),
        wire_(hftd_layout(), cf_.histogram("decision_to_wire")),
        empty_(hftd_layout(), cf_.histogram("send_call")) {
    control::Header& h = cf_.header();
    control::put_text(h.config_path, "config/test.toml");
    control::put_text(h.version, "0.1.0-test");
    control::put_text(h.backend, "epoll");
    control::put_text(h.net_features, "none (test)");
    control::put_text(h.arena, "8 MiB on normal pages");
    control::put_text(h.clock, "TSC at 3.0000 GHz (test)");
    datagrams_ = cf_.counter("net.datagrams");
    sent_ = cf_.counter("orders.sent");
    open_ = cf_.counter("orders.open", control::CounterKind::kGauge);
    rejects_ = cf_.counter("risk.rejects.max_order_quantity");
    for (std::uint64_t v = 1000; v <= 5000; ++v) t2t_.record(v);  // 1..5 µs, uniform
    t2t_.record(250'000);                                          // one 250 µs outlier
    for (std::uint64_t v = 200; v <= 900; v += 7) wire_.record(v);
    control::seq_write(cf_.risk().lock, [&] {
      auto& r = cf_.risk();
      risk::RiskLimits l;
      l.max_order_quantity = 1000;
      l.max_notional = 2'500'000'000;
      l.price_band_bps = 500;
      l.max_position = 2000;
      l.max_open_orders = 100;
      l.max_orders_per_second = 2000;
      l.order_burst = 200;
      l.require_reference_price = true;
      l.max_daily_loss = 500 * 10'000;
      control::write_risk_limits(r, l);
      r.restricted_count = 2;  // the restricted list
      std::memcpy(r.restricted[0], "AAA     ", 8);
      std::memcpy(r.restricted[1], "ZZZZ    ", 8);
      r.open_orders = 6;
      // Issue 11: a tripped breaker and three risk events.
      r.breaker = 1;  // daily_loss
      r.pnl = r.trip_pnl = -501 * 10'000;
      r.peak_pnl = 20 * 10'000;
      r.storm_global = 1;
      r.storm_worst = 2;
      r.event_count = 2;
      r.events[0] = control::RiskEventSlot{1, 1'796'650'000'000'000'000, 4, 0, 0, 0, 0, "max_daily_loss_usd", 0, 500, 0};
      r.events[1] = control::RiskEventSlot{2, 1'796'650'001'000'000'000, 2, 1, 0, 0, 0, "daily_loss", -501, 20, 500};
      r.refusal_count = 1;
      r.refusals[0] = control::RiskEventSlot{1, 1'796'650'002'000'000'000, 1, 23, 'B', 1, 0, "AAA     ", 100.25, 100, 0};
      // Per-strategy limits of strategy index 1 (issue 11), its loss limit tripped.
      r.strategies[1] = control::StrategyRiskSlot{1, 1, {}, 300, 50'000 * 10'000, 200 * 10'000, 5, 250, 25'000 * 10'000,
                                                  -201 * 10'000};
    });
    open_->value.store(6);
    control::PositionSlot* p = cf_.position_slot(0);
    control::seq_write(p->lock, [&] {
      p->used = 1;
      p->locate = 1;
      std::memcpy(p->symbol, "AAA     ", 8);
      p->position = 100;
      p->cash = -100 * 1'000'000;  // bought 100 at $100
      p->reference = 1'010'000;    // marked at $101
      p->open_buy = 100;
    });
    control::ThreadSlot* t = cf_.thread_slot(0);
    control::seq_write(t->lock, [&] {
      t->used = 1;
      control::put_text(t->name, o.thread_name);
      control::put_text(t->stages, "net,parse,book,strategy,risk");
      control::put_text(t->idle, "spin");
      t->cpu = 1;
      t->passes = 123456;
      t->idle_ratio = 0.9;
    });
    control::seq_write(cf_.order_entry().lock, [&] {
      auto& e = cf_.order_entry();
      control::put_text(e.venue, "127.0.0.1:31003");
      control::put_text(e.user, "HFT01");
      control::put_text(e.session, "TESTSESS");
      e.connected = e.logged_in = e.ready = 1;
      e.next_user_ref = 77;
      e.session_sequence = 12;
      control::put_text(e.last_event, o.last_event);
    });
    cf_.set_state(control::DaemonState::kRunning);
    cf_.heartbeat();
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeDaemon() {
    stop_ = true;
    thread_.join();
  }
  // Who the last `set` said asked ("uid 1000 (alice)").
  std::string who() const {
    std::lock_guard lock(who_mutex_);
    return who_;
  }
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  control::ControlFile& file() { return cf_; }
  [[nodiscard]] std::uint64_t orders_sent() const { return sent_->value.load(); }
  [[nodiscard]] int commands() const { return commands_.load(); }

 private:
  mutable std::mutex who_mutex_;
  std::string who_;
  void loop() {
    while (!stop_) {
      if (options_.beat) cf_.heartbeat();
      datagrams_->value.fetch_add(100);
      if (cf_.risk().halted == 0 && cf_.risk().kill_switch == 0) sent_->value.fetch_add(5);
      if (options_.answer) answer();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  void answer() {
    using control::CommandOp;
    using control::CommandState;
    for (std::uint32_t i = 0; i < cf_.command_slots(); ++i) {
      control::CommandSlot* c = cf_.command_slot(i);
      std::uint32_t pending = static_cast<std::uint32_t>(CommandState::kPending);
      if (!c->state.compare_exchange_strong(pending, static_cast<std::uint32_t>(CommandState::kTaken))) continue;
      ++commands_;
      bool ok = true;
      std::string msg;
      control::RiskBlock r = cf_.risk();
      switch (c->op) {
        case CommandOp::kHalt: r.halted = 1; msg = "strategies halted"; break;
        case CommandOp::kResume: r.halted = 0; msg = "strategies resumed"; break;
        case CommandOp::kKill: r.kill_switch = 1; r.open_orders = 0; msg = "kill switch on"; break;
        case CommandOp::kUnkill: r.kill_switch = 0; msg = "kill switch off"; break;
        case CommandOp::kFlatten: r.halted = 1; msg = "flattening"; break;
        case CommandOp::kDumpHistograms: msg = "wrote 3 histograms to /tmp"; break;
        case CommandOp::kRiskReset: r.breaker = 0; msg = "circuit breaker (daily_loss) reset"; break;
        case CommandOp::kSetRisk: {
          const std::string key(control::get_text(c->key));
          std::string value(control::get_text(c->value));
          // hftctl says who asked after the value, as hftd reads it (control_plane.hpp).
          if (const std::size_t by = value.find(" by "); by != std::string::npos) {
            std::lock_guard lock(who_mutex_);
            who_ = value.substr(by + 4);
            value.resize(by);
          }
          char* end = nullptr;
          const double v = std::strtod(value.c_str(), &end);
          if (key != "risk.max_order_quantity") {
            ok = false;
            msg = fmt::format("unknown key \"{}\"", key);
          } else if (value.empty() || end != value.c_str() + value.size() || v < 1 || v > 999'999) {
            ok = false;
            msg = fmt::format("{}: \"{}\" is not a number in [1, 999999]", key, value);
          } else {
            control::RiskLimitSlot* slot = const_cast<control::RiskLimitSlot*>(r.find("max_order_quantity"));
            msg = fmt::format("{}: {} -> {}", key, slot->value, static_cast<std::uint64_t>(v));
            slot->value = static_cast<double>(static_cast<std::uint64_t>(v));
          }
          break;
        }
        case CommandOp::kNone: ok = false; msg = "unknown command"; break;
        default: ok = false; msg = "not in the fake daemon"; break;  // algo / strategy commands
      }
      if (ok && options_.effect) {
        control::seq_write(cf_.risk().lock, [&] {
          const control::SeqLock keep = cf_.risk().lock;
          cf_.risk() = r;
          cf_.risk().lock = keep;
        });
        open_->value.store(r.open_orders);
      }
      c->ok = ok ? 1 : 0;
      control::put_text(c->result, msg);
      c->state.store(static_cast<std::uint32_t>(CommandState::kDone), std::memory_order_release);
    }
  }

  Options options_;
  control::ControlFile cf_;
  core::Histogram t2t_, wire_, empty_;
  control::CounterSlot* datagrams_ = nullptr;
  control::CounterSlot* sent_ = nullptr;
  control::CounterSlot* open_ = nullptr;
  control::CounterSlot* rejects_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<int> commands_{0};
  std::thread thread_;
};

}  // namespace hft::hftctl_test
