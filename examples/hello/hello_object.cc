#include "hello_object.h"

#include <pwd.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "comsec/base/hresult.h"
#include "comsec/base/utf16.h"
#include "comsec/rpc/current_call.h"
#include "comsec/security/thread_impersonation.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::examples {
namespace {

// RPC_E_NO_CONTEXT (winerror.h): asked for the caller outside a call, as
// CoQueryClientBlanket answers then.
constexpr idl::HRESULT kRpcENoContext = static_cast<idl::HRESULT>(0x8001011Eu);

idl::HRESULT AsHresult(const Status& s) { return static_cast<idl::HRESULT>(s.code().value()); }

// The caller's Unix identity taken on by this thread for as long as the
// result lives; null when the call cannot be impersonated (see the header).
std::unique_ptr<security::ThreadImpersonation> ImpersonateCaller(const rpc::CallContext& call) {
  if (call.security.token == nullptr ||
      call.security.imp_level < security::ImpLevel::kImpersonate) {
    return nullptr;
  }
  std::optional<uint32_t> uid = security::UnixUidOf(call.security.token->user());
  if (!uid) return nullptr;
  auto identity = security::LookupUnixUser(*uid);
  if (!identity.ok()) return nullptr;
  auto impersonation = security::ThreadImpersonation::Begin(*identity);
  return impersonation.ok() ? std::move(*impersonation) : nullptr;
}

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
    const rpc::CallContext* call = rpc::CurrentCall();
    if (call == nullptr) return kRpcENoContext;
    caller = Utf8ToUtf16Lossy(call->security.principal);
    authn_level = static_cast<int32_t>(security::ToNumber(call->security.authn_level));
    imp_level = static_cast<int32_t>(security::ToNumber(call->security.imp_level));
    auto impersonation = ImpersonateCaller(*call);
    uid = impersonation ? static_cast<int32_t>(::geteuid()) : -1;
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
    const rpc::CallContext* call = rpc::CurrentCall();
    auto impersonation = call != nullptr ? ImpersonateCaller(*call) : nullptr;
    auto r = target->Greet(name, greeting);
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
