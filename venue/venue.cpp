#include "venue/venue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "core/log.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/book/snapshot.hpp"
#include "gateways/itch/glimpse.hpp"

namespace hft::venue {
namespace {

constexpr std::uint64_t kHousekeepingNs = 10'000'000;  // soup heartbeats and timeouts are 1 s-scale
constexpr std::uint64_t kStopTag = 1, kTcpTag = 2, kRerequestTag = 3, kGlimpseTag = 4, kLeadTag = 5, kFollowTag = 6;
constexpr int kRerequestRounds = 16;                   // recvmmsg batches per pass
constexpr unsigned kTcpReady = 1, kRerequestReady = 2, kGlimpseReady = 4, kLeadReady = 8, kFollowReady = 16;

std::uint64_t unix_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string dollars(double v) { return fmt::format("{}${:.4f}", v < 0 ? "-" : "", v < 0 ? -v : v); }

soup::ServerConfig server_config(const VenueConfig& c) {
  soup::ServerConfig s = c.order_entry;
  s.users.clear();
  for (const Account& a : c.accounts) s.users.push_back({a.username, a.password});
  return s;
}

VenueConfig checked(VenueConfig c) {
  c.validate();
  // A start is a new day (issue 18): a new MoldUDP64 session name and a new SoupBinTCP session,
  // so that receivers and clients of a previous run cannot mistake this run's sequence numbers
  // for theirs. Configured names are kept.
  c.name_blank_sessions(new_session_name());
  // Match numbers 1..N+1 are the opening crosses' (start_of_day); the engine's follow.
  c.engine.first_match_number = c.symbols.size() + 2;
  // The background quotes share the engine's order pool with client orders: with many symbols the
  // per-symbol bound comes down so that the pool can never run out under the flow.
  // (BackgroundFlow::capacity(): quotes + 64 slots of slack + its incoming order; the probe
  // and a client's incoming order: 2 more.)
  const std::uint64_t room = c.engine.max_orders - c.max_client_orders - 64 - 1 - 2;
  const std::uint64_t fit = room / c.symbols.size();
  if (c.background.max_resting_per_symbol > fit) {
    core::log::info("hft-exchange: background quotes per symbol lowered from {} to {} to fit the engine's {} orders",
                    c.background.max_resting_per_symbol, fit, c.engine.max_orders);
    c.background.max_resting_per_symbol = static_cast<std::uint32_t>(fit);
  }
  return c;
}

std::string percentile_line(const core::Histogram& h) {
  if (h.total_count() == 0) return "no samples";
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  return fmt::format("p50 {:.1f} us, p90 {:.1f} us, p99 {:.1f} us, p99.9 {:.1f} us, max {:.1f} us ({} samples)",
                     us(h.value_at_percentile(50)), us(h.value_at_percentile(90)), us(h.value_at_percentile(99)),
                     us(h.value_at_percentile(99.9)), us(h.max()), h.total_count());
}

}  // namespace

// The books rebuilt from exactly what the feed published (for --book-dump): the venue feeds each
// packet it sends to a BookSet, so its dump is what any receiver of the whole feed - `hft-itch
// book` on the capture among them - rebuilds, in the same canonical format. At the end it is also
// checked against the engine's own books: a difference would be a wrong ITCH mapping.
class ShadowBook {
 public:
  explicit ShadowBook(const VenueConfig& c) : books_(book_config(c)), handler_(books_, sink_) {}

  static void tap(void* self, const mold::PacketHeader& h, std::span<const std::uint8_t> packet) noexcept {
    if (h.kind() != mold::PacketKind::kMessages) return;
    auto* s = static_cast<ShadowBook*>(self);
    book::build_blocks(packet.data() + mold::kHeaderSize, packet.size() - mold::kHeaderSize, s->handler_, s->stats_);
  }

  [[nodiscard]] const book::BookSet& books() const noexcept { return books_; }

 private:
  static book::BookConfig book_config(const VenueConfig& c) {
    book::BookConfig b;
    b.orders = c.engine.max_orders;
    b.levels = c.engine.max_levels;
    b.max_locate = static_cast<std::uint32_t>(c.symbols.size() + 1);
    return b;
  }
  book::BookSet books_;
  book::NullSink sink_;
  book::ItchBookHandler<book::NullSink> handler_;
  itch::DecodeStats stats_;
};

Venue::Venue(VenueConfig config)
    : config_(checked(std::move(config))),
      clock_(config_.clock_start_ns),
      listener_{this},
      engine_(config_.engine, listener_),
      feed_(config_, clock_, all_symbols()),
      rerequest_(config_.rerequest_options, feed_.store(), config_.rerequest),
      context_(server_config(config_)),
      order_entry_(config_, context_, engine_, clock_, probe_locate()),
      background_(config_.background, config_.seed, config_.symbols),
      probe_(config_.probe, probe_locate()),
      noise_rng_(config_.seed ^ 0x4C45'4144'4C41'4721ull) {
  const std::size_t needed = background_.capacity() + config_.max_client_orders + 2;
  if (config_.engine.max_orders < needed)
    throw std::invalid_argument(fmt::format(
        "venue config: engine max_orders ({}) must hold the background quotes (symbols x max_resting_per_symbol) "
        "and max_client_orders: at least {}",
        config_.engine.max_orders, needed));
  const std::vector<itch::Symbol> symbols = all_symbols();
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    match::SymbolConfig sc;
    sc.name = symbols[i];
    sc.min_price = 100;  // $0.01
    sc.max_price = match::kMaxPrice;
    sc.tick = 100;       // the penny grid (Reg NMS Rule 612 for prices of $1.00 and above)
    sc.max_levels_per_side = config_.max_levels_per_side;
    engine_.add_symbol(static_cast<match::SymbolIndex>(i + 1), sc);
  }
  order_entry_.set_symbols(symbols);
  if (!config_.book_dump.empty()) {
    shadow_ = std::make_unique<ShadowBook>(config_);
    feed_.sink().set_tap(&ShadowBook::tap, shadow_.get());
  }
  if (probe_.enabled()) order_entry_.set_probe_hook(&Venue::probe_hook, this);
  if (!config_.executions.empty()) {
    executions_ = std::make_unique<ExecutionLog>(config_.executions);
    order_entry_.set_execution_log(executions_.get());
  }

