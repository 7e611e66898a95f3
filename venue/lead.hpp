#pragma once
// The lead channel (issue 14): two hft-exchange instances trading the same symbols with
// correlated prices and a lead-lag. The leader (`--lead-listen HOST:PORT`) streams every change
// of its background flow's fair values over TCP; a follower (`--follow HOST:PORT --lag-ms L
// --follow-noise-bps N`) sets each symbol's fair value to the leader's value L ms after it
// arrived, plus noise, so its makers and takers trade around a lagged copy of the leader's price
// and one venue's bid rises above the other's ask for a while after each move.
//
// Records: 32 bytes each, integers big-endian (docs/venue.md, "Lead channel"):
//
//   'H' hello, first on a connection:
//     0 type 'H' | 1 version (1) | 2-3 zero | 4-11 venue name (space padded) | 12-15 MPID
//     16-23 time (ns since the Unix epoch) | 24-27 symbols (u32) | 28-31 zero
//   'V' fair value:
//     0 type 'V' | 1 zero | 2-3 zero | 4-11 symbol (space padded, as ITCH) | 12-19 fair value
//     (i64, 1/10,000 $, 1..kMaxPrice) | 20-27 time of the change (ns since the Unix epoch)
//     28-31 sequence (u32, 1, 2, ... per connection; a gap = records dropped for a slow follower)
//
// After the hello the leader sends every symbol's current value (a snapshot), then each change.
// The leader never blocks on a follower: each follower has a bounded buffer; when it is full,
// records are dropped and counted, and once the follower has drained it, it gets a new snapshot.
// The channel is one-way (a follower sends nothing; what it sends is discarded).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/itch/messages.hpp"
#include "net/socket.hpp"
#include "venue/matching/types.hpp"

namespace hft::venue {

inline constexpr std::size_t kLeadRecordSize = 32;
inline constexpr std::uint8_t kLeadVersion = 1;

struct LeadRecord {
  char type = 'V';                  // 'H' or 'V'
  itch::Symbol symbol;              // 'V': the symbol; 'H': the venue's name
  std::array<char, 4> mpid{};       // 'H'
  std::int64_t fair = 0;            // 'V'
  std::uint64_t time_ns = 0;        // ns since the Unix epoch
  std::uint32_t count = 0;          // 'V': sequence; 'H': symbols
};

// Encodes one record into 32 bytes.
void encode_lead(const LeadRecord& r, std::uint8_t* out) noexcept;

enum class LeadError : std::uint8_t { kNone, kBadType, kBadVersion, kBadReserved, kBadSymbol, kBadPrice, kNoHello };
[[nodiscard]] const char* to_string(LeadError e) noexcept;

// The follower's side of the stream: bytes in any split, whole records out. The first record
// must be a hello; any malformed record stops the parser (error() says why) until reset(): the
// follower then drops the connection and reconnects.
class LeadParser {
 public:
  template <class F>
  void feed(std::span<const std::uint8_t> bytes, F&& on_record) noexcept {
    std::size_t i = 0;
    while (i < bytes.size() && error_ == LeadError::kNone) {
      const std::size_t take = std::min(kLeadRecordSize - used_, bytes.size() - i);
      for (std::size_t k = 0; k < take; ++k) partial_[used_ + k] = bytes[i + k];
      used_ += take;
      i += take;
      if (used_ < kLeadRecordSize) break;
      used_ = 0;
      LeadRecord r;
      error_ = decode(partial_.data(), r);
      if (error_ != LeadError::kNone) break;
      if (!hello_ && r.type != 'H') {
        error_ = LeadError::kNoHello;
        break;
      }
      hello_ = true;
      ++records_;
      on_record(r);
    }
  }
  void reset() noexcept {
    used_ = 0;
    hello_ = false;
    error_ = LeadError::kNone;
  }
  [[nodiscard]] LeadError error() const noexcept { return error_; }
  [[nodiscard]] std::uint64_t records() const noexcept { return records_; }
  // One record's checks (type, version, reserved bytes, symbol, price range).
  static LeadError decode(const std::uint8_t* p, LeadRecord& out) noexcept;

