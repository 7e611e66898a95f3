#pragma once
// Strategy stage: runs the configured strategies over book events and their own order reports.
//
// Strategies live in a std::variant over the registered types (AnyStrategy, from
// pipeline/strategy/registry.hpp), so a callback is a std::visit: a jump on the variant's index
// and a direct call, no virtual call per message.
// Book events go to the strategies subscribed to the event's stock; order reports only to the
// strategy that owns the order. The book -> decision hop is recorded whenever handling an event
// made a strategy send something.
#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/spsc_ring.hpp"
#include "pipeline/events.hpp"
#include "pipeline/features/features.hpp"
#include "pipeline/stages/subscriptions.hpp"
#include "pipeline/strategy/performance.hpp"
#include "pipeline/strategy/registry.hpp"
#include "pipeline/strategy/sdk.hpp"
#include "pipeline/symbols.hpp"

namespace hft::pipeline {

// The strategy types are listed once, in pipeline/strategy/registry.hpp.
using strategy::AnyStrategy;

struct StrategyStageCounters {
  std::uint64_t book_events = 0, trades = 0, reports = 0, timers = 0, stale_marks = 0, unknown_owner = 0;
  std::uint64_t operator_fills = 0;  // fills of the operator's own orders (flatten)
  std::uint64_t flatten_fills_to_strategies = 0;  // parts of those booked against a strategy's position
  std::uint64_t venue_changes = 0;  // issue 14: venue sessions seen going down or coming back
  std::uint64_t unknown_venue = 0;  // issue 14: events of a venue beyond set_venues() (dropped)
};

// A command of the operator for the strategy thread (hftctl algo / strategy; the control thread
// posts it with StrategyStage::post and waits for applied() to reach its id).
struct StrategyCommand {
  enum class Op : std::uint8_t { kAlgoStart, kAlgoCancel, kStart, kStop, kPause, kSet, kOrder, kCancelOrder };
  std::uint32_t id = 0;
  Op op = Op::kAlgoStart;
  char name[32] = {};   // the strategy (start/stop/pause/set)
  char arg[64] = {};    // set: "key=value"
  strategy::ParentSpec spec{};  // algo start; spec.start_ns is a delay from when it is applied
  std::uint32_t parent_id = 0;  // algo cancel
  // kOrder: a manual strategy's limit order (spec.symbol, side, quantity, limit; `ioc`);
  // kCancelOrder: any strategy's working order `order_id`.
  std::uint64_t order_id = 0;
  bool ioc = false;
};
enum class RunState : std::uint8_t { kRunning, kPaused, kStopped };
[[nodiscard]] constexpr const char* to_string(RunState s) noexcept {
  return s == RunState::kRunning ? "running" : s == RunState::kPaused ? "paused" : "stopped";
}

class StrategyStage {
 public:
  static constexpr int kBatch = 64;

  StrategyStage(core::SpscRing<BookEvent>& books_in, core::SpscRing<ExecReport>& reports_in,
                core::SpscRing<OrderIntent>& out, const SymbolTable& symbols, Subscriptions& subscriptions,
                core::Histogram& book_to_decision, std::uint64_t timer_interval_ns)
      : books_in_(books_in), reports_in_(reports_in), out_(out), symbols_(symbols), subs_(subscriptions),
        hop_(book_to_decision), clock_(core::tsc_clock()), timer_interval_ns_(timer_interval_ns),
        books_(symbols.size()), operator_positions_(symbols.size()), subscribers_(symbols.size(), kNoNode) {
    for (std::size_t i = 0; i < books_.size(); ++i) books_[i].locate = static_cast<Locate>(i);
    venue_books_.books[0] = &books_;
  }

  // Issue 14, start-up only: books for `venues` venues (1: as before). Venue v's events update
  // its own views; see sdk.hpp for what strategies hear.
  void set_venues(std::size_t venues) {
    venues = venues < 1 ? 1 : venues > kMaxVenues ? kMaxVenues : venues;
    extra_books_.resize(venues - 1);
    for (std::size_t v = 1; v < venues; ++v) {
      auto& b = extra_books_[v - 1];
      b.assign(books_.size(), strategy::BookView{});
      for (std::size_t i = 0; i < b.size(); ++i) {
        b[i].locate = static_cast<Locate>(i);
        b[i].venue = static_cast<VenueId>(v);
      }
      venue_books_.books[v] = &b;
    }
    venue_books_.venues = venues;
    // The order side: each venue's top per instrument for the router, every venue up until its
    // session flag says otherwise.
    venue_count_ = venues;
    tops_.resize(books_.size(), venue_count_);
    for (std::size_t v = 0; v < venue_count_; ++v) tops_.set_up(static_cast<VenueId>(v), true);
    venue_up_bits_ = (1u << venue_count_) - 1;
    for (auto& st : strategies_) st->ctx.set_venues(venue_count_, &router_, &tops_);
  }
  [[nodiscard]] std::size_t venues() const noexcept { return venue_books_.venues; }
  [[nodiscard]] const strategy::BookView& book(Locate l, VenueId venue) const noexcept {
    return venue < venue_books_.venues ? (*venue_books_.books[venue])[l] : books_[l];
  }

  // Start-up only: adds a strategy that trades `symbols` (resolved to locates from the feed's
  // stock directory as it arrives). `features`: the microstructure features it reads through
  // ctx.features(locate) (pipeline/features). The stage computes the union of what its strategies
  // declared, on their stocks only, and nothing when none declared any.
  // Start-up only: fees of the most recently added strategy (Performance::set_fees).
  void set_fees(double add_per_share, double remove_per_share) noexcept {
    if (!strategies_.empty()) strategies_.back()->perf.set_fees(add_per_share, remove_per_share);
  }

