#include "pipeline/book/snapshot.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace hft::book {
namespace {

std::string dollars(std::uint32_t price) { return fmt::format("{}.{:04}", price / 10000, price % 10000); }

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string_view flags_text(std::uint8_t f) {
  if (f & kFlagCrossed) return (f & kFlagStale) ? "crossed,stale" : "crossed";
  if (f & kFlagLocked) return (f & kFlagStale) ? "locked,stale" : "locked";
  if (f & kFlagDegraded) return "degraded";
  if (f & kFlagStale) return "stale";
  return "";
}

}  // namespace

BookSnapshot take_snapshot(const BookSet& books, std::size_t depth) {
  BookSnapshot s;
  s.sequence = books.sequence();
  s.live_orders = books.live_orders();
  s.live_levels = books.live_levels();
  s.degraded = books.degraded();
  s.stats = books.stats();
  for (std::uint32_t loc = 1; loc <= books.config().max_locate; ++loc) {
    const auto locate = static_cast<std::uint16_t>(loc);
    StockInfo info = books.info(locate);
    const std::uint32_t nb = books.level_count(locate, Side::kBid);
    const std::uint32_t na = books.level_count(locate, Side::kAsk);
    if (!info.in_directory && info.symbol.view().empty() && nb == 0 && na == 0 && info.last_trade.kind == 0) continue;
    StockSnapshot st;
    st.locate = locate;
    st.info = info;
    st.bid_levels = nb;
    st.ask_levels = na;
    st.bids.resize(depth == 0 ? nb : std::min<std::size_t>(depth, nb));
    st.asks.resize(depth == 0 ? na : std::min<std::size_t>(depth, na));
    books.depth(locate, Side::kBid, st.bids);
    books.depth(locate, Side::kAsk, st.asks);
    s.stocks.push_back(std::move(st));
  }
  return s;
}

std::string to_text(const BookSnapshot& s) {
  std::string out = fmt::format("books: {} stocks, {} orders, {} levels, {} messages{}\n", s.stocks.size(), s.live_orders,
                                s.live_levels, s.sequence, s.degraded ? " (DEGRADED: a pool ran out)" : "");
  for (const StockSnapshot& st : s.stocks) {
    const std::string_view sym = st.info.symbol.view();
    fmt::format_to(std::back_inserter(out), "\n{:>5} {:<8} state {} lot {} category {} levels {}x{}", st.locate,
                   sym.empty() ? "?" : sym, st.info.trading_state, st.info.round_lot, st.info.market_category,
                   st.bid_levels, st.ask_levels);
    if (st.info.last_trade.kind != 0) {
      fmt::format_to(std::back_inserter(out), "  last {} {}@{}", st.info.last_trade.kind, st.info.last_trade.shares,
                     dollars(st.info.last_trade.price));
    }
    const std::string_view f = flags_text(st.info.flags);
    if (!f.empty()) fmt::format_to(std::back_inserter(out), "  [{}]", f);
    out += '\n';
    const std::size_t rows = std::max(st.bids.size(), st.asks.size());
    for (std::size_t i = 0; i < rows; ++i) {
      if (i < st.bids.size()) {
        fmt::format_to(std::back_inserter(out), "  {:>6} {:>12} {:>12}", st.bids[i].orders, st.bids[i].shares,
                       dollars(st.bids[i].price));
      } else {
        fmt::format_to(std::back_inserter(out), "  {:>6} {:>12} {:>12}", "", "", "");
      }
      if (i < st.asks.size()) {
        fmt::format_to(std::back_inserter(out), "  | {:<12} {:<12} {}", dollars(st.asks[i].price),
                       st.asks[i].shares, st.asks[i].orders);  // no padding at the end of a line
      } else {
        out += "  |";
      }
      out += '\n';
    }
  }
  return out;
}

std::string to_json_state(const BookSnapshot& s) {
  std::string out;
  auto levels = [&](const std::vector<Level>& side) {
    out += '[';
    for (std::size_t i = 0; i < side.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "{}{{\"price\":{},\"shares\":{},\"orders\":{}}}", i ? "," : "",
                     side[i].price, side[i].shares, side[i].orders);
    }
    out += ']';
  };
  const BookStats& c = s.stats;
  fmt::format_to(std::back_inserter(out),
                 "{{\"price_scale\":10000,\"sequence\":{},\"live_orders\":{},\"live_levels\":{},\"degraded\":{},"
                 "\"stats\":{{\"messages\":{},\"unknown_order\":{},\"over_execution\":{},\"duplicate_order\":{},"
                 "\"bad_locate\":{},\"locate_mismatch\":{},\"bad_side\":{},\"bad_quantity\":{},\"capacity_drops\":{},"
                 "\"crossed\":{},\"locked\":{},\"broken_trades\":{},\"top_events\":{}}},\"stocks\":[",
                 s.sequence, s.live_orders, s.live_levels, s.degraded, c.messages, c.unknown_order, c.over_execution,
                 c.duplicate_order, c.bad_locate, c.locate_mismatch, c.bad_side, c.bad_quantity, c.capacity_drops(),
                 c.crossed, c.locked, c.broken_trades, c.top_events);
  for (std::size_t i = 0; i < s.stocks.size(); ++i) {
    const StockSnapshot& st = s.stocks[i];
    fmt::format_to(std::back_inserter(out), "{}{{\"locate\":{},\"symbol\":", i ? "," : "", st.locate);
    append_json_string(out, st.info.symbol.view());
    out += ",\"trading_state\":";
    append_json_string(out, std::string_view(&st.info.trading_state, 1));
    fmt::format_to(std::back_inserter(out),
                   ",\"round_lot\":{},\"flags\":{},\"volume\":{},\"last_trade\":{{\"price\":{},\"shares\":{},\"match\":{}}},"
                   "\"bid_levels\":{},\"ask_levels\":{},\"bids\":",
                   st.info.round_lot, st.info.flags, st.info.volume, st.info.last_trade.price, st.info.last_trade.shares,
                   st.info.last_trade.match, st.bid_levels, st.ask_levels);
    levels(st.bids);
    out += ",\"asks\":";
    levels(st.asks);
    out += '}';
  }
  out += "]}\n";
  return out;
}

std::string to_json(const BookSnapshot& s) {
  std::string out;
  auto levels = [&](const std::vector<Level>& side) {
    out += '[';
    for (std::size_t i = 0; i < side.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "{}[{},{},{}]", i ? "," : "", side[i].price, side[i].shares,
                     side[i].orders);
    }
    out += ']';
  };
  for (const StockSnapshot& st : s.stocks) {
    if (st.bid_levels == 0 && st.ask_levels == 0) continue;
    out += "{\"stock\":";
    append_json_string(out, st.info.symbol.view());
    fmt::format_to(std::back_inserter(out), ",\"locate\":{},\"bids\":", st.locate);
    levels(st.bids);
    out += ",\"asks\":";
    levels(st.asks);
    out += "}\n";
  }
  return out;
}

}  // namespace hft::book
