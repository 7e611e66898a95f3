#pragma once
// The venue's market-data side: ITCH 5.0 messages encoded in place into MoldUDP64 packets
// (gateways/moldudp64/publisher.hpp), kept in a retransmission store for the re-request server,
// optionally copied to a BinaryFILE capture, and sent with one sendto per packet.
//
// Timestamps are nanoseconds since midnight from the venue clock (VenueClock): the matching
// engine's events carry no time, so the venue sets the clock once per request and every message
// that request causes carries that instant (ITCH 5.0 §1.2: Timestamp = ns since midnight).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "gateways/itch/encoder.hpp"
#include "gateways/itch/messages.hpp"
#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/retransmit_store.hpp"
#include "venue/config.hpp"

namespace hft::venue {

// Monotonic time and its ITCH/OUCH form (ns since midnight).
class VenueClock {
 public:
  // `start_ns`: ns since midnight at construction; none: the wall clock's local time of day.
  explicit VenueClock(std::optional<std::uint64_t> start_ns = std::nullopt);
  // Reads the clock (CLOCK_MONOTONIC); the time every message of the current request carries.
  std::uint64_t tick() noexcept { return set(core::monotonic_ns()); }
  // A time read elsewhere (the TCP server's, the loop's). Never backwards: requests are served in
  // an order that does not always follow when their times were read (a pass reads the time once,
  // then serves sessions, the probe and the flow), and ITCH timestamps must not decrease.
  std::uint64_t set(std::uint64_t monotonic_ns) noexcept {
    if (monotonic_ns > now_) now_ = monotonic_ns;
    return now_;
  }
  [[nodiscard]] std::uint64_t now() const noexcept { return now_; }
  // Nanoseconds since midnight (ITCH's 48-bit Timestamp, OUCH's 8-byte one).
  [[nodiscard]] std::uint64_t since_midnight() const noexcept { return now_ + offset_; }
  [[nodiscard]] std::uint64_t since_midnight(std::uint64_t monotonic_ns) const noexcept { return monotonic_ns + offset_; }

 private:
  std::uint64_t offset_ = 0;  // since midnight - monotonic
  std::uint64_t now_ = 0;
};

// Hands each packet to the capture file (if any), then to the network. The time is read right
// before the sendto so that the latency probe measures from the moment its packet leaves.
class FeedSink {
 public:
  // `drop_every` N > 0: every Nth packet that carries messages is kept from the network on
  // purpose (a lossy link for gap-recovery demos and tests). It is still stored for re-requests,
  // captured and tapped, so receivers can recover it and the capture stays whole.
  FeedSink(const net::Endpoint& destination, const net::UdpOptions& options, const std::string& capture_path,
           std::uint32_t drop_every = 0);

  bool send(const mold::PacketHeader& header, std::span<const std::uint8_t> packet) noexcept {
    if (capture_) capture_->send(header, packet);
    if (tap_ != nullptr) tap_(tap_context_, header, packet);
    last_send_ns_ = core::monotonic_ns();
    if (drop_every_ != 0 && header.kind() == mold::PacketKind::kMessages &&
        ++since_drop_ == drop_every_) [[unlikely]] {
      since_drop_ = 0;
      ++dropped_on_purpose_;
      return true;
    }
    if (burst_left_ != 0 && header.kind() == mold::PacketKind::kMessages) [[unlikely]] {
      if (burst_after_ != 0) {
        --burst_after_;
      } else {
        --burst_left_;
        ++dropped_on_purpose_;
        return true;
      }
    }
    return udp_.send(header, packet);
  }
  [[nodiscard]] std::uint64_t dropped_on_purpose() const noexcept { return dropped_on_purpose_; }
  // One burst of `count` consecutive message packets kept off the wire after the first `after`
  // ([feed] drop_burst / drop_burst_after): with a burst longer than the re-request server's
  // window, receivers lose data for good (snapshot-recovery tests).
  void set_drop_burst(std::uint64_t after, std::uint64_t count) noexcept {
    burst_after_ = after;
    burst_left_ = count;
  }

  // Another reader of every packet (the venue's own book, built from what it publishes). Called
  // once per packet, before the sendto.
  using Tap = void (*)(void* context, const mold::PacketHeader&, std::span<const std::uint8_t>) noexcept;
  void set_tap(Tap tap, void* context) noexcept {
    tap_ = tap;
    tap_context_ = context;
  }

  [[nodiscard]] std::uint64_t last_send_ns() const noexcept { return last_send_ns_; }
  [[nodiscard]] const mold::UdpSinkStats& udp_stats() const noexcept { return udp_.stats(); }
  [[nodiscard]] bool capturing() const noexcept { return capture_.has_value(); }
  [[nodiscard]] std::uint64_t captured_messages() const noexcept { return capture_ ? capture_->captured_messages() : 0; }
  [[nodiscard]] const mold::BinaryFileStats* capture_stats() noexcept {
    return capture_ ? &capture_->writer().stats() : nullptr;
  }
  // Writes the capture buffer out (the sink does it on heartbeats and at the end of the session).
  void flush_capture() noexcept {
    if (capture_) capture_->writer().flush();
  }

