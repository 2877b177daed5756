#!/usr/bin/python3
"""Decodes an IActivationPropertiesOut OBJREF (hex on argv[1]) with impacket,
the way impacket's DCOMConnection reads RemoteCreateInstance's reply
(impacket/dcerpc/v5/dcomrt.py), and prints what it read as JSON: the
independent oracle of activation_properties_test's round-trip cases."""
import json
import sys
from struct import pack

from impacket.dcerpc.v5 import dcomrt
from impacket.uuid import bin_to_string


def guid(b):
    return bin_to_string(b).lower()


def main():
    data = bytes.fromhex(sys.argv[1])
    objref = dcomrt.OBJREF_CUSTOM(data)
    blob = dcomrt.ACTIVATION_BLOB(objref['pObjectData'])
    hdr = blob['CustomHeader']
    sizes = [s['Data'] for s in hdr['pSizes']]
    props = blob['Property']
    # Positional, as impacket's RemoteCreateInstance reads them.
    prop_out = props[:sizes[0]]
    scm_reply = props[sizes[0]:sizes[0] + sizes[1]]

    scmr = dcomrt.ScmReplyInfoData()
    size = scmr.fromString(scm_reply)
    scmr.fromStringReferents(scm_reply[size:])
    reply = scmr['remoteReply']
    dsa = reply['pdsaOxidBindings']
    oxids = b''.join(pack('<H', x) for x in dsa['aStringArray'])
    str_bindings = oxids[:dsa['wSecurityOffset'] * 2]
    bindings = []
    while str_bindings[0:2] != b'\x00\x00':
        b = dcomrt.STRINGBINDING(str_bindings)
        bindings.append({'wTowerId': b['wTowerId'],
                         'aNetworkAddr': b['aNetworkAddr'].rstrip('\x00')})
        str_bindings = str_bindings[len(b):]

    po = dcomrt.PropsOutInfo()
    size = po.fromString(prop_out)
    po.fromStringReferents(prop_out[size:])
    intf = []
    for p in po['ppIntfData']:
        if p['ReferentID'] == 0:
            intf.append(None)
        else:
            intf.append(b''.join(p['abData']).hex())

    print(json.dumps({
        'signature': objref['signature'],
        'flags': objref['flags'],
        'iid': guid(objref['iid']),
        'clsid': guid(objref['clsid']),
        'cbExtension': objref['cbExtension'],
        'ObjectReferenceSize': objref['ObjectReferenceSize'],
        'dwSize': blob['dwSize'],
        'totalSize': hdr['totalSize'],
        'headerSize': hdr['headerSize'],
        'destCtx': hdr['destCtx'],
        'cIfs': hdr['cIfs'],
        'pclsid': [guid(c['Data']) for c in hdr['pclsid']],
        'pSizes': sizes,
        'propsOut': {
            'cIfs': po['cIfs'],
            'piid': [guid(i['Data']) for i in po['piid']],
            'phresults': [h['Data'] & 0xffffffff for h in po['phresults']],
            'ppIntfData': intf,
        },
        'scmReply': {
            'Oxid': reply['Oxid'],
            'ipidRemUnknown': guid(reply['ipidRemUnknown']),
            'authnHint': reply['authnHint'],
            'serverVersion': [reply['serverVersion']['MajorVersion'],
                              reply['serverVersion']['MinorVersion']],
            'wNumEntries': dsa['wNumEntries'],
            'wSecurityOffset': dsa['wSecurityOffset'],
            'aStringArray': list(dsa['aStringArray']),
            'bindings': bindings,
        },
    }))


if __name__ == '__main__':
    main()
