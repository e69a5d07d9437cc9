#!/usr/bin/env python3
"""Memory held per idle keep-alive connection: wirepost against nginx.

For each case (GET /plaintext, GET /, GET of a 200 KB static file) a fresh server
(one worker each) is started; 1,000 keep-alive connections each send that one
request, read the whole answer, and stay open, idle. The server's memory is measured
before opening them and after (Pss from /proc/PID/smaps_rollup, summed over the
server's processes: nginx's master and worker), and the difference is printed per
connection. It counts the kernel's socket buffers not at all (they are not the
process's memory), and everything the server keeps per connection: its struct, its
buffers, and what the allocator does not give back.

A measurement, not a test, and not a timing benchmark:

    python3 benches/idle_memory.py            # builds the release binary first
    IDLE_CONNS=2000 python3 benches/idle_memory.py
    NO_BUILD=1 WIREPOST_BIN=/tmp/older/wirepost python3 benches/idle_memory.py

nginx (/usr/sbin/nginx, configured from benches/wrk/nginx.conf) is measured too
when it is installed; it has no page at `/`, so that case is wirepost only.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("IDLE_CONNS", "1000"))
BIG = 200_000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pss_kib(pid):
    """Pss of `pid` and its children, in KiB."""
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        pids += [int(p) for p in out.stdout.split()]
    except FileNotFoundError:
        pass
    total = 0
    for p in pids:
        with open(f"/proc/{p}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total


def get(sock, target):
    """Send one keep-alive GET and read its whole answer (Content-Length framed)."""
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"{target}: closed before the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise RuntimeError(f"{target}: {status!r}")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError(f"{target}: no Content-Length")
    got = len(body)
    while got < length:
        chunk = sock.recv(min(1 << 20, length - got))
        if not chunk:
            raise RuntimeError(f"{target}: closed in the body")
        got += len(chunk)


def wait_ready(proc, port):
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            get(s, "/plaintext")
            s.close()
            return
        except (OSError, RuntimeError):
            time.sleep(0.05)
    raise RuntimeError("server did not answer within 10 s")


def start(kind, tmp, www, port):
    if kind == "wirepost":
        data = os.path.join(tmp, "data")
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        binary = os.environ.get("WIREPOST_BIN", os.path.join(REPO, "target/release/wirepost"))
        cmd = [binary, "--addr", f"127.0.0.1:{port}",
               "--workers", "1", "--www", www, "--data", data]
        env = dict(os.environ, RUST_LOG="warn")
    else:
        d = os.path.join(tmp, "nginx")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        conf = open(os.path.join(REPO, "benches/wrk/nginx.conf")).read()
        conf = (conf.replace("@PORT@", str(port)).replace("@TMP@", d)
                .replace("@STATIC@", os.path.join(www, "static"))
                .replace("worker_connections 1024;", f"worker_connections {N + 100};"))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        cmd = ["/usr/sbin/nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d,
               "-e", os.path.join(d, "error.log")]
        env = os.environ
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(proc, port)
    return proc


def measure(kind, tmp, www, target):
    port = free_port()
    proc = start(kind, tmp, www, port)
    try:
        time.sleep(0.3)
        before = pss_kib(proc.pid)
        socks = []
        for _ in range(N):
            s = socket.create_connection(("127.0.0.1", port))
            get(s, target)
            socks.append(s)
        time.sleep(0.5)
        after = pss_kib(proc.pid)
        for s in socks:
            s.close()
        return (after - before) * 1024 / N
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    if not os.environ.get("NO_BUILD") and not os.environ.get("WIREPOST_BIN"):
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=REPO, check=True)
    tmp = tempfile.mkdtemp(prefix="wirepost-idle-")
    try:
        www = os.path.join(tmp, "www")
        shutil.copytree(os.path.join(REPO, "www"), www)
        with open(os.path.join(www, "static", "big.bin"), "wb") as f:
            f.write(b"z" * BIG)
        servers = ["wirepost"] + (["nginx"] if os.path.exists("/usr/sbin/nginx") else [])
        cases = [("/plaintext", "/plaintext"), ("/", "/"), ("200 KB file", "/static/big.bin")]
        print(f"bytes of server memory (Pss) per idle keep-alive connection, {N} connections")
        print(f"{'case':<14}" + "".join(f"{s:>12}" for s in servers))
        for label, target in cases:
            row = f"{label:<14}"
            for s in servers:
                if s == "nginx" and target == "/":
                    row += f"{'n/a':>12}"
                    continue
                row += f"{measure(s, tmp, www, target):>12.0f}"
            print(row, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
