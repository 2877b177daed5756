#!/usr/bin/python3
"""Independent expectations for the MS-DCOM known-answer fixtures.

Decodes each fixture of tests/data/dcom (copied from ../shared/fixtures/dcom; an NDR20 stub or an OBJREF,
one line of hex) twice: with impacket's structures (impacket.dcerpc.v5.dcomrt,
which impacket's DCOM client uses against Windows), and with a small byte
walker written here from [MS-DCOM]/[MS-RPCE] and idl/ms-dcom/*.idl. The two
must agree on every value, or the script stops. It then writes one JSON file
per fixture to tests/data/comidl/ holding:

  fields         the decoded values, as impacket reads them (GUIDs in
                 lowercase 8-4-4-4-12 form, NULL pointers as null)
  layout         every primitive the walker read: offset, size, field, value
  pads           every alignment or stream padding region and its bytes
  referent_ids   offset and value of every non-NULL pointer's referent id
  streams        for activation property streams, their type serialization
                 v1 headers and how ObjectBufferLength compares with the NDR
                 bytes actually used
  canonical_hex  the bytes an encoder following the specification emits for
                 the same values: pads and the private-header filler zero,
                 ObjectBufferLength including the stream's padding. Referent
                 ids are kept as they are (an encoder may choose its own).
  quirks         what in the fixture differs from what the specification says
                 an encoder emits (a decoder must accept all of it)

The JSON is test data: commit it. Regenerate with
  /usr/bin/python3 tests/comidl/decode_fixtures.py [--fixtures DIR] [--out DIR]
and check that `git diff tests/data/comidl` is empty.
"""

import argparse
import binascii
import json
import os
import struct
import sys
import uuid

from impacket import version as impacket_version
from impacket.dcerpc.v5 import dcomrt
from impacket.dcerpc.v5.ndr import NDR, NDRPOINTER

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_FIXTURES = os.path.join(REPO, "tests", "data", "dcom")
DEFAULT_OUT = os.path.join(REPO, "tests", "data", "comidl")

# Property CLSIDs ([MS-DCOM] 1.9) and the impacket structure for each.
PROPERTY_CLSIDS = {
    "000001ab-0000-0000-c000-000000000046": "InstantiationInfoData",
    "000001a5-0000-0000-c000-000000000046": "ActivationContextInfoData",
    "000001a4-0000-0000-c000-000000000046": "LocationInfoData",
    "000001aa-0000-0000-c000-000000000046": "ScmRequestInfoData",
    "000001b6-0000-0000-c000-000000000046": "ScmReplyInfoData",
    "00000339-0000-0000-c000-000000000046": "PropsOutInfo",
    "000001a6-0000-0000-c000-000000000046": "SecurityInfoData",
    "000001b9-0000-0000-c000-000000000046": "SpecialPropertiesData",
    "000001ad-0000-0000-c000-000000000046": "InstanceInfoData",
}

OBJREF_SIGNATURE = 0x574F454D
TS1_FILLER = 0xCCCCCCCC  # common header filler the specification asks for


class Mismatch(Exception):
    pass


def guid_str(raw):
    return str(uuid.UUID(bytes_le=bytes(raw)))


def check(cond, what):
    if not cond:
        raise Mismatch(what)


# ==== The byte walker =======================================================
#
# Reads little-endian NDR20 primitives, each aligned to its size relative to
# `origin` (the stub's start, or a pickled stream's NDR body), recording what it
# read, the padding it skipped and the referent ids it met.


class Walker:
    def __init__(self, data, start=0, end=None, origin=0, record=None):
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end
        self.origin = origin
        self.rec = record if record is not None else {"layout": [], "pads": [], "referent_ids": []}

    def sub(self, start, end, origin):
        return Walker(self.data, start, end, origin, self.rec)

    def _take(self, n, what):
        if self.pos + n > self.end:
            raise Mismatch("%s: %d bytes needed at offset %d, %d left" % (what, n, self.pos, self.end - self.pos))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def align(self, n, what="alignment"):
        gap = (-(self.pos - self.origin)) % n
        if gap:
            off = self.pos
            b = self._take(gap, what)
            self.rec["pads"].append({"offset": off, "bytes": b.hex(), "reason": what})

    def _prim(self, fmt, size, field):
        self.align(size, "align %d before %s" % (size, field))
        off = self.pos
        v = struct.unpack("<" + fmt, self._take(size, field))[0]
        self.rec["layout"].append({"offset": off, "size": size, "field": field, "value": v})
        return v

    def u8(self, f):
        return self._prim("B", 1, f)

    def u16(self, f):
        return self._prim("H", 2, f)

    def u32(self, f):
        return self._prim("I", 4, f)

    def i32(self, f):
        return self._prim("i", 4, f)

    def u64(self, f):
        return self._prim("Q", 8, f)

    def guid(self, f):
        self.align(4, "align 4 before %s" % f)
        off = self.pos
        v = guid_str(self._take(16, f))
        self.rec["layout"].append({"offset": off, "size": 16, "field": f, "value": v})
        return v

    def pointer(self, f):
        self.align(4, "align 4 before %s (referent id)" % f)
        off = self.pos
        ref = self.u32(f + " (referent id)")
        if ref:
            self.rec["referent_ids"].append({"offset": off, "field": f, "value": ref})
        return ref

    def conformance(self, f):
        return self.u32(f + " (max_count)")


