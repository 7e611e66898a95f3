#!/usr/bin/env bash
# Book building (and matching) side by side with CppTrader on the same files, in the same run,
# alternating: `hft-itch bench --mode book` against CppTrader's
# cpptrader-performance-market_manager_optimized_aggressive, and, when hft-itch has it,
# `hft-itch bench --mode match` against cpptrader-performance-matching_engine.
#
#   bench/e2e/book_vs_cpptrader.sh PEER_BIN_DIR [ROUNDS]
#
# PEER_BIN_DIR holds CppTrader's performance binaries (built outside this repository:
# docs/benchmarks.md says how). ROUNDS (default 5) alternating rounds; the medians are printed.
# DAYS (default "realistic:10000000:8000 legacy:10000000:8000") lists the generated days as
# profile:messages:stocks; they are made once under build/bench-e2e/book (seed 1). CPU (default
# unset) pins both programs to that CPU with taskset.
#
# What each side times: hft-itch reads the file into a pre-faulted arena first (the kernel's
# zeroing of the book's pools and of the input buffer happens in set-up, outside the timed
# loop) and times the book loop only; CppTrader times its loop that reads the file through an
# 8 KiB stream buffer (from the page cache after the first run) and takes the page faults of its
# 300M-entry order vector on first touch.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 PEER_BIN_DIR [ROUNDS]" >&2; exit 2; }
peer=$1
rounds=${2:-5}
cd "$(dirname "$0")/../.."
itch=${HFT_ITCH:-build/release/bin/hft-itch}
[[ -x $itch ]] || { echo "no $itch: cmake --build --preset release --target hft-itch" >&2; exit 2; }
mm=$peer/cpptrader-performance-market_manager_optimized_aggressive
me=$peer/cpptrader-performance-matching_engine
[[ -x $mm ]] || { echo "no $mm" >&2; exit 2; }
out=build/bench-e2e/book
mkdir -p "$out"
pin=()
[[ -n ${CPU:-} ]] && pin=(taskset -c "$CPU")
has_match=0
"$itch" bench --help 2>&1 | grep -q "match" && [[ -x $me ]] && has_match=1

days=()
for d in ${DAYS:-realistic:10000000:8000 legacy:10000000:8000}; do
  IFS=: read -r profile messages stocks <<<"$d"
  f=$out/$profile-$messages-$stocks.itch
  [[ -s $f ]] || "$itch" gen --profile "$profile" --out "$f" --messages "$messages" --stocks "$stocks" --seed 1 >/dev/null
  days+=("$f")
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : 0)}'; }
res=$out/results.txt
: >"$res"
for ((r = 1; r <= rounds; ++r)); do
  for f in "${days[@]}"; do
    d=$(basename "$f" .itch)
    ours=$("${pin[@]}" "$itch" bench --mode book --repeat 1 "$f" | grep -o '^repeat 1/1: .*msgs_per_s=[0-9]*' | grep -o 'msgs_per_s=[0-9]*' | head -1 | cut -d= -f2)
    theirs=$("${pin[@]}" "$mm" -i "$f" | grep -o 'message throughput: [0-9]*' | awk '{print $3}')
    echo "$d book hft $ours" >>"$res"
    echo "$d book cpptrader $theirs" >>"$res"
    echo "round $r $d book: hft-itch $ours msg/s, CppTrader market_manager_optimized_aggressive $theirs msg/s"
    if ((has_match)); then
      ours=$("${pin[@]}" "$itch" bench --mode match --repeat 1 "$f" | grep -o '^repeat 1/1: .*msgs_per_s=[0-9]*' | grep -o 'msgs_per_s=[0-9]*' | head -1 | cut -d= -f2)
      theirs=$("${pin[@]}" "$me" -i "$f" | grep -o 'message throughput: [0-9]*' | awk '{print $3}')
      echo "$d match hft $ours" >>"$res"
      echo "$d match cpptrader $theirs" >>"$res"
      echo "round $r $d match: hft-itch $ours msg/s, CppTrader matching_engine $theirs msg/s"
    fi
  done
done
echo
echo "medians of $rounds alternating rounds ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs)"
for f in "${days[@]}"; do
  d=$(basename "$f" .itch)
  for mode in book match; do
    grep -q "^$d $mode " "$res" || continue
    a=$(grep "^$d $mode hft " "$res" | awk '{print $4}' | median)
    b=$(grep "^$d $mode cpptrader " "$res" | awk '{print $4}' | median)
    awk -v d="$d" -v m="$mode" -v a="$a" -v b="$b" \
      'BEGIN {printf "%-32s %-5s hft-itch %6.2f M msg/s   CppTrader %6.2f M msg/s   ratio %.2fx\n", d, m, a/1e6, b/1e6, (b > 0 ? a/b : 0)}'
  done
done
