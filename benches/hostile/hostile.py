#!/usr/bin/env python3
"""Slow and hostile clients against wirepost, while a normal client keeps measuring.

Run through benches/hostile/run.sh (it builds the release binary and pins this
script to core 1). For each pattern this script:

1. starts a fresh `target/release/wirepost --workers 1` pinned to core 0 (`taskset`),
   on a free port, with a fresh `--data` dir and a copy of `www/` that also holds
   `static/big.bin` (BIG_MIB MiB of random bytes, for the slow readers);
2. measures the normal client unloaded: one keep-alive connection, sequential
   `GET /plaintext` and `GET /products/3/` alternating, for LAT_SECONDS s (after 1 s of
   warm-up), in a separate process (`hostile.py latency`) pinned to core 1;
3. starts the hostile pattern, and once it is in place measures the normal client
   again for LAT_SECONDS s while the pattern goes on;
4. reports what the abusers got, the server's RSS (VmHWM, the peak of the process's
   life, and VmRSS sampled every 50 ms), its open sockets over time (/proc/PID/fd),
   and the normal client's p99 loaded / unloaded.

Python 3.11 standard library only. Output: a line per finding as it goes, then a
markdown table; `--json FILE` also writes every figure.
"""

import argparse
import heapq
import json
import os
import random
import re
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(REPO, "target", "release", "wirepost")
HERE = os.path.abspath(__file__)


