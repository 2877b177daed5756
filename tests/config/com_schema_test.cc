// The COM configuration schema (config/com_schema.h): how each kind of
// setting is read and validated, how user input is encoded, where each
// setting lives, and the built-in descriptors. Each test names the rule of
// reference/com-security-rules.md it pins.
#include "comsec/config/com_schema.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::config {
namespace {

using security::COM_RIGHTS_ACTIVATE_LOCAL;
using security::COM_RIGHTS_ACTIVATE_REMOTE;
using security::COM_RIGHTS_EXECUTE;
using security::COM_RIGHTS_EXECUTE_LOCAL;
using security::COM_RIGHTS_EXECUTE_REMOTE;

constexpr char kGuidLower[] = "6a1b3c2d-0000-4e5f-8a9b-0c1d2e3f4a5b";
constexpr char kGuidRegistry[] = "{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}";

// The spec of a setting that must exist; fails the test (and returns a
// harmless spec) when it does not, so a missing setting cannot crash the
// rest of the suite.
const SettingSpec& MustFind(SettingScope scope, const char* name) {
  const SettingSpec* spec = FindSetting(scope, name);
  if (spec == nullptr) {
    ADD_FAILURE() << "no setting " << name;
    return AllSettings().front();
  }
  return *spec;
}

// A setting that lives in a subkey (FindSetting looks only at the key
// itself), found by walking the table.
const SettingSpec* FindInSubkey(SettingScope scope, const std::string& subkey,
                                const std::string& name) {
  for (const SettingSpec& s : AllSettings()) {
    if (s.scope == scope && subkey == s.subkey && name == s.name) return &s;
  }
  return nullptr;
}

SettingValue Interpret(SettingScope scope, const char* name,
                       const RegValue& value) {
  return InterpretSetting(MustFind(scope, name), &value);
}

RegValue Raw(const char* name, RegType type, std::vector<uint8_t> data) {
  RegValue v;
  v.name = name;
  v.type = type;
  v.data = std::move(data);
  return v;
}

std::vector<uint8_t> SdBytes(const char* sddl) {
  auto sd = security::ParseSddl(sddl);
  if (!sd.ok()) {
    ADD_FAILURE() << sddl << ": " << sd.status().ToString();
    return {};
  }
  return sd->Encode();
}

std::string Canonical(const security::SecurityDescriptor& sd) {
  auto s = security::FormatSddl(sd);
  return s.ok() ? *s : "(unformattable)";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ==== InterpretSetting: absent values ====

TEST(InterpretSetting, AbsentValueIsNeitherPresentNorValid) {
  const SettingSpec& spec =
      MustFind(SettingScope::kAppId, "AuthenticationLevel");
  SettingValue v = InterpretSetting(spec, nullptr);
  EXPECT_EQ(v.spec, &spec);
  EXPECT_FALSE(v.present);
  EXPECT_FALSE(v.valid);
  EXPECT_TRUE(v.problem.empty());
}

// ==== kDword ====

// R1, R162: AuthenticationLevel is a REG_DWORD 1..6.
TEST(InterpretSetting, AuthenticationLevelInRangeIsValid) {
  for (uint32_t level = 1; level <= 6; ++level) {
    SettingValue v = Interpret(SettingScope::kAppId, "AuthenticationLevel",
                               RegValue::Dword("AuthenticationLevel", level));
    EXPECT_TRUE(v.present);
    EXPECT_TRUE(v.valid) << level << ": " << v.problem;
    EXPECT_EQ(v.dword, level);
  }
}

// R163: 0 (DEFAULT, not a level, R3) and 7 are out of range.
TEST(InterpretSetting, AuthenticationLevelOutOfRange) {
  for (uint32_t bad : {0u, 7u, 0xFFFFFFFFu}) {
    SettingValue v = Interpret(SettingScope::kAppId, "AuthenticationLevel",
                               RegValue::Dword("AuthenticationLevel", bad));
    EXPECT_TRUE(v.present) << bad;
    EXPECT_FALSE(v.valid) << bad;
    EXPECT_TRUE(Contains(v.problem, "outside 1..6")) << v.problem;
  }
}

// R163: a wrong type is invalid, and the problem names the type found and
// the type expected.
TEST(InterpretSetting, AuthenticationLevelWrongType) {
  SettingValue sz = Interpret(SettingScope::kAppId, "AuthenticationLevel",
                              RegValue::String("AuthenticationLevel", "6"));
  EXPECT_TRUE(sz.present);
  EXPECT_FALSE(sz.valid);
  EXPECT_TRUE(Contains(sz.problem, "REG_SZ")) << sz.problem;
  EXPECT_TRUE(Contains(sz.problem, "REG_DWORD")) << sz.problem;

  SettingValue qword = Interpret(SettingScope::kAppId, "AuthenticationLevel",
                                 RegValue::Qword("AuthenticationLevel", 6));
  EXPECT_FALSE(qword.valid);
  SettingValue binary =
      Interpret(SettingScope::kAppId, "AuthenticationLevel",
                RegValue::Binary("AuthenticationLevel", {6, 0, 0, 0}));
  EXPECT_FALSE(binary.valid);
}

// R162, R163: AuthenticationLevel is REG_DWORD; REG_DWORD_BIG_ENDIAN is a
// different registry type, so COM's implicit CIS would fail on it.
TEST(InterpretSetting, AuthenticationLevelBigEndianIsWrongType) {
  SettingValue v = Interpret(
      SettingScope::kAppId, "AuthenticationLevel",
      Raw("AuthenticationLevel", RegType::kDwordBigEndian, {0, 0, 0, 5}));
  EXPECT_TRUE(v.present);
  EXPECT_FALSE(v.valid) << "REG_DWORD_BIG_ENDIAN accepted as REG_DWORD";
}

// A REG_DWORD whose data is not 4 bytes is malformed.
TEST(InterpretSetting, DwordOfWrongSizeIsInvalid) {
  SettingValue v =
      Interpret(SettingScope::kAppId, "AuthenticationLevel",
                Raw("AuthenticationLevel", RegType::kDword, {5, 0, 0}));
  EXPECT_TRUE(v.present);
  EXPECT_FALSE(v.valid);
  EXPECT_FALSE(v.problem.empty());
}

// R19, R164 (C7: read as REG_DWORD): LegacyImpersonationLevel is 1..4.
TEST(InterpretSetting, LegacyImpersonationLevelRange) {
  EXPECT_TRUE(Interpret(SettingScope::kMachine, "LegacyImpersonationLevel",
                        RegValue::Dword("LegacyImpersonationLevel", 4))
                  .valid);
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "LegacyImpersonationLevel",
                         RegValue::Dword("LegacyImpersonationLevel", 5))
                   .valid);
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "LegacyImpersonationLevel",
                         RegValue::Dword("LegacyImpersonationLevel", 0))
                   .valid);
}

