#include "tools/hft-backtest/backtest.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <span>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/config.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/files/binary_file.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/oms/order_manager.hpp"
#include "pipeline/risk/risk.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "pipeline/stages/subscriptions.hpp"
#include "pipeline/symbols.hpp"
#include "tools/hft-itch/common.hpp"
#include "venue/matching/types.hpp"

namespace hft::backtest {

using namespace hft::pipeline;

// ---- latency ---------------------------------------------------------------------------------
namespace {

std::uint64_t next_random(std::uint64_t& s) noexcept {  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

std::uint64_t parse_duration_ns(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::runtime_error("\"" + text + "\": expected a duration such as 10us");
  }
  const std::string unit = text.substr(used);
  double mult = 0;
  if (unit == "ns") mult = 1;
  else if (unit == "us") mult = 1e3;
  else if (unit == "ms") mult = 1e6;
  else if (unit == "s") mult = 1e9;
  else throw std::runtime_error("\"" + text + "\": the unit must be ns, us, ms or s");
  if (v < 0 || v * mult > 1e13) throw std::runtime_error("\"" + text + "\": out of range (0 .. 10,000 s)");
  return static_cast<std::uint64_t>(std::llround(v * mult));
}

}  // namespace

Latency Latency::parse(const std::string& spec) {
  Latency l;
  l.spec_ = spec;
  if (spec.rfind("constant:", 0) == 0) {
    l.constant_ns_ = parse_duration_ns(spec.substr(9));
    return l;
  }
  if (spec.rfind("hgrm:", 0) == 0) {
    const std::string path = spec.substr(5);
    std::ifstream f(path);
    if (!f) throw std::runtime_error("latency " + spec + ": cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    core::HgrmFile h;
    std::string error;
    if (!core::parse_hgrm(ss.str(), h, error)) throw std::runtime_error("latency " + spec + ": " + error);
    if (h.rows.empty()) throw std::runtime_error("latency " + spec + ": no rows");
    for (const auto& r : h.rows) l.cdf_.emplace_back(r.percentile, r.value * 1000.0);  // µs in the file
    return l;
  }
  throw std::runtime_error("latency \"" + spec + "\": expected \"constant:10us\" or \"hgrm:PATH\"");
}

std::uint64_t Latency::sample(std::uint64_t& rng) const noexcept {
  if (cdf_.empty()) return constant_ns_;
  const double u = static_cast<double>(next_random(rng) >> 11) * 0x1.0p-53;
  auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u, [](const auto& row, double x) { return row.first < x; });
  if (it == cdf_.end()) return static_cast<std::uint64_t>(cdf_.back().second);
  return static_cast<std::uint64_t>(it->second);
}

std::uint64_t Latency::minimum() const noexcept {
  return cdf_.empty() ? constant_ns_ : static_cast<std::uint64_t>(cdf_.front().second);
}

// ---- configuration ---------------------------------------------------------------------------
namespace {

toml::node* find_path(toml::table& root, const std::string& dotted, std::string& last, toml::table*& parent) {
  // strategies.0.quote_size, risk.max_position
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= dotted.size(); ++i)
    if (i == dotted.size() || dotted[i] == '.') {
      parts.push_back(dotted.substr(start, i - start));
      start = i + 1;
    }
  if (parts.size() < 2) return nullptr;
  toml::node* node = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (auto* t = node->as_table()) {
      node = t->get(parts[i]);
      if (node == nullptr) {
        t->insert(parts[i], toml::table{});
        node = t->get(parts[i]);
      }
    } else if (auto* a = node->as_array()) {
      std::size_t idx = 0;
      try {
        idx = std::stoul(parts[i]);
      } catch (const std::exception&) {
        return nullptr;
      }
      if (idx >= a->size()) return nullptr;
      node = a->get(idx);
    } else {
      return nullptr;
    }
  }
  parent = node->as_table();
  last = parts.back();
  return node;
}

void apply_override(toml::table& root, const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos) throw core::ConfigError("--param " + kv + ": expected KEY=VALUE");
  const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
  std::string last;
  toml::table* parent = nullptr;
  if (find_path(root, key, last, parent) == nullptr || parent == nullptr)
    throw core::ConfigError("--param " + kv + ": no such table in the configuration (e.g. strategies.0.quote_size)");
  // The value as TOML: an integer, a float, a boolean, an array; else a string.
  try {
    toml::table t = toml::parse("v = " + value);
    parent->insert_or_assign(last, *t.get("v"));
  } catch (const toml::parse_error&) {
    parent->insert_or_assign(last, value);
  }
}

}  // namespace

namespace {
BacktestConfig load(toml::table root, const std::string& path, const std::vector<std::string>& overrides);
}

BacktestConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  try {
    return load(toml::parse_file(path), path, overrides);
  } catch (const toml::parse_error& e) {
    throw core::ConfigError(fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                                        std::string(e.description())));
  }
}

BacktestConfig load_config_text(std::string_view text, const std::string& name) {
  try {
    return load(toml::parse(text, name), name, {});
  } catch (const toml::parse_error& e) {
    throw core::ConfigError(fmt::format("{}:{}:{}: {}", name, e.source().begin.line, e.source().begin.column,
                                        std::string(e.description())));
  }
}

namespace {
BacktestConfig load(toml::table root, const std::string& path, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) apply_override(root, o);
  // What hftd needs for its network and threads, a backtest does not: defaults when absent.
  if (!root.contains("feed")) root.insert("feed", toml::table{});
  if (!root.contains("order_entry")) root.insert("order_entry", toml::table{{"user", "BT"}});
  if (!root.contains("threads"))
    root.insert("threads", toml::array{toml::table{{"name", "bt"},
                                                   {"idle", "backoff"},
                                                   {"stages", toml::array{"net", "parse", "book", "strategy", "risk"}}}});
  std::ostringstream text;
  text << root;
  auto doc = core::ConfigDocument::parse(text.str(), path);
  const core::ConfigSection top = doc->root();
  BacktestConfig c;
  if (auto b = top.section("backtest")) {
    auto latency = [&](const char* key) {
      try {
        return Latency::parse(b->string(key, "constant:0us"));
      } catch (const std::exception& e) {
        b->fail(key, e.what());
      }
    };
    c.bt.feed = latency("feed_latency");
    c.bt.order_entry = latency("order_latency");
    c.bt.response = latency("response_latency");
    c.bt.seed = static_cast<std::uint64_t>(b->integer("seed", 1, 0, INT64_MAX));
    c.bt.fee_add_per_share = b->number("fee_add_per_share", 0, -1, 1);
    c.bt.fee_remove_per_share = b->number("fee_remove_per_share", 0, -1, 1);
    c.bt.equity_interval_ns = static_cast<std::uint64_t>(b->integer("equity_interval_ms", 1000, 1, 3'600'000)) * 1'000'000;
    c.bt.queue_model = b->string("queue_model", "l3");
    if (c.bt.queue_model == "risk_averse") {
      c.bt.queue = QueueModel::kRiskAverse;
    } else if (c.bt.queue_model.rfind("power:", 0) == 0) {
      char* end = nullptr;
      const std::string n = c.bt.queue_model.substr(6);
      c.bt.queue_power = std::strtod(n.c_str(), &end);
      if (n.empty() || end != n.c_str() + n.size() || !(c.bt.queue_power > 0) || c.bt.queue_power > 100)
        b->fail("queue_model", "power:N needs a number N in (0, 100], got \"" + c.bt.queue_model + "\"");
      c.bt.queue = QueueModel::kPower;
    } else if (c.bt.queue_model != "l3") {
      b->fail("queue_model", "expected \"l3\", \"risk_averse\" or \"power:N\", got \"" + c.bt.queue_model + "\"");
    }
    c.bt.skip_idle_timers = b->boolean("skip_idle_timers", true);
    b->reject_unknown_keys();
  }
  c.bt.auto_book = !top.has("book");
  c.hftd = app::parse_hftd_config(top);
  return c;
}
}  // namespace

