// The COM schema: every setting's type, range and bad-value handling.
#include "config/com_schema.h"

#include <gtest/gtest.h>

#include "security/com_rights.h"
#include "security/sddl.h"

namespace comsec::config {
namespace {

SettingValue Interpret(SettingScope scope, const char* name, RegValue v) {
  const SettingSpec* spec = FindSetting(scope, name);
  EXPECT_NE(spec, nullptr) << name;
  return InterpretSetting(*spec, &v);
}

TEST(ComSchema, EveryReferenceValueIsKnown) {
  for (const char* name :
       {"EnableDCOM", "DefaultLaunchPermission", "DefaultAccessPermission",
        "LegacyAuthenticationLevel", "LegacyImpersonationLevel",
        "LegacySecureReferences", "MachineLaunchRestriction",
        "MachineAccessRestriction", "ActivationFailureLoggingLevel",
        "CallFailureLoggingLevel", "InvalidSecurityDescriptorLoggingLevel",
        "DCOMSCMRemoteCallFlags", "SRPRunningObjectChecks",
        "SRPActivateAsActivatorChecks",
        "DoNotAddAllApplicationPackagesToRestrictions"}) {
    EXPECT_NE(FindSetting(SettingScope::kMachine, name), nullptr) << name;
  }
  for (const char* name :
       {"AccessPermission", "LaunchPermission", "AuthenticationLevel", "RunAs",
        "LoadUserSettings", "AppIDFlags", "ROTFlags", "SRPTrustLevel",
        "RemoteServerName", "LocalService", "ServiceParameters", "DllSurrogate",
        "Endpoints", "ActivateAtStorage"}) {
    EXPECT_NE(FindSetting(SettingScope::kAppId, name), nullptr) << name;
  }
  EXPECT_NE(FindSetting(SettingScope::kClsid, "AppID"), nullptr);
  EXPECT_NE(FindSetting(SettingScope::kMachine, "enabledcom"), nullptr);
  EXPECT_EQ(FindSetting(SettingScope::kMachine, "AppID"), nullptr);
}

TEST(ComSchema, DwordRangeAndType) {
  EXPECT_TRUE(Interpret(SettingScope::kAppId, "AuthenticationLevel",
                        RegValue::Dword("AuthenticationLevel", 6)).valid);
  for (uint32_t bad : {0u, 7u}) {
    SettingValue v = Interpret(SettingScope::kAppId, "AuthenticationLevel",
                               RegValue::Dword("AuthenticationLevel", bad));
    EXPECT_TRUE(v.present);
    EXPECT_FALSE(v.valid);
    EXPECT_NE(v.problem.find("outside 1..6"), std::string::npos) << v.problem;
  }
  SettingValue wrong = Interpret(SettingScope::kAppId, "AuthenticationLevel",
                                 RegValue::String("AuthenticationLevel", "6"));
  EXPECT_FALSE(wrong.valid);
  EXPECT_NE(wrong.problem.find("REG_SZ"), std::string::npos) << wrong.problem;
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "AppIDFlags",
                         RegValue::Dword("AppIDFlags", 0x8)).valid);
}

TEST(ComSchema, YesNoAndSrpStrings) {
  EXPECT_TRUE(Interpret(SettingScope::kMachine, "EnableDCOM",
                        RegValue::String("EnableDCOM", "y")).flag);
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "EnableDCOM",
                         RegValue::String("EnableDCOM", "N")).flag);
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "EnableDCOM",
                         RegValue::String("EnableDCOM", "yes")).valid);
  for (const char* off : {"N", "n", "NO", "No", "no"}) {
    EXPECT_FALSE(Interpret(SettingScope::kMachine, "SRPRunningObjectChecks",
                           RegValue::String("SRPRunningObjectChecks", off)).flag);
  }
  EXPECT_TRUE(Interpret(SettingScope::kMachine, "SRPRunningObjectChecks",
                        RegValue::String("SRPRunningObjectChecks", "nO")).flag);
}

TEST(ComSchema, DescriptorsMustBeBinaryAndWellFormed) {
  auto sd = security::ParseSddl("O:BAG:BAD:(A;;CCDC;;;WD)")->Encode();
  EXPECT_TRUE(Interpret(SettingScope::kAppId, "LaunchPermission",
                        RegValue::Binary("LaunchPermission", sd)).valid);
  sd.pop_back();
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "LaunchPermission",
                         RegValue::Binary("LaunchPermission", sd)).valid);
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "LaunchPermission",
                         RegValue::String("LaunchPermission", "D:")).valid);
}

TEST(ComSchema, EncodeValidatesInput) {
  const SettingSpec* level = FindSetting(SettingScope::kAppId, "AuthenticationLevel");
  EXPECT_EQ(*EncodeSetting(*level, "0x5")->AsDword(), 5u);
  EXPECT_FALSE(EncodeSetting(*level, "7").ok());
  EXPECT_FALSE(EncodeSetting(*level, "-1").ok());
  EXPECT_FALSE(EncodeSetting(*level, "4294967296").ok());
  const SettingSpec* sd = FindSetting(SettingScope::kAppId, "AccessPermission");
  auto v = EncodeSetting(*sd, "O:BAG:BAD:(A;;0x3;;;IU)");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, RegType::kBinary);
  EXPECT_FALSE(EncodeSetting(*sd, "O:BAG:BAD:(A;;QQ;;;IU)").ok());
  const SettingSpec* appid = FindSetting(SettingScope::kClsid, "AppID");
  EXPECT_EQ(*EncodeSetting(*appid, "6a1b3c2d-0000-4e5f-8a9b-0c1d2e3f4a5b")->AsString(),
            "{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}");
}

TEST(ComSchema, BuiltInDescriptorsAreValidForCom) {
  for (const char* sddl : {kBuiltinLaunchPermission, kBuiltinAccessPermission,
                           kDefaultMachineLaunchRestriction,
                           kDefaultMachineAccessRestriction}) {
    auto sd = security::ParseSddl(sddl);
    ASSERT_TRUE(sd.ok()) << sddl;
    auto problems = security::ValidateComSecurityDescriptor(*sd);
    EXPECT_TRUE(problems.empty()) << sddl;
  }
}

TEST(ComSchema, KeyPaths) {
  Guid g = *Guid::Parse("6a1b3c2d-0000-4e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(OleKeyPath().ToString(), "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole");
  EXPECT_EQ(AppIdKeyPath(g).ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\"
            "{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}");
  const SettingSpec* enabled = nullptr;
  for (const SettingSpec& s : AllSettings()) {
    if (s.scope == SettingScope::kClsid && std::string(s.name) == "Enabled") enabled = &s;
  }
  ASSERT_NE(enabled, nullptr);
  EXPECT_EQ(SettingKeyPath(*enabled, &g).ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\CLSID\\"
            "{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}\\Elevation");
}

}  // namespace
}  // namespace comsec::config
