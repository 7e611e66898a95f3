#pragma once
// The contract between the matching engine and whoever publishes its outcomes (the venue's ITCH
// publisher and OUCH sessions, the backtester's fill model, tests).
//
// The listener is a template parameter of hft::match::Engine: every call below is direct and
// inlined, with no virtual dispatch. It is called synchronously, from inside the request, in the
// order the outcomes happen; it must not call back into the engine. Each event is a fixed-size
// struct (types.hpp) that may be copied as is.
//
// Sequences, per request (events in brackets may repeat or be absent):
//
//   submit(new order)
//     invalid ............ Rejected                                  (nothing else; no ref used)
//     limit / market ..... Accepted, [Execution [Refreshed] | Canceled(kSelfMatch)]...,
//                          then one of: BookAdded (the rest rests), Canceled (the rest is
//                          cancelled: IOC, FOK, MinQty, post-only, market, self-match, book full),
//                          or nothing (filled in full)
//     stop / stop-limit .. Accepted, then, when triggered (at once if the last trade already
//                          passed the stop price): StopTriggered and the events of a limit or
//                          market order after Accepted
//   cancel ............... Canceled(kUser) or Rejected
//   replace .............. Replaced, and for ReplaceOutcome::kReentered the events of an incoming
//                          limit order after Accepted; or Rejected
//   any request that executed (new, replace, triggered stop) may then trigger held stops of the
//   same symbol: StopTriggered and its order's events, repeated while stops trigger (cascade).
//
// What the venue publishes for each event:
//
//   event          ITCH 5.0 (market data)                     OUCH 5.0 (to the owner)
//   Accepted       -                                          'A' Accepted (Order Reference = ref)
//   Rejected       -                                          'J' Rejected (ouch_reject_reason)
//   BookAdded      'A' Add Order (ref, side, displayed,       -
//                  price) when displayed > 0
//   Execution      'E' Order Executed (resting_ref, qty,      'E' Executed to both owners: resting
//                  match) when resting_displayed, else        flag resting_liquidity_flag ('A'/'J'),
//                  'P' Trade (qty, price, match)               incoming 'R'; same match number
//   Canceled       on_book and displayed_decrement > 0:        'C' Canceled (canceled, reason
//                  'D' Order Delete when leaves == 0, else     ouch_cancel_reason)
//                  'X' Order Cancel (displayed_decrement);
//                  otherwise nothing (hidden order, reserve
//                  shares only, or an order not on the book)
//   Replaced       kPriorityKept: 'X' (old_displayed -        'U' Replaced (old/new user ref,
//                  displayed) when > 0; kRequeued: 'U' Order   new ref, leaves, price)
//                  Replace (old_ref, new_ref, displayed,
//                  price) if displayed; kReentered: 'D'
//                  old_ref if it was displayed
//   Refreshed      'A' Add Order (new_ref, displayed, price)  'R' Order Restated (reason 'R',
//                  (the old ref's ITCH shares reached 0 by     Display Quantity) and/or 'T'
//                  its executions)                             Priority Update (new ref)
//   StopTriggered  -                                          - (the order's executions follow)
//
// Hidden orders (NewOrder::hidden) never appear in ITCH except as 'P' trades.
#include <concepts>

#include "venue/matching/types.hpp"

namespace hft::match {

template <class L>
concept Listener = requires(L& l, const Accepted& a, const Rejected& r, const BookAdded& b, const Execution& e,
                            const Canceled& c, const Replaced& p, const Refreshed& f, const StopTriggered& s) {
  l.on_accepted(a);
  l.on_rejected(r);
  l.on_book_added(b);
  l.on_execution(e);
  l.on_canceled(c);
  l.on_replaced(p);
  l.on_refreshed(f);
  l.on_stop_triggered(s);
};

// Ignores everything (benchmarks of the engine alone, backtests that only read the book).
struct NullListener {
  void on_accepted(const Accepted&) noexcept {}
  void on_rejected(const Rejected&) noexcept {}
  void on_book_added(const BookAdded&) noexcept {}
  void on_execution(const Execution&) noexcept {}
  void on_canceled(const Canceled&) noexcept {}
  void on_replaced(const Replaced&) noexcept {}
  void on_refreshed(const Refreshed&) noexcept {}
  void on_stop_triggered(const StopTriggered&) noexcept {}
};
static_assert(Listener<NullListener>);

}  // namespace hft::match
