// Fuzz target: every market-data parser that takes bytes from a file or the network, on the
// same input: ITCH decode_message (the input as one message) and decode_blocks (as a block
// stream), the BinaryFILE reader and cursor, MoldUDP64 datagram decoding, the back-to-back
// MoldUDP64 packet cursor, and the pcap frame parser for every link type. The handler reads every
// field of every view, so a view that reaches past its message shows up under ASan.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "gateways/files/binary_file.hpp"
#include "gateways/files/itch_pcap.hpp"
#include "gateways/files/pcap_reader.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/moldudp64/packet_stream.hpp"

namespace {

using namespace hft;

struct ReadEverything {
  std::uint64_t sink = 0;

  void add(std::uint64_t v) { sink = sink * 31 + v; }
  void add(std::string_view s) {
    for (char c : s) add(static_cast<std::uint64_t>(static_cast<unsigned char>(c)));
  }
  void add(const itch::Symbol& s) { add(s.key()); }
  void head(const itch::Header& m) {
    add(static_cast<std::uint64_t>(m.message_type()));
    add(m.stock_locate());
    add(m.tracking_number());
    add(m.timestamp());
  }

  void on_mold_message(const files::MoldMessageContext& c) { add(c.sequence + c.index); }
  void on_system_event(const itch::SystemEvent& m) { head(m), add(m.event_code()); }
  void on_stock_directory(const itch::StockDirectory& m) {
    head(m);
    add(m.stock()), add(m.market_category()), add(m.financial_status_indicator()), add(m.round_lot_size());
    add(m.round_lots_only()), add(m.issue_classification()), add(m.issue_sub_type()), add(m.authenticity());
    add(m.short_sale_threshold_indicator()), add(m.ipo_flag()), add(m.luld_reference_price_tier());
    add(m.etp_flag()), add(m.etp_leverage_factor()), add(m.inverse_indicator());
  }
  void on_stock_trading_action(const itch::StockTradingAction& m) {
    head(m), add(m.stock()), add(m.trading_state()), add(m.reserved()), add(m.reason());
  }
  void on_reg_sho_restriction(const itch::RegShoRestriction& m) { head(m), add(m.stock()), add(m.reg_sho_action()); }
  void on_market_participant_position(const itch::MarketParticipantPosition& m) {
    head(m), add(m.mpid()), add(m.stock()), add(m.primary_market_maker()), add(m.market_maker_mode()),
        add(m.market_participant_state());
  }
  void on_mwcb_decline_level(const itch::MwcbDeclineLevel& m) { head(m), add(m.level_1()), add(m.level_2()), add(m.level_3()); }
  void on_mwcb_status(const itch::MwcbStatus& m) { head(m), add(m.breached_level()); }
  void on_ipo_quoting_period_update(const itch::IpoQuotingPeriodUpdate& m) {
    head(m), add(m.stock()), add(m.ipo_quotation_release_time()), add(m.ipo_quotation_release_qualifier()),
        add(m.ipo_price());
  }
  void on_luld_auction_collar(const itch::LuldAuctionCollar& m) {
    head(m), add(m.stock()), add(m.auction_collar_reference_price()), add(m.upper_auction_collar_price()),
        add(m.lower_auction_collar_price()), add(m.auction_collar_extension());
  }
  void on_operational_halt(const itch::OperationalHalt& m) {
    head(m), add(m.stock()), add(m.market_code()), add(m.operational_halt_action());
  }
  void on_add_order(const itch::AddOrder& m) {
    head(m), add(m.order_reference_number()), add(m.buy_sell_indicator()), add(m.shares()), add(m.stock()),
        add(m.price());
  }
  void on_add_order_mpid(const itch::AddOrderMpid& m) { on_add_order(m), add(m.attribution()); }
  void on_order_executed(const itch::OrderExecuted& m) {
    head(m), add(m.order_reference_number()), add(m.executed_shares()), add(m.match_number());
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) {
    on_order_executed(m), add(m.printable()), add(m.execution_price());
  }
  void on_order_cancel(const itch::OrderCancel& m) { head(m), add(m.order_reference_number()), add(m.cancelled_shares()); }
  void on_order_delete(const itch::OrderDelete& m) { head(m), add(m.order_reference_number()); }
  void on_order_replace(const itch::OrderReplace& m) {
    head(m), add(m.original_order_reference_number()), add(m.new_order_reference_number()), add(m.shares()),
        add(m.price());
  }
  void on_trade(const itch::Trade& m) {
    head(m), add(m.order_reference_number()), add(m.buy_sell_indicator()), add(m.shares()), add(m.stock()),
        add(m.price()), add(m.match_number());
  }
  void on_cross_trade(const itch::CrossTrade& m) {
    head(m), add(m.shares()), add(m.stock()), add(m.cross_price()), add(m.match_number()), add(m.cross_type());
  }
  void on_broken_trade(const itch::BrokenTrade& m) { head(m), add(m.match_number()); }
  void on_noii(const itch::Noii& m) {
    head(m), add(m.paired_shares()), add(m.imbalance_shares()), add(m.imbalance_direction()), add(m.stock()),
        add(m.far_price()), add(m.near_price()), add(m.current_reference_price()), add(m.cross_type()),
        add(m.price_variation_indicator());
  }
  void on_rpii(const itch::Rpii& m) { head(m), add(m.stock()), add(m.interest_flag()); }
  void on_direct_listing_capital_raise(const itch::DirectListingCapitalRaise& m) {
    head(m), add(m.stock()), add(m.open_eligibility_status()), add(m.minimum_allowable_price()),
        add(m.maximum_allowable_price()), add(m.near_execution_price()), add(m.near_execution_time()),
        add(m.lower_price_range_collar()), add(m.upper_price_range_collar());
  }
};

void check(bool ok) {
  if (!ok) std::abort();
}

volatile std::uint64_t g_keep = 0;  // keeps the field reads from being optimised away

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ReadEverything h;
  const std::span<const std::uint8_t> bytes(data, size);

