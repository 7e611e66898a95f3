#!/usr/bin/env bash
# Instructions of the in-process tick-to-trade path (bench_tick_to_trade --layout inline: hftd's
# fused runner's passes on one thread), counted by valgrind's callgrind: per packet for the whole
# pipeline and for each stage, and what one order adds (the decision run minus the baseline run
# with no decision, divided by the triggers). Repeatable on a noisy host.
#
# Usage: perf/callgrind_t2t.sh [--packets N] [--every K] [--bench BIN] [--out DIR] [--build-only]
#   (also: perf/callgrind.sh --t2t [the same options])
#   --packets N    MoldUDP64 packets of the generated day (default 6000)
#   --every K      a trigger (an order) every K packets (default 10)
#   --bench BIN    the bench_tick_to_trade to measure (default: the release build's, or on an
#                  AVX-512 host one built for x86-64-v3 in build/callgrind, as perf/callgrind.sh does)
#   --out DIR      output directory (default build/perf)
# Only Runner::run_once is counted (--toggle-collect): the day's generation and the set-up are not.
# The counts include the warm-up packets (stock directory, books filling), which have no trigger.
# Writes DIR/callgrind_t2t.txt, DIR/callgrind_t2t.<run>.out and DIR/callgrind_t2t.<run>.annotate.txt.
set -euo pipefail
# shellcheck source=perf/common.sh
source "$(dirname "$0")/common.sh"

packets=6000 every=10 bench="" out=build/perf build_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --packets) packets="$2"; shift 2 ;;
    --every) every="$2"; shift 2 ;;
    --bench) bench="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
need valgrind "Debian: valgrind"
mkdir -p "$out"
if [[ -z "$bench" ]]; then
  bench=$(portable_build bench_tick_to_trade "$out")
  [[ -n "$bench" ]] || bench="$HFT_BIN/bench_tick_to_trade"
fi
[[ -x "$bench" ]] || die "no bench_tick_to_trade at $bench: build it (cmake --build --preset release --target bench_tick_to_trade -j2)"
[[ $build_only == 1 ]] && { echo "$bench"; exit 0; }

report="$out/callgrind_t2t.txt"
echo "# valgrind --tool=callgrind, Runner::run_once only: $bench --layout inline --packets $packets --every $every" >"$report"
declare -A total
for run in baseline decision; do
  flag=--no-baseline
  [[ $run == baseline ]] && flag=--baseline-only
  valgrind --tool=callgrind --toggle-collect='hft::core::Runner::run_once()' \
    --callgrind-out-file="$out/callgrind_t2t.$run.out" \
    "$bench" --layout inline --packets "$packets" --every "$every" "$flag" >"$out/callgrind_t2t.$run.txt" \
    2>"$out/callgrind_t2t.$run.log" ||
    die "valgrind failed ($run): $(grep -m1 -iE 'unrecognised|unhandled|error|orders for' "$out/callgrind_t2t.$run.log" || tail -n1 "$out/callgrind_t2t.$run.log")"
  callgrind_annotate --inclusive=yes "$out/callgrind_t2t.$run.out" >"$out/callgrind_t2t.$run.annotate.txt" 2>/dev/null || true
  ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out/callgrind_t2t.$run.out" | head -n1)
  triggers=$(sed -n 's/^bench_tick_to_trade: .* (\([0-9]*\) messages, \([0-9]*\) triggers.*/\2/p' "$out/callgrind_t2t.$run.txt")
  messages=$(sed -n 's/^bench_tick_to_trade: .* (\([0-9]*\) messages, .*/\1/p' "$out/callgrind_t2t.$run.txt")
  [[ -n "$ir" && -n "$triggers" && "$triggers" -gt 0 ]] || die "cannot read Ir or the trigger count ($run)"
  total[$run]=$ir
  {
    printf '%s: %.0f instructions per packet (%.1f per message; %d packets, %d messages, %d triggers, Ir %d)\n' \
      "$run" "$(echo "$ir / $packets" | bc -l)" "$(echo "$ir / $messages" | bc -l)" "$packets" "$messages" "$triggers" "$ir"
    # Each stage's poll, inclusive (the runner calls it through StageRef's function pointer).
    for stage in NetStage ParseStage BookStage StrategyStage EgressStage; do
      sir=$(grep -E "StageRef::of<hft::pipeline::$stage[<>]" "$out/callgrind_t2t.$run.annotate.txt" |
        awk '{ gsub(",", "", $1); if ($1 + 0 > m) m = $1 + 0 } END { print m + 0 }')
      printf '  %-14s %8.0f per packet\n' "$stage" "$(echo "$sir / $packets" | bc -l)"
    done
  } | tee -a "$report"
done
triggers=$(sed -n 's/^bench_tick_to_trade: .* (\([0-9]*\) messages, \([0-9]*\) triggers.*/\2/p' "$out/callgrind_t2t.decision.txt")
printf 'one order adds %.0f instructions (decision - baseline, per trigger)\n' \
  "$(echo "(${total[decision]} - ${total[baseline]}) / $triggers" | bc -l)" | tee -a "$report"
echo "report: $report"
