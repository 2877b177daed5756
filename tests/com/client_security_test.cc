// Per-proxy client security (com/client_security.h; rules R43-R57, R74-R78,
// R79-R90 of com-security-rules.md): a server ComRuntime and a client
// ComRuntime of this process over loopback TCP, the client authenticating
// with NTLM as a store account (alice) whose logons the server validates
// against the store's secrets file. Every probe method reports the blanket
// its call arrived with, as the server's CoQueryClientBlanket sees it, so
// the tests see what each blanket did on the wire.
#include "comsec/com/client_security.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "../auth/tls_test_certs.h"
#include "../rpc/local_test_support.h"
#include "client_security_test.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/base/com_object.h"
#include "comsec/base/utf16.h"
#include "comsec/com/com_runtime.h"
#include "comsec/com/server_security.h"
#include "comsec/config/accounts.h"
#include "com_test_support.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/secrets.h"
#include "comsec/runtime/runtime.h"

namespace comsec::com {
namespace {

using idl::IBlanketProbe;
using idl::IOtherProbe;
using idl::IThirdProbe;
using security::AuthnLevel;
using security::ImpLevel;

constexpr char kPassword[] = "Blanket#Pass1";

idl::HRESULT AsIdl(HResult hr) { return static_cast<idl::HRESULT>(hr.value()); }

class Probe final : public ComObject<IBlanketProbe, IOtherProbe, IThirdProbe> {
 public:
  Result<idl::HRESULT> Seen(int32_t& level, int32_t& svc,
                            std::optional<std::u16string>& principal) override {
    auto b = CoQueryClientBlanket();
    if (!b.ok()) return AsIdl(b.status().code());
    level = static_cast<int32_t>(b->authn_level);
    svc = static_cast<int32_t>(b->authn_svc);
    principal = Utf8ToUtf16Lossy(b->client_principal);
    return 0;
  }
  Result<idl::HRESULT> OtherSeen(int32_t& level) override { return Level(level); }
  Result<idl::HRESULT> ThirdSeen(int32_t& level) override { return Level(level); }

 private:
  static Result<idl::HRESULT> Level(int32_t& level) {
    auto b = CoQueryClientBlanket();
    if (!b.ok()) return AsIdl(b.status().code());
    level = static_cast<int32_t>(b->authn_level);
    return 0;
  }
};

auth::ntlm::ClientCredentials Alice() {
  auth::ntlm::ClientCredentials c;
  c.user = "alice";
  c.password = kPassword;
  return c;
}

// A blanket as CoQueryProxyBlanket reports it.
struct Queried {
  uint32_t authn_svc = 0xDEAD;
  uint32_t authz_svc = 0xDEAD;
  std::optional<std::u16string> principal = u"(unset)";
  AuthnLevel authn_level = AuthnLevel::kDefault;
  ImpLevel imp_level = ImpLevel::kDefault;
  std::shared_ptr<const rpc::Credentials> auth_info;
  uint32_t capabilities = 0xDEAD;
  friend bool operator==(const Queried&, const Queried&) = default;
};

Queried Query(IUnknown* proxy) {
  Queried q;
  EXPECT_EQ(CoQueryProxyBlanket(proxy, &q.authn_svc, &q.authz_svc, &q.principal, &q.authn_level,
                                &q.imp_level, &q.auth_info, &q.capabilities),
            S_OK);
  return q;
}

// SetBlanket with every parameter defaulted but the level and capabilities.
HResult SetLevel(IUnknown* proxy, AuthnLevel level, uint32_t capabilities = EOAC_DEFAULT) {
  return CoSetProxyBlanket(proxy, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_DEFAULT,
                           COLE_DEFAULT_PRINCIPAL, level, ImpLevel::kDefault,
                           COLE_DEFAULT_AUTHINFO, capabilities);
}

// The level the server saw on a call through `probe`; -1 when it failed.
int32_t SeenLevel(IBlanketProbe* probe) {
  int32_t level = -1, svc = -1;
  std::optional<std::u16string> principal;
  auto r = probe->Seen(level, svc, principal);
  if (!r.ok() || *r != 0) return -1;
  return level;
}
int32_t SeenLevel(IOtherProbe* probe) {
  int32_t level = -1;
  auto r = probe->OtherSeen(level);
  return r.ok() && *r == 0 ? level : -1;
}

template <class T>
ComPtr<T> QueryAs(IUnknown* from) {
  void* p = nullptr;
  EXPECT_EQ(from->QueryInterface(T::kIid, &p), S_OK);
  return ComPtr<T>::Adopt(static_cast<T*>(p));
}

struct ServerSetup {
  std::vector<OxidBindings::Security> bindings = {{kAuthnNtlm, kAuthzNone, u""}};
  uint32_t hint = 2;  // RPC_C_AUTHN_LEVEL_CONNECT
  int32_t c_auth_svc = -1;  // CoInitializeSecurity's cAuthSvc: 0 or -1 (R62)
};
struct ClientSetup {
  AuthnLevel level = AuthnLevel::kConnect;
  ImpLevel imp_level = ImpLevel::kImpersonate;
  uint32_t capabilities = 0;
  bool secure_references = false;
};

class ClientSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/store.db";
    auto store = config::Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    // Level NONE calls (R89) arrive as remote ANONYMOUS LOGON, which the
    // default MachineAccessRestriction refuses (R139, R175): this machine
    // lets them execute, explicitly.
    testing::AllowAnonymousRemoteCalls(*store_);
    auto secrets = config::OpenSecrets(path_);
    ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
    config::AccountDatabase db(secrets->get());
    auto domain = db.EnsureDomain("blankets");
    ASSERT_TRUE(domain.ok());
    domain_ = domain->name;
    ASSERT_TRUE(db.AddUser("alice", auth::ntlm::NtHashOfPassword(kPassword)).ok());
    runtime::ProgramSecurity program;
    program.validation.kind = runtime::LogonValidation::Kind::kSecretsFile;
    program.validation.store_path = path_;
    auto options = runtime::RuntimeOptionsFromStore(store_.get(), program, nullptr);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    auto rt = runtime::Runtime::Create(std::move(*options), nullptr);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    server_rt_ = std::move(*rt);
    auto client_rt = runtime::Runtime::Create(*runtime::RuntimeOptionsFromStore(nullptr, {}, {}),
                                              nullptr);
    ASSERT_TRUE(client_rt.ok());
    client_rt_ = std::move(*client_rt);
    ntlm_ = client_rt_->NtlmClient(Alice());
    alice_ = std::make_shared<const auth::ntlm::NtlmCredentials>(Alice());
    Start(ServerSetup{}, ClientSetup{});
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
  }

