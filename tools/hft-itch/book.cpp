// hft-itch book: the books at the end of the input (or at --until), through the same prefetching
// build loop as the appliance (book::build_blocks) and the shared snapshot printers, so this
// output and the venue's --book-dump are the same bytes for the same books.
#include <algorithm>
#include <memory>
#include <span>

#include "commands.hpp"
#include "pipeline/book/itch_handler.hpp"
#include "pipeline/book/snapshot.hpp"

namespace hft::itch_tool {

int run_book(const InputSpec& in, const BookOptions& o) {
  InputReport rep;
  files::MappedFile file;
  std::vector<std::uint8_t> blocks;
  std::span<const std::uint8_t> data;
  if (in.pcap) {
    blocks = pcap_to_blocks(in.path, rep);
    data = blocks;
  } else {
    file = open_binary_file(in.path);
    data = file.bytes();
  }

  const BlockScan scan = scan_blocks(data.data(), data.size(), o.until);
  std::unique_ptr<book::BookSet> books;
  itch::DecodeStats stats;
  itch::BlockStreamResult r;
  for (const bool safe : {false, true}) {
    books = std::make_unique<book::BookSet>(book_config_for(scan, safe));
    book::NullSink sink;
    book::ItchBookHandler<book::NullSink> handler(*books, sink);
    stats = {};
    r = book::build_blocks(data.data(), scan.cut, handler, stats, /*stop_at_empty=*/true);
    if (!books->degraded()) break;
  }
  if (books->degraded()) {
    fmt::print(stderr, "hft-itch: {}: the book pools ran out even at their largest ({} orders, {} levels): "
               "some orders were dropped\n", in.path, books->config().orders, books->config().levels);
  }
  if (!in.pcap) {
    rep.itch = stats;
    rep.file = files::describe_binary_file(data.first(scan.cut), r);
  }

  book::BookSnapshot snap = book::take_snapshot(*books, o.depth);
  if (o.stock) {
    const itch::Symbol wanted = itch::Symbol::from(*o.stock);
    const bool known = std::any_of(snap.stocks.begin(), snap.stocks.end(),
                                   [&](const book::StockSnapshot& s) { return s.info.symbol == wanted; });
    if (!known) throw ToolError(kExitUsage, fmt::format("{}: no stock {} in the input", in.path, *o.stock));
  }
  std::erase_if(snap.stocks, [&](const book::StockSnapshot& s) {
    return (s.bid_levels == 0 && s.ask_levels == 0) || (o.stock && s.info.symbol.view() != *o.stock);
  });

  Output out;
  out.append(o.format == "json" ? book::to_json(snap) : book::to_text(snap));
  out.flush();
  report_input_errors(in, rep);
  return rep.has_errors(in.pcap) ? kExitBadInput : kExitOk;
}

}  // namespace hft::itch_tool
