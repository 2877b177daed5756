// The activation call's security (activation/activation_auth.h): a
// COAUTHINFO's values or the process's blanket, and
// RaiseActivationAuthenticationLevel (KB5004442, conformance case 39):
// every authenticated activation at PKT_INTEGRITY at least, an unsecure
// one (level NONE, R123) left alone.
#include "comsec/activation/activation_auth.h"

#include <gtest/gtest.h>

#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/base/win32_error.h"

namespace comsec::activation {
namespace {

using security::AuthnLevel;
using security::ImpLevel;

auth::ntlm::ClientCredentials Bob() {
  auth::ntlm::ClientCredentials c;
  c.user = "bob";
  c.password = "Activation#1";
  return c;
}

class ActivationAuthTest : public ::testing::Test {
 protected:
  // The process's blanket: NTLM as bob at `level`, Kerberos also known.
  com::ClientProcessSecurity Process(AuthnLevel level,
                                     ImpLevel imp = ImpLevel::kImpersonate) {
    com::ClientProcessSecurity p;
    rpc::ClientAuth a;
    a.package = &ntlm_;
    a.level = level;
    a.imp_level = imp;
    a.credentials = bob_;
    a.target_name = "host/exporter";
    p.auth = a;
    p.packages = {&kerberos_};
    return p;
  }
  Result<ActivationAuth> Remote(const COAUTHINFO* info,
                                const com::ClientProcessSecurity& p) {
    return EffectiveActivationAuth(info, p, ScmTransport::kRemote, "build-02",
                                   &local_);
  }
  Result<ActivationAuth> Local(const COAUTHINFO* info,
                               const com::ClientProcessSecurity& p) {
    return EffectiveActivationAuth(info, p, ScmTransport::kLocal, "", &local_);
  }
  static COAUTHINFO Info(uint32_t level, uint32_t imp = 3,
                         uint32_t svc = com::RPC_C_AUTHN_WINNT) {
    COAUTHINFO i;
    i.authn_svc = svc;
    i.authn_level = level;
    i.imp_level = imp;
    return i;
  }
  static void ExpectRefused(const Result<ActivationAuth>& r, HResult code,
                            std::string_view part) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(part), std::string_view::npos)
        << r.status().ToString();
  }

  auth::ntlm::NtlmPackage ntlm_{Bob()};
  auth::gssapi::KerberosPackage kerberos_;
  auth::LocalPackage local_;
  std::shared_ptr<const rpc::Credentials> bob_ =
      std::make_shared<const auth::ntlm::NtlmCredentials>(Bob());
};

// ==== The raise (case 39) ==================================================

