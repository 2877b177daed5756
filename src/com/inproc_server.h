// comsec's in-process server ABI (issue 15, DllSurrogate): what a shared
// library exports so that a surrogate host (comsec-surrogate, which the
// SCM starts for an InprocServer32 class whose AppID has DllSurrogate,
// R162) can load it and serve its classes to other processes. It is the
// Linux analog of a COM DLL's exports, with the same names and meaning:
//
//   DllGetClassObject(clsid, iid, out)
//       The class object of `clsid` as interface `iid`, AddRef'd, in *out:
//       an IClassFactory-capable object as com/class_factory.h expects
//       (its QueryInterface answers IID_IClassFactory with a pointer to the
//       generated idl::IClassFactory, whose RemoteCreateInstance makes new
//       objects). Returns an HRESULT: S_OK, CLASS_E_CLASSNOTAVAILABLE for a
//       class the library does not have, E_NOINTERFACE, E_POINTER for a
//       null argument, E_OUTOFMEMORY... With a failure *out is null.
//   DllCanUnloadNow()                                         (optional)
//       S_OK when no object of the library is alive, else S_FALSE.
//   ComsecInterfaces(count)                                   (optional)
//       The proxy/stub information (comidl's IFooInfo()) of every interface
//       the library's objects are handed out as, which the host registers
//       with ComRuntime::RegisterInterface before serving: without it an
//       object marshals only as the interfaces the host already knows
//       (IUnknown, IClassFactory...). *count gets the array's length; the
//       array and what it points to live as long as the library is loaded.
//
// Symbols and linking. The library is loaded with dlopen(RTLD_NOW |
// RTLD_LOCAL) into a host that exports comsec's whole API (the host is
// linked with every comsec library and -rdynamic). A library should use
// comsec's headers and leave comsec's symbols undefined, so that they bind
// to the host's: CoGetCallContext, CoImpersonateClient and the rest keep
// per-thread state that must be the host's own (a library that linked a
// second copy of comsec would find no call context there). The library is
// built with the same comsec version (and compiler) as the host: the ABI
// passes C++ objects (Guid, IUnknown, ObjectInterfaceInfo) across, as
// COM's passes vtables. Its C functions must not throw; the host treats an
// exception as RPC_E_SERVERFAULT (E_OUTOFMEMORY for std::bad_alloc).
//
// A minimal library (examples/hello/inproc_entry.cc is a complete one):
//
//   extern "C" int32_t DllGetClassObject(const comsec::Guid* clsid,
//                                        const comsec::Guid* iid, void** out) {
//     if (clsid == nullptr || iid == nullptr || out == nullptr) return E_POINTER...;
//     *out = nullptr;
//     if (*clsid != kClsidFoo) return CLASS_E_CLASSNOTAVAILABLE...;
//     auto factory = comsec::MakeComObject<FooFactory>();
//     return factory->QueryInterface(*iid, out).value();
//   }
//
// Thread-safety: the host may call DllGetClassObject and DllCanUnloadNow
// from any thread; ComsecInterfaces once, before serving.
#pragma once

#include <cstddef>
#include <cstdint>

#include "comsec/base/guid.h"
#include "comsec/rpc/object_channel.h"

extern "C" {

// The entry points a library defines (with default visibility).
int32_t DllGetClassObject(const comsec::Guid* clsid, const comsec::Guid* iid, void** out);
int32_t DllCanUnloadNow();
const comsec::rpc::ObjectInterfaceInfo* const* ComsecInterfaces(size_t* count);

}  // extern "C"

namespace comsec::com {

// Their types, for a host that finds them with dlsym.
using DllGetClassObjectFunction = int32_t (*)(const Guid* clsid, const Guid* iid, void** out);
using DllCanUnloadNowFunction = int32_t (*)();
using ComsecInterfacesFunction = const rpc::ObjectInterfaceInfo* const* (*)(size_t* count);

// Their names.
inline constexpr char kDllGetClassObjectSymbol[] = "DllGetClassObject";
inline constexpr char kDllCanUnloadNowSymbol[] = "DllCanUnloadNow";
inline constexpr char kComsecInterfacesSymbol[] = "ComsecInterfaces";

// IClassFactory's IID (00000001-0000-0000-c000-000000000046), which a host
// asks DllGetClassObject for.
inline constexpr Guid kIidClassFactory{
    0x00000001u, 0x0000, 0x0000, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};

}  // namespace comsec::com
