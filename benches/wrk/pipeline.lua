-- wrk script: HTTP/1.1 pipelining. Each write carries DEPTH copies of the request
-- (the URL given to wrk, built with wrk.format); wrk counts the requests in the
-- string and reads DEPTH responses before writing the next batch.
--
--   PIPELINE_DEPTH=16 WRK_CONNECTIONS=64 wrk -c64 --latency -s pipeline.lua URL
--
-- done() prints a corrected latency line, because wrk's own percentiles are wrong
-- with pipelining (they print 0.00us, wg/wrk#236): wrk records one latency per
-- batch (time from the write to the last response) but then applies its
-- coordinated-omission correction with the interval duration / (responses /
-- connections), DEPTH times too short, adding synthetic samples below the smallest
-- real one that its percentile walk never reaches. done() undoes that correction
-- exactly (see stats_correct in wrk's stats.c), re-applies it with the per-batch
-- interval, and prints
--   pipelined batch latency: p50 X us p99 Y us (raw p99 Z us, N batches)
-- where p50/p99 are comparable to wrk's figures for unpipelined runs.

local depth = tonumber(os.getenv("PIPELINE_DEPTH")) or 16
local connections = tonumber(os.getenv("WRK_CONNECTIONS"))

init = function(args)
   depth = tonumber(args[1]) or depth
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, nil)  -- method, path, headers from the URL and defaults
   end
   req = table.concat(r)
end

request = function()
   return req
end

-- wrk's correction: every recorded value n >= 2e adds its count at n-e, n-2e, ...
-- while above e.
local function correct(h, e)
   local out = {}
   for v, c in pairs(h) do out[v] = (out[v] or 0) + c end
   for n, c in pairs(h) do
      if n >= 2 * e then
         local m = n - e
         while m > e do
            out[m] = (out[m] or 0) + c
            m = m - e
         end
      end
   end
   return out
end

local function percentiles(h, ps)
   local keys, total = {}, 0
   for v, c in pairs(h) do
      keys[#keys + 1] = v
      total = total + c
   end
   table.sort(keys)
   local out, acc, i = {}, 0, 1
   for _, v in ipairs(keys) do
      acc = acc + h[v]
      while i <= #ps and acc >= math.floor(ps[i] / 100 * total + 0.5) do
         out[i] = v
         i = i + 1
      end
   end
   return out, total
end

done = function(summary, latency, requests)
   if not connections then
      print("pipelined batch latency: unknown (set WRK_CONNECTIONS to wrk's -c)")
      return
   end
   -- The histogram as wrk left it (corrected), over [min, max].
   local c = {}
   for i = 1, #latency do
      local v, n = latency(i)
      c[v] = n
   end
   -- Undo: corrected[m] = raw[m] + corrected[m + e] for m > e.
   local per_conn = math.floor(summary.requests / connections)
   local raw = {}
   if per_conn > 0 then
      local e = math.floor(summary.duration / per_conn)
      for v, n in pairs(c) do
         local r = n
         if v > e then r = n - (c[v + e] or 0) end
         if r > 0 then raw[v] = r end
      end
   else
      raw = c
   end
   local batches_per_conn = math.floor(summary.requests / depth / connections)
   local fixed = raw
   if batches_per_conn > 0 then
      fixed = correct(raw, math.floor(summary.duration / batches_per_conn))
   end
   local p = percentiles(fixed, {50, 99})
   local rp, nraw = percentiles(raw, {99})
   print(string.format("pipelined batch latency: p50 %d us p99 %d us (raw p99 %d us, %d batches)",
                       p[1] or 0, p[2] or 0, rp[1] or 0, nraw))
end
