// Per-proxy client security (issue 14, client side): the security blanket
// of each interface proxy, its negotiation, and IClientSecurity with the
// Co* wrappers. Rules of com-security-rules.md: R43-R57 (capability
// flags), R74-R78 (blanket negotiation), R79-R90 (IClientSecurity).
//
// When a proxy manager is made for an object of another exporter, its OXID
// gets a default blanket (R75): from what the OXID's resolver returned (the
// server's security bindings and its authentication level hint) and the
// process's settings (the client package and blanket of ComRuntimeOptions,
// its CIS capabilities):
//   service       the first of the server's bindings this process has a
//                 package for (the server's order); no binding: the
//                 process's own package; no package: RPC_C_AUTHN_NONE;
//   authz, name   the server's binding for that service (its principal;
//                 an empty one: the process's own target name for it);
//   level         max(the process's, the server's hint); NONE without a
//                 package;
//   imp level     the process's (IMPERSONATE with TLS, R78);
//   capabilities  the process's (EOAC_DEFAULT's meaning, R47);
//   identity      the process's credentials for that service (null: the
//                 package's own default identity).
// Every interface proxy starts with it; SetBlanket replaces one proxy's
// blanket (values stored as given, each parameter passed as its default
// constant worked out again as above, R76), and the next call on that
// proxy uses it. Calls already running keep theirs (R82).
//
// On the wire, every blanket is one authentication context of the OXID's
// one association (rpc::Client::AddAuthContext: alter_context), made on
// first use and kept for every proxy with the same blanket; a blanket at
// level NONE (or service NONE) uses a second, unauthenticated association,
// since an authenticated one refuses requests without a verifier.
//
// EOAC_MUTUAL_AUTH (R44, with R29 and the decision) makes a call
// fail with RPC_S_SEC_PKG_ERROR when its package did not prove the server:
// NTLM never does (the HRESULT's message says so and names Kerberos and
// Negotiate).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/client.h"
#include "comsec/security/authn_level.h"

