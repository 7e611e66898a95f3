// Differential test: hft::match::Engine against the deliberately simple ReferenceMatcher on
// hundreds of thousands of random requests (every order type, time in force, reserve and hidden
// orders, stops, MinQty, cancels, reduces, replaces, invalid requests), under each self-match
// policy. Every event of every request is compared (order refs renamed to canonical ids, since
// the two number orders differently), and so are the full books, held stops and dumps every few
// hundred requests and at the end.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "venue/matching/engine.hpp"
#include "tests/venue/matching/recorder.hpp"
#include "tests/venue/matching/reference_matcher.hpp"

namespace hft::match {
namespace {

using testing::describe;
using testing::Event;
using testing::Recorder;
using testing::RefCanon;
using testing::ReferenceMatcher;

constexpr int kOpsPerPolicy = 80'000;  // x4 policies: 320k requests, ~0.1 s (release), ~0.5 s (ASan)
constexpr int kBookCheckEvery = 500;
constexpr SymbolIndex kSymbols = 3;
constexpr Price kBase = 5000;  // $0.5000; prices in [kBase - 30, kBase + 30]

class Differential {
 public:
  Differential(SmpPolicy policy, std::uint64_t seed) : rng_(seed) {
    EngineConfig cfg;
    cfg.max_orders = 1u << 16;
    cfg.max_levels = 4096;
    cfg.max_symbols = kSymbols;
    cfg.max_quantity = 5000;
    cfg.smp_policy = policy;
    eng_ = std::make_unique<Engine<Recorder>>(cfg, rec_e_);
    ref_ = std::make_unique<ReferenceMatcher<Recorder>>(cfg, rec_r_);
    for (SymbolIndex s = 0; s < kSymbols; ++s) {
      SymbolConfig sc;
      sc.name = itch::Symbol::from(s == 0 ? "AAA" : s == 1 ? "BBB" : "CCC");
      sc.min_price = kBase - 30;
      sc.max_price = kBase + 30;
      sc.max_levels_per_side = 128;
      eng_->add_symbol(s, sc);
      ref_->add_symbol(s, sc);
    }
  }

  // Runs n random requests; returns false (after reporting) at the first difference.
  bool run(int n) {
    for (int i = 0; i < n; ++i) {
      op_ = i;
      if (!step()) return false;
      if (i % kBookCheckEvery == 0 && !compare_books()) return false;
    }
    if (!compare_books()) return false;
    const EngineStats& a = eng_->stats();
    const EngineStats& b = ref_->stats();
    EXPECT_EQ(a.accepted, b.accepted);
    EXPECT_EQ(a.rejected, b.rejected);
    EXPECT_EQ(a.executions, b.executions);
    EXPECT_EQ(a.executed_shares, b.executed_shares);
    EXPECT_EQ(a.cancels, b.cancels);
    EXPECT_EQ(a.replaces, b.replaces);
    EXPECT_EQ(a.refreshes, b.refreshes);
    EXPECT_EQ(a.stops_triggered, b.stops_triggered);
    EXPECT_EQ(a.self_match_preventions, b.self_match_preventions);
    stats_ = a;
    return !::testing::Test::HasFailure();
  }
  [[nodiscard]] const EngineStats& stats() const { return stats_; }
  [[nodiscard]] std::uint64_t kinds(int k) const { return kinds_[k]; }

 private:
  struct Tracked {
    OrderRef e = 0;
    OrderRef r = 0;
    OwnerId owner = 0;
  };

  std::uint64_t rnd(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return rnd(100) < static_cast<std::uint64_t>(percent); }

  Price near_price(SymbolIndex s) {
    const Price last = eng_->last_trade(s);
    const Price mid = last != 0 ? last : kBase;
    Price p = mid + static_cast<Price>(rnd(21)) - 10;
    return std::clamp<Price>(p, kBase - 30, kBase + 30);
  }
  Qty qty() { return chance(10) ? 1 + static_cast<Qty>(rnd(2000)) : 1 + static_cast<Qty>(rnd(200)); }