  port_.venue = this;
  net::TcpServerOptions options;
  options.max_connections = config_.max_connections;
  options.max_connections_per_source = config_.max_connections_per_source;
  options.log_interval_ns = config_.warning_interval_ns;
  options.log_burst = config_.warnings_per_interval;
  tcp_ = std::make_unique<net::TcpServer<Session>>(
      config_.ouch, options, [this](std::size_t) { return std::make_unique<Session>(context_, port_); });

  if (config_.glimpse) {
    soup::ServerConfig g = server_config(config_);
    g.store_messages = 1;  // a GLIMPSE login is for sequence 1; nothing is stored
    g.store_bytes = g.max_message;
    glimpse_context_ = std::make_unique<soup::ServerContext>(g);
    net::TcpServerOptions go = options;
    go.max_connections = config_.glimpse_max_connections;
    go.max_connections_per_source = config_.glimpse_max_connections_per_source;
    glimpse_tcp_ = std::make_unique<net::TcpServer<GlimpseSession>>(*config_.glimpse, go, [this](std::size_t) {
      return std::make_unique<GlimpseSession>(*glimpse_context_, &Venue::glimpse_build, this, glimpse_counters_);
    });
  }

  stop_fd_ = net::Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!stop_fd_.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_.add(stop_fd_.get(), EPOLLIN, kStopTag);
  epoll_.add(tcp_->epoll_fd(), EPOLLIN, kTcpTag);
  epoll_.add(rerequest_.fd(), EPOLLIN, kRerequestTag);
  if (glimpse_tcp_) epoll_.add(glimpse_tcp_->epoll_fd(), EPOLLIN, kGlimpseTag);

  std::vector<itch::Symbol> traded(symbols.begin(), symbols.end() - 1);  // not the probe's
  if (config_.lead.listen) {
    std::vector<match::Price> fair;
    for (std::size_t i = 0; i < traded.size(); ++i) fair.push_back(background_.fair_value(static_cast<std::uint16_t>(i + 1)));
    lead_ = std::make_unique<LeadServer>(*config_.lead.listen, config_.lead.max_followers, config_.lead.buffer_bytes,
                                         config_.venue, effective_mpid(config_), traded, fair);
    background_.track_changes(true);
    epoll_.add(lead_->listen_fd(), EPOLLIN, kLeadTag);
  }
  if (config_.follow.leader) {
    follow_ = std::make_unique<LeadFollower>(*config_.follow.leader, config_.follow.lag_ns, config_.follow.retry_ns, traded,
                                             std::max(config_.follow.queue, 2 * traded.size()));
  }
}

// GLIMPSE 5.0 (docs/market-data.md): the day so far, every displayed resting order with its
// current shares in time priority per level, then the Snapshot message with the feed's next
// sequence number. Called between requests, so the engine's books are exactly what the feed's
// messages below that number built.
std::size_t Venue::build_snapshot(std::vector<std::uint8_t>& out) {
  std::uint8_t msg[64];
  std::size_t n = 0;
  const std::uint64_t ts = clock_.since_midnight();
  // Add Orders (36 bytes) dominate: one growth of the buffer, not ~20 for a 1M-order book.
  out.reserve(out.size() + (std::size_t{engine_.live_orders()} + 4 * feed_.symbol_count() + 8) * (soup::kHeaderSize + 40));
  auto put = [&](std::size_t len) {
    append_sequenced(out, msg, len);
    ++n;
  };
  const itch::MessageHeader day{0, 0, ts};
  // The System Events of the day so far, in their order (start_of_day / end_of_day).
  const char last = feed_.last_system_event();
  for (const char code : {'O', 'S', 'Q', 'M', 'E', 'C'}) {
    if (last == 0) break;
    put(itch::encode::system_event(msg, day, code));
    if (code == last) break;
  }
  const auto locates = static_cast<std::uint16_t>(feed_.symbol_count());
  for (std::uint16_t l = 1; l <= locates; ++l) {
    if (!feed_.directory_published(l)) continue;
    const itch::MessageHeader h{l, 0, ts};
    put(itch::encode::stock_directory(msg, h, feed_.directory_fields(l)));
    if (const char state = feed_.trading_state(l); state != 0)
      put(itch::encode::stock_trading_action(msg, h, feed_.symbol(l), state, ""));
    // Reg SHO: this venue applies no short-sale restriction ('0').
    const std::string_view sym = feed_.symbol(l).view();
    put(itch::encode_generic(msg, 'Y', {{"stock_locate", l}, {"timestamp", ts}, {"stock", 0, sym}, {"reg_sho_action", 0, "0"}}));
  }
  for (std::uint16_t l = 1; l <= locates; ++l) {
    const itch::MessageHeader h{l, 0, ts};
    const itch::Symbol& sym = feed_.symbol(l);
    engine_.for_each_resting(static_cast<match::SymbolIndex>(l), [&](const match::OrderView& o) {
      if (o.hidden || o.displayed == 0) return;
      put(itch::encode::add_order(msg, h, o.ref, match::side_code(o.side), static_cast<std::uint32_t>(o.displayed), sym,
                                  static_cast<std::uint32_t>(o.price)));
    });
  }
  put(itch::glimpse::encode_snapshot(msg, feed_.next_sequence()));
  return n;
}

