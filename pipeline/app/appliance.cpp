#include "pipeline/app/appliance.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/arena.hpp"
#include "core/log.hpp"
#include "core/runner.hpp"
#include "core/version.hpp"
#include "net/epoll_backend.hpp"
#include "net/uring_backend.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/snapshot.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/control_plane.hpp"
#include "pipeline/control/publisher.hpp"
#include "pipeline/app/recovery.hpp"
#include "pipeline/journal/reader.hpp"
#include "pipeline/journal/writer.hpp"
#include "pipeline/oms/order_manager.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/stages/instruments.hpp"
#include "pipeline/stages/net_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/run_to_completion.hpp"
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

// Issue 14: one order-entry session per venue (venue id = index); a config without venues (a test's
// hand-made one) has today's one.
std::vector<OrderEntryConfig> order_entries(const HftdConfig& c) {
  std::vector<OrderEntryConfig> v;
  for (const VenueSpec& s : c.venues) {
    v.push_back(s.order_entry);
    if (c.venues.size() > 1) v.back().name = s.name;
  }
  if (v.empty()) v.push_back(c.order_entry);
  return v;
}

std::unique_ptr<control::ControlFile> make_control(const HftdConfig& c) {
  if (!c.control) return nullptr;
  control::ControlSizes sizes;
  if (c.venues.size() > 1) sizes.counters = 512;  // issue 14: venue.NAME.*, router.*, arb.NAME.*
  sizes.threads = static_cast<std::uint32_t>(c.runtime.threads.size() + 2);
  return std::make_unique<control::ControlFile>(c.instance, sizes, histogram_layout(), c.control_dir);
}