  void Start(const ServerSetup& s, const ClientSetup& c) {
    client_.reset();
    server_.reset();
    ComRuntimeOptions so;
    so.server = server_rt_->ServerOptions();
    so.store = path_;
    so.authn_hint = s.hint;
    so.security_bindings = s.bindings;
    auto server = ComRuntime::Start(so);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    // Calls at every level reach the probes (R89's NONE included), from
    // anyone: CoInitializeSecurity(NULL, ..., RPC_C_AUTHN_LEVEL_NONE, ...)
    // (R66, R71); the floor is the exporter's business, not this test's.
    CoInitializeSecurityParams cis;
    cis.authn_level = 1;
    cis.c_auth_svc = s.c_auth_svc;
    ASSERT_TRUE((*server)->InitializeSecurity(cis).ok());
    server_ = std::move(*server);
    ComRuntimeOptions co;
    rpc::ClientAuth auth;
    auth.package = ntlm_.get();
    auth.level = c.level;
    auth.credentials = alice_;
    auth.imp_level = c.imp_level;
    co.client_auth = auth;
    co.capabilities = c.capabilities;
    co.secure_references = c.secure_references;
    auto client = ComRuntime::Start(co);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    for (ComRuntime* rt : {server_.get(), client_.get()}) {
      rt->RegisterInterface(idl::IBlanketProbeInfo());
      rt->RegisterInterface(idl::IOtherProbeInfo());
      rt->RegisterInterface(idl::IThirdProbeInfo());
    }
  }

  // A new probe object of the server, as the client's proxy.
  ComPtr<IBlanketProbe> Remote() {
    ComPtr<Probe> probe = MakeComObject<Probe>();
    auto objref = server_->MarshalInterface(idl::IID_IBlanketProbe, probe->unknown());
    EXPECT_TRUE(objref.ok()) << objref.status().ToString();
    if (!objref.ok()) return nullptr;
    auto proxy = client_->Unmarshal<IBlanketProbe>(*objref);
    EXPECT_TRUE(proxy.ok()) << proxy.status().ToString();
    return proxy.ok() ? *proxy : nullptr;
  }
  std::u16string AliceName() const { return Utf8ToUtf16Lossy(domain_ + "\\alice"); }

  rpc::testing::TempDir dir_;
  std::string path_;
  std::string domain_;
  std::unique_ptr<config::Store> store_;
  std::unique_ptr<runtime::Runtime> server_rt_;
  std::unique_ptr<runtime::Runtime> client_rt_;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_;
  std::shared_ptr<const rpc::Credentials> alice_;
  std::unique_ptr<ComRuntime> server_;
  std::unique_ptr<ComRuntime> client_;
};

// ==== R75-R77: the default blanket ===========================================

