#pragma once
// The tables the journal loader and hft-itch write (docs/data.md): one definition, from which the
// SQLite and the ClickHouse DDL are both generated, so the two back ends cannot drift apart.
//
// Every table starts with (instance, trading_date, seq, ts_ns): the journal's identity and record
// sequence (hft_market_ticks: the ITCH file's message number). That triple is the key: a row
// exists at most once per key, which is what makes loading idempotent.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hft::data {

enum class ColumnType : std::uint8_t { kInt64, kUInt64, kUInt32, kUInt16, kUInt8, kString, kInt64Array, kUInt32Array };

struct Column {
  std::string_view name;
  ColumnType type;
};

enum class TableId : std::uint8_t { kOrders, kFills, kPositions, kStrategies, kSignals, kRiskEvents, kMarketTicks };
inline constexpr std::size_t kTableCount = 7;

struct Table {
  TableId id;
  std::string_view name;
  std::vector<Column> columns;  // the first four are instance, trading_date, seq, ts_ns
};

[[nodiscard]] const std::vector<Table>& tables();
[[nodiscard]] const Table& table(TableId id);

// A cell: integers (every integer column), text, or an array of integers.
using Value = std::variant<std::int64_t, std::string, std::vector<std::int64_t>>;
using Row = std::vector<Value>;

// CREATE TABLE IF NOT EXISTS ... for each back end.
[[nodiscard]] std::string sqlite_ddl(const Table& t);
// MergeTree partitioned by trading_date, ordered by (symbol, ts_ns, seq) where the table has a
// symbol column (every table does).
[[nodiscard]] std::string clickhouse_ddl(const Table& t);

}  // namespace hft::data
