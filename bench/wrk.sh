#!/usr/bin/env bash
# bench/wrk.sh: the HTTP publish target of issue 5. In each run it starts
# a bare fasthttp server that answers 201 (bench/bare201) and then a fresh
# ringcast broker, each pinned to core 0 (taskset -c 0), and loads each in
# turn with the same wrk command pinned to core 1 (taskset -c 1): 64
# keep-alive connections POSTing 100-byte bodies (bench/post100.lua) for
# DURATION. It prints both request rates and ringcast's share of the
# bare server's, per run and as the median over the runs; the target is a
# ratio of at least 0.70. Since the box may be shared, it also prints each
# server's CPU time per request and the share of core 0 that other
# processes used meanwhile; bare201's CPU per request over ringcast's (the
# "CPU ratio") is what the ratio would be with core 0 to each server alone.
#
# Checks: every answer must be 2xx and no socket may fail, for both
# servers; and the broker's ringcast_messages_published_total{transport=
# "http"} must have grown by what wrk counted (plus at most one request in
# flight per connection when wrk stopped). A failed check makes the exit
# status 1.
#
# Every step is bounded: wrk stops after DURATION and is killed by
# `timeout` if it does not; each server is stopped by its pid (SIGTERM,
# then SIGKILL). Only 127.0.0.1 is ever a target.
#
# Knobs (environment):
#   RINGCAST=<path>   a built ringcast; default: built from this tree into OUT
#   BARE201=<path>    a built bench/bare201; default: built likewise
#   GO=go             the go command
#   RUNS=3            how many runs (pairs of measurements)
#   DURATION=10s      wrk -d
#   CONNECTIONS=64    wrk -c
#   TOPIC=bench.wrk   the topic ringcast's POSTs go to
#   NICE=             e.g. -10: run the servers and the load at that niceness
#                     (root only), so that other processes on a shared box
#                     take less of their cores; unset: the default niceness
#   OUT=<temp dir>    where the binaries and the logs go
#
# The last line is machine-readable, for bench/run.sh:
#   wrk-summary runs=3 bare_rps=… ringcast_rps=… ratio=… ratio_min=… ratio_max=… cpu_ratio=… ok=1
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
TOPIC=${TOPIC:-bench.wrk}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ringcast-wrk.XXXXXX")}
mkdir -p "$OUT"
LUA=bench/post100.lua

. bench/lib.sh
command -v wrk >/dev/null || { log "wrk is not installed (apt-get install wrk); it is what this target is measured with"; exit 2; }
pin_cores "${NICE:-}" || log "unpinned: no taskset or fewer than 2 cores"
build_unless_set RINGCAST ./cmd/ringcast
build_unless_set BARE201 ./bench/bare201
trap stop_server EXIT

# published prints the broker's ringcast_messages_published_total for HTTP.
published() {
	curl -fsS --retry 3 --retry-all-errors --max-time 10 "http://$ADDR/metrics" |
		awk '/^ringcast_messages_published_total\{/ && /transport="http"/ {n += $2} END {printf "%.0f\n", n}'
}

# server_ticks is the CPU time the server has used, in clock ticks.
server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
# core0_ticks is the CPU time core 0 has been busy, in clock ticks.
core0_ticks() { awk '$1 == "cpu0" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# load URL NAME: runs wrk and prints its wrk-result line, with the
# server's CPU time (cpu_us) and what others used of core 0 (others_pct)
# while wrk ran.
load() {
	local out="$OUT/wrk-$2-$run.txt" s0 c0 s1 c1 t0 t1
	s0=$(server_ticks) c0=$(core0_ticks) t0=$(date +%s%N)
	timeout 120 "${LOAD_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$LUA" "$1" >"$out" 2>&1 ||
		{ log "wrk against $2 failed: $(tail -3 "$out")"; return 1; }
	s1=$(server_ticks) c1=$(core0_ticks) t1=$(date +%s%N)
	local line
	line=$(grep '^wrk-result ' "$out") || { log "wrk printed no result: $(tail -3 "$out")"; return 1; }
	awk -v l="$line" -v s=$((s1 - s0)) -v c=$((c1 - c0)) -v ns=$((t1 - t0)) -v hz="$HZ" 'BEGIN {
		o = (c - s) / hz / (ns / 1e9) * 100; if (o < 0) o = 0
		printf "%s cpu_us=%.0f others_pct=%.0f\n", l, s / hz * 1e6, o }'
}