  itch::DecodeStats one;
  itch::decode_message(data, size, h, one);
  check(one.messages + one.empty + one.unknown_type + one.bad_length == 1);

  itch::DecodeStats stats;
  const auto r = itch::decode_blocks(data, size, h, stats);
  check(r.consumed <= size);
  check(r.truncated == (r.consumed != size));
  check(stats.messages + stats.empty + stats.unknown_type + stats.bad_length == r.blocks);

  // BinaryFILE: the decoder and the cursor must agree on the framing.
  itch::DecodeStats fstats;
  const auto rep = files::decode_binary_file(bytes, h, fstats);
  files::BinaryFileCursor cur(bytes);
  files::RawMessage m;
  std::uint64_t n = 0;
  while (cur.next(m)) {
    check(m.data >= data && m.data + m.length <= data + size);
    ++n;
  }
  const auto& crep = cur.report();
  check(n == rep.messages && crep.messages == rep.messages);
  check(crep.consumed == rep.consumed && crep.end_marker == rep.end_marker);
  check(crep.truncated == rep.truncated && crep.truncated_offset == rep.truncated_offset);
  check(crep.truncated_missing == rep.truncated_missing && crep.bytes_after_marker == rep.bytes_after_marker);
  check(rep.consumed + rep.bytes_after_marker <= size);

  // The input as one MoldUDP64 datagram.
  files::UdpDatagram d;
  d.payload = data;
  d.length = size;
  files::MoldStats ms;
  itch::DecodeStats mstats;
  files::decode_mold_datagram(d, h, ms, mstats);

  // The input as back-to-back MoldUDP64 packets.
  mold::PacketStreamCursor pc(bytes);
  mold::StreamPacket p;
  while (pc.next(p)) {
    check(p.data >= data && p.data + p.size <= data + size);
    h.add(p.header.sequence + p.complete_messages);
  }

  // The input as a captured frame of every link type.
  for (auto link : {files::LinkType::kEthernet, files::LinkType::kLinuxSll, files::LinkType::kLinuxSll2,
                    files::LinkType::kRawIp}) {
    files::UdpDatagram u;
    if (files::parse_frame(link, data, size, u) == files::FrameStatus::kUdp) {
      check(u.payload >= data && u.payload + u.length <= data + size);
      files::decode_mold_datagram(u, h, ms, mstats);
    }
  }
  g_keep = h.sink;
  return 0;
}