# ---- [MS-DCOM] types, as idl/ms-dcom declares them --------------------------


def walk_comversion(w, f):
    w.align(2)
    return {"MajorVersion": w.u16(f + ".MajorVersion"), "MinorVersion": w.u16(f + ".MinorVersion")}


def walk_orpcthis(w, f):
    w.align(4)
    v = {"version": walk_comversion(w, f + ".version"),
         "flags": w.u32(f + ".flags"),
         "reserved1": w.u32(f + ".reserved1"),
         "cid": w.guid(f + ".cid")}
    if w.pointer(f + ".extensions"):
        raise Mismatch("ORPC extensions are not in any fixture; extend the walker")
    v["extensions"] = None
    return v


def walk_minterfacepointer(w, f):
    # A conformant structure: max_count leads.
    n = w.conformance(f + ".abData")
    cnt = w.u32(f + ".ulCntData")
    check(n == cnt, "%s: max_count %d but ulCntData %d" % (f, n, cnt))
    start = w.pos
    w._take(n, f + ".abData")
    w.rec["layout"].append({"offset": start, "size": n, "field": f + ".abData", "value": "OBJREF, %d bytes" % n})
    return {"ulCntData": cnt, "abData_offset": start}


def walk_conformant_u16(w, f, count_field_value):
    n = w.conformance(f)
    check(n == count_field_value, "%s: max_count %d but the count says %d" % (f, n, count_field_value))
    return [w.u16("%s[%d]" % (f, i)) for i in range(n)]


def walk_conformant_guids(w, f, count):
    n = w.conformance(f)
    check(n == count, "%s: max_count %d but the count says %d" % (f, n, count))
    return [w.guid("%s[%d]" % (f, i)) for i in range(n)]


def parse_bindings(words, security_offset):
    """STRINGBINDINGs then SECURITYBINDINGs in a DUALSTRINGARRAY ([MS-DCOM]
    2.2.19.3-4), read from the array's 16-bit words."""
    def read_until_empty(i, secure):
        out = []
        while True:
            check(i < len(words), "bindings run past the array")
            if words[i] == 0:
                return out, i + 1
            head = words[i]
            j = i + 1
            authz = None
            if secure:
                authz = words[j]
                j += 1
            k = j
            while words[k] != 0:
                k += 1
            text = "".join(chr(c) for c in words[j:k])
            if secure:
                out.append({"wAuthnSvc": head, "wAuthzSvc": authz, "aPrincName": text})
            else:
                out.append({"wTowerId": head, "aNetworkAddr": text})
            i = k + 1
    strings, after = read_until_empty(0, False)
    check(after == security_offset, "string bindings end at %d, wSecurityOffset is %d" % (after, security_offset))
    security, after = read_until_empty(security_offset, True)
    check(after == len(words), "security bindings end at %d of %d words" % (after, len(words)))
    return strings, security


def walk_dualstringarray(w, f):
    n = w.conformance(f + ".aStringArray")
    v = {"wNumEntries": w.u16(f + ".wNumEntries"), "wSecurityOffset": w.u16(f + ".wSecurityOffset")}
    check(n == v["wNumEntries"], "%s: max_count %d but wNumEntries %d" % (f, n, v["wNumEntries"]))
    v["aStringArray"] = [w.u16("%s.aStringArray[%d]" % (f, i)) for i in range(n)]
    v["string_bindings"], v["security_bindings"] = parse_bindings(v["aStringArray"], v["wSecurityOffset"])
    return v


def walk_wstring(w, f):
    mx = w.u32(f + " (max_count)")
    off = w.u32(f + " (offset)")
    act = w.u32(f + " (actual_count)")
    check(off == 0 and act <= mx, "%s: bad string bounds" % f)
    chars = [w.u16("%s[%d]" % (f, i)) for i in range(act)]
    check(act > 0 and chars[-1] == 0, "%s: not NUL-terminated" % f)
    return "".join(chr(c) for c in chars[:-1])


# ---- Activation properties ([MS-DCOM] 2.2.22), pickled ([MS-RPCE] 2.2.6) ----


def walk_custom_header(w, f):
    v = {"totalSize": w.u32(f + ".totalSize"), "headerSize": w.u32(f + ".headerSize"),
         "dwReserved": w.u32(f + ".dwReserved"), "destCtx": w.u32(f + ".destCtx"),
         "cIfs": w.u32(f + ".cIfs"), "classInfoClsid": w.guid(f + ".classInfoClsid")}
    p_clsid = w.pointer(f + ".pclsid")
    p_sizes = w.pointer(f + ".pSizes")
    p_res = w.pointer(f + ".pdwReserved")
    v["pclsid"] = walk_conformant_guids(w, f + ".pclsid", v["cIfs"]) if p_clsid else None
    if p_sizes:
        n = w.conformance(f + ".pSizes")
        check(n == v["cIfs"], "pSizes max_count %d, cIfs %d" % (n, v["cIfs"]))
        v["pSizes"] = [w.u32("%s.pSizes[%d]" % (f, i)) for i in range(n)]
    else:
        v["pSizes"] = None
    v["pdwReserved"] = w.u32(f + ".*pdwReserved") if p_res else None
    return v


