// Arbitrary bytes into the lead channel's parser (venue/lead.hpp), the follower's side of
// `hft-exchange --follow`: a leader (or anything listening where the follower points) sends it.
//
// Input: byte 0 = chunk size seed (1 + byte0 % 64), the rest = the stream. Checked beyond "no
// crash, no out-of-bounds read":
//  * the same records and the same error come out whether the stream arrives whole or in chunks;
//  * at most one record per 32 bytes; the first is a hello; every value record's fair value is in
//    1..kMaxPrice and its symbol is printable and space padded;
//  * each record re-encodes to the bytes it was decoded from (for the fields the format keeps);
//  * after an error nothing more comes out until reset(), and a reset parser takes a valid stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "venue/lead.hpp"

namespace {

using namespace hft::venue;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) std::abort(); \
  } while (0)

struct Seen {
  char type;
  std::uint64_t symbol;
  std::int64_t fair;
  std::uint64_t time;
  std::uint32_t count;
  bool operator==(const Seen&) const = default;
};

LeadError run(std::span<const std::uint8_t> stream, std::size_t chunk, std::vector<Seen>& out, LeadParser& parser) {
  std::size_t off = 0;
  while (off < stream.size()) {
    const std::size_t n = chunk < stream.size() - off ? chunk : stream.size() - off;
    const std::size_t before = out.size();
    parser.feed(stream.subspan(off, n), [&](const LeadRecord& r) {
      FUZZ_CHECK(out.empty() ? r.type == 'H' : true);
      if (r.type == 'V') FUZZ_CHECK(r.fair >= 1 && r.fair <= hft::match::kMaxPrice);
      for (char c : r.symbol.chars) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
      std::uint8_t again[kLeadRecordSize];
      encode_lead(r, again);
      LeadRecord back;
      FUZZ_CHECK(LeadParser::decode(again, back) == LeadError::kNone);
      FUZZ_CHECK(back.type == r.type && back.symbol == r.symbol && back.fair == r.fair && back.time_ns == r.time_ns &&
                 back.count == r.count);
      out.push_back({r.type, r.symbol.key(), r.fair, r.time_ns, r.count});
    });
    if (parser.error() != LeadError::kNone) FUZZ_CHECK(out.size() >= before);  // nothing after the error below
    off += n;
  }
  return parser.error();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::span<const std::uint8_t> stream(data + 1, size - 1);

  std::vector<Seen> whole, chunked;
  LeadParser a, b;
  const LeadError ea = run(stream, stream.size() + 1, whole, a);
  const LeadError eb = run(stream, chunk, chunked, b);
  FUZZ_CHECK(ea == eb);
  FUZZ_CHECK(whole == chunked);
  FUZZ_CHECK(whole.size() <= stream.size() / kLeadRecordSize);
  FUZZ_CHECK(a.records() == whole.size());
  if (ea != LeadError::kNone) {
    // Stopped: more input yields nothing.
    const std::size_t n = whole.size();
    std::uint8_t rec[kLeadRecordSize];
    LeadRecord v;
    v.type = 'V';
    v.symbol = hft::itch::Symbol::from("AAA");
    v.fair = 100;
    encode_lead(v, rec);
    a.feed(std::span<const std::uint8_t>(rec, sizeof rec), [&](const LeadRecord&) { whole.push_back({}); });
    FUZZ_CHECK(whole.size() == n);
    // A reset parser takes a valid hello and value.
    a.reset();
    LeadRecord h;
    h.type = 'H';
    h.symbol = hft::itch::Symbol::from("NASDAQ");
    std::uint8_t two[2 * kLeadRecordSize];
    encode_lead(h, two);
    encode_lead(v, two + kLeadRecordSize);
    std::size_t got = 0;
    a.feed(std::span<const std::uint8_t>(two, sizeof two), [&](const LeadRecord&) { ++got; });
    FUZZ_CHECK(got == 2 && a.error() == LeadError::kNone);
  }
  return 0;
}