  void add(std::string name, AnyStrategy s, std::vector<std::string> symbols, features::FeatureMask features = 0,
           const features::Params& params = {}) {
    const auto index = static_cast<std::uint8_t>(strategies_.size());
    auto e = std::make_unique<Entry>(Entry{std::move(s), strategy::Context(index, std::move(name), &out_, &books_),
                                           std::move(symbols), {}, 0, RunState::kRunning, {}});
    e->ctx.init_tables(books_.size());
    if (venue_count_ > 1) e->ctx.set_venues(venue_count_, &router_, &tops_);
    e->ctx.set_venue_books(&venue_books_);
    e->all_venues = std::visit([](const auto& strat) {
      if constexpr (requires { std::remove_cvref_t<decltype(strat)>::kAllVenues; })
        return static_cast<bool>(std::remove_cvref_t<decltype(strat)>::kAllVenues);
      else
        return false;
    }, e->strategy);
    e->perf.init(books_.size());
    e->resolved.assign(e->symbols.size(), false);
    unresolved_ += e->symbols.size();
    // Every (strategy, symbol) pair can become one subscriber node: reserve them all now, so
    // that resolving a symbol on the pipeline thread never allocates.
    subscriber_nodes_ += e->symbols.size();
    nodes_.reserve(subscriber_nodes_);
    e->features = features & features::kAllSet;
    if (e->features != 0) {
      feature_union_ |= e->features;
      feature_slots_ += static_cast<std::uint32_t>(e->symbols.size());
      if (!feature_engine_) feature_params_ = params;  // the first declaration's parameters
    }
    strategies_.push_back(std::move(e));
    if (features != 0) {
      feature_engine_ = std::make_unique<features::FeatureEngine>(
          feature_params_, feature_union_, static_cast<std::uint32_t>(books_.size() - 1), feature_slots_);
      for (auto& st : strategies_) st->ctx.set_features(feature_engine_.get(), st->features);
    }
  }
  // The features' engine (nullptr when no strategy declared any) and the time of each update, ns.
  [[nodiscard]] const features::FeatureEngine* features() const noexcept { return feature_engine_.get(); }
  [[nodiscard]] const core::Histogram& feature_time() const noexcept { return *feature_time_; }
  // Start-up: records the feature-update times into `h` instead (hftd: the control file's
  // "feature_update" histogram, so hftctl hist and Prometheus show it).
  void set_feature_histogram(core::Histogram& h) noexcept { feature_time_ = &h; }
  [[nodiscard]] std::size_t size() const noexcept { return strategies_.size(); }
  [[nodiscard]] const strategy::Context& context(std::size_t i) const noexcept { return strategies_[i]->ctx; }