TEST_F(ActivationAuthTest, Case39_CoauthinfoAtConnectIsRaisedToPktIntegrity) {
  const COAUTHINFO info = Info(2);  // RPC_C_AUTHN_LEVEL_CONNECT
  auto a = Remote(&info, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->requested_level, AuthnLevel::kConnect);
  EXPECT_EQ(a->level, AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(a->raised);
  EXPECT_EQ(a->source, "COAUTHINFO");
  ASSERT_TRUE(a->auth.has_value());
  EXPECT_EQ(a->auth->level, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(a->auth->package, &ntlm_);
  EXPECT_EQ(a->auth->credentials, bob_);  // the process's identity for NTLM
  EXPECT_EQ(a->auth->imp_level, ImpLevel::kImpersonate);
  EXPECT_EQ(a->auth->target_name, "");  // NTLM takes no principal
}

TEST_F(ActivationAuthTest,
       Case39_EveryLevelBelowPktIntegrityIsRaisedAndTheOthersKept) {
  for (uint32_t level : {2u, 3u, 4u, 5u, 6u}) {
    const COAUTHINFO info = Info(level);
    auto a = Remote(&info, Process(AuthnLevel::kConnect));
    ASSERT_TRUE(a.ok()) << level;
    const AuthnLevel want =
        level < 5 ? AuthnLevel::kPktIntegrity : AuthnLevel(level);
    EXPECT_EQ(a->level, want) << level;
    EXPECT_EQ(a->raised, level < 5) << level;
    EXPECT_EQ(a->auth->level, want) << level;
  }
}

TEST_F(ActivationAuthTest, Case39_R124_TheProcesssBlanketIsRaisedToo) {
  auto a = Remote(nullptr, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->source, "the process's blanket");
  EXPECT_EQ(a->requested_level, AuthnLevel::kConnect);
  EXPECT_EQ(a->level, AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(a->raised);
  EXPECT_EQ(a->auth->package, &ntlm_);
  EXPECT_EQ(a->auth->credentials, bob_);
  EXPECT_EQ(a->auth->target_name, "host/exporter");  // the process's, for NTLM
  // Privacy stays privacy.
  a = Remote(nullptr, Process(AuthnLevel::kPktPrivacy));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->level, AuthnLevel::kPktPrivacy);
  EXPECT_FALSE(a->raised);
  // A process at NONE with a package still authenticates first (R124).
  a = Remote(nullptr, Process(AuthnLevel::kNone));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->level, AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(a->auth.has_value());
}

TEST_F(ActivationAuthTest,
       CoauthinfoAtDefaultTakesTheProcesssLevelThenRaisesIt) {
  const COAUTHINFO info = Info(0);  // RPC_C_AUTHN_LEVEL_DEFAULT
  auto a = Remote(&info, Process(AuthnLevel::kCall));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->requested_level, AuthnLevel::kCall);
  EXPECT_EQ(a->level, AuthnLevel::kPktIntegrity);
}

// ==== Unsecure activation (R123) ===========================================

TEST_F(ActivationAuthTest, R123_LevelNoneIsUnsecureAndNotRaised) {
  const COAUTHINFO info = Info(1);  // RPC_C_AUTHN_LEVEL_NONE, IMPERSONATE
  auto a = Remote(&info, Process(AuthnLevel::kPktPrivacy));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->auth.has_value());
  EXPECT_EQ(a->level, AuthnLevel::kNone);
  EXPECT_FALSE(a->raised);
  // Service NONE is the same.
  const COAUTHINFO none_svc = Info(5, 3, com::RPC_C_AUTHN_NONE);
  a = Remote(&none_svc, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->auth.has_value());
}

TEST_F(ActivationAuthTest,
       R123_UnsecureActivationBelowImpersonateIsServerUnavailable) {
  for (uint32_t imp : {0u, 1u, 2u, 9u}) {
    const COAUTHINFO info = Info(1, imp);
    ExpectRefused(Remote(&info, Process(AuthnLevel::kConnect)),
                  RPC_S_SERVER_UNAVAILABLE,
                  "needs dwImpersonationLevel RPC_C_IMP_LEVEL_IMPERSONATE or "
                  "above, not " +
                      std::to_string(imp));
  }
  // DELEGATE is above IMPERSONATE: allowed.
  const COAUTHINFO delegate = Info(1, 4);
  EXPECT_TRUE(Remote(&delegate, Process(AuthnLevel::kConnect)).ok());
}

TEST_F(ActivationAuthTest,
       R122_ALowImpersonationLevelIsQuietlyCorrectedWhenAuthenticated) {
  for (uint32_t imp : {0u, 1u, 2u, 9u}) {
    const COAUTHINFO info = Info(5, imp);
    auto a = Remote(&info, Process(AuthnLevel::kConnect));
    ASSERT_TRUE(a.ok()) << imp;
    EXPECT_EQ(a->auth->imp_level, ImpLevel::kImpersonate) << imp;
  }
  const COAUTHINFO delegate = Info(5, 4);
  EXPECT_EQ(Remote(&delegate, Process(AuthnLevel::kConnect))->auth->imp_level,
            ImpLevel::kDelegate);
  // The process's IDENTIFY is raised as well (3.2.4.1.1.2).
  EXPECT_EQ(Remote(nullptr, Process(AuthnLevel::kConnect, ImpLevel::kIdentify))
                ->imp_level,
            ImpLevel::kImpersonate);
}

