#!/usr/bin/env bash
# gprof profile of a replay: builds the `gprof` preset (-pg), runs `hft-itch bench` on a day of
# ITCH messages (gmon.out), writes the flat profile and the call graph.
#
# Usage: perf/gprof.sh [--replay FILE | --messages N] [--mode book|parse] [--repeat N]
#                      [--no-build | --build-only] [--out DIR]
#   --replay FILE   the input (default: a generated day of --messages messages, default 1000000)
#   --mode          book (default) or parse; --repeat timed passes (default 5)
#   --no-build      use build/gprof/bin/hft-itch as it is
#   --build-only    build it and stop
#   --out DIR       output directory (default build/perf)
# Writes DIR/gprof/gmon.out, DIR/gprof-flat.txt (gprof -b -p), DIR/gprof-callgraph.txt
# (gprof -b -q) and prints the top of the flat profile. Builds with -j${HFT_JOBS:-2}.
set -euo pipefail
# shellcheck source=perf/common.sh
source "$(dirname "$0")/common.sh"

replay="" messages=1000000 mode=book repeat=5 build=1 build_only=0 out=build/perf
while [[ $# -gt 0 ]]; do
  case "$1" in
    --replay) replay="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-only) build_only=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$mode" == book || "$mode" == parse ]] || die "--mode is book or parse"
need gprof "Debian: binutils"
mkdir -p "$out/gprof"
if [[ $build == 1 ]]; then
  need cmake
  echo "building the gprof preset (hft-itch)" >&2
  cmake --preset gprof >"$out/gprof-configure.log" 2>&1 || { cat "$out/gprof-configure.log" >&2; die "cmake --preset gprof failed"; }
  cmake --build --preset gprof --target hft-itch -j "${HFT_JOBS:-2}" >&2 || die "building the gprof preset failed"
fi
itch=build/gprof/bin/hft-itch
[[ -x "$itch" ]] || die "no $itch: run without --no-build"
[[ $build_only == 1 ]] && { echo "$itch"; exit 0; }
[[ -n "$replay" ]] || replay=$(make_day "$itch" "$messages" "$out")
[[ -s "$replay" ]] || die "no replay file $replay"
replay=$(cd "$(dirname "$replay")" && pwd)/$(basename "$replay")
abs_itch="$HFT_ROOT/$itch"

rm -f "$out/gprof/gmon.out"
(cd "$out/gprof" && "$abs_itch" bench --mode "$mode" --repeat "$repeat" "$replay" >replay.txt)
[[ -s "$out/gprof/gmon.out" ]] || die "the instrumented replay wrote no gmon.out"
gprof -b -p "$itch" "$out/gprof/gmon.out" >"$out/gprof-flat.txt"
gprof -b -q "$itch" "$out/gprof/gmon.out" >"$out/gprof-callgraph.txt"
echo "gprof of hft-itch bench --mode $mode --repeat $repeat $(basename "$replay"):"
echo "flat profile (top 12): $out/gprof-flat.txt"
awk 'NR <= 5 || (NR > 5 && n < 12 && $1 ~ /^[0-9.]+$/) { print "  " $0; if (NR > 5) n++ }' "$out/gprof-flat.txt"
echo "call graph: $out/gprof-callgraph.txt"
