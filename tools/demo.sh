#!/usr/bin/env bash
# The loopback trading demo (tools/quickstart.sh demo runs it after the build):
#  1. measures the kernel's own loopback floor with sockperf (UDP and TCP one-way p50),
#  2. starts hft-exchange (the venue: ITCH 5.0 over MoldUDP64, OUCH 5.0 over SoupBinTCP,
#     background traders, latency probe) and hftd (the appliance) with a config suited to this host,
#  3. trades for DEMO_SECONDS (default 20), the venue dropping every DEMO_DROP_EVERY-th feed packet
#     on purpose (default 2000; hftd recovers them from the re-request server), stops both cleanly,
#  4. prints what happened: feed, gaps, orders, position and P&L, internal tick-to-trade, and the
#     venue's wire-to-wire latency from its probe against the kernel floor;
#  5. meanwhile runs a TWAP parent order through `hftctl algo start` (DEMO_TWAP_SHARES, default 5000
#     shares of AAA bought over DEMO_TWAP_SECONDS, default 15 s; 0 shares: none) and prints a line
#     per strategy (P&L, fills, fees; for the execution strategy its parent orders' shortfall) and
#     per parent order. The demo's risk limit is 7,000 shares per symbol, and the market maker may
#     hold 1,000 of them.
#  6. with `--venues 2` (issue 14), also a second venue, BX, following the first's fair values 50 ms
#     later (DEMO_LAG_MS, noise DEMO_NOISE_BPS bps, default 2) on its own ports (feed 31101,
#     re-requests 31102, OUCH 31103; the first venue's lead channel on 31010), and writes what hftd's
#     `[[venues]]` configuration needs for both into build/demo/venues.toml; hftd then trades both
#     (build/demo/hftd-venues.toml: the market maker on venue 0, `cross_venue_arb` on DEMO_ARB_SYMBOL,
#     default BBB) and the summary adds the arbitrage's counters, its legs_to_wire p50/p99 and each
#     venue's executions for HFT01 (their --executions logs).
set -euo pipefail
cd "$(dirname "$0")/.."

venues=1
while [ $# -gt 0 ]; do
  case "$1" in
    --venues) venues=${2:?--venues needs 1 or 2}; shift 2 ;;
    --venues=*) venues=${1#--venues=}; shift ;;
    *) echo "usage: tools/demo.sh [--venues 1|2]" >&2; exit 2 ;;
  esac
done
[ "$venues" = 1 ] || [ "$venues" = 2 ] || { echo "demo: --venues must be 1 or 2" >&2; exit 2; }
lag_ms=${DEMO_LAG_MS:-50}
noise_bps=${DEMO_NOISE_BPS:-2}
arb_symbol=${DEMO_ARB_SYMBOL:-BBB}
arb_min_bps=${DEMO_ARB_MIN_BPS:-0}  # edge beyond both take fees, bps of the price
bin=${DEMO_BIN:-build/release/bin}  # DEMO_BIN: another build's programs
out=build/demo
seconds=${DEMO_SECONDS:-20}
# The venue keeps every Nth feed packet off the wire so that gap recovery shows (0: lossless).
drop_every=${DEMO_DROP_EVERY:-2000}
# DEMO_JOURNAL=1: hftd runs with the write-ahead journal ([journal] in build/demo/journal, sync
# DEMO_JOURNAL_SYNC, default "interval:10ms"); each run starts from an empty journal directory.
journal=${DEMO_JOURNAL:-0}
journal_sync=${DEMO_JOURNAL_SYNC:-interval:10ms}
# DEMO_CLIENTS=1: the data side runs against hftd while it trades (implies DEMO_JOURNAL=1):
# `hftctl serve` (REST, WebSocket, dashboard on 127.0.0.1:31095), `hft-journal follow` loading the
# live journal into build/demo/follow.db, and a WebSocket client reading every event
# (tools/ws_reader.py), all on the venue's CPU; the summary then says what they did.
clients=${DEMO_CLIENTS:-0}
[ "$clients" = 1 ] && journal=1
twap_shares=${DEMO_TWAP_SHARES:-5000}
twap_seconds=${DEMO_TWAP_SECONDS:-15}
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.hgrm "$out"/summary.txt

for b in hftd hft-exchange; do
  [ -x "$bin/$b" ] || { echo "demo: $bin/$b is missing: build first (tools/quickstart.sh demo)" >&2; exit 1; }
done

