#pragma once
// Helpers shared by the book tests: BinaryFILE iteration, file reading, and a message builder.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "gateways/common/endian.hpp"
#include "gateways/itch/encoder.hpp"

namespace hft::book::testing {

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Calls fn(msg, len) for each block of a BinaryFILE stream (uint16 BE length + message);
// returns false if the stream ends inside a block.
template <class F>
bool for_each_block(const std::vector<std::uint8_t>& data, F&& fn) {
  std::size_t off = 0;
  while (off + 2 <= data.size()) {
    const std::size_t len = wire::load_be16(data.data() + off);
    if (off + 2 + len > data.size()) return false;
    fn(data.data() + off + 2, len);
    off += 2 + len;
  }
  return off == data.size();
}

// One encoded message, for unit tests: Msg m; m.len = itch::encode::add_order(m.bytes, ...).
struct Msg {
  std::uint8_t bytes[64] = {};
  std::size_t len = 0;
};

}  // namespace hft::book::testing