// R75: the first service of the server's bindings the client has a package
// for (Kerberos listed first, NTLM chosen), the higher of the two levels
// (the server's hint, PKT_INTEGRITY, over the client's CONNECT), the
// client's impersonation level and identity, and the client's CIS
// capabilities that a proxy may carry (R47; SECURE_REFS is not one, R55).
TEST_F(ClientSecurityTest, R75_QueryBlanketShowsTheNegotiatedDefault) {
  ServerSetup s;
  s.bindings = {{kAuthnKerberos, kAuthzNone, u"RPCSS/elsewhere"}, {kAuthnNtlm, kAuthzNone, u""}};
  s.hint = 5;
  ClientSetup c;
  c.capabilities = EOAC_SECURE_REFS | EOAC_ANY_AUTHORITY;
  Start(s, c);
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  const Queried q = Query(probe.get());
  EXPECT_EQ(q.authn_svc, RPC_C_AUTHN_WINNT);
  EXPECT_EQ(q.authz_svc, RPC_C_AUTHZ_NONE);
  EXPECT_EQ(q.principal, std::nullopt);  // NTLM's binding names none
  EXPECT_EQ(q.authn_level, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(q.imp_level, ImpLevel::kImpersonate);
  EXPECT_EQ(q.auth_info, alice_);
  EXPECT_EQ(q.capabilities, EOAC_ANY_AUTHORITY);
  // The wire agrees.
  int32_t level = 0, svc = 0;
  std::optional<std::u16string> principal;
  auto r = probe->Seen(level, svc, principal);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(level, 5);
  EXPECT_EQ(svc, 10);
  EXPECT_EQ(principal, AliceName());
  // IUnknown starts with the same blanket (R86).
  ComPtr<IUnknown> unknown = QueryAs<IUnknown>(probe.get());
  EXPECT_EQ(Query(unknown.get()), q);
}

// R75: a client level above the server's hint wins too.
TEST_F(ClientSecurityTest, R75_TheClientsHigherLevelWins) {
  ClientSetup c;
  c.level = AuthnLevel::kPktPrivacy;
  c.imp_level = ImpLevel::kIdentify;
  Start(ServerSetup{}, c);
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  EXPECT_EQ(Query(probe.get()).authn_level, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(Query(probe.get()).imp_level, ImpLevel::kIdentify);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
}

// R58, R75: a client's CoInitializeSecurity gives its proxies' default
// level and impersonation level, over what its blanket said.
TEST_F(ClientSecurityTest, R58_TheClientsCoInitializeSecurityLevelsAreItsProxiesDefault) {
  Start(ServerSetup{}, ClientSetup{});  // the client's blanket: CONNECT, IMPERSONATE
  CoInitializeSecurityParams cis;
  cis.authn_level = 6;  // RPC_C_AUTHN_LEVEL_PKT_PRIVACY
  cis.imp_level = 2;    // RPC_C_IMP_LEVEL_IDENTIFY
  ASSERT_TRUE(client_->InitializeSecurity(cis).ok());
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  EXPECT_EQ(Query(probe.get()).authn_level, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(Query(probe.get()).imp_level, ImpLevel::kIdentify);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
}

// R75, R78, without the wire: the service order, no common service, the
// principal registered for the service, and TLS's IMPERSONATE.
TEST(ClientSecurityNegotiation, R75_R78_TheDefaultBlanketFromBindingsAndProcess) {
  auth::ntlm::NtlmPackage ntlm(Alice());
  ClientProcessSecurity process;
  process.auth.emplace();
  process.auth->package = &ntlm;
  process.auth->level = AuthnLevel::kPkt;
  process.auth->imp_level = ImpLevel::kDelegate;
  process.auth->target_name = "host/client-named";

  // No binding in common: the process's own package, not a weaker call.
  OxidClientSecurity none_in_common(process, {{kAuthnKerberos, kAuthzNone, u"RPCSS/h"}}, 1);
  EXPECT_EQ(none_in_common.default_blanket().authn_svc, RPC_C_AUTHN_WINNT);
  EXPECT_EQ(none_in_common.default_blanket().authn_level, AuthnLevel::kPkt);  // hint 1 lower
  EXPECT_EQ(none_in_common.default_blanket().imp_level, ImpLevel::kDelegate);
  // The server registered no principal for NTLM: the process's own name.
  EXPECT_EQ(none_in_common.default_blanket().principal, u"host/client-named");

  OxidClientSecurity with_name(process, {{kAuthnNtlm, 1, u"RPCSS/server"}}, 6);
  EXPECT_EQ(with_name.default_blanket().principal, u"RPCSS/server");
  EXPECT_EQ(with_name.default_blanket().authz_svc, RPC_C_AUTHZ_NAME);
  EXPECT_EQ(with_name.default_blanket().authn_level, AuthnLevel::kPktPrivacy);

  // A process without a blanket of its own cannot authenticate.
  OxidClientSecurity anonymous(ClientProcessSecurity{}, {{kAuthnNtlm, kAuthzNone, u""}}, 5);
  EXPECT_EQ(anonymous.default_blanket().authn_svc, RPC_C_AUTHN_NONE);
  EXPECT_EQ(anonymous.default_blanket().authn_level, AuthnLevel::kNone);

  // R78: TLS chosen, the impersonation level is IMPERSONATE whatever the
  // process asked; asked for explicitly at IDENTIFY, still IMPERSONATE.
  char dir_template[] = "/tmp/comsec-blanket-tls-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  tls_test::Issued ca = tls_test::Issue(dir, "ca", "blanket test CA", nullptr, true);
  auth::tls::TlsClientOptions tls_options;
  tls_options.ca_file = ca.certificate_file;
  auto tls = auth::tls::TlsPackage::CreateClient(tls_options);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  ClientProcessSecurity with_tls = process;
  with_tls.packages = {tls->get()};
  OxidClientSecurity over_tls(with_tls, {{14, kAuthzNone, u"CN=server"}, {kAuthnNtlm, kAuthzNone, u""}},
                              2);
  EXPECT_EQ(over_tls.default_blanket().authn_svc, RPC_C_AUTHN_GSS_SCHANNEL);
  EXPECT_EQ(over_tls.default_blanket().imp_level, ImpLevel::kImpersonate);
  EXPECT_EQ(over_tls.default_blanket().auth_info, nullptr);  // the process's is NTLM's
  BlanketRequest identify;
  identify.imp_level = ImpLevel::kIdentify;
  auto resolved = over_tls.Resolve(over_tls.default_blanket(), identify);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->imp_level, ImpLevel::kImpersonate);
  // R46: cloaking does not go with Schannel.
  BlanketRequest cloaked;
  cloaked.capabilities = EOAC_STATIC_CLOAKING;
  EXPECT_EQ(over_tls.Resolve(over_tls.default_blanket(), cloaked).status().code(), E_INVALIDARG);
  tls_test::Free(ca);
  std::filesystem::remove_all(dir);
}

// R52 with R55, without the wire: EOAC_REQUIRE_FULLSIC is a client's CIS
// flag (SetBlanket refuses it as a capability, E_INVALIDARG), after which a
// Schannel principal SetBlanket names must be in fullsic form
// (RPC_E_FULLSIC_REQUIRED); EOAC_MAKE_FULLSIC is accepted on a proxy and
// the principal is kept as given, not converted.
TEST(ClientSecurityNegotiation, R52_R55_RequireFullsicIsTheProcesssAndChecksSchannelNames) {
  char dir_template[] = "/tmp/comsec-blanket-fullsic-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  tls_test::Issued ca = tls_test::Issue(dir, "ca", "fullsic test CA", nullptr, true);
  auth::tls::TlsClientOptions tls_options;
  tls_options.ca_file = ca.certificate_file;
  auto tls = auth::tls::TlsPackage::CreateClient(tls_options);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  auth::ntlm::NtlmPackage ntlm(Alice());
  ClientProcessSecurity process;
  process.packages = {tls->get(), &ntlm};
  const std::vector<OxidBindings::Security> bindings = {
      {14, kAuthzNone, u"msstd:srv"}, {kAuthnNtlm, kAuthzNone, u""}};
  const std::u16string fullsic = u"fullsic:\\<\\CN=CA\\CN=srv>";

  BlanketRequest r;
  r.authn_svc = RPC_C_AUTHN_GSS_SCHANNEL;
  r.authn_level = AuthnLevel::kPktPrivacy;
  // R55: not a SetBlanket capability, with or without the process flag.
  r.capabilities = EOAC_REQUIRE_FULLSIC;
  OxidClientSecurity plain(process, bindings, 2);
  EXPECT_EQ(plain.Resolve(plain.default_blanket(), r).status().code(), E_INVALIDARG);
  // Without the process flag an msstd name is fine, and MAKE_FULLSIC is
  // kept without converting it.
  r.capabilities = EOAC_MAKE_FULLSIC;
  r.principal = std::u16string(u"msstd:srv");
  auto msstd = plain.Resolve(plain.default_blanket(), r);
  ASSERT_TRUE(msstd.ok()) << msstd.status().ToString();
  EXPECT_EQ(msstd->principal, u"msstd:srv");
  EXPECT_EQ(msstd->capabilities, EOAC_MAKE_FULLSIC);

  ClientProcessSecurity requiring = process;
  requiring.capabilities = EOAC_REQUIRE_FULLSIC;
  OxidClientSecurity strict(requiring, bindings, 2);
  r.capabilities = EOAC_NONE;
  EXPECT_EQ(strict.Resolve(strict.default_blanket(), r).status().code(),
            auth::tls::RPC_E_FULLSIC_REQUIRED);
  r.principal = std::u16string(u"srv.example.test");
  EXPECT_EQ(strict.Resolve(strict.default_blanket(), r).status().code(),
            auth::tls::RPC_E_FULLSIC_REQUIRED);
  r.principal = fullsic;
  auto good = strict.Resolve(strict.default_blanket(), r);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->principal, fullsic);
  // The process flag is not a proxy capability (R55's mask drops it).
  EXPECT_EQ(good->capabilities & EOAC_REQUIRE_FULLSIC, 0u);
  // Only Schannel names are checked: NTLM's are not principal names of
  // certificates.
  BlanketRequest ntlm_request;
  ntlm_request.authn_svc = RPC_C_AUTHN_WINNT;
  ntlm_request.principal = std::u16string(u"RPCSS/srv");
  EXPECT_TRUE(strict.Resolve(strict.default_blanket(), ntlm_request).ok());
  // NULL keeps the stored name and COLE_DEFAULT_PRINCIPAL takes the
  // advertised one: neither is a name the caller specified.
  BlanketRequest keep;
  keep.authn_svc = RPC_C_AUTHN_GSS_SCHANNEL;
  keep.principal = ServerPrincName(nullptr);
  EXPECT_TRUE(strict.Resolve(strict.default_blanket(), keep).ok());
  tls_test::Free(ca);
  std::filesystem::remove_all(dir);
}

// ==== R76, R82, R84: SetBlanket ==============================================

// R82: the next call uses the new blanket, a new authentication context
// on the same association; R76: the defaulted parameters are worked out
// again (the service, its authz and identity), the given one stored.
TEST_F(ClientSecurityTest, R82_SetBlanketToPrivacyTakesEffectOnTheNextCall) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy), S_OK);
  const Queried q = Query(probe.get());
  EXPECT_EQ(q.authn_svc, RPC_C_AUTHN_WINNT);
  EXPECT_EQ(q.authz_svc, RPC_C_AUTHZ_NONE);
  EXPECT_EQ(q.authn_level, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(q.imp_level, ImpLevel::kImpersonate);
  EXPECT_EQ(q.auth_info, alice_);
  EXPECT_EQ(q.capabilities, EOAC_NONE);
  int32_t level = 0, svc = 0;
  std::optional<std::u16string> principal;
  auto r = probe->Seen(level, svc, principal);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(level, 6);
  EXPECT_EQ(svc, 10);
  EXPECT_EQ(principal, AliceName());
  // And back.
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kDefault), S_OK);
  EXPECT_EQ(Query(probe.get()).authn_level, AuthnLevel::kConnect);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
}

