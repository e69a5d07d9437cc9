"""Drive wirepost's registration, login and session pages as a browser would.

Usage: python3 sessions_browser.py PORT SCENARIO

The client is Python's own: `urllib.request` with an `http.cookiejar.CookieJar`, so
cookies are stored, expired and sent back by a real cookie implementation, and 302s are
followed the way urllib follows them (a POST answered with 302 becomes a GET of the
`Location`). Where the exact `Set-Cookie` line matters, a second opener on the same jar
does not follow redirects, so the 302 itself can be read.

Scenarios: register, login, logout, session_actions, cross_origin.

Every check prints `ok: NAME` or `FAIL: NAME: detail`; the exit status is 1 if any
check failed. tests/sessions.rs runs each scenario against a fresh server.
"""

import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

failures = []
DAY = 86400
FOURTEEN_DAYS = 14 * DAY


def check(name, cond, detail=""):
    if cond:
        print(f"ok: {name}")
    else:
        print(f"FAIL: {name}: {detail}")
        failures.append(name)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand the 3xx back to the caller (as an HTTPError) instead of following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Reply:
    """What came back: status, headers, body, and the URL it came from."""

    def __init__(self, resp):
        self.status = resp.status if hasattr(resp, "status") else resp.code
        self.headers = resp.headers
        self.body = resp.read()
        self.url = resp.geturl()

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def set_cookies(self):
        return self.headers.get_all("Set-Cookie") or []


class Browser:
    """One browser: a cookie jar and two openers on it (following 302s, or not)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.jar)
        self.follow = urllib.request.build_opener(cookies)
        self.stay = urllib.request.build_opener(cookies, NoRedirect())

    def _open(self, req, follow):
        opener = self.follow if follow else self.stay
        try:
            return Reply(opener.open(req, timeout=30))
        except urllib.error.HTTPError as e:  # 4xx, 5xx, and 3xx when not following
            return Reply(e)

    def get(self, path, json_=True, headers=None):
        h = {"Accept": "application/json"} if json_ else {}
        h.update(headers or {})
        return self._open(urllib.request.Request(self.base + path, headers=h), True)

    def post(self, path, fields, follow=True, headers=None, json_=True):
        data = urllib.parse.urlencode(fields).encode()
        h = {"Accept": "application/json"} if json_ else {}
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, headers=h, method="POST")
        return self._open(req, follow)

    def session(self):
        return self.get("/session/").json()

    def user(self):
        return self.get("/user/").json()

    def cookie(self):
        """The jar's sessionid cookie, or None."""
        for c in self.jar:
            if c.name == "sessionid":
                return c
        return None


