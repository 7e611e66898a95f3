// The journal end to end: writer -> files -> reader, with the damage a power loss or a bad disk
// leaves (torn tails at every byte, bit flips, truncated and foreign segments), reopen-and-append,
// the flusher's policies, and no allocation on append.
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateways/ouch/codec.hpp"
#include "pipeline/events.hpp"
#include "pipeline/journal/reader.hpp"
#include "pipeline/journal/writer.hpp"
#include "tests/pipeline/journal/journal_test_util.hpp"
#include "tests/support/alloc_counter.hpp"

namespace hft::journal {
namespace {

using namespace testing;

class Journal : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fresh_dir("lib"); }
  void TearDown() override { fs::remove_all(dir_); }

  // n intents after the writer's own kWriterOpened record (sequence 1).
  void write_intents(int n, std::uint64_t segment_bytes = 64 << 10) {
    JournalWriter w(small_config(dir_, segment_bytes), kInstance, kDate, 1);
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(append_retry([&] { return w.append(intent(static_cast<std::uint64_t>(i)), 1000 + static_cast<std::uint64_t>(i)); }),
                AppendStatus::kOk);
  }

  fs::path dir_;
};

TEST_F(Journal, EveryRecordTypeRoundTrips) {
  IntentPayload in = intent(42);
  in.intent_type = static_cast<std::uint8_t>(pipeline::IntentType::kReplace);
  in.orig_user_ref_num = 41;
  in.post_only = 1;
  in.tif = static_cast<std::uint8_t>(pipeline::TimeInForce::kIoc);
  RefusalPayload refusal{};
  refusal.intent = intent(43);
  refusal.reason = static_cast<std::uint16_t>(pipeline::RejectReason::kPriceBand);
  SessionStatePayload state{};
  state.next_soup_sequence = 123456789;
  state.next_user_ref_num = 5000;
  state.flags = 1;
  std::memcpy(state.session, "SESSION001", 10);

  ouch::EnterOrder enter;
  enter.user_ref_num = 7;
  enter.quantity = 300;
  enter.symbol = ouch::Symbol::from("MSFT");
  enter.price = 4'123'400;
  enter.options.set_post_only('P');
  std::uint8_t sent[256];
  const std::size_t sent_n = ouch::encode(sent, sizeof sent, enter);
  ASSERT_GT(sent_n, ouch::EnterOrder::kFixedSize);
  ouch::OrderExecuted exec;
  exec.timestamp = 34'200'000'000'000;
  exec.user_ref_num = 7;
  exec.quantity = 100;
  exec.price = 4'123'400;
  exec.match_number = 99;
  std::uint8_t recv[256];
  const std::size_t recv_n = ouch::encode(recv, sizeof recv, exec);
  const std::string command = "set-limit max_order_quantity=500";

  {
    JournalWriter w(small_config(dir_), kInstance, kDate, 10);
    EXPECT_EQ(w.open_report().records, 0u);
    EXPECT_EQ(w.append(in, 11), AppendStatus::kOk);
    EXPECT_EQ(w.append(refusal, 12), AppendStatus::kOk);
    EXPECT_EQ(w.append_sent({sent, sent_n}, 13), AppendStatus::kOk);
    EXPECT_EQ(w.append_received(777, {recv, recv_n}, 14), AppendStatus::kOk);
    EXPECT_EQ(w.append_received(0, {recv, recv_n}, 15), AppendStatus::kOk);
    EXPECT_EQ(w.append_command(command, 16), AppendStatus::kOk);
    EXPECT_EQ(w.append(state, 17), AppendStatus::kOk);
    std::vector<std::uint8_t> big(kMaxBlob + 1, 'x');
    EXPECT_EQ(w.append_sent(big, 18), AppendStatus::kTooLarge);
    EXPECT_EQ(w.append_command({}, 19), AppendStatus::kOk);  // an empty blob is a valid record
    EXPECT_EQ(w.next_sequence(), 10u);
  }
  JournalReader reader = JournalReader::open_dir(dir_.string(), kInstance, kDate);
  Record r;
  ASSERT_TRUE(reader.next(r));
  WriterOpenedPayload opened{};
  ASSERT_TRUE(r.get(opened));
  EXPECT_EQ(r.header.sequence, 1u);
  EXPECT_EQ(r.header.timestamp_ns, 10u);
  EXPECT_EQ(opened.truncated_bytes, 0u);
  EXPECT_EQ(opened.pid, static_cast<std::uint32_t>(::getpid()));

  ASSERT_TRUE(reader.next(r));
  IntentPayload in2{};
  ASSERT_TRUE(r.get(in2));
  EXPECT_EQ(std::memcmp(&in, &in2, sizeof in), 0);
  EXPECT_EQ(r.header.sequence, 2u);
  EXPECT_EQ(r.header.timestamp_ns, 11u);
  EXPECT_FALSE(r.get(refusal));  // wrong type: refused

  ASSERT_TRUE(reader.next(r));
  RefusalPayload refusal2{};
  ASSERT_TRUE(r.get(refusal2));
  EXPECT_EQ(std::memcmp(&refusal, &refusal2, sizeof refusal), 0);

  BlobPayload head{};
  std::span<const std::uint8_t> bytes;
  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.header.type, RecordType::kOuchSent);
  ASSERT_TRUE(r.blob(head, bytes));
  EXPECT_EQ(head.soup_sequence, 0u);
  ASSERT_EQ(bytes.size(), sent_n);
  ouch::EnterOrder enter2;
  ASSERT_EQ(ouch::decode(bytes.data(), bytes.size(), enter2), ouch::DecodeError::kOk);
  EXPECT_EQ(enter2, enter);

  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.header.type, RecordType::kOuchReceived);
  ASSERT_TRUE(r.blob(head, bytes));
  EXPECT_EQ(head.soup_sequence, 777u);
  EXPECT_EQ(head.sequenced, 1);
  ouch::OrderExecuted exec2;
  ASSERT_EQ(ouch::decode(bytes.data(), bytes.size(), exec2), ouch::DecodeError::kOk);
  EXPECT_EQ(exec2, exec);

  ASSERT_TRUE(reader.next(r));
  ASSERT_TRUE(r.blob(head, bytes));
  EXPECT_EQ(head.sequenced, 0);
  EXPECT_EQ(head.soup_sequence, 0u);

  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.header.type, RecordType::kCommand);
  ASSERT_TRUE(r.blob(head, bytes));
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), command);

  ASSERT_TRUE(reader.next(r));
  SessionStatePayload state2{};
  ASSERT_TRUE(r.get(state2));
  EXPECT_EQ(std::memcmp(&state, &state2, sizeof state), 0);

  ASSERT_TRUE(reader.next(r));
  ASSERT_TRUE(r.blob(head, bytes));
  EXPECT_EQ(bytes.size(), 0u);
  EXPECT_EQ(r.header.sequence, 9u);
  EXPECT_EQ(r.offset % kRecordAlign, 0u);

  EXPECT_FALSE(reader.next(r));
  EXPECT_TRUE(reader.issue().ok()) << reader.issue().message();
  EXPECT_EQ(reader.records(), 9u);
}

