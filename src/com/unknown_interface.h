// IUnknown as an interface that travels (COM's own proxy/stub for it):
// an OBJREF whose iid is IID_IUnknown names the object's identity.
// Windows clients ask for it first (CoCreateInstanceEx with IID_IUnknown,
// MULTI_QI lists starting with it), so every runtime registers it, as
// ole32 does.
//
// IUnknown has no methods on the wire: AddRef, Release and QueryInterface
// travel as IRemUnknown's RemAddRef, RemRelease and RemQueryInterface
// ([MS-DCOM] 3.1.1.5.6). A request to an IUnknown IPID is answered
// nca_s_op_rng_error; the proxy is the proxy manager's identity.
//
// Thread-safety: the info is immutable; the proxy is as thread-safe as the
// identity it forwards to.
#pragma once

#include "comsec/rpc/object_channel.h"

namespace comsec::com {

const rpc::ObjectInterfaceInfo& UnknownInterfaceInfo();

}  // namespace comsec::com
