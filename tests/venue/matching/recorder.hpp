#pragma once
// Test listener: records every event. RefCanon renames order refs to canonical ids (the order in
// which each ref first appeared), so that two matchers that assign refs differently can be
// compared event by event. describe() prints events for failure messages.
#include <cstdint>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "venue/matching/listener.hpp"

namespace hft::match::testing {

using Event = std::variant<Accepted, Rejected, BookAdded, Execution, Canceled, Replaced, Refreshed, StopTriggered>;

class RefCanon {
 public:
  OrderRef operator()(OrderRef ref) {
    if (ref == 0) return 0;
    const auto [it, fresh] = ids_.try_emplace(ref, ids_.size() + 1);
    (void)fresh;
    return it->second;
  }

 private:
  std::unordered_map<OrderRef, OrderRef> ids_;
};

// The event with every order ref renamed through `canon`.
inline Event canonicalize(Event ev, RefCanon& canon) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, Execution>) {
          e.resting_ref = canon(e.resting_ref);
          e.incoming_ref = canon(e.incoming_ref);
        } else if constexpr (std::is_same_v<T, Replaced> || std::is_same_v<T, Refreshed>) {
          e.old_ref = canon(e.old_ref);
          e.new_ref = canon(e.new_ref);
        } else {
          e.ref = canon(e.ref);
        }
      },
      ev);
  return ev;
}

struct Recorder {
  std::vector<Event> events;

  void on_accepted(const Accepted& e) { events.emplace_back(e); }
  void on_rejected(const Rejected& e) { events.emplace_back(e); }
  void on_book_added(const BookAdded& e) { events.emplace_back(e); }
  void on_execution(const Execution& e) { events.emplace_back(e); }
  void on_canceled(const Canceled& e) { events.emplace_back(e); }
  void on_replaced(const Replaced& e) { events.emplace_back(e); }
  void on_refreshed(const Refreshed& e) { events.emplace_back(e); }
  void on_stop_triggered(const StopTriggered& e) { events.emplace_back(e); }

  template <class T>
  [[nodiscard]] std::vector<T> all() const {
    std::vector<T> out;
    for (const Event& e : events)
      if (const T* p = std::get_if<T>(&e)) out.push_back(*p);
    return out;
  }
  template <class T>
  [[nodiscard]] std::size_t count() const {
    std::size_t n = 0;
    for (const Event& e : events) n += std::holds_alternative<T>(e) ? 1 : 0;
    return n;
  }
  void clear() { events.clear(); }
};
static_assert(Listener<Recorder>);

inline std::string describe(const Event& ev) {
  struct V {
    std::string operator()(const Accepted& e) const {
      return fmt::format("Accepted ref={} sym={} {} {} {} hidden={} qty={} px={} stop={} disp={} minq={} owner={} uref={}",
                         e.ref, e.symbol, side_code(e.side), to_string(e.type), to_string(e.tif), e.hidden, e.quantity,
                         e.price, e.stop_price, e.display_quantity, e.min_quantity, e.owner, e.user_ref);
    }
    std::string operator()(const Rejected& e) const {
      return fmt::format("Rejected kind={} reason={} sym={} ref={} owner={} uref={}", static_cast<int>(e.kind),
                         to_string(e.reason), e.symbol, e.ref, e.owner, e.user_ref);
    }
    std::string operator()(const BookAdded& e) const {
      return fmt::format("BookAdded ref={} sym={} {} hidden={} px={} disp={} leaves={} owner={} uref={}", e.ref, e.symbol,
                         side_code(e.side), e.hidden, e.price, e.displayed, e.leaves, e.owner, e.user_ref);
    }
    std::string operator()(const Execution& e) const {
      return fmt::format("Execution match={} sym={} px={} qty={} resting(ref={} owner={} uref={} {} disp={} leaves={}) "
                         "incoming(ref={} owner={} uref={} leaves={})",
                         e.match, e.symbol, e.price, e.quantity, e.resting_ref, e.resting_owner, e.resting_user_ref,
                         side_code(e.resting_side), e.resting_displayed, e.resting_leaves, e.incoming_ref,
                         e.incoming_owner, e.incoming_user_ref, e.incoming_leaves);
    }
    std::string operator()(const Canceled& e) const {
      return fmt::format("Canceled ref={} sym={} {} reason={} on_book={} px={} canceled={} leaves={} disp_dec={} owner={} uref={}",
                         e.ref, e.symbol, side_code(e.side), to_string(e.reason), e.on_book, e.price, e.canceled,
                         e.leaves, e.displayed_decrement, e.owner, e.user_ref);
    }
    std::string operator()(const Replaced& e) const {
      return fmt::format("Replaced {}->{} sym={} {} outcome={} hidden={} px {}->{} leaves {}->{} disp {}->{} owner={} uref {}->{}",
                         e.old_ref, e.new_ref, e.symbol, side_code(e.side), static_cast<int>(e.outcome), e.hidden,
                         e.old_price, e.price, e.old_leaves, e.leaves, e.old_displayed, e.displayed, e.owner,
                         e.old_user_ref, e.user_ref);
    }
    std::string operator()(const Refreshed& e) const {
      return fmt::format("Refreshed {}->{} sym={} {} px={} disp={} leaves={} owner={} uref={}", e.old_ref, e.new_ref,
                         e.symbol, side_code(e.side), e.price, e.displayed, e.leaves, e.owner, e.user_ref);
    }
    std::string operator()(const StopTriggered& e) const {
      return fmt::format("StopTriggered ref={} sym={} {} becomes={} stop={} last={} qty={} owner={} uref={}", e.ref,
                         e.symbol, side_code(e.side), to_string(e.becomes), e.stop_price, e.last_trade, e.quantity,
                         e.owner, e.user_ref);
    }
  };
  return std::visit(V{}, ev);
}

inline std::string describe(const std::vector<Event>& evs) {
  std::string s;
  for (const Event& e : evs) s += "  " + describe(e) + "\n";
  return s;
}

}  // namespace hft::match::testing
