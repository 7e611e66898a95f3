#include "pipeline/app/recovery.hpp"

#include <cstdio>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string_view>

#include "gateways/ouch/codec.hpp"

namespace hft::app {
namespace {

using pipeline::ExecReport;
using pipeline::Price;

// Books the venue's messages as the egress stage does (pipeline/stages/egress_stage.hpp).
struct Replayer {
  oms::OrderManager& oms;
  const std::function<void(const ExecReport&)>& on_fill;
  ReplayResult& out;

  void on_message(const ouch::OrderAccepted& m) noexcept {
    ExecReport r{};
    count(oms.on_accepted(m.user_ref_num, m.order_reference_number, static_cast<Price>(m.price), m.quantity, r));
  }
  void on_message(const ouch::OrderReplaced& m) noexcept {
    ExecReport r{};
    count(oms.on_replaced(m.orig_user_ref_num, m.user_ref_num, m.order_reference_number, static_cast<Price>(m.price),
                          m.quantity, r));
  }
  void on_message(const ouch::OrderCanceled& m) noexcept {
    ExecReport r{};
    count(oms.on_canceled(m.user_ref_num, m.quantity, static_cast<std::uint16_t>(m.reason), r));
  }
  void on_message(const ouch::AiqCanceled& m) noexcept {
    ExecReport r{};
    count(oms.on_canceled(m.user_ref_num, m.decrement_shares, static_cast<std::uint16_t>(m.reason), r));
  }
  void on_message(const ouch::OrderExecuted& m) noexcept {
    // No venue executes beyond OUCH's own bounds; such a record is not booked (cash stays finite).
    if (m.price > ouch::kMaxPrice || m.quantity > ouch::kMaxQuantity) {
      ++out.unknown_replies;
      return;
    }
    ExecReport r{};
    // The liquidity flag picks the venue's fee, as live (an added-liquidity fill pays the add fee).
    if (count(oms.on_executed(m.user_ref_num, m.quantity, static_cast<Price>(m.price), r, m.liquidity_flag))) {
      r.liquidity = m.liquidity_flag;
      on_fill(r);
    }
  }
  void on_message(const ouch::OrderRejected& m) noexcept {
    ExecReport r{};
    count(oms.on_rejected(m.user_ref_num, static_cast<std::uint16_t>(m.reason), r));
  }
  void on_message(const ouch::AccountQueryResponse& m) noexcept { oms.advance_user_ref(m.next_user_ref_num); }
  template <class T>
  void on_message(const T&) noexcept {}

