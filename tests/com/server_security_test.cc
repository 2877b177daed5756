// The server side of a call's security (com/server_security.h; rules
// R91-R100): CoGetCallContext, QueryBlanket, ImpersonateClient,
// RevertToSelf, IsImpersonating, the automatic revert at the end of a
// method (R96) and nested invocations (R97). The scopes are the ones the
// object exporter opens around each method; the callers' tokens are real
// Unix identities (nobody, daemon), and as root the thread really switches.
#include "comsec/com/server_security.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <filesystem>

#include "../auth/tls_test_certs.h"
#include "comsec/auth/tls/principal_names.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/base/utf16.h"
#include "comsec/com/client_security.h"
#include "comsec/com/com_runtime.h"
#include "comsec/security/unix_identity.h"

namespace comsec::com {
namespace {

rpc::CallSecurity CallerNamed(const char* user, security::AuthnLevel level,
                              security::ImpLevel imp = security::ImpLevel::kImpersonate) {
  rpc::CallSecurity s;
  s.authn_level = level;
  s.authn_svc = 20;
  s.imp_level = imp;
  auto id = security::LookupUnixUserByName(user);
  EXPECT_TRUE(id.ok()) << user;
  if (id.ok()) {
    s.principal = std::string("unix:") + user;
    s.token = std::make_shared<const security::Token>(
        security::TokenForUnixIdentity(*id, security::UnixTokenOptions{}));
  }
  return s;
}

uint32_t UidOf(const char* user) { return security::LookupUnixUserByName(user)->uid; }

TEST(ServerSecurity, R91_R100_OutsideACallThereIsNoContext) {
  auto c = CoGetCallContext();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CoImpersonateClient(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CoRevertToSelf(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CoQueryClientBlanket().status().code(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CurrentImpersonationToken(), nullptr);
}

TEST(ServerSecurity, R95_C12_AnUnauthenticatedCallerCannotBeImpersonated) {
  rpc::CallSecurity none;  // level NONE, no token
  ServerCallScope scope(none);
  auto blanket = CoQueryClientBlanket();
  ASSERT_TRUE(blanket.ok());
  EXPECT_EQ(blanket->authn_level, 1u);
  EXPECT_EQ(blanket->client_principal, "");
  // C12: HRESULT_FROM_WIN32(RPC_S_NO_CONTEXT_AVAILABLE), 0x800706E5.
  EXPECT_EQ(CoImpersonateClient(), HResult(0x800706E5u));
  EXPECT_FALSE((*CoGetCallContext())->IsImpersonating());
}

TEST(ServerSecurity, R95_R96_R98_R99_R103_ImpersonateRevertAndTheAutomaticRevert) {
  const uid_t self = ::geteuid();
  const bool root = self == 0;
  std::shared_ptr<ServerSecurity> kept;
  {
    ServerCallScope scope(CallerNamed("nobody", security::AuthnLevel::kPktPrivacy));
    kept = *CoGetCallContext();
    auto blanket = kept->QueryBlanket();
    ASSERT_TRUE(blanket.ok());
    EXPECT_EQ(blanket->client_principal, "unix:nobody");
    EXPECT_EQ(blanket->authn_level, 6u);
    EXPECT_EQ(blanket->authn_svc, 20u);
    EXPECT_FALSE(kept->IsImpersonating());
    EXPECT_EQ(CoImpersonateClient(), HResult(0));
    EXPECT_EQ(CoImpersonateClient(), HResult(0));  // twice...
    EXPECT_TRUE(kept->IsImpersonating());
    ASSERT_NE(CurrentImpersonationToken(), nullptr);
    EXPECT_EQ(CurrentImpersonationToken()->user(), kept->security().token->user());
    if (root) {
      EXPECT_EQ(::geteuid(), UidOf("nobody"));
      EXPECT_EQ(ImpersonatedUid(), UidOf("nobody"));
    } else {
      EXPECT_EQ(::geteuid(), self);  // an identification only
      EXPECT_EQ(ImpersonatedUid(), std::nullopt);
    }
    EXPECT_EQ(CoRevertToSelf(), HResult(0));  // ...one revert (R98)
    EXPECT_FALSE(kept->IsImpersonating());
    EXPECT_EQ(::geteuid(), self);
    // Left impersonating when the method returns:
    EXPECT_EQ(kept->ImpersonateClient(), HResult(0));
  }
  // R96: COM reverted for it.
  EXPECT_EQ(::geteuid(), self);
  EXPECT_EQ(CurrentImpersonationToken(), nullptr);
  EXPECT_FALSE(kept->IsImpersonating());
  // R91: a context kept past its call.
  EXPECT_EQ(kept->ImpersonateClient(), RPC_E_CALL_COMPLETE);
  EXPECT_EQ(kept->QueryBlanket().status().code(), RPC_E_CALL_COMPLETE);
}

TEST(ServerSecurity, R95_AtIdentifyOnlyTheTokenChanges) {
  const uid_t self = ::geteuid();
  ServerCallScope scope(
      CallerNamed("nobody", security::AuthnLevel::kConnect, security::ImpLevel::kIdentify));
  EXPECT_EQ(CoImpersonateClient(), HResult(0));
  EXPECT_TRUE((*CoGetCallContext())->IsImpersonating());
  EXPECT_NE(CurrentImpersonationToken(), nullptr);
  EXPECT_EQ(ImpersonatedUid(), std::nullopt);
  EXPECT_EQ(::geteuid(), self);
}

TEST(ServerSecurity, R97_ANestedCallLeavesTheOuterImpersonationAsItFoundIt) {
  const uid_t self = ::geteuid();
  const bool root = self == 0;
  ServerCallScope outer(CallerNamed("nobody", security::AuthnLevel::kPktIntegrity));
  ASSERT_EQ(CoImpersonateClient(), HResult(0));
  const auto outer_token = CurrentImpersonationToken();
  {
    // A call into this thread while the outer one waits (an STA's
    // callback): it starts as the server, not as the outer caller.
    ServerCallScope inner(CallerNamed("daemon", security::AuthnLevel::kPktPrivacy));
    EXPECT_EQ(CurrentImpersonationToken(), nullptr);
    EXPECT_EQ(::geteuid(), self);
    ASSERT_EQ(CoImpersonateClient(), HResult(0));
    if (root) {
      EXPECT_EQ(::geteuid(), UidOf("daemon"));
    }
    EXPECT_EQ(CoRevertToSelf(), HResult(0));
  }
  // R97: the outer invocation impersonates its caller again.
  EXPECT_EQ(CurrentImpersonationToken(), outer_token);
  EXPECT_TRUE((*CoGetCallContext())->IsImpersonating());
  if (root) {
    EXPECT_EQ(::geteuid(), UidOf("nobody"));
  }
  EXPECT_EQ(CoRevertToSelf(), HResult(0));
  EXPECT_EQ(::geteuid(), self);
}

// R92: the call's context may be used from another thread while the call
// runs; impersonation belongs to each thread, and each reverts its own.
// (The other thread exists before this one impersonates: on Linux a thread
// starts with its creator's credentials, so one made while impersonating
// would start as the caller.)
TEST(ServerSecurity, R92_TwoThreadsImpersonateThroughOneContextAndRevertSeparately) {
  const uid_t self = ::geteuid();
  const bool root = self == 0;
  ServerCallScope scope(CallerNamed("nobody", security::AuthnLevel::kPktIntegrity));
  std::shared_ptr<ServerSecurity> context = *CoGetCallContext();
  std::promise<void> go;
  std::thread other([&, started = go.get_future()]() mutable {
    started.wait();
    EXPECT_FALSE(context->IsImpersonating());  // this thread is not, yet
    EXPECT_EQ(::geteuid(), self);
    EXPECT_EQ(context->ImpersonateClient(), HResult(0));
    EXPECT_TRUE(context->IsImpersonating());
    ASSERT_NE(CurrentImpersonationToken(), nullptr);
    EXPECT_EQ(CurrentImpersonationToken()->user(), context->security().token->user());
    if (root) {
      EXPECT_EQ(::geteuid(), UidOf("nobody"));
    }
    EXPECT_EQ(context->RevertToSelf(), HResult(0));
    EXPECT_FALSE(context->IsImpersonating());
    EXPECT_EQ(CurrentImpersonationToken(), nullptr);
    EXPECT_EQ(::geteuid(), self);
  });
  ASSERT_EQ(context->ImpersonateClient(), HResult(0));
  go.set_value();
  other.join();
  // The other thread's revert left this one impersonating.
  EXPECT_TRUE(context->IsImpersonating());
  EXPECT_NE(CurrentImpersonationToken(), nullptr);
  if (root) {
    EXPECT_EQ(::geteuid(), UidOf("nobody"));
  }
  EXPECT_EQ(CoRevertToSelf(), HResult(0));
  EXPECT_EQ(::geteuid(), self);
}

// R93: every output is optional; the client's impersonation level is not
// among them (a server cannot learn it), the authorization service is
// RPC_C_AUTHZ_NONE and no capabilities are reported; pPrivs (C5) is the
// client's name, "" for an unauthenticated caller.
template <class T>
concept ReportsImpersonationLevel = requires(T b) { b.imp_level; };
static_assert(!ReportsImpersonationLevel<ServerBlanket>,
              "R93: IServerSecurity::QueryBlanket's pImpLevel must be NULL");

TEST(ServerSecurity, R93_QueryBlanketReportsTheCallNotTheImpersonationLevel) {
  {
    ServerCallScope scope(CallerNamed("daemon", security::AuthnLevel::kPkt,
                                      security::ImpLevel::kDelegate));
    auto b = CoQueryClientBlanket();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->authn_svc, 20u);
    EXPECT_EQ(b->authz_svc, 0u);  // RPC_C_AUTHZ_NONE
    EXPECT_EQ(b->authn_level, 4u);
    EXPECT_EQ(b->client_principal, "unix:daemon");
    EXPECT_EQ(b->capabilities, 0u);  // EOAC_NONE
  }
  rpc::CallSecurity none;
  ServerCallScope scope(none);
  auto b = CoQueryClientBlanket();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->authn_svc, 0u);
  EXPECT_EQ(b->authn_level, 1u);
  EXPECT_EQ(b->client_principal, "");
}

// R98: one RevertToSelf undoes any number of ImpersonateClient calls, even
// through different IServerSecurity objects, and the thread is the
// server's again (R103: only the process's identity is left).
TEST(ServerSecurity, R98_OneRevertUndoesImpersonationThroughAnyContext) {
  const uid_t self = ::geteuid();
  ServerCallScope scope(CallerNamed("nobody", security::AuthnLevel::kPktIntegrity));
  std::shared_ptr<ServerSecurity> first = *CoGetCallContext();
  auto second = std::make_shared<ServerSecurity>(
      CallerNamed("daemon", security::AuthnLevel::kPktPrivacy));
  ASSERT_EQ(first->ImpersonateClient(), HResult(0));
  ASSERT_EQ(second->ImpersonateClient(), HResult(0));
  ASSERT_NE(CurrentImpersonationToken(), nullptr);
  EXPECT_EQ(CurrentImpersonationToken()->user(), second->security().token->user());
  EXPECT_EQ(first->RevertToSelf(), HResult(0));
  EXPECT_FALSE(first->IsImpersonating());
  EXPECT_FALSE(second->IsImpersonating());
  EXPECT_EQ(CurrentImpersonationToken(), nullptr);
  EXPECT_EQ(ImpersonatedUid(), std::nullopt);
  EXPECT_EQ(::geteuid(), self);
}

TEST(ServerSecurity, R101_CoSwitchCallContextInstallsAndRestoresAContext) {
  EXPECT_EQ(CoSwitchCallContext(nullptr), nullptr);  // no call: the old one is null
  EXPECT_EQ(CoGetCallContext().status().code(), RPC_E_NO_CONTEXT);
  auto custom = std::make_shared<ServerSecurity>(
      CallerNamed("daemon", security::AuthnLevel::kPktIntegrity));
  EXPECT_EQ(CoSwitchCallContext(custom.get()), nullptr);
  auto c = CoGetCallContext();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->get(), custom.get());
  EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:daemon");
  {
    // A call served meanwhile sees its own context, and leaves the switch.
    ServerCallScope scope(CallerNamed("nobody", security::AuthnLevel::kPktPrivacy));
    EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:nobody");
    ServerSecurity* old = CoSwitchCallContext(custom.get());
    EXPECT_EQ(old, scope.context().get());
    EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:daemon");
    EXPECT_EQ(CoSwitchCallContext(old), custom.get());
    EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:nobody");
  }
  EXPECT_EQ(CoGetCallContext()->get(), custom.get());
  EXPECT_EQ(CoSwitchCallContext(nullptr), custom.get());
  EXPECT_EQ(CoGetCallContext().status().code(), RPC_E_NO_CONTEXT);
}

// ==== R52: Schannel principal names =========================================

// Real certificates for the R52 tests, in a directory removed afterwards.
class SchannelNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/comsec-fullsic-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    ca_ = tls_test::Issue(dir_, "ca", "fullsic CA", nullptr, true);
    server_ = tls_test::Issue(dir_, "server", "srv.example.test", &ca_, false,
                              "DNS:srv.example.test");
    client_ = tls_test::Issue(dir_, "client", "carol", &ca_, false, "email:carol@example.test");
  }
  void TearDown() override {
    for (auto* i : {&ca_, &server_, &client_}) tls_test::Free(*i);
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  tls_test::Issued ca_, server_, client_;
};

