#!/usr/bin/env bash
# perf record with call graphs, then a flame graph SVG (perf/flamegraph.sh, no outside tools).
#
# Usage: perf/record.sh [--pid PID | --replay FILE] [--seconds N] [--mode book|parse]
#                       [--repeat N] [--call-graph fp|dwarf] [--instance NAME] [--out DIR]
#   --pid PID        profile a running process for --seconds (default 10)
#   --replay FILE    profile `hft-itch bench --mode MODE --repeat N FILE` (defaults: book, 5)
#   (neither)        profile the running hftd: its pid from the control file (`hftctl status`,
#                    --instance NAME or the only running instance)
#   --call-graph     fp (default: the release preset keeps frame pointers) or dwarf
#   --out DIR        output directory (default build/perf)
# Writes DIR/perf.data, DIR/perf-script.txt, DIR/stacks.folded, DIR/flame.svg, DIR/top.txt, and
# prints the top of the flame graph (self samples per function).
# Exit 77 when perf cannot record here (not installed, perf_event_paranoid, no permission).
set -euo pipefail
# shellcheck source=perf/common.sh
source "$(dirname "$0")/common.sh"

pid="" replay="" seconds=10 mode=book repeat=5 call_graph=fp instance="" out=build/perf
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pid) pid="$2"; shift 2 ;;
    --replay) replay="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --call-graph) call_graph="$2"; shift 2 ;;
    --instance) instance="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ -z "$pid" || -z "$replay" ]] || die "--pid and --replay exclude each other"
[[ "$call_graph" == fp || "$call_graph" == dwarf ]] || die "--call-graph is fp or dwarf"
[[ "$mode" == book || "$mode" == parse ]] || die "--mode is book or parse"
need perf "Debian: linux-perf"
mkdir -p "$out"

# Can this user record at all? (perf_event_paranoid > 2 or a container without perf events.)
if ! perf record -q -o "$out/.probe.data" -- true >"$out/.probe.log" 2>&1; then
  reason=$(grep -m1 -iE "paranoid|permission|not supported|denied" "$out/.probe.log" || head -n1 "$out/.probe.log")
  rm -f "$out/.probe.data" "$out/.probe.log"
  skip "perf cannot record here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo ?)): $reason"
fi
rm -f "$out/.probe.data" "$out/.probe.log"

if [[ -z "$pid" && -z "$replay" ]]; then
  ctl="${HFTCTL:-$HFT_BIN/hftctl}"
  [[ -x "$ctl" ]] || die "no hftctl at $ctl to find hftd's pid: give --pid or --replay"
  status=$("$ctl" status ${instance:+--instance "$instance"}) || die "no running hftd to profile (give --pid or --replay)"
  pid=$(sed -n '1s/.* pid \([0-9][0-9]*\),.*/\1/p' <<<"$status")
  [[ -n "$pid" ]] || die "cannot read hftd's pid from hftctl status"
fi

cg=(--call-graph "$call_graph")
[[ "$call_graph" == dwarf ]] && cg=(--call-graph dwarf,16384)
if [[ -n "$pid" ]]; then
  kill -0 "$pid" 2>/dev/null || die "no process $pid"
  what="pid $pid ($(cat /proc/"$pid"/comm 2>/dev/null || echo '?')) for ${seconds}s"
  echo "recording $what" >&2
  perf record -F 999 -g "${cg[@]}" -p "$pid" -o "$out/perf.data" -- sleep "$seconds" 2>"$out/record.log" ||
    die "perf record failed: $(tail -n2 "$out/record.log")"
else
  [[ -s "$replay" ]] || die "no replay file $replay"
  itch=$(find_itch)
  what="hft-itch bench --mode $mode --repeat $repeat $(basename "$replay")"
  echo "recording $what" >&2
  perf record -F 999 -g "${cg[@]}" -o "$out/perf.data" -- "$itch" bench --mode "$mode" --repeat "$repeat" "$replay" \
    >"$out/replay.txt" 2>"$out/record.log" || die "perf record failed: $(tail -n2 "$out/record.log")"
fi

perf script -i "$out/perf.data" -F comm,pid,tid,period,ip,sym >"$out/perf-script.txt" 2>/dev/null
perf/flamegraph.sh fold <"$out/perf-script.txt" >"$out/stacks.folded"
[[ -s "$out/stacks.folded" ]] || die "perf recorded no samples ($what)"
perf/flamegraph.sh svg --title "perf record -g: $what" <"$out/stacks.folded" >"$out/flame.svg"
perf/flamegraph.sh top 15 <"$out/stacks.folded" >"$out/top.txt"
samples=$(awk '{ t += $NF } END { print t + 0 }' "$out/stacks.folded")
echo "$samples samples; flame graph: $out/flame.svg"
echo "top of the flame graph (self samples):"
sed 's/^/  /' "$out/top.txt"