def walk_instantiation_info(w, f):
    v = {"classId": w.guid(f + ".classId"), "classCtx": w.u32(f + ".classCtx"),
         "actvflags": w.u32(f + ".actvflags"), "fIsSurrogate": w.i32(f + ".fIsSurrogate"),
         "cIID": w.u32(f + ".cIID"), "instFlag": w.u32(f + ".instFlag")}
    p_iid = w.pointer(f + ".pIID")
    v["thisSize"] = w.u32(f + ".thisSize")
    v["clientCOMVersion"] = walk_comversion(w, f + ".clientCOMVersion")
    v["pIID"] = walk_conformant_guids(w, f + ".pIID", v["cIID"]) if p_iid else None
    return v


def walk_activation_context_info(w, f):
    v = {"clientOK": w.i32(f + ".clientOK"), "bReserved1": w.i32(f + ".bReserved1"),
         "dwReserved1": w.u32(f + ".dwReserved1"), "dwReserved2": w.u32(f + ".dwReserved2")}
    p1 = w.pointer(f + ".pIFDClientCtx")
    p2 = w.pointer(f + ".pIFDPrototypeCtx")
    v["pIFDClientCtx"] = walk_minterfacepointer(w, f + ".pIFDClientCtx") if p1 else None
    v["pIFDPrototypeCtx"] = walk_minterfacepointer(w, f + ".pIFDPrototypeCtx") if p2 else None
    return v


def walk_location_info(w, f):
    p = w.pointer(f + ".machineName")
    v = {"processId": w.u32(f + ".processId"), "apartmentId": w.u32(f + ".apartmentId"),
         "contextId": w.u32(f + ".contextId")}
    v["machineName"] = walk_wstring(w, f + ".machineName") if p else None
    return v


def walk_scm_request_info(w, f):
    p_res = w.pointer(f + ".pdwReserved")
    p_req = w.pointer(f + ".remoteRequest")
    v = {"pdwReserved": w.u32(f + ".*pdwReserved") if p_res else None, "remoteRequest": None}
    if p_req:
        g = f + ".remoteRequest"
        w.align(4)
        r = {"ClientImpLevel": w.u32(g + ".ClientImpLevel"),
             "cRequestedProtseqs": w.u16(g + ".cRequestedProtseqs")}
        p_seqs = w.pointer(g + ".pRequestedProtseqs")
        r["pRequestedProtseqs"] = (walk_conformant_u16(w, g + ".pRequestedProtseqs", r["cRequestedProtseqs"])
                                   if p_seqs else None)
        v["remoteRequest"] = r
    return v


PROPERTY_WALKERS = {
    "InstantiationInfoData": walk_instantiation_info,
    "ActivationContextInfoData": walk_activation_context_info,
    "LocationInfoData": walk_location_info,
    "ScmRequestInfoData": walk_scm_request_info,
}


def walk_pickled(w, start, region_end, type_name, body_walker, patches, quirks):
    """One type serialization v1 stream ([MS-RPCE] 2.2.6) occupying
    [start, region_end): common header, private header, NDR body, padding."""
    s = w.sub(start, region_end, origin=start)
    f = type_name
    hdr = {"Version": s.u8(f + " common header Version"),
           "Endianness": s.u8(f + " common header Endianness"),
           "CommonHeaderLength": s.u16(f + " common header CommonHeaderLength"),
           "Filler": s.u32(f + " common header Filler")}
    check(hdr["Version"] == 1 and hdr["Endianness"] == 0x10 and hdr["CommonHeaderLength"] == 8,
          "%s: not a little-endian type serialization v1 stream" % f)
    obl_offset = s.pos
    priv = {"ObjectBufferLength": s.u32(f + " private header ObjectBufferLength")}
    filler_offset = s.pos
    priv["Filler"] = s.u32(f + " private header Filler")
    body_start = s.pos
    b = s.sub(body_start, region_end, origin=body_start)
    value = body_walker(b, f)
    used = b.pos - body_start
    padded = (used + 7) & ~7
    region = region_end - body_start
    check(region == padded, "%s: %d NDR bytes need a %d-byte region, it has %d" % (f, used, padded, region))
    pad = w.data[b.pos:region_end]
    if pad:
        w.rec["pads"].append({"offset": b.pos, "bytes": pad.hex(), "reason": "%s stream padding to 8" % f})
    info = {"offset": start, "common_header": hdr, "private_header": priv,
            "ndr_bytes": used, "padding_bytes": padded - used, "serialized_bytes": region_end - start}
    if hdr["Filler"] != TS1_FILLER:
        quirks.append("%s: common header Filler 0x%08X, the specification says 0xCCCCCCCC" % (f, hdr["Filler"]))
        patches.append((start + 4, struct.pack("<I", TS1_FILLER)))
    if priv["Filler"] != 0:
        quirks.append("%s: private header Filler is 0x%08X, the specification says 0" % (f, priv["Filler"]))
        patches.append((filler_offset, b"\0\0\0\0"))
    if priv["ObjectBufferLength"] != padded:
        quirks.append("%s: ObjectBufferLength is %d, the NDR bytes without the %d-byte padding; the specification "
                      "says %d (padding included)" % (f, priv["ObjectBufferLength"], padded - used, padded))
        patches.append((obl_offset, struct.pack("<I", padded)))
    return value, info


