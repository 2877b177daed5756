#include "hello_object.h"

#include <pwd.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "comsec/base/hresult.h"
#include "comsec/base/utf16.h"
#include "comsec/com/server_security.h"

namespace comsec::examples {
namespace {

idl::HRESULT AsHresult(const Status& s) { return static_cast<idl::HRESULT>(s.code().value()); }

class ComsecHello final : public ComObject<idl::IComsecHello> {
 public:
  explicit ComsecHello(std::u16string principal) : principal_(std::move(principal)) {}

  Result<idl::HRESULT> Greet(const std::u16string& name,
                             std::optional<std::u16string>& greeting) override {
    greeting = u"Hello, " + name + u", from " + principal_;
    return 0;
  }

  Result<idl::HRESULT> WhoAmI(std::optional<std::u16string>& caller, int32_t& authn_level,
                              int32_t& imp_level, int32_t& uid) override {
    // CoQueryClientBlanket's view of the caller.
    auto context = com::CoGetCallContext();
    if (!context.ok()) return static_cast<idl::HRESULT>(context.status().code().value());
    auto blanket = (*context)->QueryBlanket();
    if (!blanket.ok()) return static_cast<idl::HRESULT>(blanket.status().code().value());
    caller = Utf8ToUtf16Lossy(blanket->client_principal);
    authn_level = static_cast<int32_t>(blanket->authn_level);
    // Not in QueryBlanket (R93: a server cannot learn it there); the
    // example reports it from the call's security for its tests.
    imp_level = static_cast<int32_t>(security::ToNumber((*context)->security().imp_level));
    // CoImpersonateClient; the method's end reverts (R96).
    uid = com::CoImpersonateClient().Succeeded() && com::ImpersonatedUid()
              ? static_cast<int32_t>(::geteuid())
              : -1;
    return 0;
  }

  Result<idl::HRESULT> GetChild(ComPtr<idl::IComsecHello>& child) override {
    child = MakeComsecHello(principal_);
    return 0;
  }

  Result<idl::HRESULT> CallBack(const ComPtr<idl::IComsecHello>& target,
                                const std::u16string& name,
                                std::optional<std::u16string>& greeting) override {
    if (!target) return static_cast<idl::HRESULT>(E_POINTER.value());
    // As the caller, as far as this server may (the onward call's identity
    // is the process's without cloaking, issue 14).
    (void)com::CoImpersonateClient();
    auto r = target->Greet(name, greeting);
    (void)com::CoRevertToSelf();
    if (!r.ok()) return AsHresult(r.status());
    return *r;
  }

 private:
  const std::u16string principal_;
};

}  // namespace

ComPtr<idl::IComsecHello> MakeComsecHello(std::u16string server_principal) {
  return ComPtr<idl::IComsecHello>(MakeComObject<ComsecHello>(std::move(server_principal)).get());
}

HResult ComsecHelloFactory::CreateInstance(IUnknown* outer, const Guid& iid, void** object) {
  if (object == nullptr) return E_POINTER;
  *object = nullptr;
  if (outer != nullptr) return CLASS_E_NOAGGREGATION;
  return MakeComsecHello(principal_)->QueryInterface(iid, object);
}

Result<idl::HRESULT> ComsecHelloFactory::RemoteCreateInstance(const idl::IID& iid,
                                                              ComPtr<IUnknown>& object) {
  void* p = nullptr;
  HResult hr = CreateInstance(nullptr, iid, &p);
  if (hr.Succeeded()) object = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(p));
  return static_cast<idl::HRESULT>(hr.value());
}

Result<idl::HRESULT> ComsecHelloFactory::RemoteLockServer(idl::BOOL lock) {
  locks_ += lock ? 1 : -1;
  return 0;
}

std::string ProcessAccountName() {
  const uid_t uid = ::geteuid();
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid " + std::to_string(uid);
}

}  // namespace comsec::examples
