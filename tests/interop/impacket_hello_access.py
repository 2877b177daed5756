#!/usr/bin/python3
"""Issue 14, "Must show": comsec-hello-server --store S takes its security
from its AppID (7d2a5e12-...) by the implicit CoInitializeSecurity, and
every call passes the access check of R187 — driven by impacket.

The AppID asks for PKT_PRIVACY (AuthenticationLevel 6) and its
AccessPermission grants alice, not mallory. Then:
  * impacket, as alice at PKT_PRIVACY, calls WhoAmI (opnum 4): served;
  * as mallory at PKT_PRIVACY: refused, fault 5 (E_ACCESSDENIED), the
    method never runs; the server still serves alice;
  * the server's com.access_denied event names mallory, the rule (R137
    access permission), the ACE-less refusal, the remedy (a comcfg
    command) and the `comcfg explain access ...` command, which run here
    offline gives the same answer (denied, the access permission failing);
  * the remedy, applied with comcfg while the server runs, lets mallory's
    very next call through — no restart (the policy follows the store);
  * alice below the floor (PKT_INTEGRITY): refused with rule R187.1.
Exit 0 on success.
"""
import json
import os
import shlex
import subprocess
import sys
import threading
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from hello_support import Report, Store, read_objref  # noqa: E402

from impacket.dcerpc.v5 import transport  # noqa: E402
from impacket.dcerpc.v5.dcomrt import OBJREF_STANDARD, ORPCTHAT, ORPCTHIS  # noqa: E402
from impacket.dcerpc.v5.dtypes import LONG, LPWSTR, NULL  # noqa: E402
from impacket.dcerpc.v5.ndr import NDRCALL  # noqa: E402
from impacket.dcerpc.v5.rpcrt import (DCERPCException, RPC_C_AUTHN_LEVEL_PKT_INTEGRITY,  # noqa: E402
                                      RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_AUTHN_WINNT)
from impacket.uuid import string_to_bin  # noqa: E402

server_path, comcfg_path, workdir = sys.argv[1:4]
APPID = "{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}"
IID_IComsecHello = string_to_bin("7d2a5e10-3c4b-4f6a-9b8c-1d2e3f405162")
PASSWORDS = {"alice": "Access#Alice1", "mallory": "Access#Mallory1"}
report = Report()
check = report.check


class WhoAmI(NDRCALL):
    opnum = 4
    structure = (("ORPCthis", ORPCTHIS),)


class WhoAmIResponse(NDRCALL):
    structure = (("ORPCthat", ORPCTHAT), ("caller", LPWSTR), ("authnLevel", LONG),
                 ("impLevel", LONG), ("uid", LONG), ("ErrorCode", LONG))


def orpcthis():
    this = ORPCTHIS()
    this["version"]["MajorVersion"] = 5
    this["version"]["MinorVersion"] = 7
    this["cid"] = uuid.uuid4().bytes
    this["extensions"] = NULL
    return this


comcfg = Store(comcfg_path, workdir)
store = comcfg.path
domain = None
for name, password in PASSWORDS.items():
    domain = comcfg.add_user(name, password)
comcfg("app", "create", "--appid", APPID, "--name", "ComsecHello")
comcfg("app", "set", APPID, "AuthenticationLevel", "6")
comcfg("perms", "grant", "access", "--appid", APPID, "--principal", domain + "\\alice",
       "--rights", "execute_local,execute_remote")

