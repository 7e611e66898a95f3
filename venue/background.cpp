#include "venue/background.hpp"

#include "venue/venue.hpp"  // the listener's inline members, which the engine calls

#include <algorithm>

namespace hft::venue {
namespace {

constexpr match::Price kTick = 100;  // the penny grid
// A quote's distance from the fair value continues one more tick with probability 0.88: a mean
// of about 8 ticks, so tens of levels per side are populated near the touch and few far away.
constexpr std::uint32_t kDistanceContinue = 880;
// Per action on a symbol, its fair value moves one tick with probability 0.005 (either way): for
// the busiest of 8 symbols at 20,000 messages/s, ~37 steps a second (a random walk of ~6 ticks a
// second), slow enough for the quotes to follow; faster, the touch lags and prices stick.
constexpr std::uint32_t kWalkPerMille = 5;
// Takers that probe one tick inside the spread, where only hidden interest can be.
constexpr std::uint32_t kInsideTakePerMille = 250;
// Takers that want one round lot (most resting orders hold at least one: a single execution).
constexpr std::uint32_t kRoundLotTakePerMille = 700;
// How far beyond the best bid or ask the fair value may walk (ticks): the quotes it passes are
// stale, pulled, re-quoted or taken first, so the touch follows it.
constexpr match::Price kFairReach = 3;
// Quotes a maker looks at to find a stale one (see pick_quote).
constexpr int kQuoteSamples = 16;
// Quotes below which a symbol's book is still being built: moves and pulls become adds.
constexpr std::size_t kMinQuotes = 8;

match::Price abs_diff(match::Price a, match::Price b) noexcept { return a > b ? a - b : b - a; }

}  // namespace

BackgroundFlow::BackgroundFlow(const BackgroundConfig& config, std::uint64_t seed, std::span<const SymbolSpec> symbols)
    : config_(config),
      rng_(seed),
      symbols_(symbols.size()),
      quotes_(symbols.size() * config.max_resting_per_symbol + 64),
      index_(symbols.size() * config.max_resting_per_symbol + 64) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    SymbolState& s = symbols_[i];
    s.fair = symbols[i].reference_price - symbols[i].reference_price % kTick;
    s.min_price = std::max<match::Price>(10 * kTick, s.fair / 2 - (s.fair / 2) % kTick);
    s.max_price = std::min<match::Price>(match::kMaxPrice - 100 * kTick, s.fair * 2);
    if (s.fair < s.min_price) s.fair = s.min_price;
    if (s.max_price < s.fair) s.max_price = s.fair;
    s.quotes.reserve(config.max_resting_per_symbol + 8);
    total += 1'000'000 / (i + 1);  // Zipf weights, 1/rank
    zipf_.push_back(total);
  }
  for (std::uint32_t i = 0; i < quotes_.size(); ++i) quotes_[i].next_free = i + 1 < quotes_.size() ? i + 1 : kNil;
  free_ = 0;
  changed_.reserve(symbols.size());
  for (std::uint32_t m = 0; m < config.makers; ++m) {
    const std::uint32_t n = (m + 1) % 100;  // makers <= 99 (config range)
    mpids_.push_back({'M', 'M', static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)});
  }
  const FlowMix& mix = config.mix;
  mix_total_ = std::uint64_t{mix.add} + mix.add_mpid + mix.replace + mix.remove + mix.cancel + mix.execute;
}

std::uint16_t BackgroundFlow::pick_symbol() noexcept {
  const std::uint64_t r = rng_.below(zipf_.back());
  const auto it = std::upper_bound(zipf_.begin(), zipf_.end(), r);
  return static_cast<std::uint16_t>(it - zipf_.begin() + 1);
}

void BackgroundFlow::mark(std::uint16_t locate) noexcept {
  SymbolState& s = symbols_[locate - 1];
  if (!track_ || s.changed) return;
  s.changed = true;
  changed_.push_back(locate);  // capacity reserved: each symbol at most once
}

void BackgroundFlow::clear_changed() noexcept {
  for (const std::uint16_t l : changed_) symbols_[l - 1].changed = false;
  changed_.clear();
}

void BackgroundFlow::set_fair(std::uint16_t locate, match::Price fair) noexcept {
  if (locate == 0 || locate > symbols_.size()) return;
  SymbolState& s = symbols_[locate - 1];
  fair -= fair % kTick;
  fair = std::clamp(fair, kTick, match::kMaxPrice - 100 * kTick);
  s.followed = true;
  following_ = true;
  if (fair != s.fair) {
    s.fair = fair;
    mark(locate);
  }
}

