#!/usr/bin/env bash
# A/B of [order_entry] warm_interval_us (the egress stage rehearsing the send path between orders):
# alternating runs of hft-exchange + hftd (io_uring, config/hftd-2core.toml) with it off (0) and on
# (20 us; the default is off); prints the probe's wire-to-wire p50 and hftd's book_to_decision, decision_to_wire and
# tick_to_trade p50 (ns) per run. SECS (default 8) per run; build the release preset first.
cd "$(dirname "$0")/../.."
bin=build/release/bin; out=build/bench-e2e/warm-ab; mkdir -p $out
run() { # tag warm
  sed "s/^backend = .*/backend = \"io_uring\"/; s/^firm = \"HFTA\"/firm = \"HFTA\"\nwarm_interval_us = $2/" config/hftd-2core.toml > $out/$1.toml
  taskset -c 0 $bin/hft-exchange --duration 20 --latency-probe $out/$1.hgrm > $out/venue-$1.log 2>&1 & v=$!
  sleep 1
  $bin/hftd --config $out/$1.toml --summary $out/sum-$1.txt > $out/hftd-$1.log 2>&1 & h=$!
  sleep ${SECS:-8}; kill -TERM $h; wait $h; kill -TERM $v; wait $v
  w=$(grep -o 'wire-to-wire p50 [0-9.]* us' $out/venue-$1.log | tail -1 | awk '{print $3}')
  echo "$1 warm=$2 w2w_p50=$w $(grep -A8 'latency (ns)' $out/hftd-$1.log | grep -E 'decision_to_wire|tick_to_trade|book_to_decision' | awk '{printf "%s=%s ", $3, $5}')"
}
for i in 1 2 3; do run a$i 0; run b$i 20; done
