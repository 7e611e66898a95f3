#include "gateways/ouch/user_ref_num.hpp"

#include <gtest/gtest.h>

namespace hft::ouch {
namespace {

TEST(UserRefNum, StrictlyIncreasingAndDayUnique) {
  UserRefNumValidator v;
  EXPECT_EQ(v.next_available(), 1u);
  EXPECT_FALSE(v.admit(0).accepted());  // 0 is never above the last one
  EXPECT_TRUE(v.admit(1).accepted());
  EXPECT_TRUE(v.admit(2).accepted());
  EXPECT_TRUE(v.admit(10).accepted());   // gaps are allowed
  EXPECT_FALSE(v.admit(10).accepted());  // a repeat
  EXPECT_FALSE(v.admit(5).accepted());   // lower than the last: a retransmission
  EXPECT_TRUE(v.admit(11).accepted());
  EXPECT_EQ(v.last(), 11u);
  EXPECT_EQ(v.next_available(), 12u);
  EXPECT_EQ(v.violations(), 3u);
}

TEST(UserRefNum, PolicyIgnoreFollowsTheSpecAndRejectGivesAReason) {
  UserRefNumValidator ignore;
  ASSERT_TRUE(ignore.admit(7).accepted());
  EXPECT_EQ(ignore.check(7).verdict, UserRefNumVerdict::kIgnore);

  UserRefNumValidator reject(UserRefNumPolicy::kReject);
  ASSERT_TRUE(reject.admit(7).accepted());
  const UserRefNumCheck c = reject.check(3);
  EXPECT_EQ(c.verdict, UserRefNumVerdict::kReject);
  EXPECT_EQ(c.reason, RejectReason::kOther);

  UserRefNumValidator custom(UserRefNumPolicy::kReject, RejectReason::kProcessingError);
  EXPECT_EQ(custom.admit(0).reason, RejectReason::kProcessingError);
}

// A replace that is ignored or that cancels the order does not consume its new number (§2.2);
// check() then consume() lets the venue decide after processing.
TEST(UserRefNum, ReplaceConsumesOnlyWhenTheVenueSaysSo) {
  UserRefNumValidator v;
  ASSERT_TRUE(v.admit(1).accepted());  // Enter Order 1
  ASSERT_TRUE(v.check(2).accepted());  // Replace 1 -> 2, silently ignored: not consumed
  EXPECT_TRUE(v.check(2).accepted());  // 2 may be reused
  v.consume(2);                        // Replace 1 -> 2 accepted (Replaced) or rejected (J)
  EXPECT_FALSE(v.check(2).accepted());
  v.consume(1);  // consuming a lower number changes nothing
  EXPECT_EQ(v.last(), 2u);
}

TEST(UserRefNum, ResetStartsANewDay) {
  UserRefNumValidator v;
  v.admit(100);
  v.reset();
  EXPECT_EQ(v.last(), 0u);
  EXPECT_TRUE(v.admit(1).accepted());
}

TEST(UserRefNum, TopOfTheRange) {
  UserRefNumValidator v;
  EXPECT_TRUE(v.admit(0xFFFFFFFFu).accepted());
  EXPECT_FALSE(v.admit(0xFFFFFFFFu).accepted());
  EXPECT_EQ(v.next_available(), 0u);  // exhausted
}

}  // namespace
}  // namespace hft::ouch