Venue::~Venue() = default;

std::vector<itch::Symbol> Venue::all_symbols() const {
  std::vector<itch::Symbol> out;
  out.reserve(config_.symbols.size() + 1);
  for (const SymbolSpec& s : config_.symbols) out.push_back(s.symbol);
  out.push_back(config_.probe.symbol);
  return out;
}

void Venue::stop() noexcept {
  stop_requests_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
}

void Venue::probe_hook(void* context, bool before, std::uint64_t now_ns) noexcept {
  auto* v = static_cast<Venue*>(context);
  v->probe_.on_enter(v->engine_, before, now_ns);
}

void Venue::count_session_event(const soup::SessionEvent& e) noexcept {
  switch (e.kind) {
    case soup::EventKind::kLoginAccepted: ++logins_; break;
    case soup::EventKind::kLoginRejected: ++login_rejects_; break;
    case soup::EventKind::kClosed: ++disconnects_; break;
  }
}

void Venue::log_session_event(const soup::SessionEvent& e) noexcept {
  if (soup::is_routine(e)) {
    soup::log_event(e);
    return;
  }
  // Key: what happened (kind, close reason, login failure), not who: a source cycling through
  // usernames or connections still makes one count.
  const std::uint64_t key = std::uint64_t{static_cast<std::uint8_t>(e.kind)} << 16 |
                            std::uint64_t{static_cast<std::uint8_t>(e.close_reason)} << 8 |
                            static_cast<std::uint8_t>(e.login_failure);
  std::uint64_t suppressed = 0;
  try {
    if (session_log_limiter_.allow(key, core::monotonic_ns(), suppressed)) {
      if (suppressed == 0) {
        soup::log_event(e);
      } else {
        core::log::warn("{} ({} more like it not logged)", soup::describe(e), suppressed);
      }
    }
  } catch (...) {  // formatting failed: the event is counted all the same
  }
}

std::uint32_t Venue::resting_client_orders() const {
  std::uint32_t n = 0;
  for (std::uint32_t locate = 1; locate <= config_.symbols.size() + 1; ++locate) {
    engine_.for_each_resting(static_cast<match::SymbolIndex>(locate),
                             [&](const match::OrderView& o) { n += is_client_owner(o.owner) ? 1 : 0; });
  }
  return n;
}

void Venue::inject(std::uint32_t user, std::span<const std::uint8_t> msg) noexcept {
  if (user >= config_.accounts.size()) return;
  order_entry_.handle(user, msg, core::monotonic_ns());
  feed_.flush();
  if (executions_ && executions_->pending()) executions_->flush();
}

// ---- the day ------------------------------------------------------------------------------------

void Venue::start_of_day(std::uint64_t now_ns) noexcept {
  clock_.set(now_ns);
  // ITCH 5.0 §1.1 System Event codes, in the order of a NASDAQ day: start of messages, the stock
  // directory, start of system hours, trading actions, start of market hours, opening crosses.
  feed_.system_event('O');
  const auto n = static_cast<std::uint16_t>(config_.symbols.size() + 1);
  for (std::uint16_t locate = 1; locate <= n; ++locate) feed_.stock_directory(locate, locate == probe_locate());
  feed_.system_event('S');
  for (std::uint16_t locate = 1; locate <= n; ++locate) feed_.trading_action(locate, 'T');
  feed_.system_event('Q');
  // The opening cross (ITCH 5.0 §1.5.2: a Cross Trade "for all active issues ... following the
  // Opening ... cross", with zero shares when no interest crossed): this venue runs no auction, so
  // every issue prints 0 shares at its reference price. Receivers get a price for every symbol
  // before any trade - the appliance's risk checks need one - the probe's included.
  for (std::uint16_t locate = 1; locate <= n; ++locate) {
    const match::Price ref = locate == probe_locate() ? config_.probe.price : config_.symbols[locate - 1u].reference_price;
    feed_.cross_trade(locate, 0, static_cast<std::uint32_t>(ref), locate, 'O');
  }
  feed_.flush();
  order_entry_.system_event(ouch::SystemEventCode::kStartOfDay);
  bg_base_ns_ = now_ns;
  bg_produced_ = 0;
  probe_.start(now_ns);
}

void Venue::run() {
  start();
  while (step()) {
  }
  finish();
}