  NewOrder random_order() {
    NewOrder o;
    o.symbol = static_cast<SymbolIndex>(rnd(kSymbols));
    o.side = chance(50) ? Side::kBuy : Side::kSell;
    o.owner = 1 + static_cast<OwnerId>(rnd(4));
    // Owners 1 and 3 are one firm (SMP group 1), owner 2 is group 2, owner 4 opts out (0).
    o.smp_group = o.owner == 4 ? 0 : o.owner == 3 ? 1 : o.owner;
    o.quantity = qty();
    o.price = near_price(o.symbol);
    o.user_ref = next_user_ref_++;
    const std::uint64_t k = rnd(100);
    if (k < 40) {  // plain DAY limit, some reserve or hidden
      if (chance(15)) o.display_quantity = 1 + static_cast<Qty>(rnd(60));
      else if (chance(10)) o.hidden = true;
    } else if (k < 50) {
      o.tif = TimeInForce::kIoc;
    } else if (k < 56) {
      o.tif = TimeInForce::kFok;
    } else if (k < 64) {
      o.tif = TimeInForce::kGtx;
      if (chance(20)) o.display_quantity = 1 + static_cast<Qty>(rnd(60));
    } else if (k < 70) {
      o.type = OrderType::kMarket;
      o.tif = chance(50) ? TimeInForce::kIoc : chance(50) ? TimeInForce::kDay : TimeInForce::kFok;
      if (chance(30)) o.min_quantity = 1 + static_cast<Qty>(rnd(o.quantity));
    } else if (k < 78) {
      o.min_quantity = 1 + static_cast<Qty>(rnd(o.quantity));
      o.tif = chance(50) ? TimeInForce::kDay : TimeInForce::kIoc;
      if (chance(20)) o.display_quantity = 1 + static_cast<Qty>(rnd(60));
    } else if (k < 90) {
      o.type = chance(50) ? OrderType::kStop : OrderType::kStopLimit;
      o.stop_price = near_price(o.symbol);
      o.tif = chance(70) ? TimeInForce::kDay : chance(50) ? TimeInForce::kIoc : TimeInForce::kFok;
      if (chance(15)) o.min_quantity = 1 + static_cast<Qty>(rnd(o.quantity));
      if (chance(15)) o.display_quantity = 1 + static_cast<Qty>(rnd(60));
    } else {  // invalid in some way (or, by chance, not)
      switch (rnd(8)) {
        case 0: o.quantity = 0; break;
        case 1: o.price = kBase + 31; break;
        case 2: o.symbol = kSymbols; break;
        case 3: o.min_quantity = o.quantity + 1; break;
        case 4: o.hidden = true; o.display_quantity = 5; break;
        case 5: o.tif = TimeInForce::kGtx; o.type = OrderType::kMarket; break;
        case 6: o.quantity = 5001; break;
        default: o.type = OrderType::kStop; o.stop_price = 0; break;
      }
    }
    return o;
  }

  // A tracked order, pruned lazily: dead ones are dropped, but sometimes still used (both must
  // reject them the same way).
  bool pick(Tracked& t, UserRef& uref) {
    while (!live_.empty()) {
      const std::size_t k = rnd(live_.size());
      uref = live_[k];
      t = tracked_[uref];
      if (eng_->find(t.e)) return true;
      live_[k] = live_.back();
      live_.pop_back();
      tracked_.erase(uref);
      if (chance(5)) return true;
    }
    return false;
  }

