#pragma once
// Pieces shared by the hft-itch subcommands: exit codes, the buffered output, the adaptor that
// turns the ITCH decoder's typed callbacks back into raw validated messages, and the inputs
// (a BinaryFILE mapped in place, or a pcap whose MoldUDP64 packets are walked in order).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "gateways/files/binary_file.hpp"
#include "gateways/files/itch_pcap.hpp"
#include "gateways/files/pcap_reader.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/messages.hpp"
#include "pipeline/book/config.hpp"

namespace hft::itch_tool {

// Exit codes (documented in `hft-itch --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitIo = 1;          // a file cannot be opened, read or written
inline constexpr int kExitUsage = 2;       // bad arguments
inline constexpr int kExitBadInput = 3;    // the input had decoding errors (output still written)

// An error that ends the command with a message on stderr and the given exit code.
class ToolError : public std::runtime_error {
 public:
  ToolError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  int code_;
};

// stdout (or any descriptor) through a large buffer: one write(2) per ~1 MiB, not per line.
// A failed write (disk full, closed pipe) throws ToolError(kExitIo).
class Output {
 public:
  static constexpr std::size_t kFlushAt = 1u << 20;
  explicit Output(std::FILE* file = stdout) : file_(file) {}
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() noexcept;

  fmt::memory_buffer& buffer() noexcept { return buf_; }
  void append(std::string_view s) { buf_.append(s.data(), s.data() + s.size()); }
  void put(char c) { buf_.push_back(c); }
  template <class... Args>
  void print(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(fmt::appender(buf_), f, std::forward<Args>(args)...);
  }
  // Call after each record: writes out once the buffer is large.
  void maybe_flush() {
    if (buf_.size() >= kFlushAt) flush();
  }
  void flush();

 private:
  std::FILE* file_;
  fmt::memory_buffer buf_;
};

// ---- formatting helpers ---------------------------------------------------------------------
// "HH:MM:SS.nnnnnnnnn" of ns since midnight (hours go past 23 for out-of-range values).
void append_clock(fmt::memory_buffer& out, std::uint64_t ns);
std::string clock_text(std::uint64_t ns);
// A JSON string: '"' and '\\' escaped, every byte outside printable ASCII as \u00XX.
void append_json_string(fmt::memory_buffer& out, std::string_view text);
// `text` without trailing spaces.
std::string_view trim_right(std::string_view text) noexcept;
// Fixed-point decimal: 1234500 with 4 decimals is "123.4500".
void append_fixed(fmt::memory_buffer& out, std::uint64_t value, unsigned decimals);

// ---- raw messages out of the typed decoder --------------------------------------------------
// Every ITCH handler member, forwarding the message bytes (already length-checked by the
// decoder: kMessageLength[type] bytes) to sink.on_message(const std::uint8_t*). Lets a tool use
// the project's decoder, with its statistics and bounds checks, and still treat all 23 types
// through the field table.
template <class Sink>
struct RawMessages {
  Sink* sink;
#define HFT_RAW(member, View) \
  void member(const itch::View& m) { sink->on_message(m.p); }
  HFT_RAW(on_system_event, SystemEvent)
  HFT_RAW(on_stock_directory, StockDirectory)
  HFT_RAW(on_stock_trading_action, StockTradingAction)
  HFT_RAW(on_reg_sho_restriction, RegShoRestriction)
  HFT_RAW(on_market_participant_position, MarketParticipantPosition)
  HFT_RAW(on_mwcb_decline_level, MwcbDeclineLevel)
  HFT_RAW(on_mwcb_status, MwcbStatus)
  HFT_RAW(on_ipo_quoting_period_update, IpoQuotingPeriodUpdate)
  HFT_RAW(on_luld_auction_collar, LuldAuctionCollar)
  HFT_RAW(on_operational_halt, OperationalHalt)
  HFT_RAW(on_add_order, AddOrder)
  HFT_RAW(on_add_order_mpid, AddOrderMpid)
  HFT_RAW(on_order_executed, OrderExecuted)
  HFT_RAW(on_order_executed_with_price, OrderExecutedWithPrice)
  HFT_RAW(on_order_cancel, OrderCancel)
  HFT_RAW(on_order_delete, OrderDelete)
  HFT_RAW(on_order_replace, OrderReplace)
  HFT_RAW(on_trade, Trade)
  HFT_RAW(on_cross_trade, CrossTrade)
  HFT_RAW(on_broken_trade, BrokenTrade)
  HFT_RAW(on_noii, Noii)
  HFT_RAW(on_rpii, Rpii)
  HFT_RAW(on_direct_listing_capital_raise, DirectListingCapitalRaise)
#undef HFT_RAW
  // pcap inputs: the MoldUDP64 packet of the messages that follow.
  void on_mold_message(const files::MoldMessageContext& ctx) {
    if constexpr (requires { sink->on_mold_message(ctx); }) sink->on_mold_message(ctx);
  }
  void on_mold_packet(const files::UdpDatagram& d, const mold::PacketHeader& h) {
    if constexpr (requires { sink->on_mold_packet(d, h); }) sink->on_mold_packet(d, h);
  }
};

// ---- inputs ---------------------------------------------------------------------------------
struct InputSpec {
  std::string path;
  bool pcap = false;
};

// What reading a whole input found, BinaryFILE or pcap.
struct InputReport {
  itch::DecodeStats itch;
  files::BinaryFileReport file;  // BinaryFILE only
  files::MoldStats mold;         // pcap only
  files::PcapStats pcap;         // pcap only
  std::string pcap_error;        // pcap only: libpcap's complaint about a damaged record
  std::uint64_t datagrams = 0;   // pcap only

