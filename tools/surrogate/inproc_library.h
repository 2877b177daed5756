// An in-process server library loaded into comsec-surrogate: dlopen() of
// InprocServer32's path and the entry points of comsec's in-process server
// ABI (com/inproc_server.h), found with dlsym() and called as COM's
// CoGetClassObject calls a DLL's (R162: a surrogate hosts the DLL server
// of a class whose AppID has DllSurrogate).
//
//   auto lib = InprocLibrary::Load("/usr/lib/x/libfoo.so");   // absolute
//   auto factory = (*lib)->GetClassObject(clsid);              // IClassFactory
//   for (const auto* info : (*lib)->interfaces()) runtime.RegisterInterface(*info);
//
// Errors (each a sentence naming the library):
//   E_INVALIDARG        a path that is not absolute (dlopen would search
//                       LD_LIBRARY_PATH and the cache; the registry names
//                       one file, R162);
//   CO_E_DLLNOTFOUND    dlopen failed: dlerror()'s text is in the message
//                       (missing file, not an ELF object, an undefined
//                       symbol the host lacks);
//   CO_E_ERRORINDLL     no DllGetClassObject, or ComsecInterfaces gave a
//                       null entry;
//   DllGetClassObject's own HRESULT (CLASS_E_CLASSNOTAVAILABLE...),
//   RPC_E_SERVERFAULT when it threw (E_OUTOFMEMORY for std::bad_alloc), and
//   E_UNEXPECTED when it claimed success with a null object.
// The library is never unloaded: objects it made may be alive on the COM
// runtime's threads until the process exits (DllCanUnloadNow is only
// reported).
//
// Thread-safety: after Load, every method may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"
#include "comsec/com/inproc_server.h"

namespace comsec::surrogate {

class InprocLibrary {
 public:
  static Result<std::unique_ptr<InprocLibrary>> Load(const std::string& path);
  // Leaves the library loaded (see the file comment).
  ~InprocLibrary() = default;
  InprocLibrary(const InprocLibrary&) = delete;
  InprocLibrary& operator=(const InprocLibrary&) = delete;

  // DllGetClassObject(clsid, IID_IClassFactory).
  Result<ComPtr<IUnknown>> GetClassObject(const Guid& clsid) const;
  // DllCanUnloadNow: S_OK, S_FALSE, or S_FALSE when the library has none.
  HResult CanUnloadNow() const;
  // ComsecInterfaces' array (empty when the library exports none).
  const std::vector<const rpc::ObjectInterfaceInfo*>& interfaces() const { return interfaces_; }
  const std::string& path() const { return path_; }

 private:
  explicit InprocLibrary(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  com::DllGetClassObjectFunction get_class_object_ = nullptr;
  com::DllCanUnloadNowFunction can_unload_now_ = nullptr;
  std::vector<const rpc::ObjectInterfaceInfo*> interfaces_;
};

}  // namespace comsec::surrogate