  bool step() {
    rec_e_.clear();
    rec_r_.clear();
    const std::uint64_t k = rnd(100);
    Tracked t;
    UserRef uref = 0;
    int kind = 0;
    if (k < 62 || !pick(t, uref)) {
      const NewOrder o = random_order();
      const SubmitResult a = eng_->submit(o);
      const SubmitResult b = ref_->submit(o);
      if (a.reason != b.reason) return report("submit result");
      kind = 0;
    } else if (k < 80) {
      const OwnerId owner = chance(3) ? t.owner + 1 : t.owner;
      if (eng_->cancel(owner, t.e) != ref_->cancel(owner, t.r)) return report("cancel result");
      kind = 1;
    } else if (k < 87) {
      const auto v = eng_->find(t.e);
      const Qty to = v ? static_cast<Qty>(rnd(v->leaves + 1)) : 1;
      if (eng_->cancel(t.owner, t.e, to) != ref_->cancel(t.owner, t.r, to)) return report("reduce result");
      kind = 2;
    } else {
      const auto v = eng_->find(t.e);
      ReplaceOrder re;
      re.owner = t.owner;
      re.new_user_ref = next_user_ref_++;
      re.quantity = v && chance(40) ? 1 + static_cast<Qty>(rnd(v->leaves)) : qty();
      re.price = v && chance(40) ? v->price : near_price(v ? v->symbol : 0);
      if (chance(2)) re.quantity = 0;
      ReplaceOrder rr = re;
      re.ref = t.e;
      rr.ref = t.r;
      const SubmitResult a = eng_->replace(re);
      const SubmitResult b = ref_->replace(rr);
      if (a.reason != b.reason) return report("replace result");
      kind = 3;
    }
    ++kinds_[kind];
    if (rec_e_.events.size() != rec_r_.events.size()) return report("event count");
    for (std::size_t i = 0; i < rec_e_.events.size(); ++i) {
      const Event ce = canonicalize(rec_e_.events[i], canon_e_);
      const Event cr = canonicalize(rec_r_.events[i], canon_r_);
      if (!(ce == cr)) return report("event " + std::to_string(i));
    }
    track();
    return true;
  }

  // Follows refs through accepts, replaces and refreshes (both sides, same positions).
  void track() {
    for (std::size_t i = 0; i < rec_e_.events.size(); ++i) {
      const Event& a = rec_e_.events[i];
      const Event& b = rec_r_.events[i];
      if (const auto* x = std::get_if<Accepted>(&a)) {
        tracked_[x->user_ref] = Tracked{x->ref, std::get<Accepted>(b).ref, x->owner};
        live_.push_back(x->user_ref);
      } else if (const auto* r = std::get_if<Replaced>(&a)) {
        tracked_.erase(r->old_user_ref);
        tracked_[r->user_ref] = Tracked{r->new_ref, std::get<Replaced>(b).new_ref, r->owner};
        live_.push_back(r->user_ref);
      } else if (const auto* f = std::get_if<Refreshed>(&a)) {
        tracked_[f->user_ref] = Tracked{f->new_ref, std::get<Refreshed>(b).new_ref, f->owner};
      }
    }
  }

  bool compare_books() {
    for (SymbolIndex s = 0; s < kSymbols; ++s) {
      std::vector<OrderView> a, b;
      eng_->for_each_resting(s, [&](const OrderView& v) { a.push_back(v); });
      ref_->for_each_resting(s, [&](const OrderView& v) { b.push_back(v); });
      eng_->for_each_stop(s, [&](const OrderView& v) { a.push_back(v); });
      ref_->for_each_stop(s, [&](const OrderView& v) { b.push_back(v); });
      if (a.size() != b.size()) return report_book(s, "order count");
      for (std::size_t i = 0; i < a.size(); ++i) {
        a[i].ref = canon_e_(a[i].ref);
        b[i].ref = canon_r_(b[i].ref);
        if (!(a[i] == b[i])) return report_book(s, "order " + std::to_string(i));
      }
      const BookDump da = eng_->dump(s);
      const BookDump db = ref_->dump(s);
      if (da.bids != db.bids || da.asks != db.asks || da.hidden_orders != db.hidden_orders ||
          da.hidden_shares != db.hidden_shares || da.held_stops != db.held_stops || da.last_trade != db.last_trade ||
          !(da.name == db.name))
        return report_book(s, "dump");
      // Invariants of the engine's own bookkeeping.
      eng_->for_each_resting(s, [&](const OrderView& v) {
        EXPECT_GT(v.leaves, 0u);
        if (!v.hidden) {
          EXPECT_GT(v.displayed, 0u);
        }
      });
      if (!da.bids.empty() && !da.asks.empty()) {
        EXPECT_LT(da.bids[0].price, da.asks[0].price) << "crossed book";
      }
    }
    return true;
  }

