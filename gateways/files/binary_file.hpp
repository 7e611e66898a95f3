#pragma once
// NASDAQ BinaryFILE 1.00 (../shared/specs/nasdaq-binaryfile-1.0.txt; PROTOCOLS.md §2.1):
//
//   repeat { u16 BE length ; length bytes of message }      (the length excludes itself)
//
// A zero-length message marks the end of the session; a file without it is incomplete by the
// spec, but real NASDAQ samples simply stop after S/'C' (PROTOCOLS.md §2.1), so both are
// accepted and the report says which one this was. Bytes after the marker are reported, never
// decoded. A block that runs past the end of the file is a truncated tail: where it starts and how
// many bytes are missing are reported.
//
// MappedFile gives the file as one read-only span (mmap), so the reader is a plain pointer walk
// over memory: no read() per message, no copy, no allocation.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "gateways/common/endian.hpp"
#include "gateways/itch/decoder.hpp"

namespace hft::files {

// An error opening or mapping a file; what() names the file and the errno text.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// RAII read-only private mapping of a whole regular file. An empty file is a valid, empty span
// (mmap refuses length 0, so nothing is mapped). Move-only.
class MappedFile {
 public:
  MappedFile() noexcept = default;
  // Throws FileError ("<path>: open: No such file or directory", "<path>: not a regular file").
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  [[nodiscard]] const std::uint8_t* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  void release() noexcept;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
};

// What the framing of one BinaryFILE looked like.
struct BinaryFileReport {
  std::uint64_t messages = 0;            // length-prefixed messages before the end (marker excluded)
  std::uint64_t consumed = 0;            // bytes of whole blocks, the marker's 2 bytes included
  bool end_marker = false;               // the zero-length end-of-session message was present
  std::uint64_t end_marker_offset = 0;   // where it starts
  std::uint64_t bytes_after_marker = 0;  // present after the marker, not decoded
  bool truncated = false;                // the file ends inside a block
  std::uint64_t truncated_offset = 0;    // where that block (its length prefix) starts
  // Bytes that would complete it: the rest of the prefix and body when the prefix is whole; when
  // only one byte of the prefix is there, the missing prefix byte (the body length is unknown).
  std::uint64_t truncated_missing = 0;

  // Ends with the marker and nothing cut or trailing.
  [[nodiscard]] bool complete() const noexcept { return end_marker && !truncated && bytes_after_marker == 0; }
};

// One message of a BinaryFILE as it lies in the file.
struct RawMessage {
  const std::uint8_t* data = nullptr;  // the message (type byte first), inside the mapping
  std::size_t length = 0;              // 1..65535 (a zero length is the end marker, never returned)
  std::uint64_t offset = 0;            // of its 2-byte length prefix in the file
};

// Iterates the raw messages of a BinaryFILE (tools: dump, split, count by type). next() returns
// false at the marker, at the end of the data or at a truncated block; report() is then final.
class BinaryFileCursor {
 public:
  explicit BinaryFileCursor(std::span<const std::uint8_t> file) noexcept : data_(file.data()), size_(file.size()) {}

  bool next(RawMessage& out) noexcept {
    if (done_) return false;
    const std::size_t left = size_ - off_;
    if (left == 0) return finish();
    if (left < 2) return finish_truncated(2 - left);
    const std::size_t len = wire::load_be16(data_ + off_);
    if (len == 0) {
      report_.end_marker = true;
      report_.end_marker_offset = off_;
      off_ += 2;
      report_.bytes_after_marker = size_ - off_;
      return finish();
    }
    if (len > left - 2) return finish_truncated(len - (left - 2));
    out.data = data_ + off_ + 2;
    out.length = len;
    out.offset = off_;
    off_ += 2 + len;
    ++report_.messages;
    return true;
  }
  [[nodiscard]] const BinaryFileReport& report() const noexcept { return report_; }
  [[nodiscard]] std::uint64_t offset() const noexcept { return off_; }

 private:
  bool finish() noexcept {
    done_ = true;
    report_.consumed = off_;
    return false;
  }
  bool finish_truncated(std::size_t missing) noexcept {
    report_.truncated = true;
    report_.truncated_offset = off_;
    report_.truncated_missing = missing;
    return finish();
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t off_ = 0;
  bool done_ = false;
  BinaryFileReport report_;
};

// Fills the tail fields of a report from where block decoding stopped.
BinaryFileReport describe_binary_file(std::span<const std::uint8_t> file, const itch::BlockStreamResult& r) noexcept;

// Decodes every ITCH message of a BinaryFILE into `handler` (see gateways/itch/decoder.hpp) with
// the project's decoder; wrong lengths and unknown types are counted in `stats` and skipped.
template <class Handler>
BinaryFileReport decode_binary_file(std::span<const std::uint8_t> file, Handler& handler,
                                    itch::DecodeStats& stats) noexcept {
  const itch::BlockStreamResult r =
      itch::decode_blocks(file.data(), file.size(), handler, stats, ~std::size_t{0}, /*stop_at_empty=*/true);
  return describe_binary_file(file, r);
}

}  // namespace hft::files
