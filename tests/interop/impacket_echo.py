#!/usr/bin/python3
"""Interop: impacket, an independent DCE/RPC client, calls comsec-echo-server.

Starts comsecd and the server on free loopback ports; the server registers
with comsecd's endpoint mapper and impacket's hept_map finds it. Binds with
impacket (no
authentication; impacket_ntlm.py does NTLM), calls IComsecEcho's three
operations and rpcecho's operations, checks that a bind to an unknown
interface is rejected with provider_rejection / abstract_syntax_not_supported
and an opnum out of range faults nca_s_op_rng_error, the server serving on
after each, then stops the server. Exit 0 on success.
"""
import struct
import shutil
import subprocess
import tempfile
import sys

from impacket.dcerpc.v5 import transport
from impacket.uuid import uuidtup_to_bin

from refusal import (ABSTRACT_SYNTAX_NOT_SUPPORTED, NCA_S_OP_RNG_ERROR, refusal,
                     refused)

server_path = sys.argv[1]
comsecd_path = sys.argv[2]
# comsecd's endpoint mapper on a free port, where impacket looks up, and on
# ncalrpc in a private directory, where the echo server registers.
rpc_dir = tempfile.mkdtemp(prefix="comsec-impacket-echo-")
epm_local = "ncalrpc:%s/epmapper" % rpc_dir
comsecd = subprocess.Popen(
    [comsecd_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--listen", epm_local],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
epm_binding = comsecd.stdout.readline().strip().replace("listening on ", "")
epm_port = int(epm_binding.split("[")[1].rstrip("]"))
comsecd.stdout.readline()  # listening on the ncalrpc endpoint
server = subprocess.Popen(
    [server_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
     "--endpoint-mapper", epm_local],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


try:
    line = server.stdout.readline().strip()
    binding = line.replace("listening on ", "")
    port = int(binding.split("[")[1].rstrip("]"))
    registered = server.stdout.readline().strip()
    check(registered.startswith("registered with"), "echo server registered: " + registered)

    # impacket's ept_map against comsecd finds the echo server's port.
    from impacket.dcerpc.v5 import epm
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % epm_port)
    mapper = t.get_dce_rpc()
    mapper.connect()
    mapped = epm.hept_map("127.0.0.1", uuidtup_to_bin(
        ("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21", "1.0")),
        protocol="ncacn_ip_tcp", dce=mapper)
    check(mapped == "ncacn_ip_tcp:127.0.0.1[%d]" % port,
          "impacket hept_map via comsecd -> %s" % mapped)
    # rpcdump's view: ept_lookup lists both interfaces with their annotation.
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % epm_port)
    lookup_dce = t.get_dce_rpc()
    lookup_dce.connect()
    entries = epm.hept_lookup(None, dce=lookup_dce)
    listed = sorted(str(e["tower"]["Floors"][0]) for e in entries)
    check(len(entries) == 2 and all(e["annotation"].startswith(b"comsec-echo-server")
                                    for e in entries),
          "impacket hept_lookup lists %s" % listed)

    def connect(iface, version="1.0"):
        t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % port)
        dce = t.get_dce_rpc()
        dce.connect()
        dce.bind(uuidtup_to_bin((iface, version)))
        return dce

    dce = connect("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21")
    # Echo: n, conformant byte array.
    data = bytes((i * 13) & 0xFF for i in range(10000))
    dce.call(0, struct.pack("<II", len(data), len(data)) + data)
    r = dce.recv()
    n = struct.unpack_from("<I", r, 0)[0]
    check(n == len(data) and r[4:4 + n] == data, "IComsecEcho.Echo 10000 bytes")
    # Add.
    dce.call(1, struct.pack("<ii", 2, 40))
    r = dce.recv()
    check(struct.unpack_from("<ii", r, 0) == (42, 0), "IComsecEcho.Add 2 + 40")
    # WhoAmI: referent, conformant-varying wstring, level, service, result.
    dce.call(2, b"")
    r = dce.recv()
    ref, max_count, offset, actual = struct.unpack_from("<IIII", r, 0)
    name = r[16:16 + 2 * (actual - 1)].decode("utf-16-le")
    pos = 16 + 2 * actual
    pos += (4 - pos % 4) % 4
    level, svc, result = struct.unpack_from("<iii", r, pos)
    check(ref != 0 and name == "NT AUTHORITY\\ANONYMOUS LOGON" and level == 1,
          "IComsecEcho.WhoAmI -> %r level %d" % (name, level))
    def opnum7():
        dce.call(7, b"")
        dce.recv()
    e = refused(opnum7)
    check(refusal(e) == NCA_S_OP_RNG_ERROR,
          "opnum 7 faults nca_s_op_rng_error: %s" % (refusal(e),))
    # Case 9: the connection stays usable after the fault.
    dce.call(1, struct.pack("<ii", 1, 2))
    check(struct.unpack_from("<ii", dce.recv(), 0) == (3, 0),
          "after the fault the same association is served")

    echo = connect("60a15ec5-4de8-11d7-a637-005056a20182")
    echo.call(0, struct.pack("<I", 41))
    check(struct.unpack_from("<I", echo.recv(), 0)[0] == 42, "rpcecho.AddOne(41)")
    payload = b"hello comsec"
    echo.call(1, struct.pack("<II", len(payload), len(payload)) + payload)
    r = echo.recv()
    check(r[4:4 + len(payload)] == payload, "rpcecho.EchoData")
    echo.call(3, struct.pack("<I", 300))
    r = echo.recv()
    check(r[4:304] == bytes(i & 0xFF for i in range(300)), "rpcecho.SourceData(300)")

    # TestSurrounding: conformant struct {x, uint16[x]} comes back doubled.
    echo.call(8, struct.pack("<II", 3, 3) + struct.pack("<HHH", 1, 2, 3) + b"\0\0")
    r = echo.recv()
    check(struct.unpack_from("<II", r, 0) == (6, 6) and r[8:20] == b"\0" * 12,
          "rpcecho.TestSurrounding(x=3) -> x=6")
    # TestDoublePointer: two referent ids, then the value.
    echo.call(9, struct.pack("<IIH", 0x20000, 0x20004, 13))
    check(struct.unpack_from("<H", echo.recv(), 0)[0] == 13,
          "rpcecho.TestDoublePointer(13)")
    # TestCall2: a uint16-discriminated union, arms at their own alignment.
    echo.call(5, struct.pack("<H", 1))
    check(echo.recv() == struct.pack("<HB", 1, 10) + b"\0" + struct.pack("<I", 0),
          "rpcecho.TestCall2(1)")
    echo.call(5, struct.pack("<H", 4))
    check(echo.recv() == struct.pack("<H6xQI", 4, 40, 0), "rpcecho.TestCall2(4)")
    echo.call(5, struct.pack("<H", 5))
    check(echo.recv() == struct.pack("<H6xB7xQI", 5, 50, 60, 0), "rpcecho.TestCall2(5)")
    # TestEnum: foo1 = ECHO_ENUM2, foo2 {e1, e2}, foo3 arm 2.
    # foo1 (u16) | foo2 {e1 u16, e2 u32} aligned 4 | foo3: u16 arm 2, echo_Enum2.
    echo.call(7, struct.pack("<H2xH2xIH2xH2xI", 2, 1, 7, 2, 1, 9))
    r = echo.recv()
    check(struct.unpack_from("<H2xH2xIH2xH2xI", r, 0) == (2, 2, 7, 2, 1, 9),
          "rpcecho.TestEnum sets foo2.e1 = ECHO_ENUM2")
    echo.call(2, struct.pack("<II", 5, 5) + b"sink!")
    check(echo.recv() == b"", "rpcecho.SinkData")

    e = refused(lambda: connect("99999999-9999-9999-9999-999999999999"))
    check(refusal(e) == ABSTRACT_SYNTAX_NOT_SUPPORTED,
          "bind to an unknown interface: provider_rejection, "
          "abstract_syntax_not_supported: %s" % (refusal(e),))
    fresh = connect("60a15ec5-4de8-11d7-a637-005056a20182")
    fresh.call(0, struct.pack("<I", 1))
    check(struct.unpack_from("<I", fresh.recv(), 0)[0] == 2,
          "after the rejected bind a new association is served")
finally:
    # communicate() drains the pipes while waiting, so a daemon never blocks
    # writing its log; a daemon that does not stop is a failure, with its log.
    for name, proc in (("echo server", server), ("comsecd", comsecd)):
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            print("FAIL %s did not stop on SIGTERM; its log:\n%s" % (name, err))
            failures.append(name + " stops")
    shutil.rmtree(rpc_dir, ignore_errors=True)

sys.exit(1 if failures else 0)