// Issue 14: with several venues the per-instrument tables span every instrument id
// (pipeline/stages/instruments.hpp: the first venue's locates, then symbols first seen elsewhere).
std::size_t instrument_slots(const HftdConfig& c) {
  return c.venues.size() > 1 ? std::size_t{65536} : std::size_t{c.book.max_locate} + 1;
}
// Each venue's books are indexed by instrument id and sized by [book] (orders and levels per venue).
book::BookConfig venue_book_config(const HftdConfig& c) {
  book::BookConfig b = c.book;
  if (c.venues.size() > 1) b.max_locate = 65535;
  return b;
}
std::vector<std::unique_ptr<book::BookSet>> extra_venue_books(const HftdConfig& c) {
  std::vector<std::unique_ptr<book::BookSet>> v;
  for (std::size_t i = 1; i < c.venues.size(); ++i) v.push_back(std::make_unique<book::BookSet>(venue_book_config(c)));
  return v;
}

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
  [[nodiscard]] virtual std::string books_json() const = 0;
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
        symbols_(instrument_slots(c)),
        refs_(instrument_slots(c)),
        subs_(instrument_slots(c)),
        books_(venue_book_config(c)),
        extra_books_(extra_venue_books(c)),
        instruments_(c.venues.size() > 1 ? std::make_unique<InstrumentMap>(c.venues.size(), c.book.max_locate) : nullptr),
        oms_(c.max_orders, instrument_slots(c), 1),
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
        h_features_(make_histogram(arena_, control_.get(), "feature_update")),
        h_legs_(c.venues.size() > 1 ? make_histogram(arena_, control_.get(), "legs_to_wire") : nullptr),
        control_ring_(64),
        net_backend_(c.net),
        oe_backend_(c.net),
        net_(net_backend_, c.feed, *rx_, *h_kernel_),
        parse_(*rx_, *md_, *h_parse_, instruments_.get()),
        book_(*md_, *book_events_, books_, symbols_, refs_, subs_, *h_book_),
        strategy_(*book_events_, *reports_, *intents_, symbols_, subs_, *h_decide_, c.timer_ns),
        egress_(oe_backend_, order_entries(c), *intents_, *reports_, gate_, refs_, symbols_, oms_,
                typename EgressStage<Backend>::Hops{h_wire_, h_t2t_, h_send_, h_legs_}),
        control_plane_(control::PipelineParts<Backend>{
            control_.get(), c.runtime.threads, runners_, c.order_entry, c.histogram_dir, c.risk, net_, parse_, book_,
            strategy_, egress_, *rx_, *md_, *book_events_, *intents_, *reports_, control_ring_, books_, oms_, gate_, refs_,
            symbols_, [this] { return dump_histograms(); }, hop_list().size()}) {
    if (c.venues.size() > 1) {
      // Issue 14: every venue's feed on the net thread, books per venue, strategies' venue views.
      std::vector<FeedConfig> others;
      for (std::size_t v = 1; v < c.venues.size(); ++v) others.push_back(c.venues[v].feed);
      nets_ = std::make_unique<NetStages<Backend>>(net_backend_, net_, others, *rx_, *h_kernel_);
      control_plane_.set_feeds(nets_.get());
      for (auto& b : extra_books_) book_.add_venue(*b);
      strategy_.set_venues(c.venues.size());
      // The traded symbols' instrument ids, the same in every run of this configuration (the
      // journal's records name instruments by id; with ids in order of first sight, a restart
      // that read BX's directory before NASDAQ's replayed positions onto other instruments).
      for (const auto& s : c.strategies)
        for (const auto& sym : s.symbols) {
          const std::uint64_t key = itch::Symbol::from(sym).key();
          if (const Locate id = instruments_->preassign(key); id != InstrumentMap::kNone) symbols_.set(id, key);
        }
      std::string names;
      for (const auto& v : c.venues)
        names += (names.empty() ? "" : ", ") + v.name + " (feed " + v.feed.listen.text + ", order entry " + v.order_entry.venue.text + ")";
      core::log::info("venues: {}; one order-entry session per venue", names);
    }
    for (const auto& s : c.strategies) {
      strategy_.add(s.name, strategy::make_strategy(s.params), s.symbols, s.features, s.feature_params);
      strategy_.set_fees(s.fee_add_per_share, s.fee_remove_per_share);
    }
    strategy_.set_feature_histogram(*h_features_);
    egress_.set_control_ring(&control_ring_);
    egress_.set_storm_inputs(&storm_inputs_);
    strategy_.set_storm_state(&egress_.storm_guard().published(), c.risk.storm_warn_widen, c.risk.storm_warn_size);
    strategy_.set_order_entry_ready(&egress_.ready_flag());
    // Issue 14: each venue's fees on its fills (the order manager's P&L) and for the router; with
    // several venues, each venue's session state for the strategies (on_venue, venue_down).
    for (std::size_t v = 0; v < c.venues.size() && v < kMaxVenues; ++v) {
      const auto add = std::llround(c.venues[v].fee_add_per_share * 1e4), remove = std::llround(c.venues[v].fee_remove_per_share * 1e4);
      oms_.set_venue_fees(static_cast<VenueId>(v), add, remove);
      strategy_.set_venue_fees(static_cast<VenueId>(v), oms::VenueFees{remove, add});
    }
    if (egress_.venues() > 1) {
      if (strategy_.venues() != egress_.venues()) strategy_.set_venues(egress_.venues());
      for (std::size_t v = 0; v < egress_.venues(); ++v)
        strategy_.set_venue_ready(static_cast<VenueId>(v), &egress_.venue_ready_flag(static_cast<VenueId>(v)));
    }
    if (c.journal) open_journal(*c.journal);
    for (const auto& t : c.runtime.threads) {
      std::vector<core::StageRef> refs;
      auto& publisher = publishers_.emplace_back(std::make_unique<control::Publisher>(c.publish_interval_ns));
      for (const auto& st : t.stages) {
        if (st == "net") refs.push_back(nets_ ? core::StageRef::of(*nets_) : core::StageRef::of(net_));
        else if (st == "parse") refs.push_back(core::StageRef::of(parse_));
        else if (st == "book") refs.push_back(core::StageRef::of(book_));
        else if (st == "strategy") refs.push_back(core::StageRef::of(strategy_));
        else refs.push_back(core::StageRef::of(egress_));
        if (control_) control_plane_.add_publisher(*publisher, st);
        // Storm Guard's feed driver: a gap open (or a snapshot recovery, or a stale feed), from the
        // net thread's side, every publish interval.
        if (st == "net")
          publisher->add([this, since = std::uint64_t{0}]() mutable {
            bool bad = net_.in_recovery() || net_.recovering() || net_.stale();
            if (nets_) {  // several venues: any venue's feed (Storm Guard guards the whole book)
              for (std::size_t v = 1; v < nets_->size(); ++v) {
                const auto& f = nets_->feed(v);
                bad = bad || f.in_recovery() || f.recovering() || f.stale();
              }
            }
            if (!bad) since = 0;
            else if (since == 0) since = core::tsc_clock().to_monotonic_ns(core::rdtsc());
            storm_inputs_.feed_gap_since_ns.store(since, std::memory_order_relaxed);
          });
      }
      if (nets_ && std::find(t.stages.begin(), t.stages.end(), "net") != t.stages.end())
        publisher->add([this] {
          for (std::size_t v = 1; v < nets_->size(); ++v) nets_->feed(v).log_events();  // venue 0's: the control plane
        });
      if (!publisher->empty()) refs.push_back(core::StageRef::of(*publisher));
      core::RunnerOptions o;
      o.name = t.name;
      o.cpu = t.cpu;
      o.idle = t.idle;
      o.fifo_priority = t.fifo_priority;
      runners_.push_back(std::make_unique<core::Runner>(o, std::move(refs)));
      // Issue 17: one thread runs every stage in order: a watched stock's message runs to completion.
      if (!nets_ && fused_layout(t.stages) && !fused_) {
        fused_ = std::make_unique<FusedDownstream<Backend>>(parse_, book_, strategy_, egress_);
        fused_->attach(net_, subs_);
        core::log::info("thread {}: fused: a message of a watched stock goes through every stage before the rest of "
                        "its packet", t.name);
      }
    }
  }

  void start() override {
    if (control_) {
      control::Header& h = control_->header();
      control::put_text(h.config_path, config_.file);
      control::put_text(h.version, hft::kVersion);
      control::put_text(h.backend, Backend::kKind == net::BackendKind::kIoUring ? "io_uring" : "epoll");
      control::put_text(h.arena, arena_.report().describe());
      control::put_text(h.net_features, net::probe_io_uring().describe());
      control::put_text(h.clock, core::tsc_clock().describe());
      control_plane_.control_tick();
    }
    if (recovering_) {
      core::log::info("recovery: journal of {} replayed: {} records ({} intents, {} venue messages, {} refusals, {} "
                      "commands) in {:.1f} ms; {} orders working, next UserRefNum {}; logging in to session '{}' at "
                      "sequence {} for the venue's replay; strategies wait for the reconciliation (working orders: {})",
                      date_, replay_.records, replay_.intents, replay_.received, replay_.refusals, replay_.commands,
                      static_cast<double>(replay_.elapsed_ns) / 1e6, oms_.open_orders(), replay_.next_user_ref,
                      replay_.session, replay_.next_soup_sequence,
                      config_.working_orders == WorkingOrders::kAdopt ? "adopt" : "cancel");
      if (!replay_.torn.empty()) core::log::warn("recovery: torn journal tail truncated: {}", replay_.torn);
    }
    if (!egress_.connect())
      throw std::runtime_error(fmt::format("order entry: cannot reach the venue at {}: {}", config_.order_entry.venue.text,
                                           egress_.last_error()));
    for (auto& r : runners_) {
      r->start();
      for (const auto& line : r->placement()) core::log::info("thread {}: {}", r->options().name, line);
    }
    if (control_) {
      control_->set_state(recovering_ ? control::DaemonState::kRecovering : control::DaemonState::kRunning);
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
    // The strategies' last state into the journal (hft_strategies), after their orders' cancels.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a publish of the strategy slots after the cancels
    if (control_) control_plane_.journal_final_snapshots();
    // The order-entry session is logged out by its own thread (an io_uring ring has one issuer).
    egress_.request_logout();
    const auto logout_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (egress_.published_connected() && std::chrono::steady_clock::now() < logout_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (auto& r : runners_) r->stop();
    for (auto& p : publishers_) p->publish_now();  // the threads are gone: last values, from here
    if (journal_) journal_->close();
    summary_ = collect();
    summary_.files = dump_histograms();
    return summary_;
  }

  // The books as the venue's --book-dump writes them (book::to_json); only once the threads are
  // stopped (stop()), since the book stage owns the books while it runs.
  [[nodiscard]] std::string books_json() const override {
    if (!stopped_) return {};
    return book::to_json(book::take_snapshot(books_));
  }

  void halt(bool on) noexcept override { control_plane_.halt(on); }
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
    s.snapshot_recoveries = net_.counters().snapshot_recoveries;
    s.books_json = book::to_json(book::take_snapshot(books_));  // the threads have stopped
    if (nets_) venue_summary(s);
    s.book_messages = book_.counters().events;
    s.book_events = book_.counters().depth_events + book_.counters().trade_events + book_.counters().order_events;
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
      const auto locate = static_cast<Locate>(l);
      const auto& e = oms_.exposure(locate);
      const std::int64_t c = oms_.cash(locate);
      cash += c;
      marked += e.position * refs_.get(locate);
      if (e.position == 0 && c == 0) continue;
      std::string name = symbols_.known(locate) ? std::string(symbols_.symbol(locate).view()) : fmt::format("locate{}", l);
      s.positions.push_back({std::move(name), e.position, static_cast<double>(c) / 1e4});
      s.gross_position += e.position < 0 ? -e.position : e.position;
      s.net_position += e.position;
    }
    s.pnl_usd = static_cast<double>(cash + marked) / 1e4;
    for (const auto& [name, a] : strategy_.arb_counters())
      s.arbs.push_back({name, a.seen, a.taken, a.both_filled, a.one_leg, a.none_filled, a.hedges, a.unwinds, a.refused,
                        a.retries, a.left_open});
    for (const auto& [name, h] : hop_list())
      s.hops.push_back({name, h->total_count(), h->value_at_percentile(50), h->value_at_percentile(99),
                        h->value_at_percentile(99.9), h->max()});
    return s;
  }

  // Issue 14: each venue's feed and top of book per instrument, and the consolidated touch (the
  // book stage's best bid and ask over the fresh venues: risk's reference table).
  void venue_summary(Summary& s) const {
    for (std::size_t v = 0; v < nets_->size(); ++v) {
      const auto& f = nets_->feed(v);
      const book::BookSet& b = book_.books(static_cast<VenueId>(v));
      Summary::VenueFeed vf;
      vf.venue = config_.venues[v].name;
      vf.feed_messages = f.session_counters().messages;
      vf.gaps = f.session_counters().gaps;
      vf.next_sequence = f.next_expected();
      vf.stale = f.stale();
      vf.book_messages = b.stats().messages;
      s.venues.push_back(vf);
      for (std::size_t l = 1; l < symbols_.size(); ++l) {
        const auto id = static_cast<Locate>(l);
        if (!symbols_.known(id)) continue;
        const book::Level bid = b.best(id, book::Side::kBid), ask = b.best(id, book::Side::kAsk);
        if (bid.shares == 0 && ask.shares == 0) continue;
        s.tops.push_back({config_.venues[v].name, std::string(symbols_.symbol(id).view()), id, bid.price,
                          static_cast<std::uint64_t>(bid.shares), ask.price, static_cast<std::uint64_t>(ask.shares)});
      }
    }
    for (std::size_t l = 1; l < symbols_.size(); ++l) {
      const auto id = static_cast<Locate>(l);
      if (!symbols_.known(id)) continue;
      const risk::MarketView m = refs_.view(id);
      if (m.bid == 0 && m.ask == 0) continue;
      s.tops.push_back({"NBBO", std::string(symbols_.symbol(id).view()), id, static_cast<std::uint32_t>(m.bid), 0,
                        static_cast<std::uint32_t>(m.ask), 0});
    }
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
    std::vector<std::pair<const char*, const core::Histogram*>> hops{{"kernel_to_user", h_kernel_}, {"rx_to_parsed", h_parse_}, {"parsed_to_book", h_book_},
            {"book_to_decision", h_decide_}, {"decision_to_wire", h_wire_}, {"tick_to_trade", h_t2t_},
            {"send_call", h_send_}, {"feature_update", h_features_}};
    if (h_legs_ != nullptr) hops.push_back({"legs_to_wire", h_legs_});  // issue 14: several venues
    return hops;
  }

  void control_tick() override {
    if (recovering_ && !recovery_released_ && egress_.recovery_state() == RecoveryState::kRecovered) {
      recovery_released_ = true;
      strategy_.set_halted(control_plane_.halted());
      if (control_) control_->set_state(control::DaemonState::kRunning);
      const auto& ec = egress_.counters();
      core::log::info("recovery: reconciled with the venue: {} orders working, {} never reached the venue (closed), {} "
                      "cancelled; strategies {}",
                      egress_.published_open_orders(), ec.recovered_unsent, ec.recovery_cancels,
                      control_plane_.halted() ? "stay halted (the operator's halt was journaled)" : "trade");
    }
    control_plane_.control_tick();
  }

  // Replays the journal of today (if any) into the order manager and the strategies' projection,
  // then opens the writer (which truncates a torn tail) for the egress stage. Before the threads.
  void open_journal(const journal::JournalConfig& jc) {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    date_ = trading_date_of(ts.tv_sec);
    std::error_code ec;
    if (std::filesystem::is_directory(jc.dir, ec)) {
      // A crashed hftd's last records may be only in its tmpfs stage: into the files first.
      const auto staged = journal::JournalWriter::recover_stages(jc, config_.instance, date_);
      if (staged.stages != 0)
        core::log::info("journal: {} bytes of {} stage(s) left by the previous run written into the journal", staged.bytes,
                        staged.stages);
      auto reader = journal::JournalReader::open_dir(jc.dir, config_.instance, date_);
      replay_ = replay_journal(reader, oms_, [this](const ExecReport& r) { strategy_.restore_fill(r); },
                               config_.venues.size());
    }
    journal_ = std::make_unique<journal::JournalWriter>(
        jc, config_.instance, date_, static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(ts.tv_nsec));
    egress_.set_journal(journal_.get());
    restore_risk();
    recovering_ = replay_.intents + replay_.received + replay_.session_states != 0;
    if (!recovering_) return;
    for (std::size_t i = 0; i < replay_.next_order_seq.size(); ++i)
      if (replay_.next_order_seq[i] != 0) strategy_.restore_sequence(static_cast<std::uint8_t>(i), replay_.next_order_seq[i]);
    if (config_.working_orders == WorkingOrders::kAdopt) {
      oms_.for_each_working([&](oms::Order& o) {
        strategy::WorkingOrder w;
        w.id = o.order_id;
        w.locate = o.locate;
        w.side = o.side;
        w.price = o.price;
        w.quantity = o.quantity;
        w.leaves = o.leaves;
        w.state = o.state == oms::OrderState::kPendingNew       ? strategy::OrderState::kPendingNew
                  : o.state == oms::OrderState::kPendingCancel  ? strategy::OrderState::kPendingCancel
                  : o.state == oms::OrderState::kPendingReplace ? strategy::OrderState::kPendingReplace
                                                                : strategy::OrderState::kWorking;
        w.pending_price = o.pending_price;
        w.pending_quantity = o.pending_quantity;
        w.venue = o.venue;
        if (o.strategy != kOperatorStrategy && !strategy_.adopt(o.strategy, w))
          core::log::warn("recovery: order {} of strategy {} not adopted (no free slot)", o.order_id, o.strategy);
      });
    }
    strategy_.set_halted(true);  // until the reconciliation (control_tick)
    gate_.set_kill_switch(replay_.kill_switch);
    if (replay_.halted) control_plane_.halt(true);
    for (std::size_t v = 1; v < config_.venues.size() && v < replay_.venues.size(); ++v) {
      const auto& vs = replay_.venues[v];
      egress_.resume_venue(static_cast<VenueId>(v), vs.session, vs.next_soup_sequence);
      core::log::info("recovery: venue {}: {} intents, {} venue messages; logging in to session '{}' at sequence {}",
                      config_.venues[v].name, vs.intents, vs.received, vs.session, vs.next_soup_sequence);
    }
    if (replay_.unknown_venue != 0)
      core::log::warn("recovery: {} journal records of venues no longer configured skipped", replay_.unknown_venue);
    egress_.begin_recovery(replay_.session, replay_.next_soup_sequence, config_.working_orders,
                           replay_.next_order_seq[kOperatorStrategy]);
  }

  // Issue 11: the day's `hftctl set risk.*` commands and the circuit breaker survive a restart
  // through the journal. A journaled value the configuration's table no longer accepts is logged
  // and skipped (the configured value stays).
  void restore_risk() {
    risk::RiskLimits l = gate_.limits();
    std::size_t applied = 0;
    std::vector<std::string> names;
    for (const auto& s : config_.strategies) names.push_back(s.name);
    for (const auto& [key, value] : replay_.risk_sets) {
      const risk::SetOutcome o = risk::set_risk_key(l, key, value, names);
      if (o.ok) ++applied;
      else core::log::warn("recovery: journaled `set {}={}` not applied: {}", key, value, o.message);
    }
    if (applied != 0) {
      gate_.set_limits(l);
      control_plane_.set_limits(l);
      core::log::info("recovery: {} risk limit change(s) of the day re-applied from the journal", applied);
    }
    risk::BreakerCause cause = risk::BreakerCause::kNone;
    for (const auto c : {risk::BreakerCause::kDailyLoss, risk::BreakerCause::kDrawdown, risk::BreakerCause::kDrawdownPct})
      if (replay_.breaker == risk::breaker_cause_name(c)) cause = c;
    egress_.restore_breaker(cause, replay_.breaker_pnl, replay_.has_peak, replay_.peak_pnl);
    for (std::uint8_t i = 0; i < risk::kMaxStrategyLimits; ++i)
      if ((replay_.strategy_loss_tripped >> i) & 1u) {
        gate_.trip_strategy(i);
        core::log::warn("recovery: strategy {}'s loss limit is still tripped: only its risk-reducing orders until "
                        "`hftctl risk reset`", i);
      }
    if (replay_.storm_halt) {
      egress_.restore_storm_halt();
      core::log::warn("recovery: Storm Guard was in HALT: no new orders until `hftctl risk reset`");
    }
    if (cause != risk::BreakerCause::kNone)
      core::log::warn("recovery: the circuit breaker ({}) tripped at P&L {:.2f} USD is still tripped: only risk-reducing "
                      "orders until `hftctl risk reset`", replay_.breaker, static_cast<double>(replay_.breaker_pnl) / 1e4);
  }

  [[nodiscard]] std::string control_path() const override { return control_ ? control_->path() : std::string(); }
  [[nodiscard]] std::vector<int> thread_ids() const override {
    std::vector<int> ids;
    for (const auto& r : runners_) ids.push_back(r->tid());
    return ids;
  }

  HftdConfig config_;
  std::unique_ptr<control::ControlFile> control_;
  core::Arena arena_;
  SymbolTable symbols_;
  risk::ReferencePrices refs_;
  Subscriptions subs_;
  book::BookSet books_;  // the first venue's (the only one's)
  std::vector<std::unique_ptr<book::BookSet>> extra_books_;  // issue 14: venues 1, 2, ...
  std::unique_ptr<InstrumentMap> instruments_;  // issue 14: several venues only
  oms::OrderManager oms_;
  risk::RiskGate gate_;
  risk::StormInputs storm_inputs_;
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
  core::Histogram* h_features_;  // feature-update time of the strategy stage (pipeline/features)
  core::Histogram* h_legs_;      // issue 14: detection -> the last leg of a multi-venue decision on the wire (null: one venue)
  core::SpscRing<ControlRequest> control_ring_;
  Backend net_backend_;
  Backend oe_backend_;
  NetStage<Backend> net_;  // the first venue's feed
  std::unique_ptr<NetStages<Backend>> nets_;  // issue 14: every venue's feeds (net_ first); several venues only
  ParseStage parse_;
  BookStage book_;
  StrategyStage strategy_;
  EgressStage<Backend> egress_;
  std::unique_ptr<FusedDownstream<Backend>> fused_;  // issue 17: run to completion on a fused thread (before runners_)
  std::vector<std::unique_ptr<control::Publisher>> publishers_;
  std::vector<std::unique_ptr<core::Runner>> runners_;
  control::ControlPlane<Backend> control_plane_;  // pipeline/control/control_plane.hpp
  bool stopped_ = false;
  Summary summary_;
  std::unique_ptr<journal::JournalWriter> journal_;
  std::uint32_t date_ = 0;
  ReplayResult replay_;
  bool recovering_ = false;
  bool recovery_released_ = false;
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
std::string Appliance::books_json() const { return impl_->pipeline->books_json(); }
std::string Appliance::control_path() const { return impl_->pipeline->control_path(); }
std::vector<int> Appliance::thread_ids() const { return impl_->pipeline->thread_ids(); }

