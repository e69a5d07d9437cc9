-- wrk script for the soak (benches/soak/run.sh): a mixed load that records every
-- write the server acknowledged, so that a checker can look for each one later.
--
--   SOAK_ACKS=dir wrk -t16 -c16 -d600s -s benches/soak/soak.lua http://127.0.0.1:PORT
--
-- Run it with as many threads as connections (-tN -cN): each wrk thread then has one
-- connection, and a connection sends its next request only after the answer to the
-- previous one (or, when the connection broke, instead of it: wrk calls request()
-- again after a reconnect). So the answer response() sees is always the answer to
-- the request this thread built last, and a write whose answer never came (the
-- server was killed) is simply never recorded.
--
-- Each thread cycles through ten requests:
--   GET /plaintext (x4), GET /products/N/ (x2), GET /cart/ (its session),
--   POST /cart/add/ product=P (its session), POST /session/ action=set&key=n&value=C
--   (its session), POST /upload/ (multipart, one small file)
-- Every thread has its own session (cookie), replaced by a fresh one every
-- ADDS_PER_SESSION cart adds (a cart holds at most 99 of a product). Answers expected:
-- 200 for the reads, 302 for the cart and session writes, 201 for an upload.
--
-- Acknowledged writes are appended, one line each, to $SOAK_ACKS/acks-<thread>.log:
--   cart <sessionid> <product> <acked adds on this session so far>
--   set <sessionid> <value C>
--   upload <stored name> <thread> <n> <length>
-- An upload's file is named soak-<thread>-<n>.bin and its bytes are the text
-- "<thread>:<n>;" repeated and cut to <length>, so the checker can rebuild them.
--
-- done() prints one line per request kind (sent, answered, unexpected statuses) and
-- the number of writes acknowledged.

local ADDS_PER_SESSION = 40
local PRODUCTS = 12
local BOUNDARY = "soakboundary7MA4YWxk"

local nthreads = 0
local threads = {}

function setup(thread)
   nthreads = nthreads + 1
   thread:set("tid", nthreads)
   table.insert(threads, thread)
end

-- Per-thread counters (globals, read by done() with thread:get).
sent, answered, unexpected, acked = 0, 0, 0, 0
acked_cart, acked_set, acked_upload = 0, 0, 0
first_bad = ""

local acks
local step = 0
local sid = nil          -- this thread's session id
local adds_sent = 0      -- cart adds sent on the current session
local adds_acked = 0     -- of them acknowledged
local product = 1        -- the product this session adds
local value = 0          -- last session value sent
local uploads = 0        -- uploads sent
local pending = nil      -- what the request in flight was

function init(args)
   local dir = os.getenv("SOAK_ACKS") or "."
   acks = assert(io.open(dir .. "/acks-" .. tid .. ".log", "a"))
   acks:setvbuf("line")
   product = (tid % PRODUCTS) + 1
end

local function cookie_headers(extra)
   local h = extra or {}
   if sid then h["Cookie"] = "sessionid=" .. sid end
   return h
end

