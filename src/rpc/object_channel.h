// The seams between comidl's generated code for [object] interfaces and
// the COM layer that will carry it ([MS-DCOM] 3.2.4.2, 2.2.14):
//  * ObjectChannel: a proxy's way to its object. Invoke sends the
//    marshaled [in] parameters for (iid, opnum) and returns the [out] ones
//    with the data representation they were encoded in;
//    the channel adds ORPCTHIS and removes ORPCTHAT, picks the IPID and the
//    security blanket.
//  * InterfaceMarshaler: how an interface pointer becomes an OBJREF and
//    back. Generated code puts the OBJREF on the wire as MInterfacePointer
//    ({ulCntData; [size_is(ulCntData)] byte abData[]}) behind a unique
//    pointer, as [MS-DCOM] 2.2.14 describes.
// Both are implemented by the COM layer; tests implement them trivially.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "comsec/rpc/interface.h"

namespace comsec::rpc {

class InterfaceMarshaler {
 public:
  virtual ~InterfaceMarshaler() = default;
  // The OBJREF bytes for `object`, a pointer of interface `iid` (never
  // null: NULL interface pointers do not reach the hook).
  virtual Result<std::vector<uint8_t>> Marshal(const Guid& iid, IUnknown* object) = 0;
  // The object an OBJREF names, as a pointer of interface `iid` (what
  // QueryInterface(iid) gives) seen as its IUnknown base, holding one
  // reference. CONTRACT: generated code downcasts it to the generated
  // class of `iid` without checking.
  virtual Result<ComPtr<IUnknown>> Unmarshal(const Guid& iid,
                                             std::span<const uint8_t> objref) = 0;
};

class ObjectChannel {
 public:
  virtual ~ObjectChannel() = default;
  virtual Result<CallReply> Invoke(const Guid& iid, uint16_t opnum,
                                   std::span<const uint8_t> stub) = 0;
  // The hook interface pointers go through; null when the channel passes
  // none (an interface pointer then fails with E_NOTIMPL).
  virtual InterfaceMarshaler* marshaler() = 0;
  // The object the proxy stands for (the COM layer's proxy manager): the
  // proxy's QueryInterface, AddRef and Release are its, so every interface
  // proxy of one object shares one identity and one count.
  virtual IUnknown* identity() = 0;
};

// What the COM runtime needs to serve and to call one [object] interface,
// without knowing its generated classes: comidl emits one per interface
// (`const rpc::ObjectInterfaceInfo& IFooInfo()`).
using ProxyPtr = std::unique_ptr<IUnknown, void (*)(IUnknown*)>;
struct ObjectInterfaceInfo {
  Guid iid;
  const char* name;
  // Serves one call on `object`, a pointer of interface `iid` (what
  // QueryInterface(iid) gave) seen as its IUnknown base.
  Result<std::vector<uint8_t>> (*invoke)(IUnknown* object, uint16_t opnum,
                                         std::span<const uint8_t> stub,
                                         const CallContext& call, InterfaceMarshaler* hook);
  // A proxy of `iid` over `channel`, as its IUnknown base; the channel
  // outlives it.
  ProxyPtr (*make_proxy)(ObjectChannel* channel);
};

// An interface pointer parameter on the wire: a unique pointer, then
// MInterfacePointer with the hook's OBJREF.
inline Status EncodeInterfacePointer(ndr::Encoder& e, InterfaceMarshaler* hook, const Guid& iid,
                                     IUnknown* object) {
  if (e.Pointer(object != nullptr) == 0) return Status();
  if (hook == nullptr) {
    return Status(E_NOTIMPL, "an interface pointer needs the COM layer's marshaler");
  }
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> objref, hook->Marshal(iid, object));
  e.Conformance(static_cast<uint32_t>(objref.size()));
  e.U32(static_cast<uint32_t>(objref.size()));
  e.Bytes(objref);
  return Status();
}

inline Status DecodeInterfacePointer(ndr::Decoder& d, InterfaceMarshaler* hook, const Guid& iid,
                                     ComPtr<IUnknown>& object) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t id, d.UniquePointer());
  object.reset();
  if (id == 0) return Status();
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(1));
  COMSEC_ASSIGN_OR_RETURN(uint32_t cnt, d.U32());
  if (cnt != max_count) return d.Error("MInterfacePointer ulCntData differs from its max_count");
  COMSEC_ASSIGN_OR_RETURN(auto objref, d.Bytes(cnt));
  if (hook == nullptr) {
    return Status(E_NOTIMPL, "an interface pointer needs the COM layer's marshaler");
  }
  COMSEC_ASSIGN_OR_RETURN(object, hook->Unmarshal(iid, objref));
  return Status();
}

}  // namespace comsec::rpc
