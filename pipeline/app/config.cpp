#include "pipeline/app/config.hpp"

#include <arpa/inet.h>
#include <sched.h>

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "core/topology.hpp"
#include "pipeline/risk/keys.hpp"

namespace hft::app {
namespace {

using Quantity = pipeline::Quantity;

net::Endpoint endpoint(const core::ConfigSection& s, std::string_view key, std::string_view fallback) {
  const std::string text = s.string(key, fallback);
  try {
    return net::parse_endpoint(text);
  } catch (const std::invalid_argument& e) {
    s.fail(key, e.what());
  }
}

std::size_t ring_size(const core::ConfigSection& s, std::string_view key, std::size_t fallback) {
  const auto v = static_cast<std::size_t>(s.integer(key, static_cast<std::int64_t>(fallback), 16, 1 << 24));
  if ((v & (v - 1)) != 0) s.fail(key, "ring capacities must be powers of two");
  return v;
}

// A feed table ([feed], or a venue's `feed` table). GLIMPSE credentials are resolved by
// parse_venue(): they default to the order-entry account's.
pipeline::FeedConfig parse_feed(const core::ConfigSection& feed, std::string& glimpse_user, std::string& glimpse_password) {
  pipeline::FeedConfig f;
  f.listen = endpoint(feed, "listen", "127.0.0.1:31001");
  f.interface = feed.string("interface", "");
  f.rerequest = endpoint(feed, "rerequest", "127.0.0.1:31002");
  const std::string session = feed.string("session", "");
  if (session.size() > mold::kSessionSize) feed.fail("session", "a MoldUDP64 session is at most 10 characters");
  if (!session.empty()) {
    f.session.fixed_session = true;
    f.session.session = mold::SessionId::from(session);
  }
  // A receiver that joins late asks the re-request server for everything from `first_sequence`
  // (1: the whole session, so the books see the stock directory and every resting order); 0
  // starts from the first packet seen, with books built from that point only.
  f.session.first_sequence = static_cast<std::uint64_t>(feed.integer("first_sequence", 1, 0, 1ll << 62));
  f.session.store_packets = static_cast<std::size_t>(feed.integer("store_packets", 16384, 1, 1 << 20));
  f.session.request_timeout_ns = static_cast<std::uint64_t>(feed.integer("request_timeout_ms", 50, 1, 60'000)) * 1'000'000;
  f.session.recovery_deadline_ns =
      static_cast<std::uint64_t>(feed.integer("recovery_deadline_ms", 1000, 1, 600'000)) * 1'000'000;
  f.kernel_timestamps = feed.boolean("kernel_timestamps", true);
  f.receive_buffer = static_cast<int>(feed.integer("receive_buffer_kb", 8192, 64, 1 << 20)) * 1024;
  // Issue 18: who may move the session. `source` "IP[:PORT]" (default: learned, see net_stage.hpp).
  if (const std::string source = feed.string("source", ""); !source.empty()) {
    try {
      f.source = pipeline::parse_feed_source(source);
    } catch (const std::invalid_argument& e) {
      feed.fail("source", e.what());
    }
    f.source_fixed = true;
  }
  f.source_silence_ns = static_cast<std::uint64_t>(feed.integer("source_silence_ms", 5000, 100, 3'600'000)) * 1'000'000;
  f.session.max_sequence_jump = static_cast<std::uint64_t>(feed.integer("max_sequence_jump", 1'000'000, 1, 1ll << 62));
  f.session.confirm_packets = static_cast<std::uint32_t>(feed.integer("confirm_packets", 2, 0, 1000));
  // GLIMPSE 5.0 snapshot recovery (issue 10; pipeline/stages/net_stage.hpp): at start instead of a
  // replay from sequence 1, and for any data the re-request server could not serve.
  if (const std::string g = feed.string("glimpse", ""); !g.empty()) {
    f.glimpse.enabled = true;
    f.glimpse.endpoint = endpoint(feed, "glimpse", g);
    if (!feed.has("first_sequence")) f.session.first_sequence = 0;  // the snapshot gives the start
  }
  glimpse_user = feed.string("glimpse_user", "");
  if (glimpse_user.size() > 6) feed.fail("glimpse_user", "must be at most 6 characters (SoupBinTCP)");
  glimpse_password = feed.string("glimpse_password", "");
  if (glimpse_password.size() > 10) feed.fail("glimpse_password", "must be at most 10 characters (SoupBinTCP)");
  f.glimpse.max_bytes = static_cast<std::size_t>(feed.integer("glimpse_max_mb", 64, 1, 65536)) << 20;
  f.glimpse.buffer_messages = static_cast<std::size_t>(feed.integer("glimpse_buffer_messages", 262144, 16, 1 << 26));
  f.glimpse.timeout_ns = static_cast<std::uint64_t>(feed.integer("glimpse_timeout_ms", 10000, 10, 3'600'000)) * 1'000'000;
  f.glimpse.retry_ns = static_cast<std::uint64_t>(feed.integer("glimpse_retry_ms", 200, 1, 600'000)) * 1'000'000;
  feed.reject_unknown_keys();

  return f;
}

// An order-entry table ([order_entry], or a venue's `order_entry` table).
pipeline::OrderEntryConfig parse_order_entry(const core::ConfigSection& oe) {
  pipeline::OrderEntryConfig o;
  o.venue = endpoint(oe, "venue", "127.0.0.1:31003");
  o.soup.username = oe.require_string("user");
  if (o.soup.username.empty() || o.soup.username.size() > 6) oe.fail("user", "must be 1 to 6 characters (SoupBinTCP)");
  o.soup.password = oe.string("password", "");
  if (o.soup.password.size() > 10) oe.fail("password", "must be at most 10 characters (SoupBinTCP)");
  o.soup.session = oe.string("session", "");
  if (o.soup.session.size() > 10) oe.fail("session", "must be at most 10 characters");
  o.firm = oe.string("firm", "");
  if (o.firm.size() > 4) oe.fail("firm", "an OUCH Firm is at most 4 characters");
  o.soup.heartbeat_interval_ns = static_cast<std::uint64_t>(oe.integer("heartbeat_ms", 1000, 10, 60'000)) * 1'000'000;
  o.soup.timeout_ns = static_cast<std::uint64_t>(oe.integer("timeout_ms", 15'000, 100, 600'000)) * 1'000'000;
  if (o.soup.timeout_ns <= o.soup.heartbeat_interval_ns) oe.fail("timeout_ms", "must exceed heartbeat_ms");
  o.reconnect_interval_ns = static_cast<std::uint64_t>(oe.integer("reconnect_ms", 1000, 10, 600'000)) * 1'000'000;
  o.warm_interval_ns = static_cast<std::uint64_t>(oe.integer("warm_interval_us", 0, 0, 1'000'000)) * 1'000;
  o.connect_timeout_ms = static_cast<int>(oe.integer("connect_timeout_ms", 1000, 10, 60'000));
  o.reconnect_max_interval_ns =
      static_cast<std::uint64_t>(oe.integer("reconnect_max_ms", 8000, 10, 600'000)) * 1'000'000;
  if (o.reconnect_max_interval_ns < o.reconnect_interval_ns)
    oe.fail("reconnect_max_ms", "must be at least reconnect_ms");
  o.new_session_after_refusals = static_cast<std::uint32_t>(oe.integer("new_session_after_refusals", 3, 0, 1000));
  oe.reject_unknown_keys();
  return o;
}

// One venue from its feed and order-entry tables.
VenueSpec parse_venue(std::string name, const core::ConfigSection& feed, const core::ConfigSection& oe) {
  VenueSpec v;
  v.name = std::move(name);
  std::string glimpse_user, glimpse_password;
  v.feed = parse_feed(feed, glimpse_user, glimpse_password);
  v.order_entry = parse_order_entry(oe);
  // GLIMPSE logs in with the order-entry account unless the feed table names its own.
  v.feed.glimpse.username = glimpse_user.empty() ? v.order_entry.soup.username : glimpse_user;
  v.feed.glimpse.password = glimpse_user.empty() ? v.order_entry.soup.password : glimpse_password;
  return v;
}

bool valid_venue_name(const std::string& n) {
  if (n.empty() || n.size() > 8) return false;
  for (char ch : n)
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return true;
}

// The venues: `[[venues]]` (each with `name`, fees, and `feed` / `order_entry` tables holding the
// keys of the single-venue [feed] / [order_entry]), or the old [feed] + [order_entry] as one venue
// "NASDAQ". Mixing the two forms is refused with the way to convert.
void parse_venues(const core::ConfigSection& root, HftdConfig& c) {
  const int busy_poll_us = c.feed.socket_busy_poll_us;  // [net] socket_busy_poll_us: every feed socket
  const auto list = root.sections("venues");
  if (list.empty()) {
    c.venues.push_back(parse_venue("NASDAQ", root.require_section("feed"), root.require_section("order_entry")));
  } else {
    for (const char* old : {"feed", "order_entry"})
      if (root.has(old))
        root.fail(old, "[[venues]] and the single-venue [feed] / [order_entry] tables cannot be mixed: move [feed]'s "
                       "keys into a [venues.feed] table and [order_entry]'s into [venues.order_entry] under a "
                       "[[venues]] entry with name = \"NASDAQ\" (docs/pipeline.md, \"Several venues\")");
    if (list.size() > kMaxVenues) root.fail("venues", fmt::format("at most {} venues", kMaxVenues));
    std::set<std::string> venue_names;
    std::set<std::uint16_t> ports;
    for (const auto& v : list) {
      std::string name = v.require_string("name");
      if (!valid_venue_name(name)) v.fail("name", "a venue name is 1 to 8 characters of A-Z, 0-9 and _");
      if (!venue_names.insert(name).second) v.fail("name", "duplicate venue name \"" + name + "\"");
      const core::ConfigSection feed = v.require_section("feed");
      VenueSpec spec = parse_venue(std::move(name), feed, v.require_section("order_entry"));
      if (!ports.insert(ntohs(spec.feed.listen.addr.sin_port)).second)
        feed.fail("listen", fmt::format("port {} is already another venue's feed port: each venue's feed needs its own",
                                        ntohs(spec.feed.listen.addr.sin_port)));
      spec.fee_add_per_share = v.number("fee_add_per_share", 0, -1, 1);
      spec.fee_remove_per_share = v.number("fee_remove_per_share", 0, -1, 1);
      v.reject_unknown_keys();
      c.venues.push_back(std::move(spec));
    }
  }
  for (auto& v : c.venues) v.feed.socket_busy_poll_us = busy_poll_us;
  c.feed = c.venues[0].feed;  // code that knows one venue keeps working with the first
  c.order_entry = c.venues[0].order_entry;
}

}  // namespace

HftdConfig parse_hftd_config(const core::ConfigSection& root) {
  HftdConfig c;
  c.file = root.file();
  c.instance = root.string("instance", "default");
  if (c.instance.empty() || c.instance.find('/') != std::string::npos) root.fail("instance", "must be a non-empty name without '/'");
  c.runtime = core::parse_runtime(root);

  if (auto s = root.section("net")) {
    c.backend = s->choice("backend", BackendChoice::kAuto,
                          {{"auto", BackendChoice::kAuto}, {"io_uring", BackendChoice::kIoUring}, {"epoll", BackendChoice::kEpoll}});
    c.net.busy_poll = s->boolean("busy_poll", true);
    c.net.wait_us = static_cast<unsigned>(s->integer("wait_us", 1000, 1, 1'000'000));
    c.net.buffer_count = static_cast<unsigned>(s->integer("buffer_count", 512, 8, 32768));
    if ((c.net.buffer_count & (c.net.buffer_count - 1)) != 0) s->fail("buffer_count", "must be a power of two");
    c.net.buffer_size = static_cast<unsigned>(s->integer("buffer_size", 2048, 1600, 65536));
    c.net.sqpoll = s->boolean("sqpoll", false);
    c.feed.socket_busy_poll_us = static_cast<int>(s->integer("socket_busy_poll_us", 0, 0, 1'000'000));
    s->reject_unknown_keys();
  }

  parse_venues(root, c);

  if (auto b = root.section("book")) c.book = book::parse_book_config(*b);
  if (c.venues.size() > 1) {
    // Instrument ids (pipeline/stages/instruments.hpp): the first venue's locates up to
    // max_locate, then the symbols first seen on another venue, up to 65535.
    const auto b = root.section("book");
    if (!b || !b->has("max_locate")) c.book.max_locate = kMaxVenueLocate;
    else if (c.book.max_locate > kMaxVenueLocate)
      b->fail("max_locate", fmt::format("with several venues, at most {} (instrument ids above it are for symbols first "
                                        "seen on a venue other than the first)", kMaxVenueLocate));
  }

  if (auto r = root.section("risk")) risk::parse_risk_section(*r, c.risk);  // pipeline/risk/keys.hpp

  std::set<std::string> names;
  for (const auto& s : root.sections("strategies")) {
    StrategySpec spec;
    spec.type = s.require_string("type");
    if (!strategy::is_registered(spec.type))
      s.fail("type", "expected one of " + strategy::registered_types() + ", got \"" + spec.type + "\"");
    spec.name = s.string("name", spec.type);
    if (!names.insert(spec.name).second) s.fail("name", "duplicate strategy name \"" + spec.name + "\"");
    spec.fee_add_per_share = s.number("fee_add_per_share", 0, -1, 1);
    spec.fee_remove_per_share = s.number("fee_remove_per_share", 0, -1, 1);
    {
      // Per-strategy risk limits (issue 11; pipeline/risk/risk.hpp StrategyLimits): 0 = off.
      risk::StrategyLimits sl;
      sl.max_position = s.integer("risk_max_position", 0, 0, 1'000'000'000);
      sl.max_notional = static_cast<std::int64_t>(s.number("risk_max_notional_usd", 0, 0, 1e12) * 10'000);
      sl.max_orders_per_second = s.number("risk_max_orders_per_second", 0, 0, 1e9);
      sl.max_loss = static_cast<std::int64_t>(s.number("risk_max_loss_usd", 0, 0, 1e12) * 10'000);
      const std::size_t index = c.strategies.size();
      if (sl.any() && index >= risk::kMaxStrategyLimits)
        s.fail("risk_max_position", fmt::format("per-strategy risk limits are for the first {} strategies only",
                                                risk::kMaxStrategyLimits));
      if (index < risk::kMaxStrategyLimits) c.risk.strategy[index] = sl;
    }
    spec.params = strategy::parse_params(spec.type, s);
    spec.symbols = strategy::traded_symbols(spec.params);
    const strategy::FeatureDeclaration fd = strategy::parse_features(s);
    spec.features = fd.mask;
    spec.feature_params = fd.params;
    s.reject_unknown_keys();
    c.strategies.push_back(std::move(spec));
  }
  if (c.strategies.size() > 200) root.fail("strategies", "at most 200 strategies");

  if (auto r = root.section("rings")) {
    c.rings.net_parse = ring_size(*r, "net_parse", c.rings.net_parse);
    c.rings.parse_book = ring_size(*r, "parse_book", c.rings.parse_book);
    c.rings.book_strategy = ring_size(*r, "book_strategy", c.rings.book_strategy);
    c.rings.strategy_risk = ring_size(*r, "strategy_risk", c.rings.strategy_risk);
    c.rings.risk_strategy = ring_size(*r, "risk_strategy", c.rings.risk_strategy);
    r->reject_unknown_keys();
  }
  if (auto s = root.section("stats")) {
    c.histogram_dir = s->string("histogram_dir", c.histogram_dir);
    c.timer_ns = static_cast<std::uint64_t>(s->integer("timer_us", 1000, 10, 10'000'000)) * 1000;
    c.shutdown_wait_ns = static_cast<std::uint64_t>(s->integer("shutdown_wait_ms", 2000, 0, 600'000)) * 1'000'000;
    c.max_orders = static_cast<std::size_t>(s->integer("max_orders", 4096, 16, 1 << 22));
    s->reject_unknown_keys();
  }

  if (auto s = root.section("control")) {
    c.control = s->boolean("enabled", true);
    c.control_dir = s->string("dir", "");
    c.publish_interval_ns = static_cast<std::uint64_t>(s->integer("publish_interval_ms", 10, 1, 10'000)) * 1'000'000;
    s->reject_unknown_keys();
  }

  if (auto s = root.section("journal")) {
    c.journal = journal::parse_journal_config(*s);
    if (!journal::valid_instance(c.instance))
      root.fail("instance", "with a [journal], the instance names the journal's files: 1 to 20 of [A-Za-z0-9_.-]");
  }
  if (auto s = root.section("recovery")) {
    c.working_orders = s->choice("working_orders", pipeline::WorkingOrders::kAdopt,
                                 {{"adopt", pipeline::WorkingOrders::kAdopt}, {"cancel", pipeline::WorkingOrders::kCancel}});
    s->reject_unknown_keys();
  }

  // Threads: every stage exactly once. None configured: one fused thread with backoff.
  if (c.runtime.threads.empty()) {
    core::ThreadConfig t;
    t.name = "hft-pipeline";
    t.stages.assign(std::begin(kStageNames), std::end(kStageNames));
    c.runtime.threads.push_back(t);
  }
  std::set<std::string> seen;
  const auto threads = root.sections("threads");
  for (std::size_t i = 0; i < c.runtime.threads.size(); ++i) {
    const auto& t = c.runtime.threads[i];
    if (t.stages.empty() && i < threads.size()) threads[i].fail("stages", "a thread needs at least one stage");
    for (const auto& st : t.stages) {
      if (std::find(std::begin(kStageNames), std::end(kStageNames), st) == std::end(kStageNames))
        threads[i].fail("stages", fmt::format("unknown stage \"{}\" (stages: net, parse, book, strategy, risk)", st));
      if (!seen.insert(st).second) threads[i].fail("stages", fmt::format("stage \"{}\" is already run by another thread", st));
    }
  }
  for (const char* st : kStageNames)
    if (seen.count(st) == 0) root.fail("threads", fmt::format("stage \"{}\" is not assigned to any thread", st));
  // Busy-spinning more threads than this process has CPUs starves them all: refuse.
  std::size_t spinning = 0;
  for (const auto& t : c.runtime.threads) spinning += t.idle.kind == core::IdleKind::kBusySpin ? 1 : 0;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  std::size_t cpus = std::thread::hardware_concurrency();
  if (::sched_getaffinity(0, sizeof mask, &mask) == 0) cpus = static_cast<std::size_t>(CPU_COUNT(&mask));
  if (spinning > 0 && spinning >= cpus + 1)
    root.fail("threads", fmt::format("{} threads busy-spin but this process may use {} CPU(s): fuse stages into fewer "
                                     "threads or use idle = \"backoff\"",
                                     spinning, cpus));
  root.reject_unknown_keys();
  return c;
}

HftdConfig load_hftd_config(const std::string& path) {
  auto doc = core::ConfigDocument::load_file(path);
  return parse_hftd_config(doc->root());
}

}  // namespace hft::app
