#!/usr/bin/env bash
# perf stat of a replay (`hft-itch bench`), with hardware counters where the host has them.
#
# Usage: perf/stat.sh [--replay FILE | --messages N] [--mode book|parse] [--repeat N] [--out DIR]
#   --replay FILE   the input (default: a generated day of --messages messages, default 1000000)
#   --mode          book (default) or parse; --repeat timed passes (default 5)
#   --out DIR       output directory (default build/perf)
# Writes DIR/stat.txt (perf stat's report), DIR/stat.csv (perf stat -x,) and DIR/stat-replay.txt
# (the replay's own output). Hardware events (cycles, instructions, branches, cache misses) are
# used when the PMU exposes them; a VM without one gets software events only (task-clock,
# context switches, migrations, page faults), and the report says so.
# Exit 77 when perf is not installed or may not count here.
set -euo pipefail
# shellcheck source=perf/common.sh
source "$(dirname "$0")/common.sh"

replay="" messages=1000000 mode=book repeat=5 out=build/perf
while [[ $# -gt 0 ]]; do
  case "$1" in
    --replay) replay="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$mode" == book || "$mode" == parse ]] || die "--mode is book or parse"
need perf "Debian: linux-perf"
mkdir -p "$out"
itch=$(find_itch)
[[ -n "$replay" ]] || replay=$(make_day "$itch" "$messages" "$out")
[[ -s "$replay" ]] || die "no replay file $replay"

sw="task-clock,context-switches,cpu-migrations,page-faults,minor-faults,major-faults"
hw="cycles,instructions,branches,branch-misses,cache-references,cache-misses"
# A PMU-less VM answers "<not supported>" for every hardware event.
probe=$(perf stat -x, -e cycles,instructions -- true 2>&1 >/dev/null || true)
if grep -q "<not supported>\|<not counted>" <<<"$probe"; then
  events="$sw"
  note="no hardware performance counters on this host (a VM without a virtual PMU): software events only"
elif ! perf stat -x, -e task-clock -- true >/dev/null 2>&1; then
  skip "perf may not count here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo ?))"
else
  events="$hw,$sw"
  note="hardware counters available"
fi
echo "$note" >&2

cmd=("$itch" bench --mode "$mode" --repeat "$repeat" "$replay")
perf stat -e "$events" -o "$out/stat.txt" -- "${cmd[@]}" >"$out/stat-replay.txt"
perf stat -x, -e "$events" -o "$out/stat.csv" -- "${cmd[@]}" >/dev/null
{
  echo "# $note"
  echo "# replay: ${cmd[*]}"
} >>"$out/stat.txt"

# Per message: the replay prints its total message count on its last line.
total=$(sed -n 's/^messages=\([0-9]*\) .*/\1/p' "$out/stat-replay.txt" | tail -n1)
[[ -n "$total" && "$total" -gt 0 ]] || die "cannot read the message count from the replay's output"
awk -F, -v total="$total" -v note="$note" '
  $3 == "task-clock" || $3 ~ /^task-clock/ { tc = $1 }
  $3 ~ /^instructions/ && $1 ~ /^[0-9.]+$/ { ins = $1 }
  $3 ~ /^cycles/ && $1 ~ /^[0-9.]+$/ { cyc = $1 }
  END {
    printf "perf stat: %s\n", note
    if (tc != "") printf "  task-clock %.1f ms over %d messages (incl. load and set-up): %.1f ns/message\n", tc, total, tc * 1e6 / total
    if (ins != "") printf "  instructions %.0f: %.1f per message\n", ins, ins / total
    if (ins != "" && cyc != "" && cyc > 0) printf "  IPC %.2f\n", ins / cyc
  }
' "$out/stat.csv"
echo "report: $out/stat.txt"
