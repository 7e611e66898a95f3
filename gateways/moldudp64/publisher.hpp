#pragma once
// MoldUDP64 publisher: the venue side of the downstream feed (../shared/specs/moldudp64-1.0.txt;
// PROTOCOLS.md §2.2).
//
// Publisher<Sink> packs messages (any byte strings that fit one packet: max_payload - 22 bytes,
// so at most 65,485 with the largest IPv4 UDP payload; a longer one is refused, never sent
// split) into downstream packets no larger than a payload budget, numbers them (the first message of a session is 1 unless
// configured otherwise), and hands each finished packet to a sink chosen at compile time:
//
//   UdpSink                 sendto() a destination (unicast or multicast group)
//   CaptureSink<UdpSink>    the same, and every published message appended to a BinaryFILE
//   (tests)                 any type with `bool send(const PacketHeader&, std::span<const uint8_t>) noexcept`
//
// A packet goes out when the next message would not fit, on flush(), or from poll(now) when the
// first buffered message has waited max_delay_ns. When nothing has been sent for
// heartbeat_interval_ns, poll() sends a heartbeat (count 0, sequence = next). end_session()
// flushes and sends the first end-of-session packet (count 0xFFFF); poll() sends the rest, one
// per heartbeat interval, in place of heartbeats (spec p.6: "for a short while"). The caller
// passes the time to every call; the publisher never reads a clock.
//
// Every packet is also appended, message by message, to an optional RetransmitStore, so the
// re-request server can answer for it: "published" means handed to the sink, whether or not the
// sendto succeeded (a failed send is a gap that receivers recover through the server).
//
// Hot path: publish()/claim()+commit() copy bytes into a pre-allocated packet buffer; the only
// syscall is the sink's sendto when a packet is full or due. Not thread-safe: one venue thread.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/config.hpp"
#include "gateways/moldudp64/packet.hpp"
#include "gateways/moldudp64/retransmit_store.hpp"
#include "net/socket.hpp"

namespace hft::mold {

// IPv4: 65,535 total length - 20 IP header - 8 UDP header.
inline constexpr std::size_t kMaxUdpPayload = 65507;
// Message Length is a u16 (MoldUDP64 1.00 p.6).
inline constexpr std::size_t kMaxMessageLength = 0xFFFF;
// Message Count 0xFFFF means end of session (p.5), so a packet carries at most 0xFFFE.
inline constexpr std::size_t kMaxMessagesPerPacket = 0xFFFE;
inline constexpr std::size_t kBlockHeaderSize = 2;

// Writes one downstream packet into a caller-owned buffer: header, then message blocks, never
// past `capacity`. Shared by the publisher and the re-request server.
class PacketBuilder {
 public:
  PacketBuilder() noexcept = default;
  PacketBuilder(std::uint8_t* buffer, std::size_t capacity) noexcept : buf_(buffer), capacity_(capacity) {}

  void begin(const SessionId& session, std::uint64_t sequence) noexcept {
    header_.session = session;
    header_.sequence = sequence;
    header_.count = 0;
    size_ = kHeaderSize;
  }
  // Whether a message of `len` bytes fits after the ones already added.
  [[nodiscard]] bool fits(std::size_t len) const noexcept {
    const std::size_t room = capacity_ - size_;
    return header_.count < kMaxMessagesPerPacket && room >= kBlockHeaderSize && len <= room - kBlockHeaderSize;
  }
  // Where the next message's bytes go (after its length field); valid for up to the `len`
  // that fits() accepted.
  [[nodiscard]] std::uint8_t* next_data() noexcept { return buf_ + size_ + kBlockHeaderSize; }
  // Adds the message written at next_data().
  void commit(std::size_t len) noexcept {
    wire::store_be16(buf_ + size_, static_cast<std::uint16_t>(len));
    size_ += kBlockHeaderSize + len;
    ++header_.count;
  }
  void add(const std::uint8_t* msg, std::size_t len) noexcept {
    if (len != 0) std::memcpy(next_data(), msg, len);
    commit(len);
  }
  // Writes the header and returns the whole packet.
  std::span<const std::uint8_t> finish() noexcept {
    header_.write(buf_);
    return {buf_, size_};
  }
  // A packet with no blocks: heartbeat (count 0) or end of session (0xFFFF).
  std::span<const std::uint8_t> control(const SessionId& session, std::uint64_t sequence, std::uint16_t count) noexcept {
    begin(session, sequence);
    header_.count = count;
    return finish();
  }

