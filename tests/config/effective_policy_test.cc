// Which setting wins (config/effective_policy.h): one test per precedence
// rule and default of reference/com-security-rules.md, each naming its
// rule. Every test writes real values into a real Store in a temporary
// directory and resolves the policy inside one read transaction.
#include "comsec/config/effective_policy.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "comsec/config/com_schema.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::config {
namespace {

const Guid kAppId = *Guid::Parse("{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}");
const Guid kOtherAppId = *Guid::Parse("{6A1B3C2D-0002-4E5F-8A9B-0C1D2E3F4A5B}");
const Guid kClsid = *Guid::Parse("{6A1B3C2D-0001-4E5F-8A9B-0C1D2E3F4A5B}");


std::vector<uint8_t> SdBytes(const char* sddl) {
  auto sd = security::ParseSddl(sddl);
  if (!sd.ok()) {
    ADD_FAILURE() << sddl << ": " << sd.status().ToString();
    return {};
  }
  return sd->Encode();
}

security::SecurityDescriptor Sd(const char* sddl) {
  auto sd = security::ParseSddl(sddl);
  if (!sd.ok()) {
    ADD_FAILURE() << sddl << ": " << sd.status().ToString();
    return {};
  }
  return *sd;
}

// The descriptor a setting resolved to, as canonical SDDL; "" when it has
// none (everyone, invalid).
std::string SddlOf(const DescriptorSetting& d) {
  if (!d.sd) return "";
  auto s = security::FormatSddl(*d.sd);
  return s.ok() ? *s : "(unformattable)";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool AnyWarningContains(const EffectivePolicy& p, const std::string& needle) {
  for (const std::string& w : p.warnings) {
    if (Contains(w, needle)) return true;
  }
  return false;
}

// A Store in a fresh temporary directory, removed with everything in it
// (the database and its WAL files) when the test ends.
class ResolvePolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "comsec-policy-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << tmpl;
    dir_ = tmpl;
    auto store = Store::Open(dir_ + "/comsec.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void Set(const KeyPath& key, const RegValue& v) {
    Status s = store_->SetValue(key, v);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Set(const char* key, const RegValue& v) {
    auto path = KeyPath::Parse(key);
    ASSERT_TRUE(path.ok()) << key;
    Set(*path, v);
  }
  void SetOle(const RegValue& v) { Set(OleKeyPath(), v); }
  void SetApp(const RegValue& v) { Set(AppIdKeyPath(kAppId), v); }
  void SetPolicy(const RegValue& v) { Set(PolicyKeyPath(), v); }
  void SetHardening(const RegValue& v) { Set(HardeningKeyPath(), v); }
  void RegisterApp() { SetApp(RegValue::String("", "Test server")); }

  // Resolves in one read transaction, which ends before the next write.
  EffectivePolicy Resolve(const ProcessSecurity* process = nullptr,
                          const Guid& appid = kAppId) {
    auto tx = store_->BeginRead();
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    if (!tx.ok()) return {};
    auto p = ResolveEffectivePolicy(**tx, appid, process);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return {};
    return *p;
  }

  Result<Guid> LookUpAppId(const Guid& clsid) {
    auto tx = store_->BeginRead();
    if (!tx.ok()) return std::move(tx).TakeStatus();
    return AppIdForClsid(**tx, clsid);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

// ==== Nothing configured ====

// R8, R167: with no CIS, no AppID value and no Legacy value, the level is
// CONNECT, built in.
TEST_F(ResolvePolicy, R8NothingConfiguredIsConnect) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.appid, kAppId);
  EXPECT_FALSE(p.appid_registered);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kConnect);
  EXPECT_EQ(p.authn_level.source, PolicySource::kBuiltIn);
  EXPECT_FALSE(p.process_fails);
  EXPECT_TRUE(p.warnings.empty());
}

// R167: every other built-in value when nothing is configured.
TEST_F(ResolvePolicy, R167BuiltInValues) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.imp_level.value, ImpLevel::kIdentify);
  EXPECT_EQ(p.imp_level.source, PolicySource::kBuiltIn);
  EXPECT_FALSE(p.secure_references);            // R145
  EXPECT_EQ(p.activation_failure_logging, 0u);  // R136
  EXPECT_EQ(p.call_failure_logging, 2u);        // R146, C4
  EXPECT_EQ(p.invalid_sd_logging, 1u);          // R151
  EXPECT_EQ(p.launch.source, PolicySource::kBuiltIn);
  EXPECT_EQ(p.access.source, PolicySource::kBuiltIn);
  EXPECT_FALSE(p.access.everyone);
  EXPECT_FALSE(p.access.invalid);
  EXPECT_FALSE(p.launch.invalid);
}

// ==== Authentication level (R8, R73, R162, R163) ====

