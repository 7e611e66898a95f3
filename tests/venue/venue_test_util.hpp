#pragma once
// Helpers for the venue's tests: a small configuration on loopback ports, an OUCH client over a
// real SoupBinTCP session, and a MoldUDP64 receiver (gateways/moldudp64/session.hpp) that can
// drop packets on purpose and recovers them from the venue's re-request server into a book
// built from the ITCH it receives.
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/moldudp64/session.hpp"
#include "gateways/ouch/codec.hpp"
#include "gateways/moldudp64/packet.hpp"
#include "gateways/soupbintcp/client.hpp"
#include "gateways/soupbintcp/packet.hpp"
#include "net/socket.hpp"
#include "net/tcp_client.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/book/snapshot.hpp"
#include "venue/config.hpp"

namespace hft::venue::testing {

// Small pools, fast timers, loopback ports chosen by the kernel (the feed goes to `feed_port`).
inline VenueConfig test_config(std::uint16_t feed_port) {
  VenueConfig c;
  c.feed = net::parse_endpoint("127.0.0.1:" + std::to_string(feed_port));
  c.rerequest = net::parse_endpoint("127.0.0.1:0");
  c.ouch = net::parse_endpoint("127.0.0.1:0");
  c.publisher.heartbeat_interval_ns = 20'000'000;
  c.publisher.end_of_session_packets = 3;
  c.store.max_messages = 1 << 18;
  c.store.max_bytes = 16u << 20;
  c.order_entry.store_messages = 1 << 14;
  c.order_entry.store_bytes = 1u << 20;
  c.order_entry.output_buffer_bytes = 64 * 1024;
  c.accounts = {Account{"ALICE", "a", "ALCE"}, Account{"BOB", "b", ""}, Account{"CAROL", "c", ""}};
  c.max_connections = 4;
  c.max_client_orders = 1024;
  c.engine.max_orders = 1 << 16;
  c.engine.max_levels = 1 << 14;
  c.max_levels_per_side = 512;
  c.symbols = generate_symbols(4, 1);
  c.engine.max_symbols = static_cast<std::uint32_t>(c.symbols.size() + 2);
  c.background.rate = 0;
  c.background.max_resting_per_symbol = 2000;
  c.shutdown_linger_ns = 2'000'000'000;
  return c;
}

// A full-depth book from ITCH messages (displayed interest, as any feed client sees it).
class ItchBook {
 public:
  struct Order {
    std::uint16_t locate;
    char side;
    std::uint32_t price;
    std::uint32_t shares;
  };

  void on_stock_directory(const itch::StockDirectory& m) { symbols_[m.stock_locate()] = m.stock(); }
  void on_add_order(const itch::AddOrder& m) {
    orders_[m.order_reference_number()] = Order{m.stock_locate(), m.buy_sell_indicator(), m.price(), m.shares()};
  }
  void on_order_executed(const itch::OrderExecuted& m) { take(m.order_reference_number(), m.executed_shares()); }
  void on_order_cancel(const itch::OrderCancel& m) { take(m.order_reference_number(), m.cancelled_shares()); }
  void on_order_delete(const itch::OrderDelete& m) {
    if (orders_.erase(m.order_reference_number()) == 0) ++errors;
  }
  void on_order_replace(const itch::OrderReplace& m) {
    const auto it = orders_.find(m.original_order_reference_number());
    if (it == orders_.end()) {
      ++errors;
      return;
    }
    Order o = it->second;
    orders_.erase(it);
    o.price = m.price();
    o.shares = m.shares();
    orders_[m.new_order_reference_number()] = o;
  }
  void on_trade(const itch::Trade& m) { trades += m.shares(); }

  // Levels of one side, best first: {price, shares, orders}.
  [[nodiscard]] std::vector<std::array<std::uint64_t, 3>> levels(std::uint16_t locate, char side) const {
    std::map<std::uint32_t, std::array<std::uint64_t, 3>> by_price;
    for (const auto& [ref, o] : orders_) {
      if (o.locate != locate || o.side != side) continue;
      auto& l = by_price[o.price];
      l[0] = o.price;
      l[1] += o.shares;
      l[2] += 1;
    }
    std::vector<std::array<std::uint64_t, 3>> out;
    for (const auto& [p, l] : by_price) out.push_back(l);
    if (side == 'B') std::reverse(out.begin(), out.end());
    return out;
  }
  [[nodiscard]] std::uint16_t locate_of(std::string_view symbol) const {
    for (const auto& [locate, s] : symbols_)
      if (s.view() == symbol) return locate;
    return 0;
  }
  [[nodiscard]] const std::map<std::uint16_t, itch::Symbol>& symbols() const { return symbols_; }
  [[nodiscard]] std::size_t orders() const { return orders_.size(); }

