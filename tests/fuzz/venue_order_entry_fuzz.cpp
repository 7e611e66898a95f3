// Fuzz target: arbitrary OUCH bytes from several users into a venue's order entry (no sockets:
// Venue::inject), then the invariant that ties the venue's books together: the order-entry table
// holds exactly the client orders resting in the engine. Crashes, leaks of table slots, reads out
// of bounds and undefined behaviour are what the sanitizers look for.
//
// Input: records of {user byte, length byte, `length` bytes of one OUCH message}.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "core/log.hpp"
#include "venue/venue.hpp"

namespace {

hft::venue::VenueConfig fuzz_config() {
  hft::venue::VenueConfig c;
  c.feed = hft::net::parse_endpoint("127.0.0.1:9");  // discard: nobody listens, nothing comes back
  c.rerequest = hft::net::parse_endpoint("127.0.0.1:0");
  c.ouch = hft::net::parse_endpoint("127.0.0.1:0");
  // Every pool at its smallest: a venue is built per input (the sanitizers make big ones slow).
  c.store.max_messages = 64;
  c.store.max_bytes = hft::mold::RetransmitStoreConfig::kMinBytes;
  c.rerequest_options.max_requests_per_poll = 1;
  c.order_entry.store_messages = 64;
  c.order_entry.store_bytes = 4096;
  c.order_entry.output_buffer_bytes = 4096;
  c.accounts = {{"ALICE", "a", "ALCE"}, {"BOB", "b", ""}, {"CAROL", "c", ""}};
  c.max_connections = 1;
  c.max_client_orders = 64;  // small, so a full table is reachable
  c.engine.max_orders = 512;
  c.engine.max_levels = 256;
  c.max_levels_per_side = 16;
  c.symbols = hft::venue::symbols_from_list({"AAPL", "MSFT"}, 1);
  c.engine.max_symbols = 4;
  c.background.rate = 0;
  c.background.max_resting_per_symbol = 16;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    hft::core::logger().set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  hft::venue::Venue venue(fuzz_config());
  venue.start();  // the start of day opens the order entry
  while (size >= 2) {
    const std::uint32_t user = data[0] % 3;
    std::size_t len = data[1];
    data += 2;
    size -= 2;
    if (len > size) len = size;
    venue.inject(user, std::span<const std::uint8_t>(data, len));
    data += len;
    size -= len;
  }
  const hft::venue::VenueSummary s = venue.summary();
  if (s.client_orders != venue.resting_client_orders()) std::abort();
  if (s.live_orders > 512) std::abort();
  return 0;
}
