#include "data/api/service.hpp"

#include <ctime>
#include <deque>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/journal_loader.hpp"
#include "data/sink.hpp"
#include "pipeline/control/control_file.hpp"
#include "pipeline/control/json.hpp"
#include "pipeline/control/snapshot.hpp"

namespace hft::data::api {
namespace {

using nlohmann::json;

std::string_view event_type(TableId t) {
  switch (t) {
    case TableId::kOrders: return "order";
    case TableId::kFills: return "fill";
    case TableId::kPositions: return "position";
    case TableId::kRiskEvents: return "risk_event";
    case TableId::kStrategies: return "strategy";
    case TableId::kSignals: return "signal";
    case TableId::kMarketTicks: return "tick";
  }
  return "?";
}

json row_json(TableId t, const Row& row) {
  const Table& tab = table(t);
  json j;
  for (std::size_t i = 0; i < row.size() && i < tab.columns.size(); ++i) {
    const std::string name(tab.columns[i].name);
    std::visit([&](const auto& v) { j[name] = v; }, row[i]);
  }
  return j;
}

// A Sink that keeps the last rows of each table in memory and publishes each new row as an event.
class EventSink final : public Sink {
 public:
  EventSink(Server& server, std::size_t keep) : server_(server), keep_(keep) {}
  void create_schema() override {}
  std::uint64_t max_seq(TableId, std::string_view, std::uint32_t) override { return 0; }
  void insert(TableId t, std::span<const Row> rows) override {
    auto& recent = recent_[static_cast<std::size_t>(t)];
    for (const Row& r : rows) {
      json j = row_json(t, r);
      if (live_) {
        json ev = j;
        ev["type"] = event_type(t);
        batch_.push_back(std::move(ev));
      }
      recent.push_back(std::move(j));
      if (recent.size() > keep_) recent.pop_front();
    }
  }
  std::int64_t query_int(const std::string&) override { return 0; }
  std::string_view kind() const noexcept override { return "events"; }

  std::string recent(TableId t, std::optional<int> strategy) const {
    json a = json::array();
    for (const json& j : recent_[static_cast<std::size_t>(t)])
      if (!strategy || (j.contains("strategy") && j["strategy"].get<int>() == *strategy)) a.push_back(j);
    return a.dump() + "\n";
  }
  void set_live(bool live) { live_ = live; }
  // One message for what one poll of the journal found: {"type":"events","events":[...]}.
  void publish() {
    if (batch_.empty()) return;
    server_.broadcast(json{{"type", "events"}, {"events", std::move(batch_)}}.dump());
    batch_ = json::array();
  }

 private:
  Server& server_;
  std::size_t keep_;
  bool live_ = false;  // the first pass over an existing journal fills the history without events
  std::deque<json> recent_[kTableCount];
  json batch_ = json::array();
};

class ControlBackend final : public Backend {
 public:
  ControlBackend(std::string instance, std::string dir) : instance_(std::move(instance)), dir_(std::move(dir)) {}
  void set_events(EventSink* events) { events_ = events; }

