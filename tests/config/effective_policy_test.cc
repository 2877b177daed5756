// Which setting wins: one test per precedence rule and default of
// reference/com-security-rules.md, each naming its rule.
#include "config/effective_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "config/com_schema.h"
#include "security/com_rights.h"
#include "security/sddl.h"

namespace comsec::config {
namespace {

const Guid kAppId = *Guid::Parse("{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}");
const Guid kClsid = *Guid::Parse("{6A1B3C2D-0001-4E5F-8A9B-0C1D2E3F4A5B}");

std::vector<uint8_t> Sd(const char* sddl) {
  auto sd = security::ParseSddl(sddl);
  EXPECT_TRUE(sd.ok()) << sddl;
  return sd->Encode();
}

std::string SddlOf(const DescriptorSetting& d) {
  return d.sd ? *security::FormatSddl(*d.sd) : "";
}

class Policy : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-policy-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = std::move(*Store::Open(dir_ + "/store.db"));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Set(const KeyPath& key, RegValue v) {
    ASSERT_TRUE(store_->SetValue(key, v).ok());
  }
  void SetOle(RegValue v) { Set(OleKeyPath(), std::move(v)); }
  void SetApp(RegValue v) { Set(AppIdKeyPath(kAppId), std::move(v)); }
  void RegisterApp() { SetApp(RegValue::String("", "Test application")); }

  EffectivePolicy Resolve(const ProcessSecurity* process = nullptr) {
    auto tx = store_->BeginRead();
    EXPECT_TRUE(tx.ok());
    auto p = ResolveEffectivePolicy(**tx, kAppId, process);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

// R8, R19, R73, R167: nothing configured.
TEST_F(Policy, BuiltInDefaultsWhenNothingIsConfigured) {
  EffectivePolicy p = Resolve();
  EXPECT_FALSE(p.appid_registered);
  EXPECT_EQ(p.authn_level.value, RPC_C_AUTHN_LEVEL_CONNECT);
  EXPECT_EQ(p.authn_level.source, PolicySource::kBuiltIn);
  EXPECT_EQ(p.imp_level.value, RPC_C_IMP_LEVEL_IDENTIFY);
  EXPECT_EQ(p.imp_level.source, PolicySource::kBuiltIn);
  EXPECT_TRUE(p.enable_dcom);  // R164 decision: absent means Y
  EXPECT_FALSE(p.secure_references);
  EXPECT_EQ(p.activation_failure_logging, 0u);  // R136
  EXPECT_EQ(p.call_failure_logging, 2u);        // R146, C4
  EXPECT_EQ(p.invalid_sd_logging, 1u);          // R151
  EXPECT_EQ(p.min_activation_authn_level, RPC_C_AUTHN_LEVEL_PKT_INTEGRITY);
  EXPECT_TRUE(p.warnings.empty());
}

// R114: built-in launch permission is Administrators, SYSTEM, INTERACTIVE.
TEST_F(Policy, BuiltInLaunchPermission) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.launch.source, PolicySource::kBuiltIn);
  EXPECT_EQ(SddlOf(p.launch), kBuiltinLaunchPermission);
}

// R144 with C2: built-in access permission is SELF, SYSTEM, Administrators.
TEST_F(Policy, BuiltInAccessPermission) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.access.source, PolicySource::kBuiltIn);
  EXPECT_EQ(SddlOf(p.access),
            "O:BAG:BAD:(A;;CCDCLC;;;PS)(A;;CCDCLC;;;SY)(A;;CCDCLC;;;BA)");
}

// R175 with C3: machine restrictions default to XP SP2's.
TEST_F(Policy, DefaultMachineRestrictions) {
  EffectivePolicy p = Resolve();
  EXPECT_EQ(SddlOf(p.machine_launch_limit), kDefaultMachineLaunchRestriction);
  EXPECT_EQ(SddlOf(p.machine_access_limit), kDefaultMachineAccessRestriction);
  EXPECT_EQ(p.machine_launch_limit.source, PolicySource::kBuiltIn);
}