  bool report(const std::string& what) {
    ADD_FAILURE() << "op " << op_ << ": " << what << " differs\nengine:\n"
                  << describe(rec_e_.events) << "reference:\n"
                  << describe(rec_r_.events);
    return false;
  }
  bool report_book(SymbolIndex s, const std::string& what) {
    ADD_FAILURE() << "op " << op_ << ": book of symbol " << s << ": " << what << " differs";
    return false;
  }

  std::mt19937_64 rng_;
  Recorder rec_e_, rec_r_;
  RefCanon canon_e_, canon_r_;
  std::unique_ptr<Engine<Recorder>> eng_;
  std::unique_ptr<ReferenceMatcher<Recorder>> ref_;
  std::unordered_map<UserRef, Tracked> tracked_;
  std::vector<UserRef> live_;
  UserRef next_user_ref_ = 1;
  int op_ = 0;
  EngineStats stats_;
  std::uint64_t kinds_[4] = {};
};

class RandomizedAgainstReference : public ::testing::TestWithParam<SmpPolicy> {};

TEST_P(RandomizedAgainstReference, EveryEventAndBookMatch) {
  Differential d(GetParam(), 20261121 + static_cast<std::uint64_t>(GetParam()));
  ASSERT_TRUE(d.run(kOpsPerPolicy));
  // The mix really exercised what it claims to.
  const EngineStats& s = d.stats();
  std::printf("%d requests: %lu accepted, %lu rejected, %lu executions, %lu cancels, %lu replaces, %lu refreshes, "
              "%lu stops triggered, %lu self-match preventions\n",
              kOpsPerPolicy, static_cast<unsigned long>(s.accepted), static_cast<unsigned long>(s.rejected),
              static_cast<unsigned long>(s.executions), static_cast<unsigned long>(s.cancels),
              static_cast<unsigned long>(s.replaces), static_cast<unsigned long>(s.refreshes),
              static_cast<unsigned long>(s.stops_triggered), static_cast<unsigned long>(s.self_match_preventions));
  EXPECT_GT(s.executions, static_cast<std::uint64_t>(kOpsPerPolicy / 10));
  EXPECT_GT(s.refreshes, 100u);
  EXPECT_GT(s.stops_triggered, 100u);
  EXPECT_GT(s.self_match_preventions, 100u);
  EXPECT_GT(s.replaces, static_cast<std::uint64_t>(kOpsPerPolicy / 50));
  EXPECT_GT(s.rejected, 100u);
  EXPECT_GT(d.kinds(1), static_cast<std::uint64_t>(kOpsPerPolicy / 10));
  EXPECT_GT(d.kinds(2), static_cast<std::uint64_t>(kOpsPerPolicy / 40));
}

INSTANTIATE_TEST_SUITE_P(SmpPolicies, RandomizedAgainstReference,
                         ::testing::Values(SmpPolicy::kCancelResting, SmpPolicy::kCancelIncoming, SmpPolicy::kCancelBoth,
                                           SmpPolicy::kDecrement),
                         [](const ::testing::TestParamInfo<SmpPolicy>& p) {
                           switch (p.param) {
                             case SmpPolicy::kCancelResting: return std::string("CancelResting");
                             case SmpPolicy::kCancelIncoming: return std::string("CancelIncoming");
                             case SmpPolicy::kCancelBoth: return std::string("CancelBoth");
                             case SmpPolicy::kDecrement: return std::string("Decrement");
                           }
                           return std::string("Unknown");
                         });

}  // namespace
}  // namespace hft::match