std::string Summary::key_values() const {
  std::string s = fmt::format("backend={}\nfeed_packets={}\nfeed_messages={}\ngaps={}\nrecovered={}\nlost={}\nrequests={}\n",
                              backend, feed_packets, feed_messages, gaps, recovered, lost, requests);
  s += fmt::format("snapshot_recoveries={}\n", snapshot_recoveries);
  s += fmt::format("orders_sent={}\naccepted={}\nfills={}\nfilled_shares={}\ncanceled={}\nvenue_rejects={}\nrisk_rejects={}\n",
                   orders_sent, accepted, fills, filled_shares, canceled, venue_rejects, risk_rejects);
  s += fmt::format("cancels_sent={}\nreplaces_sent={}\n", cancels_sent, replaces_sent);
  for (const auto& p : positions) s += fmt::format("position.{}={}\n", p.symbol, p.shares);
  s += fmt::format("gross_position={}\nnet_position={}\npnl_usd={:.2f}\n", gross_position, net_position, pnl_usd);
  for (const auto& h : hops)
    s += fmt::format("{0}_count={1}\n{0}_p50_ns={2}\n{0}_p99_ns={3}\n{0}_p999_ns={4}\n{0}_max_ns={5}\n", h.name, h.count,
                     h.p50, h.p99, h.p999, h.max);
  for (const auto& a : arbs)
    s += fmt::format("arb.{0}.seen={1}\narb.{0}.taken={2}\narb.{0}.both_filled={3}\narb.{0}.one_leg={4}\n"
                     "arb.{0}.none_filled={5}\narb.{0}.hedges={6}\narb.{0}.unwinds={7}\narb.{0}.refused={8}\n"
                     "arb.{0}.retries={9}\narb.{0}.left_open={10}\n",
                     a.strategy, a.seen, a.taken, a.both_filled, a.one_leg, a.none_filled, a.hedges, a.unwinds, a.refused,
                     a.retries, a.left_open);
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
  for (const auto& v : venues)
    s += fmt::format("venue {}: {} feed messages, {} gaps, {} book messages{}\n", v.venue, v.feed_messages, v.gaps,
                     v.book_messages, v.stale ? " (stale)" : "");
  s += "positions:";
  if (positions.empty()) s += " none";
  for (const auto& p : positions) s += fmt::format(" {} {}", p.symbol, p.shares);
  s += fmt::format(" (shares; gross {}, net {}); P&L: {:.2f} USD (marked at the reference prices)\n", gross_position,
                   net_position, pnl_usd);
  for (const auto& a : arbs)
    s += fmt::format("arbitrage {}: {} opportunities seen, {} taken, {} both legs filled, {} one leg, {} neither; {} "
                     "hedges, {} unwinds, {} refused; {} retries, {} left open\n",
                     a.strategy, a.seen, a.taken, a.both_filled, a.one_leg, a.none_filled, a.hedges, a.unwinds, a.refused,
                     a.retries, a.left_open);
  s += "latency (ns):          count        p50        p99      p99.9        max\n";
  for (const auto& h : hops)
    s += fmt::format("  {:<18} {:>10} {:>10} {:>10} {:>10} {:>10}\n", h.name, h.count, h.p50, h.p99, h.p999, h.max);
  for (const auto& f : files) s += fmt::format("wrote {}\n", f);
  return s;
}

}  // namespace hft::app
