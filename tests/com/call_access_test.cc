// CoInitializeSecurity (com/process_security.h; rules R43-R73) and the
// per-call access check (com/call_access.h; R137-R146, R187), each test
// named by the rule it proves. The gate runs config::Decide over a real
// store; callers are real tokens (Unix identities, store-style SIDs).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "comsec/base/log_sinks.h"
#include "comsec/com/call_access.h"
#include "comsec/com/com_runtime.h"
#include "comsec/com/process_security.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/store.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"
#include "../rpc/local_test_support.h"

namespace comsec::com {
namespace {

using security::AuthnLevel;
using SecDesc = CoInitializeSecurityParams::SecDesc;

const Guid kAppId = *Guid::Parse("{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}");
const std::vector<uint32_t> kNtlmOnly = {RPC_C_AUTHN_WINNT};

SoleAuthenticationService Svc(uint32_t authn_svc) {
  SoleAuthenticationService s;
  s.authn_svc = authn_svc;
  return s;
}

// --- CoInitializeSecurity's argument checks -------------------------------

HResult Validate(CoInitializeSecurityParams p,
                 const std::vector<uint32_t>& available = kNtlmOnly) {
  Status s = ValidateCoInitializeSecurity(p, available);
  return s.ok() ? S_OK : s.code();
}

security::SecurityDescriptor Sd(const char* sddl) { return *security::ParseSddl(sddl); }

// R43: the EOAC_* values are the SDK headers'.
TEST(CoInitializeSecurity, R43_CapabilityValuesAreTheHeaders) {
  static_assert(EOAC_NONE == 0x0 && EOAC_MUTUAL_AUTH == 0x1 && EOAC_SECURE_REFS == 0x2 &&
                EOAC_ACCESS_CONTROL == 0x4 && EOAC_APPID == 0x8 && EOAC_DYNAMIC == 0x10 &&
                EOAC_STATIC_CLOAKING == 0x20 && EOAC_DYNAMIC_CLOAKING == 0x40 &&
                EOAC_ANY_AUTHORITY == 0x80 && EOAC_MAKE_FULLSIC == 0x100 &&
                EOAC_REQUIRE_FULLSIC == 0x200 && EOAC_AUTO_IMPERSONATE == 0x400 &&
                EOAC_DEFAULT == 0x800 && EOAC_DISABLE_AAA == 0x1000 &&
                EOAC_NO_CUSTOM_MARSHAL == 0x2000 && EOAC_RESERVED1 == 0x4000);
  // CoInitializeSecurity takes every one of them but EOAC_DEFAULT (R47).
  EXPECT_EQ(kEoacCoInitializeSecurityMask, 0x77FFu);
}

// R50: under EOAC_APPID pSecDesc is the AppID (or NULL); a descriptor or an
// IAccessControl there is refused, and the other arguments are ignored.
TEST(CoInitializeSecurity, R50_EoacAppIdTakesAnAppIdOrNull) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_APPID;
  p.sec_desc = SecDesc::kDescriptor;
  p.sd = Sd("O:BAG:BAD:(A;;CCDCLC;;;WD)");
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.sec_desc = SecDesc::kNull;
  EXPECT_EQ(Validate(p), S_OK);
  p.sec_desc = SecDesc::kAppId;
  p.authn_level = 6;  // ignored: the registry decides (R67)
  EXPECT_EQ(Validate(p), S_OK);
  auto config = ToConfigProcessSecurity(p);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->access, config::ProcessSecurity::Access::kAppId);
  EXPECT_EQ(config->authn_level, AuthnLevel::kDefault);
}

TEST(CoInitializeSecurity, R61_ReservedPointersMustBeNull) {
  CoInitializeSecurityParams p;
  p.reserved1 = true;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.reserved1 = false;
  p.reserved3 = true;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
}

TEST(CoInitializeSecurity, R46_StaticAndDynamicCloakingExcludeEachOther) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_STATIC_CLOAKING | EOAC_DYNAMIC_CLOAKING;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.capabilities = EOAC_DYNAMIC_CLOAKING;
  EXPECT_EQ(Validate(p), S_OK);
}

TEST(CoInitializeSecurity, R46_CloakingWithSchannelIsRefused) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_STATIC_CLOAKING;
  p.c_auth_svc = 1;
  p.auth_svc = {Svc(RPC_C_AUTHN_GSS_SCHANNEL)};
  EXPECT_EQ(Validate(p, {RPC_C_AUTHN_GSS_SCHANNEL}), E_INVALIDARG);
}

