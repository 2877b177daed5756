#!/usr/bin/python3
"""Interop: tshark, an independent decoder, reads a capture of NTLM calls.

Starts comsecd (endpoint mapper) and comsec-echo-server with a store holding
one account, captures loopback traffic with dumpcap while our client resolves
the server through ept_map and calls it at PKT_INTEGRITY and PKT_PRIVACY, and
impacket maps and echoes 1 MiB without authentication.
(impacket's NTLM traffic is left out: tshark 4.0 reports its sealed PDUs as
malformed, though our server verifies and unseals them.) Then tshark, given the account's password
through its NTLMSSP preference, must (a) decode DCERPC, EPM and NTLMSSP with
no malformed packet and (b) decrypt the sealed stub data of the PKT_PRIVACY
responses into WhoAmI's answer — evidence that our sealing is the real RC4
of MS-NLMP, keyed as MS-NLMP says.
Usage: tshark_ntlm.py ECHO_SERVER ECHO_CLIENT COMSECD COMCFG WORKDIR.
Exit 0 on success, 77 (skipped) when this machine cannot capture.
"""
import os
import re
import signal
import subprocess
import sys
import time

server_path, client_path, comsecd_path, comcfg_path, workdir = sys.argv[1:6]
os.makedirs(workdir, exist_ok=True)
os.chmod(workdir, 0o755)  # it holds comsecd's ncalrpc socket: writable by us alone
store = os.path.join(workdir, "tshark.db")
capture = os.path.join(workdir, "ntlm.pcapng")
secrets = store[:-3] + ".secrets.db"
for f in (store, store + "-wal", store + "-shm", secrets, secrets + "-wal", secrets + "-shm",
          capture):
    if os.path.exists(f):
        os.remove(f)
PASSWORD = "Tshark#Pass1"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(args, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True)


def port_of(binding):
    return int(binding.split("[")[1].split("]")[0])


def read_binding(proc):
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("process exited: " + proc.stderr.read())
        if line.startswith("listening on"):
            return line.split("listening on ", 1)[1].strip()


run([comcfg_path, "--store", store, "init"])
r = run([comcfg_path, "--store", store, "user", "add", "alice", "--password-stdin"],
        stdin=PASSWORD + "\n")
check(r.returncode == 0, "account created: " + r.stdout.strip())

# Lookups over TCP; the echo server registers over ncalrpc.
epm_local = "ncalrpc:%s/epmapper" % workdir
comsecd = subprocess.Popen([comsecd_path, "--store", store, "--listen",
                            "ncacn_ip_tcp:127.0.0.1[0]", "--listen", epm_local],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
epm = read_binding(comsecd)
read_binding(comsecd)  # the ncalrpc endpoint
server = subprocess.Popen([server_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]",
                           "--endpoint-mapper", epm_local, "--store", store],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
echo = read_binding(server)
echo_port, epm_port = port_of(echo), port_of(epm)
dumpcap = None
try:
    dumpcap = subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-f",
                                "tcp port %d or tcp port %d" % (echo_port, epm_port),
                                "-w", capture],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = dumpcap.stderr.readline()
    if "Capturing on" not in line:
        print("cannot capture on lo here (%s); skipping" % line.strip())
        sys.exit(77)
    time.sleep(0.5)  # the filter is live once dumpcap says so; settle anyway

    base = [client_path, "--binding", "ncacn_ip_tcp:127.0.0.1", "--endpoint-mapper", epm,
            "--auth", "ntlm", "--user", "alice", "--password", PASSWORD]
    r = run(base + ["--level", "6", "whoami"])
    check(r.returncode == 0 and "alice authn_level=6" in r.stdout,
          "our client via ept_map at PKT_PRIVACY: " + (r.stdout + r.stderr).strip())
    r = run(base + ["--level", "2", "whoami"])
    check(r.returncode == 0, "our client at CONNECT")
    r = run(base + ["--level", "5", "echo", "--size", "3000"])
    check(r.returncode == 0, "our client at PKT_INTEGRITY echoes 3000 bytes")

    # (Not Add: tshark 4.0 throws on 8-byte sealed stubs, though impacket
    # unseals ours correctly.)
    r = run(base + ["--level", "6", "echo", "--size", "64"])
    check(r.returncode == 0, "our client at PKT_PRIVACY echoes 64 bytes")
    # Issue 4's capture: impacket, unauthenticated, maps the endpoint and
    # echoes 1 MiB (fragmented both ways); tshark must find nothing malformed.
    imp = run(["/usr/bin/python3", "-c", """
import struct, sys
from impacket.dcerpc.v5 import transport, epm
from impacket.uuid import uuidtup_to_bin
iface = uuidtup_to_bin(('4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21', '1.0'))
m = transport.DCERPCTransportFactory(sys.argv[1]).get_dce_rpc(); m.connect()
b = epm.hept_map('127.0.0.1', iface, protocol='ncacn_ip_tcp', dce=m)
d = transport.DCERPCTransportFactory(b).get_dce_rpc(); d.connect(); d.bind(iface)
data = bytes(i & 0xFF for i in range(1 << 20))
d.call(0, struct.pack('<II', len(data), len(data)) + data)
print('ok' if d.recv()[4:4 + len(data)] == data else 'bad')
""", epm])
    check(imp.returncode == 0 and imp.stdout.strip() == "ok",
          "impacket maps and echoes 1 MiB unauthenticated: " + (imp.stdout + imp.stderr).strip()[-200:])
    time.sleep(0.5)
