#!/usr/bin/python3
"""Interop: private (secure) references on the wire, driven by impacket's
DCOM structures (impacket.dcerpc.v5.dcomrt RemAddRef / RemRelease with
REMINTERFACEREF built by hand, cPrivateRefs included) against
comsec-hello-server's exporter, as two NTLM accounts of its store (alice,
bob) at PKT_PRIVACY:

  * alice takes a private reference on the printed object's IPID
    (RemAddRef cPublicRefs 0, cPrivateRefs 1: S_OK, pResults [0]);
  * bob releases 1000 public and 1000 private references on it
    (RemRelease: S_OK, counts clamped, [MS-DCOM] 3.1.1.5.6.1.3), and
    alice's Greet is still served (case 45's shape);
  * alice releases her private reference (S_OK);
  * RemAddRef of an IPID the server never issued: CO_E_OBJNOTREG
    0x800401FB ([MS-DCOM] 3.1.1.5.6.1.2);
  * the server still serves (Greet, ResolveOxid2).
The server marshals its object table-strong, so the object's lifetime is
not at stake here: tests/com/secure_refs_test.cc (SecureRefs.Case45_*)
shows the object surviving with secure references and going without.
Exit 0 on success.
"""
import os
import struct
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from hello_support import Report, Store, read_objref  # noqa: E402

from impacket.dcerpc.v5 import dcomrt, transport  # noqa: E402
from impacket.dcerpc.v5.dcomrt import OBJREF_STANDARD, ORPCTHIS, ORPCTHAT  # noqa: E402
from impacket.dcerpc.v5.dtypes import LPWSTR, WSTR, LONG, NULL  # noqa: E402
from impacket.dcerpc.v5.ndr import NDRCALL  # noqa: E402
from impacket.dcerpc.v5.rpcrt import (DCERPCException, RPC_C_AUTHN_LEVEL_PKT_PRIVACY,  # noqa: E402
                                      RPC_C_AUTHN_WINNT)
from impacket.uuid import string_to_bin  # noqa: E402

server_path, comcfg_path, workdir = sys.argv[1:4]
IID_IComsecHello = string_to_bin("7d2a5e10-3c4b-4f6a-9b8c-1d2e3f405162")
PASSWORDS = {"alice": "Secure#Refs1", "bob": "Secure#Refs2"}
report = Report()
check = report.check


class Greet(NDRCALL):
    opnum = 3
    structure = (("ORPCthis", ORPCTHIS), ("name", WSTR))


class GreetResponse(NDRCALL):
    structure = (("ORPCthat", ORPCTHAT), ("greeting", LPWSTR), ("ErrorCode", LONG))


def orpcthis():
    this = ORPCTHIS()
    this["version"]["MajorVersion"] = 5
    this["version"]["MinorVersion"] = 7
    this["cid"] = uuid.uuid4().bytes
    this["extensions"] = NULL
    return this


