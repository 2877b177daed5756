// The example server's interfaces, IComsecEcho (comsec's own interop
// contract, issue 4) and Samba's rpcecho test interface: described in
// echo.idl, marshaled by the code comidl generates from it (echo.h), and
// implemented in echo_service.cc.
#pragma once

#include <string>

#include "comsec/rpc/interface.h"

namespace comsec::examples {

rpc::SyntaxId ComsecEchoSyntax();  // 4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21 v1.0
rpc::SyntaxId RpcEchoSyntax();     // 60a15ec5-4de8-11d7-a637-005056a20182 v1.0

// Registers both interfaces. `min_authn_level` applies to both.
void RegisterEchoInterfaces(rpc::InterfaceRegistry& registry, security::AuthnLevel min_authn_level);

// The caller as WhoAmI reports it (C5): "NT AUTHORITY\ANONYMOUS LOGON" for an
// unauthenticated TCP caller, "unix:NAME" for an ncalrpc caller.
std::string CallerName(const rpc::CallContext& call);

}  // namespace comsec::examples
