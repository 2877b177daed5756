#!/usr/bin/python3
"""Interop: a big-endian DCE/RPC peer calls comsec-echo-server.

No big-endian machine is at hand, so this script is one: it speaks raw
connection-oriented DCE/RPC over TCP with drep 0x00 0x00 0x00 0x00 (big-endian
integers, ASCII, IEEE), every header, body and NDR stub packed by hand with
struct '>' (C706 12.6, 14.2). It binds unauthenticated to IComsecEcho and
rpcecho in one bind, then checks that comsec decodes its calls in its byte
order and that the answers (in comsec's own representation, which the
receiver makes right) are right:
  IComsecEcho: Add (positive, negative, wrapping), Echo (10000 bytes sent in
  big-endian fragments), WhoAmI; rpcecho: AddOne, TestCall (a wide string),
  TestCall2 (a union), TestSurrounding (uint16 array);
and the refusals: a truncated Add stub and an Echo whose counts are
little-endian under a big-endian label both fault nca_s_fault_ndr (0x6F7),
after which the association is still served. Exit 0 on success.
Usage: big_endian_echo.py COMSEC_ECHO_SERVER
"""
import socket
import struct
import subprocess
import sys
import uuid

server_path = sys.argv[1]

BIG_ENDIAN_DREP = b"\x00\x00\x00\x00"
PFC_FIRST_FRAG, PFC_LAST_FRAG = 0x01, 0x02
BIND, BIND_ACK, REQUEST, RESPONSE, FAULT = 11, 12, 0, 2, 3
NCA_S_FAULT_NDR = 0x000006F7

ICOMSEC_ECHO = ("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21", 1, 0)
RPCECHO = ("60a15ec5-4de8-11d7-a637-005056a20182", 1, 0)
NDR20 = ("8a885d04-1ceb-11c9-9fe8-08002b104860", 2, 0)

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def ndr_uuid(text, order):
    """A UUID as NDR writes it: its three integer fields in `order`."""
    u = uuid.UUID(text)
    return struct.pack(order + "IHH", u.time_low, u.time_mid,
                       u.time_hi_version) + u.bytes[8:]


def syntax_id(syntax, order=">"):
    """p_syntax_id_t: UUID, then one u_int32 version (major in the low half)."""
    text, major, minor = syntax
    return ndr_uuid(text, order) + struct.pack(order + "I", major | minor << 16)


def pdu(ptype, call_id, body, flags=PFC_FIRST_FRAG | PFC_LAST_FRAG):
    """A big-endian PDU: header (C706 12.6.3.1) then body."""
    return (struct.pack(">BBBB", 5, 0, ptype, flags) + BIG_ENDIAN_DREP +
            struct.pack(">HHI", 16 + len(body), 0, call_id) + body)


class Peer:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.call_id = 0

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the server closed the connection")
            data += chunk
        return data

    def recv_pdu(self):
        """One fragment, read in the byte order its own drep names."""
        header = self.recv_exact(16)
        order = "<" if header[4] & 0xF0 == 0x10 else ">"
        ptype, flags = header[2], header[3]
        frag_length, auth_length, call_id = struct.unpack(order + "HHI", header[8:16])
        body = self.recv_exact(frag_length - 16)
        return ptype, flags, order, call_id, header[4:8], body

    def bind(self, syntaxes):
        self.call_id += 1
        body = struct.pack(">HHI", 4280, 4280, 0)
        body += struct.pack(">B3x", len(syntaxes))
        for context_id, syntax in enumerate(syntaxes):
            body += struct.pack(">HBx", context_id, 1)
            body += syntax_id(syntax) + syntax_id(NDR20)
        self.sock.sendall(pdu(BIND, self.call_id, body))
        ptype, _, order, call_id, drep, body = self.recv_pdu()
        if ptype != BIND_ACK:
            raise RuntimeError("bind answered with PDU type %d" % ptype)
        max_xmit, max_recv, group, addr_len = struct.unpack_from(order + "HHIH", body, 0)
        pos = 16 + 10 + addr_len  # offsets within the PDU, for alignment
        pos += (4 - pos % 4) % 4
        n_results = body[pos - 16]
        pos += 4
        results = []
        for _ in range(n_results):
            result, reason = struct.unpack_from(order + "HH", body, pos - 16)
            transfer = body[pos - 16 + 4:pos - 16 + 24]
            results.append((result, reason, transfer))
            pos += 24
        return max_xmit, max_recv, results, order, drep

    def call(self, context_id, opnum, stub, fragment_size=None):
        """Sends one request (fragmented at `fragment_size` stub bytes) and
        returns ("response", stub, order) or ("fault", status, order)."""
        self.call_id += 1
        pieces = [stub[i:i + fragment_size] for i in range(0, len(stub), fragment_size)] \
            if fragment_size else [stub]
        for i, piece in enumerate(pieces or [b""]):
            flags = (PFC_FIRST_FRAG if i == 0 else 0) | \
                    (PFC_LAST_FRAG if i == len(pieces) - 1 else 0)
            body = struct.pack(">IHH", len(stub), context_id, opnum) + piece
            self.sock.sendall(pdu(REQUEST, self.call_id, body, flags))
        reply = b""
        while True:
            ptype, flags, order, call_id, _, body = self.recv_pdu()
            if call_id != self.call_id:
                raise RuntimeError("reply to call %d, expected %d" % (call_id, self.call_id))
            if ptype == FAULT:
                return "fault", struct.unpack_from(order + "I", body, 8)[0], order
            if ptype != RESPONSE:
                raise RuntimeError("request answered with PDU type %d" % ptype)
            reply += body[8:]
            if flags & PFC_LAST_FRAG:
                return "response", reply, order


