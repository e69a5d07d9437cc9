#!/usr/bin/env python3
"""A client that logs in at a fixed rate, for benches/sessions/run.sh.

  login_client.py PORT RATE LOG [USERNAME PASSWORD]

Starts a login every 1/RATE s on a fixed schedule (open loop: a slow answer does not
delay the next login; each login runs in its own thread on a new connection):
POST /user/login/ with username=bench&password=bench-cobalt-1907 (application/x-www-form-urlencoded,
no Origin). An answer counts as good when it is a 302 to /user/ that sets a sessionid
cookie. Runs until SIGTERM or SIGINT, waits up to 5 s for the logins in flight, then
writes one line per login to LOG:
    <start, unix seconds> <status or ERR:reason> <latency s> <cookie 0|1>
and a last line
    # client cpu_s <user+sys of this process> logins <n> late_max_ms <m>
(late: how far behind its schedule the client started a login).
"""
import http.client
import resource
import signal
import sys
import threading
import time


def main():
    port, rate, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    user = sys.argv[4] if len(sys.argv) > 4 else "bench"
    password = sys.argv[5] if len(sys.argv) > 5 else "bench-cobalt-1907"
    body = f"username={user}&password={password}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    results, lock, threads = [], threading.Lock(), []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def login():
        start, t0 = time.time(), time.monotonic()
        status, cookie = "ERR:unknown", 0
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", "/user/login/", body, headers)
            r = c.getresponse()
            r.read()
            status = str(r.status)
            if r.status == 302 and r.getheader("Location") != "/user/":
                status = "302-to-" + str(r.getheader("Location"))
            cookie = int(any(v.startswith("sessionid=") for k, v in r.getheaders()
                             if k.lower() == "set-cookie"))
            c.close()
        except Exception as e:  # noqa: BLE001 - any failure is a failed login
            status = "ERR:" + type(e).__name__
        with lock:
            results.append((start, status, time.monotonic() - t0, cookie))

    period, t0, k, late = 1.0 / rate, time.monotonic(), 0, 0.0
    while not stop.is_set():
        due = t0 + k * period
        now = time.monotonic()
        if due > now:
            stop.wait(due - now)
            if stop.is_set():
                break
        late = max(late, time.monotonic() - due)
        t = threading.Thread(target=login, daemon=True)
        t.start()
        threads.append(t)
        threads = [t for t in threads if t.is_alive()]
        k += 1
    deadline = time.monotonic() + 5
    for t in threads:
        t.join(max(0, deadline - time.monotonic()))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with lock, open(log, "w") as f:
        for start, status, lat, cookie in sorted(results):
            f.write(f"{start:.6f} {status} {lat:.6f} {cookie}\n")
        f.write(f"# client cpu_s {ru.ru_utime + ru.ru_stime:.3f} logins {k} "
                f"answered {len(results)} late_max_ms {late * 1e3:.1f}\n")


if __name__ == "__main__":
    main()
