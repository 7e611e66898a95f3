#pragma once
// hftd's GLIMPSE 5.0 client (gateways/itch/glimpse.hpp; docs/market-data.md): fetches one
// snapshot of the venue's books over SoupBinTCP, driven from the net stage's poll() - never a
// wait: a non-blocking connect, then at most kReadsPerPoll non-blocking reads per call. The
// snapshot's ITCH messages are kept, in order, in an arena allocated at construction (max_bytes;
// a snapshot that does not fit fails, counted, rather than growing memory); the Snapshot message
// ends it with the sequence number where the real-time feed takes over. The SoupBinTCP engine
// (gateways/soupbintcp/client.hpp) is built once per attempt (a few KB, on the recovery path).
//
// The net stage owns what to do with the result (net_stage.hpp: buffer the live feed, reset the
// books, apply the snapshot, then the buffered messages from its sequence on).
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "gateways/itch/glimpse.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "net/socket.hpp"

namespace hft::pipeline {

struct GlimpseConfig {
  bool enabled = false;
  net::Endpoint endpoint;
  std::string username;                            // default: the order-entry account's
  std::string password;
  std::size_t max_bytes = std::size_t{64} << 20;   // snapshot arena (1 + 50 bytes per message at most)
  std::size_t buffer_messages = std::size_t{1} << 18;  // live messages held during a recovery
  std::uint64_t timeout_ns = 10'000'000'000;       // one attempt: connect to End of Session
  std::uint64_t retry_ns = 200'000'000;            // after a failed attempt
};

enum class FetchStatus : std::uint8_t { kIdle, kBusy, kDone, kFailed };
enum class FetchFailure : std::uint8_t { kNone, kConnect, kRejected, kClosed, kMalformed, kOverflow, kTimeout, kNoSnapshot };

[[nodiscard]] constexpr const char* to_string(FetchFailure f) noexcept {
  switch (f) {
    case FetchFailure::kNone: return "none";
    case FetchFailure::kConnect: return "connect failed";
    case FetchFailure::kRejected: return "login rejected";
    case FetchFailure::kClosed: return "connection closed before the snapshot's end";
    case FetchFailure::kMalformed: return "malformed message";
    case FetchFailure::kOverflow: return "snapshot larger than glimpse_max_mb";
    case FetchFailure::kTimeout: return "timed out";
    case FetchFailure::kNoSnapshot: return "end of session without a Snapshot message";
  }
  return "?";
}

class GlimpseFetch {
 public:
  static constexpr int kReadsPerPoll = 16;

  explicit GlimpseFetch(const GlimpseConfig& config) : config_(config), arena_(config.max_bytes), buf_(64 * 1024) {
    soup_config_.username = config.username;
    soup_config_.password = config.password;
    soup_config_.next_sequence = 1;  // GLIMPSE: log in for sequence 1
    soup_config_.max_inbound_packet = 1024;
    soup::validate(soup_config_);
  }
  ~GlimpseFetch() { abort(); }
  GlimpseFetch(const GlimpseFetch&) = delete;
  GlimpseFetch& operator=(const GlimpseFetch&) = delete;

  // Starts an attempt (an attempt in progress is dropped).
  void start(std::uint64_t now) noexcept {
    abort();
    reader_.reset();
    used_ = 0;
    failure_ = FetchFailure::kNone;
    started_ = now;
    status_ = FetchStatus::kBusy;
    const int r = net::tcp_connect_start(config_.endpoint, net::TcpOptions{}, fd_);
    if (r != 0 && r != EINPROGRESS) return fail(FetchFailure::kConnect, r);
    connecting_ = r == EINPROGRESS;
    if (!connecting_) open_session(now);
  }

