#pragma once
// The venue's own order flow: market makers quoting both sides of every symbol around a fair
// value that random-walks on the penny grid, noise takers crossing the spread with IOC orders,
// and the makers' cancels and replaces, in the proportions of FlowMix (by default NASDAQ's
// 2019-12-30 09:30 sample: A 37%, U 22%, F 19%, D 17%, E 3%, the rest X and P). The flow acts
// on the matching engine directly (it is the venue's own flow, not a session), so it is in the
// ITCH feed and nowhere else.
//
// Deterministic: every choice comes from one Rng seeded from the venue's seed, and no choice
// reads a clock; given the seed and the same interleaving with client orders, the same feed
// comes out (the clock only decides how many actions run per tick).
//
// Shape of a book: makers post at a distance from a per-symbol fair value drawn from a geometric
// distribution (mean ~8 ticks, at most `levels`), never through the displayed opposite best (a
// quote that meets hidden interest inside the spread trades with it). The fair value walks one
// tick at a time, at most one tick beyond the current best bid and ask; makers pull and re-quote
// the quotes it has moved onto or past first (a bid at or above it, an ask at or below it), and
// otherwise pull the quote farthest from it, so the touch follows the fair value and quotes never
// pile up at one price. A noise taker takes about one resting order's worth at the best price, or
// probes one tick inside the spread, where only hidden interest can be (ITCH 'P'). Above
// max_resting_per_symbol quotes, adds become deletes, so a long run keeps a bounded book.
// Symbols are drawn with Zipf weights (1/rank): a few are busy, most are quiet, as on a real day.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/id_map.hpp"
#include "venue/config.hpp"
#include "venue/listener.hpp"
#include "venue/rng.hpp"

namespace hft::venue {

struct BackgroundCounters {
  std::uint64_t actions = 0;
  std::uint64_t adds = 0, replaces = 0, deletes = 0, cancels = 0, takes = 0;
  std::uint64_t idle_actions = 0;  // nothing to act on (empty book side, no quote to move)
};

class BackgroundFlow {
 public:
  // `symbols[i]` trades as stock locate i + 1.
  BackgroundFlow(const BackgroundConfig& config, std::uint64_t seed, std::span<const SymbolSpec> symbols);

  // One action (a few engine requests at most). `clock` is set by the caller.
  void act(VenueEngine& engine) noexcept;

  // ---- engine events on background orders -------------------------------------------------
  void on_book_added(const match::BookAdded& e) noexcept;
  void on_resting_execution(const match::Execution& e) noexcept;
  void on_canceled(const match::Canceled& e) noexcept;
  void on_replaced(const match::Replaced& e) noexcept;
  void on_refreshed(const match::Refreshed& e) noexcept;
  // The maker's MPID for an attributed quote ('F'), else nullptr.
  [[nodiscard]] const char* mpid(match::OrderRef ref) const noexcept;

  [[nodiscard]] const BackgroundCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t resting() const noexcept { return index_.size(); }
  [[nodiscard]] std::size_t resting(std::uint16_t locate) const noexcept { return symbols_[locate - 1].quotes.size(); }
  [[nodiscard]] match::Price fair_value(std::uint16_t locate) const noexcept { return symbols_[locate - 1].fair; }

  // ---- lead-lag (issue 14, venue/lead.hpp) -------------------------------------------------
  // Records which symbols' fair values change (for the lead channel): changed() lists them since
  // the last clear_changed(), each once.
  void track_changes(bool on) noexcept { track_ = on; }
  [[nodiscard]] std::span<const std::uint16_t> changed() const noexcept { return changed_; }
  void clear_changed() noexcept;
  // A follower sets the fair value from its leader (on the penny grid, within the symbol's
  // price range): the symbol stops walking and is no longer held within reach of its own book
  // until unfollow_all() (the leader went away: its own walk resumes from there).
  void set_fair(std::uint16_t locate, match::Price fair) noexcept;
  void unfollow_all() noexcept;
  [[nodiscard]] bool following() const noexcept { return following_; }
  // Engine orders the flow can hold at once (quotes plus one incoming order).
  [[nodiscard]] std::size_t capacity() const noexcept { return quotes_.size() + 1; }

 private:
  static constexpr std::uint32_t kNil = 0xFFFF'FFFFu;

  struct Quote {
    match::OrderRef ref = 0;
    match::Price price = 0;
    std::uint32_t pos = 0;       // index in its symbol's list
    std::uint32_t next_free = 0;
    std::uint16_t locate = 0;
    match::Side side = match::Side::kBuy;
    std::uint8_t maker = 0;
    bool attributed = false;
  };
  struct SymbolState {
    match::Price fair = 0;
    match::Price min_price = 0, max_price = 0;
    std::vector<std::uint32_t> quotes;  // Quote indices (capacity reserved)
    bool followed = false;              // set_fair: the leader moves it, not the walk
    bool changed = false;               // listed in changed_
  };
  // Attribution of the quote the current request may add (set before each maker request).
  struct Pending {
    std::uint8_t maker = 0;
    bool attributed = false;
  };

  [[nodiscard]] std::uint16_t pick_symbol() noexcept;
  void walk(SymbolState& s) noexcept;
  void mark(std::uint16_t locate) noexcept;
  [[nodiscard]] std::uint32_t pick_quote(const SymbolState& s, bool far) noexcept;
  [[nodiscard]] match::Price quote_price(const VenueEngine& engine, std::uint16_t locate, match::Side side,
                                         std::uint32_t distance) const noexcept;
  [[nodiscard]] match::Qty lot_size() noexcept;

  void add(VenueEngine& engine, std::uint16_t locate, bool attributed) noexcept;
  void move(VenueEngine& engine, std::uint16_t locate) noexcept;
  void pull(VenueEngine& engine, std::uint16_t locate) noexcept;
  void reduce(VenueEngine& engine, std::uint16_t locate) noexcept;
  void take(VenueEngine& engine, std::uint16_t locate) noexcept;

  void insert(match::OrderRef ref, std::uint16_t locate, match::Side side, match::Price price) noexcept;
  void erase(match::OrderRef ref) noexcept;
  void rekey(match::OrderRef old_ref, match::OrderRef new_ref, match::Price price) noexcept;
  [[nodiscard]] match::OwnerId maker_owner(std::uint8_t maker) const noexcept { return kBackgroundOwnerBase + maker; }
  [[nodiscard]] match::OwnerId taker_owner() const noexcept { return kBackgroundOwnerBase + config_.makers; }

  BackgroundConfig config_;
  Rng rng_;
  std::vector<SymbolState> symbols_;
  std::vector<std::uint64_t> zipf_;   // cumulative symbol weights
  std::vector<Quote> quotes_;
  std::vector<std::array<char, 4>> mpids_;
  core::IdMap index_;                 // engine ref -> Quote index
  std::uint32_t free_ = kNil;
  std::uint64_t mix_total_ = 0;
  match::UserRef next_user_ref_ = 1;
  Pending pending_;
  BackgroundCounters counters_;
  std::vector<std::uint16_t> changed_;  // capacity: every symbol
  bool track_ = false;
  bool following_ = false;
};

}  // namespace hft::venue
