// ComsecHello, the hello example's object (issue 13): what
// comsec-hello-server serves and tests call across processes.
//
//   Greet(name)        "Hello, NAME, from SERVER-PRINCIPAL"
//   WhoAmI()           the caller as the call's security sees it (principal,
//                      authentication and impersonation levels) and the
//                      effective uid of the serving thread while it
//                      impersonates the caller, -1 when it cannot
//   GetChild()         a new ComsecHello in the same process
//   CallBack(t, name)  impersonates the caller and returns t->Greet(name)
//
// SERVER-PRINCIPAL is the name the server was given (comsec-hello-server:
// its Unix account's name), the same for every object of the process.
//
// WhoAmI and CallBack impersonate with CoImpersonateClient
// (com/server_security.h): the serving thread's Unix identity becomes the
// caller's when its token names a Unix account (S-1-22-1-uid: local package
// callers, Kerberos and TLS callers mapped to unix:NAME), the caller granted
// RPC_C_IMP_LEVEL_IMPERSONATE or more, and the server may switch (root, or
// the caller is the server's own uid); otherwise the impersonation is an
// identification and the thread runs as the server. Without cloaking
// (issue 14) the onward call of CallBack is made as the server either way,
// as on Windows.
//
// Thread-safety: an object may be called from any number of threads.
#pragma once

#include <atomic>
#include <string>
#include <utility>

#include "comsec/base/com_object.h"
#include "comsec/base/guid.h"
#include "hello.h"

namespace comsec::examples {

// The coclass and its AppID (keep exactly: later issues rely on them).
inline constexpr Guid kClsidComsecHello{
    0x7d2a5e11u, 0x3c4b, 0x4f6a, {0x9b, 0x8c, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x62}};
inline constexpr Guid kAppIdComsecHello{
    0x7d2a5e12u, 0x3c4b, 0x4f6a, {0x9b, 0x8c, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x62}};

// A new ComsecHello greeting from `server_principal`.
ComPtr<idl::IComsecHello> MakeComsecHello(std::u16string server_principal);

// ComsecHello's class object: IClassFactory whose CreateInstance makes a new
// ComsecHello (aggregation is refused with CLASS_E_NOAGGREGATION, as COM's
// factories for classes that cannot be aggregated do). RemoteLockServer
// counts locks, which the server reads with locks().
class ComsecHelloFactory final : public ComObject<idl::IClassFactory> {
 public:
  explicit ComsecHelloFactory(std::u16string server_principal)
      : principal_(std::move(server_principal)) {}
  // IClassFactory::CreateInstance as C++ callers make it.
  HResult CreateInstance(IUnknown* outer, const Guid& iid, void** object);
  // Its wire form ([call_as] RemoteCreateInstance: no outer object).
  Result<idl::HRESULT> RemoteCreateInstance(const idl::IID& iid,
                                            ComPtr<IUnknown>& object) override;
  Result<idl::HRESULT> RemoteLockServer(idl::BOOL lock) override;
  int32_t locks() const { return locks_.load(); }

 private:
  const std::u16string principal_;
  std::atomic<int32_t> locks_{0};
};

// The name of this process's Unix account ("uid N" when it has none).
std::string ProcessAccountName();

}  // namespace comsec::examples