// R73, R162: the AppID's AuthenticationLevel wins over
// LegacyAuthenticationLevel.
TEST_F(ResolvePolicy, R73AppIdAuthenticationLevelWinsOverLegacy) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 4));
  SetApp(RegValue::Dword("AuthenticationLevel", 6));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.appid_registered);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(p.authn_level.source, PolicySource::kAppId);
  EXPECT_TRUE(Contains(p.authn_level.origin, "AuthenticationLevel"))
      << p.authn_level.origin;
  EXPECT_TRUE(Contains(p.authn_level.origin, kAppId.ToRegistryString()))
      << p.authn_level.origin;
}

// R73, R164: LegacyAuthenticationLevel applies when the AppID has none.
TEST_F(ResolvePolicy, R73LegacyAuthenticationLevelWhenAppIdLacksIt) {
  RegisterApp();
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 4));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPkt);
  EXPECT_EQ(p.authn_level.source, PolicySource::kMachineDefault);
  EXPECT_TRUE(Contains(p.authn_level.origin, "LegacyAuthenticationLevel"))
      << p.authn_level.origin;
}

// The AppID level of another application does not leak into this one.
TEST_F(ResolvePolicy, R73OtherAppIdDoesNotCount) {
  Set(AppIdKeyPath(kOtherAppId), RegValue::Dword("AuthenticationLevel", 6));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kConnect);
  EXPECT_EQ(p.authn_level.source, PolicySource::kBuiltIn);
}

// R163: an AuthenticationLevel of the wrong type makes the implicit CIS
// fail.
TEST_F(ResolvePolicy, R163WrongTypeAuthenticationLevelFailsTheProcess) {
  SetApp(RegValue::String("AuthenticationLevel", "6"));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.process_fails);
  EXPECT_TRUE(Contains(p.process_failure, "R163")) << p.process_failure;
  EXPECT_TRUE(Contains(p.process_failure, "AuthenticationLevel"))
      << p.process_failure;
}

// R163: out of range (7, and 0 = DEFAULT, which is not a level) fails too.
TEST_F(ResolvePolicy, R163OutOfRangeAuthenticationLevelFailsTheProcess) {
  for (uint32_t bad : {7u, 0u, 100u}) {
    SetApp(RegValue::Dword("AuthenticationLevel", bad));
    EffectivePolicy p = Resolve();
    EXPECT_TRUE(p.process_fails) << bad;
    EXPECT_TRUE(Contains(p.process_failure, "outside 1..6"))
        << p.process_failure;
  }
}

// R163 applies only to the AppID value: a bad Legacy value is ignored with
// a warning and the built-in CONNECT applies.
TEST_F(ResolvePolicy, R163InvalidLegacyLevelIsIgnoredWithWarning) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 9));
  EffectivePolicy p = Resolve();
  EXPECT_FALSE(p.process_fails);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kConnect);
  EXPECT_EQ(p.authn_level.source, PolicySource::kBuiltIn);
  EXPECT_TRUE(AnyWarningContains(p, "LegacyAuthenticationLevel"));
}

// C7: the Legacy values are REG_DWORD ("REG_WORD" does not exist); a
// string is the wrong type and is ignored.
TEST_F(ResolvePolicy, C7LegacyLevelAsStringIsIgnored) {
  SetOle(RegValue::String("LegacyAuthenticationLevel", "5"));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kConnect);
  EXPECT_EQ(p.authn_level.source, PolicySource::kBuiltIn);
  EXPECT_TRUE(AnyWarningContains(p, "LegacyAuthenticationLevel"));
}

// ==== Explicit CoInitializeSecurity (R66, R68, R69) ====

// R68: an explicit CIS with a descriptor replaces the AppID values and the
// machine defaults; only its arguments count.
TEST_F(ResolvePolicy, R68ExplicitCisDescriptorOverridesRegistry) {
  RegisterApp();
  SetApp(RegValue::Dword("AuthenticationLevel", 6));
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 5));
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 3));
  SetOle(RegValue::Binary("DefaultAccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;IU)")));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kPkt;
  cis.imp_level = ImpLevel::kDelegate;
  cis.access = ProcessSecurity::Access::kDescriptor;
  cis.access_sd = Sd("O:BAG:BAD:(A;;CCDCLC;;;AU)");
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPkt);
  EXPECT_EQ(p.authn_level.source, PolicySource::kProcess);
  EXPECT_EQ(p.imp_level.value, ImpLevel::kDelegate);
  EXPECT_EQ(p.imp_level.source, PolicySource::kProcess);
  EXPECT_EQ(p.access.source, PolicySource::kProcess);
  EXPECT_FALSE(p.access.everyone);
  EXPECT_FALSE(p.access.invalid);
  EXPECT_EQ(SddlOf(p.access), "O:BAG:BAD:(A;;CCDCLC;;;AU)");
}

// R68: the NULL-descriptor form of CIS overrides the registry as well.
TEST_F(ResolvePolicy, R68ExplicitCisNullOverridesRegistry) {
  SetApp(RegValue::Dword("AuthenticationLevel", 6));
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kCall;
  cis.imp_level = ImpLevel::kImpersonate;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kCall);
  EXPECT_EQ(p.authn_level.source, PolicySource::kProcess);
  EXPECT_EQ(p.access.source, PolicySource::kProcess);
}

