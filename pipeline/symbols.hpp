#pragma once
// Stock locate -> 8-byte symbol, learned from the feed's Stock Directory ('R') messages by the
// book stage and read by the risk/egress stage to fill OUCH's Symbol field (and by strategies to
// find their locates). One relaxed atomic 64-bit word per locate: single writer, no lock, and a
// reader on another thread sees either nothing yet (0) or the whole symbol.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "gateways/itch/messages.hpp"

namespace hft::pipeline {

class SymbolTable {
 public:
  explicit SymbolTable(std::size_t locates) : words_(locates) {}

  void set(std::uint16_t locate, std::uint64_t symbol_word) noexcept {
    if (locate < words_.size()) words_[locate].store(symbol_word, std::memory_order_release);
  }
  [[nodiscard]] bool known(std::uint16_t locate) const noexcept { return word(locate) != 0; }
  [[nodiscard]] itch::Symbol symbol(std::uint16_t locate) const noexcept {
    itch::Symbol s;
    const std::uint64_t w = word(locate);
    if (w != 0) std::memcpy(s.chars.data(), &w, 8);
    return s;
  }
  // Linear search (start-up and tools, not the hot path). 0 when unknown.
  [[nodiscard]] std::uint16_t locate_of(std::string_view name) const noexcept {
    const std::uint64_t key = itch::Symbol::from(name).key();
    for (std::size_t i = 1; i < words_.size(); ++i)
      if (words_[i].load(std::memory_order_acquire) == key) return static_cast<std::uint16_t>(i);
    return 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return words_.size(); }

 private:
  [[nodiscard]] std::uint64_t word(std::uint16_t locate) const noexcept {
    return locate < words_.size() ? words_[locate].load(std::memory_order_acquire) : 0;
  }
  std::vector<std::atomic<std::uint64_t>> words_;
};

}  // namespace hft::pipeline