TEST(CoInitializeSecurity, R47_EoacDefaultAndUnknownBitsAreRefused) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_DEFAULT;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.capabilities = 0x10000;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
}

TEST(CoInitializeSecurity, R48_SecureRefsNeedAnAuthenticationLevel) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_SECURE_REFS;
  p.authn_level = 1;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.authn_level = 2;
  EXPECT_EQ(Validate(p), S_OK);
}

TEST(CoInitializeSecurity, R51_AppIdAndAccessControlExcludeEachOther) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_APPID | EOAC_ACCESS_CONTROL;
  p.sec_desc = SecDesc::kAppId;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
}

TEST(CoInitializeSecurity, R63_TheDescriptorKindNeedsItsFlag) {
  CoInitializeSecurityParams p;
  p.sec_desc = SecDesc::kAppId;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.capabilities = EOAC_APPID;
  EXPECT_EQ(Validate(p), S_OK);
  CoInitializeSecurityParams q;
  q.sec_desc = SecDesc::kAccessControl;
  EXPECT_EQ(Validate(q), E_INVALIDARG);
}

TEST(CoInitializeSecurity, R64_TheDescriptorNeedsOwnerGroupAndNoAuditSacl) {
  CoInitializeSecurityParams p;
  p.sec_desc = SecDesc::kDescriptor;
  p.sd = Sd("D:(A;;CCDCLC;;;WD)");
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.sd = Sd("O:BAG:BAD:(A;;CCDCLC;;;WD)S:(AU;SA;CC;;;WD)");
  EXPECT_EQ(Validate(p), E_INVALIDARG);  // C6: only mandatory labels
  p.sd = Sd("O:BAG:BAD:(A;;CCDCLC;;;WD)");
  EXPECT_EQ(Validate(p), S_OK);
}

class AllowAll : public AccessControl {
 public:
  explicit AllowAll(bool allow) : allow_(allow) {}
  Result<bool> IsAccessAllowed(const security::Token&, uint32_t rights) override {
    ++calls;
    last_rights = rights;
    return allow_;
  }
  int calls = 0;
  uint32_t last_rights = 0;

 private:
  bool allow_;
};

TEST(CoInitializeSecurity, R65_R66_AccessControlNeedsAnObjectAndALevel) {
  CoInitializeSecurityParams p;
  p.capabilities = EOAC_ACCESS_CONTROL;
  EXPECT_EQ(Validate(p), E_INVALIDARG);  // R66: with a NULL pSecDesc
  p.sec_desc = SecDesc::kAccessControl;
  p.access_control = std::make_shared<AllowAll>(true);
  p.authn_level = 1;
  EXPECT_EQ(Validate(p), E_INVALIDARG);  // R65: not at NONE
  p.authn_level = 2;
  EXPECT_EQ(Validate(p), S_OK);
}

TEST(CoInitializeSecurity, R62_AuthenticationServiceCounts) {
  CoInitializeSecurityParams p;
  p.c_auth_svc = -2;
  EXPECT_EQ(Validate(p), E_INVALIDARG);
  p.c_auth_svc = -1;
  p.auth_svc = {Svc(RPC_C_AUTHN_WINNT)};
  EXPECT_EQ(Validate(p), E_INVALIDARG);  // -1 needs asAuthSvc NULL
  p.c_auth_svc = 2;
  EXPECT_EQ(Validate(p), E_INVALIDARG);  // count and entries disagree
  p.c_auth_svc = 0;
  p.auth_svc.clear();
  EXPECT_EQ(Validate(p), S_OK);
}

TEST(CoInitializeSecurity, R60_NoUsablePackageIsNoGoodSecurityPackages) {
  CoInitializeSecurityParams p;
  p.c_auth_svc = 2;
  p.auth_svc = {Svc(RPC_C_AUTHN_GSS_KERBEROS), Svc(RPC_C_AUTHN_WINNT)};
  Status ok = ValidateCoInitializeSecurity(p, kNtlmOnly);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(p.auth_svc[0].hr, HResult(0x80090305u));  // SEC_E_SECPKG_NOT_FOUND
  EXPECT_EQ(p.auth_svc[1].hr, S_OK);
  p.auth_svc = {Svc(RPC_C_AUTHN_GSS_KERBEROS)};
  p.c_auth_svc = 1;
  EXPECT_EQ(ValidateCoInitializeSecurity(p, kNtlmOnly).code(), RPC_E_NO_GOOD_SECURITY_PACKAGES);
}

