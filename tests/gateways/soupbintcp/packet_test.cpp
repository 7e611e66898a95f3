#include "gateways/soupbintcp/packet.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/gateways/soupbintcp/pcap_tcp.hpp"
#include "tests/support/test_data.hpp"

namespace hft::soup {
namespace {

std::string text(const std::uint8_t* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

TEST(SoupNumeric, WritesRightJustifiedSpacePadded) {
  std::uint8_t buf[20];
  write_numeric(buf, 20, 135);
  EXPECT_EQ(text(buf, 20), "                 135");
  write_numeric(buf, 20, 0);
  EXPECT_EQ(text(buf, 20), "                   0");
  write_numeric(buf, 20, 18446744073709551615ull);
  EXPECT_EQ(text(buf, 20), "18446744073709551615");
  write_numeric(buf, 5, 99999);
  EXPECT_EQ(text(buf, 5), "99999");
}

TEST(SoupNumeric, ParsesTolerantlyAndRejectsNonDigits) {
  auto parse = [](const std::string& s, std::uint64_t& v) {
    return parse_numeric(reinterpret_cast<const std::uint8_t*>(s.data()), s.size(), v);
  };
  std::uint64_t v = 7;
  EXPECT_EQ(parse("                 135", v), NumericParse::kOk);
  EXPECT_EQ(v, 135u);
  EXPECT_EQ(parse("135                 ", v), NumericParse::kOk);  // NASDAQ's Python lib: left-justified
  EXPECT_EQ(v, 135u);
  EXPECT_EQ(parse("    42    ", v), NumericParse::kOk);
  EXPECT_EQ(v, 42u);
  EXPECT_EQ(parse("00000000000000000001", v), NumericParse::kOk);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(parse("18446744073709551615", v), NumericParse::kOk);
  EXPECT_EQ(v, 18446744073709551615ull);
  EXPECT_EQ(parse("                    ", v), NumericParse::kBlank);
  EXPECT_EQ(parse("   1 2", v), NumericParse::kInvalid);  // inner space
  EXPECT_EQ(parse("  -1", v), NumericParse::kInvalid);
  EXPECT_EQ(parse("  12a", v), NumericParse::kInvalid);
  EXPECT_EQ(parse("18446744073709551616", v), NumericParse::kInvalid);  // 2^64
  EXPECT_EQ(parse("99999999999999999999", v), NumericParse::kInvalid);
}

TEST(SoupLogin, RequestRoundTripsInBothForms) {
  for (const bool v41 : {false, true}) {
    LoginRequest r;
    r.username = Username::from("ALICE");
    r.password = Password::from("pw");
    r.session = SessionName::from("SESSION01");
    r.sequence = 123456789;
    r.v41 = v41;
    r.heartbeat_timeout_ms = v41 ? 5000 : 0;
    std::uint8_t buf[64];
    const std::size_t n = encode_login_request(buf, r);
    ASSERT_EQ(n, v41 ? 54u : 49u);
    EXPECT_EQ(wire::load_be16(buf), v41 ? 52 : 47);
    EXPECT_EQ(buf[2], 'L');
    EXPECT_EQ(text(buf + 3, 6), "ALICE ");
    EXPECT_EQ(text(buf + 9, 10), "pw        ");
    EXPECT_EQ(text(buf + 29, 20), "           123456789");
    if (v41) {
      EXPECT_EQ(text(buf + 49, 5), " 5000");
    }
    LoginRequest back;
    ASSERT_EQ(parse_login_request(buf + 3, n - 3, back), PacketError::kNone);
    EXPECT_EQ(back, r);
  }
}

TEST(SoupLogin, RequestWithBadNumbersIsRefused) {
  LoginRequest r;
  r.username = Username::from("BOB");
  std::uint8_t buf[64];
  encode_login_request(buf, r);
  LoginRequest back;
  std::memcpy(buf + 3 + 26, "      12x3          ", 20);
  EXPECT_EQ(parse_login_request(buf + 3, 46, back), PacketError::kNonNumericSequence);
  std::memset(buf + 3 + 26, ' ', 20);
  EXPECT_EQ(parse_login_request(buf + 3, 46, back), PacketError::kNonNumericSequence);  // blank
  EXPECT_EQ(parse_login_request(buf + 3, 45, back), PacketError::kBadLoginLength);
  r.v41 = true;
  r.heartbeat_timeout_ms = 100;
  encode_login_request(buf, r);
  std::memcpy(buf + 3 + 46, "1 0 0", 5);
  EXPECT_EQ(parse_login_request(buf + 3, 51, back), PacketError::kNonNumericTimeout);
  std::memcpy(buf + 3 + 46, "     ", 5);  // blank timeout: the server's default
  ASSERT_EQ(parse_login_request(buf + 3, 51, back), PacketError::kNone);
  EXPECT_EQ(back.heartbeat_timeout_ms, 0u);
}

TEST(SoupLogin, AcceptedAndRejected) {
  std::uint8_t buf[64];
  const std::size_t n = encode_login_accepted(buf, LoginAccepted{SessionName::from("S1"), 17});
  ASSERT_EQ(n, 33u);
  EXPECT_EQ(text(buf, 3), std::string("\x00\x1f" "A", 3));
  LoginAccepted a;
  ASSERT_EQ(parse_login_accepted(buf + 3, 30, a), PacketError::kNone);
  EXPECT_EQ(a.session.trimmed(), "S1");
  EXPECT_EQ(a.sequence, 17u);

  ASSERT_EQ(encode_login_rejected(buf, RejectCode::kSessionNotAvailable), 4u);
  EXPECT_EQ(text(buf, 4), std::string("\x00\x02" "JS", 4));
  RejectCode code{};
  ASSERT_EQ(parse_login_rejected(buf + 3, 1, code), PacketError::kNone);
  EXPECT_EQ(code, RejectCode::kSessionNotAvailable);
  buf[3] = 'X';
  EXPECT_EQ(parse_login_rejected(buf + 3, 1, code), PacketError::kBadRejectCode);
}

TEST(SoupHeader, ValidationTableByDirection) {
  constexpr auto c2s = Direction::kClientToServer;
  constexpr auto s2c = Direction::kServerToClient;
  EXPECT_EQ(validate_header(c2s, 'L', 47, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(c2s, 'L', 52, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(c2s, 'L', 48, 100, false), PacketError::kBadLoginLength);
  EXPECT_EQ(validate_header(c2s, 'U', 1, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(c2s, 'U', 101, 100, false), PacketError::kOversize);
  EXPECT_EQ(validate_header(c2s, 'R', 1, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(c2s, 'R', 2, 100, false), PacketError::kBadLength);
  EXPECT_EQ(validate_header(c2s, 'O', 1, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(c2s, '+', 20, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(c2s, 'S', 10, 100, false), PacketError::kUnknownType);  // server-only type
  EXPECT_EQ(validate_header(c2s, 'H', 1, 100, false), PacketError::kUnknownType);
  EXPECT_EQ(validate_header(c2s, 'L', 0, 100, false), PacketError::kZeroLength);
  EXPECT_EQ(validate_header(s2c, 'A', 31, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(s2c, 'A', 30, 100, false), PacketError::kBadLength);
  EXPECT_EQ(validate_header(s2c, 'J', 2, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(s2c, 'S', 100, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(s2c, 'H', 1, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(s2c, 'Z', 1, 100, false), PacketError::kNone);
  EXPECT_EQ(validate_header(s2c, 'Z', 3, 100, false), PacketError::kBadLength);
  EXPECT_EQ(validate_header(s2c, 'U', 5, 100, false), PacketError::kUnsequencedDisabled);
  EXPECT_EQ(validate_header(s2c, 'U', 5, 100, true), PacketError::kNone);
  EXPECT_EQ(validate_header(s2c, 'L', 47, 100, false), PacketError::kUnknownType);  // client-only type
  EXPECT_EQ(validate_header(s2c, 'x', 1, 100, false), PacketError::kUnknownType);
}

// Real bytes: the JNX SoupBinTCP login (../shared/data/pcap/jnx_soupbintcp). One whole packet per
// TCP segment in these captures.
TEST(SoupRealCapture, JnxLoginRequestAndAcceptedDecodeAndReencode) {
  HFT_REQUIRE_SHARED_DATA(dir);
  const auto req = testing::read_tcp_payloads(dir / "pcap/jnx_soupbintcp/LoginRequestPacket.pcap");
  const auto acc = testing::read_tcp_payloads(dir / "pcap/jnx_soupbintcp/LoginAcceptedPacket.pcap");
  ASSERT_TRUE(req.has_value());
  ASSERT_TRUE(acc.has_value());
  ASSERT_EQ(req->size(), 1u);
  ASSERT_EQ(acc->size(), 1u);

  const std::vector<std::uint8_t>& l = req->front().payload;
  ASSERT_EQ(l.size(), 49u);
  EXPECT_EQ(wire::load_be16(l.data()), kLoginRequestLength);
  ASSERT_EQ(validate_header(Direction::kClientToServer, l[2], l.size() - 2, 1024, false), PacketError::kNone);
  LoginRequest r;
  ASSERT_EQ(parse_login_request(l.data() + 3, l.size() - 3, r), PacketError::kNone);
  EXPECT_EQ(r.username.trimmed(), "user");
  EXPECT_EQ(r.password.trimmed(), "password");
  EXPECT_TRUE(r.session.blank());
  EXPECT_EQ(r.sequence, 0u);
  EXPECT_FALSE(r.v41);
  std::uint8_t buf[64];
  ASSERT_EQ(encode_login_request(buf, r), l.size());
  EXPECT_EQ(std::vector<std::uint8_t>(buf, buf + l.size()), l);

  const std::vector<std::uint8_t>& a = acc->front().payload;
  ASSERT_EQ(a.size(), 33u);
  ASSERT_EQ(validate_header(Direction::kServerToClient, a[2], a.size() - 2, 1024, false), PacketError::kNone);
  LoginAccepted la;
  ASSERT_EQ(parse_login_accepted(a.data() + 3, a.size() - 3, la), PacketError::kNone);
  EXPECT_EQ(la.session.trimmed(), "1689192121");
  EXPECT_EQ(la.sequence, 135u);
  ASSERT_EQ(encode_login_accepted(buf, la), a.size());
  EXPECT_EQ(std::vector<std::uint8_t>(buf, buf + a.size()), a);
}

}  // namespace
}  // namespace hft::soup