// R132: SRPTrustLevel is 0x0 (Disallowed) or 0x40000 (Unrestricted); any
// other value is invalid (COMADMIN_E_SAFERINVALID).
TEST(InterpretSetting, SrpTrustLevelIsOneOfTwoValues) {
  for (uint32_t ok : {0u, 0x40000u}) {
    EXPECT_TRUE(Interpret(SettingScope::kAppId, "SRPTrustLevel",
                          RegValue::Dword("SRPTrustLevel", ok))
                    .valid)
        << ok;
  }
  for (uint32_t bad : {0x1000u, 0x20000u, 0x40001u}) {
    EXPECT_FALSE(Interpret(SettingScope::kAppId, "SRPTrustLevel",
                           RegValue::Dword("SRPTrustLevel", bad))
                     .valid)
        << "SRPTrustLevel 0x" << std::hex << bad;
  }
}

// ==== kDwordFlags ====

// R130: AppIDFlags defines bits 0x1, 0x2 and 0x4 only.
TEST(InterpretSetting, AppIdFlagsRejectsUndefinedBits) {
  SettingValue all = Interpret(SettingScope::kAppId, "AppIDFlags",
                               RegValue::Dword("AppIDFlags", 0x7));
  EXPECT_TRUE(all.valid);
  EXPECT_EQ(all.dword, 0x7u);
  SettingValue bad = Interpret(SettingScope::kAppId, "AppIDFlags",
                               RegValue::Dword("AppIDFlags", 0x8));
  EXPECT_FALSE(bad.valid);
  EXPECT_TRUE(Contains(bad.problem, "undefined bits")) << bad.problem;
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "AppIDFlags",
                         RegValue::String("AppIDFlags", "1"))
                   .valid);
}

// R135: DCOMSCMRemoteCallFlags bits 0x1..0x20.
TEST(InterpretSetting, DcomScmRemoteCallFlags) {
  EXPECT_TRUE(Interpret(SettingScope::kMachine, "DCOMSCMRemoteCallFlags",
                        RegValue::Dword("DCOMSCMRemoteCallFlags", 0x3F))
                  .valid);
  EXPECT_TRUE(Interpret(SettingScope::kMachine, "DCOMSCMRemoteCallFlags",
                        RegValue::Dword("DCOMSCMRemoteCallFlags", 0))
                  .valid);
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "DCOMSCMRemoteCallFlags",
                         RegValue::Dword("DCOMSCMRemoteCallFlags", 0x40))
                   .valid);
}

// ==== kYesNo ====

// R120, R164: EnableDCOM is "Y" or "N" in either case.
TEST(InterpretSetting, EnableDcomYesAndNoInEitherCase) {
  for (const char* yes : {"Y", "y"}) {
    SettingValue v = Interpret(SettingScope::kMachine, "EnableDCOM",
                               RegValue::String("EnableDCOM", yes));
    EXPECT_TRUE(v.valid) << yes;
    EXPECT_TRUE(v.flag) << yes;
  }
  for (const char* no : {"N", "n"}) {
    SettingValue v = Interpret(SettingScope::kMachine, "EnableDCOM",
                               RegValue::String("EnableDCOM", no));
    EXPECT_TRUE(v.valid) << no;
    EXPECT_FALSE(v.flag) << no;
  }
}

