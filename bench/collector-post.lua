-- collector-post.lua - wrk script for bench/collector.sh: every request
-- POSTs one NEW measurement (one JSON object) to /api/v1/measurements over
-- wrk's keep-alive connections.
--
--   wrk -t T -c C -d S -s bench/collector-post.lua URL -- TEMPLATES TAG T0
--
-- TEMPLATES is the file collector-gen.awk reads (real probe measurements
-- with @@UID@@, @@TIME@@, @@CC@@, @@ASN@@ in place of the envelope); only
-- its variant-0 lines are used. Thread i of T takes the networks n with
-- n % T == i, so no two threads write the same target, and its c-th
-- request measures input c % NI on its (c / NI)-th network, at time T0 + c
-- seconds: each target's measurements arrive in time order. The uid holds
-- TAG, the thread and c, so that every body is a measurement the collector
-- has not seen. done() prints "sent N" (bodies made, including those still
-- in flight when wrk stopped) for the script to check against the store.

local CCS = { "CN", "CN", "CN", "CN", "CN", "IR", "IR", "IR", "IR", "IR",
	"RU", "RU", "RU", "RU", "RU", "TR", "TR", "TR", "TR", "TR",
	"MM", "MM", "MM", "MM", "MM" }
local ASNS = { "AS4134", "AS4837", "AS9808", "AS56046", "AS4538",
	"AS58224", "AS197207", "AS44244", "AS12880", "AS16322",
	"AS12389", "AS8359", "AS3216", "AS31213", "AS25513",
	"AS9121", "AS15897", "AS16135", "AS34984", "AS47331",
	"AS9988", "AS136255", "AS133385", "AS132167", "AS18399" }

local threads = {}
local counter = 1

function setup(thread)
	thread:set("id", counter)
	table.insert(threads, thread)
	counter = counter + 1
end

local pieces = {} -- per input: the template split at "@@"
local nets = {}   -- this thread's networks (1-based indexes)
local tag, t0
local c = 0
sent = 0

local function split(s)
	local out, pos = {}, 1
	while true do
		local a = string.find(s, "@@", pos, true)
		if a == nil then
			table.insert(out, string.sub(s, pos))
			return out
		end
		table.insert(out, string.sub(s, pos, a - 1))
		pos = a + 2
	end
end

function init(args)
	local path = args[1]
	tag = args[2]
	t0 = tonumber(args[3])
	for line in io.lines(path) do
		local ii, v, json = string.match(line, "^(%d+)\t(%d+)\t(.*)$")
		if v == "0" then
			pieces[tonumber(ii) + 1] = split(json)
		end
	end
	-- setup() numbered the threads; their number comes from the script
	local nt = tonumber(os.getenv("WRK_THREADS") or "1")
	for n = 1, #CCS do
		if (n - 1) % nt == id - 1 then
			table.insert(nets, n)
		end
	end
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
end

function request()
	local ni = #pieces
	local ii = c % ni + 1
	local net = nets[math.floor(c / ni) % #nets + 1]
	local t = t0 + c
	local time = os.date("!%Y-%m-%d %H:%M:%S", t)
	local uid = os.date("!%Y%m%d%H%M%S", t) .. string.format(".%06d_%s_bench_%s_t%dc%d",
		c % 1000000, CCS[net], tag, id, c)
	local p = pieces[ii]
	local out = {}
	for k = 1, #p do
		local s = p[k]
		if k % 2 == 0 then
			if s == "UID" then s = uid
			elseif s == "TIME" then s = time
			elseif s == "CC" then s = CCS[net]
			elseif s == "ASN" then s = ASNS[net]
			end
		end
		out[k] = s
	end
	c = c + 1
	sent = c
	return wrk.format(nil, nil, nil, table.concat(out))
end

function done(summary, latency, requests)
	local total = 0
	for _, th in ipairs(threads) do
		total = total + th:get("sent")
	end
	io.write(string.format("sent %d\n", total))
end
