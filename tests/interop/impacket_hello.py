#!/usr/bin/python3
"""Interop: impacket's DCOM client classes (impacket.dcerpc.v5.dcomrt:
IObjectExporter, INTERFACE, IRemUnknown2) against comsec-hello-server's
exported object (issue 13, "Must show").

Creates a store with an NTLM account, starts comsec-hello-server with it
and --print-objref, and then, with impacket only:
  * decodes the printed OBJREF (OBJREF_STANDARD, IID IComsecHello, the
    exporter's resolver bindings) and resolves its OXID with ResolveOxid2
    at the resolver binding the OBJREF names (string bindings, IRemUnknown's
    IPID, COMVERSION 5.7);
  * at PKT_PRIVACY with NTLM: RemAddRef, RemQueryInterface for IComsecHello
    (and for an interface the object lacks: E_NOINTERFACE), the custom
    method Greet (opnum 3) and WhoAmI (opnum 4, the caller as the server's
    call context sees it: DOMAIN\\alice, level 6), then RemRelease;
  * refusals: an unauthenticated call (level NONE, below the AppID's floor:
    fault nca_s_access_denied / 5), a call to an IPID the server never
    issued (RPC_E_DISCONNECTED 0x80010108), after each the server still
    answering Greet.
Exit 0 on success.
"""
import os
import shutil
import struct
import subprocess
import sys
import uuid

from impacket.dcerpc.v5 import dcomrt, transport
from impacket.dcerpc.v5.dcomrt import (CLASS_INSTANCE, INTERFACE, IObjectExporter,
                                       OBJREF_STANDARD, ORPCTHIS, DCOMConnection)
from impacket.dcerpc.v5.dtypes import NULL
from impacket.dcerpc.v5.rpcrt import (DCERPCException, RPC_C_AUTHN_LEVEL_NONE,
                                      RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_AUTHN_WINNT)
from impacket.uuid import string_to_bin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from impacket_hello_types import Greet, IComsecHello  # noqa: E402

server_path, comcfg_path, workdir = sys.argv[1:4]
from impacket_hello_types import IID_IComsecHello  # noqa: E402
PASSWORD = "Hello#Interop1"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


shutil.rmtree(workdir, ignore_errors=True)
os.makedirs(workdir)
store = os.path.join(workdir, "hello.db")


def comcfg(*args, stdin=None):
    return subprocess.run([comcfg_path, "--store", store] + list(args), input=stdin,
                          capture_output=True, text=True, check=True).stdout


