// hft-backtest's outputs: report.json (shape in docs/backtest.md), fills.csv, equity.csv,
// report.html (one self-contained page: the data inline, drawn on canvases by inline script).
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/hft-backtest/backtest.hpp"

namespace hft::backtest {
namespace {

using Json = nlohmann::ordered_json;

Json strategy_json(const StrategyResult& s) {
  Json j;
  j["name"] = s.name;
  if (!s.type.empty()) j["type"] = s.type;
  j["net_pnl"] = s.net_pnl;
  j["gross_pnl"] = s.gross_pnl;
  j["fees"] = s.fees;
  j["realized_pnl"] = s.realized;
  j["sharpe_per_minute"] = s.sharpe;
  j["sortino_per_minute"] = s.sortino;
  j["max_drawdown"] = s.max_drawdown;
  j["win_rate"] = s.win_rate;
  j["round_trips"] = s.round_trips;
  j["trades"] = s.trades;
  j["orders"] = s.orders;
  j["cancels"] = s.cancels;
  j["rejects"] = s.rejects;
  j["turnover_usd"] = s.turnover_usd;
  j["volume_shares"] = s.volume_shares;
  j["fill_ratio"] = s.fill_ratio;
  j["position"] = s.position;
  j["queue_fills"] = s.queue_fills;
  j["avg_time_in_queue_us"] = s.avg_time_in_queue_us;
  if (!s.parents.empty()) {
    Json ps = Json::array();
    for (const auto& p : s.parents)
      ps.push_back(Json{{"id", p.id},
                        {"symbol", p.symbol},
                        {"side", std::string(1, p.side)},
                        {"quantity", p.quantity},
                        {"filled", p.filled},
                        {"avg_price", p.avg_price},
                        {"shortfall_bps", p.shortfall_bps},
                        {"slippage_vs_vwap_bps", p.slippage_bps}});
    j["parents"] = ps;
  }
  return j;
}

Json latency_json(const core::Histogram& h) {
  Json j;
  j["count"] = h.total_count();
  if (h.total_count() == 0) return j;
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0})
    j[fmt::format("p{}_ns", p == 100.0 ? std::string("100") : fmt::format("{:g}", p))] = h.value_at_percentile(p);
  return j;
}