def resolver_address(raw):
    """The OBJREF's first TCP resolver binding, "127.0.0.1[port]"."""
    dsa = dcomrt.DUALSTRINGARRAYPACKED(OBJREF_STANDARD(raw)["saResAddr"])
    words = list(struct.unpack("<%dH" % (len(dsa["aStringArray"]) // 2), dsa["aStringArray"]))
    i = 0
    while i < dsa["wSecurityOffset"] and words[i] != 0:
        tower, start = words[i], i + 1
        i = start
        while words[i] != 0:
            i += 1
        if tower == 7:
            return "".join(chr(w) for w in words[start:i])
        i += 1
    raise SystemExit("the OBJREF names no TCP resolver binding")


def association(address, user, domain, iid):
    """An association as `user` at PKT_PRIVACY with NTLM, bound to `iid`."""
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:" + address)
    t.set_credentials(user, PASSWORDS[user], domain)
    dce = t.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    dce.bind(iid)
    return dce


def refs(ipid, public, private):
    r = dcomrt.REMINTERFACEREF()
    r["ipid"] = ipid
    r["cPublicRefs"] = public
    r["cPrivateRefs"] = private
    return r


def rem_add_ref(dce, rem_unknown, ipid, public, private):
    req = dcomrt.RemAddRef()
    req["ORPCthis"] = orpcthis()
    req["cInterfaceRefs"] = 1
    req["InterfaceRefs"].append(refs(ipid, public, private))
    resp = dce.request(req, uuid=rem_unknown)
    return resp["ErrorCode"] & 0xFFFFFFFF, [r["Data"] & 0xFFFFFFFF for r in resp["pResults"]]


def rem_release(dce, rem_unknown, ipid, public, private):
    req = dcomrt.RemRelease()
    req["ORPCthis"] = orpcthis()
    req["cInterfaceRefs"] = 1
    req["InterfaceRefs"].append(refs(ipid, public, private))
    return dce.request(req, uuid=rem_unknown)["ErrorCode"] & 0xFFFFFFFF


def greet(dce, ipid, name):
    req = Greet()
    req["ORPCthis"] = orpcthis()
    req["name"] = name + "\x00"
    return dce.request(req, uuid=ipid)["greeting"].rstrip("\x00")


store = Store(comcfg_path, workdir)
domain = store.add_user("alice", PASSWORDS["alice"])
store.add_user("bob", PASSWORDS["bob"])
store.allow_callers("{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}")
server = subprocess.Popen([server_path, "--store", store.path, "--print-objref"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    raw = bytes.fromhex(read_objref(server))
    objref = OBJREF_STANDARD(raw)
    ipid = objref["std"]["ipid"]
    address = resolver_address(raw)

    # The OXID's IRemUnknown, as a DCOM client resolves it.
    resolver = association(address, "alice", domain, dcomrt.IID_IObjectExporter)
    req = dcomrt.ResolveOxid2()
    req["pOxid"] = objref["std"]["oxid"]
    req["cRequestedProtseqs"] = 1
    req["arRequestedProtseqs"].append(7)
    resolved = resolver.request(req)
    check(resolved["ErrorCode"] == 0, "ResolveOxid2 status 0")
    rem_unknown = resolved["pipidRemUnknown"]

    alice = association(address, "alice", domain, dcomrt.IID_IRemUnknown)
    alice_hello = association(address, "alice", domain, IID_IComsecHello)
    bob = association(address, "bob", domain, dcomrt.IID_IRemUnknown)

    hr, results = rem_add_ref(alice, rem_unknown, ipid, 0, 1)
    check(hr == 0 and results == [0], "alice's private RemAddRef: %#x %r" % (hr, results))
    hr = rem_release(bob, rem_unknown, ipid, 1000, 1000)
    check(hr == 0, "bob's RemRelease of 1000 public and 1000 private refs: %#x" % hr)
    try:
        text = greet(alice_hello, ipid, "alice")
        check(text.startswith("Hello, alice, from "),
              "case 45: alice's object survives bob's release: %r" % text)
    except DCERPCException as e:
        check(False, "case 45: alice's object survives bob's release: %s" % e)

    hr = rem_release(alice, rem_unknown, ipid, 0, 1)
    check(hr == 0, "alice releases her private reference: %#x" % hr)
    try:
        rem_add_ref(alice, rem_unknown, uuid.uuid4().bytes, 1, 0)
        check(False, "RemAddRef of an IPID never issued fails")
    except dcomrt.DCERPCSessionError as e:
        # impacket raises for the call's HRESULT (the entry's, here).
        check(e.get_error_code() & 0xFFFFFFFF == 0x800401FB,
              "RemAddRef of an IPID never issued: %s" % e)

    # The server still serves.
    check(greet(alice_hello, ipid, "again").startswith("Hello, again, from "),
          "the server serves on: Greet")
    again = resolver.request(req)
    check(again["ErrorCode"] == 0, "the server serves on: ResolveOxid2 status 0")
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
report.exit()