  [[nodiscard]] const PacketHeader& header() const noexcept { return header_; }
  [[nodiscard]] std::uint16_t count() const noexcept { return header_.count; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::uint8_t* buf_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = kHeaderSize;
  PacketHeader header_;
};

template <class S>
concept PacketSink = requires(S& s, const PacketHeader& h, std::span<const std::uint8_t> packet) {
  // True when the packet was handed to the network (or wherever the sink puts it).
  { s.send(h, packet) } noexcept -> std::same_as<bool>;
};

struct PublisherConfig {
  SessionId session = SessionId::from("SESSION001");
  // UDP payload budget for every packet, header included: 1,472 = 1,500-byte Ethernet MTU - 20
  // IPv4 - 8 UDP (the size of a full NASDAQ packet). 22..65,507.
  std::size_t max_payload = kMaxPayload;
  // How long the first buffered message may wait for more before poll() sends the packet.
  // 0: the next poll() sends it; messages published between two polls share packets.
  std::uint64_t max_delay_ns = 0;
  // Idle time after which poll() sends a heartbeat; "typically ... once per second" (p.6).
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;
  // End-of-session packets to send, one per heartbeat interval, before the publisher is done.
  std::uint32_t end_of_session_packets = 3;
  // Sequence number of the first message (a venue restarted mid-session continues its count).
  std::uint64_t first_sequence = 1;