  std::uint64_t errors = 0;  // a message naming an order that is not on the book
  std::uint64_t trades = 0;

 private:
  void take(std::uint64_t ref, std::uint32_t shares) {
    const auto it = orders_.find(ref);
    if (it == orders_.end() || it->second.shares < shares) {
      ++errors;
      return;
    }
    it->second.shares -= shares;
    if (it->second.shares == 0) orders_.erase(it);
  }
  std::map<std::uint64_t, Order> orders_;
  std::map<std::uint16_t, itch::Symbol> symbols_;
};

// Receives the feed on a UDP socket, drops every `drop_every`-th message packet that comes from
// the feed (never a retransmission), and recovers the gaps from the re-request server.
class FeedReceiver {
 public:
  struct Handler {
    FeedReceiver* self;
    void on_message(std::uint64_t, const std::uint8_t* p, std::size_t n) {
      if (n != 0) ++self->by_type_[p[0]];
      if (n >= 11) {  // ITCH timestamps never go backwards within a session
        const std::uint64_t ts = wire::load_be48(p + 5);
        if (ts < self->last_timestamp_) ++self->timestamp_regressions;
        self->last_timestamp_ = ts;
      }
      itch::decode_message(p, n, self->book_);
      itch::decode_message(p, n, self->books_handler_);
      if (self->on_message_) self->on_message_(p, n);
    }
  };

  explicit FeedReceiver(int drop_every = 0, std::function<void(const std::uint8_t*, std::size_t)> on_message = {})
      : drop_every_(drop_every),
        on_message_(std::move(on_message)),
        handler_{this},
        session_(handler_, session_config()),
        books_(books_config()),
        books_handler_(books_, books_sink_) {
    net::UdpOptions o;
    o.receive_buffer = 8 << 20;
    fd_ = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"), o);
    port_ = net::local_endpoint(fd_.get()).port();
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  void set_rerequest(const net::Endpoint& e) { rerequest_ = e; }

  // Waits up to timeout_ms for a datagram, handles everything pending, sends a due request.
  void poll(int timeout_ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    ::poll(&p, 1, timeout_ms);
    std::uint8_t buf[65536];
    for (;;) {
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n <= 0) break;
      ++datagrams;
      const bool retransmission = from.sin_port == rerequest_.addr.sin_port;
      mold::PacketHeader h;
      if (!retransmission && drop_every_ > 0 && mold::PacketHeader::parse(buf, static_cast<std::size_t>(n), h) &&
          h.kind() == mold::PacketKind::kMessages && ++data_packets_ % static_cast<std::uint64_t>(drop_every_) == 0) {
        ++dropped_packets;
        dropped_messages += h.count;
        continue;
      }
      if (retransmission) ++retransmissions;
      session_.on_packet(buf, static_cast<std::size_t>(n), core::monotonic_ns());
    }
    mold::RequestPacket req;
    if (session_.poll(core::monotonic_ns(), req)) {
      std::uint8_t bytes[mold::kRequestSize];
      req.write(bytes);
      ::sendto(fd_.get(), bytes, sizeof bytes, 0, reinterpret_cast<const sockaddr*>(&rerequest_.addr), sizeof rerequest_.addr);
      ++requests;
    }
  }

  // End of session seen and nothing missing.
  [[nodiscard]] bool complete() const { return session_.end_of_session() && !session_.in_recovery(); }
  [[nodiscard]] const mold::SessionCounters& counters() const { return session_.counters(); }
  [[nodiscard]] const mold::Session<FeedReceiver::Handler>& session() const { return session_; }
  [[nodiscard]] ItchBook& book() { return book_; }
  // The same messages in the appliance's order books (pipeline/book).
  [[nodiscard]] const book::BookSet& books() const { return books_; }
  [[nodiscard]] const std::array<std::uint64_t, 256>& by_type() const { return by_type_; }

  std::uint64_t datagrams = 0, dropped_packets = 0, dropped_messages = 0, retransmissions = 0, requests = 0;
  std::uint64_t timestamp_regressions = 0;


