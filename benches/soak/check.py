#!/usr/bin/env python3
"""Check, against a freshly restarted server, every write the soak's wrk script saw
acknowledged (benches/soak/soak.lua writes them to <acks>/acks-*.log).

    python3 benches/soak/check.py --url http://127.0.0.1:PORT --acks DIR --data DATA

- cart <sid> <product> <k>: the session's cart holds at least k of that product
  (k adds were acknowledged; an add whose answer was lost may be there too, so more
  is fine, up to what was sent).
- set <sid> <value>: the session's "n" is at least the highest value acknowledged.
- upload <name> <thread> <n> <len>: GET /uploads/<name> returns exactly the bytes
  sent ("<thread>:<n>;" repeated, cut to len).
- The data directory holds no temporary file (uploads/.tmp-*, store/*.tmp): the
  server removes them at start, so after the restart none may remain.

Prints one summary line per kind and `missing=N`; exits 1 if anything is missing or
wrong. Python 3 standard library only.
"""

import argparse
import glob
import http.client
import json
import os
import sys
import urllib.parse


def upload_bytes(tid, n, length):
    unit = f"{tid}:{n};".encode()
    return (unit * (length // len(unit) + 1))[:length]


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None
        self.requests = 0

    def get(self, path, headers=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request("GET", path, headers=headers or {})
                r = self.conn.getresponse()
                body = r.read()
                self.requests += 1
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--acks", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--show", type=int, default=10, help="problems shown of each kind")
    args = ap.parse_args()

    carts = {}  # sid -> {product: acked adds}
    sets = {}  # sid -> highest acked value
    uploads = []  # (name, tid, n, len)
    lines = 0
    set_writes = 0
    for path in sorted(glob.glob(os.path.join(args.acks, "acks-*.log"))):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                lines += 1
                if parts[0] == "cart" and len(parts) == 4:
                    sid, product, k = parts[1], parts[2], int(parts[3])
                    c = carts.setdefault(sid, {})
                    c[product] = max(c.get(product, 0), k)
                elif parts[0] == "set" and len(parts) == 3:
                    sets[parts[1]] = max(sets.get(parts[1], 0), int(parts[2]))
                    set_writes += 1
                elif parts[0] == "upload" and len(parts) == 5:
                    uploads.append((parts[1], int(parts[2]), int(parts[3]), int(parts[4])))
                else:
                    print(f"check: bad line in {path}: {line!r}", file=sys.stderr)
                    return 2

    client = Client(args.url)
    problems = {"session": [], "cart": [], "set": [], "upload": [], "temp": []}
    cart_writes = sum(sum(c.values()) for c in carts.values())
    verified = {"cart": 0, "set": 0, "upload": 0}

    for sid in sorted(set(carts) | set(sets)):
        status, body = client.get(
            "/session/", {"Accept": "application/json", "Cookie": f"sessionid={sid}"}
        )
        if status != 200:
            problems["session"].append(f"{sid}: GET /session/ answered {status}")
            continue
        data = json.loads(body)
        if data.get("key") != sid:
            problems["session"].append(f"{sid}: session not found (key {data.get('key')!r})")
            continue
        d = data.get("data", {})
        for product, k in carts.get(sid, {}).items():
            got = d.get("cart", {}).get(product, 0)
            if isinstance(got, int) and got >= k:
                verified["cart"] += k
            else:
                problems["cart"].append(f"{sid}: product {product}: {k} adds acked, cart has {got!r}")
        if sid in sets:
            got = d.get("n")
            if isinstance(got, int) and got >= sets[sid]:
                verified["set"] += 1
            else:
                problems["set"].append(f"{sid}: n: {sets[sid]} acked, session has {got!r}")

    upload_bytes_total = 0
    for name, tid, n, length in uploads:
        status, body = client.get("/uploads/" + urllib.parse.quote(name))
        want = upload_bytes(tid, n, length)
        if status == 200 and body == want:
            verified["upload"] += 1
            upload_bytes_total += length
        else:
            problems["upload"].append(
                f"{name}: status {status}, {len(body)} bytes (want 200, {length} bytes)"
                + ("" if status != 200 else ", contents differ")
            )

    temps = sorted(
        glob.glob(os.path.join(args.data, "uploads", ".tmp-*"))
        + glob.glob(os.path.join(args.data, "store", "*.tmp"))
    )
    problems["temp"] = [f"{t} still there after the restart" for t in temps]

    # The set lines count every acknowledged set, while "verified" counts sessions
    # (the highest value covers the lower ones): report writes covered.
    set_verified_writes = set_writes if not problems["set"] and not problems["session"] else 0
    missing = sum(len(v) for v in problems.values())
    print(
        f"check: {lines} acknowledged writes read from the acks files; "
        f"{len(set(carts) | set(sets))} sessions, {len(uploads)} uploads; "
        f"{client.requests} GETs"
    )
    print(
        f"check: cart adds acked {cart_writes}, verified {verified['cart']}; "
        f"session sets acked {set_writes} on {len(sets)} sessions, highest value "
        f"verified on {verified['set']} (covering {set_verified_writes} writes); "
        f"uploads acked {len(uploads)}, verified byte for byte {verified['upload']} "
        f"({upload_bytes_total} bytes)"
    )
    print(f"check: temporary files in the data dir after the restart: {len(temps)}")
    for kind, items in problems.items():
        for p in items[: args.show]:
            print(f"check: MISSING/WRONG {kind}: {p}")
        if len(items) > args.show:
            print(f"check: ... and {len(items) - args.show} more {kind} problems")
    print(f"check: missing={missing}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
