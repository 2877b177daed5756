"""comsec-echo-server --keytab/--spn --store and comsec-echo-client --auth
negotiate against a throwaway MIT KDC on loopback (tests/support/
krb_test_kdc.sh): issue 12's contract for Negotiate (auth_type 9).

  server: comsec-echo-server ... --store STORE --keytab FILE --spn SPN
  client: comsec-echo-client ... --auth negotiate --spn SPN --level N whoami
          prints "NAME authn_level=N authn_svc=9"

SPNEGO chooses Kerberos when the client has a ticket (KRB5CCNAME or
--keytab/--user), and NTLM, with the store's accounts, when the client has
only --user/--password; over TCP and ncalrpc at CONNECT, PKT_INTEGRITY and
PKT_PRIVACY. Then the refusals: no credentials at all (SEC_E_NO_CREDENTIALS
before any PDU), a wrong NTLM password (E_ACCESSDENIED, logged), and the
server still serving.

usage: negotiate_echo.py ECHO_SERVER ECHO_CLIENT COMCFG KDC_SCRIPT WORKDIR
Exit 77 (skipped) when the MIT KDC is not installed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

server_bin, client_bin, comcfg_bin, kdc_script, workdir = sys.argv[1:6]

for tool in ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local",
             "/usr/bin/kinit"):
    if not os.access(tool, os.X_OK):
        print("SKIP: %s missing; scripts/install-deps.sh installs the MIT KDC" % tool)
        sys.exit(77)

os.makedirs(workdir, exist_ok=True)
top = tempfile.mkdtemp(dir=workdir)
realm_dir = os.path.join(top, "realm")
store = os.path.join(top, "store.db")
PASSWORD = "Negotiate#Pass1"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def comcfg(*args, stdin=None):
    return subprocess.run([comcfg_bin, "--store", store] + list(args), input=stdin,
                          capture_output=True, text=True, check=True).stdout


comcfg("init")
comcfg("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
domain = [l for l in comcfg("user", "list").splitlines() if "alice" in l][0].split("\\")[0]

subprocess.run([kdc_script, "up", realm_dir], check=True, stdout=subprocess.DEVNULL)
env = dict(os.environ)
with open(os.path.join(realm_dir, "env")) as f:
    for word in f.read().split():
        if "=" in word:
            k, v = word.split("=", 1)
            env[k] = v
realm = env["KDC_REALM"]
no_ccache = dict(env, KRB5CCNAME="FILE:" + os.path.join(top, "none.ccache"))
server = None
try:
    sock = os.path.join(top, "echo.sock")
    server = subprocess.Popen(
        [server_bin, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--listen", "ncalrpc:" + sock,
         "--store", store, "--keytab", os.path.join(realm_dir, "service.keytab"),
         "--spn", "RPCSS/localhost"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bindings = []
    while len(bindings) < 2:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("the server stopped: " + server.stderr.read())
        m = re.match(r"listening on (\S+)", line)
        if m:
            bindings.append(m.group(1))

    def client(binding, *args, client_env=None):
        r = subprocess.run([client_bin, "--binding", binding, "--auth", "negotiate",
                            "--spn", "RPCSS/localhost"] + list(args),
                           env=client_env or env, capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    ntlm = ["--user", "alice", "--password", PASSWORD]
    for binding in bindings:
        for level in (2, 5, 6):
            rc, out, err = client(binding, "--level", str(level), "whoami")
            check(rc == 0 and out == "alice@%s authn_level=%d authn_svc=9" % (realm, level),
                  "Kerberos through Negotiate, %s level %d: %r %r" % (binding, level, out, err))
            rc, out, err = client(binding, "--level", str(level), *ntlm, "whoami",
                                  client_env=no_ccache)
            check(rc == 0 and out == "%s\\alice authn_level=%d authn_svc=9" % (domain, level),
                  "NTLM through Negotiate, %s level %d: %r %r" % (binding, level, out, err))
    tcp = bindings[0]
    # Both kinds of credentials: Kerberos is listed first and chosen.
    rc, out, err = client(tcp, "--level", "6", *ntlm, "whoami")
    check(rc == 0 and out == "alice@%s authn_level=6 authn_svc=9" % realm,
          "a ticket and a password: Kerberos: %r %r" % (out, err))
    rc, out, err = client(tcp, "--level", "6", "--keytab", os.path.join(realm_dir, "user.keytab"),
                          "--user", "alice", "whoami", client_env=no_ccache)
    check(rc == 0 and out == "alice@%s authn_level=6 authn_svc=9" % realm,
          "client keytab: %r %r" % (out, err))
    rc, out, err = client(tcp, "--level", "6", "whoami", client_env=no_ccache)
    check(rc == 1 and "SEC_E_NO_CREDENTIALS" in err, "no credentials: %d %r" % (rc, err))
    rc, out, err = client(tcp, "--level", "6", "--user", "alice", "--password", "wrong",
                          "whoami", client_env=no_ccache)
    check(rc == 1 and "E_ACCESSDENIED (0x80070005)" in err, "wrong password: %d %r" % (rc, err))
    rc, out, err = client(tcp, "--level", "6", *ntlm, "whoami", client_env=no_ccache)
    check(rc == 0 and out == "%s\\alice authn_level=6 authn_svc=9" % domain,
          "serving after the refusals: %r %r" % (out, err))
finally:
    log = ""
    if server:
        server.terminate()
        _, log = server.communicate(timeout=30)
    subprocess.run([kdc_script, "down", realm_dir], check=False)
    shutil.rmtree(top, ignore_errors=True)

check("negotiate.logon_refused" in log and "ntlm.logon_refused" in log,
      "the server logged the wrong password (negotiate.logon_refused, ntlm.logon_refused)")
check(PASSWORD not in log, "the password never reaches the log")
check(not re.search(r"[0-9a-f]{64}", log), "no key-sized hex in the server's log")
sys.exit(1 if failures else 0)
