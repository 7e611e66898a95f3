// Issue 14: two hft-exchange processes trading the same symbols, the second following the first's
// fair values with a lag (venue/lead.hpp). Checked from outside, with the project's own decoders:
//  * the follower's fair values are the leader's from L ms earlier (both lead channels are
//    subscribed to by the test; a check that an independent walk, or a copy without the lag,
//    fails);
//  * both captures, rebuilt into books, give each symbol's best bid and ask over time; one
//    venue's bid rises above the other's ask (a cross-venue opportunity) now and then;
//  * a follower whose leader is absent trades on its own walk, and keeps trading when its
//    leader goes away.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateways/files/binary_file.hpp"
#include "gateways/itch/decoder.hpp"
#include "net/socket.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "tests/tools/hft_exchange/process.hpp"
#include "venue/lead.hpp"

namespace hft::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A subscriber of a lead channel: every 'V' record, as (time, value) per symbol.
struct LeadTap {
  net::Fd fd;
  venue::LeadParser parser;
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::int64_t>>> values;
  std::string venue;

  explicit LeadTap(std::uint16_t port) {
    fd = net::tcp_connect(net::parse_endpoint("127.0.0.1:" + std::to_string(port)), 5000);
  }
  void poll(int timeout_ms) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    std::uint8_t buf[8192];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    parser.feed(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)), [&](const venue::LeadRecord& r) {
      if (r.type == 'H') {
        venue = std::string(r.symbol.view());
      } else {
        values[std::string(r.symbol.view())].emplace_back(r.time_ns, r.fair);
      }
    });
  }
};

// Best bid and ask of every symbol over a capture, each time they change.
struct Top {
  std::uint64_t ts;
  std::uint16_t locate;
  std::uint32_t bid, ask;
};

std::vector<Top> tops(const fs::path& capture) {
  files::MappedFile file(capture.string());
  book::BookConfig bc;
  bc.orders = 1 << 20;
  bc.levels = 1 << 16;
  book::BookSet books(bc);
  book::NullSink sink;
  book::ItchBookHandler<book::NullSink> handler(books, sink);
  std::vector<Top> out;
  std::map<std::uint16_t, std::pair<std::uint32_t, std::uint32_t>> last;
  const std::uint8_t* p = file.data();
  std::size_t pos = 0;
  while (pos + 2 <= file.size()) {
    const std::size_t n = static_cast<std::size_t>(p[pos]) << 8 | p[pos + 1];
    if (n == 0 || pos + 2 + n > file.size()) break;
    const std::uint8_t* m = p + pos + 2;
    pos += 2 + n;
    itch::decode_message(m, n, handler);
    if (n < 11 || (m[0] != 'A' && m[0] != 'F' && m[0] != 'E' && m[0] != 'C' && m[0] != 'X' && m[0] != 'D' && m[0] != 'U'))
      continue;
    const std::uint16_t locate = static_cast<std::uint16_t>(m[1] << 8 | m[2]);
    std::uint64_t ts = 0;
    for (int i = 5; i < 11; ++i) ts = ts << 8 | m[i];
    const book::Level bid = books.best(locate, book::Side::kBid), ask = books.best(locate, book::Side::kAsk);
    auto& l = last[locate];
    if (l.first == bid.price && l.second == ask.price) continue;
    l = {bid.price, ask.price};
    out.push_back({ts, locate, bid.price, ask.price});
  }
  return out;
}