TEST_F(Journal, RotatesAcrossSegmentsWithoutAGap) {
  write_intents(3000);  // 80-byte records: about 800 per 64 KiB segment
  const ReadAll all = read_dir(dir_);
  ASSERT_TRUE(all.issue.ok()) << all.issue.message();
  ASSERT_EQ(all.records.size(), 3001u);
  EXPECT_TRUE(continuous(all));
  JournalReader reader = JournalReader::open_dir(dir_.string(), kInstance, kDate);
  Record r;
  while (reader.next(r)) {
  }
  const auto& segs = reader.segments();
  ASSERT_GE(segs.size(), 4u);
  std::uint64_t expected_first = 1;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].header.segment_index, i);
    EXPECT_EQ(segs[i].header.first_sequence, expected_first);
    EXPECT_EQ(segs[i].first_sequence, expected_first);
    EXPECT_EQ(segs[i].file_bytes, 64u << 10);
    expected_first = segs[i].last_sequence + 1;
  }
  // The intents come back in order with their payloads.
  for (std::size_t i = 1; i < all.records.size(); ++i) {
    IntentPayload p{};
    ASSERT_EQ(all.payloads[i].size(), sizeof p);
    std::memcpy(&p, all.payloads[i].data(), sizeof p);
    ASSERT_EQ(p.order_id, i - 1);
  }
  // close() removed the prepared segment that received nothing.
  EXPECT_FALSE(fs::exists(segment_path(dir_, static_cast<std::uint32_t>(segs.size()))));
}

