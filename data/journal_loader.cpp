#include "data/journal_loader.hpp"

#include <cmath>
#include <sstream>

#include <functional>
#include <span>

#include "gateways/ouch/codec.hpp"

namespace hft::data {
namespace {

using journal::RecordType;

std::string trim(const char* p, std::size_t n) {
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0')) --n;
  return {p, n};
}

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

constexpr std::string_view kIntentNames[] = {"new", "cancel", "replace", "cancel_all"};

}  // namespace

std::string_view reject_reason_name(std::uint16_t code) noexcept {
  static constexpr std::string_view kNames[] = {
      "none",          "max_order_quantity", "max_notional",    "price_band",     "no_reference_price", "position_limit",
      "open_order_limit", "order_rate",      "kill_switch",     "halted",         "not_connected",      "unknown_order",
      "backlog",       "price_collar",       "stale_reference", "symbol_halted",  "fat_finger",         "symbol_notional",
      "duplicate",     "message_rate",       "net_position",    "gross_position", "gross_notional"};
  if (code >= 100) return "venue";
  if (code < std::size(kNames)) return kNames[code];
  return "other";
}

JournalLoader::JournalLoader(Sink& sink, std::size_t batch_rows) : sink_(sink), batch_rows_(batch_rows == 0 ? 1 : batch_rows) {}

void JournalLoader::start_journal(std::string_view instance, std::uint32_t date) {
  if (instance == instance_ && date == date_) return;
  flush();
  instance_ = std::string(instance);
  date_ = date;
  for (std::size_t t = 0; t < kTableCount; ++t) stored_[t] = sink_.max_seq(static_cast<TableId>(t), instance_, date_);
  last_seq_ = 0;
  orders_.clear();
  positions_.clear();
  matches_.clear();
}

std::uint64_t JournalLoader::load(journal::JournalReader& reader) {
  journal::Record r;
  std::uint64_t n = 0;
  while (reader.next(r)) {
    const journal::FileHeader& h = reader.segments()[r.segment].header;
    on_record(r, journal::header_instance(h), h.trading_date);
    ++n;
  }
  flush();
  return n;
}

void JournalLoader::add(TableId t, std::uint64_t seq, std::int64_t ts, Row&& rest) {
  const auto ti = static_cast<std::size_t>(t);
  if (seq <= stored_[ti]) {
    ++stats_.skipped_rows;
    return;
  }
  Row row;
  row.reserve(rest.size() + 4);
  row.emplace_back(instance_);
  row.emplace_back(std::int64_t{date_});
  row.emplace_back(i64(seq));
  row.emplace_back(ts);
  for (Value& v : rest) row.push_back(std::move(v));
  pending_[ti].push_back(std::move(row));
  if (++pending_rows_ >= batch_rows_) flush();
}

void JournalLoader::flush() {
  for (std::size_t t = 0; t < kTableCount; ++t) {
    if (pending_[t].empty()) continue;
    sink_.insert(static_cast<TableId>(t), pending_[t]);
    stats_.rows[t] += pending_[t].size();
    // What is stored now is the new resume point of this table.
    stored_[t] = static_cast<std::uint64_t>(std::get<std::int64_t>(pending_[t].back()[2]));
    pending_[t].clear();
  }
  pending_rows_ = 0;
}

void JournalLoader::book_fill(const journal::Record& r, std::uint32_t user_ref, std::uint32_t qty, std::int64_t price,
                              std::uint64_t match, char liquidity, std::uint64_t soup_seq) {
  if (!matches_.insert({match, user_ref}).second) return;  // a replayed execution: booked once
  const auto it = orders_.find(user_ref);
  const OrderInfo info = it != orders_.end() ? it->second : OrderInfo{};
  const std::uint64_t seq = r.header.sequence;
  const auto ts = i64(r.header.timestamp_ns);
  add(TableId::kFills, seq, ts,
      {info.symbol, std::int64_t{info.strategy}, i64(info.order_id), std::int64_t{user_ref}, std::string(1, info.side),
       std::int64_t{qty}, price, i64(match), std::string(1, liquidity), i64(soup_seq)});
  // Average cost, as the order manager books it: adding to the position adds to its cost; reducing
  // it realizes price - average cost on the shares it closes; the rest opens the other way.
  Position& p = positions_[info.symbol];
  const auto sq = static_cast<std::int64_t>(qty);
  const std::int64_t signed_q = info.side == 'B' ? sq : -sq;
  if (p.position == 0 || (p.position > 0) == (signed_q > 0)) {
    p.cost += signed_q * price;
  } else {
    const std::int64_t held = p.position > 0 ? p.position : -p.position;
    const std::int64_t closed = sq < held ? sq : held;
    const std::int64_t portion = (p.cost / held) * closed + (p.cost % held) * closed / held;
    p.realized += (p.position > 0 ? closed * price : -closed * price) - portion;
    p.cost -= portion;
    if (closed == held) p.cost = 0;
    if (sq > closed) p.cost = (signed_q > 0 ? 1 : -1) * (sq - closed) * price;
  }
  p.position += signed_q;
  p.cash -= signed_q * price;
  ++p.fills;
  p.shares += qty;
  add(TableId::kPositions, seq, ts,
      {info.symbol, p.position, p.cash, p.realized, i64(p.fills), i64(p.shares)});
}

namespace {

// Venue messages (OUCH outbound) as rows; the rest is ignored.
struct Received {
  std::function<void(const ouch::OrderExecuted&)> on_exec;
  std::function<void(std::string_view, std::uint32_t, std::uint32_t, std::uint32_t, std::int64_t, std::int64_t)> on_event;
  void on_message(const ouch::OrderAccepted& m) { on_event("accepted", m.user_ref_num, 0, m.quantity, m.price, 0); }
  void on_message(const ouch::OrderReplaced& m) {
    on_event("replaced", m.user_ref_num, m.orig_user_ref_num, m.quantity, m.price, 0);
  }
  void on_message(const ouch::OrderCanceled& m) {
    on_event("canceled", m.user_ref_num, 0, m.quantity, 0, static_cast<std::int64_t>(static_cast<char>(m.reason)));
  }
  void on_message(const ouch::OrderRejected& m) {
    on_event("rejected", m.user_ref_num, 0, 0, 0, static_cast<std::int64_t>(m.reason));
  }
  void on_message(const ouch::OrderExecuted& m) { on_exec(m); }
  template <class T>
  void on_message(const T&) {}
};

// Orders hftd sent (OUCH inbound): what a UserRefNum is, when no intent said it (recovery).
struct Sent {
  std::function<void(std::uint32_t, std::uint32_t, const std::string&, char, std::int64_t)> on_order;
  void on_message(const ouch::EnterOrder& m) {
    on_order(m.user_ref_num, 0, std::string(m.symbol.view()), static_cast<char>(m.side), m.price);
  }
  void on_message(const ouch::ReplaceOrder& m) { on_order(m.user_ref_num, m.orig_user_ref_num, "", 0, m.price); }
  template <class T>
  void on_message(const T&) {}
};

}  // namespace

void JournalLoader::on_record(const journal::Record& r, std::string_view instance, std::uint32_t trading_date) {
  start_journal(instance, trading_date);
  const std::uint64_t seq = r.header.sequence;
  if (seq <= last_seq_) return;  // a follower's second pass over records it has seen
  last_seq_ = seq;
  ++stats_.records;
  const auto ts = i64(r.header.timestamp_ns);
  switch (r.header.type) {
    case RecordType::kIntent: {
      journal::IntentPayload p{};
      if (!r.get(p)) break;
      const std::string sym = trim(p.symbol, sizeof p.symbol);
      const char side = p.side == 0 ? 'B' : 'S';
      if (p.intent_type == 0 || p.intent_type == 2)
        orders_[p.user_ref_num] = OrderInfo{sym, p.order_id, p.strategy, side, p.price};
      add(TableId::kOrders, seq, ts,
          {sym, std::string(p.intent_type < 4 ? kIntentNames[p.intent_type] : "?"), std::int64_t{p.strategy}, i64(p.order_id),
           std::int64_t{p.user_ref_num}, std::int64_t{p.orig_user_ref_num}, std::string(1, side), p.price,
           std::int64_t{p.quantity}, std::string(p.tif == 0 ? "day" : "ioc"), std::int64_t{0}});
      break;
    }
    case RecordType::kRiskRefusal: {
      journal::RefusalPayload p{};
      if (!r.get(p)) break;
      add(TableId::kRiskEvents, seq, ts,
          {trim(p.intent.symbol, sizeof p.intent.symbol), std::string("refusal"), std::int64_t{p.reason},
           std::string(reject_reason_name(p.reason)), std::int64_t{p.intent.strategy}, std::string(p.intent.side == 0 ? "B" : "S"),
           p.intent.price, std::int64_t{p.intent.quantity}, std::string()});
      break;
    }
    case RecordType::kCommand: {
      journal::BlobPayload head{};
      std::span<const std::uint8_t> bytes;
      if (!r.blob(head, bytes)) break;
      std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      std::string verb = text.substr(0, text.find(' '));
      if (strategy_note(seq, ts, text)) break;
      add(TableId::kRiskEvents, seq, ts,
          {std::string(), std::string("command"), std::int64_t{0}, std::move(verb), std::int64_t{0}, std::string(), std::int64_t{0},
           std::int64_t{0}, std::move(text)});
      break;
    }
    case RecordType::kOuchSent: {
      journal::BlobPayload head{};
      std::span<const std::uint8_t> bytes;
      if (!r.blob(head, bytes)) break;
      Sent s{[&](std::uint32_t ref, std::uint32_t orig, const std::string& sym, char side, std::int64_t price) {
        if (orders_.contains(ref)) return;  // the intent said it, with the strategy and order id
        if (orig != 0) {
          const auto o = orders_.find(orig);
          if (o == orders_.end()) return;
          OrderInfo info = o->second;
          info.price = price;
          orders_[ref] = std::move(info);
        } else {
          orders_[ref] = OrderInfo{sym, 0, 0, side, price};
        }
      }};
      (void)ouch::decode_inbound(bytes.data(), bytes.size(), s);
      break;
    }
    case RecordType::kOuchReceived: {
      journal::BlobPayload head{};
      std::span<const std::uint8_t> bytes;
      if (!r.blob(head, bytes)) break;
      Received rc{
                  [&](const ouch::OrderExecuted& m) {
                    book_fill(r, m.user_ref_num, m.quantity, m.price, m.match_number, m.liquidity_flag, head.soup_sequence);
                  },
                  [&](std::string_view event, std::uint32_t ref, std::uint32_t orig, std::uint32_t qty, std::int64_t price,
                      std::int64_t reason) {
                    const auto it = orders_.find(ref);
                    const OrderInfo info = it != orders_.end() ? it->second : OrderInfo{};
                    add(TableId::kOrders, seq, ts,
                        {info.symbol, std::string(event), std::int64_t{info.strategy}, i64(info.order_id), std::int64_t{ref},
                         std::int64_t{orig}, std::string(1, info.side), price, std::int64_t{qty}, std::string(), reason});
                    if (event == "rejected")
                      add(TableId::kRiskEvents, seq, ts,
                          {info.symbol, std::string("venue_reject"), reason, std::string("venue"), std::int64_t{info.strategy},
                           std::string(1, info.side), info.price, std::int64_t{0}, std::string()});
                  }};
      (void)ouch::decode_outbound(bytes.data(), bytes.size(), rc);
      break;
    }
    case RecordType::kSessionState:
    case RecordType::kWriterOpened:
      break;
  }
}

// hftd's notes about strategies (pipeline/control/control_plane.hpp): "strategy start|stop|pause
// NAME = answer", "strategy set NAME k=v = answer" and "snapshot NAME STATE REALIZED UNREALIZED
// FEES FILLS POSITION" become hft_strategies rows, "signal NAME SIGNAL VALUE" an hft_signals row
// (name "NAME.SIGNAL", value x 10,000). False for any other text.
bool JournalLoader::strategy_note(std::uint64_t seq, std::int64_t ts, const std::string& text) {
  std::istringstream in(text);
  std::string word, name;
  in >> word >> name;
  const auto money = [](double usd) { return static_cast<std::int64_t>(std::llround(usd * 1e4)); };
  if (word == "snapshot") {
    std::string state;
    double realized = 0, unrealized = 0, fees = 0;
    std::uint64_t fills = 0;
    std::int64_t position = 0;
    if (!(in >> state >> realized >> unrealized >> fees >> fills >> position)) return false;
    add(TableId::kStrategies, seq, ts,
        {std::string(), std::int64_t{0}, std::move(name), std::move(state), std::string("snapshot"), money(realized),
         money(unrealized), money(fees), static_cast<std::int64_t>(fills), position});
    return true;
  }
  if (word == "signal") {
    std::string signal;
    double value = 0;
    if (!(in >> signal >> value)) return false;
    add(TableId::kSignals, seq, ts, {std::string(), std::int64_t{0}, name + "." + signal, money(value)});
    return true;
  }
  if (word != "strategy") return false;
  const std::string verb = name;
  in >> name;
  std::string state = verb == "start" ? "running" : verb == "stop" ? "stopped" : verb == "pause" ? "paused" : "";
  if (verb == "set") in >> state;  // the assignment
  if (name.empty() || state.empty()) return false;
  add(TableId::kStrategies, seq, ts,
      {std::string(), std::int64_t{0}, std::move(name), std::move(state), verb, std::int64_t{0}, std::int64_t{0}, std::int64_t{0},
       std::int64_t{0}, std::int64_t{0}});
  return true;
}

}  // namespace hft::data
