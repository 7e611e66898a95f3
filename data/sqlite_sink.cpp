#include <sqlite3.h>

#include <stdexcept>

#include "data/sink.hpp"

namespace hft::data {
namespace {

std::string json_array(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

class SqliteSink final : public Sink {
 public:
  explicit SqliteSink(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("sqlite: cannot open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  }
  ~SqliteSink() override {
    for (sqlite3_stmt* s : insert_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  SqliteSink(const SqliteSink&) = delete;
  SqliteSink& operator=(const SqliteSink&) = delete;

  void create_schema() override {
    for (const Table& t : tables()) exec(sqlite_ddl(t));
  }

  std::uint64_t max_seq(TableId t, std::string_view instance, std::uint32_t date) override {
    sqlite3_stmt* s = prepare("SELECT COALESCE(MAX(seq), 0) FROM " + std::string(table(t).name) +
                              " WHERE instance = ?1 AND trading_date = ?2");
    sqlite3_bind_text(s, 1, instance.data(), static_cast<int>(instance.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, date);
    std::uint64_t v = 0;
    if (sqlite3_step(s) == SQLITE_ROW) v = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    sqlite3_finalize(s);
    return v;
  }

  void insert(TableId t, std::span<const Row> rows) override {
    if (rows.empty()) return;
    sqlite3_stmt* s = insert_statement(t);
    exec("BEGIN");
    for (const Row& row : rows) {
      sqlite3_reset(s);
      for (std::size_t i = 0; i < row.size(); ++i) {
        const int col = static_cast<int>(i + 1);
        if (const auto* n = std::get_if<std::int64_t>(&row[i])) {
          sqlite3_bind_int64(s, col, *n);
        } else if (const auto* str = std::get_if<std::string>(&row[i])) {
          sqlite3_bind_text(s, col, str->data(), static_cast<int>(str->size()), SQLITE_TRANSIENT);
        } else {
          const std::string a = json_array(std::get<std::vector<std::int64_t>>(row[i]));
          sqlite3_bind_text(s, col, a.data(), static_cast<int>(a.size()), SQLITE_TRANSIENT);
        }
      }
      if (sqlite3_step(s) != SQLITE_DONE) {
        const std::string msg = sqlite3_errmsg(db_);
        exec("ROLLBACK");
        throw std::runtime_error("sqlite: insert into " + std::string(table(t).name) + ": " + msg);
      }
    }
    exec("COMMIT");
  }

  std::int64_t query_int(const std::string& sql) override {
    sqlite3_stmt* s = prepare(sql);
    std::int64_t v = 0;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }

  std::string_view kind() const noexcept override { return "sqlite"; }

 private:
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "error";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + msg + " (" + sql.substr(0, 80) + ")");
    }
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error("sqlite: " + std::string(sqlite3_errmsg(db_)) + " (" + sql.substr(0, 80) + ")");
    return s;
  }
  sqlite3_stmt* insert_statement(TableId t) {
    auto& s = insert_[static_cast<std::size_t>(t)];
    if (s != nullptr) return s;
    const Table& tab = table(t);
    std::string sql = "INSERT OR IGNORE INTO " + std::string(tab.name) + " VALUES (";
    for (std::size_t i = 0; i < tab.columns.size(); ++i) sql += i ? ",?" : "?";
    s = prepare(sql + ")");
    return s;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_[kTableCount] = {};
};

}  // namespace

std::unique_ptr<Sink> open_sqlite(const std::string& path) { return std::make_unique<SqliteSink>(path); }

}  // namespace hft::data