Json report_json(const BacktestConfig& c, const std::vector<InputFile>& inputs, const Result& r) {
  Json j;
  j["version"] = 1;
  Json in = Json::array();
  for (const auto& f : inputs) in.push_back(Json{{"path", f.path}, {"pcap", f.pcap}});
  j["inputs"] = in;
  j["config"] = Json{{"file", c.hftd.file},
                     {"feed_latency", c.bt.feed.spec()},
                     {"order_latency", c.bt.order_entry.spec()},
                     {"response_latency", c.bt.response.spec()},
                     {"seed", c.bt.seed},
                     {"queue_model", c.bt.queue_model},
                     {"fee_add_per_share", c.bt.fee_add_per_share},
                     {"fee_remove_per_share", c.bt.fee_remove_per_share}};
  j["messages"] = r.messages;
  j["bad_messages"] = r.bad_messages;
  j["first_ns"] = r.first_ns;
  j["last_ns"] = r.last_ns;
  j["orders_sent"] = r.orders_sent;
  j["order_events"] = r.order_events;
  j["risk_rejects"] = r.risk_rejects;
  j["venue_rejects"] = r.venue_rejects;
  j["fills"] = r.fills.size();
  j["state_hash"] = fmt::format("{:016x}", r.state_hash);
  Json ss = Json::array();
  for (const auto& s : r.strategies) ss.push_back(strategy_json(s));
  j["strategies"] = ss;
  j["total"] = strategy_json(r.total);
  j["latency"] = Json{{"feed", latency_json(*r.feed_latency)},
                      {"order_entry", latency_json(*r.order_latency)},
                      {"response", latency_json(*r.response_latency)},
                      {"time_in_queue", latency_json(*r.queue_time)}};
  if (!r.input_errors.empty()) j["input_errors"] = r.input_errors;
  return j;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string price_text(std::int64_t ticks) {
  return fmt::format("{}{}.{:04}", ticks < 0 ? "-" : "", std::abs(ticks) / 10'000, std::abs(ticks) % 10'000);
}

// Percentile curve of a histogram for the page: [[percentile, value_us], ...].
Json curve(const core::Histogram& h) {
  Json a = Json::array();
  if (h.total_count() == 0) return a;
  for (double p : {0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0})
    a.push_back(Json::array({p, static_cast<double>(h.value_at_percentile(p)) / 1e3}));
  return a;
}

constexpr const char* kPage = R"HTML(<!doctype html>
<html><head><meta charset="utf-8"><title>hft-backtest report</title>
<style>
body{font:13px sans-serif;margin:16px;color:#222}h1{font-size:18px}h2{font-size:15px;margin-top:22px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}canvas{border:1px solid #ddd;margin:4px 8px 4px 0}
.row{display:flex;flex-wrap:wrap}.cap{font-size:12px;color:#555}
</style></head><body>
<h1>hft-backtest report</h1><div id="head"></div>
<h2>Strategies</h2><table id="tbl"></table>
<h2>Execution algorithms</h2><table id="par"></table>
<div class="row">
<div><div class="cap">Equity (net P&amp;L, $) per strategy</div><canvas id="eq" width="560" height="240"></canvas></div>
<div><div class="cap">Drawdown ($)</div><canvas id="dd" width="560" height="240"></canvas></div>
<div><div class="cap">Position (shares)</div><canvas id="pos" width="560" height="240"></canvas></div>
<div><div class="cap">Fills over the mid of the first symbol ($): buys green, sells red</div><canvas id="fills" width="560" height="240"></canvas></div>
<div><div class="cap">Latency distributions by percentile, log10 of &micro;s: feed, order entry, response, time in queue</div><canvas id="lat" width="560" height="240"></canvas></div>
</div>
<script>
const D = __DATA__;
const C = ['#1f77b4','#d62728','#2ca02c','#9467bd','#ff7f0e','#8c564b','#e377c2','#7f7f7f'];
function esc(s){return String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));}
function fmt(v){return typeof v==='number'?(Number.isInteger(v)?v:v.toFixed(4)):esc(v);}
document.getElementById('head').innerHTML = `${D.report.messages} messages, ${D.report.fills} fills, `+
  `${D.report.orders_sent} orders; latencies feed ${esc(D.report.config.feed_latency)}, order ${esc(D.report.config.order_latency)}, `+
  `response ${esc(D.report.config.response_latency)}; state_hash ${D.report.state_hash}`;
const cols = ['name','type','net_pnl','gross_pnl','fees','sharpe_per_minute','sortino_per_minute','max_drawdown','win_rate',
  'trades','orders','turnover_usd','fill_ratio','position','avg_time_in_queue_us'];
let h = '<tr>'+cols.map(c=>`<th>${c}</th>`).join('')+'</tr>';
for (const s of D.report.strategies.concat([D.report.total])) h += '<tr>'+cols.map(c=>`<td>${s[c]===undefined?'':fmt(s[c])}</td>`).join('')+'</tr>';
document.getElementById('tbl').innerHTML = h;
const pc = ['strategy','id','symbol','side','quantity','filled','avg_price','shortfall_bps','slippage_vs_vwap_bps'];
let ph = '<tr>'+pc.map(c=>`<th>${c}</th>`).join('')+'</tr>', np = 0;
for (const s of D.report.strategies) for (const p of (s.parents||[])) { np++; ph += '<tr>'+pc.map(c=>`<td>${fmt(c==='strategy'?s.name:p[c])}</td>`).join('')+'</tr>'; }
document.getElementById('par').innerHTML = np ? ph : '<tr><td>none</td></tr>';
function plot(id, series, opts){
  const cv = document.getElementById(id), g = cv.getContext('2d'), W = cv.width, H = cv.height, L = 60, B = 20;
  let xs = [], ys = [];
  for (const s of series) for (const p of s.pts) { xs.push(p[0]); ys.push(p[1]); }
  if (!xs.length) { g.fillText('no data', W/2-20, H/2); return; }
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y1 += 1; y0 -= 1; }
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - 8), Y = y => H - B - (y - y0) / (y1 - y0) * (H - B - 8);
  g.strokeStyle = '#999'; g.beginPath(); g.moveTo(L, 4); g.lineTo(L, H - B); g.lineTo(W - 4, H - B); g.stroke();
  g.fillStyle = '#444'; g.fillText(y1.toPrecision(4), 2, 12); g.fillText(y0.toPrecision(4), 2, H - B);
  g.fillText(opts && opts.xlabel ? opts.xlabel(x0) : x0.toPrecision(4), L, H - 6);
  g.fillText(opts && opts.xlabel ? opts.xlabel(x1) : x1.toPrecision(4), W - 80, H - 6);
  series.forEach((s, i) => {
    g.strokeStyle = g.fillStyle = s.color || C[i % C.length];
    if (s.dots) { for (const p of s.pts) g.fillRect(X(p[0]) - 1.5, Y(p[1]) - 1.5, 3, 3); return; }
    g.beginPath(); s.pts.forEach((p, k) => k ? g.lineTo(X(p[0]), Y(p[1])) : g.moveTo(X(p[0]), Y(p[1]))); g.stroke();
    g.fillText(s.name, W - 150, 14 + 12 * i);
  });
}
const hhmm = ns => { const s = Math.floor(ns / 1e9) % 86400; return `${String(Math.floor(s/3600)).padStart(2,'0')}:${String(Math.floor(s/60)%60).padStart(2,'0')}:${String(s%60).padStart(2,'0')}`; };
const byS = D.report.strategies.map((s, i) => ({name: s.name, eq: D.equity.filter(e => e[1] === i)}));
plot('eq', byS.map(s => ({name: s.name, pts: s.eq.map(e => [e[0], e[2]])})), {xlabel: hhmm});
plot('dd', byS.map(s => { let pk = 0; return {name: s.name, pts: s.eq.map(e => { pk = Math.max(pk, e[2]); return [e[0], e[2] - pk]; })}; }), {xlabel: hhmm});
plot('pos', byS.map(s => ({name: s.name, pts: s.eq.map(e => [e[0], e[3]])})), {xlabel: hhmm});
const mid = byS.length ? byS[0].eq.filter(e => e[4] > 0).map(e => [e[0], e[4]]) : [];
plot('fills', [{name: 'mid', color: '#888', pts: mid},
  {name: 'buys', dots: true, color: '#2ca02c', pts: D.fills.filter(f => f[2] === 'B').map(f => [f[0], f[3]])},
  {name: 'sells', dots: true, color: '#d62728', pts: D.fills.filter(f => f[2] === 'S').map(f => [f[0], f[3]])}], {xlabel: hhmm});
