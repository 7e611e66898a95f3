// hft-itch as a program: every subcommand run as a child process on small generated files and on
// the real NASDAQ bytes in ../shared/data, checked against independent computations.
#include <cmath>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "gateways/common/endian.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/strategy/execution.hpp"
#include "pipeline/features/book_driver.hpp"
#include "pipeline/features/fit.hpp"
#include "venue/sim/day_generator.hpp"
#include "tests/pipeline/book/reference_book.hpp"
#include "data/sink.hpp"
#include "tests/support/clickhouse_server.hpp"
#include "tests/support/test_data.hpp"
#include "tests/tools/hft_itch/mini_json.hpp"
#include "tests/tools/hft_itch/tool_runner.hpp"

#ifndef HFT_BIN_DIR
#error "HFT_BIN_DIR (the build's bin/ folder) must be defined by tests/tools/CMakeLists.txt"
#endif

namespace hft {
namespace {

namespace fs = std::filesystem;
using testing::Json;
using testing::JsonReader;
using testing::RunResult;

constexpr int kExitOk = 0, kExitIo = 1, kExitUsage = 2, kExitBadInput = 3;

void append_block(std::vector<std::uint8_t>& file, const std::uint8_t* msg, std::size_t len) {
  file.push_back(static_cast<std::uint8_t>(len >> 8));
  file.push_back(static_cast<std::uint8_t>(len));
  file.insert(file.end(), msg, msg + len);
}

class HftItchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("hft_itch_test_{}_{}", ::getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(fs::exists(program())) << program() << " is missing: build the hft-itch target";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static fs::path program() { return fs::path(HFT_BIN_DIR) / "hft-itch"; }
  RunResult run(const std::vector<std::string>& args) { return testing::run_tool(program(), args, dir_); }
  fs::path path(const std::string& name) const { return dir_ / name; }

  static void write_file(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  static std::vector<std::uint8_t> read_bytes(const fs::path& p) {
    const std::string s = testing::slurp(p);
    return {s.begin(), s.end()};
  }

  fs::path dir_;
};

// The value of "name: value" in the stats output (the key padded to a column).
std::string stat(const std::string& out, const std::string& key) {
  for (const std::string& line : testing::split_lines(out)) {
    if (line.rfind(key, 0) == 0 && line.size() > key.size() && line[key.size()] == ' ') {
      const std::size_t v = line.find_first_not_of(' ', key.size());
      return v == std::string::npos ? "" : line.substr(v);
    }
  }
  return "<missing " + key + ">";
}

// The count column of a type row ("A     Add Order - No MPID Attribution      367").
std::uint64_t type_count(const std::string& out, char type, const std::string& name) {
  const std::string head = fmt::format("{:<6}{}", type, name);
  for (const std::string& line : testing::split_lines(out)) {
    if (line.rfind(head, 0) == 0) return std::stoull(line.substr(line.find_last_of(' ') + 1));
  }
  ADD_FAILURE() << "no row for type " << type;
  return ~std::uint64_t{0};
}

// True when `text` has a price in dollars: digits, '.', exactly four digits.
bool has_dollar_price(const std::string& text) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t dot = text.find('.'); dot != std::string::npos; dot = text.find('.', dot + 1)) {
    if (dot == 0 || !digit(text[dot - 1]) || dot + 5 > text.size()) continue;
    bool four = true;
    for (std::size_t k = 1; k <= 4; ++k) four &= digit(text[dot + k]);
    if (four && (dot + 5 == text.size() || !digit(text[dot + 5]))) return true;
  }
  return false;
}

// Parses exactly "messages=N seconds=S msgs_per_s=X ns_per_msg=Y" (S and Y with a fraction,
// N and X integers); returns N, or nullopt when the line has any other shape.
std::optional<std::uint64_t> totals_line(const std::string& line) {
  const char* keys[] = {"messages=", "seconds=", "msgs_per_s=", "ns_per_msg="};
  const bool fraction[] = {false, true, false, true};
  std::size_t pos = 0;
  std::uint64_t messages = 0;
  for (int k = 0; k < 4; ++k) {
    if (line.compare(pos, std::strlen(keys[k]), keys[k]) != 0) return std::nullopt;
    pos += std::strlen(keys[k]);
    const std::size_t end = std::min(line.find(' ', pos), line.size());
    const std::string value = line.substr(pos, end - pos);
    const std::size_t dot = value.find('.');
    if (value.empty() || (dot != std::string::npos) != fraction[k] || dot == 0 || dot + 1 == value.size()) return std::nullopt;
    if (value.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
    if (k == 0) messages = std::stoull(value);
    pos = end + (k < 3 ? 1 : 0);
    if (k < 3 && (end == line.size() || line[end] != ' ')) return std::nullopt;
  }
  if (pos != line.size()) return std::nullopt;
  return messages;
}

// ---- stats -------------------------------------------------------------------------------------

TEST_F(HftItchTest, StatsOfTheRealSnippetMatchTheDataReadme) {
  HFT_REQUIRE_SHARED_DATA(data);
  const RunResult r = run({"stats", (data / "itch/12302019_SNIPPET.NASDAQ_ITCH50").string()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(stat(r.out, "file bytes"), "35570");
  EXPECT_EQ(stat(r.out, "messages"), "1000");
  EXPECT_EQ(stat(r.out, "message bytes"), "33570");  // 35,570 minus 1000 length prefixes
  EXPECT_EQ(stat(r.out, "stocks (locates seen)"), "321");
  EXPECT_EQ(stat(r.out, "invalid (bad length)"), "0");
  EXPECT_EQ(stat(r.out, "truncated"), "0");
  EXPECT_EQ(stat(r.out, "unknown type"), "0");
  EXPECT_EQ(stat(r.out, "first timestamp"), "34200000000230 (09:30:00.000000230)");
  EXPECT_EQ(stat(r.out, "last timestamp"), "34200002364611 (09:30:00.002364611)");
  const std::map<char, std::uint64_t> readme{{'A', 367}, {'U', 225}, {'F', 193}, {'D', 167}, {'E', 28}, {'X', 6},
                                             {'P', 4},   {'Q', 4},   {'I', 4},   {'S', 1},   {'C', 1}};
  std::vector<std::size_t> rows;  // all 23 types, in the spec's order
  for (const char t : itch::kMessageTypes) {
    const auto it = readme.find(t);
    EXPECT_EQ(type_count(r.out, t, std::string(itch::message_spec(t)->name)), it == readme.end() ? 0u : it->second)
        << t;
    rows.push_back(r.out.find(fmt::format("\n{:<6}{}", t, itch::message_spec(t)->name)));
  }
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
  EXPECT_EQ(std::count(rows.begin(), rows.end(), std::string::npos), 0);
}

TEST_F(HftItchTest, TruncatedFileIsCountedByStatsAndFailsDecodeWithCode3) {
  HFT_REQUIRE_SHARED_DATA(data);
  const std::string file = (data / "itch/start_of_day_truncated.NASDAQ_ITCH50").string();
  const RunResult s = run({"stats", file});
  EXPECT_EQ(s.code, kExitOk) << s.err;  // stats reports errors, it does not fail on them
  EXPECT_EQ(stat(s.out, "messages"), "16");
  EXPECT_EQ(stat(s.out, "truncated"), "1");
  EXPECT_EQ(type_count(s.out, 'R', "Stock Directory"), 7u);
  EXPECT_EQ(type_count(s.out, 'Y', "Reg SHO Short Sale Price Test Restricted Indicator"), 4u);
  EXPECT_NE(s.err.find("truncated"), std::string::npos) << s.err;

  const RunResult d = run({"decode", file});
  EXPECT_EQ(d.code, kExitBadInput);
  EXPECT_EQ(testing::split_lines(d.out).size(), 16u);  // every whole message is still printed
  EXPECT_NE(d.err.find("truncated"), std::string::npos) << d.err;
  EXPECT_NE(d.err.find("offset 497"), std::string::npos) << d.err;

  const RunResult b = run({"book", file, "--format", "json"});
  EXPECT_EQ(b.code, kExitBadInput);
  EXPECT_NE(b.err.find("truncated"), std::string::npos) << b.err;
}

// ---- decode: every type, every field ------------------------------------------------------------

// One message of each of the 23 types with a distinct value in every field, written straight
// from the field table (not through the tool's code), and the JSON members each must produce.
struct AllTypes {
  std::vector<std::uint8_t> file;
  std::vector<std::vector<std::pair<std::string, std::string>>> expected;  // per message: key, raw JSON value
};

AllTypes all_types_file() {
  AllTypes a;
  auto json_string = [](std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c < 0x20 || c >= 0x7f) {
        out += fmt::format("\\u{:04x}", c);
      } else {
        out += ch;
      }
    }
    return out + "\"";
  };
  for (std::size_t ti = 0; ti < itch::kMessageTypes.size(); ++ti) {
    const char t = itch::kMessageTypes[ti];
    const itch::MessageSpec* spec = itch::message_spec(t);
    std::uint8_t msg[64] = {};
    msg[0] = static_cast<std::uint8_t>(t);
    std::vector<std::pair<std::string, std::string>> members{{"type", fmt::format("\"{}\"", t)}};
    std::vector<itch::FieldSpec> fields(itch::header_fields().begin(), itch::header_fields().end());
    fields.insert(fields.end(), spec->fields.begin(), spec->fields.end());
    for (std::size_t fi = 0; fi < fields.size(); ++fi) {
      const itch::FieldSpec& f = fields[fi];
      std::uint8_t* p = msg + f.offset;
      std::string value;
      switch (f.kind) {
        case itch::FieldKind::kU16: {
          const auto v = static_cast<std::uint16_t>(1000 * ti + fi + 1);
          wire::store_be16(p, v);
          value = std::to_string(v);
          break;
        }
        case itch::FieldKind::kU32:
        case itch::FieldKind::kPrice4: {  // near 2^32: must print unsigned
          const auto v = static_cast<std::uint32_t>(4'000'000'000u - 1000 * ti - fi);
          wire::store_be32(p, v);
          value = std::to_string(v);
          break;
        }
        case itch::FieldKind::kU48: {
          const std::uint64_t v = 34'200'000'000'000 + 1'000'003 * ti;
          wire::store_be48(p, v);
          value = std::to_string(v);
          break;
        }
        case itch::FieldKind::kU64:
        case itch::FieldKind::kPrice8: {  // above 2^63: must print unsigned
          const std::uint64_t v = 0xFEDC'BA98'7654'3210ull - 100 * ti - fi;
          wire::store_be64(p, v);
          value = std::to_string(v);
          break;
        }
        case itch::FieldKind::kChar: {
          // Every fifth a space: a Char field keeps it (a space is a value there).
          const char c = (ti + fi) % 5 == 0 ? ' ' : static_cast<char>('A' + (ti + fi) % 26);
          *p = static_cast<std::uint8_t>(c);
          value = json_string(std::string(1, c));
          break;
        }
        case itch::FieldKind::kAlpha: {
          std::string text;
          if (f.name == "stock") {
            text = t == 'R' ? "GFOR=" : t == 'A' ? "A\"B\\C" : t == 'F' ? std::string("X\x01Y\x7f", 4) : fmt::format("S{}", ti);
          } else if (f.name == "reason") {
            text = "";  // all spaces: an empty string
          } else {
            text = std::string(f.length - 1, static_cast<char>('a' + ti % 26));  // one trailing space
          }
          std::memset(p, ' ', f.length);
          std::memcpy(p, text.data(), std::min<std::size_t>(text.size(), f.length));
          value = json_string(text);
          break;
        }
      }
      members.emplace_back(std::string(f.name), value);
    }
    append_block(a.file, msg, spec->length);
    a.expected.push_back(std::move(members));
  }
  return a;
}

std::string raw_json(const Json& v) {
  switch (v.kind) {
    case Json::Kind::kNumber: return std::to_string(v.number);
    case Json::Kind::kString: {
      std::string out = "\"";
      for (const char ch : v.text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
          out += '\\';
          out += ch;
        } else if (c < 0x20 || c >= 0x7f) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
      }
      return out + "\"";
    }
    default: return "<not a scalar>";
  }
}

TEST_F(HftItchTest, DecodeJsonlPrintsEveryFieldOfAll23TypesUnderItsSpecName) {
  const AllTypes a = all_types_file();
  write_file(path("all.itch"), a.file);
  const RunResult r = run({"decode", path("all.itch").string()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = testing::split_lines(r.out);
  ASSERT_EQ(lines.size(), 23u) << r.out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::optional<Json> j = JsonReader::parse(lines[i]);
    ASSERT_TRUE(j.has_value()) << "not JSON: " << lines[i];
    ASSERT_EQ(j->kind, Json::Kind::kObject);
    const auto& want = a.expected[i];
    ASSERT_EQ(j->members.size(), want.size()) << lines[i];
    for (std::size_t k = 0; k < want.size(); ++k) {
      EXPECT_EQ(j->members[k].first, want[k].first) << lines[i];
      EXPECT_EQ(raw_json(j->members[k].second), want[k].second) << want[k].first << " in " << lines[i];
    }
  }
  // Spot checks against the names the documentation promises.
  EXPECT_NE(r.out.find("\"stock\":\"GFOR=\""), std::string::npos);
  EXPECT_NE(r.out.find("\"stock\":\"A\\\"B\\\\C\""), std::string::npos);
  EXPECT_NE(r.out.find("\"stock\":\"X\\u0001Y\\u007f\""), std::string::npos);
  for (const char* name : {"stock_locate", "tracking_number", "timestamp", "order_reference_number", "buy_sell_indicator",
                           "shares", "stock", "price", "attribution", "executed_shares", "match_number", "printable",
                           "execution_price", "cancelled_shares", "original_order_reference_number",
                           "new_order_reference_number", "cross_price", "cross_type"}) {
    EXPECT_NE(r.out.find(fmt::format("\"{}\":", name)), std::string::npos) << name;
  }
}

TEST_F(HftItchTest, DecodeTextPrintsOneReadableLinePerMessageWithDollarPrices) {
  std::vector<std::uint8_t> file;
  std::uint8_t msg[64];
  const itch::MessageHeader h{13, 0, 34'200'123'456'789};
  append_block(file, msg, itch::encode::add_order(msg, h, 42, 'B', 300, itch::Symbol::from("AAPL"), 1'234'500));
  std::size_t n = itch::encode_generic(msg, 'V', {{"timestamp", 1}, {"level_1", 123'456'789'012}});
  append_block(file, msg, n);
  write_file(path("t.itch"), file);
  const RunResult r = run({"decode", path("t.itch").string(), "--format", "text"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto lines = testing::split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0],
            "09:30:00.123456789 A Add Order - No MPID Attribution: stock_locate=13 tracking_number=0 "
            "order_reference_number=42 buy_sell_indicator=B shares=300 stock=AAPL price=123.4500");
  EXPECT_NE(lines[1].find("level_1=1234.56789012 "), std::string::npos) << lines[1];  // Price(8)
}

TEST_F(HftItchTest, DecodeSkipsAndCountsBadMessagesAndExitsWithCode3) {
  std::vector<std::uint8_t> file;
  std::uint8_t msg[64] = {};
  const std::size_t n = itch::encode::order_delete(msg, itch::MessageHeader{1, 0, 5}, 77);
  append_block(file, msg, n);
  append_block(file, msg, n - 1);  // a 'D' one byte short: wrong length for its type
  msg[0] = 'z';
  append_block(file, msg, n);  // not an ITCH 5.0 type
  msg[0] = 'D';
  append_block(file, msg, n);
  write_file(path("bad.itch"), file);

  const RunResult d = run({"decode", path("bad.itch").string()});
  EXPECT_EQ(d.code, kExitBadInput);
  EXPECT_EQ(testing::split_lines(d.out).size(), 2u) << d.out;
  EXPECT_NE(d.err.find("wrong length"), std::string::npos) << d.err;
  EXPECT_NE(d.err.find("unknown type"), std::string::npos) << d.err;

  const RunResult s = run({"stats", path("bad.itch").string()});
  EXPECT_EQ(s.code, kExitOk);
  EXPECT_EQ(stat(s.out, "messages"), "2");
  EXPECT_EQ(stat(s.out, "invalid (bad length)"), "1");
  EXPECT_EQ(stat(s.out, "unknown type"), "1");
}

// ---- pcap --------------------------------------------------------------------------------------

TEST_F(HftItchTest, DecodePcapCarriesMoldUdp64SessionAndSequence) {
  HFT_REQUIRE_SHARED_DATA(data);
  // Two packets of session 000010059B: sequence 14764496 (1 message), then 19009117 (38).
  const std::string pcap = (data / "pcap/nasdaq_itch50/Multiple.Packets.pcap").string();
  const RunResult r = run({"decode", "--pcap", pcap});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto lines = testing::split_lines(r.out);
  ASSERT_EQ(lines.size(), 39u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::optional<Json> j = JsonReader::parse(lines[i]);
    ASSERT_TRUE(j.has_value()) << lines[i];
    const Json* session = j->get("session");
    const Json* sequence = j->get("sequence");
    ASSERT_NE(session, nullptr) << lines[i];
    ASSERT_NE(sequence, nullptr) << lines[i];
    EXPECT_EQ(session->text, "000010059B");
    EXPECT_EQ(sequence->number, i == 0 ? 14'764'496u : 19'009'117u + (i - 1)) << lines[i];
    ASSERT_NE(j->get("stock_locate"), nullptr);
    ASSERT_NE(j->get("timestamp"), nullptr);
  }
  EXPECT_EQ(JsonReader::parse(lines[0])->get("type")->text, "D");

  const RunResult s = run({"stats", "--pcap", pcap});
  ASSERT_EQ(s.code, kExitOk) << s.err;
  EXPECT_EQ(stat(s.out, "messages"), "39");
  EXPECT_EQ(stat(s.out, "packets"), "2");
  EXPECT_EQ(stat(s.out, "sessions"), "1");
  EXPECT_NE(s.out.find("session \"000010059B\": packets 2 messages 39 sequence 14764496..19009154 gaps 1"),
            std::string::npos)
      << s.out;
  EXPECT_EQ(stat(s.out, "frames"), "2");
}

TEST_F(HftItchTest, NotACaptureWithPcapIsAnIoError) {
  write_file(path("x.itch"), std::vector<std::uint8_t>(100, 0x41));
  const RunResult r = run({"stats", "--pcap", path("x.itch").string()});
  EXPECT_EQ(r.code, kExitIo);
  EXPECT_NE(r.err.find("x.itch"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// ---- gen ---------------------------------------------------------------------------------------

TEST_F(HftItchTest, GenIsDeterministicPerSeedAndWritesTheRequestedCount) {
  const std::vector<std::string> common{"--messages", "20000", "--stocks", "20"};
  auto gen = [&](const std::string& name, const std::string& seed) {
    std::vector<std::string> args{"gen", "--out", path(name).string(), "--seed", seed};
    args.insert(args.end(), common.begin(), common.end());
    const RunResult r = run(args);
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_NE(r.out.find("wrote 20000 messages"), std::string::npos) << r.out;
    return read_bytes(path(name));
  };
  const auto a = gen("a.itch", "5");
  const auto b = gen("b.itch", "5");
  const auto c = gen("c.itch", "6");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // The generator's own bytes: the tool adds nothing and drops nothing (its default: the realistic day).
  sim::DayConfig cfg = sim::DayConfig::realistic();
  cfg.messages = 20000;
  cfg.stocks = 20;
  cfg.seed = 5;
  EXPECT_EQ(a, sim::generate_binaryfile(cfg));
  const RunResult s = run({"stats", path("a.itch").string()});
  EXPECT_EQ(stat(s.out, "messages"), "20000");
  EXPECT_EQ(stat(s.out, "stocks (locates seen)"), "20");
}

// ---- book --------------------------------------------------------------------------------------

// The canonical lines, from the reference book (ordered maps; tests/pipeline/book) and the
// directory's symbols.
struct Symbols {
  std::map<std::uint16_t, std::string> by_locate;
  void on_stock_directory(const itch::StockDirectory& m) { by_locate[m.stock_locate()] = std::string(m.stock().view()); }
};

std::string expected_books(const std::vector<std::uint8_t>& file, std::uint64_t until, std::size_t depth,
                           const std::string& only = "") {
  book::testing::ReferenceBook ref;
  Symbols symbols;
  itch::DecodeStats stats;
  std::size_t off = 0;
  while (off + 2 <= file.size()) {
    const std::size_t len = wire::load_be16(file.data() + off);
    const std::uint8_t* msg = file.data() + off + 2;
    if (wire::load_be48(msg + 5) > until) break;
    itch::decode_message(msg, len, ref, stats);
    itch::decode_message(msg, len, symbols, stats);
    off += 2 + len;
  }
  std::string out;
  for (const auto& [locate, sym] : symbols.by_locate) {
    if (!only.empty() && sym != only) continue;
    auto bids = ref.levels(locate, book::Side::kBid);
    auto asks = ref.levels(locate, book::Side::kAsk);
    if (bids.empty() && asks.empty()) continue;
    if (depth != 0) {
      bids.resize(std::min(bids.size(), depth));
      asks.resize(std::min(asks.size(), depth));
    }
    auto side = [](const std::vector<book::Level>& levels) {
      std::string s = "[";
      for (std::size_t i = 0; i < levels.size(); ++i) {
        s += fmt::format("{}[{},{},{}]", i ? "," : "", levels[i].price, levels[i].shares, levels[i].orders);
      }
      return s + "]";
    };
    out += fmt::format("{{\"stock\":\"{}\",\"locate\":{},\"bids\":{},\"asks\":{}}}\n", sym, locate, side(bids), side(asks));
  }
  return out;
}

TEST_F(HftItchTest, BookJsonEqualsAnIndependentlyBuiltBook) {
  sim::DayConfig cfg;
  cfg.messages = 100'000;
  cfg.stocks = 40;
  cfg.seed = 11;
  const std::vector<std::uint8_t> file = sim::generate_binaryfile(cfg);
  write_file(path("day.itch"), file);

  const RunResult r = run({"book", path("day.itch").string(), "--format", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::string want = expected_books(file, ~std::uint64_t{0}, 0);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(r.out, want);
  for (const std::string& line : testing::split_lines(r.out)) {
    const std::optional<Json> j = JsonReader::parse(line);
    ASSERT_TRUE(j.has_value()) << line;
    ASSERT_EQ(j->members.size(), 4u);
    EXPECT_EQ(j->members[0].first, "stock");
    EXPECT_EQ(j->members[1].first, "locate");
    EXPECT_EQ(j->members[2].first, "bids");
    EXPECT_EQ(j->members[3].first, "asks");
  }

  // --depth, --stock and --until (mid-morning: the generated day runs 03:00-20:05).
  const std::uint64_t until = 36'000'000'000'000;  // 10:00:00
  const std::string sym = testing::split_lines(want)[3].substr(10, testing::split_lines(want)[3].find('"', 10) - 10);
  const RunResult d = run({"book", path("day.itch").string(), "-f", "json", "--depth", "3", "--stock", sym, "--until",
                           "10:00:00"});
  ASSERT_EQ(d.code, kExitOk) << d.err;
  EXPECT_EQ(d.out, expected_books(file, until, 3, sym));
  EXPECT_NE(d.out, expected_books(file, ~std::uint64_t{0}, 3, sym));  // --until really cut the day
  const RunResult ns = run({"book", path("day.itch").string(), "-f", "json", "--until", std::to_string(until)});
  EXPECT_EQ(ns.out, expected_books(file, until, 0));

  const RunResult text = run({"book", path("day.itch").string(), "--stock", sym, "--depth", "2"});
  ASSERT_EQ(text.code, kExitOk) << text.err;
  EXPECT_NE(text.out.find(sym), std::string::npos) << text.out;
  EXPECT_TRUE(has_dollar_price(text.out)) << text.out;
  EXPECT_EQ(text.out.find(" \n"), std::string::npos) << text.out;  // no trailing spaces

  const RunResult missing = run({"book", path("day.itch").string(), "--stock", "NOPE"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_NE(missing.err.find("NOPE"), std::string::npos) << missing.err;
}

TEST_F(HftItchTest, BookPoolsSizedTooSmallByTheFirstGuessAreRebuiltNotTruncated) {
  // Deletes of orders the file never added (a capture that starts mid-day) make the running
  // count of resting orders underestimate the peak: the first pools hold ~4k orders, the file
  // rests 6000. The tool must notice the drops and rebuild, not print a book missing orders.
  std::vector<std::uint8_t> file;
  std::uint8_t msg[64];
  itch::StockDirectoryFields dir;
  dir.stock = itch::Symbol::from("MIDDAY");
  append_block(file, msg, itch::encode::stock_directory(msg, itch::MessageHeader{1, 0, 1}, dir));
  for (std::uint64_t i = 0; i < 6000; ++i) {
    const itch::MessageHeader h{1, 0, 10 + 2 * i};
    append_block(file, msg, itch::encode::add_order(msg, h, 1000 + i, i % 2 ? 'S' : 'B', 100,
                                                    dir.stock, i % 2 ? 2'000'000 + 100 * (i % 7) : 1'000'000 - 100 * (i % 5)));
    append_block(file, msg, itch::encode::order_delete(msg, itch::MessageHeader{1, 0, 11 + 2 * i}, 900'000 + i));
  }
  write_file(path("midday.itch"), file);
  const RunResult r = run({"book", path("midday.itch").string(), "--format", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, expected_books(file, ~std::uint64_t{0}, 0));
  EXPECT_NE(r.out.find("[[1000000,60000,600],"), std::string::npos) << r.out;  // 3000 bids on 5 levels, none dropped

  const RunResult b = run({"bench", path("midday.itch").string(), "--mode", "book", "--repeat", "1"});
  ASSERT_EQ(b.code, kExitOk) << b.err;
  EXPECT_NE(b.out.find("repeating with worst-case pools"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("live_orders=6000"), std::string::npos) << b.out;
}

TEST_F(HftItchTest, BookFromAPcapUsesItsMessages) {
  HFT_REQUIRE_SHARED_DATA(data);
  const RunResult r =
      run({"book", "--pcap", (data / "pcap/nasdaq_itch50/Multiple.Packets.pcap").string(), "--format", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_FALSE(r.out.empty());
  for (const std::string& line : testing::split_lines(r.out)) {
    EXPECT_TRUE(JsonReader::parse(line).has_value()) << line;
  }
  EXPECT_NE(r.out.find("{\"stock\":\"META\",\"locate\":6514,\"bids\":[[805200,1,1],"), std::string::npos) << r.out;
}

// ---- bench -------------------------------------------------------------------------------------

TEST_F(HftItchTest, BenchEndsWithTheTotalsLineInBothModes) {
  sim::DayConfig cfg;
  cfg.messages = 30'000;
  cfg.stocks = 10;
  write_file(path("day.itch"), sim::generate_binaryfile(cfg));
  for (const char* mode : {"parse", "book"}) {
    const RunResult r = run({"bench", path("day.itch").string(), "--mode", mode, "--repeat", "2"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    const auto lines = testing::split_lines(r.out);
    ASSERT_GE(lines.size(), 3u) << r.out;
    const std::optional<std::uint64_t> total = totals_line(lines.back());
    ASSERT_TRUE(total.has_value()) << lines.back();
    EXPECT_EQ(*total, 60000u) << mode;  // totals over the repeats
    EXPECT_NE(lines[lines.size() - 2].find("repeat 2/2: messages=30000 "), std::string::npos) << r.out;
  }
}

// Issue 18 (Low): bench exited 0 on decode errors, though the help says 3, and printed nothing
// for a truncated file.
TEST_F(HftItchTest, BenchReportsDecodeErrorsAndTruncationAndExitsWithCode3) {
  std::vector<std::uint8_t> file;
  std::uint8_t msg[64] = {};
  const std::size_t n = itch::encode::order_delete(msg, itch::MessageHeader{1, 0, 5}, 77);
  append_block(file, msg, n);
  append_block(file, msg, n - 1);  // wrong length for a 'D'
  msg[0] = 'z';
  append_block(file, msg, n);  // unknown type
  write_file(path("bad.itch"), file);
  msg[0] = 'D';
  std::vector<std::uint8_t> cut;
  append_block(cut, msg, n);
  append_block(cut, msg, n);
  cut.resize(cut.size() - 5);  // the second message is cut short
  write_file(path("cut.itch"), cut);
  for (const char* mode : {"parse", "book"}) {
    const RunResult b = run({"bench", path("bad.itch").string(), "--mode", mode, "--repeat", "1"});
    EXPECT_EQ(b.code, kExitBadInput) << mode << b.err;
    EXPECT_NE(b.err.find("wrong length"), std::string::npos) << mode << b.err;
    EXPECT_NE(b.err.find("unknown type"), std::string::npos) << mode << b.err;
    const RunResult c = run({"bench", path("cut.itch").string(), "--mode", mode, "--repeat", "1"});
    EXPECT_EQ(c.code, kExitBadInput) << mode << c.err;
    EXPECT_NE(c.err.find("truncated"), std::string::npos) << mode << c.err;
    EXPECT_NE(c.err.find("offset 21"), std::string::npos) << mode << c.err;
  }
}

// ---- errors and help ---------------------------------------------------------------------------

TEST_F(HftItchTest, MissingFileIsAnIoErrorNamingTheFile) {
  for (const char* cmd : {"stats", "decode", "book", "bench"}) {
    const RunResult r = run({cmd, path("nope.itch").string()});
    EXPECT_EQ(r.code, kExitIo) << cmd;
    EXPECT_NE(r.err.find("nope.itch"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << cmd;
  }
  const RunResult g = run({"gen", "--out", path("no/such/dir/x.itch").string(), "--messages", "1000"});
  EXPECT_EQ(g.code, kExitIo) << g.err;
  EXPECT_NE(g.err.find("no/such/dir"), std::string::npos) << g.err;
}

TEST_F(HftItchTest, BadArgumentsAreUsageErrors) {
  const std::vector<std::vector<std::string>> bad{
      {},                                                  // no subcommand
      {"frobnicate"},                                      // unknown subcommand
      {"stats"},                                           // no FILE
      {"decode", "x", "--format", "xml"},                  // not a format
      {"book", "x", "--until", "25:99"},                   // not a time
      {"book", "x", "--depth", "-1"},
      {"bench", "x", "--mode", "fast"},
      {"bench", "x", "--repeat", "0"},
      {"gen"},                                             // no --out
      {"gen", "--out", path("g.itch").string(), "--stocks", "0"},
      {"gen", "--out", path("g.itch").string(), "--messages", "10", "--stocks", "100"},  // cannot hold the day
      {"stats", "x", "--no-such-flag"},
  };
  for (const auto& args : bad) {
    const RunResult r = run(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitUsage) << joined << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << joined;
    EXPECT_EQ(r.out, "") << joined;
  }
  EXPECT_FALSE(fs::exists(path("g.itch")));
}

TEST_F(HftItchTest, HelpDescribesCommandsAndExitCodes) {
  const RunResult r = run({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const char* word : {"gen", "stats", "decode", "book", "bench", "Exit status", "usage error", "decoding errors"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;
  }
  const RunResult b = run({"book", "--help"});
  EXPECT_EQ(b.code, kExitOk);
  for (const char* word : {"--depth", "--until", "--stock", "--format", "--pcap", "Exit status"}) {
    EXPECT_NE(b.out.find(word), std::string::npos) << word << "\n" << b.out;
  }
}

// ---- features ------------------------------------------------------------------------------

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cells;
}

// Every row of `hft-itch features --set all` equals the library's values for that stock after that
// message, computed in this process over the same bytes: same rows (one per book-changing message
// while both sides have a price), same empty cells, the same doubles (exact for short decimals, else to 12 significant digits).
TEST_F(HftItchTest, FeaturesCsvEqualsTheLibraryRowByRow) {
  sim::DayConfig cfg;
  cfg.messages = 20000;
  cfg.stocks = 10;
  cfg.seed = 3;
  const auto day = sim::generate_binaryfile(cfg);
  write_file(path("d.itch"), day);
  const RunResult r = run({"features", path("d.itch").string(), "--set", "all", "--out", path("f.csv").string(),
                           "--param", "vol_window=5", "--param", "frac_threshold=0.01"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto lines = testing::split_lines(testing::slurp(path("f.csv")));
  ASSERT_GT(lines.size(), 1000u);
  std::string header = "timestamp,symbol";
  for (std::size_t i = 0; i < features::kFeatureCount; ++i)
    header += fmt::format(",{}", features::feature_name(static_cast<features::Feature>(i)));
  EXPECT_EQ(lines[0], header);

  features::Params params;
  params.vol_window = 5;
  params.frac_threshold = 0.01;
  book::BookConfig bc;
  bc.orders = 1u << 16;
  bc.levels = 1u << 14;
  bc.max_locate = cfg.stocks;
  book::BookSet books(bc);
  features::FeatureEngine engine(params, features::kAllSet, cfg.stocks, cfg.stocks);
  struct Rows {
    features::FeatureEngine* engine;
    book::BookSet* books;
    std::vector<std::string> want;
    bool wants(std::uint16_t) { return true; }
    void before(std::uint16_t, std::uint64_t) {}
    void after(std::uint16_t l, const features::Event& e) {
      if (!engine->depth(l)->two_sided()) return;
      features::Values v;
      engine->values(l, v);
      engine->consume(l);
      const itch::Symbol sym = books->info(l).symbol;
      std::string line = fmt::format("{},{}", e.timestamp, sym.view());
      for (std::size_t i = 0; i < features::kFeatureCount; ++i) {
        line += v.has_value(static_cast<features::Feature>(i)) ? fmt::format(",{}", v.v[i]) : std::string(",");
      }
      want.push_back(line);
    }
  } rows{&engine, &books, {}};
  features::FeatureBookHandler<Rows> handler(books, engine, rows);
  std::size_t off = 0;
  while (off + 2 <= day.size()) {
    const std::size_t len = wire::load_be16(day.data() + off);
    itch::decode_message(day.data() + off + 2, len, handler);
    off += 2 + len;
  }
  ASSERT_EQ(lines.size() - 1, rows.want.size());
  std::size_t warm = 0;
  for (std::size_t i = 0; i < rows.want.size(); ++i) {
    const auto got = split_commas(lines[i + 1]);
    const auto want = split_commas(rows.want[i]);
    ASSERT_EQ(got.size(), want.size()) << lines[i + 1];
    for (std::size_t c = 0; c < got.size(); ++c) {
      if (c < 2 || got[c].empty() || want[c].empty()) {
        ASSERT_EQ(got[c], want[c]) << "row " << i + 1 << " column " << c;
      } else {
        // exact for decimals of at most five places, else 12 significant digits (docs/features.md)
        const double g = std::stod(got[c]), w = std::stod(want[c]);
        ASSERT_LE(std::fabs(g - w), 5e-12 * std::fabs(w)) << "row " << i + 1 << " column " << c << ": " << got[c]
                                                          << " for " << want[c];
        if (std::nearbyint(w * 1e5) / 1e5 == w) {
          ASSERT_EQ(g, w) << "row " << i + 1 << " column " << c;
        }
      }
    }
    if (got[2 + static_cast<std::size_t>(features::Feature::kRealizedVol)].empty()) ++warm;
  }
  EXPECT_GT(warm, 0u) << "rows while realized_vol warms up have an empty cell";
  const std::string text = testing::slurp(path("f.csv"));
  EXPECT_EQ(text.find("nan"), std::string::npos);
  EXPECT_EQ(text.find("inf"), std::string::npos);
}

TEST_F(HftItchTest, FeaturesOfTheRealSnippetBySymbolJsonlAndBars) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const std::string file = (dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50").string();
  const RunResult csv = run({"features", file, "--symbols", "VXZ", "--set", "mid,spread,rsi"});
  ASSERT_EQ(csv.code, kExitOk) << csv.err;
  const auto lines = testing::split_lines(csv.out);
  ASSERT_GT(lines.size(), 3u);
  EXPECT_EQ(lines[0], "timestamp,symbol,mid,spread,rsi");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto cells = split_commas(lines[i]);
    ASSERT_EQ(cells.size(), 5u) << lines[i];
    EXPECT_EQ(cells[1], "VXZ");
    EXPECT_FALSE(cells[2].empty()) << "event rows need both sides";
  }
  EXPECT_EQ(split_commas(lines[1])[4], "") << "rsi warms up";

  const RunResult js = run({"features", file, "--symbols", "VXZ", "--set", "mid,spread,rsi", "--format", "jsonl"});
  ASSERT_EQ(js.code, kExitOk) << js.err;
  const auto jl = testing::split_lines(js.out);
  ASSERT_EQ(jl.size(), lines.size() - 1);
  EXPECT_NE(jl[0].find("\"symbol\":\"VXZ\""), std::string::npos) << jl[0];
  EXPECT_NE(jl[0].find("\"rsi\":null"), std::string::npos) << jl[0];

  const RunResult bars = run({"features", file, "--sample", "time:1ms", "--set", "mid"});
  ASSERT_EQ(bars.code, kExitOk) << bars.err;
  const auto bl = testing::split_lines(bars.out);
  ASSERT_GT(bl.size(), 2u);
  std::map<std::string, std::uint64_t> last;
  for (std::size_t i = 1; i < bl.size(); ++i) {
    const auto cells = split_commas(bl[i]);
    const std::uint64_t ts = std::stoull(cells[0]);
    EXPECT_EQ(ts % 1'000'000, 0u) << bl[i];
    EXPECT_GT(ts, last[cells[1]]) << "one row per stock and interval: " << bl[i];
    last[cells[1]] = ts;
  }
  for (const auto& sample : {"tick:5", "volume:100", "dollar:1000"}) {
    const RunResult b = run({"features", file, "--sample", sample});
    EXPECT_EQ(b.code, kExitOk) << sample << b.err;
  }
  for (const auto& bad : std::vector<std::vector<std::string>>{{"--sample", "time:1"},
                                                               {"--sample", "tick:0"},
                                                               {"--set", "mid,nope"},
                                                               {"--param", "vol_window=0"},
                                                               {"--param", "nope=1"},
                                                               {"--format", "xml"}}) {
    std::vector<std::string> args{"features", file};
    args.insert(args.end(), bad.begin(), bad.end());
    const RunResult b = run(args);
    EXPECT_EQ(b.code, kExitUsage) << bad[0] << " " << bad[1];
    EXPECT_EQ(b.out, "");
  }
}

// The offline fits write files that the features read back: Stoikov's table (antisymmetric in the
// imbalance), ofi_weights (L1 = 1) and the Hawkes parameters, through --param and --param-file.
TEST_F(HftItchTest, FeaturesFitsWriteFilesTheFeaturesReadBack) {
  sim::DayConfig cfg;
  cfg.messages = 30000;
  cfg.stocks = 5;
  cfg.seed = 4;
  write_file(path("d.itch"), sim::generate_binaryfile(cfg));
  const std::string day = path("d.itch").string();
  const RunResult r = run({"features", day, "--fit-microprice", path("mp.txt").string(), "--fit-ofi",
                           path("ofi.txt").string(), "--fit-hawkes", path("hk.txt").string()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "") << "a fit writes no rows";

  const features::StoikovTable t = features::StoikovTable::load(path("mp.txt").string());
  ASSERT_EQ(t.imbalance_buckets, 10u);
  ASSERT_EQ(t.spread_buckets, 2u);
  bool nonzero = false;
  for (std::uint32_t k = 0; k < t.adjustment.size(); ++k) {
    const std::uint32_t s = k / 10, b = k % 10;
    EXPECT_EQ(t.adjustment[k], -t.adjustment[s * 10 + 9 - b]) << k;
    nonzero |= t.adjustment[k] != 0;
  }
  EXPECT_TRUE(nonzero) << testing::slurp(path("mp.txt"));

  const std::string ofi = testing::slurp(path("ofi.txt"));
  ASSERT_EQ(ofi.rfind("ofi_weights=", 0), 0u) << ofi;
  double l1 = 0;
  for (const auto& w : split_commas(ofi.substr(12))) l1 += std::fabs(std::stod(w));
  EXPECT_NEAR(l1, 1.0, 1e-5) << ofi;

  const std::string hk = testing::slurp(path("hk.txt"));
  EXPECT_NE(hk.find("\nhawkes_mu="), std::string::npos) << hk;
  EXPECT_NE(hk.find("\nhawkes_beta="), std::string::npos) << hk;

  const RunResult use = run({"features", day, "--set", "micro_price_stoikov,ofi_integrated,hawkes_excitation",
                             "--param-file", path("hk.txt").string(), "--param-file", path("ofi.txt").string(),
                             "--param", "stoikov_table=" + path("mp.txt").string()});
  ASSERT_EQ(use.code, kExitOk) << use.err;
  const auto lines = testing::split_lines(use.out);
  ASSERT_GT(lines.size(), 100u);
  std::size_t stoikov = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) stoikov += !split_commas(lines[i])[2].empty();
  EXPECT_GT(stoikov, 0u);

  write_file(path("bad.txt"), std::vector<std::uint8_t>{'#', '\n', 'x', '=', '1', '\n'});
  const RunResult bad = run({"features", day, "--param-file", path("bad.txt").string()});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_NE(bad.err.find("bad.txt:2"), std::string::npos) << bad.err;
  const RunResult no_table = run({"features", day, "--param", "stoikov_table=" + path("none.txt").string()});
  EXPECT_EQ(no_table.code, kExitUsage);
}

// ---- profile -----------------------------------------------------------------------------------

// Executed shares by minute, counted independently of the tool: E, printable C, P.
struct ExecutedByMinute {
  std::map<std::uint64_t, std::uint64_t> by_minute;
  std::uint64_t total = 0;
  void add(std::uint64_t ts, std::uint64_t n) {
    by_minute[ts / 60'000'000'000ull] += n;
    total += n;
  }
  void on_order_executed(const itch::OrderExecuted& m) { add(m.timestamp(), m.executed_shares()); }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) {
    if (m.printable() == 'Y') add(m.timestamp(), m.executed_shares());
  }
  void on_trade(const itch::Trade& m) { add(m.timestamp(), m.shares()); }
};

// ---- ticks -------------------------------------------------------------------------------------

// A reference book replayed message by message: after each order message, the touched stock's
// top `n` levels, recorded when they differ from the last recorded (what hft-itch ticks writes
// at each change).
struct ExpectedTicks {
  book::testing::ReferenceBook ref;
  std::uint32_t n = 5;
  std::map<std::uint16_t, std::string> last;
  std::vector<std::string> rows;  // "locate|[bid px]|[bid sz]|[ask px]|[ask sz]" in order
  void after(std::uint16_t locate) {
    std::string bp = "[", bs = "[", ap = "[", as = "[";
    const auto side = [&](book::Side sd, std::string& px, std::string& sz) {
      std::vector<book::Level> l(n);
      l.resize(ref.top(locate, sd, l));
      for (std::size_t i = 0; i < l.size(); ++i) {
        px += fmt::format("{}{}", i ? "," : "", l[i].price);
        sz += fmt::format("{}{}", i ? "," : "", l[i].shares);
      }
      px += "]";
      sz += "]";
    };
    side(book::Side::kBid, bp, bs);
    side(book::Side::kAsk, ap, as);
    std::string row = fmt::format("{}|{}|{}|{}|{}", locate, bp, bs, ap, as);
    std::string& prev = last[locate];
    if (prev.empty()) prev = fmt::format("{}|[]|[]|[]|[]", locate);
    if (row == prev) return;
    prev = row;
    rows.push_back(std::move(row));
  }
  void on_add_order(const itch::AddOrder& m) { ref.on_add_order(m); after(m.stock_locate()); }
  void on_order_executed(const itch::OrderExecuted& m) { ref.on_order_executed(m); after(m.stock_locate()); }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) { ref.on_order_executed_with_price(m); after(m.stock_locate()); }
  void on_order_cancel(const itch::OrderCancel& m) { ref.on_order_cancel(m); after(m.stock_locate()); }
  void on_order_delete(const itch::OrderDelete& m) { ref.on_order_delete(m); after(m.stock_locate()); }
  void on_order_replace(const itch::OrderReplace& m) { ref.on_order_replace(m); after(m.stock_locate()); }
};

std::vector<std::string> sqlite_rows(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return {"cannot open " + db.string()};
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* t = sqlite3_column_text(st, c);
        if (c != 0) row += '|';
        row += t ? reinterpret_cast<const char*>(t) : "";
      }
      out.push_back(std::move(row));
    }
  } else {
    out.push_back(std::string("bad query: ") + sqlite3_errmsg(h));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

TEST_F(HftItchTest, TicksOfTheRealSnippetAreTheReferenceBooksChangesAndLoadOnce) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const std::string file = (dir / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50").string();
  ExpectedTicks expected;
  {
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    itch::DecodeStats stats;
    for (std::size_t off = 0; off + 2 <= bytes.size();) {
      const std::size_t len = wire::load_be16(bytes.data() + off);
      if (off + 2 + len > bytes.size()) break;
      itch::decode_message(bytes.data() + off + 2, len, expected, stats);
      off += 2 + len;
    }
  }
  ASSERT_GT(expected.rows.size(), 100u);
  const fs::path db = path("ticks.db");
  RunResult r = run({"ticks", file, "--sqlite", db.string(), "--date", "20191230"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find(fmt::format("{} rows into sqlite hft_market_ticks", expected.rows.size())), std::string::npos) << r.out;
  const auto rows = sqlite_rows(db, "SELECT locate, bid_px, bid_sz, ask_px, ask_sz FROM hft_market_ticks ORDER BY seq");
  ASSERT_EQ(rows.size(), expected.rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(rows[i], expected.rows[i]) << "row " << i;
  EXPECT_EQ(sqlite_rows(db, "SELECT count(*) FROM hft_market_ticks WHERE symbol = '' OR instance != 'itch' OR trading_date != 20191230"),
            std::vector<std::string>{"0"});
  // Loading again writes nothing.
  r = run({"ticks", file, "--sqlite", db.string(), "--date", "20191230"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find(fmt::format("0 rows into sqlite hft_market_ticks ({} already there)", expected.rows.size())), std::string::npos)
      << r.out;
  // Sampled every 1 ms of ITCH time: at most one row per stock and interval, each the stock's last
  // change in it; the snippet spans 2.4 ms, so every row's interval is 34,200,000 to 34,200,002.
  const fs::path db2 = path("sampled.db");
  r = run({"ticks", file, "--sqlite", db2.string(), "--date", "20191230", "--every", "1ms", "--levels", "3", "--instance", "s"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto sampled = sqlite_rows(db2, "SELECT seq / 65536, locate, seq % 65536, ts_ns FROM hft_market_ticks ORDER BY seq");
  ASSERT_FALSE(sampled.empty());
  EXPECT_LT(sampled.size(), rows.size());
  for (const auto& row : sampled) {
    std::istringstream in(row);
    std::string interval, locate, low, ts;
    std::getline(in, interval, '|');
    std::getline(in, locate, '|');
    std::getline(in, low, '|');
    std::getline(in, ts, '|');
    EXPECT_EQ(locate, low) << row;
    EXPECT_GE(std::stoull(interval), 34'200'000u) << row;
    EXPECT_LE(std::stoull(interval), 34'200'002u) << row;
    EXPECT_EQ(std::stoull(ts), (std::stoull(interval) + 1) * 1'000'000) << row;
  }
  EXPECT_EQ(run({"ticks", file, "--date", "20191230"}).code, kExitUsage);

  // ClickHouse: the same rows (arrays as Array(Int64) / Array(UInt32)), loaded once.
  testing::ClickHouseServer ch(path("ch"));
  if (!ch.available()) {
    std::printf("clickhouse part skipped: %s\n", ch.why().c_str());
    return;
  }
  for (int pass = 0; pass < 2; ++pass) {
    r = run({"ticks", file, "--clickhouse", ch.url(), "--date", "20191230", "--batch", "100"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
  }
  auto chdb = data::open_clickhouse(ch.url());
  auto lite = data::open_sqlite(db.string());
  const std::string count = "SELECT count(*) FROM hft_market_ticks";
  EXPECT_EQ(chdb->query_int(count), static_cast<std::int64_t>(expected.rows.size()));
  const std::string best_bids = "SELECT sum(seq * 7 + locate) FROM hft_market_ticks";
  EXPECT_EQ(chdb->query_int(best_bids), lite->query_int(best_bids));
  EXPECT_EQ(chdb->query_int("SELECT sum(length(ask_px) + length(bid_sz)) FROM hft_market_ticks"),
            lite->query_int("SELECT sum(json_array_length(ask_px) + json_array_length(bid_sz)) FROM hft_market_ticks"));
  EXPECT_EQ(run({"ticks", file, "--sqlite", db.string(), "--date", "20191230", "--every", "soon"}).code, kExitUsage);
}

TEST_F(HftItchTest, ProfileSumsToTheDaysExecutedVolumeAndTheVwapStrategyReadsIt) {
  sim::DayConfig cfg;
  cfg.messages = 60000;
  cfg.stocks = 5;
  cfg.seed = 11;
  const std::vector<std::uint8_t> day = sim::generate_binaryfile(cfg);
  write_file(path("day.itch"), day);
  ExecutedByMinute expected;
  itch::DecodeStats stats;
  for (std::size_t off = 0; off + 2 <= day.size();) {
    const std::size_t len = wire::load_be16(day.data() + off);
    itch::decode_message(day.data() + off + 2, len, expected, stats);
    off += 2 + len;
  }
  ASSERT_GT(expected.total, 0u);

  const RunResult r = run({"profile", path("day.itch").string(), "--bins", "1m", "--out", path("profile.csv").string()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  // The VWAP strategy's own reader (ExecutionParams loads `profile` through it).
  const strategy::VolumeProfile p = strategy::VolumeProfile::load(path("profile.csv").string());
  ASSERT_FALSE(p.empty());
  double sum = 0;
  for (std::size_t i = 0; i < p.start_s.size(); ++i) {
    sum += p.volume[i];
    EXPECT_EQ(p.start_s[i] % 60, 0u);
    const auto it = expected.by_minute.find(p.start_s[i] / 60);
    EXPECT_EQ(p.volume[i], it == expected.by_minute.end() ? 0.0 : static_cast<double>(it->second)) << "bin " << i;
  }
  EXPECT_EQ(sum, static_cast<double>(expected.total));
  EXPECT_EQ(p.cumulative(86'400.0), static_cast<double>(expected.total));
  EXPECT_EQ(p.start_s.front() / 60, expected.by_minute.begin()->first);
  EXPECT_EQ(p.start_s.back() / 60, expected.by_minute.rbegin()->first);

  // Bad bin widths are usage errors.
  for (const char* bins : {"0m", "1x", "25h", "m"}) {
    const RunResult bad = run({"profile", path("day.itch").string(), "--bins", bins});
    EXPECT_EQ(bad.code, kExitUsage) << bins;
  }
}

}  // namespace
}  // namespace hft
