// hft-itch bench: decoding or book building over an input already in memory. The file is read
// (not mapped) into an arena backed by 2 MiB pages where the host allows, pre-faulted, so the
// timed loop sees neither page faults nor disk, and the 700 MB of a 20M-message day cost a few
// hundred TLB entries instead of 170,000. Only the loop itself is timed.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "commands.hpp"
#include "core/arena.hpp"
#include "pipeline/book/itch_handler.hpp"

namespace hft::itch_tool {
namespace {

// Reads every field the spec gives a type into a running sum, so no load can be optimised
// away; the sum is printed.
struct FieldToucher {
  std::uint64_t acc = 0;
  void h(const itch::Header& m) noexcept { acc += m.stock_locate() + m.tracking_number() + m.timestamp(); }
  void on_system_event(const itch::SystemEvent& m) noexcept { h(m); acc += static_cast<std::uint8_t>(m.event_code()); }
  void on_stock_directory(const itch::StockDirectory& m) noexcept {
    h(m);
    acc += m.stock().key() + m.round_lot_size() + static_cast<std::uint8_t>(m.market_category()) +
           static_cast<std::uint8_t>(m.financial_status_indicator()) + m.etp_leverage_factor();
  }
  void on_stock_trading_action(const itch::StockTradingAction& m) noexcept {
    h(m);
    acc += m.stock().key() + static_cast<std::uint8_t>(m.trading_state()) + m.reason().size();
  }
  void on_reg_sho_restriction(const itch::RegShoRestriction& m) noexcept {
    h(m);
    acc += m.stock().key() + static_cast<std::uint8_t>(m.reg_sho_action());
  }
  void on_market_participant_position(const itch::MarketParticipantPosition& m) noexcept {
    h(m);
    acc += m.stock().key() + static_cast<std::uint8_t>(m.market_participant_state());
  }
  void on_mwcb_decline_level(const itch::MwcbDeclineLevel& m) noexcept {
    h(m);
    acc += m.level_1() + m.level_2() + m.level_3();
  }
  void on_mwcb_status(const itch::MwcbStatus& m) noexcept { h(m); acc += static_cast<std::uint8_t>(m.breached_level()); }
  void on_ipo_quoting_period_update(const itch::IpoQuotingPeriodUpdate& m) noexcept {
    h(m);
    acc += m.stock().key() + m.ipo_quotation_release_time() + m.ipo_price();
  }
  void on_luld_auction_collar(const itch::LuldAuctionCollar& m) noexcept {
    h(m);
    acc += m.stock().key() + m.auction_collar_reference_price() + m.upper_auction_collar_price() +
           m.lower_auction_collar_price() + m.auction_collar_extension();
  }
  void on_operational_halt(const itch::OperationalHalt& m) noexcept {
    h(m);
    acc += m.stock().key() + static_cast<std::uint8_t>(m.operational_halt_action());
  }
  void on_add_order(const itch::AddOrder& m) noexcept {
    h(m);
    acc += m.order_reference_number() + static_cast<std::uint8_t>(m.buy_sell_indicator()) + m.shares() +
           m.stock().key() + m.price();
  }
  void on_add_order_mpid(const itch::AddOrderMpid& m) noexcept {
    on_add_order(m);
    acc += static_cast<std::uint8_t>(m.attribution()[0]);
  }
  void on_order_executed(const itch::OrderExecuted& m) noexcept {
    h(m);
    acc += m.order_reference_number() + m.executed_shares() + m.match_number();
  }
  void on_order_executed_with_price(const itch::OrderExecutedWithPrice& m) noexcept {
    on_order_executed(m);
    acc += static_cast<std::uint8_t>(m.printable()) + m.execution_price();
  }
  void on_order_cancel(const itch::OrderCancel& m) noexcept {
    h(m);
    acc += m.order_reference_number() + m.cancelled_shares();
  }
  void on_order_delete(const itch::OrderDelete& m) noexcept {
    h(m);
    acc += m.order_reference_number();
  }
  void on_order_replace(const itch::OrderReplace& m) noexcept {
    h(m);
    acc += m.original_order_reference_number() + m.new_order_reference_number() + m.shares() + m.price();
  }
  void on_trade(const itch::Trade& m) noexcept {
    h(m);
    acc += m.order_reference_number() + static_cast<std::uint8_t>(m.buy_sell_indicator()) + m.shares() +
           m.stock().key() + m.price() + m.match_number();
  }
  void on_cross_trade(const itch::CrossTrade& m) noexcept {
    h(m);
    acc += m.shares() + m.stock().key() + m.cross_price() + m.match_number() + static_cast<std::uint8_t>(m.cross_type());
  }
  void on_broken_trade(const itch::BrokenTrade& m) noexcept { h(m); acc += m.match_number(); }
  void on_noii(const itch::Noii& m) noexcept {
    h(m);
    acc += m.paired_shares() + m.imbalance_shares() + m.stock().key() + m.far_price() + m.near_price() +
           m.current_reference_price() + static_cast<std::uint8_t>(m.cross_type());
  }
  void on_rpii(const itch::Rpii& m) noexcept { h(m); acc += m.stock().key() + static_cast<std::uint8_t>(m.interest_flag()); }
  void on_direct_listing_capital_raise(const itch::DirectListingCapitalRaise& m) noexcept {
    h(m);
    acc += m.stock().key() + m.minimum_allowable_price() + m.maximum_allowable_price() + m.near_execution_price() +
           m.near_execution_time() + m.lower_price_range_collar() + m.upper_price_range_collar();
  }
};

// The input in memory: an arena sized to it, filled by read(2).
struct Loaded {
  std::unique_ptr<core::Arena> arena;
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

Loaded allocate(std::size_t size) {
  core::ArenaOptions opt;
  opt.bytes = std::max<std::size_t>(size, 1);
  opt.lock = false;  // a benchmark input; failing to lock it would only add a note
  Loaded l;
  l.arena = std::make_unique<core::Arena>(opt);
  l.data = static_cast<std::uint8_t*>(l.arena->allocate(opt.bytes, 64));
  if (l.data == nullptr) throw ToolError(kExitIo, "cannot allocate memory for the input");
  l.size = size;
  return l;
}

Loaded load_binary_file(const std::string& path) {
  std::size_t size = 0;
  {
    const files::MappedFile probe = open_binary_file(path);  // the same checks and messages as elsewhere
    size = probe.size();
  }
  Loaded l = allocate(size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ToolError(kExitIo, fmt::format("{}: open: {}", path, std::strerror(errno)));
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, l.data + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw ToolError(kExitIo, fmt::format("{}: read: {}", path, n < 0 ? std::strerror(err) : "file shrank while reading"));
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return l;
}

// CPU time of this thread: on a shared machine the wall clock also counts the time other
// processes held the core, so the pass lines show both.
double thread_cpu_seconds() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Pass {
  std::uint64_t messages = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  std::uint64_t check = 0;  // checksum (parse) or resting orders (book)
};

void print_pass(Output& out, std::string_view label, const Pass& p, std::string_view check_name) {
  const double m = static_cast<double>(p.messages);
  out.print("{}messages={} seconds={:.6f} msgs_per_s={:.0f} ns_per_msg={:.3f}", label, p.messages, p.seconds,
            p.seconds > 0 ? m / p.seconds : 0.0, p.messages ? p.seconds * 1e9 / m : 0.0);
  if (!check_name.empty()) {
    out.print(" cpu_seconds={:.6f} cpu_msgs_per_s={:.0f} {}={}", p.cpu_seconds, p.cpu_seconds > 0 ? m / p.cpu_seconds : 0.0,
              check_name, p.check);
  }
  out.put('\n');
}

}  // namespace

int run_bench(const InputSpec& in, const BenchOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Loaded input;
  InputReport rep;
  if (in.pcap) {
    const std::vector<std::uint8_t> blocks = pcap_to_blocks(in.path, rep);
    input = allocate(blocks.size());
    std::memcpy(input.data, blocks.data(), blocks.size());
  } else {
    input = load_binary_file(in.path);
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool book_mode = o.mode == "book";

  Output out;
  out.print("input {}: {} bytes in memory ({}, {} MiB pages) in {:.2f} s; mode {}, {} repeats\n", in.path, input.size,
            core::to_string(input.arena->report().outcome), input.arena->report().page_bytes >> 20, load_s, o.mode,
            o.repeat);
  out.flush();

  const BlockScan scan = book_mode ? scan_blocks(input.data, input.size, std::nullopt) : BlockScan{};
  auto config_for = [&](bool worst_case) {
    book::BookConfig c = book_config_for(scan, worst_case);
    if (o.ref_stride_log2 >= 0) c.ref_stride_log2 = static_cast<std::uint32_t>(o.ref_stride_log2);
    return c;
  };
  if (book_mode) {
    out.print("book: ref_stride_log2 {} ({} adds step the reference by 1, {} by 4)\n", config_for(false).ref_stride_log2,
              scan.ref_step1, scan.ref_step4);
  }
  bool safe = false;
  Pass total;
  itch::DecodeStats last_stats;
  for (std::uint32_t i = 0; i < o.repeat; ++i) {
    Pass p;
    itch::DecodeStats stats;
    if (!book_mode) {
      FieldToucher toucher;
      const double cpu = thread_cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      itch::decode_blocks(input.data, input.size, toucher, stats, ~std::size_t{0}, /*stop_at_empty=*/true);
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      p.cpu_seconds = thread_cpu_seconds() - cpu;
      p.check = toucher.acc;
    } else {
      // Pools allocated and pre-faulted before the clock starts, as the appliance does at start-up.
      auto books = std::make_unique<book::BookSet>(config_for(safe));
      book::NullSink sink;
      book::ItchBookHandler<book::NullSink> handler(*books, sink);
      const double cpu = thread_cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      book::build_blocks(input.data, input.size, handler, stats, /*stop_at_empty=*/true);
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      p.cpu_seconds = thread_cpu_seconds() - cpu;
      p.check = books->live_orders();
      if (books->degraded() && !safe) {  // pools too small for this input: size for the worst case, redo
        out.print("repeat {}: book pools ran out ({} orders); repeating with worst-case pools\n", i + 1,
                  books->config().orders);
        safe = true;
        --i;
        continue;
      }
    }
    p.messages = stats.messages;
    last_stats = stats;
    print_pass(out, fmt::format("repeat {}/{}: ", i + 1, o.repeat), p, book_mode ? "live_orders" : "checksum");
    out.flush();
    total.messages += p.messages;
    total.seconds += p.seconds;
  }
  print_pass(out, "", total, "");
  out.flush();
  if (!in.pcap) {
    rep.itch = last_stats;
    // The timed loops decode blocks, not the file's framing: walk it once more (untimed) so that
    // a truncated tail is reported where it starts, as decode and book report it.
    files::BinaryFileCursor cursor({input.data, input.size});
    for (files::RawMessage m; cursor.next(m);) {
    }
    rep.file = cursor.report();
  }
  report_input_errors(in, rep);
  return rep.has_errors(in.pcap) || rep.file.truncated ? kExitBadInput : kExitOk;
}

}  // namespace hft::itch_tool
