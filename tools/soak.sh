#!/usr/bin/env bash
# tools/soak.sh DURATION: trades hftd against hft-exchange on loopback for DURATION (seconds, or
# Ns / Nm / Nh) with faults injected on a schedule, and prints one Markdown table row per minute:
# RSS of both processes, hftd's tick-to-trade percentiles, and how the counters moved (gaps,
# recovered, lost, orders, fills, rejects). The table is also written to $SOAK_OUT/soak.md.
#
# The fault schedule (one fault every SOAK_FAULT_EVERY seconds, default 60, the first at half of
# it), in turn:
#   loss-burst     hftd is stopped (SIGSTOP) for SOAK_BURST_S seconds (default 2): the venue keeps
#                  publishing, the kernel drops what no longer fits hftd's socket buffer (a burst of
#                  real loss on the kernel path), hftd recovers it from the re-request server.
#   venue-restart  hft-exchange is killed (SIGKILL) and started again on the same ports: a new
#                  MoldUDP64 and SoupBinTCP session; hftd must see it and trade again.
#   hftd-kill9     hftd is killed (SIGKILL) and started again: it recovers from its write-ahead
#                  journal (orders, positions, cash, UserRefNum; the venue replays what it missed)
#                  and rebuilds its books from a GLIMPSE snapshot instead of replaying the day.
#   calm           nothing.
# Throughout, the venue also keeps every SOAK_DROP_EVERY-th feed packet off the wire (default
# 1000; 0 = none), so gap recovery runs all the time.
#
# Environment: SOAK_OUT (default build/soak), SOAK_PORT (first of four ports, default 32101),
# SOAK_RATE (background ITCH messages/s, default 3000), SOAK_SAMPLE (seconds per row, default 60),
# SOAK_FAULT_EVERY, SOAK_BURST_S, SOAK_DROP_EVERY, SOAK_BIN (default build/release/bin).
# The binaries are copied into $SOAK_OUT/bin first, so a rebuild during the soak changes nothing.
# Exit status: 0 when both processes lived to the end (restarts aside) and hftd declared nothing
# lost; 1 otherwise (the table says why); 2 usage.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: tools/soak.sh DURATION   (seconds, or Ns / Nm / Nh; e.g. 30m)" >&2; exit 2; }
[ $# -eq 1 ] || usage
case "$1" in
  *h) duration=$(( ${1%h} * 3600 )) ;;
  *m) duration=$(( ${1%m} * 60 )) ;;
  *s) duration=${1%s} ;;
  *) duration=$1 ;;
esac
[[ "$duration" =~ ^[0-9]+$ ]] && [ "$duration" -gt 0 ] || usage

out=${SOAK_OUT:-build/soak}
src_bin=${SOAK_BIN:-build/release/bin}
port=${SOAK_PORT:-32101}
rate=${SOAK_RATE:-3000}
sample=${SOAK_SAMPLE:-60}
fault_every=${SOAK_FAULT_EVERY:-60}
burst_s=${SOAK_BURST_S:-2}
drop_every=${SOAK_DROP_EVERY:-1000}
feed_port=$port rerequest_port=$((port + 1)) ouch_port=$((port + 2)) glimpse_port=$((port + 3))

