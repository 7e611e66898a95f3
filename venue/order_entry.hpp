#pragma once
// OUCH 5.0 order entry (../shared/specs/nasdaq-ouch-5.0.txt): inbound messages of each
// SoupBinTCP user become matching-engine requests; engine events on that user's orders become
// sequenced OUCH messages on the user's stream (soup::ServerContext), so a client that logs in
// again with its next sequence number gets exactly what it missed.
//
// Mapping (what the venue does with each field; anything it cannot honour is refused with the
// Appendix D reason that names it, never silently changed):
//   Side            B buy; S, T (short), E (short exempt) sell. No Reg SHO check is made.
//   Time In Force   0 DAY -> engine DAY; 3 IOC -> IOC; 5 GTX (extended hours) and E (after
//                   hours) -> DAY (the venue has one session); 6 GTT -> DAY plus an expiry the
//                   venue enforces (ExpireTime seconds, required), cancelled with reason 'T'.
//   PostOnly 'P'    -> engine post-only (GTX): an order that would take liquidity is accepted and
//                   cancelled with reason 'G' (App. C); with IOC it is refused (0x000F).
//   Display         Y visible, Z conformant -> displayed; N -> hidden (executions print as ITCH
//                   'P'); A attributable -> displayed with the firm on ITCH 'F'.
//   Firm            the MPID of attributable orders; blank: the account's firm. An account with a
//                   configured firm may use no other (0x000C Firm Not Authorized).
//   MinQty          -> engine MinQty (binds on entry; a round lot, else 0x000D).
//   MaxFloor        -> engine reserve order: displayed slices of MaxFloor shares, refreshed from
//                   the reserve under a new reference (OUCH 'R' Restated with DisplayQuantity and
//                   SecondaryOrdRefNum = the new ITCH reference); hidden + MaxFloor is 0x0004.
//   Price           1..$199,999.99 on the penny grid (else 0x001D); 0x7FFFFFFF, $200,000 and
//                   above (§1.2 "treated as market orders") -> a market order.
//   Capacity A/P/R/O; InterMarket Sweep 'Y' is 0x0008 (no routing); CrossType other than 'N'
//                   is 0x0014 (no crosses); pegs 0x0011; Route 0x0016; discretion and random
//                   reserves 0x000F. CustomerType, GroupID, SharesLocated, TradeNow, HandleInst ' '
//                   are accepted and have no effect.
//   UserRefNum      day-unique and strictly increasing per user (ouch::UserRefNumValidator);
//                   a violation is rejected (policy "reject", the default) or ignored ("ignore",
//                   NASDAQ's documented behaviour). Accepted, Replaced and Rejected consume it.
//   Replace         §2.2: unknown original or used replacement number -> ignored (or rejected by
//                   policy); invalid details (quantity 0 or >= 1,000,000, bad price) -> the order
//                   is cancelled; a change of TIF, display or options -> Rejected 0x0015 (order
//                   intact); else the engine replaces it (Quantity is the chain's total: the open
//                   quantity becomes Quantity - executed), answered with 'U' Replaced.
//   Cancel          Quantity is the intended total: open = Quantity - executed; superfluous
//                   cancels (unknown order, nothing to take off) are ignored (§2.3).
//   Modify          side among S/T/E and a smaller intended size; answered with 'M'; anything
//                   else is ignored (§2.4).
//   Account Query   'Q' with the user's next acceptable UserRefNum.
//
// Sessions: a user's stream, its UserRefNums and its orders live for the whole run (the venue's
// trading day), across any number of connections: a client that logs in again with its next
// sequence number gets exactly what it missed (gateways/soupbintcp/server.hpp). With
// cancel-on-disconnect (VenueConfig::cancels_on_disconnect) the loss of a user's session cancels
// every working order of the user (session_lost()): OUCH 'C' reason 'Z' (Appendix C "System
// cancel") on the user's stream, so the client learns of them when it logs in again, and ITCH
// 'D' for everyone. Any loss counts, a clean logout included, as at real venues (a client that
// logs out has nobody watching its orders); the end of the day ('Z') does not.
//
// Hot path: decode into stack structs, engine call, encode in place into the user's store. The
// order table, its index and the per-user state are allocated at construction.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/id_map.hpp"
#include "gateways/ouch/codec.hpp"
#include "gateways/ouch/user_ref_num.hpp"
#include "gateways/soupbintcp/server.hpp"
#include "venue/config.hpp"
#include "venue/execution_log.hpp"
#include "venue/feed.hpp"
#include "venue/listener.hpp"

