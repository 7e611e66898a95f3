#include "pipeline/journal/format.hpp"

#include <fmt/format.h>

#include "pipeline/journal/crc32c.hpp"

namespace hft::journal {

std::string_view to_string(RecordType t) noexcept {
  switch (t) {
    case RecordType::kIntent: return "intent";
    case RecordType::kRiskRefusal: return "risk_refusal";
    case RecordType::kOuchSent: return "ouch_sent";
    case RecordType::kOuchReceived: return "ouch_received";
    case RecordType::kCommand: return "command";
    case RecordType::kSessionState: return "session_state";
    case RecordType::kWriterOpened: return "writer_opened";
  }
  return "unknown";
}

PayloadBounds payload_bounds(RecordType t) noexcept {
  switch (t) {
    case RecordType::kIntent: return {sizeof(IntentPayload), sizeof(IntentPayload)};
    case RecordType::kRiskRefusal: return {sizeof(RefusalPayload), sizeof(RefusalPayload)};
    case RecordType::kOuchSent:
    case RecordType::kOuchReceived:
    case RecordType::kCommand: return {sizeof(BlobPayload), sizeof(BlobPayload) + kMaxBlob};
    case RecordType::kSessionState: return {sizeof(SessionStatePayload), sizeof(SessionStatePayload)};
    case RecordType::kWriterOpened: return {sizeof(WriterOpenedPayload), sizeof(WriterOpenedPayload)};
  }
  return {1, 0};  // nothing fits
}

std::uint32_t record_crc(const RecordHeader& h, const void* payload, std::size_t payload_bytes) noexcept {
  const auto* raw = reinterpret_cast<const std::uint8_t*>(&h);
  const std::uint32_t c = crc32c(raw + 4, sizeof(RecordHeader) - 4);
  return crc32c_extend(c, payload, payload_bytes);
}

std::uint32_t header_crc(const FileHeader& h) noexcept { return crc32c(&h, offsetof(FileHeader, crc)); }

void seal_header(FileHeader& h) noexcept { h.crc = header_crc(h); }

FileHeader make_header(std::string_view instance, std::uint32_t date, std::uint32_t segment_index,
                       std::uint64_t segment_bytes, std::uint64_t first_sequence) noexcept {
  FileHeader h{};
  h.magic = kMagic;
  h.version = kVersion;
  h.header_bytes = sizeof(FileHeader);
  h.trading_date = date;
  h.segment_index = segment_index;
  h.first_sequence = first_sequence;
  h.segment_bytes = segment_bytes;
  std::memcpy(h.instance, instance.data(), instance.size() < kInstanceBytes ? instance.size() : kInstanceBytes);
  seal_header(h);
  return h;
}

std::string_view header_instance(const FileHeader& h) noexcept {
  std::size_t n = 0;
  while (n < kInstanceBytes && h.instance[n] != '\0') ++n;
  return {h.instance, n};
}

std::string segment_name(std::string_view instance, std::uint32_t date, std::uint32_t index) {
  return fmt::format("{}-{:08}-{:06}.hjl", instance, date, index);
}

bool valid_instance(std::string_view instance) noexcept {
  if (instance.empty() || instance.size() > kInstanceBytes) return false;
  for (char c : instance) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_date(std::uint32_t date) noexcept {
  const std::uint32_t y = date / 10000, m = date / 100 % 100, d = date % 100;
  return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

}  // namespace hft::journal