  // Throws std::invalid_argument naming the field at fault.
  void validate() const;
};

// Reads a publisher's settings from a TOML table (every key optional; errors name file, line and
// key): session (1-10 printable ASCII characters), max_payload (bytes), max_delay_us,
// heartbeat_interval_ms, end_of_session_packets, first_sequence.
PublisherConfig parse_publisher_config(const core::ConfigSection& section);
// The MoldUDP64 Session field: 1-10 printable ASCII characters, space-padded (spec p.4: ANUM).
SessionId parse_session(const core::ConfigSection& section, std::string_view key, std::string_view fallback);

enum class PublishResult : std::uint8_t {
  kOk,
  kTooLarge,       // longer than max_payload - 22 (or 65,535): cannot be carried; nothing sent
  kSessionEnded,   // after end_session()
};

struct PublisherStats {
  std::uint64_t packets = 0;            // every packet handed to the sink
  std::uint64_t message_packets = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t end_of_session_packets = 0;
  std::uint64_t messages = 0;           // messages in packets sent
  std::uint64_t bytes = 0;              // UDP payload bytes of every packet
  std::uint64_t send_errors = 0;        // sink returned false (EAGAIN, ENOBUFS, ...): never fatal
  std::uint64_t rejected_too_large = 0;
  std::uint64_t rejected_after_end = 0;
  std::uint64_t abandoned_claims = 0;   // claim() not committed before the next call
  std::uint64_t flushes_full = 0;       // the next message would not fit
  std::uint64_t flushes_timer = 0;      // max_delay_ns passed (poll)
  std::uint64_t flushes_explicit = 0;   // flush() or end_session()
};

template <PacketSink Sink>
class Publisher {
 public:
  // Validates the config (throws std::invalid_argument) and allocates the packet buffer. `store`
  // (optional, not owned) receives every published message; it must outlive the publisher.
  Publisher(const PublisherConfig& config, Sink sink, RetransmitStore* store = nullptr)
      : config_((config.validate(), config)),
        sink_(std::move(sink)),
        store_(store),
        buffer_(std::make_unique<std::uint8_t[]>(config.max_payload)),
        builder_(buffer_.get(), config.max_payload),
        max_message_(std::min(kMaxMessageLength, config.max_payload - kHeaderSize - kBlockHeaderSize)),
        next_sequence_(config.first_sequence) {
    // Until the first packet, the server must place the session's start where this publisher
    // will begin (a venue restarted mid-session continues at first_sequence).
    if (store_ != nullptr && store_->empty()) store_->reset(next_sequence_);
  }

  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Queues one message; sends the current packet first when the message would not fit.
  PublishResult publish(const std::uint8_t* msg, std::size_t len, std::uint64_t now_ns) noexcept {
    std::uint8_t* out = nullptr;
    const PublishResult r = claim(len, now_ns, out);
    if (r != PublishResult::kOk) return r;
    if (len != 0) std::memcpy(out, msg, len);
    commit(len);
    return PublishResult::kOk;
  }
  PublishResult publish(std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept {
    return publish(msg.data(), msg.size(), now_ns);
  }

  // Zero-copy publishing: reserves room for a message of up to `max_len` bytes in the current
  // packet and sets `out` to where to write it (e.g. with itch::encode::*). commit() publishes
  // it; any other call in between (another claim() included) abandons the claim, counted.
  PublishResult claim(std::size_t max_len, std::uint64_t now_ns, std::uint8_t*& out) noexcept {
    now_ns_ = now_ns;
    abandon_claim();
    if (state_ != State::kActive) {
      ++stats_.rejected_after_end;
      return PublishResult::kSessionEnded;
    }
    if (max_len > max_message_) {
      ++stats_.rejected_too_large;
      return PublishResult::kTooLarge;
    }
    if (!builder_.fits(max_len)) {
      ++stats_.flushes_full;
      send_buffered();
    }
    if (builder_.count() == 0) {
      builder_.begin(config_.session, next_sequence_);
      first_buffered_ns_ = now_ns;
    }
    claimed_ = max_len;
    out = builder_.next_data();
    return PublishResult::kOk;
  }
  // Publishes the claimed message with its actual length (at most the claimed one).
  void commit(std::size_t len) noexcept {
    if (claimed_ == kNoClaim) return;
    builder_.commit(std::min(len, claimed_));
    claimed_ = kNoClaim;
    ++next_sequence_;
  }

  // Sends the buffered messages now. Returns whether there were any.
  bool flush() noexcept {
    abandon_claim();
    if (builder_.count() == 0) return false;
    ++stats_.flushes_explicit;
    send_buffered();
    return true;
  }

  // The timer duties: sends the buffered packet once max_delay_ns has passed since its first
  // message, a heartbeat when idle for heartbeat_interval_ns (and at once on the first call, so
  // receivers learn the session before the first message), and the remaining end-of-session
  // packets. Returns the number of packets sent (0 or 1).
  int poll(std::uint64_t now_ns) noexcept {
    now_ns_ = now_ns;
    abandon_claim();
    if (builder_.count() > 0) {
      if (elapsed(now_ns, first_buffered_ns_) < config_.max_delay_ns) return 0;
      ++stats_.flushes_timer;
      send_buffered();
      return 1;
    }
    switch (state_) {
      case State::kActive:
        if (stats_.packets != 0 && elapsed(now_ns, last_send_ns_) < config_.heartbeat_interval_ns) return 0;
        send_control(kHeartbeatCount);
        ++stats_.heartbeats;
        return 1;
      case State::kEnding:
        if (elapsed(now_ns, last_send_ns_) < config_.heartbeat_interval_ns) return 0;
        send_end_of_session();
        return 1;
      case State::kEnded:
        break;
    }
    return 0;
  }

  // Ends the session: sends what is buffered and the first end-of-session packet. Later
  // publish() calls are refused; poll() sends the remaining end-of-session packets.
  void end_session(std::uint64_t now_ns) noexcept {
    now_ns_ = now_ns;
    if (state_ != State::kActive) return;
    flush();
    state_ = State::kEnding;
    send_end_of_session();
  }

  // Sequence number the next published message gets (= the one heartbeats announce).
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  // Messages waiting in the current packet.
  [[nodiscard]] std::size_t buffered() const noexcept { return builder_.count(); }
  [[nodiscard]] bool ending() const noexcept { return state_ != State::kActive; }
  // All end-of-session packets sent: the venue may stop (and its re-request server with it).
  [[nodiscard]] bool finished() const noexcept { return state_ == State::kEnded; }
  [[nodiscard]] std::size_t max_message_length() const noexcept { return max_message_; }
  [[nodiscard]] const PublisherStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const PublisherConfig& config() const noexcept { return config_; }
  [[nodiscard]] Sink& sink() noexcept { return sink_; }
  [[nodiscard]] const Sink& sink() const noexcept { return sink_; }

 private:
  enum class State : std::uint8_t { kActive, kEnding, kEnded };
  static constexpr std::size_t kNoClaim = ~std::size_t{0};

  // A claim left open across another call would have its bytes sent as part of nothing (or
  // overwritten): it is dropped and counted, and the late commit() is ignored.
  void abandon_claim() noexcept {
    if (claimed_ == kNoClaim) return;
    claimed_ = kNoClaim;
    ++stats_.abandoned_claims;
  }

  // A clock that steps back (or a caller that mixes clocks) must not look like a huge delay.
  static std::uint64_t elapsed(std::uint64_t now, std::uint64_t since) noexcept { return now > since ? now - since : 0; }

  void send_buffered() noexcept {
    const std::span<const std::uint8_t> packet = builder_.finish();
    const PacketHeader& h = builder_.header();
    if (store_ != nullptr) {
      MessageBlocks blocks(packet.data(), packet.size(), h.count);
      const std::uint8_t* msg = nullptr;
      std::size_t len = 0;
      for (std::uint64_t seq = h.sequence; blocks.next(msg, len); ++seq) store_->append(seq, msg, len);
    }
    ++stats_.message_packets;
    stats_.messages += h.count;
    emit(h, packet);
    builder_.begin(config_.session, next_sequence_);
  }
  void send_control(std::uint16_t count) noexcept {
    const std::span<const std::uint8_t> packet = builder_.control(config_.session, next_sequence_, count);
    emit(builder_.header(), packet);
    builder_.begin(config_.session, next_sequence_);
  }
  void send_end_of_session() noexcept {
    send_control(kEndOfSessionCount);
    ++stats_.end_of_session_packets;
    if (stats_.end_of_session_packets >= config_.end_of_session_packets) state_ = State::kEnded;
  }
  void emit(const PacketHeader& h, std::span<const std::uint8_t> packet) noexcept {
    ++stats_.packets;
    stats_.bytes += packet.size();
    if (!sink_.send(h, packet)) ++stats_.send_errors;
    last_send_ns_ = now_ns_;
  }

  PublisherConfig config_;
  Sink sink_;
  RetransmitStore* store_;
  std::unique_ptr<std::uint8_t[]> buffer_;
  PacketBuilder builder_;
  std::size_t max_message_;
  std::uint64_t next_sequence_;
  std::uint64_t now_ns_ = 0;
  std::uint64_t first_buffered_ns_ = 0;
  std::uint64_t last_send_ns_ = 0;
  std::size_t claimed_ = kNoClaim;
  State state_ = State::kActive;
  PublisherStats stats_;
};

// ---------------------------------------------------------------------------------------------
// Sinks

struct UdpSinkStats {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t would_block = 0;  // EAGAIN / ENOBUFS: the socket buffer or the qdisc was full
  std::uint64_t errors = 0;       // anything else (ENETUNREACH, EPERM from a firewall, ...)
  int last_errno = 0;
};

// Sends each packet to one destination (unicast address or multicast group) with sendto.
class UdpSink {
 public:
  // Opens a sender socket with `options` (multicast TTL, loop, interface). Throws
  // std::system_error on failure.
  explicit UdpSink(const net::Endpoint& destination, const net::UdpOptions& options = {});
  // Uses an existing socket.
  UdpSink(net::Fd fd, const net::Endpoint& destination) noexcept;