void BackgroundFlow::unfollow_all() noexcept {
  for (SymbolState& s : symbols_) s.followed = false;
  following_ = false;
}

void BackgroundFlow::walk(SymbolState& s) noexcept {
  if (!rng_.chance(kWalkPerMille)) return;
  const bool down = rng_.below(2) == 0;
  // Drawn either way: following a symbol does not shift the flow's random stream.
  if (s.followed) return;
  if (down) {
    if (s.fair - kTick >= s.min_price) s.fair -= kTick;
  } else if (s.fair + kTick <= s.max_price) {
    s.fair += kTick;
  }
}

match::Price BackgroundFlow::quote_price(const VenueEngine& engine, std::uint16_t locate, match::Side side,
                                         std::uint32_t distance) const noexcept {
  const match::Price fair = symbols_[locate - 1].fair;
  const match::Price d = static_cast<match::Price>(distance) * kTick;
  match::Price p = side == match::Side::kBuy ? fair - d : fair + d;
  // Never through the opposite best (a maker posts, it does not take): a quote the fair value
  // would put there goes behind the opposite best instead, spread over a few levels rather than
  // piled on one.
  if (const auto opp = engine.best(locate, match::opposite(side))) {
    const match::Price behind = static_cast<match::Price>(distance) * kTick;
    if (side == match::Side::kBuy && p >= opp->price) p = opp->price - behind;
    if (side == match::Side::kSell && p <= opp->price) p = opp->price + behind;
  }
  return std::clamp<match::Price>(p, kTick, match::kMaxPrice - kTick);
}

match::Qty BackgroundFlow::lot_size() noexcept {
  if (rng_.chance(50)) return static_cast<match::Qty>(1 + rng_.below(99));  // odd lot
  return static_cast<match::Qty>(100 * rng_.geometric(10, 500));
}

void BackgroundFlow::act(VenueEngine& engine) noexcept {
  ++counters_.actions;
  const std::uint16_t locate = pick_symbol();
  SymbolState& s = symbols_[locate - 1];
  const match::Price before = s.fair;
  walk(s);
  // The fair value stays within the market: when it walks through the best bid or ask, quotes
  // would be clamped to the touch and pile up there; prices move when takers clear levels. A
  // followed symbol's value is the leader's: its book catches up (takers take the stale quotes).
  const auto bid = engine.best(locate, match::Side::kBuy);
  const auto ask = engine.best(locate, match::Side::kSell);
  if (bid && ask && bid->price < ask->price && !s.followed)
    s.fair = std::clamp(s.fair, bid->price - kFairReach * kTick, ask->price + kFairReach * kTick);
  if (s.fair != before) mark(locate);
  const FlowMix& mix = config_.mix;
  std::uint64_t r = rng_.below(mix_total_);
  if (r < mix.add) return add(engine, locate, false);
  r -= mix.add;
  if (r < mix.add_mpid) return add(engine, locate, true);
  r -= mix.add_mpid;
  if (r < mix.replace) return move(engine, locate);
  r -= mix.replace;
  if (r < mix.remove) return pull(engine, locate);
  r -= mix.remove;
  if (r < mix.cancel) return reduce(engine, locate);
  take(engine, locate);
}

void BackgroundFlow::add(VenueEngine& engine, std::uint16_t locate, bool attributed) noexcept {
  SymbolState& s = symbols_[locate - 1];
  if (s.quotes.size() >= config_.max_resting_per_symbol || free_ == kNil) return pull(engine, locate);
  ++counters_.adds;
  const match::Side side = rng_.below(2) == 0 ? match::Side::kBuy : match::Side::kSell;
  const bool hidden = rng_.chance(config_.mix.hidden_per_mille);
  const std::uint32_t distance = rng_.geometric(config_.levels, kDistanceContinue);
  match::Price price = quote_price(engine, locate, side, distance);
  // Hidden interest sits inside the spread when there is room (midpoint-seeking liquidity),
  // else at the best price: a quote or a taker that reaches it prints ITCH 'P'.
  if (hidden) {
    const auto best = engine.best(locate, side);
    const auto opp = engine.best(locate, match::opposite(side));
    if (best && opp && (opp->price > best->price ? opp->price - best->price : 0) >= 2 * kTick) {
      price = side == match::Side::kBuy ? best->price + kTick : best->price - kTick;
    } else if (best) {
      price = best->price;
    }
  }
  const auto maker = static_cast<std::uint8_t>(rng_.below(config_.makers));
  match::NewOrder req;
  req.symbol = locate;
  req.side = side;
  req.type = match::OrderType::kLimit;
  // DAY, not post-only: the price never goes through the displayed opposite best, but a quote
  // that meets hidden interest inside the spread trades with it ('P'), as it would on NASDAQ.
  req.tif = match::TimeInForce::kDay;
  req.hidden = hidden;
  req.quantity = lot_size();
  req.price = price;
  req.owner = maker_owner(maker);
  req.user_ref = next_user_ref_++;
  req.smp_group = req.owner;
  pending_ = Pending{maker, attributed && !hidden};
  engine.submit(req);
}