comcfg("init")
comcfg("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
domain = [l for l in comcfg("user", "list").splitlines() if "alice" in l][0].split("\\")[0].split()[-1]
# Every authenticated caller may call the example (R137); unauthenticated
# ones stay refused.
comcfg("app", "create", "--appid", "{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}", "--name", "ComsecHello")
comcfg("perms", "grant", "access", "--appid", "{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}",
       "--principal", "AU", "--rights", "execute_local,execute_remote")
server = subprocess.Popen([server_path, "--store", store, "--print-objref"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_objref():
    for line in server.stdout:
        if line.startswith("objref "):
            return bytes.fromhex(line.split()[1])
    raise RuntimeError("the server printed no OBJREF: " + server.stderr.read())


def orpcthis():
    this = ORPCTHIS()
    this["version"]["MajorVersion"] = 5
    this["version"]["MinorVersion"] = 7
    this["cid"] = uuid.uuid4().bytes
    this["extensions"] = NULL
    return this


try:
    raw = wait_objref()
    objref = OBJREF_STANDARD(raw)
    check(objref["iid"] == IID_IComsecHello, "OBJREF_STANDARD for IComsecHello")
    # The resolver bindings: a packed DUALSTRINGARRAY (wNumEntries,
    # wSecurityOffset, then entries of a tower id and a NUL-terminated
    # UTF-16 address, up to the security offset).
    dsa = dcomrt.DUALSTRINGARRAYPACKED(objref["saResAddr"])
    raw_words = dsa["aStringArray"]
    words = list(struct.unpack("<%dH" % (len(raw_words) // 2), raw_words))
    sec = dsa["wSecurityOffset"]
    addrs, i = [], 0
    while i < sec and words[i] != 0:
        tower, i = words[i], i + 1
        start = i
        while words[i] != 0:
            i += 1
        addrs.append((tower, "".join(chr(w) for w in words[start:i])))
        i += 1
    check(any(t == 7 and a.startswith("127.0.0.1[") for t, a in addrs),
          "OBJREF resolver bindings %r" % addrs)
    resolver = [a for t, a in addrs if t == 7][0]
    port = int(resolver.split("[")[1].rstrip("]"))

    # ResolveOxid2 at that binding, as a DCOM client resolves an OBJREF.
    rt = transport.DCERPCTransportFactory("ncacn_ip_tcp:" + resolver)
    rt.set_credentials("alice", PASSWORD, domain)
    portmap = rt.get_dce_rpc()
    portmap.set_auth_type(RPC_C_AUTHN_WINNT)
    portmap.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    # impacket's ResolveOxid2 connects, binds and returns the bindings...
    string_bindings = IObjectExporter(portmap).ResolveOxid2(objref["std"]["oxid"], (7,))
    check(any(b["wTowerId"] == 7 and b["aNetworkAddr"].startswith("127.0.0.1[")
              for b in string_bindings),
          "ResolveOxid2 bindings %r" % [b["aNetworkAddr"] for b in string_bindings])
    # ...the same request made by hand gives the rest of its answer.
    req = dcomrt.ResolveOxid2()
    req["pOxid"] = objref["std"]["oxid"]
    req["cRequestedProtseqs"] = 1
    req["arRequestedProtseqs"].append(7)
    resolved = portmap.request(req)
    ipid_rem_unknown = resolved["pipidRemUnknown"]
    check(resolved["pComVersion"]["MajorVersion"] == 5 and
          resolved["pComVersion"]["MinorVersion"] == 7, "ResolveOxid2: COMVERSION 5.7")
    check(resolved["ErrorCode"] == 0, "ResolveOxid2 status 0")

    # impacket's DCOM classes over those bindings, at PKT_PRIVACY with NTLM.
    target = "127.0.0.1"
    DCOMConnection.PORTMAPS[target] = portmap
    DCOMConnection.OID_SET.setdefault(target, {"oids": set(), "setid": 0})
    cinstance = CLASS_INSTANCE(orpcthis(), string_bindings)
    cinstance.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    cinstance.set_auth_type(RPC_C_AUTHN_WINNT)
    iface = INTERFACE(cinstance, raw, ipid_rem_unknown, target=target)
    hello = IComsecHello(iface)
    resp = hello.RemAddRef()
    check(resp["ErrorCode"] == 0, "RemAddRef")
    qi = hello.RemQueryInterface(1, (IID_IComsecHello,))
    check(qi.get_iPid() is not None, "RemQueryInterface(IComsecHello) gives an IPID")
    queried = IComsecHello(qi)
    r = queried.Greet("impacket")
    greeting = r["greeting"]
    check(greeting is not None and greeting.rstrip("\x00").startswith("Hello, impacket, from "),
          "Greet at PKT_PRIVACY: %r" % greeting)
    w = queried.WhoAmI()
    check(w["caller"].rstrip("\x00").lower() == (domain + "\\alice").lower() and
          w["authnLevel"] == 6 and w["uid"] == -1,
          "WhoAmI: %r level %d imp %d uid %d" % (w["caller"], w["authnLevel"], w["impLevel"],
                                                 w["uid"]))
    # impacket's RemQueryInterface does not look at the per-IID result:
    # the same request by hand, for an interface the object lacks.
    rq = dcomrt.RemQueryInterface()
    rq["ORPCthis"] = orpcthis()
    rq["ripid"] = hello.get_iPid()
    rq["cRefs"] = 1
    rq["cIids"] = 1
    lacking = dcomrt.IID()
    lacking["Data"] = string_to_bin("00000000-1111-2222-3333-444444444444")
    rq["iids"].append(lacking)
    resp = hello.request(rq, dcomrt.IID_IRemUnknown, ipid_rem_unknown)
    hr = resp["ppQIResults"]["hResult"] & 0xFFFFFFFF
    check(hr == 0x80004002, "RemQueryInterface of an IID the object lacks: %#x" % hr)
    resp = queried.RemRelease()
    check(resp["ErrorCode"] == 0, "RemRelease")

    # Refusal 1: unauthenticated, below the AppID's floor.
    nt = transport.DCERPCTransportFactory(
        "ncacn_ip_tcp:127.0.0.1[%d]" % port).get_dce_rpc()
    nt.set_auth_level(RPC_C_AUTHN_LEVEL_NONE)
    nt.connect()
    nt.bind(IID_IComsecHello + b"\x00\x00\x00\x00")
    req = Greet()
    req["ORPCthis"] = orpcthis()
    req["name"] = "anonymous\x00"
    try:
        nt.request(req, uuid=hello.get_iPid())
        check(False, "an unauthenticated call is refused")
    except DCERPCException as e:
        # impacket reports a fault by its name only: 5 is rpc_s_access_denied.
        check(str(e) == "rpc_s_access_denied", "unauthenticated call refused: %s" % e)
    # Refusal 2: an IPID never issued.
    # (on the association impacket opened, without its request() wrapper,
    # which rewrites this fault's text)
    req = Greet()
    req["ORPCthis"] = orpcthis()
    req["name"] = "nobody\x00"
    try:
        queried.get_dce_rpc().request(req, uuid=uuid.uuid4().bytes)
        check(False, "a call to an IPID never issued is refused")
    except DCERPCException as e:
        # 0x80010108, by its name.
        check(str(e).startswith("RPC_E_DISCONNECTED"), "unknown IPID: %s" % e)
    r = hello.Greet("again")
    check(r["greeting"].rstrip("\x00") == greeting.rstrip("\x00").replace("impacket", "again"),
          "the server serves on after the refusals")
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
