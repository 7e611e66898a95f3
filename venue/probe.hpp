#pragma once
// Wire-to-wire latency probe: the venue's view of how fast a client reacts to market data.
//
// At most one probe is live at a time. When one is due, the venue sends what it has buffered
// (so the probe's packet carries the probe alone), adds a small limit order on a reserved symbol
// (default "ZPROBE": its own R directory entry, never touched by the background flow; sides
// alternate), and sends that packet at once; the feed sink reads the clock right before the
// sendto. The first OUCH Enter Order on the probe's symbol from any user is the answer: its
// receive time (the TCP server's clock read when epoll reported the socket readable, the same
// point sockperf's kernel floor includes) minus the send time goes into an HdrHistogram-style
// histogram (ns). The answer is then handled like any order (pipeline/strategy/probe.hpp sends a
// crossing IOC of one share, which executes against the probe) and what is left of the probe is
// cancelled. A probe unanswered after timeout_ns is cancelled and counted. The next probe goes
// out interval_ns after the previous one ended.
#include <cstdint>

#include "core/histogram.hpp"
#include "venue/config.hpp"
#include "venue/feed.hpp"
#include "venue/listener.hpp"

namespace hft::venue {

struct ProbeCounters {
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t unanswerable = 0;  // the probe traded on entry (other interest on its symbol)
  std::uint64_t stray = 0;         // Enter Orders on the probe symbol with no probe waiting
};

class LatencyProbe {
 public:
  LatencyProbe(const ProbeConfig& config, std::uint16_t locate);

  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  [[nodiscard]] std::uint16_t locate() const noexcept { return locate_; }

  // Sends a probe when one is due, or cancels one unanswered for timeout_ns.
  void poll(VenueEngine& engine, ItchFeed& feed, VenueClock& clock, std::uint64_t now_ns) noexcept;
  // When poll() next has something to do (monotonic ns).
  [[nodiscard]] std::uint64_t next_deadline() const noexcept;
  // An Enter Order on the probe's symbol, before (`before`) and after the venue handled it.
  void on_enter(VenueEngine& engine, bool before, std::uint64_t now_ns) noexcept;
  // Cancels a live probe (end of day).
  void cancel(VenueEngine& engine) noexcept;
  void start(std::uint64_t now_ns) noexcept { next_send_ns_ = now_ns + config_.interval_ns; }

  // ---- engine events on the probe's order ----------------------------------------------------
  void on_book_added(const match::BookAdded& e) noexcept {
    live_ = true;
    ref_ = e.ref;
  }
  void on_gone() noexcept { live_ = false; }

  [[nodiscard]] const core::Histogram& histogram() const noexcept { return histogram_; }
  [[nodiscard]] const ProbeCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] bool live() const noexcept { return live_; }

 private:
  void finish(VenueEngine& engine, std::uint64_t now_ns) noexcept;

  ProbeConfig config_;
  std::uint16_t locate_;
  bool enabled_;
  core::Histogram histogram_;
  ProbeCounters counters_;
  std::uint64_t next_send_ns_ = 0;
  std::uint64_t sent_ns_ = 0;
  match::OrderRef ref_ = 0;
  match::UserRef sequence_ = 0;
  bool waiting_ = false;  // a probe was sent and has neither been answered nor timed out
  bool live_ = false;     // the probe order rests on the book
  bool buy_ = true;
};

}  // namespace hft::venue
