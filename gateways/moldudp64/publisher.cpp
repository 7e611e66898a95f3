#include "gateways/moldudp64/publisher.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace hft::mold {

void PublisherConfig::validate() const {
  if (max_payload < kHeaderSize + kBlockHeaderSize || max_payload > kMaxUdpPayload)
    throw std::invalid_argument("moldudp64 publisher: max_payload must be " +
                                std::to_string(kHeaderSize + kBlockHeaderSize) + ".." + std::to_string(kMaxUdpPayload) +
                                " bytes, got " + std::to_string(max_payload));
  if (heartbeat_interval_ns == 0)
    throw std::invalid_argument("moldudp64 publisher: heartbeat_interval_ns must be > 0");
  if (end_of_session_packets == 0)
    throw std::invalid_argument("moldudp64 publisher: end_of_session_packets must be >= 1");
  if (first_sequence == 0)
    throw std::invalid_argument("moldudp64 publisher: first_sequence must be >= 1 (sessions start at 1)");
}

SessionId parse_session(const core::ConfigSection& section, std::string_view key, std::string_view fallback) {
  const std::string text = section.string(key, fallback);
  if (text.empty() || text.size() > kSessionSize)
    section.fail(key, "a MoldUDP64 session is 1 to 10 characters, got \"" + text + "\"");
  for (const char c : text) {
    if (c < 0x21 || c > 0x7E) section.fail(key, "a MoldUDP64 session is printable ASCII without spaces");
  }
  return SessionId::from(text);
}

PublisherConfig parse_publisher_config(const core::ConfigSection& s) {
  PublisherConfig c;
  c.session = parse_session(s, "session", c.session.view());
  c.max_payload = static_cast<std::size_t>(s.integer("max_payload", static_cast<std::int64_t>(c.max_payload),
                                                     kHeaderSize + kBlockHeaderSize, kMaxUdpPayload));
  c.max_delay_ns = static_cast<std::uint64_t>(s.integer("max_delay_us", 0, 0, 1'000'000)) * 1000;
  c.heartbeat_interval_ns = static_cast<std::uint64_t>(s.integer("heartbeat_interval_ms", 1000, 1, 60'000)) * 1'000'000;
  c.end_of_session_packets = static_cast<std::uint32_t>(s.integer("end_of_session_packets", 3, 1, 1000));
  c.first_sequence = static_cast<std::uint64_t>(s.integer("first_sequence", 1, 1, INT64_MAX));
  c.validate();
  return c;
}

// ---------------------------------------------------------------------------------------------

UdpSink::UdpSink(const net::Endpoint& destination, const net::UdpOptions& options)
    : fd_(net::udp_sender(options)), destination_(destination.addr) {}

UdpSink::UdpSink(net::Fd fd, const net::Endpoint& destination) noexcept
    : fd_(std::move(fd)), destination_(destination.addr) {}

bool UdpSink::send(const PacketHeader&, std::span<const std::uint8_t> packet) noexcept {
  // MSG_DONTWAIT: a full socket buffer is a counted drop, never a stalled venue loop.
  const ssize_t n = ::sendto(fd_.get(), packet.data(), packet.size(), MSG_DONTWAIT,
                             reinterpret_cast<const sockaddr*>(&destination_), sizeof destination_);
  if (n == static_cast<ssize_t>(packet.size())) {
    ++stats_.packets;
    stats_.bytes += packet.size();
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
    ++stats_.would_block;
  } else {
    ++stats_.errors;
  }
  stats_.last_errno = n < 0 ? errno : EMSGSIZE;
  return false;
}

// ---------------------------------------------------------------------------------------------

BinaryFileWriter::BinaryFileWriter(const std::string& path, std::size_t buffer_bytes)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)),
      capacity_(buffer_bytes < 4096 ? 4096 : buffer_bytes) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "open capture file \"" + path + "\"");
  buffer_ = std::make_unique<std::uint8_t[]>(capacity_);
}

BinaryFileWriter::~BinaryFileWriter() { flush(); }

BinaryFileWriter& BinaryFileWriter::operator=(BinaryFileWriter&& other) noexcept {
  if (this != &other) {
    flush();
    fd_ = std::move(other.fd_);
    buffer_ = std::move(other.buffer_);
    capacity_ = other.capacity_;
    used_ = std::exchange(other.used_, 0);
    stats_ = other.stats_;
  }
  return *this;
}

bool BinaryFileWriter::append_records(const std::uint8_t* records, std::size_t len) noexcept {
  if (len > capacity_ - used_ && !flush()) return false;
  if (len > capacity_) return write_all(records, len);
  std::memcpy(buffer_.get() + used_, records, len);
  used_ += len;
  return true;
}

bool BinaryFileWriter::append_message(const std::uint8_t* msg, std::size_t len) noexcept {
  if (len > kMaxMessageLength) {
    ++stats_.write_errors;
    stats_.last_errno = EMSGSIZE;
    return false;
  }
  if (kBlockHeaderSize + len > capacity_ - used_ && !flush()) return false;
  std::uint8_t prefix[kBlockHeaderSize];
  wire::store_be16(prefix, static_cast<std::uint16_t>(len));
  if (kBlockHeaderSize + len > capacity_) return write_all(prefix, sizeof prefix) && write_all(msg, len);
  std::memcpy(buffer_.get() + used_, prefix, sizeof prefix);
  if (len != 0) std::memcpy(buffer_.get() + used_ + sizeof prefix, msg, len);
  used_ += kBlockHeaderSize + len;
  return true;
}

bool BinaryFileWriter::flush() noexcept {
  if (used_ == 0 || !fd_.valid()) return true;
  const bool ok = write_all(buffer_.get(), used_);
  used_ = 0;  // on failure the buffered records are lost (counted), never written twice
  return ok;
}

bool BinaryFileWriter::write_all(const std::uint8_t* p, std::size_t len) noexcept {
  while (len > 0) {
    const ssize_t n = ::write(fd_.get(), p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // a write of 0 bytes would otherwise loop for ever
      ++stats_.write_errors;
      stats_.last_errno = n < 0 ? errno : EIO;
      return false;
    }
    p += n;
    len -= static_cast<std::size_t>(n);
    stats_.bytes += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace hft::mold