server = subprocess.Popen([server_path, "--store", store, "--print-objref", "--log-format", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
events = []
events_cv = threading.Condition()


def read_events():
    for line in server.stderr:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        with events_cv:
            events.append(e)
            events_cv.notify_all()


threading.Thread(target=read_events, daemon=True).start()


def denial(count, timeout=5):
    """The `count`th com.access_denied event (1-based), waiting for it."""
    with events_cv:
        events_cv.wait_for(lambda: len([e for e in events if e["event"] == "com.access_denied"])
                           >= count, timeout)
        found = [e for e in events if e["event"] == "com.access_denied"]
    return found[count - 1] if len(found) >= count else None


def whoami(user, level=RPC_C_AUTHN_LEVEL_PKT_PRIVACY):
    """(caller, level) from WhoAmI as `user`, or the fault's name."""
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % port)
    t.set_credentials(user, PASSWORDS[user], domain)
    dce = t.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(level)
    dce.connect()
    try:
        dce.bind(IID_IComsecHello + b"\x00\x00\x00\x00")
        req = WhoAmI()
        req["ORPCthis"] = orpcthis()
        try:
            resp = dce.request(req, uuid=ipid, checkError=False)
        except DCERPCException as e:
            return str(e)
        return resp["caller"].rstrip("\x00"), resp["authnLevel"]
    finally:
        dce.disconnect()


def comcfg_command(line):
    """Runs a `comcfg ...` command line from the log, with this store."""
    argv = shlex.split(line)
    assert argv[0] == "comcfg", line
    env = dict(os.environ, COMSEC_STORE=store)
    return subprocess.run([comcfg_path] + argv[1:], capture_output=True, text=True, env=env)


try:
    objref = OBJREF_STANDARD(bytes.fromhex(read_objref(server)))
    ipid = objref["std"]["ipid"]
    # The exporter's port: the OBJREF's resolver bindings are its own
    # endpoints (no comsecd here).
    from impacket.dcerpc.v5.dcomrt import DUALSTRINGARRAYPACKED
    raw = DUALSTRINGARRAYPACKED(objref["saResAddr"])["aStringArray"]
    text = raw.decode("utf-16-le", "replace")
    port = int(text.split("[")[1].split("]")[0])

    alice = domain + "\\alice"
    mallory = domain + "\\mallory"
    r = whoami("alice")
    check(r == (alice, 6), "alice at PKT_PRIVACY is served: %r" % (r,))
    r = whoami("mallory")
    check(r == "rpc_s_access_denied", "mallory at PKT_PRIVACY is refused (fault 5): %r" % (r,))
    e = denial(1)
    check(e is not None, "a com.access_denied event")
    if e is not None:
        check(e.get("principal", "").lower() == mallory.lower(), "the event names mallory: %r" % e)
        check(e.get("reason") == "R137 access permission", "the rule: %r" % e.get("reason"))
        check(e.get("hresult") == "0x80070005", "E_ACCESSDENIED: %r" % e.get("hresult"))
        check(e.get("check") == "access permission", "the failing check: %r" % e.get("check"))
        remedy = e.get("remedy", "")
        check(remedy.startswith("comcfg perms grant access --appid ") and "mallory" in remedy,
              "the remedy is a comcfg command: %r" % remedy)
        explain = e.get("explain", "")
        check(explain.startswith("comcfg --store ") and " explain access --appid " in explain,
              "the explain command: %r" % explain)
        x = comcfg_command(explain)
        check(x.returncode == 1 and x.stdout.startswith("denied"),
              "explain offline gives the same answer: %d %r %r" % (x.returncode, x.stdout,
                                                                  x.stderr))
        check("access permission: FAIL" in x.stdout, "explain: the access permission fails")
        r = whoami("alice")
        check(r == (alice, 6), "the server still serves alice: %r" % (r,))
        fix = comcfg_command(remedy)
        check(fix.returncode == 0, "the remedy applies: %d %r" % (fix.returncode, fix.stderr))
        r = whoami("mallory")
        check(r == (mallory, 6), "mallory's next call is served, no restart: %r" % (r,))
        x = comcfg_command(explain)
        check(x.returncode == 0 and x.stdout.startswith("allowed"),
              "explain now allows: %d %r" % (x.returncode, x.stdout))
    r = whoami("alice", RPC_C_AUTHN_LEVEL_PKT_INTEGRITY)
    check(r == "rpc_s_access_denied", "alice at PKT_INTEGRITY is refused: %r" % (r,))
    e = denial(2)
    check(e is not None and e.get("reason") == "R187.1 authentication level",
          "the level refusal's rule: %r" % (e,))
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
report.exit()
