#!/usr/bin/python3
"""Decodes an IActivationPropertiesIn OBJREF (hex on argv[1]) with impacket's
own structures (impacket/dcerpc/v5/dcomrt.py: OBJREF_CUSTOM, ACTIVATION_BLOB
and each property's TypeSerialization1 class, chosen by its CLSID in
pclsid), and prints what it read as JSON: the independent oracle of
activation_properties_test's request-encoding cases."""
import json
import sys
from struct import unpack_from

from impacket.dcerpc.v5 import dcomrt
from impacket.uuid import bin_to_string


def guid(b):
    return bin_to_string(b).lower()


def stream_headers(stream):
    # [MS-RPCE] 2.2.6: common header (version, endianness, length, filler)
    # then private header (ObjectBufferLength, filler), as bytes.
    version, endian, length, filler, obl, filler2 = unpack_from('<BBHIII', stream)
    return {'version': version, 'endianness': endian, 'commonHeaderLength': length,
            'filler': filler, 'ObjectBufferLength': obl, 'privateFiller': filler2}


def parse(cls, stream):
    s = cls()
    size = s.fromString(stream)
    s.fromStringReferents(stream[size:])
    return s


def present(struct, name):
    # A pointer field's ReferentID (impacket returns b'' for a NULL one).
    return struct.fields[name]['ReferentID'] != 0


def wstr(struct, name):
    if not present(struct, name):
        return None
    return struct.fields[name]['Data'].rstrip('\x00')


def main():
    data = bytes.fromhex(sys.argv[1])
    objref = dcomrt.OBJREF_CUSTOM(data)
    blob = dcomrt.ACTIVATION_BLOB(objref['pObjectData'])
    hdr = blob['CustomHeader']
    clsids = [c['Data'] for c in hdr['pclsid']]
    sizes = [s['Data'] for s in hdr['pSizes']]
    props = blob['Property']
    out = {
        'iid': guid(objref['iid']),
        'clsid': guid(objref['clsid']),
        'reserved': objref['ObjectReferenceSize'],
        'dwSize': blob['dwSize'],
        'totalSize': hdr['totalSize'],
        'headerSize': hdr['headerSize'],
        'destCtx': hdr['destCtx'],
        'cIfs': hdr['cIfs'],
        'classInfoClsid': guid(hdr['classInfoClsid']),
        'pclsid': [guid(c) for c in clsids],
        'pSizes': sizes,
        'propertyBytes': len(props),
        'streams': [],
    }
    at = 0
    for clsid, size in zip(clsids, sizes):
        stream = props[at:at + size]
        at += size
        out['streams'].append(stream_headers(stream))
        if clsid == dcomrt.CLSID_InstantiationInfo:
            p = parse(dcomrt.InstantiationInfoData, stream)
            out['instantiation'] = {
                'classId': guid(p['classId']),
                'classCtx': p['classCtx'],
                'actvflags': p['actvflags'],
                'fIsSurrogate': p['fIsSurrogate'],
                'cIID': p['cIID'],
                'instFlag': p['instFlag'],
                'pIID': [guid(i['Data']) for i in p['pIID']],
                'thisSize': p['thisSize'],
                'clientCOMVersion': [p['clientCOMVersion']['MajorVersion'],
                                     p['clientCOMVersion']['MinorVersion']],
            }
        elif clsid == dcomrt.CLSID_SpecialSystemProperties:
            p = parse(dcomrt.SpecialPropertiesData, stream)
            out['special'] = {
                'dwSessionId': p['dwSessionId'],
                'fRemoteThisSessionId': p['fRemoteThisSessionId'],
                'fClientImpersonating': p['fClientImpersonating'],
                'fPartitionIDPresent': p['fPartitionIDPresent'],
                'dwDefaultAuthnLvl': p['dwDefaultAuthnLvl'],
                'dwOrigClsctx': p['dwOrigClsctx'],
                'dwFlags': p['dwFlags'],
            }
        elif clsid == dcomrt.CLSID_ActivationContextInfo:
            p = parse(dcomrt.ActivationContextInfoData, stream)
            out['context'] = {
                'clientOK': p['clientOK'],
                'pIFDClientCtx': present(p, 'pIFDClientCtx'),
                'pIFDPrototypeCtx': present(p, 'pIFDPrototypeCtx'),
            }
        elif clsid == dcomrt.CLSID_SecurityInfo:
            p = parse(dcomrt.SecurityInfoData, stream)
            server = None
            if present(p, 'pServerInfo'):
                server = wstr(p.fields['pServerInfo'].fields['Data'], 'pwszName')
            out['security'] = {'dwAuthnFlags': p['dwAuthnFlags'], 'pwszName': server}
        elif clsid == dcomrt.CLSID_ServerLocationInfo:
            p = parse(dcomrt.LocationInfoData, stream)
            out['location'] = {
                'machineName': wstr(p, 'machineName'),
                'processId': p['processId'],
                'apartmentId': p['apartmentId'],
                'contextId': p['contextId'],
            }
        elif clsid == dcomrt.CLSID_ScmRequestInfo:
            p = parse(dcomrt.ScmRequestInfoData, stream)
            r = p['remoteRequest']
            out['scmRequest'] = {
                'ClientImpLevel': r['ClientImpLevel'],
                'cRequestedProtseqs': r['cRequestedProtseqs'],
                'pRequestedProtseqs': list(r['pRequestedProtseqs']),
            }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
