#include "data/api/server.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace hft::data::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string_view mime(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "application/javascript";
  if (name.ends_with(".css")) return "text/css";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

bool safe_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '.') return false;
  for (const char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

class WsSession;

struct Server::Impl {
  Impl(const ServerConfig& c, Router& r) : config(c), router(r), acceptor(io), limiter(c.rate_per_second, c.burst) {}
  ServerConfig config;
  Router& router;
  asio::io_context io;
  tcp::acceptor acceptor;
  RateLimiter limiter;
  ServerStats stats;
  std::size_t connections = 0;
  std::set<std::shared_ptr<WsSession>> clients;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::vector<std::shared_ptr<std::function<void()>>> loops;
  // Mutating requests (POST, DELETE: commands to hftd, which may wait up to 2 s for its answer)
  // run here, one at a time, so reads and the WebSocket stream of other clients never wait on
  // them. Last member: joined before the io_context it posts the replies to goes away.
  asio::thread_pool commands{1};

  void accept();
  void send_all(std::shared_ptr<const std::string> msg);
};

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& s, Server::Impl& server) : ws_(std::move(s)), server_(server), grace_(ws_.get_executor()) {}
  void start(http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();
    if (server_.config.ws_send_buffer > 0) {
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().set_option(asio::socket_base::send_buffer_size(server_.config.ws_send_buffer), ec);
    }
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(4096);
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->server_.clients.insert(self);
      ++self->server_.stats.ws_clients;
      self->read();
    });
  }
  void send(std::shared_ptr<const std::string> msg) {
    if (closing_) return;
    // Over the bound with messages waiting (one message alone, however large, is sent).
    if (!queue_.empty() && queued_bytes_ + msg->size() > server_.config.ws_queue_bytes) {
      drop();
      return;
    }
    queued_bytes_ += msg->size();
    queue_.push_back(std::move(msg));
    if (!writing_) write();
  }

 private:
  void read() {  // client messages are read and ignored (pings, closes are handled by Beast)
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->gone();
      self->in_.consume(self->in_.size());
      self->read();
    });
  }
  void write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->gone();
      ++self->server_.stats.ws_messages;
      self->queued_bytes_ -= self->queue_.front()->size();
      self->queue_.pop_front();
      if (self->closing_) return self->close_now();
      if (!self->queue_.empty()) self->write();
    });
  }
  // Too far behind: the queue is dropped and the client closed with 1008; one that does not even
  // finish the write in progress within a second is disconnected.
  void drop() {
    closing_ = true;
    ++server_.stats.ws_dropped;
    beast::error_code peer_ec;
    const auto peer = beast::get_lowest_layer(ws_).socket().remote_endpoint(peer_ec);
    std::fprintf(stderr, "hftctl: dropped a slow WebSocket client %s (%zu event bytes waiting)\n",
                 peer_ec ? "?" : (peer.address().to_string() + ":" + std::to_string(peer.port())).c_str(), queued_bytes_);
    queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());  // the one being written stays until it completes
    server_.clients.erase(shared_from_this());
    if (!writing_) return close_now();
    grace_.expires_after(std::chrono::seconds(1));
    grace_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->writing_) beast::get_lowest_layer(self->ws_).close();
    });
  }
  void close_now() {
    ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, "slow client"),
                    [self = shared_from_this()](beast::error_code) {});
  }
  void gone() { server_.clients.erase(shared_from_this()); }

  websocket::stream<beast::tcp_stream> ws_;
  Server::Impl& server_;
  beast::flat_buffer in_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  asio::steady_timer grace_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false, closing_ = false;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& s, Server::Impl& server) : stream_(std::move(s)), server_(server) {
    ++server_.connections;
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    client_ = ec ? "?" : ep.address().to_string();
  }
  ~HttpSession() { --server_.connections; }
  void start() { read(); }
  void refuse() {  // over the connection limit: one 503 and close
    auto res = std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
    res->set(http::field::content_type, "application/json");
    res->body() = error(503, "too many connections").body;
    res->keep_alive(false);
    res->prepare_payload();
    stream_.expires_after(std::chrono::seconds(2));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.config.limits.max_header_bytes));
    parser_->body_limit(server_.config.limits.max_body);
    stream_.expires_after(std::chrono::seconds(server_.config.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) return self->close();
      if (ec) {
        ++self->server_.stats.bad_requests;
        const int status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
        return self->reply(error(status, ec.message()), false, 11);
      }
      self->on_request();
    });
  }
  void on_request() {
    ++server_.stats.requests;
    auto& req = parser_->get();
    const bool keep = req.keep_alive();
    const unsigned version = req.version();
    std::size_t headers = 0;
    for (auto it = req.begin(); it != req.end(); ++it) ++headers;
    if (headers > server_.config.limits.max_headers) {
      ++server_.stats.bad_requests;
      return reply(error(431, "too many header fields"), false, version);
    }
    if (!server_.limiter.allow(client_, now_seconds())) {
      ++server_.stats.rate_limited;
      return reply(error(429, "rate limit: too many requests from " + client_), keep, version);
    }
    const std::string target(req.target());
    const std::string auth(req[http::field::authorization]);
    if (websocket::is_upgrade(req)) {
      if (!server_.router.websocket_allowed(target, auth)) {
        ++server_.stats.unauthorized;
        return reply(error(path_of(target) == "/ws/hft" ? 401 : 404, "the event stream is /ws/hft and needs the bearer token"), false,
                     version);
      }
      std::make_shared<WsSession>(stream_.release_socket(), server_)->start(parser_->release());
      return;
    }
    const std::string_view path = path_of(target);
    if (path.starts_with(kPrefix)) {
      Request r{std::string(req.method_string()), target, auth, req.body()};
      if (req.method() == http::verb::get || req.method() == http::verb::head) {
        Response res = server_.router.handle(r);
        if (res.status == 401) ++server_.stats.unauthorized;
        return reply(std::move(res), keep, version);
      }
      // This connection waits for its answer (no pipelining); the others go on.
      asio::post(server_.commands, [self = shared_from_this(), r = std::move(r), keep, version]() mutable {
        auto res = std::make_shared<Response>(self->server_.router.handle(r));
        asio::post(self->stream_.get_executor(), [self, res, keep, version] {
          if (res->status == 401) ++self->server_.stats.unauthorized;
          self->reply(std::move(*res), keep, version);
        });
      });
      return;
    }
    if ((req.method() == http::verb::get || req.method() == http::verb::head) && !server_.config.static_dir.empty()) {
      std::string name(path == "/" ? "index.html" : path.substr(1));
      if (name.starts_with("dashboard/")) name = name.substr(10);
      if (safe_name(name)) {
        std::ifstream f(server_.config.static_dir + "/" + name, std::ios::binary);
        if (f) {
          std::stringstream ss;
          ss << f.rdbuf();
          return reply(Response{200, ss.str(), std::string(mime(name))}, keep, version);
        }
      }
    }
    reply(error(404, "not found"), keep, version);
  }
  void reply(Response r, bool keep, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "hftctl");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    res->body() = std::move(r.body);
    res->keep_alive(keep);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read();
    });
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string client_;
};