// R84: a NULL principal keeps the proxy's; COLE_DEFAULT_PRINCIPAL gives the
// negotiated one (none for NTLM here); a name is stored as given.
TEST_F(ClientSecurityTest, R84_ANullPrincipalKeepsTheOldOne) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  auto set = [&](ServerPrincName name, AuthnLevel level) {
    return CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, std::move(name),
                             level, ImpLevel::kImpersonate, nullptr, EOAC_NONE);
  };
  ASSERT_EQ(set(u"host/server.example", AuthnLevel::kPktIntegrity), S_OK);
  EXPECT_EQ(Query(probe.get()).principal, u"host/server.example");
  ASSERT_EQ(set(nullptr, AuthnLevel::kPktPrivacy), S_OK);
  EXPECT_EQ(Query(probe.get()).principal, u"host/server.example");
  EXPECT_EQ(Query(probe.get()).authn_level, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
  ASSERT_EQ(set(COLE_DEFAULT_PRINCIPAL, AuthnLevel::kPktPrivacy), S_OK);
  EXPECT_EQ(Query(probe.get()).principal, std::nullopt);
  // R85: a NULL pAuthInfo is the process's identity.
  EXPECT_EQ(Query(probe.get()).auth_info, alice_);
}

// R82: one interface proxy's blanket leaves the object's other interface
// proxies, and its IUnknown, as they were.
TEST_F(ClientSecurityTest, R82_SetBlanketOnOneInterfaceLeavesTheOthersAlone) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IOtherProbe> other = QueryAs<IOtherProbe>(probe.get());
  ASSERT_TRUE(other);
  ComPtr<IUnknown> unknown = QueryAs<IUnknown>(probe.get());
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy), S_OK);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
  EXPECT_EQ(SeenLevel(other.get()), 2);
  EXPECT_EQ(Query(other.get()).authn_level, AuthnLevel::kConnect);
  EXPECT_EQ(Query(unknown.get()).authn_level, AuthnLevel::kConnect);
  // The other way round.
  ASSERT_EQ(SetLevel(other.get(), AuthnLevel::kPktIntegrity), S_OK);
  EXPECT_EQ(SeenLevel(other.get()), 5);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
  // Still one proxy per interface: QueryInterface gives the same proxy,
  // with the blanket set on it.
  ComPtr<IOtherProbe> again = QueryAs<IOtherProbe>(probe.get());
  EXPECT_EQ(again.get(), other.get());
  EXPECT_EQ(Query(again.get()).authn_level, AuthnLevel::kPktIntegrity);
}