// R8, R164: LegacyAuthenticationLevel applies when the AppID sets none.
TEST_F(Policy, LegacyAuthenticationLevelIsTheMachineDefault) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 4));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, 4u);
  EXPECT_EQ(p.authn_level.source, PolicySource::kMachineDefault);
}

// R73, R162: the AppID's AuthenticationLevel wins over Legacy.
TEST_F(Policy, AppIdAuthenticationLevelWinsOverLegacy) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 4));
  SetApp(RegValue::Dword("AuthenticationLevel", 6));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.authn_level.value, 6u);
  EXPECT_EQ(p.authn_level.source, PolicySource::kAppId);
}

// C7: names are case-insensitive; the Legacy values are REG_DWORD.
TEST_F(Policy, ValueNamesAreCaseInsensitive) {
  SetOle(RegValue::Dword("legacyauthenticationlevel", 5));
  EXPECT_EQ(Resolve().authn_level.value, 5u);
}

// R163: a wrong type or an out-of-range AuthenticationLevel makes the
// implicit CoInitializeSecurity fail.
TEST_F(Policy, InvalidAuthenticationLevelFailsTheProcess) {
  SetApp(RegValue::String("AuthenticationLevel", "6"));
  EffectivePolicy wrong_type = Resolve();
  EXPECT_TRUE(wrong_type.process_fails);
  EXPECT_NE(wrong_type.process_failure.find("R163"), std::string::npos);
  SetApp(RegValue::Dword("AuthenticationLevel", 7));
  EXPECT_TRUE(Resolve().process_fails);
  SetApp(RegValue::Dword("AuthenticationLevel", 0));
  EXPECT_TRUE(Resolve().process_fails);
}

// A bad Legacy value is ignored with a warning; the built-in applies.
TEST_F(Policy, InvalidLegacyLevelIsIgnored) {
  SetOle(RegValue::Dword("LegacyAuthenticationLevel", 9));
  EffectivePolicy p = Resolve();
  EXPECT_FALSE(p.process_fails);
  EXPECT_EQ(p.authn_level.source, PolicySource::kBuiltIn);
  ASSERT_FALSE(p.warnings.empty());
}

// R19: LegacyImpersonationLevel, else IDENTIFY; R70: no AppID value.
TEST_F(Policy, ImpersonationLevelFromLegacy) {
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 3));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.imp_level.value, RPC_C_IMP_LEVEL_IMPERSONATE);
  EXPECT_EQ(p.imp_level.source, PolicySource::kMachineDefault);
}

// R68: an explicit CoInitializeSecurity replaces the registry.
TEST_F(Policy, ExplicitCoInitializeSecurityWins) {
  RegisterApp();
  SetApp(RegValue::Dword("AuthenticationLevel", 6));
  SetApp(RegValue::Binary("AccessPermission", Sd("O:BAG:BAD:(A;;CCDC;;;SY)")));
  SetOle(RegValue::Dword("LegacyImpersonationLevel", 3));
  ProcessSecurity cis;
  cis.authn_level = RPC_C_AUTHN_LEVEL_PKT;
  cis.imp_level = RPC_C_IMP_LEVEL_DELEGATE;
  cis.access = ProcessSecurity::Access::kDescriptor;
  cis.access_sd = *security::ParseSddl("O:BAG:BAD:(A;;CCDC;;;AU)");
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, RPC_C_AUTHN_LEVEL_PKT);
  EXPECT_EQ(p.authn_level.source, PolicySource::kProcess);
  EXPECT_EQ(p.imp_level.value, RPC_C_IMP_LEVEL_DELEGATE);
  EXPECT_EQ(p.imp_level.source, PolicySource::kProcess);
  EXPECT_EQ(p.access.source, PolicySource::kProcess);
  EXPECT_EQ(SddlOf(p.access), "O:BAG:BAD:(A;;CCDC;;;AU)");
}