 private:
  std::array<std::uint8_t, kLeadRecordSize> partial_{};
  std::size_t used_ = 0;
  bool hello_ = false;
  LeadError error_ = LeadError::kNone;
  std::uint64_t records_ = 0;
};

struct LeadServerCounters {
  std::uint64_t accepted = 0, refused = 0, closed = 0;
  std::uint64_t records = 0;        // records queued for followers (all followers)
  std::uint64_t dropped = 0;        // records dropped: a follower's buffer was full
  std::uint64_t snapshots = 0;      // full snapshots sent (one per connection + one per resync)
  std::uint64_t bytes = 0;          // written to sockets
};

// The leader's side: a listening socket, at most max_followers connections, each with a bounded
// buffer of buffer_bytes. Non-blocking throughout; called from the venue's loop.
class LeadServer {
 public:
  LeadServer(const net::Endpoint& listen, std::size_t max_followers, std::size_t buffer_bytes, std::string_view venue,
             std::string_view mpid, std::span<const itch::Symbol> symbols, std::span<const match::Price> fair);
  [[nodiscard]] int listen_fd() const noexcept { return listen_.get(); }
  [[nodiscard]] net::Endpoint local() const { return net::local_endpoint(listen_.get()); }
  // Accepts pending connections (the listening socket is readable); each gets the hello and a snapshot.
  void accept(std::uint64_t now_unix_ns);
  // Symbol `locate` (1-based) now has fair value `fair`: queued for every follower.
  void publish(std::uint16_t locate, match::Price fair, std::uint64_t now_unix_ns) noexcept;
  // Writes what is queued (never blocks); drops followers that went away; resyncs drained ones.
  void flush(std::uint64_t now_unix_ns) noexcept;
  [[nodiscard]] std::size_t followers() const noexcept { return followers_.size(); }
  [[nodiscard]] const LeadServerCounters& counters() const noexcept { return counters_; }

 private:
  struct Follower {
    net::Fd fd;
    std::vector<std::uint8_t> buffer;  // capacity buffer_bytes, reserved at accept
    std::size_t sent = 0;              // bytes of buffer already written
    std::uint32_t sequence = 0;
    bool resync = false;
    std::string peer;
  };
  void append(Follower& f, const LeadRecord& r) noexcept;
  bool snapshot(Follower& f, std::uint64_t now_unix_ns) noexcept;
  void close(std::size_t i, const char* why) noexcept;

  net::Fd listen_;
  std::size_t max_followers_;
  std::size_t buffer_bytes_;
  itch::Symbol venue_;
  std::array<char, 4> mpid_{};
  std::vector<itch::Symbol> symbols_;
  std::vector<match::Price> fair_;
  std::vector<std::uint64_t> changed_at_;
  std::vector<Follower> followers_;
  LeadServerCounters counters_;
};

struct FollowCounters {
  std::uint64_t connects = 0, connect_failures = 0, disconnects = 0, malformed = 0;
  std::uint64_t values = 0;          // 'V' records received
  std::uint64_t applied = 0;         // fair values set after the lag
  std::uint64_t unknown_symbols = 0; // values for symbols this venue does not trade
  std::uint64_t queue_drops = 0;     // the lag queue was full
  std::uint64_t sequence_gaps = 0;   // records the leader dropped for us
  std::uint64_t age_sum_ns = 0, age_max_ns = 0;  // receipt time - the leader's time of the change
};

// The follower's side: connects (non-blocking, retried every retry_ns while the leader is
// absent), reads records, and holds each value until now + lag in a bounded queue.
class LeadFollower {
 public:
  struct Due {
    std::uint16_t locate = 0;
    match::Price fair = 0;
  };
  LeadFollower(const net::Endpoint& leader, std::uint64_t lag_ns, std::uint64_t retry_ns,
               std::span<const itch::Symbol> symbols, std::size_t queue_capacity);
  // The socket to wait on (-1 when none) and the events it waits for (EPOLLOUT while connecting).
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] bool connecting() const noexcept { return state_ == State::kConnecting; }
  [[nodiscard]] bool connected() const noexcept { return state_ == State::kConnected; }
  // Connects, reads, logs state changes. Returns true when the socket changed (re-register it).
  bool poll(std::uint64_t now_ns, std::uint64_t now_unix_ns);
  // The next queued value due at or before now_ns, if any.
  std::optional<Due> pop_due(std::uint64_t now_ns) noexcept;
  [[nodiscard]] bool queue_empty() const noexcept { return head_ == tail_; }
  // When poll() or pop_due() next has something to do (a queued value, a reconnect); ~0 = none.
  [[nodiscard]] std::uint64_t next_deadline() const noexcept;
  [[nodiscard]] const FollowCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const std::string& leader_name() const noexcept { return leader_name_; }

 private:
  enum class State : std::uint8_t { kIdle, kConnecting, kConnected };
  struct Pending {
    std::uint64_t due_ns = 0;
    std::uint16_t locate = 0;
    match::Price fair = 0;
  };
  void drop(std::uint64_t now_ns, const std::string& why);
  void on_record(const LeadRecord& r, std::uint64_t now_ns, std::uint64_t now_unix_ns) noexcept;
  [[nodiscard]] std::uint16_t locate_of(const itch::Symbol& s) const noexcept;

  net::Endpoint leader_;
  std::uint64_t lag_ns_;
  std::uint64_t retry_ns_;
  std::vector<std::pair<std::uint64_t, std::uint16_t>> locates_;  // symbol key -> locate, sorted
  std::vector<Pending> queue_;        // ring, power-of-2 capacity
  std::size_t head_ = 0, tail_ = 0;
  net::Fd fd_;
  State state_ = State::kIdle;
  std::uint64_t next_attempt_ns_ = 0;
  bool warned_absent_ = false;
  std::uint32_t last_sequence_ = 0;
  LeadParser parser_;
  std::string leader_name_;
  FollowCounters counters_;
};

}  // namespace hft::venue