for b in hftd hft-exchange hftctl; do
  [ -x "$src_bin/$b" ] || { echo "soak: $src_bin/$b is missing: build first" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out/bin" "$out/shm" "$out/hist" "$out/logs" "$out/journal"
cp "$src_bin/hftd" "$src_bin/hft-exchange" "$src_bin/hftctl" "$out/bin/"
out=$(cd "$out" && pwd)
bin=$out/bin
instance=soak$$

cat >"$out/hftd.toml" <<EOF
instance = "$instance"
[memory]
size_mb = 64
hugepages = "normal"
[log]
level = "info"
[net]
backend = "auto"
[feed]
listen = "127.0.0.1:$feed_port"
rerequest = "127.0.0.1:$rerequest_port"
request_timeout_ms = 20
glimpse = "127.0.0.1:$glimpse_port"
[order_entry]
venue = "127.0.0.1:$ouch_port"
user = "HFT01"
password = "hft01pw"
firm = "HFTA"
reconnect_ms = 100
[book]
orders = 262144
levels = 65536
max_locate = 64
[risk]
max_order_quantity = 1000
max_notional_usd = 250000
price_band_bps = 500
max_position = 2000
max_open_orders = 100
max_orders_per_second = 2000
order_burst = 200
[[strategies]]
type = "market_maker"
symbols = ["AAA", "BBB", "CCC", "DDD"]
quote_size = 100
max_position = 1000
[[threads]]
name = "hft-pipeline"
idle = "backoff"
stages = ["net", "parse", "book", "strategy", "risk"]
[stats]
histogram_dir = "$out/hist"
[control]
dir = "$out/shm"
[journal]
dir = "$out/journal"
sync = "interval:10ms"
[recovery]
working_orders = "adopt"
EOF

venue_pid="" hftd_pid="" venue_starts=0 hftd_starts=0 failures=()
cleanup() {
  [ -n "$hftd_pid" ] && kill -CONT "$hftd_pid" 2>/dev/null && kill -TERM "$hftd_pid" 2>/dev/null || true
  [ -n "$venue_pid" ] && kill -TERM "$venue_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
start_venue() {
  venue_starts=$((venue_starts + 1))
  "$bin/hft-exchange" --feed "127.0.0.1:$feed_port" --rerequest "127.0.0.1:$rerequest_port" \
    --ouch "127.0.0.1:$ouch_port" --glimpse "127.0.0.1:$glimpse_port" --symbols AAA,BBB,CCC,DDD --rate "$rate" --duration 0 \
    --drop-every "$drop_every" --log-level warn >"$out/logs/venue.$venue_starts.log" 2>&1 &
  venue_pid=$!
  for _ in $(seq 300); do listening "$ouch_port" && return 0; sleep 0.1; done
  failures+=("venue start $venue_starts did not listen"); return 1
}
start_hftd() {
  hftd_starts=$((hftd_starts + 1))
  "$bin/hftd" --config "$out/hftd.toml" --summary "$out/logs/summary.$hftd_starts.txt" \
    >"$out/logs/hftd.$hftd_starts.log" 2>&1 &
  hftd_pid=$!
  for _ in $(seq 300); do
    grep -q "order entry ready" "$out/logs/hftd.$hftd_starts.log" 2>/dev/null && return 0
    kill -0 "$hftd_pid" 2>/dev/null || break
    sleep 0.1
  done
  failures+=("hftd start $hftd_starts did not log in"); return 1
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }
hftctl() { "$bin/hftctl" "$@" --instance "$instance" --dir "$out/shm"; }
# counter NAME from the JSON in $stats (0 when absent)
counter() { local v; v=$(grep -o "\"$1\":[0-9]*" <<<"$stats" | head -1 | cut -d: -f2); echo "${v:-0}"; }
# tick-to-trade percentile P (µs) from the JSON in $hist (nlohmann's keys come sorted:
# {"count":N,"max":M,"name":"tick_to_trade","percentiles":{"50":V,...}})
t2t_hop() { grep -o '{"count":[0-9]*,"max":[0-9a-z]*,"name":"tick_to_trade","percentiles":{[^}]*}' <<<"$hist" | head -1; }
t2t() {
  local v
  v=$(t2t_hop | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2)
  if [ -n "$v" ]; then awk -v n="$v" 'BEGIN { printf "%.1f", n / 1000 }'; else echo "-"; fi
}
t2t_count() { local v; v=$(t2t_hop | grep -o '^{"count":[0-9]*' | cut -d: -f2); echo "${v:-0}"; }

names=(feed.gaps feed.recovered feed.lost feed.duplicates orders.sent orders.fills orders.rejected_by_venue
  egress.login_refusals feed.session_changes)
declare -A prev
prev_pid=""
header="| min | fault in this minute | hftd RSS MiB | venue RSS MiB | t2t p50 / p99 / p99.9 µs (n, since hftd start) | gaps | recovered | lost | dup | orders | fills | venue rejects | login refusals | feed session changes |"
rule="|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
{
  echo "soak: $duration s on $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(date -u +%FT%TZ)"
  echo "venue: --rate $rate --drop-every $drop_every; faults every ${fault_every} s: loss-burst (SIGSTOP ${burst_s} s), venue-restart, hftd-kill9, calm"
  echo
  echo "$header"
  echo "$rule"
} | tee "$out/soak.md"

row() {  # $1 minute, $2 faults
  local stats hist line pid=$hftd_pid d v n
  stats=$(hftctl stats --json 2>/dev/null || true)
  hist=$(hftctl hist --json 2>/dev/null || true)
  if [ "$pid" != "$prev_pid" ]; then for n in "${names[@]}"; do prev[$n]=0; done; prev_pid=$pid; fi
  line="| $1 | ${2:-—} | $(rss_mib "$hftd_pid") | $(rss_mib "$venue_pid") | $(t2t 50) / $(t2t 99) / $(t2t 99.9) ($(t2t_count)) |"
  for n in "${names[@]}"; do
    v=$(counter "$n")
    d=$((v - ${prev[$n]}))
    prev[$n]=$v
    line+=" $d |"
  done
  echo "$line" | tee -a "$out/soak.md"
}

start_venue
start_hftd
echo "soak: venue pid $venue_pid, hftd pid $hftd_pid; logs in $out/logs" >&2
faults=(loss-burst venue-restart hftd-kill9 calm)
start=$(date +%s)
next_fault=$((fault_every / 2)) next_row=$sample fault_no=0 minute=0 row_faults="" lost_total=0
while :; do
  now=$(( $(date +%s) - start ))
  [ "$now" -ge "$duration" ] && break
  if [ "$now" -ge "$next_fault" ]; then
    f=${faults[$((fault_no % ${#faults[@]}))]}
    fault_no=$((fault_no + 1)) next_fault=$((next_fault + fault_every))
    case "$f" in
      loss-burst)
        kill -STOP "$hftd_pid"; sleep "$burst_s"; kill -CONT "$hftd_pid" ;;
      venue-restart)
        kill -KILL "$venue_pid"; wait "$venue_pid" 2>/dev/null || true
        start_venue || true ;;
      hftd-kill9)
        # what the killed process had declared lost before dying still counts
        stats=$(hftctl stats --json 2>/dev/null || true); lost_total=$((lost_total + $(counter feed.lost)))
        kill -KILL "$hftd_pid"; wait "$hftd_pid" 2>/dev/null || true
        start_hftd || true ;;
    esac
    echo "soak: $(date -u +%T) $f" >&2
    row_faults+="${row_faults:+, }$f"
  fi
  kill -0 "$venue_pid" 2>/dev/null || { failures+=("venue died at ${now} s"); start_venue || true; }
  kill -0 "$hftd_pid" 2>/dev/null || { failures+=("hftd died at ${now} s"); start_hftd || true; }
  if [ "$now" -ge "$next_row" ]; then
    minute=$((minute + 1)) next_row=$((next_row + sample))
    row "$minute" "$row_faults"
    row_faults=""
  fi
  sleep 0.5
done
# the last (possibly partial) minute's row
if [ -n "$row_faults" ] || [ "$minute" -lt $(((duration + sample - 1) / sample)) ]; then
  minute=$((minute + 1))
  row "$minute" "$row_faults"
fi
stats=$(hftctl stats --json 2>/dev/null || true); lost_total=$((lost_total + $(counter feed.lost)))
kill -TERM "$hftd_pid"; wait "$hftd_pid" || failures+=("hftd exited with an error at the end")
hftd_pid=""
kill -TERM "$venue_pid"; wait "$venue_pid" || true
venue_pid=""
[ "$lost_total" -eq 0 ] || failures+=("hftd declared $lost_total messages lost")
{
  echo
  echo "venue starts: $venue_starts, hftd starts: $hftd_starts, faults injected: $fault_no"
  if [ ${#failures[@]} -eq 0 ]; then echo "result: ok (nothing lost, both processes alive to the end)"
  else printf 'result: FAILED: %s\n' "${failures[*]}"; fi
} | tee -a "$out/soak.md"
[ ${#failures[@]} -eq 0 ]
