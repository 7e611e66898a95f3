#pragma once
// hftctl's strategy-library commands (issue 13): `algo start|status|cancel` (parent orders of the
// execution strategies) and `strategy list|start|stop|pause|set`. Commands go through the
// control file's command slots and are applied on hftd's strategy thread; status comes from the
// control file's algo and strategy sections (pipeline/control/layout.hpp).
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "pipeline/control/control_file.hpp"

namespace hftctl {

class StrategyCommands {
 public:
  // Adds the `algo` and `strategy` commands; `add_target` adds --instance/--dir to each.
  void add(CLI::App& app, const std::function<void(CLI::App*)>& add_target);
  // The exit code when one of them was given, else nullopt.
  std::optional<int> run(const std::function<std::unique_ptr<hft::control::ControlReader>()>& attach, int timeout_ms);

 private:
  CLI::App* algo_start_ = nullptr;
  CLI::App* algo_status_ = nullptr;
  CLI::App* algo_cancel_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* start_ = nullptr;
  CLI::App* stop_ = nullptr;
  CLI::App* pause_ = nullptr;
  CLI::App* set_ = nullptr;
  std::string algo_, symbol_, side_, duration_, start_at_, limit_price_, name_, assignment_;
  std::uint64_t quantity_ = 0;
  double max_participation_ = 0;
  std::uint32_t id_ = 0;
  bool json_ = false;
  // `order new|cancel` (issue 16): manual orders through a `manual` strategy.
  CLI::App* order_new_ = nullptr;
  CLI::App* order_cancel_ = nullptr;
  std::string price_;
  bool ioc_ = false;
  std::uint64_t order_id_ = 0;
};

// "10m", "15s", "1h", "500ms", "90" (seconds) -> milliseconds; nullopt when malformed.
std::optional<std::uint64_t> parse_duration_ms(const std::string& text);
// "12.34" dollars -> 1/10,000 $; nullopt when malformed or not positive.
std::optional<std::int64_t> parse_price(const std::string& text);

}  // namespace hftctl