  bool count(bool known) noexcept {
    if (!known) ++out.unknown_replies;
    return known;
  }
};

void note_order_id(ReplayResult& out, std::uint64_t order_id) {
  const auto strategy = static_cast<std::size_t>(order_id >> 56);
  const std::uint64_t seq = order_id & ((std::uint64_t{1} << 56) - 1);
  if (seq + 1 > out.next_order_seq[strategy]) out.next_order_seq[strategy] = seq + 1;
}

}  // namespace

ReplayResult replay_journal(journal::JournalReader& reader, oms::OrderManager& oms,
                            const std::function<void(const ExecReport&)>& on_fill, std::size_t venue_count) {
  if (venue_count > pipeline::kMaxVenues) venue_count = pipeline::kMaxVenues;
  const auto t0 = std::chrono::steady_clock::now();
  ReplayResult out;
  Replayer replayer{oms, on_fill, out};
  journal::Record r;
  while (reader.next(r)) {
    ++out.records;
    switch (r.header.type) {
      case journal::RecordType::kIntent: {
        journal::IntentPayload p{};
        if (!r.get(p)) break;
        ++out.intents;
        note_order_id(out, p.order_id);
        pipeline::OrderIntent in{};
        in.order_id = p.order_id;
        in.price = p.price;
        in.quantity = p.quantity;
        in.locate = p.locate;
        in.type = static_cast<pipeline::IntentType>(p.intent_type);
        in.side = static_cast<pipeline::Side>(p.side);
        in.tif = static_cast<pipeline::TimeInForce>(p.tif);
        in.strategy = p.strategy;
        in.post_only = p.post_only != 0;
        in.venue = p.venue;
        if (in.locate >= oms.locates()) break;
        if (in.venue >= venue_count) {
          ++out.unknown_venue;
          break;
        }
        ++out.venues[in.venue].intents;
        switch (in.type) {
          case pipeline::IntentType::kNew:
            (void)oms.restore_open(in, p.user_ref_num);
            break;
          case pipeline::IntentType::kReplace:
            if (oms::Order* o = oms.by_id(p.order_id)) (void)oms.restore_replace(*o, p.price, p.quantity, p.user_ref_num);
            break;
          case pipeline::IntentType::kCancel:
            if (oms::Order* o = oms.by_id(p.order_id)) oms.begin_cancel(*o, 0);
            break;
        }
        break;
      }
      case journal::RecordType::kRiskRefusal: {
        journal::RefusalPayload p{};
        if (r.get(p)) note_order_id(out, p.intent.order_id);
        ++out.refusals;
        break;
      }
      case journal::RecordType::kOuchSent:
        ++out.sent;
        break;
      case journal::RecordType::kOuchReceived: {
        journal::BlobPayload head{};
        std::span<const std::uint8_t> bytes;
        if (!r.blob(head, bytes)) break;
        ++out.received;
        if (head.venue >= venue_count) {
          ++out.unknown_venue;
          break;
        }
        ReplayResult::VenueSession& vs = out.venues[head.venue];
        ++vs.received;
        if (head.sequenced != 0 && head.soup_sequence + 1 > vs.next_soup_sequence)
          vs.next_soup_sequence = head.soup_sequence + 1;
        (void)ouch::decode_outbound(bytes.data(), bytes.size(), replayer);
        break;
      }
      case journal::RecordType::kCommand: {
        journal::BlobPayload head{};
        std::span<const std::uint8_t> bytes;
        if (!r.blob(head, bytes)) break;
        ++out.commands;
        const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        if (text == "kill") out.kill_switch = true;
        else if (text == "unkill") out.kill_switch = false;
        else if (text == "halt" || text == "flatten") out.halted = true;
        else if (text == "resume") out.halted = false;
        else if (text == "risk reset") {
          out.breaker.clear();
          out.peak_pnl = 0;
          out.has_peak = false;
          out.storm_halt = false;
          out.strategy_loss_tripped = 0;
        } else if (text.starts_with("risk strategy_loss ")) {
          // risk strategy_loss INDEX pnl=P limit=L
          const std::string t(text.substr(19));
          unsigned index = 0;
          if (std::sscanf(t.c_str(), "%u", &index) == 1 && index < 32) out.strategy_loss_tripped |= 1u << index;
        } else if (text.starts_with("risk breaker ")) {
          // risk breaker CAUSE pnl=P peak=K limit=L
          const std::string t(text.substr(13));
          char cause[32] = {};
          long long pnl = 0, peak = 0;
          if (std::sscanf(t.c_str(), "%31s pnl=%lld peak=%lld", cause, &pnl, &peak) == 3) {
            out.breaker = cause;
            out.breaker_pnl = pnl;
            if (!out.has_peak || peak > out.peak_pnl) out.peak_pnl = peak;
            out.has_peak = true;
          }
        } else if (text.starts_with("risk storm halt ")) {
          out.storm_halt = true;
        } else if (text.starts_with("risk peak ")) {
          const std::string t(text.substr(10));
          long long peak = 0;
          if (std::sscanf(t.c_str(), "%lld", &peak) == 1 && (!out.has_peak || peak > out.peak_pnl)) {
            out.peak_pnl = peak;
            out.has_peak = true;
          }
        } else if (text.starts_with("set ")) {
          const std::string_view a = text.substr(4);
          const std::size_t eq = a.find('=');
          if (eq != std::string_view::npos) out.risk_sets.emplace_back(std::string(a.substr(0, eq)), std::string(a.substr(eq + 1)));
        }
        break;
      }
      case journal::RecordType::kSessionState: {
        journal::SessionStatePayload p{};
        if (!r.get(p)) break;
        ++out.session_states;
        if (p.venue >= venue_count) {
          ++out.unknown_venue;
          break;
        }
        ReplayResult::VenueSession& vs = out.venues[p.venue];
        std::string_view s(p.session, sizeof p.session);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        if (!s.empty() && s != vs.session) {
          // Another session of the venue: its numbering starts again, and the old session's orders
          // (of this venue) are gone, as the live egress stage closed them at that login.
          if (!vs.session.empty()) {
            oms.for_each_working([&](oms::Order& o) {
              if (o.venue != p.venue) return;
              ExecReport gone{};
              (void)oms.on_canceled(o.user_ref, o.leaves == 0 ? o.quantity : o.leaves, 0, gone);
              ++out.closed_old_session;
            });
          }
          vs.session = std::string(s);
          vs.next_soup_sequence = p.next_soup_sequence;
        } else if (p.next_soup_sequence > vs.next_soup_sequence) {
          vs.next_soup_sequence = p.next_soup_sequence;
        }
        oms.advance_user_ref(p.next_user_ref_num);
        break;
      }
      case journal::RecordType::kWriterOpened:
        break;
    }
  }
  if (reader.issue().is_error()) throw std::runtime_error("journal: " + reader.issue().message());
  if (reader.issue().problem == journal::Problem::kTornTail) {
    out.torn_bytes = reader.torn_bytes();
    out.torn = reader.issue().message();
  }
  out.next_user_ref = oms.next_user_ref();
  out.session = out.venues[0].session;
  out.next_soup_sequence = out.venues[0].next_soup_sequence;
  out.elapsed_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

std::uint32_t trading_date_of(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return static_cast<std::uint32_t>((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

}  // namespace hft::app
