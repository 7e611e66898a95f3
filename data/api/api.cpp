#include "data/api/api.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

namespace hft::data::api {

namespace http = boost::beast::http;

Response error(int status, std::string_view message) {
  nlohmann::json j{{"error", std::string(message)}, {"status", status}};
  return {status, j.dump() + "\n", "application/json"};
}

std::string_view path_of(std::string_view target) noexcept { return target.substr(0, target.find('?')); }

std::optional<std::string> query_param(std::string_view target, std::string_view key) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    const std::size_t eq = kv.find('=');
    if (kv.substr(0, eq) == key) return std::string(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

namespace {

// Constant-time comparison (the token's length is not secret).
bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

Response ok_json(std::string body) { return {200, std::move(body), "application/json"}; }

}  // namespace

bool Router::authorized(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (token_.empty() || !authorization.starts_with(kBearer)) return false;
  return same(authorization.substr(kBearer.size()), token_);
}

bool Router::websocket_allowed(std::string_view target, std::string_view authorization) const {
  if (path_of(target) != "/ws/hft") return false;
  if (authorized(authorization)) return true;
  const auto t = query_param(target, "token");
  return t && !token_.empty() && same(*t, token_);
}

Response Router::handle(const Request& r) {
  const std::string_view path = path_of(r.target);
  if (!path.starts_with(kPrefix)) return error(404, "no such endpoint (the API is under /api/v1/hft)");
  const std::string_view rest = path.substr(kPrefix.size());
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool mutating = r.method == "POST" || r.method == "DELETE" || r.method == "PUT" || r.method == "PATCH";
  if (!get && !mutating) return error(405, "method not allowed");
  if (mutating && !authorized(r.authorization)) return error(401, "a bearer token is required (Authorization: Bearer <token>)");
  try {
    if (get) {
      if (rest == "/status") return ok_json(backend_.status_json());
      if (rest == "/latency") return ok_json(backend_.latency_json());
      if (rest == "/positions") return ok_json(backend_.positions_json());
      if (rest == "/orders" || rest == "/fills" || rest == "/risk/events") {
        std::optional<int> strategy;
        if (const auto s = query_param(r.target, "strategy")) {
          if (s->empty() || s->size() > 3 || !std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; }) ||
              std::stoi(*s) > 255)
            return error(400, "strategy must be a number 0..255");
          strategy = std::stoi(*s);
        }
        const std::string_view table = rest == "/orders" ? "orders" : rest == "/fills" ? "fills" : "risk_events";
        if (auto j = backend_.recent_json(table, strategy)) return ok_json(std::move(*j));
        return error(503, "this server follows no journal (hftctl serve --journal DIR)");
      }
      if (rest == "/strategies") return error(501, "hftd does not publish its strategies yet");
      return error(404, "no such endpoint");
    }
    if (r.method == "POST") {
      for (const std::string_view verb : {"kill", "unkill", "halt", "resume", "flatten"}) {
        if (rest == "/" + std::string(verb)) {
          std::string message;
          if (backend_.command(verb, message)) return ok_json(nlohmann::json{{"ok", true}, {"message", message}}.dump() + "\n");
          return error(409, message);
        }
      }
      if (rest == "/orders") return error(501, "manual orders need the strategy SDK's manual-order strategy (not yet in hftd)");
      if (rest.starts_with("/strategies/") && (rest.ends_with("/start") || rest.ends_with("/stop")))
        return error(501, "strategy start/stop is not in the control file yet");
      if (rest == "/algo/start" || rest.starts_with("/algo")) return error(501, "algorithms are not in the control file yet");
      return error(404, "no such endpoint");
    }
    if (r.method == "DELETE" && rest.starts_with("/orders/")) return error(501, "cancel by order id is not in the control file yet");
    return error(405, "method not allowed on this endpoint");
  } catch (const std::exception& e) {
    return error(503, e.what());
  }
}

std::string read_token_file(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("token file " + path + ": cannot stat it");
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("token file " + path + ": not a regular file");
  if ((st.st_mode & 0777) != 0600) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error("token file " + path + " has mode " + mode + ": it must be 0600 (chmod 600 " + path + ")");
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  if (t.size() < 16) throw std::runtime_error("token file " + path + ": the token must be at least 16 characters");
  for (const char c : t)
    if (c <= ' ' || c > '~') throw std::runtime_error("token file " + path + ": the token must be printable ASCII without spaces");
  return t;
}

bool RateLimiter::allow(const std::string& client, double now) {
  auto it = std::find_if(buckets_.begin(), buckets_.end(), [&](const auto& b) { return b.first == client; });
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {  // forget the longest idle
      auto idle = std::min_element(buckets_.begin(), buckets_.end(),
                                   [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
      buckets_.erase(idle);
    }
    buckets_.push_back({client, Bucket{burst_, now}});
    it = buckets_.end() - 1;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + (now - b.last) * rate_);
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

std::optional<Request> parse_request(std::string_view bytes, const Limits& limits, std::string& why) {
  http::request_parser<http::string_body> p;
  p.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  p.body_limit(limits.max_body);
  p.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < bytes.size() && !p.is_done()) {
    const std::size_t n = p.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) {
      why = ec.message();
      return std::nullopt;
    }
    if (n == 0) break;
    used += n;
  }
  if (!p.is_done()) {
    why = "incomplete request";
    return std::nullopt;
  }
  const auto& m = p.get();
  std::size_t headers = 0;
  for (auto it = m.begin(); it != m.end(); ++it) ++headers;
  if (headers > limits.max_headers) {
    why = "too many header fields";
    return std::nullopt;
  }
  Request r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  if (const auto a = m.find(http::field::authorization); a != m.end()) r.authorization = std::string(a->value());
  r.body = m.body();
  return r;
}

}  // namespace hft::data::api
