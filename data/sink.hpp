#pragma once
// Where loaded rows go: a SQLite file (the default: nothing to start) or a ClickHouse server over
// its HTTP interface. Both create the tables of schema.hpp and answer the highest key already
// stored for a journal, which is where a resumed load starts. Cold path only (tools); failures
// throw std::runtime_error with the back end's message.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "data/schema.hpp"

namespace hft::data {

class Sink {
 public:
  virtual ~Sink() = default;
  // CREATE TABLE IF NOT EXISTS for every table.
  virtual void create_schema() = 0;
  // Highest seq stored in `t` for (instance, trading_date); 0 when none.
  [[nodiscard]] virtual std::uint64_t max_seq(TableId t, std::string_view instance, std::uint32_t trading_date) = 0;
  // Appends rows (column order of schema.hpp) in one batch: all or nothing where the back end allows.
  virtual void insert(TableId t, std::span<const Row> rows) = 0;
  // SELECT that returns one integer (tests, figures); 0 for an empty result.
  [[nodiscard]] virtual std::int64_t query_int(const std::string& sql) = 0;
  [[nodiscard]] virtual std::string_view kind() const noexcept = 0;
};

// A SQLite database file (created when absent). Rows go in with INSERT OR IGNORE on the primary
// key (instance, trading_date, seq), one transaction per batch, WAL journal mode.
[[nodiscard]] std::unique_ptr<Sink> open_sqlite(const std::string& path);

// http://host:port[/?database=name] of a ClickHouse server. Batches are TSV (TabSeparated) POSTs.
[[nodiscard]] std::unique_ptr<Sink> open_clickhouse(const std::string& url);

// The TabSeparated text of one cell (escapes \t \n \\ and the like; arrays as [1,2,3]).
void append_tsv(std::string& out, const Value& v);

// One HTTP/1.0 request to host:port; the status code and the body. Throws on a socket error or
// when no complete response arrives within `timeout_ms`.
struct HttpResponse {
  int status = 0;
  std::string body;
};
[[nodiscard]] HttpResponse http_request(const std::string& host, std::uint16_t port, std::string_view method,
                                        std::string_view target, std::string_view body, int timeout_ms = 30000);
[[nodiscard]] std::string url_encode(std::string_view s);

}  // namespace hft::data
