// ITCH 5.0 decoder: all 23 types from bytes built here by hand (field offsets from
// ../shared/PROTOCOLS.md §3.1, independent of gateways/itch/encoder), then the encoder checked
// against the same bytes, then bad input.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "gateways/itch/messages.hpp"

namespace {

using namespace hft::itch;

// Big-endian writer by shifts, so a bug in gateways/common/endian.hpp cannot hide here.
struct Bytes {
  std::vector<std::uint8_t> b;
  Bytes& c(char ch) {
    b.push_back(static_cast<std::uint8_t>(ch));
    return *this;
  }
  Bytes& be(std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& u16(std::uint64_t v) { return be(v, 2); }
  Bytes& u32(std::uint64_t v) { return be(v, 4); }
  Bytes& u48(std::uint64_t v) { return be(v, 6); }
  Bytes& u64(std::uint64_t v) { return be(v, 8); }
  Bytes& a(std::string_view s, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) b.push_back(static_cast<std::uint8_t>(i < s.size() ? s[i] : ' '));
    return *this;
  }
  // Type, stock locate, tracking number, timestamp.
  static Bytes head(char type, std::uint16_t locate, std::uint16_t tracking, std::uint64_t ts) {
    Bytes x;
    x.c(type).u16(locate).u16(tracking).u48(ts);
    return x;
  }
};

// Records every callback; keeps the last view of each type.
struct Recorder {
  std::string order;  // type bytes in the order dispatched
  SystemEvent s{{nullptr}};
  StockDirectory r{{nullptr}};
  StockTradingAction h{{nullptr}};
  RegShoRestriction y{{nullptr}};
  MarketParticipantPosition l{{nullptr}};
  MwcbDeclineLevel v{{nullptr}};
  MwcbStatus w{{nullptr}};
  IpoQuotingPeriodUpdate k{{nullptr}};
  LuldAuctionCollar j{{nullptr}};
  OperationalHalt oh{{nullptr}};
  AddOrder a{{nullptr}};
  AddOrderMpid f{{{nullptr}}};
  OrderExecuted e{{nullptr}};
  OrderExecutedWithPrice ce{{{nullptr}}};
  OrderCancel x{{nullptr}};
  OrderDelete d{{nullptr}};
  OrderReplace u{{nullptr}};
  Trade p{{nullptr}};
  CrossTrade q{{nullptr}};
  BrokenTrade bt{{nullptr}};
  Noii i{{nullptr}};
  Rpii n{{nullptr}};
  DirectListingCapitalRaise o{{nullptr}};