plot('lat', ['feed','order_entry','response','time_in_queue'].map(k => ({name: k, pts: D.latency[k].map(p => [p[0], Math.log10(Math.max(p[1], 1e-3))])})));
</script></body></html>
)HTML";

}  // namespace

void write_outputs(const std::string& dir, const BacktestConfig& config, const std::vector<InputFile>& inputs,
                   const Result& r) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const Json report = report_json(config, inputs, r);
  write_file(fs::path(dir) / "report.json", report.dump(2) + "\n");

  fmt::memory_buffer f;
  fmt::format_to(fmt::appender(f), "timestamp,strategy,symbol,side,price,quantity,liquidity\n");
  for (const FillRow& x : r.fills)
    fmt::format_to(fmt::appender(f), "{},{},{},{},{},{},{}\n", x.timestamp,
                   x.strategy < r.strategies.size() ? r.strategies[x.strategy].name : std::string("?"), x.symbol, x.side,
                   price_text(x.price), x.quantity, x.liquidity);
  write_file(fs::path(dir) / "fills.csv", fmt::to_string(f));

  fmt::memory_buffer e;
  fmt::format_to(fmt::appender(e), "timestamp,strategy,net_pnl,gross_pnl,fees,position,mid\n");
  for (const EquityRow& x : r.equity)
    fmt::format_to(fmt::appender(e), "{},{},{:.4f},{:.4f},{:.4f},{},{:.4f}\n", x.timestamp,
                   x.strategy < r.strategies.size() ? r.strategies[x.strategy].name : std::string("?"), x.net_pnl,
                   x.gross_pnl, x.fees, x.position, x.mid);
  write_file(fs::path(dir) / "equity.csv", fmt::to_string(e));

  // The page: at most ~5,000 points per series, so a long day stays a small file.
  Json data;
  data["report"] = report;
  Json eq = Json::array();
  const std::size_t n = r.strategies.empty() ? 1 : r.strategies.size();
  const std::size_t step = std::max<std::size_t>(1, r.equity.size() / n / 5000);
  for (std::size_t i = 0; i < r.equity.size(); ++i) {
    const EquityRow& x = r.equity[i];
    if ((i / n) % step != 0 && i + n < r.equity.size()) continue;
    eq.push_back(Json::array({x.timestamp, x.strategy, x.net_pnl, x.position, x.mid}));
  }
  data["equity"] = eq;
  Json fl = Json::array();
  const std::size_t fstep = std::max<std::size_t>(1, r.fills.size() / 5000);
  for (std::size_t i = 0; i < r.fills.size(); i += fstep) {
    const FillRow& x = r.fills[i];
    fl.push_back(Json::array({x.timestamp, x.strategy, std::string(1, x.side), static_cast<double>(x.price) / 1e4, x.quantity}));
  }
  data["fills"] = fl;
  data["latency"] = Json{{"feed", curve(*r.feed_latency)},
                         {"order_entry", curve(*r.order_latency)},
                         {"response", curve(*r.response_latency)},
                         {"time_in_queue", curve(*r.queue_time)}};
  std::string page = kPage;
  std::string blob = data.dump();
  // Inside a <script>: "</" must not close it.
  for (std::size_t p = 0; (p = blob.find("</", p)) != std::string::npos; p += 3) blob.replace(p, 2, "<\\/");
  page.replace(page.find("__DATA__"), 8, blob);
  write_file(fs::path(dir) / "report.html", page);
}

