#!/usr/bin/python3
"""Conformance case 42 across processes (issue 13): a client holding a
reference is SIGKILLed; the server reclaims the object after three missed
ping periods (± one period), never before two.

comsec-hello-server runs with --ping-period 1; comsec-hello-client
--ping-interval 1 hold gets a child object (a normal marshal: references
the server counts) and holds it, pinging. While it pings, three periods
pass without the server running the object down; then the client is
SIGKILLed (no RemRelease, no goodbye) and the server's com.run_down event
must come between 2 and 4 seconds later. The server's table-marshaled
object is not run down, and it keeps serving. Exit 0 on success.
"""
import select
import signal
import subprocess
import sys
import time

from hello_support import Report, Store, read_objref

server_path, client_path, comcfg_path, workdir = sys.argv[1:5]
PASSWORD = "Hello#Ping1"
report = Report()
check = report.check
comcfg = Store(comcfg_path, workdir)
store = comcfg.path
comcfg.add_user("alice", PASSWORD)
comcfg.allow_callers("{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}")

server = subprocess.Popen([server_path, "--store", store, "--print-objref", "--ping-period", "1",
                           "--log-format", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
holder = None
log = []


def read_log(timeout):
    """Server events (JSON lines) that arrive within `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([server.stderr], [], [], left)
        if not ready:
            return
        line = server.stderr.readline()
        if not line:
            return
        log.append((time.monotonic(), line))


def rundowns():
    return [(t, l) for t, l in log if '"com.run_down"' in l]


def client(objref, *args):
    return subprocess.Popen([client_path, "--objref", objref, "--auth", "ntlm", "--user",
                             "alice", "--password-stdin", "--level", "6",
                             "--ping-interval", "1"] + list(args),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


try:
    objref = read_objref(server)
    holder = client(objref, "hold")
    holder.stdin.write(PASSWORD + "\n")
    holder.stdin.flush()
    check(holder.stdout.readline().strip() == "holding a child object", "the client holds a child")
    # Three periods with the client pinging: nothing is reclaimed.
    read_log(3.5)
    check(not rundowns(), "no run-down while the client pings")
    holder.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    holder.wait()
    read_log(6.0)
    runs = rundowns()
    check(len(runs) == 1, "exactly one object run down after the kill: %d" % len(runs))
    if runs:
        after = runs[0][0] - killed
        check(2.0 <= after <= 4.5, "reclaimed %.2f s after the kill (3 periods of 1 s, "
              "not before 2)" % after)
    # The table-marshaled object was not run down, and the server serves on.
    r = subprocess.run([client_path, "--objref", objref, "--auth", "ntlm", "--user", "alice",
                        "--password-stdin", "--level", "6", "greet", "after"],
                       input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.startswith("Hello, after, from "),
          "the server serves on: %d %r %r" % (r.returncode, r.stdout, r.stderr))
finally:
    for p in (holder, server):
        if p is not None and p.poll() is None:
            p.kill()
report.exit()
