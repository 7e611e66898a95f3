#pragma once
// hft-exchange settings: one struct for the whole venue, read from a TOML file (every error names
// the file, line and dotted key; unknown keys are errors) and then overridden from the command
// line (tools/hft-exchange). Every table and key is optional; the defaults run a venue on
// 127.0.0.1 with two users, eight stocks and a background flow of 20,000 messages/s, on the ports,
// user and symbols of the appliance's example configuration (config/hftd-2core.toml).
//
//   seed = 1                        # the background flow (symbols do not depend on it)
//   duration_s = 0                  # 0: until SIGINT / SIGTERM (counted from the open)
//   open_delay_ms = 0               # serve logins this long before the start of day
//   capture = ""                    # BinaryFILE of every ITCH message published
//   book_dump = ""                  # final books, exactly as `hft-itch book --format json`
//   clock_start = ""                # "HH:MM:SS": ITCH/OUCH time starts there; "": wall clock
//   shutdown_linger_ms = 3000       # after the end of day: end-of-session packets, last re-requests
//   venue = "NASDAQ"  mpid = ""  fee_add = 0  fee_remove = 0   # issue 14: name, MPID, $/share fees
//   [lead]       listen = ""  max_followers = 4  buffer_kb = 64      (venue/lead.hpp)
//   [follow]     leader = ""  lag_ms = 0  noise_bps = 0  retry_ms = 1000
//   [feed]       destination = "127.0.0.1:31001"  interface = ""  ttl = 1  loop = true
//                drop_every = 0 (N > 0: every Nth message packet is kept off the wire on purpose,
//                still served by the re-request server: a lossy link for gap-recovery tests)
//                drop_burst = 0, drop_burst_after = 0 (one burst of drop_burst message packets kept
//                off the wire after drop_burst_after of them: beyond the re-request window, a loss)
//                + MoldUDP64 publisher keys (session, max_payload, max_delay_us, heartbeat_interval_ms,
//                end_of_session_packets, first_sequence; gateways/moldudp64/publisher.hpp);
//                session absent: a new name per start (new_session_name() below)
//   [rerequest]  listen = "127.0.0.1:31002"  max_messages  max_mb  (retransmit store)
//                max_payload  max_requests_per_poll  max_messages_per_request
//   [order_entry] listen = "127.0.0.1:31003"  max_connections = 16  max_client_orders = 65536
//                max_connections_per_source = 8 (of max_connections; 0 = no limit)
//                warning_interval_ms = 10000  warnings_per_interval = 5 (per source / reason; the
//                rest are counted and summarized)
//                user_ref_num_policy = "reject" | "ignore"  cancel_on_disconnect = false
//                + SoupBinTCP server keys (session, heartbeat_interval_ms, timeout_ms, ...;
//                gateways/soupbintcp/config.hpp); session absent: the feed's per-start name
//   [glimpse]    listen = "" (e.g. "127.0.0.1:31004"; "": no GLIMPSE port)  max_connections = 8
//                max_connections_per_source = 4
//   [[order_entry.users]] username = "HFT01"  password = "hft01pw"  firm = ""
//                cancel_on_disconnect = (the table's)   (and HFT02 / hft02pw)
//   [symbols]    names = ["AAA", ..., "HHH"]  |  count = N (generated);  min_price = 100000  max_price = 5000000
//   [engine]     max_orders  max_levels  max_levels_per_side  smp_policy
//   [background] rate = 20000  tick_us = 1000  makers = 8  max_resting_per_symbol = 10000
//                levels = 40  max_batch = 4096  mix weights (add, add_mpid, replace, delete,
//                cancel, execute, hidden_per_mille)
//   [probe]      histogram = ""  symbol = "ZPROBE"  interval_ms = 5  timeout_ms = 200
//                quantity = 100  price = 1000000
//   [log]        level  file
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"
#include "gateways/itch/messages.hpp"
#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/rerequest_server.hpp"
#include "gateways/moldudp64/retransmit_store.hpp"
#include "gateways/ouch/user_ref_num.hpp"
#include "gateways/soupbintcp/server.hpp"
#include "net/socket.hpp"
#include "venue/matching/types.hpp"