def walk_objref_custom(data, base, patches, quirks):
    """An OBJREF_CUSTOM carrying an activation properties BLOB ([MS-DCOM]
    2.2.18, 2.2.18.6, 2.2.22). `base` is its offset in `data`. OBJREF is a
    little-endian byte layout; NDR alignment applies only inside the pickled
    streams."""
    w = Walker(data, base, origin=base)
    o = {"signature": w.u32("objref.signature"), "flags": w.u32("objref.flags"), "iid": w.guid("objref.iid")}
    check(o["signature"] == OBJREF_SIGNATURE and o["flags"] == 4, "not an OBJREF_CUSTOM")
    o["custom"] = {"clsid": w.guid("objref.custom.clsid"), "cbExtension": w.u32("objref.custom.cbExtension"),
                   "reserved": w.u32("objref.custom.reserved")}
    blob_start = w.pos
    o["custom"]["pObjectData_offset"] = blob_start - base
    o["custom"]["pObjectData_length"] = len(data) - blob_start
    blob = {"dwSize": w.u32("blob.dwSize"), "dwReserved": w.u32("blob.dwReserved")}
    streams_start = w.pos
    check(streams_start + blob["dwSize"] == len(data),
          "dwSize %d but %d bytes follow" % (blob["dwSize"], len(data) - streams_start))
    # The header stream's length is only known once read: walk it over the
    # rest of the BLOB first, then again over exactly headerSize bytes.
    probe = Walker(data, streams_start + 16, origin=streams_start + 16, record={"layout": [], "pads": [],
                                                                                "referent_ids": []})
    header_size = walk_custom_header(probe, "probe")["headerSize"]
    streams = []
    header, info = walk_pickled(w, streams_start, streams_start + header_size, "CustomHeader",
                                walk_custom_header, patches, quirks)
    info["type"] = "CustomHeader"
    streams.append(info)
    blob["CustomHeader"] = header
    check(header["totalSize"] == blob["dwSize"], "totalSize %d, dwSize %d" % (header["totalSize"], blob["dwSize"]))
    props = []
    at = streams_start + header_size
    for clsid, size in zip(header["pclsid"], header["pSizes"]):
        name = PROPERTY_CLSIDS.get(clsid)
        check(name in PROPERTY_WALKERS, "no walker for property %s (%s)" % (clsid, name))
        value, info = walk_pickled(w, at, at + size, name, PROPERTY_WALKERS[name], patches, quirks)
        info["type"] = name
        info["clsid"] = clsid
        streams.append(info)
        props.append({"clsid": clsid, "type": name, "size": size, "value": value})
        at += size
    check(at == len(data), "properties end at %d of %d" % (at, len(data)))
    blob["properties"] = props
    o["custom"]["activation_blob"] = blob
    return o, streams, w.rec


# ==== impacket's reading ====================================================


def imp_val(x):
    """An impacket field or array item as a plain value."""
    if isinstance(x, NDR) and not isinstance(x, NDRPOINTER) and "Data" in x.fields:
        return x["Data"]
    return x


def imp_ptr(parent, name):
    return parent.fields[name].fields.get("ReferentID", 0)


def imp_comversion(c):
    return {"MajorVersion": c["MajorVersion"], "MinorVersion": c["MinorVersion"]}


def imp_orpcthis(o):
    return {"version": imp_comversion(o["version"]), "flags": o["flags"], "reserved1": o["reserved1"],
            "cid": guid_str(o["cid"]), "extensions": None if imp_ptr(o, "extensions") == 0 else "present"}


def imp_guids(arr):
    return [guid_str(imp_val(g)) for g in arr]


def imp_dualstringarray(d):
    words = [imp_val(x) for x in d["aStringArray"]]
    raw = b"".join(struct.pack("<H", x) for x in words)
    sec_at = d["wSecurityOffset"] * 2
    # String bindings with impacket's own STRINGBINDING, as its DCOMConnection
    # walks them.
    strings, rest = [], raw[:sec_at]
    while rest[:2] != b"\0\0":
        sb = dcomrt.STRINGBINDING(rest)
        strings.append({"wTowerId": sb["wTowerId"], "aNetworkAddr": sb["aNetworkAddr"].rstrip("\0")})
        rest = rest[len(sb):]
    # impacket's SECURITYBINDING finds the end of aPrincName by looking for
    # three zero bytes, which misreads an empty principal name followed by
    # another binding; split the UTF-16 text at its NULs instead.
    security = []
    for run in raw[sec_at:].decode("utf-16le").split("\0"):
        if not run:
            break
        security.append({"wAuthnSvc": ord(run[0]), "wAuthzSvc": ord(run[1]), "aPrincName": run[2:]})
    return {"wNumEntries": d["wNumEntries"], "wSecurityOffset": d["wSecurityOffset"], "aStringArray": words,
            "string_bindings": strings, "security_bindings": security}