def shown(kind, value):
    return "%s %s" % (kind, hex(value) if isinstance(value, int) else value.hex())


def answer(result):
    kind, value, _ = result
    if kind != "response":
        raise RuntimeError("fault 0x%08x" % value)
    return value


server = subprocess.Popen([server_path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    line = server.stdout.readline().strip()
    binding = line.replace("listening on ", "")
    port = int(binding.split("[")[1].rstrip("]"))
    peer = Peer(port)

    max_xmit, max_recv, results, order, drep = peer.bind([ICOMSEC_ECHO, RPCECHO])
    check(len(results) == 2 and all(r[0] == 0 for r in results),
          "big-endian bind of IComsecEcho v1.0 and rpcecho v1.0 accepted: %s"
          % [(r[0], r[1]) for r in results])
    check(all(r[2] == syntax_id(NDR20, order) for r in results),
          "bind_ack names NDR 2.0 (answer's drep %s)" % drep.hex())

    # IComsecEcho.Add: [in] long a, [in] long b, [out] long* sum; long result.
    for a, b, want in ((2, 40, 42), (-7, 3, -4), (0x7FFFFFFF, 1, -0x80000000)):
        kind, r, o = peer.call(0, 1, struct.pack(">ii", a, b))
        got = struct.unpack_from(o + "ii", r, 0) if kind == "response" else ("fault", hex(r))
        check(got == (want, 0), "Add(%d, %d) = %s from a big-endian caller" % (a, b, got))

    # IComsecEcho.Echo: n, then [size_is(n)] byte data[]; sent in fragments.
    data = bytes((i * 7 + 3) & 0xFF for i in range(10000))
    kind, r, o = peer.call(0, 0, struct.pack(">II", len(data), len(data)) + data,
                           fragment_size=2000)
    if kind == "response":
        n = struct.unpack_from(o + "I", r, 0)[0]
        status = struct.unpack_from(o + "i", r, 4 + n + (4 - n % 4) % 4)[0]
        check(n == len(data) and r[4:4 + n] == data and status == 0,
              "Echo of 10000 bytes in 5 big-endian fragments")
    else:
        check(False, "Echo faulted 0x%08x" % r)

    # IComsecEcho.WhoAmI: unique pointer, [string] wchar_t*, level, service.
    kind, r, o = peer.call(0, 2, b"")
    r = answer((kind, r, o))
    ref, max_count, offset, actual = struct.unpack_from(o + "IIII", r, 0)
    name = r[16:16 + 2 * (actual - 1)].decode("utf-16-le" if o == "<" else "utf-16-be")
    check(ref != 0 and name == "NT AUTHORITY\\ANONYMOUS LOGON",
          "WhoAmI -> %r" % name)

    # rpcecho.AddOne(41).
    kind, r, o = peer.call(1, 0, struct.pack(">I", 41))
    check(kind == "response" and struct.unpack_from(o + "I", r, 0)[0] == 42,
          "rpcecho.AddOne(41) = 42")
    # rpcecho.TestCall: [in,string] wchar_t* s1 comes back (big-endian UTF-16).
    text = "h\u00e9llo \u20ac"
    units = text.encode("utf-16-be") + b"\0\0"
    n = len(units) // 2
    kind, r, o = peer.call(1, 4, struct.pack(">III", n, 0, n) + units)
    if kind == "response":
        ref, max_count, offset, actual = struct.unpack_from(o + "IIII", r, 0)
        back = r[16:16 + 2 * (actual - 1)].decode("utf-16-le" if o == "<" else "utf-16-be")
        check(back == text, "rpcecho.TestCall(%r) -> %r" % (text, back))
    else:
        check(False, "rpcecho.TestCall faulted 0x%08x" % r)
    # rpcecho.TestCall2(level 3): a union whose arm is a uint32 (30).
    kind, r, o = peer.call(1, 5, struct.pack(">H", 3))
    check(kind == "response" and struct.unpack_from(o + "H2xII", r, 0) == (3, 30, 0),
          "rpcecho.TestCall2(3) -> info3 30")
    # rpcecho.TestSurrounding: {x, [size_is(x)] uint16 surrounding[]}.
    kind, r, o = peer.call(1, 8, struct.pack(">IIHHH", 3, 3, 0x0102, 0x0304, 0x0506))
    check(kind == "response" and struct.unpack_from(o + "II", r, 0) == (6, 6),
          "rpcecho.TestSurrounding(x=3) -> x=6")

    # Refusals: a truncated stub, and little-endian counts under a
    # big-endian label (0x03000000 bytes announced): nca_s_fault_ndr.
    kind, status, _ = peer.call(0, 1, struct.pack(">i", 2))
    check((kind, status) == ("fault", NCA_S_FAULT_NDR),
          "Add with half its stub faults nca_s_fault_ndr: " + shown(kind, status))
    kind, status, _ = peer.call(0, 0, struct.pack("<II", 3, 3) + b"abc")
    check((kind, status) == ("fault", NCA_S_FAULT_NDR),
          "Echo with little-endian counts under drep 0x00 faults nca_s_fault_ndr: "
          + shown(kind, status))
    kind, r, o = peer.call(0, 1, struct.pack(">ii", 20, 22))
    check(kind == "response" and struct.unpack_from(o + "i", r, 0)[0] == 42,
          "the association is served after the faults")
    peer.sock.close()
except Exception as e:  # noqa: BLE001 - any failure is reported and fails the test
    check(False, "%s: %s" % (type(e).__name__, e))
finally:
    server.terminate()
    try:
        _, err = server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        _, err = server.communicate()
        failures.append("server stops")
    if failures:
        print("server log:\n" + err)

sys.exit(1 if failures else 0)
