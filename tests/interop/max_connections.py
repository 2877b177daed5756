#!/usr/bin/python3
"""--max-connections N (issue 10): comsecd and comsec-echo-server serve at
most N TCP connections at once and close one more at once, without a reply;
the connection already served keeps working, a slot freed is taken again,
the refusal is logged, and each daemon logs the descriptor limit it raised
at start.

Every connection is a raw socket on loopback carrying a plain little-endian
bind (C706 12.6.4.3), so what the server sends back is read byte for byte.
Usage: max_connections.py ECHO_SERVER COMSECD. Exit 0 on success.
"""
import socket
import struct
import subprocess
import sys
import time
import uuid

NDR20 = ("8a885d04-1ceb-11c9-9fe8-08002b104860", 2, 0)
SERVERS = [
    # (program, an interface it serves)
    (sys.argv[1], ("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21", 1, 0)),  # IComsecEcho
    (sys.argv[2], ("e1af8308-5d1f-11c9-91a4-08002b14a0fa", 3, 0)),  # ept
]
PTYPE_BIND, PTYPE_BIND_ACK = 11, 12
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def syntax(s):
    text, major, minor = s
    return uuid.UUID(text).bytes_le + struct.pack("<I", major | minor << 16)


def bind_pdu(interface, call_id=1):
    body = struct.pack("<HHIBBH", 5840, 5840, 0, 1, 0, 0)
    body += struct.pack("<HBB", 0, 1, 0) + syntax(interface) + syntax(NDR20)
    header = struct.pack("<BBBB4sHHI", 5, 0, PTYPE_BIND, 3, b"\x10\0\0\0",
                         16 + len(body), 0, call_id)
    return header + body


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def bound(port, interface):
    """A connection whose bind was acknowledged, or None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(bind_pdu(interface))
        header = recv_exactly(s, 16)
        if len(header) < 16 or header[2] != PTYPE_BIND_ACK:
            s.close()
            return None
        frag_length = struct.unpack_from("<H", header, 8)[0]
        recv_exactly(s, frag_length - 16)
        return s
    except OSError:
        s.close()
        return None


def closed_at_once(port):
    """True when the server closes a new connection within 2 s without a byte."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    start = time.monotonic()
    try:
        data = s.recv(16)
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        data = None
    finally:
        s.close()
    return data == b"" and time.monotonic() - start < 2


for program, interface in SERVERS:
    name = program.rsplit("/", 1)[-1]
    p = subprocess.Popen([program, "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
                          "--max-connections", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if not line.startswith("listening on"):
            raise RuntimeError(name + " did not start: " + line + p.stderr.read())
        port = int(line.split("[")[1].split("]")[0])
        first = bound(port, interface)
        check(first is not None, name + ": the first connection is bound")
        check(closed_at_once(port),
              name + ": with --max-connections 1 a second connection is closed at once")
        # The first is still served: a second bind on it is answered (a
        # bind_nak or a fault; either proves the connection was kept).
        if first is not None:
            first.sendall(bind_pdu(interface, call_id=2))
            header = recv_exactly(first, 16)
            check(len(header) == 16, name + ": the first connection is still served")
            first.close()
        # Its slot, freed, is taken by the next connection (the release may
        # trail the close a little).
        again = None
        deadline = time.monotonic() + 5
        while again is None and time.monotonic() < deadline:
            again = bound(port, interface)
            if again is None:
                time.sleep(0.05)
        check(again is not None, name + ": a freed slot serves the next connection")
        if again is not None:
            again.close()
    finally:
        p.terminate()
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
    check("max_connections" in err and "refusing connections from 127.0.0.1" in err,
          name + ": the refusal is logged: " +
          " | ".join(l for l in err.splitlines() if "refusing" in l))
    check("descriptors: up to " in err and "open files (soft RLIMIT_NOFILE)" in err,
          name + ": the descriptor limit is logged at start: " +
          " | ".join(l for l in err.splitlines() if "descriptors" in l))

r = subprocess.run([SERVERS[0][0], "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
                    "--max-connections", "0"], capture_output=True, text=True, timeout=10)
usage = r.stderr.strip().splitlines()[0] if r.stderr.strip() else "(nothing on stderr)"
check(r.returncode == 2 and "--max-connections" in usage,
      "--max-connections 0 is a usage error (exit 2): " + usage)

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all checks passed")