// R120: anything but Y/N is invalid, not silently read as one of them.
TEST(InterpretSetting, EnableDcomOtherStringsAreInvalid) {
  for (const char* bad : {"maybe", "yes", "no", "", "YY", " Y"}) {
    SettingValue v = Interpret(SettingScope::kMachine, "EnableDCOM",
                               RegValue::String("EnableDCOM", bad));
    EXPECT_TRUE(v.present) << '"' << bad << '"';
    EXPECT_FALSE(v.valid) << '"' << bad << '"';
    EXPECT_FALSE(v.problem.empty());
  }
  SettingValue maybe = Interpret(SettingScope::kMachine, "EnableDCOM",
                                 RegValue::String("EnableDCOM", "maybe"));
  EXPECT_TRUE(Contains(maybe.problem, "maybe")) << maybe.problem;
}

// R164: EnableDCOM is REG_SZ; a DWORD or an expandable string is not it.
TEST(InterpretSetting, EnableDcomWrongType) {
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "EnableDCOM",
                         RegValue::Dword("EnableDCOM", 1))
                   .valid);
  EXPECT_FALSE(
      Interpret(SettingScope::kMachine, "EnableDCOM",
                RegValue::String("EnableDCOM", "Y", RegType::kExpandSz))
          .valid);
}

// R145, R164: LegacySecureReferences "Y"/"y" is on.
TEST(InterpretSetting, LegacySecureReferences) {
  EXPECT_TRUE(Interpret(SettingScope::kMachine, "LegacySecureReferences",
                        RegValue::String("LegacySecureReferences", "y"))
                  .flag);
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "LegacySecureReferences",
                         RegValue::String("LegacySecureReferences", "N"))
                   .flag);
}

// ==== kDisabledByNo ====

// R132: the SRP checks are on unless the value is N, n, NO, No or no.
TEST(InterpretSetting, SrpChecksDisabledOnlyByNo) {
  for (const char* name :
       {"SRPRunningObjectChecks", "SRPActivateAsActivatorChecks"}) {
    for (const char* off : {"N", "n", "NO", "No", "no"}) {
      SettingValue v =
          Interpret(SettingScope::kMachine, name, RegValue::String(name, off));
      EXPECT_TRUE(v.valid) << name << "=" << off;
      EXPECT_FALSE(v.flag) << name << "=" << off;
    }
    for (const char* on : {"Y", "yes", "nO", "", "0", "false"}) {
      SettingValue v =
          Interpret(SettingScope::kMachine, name, RegValue::String(name, on));
      EXPECT_TRUE(v.valid) << name << "=" << on;
      EXPECT_TRUE(v.flag) << name << "=\"" << on << "\" must leave it on";
    }
  }
}

TEST(InterpretSetting, SrpChecksWrongTypeIsInvalid) {
  EXPECT_FALSE(Interpret(SettingScope::kMachine, "SRPRunningObjectChecks",
                         RegValue::Dword("SRPRunningObjectChecks", 0))
                   .valid);
}

// ==== kSecurityDescriptor ====

// R152, R162: descriptors are self-relative REG_BINARY.
TEST(InterpretSetting, DescriptorBinaryIsDecoded) {
  const char* sddl = "O:BAG:BAD:(A;;CCDCSW;;;IU)(A;;CCDCLCSWRP;;;SY)";
  SettingValue v =
      Interpret(SettingScope::kAppId, "LaunchPermission",
                RegValue::Binary("LaunchPermission", SdBytes(sddl)));
  EXPECT_TRUE(v.valid) << v.problem;
  ASSERT_TRUE(v.sd.has_value());
  EXPECT_EQ(Canonical(*v.sd), sddl);
}

// R151: bytes that are not a descriptor are invalid, with a reason.
TEST(InterpretSetting, DescriptorGarbageIsInvalid) {
  SettingValue garbage =
      Interpret(SettingScope::kMachine, "DefaultAccessPermission",
                RegValue::Binary("DefaultAccessPermission",
                                 {0xDE, 0xAD, 0xBE, 0xEF, 0x00}));
  EXPECT_TRUE(garbage.present);
  EXPECT_FALSE(garbage.valid);
  EXPECT_FALSE(garbage.sd.has_value());
  EXPECT_FALSE(garbage.problem.empty());

  std::vector<uint8_t> truncated = SdBytes("O:BAG:BAD:(A;;CCDC;;;WD)");
  truncated.resize(truncated.size() - 3);
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "AccessPermission",
                         RegValue::Binary("AccessPermission", truncated))
                   .valid);
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "AccessPermission",
                         RegValue::Binary("AccessPermission", {}))
                   .valid);
}

// R152: a descriptor stored as SDDL text (REG_SZ) is the wrong type.
TEST(InterpretSetting, DescriptorAsStringIsWrongType) {
  SettingValue v =
      Interpret(SettingScope::kMachine, "MachineLaunchRestriction",
                RegValue::String("MachineLaunchRestriction",
                                 "O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)"));
  EXPECT_TRUE(v.present);
  EXPECT_FALSE(v.valid);
  EXPECT_TRUE(Contains(v.problem, "REG_SZ")) << v.problem;
  EXPECT_TRUE(Contains(v.problem, "REG_BINARY")) << v.problem;
}