// IServerSecurity::QueryBlanket / CoQueryClientBlanket: a TLS caller's
// certificate in msstd form by default, fullsic with EOAC_MAKE_FULLSIC set
// in pCapabilities on input; other packages' names are not touched.
TEST_F(SchannelNamesTest, R52_QueryBlanketGivesMsstdOrFullsicOnRequest) {
  auto names = auth::tls::RenderSchannelPrincipalNames(client_.certificate, nullptr);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  rpc::CallSecurity tls;
  tls.authn_level = security::AuthnLevel::kPktPrivacy;
  tls.authn_svc = rpc::RPC_C_AUTHN_GSS_SCHANNEL;
  tls.principal = "unix:carol";  // what the certificate mapping named
  tls.peer_evidence = std::make_shared<const auth::tls::TlsPeerCertificate>(*names, "CN=carol",
                                                                            "00");
  {
    ServerCallScope scope(tls);
    auto msstd = CoQueryClientBlanket();
    ASSERT_TRUE(msstd.ok());
    EXPECT_EQ(msstd->client_principal, "msstd:carol@example.test");
    EXPECT_EQ(msstd->capabilities, EOAC_NONE);
    auto fullsic = CoQueryClientBlanket(EOAC_MAKE_FULLSIC);
    ASSERT_TRUE(fullsic.ok());
    EXPECT_EQ(fullsic->client_principal,
              "fullsic:\\<\\CN=fullsic CA, O=comsec test\\CN=carol, O=comsec test>");
    EXPECT_EQ((*CoGetCallContext())->QueryBlanket(EOAC_MAKE_FULLSIC)->client_principal,
              fullsic->client_principal);
    // Other bits do not ask for it.
    EXPECT_EQ(CoQueryClientBlanket(EOAC_MUTUAL_AUTH)->client_principal, msstd->client_principal);
  }
  // A TLS caller without a certificate keeps the package's name.
  rpc::CallSecurity anonymous = tls;
  anonymous.principal = "NT AUTHORITY\\ANONYMOUS LOGON";
  anonymous.peer_evidence = nullptr;
  {
    ServerCallScope scope(anonymous);
    EXPECT_EQ(CoQueryClientBlanket(EOAC_MAKE_FULLSIC)->client_principal,
              "NT AUTHORITY\\ANONYMOUS LOGON");
  }
  // Another package's caller: MAKE_FULLSIC changes nothing.
  rpc::CallSecurity local = CallerNamed("daemon", security::AuthnLevel::kConnect);
  {
    ServerCallScope scope(local);
    EXPECT_EQ(CoQueryClientBlanket(EOAC_MAKE_FULLSIC)->client_principal, "unix:daemon");
  }
}