  // Drives the attempt; kDone once the Snapshot message and End of Session arrived.
  FetchStatus poll(std::uint64_t now) noexcept {
    if (status_ != FetchStatus::kBusy) return status_;
    if (now - started_ >= config_.timeout_ns) {
      fail(FetchFailure::kTimeout, 0);
      return status_;
    }
    if (connecting_) {
      const int r = net::tcp_connect_result(fd_.get());
      if (r == EINPROGRESS) return status_;
      if (r != 0) {
        fail(FetchFailure::kConnect, r);
        return status_;
      }
      connecting_ = false;
      open_session(now);
    }
    for (int i = 0; i < kReadsPerPoll && status_ == FetchStatus::kBusy; ++i) {
      const ssize_t n = ::recv(fd_.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n > 0) {
        soup_->on_bytes(buf_.data(), static_cast<std::size_t>(n), now);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        soup_->on_transport_closed(now, n == 0 ? 0 : errno);
        break;
      }
      break;
    }
    if (status_ != FetchStatus::kBusy) return status_;
    soup_->poll(now);
    write_output();
    if (soup_->ended()) {
      if (reader_.ended()) {
        status_ = FetchStatus::kDone;
        close_socket();
      } else {
        fail(FetchFailure::kNoSnapshot, 0);
      }
    } else if (soup_->rejected()) {
      fail(FetchFailure::kRejected, 0);
    } else if (soup_->finished() || soup_->state() == soup::ClientState::kDisconnected) {
      fail(FetchFailure::kClosed, 0);
    }
    return status_;
  }

  void abort() noexcept {
    close_socket();
    soup_.reset();
    status_ = FetchStatus::kIdle;
  }

  // ---- the result (status kDone) --------------------------------------------------------------
  [[nodiscard]] std::uint64_t sequence() const noexcept { return reader_.sequence(); }
  [[nodiscard]] const itch::glimpse::SnapshotCounters& counters() const noexcept { return reader_.counters(); }
  // The messages, each as [length byte][bytes], in order.
  [[nodiscard]] const std::uint8_t* data() const noexcept { return arena_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return used_; }
  [[nodiscard]] FetchStatus status() const noexcept { return status_; }
  [[nodiscard]] FetchFailure failure() const noexcept { return failure_; }
  [[nodiscard]] int failure_errno() const noexcept { return errno_; }

  // ---- SoupBinTCP handler ------------------------------------------------------------------------
  void on_sequenced(std::uint64_t, std::span<const std::uint8_t> msg, std::uint64_t) noexcept {
    if (status_ != FetchStatus::kBusy) return;
    switch (reader_.on_message(msg.data(), msg.size())) {
      case itch::glimpse::SnapshotItem::kMessage:
        if (arena_.size() - used_ < 1 + msg.size()) return fail(FetchFailure::kOverflow, 0);
        arena_[used_] = static_cast<std::uint8_t>(msg.size());
        std::memcpy(arena_.data() + used_ + 1, msg.data(), msg.size());
        used_ += 1 + msg.size();
        return;
      case itch::glimpse::SnapshotItem::kEnd: return;
      case itch::glimpse::SnapshotItem::kMalformed:
      case itch::glimpse::SnapshotItem::kAfterEnd: return fail(FetchFailure::kMalformed, 0);
    }
  }

 private:
  void open_session(std::uint64_t now) noexcept {
    try {
      soup_.emplace(soup_config_, *this);
    } catch (...) {
      return fail(FetchFailure::kConnect, ENOMEM);
    }
    soup_->open(1, now);
    write_output();
  }
  void write_output() noexcept {
    while (soup_ && fd_.valid()) {
      const auto out = soup_->output();
      if (out.empty()) return;
      const ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return;  // EAGAIN: the next poll; an error shows as a close on the read side
      soup_->consume_output(static_cast<std::size_t>(n));
    }
  }
  void fail(FetchFailure f, int err) noexcept {
    failure_ = f;
    errno_ = err;
    status_ = FetchStatus::kFailed;
    close_socket();
  }
  void close_socket() noexcept { fd_.reset(); }

  GlimpseConfig config_;
  soup::ClientConfig soup_config_;
  std::optional<soup::ClientSession<GlimpseFetch>> soup_;
  itch::glimpse::SnapshotReader reader_;
  std::vector<std::uint8_t> arena_;
  std::vector<std::uint8_t> buf_;
  std::size_t used_ = 0;
  net::Fd fd_;
  std::uint64_t started_ = 0;
  FetchStatus status_ = FetchStatus::kIdle;
  FetchFailure failure_ = FetchFailure::kNone;
  int errno_ = 0;
  bool connecting_ = false;
};

}  // namespace hft::pipeline