// The schema checks the descriptor's structure only; whether COM accepts
// it (R149, R150) is the policy resolver's check (R151).
TEST(InterpretSetting, DescriptorStructureOnly) {
  SettingValue mixed = Interpret(
      SettingScope::kAppId, "LaunchPermission",
      RegValue::Binary("LaunchPermission",
                       SdBytes("O:BAG:BAD:(A;;CC;;;BA)(A;;CCDCSW;;;SY)")));
  EXPECT_TRUE(mixed.valid) << mixed.problem;
  ASSERT_TRUE(mixed.sd.has_value());
  EXPECT_FALSE(security::IsValidComSecurityDescriptor(
      security::ValidateComSecurityDescriptor(*mixed.sd)));
}

// ==== kSddl (policy overrides, R165) ====

TEST(InterpretSetting, PolicySddlIsParsed) {
  const char* sddl = "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)";
  SettingValue v =
      Interpret(SettingScope::kPolicy, "MachineLaunchRestriction",
                RegValue::String("MachineLaunchRestriction", sddl));
  EXPECT_TRUE(v.valid) << v.problem;
  EXPECT_EQ(v.text, sddl);
  ASSERT_TRUE(v.sd.has_value());
  EXPECT_EQ(Canonical(*v.sd), sddl);
}

TEST(InterpretSetting, PolicySddlInvalidOrWrongType) {
  SettingValue bad =
      Interpret(SettingScope::kPolicy, "MachineAccessRestriction",
                RegValue::String("MachineAccessRestriction", "D:(A;;QQ;;;WD)"));
  EXPECT_TRUE(bad.present);
  EXPECT_FALSE(bad.valid);
  EXPECT_FALSE(bad.problem.empty());
  EXPECT_FALSE(Interpret(SettingScope::kPolicy, "MachineAccessRestriction",
                         RegValue::Binary("MachineAccessRestriction",
                                          SdBytes("O:BAG:BAD:(A;;CCDC;;;WD)")))
                   .valid);
}

// ==== kString, kGuidString, kMultiString ====

// R128: RunAs is text; REG_EXPAND_SZ reads as a string too.
TEST(InterpretSetting, Strings) {
  SettingValue runas = Interpret(SettingScope::kAppId, "RunAs",
                                 RegValue::String("RunAs", "Interactive User"));
  EXPECT_TRUE(runas.valid);
  EXPECT_EQ(runas.text, "Interactive User");
  SettingValue expand = Interpret(
      SettingScope::kAppId, "RemoteServerName",
      RegValue::String("RemoteServerName", "%HOST%", RegType::kExpandSz));
  EXPECT_TRUE(expand.valid);
  EXPECT_EQ(expand.text, "%HOST%");
  EXPECT_FALSE(
      Interpret(SettingScope::kAppId, "RunAs", RegValue::Dword("RunAs", 1))
          .valid);
}

// R159: a class's AppID value is a "{guid}" string.
TEST(InterpretSetting, GuidString) {
  SettingValue v = Interpret(SettingScope::kClsid, "AppID",
                             RegValue::String("AppID", kGuidRegistry));
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.text, kGuidRegistry);
  SettingValue bad = Interpret(SettingScope::kClsid, "AppID",
                               RegValue::String("AppID", "not-a-guid"));
  EXPECT_TRUE(bad.present);
  EXPECT_FALSE(bad.valid);
  EXPECT_TRUE(Contains(bad.problem, "not a GUID")) << bad.problem;
  EXPECT_FALSE(
      Interpret(SettingScope::kClsid, "AppID", RegValue::Dword("AppID", 1))
          .valid);
}

TEST(InterpretSetting, MultiString) {
  SettingValue v = Interpret(
      SettingScope::kAppId, "Endpoints",
      RegValue::MultiString("Endpoints", {"ncacn_ip_tcp,0,5000", "ncalrpc"}));
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.strings,
            (std::vector<std::string>{"ncacn_ip_tcp,0,5000", "ncalrpc"}));
  EXPECT_FALSE(Interpret(SettingScope::kAppId, "Endpoints",
                         RegValue::String("Endpoints", "ncalrpc"))
                   .valid);
}

// ==== EncodeSetting ====

TEST(EncodeSetting, DwordDecimalAndHex) {
  const SettingSpec& level =
      MustFind(SettingScope::kAppId, "AuthenticationLevel");
  auto dec = EncodeSetting(level, "5");
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(dec->name, "AuthenticationLevel");
  EXPECT_EQ(dec->type, RegType::kDword);
  EXPECT_EQ(*dec->AsDword(), 5u);
  auto hex = EncodeSetting(level, "0x6");
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(*hex->AsDword(), 6u);
  auto upper = EncodeSetting(level, "0X4");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper->AsDword(), 4u);
}

