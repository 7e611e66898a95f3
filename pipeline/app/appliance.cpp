#include "pipeline/app/appliance.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/arena.hpp"
#include "core/log.hpp"
#include "core/runner.hpp"
#include "net/epoll_backend.hpp"
#include "net/uring_backend.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/publisher.hpp"
#include "pipeline/oms/order_manager.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/net_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"

namespace hft::app {
namespace {

using namespace hft::pipeline;

template <class T>
core::SpscRing<T>* make_ring(core::Arena& arena, std::size_t capacity) {
  auto cells = arena.allocate_array<typename core::SpscRing<T>::Cell>(capacity);
  if (cells.empty()) throw std::runtime_error(fmt::format("arena too small for a ring of {} events", capacity));
  auto* ring = arena.create<core::SpscRing<T>>(cells);
  if (ring == nullptr) throw std::runtime_error("arena too small for a ring");
  return ring;
}

const core::HistogramLayout& histogram_layout() {
  static const auto layout = core::HistogramLayout::make(1, 60'000'000'000ull, 3);  // 1 ns .. 60 s, 3 digits
  return layout;
}

// A latency histogram whose counts live in the control file (hftctl reads them live), or in the
// arena when there is no control file. The Histogram object itself is in the arena.
core::Histogram* make_histogram(core::Arena& arena, control::ControlFile* cf, const char* name) {
  std::span<std::uint64_t> counts = cf != nullptr ? cf->histogram(name) : std::span<std::uint64_t>{};
  if (counts.empty()) counts = arena.allocate_array<std::uint64_t>(histogram_layout().counts_len);
  if (counts.empty()) throw std::runtime_error("arena too small for the latency histograms");
  return arena.create<core::Histogram>(histogram_layout(), counts);
}

std::unique_ptr<control::ControlFile> make_control(const HftdConfig& c) {
  if (!c.control) return nullptr;
  control::ControlSizes sizes;
  sizes.threads = static_cast<std::uint32_t>(c.runtime.threads.size() + 2);
  return std::make_unique<control::ControlFile>(c.instance, sizes, histogram_layout(), c.control_dir);
}

const char* reject_name(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return "none";
    case RejectReason::kMaxOrderQuantity: return "max_order_quantity";
    case RejectReason::kMaxNotional: return "max_notional";
    case RejectReason::kPriceBand: return "price_band";
    case RejectReason::kNoReferencePrice: return "no_reference_price";
    case RejectReason::kPositionLimit: return "position_limit";
    case RejectReason::kOpenOrderLimit: return "open_order_limit";
    case RejectReason::kOrderRate: return "order_rate";
    case RejectReason::kKillSwitch: return "kill_switch";
    case RejectReason::kHalted: return "halted";
    case RejectReason::kNotConnected: return "not_connected";
    case RejectReason::kUnknownOrder: return "unknown_order";
    case RejectReason::kBacklog: return "backlog";
    case RejectReason::kVenue: return "venue";
  }
  return "other";
}

// Publishes `value` (read on the owning thread) into a control-file counter.
struct Out {
  control::CounterSlot* slot = nullptr;
  void operator=(std::uint64_t v) const noexcept {
    if (slot != nullptr) slot->value.store(v, std::memory_order_relaxed);
  }
};

}  // namespace

// The pipeline for one backend type.
struct PipelineBase {
  virtual ~PipelineBase() = default;
  virtual void start() = 0;
  virtual Summary stop() = 0;
  virtual void halt(bool on) noexcept = 0;
  virtual void kill_switch(bool on) noexcept = 0;
  [[nodiscard]] virtual bool ready() const noexcept = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
  virtual void control_tick() = 0;
  virtual std::vector<std::string> dump_histograms() = 0;
  [[nodiscard]] virtual std::string control_path() const = 0;
  [[nodiscard]] virtual std::vector<int> thread_ids() const = 0;
};

template <class Backend>
class Pipeline final : public PipelineBase {
 public:
  explicit Pipeline(const HftdConfig& c)
      : config_(c),
        control_(make_control(c)),
        arena_(c.runtime.memory),
        symbols_(c.book.max_locate + 1),
        refs_(c.book.max_locate + 1),
        subs_(c.book.max_locate + 1),
        books_(c.book),
        oms_(c.max_orders, c.book.max_locate + 1, 1),
        gate_(c.risk, core::tsc_clock().uses_tsc() ? core::tsc_clock().ticks_per_ns() * 1e9 : 1e9),
        rx_(make_ring<RxMessage>(arena_, c.rings.net_parse)),
        md_(make_ring<MdEvent>(arena_, c.rings.parse_book)),
        book_events_(make_ring<BookEvent>(arena_, c.rings.book_strategy)),
        intents_(make_ring<OrderIntent>(arena_, c.rings.strategy_risk)),
        reports_(make_ring<ExecReport>(arena_, c.rings.risk_strategy)),
        h_kernel_(make_histogram(arena_, control_.get(), "kernel_to_user")),
        h_parse_(make_histogram(arena_, control_.get(), "rx_to_parsed")),
        h_book_(make_histogram(arena_, control_.get(), "parsed_to_book")),
        h_decide_(make_histogram(arena_, control_.get(), "book_to_decision")),
        h_wire_(make_histogram(arena_, control_.get(), "decision_to_wire")),
        h_t2t_(make_histogram(arena_, control_.get(), "tick_to_trade")),
        h_send_(make_histogram(arena_, control_.get(), "send_call")),
        control_ring_(64),
        net_backend_(c.net),
        oe_backend_(c.net),
        net_(net_backend_, c.feed, *rx_, *h_kernel_),
        parse_(*rx_, *md_, *h_parse_),
        book_(*md_, *book_events_, books_, symbols_, refs_, subs_, *h_book_),
        strategy_(*book_events_, *reports_, *intents_, symbols_, subs_, *h_decide_, c.timer_ns),
        egress_(oe_backend_, c.order_entry, *intents_, *reports_, gate_, refs_, symbols_, oms_,
                typename EgressStage<Backend>::Hops{h_wire_, h_t2t_, h_send_}) {
    for (const auto& s : c.strategies) {
      if (const auto* p = std::get_if<strategy::ProbeParams>(&s.params))
        strategy_.add(s.name, strategy::ProbeStrategy(*p), s.symbols);
      else if (const auto* q = std::get_if<strategy::ScriptedParams>(&s.params))
        strategy_.add(s.name, strategy::ScriptedStrategy(*q), s.symbols);
      else
        strategy_.add(s.name, strategy::MarketMaker(std::get<strategy::MarketMakerParams>(s.params)), s.symbols);
    }
    egress_.set_control_ring(&control_ring_);
    limits_ = c.risk;
    for (const auto& t : c.runtime.threads) {
      std::vector<core::StageRef> refs;
      auto& publisher = publishers_.emplace_back(std::make_unique<control::Publisher>(c.publish_interval_ns));
      for (const auto& st : t.stages) {
        if (st == "net") refs.push_back(core::StageRef::of(net_));
        else if (st == "parse") refs.push_back(core::StageRef::of(parse_));
        else if (st == "book") refs.push_back(core::StageRef::of(book_));
        else if (st == "strategy") refs.push_back(core::StageRef::of(strategy_));
        else refs.push_back(core::StageRef::of(egress_));
        if (control_) add_publisher(*publisher, st);
      }
      if (!publisher->empty()) refs.push_back(core::StageRef::of(*publisher));
      core::RunnerOptions o;
      o.name = t.name;
      o.cpu = t.cpu;
      o.idle = t.idle;
      o.fifo_priority = t.fifo_priority;
      runners_.push_back(std::make_unique<core::Runner>(o, std::move(refs)));
    }
  }