  int poll() noexcept {
    halted_applied_ = halted_.load(std::memory_order_relaxed);  // one relaxed load per pass
    entry_down_applied_ = entry_ready_ != nullptr && !entry_ready_->load(std::memory_order_relaxed);
    if (storm_state_ != nullptr) {
      storm_applied_.state = storm_state_->load(std::memory_order_relaxed);
      storm_applied_.widen = storm_widen_.load(std::memory_order_relaxed);
      storm_applied_.size = storm_size_.load(std::memory_order_relaxed);
    }
    if (skip_idle_ && sim_now_ != nullptr && *sim_now_ > next_timer_ && !tick_needed(*sim_now_)) {
      // Simulated clock (hft-backtest): the ticks skipped before now would have done nothing;
      // back on the grid (next_timer_ + k x interval) at the first point at or after now.
      next_timer_ += (*sim_now_ - next_timer_ + timer_interval_ns_ - 1) / timer_interval_ns_ * timer_interval_ns_;
    }
    int work = 0;
    // Latency first: an event that made a strategy send something ends the batch, so the risk
    // stage (next in a fused thread) puts the order on the wire before the rest is looked at.
    const std::uint64_t sent_before = intents_sent();
    for (; work < kBatch; ++work) {
      const BookEvent* e = books_in_.front();
      if (e == nullptr) break;
      if (e->type != BookEventType::kDepthChange && e->type != BookEventType::kTrade) timer_dirty_ = true;
      else if (e->locate < subscribers_.size() && subscribers_[e->locate] != kNoNode) timer_dirty_ = true;
      on_book_event(*e);
      books_in_.pop();
      if (intents_sent() != sent_before) {
        ++work;
        break;
      }
    }
    for (int i = 0; i < kBatch; ++i, ++work) {
      const ExecReport* r = reports_in_.front();
      if (r == nullptr) break;
      on_report(*r);
      reports_in_.pop();
      timer_dirty_ = true;
    }
    const std::uint64_t now = sim_now_ != nullptr ? *sim_now_ : clock_.to_monotonic_ns(core::pass_rdtsc());
    if (skip_idle_ && sim_now_ != nullptr && now >= next_timer_ && !tick_needed(now)) {
      // Simulated clock (hft-backtest): this tick would do nothing; the next grid point.
      next_timer_ += ((now - next_timer_) / timer_interval_ns_ + 1) * timer_interval_ns_;
    }
    if (now >= next_timer_) {
      timer_dirty_ = false;
      const std::uint64_t sent_at_tick = intents_sent();
      next_timer_ = now + timer_interval_ns_;
      resolve_symbols();
      apply_commands(now);
      const bool sample = now - last_sample_ns_ >= 100'000'000;
      if (sample) last_sample_ns_ = now;
      if (venue_count_ > 1) check_venues();
      for (auto& s : strategies_) {
        if (sample) sample_performance(*s, now);
        if (s->state == RunState::kStopped) continue;
        s->ctx.set_halted(halted_applied_);
        s->ctx.set_entry_down(entry_down_applied_);
        s->ctx.set_event(0, last_timestamp_);
        std::visit([&](auto& strat) {
          if constexpr (requires { strat.on_timer(s->ctx, now); }) strat.on_timer(s->ctx, now);
        }, s->strategy);
      }
      ++counters_.timers;
      if (intents_sent() != sent_at_tick) timer_dirty_ = true;  // may act again on the next tick
    }
    return work;
  }
  [[nodiscard]] const char* name() const noexcept { return "strategy"; }
  // hft-backtest (issue 15): the timer clock is the simulated time at `*now_ns` (ns), not the
  // monotonic clock, so timers fire in simulated time; next_timer_ns() says when the next one is due.
  // `skip_idle`: ticks that would do nothing are skipped (timer_due_ns()); false: every tick runs.
  void set_simulated_clock(const std::uint64_t* now_ns, bool skip_idle = true) noexcept {
    sim_now_ = now_ns;
    skip_idle_ = skip_idle;
  }
  [[nodiscard]] std::uint64_t next_timer_ns() const noexcept { return next_timer_; }
  // With the simulated clock: when the next tick that can do anything is due (a point of the
  // timer grid, >= next_timer_ns()). A tick is needed after any book event or report, after a tick
  // that sent something, while symbols are unresolved, for the 100 ms performance sample, always
  // for a strategy whose on_timer reads the clock (every one without timer_due_feed_ns(): TWAP,
  // scripted ...), and once the feed time reaches a strategy's timer_due_feed_ns(). The skipped
  // ticks are ones that would have called on_timer with nothing to do; live hftd ticks as before.
  [[nodiscard]] std::uint64_t timer_due_ns() const noexcept {
    if (tick_needed(next_timer_)) return next_timer_;
    const std::uint64_t sample = last_sample_ns_ + 100'000'000;
    if (sample <= next_timer_) return next_timer_;
    return next_timer_ + (sample - next_timer_ + timer_interval_ns_ - 1) / timer_interval_ns_ * timer_interval_ns_;
  }
  // The strategies' names in their index order (cold: allocates; the set is fixed after start-up).
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& s : strategies_) out.push_back(s->ctx.name());
    return out;
  }

  // The order-entry session's readiness (the egress stage's published flag): while it is down
  // (or recovering), new orders are refused in the strategy's context (refusals().not_connected)
  // instead of travelling to the egress stage to be refused there (and journaled) one by one.
  void set_order_entry_ready(const std::atomic<bool>* ready) noexcept { entry_ready_ = ready; }
  // Storm Guard's published worst state (the egress stage's), read once per pass, and the WARN
  // factors strategies see in ctx.storm() (issue 11).
  void set_storm_state(const std::atomic<std::uint8_t>* state, double widen, double size) noexcept {
    storm_state_ = state;
    set_storm_factors(widen, size);
  }
  // The WARN factors changed at run time (`hftctl set risk.storm_warn_*`): safe from any thread,
  // applied on this stage's next pass.
  void set_storm_factors(double widen, double size) noexcept {
    storm_widen_.store(widen, std::memory_order_relaxed);
    storm_size_.store(size, std::memory_order_relaxed);
  }
  // ---- several venues (issue 14) ---------------------------------------------------------------
  // Order side (set_venues above does both sides): each venue's session flag (the egress stage's
  // venue_ready_flag), read once per timer tick: a change marks the venue up or down in every
  // strategy's context and the tops, and calls on_venue(ctx, venue, up).
  void set_venue_ready(VenueId venue, const std::atomic<bool>* ready) noexcept {
    if (venue < kMaxVenues) venue_ready_[venue] = ready;
  }
  // The router's fees per venue (1/10,000 $ per share; add < 0: a rebate).
  void set_venue_fees(VenueId venue, oms::VenueFees fees) noexcept { router_.set_fees(venue, fees); }
  // Each venue's top of book per instrument: filled here for venue 0 from the book events; per-venue
  // books (issue 14, the market-data side) fill the other venues through it; tests feed it directly.
  [[nodiscard]] oms::VenueTops& venue_tops() noexcept { return tops_; }
  [[nodiscard]] const oms::Router& router() const noexcept { return router_; }
  // The venues' sessions as last seen (bit v: venue v up), and a check now (tests; poll() does it on its timer).
  [[nodiscard]] std::uint32_t venues_up() const noexcept { return venue_up_bits_; }
  void check_venues() noexcept {
    for (std::size_t v = 0; v < venue_count_; ++v) {
      const std::atomic<bool>* f = venue_ready_[v];
      const bool up = f == nullptr || f->load(std::memory_order_relaxed);
      if (up == (((venue_up_bits_ >> v) & 1u) != 0)) continue;
      venue_up_bits_ ^= 1u << v;
      const auto venue = static_cast<VenueId>(v);
      tops_.set_up(venue, up);
      ++counters_.venue_changes;
      for (auto& st : strategies_) {
        Entry& s = *st;
        s.ctx.set_venue_down(venue, !up);
        if (s.state == RunState::kStopped) continue;
        std::visit([&](auto& strat) {
          if constexpr (requires { strat.on_venue(s.ctx, venue, up); }) strat.on_venue(s.ctx, venue, up);
        }, s.strategy);
      }
    }
  }

  // Each cross_venue_arb's name and counters (cold: allocates; read once the threads have stopped).
  [[nodiscard]] std::vector<std::pair<std::string, strategy::CrossVenueArb::Counters>> arb_counters() const {
    std::vector<std::pair<std::string, strategy::CrossVenueArb::Counters>> out;
    for (const auto& s : strategies_)
      if (const auto* a = std::get_if<strategy::CrossVenueArb>(&s->strategy)) out.emplace_back(s->ctx.name(), a->counters());
    return out;
  }

  // Strategy `i`'s counters when it is a cross_venue_arb, else null (no allocation: publishers).
  [[nodiscard]] const strategy::CrossVenueArb::Counters* arb_counters_of(std::size_t i) const noexcept {
    if (i >= strategies_.size()) return nullptr;
    const auto* a = std::get_if<strategy::CrossVenueArb>(&strategies_[i]->strategy);
    return a == nullptr ? nullptr : &a->counters();
  }

  // Operator halt (hftctl halt/resume): strategies stop sending new orders and replaces.
  void set_halted(bool on) noexcept { halted_.store(on, std::memory_order_relaxed); }
  [[nodiscard]] const StrategyStageCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t intents_sent() const noexcept {
    std::uint64_t n = 0;
    for (const auto& s : strategies_) n += s->ctx.intents_sent();
    return n;
  }
  [[nodiscard]] const strategy::BookView& book(Locate l) const noexcept { return books_[l]; }
  // The operator ledger: fills of the operator's orders (flatten) that closed no strategy's
  // position, per locate.
  [[nodiscard]] const strategy::Position& operator_position(Locate l) const noexcept { return operator_positions_[l]; }
  // Per symbol, every strategy's position plus the operator's: what the order manager booked
  // (cold; for reports and tests).
  [[nodiscard]] strategy::Position total_position(Locate l) const noexcept {
    strategy::Position t = operator_positions_[l];
    for (const auto& s : strategies_) {
      const strategy::Position& p = s->ctx.position(l);
      t.shares += p.shares;
      t.cash += p.cash;
      t.bought += p.bought;
      t.sold += p.sold;
    }
    return t;
  }

 private:
  struct Entry {
    AnyStrategy strategy;
    strategy::Context ctx;
    std::vector<std::string> symbols;
    std::vector<bool> resolved;
    features::FeatureMask features = 0;
    RunState state = RunState::kRunning;
    strategy::Performance perf;
    bool all_venues = false;  // hears every venue's events (kAllVenues), not only the first's
  };

  // Total P&L of a strategy now (realized + unrealized at mid), dollars.
  [[nodiscard]] double total_pnl(const Entry& s) const noexcept {
    return s.perf.realized() + s.perf.unrealized(s.ctx.symbols(), [&](Locate l) {
      const strategy::BookView& b = books_[l];
      return b.two_sided() ? b.mid() * 1e-4 : 0.0;
    });
  }
  [[nodiscard]] bool tick_needed(std::uint64_t now) const noexcept {
    if (timer_dirty_ || unresolved_ != 0 || now - last_sample_ns_ >= 100'000'000 || now < last_sample_ns_) return true;
    for (const auto& s : strategies_) {
      if (s->state == RunState::kStopped) continue;
      const bool due = std::visit([&](const auto& strat) {
        if constexpr (requires { strat.timer_due_feed_ns(s->ctx); }) return strat.timer_due_feed_ns(s->ctx) <= last_timestamp_;
        else if constexpr (requires(std::remove_cvref_t<decltype(strat)>& m, strategy::Context& c) { m.on_timer(c, std::uint64_t{0}); }) return true;
        else return false;
      }, s->strategy);
      if (due) return true;
    }
    return false;
  }

  void sample_performance(Entry& s, std::uint64_t now) noexcept { s.perf.sample(total_pnl(s), now); }

  // Operator commands, on this thread (once per timer tick; hftctl waits on applied()).
  void apply_commands(std::uint64_t now) noexcept {
    StrategyCommand c;
    while (commands_.try_pop(c)) {
      result_ok_ = apply_command(c, now);
      applied_.store(c.id, std::memory_order_release);
    }
  }
  Entry* entry_named(const char* name) noexcept {
    for (auto& s : strategies_)
      if (s->ctx.name() == name) return s.get();
    return nullptr;
  }
  template <class... A>
  void say(const char* fmt, A... a) noexcept {
    std::snprintf(result_, sizeof result_, fmt, a...);
  }
  bool apply_command(const StrategyCommand& c, std::uint64_t now) noexcept {
    using Op = StrategyCommand::Op;
    if (c.op == Op::kAlgoStart) {
      for (auto& s : strategies_) {
        if (s->state != RunState::kRunning) continue;
        bool took = false;
        std::uint32_t id = 0;
        std::visit([&](auto& strat) {
          if constexpr (requires { strat.start(c.spec, 1u); strat.trades(c.spec.symbol); }) {
            if (!strat.trades(c.spec.symbol)) return;
            took = true;
            strategy::ParentSpec spec = c.spec;
            spec.start_ns = now + c.spec.start_ns;
            id = strat.start(spec, next_parent_id_ + 1);
          }
        }, s->strategy);
        if (!took) continue;
        if (id == 0) {
          say("%s: no free parent order slot", s->ctx.name().c_str());
          return false;
        }
        ++next_parent_id_;
        say("%u", id);
        return true;
      }
      say("no running execution strategy trades %.8s (add one to [[strategies]] with the symbol)", c.spec.symbol.data());
      return false;
    }
    if (c.op == Op::kAlgoCancel) {
      for (auto& s : strategies_) {
        bool done = false;
        std::visit([&](auto& strat) {
          if constexpr (requires { strat.cancel(s->ctx, 1u); }) done = strat.cancel(s->ctx, c.parent_id);
        }, s->strategy);
        if (done) {
          say("parent %u canceled", c.parent_id);
          return true;
        }
      }
      say("no working parent order %u", c.parent_id);
      return false;
    }
    if (c.op == Op::kOrder) {
      for (auto& s : strategies_) {
        auto* m = std::get_if<strategy::ManualOrders>(&s->strategy);
        if (m == nullptr || s->state != RunState::kRunning || strategy::ManualOrders::locate_of(s->ctx, c.spec.symbol) < 0)
          continue;
        const char* why = "";
        const std::uint64_t id = m->place(s->ctx, c.spec.symbol, c.spec.side, c.spec.quantity, c.spec.limit, c.ioc, why);
        if (id == 0) {
          say("%s: refused: %s", s->ctx.name().c_str(), why);
          return false;
        }
        say("%llu", static_cast<unsigned long long>(id));
        return true;
      }
      say("no running manual strategy trades %.8s (add [[strategies]] type = \"manual\" with the symbol)", c.spec.symbol.data());
      return false;
    }
    if (c.op == Op::kCancelOrder) {
      for (auto& s : strategies_) {
        const strategy::WorkingOrder* o = s->ctx.order(c.order_id);
        if (o == nullptr) continue;
        if (o->state == strategy::OrderState::kPendingCancel) {
          say("order %llu is already being canceled", static_cast<unsigned long long>(c.order_id));
          return false;
        }
        if (!s->ctx.cancel(c.order_id)) {
          say("order %llu: the order queue is full; try again", static_cast<unsigned long long>(c.order_id));
          return false;
        }
        say("order %llu of %s: cancel sent", static_cast<unsigned long long>(c.order_id), s->ctx.name().c_str());
        return true;
      }
      say("no working order %llu", static_cast<unsigned long long>(c.order_id));
      return false;
    }
    Entry* e = entry_named(c.name);
    if (e == nullptr) {
      std::string names;
      for (auto& s : strategies_) names.append(names.empty() ? "" : ", ").append(s->ctx.name());
      say("no strategy named \"%s\" (running: %s)", c.name, names.c_str());
      return false;
    }
    switch (c.op) {
      case Op::kStart:
        e->state = RunState::kRunning;
        e->ctx.set_paused(false);
        say("%s running", c.name);
        return true;
      case Op::kPause:
        e->state = RunState::kPaused;
        e->ctx.set_paused(true);
        say("%s paused: no new orders or replaces; its %zu working orders stay", c.name, e->ctx.working_count());
        return true;
      case Op::kStop:
        e->state = RunState::kStopped;
        e->ctx.set_paused(true);
        e->ctx.clear_stops();
        say("%s stopped: %zu working orders being canceled", c.name, e->ctx.working_count());
        e->ctx.cancel_all();
        return true;
      case Op::kSet: {
        const std::string_view arg(c.arg, ::strnlen(c.arg, sizeof c.arg));
        const auto eq = arg.find('=');
        if (eq == std::string_view::npos || eq == 0) {
          say("expected key=value, got \"%s\"", c.arg);
          return false;
        }
        std::string err = "this strategy has no run-time parameters";
        std::visit([&](auto& strat) {
          if constexpr (requires { strat.mutable_params(); })
            err = strategy::param::set(strat.mutable_params(), arg.substr(0, eq), arg.substr(eq + 1));
        }, e->strategy);
        if (!err.empty()) {
          say("%s: refused: %s", c.name, err.c_str());
          return false;
        }
        say("%s: %s", c.name, c.arg);
        return true;
      }
      default: break;
    }
    say("unknown command");
    return false;
  }

  // One book event into the features (before the strategies' callbacks read them).
  void update_features(const BookEvent& e, const features::Event& fe, bool depth) noexcept {
    const std::uint64_t t0 = core::rdtsc();
    feature_engine_->consume(e.locate);  // flows are per book event: this one's alone
    if (depth) {
      features::Depth d;
      for (int i = 0; i < kDepth; ++i) {
        const auto k = static_cast<std::size_t>(i);
        d.bid_px[k] = e.bids[i].price > 0 ? static_cast<std::uint32_t>(e.bids[i].price) : 0;
        d.bid_sz[k] = d.bid_px[k] != 0 ? e.bids[i].shares : 0;
        d.ask_px[k] = e.asks[i].price > 0 ? static_cast<std::uint32_t>(e.asks[i].price) : 0;
        d.ask_sz[k] = d.ask_px[k] != 0 ? e.asks[i].shares : 0;
      }
      feature_engine_->update(e.locate, fe, d);
    } else {
      const features::Depth* d = feature_engine_->depth(e.locate);
      feature_engine_->update(e.locate, fe, d != nullptr ? *d : features::Depth{});
    }
    feature_time_->record(clock_.to_ns(core::rdtsc() - t0));
  }

  // The L3 fact a book event carries, as the features' event (kOther when it carries none).
  static features::Event l3_event(const BookEvent& e) noexcept {
    static constexpr features::EventKind kKinds[] = {features::EventKind::kOther, features::EventKind::kAdd,
                                                     features::EventKind::kCancel, features::EventKind::kDelete,
                                                     features::EventKind::kExecute, features::EventKind::kReplace};
    const auto k = static_cast<std::size_t>(e.l3_kind());
    return features::Event{e.timestamp, k < std::size(kKinds) ? kKinds[k] : features::EventKind::kOther, e.l3_side(),
                           e.l3_shares(), e.l3_price(), e.l3_new_shares()};
  }

  // Symbols become locates when the feed's directory names them (on timer ticks, until every
  // symbol is resolved; each lookup is a few probes of SymbolTable's index, pipeline/symbols.hpp).
  void resolve_symbols() noexcept {
    if (unresolved_ == 0) return;
    for (auto& s : strategies_) {
      for (std::size_t i = 0; i < s->symbols.size(); ++i) {
        if (s->resolved[i]) continue;
        const Locate l = symbols_.locate_of(s->symbols[i]);
        if (l == 0) continue;
        s->resolved[i] = true;
        --unresolved_;
        if (!add_subscriber(l, s->ctx.index())) continue;  // the same symbol twice in one list
        s->ctx.subscribe(l);
        books_[l].symbol = symbols_.symbol(l).chars;
        subs_.set(l);
      }
    }
  }

  // Appends `strategy` to the subscribers of `locate` (into a node reserved by add()); false if
  // it is there already.
  bool add_subscriber(Locate locate, std::uint8_t strategy) noexcept {
    std::uint32_t* link = &subscribers_[locate];
    for (; *link != kNoNode; link = &nodes_[*link].next)
      if (nodes_[*link].strategy == strategy) return false;
    *link = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back(SubscriberNode{kNoNode, strategy});  // within the capacity reserved by add()
    return true;
  }

  template <class F>
  void each_subscriber(Locate locate, std::uint64_t origin_tsc, std::uint64_t stage_tsc, F&& f, VenueId venue = 0) noexcept {
    for (std::uint32_t n = subscribers_[locate]; n != kNoNode; n = nodes_[n].next) {
      Entry& s = *strategies_[nodes_[n].strategy];
      if (s.state == RunState::kStopped) continue;
      if (venue != 0 && !s.all_venues) continue;  // another venue's event: kAllVenues strategies only
      s.ctx.set_halted(halted_applied_);
      s.ctx.set_entry_down(entry_down_applied_);
      s.ctx.set_storm(storm_applied_);
      s.ctx.set_event(origin_tsc, last_timestamp_);
      const std::uint64_t sent = s.ctx.intents_sent();
      std::visit([&](auto& strat) { f(strat, s.ctx); }, s.strategy);
      if (s.ctx.intents_sent() != sent && stage_tsc != 0)
        hop_.record(clock_.to_ns(s.ctx.last_decision_tsc() - stage_tsc));
    }
  }

  // A depth change into a book view (any venue's): the levels, order counts, time and staleness.
  static void apply_depth(strategy::BookView& b, const BookEvent& e, bool stale) noexcept {
    for (int i = 0; i < kDepth; ++i) {
      b.bids[static_cast<std::size_t>(i)] = e.bids[i];
      b.asks[static_cast<std::size_t>(i)] = e.asks[i];
    }
    b.bid_orders = e.bid_orders;
    b.ask_orders = e.ask_orders;
    b.timestamp = e.timestamp;
    b.stale = stale;
  }

  void on_book_event(const BookEvent& e) noexcept {
    ++counters_.book_events;
    last_timestamp_ = e.timestamp;
    if (e.venue != 0) [[unlikely]] {
      on_venue_event(e);
      return;
    }
    switch (e.type) {
      case BookEventType::kDepthChange: {
        if (e.locate >= books_.size()) return;
        strategy::BookView& b = books_[e.locate];
        apply_depth(b, e, feed_stale_);
        if (venue_count_ > 1) set_top(0, e.locate, b);  // issue 14: venue 0's top (the one book until per-venue books)
        if (feature_engine_) update_features(e, l3_event(e), true);
        each_subscriber(e.locate, e.origin_tsc, e.stage_tsc, [&](auto& strat, strategy::Context& ctx) {
          ctx.trigger_stops(b, false);  // held stops on the touch (nothing to do when none held)
          if constexpr (requires { strat.on_book(ctx, b); }) strat.on_book(ctx, b);
        });
        return;
      }
      case BookEventType::kTrade: {
        if (e.locate >= books_.size()) return;
        ++counters_.trades;
        books_[e.locate].last_trade_price = e.trade_price;
        const strategy::TradePrint t{e.locate, e.trade_price, e.trade_shares, e.trade_side, e.timestamp};
        // The features take the execution from the L3 fact of the event that follows (the depth
        // after it, or kOrder): one update per message, as the features' book driver makes.
        each_subscriber(e.locate, e.origin_tsc, e.stage_tsc, [&](auto& strat, strategy::Context& ctx) {
          ctx.trigger_stops(books_[e.locate], true);  // held stops on the last trade
          if constexpr (requires { strat.on_trade(ctx, t); }) strat.on_trade(ctx, t);
        });
        return;
      }
      case BookEventType::kOrder:
        // An order-book message below the top levels: its L3 fact into the features, depth as it was.
        if (feature_engine_ && e.locate < books_.size()) update_features(e, l3_event(e), false);
        return;
      case BookEventType::kFeedReset:
        // A new feed session (net_stage.hpp): the old day's depth is gone; stale until rebuilt.
        for (auto& b : books_) {
          const Locate l = b.locate;
          const auto symbol = b.symbol;
          b = strategy::BookView{};
          b.locate = l;
          b.symbol = symbol;
        }
        if (feature_engine_) feature_engine_->reset();
        [[fallthrough]];
      case BookEventType::kFeedStale:
      case BookEventType::kFeedFresh: {
        feed_stale_ = e.type != BookEventType::kFeedFresh;
        venue_books_.stale[0] = feed_stale_;
        ++counters_.stale_marks;
        for (auto& b : books_) b.stale = feed_stale_ || b.timestamp == 0;
        tell_feed(e, 0, feed_stale_);
        return;
      }
      case BookEventType::kTradingState: {
        if (e.locate >= books_.size()) return;
        const char state = e.trading_state();
        books_[e.locate].trading_state = state;  // kept for a strategy that subscribes later
        each_subscriber(e.locate, e.origin_tsc, e.stage_tsc, [&](auto& strat, strategy::Context& ctx) {
          if constexpr (requires { strat.on_trading_state(ctx, e.locate, state); })
            strat.on_trading_state(ctx, e.locate, state);
        });
        return;
      }
    }
  }

  // on_feed: (Context&, VenueId, bool) to a strategy that has it, else (Context&, bool) for the
  // first venue's feed only.
  void tell_feed(const BookEvent& e, VenueId venue, bool stale) noexcept {
    for (auto& s : strategies_) {
      s->ctx.set_event(e.origin_tsc, last_timestamp_);
      std::visit([&](auto& strat) {
        if constexpr (requires { strat.on_feed(s->ctx, venue, stale); }) strat.on_feed(s->ctx, venue, stale);
        else if constexpr (requires { strat.on_feed(s->ctx, stale); }) {
          if (venue == 0) strat.on_feed(s->ctx, stale);
        }
      }, s->strategy);
    }
  }

  // Issue 14: an event of a venue other than the first: its own views; only kAllVenues strategies
  // hear it (the features, held stops and single-venue strategies follow the first venue).
  void on_venue_event(const BookEvent& e) noexcept {
    const VenueId v = static_cast<VenueId>(e.venue);
    if (v >= venue_books_.venues) {
      ++counters_.unknown_venue;
      return;
    }
    std::vector<strategy::BookView>& books = extra_books_[v - 1];
    const bool stale = venue_books_.stale[v];
    switch (e.type) {
      case BookEventType::kDepthChange: {
        if (e.locate >= books.size()) return;
        strategy::BookView& b = books[e.locate];
        apply_depth(b, e, stale);
        b.symbol = books_[e.locate].symbol;
        if (v < venue_count_) set_top(v, e.locate, b);  // the router's and the strategies' venue tops
        each_subscriber(e.locate, e.origin_tsc, e.stage_tsc, [&](auto& strat, strategy::Context& ctx) {
          if constexpr (requires { strat.on_book(ctx, b); }) strat.on_book(ctx, b);
        }, v);
        return;
      }
      case BookEventType::kTrade: {
        if (e.locate >= books.size()) return;
        ++counters_.trades;
        books[e.locate].last_trade_price = e.trade_price;
        const strategy::TradePrint t{e.locate, e.trade_price, e.trade_shares, e.trade_side, e.timestamp, v};
        each_subscriber(e.locate, e.origin_tsc, e.stage_tsc, [&](auto& strat, strategy::Context& ctx) {
          if constexpr (requires { strat.on_trade(ctx, t); }) strat.on_trade(ctx, t);
        }, v);
        return;
      }
      case BookEventType::kOrder: return;
      case BookEventType::kFeedReset:
        for (auto& b : books) {
          const Locate l = b.locate;
          b = strategy::BookView{};
          b.locate = l;
          b.venue = v;
        }
        [[fallthrough]];
      case BookEventType::kFeedStale:
      case BookEventType::kFeedFresh: {
        const bool now_stale = e.type != BookEventType::kFeedFresh;
        venue_books_.stale[v] = now_stale;
        ++counters_.stale_marks;
        for (auto& b : books) b.stale = now_stale || b.timestamp == 0;
        tell_feed(e, v, now_stale);
        return;
      }
      case BookEventType::kTradingState: {
        if (e.locate >= books.size()) return;
        const char state = e.trading_state();
        books[e.locate].trading_state = state;
        each_subscriber(e.locate, e.origin_tsc, e.stage_tsc, [&](auto& strat, strategy::Context& ctx) {
          if constexpr (requires { strat.on_trading_state(ctx, e.locate, state); })
            strat.on_trading_state(ctx, e.locate, state);
        }, v);
        return;
      }
    }
  }

  void on_report(const ExecReport& r) noexcept {
    ++counters_.reports;
    if (r.strategy == kOperatorStrategy) {
      if (r.type == ReportType::kFill && r.locate < operator_positions_.size()) on_flatten_fill(r);
      return;
    }
    if (r.strategy >= strategies_.size()) {
      ++counters_.unknown_owner;
      return;
    }
    Entry& s = *strategies_[r.strategy];
    s.ctx.set_event(r.origin_tsc, last_timestamp_);
    const strategy::WorkingOrder* o = s.ctx.apply(r);
    if (r.type == ReportType::kFill) {
      const std::uint64_t sent = s.ctx.last_fill_sent_tsc();
      const bool first = s.ctx.last_fill_first() && sent != 0;
      s.perf.on_fill(r.locate, r.side, r.price, r.quantity, first,
                     first ? static_cast<double>(clock_.to_ns(core::rdtsc() - sent)) : 0.0, r.liquidity);
    } else if (r.type == ReportType::kCanceled) {
      s.perf.on_cancel();
    } else if (r.type == ReportType::kRejected) {
      s.perf.on_reject();
    }
    std::visit([&](auto& strat) {
      if (r.type == ReportType::kFill) {
        const strategy::Fill f{r.order_id, r.locate, r.side, r.price, r.quantity, r.leaves};
        if constexpr (requires { strat.on_fill(s.ctx, f); }) strat.on_fill(s.ctx, f);
      } else {
        const strategy::OrderUpdate u{o != nullptr && o->state != strategy::OrderState::kDone ? o : nullptr, r.order_id,
                                      r.type, r.reason, r.venue_code};
        if constexpr (requires { strat.on_order(s.ctx, u); }) strat.on_order(s.ctx, u);
      }
    }, s.strategy);
  }

  // ---- crash recovery (pipeline/app/recovery.hpp; before the threads start) -----------------
 public:
  // ---- operator commands and status (hftctl algo / strategy) --------------------------------
  // Control thread: queues a command (false when the queue is full); its outcome is ready once
  // applied() == cmd.id (acquire), in result().
  bool post(const StrategyCommand& cmd) noexcept { return commands_.try_push(cmd); }
  [[nodiscard]] std::uint32_t applied() const noexcept { return applied_.load(std::memory_order_acquire); }
  [[nodiscard]] std::pair<bool, std::string> result() const { return {result_ok_, std::string(result_)}; }
  // Strategy thread (the control file's publisher) or tests: every parent order of the execution
  // strategies, as f(strategy name, const strategy::Parent&).
  template <class F>
  void for_each_parent(F&& f) const {
    for (const auto& s : strategies_)
      std::visit([&](const auto& strat) {
        if constexpr (requires { strat.parents(); })
          for (const strategy::Parent& p : strat.parents())
            if (p.id != 0) f(s->ctx.name(), p);
      }, s->strategy);
  }
  // Strategy thread or tests: f(name, type, state, performance, unrealized P&L in dollars, position).
  template <class F>
  void for_each_strategy(F&& f) const {
    for (const auto& s : strategies_)
      f(s->ctx.name(), strategy::type_name(s->strategy), s->state, s->perf, total_pnl(*s) - s->perf.realized(),
        s->ctx.new_orders());
  }
  // Strategy thread (the publisher): f(signal name, value) for strategy i when it has a signal().
  template <class F>
  void signal_of(std::size_t i, F&& f) const {
    if (i >= strategies_.size()) return;
    std::visit([&](const auto& strat) {
      if constexpr (requires { strat.signal(); }) {
        const auto [name, value] = strat.signal();
        f(name, value);
      }
    }, strategies_[i]->strategy);
  }
  [[nodiscard]] RunState run_state(std::size_t i) const noexcept { return strategies_[i]->state; }
  [[nodiscard]] const strategy::Performance& performance(std::size_t i) const noexcept { return strategies_[i]->perf; }
  // Tests: the strategy object of entry i (std::get_if on the variant).
  template <class S>
  [[nodiscard]] S* strategy_as(std::size_t i) noexcept { return std::get_if<S>(&strategies_[i]->strategy); }
  // A fill the journal holds: booked in the owning context's position (an operator's flatten fill
  // split as on_flatten_fill does), no strategy callback.
  void restore_fill(const ExecReport& r) noexcept {
    if (r.type != ReportType::kFill) return;
    if (r.strategy == kOperatorStrategy) {
      if (r.locate >= operator_positions_.size()) return;
      Quantity rest = r.quantity;
      for (auto& sp : strategies_) {
        if (rest == 0) break;
        const std::int64_t held = sp->ctx.position(r.locate).shares;
        const std::int64_t closable = r.side == Side::kSell ? held : -held;
        if (closable <= 0) continue;
        const Quantity q = closable < static_cast<std::int64_t>(rest) ? static_cast<Quantity>(closable) : rest;
        rest -= q;
        sp->ctx.book_flatten(r.locate, r.side, r.price, q);
      }
      if (rest != 0) operator_positions_[r.locate].book(r.side, r.price, rest);
      return;
    }
    if (r.strategy < strategies_.size()) strategies_[r.strategy]->ctx.restore_fill(r);
  }
  bool adopt(std::uint8_t strategy, const strategy::WorkingOrder& w) noexcept {
    return strategy < strategies_.size() && strategies_[strategy]->ctx.adopt(w);
  }
  void restore_sequence(std::uint8_t strategy, std::uint64_t next_seq) noexcept {
    if (strategy < strategies_.size()) strategies_[strategy]->ctx.restore_sequence(next_seq);
  }

 private:
  // A fill of the operator's flatten order: it closes positions the strategies opened. It is
  // booked against the strategies holding the opposite position on that symbol, in the order
  // they were added, each down to zero at most, and each hears of it (on_fill, Fill::flatten);
  // the rest (nobody held it) goes to the operator ledger. The sum over contexts and the
  // operator ledger stays the order manager's position.
  void on_flatten_fill(const ExecReport& r) noexcept {
    ++counters_.operator_fills;
    Quantity rest = r.quantity;
    for (auto& sp : strategies_) {
      if (rest == 0) break;
      Entry& s = *sp;
      const std::int64_t held = s.ctx.position(r.locate).shares;
      // A sell closes a long, a buy closes a short.
      const std::int64_t closable = r.side == Side::kSell ? held : -held;
      if (closable <= 0) continue;
      const Quantity q = closable < static_cast<std::int64_t>(rest) ? static_cast<Quantity>(closable) : rest;
      rest -= q;
      s.ctx.book_flatten(r.locate, r.side, r.price, q);
      ++counters_.flatten_fills_to_strategies;
      s.ctx.set_halted(halted_applied_);
      s.ctx.set_entry_down(entry_down_applied_);
      s.ctx.set_event(r.origin_tsc, last_timestamp_);
      const strategy::Fill f{r.order_id, r.locate, r.side, r.price, q, 0, true};
      std::visit([&](auto& strat) {
        if constexpr (requires { strat.on_fill(s.ctx, f); }) strat.on_fill(s.ctx, f);
      }, s.strategy);
    }
    if (rest != 0) operator_positions_[r.locate].book(r.side, r.price, rest);
  }

  core::SpscRing<BookEvent>& books_in_;
  core::SpscRing<ExecReport>& reports_in_;
  core::SpscRing<OrderIntent>& out_;
  const SymbolTable& symbols_;
  Subscriptions& subs_;
  core::Histogram& hop_;
  const core::TscClock& clock_;
  std::uint64_t timer_interval_ns_;
  std::uint64_t next_timer_ = 0;
  std::vector<strategy::BookView> books_;  // the first venue's (the only one's)
  std::vector<std::vector<strategy::BookView>> extra_books_;  // issue 14: venues 1.. (set_venues)
  strategy::VenueBooks venue_books_;
  std::vector<strategy::Position> operator_positions_;  // per locate
  // Strategies subscribed to a stock: a list per locate through nodes reserved at start-up, in
  // the order the strategies were added, any number of them.
  static constexpr std::uint32_t kNoNode = ~std::uint32_t{0};
  struct SubscriberNode {
    std::uint32_t next;
    std::uint8_t strategy;
  };
  std::vector<std::uint32_t> subscribers_;  // per locate: first node, or kNoNode
  std::vector<SubscriberNode> nodes_;
  std::size_t subscriber_nodes_ = 0;
  std::size_t unresolved_ = 0;  // (strategy, symbol) pairs not yet found in the directory
  std::vector<std::unique_ptr<Entry>> strategies_;
  std::unique_ptr<features::FeatureEngine> feature_engine_;
  features::FeatureMask feature_union_ = 0;
  features::Params feature_params_;
  std::uint32_t feature_slots_ = 0;
  core::Histogram own_feature_time_{1, 10'000'000'000ull, 3};
  core::Histogram* feature_time_ = &own_feature_time_;
  std::atomic<bool> halted_{false};
  bool halted_applied_ = false;
  const std::atomic<bool>* entry_ready_ = nullptr;
  const std::atomic<std::uint8_t>* storm_state_ = nullptr;
  std::atomic<double> storm_widen_{2}, storm_size_{0.5};
  strategy::Context::Storm storm_applied_;
  bool entry_down_applied_ = false;
  bool feed_stale_ = false;
  std::uint64_t last_timestamp_ = 0;
  StrategyStageCounters counters_;
  core::SpscRing<StrategyCommand> commands_{16};
  std::atomic<std::uint32_t> applied_{0};
  bool result_ok_ = false;
  char result_[120] = {};
  std::uint32_t next_parent_id_ = 0;
  std::uint64_t last_sample_ns_ = 0;
  const std::uint64_t* sim_now_ = nullptr;
  bool skip_idle_ = false;
  bool timer_dirty_ = true;  // simulated clock: something happened since the last tick
  // issue 14: several venues
  void set_top(VenueId venue, Locate locate, const strategy::BookView& b) noexcept {
    oms::VenueTop t;
    t.bid = b.bids[0].price;
    t.ask = b.asks[0].price;
    t.bid_shares = b.bids[0].shares;
    t.ask_shares = b.asks[0].shares;
    t.up = ((venue_up_bits_ >> venue) & 1u) != 0 && !b.stale;
    tops_.set(venue, locate, t);
  }
  std::size_t venue_count_ = 1;
  std::uint32_t venue_up_bits_ = 1;
  std::array<const std::atomic<bool>*, kMaxVenues> venue_ready_{};
  oms::Router router_;
  oms::VenueTops tops_;
};

}  // namespace hft::pipeline
