#include "venue/config.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <set>
#include <stdexcept>
#include <string>

#include "core/runtime_config.hpp"
#include "gateways/soupbintcp/config.hpp"
#include "venue/rng.hpp"

namespace hft::venue {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kHourMs = 3'600'000;

void fail(const std::string& what) { throw std::invalid_argument("venue config: " + what); }

bool printable_symbol(std::string_view s) noexcept {
  if (s.empty() || s.size() > 8) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Runs a validation that throws std::invalid_argument and reports it against `key` of `s`.
template <class F>
void check(const core::ConfigSection& s, std::string_view key, F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    s.fail(key, e.what());
  }
}

net::Endpoint endpoint(const core::ConfigSection& s, std::string_view key, const net::Endpoint& fallback) {
  if (!s.has(key)) {
    (void)s.string(key, "");  // marks the key as known
    return fallback;
  }
  const std::string text = s.require_string(key);
  net::Endpoint e;
  check(s, key, [&] { e = net::parse_endpoint(text); });
  return e;
}

void parse_feed(const core::ConfigSection& s, VenueConfig& c) {
  c.feed = endpoint(s, "destination", c.feed);
  c.feed_options.interface = s.string("interface", "");
  c.feed_options.multicast_ttl = static_cast<int>(s.integer("ttl", 1, 0, 255));
  c.feed_options.multicast_loop = s.boolean("loop", true);
  c.feed_options.send_buffer = static_cast<int>(s.integer("send_buffer", 0, 0, 1 << 30));
  c.drop_every = static_cast<std::uint32_t>(s.integer("drop_every", 0, 0, 1'000'000));
  c.drop_burst = static_cast<std::uint64_t>(s.integer("drop_burst", 0, 0, 1ll << 40));
  c.drop_burst_after = static_cast<std::uint64_t>(s.integer("drop_burst_after", 0, 0, 1ll << 40));
  const bool session_given = s.has("session");
  c.publisher = mold::parse_publisher_config(s);
  if (!session_given) c.publisher.session = mold::SessionId{};  // a new one per start
  s.reject_unknown_keys();
}

void parse_rerequest(const core::ConfigSection& s, VenueConfig& c) {
  c.rerequest = endpoint(s, "listen", c.rerequest);
  c.store = mold::parse_retransmit_store_config(s);
  check(s, "max_mb", [&] { c.store.validate(); });
  c.rerequest_options = mold::parse_rerequest_config(s, c.publisher.session);
  s.reject_unknown_keys();
}

std::string text(const core::ConfigSection& s, std::string_view key, std::string_view fallback, std::size_t min,
                 std::size_t max) {
  std::string v = s.string(key, fallback);
  if (v.size() < min || v.size() > max)
    s.fail(key, "must be " + std::to_string(min) + ".." + std::to_string(max) + " characters, got \"" + v + "\"");
  return v;
}

// The SoupBinTCP server keys of gateways/soupbintcp/config.hpp, plus the venue's own: the
// listen address, accounts with a firm, the UserRefNum policy and the table sizes.
void parse_order_entry(const core::ConfigSection& s, VenueConfig& c) {
  c.ouch = endpoint(s, "listen", c.ouch);
  // Absent, the session is named at start-up (the feed's); the shared parser wants one meanwhile.
  const bool session_given = s.has("session");
  if (!session_given) c.order_entry.session.assign(1, '-');
  soup::parse_server_keys(s, c.order_entry);
  if (!session_given) c.order_entry.session.clear();
  c.max_connections = static_cast<std::size_t>(s.integer("max_connections", 16, 1, 4096));
  c.max_connections_per_source = static_cast<std::size_t>(
      s.integer("max_connections_per_source", static_cast<std::int64_t>(c.max_connections_per_source), 0, 4096));
  c.warning_interval_ns = static_cast<std::uint64_t>(s.integer("warning_interval_ms", 10000, 1, 3'600'000)) * 1'000'000;
  c.warnings_per_interval = static_cast<std::uint32_t>(s.integer("warnings_per_interval", 5, 1, 1'000'000));
  c.max_client_orders = static_cast<std::uint32_t>(s.integer("max_client_orders", c.max_client_orders, 1, 1 << 24));
  c.user_ref_num_policy = s.choice("user_ref_num_policy", c.user_ref_num_policy,
                                   {{"reject", ouch::UserRefNumPolicy::kReject}, {"ignore", ouch::UserRefNumPolicy::kIgnore}});
  c.cancel_on_disconnect = s.boolean("cancel_on_disconnect", c.cancel_on_disconnect);
  const auto users = s.sections("users");
  if (!users.empty()) c.accounts.clear();
  for (const auto& u : users) {
    soup::UserCredentials cred = soup::parse_user(u, [&](const std::string& name) {
      return std::any_of(c.accounts.begin(), c.accounts.end(), [&](const Account& a) { return a.username == name; });
    });
    Account a{std::move(cred.username), std::move(cred.password), text(u, "firm", "", 0, 4), std::nullopt};
    if (u.has("cancel_on_disconnect")) a.cancel_on_disconnect = u.boolean("cancel_on_disconnect", false);
    u.reject_unknown_keys();
    c.accounts.push_back(std::move(a));
  }
  soup::finish_server_section(s, c.order_entry);
}

void parse_symbols(const core::ConfigSection& s, VenueConfig& c, std::uint64_t seed) {
  const match::Price min_price = s.integer("min_price", 100'000, 100, match::kMaxPrice);
  const match::Price max_price = s.integer("max_price", 5'000'000, 100, match::kMaxPrice);
  if (max_price < min_price + 100) s.fail("max_price", "must be at least min_price + 100 (one cent)");
  const bool has_names = s.has("names");
  const bool has_count = s.has("count");
  if (has_names && has_count) s.fail("count", "give either count or names, not both");
  if (has_names) {
    const auto names = s.strings("names");
    if (names.empty()) s.fail("names", "must list at least one symbol");
    check(s, "names", [&] { c.symbols = symbols_from_list(names, seed, min_price, max_price); });
  } else if (has_count) {
    const auto n = static_cast<std::uint32_t>(s.integer("count", 8, 1, 60000));
    c.symbols = generate_symbols(n, seed, min_price, max_price);
  } else {  // the default names, with reference prices from this table's range
    std::vector<std::string> names;
    for (const SymbolSpec& spec : c.symbols) names.emplace_back(spec.symbol.view());
    c.symbols = symbols_from_list(names, seed, min_price, max_price);
  }
  s.reject_unknown_keys();
}

void parse_engine(const core::ConfigSection& s, VenueConfig& c) {
  c.engine.max_orders = static_cast<std::uint32_t>(s.integer("max_orders", c.engine.max_orders, 16, 1 << 30));
  c.engine.max_levels = static_cast<std::uint32_t>(s.integer("max_levels", c.engine.max_levels, 16, 1 << 28));
  c.max_levels_per_side = static_cast<std::uint32_t>(s.integer("max_levels_per_side", c.max_levels_per_side, 8, 1 << 20));
  const std::string smp = s.string("smp_policy", "cancel-resting");
  if (!match::parse_smp_policy(smp, c.engine.smp_policy))
    s.fail("smp_policy", "expected \"cancel-resting\", \"cancel-incoming\", \"cancel-both\" or \"decrement\", got \"" + smp + "\"");
  s.reject_unknown_keys();
}

void parse_background(const core::ConfigSection& s, VenueConfig& c) {
  BackgroundConfig& b = c.background;
  b.rate = s.number("rate", b.rate, 0, 100'000'000);
  b.tick_ns = static_cast<std::uint64_t>(s.integer("tick_us", static_cast<std::int64_t>(b.tick_ns / 1000), 10, 1'000'000)) * 1000;
  b.makers = static_cast<std::uint32_t>(s.integer("makers", b.makers, 1, 99));
  b.max_resting_per_symbol =
      static_cast<std::uint32_t>(s.integer("max_resting_per_symbol", b.max_resting_per_symbol, 10, 1 << 20));
  b.levels = static_cast<std::uint32_t>(s.integer("levels", b.levels, 2, 1000));
  b.max_batch = static_cast<std::uint32_t>(s.integer("max_batch", b.max_batch, 1, 1 << 20));
  FlowMix& m = b.mix;
  m.add = static_cast<std::uint32_t>(s.integer("add", m.add, 0, 1'000'000));
  m.add_mpid = static_cast<std::uint32_t>(s.integer("add_mpid", m.add_mpid, 0, 1'000'000));
  m.replace = static_cast<std::uint32_t>(s.integer("replace", m.replace, 0, 1'000'000));
  m.remove = static_cast<std::uint32_t>(s.integer("delete", m.remove, 0, 1'000'000));
  m.cancel = static_cast<std::uint32_t>(s.integer("cancel", m.cancel, 0, 1'000'000));
  m.execute = static_cast<std::uint32_t>(s.integer("execute", m.execute, 0, 1'000'000));
  m.hidden_per_mille = static_cast<std::uint32_t>(s.integer("hidden_per_mille", m.hidden_per_mille, 0, 1000));
  if (m.add + m.add_mpid == 0) s.fail("add", "add + add_mpid must be positive: makers must be able to quote");
  s.reject_unknown_keys();
}

void parse_probe(const core::ConfigSection& s, VenueConfig& c) {
  ProbeConfig& p = c.probe;
  p.histogram = s.string("histogram", "");
  const std::string sym = s.string("symbol", "ZPROBE");
  if (!printable_symbol(sym)) s.fail("symbol", "must be 1..8 printable characters");
  p.symbol = itch::Symbol::from(sym);
  p.interval_ns = static_cast<std::uint64_t>(s.integer("interval_ms", 5, 1, 60'000)) * kMs;
  p.timeout_ns = static_cast<std::uint64_t>(s.integer("timeout_ms", 200, 1, 60'000)) * kMs;
  p.quantity = static_cast<match::Qty>(s.integer("quantity", p.quantity, 1, 999'999));
  p.price = s.integer("price", p.price, 100, match::kMaxPrice);
  if (p.price % 100 != 0) s.fail("price", "must be on the penny grid (a multiple of 100 in 1/10,000 $)");
  s.reject_unknown_keys();
}

}  // namespace

VenueConfig::VenueConfig() {
  // Blank: named per start (name_blank_sessions(new_session_name()) in the Venue).
  publisher.session = mold::SessionId{};
  rerequest_options.session = publisher.session;
  store.max_messages = std::size_t{1} << 20;
  store.max_bytes = std::size_t{64} << 20;
  order_entry.session.clear();
  order_entry.store_messages = std::size_t{1} << 18;
  order_entry.store_bytes = std::size_t{16} << 20;
  order_entry.max_message = 256;  // the largest OUCH 5.0 outbound message with every option is < 200 bytes
  // The appliance's own example (config/hftd-2core.toml) logs in as HFT01 and trades AAA..DDD.
  accounts = {Account{"HFT01", "hft01pw", ""}, Account{"HFT02", "hft02pw", ""}};
  engine.max_orders = 1u << 20;
  engine.max_levels = 1u << 18;
  symbols = symbols_from_list({"AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"}, 1);
}

void VenueConfig::validate() const {
  if (symbols.empty()) fail("at least one symbol is required");
  if (symbols.size() + 2 > 65535) fail("too many symbols (stock locates are 16 bits)");
  std::set<std::uint64_t> seen;
  for (const auto& s : symbols) {
    if (s.symbol.view().empty()) fail("a symbol is empty");
    if (!seen.insert(s.symbol.key()).second) fail("symbol \"" + std::string(s.symbol.view()) + "\" is listed twice");
    if (s.reference_price < 100 || s.reference_price > match::kMaxPrice) fail("reference price out of range");
  }
  if (seen.count(probe.symbol.key()) != 0)
    fail("the probe symbol \"" + std::string(probe.symbol.view()) + "\" is also a traded symbol");
  if (accounts.empty()) fail("at least one order-entry user is required");
  for (const auto& a : accounts) {
    if (a.firm.size() > 4) fail("firm \"" + a.firm + "\" of user " + a.username + " is longer than 4 characters");
  }
  soup::ServerConfig oe = order_entry;
  if (oe.session.empty()) oe.session.assign(1, '-');  // named at start-up
  for (const auto& a : accounts) oe.users.push_back({a.username, a.password});
  soup::validate(oe);
  publisher.validate();
  rerequest_options.validate();
  store.validate();
  if (rerequest_options.max_payload < publisher.max_payload)
    fail("rerequest max_payload must be at least the feed's max_payload, or a packet could not be resent");
  if (background.rate < 0) fail("background rate must be >= 0");
  if (venue.empty() || venue.size() > 8 ||
      !std::all_of(venue.begin(), venue.end(), [](char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'; }))
    fail("venue name \"" + venue + "\" must be 1-8 characters A-Z, 0-9 or _");
  if (!mpid.empty() && (mpid.size() != 4 || !std::all_of(mpid.begin(), mpid.end(), [](char ch) {
                          return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                        })))
    fail("mpid \"" + mpid + "\" must be 4 characters A-Z or 0-9");
  if (!(fee_add >= -1 && fee_add <= 1) || !(fee_remove >= -1 && fee_remove <= 1))
    fail("fees must be between -1 and 1 dollars per share");
  if (follow.leader && !(follow.noise_bps >= 0 && follow.noise_bps <= 1000)) fail("follow noise must be 0..1000 bps");
  if (follow.lag_ns > 60'000'000'000ull) fail("follow lag must be at most 60 s");
  if (lead.listen && follow.leader && lead.listen->to_string() == follow.leader->to_string())
    fail("a venue cannot follow its own lead channel");
  if (engine.max_symbols < symbols.size() + 2) fail("engine max_symbols is below the number of symbols");
  if (max_client_orders == 0) fail("max_client_orders must be positive");
  // Room for the client orders and at least 10 background quotes per symbol (the venue lowers
  // max_resting_per_symbol to what fits).
  if (std::uint64_t{engine.max_orders} < std::uint64_t{max_client_orders} + 67 + 10 * symbols.size())
    fail("engine max_orders (" + std::to_string(engine.max_orders) + ") must be at least max_client_orders + 67 + 10 per symbol");
}

std::string default_mpid(std::string_view venue) {
  if (venue == "NASDAQ") return "NSDQ";
  std::string m;
  for (const char ch : venue) {
    if (m.size() == 4) break;
    if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) m += ch;
  }
  m.resize(4, 'X');
  return m;
}

std::int64_t fee_micros(double dollars_per_share) noexcept {
  return static_cast<std::int64_t>(std::llround(dollars_per_share * 1e6));
}

VenueConfig parse_venue_config(const core::ConfigSection& root) {
  VenueConfig c;
  c.seed = static_cast<std::uint64_t>(root.integer("seed", 1, 0, INT64_MAX));
  c.venue = root.string("venue", c.venue);
  c.mpid = root.string("mpid", "");
  c.fee_add = root.number("fee_add", 0, -1, 1);
  c.fee_remove = root.number("fee_remove", 0, -1, 1);
  if (auto s = root.section("lead")) {
    if (const std::string listen = s->string("listen", ""); !listen.empty()) c.lead.listen = endpoint(*s, "listen", c.ouch);
    c.lead.max_followers = static_cast<std::size_t>(s->integer("max_followers", 4, 1, 64));
    c.lead.buffer_bytes = static_cast<std::size_t>(s->integer("buffer_kb", 64, 1, 65536)) * 1024;
    s->reject_unknown_keys();
  }
  if (auto s = root.section("follow")) {
    if (const std::string leader = s->string("leader", ""); !leader.empty()) c.follow.leader = endpoint(*s, "leader", c.ouch);
    c.follow.lag_ns = static_cast<std::uint64_t>(s->integer("lag_ms", 0, 0, 60'000)) * kMs;
    c.follow.noise_bps = s->number("noise_bps", 0, 0, 1000);
    c.follow.retry_ns = static_cast<std::uint64_t>(s->integer("retry_ms", 1000, 10, 600'000)) * kMs;
    s->reject_unknown_keys();
  }
  c.duration_ns = static_cast<std::uint64_t>(root.number("duration_s", 0, 0, 86400 * 7) * 1e9);
  c.open_delay_ns = static_cast<std::uint64_t>(root.integer("open_delay_ms", 0, 0, 3'600'000)) * kMs;
  c.capture = root.string("capture", "");
  c.book_dump = root.string("book_dump", "");
  c.executions = root.string("executions", "");
  const std::string start = root.string("clock_start", "");
  if (!start.empty()) check(root, "clock_start", [&] { c.clock_start_ns = parse_clock_start(start); });
  c.shutdown_linger_ns = static_cast<std::uint64_t>(root.integer("shutdown_linger_ms", 3000, 0, 600'000)) * kMs;
  if (auto s = root.section("feed")) parse_feed(*s, c);
  c.rerequest_options.session = c.publisher.session;
  bool rerequest_payload_given = false;
  if (auto s = root.section("rerequest")) {
    rerequest_payload_given = s->has("max_payload");
    parse_rerequest(*s, c);
  }
  if (auto s = root.section("order_entry")) parse_order_entry(*s, c);
  if (auto s = root.section("glimpse")) {
    if (const std::string listen = s->string("listen", ""); !listen.empty()) c.glimpse = endpoint(*s, "listen", c.ouch);
    c.glimpse_max_connections = static_cast<std::size_t>(s->integer("max_connections", 8, 1, 1024));
    c.glimpse_max_connections_per_source = static_cast<std::size_t>(s->integer("max_connections_per_source", 4, 0, 1024));
    s->reject_unknown_keys();
  }
  // Generated symbols do not depend on the flow's seed: clients of any run see the same names.
  if (auto s = root.section("symbols")) parse_symbols(*s, c, 1);
  if (auto s = root.section("engine")) parse_engine(*s, c);
  if (auto s = root.section("background")) parse_background(*s, c);
  if (auto s = root.section("probe")) parse_probe(*s, c);
  if (auto s = root.section("log")) c.log = core::parse_log(*s);
  root.reject_unknown_keys();
  c.engine.max_symbols = static_cast<std::uint32_t>(c.symbols.size() + 2);
  // A re-request reply must be able to carry whatever the feed carried.
  if (!rerequest_payload_given) c.rerequest_options.max_payload = std::max(c.rerequest_options.max_payload, c.publisher.max_payload);
  // Rules across tables name no single key: they are reported against the file.
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw core::ConfigError(root.file() + ": " + e.what());
  }
  return c;
}

VenueConfig load_venue_config(const std::string& path) {
  const auto doc = core::ConfigDocument::load_file(path);
  return parse_venue_config(doc->root());
}

void VenueConfig::name_blank_sessions(std::string_view name) {
  const mold::SessionId blank{};
  if (publisher.session == blank) publisher.session = mold::SessionId::from(name);
  if (rerequest_options.session == blank) rerequest_options.session = publisher.session;
  if (order_entry.session.empty()) order_entry.session = std::string(name);
}

std::string start_session_name(std::uint64_t unix_ms) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  constexpr std::uint64_t kDayMs = 86'400'000;
  const auto seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::string name(10, '0');
  name[0] = static_cast<char>('0' + (utc.tm_mon + 1) / 10);
  name[1] = static_cast<char>('0' + (utc.tm_mon + 1) % 10);
  name[2] = static_cast<char>('0' + utc.tm_mday / 10);
  name[3] = static_cast<char>('0' + utc.tm_mday % 10);
  std::uint64_t ms = unix_ms % kDayMs;
  for (std::size_t i = 10; i-- > 4;) {
    name[i] = kDigits[ms % 36];
    ms /= 36;
  }
  return name;
}

std::string new_session_name() {
  static std::atomic<std::uint64_t> last{0};
  const auto now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::uint64_t prev = last.load();
  std::uint64_t next = 0;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return start_session_name(next);
}

std::vector<SymbolSpec> generate_symbols(std::uint32_t count, std::uint64_t seed, match::Price min_price,
                                         match::Price max_price) {
  Rng rng(seed ^ 0x5359'4D42'4F4C'5321ull);  // a stream of its own, apart from the flow's
  std::vector<SymbolSpec> out;
  out.reserve(count);
  // No probe symbol to keep out: generated names have 2..4 letters and the probe's default has 6;
  // a configured probe symbol that meets a traded one is refused by VenueConfig::validate.
  std::set<std::uint64_t> used;
  const std::uint64_t ticks = static_cast<std::uint64_t>((max_price - min_price) / 100);
  while (out.size() < count) {
    // 2..4 letters: 26^4 + 26^3 + 26^2 = 475,228 names, far more than the 60,000 allowed.
    const std::size_t len = 2 + rng.below(3);
    char name[4];
    for (std::size_t i = 0; i < len; ++i) name[i] = static_cast<char>('A' + rng.below(26));
    const itch::Symbol sym = itch::Symbol::from(std::string_view(name, len));
    if (!used.insert(sym.key()).second) continue;
    SymbolSpec s;
    s.symbol = sym;
    s.reference_price = min_price + static_cast<match::Price>(rng.below(ticks + 1)) * 100;
    s.reference_price -= s.reference_price % 100;
    if (s.reference_price < min_price) s.reference_price += 100;
    out.push_back(s);
  }
  return out;
}

std::vector<SymbolSpec> symbols_from_list(const std::vector<std::string>& names, std::uint64_t seed,
                                          match::Price min_price, match::Price max_price) {
  std::vector<SymbolSpec> out = generate_symbols(static_cast<std::uint32_t>(names.size()), seed, min_price, max_price);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    if (!printable_symbol(n))
      throw std::invalid_argument("symbol \"" + n + "\" must be 1..8 printable characters without spaces");
    if (!seen.insert(n).second) throw std::invalid_argument("symbol \"" + n + "\" is listed twice");
    out[i].symbol = itch::Symbol::from(n);
  }
  return out;
}

Account parse_account(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    throw std::invalid_argument("user \"" + std::string(text) + "\": expected NAME:PASSWORD[:FIRM]");
  Account a;
  a.username = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  const std::size_t colon2 = rest.find(':');
  a.password = std::string(rest.substr(0, colon2));
  if (colon2 != std::string_view::npos) a.firm = std::string(rest.substr(colon2 + 1));
  if (a.username.empty() || a.username.size() > soup::kUsernameSize || a.username.find(' ') != std::string::npos)
    throw std::invalid_argument("user \"" + a.username + "\": the name must be 1..6 characters without spaces");
  if (a.password.size() > soup::kPasswordSize)
    throw std::invalid_argument("user \"" + a.username + "\": the password must be at most 10 characters");
  if (a.firm.size() > 4) throw std::invalid_argument("user \"" + a.username + "\": the firm must be at most 4 characters");
  return a;
}

std::uint64_t parse_clock_start(std::string_view text) {
  auto bad = [&] { return std::invalid_argument("clock start \"" + std::string(text) + "\": expected HH:MM:SS"); };
  if (text.size() != 8 || text[2] != ':' || text[5] != ':') throw bad();
  int hms[3];
  for (int i = 0; i < 3; ++i) {
    const char* b = text.data() + i * 3;
    const auto r = std::from_chars(b, b + 2, hms[i]);
    if (r.ec != std::errc() || r.ptr != b + 2) throw bad();
  }
  if (hms[0] > 23 || hms[1] > 59 || hms[2] > 59) throw bad();
  return (static_cast<std::uint64_t>(hms[0]) * 3600 + static_cast<std::uint64_t>(hms[1]) * 60 +
          static_cast<std::uint64_t>(hms[2])) *
         1'000'000'000ull;
}

}  // namespace hft::venue
