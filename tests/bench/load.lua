-- load.lua - the wrk script of tests/bench/load.sh.
--
-- Environment: LOAD_PATHS, the paths to request, space-separated, taken in
-- turn by each connection's thread; LOAD_TOKEN (optional), sent as
-- "Authorization: Bearer <token>". At the end it prints one line
-- "LOAD key=value ..." that load.sh reads: requests, requests/s, latency
-- percentiles in milliseconds, responses with a status >= 400 (wrk's
-- errors.status) and socket errors (connect, read, write, timeout).

local paths = {}
for p in string.gmatch(os.getenv("LOAD_PATHS") or "/", "%S+") do
	paths[#paths + 1] = p
end
local headers = {}
local token = os.getenv("LOAD_TOKEN")
if token ~= nil and token ~= "" then
	headers["Authorization"] = "Bearer " .. token
end
local n = 0

request = function()
	n = n + 1
	return wrk.format("GET", paths[(n % #paths) + 1], headers)
end

done = function(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	io.write(string.format(
		"LOAD requests=%d seconds=%.1f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
		"status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
		summary.requests, secs, summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
end
