#pragma once
// UserRefNum rules of one OUCH account (a venue keeps one validator per user), OUCH 5.0:
//  * §1.2: "the UserRefNum ... must be both unique and strictly increasing throughout the trading
//    day. The system ignores new order requests identified with UserRefNums lower than the last
//    one processed, assuming they are retransmissions."
//  * §2.2: a replacement UserRefNum follows the same rule; one already used is ignored. A replace
//    that is silently ignored or that cancels the order does not consume its new UserRefNum.
//  * §3.8: the UserRefNum of a Rejected message cannot be reused (it is consumed).
// So a number is acceptable when it is above the last one consumed (0 never is), and the venue
// consumes it when it answers with Accepted, Replaced or Rejected.
//
// What happens to a violation is a policy. kIgnore is NASDAQ's documented behaviour (the default:
// an inbound message may be a benign retransmission, §2). kReject answers with a Rejected 'J'
// instead; Appendix D has no UserRefNum-specific code, so the reason is configurable and defaults
// to 0x000F "Other". Beware that a 'J' carries the offending UserRefNum, which (being a reuse)
// may name a live order of the client's.
#include <cstdint>

#include "gateways/ouch/types.hpp"

namespace hft::ouch {

enum class UserRefNumPolicy : std::uint8_t { kIgnore, kReject };
enum class UserRefNumVerdict : std::uint8_t { kAccept, kIgnore, kReject };

struct UserRefNumCheck {
  UserRefNumVerdict verdict = UserRefNumVerdict::kAccept;
  RejectReason reason = RejectReason::kOther;  // meaningful for kReject
  [[nodiscard]] bool accepted() const noexcept { return verdict == UserRefNumVerdict::kAccept; }
};

class UserRefNumValidator {
 public:
  explicit UserRefNumValidator(UserRefNumPolicy policy = UserRefNumPolicy::kIgnore,
                               RejectReason reason = RejectReason::kOther) noexcept
      : policy_(policy), reason_(reason) {}

  // Whether `n` may identify a new transaction (Enter Order, or the new number of a Replace).
  [[nodiscard]] UserRefNumCheck check(UserRefNum n) const noexcept {
    if (n > last_) return {UserRefNumVerdict::kAccept, reason_};
    return {policy_ == UserRefNumPolicy::kIgnore ? UserRefNumVerdict::kIgnore : UserRefNumVerdict::kReject, reason_};
  }
  // Marks `n` used (after Accepted, Replaced or Rejected). Lower numbers are left as they are.
  void consume(UserRefNum n) noexcept {
    if (n > last_) last_ = n;
  }
  // check(), and consume() when accepted: for Enter Order, which always consumes its number.
  UserRefNumCheck admit(UserRefNum n) noexcept {
    const UserRefNumCheck c = check(n);
    if (c.accepted()) {
      last_ = n;
    } else {
      ++violations_;
    }
    return c;
  }
  // Counts a violation found by check() (admit() counts its own).
  void count_violation() noexcept { ++violations_; }

  [[nodiscard]] UserRefNum last() const noexcept { return last_; }
  // NextUserRefNum of an Account Query Response (§3.14); 0 once the 32-bit space is used up.
  [[nodiscard]] UserRefNum next_available() const noexcept { return last_ + 1; }
  [[nodiscard]] std::uint64_t violations() const noexcept { return violations_; }
  [[nodiscard]] UserRefNumPolicy policy() const noexcept { return policy_; }
  // A new trading day.
  void reset() noexcept {
    last_ = 0;
    violations_ = 0;
  }

 private:
  UserRefNumPolicy policy_;
  RejectReason reason_;
  UserRefNum last_ = 0;
  std::uint64_t violations_ = 0;
};

}  // namespace hft::ouch
