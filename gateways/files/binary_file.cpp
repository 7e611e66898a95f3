#include "gateways/files/binary_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hft::files {
namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
  throw FileError(path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, "fstat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FileError(path + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      size_ = 0;
      fail(path, "mmap", err);
    }
    // The readers walk front to back once: ask for aggressive read-ahead. Advice only.
    (void)::madvise(p, size_, MADV_SEQUENTIAL | MADV_WILLNEED);
    data_ = static_cast<const std::uint8_t*>(p);
  }
  // The mapping keeps the file's pages; the descriptor is not needed any more.
  ::close(fd);
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

void MappedFile::release() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

BinaryFileReport describe_binary_file(std::span<const std::uint8_t> file, const itch::BlockStreamResult& r) noexcept {
  BinaryFileReport rep;
  rep.consumed = r.consumed;
  rep.messages = r.blocks - (r.end_marker ? 1 : 0);
  if (r.end_marker) {
    rep.end_marker = true;
    rep.end_marker_offset = r.consumed - 2;
    rep.bytes_after_marker = file.size() - r.consumed;
  }
  if (r.truncated) {
    rep.truncated = true;
    rep.truncated_offset = r.consumed;
    const std::size_t left = file.size() - r.consumed;
    rep.truncated_missing = left < 2 ? 2 - left : wire::load_be16(file.data() + r.consumed) - (left - 2);
  }
  return rep;
}

}  // namespace hft::files