// The server's own principal for service 14 in its OXID's security
// bindings, from its certificate: msstd by default; after a
// CoInitializeSecurity with EOAC_MAKE_FULLSIC, fullsic, in what the
// resolver answers and in the bindings OBJREFs carry.
TEST_F(SchannelNamesTest, R52_TheServersSchannelPrincipalIsFullsicWithMakeFullsic) {
  auth::tls::TlsServerOptions to;
  to.certificate_file = server_.certificate_file;
  to.key_file = server_.key_file;
  auto tls = auth::tls::TlsPackage::CreateServer(to);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  rpc::SecurityPackageRegistry packages;
  packages.Add(tls->get());
  auto advertised = [](ComRuntime& rt) {
    ResolvedOxid out;
    EXPECT_EQ(rt.own_resolver()->ResolveOxid(rt.oxid(), {}, &out), 0u);
    for (const auto& b : out.bindings.security) {
      if (b.authn_svc == rpc::RPC_C_AUTHN_GSS_SCHANNEL) return Utf16ToUtf8Lossy(b.principal);
    }
    return std::string("(none)");
  };
  const std::string fullsic =
      "fullsic:\\<\\CN=fullsic CA, O=comsec test\\CN=srv.example.test, O=comsec test>";
  for (bool make_fullsic : {false, true}) {
    ComRuntimeOptions so;
    so.server.packages = &packages;
    so.listen_local = false;
    so.security_bindings = {{rpc::RPC_C_AUTHN_GSS_SCHANNEL, kAuthzNone, u""},
                            {kAuthnNtlm, kAuthzNone, u"RPCSS/srv"}};
    auto rt = ComRuntime::Start(so);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    EXPECT_EQ(advertised(**rt), "msstd:srv.example.test");
    CoInitializeSecurityParams cis;
    cis.authn_level = 1;
    cis.c_auth_svc = -1;
    if (make_fullsic) cis.capabilities = EOAC_MAKE_FULLSIC;
    auto hr = (*rt)->InitializeSecurity(cis);
    ASSERT_TRUE(hr.ok()) << hr.ToString();
    EXPECT_EQ(advertised(**rt), make_fullsic ? fullsic : "msstd:srv.example.test");
    EXPECT_EQ(Utf16ToUtf8Lossy((*rt)->own_resolver()->own_bindings().security.front().principal),
              make_fullsic ? fullsic : "msstd:srv.example.test");
    // Other services' names are the configured ones.
    ResolvedOxid out;
    (*rt)->own_resolver()->ResolveOxid((*rt)->oxid(), {}, &out);
    EXPECT_EQ(out.bindings.security.back().principal, u"RPCSS/srv");
  }
  // Set in the options, the OXID is registered with it from the start.
  ComRuntimeOptions so;
  so.server.packages = &packages;
  so.listen_local = false;
  so.capabilities = EOAC_MAKE_FULLSIC;
  so.security_bindings = {{rpc::RPC_C_AUTHN_GSS_SCHANNEL, kAuthzNone, u""}};
  auto rt = ComRuntime::Start(so);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_EQ(advertised(**rt), fullsic);
}

}  // namespace
}  // namespace comsec::com
