#pragma once
// Turns the write-ahead journal's records into rows of schema.hpp's tables and stores them in a
// Sink. Idempotent: at start it asks the sink for each table's highest seq of this journal
// (instance, trading date) and writes only rows above it, so loading twice, or resuming after a
// crash of the loader, never duplicates a row. The state the rows need (which order a UserRefNum
// is, the positions) is rebuilt from every record, so a resumed load reads the journal from its
// start but writes only what is missing.
//
//   auto sink = data::open_sqlite("hft.db");
//   data::JournalLoader loader(*sink);
//   loader.load(reader);   // every record the reader yields
//   loader.flush();
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/schema.hpp"
#include "data/sink.hpp"
#include "pipeline/journal/reader.hpp"

namespace hft::data {

struct LoadStats {
  std::uint64_t records = 0;             // journal records read
  std::uint64_t rows[kTableCount] = {};  // rows written per table (this loader)
  std::uint64_t skipped_rows = 0;        // rows at or below a table's stored seq (already loaded)
  [[nodiscard]] std::uint64_t total_rows() const noexcept {
    std::uint64_t n = 0;
    for (const auto r : rows) n += r;
    return n;
  }
};

class JournalLoader {
 public:
  explicit JournalLoader(Sink& sink, std::size_t batch_rows = 5000);

  // Every record the reader yields (from where it stands); records already seen by this loader
  // (seq at or below the last one) are skipped, so a follower can reopen the journal and call
  // load again. Returns the records taken. Flushes every `batch_rows` rows.
  std::uint64_t load(journal::JournalReader& reader);
  // One record (the journal identity is given since a Record does not carry it).
  void on_record(const journal::Record& r, std::string_view instance, std::uint32_t trading_date);
  void flush();

  [[nodiscard]] const LoadStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_seq_; }

 private:
  struct OrderInfo {
    std::string symbol;
    std::uint64_t order_id = 0;
    std::uint8_t strategy = 0;
    char side = 'B';
    std::int64_t price = 0;
  };
  struct Position {
    std::int64_t position = 0, cost = 0, cash = 0, realized = 0;
    std::uint64_t fills = 0, shares = 0;
  };

  void start_journal(std::string_view instance, std::uint32_t date);
  void add(TableId t, std::uint64_t seq, std::int64_t ts, Row&& rest);
  bool strategy_note(std::uint64_t seq, std::int64_t ts, const std::string& text);
  void book_fill(const journal::Record& r, std::uint32_t user_ref, std::uint32_t qty, std::int64_t price,
                 std::uint64_t match, char liquidity, std::uint64_t soup_seq);

  Sink& sink_;
  std::size_t batch_rows_;
  std::string instance_;
  std::uint32_t date_ = 0;
  std::uint64_t stored_[kTableCount] = {};
  std::vector<Row> pending_[kTableCount];
  std::size_t pending_rows_ = 0;
  std::uint64_t last_seq_ = 0;
  LoadStats stats_;
  std::unordered_map<std::uint32_t, OrderInfo> orders_;      // by UserRefNum
  std::map<std::string, Position> positions_;                 // by symbol
  std::set<std::pair<std::uint64_t, std::uint32_t>> matches_;  // (match number, UserRefNum) booked
};

// The name of a pipeline::RejectReason code ("max_order_quantity", ...; "venue" for 100+).
[[nodiscard]] std::string_view reject_reason_name(std::uint16_t code) noexcept;

}  // namespace hft::data