def imp_pickled(cls, data):
    obj = cls()
    n = obj.fromString(data)
    obj.fromStringReferents(data[n:])
    return obj


def imp_property(name, data):
    if name == "InstantiationInfoData":
        p = imp_pickled(dcomrt.InstantiationInfoData, data)
        return {"classId": guid_str(p["classId"]), "classCtx": p["classCtx"], "actvflags": p["actvflags"],
                "fIsSurrogate": p["fIsSurrogate"], "cIID": p["cIID"], "instFlag": p["instFlag"],
                "thisSize": p["thisSize"], "clientCOMVersion": imp_comversion(p["clientCOMVersion"]),
                "pIID": imp_guids(p["pIID"]) if imp_ptr(p, "pIID") else None}
    if name == "ActivationContextInfoData":
        p = imp_pickled(dcomrt.ActivationContextInfoData, data)
        check(imp_ptr(p, "pIFDClientCtx") == 0 and imp_ptr(p, "pIFDPrototypeCtx") == 0,
              "contexts are not in any fixture; extend the comparison")
        return {"clientOK": p["clientOK"], "bReserved1": p["bReserved1"], "dwReserved1": p["dwReserved1"],
                "dwReserved2": p["dwReserved2"], "pIFDClientCtx": None, "pIFDPrototypeCtx": None}
    if name == "LocationInfoData":
        p = imp_pickled(dcomrt.LocationInfoData, data)
        return {"machineName": p["machineName"]["Data"].rstrip("\0") if imp_ptr(p, "machineName") else None,
                "processId": p["processId"], "apartmentId": p["apartmentId"], "contextId": p["contextId"]}
    if name == "ScmRequestInfoData":
        p = imp_pickled(dcomrt.ScmRequestInfoData, data)
        r = p["remoteRequest"]
        return {"pdwReserved": None if imp_ptr(p, "pdwReserved") == 0 else p["pdwReserved"],
                "remoteRequest": {"ClientImpLevel": r["ClientImpLevel"],
                                  "cRequestedProtseqs": r["cRequestedProtseqs"],
                                  "pRequestedProtseqs": [imp_val(x) for x in r["pRequestedProtseqs"]]}}
    raise Mismatch("no impacket reading for %s" % name)


def imp_objref_custom(raw):
    o = dcomrt.OBJREF_CUSTOM(raw)
    blob = dcomrt.ACTIVATION_BLOB(o["pObjectData"])
    h = blob["CustomHeader"]
    header = {"totalSize": h["totalSize"], "headerSize": h["headerSize"], "dwReserved": h["dwReserved"],
              "destCtx": h["destCtx"], "cIfs": h["cIfs"], "classInfoClsid": guid_str(h["classInfoClsid"]),
              "pclsid": imp_guids(h["pclsid"]), "pSizes": [imp_val(x) for x in h["pSizes"]],
              "pdwReserved": None if imp_ptr(h, "pdwReserved") == 0 else "present"}
    props, rest = [], blob["Property"]
    for clsid, size in zip(header["pclsid"], header["pSizes"]):
        name = PROPERTY_CLSIDS[clsid]
        props.append({"clsid": clsid, "type": name, "size": size, "value": imp_property(name, rest[:size])})
        rest = rest[size:]
    check(rest == b"", "impacket: bytes after the last property")
    return {"signature": o["signature"], "flags": o["flags"], "iid": guid_str(o["iid"]),
            "custom": {"clsid": guid_str(o["clsid"]), "cbExtension": o["cbExtension"],
                       "reserved": o["ObjectReferenceSize"],
                       "activation_blob": {"dwSize": blob["dwSize"], "dwReserved": blob["dwReserved"],
                                           "CustomHeader": header, "properties": props}}}


# ==== Comparing the two readings ============================================


def compare(imp, mine, path="fields"):
    """Every value impacket read must be what the walker read."""
    if isinstance(imp, dict):
        check(isinstance(mine, dict), "%s: impacket has a structure, the walker %r" % (path, mine))
        for k, v in imp.items():
            check(k in mine, "%s.%s: the walker has no such field" % (path, k))
            compare(v, mine[k], path + "." + k)
    elif isinstance(imp, list):
        check(isinstance(mine, list) and len(mine) == len(imp), "%s: lengths differ" % path)
        for i, (a, b) in enumerate(zip(imp, mine)):
            compare(a, b, "%s[%d]" % (path, i))
    elif imp == "present":
        check(mine is not None, "%s: impacket sees a referent, the walker NULL" % path)
    else:
        check(imp == mine, "%s: impacket reads %r, the walker %r" % (path, imp, mine))


def strip_offsets(v):
    """The walker's values without its bookkeeping keys."""
    if isinstance(v, dict):
        return {k: strip_offsets(x) for k, x in v.items() if not k.endswith("_offset") and k != "pObjectData_length"}
    if isinstance(v, list):
        return [strip_offsets(x) for x in v]
    return v


