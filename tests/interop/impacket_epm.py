#!/usr/bin/env python3
"""impacket enumerates comsecd's endpoint map (issue 9 item 17).

comsecd listens on loopback TCP and on ncalrpc in a private directory; the
echo server registers 6 entries over ncalrpc. impacket's own ept_lookup
request is looped the way C706's client loops (until EPT_S_NOT_REGISTERED)
with max_ents 2, so the map comes back in three pieces and a fourth call
ends it with that status and a null handle; hept_lookup itself gets
everything in one; ept_lookup_handle_free releases a handle, which then
faults with nca_s_fault_context_mismatch; a lookup matching nothing answers
EPT_S_NOT_REGISTERED with a null handle. comsecd keeps serving throughout.
"""
import shutil
import struct
import subprocess
import sys
import tempfile

from impacket.dcerpc.v5 import epm, transport
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.uuid import uuidtup_to_bin

server_path, comsecd_path = sys.argv[1:3]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def read_line(proc, prefix):
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("process exited: " + proc.stderr.read())
        if line.startswith(prefix):
            return line.strip()


rpc_dir = tempfile.mkdtemp(prefix="comsec-impacket-epm-")
epm_local = "ncalrpc:%s/epmapper" % rpc_dir
comsecd = subprocess.Popen(
    [comsecd_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--listen", epm_local],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
server = None
try:
    epm_tcp = read_line(comsecd, "listening on ncacn_ip_tcp").split("listening on ")[1]
    epm_port = int(epm_tcp.split("[")[1].rstrip("]"))
    server = subprocess.Popen(
        [server_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
         "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
         "--listen", "ncalrpc:%s/echo.sock" % rpc_dir, "--endpoint-mapper", epm_local],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(read_line(server, "registered with").startswith("registered with"),
          "the echo server registered its 6 entries over ncalrpc")

    def connect(bind=True):
        t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % epm_port)
        dce = t.get_dce_rpc()
        dce.connect()
        if bind:
            dce.bind(epm.MSRPC_UUID_PORTMAP)
        return dce

    def lookup(dce, handle, max_ents, check_error=True, ifid=None):
        request = epm.ept_lookup()
        request['inquiry_type'] = (epm.RPC_C_EP_ALL_ELTS if ifid is None
                                   else epm.RPC_C_EP_MATCH_BY_IF)
        request['object'] = epm.NULL
        if ifid is None:
            request['Ifid'] = epm.NULL
        else:
            request['Ifid']['Uuid'] = ifid[:16]
            request['Ifid']['VersMajor'] = ifid[16:][:2]
            request['Ifid']['VersMinor'] = ifid[18:]
        request['vers_option'] = epm.RPC_C_VERS_ALL
        request['entry_handle'] = handle
        request['max_ents'] = max_ents
        return dce.request(request, checkError=check_error)

    def is_null(handle):
        return handle.getData() == b"\x00" * 20

    # C706's client loop, with pieces of 2: until EPT_S_NOT_REGISTERED
    # (0x16c9a0d6), which ends the enumeration with a null handle.
    dce = connect()
    handle = epm.ept_lookup_handle_t()
    pieces, handles, statuses, entries = [], [], [], []
    while len(pieces) < 10:
        resp = lookup(dce, handle, 2, check_error=False)
        pieces.append(resp['num_ents'])
        statuses.append(resp['status'])
        for i in range(resp['num_ents']):
            entries.append(b''.join(resp['entries'][i]['annotation']))
        handle = resp['entry_handle']
        handles.append(not is_null(handle))
        if resp['status'] == 0x16c9a0d6:
            break
    check(pieces == [2, 2, 2, 0], "pieces of max_ents 2, then none: %s" % pieces)
    check(handles == [True, True, True, False],
          "a handle through the last piece, a null one with the end: %s" % handles)
    check(statuses == [0, 0, 0, 0x16c9a0d6],
          "status 0 per piece, then EPT_S_NOT_REGISTERED: %s" % ["%#x" % x for x in statuses])
    check(entries == [b"comsec-echo-server\x00"] * 6, "all 6 entries with their annotation")

    # hept_lookup itself: everything in one piece.
    everything = epm.hept_lookup(None, dce=connect(bind=False))
    check(len(everything) == 6, "hept_lookup lists %d entries" % len(everything))

    # ept_lookup_handle_free (opnum 4) in the middle of an enumeration.
    resp = lookup(dce, epm.ept_lookup_handle_t(), 2)
    handle = resp['entry_handle']
    check(not is_null(handle), "a second enumeration has a handle")
    dce.call(4, handle.getData())
    freed = dce.recv()
    check(freed == b"\x00" * 24, "ept_lookup_handle_free: null handle, status 0")
    try:
        lookup(dce, handle, 2)
        check(False, "the freed handle is refused")
    except DCERPCException as e:
        # impacket names the fault status it received (0x1c00001a).
        check(str(e).strip() == "nca_s_fault_context_mismatch",
              "the freed handle faults: %s" % str(e).strip())

    resp = lookup(dce, epm.ept_lookup_handle_t(), 500)
    check(resp['num_ents'] == 6 and is_null(resp['entry_handle']),
          "the same association still enumerates afterwards")

    # A lookup matching nothing: EPT_S_NOT_REGISTERED and a null handle.
    unknown = uuidtup_to_bin(("99999999-9999-9999-9999-999999999999", "1.0"))
    resp = lookup(connect(), epm.ept_lookup_handle_t(), 10, check_error=False, ifid=unknown)
    check(resp['status'] == 0x16c9a0d6 and resp['num_ents'] == 0 and
          is_null(resp['entry_handle']),
          "nothing matches: status 0x%x, %d entries" % (resp['status'], resp['num_ents']))

    # comsecd still serves: ept_map finds the echo server.
    mapped = epm.hept_map("127.0.0.1", uuidtup_to_bin(
        ("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21", "1.0")), protocol="ncacn_ip_tcp",
        dce=connect(bind=False))
    check(mapped.startswith("ncacn_ip_tcp:127.0.0.1["), "hept_map afterwards -> %s" % mapped)
finally:
    for name, proc in (("echo server", server), ("comsecd", comsecd)):
        if proc is None:
            continue
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
