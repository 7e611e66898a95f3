#include "venue/summary_json.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>


namespace hft::venue {

std::string summary_json(const VenueSummary& s) {
  using nlohmann::json;
  json by_type = json::object();
  for (std::size_t t = 0; t < s.itch_by_type.size(); ++t)
    if (s.itch_by_type[t] != 0) by_type[std::string(1, static_cast<char>(t))] = s.itch_by_type[t];
  const double secs = std::max(s.seconds, 1e-9);
  const OrderEntryCounters& o = s.order_entry;
  json reasons = json::object();
  for (std::size_t r = 0; r < o.reject_reasons.size(); ++r)
    if (o.reject_reasons[r] != 0) reasons[std::to_string(r)] = o.reject_reasons[r];
  const auto& q = s.rerequests;
  json j{
      {"schema", kSummaryJsonSchema},
      {"kind", "venue_summary"},
      {"seconds", s.seconds},
      {"outputs_ok", s.outputs_ok},
      {"itch",
       {{"messages", s.itch_messages},
        {"per_second", static_cast<double>(s.itch_messages) / secs},
        {"background_messages", s.background_messages},
        {"captured_messages", s.captured_messages},
        {"by_type", std::move(by_type)}}},
      {"feed",
       {{"packets", s.packets},
        {"message_packets", s.message_packets},
        {"heartbeats", s.heartbeats},
        {"end_of_session_packets", s.end_of_session_packets},
        {"bytes", s.feed_bytes},
        {"send_errors", s.send_errors},
        {"dropped_on_purpose", s.dropped_on_purpose}}},
      {"rerequests",
       {{"datagrams", q.datagrams},
        {"requests", q.requests},
        {"answered", q.answered},
        {"messages_resent", q.messages_resent},
        {"beyond_range", q.beyond_range},
        {"unavailable", q.unavailable},
        {"malformed", q.malformed},
        {"wrong_session", q.wrong_session}}},
      {"sessions", {{"logins", s.logins}, {"login_rejects", s.login_rejects}, {"disconnects", s.disconnects},
                    {"connections_refused", s.connections_refused}, {"connections_evicted", s.connections_evicted},
                    {"lockout_refusals", s.lockout_refusals}}},
      {"ouch",
       {{"messages_in", o.messages},
        {"enter", o.enter},
        {"replace", o.replace},
        {"cancel", o.cancel},
        {"modify", o.modify},
        {"account_query", o.account_query},
        {"malformed", o.malformed},
        {"accepted", o.accepted},
        {"rejected", o.rejected},
        {"user_ref_violations", o.user_ref_violations},
        {"ignored", o.ignored},
        {"replaced", o.replaced},
        {"canceled", o.canceled},
        {"expired", o.expired},
        {"executions", o.executions},
        {"messages_out", o.outbound},
        {"reject_reasons", std::move(reasons)}}},
      {"engine",
       {{"accepted", s.engine.accepted},
        {"rejected", s.engine.rejected},
        {"executions", s.engine.executions},
        {"executed_shares", s.engine.executed_shares},
        {"cancels", s.engine.cancels},
        {"replaces", s.engine.replaces},
        {"refreshes", s.engine.refreshes},
        {"self_match_preventions", s.engine.self_match_preventions},
        {"resting_orders", s.live_orders},
        {"client_orders", s.client_orders}}},
      {"background",
       {{"actions", s.background.actions},
        {"adds", s.background.adds},
        {"replaces", s.background.replaces},
        {"deletes", s.background.deletes},
        {"partial_cancels", s.background.cancels},
        {"takes", s.background.takes},
        {"idle_actions", s.background.idle_actions}}},
      {"probe",
       {{"sent", s.probe.sent},
        {"answered", s.probe.answered},
        {"timeouts", s.probe.timeouts},
        {"unanswerable", s.probe.unanswerable},
        {"stray", s.probe.stray},
        {"p50_ns", s.probe_p50_ns},
        {"p90_ns", s.probe_p90_ns},
        {"p99_ns", s.probe_p99_ns},
        {"p999_ns", s.probe_p999_ns},
        {"max_ns", s.probe_max_ns}}},
  };
  // Issue 14: the venue, its fees per user, the lead channel and the follower.
  j["venue"] = {{"name", s.venue}, {"mpid", s.mpid}, {"fee_add", s.fee_add}, {"fee_remove", s.fee_remove}};
  json fees = json::object();
  for (const auto& [user, f] : s.user_fees)
    fees[user] = {{"executions", f.executions},
                  {"shares_added", f.shares_added},
                  {"shares_removed", f.shares_removed},
                  {"fees", static_cast<double>(f.fees_micros) / 1e6}};
  j["fees"] = std::move(fees);
  if (s.leading)
    j["lead"] = {{"followers", s.lead_followers}, {"accepted", s.lead.accepted}, {"refused", s.lead.refused},
                 {"closed", s.lead.closed},       {"records", s.lead.records},   {"dropped", s.lead.dropped},
                 {"snapshots", s.lead.snapshots}, {"bytes", s.lead.bytes}};
  if (s.following) {
    const FollowCounters& f = s.follow;
    j["follow"] = {{"leader_venue", s.leader_venue},
                   {"connects", f.connects},
                   {"connect_failures", f.connect_failures},
                   {"disconnects", f.disconnects},
                   {"malformed", f.malformed},
                   {"values", f.values},
                   {"applied", f.applied},
                   {"unknown_symbols", f.unknown_symbols},
                   {"queue_drops", f.queue_drops},
                   {"sequence_gaps", f.sequence_gaps},
                   {"age_max_ns", f.age_max_ns},
                   {"age_mean_ns", f.values != 0 ? f.age_sum_ns / f.values : 0}};
  }
  return j.dump() + "\n";
}

}  // namespace hft::venue
