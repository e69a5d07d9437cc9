-- wrk script: cookieless session POSTs, each creating a new session.
--   POST /session/  action=<BENCH_ACTION or set&key=n&value=1>
-- (application/x-www-form-urlencoded, no Cookie, no Origin). Every answer must be a
-- 302 that sets a new sessionid; done() prints the counts, and the driver
-- (benches/bounds/run.sh) checks them.
local body = os.getenv("BENCH_BODY") or "action=set&key=n&value=1"
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
local threads = {}
responses, found302, other = 0, 0, 0

function setup(thread)
   table.insert(threads, thread)
end

function request()
   return wrk.format("POST", "/session/", headers, body)
end

function response(status, hdrs, b)
   responses = responses + 1
   if status == 302 then found302 = found302 + 1 else other = other + 1 end
end

function done(summary, latency, requests)
   local r, f, o = 0, 0, 0
   for _, t in ipairs(threads) do
      r = r + t:get("responses"); f = f + t:get("found302"); o = o + t:get("other")
   end
   io.write(string.format("cookieless posts: %d responses, %d 302, %d other\n", r, f, o))
end