# field LINE NAME: the value of NAME=… in LINE.
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }

ok=1
ratios=() cratios=() bares=() rings=()
for run in $(seq 1 "$RUNS"); do
	log "run $run of $RUNS: $(uptime)"
	start "bare201-$run" 's/^bare201 listening on //p' "$BARE201" -listen 127.0.0.1:0 || { ok=0; continue; }
	bare=$(load "http://$ADDR/v1/topics/$TOPIC" bare201) || { ok=0; stop_server; continue; }
	stop_server
	start_broker "ringcast-$run" || { ok=0; continue; }
	before=$(published) || { log "run $run: cannot read the broker's /metrics"; ok=0; stop_server; continue; }
	ring=$(load "http://$ADDR/v1/topics/$TOPIC" ringcast) || { ok=0; stop_server; continue; }
	after=$(published) || { log "run $run: cannot read the broker's /metrics"; ok=0; stop_server; continue; }
	stop_server

	for line in "$bare" "$ring"; do
		if [ "$(field "$line" non2xx)" != 0 ] || [ "$(field "$line" errors)" != 0 ]; then
			log "run $run: answers that are not 2xx or failed sockets: $line"
			ok=0
		fi
	done
	n=$(field "$ring" requests) grew=$((after - before))
	if [ "$grew" -lt "$n" ] || [ "$grew" -gt $((n + CONNECTIONS)) ]; then
		log "run $run: wrk counted $n answers but the broker's published counter grew by $grew"
		ok=0
	fi
	b=$(field "$bare" rps) r=$(field "$ring" rps)
	ratio=$(awk -v b="$b" -v r="$r" 'BEGIN{printf "%.3f", (b > 0 ? r / b : 0)}')
	# Server CPU per request: what the ratio would be if each server had
	# had its core to itself.
	bc=$(awk -v c="$(field "$bare" cpu_us)" -v n="$(field "$bare" requests)" 'BEGIN{printf "%.2f", (n > 0 ? c / n : 0)}')
	rc=$(awk -v c="$(field "$ring" cpu_us)" -v n="$(field "$ring" requests)" 'BEGIN{printf "%.2f", (n > 0 ? c / n : 0)}')
	cratio=$(awk -v b="$bc" -v r="$rc" 'BEGIN{printf "%.3f", (r > 0 ? b / r : 0)}')
	bares+=("$b") rings+=("$r") ratios+=("$ratio") cratios+=("$cratio")
	printf 'run %d: bare201 %s req/s (p99 %s µs, %s µs CPU/req, others on core 0 %s%%), ringcast %s req/s (p99 %s µs, %s µs CPU/req, others on core 0 %s%%, published +%s); ratio %s, CPU ratio %s; load average %s\n' \
		"$run" "$b" "$(field "$bare" p99_us)" "$bc" "$(field "$bare" others_pct)" \
		"$r" "$(field "$ring" p99_us)" "$rc" "$(field "$ring" others_pct)" "$grew" "$ratio" "$cratio" "$(cut -d' ' -f1-3 /proc/loadavg)"
done

[ ${#ratios[@]} -gt 0 ] || { log "no run completed"; exit 1; }
m=$(median "${ratios[@]}")
printf 'median of %d runs: bare201 %s req/s, ringcast %s req/s, ratio %s (range %s-%s; target 0.70: %s); CPU ratio %s (range %s-%s)\n' \
	"${#ratios[@]}" "$(median "${bares[@]}")" "$(median "${rings[@]}")" "$m" "$(minimum "${ratios[@]}")" "$(maximum "${ratios[@]}")" \
	"$(awk -v m="$m" 'BEGIN{print (m >= 0.70 ? "met" : "not met")}')" \
	"$(median "${cratios[@]}")" "$(minimum "${cratios[@]}")" "$(maximum "${cratios[@]}")"
printf 'wrk-summary runs=%d bare_rps=%s ringcast_rps=%s ratio=%s ratio_min=%s ratio_max=%s cpu_ratio=%s ok=%d\n' \
	"${#ratios[@]}" "$(median "${bares[@]}")" "$(median "${rings[@]}")" "$m" "$(minimum "${ratios[@]}")" "$(maximum "${ratios[@]}")" "$(median "${cratios[@]}")" "$ok"
[ "$ok" = 1 ]