// R66: CoInitializeSecurity with a NULL pSecDesc lets every caller in.
TEST_F(Policy, NullProcessDescriptorAllowsEveryone) {
  ProcessSecurity cis;
  cis.authn_level = RPC_C_AUTHN_LEVEL_CONNECT;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_TRUE(p.access.everyone);
  EXPECT_EQ(p.access.source, PolicySource::kProcess);
}

// R67: EOAC_APPID reads the registry as a legacy application would.
TEST_F(Policy, EoacAppIdReadsTheRegistry) {
  RegisterApp();
  SetApp(RegValue::Dword("AuthenticationLevel", 5));
  SetApp(RegValue::Binary("AccessPermission", Sd("O:BAG:BAD:(A;;CCDC;;;SY)")));
  ProcessSecurity cis;
  cis.authn_level = RPC_C_AUTHN_LEVEL_PKT_PRIVACY;  // ignored with EOAC_APPID
  cis.access = ProcessSecurity::Access::kAppId;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(p.authn_level.value, 5u);
  EXPECT_EQ(p.authn_level.source, PolicySource::kAppId);
  EXPECT_EQ(p.access.source, PolicySource::kAppId);
}

// R137: AccessPermission, else DefaultAccessPermission.
TEST_F(Policy, AccessPermissionPrecedence) {
  RegisterApp();
  SetOle(RegValue::Binary("DefaultAccessPermission", Sd("O:BAG:BAD:(A;;CCDC;;;AU)")));
  EffectivePolicy from_default = Resolve();
  EXPECT_EQ(from_default.access.source, PolicySource::kMachineDefault);
  EXPECT_EQ(SddlOf(from_default.access), "O:BAG:BAD:(A;;CCDC;;;AU)");
  SetApp(RegValue::Binary("AccessPermission", Sd("O:BAG:BAD:(A;;CCDC;;;IU)")));
  EffectivePolicy from_app = Resolve();
  EXPECT_EQ(from_app.access.source, PolicySource::kAppId);
  EXPECT_EQ(SddlOf(from_app.access), "O:BAG:BAD:(A;;CCDC;;;IU)");
}

// R113: LaunchPermission, else DefaultLaunchPermission.
TEST_F(Policy, LaunchPermissionPrecedence) {
  RegisterApp();
  SetOle(RegValue::Binary("DefaultLaunchPermission", Sd("O:BAG:BAD:(A;;CCDCSW;;;AU)")));
  EXPECT_EQ(Resolve().launch.source, PolicySource::kMachineDefault);
  SetApp(RegValue::Binary("LaunchPermission", Sd("O:BAG:BAD:(A;;CCDCSW;;;IU)")));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.launch.source, PolicySource::kAppId);
  EXPECT_EQ(SddlOf(p.launch), "O:BAG:BAD:(A;;CCDCSW;;;IU)");
}

// R141: an application whose registry level is NONE gets no access check.
TEST_F(Policy, RegistryLevelNoneDisablesTheAccessCheck) {
  RegisterApp();
  SetApp(RegValue::Dword("AuthenticationLevel", 1));
  SetApp(RegValue::Binary("AccessPermission", Sd("O:BAG:BAD:(A;;CCDC;;;SY)")));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.access.everyone);
  EXPECT_NE(p.access.origin.find("R141"), std::string::npos);
}