namespace comsec::com {

// ==== Constants (rpcdce.h, objidl.h, wtypes.h) ===============================

// Authentication services (R26). RPC_C_AUTHN_DEFAULT asks for negotiation.
inline constexpr uint32_t RPC_C_AUTHN_NONE = 0;
inline constexpr uint32_t RPC_C_AUTHN_GSS_NEGOTIATE = 9;
inline constexpr uint32_t RPC_C_AUTHN_WINNT = 10;
inline constexpr uint32_t RPC_C_AUTHN_GSS_SCHANNEL = 14;
inline constexpr uint32_t RPC_C_AUTHN_GSS_KERBEROS = 16;
inline constexpr uint32_t RPC_C_AUTHN_DEFAULT = 0xFFFFFFFFu;
// Authorization services.
inline constexpr uint32_t RPC_C_AUTHZ_NONE = 0;
inline constexpr uint32_t RPC_C_AUTHZ_NAME = 1;
inline constexpr uint32_t RPC_C_AUTHZ_DCE = 2;
inline constexpr uint32_t RPC_C_AUTHZ_DEFAULT = 0xFFFFFFFFu;
// Capabilities (R43).
inline constexpr uint32_t EOAC_NONE = 0x0;
inline constexpr uint32_t EOAC_MUTUAL_AUTH = 0x1;
inline constexpr uint32_t EOAC_SECURE_REFS = 0x2;
inline constexpr uint32_t EOAC_ACCESS_CONTROL = 0x4;
inline constexpr uint32_t EOAC_APPID = 0x8;
inline constexpr uint32_t EOAC_DYNAMIC = 0x10;
inline constexpr uint32_t EOAC_STATIC_CLOAKING = 0x20;
inline constexpr uint32_t EOAC_DYNAMIC_CLOAKING = 0x40;
inline constexpr uint32_t EOAC_ANY_AUTHORITY = 0x80;
inline constexpr uint32_t EOAC_MAKE_FULLSIC = 0x100;
inline constexpr uint32_t EOAC_REQUIRE_FULLSIC = 0x200;
inline constexpr uint32_t EOAC_AUTO_IMPERSONATE = 0x400;
inline constexpr uint32_t EOAC_DEFAULT = 0x800;
inline constexpr uint32_t EOAC_DISABLE_AAA = 0x1000;
inline constexpr uint32_t EOAC_NO_CUSTOM_MARSHAL = 0x2000;
inline constexpr uint32_t EOAC_RESERVED1 = 0x4000;
// What SetBlanket accepts (R55); any other bit is E_INVALIDARG.
// EOAC_REQUIRE_FULLSIC is among the refused: it is a client's
// CoInitializeSecurity flag, which then makes SetBlanket refuse a Schannel
// principal not in fullsic form with RPC_E_FULLSIC_REQUIRED (R52;
// OxidClientSecurity::Resolve). EOAC_MAKE_FULLSIC is accepted and kept in
// the blanket; QueryBlanket returns the principal as stored whatever the
// caller's capabilities hold (R52: it does not convert names).
inline constexpr uint32_t kSetBlanketCapabilities = EOAC_MUTUAL_AUTH | EOAC_STATIC_CLOAKING |
                                                    EOAC_DYNAMIC_CLOAKING | EOAC_ANY_AUTHORITY |
                                                    EOAC_MAKE_FULLSIC | EOAC_DEFAULT;

// COLE_DEFAULT_PRINCIPAL ((OLECHAR*)-1) and COLE_DEFAULT_AUTHINFO
// ((void*)-1): "negotiate this parameter" (R76), as values of their own.
struct ColeDefaultPrincipal {};
inline constexpr ColeDefaultPrincipal COLE_DEFAULT_PRINCIPAL{};
struct ColeDefaultAuthInfo {};
inline constexpr ColeDefaultAuthInfo COLE_DEFAULT_AUTHINFO{};

// SetBlanket's pServerPrincName: NULL (keep the proxy's principal, R84),
// COLE_DEFAULT_PRINCIPAL (the negotiated one, R76) or a name.
class ServerPrincName {
 public:
  ServerPrincName(std::nullptr_t) {}  // NOLINT: NULL, as in COM
  ServerPrincName(ColeDefaultPrincipal) : kind_(Kind::kDefault) {}  // NOLINT
  ServerPrincName(std::u16string name) : kind_(Kind::kName), name_(std::move(name)) {}  // NOLINT
  ServerPrincName(const char16_t* name)  // NOLINT
      : kind_(name ? Kind::kName : Kind::kNull), name_(name ? name : u"") {}
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_default() const { return kind_ == Kind::kDefault; }
  const std::u16string& name() const { return name_; }

 private:
  enum class Kind : uint8_t { kNull, kDefault, kName };
  Kind kind_ = Kind::kNull;
  std::u16string name_;
};

// SetBlanket's pAuthInfo (RPC_AUTH_IDENTITY_HANDLE): NULL (the process's
// identity, R85), COLE_DEFAULT_AUTHINFO (the negotiated one, R76) or
// explicit credentials of the service's package (SEC_WINNT_AUTH_IDENTITY's
// analog: auth::ntlm::NtlmCredentials, a Kerberos ccache...).
class AuthIdentity {
 public:
  AuthIdentity(std::nullptr_t) {}                                    // NOLINT
  AuthIdentity(ColeDefaultAuthInfo) : default_(true) {}              // NOLINT
  AuthIdentity(std::shared_ptr<const rpc::Credentials> credentials)  // NOLINT
      : credentials_(std::move(credentials)) {}
  bool is_null() const { return !default_ && !credentials_; }
  bool is_default() const { return default_; }
  const std::shared_ptr<const rpc::Credentials>& credentials() const { return credentials_; }

