-- bench/post100.lua: wrk's load for the HTTP publish target of issue 5
-- (bench/wrk.sh): every request is a POST of a 100-byte body
-- (WRK_BODY_SIZE bytes when set) to the URL wrk is given.
--
--   wrk -t1 -c64 -d10s -s bench/post100.lua http://127.0.0.1:PORT/v1/topics/bench.wrk
--
-- When the run is over it prints one line that bench/wrk.sh reads:
--   wrk-result requests=N duration_us=D rps=R non2xx=S errors=E p50_us=A p99_us=B
-- where non2xx counts answers that are not 2xx or 3xx and errors counts
-- failed connects, reads, writes and timeouts.
wrk.method = "POST"
wrk.body = string.rep("x", tonumber(os.getenv("WRK_BODY_SIZE") or "100"))
wrk.headers["Content-Type"] = "application/octet-stream"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk-result requests=%d duration_us=%d rps=%.0f non2xx=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