// A power loss while the last record was being written: every prefix of it survives, the rest
// reads as zeros (a preallocated file) or is missing (a file cut short). Each is a torn tail:
// the records before it are all there, and a writer reopening continues the sequence after them.
TEST_F(Journal, TornTailAtEveryByteOfTheLastRecord) {
  write_intents(5);
  const fs::path seg = segment_path(dir_, 0);
  const std::vector<std::uint8_t> clean = read_bytes(seg);
  const ReadAll all = read_dir(dir_);
  ASSERT_EQ(all.records.size(), 6u);
  const Record last = all.records.back();
  const std::size_t size = last.header.size;
  for (int cut_file = 0; cut_file < 2; ++cut_file) {
    for (std::size_t k = 0; k < size; ++k) {
      std::vector<std::uint8_t> bytes = clean;
      if (cut_file != 0) {
        bytes.resize(last.offset + k);
      } else {
        std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(last.offset + k),
                  bytes.begin() + static_cast<std::ptrdiff_t>(last.offset + size), 0);
      }
      const std::vector<std::pair<std::string, std::span<const std::uint8_t>>> segs{{"seg0", bytes}};
      const ReadAll r = read_all(JournalReader::from_memory(segs));
      // Zeroing bytes that were zero (the intent's padding) leaves the record whole.
      const bool intact = cut_file == 0 && k > 0 &&
                          std::all_of(clean.begin() + static_cast<std::ptrdiff_t>(last.offset + k),
                                      clean.begin() + static_cast<std::ptrdiff_t>(last.offset + size), [](auto b) { return b == 0; });
      if (intact) {
        ASSERT_EQ(r.records.size(), 6u) << "cut at " << k;
        EXPECT_TRUE(r.issue.ok());
        continue;
      }
      ASSERT_EQ(r.records.size(), 5u) << "cut at " << k;
      ASSERT_TRUE(continuous(r));
      if (k == 0) {
        EXPECT_TRUE(r.issue.ok()) << r.issue.message();  // the record was never begun: a clean end
      } else {
        ASSERT_EQ(r.issue.problem, Problem::kTornTail) << "cut at " << k << ": " << r.issue.message();
        EXPECT_EQ(r.issue.offset, last.offset);
        EXPECT_EQ(r.issue.file, "seg0");
      }
    }
  }
  // Garbage rather than zeros after the cut (a sector half written): still a torn tail.
  std::vector<std::uint8_t> bytes = clean;
  for (std::size_t k = last.offset + 10; k < last.offset + size + 40; ++k) bytes[k] = 0xA5;
  const std::vector<std::pair<std::string, std::span<const std::uint8_t>>> segs{{"seg0", bytes}};
  EXPECT_EQ(read_all(JournalReader::from_memory(segs)).issue.problem, Problem::kTornTail);
}

TEST_F(Journal, ReopenAfterATornTailTruncatesAndContinuesTheSequence) {
  write_intents(5);
  const fs::path seg = segment_path(dir_, 0);
  const ReadAll before = read_dir(dir_);
  const Record last = before.records.back();
  std::vector<std::uint8_t> bytes = read_bytes(seg);
  const std::size_t k = last.header.size / 2;
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(last.offset + k), bytes.end(), 0);
  bytes[last.offset + last.header.size + 3] = 0x5A;  // and a stray byte after it
  write_bytes(seg, bytes);
  const std::uint64_t torn_sequence = last.header.sequence;
  {
    JournalWriter w(small_config(dir_), kInstance, kDate, 5);
    EXPECT_EQ(w.open_report().records, torn_sequence - 1);
    EXPECT_GT(w.open_report().truncated_bytes, 0u);
    EXPECT_NE(w.open_report().torn.find("torn tail"), std::string::npos) << w.open_report().torn;
    // The writer's own record takes the torn record's sequence: no gap, no repeat.
    EXPECT_EQ(w.next_sequence(), torn_sequence + 1);
    ASSERT_EQ(w.append(intent(100), 6), AppendStatus::kOk);
  }
  const ReadAll after = read_dir(dir_);
  ASSERT_TRUE(after.issue.ok()) << after.issue.message();
  ASSERT_EQ(after.records.size(), torn_sequence + 1);
  EXPECT_TRUE(continuous(after));
  EXPECT_EQ(after.records[torn_sequence - 1].header.type, RecordType::kWriterOpened);
  WriterOpenedPayload opened{};
  std::memcpy(&opened, after.payloads[torn_sequence - 1].data(), sizeof opened);
  EXPECT_GT(opened.truncated_bytes, 0u);
  // A clean reopen truncates nothing and adds its own record.
  write_intents(0);
  const ReadAll again = read_dir(dir_);
  ASSERT_TRUE(again.issue.ok());
  EXPECT_EQ(again.records.size(), torn_sequence + 2);
  EXPECT_TRUE(continuous(again));
}

