// The example server's interfaces: IComsecEcho (comsec's own interop
// contract, issue 4) and Samba's rpcecho test interface, as hand-written
// NDR stubs on the ndr layer.
//
//   [uuid(4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21), version(1.0)]
//   interface IComsecEcho {
//     long Echo([in] unsigned long n, [in, size_is(n)] const byte* data,
//               [out, size_is(n)] byte* out);                       // opnum 0
//     long Add([in] long a, [in] long b, [out] long* sum);          // opnum 1
//     long WhoAmI([out, string] wchar_t** name, [out] long* authnLevel,
//                 [out] long* authnSvc);                            // opnum 2
//   }
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
