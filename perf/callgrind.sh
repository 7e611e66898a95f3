#!/usr/bin/env bash
# Instructions per ITCH message, parse-only and book building, counted by valgrind's callgrind:
# repeatable on a noisy host (instruction counts do not depend on load or frequency).
#
# Usage: perf/callgrind.sh [--messages N] [--itch BIN] [--out DIR] [--build-only]
#   --messages N   size of the generated day (default 200000)
#   --itch BIN     the hft-itch to measure (default: see below)
#   --out DIR      output directory (default build/perf)
#   --build-only   build what a later run needs (see below) and stop
#   --t2t ...      the tick-to-trade path instead (perf/callgrind_t2t.sh with the options after it)
# Each mode runs `hft-itch bench --repeat 1` and `--repeat 2` under callgrind; the difference of
# their instruction counts (Ir) is one pass over the day, without loading and set-up, divided by
# the messages. valgrind 3.19 cannot decode AVX-512 (EVEX), so on a host that has it the release
# (-march=native) binary cannot run under valgrind: the script then builds hft-itch once in
# build/callgrind for x86-64-v3 (AVX2) — the figures are that build's. Writes
# DIR/callgrind.txt, DIR/callgrind.<mode>.r<N>.out and DIR/callgrind.<mode>.annotate.txt.
set -euo pipefail
# shellcheck source=perf/common.sh
source "$(dirname "$0")/common.sh"

messages=200000 itch="" out=build/perf build_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --t2t) shift; exec "$HFT_ROOT/perf/callgrind_t2t.sh" "$@" ;;
    --messages) messages="$2"; shift 2 ;;
    --itch) itch="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
need valgrind "Debian: valgrind"
mkdir -p "$out"
if [[ -z "$itch" ]]; then
  itch=$(portable_build hft-itch "$out")
  [[ -n "$itch" ]] || itch=$(find_itch)
fi
[[ -x "$itch" ]] || die "no hft-itch at $itch"
[[ $build_only == 1 ]] && { echo "$itch"; exit 0; }
day=$(make_day "$itch" "$messages" "$out")

ir() { sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$1" | head -n1; }
report="$out/callgrind.txt"
{
  echo "# valgrind --tool=callgrind: instructions (Ir) per ITCH message, one pass = Ir(--repeat 2) - Ir(--repeat 1)"
  echo "# binary: $itch; input: $day ($messages messages)"
} >"$report"
for mode in parse book; do
  for r in 1 2; do
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$mode.r$r.out" \
      "$itch" bench --mode "$mode" --repeat "$r" "$day" >"$out/callgrind.$mode.r$r.txt" 2>"$out/callgrind.$mode.r$r.log" ||
      die "valgrind failed ($mode, --repeat $r): $(grep -m1 -iE 'unrecognised|unhandled|error' "$out/callgrind.$mode.r$r.log" || tail -n1 "$out/callgrind.$mode.r$r.log")"
  done
  ir1=$(ir "$out/callgrind.$mode.r1.out")
  ir2=$(ir "$out/callgrind.$mode.r2.out")
  msgs=$(sed -n 's/^repeat 1\/1: messages=\([0-9]*\) .*/\1/p' "$out/callgrind.$mode.r1.txt" | tail -n1)
  [[ -n "$ir1" && -n "$ir2" && -n "$msgs" && "$msgs" -gt 0 ]] || die "cannot read Ir or the message count ($mode)"
  (( ir2 > ir1 )) || die "the second pass counted no instructions ($mode): $ir1 vs $ir2"
  callgrind_annotate "$out/callgrind.$mode.r2.out" 2>/dev/null | head -n 40 >"$out/callgrind.$mode.annotate.txt" || true
  awk -v m="$mode" -v a="$ir1" -v b="$ir2" -v n="$msgs" \
    'BEGIN { printf "%s: %.1f instructions per message (%d messages; Ir %d for one pass, %d for two)\n", m, (b - a) / n, n, a, b }' |
    tee -a "$report"
done
echo "report: $report"
