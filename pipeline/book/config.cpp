#include "pipeline/book/config.hpp"

namespace hft::book {

BookConfig parse_book_config(const core::ConfigSection& s) {
  BookConfig c;
  c.orders = static_cast<std::uint32_t>(s.integer("orders", c.orders, 1, kMaxOrders));
  c.levels = static_cast<std::uint32_t>(s.integer("levels", c.levels, 1, kMaxLevels));
  // ITCH Stock Locate is a uint16 whose value 0 means "not stock related" (spec 1.1).
  c.max_locate = static_cast<std::uint32_t>(s.integer("max_locate", c.max_locate, 1, 65535));
  c.level_events = s.boolean("level_events", c.level_events);
  c.ref_stride_log2 = static_cast<std::uint32_t>(s.integer("ref_stride_log2", c.ref_stride_log2, 0, kMaxRefStrideLog2));
  s.reject_unknown_keys();
  return c;
}

}  // namespace hft::book