// R68, R163: a process that calls CIS does not read AuthenticationLevel, so
// a bad value there cannot make it fail.
TEST_F(ResolvePolicy, R68ExplicitCisIgnoresInvalidAppIdLevel) {
  SetApp(RegValue::String("AuthenticationLevel", "garbage"));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kPktIntegrity;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_FALSE(p.process_fails) << p.process_failure;
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPktIntegrity);
}

// R3: a CIS level of DEFAULT negotiates, and negotiation never yields NONE;
// comsec resolves it to CONNECT (R8).
TEST_F(ResolvePolicy, R3CisDefaultLevelIsConnect) {
  SetApp(RegValue::Dword("AuthenticationLevel", 6));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kDefault;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kConnect);
  EXPECT_EQ(p.authn_level.source, PolicySource::kProcess);
}

// R66: CIS with a NULL pSecDesc (neither EOAC_APPID nor
// EOAC_ACCESS_CONTROL) lets every caller in.
TEST_F(ResolvePolicy, R66CisNullDescriptorAllowsEveryone) {
  SetOle(RegValue::Binary("DefaultAccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kConnect;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_TRUE(p.access.everyone);
  EXPECT_FALSE(p.access.sd.has_value());
  EXPECT_FALSE(p.access.invalid);
  EXPECT_EQ(p.access.source, PolicySource::kProcess);
  EXPECT_TRUE(Contains(p.access.origin, "NULL")) << p.access.origin;
}

// R68, R112, R113: CIS governs calls into the process, not launch; the
// SCM still reads LaunchPermission from the registry.
TEST_F(ResolvePolicy, R113CisDoesNotChangeLaunchPermission) {
  SetApp(RegValue::Binary("LaunchPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDCSW;;;IU)")));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kPkt;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.launch.source, PolicySource::kAppId);
  EXPECT_EQ(SddlOf(p.launch), "O:BAG:BAD:(A;;CCDCSW;;;IU)");
}

// R69, R139: CIS never changes the machine-wide restrictions.
TEST_F(ResolvePolicy, R69CisNeverReachesTheRestrictions) {
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kConnect;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(SddlOf(p.machine_access_limit), kDefaultMachineAccessRestriction);
  EXPECT_EQ(SddlOf(p.machine_launch_limit), kDefaultMachineLaunchRestriction);
  EXPECT_FALSE(p.machine_access_limit.everyone);
}

// R73, R68: LegacySecureReferences is for processes without CIS.
TEST_F(ResolvePolicy, R73SecureReferencesOnlyWithoutCis) {
  SetOle(RegValue::String("LegacySecureReferences", "y"));
  EXPECT_TRUE(Resolve().secure_references);
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kConnect;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kNull;
  EXPECT_FALSE(Resolve(&cis).secure_references);
  SetOle(RegValue::String("LegacySecureReferences", "N"));
  EXPECT_FALSE(Resolve().secure_references);
}

// ==== CIS with EOAC_APPID (R67) ====

// R67.1-2: EOAC_APPID reads the AppID's level and access descriptor; the
// CIS arguments do not count.
TEST_F(ResolvePolicy, R67EoacAppIdReadsTheRegistry) {
  RegisterApp();
  SetApp(RegValue::Dword("AuthenticationLevel", 5));
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kPktPrivacy;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kAppId;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(p.authn_level.source, PolicySource::kAppId);
  EXPECT_EQ(p.access.source, PolicySource::kAppId);
  EXPECT_EQ(SddlOf(p.access), "O:BAG:BAD:(A;;CCDC;;;SY)");
}

// R67.1-2: with EOAC_APPID and no AppID values, the machine defaults and
// then the built-ins apply, as for a legacy process.
TEST_F(ResolvePolicy, R67EoacAppIdFallsBackToMachineDefaults) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 4));
  SetOle(RegValue::Binary("DefaultAccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;AU)")));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kPktPrivacy;
  cis.access = ProcessSecurity::Access::kAppId;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPkt);
  EXPECT_EQ(p.authn_level.source, PolicySource::kMachineDefault);
  EXPECT_EQ(p.access.source, PolicySource::kMachineDefault);
  EXPECT_EQ(SddlOf(p.access), "O:BAG:BAD:(A;;CCDC;;;AU)");
}

// R67.3: every other setting is that of a legacy process, so the
// impersonation level comes from LegacyImpersonationLevel.
TEST_F(ResolvePolicy, R67EoacAppIdImpersonationIsLegacy) {
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 3));
  ProcessSecurity cis;
  cis.imp_level = ImpLevel::kDelegate;
  cis.access = ProcessSecurity::Access::kAppId;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.imp_level.value, ImpLevel::kImpersonate);
  EXPECT_EQ(p.imp_level.source, PolicySource::kMachineDefault);
}