namespace hft::venue {

// One live order of an order-entry user: what OUCH echoes and what ITCH attribution needs.
struct ClientOrder {
  match::OrderRef ref = 0;        // the engine's (and ITCH's) current reference
  std::uint64_t expire_ns = 0;    // GTT: monotonic deadline; 0 = none
  ouch::UserRefNum user_ref = 0;  // the chain's current UserRefNum
  std::uint32_t user = 0;
  std::uint32_t next_free = 0;
  std::uint32_t gtt_pos = 0;      // index in the GTT list when expire_ns != 0
  std::uint16_t locate = 0;
  ouch::Side side = ouch::Side::kBuy;
  ouch::TimeInForce tif = ouch::TimeInForce::kDay;
  ouch::Display display = ouch::Display::kVisible;
  ouch::Capacity capacity = ouch::Capacity::kAgency;
  ouch::IntermarketSweep iso = ouch::IntermarketSweep::kNotEligible;
  ouch::CrossType cross = ouch::CrossType::kContinuous;
  bool post_only = false;
  bool live = false;
  std::uint32_t min_qty = 0;
  std::uint32_t max_floor = 0;
  ouch::ClOrdId cl_ord_id;
  ouch::Firm firm;
};

struct OrderEntryCounters {
  std::uint64_t messages = 0;            // OUCH messages received
  std::uint64_t malformed = 0;           // undecodable (unknown type, bad length, bad appendage)
  std::uint64_t enter = 0, replace = 0, cancel = 0, modify = 0, account_query = 0;
  std::uint64_t accepted = 0;            // 'A' sent
  std::uint64_t rejected = 0;            // 'J' sent (venue checks and engine rejects)
  std::uint64_t user_ref_violations = 0; // UserRefNum not above the last one used
  std::uint64_t ignored = 0;             // superfluous or not allowed (§2.2-2.4), dropped silently
  std::uint64_t replaced = 0, canceled = 0, executions = 0, modified = 0, restated = 0, expired = 0;
  std::uint64_t outbound = 0;            // sequenced OUCH messages appended
  std::uint64_t outbound_dropped = 0;    // a message larger than the store's max_message (never expected)
  std::uint64_t table_full = 0;          // no free client order slot: rejected 0x000A
  std::uint64_t sessions_lost = 0;       // of users with cancel-on-disconnect, while trading
  std::uint64_t canceled_on_disconnect = 0;  // orders cancelled for it
  std::array<std::uint64_t, ouch::kMaxRejectReason + 1> reject_reasons{};
};

// Issue 14: what each user traded and paid on this venue (fees in millionths of a dollar,
// negative = rebates received).
struct UserFees {
  std::uint64_t executions = 0;
  std::uint64_t shares_added = 0, shares_removed = 0;
  std::int64_t fees_micros = 0;
};

class OrderEntry {
 public:
  // Users are config.accounts, in order (the SoupBinTCP server's user indices).
  OrderEntry(const VenueConfig& config, soup::ServerContext& context, VenueEngine& engine, VenueClock& clock,
             std::uint16_t probe_locate);

  // Symbol -> stock locate, for OUCH's Symbol field (built once; sorted, searched in place).
  void set_symbols(const std::vector<itch::Symbol>& by_locate);