TEST_F(Journal, TornFileCutShortThenReopened) {
  write_intents(5);
  const fs::path seg = segment_path(dir_, 0);
  const ReadAll before = read_dir(dir_);
  const Record last = before.records.back();
  fs::resize_file(seg, last.offset + 7);
  {
    JournalWriter w(small_config(dir_), kInstance, kDate, 5);
    EXPECT_EQ(w.next_sequence(), last.header.sequence + 1);
  }
  const ReadAll after = read_dir(dir_);
  ASSERT_TRUE(after.issue.ok()) << after.issue.message();
  EXPECT_EQ(after.records.size(), last.header.sequence);
  EXPECT_TRUE(continuous(after));
}

// One flipped bit anywhere in a record that has good records after it is an error naming the
// file and the record's offset, never a silent truncation of good data.
TEST_F(Journal, BitFlipInTheMiddleIsAnErrorWithTheOffset) {
  write_intents(10);
  const fs::path seg = segment_path(dir_, 0);
  const std::vector<std::uint8_t> clean = read_bytes(seg);
  const ReadAll all = read_dir(dir_);
  const Record victim = all.records[4];
  for (std::size_t byte = 0; byte < victim.header.size; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<std::uint8_t> bytes = clean;
      bytes[victim.offset + byte] ^= static_cast<std::uint8_t>(1u << bit);
      const std::vector<std::pair<std::string, std::span<const std::uint8_t>>> segs{{seg.string(), bytes}};
      const ReadAll r = read_all(JournalReader::from_memory(segs));
      ASSERT_EQ(r.records.size(), 4u) << byte << "." << bit;
      ASSERT_TRUE(r.issue.is_error()) << byte << "." << bit << ": " << r.issue.message();
      ASSERT_EQ(r.issue.offset, victim.offset) << r.issue.message();
      ASSERT_EQ(r.issue.file, seg.string());
    }
  }
  // On disk: the writer refuses to open it, and says where.
  std::vector<std::uint8_t> bytes = clean;
  bytes[victim.offset + 30] ^= 0x10;
  write_bytes(seg, bytes);
  try {
    JournalWriter w(small_config(dir_), kInstance, kDate);
    FAIL() << "opened a corrupt journal";
  } catch (const JournalError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(fmt::format("{}:{}", seg.string(), victim.offset)), std::string::npos) << what;
    EXPECT_NE(what.find("corrupt"), std::string::npos) << what;
  }
}

TEST_F(Journal, ZeroedHoleInTheMiddleIsAnError) {
  write_intents(10);
  const fs::path seg = segment_path(dir_, 0);
  std::vector<std::uint8_t> bytes = read_bytes(seg);
  const ReadAll all = read_dir(dir_);
  const Record victim = all.records[3];
  std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(victim.offset), victim.header.size, 0);
  const std::vector<std::pair<std::string, std::span<const std::uint8_t>>> segs{{"s", bytes}};
  const ReadAll r = read_all(JournalReader::from_memory(segs));
  EXPECT_EQ(r.issue.problem, Problem::kCorrupt) << r.issue.message();
  EXPECT_EQ(r.issue.offset, victim.offset);
}

// A segment that lost its end while a later one holds records: the gap is an error.
TEST_F(Journal, TruncatedMiddleSegmentIsASequenceGap) {
  write_intents(2000);
  ASSERT_TRUE(fs::exists(segment_path(dir_, 2)));
  const fs::path seg1 = segment_path(dir_, 1);
  fs::resize_file(seg1, 20000);
  const ReadAll r = read_dir(dir_);
  ASSERT_TRUE(r.issue.is_error()) << r.issue.message();
  EXPECT_TRUE(r.issue.problem == Problem::kSequenceGap || r.issue.problem == Problem::kCorrupt) << r.issue.message();
  EXPECT_THROW(JournalWriter(small_config(dir_), kInstance, kDate), JournalError);
  // A missing segment file is named as such.
  fs::remove(seg1);
  const ReadAll m = read_dir(dir_);
  EXPECT_EQ(m.issue.problem, Problem::kMissingSegment) << m.issue.message();
}