// R67.1, R163: EOAC_APPID reads AuthenticationLevel, so a bad one fails the
// process as it does without CIS.
TEST_F(ResolvePolicy, R67EoacAppIdInvalidLevelFailsTheProcess) {
  SetApp(RegValue::Dword("AuthenticationLevel", 7));
  ProcessSecurity cis;
  cis.access = ProcessSecurity::Access::kAppId;
  EXPECT_TRUE(Resolve(&cis).process_fails);
}

// R67.2, R141: EOAC_APPID with an AppID level of NONE makes no access
// check.
TEST_F(ResolvePolicy, R67EoacAppIdLevelNoneSkipsAccessCheck) {
  SetApp(RegValue::Dword("AuthenticationLevel", 1));
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  ProcessSecurity cis;
  cis.access = ProcessSecurity::Access::kAppId;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_TRUE(p.access.everyone);
}

// ==== Impersonation level (R19, R70, R73) ====

// R19: without CIS, LegacyImpersonationLevel, else IDENTIFY (R14).
TEST_F(ResolvePolicy, R19ImpersonationLevelLegacyThenIdentify) {
  EffectivePolicy none = Resolve();
  EXPECT_EQ(none.imp_level.value, ImpLevel::kIdentify);
  EXPECT_EQ(none.imp_level.source, PolicySource::kBuiltIn);
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 3));
  EffectivePolicy legacy = Resolve();
  EXPECT_EQ(legacy.imp_level.value, ImpLevel::kImpersonate);
  EXPECT_EQ(legacy.imp_level.source, PolicySource::kMachineDefault);
  EXPECT_TRUE(Contains(legacy.imp_level.origin, "LegacyImpersonationLevel"))
      << legacy.imp_level.origin;
}

// R19, R68: the CIS dwImpLevel wins over LegacyImpersonationLevel.
TEST_F(ResolvePolicy, R19CisImpersonationLevelWins) {
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 4));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kConnect;
  cis.imp_level = ImpLevel::kImpersonate;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.imp_level.value, ImpLevel::kImpersonate);
  EXPECT_EQ(p.imp_level.source, PolicySource::kProcess);
}

// R19, R164: an out-of-range Legacy level (1..4) is ignored with a
// warning; IDENTIFY applies.
TEST_F(ResolvePolicy, R19InvalidLegacyImpersonationLevelIsIgnored) {
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 5));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.imp_level.value, ImpLevel::kIdentify);
  EXPECT_EQ(p.imp_level.source, PolicySource::kBuiltIn);
  EXPECT_TRUE(AnyWarningContains(p, "LegacyImpersonationLevel"));
}

// R70: there is no AppID registry value for the impersonation level; a
// value of that name under the AppID changes nothing.
TEST_F(ResolvePolicy, R70NoAppIdImpersonationValue) {
  SetApp(RegValue::Dword("ImpersonationLevel", 4));
  SetApp(RegValue::Dword("LegacyImpersonationLevel", 4));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.imp_level.value, ImpLevel::kIdentify);
  EXPECT_EQ(p.imp_level.source, PolicySource::kBuiltIn);
}

// ==== Access permission (R137, R141, R144) ====

// R137: AccessPermission, else DefaultAccessPermission, else built-in.
TEST_F(ResolvePolicy, R137AccessPermissionPrecedence) {
  RegisterApp();
  EffectivePolicy builtin = Resolve();
  EXPECT_EQ(builtin.access.source, PolicySource::kBuiltIn);

  SetOle(RegValue::Binary("DefaultAccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;AU)")));
  EffectivePolicy machine = Resolve();
  EXPECT_EQ(machine.access.source, PolicySource::kMachineDefault);
  EXPECT_EQ(SddlOf(machine.access), "O:BAG:BAD:(A;;CCDC;;;AU)");
  EXPECT_TRUE(Contains(machine.access.origin, "DefaultAccessPermission"))
      << machine.access.origin;

  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;IU)")));
  EffectivePolicy app = Resolve();
  EXPECT_EQ(app.access.source, PolicySource::kAppId);
  EXPECT_EQ(SddlOf(app.access), "O:BAG:BAD:(A;;CCDC;;;IU)");
  EXPECT_TRUE(Contains(app.access.origin, "AccessPermission"))
      << app.access.origin;
}

// R144 with C2: the built-in access descriptor grants SELF, SYSTEM and
// Builtin\Administrators.
TEST_F(ResolvePolicy, R144BuiltInAccessIsSelfSystemAdministrators) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.access.source, PolicySource::kBuiltIn);
  EXPECT_EQ(SddlOf(p.access), kBuiltinAccessPermission);
  EXPECT_EQ(SddlOf(p.access),
            "O:BAG:BAD:(A;;CCDCLC;;;PS)(A;;CCDCLC;;;SY)(A;;CCDCLC;;;BA)");
}