std::string summary(const Result& r) {
  fmt::memory_buffer b;
  fmt::format_to(fmt::appender(b), "{} messages in {:.3f} s ({:.2f} M msgs/s); {} orders, {} order events, {} fills\n",
                 r.messages, r.wall_seconds, r.wall_seconds > 0 ? static_cast<double>(r.messages) / r.wall_seconds / 1e6 : 0.0,
                 r.orders_sent, r.order_events, r.fills.size());
  fmt::format_to(fmt::appender(b), "{:<20} {:>12} {:>12} {:>10} {:>8} {:>8} {:>10} {:>7}\n", "strategy", "net_pnl",
                 "gross_pnl", "fees", "trades", "orders", "max_dd", "sharpe");
  auto line = [&](const StrategyResult& s) {
    fmt::format_to(fmt::appender(b), "{:<20} {:>12.2f} {:>12.2f} {:>10.2f} {:>8} {:>8} {:>10.2f} {:>7.3f}\n", s.name,
                   s.net_pnl, s.gross_pnl, s.fees, s.trades, s.orders, s.max_drawdown, s.sharpe);
  };
  for (const auto& s : r.strategies) line(s);
  line(r.total);
  for (const auto& e : r.input_errors) fmt::format_to(fmt::appender(b), "input: {}\n", e);
  fmt::format_to(fmt::appender(b), "state_hash={:016x}\n", r.state_hash);
  return fmt::to_string(b);
}

}  // namespace hft::backtest
