#pragma once
// hftd's control plane over the parts of one pipeline: the publishers that copy each stage's
// counters into the control file on the stage's own thread, the risk/positions/order-entry
// records the egress thread publishes, and the control thread's tick (heartbeat, thread table,
// hftctl's commands). The pipeline (pipeline/app/appliance.cpp) owns the parts and wires them;
// this file only reads them and steers them through their thread-safe controls.
//
// Threads: add_publisher runs at start-up; the closures it adds run on the pipeline threads
// (copies and relaxed stores only: no allocation, lock or formatting in steady state);
// control_tick, run_command and set_risk run on hftd's main (control) thread.
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/log.hpp"
#include "core/runner.hpp"
#include "core/runtime_config.hpp"
#include "core/spsc_ring.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/publisher.hpp"
#include "pipeline/control/risk_block.hpp"
#include "pipeline/oms/order_manager.hpp"
#include "pipeline/risk/keys.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/net_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"

namespace hft::control {

// "max_order_quantity", ...: the suffix of the risk.rejects.* counters.
const char* reject_name(pipeline::RejectReason r) noexcept;

// "halt", "set risk.max_order_quantity=50", ...: a command as hftd's log shows it.
std::string command_text(const CommandSlot& c);

// Publishes `value` (read on the owning thread) into a control-file counter.
struct Out {
  CounterSlot* slot = nullptr;
  void operator=(std::uint64_t v) const noexcept {
    if (slot != nullptr) slot->value.store(v, std::memory_order_relaxed);
  }
};

// The parts of one pipeline the control plane reads and steers. Every reference outlives the
// ControlPlane (the pipeline owns both).
template <class Backend>
struct PipelineParts {
  ControlFile* file;  // null: no control file (hftctl cannot attach; commands never arrive)
  const std::vector<core::ThreadConfig>& threads;
  const std::vector<std::unique_ptr<core::Runner>>& runners;  // one per entry of `threads`
  const pipeline::OrderEntryConfig& order_entry;
  std::string histogram_dir;
  risk::RiskLimits limits;  // as configured
  pipeline::NetStage<Backend>& net;
  pipeline::ParseStage& parse;
  pipeline::BookStage& book;
  pipeline::StrategyStage& strategy;
  pipeline::EgressStage<Backend>& egress;
  core::SpscRing<pipeline::RxMessage>& rx;
  core::SpscRing<pipeline::MdEvent>& md;
  core::SpscRing<pipeline::BookEvent>& book_events;
  core::SpscRing<pipeline::OrderIntent>& intents;
  core::SpscRing<pipeline::ExecReport>& reports;
  core::SpscRing<pipeline::ControlRequest>& control_ring;  // to the egress thread
  book::BookSet& books;
  oms::OrderManager& oms;
  risk::RiskGate& gate;
  risk::ReferencePrices& refs;
  pipeline::SymbolTable& symbols;
  // Writes the latency histograms as .hgrm files (the `dump` command); `hop_count` of them.
  std::function<std::vector<std::string>()> dump_histograms;
  std::size_t hop_count;
};

template <class Backend>
class ControlPlane {
 public:
  explicit ControlPlane(PipelineParts<Backend> p)
      : control_(p.file),
        threads_(p.threads),
        runners_(p.runners),
        order_entry_(p.order_entry),
        histogram_dir_(std::move(p.histogram_dir)),
        limits_(p.limits),
        net_(p.net),
        parse_(p.parse),
        book_(p.book),
        strategy_(p.strategy),
        egress_(p.egress),
        rx_(&p.rx),
        md_(&p.md),
        book_events_(&p.book_events),
        intents_(&p.intents),
        reports_(&p.reports),
        control_ring_(p.control_ring),
        books_(p.books),
        oms_(p.oms),
        gate_(p.gate),
        refs_(p.refs),
        symbols_(p.symbols),
        dump_histograms_(std::move(p.dump_histograms)),
        hop_count_(p.hop_count) {}
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_relaxed); }
  // The limits in force after a restart replayed `hftctl set` commands from the journal.
  void set_limits(const risk::RiskLimits& l) noexcept { limits_ = l; }

  // Operator halt: strategies stop sending (the risk block shows it). Safe from any thread.
  void halt(bool on) noexcept {
    halted_.store(on, std::memory_order_relaxed);
    strategy_.set_halted(on);
  }

  // Counters of one stage, copied by the publisher that runs on the stage's own thread.
  void add_publisher(Publisher& p, const std::string& stage) {
    using K = CounterKind;
    if (stage == "net") {
      const Out datagrams{counter("net.datagrams")}, messages{counter("net.messages")}, overflow{counter("net.ring_overflow")},
          requests{counter("feed.requests_sent")}, packets{counter("feed.packets")}, gaps{counter("feed.gaps")},
          recovered{counter("feed.recovered")}, lost{counter("feed.lost")}, dups{counter("feed.duplicates")},
          heartbeats{counter("feed.heartbeats")}, malformed{counter("feed.malformed")},
          mismatches{counter("feed.session_mismatches")}, foreign{counter("feed.foreign")},
          source_changes{counter("feed.source_changes")}, sources_forgotten{counter("feed.sources_forgotten")},
          suspect{counter("feed.suspect")}, confirmed{counter("feed.suspect_confirmed")},
          refuted{counter("feed.suspect_refuted")}, expired{counter("feed.suspect_expired")},
          probes{counter("feed.probes")}, phantom{counter("feed.phantom")},
          feed_sessions{counter("feed.session_changes")}, lost_stale{counter("feed.lost_stale")},
          snap_recoveries{counter("feed.snapshot_recoveries")}, snap_attempts{counter("feed.snapshot_attempts")},
          snap_failures{counter("feed.snapshot_failures")}, snap_overflows{counter("feed.snapshot_overflows")},
          snap_restarts{counter("feed.snapshot_restarts")}, snap_skipped{counter("feed.snapshot_skipped")},
          depth{counter("ring.net_parse.depth", K::kGauge)}, high{counter("ring.net_parse.high_water", K::kGauge)};
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
        source_changes = net_.counters().source_changes;
        sources_forgotten = net_.counters().sources_forgotten;
        suspect = m.suspect;
        confirmed = m.suspect_confirmed;
        refuted = m.suspect_refuted;
        expired = m.suspect_expired;
        probes = m.probes;
        phantom = m.phantom;
        feed_sessions = m.session_changes;
        lost_stale = net_.counters().lost_stale;
        snap_recoveries = net_.counters().snapshot_recoveries;
        snap_attempts = net_.counters().snapshot_attempts;
        snap_failures = net_.counters().snapshot_failures;
        snap_overflows = net_.counters().snapshot_overflows;
        snap_restarts = net_.counters().snapshot_restarts;
        snap_skipped = net_.counters().snapshot_skipped;
        net_.log_events();  // each feed event once, with its numbers, when its counter moved (never per packet)
        const std::uint64_t d = rx_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
        publish_venue_feeds();
        seq_write(control_->feed().lock, [&] {
          FeedBlock& f = control_->feed();
          std::string_view session = net_.feed_session();
          while (!session.empty() && (session.back() == ' ' || session.back() == '\0')) session.remove_suffix(1);
          put_text(f.session, session);
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
          down{counter("strategy.refused.not_connected")},
          full{counter("strategy.refused.ring_full")}, depth{counter("ring.strategy_risk.depth", K::kGauge)},
          high{counter("ring.strategy_risk.high_water", K::kGauge)};
      p.add([=, this, hw = std::uint64_t{0}]() mutable {
        events = strategy_.counters().book_events;
        trades = strategy_.counters().trades;
        reports = strategy_.counters().reports;
        intents = strategy_.intents_sent();
        std::uint64_t s_stale = 0, s_halted = 0, s_full = 0, s_down = 0;
        for (std::size_t i = 0; i < strategy_.size(); ++i) {
          const auto& r = strategy_.context(i).refusals();
          s_stale += r.stale_book;
          s_halted += r.halted;
          s_full += r.ring_full;
          s_down += r.not_connected;
        }
        down = s_down;
        stale = s_stale;
        halted = s_halted;
        full = s_full;
        const std::uint64_t d = intents_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
      });
      // Parent orders and per-strategy performance (hftctl algo status, strategy list; Prometheus).
      p.add([this] { publish_strategies(); });
      add_router_and_arb_publisher(p);
    } else {
      const Out sent{counter("orders.sent")}, accepted{counter("orders.accepted")}, rejected{counter("orders.rejected_by_venue")},
          canceled{counter("orders.canceled")}, replaced{counter("orders.replaced")}, fills{counter("orders.fills")},
          shares{counter("orders.filled_shares")}, cancels{counter("orders.cancels_sent")},
          replaces{counter("orders.replaces_sent")}, open{counter("orders.open", K::kGauge)},
          overfills{counter("orders.overfills")}, unknown{counter("orders.unknown_replies")},
          not_connected{counter("egress.not_connected")}, backlog{counter("egress.backlog")},
          replies{counter("egress.replies")}, reply_errors{counter("egress.reply_errors")},
          connects{counter("egress.connects")}, kills{counter("egress.kill_cancels")},
          flattens{counter("egress.flatten_orders")}, disconnects{counter("egress.disconnects")},
          connect_failures{counter("egress.connect_failures")}, refusals{counter("egress.login_refusals")},
          joins{counter("egress.new_session_joins")}, oe_sessions{counter("egress.session_changes")},
          j_records{counter("journal.records")}, j_bytes{counter("journal.bytes")},
          j_failures{counter("journal.append_failures")}, j_rotations{counter("journal.rotations")},
          j_durable{counter("journal.durable_sequence", K::kGauge)}, j_sync_errors{counter("journal.sync_errors")},
          r_unsent{counter("recovery.unsent_closed")}, r_cancels{counter("recovery.cancels")},
          depth{counter("ring.risk_strategy.depth", K::kGauge)},
          high{counter("ring.risk_strategy.high_water", K::kGauge)};
      define_venue_session_counters();
      std::array<Out, pipeline::kRejectReasonSlots> rejects{};
      for (std::size_t r = 1; r < rejects.size(); ++r)
        rejects[r] = Out{counter(fmt::format("risk.rejects.{}", reject_name(static_cast<pipeline::RejectReason>(r))))};
      p.add([=, this, hw = std::uint64_t{0}, logged_overfills = std::uint64_t{0}]() mutable {
        const auto& oc = oms_.counters();
        overfills = oc.overfills;
        unknown = oc.unknown_replies;
        // Counted on the egress hot path, logged here (cold) when the counter moved.
        if (oc.overfills != logged_overfills) {
          core::log::warn("order manager: {} execution(s) beyond the order's leaves, booked whole ({} of them for "
                          "orders already closed); {} in all",
                          oc.overfills - logged_overfills, oc.fills_after_close, oc.overfills);
          logged_overfills = oc.overfills;
        }
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
        disconnects = ec.disconnects;
        connect_failures = ec.connect_failures;
        refusals = ec.login_refusals;
        joins = ec.new_session_joins;
        oe_sessions = ec.session_changes;
        j_failures = ec.journal_failures;
        r_unsent = ec.recovered_unsent;
        r_cancels = ec.recovery_cancels;
        if (const journal::JournalWriter* j = egress_.journal()) {
          j_records = j->counters().records;
          j_bytes = j->counters().bytes;
          j_rotations = j->counters().rotations;
          j_durable = j->durable_sequence();
          j_sync_errors = j->sync_errors();
        }
        for (std::size_t r = 1; r < rejects.size(); ++r) rejects[r] = gate_.rejected(static_cast<pipeline::RejectReason>(r));
        const std::uint64_t d = reports_->size_approx();
        hw = d > hw ? d : hw;
        depth = d;
        high = hw;
        publish_risk_and_positions();
        publish_venue_sessions();
        egress_.log_events();  // a login the venue does not answer is logged (cold path, when it happened)
      });
    }
  }

  // ---- several venues (issue 14): per-venue counters "venue.NAME.KEY" ---------------------------
  // Counter slots (self-describing, one writer each), defined only with several venues; the
  // Prometheus exporter turns them into hftd_venue_KEY{venue="NAME"} and `hftctl status` lists
  // them per venue. "arb.NAME.KEY": each cross_venue_arb's counters (hftd_arb_KEY{strategy="NAME"}).
  // Every venue's feed (set by the appliance before the publishers; null: one venue).
  void set_feeds(const pipeline::NetStages<Backend>* feeds) noexcept { feeds_ = feeds; }

  [[nodiscard]] std::string venue_name(std::size_t v) const {
    const std::string& n = egress_.venue_config(static_cast<pipeline::VenueId>(v)).name;
    return n.empty() ? fmt::format("venue{}", v) : n;
  }
  Out venue_counter(std::size_t v, const char* key, CounterKind kind = CounterKind::kCounter) {
    return Out{counter(fmt::format("venue.{}.{}", venue_name(v), key), kind)};
  }
  // On the net thread: each venue's feed state.
  void publish_venue_feeds() noexcept {
    if (feeds_ == nullptr) return;
    if (!feed_outs_defined_) return;
    for (std::size_t v = 0; v < feeds_->size() && v < pipeline::kMaxVenues; ++v) {
      const auto& f = feeds_->feed(v);
      const VenueFeedOuts& o = feed_outs_[v];
      o.stale = f.stale() ? 1 : 0;
      o.in_recovery = f.in_recovery() ? 1 : 0;
      o.gaps = f.session_counters().gaps;
      o.lost = f.session_counters().lost;
      o.messages = f.session_counters().messages;
      o.next_sequence = f.next_expected();
    }
  }
  // On the egress thread: each venue's order-entry session and its orders.
  void define_venue_session_counters() {
    using K = CounterKind;
    if (egress_.venues() < 2) return;
    for (std::size_t v = 0; v < egress_.venues(); ++v) {
      VenueSessionOuts& o = session_outs_[v];
      o.up = venue_counter(v, "session_up", K::kGauge);
      o.connected = venue_counter(v, "connected", K::kGauge);
      o.recovering = venue_counter(v, "recovering", K::kGauge);
      o.sequence = venue_counter(v, "session_sequence", K::kGauge);
      o.sent = venue_counter(v, "orders_sent");
      o.cancels = venue_counter(v, "cancels_sent");
      o.replaces = venue_counter(v, "replaces_sent");
      o.replies = venue_counter(v, "replies");
      o.fills = venue_counter(v, "fills");
      o.shares = venue_counter(v, "filled_shares");
      o.rejects = venue_counter(v, "rejects");
      o.refused_down = venue_counter(v, "refused_down");
      o.disconnects = venue_counter(v, "disconnects");
      o.connects = venue_counter(v, "connects");
    }
    // The feeds' counters are defined here too (the control file hands out slots in one order);
    // the net thread writes them.
    if (feeds_ != nullptr) {
      for (std::size_t v = 0; v < feeds_->size() && v < pipeline::kMaxVenues; ++v) {
        VenueFeedOuts& o = feed_outs_[v];
        o.stale = venue_counter(v, "feed_stale", K::kGauge);
        o.in_recovery = venue_counter(v, "feed_in_recovery", K::kGauge);
        o.gaps = venue_counter(v, "feed_gaps");
        o.lost = venue_counter(v, "feed_lost");
        o.messages = venue_counter(v, "feed_messages");
        o.next_sequence = venue_counter(v, "feed_next_sequence", K::kGauge);
      }
      feed_outs_defined_.store(true, std::memory_order_release);
    }
    venue_sessions_ = egress_.venues();
  }
  void publish_venue_sessions() noexcept {
    for (std::size_t v = 0; v < venue_sessions_; ++v) {
      const auto venue = static_cast<pipeline::VenueId>(v);
      const VenueSessionOuts& o = session_outs_[v];
      const pipeline::VenueSessionCounters& c = egress_.venue_counters(venue);
      o.up = egress_.ready(venue) ? 1 : 0;
      o.connected = egress_.connected(venue) ? 1 : 0;
      o.recovering = egress_.recovery_state() == pipeline::RecoveryState::kRecovering && egress_.venue_recovering(venue) ? 1 : 0;
      o.sequence = egress_.session(venue).next_expected();
      o.sent = c.sent_new;
      o.cancels = c.sent_cancel;
      o.replaces = c.sent_replace;
      o.replies = c.replies;
      o.fills = c.fills;
      o.shares = oms_.venue_filled_shares(venue);
      o.rejects = c.rejects;
      o.refused_down = c.refused_down;
      o.disconnects = c.disconnects;
      o.connects = c.connects;
    }
  }
  // On the strategy thread: the router's decisions (per venue: legs and shares) and the arbitrage.
  void add_router_and_arb_publisher(Publisher& p) {
    if (egress_.venues() < 2) return;
    struct RouterOuts {
      Out marketable, passive, pinned, no_venue, split;
      std::array<Out, pipeline::kMaxVenues> legs{}, shares{};
    } r{Out{counter("router.marketable")}, Out{counter("router.passive")}, Out{counter("router.pinned")},
        Out{counter("router.no_venue")}, Out{counter("router.split")}, {}, {}};
    for (std::size_t v = 0; v < egress_.venues(); ++v) {
      r.legs[v] = venue_counter(v, "routed_legs");
      r.shares[v] = venue_counter(v, "routed_shares");
    }
    struct ArbOuts {
      std::size_t index;
      Out seen, taken, both_filled, one_leg, none_filled, hedges, unwinds, refused, retries, left_open;
    };
    std::vector<ArbOuts> arbs;
    for (std::size_t i = 0; i < strategy_.size(); ++i) {
      if (strategy_.arb_counters_of(i) == nullptr) continue;
      const std::string n = "arb." + strategy_.context(i).name() + ".";
      arbs.push_back({i, Out{counter(n + "seen")}, Out{counter(n + "taken")}, Out{counter(n + "both_filled")},
                      Out{counter(n + "one_leg")}, Out{counter(n + "none_filled")}, Out{counter(n + "hedges")},
                      Out{counter(n + "unwinds")}, Out{counter(n + "refused")}, Out{counter(n + "retries")},
                      Out{counter(n + "left_open")}});
    }
    const std::size_t venues = egress_.venues();
    p.add([this, r, arbs, venues] {
      const oms::RouterCounters& c = strategy_.router().counters();
      r.marketable = c.marketable;
      r.passive = c.passive;
      r.pinned = c.pinned;
      r.no_venue = c.no_venue;
      r.split = c.split;
      for (std::size_t v = 0; v < venues; ++v) {
        r.legs[v] = c.legs[v];
        r.shares[v] = c.shares[v];
      }
      for (const ArbOuts& a : arbs) {
        const auto* k = strategy_.arb_counters_of(a.index);
        a.seen = k->seen;
        a.taken = k->taken;
        a.both_filled = k->both_filled;
        a.one_leg = k->one_leg;
        a.none_filled = k->none_filled;
        a.hedges = k->hedges;
        a.unwinds = k->unwinds;
        a.refused = k->refused;
        a.retries = k->retries;
        a.left_open = k->left_open;
      }
    });
  }

  // On the egress thread: risk state, positions and the order-entry session.
  void publish_risk_and_positions() noexcept {
    seq_write(control_->risk().lock, [&] {
      RiskBlock& b = control_->risk();
      b.kill_switch = gate_.kill_switch() ? 1 : 0;
      b.halted = halted_.load(std::memory_order_relaxed) ? 1 : 0;
      write_risk_limits(b, gate_.limits());
      b.open_orders = oms_.open_orders();
      const risk::BreakerState& br = gate_.breaker();
      b.breaker = static_cast<std::uint8_t>(br.cause);
      b.storm_global = static_cast<std::uint8_t>(egress_.storm_guard().global());
      b.storm_worst = static_cast<std::uint8_t>(egress_.storm_guard().worst());
      b.pnl = br.pnl;
      b.peak_pnl = br.peak;
      b.trip_pnl = br.trip_pnl;
      const risk::Totals& t = oms_.totals();
      b.gross_shares = t.gross_shares;
      b.net_long = t.net_long;
      b.net_short = t.net_short;
      b.gross_notional = t.gross_notional;
      // The risk events since the last publish (the last kRiskEventSlots of them), refusals apart.
      auto copy = [](std::uint64_t& count, RiskEventSlot* slots, std::uint64_t n, auto&& event) {
        std::uint64_t from = count + 1;
        if (n >= kRiskEventSlots && from + kRiskEventSlots <= n) from = n - kRiskEventSlots + 1;
        for (std::uint64_t seq = from; seq <= n; ++seq) {
          const pipeline::RiskEvent& e = event(seq);
          RiskEventSlot& d = slots[(seq - 1) % kRiskEventSlots];
          d.seq = seq;
          d.wall_ns = e.wall_ns;
          d.kind = e.kind;
          d.code = e.code;
          d.side = e.side;
          d.strategy = e.strategy;
          std::memcpy(d.name, e.name, sizeof d.name);
          d.a = e.a;
          d.b = e.b;
          d.c = e.c;
        }
        count = n;
      };
      copy(b.event_count, b.events, egress_.risk_event_count(),
           [&](std::uint64_t seq) -> const pipeline::RiskEvent& { return egress_.risk_event(seq); });
      copy(b.refusal_count, b.refusals, egress_.refusal_event_count(),
           [&](std::uint64_t seq) -> const pipeline::RiskEvent& { return egress_.refusal_event(seq); });
      for (std::uint8_t i = 0; i < kStrategyRiskSlots && i < risk::kMaxStrategyLimits; ++i) {
        StrategyRiskSlot& d = b.strategies[i];
        const risk::StrategyLedger* sl = gate_.strategy_ledger(i);
        const risk::StrategyLimits& lim = gate_.limits().strategy[i];
        d.used = sl != nullptr ? 1 : 0;  // limits configured at start-up (all may be 0 = off now)
        if (d.used == 0) continue;
        d.tripped = gate_.strategy_tripped(i) ? 1 : 0;
        d.max_position = lim.max_position;
        d.max_notional = lim.max_notional;
        d.max_loss = lim.max_loss;
        d.max_orders_per_second = lim.max_orders_per_second;
        std::int64_t worst = 0;
        for (const pipeline::Locate l : oms_.active_list()) {
          const risk::Exposure& e = sl->exposure[l];
          const std::int64_t g = risk::gross_shares(e.position, e.open_buy, e.open_sell);
          worst = g > worst ? g : worst;
        }
        d.position = worst;
        d.gross_notional = sl->gross_notional;
        d.pnl = gate_.strategy_pnl(i);
      }
    });
    std::uint32_t slot = 0;
    for (std::size_t l = 1; l < oms_.locates() && slot < control_->header().position_slots; ++l) {
      const auto locate = static_cast<pipeline::Locate>(l);
      const risk::Exposure& e = oms_.exposure(locate);
      if (!oms_.active(locate)) continue;  // once traded, a symbol keeps its slot (a flat one too)
      PositionSlot* p = control_->position_slot(slot++);
      seq_write(p->lock, [&] {
        p->locate = locate;
        const auto sym = symbols_.symbol(locate);
        std::memcpy(p->symbol, sym.chars.data(), 8);
        p->used = 1;
        p->position = e.position;
        p->cash = oms_.cash(locate);
        p->reference = refs_.get(locate);
        p->open_buy = e.open_buy;
        p->open_sell = e.open_sell;
        p->realized_pnl = oms_.realized_pnl(locate);
      });
    }
    const auto& sess = egress_.session();
    seq_write(control_->order_entry().lock, [&] {
      OrderEntryBlock& o = control_->order_entry();
      put_text(o.venue, order_entry_.venue.text);
      put_text(o.user, order_entry_.soup.username);
      put_text(o.session, sess.session().trimmed());
      o.connected = egress_.connected() ? 1 : 0;
      o.logged_in = sess.logged_in() ? 1 : 0;
      o.ready = egress_.ready() ? 1 : 0;
      o.recovery = static_cast<std::uint8_t>(egress_.recovery_state());
      o.next_user_ref = oms_.next_user_ref();
      o.session_sequence = sess.next_expected();
      // Formatting allocates: only when a session event happened since the last publish (a
      // login, a logout, a timeout), never in steady state.
      if (egress_.session_events() != described_events_) {
        described_events_ = egress_.session_events();
        put_text(o.last_event, soup::describe(egress_.last_event()));
      }
    });
  }

  // At a clean stop (orders canceled, threads still running): the last snapshot of each strategy
  // that changed since the previous one, however recent that was.
  void journal_final_snapshots() {
    last_snapshot_ns_ = 0;
    journal_strategy_snapshots(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count()));
  }

  void control_tick() {
    if (!control_) return;
    control_->heartbeat();
    for (std::size_t i = 0; i < runners_.size(); ++i) {
      ThreadSlot* t = control_->thread_slot(static_cast<std::uint32_t>(i));
      if (t == nullptr) break;
      const core::Runner& r = *runners_[i];
      const auto& tc = threads_[i];
      seq_write(t->lock, [&] {
        put_text(t->name, tc.name);
        put_text(t->stages, fmt::format("{}", fmt::join(tc.stages, ",")));
        put_text(t->idle, core::to_string(tc.idle.kind));
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
    journal_strategy_snapshots(now);
    for (std::uint32_t i = 0; i < control_->command_slots(); ++i) {
      CommandSlot* c = control_->command_slot(i);
      const auto st = static_cast<CommandState>(c->state.load(std::memory_order_acquire));
      std::uint32_t pending = static_cast<std::uint32_t>(CommandState::kPending);
      // A compare-and-swap, not a store: hftctl withdraws a command it stopped waiting for with
      // the same CAS, so a command is either taken here or withdrawn there, never both.
      if (st == CommandState::kPending &&
          c->state.compare_exchange_strong(pending, static_cast<std::uint32_t>(CommandState::kTaken),
                                           std::memory_order_acq_rel)) {
        const auto [ok, message] = run_command(*c);
        c->ok = ok ? 1 : 0;
        put_text(c->result, message);
        c->state.store(static_cast<std::uint32_t>(CommandState::kDone), std::memory_order_release);
        core::log::info("hftctl command: {} -> {}{}", command_text(*c), ok ? "" : "refused: ", message);
      } else if (st == CommandState::kClaimed || st == CommandState::kDone) {
        // A client that claimed a slot, or left an answer, and went away: give the slot back
        // once this thread has seen it in the same state for 30 s (its own observation: the
        // client's claim time is written after its claim, so it cannot be trusted here).
        if (stuck_.size() <= i) stuck_.resize(i + 1);
        Stuck& k = stuck_[i];
        if (k.state != st) k = Stuck{st, now};
        std::uint32_t seen = static_cast<std::uint32_t>(st);
        if (now - k.since > 30'000'000'000ull &&
            c->state.compare_exchange_strong(seen, static_cast<std::uint32_t>(CommandState::kFree),
                                             std::memory_order_acq_rel))
          k = Stuck{};
      } else if (stuck_.size() > i) {
        stuck_[i] = Stuck{};
      }
    }
  }

 private:
  // Sends a request to the egress thread and waits (bounded) until it has been applied.
  bool to_egress(pipeline::ControlRequest req) {
    req.id = ++control_seq_;
    if (!control_ring_.try_push(req)) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (egress_.control_applied() != req.id) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

  // Journals an operator command on the egress thread (the journal's one writer) before it takes
  // effect. Without a journal, or when the egress thread does not answer, the command still applies.
  void journal_command(const CommandSlot& c) { journal_note(command_text(c)); }
  void journal_note(const std::string& text) {
    if (egress_.journal() == nullptr) return;
    pipeline::ControlRequest r{};
    r.op = pipeline::ControlRequest::Op::kNote;
    put_text(r.text, text);
    if (!to_egress(r)) core::log::warn("{}: not journaled (the risk/egress thread did not answer)", text);
  }

  // Issue 16 (hft_strategies): once a second, each strategy whose published state or performance
  // changed is journaled as a note "snapshot NAME STATE REALIZED UNREALIZED FEES FILLS POSITION"
  // (dollars, 4 decimals): formatted here on the control thread from the control file's strategy
  // slots, written by the egress thread (the journal's one writer) like an operator command.
  void journal_strategy_snapshots(std::uint64_t now_ns) {
    if (egress_.journal() == nullptr || now_ns - last_snapshot_ns_ < 1'000'000'000ull) return;
    last_snapshot_ns_ = now_ns;
    for (std::uint32_t i = 0;; ++i) {
      const StrategySlot* slot = control_->strategy_slot(i);
      if (slot == nullptr) break;
      StrategySlot t{};
      if (!seq_read(*slot, t) || t.used == 0) continue;
      static constexpr const char* kStates[] = {"running", "paused", "stopped"};
      std::string text = fmt::format("snapshot {} {} {:.4f} {:.4f} {:.4f} {} {}", get_text(t.name), t.state < 3 ? kStates[t.state] : "?",
                                     t.realized_pnl, t.unrealized_pnl, t.fees, t.fills, t.position);
      if (snapshots_.size() <= i) snapshots_.resize(i + 1);
      if (signals_.size() <= i) signals_.resize(i + 1);
      if (snapshots_[i] != text) {
        journal_note(text);
        snapshots_[i] = std::move(text);
      }
      // hft_signals: "signal NAME SIGNAL VALUE" when the strategy has one and it moved.
      if (t.signal_name[0] == '\0' || !std::isfinite(t.signal)) continue;
      std::string sig = fmt::format("signal {} {} {:.4f}", get_text(t.name), get_text(t.signal_name), t.signal);
      if (signals_[i] == sig) continue;
      journal_note(sig);
      signals_[i] = std::move(sig);
    }
  }

  std::pair<bool, std::string> run_command(const CommandSlot& c) {
    using Op = CommandOp;
    if (c.op == Op::kHalt || c.op == Op::kResume || c.op == Op::kKill || c.op == Op::kUnkill) journal_command(c);
    if (c.op == Op::kRiskReset) {
      // On the egress thread (the gate's owner), journaled there as "risk reset" first.
      const risk::BreakerState before = gate_.breaker();  // a racy read, for the answer only
      pipeline::ControlRequest r{};
      r.op = pipeline::ControlRequest::Op::kResetRisk;
      put_text(r.text, "risk reset");
      if (!to_egress(r)) return {false, "the risk/egress thread did not answer within 2 s"};
      if (before.cause == risk::BreakerCause::kNone) return {true, "circuit breaker was not tripped; the P&L peak starts again"};
      return {true, fmt::format("circuit breaker ({}) reset: new orders allowed; the P&L peak starts again",
                                risk::breaker_cause_name(before.cause))};
    }
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
      case Op::kSetRisk: {
        // hftctl appends " by uid N (user)" to the value (who asked, for the limit-change event).
        std::string value(get_text(c.value));
        std::string who;
        if (const std::size_t by = value.find(" by "); by != std::string::npos) {
          who = value.substr(by + 4);
          value.resize(by);
        }
        return set_risk(std::string(get_text(c.key)), value, who);
      }
      case Op::kFlatten: {
        if (gate_.kill_switch()) return {false, "the kill switch is on: `hftctl unkill` first (flatten sends orders)"};
        halt(true);
        pipeline::ControlRequest r{};
        r.op = pipeline::ControlRequest::Op::kFlatten;
        put_text(r.text, "flatten");
        if (!to_egress(r)) return {false, "the risk/egress thread did not answer within 2 s"};
        return {true, "strategies halted; working orders cancelled; closing IOC orders sent for every open position"};
      }
      case Op::kDumpHistograms: {
        const auto files = dump_histograms_();
        const std::size_t all = hop_count_;
        if (files.size() != all)
          return {false, fmt::format("wrote {} of {} histograms to {} (see hftd's log for the rest)", files.size(), all,
                                     histogram_dir_)};
        return {true, fmt::format("wrote {} histograms to {}", files.size(), histogram_dir_)};
      }
      case Op::kAlgoStart:
      case Op::kAlgoCancel:
      case Op::kStrategyStart:
      case Op::kStrategyStop:
      case Op::kStrategyPause:
      case Op::kStrategySet:
      case Op::kOrderNew:
      case Op::kOrderCancel: {
        auto result = strategy_command(c);
        // Journaled once applied (hft_strategies; hft_risk_events for algos and orders), with
        // the answer (a parent or order id).
        if (result.first) journal_note(fmt::format("{} = {}", command_text(c), result.second));
        return result;
      }
      case Op::kRiskReset:
      case Op::kNone: break;
    }
    return {false, "unknown command"};
  }

  // On the strategy thread (its publisher): the parent orders and the strategies' performance.
  void publish_strategies() {
    const std::uint64_t mono = core::monotonic_ns();
    const auto real = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
    const auto to_real = [&](std::uint64_t t) { return t == 0 ? 0 : real - (mono > t ? mono - t : 0) + (t > mono ? t - mono : 0); };
    std::uint32_t i = 0;
    strategy_.for_each_parent([&](const std::string& name, const strategy::Parent& q) {
      AlgoSlot* a = control_->algo_slot(i++);
      if (a == nullptr) return;
      seq_write(a->lock, [&] {
        a->id = q.id;
        a->used = 1;
        a->algo = static_cast<std::uint8_t>(q.spec.algo);
        a->side = static_cast<std::uint8_t>(q.spec.side);
        a->state = static_cast<std::uint8_t>(q.state);
        std::memcpy(a->symbol, q.spec.symbol.data(), sizeof a->symbol);
        put_text(a->strategy, name);
        a->quantity = q.spec.quantity;
        a->filled = q.filled;
        a->limit = q.spec.limit;
        a->max_participation = q.spec.max_participation;
        a->avg_price = q.avg_price();
        a->arrival = static_cast<double>(q.arrival);
        a->market_vwap = q.market_vwap();
        a->shortfall_bps = q.shortfall_bps();
        a->slippage_bps = q.slippage_bps();
        a->participation = q.participation();
        a->start_realtime_ns = to_real(q.start_ns);
        a->end_realtime_ns = to_real(q.end_ns);
        a->children = q.children;
        a->crosses = q.crosses;
      });
    });
    std::uint32_t j = 0;
    strategy_.for_each_strategy([&](const std::string& name, std::string_view type, pipeline::RunState state,
                                     const strategy::Performance& perf, double unrealized, std::uint64_t orders) {
      StrategySlot* t = control_->strategy_slot(j++);
      if (t == nullptr) return;
      seq_write(t->lock, [&] {
        t->used = 1;
        t->state = static_cast<std::uint8_t>(state);
        put_text(t->name, name);
        put_text(t->type, type);
        t->realized_pnl = perf.realized();
        t->unrealized_pnl = unrealized;
        t->volume_usd = perf.volume_usd();
        t->volume_shares = perf.volume_shares();
        t->orders = orders;
        t->fills = perf.fills();
        t->cancels = perf.cancels();
        t->rejects = perf.rejects();
        t->fill_ratio = perf.fill_ratio(orders);
        t->avg_time_to_fill_us = perf.avg_time_to_fill_us();
        t->round_trips = perf.round_trips();
        t->wins = perf.wins();
        t->win_rate = perf.win_rate();
        t->sharpe = perf.sharpe();
        t->max_drawdown = perf.max_drawdown();
        t->position = perf.total_shares();
        t->fees = perf.fees();
        strategy_.signal_of(j - 1, [&](const char* signal, double value) {
          put_text(t->signal_name, signal);
          t->signal = value;
        });
      });
    });
  }

  // hftctl algo / strategy: parsed here (cold), applied on the strategy thread, waited for (2 s).
  std::pair<bool, std::string> strategy_command(const CommandSlot& c) {
    using Op = CommandOp;
    pipeline::StrategyCommand cmd{};
    const std::string key(get_text(c.key)), value(get_text(c.value));
    switch (c.op) {
      case Op::kAlgoStart: {
        cmd.op = pipeline::StrategyCommand::Op::kAlgoStart;
        if (key != "twap" && key != "vwap") return {false, fmt::format("unknown algo \"{}\" (twap, vwap)", key)};
        cmd.spec.algo = key == "vwap" ? strategy::Algo::kVwap : strategy::Algo::kTwap;
        char sym[16] = {}, side[8] = {};
        unsigned long long qty = 0, duration_ms = 0, limit = 0;
        long long delay_ms = 0;
        double part = 0;
        if (std::sscanf(value.c_str(), "%15s %7s %llu %llu %lld %llu %lf", sym, side, &qty, &duration_ms, &delay_ms,
                        &limit, &part) != 7)
          return {false, fmt::format("malformed algo start \"{}\"", value)};
        const std::string_view side_text(side);
        if (side_text != "buy" && side_text != "sell") return {false, fmt::format("side \"{}\": buy or sell", side_text)};
        if (std::strlen(sym) > 8) return {false, fmt::format("symbol \"{}\": 1 to 8 characters", sym)};
        if (qty == 0 || qty > 1'000'000'000) return {false, fmt::format("quantity {} is out of range [1, 1000000000]", qty)};
        if (duration_ms == 0) return {false, "the duration must be positive"};
        if (delay_ms < 0) return {false, "the start time is in the past"};
        if (part < 0 || part > 1) return {false, fmt::format("max participation {} is out of range [0, 1]", part)};
        std::memcpy(cmd.spec.symbol.data(), sym, std::strlen(sym));
        cmd.spec.side = side_text == "buy" ? pipeline::Side::kBuy : pipeline::Side::kSell;
        cmd.spec.quantity = static_cast<pipeline::Quantity>(qty);
        cmd.spec.duration_ns = duration_ms * 1'000'000ull;
        cmd.spec.start_ns = static_cast<std::uint64_t>(delay_ms) * 1'000'000ull;  // a delay until applied
        cmd.spec.limit = static_cast<pipeline::Price>(limit);
        cmd.spec.max_participation = part;
        const auto t = std::chrono::system_clock::now() + std::chrono::milliseconds(delay_ms);
        const std::time_t tt = std::chrono::system_clock::to_time_t(t);
        std::tm local{};
        ::localtime_r(&tt, &local);
        cmd.spec.start_tod_s = static_cast<std::uint32_t>(local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec);
        break;
      }
      case Op::kAlgoCancel: {
        cmd.op = pipeline::StrategyCommand::Op::kAlgoCancel;
        unsigned long id = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (ec != std::errc() || end != key.data() + key.size() || id == 0 || id > 0xFFFFFFFFul)
          return {false, fmt::format("\"{}\" is not a parent order id", key)};
        cmd.parent_id = static_cast<std::uint32_t>(id);
        break;
      }
      case Op::kStrategyStart: cmd.op = pipeline::StrategyCommand::Op::kStart; break;
      case Op::kStrategyStop: cmd.op = pipeline::StrategyCommand::Op::kStop; break;
      case Op::kStrategyPause: cmd.op = pipeline::StrategyCommand::Op::kPause; break;
      case Op::kStrategySet: cmd.op = pipeline::StrategyCommand::Op::kSet; break;
      case Op::kOrderNew: {
        cmd.op = pipeline::StrategyCommand::Op::kOrder;
        char side[8] = {}, tif[8] = {};
        unsigned long long qty = 0, price = 0;
        char extra = 0;
        if (std::sscanf(value.c_str(), "%7s %llu %llu %7s %c", side, &qty, &price, tif, &extra) != 4)
          return {false, fmt::format("malformed order \"{}\" (buy|sell QTY PRICE_TICKS day|ioc)", value)};
        const std::string_view side_text(side), tif_text(tif);
        if (side_text != "buy" && side_text != "sell") return {false, fmt::format("side \"{}\": buy or sell", side_text)};
        if (tif_text != "day" && tif_text != "ioc") return {false, fmt::format("time in force \"{}\": day or ioc", tif_text)};
        if (key.empty() || key.size() > 8) return {false, fmt::format("symbol \"{}\": 1 to 8 characters", key)};
        if (qty == 0 || qty > 1'000'000) return {false, fmt::format("quantity {} is out of range [1, 1000000]", qty)};
        if (price == 0 || price > 2'000'000'000ull) return {false, fmt::format("price {} ticks is out of range", price)};
        std::memcpy(cmd.spec.symbol.data(), key.data(), key.size());
        cmd.spec.side = side_text == "buy" ? pipeline::Side::kBuy : pipeline::Side::kSell;
        cmd.spec.quantity = static_cast<pipeline::Quantity>(qty);
        cmd.spec.limit = static_cast<pipeline::Price>(price);
        cmd.ioc = tif_text == "ioc";
        break;
      }
      case Op::kOrderCancel: {
        cmd.op = pipeline::StrategyCommand::Op::kCancelOrder;
        unsigned long long id = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (ec != std::errc() || end != key.data() + key.size() || id == 0) return {false, fmt::format("\"{}\" is not an order id", key)};
        cmd.order_id = id;
        break;
      }
      default: return {false, "unknown command"};
    }
    put_text(cmd.name, key);
    put_text(cmd.arg, value);
    cmd.id = ++strategy_seq_;
    if (!strategy_.post(cmd)) return {false, "the strategy thread's command queue is full; try again"};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (strategy_.applied() != cmd.id) {
      if (std::chrono::steady_clock::now() > deadline) return {false, "the strategy thread did not answer within 2 s"};
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return strategy_.result();
  }

  // `who`: the user hftctl says asked ("uid 1000 (alice)"), for the limit-change event.
  std::pair<bool, std::string> set_risk(const std::string& key, const std::string& value, const std::string& who = {}) {
    risk::RiskLimits l = limits_;
    const std::vector<std::string> names = strategy_.names();
    risk::SetOutcome o = risk::set_risk_key(l, key, value, names);  // pipeline/risk/keys.hpp
    if (!o.ok) return {false, std::move(o.message)};
    // A per-strategy limit changes only for a strategy the configuration gave limits (its own ledger
    // exists from start-up: one made now would not know its working orders).
    for (std::uint8_t i = 0; i < names.size() && i < risk::kMaxStrategyLimits; ++i)
      if (l.strategy[i].any() && gate_.strategy_ledger(i) == nullptr)
        return {false, fmt::format("{}: strategy {} has no per-strategy limits in its [[strategies]] entry; set one "
                                   "there (risk_max_position, ...) and restart hftd, then change it here", key, names[i])};
    pipeline::ControlRequest r{};
    r.op = pipeline::ControlRequest::Op::kSetLimits;
    r.limits = l;
    put_text(r.text, fmt::format("set {}={}", key, value));
    put_text(r.who, who.empty() ? std::string("hftctl set") : who);
    if (!to_egress(r)) return {false, "the risk/egress thread did not apply it within 2 s"};
    limits_ = l;
    strategy_.set_storm_factors(l.storm_warn_widen, l.storm_warn_size);  // ctx.storm() of every strategy
    return {true, std::move(o.message)};
  }

  CounterSlot* counter(const std::string& name, CounterKind kind = CounterKind::kCounter) {
    return control_->counter(name, kind);
  }

  struct VenueSessionOuts {
    Out up, connected, recovering, sequence, sent, cancels, replaces, replies, fills, shares, rejects, refused_down,
        disconnects, connects;
  };
  struct VenueFeedOuts {
    Out stale, in_recovery, gaps, lost, messages, next_sequence;
  };
  std::array<VenueSessionOuts, pipeline::kMaxVenues> session_outs_{};
  std::array<VenueFeedOuts, pipeline::kMaxVenues> feed_outs_{};
  std::atomic<bool> feed_outs_defined_{false};
  std::size_t venue_sessions_ = 0;
  const pipeline::NetStages<Backend>* feeds_ = nullptr;

  ControlFile* control_;
  const std::vector<core::ThreadConfig>& threads_;
  const std::vector<std::unique_ptr<core::Runner>>& runners_;
  const pipeline::OrderEntryConfig& order_entry_;
  std::string histogram_dir_;
  risk::RiskLimits limits_;  // the control thread's copy of the current limits
  pipeline::NetStage<Backend>& net_;
  pipeline::ParseStage& parse_;
  pipeline::BookStage& book_;
  pipeline::StrategyStage& strategy_;
  pipeline::EgressStage<Backend>& egress_;
  core::SpscRing<pipeline::RxMessage>* rx_;
  core::SpscRing<pipeline::MdEvent>* md_;
  core::SpscRing<pipeline::BookEvent>* book_events_;
  core::SpscRing<pipeline::OrderIntent>* intents_;
  core::SpscRing<pipeline::ExecReport>* reports_;
  core::SpscRing<pipeline::ControlRequest>& control_ring_;
  book::BookSet& books_;
  oms::OrderManager& oms_;
  risk::RiskGate& gate_;
  risk::ReferencePrices& refs_;
  pipeline::SymbolTable& symbols_;
  std::function<std::vector<std::string>()> dump_histograms_;
  std::size_t hop_count_;
  std::atomic<bool> halted_{false};
  std::uint32_t control_seq_ = 0;
  std::uint32_t strategy_seq_ = 0;
  std::uint64_t described_events_ = 0;  // session events already formatted into the control file
  struct Stuck {
    CommandState state = CommandState::kFree;
    std::uint64_t since = 0;
  };
  std::vector<Stuck> stuck_;  // command slots not free, as the control thread last saw them
  std::uint64_t last_snapshot_ns_ = 0;
  std::vector<std::string> snapshots_;  // the last strategy snapshot journaled, per strategy slot
  std::vector<std::string> signals_;    // the last signal journaled, per strategy slot
};

}  // namespace hft::control
