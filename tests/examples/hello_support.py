"""What the hello example's process tests share: the ok/FAIL report, a
fresh work directory with a store (comcfg), and reading the OBJREF a
comsec-hello-server prints."""
import os
import shutil
import subprocess
import sys


class Report:
    def __init__(self):
        self.failures = []

    def check(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            self.failures.append(what)

    def exit(self):
        if self.failures:
            print("%d failure(s)" % len(self.failures))
            sys.exit(1)


class Store:
    """A new store in a fresh `workdir`, driven with comcfg."""

    def __init__(self, comcfg_path, workdir):
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        self.comcfg_path = comcfg_path
        self.path = os.path.join(workdir, "hello.db")
        self("init")

    def __call__(self, *args, stdin=None):
        return subprocess.run([self.comcfg_path, "--store", self.path] + list(args), input=stdin,
                              capture_output=True, text=True, check=True).stdout

    def allow_callers(self, appid, principal="AU"):
        """Registers `appid` if needed and lets `principal` (by default
        every authenticated caller) call its server, locally and remotely."""
        if appid.lower() not in self("app", "list").lower():
            self("app", "create", "--appid", appid, "--name", "ComsecHello")
        self("perms", "grant", "access", "--appid", appid, "--principal", principal,
             "--rights", "execute_local,execute_remote")

    def add_user(self, name, password):
        """Adds an NTLM account; returns the machine domain's name."""
        self("user", "add", name, "--password-stdin", stdin=password + "\n")
        line = [l for l in self("user", "list").splitlines() if name in l][0]
        return line.split("\\")[0].split()[-1]


def read_objref(server):
    """The hex OBJREF a comsec-hello-server --print-objref prints."""
    for line in server.stdout:
        if line.startswith("objref "):
            return line.split()[1]
    raise SystemExit("the server printed no OBJREF: " + server.stderr.read())
