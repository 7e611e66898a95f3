#pragma once
// Stock locate -> 8-byte symbol, learned from the feed's Stock Directory ('R') messages by the
// book stage and read by the risk/egress stage to fill OUCH's Symbol field (and by strategies to
// find their locates). One atomic 64-bit word per locate: single writer, no lock, and a reader on
// another thread sees either nothing yet (0) or the whole symbol. The reverse direction (symbol ->
// locate, for strategies resolving their symbols) is an open-addressing index filled by the same
// writer, so a lookup costs a few probes, not a scan of every locate.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "gateways/itch/messages.hpp"

namespace hft::pipeline {

class SymbolTable {
 public:
  explicit SymbolTable(std::size_t locates) : words_(locates), slots_(slot_count(locates)) {}

  // Single writer (the book stage).
  void set(std::uint16_t locate, std::uint64_t symbol_word) noexcept {
    if (locate >= words_.size()) return;
    words_[locate].store(symbol_word, std::memory_order_release);
    if (symbol_word != 0) index(symbol_word, locate);
  }
  [[nodiscard]] bool known(std::uint16_t locate) const noexcept { return word(locate) != 0; }
  [[nodiscard]] itch::Symbol symbol(std::uint16_t locate) const noexcept {
    itch::Symbol s;
    const std::uint64_t w = word(locate);
    if (w != 0) std::memcpy(s.chars.data(), &w, 8);
    return s;
  }
  // Symbol -> locate in a few probes of an open-addressing index (any thread). 0 when unknown.
  [[nodiscard]] std::uint16_t locate_of(std::string_view name) const noexcept {
    return name.empty() || name.size() > 8 ? 0 : locate_of_key(itch::Symbol::from(name).key());
  }
  [[nodiscard]] std::uint16_t locate_of_key(std::uint64_t key) const noexcept {
    if (key == 0) return 0;
    for (std::size_t i = home(key);; i = (i + 1) & (slots_.size() - 1)) {
      const std::uint64_t k = slots_[i].key.load(std::memory_order_acquire);
      if (k == 0) return 0;
      if (k != key) continue;
      const std::uint16_t l = slots_[i].locate.load(std::memory_order_acquire);
      // The index keeps a name whose locate was reassigned since: believe the locate's word.
      return word(l) == key ? l : 0;
    }
  }
  [[nodiscard]] std::size_t size() const noexcept { return words_.size(); }
  // Slots a lookup of `name` reads (its cost, for the tests: a scan would read every locate).
  [[nodiscard]] std::size_t probes_for(std::string_view name) const noexcept {
    const std::uint64_t key = itch::Symbol::from(name).key();
    std::size_t n = 1;
    for (std::size_t i = home(key); slots_[i].key.load(std::memory_order_acquire) != 0 &&
                                    slots_[i].key.load(std::memory_order_acquire) != key;
         i = (i + 1) & (slots_.size() - 1))
      ++n;
    return n;
  }

 private:
  // Key -> locate, insert-only (a name's locate is updated in place); at most one entry per
  // distinct name, at a load factor of at most 1/2 while names <= locates. The locate is stored
  // before the key is published (release), so a reader that sees the key sees its locate.
  struct Slot {
    std::atomic<std::uint64_t> key{0};
    std::atomic<std::uint16_t> locate{0};
  };
  static std::size_t slot_count(std::size_t locates) noexcept {
    std::size_t n = 16;
    while (n < 2 * locates) n <<= 1;
    return n;
  }
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots_.size() - 1);
  }
  void index(std::uint64_t key, std::uint16_t locate) noexcept {
    std::size_t probes = 0;
    for (std::size_t i = home(key);; i = (i + 1) & (slots_.size() - 1)) {
      const std::uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
      if (k == key) {
        slots_[i].locate.store(locate, std::memory_order_release);
        return;
      }
      if (k == 0) {
        // More distinct names than the table was sized for (locates reassigned many times):
        // leave this name unindexed rather than fill the table (locate_of answers 0).
        if (++names_ > slots_.size() - 1) return;
        slots_[i].locate.store(locate, std::memory_order_relaxed);
        slots_[i].key.store(key, std::memory_order_release);
        return;
      }
      if (++probes == slots_.size()) return;
    }
  }
  [[nodiscard]] std::uint64_t word(std::uint16_t locate) const noexcept {
    return locate < words_.size() ? words_[locate].load(std::memory_order_acquire) : 0;
  }
  std::vector<std::atomic<std::uint64_t>> words_;
  std::vector<Slot> slots_;
  std::size_t names_ = 0;  // writer only
};

}  // namespace hft::pipeline