# ==== The fixtures ==========================================================


def fixture_remote_create_instance(data):
    patches, quirks = [], []
    w = Walker(data)
    mine = {"orpcthis": walk_orpcthis(w, "orpcthis")}
    mine["pUnkOuter"] = walk_minterfacepointer(w, "pUnkOuter") if w.pointer("pUnkOuter") else None
    check(w.pointer("pActProperties"), "pActProperties is NULL")
    mip = walk_minterfacepointer(w, "pActProperties")
    check(w.pos == len(data), "RemoteCreateInstance: %d bytes left" % (len(data) - w.pos))
    objref_at = mip["abData_offset"]
    objref, streams, rec = walk_objref_custom(data, objref_at, patches, quirks)
    mine["pActProperties"] = {"ulCntData": mip["ulCntData"], "objref": objref}
    _merge(w.rec, rec)

    req = dcomrt.RemoteCreateInstance(data)
    imp = {"orpcthis": imp_orpcthis(req["ORPCthis"]),
           "pUnkOuter": None if imp_ptr(req, "pUnkOuter") == 0 else "present",
           "pActProperties": {"ulCntData": req["pActProperties"]["ulCntData"],
                              "objref": imp_objref_custom(b"".join(req["pActProperties"]["abData"]))}}
    compare(imp, strip_offsets(mine))
    extra = {"objref_offset": objref_at, "streams": streams}
    quirks += objref_quirks(objref) + orpc_quirks(imp["orpcthis"])
    return imp, w.rec, patches, quirks, extra


def fixture_objref(data):
    patches, quirks = [], []
    objref, streams, rec = walk_objref_custom(data, 0, patches, quirks)
    imp = imp_objref_custom(data)
    compare(imp, strip_offsets(objref))
    quirks += objref_quirks(objref)
    return imp, rec, patches, quirks, {"streams": streams}


def objref_quirks(objref):
    c = objref["custom"]
    out = []
    if c["reserved"] != c["pObjectData_length"]:
        out.append("OBJREF_CUSTOM reserved (impacket's ObjectReferenceSize) is %d, pObjectData is %d bytes: "
                   "impacket adds 8; the specification lets the field be any value, ignored on receipt"
                   % (c["reserved"], c["pObjectData_length"]))
    for p in c["activation_blob"]["properties"]:
        if p["type"] == "InstantiationInfoData" and p["value"]["thisSize"] == 0:
            out.append("InstantiationInfoData.thisSize is 0, not the structure's serialized size "
                       "(the specification says SHOULD be ignored on receipt)")
        if p["type"] == "ScmRequestInfoData" and p["value"]["remoteRequest"]["ClientImpLevel"] == 0:
            out.append("customREMOTE_REQUEST_SCM_INFO.ClientImpLevel is 0 (implementation-specific, ignored)")
    return out


def orpc_quirks(orpcthis):
    if orpcthis["flags"] & 1:
        return ["ORPCTHIS.flags is 0x%X, ORPCF_LOCAL, on a call from another machine (impacket always sends 1)"
                % orpcthis["flags"]]
    return []


def fixture_remote_activation(data):
    w = Walker(data)
    m = {"ORPCthis": walk_orpcthis(w, "ORPCthis"), "Clsid": w.guid("Clsid")}
    m["pwszObjectName"] = walk_wstring(w, "pwszObjectName") if w.pointer("pwszObjectName") else None
    m["pObjectStorage"] = (walk_minterfacepointer(w, "pObjectStorage") if w.pointer("pObjectStorage") else None)
    m["ClientImpLevel"] = w.u32("ClientImpLevel")
    m["Mode"] = w.u32("Mode")
    m["Interfaces"] = w.u32("Interfaces")
    m["pIIDs"] = walk_conformant_guids(w, "pIIDs", m["Interfaces"]) if w.pointer("pIIDs") else None
    m["cRequestedProtseqs"] = w.u16("cRequestedProtseqs")
    m["aRequestedProtseqs"] = walk_conformant_u16(w, "aRequestedProtseqs", m["cRequestedProtseqs"])
    check(w.pos == len(data), "RemoteActivation: %d bytes left" % (len(data) - w.pos))

    r = dcomrt.RemoteActivation(data)
    imp = {"ORPCthis": imp_orpcthis(r["ORPCthis"]), "Clsid": guid_str(r["Clsid"]),
           "pwszObjectName": None if imp_ptr(r, "pwszObjectName") == 0 else "present",
           "pObjectStorage": None if imp_ptr(r, "pObjectStorage") == 0 else "present",
           "ClientImpLevel": r["ClientImpLevel"], "Mode": r["Mode"], "Interfaces": r["Interfaces"],
           "pIIDs": imp_guids(r["pIIDs"]) if imp_ptr(r, "pIIDs") else None,
           "cRequestedProtseqs": r["cRequestedProtseqs"],
           "aRequestedProtseqs": [imp_val(x) for x in r["aRequestedProtseqs"]]}
    compare(imp, strip_offsets(m))
    quirks = ["aRequestedProtseqs holds 0x0C and 0x0D, which are EPM tower floor ids, not [MS-DCOM] protocol "
              "sequence ids; a server ignores what it does not serve and answers with tower 7"]
    return imp, w.rec, [], quirks, {}


