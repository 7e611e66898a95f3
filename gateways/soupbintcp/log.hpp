#pragma once
// Session events as log lines (one per login accepted / rejected and per close, with the reason),
// for handlers that run on a cold path: the venue, tools, tests. A hot stage copies the
// fixed-size SessionEvent to its own lane instead (core/log.hpp) and formats it elsewhere.
#include "core/log.hpp"
#include "gateways/soupbintcp/events.hpp"

namespace hft::soup {

[[nodiscard]] constexpr bool is_routine(const SessionEvent& e) noexcept {
  return e.kind == EventKind::kLoginAccepted ||
         (e.kind == EventKind::kClosed &&
          (e.close_reason == CloseReason::kLogout || e.close_reason == CloseReason::kEndOfSession ||
           e.close_reason == CloseReason::kLocal));
}

inline void log_event(const SessionEvent& e) {
  if (is_routine(e)) {
    core::log::info("{}", describe(e));
  } else {
    core::log::warn("{}", describe(e));
  }
}

// A handler that logs every session event, then passes it on to `Inner` (if it wants events):
//   net::TcpServer<soup::ServerSession<soup::Logged<Venue>>> ...
template <class Inner>
struct Logged : Inner {
  using Inner::Inner;
  void on_event(const SessionEvent& e) {
    log_event(e);
    if constexpr (requires(Inner& i) { i.on_event(e); }) Inner::on_event(e);
  }
};

}  // namespace hft::soup
