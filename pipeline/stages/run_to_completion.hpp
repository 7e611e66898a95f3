#pragma once
// Run to completion in the fused layout (issue 17). When one runner thread calls every stage in
// pipeline order (net, parse, book, strategy, risk/egress: config/hftd-2core.toml), the net stage
// hands a message of a stock some strategy watches (pipeline/stages/subscriptions.hpp) through the
// other stages at once: parse, book (up to that message: everything before it in the packet is
// booked first, so the decision sees the book it needs), strategy, and the egress stage, which
// sends what the strategy decided in the same call, before the rest of the packet is handed on.
// The stages and their rings are the same as in the split layouts: only the order of the polls
// changes (the ring hops stay, each one claim/publish/pop on the same thread). Messages of other
// stocks wait for the runner's next stage call as before.
#include <string>
#include <vector>

#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/net_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "pipeline/stages/subscriptions.hpp"

namespace hft::pipeline {

// The stages a fused thread runs after the net stage, called once in order.
template <class Backend>
class FusedDownstream {
 public:
  FusedDownstream(ParseStage& parse, BookStage& book, StrategyStage& strategy, EgressStage<Backend>& egress) noexcept
      : parse_(parse), book_(book), strategy_(strategy), egress_(egress) {}
  FusedDownstream(const FusedDownstream&) = delete;
  FusedDownstream& operator=(const FusedDownstream&) = delete;

  static void run(void* self) noexcept {
    auto& d = *static_cast<FusedDownstream*>(self);
    d.parse_.poll();
    d.book_.poll();
    d.strategy_.poll();
    d.egress_.poll();
  }
  // Start-up only: `net` runs the rest at once for a message of a watched stock.
  void attach(NetStage<Backend>& net, const Subscriptions& subs) noexcept { net.set_run_to_completion(&subs, &run, this); }

 private:
  ParseStage& parse_;
  BookStage& book_;
  StrategyStage& strategy_;
  EgressStage<Backend>& egress_;
};

// Whether a runner's stage list is the whole pipeline in its order (the fused layout). The last
// stage is risk/egress under any name ("risk" in the shipped configurations).
[[nodiscard]] inline bool fused_layout(const std::vector<std::string>& stages) {
  return stages.size() == 5 && stages[0] == "net" && stages[1] == "parse" && stages[2] == "book" &&
         stages[3] == "strategy" && stages[4] != "net" && stages[4] != "parse" && stages[4] != "book" &&
         stages[4] != "strategy";
}

}  // namespace hft::pipeline