 private:
  static book::BookConfig books_config() {
    book::BookConfig c;
    c.orders = 1 << 17;
    c.levels = 1 << 15;
    c.max_locate = 64;
    return c;
  }
  static mold::SessionConfig session_config() {
    mold::SessionConfig c;
    c.request_timeout_ns = 20'000'000;
    c.recovery_deadline_ns = 3'000'000'000;
    c.store_packets = 4096;
    return c;
  }

  int drop_every_;
  std::function<void(const std::uint8_t*, std::size_t)> on_message_;
  Handler handler_;
  mold::Session<Handler> session_;
  ItchBook book_;
  book::BookSet books_;
  book::NullSink books_sink_;
  book::ItchBookHandler<book::NullSink> books_handler_;
  net::Fd fd_;
  std::uint16_t port_ = 0;
  net::Endpoint rerequest_;
  std::uint64_t data_packets_ = 0;
  std::uint64_t last_timestamp_ = 0;
  std::array<std::uint64_t, 256> by_type_{};
};

// An OUCH 5.0 client on a SoupBinTCP session (the client engine and the epoll TCP runner).
class OuchClient {
 public:
  struct Trader {
    std::vector<std::vector<std::uint8_t>> messages;
    std::vector<soup::SessionEvent> events;
    void on_sequenced(std::uint64_t, std::span<const std::uint8_t> m, std::uint64_t) { messages.emplace_back(m.begin(), m.end()); }
    void on_event(const soup::SessionEvent& e) { events.push_back(e); }
  };
  using Session = soup::ClientSession<Trader>;

  // session "": the venue's current one (SoupBinTCP: a blank Requested Session).
  OuchClient(const std::string& user, const std::string& password, const net::Endpoint& venue, std::uint64_t next_sequence = 1,
             const std::string& session = "") {
    soup::ClientConfig c;
    c.username = user;
    c.password = password;
    c.session = session;
    c.next_sequence = next_sequence;
    session_ = std::make_unique<Session>(c, trader_);
    net::TcpClientOptions o;
    o.reconnect = false;
    link_ = std::make_unique<net::TcpClient<Session>>(venue, *session_, o);
    link_->connect();
  }

  void poll(int timeout_ms = 0) { link_->poll(timeout_ms); }
  [[nodiscard]] bool logged_in() const { return session_->logged_in(); }
  [[nodiscard]] bool rejected() const { return session_->rejected(); }
  [[nodiscard]] Session& session() { return *session_; }
  [[nodiscard]] const Trader& trader() const { return trader_; }
  void disconnect() { link_->disconnect(); }
  [[nodiscard]] bool connected() const { return link_->connected(); }
  void logout() { session_->logout(core::monotonic_ns()); }

  template <class M>
  bool send(const M& m) {
    std::uint8_t buf[512];
    const std::size_t n = ouch::encode(buf, sizeof buf, m);
    const bool ok = session_->send_unsequenced({buf, n}, core::monotonic_ns());
    link_->poll(0);
    return ok;
  }
  bool send_raw(std::span<const std::uint8_t> bytes) {
    const bool ok = session_->send_unsequenced(bytes, core::monotonic_ns());
    link_->poll(0);
    return ok;
  }

  // Every outbound message of type T received so far (decoded).
  template <class T>
  [[nodiscard]] std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& m : trader_.messages) {
      T t;
      if (!m.empty() && m[0] == static_cast<std::uint8_t>(T::kType) && ouch::decode(m.data(), m.size(), t) == ouch::DecodeError::kOk)
        out.push_back(t);
    }
    return out;
  }
  [[nodiscard]] std::size_t received() const { return trader_.messages.size(); }
  [[nodiscard]] std::string types() const {
    std::string s;
    for (const auto& m : trader_.messages) s += m.empty() ? '?' : static_cast<char>(m[0]);
    return s;
  }

 private:
  Trader trader_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<net::TcpClient<Session>> link_;
};

