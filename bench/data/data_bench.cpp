// Data and access (docs/data.md), each against a baseline in the same run:
//  * journal rows loaded per second into SQLite and into ClickHouse (a private clickhouse-server
//    on loopback, skipped when not installed); baseline: the loader deriving the same rows into a
//    sink that keeps nothing (the cost of reading and deriving alone);
//  * REST round trip of GET /api/v1/hft/status over loopback at 1,000 requests per second
//    (keep-alive), p50/p99; baseline: the same route called in-process (no network);
//  * WebSocket fan-out of events at 1,000 per second to 10 clients, p50/p99 from broadcast to
//    receipt; baseline: 1 client.
//
//   build/release/bin/bench_data
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>

#include "bench/support/bench_main.hpp"
#include "data/api/server.hpp"
#include "data/journal_loader.hpp"
#include "data/sink.hpp"
#include "gateways/ouch/codec.hpp"
#include "pipeline/control/json.hpp"
#include "pipeline/control/snapshot.hpp"
#include "pipeline/journal/writer.hpp"
#include "tests/support/clickhouse_server.hpp"

namespace {

using namespace hft;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kRecords = 40000;  // half intents, half executions: 1.5 rows per record

fs::path work_dir() {
  static const fs::path d = [] {
    const fs::path p = fs::temp_directory_path() / fmt::format("hft_data_bench_{}", ::getpid());
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return d;
}

// A journal of kRecords: intents for new orders and an execution of each.
const std::vector<std::string>& journal_files() {
  static const std::vector<std::string> files = [] {
    const fs::path dir = work_dir() / "journal";
    journal::JournalConfig c;
    c.dir = dir.string();
    c.segment_bytes = 64ull << 20;
    (void)journal::parse_sync_policy("none", c.sync);
    c.flusher_cpu = -1;
    {
      journal::JournalWriter w(c, "bench", 20240607);
      static constexpr const char* kSymbols[] = {"AAA     ", "BBB     ", "CCC     ", "DDD     "};
      std::uint8_t buf[256];
      for (int i = 0; i < kRecords / 2; ++i) {
        journal::IntentPayload p{};
        p.order_id = static_cast<std::uint64_t>(i + 1);
        p.user_ref_num = static_cast<std::uint32_t>(i + 1);
        p.price = 1'000'000 + (i % 50) * 100;
        p.quantity = 100;
        p.side = static_cast<std::uint8_t>(i % 2);
        std::memcpy(p.symbol, kSymbols[i % 4], 8);
        while (w.append(p, static_cast<std::uint64_t>(i)) == journal::AppendStatus::kNotReady) std::this_thread::yield();
        ouch::OrderExecuted e;
        e.user_ref_num = p.user_ref_num;
        e.quantity = 100;
        e.price = p.price;
        e.match_number = static_cast<std::uint64_t>(i + 1);
        const std::size_t n = ouch::encode(buf, sizeof buf, e);
        while (w.append_received(static_cast<std::uint64_t>(i + 1), {buf, n}, static_cast<std::uint64_t>(i)) ==
               journal::AppendStatus::kNotReady)
          std::this_thread::yield();
      }
      w.close();
    }
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }();
  return files;
}

class NullSink final : public data::Sink {
 public:
  void create_schema() override {}
  std::uint64_t max_seq(data::TableId, std::string_view, std::uint32_t) override { return 0; }
  void insert(data::TableId, std::span<const data::Row> rows) override { kept += rows.size(); }
  std::int64_t query_int(const std::string&) override { return 0; }
  std::string_view kind() const noexcept override { return "null"; }
  std::size_t kept = 0;
};

void load(benchmark::State& state, const std::function<std::unique_ptr<data::Sink>(int)>& open) {
  const auto& files = journal_files();
  static int round = 0;  // a fresh file or database each run: loading into the last one would add nothing (idempotent)
  std::uint64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto sink = open(++round);
    if (!sink) {
      state.SkipWithError("clickhouse-server is not installed");
      return;
    }
    sink->create_schema();
    auto reader = journal::JournalReader::open(files);
    state.ResumeTiming();
    data::JournalLoader loader(*sink, 5000);
    loader.load(reader);
    rows = loader.stats().total_rows();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows) * state.iterations());
  state.counters["rows"] = static_cast<double>(rows);
}

void BM_LoadNull(benchmark::State& state) {
  load(state, [](int) { return std::make_unique<NullSink>(); });
}
void BM_LoadSqlite(benchmark::State& state) {
  load(state, [](int round) { return data::open_sqlite((work_dir() / fmt::format("load{}.db", round)).string()); });
}
void BM_LoadClickHouse(benchmark::State& state) {
  static std::unique_ptr<testing::ClickHouseServer> server;
  if (!server) server = std::make_unique<testing::ClickHouseServer>(work_dir() / "clickhouse");
  load(state, [&](int round) -> std::unique_ptr<data::Sink> {
    if (!server->available()) return nullptr;
    return data::open_clickhouse(fmt::format("http://127.0.0.1:{}/?database=bench{}_{}", server->http_port(), ::getpid(), round));
  });
}

// ---- API ----------------------------------------------------------------------------------------

class FixedBackend final : public data::api::Backend {
 public:
  FixedBackend() {
    control::Snapshot s;
    status_ = control::status_json(s);
  }
  std::string status_json() override { return status_; }
  std::string latency_json() override { return status_; }
  std::string positions_json() override { return "{\"positions\":[]}\n"; }
  std::optional<std::string> recent_json(std::string_view, std::optional<int>) override { return "[]\n"; }
  bool command(std::string_view, std::string& m) override {
    m = "ok";
    return true;
  }

 private:
  std::string status_;
};

