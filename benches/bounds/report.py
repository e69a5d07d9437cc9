#!/usr/bin/env python3
"""The purge scenario's report for benches/bounds/run.sh.

  report.py PROBE_LOG SERVER_STDERR LIVE_AFTER

Latency of the probe's requests (probe.py) for the whole probe, during the purge and
outside it (the machine's own noise). The purge's window comes from the server's log
line "purged N expired sessions in T", whose time has 1 s resolution: the window is
widened by a second on each side.
"""
import datetime
import re
import sys


def show(name, lat):
    lat = sorted(lat)
    n = len(lat)
    if not n:
        print(f"purge: {name}: no requests")
        return
    p99 = lat[max(0, int(n * 0.99) - 1)]
    slow = sum(1 for x in lat if x > 5.0)
    print(f"purge: {name}: {n} GET /session/, worst {lat[-1]:.2f} ms, p99 {p99:.2f} ms, "
          f"median {lat[n // 2]:.2f} ms, {slow} over 5 ms")


def main():
    probe, stderr, live = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [(float(t), float(ms)) for t, ms, _ in (l.split() for l in open(probe))]
    window = None
    for line in open(stderr):
        m = re.match(r"\[(\S+)Z .*purged \d+ expired sessions in ([0-9.]+)(ms|s)\b", line)
        if m:
            end = datetime.datetime.fromisoformat(m.group(1) + "+00:00").timestamp() + 1
            took = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
            window = (end - 1 - took - 1, end)
    show("whole probe", [ms for _, ms in rows])
    if window:
        inside = [ms for t, ms in rows if window[0] <= t <= window[1]]
        show("during the purge (+-1 s)", inside)
        show("outside it", [ms for t, ms in rows if not window[0] <= t <= window[1]])
    print(f"purge: sessions live after: {live}")


if __name__ == "__main__":
    main()