 private:
  bool default_ = false;
  std::shared_ptr<const rpc::Credentials> credentials_;
};

// A blanket as a proxy holds it (R74; a client's, so no ACL).
struct ProxyBlanket {
  uint32_t authn_svc = RPC_C_AUTHN_NONE;
  uint32_t authz_svc = RPC_C_AUTHZ_NONE;
  std::optional<std::u16string> principal;  // nullopt: NULL
  security::AuthnLevel authn_level = security::AuthnLevel::kNone;
  security::ImpLevel imp_level = security::ImpLevel::kIdentify;
  // Null: the package's own default identity.
  std::shared_ptr<const rpc::Credentials> auth_info;
  uint32_t capabilities = EOAC_NONE;
  friend bool operator==(const ProxyBlanket&, const ProxyBlanket&) = default;
};

// The process's half of negotiation (R75): what ComRuntimeOptions says.
struct ClientProcessSecurity {
  // The process's outgoing blanket (package, level, identity, target name,
  // imp level, wanted features); none: it cannot authenticate.
  std::optional<rpc::ClientAuth> auth;
  // More packages SetBlanket may name by their service; auth's comes first.
  std::vector<rpc::SecurityPackage*> packages;
  // The process's CIS capabilities (EOAC_*; what EOAC_DEFAULT means, R47).
  uint32_t capabilities = EOAC_NONE;
  // EOAC_SECURE_REFS is on: IUnknown keeps the default blanket (R86).
  bool secure_references = false;

  // The package of service `svc`, or null.
  rpc::SecurityPackage* Package(uint32_t svc) const;
};

// A proxy's current blanket, replaced whole (R83) and read as a snapshot
// (R82: a call keeps the one it started with).
//
// Thread-safety: every method may be called from any thread.
class BlanketSlot {
 public:
  std::shared_ptr<const ProxyBlanket> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return blanket_;
  }
  void Set(std::shared_ptr<const ProxyBlanket> blanket) {
    std::lock_guard<std::mutex> lock(mu_);
    blanket_ = std::move(blanket);
  }
  // Replaces the blanket with `make(current)`'s, under the slot's lock, so
  // that a SetBlanket reading the current principal (R84) and another
  // setting one never interleave.
  template <class F>
  Status Update(F make) {
    std::lock_guard<std::mutex> lock(mu_);
    COMSEC_ASSIGN_OR_RETURN(ProxyBlanket next, make(*blanket_));
    blanket_ = std::make_shared<const ProxyBlanket>(std::move(next));
    return Status::Ok();
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ProxyBlanket> blanket_ = std::make_shared<const ProxyBlanket>();
};

// SetBlanket's parameters as given.
struct BlanketRequest {
  uint32_t authn_svc = RPC_C_AUTHN_DEFAULT;
  uint32_t authz_svc = RPC_C_AUTHZ_DEFAULT;
  ServerPrincName principal = COLE_DEFAULT_PRINCIPAL;
  security::AuthnLevel authn_level = security::AuthnLevel::kDefault;
  security::ImpLevel imp_level = security::ImpLevel::kDefault;
  AuthIdentity auth_info = COLE_DEFAULT_AUTHINFO;
  uint32_t capabilities = EOAC_DEFAULT;
};

// Where one call goes: the association and its authentication context
// (nullopt: none, an unauthenticated call).
struct CallRoute {
  std::shared_ptr<rpc::Client> client;
  std::optional<uint32_t> auth_context_id;
};

// One OXID as the process's proxies reach it: the server's half of
// negotiation, the default blanket, and the authentication contexts of
// its association.
//
// Thread-safety: every method may be called from any thread.
class OxidClientSecurity {
 public:
  OxidClientSecurity(ClientProcessSecurity process,
                     std::vector<OxidBindings::Security> server_bindings, uint32_t server_hint);

  // R75.
  const ProxyBlanket& default_blanket() const { return default_; }
  const ClientProcessSecurity& process() const { return process_; }

  // The blanket SetBlanket(`request`) gives a proxy whose blanket is
  // `current` (R76, R84, R85); E_INVALIDARG for R46, R55, R56 and values
  // out of range.
  Result<ProxyBlanket> Resolve(const ProxyBlanket& current, const BlanketRequest& request) const;

