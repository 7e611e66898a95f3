#pragma once
// Crash recovery from the write-ahead journal (issue 10; docs/journal.md, "Recovery").
//
// hftd replays the journal of (instance, trading date) before its threads start: every intent
// that passed risk re-opens, replaces or cancels its order in the order manager under the
// UserRefNum it had, and every OUCH message the venue sent is booked again through the same
// order-manager calls as live, so orders, positions, cash, realized P&L and the UserRefNum counter
// come back exactly. The fills are handed to `on_fill` (the strategy stage's projection). What the
// venue sent after the last journaled message is left to the venue: the result says which
// SoupBinTCP session and sequence to log in at, and the egress stage reconciles at the venue's
// Account Query answer (pipeline/stages/egress_stage.hpp, finish_recovery).
//
// Cold path: allocations and exceptions are fine here.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/events.hpp"
#include "pipeline/journal/reader.hpp"
#include "pipeline/oms/order_manager.hpp"

namespace hft::app {

struct ReplayResult {
  std::uint64_t records = 0;           // good records replayed (0: nothing to recover)
  std::uint64_t intents = 0, refusals = 0, sent = 0, received = 0, commands = 0, session_states = 0;
  std::uint64_t unknown_replies = 0;   // venue messages the order manager did not know (as live)
  std::uint64_t closed_old_session = 0;  // orders closed because a later login was to a new venue session
  std::uint64_t next_soup_sequence = 1;  // to request at the login
  std::string session;                 // SoupBinTCP session name (trimmed; "" = none journaled)
  std::uint32_t next_user_ref = 1;
  std::uint64_t torn_bytes = 0;        // a torn tail the reader stopped at (the writer truncates it)
  std::string torn;                    // its description
  bool kill_switch = false, halted = false;  // the operator's last kill / halt command
  // Issue 11: the circuit breaker as last journaled ("risk breaker CAUSE pnl=P peak=K ..." trips
  // it, "risk reset" closes it; "" = not tripped), the day's peak P&L ("risk peak N", 1/10,000 $),
  // and every `hftctl set risk.KEY=VALUE` of the day, in order ("set risk.KEY=VALUE").
  std::string breaker;
  std::int64_t breaker_pnl = 0;
  std::int64_t peak_pnl = 0;
  bool has_peak = false;
  std::uint32_t strategy_loss_tripped = 0;  // bit i: "risk strategy_loss i ..." since the last "risk reset"
  bool storm_halt = false;  // "risk storm halt ..." since the last "risk reset"  // a peak was journaled since the day's start or the last reset
  std::vector<std::pair<std::string, std::string>> risk_sets;
  // Per strategy index (kOperatorStrategy included): the next order sequence (above every id seen).
  std::array<std::uint64_t, 256> next_order_seq{};
  std::uint64_t elapsed_ns = 0;
  // Issue 14: each venue's order-entry session as journaled (`session` and `next_soup_sequence`
  // above are venue 0's). Records of a venue at or above the configured count are skipped (counted).
  struct VenueSession {
    std::string session;                 // "" = none journaled
    std::uint64_t next_soup_sequence = 1;
    std::uint64_t received = 0;          // its venue messages replayed
    std::uint64_t intents = 0;           // intents of orders to it
  };
  std::array<VenueSession, pipeline::kMaxVenues> venues{};
  std::uint64_t unknown_venue = 0;
};

// Replays `reader` into `oms` (constructed empty). Throws std::runtime_error with the reader's
// message for a journal with errors (corruption in the middle, a gap, a foreign segment).
// `venue_count`: the venues configured now (issue 14; records of others are skipped).
ReplayResult replay_journal(journal::JournalReader& reader, oms::OrderManager& oms,
                            const std::function<void(const pipeline::ExecReport&)>& on_fill,
                            std::size_t venue_count = pipeline::kMaxVenues);

// The trading date of a wall-clock time (local time, YYYYMMDD).
std::uint32_t trading_date_of(std::int64_t unix_seconds);

}  // namespace hft::app
