#pragma once
// Where hftd may create directories of its own: inside its state directory only (issue 18). The
// state directory is systemd's $STATE_DIRECTORY (StateDirectory=; a list separated by ':' when
// several are configured), else the working directory (under systemd, WorkingDirectory=/var/lib/hft,
// the same place). A directory named by the configuration that does not exist is created there,
// and the log says so; outside, hftd refuses to start rather than create directories somewhere an
// operator did not choose.
#include <string>
#include <string_view>
#include <vector>

namespace hft::app {

// $STATE_DIRECTORY's entries, or the working directory; absolute.
std::vector<std::string> state_directories();

// Makes sure the directory `dir` named by the configuration key `key` (e.g. "stats.histogram_dir")
// of `config_file` exists. Returns what was done for the log ("" when it existed). Throws
// core::ConfigError naming the file and key when `dir` is not a directory, or does not exist and
// lies outside every state directory, or cannot be created.
std::string ensure_state_subdir(const std::string& dir, std::string_view key, std::string_view config_file);

}  // namespace hft::app