  void start() override {
    if (control_) {
      control::Header& h = control_->header();
      control::put_text(h.config_path, config_.file);
      control::put_text(h.version, "0.1.0");
      control::put_text(h.backend, Backend::kKind == net::BackendKind::kIoUring ? "io_uring" : "epoll");
      control::put_text(h.arena, arena_.report().describe());
      control::put_text(h.net_features, net::probe_io_uring().describe());
      control::put_text(h.clock, core::tsc_clock().describe());
      control_tick();
    }
    if (!egress_.connect())
      throw std::runtime_error(fmt::format("order entry: cannot reach the venue at {}: {}", config_.order_entry.venue.text,
                                           egress_.last_error()));
    for (auto& r : runners_) {
      r->start();
      for (const auto& line : r->placement()) core::log::info("thread {}: {}", r->options().name, line);
    }
    if (control_) {
      control_->set_state(control::DaemonState::kRunning);
      core::log::info("control file {}", control_->path());
    }
  }

  Summary stop() override {
    if (stopped_) return summary_;
    stopped_ = true;
    if (control_) control_->set_state(control::DaemonState::kStopping);
    // Strategies stop; the kill switch makes the egress stage cancel everything at the venue.
    strategy_.set_halted(true);
    gate_.set_kill_switch(true);
    // Done when a poll of the egress stage that began after the switch finds nothing working: an
    // order the stage was sending as the switch went on is then working (and being cancelled), and
    // every later intent meets the switch. Reading the open-order count alone could see the count
    // from before such an order.
    const std::uint64_t polls = egress_.published_polls();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(config_.shutdown_wait_ns);
    while (!(egress_.published_polls() >= polls + 2 && egress_.published_killed_flat()) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::uint32_t left = egress_.published_open_orders();
    if (left != 0) core::log::warn("shutdown: {} orders still working after {} ms", left, config_.shutdown_wait_ns / 1'000'000);
    // The order-entry session is logged out by its own thread (an io_uring ring has one issuer).
    egress_.request_logout();
    const auto logout_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (egress_.published_connected() && std::chrono::steady_clock::now() < logout_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (auto& r : runners_) r->stop();
    for (auto& p : publishers_) p->publish_now();  // the threads are gone: last values, from here
    summary_ = collect();
    summary_.files = dump_histograms();
    return summary_;
  }

  void halt(bool on) noexcept override {
    halted_.store(on, std::memory_order_relaxed);
    strategy_.set_halted(on);
  }
  void kill_switch(bool on) noexcept override { gate_.set_kill_switch(on); }
  [[nodiscard]] bool ready() const noexcept override { return egress_.published_ready(); }

  [[nodiscard]] std::string describe() const override {
    std::string s = fmt::format("net: {}\norder entry: {}\narena: {}\nclock: {}\n", net_backend_.describe(),
                                oe_backend_.describe(), arena_.report().describe(), core::tsc_clock().describe());
    for (const auto& t : config_.runtime.threads)
      s += fmt::format("thread {}: cpu {}, idle {}, stages {}\n", t.name, t.cpu < 0 ? std::string("any") : std::to_string(t.cpu),
                       core::to_string(t.idle.kind), fmt::join(t.stages, ","));
    return s;
  }

 private:
  Summary collect() const {
    Summary s;
    s.backend = Backend::kKind == net::BackendKind::kIoUring ? "io_uring" : "epoll";
    s.arena = arena_.report().describe();
    const auto& mc = net_.session_counters();
    s.feed_packets = mc.packets;
    s.feed_messages = mc.messages;
    s.gaps = mc.gaps;
    s.recovered = mc.recovered;
    s.lost = mc.lost;
    s.requests = net_.counters().requests_sent;
    s.book_messages = book_.counters().events;
    s.book_events = book_.counters().depth_events + book_.counters().trade_events;
    const auto& oc = oms_.counters();
    s.orders_sent = oc.sent_new;
    s.cancels_sent = oc.sent_cancel;
    s.replaces_sent = oc.sent_replace;
    s.accepted = oc.accepted;
    s.fills = oc.fills;
    s.filled_shares = oc.filled_shares;
    s.venue_rejects = oc.rejected;
    s.canceled = oc.canceled;
    s.risk_rejects = gate_.rejected_total();
    std::int64_t cash = 0, marked = 0;
    for (std::size_t l = 0; l < oms_.locates(); ++l) {
      const auto& e = oms_.exposure(static_cast<Locate>(l));
      s.position += e.position;
      cash += oms_.cash(static_cast<Locate>(l));
      marked += e.position * refs_.get(static_cast<Locate>(l));
    }
    s.pnl_usd = static_cast<double>(cash + marked) / 1e4;
    for (const auto& [name, h] : hop_list())
      s.hops.push_back({name, h->total_count(), h->value_at_percentile(50), h->value_at_percentile(99),
                        h->value_at_percentile(99.9), h->max()});
    return s;
  }

  std::vector<std::string> dump_histograms() override {
    std::vector<std::string> files;  // histogram_dir exists: hftd checks it at start-up (state_dir.hpp)
    for (const auto& [name, h] : hop_list()) {
      const std::string path = fmt::format("{}/hftd.{}.{}.hgrm", config_.histogram_dir, config_.instance, name);
      std::ofstream f(path);
      f << h->percentile_distribution(1000.0);
      if (f) files.push_back(path);
      else core::log::error("cannot write {}", path);
    }
    return files;
  }

  std::vector<std::pair<const char*, const core::Histogram*>> hop_list() const {
    return {{"kernel_to_user", h_kernel_}, {"rx_to_parsed", h_parse_}, {"parsed_to_book", h_book_},
            {"book_to_decision", h_decide_}, {"decision_to_wire", h_wire_}, {"tick_to_trade", h_t2t_},
            {"send_call", h_send_}};
  }

  [[nodiscard]] std::string control_path() const override { return control_ ? control_->path() : std::string(); }
  [[nodiscard]] std::vector<int> thread_ids() const override {
    std::vector<int> ids;
    for (const auto& r : runners_) ids.push_back(r->tid());
    return ids;
  }

  // ---- control plane ------------------------------------------------------------------------
  control::CounterSlot* counter(const std::string& name, control::CounterKind kind = control::CounterKind::kCounter) {
    return control_->counter(name, kind);
  }

  // Counters of one stage, copied by the publisher that runs on the stage's own thread.
  void add_publisher(control::Publisher& p, const std::string& stage) {
    using K = control::CounterKind;
    if (stage == "net") {
      const Out datagrams{counter("net.datagrams")}, messages{counter("net.messages")}, overflow{counter("net.ring_overflow")},
          requests{counter("feed.requests_sent")}, packets{counter("feed.packets")}, gaps{counter("feed.gaps")},
          recovered{counter("feed.recovered")}, lost{counter("feed.lost")}, dups{counter("feed.duplicates")},
          heartbeats{counter("feed.heartbeats")}, malformed{counter("feed.malformed")},
          mismatches{counter("feed.session_mismatches")}, foreign{counter("feed.foreign")},
          suspect{counter("feed.suspect")}, phantom{counter("feed.phantom")}, depth{counter("ring.net_parse.depth", K::kGauge)},
          high{counter("ring.net_parse.high_water", K::kGauge)};
      p.add([=, this, hw = std::uint64_t{0}]() mutable {
        datagrams = net_.counters().datagrams;
        messages = net_.counters().messages;
        overflow = net_.counters().overflow;
        requests = net_.counters().requests_sent;
        const auto& m = net_.session_counters();
        packets = m.packets;
        gaps = m.gaps;
        recovered = m.recovered;
        lost = m.lost;
        dups = m.duplicates;
        heartbeats = m.heartbeats;
        malformed = m.malformed;
        mismatches = m.session_mismatches;
        foreign = net_.counters().foreign;
        suspect = m.suspect;
        phantom = m.phantom;
        net_.log_events();  // issue 18: each feed event once, with its numbers, off the hot path
        const std::uint64_t d = rx_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
        control::seq_write(control_->feed().lock, [&] {
          control::FeedBlock& f = control_->feed();
          f.next_sequence = net_.next_expected();
          f.gaps = m.gaps;
          f.recovered = m.recovered;
          f.lost = m.lost;
          f.stale = net_.stale() ? 1 : 0;
          f.in_recovery = net_.in_recovery() ? 1 : 0;
        });
      });
    } else if (stage == "parse") {
      const Out fwd{counter("parse.forwarded")}, bp{counter("parse.backpressure")}, unknown{counter("parse.unknown_type")},
          bad{counter("parse.bad_length")}, depth{counter("ring.parse_book.depth", K::kGauge)},
          high{counter("ring.parse_book.high_water", K::kGauge)};
      p.add([=, this, hw = std::uint64_t{0}]() mutable {
        fwd = parse_.forwarded();
        bp = parse_.backpressure();
        unknown = parse_.stats().unknown_type;
        bad = parse_.stats().bad_length;
        const std::uint64_t d = md_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
      });
    } else if (stage == "book") {
      const Out msgs{counter("book.messages")}, depth_ev{counter("book.depth_events")}, trades{counter("book.trade_events")},
          overflow{counter("book.ring_overflow")}, unknown{counter("book.unknown_orders")},
          crossed{counter("book.crossed")}, locked{counter("book.locked")}, drops{counter("book.capacity_drops")},
          live{counter("book.live_orders", K::kGauge)}, depth{counter("ring.book_strategy.depth", K::kGauge)},
          high{counter("ring.book_strategy.high_water", K::kGauge)};
      p.add([=, this, hw = std::uint64_t{0}]() mutable {
        msgs = book_.counters().events;
        depth_ev = book_.counters().depth_events;
        trades = book_.counters().trade_events;
        overflow = book_.counters().overflow;
        const auto& st = books_.stats();
        unknown = st.unknown_order;
        crossed = st.crossed;
        locked = st.locked;
        drops = st.capacity_drops();
        live = books_.live_orders();
        const std::uint64_t d = book_events_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
      });
    } else if (stage == "strategy") {
      const Out events{counter("strategy.book_events")}, trades{counter("strategy.trades")},
          reports{counter("strategy.reports")}, intents{counter("strategy.intents")},
          stale{counter("strategy.refused.stale_book")}, halted{counter("strategy.refused.halted")},
          full{counter("strategy.refused.ring_full")}, depth{counter("ring.strategy_risk.depth", K::kGauge)},
          high{counter("ring.strategy_risk.high_water", K::kGauge)};
      p.add([=, this, hw = std::uint64_t{0}]() mutable {
        events = strategy_.counters().book_events;
        trades = strategy_.counters().trades;
        reports = strategy_.counters().reports;
        intents = strategy_.intents_sent();
        std::uint64_t s_stale = 0, s_halted = 0, s_full = 0;
        for (std::size_t i = 0; i < strategy_.size(); ++i) {
          const auto& r = strategy_.context(i).refusals();
          s_stale += r.stale_book;
          s_halted += r.halted;
          s_full += r.ring_full;
        }
        stale = s_stale;
        halted = s_halted;
        full = s_full;
        const std::uint64_t d = intents_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
      });
    } else {
      const Out sent{counter("orders.sent")}, accepted{counter("orders.accepted")}, rejected{counter("orders.rejected_by_venue")},
          canceled{counter("orders.canceled")}, replaced{counter("orders.replaced")}, fills{counter("orders.fills")},
          shares{counter("orders.filled_shares")}, cancels{counter("orders.cancels_sent")},
          replaces{counter("orders.replaces_sent")}, open{counter("orders.open", K::kGauge)},
          not_connected{counter("egress.not_connected")}, backlog{counter("egress.backlog")},
          replies{counter("egress.replies")}, reply_errors{counter("egress.reply_errors")},
          connects{counter("egress.connects")}, kills{counter("egress.kill_cancels")},
          flattens{counter("egress.flatten_orders")}, depth{counter("ring.risk_strategy.depth", K::kGauge)},
          high{counter("ring.risk_strategy.high_water", K::kGauge)};
      std::array<Out, 14> rejects{};
      for (std::size_t r = 1; r < rejects.size(); ++r)
        rejects[r] = Out{counter(fmt::format("risk.rejects.{}", reject_name(static_cast<RejectReason>(r))))};
      p.add([=, this, hw = std::uint64_t{0}]() mutable {
        const auto& oc = oms_.counters();
        sent = oc.sent_new;
        accepted = oc.accepted;
        rejected = oc.rejected;
        canceled = oc.canceled;
        replaced = oc.replaced;
        fills = oc.fills;
        shares = oc.filled_shares;
        cancels = oc.sent_cancel;
        replaces = oc.sent_replace;
        open = oms_.open_orders();
        const auto& ec = egress_.counters();
        not_connected = ec.not_connected;
        backlog = ec.backlog;
        replies = ec.replies;
        reply_errors = ec.reply_errors;
        connects = ec.connects;
        kills = ec.kill_cancels;
        flattens = ec.flatten_orders;
        for (std::size_t r = 1; r < rejects.size(); ++r) rejects[r] = gate_.rejected(static_cast<RejectReason>(r));
        const std::uint64_t d = reports_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
        publish_risk_and_positions();
        egress_.log_events();  // issue 18: a login the venue does not answer is logged (cold path)
      });
    }
  }

  // On the egress thread: risk state, positions and the order-entry session.
  void publish_risk_and_positions() noexcept {
    control::seq_write(control_->risk().lock, [&] {
      control::RiskBlock& b = control_->risk();
      const risk::RiskLimits& l = gate_.limits();
      b.kill_switch = gate_.kill_switch() ? 1 : 0;
      b.halted = halted_.load(std::memory_order_relaxed) ? 1 : 0;
      b.require_reference_price = l.require_reference_price ? 1 : 0;
      b.max_order_quantity = l.max_order_quantity;
      b.max_notional = l.max_notional;
      b.price_band_bps = l.price_band_bps;
      b.max_position = l.max_position;
      b.max_open_orders = l.max_open_orders;
      b.max_orders_per_second = l.max_orders_per_second;
      b.order_burst = l.order_burst;
      b.open_orders = oms_.open_orders();
    });
    std::uint32_t slot = 0;
    for (std::size_t l = 1; l < oms_.locates() && slot < control_->header().position_slots; ++l) {
      const auto locate = static_cast<Locate>(l);
      const risk::Exposure& e = oms_.exposure(locate);
      if (e.position == 0 && e.open_buy == 0 && e.open_sell == 0 && oms_.cash(locate) == 0) continue;
      control::PositionSlot* p = control_->position_slot(slot++);
      control::seq_write(p->lock, [&] {
        p->locate = locate;
        const auto sym = symbols_.symbol(locate);
        std::memcpy(p->symbol, sym.chars.data(), 8);
        p->used = 1;
        p->position = e.position;
        p->cash = oms_.cash(locate);
        p->reference = refs_.get(locate);
        p->open_buy = e.open_buy;
        p->open_sell = e.open_sell;
      });
    }
    const auto& sess = egress_.session();
    control::seq_write(control_->order_entry().lock, [&] {
      control::OrderEntryBlock& o = control_->order_entry();
      control::put_text(o.venue, config_.order_entry.venue.text);
      control::put_text(o.user, config_.order_entry.soup.username);
      control::put_text(o.session, sess.session().trimmed());
      o.connected = egress_.connected() ? 1 : 0;
      o.logged_in = sess.logged_in() ? 1 : 0;
      o.ready = egress_.ready() ? 1 : 0;
      o.next_user_ref = oms_.next_user_ref();
      o.session_sequence = sess.next_expected();
      // Formatting allocates: only when a session event happened since the last publish (a
      // login, a logout, a timeout), never in steady state.
      if (egress_.session_events() != described_events_) {
        described_events_ = egress_.session_events();
        control::put_text(o.last_event, soup::describe(egress_.last_event()));
      }
    });
  }

  void control_tick() override {
    if (!control_) return;
    control_->heartbeat();
    for (std::size_t i = 0; i < runners_.size(); ++i) {
      control::ThreadSlot* t = control_->thread_slot(static_cast<std::uint32_t>(i));
      if (t == nullptr) break;
      const core::Runner& r = *runners_[i];
      const auto& tc = config_.runtime.threads[i];
      control::seq_write(t->lock, [&] {
        control::put_text(t->name, tc.name);
        control::put_text(t->stages, fmt::format("{}", fmt::join(tc.stages, ",")));
        control::put_text(t->idle, core::to_string(tc.idle.kind));
        t->cpu = tc.cpu;
        t->tid = r.tid();
        t->passes = r.stats().passes.load(std::memory_order_relaxed);
        t->work_passes = r.stats().work_passes.load(std::memory_order_relaxed);
        t->work_items = r.stats().work_items.load(std::memory_order_relaxed);
        t->parks = r.stats().parks.load(std::memory_order_relaxed);
        t->idle_ratio = r.idle_ratio();
        t->used = 1;
      });
    }
    const std::uint64_t now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
    for (std::uint32_t i = 0; i < control_->command_slots(); ++i) {
      control::CommandSlot* c = control_->command_slot(i);
      const auto st = static_cast<control::CommandState>(c->state.load(std::memory_order_acquire));
      std::uint32_t pending = static_cast<std::uint32_t>(control::CommandState::kPending);
      // A compare-and-swap, not a store: hftctl withdraws a command it stopped waiting for with
      // the same CAS, so a command is either taken here or withdrawn there, never both.
      if (st == control::CommandState::kPending &&
          c->state.compare_exchange_strong(pending, static_cast<std::uint32_t>(control::CommandState::kTaken),
                                           std::memory_order_acq_rel)) {
        const auto [ok, message] = run_command(*c);
        c->ok = ok ? 1 : 0;
        control::put_text(c->result, message);
        c->state.store(static_cast<std::uint32_t>(control::CommandState::kDone), std::memory_order_release);
        core::log::info("hftctl command: {} -> {}{}", command_text(*c), ok ? "" : "refused: ", message);
      } else if (st == control::CommandState::kClaimed || st == control::CommandState::kDone) {
        // A client that claimed a slot, or left an answer, and went away: give the slot back
        // once this thread has seen it in the same state for 30 s (its own observation: the
        // client's claim time is written after its claim, so it cannot be trusted here).
        if (stuck_.size() <= i) stuck_.resize(i + 1);
        Stuck& k = stuck_[i];
        if (k.state != st) k = Stuck{st, now};
        std::uint32_t seen = static_cast<std::uint32_t>(st);
        if (now - k.since > 30'000'000'000ull &&
            c->state.compare_exchange_strong(seen, static_cast<std::uint32_t>(control::CommandState::kFree),
                                             std::memory_order_acq_rel))
          k = Stuck{};
      } else if (stuck_.size() > i) {
        stuck_[i] = Stuck{};
      }
    }
  }

  static std::string command_text(const control::CommandSlot& c) {
    switch (c.op) {
      case control::CommandOp::kHalt: return "halt";
      case control::CommandOp::kResume: return "resume";
      case control::CommandOp::kKill: return "kill";
      case control::CommandOp::kUnkill: return "unkill";
      case control::CommandOp::kSetRisk:
        return fmt::format("set {}={}", control::get_text(c.key), control::get_text(c.value));
      case control::CommandOp::kFlatten: return "flatten";
      case control::CommandOp::kDumpHistograms: return "dump histograms";
      case control::CommandOp::kNone: break;
    }
    return "?";
  }

  // Sends a request to the egress thread and waits (bounded) until it has been applied.
  bool to_egress(ControlRequest req) {
    req.id = ++control_seq_;
    if (!control_ring_.try_push(req)) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (egress_.control_applied() != req.id) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

  std::pair<bool, std::string> run_command(const control::CommandSlot& c) {
    using Op = control::CommandOp;
    switch (c.op) {
      case Op::kHalt:
        halt(true);
        return {true, "strategies halted: no new orders or replaces; working orders stay"};
      case Op::kResume:
        halt(false);
        return {true, "strategies resumed"};
      case Op::kKill:
        gate_.set_kill_switch(true);
        return {true, fmt::format("kill switch on: new orders blocked, {} working orders being cancelled",
                                  egress_.published_open_orders())};
      case Op::kUnkill:
        gate_.set_kill_switch(false);
        return {true, "kill switch off"};
      case Op::kSetRisk: return set_risk(std::string(control::get_text(c.key)), std::string(control::get_text(c.value)));
      case Op::kFlatten: {
        if (gate_.kill_switch()) return {false, "the kill switch is on: `hftctl unkill` first (flatten sends orders)"};
        halt(true);
        ControlRequest r{};
        r.op = ControlRequest::Op::kFlatten;
        if (!to_egress(r)) return {false, "the risk/egress thread did not answer within 2 s"};
        return {true, "strategies halted; working orders cancelled; closing IOC orders sent for every open position"};
      }
      case Op::kDumpHistograms: {
        const auto files = dump_histograms();
        const std::size_t all = hop_list().size();
        if (files.size() != all)
          return {false, fmt::format("wrote {} of {} histograms to {} (see hftd's log for the rest)", files.size(), all,
                                     config_.histogram_dir)};
        return {true, fmt::format("wrote {} histograms to {}", files.size(), config_.histogram_dir)};
      }
      case Op::kNone: break;
    }
    return {false, "unknown command"};
  }

  std::pair<bool, std::string> set_risk(const std::string& key, const std::string& value) {
    risk::RiskLimits l = limits_;
    auto number = [&](double lo, double hi, double& out) {
      char* end = nullptr;
      out = std::strtod(value.c_str(), &end);
      return !value.empty() && end == value.c_str() + value.size() && out >= lo && out <= hi;
    };
    double v = 0;
    std::string old_text, new_text;
    auto bad = [&](const char* range) {
      return std::pair<bool, std::string>{false, fmt::format("{}: \"{}\" is not a number in {}", key, value, range)};
    };
    if (key == "risk.max_order_quantity") {
      if (!number(1, 999'999, v)) return bad("[1, 999999]");
      old_text = std::to_string(l.max_order_quantity);
      l.max_order_quantity = static_cast<Quantity>(v);
      new_text = std::to_string(l.max_order_quantity);
    } else if (key == "risk.max_notional_usd") {
      if (!number(0.01, 1e12, v)) return bad("[0.01, 1e12]");
      old_text = fmt::format("{:.2f}", static_cast<double>(l.max_notional) / 1e4);
      l.max_notional = static_cast<std::int64_t>(v * 1e4);
      new_text = fmt::format("{:.2f}", v);
    } else if (key == "risk.price_band_bps") {
      if (!number(1, 100'000, v)) return bad("[1, 100000]");
      old_text = std::to_string(l.price_band_bps);
      l.price_band_bps = static_cast<std::int32_t>(v);
      new_text = std::to_string(l.price_band_bps);
    } else if (key == "risk.max_position") {
      if (!number(0, 1e9, v)) return bad("[0, 1e9]");
      old_text = std::to_string(l.max_position);
      l.max_position = static_cast<std::int64_t>(v);
      new_text = std::to_string(l.max_position);
    } else if (key == "risk.max_open_orders") {
      if (!number(1, 1e6, v)) return bad("[1, 1e6]");
      old_text = std::to_string(l.max_open_orders);
      l.max_open_orders = static_cast<std::uint32_t>(v);
      new_text = std::to_string(l.max_open_orders);
    } else if (key == "risk.max_orders_per_second") {
      if (!number(0.001, 1e9, v)) return bad("[0.001, 1e9]");
      old_text = fmt::format("{}", l.max_orders_per_second);
      l.max_orders_per_second = v;
      new_text = fmt::format("{}", v);
    } else if (key == "risk.order_burst") {
      if (!number(1, 1e6, v)) return bad("[1, 1e6]");
      old_text = std::to_string(l.order_burst);
      l.order_burst = static_cast<std::uint32_t>(v);
      new_text = std::to_string(l.order_burst);
    } else {
      return {false, fmt::format("unknown key \"{}\" (keys: risk.max_order_quantity, risk.max_notional_usd, "
                                 "risk.price_band_bps, risk.max_position, risk.max_open_orders, "
                                 "risk.max_orders_per_second, risk.order_burst)",
                                 key)};
    }
    ControlRequest r{};
    r.op = ControlRequest::Op::kSetLimits;
    r.limits = l;
    if (!to_egress(r)) return {false, "the risk/egress thread did not apply it within 2 s"};
    limits_ = l;
    return {true, fmt::format("{}: {} -> {}", key, old_text, new_text)};
  }

  HftdConfig config_;
  std::unique_ptr<control::ControlFile> control_;
  std::uint64_t described_events_ = 0;  // session events already formatted into the control file
  struct Stuck {
    control::CommandState state = control::CommandState::kFree;
    std::uint64_t since = 0;
  };
  std::vector<Stuck> stuck_;  // command slots not free, as the control thread last saw them
  core::Arena arena_;
  SymbolTable symbols_;
  risk::ReferencePrices refs_;
  Subscriptions subs_;
  book::BookSet books_;
  oms::OrderManager oms_;
  risk::RiskGate gate_;
  core::SpscRing<RxMessage>* rx_;
  core::SpscRing<MdEvent>* md_;
  core::SpscRing<BookEvent>* book_events_;
  core::SpscRing<OrderIntent>* intents_;
  core::SpscRing<ExecReport>* reports_;
  core::Histogram* h_kernel_;
  core::Histogram* h_parse_;
  core::Histogram* h_book_;
  core::Histogram* h_decide_;
  core::Histogram* h_wire_;
  core::Histogram* h_t2t_;
  core::Histogram* h_send_;
  core::SpscRing<ControlRequest> control_ring_;
  risk::RiskLimits limits_;           // the control thread's copy of the current limits
  std::uint32_t control_seq_ = 0;
  std::atomic<bool> halted_{false};
  Backend net_backend_;
  Backend oe_backend_;
  NetStage<Backend> net_;
  ParseStage parse_;
  BookStage book_;
  StrategyStage strategy_;
  EgressStage<Backend> egress_;
  std::vector<std::unique_ptr<control::Publisher>> publishers_;
  std::vector<std::unique_ptr<core::Runner>> runners_;
  bool stopped_ = false;
  Summary summary_;
};

struct Appliance::Impl {
  std::unique_ptr<PipelineBase> pipeline;
};

Appliance::Appliance(const HftdConfig& config) : impl_(std::make_unique<Impl>()) {
  // A longer calibration than the default: hop latencies are TSC differences, but timeouts and
  // the probe's absolute times lean on the rate.
  core::set_tsc_clock(core::TscClock::calibrate(core::ClockSource::kAuto, std::chrono::milliseconds(200)));
  const net::UringFeatures f = net::probe_io_uring();
  const bool uring_ok = f.available && f.multishot_recv && f.provided_buffer_ring;
  bool use_uring = config.backend == BackendChoice::kIoUring || (config.backend == BackendChoice::kAuto && uring_ok);
  if (config.backend == BackendChoice::kIoUring && !uring_ok)
    throw std::runtime_error("net.backend = \"io_uring\" but " + f.describe() + " (use \"epoll\" or \"auto\")");
  core::log::info("{}", f.describe());
  core::log::info("network backend: {} ({})", use_uring ? "io_uring" : "epoll",
                  config.backend == BackendChoice::kAuto ? "auto" : "configured");
  if (use_uring) impl_->pipeline = std::make_unique<Pipeline<net::UringBackend>>(config);
  else impl_->pipeline = std::make_unique<Pipeline<net::EpollBackend>>(config);
}

Appliance::~Appliance() {
  if (impl_ && impl_->pipeline) impl_->pipeline->stop();
}

void Appliance::start() { impl_->pipeline->start(); }
Summary Appliance::stop() { return impl_->pipeline->stop(); }
void Appliance::halt(bool on) noexcept { impl_->pipeline->halt(on); }
void Appliance::kill_switch(bool on) noexcept { impl_->pipeline->kill_switch(on); }
bool Appliance::ready() const noexcept { return impl_->pipeline->ready(); }
std::string Appliance::describe() const { return impl_->pipeline->describe(); }
void Appliance::control_tick() { impl_->pipeline->control_tick(); }
std::vector<std::string> Appliance::dump_histograms() { return impl_->pipeline->dump_histograms(); }
std::string Appliance::control_path() const { return impl_->pipeline->control_path(); }
std::vector<int> Appliance::thread_ids() const { return impl_->pipeline->thread_ids(); }

std::string Summary::key_values() const {
  std::string s = fmt::format("backend={}\nfeed_packets={}\nfeed_messages={}\ngaps={}\nrecovered={}\nlost={}\nrequests={}\n",
                              backend, feed_packets, feed_messages, gaps, recovered, lost, requests);
  s += fmt::format("orders_sent={}\naccepted={}\nfills={}\nfilled_shares={}\ncanceled={}\nvenue_rejects={}\nrisk_rejects={}\n",
                   orders_sent, accepted, fills, filled_shares, canceled, venue_rejects, risk_rejects);
  s += fmt::format("cancels_sent={}\nreplaces_sent={}\nposition={}\npnl_usd={:.2f}\n", cancels_sent, replaces_sent,
                   position, pnl_usd);
  for (const auto& h : hops)
    s += fmt::format("{0}_count={1}\n{0}_p50_ns={2}\n{0}_p99_ns={3}\n{0}_p999_ns={4}\n{0}_max_ns={5}\n", h.name, h.count,
                     h.p50, h.p99, h.p999, h.max);
  return s;
}

std::string Summary::text() const {
  std::string s = fmt::format("backend: {}\narena: {}\n", backend, arena);
  s += fmt::format("feed: {} packets, {} messages; gaps {}, messages recovered {}, lost {}, re-requests {}\n", feed_packets,
                   feed_messages, gaps, recovered, lost, requests);
  s += fmt::format("book: {} messages applied, {} events to strategies\n", book_messages, book_events);
  s += fmt::format("orders: {} sent, {} accepted, {} fills ({} shares), {} canceled, {} rejected by the venue, {} "
                   "rejected by risk; {} cancels and {} replaces sent\n",
                   orders_sent, accepted, fills, filled_shares, canceled, venue_rejects, risk_rejects, cancels_sent,
                   replaces_sent);
  s += fmt::format("position: {} shares; P&L: {:.2f} USD (marked at the reference prices)\n", position, pnl_usd);
  s += "latency (ns):          count        p50        p99      p99.9        max\n";
  for (const auto& h : hops)
    s += fmt::format("  {:<18} {:>10} {:>10} {:>10} {:>10} {:>10}\n", h.name, h.count, h.p50, h.p99, h.p999, h.max);
  for (const auto& f : files) s += fmt::format("wrote {}\n", f);
  return s;
}

}  // namespace hft::app
