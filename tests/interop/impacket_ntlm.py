#!/usr/bin/python3
"""Interop: impacket's NTLM against comsec-echo-server (issue 5).

Creates a store with an account, starts the echo server with it, and has
impacket, an independent NTLMSSP and DCE/RPC implementation, bind with NTLM
at CONNECT, CALL, PKT, PKT_INTEGRITY and PKT_PRIVACY and call all three
IComsecEcho operations (WhoAmI must name the account and the level). A
wrong password, an unknown user and an anonymous bind are refused; a server
with --min-auth-level 6 refuses level 5 and serves level 6.
Usage: impacket_ntlm.py ECHO_SERVER COMCFG WORKDIR. Exit 0 on success.
"""
import os
import struct
import subprocess
import sys

from impacket.dcerpc.v5 import transport
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.uuid import uuidtup_to_bin

server_path, comcfg_path, workdir = sys.argv[1:4]
os.makedirs(workdir, exist_ok=True)
store = os.path.join(workdir, "ntlm-interop.db")
for base in (store, store[:-3] + ".secrets.db"):  # the policy store and its secrets file
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(base + suffix):
            os.remove(base + suffix)
ECHO = "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"
PASSWORD = "Interop#Pass1"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def comcfg(*args, stdin=None):
    return subprocess.run([comcfg_path, "--store", store] + list(args), input=stdin,
                          capture_output=True, text=True, check=True).stdout


comcfg("init")
comcfg("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
domain = [l for l in comcfg("user", "list").splitlines() if "alice" in l][0].split("\\")[0]


def start(min_level):
    p = subprocess.Popen([server_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
                          "--store", store, "--min-auth-level", str(min_level)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = None
    while port is None:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("echo server exited: " + p.stderr.read())
        if line.startswith("listening on"):
            port = int(line.split("[")[1].split("]")[0])
    return p, port


def bind(port, level, user="alice", password=PASSWORD, dom="", ntlmv2=True):
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % port)
    t.set_credentials(user, password, dom, "", "")
    if not ntlmv2:
        t.doesSupportNTLMv2 = lambda: False  # impacket's NTLMv1 (with ESS)
    dce = t.get_dce_rpc()
    dce.set_auth_type(10)  # RPC_C_AUTHN_WINNT
    dce.set_auth_level(level)
    dce.connect()
    dce.bind(uuidtup_to_bin((ECHO, "1.0")))
    return dce


def whoami(dce):
    dce.call(2, b"")
    r = dce.recv()
    ref, max_count, offset, actual = struct.unpack_from("<IIII", r, 0)
    name = r[16:16 + 2 * (actual - 1)].decode("utf-16-le")
    pos = 16 + 2 * actual
    pos += (4 - pos % 4) % 4
    level, svc, result = struct.unpack_from("<iii", r, pos)
    return name, level, svc


def refused(fn):
    try:
        fn()
        return None
    except Exception as e:  # impacket raises DCERPCException or socket errors
        return e


server, port = start(2)
try:
    for level, label in ((2, "CONNECT"), (3, "CALL"), (4, "PKT"),
                         (5, "PKT_INTEGRITY"), (6, "PKT_PRIVACY")):
        dce = bind(port, level)
        data = bytes((i * 7 + level) & 0xFF for i in range(1 << 20))
        dce.call(0, struct.pack("<II", len(data), len(data)) + data)
        r = dce.recv()
        n = struct.unpack_from("<I", r, 0)[0]
        check(n == len(data) and r[4:4 + n] == data,
              "%s: Echo 1 MiB (fragmented both ways)" % label)
        dce.call(1, struct.pack("<ii", 20, 22))
        check(struct.unpack_from("<ii", dce.recv(), 0) == (42, 0), "%s: Add 20 + 22" % label)
        name, got_level, svc = whoami(dce)
        check(name == domain + "\\alice" and got_level == level and svc == 10,
              "%s: WhoAmI -> %r level %d svc %d" % (label, name, got_level, svc))
        dce.disconnect()

    e = refused(lambda: whoami(bind(port, 6, password="wrong")))
    check(e is not None, "wrong password refused: %s" % type(e).__name__)
    e = refused(lambda: whoami(bind(port, 6, user="mallory")))
    check(e is not None, "unknown user refused: %s" % type(e).__name__)
    e = refused(lambda: whoami(bind(port, 6, ntlmv2=False)))
    check(e is not None, "an NTLMv1 logon is refused by default: %s" % type(e).__name__)
    e = refused(lambda: whoami(bind(port, 2, user="", password="")))
    check(e is not None, "anonymous NTLM bind refused at minimum level CONNECT: %s"
          % type(e).__name__)
finally:
    server.terminate()
    _, err = server.communicate(timeout=10)
check("wrong password" in err and "mallory refused: unknown user" in err and "anonymous" in err,
      "every refusal is logged with its reason")
check(PASSWORD not in err, "the password never reaches the log")

server, port = start(6)
try:
    def level5():
        dce = bind(port, 5)
        return whoami(dce)
    e = refused(level5)
    check(e is not None and "access_denied" in str(e).lower(),
          "--min-auth-level 6 refuses level 5: %s" % e)
    name, got_level, _ = whoami(bind(port, 6))
    check(got_level == 6 and name.endswith("\\alice"), "--min-auth-level 6 serves level 6")
finally:
    server.terminate()
    _, err = server.communicate(timeout=10)
check("below the interface's minimum 6" in err, "the refusal of level 5 is logged")

# Where unauthenticated calls are allowed, an NTLM null session is served as
# ANONYMOUS LOGON.
server, port = start(1)
try:
    name, got_level, svc = whoami(bind(port, 2, user="", password=""))
    check(name == "NT AUTHORITY\\ANONYMOUS LOGON" and got_level == 2 and svc == 10,
          "anonymous NTLM at minimum level NONE -> %r level %d" % (name, got_level))
finally:
    server.terminate()
    server.communicate(timeout=10)

# Windows's LmCompatibilityLevel below 5 lets NTLMv1 in, and says so.
comcfg("reg", "set", "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa",
       "LmCompatibilityLevel", "REG_DWORD", "2")
server, port = start(2)
try:
    dce = bind(port, 6, ntlmv2=False)
    name, got_level, _ = whoami(dce)
    data = bytes(range(256)) * 64
    dce.call(0, struct.pack("<II", len(data), len(data)) + data)
    r = dce.recv()
    check(name.endswith("\\alice") and got_level == 6 and r[4:4 + len(data)] == data,
          "with LmCompatibilityLevel 2, impacket's NTLMv1 works at PKT_PRIVACY")
finally:
    server.terminate()
    _, err = server.communicate(timeout=10)
check("WEAK: NTLMv1 responses are accepted (LmCompatibilityLevel 2)" in err and
      "WEAK: accepted an NTLMv1 logon of" in err, "allowing and using NTLMv1 is logged")
sys.exit(1 if failures else 0)
