#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "data/sink.hpp"

namespace hft::data {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The body of a chunked transfer encoding (ClickHouse answers HTTP/1.0 without it; kept for
// servers or proxies that use it anyway).
std::string dechunk(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t eol = s.find("\r\n", pos);
    if (eol == std::string_view::npos) break;
    const std::size_t n = std::strtoul(std::string(s.substr(pos, eol - pos)).c_str(), nullptr, 16);
    if (n == 0 || eol + 2 + n > s.size()) break;
    out.append(s.substr(eol + 2, n));
    pos = eol + 2 + n + 2;
  }
  return out;
}

struct Url {
  std::string host;
  std::uint16_t port = 8123;
  std::string database;
};

Url parse_url(const std::string& url) {
  std::string_view s = url;
  if (s.starts_with("http://")) s.remove_prefix(7);
  else if (s.find("://") != std::string_view::npos) throw std::runtime_error("clickhouse: only http:// URLs: " + url);
  Url u;
  const std::size_t slash = s.find('/');
  std::string_view hostport = s.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view{} : s.substr(slash);
  const std::size_t colon = hostport.rfind(':');
  u.host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    const std::string p(hostport.substr(colon + 1));
    char* end = nullptr;
    const unsigned long v = std::strtoul(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v == 0 || v > 65535) throw std::runtime_error("clickhouse: bad port in " + url);
    u.port = static_cast<std::uint16_t>(v);
  }
  if (u.host.empty()) throw std::runtime_error("clickhouse: no host in " + url);
  if (const std::size_t d = rest.find("database="); d != std::string_view::npos) {
    std::string_view db = rest.substr(d + 9);
    db = db.substr(0, db.find('&'));
    for (const char c : db)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') throw std::runtime_error("clickhouse: bad database name in " + url);
    u.database = std::string(db);
  }
  return u;
}

std::string quote(std::string_view s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'' || c == '\\') q += '\\';
    q += c;
  }
  return q + "'";
}

class ClickHouseSink final : public Sink {
 public:
  explicit ClickHouseSink(const std::string& url) : url_(parse_url(url)) {
    const std::string db = url_.database;
    url_.database.clear();
    const HttpResponse r = post("SELECT 1", "");
    if (r.status != 200) throw std::runtime_error("clickhouse: " + url + " answered " + std::to_string(r.status) + ": " + r.body);
    if (!db.empty()) check(post("CREATE DATABASE IF NOT EXISTS " + db, ""), "create database");
    url_.database = db;
  }

  void create_schema() override {
    for (const Table& t : tables()) check(post(clickhouse_ddl(t), ""), "create " + std::string(t.name));
  }

  std::uint64_t max_seq(TableId t, std::string_view instance, std::uint32_t date) override {
    return static_cast<std::uint64_t>(query_int("SELECT max(seq) FROM " + std::string(table(t).name) + " WHERE instance = " +
                                                quote(instance) + " AND trading_date = " + std::to_string(date)));
  }

  void insert(TableId t, std::span<const Row> rows) override {
    if (rows.empty()) return;
    std::string body;
    body.reserve(rows.size() * 128);
    for (const Row& row : rows) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i) body += '\t';
        append_tsv(body, row[i]);
      }
      body += '\n';
    }
    check(post("INSERT INTO " + std::string(table(t).name) + " FORMAT TabSeparated", body), "insert into " + std::string(table(t).name));
  }

  std::int64_t query_int(const std::string& sql) override {
    const HttpResponse r = post(sql, "");
    check(r, "query");
    return std::strtoll(r.body.c_str(), nullptr, 10);
  }

  std::string_view kind() const noexcept override { return "clickhouse"; }

 private:
  // A statement in the URL and data in the body (INSERT), or the statement as the body.
  HttpResponse post(const std::string& sql, const std::string& data) {
    std::string target = "/?";
    if (!url_.database.empty()) target += "database=" + url_.database + "&";
    if (data.empty()) return http_request(url_.host, url_.port, "POST", target, sql);
    return http_request(url_.host, url_.port, "POST", target + "query=" + url_encode(sql), data);
  }
  static void check(const HttpResponse& r, const std::string& what) {
    if (r.status != 200) throw std::runtime_error("clickhouse: " + what + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 500));
  }

  Url url_;
};

}  // namespace

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void append_tsv(std::string& out, const Value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*n);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    for (const char c : *s) {
      switch (c) {
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\\': out += "\\\\"; break;
        case '\0': out += "\\0"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\'': out += "\\'"; break;
        default: out += c;
      }
    }
  } else {
    const auto& a = std::get<std::vector<std::int64_t>>(v);
    out += '[';
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(a[i]);
    }
    out += ']';
  }
}

HttpResponse http_request(const std::string& host, std::uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int e = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); e != 0)
    throw std::runtime_error("http: cannot resolve " + host + ": " + gai_strerror(e));
  Fd fd;
  int err = 0;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd.fd < 0) continue;
    if (::connect(fd.fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = errno;
    ::close(fd.fd);
    fd.fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd.fd < 0) throw std::runtime_error("http: cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(err));
  std::string req;
  req.reserve(body.size() + 256);
  req.append(method).append(" ").append(target).append(" HTTP/1.0\r\nHost: ").append(host).append("\r\nContent-Length: ");
  req.append(std::to_string(body.size())).append("\r\nContent-Type: text/plain\r\n\r\n").append(body);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining = [&] {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (ms <= 0) throw std::runtime_error("http: " + host + ":" + std::to_string(port) + " timed out");
    return static_cast<int>(ms);
  };
  std::size_t sent = 0;
  while (sent < req.size()) {
    pollfd p{fd.fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining()) <= 0) continue;
    const ssize_t n = ::send(fd.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw std::runtime_error(std::string("http: send: ") + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string resp;
  char buf[65536];
  for (;;) {
    pollfd p{fd.fd, POLLIN, 0};
    if (::poll(&p, 1, remaining()) <= 0) continue;
    const ssize_t n = ::recv(fd.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw std::runtime_error(std::string("http: recv: ") + std::strerror(errno));
    }
    if (n == 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  HttpResponse r;
  const std::size_t head_end = resp.find("\r\n\r\n");
  if (!resp.starts_with("HTTP/1.") || resp.size() < 12 || head_end == std::string::npos)
    throw std::runtime_error("http: no HTTP response from " + host + ":" + std::to_string(port));
  r.status = std::atoi(resp.c_str() + 9);
  const std::string_view head(resp.data(), head_end);
  r.body = resp.substr(head_end + 4);
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("transfer-encoding: chunked") != std::string::npos) r.body = dechunk(r.body);
  return r;
}

std::unique_ptr<Sink> open_clickhouse(const std::string& url) { return std::make_unique<ClickHouseSink>(url); }

}  // namespace hft::data