// R151: an invalid descriptor grants nothing and is reported.
TEST_F(Policy, InvalidDescriptorsFailClosed) {
  RegisterApp();
  SetApp(RegValue::Binary("LaunchPermission", {1, 0, 4, 0x80, 0xff}));
  EffectivePolicy garbage = Resolve();
  EXPECT_TRUE(garbage.launch.invalid);
  EXPECT_FALSE(garbage.launch.sd.has_value());
  EXPECT_EQ(garbage.launch.source, PolicySource::kAppId);
  ASSERT_FALSE(garbage.warnings.empty());
  // R150: mixed formats; R149: an ACE without EXECUTE.
  SetApp(RegValue::Binary("LaunchPermission",
                          Sd("O:BAG:BAD:(A;;CC;;;BA)(A;;CCDCSW;;;SY)")));
  EXPECT_TRUE(Resolve().launch.invalid);
  SetApp(RegValue::Binary("AccessPermission", Sd("O:BAG:BAD:(A;;DC;;;WD)")));
  EXPECT_TRUE(Resolve().access.invalid);
  // A descriptor stored with the wrong type is invalid too.
  SetOle(RegValue::String("MachineAccessRestriction", "O:BAG:BAD:(A;;CCDC;;;WD)"));
  EXPECT_TRUE(Resolve().machine_access_limit.invalid);
}

// R165: the policy override replaces MachineLaunchRestriction.
TEST_F(Policy, PolicyOverrideWinsOverMachineRestriction) {
  SetOle(RegValue::Binary("MachineLaunchRestriction",
                          Sd("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)")));
  EffectivePolicy machine = Resolve();
  EXPECT_EQ(machine.machine_launch_limit.source, PolicySource::kMachine);
  Set(PolicyKeyPath(), RegValue::String("MachineLaunchRestriction",
                                        "O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)"));
  EffectivePolicy policy = Resolve();
  EXPECT_EQ(policy.machine_launch_limit.source, PolicySource::kPolicy);
  EXPECT_EQ(SddlOf(policy.machine_launch_limit), "O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)");
}

// R69: CoInitializeSecurity never changes the machine restrictions.
TEST_F(Policy, ProcessSettingsNeverReachTheRestrictions) {
  ProcessSecurity cis;
  cis.access = ProcessSecurity::Access::kNull;
  EffectivePolicy p = Resolve(&cis);
  EXPECT_EQ(SddlOf(p.machine_access_limit), kDefaultMachineAccessRestriction);
}

// R120: EnableDCOM "N" (either case) turns DCOM off.
TEST_F(Policy, EnableDcom) {
  SetOle(RegValue::String("EnableDCOM", "n"));
  EXPECT_FALSE(Resolve().enable_dcom);
  SetOle(RegValue::String("EnableDCOM", "Y"));
  EXPECT_TRUE(Resolve().enable_dcom);
  SetOle(RegValue::String("EnableDCOM", "perhaps"));
  EffectivePolicy p = Resolve();
  EXPECT_TRUE(p.enable_dcom);
  EXPECT_FALSE(p.warnings.empty());
}

// DCOM hardening: on unless explicitly 0, and turning it off is reported.
TEST_F(Policy, HardeningFloor) {
  Set(HardeningKeyPath(),
      RegValue::Dword("RequireIntegrityActivationAuthenticationLevel", 0));
  EffectivePolicy p = Resolve();
  EXPECT_EQ(p.min_activation_authn_level, 0u);
  ASSERT_FALSE(p.warnings.empty());
}

// R164: LegacySecureReferences "Y" turns secure references on.
TEST_F(Policy, LegacySecureReferences) {
  SetOle(RegValue::String("LegacySecureReferences", "y"));
  EXPECT_TRUE(Resolve().secure_references);
}

// R159: a class's AppID value names its application.
TEST_F(Policy, AppIdForClsid) {
  auto tx = store_->BeginRead();
  auto missing = AppIdForClsid(**tx, kClsid);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code().value(), 0x80040154u);  // REGDB_E_CLASSNOTREG
  tx->reset();
  Set(ClsidKeyPath(kClsid), RegValue::String("", "class"));
  auto tx2 = store_->BeginRead();
  EXPECT_FALSE(AppIdForClsid(**tx2, kClsid).ok());
  tx2->reset();
  Set(ClsidKeyPath(kClsid), RegValue::String("AppID", kAppId.ToRegistryString()));
  auto tx3 = store_->BeginRead();
  auto found = AppIdForClsid(**tx3, kClsid);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, kAppId);
}

}  // namespace
}  // namespace comsec::config