// R89: a proxy lowered to NONE calls unauthenticated (on an association of
// its own: the authenticated one refuses requests without a verifier),
// while the object's other proxies stay authenticated.
TEST_F(ClientSecurityTest, R89_AProxyLoweredToNoneCallsUnauthenticated) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IOtherProbe> other = QueryAs<IOtherProbe>(probe.get());
  ASSERT_EQ(CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_NONE, RPC_C_AUTHZ_NONE, nullptr,
                              AuthnLevel::kNone, ImpLevel::kDefault, nullptr, EOAC_NONE),
            S_OK);
  int32_t level = 0, svc = 0;
  std::optional<std::u16string> principal;
  auto r = probe->Seen(level, svc, principal);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(level, 1);
  EXPECT_EQ(principal, u"");
  EXPECT_EQ(SeenLevel(other.get()), 2);
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kDefault), S_OK);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
}

// R62: a server whose CoInitializeSecurity registered no package
// (cAuthSvc 0) receives no secure call: the NTLM call is refused with
// E_ACCESSDENIED, while a proxy lowered to NONE is still served.
TEST_F(ClientSecurityTest, R62_AServerThatRegisteredNoPackageRefusesSecureCalls) {
  ServerSetup no_packages;
  no_packages.c_auth_svc = 0;
  Start(no_packages, ClientSetup{});
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  int32_t level = 0, svc = 0;
  std::optional<std::u16string> principal;
  auto r = probe->Seen(level, svc, principal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_ACCESSDENIED) << r.status().ToString();
  ASSERT_EQ(CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_NONE, RPC_C_AUTHZ_NONE, nullptr,
                              AuthnLevel::kNone, ImpLevel::kDefault, nullptr, EOAC_NONE),
            S_OK);
  EXPECT_EQ(SeenLevel(probe.get()), 1);
  probe.reset();
  // COM's choice (cAuthSvc -1) takes NTLM's calls.
  Start(ServerSetup{}, ClientSetup{});
  ComPtr<IBlanketProbe> again = Remote();
  ASSERT_TRUE(again);
  EXPECT_EQ(SeenLevel(again.get()), 2);
}

// R76: a service this process has no package for is stored as given; the
// call fails with RPC_S_UNKNOWN_AUTHN_SERVICE, and the proxy works again
// once its blanket is set back.
TEST_F(ClientSecurityTest, R76_AServiceWithoutAPackageFailsTheCallNotTheProxy) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ASSERT_EQ(CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_GSS_KERBEROS, RPC_C_AUTHZ_NONE,
                              u"RPCSS/server", AuthnLevel::kPktIntegrity, ImpLevel::kImpersonate,
                              nullptr, EOAC_NONE),
            S_OK);
  EXPECT_EQ(Query(probe.get()).authn_svc, RPC_C_AUTHN_GSS_KERBEROS);
  int32_t level = 0, svc = 0;
  std::optional<std::u16string> principal;
  auto r = probe->Seen(level, svc, principal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_S_UNKNOWN_AUTHN_SERVICE) << r.status().ToString();
  ASSERT_EQ(CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_DEFAULT,
                              COLE_DEFAULT_PRINCIPAL, AuthnLevel::kDefault, ImpLevel::kDefault,
                              COLE_DEFAULT_AUTHINFO, EOAC_DEFAULT),
            S_OK);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
}

// ==== R87: CopyProxy ==========================================================

