#pragma once
// Locates ../shared/data (real NASDAQ bytes). Tests read the files in place and skip with a clear
// message when the directory is absent, as in a user's own clone.
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace hft::testing {

inline std::optional<std::filesystem::path> shared_data_dir() {
  if (const char* env = std::getenv("HFT_SHARED_DATA"); env != nullptr && *env != '\0') {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
  }
#ifdef HFT_SHARED_DATA_DIR
  if (std::filesystem::is_directory(HFT_SHARED_DATA_DIR)) return std::filesystem::path(HFT_SHARED_DATA_DIR);
#endif
  return std::nullopt;
}

}  // namespace hft::testing

// Sets `var` to the shared data directory, or skips the test saying where it looked.
#define HFT_REQUIRE_SHARED_DATA(var)                                                                   \
  auto var##_opt = ::hft::testing::shared_data_dir();                                                  \
  if (!var##_opt) GTEST_SKIP() << "../shared/data not found (set HFT_SHARED_DATA to its path): skipped"; \
  const std::filesystem::path var = *var##_opt