// R141: an application whose registry level is NONE (AppID value 1) gets
// no access check, whatever its AccessPermission says.
TEST_F(ResolvePolicy, R141AppIdLevelNoneSkipsAccessCheck) {
  RegisterApp();
  SetApp(RegValue::Dword("AuthenticationLevel", 1));
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kNone);
  EXPECT_TRUE(p.access.everyone);
  EXPECT_FALSE(p.access.invalid);
  EXPECT_EQ(p.access.source, PolicySource::kAppId);
  EXPECT_TRUE(Contains(p.access.origin, "R141")) << p.access.origin;
}

// R141: so does LegacyAuthenticationLevel = 1 when the AppID has no level.
TEST_F(ResolvePolicy, R141LegacyLevelNoneSkipsAccessCheck) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 1));
  SetOle(RegValue::Binary("DefaultAccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;SY)")));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.access.everyone);
  EXPECT_EQ(p.access.source, PolicySource::kMachineDefault);
}

// R141 is about registry-configured processes: CIS at level NONE with a
// descriptor keeps its descriptor (R68), and the launch permission is
// never affected.
TEST_F(ResolvePolicy, R141DoesNotApplyToCisOrLaunch) {
  SetApp(RegValue::Dword("AuthenticationLevel", 1));
  EffectivePolicy registry = Resolve();
  EXPECT_FALSE(registry.launch.everyone);
  EXPECT_EQ(SddlOf(registry.launch), kBuiltinLaunchPermission);

  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kNone;
  cis.imp_level = ImpLevel::kIdentify;
  cis.access = ProcessSecurity::Access::kDescriptor;
  cis.access_sd = Sd("O:BAG:BAD:(A;;CCDC;;;SY)");
  EffectivePolicy p = Resolve(&cis);
  EXPECT_FALSE(p.access.everyone);
  EXPECT_EQ(SddlOf(p.access), "O:BAG:BAD:(A;;CCDC;;;SY)");
}

// ==== Launch permission (R113, R114) ====

// R113: LaunchPermission, else DefaultLaunchPermission.
TEST_F(ResolvePolicy, R113LaunchPermissionPrecedence) {
  RegisterApp();
  SetOle(RegValue::Binary("DefaultLaunchPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDCSW;;;AU)")));
  EffectivePolicy machine = Resolve();
  EXPECT_EQ(machine.launch.source, PolicySource::kMachineDefault);
  EXPECT_EQ(SddlOf(machine.launch), "O:BAG:BAD:(A;;CCDCSW;;;AU)");
  SetApp(RegValue::Binary("LaunchPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDCSW;;;IU)")));
  EffectivePolicy app = Resolve();
  EXPECT_EQ(app.launch.source, PolicySource::kAppId);
  EXPECT_EQ(SddlOf(app.launch), "O:BAG:BAD:(A;;CCDCSW;;;IU)");
}

// R114: without DefaultLaunchPermission, Administrators, SYSTEM and
// INTERACTIVE may launch.
TEST_F(ResolvePolicy, R114BuiltInLaunchIsAdministratorsSystemInteractive) {
  RegisterApp();
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.launch.source, PolicySource::kBuiltIn);
  EXPECT_EQ(SddlOf(p.launch), kBuiltinLaunchPermission);
  EXPECT_EQ(SddlOf(p.launch),
            "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCLCSWRP;;;SY)"
            "(A;;CCDCLCSWRP;;;IU)");
}

// ==== Invalid descriptors (R149-R151, C6) ====

// R151: bytes that are not a descriptor grant nothing, and the problem is
// recorded as a warning.
TEST_F(ResolvePolicy, R151GarbageDescriptorFailsClosed) {
  RegisterApp();
  SetApp(RegValue::Binary("LaunchPermission", {0x01, 0x00, 0x04, 0x80, 0xFF}));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.launch.invalid);
  EXPECT_FALSE(p.launch.sd.has_value());
  EXPECT_FALSE(p.launch.everyone);
  EXPECT_FALSE(p.launch.problem.empty());
  EXPECT_EQ(p.launch.source, PolicySource::kAppId);
  EXPECT_TRUE(AnyWarningContains(p, "LaunchPermission"));
  EXPECT_TRUE(AnyWarningContains(p, "grants nothing"));
}

// R151: an invalid AppID descriptor does not fall back to the machine
// default or the built-in one: it fails closed.
TEST_F(ResolvePolicy, R151InvalidDescriptorDoesNotFallBack) {
  SetOle(RegValue::Binary("DefaultAccessPermission",
                          SdBytes("O:BAG:BAD:(A;;CCDCLC;;;WD)")));
  SetApp(RegValue::Binary("AccessPermission", {0xDE, 0xAD, 0xBE, 0xEF}));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.access.invalid);
  EXPECT_EQ(p.access.source, PolicySource::kAppId);
  EXPECT_FALSE(p.access.sd.has_value());
}

// R150, R151: old-format and new-format ACEs mixed in one ACL make the
// descriptor invalid for COM.
TEST_F(ResolvePolicy, R150MixedFormatsAreInvalid) {
  SetApp(RegValue::Binary("LaunchPermission",
                          SdBytes("O:BAG:BAD:(A;;CC;;;BA)(A;;CCDCSW;;;SY)")));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.launch.invalid);
  EXPECT_FALSE(p.launch.sd.has_value());
  EXPECT_FALSE(p.launch.problem.empty());
  EXPECT_TRUE(AnyWarningContains(p, "LaunchPermission"));
}