  // The authentication context a blanket runs as; nullopt at level NONE.
  // RPC_S_UNKNOWN_AUTHN_SERVICE when the process has no package for its
  // service.
  Result<std::optional<rpc::ClientAuth>> AuthFor(const ProxyBlanket& blanket) const;

  // The association `client` (connected to `at`) was bound with
  // `bind_auth` (the default blanket's, nullopt: unauthenticated). Once,
  // before any Route.
  // With `none_uses_bound`, blankets at level NONE use the bind's context
  // (a local association the process authenticated with the local package
  // although its blanket has none, com/cloaking.h) instead of an
  // unauthenticated association of their own.
  void Attach(std::shared_ptr<rpc::Client> client, rpc::StringBinding at,
              rpc::ClientOptions options, const std::optional<rpc::ClientAuth>& bind_auth,
              bool none_uses_bound = false);
  // Where a call with `blanket` goes; its authentication context is added
  // to the association on first use. A handshake's failure is the call's
  // (EOAC_MUTUAL_AUTH over NTLM: MutualAuthFailure's).
  Result<CallRoute> Route(const ProxyBlanket& blanket);

 private:
  using Key = std::tuple<rpc::SecurityPackage*, security::AuthnLevel, const rpc::Credentials*,
                         std::string, security::ImpLevel, uint32_t>;
  static Key KeyOf(const rpc::ClientAuth& auth);
  // The server's binding for `svc`, or null.
  const OxidBindings::Security* BindingFor(uint32_t svc) const;
  // The parameters R75 works out, each for service `svc`.
  uint32_t DefaultAuthz(uint32_t svc) const;
  std::optional<std::u16string> DefaultPrincipal(uint32_t svc) const;
  security::AuthnLevel DefaultLevel(uint32_t svc) const;
  security::ImpLevel DefaultImpLevel(uint32_t svc) const;
  std::shared_ptr<const rpc::Credentials> DefaultIdentity(uint32_t svc) const;
  uint32_t DefaultCapabilities() const;

  const ClientProcessSecurity process_;
  const std::vector<OxidBindings::Security> server_;
  const uint32_t server_hint_;
  ProxyBlanket default_;