TEST_F(Journal, SegmentFileWithoutAHeaderIsATornTail) {
  write_intents(3);
  // A crash while the flusher was preparing the next segment: a zeroed (or empty) file.
  const fs::path next = segment_path(dir_, 1);
  write_bytes(next, std::vector<std::uint8_t>(4096, 0));
  const ReadAll r = read_dir(dir_);
  EXPECT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.issue.problem, Problem::kTornTail) << r.issue.message();
  {
    JournalWriter w(small_config(dir_), kInstance, kDate);
    EXPECT_EQ(w.next_sequence(), 6u);
  }
  const ReadAll after = read_dir(dir_);
  EXPECT_TRUE(after.issue.ok()) << after.issue.message();
  EXPECT_TRUE(continuous(after));
  EXPECT_EQ(after.records.size(), 5u);
}

TEST_F(Journal, WrongDateOrInstanceIsRefused) {
  write_intents(3);
  const fs::path seg = segment_path(dir_, 0);
  Expect date;
  date.trading_date = 20240610;
  const ReadAll r1 = read_all(JournalReader::open({seg.string()}, date));
  EXPECT_EQ(r1.issue.problem, Problem::kWrongDate);
  EXPECT_NE(r1.issue.message().find("trading date 20240607 in the header, expected 20240610"), std::string::npos)
      << r1.issue.message();
  EXPECT_TRUE(r1.records.empty());
  Expect inst;
  inst.instance = "hftd-other";
  const ReadAll r2 = read_all(JournalReader::open({seg.string()}, inst));
  EXPECT_EQ(r2.issue.problem, Problem::kWrongInstance);
  EXPECT_NE(r2.issue.message().find("\"hftd-test\""), std::string::npos) << r2.issue.message();

  // Another day's journal under this day's name (copied by hand): the writer refuses it.
  fs::rename(seg, dir_ / segment_name(kInstance, 20240610, 0));
  try {
    JournalWriter w(small_config(dir_), kInstance, 20240610);
    FAIL() << "appended to another day's journal";
  } catch (const JournalError& e) {
    EXPECT_NE(std::string(e.what()).find("wrong trading date"), std::string::npos) << e.what();
  }
  // Mixed files given together disagree with the first.
  write_intents(1);
  const ReadAll mixed = read_all(JournalReader::open({segment_path(dir_, 0).string(),
                                                      (dir_ / segment_name(kInstance, 20240610, 0)).string()}));
  EXPECT_TRUE(mixed.issue.is_error());
  // And a new day in the same directory starts its own journal.
  {
    JournalWriter w(small_config(dir_), kInstance, 20240611);
    EXPECT_EQ(w.next_sequence(), 2u);
  }
}

TEST_F(Journal, BadHeaderAndForeignFiles) {
  write_intents(1);
  const fs::path seg = segment_path(dir_, 0);
  std::vector<std::uint8_t> bytes = read_bytes(seg);
  bytes[13] ^= 1;  // the date, under the header CRC
  const std::vector<std::pair<std::string, std::span<const std::uint8_t>>> segs{{"s", bytes}};
  EXPECT_EQ(read_all(JournalReader::from_memory(segs)).issue.problem, Problem::kBadHeader);
  const std::vector<std::uint8_t> text(100, 'x');
  const std::vector<std::pair<std::string, std::span<const std::uint8_t>>> foreign{{"t", text}};
  EXPECT_EQ(read_all(JournalReader::from_memory(foreign)).issue.problem, Problem::kBadHeader);
  EXPECT_EQ(read_all(JournalReader::open({(dir_ / "missing.hjl").string()})).issue.problem, Problem::kIo);
}

TEST_F(Journal, RefusesBadArguments) {
  EXPECT_THROW(JournalWriter(small_config(dir_), "bad name/", kDate), JournalError);
  EXPECT_THROW(JournalWriter(small_config(dir_), kInstance, 20241301), JournalError);
  EXPECT_THROW(JournalWriter(small_config(dir_, 5000), kInstance, kDate), JournalError);
}