  bool send(const PacketHeader& header, std::span<const std::uint8_t> packet) noexcept;

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const sockaddr_in& destination() const noexcept { return destination_; }
  [[nodiscard]] const UdpSinkStats& stats() const noexcept { return stats_; }

 private:
  net::Fd fd_;
  sockaddr_in destination_{};
  UdpSinkStats stats_;
};

struct BinaryFileStats {
  std::uint64_t bytes = 0;         // written to the file (after buffering)
  std::uint64_t write_errors = 0;  // failed writes; the data of a failed write is lost
  int last_errno = 0;
};

// Appends BinaryFILE records (u16 BE length + message; ../shared/specs/nasdaq-binaryfile-1.0.txt)
// through a user-space buffer, so the file costs a write() per buffer, not per message.
class BinaryFileWriter {
 public:
  // Creates or truncates `path`. Throws std::system_error naming the path.
  explicit BinaryFileWriter(const std::string& path, std::size_t buffer_bytes = std::size_t{1} << 20);
  ~BinaryFileWriter();
  BinaryFileWriter(BinaryFileWriter&&) noexcept = default;
  BinaryFileWriter& operator=(BinaryFileWriter&& other) noexcept;
  BinaryFileWriter(const BinaryFileWriter&) = delete;
  BinaryFileWriter& operator=(const BinaryFileWriter&) = delete;