def fixture_complex_ping(data):
    w = Walker(data)
    m = {"pSetId": w.u64("pSetId"), "SequenceNum": w.u16("SequenceNum"), "cAddToSet": w.u16("cAddToSet"),
         "cDelFromSet": w.u16("cDelFromSet")}
    for name, count in (("AddToSet", m["cAddToSet"]), ("DelFromSet", m["cDelFromSet"])):
        if w.pointer(name):
            n = w.conformance(name)
            check(n == count, "%s: max_count %d, count %d" % (name, n, count))
            m[name] = [w.u64("%s[%d]" % (name, i)) for i in range(n)]
        else:
            m[name] = None
    check(w.pos == len(data), "ComplexPing: %d bytes left" % (len(data) - w.pos))

    r = dcomrt.ComplexPing(data)
    imp = {"pSetId": r["pSetId"], "SequenceNum": r["SequenceNum"], "cAddToSet": r["cAddToSet"],
           "cDelFromSet": r["cDelFromSet"],
           "AddToSet": [imp_val(x) for x in r["AddToSet"]] if imp_ptr(r, "AddToSet") else None,
           "DelFromSet": [imp_val(x) for x in r["DelFromSet"]] if imp_ptr(r, "DelFromSet") else None}
    compare(imp, m)
    return imp, w.rec, [], [], {}


def fixture_resolve_oxid2_request(data):
    w = Walker(data)
    m = {"pOxid": w.u64("pOxid"), "cRequestedProtseqs": w.u16("cRequestedProtseqs")}
    m["arRequestedProtseqs"] = walk_conformant_u16(w, "arRequestedProtseqs", m["cRequestedProtseqs"])
    check(w.pos == len(data), "ResolveOxid2 request: %d bytes left" % (len(data) - w.pos))
    r = dcomrt.ResolveOxid2(data)
    imp = {"pOxid": r["pOxid"], "cRequestedProtseqs": r["cRequestedProtseqs"],
           "arRequestedProtseqs": [imp_val(x) for x in r["arRequestedProtseqs"]]}
    compare(imp, m)
    return imp, w.rec, [], [], {}


def fixture_resolve_oxid2_response(data):
    w = Walker(data)
    m = {"ppdsaOxidBindings": (walk_dualstringarray(w, "ppdsaOxidBindings")
                               if w.pointer("ppdsaOxidBindings") else None)}
    m["pipidRemUnknown"] = w.guid("pipidRemUnknown")
    m["pAuthnHint"] = w.u32("pAuthnHint")
    m["pComVersion"] = walk_comversion(w, "pComVersion")
    m["ErrorCode"] = w.u32("ErrorCode")
    check(w.pos == len(data), "ResolveOxid2 response: %d bytes left" % (len(data) - w.pos))
    r = dcomrt.ResolveOxid2Response(data)
    imp = {"ppdsaOxidBindings": imp_dualstringarray(r["ppdsaOxidBindings"]),
           "pipidRemUnknown": guid_str(r["pipidRemUnknown"]), "pAuthnHint": r["pAuthnHint"],
           "pComVersion": imp_comversion(r["pComVersion"]), "ErrorCode": r["ErrorCode"]}
    compare(imp, m)
    return imp, w.rec, [], [], {}


def fixture_server_alive2_response(data):
    w = Walker(data)
    m = {"pComVersion": walk_comversion(w, "pComVersion")}
    m["ppdsaOrBindings"] = (walk_dualstringarray(w, "ppdsaOrBindings") if w.pointer("ppdsaOrBindings") else None)
    m["pReserved"] = w.u32("pReserved")
    m["ErrorCode"] = w.u32("ErrorCode")
    check(w.pos == len(data), "ServerAlive2 response: %d bytes left" % (len(data) - w.pos))
    r = dcomrt.ServerAlive2Response(data)
    # impacket declares pReserved as a pointer (LPLONG) where the
    # specification has [out, ref] DWORD*: the same 4 bytes, which it reads
    # as a NULL referent id. The value is that DWORD.
    imp = {"pComVersion": imp_comversion(r["pComVersion"]),
           "ppdsaOrBindings": imp_dualstringarray(r["ppdsaOrBindings"]),
           "pReserved": imp_ptr(r, "pReserved"), "ErrorCode": r["ErrorCode"]}
    compare(imp, m)
    return imp, w.rec, [], [], {}