TEST_F(Journal, AppendDoesNotAllocateInSteadyState) {
  ASSERT_TRUE(hft::testing::counting_active());
  JournalWriter w(small_config(dir_, 64 << 10, "interval:1ms"), kInstance, kDate);
  std::uint8_t msg[64] = {'E'};
  const IntentPayload p = intent(1);
  const hft::testing::AllocationScope scope;
  for (int i = 0; i < 5000; ++i) {  // several rotations included
    ASSERT_EQ(append_retry([&] { return w.append(p, 1); }), AppendStatus::kOk);
    ASSERT_EQ(append_retry([&] { return w.append_received(static_cast<std::uint64_t>(i + 1), msg, 2); }), AppendStatus::kOk);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_GE(w.counters().rotations, 3u);
}

// The writer's stores must take no page fault in steady state. msync write-protects the pages it
// cleans, and a store to a write-protected page of a shared file mapping faults into the file
// system (ext4's page_mkwrite joins a jbd2 transaction: it can wait for a commit, milliseconds
// when another process fsyncs). Old code: one fault per append after each sync (about 300 here).
TEST_F(Journal, AppendTakesNoPageFaultAfterASync) {
  struct statfs sf {};
  ASSERT_EQ(::statfs(dir_.c_str(), &sf), 0);
  if (sf.f_type == TMPFS_MAGIC) GTEST_SKIP() << dir_ << " is on tmpfs: no writeback, so nothing write-protects its pages";
  JournalWriter w(small_config(dir_, 1 << 20, "every"), kInstance, kDate);
  const auto faults = [] {
    struct rusage u {};
    ::getrusage(RUSAGE_THREAD, &u);
    return u.ru_minflt + u.ru_majflt;
  };
  for (int i = 0; i < 20; ++i) {  // warm-up: the first sync, the writer's own first touches
    ASSERT_EQ(w.append(intent(static_cast<std::uint64_t>(i)), 1), AppendStatus::kOk);
    ASSERT_TRUE(w.wait_durable(w.appended_sequence(), 5'000'000'000ull));
  }
  long total = 0;
  for (int i = 0; i < 300; ++i) {  // about 30 KB: pages first touched and pages cleaned by a sync
    const long before = faults();
    ASSERT_EQ(w.append(intent(static_cast<std::uint64_t>(i)), 1), AppendStatus::kOk);
    total += faults() - before;
    ASSERT_TRUE(w.wait_durable(w.appended_sequence(), 5'000'000'000ull)) << i;
  }
  EXPECT_GE(w.syncs(), 300u);
  EXPECT_LE(total, 3) << "page faults taken by 300 appends, each after a sync";
}

// A writer killed without close() (a crash, kill -9) leaves its stage in tmpfs: the next open
// writes the stage's records into the segment file first, so nothing appended is lost. Several
// rotations, so stages of more than one segment can be in flight.
TEST_F(Journal, ACrashedWritersStageIsRecoveredAtOpen) {
  JournalConfig c = small_config(dir_, 64 << 10, "none");
  c.stage_dir = (dir_ / "stage").string();
  fs::create_directories(c.stage_dir);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    JournalWriter w(c, kInstance, kDate);
    for (int i = 0; i < 3000; ++i)
      if (append_retry([&] { return w.append(intent(static_cast<std::uint64_t>(i)), 1); }) != AppendStatus::kOk) ::_exit(1);
    ::_exit(0);  // no close(): the flusher dies with the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::size_t staged = 0;
  for (const auto& e : fs::directory_iterator(c.stage_dir)) staged += e.path().filename().string().starts_with("hft-journal-") ? 1 : 0;
  EXPECT_GE(staged, 1u) << "the crashed writer's stage is in tmpfs";
  // hftd's recovery reads the journal before it opens the writer: it writes the stages back first.
  const JournalWriter::StageRecovery recovered = JournalWriter::recover_stages(c, kInstance, kDate);
  EXPECT_EQ(recovered.stages, staged);
  EXPECT_EQ(read_dir(dir_).last_sequence, 3001u);  // its kWriterOpened record and 3,000 intents
  {
    JournalWriter w(c, kInstance, kDate);
    EXPECT_EQ(w.open_report().stages_recovered, 0u);  // done already
    EXPECT_EQ(w.open_report().last_sequence, 3001u);
  }
  const ReadAll r = read_dir(dir_);
  EXPECT_TRUE(r.issue.ok()) << r.issue.message();
  EXPECT_TRUE(continuous(r));
  EXPECT_EQ(r.records.size(), 3002u);  // + the second writer's kWriterOpened: nothing lost
  EXPECT_TRUE(fs::is_empty(c.stage_dir)) << "recovered and closed stages are removed";
}

// A power loss takes tmpfs with it: the journal then holds what was synced, and opens cleanly.
TEST_F(Journal, WithoutTheStageTheSyncedPrefixRemains) {
  JournalConfig c = small_config(dir_, 64 << 10, "every");
  c.stage_dir = (dir_ / "stage").string();
  fs::create_directories(c.stage_dir);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    JournalWriter w(c, kInstance, kDate);
    for (int i = 0; i < 200; ++i)
      if (w.append(intent(static_cast<std::uint64_t>(i)), 1) != AppendStatus::kOk) ::_exit(1);
    if (!w.wait_durable(w.appended_sequence(), 5'000'000'000ull)) ::_exit(2);
    const std::uint64_t durable = w.durable_sequence();
    for (int i = 200; i < 400; ++i) (void)w.append(intent(static_cast<std::uint64_t>(i)), 1);
    if (::write(fds[1], &durable, sizeof durable) != sizeof durable) ::_exit(3);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::uint64_t durable = 0;
  ASSERT_EQ(::read(fds[0], &durable, sizeof durable), static_cast<ssize_t>(sizeof durable));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove_all(c.stage_dir);  // the power loss
  fs::create_directories(c.stage_dir);
  JournalWriter w(c, kInstance, kDate);
  EXPECT_EQ(w.open_report().stages_recovered, 0u);
  EXPECT_GE(w.open_report().last_sequence, durable);
  EXPECT_GE(durable, 201u);
}

TEST_F(Journal, SyncEveryMakesEachRecordDurable) {
  JournalWriter w(small_config(dir_, 64 << 10, "every"), kInstance, kDate);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(w.append(intent(static_cast<std::uint64_t>(i)), 1), AppendStatus::kOk);
    ASSERT_TRUE(w.wait_durable(w.appended_sequence(), 5'000'000'000ull)) << i;
  }
  EXPECT_EQ(w.durable_sequence(), w.appended_sequence());
  EXPECT_GE(w.syncs(), 10u);
  EXPECT_EQ(w.sync_errors(), 0u);
}

TEST_F(Journal, SyncIntervalBatches) {
  JournalWriter w(small_config(dir_, 64 << 10, "interval:20ms"), kInstance, kDate);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(w.append(intent(static_cast<std::uint64_t>(i)), 1), AppendStatus::kOk);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ASSERT_TRUE(w.wait_durable(w.appended_sequence(), 5'000'000'000ull));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  // At most one sync per 20 ms (plus the first): far fewer than the 200 records.
  EXPECT_LE(w.syncs(), static_cast<std::uint64_t>(ms / 20 + 2));
  EXPECT_GE(w.syncs(), 1u);
}

TEST_F(Journal, SyncNoneLeavesDurabilityToCloseAndTheKernel) {
  JournalWriter w(small_config(dir_, 64 << 10, "none"), kInstance, kDate);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(w.append(intent(static_cast<std::uint64_t>(i)), 1), AppendStatus::kOk);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(w.durable_sequence(), 0u);
  EXPECT_EQ(w.syncs(), 0u);
  const std::uint64_t last = w.appended_sequence();
  w.close();
  EXPECT_EQ(w.durable_sequence(), last);
  EXPECT_EQ(w.append(intent(1), 1), AppendStatus::kClosed);
  // Readable while another writer could be open? Here simply after close: every record is there.
  EXPECT_EQ(read_dir(dir_).records.size(), last);
}

// A reader of a live journal (hft-journal dump while hftd runs) sees a prefix, never garbage.
TEST_F(Journal, ReaderOfALiveJournalSeesAPrefix) {
  JournalWriter w(small_config(dir_), kInstance, kDate);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(w.append(intent(static_cast<std::uint64_t>(i)), 1), AppendStatus::kOk);
  // The flusher writes the stage into the segment file every pass, whatever the sync policy.
  ASSERT_TRUE(w.wait_written(w.appended_sequence(), 5'000'000'000ull));
  const ReadAll r = read_dir(dir_);
  EXPECT_TRUE(r.issue.ok()) << r.issue.message();
  EXPECT_EQ(r.records.size(), 101u);
}

}  // namespace
}  // namespace hft::journal
