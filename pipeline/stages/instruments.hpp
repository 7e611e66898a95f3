#pragma once
// Instruments across venues (issue 14). Each venue numbers its stocks with its own ITCH locates
// (its 'R' Stock Directory says which symbol a locate is); downstream of the parse stage a
// `Locate` is an instrument id: one symbol, whatever venue quotes it. The rule:
//   * the first venue's locate L is instrument L (so one venue is exactly as before), unless the
//     symbol already has an id (below): then the symbol keeps it;
//   * a symbol first seen in the directory of another venue gets the next id above
//     `first_venue_max` (the first venue's highest locate, [book] max_locate: 32767 by default
//     with several venues), in order of first sight, up to 65535: these ids are never a first
//     venue's locate, so the two ranges never collide;
//   * a first-venue locate whose id already names another symbol (a locate reused by a new session)
//     takes an id from the upper range too.
// Symbols the configuration trades are given their ids first (preassign(), in the configuration's
// order, from the upper range): their ids are then the same in every run of that configuration
// whatever venue's directory arrives first, which the journal needs (its records name instruments
// by id: a restart replays them onto the same instruments).
// A symbol keeps its id for the life of the process (a venue's new session re-reads its
// directory). A message of a locate its venue has not listed yet: the first venue's is
// instrument L, another venue's is dropped and counted (ITCH lists every stock before its orders).
// Memory is fixed at construction; map() and on_directory() allocate nothing.
#include <array>
#include <cstdint>
#include <vector>

#include "pipeline/events.hpp"

namespace hft::pipeline {

class InstrumentMap {
 public:
  static constexpr Locate kNone = 0;

  InstrumentMap(std::size_t venues, std::uint32_t first_venue_max)
      : venues_(venues < 1 ? 1 : venues > kMaxVenues ? kMaxVenues : venues),
        first_max_(first_venue_max > 65534 ? 65534 : first_venue_max),
        next_(first_max_ + 1),
        symbol_of_(65536, 0),
        slots_(kSlots) {
    for (std::size_t v = 0; v < venues_; ++v) to_id_[v].assign(65536, kNone);
    for (std::uint32_t l = 1; l <= first_max_; ++l) to_id_[0][l] = static_cast<Locate>(l);
  }

  // The instrument of `locate` on `venue`; kNone when unknown (dropped).
  [[nodiscard]] Locate map(VenueId venue, Locate locate) const noexcept {
    return venue < venues_ ? to_id_[venue][locate] : kNone;
  }

  // A venue's directory entry ('R'): the symbol (8 ASCII bytes as a little-endian key, as
  // itch::Symbol::key()) at `locate`. Returns the instrument id (kNone: no id left, or a first-venue
  // locate above first_venue_max).
  Locate on_directory(VenueId venue, Locate locate, std::uint64_t symbol) noexcept {
    if (venue >= venues_ || locate == 0) return kNone;
    if (venue == 0 && locate > first_max_) return kNone;
    Locate id = find(symbol);
    if (id == kNone) {
      if (venue == 0 && symbol_of_[locate] == 0) id = locate;
      else if (next_ <= 65535) id = static_cast<Locate>(next_++);
      else {
        ++exhausted_;
        return kNone;
      }
      symbol_of_[id] = symbol;
      insert(symbol, id);
    }
    to_id_[venue][locate] = id;
    return id;
  }

  // A symbol the configuration trades, before any directory is read: its id (kNone: none left).
  Locate preassign(std::uint64_t symbol) noexcept {
    Locate id = find(symbol);
    if (id != kNone) return id;
    if (next_ > 65535) {
      ++exhausted_;
      return kNone;
    }
    id = static_cast<Locate>(next_++);
    symbol_of_[id] = symbol;
    insert(symbol, id);
    return id;
  }

  // A venue's new session: its locates mean nothing until its directory is read again (the first
  // venue's fall back to the identity). Symbols keep their ids.
  void reset_venue(VenueId venue) noexcept {
    if (venue >= venues_) return;
    auto& t = to_id_[venue];
    for (std::size_t l = 0; l < t.size(); ++l) t[l] = venue == 0 && l <= first_max_ ? static_cast<Locate>(l) : kNone;
  }

  [[nodiscard]] std::size_t venues() const noexcept { return venues_; }
  [[nodiscard]] std::uint32_t first_venue_max() const noexcept { return first_max_; }
  [[nodiscard]] std::uint64_t exhausted() const noexcept { return exhausted_; }
  [[nodiscard]] std::uint64_t symbol(Locate id) const noexcept { return symbol_of_[id]; }

 private:
  static constexpr std::size_t kSlots = 1u << 17;  // twice the ids: open addressing, load <= 0.5
  struct Slot {
    std::uint64_t symbol = 0;
    Locate id = kNone;
  };
  static std::size_t home(std::uint64_t symbol) noexcept {
    return static_cast<std::size_t>((symbol * 0x9E3779B97F4A7C15ull) >> (64 - 17));
  }
  Locate find(std::uint64_t symbol) const noexcept {
    for (std::size_t i = home(symbol), n = 0; n < kSlots; i = (i + 1) & (kSlots - 1), ++n) {
      if (slots_[i].id == kNone) return kNone;
      if (slots_[i].symbol == symbol) return slots_[i].id;
    }
    return kNone;
  }
  void insert(std::uint64_t symbol, Locate id) noexcept {
    for (std::size_t i = home(symbol), n = 0; n < kSlots; i = (i + 1) & (kSlots - 1), ++n)
      if (slots_[i].id == kNone) {
        slots_[i] = Slot{symbol, id};
        return;
      }
  }

  std::size_t venues_;
  std::uint32_t first_max_;
  std::uint32_t next_;
  std::array<std::vector<Locate>, kMaxVenues> to_id_;
  std::vector<std::uint64_t> symbol_of_;  // instrument id -> symbol key (0: none)
  std::vector<Slot> slots_;
  std::uint64_t exhausted_ = 0;
};

}  // namespace hft::pipeline
