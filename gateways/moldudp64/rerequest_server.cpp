#include "gateways/moldudp64/rerequest_server.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>

namespace hft::mold {

void RerequestConfig::validate() const {
  if (max_payload < kHeaderSize + kBlockHeaderSize || max_payload > kMaxUdpPayload)
    throw std::invalid_argument("moldudp64 re-request server: max_payload must be " +
                                std::to_string(kHeaderSize + kBlockHeaderSize) + ".." + std::to_string(kMaxUdpPayload) +
                                " bytes, got " + std::to_string(max_payload));
  // UIO_MAXIOV (1024) bounds one recvmmsg/sendmmsg call.
  if (max_requests_per_poll == 0 || max_requests_per_poll > 1024)
    throw std::invalid_argument("moldudp64 re-request server: max_requests_per_poll must be 1..1024, got " +
                                std::to_string(max_requests_per_poll));
  if (max_messages_per_request == 0)
    throw std::invalid_argument("moldudp64 re-request server: max_messages_per_request must be >= 1");
}

RerequestConfig parse_rerequest_config(const core::ConfigSection& s, const SessionId& session) {
  RerequestConfig c;
  c.session = session;
  c.max_payload = static_cast<std::size_t>(s.integer("max_payload", static_cast<std::int64_t>(c.max_payload),
                                                     kHeaderSize + kBlockHeaderSize, kMaxUdpPayload));
  c.max_requests_per_poll = static_cast<std::uint32_t>(s.integer("max_requests_per_poll", c.max_requests_per_poll, 1, 1024));
  c.max_messages_per_request =
      static_cast<std::uint16_t>(s.integer("max_messages_per_request", c.max_messages_per_request, 1, 0xFFFF));
  return c;
}

RequestHandler::RequestHandler(const RerequestConfig& config, const RetransmitStore& store)
    : config_((config.validate(), config)), store_(store) {}

RequestHandler::Reply RequestHandler::handle(const std::uint8_t* datagram, std::size_t len, std::uint8_t* out) noexcept {
  ++stats_.datagrams;
  RequestPacket request;
  if (!RequestPacket::parse(datagram, len, request)) {
    ++stats_.malformed;
    return {RequestOutcome::kMalformed, 0};
  }
  if (request.session != config_.session) {
    ++stats_.wrong_session;
    return {RequestOutcome::kWrongSession, 0};
  }
  ++stats_.requests;
  if (request.count == 0) {
    ++stats_.empty;
    return {RequestOutcome::kEmpty, 0};
  }

  PacketBuilder packet(out, config_.max_payload);
  const std::uint64_t next = store_.next_sequence();
  if (request.sequence >= next) {
    // Heartbeats and end-of-session packets "contain the next expected Sequence Number" (p.6).
    const auto reply = packet.control(config_.session, next, session_ended_ ? kEndOfSessionCount : kHeartbeatCount);
    ++stats_.beyond_range;
    stats_.reply_bytes += reply.size();
    return {RequestOutcome::kBeyondRange, reply.size()};
  }
  if (request.sequence < store_.first_sequence()) {
    ++stats_.unavailable;
    return {RequestOutcome::kUnavailable, 0};
  }

  const std::size_t wanted =
      request.count < config_.max_messages_per_request ? request.count : config_.max_messages_per_request;
  packet.begin(config_.session, request.sequence);
  std::span<const std::uint8_t> msg;
  std::uint64_t seq = request.sequence;
  for (std::size_t i = 0; i < wanted; ++i, ++seq) {
    // Stops at the end of what is published; an eviction cannot happen mid-packet (same thread).
    if (store_.find(seq, msg) != StoreLookup::kHeld || !packet.fits(msg.size())) break;
    packet.add(msg.data(), msg.size());
  }
  if (packet.count() == 0) {
    ++stats_.too_large;
    return {RequestOutcome::kTooLarge, 0};
  }
  const auto reply = packet.finish();
  ++stats_.answered;
  stats_.messages_resent += packet.count();
  stats_.reply_bytes += reply.size();
  if (packet.count() < request.count) ++stats_.partial;
  if (request.count > config_.max_messages_per_request) ++stats_.capped;
  return {RequestOutcome::kAnswered, reply.size()};
}

// ---------------------------------------------------------------------------------------------

RerequestServer::RerequestServer(const RerequestConfig& config, const RetransmitStore& store,
                                 const net::Endpoint& listen, const net::UdpOptions& options)
    : handler_(config, store), fd_(net::udp_receiver(listen, options)), batch_(config.max_requests_per_poll) {
  rx_ = std::make_unique<mmsghdr[]>(batch_);
  rx_iov_ = std::make_unique<iovec[]>(batch_);
  sources_ = std::make_unique<sockaddr_in[]>(batch_);
  rx_bytes_ = std::make_unique<std::uint8_t[]>(batch_ * kReceiveBuffer);
  tx_ = std::make_unique<mmsghdr[]>(batch_);
  tx_iov_ = std::make_unique<iovec[]>(batch_);
  tx_bytes_ = std::make_unique<std::uint8_t[]>(batch_ * config.max_payload);
  for (std::size_t i = 0; i < batch_; ++i) {
    rx_iov_[i] = iovec{rx_bytes_.get() + i * kReceiveBuffer, kReceiveBuffer};
    rx_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_[i].msg_hdr.msg_iovlen = 1;
    rx_[i].msg_hdr.msg_name = &sources_[i];
    tx_[i].msg_hdr.msg_iov = &tx_iov_[i];
    tx_[i].msg_hdr.msg_iovlen = 1;
  }
}

int RerequestServer::poll() noexcept {
  for (std::size_t i = 0; i < batch_; ++i) {
    rx_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    rx_[i].msg_hdr.msg_flags = 0;
  }
  const int n = ::recvmmsg(fd_.get(), rx_.get(), static_cast<unsigned>(batch_), MSG_DONTWAIT, nullptr);
  RerequestStats& stats = handler_.stats();
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ++stats.receive_errors;
    return 0;
  }
  if (static_cast<std::size_t>(n) == batch_) ++stats.batch_limit_hits;

  const std::size_t max_payload = handler_.config().max_payload;
  unsigned replies = 0;
  for (int i = 0; i < n; ++i) {
    const msghdr& h = rx_[i].msg_hdr;
    // MSG_TRUNC: longer than the buffer, hence than a request; it reads as the full buffer,
    // which is not 20 bytes either, so it is counted malformed.
    const std::size_t len = (h.msg_flags & MSG_TRUNC) != 0 || rx_[i].msg_len > kReceiveBuffer ? kReceiveBuffer
                                                                                               : rx_[i].msg_len;
    std::uint8_t* out = tx_bytes_.get() + replies * max_payload;
    const auto reply = handler_.handle(rx_bytes_.get() + static_cast<std::size_t>(i) * kReceiveBuffer, len, out);
    if (reply.length == 0 || h.msg_namelen != sizeof(sockaddr_in)) continue;
    tx_iov_[replies] = iovec{out, reply.length};
    tx_[replies].msg_hdr.msg_name = &sources_[i];
    tx_[replies].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    ++replies;
  }

  // sendmmsg stops at the first datagram that fails: count it, skip it, send the rest.
  for (unsigned sent = 0; sent < replies;) {
    const int r = ::sendmmsg(fd_.get(), tx_.get() + sent, replies - sent, MSG_DONTWAIT);
    if (r > 0) {
      sent += static_cast<unsigned>(r);
    } else {
      ++stats.send_errors;  // the client re-requests after its timeout
      ++sent;
    }
  }
  return n;
}

}  // namespace hft::mold