cpus=$(nproc)
# On two CPUs the pipeline thread takes the CPU that serves fewer device interrupts (the counts
# of /proc/interrupts since boot; DEMO_HOT_CPU overrides): a VM's disk interrupt is often bound to
# one CPU by the kernel (a managed IRQ, not movable), and every disk write on the host (the
# journal's syncs, hft-journal follow's SQLite) would then interrupt the pipeline thread
# (docs/benchmarks.md). Everything else runs on the other CPU.
hot=1; other=0
if [ "$cpus" -lt 4 ]; then
  if [ -n "${DEMO_HOT_CPU:-}" ]; then hot=$DEMO_HOT_CPU
  elif [ -r /proc/interrupts ]; then
    hot=$(awk '/PCI-MSI|IO-APIC/ { a += $2; b += $3 } END { print (b > a ? 0 : 1) }' /proc/interrupts)
  fi
  other=$((1 - hot))
fi
if [ "$cpus" -ge 4 ]; then config=config/hftd-4core.toml; layout="2 pipeline threads on CPUs 1-2"; else
  sed "s/^cpu = 1$/cpu = $hot/" config/hftd-2core.toml >"$out/hftd-2core.toml"
  config=$out/hftd-2core.toml; layout="1 fused pipeline thread on CPU $hot"; fi
if [ "$journal" = 1 ]; then
  rm -rf "$out/journal"
  { cat "$config"; printf '\n[journal]\ndir = "%s"\nsync = "%s"\n' "$PWD/$out/journal" "$journal_sync"; } >"$out/hftd-journal.toml"
  config=$out/hftd-journal.toml
  layout="$layout, journal on ($journal_sync)"
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