void Venue::start() {
  if (started_) throw std::logic_error("venue: start() may be called once");
  started_ = true;
  start_ns_ = core::monotonic_ns();
  core::log::info("hft-exchange: venue {} (MPID {}); fees per share: add {}, remove {} (negative: a rebate)", config_.venue,
                  effective_mpid(config_), dollars(config_.fee_add), dollars(config_.fee_remove));
  if (lead_) core::log::info("hft-exchange: lead channel (fair values) on {}", lead_endpoint().to_string());
  if (follow_)
    core::log::info("hft-exchange: following {}: fair values {} ms after the leader's, noise {} bps",
                    config_.follow.leader->to_string(), config_.follow.lag_ns / 1'000'000, config_.follow.noise_bps);
  if (!config_.capture.empty()) write_capture_sidecar();
  core::log::info("hft-exchange: {} symbols (locates 1..{}), probe symbol {} at locate {}{}", config_.symbols.size(),
                  config_.symbols.size(), config_.probe.symbol.view(), probe_locate(),
                  probe_.enabled() ? "" : " (probe off)");
  core::log::info("hft-exchange: ITCH 5.0 / MoldUDP64 session {} to {}, re-requests on {}, OUCH 5.0 / SoupBinTCP "
                  "session {} on {}",
                  config_.publisher.session.view(), config_.feed.to_string(), rerequest_endpoint().to_string(),
                  config_.order_entry.session, ouch_endpoint().to_string());
  if (glimpse_tcp_) core::log::info("hft-exchange: GLIMPSE 5.0 snapshots on {}", glimpse_endpoint().to_string());
  std::string users;
  for (const Account& a : config_.accounts) users += (users.empty() ? "" : ", ") + a.username;
  core::log::info("hft-exchange: users {}; background flow {} msg/s, seed {}; open {}", users, config_.background.rate,
                  config_.seed,
                  config_.duration_ns != 0 ? fmt::format("{:.1f} s", static_cast<double>(config_.duration_ns) / 1e9)
                                           : std::string("until SIGINT/SIGTERM"));
  open_at_ns_ = start_ns_ + config_.open_delay_ns;
  if (config_.open_delay_ns == 0) {
    open_day(start_ns_);
  } else {
    core::log::info("hft-exchange: sessions and re-requests are served now; the day opens in {:.1f} s",
                    static_cast<double>(config_.open_delay_ns) / 1e9);
  }
}

void Venue::open_day(std::uint64_t now_ns) noexcept {
  open_ = true;
  open_ns_ = now_ns;
  start_of_day(now_ns);
}

bool Venue::step(std::uint64_t max_wait_ns) {
  if (!started_ || finished_) return false;
  if (stop_requests_.load(std::memory_order_relaxed) != 0) return false;
  const std::uint64_t now = core::monotonic_ns();
  if (!open_) {
    if (now < open_at_ns_) {  // before the open: logins and heartbeats, no market
      pass(false, std::min(max_wait_ns, open_at_ns_ - now));
      return true;
    }
    open_day(now);
  }
  if (config_.duration_ns != 0 && now - open_ns_ >= config_.duration_ns) return false;
  pass(true, max_wait_ns);
  return true;
}

void Venue::finish() {
  if (!started_ || finished_) return;
  finished_ = true;
  end_of_day();
  outputs_ok_ = write_outputs();
  log_summary(summary());
}

void Venue::end_of_day() {
  const std::uint64_t now = core::monotonic_ns();
  clock_.set(now);
  if (open_) {
    probe_.cancel(engine_);
    // End of market hours, end of system hours, end of messages (ITCH 5.0 §1.1).
    feed_.system_event('M');
    feed_.system_event('E');
    feed_.system_event('C');
    feed_.flush();
    order_entry_.system_event(ouch::SystemEventCode::kEndOfDay);
  }
  end_ns_ = now;
  // Clients get what they miss, then 'Z'; receivers get end-of-session packets and may still
  // ask for retransmissions (MoldUDP64 1.00 p.6: "the last chance to ensure that all messages
  // have been received").
  context_.end_session();
  feed_.end_session(now);
  rerequest_.set_session_ended(true);
  const std::uint64_t deadline = now + config_.shutdown_linger_ns;
  while (stop_requests_.load(std::memory_order_relaxed) < 2) {
    pass(false, ~std::uint64_t{0});
    const bool done = feed_.finished() && tcp_->active_connections() == 0;
    if (done || core::monotonic_ns() >= deadline) break;
  }
  tcp_->shutdown();
  if (glimpse_tcp_) glimpse_tcp_->shutdown();
  feed_.sink().flush_capture();
}

// ---- the loop -----------------------------------------------------------------------------------