  std::string status_json() override { return control::status_json(snapshot(false)); }
  std::string latency_json() override { return control::histograms_json(snapshot(true), {}); }
  std::string positions_json() override { return control::positions_json(snapshot(false)); }
  std::optional<std::string> recent_json(std::string_view table, std::optional<int> strategy) override {
    if (events_ == nullptr) return std::nullopt;
    const TableId t = table == "orders" ? TableId::kOrders : table == "fills" ? TableId::kFills : TableId::kRiskEvents;
    return events_->recent(t, strategy);
  }
  // Commands run on the server's command thread (server.cpp), with a reader of their own, so a
  // command waiting up to 2 s for hftd's answer never holds up the other clients' reads.
  bool command(std::string_view verb, std::string& message) override {
    using control::CommandOp;
    const CommandOp op = verb == "kill" ? CommandOp::kKill
                         : verb == "unkill" ? CommandOp::kUnkill
                         : verb == "halt" ? CommandOp::kHalt
                         : verb == "resume" ? CommandOp::kResume
                                            : CommandOp::kFlatten;
    return send(op, {}, {}, message);
  }
  std::string strategies_json() override { return control::strategies_json(reader().strategies()); }
  std::string algos_json() override { return control::algos_json(reader().algos()); }
  bool strategy_command(std::string_view verb, std::string_view name, std::string& message) override {
    return send(verb == "start" ? control::CommandOp::kStrategyStart : control::CommandOp::kStrategyStop, std::string(name), {},
                message);
  }
  bool place_order(const ManualOrder& o, std::string& message) override {
    return send(control::CommandOp::kOrderNew, o.symbol,
                fmt::format("{} {} {} {}", o.buy ? "buy" : "sell", o.quantity, o.price, o.ioc ? "ioc" : "day"), message);
  }
  bool cancel_order(std::uint64_t id, std::string& message) override {
    return send(control::CommandOp::kOrderCancel, std::to_string(id), {}, message);
  }
  bool start_algo(const AlgoStart& a, std::string& message) override {
    // As `hftctl algo start` sends it: SYMBOL SIDE QTY DURATION_MS DELAY_MS LIMIT MAXPART.
    return send(control::CommandOp::kAlgoStart, a.algo,
                fmt::format("{} {} {} {} 0 {} {}", a.symbol, a.buy ? "buy" : "sell", a.quantity, a.duration_ms, a.limit_price,
                            a.max_participation),
                message);
  }

 private:
  static control::ControlReader& attach(std::unique_ptr<control::ControlReader>& r, const std::string& instance,
                                        const std::string& dir) {
    if (r == nullptr || !r->alive()) {
      r.reset();
      try {
        r = std::make_unique<control::ControlReader>(instance, dir);
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string("hftd is not running: ") + e.what());
      }
    }
    return *r;
  }
  control::ControlReader& reader() { return attach(reader_, instance_, dir_); }
  bool send(control::CommandOp op, const std::string& key, const std::string& value, std::string& message) {
    const control::CommandResult r = attach(command_reader_, instance_, dir_).command(op, key, value, 2000);
    message = r.message;
    return r.ok;
  }
  control::Snapshot snapshot(bool histograms) { return control::take_snapshot(reader(), histograms); }

  std::string instance_, dir_;
  std::unique_ptr<control::ControlReader> reader_;          // the server thread's
  std::unique_ptr<control::ControlReader> command_reader_;  // the command thread's
  EventSink* events_ = nullptr;
};

std::uint32_t today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  return static_cast<std::uint32_t>((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

}  // namespace

void serve(const ServeOptions& o, const std::atomic<bool>& stop, const std::function<void(std::uint16_t)>& on_listening,
           const std::function<void(const ServerStats&)>& on_stopped) {
  const std::string token = read_token_file(o.token_file);
  ControlBackend backend(o.instance, o.control_dir);
  Router router(backend, token);
  Server server(o.server, router);
  std::unique_ptr<EventSink> events;
  std::unique_ptr<JournalLoader> loader;
  if (!o.journal_dir.empty()) {
    events = std::make_unique<EventSink>(server, 500);
    loader = std::make_unique<JournalLoader>(*events, 1);
    backend.set_events(events.get());
    const std::uint32_t day = o.date.value_or(today());
    server.every(o.journal_poll_ms, [&, day] {
      journal::JournalReader reader = journal::JournalReader::open_dir(o.journal_dir, o.instance, day);
      loader->load(reader);
      events->publish();
      events->set_live(true);
    });
  }
  server.every(1000, [&] {
    for (const char* kind : {"status", "latency", "strategies"}) {
      try {
        const std::string_view k(kind);
        json j = json::parse(k == "status" ? backend.status_json() : k == "latency" ? backend.latency_json() : backend.strategies_json());
        if (k == "strategies") j["algos"] = json::parse(backend.algos_json())["algos"];
        j["type"] = kind;
        server.broadcast(j.dump());
      } catch (const std::exception& e) {
        server.broadcast(json{{"type", "status"}, {"up", false}, {"error", e.what()}}.dump());
        break;
      }
    }
  });
  on_listening(server.port());
  server.run(stop);
  if (on_stopped) on_stopped(server.stats());
}

}  // namespace hft::data::api
