#include "inproc_library.h"

#include <dlfcn.h>

#include <new>
#include <utility>

#include "comsec/rpc/interface.h"  // RPC_E_SERVERFAULT

namespace comsec::surrogate {
namespace {

// The text of the last dl* failure ("" when none is pending).
std::string DlError() {
  const char* e = ::dlerror();
  return e != nullptr ? std::string(e) : std::string();
}

}  // namespace

Result<std::unique_ptr<InprocLibrary>> InprocLibrary::Load(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status(E_INVALIDARG, "the in-process server library \"" + path +
                                    "\" is not an absolute path (InprocServer32 must name "
                                    "the library's file)");
  }
  (void)DlError();
  // RTLD_NOW: a symbol the host lacks fails here, with its name, rather
  // than at the first call. RTLD_LOCAL: the library's symbols stay its own.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    // dlerror() names the file first; say it once.
    std::string why = DlError();
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    return Status(CO_E_DLLNOTFOUND,
                  "cannot load the in-process server library " + path + ": " + why);
  }
  std::unique_ptr<InprocLibrary> lib(new InprocLibrary(path));
  (void)DlError();
  lib->get_class_object_ = reinterpret_cast<com::DllGetClassObjectFunction>(
      ::dlsym(handle, com::kDllGetClassObjectSymbol));
  if (lib->get_class_object_ == nullptr) {
    return Status(CO_E_ERRORINDLL, path + " does not export DllGetClassObject: " + DlError());
  }
  lib->can_unload_now_ = reinterpret_cast<com::DllCanUnloadNowFunction>(
      ::dlsym(handle, com::kDllCanUnloadNowSymbol));
  auto interfaces = reinterpret_cast<com::ComsecInterfacesFunction>(
      ::dlsym(handle, com::kComsecInterfacesSymbol));
  (void)DlError();
  if (interfaces != nullptr) {
    size_t count = 0;
    const rpc::ObjectInterfaceInfo* const* infos = interfaces(&count);
    if (count > 0 && infos == nullptr) {
      return Status(CO_E_ERRORINDLL, path + ": ComsecInterfaces returned no array for " +
                                         std::to_string(count) + " interfaces");
    }
    for (size_t i = 0; i < count; ++i) {
      if (infos[i] == nullptr) {
        return Status(CO_E_ERRORINDLL,
                      path + ": ComsecInterfaces entry " + std::to_string(i) + " is null");
      }
      lib->interfaces_.push_back(infos[i]);
    }
  }
  return lib;
}

Result<ComPtr<IUnknown>> InprocLibrary::GetClassObject(const Guid& clsid) const {
  void* out = nullptr;
  HResult hr;
  // User code: no exception crosses into the host (STYLE.md).
  try {
    hr = HResult(static_cast<uint32_t>(get_class_object_(&clsid, &com::kIidClassFactory, &out)));
  } catch (const std::bad_alloc&) {
    hr = E_OUTOFMEMORY;
  } catch (...) {
    hr = rpc::RPC_E_SERVERFAULT;
  }
  if (hr.Failed()) {
    return Status(hr, path_ + ": DllGetClassObject(" + clsid.ToRegistryString() +
                          ", IID_IClassFactory) failed with " + hr.ToString());
  }
  if (out == nullptr) {
    return Status(E_UNEXPECTED, path_ + ": DllGetClassObject(" + clsid.ToRegistryString() +
                                    ") returned " + hr.ToString() + " and no class object");
  }
  return ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(out));
}

HResult InprocLibrary::CanUnloadNow() const {
  if (can_unload_now_ == nullptr) return S_FALSE;
  try {
    return HResult(static_cast<uint32_t>(can_unload_now_()));
  } catch (...) {
    return S_FALSE;
  }
}

}  // namespace comsec::surrogate