// --- A machine's store ----------------------------------------------------

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/store.db";
    auto store = config::Store::Open(path_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }
  void SetMachine(const char* name, const std::string& input) {
    const config::SettingSpec* spec = config::FindSetting(config::SettingScope::kMachine, name);
    ASSERT_NE(spec, nullptr) << name;
    auto v = config::EncodeSetting(*spec, input);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ASSERT_TRUE(store_->SetValue(config::OleKeyPath(), *v).ok());
  }
  void SetApp(const char* name, const std::string& input) {
    const config::SettingSpec* spec = config::FindSetting(config::SettingScope::kAppId, name);
    ASSERT_NE(spec, nullptr) << name;
    auto v = config::EncodeSetting(*spec, input);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ASSERT_TRUE(store_->SetValue(config::AppIdKeyPath(kAppId), *v).ok());
  }
  std::unique_ptr<CallAccessGate> Gate(std::chrono::milliseconds refresh = std::chrono::hours(1)) {
    CallAccessOptions o;
    o.store_path = path_;
    o.refresh_interval = refresh;
    o.logger = &logger_;
    auto g = CallAccessGate::Open(o);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(*g) : nullptr;
  }
  std::vector<LogEvent> Denials() const {
    std::vector<LogEvent> out;
    for (const LogEvent& e : sink_->events()) {
      if (e.name == "com.access_denied") out.push_back(e);
    }
    return out;
  }
  static std::string ExtraOf(const LogEvent& e, const std::string& key) {
    for (const auto& [k, v] : e.extras) {
      if (k == key) return v;
    }
    return "";
  }

  rpc::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<config::Store> store_;
  CapturingLogSink* sink_ = new CapturingLogSink;
  Logger logger_{[this] {
                   std::vector<std::unique_ptr<LogSink>> v;
                   v.emplace_back(sink_);
                   return v;
                 }(),
                 LogSeverity::kInfo};
};

// A call from a Unix user (as the local package or a mapped principal makes
// it) or unauthenticated.
rpc::CallContext CallFrom(std::optional<uint32_t> uid, AuthnLevel level, bool local = false) {
  rpc::CallContext c;
  c.local = local;
  c.peer = local ? "uid " + std::to_string(uid.value_or(0)) : "127.0.0.1:40000";
  c.opnum = 3;
  c.security.authn_level = level;
  if (uid && level != AuthnLevel::kNone) {
    security::UnixIdentity id;
    id.uid = *uid;
    id.gids = {*uid};
    id.group_names = {""};
    security::UnixTokenOptions o;
    o.logon = local ? security::LogonKind::kLocal : security::LogonKind::kNetwork;
    c.security.token =
        std::make_shared<const security::Token>(security::TokenForUnixIdentity(id, o));
    c.security.principal = "unix:" + std::to_string(*uid);
    c.security.authn_svc = RPC_C_AUTHN_WINNT;
  }
  return c;
}

using CallAccess = StoreFixture;

TEST_F(CallAccess, R73_TheImplicitInitializationReadsTheAppId) {
  SetApp("AuthenticationLevel", "6");
  SetMachine("LegacySecureReferences", "Y");
  auto gate = Gate();
  ProcessSecuritySettings base;
  base.appid = kAppId;
  auto s = gate->Initialize(std::nullopt, base);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->policy.authn_level.value, AuthnLevel::kPktPrivacy);
  EXPECT_EQ((*s)->policy.authn_level.source, config::PolicySource::kAppId);
  EXPECT_TRUE((*s)->secure_references);  // R145 via LegacySecureReferences
  // R144 + C2: no AccessPermission anywhere: SELF, SYSTEM, Administrators.
  EXPECT_EQ((*s)->policy.access.source, config::PolicySource::kBuiltIn);
}

TEST_F(CallAccess, R187_1_R140_ACallBelowTheFloorIsRefusedAndLogged) {
  SetApp("AuthenticationLevel", "6");
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;WD)");
  auto gate = Gate();
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
  EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kPktPrivacy)), S_OK);
  auto denials = Denials();
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].reason, "R187.1 authentication level");
  EXPECT_EQ(denials[0].hresult, E_ACCESSDENIED);
  EXPECT_EQ(denials[0].principal, "unix:1000");
  EXPECT_EQ(ExtraOf(denials[0], "explain"),
            "comcfg --store " + path_ + " explain access --appid " + kAppId.ToRegistryString() +
                " --user uid:1000 --remote --authn-level 5");
}

