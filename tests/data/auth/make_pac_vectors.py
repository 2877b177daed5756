#!/usr/bin/python3
"""Writes pac_impacket.hex: a PAC whose logon info impacket's NDR encoder
made (impacket.krb5.pac, an implementation independent of comidl), for
tests/auth/pac_test.cc's known answers. Run with /usr/bin/python3 (the
python3 on PATH cannot see impacket); --check compares instead of writing.

The PAC: PAC_LOGON_INFO (1), PAC_CLIENT_INFO (10), PAC_SERVER_CHECKSUM (6)
and PAC_PRIVSVR_CHECKSUM (7), each 8-byte aligned as [MS-PAC] 2.4 says.
The checksums are zeros: nothing here verifies them (MIT does, before
comsec sees the PAC). The values are listed in pac_impacket.expected.
"""
import os
import random
import struct
import sys

from impacket.dcerpc.v5.dtypes import NULL, RPC_SID
from impacket.dcerpc.v5.rpcrt import TypeSerialization1  # noqa: F401 (VALIDATION_INFO's base)
from impacket.dcerpc.v5.nrpc import GROUP_MEMBERSHIP
from impacket.krb5.pac import (KERB_SID_AND_ATTRIBUTES, KERB_VALIDATION_INFO,
                               VALIDATION_INFO)

DOMAIN_SID = "S-1-5-21-1004336348-1177238915-682003330"
RESOURCE_SID = "S-1-5-21-3623811015-3361044348-30300820"
GROUPS = [(513, 7), (512, 7), (1105, 7)]
EXTRA = [("S-1-18-1", 7), ("S-1-5-21-1004336348-1177238915-682003330-1300", 0x20000007)]
RESOURCE = [(1601, 0x20000007)]
USER_FLAGS = 0x20 | 0x200  # LOGON_EXTRA_SIDS | LOGON_RESOURCE_GROUPS


def sid(text):
    s = RPC_SID()
    s.fromCanonical(text)
    return s


def logon_info():
    k = KERB_VALIDATION_INFO()
    for name in ("LogonTime", "LogoffTime", "KickOffTime", "PasswordLastSet",
                 "PasswordCanChange", "PasswordMustChange", "LastSuccessfulILogon",
                 "LastFailedILogon"):
        k[name]["dwLowDateTime"] = 0xFFFFFFFF
        k[name]["dwHighDateTime"] = 0x7FFFFFFF
    k["LogonTime"]["dwLowDateTime"] = 0x5A2B3C4D
    k["LogonTime"]["dwHighDateTime"] = 0x01DB4F00
    k["EffectiveName"] = "bob"
    k["FullName"] = "Bob Example"
    k["LogonScript"] = ""
    k["ProfilePath"] = ""
    k["HomeDirectory"] = ""
    k["HomeDirectoryDrive"] = ""
    k["LogonCount"] = 12
    k["BadPasswordCount"] = 0
    k["UserId"] = 1104
    k["PrimaryGroupId"] = 513
    k["GroupCount"] = len(GROUPS)
    for rid, attrs in GROUPS:
        g = GROUP_MEMBERSHIP()
        g["RelativeId"] = rid
        g["Attributes"] = attrs
        k["GroupIds"].append(g)
    k["UserFlags"] = USER_FLAGS
    k["UserSessionKey"] = b"\x00" * 16
    k["LogonServer"] = "DC1"
    k["LogonDomainName"] = "EXAMPLE"
    k["LogonDomainId"] = sid(DOMAIN_SID)
    k["LMKey"] = b"\x00" * 8
    k["UserAccountControl"] = 0x210  # USER_NORMAL_ACCOUNT | USER_DONT_EXPIRE_PASSWORD
    k["SubAuthStatus"] = 0
    k["FailedILogonCount"] = 0
    k["Reserved3"] = 0
    k["SidCount"] = len(EXTRA)
    for text, attrs in EXTRA:
        e = KERB_SID_AND_ATTRIBUTES()
        e["Sid"] = sid(text)
        e["Attributes"] = attrs
        k["ExtraSids"].append(e)
    k["ResourceGroupDomainSid"] = sid(RESOURCE_SID)
    k["ResourceGroupCount"] = len(RESOURCE)
    for rid, attrs in RESOURCE:
        g = GROUP_MEMBERSHIP()
        g["RelativeId"] = rid
        g["Attributes"] = attrs
        k["ResourceGroupIds"].append(g)
    v = VALIDATION_INFO()
    v["Data"] = k
    return v.getData() + v.getDataReferents()


def pad8(b):
    return b + b"\x00" * (-len(b) % 8)


def pac():
    name = "bob".encode("utf-16-le")
    client_info = struct.pack("<QH", 0x01DB4F005A2B3C4D, len(name)) + name
    checksum = struct.pack("<L", 16) + b"\x00" * 12  # HMAC_SHA1_96_AES256, zeros
    buffers = [(1, logon_info()), (10, client_info), (6, checksum), (7, checksum)]
    offset = 8 + 16 * len(buffers)
    header = struct.pack("<LL", len(buffers), 0)
    body = b""
    for kind, data in buffers:
        header += struct.pack("<LLQ", kind, len(data), offset + len(body))
        body += pad8(data)
    return header + body


def main():
    random.seed(12)  # impacket draws referent ids from random: fixed, so --check works
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "pac_impacket.hex")
    data = pac()
    text = "".join("%s\n" % data[i:i + 32].hex() for i in range(0, len(data), 32))
    if "--check" in sys.argv:
        with open(path) as f:
            if f.read() != text:
                sys.exit("pac_impacket.hex is stale: rerun without --check")
        return
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
