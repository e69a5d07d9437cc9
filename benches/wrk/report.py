#!/usr/bin/env python3
"""Arithmetic for benches/wrk/run.sh.

  report.py run WRK_OUTPUT TICKS_DELTA CLK_TCK DURATION
      parse one wrk --latency output; print one tab-separated line:
      requests  req/s  p99_ms  cpu_us_per_req  server_cpu_pct  socket_errors
  report.py table RESULTS_TSV SERVER_A SERVER_B [SERVER_C ...] MAX_PRESSURE
      RESULTS_TSV lines: scenario server round requests rps p99_ms cpu_us cpu_pct errors
      cpu_pressure_pct
      print medians across rounds per (scenario, server) and the ratios of the first
      server to each other one (A/B, A/C, ...), in one table.
"""
import re
import sys
from statistics import median

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise SystemExit(f"cannot read the latency {text!r}")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_run(path, ticks, clk_tck, duration):
    out = open(path).read()
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"the server answered errors under load:\n{out}")
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m),", out, re.M)
    if not m or int(m.group(1)) == 0:
        raise SystemExit(f"no requests in the wrk output:\n{out}")
    requests = int(m.group(1))
    rps = float(re.search(r"^Requests/sec:\s*([0-9.]+)", out, re.M).group(1))
    # pipeline.lua prints its own, since wrk's percentiles are wrong with pipelining.
    batch = re.search(r"^pipelined batch latency: p50 \d+ us p99 (\d+) us", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if not batch and not p99:
        raise SystemExit(f"no 99% line (was --latency given?):\n{out}")
    p99_ms = int(batch.group(1)) / 1e3 if batch else to_ms(p99.group(1))
    if p99_ms == 0:  # wrk's percentile walk can miss (wg/wrk#354): no figure
        p99_ms = float("nan")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)",
                                            " ".join(re.findall(r"^\s*Socket errors:.*$", out, re.M))))
    cpu_s = ticks / clk_tck
    cpu_us_per_req = cpu_s * 1e6 / requests
    cpu_pct = 100.0 * cpu_s / duration
    print(f"{requests}\t{rps:.0f}\t{p99_ms:.3f}\t{cpu_us_per_req:.3f}\t{cpu_pct:.0f}\t{errors}")


def table(path, servers, max_pressure):
    """One table: each server's medians per scenario, then a ratio row of the first
    server against each other one (for two servers: A, B, A/B as before)."""
    a, others = servers[0], servers[1:]
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    scenarios = list(dict.fromkeys(r[0] for r in rows))
    med = {}
    for sc in scenarios:
        for srv in servers:
            runs = [r for r in rows if r[0] == sc and r[1] == srv]
            if not runs:
                continue
            med[sc, srv] = {
                "rps": median(float(r[4]) for r in runs),
                "p99": median(float(r[5]) for r in runs),
                "cpu": median(float(r[6]) for r in runs),
                "pct": median(float(r[7]) for r in runs),
                "err": sum(int(r[8]) for r in runs),
                "n": len(runs),
                "contended": sum(1 for r in runs if float(r[9]) > max_pressure),
            }
    if not med:
        raise SystemExit(f"no runs of {', '.join(servers)} in {path}")
    # Columns as wide as their longest entry: a label is never cut.
    sc_w = max([22] + [len(sc) for sc in scenarios])
    srv_w = max([15] + [len(s) for s in servers] + [len(a) + 1 + len(b) for b in others])
    head = (f"| {'scenario':<{sc_w}} | {'server':<{srv_w}} | {'req/s':>9} | {'p99 ms':>7} | "
            f"{'CPU µs/req':>10} | {'server CPU':>10} |")
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for sc in scenarios:
        for srv in servers:
            if (sc, srv) not in med:
                continue
            m = med[sc, srv]
            err = f" ({m['err']} socket errors)" if m["err"] else ""
            if m["contended"]:
                err += f" ({m['contended']} of {m['n']} runs contended)"
            print(f"| {sc:<{sc_w}} | {srv:<{srv_w}} | {m['rps']:>9,.0f} | {m['p99']:>7.2f} | "
                  f"{m['cpu']:>10.2f} | {m['pct']:>9.0f}% |{err}")
        for b in others:
            if (sc, a) in med and (sc, b) in med:
                ma, mb = med[sc, a], med[sc, b]
                print(f"| {sc:<{sc_w}} | {a + '/' + b:<{srv_w}} | {ratio(ma['rps'], mb['rps']):>8}x | "
                      f"{ratio(ma['p99'], mb['p99']):>6}x | {ratio(ma['cpu'], mb['cpu']):>9}x | {'':>10} |")
    n = max(m["n"] for m in med.values())
    pairs = ", ".join(f"{a}/{b}" for b in others)
    print(f"medians over {n} rounds; ratios {pairs}: req/s above 1, p99 and CPU/req below 1 favour {a}")
    if any(sc == "pipelined" for sc in scenarios):
        print("pipelined p99: latency of a batch of 16 requests (write to last response)")


def ratio(x, y):
    """x/y to two decimals; "nan" when y is 0 or either is not a number."""
    r = x / y if y else float("nan")
    return f"{r:.2f}"


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        parse_run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif len(sys.argv) >= 6 and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3:-1], float(sys.argv[-1]))
    else:
        raise SystemExit(__doc__)
