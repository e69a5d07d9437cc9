#!/usr/bin/env python3
"""Arithmetic for benches/sessions/run.sh. Each run leaves a directory with:
meta (key=value), wrk.out and wrk.out.time (wrk's output, its user/sys seconds),
stats0.json/stats1.json (GET /__stats before and after the measured run), cpu0/cpu1
(snapshot(): "name value" lines), procs0.json/procs1.json (other processes' CPU),
io0/io1 (I/O pressure totals), t0/t1 (unix time around the measured run), for the
session runs fsync.trace (perf trace of the storage thread's fsyncs), and for the
login runs logins.log (login_client.py). Scenarios: writes, logins, products, cart.

  report.py procs EXCLUDE_PID...   CPU ticks of every other user-space process, as JSON
  report.py foreign RUN_DIR        % of one core other processes used during the run
  report.py check RUN_DIR          exit non-zero when the run shows an error
  report.py line RUN_DIR           one line per run, for the console
  report.py table RUNS_DIR MAX_FOREIGN   every run, then medians and ratios
"""
import json
import os
import re
import sys
from statistics import median

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise SystemExit(f"cannot read the latency {text!r}")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def read_snapshot(path):
    out = {}
    for line in open(path):
        name, _, ticks = line.rstrip("\n").rpartition(" ")
        if ticks.strip():
            out[name] = out.get(name, 0) + int(ticks)
    return out


def procs(exclude):
    """utime+stime+cutime+cstime of every user-space process but the excluded ones
    (and this one), keyed by pid and start time, so a reused pid is a new process."""
    out = {}
    exclude = set(exclude) | {os.getpid(), os.getppid()}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in exclude:
            continue
        try:
            f = open(f"/proc/{pid}/stat").read().rpartition(") ")[2].split()
        except OSError:
            continue
        # Fields after "(comm) ": state=0 ppid=1 ... flags=6 utime=11 stime=12
        # cutime=13 cstime=14 starttime=19. Kernel threads (PF_KTHREAD) are skipped.
        if int(f[6]) & 0x00200000:
            continue
        out[f"{pid}:{f[19]}"] = sum(int(x) for x in f[11:15])
    return out


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[i]


