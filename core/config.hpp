#pragma once
// TOML configuration (toml++), read once at start-up. Every accessor validates type and range;
// every error names the file, the line and the dotted key, and is thrown as ConfigError so the
// program prints it and refuses to start. Keys that no accessor asked for are reported by
// reject_unknown_keys(), so a typo never silently falls back to a default.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
class node;
}  // namespace v3
}  // namespace toml

namespace hft::core {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigDocument;

class ConfigSection {
 public:
  ConfigSection(std::shared_ptr<const ConfigDocument> doc, const toml::table* table, std::string path);

  [[nodiscard]] bool has(std::string_view key) const;

  [[nodiscard]] std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  [[nodiscard]] std::int64_t require_integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  [[nodiscard]] double number(std::string_view key, double fallback, double min, double max) const;
  [[nodiscard]] double require_number(std::string_view key, double min, double max) const;
  [[nodiscard]] bool boolean(std::string_view key, bool fallback) const;
  [[nodiscard]] std::string string(std::string_view key, std::string_view fallback) const;
  [[nodiscard]] std::string require_string(std::string_view key) const;
  [[nodiscard]] std::vector<std::string> strings(std::string_view key) const;  // missing: empty
  [[nodiscard]] std::vector<std::int64_t> integers(std::string_view key, std::int64_t min, std::int64_t max) const;

  // One of a fixed set of strings, mapped to a value.
  template <class E>
  [[nodiscard]] E choice(std::string_view key, E fallback, std::initializer_list<std::pair<std::string_view, E>> options) const {
    if (!has(key)) {
      note_seen(key);
      return fallback;
    }
    const std::string text = require_string(key);
    std::string allowed;
    for (const auto& [name, value] : options) {
      if (name == text) return value;
      allowed += allowed.empty() ? "" : ", ";
      allowed += '"' + std::string(name) + '"';
    }
    fail(key, "expected one of " + allowed + ", got \"" + text + "\"");
  }

  [[nodiscard]] std::optional<ConfigSection> section(std::string_view key) const;
  [[nodiscard]] ConfigSection require_section(std::string_view key) const;
  [[nodiscard]] std::vector<ConfigSection> sections(std::string_view key) const;  // array of tables

  // Throws ConfigError "<file>:<line>:<col>: <path.key>: <what>".
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;
  // Throws for the first key of this table that no accessor read.
  void reject_unknown_keys() const;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string key_path(std::string_view key) const;
  [[nodiscard]] const std::string& file() const noexcept;

 private:
  const toml::node* find(std::string_view key) const;
  void note_seen(std::string_view key) const { seen_->insert(std::string(key)); }
  std::string location(const toml::node* node) const;

  std::shared_ptr<const ConfigDocument> doc_;
  const toml::table* table_;
  std::string path_;
  std::shared_ptr<std::set<std::string>> seen_;
};

class ConfigDocument : public std::enable_shared_from_this<ConfigDocument> {
 public:
  // Throws ConfigError naming the file, line and column of a syntax error, or an unreadable file.
  static std::shared_ptr<ConfigDocument> load_file(const std::string& path);
  static std::shared_ptr<ConfigDocument> parse(std::string_view text, std::string source_name);
  ~ConfigDocument();

  [[nodiscard]] ConfigSection root() const;
  [[nodiscard]] const std::string& file() const noexcept { return file_; }

 private:
  ConfigDocument(std::string file, std::unique_ptr<toml::table> table);
  std::string file_;
  std::unique_ptr<toml::table> table_;
};

}  // namespace hft::core