local function upload_body(n)
   local len = 200 + (n * 131) % 3000
   local unit = tid .. ":" .. n .. ";"
   local data = string.rep(unit, math.floor(len / #unit) + 1):sub(1, len)
   local body = "--" .. BOUNDARY .. "\r\n" ..
      "Content-Disposition: form-data; name=\"headimg\"; filename=\"soak-" .. tid .. "-" .. n .. ".bin\"\r\n" ..
      "Content-Type: application/octet-stream\r\n\r\n" ..
      data .. "\r\n--" .. BOUNDARY .. "--\r\n"
   return body, len
end

local form = "application/x-www-form-urlencoded"

function request()
   step = step + 1
   sent = sent + 1
   local k = step % 10
   if k == 1 or k == 5 then
      pending = {kind = "page"}
      return wrk.format("GET", "/products/" .. (math.floor(step / 10) % PRODUCTS + 1) .. "/")
   elseif k == 3 then
      pending = {kind = "cartpage"}
      return wrk.format("GET", "/cart/", cookie_headers({["Accept"] = "application/json"}))
   elseif k == 7 then
      if adds_sent >= ADDS_PER_SESSION then
         sid, adds_sent, adds_acked, value = nil, 0, 0, 0
      end
      adds_sent = adds_sent + 1
      pending = {kind = "cart", sid = sid}
      return wrk.format("POST", "/cart/add/", cookie_headers({["Content-Type"] = form}),
                        "product=" .. product .. "&qty=1")
   elseif k == 9 then
      value = value + 1
      pending = {kind = "set", sid = sid, value = value}
      return wrk.format("POST", "/session/", cookie_headers({["Content-Type"] = form}),
                        "action=set&key=n&value=" .. value)
   elseif k == 8 then
      uploads = uploads + 1
      local body, len = upload_body(uploads)
      pending = {kind = "upload", n = uploads, len = len}
      return wrk.format("POST", "/upload/", {
         ["Content-Type"] = "multipart/form-data; boundary=" .. BOUNDARY,
         ["Accept"] = "application/json"}, body)
   else
      pending = {kind = "plain"}
      return wrk.format("GET", "/plaintext")
   end
end

local expected = {plain = 200, page = 200, cartpage = 200, cart = 302, set = 302, upload = 201}

local function bad(kind, status, why)
   unexpected = unexpected + 1
   if first_bad == "" then
      first_bad = kind .. ": " .. status .. " " .. why
   end
end

-- The session id a write's answer sets; nil (and counted) when it is missing or
-- names another session than the one the request carried.
local function session_of(p, headers)
   local c = headers["Set-Cookie"] or headers["set-cookie"] or ""
   local id = c:match("^sessionid=(%x+);")
   if not id then return nil, "no sessionid cookie" end
   if p.sid and p.sid ~= id then return nil, "another session's cookie" end
   return id
end

function response(status, headers, body)
   answered = answered + 1
   local p = pending
   pending = nil
   if not p then
      bad("?", status, "an answer with no request in flight")
      return
   end
   if status ~= expected[p.kind] then
      bad(p.kind, status, body:sub(1, 120))
      return
   end
   if p.kind == "cart" or p.kind == "set" then
      local id, why = session_of(p, headers)
      if not id then
         bad(p.kind, status, why)
         return
      end
      if p.sid == nil then
         if sid == nil then
            sid = id
         elseif sid ~= id then
            bad(p.kind, status, "a new session while this thread had one")
            return
         end
      end
      if p.kind == "cart" then
         adds_acked = adds_acked + 1
         acks:write("cart ", id, " ", product, " ", adds_acked, "\n")
         acked_cart = acked_cart + 1
      else
         acks:write("set ", id, " ", p.value, "\n")
         acked_set = acked_set + 1
      end
      acked = acked + 1
   elseif p.kind == "upload" then
      local loc = headers["Location"] or headers["location"] or ""
      local name = loc:match("^/uploads/(.+)$")
      if not name then
         bad(p.kind, status, "no Location /uploads/...")
         return
      end
      acks:write("upload ", name, " ", tid, " ", p.n, " ", p.len, "\n")
      acked_upload = acked_upload + 1
      acked = acked + 1
   end
end

function done(summary, latency, requests)
   local t = {sent = 0, answered = 0, unexpected = 0, acked = 0,
              acked_cart = 0, acked_set = 0, acked_upload = 0}
   local bads = {}
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
      local b = thread:get("first_bad")
      if b ~= "" then table.insert(bads, b) end
   end
   print(string.format(
      "soak: %d requests sent, %d answered, %d unexpected answers; acknowledged writes: %d (%d cart adds, %d session sets, %d uploads)",
      t.sent, t.answered, t.unexpected, t.acked, t.acked_cart, t.acked_set, t.acked_upload))
   for i, b in ipairs(bads) do
      if i > 5 then break end
      print("soak: unexpected: " .. b)
   end
end