namespace hft::venue {

struct Account {
  std::string username;  // 1..6 characters (SoupBinTCP)
  std::string password;  // 0..10
  std::string firm;      // MPID of the account's attributable orders (ITCH 'F'); "" = the username's first 4
  // Cancel every working order of the account when its SoupBinTCP session is lost (order_entry.hpp);
  // none: [order_entry] cancel_on_disconnect.
  std::optional<bool> cancel_on_disconnect = std::nullopt;
};

struct SymbolSpec {
  itch::Symbol symbol;
  match::Price reference_price = 0;  // where the background flow's fair value starts (1/10,000 $)
};

// Relative weights of the background flow's actions (each publishes about one message), in the
// proportions of NASDAQ's 2019-12-30 09:30 sample (../shared/data/README.md).
struct FlowMix {
  std::uint32_t add = 367;       // A: a maker quotes (displayed, no attribution)
  std::uint32_t add_mpid = 193;  // F: a maker quotes with its MPID
  std::uint32_t replace = 225;   // U: a maker moves a quote (new price, new size)
  std::uint32_t remove = 167;    // D: a maker pulls a quote
  std::uint32_t cancel = 6;      // X: a maker reduces a quote
  std::uint32_t execute = 28;    // E: a noise taker crosses the spread (P: quotes and takers meeting hidden interest)
  std::uint32_t hidden_per_mille = 20;  // of the makers' adds: non-displayed (executions print 'P')
};

struct BackgroundConfig {
  double rate = 20'000;                  // ITCH messages per second; 0 = no background flow
  std::uint64_t tick_ns = 1'000'000;     // the flow is released in bursts this far apart
  std::uint32_t makers = 8;              // market makers MM01..; each shows its MPID on its 'F' quotes
  std::uint32_t max_resting_per_symbol = 10000;  // above it, makers delete more than they add
  std::uint32_t levels = 40;             // quotes sit up to this many ticks from the fair value
  std::uint32_t max_batch = 4096;        // messages per loop pass, so order entry is never starved
  FlowMix mix;
};

struct ProbeConfig {
  std::string histogram;                 // .hgrm output; "" = no probe
  itch::Symbol symbol = itch::Symbol::from("ZPROBE");
  std::uint64_t interval_ns = 5'000'000; // from the end of one probe to the next
  std::uint64_t timeout_ns = 200'000'000;
  match::Qty quantity = 100;
  match::Price price = 1'000'000;        // $100.0000
  [[nodiscard]] bool enabled() const noexcept { return !histogram.empty(); }
};

// The lead channel (venue/lead.hpp): this venue publishes its fair values to followers.
struct LeadConfig {
  std::optional<net::Endpoint> listen;   // --lead-listen; none: no lead channel
  std::size_t max_followers = 4;
  std::size_t buffer_bytes = 64 * 1024;  // per follower; full: records dropped, then a snapshot
};

// Following a leader's fair values (venue/lead.hpp).
struct FollowConfig {
  std::optional<net::Endpoint> leader;   // --follow; none: this venue's own walk only
  std::uint64_t lag_ns = 0;              // --lag-ms: a value applies this long after it arrived
  double noise_bps = 0;                  // --follow-noise-bps: uniform in +-noise_bps of the value, to the cent
  std::uint64_t retry_ns = 1'000'000'000;  // reconnect interval while the leader is absent
  std::size_t queue = 65536;             // values held for the lag (more: dropped and counted)
};

struct VenueConfig {
  std::uint64_t seed = 1;
  // Issue 14: the venue's name (1-8 characters A-Z 0-9 _) and MPID (4 characters A-Z 0-9; ""
  // = default_mpid(name)), in its logs, summary, executions file and capture sidecar; its fees
  // in dollars per share (negative = a rebate) on client executions that add / remove liquidity.
  std::string venue = "NASDAQ";
  std::string mpid;
  double fee_add = 0;
  double fee_remove = 0;
  LeadConfig lead;
  FollowConfig follow;
  std::uint64_t duration_ns = 0;        // from the open
  std::uint64_t open_delay_ns = 0;      // sockets up, logins taken; the day (and the feed) starts later
  std::string capture;
  std::string book_dump;
  std::string executions;               // JSON lines, appended (execution_log.hpp); "" = none
  std::optional<std::uint64_t> clock_start_ns;  // ns since midnight at start-up; none = wall clock
  std::uint64_t shutdown_linger_ns = 3'000'000'000;

  // Market data. A blank publisher.session (the default) is replaced at start-up by
  // new_session_name(), and so are a blank rerequest_options.session and order_entry.session.
  net::Endpoint feed = net::parse_endpoint("127.0.0.1:31001");
  net::UdpOptions feed_options;
  std::uint32_t drop_every = 0;             // keep every Nth message packet off the wire (0: none)
  std::uint64_t drop_burst = 0;             // one burst of this many message packets kept off the wire...
  std::uint64_t drop_burst_after = 0;       // ...after this many message packets (feed.hpp)
  mold::PublisherConfig publisher;
  net::Endpoint rerequest = net::parse_endpoint("127.0.0.1:31002");
  mold::RerequestConfig rerequest_options;  // session copied from the publisher
  mold::RetransmitStoreConfig store;

