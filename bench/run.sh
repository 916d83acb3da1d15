#!/usr/bin/env bash
# bench/run.sh: what `make bench` runs. It runs the Go micro-benchmarks and
# a short `ringcast bench` suite against a broker it starts on 127.0.0.1,
# the broker pinned to core 0 (taskset -c 0) and the load generator to
# core 1 (taskset -c 1), a fresh broker per scenario; then bench/wrk.sh
# (HTTP publish against a bare fasthttp 201 under wrk) and
# bench/syscalls.sh (system calls per delivered message). Then it writes the
# results, with the machine and the commit, between the markers
# "<!-- make bench: begin -->" and "<!-- make bench: end -->" of
# bench/RESULTS.md (appending them the first time); every other section of
# that file stays as it is.
#
# Every step is bounded: each run stops by itself (--duration,
# --max-messages) and is killed by `timeout` if it does not; the broker is
# stopped by its pid when the script exits. Nothing but 127.0.0.1 is ever
# a target.
#
# Knobs (environment):
#   GO=go              the go command
#   BENCHTIME=1s       go test -benchtime of the micro-benchmarks
#   DURATION=5s        the measured window of each publishing scenario
#   CONNECTIONS=2000   idle subscribers of the connections scenario (the
#                      broker and this shell need `ulimit -n` above it)
#   SKIP_MICRO=1       skip the Go micro-benchmarks
#   SKIP_SUITE=1       skip the ringcast bench suite
#   SKIP_WRK=1         skip bench/wrk.sh (HTTP publish: ringcast vs a bare
#                      fasthttp 201 under the same wrk load; needs wrk)
#   WRK_RUNS=3         its runs; WRK_DURATION=5s its wrk -d
#   SKIP_SYSCALLS=1    skip bench/syscalls.sh (system calls per delivered
#                      message in fan-out; needs perf and the right to
#                      trace the broker)
#   SYSCALL_RUNS=1     its runs
#   RESULTS=bench/RESULTS.md  where the generated section goes
#   OUT=<temp dir>     where the raw results (JSON, logs) are kept
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-1s}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-2000}
RESULTS=${RESULTS:-bench/RESULTS.md}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ringcast-bench.XXXXXX")}
mkdir -p "$OUT"
BEGIN='<!-- make bench: begin -->'
END='<!-- make bench: end -->'
failed=0
load_before=$(cut -d" " -f1-3 /proc/loadavg) # for the section, written at the end

. bench/lib.sh

# Pinning: the broker on core 0 and the load on core 1 where there are two
# cores and taskset; otherwise unpinned, and the section says so.
pinning="unpinned (no taskset or fewer than 2 cores)"
if pin_cores; then
	pinning='broker `taskset -c 0`, load generator `taskset -c 1`'
fi

RINGCAST="$OUT/ringcast"
log "building $RINGCAST"
"$GO" build -o "$RINGCAST" ./cmd/ringcast
trap stop_server EXIT

# start_server NAME starts a fresh broker on a free loopback port (see
# start_broker) and sets URL.
start_server() {
	start_broker "server-$1" --config bench/loopback.yaml || return 1
	URL="http://$ADDR"
}

# busy_ticks is the CPU time the whole machine has used, in clock ticks.
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
# proc_ticks is the CPU time process $1 has used, in clock ticks.
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

runs=()    # JSON result files, in order
cmds=()    # the commands, for the section
others=()  # per run: CPU seconds used by other processes on the machine

# run NAME ARGS...: a fresh broker, then `ringcast bench ARGS --json`.
run() {
	local name=$1
	shift
	start_server "$name" || { failed=1; return; }
	log "$name: ringcast bench $*"
	local b0 s0 l0 l1
	b0=$(busy_ticks) s0=$(proc_ticks "$server_pid")
	l0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
	if timeout 600 "${LOAD_PIN[@]}" "$RINGCAST" bench "$@" --url "$URL" --json >"$OUT/$name.json" 2>"$OUT/$name.progress"; then
		runs+=("$OUT/$name.json")
	else
		log "$name failed: $(tail -3 "$OUT/$name.progress")"
		failed=1
		[ -s "$OUT/$name.json" ] && runs+=("$OUT/$name.json")
	fi
	# Children's CPU (the load generator) from this shell's cutime+cstime.
	l1=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
	local b1 s1
	b1=$(busy_ticks) s1=$(proc_ticks "$server_pid")
	others+=("$(awk -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v l=$((l1 - l0)) -v hz="$HZ" 'BEGIN{o=(b-s-l)/hz; if (o<0) o=0; printf "%.1f", o}')")
	cmds+=("ringcast bench $* --json")
	stop_server
}

micro="$OUT/micro.txt"
if [ -z "${SKIP_MICRO:-}" ]; then
	log "Go micro-benchmarks (-benchtime $BENCHTIME)"
	if ! timeout 900 "$GO" test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -timeout 10m ./... >"$micro" 2>&1; then
		log "some micro-benchmarks failed (see the section)"
		failed=1
	fi
fi

if [ -z "${SKIP_SUITE:-}" ]; then
	run publish publish --connections 64 --duration "$DURATION" --warmup 1s
	run ws-publish ws-publish --connections 1 --subs 0 --duration "$DURATION" --warmup 1s
	run fanout-ws fanout --subs 200 --rate 4000 --size 100 --duration "$DURATION" --warmup 1s
	run fanout-sse fanout --transport sse --subs 50 --rate 1000 --duration "$DURATION" --warmup 1s
	run connections connections --connections "$CONNECTIONS" --hold 3s
	run soak soak --subs 50 --rate 1000 --duration 20s --warmup 0s --every 5s
