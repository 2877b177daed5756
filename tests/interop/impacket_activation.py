#!/usr/bin/python3
"""Interop: impacket's own DCOMConnection(...).CoCreateInstanceEx against
comsecd as the SCM on 127.0.0.1:135 (issue 15, "Must show").

The examples/hello class is registered with comcfg (LocalServer32 =
comsec-hello-server --embedding, AppID 7d2a5e12-..., RunAs absent: As
Activator); alice is a store account mapped to the Unix user nobody. Then,
with impacket only:
  * at PKT_INTEGRITY and at PKT_PRIVACY alice's CoCreateInstanceEx makes
    comsecd launch the server as nobody, and returns an IComsecHello on
    which Greet and WhoAmI work (WhoAmI: DOMAIN\\alice, the level, and the
    server's uid, nobody's); IRemUnknown's RemQueryInterface answers
    E_NOINTERFACE for an interface the object lacks; RemRelease;
  * the second activation reuses the running multiple-use server (one
    activation.launched event in all);
  * mallory, outside the launch ACL, gets rpc_s_access_denied and exactly
    one activation.denied audit event (who, rule, ACE, remedy, explain
    command, Windows event 10016); the explain command, run here, says
    "denied"; the remedy applied, mallory's next activation succeeds;
  * case 23: an activation at CONNECT (what an RPC relay can offer) is
    refused with the hardening rule and event 10036; with the hardening
    weakened explicitly by comcfg the same run succeeds, and comsecd logs
    the weakened activation (activation.below_hardening);
  * the SCM's reserved opnums 0-2 fault nca_s_op_rng_error, and comsecd
    still activates afterwards.
Exit 0 on success.
"""
import json
import os
import pwd
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hello_support import Report, Store  # noqa: E402
from impacket_hello_types import EventLog, IComsecHello, IID_IComsecHello  # noqa: E402

