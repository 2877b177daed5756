#include "comsec/com/class_factory.h"

#include "iremunknown.h"  // generated; carries comidl's bundled unknwn.idl (IClassFactory)

namespace comsec::com {
namespace {

Result<ComPtr<idl::IClassFactory>> AsClassFactory(IUnknown* class_object) {
  if (class_object == nullptr) return Status(E_INVALIDARG, "no class object");
  void* p = nullptr;
  HResult hr = class_object->QueryInterface(idl::IID_IClassFactory, &p);
  if (hr.Failed()) return Status(hr, "the class object does not implement IClassFactory");
  return ComPtr<idl::IClassFactory>::Adopt(static_cast<idl::IClassFactory*>(p));
}

}  // namespace

Result<ComPtr<IUnknown>> ClassFactoryCreateInstance(IUnknown* class_object, IUnknown* outer,
                                                    const Guid& iid) {
  COMSEC_ASSIGN_OR_RETURN(ComPtr<idl::IClassFactory> factory, AsClassFactory(class_object));
  if (outer != nullptr) {
    return Status(CLASS_E_NOAGGREGATION,
                  "IClassFactory::CreateInstance: the object cannot be aggregated (an outer "
                  "unknown cannot cross to a class object's apartment)");
  }
  ComPtr<IUnknown> object;
  COMSEC_ASSIGN_OR_RETURN(idl::HRESULT hr, factory->RemoteCreateInstance(iid, object));
  if (HResult(static_cast<uint32_t>(hr)).Failed()) {
    return Status(HResult(static_cast<uint32_t>(hr)),
                  "IClassFactory::CreateInstance of " + iid.ToString() + " failed");
  }
  if (!object) {
    return Status(E_UNEXPECTED, "IClassFactory::CreateInstance succeeded with no object");
  }
  return object;
}

Status ClassFactoryLockServer(IUnknown* class_object, bool lock) {
  COMSEC_ASSIGN_OR_RETURN(ComPtr<idl::IClassFactory> factory, AsClassFactory(class_object));
  COMSEC_ASSIGN_OR_RETURN(idl::HRESULT hr, factory->RemoteLockServer(lock ? 1 : 0));
  if (HResult(static_cast<uint32_t>(hr)).Failed()) {
    return Status(HResult(static_cast<uint32_t>(hr)), "IClassFactory::LockServer failed");
  }
  return Status::Ok();
}

}  // namespace comsec::com
