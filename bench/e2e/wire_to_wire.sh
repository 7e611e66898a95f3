#!/usr/bin/env bash
# Wire-to-wire latency of the whole appliance on loopback, against the kernel's own floor, in one
# run: for each network backend (io_uring, then epoll, then io_uring again so drift shows),
# hft-exchange sends latency probes (an ITCH add order on a reserved symbol, alone in its
# MoldUDP64 packet) and times each until hftd's answering OUCH order arrives; the kernel floor is
# sockperf's UDP one-way p50 + TCP one-way p50 with the same CPU placement.
#
#   bench/e2e/wire_to_wire.sh [SECONDS_PER_RUN]      (default 15; build the release preset first)
#
# Prints one table: backend, probe samples, wire-to-wire p50/p99, internal tick-to-trade
# p50/p99.9, and wire-to-wire p50 divided by the floor.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
bin=build/release/bin
out=build/bench-e2e
mkdir -p "$out"
for b in hftd hft-exchange; do [ -x "$bin/$b" ] || { echo "build first: $bin/$b missing" >&2; exit 1; }; done
config=config/hftd-2core.toml
[ "$(nproc)" -ge 4 ] && config=config/hftd-4core.toml

p50() { sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' | head -1; }
floor_once() {
  taskset -c 0 sockperf sr --port 31092 >/dev/null 2>&1 & local s=$!
  sleep 0.3
  local u; u=$(taskset -c 1 sockperf pp --port 31092 -t 4 -m 64 2>&1 | p50)
  kill $s; wait $s 2>/dev/null || true
  taskset -c 0 sockperf sr --tcp --port 31093 >/dev/null 2>&1 & s=$!
  sleep 0.3
  local t; t=$(taskset -c 1 sockperf pp --tcp --port 31093 -t 4 -m 64 2>&1 | p50)
  kill $s; wait $s 2>/dev/null || true
  awk -v u="$u" -v t="$t" 'BEGIN { printf "%.2f %.2f %.2f\n", u / 2, t / 2, u / 2 + t / 2 }'
}

run_backend() {  # backend tag
  local backend=$1 tag=$2
  sed "s/^backend = .*/backend = \"$backend\"/" "$config" > "$out/hftd-$tag.toml"
  taskset -c 0 "$bin/hft-exchange" --duration $((seconds + 10)) --latency-probe "$out/probe-$tag.hgrm" \
    >"$out/venue-$tag.log" 2>&1 & local v=$!
  sleep 1
  "$bin/hftd" --config "$out/hftd-$tag.toml" --summary "$out/summary-$tag.txt" >"$out/hftd-$tag.log" 2>&1 & local h=$!
  sleep "$seconds"
  kill -TERM $h; wait $h
  kill -TERM $v 2>/dev/null || true; wait $v || true
  local probe; probe=$(grep -o 'wire-to-wire p50 [0-9.]* us, p90 [0-9.]* us, p99 [0-9.]* us' "$out/venue-$tag.log" | tail -1)
  local n; n=$(grep -o '([0-9]* samples)' "$out/venue-$tag.log" | tail -1 | tr -dc 0-9)
  local w50 w99; w50=$(echo "$probe" | awk '{print $3}'); w99=$(echo "$probe" | awk '{print $9}')
  local t50 t999; t50=$(sed -n 's/^tick_to_trade_p50_ns=//p' "$out/summary-$tag.txt"); t999=$(sed -n 's/^tick_to_trade_p999_ns=//p' "$out/summary-$tag.txt")
  printf '%-10s %8s %10s %10s %12s %12s %8s\n' "$backend" "${n:-0}" "$w50" "$w99" \
    "$(awk -v x="$t50" 'BEGIN{printf "%.2f", x/1000}')" "$(awk -v x="$t999" 'BEGIN{printf "%.2f", x/1000}')" \
    "$(awk -v w="$w50" -v f="$floor" 'BEGIN{ if (w == "") print "-"; else printf "%.2f", w / f }')"
}

read -r udp tcp floor < <(floor_once)
echo "kernel floor (sockperf p50, 64 B): UDP one-way ${udp} us + TCP one-way ${tcp} us = ${floor} us"
echo "config: $config; ${seconds} s per run; venue on CPU 0; $(nproc) CPUs"
printf '%-10s %8s %10s %10s %12s %12s %8s\n' backend probes "w2w p50" "w2w p99" "t2t p50 us" "t2t p99.9 us" "p50/floor"
run_backend io_uring uring1
run_backend epoll epoll
run_backend io_uring uring2
read -r udp2 tcp2 floor2 < <(floor_once)
echo "kernel floor again: ${floor2} us (UDP ${udp2} + TCP ${tcp2})"
