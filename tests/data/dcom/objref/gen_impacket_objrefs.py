#!/usr/bin/python3
# Writes OBJREF test vectors built with impacket's dcomrt structures (an
# independent implementation of [MS-DCOM] 2.2.18), one lowercase hex line
# per file. Run with /usr/bin/python3 (impacket is a Debian package there).
# The expected decodings are in tests/com/objref_test.cc.
import struct
from impacket.dcerpc.v5 import dcomrt
from impacket.uuid import string_to_bin

IID_IUNKNOWN = string_to_bin('00000000-0000-0000-C000-000000000046')
IID_HELLO = string_to_bin('7d2a5e10-3c4b-4f6a-9b8c-1d2e3f405162')
CLSID_HELLO = string_to_bin('7d2a5e11-3c4b-4f6a-9b8c-1d2e3f405162')
IPID = string_to_bin('00007c02-1a2b-3c4d-5e6f-708192a3b4c5')
CTX_ID = string_to_bin('00000011-0000-0000-c000-000000000046')


def u16s(text):
    return text.encode('utf-16-le')


def dual_string_array():
    # Two string bindings and two security bindings, as impacket's own
    # STRINGBINDING / SECURITYBINDING structures lay them out.
    strings = b''
    for tower, addr in ((7, 'host.example[49712]'), (7, '192.0.2.7[49712]')):
        sb = dcomrt.STRINGBINDING()
        sb['wTowerId'] = tower
        sb['aNetworkAddr'] = addr + '\x00'
        strings += sb.getData()
    strings += b'\x00\x00'
    security = b''
    for authn, princ in ((10, ''), (16, 'host/host.example')):
        sec = dcomrt.SECURITYBINDING()
        sec['wAuthnSvc'] = authn
        sec['Reserved'] = 0xFFFF
        sec['aPrincName'] = princ + '\x00'
        security += sec.getData()
    security += b'\x00\x00'
    dsa = dcomrt.DUALSTRINGARRAYPACKED()
    dsa['wNumEntries'] = (len(strings) + len(security)) // 2
    dsa['wSecurityOffset'] = len(strings) // 2
    dsa['aStringArray'] = strings + security
    return dsa.getData()


def std_objref(flags):
    std = dcomrt.STDOBJREF()
    std['flags'] = flags
    std['cPublicRefs'] = 5
    std['oxid'] = 0x1122334455667788
    std['oid'] = 0x0102030405060708
    std['ipid'] = IPID
    return std


def write(name, data):
    with open(name, 'w') as f:
        f.write(data.hex() + '\n')


o = dcomrt.OBJREF_STANDARD()
o['iid'] = IID_HELLO
o['std'] = std_objref(0)
o['saResAddr'] = dual_string_array()
write('impacket-standard.objref.hex', o.getData())

o = dcomrt.OBJREF_HANDLER()
o['iid'] = IID_IUNKNOWN
o['std'] = std_objref(dcomrt.SORF_NOPING)
o['clsid'] = CLSID_HELLO
o['saResAddr'] = dual_string_array()
write('impacket-handler.objref.hex', o.getData())

o = dcomrt.OBJREF_CUSTOM()
o['iid'] = IID_HELLO
o['clsid'] = CLSID_HELLO
o['cbExtension'] = 0
o['pObjectData'] = bytes(range(1, 22))
o['ObjectReferenceSize'] = len(o['pObjectData']) + 8
write('impacket-custom.objref.hex', o.getData())

# impacket's OBJREF_EXTENDED constructor sets nElms to the signature and
# leaves Signature2 unset; the fields are set here as [MS-DCOM] 2.2.18.7 says.
o = dcomrt.OBJREF_EXTENDED()
o['iid'] = IID_HELLO
o['std'] = std_objref(0)
o['Signature1'] = 0x4E535956
sa = dcomrt.DUALSTRINGARRAYPACKED(dual_string_array())
o['saResAddr'] = sa
o['nElms'] = 1
o['Signature2'] = 0x4E535956
el = dcomrt.DATAELEMENT()
el['dataID'] = CTX_ID
el['cbSize'] = 13
el['cbRounded'] = 16
el['Data'] = b'envoy-context' + b'\x00\x00\x00'
o['ElmArray'] = el
write('impacket-extended.objref.hex', o.getData())