struct RunningServer {
  explicit RunningServer(data::api::Router& router) {
    data::api::ServerConfig c;
    c.port = 0;
    c.rate_per_second = 1e9;
    c.burst = 1e9;
    server = std::make_unique<data::api::Server>(c, router);
    thread = std::thread([this] { server->run(stop); });
  }
  ~RunningServer() {
    stop = true;
    thread.join();
  }
  std::atomic<bool> stop{false};
  std::unique_ptr<data::api::Server> server;
  std::thread thread;
};

void percentiles(benchmark::State& state, std::vector<double>& ns) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  state.counters["p50_us"] = ns[ns.size() / 2] / 1e3;
  state.counters["p99_us"] = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)] / 1e3;
}

void BM_ApiRestLoopback(benchmark::State& state) {
  FixedBackend backend;
  data::api::Router router(backend, "bench-token-0123456789");
  RunningServer srv(router);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(srv.server->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    state.SkipWithError("connect failed");
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = "GET /api/v1/hft/status HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<double> ns;
  char buf[65536];
  for (auto _ : state) {
    // 1,000 requests at 1,000 per second.
    const auto start = Clock::now();
    for (int i = 0; i < 1000; ++i) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(i));
      const auto t0 = Clock::now();
      if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) break;
      std::string resp;
      std::size_t want = std::string::npos;
      while (resp.size() < want) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        resp.append(buf, static_cast<std::size_t>(n));
        const std::size_t head = resp.find("\r\n\r\n");
        const std::size_t cl = resp.find("Content-Length: ");
        if (head != std::string::npos && cl != std::string::npos) want = head + 4 + std::stoul(resp.substr(cl + 16));
      }
      ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
    }
  }
  ::close(fd);
  percentiles(state, ns);
  state.SetItemsProcessed(static_cast<std::int64_t>(ns.size()));
}

void BM_ApiRouteInProcess(benchmark::State& state) {
  FixedBackend backend;
  data::api::Router router(backend, "bench-token-0123456789");
  const data::api::Request r{"GET", "/api/v1/hft/status", "", ""};
  std::vector<double> ns;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      const auto t0 = Clock::now();
      benchmark::DoNotOptimize(router.handle(r));
      ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
    }
  }
  percentiles(state, ns);
}

void fanout(benchmark::State& state, int clients) {
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  namespace asio = boost::asio;
  FixedBackend backend;
  const std::string token = "bench-token-0123456789";
  data::api::Router router(backend, token);
  RunningServer srv(router);
  std::mutex mu;
  std::vector<double> ns;
  std::atomic<int> connected{0};
  constexpr int kEvents = 1000;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      asio::io_context io;
      websocket::stream<asio::ip::tcp::socket> ws(io);
      ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), srv.server->port()});
      ws.handshake("127.0.0.1", "/ws/hft?token=" + token);
      ++connected;
      std::vector<double> mine;
      for (int i = 0; i < kEvents; ++i) {
        beast::flat_buffer b;
        ws.read(b);
        const std::string m = beast::buffers_to_string(b.data());
        const auto sent = std::stoll(m.substr(m.find(':') + 1));
        mine.push_back(static_cast<double>(Clock::now().time_since_epoch().count() - sent));
      }
      std::lock_guard lock(mu);
      ns.insert(ns.end(), mine.begin(), mine.end());
    });
  }
  while (connected.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // every client registered by the server thread
  for (auto _ : state) {
    const auto start = Clock::now();
    for (int i = 0; i < kEvents; ++i) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(i));
      // ~200 bytes, like an order event.
      srv.server->broadcast(fmt::format("{{\"t\":{},\"type\":\"order\",\"symbol\":\"AAA\",\"event\":\"replace\",\"side\":\"B\","
                                        "\"price\":1234500,\"quantity\":100,\"strategy\":1,\"order_id\":42,\"user_ref_num\":1001,"
                                        "\"pad\":\"................................................\"}}",
                                        Clock::now().time_since_epoch().count()));
    }
  }
  for (auto& t : threads) t.join();
  percentiles(state, ns);
  state.counters["deliveries"] = static_cast<double>(ns.size());
}

void BM_Fanout10(benchmark::State& state) { fanout(state, 10); }
void BM_Fanout1(benchmark::State& state) { fanout(state, 1); }

}  // namespace

BENCHMARK(BM_LoadNull)->Name("load/null_sink")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadSqlite)->Name("load/sqlite")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadClickHouse)->Name("load/clickhouse")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ApiRouteInProcess)->Name("api/status_in_process")->Iterations(1)->UseRealTime();
BENCHMARK(BM_ApiRestLoopback)->Name("api/status_loopback_1000rps")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fanout1)->Name("ws/fanout_1_client_1000eps")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fanout10)->Name("ws/fanout_10_clients_1000eps")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

namespace {
void summarize(const hft::bench::Results& r) {
  auto get = [&](const char* n) -> const hft::bench::Result* {
    const auto it = r.find(n);
    return it == r.end() ? nullptr : &it->second;
  };
  fmt::print("\n== data and access (medians of repetitions) ==\n");
  for (const char* n : {"load/null_sink", "load/sqlite", "load/clickhouse"})
    if (const auto* x = get(n)) fmt::print("{:32} {:>12.0f} rows/s ({} rows)\n", n, x->counter("items_per_second"), x->counter("rows"));
  for (const char* n : {"api/status_in_process", "api/status_loopback_1000rps", "ws/fanout_1_client_1000eps", "ws/fanout_10_clients_1000eps"})
    if (const auto* x = get(n)) fmt::print("{:32} p50 {:8.1f} us  p99 {:8.1f} us\n", n, x->counter("p50_us"), x->counter("p99_us"));
}
}  // namespace

int main(int argc, char** argv) { return hft::bench::run(argc, argv, summarize); }