void Venue::pass(bool trading, std::uint64_t max_wait_ns) noexcept {
  std::uint64_t now = core::monotonic_ns();
  const std::uint64_t deadline = trading ? next_deadline(now) : now + kHousekeepingNs;
  const unsigned ready = wait(std::min(deadline > now ? deadline - now : 0, max_wait_ns));
  now = core::monotonic_ns();
  // The TCP server also runs the sessions' timers (heartbeats, dead peers): at least every
  // housekeeping interval even without I/O.
  if ((ready & kTcpReady) != 0 || now >= next_session_poll_ns_) {
    tcp_->poll(0);
    next_session_poll_ns_ = now + kHousekeepingNs;
    if (now >= next_session_log_flush_) {
      next_session_log_flush_ = now + config_.warning_interval_ns;
      session_log_limiter_.flush(now, [](std::uint64_t key, std::uint64_t count) {
        const auto kind = static_cast<soup::EventKind>(key >> 16);
        if (kind == soup::EventKind::kLoginRejected) {
          core::log::warn("order entry: {} more logins rejected ({}), not logged one by one", count,
                          soup::to_string(static_cast<soup::LoginFailure>(key & 0xff)));
        } else {
          core::log::warn("order entry: {} more sessions closed ({}), not logged one by one", count,
                          soup::to_string(static_cast<soup::CloseReason>((key >> 8) & 0xff)));
        }
      });
    }
    feed_.flush();  // what client orders did goes out before the background burst
  }
  if ((ready & kRerequestReady) != 0) {
    for (int i = 0; i < kRerequestRounds && rerequest_.poll() > 0; ++i) {
    }
  }
  // GLIMPSE between requests: what the engine holds is what the feed's messages so far built.
  if (glimpse_tcp_ && ((ready & kGlimpseReady) != 0 || now >= next_glimpse_poll_ns_ || glimpse_tcp_->active_connections() != 0)) {
    glimpse_tcp_->poll(0);
    next_glimpse_poll_ns_ = now + kHousekeepingNs;
  }
  if (follow_) run_follow((ready & kFollowReady) != 0, now);
  if (trading) {
    probe_.poll(engine_, feed_, clock_, now);
    run_background(now);
    if (order_entry_.next_expiry() != 0 && now >= order_entry_.next_expiry()) order_entry_.expire(now);
  }
  if (lead_) run_lead((ready & kLeadReady) != 0);
  feed_.flush();
  feed_.poll(now);
  if (executions_ && executions_->pending()) executions_->flush();
  if (order_entry_.take_output_pending()) tcp_->poll(0);
}

std::uint64_t Venue::next_deadline(std::uint64_t now_ns) const noexcept {
  std::uint64_t d = now_ns + kHousekeepingNs;
  const double rate = config_.background.rate;
  if (rate > 0) {
    // The instant the next background message is due, rounded up to the flow's tick: the flow
    // is released in bursts tick_ns apart, not one wake-up per message.
    const auto due = static_cast<std::uint64_t>(std::ceil(static_cast<double>(bg_produced_ + 1) * 1e9 / rate));
    const std::uint64_t tick = config_.background.tick_ns;
    d = std::min(d, bg_base_ns_ + (due + tick - 1) / tick * tick);
  }
  d = std::min(d, probe_.next_deadline());
  if (config_.duration_ns != 0) d = std::min(d, open_ns_ + config_.duration_ns);
  if (order_entry_.next_expiry() != 0) d = std::min(d, order_entry_.next_expiry());
  if (follow_) d = std::min(d, std::max(follow_->next_deadline(), now_ns));
  return d;
}

