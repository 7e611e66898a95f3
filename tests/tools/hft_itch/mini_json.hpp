#pragma once
// A strict little JSON reader for the tool's output: objects (member order kept), arrays,
// strings with every escape JSON allows, and unsigned integers only, because the tool promises
// integers (a fraction, exponent or sign is a parse error here). Whitespace is allowed between
// tokens as JSON allows; trailing bytes after the value are an error.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hft::testing {

struct Json {
  enum class Kind { kNumber, kString, kArray, kObject } kind = Kind::kNumber;
  std::uint64_t number = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  [[nodiscard]] const Json* get(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
};

class JsonReader {
 public:
  static std::optional<Json> parse(std::string_view s) {
    JsonReader r(s);
    Json v;
    if (!r.value(v)) return std::nullopt;
    r.ws();
    if (r.i_ != s.size()) return std::nullopt;
    return v;
  }

 private:
  explicit JsonReader(std::string_view s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool value(Json& v) {
    ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') return object(v);
    if (c == '[') return array(v);
    if (c == '"') {
      v.kind = Json::Kind::kString;
      return string(v.text);
    }
    if (c >= '0' && c <= '9') return number(v);
    return false;
  }
  bool number(Json& v) {
    v.kind = Json::Kind::kNumber;
    const std::size_t start = i_;
    std::uint64_t n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const std::uint64_t d = static_cast<std::uint64_t>(s_[i_] - '0');
      if (n > (UINT64_MAX - d) / 10) return false;
      n = n * 10 + d;
      ++i_;
    }
    if (i_ - start > 1 && s_[start] == '0') return false;  // no leading zeros in JSON
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    v.number = n;
    return true;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool string(std::string& out) {
    if (s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // raw control characters are not JSON
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (s_.size() - i_ < 4) return false;
          int cp = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hex(s_[i_++]);
            if (h < 0) return false;
            cp = cp * 16 + h;
          }
          if (cp > 0xFF) return false;  // the tool escapes single bytes only
          out += static_cast<char>(cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool array(Json& v) {
    v.kind = Json::Kind::kArray;
    ++i_;
    if (eat(']')) return true;
    for (;;) {
      Json item;
      if (!value(item)) return false;
      v.items.push_back(std::move(item));
      if (eat(']')) return true;
      if (!eat(',')) return false;
    }
  }
  bool object(Json& v) {
    v.kind = Json::Kind::kObject;
    ++i_;
    if (eat('}')) return true;
    for (;;) {
      ws();
      std::string key;
      if (i_ >= s_.size() || !string(key)) return false;
      if (v.get(key) != nullptr) return false;  // duplicate key
      if (!eat(':')) return false;
      Json item;
      if (!value(item)) return false;
      v.members.emplace_back(std::move(key), std::move(item));
      if (eat('}')) return true;
      if (!eat(',')) return false;
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace hft::testing
