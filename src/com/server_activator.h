// IComsecServerActivator (idl/comsec/iserver_activator.idl) served by a
// COM server process: how comsecd's SCM gets an instance, or the class
// object, of a class this process registered for CLSCTX_LOCAL_SERVER.
//
// Only the SCM may call it: an ncalrpc caller the kernel names as root or
// as this process's own effective user; anyone else (any TCP caller
// included) gets fault 5 before the stub runs and one
// com.server_activation_refused event. The class object comes from the
// runtime's ClassTable as an outside activation sees it (a single-use
// registration is used up; a suspended one is invisible).
//
// Thread-safety: the registration's handlers run on the RPC server's
// threads; the runtime must outlive the registration.
#pragma once

#include "comsec/base/log.h"
#include "comsec/rpc/interface.h"

namespace comsec::com {

class ComRuntime;

// IComsecServerActivator::CreateInstance's dwMode asking for the class
// object instead of an instance (IActivation's MODE_GET_CLASS_OBJECT).
inline constexpr uint32_t kActivateClassObject = 0xFFFFFFFFu;

rpc::SyntaxId ServerActivatorSyntax();
rpc::InterfaceRegistration ServerActivatorInterface(ComRuntime* runtime, const Logger* logger);

}  // namespace comsec::com
