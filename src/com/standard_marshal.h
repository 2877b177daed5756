// CoGetStandardMarshal (issue 13): an object standing for COM's standard
// marshaler of one object, its IMarshal delegating to the process's
// ComRuntime — what a custom marshaler wraps when it wants standard
// marshaling for some destinations and its own for others, and what a
// caller uses to marshal through IMarshal's methods rather than the Co*
// functions.
//
//   auto marshal = CoGetStandardMarshal(*com, IID_INode, node, MSHCTX_LOCAL,
//                                       MarshalFlags::kNormal);
//   auto clsid = (*marshal)->GetUnmarshalClass(...);     // CLSID_StdMarshal
//   auto bytes = (*marshal)->MarshalInterface(IID_INode, node, MSHCTX_LOCAL, ...);
//
// IMarshal here is Windows's ({00000003-0000-0000-C000-000000000046}) with
// its IStream replaced by bytes: MarshalInterface returns the OBJREF it
// would have written, UnmarshalInterface and ReleaseMarshalData read one,
// and pvDestContext (reserved, NULL) is left out. Every method takes the
// same MSHCTX values and MSHLFLAGS as ComRuntime::MarshalInterface, with
// its results: E_INVALIDARG for an unknown destination context,
// E_NOINTERFACE for an interface with no proxy/stub or that the object
// lacks.
//
// Like Windows's, the marshaler is bound to the object it was made for
// (which it holds): MarshalInterface of a null `object` marshals that one,
// and DisconnectObject disconnects it (CoDisconnectObject). Made for no
// object (CoGetStandardMarshal with a null pUnk: an unmarshaling-side
// marshaler, as Windows allows), it unmarshals and releases data, and
// MarshalInterface of a null object is E_INVALIDARG.
//
// Thread-safety: every method may be called from any thread. The runtime
// must outlive the marshaler.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"
#include "comsec/com/com_runtime.h"

namespace comsec::com {

// IID_IMarshal {00000003-0000-0000-C000-000000000046}.
inline constexpr Guid IID_IMarshal{0x00000003u, 0x0000, 0x0000,
                                   {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};
// CLSID_StdMarshal {00000017-0000-0000-C000-000000000046}: the class whose
// unmarshaler reads a standard OBJREF.
inline constexpr Guid CLSID_StdMarshal{0x00000017u, 0x0000, 0x0000,
                                       {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};

class IMarshal : public IUnknown {
 public:
  static constexpr Guid kIid = IID_IMarshal;
  using BaseInterface = IUnknown;
  // The CLSID of the code that unmarshals what MarshalInterface writes:
  // CLSID_StdMarshal.
  virtual Result<Guid> GetUnmarshalClass(const Guid& iid, IUnknown* object,
                                         uint32_t dest_context, MarshalFlags flags) = 0;
  // An upper bound of MarshalInterface's size (CoGetMarshalSizeMax).
  virtual Result<uint32_t> GetMarshalSizeMax(const Guid& iid, IUnknown* object,
                                             uint32_t dest_context, MarshalFlags flags) = 0;
  // The OBJREF (CoMarshalInterface); `object` null: the bound object.
  virtual Result<std::vector<uint8_t>> MarshalInterface(const Guid& iid, IUnknown* object,
                                                        uint32_t dest_context,
                                                        MarshalFlags flags) = 0;
  // CoUnmarshalInterface.
  virtual Result<ComPtr<IUnknown>> UnmarshalInterface(std::span<const uint8_t> objref,
                                                      const Guid& iid) = 0;
  // CoReleaseMarshalData.
  virtual Status ReleaseMarshalData(std::span<const uint8_t> objref) = 0;
  // CoDisconnectObject of the bound object (none bound: nothing to do).
  // `reserved` must be 0 (E_INVALIDARG otherwise).
  virtual Status DisconnectObject(uint32_t reserved) = 0;
};

// CoGetStandardMarshal: the standard marshaler of `object` (may be null,
// see above) in `runtime`. `iid` and `flags` are what the caller means to
// marshal, as in Windows's signature; the marshaler does not keep them.
// E_INVALIDARG for an unknown `dest_context`.
Result<ComPtr<IMarshal>> CoGetStandardMarshal(ComRuntime& runtime, const Guid& iid,
                                              IUnknown* object, uint32_t dest_context,
                                              MarshalFlags flags);

}  // namespace comsec::com