TEST_F(CallAccess, R137_TheAppIdAccessPermissionDecidesAndNamesTheRemedy) {
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  auto gate = Gate();
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kPktIntegrity)), S_OK);
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
  auto denials = Denials();
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].reason, "R137 access permission");
  EXPECT_EQ(ExtraOf(denials[0], "check"), "access permission");
  EXPECT_EQ(ExtraOf(denials[0], "remedy"),
            "comcfg perms grant access --appid " + kAppId.ToRegistryString() +
                " --principal uid:1001 --rights execute,execute_remote");
}

TEST_F(CallAccess, R187_ARemedyInTheStoreLetsTheNextCallThroughWithoutARestart) {
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  auto gate = Gate();  // refresh interval: an hour
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)(A;;CCDCLC;;;S-1-22-1-1001)");
  // A refusal re-reads a changed store first.
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), S_OK);
  EXPECT_EQ(Denials().size(), 1u);
}

TEST_F(CallAccess, R187_ARevocationTakesEffectWithinTheRefreshInterval) {
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;WD)");
  auto gate = Gate(std::chrono::milliseconds(0));
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), S_OK);
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
}

// R72 for the implicit initialization: the store's later changes reach the
// access permission (a remedy works without a restart), never the levels
// the process started with.
TEST_F(CallAccess, R72_AnImplicitProcessKeepsItsLevelsWhenTheStoreChanges) {
  SetApp("AuthenticationLevel", "6");
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  auto gate = Gate(std::chrono::milliseconds(0));
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  SetApp("AuthenticationLevel", "2");
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)(A;;CCDCLC;;;S-1-22-1-1001)");
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktPrivacy)), S_OK);
  EXPECT_EQ(gate->settings()->policy.authn_level.value, AuthnLevel::kPktPrivacy);
  // R141 stays decided by the running level: NONE in the store now does
  // not switch the access check off.
  SetApp("AuthenticationLevel", "1");
  EXPECT_EQ(gate->Check(CallFrom(1002, AuthnLevel::kPktPrivacy)), E_ACCESSDENIED);
}

TEST_F(CallAccess, R139_R69_TheMachineRestrictionHoldsAgainstANullDescriptor) {
  SetMachine("MachineAccessRestriction", "O:BAG:BAD:(D;;CCDCLC;;;S-1-22-1-1001)(A;;CCDCLC;;;WD)");
  auto gate = Gate();
  CoInitializeSecurityParams cis;  // pSecDesc NULL: everyone (R66)
  cis.authn_level = 2;
  ProcessSecuritySettings base;
  ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kConnect)), S_OK);
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kConnect)), E_ACCESSDENIED);
  auto denials = Denials();
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].reason, "R139 machine access restriction");
  EXPECT_EQ(ExtraOf(denials[0], "ace"), "(D;;CCDCLC;;;S-1-22-1-1001)");
}

TEST_F(CallAccess, R175_RemoteAnonymousCallersAreRefusedByTheDefaultRestriction) {
  auto gate = Gate();
  CoInitializeSecurityParams cis;
  cis.authn_level = 1;  // NONE: the process makes no checks of its own (R71)
  ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), ProcessSecuritySettings{}).ok());
  EXPECT_EQ(gate->Check(CallFrom(std::nullopt, AuthnLevel::kNone)), E_ACCESSDENIED);
  EXPECT_EQ(gate->Check(CallFrom(std::nullopt, AuthnLevel::kNone, /*local=*/true)), S_OK);
  auto denials = Denials();
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].principal, "NT AUTHORITY\\ANONYMOUS LOGON");
}

TEST_F(CallAccess, R68_AnExplicitDescriptorIgnoresTheAppIdsPermission) {
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;WD)");
  auto gate = Gate();
  CoInitializeSecurityParams cis;
  cis.sec_desc = SecDesc::kDescriptor;
  cis.sd = Sd("O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kConnect)), S_OK);
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kConnect)), E_ACCESSDENIED);
  // The process's own descriptor decided: comcfg cannot reproduce it.
  ASSERT_EQ(Denials().size(), 1u);
  EXPECT_EQ(ExtraOf(Denials()[0], "explain"), "");
}

