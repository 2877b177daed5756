#!/usr/bin/python3
"""Interop: impacket's IObjectExporter (impacket.dcerpc.v5.dcomrt) against
comsecd's OXID resolver (issue 13).

Starts comsecd on a free loopback port and on ncalrpc in a private
directory, runs oxid_helper (a process that registers an OXID and one OID
over ncalrpc and heartbeats), then with impacket, unauthenticated over TCP:
ServerAlive2 (COMVERSION 5.7, comsecd's string binding 127.0.0.1 and the
NTLM security binding), ResolveOxid2 of the registered OXID (its TCP string
binding only, as asked), ResolveOxid2 of an unknown OXID (OR_INVALID_OXID
0x776), ComplexPing with the OID and an unknown one (ignored), SimplePing,
and SimplePing of an unknown set (OR_INVALID_SET 0x778). Exit 0 on success.
"""
import subprocess
import shutil
import sys
import tempfile

from impacket.dcerpc.v5 import transport, dcomrt
from impacket.dcerpc.v5.rpcrt import DCERPCException

comsecd_path = sys.argv[1]
helper_path = sys.argv[2]
rpc_dir = tempfile.mkdtemp(prefix="comsec-impacket-oxid-")
local = "ncalrpc:%s/epmapper" % rpc_dir
comsecd = subprocess.Popen(
    [comsecd_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--listen", local,
     "--ping-period", "2"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
helper = None
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def exporter(port):
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % port)
    return dcomrt.IObjectExporter(t.get_dce_rpc())


def status_of(call):
    try:
        call()
        return 0
    except DCERPCException as e:
        return e.get_error_code()


try:
    tcp = comsecd.stdout.readline().strip().replace("listening on ", "")
    port = int(tcp.split("[")[1].rstrip("]"))
    comsecd.stdout.readline()  # the ncalrpc endpoint
    helper = subprocess.Popen([helper_path, "-", "-", "register", local, "500"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    oxid = int(helper.stdout.readline().split()[1], 16)
    oid = int(helper.stdout.readline().split()[1], 16)
    check(oxid != 0 and oid != 0, "registered OXID %#x OID %#x" % (oxid, oid))

    # ServerAlive2: impacket returns the string bindings.
    bindings = exporter(port).ServerAlive2()
    addrs = [(b["wTowerId"], b["aNetworkAddr"].rstrip("\x00")) for b in bindings]
    # Not on port 135, so the resolver's own port is part of the address.
    check((7, "127.0.0.1[%d]" % port) in addrs, "ServerAlive2 string bindings %r" % addrs)
    # The whole reply through impacket's NDR, for the version and security.
    dce = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % port).get_dce_rpc()
    dce.connect()
    dce.bind(dcomrt.IID_IObjectExporter)
    resp = dce.request(dcomrt.ServerAlive2())
    check(resp["pComVersion"]["MajorVersion"] == 5 and resp["pComVersion"]["MinorVersion"] == 7,
          "ServerAlive2 COMVERSION 5.7")
    arr = b"".join(x.to_bytes(2, "little") for x in resp["ppdsaOrBindings"]["aStringArray"])
    sec = arr[resp["ppdsaOrBindings"]["wSecurityOffset"] * 2:]
    check(sec[:4] == b"\x0a\x00\xff\xff", "ServerAlive2 security binding NTLM (10, 0xFFFF)")
    check(resp["ErrorCode"] == 0, "ServerAlive2 status 0")
    check(status_of(lambda: exporter(port).ServerAlive()) == 0, "ServerAlive")

    # ResolveOxid2 of the registered OXID, asking for TCP only.
    resolved = exporter(port).ResolveOxid2(oxid, (7,))
    got = [(b["wTowerId"], b["aNetworkAddr"].rstrip("\x00")) for b in resolved]
    check(got == [(7, "127.0.0.1[4242]")], "ResolveOxid2 bindings %r" % got)
    req = dcomrt.ResolveOxid2()
    req["pOxid"] = oxid
    req["cRequestedProtseqs"] = 1
    req["arRequestedProtseqs"].append(7)
    resp = dce.request(req)
    check(str(resp["pipidRemUnknown"]) != "" and
          resp["pComVersion"]["MinorVersion"] == 7 and resp["pAuthnHint"] == 2,
          "ResolveOxid2 IPID, COMVERSION 5.7, authn hint 2")
    check(status_of(lambda: exporter(port).ResolveOxid2(oxid ^ 1, (7,))) == 0x776,
          "ResolveOxid2 of an unknown OXID: OR_INVALID_OXID")

    # Pinging: ComplexPing (impacket's own call), then SimplePing.
    resp = exporter(port).ComplexPing(0, 1, [oid, 0x4141414141414141])
    setid = resp["pSetId"]
    check(resp["ErrorCode"] == 0 and setid != 0,
          "ComplexPing created set %#x (unknown OID ignored)" % setid)
    check(status_of(lambda: exporter(port).SimplePing(setid)) == 0, "SimplePing")
    check(status_of(lambda: exporter(port).SimplePing(setid ^ 1)) == 0x778,
          "SimplePing of an unknown set: OR_INVALID_SET")
    # Still serving.
    check(status_of(lambda: exporter(port).ServerAlive()) == 0, "ServerAlive after refusals")
finally:
    if helper:
        helper.stdin.close()
        helper.wait(timeout=10)
    comsecd.terminate()
    comsecd.wait(timeout=10)
    shutil.rmtree(rpc_dir, ignore_errors=True)
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all passed")
