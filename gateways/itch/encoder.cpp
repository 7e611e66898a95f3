#include "gateways/itch/encoder.hpp"

#include <cstring>

namespace hft::itch {
namespace {

using wire::store_be16;
using wire::store_be32;
using wire::store_be48;
using wire::store_be64;

std::size_t head(std::uint8_t* out, char type, const MessageHeader& h) noexcept {
  out[0] = static_cast<std::uint8_t>(type);
  store_be16(out + 1, h.stock_locate);
  store_be16(out + 3, h.tracking_number);
  store_be48(out + 5, h.timestamp);
  return kMessageLength[static_cast<std::uint8_t>(type)];
}

void put_symbol(std::uint8_t* p, Symbol s) noexcept { std::memcpy(p, s.chars.data(), 8); }
void put_text(std::uint8_t* p, std::size_t width, std::string_view t) noexcept {
  wire::store_alpha(p, width, t.data(), t.size());
}

}  // namespace

namespace encode {

std::size_t system_event(std::uint8_t* out, const MessageHeader& h, char event_code) noexcept {
  const std::size_t n = head(out, 'S', h);
  out[11] = static_cast<std::uint8_t>(event_code);
  return n;
}

std::size_t stock_directory(std::uint8_t* out, const MessageHeader& h, const StockDirectoryFields& f) noexcept {
  const std::size_t n = head(out, 'R', h);
  put_symbol(out + 11, f.stock);
  out[19] = static_cast<std::uint8_t>(f.market_category);
  out[20] = static_cast<std::uint8_t>(f.financial_status_indicator);
  store_be32(out + 21, f.round_lot_size);
  out[25] = static_cast<std::uint8_t>(f.round_lots_only);
  out[26] = static_cast<std::uint8_t>(f.issue_classification);
  put_text(out + 27, 2, f.issue_sub_type);
  out[29] = static_cast<std::uint8_t>(f.authenticity);
  out[30] = static_cast<std::uint8_t>(f.short_sale_threshold_indicator);
  out[31] = static_cast<std::uint8_t>(f.ipo_flag);
  out[32] = static_cast<std::uint8_t>(f.luld_reference_price_tier);
  out[33] = static_cast<std::uint8_t>(f.etp_flag);
  store_be32(out + 34, f.etp_leverage_factor);
  out[38] = static_cast<std::uint8_t>(f.inverse_indicator);
  return n;
}

std::size_t stock_trading_action(std::uint8_t* out, const MessageHeader& h, Symbol stock, char trading_state,
                                 std::string_view reason) noexcept {
  const std::size_t n = head(out, 'H', h);
  put_symbol(out + 11, stock);
  out[19] = static_cast<std::uint8_t>(trading_state);
  out[20] = ' ';
  put_text(out + 21, 4, reason);
  return n;
}

std::size_t add_order(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, char side, std::uint32_t shares,
                      Symbol stock, std::uint32_t price) noexcept {
  const std::size_t n = head(out, 'A', h);
  store_be64(out + 11, ref);
  out[19] = static_cast<std::uint8_t>(side);
  store_be32(out + 20, shares);
  put_symbol(out + 24, stock);
  store_be32(out + 32, price);
  return n;
}

std::size_t add_order_mpid(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, char side,
                           std::uint32_t shares, Symbol stock, std::uint32_t price, std::string_view mpid) noexcept {
  add_order(out, h, ref, side, shares, stock, price);
  const std::size_t n = head(out, 'F', h);
  put_text(out + 36, 4, mpid);
  return n;
}

std::size_t order_executed(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, std::uint32_t shares,
                           std::uint64_t match) noexcept {
  const std::size_t n = head(out, 'E', h);
  store_be64(out + 11, ref);
  store_be32(out + 19, shares);
  store_be64(out + 23, match);
  return n;
}

std::size_t order_executed_with_price(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref,
                                      std::uint32_t shares, std::uint64_t match, char printable,
                                      std::uint32_t price) noexcept {
  order_executed(out, h, ref, shares, match);
  const std::size_t n = head(out, 'C', h);
  out[31] = static_cast<std::uint8_t>(printable);
  store_be32(out + 32, price);
  return n;
}

std::size_t order_cancel(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, std::uint32_t shares) noexcept {
  const std::size_t n = head(out, 'X', h);
  store_be64(out + 11, ref);
  store_be32(out + 19, shares);
  return n;
}

std::size_t order_delete(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref) noexcept {
  const std::size_t n = head(out, 'D', h);
  store_be64(out + 11, ref);
  return n;
}

std::size_t order_replace(std::uint8_t* out, const MessageHeader& h, std::uint64_t old_ref, std::uint64_t new_ref,
                          std::uint32_t shares, std::uint32_t price) noexcept {
  const std::size_t n = head(out, 'U', h);
  store_be64(out + 11, old_ref);
  store_be64(out + 19, new_ref);
  store_be32(out + 27, shares);
  store_be32(out + 31, price);
  return n;
}

std::size_t trade(std::uint8_t* out, const MessageHeader& h, char side, std::uint32_t shares, Symbol stock,
                  std::uint32_t price, std::uint64_t match) noexcept {
  const std::size_t n = head(out, 'P', h);
  store_be64(out + 11, 0);  // always 0 since 2010 (spec revision log)
  out[19] = static_cast<std::uint8_t>(side);
  store_be32(out + 20, shares);
  put_symbol(out + 24, stock);
  store_be32(out + 32, price);
  store_be64(out + 36, match);
  return n;
}

std::size_t cross_trade(std::uint8_t* out, const MessageHeader& h, std::uint64_t shares, Symbol stock,
                        std::uint32_t price, std::uint64_t match, char cross_type) noexcept {
  const std::size_t n = head(out, 'Q', h);
  store_be64(out + 11, shares);
  put_symbol(out + 19, stock);
  store_be32(out + 27, price);
  store_be64(out + 31, match);
  out[39] = static_cast<std::uint8_t>(cross_type);
  return n;
}

std::size_t broken_trade(std::uint8_t* out, const MessageHeader& h, std::uint64_t match) noexcept {
  const std::size_t n = head(out, 'B', h);
  store_be64(out + 11, match);
  return n;
}

std::size_t noii(std::uint8_t* out, const MessageHeader& h, const NoiiFields& f) noexcept {
  const std::size_t n = head(out, 'I', h);
  store_be64(out + 11, f.paired_shares);
  store_be64(out + 19, f.imbalance_shares);
  out[27] = static_cast<std::uint8_t>(f.imbalance_direction);
  put_symbol(out + 28, f.stock);
  store_be32(out + 36, f.far_price);
  store_be32(out + 40, f.near_price);
  store_be32(out + 44, f.current_reference_price);
  out[48] = static_cast<std::uint8_t>(f.cross_type);
  out[49] = static_cast<std::uint8_t>(f.price_variation_indicator);
  return n;
}

}  // namespace encode

std::size_t encode_generic(std::uint8_t* out, char type, std::initializer_list<FieldValue> fields) noexcept {
  const MessageSpec* spec = message_spec(type);
  if (spec == nullptr) return 0;
  std::memset(out, 0, spec->length);
  out[0] = static_cast<std::uint8_t>(type);
  for (const FieldSpec& f : spec->fields)
    if (f.kind == FieldKind::kAlpha || f.kind == FieldKind::kChar) std::memset(out + f.offset, ' ', f.length);
  for (const FieldValue& v : fields) {
    const FieldSpec* target = nullptr;
    for (const FieldSpec& f : header_fields())
      if (f.name == v.name) target = &f;
    for (const FieldSpec& f : spec->fields)
      if (f.name == v.name) target = &f;
    if (target == nullptr) return 0;
    std::uint8_t* p = out + target->offset;
    switch (target->kind) {
      case FieldKind::kU16: store_be16(p, static_cast<std::uint16_t>(v.number)); break;
      case FieldKind::kU32:
      case FieldKind::kPrice4: store_be32(p, static_cast<std::uint32_t>(v.number)); break;
      case FieldKind::kU48: store_be48(p, v.number); break;
      case FieldKind::kU64:
      case FieldKind::kPrice8: store_be64(p, v.number); break;
      case FieldKind::kChar:
      case FieldKind::kAlpha: put_text(p, target->length, v.text); break;
    }
  }
  return spec->length;
}

}  // namespace hft::itch