  void on_system_event(const SystemEvent& m) { order += 'S', s = m; }
  void on_stock_directory(const StockDirectory& m) { order += 'R', r = m; }
  void on_stock_trading_action(const StockTradingAction& m) { order += 'H', h = m; }
  void on_reg_sho_restriction(const RegShoRestriction& m) { order += 'Y', y = m; }
  void on_market_participant_position(const MarketParticipantPosition& m) { order += 'L', l = m; }
  void on_mwcb_decline_level(const MwcbDeclineLevel& m) { order += 'V', v = m; }
  void on_mwcb_status(const MwcbStatus& m) { order += 'W', w = m; }
  void on_ipo_quoting_period_update(const IpoQuotingPeriodUpdate& m) { order += 'K', k = m; }
  void on_luld_auction_collar(const LuldAuctionCollar& m) { order += 'J', j = m; }
  void on_operational_halt(const OperationalHalt& m) { order += 'h', oh = m; }
  void on_add_order(const AddOrder& m) { order += 'A', a = m; }
  void on_add_order_mpid(const AddOrderMpid& m) { order += 'F', f = m; }
  void on_order_executed(const OrderExecuted& m) { order += 'E', e = m; }
  void on_order_executed_with_price(const OrderExecutedWithPrice& m) { order += 'C', ce = m; }
  void on_order_cancel(const OrderCancel& m) { order += 'X', x = m; }
  void on_order_delete(const OrderDelete& m) { order += 'D', d = m; }
  void on_order_replace(const OrderReplace& m) { order += 'U', u = m; }
  void on_trade(const Trade& m) { order += 'P', p = m; }
  void on_cross_trade(const CrossTrade& m) { order += 'Q', q = m; }
  void on_broken_trade(const BrokenTrade& m) { order += 'B', bt = m; }
  void on_noii(const Noii& m) { order += 'I', i = m; }
  void on_rpii(const Rpii& m) { order += 'N', n = m; }
  void on_direct_listing_capital_raise(const DirectListingCapitalRaise& m) { order += 'O', o = m; }
};

constexpr std::uint64_t kTs = 0x0000123456789ABCULL;  // a 48-bit timestamp using all six bytes

// Decodes `msg` and expects exactly one dispatch of `type`.
void decode_one(const std::vector<std::uint8_t>& msg, char type, Recorder& rec) {
  ASSERT_EQ(msg.size(), kMessageLength[static_cast<std::uint8_t>(type)]) << type;
  DecodeStats stats;
  EXPECT_EQ(decode_message(msg.data(), msg.size(), rec, stats), DecodeResult::kOk);
  EXPECT_EQ(rec.order, std::string(1, type));
  EXPECT_EQ(stats.messages, 1u);
  EXPECT_EQ(stats.by_type[static_cast<std::uint8_t>(type)], 1u);
}

template <class View>
void expect_header(const View& m, char type, std::uint16_t locate, std::uint16_t tracking) {
  EXPECT_EQ(m.message_type(), type);
  EXPECT_EQ(m.stock_locate(), locate);
  EXPECT_EQ(m.tracking_number(), tracking);
  EXPECT_EQ(m.timestamp(), kTs);
}

// ---- literal byte arrays, typed from the spec tables ------------------------------------------

TEST(ItchLiteral, SystemEventStartOfMarketHours) {
  // 'S', locate 0, tracking 0, 09:30:00.000075566 (the snippet's S/'Q'), event 'Q'.
  const std::uint8_t m[12] = {0x53, 0x00, 0x00, 0x00, 0x00, 0x1F, 0x1A, 0xCE, 0xDB, 0x17, 0x2E, 0x51};
  Recorder rec;
  ASSERT_EQ(decode_message(m, sizeof m, rec), DecodeResult::kOk);
  ASSERT_EQ(rec.order, "S");
  EXPECT_EQ(rec.s.stock_locate(), 0);
  EXPECT_EQ(rec.s.timestamp(), 34'200'000'075'566ULL);
  EXPECT_EQ(rec.s.event_code(), 'Q');
}

TEST(ItchLiteral, AddOrder) {
  const std::uint8_t m[36] = {
      'A',                                             // type
      0x00, 0x2A,                                      // locate 42
      0x00, 0x07,                                      // tracking 7
      0x1F, 0x1A, 0xCE, 0xD9, 0xF0, 0xE6,              // 34200000000230 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xE2, 0x40,  // order ref 123456
      'S',                                             // side
      0x00, 0x00, 0x01, 0x2C,                          // 300 shares
      'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ',          // stock
      0x00, 0x1C, 0x9C, 0x38,                          // price 1,875,000 = $187.5000
  };
  Recorder rec;
  ASSERT_EQ(decode_message(m, sizeof m, rec), DecodeResult::kOk);
  ASSERT_EQ(rec.order, "A");
  EXPECT_EQ(rec.a.stock_locate(), 42);
  EXPECT_EQ(rec.a.tracking_number(), 7);
  EXPECT_EQ(rec.a.timestamp(), 34'200'000'000'230ULL);
  EXPECT_EQ(rec.a.order_reference_number(), 123456u);
  EXPECT_EQ(rec.a.buy_sell_indicator(), 'S');
  EXPECT_EQ(rec.a.shares(), 300u);
  EXPECT_EQ(rec.a.stock().view(), "AAPL");
  EXPECT_EQ(rec.a.price(), 1'875'000u);
}

TEST(ItchLiteral, CrossTradeHasEightByteShares) {
  const std::uint8_t m[40] = {
      'Q', 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // locate 5, ts 1
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,                    // shares 2^32 + 2
      'Z', 'V', 'Z', 'Z', 'T', ' ', ' ', ' ',                            // stock
      0x00, 0x01, 0x86, 0xA0,                                            // price 100000 = $10
      0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,                    // match number
      'C',                                                               // closing cross
  };
  Recorder rec;
  ASSERT_EQ(decode_message(m, sizeof m, rec), DecodeResult::kOk);
  ASSERT_EQ(rec.order, "Q");
  EXPECT_EQ(rec.q.shares(), (1ULL << 32) + 2);
  EXPECT_EQ(rec.q.stock().view(), "ZVZZT");
  EXPECT_EQ(rec.q.cross_price(), 100000u);
  EXPECT_EQ(rec.q.match_number(), 0xFF00000000000001ULL);
  EXPECT_EQ(rec.q.cross_type(), 'C');
}

TEST(ItchLiteral, OperationalHaltIsLowerCaseH) {
  // 'h' (0x68) is Operational Halt, 'H' (0x48) Stock Trading Action: dispatch is case-sensitive.
  const std::uint8_t m[21] = {'h', 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
                              'Q', 'Q', 'Q', ' ', ' ', ' ', ' ', ' ', 'Q', 'H'};
  Recorder rec;
  ASSERT_EQ(decode_message(m, sizeof m, rec), DecodeResult::kOk);
  ASSERT_EQ(rec.order, "h");
  EXPECT_EQ(rec.oh.stock().view(), "QQQ");
  EXPECT_EQ(rec.oh.market_code(), 'Q');
  EXPECT_EQ(rec.oh.operational_halt_action(), 'H');
}

// ---- every type, built field by field --------------------------------------------------------

// One test per type: hand-built bytes → decoded fields; the same values through encode_generic
// must give the same bytes (an encoder bug cannot hide a decoder bug, and vice versa).
struct TypeCase {
  char type;
  std::vector<std::uint8_t> bytes;
};

std::vector<std::uint8_t> generic(char type, std::initializer_list<FieldValue> fields) {
  std::vector<std::uint8_t> out(64, 0xEE);
  const std::size_t n = encode_generic(out.data(), type, fields);
  out.resize(n);
  return out;
}

TEST(ItchTypes, SystemEvent) {
  auto m = Bytes::head('S', 0, 11, kTs).c('O').b;
  Recorder rec;
  decode_one(m, 'S', rec);
  expect_header(rec.s, 'S', 0, 11);
  EXPECT_EQ(rec.s.event_code(), 'O');
  EXPECT_EQ(generic('S', {{"tracking_number", 11}, {"timestamp", kTs}, {"event_code", 0, "O"}}), m);
  std::vector<std::uint8_t> enc(12);
  EXPECT_EQ(encode::system_event(enc.data(), {0, 11, kTs}, 'O'), 12u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, StockDirectory) {
  auto m = Bytes::head('R', 1, 2, kTs)
               .a("BAC-Q", 8).c('N').c('D').u32(100).c('N').c('C').a("Z", 2).c('P').c('Y').c('N').c('1').c('Y')
               .u32(3).c('Y')
               .b;
  Recorder rec;
  decode_one(m, 'R', rec);
  const auto& r = rec.r;
  expect_header(r, 'R', 1, 2);
  EXPECT_EQ(r.stock().view(), "BAC-Q");
  EXPECT_EQ(r.market_category(), 'N');
  EXPECT_EQ(r.financial_status_indicator(), 'D');
  EXPECT_EQ(r.round_lot_size(), 100u);
  EXPECT_EQ(r.round_lots_only(), 'N');
  EXPECT_EQ(r.issue_classification(), 'C');
  EXPECT_EQ(r.issue_sub_type(), "Z ");
  EXPECT_EQ(r.authenticity(), 'P');
  EXPECT_EQ(r.short_sale_threshold_indicator(), 'Y');
  EXPECT_EQ(r.ipo_flag(), 'N');
  EXPECT_EQ(r.luld_reference_price_tier(), '1');
  EXPECT_EQ(r.etp_flag(), 'Y');
  EXPECT_EQ(r.etp_leverage_factor(), 3u);
  EXPECT_EQ(r.inverse_indicator(), 'Y');
  EXPECT_EQ(generic('R', {{"stock_locate", 1}, {"tracking_number", 2}, {"timestamp", kTs}, {"stock", 0, "BAC-Q"},
                          {"market_category", 0, "N"}, {"financial_status_indicator", 0, "D"},
                          {"round_lot_size", 100}, {"round_lots_only", 0, "N"}, {"issue_classification", 0, "C"},
                          {"issue_sub_type", 0, "Z"}, {"authenticity", 0, "P"},
                          {"short_sale_threshold_indicator", 0, "Y"}, {"ipo_flag", 0, "N"},
                          {"luld_reference_price_tier", 0, "1"}, {"etp_flag", 0, "Y"}, {"etp_leverage_factor", 3},
                          {"inverse_indicator", 0, "Y"}}),
            m);
  StockDirectoryFields f;
  f.stock = Symbol::from("BAC-Q");
  f.market_category = 'N';
  f.financial_status_indicator = 'D';
  f.round_lot_size = 100;
  f.round_lots_only = 'N';
  f.issue_classification = 'C';
  f.issue_sub_type = "Z";
  f.authenticity = 'P';
  f.short_sale_threshold_indicator = 'Y';
  f.ipo_flag = 'N';
  f.luld_reference_price_tier = '1';
  f.etp_flag = 'Y';
  f.etp_leverage_factor = 3;
  f.inverse_indicator = 'Y';
  std::vector<std::uint8_t> enc(39);
  EXPECT_EQ(encode::stock_directory(enc.data(), {1, 2, kTs}, f), 39u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, StockTradingAction) {
  auto m = Bytes::head('H', 3, 4, kTs).a("GFOR=", 8).c('T').c(' ').a("T1", 4).b;
  Recorder rec;
  decode_one(m, 'H', rec);
  expect_header(rec.h, 'H', 3, 4);
  EXPECT_EQ(rec.h.stock().view(), "GFOR=");
  EXPECT_EQ(rec.h.trading_state(), 'T');
  EXPECT_EQ(rec.h.reserved(), ' ');
  EXPECT_EQ(rec.h.reason(), "T1  ");
  EXPECT_EQ(generic('H', {{"stock_locate", 3}, {"tracking_number", 4}, {"timestamp", kTs}, {"stock", 0, "GFOR="},
                          {"trading_state", 0, "T"}, {"reason", 0, "T1"}}),
            m);
  std::vector<std::uint8_t> enc(25);
  EXPECT_EQ(encode::stock_trading_action(enc.data(), {3, 4, kTs}, Symbol::from("GFOR="), 'T', "T1"), 25u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, RegShoRestriction) {
  auto m = Bytes::head('Y', 5, 6, kTs).a("ZXZZT", 8).c('1').b;
  Recorder rec;
  decode_one(m, 'Y', rec);
  expect_header(rec.y, 'Y', 5, 6);
  EXPECT_EQ(rec.y.stock().view(), "ZXZZT");
  EXPECT_EQ(rec.y.reg_sho_action(), '1');
  EXPECT_EQ(generic('Y', {{"stock_locate", 5}, {"tracking_number", 6}, {"timestamp", kTs}, {"stock", 0, "ZXZZT"},
                          {"reg_sho_action", 0, "1"}}),
            m);
}

TEST(ItchTypes, MarketParticipantPosition) {
  auto m = Bytes::head('L', 7, 8, kTs).a("GSCO", 4).a("MSFT", 8).c('Y').c('N').c('A').b;
  Recorder rec;
  decode_one(m, 'L', rec);
  expect_header(rec.l, 'L', 7, 8);
  EXPECT_EQ(rec.l.mpid(), "GSCO");
  EXPECT_EQ(rec.l.stock().view(), "MSFT");
  EXPECT_EQ(rec.l.primary_market_maker(), 'Y');
  EXPECT_EQ(rec.l.market_maker_mode(), 'N');
  EXPECT_EQ(rec.l.market_participant_state(), 'A');
  EXPECT_EQ(generic('L', {{"stock_locate", 7}, {"tracking_number", 8}, {"timestamp", kTs}, {"mpid", 0, "GSCO"},
                          {"stock", 0, "MSFT"}, {"primary_market_maker", 0, "Y"}, {"market_maker_mode", 0, "N"},
                          {"market_participant_state", 0, "A"}}),
            m);
}

TEST(ItchTypes, MwcbDeclineLevel) {
  // Price(8): 8 implied decimals; $3,000.12345678 etc.
  auto m = Bytes::head('V', 0, 9, kTs).u64(300012345678ULL).u64(280000000000ULL).u64(0xFFFFFFFFFFFFFFFEULL).b;
  Recorder rec;
  decode_one(m, 'V', rec);
  expect_header(rec.v, 'V', 0, 9);
  EXPECT_EQ(rec.v.level_1(), 300012345678ULL);
  EXPECT_EQ(rec.v.level_2(), 280000000000ULL);
  EXPECT_EQ(rec.v.level_3(), 0xFFFFFFFFFFFFFFFEULL);
  EXPECT_EQ(generic('V', {{"tracking_number", 9}, {"timestamp", kTs}, {"level_1", 300012345678ULL},
                          {"level_2", 280000000000ULL}, {"level_3", 0xFFFFFFFFFFFFFFFEULL}}),
            m);
}

TEST(ItchTypes, MwcbStatus) {
  auto m = Bytes::head('W', 0, 10, kTs).c('2').b;
  Recorder rec;
  decode_one(m, 'W', rec);
  expect_header(rec.w, 'W', 0, 10);
  EXPECT_EQ(rec.w.breached_level(), '2');
  EXPECT_EQ(generic('W', {{"tracking_number", 10}, {"timestamp", kTs}, {"breached_level", 0, "2"}}), m);
}

TEST(ItchTypes, IpoQuotingPeriodUpdate) {
  auto m = Bytes::head('K', 0, 12, kTs).a("NEWCO", 8).u32(34200 + 3600).c('A').u32(215000).b;
  Recorder rec;
  decode_one(m, 'K', rec);
  expect_header(rec.k, 'K', 0, 12);
  EXPECT_EQ(rec.k.stock().view(), "NEWCO");
  EXPECT_EQ(rec.k.ipo_quotation_release_time(), 37800u);
  EXPECT_EQ(rec.k.ipo_quotation_release_qualifier(), 'A');
  EXPECT_EQ(rec.k.ipo_price(), 215000u);
  EXPECT_EQ(generic('K', {{"tracking_number", 12}, {"timestamp", kTs}, {"stock", 0, "NEWCO"},
                          {"ipo_quotation_release_time", 37800}, {"ipo_quotation_release_qualifier", 0, "A"},
                          {"ipo_price", 215000}}),
            m);
}

TEST(ItchTypes, LuldAuctionCollar) {
  auto m = Bytes::head('J', 13, 14, kTs).a("TSLA", 8).u32(4000000).u32(4200000).u32(3800000).u32(2).b;
  Recorder rec;
  decode_one(m, 'J', rec);
  expect_header(rec.j, 'J', 13, 14);
  EXPECT_EQ(rec.j.stock().view(), "TSLA");
  EXPECT_EQ(rec.j.auction_collar_reference_price(), 4000000u);
  EXPECT_EQ(rec.j.upper_auction_collar_price(), 4200000u);
  EXPECT_EQ(rec.j.lower_auction_collar_price(), 3800000u);
  EXPECT_EQ(rec.j.auction_collar_extension(), 2u);
  EXPECT_EQ(generic('J', {{"stock_locate", 13}, {"tracking_number", 14}, {"timestamp", kTs}, {"stock", 0, "TSLA"},
                          {"auction_collar_reference_price", 4000000}, {"upper_auction_collar_price", 4200000},
                          {"lower_auction_collar_price", 3800000}, {"auction_collar_extension", 2}}),
            m);
}

TEST(ItchTypes, OperationalHalt) {
  auto m = Bytes::head('h', 15, 16, kTs).a("QQQ", 8).c('B').c('T').b;
  Recorder rec;
  decode_one(m, 'h', rec);
  expect_header(rec.oh, 'h', 15, 16);
  EXPECT_EQ(rec.oh.stock().view(), "QQQ");
  EXPECT_EQ(rec.oh.market_code(), 'B');
  EXPECT_EQ(rec.oh.operational_halt_action(), 'T');
  EXPECT_EQ(generic('h', {{"stock_locate", 15}, {"tracking_number", 16}, {"timestamp", kTs}, {"stock", 0, "QQQ"},
                          {"market_code", 0, "B"}, {"operational_halt_action", 0, "T"}}),
            m);
}

TEST(ItchTypes, AddOrder) {
  auto m = Bytes::head('A', 17, 18, kTs).u64(0x0102030405060708ULL).c('B').u32(0xDEADBEEF).a("AA-B", 8).u32(1999999)
               .b;
  Recorder rec;
  decode_one(m, 'A', rec);
  expect_header(rec.a, 'A', 17, 18);
  EXPECT_EQ(rec.a.order_reference_number(), 0x0102030405060708ULL);
  EXPECT_EQ(rec.a.buy_sell_indicator(), 'B');
  EXPECT_EQ(rec.a.shares(), 0xDEADBEEFu);
  EXPECT_EQ(rec.a.stock().view(), "AA-B");
  EXPECT_EQ(rec.a.price(), 1999999u);
  EXPECT_EQ(generic('A', {{"stock_locate", 17}, {"tracking_number", 18}, {"timestamp", kTs},
                          {"order_reference_number", 0x0102030405060708ULL}, {"buy_sell_indicator", 0, "B"},
                          {"shares", 0xDEADBEEF}, {"stock", 0, "AA-B"}, {"price", 1999999}}),
            m);
  std::vector<std::uint8_t> enc(36);
  EXPECT_EQ(encode::add_order(enc.data(), {17, 18, kTs}, 0x0102030405060708ULL, 'B', 0xDEADBEEF, Symbol::from("AA-B"),
                              1999999),
            36u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, AddOrderMpid) {
  auto m = Bytes::head('F', 19, 20, kTs).u64(77).c('S').u32(500).a("YCBD-A", 8).u32(12345).a("VIRT", 4).b;
  Recorder rec;
  decode_one(m, 'F', rec);
  expect_header(rec.f, 'F', 19, 20);
  EXPECT_EQ(rec.f.order_reference_number(), 77u);
  EXPECT_EQ(rec.f.buy_sell_indicator(), 'S');
  EXPECT_EQ(rec.f.shares(), 500u);
  EXPECT_EQ(rec.f.stock().view(), "YCBD-A");
  EXPECT_EQ(rec.f.price(), 12345u);
  EXPECT_EQ(rec.f.attribution(), "VIRT");
  EXPECT_EQ(generic('F', {{"stock_locate", 19}, {"tracking_number", 20}, {"timestamp", kTs},
                          {"order_reference_number", 77}, {"buy_sell_indicator", 0, "S"}, {"shares", 500},
                          {"stock", 0, "YCBD-A"}, {"price", 12345}, {"attribution", 0, "VIRT"}}),
            m);
  std::vector<std::uint8_t> enc(40);
  EXPECT_EQ(encode::add_order_mpid(enc.data(), {19, 20, kTs}, 77, 'S', 500, Symbol::from("YCBD-A"), 12345, "VIRT"),
            40u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, AddOrderMpidFallsBackToAddOrder) {
  // A handler without on_add_order_mpid sees 'F' as an add order (its first 36 bytes).
  struct OnlyAdd {
    std::uint64_t ref = 0;
    char type = 0;
    void on_add_order(const AddOrder& m) { ref = m.order_reference_number(), type = m.message_type(); }
  } h;
  auto m = Bytes::head('F', 1, 0, kTs).u64(99).c('B').u32(1).a("X", 8).u32(1).a("ABCD", 4).b;
  ASSERT_EQ(decode_message(m.data(), m.size(), h), DecodeResult::kOk);
  EXPECT_EQ(h.ref, 99u);
  EXPECT_EQ(h.type, 'F');
}

TEST(ItchTypes, OrderExecuted) {
  auto m = Bytes::head('E', 21, 22, kTs).u64(1234567890123ULL).u32(100).u64(987654321ULL).b;
  Recorder rec;
  decode_one(m, 'E', rec);
  expect_header(rec.e, 'E', 21, 22);
  EXPECT_EQ(rec.e.order_reference_number(), 1234567890123ULL);
  EXPECT_EQ(rec.e.executed_shares(), 100u);
  EXPECT_EQ(rec.e.match_number(), 987654321ULL);
  EXPECT_EQ(generic('E', {{"stock_locate", 21}, {"tracking_number", 22}, {"timestamp", kTs},
                          {"order_reference_number", 1234567890123ULL}, {"executed_shares", 100},
                          {"match_number", 987654321ULL}}),
            m);
  std::vector<std::uint8_t> enc(31);
  EXPECT_EQ(encode::order_executed(enc.data(), {21, 22, kTs}, 1234567890123ULL, 100, 987654321ULL), 31u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, OrderExecutedWithPrice) {
  auto m = Bytes::head('C', 23, 24, kTs).u64(55).u32(40).u64(66).c('N').u32(1000001).b;
  Recorder rec;
  decode_one(m, 'C', rec);
  expect_header(rec.ce, 'C', 23, 24);
  EXPECT_EQ(rec.ce.order_reference_number(), 55u);
  EXPECT_EQ(rec.ce.executed_shares(), 40u);
  EXPECT_EQ(rec.ce.match_number(), 66u);
  EXPECT_EQ(rec.ce.printable(), 'N');
  EXPECT_EQ(rec.ce.execution_price(), 1000001u);
  EXPECT_EQ(generic('C', {{"stock_locate", 23}, {"tracking_number", 24}, {"timestamp", kTs},
                          {"order_reference_number", 55}, {"executed_shares", 40}, {"match_number", 66},
                          {"printable", 0, "N"}, {"execution_price", 1000001}}),
            m);
  std::vector<std::uint8_t> enc(36);
  EXPECT_EQ(encode::order_executed_with_price(enc.data(), {23, 24, kTs}, 55, 40, 66, 'N', 1000001), 36u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, OrderCancel) {
  auto m = Bytes::head('X', 25, 26, kTs).u64(88).u32(25).b;
  Recorder rec;
  decode_one(m, 'X', rec);
  expect_header(rec.x, 'X', 25, 26);
  EXPECT_EQ(rec.x.order_reference_number(), 88u);
  EXPECT_EQ(rec.x.cancelled_shares(), 25u);
  EXPECT_EQ(generic('X', {{"stock_locate", 25}, {"tracking_number", 26}, {"timestamp", kTs},
                          {"order_reference_number", 88}, {"cancelled_shares", 25}}),
            m);
  std::vector<std::uint8_t> enc(23);
  EXPECT_EQ(encode::order_cancel(enc.data(), {25, 26, kTs}, 88, 25), 23u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, OrderDelete) {
  auto m = Bytes::head('D', 27, 28, kTs).u64(0xFFFFFFFFFFFFFFFFULL).b;
  Recorder rec;
  decode_one(m, 'D', rec);
  expect_header(rec.d, 'D', 27, 28);
  EXPECT_EQ(rec.d.order_reference_number(), 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(generic('D', {{"stock_locate", 27}, {"tracking_number", 28}, {"timestamp", kTs},
                          {"order_reference_number", 0xFFFFFFFFFFFFFFFFULL}}),
            m);
  std::vector<std::uint8_t> enc(19);
  EXPECT_EQ(encode::order_delete(enc.data(), {27, 28, kTs}, 0xFFFFFFFFFFFFFFFFULL), 19u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, OrderReplace) {
  auto m = Bytes::head('U', 29, 30, kTs).u64(100).u64(200).u32(300).u32(400).b;
  Recorder rec;
  decode_one(m, 'U', rec);
  expect_header(rec.u, 'U', 29, 30);
  EXPECT_EQ(rec.u.original_order_reference_number(), 100u);
  EXPECT_EQ(rec.u.new_order_reference_number(), 200u);
  EXPECT_EQ(rec.u.shares(), 300u);
  EXPECT_EQ(rec.u.price(), 400u);
  EXPECT_EQ(generic('U', {{"stock_locate", 29}, {"tracking_number", 30}, {"timestamp", kTs},
                          {"original_order_reference_number", 100}, {"new_order_reference_number", 200},
                          {"shares", 300}, {"price", 400}}),
            m);
  std::vector<std::uint8_t> enc(35);
  EXPECT_EQ(encode::order_replace(enc.data(), {29, 30, kTs}, 100, 200, 300, 400), 35u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, Trade) {
  auto m = Bytes::head('P', 31, 32, kTs).u64(0).c('B').u32(1000).a("SPY", 8).u32(3210000).u64(4444).b;
  Recorder rec;
  decode_one(m, 'P', rec);
  expect_header(rec.p, 'P', 31, 32);
  EXPECT_EQ(rec.p.order_reference_number(), 0u);
  EXPECT_EQ(rec.p.buy_sell_indicator(), 'B');
  EXPECT_EQ(rec.p.shares(), 1000u);
  EXPECT_EQ(rec.p.stock().view(), "SPY");
  EXPECT_EQ(rec.p.price(), 3210000u);
  EXPECT_EQ(rec.p.match_number(), 4444u);
  EXPECT_EQ(generic('P', {{"stock_locate", 31}, {"tracking_number", 32}, {"timestamp", kTs},
                          {"buy_sell_indicator", 0, "B"}, {"shares", 1000}, {"stock", 0, "SPY"}, {"price", 3210000},
                          {"match_number", 4444}}),
            m);
  std::vector<std::uint8_t> enc(44);
  EXPECT_EQ(encode::trade(enc.data(), {31, 32, kTs}, 'B', 1000, Symbol::from("SPY"), 3210000, 4444), 44u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, CrossTrade) {
  auto m = Bytes::head('Q', 33, 34, kTs).u64(5'000'000'000ULL).a("IBM", 8).u32(1500000).u64(777).c('O').b;
  Recorder rec;
  decode_one(m, 'Q', rec);
  expect_header(rec.q, 'Q', 33, 34);
  EXPECT_EQ(rec.q.shares(), 5'000'000'000ULL);
  EXPECT_EQ(rec.q.stock().view(), "IBM");
  EXPECT_EQ(rec.q.cross_price(), 1500000u);
  EXPECT_EQ(rec.q.match_number(), 777u);
  EXPECT_EQ(rec.q.cross_type(), 'O');
  EXPECT_EQ(generic('Q', {{"stock_locate", 33}, {"tracking_number", 34}, {"timestamp", kTs},
                          {"shares", 5'000'000'000ULL}, {"stock", 0, "IBM"}, {"cross_price", 1500000},
                          {"match_number", 777}, {"cross_type", 0, "O"}}),
            m);
  std::vector<std::uint8_t> enc(40);
  EXPECT_EQ(encode::cross_trade(enc.data(), {33, 34, kTs}, 5'000'000'000ULL, Symbol::from("IBM"), 1500000, 777, 'O'),
            40u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, BrokenTrade) {
  auto m = Bytes::head('B', 35, 36, kTs).u64(4444).b;
  Recorder rec;
  decode_one(m, 'B', rec);
  expect_header(rec.bt, 'B', 35, 36);
  EXPECT_EQ(rec.bt.match_number(), 4444u);
  EXPECT_EQ(generic('B', {{"stock_locate", 35}, {"tracking_number", 36}, {"timestamp", kTs}, {"match_number", 4444}}),
            m);
  std::vector<std::uint8_t> enc(19);
  EXPECT_EQ(encode::broken_trade(enc.data(), {35, 36, kTs}, 4444), 19u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, Noii) {
  auto m = Bytes::head('I', 37, 38, kTs)
               .u64(1'000'000)
               .u64(0x100000000ULL)
               .c('S')
               .a("NVDA", 8)
               .u32(5000000)
               .u32(5100000)
               .u32(5050000)
               .c('C')
               .c('L')
               .b;
  Recorder rec;
  decode_one(m, 'I', rec);
  expect_header(rec.i, 'I', 37, 38);
  EXPECT_EQ(rec.i.paired_shares(), 1'000'000u);
  EXPECT_EQ(rec.i.imbalance_shares(), 0x100000000ULL);
  EXPECT_EQ(rec.i.imbalance_direction(), 'S');
  EXPECT_EQ(rec.i.stock().view(), "NVDA");
  EXPECT_EQ(rec.i.far_price(), 5000000u);
  EXPECT_EQ(rec.i.near_price(), 5100000u);
  EXPECT_EQ(rec.i.current_reference_price(), 5050000u);
  EXPECT_EQ(rec.i.cross_type(), 'C');
  EXPECT_EQ(rec.i.price_variation_indicator(), 'L');
  EXPECT_EQ(generic('I', {{"stock_locate", 37}, {"tracking_number", 38}, {"timestamp", kTs},
                          {"paired_shares", 1'000'000}, {"imbalance_shares", 0x100000000ULL},
                          {"imbalance_direction", 0, "S"}, {"stock", 0, "NVDA"}, {"far_price", 5000000},
                          {"near_price", 5100000}, {"current_reference_price", 5050000}, {"cross_type", 0, "C"},
                          {"price_variation_indicator", 0, "L"}}),
            m);
  NoiiFields f;
  f.paired_shares = 1'000'000;
  f.imbalance_shares = 0x100000000ULL;
  f.imbalance_direction = 'S';
  f.stock = Symbol::from("NVDA");
  f.far_price = 5000000;
  f.near_price = 5100000;
  f.current_reference_price = 5050000;
  f.cross_type = 'C';
  f.price_variation_indicator = 'L';
  std::vector<std::uint8_t> enc(50);
  EXPECT_EQ(encode::noii(enc.data(), {37, 38, kTs}, f), 50u);
  EXPECT_EQ(enc, m);
}

TEST(ItchTypes, Rpii) {
  auto m = Bytes::head('N', 39, 40, kTs).a("AMD", 8).c('A').b;
  Recorder rec;
  decode_one(m, 'N', rec);
  expect_header(rec.n, 'N', 39, 40);
  EXPECT_EQ(rec.n.stock().view(), "AMD");
  EXPECT_EQ(rec.n.interest_flag(), 'A');
  EXPECT_EQ(generic('N', {{"stock_locate", 39}, {"tracking_number", 40}, {"timestamp", kTs}, {"stock", 0, "AMD"},
                          {"interest_flag", 0, "A"}}),
            m);
}

TEST(ItchTypes, DirectListingCapitalRaise) {
  auto m = Bytes::head('O', 41, 42, kTs)
               .a("DLCR", 8)
               .c('Y')
               .u32(100000)
               .u32(200000)
               .u32(150000)
               .u64(34'500'000'000'000ULL)
               .u32(90000)
               .u32(210000)
               .b;
  Recorder rec;
  decode_one(m, 'O', rec);
  expect_header(rec.o, 'O', 41, 42);
  EXPECT_EQ(rec.o.stock().view(), "DLCR");
  EXPECT_EQ(rec.o.open_eligibility_status(), 'Y');
  EXPECT_EQ(rec.o.minimum_allowable_price(), 100000u);
  EXPECT_EQ(rec.o.maximum_allowable_price(), 200000u);
  EXPECT_EQ(rec.o.near_execution_price(), 150000u);
  EXPECT_EQ(rec.o.near_execution_time(), 34'500'000'000'000ULL);
  EXPECT_EQ(rec.o.lower_price_range_collar(), 90000u);
  EXPECT_EQ(rec.o.upper_price_range_collar(), 210000u);
  EXPECT_EQ(generic('O', {{"stock_locate", 41}, {"tracking_number", 42}, {"timestamp", kTs}, {"stock", 0, "DLCR"},
                          {"open_eligibility_status", 0, "Y"}, {"minimum_allowable_price", 100000},
                          {"maximum_allowable_price", 200000}, {"near_execution_price", 150000},
                          {"near_execution_time", 34'500'000'000'000ULL}, {"lower_price_range_collar", 90000},
                          {"upper_price_range_collar", 210000}}),
            m);
}

// Every type in the table round-trips through encode_generic and dispatches to its own member.
TEST(ItchTypes, EveryTypeRoundTripsThroughEncodeGeneric) {
  ASSERT_EQ(kMessageTypes.size(), 23u);
  for (char t : kMessageTypes) {
    const MessageSpec* spec = message_spec(t);
    ASSERT_NE(spec, nullptr) << t;
    EXPECT_EQ(spec->length, kMessageLength[static_cast<std::uint8_t>(t)]) << t;
    // The fields tile the message after the 11-byte header, with no gap or overlap.
    std::size_t next = 11;
    for (const FieldSpec& f : spec->fields) {
      EXPECT_EQ(f.offset, next) << t << " " << f.name;
      next = f.offset + f.length;
    }
    EXPECT_EQ(next, spec->length) << t;

    const auto m = generic(t, {{"stock_locate", 0xBEEF}, {"tracking_number", 0x1234}, {"timestamp", kTs}});
    ASSERT_EQ(m.size(), spec->length) << t;
    Recorder rec;
    DecodeStats stats;
    ASSERT_EQ(decode_message(m.data(), m.size(), rec, stats), DecodeResult::kOk) << t;
    EXPECT_EQ(rec.order, std::string(1, t));
    EXPECT_EQ(stats.by_type[static_cast<std::uint8_t>(t)], 1u);
    EXPECT_EQ(m[1], 0xBE);
    EXPECT_EQ(m[2], 0xEF);
    EXPECT_EQ(m[5], 0x12);
    EXPECT_EQ(m[6], 0x34);
    EXPECT_EQ(m[10], 0xBC);
  }
  std::uint8_t out[64];
  EXPECT_EQ(encode_generic(out, 'Z', {}), 0u);
  EXPECT_EQ(encode_generic(out, 'A', {{"no_such_field", 1}}), 0u);
}

// ---- bad input --------------------------------------------------------------------------------

TEST(ItchBadInput, WrongLengthsAreCountedNotDispatched) {
  for (char t : kMessageTypes) {
    const std::size_t len = kMessageLength[static_cast<std::uint8_t>(t)];
    std::vector<std::uint8_t> m(len + 1, 0);
    m[0] = static_cast<std::uint8_t>(t);
    Recorder rec;
    DecodeStats stats;
    EXPECT_EQ(decode_message(m.data(), len - 1, rec, stats), DecodeResult::kBadLength) << t;
    EXPECT_EQ(decode_message(m.data(), len + 1, rec, stats), DecodeResult::kBadLength) << t;
    EXPECT_EQ(rec.order, "");
    EXPECT_EQ(stats.bad_length, 2u);
    EXPECT_EQ(stats.messages, 0u);
  }
}

TEST(ItchBadInput, UnknownTypesAndEmptyMessages) {
  Recorder rec;
  DecodeStats stats;
  for (int b = 0; b < 256; ++b) {
    if (kMessageLength[static_cast<std::size_t>(b)] != 0) continue;
    std::uint8_t m[12] = {static_cast<std::uint8_t>(b)};
    EXPECT_EQ(decode_message(m, sizeof m, rec, stats), DecodeResult::kUnknownType) << b;
  }
  EXPECT_EQ(stats.unknown_type, 256u - 23u);
  EXPECT_EQ(decode_message(nullptr, 0, rec, stats), DecodeResult::kEmpty);
  EXPECT_EQ(stats.empty, 1u);
  EXPECT_EQ(rec.order, "");
}

// Length-prefixed blocks: a bad message is skipped by its length and the next one decoded; a
// block running past the buffer stops the walk without reading beyond it.
TEST(ItchBadInput, BlockStreamSkipsBadMessagesAndStopsAtTruncation) {
  Bytes s;
  const auto del = Bytes::head('D', 1, 0, 5).u64(9).b;
  const auto bad = Bytes::head('D', 1, 0, 5).u64(9).c('x').b;  // 20 bytes: wrong length
  const auto unk = Bytes::head('z', 1, 0, 5).b;                // unknown type
  auto block = [&](const std::vector<std::uint8_t>& m) {
    s.u16(m.size());
    s.b.insert(s.b.end(), m.begin(), m.end());
  };
  block(del);
  block(bad);
  s.u16(0);  // empty message: counted and skipped (not a BinaryFILE end marker here)
  block(unk);
  block(del);
  const std::size_t whole = s.b.size();
  s.u16(19).c('D').c(0);  // cut after 2 of 19 bytes

  Recorder rec;
  DecodeStats stats;
  const auto r = decode_blocks(s.b.data(), s.b.size(), rec, stats);
  EXPECT_EQ(rec.order, "DD");
  EXPECT_EQ(r.blocks, 5u);
  EXPECT_EQ(r.consumed, whole);
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.end_marker);
  EXPECT_EQ(stats.messages, 2u);
  EXPECT_EQ(stats.bad_length, 1u);
  EXPECT_EQ(stats.unknown_type, 1u);
  EXPECT_EQ(stats.empty, 1u);
  EXPECT_EQ(stats.truncated, 1u);
  EXPECT_EQ(stats.errors(), 3u);

  // Every prefix of the stream: never more than the whole messages it holds, never a crash.
  for (std::size_t cut = 0; cut <= s.b.size(); ++cut) {
    std::vector<std::uint8_t> prefix(s.b.begin(), s.b.begin() + static_cast<long>(cut));
    Recorder r2;
    DecodeStats st2;
    const auto res = decode_blocks(prefix.data(), prefix.size(), r2, st2);
    EXPECT_LE(res.consumed, cut);
    EXPECT_EQ(res.truncated, res.consumed != cut) << cut;
  }
}

TEST(ItchBadInput, MaxBlocksAndStopAtEmpty) {
  Bytes s;
  const auto del = Bytes::head('D', 1, 0, 5).u64(9).b;
  for (int i = 0; i < 3; ++i) {
    s.u16(del.size());
    s.b.insert(s.b.end(), del.begin(), del.end());
  }
  s.u16(0);
  s.u16(del.size());
  s.b.insert(s.b.end(), del.begin(), del.end());
  Recorder rec;
  DecodeStats stats;
  auto r = decode_blocks(s.b.data(), s.b.size(), rec, stats, 2);
  EXPECT_EQ(r.blocks, 2u);
  EXPECT_EQ(r.consumed, 42u);
  r = decode_blocks(s.b.data(), s.b.size(), rec, stats, ~std::size_t{0}, true);
  EXPECT_TRUE(r.end_marker);
  EXPECT_EQ(r.blocks, 4u);
  EXPECT_EQ(r.consumed, 3 * 21u + 2);
  EXPECT_EQ(rec.order, "DDDDD");
}

}  // namespace
