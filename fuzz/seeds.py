#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets: fuzz/corpus/<target>/seed-<hash>.

Sources (see fuzz/README.md):
- tests/vectors/request_*.http and multipart_*.http (the split tests' vectors);
- ../shared/bench/browser_request.txt (a browser's request), if present;
- byte and string literals in the unit tests of src/http/{parser,head,framing,
  chunked,query,cookie}.rs.

Run from anywhere: `python3 fuzz/seeds.py` (it clears the seed-* files first, so the
output depends only on the sources). Each file starts with the targets' control
bytes (see fuzz/src/lib.rs): flags, cut count, gaps.
"""

import hashlib
import os
import re
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"

# Per target, at most this many seeds (small corpora in git).
MAX_SEEDS = 120


def unescape_vector(text):
    """A vector line: \\r \\n \\t \\0 \\\\ \\" \\xHH."""
    out = bytearray()
    i = 0
    simple = {"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92, '"': 34}
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = text[i + 1]
        if e == "x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        else:
            out.append(simple[e])
            i += 2
    return bytes(out)


def load_vector(path):
    """(headers before `--- input` as a dict, input bytes)."""
    meta, data, section = {}, bytearray(), ""
    for line in path.read_text().splitlines():
        if line in ("--- input", "--- events"):
            section = line
        elif section == "--- input":
            data += unescape_vector(line)
        elif section == "" and ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            meta[k.strip()] = v.strip()
    return meta, bytes(data)


LITERAL = re.compile(r'(b?)"((?:[^"\\]|\\.|\\\n)*)"', re.S)


def rust_literals(path):
    """Byte and string literals of the file's `#[cfg(test)]` module, unescaped."""
    src = path.read_text()
    at = src.find("#[cfg(test)]")
    if at < 0:
        return []
    out = []
    for m in LITERAL.finditer(src[at:]):
        body = m.group(2)
        b = bytearray()
        i = 0
        while i < len(body):
            c = body[i]
            if c != "\\":
                b += c.encode()
                i += 1
                continue
            e = body[i + 1]
            if e == "\n":  # line continuation: skip the newline and indentation
                i += 2
                while i < len(body) and body[i] in " \t":
                    i += 1
            elif e == "x":
                b.append(int(body[i + 2 : i + 4], 16))
                i += 4
            elif e == "u":
                j = body.index("}", i)
                b += chr(int(body[i + 3 : j], 16)).encode()
                i = j + 1
            else:
                b.append({"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92, '"': 34, "'": 39}[e])
                i += 2
        out.append(bytes(b))
    return out


def write(target, seeds):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    unique = list(dict.fromkeys(seeds))[:MAX_SEEDS]
    for s in unique:
        name = "seed-" + hashlib.sha1(s).hexdigest()[:16]
        (d / name).write_bytes(s)
    print(f"{target}: {len(unique)} seeds, {sum(map(len, unique))} bytes")


# Control prefixes (flags, k, gaps): whole; cut in three; small limits; strict and
# byte by byte.
PLAIN = b"\x00\x00"
CUT = b"\x00\x03\x05\x11\x00"
SMALL = b"\x02\x00"
STRICT_BYTEWISE = b"\x05\x02\x01\x07"


def main():
    vectors = sorted((ROOT / "tests" / "vectors").glob("*.http"))
    requests = [load_vector(p)[1] for p in vectors if p.name.startswith("request_")]
    browser = ROOT.parent / "shared" / "bench" / "browser_request.txt"
    if browser.exists():
        raw = browser.read_bytes()
        requests.append(raw)
        requests.append(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    for name in ("parser.rs", "head.rs", "framing.rs"):
        for lit in rust_literals(ROOT / "src" / "http" / name):
            if re.match(rb"^(\r?\n)*[A-Z]+ ", lit) and b"\n" in lit:
                requests.append(lit)
    requests = list(dict.fromkeys(requests))

    # Request stream targets: each request whole; a few cut, limited, strict.
    req_seeds = [PLAIN + r for r in requests]
    req_seeds += [CUT + r for r in requests[:10]]
    req_seeds += [SMALL + r for r in requests[10:15]]
    req_seeds += [STRICT_BYTEWISE + r for r in requests[15:20]]
    for t in ("head", "request", "split_request"):
        write(t, req_seeds)

    # Chunked: the bodies of chunked requests, and the chunked unit tests' literals.
    chunked = []
    for r in requests:
        head, sep, body = r.partition(b"\r\n\r\n")
        if sep and b"chunked" in head.lower():
            chunked.append(body)
    for lit in rust_literals(ROOT / "src" / "http" / "chunked.rs"):
        if re.match(rb"^[0-9a-fA-F]+[;\r \t]", lit):
            chunked.append(lit)
    write("chunked", [PLAIN + c for c in chunked] + [CUT + c for c in chunked[:10]])

    # Query: byte 0 is the field limit.
    queries = [b"tab=overview", b"a=1&b=2&a=3", b"q=caf%C3%A9+au+lait&x=%zz&%FF=+"]
    for lit in rust_literals(ROOT / "src" / "http" / "query.rs"):
        if len(lit) < 200 and (b"=" in lit or b"&" in lit or b"%" in lit):
            queries.append(lit)
    write("query", [b"\x10" + q for q in queries] + [b"\x01" + q for q in queries[:5]])

    # Cookie: mode 0 parses a Cookie header; odd modes build a Set-Cookie from fields
    # cut at 0xFF (name, value, path, domain, max-age, expires).
    cookies = [b"sid=4f9c2a7be1d04c3b8a6e5f1d2c3b4a59; theme=dark; last_seen=1732559000"]
    for lit in rust_literals(ROOT / "src" / "http" / "cookie.rs"):
        if b"=" in lit and len(lit) < 300 and not lit.startswith(b"/"):
            cookies.append(lit)
    builders = [
        b"\x7f" + b"\xff".join([b"sessionid", b"abc", b"/", b"example.com", b"\x00\x75\x12\x00", b"\x80\x00\x00\x68"]),
        b"\x95" + b"\xff".join([b"history", b"\"1.3.2\"", b"/products", b".a-b.example", b"\xff\xff\xff\xff\xff\xff\xff\xff", b"\xff\xff\xff\xff\xff\xff\xff\xff"]),
        b"\x03" + b"\xff".join([b"a", b"", b"/x y", b"", b"\x01"]),
    ]
    write("cookie", [b"\x00" + c for c in cookies] + builders)

    # Multipart: `Content-Type \n body`; small limits when the vector sets limits.
    mp = []
    for p in vectors:
        if not p.name.startswith("multipart_"):
            continue
        meta, body = load_vector(p)
        flags = 2 if any(k.startswith("max-") for k in meta) else 0
        ct = meta.get("content-type", "multipart/form-data; boundary=b").encode()
        mp.append(bytes([flags, 0]) + ct + b"\n" + body)
        if len(mp) % 3 == 0:
            mp.append(bytes([flags | 4, 3, 3, 40, 0]) + ct + b"\n" + body)
    for t in ("multipart", "split_multipart"):
        write(t, mp)


if __name__ == "__main__":
    sys.exit(main())
