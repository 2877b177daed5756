// C++ for an interface: the abstract class (one virtual method per remote
// operation, returning Result<R> or Status), the proxy and the server stub.
//
// DCE interfaces: FooSyntax(), class Foo, FooProxy over rpc::Client (bound
// by the caller to FooSyntax()), and FooRegistration(impl) giving an
// rpc::InterfaceRegistration with one OpHandler per opnum.
// [object] interfaces: IID_IFoo, class IFoo deriving from its base,
// IFooProxy over rpc::ObjectChannel (ORPCTHIS/ORPCTHAT are the channel's),
// and IFooInvoke(impl, opnum, stub, call, hook) for the COM layer's
// dispatcher, handing the base's opnums to the base's Invoke.
//
// In a server stub, the implementation runs inside rpc::CurrentCallScope,
// so it reads its caller with rpc::CurrentCall().
#pragma once

#include "comidl/gen_util.h"

namespace comsec::comidl::gen {

void DeclareInterface(Out& o, const Interface& itf, const Symbols& sym);
void DefineInterface(Out& o, const Interface& itf, const Symbols& sym, const std::string& prefix);

}  // namespace comsec::comidl::gen