def load(d):
    r = {}
    meta = dict(line.strip().split("=", 1) for line in open(os.path.join(d, "meta")) if "=" in line)
    r.update(meta)
    clk = int(meta["clk_tck"])
    t0, t1 = (float(open(os.path.join(d, f)).read()) for f in ("t0", "t1"))
    r["wall"] = wall = t1 - t0
    out = open(os.path.join(d, "wrk.out")).read()
    r["wrk_out"] = out
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m),", out, re.M)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"^Requests/sec:\s*([0-9.]+)", out, re.M)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    r["p99"] = to_ms(m.group(1)) if m else float("nan")
    m = re.search(r"^\s*Latency\s+\S+\s+\S+\s+(\S+)", out, re.M)
    r["max"] = to_ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    r["socket_errors"] = sum(int(n) for n in re.findall(
        r"(?:connect|read|write|timeout) (\d+)",
        " ".join(re.findall(r"^\s*Socket errors:.*$", out, re.M))))
    m = re.search(r"^session writes: (\d+) responses, (\d+) 302, (\d+) errors .*?, (\d+) sessions, last counter (\d+)", out, re.M)
    if m:
        r["lua_responses"], r["lua_302"], r["lua_errors"], r["lua_sessions"], r["lua_last"] = map(int, m.groups())
    wt = open(os.path.join(d, "wrk.out.time")).read().split()
    wrk_cpu_s = float(wt[1]) + float(wt[2])
    r["wrk_cpu"] = 100 * wrk_cpu_s / wall

    c0, c1 = read_snapshot(os.path.join(d, "cpu0")), read_snapshot(os.path.join(d, "cpu1"))
    delta = {k: c1[k] - c0[k] for k in c1 if k in c0}
    share = lambda ticks: 100.0 * ticks / clk / wall  # % of one core
    groups = {"worker": 0, "hasher": 0, "pool": 0, "store": 0}
    for k, v in delta.items():
        if k.startswith("thread:worker-"):
            groups["worker"] += v
        elif k.startswith("thread:argon2-"):
            # The password hasher's own threads (src/app/hasher.rs, since d2b930e).
            groups["hasher"] += v
        elif k.startswith("thread:blocking-"):
            groups["pool"] += v
        elif k == "thread:wirepost-store":
            groups["store"] += v
    r["cpu"] = share(delta["process"])
    r["cpu_worker"] = share(groups["worker"])
    r["cpu_hasher"] = share(groups["hasher"])
    r["cpu_pool"] = share(groups["pool"])
    r["cpu_store"] = share(groups["store"])
    # The rest: snapshot threads (they end, so only the process total sees them),
    # session purge, signals, main thread.
    r["cpu_other"] = share(delta["process"] - sum(groups.values()))
    r["pool_s"] = groups["pool"] / clk
    # Password hashing: on the hasher threads now, on the blocking pool before d2b930e.
    r["hash_s"] = (groups["hasher"] + groups["pool"]) / clk
    r["cpu_us_per_req"] = 1e6 * delta["process"] / clk / r["requests"] if r["requests"] else float("nan")
    r["client_cpu"] = share(delta.get("client", 0))
    # Other processes: what every user-space process but ours (server, login client,
    # this script and its children, wrk among them) used between the two snapshots. A
    # process that appeared counts whole; one that ended was (normally) reaped into its
    # parent's cutime, so its time before the run is taken off again.
    p0, p1 = (json.load(open(os.path.join(d, f))) for f in ("procs0.json", "procs1.json"))
    r["foreign"] = share(sum(v - p0.get(k, 0) for k, v in p1.items())
                         - sum(v for k, v in p0.items() if k not in p1))
    r["io_pressure"] = 0.0
    i0, i1 = (os.path.join(d, f) for f in ("io0", "io1"))
    if os.path.exists(i0) and os.path.exists(i1):
        r["io_pressure"] = (int(open(i1).read()) - int(open(i0).read())) / 1e4 / wall
    r["steal"] = share(delta["machine_steal"])
    r["rss_mb"] = c1["rss_kb"] / 1024

    s0 = json.load(open(os.path.join(d, "stats0.json")))["store"]
    s1 = json.load(open(os.path.join(d, "stats1.json")))["store"]
    sd = {k: s1[k] - s0[k] for k in s1 if isinstance(s1[k], int) and k in s0}
    r["store"] = sd
    r["store_after"] = s1
    r["store_writes"] = sd["writes"]
    r["writes_s"] = sd["writes"] / wall
    r["fsyncs_s"] = sd["fsyncs"] / wall
    r["commits_s"] = sd["commits"] / wall
    r["per_fsync"] = sd["writes"] / sd["fsyncs"] if sd["fsyncs"] else float("nan")
    r["per_commit"] = sd["writes"] / sd["commits"] if sd["commits"] else float("nan")

    fp = os.path.join(d, "fsync.trace")
    if os.path.exists(fp):
        # perf trace lines: "  12.345 ( 0.455 ms): wirepost-store/123 fdatasync(fd: 74) = 0"
        lat = sorted(float(m.group(1)) for m in re.finditer(
            r"\(\s*([0-9.]+) ms\): wirepost-store/\d+ fdatasync\(", open(fp).read()))
        if lat:
            r["fsync_n"] = len(lat)
            r["fsync_p50"], r["fsync_p99"], r["fsync_max"] = pct(lat, 50), pct(lat, 99), lat[-1]
            r["fsync_over10"] = sum(1 for x in lat if x > 10)
    if "fsync_n" in r:
        r["fsync_txt"] = f"{r['fsync_p50']:.2f}/{r['fsync_p99']:.2f}/{r['fsync_max']:.1f}"
    lp = os.path.join(d, "logins.log")
    if os.path.exists(lp):
        rows, tail = [], ""
        for line in open(lp):
            if line.startswith("#"):
                tail = line
                continue
            start, status, lat, cookie = line.split()
            rows.append((float(start), status, float(lat), int(cookie)))
        m = re.search(r"logins (\d+) answered (\d+) late_max_ms ([0-9.]+)", tail)
        r["logins_started_total"], r["logins_answered_total"] = int(m.group(1)), int(m.group(2))
        r["login_late_ms"] = float(m.group(3))
        # A 503 is the hasher shedding a login it could not take on in time (queue
        # full, or waited past app::hasher::MAX_WAIT): counted and shown, not an error.
        r["login_bad"] = [x for x in rows if x[1] != "503" and (x[1] != "302" or not x[3])]
        inwin = [x for x in rows if t0 <= x[0] < t1]
        # Logins the client started in the window (answered or not: the log has only the
        # answered ones, so count the schedule: rate * wall).
        r["logins_in_window"] = len(inwin)
        r["logins_s"] = len(inwin) / wall
        lats = sorted(x[2] * 1e3 for x in inwin)
        r["login_p50"], r["login_p99"] = pct(lats, 50), pct(lats, 99)
        r["login_max"] = lats[-1] if lats else float("nan")
        r["logins_unanswered"] = r["logins_started_total"] - r["logins_answered_total"]
        # Hash CPU over the logins that got their 302 (a 503 from a full hasher queue
        # costs no hash).
        good = [x for x in inwin if x[1] == "302"]
        r["logins_503"] = sum(1 for x in inwin if x[1] == "503")
        r["cpu_ms_per_login"] = 1e3 * r["hash_s"] / len(good) if good else float("nan")
    return r


