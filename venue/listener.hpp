#pragma once
// The venue's matching-engine listener (venue/matching/listener.hpp is the contract): every
// engine event becomes the ITCH messages it implies and goes to whoever owns the order - an
// order-entry user (OUCH on that user's SoupBinTCP stream), the background flow, or the latency
// probe. Its members are defined inline at the end of venue.hpp, once Venue is complete, so the
// engine's calls compile to direct, inlinable calls (no virtual dispatch per event).
#include <cstdint>

#include "venue/matching/engine.hpp"

namespace hft::venue {

class Venue;

struct VenueListener {
  Venue* venue = nullptr;
  void on_accepted(const match::Accepted& e) noexcept;
  void on_rejected(const match::Rejected& e) noexcept;
  void on_book_added(const match::BookAdded& e) noexcept;
  void on_execution(const match::Execution& e) noexcept;
  void on_canceled(const match::Canceled& e) noexcept;
  void on_replaced(const match::Replaced& e) noexcept;
  void on_refreshed(const match::Refreshed& e) noexcept;
  void on_stop_triggered(const match::StopTriggered& e) noexcept;
};

using VenueEngine = match::Engine<VenueListener>;

// Engine owner ids: order-entry users are 1..N (user index + 1); the venue's own flow lives in
// ranges far above any user count.
inline constexpr match::OwnerId kBackgroundOwnerBase = 0x4000'0000;
inline constexpr match::OwnerId kProbeOwner = 0x7000'0000;

[[nodiscard]] constexpr bool is_client_owner(match::OwnerId o) noexcept { return o != 0 && o < kBackgroundOwnerBase; }
[[nodiscard]] constexpr bool is_background_owner(match::OwnerId o) noexcept {
  return o >= kBackgroundOwnerBase && o < kProbeOwner;
}
[[nodiscard]] constexpr std::uint32_t client_user(match::OwnerId o) noexcept { return o - 1; }
[[nodiscard]] constexpr match::OwnerId client_owner(std::uint32_t user) noexcept { return user + 1; }

}  // namespace hft::venue
