#include "common.hpp"

#include <cerrno>
#include <cstring>
#include <algorithm>

#include "gateways/common/endian.hpp"

namespace hft::itch_tool {

Output::~Output() noexcept {
  try {
    flush();
  } catch (...) {  // the command's own flush reported it; a destructor must not throw
  }
}

void Output::flush() {
  if (buf_.size() == 0) return;
  const std::size_t n = std::fwrite(buf_.data(), 1, buf_.size(), file_);
  const bool failed = n != buf_.size() || std::fflush(file_) != 0;
  buf_.clear();
  if (failed) throw ToolError(kExitIo, fmt::format("write error on output: {}", std::strerror(errno)));
}

void append_clock(fmt::memory_buffer& out, std::uint64_t ns) {
  const std::uint64_t s = ns / 1'000'000'000;
  fmt::format_to(fmt::appender(out), "{:02}:{:02}:{:02}.{:09}", s / 3600, s / 60 % 60, s % 60, ns % 1'000'000'000);
}

std::string clock_text(std::uint64_t ns) {
  fmt::memory_buffer b;
  append_clock(b, ns);
  return fmt::to_string(b);
}

void append_json_string(fmt::memory_buffer& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c >= 0x7f) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, esc + 6);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

std::string_view trim_right(std::string_view text) noexcept {
  std::size_t n = text.size();
  while (n > 0 && text[n - 1] == ' ') --n;
  return text.substr(0, n);
}

void append_fixed(fmt::memory_buffer& out, std::uint64_t value, unsigned decimals) {
  std::uint64_t scale = 1;
  for (unsigned i = 0; i < decimals; ++i) scale *= 10;
  fmt::format_to(fmt::appender(out), "{}.{:0{}}", value / scale, value % scale, decimals);
}

files::MappedFile open_binary_file(const std::string& path) {
  try {
    return files::MappedFile(path);
  } catch (const files::FileError& e) {
    throw ToolError(kExitIo, e.what());
  }
}

namespace {

struct BlockWriter {
  std::vector<std::uint8_t>* out;
  void on_message(const std::uint8_t* msg) {
    const std::size_t len = itch::kMessageLength[msg[0]];
    const std::size_t at = out->size();
    out->resize(at + 2 + len);
    wire::store_be16(out->data() + at, static_cast<std::uint16_t>(len));
    std::memcpy(out->data() + at + 2, msg, len);
  }
};

}  // namespace

std::vector<std::uint8_t> pcap_to_blocks(const std::string& path, InputReport& rep) {
  std::vector<std::uint8_t> blocks;
  BlockWriter writer{&blocks};
  RawMessages<BlockWriter> raw{&writer};
  rep = decode_input(InputSpec{path, true}, raw);
  return blocks;
}

BlockScan scan_blocks(const std::uint8_t* data, std::size_t size, std::optional<std::uint64_t> until) noexcept {
  BlockScan s;
  std::uint64_t live = 0;
  std::uint64_t last_ref = 0;
  std::size_t off = 0;
  while (size - off >= 2) {
    const std::size_t len = wire::load_be16(data + off);
    if (len > size - off - 2) break;
    const std::uint8_t* msg = data + off + 2;
    if (len != 0 && len == itch::kMessageLength[msg[0]]) {
      if (until && wire::load_be48(msg + 5) > *until) break;
      ++s.messages;
      s.max_locate = std::max(s.max_locate, wire::load_be16(msg + 1));
      switch (msg[0]) {
        case 'A': case 'F': {
          const std::uint64_t ref = wire::load_be64(msg + 11);
          s.ref_step1 += ref == last_ref + 1;
          s.ref_step4 += ref == last_ref + 4;
          last_ref = ref;
          ++s.order_adds;
          s.peak_estimate = std::max(s.peak_estimate, ++live);
          break;
        }
        case 'U': ++s.order_adds; break;
        case 'D': live -= live != 0; break;
        default: break;
      }
    }
    off += 2 + len;
  }
  // Stopping at a message after --until cuts there; otherwise decode everything, so that a
  // truncated tail is seen and reported by the decoder.
  s.cut = (until && size - off >= 2 && wire::load_be16(data + off) <= size - off - 2) ? off : size;
  return s;
}

book::BookConfig book_config_for(const BlockScan& scan, bool safe) noexcept {
  book::BookConfig c;
  const std::uint64_t want = safe ? scan.order_adds + 1024 : scan.peak_estimate + 4096;
  c.orders = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, book::kMaxOrders));
  // A level exists only while an order rests on it, so `orders` levels always suffice.
  c.levels = std::min<std::uint32_t>(c.orders, safe ? book::kMaxLevels : 1u << 20);
  c.max_locate = std::max<std::uint32_t>(scan.max_locate, 1);
  c.ref_stride_log2 = scan.ref_step1 > scan.ref_step4 ? 0 : 2;
  return c;
}

void report_input_errors(const InputSpec& in, const InputReport& rep) {
  const itch::DecodeStats& s = rep.itch;
  if (s.bad_length != 0) fmt::print(stderr, "hft-itch: {}: {} messages with a wrong length for their type (skipped)\n", in.path, s.bad_length);
  if (s.unknown_type != 0) fmt::print(stderr, "hft-itch: {}: {} messages of an unknown type (skipped)\n", in.path, s.unknown_type);
  if (!in.pcap) {
    if (rep.file.truncated) {
      fmt::print(stderr, "hft-itch: {}: truncated: the message at offset {} is cut short ({} bytes missing)\n", in.path,
                 rep.file.truncated_offset, rep.file.truncated_missing);
    }
    return;
  }
  const files::MoldStats& m = rep.mold;
  if (m.short_packets != 0) fmt::print(stderr, "hft-itch: {}: {} UDP datagrams too short for a MoldUDP64 header\n", in.path, m.short_packets);
  if (m.truncated_packets != 0) fmt::print(stderr, "hft-itch: {}: {} MoldUDP64 packets cut short\n", in.path, m.truncated_packets);
  if (m.trailing_bytes != 0) fmt::print(stderr, "hft-itch: {}: {} MoldUDP64 packets with bytes after their last message\n", in.path, m.trailing_bytes);
  if (rep.pcap.malformed() != 0) fmt::print(stderr, "hft-itch: {}: {} malformed frames\n", in.path, rep.pcap.malformed());
  if (!rep.pcap_error.empty()) fmt::print(stderr, "hft-itch: {}: damaged capture record: {}\n", in.path, rep.pcap_error);
}

}  // namespace hft::itch_tool