// Levels also take their Windows names, with or without the prefix.
TEST(EncodeSetting, LevelsByName) {
  const SettingSpec& authn = MustFind(SettingScope::kAppId, "AuthenticationLevel");
  EXPECT_EQ(*EncodeSetting(authn, "PKT_PRIVACY")->AsDword(), 6u);
  EXPECT_EQ(*EncodeSetting(authn, "rpc_c_authn_level_pkt_integrity")->AsDword(), 5u);
  auto bad = EncodeSetting(authn, "SECRET");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), E_INVALIDARG);
  EXPECT_TRUE(Contains(std::string(bad.status().message()), "is not an authentication level"))
      << bad.status().ToString();
  // DEFAULT is a name, but not a value the registry may hold (R163).
  auto def = EncodeSetting(authn, "DEFAULT");
  ASSERT_FALSE(def.ok());
  EXPECT_TRUE(Contains(std::string(def.status().message()), "outside 1..6"))
      << def.status().ToString();
  const SettingSpec& imp = MustFind(SettingScope::kMachine, "LegacyImpersonationLevel");
  EXPECT_EQ(imp.kind, SettingKind::kImpersonationLevel);
  EXPECT_EQ(*EncodeSetting(imp, "IMPERSONATE")->AsDword(), 3u);
  EXPECT_FALSE(EncodeSetting(imp, "PKT_PRIVACY").ok());
}

// R163: comcfg refuses to write a level COM would fail on.
TEST(EncodeSetting, DwordOutOfRangeIsRefused) {
  const SettingSpec& level =
      MustFind(SettingScope::kAppId, "AuthenticationLevel");
  for (const char* bad : {"0", "7", "0x7"}) {
    auto r = EncodeSetting(level, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), E_INVALIDARG) << bad;
    EXPECT_TRUE(Contains(std::string(r.status().message()), "outside 1..6"))
        << r.status().message();
  }
}

TEST(EncodeSetting, DwordOverflowNegativeAndJunkAreRefused) {
  const SettingSpec& flags = MustFind(SettingScope::kAppId, "LoadUserSettings");
  auto max = EncodeSetting(flags, "4294967295");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(*max->AsDword(), 0xFFFFFFFFu);
  EXPECT_EQ(*EncodeSetting(flags, "0xFFFFFFFF")->AsDword(), 0xFFFFFFFFu);
  for (const char* bad : {"4294967296", "0x100000000", "-1", "-0", "", "0x",
                          "abc", "5 ", " 5", "+5", "5x", "0x5g"}) {
    auto r = EncodeSetting(flags, bad);
    EXPECT_FALSE(r.ok()) << '"' << bad << '"';
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), E_INVALIDARG) << bad;
    }
  }
}

// R130: flags are checked against the defined bits.
TEST(EncodeSetting, FlagsWithUndefinedBitsAreRefused) {
  const SettingSpec& flags = MustFind(SettingScope::kAppId, "AppIDFlags");
  EXPECT_TRUE(EncodeSetting(flags, "0x4").ok());
  EXPECT_FALSE(EncodeSetting(flags, "0x8").ok());
}