  // Bytes that are already BinaryFILE records: MoldUDP64 message blocks have the same framing.
  bool append_records(const std::uint8_t* records, std::size_t len) noexcept;
  // One message (len <= 65,535).
  bool append_message(const std::uint8_t* msg, std::size_t len) noexcept;
  // The zero-length message that marks the end of the session (BinaryFILE 1.00 §1.2).
  bool append_end_of_session() noexcept { return append_message(nullptr, 0); }
  // Writes the buffer to the file.
  bool flush() noexcept;

  [[nodiscard]] const BinaryFileStats& stats() const noexcept { return stats_; }
  [[nodiscard]] bool ok() const noexcept { return stats_.write_errors == 0; }

 private:
  bool write_all(const std::uint8_t* p, std::size_t len) noexcept;

  net::Fd fd_;
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  BinaryFileStats stats_;
};

// Sends through `Inner` and appends every published message, in sequence order, to a
// BinaryFILE (what `hft-exchange --capture FILE` writes). The file buffer is written out on
// heartbeats (the publisher is idle then) and at the end of the session, which also appends the
// zero-length end-of-session record unless told not to. A zero-length *message* would read back
// as that marker: ITCH never publishes one.
template <PacketSink Inner>
class CaptureSink {
 public:
  CaptureSink(Inner inner, BinaryFileWriter writer, bool write_end_marker = true) noexcept
      : inner_(std::move(inner)), writer_(std::move(writer)), write_end_marker_(write_end_marker) {}

  bool send(const PacketHeader& header, std::span<const std::uint8_t> packet) noexcept {
    switch (header.kind()) {
      case PacketKind::kMessages:
        writer_.append_records(packet.data() + kHeaderSize, packet.size() - kHeaderSize);
        captured_ += header.count;
        break;
      case PacketKind::kHeartbeat:
        writer_.flush();
        break;
      case PacketKind::kEndOfSession:
        if (write_end_marker_ && !end_marker_written_) {
          writer_.append_end_of_session();
          end_marker_written_ = true;
        }
        writer_.flush();
        break;
    }
    return inner_.send(header, packet);
  }

  [[nodiscard]] std::uint64_t captured_messages() const noexcept { return captured_; }
  [[nodiscard]] Inner& inner() noexcept { return inner_; }
  [[nodiscard]] BinaryFileWriter& writer() noexcept { return writer_; }

 private:
  Inner inner_;
  BinaryFileWriter writer_;
  bool write_end_marker_;
  bool end_marker_written_ = false;
  std::uint64_t captured_ = 0;
};

// Discards packets: a publisher with only a capture file, or a benchmark of the packing alone.
struct NullSink {
  bool send(const PacketHeader&, std::span<const std::uint8_t>) noexcept { return true; }
};

}  // namespace hft::mold