// ---- the simulated venue ---------------------------------------------------------------------
namespace {

inline std::uint64_t be(const std::uint8_t* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

// A reply of the venue on its way to hftd (what the egress stage decodes from OUCH).
struct Reply {
  enum class Kind : std::uint8_t { kAccepted, kReplaced, kCanceled, kExecuted, kRejected } kind;
  std::uint64_t at;  // when it reaches hftd
  std::uint32_t user_ref, orig_user_ref;
  std::uint64_t venue_ref;
  Price price;
  Quantity quantity;
  std::uint16_t reason;
  char liquidity;
};

// An order-entry request on its way to the venue.
struct Request {
  IntentType type;
  std::uint64_t at;
  OrderIntent intent;
  std::uint32_t user_ref, new_user_ref;
  std::uint32_t total;  // replace: the chain's total liability (OUCH 5.0 Replace Order quantity)
};

struct ItchOrder {
  Locate locate;
  std::uint8_t side;  // 0 bid, 1 ask
  std::int32_t price;
  std::uint32_t shares;
  std::uint64_t seq;  // arrival order at its price (a replace is a new arrival)
};

struct LevelState {
  std::uint64_t shares = 0;  // displayed
  std::uint64_t taken = 0;   // of them, taken by own marketable orders (the data does not know)
};

struct SymbolBook {
  std::map<std::int32_t, LevelState, std::greater<>> bids;
  std::map<std::int32_t, LevelState> asks;
};

struct OwnOrder {
  std::uint32_t user_ref;
  std::uint64_t venue_ref;
  std::uint64_t order_id;
  Locate locate;
  Side side;
  Price price;
  Quantity leaves;
  Quantity executed;
  std::uint64_t ahead;  // displayed shares ahead of it at its price
  std::uint64_t mark;   // ITCH orders with seq <= mark are ahead of it
  std::uint64_t rest_ns;
  std::uint8_t strategy;
  bool post_only;
};

}  // namespace

class Engine {
 public:
  explicit Engine(const BacktestConfig& c)
      : c_(c),
        locates_(c.hftd.book.max_locate + 1),
        symbols_(locates_),
        refs_(locates_),
        subs_(locates_),
        books_(c.hftd.book),
        oms_(c.hftd.max_orders, locates_, 1),
        gate_(limits(c.hftd.risk), 1e9),
        rx_(1 << 8),
        md_(1 << 10),
        book_events_(1 << 10),
        intents_(1 << 10),
        reports_(1 << 10),
        h_parse_(1, 10'000'000'000ull, 2),
        h_book_(1, 10'000'000'000ull, 2),
        h_decide_(1, 10'000'000'000ull, 2),
        parse_(rx_, md_, h_parse_),
        book_(md_, book_events_, books_, symbols_, refs_, subs_, h_book_),
        strategy_(book_events_, reports_, intents_, symbols_, subs_, h_decide_, c.hftd.timer_ns),
        sym_books_(locates_),
        traded_(locates_, 0),
        own_count_(locates_, 0),
        mids_(locates_, 0) {
    rng_ = c.bt.seed * 0x9E3779B97F4A7C15ull + 1;
    feed_constant_ = c.bt.feed.is_constant();
    for (const auto& s : c.hftd.strategies) {
      strategy_.add(s.name, strategy::make_strategy(s.params), s.symbols, s.features, s.feature_params);
      const bool own_fees = s.fee_add_per_share != 0 || s.fee_remove_per_share != 0;
      fee_add_.push_back(own_fees ? s.fee_add_per_share : c.bt.fee_add_per_share);
      fee_remove_.push_back(own_fees ? s.fee_remove_per_share : c.bt.fee_remove_per_share);
      strategy_.set_fees(fee_add_.back(), fee_remove_.back());
      for (const auto& sym : s.symbols)
        if (std::find(wanted_.begin(), wanted_.end(), sym) == wanted_.end()) wanted_.push_back(sym);
      queue_sum_ns_.push_back(0);
      queue_fills_.push_back(0);
    }
    strategy_.set_simulated_clock(&now_, c.bt.skip_idle_timers);
    gate_.set_totals(&oms_.totals());
    r_.feed_latency = std::make_unique<core::Histogram>(1, 100'000'000'000ull, 2);
    r_.order_latency = std::make_unique<core::Histogram>(1, 100'000'000'000ull, 2);
    r_.response_latency = std::make_unique<core::Histogram>(1, 100'000'000'000ull, 2);
    r_.queue_time = std::make_unique<core::Histogram>(1, 100'000'000'000'000ull, 2);
    r_.symbols = wanted_;
    hash_ = 0xcbf29ce484222325ull;
  }

  Result run(const std::vector<InputFile>& inputs) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t day = 0; day < inputs.size(); ++day) run_day(inputs[day], day);
    finish();
    r_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return std::move(r_);
  }

 private:
  // The book stage stamps market updates with the message's origin_tsc, which a backtest sets to
  // the simulated delivery time (never 0: 0 would make the stage stamp with the TSC), and the
  // gate counts 1e9 ticks per second against the simulated clock: reference_max_age_ms works in
  // simulated time.
  static risk::RiskLimits limits(risk::RiskLimits l) { return l; }

  // ---- the event loop ------------------------------------------------------------------------
  void run_day(const InputFile& in, std::size_t day) {
    if (in.path.empty()) return run_blocks(memory_.data(), memory_.size(), day);
    std::vector<std::uint8_t> owned;
    files::MappedFile mapped;
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    if (in.pcap) {
      itch_tool::InputReport rep;
      owned = itch_tool::pcap_to_blocks(in.path, rep);
      if (rep.has_errors(true)) r_.input_errors.push_back(in.path + ": damaged or missing packets in the capture");
      data = owned.data();
      size = owned.size();
    } else if (day < premapped_.size() && premapped_[day].data() != nullptr) {
      data = premapped_[day].data();  // mapped (and scanned) by run()
      size = premapped_[day].size();
    } else {
      try {
        mapped = files::MappedFile(in.path);
      } catch (const std::exception& e) {
        throw std::runtime_error(e.what());
      }
      data = mapped.data();
      size = mapped.size();
    }
    run_blocks(data, size, day);
  }

 public:
  std::span<const std::uint8_t> memory_;  // an in-memory BinaryFILE (InputFile with an empty path)
  std::vector<std::span<const std::uint8_t>> premapped_;  // per input: already mapped by the caller

 private:
  void run_blocks(const std::uint8_t* data, std::size_t size, std::size_t day) {
    const std::uint64_t offset = day * 86'400'000'000'000ull;
    if (day != 0) new_session();
    std::size_t v = 0;        // venue cursor (bytes)
    std::uint64_t v_time = next_message(data, size, v, offset);
    std::uint64_t last_feed = now_;
    for (;;) {
      const std::uint64_t t_strat = pending_.empty() ? kNever : pending_.front().at;
      const std::uint64_t t_req = requests_.empty() ? kNever : requests_.front().at;
      const std::uint64_t t_rep = replies_.empty() ? kNever : replies_.front().at;
      const bool active = v_time != kNever || !pending_.empty() || !requests_.empty() || !replies_.empty();
      if (!active) break;
      if (timer_stale_) {  // the strategy stage ran since: when its next tick is due
        timer_due_ = c_.bt.skip_idle_timers ? strategy_.timer_due_ns() : strategy_.next_timer_ns();
        timer_stale_ = false;
      }
      const std::uint64_t t_timer = started_ ? std::max(timer_due_, now_) : kNever;
      const std::uint64_t t = std::min({v_time, t_req, t_rep, t_strat, t_timer});
      sample_equity(t);
      now_ = std::max(now_, t);
      if (t == v_time) {
        const std::size_t at = v;
        const std::uint16_t len = static_cast<std::uint16_t>(be(data + at, 2));
        const std::uint8_t* msg = data + at + 2;
        on_venue_message(msg, len, t);
        ++r_.messages;
        std::uint64_t lat = c_.bt.feed.sample(rng_);
        if (feed_constant_) ++feed_constant_count_;  // recorded at the end, in one call
        else r_.feed_latency->record(std::max<std::uint64_t>(lat, 1));
        last_feed = std::max(last_feed, t + lat);
        // Order and trade messages of stocks no strategy subscribes to change only hftd's books
        // and risk references of those stocks, which nothing in a backtest reads: not delivered.
        // (The latency is still sampled: the generator's sequence stays that of every message.)
        if (delivered(msg, len)) pending_.push_back(Pending{last_feed, msg, static_cast<std::uint8_t>(len)});
        v += 2 + len;
        v_time = next_message(data, size, v, offset);
      } else if (t == t_req) {
        const Request q = requests_.front();
        requests_.pop_front();
        on_request(q);
      } else if (t == t_rep) {
        const Reply rp = replies_.front();
        replies_.pop_front();
        on_reply(rp);
        run_strategy();
      } else if (t == t_strat) {
        const Pending p = pending_.front();
        pending_.pop_front();
        RxMessage m{};
        m.origin_tsc = std::max<std::uint64_t>(t, 1);
        m.sequence = ++sequence_;
        m.length = p.length;
        std::memcpy(m.bytes.data(), p.bytes, p.length);
        if (!rx_.try_push(m)) ++r_.bad_messages;
        started_ = true;
        run_strategy();
      } else {
        run_strategy();
      }
    }
  }

  // Whether a message at the venue goes on to hftd's stages: all but the order and trade
  // messages of stocks no strategy trades (traded_: the strategies' symbols, which are exactly
  // the strategy stage's subscriptions).
  bool delivered(const std::uint8_t* m, std::size_t len) const noexcept {
    switch (static_cast<char>(m[0])) {
      case 'A': case 'F': case 'E': case 'C': case 'X': case 'D': case 'U': case 'P': case 'Q': case 'B': case 'I': {
        if (len < 3) return true;
        const auto l = static_cast<Locate>(be(m + 1, 2));
        return l < locates_ && traded_[l] != 0;
      }
      default: return true;
    }
  }

  // The next well-formed message at or after `pos`: its simulated time, or kNever at the end.
  std::uint64_t next_message(const std::uint8_t* data, std::size_t size, std::size_t& pos, std::uint64_t offset) {
    while (pos + 2 <= size) {
      const std::size_t len = static_cast<std::size_t>(be(data + pos, 2));
      if (pos + 2 + len > size) {  // truncated tail
        ++r_.bad_messages;
        pos = size;
        break;
      }
      if (len < 11 || len > 50) {
        ++r_.bad_messages;
        pos += 2 + len;
        continue;
      }
      const std::uint64_t ts = be(data + pos + 2 + 5, 6);
      const std::uint64_t t = std::max(offset + ts, last_msg_time_);  // never back in time
      last_msg_time_ = t;
      if (r_.first_ns == 0) r_.first_ns = t;
      r_.last_ns = t;
      return t;
    }
    return kNever;
  }

  // Parse, book and strategy stages until they have nothing left, then the egress side, again
  // while any of them did something (a timer tick alone is one pass).
  void run_strategy() {
    timer_stale_ = true;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      int work = 0;
      if (rx_.front() != nullptr) work += parse_.poll();
      if (md_.front() != nullptr) work += book_.poll();
      work += strategy_.poll();
      work += drain_intents();
      if (work == 0 && md_.front() == nullptr && book_events_.front() == nullptr && reports_.front() == nullptr) return;
    }
  }

  // ---- the egress side: hftd's risk gate and order manager, a simulated wire -----------------
  int drain_intents() {
    int n = 0;
    while (const OrderIntent* p = intents_.front()) {
      const OrderIntent in = *p;
      intents_.pop();
      ++n;
      switch (in.type) {
        case IntentType::kNew: handle_new(in); break;
        case IntentType::kCancel: handle_cancel(in); break;
        case IntentType::kReplace: handle_replace(in); break;
      }
    }
    return n;
  }

  risk::MarketView market(Locate l) const noexcept {
    risk::MarketView m = refs_.view(l);
    if (gate_.limits().restricted_count != 0) m.symbol = symbols_.symbol(l).key();
    return m;
  }

  void refuse(const OrderIntent& in, RejectReason reason) {
    ++r_.risk_rejects;
    ExecReport r{};
    r.origin_tsc = in.origin_tsc;
    r.order_id = in.order_id;
    r.price = in.price;
    r.quantity = in.quantity;
    r.locate = in.locate;
    r.type = ReportType::kRejected;
    r.side = in.side;
    r.reason = reason;
    r.strategy = in.strategy;
    hash_event('J', now_, in.order_id, in.price, in.quantity, static_cast<std::uint8_t>(reason));
    push_report(r);
  }

  void push_report(const ExecReport& r) {
    timer_stale_ = true;
    while (!reports_.try_push(r)) strategy_.poll();
  }

  std::uint64_t send_time() {
    const std::uint64_t lat = c_.bt.order_entry.sample(rng_);
    r_.order_latency->record(std::max<std::uint64_t>(lat, 1));
    last_request_ = std::max(last_request_, now_ + lat);  // one TCP stream: in order
    return last_request_;
  }

  void handle_new(const OrderIntent& in) {
    const RejectReason why = gate_.check_new(in, oms_.exposure(in.locate), market(in.locate), oms_.open_orders(), now_);
    if (why != RejectReason::kNone) return refuse(in, why);
    oms::Order* o = oms_.open(in);
    if (o == nullptr) return refuse(in, RejectReason::kOpenOrderLimit);
    ++r_.orders_sent;
    hash_event('O', now_, in.order_id, in.price, in.quantity, static_cast<std::uint8_t>(in.side));
    requests_.push_back(Request{IntentType::kNew, send_time(), in, o->user_ref, 0, 0});
  }

  void handle_cancel(const OrderIntent& in) {
    oms::Order* o = oms_.by_id(in.order_id);
    if (o == nullptr) return refuse(in, RejectReason::kUnknownOrder);
    const std::uint32_t ref = o->user_ref;
    oms_.begin_cancel(*o, in.origin_tsc);
    if (gate_.counts_messages()) gate_.note_cancel(now_);
    hash_event('C', now_, in.order_id, 0, 0, 0);
    requests_.push_back(Request{IntentType::kCancel, send_time(), in, ref, 0, 0});
  }

  void handle_replace(const OrderIntent& in) {
    oms::Order* o = oms_.by_id(in.order_id);
    if (o == nullptr || o->state != oms::OrderState::kLive) return refuse(in, RejectReason::kUnknownOrder);
    const std::uint64_t total = std::uint64_t{o->filled} + in.quantity;
    if (total > 999'999) return refuse(in, RejectReason::kMaxOrderQuantity);
    OrderIntent check = in;
    check.side = o->side;
    const RejectReason why = gate_.check_replace(check, o->leaves, oms_.exposure(o->locate), market(o->locate), now_);
    if (why != RejectReason::kNone) return refuse(in, why);
    const std::uint32_t old_ref = o->user_ref;
    const std::uint32_t new_ref = oms_.begin_replace(*o, in.price, in.quantity, in.origin_tsc);
    if (new_ref == 0) return refuse(in, RejectReason::kOpenOrderLimit);
    hash_event('U', now_, in.order_id, in.price, in.quantity, 0);
    OrderIntent q = in;
    q.side = o->side;
    q.locate = o->locate;
    q.strategy = o->strategy;
    requests_.push_back(Request{IntentType::kReplace, send_time(), q, old_ref, new_ref, static_cast<std::uint32_t>(total)});
  }

  void on_reply(const Reply& rp) {
    ExecReport r{};
    bool ok = false;
    switch (rp.kind) {
      case Reply::Kind::kAccepted: ok = oms_.on_accepted(rp.user_ref, rp.venue_ref, rp.price, rp.quantity, r); break;
      case Reply::Kind::kReplaced:
        ok = oms_.on_replaced(rp.orig_user_ref, rp.user_ref, rp.venue_ref, rp.price, rp.quantity, r);
        break;
      case Reply::Kind::kCanceled: ok = oms_.on_canceled(rp.user_ref, rp.quantity, rp.reason, r); break;
      case Reply::Kind::kExecuted:
        ok = oms_.on_executed(rp.user_ref, rp.quantity, rp.price, r);
        r.liquidity = rp.liquidity;
        break;
      case Reply::Kind::kRejected:
        ok = oms_.on_rejected(rp.user_ref, rp.reason, r);
        ++r_.venue_rejects;
        break;
    }
    if (ok) push_report(r);
  }

  // ---- the venue -----------------------------------------------------------------------------
  void reply(Reply rp) {
    const std::uint64_t lat = c_.bt.response.sample(rng_);
    r_.response_latency->record(std::max<std::uint64_t>(lat, 1));
    last_reply_ = std::max(last_reply_, now_ + lat);
    rp.at = last_reply_;
    ++r_.order_events;
    hash_event(static_cast<char>('a' + static_cast<int>(rp.kind)), now_, rp.user_ref, rp.price, rp.quantity,
               static_cast<std::uint8_t>(rp.liquidity));
    replies_.push_back(rp);
  }

  void hash_event(char kind, std::uint64_t t, std::uint64_t id, std::int64_t price, std::uint64_t qty, std::uint8_t x) {
    const std::uint64_t words[] = {static_cast<std::uint64_t>(kind), t, id, static_cast<std::uint64_t>(price), qty, x};
    for (std::uint64_t w : words)
      for (int i = 0; i < 8; ++i) {
        hash_ ^= (w >> (8 * i)) & 0xff;
        hash_ *= 0x100000001b3ull;
      }
  }

  static std::uint16_t cancel_code(match::CancelReason why) { return static_cast<std::uint8_t>(match::ouch_cancel_reason(why)); }

  OwnOrder* own_by_ref(std::uint32_t user_ref) {
    for (auto& o : own_)
      if (o.user_ref == user_ref) return &o;
    return nullptr;
  }

  void remove_own(std::uint32_t user_ref) {
    for (std::size_t i = 0; i < own_.size(); ++i)
      if (own_[i].user_ref == user_ref) {
        --own_count_[own_[i].locate];
        own_.erase(own_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
  }

  // Best opposite price an order on `side` would meet (0: none).
  std::int32_t best_opposite(Locate l, Side side) const {
    const SymbolBook& b = sym_books_[l];
    if (side == Side::kBuy) {
      for (const auto& [px, lv] : b.asks)
        if (lv.shares > 0) return px;
    } else {
      for (const auto& [px, lv] : b.bids)
        if (lv.shares > 0) return px;
    }
    return 0;
  }
  bool crosses(Locate l, Side side, Price price) const {
    const std::int32_t best = best_opposite(l, side);
    return best != 0 && (side == Side::kBuy ? price >= best : price <= best);
  }
  // Displayed shares an incoming order could take now, up to its limit price.
  template <class F>
  void walk_opposite(Locate l, Side side, Price limit, F&& f) {
    SymbolBook& b = sym_books_[l];
    if (side == Side::kBuy) {
      for (auto& [px, lv] : b.asks) {
        if (px > limit) break;
        if (!f(px, lv)) return;
      }
    } else {
      for (auto& [px, lv] : b.bids) {
        if (px < limit) break;
        if (!f(px, lv)) return;
      }
    }
  }
  std::uint64_t displayed_at(Locate l, Side side, Price price) const {
    const SymbolBook& b = sym_books_[l];
    if (side == Side::kBuy) {
      auto it = b.bids.find(static_cast<std::int32_t>(price));
      return it == b.bids.end() ? 0 : it->second.shares;
    }
    auto it = b.asks.find(static_cast<std::int32_t>(price));
    return it == b.asks.end() ? 0 : it->second.shares;
  }

  void execute_own(OwnOrder& o, Quantity q, Price price, char liquidity) {
    o.leaves -= q;
    o.executed += q;
    FillRow f{};
    f.timestamp = now_;
    f.strategy = o.strategy;
    const itch::Symbol name = symbols_.symbol(o.locate);
    std::memcpy(f.symbol, name.chars.data(), 8);
    f.symbol[8] = '\0';
    for (char* c = f.symbol + std::strlen(f.symbol); c > f.symbol && c[-1] == ' ';) *--c = '\0';
    f.side = o.side == Side::kBuy ? 'B' : 'S';
    f.price = price;
    f.quantity = q;
    f.liquidity = liquidity;
    r_.fills.push_back(f);
    if (liquidity == 'A' && o.strategy < queue_sum_ns_.size()) {
      queue_sum_ns_[o.strategy] += static_cast<double>(now_ - o.rest_ns);
      ++queue_fills_[o.strategy];
      r_.queue_time->record(std::max<std::uint64_t>(now_ - o.rest_ns, 1));
    }
    reply(Reply{Reply::Kind::kExecuted, 0, o.user_ref, 0, o.venue_ref, price, q, 0, liquidity});
  }

  // Takes displayed liquidity level by level for an incoming (or re-entering) order.
  void take(OwnOrder& o) {
    walk_opposite(o.locate, o.side, o.price, [&](std::int32_t px, LevelState& lv) {
      const std::uint64_t avail = lv.shares > lv.taken ? lv.shares - lv.taken : 0;
      if (avail == 0) return true;
      const Quantity q = static_cast<Quantity>(std::min<std::uint64_t>(avail, o.leaves));
      lv.taken += q;
      execute_own(o, q, px, 'R');
      return o.leaves != 0;
    });
  }
  std::uint64_t available(Locate l, Side side, Price limit) {
    std::uint64_t n = 0;
    walk_opposite(l, side, limit, [&](std::int32_t, LevelState& lv) {
      n += lv.shares > lv.taken ? lv.shares - lv.taken : 0;
      return true;
    });
    return n;
  }
  void rest(OwnOrder& o) {
    o.ahead = displayed_at(o.locate, o.side, o.price);
    o.mark = seq_;
    o.rest_ns = now_;
  }

  void on_request(const Request& q) {
    if (q.type == IntentType::kNew) return venue_new(q);
    if (q.type == IntentType::kCancel) {
      OwnOrder* o = own_by_ref(q.user_ref);
      if (o == nullptr) return;  // executed (or gone) before the cancel arrived: nothing to cancel
      const Quantity leaves = o->leaves;
      reply(Reply{Reply::Kind::kCanceled, 0, o->user_ref, 0, o->venue_ref, o->price, leaves,
                  cancel_code(match::CancelReason::kUser), 0});
      remove_own(q.user_ref);
      return;
    }
    // Replace: the venue's rules (venue/matching/engine.hpp): same price and no more shares keeps
    // the place in the queue; anything else joins the back; a crossing price re-enters.
    OwnOrder* o = own_by_ref(q.user_ref);
    if (o == nullptr) {
      reply(Reply{Reply::Kind::kRejected, 0, q.new_user_ref, 0, 0, q.intent.price, 0,
                  match::ouch_reject_reason(match::RejectReason::kUnknownOrder), 0});
      return;
    }
    const Price price = q.intent.price;
    if (o->post_only && crosses(o->locate, o->side, price)) {
      reply(Reply{Reply::Kind::kRejected, 0, q.new_user_ref, 0, 0, price, 0,
                  match::ouch_reject_reason(match::RejectReason::kPostOnlyWouldCross), 0});
      return;
    }
    const Quantity open = q.total > o->executed ? q.total - o->executed : 0;
    const std::uint32_t old_ref = o->user_ref;
    o->user_ref = q.new_user_ref;
    o->venue_ref = ++venue_ref_;
    if (open == 0) {
      reply(Reply{Reply::Kind::kReplaced, 0, q.new_user_ref, old_ref, o->venue_ref, price, 0, 0, 0});
      remove_own(q.new_user_ref);
      return;
    }
    const bool keeps = price == o->price && open <= o->leaves;
    o->leaves = open;
    o->price = price;
    reply(Reply{Reply::Kind::kReplaced, 0, q.new_user_ref, old_ref, o->venue_ref, price, open, 0, 0});
    if (keeps) return;
    if (crosses(o->locate, o->side, price)) {
      take(*o);
      if (o->leaves == 0) return remove_own(o->user_ref);
    }
    rest(*o);
  }

  void venue_new(const Request& q) {
    const OrderIntent& in = q.intent;
    if (in.quantity == 0 || in.price <= 0 || in.locate >= locates_ || !traded_[in.locate]) {
      reply(Reply{Reply::Kind::kRejected, 0, q.user_ref, 0, 0, in.price, 0,
                  match::ouch_reject_reason(in.quantity == 0 ? match::RejectReason::kInvalidQuantity
                                                             : match::RejectReason::kUnknownSymbol), 0});
      return;
    }
    OwnOrder o{q.user_ref, ++venue_ref_, in.order_id, in.locate, in.side, in.price, in.quantity, 0, 0, 0, now_,
               in.strategy, in.post_only};
    reply(Reply{Reply::Kind::kAccepted, 0, o.user_ref, 0, o.venue_ref, in.price, in.quantity, 0, 0});
    const bool crossing = crosses(in.locate, in.side, in.price);
    if (in.post_only && crossing)
      return reply(Reply{Reply::Kind::kCanceled, 0, o.user_ref, 0, o.venue_ref, in.price, in.quantity,
                         cancel_code(match::CancelReason::kPostOnly), 0});
    if (in.min_quantity != 0 && available(in.locate, in.side, in.price) < in.min_quantity) {
      const bool fok = in.min_quantity >= in.quantity && in.tif == TimeInForce::kIoc;
      return reply(Reply{Reply::Kind::kCanceled, 0, o.user_ref, 0, o.venue_ref, in.price, in.quantity,
                         cancel_code(fok ? match::CancelReason::kFillOrKill : match::CancelReason::kMinQtyNotMet), 0});
    }
    if (crossing) take(o);
    if (o.leaves == 0) return;
    if (in.tif == TimeInForce::kIoc)
      return reply(Reply{Reply::Kind::kCanceled, 0, o.user_ref, 0, o.venue_ref, in.price, o.leaves,
                         cancel_code(match::CancelReason::kImmediateOrCancel), 0});
    rest(o);
    own_.push_back(o);
    ++own_count_[o.locate];
  }

  // ---- ITCH at the venue: the L3 view of every traded symbol, and own orders' queues --------
  void on_venue_message(const std::uint8_t* m, std::size_t len, std::uint64_t t) {
    const char type = static_cast<char>(m[0]);
    const auto l = static_cast<Locate>(be(m + 1, 2));
    // Order messages of stocks no strategy trades: nothing to keep (every order message carries
    // its stock's locate).
    if (type != 'R' && (l >= locates_ || !traded_[l])) return;
    switch (type) {
      case 'R': {
        if (len < 19 || l >= locates_) return;
        std::string sym(reinterpret_cast<const char*>(m + 11), 8);
        while (!sym.empty() && sym.back() == ' ') sym.pop_back();
        if (std::find(wanted_.begin(), wanted_.end(), sym) != wanted_.end()) traded_[l] = 1;
        return;
      }
      case 'A':
      case 'F': {
        if (len < 36 || l >= locates_ || !traded_[l]) return;
        const std::uint64_t ref = be(m + 11, 8);
        const std::uint8_t side = m[19] == 'S' ? 1 : 0;
        const auto shares = static_cast<std::uint32_t>(be(m + 20, 4));
        const auto price = static_cast<std::int32_t>(be(m + 32, 4));
        add_itch(ref, l, side, price, shares);
        // An add on the other side at or through an own resting order's price would have
        // executed against it (the own order was there first).
        if (own_count_[l] != 0) cross_own(l, side, price, shares);
        return;
      }
      case 'E':
      case 'C': {
        if (len < 31) return;
        remove_itch(be(m + 11, 8), static_cast<std::uint32_t>(be(m + 19, 4)), true, l);
        return;
      }
      case 'X':
        if (len < 23) return;
        remove_itch(be(m + 11, 8), static_cast<std::uint32_t>(be(m + 19, 4)), false, l);
        return;
      case 'D':
        if (len < 19) return;
        remove_itch(be(m + 11, 8), ~0u, false, l);
        return;
      case 'U': {
        if (len < 35) return;
        const std::uint64_t old_ref = be(m + 11, 8);
        auto it = orders_.find(old_ref);
        if (it == orders_.end()) return;
        const ItchOrder o = it->second;
        remove_itch(old_ref, ~0u, false, l);
        const auto shares = static_cast<std::uint32_t>(be(m + 27, 4));
        const auto price = static_cast<std::int32_t>(be(m + 31, 4));
        add_itch(be(m + 19, 8), o.locate, o.side, price, shares);
        if (own_count_[o.locate] != 0) cross_own(o.locate, o.side, price, shares);
        return;
      }
      case 'P': {
        if (len < 44 || l >= locates_ || own_count_[l] == 0) return;
        const auto shares = static_cast<std::uint32_t>(be(m + 20, 4));
        const auto price = static_cast<std::int32_t>(be(m + 32, 4));
        trade_through(l, price, shares);
        return;
      }
      default:
        (void)t;
        return;
    }
  }

  LevelState* level(Locate l, std::uint8_t side, std::int32_t price, bool create) {
    SymbolBook& b = sym_books_[l];
    if (side == 0) {
      auto it = b.bids.find(price);
      if (it != b.bids.end()) return &it->second;
      return create ? &b.bids[price] : nullptr;
    }
    auto it = b.asks.find(price);
    if (it != b.asks.end()) return &it->second;
    return create ? &b.asks[price] : nullptr;
  }
  void erase_level(Locate l, std::uint8_t side, std::int32_t price) {
    if (side == 0) sym_books_[l].bids.erase(price);
    else sym_books_[l].asks.erase(price);
  }

  void add_itch(std::uint64_t ref, Locate l, std::uint8_t side, std::int32_t price, std::uint32_t shares) {
    orders_[ref] = ItchOrder{l, side, price, shares, ++seq_};
    level(l, side, price, true)->shares += shares;
  }

  void remove_itch(std::uint64_t ref, std::uint32_t shares, bool executed, Locate) {
    auto it = orders_.find(ref);
    if (it == orders_.end()) return;
    ItchOrder& o = it->second;
    const std::uint32_t s = std::min(shares, o.shares);
    o.shares -= s;
    std::uint64_t left = 0;  // displayed shares at the price after this
    if (LevelState* lv = level(o.locate, o.side, o.price, false)) {
      lv->shares -= std::min<std::uint64_t>(lv->shares, s);
      lv->taken = std::min(lv->taken, lv->shares);
      left = lv->shares;
      if (lv->shares == 0) erase_level(o.locate, o.side, o.price);
    }
    if (own_count_[o.locate] != 0) queue_event(o, s, executed, left);
    if (o.shares == 0) orders_.erase(it);
  }

  // An ITCH order lost `s` shares (executed or canceled; `left` displayed at its price after it):
  // own orders on its side move up and fill. At the order's price the queue model decides
  // (queue_at_price); a trade through the price fills in every model.
  void queue_event(const ItchOrder& o, std::uint32_t s, bool executed, std::uint64_t left) {
    const Side side = o.side == 0 ? Side::kBuy : Side::kSell;
    for (std::size_t i = 0; i < own_.size();) {
      OwnOrder& w = own_[i];
      if (w.locate != o.locate || w.side != side) {
        ++i;
        continue;
      }
      Quantity fill = 0;
      if (w.price == o.price) {
        fill = queue_at_price(w, o, s, executed, left);
      } else if (executed && (side == Side::kBuy ? o.price < w.price : o.price > w.price)) {
        fill = std::min(w.leaves, s);  // a trade through its price
      }
      if (fill != 0) {
        execute_own(w, fill, w.price, 'A');
        if (w.leaves == 0) {
          remove_own(w.user_ref);
          continue;
        }
      }
      ++i;
    }
  }

  // The shares of own order `w` filled when `s` shares left its price level; moves it up.
  // l3: the orders ahead of it are known (seq <= mark); it fills once none is ahead and a later
  // order at its price executes. The L2 models (queue_model "risk_averse", "power:N"): the level's
  // total is all that is known of the orders at a price, not which order left. An execution at the
  // price takes the shares ahead first and the rest fills the own order; a cancel at the price:
  // risk_averse moves the order up only as far as the level shrank below it (ahead = min(ahead,
  // left)); power:N takes the part f(front) / (f(front) + f(back)) of the cancel, f(x) = x^N, from
  // the shares ahead (front) and the rest from those behind (back; what exceeds them comes from
  // the front too).
  Quantity queue_at_price(OwnOrder& w, const ItchOrder& o, std::uint32_t s, bool executed, std::uint64_t left) {
    if (c_.bt.queue == QueueModel::kL3) {
      if (o.seq <= w.mark) w.ahead -= std::min<std::uint64_t>(w.ahead, s);  // ahead of it: it moves up
      else if (executed && w.ahead == 0) return std::min(w.leaves, s);      // behind it: it was reached
      return 0;
    }
    if (executed) {
      if (w.ahead >= s) {
        w.ahead -= s;
        return 0;
      }
      const auto fill = static_cast<Quantity>(std::min<std::uint64_t>(w.leaves, s - w.ahead));
      w.ahead = 0;
      return fill;
    }
    if (c_.bt.queue == QueueModel::kRiskAverse) {
      w.ahead = std::min(w.ahead, left);
      return 0;
    }
    const double front = static_cast<double>(w.ahead);
    const double back = std::max(0.0, static_cast<double>(left + s) - front);
    const double ff = std::pow(front, c_.bt.queue_power), fb = std::pow(back, c_.bt.queue_power);
    const double share = ff + fb > 0 ? ff / (ff + fb) : 1.0;
    const double c = static_cast<double>(s);
    const double from_front = share * c + std::max(0.0, (1 - share) * c - back);
    const auto cut = static_cast<std::uint64_t>(std::llround(std::min(front, from_front)));
    w.ahead = std::min(w.ahead - std::min(w.ahead, cut), left);
    return 0;
  }

  void cross_own(Locate l, std::uint8_t side, std::int32_t price, std::uint32_t shares) {
    const Side opposite = side == 0 ? Side::kSell : Side::kBuy;
    for (std::size_t i = 0; i < own_.size() && shares != 0;) {
      OwnOrder& w = own_[i];
      if (w.locate != l || w.side != opposite || !(opposite == Side::kBuy ? price <= w.price : price >= w.price)) {
        ++i;
        continue;
      }
      const Quantity q = std::min(w.leaves, shares);
      shares -= q;
      execute_own(w, q, w.price, 'A');
      if (w.leaves == 0) {
        remove_own(w.user_ref);
        continue;
      }
      ++i;
    }
  }

  void trade_through(Locate l, std::int32_t price, std::uint32_t shares) {
    for (std::size_t i = 0; i < own_.size() && shares != 0;) {
      OwnOrder& w = own_[i];
      if (w.locate != l || !(w.side == Side::kBuy ? price < w.price : price > w.price)) {
        ++i;
        continue;
      }
      const Quantity q = std::min(w.leaves, shares);
      shares -= q;
      execute_own(w, q, w.price, 'A');
      if (w.leaves == 0) {
        remove_own(w.user_ref);
        continue;
      }
      ++i;
    }
  }

  // A new day: own orders end with the old one (canceled, as the venue does at the close), the
  // books are reset.
  void new_session() {
    drain_all();
    while (!own_.empty()) {
      const OwnOrder o = own_.front();
      reply(Reply{Reply::Kind::kCanceled, 0, o.user_ref, 0, o.venue_ref, o.price, o.leaves,
                  static_cast<std::uint8_t>(ouch::CancelReason::kClosed), 0});
      remove_own(o.user_ref);
    }
    drain_all();
    orders_.clear();
    for (auto& b : sym_books_) {
      b.bids.clear();
      b.asks.clear();
    }
    std::fill(traded_.begin(), traded_.end(), 0);
    RxMessage m{};
    m.origin_tsc = now_;
    m.kind = 3;
    (void)rx_.try_push(m);
    run_strategy();
  }
  void drain_all() {
    while (!requests_.empty() || !replies_.empty()) {
      if (!requests_.empty() && (replies_.empty() || requests_.front().at <= replies_.front().at)) {
        now_ = std::max(now_, requests_.front().at);
        const Request q = requests_.front();
        requests_.pop_front();
        on_request(q);
      } else {
        now_ = std::max(now_, replies_.front().at);
        const Reply rp = replies_.front();
        replies_.pop_front();
        on_reply(rp);
        run_strategy();
      }
    }
  }

  // ---- results -------------------------------------------------------------------------------
  double mid_of(Locate l) const {
    const strategy::BookView& b = strategy_.book(l);
    return b.two_sided() ? b.mid() * 1e-4 : 0.0;
  }

  void sample_equity(std::uint64_t t) {
    if (!started_ || t == kNever) return;
    if (next_sample_ == 0) next_sample_ = (now_ / c_.bt.equity_interval_ns + 1) * c_.bt.equity_interval_ns;
    if (t < next_sample_) return;
    record_equity(next_sample_);
    next_sample_ = (t / c_.bt.equity_interval_ns + 1) * c_.bt.equity_interval_ns;
  }

  void record_equity(std::uint64_t at) {
    std::size_t i = 0;
    strategy_.for_each_strategy([&](const std::string&, std::string_view, RunState, const strategy::Performance& perf,
                                    double unrealized, std::uint64_t) {
      const strategy::Context& ctx = strategy_.context(i);
      const double net = perf.realized() + unrealized;
      double mid = 0;
      for (Locate l : ctx.symbols()) {
        mid = mid_of(l);
        break;
      }
      r_.equity.push_back(EquityRow{at, static_cast<std::uint8_t>(i), net, net + perf.fees(), perf.fees(),
                                    perf.total_shares(), mid});
      ++i;
    });
  }

  static void series_stats(const std::vector<double>& equity_by_minute, double& sharpe, double& sortino) {
    std::vector<double> d;
    for (std::size_t i = 1; i < equity_by_minute.size(); ++i) d.push_back(equity_by_minute[i] - equity_by_minute[i - 1]);
    sharpe = sortino = 0;
    if (d.size() < 2) return;
    double mean = 0;
    for (double x : d) mean += x;
    mean /= static_cast<double>(d.size());
    double var = 0, down = 0;
    for (double x : d) {
      var += (x - mean) * (x - mean);
      if (x < 0) down += x * x;
    }
    var /= static_cast<double>(d.size() - 1);
    down /= static_cast<double>(d.size());
    sharpe = var > 0 ? mean / std::sqrt(var) : 0;
    sortino = down > 0 ? mean / std::sqrt(down) : 0;
  }

  void finish() {
    drain_all();
    if (feed_constant_count_ != 0)
      r_.feed_latency->record_n(std::max<std::uint64_t>(c_.bt.feed.minimum(), 1), feed_constant_count_);
    feed_constant_count_ = 0;
    record_equity(std::max(now_, r_.last_ns));
    const std::size_t n = strategy_.size();
    std::vector<std::vector<double>> minute(n);  // equity at each minute boundary
    std::vector<double> peak(n, 0), dd(n, 0);
    std::vector<std::uint64_t> last_minute(n, kNever);
    std::map<std::uint64_t, std::vector<double>> total_by_time;  // per sample time: each strategy's
    for (const EquityRow& e : r_.equity) {
      peak[e.strategy] = std::max(peak[e.strategy], e.net_pnl);
      dd[e.strategy] = std::max(dd[e.strategy], peak[e.strategy] - e.net_pnl);
      const std::uint64_t m = e.timestamp / 60'000'000'000ull;
      if (m != last_minute[e.strategy]) {
        minute[e.strategy].push_back(e.net_pnl);
        last_minute[e.strategy] = m;
      } else {
        minute[e.strategy].back() = e.net_pnl;
      }
      auto& at = total_by_time[e.timestamp];
      at.resize(n, 0.0);
      at[e.strategy] = e.net_pnl;
    }
    std::size_t i = 0;
    StrategyResult& tot = r_.total;
    tot.name = "total";
    tot.type = "";
    std::uint64_t filled_orders_num = 0;
    double queue_sum = 0;
    std::uint64_t queue_n = 0;
    strategy_.for_each_strategy([&](const std::string& name, std::string_view type, RunState,
                                    const strategy::Performance& perf, double unrealized, std::uint64_t orders) {
      StrategyResult s;
      s.name = name;
      s.type = std::string(type);
      s.realized = perf.realized();
      s.net_pnl = perf.realized() + unrealized;
      s.fees = perf.fees();
      s.gross_pnl = s.net_pnl + s.fees;
      series_stats(minute[i], s.sharpe, s.sortino);
      s.max_drawdown = dd[i];
      s.win_rate = perf.win_rate();
      s.round_trips = perf.round_trips();
      s.trades = perf.fills();
      s.turnover_usd = perf.volume_usd();
      s.volume_shares = perf.volume_shares();
      s.orders = orders;
      s.fill_ratio = perf.fill_ratio(orders);
      s.cancels = perf.cancels();
      s.rejects = perf.rejects();
      s.position = perf.total_shares();
      s.queue_fills = queue_fills_[i];
      s.avg_time_in_queue_us = queue_fills_[i] != 0 ? queue_sum_ns_[i] / static_cast<double>(queue_fills_[i]) / 1e3 : 0;
      queue_sum += queue_sum_ns_[i];
      queue_n += queue_fills_[i];
      filled_orders_num += static_cast<std::uint64_t>(std::llround(s.fill_ratio * static_cast<double>(orders)));
      tot.net_pnl += s.net_pnl;
      tot.gross_pnl += s.gross_pnl;
      tot.fees += s.fees;
      tot.realized += s.realized;
      tot.trades += s.trades;
      tot.round_trips += s.round_trips;
      tot.turnover_usd += s.turnover_usd;
      tot.volume_shares += s.volume_shares;
      tot.orders += s.orders;
      tot.cancels += s.cancels;
      tot.rejects += s.rejects;
      tot.position += s.position;
      r_.strategies.push_back(std::move(s));
      ++i;
    });
    // Parents of the execution algorithms: shortfall and slippage as the strategy computes them.
    strategy_.for_each_parent([&](const std::string& name, const strategy::Parent& p) {
      for (auto& s : r_.strategies)
        if (s.name == name) {
          std::string sym(p.spec.symbol.data(), 8);
          while (!sym.empty() && (sym.back() == ' ' || sym.back() == '\0')) sym.pop_back();
          s.parents.push_back(StrategyResult::ParentResult{p.id, sym, p.spec.side == Side::kBuy ? 'B' : 'S',
                                                           p.spec.quantity, p.filled, p.avg_price() * 1e-4,
                                                           p.shortfall_bps(), p.slippage_bps()});
        }
    });
    // Total: its own series (sum of the strategies at each sample).
    std::vector<double> tmin;
    std::uint64_t lm = kNever;
    double pk = 0, tdd = 0;
    for (const auto& [t, each] : total_by_time) {
      double v = 0;
      for (double x : each) v += x;
      pk = std::max(pk, v);
      tdd = std::max(tdd, pk - v);
      const std::uint64_t m = t / 60'000'000'000ull;
      if (m != lm) {
        tmin.push_back(v);
        lm = m;
      } else {
        tmin.back() = v;
      }
    }
    series_stats(tmin, tot.sharpe, tot.sortino);
    tot.max_drawdown = tdd;
    std::uint64_t wins = 0;
    for (const auto& s : r_.strategies) wins += static_cast<std::uint64_t>(std::llround(s.win_rate * static_cast<double>(s.round_trips)));
    tot.win_rate = tot.round_trips != 0 ? static_cast<double>(wins) / static_cast<double>(tot.round_trips) : 0;
    tot.fill_ratio = tot.orders != 0 ? static_cast<double>(filled_orders_num) / static_cast<double>(tot.orders) : 0;
    tot.queue_fills = queue_n;
    tot.avg_time_in_queue_us = queue_n != 0 ? queue_sum / static_cast<double>(queue_n) / 1e3 : 0;
    r_.state_hash = hash_;
  }

  // A message on its way to the strategies: its bytes stay in the day's input (mapped or read
  // whole) until the day's events are all done.
  struct Pending {
    std::uint64_t at;
    const std::uint8_t* bytes;
    std::uint8_t length;
  };

  const BacktestConfig& c_;
  std::size_t locates_;
  SymbolTable symbols_;
  risk::ReferencePrices refs_;
  Subscriptions subs_;
  book::BookSet books_;
  oms::OrderManager oms_;
  risk::RiskGate gate_;
  core::SpscRing<RxMessage> rx_;
  core::SpscRing<MdEvent> md_;
  core::SpscRing<BookEvent> book_events_;
  core::SpscRing<OrderIntent> intents_;
  core::SpscRing<ExecReport> reports_;
  core::Histogram h_parse_, h_book_, h_decide_;
  ParseStage parse_;
  BookStage book_;
  StrategyStage strategy_;
  // venue
  std::vector<SymbolBook> sym_books_;
  std::vector<std::uint8_t> traded_;
  std::vector<std::uint32_t> own_count_;
  std::vector<double> mids_;
  std::unordered_map<std::uint64_t, ItchOrder> orders_;
  std::vector<OwnOrder> own_;
  std::vector<std::string> wanted_;
  std::uint64_t seq_ = 0, venue_ref_ = 0;
  // time and queues
  std::uint64_t now_ = 0, last_msg_time_ = 0, sequence_ = 0, rng_ = 1;
  std::uint64_t last_request_ = 0, last_reply_ = 0, next_sample_ = 0;
  bool started_ = false;
  std::deque<Pending> pending_;
  // The strategy stage's next useful tick (timer_due_ns()), recomputed only after the stage ran.
  bool timer_stale_ = true;
  std::uint64_t timer_due_ = 0;
  // A constant feed latency is recorded once at the end (count x value), not per message.
  bool feed_constant_ = false;
  std::uint64_t feed_constant_count_ = 0;
  std::deque<Request> requests_;
  std::deque<Reply> replies_;
  std::vector<double> fee_add_, fee_remove_, queue_sum_ns_;
  std::vector<std::uint64_t> queue_fills_;
  std::uint64_t hash_ = 0;
  Result r_;
};

Result run_bytes(const BacktestConfig& config, std::span<const std::uint8_t> blocks) {
  auto e = std::make_unique<Engine>(config);
  e->memory_ = blocks;
  return e->run({InputFile{}});
}

namespace {

// The books of hftd's book stage receive only the traded stocks' order messages (Engine::delivered):
// their size is the running peak of those stocks' resting orders (A + F - D: E, C and X left out,
// so it never falls short), and the locate range of the whole file.
struct TradedScan {
  std::uint64_t peak = 0;
  std::uint16_t max_locate = 0;
};

TradedScan scan_traded(const std::uint8_t* data, std::size_t size, const std::vector<std::string>& wanted) {
  TradedScan s;
  std::vector<std::uint8_t> traded(1u << 16, 0);
  std::vector<itch::Symbol> keys;
  for (const auto& w : wanted) keys.push_back(itch::Symbol::from(w));
  std::uint64_t live = 0;
  std::size_t off = 0;
  while (size - off >= 2) {
    const std::size_t len = static_cast<std::size_t>(data[off]) << 8 | data[off + 1];
    if (len > size - off - 2) break;
    const std::uint8_t* m = data + off + 2;
    // Each length is found at the end of the message before: the walk waits on every load,
    // so the lines ahead are asked for early (the day is not in the cache: 0.4 s less wall over
    // the 20M-message day, loaded host).
    __builtin_prefetch(m + 1024);
    off += 2 + len;
    if (len == 0 || len != itch::kMessageLength[m[0]]) continue;
    const auto l = static_cast<std::uint16_t>(m[1] << 8 | m[2]);
    s.max_locate = std::max(s.max_locate, l);
    switch (m[0]) {
      case 'R':
        for (const auto& k : keys)
          if (std::memcmp(k.chars.data(), m + 11, 8) == 0) traded[l] = 1;
        break;
      case 'A':
      case 'F':
        if (traded[l] != 0) s.peak = std::max(s.peak, ++live);
        break;
      case 'D':
        if (traded[l] != 0) live -= live != 0;
        break;
      default: break;
    }
  }
  return s;
}

}  // namespace

Result run(const BacktestConfig& config, const std::vector<InputFile>& inputs) {
  if (!config.bt.auto_book) return std::make_unique<Engine>(config)->run(inputs);
  // No [book] in the configuration: the books are sized from a scan of the BinaryFILE inputs (the
  // running peak of the traded stocks' resting orders), not hftd's 8 M orders.
  BacktestConfig sized = config;
  book::BookConfig b{};
  b.orders = 1024;
  b.levels = 1024;
  b.max_locate = 1;
  std::vector<std::string> wanted;
  for (const auto& st : config.hftd.strategies) wanted.insert(wanted.end(), st.symbols.begin(), st.symbols.end());
  // Each file is mapped once, for the scan and the replay, its page tables filled in one call
  // (page faults one by one cost more than the scan itself in a VM).
  std::vector<files::MappedFile> mapped(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const InputFile& in = inputs[i];
    if (in.pcap) return std::make_unique<Engine>(config)->run(inputs);
    files::MappedFile& f = mapped[i];
    try {
      f = files::MappedFile(in.path);
    } catch (const std::exception& e) {
      throw std::runtime_error(e.what());
    }
#ifdef MADV_POPULATE_READ
    if (f.size() != 0) (void)::madvise(const_cast<std::uint8_t*>(f.data()), f.size(), MADV_POPULATE_READ);
#endif
    const TradedScan scan = scan_traded(f.data(), f.size(), wanted);
    const auto orders = static_cast<std::uint32_t>(std::min<std::uint64_t>(scan.peak + 4096, book::kMaxOrders));
    b.orders = std::max(b.orders, orders);
    b.levels = std::max(b.levels, std::min<std::uint32_t>(orders, 1u << 20));  // a level needs an order
    b.max_locate = std::max<std::uint32_t>(b.max_locate, std::max<std::uint16_t>(scan.max_locate, 1));
  }
  sized.hftd.book.orders = b.orders;
  sized.hftd.book.levels = b.levels;
  sized.hftd.book.max_locate = b.max_locate;
  auto e = std::make_unique<Engine>(sized);
  for (const auto& f : mapped) e->premapped_.emplace_back(f.data(), f.size());
  return e->run(inputs);
}

}  // namespace hft::backtest
