-- cookieless.lua, stopping after BENCH_LIMIT responses (wrk -t1).
dofile(os.getenv("BENCH_SCRIPT_DIR") .. "/cookieless.lua")
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local inner = response
response = function(status, hdrs, b)
   inner(status, hdrs, b)
   if limit > 0 and responses >= limit then wrk.thread:stop() end
end
