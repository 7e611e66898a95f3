#include "core/config.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace hft::core {

ConfigDocument::ConfigDocument(std::string file, std::unique_ptr<toml::table> table)
    : file_(std::move(file)), table_(std::move(table)) {}

ConfigDocument::~ConfigDocument() = default;

std::shared_ptr<ConfigDocument> ConfigDocument::parse(std::string_view text, std::string source_name) {
  try {
    auto table = std::make_unique<toml::table>(toml::parse(text, std::string_view(source_name)));
    return std::shared_ptr<ConfigDocument>(new ConfigDocument(std::move(source_name), std::move(table)));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: syntax error: {}", source_name, where.line, where.column, e.description()));
  }
}

std::shared_ptr<ConfigDocument> ConfigDocument::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open configuration file", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read configuration file", path));
  return parse(buf.str(), path);
}

ConfigSection ConfigDocument::root() const { return ConfigSection(shared_from_this(), table_.get(), ""); }

ConfigSection::ConfigSection(std::shared_ptr<const ConfigDocument> doc, const toml::table* table, std::string path)
    : doc_(std::move(doc)), table_(table), path_(std::move(path)), seen_(std::make_shared<std::set<std::string>>()) {}

const std::string& ConfigSection::file() const noexcept { return doc_->file(); }

std::string ConfigSection::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string ConfigSection::location(const toml::node* node) const {
  const toml::source_region& src = node != nullptr ? node->source() : table_->source();
  if (src.begin.line == 0) return doc_->file();
  return fmt::format("{}:{}:{}", doc_->file(), src.begin.line, src.begin.column);
}

void ConfigSection::fail(std::string_view key, std::string_view what) const {
  const toml::node* node = find(key);
  if (node == nullptr) {
    const std::string table_name = path_.empty() ? std::string("top level") : "[" + path_ + "]";
    throw ConfigError(fmt::format("{}: {}: {} (in the {} table)", location(nullptr), key_path(key), what, table_name));
  }
  throw ConfigError(fmt::format("{}: {}: {}", location(node), key_path(key), what));
}

const toml::node* ConfigSection::find(std::string_view key) const { return table_->get(key); }

bool ConfigSection::has(std::string_view key) const { return find(key) != nullptr; }

namespace {
std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
  }
}
}  // namespace

std::int64_t ConfigSection::require_integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  note_seen(key);
  const toml::node* n = find(key);
  if (n == nullptr) fail(key, "required key is missing");
  const auto v = n->value<std::int64_t>();
  if (!n->is_integer() || !v) fail(key, fmt::format("expected an integer, got {}", type_name(*n)));
  if (*v < min || *v > max) fail(key, fmt::format("{} is out of range [{}, {}]", *v, min, max));
  return *v;
}

std::int64_t ConfigSection::integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
  note_seen(key);
  return has(key) ? require_integer(key, min, max) : fallback;
}

double ConfigSection::require_number(std::string_view key, double min, double max) const {
  note_seen(key);
  const toml::node* n = find(key);
  if (n == nullptr) fail(key, "required key is missing");
  if (!n->is_number()) fail(key, fmt::format("expected a number, got {}", type_name(*n)));
  const double v = n->is_integer() ? static_cast<double>(*n->value<std::int64_t>()) : *n->value<double>();
  if (!std::isfinite(v) || v < min || v > max) fail(key, fmt::format("{} is out of range [{}, {}]", v, min, max));
  return v;
}

double ConfigSection::number(std::string_view key, double fallback, double min, double max) const {
  note_seen(key);
  return has(key) ? require_number(key, min, max) : fallback;
}

bool ConfigSection::boolean(std::string_view key, bool fallback) const {
  note_seen(key);
  const toml::node* n = find(key);
  if (n == nullptr) return fallback;
  if (!n->is_boolean()) fail(key, fmt::format("expected true or false, got {}", type_name(*n)));
  return *n->value<bool>();
}

std::string ConfigSection::require_string(std::string_view key) const {
  note_seen(key);
  const toml::node* n = find(key);
  if (n == nullptr) fail(key, "required key is missing");
  if (!n->is_string()) fail(key, fmt::format("expected a string, got {}", type_name(*n)));
  return *n->value<std::string>();
}

std::string ConfigSection::string(std::string_view key, std::string_view fallback) const {
  note_seen(key);
  return has(key) ? require_string(key) : std::string(fallback);
}

std::vector<std::string> ConfigSection::strings(std::string_view key) const {
  note_seen(key);
  std::vector<std::string> out;
  const toml::node* n = find(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) fail(key, fmt::format("expected an array of strings, got {}", type_name(*n)));
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    if (!e.is_string()) fail(key, fmt::format("element {} is {}, expected a string", i, type_name(e)));
    out.push_back(*e.value<std::string>());
  }
  return out;
}

std::vector<std::int64_t> ConfigSection::integers(std::string_view key, std::int64_t min, std::int64_t max) const {
  note_seen(key);
  std::vector<std::int64_t> out;
  const toml::node* n = find(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) fail(key, fmt::format("expected an array of integers, got {}", type_name(*n)));
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    if (!e.is_integer()) fail(key, fmt::format("element {} is {}, expected an integer", i, type_name(e)));
    const auto v = *e.value<std::int64_t>();
    if (v < min || v > max) fail(key, fmt::format("element {} = {} is out of range [{}, {}]", i, v, min, max));
    out.push_back(v);
  }
  return out;
}

std::optional<ConfigSection> ConfigSection::section(std::string_view key) const {
  note_seen(key);
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  const toml::table* t = n->as_table();
  if (t == nullptr) fail(key, fmt::format("expected a table, got {}", type_name(*n)));
  return ConfigSection(doc_, t, key_path(key));
}

ConfigSection ConfigSection::require_section(std::string_view key) const {
  auto s = section(key);
  if (!s) fail(key, "required table is missing");
  return *s;
}

std::vector<ConfigSection> ConfigSection::sections(std::string_view key) const {
  note_seen(key);
  std::vector<ConfigSection> out;
  const toml::node* n = find(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) fail(key, fmt::format("expected an array of tables ([[{}]]), got {}", key_path(key), type_name(*n)));
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = arr->get(i)->as_table();
    if (t == nullptr) fail(key, fmt::format("element {} is not a table", i));
    out.emplace_back(doc_, t, fmt::format("{}[{}]", key_path(key), i));
  }
  return out;
}

void ConfigSection::reject_unknown_keys() const {
  std::string known;
  for (const auto& k : *seen_) known += (known.empty() ? "" : ", ") + k;
  for (auto&& [k, v] : *table_) {
    if (seen_->count(std::string(k.str())) == 0) {
      const auto& at = k.source().begin.line != 0 ? k.source().begin : v.source().begin;
      throw ConfigError(fmt::format("{}:{}:{}: {}: unknown key (known keys here: {})", doc_->file(), at.line, at.column,
                                    key_path(k.str()), known.empty() ? std::string("none") : known));
    }
  }
}

}  // namespace hft::core
