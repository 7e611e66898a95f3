#include "venue/glimpse.hpp"

#include <cstring>

namespace hft::venue {

void GlimpseSession::open(std::uint64_t connection_id, std::uint64_t now) noexcept {
  framer_.reset();
  out_.clear();
  sent_ = 0;
  state_ = State::kAwaitingLogin;
  connection_ = connection_id;
  opened_ = last_recv_ = now;
  authenticated_ = false;
  ended_ = false;
  ++counters_->connections;
}

void GlimpseSession::on_bytes(const std::uint8_t* data, std::size_t size, std::uint64_t now) noexcept {
  if (state_ != State::kAwaitingLogin && state_ != State::kFlushing) return;
  last_recv_ = now;
  framer_.feed(data, size, [&](const soup::Packet& p) noexcept {
    switch (p.type) {
      case soup::packet_type::kLoginRequest:
        if (state_ == State::kAwaitingLogin) {
          login(p, now);
        } else {
          state_ = State::kClosed;  // a second login: a protocol violation
        }
        break;
      case soup::packet_type::kClientHeartbeat: break;
      case soup::packet_type::kLogoutRequest: state_ = State::kClosed; break;
      default: state_ = State::kClosed; break;  // GLIMPSE takes no data from clients
    }
    return state_ == State::kAwaitingLogin || state_ == State::kFlushing;
  });
  if (framer_.failed()) state_ = State::kClosed;
  if (state_ == State::kClosed) end(true);
}

void GlimpseSession::login(const soup::Packet& p, std::uint64_t now) noexcept {
  soup::LoginRequest req;
  if (soup::parse_login_request(p.payload, p.size, req) != soup::PacketError::kNone) {
    state_ = State::kClosed;
    return;
  }
  std::uint32_t user = soup::ServerContext::kNoUser;
  std::uint64_t start = 0;
  const soup::LoginFailure f = ctx_->authorize(req, connection_, user, start, source_, now);
  if (f != soup::LoginFailure::kNone) {
    ++counters_->login_rejects;
    const bool credential = f == soup::LoginFailure::kUnknownUser || f == soup::LoginFailure::kBadPassword ||
                            f == soup::LoginFailure::kLockedOut;
    reject_code_ = soup::wire_code(f);
    if (credential && ctx_->config().login_failure_delay_ns != 0) {
      reject_at_ = now + ctx_->config().login_failure_delay_ns;
      state_ = State::kRejecting;
      return;
    }
    reject(reject_code_, now);
    return;
  }
  // A snapshot is not a stream one holds: several connections of one user may fetch at once.
  ctx_->release(user, connection_);
  authenticated_ = true;
  try {
    out_.reserve(1 << 16);
    out_.resize(soup::kLengthFieldSize + soup::kLoginAcceptedLength);
    soup::encode_login_accepted(out_.data(), soup::LoginAccepted{ctx_->session(), 1});
    const std::uint64_t t0 = core::monotonic_ns();
    const std::size_t messages = build_(build_context_, out_);
    counters_->last_build_ns = core::monotonic_ns() - t0;
    const std::size_t at = out_.size();
    out_.resize(at + soup::kHeaderSize);
    soup::encode_empty(out_.data() + at, soup::packet_type::kEndOfSession);
    ++counters_->snapshots;
    counters_->snapshot_messages += messages;
    counters_->snapshot_bytes += out_.size();
  } catch (...) {  // out of memory: the client retries later
    out_.clear();
    state_ = State::kClosed;
    return;
  }
  state_ = State::kFlushing;
  flush_started_ = now;
}

void GlimpseSession::reject(soup::RejectCode code, std::uint64_t now) noexcept {
  out_.resize(soup::kLengthFieldSize + soup::kLoginRejectedLength);
  soup::encode_login_rejected(out_.data(), code);
  sent_ = 0;
  state_ = State::kFlushing;
  flush_started_ = now;
}

void GlimpseSession::poll(std::uint64_t now) noexcept {
  const soup::ServerConfig& c = ctx_->config();
  switch (state_) {
    case State::kAwaitingLogin:
      if (now - opened_ >= c.login_timeout_ns || now - last_recv_ >= c.timeout_ns) {
        state_ = State::kClosed;
        end(true);
      }
      return;
    case State::kRejecting:
      if (now >= reject_at_) reject(reject_code_, now);
      return;
    case State::kFlushing:
      // The client must keep reading and heartbeating; a stuck one does not hold the buffer.
      if (now - last_recv_ >= c.timeout_ns) {
        state_ = State::kClosed;
        end(true);
      }
      return;
    case State::kIdle:
    case State::kClosed: return;
  }
}

void GlimpseSession::consume_output(std::size_t n) noexcept {
  sent_ += n < out_.size() - sent_ ? n : out_.size() - sent_;
  if (state_ == State::kFlushing && sent_ == out_.size() && authenticated_) end(false);
}

void GlimpseSession::close(std::uint64_t) noexcept {
  if (state_ != State::kClosed && state_ != State::kIdle) {
    state_ = State::kClosed;
    end(true);
  }
}

void GlimpseSession::on_transport_closed(std::uint64_t, int) noexcept {
  if (state_ != State::kIdle) end(!(authenticated_ && sent_ == out_.size()));
  state_ = State::kIdle;
  std::vector<std::uint8_t>().swap(out_);  // a snapshot may be tens of MB: not kept per slot
  sent_ = 0;
}

void GlimpseSession::evict(std::uint64_t) noexcept {
  if (!authenticated_ && state_ != State::kIdle) {
    state_ = State::kClosed;
    end(true);
  }
}

void GlimpseSession::end(bool early) noexcept {
  if (ended_) return;
  ended_ = true;
  if (early) {
    ++counters_->closed_early;
  } else {
    ++counters_->completed;
  }
}

}  // namespace hft::venue
