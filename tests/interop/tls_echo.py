"""comsec-echo-server --tls-cert/--tls-key/--tls-ca and comsec-echo-client
--auth tls, the contract of issue 12 exactly:

  server: comsec-echo-server ... --tls-cert FILE --tls-key FILE [--tls-ca FILE]
  client: comsec-echo-client ... --auth tls --level N whoami [--tls-ca FILE]
          [--tls-cert F --tls-key F]   prints "NAME authn_level=N authn_svc=14"

Certificates come from the openssl command line (an independent maker of
what the package loads). Over TCP and ncalrpc at CONNECT, PKT_INTEGRITY and
PKT_PRIVACY with a client certificate mapped by `comcfg tls map` to a Unix
account; then an unmapped certificate and none (ANONYMOUS LOGON, logged),
the refusals (a CA the server's certificate does not chain to:
SEC_E_UNTRUSTED_ROOT; a wrong name: SEC_E_WRONG_PRINCIPAL; a client
certificate from an untrusted CA: E_ACCESSDENIED, logged), and the server
still serving afterwards. No Windows peer exists for this package: client to
server only.

usage: tls_echo.py ECHO_SERVER ECHO_CLIENT COMCFG WORKDIR
Exit 77 (skipped) when the openssl command is missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

server_bin, client_bin, comcfg_bin, workdir = sys.argv[1:5]
openssl = shutil.which("openssl")
if not openssl:
    print("SKIP: the openssl command is missing")
    sys.exit(77)

os.makedirs(workdir, exist_ok=True)
top = tempfile.mkdtemp(dir=workdir)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def path(name):
    return os.path.join(top, name)


def ca(name):
    run(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".pem"), "-days", "2",
        "-subj", "/O=comsec interop/CN=" + name)


def issue(name, cn, issuer, san=None):
    run(openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", path(name + ".key"), "-out", path(name + ".csr"),
        "-subj", "/O=comsec interop/CN=" + cn)
    ext = path(name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
        if san:
            f.write("subjectAltName=" + san + "\n")
    run(openssl, "x509", "-req", "-in", path(name + ".csr"), "-CA", path(issuer + ".pem"),
        "-CAkey", path(issuer + ".key"), "-CAcreateserial", "-out", path(name + ".pem"),
        "-days", "2", "-extfile", ext)


def thumbprint(name):
    out = subprocess.run([openssl, "x509", "-in", path(name + ".pem"), "-noout",
                          "-fingerprint", "-sha256"], check=True, capture_output=True,
                         text=True).stdout
    return out.strip().split("=", 1)[1]


ca("ca")
ca("other-ca")
issue("server", "localhost", "ca", "DNS:localhost")
issue("alice", "alice", "ca")
issue("bob", "bob", "ca")
issue("stranger", "alice", "other-ca")

store = path("store.db")
run(comcfg_bin, "--store", store, "init")
# openssl prints AB:CD:...; comcfg takes it as it is.
run(comcfg_bin, "--store", store, "tls", "map", "--thumbprint", thumbprint("alice"),
    "unix:nobody")
shown = subprocess.run([comcfg_bin, "--store", store, "tls", "show"], capture_output=True,
                       text=True).stdout
check("-> unix:nobody" in shown, "comcfg tls show lists the mapping: %r" % shown)

server = None
try:
    sock = path("echo.sock")
    server = subprocess.Popen(
        [server_bin, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--listen", "ncalrpc:" + sock,
         "--store", store, "--tls-cert", path("server.pem"), "--tls-key", path("server.key"),
         "--tls-ca", path("ca.pem")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bindings = []
    while len(bindings) < 2:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("the server stopped: " + server.stderr.read())
        m = re.match(r"listening on (\S+)", line)
        if m:
            bindings.append(m.group(1))

    def client(binding, *args):
        r = subprocess.run([client_bin, "--binding", binding, "--auth", "tls"] + list(args),
                           capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    alice = ["--tls-ca", path("ca.pem"), "--tls-cert", path("alice.pem"), "--tls-key",
             path("alice.key")]
    for binding in bindings:
        for level in (2, 5, 6):
            rc, out, err = client(binding, "--level", str(level), *alice, "whoami")
            check(rc == 0 and out == "unix:nobody authn_level=%d authn_svc=14" % level,
                  "%s level %d: %r %r" % (binding, level, out, err))
    tcp = bindings[0]
    rc, out, err = client(tcp, "--level", "6", "--spn", "RPCSS/localhost", *alice, "echo",
                          "--size", "100000")
    check(rc == 0 and out == "echoed 100000 bytes", "100000 bytes sealed: %r %r" % (out, err))
    rc, out, err = client(tcp, "--level", "6", "--tls-ca", path("ca.pem"), "--tls-cert",
                          path("bob.pem"), "--tls-key", path("bob.key"), "whoami")
    # Anonymous calls are credited CONNECT by the runtime.
    check(rc == 0 and out == "NT AUTHORITY\\ANONYMOUS LOGON authn_level=2 authn_svc=14",
          "unmapped certificate: %r %r" % (out, err))
    rc, out, err = client(tcp, "--level", "6", "--tls-ca", path("ca.pem"), "whoami")
    check(rc == 0 and out == "NT AUTHORITY\\ANONYMOUS LOGON authn_level=2 authn_svc=14",
          "no certificate: %r %r" % (out, err))
    rc, out, err = client(tcp, "--level", "6", "--tls-ca", path("other-ca.pem"), "whoami")
    check(rc == 1 and "SEC_E_UNTRUSTED_ROOT" in err, "bad CA: %d %r" % (rc, err))
    rc, out, err = client(tcp, "--level", "6", "--spn", "RPCSS/elsewhere", *alice, "whoami")
    check(rc == 1 and "SEC_E_WRONG_PRINCIPAL" in err, "wrong name: %d %r" % (rc, err))
    rc, out, err = client(tcp, "--level", "6", "--tls-ca", path("ca.pem"), "--tls-cert",
                          path("stranger.pem"), "--tls-key", path("stranger.key"), "whoami")
    check(rc == 1 and "E_ACCESSDENIED (0x80070005)" in err,
          "untrusted client certificate: %d %r" % (rc, err))
    rc, out, err = client(tcp, "--level", "5", *alice, "whoami")
    check(rc == 0 and out == "unix:nobody authn_level=5 authn_svc=14",
          "serving after the refusals: %r %r" % (out, err))
    rc = subprocess.run([client_bin, "--binding", tcp, "--auth", "tls", "whoami"],
                        capture_output=True, text=True).returncode
    check(rc == 2, "--auth tls without --tls-ca is bad usage: %d" % rc)
finally:
    log = ""
    if server:
        server.terminate()
        _, log = server.communicate(timeout=30)
    shutil.rmtree(top, ignore_errors=True)

check("tls.certificate_unmapped" in log and "CN=bob,O=comsec interop" in log,
      "the server logged the unmapped certificate")
check("tls.logon_refused" in log and "SEC_E_UNTRUSTED_ROOT" in log,
      "the server logged the untrusted client certificate")
sys.exit(1 if failures else 0)
