// Arbitrary GLIMPSE 5.0 streams into the snapshot reader (gateways/itch/glimpse.hpp), as hftd
// sees them: the input is a SoupBinTCP server-to-client byte stream (framed by soup::Framer),
// and each Sequenced Data payload goes to SnapshotReader. Checked beyond "no crash, no
// out-of-bounds read": a message classified kMessage has exactly its type's ITCH 5.0 length; at
// most one kEnd, and nothing but kAfterEnd after it; the counters add up; and a Snapshot message
// re-encoded from the parsed number parses to the same number.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "gateways/itch/glimpse.hpp"
#include "gateways/soupbintcp/framer.hpp"

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) std::abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hft;
  soup::Framer framer(soup::Direction::kServerToClient, 1024);
  itch::glimpse::SnapshotReader reader;
  std::uint64_t messages = 0, ends = 0, malformed = 0, after = 0;
  framer.feed(data, size, [&](const soup::Packet& p) {
    if (p.type != soup::packet_type::kSequencedData) return true;
    const bool was_ended = reader.ended();
    switch (reader.on_message(p.payload, p.size)) {
      case itch::glimpse::SnapshotItem::kMessage:
        FUZZ_CHECK(!was_ended);
        FUZZ_CHECK(p.size != 0 && p.size == itch::kMessageLength[p.payload[0]]);
        ++messages;
        break;
      case itch::glimpse::SnapshotItem::kEnd: {
        FUZZ_CHECK(!was_ended && reader.ended());
        ++ends;
        std::uint8_t again[itch::glimpse::kSnapshotLength];
        itch::glimpse::encode_snapshot(again, reader.sequence());
        std::uint64_t seq = 0;
        FUZZ_CHECK(itch::glimpse::parse_snapshot(again, sizeof again, seq) && seq == reader.sequence());
        break;
      }
      case itch::glimpse::SnapshotItem::kMalformed: FUZZ_CHECK(!was_ended); ++malformed; break;
      case itch::glimpse::SnapshotItem::kAfterEnd: FUZZ_CHECK(was_ended); ++after; break;
    }
    return true;
  });
  FUZZ_CHECK(ends <= 1);
  const auto& c = reader.counters();
  FUZZ_CHECK(c.messages == messages && c.malformed == malformed && c.after_end == after);
  FUZZ_CHECK(c.add_orders + c.directories <= c.messages);
  return 0;
}
