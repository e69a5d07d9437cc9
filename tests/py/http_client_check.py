"""Drive a running wirepost with Python's http.client, as a real client would.

Usage: python3 http_client_check.py PORT

Every check prints `ok: NAME` or `FAIL: NAME: detail`; the exit status is 1 if any
check failed (all checks still run, so one report shows every failure).
tests/clients.rs runs this against a fresh server.
"""

import http.client
import json
import sys

failures = []


def check(name, cond, detail=""):
    if cond:
        print(f"ok: {name}")
    else:
        print(f"FAIL: {name}: {detail}")
        failures.append(name)


def echo_json(resp):
    raw = resp.read()
    try:
        return json.loads(raw)
    except ValueError as e:
        check("echo body is JSON", False, f"{e}: {raw!r}")
        return {}


def main():
    port = int(sys.argv[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    socks = []

    # GET /plaintext
    conn.request("GET", "/plaintext")
    r = conn.getresponse()
    body = r.read()
    check("GET /plaintext status", r.status == 200, r.status)
    check("GET /plaintext body", body == b"Hello, World!", body)
    check(
        "GET /plaintext type",
        (r.getheader("Content-Type") or "").startswith("text/plain"),
        r.getheader("Content-Type"),
    )
    check("GET /plaintext Server", (r.getheader("Server") or "").startswith("wirepost"))
    check("GET /plaintext Date", r.getheader("Date") is not None)
    check("GET /plaintext keeps the connection", not r.will_close)
    socks.append(conn.sock)

    # GET /json, decoded
    conn.request("GET", "/json")
    r = conn.getresponse()
    data = json.loads(r.read())
    check("GET /json", data == {"message": "Hello, World!"}, data)
    socks.append(conn.sock)

    # HEAD: headers only
    conn.request("HEAD", "/plaintext")
    r = conn.getresponse()
    body = r.read()
    check("HEAD /plaintext status", r.status == 200, r.status)
    check("HEAD /plaintext no body", body == b"", body)
    check(
        "HEAD /plaintext Content-Length",
        r.getheader("Content-Length") == "13",
        r.getheader("Content-Length"),
    )
    socks.append(conn.sock)

    # POST with a Content-Length body
    form = b"a=1&b=hello+world&b=%26"
    conn.request(
        "POST",
        "/echo?x=1&x=2",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    r = conn.getresponse()
    echo = echo_json(r)
    check("POST /echo status", r.status == 200, r.status)
    check("POST /echo method", echo.get("method") == "POST", echo.get("method"))
    check("POST /echo query", echo.get("query") == {"x": ["1", "2"]}, echo.get("query"))
    check("POST /echo body_bytes", echo.get("body_bytes") == len(form), echo.get("body_bytes"))
    check("POST /echo not chunked", echo.get("chunked") is False, echo.get("chunked"))
    names = [h[0] for h in echo.get("headers", [])]
    check(
        "POST /echo headers in order",
        names[:1] == ["Host"] and "Content-Length" in names and "Content-Type" in names,
        names,
    )
    socks.append(conn.sock)
    form_seen = echo.get("form")

    # POST with chunked coding
    def pieces():
        yield b"hello "
        yield b"chunked "
        yield b"world"

    conn.request(
        "POST",
        "/echo",
        body=pieces(),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"},
        encode_chunked=True,
    )
    r = conn.getresponse()
    echo = echo_json(r)
    check("chunked POST status", r.status == 200, r.status)
    check("chunked POST chunked", echo.get("chunked") is True, echo.get("chunked"))
    check("chunked POST body_bytes", echo.get("body_bytes") == 19, echo.get("body_bytes"))
    socks.append(conn.sock)

    # 404, and the connection still goes on
    conn.request("GET", "/no-such-page")
    r = conn.getresponse()
    r.read()
    check("GET unknown path is 404", r.status == 404, r.status)
    socks.append(conn.sock)

    check(
        "one connection for all requests",
        socks[0] is not None and all(s is socks[0] for s in socks),
        socks,
    )

    # Connection: close from the client
    conn.request("GET", "/plaintext", headers={"Connection": "close"})
    r = conn.getresponse()
    r.read()
    check("Connection: close is answered with close", r.will_close)
    conn.close()

    # Last, as the form decoding may come later than the rest of /echo.
    check(
        "POST /echo form decoded",
        form_seen == {"a": ["1"], "b": ["hello world", "&"]},
        form_seen,
    )

    if failures:
        print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