// R149, R151: an ACE without COM_RIGHTS_EXECUTE makes it invalid.
TEST_F(ResolvePolicy, R149AceWithoutExecuteIsInvalid) {
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:(A;;DCLC;;;WD)")));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.access.invalid);
  EXPECT_TRUE(Contains(p.access.problem, "COM_RIGHTS_EXECUTE"))
      << p.access.problem;
  EXPECT_TRUE(AnyWarningContains(p, "AccessPermission"));
}

// C6, R151: a SACL holding anything but mandatory labels is invalid; a
// mandatory label alone is accepted (R133, R153).
TEST_F(ResolvePolicy, C6SaclMayHoldOnlyMandatoryLabels) {
  SetApp(
      RegValue::Binary("LaunchPermission",
                       SdBytes("O:BAG:BAD:(A;;CCDCSW;;;WD)S:(ML;;NX;;;LW)")));
  EffectivePolicy label = Resolve();
  EXPECT_FALSE(label.launch.invalid) << label.launch.problem;
  EXPECT_TRUE(label.launch.sd.has_value());

  SetApp(
      RegValue::Binary("LaunchPermission",
                       SdBytes("O:BAG:BAD:(A;;CCDCSW;;;WD)S:(AU;SA;CC;;;WD)")));
  EffectivePolicy audit = Resolve();
  EXPECT_TRUE(audit.launch.invalid);
}

// R151, R152: a descriptor stored with the wrong type is invalid too.
TEST_F(ResolvePolicy, R151DescriptorOfWrongTypeIsInvalid) {
  SetOle(
      RegValue::String("MachineAccessRestriction", "O:BAG:BAD:(A;;CCDC;;;WD)"));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.machine_access_limit.invalid);
  EXPECT_EQ(p.machine_access_limit.source, PolicySource::kMachine);
  EXPECT_TRUE(AnyWarningContains(p, "MachineAccessRestriction"));
}

// R64: a NULL DACL is legal (a warning, not an error) and is kept.
TEST_F(ResolvePolicy, R64NullDaclIsNotInvalid) {
  SetApp(RegValue::Binary("AccessPermission",
                          SdBytes("O:BAG:BAD:NO_ACCESS_CONTROL")));
  EffectivePolicy p = Resolve();
  EXPECT_FALSE(p.access.invalid) << p.access.problem;
  ASSERT_TRUE(p.access.sd.has_value());
  EXPECT_TRUE(p.access.sd->HasNullDacl());
}

// R151: InvalidSecurityDescriptorLoggingLevel and the other logging
// levels are read from Ole; out-of-range values keep the default.
TEST_F(ResolvePolicy, R151LoggingLevels) {
  SetOle(RegValue::Dword("InvalidSecurityDescriptorLoggingLevel", 2));
  SetOle(RegValue::Dword("ActivationFailureLoggingLevel", 1));
  SetOle(RegValue::Dword("CallFailureLoggingLevel", 1));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.invalid_sd_logging, 2u);
  EXPECT_EQ(p.activation_failure_logging, 1u);
  EXPECT_EQ(p.call_failure_logging, 1u);
  SetOle(RegValue::Dword("CallFailureLoggingLevel", 0));
  SetOle(RegValue::Dword("InvalidSecurityDescriptorLoggingLevel", 3));
  EffectivePolicy bad = Resolve();
  EXPECT_EQ(bad.call_failure_logging, 2u);
  EXPECT_EQ(bad.invalid_sd_logging, 1u);
}

// ==== Machine restrictions (R165, R175, C3) ====

// R175 with C3: the XP SP2 restrictions apply when none is configured.
TEST_F(ResolvePolicy, R175DefaultMachineRestrictions) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.machine_launch_limit.source, PolicySource::kBuiltIn);
  EXPECT_EQ(p.machine_access_limit.source, PolicySource::kBuiltIn);
  EXPECT_EQ(SddlOf(p.machine_launch_limit), kDefaultMachineLaunchRestriction);
  EXPECT_EQ(SddlOf(p.machine_access_limit), kDefaultMachineAccessRestriction);
  EXPECT_EQ(SddlOf(p.machine_launch_limit),
            "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)");
  EXPECT_EQ(SddlOf(p.machine_access_limit),
            "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDC;;;AN)");
}

// R164: the Ole restriction values replace the defaults.
TEST_F(ResolvePolicy, R164OleRestrictionsReplaceTheDefaults) {
  SetOle(RegValue::Binary("MachineLaunchRestriction",
                          SdBytes("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)")));
  SetOle(RegValue::Binary("MachineAccessRestriction",
                          SdBytes("O:BAG:BAD:(A;;CCDCLC;;;AU)")));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.machine_launch_limit.source, PolicySource::kMachine);
  EXPECT_EQ(SddlOf(p.machine_launch_limit), "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)");
  EXPECT_EQ(p.machine_access_limit.source, PolicySource::kMachine);
  EXPECT_EQ(SddlOf(p.machine_access_limit), "O:BAG:BAD:(A;;CCDCLC;;;AU)");
}

