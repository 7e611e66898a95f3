#pragma once
// Venues (issue 14): hftd connects to one or more venues that speak ITCH 5.0 / MoldUDP64 and
// OUCH 5.0 / SoupBinTCP (NASDAQ, BX, PSX...). Each has its own feed, order-entry session and fees.
// `[[venues]]` in the config lists them; a config with the old `[feed]` + `[order_entry]` sections
// is one venue. Venue ids are indexes into HftdConfig::venues, in configuration order.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/net_stage.hpp"

namespace hft::app {

using pipeline::VenueId;     // pipeline/events.hpp
using pipeline::kMaxVenues;

// With several venues, the highest ITCH locate of any venue ([book] max_locate defaults to this and
// may not exceed it): instrument ids above it go to symbols first seen on a venue other than the
// first (pipeline/stages/instruments.hpp).
inline constexpr std::uint32_t kMaxVenueLocate = 32767;

struct VenueSpec {
  std::string name = "NASDAQ";  // 1 to 8 characters, A-Z 0-9 _ (logs, metrics labels, hftctl)
  pipeline::FeedConfig feed;
  pipeline::OrderEntryConfig order_entry;
  double fee_add_per_share = 0;     // dollars per share on fills that add liquidity (< 0: rebate)
  double fee_remove_per_share = 0;  // dollars per share on fills that remove liquidity
};

}  // namespace hft::app
