#!/usr/bin/python3
"""Issue 9 items 2 and 18: the secrets live apart, and comsecd validates.

As root: `comcfg init` and `comcfg user add` make a policy store (0644) and a
secrets file (0600). As nobody:
  * no file under the store directory yields the account's NT hash (in
    binary or hex), and `comcfg user list` says why it may not (exit 1);
  * an echo server running as nobody cannot read the secrets, so it sends
    each NTLM AUTHENTICATE to comsecd's logon service over ncalrpc: our
    client then logs on at PKT_PRIVACY and WhoAmI names the account; a wrong
    password is refused (access denied) and the server still serves;
  * a comsecd that does not trust nobody's uid refuses it (fault 5, logged)
    and the logon fails closed.
Item 18: an echo server over a store without accounts starts, serves an
unauthenticated caller, and its log says NTLM logons wait for
`comcfg user add`.
Usage: secrets_split.py ECHO_SERVER ECHO_CLIENT COMSECD COMCFG. Exit 0 on success.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

server_src, client, comsecd, comcfg = sys.argv[1:5]
NOBODY = 65534
PASSWORD = "Split#Secrets1"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def nt_hash(password):
    # MD4 is gone from OpenSSL 3's default provider; a small MD4 of our own.
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rol(v, s): v &= 0xffffffff; return ((v << s) | (v >> (32 - s))) & 0xffffffff
    msg = bytearray(password.encode("utf-16-le"))
    bits = len(msg) * 8
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += bits.to_bytes(8, "little")
    a, b, c, d = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for off in range(0, len(msg), 64):
        x = [int.from_bytes(msg[off + 4 * i:off + 4 * i + 4], "little") for i in range(16)]
        aa, bb, cc, dd = a, b, c, d
        for i in range(16):
            s = [3, 7, 11, 19][i % 4]
            a, b, c, d = d, rol(a + f(b, c, d) + x[i], s), b, c
        for i in range(16):
            k = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15][i]
            s = [3, 5, 9, 13][i % 4]
            a, b, c, d = d, rol(a + g(b, c, d) + x[k] + 0x5a827999, s), b, c
        for i in range(16):
            k = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15][i]
            s = [3, 9, 11, 15][i % 4]
            a, b, c, d = d, rol(a + h(b, c, d) + x[k] + 0x6ed9eba1, s), b, c
        a, b, c, d = [(v + w) & 0xffffffff for v, w in zip((a, b, c, d), (aa, bb, cc, dd))]
    return b"".join(v.to_bytes(4, "little") for v in (a, b, c, d))


def as_nobody():
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


if os.geteuid() != 0:
    print("skipped: needs root to act as nobody")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="comsec-secrets-")
os.chmod(work, 0o755)
# Binaries nobody can run wherever the build tree is (a 0700 home, say).
bindir = os.path.join(work, "bin")
os.mkdir(bindir, 0o755)
server = shutil.copy(server_src, bindir)
comcfg_nobody = shutil.copy(comcfg, bindir)
for f in (server, comcfg_nobody):
    os.chmod(f, 0o755)
store_dir = os.path.join(work, "lib")
store = os.path.join(store_dir, "store.db")
run_dir = os.path.join(work, "run")
os.mkdir(run_dir, 0o755)
procs = []


def run(cmd, stdin=None, user=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          preexec_fn=as_nobody if user == "nobody" else None)


def daemon(cmd, user=None):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=as_nobody if user == "nobody" else None)
    procs.append(p)
    return p


def listening(p, count=1):
    found = []
    while len(found) < count:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("daemon exited: " + p.stderr.read())
        if line.startswith("listening on "):
            found.append(line.split("listening on ", 1)[1].strip())
    return found


def stop(p):
    p.terminate()
    try:
        return p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.communicate()


def whoami(binding, password=PASSWORD, level=6, auth=True):
    cmd = [client, "--binding", binding]
    if auth:
        cmd += ["--level", str(level), "--auth", "ntlm", "--user", "alice", "--password",
                password]
    return run(cmd + ["whoami"])


try:
    # ---- the files and their modes ------------------------------------------
    r = run([comcfg, "--store", store, "init"])
    check(r.returncode == 0, "comcfg init: " + r.stdout.strip() + r.stderr.strip())
    r = run([comcfg, "--store", store, "user", "add", "alice", "--password-stdin"],
            stdin=PASSWORD + "\n")
    check(r.returncode == 0, "comcfg user add alice")
    secrets = os.path.join(store_dir, "store.secrets.db")
    check(oct(os.stat(store_dir).st_mode & 0o777) == "0o755", "store directory is 0755")
    check(oct(os.stat(store).st_mode & 0o777) == "0o644", "policy store is 0644")
    check(oct(os.stat(secrets).st_mode & 0o777) == "0o600", "secrets file is 0600")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(secrets + suffix):
            check(oct(os.stat(secrets + suffix).st_mode & 0o777) == "0o600",
                  "secrets file's %s is 0600" % suffix)

    # ---- nobody finds no hash --------------------------------------------------
    digest = nt_hash(PASSWORD)
    probe = (
        "import os,sys\n"
        "d, h = sys.argv[1], bytes.fromhex(sys.argv[2])\n"
        "for n in sorted(os.listdir(d)):\n"
        "    try:\n"
        "        data = open(os.path.join(d, n), 'rb').read()\n"
        "    except PermissionError:\n"
        "        print('unreadable', n); continue\n"
        "    print('HASH' if (h in data or h.hex().encode() in data or\n"
        "                      h.hex().upper().encode() in data) else 'clean', n)\n")
    r = run([sys.executable, "-c", probe, store_dir, digest.hex()], user="nobody")
    lines = r.stdout.split("\n")
    check(r.returncode == 0 and lines and not any(l.startswith("HASH") for l in lines),
          "no file under the store directory gives nobody the hash: " + "; ".join(lines))
    check(any(l.startswith("unreadable store.secrets.db") for l in lines),
          "nobody cannot open the secrets file")
    check(any(l.startswith("clean store.db") for l in lines),
          "nobody can read the policy store, which holds no hash")
    # root, who may, does find the hash in the secrets file (the probe works).
    r = run([sys.executable, "-c", probe, store_dir, digest.hex()])
    check("HASH store.secrets.db" in r.stdout or "HASH store.secrets.db-wal" in r.stdout,
          "the probe finds the hash where it is (root reading the secrets file)")

    r = run([comcfg_nobody, "--store", store, "user", "list"], user="nobody")
    check(r.returncode == 1 and "may be read only by its owner" in r.stderr and
          "E_ACCESSDENIED" in r.stderr,
          "comcfg user list as nobody: exit %d, %s" % (r.returncode, r.stderr.strip()))
    r = run([comcfg_nobody, "--store", store, "machine", "show"], user="nobody")
    check(r.returncode == 0, "nobody may read the policy store (machine show): " +
          r.stderr.strip())
    r = run([comcfg_nobody, "--store", store, "machine", "set", "EnableDCOM", "N"],
            user="nobody")
    check(r.returncode == 1 and "may be changed only by its owner" in r.stderr,
          "nobody may not change the policy store (R161): exit %d, %s" %
          (r.returncode, r.stderr.strip()))

    # ---- a server as nobody validates through comsecd --------------------------
    sock = os.path.join(run_dir, "comsecd")
    d = daemon([comsecd, "--store", store, "--listen", "ncalrpc:" + sock,
                "--trust-uid", str(NOBODY)])
    listening(d)
    e = daemon([server, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--min-auth-level", "5",
                "--logon-service", "ncalrpc:" + sock], user="nobody")
    tcp = listening(e)[0]
    r = whoami(tcp)
    check(r.returncode == 0 and "\\alice authn_level=6" in r.stdout,
          "NTLM at PKT_PRIVACY to a server running as nobody, validated by comsecd: " +
          (r.stdout + r.stderr).strip())
    r = whoami(tcp, password="wrong")
    check(r.returncode != 0 and "E_ACCESSDENIED" in r.stderr,
          "a wrong password through comsecd is refused: " + r.stderr.strip())
    r = whoami(tcp)
    check(r.returncode == 0, "the server still serves after the refusal")
    _, err_e = stop(e)
    _, err_d = stop(d)
    check("refused: wrong password" in err_d,
          "comsecd logs why it refused the logon")

    # ---- an untrusted uid may not ask --------------------------------------------
    d = daemon([comsecd, "--store", store, "--listen", "ncalrpc:" + sock])
    listening(d)
    e = daemon([server, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--min-auth-level", "5",
                "--logon-service", "ncalrpc:" + sock], user="nobody")
    tcp = listening(e)[0]
    r = whoami(tcp)
    check(r.returncode != 0 and "E_ACCESSDENIED" in r.stderr,
          "comsecd without --trust-uid refuses nobody's server; the logon fails closed: " +
          r.stderr.strip())
    _, err_e = stop(e)
    _, err_d = stop(d)
    check("logon service: refused uid %d" % NOBODY in err_d,
          "comsecd logs the refused uid: " + err_d.strip().split("\n")[-1])

    # ---- item 18: a store without accounts ----------------------------------------
    empty = os.path.join(work, "empty", "store.db")
    r = run([comcfg, "--store", empty, "init"])
    check(r.returncode == 0, "an empty store")
    e = daemon([server_src, "--listen", "ncacn_ip_tcp:127.0.0.1[0]", "--store", empty])
    tcp = listening(e)[0]
    r = whoami(tcp, auth=False)
    check(r.returncode == 0 and "authn_level=1" in r.stdout,
          "the server over an account-less store serves an unauthenticated caller: " +
          (r.stdout + r.stderr).strip())
    r = whoami(tcp)
    check(r.returncode != 0 and "E_ACCESSDENIED" in r.stderr,
          "an NTLM logon fails until an account exists: " + r.stderr.strip())
    _, err_e = stop(e)
    check("has no accounts yet; NTLM logons will fail until 'comcfg user add NAME'" in err_e,
          "its log says NTLM waits for 'comcfg user add'")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.communicate()
    shutil.rmtree(work, ignore_errors=True)

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all checks passed")