// ==== Packages, identities, principals ====================================

TEST_F(ActivationAuthTest, R122_KerberosGetsTheRpcssPrincipalUnlessOneIsGiven) {
  COAUTHINFO info = Info(6, 3, com::RPC_C_AUTHN_GSS_KERBEROS);
  auto a = Remote(&info, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->auth->package, &kerberos_);
  EXPECT_EQ(a->auth->target_name, "RPCSS/build-02");
  EXPECT_EQ(a->auth->credentials, nullptr);  // bob's are NTLM's
  info.server_princ_name = u"RPCSS/build-02.example.com";
  info.capabilities = com::EOAC_MUTUAL_AUTH | 0x40;  // the other bit is ignored
  a = Remote(&info, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->auth->target_name, "RPCSS/build-02.example.com");
  EXPECT_EQ(a->auth->wanted, rpc::kFeatureMutualAuth);
}

TEST_F(ActivationAuthTest, R121_TheCoauthinfoIdentityIsPresented) {
  COAUTHINFO info = Info(5);
  auth::ntlm::ClientCredentials carol;
  carol.user = "carol";
  info.identity = std::make_shared<const auth::ntlm::NtlmCredentials>(carol);
  auto a = Remote(&info, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->auth->credentials, info.identity);
}

TEST_F(ActivationAuthTest,
       AServiceTheProcessHasNoPackageForIsUnknownAuthnService) {
  const COAUTHINFO info = Info(5, 3, com::RPC_C_AUTHN_GSS_NEGOTIATE);
  ExpectRefused(
      Remote(&info, Process(AuthnLevel::kConnect)), RPC_S_UNKNOWN_AUTHN_SERVICE,
      "authentication service 9, for which this process has no package");
  // DEFAULT is the process's own package.
  const COAUTHINFO def = Info(5, 3, com::RPC_C_AUTHN_DEFAULT);
  EXPECT_EQ(Remote(&def, Process(AuthnLevel::kConnect))->auth->package, &ntlm_);
  ExpectRefused(Remote(&def, com::ClientProcessSecurity{}),
                RPC_S_UNKNOWN_AUTHN_SERVICE, "authentication service DEFAULT");
}

TEST_F(ActivationAuthTest, ALevelAbovePrivacyIsInvalidArg) {
  const COAUTHINFO info = Info(7);
  ExpectRefused(Remote(&info, Process(AuthnLevel::kConnect)), E_INVALIDARG,
                "dwAuthnLevel 7 is not an RPC_C_AUTHN_LEVEL_* value");
}

TEST_F(ActivationAuthTest,
       R124_AProcessWithoutAPackageActivatesUnauthenticatedOverTcp) {
  auto a = Remote(nullptr, com::ClientProcessSecurity{});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->source, "no package: unauthenticated");
  EXPECT_FALSE(a->auth.has_value());
  EXPECT_EQ(a->level, AuthnLevel::kNone);
  EXPECT_FALSE(a->raised);
}

// ==== The local SCM (ncalrpc) =============================================

TEST_F(ActivationAuthTest, LocallyTheKernelsPackageAtPktIntegrity) {
  // No blanket at all: the local package at CONNECT, raised.
  auto a = Local(nullptr, com::ClientProcessSecurity{});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->requested_level, AuthnLevel::kConnect);
  EXPECT_EQ(a->level, AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(a->raised);
  EXPECT_EQ(a->auth->package, &local_);
  EXPECT_EQ(a->auth->credentials, nullptr);
  // A COAUTHINFO naming NTLM with an identity still goes to the kernel.
  COAUTHINFO info = Info(6);
  info.identity = bob_;
  a = Local(&info, Process(AuthnLevel::kConnect));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->auth->package, &local_);
  EXPECT_EQ(a->auth->credentials, nullptr);
  EXPECT_EQ(a->level, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(
      EffectiveActivationAuth(nullptr, {}, ScmTransport::kLocal, "", nullptr)
          .status()
          .code(),
      E_INVALIDARG);
}

}  // namespace
}  // namespace comsec::activation