FIXTURES = [
    ("impacket-RemoteCreateInstance-request.stub.hex", fixture_remote_create_instance,
     {"interface": "IRemoteSCMActivator", "uuid": "000001a0-0000-0000-c000-000000000046", "version": "0.0",
      "opnum": 4, "operation": "RemoteCreateInstance", "direction": "request"}),
    ("impacket-RemoteCreateInstance-pActProperties.objref.hex", fixture_objref,
     {"what": "OBJREF_CUSTOM (CLSID_ActivationPropertiesIn) with an activation properties BLOB",
      "spec": "[MS-DCOM] 2.2.18.6, 2.2.22; [MS-RPCE] 2.2.6"}),
    ("samba-RemoteActivation-request.stub.hex", fixture_remote_activation,
     {"interface": "IActivation", "uuid": "4d9f4ab8-7d1c-11cf-861e-0020af6e7c57", "version": "0.0",
      "opnum": 0, "operation": "RemoteActivation", "direction": "request"}),
    ("impacket-ComplexPing-request.stub.hex", fixture_complex_ping,
     {"interface": "IObjectExporter", "uuid": "99fcfec4-5260-101b-bbcb-00aa0021347a", "version": "0.0",
      "opnum": 2, "operation": "ComplexPing", "direction": "request"}),
    ("ResolveOxid2-request.stub.hex", fixture_resolve_oxid2_request,
     {"interface": "IObjectExporter", "uuid": "99fcfec4-5260-101b-bbcb-00aa0021347a", "version": "0.0",
      "opnum": 4, "operation": "ResolveOxid2", "direction": "request"}),
    ("ResolveOxid2-response.stub.hex", fixture_resolve_oxid2_response,
     {"interface": "IObjectExporter", "uuid": "99fcfec4-5260-101b-bbcb-00aa0021347a", "version": "0.0",
      "opnum": 4, "operation": "ResolveOxid2", "direction": "response"}),
    ("ServerAlive2-response.stub.hex", fixture_server_alive2_response,
     {"interface": "IObjectExporter", "uuid": "99fcfec4-5260-101b-bbcb-00aa0021347a", "version": "0.0",
      "opnum": 5, "operation": "ServerAlive2", "direction": "response"}),
]


def _merge(into, rec):
    if into is rec:
        return
    for k in ("layout", "pads", "referent_ids"):
        into[k].extend(rec[k])


def canonical(data, rec, patches):
    out = bytearray(data)
    for p in rec["pads"]:
        n = len(p["bytes"]) // 2
        out[p["offset"]:p["offset"] + n] = bytes(n)
    for off, b in patches:
        out[off:off + len(b)] = b
    return bytes(out)


def pad_quirks(rec):
    out = []
    for p in sorted(rec["pads"], key=lambda p: p["offset"]):
        if p["bytes"].strip("0"):
            out.append("padding at offset %d (%s) is %s, not zero" % (p["offset"], p["reason"], p["bytes"]))
    return out


def to_json(doc):
    """Indented JSON, with the entries of the long lists one to a line."""
    flat = ("layout", "pads", "referent_ids")
    head = json.dumps({k: v for k, v in doc.items() if k not in flat}, indent=1)
    parts = []
    for k in flat:
        items = ",\n".join("  " + json.dumps(x) for x in doc[k])
        parts.append(' "%s": [\n%s\n ]' % (k, items) if items else ' "%s": []' % k)
    return head[:-2] + ",\n" + ",\n".join(parts) + "\n}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true",
                    help="compare with the JSON already in --out instead of writing it; exit 1 on a difference")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, decode, about in FIXTURES:
        with open(os.path.join(args.fixtures, name)) as f:
            text = f.read().strip()
        data = binascii.unhexlify(text)
        try:
            fields, rec, patches, quirks, extra = decode(data)
        except Mismatch as e:
            sys.exit("%s: %s" % (name, e))
        quirks = pad_quirks(rec) + quirks
        canon = canonical(data, rec, patches)
        # The canonical bytes must read as the same values.
        try:
            again, _, _, _, _ = decode(canon)
            compare(fields, again, "canonical")
        except Mismatch as e:
            sys.exit("%s: canonical bytes do not decode alike: %s" % (name, e))
        doc = dict(about)
        doc.update({
            "fixture": name,
            "length": len(data),
            "decoded_by": "impacket %s (impacket.dcerpc.v5.dcomrt), cross-checked value by value by the byte "
                          "walker in tests/comidl/decode_fixtures.py" % impacket_version.version,
            "hex": data.hex(),
            "canonical_hex": canon.hex(),
            "canonical_equals_fixture": canon == data,
            "fields": fields,
            "quirks": quirks,
        })
        doc.update(extra)
        doc["referent_ids"] = sorted(rec["referent_ids"], key=lambda r: r["offset"])
        doc["pads"] = sorted(rec["pads"], key=lambda p: p["offset"])
        doc["layout"] = sorted(rec["layout"], key=lambda l: l["offset"])
        out = os.path.join(args.out, name.replace(".hex", "") + ".json")
        text = to_json(doc)
        if args.check:
            with open(out) as f:
                if f.read() != text:
                    sys.exit("%s is not what %s decodes to; regenerate it" % (os.path.relpath(out, REPO), name))
            print("%s: up to date" % os.path.relpath(out, REPO))
            continue
        with open(out, "w") as f:
            f.write(text)
        print("%s: %d bytes, %d fields read, %d quirks -> %s"
              % (name, len(data), len(doc["layout"]), len(quirks), os.path.relpath(out, REPO)))


if __name__ == "__main__":
    main()