TEST_F(CallAccess, R141_ARegistryLevelOfNoneMeansNoAccessCheck) {
  SetApp("AuthenticationLevel", "1");
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  auto gate = Gate();
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kConnect)), S_OK);
}

TEST_F(CallAccess, R143_TheProcessIAccessControlIsAskedForExecute) {
  auto gate = Gate();
  for (bool allow : {true, false}) {
    auto ac = std::make_shared<AllowAll>(allow);
    CoInitializeSecurityParams cis;
    cis.capabilities = EOAC_ACCESS_CONTROL;
    cis.sec_desc = SecDesc::kAccessControl;
    cis.access_control = ac;
    cis.authn_level = 2;
    ProcessSecuritySettings base;
    base.access_control = ac;
    ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), base).ok());
    EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kConnect)), allow ? S_OK : E_ACCESSDENIED);
    EXPECT_GE(ac->calls, 1);
    EXPECT_EQ(ac->last_rights, security::COM_RIGHTS_EXECUTE);
  }
}

TEST_F(CallAccess, R144_SelfIsTheServersOwnIdentity) {
  auto gate = Gate();
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  const uint32_t self = ::geteuid();
  EXPECT_EQ(gate->Check(CallFrom(self, AuthnLevel::kPktIntegrity)), S_OK);
  EXPECT_EQ(gate->Check(CallFrom(self + 1, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
}

TEST_F(CallAccess, R163_AnInvalidAppIdLevelMakesTheProcessFail) {
  ASSERT_TRUE(store_
                  ->SetValue(config::AppIdKeyPath(kAppId),
                             config::RegValue::Dword("AuthenticationLevel", 9))
                  .ok());
  auto gate = Gate();
  ProcessSecuritySettings base;
  base.appid = kAppId;
  auto s = gate->Initialize(std::nullopt, base);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), CO_E_SERVER_EXEC_FAILURE);
}

// R62: a process that registered no package (cAuthSvc 0) receives no
// secure calls, and one that listed packages receives calls of those only;
// unauthenticated calls and the local package (the transport's own
// identity, as LRPC always knows its caller) still come in. COM's choice
// (cAuthSvc -1) and the implicit initialization take every package.
TEST_F(CallAccess, R62_CallsOfAPackageTheProcessDidNotRegisterAreRefused) {
  auto gate = Gate();
  CoInitializeSecurityParams cis;
  cis.authn_level = 1;  // no floor, no descriptor: only R62 can refuse
  ProcessSecuritySettings base;
  base.explicit_call = true;
  base.authn_services_listed = true;  // cAuthSvc 0: none registered
  ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), base).ok());
  rpc::CallContext ntlm = CallFrom(1000, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(gate->Check(ntlm), E_ACCESSDENIED);
  EXPECT_EQ(gate->Check(CallFrom(std::nullopt, AuthnLevel::kNone, /*local=*/true)), S_OK);
  rpc::CallContext kernel = CallFrom(1000, AuthnLevel::kConnect, /*local=*/true);
  kernel.security.authn_svc = rpc::RPC_C_AUTHN_KERNEL;
  EXPECT_EQ(gate->Check(kernel), S_OK);
  auto denials = Denials();
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].reason, "R62 authentication service");
  EXPECT_EQ(denials[0].hresult, E_ACCESSDENIED);
  EXPECT_EQ(ExtraOf(denials[0], "explain"), "");  // the process's code decided

  // cAuthSvc 1 with NTLM: NTLM's calls come in, Kerberos's do not.
  base.authn_services = {RPC_C_AUTHN_WINNT};
  ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), base).ok());
  EXPECT_EQ(gate->Check(ntlm), S_OK);
  rpc::CallContext kerberos = CallFrom(1000, AuthnLevel::kPktIntegrity);
  kerberos.security.authn_svc = RPC_C_AUTHN_GSS_KERBEROS;
  EXPECT_EQ(gate->Check(kerberos), E_ACCESSDENIED);

  // cAuthSvc -1: COM's choice, every package the process has.
  base.authn_services_listed = false;
  ASSERT_TRUE(gate->Initialize(ToConfigProcessSecurity(cis), base).ok());
  EXPECT_EQ(gate->Check(kerberos), S_OK);
}

