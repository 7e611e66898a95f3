// Arbitrary bytes as what a scraper sends to `hftctl metrics`, and as text that ends up in a
// Prometheus label value. Checked beyond "no crash, no out-of-bounds read":
//  * parsing is prefix-consistent: a request that parses whole is "incomplete" (never "bad") at
//    every shorter prefix ending before its blank line, and a prefix found bad stays bad;
//  * every response is a well-formed HTTP/1.1 message whose Content-Length is its body's size
//    (no body for HEAD), and only a GET/HEAD of /metrics renders the exposition;
//  * an escaped label value unescapes to the input with control and non-ASCII bytes replaced,
//    and holds no raw newline or unescaped quote.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/control/metrics.hpp"
#include "pipeline/control/metrics_server.hpp"

namespace {

using namespace hft::control;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

void check_response(const std::string& r, bool head, bool rendered_expected, bool rendered) {
  FUZZ_CHECK(r.rfind("HTTP/1.1 ", 0) == 0 && r.size() > 12);
  FUZZ_CHECK(r[9] >= '1' && r[9] <= '5' && r[10] >= '0' && r[10] <= '9' && r[11] >= '0' && r[11] <= '9' && r[12] == ' ');
  const std::size_t end = r.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string::npos);
  const std::size_t cl = r.find("\r\nContent-Length: ");
  FUZZ_CHECK(cl != std::string::npos && cl < end);
  const std::size_t length = std::strtoull(r.c_str() + cl + 18, nullptr, 10);
  const std::size_t body = r.size() - end - 4;
  FUZZ_CHECK(head ? body == 0 : body == length);
  FUZZ_CHECK(rendered == rendered_expected);
}

void check_label(std::string_view in) {
  const std::string e = escape_label_value(in);
  std::string back;
  for (std::size_t i = 0; i < e.size(); ++i) {
    FUZZ_CHECK(e[i] != '\n' && e[i] != '"' && static_cast<unsigned char>(e[i]) >= 0x20 &&
               static_cast<unsigned char>(e[i]) < 0x7f);
    if (e[i] != '\\') {
      back += e[i];
      continue;
    }
    FUZZ_CHECK(i + 1 < e.size());
    const char c = e[++i];
    FUZZ_CHECK(c == '\\' || c == '"' || c == 'n');
    back += c == 'n' ? '\n' : c;
  }
  FUZZ_CHECK(back.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    const bool kept = c == '\n' || (c >= 0x20 && c < 0x7f);
    FUZZ_CHECK(kept ? back[i] == in[i] : back[i] == '?');
  }
  const std::string name = metric_name(in);
  FUZZ_CHECK(name.size() == in.size());
  for (const char c : name)
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_label(in);

  HttpRequestHead head;
  const HttpParse whole = parse_http_head(in, head);
  // Prefixes: up to 64 cut points spread over the input.
  const std::size_t step = size / 64 + 1;
  bool bad_before = false;
  for (std::size_t cut = 0; cut < size; cut += step) {
    HttpRequestHead h;
    const HttpParse p = parse_http_head(in.substr(0, cut), h);
    if (bad_before) FUZZ_CHECK(p == HttpParse::kBad);
    if (p == HttpParse::kBad) bad_before = true;
    if (whole == HttpParse::kComplete) FUZZ_CHECK(p != HttpParse::kBad);
  }
  if (bad_before) FUZZ_CHECK(whole == HttpParse::kBad);

  if (whole == HttpParse::kComplete) {
    FUZZ_CHECK(!head.method.empty() && !head.target.empty() && head.version.size() == 8);
    bool rendered = false;
    const std::string r = http_respond(head, [&] {
      rendered = true;
      return std::string("hftd_up{instance=\"f\"} 1\n");
    });
    std::string_view path = head.target.substr(0, head.target.find('?'));
    const bool metrics = (head.method == "GET" || head.method == "HEAD") && path == "/metrics";
    check_response(r, head.method == "HEAD", metrics, rendered);
  }
  for (const int status : {400, 408, 431, 503}) check_response(http_error_response(status), false, false, false);
  return 0;
}
