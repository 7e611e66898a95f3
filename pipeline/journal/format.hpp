#pragma once
// The journal's on-disk format (docs/journal.md has the tables). Native little-endian, fixed
// layouts, every field at a fixed offset (static_asserts below), so that a record is written as
// one contiguous copy into the mapped segment and read back with one memcpy per struct.
//
//   segment file  = FileHeader (64 bytes) | record | record | ... | zeros (preallocated)
//   record        = RecordHeader (24 bytes) | payload | zero padding to a multiple of 8
//
// A record's CRC32C covers its bytes from `size` to the end of the payload (everything but the
// CRC itself). A record header whose `size` is 0 marks the end of the data: segments are
// preallocated zeroed, so a writer that stopped leaves exactly that behind.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace hft::journal {

inline constexpr std::uint64_t kMagic = 0x314C4E524A544648ull;  // "HFTJRNL1" read as little-endian bytes
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kInstanceBytes = 20;
inline constexpr std::size_t kRecordAlign = 8;
// Longest raw OUCH message or operator command kept in one record. OUCH 5.0's largest fixed part
// is 68 bytes and an appendage with every Appendix B option 112 more; the egress stage encodes
// into 256 bytes.
inline constexpr std::size_t kMaxBlob = 1024;

struct FileHeader {
  std::uint64_t magic;
  std::uint16_t version;
  std::uint16_t header_bytes;      // sizeof(FileHeader): where the first record starts
  std::uint32_t trading_date;      // YYYYMMDD
  std::uint32_t segment_index;     // 0, 1, 2, ... within one (instance, date)
  std::uint32_t reserved;
  std::uint64_t first_sequence;    // sequence of the segment's first record; 0 while unused
  std::uint64_t segment_bytes;     // size the file was preallocated to
  char instance[kInstanceBytes];   // NUL-padded
  std::uint32_t crc;               // CRC32C of the 60 bytes before it
};
static_assert(sizeof(FileHeader) == 64 && offsetof(FileHeader, crc) == 60, "the file header is one cache line");
static_assert(std::is_trivially_copyable_v<FileHeader>);

enum class RecordType : std::uint8_t {
  kIntent = 1,        // an order intent that passed risk (IntentPayload), written before it is sent
  kRiskRefusal = 2,   // an intent refused by pre-trade risk (RefusalPayload)
  kOuchSent = 3,      // an OUCH message handed to SoupBinTCP (BlobPayload + bytes)
  kOuchReceived = 4,  // an OUCH message from the venue (BlobPayload + bytes; sequence = SoupBinTCP's)
  kCommand = 5,       // an operator command (BlobPayload + text)
  kSessionState = 6,  // SoupBinTCP/OUCH session position (SessionStatePayload)
  kWriterOpened = 7,  // a writer opened the journal (WriterOpenedPayload)
};
inline constexpr std::uint8_t kMaxRecordType = 7;
[[nodiscard]] std::string_view to_string(RecordType t) noexcept;

struct RecordHeader {
  std::uint32_t crc;            // CRC32C of bytes [4, size)
  std::uint16_t size;           // header + payload bytes (no padding); 0 = end of data
  RecordType type;
  std::uint8_t flags;           // 0 (reserved)
  std::uint64_t sequence;       // 1, 2, 3, ... with no gap across segments
  std::uint64_t timestamp_ns;   // the writer's clock (hftd: CLOCK_REALTIME ns)
};
static_assert(sizeof(RecordHeader) == 24 && offsetof(RecordHeader, sequence) == 8);
static_assert(std::is_trivially_copyable_v<RecordHeader>);

[[nodiscard]] constexpr std::size_t align_record(std::size_t n) noexcept { return (n + kRecordAlign - 1) & ~(kRecordAlign - 1); }