// R120: EnableDCOM takes Y or N (either case) and nothing else.
TEST(EncodeSetting, YesNo) {
  const SettingSpec& dcom = MustFind(SettingScope::kMachine, "EnableDCOM");
  for (const char* ok : {"Y", "y", "N", "n"}) {
    auto r = EncodeSetting(dcom, ok);
    ASSERT_TRUE(r.ok()) << ok;
    EXPECT_EQ(r->type, RegType::kSz);
    EXPECT_EQ(*r->AsString(), ok);
    EXPECT_TRUE(InterpretSetting(dcom, &*r).valid);
  }
  for (const char* bad : {"yes", "no", "maybe", "", "1"}) {
    auto r = EncodeSetting(dcom, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
  }
}

// R152: SDDL input is stored as the self-relative binary.
TEST(EncodeSetting, SddlBecomesBinaryDescriptor) {
  const SettingSpec& access =
      MustFind(SettingScope::kAppId, "AccessPermission");
  auto r = EncodeSetting(access, "O:BAG:BAD:(A;;0x3;;;IU)(A;;0x3;;;SY)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "AccessPermission");
  EXPECT_EQ(r->type, RegType::kBinary);
  auto decoded = security::SecurityDescriptor::Decode(r->data);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Canonical(*decoded), "O:BAG:BAD:(A;;CCDC;;;IU)(A;;CCDC;;;SY)");
  SettingValue back = InterpretSetting(access, &*r);
  EXPECT_TRUE(back.valid);

  auto bad = EncodeSetting(access, "O:BAG:BAD:(A;;QQ;;;IU)");
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(bad.status().message().empty());
}

// R165: the policy override is stored as canonical SDDL text.
TEST(EncodeSetting, PolicySddlStaysText) {
  const SettingSpec& policy =
      MustFind(SettingScope::kPolicy, "MachineLaunchRestriction");
  auto r = EncodeSetting(policy, "O:BAG:BAD:(A;;0x1f;;;BA)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, RegType::kSz);
  EXPECT_EQ(*r->AsString(), "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)");
}

// R159: GUIDs are written as the registry writes them: upper case in
// braces, whatever form the user typed.
TEST(EncodeSetting, GuidIsNormalized) {
  const SettingSpec& appid = MustFind(SettingScope::kClsid, "AppID");
  for (const std::string& in :
       {std::string(kGuidLower), "{" + std::string(kGuidLower) + "}",
        std::string(kGuidRegistry)}) {
    auto r = EncodeSetting(appid, in);
    ASSERT_TRUE(r.ok()) << in;
    EXPECT_EQ(r->type, RegType::kSz);
    EXPECT_EQ(*r->AsString(), kGuidRegistry) << in;
  }
  for (const char* bad : {"not-a-guid", "{6a1b3c2d-0000-4e5f-8a9b-0c1d2e3f4a5b",
                          "6a1b3c2d00004e5f8a9b0c1d2e3f4a5b", ""}) {
    auto r = EncodeSetting(appid, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), E_INVALIDARG) << bad;
  }
}

TEST(EncodeSetting, StringsAndMultiStrings) {
  auto runas = EncodeSetting(MustFind(SettingScope::kAppId, "RunAs"),
                             "nt authority\\localservice");
  ASSERT_TRUE(runas.ok());
  EXPECT_EQ(*runas->AsString(), "nt authority\\localservice");
  auto endpoints = EncodeSetting(MustFind(SettingScope::kAppId, "Endpoints"),
                                 "ncalrpc;;ncacn_ip_tcp,0,5000;");
  ASSERT_TRUE(endpoints.ok());
  EXPECT_EQ(endpoints->type, RegType::kMultiSz);
  EXPECT_EQ(*endpoints->AsMultiString(),
            (std::vector<std::string>{"ncalrpc", "ncacn_ip_tcp,0,5000"}));
}

// ==== FindSetting and the table ====

TEST(FindSetting, IsCaseInsensitive) {
  const SettingSpec* exact =
      FindSetting(SettingScope::kAppId, "AuthenticationLevel");
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(FindSetting(SettingScope::kAppId, "authenticationlevel"), exact);
  EXPECT_EQ(FindSetting(SettingScope::kAppId, "AUTHENTICATIONLEVEL"), exact);
  EXPECT_EQ(FindSetting(SettingScope::kMachine, "enabledcom"),
            FindSetting(SettingScope::kMachine, "EnableDCOM"));
  EXPECT_NE(FindSetting(SettingScope::kHardening,
                        "requireintegrityactivationauthenticationlevel"),
            nullptr);
}

TEST(FindSetting, LooksOnlyInTheGivenScope) {
  // R162 vs R164: AuthenticationLevel is per AppID, the Legacy value is
  // machine-wide.
  EXPECT_EQ(FindSetting(SettingScope::kMachine, "AuthenticationLevel"),
            nullptr);
  EXPECT_EQ(FindSetting(SettingScope::kAppId, "LegacyAuthenticationLevel"),
            nullptr);
  // R165: the same name is a binary descriptor under Ole and SDDL under the
  // policy key.
  const SettingSpec* ole =
      FindSetting(SettingScope::kMachine, "MachineLaunchRestriction");
  const SettingSpec* policy =
      FindSetting(SettingScope::kPolicy, "MachineLaunchRestriction");
  ASSERT_NE(ole, nullptr);
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(ole->kind, SettingKind::kSecurityDescriptor);
  EXPECT_EQ(policy->kind, SettingKind::kSddl);
  EXPECT_EQ(FindSetting(SettingScope::kMachine, "EnableDCO"), nullptr);
  EXPECT_EQ(FindSetting(SettingScope::kMachine, "EnableDCOMX"), nullptr);
  EXPECT_EQ(FindSetting(SettingScope::kMachine, "AppID"), nullptr);
}

TEST(FindSetting, DefaultValueAndSubkeys) {
  const SettingSpec* name = FindSetting(SettingScope::kAppId, "");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->kind, SettingKind::kString);
  // Settings in a subkey are not found by their name alone.
  EXPECT_EQ(FindSetting(SettingScope::kClsid, "ThreadingModel"), nullptr);
  EXPECT_NE(
      FindInSubkey(SettingScope::kClsid, "InprocServer32", "ThreadingModel"),
      nullptr);
}

TEST(AllSettings, EveryReferenceValueIsKnown) {
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
        "DllSurrogateExecutable", "ActivateAtStorage", "Endpoints",
        "PreferredServerBitness"}) {
    EXPECT_NE(FindSetting(SettingScope::kAppId, name), nullptr) << name;
  }
  EXPECT_NE(FindSetting(SettingScope::kClsid, "AppID"), nullptr);
}