TEST_F(ClientSecurityTest, R87_CopyProxyGivesAnIndependentProxy) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kPktIntegrity), S_OK);
  IUnknown* raw = nullptr;
  ASSERT_EQ(CoCopyProxy(probe.get(), &raw), S_OK);
  ASSERT_NE(raw, nullptr);
  ComPtr<IBlanketProbe> copy = ComPtr<IBlanketProbe>::Adopt(static_cast<IBlanketProbe*>(raw));
  EXPECT_NE(copy.get(), probe.get());
  // The copy starts with the default blanket, not the original's.
  EXPECT_EQ(Query(copy.get()).authn_level, AuthnLevel::kConnect);
  EXPECT_EQ(SeenLevel(copy.get()), 2);
  ASSERT_EQ(SetLevel(copy.get(), AuthnLevel::kPktPrivacy), S_OK);
  EXPECT_EQ(SeenLevel(copy.get()), 6);
  EXPECT_EQ(SeenLevel(probe.get()), 5);
  EXPECT_EQ(Query(probe.get()).authn_level, AuthnLevel::kPktIntegrity);
  // QueryInterface on the copy for its IID gives the original proxy.
  ComPtr<IBlanketProbe> same = QueryAs<IBlanketProbe>(copy.get());
  EXPECT_EQ(same.get(), probe.get());
  // One identity.
  EXPECT_EQ(QueryAs<IUnknown>(copy.get()).get(), QueryAs<IUnknown>(probe.get()).get());
  // A copy of the copy is another independent proxy.
  IUnknown* raw2 = nullptr;
  ASSERT_EQ(CoCopyProxy(copy.get(), &raw2), S_OK);
  ComPtr<IBlanketProbe> copy2 = ComPtr<IBlanketProbe>::Adopt(static_cast<IBlanketProbe*>(raw2));
  EXPECT_EQ(SeenLevel(copy2.get()), 2);
  // The copies go; the original still works.
  copy.reset();
  copy2.reset();
  same.reset();
  EXPECT_EQ(SeenLevel(probe.get()), 5);
}

// R87: IUnknown and IClientSecurity are local and cannot be copied.
TEST_F(ClientSecurityTest, R87_LocalInterfacesCannotBeCopied) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IUnknown> unknown = QueryAs<IUnknown>(probe.get());
  ComPtr<IClientSecurity> security = QueryAs<IClientSecurity>(probe.get());
  IUnknown* copy = reinterpret_cast<IUnknown*>(0x1);
  EXPECT_EQ(security->CopyProxy(unknown.get(), &copy), E_INVALIDARG);
  EXPECT_EQ(copy, nullptr);
  EXPECT_EQ(security->CopyProxy(security.get(), &copy), E_INVALIDARG);
  EXPECT_EQ(security->CopyProxy(probe.get(), nullptr), E_INVALIDARG);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
}

// ==== R79-R81, R46, R55, R56: refusals ========================================

// R79: objects of this process have no IClientSecurity; the wrappers say
// E_NOINTERFACE. A proxy manager always has it.
TEST_F(ClientSecurityTest, R79_OnlyProxiesHaveIClientSecurity) {
  ComPtr<Probe> local = MakeComObject<Probe>();
  void* p = nullptr;
  EXPECT_EQ(local->unknown()->QueryInterface(IID_IClientSecurity, &p), E_NOINTERFACE);
  EXPECT_EQ(SetLevel(local->unknown(), AuthnLevel::kPktPrivacy), E_NOINTERFACE);
  uint32_t svc = 0;
  EXPECT_EQ(CoQueryProxyBlanket(local->unknown(), &svc, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr),
            E_NOINTERFACE);
  IUnknown* copy = nullptr;
  EXPECT_EQ(CoCopyProxy(local->unknown(), &copy), E_NOINTERFACE);
  EXPECT_EQ(SetLevel(nullptr, AuthnLevel::kPktPrivacy), E_INVALIDARG);
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IOtherProbe> other = QueryAs<IOtherProbe>(probe.get());
  // From any interface proxy, the one IClientSecurity of the object.
  EXPECT_EQ(QueryAs<IClientSecurity>(probe.get()).get(),
            QueryAs<IClientSecurity>(other.get()).get());
}

// R80, R86: a proxy of another object, an object that is not a proxy, and
// the local IClientSecurity itself are refused by QueryBlanket, SetBlanket
// and CopyProxy; R81: the required outputs.
TEST_F(ClientSecurityTest, R80_TheProxyMustBeOneOfThisObjects) {
  ComPtr<IBlanketProbe> probe = Remote();
  ComPtr<IBlanketProbe> stranger = Remote();
  ASSERT_TRUE(probe && stranger);
  ComPtr<IClientSecurity> security = QueryAs<IClientSecurity>(probe.get());
  ComPtr<Probe> local = MakeComObject<Probe>();
  const Queried before = Query(probe.get());
  for (IUnknown* wrong : {static_cast<IUnknown*>(stranger.get()), local->unknown(),
                          static_cast<IUnknown*>(security.get())}) {
    uint32_t svc = 0, authz = 0;
    EXPECT_EQ(security->QueryBlanket(wrong, &svc, &authz, nullptr, nullptr, nullptr, nullptr,
                                     nullptr),
              E_INVALIDARG);
    EXPECT_EQ(security->SetBlanket(wrong, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_DEFAULT,
                                   COLE_DEFAULT_PRINCIPAL, AuthnLevel::kPktPrivacy,
                                   ImpLevel::kDefault, COLE_DEFAULT_AUTHINFO, EOAC_DEFAULT),
              E_INVALIDARG);
    IUnknown* copy = nullptr;
    EXPECT_EQ(security->CopyProxy(wrong, &copy), E_INVALIDARG);
  }
  uint32_t svc = 0;
  EXPECT_EQ(security->QueryBlanket(probe.get(), &svc, nullptr, nullptr, nullptr, nullptr, nullptr,
                                   nullptr),
            E_INVALIDARG);
  EXPECT_EQ(security->QueryBlanket(probe.get(), nullptr, &svc, nullptr, nullptr, nullptr, nullptr,
                                   nullptr),
            E_INVALIDARG);
  EXPECT_EQ(security->QueryBlanket(nullptr, &svc, &svc, nullptr, nullptr, nullptr, nullptr,
                                   nullptr),
            E_INVALIDARG);
  // CoQueryProxyBlanket takes a NULL pAuthzSvc.
  EXPECT_EQ(CoQueryProxyBlanket(probe.get(), &svc, nullptr, nullptr, nullptr, nullptr, nullptr,
                                nullptr),
            S_OK);
  EXPECT_EQ(svc, RPC_C_AUTHN_WINNT);
  EXPECT_EQ(Query(probe.get()), before);
  EXPECT_EQ(Query(stranger.get()), before);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
  EXPECT_EQ(SeenLevel(stranger.get()), 2);
}