// The intent as risk passed it, with what the order manager assigned (UserRefNums).
struct IntentPayload {
  static constexpr RecordType kType = RecordType::kIntent;
  std::uint64_t order_id;         // OrderIntent::order_id
  std::int64_t price;             // 1/10,000 $
  std::uint64_t origin_tsc;       // the packet that caused the decision (latency forensics)
  std::uint32_t quantity;
  std::uint32_t user_ref_num;     // new: the order's; replace: the replacement's; cancel: the order's
  std::uint32_t orig_user_ref_num;  // replace: the order being replaced; else 0
  std::uint16_t locate;
  std::uint8_t intent_type;       // pipeline::IntentType
  std::uint8_t side;              // pipeline::Side
  char symbol[8];                 // space-padded, as on the wire
  std::uint8_t tif;               // pipeline::TimeInForce
  std::uint8_t strategy;
  std::uint8_t post_only;
  // Issue 14: the order's venue (index into the configured venues). A spare byte before it: 0 in
  // journals written before several venues, which is venue 0 (the one venue they had).
  std::uint8_t venue;
  std::uint8_t pad[4];
};
static_assert(sizeof(IntentPayload) == 56 && offsetof(IntentPayload, symbol) == 40 && offsetof(IntentPayload, venue) == 51);

struct RefusalPayload {
  static constexpr RecordType kType = RecordType::kRiskRefusal;
  IntentPayload intent;           // user_ref_num 0: none was assigned
  std::uint16_t reason;           // pipeline::RejectReason
  std::uint8_t pad[6];
};
static_assert(sizeof(RefusalPayload) == 64);

// Head of the variable-length records; `length` bytes follow it.
struct BlobPayload {
  std::uint64_t soup_sequence;    // kOuchReceived, sequenced: the SoupBinTCP sequence number; else 0
  std::uint16_t length;           // bytes after this head, at most kMaxBlob
  std::uint8_t sequenced;         // kOuchReceived: 1 = Sequenced Data packet, 0 = Unsequenced
  std::uint8_t venue;             // issue 14: kOuchSent / kOuchReceived: the session's venue (0 in older journals)
  std::uint8_t pad[4];
};
static_assert(sizeof(BlobPayload) == 16 && offsetof(BlobPayload, venue) == 11);

struct SessionStatePayload {
  static constexpr RecordType kType = RecordType::kSessionState;
  std::uint64_t next_soup_sequence;   // the SoupBinTCP sequence number to request at the next login
  std::uint32_t next_user_ref_num;
  std::uint32_t flags;                // bit 0: logged in
  char session[10];                   // SoupBinTCP session id, space-padded
  std::uint8_t venue;                 // issue 14: whose session (0 in older journals)
  std::uint8_t pad[5];
};
static_assert(sizeof(SessionStatePayload) == 32 && offsetof(SessionStatePayload, venue) == 26);

struct WriterOpenedPayload {
  static constexpr RecordType kType = RecordType::kWriterOpened;
  std::uint64_t truncated_bytes;      // torn tail zeroed by this open (0: clean)
  std::uint32_t pid;
  std::uint32_t segment_index;        // where this writer starts appending
};
static_assert(sizeof(WriterOpenedPayload) == 16);

// Payload size bounds by type: the reader refuses a record outside them (CRC or not).
struct PayloadBounds {
  std::size_t min, max;
};
[[nodiscard]] PayloadBounds payload_bounds(RecordType t) noexcept;
[[nodiscard]] inline bool known_type(std::uint8_t t) noexcept { return t >= 1 && t <= kMaxRecordType; }

// CRC of a record from its header (crc field ignored) and payload pieces.
[[nodiscard]] std::uint32_t record_crc(const RecordHeader& h, const void* payload, std::size_t payload_bytes) noexcept;
[[nodiscard]] std::uint32_t header_crc(const FileHeader& h) noexcept;
void seal_header(FileHeader& h) noexcept;  // sets h.crc

[[nodiscard]] FileHeader make_header(std::string_view instance, std::uint32_t date, std::uint32_t segment_index,
                                     std::uint64_t segment_bytes, std::uint64_t first_sequence) noexcept;
[[nodiscard]] std::string_view header_instance(const FileHeader& h) noexcept;

// <dir>/<instance>-<YYYYMMDD>-<index, 6 digits>.hjl
[[nodiscard]] std::string segment_name(std::string_view instance, std::uint32_t date, std::uint32_t index);
// Whether `instance` is a usable name: 1..20 bytes of [A-Za-z0-9_.-], the file name carries it.
[[nodiscard]] bool valid_instance(std::string_view instance) noexcept;
// YYYYMMDD with a real month and day.
[[nodiscard]] bool valid_date(std::uint32_t date) noexcept;

}  // namespace hft::journal
