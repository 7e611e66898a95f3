// Arbitrary bytes as an HTTP request to `hftctl serve` (data/api): parsed with the server's limits
// (Boost.Beast's parser), then routed with no daemon behind it. Checked beyond "no crash, no
// out-of-bounds read":
//  * a request that parses stays within the limits (body, header fields);
//  * every response is a JSON object {"error"|...} with a status 200..599, errors carrying their status;
//  * no mutating request (POST, DELETE, PUT, PATCH) is ever answered other than 401 without the
//    right bearer token, and a WebSocket upgrade is allowed only with it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "data/api/api.hpp"

namespace {

using namespace hft::data::api;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

constexpr std::string_view kToken = "fuzz-token-0123456789";

// hftd not running: what the control-file backend answers then.
class NoDaemon final : public Backend {
 public:
  std::string status_json() override { throw std::runtime_error("hftd is not running"); }
  std::string latency_json() override { throw std::runtime_error("hftd is not running"); }
  std::string positions_json() override { throw std::runtime_error("hftd is not running"); }
  std::optional<std::string> recent_json(std::string_view, std::optional<int>) override { return "[]\n"; }
  bool command(std::string_view, std::string& message) override {
    message = "hftd is not running";
    return false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_body = 1024;
  limits.max_header_bytes = 2048;
  limits.max_headers = 16;
  std::string why;
  const auto req = parse_request(bytes, limits, why);
  if (!req) {
    FUZZ_CHECK(!why.empty());
    return 0;
  }
  FUZZ_CHECK(req->body.size() <= limits.max_body);
  NoDaemon backend;
  Router router(backend, std::string(kToken));
  const Response r = router.handle(*req);
  FUZZ_CHECK(r.status >= 200 && r.status <= 599);
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  FUZZ_CHECK(j.is_object() || j.is_array());
  if (r.status >= 400) FUZZ_CHECK(j.is_object() && j.value("status", 0) == r.status && j.contains("error"));
  const bool mutating = req->method == "POST" || req->method == "DELETE" || req->method == "PUT" || req->method == "PATCH";
  const bool api = path_of(req->target).starts_with(kPrefix);
  if (mutating && api && req->authorization != "Bearer " + std::string(kToken)) FUZZ_CHECK(r.status == 401);
  if (router.websocket_allowed(req->target, req->authorization))
    FUZZ_CHECK(req->authorization == "Bearer " + std::string(kToken) ||
               query_param(req->target, "token").value_or("") == kToken);
  return 0;
}