finally:
    if dumpcap:
        dumpcap.send_signal(signal.SIGINT)
        dumpcap.wait(timeout=10)
    # communicate() drains the pipes while waiting, so a daemon never blocks
    # writing its log; a daemon that does not stop is a failure, with its log.
    for name, proc in (("echo server", server), ("comsecd", comsecd)):
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            print("FAIL %s did not stop on SIGTERM; its log:\n%s" % (name, err))
            failures.append(name + " stops")

decode = ["-d", "tcp.port==%d,dcerpc" % echo_port, "-d", "tcp.port==%d,dcerpc" % epm_port,
          "-o", "ntlmssp.nt_password:" + PASSWORD]
summary = run(["tshark", "-r", capture] + decode)
text = summary.stdout
check("NTLMSSP_NEGOTIATE" in text and "NTLMSSP_CHALLENGE" in text and "NTLMSSP_AUTH" in text,
      "tshark decodes NTLMSSP NEGOTIATE, CHALLENGE and AUTHENTICATE")
check("EPM" in text and "Map request" in text and "Map response" in text,
      "tshark's EPM dissector decodes ept_map")
# Case 29: every authenticated request of ours carries a verification
# trailer (bitmask1, pcontext, header2) that tshark decodes, the last command
# flagged END (tshark marks MUST_PROCESS commands, as header2 is, with "!!!").
verbose = run(["tshark", "-r", capture, "-V"] + decode + ["-Y", "dcerpc.pkt_type == 0"]).stdout
requests = verbose.count("Packet type: Request (0)")
trailers = verbose.count("Verification Trailer")
check(trailers >= 4 and "Cmd: PCONTEXT" in verbose and
      "Cmd: HEADER2" in verbose and "Cmd: BITMASK_1" in verbose and
      "SEC_VT_COMMAND_END" in verbose,
      "tshark decodes our verification trailers (%d in %d requests)" % (trailers, requests))
malformed = run(["tshark", "-r", capture] + decode + ["-Y", "_ws.malformed || _ws.expert.severity == error"])
check(malformed.stdout.strip() == "", "no malformed packet: %r" % malformed.stdout.strip()[:300])

# The decrypted stub data of every PKT_PRIVACY response, from tshark's own
# "Decrypted stub data" source.
hexdump = run(["tshark", "-r", capture, "-x"] + decode).stdout
decrypted = bytearray()
for block in re.findall(r"Decrypted stub data \(\d+ bytes\):\n((?:[0-9a-f]{4}  .*\n)+)", hexdump):
    for row in block.splitlines():
        decrypted += bytes.fromhex(row[6:53].replace(" ", ""))
check("alice".encode("utf-16-le") in bytes(decrypted),
      "tshark decrypts our sealed WhoAmI response to '...\\alice'")
pattern = bytes((i * 31 + 7) & 0xFF for i in range(64))
check(bytes(decrypted).count(pattern) >= 2,
      "tshark decrypts the sealed Echo request and response to the 64 bytes sent")
sys.exit(1 if failures else 0)
