#include "data/schema.hpp"

#include <stdexcept>

namespace hft::data {
namespace {

using enum ColumnType;

std::vector<Column> with_key(std::initializer_list<Column> rest) {
  std::vector<Column> c{{"instance", kString}, {"trading_date", kUInt32}, {"seq", kUInt64}, {"ts_ns", kInt64}};
  c.insert(c.end(), rest.begin(), rest.end());
  return c;
}

std::vector<Table> make_tables() {
  std::vector<Table> t;
  // Order events: the intents risk passed (new, replace, cancel, cancel_all) and the venue's
  // answers (accepted, replaced, canceled, rejected), each with what the order is known by.
  t.push_back({TableId::kOrders, "hft_orders",
               with_key({{"symbol", kString}, {"event", kString}, {"strategy", kUInt8}, {"order_id", kUInt64},
                         {"user_ref_num", kUInt32}, {"orig_user_ref_num", kUInt32}, {"side", kString}, {"price", kInt64},
                         {"quantity", kUInt32}, {"tif", kString}, {"reason", kInt64}})});
  // Executions from the venue (OUCH Order Executed), each once (match number, UserRefNum).
  t.push_back({TableId::kFills, "hft_fills",
               with_key({{"symbol", kString}, {"strategy", kUInt8}, {"order_id", kUInt64}, {"user_ref_num", kUInt32},
                         {"side", kString}, {"quantity", kUInt32}, {"price", kInt64}, {"match_number", kUInt64},
                         {"liquidity", kString}, {"soup_seq", kUInt64}})});
  // The symbol's position after each fill (average cost, as the order manager books it).
  t.push_back({TableId::kPositions, "hft_positions",
               with_key({{"symbol", kString}, {"position", kInt64}, {"cash", kInt64}, {"realized_pnl", kInt64},
                         {"fills", kUInt64}, {"shares", kUInt64}})});
  // Strategy state: the operator's changes (event "start", "stop", "pause", "set": state is the
  // state it leaves, or the assignment) and hftd's snapshots (event "snapshot", once a second
  // when anything changed), from the journal's notes. P&L and fees in 1/10,000 $.
  t.push_back({TableId::kStrategies, "hft_strategies",
               with_key({{"symbol", kString}, {"strategy", kUInt8}, {"name", kString}, {"state", kString},
                         {"event", kString}, {"realized_pnl", kInt64}, {"unrealized_pnl", kInt64}, {"fees", kInt64},
                         {"fills", kUInt64}, {"position", kInt64}})});
  // Strategy signals (a stat-arb's z-score, a momentum strategy's trend in bps), journaled once a
  // second when they moved: name "STRATEGY.SIGNAL", value x 10,000.
  t.push_back({TableId::kSignals, "hft_signals",
               with_key({{"symbol", kString}, {"strategy", kUInt8}, {"name", kString}, {"value", kInt64}})});
  // Pre-trade risk refusals, venue rejects and operator commands (kill, halt, resume, set).
  t.push_back({TableId::kRiskEvents, "hft_risk_events",
               with_key({{"symbol", kString}, {"kind", kString}, {"reason_code", kInt64}, {"reason", kString},
                         {"strategy", kUInt8}, {"side", kString}, {"price", kInt64}, {"quantity", kUInt32},
                         {"text", kString}})});
  // Top N levels of a book after a change (hft-itch load): prices 1/10,000 $, sizes shares.
  t.push_back({TableId::kMarketTicks, "hft_market_ticks",
               with_key({{"symbol", kString}, {"locate", kUInt16}, {"bid_px", kInt64Array}, {"bid_sz", kUInt32Array},
                         {"ask_px", kInt64Array}, {"ask_sz", kUInt32Array}})});
  return t;
}

std::string_view sqlite_type(ColumnType t) {
  switch (t) {
    case kString:
    case kInt64Array:
    case kUInt32Array:
      return "TEXT";  // arrays as JSON text: [1,2,3]
    default:
      return "INTEGER";
  }
}

std::string_view clickhouse_type(ColumnType t) {
  switch (t) {
    case kInt64: return "Int64";
    case kUInt64: return "UInt64";
    case kUInt32: return "UInt32";
    case kUInt16: return "UInt16";
    case kUInt8: return "UInt8";
    case kString: return "String";
    case kInt64Array: return "Array(Int64)";
    case kUInt32Array: return "Array(UInt32)";
  }
  return "String";
}

}  // namespace

const std::vector<Table>& tables() {
  static const std::vector<Table> t = make_tables();
  return t;
}

const Table& table(TableId id) {
  const auto i = static_cast<std::size_t>(id);
  if (i >= tables().size()) throw std::out_of_range("no such table");
  return tables()[i];
}

std::string sqlite_ddl(const Table& t) {
  std::string s = "CREATE TABLE IF NOT EXISTS " + std::string(t.name) + " (";
  for (const Column& c : t.columns) s.append(c.name).append(" ").append(sqlite_type(c.type)).append(" NOT NULL, ");
  s += "PRIMARY KEY (instance, trading_date, seq))";
  return s;
}

std::string clickhouse_ddl(const Table& t) {
  std::string s = "CREATE TABLE IF NOT EXISTS " + std::string(t.name) + " (";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (i) s += ", ";
    s.append(t.columns[i].name).append(" ").append(clickhouse_type(t.columns[i].type));
  }
  s += ") ENGINE = MergeTree() PARTITION BY trading_date ORDER BY (symbol, ts_ns, seq)";
  return s;
}

}  // namespace hft::data