// R165: the policy override (SDDL under the policy key) wins over the
// Ole MachineLaunchRestriction.
TEST_F(ResolvePolicy, R165PolicyOverrideWinsOverMachineLaunchRestriction) {
  SetOle(RegValue::Binary("MachineLaunchRestriction",
                          SdBytes("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)")));
  SetPolicy(RegValue::String("MachineLaunchRestriction",
                             "O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)"));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.machine_launch_limit.source, PolicySource::kPolicy);
  EXPECT_EQ(SddlOf(p.machine_launch_limit), "O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)");
  EXPECT_TRUE(Contains(p.machine_launch_limit.origin, "Policies"))
      << p.machine_launch_limit.origin;
  // The access restriction is untouched by the launch override.
  EXPECT_EQ(p.machine_access_limit.source, PolicySource::kBuiltIn);
}

// R165: the same for MachineAccessRestriction.
TEST_F(ResolvePolicy, R165PolicyOverrideWinsOverMachineAccessRestriction) {
  SetOle(RegValue::Binary("MachineAccessRestriction",
                          SdBytes("O:BAG:BAD:(A;;CCDCLC;;;WD)")));
  SetPolicy(
      RegValue::String("MachineAccessRestriction", "O:BAG:BAD:(A;;CCDC;;;AU)"));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.machine_access_limit.source, PolicySource::kPolicy);
  EXPECT_EQ(SddlOf(p.machine_access_limit), "O:BAG:BAD:(A;;CCDC;;;AU)");
}

// R151, R165: an override that does not parse grants nothing; it does not
// fall back to the Ole value.
TEST_F(ResolvePolicy, R165InvalidPolicyOverrideFailsClosed) {
  SetOle(RegValue::Binary("MachineLaunchRestriction",
                          SdBytes("O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)")));
  SetPolicy(
      RegValue::String("MachineLaunchRestriction", "O:BAG:BAD:(A;;QQ;;;WD)"));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.machine_launch_limit.invalid);
  EXPECT_EQ(p.machine_launch_limit.source, PolicySource::kPolicy);
  EXPECT_TRUE(AnyWarningContains(p, "MachineLaunchRestriction"));
}

// ==== EnableDCOM (R120, R164) ====

// R164 decision: EnableDCOM absent means "Y".
TEST_F(ResolvePolicy, R164EnableDcomAbsentIsTrue) {
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.enable_dcom);
  EXPECT_EQ(p.enable_dcom_source, PolicySource::kBuiltIn);
}

// R120: "N" or "n" turns DCOM off; "Y" or "y" on.
TEST_F(ResolvePolicy, R120EnableDcomYesNo) {
  SetOle(RegValue::String("EnableDCOM", "N"));
  EffectivePolicy off = Resolve();
  EXPECT_FALSE(off.enable_dcom);
  EXPECT_EQ(off.enable_dcom_source, PolicySource::kMachine);
  SetOle(RegValue::String("EnableDCOM", "n"));
  EXPECT_FALSE(Resolve().enable_dcom);
  SetOle(RegValue::String("EnableDCOM", "y"));
  EffectivePolicy on = Resolve();
  EXPECT_TRUE(on.enable_dcom);
  EXPECT_EQ(on.enable_dcom_source, PolicySource::kMachine);
}

// R120: a value that is neither Y nor N is reported, and the switch fails
// closed (only Y enables DCOM).
TEST_F(ResolvePolicy, R120EnableDcomInvalidIsWarned) {
  SetOle(RegValue::String("EnableDCOM", "maybe"));
  EffectivePolicy p = Resolve();
  EXPECT_FALSE(p.enable_dcom);
  EXPECT_EQ(p.enable_dcom_source, PolicySource::kMachine);
  EXPECT_TRUE(AnyWarningContains(p, "EnableDCOM"));
}

// ==== DCOM hardening ====

// Absent: activations below PKT_INTEGRITY are refused.
TEST_F(ResolvePolicy, HardeningAbsentRequiresPacketIntegrity) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.min_activation_authn_level, AuthnLevel::kPktIntegrity);
  SetHardening(
      RegValue::Dword("RequireIntegrityActivationAuthenticationLevel", 1));
  EffectivePolicy on = Resolve();
  EXPECT_EQ(on.min_activation_authn_level, AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(on.warnings.empty());
}

// 0 turns the floor off, and that is reported.
TEST_F(ResolvePolicy, HardeningOffIsWarned) {
  SetHardening(
      RegValue::Dword("RequireIntegrityActivationAuthenticationLevel", 0));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.min_activation_authn_level, AuthnLevel::kDefault);
  EXPECT_TRUE(
      AnyWarningContains(p, "RequireIntegrityActivationAuthenticationLevel"));
}