fi

# HTTP publish against a bare fasthttp 201, same wrk load (issue 5's target).
wrk_out="$OUT/wrk.txt"
if [ -z "${SKIP_WRK:-}" ]; then
	log "bench/wrk.sh: ringcast vs a bare fasthttp 201 under wrk"
	if ! GO="$GO" RINGCAST="$RINGCAST" OUT="$OUT/wrk" RUNS="${WRK_RUNS:-3}" DURATION="${WRK_DURATION:-5s}" \
		timeout 900 bash bench/wrk.sh >"$wrk_out" 2>"$OUT/wrk.log"; then
		log "bench/wrk.sh failed: $(tail -3 "$OUT/wrk.log")"
		failed=1
	fi
fi

# System calls per delivered message in fan-out.
sys_out="$OUT/syscalls.txt"
if [ -z "${SKIP_SYSCALLS:-}" ]; then
	log "bench/syscalls.sh: system calls per delivered message in fan-out"
	if ! GO="$GO" RINGCAST="$RINGCAST" OUT="$OUT/syscalls" RUNS="${SYSCALL_RUNS:-1}" \
		timeout 900 bash bench/syscalls.sh >"$sys_out" 2>"$OUT/syscalls.log"; then
		log "bench/syscalls.sh failed: $(tail -3 "$OUT/syscalls.log")"
		failed=1
	fi
fi

# script_section TITLE TEXT OUTPUT LOG SUMMARY prints the part of the
# section for a script run above: TITLE, TEXT, then in a code block the
# script's OUTPUT but its machine-readable SUMMARY line, and what it
# logged in LOG but its "run N of" lines.
script_section() {
	echo "### $1"
	echo
	echo "$2"
	echo
	echo '```'
	grep -v "^$5" "$3" 2>/dev/null || true
	sed -n 's/^== //p' "$4" 2>/dev/null | grep -v '^run [0-9]* of' || true
	echo '```'
	echo
}

# The generated section.
section="$OUT/section.md"
{
	echo "$BEGIN"
	echo "## make bench (generated)"
	echo
	echo "Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%dT%H:%MZ); do not edit by hand, the next run replaces it."
	echo
	echo "- commit: \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git diff --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes')"
	echo "- machine: \`nproc\` $(nproc), $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || echo 'CPU unknown'), kernel $(uname -r), $(grep -m1 MemTotal /proc/meminfo | awk '{printf "%.0f GiB", $2/1048576}')"
	echo "- \`$("$GO" version)\`"
	echo "- pinning: $pinning; a fresh broker per scenario; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	if [ ${#runs[@]} -gt 0 ]; then
		echo "### ringcast bench suite"
		echo
		"$RINGCAST" bench table "${runs[@]}" || failed=1
		echo
		echo "CPU used on the machine by other processes during each run (seconds; a busy machine makes the numbers worse):"
		echo
		echo '```'
		for i in "${!cmds[@]}"; do
			echo "${cmds[$i]}   # others: ${others[$i]} s"
		done
		echo '```'
		echo
	fi
	if [ -z "${SKIP_WRK:-}" ]; then
		script_section "HTTP publish: ringcast vs a bare fasthttp 201 (wrk)" \
			"\`bench/wrk.sh\` (RUNS=${WRK_RUNS:-3}): per run, bench/bare201 and then a fresh broker, each \`taskset -c 0\`, each loaded by \`taskset -c 1 wrk -t1 -c64 -d${WRK_DURATION:-5s} -s bench/post100.lua\` (100-byte POSTs); target: ringcast at least 0.70 of the bare server's requests/s." \
			"$wrk_out" "$OUT/wrk.log" wrk-summary
	fi
	if [ -z "${SKIP_SYSCALLS:-}" ]; then
		script_section "System calls per delivered message (fan-out)" \
			"\`bench/syscalls.sh\` (RUNS=${SYSCALL_RUNS:-1}): a fresh broker \`taskset -c 0\`, \`taskset -c 1 ringcast bench fanout --subs 200 --rate 4000 --size 100 --duration 10s --warmup 1s\`; \`perf stat -e raw_syscalls:sys_enter -p BROKER\` for 6 s from 2 s into the run, divided by the growth of ringcast_messages_delivered_total over the same window." \
			"$sys_out" "$OUT/syscalls.log" syscalls-summary
	fi
	if [ -s "$micro" ]; then
		echo "### Go micro-benchmarks"
		echo
		echo "\`go test -run '^\$' -bench . -benchmem -benchtime $BENCHTIME ./...\`, unpinned:"
		echo
		echo '```'
		grep -E '^(Benchmark|pkg:|ok|FAIL|---|panic)' "$micro" || true
		echo '```'
		echo
	fi
	echo "The raw results (JSON per scenario, progress lines, broker logs) stay on the machine that ran this, in OUT (a temporary directory unless set)."
	echo "$END"
} >"$section"

# Replace the section in RESULTS, read just now so that sections others
# added meanwhile stay; append it the first time.
tmp="$RESULTS.tmp.$$"
if grep -qF "$BEGIN" "$RESULTS" 2>/dev/null; then
	awk -v begin="$BEGIN" -v end="$END" -v file="$section" '
		$0 == begin { while ((getline line < file) > 0) print line; skip = 1; next }
		$0 == end { skip = 0; next }
		!skip { print }
	' "$RESULTS" >"$tmp"
else
	{ [ -f "$RESULTS" ] && cat "$RESULTS" && echo; cat "$section"; } >"$tmp"
fi
mv "$tmp" "$RESULTS"
log "wrote the generated section of $RESULTS (raw results in $OUT)"
exit "$failed"
