// Fuzz target for the matching engine: the input is a sequence of 12-byte requests (new orders of
// every type, cancels, reduces, replaces, valid or not). Each request goes to
//   * an engine with ample pools, compared event by event and book by book with the reference
//     matcher (any difference aborts), and
//   * an engine with tiny pools (4 orders, 3 levels, 2 levels per side), which must reject or
//     cancel cleanly when full and keep its bookkeeping consistent.
// Sanitizers (ASan/UBSan in the fuzz preset) catch memory errors and undefined behaviour.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "venue/matching/engine.hpp"
#include "tests/venue/matching/recorder.hpp"
#include "tests/venue/matching/reference_matcher.hpp"

namespace {

using namespace hft::match;
using hft::match::testing::describe;
using hft::match::testing::Event;
using hft::match::testing::Recorder;
using hft::match::testing::RefCanon;
using hft::match::testing::ReferenceMatcher;

constexpr std::size_t kRecord = 12;
constexpr Price kBase = 5000;

[[noreturn]] void fail(const char* what, const Recorder& a, const Recorder& b) {
  std::fprintf(stderr, "matching_fuzz: %s\nengine:\n%sreference:\n%s", what, describe(a.events).c_str(),
               describe(b.events).c_str());
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "matching_fuzz: %s\n", what);
    std::abort();
  }
}

EngineConfig config(std::uint32_t orders, std::uint32_t levels, SmpPolicy policy) {
  EngineConfig c;
  c.max_orders = orders;
  c.max_levels = levels;
  c.max_symbols = 2;
  c.max_quantity = 5000;
  c.smp_policy = policy;
  return c;
}

SymbolConfig symbol(std::uint32_t levels_per_side) {
  SymbolConfig sc;
  sc.min_price = kBase - 40;
  sc.max_price = kBase + 40;
  sc.max_levels_per_side = levels_per_side;
  return sc;
}