def raw_get_json(port, path, cookie_header):
    """A GET that sends exactly this Cookie header (no jar): a stolen or old id."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Accept": "application/json", "Cookie": cookie_header},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def attributes(set_cookie):
    """`name=value; A; B=c` -> (name, value, {lowercased attribute: value or None})."""
    first, *rest = [p.strip() for p in set_cookie.split(";")]
    name, _, value = first.partition("=")
    attrs = {}
    for p in rest:
        k, eq, v = p.partition("=")
        attrs[k.lower()] = v if eq else None
    return name, value, attrs


def session_set_cookie(reply):
    """The one sessionid Set-Cookie of a reply, parsed; None if there is none."""
    found = [attributes(s) for s in reply.set_cookies() if s.startswith("sessionid=")]
    if len(found) != 1:
        return None
    return found[0]


def shown(key):
    """The session key as /session/ shows it: its first 6 characters and an ellipsis."""
    return key[:6] + "\u2026"


def check_session_cookie(name, reply, max_age):
    """A sessionid cookie with a fresh 32-hex id, Path=/, HttpOnly, SameSite=Lax, and
    `Max-Age=max_age` (None: no Max-Age and no Expires, a browser-session cookie)."""
    parsed = session_set_cookie(reply)
    check(f"{name}: one sessionid Set-Cookie", parsed is not None, reply.set_cookies())
    if parsed is None:
        return None
    _, value, attrs = parsed
    check(f"{name}: id is 32 hex digits", re.fullmatch(r"[0-9a-f]{32}", value), value)
    check(f"{name}: Path=/", attrs.get("path") == "/", attrs)
    check(f"{name}: HttpOnly", "httponly" in attrs and attrs["httponly"] is None, attrs)
    check(f"{name}: SameSite=Lax", attrs.get("samesite") == "Lax", attrs)
    check(f"{name}: not Secure (plain http)", "secure" not in attrs, attrs)
    if max_age is None:
        check(f"{name}: no Max-Age", "max-age" not in attrs, attrs)
        check(f"{name}: no Expires", "expires" not in attrs, attrs)
    else:
        check(f"{name}: Max-Age={max_age}", attrs.get("max-age") == str(max_age), attrs)
    return value


def check_jar_cookie(name, b, value, browser_session):
    c = b.cookie()
    check(f"{name}: jar holds sessionid", c is not None, list(b.jar))
    if c is None:
        return
    check(f"{name}: jar value is the Set-Cookie value", c.value == value, (c.value, value))
    check(f"{name}: jar path /", c.path == "/", c.path)
    check(f"{name}: jar sees HttpOnly", c.has_nonstandard_attr("HttpOnly"), c._rest)
    check(f"{name}: jar sees SameSite=Lax", c.get_nonstandard_attr("SameSite") == "Lax", c._rest)
    if browser_session:
        check(f"{name}: jar: ends with the browser", c.discard and c.expires is None, c.expires)
    else:
        left = (c.expires or 0) - time.time()
        check(
            f"{name}: jar: kept for 14 days",
            not c.discard and abs(left - FOURTEEN_DAYS) < 60,
            (c.discard, left),
        )


def near(x, target, slack=30):
    return isinstance(x, int) and abs(x - target) <= slack


# --- scenarios ---------------------------------------------------------------------


def register(port):
    b = Browser(port)
    check("GET /user/ with no cookie is null", b.user() is None)
    check("GET /user/ set no cookie", b.cookie() is None, list(b.jar))

    # A browser posts the form; urllib follows the 302 to /user/ with a GET.
    r = b.post("/user/register/", {"username": "ada.L_1-x", "password": "correct horse"})
    check("register ends on /user/ after the 302", r.url.endswith("/user/"), r.url)
    check("register: /user/ answers 200", r.status == 200, r.status)
    check("register logs in", r.json() == {"username": "ada.L_1-x"}, r.body)
    c = b.cookie()
    check("register: a sessionid cookie", c is not None, list(b.jar))
    if c is not None:
        check_jar_cookie("register cookie", b, c.value, browser_session=True)
    check("register: /user/ again", b.user() == {"username": "ada.L_1-x"})

    # The same name again, from another browser: 409 and the form with the reason.
    b2 = Browser(port)
    r = b2.post(
        "/user/register/",
        {"username": "ada.L_1-x", "password": "another-one-1"},
        json_=False,
    )
    check("duplicate: 409", r.status == 409, (r.status, r.text()))
    check("duplicate: says user already exists", "user already exists" in r.text(), r.text())
    check("duplicate: the form again", "<form" in r.text(), r.text())
    check("duplicate: no cookie", b2.cookie() is None and not r.set_cookies(), r.set_cookies())
    check("duplicate: not logged in", b2.user() is None)
    r = b2.post("/user/register/", {"username": "ada.L_1-x", "password": "x-long-enough"})
    check("duplicate as JSON: 409", r.status == 409, r.status)
    check(
        "duplicate as JSON: error field",
        r.status == 409 and r.json().get("error") == "user already exists",
        r.body,
    )

    # Invalid input: 400 with the reason, and nothing stored.
    cases = [
        ("empty username", "", "pw", "username is required"),
        ("33-char username", "a" * 33, "pw", "username is longer than 32 characters"),
        ("space in username", "ada lovelace", "pw", "username may only use letters"),
        ("slash in username", "ada/x", "pw", "username may only use letters"),
        ("non-ASCII username", "adé", "pw", "username may only use letters"),
        ("markup in username", "<script>alert(1)</script>", "pw", "username may only use letters"),
        ("empty password", "bob", "", "password is required"),
        ("1025-byte password", "bob", "p" * 1025, "password is longer than 1024 bytes"),
        ("1025-byte UTF-8 password", "bob", "é" * 512 + "x", "password is longer than 1024 bytes"),
        # The policy (docs/registration.md): 8 characters, not the name, not common.
        ("7-char password", "bob", "zq7-xk4", "password is too short"),
        ("7 two-byte characters", "bob", "é" * 7, "password is too short"),
        ("password = name", "Bobby-Tables", "bobby-tables", "password is the same as the username"),
        ("common password", "bob", "Password1", "password is too common"),
    ]
    for label, user, pw, reason in cases:
        r = b2.post("/user/register/", {"username": user, "password": pw}, json_=False)
        check(f"{label}: 400", r.status == 400, (r.status, r.text()[:200]))
        check(f"{label}: says {reason!r}", reason in r.text(), r.text())
        check(f"{label}: no cookie", not r.set_cookies(), r.set_cookies())
    r = b2.post(
        "/user/register/", {"username": "<script>alert(1)</script>", "password": "pw"}, json_=False
    )
    check("the refused username is not reflected as markup", "<script>alert(1)" not in r.text(), r.text())
    r = b2.post("/user/register/", {"username": "a" * 33, "password": "pw"})
    check(
        "400 as JSON carries the reason",
        r.json().get("error") == "username is longer than 32 characters",
        r.body,
    )
    # The edges that are allowed: 32 characters, a 1024-byte password.
    r = b2.post("/user/register/", {"username": "b" * 32, "password": "p" * 1024}, follow=False)
    check("32-char name, 1024-byte password: 302", r.status == 302, (r.status, r.text()))
    check("... to /user/", r.headers.get("Location") == "/user/", r.headers.get("Location"))
    check("... logged in", b2.user() == {"username": "b" * 32})
    check("nobody else was logged in meanwhile", Browser(port).user() is None)


def login(port):
    Browser(port).post("/user/register/", {"username": "grace", "password": "cobol-1959"})

    b = Browser(port)
    # Something in the session before logging in (a cart, say): note the id.
    b.post("/session/", {"action": "set", "key": "cart", "value": '{"3": 2}'})
    before = b.cookie()
    check("pre-login session exists", before is not None)
    if before is None:
        return
    old_id = before.value

    r = b.post("/user/login/", {"username": "grace", "password": "cobol-1959"}, follow=False)
    check("login: 302", r.status == 302, (r.status, r.text()))
    check("login: Location /user/", r.headers.get("Location") == "/user/", r.headers)
    new_id = check_session_cookie("login without remember", r, max_age=None)
    check_jar_cookie("login without remember", b, new_id, browser_session=True)
    check("login cycles the session id", new_id is not None and new_id != old_id, (old_id, new_id))
    s = b.session()
    check("login keeps the session's data", s["data"].get("cart") == {"3": 2}, s)
    check("the session names the user", s["data"].get("_auth_user_id") == "grace", s)
    check("browser_session is true", s["browser_session"] is True, s)
    check("the server still bounds it: 14 days", near(s["expires"], time.time() + FOURTEEN_DAYS), s)
    check("GET /user/", b.user() == {"username": "grace"})
    old = raw_get_json(port, "/session/", f"sessionid={old_id}")
    check("the pre-login id no longer works", old["key"] is None and old["data"] == {}, old)
    check("... nor for /user/", raw_get_json(port, "/user/", f"sessionid={old_id}") is None)

    # remember=1: a cookie that outlives the browser, and yet another id.
    r = b.post(
        "/user/login/",
        {"username": "grace", "password": "cobol-1959", "remember": "1"},
        follow=False,
    )
    check("login with remember: 302", r.status == 302, (r.status, r.text()))
    remembered = check_session_cookie("login with remember", r, max_age=FOURTEEN_DAYS)
    check_jar_cookie("login with remember", b, remembered, browser_session=False)
    check("a second login cycles the id again", remembered not in (None, new_id, old_id))
    s = b.session()
    check("remembered: browser_session false", s["browser_session"] is False, s)
    check("remembered: expires in 14 days", near(s["expires"], time.time() + FOURTEEN_DAYS), s)
    check("remembered: data kept", s["data"].get("cart") == {"3": 2}, s)

    # A real browser form sends the checkbox only when ticked; the follow path works too.
    b3 = Browser(port)
    r = b3.post("/user/login/", {"username": "grace", "password": "cobol-1959"})
    check("login (following the 302) ends on /user/", r.url.endswith("/user/"), r.url)
    check("... logged in", r.json() == {"username": "grace"}, r.body)

    # Wrong password, unknown user: 400, same message, no cookie.
    for label, user, pw in [("wrong password", "grace", "cobol-1960"), ("unknown user", "nobody", "x")]:
        w = Browser(port)
        r = w.post("/user/login/", {"username": user, "password": pw}, json_=False)
        check(f"{label}: 400", r.status == 400, (r.status, r.text()[:200]))
        check(f"{label}: says so", "username or password is wrong" in r.text(), r.text())
        check(f"{label}: no Set-Cookie", not r.set_cookies(), r.set_cookies())
        check(f"{label}: jar empty", w.cookie() is None)
        check(f"{label}: not logged in", w.user() is None)


def logout(port):
    b = Browser(port)
    b.post("/user/register/", {"username": "linus", "password": "penguin-tux-1991"})
    check("registered and logged in", b.user() == {"username": "linus"})
    b.post("/session/", {"action": "set", "key": "theme", "value": "dark"})
    old_id = b.cookie().value

    r = b.post("/user/logout/", {}, follow=False)
    check("logout: 302", r.status == 302, (r.status, r.text()))
    check("logout: Location /", r.headers.get("Location") == "/", r.headers)
    parsed = session_set_cookie(r)
    check("logout: a sessionid Set-Cookie", parsed is not None, r.set_cookies())
    if parsed:
        _, value, attrs = parsed
        check("logout: empty value", value == "", value)
        check("logout: Max-Age=0", attrs.get("max-age") == "0", attrs)
        check("logout: Path=/", attrs.get("path") == "/", attrs)
    check("logout: the jar dropped the cookie", b.cookie() is None, list(b.jar))
    check("logout: /user/ is null", b.user() is None)
    check("logout: the session is empty", b.session() == {
        "key": None, "expires": None, "browser_session": False, "data": {}})
    check("the old id no longer logs in", raw_get_json(port, "/user/", f"sessionid={old_id}") is None)
    old = raw_get_json(port, "/session/", f"sessionid={old_id}")
    check("the old id's data is gone", old["key"] is None and old["data"] == {}, old)

    # Following the redirect as a browser does lands on the index page.
    b.post("/user/login/", {"username": "linus", "password": "penguin-tux-1991"})
    check("logged in again", b.user() == {"username": "linus"})
    r = b.post("/user/logout/", {}, json_=False)
    check("logout followed: lands on /", urllib.parse.urlsplit(r.url).path == "/", r.url)
    check("logout followed: 200", r.status == 200, r.status)
    check("logged out again", b.user() is None and b.cookie() is None)
    # Logging out with no session is harmless.
    r = Browser(port).post("/user/logout/", {}, follow=False)
    check("logout without a session: 302 /", r.status == 302 and r.headers.get("Location") == "/")


def session_actions(port):
    b = Browser(port)
    r = b.get("/session/")
    check("GET /session/: 200", r.status == 200, r.status)
    check("GET /session/ sends no Set-Cookie", not r.set_cookies(), r.set_cookies())
    check(
        "GET /session/ with no session",
        r.json() == {"key": None, "expires": None, "browser_session": False, "data": {}},
        r.body,
    )
    check("GET /session/ says Vary: Cookie", "Cookie" in (r.headers.get("Vary") or ""), r.headers)
    r = b.get("/session/", json_=False)
    check("HTML page, no cookie", r.status == 200 and not r.set_cookies(), (r.status, r.set_cookies()))

    # Nothing to delete: still no session.
    r = b.post("/session/", {"action": "delete", "key": "nothing"}, follow=False)
    check("delete with no session: 302", r.status == 302, r.status)
    check("delete with no session: no cookie", not r.set_cookies(), r.set_cookies())

    # set: a JSON value is stored as JSON; the first write creates the session.
    r = b.post("/session/", {"action": "set", "key": "a", "value": '{"a":[1,2]}'}, follow=False)
    check("set: 302", r.status == 302, (r.status, r.text()))
    check("set: Location /session/", r.headers.get("Location") == "/session/", r.headers)
    key = check_session_cookie("first set", r, max_age=FOURTEEN_DAYS)
    check_jar_cookie("first set", b, key, browser_session=False)
    s = b.session()
    check("set: the key is the cookie's", s["key"] == shown(key), (s, key))
    check("set: JSON stored as JSON", s["data"] == {"a": {"a": [1, 2]}}, s)
    check("set: 14 days from now", near(s["expires"], time.time() + FOURTEEN_DAYS), s)
    check("set: not a browser session", s["browser_session"] is False, s)

    # ...anything else as a string; following the 302 shows the session.
    r = b.post("/session/", {"action": "set", "key": "greeting", "value": "hello"})
    check("set, followed: ends on /session/", r.url.endswith("/session/"), r.url)
    check("non-JSON stored as a string", r.json()["data"].get("greeting") == "hello", r.body)
    for k, v, want in [("n", "42", 42), ("s", '"42"', "42"), ("t", "true", True),
                       ("z", "null", None), ("e", "", ""), ("u", "naïve ☃", "naïve ☃")]:
        b.post("/session/", {"action": "set", "key": k, "value": v})
        got = b.session()["data"]
        check(f"value {v!r} stored as {want!r}", k in got and got[k] == want, got)
    check("the id did not change while setting", b.cookie().value == key)

    # delete one key
    r = b.post("/session/", {"action": "delete", "key": "a"}, follow=False)
    check("delete: 302", r.status == 302, r.status)
    s = b.session()
    check("delete: a is gone", "a" not in s["data"], s)
    check("delete: greeting stays", s["data"].get("greeting") == "hello", s)

    # expiry 0: until the browser closes
    r = b.post("/session/", {"action": "expiry", "seconds": "0"}, follow=False)
    check("expiry 0: 302", r.status == 302, r.status)
    same = check_session_cookie("expiry 0", r, max_age=None)
    check("expiry 0: same id", same == key, (same, key))
    check_jar_cookie("expiry 0", b, key, browser_session=True)
    s = b.session()
    check("expiry 0: browser_session true", s["browser_session"] is True, s)
    check("expiry 0: the server still ends it in 14 days",
          near(s["expires"], time.time() + FOURTEEN_DAYS), s)
    # ... and a later change keeps it a browser-session cookie
    r = b.post("/session/", {"action": "set", "key": "later", "value": "1"}, follow=False)
    check_session_cookie("set after expiry 0", r, max_age=None)

    # expiry 60
    r = b.post("/session/", {"action": "expiry", "seconds": "60"}, follow=False)
    check_session_cookie("expiry 60", r, max_age=60)
    s = b.session()
    check("expiry 60: expires in a minute", near(s["expires"], time.time() + 60, 5), s)
    check("expiry 60: browser_session false", s["browser_session"] is False, s)
    r = b.post("/session/", {"action": "set", "key": "again", "value": "2"}, follow=False)
    check_session_cookie("set after expiry 60 keeps its life", r, max_age=60)

    # Refused actions: 400, nothing changed.
    before = b.session()
    for label, fields in [
        ("unknown action", {"action": "explode"}),
        ("no action", {}),
        ("set without key", {"action": "set", "value": "1"}),
        ("key over 128 bytes", {"action": "set", "key": "k" * 129, "value": "1"}),
        ("negative expiry", {"action": "expiry", "seconds": "-1"}),
        ("expiry not a number", {"action": "expiry", "seconds": "soon"}),
        ("expiry over ten years", {"action": "expiry", "seconds": "315360001"}),
    ]:
        r = b.post("/session/", fields, follow=False)
        check(f"{label}: 400", r.status == 400, (r.status, r.text()))
        check(f"{label}: no Set-Cookie", not r.set_cookies(), r.set_cookies())
    check("refused actions changed nothing", b.session()["data"] == before["data"])

    # clear: the record and the cookie go
    r = b.post("/session/", {"action": "clear"}, follow=False)
    check("clear: 302", r.status == 302, r.status)
    parsed = session_set_cookie(r)
    check("clear: Max-Age=0", parsed is not None and parsed[2].get("max-age") == "0", r.set_cookies())
    check("clear: the jar dropped the cookie", b.cookie() is None, list(b.jar))
    check("clear: empty session", b.session()["key"] is None)
    old = raw_get_json(port, "/session/", f"sessionid={key}")
    check("clear: the old id finds nothing", old["key"] is None and old["data"] == {}, old)

    # A new set after clear: a new id
    b.post("/session/", {"action": "set", "key": "fresh", "value": "1"})
    check("after clear, a new id", b.cookie() is not None and b.cookie().value != key)


def cross_origin(port):
    b = Browser(port)
    b.post("/session/", {"action": "set", "key": "x", "value": "1"})
    key = b.cookie().value
    own = f"http://127.0.0.1:{port}"

    for label, origin in [
        ("another site", "http://evil.example"),
        ("null (sandboxed page, file:)", "null"),
        ("https on our host", f"https://127.0.0.1:{port}"),
        ("our host, another port", f"http://127.0.0.1:{port + 1}"),
    ]:
        r = b.post(
            "/session/",
            {"action": "set", "key": "x", "value": "666"},
            headers={"Origin": origin},
            follow=False,
        )
        check(f"Origin {label}: 403", r.status == 403, (r.status, r.text()))
        check(f"Origin {label}: says why", "cross-origin POST refused" in r.text(), r.text())
        check(f"Origin {label}: no Set-Cookie", not r.set_cookies(), r.set_cookies())
        s = b.session()
        check(f"Origin {label}: value unchanged", s["data"] == {"x": 1} and s["key"] == shown(key), s)
    r = b.post("/session/", {"action": "clear"}, headers={"Origin": "http://evil.example"})
    check("cross-origin clear: 403", r.status == 403, r.status)
    check("cross-origin clear: session kept", b.session()["data"] == {"x": 1})

    r = b.post("/session/", {"action": "set", "key": "x", "value": "2"}, headers={"Origin": own})
    check("same Origin: allowed", r.status == 200 and r.json()["data"] == {"x": 2}, r.body)
    r = b.post("/session/", {"action": "set", "key": "x", "value": "3"})
    check("no Origin: allowed", r.status == 200 and r.json()["data"] == {"x": 3}, r.body)

    # A forged registration creates no user: the name is still free afterwards.
    e = Browser(port)
    r = e.post(
        "/user/register/",
        {"username": "mallory", "password": "mallory-pw-long"},
        headers={"Origin": "http://evil.example"},
        follow=False,
    )
    check("cross-origin register: 403", r.status == 403, (r.status, r.text()))
    check("cross-origin register: no cookie", e.cookie() is None and not r.set_cookies())
    r = e.post("/user/register/", {"username": "mallory", "password": "mallory-pw-long"}, follow=False)
    check("the name was still free", r.status == 302, (r.status, r.text()))
    check("registered now", e.user() == {"username": "mallory"})

    # A forged logout does not log out.
    r = e.post("/user/logout/", {}, headers={"Origin": "http://evil.example"}, follow=False)
    check("cross-origin logout: 403", r.status == 403, r.status)
    check("cross-origin logout: still logged in", e.user() == {"username": "mallory"})
    # A forged login does not log anyone in (login CSRF).
    f = Browser(port)
    r = f.post(
        "/user/login/",
        {"username": "mallory", "password": "mallory-pw-long"},
        headers={"Origin": "http://evil.example"},
        follow=False,
    )
    check("cross-origin login: 403", r.status == 403, r.status)
    check("cross-origin login: no cookie", f.cookie() is None and not r.set_cookies())


SCENARIOS = {
    "register": register,
    "login": login,
    "logout": logout,
    "session_actions": session_actions,
    "cross_origin": cross_origin,
}


def main():
    port = int(sys.argv[1])
    SCENARIOS[sys.argv[2]](port)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
