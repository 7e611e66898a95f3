// Arbitrary messages into the OUCH 5.0 decoder, both directions, and arbitrary appendages into
// the option parser. Beyond "no crash, no out-of-bounds read": a message that decodes without
// unknown option tags must re-encode to exactly the input bytes, and decoding the re-encoded
// bytes must give equal fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "gateways/ouch/codec.hpp"

namespace {

using namespace hft::ouch;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) std::abort(); \
  } while (0)

struct RoundTrip {
  const std::uint8_t* input;
  std::size_t size;
  int delivered = 0;

  template <class T>
  void on_message(const T& m) noexcept {
    ++delivered;
    std::uint8_t out[512];
    const std::size_t n = encode(out, sizeof out, m);
    FUZZ_CHECK(n == encoded_size(m));
    bool unknown = false;
    if constexpr (T::kHasAppendage) unknown = m.options.unknown_skipped() != 0;
    if (!unknown) {
      FUZZ_CHECK(n == size);
      FUZZ_CHECK(std::memcmp(out, input, n) == 0);
    } else {
      FUZZ_CHECK(n < size);  // unknown elements are dropped, never invented
    }
    T back;
    FUZZ_CHECK(decode(out, n, back) == DecodeError::kOk);
    FUZZ_CHECK(back == m);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  RoundTrip in{data, size};
  const DecodeError a = decode_inbound(data, size, in);
  FUZZ_CHECK((a == DecodeError::kOk) == (in.delivered == 1));
  RoundTrip out{data, size};
  const DecodeError b = decode_outbound(data, size, out);
  FUZZ_CHECK((b == DecodeError::kOk) == (out.delivered == 1));

  Options o;
  if (parse_options(data, size, o) == AppendageError::kNone) {
    std::uint8_t buf[kMaxKnownAppendage];
    const std::size_t n = o.encode(buf);
    FUZZ_CHECK(n == o.encoded_size() && n <= size);
    Options back;
    FUZZ_CHECK(parse_options(buf, n, back) == AppendageError::kNone);
    FUZZ_CHECK(back == o);
  }
  return 0;
}