  // Anything that means messages may be missing or garbled.
  [[nodiscard]] bool has_errors(bool pcap_input) const noexcept {
    return itch.errors() != 0 || (pcap_input && (mold.errors() != 0 || pcap.malformed() != 0 || !pcap_error.empty()));
  }
};

// Opens a BinaryFILE; ToolError(kExitIo) naming the file when it cannot be.
files::MappedFile open_binary_file(const std::string& path);

// Decodes a whole input into an ITCH handler (which may also take on_mold_message /
// on_mold_packet for pcap inputs). Throws ToolError(kExitIo) when the file cannot be opened.
template <class Handler>
InputReport decode_input(const InputSpec& in, Handler& handler) {
  InputReport rep;
  if (!in.pcap) {
    const files::MappedFile file = open_binary_file(in.path);
    rep.file = files::decode_binary_file(file.bytes(), handler, rep.itch);
    return rep;
  }
  try {
    files::PcapReader reader(in.path);
    rep.datagrams = files::decode_itch_pcap(reader, handler, rep.mold, rep.itch);
    rep.pcap = reader.stats();
    rep.pcap_error = reader.error();
  } catch (const files::FileError& e) {
    throw ToolError(kExitIo, e.what());
  }
  return rep;
}

// The ITCH messages of a pcap's MoldUDP64 packets as one BinaryFILE-framed block stream (uint16
// length + message), in capture order; book building and the benchmark then run the same code
// for both kinds of input.
std::vector<std::uint8_t> pcap_to_blocks(const std::string& path, InputReport& rep);

// One cheap pass over a block stream's type bytes, before building books: how large the pools
// must be, and where --until cuts the stream.
struct BlockScan {
  std::uint64_t messages = 0;      // well-formed messages before the cut
  std::uint64_t order_adds = 0;    // A, F and U: no more orders than these can ever rest
  std::uint64_t peak_estimate = 0; // highest running count of A+F minus D (E/X/C ignored)
  std::uint16_t max_locate = 0;
  // Adds whose reference is the previous add's + 1, and + 4: which step the references take
  // (one sequence, or four streams stepping by 4), for [book] ref_stride_log2.
  std::uint64_t ref_step1 = 0, ref_step4 = 0;
  std::size_t cut = 0;             // bytes to decode: all, or up to the first message after --until
};
BlockScan scan_blocks(const std::uint8_t* data, std::size_t size, std::optional<std::uint64_t> until) noexcept;

// Pools for a scanned stream. The first try is sized from the running peak (an upper bound when
// every D names a resting order; the order table is a power of two >= 2x that); `safe`
// sizes for the worst case (every add still resting), used when the first try ran out: a book
// is never printed or timed with dropped orders.
book::BookConfig book_config_for(const BlockScan& scan, bool safe) noexcept;

// Describes what went wrong in an input on stderr (nothing when it was clean).
void report_input_errors(const InputSpec& in, const InputReport& rep);

}  // namespace hft::itch_tool
