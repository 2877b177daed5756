#!/usr/bin/python3
"""The hello example with Kerberos (issues 12 and 13): WhoAmI's uid is the
serving thread's effective uid while it impersonates its caller.

A throwaway MIT KDC on loopback (tests/support/krb_test_kdc.sh); the store
names the service keytab and SPN (comcfg kerberos set), which is all
comsec-hello-server needs to offer Kerberos. Then:
  * nobody@REALM (keys from user.keytab) maps to the Unix account nobody:
    whoami says "unix:nobody authn_level=6 imp_level=3 uid=UID" with
    nobody's uid when the server runs as root (it switches the serving
    thread), else uid=-1;
  * the same caller at IDENTIFY (--imp-level 2): uid=-1, the server may
    identify but not impersonate;
  * alice@REALM (the realm's ccache) has no Unix account: uid=-1;
  * greet through Kerberos at PKT_PRIVACY, and a wrong SPN refused.
Exit 77 (skipped) when the MIT KDC is not installed.
"""
import os
import pwd
import subprocess
import sys

from hello_support import Report, Store, read_objref

server_bin, client_bin, comcfg_bin, kdc_script, workdir = sys.argv[1:6]
for tool in ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local",
             "/usr/bin/kinit"):
    if not os.access(tool, os.X_OK):
        print("SKIP: %s missing; scripts/install-deps.sh installs the MIT KDC" % tool)
        sys.exit(77)

report = Report()
check = report.check
comcfg = Store(comcfg_bin, workdir)
realm_dir = os.path.join(workdir, "realm")
env = dict(os.environ, EXTRA_USERS="nobody")
subprocess.run([kdc_script, "up", realm_dir], check=True, stdout=subprocess.DEVNULL, env=env)
with open(os.path.join(realm_dir, "env")) as f:
    for word in f.read().split():
        if "=" in word:
            k, v = word.split("=", 1)
            env[k] = v
realm = env["KDC_REALM"]
store = comcfg.path
comcfg("kerberos", "set", "--keytab", os.path.join(realm_dir, "service.keytab"),
       "--spn", "RPCSS/localhost")
comcfg.allow_callers("{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}")
server = subprocess.Popen([server_bin, "--store", store, "--print-objref"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    objref = read_objref(server)

    def client(*args, spn="RPCSS/localhost"):
        r = subprocess.run([client_bin, "--objref", objref, "--auth", "kerberos", "--spn", spn]
                           + list(args), env=env, capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    nobody_uid = pwd.getpwnam("nobody").pw_uid
    want_uid = nobody_uid if os.geteuid() == 0 else -1
    as_nobody = ["--keytab", os.path.join(realm_dir, "user.keytab"), "--user", "nobody"]
    rc, out, err = client(*as_nobody, "--level", "6", "whoami")
    check(rc == 0 and out == "unix:nobody authn_level=6 imp_level=3 uid=%d" % want_uid,
          "nobody impersonated: %d %r %r" % (rc, out, err))
    rc, out, err = client(*as_nobody, "--level", "6", "--imp-level", "2", "whoami")
    check(rc == 0 and out == "unix:nobody authn_level=6 imp_level=2 uid=-1",
          "nobody at IDENTIFY: %d %r %r" % (rc, out, err))
    rc, out, err = client("--level", "6", "whoami")
    check(rc == 0 and out == "alice@%s authn_level=6 imp_level=3 uid=-1" % realm,
          "alice (no Unix account): %d %r %r" % (rc, out, err))
    rc, out, err = client("--level", "6", "greet", "kerberos")
    check(rc == 0 and out.startswith("Hello, kerberos, from "), "greet: %d %r %r" % (rc, out, err))
    rc, out, err = client("--level", "6", "whoami", spn="RPCSS/elsewhere")
    check(rc == 1, "an SPN the KDC does not know: %d %r" % (rc, err))
    rc, out, err = client("--level", "6", "greet", "again")
    check(rc == 0, "the server serves on: %d %r" % (rc, err))
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    subprocess.run([kdc_script, "down", realm_dir], stdout=subprocess.DEVNULL)
report.exit()
