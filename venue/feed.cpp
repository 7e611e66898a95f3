#include "venue/feed.hpp"

#include <ctime>
#include <utility>

namespace hft::venue {

VenueClock::VenueClock(std::optional<std::uint64_t> start_ns) {
  now_ = core::monotonic_ns();
  std::uint64_t since_midnight = 0;
  if (start_ns) {
    since_midnight = *start_ns;
  } else {
    timespec rt{};
    ::clock_gettime(CLOCK_REALTIME, &rt);
    tm local{};
    ::localtime_r(&rt.tv_sec, &local);
    const auto seconds = static_cast<std::uint64_t>(local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec);
    since_midnight = seconds * 1'000'000'000ull + static_cast<std::uint64_t>(rt.tv_nsec);
  }
  // Unsigned wrap-around makes since_midnight() exact whichever of the two is larger.
  offset_ = since_midnight - now_;
}

FeedSink::FeedSink(const net::Endpoint& destination, const net::UdpOptions& options, const std::string& capture_path,
                   std::uint32_t drop_every)
    : udp_(destination, options), drop_every_(drop_every) {
  if (!capture_path.empty()) capture_.emplace(mold::NullSink{}, mold::BinaryFileWriter(capture_path));
}

ItchFeed::ItchFeed(const VenueConfig& config, VenueClock& clock, std::vector<itch::Symbol> symbols)
    : clock_(clock),
      symbols_(std::move(symbols)),
      trading_states_(symbols_.size(), 0),
      directory_test_(symbols_.size(), 0),
      store_(config.store),
      publisher_(config.publisher, FeedSink(config.feed, config.feed_options, config.capture, config.drop_every), &store_) {
  publisher_.sink().set_drop_burst(config.drop_burst_after, config.drop_burst);
}

void ItchFeed::system_event(char code) noexcept {
  if (std::uint8_t* out = claim('S')) {
    commit('S', itch::encode::system_event(out, header(0), code));
    last_system_event_ = code;
  }
}

itch::StockDirectoryFields ItchFeed::directory(std::uint16_t locate, bool test_issue) const noexcept {
  itch::StockDirectoryFields f;
  f.stock = symbol(locate);
  f.market_category = 'Q';        // NASDAQ Global Select
  f.financial_status_indicator = 'N';
  f.round_lot_size = 100;
  f.round_lots_only = 'N';
  f.issue_classification = 'C';  // common stock
  f.issue_sub_type = "Z";
  f.authenticity = test_issue ? 'T' : 'P';  // 'T': a test issue (the latency probe's symbol)
  return f;
}

void ItchFeed::stock_directory(std::uint16_t locate, bool test_issue) noexcept {
  std::uint8_t* out = claim('R');
  if (out == nullptr) return;
  commit('R', itch::encode::stock_directory(out, header(locate), directory(locate, test_issue)));
  directory_test_[locate - 1] = test_issue ? 'T' : 'P';
}

void ItchFeed::trading_action(std::uint16_t locate, char state) noexcept {
  if (std::uint8_t* out = claim('H')) {
    commit('H', itch::encode::stock_trading_action(out, header(locate), symbol(locate), state, ""));
    trading_states_[locate - 1] = state;
  }
}

void ItchFeed::add_order(std::uint16_t locate, std::uint64_t ref, char side, std::uint32_t shares, std::uint32_t price,
                         const char* mpid) noexcept {
  if (mpid != nullptr) {
    if (std::uint8_t* out = claim('F'))
      commit('F', itch::encode::add_order_mpid(out, header(locate), ref, side, shares, symbol(locate), price,
                                               std::string_view(mpid, 4)));
    return;
  }
  if (std::uint8_t* out = claim('A'))
    commit('A', itch::encode::add_order(out, header(locate), ref, side, shares, symbol(locate), price));
}

void ItchFeed::executed(std::uint16_t locate, std::uint64_t ref, std::uint32_t shares, std::uint64_t match) noexcept {
  if (std::uint8_t* out = claim('E')) commit('E', itch::encode::order_executed(out, header(locate), ref, shares, match));
}

void ItchFeed::cancel(std::uint16_t locate, std::uint64_t ref, std::uint32_t shares) noexcept {
  if (std::uint8_t* out = claim('X')) commit('X', itch::encode::order_cancel(out, header(locate), ref, shares));
}

void ItchFeed::remove(std::uint16_t locate, std::uint64_t ref) noexcept {
  if (std::uint8_t* out = claim('D')) commit('D', itch::encode::order_delete(out, header(locate), ref));
}

void ItchFeed::replace(std::uint16_t locate, std::uint64_t old_ref, std::uint64_t new_ref, std::uint32_t shares,
                       std::uint32_t price) noexcept {
  if (std::uint8_t* out = claim('U'))
    commit('U', itch::encode::order_replace(out, header(locate), old_ref, new_ref, shares, price));
}

void ItchFeed::trade(std::uint16_t locate, std::uint32_t shares, std::uint32_t price, std::uint64_t match) noexcept {
  // ITCH 5.0 §1.5.1: Order Reference Number 0 (since 2010) and Buy/Sell 'B' (since 2014) always.
  if (std::uint8_t* out = claim('P'))
    commit('P', itch::encode::trade(out, header(locate), 'B', shares, symbol(locate), price, match));
}

void ItchFeed::cross_trade(std::uint16_t locate, std::uint64_t shares, std::uint32_t price, std::uint64_t match,
                           char cross_type) noexcept {
  if (std::uint8_t* out = claim('Q'))
    commit('Q', itch::encode::cross_trade(out, header(locate), shares, symbol(locate), price, match, cross_type));
}

}  // namespace hft::venue