from impacket.dcerpc.v5 import dcomrt, transport  # noqa: E402
from impacket.dcerpc.v5.dcomrt import DCOMConnection, ORPCTHIS  # noqa: E402
from impacket.dcerpc.v5.dtypes import NULL  # noqa: E402
from impacket.dcerpc.v5.ndr import NDRCALL  # noqa: E402
from impacket.dcerpc.v5.rpcrt import (DCERPCException, RPC_C_AUTHN_LEVEL_CONNECT,  # noqa: E402
                                      RPC_C_AUTHN_LEVEL_PKT_INTEGRITY,
                                      RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
from impacket.uuid import string_to_bin, uuidtup_to_bin  # noqa: E402

comsecd_path, built_server, comcfg_path, workdir = sys.argv[1:5]
# The server runs as nobody, who may not traverse the build tree (a clone
# under /root): it and the store live in a world-readable directory of
# their own under /tmp, removed at the end.
import shutil  # noqa: E402
import tempfile  # noqa: E402
workdir = tempfile.mkdtemp(prefix="comsec-activation-")
os.chmod(workdir, 0o755)
server_path = os.path.join(workdir, "comsec-hello-server")
shutil.copy2(built_server, server_path)
os.chmod(server_path, 0o755)
CLSID = "{7d2a5e11-3c4b-4f6a-9b8c-1d2e3f405162}"
APPID = "{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}"
CLSID_ComsecHello = string_to_bin(CLSID[1:-1])
IID_IDispatch = string_to_bin("00020400-0000-0000-c000-000000000046")
PASSWORDS = {"alice": "Activate#Alice1", "mallory": "Activate#Mallory1"}
NOBODY = pwd.getpwnam("nobody").pw_uid
report = Report()
check = report.check


comcfg = Store(comcfg_path, os.path.join(workdir, "store"))
store = comcfg.path
# The server runs as nobody: it must read the policy store (not the
# secrets file, which only comsecd reads).
os.chmod(os.path.dirname(store), 0o755)
os.chmod(store, 0o644)
domain = None
for name, password in PASSWORDS.items():
    domain = comcfg.add_user(name, password)
comcfg("user", "set", "alice", "--unix-user", "nobody")
comcfg("user", "set", "mallory", "--unix-user", "nobody")
comcfg("class", "register", "--clsid", CLSID, "--appid", APPID, "--name", "ComsecHello",
       "--local-server", server_path + " --embedding --log-format json")
comcfg("app", "set", APPID, "AuthenticationLevel", "5")
for who in ("alice",):
    comcfg("perms", "grant", "launch", "--appid", APPID, "--principal", domain + "\\" + who,
           "--rights", "execute_remote,activate_remote")
comcfg("perms", "grant", "machine-launch-limit", "--principal", "AU",
       "--rights", "execute_remote,activate_remote")
comcfg("perms", "grant", "access", "--appid", APPID, "--principal", "AU",
       "--rights", "execute_local,execute_remote")

comsecd = subprocess.Popen([comsecd_path, "--store", store, "--listen", "ncacn_ip_tcp:127.0.0.1[135]",
                            "--listen", "ncalrpc:[%s/epmapper]" % workdir, "--log-format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
log = None


def named(name):
    return log.named(name)


def wait_named(name, count, timeout=5):
    return log.wait_named(name, count, timeout)


def comcfg_command(line):
    argv = shlex.split(line)
    assert argv[0] == "comcfg", line
    env = dict(os.environ, COMSEC_STORE=store)
    return subprocess.run([comcfg_path] + argv[1:], capture_output=True, text=True, env=env)


def activate(user, level):
    """(caller, level, uid, greeting) from a fresh activation, or the error."""
    dcom = DCOMConnection("127.0.0.1", user, PASSWORDS[user], domain, authLevel=level,
                          oxidResolver=True)
    try:
        try:
            iface = dcom.CoCreateInstanceEx(CLSID_ComsecHello, IID_IComsecHello)
        except Exception as e:  # noqa: BLE001 - the test reports what happened
            return "activation: " + str(e)
        if level < RPC_C_AUTHN_LEVEL_PKT_INTEGRITY:
            return "activated"
        hello = IComsecHello(iface)
        greeting = hello.Greet("impacket")["greeting"].rstrip("\x00")
        who = hello.WhoAmI()
        # IRemUnknown: an interface the object lacks (its REMQIRESULT's
        # hResult), then the release.
        qi = dcomrt.RemQueryInterface()
        qi["ORPCthis"] = hello.get_cinstance().get_ORPCthis()
        qi["ORPCthis"]["flags"] = 0
        qi["ripid"] = hello.get_iPid()
        qi["cRefs"] = 1
        qi["cIids"] = 1
        one = dcomrt.IID()
        one["Data"] = IID_IDispatch
        qi["iids"].append(one)
        resp = hello.request(qi, dcomrt.IID_IRemUnknown, hello.get_ipidRemUnknown())
        lacks = "0x%08x" % (resp["ppQIResults"]["hResult"] & 0xFFFFFFFF)
        hello.RemRelease()
        return (who["caller"].rstrip("\x00"), who["authnLevel"], who["uid"], greeting, lacks)
    finally:
        try:
            dcom.disconnect()
        except KeyError:  # impacket forgets connections it never made
            pass


try:
    for line in comsecd.stdout:
        if "listening on ncacn_ip_tcp" in line:
            break
    log = EventLog(comsecd.stderr)
    alice = domain + "\\alice"

    for level, name in ((RPC_C_AUTHN_LEVEL_PKT_INTEGRITY, "PKT_INTEGRITY"),
                        (RPC_C_AUTHN_LEVEL_PKT_PRIVACY, "PKT_PRIVACY")):
        r = activate("alice", level)
        # Object calls go at the authentication hint the SCM returned: the
        # AppID's level (5), as impacket's classInstance takes it.
        ok = isinstance(r, tuple) and r[0].lower() == alice.lower() and r[1] == 5 and \
            r[2] == NOBODY and r[3].startswith("Hello, impacket") and r[4] == "0x80004002"
        check(ok, "alice at %s: CoCreateInstanceEx, Greet, WhoAmI (server uid nobody), "
                  "RemQueryInterface E_NOINTERFACE, RemRelease: %r" % (name, r))
    wait_named("activation.launched", 1)
    time.sleep(0.2)  # a second launch, if there were one, is read by now
    launched = named("activation.launched")
    check(len(launched) == 1, "one launch for both activations (multiple-use): %d" % len(launched))
    if launched:
        check(launched[0].get("uid") == str(NOBODY), "launched as nobody: %r" % launched[0])

    # mallory: outside the launch ACL.
    r = activate("mallory", RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    check(isinstance(r, str) and "rpc_s_access_denied" in r, "mallory is refused: %r" % (r,))
    e = wait_named("activation.denied", 1)
    time.sleep(0.2)
    check(len(named("activation.denied")) == 1, "exactly one audit event for the refusal")
    if e is not None:
        check(e.get("principal", "").lower() == (domain + "\\mallory").lower(),
              "the event names mallory: %r" % e.get("principal"))
        check(e.get("reason") == "R113 launch permission", "the rule: %r" % e.get("reason"))
        check(e.get("windows_event") == "10016", "Windows event 10016: %r" % e.get("windows_event"))
        check(e.get("clsid", "").lower() == CLSID.lower(), "the CLSID: %r" % e.get("clsid"))
        remedy = e.get("remedy", "")
        check(remedy.startswith("comcfg perms grant launch --appid ") and "mallory" in remedy,
              "the remedy: %r" % remedy)
        x = comcfg_command(e.get("explain", ""))
        check(x.returncode == 1 and x.stdout.startswith("denied"),
              "explain offline: denied: %r %r" % (e.get("explain"), x.stdout[:200]))
        fix = comcfg_command(remedy)
        check(fix.returncode == 0, "the remedy applies: %r" % fix.stderr)
        r = activate("mallory", RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
        check(isinstance(r, tuple) and r[0].lower() == (domain + "\\mallory").lower(),
              "mallory's next activation succeeds: %r" % (r,))

    # Case 23: CONNECT is what a relay can offer; hardening refuses it.
    before = len(named("activation.denied"))
    r = activate("alice", RPC_C_AUTHN_LEVEL_CONNECT)
    check(isinstance(r, str) and "rpc_s_access_denied" in r, "CONNECT is refused: %r" % (r,))
    e = wait_named("activation.denied", before + 1)
    check(e is not None and e.get("reason") == "R186.3 activation authentication level" and
          e.get("windows_event") == "10036", "the hardening rule, event 10036: %r" % (e,))
    comcfg("machine", "set", "RequireIntegrityActivationAuthenticationLevel", "0")
    r = activate("alice", RPC_C_AUTHN_LEVEL_CONNECT)
    check(r == "activated", "with hardening weakened by comcfg, CONNECT activates: %r" % (r,))
    check(wait_named("activation.below_hardening", 1) is not None,
          "the weakened activation is logged")

    # IUnknown first, as Windows clients ask: the object's identity, then
    # IRemUnknown's RemQueryInterface for IComsecHello.
    dcom = DCOMConnection("127.0.0.1", "alice", PASSWORDS["alice"], domain,
                          authLevel=RPC_C_AUTHN_LEVEL_PKT_PRIVACY, oxidResolver=True)
    try:
        unknown = dcom.CoCreateInstanceEx(CLSID_ComsecHello, dcomrt.IID_IUnknown)
        hello = IComsecHello(unknown.RemQueryInterface(1, (IID_IComsecHello,)))
        g = hello.Greet("unknown")["greeting"].rstrip("\x00")
        hello.RemRelease()
        unknown.RemRelease()
    except Exception as e:  # noqa: BLE001
        g = str(e)
    finally:
        try:
            dcom.disconnect()
        except KeyError:
            pass
    check(g.startswith("Hello, unknown"), "activation for IID_IUnknown, then QI: %r" % g)

    # IActivation::RemoteActivation (the original interface): several IIDs
    # with per-IID results, the class object (Mode 0xFFFFFFFF), and a
    # persistent activation (a file name) answered E_NOTIMPL.
    def remote_activation(iids, mode=0, object_name=None):
        dcom = DCOMConnection("127.0.0.1", "alice", PASSWORDS["alice"], domain,
                              authLevel=RPC_C_AUTHN_LEVEL_PKT_PRIVACY, oxidResolver=True)
        try:
            dce = dcom.get_dce_rpc()
            dce.bind(dcomrt.IID_IActivation)
            this = ORPCTHIS()
            this["cid"] = os.urandom(16)
            this["extensions"] = NULL
            this["flags"] = 0
            req = dcomrt.RemoteActivation()
            req["ORPCthis"] = this
            req["Clsid"] = CLSID_ComsecHello
            req["pwszObjectName"] = object_name + "\x00" if object_name else NULL
            req["pObjectStorage"] = NULL
            req["ClientImpLevel"] = 2
            req["Mode"] = mode
            req["Interfaces"] = len(iids)
            for i in iids:
                one = dcomrt.IID()
                one["Data"] = i
                req["pIIDs"].append(one)
            req["cRequestedProtseqs"] = 1
            req["aRequestedProtseqs"].append(7)
            resp = dce.request(req, checkError=False)
            return (resp["phr"] & 0xFFFFFFFF, [r["Data"] & 0xFFFFFFFF for r in resp["pResults"]],
                    resp["ErrorCode"])
        except Exception as e:  # noqa: BLE001
            return str(e)
        finally:
            try:
                dcom.disconnect()
            except KeyError:
                pass

    r = remote_activation([IID_IComsecHello, IID_IDispatch])
    check(isinstance(r, tuple) and r[0] == 0 and r[1] == [0, 0x80004002] and r[2] == 0,
          "RemoteActivation: phr 0, IComsecHello S_OK, IDispatch E_NOINTERFACE: %r" % (r,))
    r = remote_activation([string_to_bin("00000001-0000-0000-c000-000000000046")],
                          mode=0xFFFFFFFF)
    check(isinstance(r, tuple) and r[0] == 0 and r[1] == [0],
          "RemoteActivation Mode 0xFFFFFFFF: the class object as IClassFactory: %r" % (r,))
    r = remote_activation([IID_IComsecHello], object_name="C:\\file.dat")
    check(isinstance(r, tuple) and r[0] == 0x80004001,
          "RemoteActivation of a file (persistent activation): E_NOTIMPL: %r" % (r,))

    # The reserved opnums, then the SCM still serves.
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[135]")
    dce = t.get_dce_rpc()
    dce.connect()
    dce.bind(uuidtup_to_bin(("000001A0-0000-0000-C000-000000000046", "0.0")))
    for opnum in (0, 1, 2):
        class Reserved(NDRCALL):
            structure = ()
        Reserved.opnum = opnum
        try:
            dce.request(Reserved())
            got = "answered"
        except DCERPCException as ex:
            got = str(ex)
        check("nca_s_op_rng_error" in got, "opnum %d: nca_s_op_rng_error: %r" % (opnum, got))
    dce.disconnect()
    r = activate("alice", RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    check(isinstance(r, tuple), "comsecd still activates: %r" % (r,))
finally:
    comsecd.terminate()
    try:
        comsecd.wait(timeout=10)
    except subprocess.TimeoutExpired:
        comsecd.kill()
    # The servers comsecd launched run on until stopped.
    subprocess.run(["pkill", "-f", server_path + " --embedding"], check=False)
    shutil.rmtree(workdir, ignore_errors=True)
if report.failures and log is not None:
    for e in log.events:
        print("event:", json.dumps(e))
report.exit()