// R62 through CoInitializeSecurity: cAuthSvc 0 lists nothing, -1 does not
// list (COM chooses).
TEST(ComRuntimeSecurity, R62_CAuthSvcZeroRegistersNoPackage) {
  for (int32_t count : {0, -1}) {
    auto rt = ComRuntime::Start(ComRuntimeOptions{});
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    CoInitializeSecurityParams cis;
    cis.c_auth_svc = count;
    cis.authn_level = 1;
    ASSERT_TRUE((*rt)->InitializeSecurity(cis).ok());
    auto settings = (*rt)->SecuritySettings();
    ASSERT_TRUE(settings.ok());
    EXPECT_EQ((*settings)->authn_services_listed, count == 0) << count;
    rpc::CallContext ntlm = CallFrom(1000, AuthnLevel::kConnect, /*local=*/true);
    EXPECT_EQ((*rt)->access_gate().Check(ntlm), count == 0 ? E_ACCESSDENIED : S_OK) << count;
  }
}

// R67: CoInitializeSecurity(EOAC_APPID) reads the registry: an AppID
// pointer names the AppID; a NULL one means the executable's AppID (the one
// the runtime was started with), and without one the machine defaults.
TEST_F(CallAccess, R67_EoacAppIdReadsTheNamedTheExecutablesOrTheMachinesValues) {
  const Guid other = *Guid::Parse("{0b7e5a1c-2d3e-4f50-8a9b-0c1d2e3f4a5b}");
  SetApp("AuthenticationLevel", "6");
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  SetMachine("LegacyAuthenticationLevel", "5");
  SetMachine("DefaultAccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1001)");
  struct Case {
    const char* what;
    Guid runtime_appid;
    std::optional<Guid> pointer;
    AuthnLevel level;
    config::PolicySource access_source;
  };
  for (const Case& c : {
           Case{"AppID pointer", other, kAppId, AuthnLevel::kPktPrivacy,
                config::PolicySource::kAppId},
           Case{"NULL: the executable's AppID", kAppId, std::nullopt, AuthnLevel::kPktPrivacy,
                config::PolicySource::kAppId},
           Case{"NULL, no AppID: the machine defaults", Guid{}, std::nullopt,
                AuthnLevel::kPktIntegrity, config::PolicySource::kMachineDefault},
       }) {
    ComRuntimeOptions o;
    o.store = path_;
    o.appid = c.runtime_appid;
    auto rt = ComRuntime::Start(o);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    CoInitializeSecurityParams cis;
    cis.capabilities = EOAC_APPID;
    if (c.pointer) {
      cis.sec_desc = SecDesc::kAppId;
      cis.appid = *c.pointer;
    }
    ASSERT_TRUE((*rt)->InitializeSecurity(cis).ok()) << c.what;
    auto s = (*rt)->SecuritySettings();
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->policy.authn_level.value, c.level) << c.what;
    EXPECT_EQ((*s)->policy.access.source, c.access_source) << c.what;
    // The registry's descriptor decides calls: uid 1000 by the AppID's,
    // uid 1001 by the machine default.
    const bool app = c.access_source == config::PolicySource::kAppId;
    EXPECT_EQ((*rt)->access_gate().Check(CallFrom(1000, AuthnLevel::kPktPrivacy)),
              app ? S_OK : E_ACCESSDENIED)
        << c.what;
    EXPECT_EQ((*rt)->access_gate().Check(CallFrom(1001, AuthnLevel::kPktPrivacy)),
              app ? E_ACCESSDENIED : S_OK)
        << c.what;
  }
}