 private:
  mold::UdpSink udp_;
  std::optional<mold::CaptureSink<mold::NullSink>> capture_;
  Tap tap_ = nullptr;
  void* tap_context_ = nullptr;
  std::uint64_t last_send_ns_ = 0;
  std::uint32_t drop_every_ = 0;
  std::uint32_t since_drop_ = 0;
  std::uint64_t dropped_on_purpose_ = 0;
  std::uint64_t burst_after_ = 0;
  std::uint64_t burst_left_ = 0;
};

struct FeedCounters {
  std::array<std::uint64_t, 128> by_type{};  // messages published, by ITCH type byte
  std::uint64_t messages = 0;
  std::uint64_t refused = 0;  // the publisher refused a message (after the end of session)
};

class ItchFeed {
 public:
  // `symbols[i]` is the symbol of stock locate i + 1.
  ItchFeed(const VenueConfig& config, VenueClock& clock, std::vector<itch::Symbol> symbols);

  // ---- messages (hot path: encoded in place into the current packet) ----------------------
  void system_event(char code) noexcept;
  void stock_directory(std::uint16_t locate, bool test_issue) noexcept;
  void trading_action(std::uint16_t locate, char state) noexcept;
  void add_order(std::uint16_t locate, std::uint64_t ref, char side, std::uint32_t shares, std::uint32_t price,
                 const char* mpid) noexcept;  // mpid: 4 characters for 'F', nullptr for 'A'
  void executed(std::uint16_t locate, std::uint64_t ref, std::uint32_t shares, std::uint64_t match) noexcept;
  void cancel(std::uint16_t locate, std::uint64_t ref, std::uint32_t shares) noexcept;
  void remove(std::uint16_t locate, std::uint64_t ref) noexcept;
  void replace(std::uint16_t locate, std::uint64_t old_ref, std::uint64_t new_ref, std::uint32_t shares,
               std::uint32_t price) noexcept;
  void trade(std::uint16_t locate, std::uint32_t shares, std::uint32_t price, std::uint64_t match) noexcept;
  void cross_trade(std::uint16_t locate, std::uint64_t shares, std::uint32_t price, std::uint64_t match,
                   char cross_type) noexcept;

  // ---- transport ---------------------------------------------------------------------------
  // Sends what is buffered now; returns whether anything was.
  bool flush() noexcept { return publisher_.flush(); }
  // Heartbeats when idle, and the remaining end-of-session packets after end_session().
  int poll(std::uint64_t now_ns) noexcept { return publisher_.poll(now_ns); }
  void end_session(std::uint64_t now_ns) noexcept { publisher_.end_session(now_ns); }
  [[nodiscard]] bool finished() const noexcept { return publisher_.finished(); }

  [[nodiscard]] const mold::RetransmitStore& store() const noexcept { return store_; }
  [[nodiscard]] const mold::PublisherStats& publisher_stats() const noexcept { return publisher_.stats(); }
  [[nodiscard]] const FeedCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t messages() const noexcept { return counters_.messages; }
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return publisher_.next_sequence(); }
  [[nodiscard]] FeedSink& sink() noexcept { return publisher_.sink(); }
  [[nodiscard]] const FeedSink& sink() const noexcept { return publisher_.sink(); }
  [[nodiscard]] const itch::Symbol& symbol(std::uint16_t locate) const noexcept { return symbols_[locate - 1]; }
  [[nodiscard]] std::size_t symbol_count() const noexcept { return symbols_.size(); }
  // The day as published so far (GLIMPSE snapshots repeat it): the last System Event code (0:
  // none yet), each locate's Stock Directory fields and last Trading Action state (0: none yet).
  [[nodiscard]] char last_system_event() const noexcept { return last_system_event_; }
  [[nodiscard]] char trading_state(std::uint16_t locate) const noexcept { return trading_states_[locate - 1]; }
  [[nodiscard]] bool directory_published(std::uint16_t locate) const noexcept { return directory_test_[locate - 1] != 0; }
  [[nodiscard]] itch::StockDirectoryFields directory_fields(std::uint16_t locate) const noexcept {
    return directory(locate, directory_test_[locate - 1] == 'T');
  }

 private:
  // Room for a message of `type` in the current packet (nullptr, counted, once the session ended).
  std::uint8_t* claim(char type) noexcept {
    std::uint8_t* out = nullptr;
    if (publisher_.claim(itch::kMessageLength[static_cast<unsigned char>(type)], clock_.now(), out) !=
        mold::PublishResult::kOk) [[unlikely]] {
      ++counters_.refused;
      return nullptr;
    }
    return out;
  }
  void commit(char type, std::size_t len) noexcept {
    publisher_.commit(len);
    ++counters_.messages;
    ++counters_.by_type[static_cast<unsigned char>(type) & 0x7f];
  }
  [[nodiscard]] itch::MessageHeader header(std::uint16_t locate) const noexcept {
    return itch::MessageHeader{locate, 0, clock_.since_midnight()};
  }

  [[nodiscard]] itch::StockDirectoryFields directory(std::uint16_t locate, bool test_issue) const noexcept;

  VenueClock& clock_;
  std::vector<itch::Symbol> symbols_;
  std::vector<char> trading_states_;
  std::vector<char> directory_test_;  // 0: not published; 'T' test issue; 'P' production
  char last_system_event_ = 0;
  mold::RetransmitStore store_;
  mold::Publisher<FeedSink> publisher_;
  FeedCounters counters_;
};

}  // namespace hft::venue
