#include "venue/probe.hpp"

#include "venue/venue.hpp"  // the listener's inline members, which the engine calls

namespace hft::venue {

// 1 ns .. 60 s at 3 significant digits (0.1% resolution): HdrHistogram's usual latency setting
// (220 KiB of counters; a disabled probe keeps a token one).
LatencyProbe::LatencyProbe(const ProbeConfig& config, std::uint16_t locate)
    : config_(config),
      locate_(locate),
      enabled_(config.enabled()),
      histogram_(1, enabled_ ? 60'000'000'000ull : 2, enabled_ ? 3 : 1) {}

std::uint64_t LatencyProbe::next_deadline() const noexcept {
  if (!enabled_) return ~std::uint64_t{0};
  return waiting_ ? sent_ns_ + config_.timeout_ns : next_send_ns_;
}

void LatencyProbe::poll(VenueEngine& engine, ItchFeed& feed, VenueClock& clock, std::uint64_t now_ns) noexcept {
  if (!enabled_) return;
  if (waiting_) {
    if (now_ns - sent_ns_ < config_.timeout_ns) return;
    ++counters_.timeouts;
    clock.set(now_ns);
    finish(engine, now_ns);
    return;
  }
  if (now_ns < next_send_ns_) return;
  feed.flush();  // what is buffered goes first, in its own packet
  clock.tick();
  match::NewOrder req;
  req.symbol = locate_;
  req.side = buy_ ? match::Side::kBuy : match::Side::kSell;
  req.type = match::OrderType::kLimit;
  req.tif = match::TimeInForce::kDay;
  req.quantity = config_.quantity;
  req.price = config_.price;
  req.owner = kProbeOwner;
  req.user_ref = ++sequence_;
  buy_ = !buy_;
  live_ = false;
  engine.submit(req);
  if (!live_) {  // it traded with other interest on the symbol: not a probe anyone can answer
    ++counters_.unanswerable;
    next_send_ns_ = now_ns + config_.interval_ns;
    return;
  }
  feed.flush();
  sent_ns_ = feed.sink().last_send_ns();
  waiting_ = true;
  ++counters_.sent;
}

void LatencyProbe::on_enter(VenueEngine& engine, bool before, std::uint64_t now_ns) noexcept {
  if (!enabled_) return;
  if (before) {
    if (!waiting_) {
      ++counters_.stray;
      return;
    }
    histogram_.record(now_ns > sent_ns_ ? now_ns - sent_ns_ : 0);
    ++counters_.answered;
    return;
  }
  if (waiting_) finish(engine, now_ns);  // after the answer was handled: take the rest of the probe off
}

void LatencyProbe::finish(VenueEngine& engine, std::uint64_t now_ns) noexcept {
  waiting_ = false;
  if (live_) engine.cancel(kProbeOwner, ref_, 0);
  live_ = false;
  next_send_ns_ = now_ns + config_.interval_ns;
}

void LatencyProbe::cancel(VenueEngine& engine) noexcept {
  if (live_) engine.cancel(kProbeOwner, ref_, 0);
  live_ = false;
  waiting_ = false;
}

}  // namespace hft::venue