  // Serializes adding a context (a handshake on the wire); lookups take
  // only mu_, so a call whose context exists never waits for one.
  std::mutex add_mu_;
  mutable std::mutex mu_;
  std::shared_ptr<rpc::Client> client_;
  std::shared_ptr<rpc::Client> plain_;  // unauthenticated, made when needed
  rpc::StringBinding at_;
  rpc::ClientOptions options_;
  bool bound_authenticated_ = false;
  // Level NONE blankets use this context of the bound association.
  std::optional<uint32_t> none_context_;
  std::map<Key, uint32_t> contexts_;
  uint32_t next_context_id_ = 0;
};

// `failed` (a handshake's refusal) as the caller of a blanket with
// EOAC_MUTUAL_AUTH must see it: NTLM cannot prove the server.
Status MutualAuthFailure(const Status& failed, const rpc::ClientAuth& auth);

// ==== IClientSecurity (R79-R88) ==============================================

class IClientSecurity : public IUnknown {
 public:
  // 0000013D-0000-0000-C000-000000000046
  static constexpr Guid kIid{0x0000013Du, 0x0000, 0x0000,
                             {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
  // R81. `proxy`, `authn_svc` and `authz_svc` may not be null; every other
  // output is skipped when null. The principal is nullopt for NULL; the
  // identity is the live value (null: the package's default identity).
  virtual HResult QueryBlanket(IUnknown* proxy, uint32_t* authn_svc, uint32_t* authz_svc,
                               std::optional<std::u16string>* server_princ_name,
                               security::AuthnLevel* authn_level, security::ImpLevel* imp_level,
                               std::shared_ptr<const rpc::Credentials>* auth_info,
                               uint32_t* capabilities) = 0;
  // R82-R86.
  virtual HResult SetBlanket(IUnknown* proxy, uint32_t authn_svc, uint32_t authz_svc,
                             ServerPrincName server_princ_name, security::AuthnLevel authn_level,
                             security::ImpLevel imp_level, AuthIdentity auth_info,
                             uint32_t capabilities) = 0;
  // R87: a private copy of one interface proxy with the default blanket,
  // holding one reference.
  virtual HResult CopyProxy(IUnknown* proxy, IUnknown** copy) = 0;

 protected:
  ~IClientSecurity() override = default;
};
inline constexpr Guid IID_IClientSecurity = IClientSecurity::kIid;

// What IClientSecurity needs of the proxy manager that embeds it
// (com/remote_object.h).
class ProxyManagerSecurity {
 public:
  // The blanket of `proxy` when it is one of this object's interface
  // proxies (a copy included) or its IUnknown (then *is_unknown); null for
  // anything else: another object's proxy, an object of this process, a
  // local interface (IClientSecurity).
  virtual BlanketSlot* FindBlanket(IUnknown* proxy, bool* is_unknown) = 0;
  // SetBlanket replaced the blanket of `proxy` (an interface proxy
  // FindBlanket found), on the calling thread: R106's capture for static
  // cloaking (com/cloaking.h).
  virtual void BlanketChanged(IUnknown* proxy) = 0;
  virtual OxidClientSecurity& oxid_security() = 0;
  // R87's copy, holding one reference; E_INVALIDARG when `proxy` is not
  // one of this object's interface proxies.
  virtual Result<IUnknown*> CopyInterfaceProxy(IUnknown* proxy) = 0;

 protected:
  ~ProxyManagerSecurity() = default;
};

// The IClientSecurity of one proxy manager: a part of it (its QueryInterface,
// AddRef and Release are the manager's), so that it is a pointer of its own,
// as a local interface the methods refuse (R80, R86, R87).
//
// Thread-safety: every method may be called from any thread.
class ClientSecurity final : public IClientSecurity {
 public:
  ClientSecurity(IUnknown* identity, ProxyManagerSecurity* manager)
      : identity_(identity), manager_(manager) {}

  HResult QueryInterface(const Guid& iid, void** object) override {
    return identity_->QueryInterface(iid, object);
  }
  uint32_t AddRef() override { return identity_->AddRef(); }
  uint32_t Release() override { return identity_->Release(); }

  HResult QueryBlanket(IUnknown* proxy, uint32_t* authn_svc, uint32_t* authz_svc,
                       std::optional<std::u16string>* server_princ_name,
                       security::AuthnLevel* authn_level, security::ImpLevel* imp_level,
                       std::shared_ptr<const rpc::Credentials>* auth_info,
                       uint32_t* capabilities) override;
  HResult SetBlanket(IUnknown* proxy, uint32_t authn_svc, uint32_t authz_svc,
                     ServerPrincName server_princ_name, security::AuthnLevel authn_level,
                     security::ImpLevel imp_level, AuthIdentity auth_info,
                     uint32_t capabilities) override;
  HResult CopyProxy(IUnknown* proxy, IUnknown** copy) override;

 private:
  IUnknown* const identity_;
  ProxyManagerSecurity* const manager_;
};

// The thin wrappers (R88): QueryInterface for IClientSecurity, the method,
// Release. E_NOINTERFACE for an object of this process (R79). The
// CoQueryProxyBlanket page makes pAuthzSvc optional.
HResult CoQueryProxyBlanket(IUnknown* proxy, uint32_t* authn_svc, uint32_t* authz_svc,
                            std::optional<std::u16string>* server_princ_name,
                            security::AuthnLevel* authn_level, security::ImpLevel* imp_level,
                            std::shared_ptr<const rpc::Credentials>* auth_info,
                            uint32_t* capabilities);
HResult CoSetProxyBlanket(IUnknown* proxy, uint32_t authn_svc, uint32_t authz_svc,
                          ServerPrincName server_princ_name, security::AuthnLevel authn_level,
                          security::ImpLevel imp_level, AuthIdentity auth_info,
                          uint32_t capabilities);
HResult CoCopyProxy(IUnknown* proxy, IUnknown** copy);

}  // namespace comsec::com