void Server::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto session = std::make_shared<HttpSession>(std::move(s), *this);
      if (connections + clients.size() > config.max_connections) {
        ++stats.rejected_connections;
        session->refuse();
      } else {
        session->start();
      }
    }
    accept();
  });
}

void Server::Impl::send_all(std::shared_ptr<const std::string> msg) {
  const auto copy = clients;  // send() may drop a client (erase from the set)
  for (const auto& c : copy) c->send(msg);
}

Server::Server(const ServerConfig& config, Router& router) : impl_(std::make_unique<Impl>(config, router)) {
  const tcp::endpoint ep(asio::ip::make_address(config.address), config.port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(128);
  impl_->accept();
}

Server::~Server() = default;

std::uint16_t Server::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }

void Server::broadcast(std::string json) {
  auto msg = std::make_shared<const std::string>(std::move(json));
  asio::post(impl_->io, [this, msg] { impl_->send_all(msg); });
}

void Server::every(int period_ms, std::function<void()> tick) {
  auto timer = std::make_unique<asio::steady_timer>(impl_->io);
  auto* t = timer.get();
  impl_->timers.push_back(std::move(timer));
  auto loop = std::make_shared<std::function<void()>>();
  *loop = [t, period_ms, tick = std::move(tick), loop_weak = std::weak_ptr<std::function<void()>>(loop)]() {
    tick();
    t->expires_after(std::chrono::milliseconds(period_ms));
    t->async_wait([loop_weak](beast::error_code ec) {
      if (auto l = loop_weak.lock(); l && !ec) (*l)();
    });
  };
  impl_->loops.push_back(loop);
  asio::post(impl_->io, [loop] { (*loop)(); });
}

void Server::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    impl_->io.run_for(std::chrono::milliseconds(50));
    if (impl_->io.stopped()) impl_->io.restart();
  }
}

const ServerStats& Server::stats() const noexcept { return impl_->stats; }

}  // namespace hft::data::api
