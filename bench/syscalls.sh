#!/usr/bin/env bash
# bench/syscalls.sh: system calls per delivered message in fan-out (issue
# 5): a fresh ringcast broker pinned to core 0 (taskset -c 0), `ringcast
# bench fanout` pinned to core 1 (taskset -c 1), 1 publisher, SUBS
# WebSocket subscribers, 100-byte messages at RATE messages/s. While the
# run publishes, `perf stat -e raw_syscalls:sys_enter` counts the broker's
# system calls for WINDOW seconds (every thread of the broker, nothing
# else), and the broker's ringcast_messages_delivered_total is read from
# /metrics right before and right after that window: the quotient is the
# number printed. The window starts 2 s into the run, past the
# subscribers' handshakes, and ends before the run stops publishing.
#
# With STRACE=1 it then repeats a shorter run under `strace -c -f` for the
# breakdown by system call (strace slows the broker a lot: the run may
# not keep its rate; the breakdown, not the rate, is what it is for).
#
# Every step is bounded (the bench run stops by itself and is killed by
# `timeout` if not; perf and strace stop after their window; the broker
# is stopped by its pid). Only 127.0.0.1 is ever a target. Needs perf
# (linux-perf) and permission to trace the broker (root, or
# kernel.perf_event_paranoid <= 1 and tracefs access).
#
# Knobs (environment):
#   RINGCAST=<path>  a built ringcast; default: built from this tree into OUT
#   GO=go            the go command
#   SUBS=200 RATE=4000 SIZE=100
#   DURATION=10s     the bench run's --duration (its --warmup is 1s)
#   WINDOW=6         seconds counted by perf, from 2 s into the run
#   RUNS=3           how many runs
#   STRACE=          1: add the strace -c -f breakdown (a 5 s run, 3 s traced)
#   NICE=            e.g. -10: run the servers and the load at that niceness
#                    (root only), so that other processes on a shared box
#                    take less of their cores; unset: the default niceness
#   OUT=<temp dir>   where the binary and the logs go
#
# Per run it prints: syscalls, delivered, syscalls per delivered message,
# the bench run's loss verdict, and the count of each of the broker's usual
# system calls (write, writev, read, epoll_pwait, futex, nanosleep,
# sched_yield; counted by perf in the same window, without strace's
# slowdown); the last line is machine-readable:
#   syscalls-summary runs=3 per_delivery=… min=… max=…
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
SUBS=${SUBS:-200}
RATE=${RATE:-4000}
SIZE=${SIZE:-100}
DURATION=${DURATION:-10s}
WINDOW=${WINDOW:-6}
RUNS=${RUNS:-3}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ringcast-syscalls.XXXXXX")}
mkdir -p "$OUT"

. bench/lib.sh
command -v perf >/dev/null || { log "perf is not installed (apt-get install linux-perf)"; exit 2; }
command -v curl >/dev/null || { log "curl is not installed (apt-get install curl)"; exit 2; }
pin_cores "${NICE:-}" || log "unpinned: no taskset or fewer than 2 cores"
build_unless_set RINGCAST ./cmd/ringcast

bench_pid=
cleanup() {
	[ -n "$bench_pid" ] && kill -TERM "$bench_pid" 2>/dev/null || true
	stop_server
}
trap cleanup EXIT

# start_server NAME: a fresh broker (see start_broker), after cleanup.
start_server() {
	cleanup
	start_broker "server-$1"
}

# delivered prints the broker's ringcast_messages_delivered_total, summed.
delivered() {
	curl -fsS --retry 3 --retry-all-errors --max-time 10 "http://$ADDR/metrics" |
		awk '/^ringcast_messages_delivered_total/ {n += $2} END {printf "%.0f\n", n}'
}

# bench NAME DURATION: starts the fan-out run in the background.
bench() {
	timeout 120 "${LOAD_PIN[@]}" "$RINGCAST" bench fanout --subs "$SUBS" --rate "$RATE" --size "$SIZE" \
		--duration "$2" --warmup 1s --url "http://$ADDR" >"$OUT/bench-$1.txt" 2>"$OUT/bench-$1.progress" &
	bench_pid=$!
}

# wait_bench NAME: waits for the run and sets VERDICT to its loss check.
wait_bench() {
	local rc=0
	wait "$bench_pid" || rc=$?
	bench_pid=
	VERDICT=$(grep -m1 '^loss check' "$OUT/bench-$1.txt" || true)
	[ "$rc" = 0 ] || { log "bench fanout failed ($rc): $(tail -3 "$OUT/bench-$1.progress")"; return 1; }
}

failed=0
# The system calls counted one by one as well, for the breakdown.
BREAKDOWN=syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_futex,syscalls:sys_enter_nanosleep,syscalls:sys_enter_sched_yield
ratios=()
for run in $(seq 1 "$RUNS"); do
	start_server "perf-$run" || { failed=1; continue; }
	log "run $run of $RUNS: $(uptime)"
	bench "perf-$run" "$DURATION"
	sleep 2
	d0=$(delivered) || { log "run $run: cannot read the broker's /metrics"; failed=1; cleanup; continue; }
	perf stat -x, -e raw_syscalls:sys_enter -e "$BREAKDOWN" -p "$server_pid" -o "$OUT/perf-$run.csv" -- sleep "$WINDOW" 2>/dev/null
	d1=$(delivered) || { log "run $run: cannot read the broker's /metrics"; failed=1; cleanup; continue; }
	wait_bench "perf-$run" || failed=1
	cleanup
	n=$(awk -F, '/raw_syscalls:sys_enter/ {print $1; exit}' "$OUT/perf-$run.csv")
	[ -n "$n" ] || { log "perf counted nothing: $(cat "$OUT/perf-$run.csv")"; exit 1; }
	r=$(awk -v n="$n" -v d=$((d1 - d0)) 'BEGIN{printf "%.4f", (d > 0 ? n / d : 0)}')
	ratios+=("$r")
	printf 'run %d: %s syscalls, %s delivered in %s s: %s syscalls per delivered message; %s; load average %s\n' \
		"$run" "$n" "$((d1 - d0))" "$WINDOW" "$r" "$VERDICT" "$(cut -d' ' -f1-3 /proc/loadavg)"
	awk -F, -v d=$((d1 - d0)) '/syscalls:sys_enter_/ {sub(/syscalls:sys_enter_/, "", $3); printf "  %-12s %9d  %.4f per delivered message\n", $3, $1, (d > 0 ? $1 / d : 0)}' "$OUT/perf-$run.csv"
done

if [ -n "${STRACE:-}" ]; then
	command -v strace >/dev/null || { log "strace is not installed (apt-get install strace)"; exit 2; }
	start_server strace || exit 1
	bench strace 5s
	sleep 2
	d0=$(delivered)
	timeout -s INT 3 strace -c -f -p "$server_pid" -o "$OUT/strace.txt" || true
	d1=$(delivered)
	wait_bench strace || true
	cleanup
	echo "strace -c -f of the broker for 3 s ($((d1 - d0)) messages delivered meanwhile):"
	cat "$OUT/strace.txt"
fi

[ ${#ratios[@]} -gt 0 ] || { log "no run completed"; exit 1; }
printf 'syscalls-summary runs=%d per_delivery=%s min=%s max=%s\n' "${#ratios[@]}" \
	"$(median "${ratios[@]}")" "$(minimum "${ratios[@]}")" "$(maximum "${ratios[@]}")"
exit "$failed"
