#include "gateways/ouch/codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "tests/support/alloc_counter.hpp"

namespace hft::ouch {
namespace {

// A sample of each message with every field set to something other than its default.
template <class T>
T sample();

template <>
EnterOrder sample() {
  EnterOrder m;
  m.user_ref_num = 0x01020304;
  m.side = Side::kSellShort;
  m.quantity = 999'999;
  m.symbol = Symbol::from("AAPL");
  m.price = 1'234'567'800;
  m.time_in_force = TimeInForce::kGtt;
  m.display = Display::kAttributable;
  m.capacity = Capacity::kPrincipal;
  m.intermarket_sweep = IntermarketSweep::kEligible;
  m.cross_type = CrossType::kClosing;
  m.cl_ord_id = ClOrdId::from("CLORD-0001");
  m.options.set_firm(Firm::from("ABCD")).set_min_qty(200).set_max_floor(100).set_post_only('P').set_expire_time(3600);
  m.options.set_peg_offset(-250).set_customer_type('R').set_group_id(0xBEEF).set_shares_located('Y');
  return m;
}
template <>
ReplaceOrder sample() {
  ReplaceOrder m;
  m.orig_user_ref_num = 41;
  m.user_ref_num = 42;
  m.quantity = 500;
  m.price = 100'0000;
  m.time_in_force = TimeInForce::kIoc;
  m.display = Display::kHidden;
  m.intermarket_sweep = IntermarketSweep::kEligible;
  m.cl_ord_id = ClOrdId::from("REPL");
  m.options.set_discretion_price(99'5000).set_discretion_peg_offset(-1).set_trade_now('Y').set_handle_inst('I');
  return m;
}
template <>
CancelOrder sample() {
  return CancelOrder{77, 10};
}
template <>
ModifyOrder sample() {
  return ModifyOrder{78, Side::kSellShortExempt, 300};
}
template <>
AccountQuery sample() {
  return AccountQuery{};
}
template <>
SystemEvent sample() {
  return SystemEvent{34'200'000'000'001, SystemEventCode::kEndOfDay};
}
template <>
OrderAccepted sample() {
  OrderAccepted m;
  m.timestamp = 44'647'000'000'123;
  m.user_ref_num = 7;
  m.side = Side::kSell;
  m.quantity = 1234;
  m.symbol = Symbol::from("ZVZZT");
  m.price = kMarketCrossPrice;
  m.time_in_force = TimeInForce::kGtx;
  m.display = Display::kConformant;
  m.order_reference_number = 0x1122334455667788;
  m.capacity = Capacity::kRiskless;
  m.intermarket_sweep = IntermarketSweep::kEligible;
  m.cross_type = CrossType::kOpening;
  m.order_state = OrderState::kDead;
  m.cl_ord_id = ClOrdId::from("ACCEPTED-14CHR");
  m.options.set_bbo_weight_indicator('2').set_firm(Firm::from("MLRO")).set_random_reserves(50).set_route(Route::from("RTE1"));
  return m;
}
template <>
OrderReplaced sample() {
  OrderReplaced m;
  m.timestamp = 1;
  m.orig_user_ref_num = 8;
  m.user_ref_num = 9;
  m.side = Side::kBuy;
  m.quantity = 400;
  m.symbol = Symbol::from("MSFT");
  m.price = 3'000'000;
  m.time_in_force = TimeInForce::kAfterHours;
  m.display = Display::kHidden;
  m.order_reference_number = 555;
  m.capacity = Capacity::kOther;
  m.intermarket_sweep = IntermarketSweep::kNotEligible;
  m.cross_type = CrossType::kHalt;
  m.order_state = OrderState::kLive;
  m.cl_ord_id = ClOrdId::from("R2");
  m.options.set_price_type('M').set_min_qty(100);
  return m;
}
template <>
OrderCanceled sample() {
  return OrderCanceled{2, 9, 150, CancelReason::kSelfMatchPrevention};
}
template <>
AiqCanceled sample() {
  return AiqCanceled{3, 10, 100, CancelReason::kSelfMatchPrevention, 80, 12'3400, 'R', 'O'};
}
template <>
OrderExecuted sample() {
  OrderExecuted m;
  m.timestamp = 4;
  m.user_ref_num = 11;
  m.quantity = 60;
  m.price = 45'6700;
  m.liquidity_flag = 'k';
  m.match_number = 0xFFFFFFFFFFFFFFFE;
  m.options.set_secondary_ord_ref_num(12345);
  return m;
}
template <>
BrokenTrade sample() {
  return BrokenTrade{5, 12, 987654321, BrokenTradeReason::kSupervisory, ClOrdId::from("BRK")};
}
template <>
OrderRejected sample() {
  return OrderRejected{6, 13, RejectReason::kRiskDuplicateMessageRate, ClOrdId::from("REJ")};
}
template <>
CancelPending sample() {
  return CancelPending{7, 14};
}
template <>
CancelReject sample() {
  return CancelReject{8, 15};
}
template <>
OrderPriorityUpdate sample() {
  return OrderPriorityUpdate{9, 16, 10'0000, Display::kVisible, 777};
}
template <>
OrderModified sample() {
  return OrderModified{10, 17, Side::kSellShort, 90};
}
template <>
OrderRestated sample() {
  OrderRestated m;
  m.timestamp = 11;
  m.user_ref_num = 18;
  m.reason = RestatedReason::kPriceUpdate;
  m.options.set_display_quantity(100).set_display_price(20'0000).set_secondary_ord_ref_num(99);
  return m;
}
template <>
AccountQueryResponse sample() {
  return AccountQueryResponse{12, 1'000'001};
}

template <class T>
class OuchRoundTrip : public ::testing::Test {};
using AllMessages = ::testing::Types<EnterOrder, ReplaceOrder, CancelOrder, ModifyOrder, AccountQuery, SystemEvent,
                                     OrderAccepted, OrderReplaced, OrderCanceled, AiqCanceled, OrderExecuted, BrokenTrade,
                                     OrderRejected, CancelPending, CancelReject, OrderPriorityUpdate, OrderModified,
                                     OrderRestated, AccountQueryResponse>;
TYPED_TEST_SUITE(OuchRoundTrip, AllMessages);

TYPED_TEST(OuchRoundTrip, EncodeDecodeGivesEqualFieldsAndLength) {
  const TypeParam m = sample<TypeParam>();
  std::array<std::uint8_t, 512> buf{};
  const std::size_t n = encode(buf.data(), buf.size(), m);
  ASSERT_EQ(n, encoded_size(m));
  ASSERT_GE(n, TypeParam::kFixedSize);
  if constexpr (!TypeParam::kHasAppendage) {
    EXPECT_EQ(n, TypeParam::kFixedSize);
  } else {
    EXPECT_GT(n, TypeParam::kFixedSize);  // the samples all carry options
    EXPECT_EQ(wire::load_be16(buf.data() + TypeParam::kFixedSize - 2), n - TypeParam::kFixedSize);
  }
  EXPECT_EQ(buf[0], static_cast<std::uint8_t>(TypeParam::kType));
  TypeParam back;
  ASSERT_EQ(decode(buf.data(), n, back), DecodeError::kOk);
  EXPECT_TRUE(back == m);
  if constexpr (!std::is_same_v<TypeParam, AccountQuery>) {
    EXPECT_FALSE(back == TypeParam{}) << "the sample must differ from the defaults";
  }
  // Encoding the decoded message reproduces the bytes.
  std::array<std::uint8_t, 512> again{};
  ASSERT_EQ(encode(again.data(), again.size(), back), n);
  EXPECT_EQ(0, std::memcmp(buf.data(), again.data(), n));
  // Too small a buffer: nothing written.
  EXPECT_EQ(encode(again.data(), n - 1, m), 0u);
  // One byte short or long is a length error, never a read past the end.
  if (n > 1) {
    EXPECT_NE(decode(buf.data(), n - 1, back), DecodeError::kOk);
  }
  EXPECT_NE(decode(buf.data(), n + 1, back), DecodeError::kOk);
}

TEST(OuchLayout, EnterOrderFieldOffsetsMatchTheSpec) {
  EnterOrder m = sample<EnterOrder>();
  m.options.clear();
  std::uint8_t b[64];
  ASSERT_EQ(encode(b, sizeof b, m), 47u);
  EXPECT_EQ(b[0], 'O');
  EXPECT_EQ(wire::load_be32(b + 1), 0x01020304u);
  EXPECT_EQ(b[5], 'T');
  EXPECT_EQ(wire::load_be32(b + 6), 999'999u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b + 10), 8), "AAPL    ");
  EXPECT_EQ(wire::load_be64(b + 18), 1'234'567'800u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b + 26), 5), "6APYC");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b + 31), 14), "CLORD-0001    ");
  EXPECT_EQ(wire::load_be16(b + 45), 0u);
}

TEST(OuchLayout, RejectedCarriesATwoByteReason) {
  const OrderRejected m = sample<OrderRejected>();
  std::uint8_t b[32];
  ASSERT_EQ(encode(b, sizeof b, m), 29u);
  EXPECT_EQ(wire::load_be16(b + 13), 0x002Au);
  EXPECT_EQ(to_string(m.reason), "Risk: Duplicate Message Rate Restriction");
  EXPECT_EQ(to_string(static_cast<RejectReason>(0x0013)), "Invalid Quantity");
  EXPECT_EQ(to_string(static_cast<RejectReason>(0x0999)), "unknown reject reason");
}

// ---- Appendages ------------------------------------------------------------------------------

std::vector<std::uint8_t> enter_with_appendage(const std::vector<std::uint8_t>& app) {
  EnterOrder m = sample<EnterOrder>();
  m.options.clear();
  std::vector<std::uint8_t> b(47 + app.size());
  encode(b.data(), b.size(), m);
  wire::store_be16(b.data() + 45, static_cast<std::uint16_t>(app.size()));
  std::copy(app.begin(), app.end(), b.begin() + 47);
  return b;
}

TEST(OuchAppendage, UnknownTagsAreSkippedByLengthAndCounted) {
  const auto b = enter_with_appendage({
      0x03, 0x63, 0xAA, 0xBB,            // tag 99: unknown, 2-byte value
      0x05, 0x02, 'L', 'I', 'M', 'E',    // Firm
      0x01, 0x64,                        // tag 100: unknown, empty value
      0x05, 0x03, 0, 0, 0x01, 0x90,      // MinQty 400
  });
  EnterOrder m;
  ASSERT_EQ(decode(b.data(), b.size(), m), DecodeError::kOk);
  EXPECT_EQ(m.options.unknown_skipped(), 2u);
  ASSERT_TRUE(m.options.firm().has_value());
  EXPECT_EQ(m.options.firm()->view(), "LIME");
  EXPECT_EQ(m.options.min_qty(), 400u);
  EXPECT_FALSE(m.options.max_floor().has_value());
  ASSERT_EQ(m.options.size(), 2u);
  EXPECT_EQ(m.options.tag_at(0), OptionTag::kFirm);
  EXPECT_EQ(m.options.tag_at(1), OptionTag::kMinQty);

  // The raw reader sees all four elements.
  AppendageReader r(b.data() + 47, b.size() - 47);
  TagValue tv;
  std::vector<int> tags;
  while (r.next(tv)) tags.push_back(tv.tag);
  EXPECT_EQ(tags, (std::vector<int>{99, 2, 100, 3}));
  EXPECT_EQ(r.error(), AppendageError::kNone);
}

TEST(OuchAppendage, MalformedAppendagesAreErrors) {
  struct Case {
    const char* name;
    std::vector<std::uint8_t> app;
    DecodeError error;
  };
  const std::vector<Case> cases = {
      {"zero-length element", {0x00, 0x02}, DecodeError::kEmptyElement},
      {"element past the end", {0x05, 0x02, 'L', 'I'}, DecodeError::kTruncatedElement},
      {"length byte alone", {0x05}, DecodeError::kTruncatedElement},
      {"firm of 3 bytes", {0x04, 0x02, 'A', 'B', 'C'}, DecodeError::kBadOptionSize},
      {"post only of 2 bytes", {0x03, 0x0C, 'P', 'P'}, DecodeError::kBadOptionSize},
      {"firm twice", {0x05, 0x02, 'A', 'B', 'C', 'D', 0x05, 0x02, 'E', 'F', 'G', 'H'}, DecodeError::kDuplicateOption},
  };
  for (const auto& c : cases) {
    const auto b = enter_with_appendage(c.app);
    EnterOrder m;
    EXPECT_EQ(decode(b.data(), b.size(), m), c.error) << c.name;
  }
}

TEST(OuchAppendage, AppendageLengthMustMatchTheMessageLength) {
  auto b = enter_with_appendage({0x05, 0x02, 'L', 'I', 'M', 'E'});
  EnterOrder m;
  wire::store_be16(b.data() + 45, 7);  // claims one byte more than there is
  EXPECT_EQ(decode(b.data(), b.size(), m), DecodeError::kAppendageLength);
  wire::store_be16(b.data() + 45, 5);  // claims one byte less
  EXPECT_EQ(decode(b.data(), b.size(), m), DecodeError::kAppendageLength);
  wire::store_be16(b.data() + 45, 0xFFFF);
  EXPECT_EQ(decode(b.data(), b.size(), m), DecodeError::kAppendageLength);
  EXPECT_EQ(decode(b.data(), 46, m), DecodeError::kBadLength);  // shorter than the fixed part
}

TEST(OuchAppendage, WireOrderAndSignedValuesSurviveARoundTrip) {
  Options o;
  o.set_bbo_weight_indicator('S').set_peg_offset(-12345).set_firm(Firm::from("ZZ")).set_discretion_peg_offset(-2147483647 - 1);
  o.set_firm(Firm::from("YY"));  // overwrite keeps the first position
  std::uint8_t b[kMaxKnownAppendage];
  const std::size_t n = o.encode(b);
  ASSERT_EQ(n, o.encoded_size());
  EXPECT_EQ(b[1], 18);  // BBO weight first, as set
  Options back;
  ASSERT_EQ(parse_options(b, n, back), AppendageError::kNone);
  EXPECT_TRUE(back == o);
  EXPECT_EQ(back.peg_offset(), -12345);
  EXPECT_EQ(back.discretion_peg_offset(), -2147483647 - 1);
  EXPECT_EQ(back.firm()->view(), "YY");
  EXPECT_EQ(back.tag_at(2), OptionTag::kFirm);
}

TEST(OuchAppendage, EveryOptionAtOnceFitsTheDocumentedMaximum) {
  Options o;
#define HFT_SET_ALL(name, Name, tag, size, type, kind) o.set_##name(type{});
  HFT_OUCH_OPTIONS(HFT_SET_ALL)
#undef HFT_SET_ALL
  EXPECT_EQ(o.size(), kOptionCount);
  EXPECT_EQ(o.encoded_size(), kMaxKnownAppendage);
}

// ---- Dispatch ---------------------------------------------------------------------------------

struct Recorder {
  std::string seen;
  void on_message(const EnterOrder&) { seen += "O"; }
  void on_message(const ReplaceOrder&) { seen += "U"; }
  void on_message(const CancelOrder&) { seen += "X"; }
  void on_message(const ModifyOrder&) { seen += "M"; }
  void on_message(const AccountQuery&) { seen += "Q"; }
  void on_message(const OrderReplaced&) { seen += "u"; }
  void on_message(const OrderModified&) { seen += "m"; }
  void on_message(const AccountQueryResponse&) { seen += "q"; }
  void on_message(const OrderAccepted&) { seen += "a"; }
};

template <class T>
std::vector<std::uint8_t> wire_of(const T& m) {
  std::vector<std::uint8_t> b(encoded_size(m));
  encode(b.data(), b.size(), m);
  return b;
}

TEST(OuchDispatch, SameTypeByteMeansDifferentMessagesPerDirection) {
  Recorder in;
  Recorder out;
  for (const auto& b : {wire_of(sample<EnterOrder>()), wire_of(sample<ReplaceOrder>()), wire_of(sample<CancelOrder>()),
                        wire_of(sample<ModifyOrder>()), wire_of(sample<AccountQuery>())}) {
    EXPECT_EQ(decode_inbound(b.data(), b.size(), in), DecodeError::kOk);
  }
  EXPECT_EQ(in.seen, "OUXMQ");
  for (const auto& b : {wire_of(sample<OrderReplaced>()), wire_of(sample<OrderModified>()),
                        wire_of(sample<AccountQueryResponse>()), wire_of(sample<OrderAccepted>())}) {
    EXPECT_EQ(decode_outbound(b.data(), b.size(), out), DecodeError::kOk);
  }
  EXPECT_EQ(out.seen, "umqa");
  // An inbound Replace is not a valid outbound Replaced (40 + app against 68 + app).
  const auto replace = wire_of(sample<ReplaceOrder>());
  EXPECT_NE(decode_outbound(replace.data(), replace.size(), out), DecodeError::kOk);
  // Unhandled types decode and are ignored.
  const auto exec = wire_of(sample<OrderExecuted>());
  EXPECT_EQ(decode_outbound(exec.data(), exec.size(), out), DecodeError::kOk);
  EXPECT_EQ(out.seen, "umqa");
}

TEST(OuchDispatch, BadInputIsAnErrorCode) {
  Recorder r;
  const std::uint8_t x_short[] = {'X', 0, 0, 0, 1, 0, 0, 0};
  const std::uint8_t x_long[] = {'X', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};  // a later revision's Appendage Length
  const std::uint8_t unknown[] = {'Z', 1, 2, 3};
  EXPECT_EQ(decode_inbound(x_short, 0, r), DecodeError::kEmpty);
  EXPECT_EQ(decode_inbound(x_short, sizeof x_short, r), DecodeError::kBadLength);
  EXPECT_EQ(decode_inbound(x_long, sizeof x_long, r), DecodeError::kBadLength);
  EXPECT_EQ(decode_inbound(unknown, sizeof unknown, r), DecodeError::kUnknownType);
  EXPECT_EQ(decode_outbound(unknown, sizeof unknown, r), DecodeError::kUnknownType);
  EXPECT_EQ(decode_outbound(x_short, sizeof x_short, r), DecodeError::kUnknownType);  // 'X' is inbound only
  CancelOrder c;
  EXPECT_EQ(decode(unknown, sizeof unknown, c), DecodeError::kWrongType);
  EXPECT_TRUE(r.seen.empty());
}

TEST(OuchCodec, EncodeAndDecodeAllocateNothing) {
  ASSERT_TRUE(::hft::testing::counting_active());
  const EnterOrder order = sample<EnterOrder>();
  const OrderAccepted accepted = sample<OrderAccepted>();
  std::uint8_t b[256];
  struct Count {  // (Recorder's std::string would allocate)
    std::uint64_t n = 0;
    void on_message(const EnterOrder& m) noexcept { n += m.quantity; }
    void on_message(const OrderAccepted& m) noexcept { n += m.quantity; }
  } count;
  ::hft::testing::AllocationScope scope;
  for (int i = 0; i < 10000; ++i) {
    std::size_t n = encode(b, sizeof b, order);
    (void)decode_inbound(b, n, count);
    n = encode(b, sizeof b, accepted);
    (void)decode_outbound(b, n, count);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(count.n, 10000ull * (order.quantity + accepted.quantity));
}

}  // namespace
}  // namespace hft::ouch