def check(d):
    r = load(d)
    problems = []
    if r["requests"] == 0:
        problems.append("wrk counted no requests")
    if r["non2xx"]:
        problems.append(f"{r['non2xx']} answers were not 2xx/3xx")
    if r["socket_errors"]:
        problems.append(f"{r['socket_errors']} socket errors")
    sd = r["store"]
    if r["label"] == "session-writes":
        if "lua_errors" not in r:
            problems.append("no 'session writes:' line from session_write.lua")
        else:
            if r["lua_errors"]:
                problems.append(f"{r['lua_errors']} session answers were not a 302 renewing the session's cookie")
            if r["lua_responses"] != r["requests"]:
                problems.append(f"session_write.lua saw {r['lua_responses']} answers, wrk counted {r['requests']}")
            if r["lua_sessions"] != int(r["conns"]):
                problems.append(f"{r['lua_sessions']} sessions for {r['conns']} connections")
            # Every 302 is a durable write; writes still in flight when wrk stopped
            # were applied without their answer being counted (at most one per connection).
            if not r["lua_302"] <= sd["writes"] <= r["lua_302"] + int(r["conns"]):
                problems.append(f"store writes {sd['writes']} vs {r['lua_302']} answers 302")
            if sd["live_records"] != r["lua_sessions"]:
                problems.append(f"live records grew by {sd['live_records']}, not by the {r['lua_sessions']} sessions")
    elif r["label"] in ("plaintext", "products", "cart") and sd["writes"]:
        # The history is a cookie, and reading a cart must not write the session.
        problems.append(f"{sd['writes']} store writes during a {r['label']} run")
    if "login_bad" in r:
        for start, status, lat, cookie in r["login_bad"][:5]:
            problems.append(f"login at {start:.3f}: {status}, cookie {cookie}, {lat * 1e3:.0f} ms")
        if len(r["login_bad"]) > 5:
            problems.append(f"... {len(r['login_bad'])} bad logins in all")
        if r["logins_in_window"] == 0:
            problems.append("no login answered during the measured run")
    # The script stops the server with SIGTERM, and the drain (since a71428e) says so
    # at warn: that line is expected, and so are the hasher's lines when it sheds
    # logins (counted as 503s in the table); anything else is not.
    err = "\n".join(x for x in open(os.path.join(d, "server.err")).read().splitlines()
                    if x.strip() and not re.search(
                        r"\] (SIGTERM: stopping: no new connections"
                        r"|password hasher (behind|busy): )", x))
    if err:
        problems.append("the server logged (RUST_LOG=warn):\n" + err[:2000])
    if problems:
        print(f"{r['scenario']} {r['label']} round {r['round']}: FAILED", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print(r["wrk_out"], file=sys.stderr)
        raise SystemExit(1)


def line(d):
    r = load(d)
    s = (f"{r['scenario']:<6} {r['label']:<16} round {r['round']}: {r['rps']:9,.0f} req/s  "
         f"p99 {r['p99']:6.2f} ms  max {r['max']:7.2f} ms  server {r['cpu']:3.0f}% of a core "
         f"(loop {r['cpu_worker']:.0f}%, hasher {r['cpu_hasher']:.0f}%, pool {r['cpu_pool']:.0f}%, "
         f"store {r['cpu_store']:.0f}%), {r['cpu_us_per_req']:.1f} µs/req  "
         f"wrk {r['wrk_cpu']:.0f}%  RSS {r['rss_mb']:,.0f} MB")
    if r["label"] == "session-writes":
        s += (f"\n{'':>32}{r['writes_s']:,.0f} writes/s, {r['fsyncs_s']:,.0f} fsyncs/s, "
              f"{r['per_fsync']:.1f} writes/fsync, {r['per_commit']:.1f} writes/commit, "
              f"{r['store']['generation']} compactions; {r['lua_sessions']} sessions, last counter {r['lua_last']}")
        if "fsync_n" in r:
            s += (f"\n{'':>32}commit fdatasync: p50 {r['fsync_p50']:.2f} ms, p99 {r['fsync_p99']:.2f} ms, "
                  f"max {r['fsync_max']:.1f} ms, {r['fsync_over10']} over 10 ms ({r['fsync_n']} traced)")
    if r["label"] in ("products", "cart"):
        s += (f"\n{'':>32}store during the run: {r['store']['writes']} writes, {r['store']['commits']} commits, "
              f"{r['store']['fsyncs']} fsyncs; {r['store_after']['live_records']} live records after")
    if "logins_s" in r:
        s += (f"\n{'':>32}{r['logins_in_window']} logins answered ({r['logins_s']:.1f}/s), "
              f"p50 {r['login_p50']:.0f} ms p99 {r['login_p99']:.0f} ms max {r['login_max']:.0f} ms, "
              f"{r['logins_503']} of them 503, hasher+pool CPU {r['cpu_ms_per_login']:.0f} ms per 302; {r['logins_unanswered']} unanswered at the end; "
              f"client {r['client_cpu']:.0f}% of core 1")
    s += (f"\n{'':>32}other processes {r['foreign']:.0f}% of a core, steal {r['steal']:.0f}%, "
          f"I/O pressure {r['io_pressure']:.0f}%")
    print(s)


def table(runs_dir, max_foreign):
    all_runs = []
    for name in sorted(os.listdir(runs_dir), key=int):
        all_runs.append(load(os.path.join(runs_dir, name)))
    for sc in dict.fromkeys(r["scenario"] for r in all_runs):
        runs = [r for r in all_runs if r["scenario"] == sc]
        labels = list(dict.fromkeys(r["label"] for r in runs))
        cols = [("req/s", "rps", "{:,.0f}"), ("p99 ms", "p99", "{:.2f}"), ("max ms", "max", "{:.1f}"),
                ("server CPU", "cpu", "{:.0f}%"), ("CPU µs/req", "cpu_us_per_req", "{:.1f}"),
                ("event loop", "cpu_worker", "{:.0f}%"), ("hasher", "cpu_hasher", "{:.0f}%"),
                ("pool", "cpu_pool", "{:.0f}%"), ("store thr.", "cpu_store", "{:.0f}%"),
                ("wrk CPU", "wrk_cpu", "{:.0f}%"), ("server RSS MB", "rss_mb", "{:,.0f}")]
        if sc == "writes":
            cols += [("writes/s", "writes_s", "{:,.0f}"), ("fsyncs/s", "fsyncs_s", "{:,.0f}"),
                     ("writes/fsync", "per_fsync", "{:.1f}"), ("writes/commit", "per_commit", "{:.1f}"),
                     ("fdatasync p50/p99/max ms", "fsync_txt", "{}")]
        elif sc == "logins":
            cols += [("logins/s", "logins_s", "{:.1f}"), ("login p50 ms", "login_p50", "{:.0f}"),
                     ("login p99 ms", "login_p99", "{:.0f}"),
                     ("logins 503", "logins_503", "{:.0f}"),
                     ("hash CPU ms/login", "cpu_ms_per_login", "{:.0f}")]
        else:
            cols += [("store writes", "store_writes", "{:,.0f}")]

        def row(first, second, vals):
            cells = [first, second] + vals
            return "| " + " | ".join(cells) + " |"

        def fmt(r, key, f):
            v = r.get(key)
            return "" if v is None or v != v else f.format(v)

        print(f"{sc}: every run")
        print(row("load", "round", [c[0] for c in cols] + ["others/steal/io"]))
        print("|" + "|".join("---" for _ in range(len(cols) + 3)) + "|")
        for r in runs:
            note = ""
            if r["foreign"] > max_foreign or r["steal"] > max_foreign:
                note = " (disturbed)"
            print(row(r["label"], r["round"] + note, [fmt(r, c[1], c[2]) for c in cols]
                      + [f"{max(0, r['foreign']):.0f}%/{r['steal']:.0f}%/{r['io_pressure']:.0f}%"]))
        print()
        print(f"{sc}: medians over {max(int(r['round']) for r in runs)} rounds")
        print(row("load", "runs", [c[0] for c in cols]))
        print("|" + "|".join("---" for _ in range(len(cols) + 2)) + "|")
        med = {}
        for label in labels:
            rs = [r for r in runs if r["label"] == label]
            med[label] = {c[1]: median(r[c[1]] for r in rs) for c in cols
                          if all(c[1] in r for r in rs) and not c[1].endswith("_txt")}
            if all("fsync_n" in r for r in rs):
                med[label]["fsync_txt"] = "{:.2f}/{:.2f}/{:.1f}".format(
                    *(median(r[k] for r in rs) for k in ("fsync_p50", "fsync_p99", "fsync_max")))
            print(row(label, str(len(rs)), [fmt(med[label], c[1], c[2]) for c in cols]))
        a, b = labels[::-1] if sc == "logins" else labels
        ratio = med[a]["rps"] / med[b]["rps"]
        print(f"\nreq/s {a} / {b}: {ratio:.2f}"
              + (f" ({(ratio - 1) * 100:+.1f}%)" if sc == "logins" else "")
              + (f"; p99 {med[a]['p99']:.2f} vs {med[b]['p99']:.2f} ms; CPU/req "
                 f"{med[a]['cpu_us_per_req'] / med[b]['cpu_us_per_req']:.2f}x" if sc in ("products", "cart") else ""))
        print()


if __name__ == "__main__":
    cmd = sys.argv[1:2]
    if cmd == ["procs"]:
        print(json.dumps(procs(int(p) for p in sys.argv[2:])))
    elif cmd == ["foreign"]:
        r = load(sys.argv[2])
        print(max(0, round(r["foreign"])), max(0, round(r["steal"])))
    elif cmd == ["check"]:
        check(sys.argv[2])
    elif cmd == ["line"]:
        line(sys.argv[2])
    elif cmd == ["table"]:
        table(sys.argv[2], float(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