// ==== Names are case-insensitive ====

// Value names compare case-insensitively: a lower-case Legacy value counts.
TEST_F(ResolvePolicy, ValueNamesAreCaseInsensitive) {
  SetOle(RegValue::Dword("legacyauthenticationlevel", 5));
  SetOle(RegValue::String("ENABLEDCOM", "n"));
  SetApp(RegValue::Binary("accesspermission",
                          SdBytes("O:BAG:BAD:(A;;CCDC;;;IU)")));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(p.authn_level.source, PolicySource::kMachineDefault);
  EXPECT_FALSE(p.enable_dcom);
  EXPECT_EQ(p.access.source, PolicySource::kAppId);
}

// Key names compare case-insensitively: keys written in another case, and
// an AppID key named with a lower-case GUID, are the same keys.
TEST_F(ResolvePolicy, KeyNamesAreCaseInsensitive) {
  Set("hklm\\software\\microsoft\\OLE",
      RegValue::Dword("LegacyImpersonationLevel", 3));
  Set("HKEY_LOCAL_MACHINE\\software\\classes\\appid\\"
      "{6a1b3c2d-0000-4e5f-8a9b-0c1d2e3f4a5b}",
      RegValue::Dword("AuthenticationLevel", 6));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.appid_registered);
  EXPECT_EQ(p.imp_level.value, ImpLevel::kImpersonate);
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(p.authn_level.source, PolicySource::kAppId);
}

// R159: HKEY_CLASSES_ROOT is a view of HKLM\SOFTWARE\Classes.
TEST_F(ResolvePolicy, R159ClassesRootIsTheSameAppIdKey) {
  Set("HKEY_CLASSES_ROOT\\AppID\\{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}",
      RegValue::Dword("AuthenticationLevel", 4));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, AuthnLevel::kPkt);
  EXPECT_EQ(p.authn_level.source, PolicySource::kAppId);
}

// ==== AppIdForClsid (R159) ====

using AppIdForClsidTest = ResolvePolicy;

// An unregistered class is REGDB_E_CLASSNOTREG.
TEST_F(AppIdForClsidTest, UnregisteredClassIsClassNotReg) {
  auto r = LookUpAppId(kClsid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), REGDB_E_CLASSNOTREG);
  EXPECT_EQ(r.status().code().value(), 0x80040154u);
  EXPECT_TRUE(
      Contains(std::string(r.status().message()), kClsid.ToRegistryString()))
      << r.status().message();
}

// A registered class that names no AppID is an error, and a different one
// from "not registered".
TEST_F(AppIdForClsidTest, ClassWithoutAppIdIsAnError) {
  Set(ClsidKeyPath(kClsid), RegValue::String("", "Test class"));
  auto r = LookUpAppId(kClsid);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), REGDB_E_CLASSNOTREG);
  EXPECT_TRUE(r.status().code().Failed());
  EXPECT_TRUE(Contains(std::string(r.status().message()), "AppID"))
      << r.status().message();
}

// An AppID value that is not a GUID is an error naming the problem.
TEST_F(AppIdForClsidTest, ClassWithInvalidAppIdIsAnError) {
  Set(ClsidKeyPath(kClsid), RegValue::String("AppID", "not-a-guid"));
  auto bad = LookUpAppId(kClsid);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().code(), REGDB_E_CLASSNOTREG);
  Set(ClsidKeyPath(kClsid), RegValue::Dword("AppID", 1));
  EXPECT_FALSE(LookUpAppId(kClsid).ok());
}

// R159: a class with an AppID value maps to that GUID.
TEST_F(AppIdForClsidTest, ClassWithAppIdMapsToIt) {
  Set(ClsidKeyPath(kClsid),
      RegValue::String("AppID", kAppId.ToRegistryString()));
  auto r = LookUpAppId(kClsid);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, kAppId);
}

// The AppID value may be written in any case, and the class key and value
// names too.
TEST_F(AppIdForClsidTest, LookupIsCaseInsensitive) {
  Set("HKCR\\clsid\\{6a1b3c2d-0001-4e5f-8a9b-0c1d2e3f4a5b}",
      RegValue::String("appid", "{6a1b3c2d-0000-4e5f-8a9b-0c1d2e3f4a5b}"));
  auto r = LookUpAppId(kClsid);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, kAppId);
}

// R68 with R18: an explicit CIS never falls back to the machine's
// impersonation default, even when it passes the forbidden DEFAULT.
TEST_F(ResolvePolicy, R18ExplicitCisImpersonationDefaultIsIdentify) {
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 4));
  ProcessSecurity cis;
  cis.authn_level = AuthnLevel::kPktIntegrity;
  cis.imp_level = ImpLevel::kDefault;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.imp_level.value, ImpLevel::kIdentify);
  EXPECT_EQ(p.imp_level.source, PolicySource::kProcess);
  EXPECT_TRUE(AnyWarningContains(p, "R18"));
}

}  // namespace
}  // namespace comsec::config
