-- wrk script: durable session writes. Every request is
--   POST /session/  action=set&key=n&value=<that session's counter>
-- (application/x-www-form-urlencoded, no Origin header) carrying the sessionid cookie
-- of one session, and every answer must be a 302 that renews that same cookie.
--
--   wrk -t1 -c64 -d10s --latency -s benches/sessions/session_write.lua http://127.0.0.1:8000
--
-- One session per connection, without knowing the connection: wrk's Lua hooks do not
-- say which connection a request() or response() belongs to. But a connection asks
-- for its next request only after its previous response, so a thread never has more
-- requests in flight than it has connections. Each thread keeps a stack of idle
-- sessions: request() takes one (or, when none is idle, sends no cookie, and the
-- server creates a session), response() reads the session id from the Set-Cookie of
-- the answer and puts it back. So with -c N there are exactly N sessions, each
-- with at most one write in flight and a counter that goes up by one per write:
-- what N browsers, each writing its own session, would send. A session may move from
-- one connection to another between two of its writes; the server does not care
-- which TCP connection carries a cookie. With -t N -c N (one connection per thread)
-- each connection keeps its one session for the whole run.
--
-- done() prints
--   session writes: R responses, K 302, E errors (B not 302, C without our cookie,
--   U unknown session), S sessions, last counter M
-- and the bench fails when E > 0 or S differs from the connection count.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- Per-thread state (globals, so done() can read them with thread:get).
responses, found302, not302, nocookie, unknown, sessions, maxcount = 0, 0, 0, 0, 0, 0, 0
local idle = {}      -- stack of session ids with no write in flight
local inflight = {}  -- session id -> true while its write is in flight
local count = {}     -- session id -> last counter value sent
local fresh = 0      -- requests sent without a cookie whose answer has not come yet
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}

function request()
   local id = table.remove(idle)
   local n
   if id then
      n = count[id] + 1
      count[id] = n
      inflight[id] = true
      headers["Cookie"] = "sessionid=" .. id
   else
      n = 1
      fresh = fresh + 1
      headers["Cookie"] = nil
   end
   return wrk.format("POST", "/session/", headers, "action=set&key=n&value=" .. n)
end

function response(status, hdrs, body)
   responses = responses + 1
   if status ~= 302 then
      not302 = not302 + 1
   else
      found302 = found302 + 1
   end
   local cookie = hdrs["Set-Cookie"] or hdrs["set-cookie"] or ""
   local id = cookie:match("^sessionid=(%x+);")
   if not id then
      -- Without its cookie the session is lost to this client; the next request
      -- with no idle session starts a new one, so the session count shows it too.
      nocookie = nocookie + 1
      return
   end
   if inflight[id] then
      inflight[id] = nil
   elseif fresh > 0 and not count[id] then
      fresh = fresh - 1
      count[id] = 1
      sessions = sessions + 1
   else
      unknown = unknown + 1
      return
   end
   if count[id] > maxcount then maxcount = count[id] end
   table.insert(idle, id)
end

function done(summary, latency, requests)
   local t = {responses = 0, found302 = 0, not302 = 0, nocookie = 0, unknown = 0, sessions = 0}
   local m = 0
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
      m = math.max(m, thread:get("maxcount"))
   end
   print(string.format(
      "session writes: %d responses, %d 302, %d errors (%d not 302, %d without our cookie, %d unknown session), %d sessions, last counter %d",
      t.responses, t.found302, t.not302 + t.nocookie + t.unknown, t.not302, t.nocookie,
      t.unknown, t.sessions, m))
end