// R72: once CoInitializeSecurity ran, the process's blanket (its level
// floor, impersonation level, capabilities, packages) stays: a second call
// is RPC_E_TOO_LATE (R59) and registry changes do not reach an explicit
// one (R68).
TEST_F(CallAccess, R72_AnExplicitBlanketDoesNotChangeAfterwards) {
  SetApp("AuthenticationLevel", "2");
  ComRuntimeOptions o;
  o.store = path_;
  o.appid = kAppId;
  auto rt = ComRuntime::Start(o);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  CoInitializeSecurityParams cis;
  cis.authn_level = 6;
  cis.imp_level = 2;
  cis.capabilities = EOAC_DYNAMIC_CLOAKING;
  ASSERT_TRUE((*rt)->InitializeSecurity(cis).ok());
  const auto before = *(*rt)->SecuritySettings();
  SetApp("AuthenticationLevel", "1");
  SetMachine("LegacyImpersonationLevel", "3");
  CoInitializeSecurityParams again;
  again.authn_level = 2;
  EXPECT_EQ((*rt)->InitializeSecurity(again).code(), RPC_E_TOO_LATE);
  // A refusal re-reads the changed store: the floor is still PKT_PRIVACY.
  EXPECT_EQ((*rt)->access_gate().Check(CallFrom(1000, AuthnLevel::kPktIntegrity)),
            E_ACCESSDENIED);
  const auto after = *(*rt)->SecuritySettings();
  EXPECT_EQ(after->policy.authn_level.value, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(after->policy.imp_level.value, before->policy.imp_level.value);
  EXPECT_EQ(after->capabilities, EOAC_DYNAMIC_CLOAKING);
  EXPECT_EQ(after->authn_services, before->authn_services);
}

// R73: without CoInitializeSecurity, every value comes from the registry:
// the level (LegacyAuthenticationLevel here, the AppID having none), the
// impersonation level (LegacyImpersonationLevel), the access descriptor
// (DefaultAccessPermission), secure references (LegacySecureReferences),
// COM's choice of packages and no capabilities (EOAC_DEFAULT then means
// EOAC_NONE, R47).
TEST_F(CallAccess, R73_EveryImplicitValueComesFromTheRegistry) {
  SetMachine("LegacyAuthenticationLevel", "5");
  SetMachine("LegacyImpersonationLevel", "3");
  SetMachine("LegacySecureReferences", "Y");
  SetMachine("DefaultAccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  ComRuntimeOptions o;
  o.store = path_;
  o.appid = kAppId;  // registered with no values of its own
  auto rt = ComRuntime::Start(o);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  auto s = (*rt)->SecuritySettings();  // the implicit initialization
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->explicit_call);
  EXPECT_EQ((*s)->policy.authn_level.value, AuthnLevel::kPktIntegrity);
  EXPECT_EQ((*s)->policy.authn_level.source, config::PolicySource::kMachineDefault);
  EXPECT_EQ((*s)->policy.imp_level.value, security::ImpLevel::kImpersonate);
  EXPECT_EQ((*s)->policy.imp_level.source, config::PolicySource::kMachineDefault);
  EXPECT_EQ((*s)->policy.access.source, config::PolicySource::kMachineDefault);
  EXPECT_TRUE((*s)->secure_references);
  EXPECT_EQ((*s)->capabilities, EOAC_NONE);
  EXPECT_FALSE((*s)->authn_services_listed);  // R28: COM's default packages
  EXPECT_EQ((*rt)->access_gate().Check(CallFrom(1000, AuthnLevel::kPktIntegrity)), S_OK);
  EXPECT_EQ((*rt)->access_gate().Check(CallFrom(1001, AuthnLevel::kPktIntegrity)),
            E_ACCESSDENIED);
  EXPECT_EQ((*rt)->access_gate().Check(CallFrom(1000, AuthnLevel::kPkt)), E_ACCESSDENIED);
  // Nothing configured at all: CONNECT, IDENTIFY, the built-in descriptor,
  // no secure references.
  auto bare = ComRuntime::Start(ComRuntimeOptions{});
  ASSERT_TRUE(bare.ok());
  auto d = (*bare)->SecuritySettings();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->policy.authn_level.value, AuthnLevel::kConnect);
  EXPECT_EQ((*d)->policy.imp_level.value, security::ImpLevel::kIdentify);
  EXPECT_EQ((*d)->policy.access.source, config::PolicySource::kBuiltIn);
  EXPECT_FALSE((*d)->secure_references);
  EXPECT_EQ((*d)->capabilities, EOAC_NONE);
}

// R146 (decision): CallFailureLoggingLevel does not silence refusals. The
// issue and DESIGN.md's contract ("every denial is logged with who, what,
// which setting denied it, and the remedy") make every refused call one
// com.access_denied event, whatever the value: 1 (always log) is what the
// runtime does anyway, and 2 (never, the default) would hide the very
// decisions `comcfg explain` exists for. The value is read and validated
// (config/effective_policy), not used to suppress.
TEST_F(CallAccess, R146_EveryRefusalIsOneEventWhateverCallFailureLoggingLevel) {
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  size_t expected = 0;
  for (const char* level : {"", "1", "2"}) {
    if (*level) SetMachine("CallFailureLoggingLevel", level);
    auto gate = Gate();
    ProcessSecuritySettings base;
    base.appid = kAppId;
    auto s = gate->Initialize(std::nullopt, base);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->policy.call_failure_logging, *level == '1' ? 1u : 2u);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(gate->Check(CallFrom(1001, AuthnLevel::kPktIntegrity)), E_ACCESSDENIED);
      ++expected;
      EXPECT_EQ(Denials().size(), expected) << "CallFailureLoggingLevel=" << level;
    }
    EXPECT_EQ(gate->Check(CallFrom(1000, AuthnLevel::kPktIntegrity)), S_OK);  // still serves
    EXPECT_EQ(Denials().size(), expected);
  }
}