class LeadLag : public ::testing::Test {
 protected:
  void SetUp() override {
    exe_ = program_path("hft-exchange");
    ASSERT_TRUE(fs::exists(exe_)) << exe_ << " not found: build the hft-exchange target";
    dir_ = fs::temp_directory_path() / ("hft_leadlag_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "fast.toml") << "shutdown_linger_ms = 500\n[feed]\nheartbeat_interval_ms = 50\n";
    // The feeds go to sockets nobody reads (the captures are what the test decodes).
    sink_ = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::vector<std::string> venue_args(const std::string& name, std::uint16_t ouch, const std::string& extra_seed) {
    return {exe_.string(),  "--config",  (dir_ / "fast.toml").string(), "--venue", name, "--feed",
            "127.0.0.1:" + std::to_string(net::local_endpoint(sink_.get()).port()), "--rerequest", "127.0.0.1:0",
            "--ouch",       "127.0.0.1:" + std::to_string(ouch), "--stocks", "4", "--rate", "20000", "--seed", extra_seed,
            "--capture",    (dir_ / (name + ".itch")).string(), "--duration", "0"};
  }
  fs::path exe_, dir_;
  net::Fd sink_;
};

TEST_F(LeadLag, TheFollowerTradesAroundTheLeadersPriceFromLMsEarlierAndVenuesCross) {
  constexpr std::uint64_t kLagMs = 50;
  const std::uint16_t lead_port = free_port(), follower_lead_port = free_port();
  std::vector<std::string> la = venue_args("NASDAQ", free_port(), "1");
  la.insert(la.end(), {"--lead-listen", "127.0.0.1:" + std::to_string(lead_port), "--fee-remove", "0.003"});
  Process leader(la, dir_ / "leader.txt");
  ASSERT_TRUE(leader.await_output("background flow", 30000ms)) << leader.output();
  LeadTap leader_tap(lead_port);
  std::vector<std::string> fa = venue_args("BX", free_port(), "2");
  fa.insert(fa.end(), {"--follow", "127.0.0.1:" + std::to_string(lead_port), "--lag-ms", std::to_string(kLagMs),
                       "--lead-listen", "127.0.0.1:" + std::to_string(follower_lead_port)});
  Process follower(fa, dir_ / "follower.txt");
  ASSERT_TRUE(follower.await_output("background flow", 30000ms)) << follower.output();
  LeadTap follower_tap(follower_lead_port);
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    leader_tap.poll(1);
    follower_tap.poll(1);
  }
  follower.signal(SIGTERM);
  leader.signal(SIGTERM);
  ASSERT_EQ(follower.finish(10000ms), 0) << follower.output();
  ASSERT_EQ(leader.finish(10000ms), 0) << leader.output();
  EXPECT_EQ(leader_tap.venue, "NASDAQ");
  EXPECT_EQ(follower_tap.venue, "BX");
  EXPECT_NE(follower.output().find("venue BX (MPID BXXX)"), std::string::npos) << follower.output();
  EXPECT_NE(follower.output().find("follow: leader 127.0.0.1:" + std::to_string(lead_port) + " is venue NASDAQ"),
            std::string::npos)
      << follower.output();

  // 1. Fair values: each value the follower took (noise 0) is one the leader published
  //    between L + 40 ms and L ms before (delivery and a loop pass on a loaded host). Without the
  //    lag (the same window ending now) most are not: the leader published it L ms ago and has
  //    mostly not come back to it since. A copy without the lag would fail the first count, an
  //    independent walk both.
  const std::uint64_t lag = kLagMs * 1'000'000, slack = 40'000'000;
  std::size_t checked = 0, lagged = 0, unlagged = 0;
  for (const auto& [symbol, fv] : follower_tap.values) {
    const auto& lv = leader_tap.values[symbol];
    ASSERT_FALSE(lv.empty()) << symbol;
    // The follower's snapshot at the test's connect and its own walk before its first value:
    // from 300 ms after its first record on.
    const std::uint64_t from = fv.front().first + 300'000'000;
    std::int64_t previous = -1;
    for (const auto& [t, v] : fv) {
      if (t < from || v == previous) {
        previous = v;
        continue;
      }
      previous = v;
      ++checked;
      const auto published_in = [&](std::uint64_t lo, std::uint64_t hi) {
        return std::any_of(lv.begin(), lv.end(), [&](const auto& r) { return r.first >= lo && r.first <= hi && r.second == v; });
      };
      if (published_in(t - lag - slack, t - lag)) ++lagged;
      if (published_in(t - slack, t)) ++unlagged;
    }
  }
  ASSERT_GE(checked, 20u) << "too few fair value changes to judge";
  EXPECT_GE(static_cast<double>(lagged), 0.9 * static_cast<double>(checked))
      << lagged << " of " << checked << " follower values were the leader's from " << kLagMs << " ms before";
  EXPECT_LE(static_cast<double>(unlagged), 0.5 * static_cast<double>(checked)) << unlagged << " of " << checked;

  // 2. Both captures rebuilt into books: one venue's bid above the other's ask, now and then.
  const std::vector<Top> lt = tops(dir_ / "NASDAQ.itch"), ft = tops(dir_ / "BX.itch");
  ASSERT_GT(lt.size(), 100u);
  ASSERT_GT(ft.size(), 100u);
  std::vector<std::pair<Top, int>> all;
  for (const Top& t : lt) all.emplace_back(t, 0);
  for (const Top& t : ft) all.emplace_back(t, 1);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first.ts < b.first.ts; });
  std::map<std::uint16_t, std::array<Top, 2>> now;
  std::map<std::uint16_t, bool> crossed;
  std::size_t episodes = 0;
  for (const auto& [t, venue] : all) {
    auto& pair = now[t.locate];
    pair[venue] = t;
    const Top &a = pair[0], &b = pair[1];
    const bool c = a.bid && a.ask && b.bid && b.ask && (a.bid > b.ask || b.bid > a.ask);
    if (c && !crossed[t.locate]) ++episodes;
    crossed[t.locate] = c;
  }
  EXPECT_GE(episodes, 3u) << "cross-venue opportunities (one venue's bid above the other's ask)";

  // 3. Mid prices: the follower's mid at t is nearer the leader's mid at t - L than at t (its
  //    book follows the leader's, late by L plus its own makers' and takers' reaction).
  auto mids = [](const std::vector<Top>& v) {
    std::map<std::uint16_t, std::vector<std::pair<std::uint64_t, double>>> m;
    for (const Top& t : v)
      if (t.bid != 0 && t.ask != 0 && t.bid < t.ask) m[t.locate].emplace_back(t.ts, (t.bid + t.ask) / 2.0);
    return m;
  };
  const auto lm = mids(lt), fm = mids(ft);
  auto mid_at = [](const std::vector<std::pair<std::uint64_t, double>>& v, std::uint64_t t) {
    auto it = std::upper_bound(v.begin(), v.end(), std::make_pair(t, 1e300));
    return it == v.begin() ? -1.0 : std::prev(it)->second;
  };
  auto distance = [&](std::uint64_t lag_ns) {
    double sum = 0;
    std::size_t n = 0;
    for (const auto& [locate, f] : fm) {
      const auto l = lm.find(locate);
      if (l == lm.end() || f.size() < 2) continue;
      const std::uint64_t from = std::max(f.front().first, l->second.front().first) + 500'000'000;
      for (std::uint64_t t = from; t < f.back().first; t += 5'000'000) {
        const double a = mid_at(f, t), b = mid_at(l->second, t - lag_ns);
        if (a < 0 || b < 0) continue;
        sum += std::abs(a - b);
        ++n;
      }
    }
    return n != 0 ? sum / static_cast<double>(n) : 0.0;
  };
  std::uint64_t best_lag = 0;
  double best = 1e300;
  for (std::uint64_t lag_ms = 0; lag_ms <= 300; lag_ms += 10) {
    const double d = distance(lag_ms * 1'000'000);
    if (d < best) {
      best = d;
      best_lag = lag_ms;
    }
  }
  const double d0 = distance(0), dl = distance(lag);
  std::printf("[ info ] mean |follower mid(t) - leader mid(t - lag)|: %.1f at lag 0, %.1f at %llu ms, least %.1f at %llu ms "
              "(1/10,000 $)\n",
              d0, dl, static_cast<unsigned long long>(kLagMs), best, static_cast<unsigned long long>(best_lag));
  std::printf("[ info ] %zu follower values checked: %zu lagged by %llu ms, %zu unlagged; %zu cross-venue episodes\n",
              checked, lagged, static_cast<unsigned long long>(kLagMs), unlagged, episodes);
}

