// IClassFactory as a caller uses it (issue 13): the [local] methods
// CreateInstance and LockServer of unknwn.idl, mapped onto their [call_as]
// wire forms RemoteCreateInstance (opnum 3) and RemoteLockServer (opnum 4),
// as Windows's ole32 proxy glue (IClassFactory_CreateInstance_Proxy) does.
//
// comidl's bundled unknwn.idl declares IClassFactory; every generated
// header that imports it carries its proxy and stub, and every ComRuntime
// registers them (so a class object marshals like any object, and its
// proxy is an idl::IClassFactory). These functions take any class object,
// in this process or a proxy:
//   * CreateInstance with an outer unknown is CLASS_E_NOAGGREGATION and
//     makes no call: the wire form has no outer unknown (aggregation
//     cannot cross apartments), which is what Windows's proxy answers;
//     comsec's class objects, local ones included, are never aggregated.
//   * Otherwise RemoteCreateInstance's HRESULT: the factory's own failures
//     (E_NOINTERFACE for an interface the new object lacks...) or the
//     channel's (RPC_E_DISCONNECTED...).
// E_INVALIDARG for a null class object; E_NOINTERFACE when it is not an
// IClassFactory.
//
// Thread-safety: free functions; as safe as the class object's methods.
#pragma once

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"

namespace comsec::com {

// IClassFactory::CreateInstance: a new object of the class as `iid`.
Result<ComPtr<IUnknown>> ClassFactoryCreateInstance(IUnknown* class_object, IUnknown* outer,
                                                    const Guid& iid);
// IClassFactory::LockServer.
Status ClassFactoryLockServer(IUnknown* class_object, bool lock);

}  // namespace comsec::com
