// Fuzz target: order books built from arbitrary bytes. The first byte picks small pool sizes (so
// exhaustion paths run) and whether level events are on; the rest is a BinaryFILE stream.
// The same bytes go through decode_blocks and through build_blocks (the prefetching loop); the
// two books must agree, and every internal invariant must hold afterwards.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gateways/itch/decoder.hpp"
#include "pipeline/book/itch_handler.hpp"

namespace {

using namespace hft;

struct Sink {
  std::uint64_t tops = 0;
  std::uint64_t levels = 0;
  std::uint64_t checksum = 0;
  void on_top_of_book(const book::TopOfBook& e) noexcept {
    ++tops;
    checksum = checksum * 31 + e.bid_price + e.ask_shares + e.flags;
  }
  void on_level_update(const book::LevelUpdate& e) noexcept {
    ++levels;
    checksum = checksum * 31 + e.price + e.shares;
  }
};

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "book_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  book::BookConfig cfg;
  cfg.orders = 4 + data[0] % 61;
  cfg.levels = 2 + (data[0] >> 3) % 29;
  cfg.max_locate = 8;
  cfg.level_events = (data[0] & 0x80) != 0;
  ++data;
  --size;

  book::BookSet a(cfg);
  book::BookSet b(cfg);
  Sink sa;
  Sink sb;
  book::ItchBookHandler ha(a, sa);
  book::ItchBookHandler hb(b, sb);
  itch::DecodeStats da;
  itch::DecodeStats db;
  const auto ra = itch::decode_blocks(data, size, ha, da);
  const auto rb = book::build_blocks(data, size, hb, db);

  if (ra.consumed != rb.consumed || ra.blocks != rb.blocks || ra.truncated != rb.truncated) fail("block results differ");
  if (da.messages != db.messages || da.errors() != db.errors()) fail("decode statistics differ");
  if (sa.tops != sb.tops || sa.levels != sb.levels || sa.checksum != sb.checksum) fail("events differ");
  if (a.live_orders() != b.live_orders() || a.live_levels() != b.live_levels()) fail("books differ");
  const std::string why = b.check_invariants();
  if (!why.empty()) fail("invariant broken:", why);

  // Every query on every locate (valid or not) stays in bounds.
  std::array<book::Level, 6> depth{};
  for (std::uint16_t loc = 0; loc <= cfg.max_locate + 1; ++loc) {
    for (const book::Side side : {book::Side::kBid, book::Side::kAsk}) {
      const std::size_t n = b.depth(loc, side, depth);
      if (n > b.level_count(loc, side)) fail("depth returned more than the level count");
      if (n != 0 && !(depth[0] == b.best(loc, side))) fail("depth and best disagree");
      for (std::size_t i = 1; i < n; ++i) {
        const bool better = side == book::Side::kBid ? depth[i - 1].price > depth[i].price : depth[i - 1].price < depth[i].price;
        if (!better) fail("levels out of order");
      }
    }
    const book::TopOfBook t = b.top(loc);
    (void)t;
    (void)b.info(loc);
  }
  return 0;
}