# --------------------------------------------------------------------------- helpers


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_of(data):
    """The status code at the start of `data`, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def read_response(sock, buf):
    """One response with Content-Length from `sock`; `buf` holds bytes already read.
    Returns (status, body, rest) or raises ConnectionError on EOF."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response head")
        buf += chunk
    head = buf[:end].decode("latin-1")
    m = re.search(r"(?im)^content-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    total = end + 4 + length
    while len(buf) < total:
        chunk = sock.recv(max(65536, total - len(buf)))
        if not chunk:
            raise ConnectionError("closed inside a body")
        buf += chunk
    return int(head[9:12]), buf[end + 4 : total], buf[total:]


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


# ---------------------------------------------------------------- the normal client


def normal_priority():
    """The abusers run at nice 19 (see `main`); the server and the normal client at 0,
    so that on the shared client core the normal client is not queued behind them.

    Nice alone does not keep the normal client from waiting for an abuser on the client
    core: the kernel's scheduler (EEVDF, RUN_TO_PARITY) lets a running nice-19 task
    finish its slice (0.75-3 ms) before a woken nice-0 task runs, and that wait lands
    in the normal client's latency although the server had answered. So, unless
    `--normal-sched other`, the normal client runs SCHED_FIFO (priority 1) when it may
    (root, or CAP_SYS_NICE), which preempts the abusers at once: its latency is then
    the server's. Its figures say which it got (`scheduler`)."""
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    if os.environ.get("HOSTILE_NORMAL_SCHED", "fifo") == "fifo":
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except PermissionError:
            pass


def latency_main(port, seconds, warmup):
    """Sequential keep-alive requests; prints one JSON line of figures."""
    reqs = [
        b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /products/3/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ]
    lat = {0: [], 1: []}
    errors = []
    statuses = {}
    sock, buf = None, b""
    t_end_warm = time.perf_counter() + warmup
    t_end = t_end_warm + seconds
    i = 0
    while True:
        now = time.perf_counter()
        if now >= t_end:
            break
        if sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buf = b""
            except OSError as e:
                errors.append(f"connect: {e}")
                time.sleep(0.05)
                continue
        which = i % 2
        i += 1
        t0 = time.perf_counter_ns()
        try:
            sock.sendall(reqs[which])
            status, _body, buf = read_response(sock, buf)
        except (OSError, ConnectionError) as e:
            errors.append(f"{type(e).__name__}: {e}")
            sock.close()
            sock = None
            continue
        t1 = time.perf_counter_ns()
        statuses[status] = statuses.get(status, 0) + 1
        if time.perf_counter() >= t_end_warm:
            lat[which].append((t1 - t0) / 1000.0)
    if sock:
        sock.close()
    both = sorted(lat[0] + lat[1])
    out = {"n": len(both), "errors": len(errors), "first_errors": errors[:3], "statuses": statuses,
           "scheduler": "SCHED_FIFO" if os.sched_getscheduler(0) == os.SCHED_FIFO else "SCHED_OTHER nice 0"}
    for name, vals in (("all", both), ("plaintext", sorted(lat[0])), ("product", sorted(lat[1]))):
        out[name] = {
            "p50": percentile(vals, 50),
            "p99": percentile(vals, 99),
            "max": vals[-1] if vals else float("nan"),
        }
    print(json.dumps(out), flush=True)


class LatencyRun:
    """`hostile.py latency` in its own process (pinned like this one)."""

    def __init__(self, port, seconds, warmup=1.0):
        self.proc = subprocess.Popen(
            [sys.executable, HERE, "latency", "--port", str(port), "--seconds", str(seconds),
             "--warmup", str(warmup)],
            stdout=subprocess.PIPE,
            preexec_fn=normal_priority,
        )

    def result(self):
        out, _ = self.proc.communicate(timeout=600)
        return json.loads(out.decode().strip().splitlines()[-1])


# ------------------------------------------------------------------------ the server


class Server:
    def __init__(self, www, flags, tmp):
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="data-", dir=tmp)
        self.log = open(os.path.join(tmp, f"server-{self.port}.log"), "wb")
        cmd = ["taskset", "-c", "0", BINARY, "--addr", f"127.0.0.1:{self.port}", "--workers", "1",
               "--www", www, "--data", self.data] + flags
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREPOST_")}
        env["RUST_LOG"] = "warn"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                     preexec_fn=normal_priority)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline().decode()
        if f"127.0.0.1:{self.port}" not in line:
            raise SystemExit(f"server did not start: {line!r}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        wait_for_plaintext(self.port, "server")

    def status(self):
        """(VmRSS, VmHWM) in KiB."""
        rss = hwm = 0
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        return rss, hwm

    def sockets(self):
        n = 0
        try:
            for fd in os.listdir(f"/proc/{self.pid}/fd"):
                try:
                    if os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith("socket:"):
                        n += 1
                except OSError:
                    pass
        except OSError:
            return -1
        return n

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def wait_for_plaintext(port, what):
    deadline = time.time() + 10
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            if read_response(s, b"")[0] == 200:
                s.close()
                return
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit(f"{what} did not answer within 10 s")
        time.sleep(0.05)


def fetch(port, target):
    """(status, body) of one GET sent the way the normal client sends it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target.encode())
    status, body, _ = read_response(s, b"")
    s.close()
    return status, body


class NginxServer:
    """nginx as the peer: `benches/hostile/nginx.conf` (one worker, wirepost's
    timeouts) in its own prefix dir, pinned to core 0 and with the same scheduling
    as `Server`. `product` is the body wirepost renders for /products/3/, served as a
    file. Figures are summed over the master and its worker."""

    CONF = os.path.join(os.path.dirname(HERE), "nginx.conf")

    def __init__(self, www, product, tmp, binary):
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="nginx-", dir=tmp)  # its prefix; no uploads
        with open(os.path.join(self.data, "product.html"), "wb") as f:
            f.write(product)
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
        with open(self.CONF) as f:
            conf = f.read()
        conf = (conf.replace("@PORT@", str(self.port)).replace("@TMP@", self.data)
                .replace("@STATIC@", os.path.join(www, "static")).replace("@NOFILE@", str(nofile)))
        conf_path = os.path.join(self.data, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        self.error_log = os.path.join(self.data, "error.log")
        self.log = open(os.path.join(tmp, f"nginx-{self.port}.log"), "wb")
        cmd = ["taskset", "-c", "0", binary, "-c", conf_path, "-p", self.data, "-e", self.error_log]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=normal_priority)
        self.pid = self.proc.pid
        try:
            wait_for_plaintext(self.port, "nginx")
        except SystemExit:
            self.stop()
            raise
        self.workers0 = self.workers()
        if len(self.workers0) != 1:
            self.stop()
            raise SystemExit(f"nginx: expected one worker, found {self.workers0}")

    def workers(self):
        """The master's children (its worker), from /proc/PID/task/*/children."""
        kids = []
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/children") as f:
                    kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
        return kids

    def pids(self):
        return [self.pid] + self.workers()

    def status(self):
        """(VmRSS, VmHWM) in KiB, summed over master and worker."""
        rss = hwm = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss += int(line.split()[1])
                        elif line.startswith("VmHWM:"):
                            hwm += int(line.split()[1])
            except OSError:
                if pid == self.pid:
                    raise
        return rss, hwm

    def sockets(self):
        n = 0
        for pid in self.pids():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                if pid == self.pid:
                    return -1
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                        n += 1
                except OSError:
                    pass
        return n

    def alive(self):
        """The master runs and its first worker was not replaced (a crash)."""
        return self.proc.poll() is None and self.workers() == self.workers0

    def stop(self):
        kids = self.workers()
        if self.proc.poll() is None:
            self.proc.terminate()  # fast shutdown: the worker closes everything and exits
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in kids:  # a worker left behind (checked by name: its pid may be reused)
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "nginx":
                        os.kill(pid, 9)
            except OSError:
                pass
        self.log.close()


class Sampler(threading.Thread):
    """VmRSS and the server's open sockets every `every` s, with timestamps."""

    def __init__(self, server, every=0.05):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.samples = []  # (t, rss_kib, sockets)
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                rss, _ = self.server.status()
            except OSError:
                break
            self.samples.append((time.monotonic(), rss, self.server.sockets()))
            self.stop_flag.wait(self.every)

    def stop(self):
        self.stop_flag.set()
        self.join()

    def peak_rss(self):
        return max((s[1] for s in self.samples), default=0)

    def peak_sockets(self):
        return max((s[2] for s in self.samples), default=0)

    def first_time_sockets_at_most(self, n, after):
        for t, _, k in self.samples:
            if t >= after and 0 <= k <= n:
                return t
        return None


# ------------------------------------------------------------------------- patterns


def slowloris(port, args, lat_start):
    """N connections; each sends a request head one byte every INTERVAL s (staggered),
    and is reopened when the server closes it, for DURATION s."""
    n, interval, duration = args.slowloris_conns, args.slowloris_interval, args.slowloris_seconds
    head = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n" + b"X-a: b\r\n" * 1000
    sel = selectors.DefaultSelector()
    conns = {}  # fd -> dict
    heap = []
    outcomes = {}
    closed_after = []
    bytes_sent_before_close = []
    t_start = time.monotonic()
    t_stop = t_start + duration

    def open_one(now, delay):
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            outcomes[f"connect failed ({e.strerror})"] = outcomes.get(f"connect failed ({e.strerror})", 0) + 1
            s.close()
            return
        s.setblocking(False)
        c = {"sock": s, "sent": 0, "first": None, "data": b"", "opened": now}
        conns[s.fileno()] = c
        sel.register(s, selectors.EVENT_READ, c)
        heapq.heappush(heap, (now + delay, s.fileno(), id(c)))

    def finish(c, how, now):
        status = status_of(c["data"])
        key = f"{status}" if status else how
        outcomes[key] = outcomes.get(key, 0) + 1
        if c["first"] is not None:
            closed_after.append(now - c["first"])
        bytes_sent_before_close.append(c["sent"])
        sel.unregister(c["sock"])
        del conns[c["sock"].fileno()]
        c["sock"].close()
        if now < t_stop:
            open_one(now, random.uniform(0, interval))

    now = time.monotonic()
    for i in range(n):
        open_one(now, interval * i / n)
    lat = None
    reconnects = 0
    while True:
        now = time.monotonic()
        if lat is None and now - t_start >= min(2 * interval, duration / 3):
            lat = lat_start()
        if now >= t_stop:
            break
        timeout = max(0.0, min(heap[0][0] - now if heap else 0.5, t_stop - now, 0.5))
        for key, _ in sel.select(timeout):
            c = key.data
            try:
                chunk = c["sock"].recv(65536)
            except ConnectionResetError:
                finish(c, "reset", time.monotonic())
                reconnects += 1
                continue
            except BlockingIOError:
                continue
            if chunk:
                c["data"] += chunk
                if status_of(c["data"]) is None:
                    continue
            finish(c, "closed without a response", time.monotonic())
            reconnects += 1
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            _, fd, cid = heapq.heappop(heap)
            c = conns.get(fd)
            if c is None or id(c) != cid:
                continue
            if c["sent"] >= len(head):
                continue
            try:
                c["sock"].send(head[c["sent"] : c["sent"] + 1])
            except (BrokenPipeError, ConnectionResetError):
                finish(c, "reset", now)
                continue
            except BlockingIOError:
                pass
            else:
                if c["first"] is None:
                    c["first"] = now
                c["sent"] += 1
            heapq.heappush(heap, (now + interval, fd, cid))
    still_open = len(conns)
    oldest = max((time.monotonic() - c["first"] for c in conns.values() if c["first"]), default=0)
    for c in list(conns.values()):
        c["sock"].close()
    closed_after.sort()
    return lat, {
        "connections at once": n,
        "connections opened in all": n + reconnects,
        "outcomes": outcomes,
        "closed after first byte, s (min/median/max)": [
            round(closed_after[0], 2) if closed_after else None,
            round(statistics.median(closed_after), 2) if closed_after else None,
            round(closed_after[-1], 2) if closed_after else None,
        ],
        "head bytes sent before the close (max)": max(bytes_sent_before_close, default=0),
        "still open at the end": still_open,
        "oldest still open, s since first byte": round(oldest, 2),
    }


def slow_readers(port, args, lat_start, server, sampler):
    """N clients each pipeline DEPTH requests for static/big.bin and never read."""
    n, depth = args.slow_readers, args.slow_depth
    req = b"GET /static/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * depth
    socks = []
    base_sockets = server.sockets()
    t0 = time.monotonic()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        socks.append(s)
    lat = lat_start()
    deadline = t0 + args.slow_seconds
    dropped_at = None
    # Wait until the server has closed them all (its socket count falls back), or the end.
    while time.monotonic() < deadline:
        time.sleep(0.25)
        k = server.sockets()
        if 0 <= k <= base_sockets + 1 and time.monotonic() - t0 > 1:  # + the normal client
            dropped_at = time.monotonic() - t0
            break
    # Now read what the kernel holds for each: all of it (the server may have closed).
    expected = depth * args.big_mib * (1 << 20)
    got, eofs = [], 0
    for s in socks:
        s.settimeout(2.0)
        total = 0
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    eofs += 1
                    break
                total += len(chunk)
                if total > expected:
                    break
        except OSError:
            pass
        got.append(total)
        s.close()
    return lat, {
        "clients": n,
        "requests pipelined each": depth,
        "response bytes each (if read)": expected,
        "server closed them all after, s": round(dropped_at, 1) if dropped_at else f"not within {args.slow_seconds} s",
        "bytes each got before EOF (min/max)": [min(got), max(got)],
        "EOF seen": eofs,
    }


def conn_flood(port, args, lat_start):
    """The normal client connects first; then CAP + EXTRA connections, each sending
    GET /plaintext, are opened as fast as one thread can, and held open."""
    lat = lat_start()
    time.sleep(1.5)  # let it connect and warm up before the slots run out
    total = args.flood_cap + args.flood_extra
    t0 = time.monotonic()
    socks, connect_fail = [], {}
    for _ in range(total):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        except OSError as e:
            connect_fail[e.strerror] = connect_fail.get(e.strerror, 0) + 1
            s.close()
            continue
        socks.append(s)
    opened_in = time.monotonic() - t0
    outcomes = {}
    kept = []
    for s in socks:
        s.settimeout(5)
        data = b""
        how = None
        try:
            while status_of(data) is None:
                chunk = s.recv(4096)
                if not chunk:
                    how = "closed without a response"
                    break
                data += chunk
        except ConnectionResetError:
            how = "reset"
        except socket.timeout:
            how = "no answer in 5 s"
        st = status_of(data)
        key = str(st) if st else how
        outcomes[key] = outcomes.get(key, 0) + 1
        if st == 200:
            kept.append(s)
        else:
            s.close()
    return lat, {
        "connections attempted": total,
        "opened in, s": round(opened_in, 2),
        "connect failures": connect_fail,
        "outcomes": outcomes,
        "_hold": kept,  # closed by the caller once the normal client is done
    }


def pipelined_flood(port, args, lat_start):
    """Again and again for LOAD s: one write of 10,000 `GET /echo?n=i`, then read all
    the answers and check their order."""
    n = args.pipeline_requests
    flood = b"".join(b"GET /echo?n=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % i for i in range(n))
    pat = re.compile(rb'"target": "/echo\?n=(\d+)"')
    lat = None
    rounds, in_order, times, bad = 0, 0, [], []
    t_stop = time.monotonic() + args.lat_seconds + 1.5
    while time.monotonic() < t_stop or lat is None:
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", port))
        sender = threading.Thread(target=s.sendall, args=(flood,))
        sender.start()
        if lat is None:
            lat = lat_start()
        seen, data, ok = 0, b"", True
        s.settimeout(30)
        while seen < n:
            chunk = s.recv(1 << 20)
            if not chunk:
                bad.append(f"closed after {seen}")
                ok = False
                break
            data += chunk
            last = 0
            for m in pat.finditer(data):
                if int(m.group(1)) != seen:
                    ok = False
                seen += 1
                last = m.end()
            data = data[last:]
        sender.join()
        s.close()
        rounds += 1
        in_order += ok and seen == n
        times.append(time.monotonic() - t0)
    return lat, {
        "requests per write": n,
        "bytes per write": len(flood),
        "floods sent": rounds,
        "floods answered completely and in order": in_order,
        "seconds per flood (median)": round(statistics.median(times), 3),
        "problems": bad[:3],
    }


def chunked_flood(port, args, lat_start):
    """Again and again for LOAD s: POST /echo with a body of 1,000,000 one-byte chunks."""
    n = args.chunks
    body = b"1\r\na\r\n" * n + b"0\r\n\r\n"
    head = b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    lat = None
    outcomes, times = {}, []
    t_stop = time.monotonic() + args.lat_seconds + 1.5
    while time.monotonic() < t_stop or lat is None:
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(60)
        sender = threading.Thread(target=lambda: _sendall_quiet(s, head + body))
        sender.start()
        if lat is None:
            lat = lat_start()
        try:
            status, resp, _ = read_response(s, b"")
            key = str(status)
            if status == 200:
                doc = _json_or_none(resp)
                if doc is not None and "body_bytes" in doc:
                    key += f" body_bytes={doc['body_bytes']} chunked={doc.get('chunked')}"
                else:
                    key += " (no body_bytes)"  # nginx: answered, body discarded
            else:
                key += " " + resp[:80].decode("latin-1").strip()
        except (OSError, ConnectionError) as e:
            key = f"{type(e).__name__}"
        outcomes[key] = outcomes.get(key, 0) + 1
        sender.join()
        s.close()
        times.append(time.monotonic() - t0)
    return lat, {
        "chunks per body": n,
        "wire bytes per body": len(head) + len(body),
        "bodies sent": len(times),
        "outcomes": outcomes,
        "seconds per body (median)": round(statistics.median(times), 3),
    }


def _json_or_none(data):
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _sendall_quiet(s, data):
    try:
        s.sendall(data)
    except OSError:
        pass


def multipart_body(parts, files):
    b = b"hostileBoundary"
    out = []
    for i in range(parts):
        if files:
            out.append(b"--%s\r\nContent-Disposition: form-data; name=\"headimg\"; filename=\"f%d.txt\"\r\n"
                       b"Content-Type: text/plain\r\n\r\nx\r\n" % (b, i))
        else:
            out.append(b"--%s\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n" % (b, i))
    out.append(b"--%s--\r\n" % b)
    return b"".join(out), b


def multipart_flood(port, args, lat_start, path, parts, files):
    """Again and again for LOAD s: one multipart body of PARTS tiny parts to PATH."""
    body, boundary = multipart_body(parts, files)
    req = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
           b"Accept: application/json\r\nContent-Length: %d\r\n\r\n" % (path.encode(), boundary, len(body))) + body
    lat = None
    outcomes, times = {}, []
    t_stop = time.monotonic() + args.lat_seconds + 1.5
    while time.monotonic() < t_stop or lat is None:
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(120)
        sender = threading.Thread(target=lambda: _sendall_quiet(s, req))
        sender.start()
        if lat is None:
            lat = lat_start()
        try:
            status, resp, _ = read_response(s, b"")
            key = str(status)
            doc = _json_or_none(resp) if status in (200, 201) else None
            if doc is not None and "files" in doc:
                key += f" files={len(doc['files'])} fields={sum(len(v) for v in doc.get('form', doc.get('fields', {})).values())}"
            elif status in (200, 201):
                key += " (no files)"  # nginx: answered, body discarded
            else:
                key += " " + resp[:90].decode("latin-1").strip()
        except (OSError, ConnectionError) as e:
            key = f"{type(e).__name__}"
        outcomes[key] = outcomes.get(key, 0) + 1
        sender.join()
        s.close()
        times.append(time.monotonic() - t0)
    return lat, {
        "parts per body": parts,
        "file parts" if files else "text fields": True,
        "bytes per body": len(body),
        "bodies sent": len(times),
        "outcomes": outcomes,
        "seconds per body (median)": round(statistics.median(times), 3),
    }


def control(port, args, lat_start):
    """No abuser: this process spins on the client core (at nice 19) while the normal
    client measures: what the shared client core alone does to its latency."""
    lat = lat_start()
    t_stop = time.monotonic() + args.lat_seconds + 1.5
    spins = 0
    while time.monotonic() < t_stop:
        spins += 1
    return lat, {"outcomes": {"(none: a busy loop on the client core)": 1}}


# ---------------------------------------------------------------------------- driver

PATTERNS = ["control", "slowloris", "slow-readers", "conn-flood", "pipelined", "chunked",
            "multipart-echo", "multipart-upload", "multipart-upload-files"]


def psi_total():
    """Microseconds in which some runnable task waited for a CPU (/proc/pressure/cpu)."""
    try:
        with open("/proc/pressure/cpu") as f:
            for line in f:
                if line.startswith("some"):
                    return int(line.split("total=")[1])
    except OSError:
        pass
    return 0


def wait_for_quiet(max_pressure, max_wait):
    """Wait until a 1 s sample of CPU pressure is at most `max_pressure` % (others
    run builds and benchmarks on these 2 cores), at most `max_wait` s."""
    waited = 0
    while True:
        a = psi_total()
        time.sleep(1)
        p = (psi_total() - a) / 1e4
        if p <= max_pressure or waited >= max_wait:
            return p
        waited += 1


def run_pattern(name, args, www, tmp, kind="wirepost", product=None):
    """One pattern against a fresh server: `kind` is wirepost (`Server`) or nginx
    (`NginxServer`, serving `product` for /products/3/; --server-flag does not apply)."""
    quiet = wait_for_quiet(args.max_pressure, args.quiet_wait)
    if kind == "nginx":
        flags = []
        server = NginxServer(www, product, tmp, args.nginx)
    else:
        flags = list(args.server_flag)
        if name == "conn-flood":
            flags += ["--max-connections", str(args.flood_cap)]
        server = Server(www, flags, tmp)
    try:
        base = LatencyRun(server.port, args.lat_seconds).result()
        rss_idle, _ = server.status()
        sampler = Sampler(server, every=0.2 if name == "conn-flood" else 0.05)
        sampler.start()
        lat_holder = []

        def lat_start():
            lat_holder.append(LatencyRun(server.port, args.lat_seconds))
            return lat_holder[-1]

        t0 = time.monotonic()
        psi0 = psi_total()
        if name == "control":
            lat, got = control(server.port, args, lat_start)
        elif name == "slowloris":
            lat, got = slowloris(server.port, args, lat_start)
        elif name == "slow-readers":
            lat, got = slow_readers(server.port, args, lat_start, server, sampler)
        elif name == "conn-flood":
            lat, got = conn_flood(server.port, args, lat_start)
        elif name == "pipelined":
            lat, got = pipelined_flood(server.port, args, lat_start)
        elif name == "chunked":
            lat, got = chunked_flood(server.port, args, lat_start)
        elif name == "multipart-echo":
            lat, got = multipart_flood(server.port, args, lat_start, "/echo", args.parts, False)
        elif name == "multipart-upload":
            lat, got = multipart_flood(server.port, args, lat_start, "/upload/", args.parts, True)
        elif name == "multipart-upload-files":
            lat, got = multipart_flood(server.port, args, lat_start, "/upload/", args.upload_files, True)
        else:
            raise SystemExit(f"unknown pattern {name}")
        loaded = (lat or lat_start()).result()
        for s in got.pop("_hold", []):
            s.close()
        elapsed = time.monotonic() - t0
        pressure = (psi_total() - psi0) / (elapsed * 1e4)
        sampler.stop()
        rss_end, hwm = server.status()
        alive = server.alive()
        uploads = os.path.join(server.data, "uploads")
        n_uploads = len(os.listdir(uploads)) if os.path.isdir(uploads) else 0
    finally:
        server.stop()
    row = {
        "pattern": name,
        "server": kind,
        "flags": flags,
        "abusers": got,
        "pattern seconds": round(elapsed, 1),
        "CPU pressure before %": round(quiet, 1),
        "CPU pressure during %": round(pressure, 1),
        "server alive": alive,
        "rss idle KiB": rss_idle,
        "rss peak sampled KiB": sampler.peak_rss(),
        "VmHWM KiB": hwm,
        "rss end KiB": rss_end,
        "server sockets peak": sampler.peak_sockets(),
        "files left in data/uploads": n_uploads,
        "normal unloaded": base,
        "normal loaded": loaded,
        "p99 ratio": loaded["all"]["p99"] / base["all"]["p99"] if base["all"]["p99"] else float("nan"),
    }
    return row


def wirepost_product(www, tmp):
    """The bytes a fresh wirepost renders for the normal client's GET /products/3/
    (nginx serves them as a file)."""
    server = Server(www, [], tmp)
    try:
        status, body = fetch(server.port, "/products/3/")
    finally:
        server.stop()
    if status != 200:
        raise SystemExit(f"wirepost answered {status} to GET /products/3/")
    return body


def make_www(tmp, big_mib):
    www = os.path.join(tmp, "www")
    shutil.copytree(os.path.join(REPO, "www"), www)
    with open(os.path.join(www, "static", "big.bin"), "wb") as f:
        f.write(random.randbytes(big_mib << 20))
    return www


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    lp = sub.add_parser("latency")
    lp.add_argument("--port", type=int, required=True)
    lp.add_argument("--seconds", type=float, default=5)
    lp.add_argument("--warmup", type=float, default=1)
    rp = sub.add_parser("run")
    rp.add_argument("patterns", nargs="*", default=PATTERNS)
    rp.add_argument("--lat-seconds", type=float, default=8, help="normal client's window, unloaded and loaded")
    rp.add_argument("--server-flag", action="append", default=[], help="extra server flag (repeatable; use --server-flag=--x)")
    rp.add_argument("--slowloris-conns", type=int, default=1000)
    rp.add_argument("--slowloris-interval", type=float, default=3.0)
    rp.add_argument("--slowloris-seconds", type=float, default=30)
    rp.add_argument("--slow-readers", type=int, default=50)
    rp.add_argument("--slow-depth", type=int, default=4)
    rp.add_argument("--slow-seconds", type=float, default=90)
    rp.add_argument("--big-mib", type=int, default=16)
    rp.add_argument("--flood-cap", type=int, default=10000)
    rp.add_argument("--flood-extra", type=int, default=1000)
    rp.add_argument("--pipeline-requests", type=int, default=10000)
    rp.add_argument("--chunks", type=int, default=1_000_000)
    rp.add_argument("--parts", type=int, default=10_000)
    rp.add_argument("--upload-files", type=int, default=1000)
    rp.add_argument("--rounds", type=int, default=1,
                    help="run each pattern this many times (fresh server each); the medians are printed last")
    rp.add_argument("--normal-sched", choices=["fifo", "other"], default="fifo",
                    help="the normal client's scheduling: SCHED_FIFO when permitted (default), or nice 0")
    rp.add_argument("--server", choices=["wirepost", "nginx", "both"], default="wirepost",
                    help="the server under test; both: wirepost then nginx for each pattern and round")
    rp.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx", help="nginx binary")
    rp.add_argument("--json", help="write every figure here")
    rp.add_argument("--max-pressure", type=float, default=5, help="wait for CPU pressure at most this %%")
    rp.add_argument("--quiet-wait", type=float, default=60, help="but at most this many s")
    args = ap.parse_args()
    if args.cmd == "latency":
        latency_main(args.port, args.seconds, args.warmup)
        return
    if args.cmd != "run":
        ap.print_help()
        return
    # The abusers (this process) yield the client core to the normal client.
    os.nice(19)
    os.environ["HOSTILE_NORMAL_SCHED"] = args.normal_sched
    tmp = tempfile.mkdtemp(prefix="wirepost-hostile-")
    rows = []
    kinds = ["wirepost", "nginx"] if args.server == "both" else [args.server]
    try:
        www = make_www(tmp, args.big_mib)
        product = None
        if "nginx" in kinds:
            product = wirepost_product(www, tmp)
            # nginx's own answers must be the ones it is meant to give.
            probe = NginxServer(www, product, tmp, args.nginx)
            try:
                got = fetch(probe.port, "/products/3/")
                echo = fetch(probe.port, "/echo?n=7")
            finally:
                probe.stop()
            if got != (200, product) or b'"target": "/echo?n=7"' not in echo[1]:
                raise SystemExit(f"nginx answers differ: /products/3/ {got[0]} ({len(got[1])} B, "
                                 f"wirepost {len(product)} B), /echo {echo}")
        for name in args.patterns:
            for _ in range(args.rounds):
                for kind in kinds:
                    row = run_pattern(name, args, www, tmp, kind, product)
                    rows.append(row)
                    print(json.dumps(row, default=str), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)
    print()
    if rows:
        print(f"normal client: {rows[0]['normal unloaded'].get('scheduler')}")
    print("| pattern | server | abusers got | server RSS idle → peak (VmHWM) | normal p99 unloaded → loaded (µs) | ratio | normal errors | CPU pressure during |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        a = r["abusers"]
        got = a.get("outcomes") or {k: v for k, v in a.items() if "closed" in k or "EOF" in k}
        print(f"| {r['pattern']} | {r['server']} | {json.dumps(got)} | {r['rss idle KiB'] / 1024:.1f} → {r['VmHWM KiB'] / 1024:.1f} MiB "
              f"| {r['normal unloaded']['all']['p99']:.0f} → {r['normal loaded']['all']['p99']:.0f} "
              f"| {r['p99 ratio']:.2f} | {r['normal loaded']['errors']} | {r['CPU pressure during %']}% |")
    if args.rounds > 1:
        print()
        print("| pattern | server | p99 ratio per round | median |")
        print("|---|---|---|---|")
        for name in args.patterns:
            for kind in kinds:
                ratios = [r["p99 ratio"] for r in rows if r["pattern"] == name and r["server"] == kind]
                if ratios:
                    print(f"| {name} | {kind} | {', '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.2f} |")
    if len(kinds) == 2:
        # The peer in the same run: what the same machine does to nginx's latency.
        def med(name, kind, f):
            vals = [f(r) for r in rows if r["pattern"] == name and r["server"] == kind]
            return statistics.median(vals) if vals else float("nan")

        def ratio(r):
            return r["p99 ratio"]

        def p99(which):
            return lambda r: r[which]["all"]["p99"]

        print()
        print(f"wirepost and nginx side by side (medians over {args.rounds} round(s))")
        print("| pattern | wirepost p99 ratio | nginx p99 ratio | loaded p99 µs wirepost / nginx | unloaded p99 µs wirepost / nginx |")
        print("|---|---|---|---|---|")
        for name in args.patterns:
            print(f"| {name} | {med(name, 'wirepost', ratio):.2f} | {med(name, 'nginx', ratio):.2f} "
                  f"| {med(name, 'wirepost', p99('normal loaded')):.0f} / {med(name, 'nginx', p99('normal loaded')):.0f} "
                  f"| {med(name, 'wirepost', p99('normal unloaded')):.0f} / {med(name, 'nginx', p99('normal unloaded')):.0f} |")


if __name__ == "__main__":
    main()