unsigned Venue::wait(std::uint64_t timeout_ns) noexcept {
  epoll_event events[4];
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000ull), static_cast<long>(timeout_ns % 1'000'000'000ull)};
  // epoll_pwait2 (Linux 5.11): a nanosecond timeout, so a 1 ms tick is not rounded to 2 ms.
  int n = ::epoll_pwait2(epoll_.fd(), events, 4, &ts, nullptr);
  if (n < 0 && errno == ENOSYS) {
    n = ::epoll_wait(epoll_.fd(), events, 4, static_cast<int>((timeout_ns + 999'999) / 1'000'000));
  }
  unsigned ready = 0;
  for (int i = 0; i < n; ++i) {
    switch (events[i].data.u64) {
      case kStopTag: {
        std::uint64_t value = 0;
        [[maybe_unused]] const ssize_t r = ::read(stop_fd_.get(), &value, sizeof value);
        break;
      }
      case kTcpTag: ready |= kTcpReady; break;
      case kRerequestTag: ready |= kRerequestReady; break;
      case kGlimpseTag: ready |= kGlimpseReady; break;
      case kLeadTag: ready |= kLeadReady; break;
      case kFollowTag: ready |= kFollowReady; break;
      default: break;
    }
  }
  return ready;
}

void Venue::run_background(std::uint64_t now_ns) noexcept {
  const double rate = config_.background.rate;
  if (rate <= 0) return;
  auto target = static_cast<std::uint64_t>(static_cast<double>(now_ns - bg_base_ns_) * rate / 1e9);
  // A venue held up for more than a second (a debugger, a starved host) resumes at the configured
  // rate instead of sending the whole backlog in one burst.
  const auto max_backlog = static_cast<std::uint64_t>(rate) + config_.background.max_batch;
  if (target > bg_produced_ + max_backlog) {
    bg_base_ns_ = now_ns - static_cast<std::uint64_t>(static_cast<double>(bg_produced_) * 1e9 / rate);
    target = bg_produced_ + 1;
  }
  if (target <= bg_produced_) return;
  const std::uint64_t budget = std::min<std::uint64_t>(target - bg_produced_, config_.background.max_batch);
  const std::uint64_t before = feed_.messages();
  // Some actions publish nothing (a quote to pull on an empty book): bounded attempts.
  const std::uint64_t max_actions = 4 * budget + 16;
  for (std::uint64_t a = 0; a < max_actions && feed_.messages() - before < budget; ++a) {
    clock_.tick();
    background_.act(engine_);
  }
  const std::uint64_t produced = feed_.messages() - before;
  bg_produced_ += produced;
  bg_messages_ += produced;
}

// ---- lead-lag (issue 14) -------------------------------------------------------------------------

match::Price Venue::with_noise(match::Price fair) noexcept {
  if (config_.follow.noise_bps <= 0) return fair;
  // Uniform in [-1, 1] x noise_bps of the value, rounded to the cent.
  const double u = static_cast<double>(noise_rng_.below(2'000'001)) / 1e6 - 1.0;
  const double delta = static_cast<double>(fair) * config_.follow.noise_bps / 1e4 * u;
  return fair + static_cast<match::Price>(std::llround(delta / 100.0)) * 100;
}

void Venue::register_follow_fd() noexcept {
  const int fd = follow_->fd();
  const std::uint32_t events = follow_->connecting() ? EPOLLOUT : EPOLLIN;
  try {
    if (fd != follow_fd_registered_) {
      // A closed descriptor left the epoll set by itself.
      if (fd >= 0) epoll_.add(fd, events, kFollowTag);
      follow_fd_registered_ = fd;
      follow_events_registered_ = events;
    } else if (fd >= 0 && events != follow_events_registered_) {
      epoll_.modify(fd, events, kFollowTag);
      follow_events_registered_ = events;
    }
  } catch (...) {
    follow_fd_registered_ = -1;  // retried on the next poll
  }
}

void Venue::run_follow(bool ready, std::uint64_t now_ns) noexcept {
  const std::uint64_t deadline = follow_->next_deadline();
  if (ready || (now_ns >= deadline && !follow_->connected()) || follow_->connecting()) {
    try {
      follow_->poll(now_ns, unix_ns());
    } catch (...) {  // a log line that could not be formatted: the state is kept all the same
    }
    register_follow_fd();
  }
  while (const auto due = follow_->pop_due(now_ns)) background_.set_fair(due->locate, with_noise(due->fair));
  if (!follow_->connected() && follow_->queue_empty() && background_.following()) {
    background_.unfollow_all();
    core::log::info("follow: no leader; every symbol walks on its own again");
  }
}

void Venue::run_lead(bool ready) noexcept {
  const std::uint64_t now = unix_ns();
  if (ready) {
    try {
      lead_->accept(now);
    } catch (...) {
    }
  }
  for (const std::uint16_t l : background_.changed()) lead_->publish(l, background_.fair_value(l), now);
  background_.clear_changed();
  lead_->flush(now);
}

void Venue::write_capture_sidecar() {
  // The BinaryFILE holds ITCH messages only; this file says whose they are (docs/venue.md).
  const std::string path = config_.capture + ".venue.json";
  std::ofstream out(path, std::ios::trunc);
  out << fmt::format(R"({{"venue":"{}","mpid":"{}","session":"{}","feed":"{}","started_unix_ns":{}}})", config_.venue,
                     effective_mpid(config_), config_.publisher.session.view(), config_.feed.to_string(), unix_ns())
      << '\n';
  out.close();
  if (!out) {
    core::log::error("hft-exchange: cannot write {}", path);
    outputs_ok_ = false;
  }
}

// ---- the end ------------------------------------------------------------------------------------

bool Venue::write_outputs() {
  bool ok = true;
  if (executions_) {
    executions_->flush();
    const ExecutionLogStats& x = executions_->stats();
    if (x.write_errors != 0) {
      core::log::error("hft-exchange: executions {}: {} write errors, {} lines lost (last: {})", config_.executions,
                       x.write_errors, x.lost_lines, std::system_category().message(x.last_errno));
      ok = false;
    } else {
      core::log::info("hft-exchange: executions {}: {} lines", config_.executions, x.lines);
    }
  }
  if (const mold::BinaryFileStats* c = feed_.sink().capture_stats(); c != nullptr) {
    if (c->write_errors != 0) {
      core::log::error("hft-exchange: capture {}: {} write errors (last: {})", config_.capture, c->write_errors,
                       std::system_category().message(c->last_errno));
      ok = false;
    } else {
      core::log::info("hft-exchange: capture {}: {} messages, {} bytes", config_.capture, feed_.sink().captured_messages(),
                      c->bytes);
    }
  }
  if (shadow_) ok = write_book_dump() && ok;
  if (probe_.enabled()) {
    std::ofstream out(config_.probe.histogram, std::ios::binary | std::ios::trunc);
    // HdrHistogram's percentile distribution, microseconds (Java's outputValueUnitScalingRatio 1000).
    out << probe_.histogram().percentile_distribution(1000.0);
    out.close();
    if (!out) {
      core::log::error("hft-exchange: cannot write the probe histogram {}", config_.probe.histogram);
      ok = false;
    } else {
      core::log::info("hft-exchange: probe histogram {} ({} samples)", config_.probe.histogram,
                      probe_.histogram().total_count());
    }
  }
  return ok;
}

bool Venue::write_book_dump() {
  const book::BookSnapshot snapshot = book::take_snapshot(shadow_->books());
  // The feed must rebuild the engine's books exactly (displayed levels: price, shares, orders).
  std::size_t mismatches = 0;
  for (const match::BookDump& d : engine_.dump_all()) {
    std::vector<book::Level> bids(d.bids.size() + 1), asks(d.asks.size() + 1);
    bids.resize(shadow_->books().depth(d.symbol, book::Side::kBid, bids));
    asks.resize(shadow_->books().depth(d.symbol, book::Side::kAsk, asks));
    auto same = [](const std::vector<book::Level>& fed, const std::vector<match::DepthLevel>& engine) {
      if (fed.size() != engine.size()) return false;
      for (std::size_t i = 0; i < fed.size(); ++i) {
        if (fed[i].price != engine[i].price || fed[i].shares != engine[i].shares || fed[i].orders != engine[i].orders)
          return false;
      }
      return true;
    };
    if (!same(bids, d.bids) || !same(asks, d.asks)) {
      if (++mismatches <= 5)
        core::log::error("hft-exchange: the book of locate {} rebuilt from the feed differs from the engine's", d.symbol);
    }
  }
  std::ofstream out(config_.book_dump, std::ios::binary | std::ios::trunc);
  out << book::to_json(snapshot);
  out.close();
  if (!out) {
    core::log::error("hft-exchange: cannot write the book dump {}", config_.book_dump);
    return false;
  }
  core::log::info("hft-exchange: book dump {} ({} stocks, {} orders, {} levels){}", config_.book_dump,
                  snapshot.stocks.size(), snapshot.live_orders, snapshot.live_levels,
                  mismatches == 0 ? "; it matches the engine's books" : "");
  return mismatches == 0;
}

VenueSummary Venue::summary() const {
  VenueSummary s;
  const std::uint64_t end = end_ns_ != 0 ? end_ns_ : core::monotonic_ns();
  s.seconds = open_ ? static_cast<double>(end - open_ns_) / 1e9 : 0;
  s.itch_messages = feed_.counters().messages;
  s.itch_by_type = feed_.counters().by_type;
  s.background_messages = bg_messages_;
  const mold::PublisherStats& p = feed_.publisher_stats();
  s.packets = p.packets;
  s.message_packets = p.message_packets;
  s.heartbeats = p.heartbeats;
  s.end_of_session_packets = p.end_of_session_packets;
  s.feed_bytes = p.bytes;
  s.send_errors = p.send_errors;
  s.dropped_on_purpose = feed_.sink().dropped_on_purpose();
  s.captured_messages = feed_.sink().captured_messages();
  s.rerequests = rerequest_.stats();
  s.order_entry = order_entry_.counters();
  s.logins = logins_;
  s.connections_refused = tcp_->refused();
  s.connections_evicted = tcp_->evicted();
  s.lockout_refusals = context_.lockout_refusals();
  s.login_rejects = login_rejects_;
  s.disconnects = disconnects_;
  s.engine = engine_.stats();
  s.live_orders = engine_.live_orders();
  s.client_orders = order_entry_.live_orders();
  s.background = background_.counters();
  s.probe = probe_.counters();
  const core::Histogram& h = probe_.histogram();
  if (h.total_count() != 0) {
    s.probe_p50_ns = h.value_at_percentile(50);
    s.probe_p90_ns = h.value_at_percentile(90);
    s.probe_p99_ns = h.value_at_percentile(99);
    s.probe_p999_ns = h.value_at_percentile(99.9);
    s.probe_max_ns = h.max();
  }
  if (executions_) s.executions_file = executions_->stats();
  s.outputs_ok = outputs_ok_;
  s.glimpse = glimpse_counters_;
  s.venue = config_.venue;
  s.mpid = effective_mpid(config_);
  s.fee_add = config_.fee_add;
  s.fee_remove = config_.fee_remove;
  for (std::size_t u = 0; u < config_.accounts.size(); ++u)
    s.user_fees.emplace_back(config_.accounts[u].username, order_entry_.fees()[u]);
  if (lead_) {
    s.leading = true;
    s.lead_followers = lead_->followers();
    s.lead = lead_->counters();
  }
  if (follow_) {
    s.following = true;
    s.follow = follow_->counters();
    s.leader_venue = follow_->leader_name();
  }
  return s;
}

void Venue::log_summary(const VenueSummary& s) const {
  std::string mix;
  for (const char t : {'A', 'F', 'U', 'D', 'E', 'X', 'P', 'C', 'Q', 'S', 'R', 'H'}) {
    const std::uint64_t n = s.itch_by_type[static_cast<unsigned char>(t)];
    if (n == 0) continue;
    mix += fmt::format("{}{} {} ({:.1f}%)", mix.empty() ? "" : ", ", t, n,
                       100.0 * static_cast<double>(n) / static_cast<double>(std::max<std::uint64_t>(1, s.itch_messages)));
  }
  const double secs = std::max(s.seconds, 1e-9);
  core::log::info("summary: {:.2f} s; ITCH {} messages ({:.0f}/s; background {}), {} packets ({} with messages, {} heartbeats, "
                  "{} end of session), {} bytes, {} send errors, {} dropped on purpose",
                  s.seconds, s.itch_messages, static_cast<double>(s.itch_messages) / secs, s.background_messages, s.packets,
                  s.message_packets, s.heartbeats, s.end_of_session_packets, s.feed_bytes, s.send_errors,
                  s.dropped_on_purpose);
  core::log::info("summary: ITCH mix: {}", mix);
  core::log::info("summary: re-requests: {} received, {} answered with {} messages, {} beyond the stream, {} unavailable, "
                  "{} malformed, {} for another session",
                  s.rerequests.requests, s.rerequests.answered, s.rerequests.messages_resent, s.rerequests.beyond_range,
                  s.rerequests.unavailable, s.rerequests.malformed, s.rerequests.wrong_session);
  const OrderEntryCounters& o = s.order_entry;
  core::log::info("summary: connections: {} refused, {} evicted before login; {} logins refused while locked out",
                  s.connections_refused, s.connections_evicted, s.lockout_refusals);
  core::log::info("summary: sessions: {} logins, {} rejected logins, {} closed; cancel on disconnect: {} sessions lost, "
                  "{} orders cancelled",
                  s.logins, s.login_rejects, s.disconnects, s.order_entry.sessions_lost, s.order_entry.canceled_on_disconnect);
  core::log::info("summary: OUCH in: {} messages ({} enter, {} replace, {} cancel, {} modify, {} account query, {} malformed); "
                  "orders: {} accepted, {} rejected, {} UserRefNum violations, {} ignored, {} replaced, {} canceled, "
                  "{} expired, {} executions; {} OUCH messages out",
                  o.messages, o.enter, o.replace, o.cancel, o.modify, o.account_query, o.malformed, o.accepted, o.rejected,
                  o.user_ref_violations, o.ignored, o.replaced, o.canceled, o.expired, o.executions, o.outbound);
  std::string reasons;
  for (std::size_t r = 0; r < o.reject_reasons.size(); ++r) {
    if (o.reject_reasons[r] == 0) continue;
    reasons += fmt::format("{}0x{:04X} {} ({})", reasons.empty() ? "" : ", ", r, o.reject_reasons[r],
                           ouch::to_string(static_cast<ouch::RejectReason>(r)));
  }
  if (!reasons.empty()) core::log::info("summary: rejects by reason: {}", reasons);
  core::log::info("summary: engine: {} accepted, {} rejected, {} executions ({} shares), {} cancels, {} replaces, "
                  "{} refreshes, {} self-match preventions; {} orders resting",
                  s.engine.accepted, s.engine.rejected, s.engine.executions, s.engine.executed_shares, s.engine.cancels,
                  s.engine.replaces, s.engine.refreshes, s.engine.self_match_preventions, s.live_orders);
  core::log::info("summary: background: {} actions ({} adds, {} replaces, {} deletes, {} partial cancels, {} takes, {} idle)",
                  s.background.actions, s.background.adds, s.background.replaces, s.background.deletes,
                  s.background.cancels, s.background.takes, s.background.idle_actions);
  std::string internal;
  for (std::size_t r = 0; r < internal_rejects_.size(); ++r) {
    if (internal_rejects_[r] == 0) continue;
    internal += fmt::format("{}{} {}", internal.empty() ? "" : ", ", match::to_string(static_cast<match::RejectReason>(r)),
                            internal_rejects_[r]);
  }
  if (!internal.empty()) core::log::info("summary: background requests refused by the engine: {}", internal);
  std::string fees;
  for (const auto& [user, f] : s.user_fees) {
    if (f.executions == 0) continue;
    fees += fmt::format("{}{} {} executions, {} shares added, {} removed, fees {}", fees.empty() ? "" : "; ", user,
                        f.executions, f.shares_added, f.shares_removed, dollars(static_cast<double>(f.fees_micros) / 1e6));
  }
  core::log::info("summary: venue {} (MPID {}), fees add {} remove {} per share; {}", s.venue, s.mpid, dollars(s.fee_add),
                  dollars(s.fee_remove), fees.empty() ? std::string("no client executions") : fees);
  if (s.leading) {
    core::log::info("summary: lead channel: {} followers accepted ({} now, {} refused, {} closed), {} records queued, "
                    "{} dropped for slow followers, {} snapshots, {} bytes",
                    s.lead.accepted, s.lead_followers, s.lead.refused, s.lead.closed, s.lead.records, s.lead.dropped,
                    s.lead.snapshots, s.lead.bytes);
  }
  if (s.following) {
    const FollowCounters& f = s.follow;
    core::log::info("summary: follow: leader {} ({}): {} connects, {} failed attempts, {} disconnects, {} malformed; "
                    "{} values received ({} applied, {} unknown symbols, {} dropped, {} sequence gaps); age at receipt "
                    "mean {:.2f} ms, max {:.2f} ms",
                    config_.follow.leader->to_string(), s.leader_venue.empty() ? "never seen" : s.leader_venue, f.connects,
                    f.connect_failures, f.disconnects, f.malformed, f.values, f.applied, f.unknown_symbols, f.queue_drops,
                    f.sequence_gaps, f.values != 0 ? static_cast<double>(f.age_sum_ns) / 1e6 / static_cast<double>(f.values) : 0.0,
                    static_cast<double>(f.age_max_ns) / 1e6);
  }
  if (glimpse_tcp_) {
    core::log::info("summary: GLIMPSE: {} connections, {} snapshots sent ({} messages, {} bytes; last built in {:.1f} ms), "
                    "{} completed, {} closed early, {} logins rejected",
                    s.glimpse.connections, s.glimpse.snapshots, s.glimpse.snapshot_messages, s.glimpse.snapshot_bytes,
                    static_cast<double>(s.glimpse.last_build_ns) / 1e6, s.glimpse.completed, s.glimpse.closed_early,
                    s.glimpse.login_rejects);
  }
  if (probe_.enabled()) {
    core::log::info("summary: probe: {} sent, {} answered, {} timed out, {} untradeable, {} stray answers; wire-to-wire {}",
                    s.probe.sent, s.probe.answered, s.probe.timeouts, s.probe.unanswerable, s.probe.stray,
                    percentile_line(probe_.histogram()));
  }
}

}  // namespace hft::venue