// Many threads checking calls while another rewrites the policy: every
// answer is one of the two policies', never a torn one (the test runs
// under ThreadSanitizer with the concurrency label).
TEST_F(CallAccess, R187_ChecksRunConcurrentlyWithPolicyChanges) {
  SetApp("AccessPermission", "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)");
  auto gate = Gate(std::chrono::milliseconds(0));
  ProcessSecuritySettings base;
  base.appid = kAppId;
  ASSERT_TRUE(gate->Initialize(std::nullopt, base).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const rpc::CallContext allowed = CallFrom(1000, AuthnLevel::kPktIntegrity);
      const rpc::CallContext other = CallFrom(1001 + i, AuthnLevel::kPktIntegrity);
      while (!stop) {
        if (gate->Check(allowed) != S_OK) ++wrong;
        (void)gate->Check(other);
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    SetApp("AccessPermission", i % 2 ? "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)"
                                     : "O:BAG:BAD:(A;;CCDCLC;;;S-1-22-1-1000)(A;;CCDCLC;;;WD)");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
}

// --- The runtime: RPC_E_TOO_LATE -------------------------------------------

TEST(ComRuntimeSecurity, R59_ASecondCallOrACallAfterMarshalingIsTooLate) {
  {
    auto rt = ComRuntime::Start(ComRuntimeOptions{});
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    CoInitializeSecurityParams cis;
    cis.authn_level = 2;
    EXPECT_TRUE((*rt)->InitializeSecurity(cis).ok());
    EXPECT_EQ((*rt)->InitializeSecurity(cis).code(), RPC_E_TOO_LATE);
  }
  {
    auto rt = ComRuntime::Start(ComRuntimeOptions{});
    ASSERT_TRUE(rt.ok());
    // The first marshal initializes security implicitly (R59, R73).
    auto settings = (*rt)->SecuritySettings();
    ASSERT_TRUE(settings.ok());
    EXPECT_FALSE((*settings)->explicit_call);
    EXPECT_EQ((*settings)->policy.authn_level.value, AuthnLevel::kConnect);  // R8
    CoInitializeSecurityParams cis;
    EXPECT_EQ((*rt)->InitializeSecurity(cis).code(), RPC_E_TOO_LATE);
  }
}

TEST(ComRuntimeSecurity, R40_QueryAuthenticationServicesListsWhatWasRegistered) {
  auto rt = ComRuntime::Start(ComRuntimeOptions{});
  ASSERT_TRUE(rt.ok());
  EXPECT_TRUE((*rt)->QueryAuthenticationServices().empty());  // R59: none before CIS
  CoInitializeSecurityParams cis;
  cis.c_auth_svc = 0;  // R62: no package; no secure calls can come in
  ASSERT_TRUE((*rt)->InitializeSecurity(cis).ok());
  EXPECT_TRUE((*rt)->QueryAuthenticationServices().empty());
}

TEST(ComRuntimeSecurity, R60_RefusedArgumentsLeaveTheProcessUninitialized) {
  auto rt = ComRuntime::Start(ComRuntimeOptions{});
  ASSERT_TRUE(rt.ok());
  CoInitializeSecurityParams bad;
  bad.capabilities = EOAC_STATIC_CLOAKING | EOAC_DYNAMIC_CLOAKING;
  EXPECT_EQ((*rt)->InitializeSecurity(bad).code(), E_INVALIDARG);
  CoInitializeSecurityParams good;
  good.authn_level = 6;
  EXPECT_TRUE((*rt)->InitializeSecurity(good).ok());
  auto settings = (*rt)->SecuritySettings();
  ASSERT_TRUE(settings.ok());
  EXPECT_TRUE((*settings)->explicit_call);
  EXPECT_EQ((*settings)->policy.authn_level.value, AuthnLevel::kPktPrivacy);
}

}  // namespace
}  // namespace comsec::com
