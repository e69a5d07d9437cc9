#!/usr/bin/env python3
"""Latency probe for benches/bounds/run.sh: GET /session/ (JSON) with one session's
cookie, one request at a time on one keep-alive connection, for SECONDS seconds.

  probe.py PORT SESSIONID SECONDS OUT

Writes one line per request to OUT: "<unix time> <latency ms> <status>".
"""
import http.client
import sys
import time


def main():
    port, sid, seconds, out = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
    headers = {"Accept": "application/json", "Cookie": f"sessionid={sid}"}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lines = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        c.request("GET", "/session/", headers=headers)
        r = c.getresponse()
        r.read()
        ms = (time.perf_counter() - t0) * 1000
        lines.append(f"{time.time():.6f} {ms:.3f} {r.status}\n")
        if r.status != 200:
            sys.exit(f"probe: status {r.status}")
    with open(out, "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
