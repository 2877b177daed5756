// OBJREF: the marshaled form of a COM object reference ([MS-DCOM] 2.2.18),
// the bytes inside an MInterfacePointer's abData and what
// CoMarshalInterface writes to a stream. A pure codec: no runtime state.
//
// Layout (all integers little-endian, no NDR alignment or padding):
//   OBJREF            signature u32 (0x574f454d, "MEOW"), flags u32 (one of
//                     OBJREF_STANDARD/HANDLER/CUSTOM/EXTENDED), iid GUID, then
//   OBJREF_STANDARD   STDOBJREF, saResAddr                          (2.2.18.4)
//   OBJREF_HANDLER    STDOBJREF, clsid GUID, saResAddr              (2.2.18.5)
//   OBJREF_CUSTOM     clsid GUID, cbExtension u32, reserved u32,
//                     pObjectData (every byte that follows)         (2.2.18.6)
//   OBJREF_EXTENDED   STDOBJREF, Signature1 u32 (0x4E535956), saResAddr,
//                     nElms u32, Signature2 u32 (0x4E535956),
//                     nElms × DATAELEMENT                           (2.2.18.7)
//   STDOBJREF         flags u32, cPublicRefs u32, oxid u64, oid u64,
//                     ipid GUID (40 bytes)                          (2.2.18.2)
//   saResAddr         DUALSTRINGARRAY: wNumEntries u16, wSecurityOffset u16,
//                     aStringArray[wNumEntries] u16          (2.2.19, packed)
//   DATAELEMENT       dataID GUID, cbSize u32, cbRounded u32,
//                     Data[cbRounded] (cbSize used, the rest pads) (2.2.18.8)
//
// Decoding is liberal where the spec lets a receiver be: cbExtension and
// reserved are not checked (2.2.18.6 "MUST be ignored on receipt"), nElms
// may be 0..kMaxObjrefElements (the spec sends 1), cbRounded may exceed
// round8(cbSize), entries after the security bindings' terminator are
// ignored, a GUID_NULL iid is passed on (the runtime refuses it where it
// must), and bytes after a complete standard, handler or extended OBJREF
// are ignored (a custom OBJREF's data runs to the end: its length is the
// enclosing buffer's). Everything else malformed — a wrong signature, a
// flags value that is not exactly one type, a wrong Signature1/Signature2,
// a truncation anywhere, a DUALSTRINGARRAY whose wSecurityOffset or
// bindings overrun it, cbRounded < cbSize, a size past the limits below —
// is RPC_E_INVALID_OBJREF (0x8001011D), what CoUnmarshalInterface returns
// for a bad OBJREF, with a message naming the field and byte offset.
//
// Encoding is exact: cbExtension 0, Signature1/2 and nElms as the spec
// says, each DATAELEMENT's Data zero-padded to cbRounded = round8(cbSize),
// and the custom reserved field set to pObjectData's size + 8 (what
// Windows-shaped senders write; impacket's capture in
// tests/data/dcom/impacket-RemoteCreateInstance-pActProperties.objref.hex
// re-encodes byte for byte).
//
// Thread-safety: free functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/com/oxid_resolver.h"

namespace comsec::com {

inline constexpr uint32_t kObjrefSignature = 0x574f454d;  // "MEOW"
enum ObjrefType : uint32_t {
  OBJREF_STANDARD = 1,
  OBJREF_HANDLER = 2,
  OBJREF_CUSTOM = 4,
  OBJREF_EXTENDED = 8
};
// [MS-DCOM] 2.2.18.2 STDOBJREF flags: the object is not pinged and never
// runs down.
inline constexpr uint32_t SORF_NOPING = 0x1000;
// [MS-DCOM] 2.2.18.7 Signature1 and Signature2 of OBJREF_EXTENDED.
inline constexpr uint32_t kObjrefExtendedSignature = 0x4E535956;

// Limits on what DecodeObjref accepts; each bounds memory an unauthenticated
// peer can make a decoder allocate.
// u16 entries of saResAddr: the OXID resolver accepts no larger a
// registration (OxidResolverLimits::max_binding_entries).
inline constexpr size_t kMaxObjrefBindingEntries = 4096;
// pObjectData of a custom OBJREF (an activation blob is a few hundred bytes).
inline constexpr size_t kMaxObjrefCustomData = 64 * 1024;
// DATAELEMENTs of an extended OBJREF (the spec allows exactly one).
inline constexpr size_t kMaxObjrefElements = 16;
// cbSize of one DATAELEMENT (a marshaled envoy context).
inline constexpr size_t kMaxObjrefElementData = 64 * 1024;

struct StdObjref {
  uint32_t flags = 0;
  uint32_t public_refs = 0;
  uint64_t oxid = 0;
  uint64_t oid = 0;
  Guid ipid;
  friend bool operator==(const StdObjref&, const StdObjref&) = default;
};

struct DataElement {
  Guid data_id;
  std::vector<uint8_t> data;  // cbSize bytes, the padding dropped
  friend bool operator==(const DataElement&, const DataElement&) = default;
};

struct Objref {
  ObjrefType type = OBJREF_STANDARD;
  Guid iid;
  StdObjref std;          // standard, handler, extended
  OxidBindings resolver;  // standard, handler, extended: saResAddr
  Guid clsid;             // handler (its CLSID), custom (the unmarshaler's)
  std::vector<uint8_t> custom_data;   // custom: pObjectData
  uint32_t custom_extension = 0;      // custom: cbExtension as received
  std::vector<DataElement> elements;  // extended
  friend bool operator==(const Objref&, const Objref&) = default;
};

// Decodes one OBJREF from `bytes` (untrusted). Fields that the type does
// not carry are left at their defaults. Errors: RPC_E_INVALID_OBJREF, its
// message naming the field and offset, its position() the byte offset.
Result<Objref> DecodeObjref(std::span<const uint8_t> bytes);

// The OBJREF's bytes. Only the fields of `objref.type` are written
// (custom_extension is not: cbExtension is always 0).
// REQUIRES: type is one of the four; the bindings encode to at most 65535
// entries; each element's data fits a u32. (COMSEC_CHECKed.) Values past
// the decode limits above are encoded but a comsec peer refuses them.
std::vector<uint8_t> EncodeObjref(const Objref& objref);

}  // namespace comsec::com
