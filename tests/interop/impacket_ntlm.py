#!/usr/bin/python3
"""Interop: impacket's NTLM against comsec-echo-server (issue 5).

Creates a store with an account, starts the echo server with it, and has
impacket, an independent NTLMSSP and DCE/RPC implementation, bind with NTLM
at CONNECT, CALL, PKT, PKT_INTEGRITY and PKT_PRIVACY and call all three
IComsecEcho operations (WhoAmI must name the account and the level). A
wrong password, an unknown user, an anonymous bind and impacket's unsigned
CALL/PKT requests are refused with fault 5, and a good association is served
after each; a server with --min-auth-level 6 refuses level 5 and serves
level 6; an anonymous logon is credited CONNECT whatever it bound at.
Usage: impacket_ntlm.py ECHO_SERVER COMCFG WORKDIR. Exit 0 on success.
"""
import os
import struct
import subprocess
import sys

from impacket.dcerpc.v5 import rpcrt, transport
from impacket.uuid import uuidtup_to_bin

from refusal import NCA_S_FAULT_ACCESS_DENIED as ACCESS_DENIED, refusal, refused


class WireLevelTrailer(rpcrt.SEC_TRAILER):
    """impacket sends no verifier at CALL and PKT, which comsec refuses as
    Windows does; Windows clients sign there. With `wire_level` set, impacket
    runs its PKT_INTEGRITY code (keys, signatures) while every sec_trailer it
    writes, the signed bytes included, says CALL or PKT: the client Windows
    would be."""
    wire_level = None

    def getData(self):
        if (WireLevelTrailer.wire_level is not None and
                self["auth_level"] == rpcrt.RPC_C_AUTHN_LEVEL_PKT_INTEGRITY):
            self["auth_level"] = WireLevelTrailer.wire_level
        return super().getData()


rpcrt.SEC_TRAILER = WireLevelTrailer

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


def bind(port, level, user="alice", password=PASSWORD, dom="", ntlmv2=True,
         signed=True):
    """An NTLM association at `level`; at CALL and PKT its requests carry
    verifiers (as Windows clients' do) unless `signed` is False (impacket's
    own habit)."""
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % port)
    t.set_credentials(user, password, dom, "", "")
    if not ntlmv2:
        t.doesSupportNTLMv2 = lambda: False  # impacket's NTLMv1 (with ESS)
    dce = t.get_dce_rpc()
    dce.set_auth_type(10)  # RPC_C_AUTHN_WINNT
    WireLevelTrailer.wire_level = None
    if level in (3, 4) and signed:
        WireLevelTrailer.wire_level = level
        level = rpcrt.RPC_C_AUTHN_LEVEL_PKT_INTEGRITY
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


def serves(port):
    """A fresh, good association still gets answers."""
    try:
        name, got_level, _ = whoami(bind(port, 6))
        return name == domain + "\\alice" and got_level == 6
    except Exception as e:
        print("     good call failed: %s" % e)
        return False


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

    # A refused logon gets no reply to its auth3 (as on Windows and Samba);
    # its first request is answered with fault 5 and the connection closed.
    for what, args in (("a wrong password", dict(password="wrong")),
                       ("an unknown user", dict(user="mallory")),
                       ("an NTLMv1 logon (refused by default)", dict(ntlmv2=False)),
                       ("an anonymous logon at minimum level CONNECT",
                        dict(user="", password="", level=2))):
        level = args.pop("level", 6)
        e = refused(lambda: whoami(bind(port, level, **args)))
        check(e is not None and refusal(e) == ACCESS_DENIED,
              "%s is refused with fault 5: %s" % (what, e and refusal(e)))
        check(serves(port), "after %s, a good association is served" % what)
    # impacket's own CALL and PKT requests carry no verifier: refused as
    # Windows refuses them, and the server goes on serving.
    for level in (3, 4):
        e = refused(lambda: whoami(bind(port, level, signed=False)))
        check(e is not None and refusal(e) == ACCESS_DENIED,
              "level %d without verifiers is refused with fault 5: %s"
              % (level, e and refusal(e)))
        check(serves(port), "after level %d without verifiers, a good association "
              "is served" % level)
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
    check(e is not None and refusal(e) == ACCESS_DENIED,
          "--min-auth-level 6 refuses level 5 with fault 5: %s" % (e and refusal(e),))
    check(serves(port), "after refusing level 5, level 6 is served")
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
    # Its keys derive from no secret: bound at PKT_PRIVACY it is still
    # credited CONNECT.
    name, got_level, svc = whoami(bind(port, 6, user="", password=""))
    check(name == "NT AUTHORITY\\ANONYMOUS LOGON" and got_level == 2,
          "anonymous NTLM bound at PKT_PRIVACY is credited level %d" % got_level)
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