p50() { sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' | head -1; }
echo "==> kernel floor: sockperf ping-pong on loopback (64-byte messages, server on CPU $other, client on CPU $hot)"
taskset -c $other sockperf sr --port 31090 >"$out/sockperf-udp-server.log" 2>&1 & pids+=($!)
sleep 0.3
udp_rtt=$(taskset -c $hot sockperf pp --port 31090 -t 3 -m 64 2>&1 | tee "$out/sockperf-udp.log" | p50)
kill "${pids[-1]}" 2>/dev/null || true
taskset -c $other sockperf sr --tcp --port 31091 >"$out/sockperf-tcp-server.log" 2>&1 & pids+=($!)
sleep 0.3
tcp_rtt=$(taskset -c $hot sockperf pp --tcp --port 31091 -t 3 -m 64 2>&1 | tee "$out/sockperf-tcp.log" | p50)
kill "${pids[-1]}" 2>/dev/null || true
floor=$(awk -v u="$udp_rtt" -v t="$tcp_rtt" 'BEGIN { printf "%.1f", u / 2 + t / 2 }')
echo "    UDP round trip p50 ${udp_rtt} us, TCP round trip p50 ${tcp_rtt} us: one-way UDP + TCP = ${floor} us"

echo "==> starting hft-exchange (CPU $other) and hftd ($layout, $config) for ${seconds} s"
lead_args=()
[ "$venues" = 2 ] && lead_args=(--lead-listen 127.0.0.1:31010 --executions "$out/executions-nasdaq.jsonl")
rm -f "$out"/executions-*.jsonl
taskset -c $other "$bin/hft-exchange" --duration $((seconds + 12)) --latency-probe "$out/probe.hgrm" --drop-every "$drop_every" \
  --capture "$out/feed.itch" --book-dump "$out/venue-book.json" "${lead_args[@]}" >"$out/venue.log" 2>&1 &
venue=$!; pids+=($venue)
venue2=
if [ "$venues" = 2 ]; then
  # The second venue: BX, an inverted fee schedule, trading the same symbols around the first
  # venue's fair values lagged by lag_ms (docs/venue.md, "Two venues with a lead-lag").
  taskset -c $other "$bin/hft-exchange" --venue BX --feed 127.0.0.1:31101 --rerequest 127.0.0.1:31102 --ouch 127.0.0.1:31103 \
    --fee-add 0.0018 --fee-remove -0.0006 --follow 127.0.0.1:31010 --lag-ms "$lag_ms" --follow-noise-bps "$noise_bps" \
    --duration $((seconds + 12)) --capture "$out/feed-bx.itch" --executions "$out/executions-bx.jsonl" \
    --latency-probe "$out/probe-bx.hgrm" >"$out/venue-bx.log" 2>&1 &
  venue2=$!; pids+=($venue2)
  # What hftd's [[venues]] needs for the two (pipeline/app/config.cpp parse_venues).
  cat >"$out/venues.toml" <<'TOML'
# The demo's two venues, for hftd's [[venues]] (issue 14). Venue 0 is the leader, venue 1 follows
# its fair values (hft-exchange --follow), so one venue's bid rises above the other's ask now and then.
[[venues]]
name = "NASDAQ"
fee_add_per_share = 0.0
fee_remove_per_share = 0.0
[venues.feed]
listen = "127.0.0.1:31001"
rerequest = "127.0.0.1:31002"
request_timeout_ms = 20
[venues.order_entry]
venue = "127.0.0.1:31003"
user = "HFT01"
password = "hft01pw"
firm = "HFTA"

[[venues]]
name = "BX"
fee_add_per_share = 0.0018
fee_remove_per_share = -0.0006
[venues.feed]
listen = "127.0.0.1:31101"
rerequest = "127.0.0.1:31102"
request_timeout_ms = 20
[venues.order_entry]
venue = "127.0.0.1:31103"
user = "HFT01"
password = "hft01pw"
firm = "HFTA"
TOML
  # hftd's config for both: the host's config without its single-venue [feed] / [order_entry],
  # the two venues, and the arbitrage on a symbol both venues trade.
  { awk '/^\[/ { skip = ($0 == "[feed]" || $0 == "[order_entry]") } !skip' "$config"
    cat "$out/venues.toml"
    printf '\n[[strategies]]\ntype = "cross_venue_arb"\nname = "arb"\nsymbol = "%s"\nsize = 100\nmax_position = 500\nmin_profit_bps = %s\n' \
      "$arb_symbol" "$arb_min_bps"
    # BX's latency probe, answered on BX's session: each venue's probe times its own path.
    printf '\n[[strategies]]\ntype = "probe"\nname = "probe_bx"\nvenue = 1\n'; } >"$out/hftd-venues.toml"
  config=$out/hftd-venues.toml
  echo "    second venue: BX on 31101-31103, following NASDAQ's fair values ${lag_ms} ms later (noise ${noise_bps} bps); hftd's [[venues]] for both: $out/venues.toml"
fi
# hftd refuses to start when the venue does not answer: wait until the venue listens on the order
# entry port of the config (its start-up takes seconds on a loaded host), not a fixed pause.
ouch_port=$(sed -n 's/^venue *= *"[^:]*:\([0-9]*\)".*/\1/p' "$config" | head -1)
for _ in $(seq 300); do
  ss -Hltn "sport = :$ouch_port" 2>/dev/null | grep -q . && break
  kill -0 $venue 2>/dev/null || { echo "demo: hft-exchange exited early:" >&2; tail -20 "$out/venue.log" >&2; exit 1; }
  sleep 0.1
done
if [ -n "$venue2" ]; then
  for _ in $(seq 300); do
    ss -Hltn "sport = :31103" 2>/dev/null | grep -q . && break
    kill -0 $venue2 2>/dev/null || { echo "demo: the second venue exited early:" >&2; tail -20 "$out/venue-bx.log" >&2; exit 1; }
    sleep 0.1
  done
fi
"$bin/hftd" --config "$config" --summary "$out/summary.txt" >"$out/hftd.log" 2>&1 &
hftd=$!; pids+=($hftd)
for _ in $(seq 100); do
  grep -q "order entry ready" "$out/hftd.log" 2>/dev/null && break
  kill -0 $hftd 2>/dev/null || { echo "demo: hftd exited early:" >&2; tail -20 "$out/hftd.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "order entry ready" "$out/hftd.log" || { echo "demo: hftd did not log in to the venue:" >&2; tail -20 "$out/hftd.log" >&2; exit 1; }
instance=$(sed -n 's/^instance *= *"\(.*\)".*/\1/p' "$config" | head -1)
if [ "$clients" = 1 ]; then
  for b in hftctl hft-journal; do [ -x "$bin/$b" ] || { echo "demo: $bin/$b is missing (DEMO_CLIENTS=1)" >&2; exit 1; }; done
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n" >"$out/token")
  rm -f "$out"/follow.db*
  taskset -c $other "$bin/hftctl" serve --instance "${instance:-demo}" --token-file "$out/token" --journal "$out/journal" \
    --listen 127.0.0.1:31095 >"$out/serve.log" 2>&1 & server=$!; pids+=($server)
  taskset -c $other "$bin/hft-journal" follow --dir "$out/journal" --instance "${instance:-demo}" --sqlite "$out/follow.db" \
    >"$out/follow.log" 2>&1 & follower=$!; pids+=($follower)
  for _ in $(seq 100); do ss -Hltn "sport = :31095" 2>/dev/null | grep -q . && break; sleep 0.1; done
  taskset -c $other python3 tools/ws_reader.py 127.0.0.1 31095 "$(cat "$out/token")" >"$out/ws.log" 2>&1 & wsreader=$!; pids+=($wsreader)
  echo "    data side: hftctl serve on 127.0.0.1:31095 (dashboard http://127.0.0.1:31095/#token=...), hft-journal follow, a WebSocket reader"
fi
ctl() { "$bin/hftctl" "$@" --instance "${instance:-demo}"; }
if [ "$twap_shares" -gt 0 ] && [ -x "$bin/hftctl" ]; then
  if twap_id=$(ctl algo start twap --symbol AAA --side buy --quantity "$twap_shares" --duration "${twap_seconds}s" 2>"$out/algo.err"); then
    echo "    TWAP parent order $twap_id: buy $twap_shares AAA over ${twap_seconds} s (hftctl algo status $twap_id)"
  else
    echo "    TWAP not started: $(cat "$out/algo.err")"
  fi
fi
for ((t = 5; t <= seconds; t += 5)); do sleep 5; echo "    ... trading ${t} s"; done
if [ -x "$bin/hftctl" ]; then
  ctl strategy list --json >"$out/strategies.json" 2>/dev/null || true
  ctl algo status --json >"$out/algos.json" 2>/dev/null || true
fi
if [ "$clients" = 1 ]; then
  api=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' http://127.0.0.1:31095/api/v1/hft/status || true)
  kill -TERM $wsreader 2>/dev/null || true; wait $wsreader 2>/dev/null || true
fi
kill -TERM $hftd
wait $hftd || { echo "demo: hftd failed:" >&2; tail -20 "$out/hftd.log" >&2; exit 1; }
if [ "$clients" = 1 ]; then
  # The venue is stopped below, once (a second SIGTERM would cut its probe summary short).
  kill -TERM $follower $server 2>/dev/null || true; wait $follower $server 2>/dev/null || true
fi
kill -TERM $venue 2>/dev/null || true
wait $venue || true
if [ -n "$venue2" ]; then
  kill -TERM $venue2 2>/dev/null || true
  wait $venue2 || true
fi
trap - EXIT

kv() { sed -n "s/^$1=//p" "$out/summary.txt"; }
us() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1000 }'; }
probe=$(grep -o 'wire-to-wire p50 [0-9.]* us, p90 [0-9.]* us, p99 [0-9.]* us, p99.9 [0-9.]* us, max [0-9.]* us ([0-9]* samples)' "$out/venue.log" | tail -1 || true)
w2w=$(echo "$probe" | sed -n 's/wire-to-wire p50 \([0-9.]*\) us.*/\1/p')

echo
echo "== loopback trading demo: ${seconds} s, $(kv backend) backend, ${layout}, venue on CPU $other =="
printf '%-26s %s packets, %s messages; gaps %s (%s messages recovered via %s re-requests), %s lost\n' "feed received" \
  "$(kv feed_packets)" "$(kv feed_messages)" "$(kv gaps)" "$(kv recovered)" "$(kv requests)" "$(kv lost)"
printf '%-26s %s sent, %s accepted, %s fills (%s shares), %s rejected by risk, %s rejected by the venue\n' "orders" \
  "$(kv orders_sent)" "$(kv accepted)" "$(kv fills)" "$(kv filled_shares)" "$(kv risk_rejects)" "$(kv venue_rejects)"
printf '%-26s %s replaces, %s cancels\n' "order changes" "$(kv replaces_sent)" "$(kv cancels_sent)"
positions=$(sed -n 's/^position\.\([^=]*\)=\(.*\)/\1 \2/p' "$out/summary.txt" | paste -sd ',' - | sed 's/,/, /g')
printf '%-26s %s (shares; gross %s, net %s); P&L %s USD (marked at the reference prices)\n' "positions" \
  "${positions:-none}" "$(kv gross_position)" "$(kv net_position)" "$(kv pnl_usd)"
printf '%-26s p50 %s us, p99 %s us, p99.9 %s us (%s orders; packet reaped -> order handed to the kernel)\n' \
  "tick-to-trade (internal)" "$(us "$(kv tick_to_trade_p50_ns)")" "$(us "$(kv tick_to_trade_p99_ns)")" \
  "$(us "$(kv tick_to_trade_p999_ns)")" "$(kv tick_to_trade_count)"
printf '%-26s %s\n' "wire-to-wire (venue probe)" "${probe:-no probe answered}"
if [ -n "$venue2" ]; then
  follow=$(grep -o 'follow: leader .*' "$out/venue-bx.log" | tail -1 || true)
  printf '%-26s %s\n' "second venue (BX)" "${follow:-no follow summary (see $out/venue-bx.log)}"
  probe_bx=$(grep -o 'wire-to-wire p50 [0-9.]* us, p90 [0-9.]* us, p99 [0-9.]* us, p99.9 [0-9.]* us, max [0-9.]* us ([0-9]* samples)' "$out/venue-bx.log" | tail -1 || true)
  printf '%-26s %s\n' "wire-to-wire (BX probe)" "${probe_bx:-no probe answered}"
  for a in $(sed -n 's/^arb\.\([^.]*\)\.seen=.*/\1/p' "$out/summary.txt"); do
    printf '%-26s %s seen, %s taken, %s both legs filled, %s one leg, %s neither; %s hedges, %s unwinds, %s refused; %s retries, %s left open\n' \
      "arbitrage $a" "$(kv "arb\\.$a\\.seen")" "$(kv "arb\\.$a\\.taken")" "$(kv "arb\\.$a\\.both_filled")" \
      "$(kv "arb\\.$a\\.one_leg")" "$(kv "arb\\.$a\\.none_filled")" "$(kv "arb\\.$a\\.hedges")" \
      "$(kv "arb\\.$a\\.unwinds")" "$(kv "arb\\.$a\\.refused")" "$(kv "arb\\.$a\\.retries")" "$(kv "arb\\.$a\\.left_open")"
  done
  printf '%-26s p50 %s us, p99 %s us (%s pairs; arbitrage detection -> both legs handed to the kernel)\n' \
    "legs_to_wire (internal)" "$(us "$(kv legs_to_wire_p50_ns)")" "$(us "$(kv legs_to_wire_p99_ns)")" "$(kv legs_to_wire_count)"
  for f in "$out"/executions-nasdaq.jsonl "$out"/executions-bx.jsonl; do
    name=$(basename "$f" .jsonl); name=${name#executions-}
    n=$(grep -c '"user":"HFT01"' "$f" 2>/dev/null || true)
    sh=$(grep '"user":"HFT01"' "$f" 2>/dev/null | sed -n 's/.*"quantity":\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
    printf '%-26s %s executions for HFT01 (%s shares; %s)\n' "venue ${name^^}" "${n:-0}" "$sh" "$f"
  done
fi
if [ -n "$w2w" ]; then
  printf '%-26s %s us (UDP + TCP one-way p50); wire-to-wire p50 / floor = %s\n' "kernel floor (sockperf)" "$floor" \
    "$(awk -v w="$w2w" -v f="$floor" 'BEGIN { printf "%.2f", w / f }')"
fi
if command -v jq >/dev/null && [ -s "$out/strategies.json" ]; then
  algos=$out/algos.json; [ -s "$algos" ] || echo '{"algos":[]}' >"$algos"
  jq -r --slurpfile a "$algos" '.strategies[] | . as $s | ([$a[0].algos[] | select(.strategy == $s.name)]) as $p
    | "strategy \(.name) (\(.type), \(.state))|P&L \(.pnl * 100 | round / 100) USD (realized \(.realized_pnl * 100 | round / 100), unrealized \(.unrealized_pnl * 100 | round / 100), fees \((.fees // 0) * 100 | round / 100)); \(.orders) orders, \(.fills) fills, \(.volume_shares) shares, fill ratio \(.fill_ratio * 1000 | round / 10)%"
      + (if ($p | length) > 0 then "; parent orders: " + ([$p[] | "\(.id) \(.filled)/\(.quantity) shortfall \(.shortfall_bps * 100 | round / 100) bps"] | join(", ")) else "" end)' \
    "$out/strategies.json" | while IFS='|' read -r who what; do printf '%-26s %s\n' "$who" "$what"; done
  [ -s "$out/algos.json" ] && jq -r '.algos[] | "\(.algo) \(.id) \(.side) \(.symbol)|\(.state): \(.filled)/\(.quantity) filled at \(.avg_price * 10000 | round / 10000) (arrival \(.arrival_price * 10000 | round / 10000)); shortfall \(.shortfall_bps * 100 | round / 100) bps, vs market VWAP \(.slippage_bps * 100 | round / 100) bps; participation \(.participation * 1000 | round / 10)%"' \
    "$out/algos.json" | while IFS='|' read -r who what; do printf '%-26s %s\n' "$who" "$what"; done
fi
if [ "$clients" = 1 ]; then
  printf '%-26s %s; GET status at the end: %s; follow: %s\n' "data side" "$(tail -1 "$out/ws.log" 2>/dev/null)" "${api:-?}" \
    "$(grep -o '[0-9]* rows into sqlite[^,]*' "$out/follow.log" | tail -1)"
fi
echo "logs and histograms: $out/ (hftd.log, venue.log, probe.hgrm), build/hftd/*.hgrm"
