#include "venue/execution_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

namespace hft::venue {
namespace {

char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_number(char* p, std::uint64_t v) noexcept {
  return std::to_chars(p, p + 20, v).ptr;  // 2^64 has 20 digits
}

// A JSON string: at most 2 + 6 * s.size() bytes.
char* put_string(char* p, std::string_view s) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      p = put(p, "\\u00");
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xf];
    } else {
      *p++ = static_cast<char>(c);
    }
  }
  *p++ = '"';
  return p;
}

// Millionths of a dollar as a JSON number of dollars: -200000 -> -0.2, 300 -> 0.0003, 0 -> 0.
char* put_micros(char* p, std::int64_t v) noexcept {
  std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  if (v < 0) *p++ = '-';
  p = put_number(p, m / 1'000'000);
  std::uint64_t frac = m % 1'000'000;
  if (frac == 0) return p;
  *p++ = '.';
  int digits = 6;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  char tmp[6];
  for (int i = digits - 1; i >= 0; --i) {
    tmp[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  return put(p, std::string_view(tmp, static_cast<std::size_t>(digits)));
}

}  // namespace

ExecutionLog::ExecutionLog(const std::string& path, std::size_t buffer_bytes)
    : path_(path),
      fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)),
      buffer_(std::make_unique<char[]>(buffer_bytes < 2 * kMaxLine ? 2 * kMaxLine : buffer_bytes)),
      capacity_(buffer_bytes < 2 * kMaxLine ? 2 * kMaxLine : buffer_bytes) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "executions file " + path);
}

std::size_t ExecutionLog::format(const ExecutionRecord& r, char* out) noexcept {
  // Bounded inputs: a username is at most 6 characters, a ClOrdID 14, a symbol 8 (each at most 6
  // bytes escaped), numbers at most 20 digits, a venue name of 8: under 520 bytes in all.
  const std::string_view user = r.user.substr(0, 6), token = r.order_token.substr(0, 14), symbol = r.symbol.substr(0, 8);
  char* p = out;
  p = put(p, "{\"user\":");
  p = put_string(p, user);
  p = put(p, ",\"user_ref_num\":");
  p = put_number(p, r.user_ref_num);
  if (!token.empty()) {
    p = put(p, ",\"order_token\":");
    p = put_string(p, token);
  }
  p = put(p, ",\"symbol\":");
  p = put_string(p, symbol);
  p = put(p, r.side == 'B' ? ",\"side\":\"B\"" : ",\"side\":\"S\"");
  p = put(p, ",\"price\":");
  p = put_number(p, r.price);
  p = put(p, ",\"quantity\":");
  p = put_number(p, r.quantity);
  p = put(p, ",\"match_number\":");
  p = put_number(p, r.match_number);
  p = put(p, ",\"timestamp\":");
  p = put_number(p, r.timestamp);
  if (!r.venue.empty()) {
    p = put(p, ",\"venue\":");
    p = put_string(p, r.venue.substr(0, 8));
    p = put(p, ",\"liquidity\":");
    p = put_string(p, std::string_view(&r.liquidity, 1));
    p = put(p, ",\"fee\":");
    p = put_micros(p, r.fee_micros);
  }
  p = put(p, "}\n");
  return static_cast<std::size_t>(p - out);
}

void ExecutionLog::record(const ExecutionRecord& r) noexcept {
  if (capacity_ - used_ < kMaxLine) flush();
  used_ += format(r, buffer_.get() + used_);
  ++lines_buffered_;
  ++stats_.lines;
}

bool ExecutionLog::flush() noexcept {
  std::size_t done = 0;
  bool ok = true;
  while (done < used_) {
    const ssize_t n = ::write(fd_.get(), buffer_.get() + done, used_ - done);
    ++stats_.writes;
    if (n < 0) {
      if (errno == EINTR) continue;
      ++stats_.write_errors;
      stats_.last_errno = errno;
      stats_.lost_lines += lines_buffered_;  // at most: part of one batch may have been written
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
    stats_.bytes += static_cast<std::uint64_t>(n);
  }
  used_ = 0;
  lines_buffered_ = 0;
  return ok;
}

}  // namespace hft::venue
