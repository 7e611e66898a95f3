#include "data/api/api.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
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

// A command's outcome: 200/201 {"ok":true,"message":...,extra} or 409 (404 when nothing matched).
Response outcome(bool ok, const std::string& message, int ok_status = 200, nlohmann::json extra = nlohmann::json::object()) {
  if (!ok) return error(message.starts_with("no working order") || message.starts_with("no strategy named") ? 404 : 409, message);
  extra["ok"] = true;
  extra["message"] = message;
  return {ok_status, extra.dump() + "\n", "application/json"};
}

bool name_ok(std::string_view n) {
  return !n.empty() && n.size() < 32 && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}
bool symbol_ok(const std::string& s) {
  return !s.empty() && s.size() <= 8 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'; });
}

// The JSON body of a POST as an object, or why not.
std::optional<nlohmann::json> body_object(const std::string& body, std::string& why) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = "the body must be a JSON object";
    return std::nullopt;
  }
  return j;
}
// Field readers: false and a message naming the field when missing (if required) or mistyped.
bool get_string(const nlohmann::json& j, const char* key, std::string& out, bool required, std::string& why) {
  if (!j.contains(key)) {
    if (required) why = fmt::format("\"{}\" is required", key);
    return !required;
  }
  if (!j[key].is_string()) {
    why = fmt::format("\"{}\" must be a string", key);
    return false;
  }
  out = j[key].get<std::string>();
  return true;
}
bool get_number(const nlohmann::json& j, const char* key, double& out, double lo, double hi, bool required, std::string& why) {
  if (!j.contains(key)) {
    if (required) why = fmt::format("\"{}\" is required", key);
    return !required;
  }
  if (!j[key].is_number()) {
    why = fmt::format("\"{}\" must be a number", key);
    return false;
  }
  out = j[key].get<double>();
  if (!std::isfinite(out) || out < lo || out > hi) {
    why = fmt::format("\"{}\" must be in [{}, {}]", key, lo, hi);
    return false;
  }
  return true;
}
bool get_side(const nlohmann::json& j, bool& buy, std::string& why) {
  std::string side;
  if (!get_string(j, "side", side, true, why)) return false;
  if (side != "buy" && side != "sell") {
    why = "\"side\" must be \"buy\" or \"sell\"";
    return false;
  }
  buy = side == "buy";
  return true;
}

// POST /orders: {"symbol":"AAA","side":"buy","quantity":100,"price":101.25,"tif":"day"|"ioc"}.
Response place_order(Backend& b, const Request& r) {
  std::string why;
  const auto j = body_object(r.body, why);
  if (!j) return error(400, why);
  Backend::ManualOrder o;
  std::string tif = "day";
  double qty = 0, price = 0;
  if (!get_string(*j, "symbol", o.symbol, true, why) || !get_side(*j, o.buy, why) ||
      !get_number(*j, "quantity", qty, 1, 1'000'000, true, why) || !get_number(*j, "price", price, 0.0001, 200'000, true, why) ||
      !get_string(*j, "tif", tif, false, why))
    return error(400, why);
  if (!symbol_ok(o.symbol)) return error(400, "\"symbol\" must be 1 to 8 characters A-Z, 0-9 or .");
  if (qty != std::floor(qty)) return error(400, "\"quantity\" must be a whole number of shares");
  if (tif != "day" && tif != "ioc") return error(400, "\"tif\" must be \"day\" or \"ioc\"");
  o.quantity = static_cast<std::uint64_t>(qty);
  o.price = std::llround(price * 1e4);
  o.ioc = tif == "ioc";
  std::string message;
  const bool ok = b.place_order(o, message);
  return outcome(ok, message, 201, ok ? nlohmann::json{{"order_id", message}} : nlohmann::json::object());
}

// POST /algos: {"algo":"twap"|"vwap","symbol","side","quantity","duration_s"[,"limit_price"][,"max_participation"]}.
Response start_algo(Backend& b, const Request& r) {
  std::string why;
  const auto j = body_object(r.body, why);
  if (!j) return error(400, why);
  Backend::AlgoStart a;
  double qty = 0, duration = 0, limit = 0, part = 0;
  if (!get_string(*j, "algo", a.algo, true, why) || !get_string(*j, "symbol", a.symbol, true, why) || !get_side(*j, a.buy, why) ||
      !get_number(*j, "quantity", qty, 1, 1'000'000'000, true, why) ||
      !get_number(*j, "duration_s", duration, 0.001, 86'400, true, why) ||
      !get_number(*j, "limit_price", limit, 0, 200'000, false, why) ||
      !get_number(*j, "max_participation", part, 0, 1, false, why))
    return error(400, why);
  if (a.algo != "twap" && a.algo != "vwap") return error(400, "\"algo\" must be \"twap\" or \"vwap\"");
  if (!symbol_ok(a.symbol)) return error(400, "\"symbol\" must be 1 to 8 characters A-Z, 0-9 or .");
  if (qty != std::floor(qty)) return error(400, "\"quantity\" must be a whole number of shares");
  a.quantity = static_cast<std::uint64_t>(qty);
  a.duration_ms = static_cast<std::uint64_t>(std::llround(duration * 1e3));
  a.limit_price = std::llround(limit * 1e4);
  a.max_participation = part;
  std::string message;
  const bool ok = b.start_algo(a, message);
  nlohmann::json extra = nlohmann::json::object();
  if (ok) extra["id"] = std::strtoull(message.c_str(), nullptr, 10);
  return outcome(ok, message, 201, extra);
}


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
      if (rest == "/strategies") return ok_json(backend_.strategies_json());
      if (rest == "/algos") return ok_json(backend_.algos_json());
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
      if (rest == "/orders") return place_order(backend_, r);
      if (rest == "/algos") return start_algo(backend_, r);
      if (rest.starts_with("/strategies/")) {
        const std::string_view tail = rest.substr(12);
        const std::size_t slash = tail.find('/');
        const std::string_view name = tail.substr(0, slash), verb = slash == std::string_view::npos ? "" : tail.substr(slash + 1);
        if (verb != "start" && verb != "stop") return error(404, "no such endpoint (strategies/{name}/start or /stop)");
        if (!name_ok(name)) return error(400, "a strategy name is 1 to 31 characters A-Z, a-z, 0-9, _ - .");
        std::string message;
        const bool ok = backend_.strategy_command(verb, name, message);
        return outcome(ok, message);
      }
      return error(404, "no such endpoint");
    }
    if (r.method == "DELETE" && rest.starts_with("/orders/")) {
      const std::string_view id_text = rest.substr(8);
      std::uint64_t id = 0;
      const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
      if (id_text.empty() || ec != std::errc() || end != id_text.data() + id_text.size() || id == 0)
        return error(400, "the order id must be a positive decimal number");
      std::string message;
      const bool ok = backend_.cancel_order(id, message);
      return outcome(ok, message);
    }
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
