#include "venue/lead.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.hpp"
#include "net/epoll.hpp"

namespace hft::venue {
namespace {

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) noexcept {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint64_t get_be(const std::uint8_t* p, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

// ITCH alpha: printable, space padded on the right, not blank.
bool valid_symbol(const std::uint8_t* p) noexcept {
  bool pad = false;
  for (int i = 0; i < 8; ++i) {
    const std::uint8_t c = p[i];
    if (c == ' ') {
      pad = true;
    } else if (c <= 0x20 || c >= 0x7f || pad) {
      return false;
    }
  }
  return p[0] != ' ';
}

}  // namespace

void encode_lead(const LeadRecord& r, std::uint8_t* out) noexcept {
  std::memset(out, 0, kLeadRecordSize);
  out[0] = static_cast<std::uint8_t>(r.type);
  std::memcpy(out + 4, r.symbol.chars.data(), 8);
  if (r.type == 'H') {
    out[1] = kLeadVersion;
    std::memcpy(out + 12, r.mpid.data(), 4);
    put_be(out + 16, r.time_ns, 8);
    put_be(out + 24, r.count, 4);
  } else {
    put_be(out + 12, static_cast<std::uint64_t>(r.fair), 8);
    put_be(out + 20, r.time_ns, 8);
    put_be(out + 28, r.count, 4);
  }
}

LeadError LeadParser::decode(const std::uint8_t* p, LeadRecord& out) noexcept {
  out.type = static_cast<char>(p[0]);
  if (out.type != 'H' && out.type != 'V') return LeadError::kBadType;
  if (p[2] != 0 || p[3] != 0) return LeadError::kBadReserved;
  if (!valid_symbol(p + 4)) return LeadError::kBadSymbol;
  out.symbol = itch::Symbol::from_wire(p + 4);
  if (out.type == 'H') {
    if (p[1] != kLeadVersion) return LeadError::kBadVersion;
    for (int i = 28; i < 32; ++i)
      if (p[i] != 0) return LeadError::kBadReserved;
    std::memcpy(out.mpid.data(), p + 12, 4);
    out.time_ns = get_be(p + 16, 8);
    out.count = static_cast<std::uint32_t>(get_be(p + 24, 4));
    return LeadError::kNone;
  }
  if (p[1] != 0) return LeadError::kBadReserved;
  const auto fair = static_cast<std::int64_t>(get_be(p + 12, 8));
  if (fair < 1 || fair > match::kMaxPrice) return LeadError::kBadPrice;
  out.fair = fair;
  out.time_ns = get_be(p + 20, 8);
  out.count = static_cast<std::uint32_t>(get_be(p + 28, 4));
  return LeadError::kNone;
}

const char* to_string(LeadError e) noexcept {
  switch (e) {
    case LeadError::kNone: return "no error";
    case LeadError::kBadType: return "unknown record type";
    case LeadError::kBadVersion: return "unsupported version";
    case LeadError::kBadReserved: return "reserved bytes not zero";
    case LeadError::kBadSymbol: return "malformed symbol";
    case LeadError::kBadPrice: return "fair value out of range";
    case LeadError::kNoHello: return "no hello first";
  }
  return "?";
}

// ---- leader -------------------------------------------------------------------------------------

LeadServer::LeadServer(const net::Endpoint& listen, std::size_t max_followers, std::size_t buffer_bytes,
                       std::string_view venue, std::string_view mpid, std::span<const itch::Symbol> symbols,
                       std::span<const match::Price> fair)
    : listen_(net::tcp_listen(listen, 8)),
      max_followers_(max_followers),
      // Room for a whole snapshot plus the hello, whatever the configured size.
      buffer_bytes_(std::max(buffer_bytes, (symbols.size() + 2) * kLeadRecordSize)),
      venue_(itch::Symbol::from(venue)),
      symbols_(symbols.begin(), symbols.end()),
      fair_(fair.begin(), fair.end()),
      changed_at_(symbols.size(), 0) {
  for (std::size_t i = 0; i < 4; ++i) mpid_[i] = i < mpid.size() ? mpid[i] : ' ';
  followers_.reserve(max_followers);
}

void LeadServer::append(Follower& f, const LeadRecord& r) noexcept {
  if (f.buffer.size() + kLeadRecordSize > buffer_bytes_) {
    ++counters_.dropped;
    f.resync = true;
    return;
  }
  const std::size_t at = f.buffer.size();
  f.buffer.resize(at + kLeadRecordSize);  // capacity reserved at accept: no allocation
  encode_lead(r, f.buffer.data() + at);
  ++counters_.records;
}

bool LeadServer::snapshot(Follower& f, std::uint64_t now_unix_ns) noexcept {
  if (f.buffer.size() + symbols_.size() * kLeadRecordSize > buffer_bytes_) return false;
  ++counters_.snapshots;
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    LeadRecord r;
    r.type = 'V';
    r.symbol = symbols_[i];
    r.fair = fair_[i];
    r.time_ns = changed_at_[i] != 0 ? changed_at_[i] : now_unix_ns;
    r.count = ++f.sequence;
    append(f, r);
  }
  f.resync = false;
  return true;
}

void LeadServer::accept(std::uint64_t now_unix_ns) {
  for (;;) {
    net::Endpoint peer;
    net::Fd fd = net::tcp_accept(listen_.get(), {}, &peer);
    if (!fd.valid()) return;
    // Reap followers that went away while nothing was written to them.
    for (std::size_t i = followers_.size(); i-- > 0;) {
      std::uint8_t b[64];
      const ssize_t n = ::recv(followers_[i].fd.get(), b, sizeof b, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close(i, "gone");
    }
    if (followers_.size() >= max_followers_) {
      ++counters_.refused;
      core::log::warn("lead: follower {} refused: {} followers already", peer.to_string(), followers_.size());
      continue;
    }
    Follower f;
    f.fd = std::move(fd);
    f.peer = peer.to_string();
    f.buffer.reserve(buffer_bytes_);
    LeadRecord hello;
    hello.type = 'H';
    hello.symbol = venue_;
    hello.mpid = mpid_;
    hello.time_ns = now_unix_ns;
    hello.count = static_cast<std::uint32_t>(symbols_.size());
    append(f, hello);
    snapshot(f, now_unix_ns);
    ++counters_.accepted;
    core::log::info("lead: follower {} connected ({} symbols sent)", f.peer, symbols_.size());
    followers_.push_back(std::move(f));
  }
}

void LeadServer::publish(std::uint16_t locate, match::Price fair, std::uint64_t now_unix_ns) noexcept {
  if (locate == 0 || locate > symbols_.size()) return;
  fair_[locate - 1u] = fair;
  changed_at_[locate - 1u] = now_unix_ns;
  for (Follower& f : followers_) {
    if (f.resync) {
      ++counters_.dropped;  // a snapshot follows once the buffer drains
      ++f.sequence;         // the follower sees a gap of exactly the records dropped
      continue;
    }
    LeadRecord r;
    r.type = 'V';
    r.symbol = symbols_[locate - 1u];
    r.fair = fair;
    r.time_ns = now_unix_ns;
    r.count = ++f.sequence;
    append(f, r);
  }
}

void LeadServer::close(std::size_t i, const char* why) noexcept {
  ++counters_.closed;
  try {
    core::log::info("lead: follower {} {}", followers_[i].peer, why);
  } catch (...) {
  }
  followers_.erase(followers_.begin() + static_cast<std::ptrdiff_t>(i));
}

void LeadServer::flush(std::uint64_t now_unix_ns) noexcept {
  for (std::size_t i = followers_.size(); i-- > 0;) {
    Follower& f = followers_[i];
    while (f.sent < f.buffer.size()) {
      const ssize_t n = ::send(f.fd.get(), f.buffer.data() + f.sent, f.buffer.size() - f.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        f.sent += static_cast<std::size_t>(n);
        counters_.bytes += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    if (f.sent < f.buffer.size() && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      close(i, "went away");
      continue;
    }
    if (f.sent == f.buffer.size()) {
      f.buffer.clear();
      f.sent = 0;
    } else if (f.sent > f.buffer.size() / 2) {
      f.buffer.erase(f.buffer.begin(), f.buffer.begin() + static_cast<std::ptrdiff_t>(f.sent));
      f.sent = 0;
    }
    if (f.resync && f.buffer.empty()) snapshot(f, now_unix_ns);
  }
}

// ---- follower -----------------------------------------------------------------------------------

LeadFollower::LeadFollower(const net::Endpoint& leader, std::uint64_t lag_ns, std::uint64_t retry_ns,
                           std::span<const itch::Symbol> symbols, std::size_t queue_capacity)
    : leader_(leader), lag_ns_(lag_ns), retry_ns_(retry_ns) {
  for (std::size_t i = 0; i < symbols.size(); ++i)
    locates_.emplace_back(symbols[i].key(), static_cast<std::uint16_t>(i + 1));
  std::sort(locates_.begin(), locates_.end());
  std::size_t cap = 1;
  while (cap < queue_capacity) cap <<= 1;
  queue_.resize(cap);
}

std::uint16_t LeadFollower::locate_of(const itch::Symbol& s) const noexcept {
  const auto it = std::lower_bound(locates_.begin(), locates_.end(), std::make_pair(s.key(), std::uint16_t{0}));
  return it != locates_.end() && it->first == s.key() ? it->second : 0;
}

void LeadFollower::drop(std::uint64_t now_ns, const std::string& why) {
  if (state_ == State::kConnected) {
    ++counters_.disconnects;
    core::log::warn("follow: leader {} {}; trading on this venue's own walk, reconnecting every {} ms", leader_.to_string(),
                    why, retry_ns_ / 1'000'000);
    warned_absent_ = true;
  }
  fd_.reset();
  parser_.reset();
  state_ = State::kIdle;
  next_attempt_ns_ = now_ns + retry_ns_;
}

void LeadFollower::on_record(const LeadRecord& r, std::uint64_t now_ns, std::uint64_t now_unix_ns) noexcept {
  if (r.type == 'H') {
    leader_name_ = std::string(r.symbol.view());
    last_sequence_ = 0;
    try {
      core::log::info("follow: leader {} is venue {} (MPID {}), {} symbols; fair values applied {} ms after receipt",
                      leader_.to_string(), leader_name_, std::string_view(r.mpid.data(), 4), r.count, lag_ns_ / 1'000'000);
    } catch (...) {
    }
    return;
  }
  ++counters_.values;
  if (last_sequence_ != 0 && r.count != last_sequence_ + 1) ++counters_.sequence_gaps;
  last_sequence_ = r.count;
  if (now_unix_ns > r.time_ns) {
    const std::uint64_t age = now_unix_ns - r.time_ns;
    counters_.age_sum_ns += age;
    counters_.age_max_ns = std::max(counters_.age_max_ns, age);
  }
  const std::uint16_t locate = locate_of(r.symbol);
  if (locate == 0) {
    ++counters_.unknown_symbols;
    return;
  }
  const std::size_t mask = queue_.size() - 1;
  if (tail_ - head_ == queue_.size()) {
    ++counters_.queue_drops;
    return;
  }
  queue_[tail_ & mask] = Pending{now_ns + lag_ns_, locate, r.fair};
  ++tail_;
}

bool LeadFollower::poll(std::uint64_t now_ns, std::uint64_t now_unix_ns) {
  const int before = fd_.get();
  if (state_ == State::kIdle && now_ns >= next_attempt_ns_) {
    const int rc = net::tcp_connect_start(leader_, {}, fd_);
    if (rc == 0) {
      state_ = State::kConnected;
    } else if (rc == EINPROGRESS) {
      state_ = State::kConnecting;
    } else {
      ++counters_.connect_failures;
      if (!warned_absent_) {
        core::log::warn("follow: leader {} absent ({}); trading on this venue's own walk, retrying every {} ms",
                        leader_.to_string(), std::strerror(rc), retry_ns_ / 1'000'000);
        warned_absent_ = true;
      }
      next_attempt_ns_ = now_ns + retry_ns_;
    }
  }
  if (state_ == State::kConnecting) {
    const int rc = net::tcp_connect_result(fd_.get());
    if (rc == 0) {
      state_ = State::kConnected;
    } else if (rc != EINPROGRESS) {
      ++counters_.connect_failures;
      if (!warned_absent_) {
        core::log::warn("follow: leader {} absent ({}); trading on this venue's own walk, retrying every {} ms",
                        leader_.to_string(), std::strerror(rc), retry_ns_ / 1'000'000);
        warned_absent_ = true;
      }
      fd_.reset();
      state_ = State::kIdle;
      next_attempt_ns_ = now_ns + retry_ns_;
    }
    if (state_ == State::kConnected) {
      ++counters_.connects;
      warned_absent_ = false;
      core::log::info("follow: connected to leader {}", leader_.to_string());
    }
  }
  if (state_ == State::kConnected) {
    std::uint8_t buffer[4096];
    for (int round = 0; round < 16; ++round) {  // bounded: a flood cannot starve the loop
      const net::IoResult r = net::read_some(fd_.get(), buffer, sizeof buffer);
      if (r.status == net::IoStatus::kOk) {
        parser_.feed(std::span<const std::uint8_t>(buffer, r.bytes),
                     [&](const LeadRecord& rec) { on_record(rec, now_ns, now_unix_ns); });
        if (parser_.error() != LeadError::kNone) {
          ++counters_.malformed;
          drop(now_ns, std::string("sent a malformed record (") + to_string(parser_.error()) + ")");
          break;
        }
        continue;
      }
      if (r.status == net::IoStatus::kWouldBlock) break;
      drop(now_ns, r.status == net::IoStatus::kClosed ? "went away" : std::string("failed: ") + std::strerror(r.error));
      break;
    }
  }
  return fd_.get() != before;
}

std::optional<LeadFollower::Due> LeadFollower::pop_due(std::uint64_t now_ns) noexcept {
  if (head_ == tail_) return std::nullopt;
  const Pending& p = queue_[head_ & (queue_.size() - 1)];
  if (p.due_ns > now_ns) return std::nullopt;
  ++head_;
  ++counters_.applied;
  return Due{p.locate, p.fair};
}

std::uint64_t LeadFollower::next_deadline() const noexcept {
  std::uint64_t d = ~std::uint64_t{0};
  if (head_ != tail_) d = queue_[head_ & (queue_.size() - 1)].due_ns;
  if (state_ == State::kIdle) d = std::min(d, next_attempt_ns_);
  return d;
}

}  // namespace hft::venue
