# bench/lib.sh: what bench/run.sh, bench/wrk.sh and bench/syscalls.sh
# share; sourced by them (from the repository's root), not run. It defines
# functions only: pinning the server and the load generator to their cores,
# building what is not given, starting a server on a free loopback port and
# reading its address from its log, stopping it by its pid, and medians.
#
# The functions use OUT (where binaries and logs go), GO (the go command)
# and RINGCAST (a built ringcast), which the sourcing script sets.

# log prints its arguments on stderr, after "== ".
log() { printf '== %s\n' "$*" >&2; }

# pin_cores [NICE] sets SERVER_PIN and LOAD_PIN, the commands the server
# and the load generator are run under: `taskset -c 0` and `taskset -c 1`
# where there are two cores and taskset, otherwise nothing, and then
# returns 1 (unpinned). With NICE (e.g. -10) both also run under
# `nice -n NICE`, pinned or not.
pin_cores() {
	local pinned=0
	SERVER_PIN=() LOAD_PIN=()
	if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
		SERVER_PIN=(taskset -c 0) LOAD_PIN=(taskset -c 1)
		pinned=1
	fi
	if [ -n "${1:-}" ]; then
		SERVER_PIN+=(nice -n "$1") LOAD_PIN+=(nice -n "$1")
	fi
	[ "$pinned" = 1 ]
}

# build_unless_set VAR PKG: unless VAR is set (the path of a built
# binary), builds the Go package PKG into OUT, named after its last
# element, and sets VAR to that path.
build_unless_set() {
	[ -z "${!1:-}" ] || return 0
	printf -v "$1" '%s' "$OUT/${2##*/}"
	"$GO" build -o "${!1}" "$2"
}

# stop_server stops the server started last (SIGTERM, SIGKILL if it has
# not exited after 10 s), if any.
server_pid=
stop_server() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}

# start NAME PATTERN CMD...: stops the server running, starts CMD under
# SERVER_PIN with its output in OUT/NAME.log, waits up to 5 s for the
# address that the sed PATTERN finds in that log, and sets ADDR and
# server_pid.
start() {
	local name=$1 pattern=$2
	shift 2
	stop_server
	local logf="$OUT/$name.log"
	: >"$logf" # before the server starts: the address is read from it at once
	"${SERVER_PIN[@]}" "$@" >"$logf" 2>&1 &
	server_pid=$!
	ADDR=
	for _ in $(seq 1 100); do
		ADDR=$(sed -n "$pattern" "$logf" | head -1)
		[ -n "$ADDR" ] && break
		sleep 0.05
	done
	[ -n "$ADDR" ] || { log "$name did not start: $(cat "$logf")"; return 1; }
}

# start_broker NAME ARGS...: start for a fresh ringcast broker on a free
# loopback port, `$RINGCAST serve --listen 127.0.0.1:0 --drain-timeout 3s
# ARGS...`.
start_broker() {
	local name=$1
	shift
	start "$name" 's/.*ringcast serving.* addr=\([0-9.:]*\).*/\1/p' \
		"$RINGCAST" serve --listen 127.0.0.1:0 --drain-timeout 3s "$@"
}

# median, minimum and maximum print those of their (numeric) arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
minimum() { printf '%s\n' "$@" | sort -g | head -1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -1; }
