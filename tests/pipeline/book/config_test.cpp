// The [book] table: defaults, values, and errors that name the file, line and key.
#include <string>

#include <gtest/gtest.h>

#include "core/config.hpp"
#include "pipeline/book/config.hpp"

namespace hft::book {
namespace {

BookConfig parse(const std::string& text) {
  auto doc = core::ConfigDocument::parse(text, "appliance.toml");
  return parse_book_config(doc->root().require_section("book"));
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(BookConfigTest, DefaultsAndValues) {
  const BookConfig d = parse("[book]\n");
  EXPECT_EQ(d.orders, BookConfig{}.orders);
  EXPECT_EQ(d.max_locate, 65535u);
  EXPECT_FALSE(d.level_events);
  const BookConfig c = parse("[book]\norders = 1000\nlevels = 200\nmax_locate = 9000\nlevel_events = true\n");
  EXPECT_EQ(c.orders, 1000u);
  EXPECT_EQ(c.levels, 200u);
  EXPECT_EQ(c.max_locate, 9000u);
  EXPECT_TRUE(c.level_events);
  EXPECT_EQ(d.ref_stride_log2, 2u);
  EXPECT_EQ(parse("[book]\nref_stride_log2 = 0\n").ref_stride_log2, 0u);
  EXPECT_NE(error_of("[book]\nref_stride_log2 = 5\n").find("book.ref_stride_log2"), std::string::npos);
}

TEST(BookConfigTest, ErrorsNameFileLineAndKey) {
  const std::string wrong_type = error_of("[book]\norders = \"many\"\n");
  EXPECT_NE(wrong_type.find("appliance.toml:2"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("book.orders"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("integer"), std::string::npos) << wrong_type;

  const std::string zero = error_of("[book]\n\nlevels = 0\n");
  EXPECT_NE(zero.find("appliance.toml:3"), std::string::npos) << zero;
  EXPECT_NE(zero.find("book.levels"), std::string::npos) << zero;
  EXPECT_NE(zero.find("out of range"), std::string::npos) << zero;

  const std::string locate = error_of("[book]\nmax_locate = 70000\n");
  EXPECT_NE(locate.find("book.max_locate"), std::string::npos) << locate;

  const std::string typo = error_of("[book]\norder = 5\n");
  EXPECT_NE(typo.find("book.order"), std::string::npos) << typo;
  EXPECT_NE(typo.find("unknown key"), std::string::npos) << typo;

  const std::string flag = error_of("[book]\nlevel_events = 1\n");
  EXPECT_NE(flag.find("book.level_events"), std::string::npos) << flag;
}

TEST(BookConfigTest, TooManyOrdersIsRejectedBeforeAnythingIsAllocated) {
  const std::string big = error_of("[book]\norders = 2000000000\n");
  EXPECT_NE(big.find("book.orders"), std::string::npos) << big;
}

}  // namespace
}  // namespace hft::book