// R55: only MUTUAL_AUTH, STATIC_CLOAKING, DYNAMIC_CLOAKING, ANY_AUTHORITY,
// MAKE_FULLSIC and DEFAULT; R46: not both cloaking flags; R56: not
// cloaking with an explicit identity; levels out of range. Each refusal
// leaves the blanket as it was, and the proxy working.
TEST_F(ClientSecurityTest, R55_R46_R56_BadBlanketsAreRefusedAndChangeNothing) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kPktIntegrity), S_OK);
  const Queried before = Query(probe.get());
  for (uint32_t bit : {EOAC_SECURE_REFS, EOAC_ACCESS_CONTROL, EOAC_APPID, EOAC_DYNAMIC,
                       EOAC_REQUIRE_FULLSIC, EOAC_AUTO_IMPERSONATE, EOAC_DISABLE_AAA,
                       EOAC_NO_CUSTOM_MARSHAL, EOAC_RESERVED1, 0x8000u, 0x80000000u}) {
    EXPECT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy, EOAC_MUTUAL_AUTH | bit),
              E_INVALIDARG)
        << "capability bit " << bit;
  }
  EXPECT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy,
                     EOAC_STATIC_CLOAKING | EOAC_DYNAMIC_CLOAKING),
            E_INVALIDARG);  // R46
  for (uint32_t cloaking : {EOAC_STATIC_CLOAKING, EOAC_DYNAMIC_CLOAKING}) {
    EXPECT_EQ(CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr,
                                AuthnLevel::kPktPrivacy, ImpLevel::kImpersonate, alice_,
                                cloaking),
              E_INVALIDARG);  // R56
  }
  EXPECT_EQ(SetLevel(probe.get(), static_cast<AuthnLevel>(7)), E_INVALIDARG);
  EXPECT_EQ(CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_DEFAULT, nullptr,
                              AuthnLevel::kDefault, static_cast<ImpLevel>(5),
                              COLE_DEFAULT_AUTHINFO, EOAC_DEFAULT),
            E_INVALIDARG);
  EXPECT_EQ(Query(probe.get()), before);
  EXPECT_EQ(SeenLevel(probe.get()), 5);
  // What R55 allows is accepted (cloaking with the process's identity).
  EXPECT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy,
                     EOAC_STATIC_CLOAKING | EOAC_ANY_AUTHORITY | EOAC_MAKE_FULLSIC),
            S_OK);
  EXPECT_EQ(Query(probe.get()).capabilities,
            EOAC_STATIC_CLOAKING | EOAC_ANY_AUTHORITY | EOAC_MAKE_FULLSIC);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
}

// ==== R86: IUnknown's blanket ==================================================

// SetBlanket on IUnknown sets the blanket of the proxy manager's own
// calls (RemQueryInterface, RemAddRef, RemRelease), not its interfaces'.
// Shown with a blanket that cannot work: a QueryInterface for an interface
// not yet held fails, the interfaces keep working, and IUnknown set back
// makes the QueryInterface succeed.
TEST_F(ClientSecurityTest, R86_IUnknownsBlanketIsTheProxyManagersOwn) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IUnknown> unknown = QueryAs<IUnknown>(probe.get());
  ASSERT_EQ(SetLevel(unknown.get(), AuthnLevel::kDefault, EOAC_MUTUAL_AUTH), S_OK);
  EXPECT_EQ(Query(unknown.get()).capabilities, EOAC_MUTUAL_AUTH);
  EXPECT_EQ(Query(probe.get()).capabilities, EOAC_NONE);
  void* p = nullptr;
  EXPECT_EQ(probe->QueryInterface(IThirdProbe::kIid, &p), RPC_S_SEC_PKG_ERROR);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(SeenLevel(probe.get()), 2);
  ASSERT_EQ(SetLevel(unknown.get(), AuthnLevel::kDefault, EOAC_DEFAULT), S_OK);
  ComPtr<IThirdProbe> third = QueryAs<IThirdProbe>(probe.get());
  ASSERT_TRUE(third);
  int32_t level = 0;
  ASSERT_TRUE(third->ThirdSeen(level).ok());
  EXPECT_EQ(level, 2);
}

// R86: with secure references, IUnknown keeps the default blanket and
// SetBlanket on it fails; interface proxies are still set.
TEST_F(ClientSecurityTest, R86_WithSecureReferencesIUnknownKeepsTheDefault) {
  ClientSetup c;
  c.secure_references = true;
  Start(ServerSetup{}, c);
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IUnknown> unknown = QueryAs<IUnknown>(probe.get());
  const Queried before = Query(unknown.get());
  EXPECT_EQ(SetLevel(unknown.get(), AuthnLevel::kPktPrivacy), E_INVALIDARG);
  EXPECT_EQ(Query(unknown.get()), before);
  EXPECT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy), S_OK);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
  ComPtr<IOtherProbe> other = QueryAs<IOtherProbe>(probe.get());  // IUnknown's calls work
  EXPECT_EQ(SeenLevel(other.get()), 2);
}