std::uint32_t BackgroundFlow::pick_quote(const SymbolState& s, bool far) noexcept {
  // A maker re-quotes or pulls the quote the fair value has moved onto or past first: a bid at or
  // above the fair value, an ask at or below it (stale). Of a few
  // drawn at random, the stalest; if none is stale, the farthest from the fair value (`far`) or
  // the first drawn.
  std::uint32_t best = s.quotes[rng_.below(s.quotes.size())];
  match::Price best_stale = 0;
  match::Price best_distance = abs_diff(quotes_[best].price, s.fair);
  for (int i = 0; i < kQuoteSamples; ++i) {
    const std::uint32_t c = s.quotes[rng_.below(s.quotes.size())];
    const Quote& q = quotes_[c];
    const match::Price stale =
        q.side == match::Side::kBuy ? q.price - (s.fair - kTick) : (s.fair + kTick) - q.price;
    const match::Price distance = abs_diff(q.price, s.fair);
    if (stale > best_stale || (best_stale == 0 && far && distance > best_distance)) {
      best = c;
      best_stale = stale > 0 ? stale : 0;
      best_distance = distance;
    }
  }
  return best;
}

void BackgroundFlow::move(VenueEngine& engine, std::uint16_t locate) noexcept {
  SymbolState& s = symbols_[locate - 1];
  if (s.quotes.size() < kMinQuotes) return add(engine, locate, false);
  ++counters_.replaces;
  const Quote& q = quotes_[pick_quote(s, false)];
  match::Price price = quote_price(engine, locate, q.side, rng_.geometric(config_.levels, kDistanceContinue));
  if (price == q.price) price += q.side == match::Side::kBuy ? -kTick : kTick;  // a move that moves: ITCH 'U'
  if (price < kTick) price = q.price + kTick;
  pending_ = Pending{q.maker, q.attributed};
  engine.replace(match::ReplaceOrder{maker_owner(q.maker), q.ref, next_user_ref_++, lot_size(), price});
}

void BackgroundFlow::pull(VenueEngine& engine, std::uint16_t locate) noexcept {
  SymbolState& s = symbols_[locate - 1];
  if (s.quotes.empty()) {
    ++counters_.idle_actions;
    return;
  }
  ++counters_.deletes;
  const Quote& q = quotes_[pick_quote(s, true)];
  engine.cancel(maker_owner(q.maker), q.ref, 0);
}

void BackgroundFlow::reduce(VenueEngine& engine, std::uint16_t locate) noexcept {
  SymbolState& s = symbols_[locate - 1];
  if (s.quotes.size() < kMinQuotes) return add(engine, locate, false);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const Quote& q = quotes_[s.quotes[rng_.below(s.quotes.size())]];
    const auto view = engine.find(q.ref);
    if (!view || view->leaves < 2 * 100) continue;
    ++counters_.cancels;
    const match::Qty lots = view->leaves / 100;
    const match::Qty cut = 100 * static_cast<match::Qty>(1 + rng_.below(lots - 1));
    engine.cancel(maker_owner(q.maker), q.ref, view->leaves - cut);
    return;
  }
  ++counters_.idle_actions;
}