// Bookkeeping that must hold after every request: levels sorted and uncrossed, counts consistent.
template <class E>
void check_book(const E& e, SymbolIndex s) {
  std::uint32_t resting = 0;
  Price last_bid = kMaxPrice + 1;
  Price last_ask = 0;
  bool asks = false;
  e.for_each_resting(s, [&](const OrderView& v) {
    ++resting;
    check(v.leaves > 0, "resting order with no shares");
    check(v.hidden || v.displayed > 0, "displayed order with nothing displayed");
    check(v.displayed <= v.leaves, "displayed above open");
    if (v.side == Side::kSell) asks = true;
    check(!(asks && v.side == Side::kBuy), "bids after asks");
    if (v.side == Side::kBuy) {
      check(v.price <= last_bid, "bids out of order");
      last_bid = v.price;
    } else {
      check(v.price >= last_ask, "asks out of order");
      last_ask = v.price;
    }
  });
  const auto bid = e.best(s, Side::kBuy);
  const auto ask = e.best(s, Side::kSell);
  if (bid && ask) check(bid->price < ask->price, "crossed book");
  (void)resting;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto policy = static_cast<SmpPolicy>(data[0] % 4);
  ++data;
  --size;
  size = std::min(size, 400 * kRecord);  // stays within the big engine's 512 orders
  Recorder ra, rb, rt;
  Engine<Recorder> big(config(512, 256, policy), ra);
  ReferenceMatcher<Recorder> ref(config(512, 256, policy), rb);
  Engine<Recorder> tiny(config(4, 3, policy), rt);
  for (SymbolIndex s = 0; s < 2; ++s) {
    big.add_symbol(s, symbol(128));
    ref.add_symbol(s, symbol(128));
    tiny.add_symbol(s, symbol(2));
  }
  RefCanon ca, cb;
  struct Known {
    OrderRef a, b, t;
    OwnerId owner;
  };
  std::vector<Known> known;
  UserRef next_uref = 1;

  for (std::size_t off = 0; off + kRecord <= size; off += kRecord) {
    const std::uint8_t* r = data + off;
    ra.clear();
    rb.clear();
    rt.clear();
    const std::uint8_t kind = r[0] & 3;
    const bool raw = (r[0] & 0x80) != 0;  // take fields as they come, valid or not
    const auto qty = static_cast<Qty>(r[2] | (r[3] << 8)) % (raw ? 65536 : 600);
    const Price px = raw ? static_cast<Price>(static_cast<std::int16_t>(r[4] | (r[5] << 8))) + kBase
                         : kBase - 30 + static_cast<Price>(r[4] % 61);
    if (kind == 0 || known.empty()) {
      NewOrder o;
      o.symbol = static_cast<SymbolIndex>(raw ? r[1] & 3 : r[1] & 1);
      o.side = raw && (r[0] & 0x40) ? static_cast<Side>(2 + (r[1] >> 7)) : static_cast<Side>(r[1] >> 7);
      o.type = static_cast<OrderType>((r[1] >> 1) & 3);
      o.tif = static_cast<TimeInForce>((r[1] >> 3) & 3);
      if (raw && (r[0] & 0x20)) o.tif = static_cast<TimeInForce>(4 + (r[1] & 1));
      o.hidden = (r[1] & 0x20) != 0;
      o.quantity = qty;
      o.price = px;
      o.stop_price = raw ? static_cast<Price>(r[6]) * 50 : kBase - 30 + static_cast<Price>(r[6] % 61);
      o.display_quantity = r[7] % 4 == 0 ? r[8] : 0;
      o.min_quantity = r[9] % 4 == 0 ? static_cast<Qty>(r[9]) * 3 : 0;
      o.owner = 1 + r[10] % 4;
      o.smp_group = r[10] & 4 ? o.owner % 2 : 0;
      o.user_ref = next_uref++;
      const SubmitResult a = big.submit(o);
      const SubmitResult b = ref.submit(o);
      const SubmitResult t = tiny.submit(o);
      if (a.reason != b.reason) fail("submit result differs", ra, rb);
      if (a.ok()) known.push_back(Known{a.ref, b.ref, t.ref, o.owner});
    } else {
      Known& k = known[r[11] % known.size()];
      const OwnerId owner = (r[10] & 0x10) ? k.owner + 1 : k.owner;
      if (kind == 1 || kind == 2) {
        const Qty to = kind == 1 ? 0 : qty;
        if (big.cancel(owner, k.a, to) != ref.cancel(owner, k.b, to)) fail("cancel result differs", ra, rb);
        tiny.cancel(owner, k.t, to);
      } else {
        ReplaceOrder re{owner, 0, next_uref++, qty, px};
        re.ref = k.a;
        const SubmitResult a = big.replace(re);
        re.ref = k.b;
        const SubmitResult b = ref.replace(re);
        re.ref = k.t;
        const SubmitResult t = tiny.replace(re);
        if (a.reason != b.reason) fail("replace result differs", ra, rb);
        if (a.ok()) {
          k.a = a.ref;
          k.b = b.ref;
        }
        if (t.ok()) k.t = t.ref;
      }
    }
    if (ra.events.size() != rb.events.size()) fail("event count differs", ra, rb);
    for (std::size_t i = 0; i < ra.events.size(); ++i)
      if (!(canonicalize(ra.events[i], ca) == canonicalize(rb.events[i], cb))) fail("event differs", ra, rb);
    // Follow refresh and replace refs so later requests can still name the orders.
    for (std::size_t i = 0; i < ra.events.size(); ++i) {
      if (const auto* f = std::get_if<Refreshed>(&ra.events[i])) {
        for (Known& k : known)
          if (k.a == f->old_ref) {
            k.a = f->new_ref;
            k.b = std::get<Refreshed>(rb.events[i]).new_ref;
          }
      }
    }
    for (const Event& e : rt.events)
      if (const auto* f = std::get_if<Refreshed>(&e))
        for (Known& k : known)
          if (k.t == f->old_ref) k.t = f->new_ref;
    const bool last = off + 2 * kRecord > size;
    for (SymbolIndex s = 0; s < 2; ++s) {
      check_book(tiny, s);
      // The full comparison every few requests and at the end keeps the replay test fast.
      if (off % (8 * kRecord) != 0 && !last) continue;
      check_book(big, s);
      std::vector<OrderView> va, vb;
      big.for_each_resting(s, [&](const OrderView& v) { va.push_back(v); });
      ref.for_each_resting(s, [&](const OrderView& v) { vb.push_back(v); });
      big.for_each_stop(s, [&](const OrderView& v) { va.push_back(v); });
      ref.for_each_stop(s, [&](const OrderView& v) { vb.push_back(v); });
      if (va.size() != vb.size()) fail("book size differs", ra, rb);
      for (std::size_t i = 0; i < va.size(); ++i) {
        va[i].ref = ca(va[i].ref);
        vb[i].ref = cb(vb[i].ref);
        if (!(va[i] == vb[i])) fail("book differs", ra, rb);
      }
    }
    check(tiny.live_orders() <= 4 && tiny.live_levels() <= 3, "tiny engine above its pools");
  }
  return 0;
}