// ==== R44: EOAC_MUTUAL_AUTH ====================================================

// NTLM cannot prove the server: a blanket asking for mutual authentication
// fails its calls with RPC_S_SEC_PKG_ERROR, saying so and what to use,
// before NTLM's AUTHENTICATE leaves; the object's other proxies, and this
// one once set back, keep working.
TEST_F(ClientSecurityTest, R44_MutualAuthOverNtlmFailsTheCall) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  ComPtr<IOtherProbe> other = QueryAs<IOtherProbe>(probe.get());
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy, EOAC_MUTUAL_AUTH), S_OK);
  for (int attempt = 0; attempt < 2; ++attempt) {
    int32_t level = 0, svc = 0;
    std::optional<std::u16string> principal;
    auto r = probe->Seen(level, svc, principal);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), RPC_S_SEC_PKG_ERROR);
    EXPECT_EQ(r.status().message(),
              "the blanket asks for EOAC_MUTUAL_AUTH, but NTLM (RPC_C_AUTHN_WINNT) cannot "
              "authenticate the server, so nothing was sent: use Kerberos "
              "(RPC_C_AUTHN_GSS_KERBEROS) or Negotiate (RPC_C_AUTHN_GSS_NEGOTIATE) with the "
              "server's principal name, or leave EOAC_MUTUAL_AUTH out");
    EXPECT_EQ(SeenLevel(other.get()), 2);
  }
  ASSERT_EQ(SetLevel(probe.get(), AuthnLevel::kPktPrivacy, EOAC_NONE), S_OK);
  EXPECT_EQ(SeenLevel(probe.get()), 6);
}

// A process whose own blanket asks for mutual authentication cannot reach
// an NTLM server at all: the unmarshal's bind fails the same way.
TEST_F(ClientSecurityTest, R44_AProcessBlanketWithMutualAuthFailsTheUnmarshal) {
  ClientSetup c;
  c.capabilities = EOAC_MUTUAL_AUTH;
  Start(ServerSetup{}, c);
  ComPtr<Probe> object = MakeComObject<Probe>();
  auto objref = server_->MarshalInterface(idl::IID_IBlanketProbe, object->unknown());
  ASSERT_TRUE(objref.ok());
  auto proxy = client_->Unmarshal<IBlanketProbe>(*objref);
  ASSERT_FALSE(proxy.ok());
  EXPECT_EQ(proxy.status().code(), RPC_S_SEC_PKG_ERROR);
  EXPECT_NE(proxy.status().message().find("NTLM (RPC_C_AUTHN_WINNT) cannot authenticate the "
                                          "server"),
            std::string::npos)
      << proxy.status().ToString();
  ASSERT_TRUE(server_->ReleaseMarshalData(*objref).ok());
}

// ==== R82, R83: concurrency =====================================================

// R83: two threads setting complete blankets on one proxy at once never
// leave a mix of the two; R82: calls racing with them run in one or the
// other (each call reads its blanket once), and the server sees a level
// of one of the two.
TEST_F(ClientSecurityTest, R83_RacingSetBlanketsNeverMix) {
  ComPtr<IBlanketProbe> probe = Remote();
  ASSERT_TRUE(probe);
  struct Set {
    AuthnLevel level;
    ImpLevel imp;
    uint32_t caps;
    std::u16string principal;
  };
  const Set a{AuthnLevel::kPktIntegrity, ImpLevel::kIdentify, EOAC_NONE, u"A"};
  const Set b{AuthnLevel::kPktPrivacy, ImpLevel::kImpersonate, EOAC_ANY_AUTHORITY, u"B"};
  auto apply = [&](const Set& s) {
    return CoSetProxyBlanket(probe.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, s.principal,
                             s.level, s.imp, nullptr, s.caps);
  };
  ASSERT_EQ(apply(a), S_OK);
  constexpr int kRounds = 200;
  constexpr int kCalls = 20;
  std::atomic<bool> stop{false};
  std::atomic<int> mixed{0}, failed{0}, calls{0};
  std::vector<std::thread> threads;
  for (const Set* s : {&a, &b}) {
    threads.emplace_back([&, s] {
      // Until the calls racing with them are many enough.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      for (int i = 0; i < kRounds || (calls.load() < kCalls &&
                                      std::chrono::steady_clock::now() < deadline);
           ++i) {
        if (apply(*s) != S_OK) ++failed;
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      const Queried q = Query(probe.get());
      const bool is_a = q.authn_level == a.level && q.imp_level == a.imp &&
                        q.capabilities == a.caps && q.principal == a.principal;
      const bool is_b = q.authn_level == b.level && q.imp_level == b.imp &&
                        q.capabilities == b.caps && q.principal == b.principal;
      if (!is_a && !is_b) ++mixed;
    }
  });
  threads.emplace_back([&] {
    while (!stop.load()) {
      const int32_t level = SeenLevel(probe.get());
      if (level != 5 && level != 6) ++failed;
      ++calls;
    }
  });
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();
  threads[3].join();
  EXPECT_EQ(mixed, 0);
  EXPECT_EQ(failed, 0);
  EXPECT_GE(calls, kCalls);
  EXPECT_EQ(SeenLevel(probe.get()), Query(probe.get()).authn_level == a.level ? 5 : 6);
}

}  // namespace
}  // namespace comsec::com