void BackgroundFlow::take(VenueEngine& engine, std::uint16_t locate) noexcept {
  // A taker buys when the fair value is above the best ask, sells when it is below the best bid
  // (informed flow takes the stale quotes), and either way at random in between.
  const SymbolState& s = symbols_[locate - 1];
  match::Side side = rng_.below(2) == 0 ? match::Side::kBuy : match::Side::kSell;
  if (const auto ask = engine.best(locate, match::Side::kSell); ask && s.fair > ask->price) side = match::Side::kBuy;
  if (const auto bid = engine.best(locate, match::Side::kBuy); bid && s.fair < bid->price) side = match::Side::kSell;
  const auto best = engine.best(locate, match::opposite(side));
  if (!best) {
    if (s.quotes.size() < kMinQuotes) return add(engine, locate, false);
    ++counters_.idle_actions;
    return;
  }
  ++counters_.takes;
  match::Price price = best->price;
  match::Qty qty = lot_size();
  if (rng_.chance(kInsideTakePerMille)) {
    // One tick inside the spread: only hidden interest is there; it prints 'P' (or nothing).
    price += side == match::Side::kBuy ? -kTick : kTick;
  } else {
    // About one resting order's worth: one execution, now and then two.
    const std::uint64_t typical = best->shares / std::max<std::uint32_t>(1, best->orders);
    const std::uint64_t want = rng_.chance(kRoundLotTakePerMille) ? 100 : std::min<std::uint64_t>(qty, typical);
    qty = static_cast<match::Qty>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(want, best->shares)));
  }
  match::NewOrder req;
  req.symbol = locate;
  req.side = side;
  req.type = match::OrderType::kLimit;
  req.tif = match::TimeInForce::kIoc;
  req.quantity = qty;
  req.price = std::max<match::Price>(kTick, price);
  req.owner = taker_owner();
  req.user_ref = next_user_ref_++;
  req.smp_group = req.owner;
  pending_ = Pending{0, false};
  engine.submit(req);
}

// ---- bookkeeping ------------------------------------------------------------------------------

void BackgroundFlow::insert(match::OrderRef ref, std::uint16_t locate, match::Side side, match::Price price) noexcept {
  if (free_ == kNil) return;  // cannot happen: add() checks, and a re-entered quote freed its own slot
  const std::uint32_t i = free_;
  if (!index_.insert(ref, i)) return;
  free_ = quotes_[i].next_free;
  SymbolState& s = symbols_[locate - 1];
  Quote& q = quotes_[i];
  q.ref = ref;
  q.price = price;
  q.locate = locate;
  q.side = side;
  q.maker = pending_.maker;
  q.attributed = pending_.attributed;
  q.pos = static_cast<std::uint32_t>(s.quotes.size());
  s.quotes.push_back(i);  // capacity reserved: at most max_resting_per_symbol (+ re-entries)
}

void BackgroundFlow::erase(match::OrderRef ref) noexcept {
  const std::uint32_t* found = index_.find(ref);
  if (found == nullptr) return;
  const std::uint32_t i = *found;
  index_.erase(ref);
  Quote& q = quotes_[i];
  SymbolState& s = symbols_[q.locate - 1];
  const std::uint32_t moved = s.quotes.back();
  s.quotes[q.pos] = moved;
  quotes_[moved].pos = q.pos;
  s.quotes.pop_back();
  q.next_free = free_;
  free_ = i;
}

void BackgroundFlow::rekey(match::OrderRef old_ref, match::OrderRef new_ref, match::Price price) noexcept {
  const std::uint32_t* found = index_.find(old_ref);
  if (found == nullptr) return;
  const std::uint32_t i = *found;
  quotes_[i].price = price;
  if (old_ref == new_ref) return;
  index_.erase(old_ref);
  index_.insert(new_ref, i);
  quotes_[i].ref = new_ref;
}

void BackgroundFlow::on_book_added(const match::BookAdded& e) noexcept {
  // The incoming side of a maker's own request (taker IOCs never rest).
  insert(e.ref, e.symbol, e.side, e.price);
}

void BackgroundFlow::on_resting_execution(const match::Execution& e) noexcept {
  if (e.resting_leaves == 0) erase(e.resting_ref);
}

void BackgroundFlow::on_canceled(const match::Canceled& e) noexcept {
  if (e.on_book && e.leaves == 0) erase(e.ref);
}

void BackgroundFlow::on_replaced(const match::Replaced& e) noexcept {
  if (e.outcome == match::ReplaceOutcome::kReentered) {
    erase(e.old_ref);  // a BookAdded follows for what rests
  } else {
    rekey(e.old_ref, e.new_ref, e.price);
  }
}

void BackgroundFlow::on_refreshed(const match::Refreshed& e) noexcept { rekey(e.old_ref, e.new_ref, e.price); }

const char* BackgroundFlow::mpid(match::OrderRef ref) const noexcept {
  const std::uint32_t* i = index_.find(ref);
  if (i == nullptr) return nullptr;
  const Quote& q = quotes_[*i];
  return q.attributed ? mpids_[q.maker].data() : nullptr;
}

}  // namespace hft::venue
