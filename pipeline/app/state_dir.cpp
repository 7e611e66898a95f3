#include "pipeline/app/state_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "core/config.hpp"

namespace hft::app {
namespace fs = std::filesystem;

std::vector<std::string> state_directories() {
  std::vector<std::string> out;
  std::error_code ec;
  if (const char* env = std::getenv("STATE_DIRECTORY"); env != nullptr && *env != '\0') {
    std::string_view list(env);
    while (!list.empty()) {
      const auto colon = list.find(':');
      const std::string_view one = list.substr(0, colon);
      if (!one.empty()) out.push_back(fs::weakly_canonical(fs::absolute(fs::path(one), ec), ec).string());
      list = colon == std::string_view::npos ? std::string_view{} : list.substr(colon + 1);
    }
  }
  if (out.empty()) out.push_back(fs::current_path(ec).string());
  return out;
}

std::string ensure_state_subdir(const std::string& dir, std::string_view key, std::string_view config_file) {
  const auto fail = [&](const std::string& what) -> std::string {
    throw core::ConfigError(fmt::format("{}: {}: \"{}\" {}", config_file, key, dir, what));
  };
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::is_directory(st)) return {};
  if (fs::exists(st)) return fail("is not a directory");
  // weakly_canonical resolves the existing part (symlinks, "..") so a path cannot leave the state
  // directory by spelling.
  const fs::path target = fs::weakly_canonical(fs::absolute(fs::path(dir), ec), ec);
  const auto roots = state_directories();
  std::string listed;
  for (const auto& root : roots) {
    const fs::path rel = target.lexically_relative(root);
    if (!rel.empty() && *rel.begin() != ".." && rel.is_relative()) {
      fs::create_directories(target, ec);
      if (ec) return fail(fmt::format("cannot be created: {}", ec.message()));
      return fmt::format("created [{}] {} {} (inside the state directory {})", key.substr(0, key.find('.')),
                         key.substr(key.find('.') + 1), dir, root);
    }
    listed += (listed.empty() ? "" : ", ") + root;
  }
  return fail(fmt::format("does not exist, and hftd creates directories only inside its state directory ({}: "
                          "$STATE_DIRECTORY under systemd, else the working directory); create it first, or name "
                          "one inside",
                          listed));
}

}  // namespace hft::app