// The table's ranges, defaults and bad-value handling as the rules give
// them.
TEST(AllSettings, SpecsMatchTheRules) {
  const SettingSpec& authn =
      MustFind(SettingScope::kAppId, "AuthenticationLevel");
  EXPECT_EQ(authn.kind, SettingKind::kAuthenticationLevel);
  EXPECT_EQ(authn.min, 1u);  // R162
  EXPECT_EQ(authn.max, 6u);
  EXPECT_EQ(authn.on_bad, BadValuePolicy::kFailProcess);  // R163

  const SettingSpec& legacy =
      MustFind(SettingScope::kMachine, "LegacyAuthenticationLevel");
  EXPECT_EQ(legacy.min, 1u);  // R164
  EXPECT_EQ(legacy.max, 6u);
  EXPECT_STREQ(legacy.default_text, "2");  // R8, C8
  const SettingSpec& imp =
      MustFind(SettingScope::kMachine, "LegacyImpersonationLevel");
  EXPECT_EQ(imp.min, 1u);
  EXPECT_EQ(imp.max, 4u);
  EXPECT_STREQ(imp.default_text, "2");  // R19
  EXPECT_STREQ(MustFind(SettingScope::kMachine, "EnableDCOM").default_text,
               "Y");  // R164 decision
  EXPECT_STREQ(MustFind(SettingScope::kMachine, "ActivationFailureLoggingLevel")
                   .default_text,
               "0");  // R136
  EXPECT_STREQ(
      MustFind(SettingScope::kMachine, "CallFailureLoggingLevel").default_text,
      "2");  // R146, C4
  EXPECT_STREQ(
      MustFind(SettingScope::kMachine, "InvalidSecurityDescriptorLoggingLevel")
          .default_text,
      "1");  // R151

  for (const SettingSpec& s : AllSettings()) {
    ASSERT_NE(s.name, nullptr);
    ASSERT_NE(s.subkey, nullptr);
    EXPECT_NE(s.rule, nullptr) << s.name;
    EXPECT_NE(s.meaning, nullptr) << s.name;
    if (s.kind == SettingKind::kDword) {
      EXPECT_LE(s.min, s.max) << s.name;
    }
    // R151: every descriptor setting fails closed.
    if (s.kind == SettingKind::kSecurityDescriptor ||
        s.kind == SettingKind::kSddl) {
      EXPECT_EQ(s.on_bad, BadValuePolicy::kFailClosed) << s.name;
    }
    // R163: only AuthenticationLevel makes the process fail.
    if (s.on_bad == BadValuePolicy::kFailProcess) {
      EXPECT_EQ(&s, &authn) << s.name;
    }
  }
}

// ==== Built-in descriptors ====

// The allow mask a descriptor's DACL gives `sid`, or 0.
uint32_t AllowMask(const security::SecurityDescriptor& sd,
                   const security::Sid& sid) {
  if (!sd.dacl) return 0;
  for (const security::Ace& ace : sd.dacl->aces) {
    if (ace.IsAllow() && ace.sid == sid) return ace.mask;
  }
  return 0;
}

// Every built-in SDDL parses, is canonical, and is a valid COM descriptor
// with owner, group and a DACL (no problem at all, not even a warning).
TEST(BuiltinDescriptors, ParseAndAreValidForCom) {
  for (const char* sddl :
       {kBuiltinLaunchPermission, kBuiltinAccessPermission,
        kDefaultMachineLaunchRestriction, kDefaultMachineAccessRestriction}) {
    auto sd = security::ParseSddl(sddl);
    ASSERT_TRUE(sd.ok()) << sddl << ": " << sd.status().ToString();
    EXPECT_EQ(Canonical(*sd), sddl);
    auto problems = security::ValidateComSecurityDescriptor(*sd);
    EXPECT_TRUE(security::IsValidComSecurityDescriptor(problems)) << sddl;
    for (const auto& p : problems) ADD_FAILURE() << sddl << ": " << p.message;
    EXPECT_TRUE(sd->owner.has_value());
    EXPECT_TRUE(sd->group.has_value());
    ASSERT_TRUE(sd->dacl.has_value());
  }
}

// R114: Administrators, SYSTEM and INTERACTIVE may launch and activate,
// locally and remotely.
TEST(BuiltinDescriptors, LaunchPermissionGrantsBaSyIu) {
  namespace wk = security::well_known;
  auto sd = security::ParseSddl(kBuiltinLaunchPermission);
  ASSERT_TRUE(sd.ok());
  ASSERT_TRUE(sd->dacl.has_value());
  EXPECT_EQ(sd->dacl->aces.size(), 3u);
  for (const security::Sid* sid :
       {&wk::BuiltinAdministrators(), &wk::LocalSystem(), &wk::Interactive()}) {
    EXPECT_EQ(AllowMask(*sd, *sid), security::kComRightsAll) << sid->ToString();
  }
}

// R144 with C2: SELF, SYSTEM and Administrators may call, locally and
// remotely.
TEST(BuiltinDescriptors, AccessPermissionGrantsSelfSyBa) {
  namespace wk = security::well_known;
  auto sd = security::ParseSddl(kBuiltinAccessPermission);
  ASSERT_TRUE(sd.ok());
  ASSERT_TRUE(sd->dacl.has_value());
  EXPECT_EQ(sd->dacl->aces.size(), 3u);
  const uint32_t call =
      COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL | COM_RIGHTS_EXECUTE_REMOTE;
  for (const security::Sid* sid : {&wk::PrincipalSelf(), &wk::LocalSystem(),
                                   &wk::BuiltinAdministrators()}) {
    EXPECT_EQ(AllowMask(*sd, *sid), call) << sid->ToString();
  }
}