  // One OUCH message from `user` (a SoupBinTCP unsequenced packet's payload).
  void handle(std::uint32_t user, std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept;

  // OUCH System Event on every user's stream (start 'S' / end 'E' of day); orders are taken
  // between the two (before and after: Enter Order is refused 0x0002 Destination Closed, the
  // others are ignored).
  void system_event(ouch::SystemEventCode code) noexcept;
  [[nodiscard]] bool open() const noexcept { return open_; }

  // The SoupBinTCP session of `user` ended (after a successful login) for `reason`: with
  // cancel-on-disconnect, every working order of the user is cancelled (reason 'Z'). Returns how
  // many. Nothing happens after the end of the day.
  std::uint32_t session_lost(std::uint32_t user, soup::CloseReason reason, std::uint64_t now_ns) noexcept;
  // Every execution reported to a user also goes to `log` (nullptr: none).
  void set_execution_log(ExecutionLog* log) noexcept { executions_ = log; }

  // GTT expiry: cancels orders whose ExpireTime has passed. Returns the earliest deadline left
  // (0 = none).
  std::uint64_t expire(std::uint64_t now_ns) noexcept;
  // No expiry is due before this (0 = none armed); may be early (an order left), never late.
  [[nodiscard]] std::uint64_t next_expiry() const noexcept { return next_expiry_; }

  // ---- engine events on client orders (called by the venue's listener) --------------------
  void on_accepted(const match::Accepted& e) noexcept;
  void on_rejected(const match::Rejected& e) noexcept;
  void on_execution(const match::Execution& e, bool resting) noexcept;
  void on_canceled(const match::Canceled& e) noexcept;
  void on_replaced(const match::Replaced& e) noexcept;
  void on_refreshed(const match::Refreshed& e) noexcept;
  // MPID of a client order's ITCH add: its firm when attributable, else nullptr.
  [[nodiscard]] const char* mpid(match::OwnerId owner, match::UserRef user_ref) const noexcept;

  // A probe answer hook: the venue's latency probe wants to see every Enter Order on its symbol.
  using ProbeHook = void (*)(void* context, bool before, std::uint64_t now_ns) noexcept;
  void set_probe_hook(ProbeHook hook, void* context) noexcept {
    probe_hook_ = hook;
    probe_context_ = context;
  }

  // Set when a sequenced message was appended since the last call (the TCP sessions have output).
  bool take_output_pending() noexcept {
    const bool p = output_pending_;
    output_pending_ = false;
    return p;
  }

  [[nodiscard]] const OrderEntryCounters& counters() const noexcept { return counters_; }
  // Per user (config.accounts order).
  [[nodiscard]] const std::vector<UserFees>& fees() const noexcept { return fees_; }
  [[nodiscard]] std::uint32_t live_orders() const noexcept { return live_; }
  [[nodiscard]] const ouch::UserRefNumValidator& validator(std::uint32_t user) const noexcept {
    return users_[user].validator;
  }

  // ---- decode_inbound handler (per message; the user is the one being served) -------------
  void on_message(const ouch::EnterOrder& m) noexcept;
  void on_message(const ouch::ReplaceOrder& m) noexcept;
  void on_message(const ouch::CancelOrder& m) noexcept;
  void on_message(const ouch::ModifyOrder& m) noexcept;
  void on_message(const ouch::AccountQuery& m) noexcept;

 private:
  struct UserState {
    ouch::UserRefNumValidator validator;
    ouch::Firm firm;         // default MPID of attributable orders
    bool firm_fixed = false; // configured: no other firm allowed
    bool cancel_on_disconnect = false;
  };

  static constexpr std::uint32_t kNil = 0xFFFF'FFFFu;

  [[nodiscard]] static std::uint64_t key(std::uint32_t user, ouch::UserRefNum ref) noexcept {
    return (static_cast<std::uint64_t>(user) + 1) << 32 | ref;
  }
  [[nodiscard]] ClientOrder* find(std::uint32_t user, ouch::UserRefNum ref) noexcept {
    const std::uint32_t* i = index_.find(key(user, ref));
    return i == nullptr ? nullptr : &orders_[*i];
  }
  [[nodiscard]] const ClientOrder* find(std::uint32_t user, ouch::UserRefNum ref) const noexcept {
    const std::uint32_t* i = index_.find(key(user, ref));
    return i == nullptr ? nullptr : &orders_[*i];
  }
  std::uint32_t allocate(std::uint32_t user, ouch::UserRefNum ref) noexcept;
  void release(ClientOrder& o) noexcept;
  void rekey(ClientOrder& o, ouch::UserRefNum new_ref) noexcept;
  void track_expiry(ClientOrder& o, std::uint64_t deadline) noexcept;
  void untrack_expiry(ClientOrder& o) noexcept;

  [[nodiscard]] std::uint16_t locate_of(const itch::Symbol& s) const noexcept;
  // Venue checks of an Enter Order beyond the codec; 0 = fine.
  [[nodiscard]] std::uint16_t check_enter(const ouch::EnterOrder& m, ouch::Firm& firm, std::uint16_t& locate,
                                          match::NewOrder& req) const noexcept;
  [[nodiscard]] static bool replace_changes_options(const ClientOrder& o, const ouch::Options& opt) noexcept;
  void cancel_order(ClientOrder& o, match::Qty open_after, char reason) noexcept;
  // The served user's live order `ref` (set in `o`) and the engine's view of it; nullopt when the
  // order is not live.
  std::optional<match::OrderView> live_order(ouch::UserRefNum ref, ClientOrder*& o) noexcept;
  // A replace, cancel or modify outside the trading day: counted as ignored.
  bool ignored_while_closed() noexcept;
  // Cancel and Modify give "the new intended order size": the most that may execute over the
  // order's life after the request (§2.3), so the open quantity becomes intended - executed.
  [[nodiscard]] static match::Qty open_after_intended(std::uint32_t intended, const match::OrderView& v) noexcept {
    return intended > v.executed ? intended - v.executed : 0;
  }
  void enter(const ouch::EnterOrder& m, std::uint16_t locate) noexcept;

  // Appends one OUCH message to `user`'s stream.
  template <class M>
  void send(std::uint32_t user, const M& m) noexcept {
    constexpr std::size_t kMax = M::kFixedSize + (M::kHasAppendage ? ouch::kMaxKnownAppendage : 0);
    std::uint8_t* out = context_.reserve(user, kMax);
    if (out == nullptr) [[unlikely]] {
      ++counters_.outbound_dropped;
      return;
    }
    const std::size_t n = ouch::encode(out, kMax, m);
    context_.commit(user, n);
    ++counters_.outbound;
    output_pending_ = true;
  }
  void send_rejected(std::uint32_t user, ouch::UserRefNum ref, ouch::RejectReason reason,
                     const ouch::ClOrdId& cl_ord_id) noexcept;

  soup::ServerContext& context_;
  VenueEngine& engine_;
  VenueClock& clock_;
  std::uint16_t probe_locate_;
  std::vector<UserState> users_;
  std::vector<std::pair<std::uint64_t, std::uint16_t>> locates_;  // symbol key -> locate, sorted
  std::vector<itch::Symbol> symbols_;                             // by locate - 1
  std::vector<ClientOrder> orders_;
  core::IdMap index_;
  std::vector<std::uint32_t> gtt_;  // orders with an expiry
  std::uint64_t next_expiry_ = 0;
  std::uint32_t free_ = kNil;
  std::uint32_t live_ = 0;
  OrderEntryCounters counters_;
  std::vector<UserFees> fees_;
  std::string venue_name_;
  std::int64_t fee_add_micros_ = 0, fee_remove_micros_ = 0;
  bool output_pending_ = false;
  bool open_ = false;

  // The request being served (set around each engine call, read by the event handlers).
  std::uint32_t user_ = 0;
  std::uint64_t now_ns_ = 0;
  const ouch::EnterOrder* entering_ = nullptr;
  const ouch::ReplaceOrder* replacing_ = nullptr;
  char cancel_reason_ = 0;     // overrides 'U' for venue-initiated cancels (0 = none)
  bool modifying_ = false;     // a Modify answers with 'M', not 'C'
  ProbeHook probe_hook_ = nullptr;
  void* probe_context_ = nullptr;
  ExecutionLog* executions_ = nullptr;
};

}  // namespace hft::venue
