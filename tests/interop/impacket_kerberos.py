#!/usr/bin/python3
"""Interop: impacket, an independent Kerberos DCE/RPC client, binds to
comsec-echo-server with Kerberos (auth_type 16) at PKT_PRIVACY, and tshark
decodes the capture with no malformed packet.

impacket's own AS/TGS exchange does not work against MIT (NOTES.md §3:
KDC port hard-coded to 88, [APPLICATION 26] enc-part, no checksum in the
TGS-REQ authenticator), so MIT's kinit (the fixture) and kvno fill a FILE
ccache and impacket only reads the service ticket from it: no KDC traffic
from impacket at all.

impacket 0.10 speaks Kerberos in DCE/RPC only as auth_type 9 (SPNEGO,
RPC_C_AUTHN_GSS_NEGOTIATE; auth_type 0x10 raises "Unsupported auth_type"),
and its token is SPNEGO-wrapped with a GSS-framed AP-REQ carrying the DCE
flag, which MIT refuses (NOTES.md §0.4). This test keeps impacket's own
Kerberos and GSS code (AP-REQ built from the ticket, AP-REP processing and
DCE-style third leg, RFC 4121 wrap tokens for PKT_PRIVACY) and adapts only
the framing, as a DCE-style client such as Windows sends it for auth_type 16:
  - the first token is the raw AP-REQ (SPNEGO and the 0x60 GSS header with
    the krb5 OID stripped),
  - the server's raw AP-REP is handed to impacket's getKerberosType3 inside
    the SPNEGO wrapper it expects, and the raw AP-REP it answers is sent,
  - the sec_trailer says 16.
impacket sends the third leg in an alter_context (as for SPNEGO), not in an
auth3; our server accepts both and answers the alter_context.

Checks: WhoAmI at PKT_PRIVACY says alice@REALM with authn_level 6 and
authn_svc 16; Echo of 3000 bytes round-trips sealed; a sealed request with
one bit flipped is refused and the server still serves; tshark decodes the
bind as Kerberos (KRB5 AP-REQ/AP-REP), and nothing is malformed.
impacket's wrap tokens have EC=0 (a 60-byte verifier; MIT and Windows send
EC=16, 76 bytes): the server accepts both (KerberosContext::
AcceptsSignatureSize), as RFC 4121 4.2.4 lets the sender choose EC.

Usage: impacket_kerberos.py ECHO_SERVER KDC_SCRIPT WORKDIR.
Exit 77 (skipped) without an MIT KDC or capture rights on lo.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

server_bin, kdc_script, workdir = sys.argv[1:4]
for tool in ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local",
             "/usr/bin/kinit", "/usr/bin/kvno", "/usr/bin/dumpcap", "/usr/bin/tshark"):
    if not os.access(tool, os.X_OK):
        print("SKIP: %s missing; scripts/install-deps.sh installs it" % tool)
        sys.exit(77)

os.makedirs(workdir, exist_ok=True)
top = tempfile.mkdtemp(dir=workdir)
realm_dir = os.path.join(top, "realm")
capture = os.path.join(top, "krb.pcapng")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


IMPACKET_CLIENT = r'''
import os, struct, sys
from impacket.dcerpc.v5 import transport, rpcrt
from impacket.krb5 import kerberosv5
from impacket.krb5.ccache import CCache
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp
from impacket.uuid import uuidtup_to_bin

binding, realm, tamper = sys.argv[1], sys.argv[2], sys.argv[3] == "tamper"
RPC_C_AUTHN_GSS_KERBEROS = 0x10
KRB5_OID_DER = bytes.fromhex("06092a864886f712010202")

# Raw AP-REQ: impacket's SPNEGO mechToken is 60 <len> 06 09 <krb5 oid>
# 01 00 <AP-REQ>; a DCE-style auth_type 16 token is the AP-REQ alone.
original_type1 = kerberosv5.getKerberosType1
def raw_type1(*args, **kwargs):
    cipher, key, blob = original_type1(*args, **kwargs)
    token = SPNEGO_NegTokenInit(blob)["MechToken"]
    at = token.find(KRB5_OID_DER)
    assert token[0] == 0x60 and at > 0 and token[at + 11:at + 13] == b"\x01\x00", token[:20].hex()
    return cipher, key, token[at + 13:]
kerberosv5.getKerberosType1 = raw_type1

original_type3 = kerberosv5.getKerberosType3
def raw_type3(cipher, key, auth_data):
    wrapped = SPNEGO_NegTokenResp()
    wrapped["ResponseToken"] = auth_data
    cipher, key, resp = original_type3(cipher, key, wrapped.getData())
    return cipher, key, SPNEGO_NegTokenResp(resp)["ResponseToken"]
kerberosv5.getKerberosType3 = raw_type3

# impacket's code paths for Kerberos are keyed on auth_type 9; on the
# wire the trailer says 16.
class Trailer16(rpcrt.SEC_TRAILER):
    def __setitem__(self, key, value):
        if key == "auth_type" and value == rpcrt.RPC_C_AUTHN_GSS_NEGOTIATE:
            value = RPC_C_AUTHN_GSS_KERBEROS
        super().__setitem__(key, value)
rpcrt.SEC_TRAILER = Trailer16

cc = CCache.loadFile(os.environ["KRB5CCNAME"].split(":", 1)[-1])
creds = cc.getCredential("RPCSS/localhost@%s" % realm)
assert creds is not None, "no RPCSS/localhost ticket in the ccache (kvno)"
tgs = creds.toTGS()

t = transport.DCERPCTransportFactory(binding)
t.set_credentials("alice", "", realm, TGS=tgs)
t.setRemoteName("localhost")
dce = t.get_dce_rpc()
dce.set_auth_type(rpcrt.RPC_C_AUTHN_GSS_NEGOTIATE)
dce.set_auth_level(rpcrt.RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
dce.connect()
dce.bind(uuidtup_to_bin(("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21", "1.0")))

def call(opnum, stub):
    dce.call(opnum, stub)
    return dce.recv()

# WhoAmI (opnum 2): [out, string] wchar_t** name, long, long, long result.
r = call(2, b"")
referent, maxc, offset, actual = struct.unpack_from("<IIII", r, 0)
name = r[16:16 + 2 * actual].decode("utf-16-le").rstrip("\0")
pos = 16 + 2 * actual
pos += (4 - pos % 4) % 4
level, svc, hr = struct.unpack_from("<iii", r, pos)
print("whoami %s %d %d %d" % (name, level, svc, hr))
data = bytes((i * 31 + 7) & 0xFF for i in range(3000))
r = call(0, struct.pack("<II", len(data), len(data)) + data)
print("echo", "ok" if r[4:4 + len(data)] == data else "bad")
if tamper:
    # Flip one bit of the sealed stub on the wire: the server must refuse.
    send = t.send
    def flip(data, *a, **k):
        data = bytearray(data)
        data[30] ^= 0x01
        return send(bytes(data), *a, **k)
    t.send = flip
    try:
        call(1, struct.pack("<ii", 2, 3))
        print("tampered accepted")
    except Exception as e:
        print("tampered refused:", str(e)[:200])
'''

subprocess.run([kdc_script, "up", realm_dir], check=True, stdout=subprocess.DEVNULL)
env = dict(os.environ)
with open(os.path.join(realm_dir, "env")) as f:
    for word in f.read().split():
        if "=" in word:
            k, v = word.split("=", 1)
            env[k] = v
realm = env["KDC_REALM"]
server = dumpcap = None
log = ""
try:
    r = subprocess.run(["/usr/bin/kvno", "RPCSS/localhost@" + realm], env=env,
                       capture_output=True, text=True)
    check(r.returncode == 0, "kvno RPCSS/localhost: " + (r.stdout + r.stderr).strip())
    server = subprocess.Popen(
        [server_bin, "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
         "--keytab", os.path.join(realm_dir, "service.keytab"), "--spn", "RPCSS/localhost"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = None
    while not m:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("the server stopped: " + server.stderr.read())
        m = re.match(r"listening on (\S+)", line)
    binding = m.group(1)
    port = int(binding.split("[")[1].split("]")[0])
    dumpcap = subprocess.Popen(["/usr/bin/dumpcap", "-q", "-i", "lo", "-f", "tcp port %d" % port,
                                "-w", capture],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if "Capturing on" not in dumpcap.stderr.readline():
        print("SKIP: cannot capture on lo here")
        sys.exit(77)
    time.sleep(0.5)

    def impacket(mode):
        return subprocess.run(["/usr/bin/python3", "-c", IMPACKET_CLIENT, binding, realm, mode],
                              env=env, capture_output=True, text=True, timeout=60)

    r = impacket("plain")
    out = r.stdout + r.stderr
    check("whoami alice@%s 6 16 0" % realm in r.stdout,
          "impacket WhoAmI at PKT_PRIVACY, auth_type 16: " + out.strip()[-300:])
    check("echo ok" in r.stdout, "impacket echoes 3000 sealed bytes")
    r = impacket("tamper")
    check("tampered refused" in r.stdout, "a flipped bit in a sealed request is refused: " +
          (r.stdout + r.stderr).strip()[-300:])
    r = impacket("plain")
    check("echo ok" in r.stdout, "the server still serves impacket afterwards")
    time.sleep(0.5)
finally:
    if dumpcap:
        dumpcap.send_signal(signal.SIGINT)
        dumpcap.wait(timeout=10)
    if server:
        server.terminate()
        _, log = server.communicate(timeout=30)
    subprocess.run([kdc_script, "down", realm_dir], check=False)

decode = ["-d", "tcp.port==%d,dcerpc" % port]
summary = subprocess.run(["/usr/bin/tshark", "-r", capture, "-V"] + decode,
                         capture_output=True, text=True).stdout
check("Auth type: Kerberos SSP (16)" in summary, "tshark sees auth type Kerberos SSP (16)")
check("krb-ap-req (14)" in summary, "tshark decodes the AP-REQ in the bind")
check("krb-ap-rep (15)" in summary, "tshark decodes the AP-REP in the bind_ack")
malformed = subprocess.run(["/usr/bin/tshark", "-r", capture] + decode +
                           ["-Y", "_ws.malformed || _ws.expert.severity == error"],
                           capture_output=True, text=True).stdout.strip()
check(malformed == "", "no malformed packet: %r" % malformed[:300])
check(not re.search(r"[0-9a-f]{64}", log), "no key-sized hex in the server's log")
if failures:
    print("server log:\n" + log[-3000:])
    print("capture kept in " + capture)
else:
    shutil.rmtree(top, ignore_errors=True)
sys.exit(1 if failures else 0)
