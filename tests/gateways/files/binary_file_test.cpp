// BinaryFILE: mapping, framing report (end marker, bytes after it, truncated tail), raw cursor.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gateways/files/binary_file.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/test_data.hpp"

namespace {

using namespace hft;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("hft_binfile_" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    const fs::path p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// An ITCH Order Delete (19 bytes) with the given reference number.
std::vector<std::uint8_t> order_delete(std::uint8_t ref) {
  std::vector<std::uint8_t> m(19, 0);
  m[0] = 'D';
  m[18] = ref;
  return m;
}

void append_block(std::vector<std::uint8_t>& file, const std::vector<std::uint8_t>& msg) {
  file.push_back(static_cast<std::uint8_t>(msg.size() >> 8));
  file.push_back(static_cast<std::uint8_t>(msg.size()));
  file.insert(file.end(), msg.begin(), msg.end());
}

struct Deletes {
  std::vector<std::uint64_t> refs;
  void on_order_delete(const itch::OrderDelete& m) { refs.push_back(m.order_reference_number()); }
};

TEST(MappedFile, MapsAFileAndMoves) {
  TempDir tmp;
  const auto p = tmp.write("a.bin", {1, 2, 3, 4, 5});
  files::MappedFile f(p.string());
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f.data()[0], 1);
  EXPECT_EQ(f.data()[4], 5);
  EXPECT_EQ(f.path(), p.string());
  files::MappedFile g(std::move(f));
  EXPECT_EQ(g.size(), 5u);
  EXPECT_EQ(f.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from map is empty
  EXPECT_EQ(f.data(), nullptr);
  files::MappedFile h;
  h = std::move(g);
  EXPECT_EQ(h.bytes().size(), 5u);
  EXPECT_EQ(h.bytes()[2], 3);
}

TEST(MappedFile, EmptyFileIsAnEmptySpan) {
  TempDir tmp;
  const auto p = tmp.write("empty.bin", {});
  files::MappedFile f(p.string());
  EXPECT_EQ(f.size(), 0u);
  Deletes d;
  itch::DecodeStats stats;
  const auto rep = files::decode_binary_file(f.bytes(), d, stats);
  EXPECT_EQ(rep.messages, 0u);
  EXPECT_FALSE(rep.truncated);
  EXPECT_FALSE(rep.end_marker);
  EXPECT_FALSE(rep.complete());
}

TEST(MappedFile, ErrorsNameTheFileAndTheReason) {
  TempDir tmp;
  const std::string missing = (tmp.path() / "no_such_file.itch").string();
  try {
    files::MappedFile f(missing);
    FAIL() << "opened a missing file";
  } catch (const files::FileError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(missing), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
  try {
    files::MappedFile f(tmp.path().string());
    FAIL() << "mapped a directory";
  } catch (const files::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(BinaryFile, EndMarkerAndBytesAfterItAreReportedNotDecoded) {
  std::vector<std::uint8_t> file;
  append_block(file, order_delete(1));
  append_block(file, order_delete(2));
  file.push_back(0);
  file.push_back(0);  // end of session
  const std::size_t marker_end = file.size();
  append_block(file, order_delete(3));  // after the marker: must not be decoded

  Deletes d;
  itch::DecodeStats stats;
  const auto rep = files::decode_binary_file(file, d, stats);
  EXPECT_EQ(d.refs, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(rep.messages, 2u);
  EXPECT_TRUE(rep.end_marker);
  EXPECT_EQ(rep.end_marker_offset, 42u);
  EXPECT_EQ(rep.consumed, marker_end);
  EXPECT_EQ(rep.bytes_after_marker, 21u);
  EXPECT_FALSE(rep.truncated);
  EXPECT_FALSE(rep.complete());

  file.resize(marker_end);
  const auto clean = files::decode_binary_file(file, d, stats);
  EXPECT_TRUE(clean.complete());
  EXPECT_EQ(clean.bytes_after_marker, 0u);
}

TEST(BinaryFile, TruncatedTailIsLocatedAndMeasured) {
  std::vector<std::uint8_t> whole;
  append_block(whole, order_delete(1));
  append_block(whole, order_delete(2));  // 42 bytes
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    const std::vector<std::uint8_t> file(whole.begin(), whole.begin() + static_cast<long>(cut));
    Deletes d;
    itch::DecodeStats stats;
    const auto rep = files::decode_binary_file(file, d, stats);
    const std::size_t whole_blocks = cut / 21;
    EXPECT_EQ(rep.messages, whole_blocks) << cut;
    EXPECT_EQ(d.refs.size(), whole_blocks) << cut;
    const bool cut_inside = cut % 21 != 0;
    EXPECT_EQ(rep.truncated, cut_inside) << cut;
    if (cut_inside) {
      EXPECT_EQ(rep.truncated_offset, whole_blocks * 21) << cut;
      const std::size_t have = cut % 21;
      EXPECT_EQ(rep.truncated_missing, have == 1 ? 1u : 21 - have) << cut;
    }

    // The cursor reports the same.
    files::BinaryFileCursor cur(file);
    files::RawMessage m;
    std::size_t n = 0;
    while (cur.next(m)) {
      EXPECT_EQ(m.length, 19u);
      EXPECT_EQ(m.offset, n * 21);
      EXPECT_EQ(m.data, file.data() + n * 21 + 2);
      ++n;
    }
    EXPECT_FALSE(cur.next(m));
    EXPECT_EQ(n, whole_blocks);
    EXPECT_EQ(cur.report().truncated, rep.truncated) << cut;
    EXPECT_EQ(cur.report().truncated_offset, rep.truncated_offset) << cut;
    EXPECT_EQ(cur.report().truncated_missing, rep.truncated_missing) << cut;
    EXPECT_EQ(cur.report().consumed, rep.consumed) << cut;
  }
}

TEST(BinaryFile, CursorStopsAtMarkerAndCountsTrailingBytes) {
  std::vector<std::uint8_t> file;
  append_block(file, order_delete(7));
  file.push_back(0);
  file.push_back(0);
  file.push_back(0xAB);
  files::BinaryFileCursor cur(file);
  files::RawMessage m;
  ASSERT_TRUE(cur.next(m));
  EXPECT_EQ(m.data[18], 7);
  EXPECT_FALSE(cur.next(m));
  EXPECT_TRUE(cur.report().end_marker);
  EXPECT_EQ(cur.report().end_marker_offset, 21u);
  EXPECT_EQ(cur.report().bytes_after_marker, 1u);
  EXPECT_EQ(cur.report().messages, 1u);
}

TEST(BinaryFile, DecodingAllocatesNothing) {
  ASSERT_TRUE(hft::testing::counting_active());
  std::vector<std::uint8_t> file;
  for (int i = 0; i < 100; ++i) append_block(file, order_delete(static_cast<std::uint8_t>(i)));
  struct Sum {
    std::uint64_t s = 0;
    void on_order_delete(const itch::OrderDelete& m) { s += m.order_reference_number(); }
  } sum;
  itch::DecodeStats stats;
  hft::testing::AllocationScope scope;
  const auto rep = files::decode_binary_file(file, sum, stats);
  files::BinaryFileCursor cur(file);
  files::RawMessage m;
  std::size_t n = 0;
  while (cur.next(m)) ++n;
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(rep.messages, 100u);
  EXPECT_EQ(n, 100u);
  EXPECT_EQ(sum.s, 99u * 100 / 2);
}

TEST(BinaryFileRealData, SnippetCursorWalksEveryMessage) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const files::MappedFile f((dir / "itch/12302019_SNIPPET.NASDAQ_ITCH50").string());
  files::BinaryFileCursor cur(f.bytes());
  files::RawMessage m;
  std::uint64_t n = 0;
  std::uint64_t bytes = 0;
  std::uint64_t last_offset = 0;
  while (cur.next(m)) {
    ++n;
    bytes += m.length;
    last_offset = m.offset;
    EXPECT_EQ(m.length, itch::kMessageLength[m.data[0]]);
  }
  EXPECT_EQ(n, 1000u);
  EXPECT_EQ(bytes + 2 * n, 35'570u);
  EXPECT_EQ(last_offset + 2 + m.length, 35'570u);
  EXPECT_FALSE(cur.report().truncated);
  EXPECT_FALSE(cur.report().end_marker);
}

}  // namespace
