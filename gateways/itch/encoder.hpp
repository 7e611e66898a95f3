#pragma once
// ITCH 5.0 encoding, for the venue's publisher, the day generator and tests. Each function writes
// one message at `out` (which must have room for kMessageLength[type] bytes) and returns its
// length. Integer prices, big-endian, space-padded alpha fields.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "gateways/itch/messages.hpp"

namespace hft::itch {

struct MessageHeader {
  std::uint16_t stock_locate = 0;
  std::uint16_t tracking_number = 0;
  std::uint64_t timestamp = 0;  // ns since midnight, < 2^48
};

struct StockDirectoryFields {
  Symbol stock;
  char market_category = 'Q';
  char financial_status_indicator = 'N';
  std::uint32_t round_lot_size = 100;
  char round_lots_only = 'N';
  char issue_classification = 'C';
  std::string_view issue_sub_type = "Z";
  char authenticity = 'P';
  char short_sale_threshold_indicator = 'N';
  char ipo_flag = 'N';
  char luld_reference_price_tier = '1';
  char etp_flag = 'N';
  std::uint32_t etp_leverage_factor = 0;
  char inverse_indicator = 'N';
};

struct NoiiFields {
  std::uint64_t paired_shares = 0;
  std::uint64_t imbalance_shares = 0;
  char imbalance_direction = 'N';
  Symbol stock;
  std::uint32_t far_price = 0;
  std::uint32_t near_price = 0;
  std::uint32_t current_reference_price = 0;
  char cross_type = 'C';
  char price_variation_indicator = ' ';
};

namespace encode {

std::size_t system_event(std::uint8_t* out, const MessageHeader& h, char event_code) noexcept;
std::size_t stock_directory(std::uint8_t* out, const MessageHeader& h, const StockDirectoryFields& f) noexcept;
std::size_t stock_trading_action(std::uint8_t* out, const MessageHeader& h, Symbol stock, char trading_state,
                                 std::string_view reason) noexcept;
std::size_t add_order(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, char side, std::uint32_t shares,
                      Symbol stock, std::uint32_t price) noexcept;
std::size_t add_order_mpid(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, char side,
                           std::uint32_t shares, Symbol stock, std::uint32_t price, std::string_view mpid) noexcept;
std::size_t order_executed(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, std::uint32_t shares,
                           std::uint64_t match) noexcept;
std::size_t order_executed_with_price(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref,
                                      std::uint32_t shares, std::uint64_t match, char printable,
                                      std::uint32_t price) noexcept;
std::size_t order_cancel(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref, std::uint32_t shares) noexcept;
std::size_t order_delete(std::uint8_t* out, const MessageHeader& h, std::uint64_t ref) noexcept;
std::size_t order_replace(std::uint8_t* out, const MessageHeader& h, std::uint64_t old_ref, std::uint64_t new_ref,
                          std::uint32_t shares, std::uint32_t price) noexcept;
std::size_t trade(std::uint8_t* out, const MessageHeader& h, char side, std::uint32_t shares, Symbol stock,
                  std::uint32_t price, std::uint64_t match) noexcept;
std::size_t cross_trade(std::uint8_t* out, const MessageHeader& h, std::uint64_t shares, Symbol stock,
                        std::uint32_t price, std::uint64_t match, char cross_type) noexcept;
std::size_t broken_trade(std::uint8_t* out, const MessageHeader& h, std::uint64_t match) noexcept;
std::size_t noii(std::uint8_t* out, const MessageHeader& h, const NoiiFields& f) noexcept;

}  // namespace encode

// Generic encoding from the field table (tests and tools): any of the 23 types, fields by their
// snake_case spec name; unnamed fields are zero (numbers) or spaces (alpha/char). Integers are
// given as numbers, alpha and char fields as text. Returns 0 for an unknown type or field name.
struct FieldValue {
  std::string_view name;
  std::uint64_t number = 0;
  std::string_view text = {};
};
std::size_t encode_generic(std::uint8_t* out, char type, std::initializer_list<FieldValue> fields) noexcept;

}  // namespace hft::itch
