#pragma once
// `hft-exchange --executions FILE` ([root] executions): one JSON line appended per execution the
// venue reports to a user (each OUCH Order Executed 'E' put on a user's sequenced stream), so that
// tests and operators reconcile a client's positions from outside (issue 10):
//
//   {"user":"HFT01","user_ref_num":7,"order_token":"T7","symbol":"AAA","side":"B","price":1000000,
//    "quantity":100,"match_number":12,"timestamp":34200000000000,"venue":"NASDAQ",
//    "liquidity":"R","fee":0.3}
//
//   user          the SoupBinTCP username         user_ref_num  the order chain's current UserRefNum
//   order_token   the order's ClOrdID (OUCH 5.0's successor of OUCH 4's Order Token); omitted when blank
//   side          "B", or "S" for every sell (S, T short, E short exempt)
//   price         1/10,000 $ (OUCH Price), the execution's   quantity  shares of this execution
//   match_number  the OUCH/ITCH Match Number (both sides of a cross between two users: two lines, one number)
//   timestamp     ns since midnight, the 'E' message's Timestamp
//   venue         the venue's name (--venue)       liquidity  the OUCH Liquidity Flag ("A" added, "R" removed)
//   fee           dollars for this execution: quantity x the fee per share for adding ("A") or
//                 removing liquidity (--fee-add / --fee-remove); negative = a rebate
//
// Strings are escaped (", \ and any byte outside 0x20-0x7E as \u00XX): a ClOrdID is the client's
// bytes. The file is opened for append (O_APPEND): a restarted venue adds to it.
//
// Cost on the venue's loop: record() formats into a buffer allocated once (std::to_chars, no
// allocation, no syscall); flush() is one write(2), called once per loop pass that recorded
// something, so a reader sees each line within one pass of the execution (a pass waits at most
// 10 ms), and a venue killed -9 loses at most the lines of the pass it was in. A full buffer is
// written at once. A failed write is counted and its lines dropped (never a stalled loop); the
// exit summary reports it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/socket.hpp"

namespace hft::venue {

struct ExecutionRecord {
  std::string_view user;
  std::uint32_t user_ref_num = 0;
  std::string_view order_token;  // "" = none
  std::string_view symbol;
  char side = 'B';               // 'B' or 'S'
  std::uint64_t price = 0;
  std::uint32_t quantity = 0;
  std::uint64_t match_number = 0;
  std::uint64_t timestamp = 0;
  // Issue 14: the venue's name, the OUCH liquidity flag ('A' added, 'R' removed, ...) and the
  // fee of this execution in millionths of a dollar (negative = a rebate). Empty venue: omitted.
  std::string_view venue;
  char liquidity = 'R';
  std::int64_t fee_micros = 0;
};

struct ExecutionLogStats {
  std::uint64_t lines = 0;         // recorded
  std::uint64_t bytes = 0;         // written
  std::uint64_t writes = 0;        // write(2) calls
  std::uint64_t write_errors = 0;  // failed writes (their lines are lost)
  std::uint64_t lost_lines = 0;
  int last_errno = 0;
};

class ExecutionLog {
 public:
  static constexpr std::size_t kMaxLine = 640;  // the longest line: every string escaped in full is < 520

  // Opens (creates) `path` for append; throws std::system_error naming it.
  explicit ExecutionLog(const std::string& path, std::size_t buffer_bytes = 64 * 1024);
  ExecutionLog(const ExecutionLog&) = delete;
  ExecutionLog& operator=(const ExecutionLog&) = delete;

  void record(const ExecutionRecord& r) noexcept;
  // Writes what is buffered; false on a write error.
  bool flush() noexcept;
  [[nodiscard]] bool pending() const noexcept { return used_ != 0; }
  [[nodiscard]] const ExecutionLogStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // The line of `r` (newline included) into `out` (at least kMaxLine bytes); its length.
  static std::size_t format(const ExecutionRecord& r, char* out) noexcept;

 private:
  std::string path_;
  net::Fd fd_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  std::size_t lines_buffered_ = 0;
  ExecutionLogStats stats_;
};

}  // namespace hft::venue