// R175 with C3: Administrators LL LA RL RA; Everyone LL LA.
TEST(BuiltinDescriptors, MachineLaunchRestrictionIsXpSp2Default) {
  namespace wk = security::well_known;
  auto sd = security::ParseSddl(kDefaultMachineLaunchRestriction);
  ASSERT_TRUE(sd.ok());
  ASSERT_TRUE(sd->dacl.has_value());
  EXPECT_EQ(sd->dacl->aces.size(), 2u);
  EXPECT_EQ(AllowMask(*sd, wk::BuiltinAdministrators()),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL |
                COM_RIGHTS_EXECUTE_REMOTE | COM_RIGHTS_ACTIVATE_LOCAL |
                COM_RIGHTS_ACTIVATE_REMOTE);
  EXPECT_EQ(AllowMask(*sd, wk::Everyone()), COM_RIGHTS_EXECUTE |
                                                COM_RIGHTS_EXECUTE_LOCAL |
                                                COM_RIGHTS_ACTIVATE_LOCAL);
}

// R175: Everyone LC RC; Anonymous LC only.
TEST(BuiltinDescriptors, MachineAccessRestrictionIsXpSp2Default) {
  namespace wk = security::well_known;
  auto sd = security::ParseSddl(kDefaultMachineAccessRestriction);
  ASSERT_TRUE(sd.ok());
  ASSERT_TRUE(sd->dacl.has_value());
  EXPECT_EQ(sd->dacl->aces.size(), 2u);
  EXPECT_EQ(AllowMask(*sd, wk::Everyone()), COM_RIGHTS_EXECUTE |
                                                COM_RIGHTS_EXECUTE_LOCAL |
                                                COM_RIGHTS_EXECUTE_REMOTE);
  EXPECT_EQ(AllowMask(*sd, wk::Anonymous()),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL);
}

// ==== Key paths (R159, R162, R164, R165) ====

TEST(KeyPaths, FixedKeys) {
  EXPECT_EQ(OleKeyPath().ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole");
  EXPECT_EQ(HardeningKeyPath().ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole\\AppCompat");
  EXPECT_EQ(
      PolicyKeyPath().ToString(),
      "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\DCOM");
}

TEST(KeyPaths, AppIdAndClsidKeysUseRegistryGuidForm) {
  Guid g = *Guid::Parse(kGuidLower);
  EXPECT_EQ(AppIdKeyPath(g).ToString(),
            std::string("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\") +
                kGuidRegistry);
  EXPECT_EQ(ClsidKeyPath(g).ToString(),
            std::string("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\CLSID\\") +
                kGuidRegistry);
}

TEST(KeyPaths, SettingKeyPathPerScope) {
  Guid g = *Guid::Parse(kGuidLower);
  EXPECT_EQ(
      SettingKeyPath(MustFind(SettingScope::kMachine, "EnableDCOM")).ToString(),
      "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole");
  EXPECT_EQ(
      SettingKeyPath(MustFind(SettingScope::kHardening,
                              "RequireIntegrityActivationAuthenticationLevel"))
          .ToString(),
      "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole\\AppCompat");
  EXPECT_EQ(
      SettingKeyPath(
          MustFind(SettingScope::kPolicy, "MachineAccessRestriction"))
          .ToString(),
      "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\DCOM");
  EXPECT_EQ(
      SettingKeyPath(MustFind(SettingScope::kAppId, "LaunchPermission"), &g)
          .ToString(),
      std::string("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\") +
          kGuidRegistry);
  // Without an id, the nil GUID stands in.
  EXPECT_EQ(SettingKeyPath(MustFind(SettingScope::kAppId, "LaunchPermission"))
                .ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\"
            "{00000000-0000-0000-0000-000000000000}");
  EXPECT_EQ(
      SettingKeyPath(MustFind(SettingScope::kClsid, "AppID"), &g).ToString(),
      std::string("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\CLSID\\") +
          kGuidRegistry);
}

TEST(KeyPaths, SettingKeyPathWithSubkey) {
  Guid g = *Guid::Parse(kGuidLower);
  const std::string clsid =
      std::string("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\CLSID\\") +
      kGuidRegistry;
  const SettingSpec* local =
      FindInSubkey(SettingScope::kClsid, "LocalServer32", "");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(SettingKeyPath(*local, &g).ToString(), clsid + "\\LocalServer32");
  const SettingSpec* threading =
      FindInSubkey(SettingScope::kClsid, "InprocServer32", "ThreadingModel");
  ASSERT_NE(threading, nullptr);
  EXPECT_EQ(SettingKeyPath(*threading, &g).ToString(),
            clsid + "\\InprocServer32");
  const SettingSpec* elevation =
      FindInSubkey(SettingScope::kClsid, "Elevation", "Enabled");
  ASSERT_NE(elevation, nullptr);
  EXPECT_EQ(SettingKeyPath(*elevation, &g).ToString(), clsid + "\\Elevation");
}

}  // namespace
}  // namespace comsec::config
