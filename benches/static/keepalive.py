#!/usr/bin/env python3
"""Send N requests for one path on one keep-alive connection, one at a time, and
read each response whole (Content-Length framing). Used to count a server's
instructions (callgrind) or syscalls (strace -c) per request: run once with N and
once with N=0, and divide the difference by N (docs/performance.md).

usage: keepalive.py HOST:PORT PATH N [EXTRA-HEADER-LINE]
"""
import socket
import sys

addr, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
extra = sys.argv[4] + "\r\n" if len(sys.argv) > 4 else ""
host, port = addr.rsplit(":", 1)
req = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: keepalive.py\r\nAccept: */*\r\n{extra}\r\n".encode()
s = socket.create_connection((host, int(port)))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
for i in range(n):
    s.sendall(req)
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"closed after {i} responses")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"closed in response {i}")
        rest += chunk
    if not head.startswith(b"HTTP/1.1 200") and not head.startswith(b"HTTP/1.1 304"):
        sys.exit(f"unexpected: {head[:40]!r}")
    buf = rest[length:]
s.close()
