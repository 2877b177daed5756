#!/usr/bin/python3
"""The hello example across processes (issue 13): comsec-hello-server and
comsec-hello-client, separate processes talking MS-DCOM over loopback TCP.

With a store holding an NTLM account and the ComsecHello AppID:
  * greet, whoami (NTLM at PKT_PRIVACY: DOMAIN\\alice, level 6, imp level
    3; uid -1, since an NTLM account has no Unix uid), child (an interface
    pointer returned by the server, called), callback (an object of the
    client's, passed as [in], called back by the server into the client's
    STA while its main thread waits in the call);
  * --imp-level 2 (IDENTIFY) is what the server sees;
  * the AppID's AuthenticationLevel is the server's floor: 6 refuses a
    PKT_INTEGRITY client (E_ACCESSDENIED, exit 1) and an unauthenticated
    one, then a PKT_PRIVACY client is served by the same server;
  * bad usage: no --objref/--server, a malformed OBJREF (exit 2);
    --server naming this machine with no comsecd at --local-scm fails
    saying which endpoint is missing (exit 1);
  * two OBJREFs printed by two servers, called from one client process
    each, and the server stops cleanly on SIGTERM (exit 0).
Exit 0 on success.
"""
import signal
import subprocess
import sys

from hello_support import Report, Store, read_objref

server_path, client_path, comcfg_path, workdir = sys.argv[1:5]
APPID = "{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}"
PASSWORD = "Hello#Procs1"
report = Report()
check = report.check
comcfg = Store(comcfg_path, workdir)
store = comcfg.path
domain = comcfg.add_user("alice", PASSWORD)
comcfg("app", "create", "--appid", APPID, "--name", "ComsecHello")
comcfg.allow_callers(APPID)

servers = []


def start_server():
    p = subprocess.Popen([server_path, "--store", store, "--print-objref"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    servers.append(p)
    return p, read_objref(p)


def client(objref, *args, auth=True, level=6, extra=()):
    cmd = [client_path]
    if objref is not None:
        cmd += ["--objref", objref]
    cmd += list(extra)
    if auth:
        cmd += ["--auth", "ntlm", "--user", "alice", "--password-stdin", "--level", str(level)]
    cmd += list(args)
    r = subprocess.run(cmd, input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


try:
    server, objref = start_server()
    me = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    rc, out, err = client(objref, "greet", "alice")
    check(rc == 0 and out == "Hello, alice, from " + me, "greet: %d %r %r" % (rc, out, err))
    rc, out, err = client(objref, "whoami")
    check(rc == 0 and out == "%s\\alice authn_level=6 imp_level=3 uid=-1" % domain,
          "whoami: %d %r %r" % (rc, out, err))
    rc, out, err = client(objref, "whoami", extra=["--imp-level", "2"])
    check(rc == 0 and out == "%s\\alice authn_level=6 imp_level=2 uid=-1" % domain,
          "whoami at IDENTIFY: %d %r %r" % (rc, out, err))
    rc, out, err = client(objref, "child")
    check(rc == 0 and out == "Hello, child, from " + me, "child: %d %r %r" % (rc, out, err))
    # An object returned by the server to one client process, marshaled by
    # it, and called from a third process after the second has exited.
    rc, out, err = client(objref, "child", "--marshal")
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 2 and lines[1].startswith("objref "),
          "child --marshal: %d %r %r" % (rc, out, err))
    if rc == 0 and len(lines) == 2:
        child_objref = lines[1].split()[1]
        check(child_objref != objref, "the child's OBJREF names another object")
        rc, out, err = client(child_objref, "greet", "third")
        check(rc == 0 and out == "Hello, third, from " + me,
              "the child called from a third process: %d %r %r" % (rc, out, err))
    rc, out, err = client(objref, "callback", "bob")
    check(rc == 0 and out == "Hello, bob, from client " + me,
          "callback into the client's STA: %d %r %r" % (rc, out, err))

    # Bad usage and what is not there yet.
    rc, out, err = client(None, "whoami")
    check(rc == 2 and "--objref" in err, "no --objref: %d %r" % (rc, err))
    rc, out, err = client("zz", "whoami")
    check(rc == 2, "malformed hex: %d %r" % (rc, err))
    rc, out, err = client("4d454f5701000000", "whoami")
    check(rc == 1 and "RPC_E_INVALID_OBJREF" in err, "truncated OBJREF: %d %r" % (rc, err))
    rc, out, err = client(None, "whoami",
                          extra=["--server", "127.0.0.1", "--local-scm", "ncalrpc:[/nonexistent/epm]"])
    check(rc == 1 and "RPC_S_SERVER_UNAVAILABLE" in err and "/nonexistent" in err,
          "--server without a comsecd: %d %r" % (rc, err))

    # The AppID's level is the floor of a server started after it is set.
    comcfg("app", "set", APPID, "AuthenticationLevel", "6")
    strict, strict_objref = start_server()
    rc, out, err = client(strict_objref, "whoami", level=5)
    check(rc == 1 and "E_ACCESSDENIED" in err, "PKT_INTEGRITY below the AppID's 6: %d %r" % (rc, err))
    rc, out, err = client(strict_objref, "whoami", auth=False)
    check(rc == 1 and "E_ACCESSDENIED" in err, "unauthenticated: %d %r" % (rc, err))
    rc, out, err = client(strict_objref, "whoami", level=6)
    check(rc == 0 and "authn_level=6" in out, "PKT_PRIVACY served after: %d %r %r" % (rc, out, err))
    # The first server still serves its own object.
    rc, out, err = client(objref, "greet", "again")
    check(rc == 0 and out == "Hello, again, from " + me, "first server: %d %r" % (rc, out))

    for p in servers:
        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            code = None
        check(code == 0, "server stops on SIGTERM (exit %r)" % code)
finally:
    for p in servers:
        if p.poll() is None:
            p.kill()
report.exit()