TEST_F(LeadLag, AFollowerWithoutItsLeaderTradesOnItsOwnWalk) {
  const std::uint16_t absent = free_port();
  std::vector<std::string> fa = venue_args("BX", free_port(), "2");
  fa.insert(fa.end(), {"--follow", "127.0.0.1:" + std::to_string(absent), "--lag-ms", "50", "--json"});
  fa[std::find(fa.begin(), fa.end(), "--duration") - fa.begin() + 1] = "1";
  Process follower(fa, dir_ / "follower.txt");
  ASSERT_EQ(follower.finish(15000ms), 0) << follower.output();
  const std::string out = follower.output();
  EXPECT_NE(out.find("follow: leader 127.0.0.1:" + std::to_string(absent) + " absent"), std::string::npos) << out;
  nlohmann::json j;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '{') j = nlohmann::json::parse(line);
  ASSERT_TRUE(j.is_object()) << out;
  EXPECT_GT(j["background"]["actions"].get<std::uint64_t>(), 1000u) << "it trades all the same";
  EXPECT_GE(j["follow"]["connect_failures"].get<std::uint64_t>(), 1u);
  EXPECT_EQ(j["follow"]["connects"], 0);
  EXPECT_EQ(j["venue"]["name"], "BX");
  EXPECT_EQ(j["venue"]["mpid"], "BXXX");
}

TEST_F(LeadLag, AFollowerKeepsTradingWhenItsLeaderGoesAway) {
  const std::uint16_t lead_port = free_port();
  std::vector<std::string> la = venue_args("NASDAQ", free_port(), "1");
  la.insert(la.end(), {"--lead-listen", "127.0.0.1:" + std::to_string(lead_port)});
  Process leader(la, dir_ / "leader.txt");
  ASSERT_TRUE(leader.await_output("background flow", 30000ms)) << leader.output();
  std::vector<std::string> fa = venue_args("BX", free_port(), "2");
  fa.insert(fa.end(), {"--follow", "127.0.0.1:" + std::to_string(lead_port), "--lag-ms", "20"});
  Process follower(fa, dir_ / "follower.txt");
  ASSERT_TRUE(follower.await_output("is venue NASDAQ", 30000ms)) << follower.output();
  leader.signal(SIGKILL);
  leader.finish(5000ms);
  ASSERT_TRUE(follower.await_output("went away", 5000ms)) << follower.output();
  EXPECT_TRUE(follower.await_output("walks on its own again", 5000ms)) << follower.output();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(follower.running());
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.finish(10000ms), 0) << follower.output();
}

}  // namespace
}  // namespace hft::testing