  // Order entry
  net::Endpoint ouch = net::parse_endpoint("127.0.0.1:31003");
  soup::ServerConfig order_entry;           // users filled from `accounts`
  std::vector<Account> accounts;
  ouch::UserRefNumPolicy user_ref_num_policy = ouch::UserRefNumPolicy::kReject;
  std::size_t max_connections = 16;
  std::size_t max_connections_per_source = 8;   // one address cannot take every slot (issue 18)
  std::uint64_t warning_interval_ns = 10'000'000'000;  // repeated warnings: at most
  std::uint32_t warnings_per_interval = 5;             // this many per interval, then a count
  std::uint32_t max_client_orders = 65536;  // live client orders, all users together
  bool cancel_on_disconnect = false;        // for accounts that do not say (Account::cancel_on_disconnect)

  // GLIMPSE 5.0 snapshots (venue/glimpse.hpp); none: no GLIMPSE port. The order-entry accounts
  // log in; the order-entry server keys apply (timeouts, login deadline, failed-login lockout).
  std::optional<net::Endpoint> glimpse;
  std::size_t glimpse_max_connections = 8;
  std::size_t glimpse_max_connections_per_source = 4;

  std::vector<SymbolSpec> symbols;          // locates 1..N in this order; the probe symbol is N+1
  match::EngineConfig engine;
  std::uint32_t max_levels_per_side = 1024;
  BackgroundConfig background;
  ProbeConfig probe;
  core::LogOptions log;

  VenueConfig();
  // Cross-field rules; throws std::invalid_argument naming the field at fault.
  void validate() const;
  // Gives each blank session (feed, re-request server, order entry) the name `name`.
  void name_blank_sessions(std::string_view name);
  [[nodiscard]] bool cancels_on_disconnect(std::size_t account) const noexcept {
    return accounts[account].cancel_on_disconnect.value_or(cancel_on_disconnect);
  }
};

// "NSDQ" for NASDAQ, else the name's first 4 characters padded with 'X' ("BX" -> "BXXX").
std::string default_mpid(std::string_view venue);
// The MPID a venue uses: `mpid` if given, else default_mpid(venue).
inline std::string effective_mpid(const VenueConfig& c) { return c.mpid.empty() ? default_mpid(c.venue) : c.mpid; }
// Dollars per share -> millionths of a dollar per share (the unit fees are summed in).
std::int64_t fee_micros(double dollars_per_share) noexcept;

// The session a venue started at `unix_ms` (ms since the Unix epoch, UTC) publishes on MoldUDP64
// and SoupBinTCP when none is configured: 10 characters, "MMDD" (the UTC month and day) then the
// milliseconds since UTC midnight in 6 base-36 digits (0-9, A-Z; 36^6 > 86,400,000), zero-padded,
// e.g. 2024-06-11 13:30:00.123 UTC -> "06110SXO3F". Real venues name a new session per trading day
// (NASDAQ's look like "000010059B"); this venue's day is one run, so one per start. Names of one
// day sort in start order.
std::string start_session_name(std::uint64_t unix_ms);
// start_session_name() of now, or of the millisecond after the last name this process issued if
// that is later (two venues started within one millisecond in one process still differ).
std::string new_session_name();

// The root table of a venue TOML document (also reads [log]); throws core::ConfigError.
VenueConfig parse_venue_config(const core::ConfigSection& root);
VenueConfig load_venue_config(const std::string& path);

// N distinct symbols of 2-4 capital letters and reference prices in [min_price, max_price], on the
// penny grid, from `seed` (deterministic; the venue always uses seed 1, so that the symbols of a
// run do not change with the background flow's seed).
std::vector<SymbolSpec> generate_symbols(std::uint32_t count, std::uint64_t seed, match::Price min_price = 100'000,
                                         match::Price max_price = 5'000'000);
// "AAPL,MSFT" -> symbols with generated reference prices; throws std::invalid_argument naming
// the bad entry (empty, longer than 8 characters, not printable ASCII, listed twice).
std::vector<SymbolSpec> symbols_from_list(const std::vector<std::string>& names, std::uint64_t seed,
                                          match::Price min_price = 100'000, match::Price max_price = 5'000'000);
// "NAME:PASSWORD[:FIRM]"; throws std::invalid_argument.
Account parse_account(std::string_view text);
// "HH:MM:SS" -> ns since midnight; throws std::invalid_argument.
std::uint64_t parse_clock_start(std::string_view text);

}  // namespace hft::venue