// A trivial latency-probe answerer on blocking sockets: the reaction of
// pipeline/strategy/probe.hpp without the appliance around it. It reads the feed with a blocking
// recv and answers every add on the probe's locate with a crossing IOC of one share, written to
// its SoupBinTCP connection at once.
class ProbeAnswerer {
 public:
  ProbeAnswerer(std::uint16_t probe_locate) : probe_locate_(probe_locate) {
    net::UdpOptions o;
    o.nonblocking = false;
    o.receive_buffer = 4 << 20;
    feed_ = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"), o);
    timeval tv{0, 100'000};  // recv gives up after 100 ms, so the caller can stop
    ::setsockopt(feed_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  [[nodiscard]] std::uint16_t port() const { return net::local_endpoint(feed_.get()).port(); }

  // Connects and logs in (blocking); true once Login Accepted arrived.
  bool login(const net::Endpoint& venue, const std::string& user, const std::string& password) {
    net::TcpOptions o;
    o.nonblocking = false;
    tcp_ = net::tcp_connect(venue, 2000, o);
    soup::LoginRequest req;
    req.username = soup::Username::from(user);
    req.password = soup::Password::from(password);
    req.sequence = 0;  // new messages only
    std::uint8_t buf[64];
    const std::size_t n = soup::encode_login_request(buf, req);
    if (::write(tcp_.get(), buf, n) != static_cast<ssize_t>(n)) return false;
    std::uint8_t in[4096];
    std::size_t have = 0;
    for (int i = 0; i < 100; ++i) {
      const ssize_t r = ::recv(tcp_.get(), in + have, sizeof in - have, 0);
      if (r <= 0) return false;
      have += static_cast<std::size_t>(r);
      if (have >= 3) return in[2] == soup::packet_type::kLoginAccepted;
    }
    return false;
  }

  // Reads feed packets until one arrives or 100 ms pass; answers the probes in it.
  void run_once() {
    std::uint8_t buf[65536];
    const ssize_t n = ::recv(feed_.get(), buf, sizeof buf, 0);
    if (n <= 0) return;
    mold::PacketHeader h;
    if (!mold::PacketHeader::parse(buf, static_cast<std::size_t>(n), h)) return;
    mold::MessageBlocks blocks(buf, static_cast<std::size_t>(n), h.count);
    const std::uint8_t* msg = nullptr;
    std::size_t len = 0;
    while (blocks.next(msg, len)) {
      if (len != 36 || msg[0] != 'A') continue;
      const itch::AddOrder add{msg};
      if (add.stock_locate() != probe_locate_) continue;
      answer(add);
    }
    drain();
  }

  void close() { tcp_.reset(); }

  std::uint64_t answered = 0;

 private:
  void answer(const itch::AddOrder& add) {
    ouch::EnterOrder m;
    m.user_ref_num = ++user_ref_;
    m.side = add.buy_sell_indicator() == 'B' ? ouch::Side::kSell : ouch::Side::kBuy;
    m.quantity = 1;
    m.symbol = add.stock();
    m.price = add.price();
    m.time_in_force = ouch::TimeInForce::kIoc;
    std::uint8_t out[128];
    const std::size_t len = ouch::encode(out + soup::kHeaderSize, sizeof out - soup::kHeaderSize, m);
    soup::write_header(out, soup::packet_type::kUnsequencedData, len);
    if (::write(tcp_.get(), out, soup::kHeaderSize + len) == static_cast<ssize_t>(soup::kHeaderSize + len)) ++answered;
  }
  // The venue's replies are not needed: read them so the socket never fills.
  void drain() {
    std::uint8_t sink[65536];
    while (::recv(tcp_.get(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }

  std::uint16_t probe_locate_;
  net::Fd feed_;
  net::Fd tcp_;
  ouch::UserRefNum user_ref_ = 0;
};

inline ouch::EnterOrder enter(ouch::UserRefNum ref, ouch::Side side, std::uint32_t qty, std::string_view symbol,
                              ouch::Price price, ouch::TimeInForce tif = ouch::TimeInForce::kDay) {
  ouch::EnterOrder m;
  m.user_ref_num = ref;
  m.side = side;
  m.quantity = qty;
  m.symbol = ouch::Symbol::from(symbol);
  m.price = price;
  m.time_in_force = tif;
  char id[16];  // (not "T" + std::to_string(ref): g++ 12 -O3 warns falsely in basic_string)
  const int n = std::snprintf(id, sizeof id, "T%u", ref);
  m.cl_ord_id = ouch::ClOrdId::from(std::string_view(id, static_cast<std::size_t>(n)));
  return m;
}

// Runs `step` until `done` or the time limit.
inline bool run_until(const std::function<void()>& step, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    step();
    if (done()) return true;
  }
  return false;
}

}  // namespace hft::venue::testing
