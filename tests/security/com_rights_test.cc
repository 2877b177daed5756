// COM's rights and its view of descriptors (access-control-lists-for-com.md,
// R115–R118, R148–R151, R175).
#include "comsec/security/com_rights.h"

#include <gtest/gtest.h>

#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

const Sid kUser(5, {21, 1, 2, 3, 1001});

Token User(LogonKind logon) { return Token::ForAuthenticatedUser(kUser, {}, logon); }
Token Admin(LogonKind logon) {
  const Sid groups[] = {well_known::BuiltinAdministrators()};
  return Token::ForAuthenticatedUser(kUser, groups, logon);
}

bool Allowed(const char* sddl, const Token& t, uint32_t rights) {
  return ComAccessCheck(*ParseSddl(sddl), t, rights).allowed;
}

constexpr uint32_t kRemoteLaunch = COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE;
constexpr uint32_t kLocalLaunch = COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL;
constexpr uint32_t kRemoteActivate = COM_RIGHTS_EXECUTE | COM_RIGHTS_ACTIVATE_REMOTE;
constexpr uint32_t kLocalActivate = COM_RIGHTS_EXECUTE | COM_RIGHTS_ACTIVATE_LOCAL;

// R118: an old-format ACE (only EXECUTE) allows every right...
TEST(ComRights, LegacyAllowGrantsEverything) {
  const char* legacy = "D:(A;;CC;;;WD)";
  Token t = User(LogonKind::kNetwork);
  EXPECT_TRUE(Allowed(legacy, t, kRemoteLaunch));
  EXPECT_TRUE(Allowed(legacy, t, kRemoteActivate | kRemoteLaunch));
  EXPECT_TRUE(Allowed(legacy, t, kLocalActivate));
}

// ...and an old-format deny denies every right.
TEST(ComRights, LegacyDenyDeniesEverything) {
  auto r = ComAccessCheck(*ParseSddl("D:(D;;CC;;;WD)(A;;CCDCLCSWRP;;;WD)"),
                          User(LogonKind::kNetwork), kRemoteLaunch);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.deciding_ace, 0u);
}

// Generic rights read as old-format ACEs.
TEST(ComRights, GenericAllReadsAsLegacy) {
  EXPECT_TRUE(Allowed("D:(A;;GA;;;WD)", User(LogonKind::kNetwork),
                      kRemoteActivate));
}

// R116: 0xb = local launch + local activation.
TEST(ComRights, NewFormatSeparatesLocalAndRemote) {
  const char* sd = "O:BAG:BAD:(A;;0xb;;;WD)";
  EXPECT_TRUE(Allowed(sd, User(LogonKind::kLocal), kLocalLaunch));
  EXPECT_TRUE(Allowed(sd, User(LogonKind::kLocal), kLocalActivate));
  EXPECT_FALSE(Allowed(sd, User(LogonKind::kNetwork), kRemoteLaunch));
  EXPECT_FALSE(Allowed(sd, User(LogonKind::kNetwork), kRemoteActivate));
}

// R175, XP SP2 MachineLaunchRestriction.
TEST(ComRights, DefaultMachineLaunchRestriction) {
  const char* sd = "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)";
  EXPECT_TRUE(Allowed(sd, Admin(LogonKind::kNetwork), kRemoteActivate));
  EXPECT_TRUE(Allowed(sd, Admin(LogonKind::kNetwork), kRemoteLaunch));
  EXPECT_FALSE(Allowed(sd, User(LogonKind::kNetwork), kRemoteActivate));
  EXPECT_FALSE(Allowed(sd, User(LogonKind::kNetwork), kRemoteLaunch));
  EXPECT_TRUE(Allowed(sd, User(LogonKind::kLocal), kLocalLaunch | kLocalActivate));
}

// R175, XP SP2 MachineAccessRestriction: anonymous may call only locally.
TEST(ComRights, DefaultMachineAccessRestriction) {
  const char* sd = "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDC;;;AN)";
  Token anon_remote = Token::Anonymous(LogonKind::kNetwork, false);
  Token anon_local = Token::Anonymous(LogonKind::kLocal, false);
  EXPECT_FALSE(Allowed(sd, anon_remote, kRemoteLaunch));
  EXPECT_TRUE(Allowed(sd, anon_local, kLocalLaunch));
  EXPECT_TRUE(Allowed(sd, User(LogonKind::kNetwork), kRemoteLaunch));
}

TEST(ComRights, ParseAndFormat) {
  EXPECT_EQ(*ParseComRights("execute,execute_remote"), 0x5u);
  EXPECT_EQ(*ParseComRights("EXECUTE, activate_local activate_remote"), 0x19u);
  EXPECT_EQ(*ParseComRights("0x1f"), 0x1fu);
  EXPECT_EQ(*ParseComRights("3"), 0x3u);
  EXPECT_FALSE(ParseComRights("").ok());
  EXPECT_FALSE(ParseComRights(" , ").ok());
  auto bad = ParseComRights("execute,launch");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().position(), 8u);
  EXPECT_FALSE(ParseComRights("0x100000000").ok());
  EXPECT_EQ(FormatComRights(0x5), "execute, execute_remote");
  EXPECT_EQ(FormatComRights(0x21), "execute, 0x20");
  EXPECT_EQ(FormatComRights(0), "none");
}

bool HasError(const std::vector<ComSdProblem>& problems, const char* rule) {
  for (const auto& p : problems) {
    if (p.severity == ComSdProblem::Severity::kError && p.rule == rule) return true;
  }
  return false;
}

// access-control-lists-for-com.md's incorrectly formatted ACL (R150).
TEST(ComValidation, MixedFormatsAreInvalid) {
  auto sd = ParseSddl(
      "O:S-1-5-21-1597522630-148096252-1166023319-500"
      "G:S-1-5-21-1597522630-148096252-1166023319-500"
      "D:(A;;0x1;;;S-1-5-21-1597522630-148096252-1166023319-500)"
      "(A;;0xb;;;SY)(A;;0x9;;;AU)");
  auto problems = ValidateComSecurityDescriptor(*sd);
  EXPECT_FALSE(IsValidComSecurityDescriptor(problems));
  EXPECT_TRUE(HasError(problems, "R118"));
}

// R149: every ACE must hold COM_RIGHTS_EXECUTE.
TEST(ComValidation, AceWithoutExecuteIsInvalid) {
  auto problems = ValidateComSecurityDescriptor(*ParseSddl("O:BAG:BAD:(A;;DC;;;WD)"));
  EXPECT_FALSE(IsValidComSecurityDescriptor(problems));
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].ace, 0u);
}

TEST(ComValidation, ValidDescriptorsPass) {
  for (const char* sddl :
       {"O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)",
        "O:BAG:BAD:(A;;CC;;;BA)(A;;CC;;;WD)", "O:BAG:BAD:(A;;0xb;;;WD)S:(ML;;NX;;;LW)"}) {
    auto problems = ValidateComSecurityDescriptor(*ParseSddl(sddl));
    EXPECT_TRUE(IsValidComSecurityDescriptor(problems)) << sddl;
    EXPECT_TRUE(problems.empty()) << sddl;
  }
}

// C6: only mandatory labels in the SACL.
TEST(ComValidation, SaclWithAuditIsInvalid) {
  auto problems = ValidateComSecurityDescriptor(
      *ParseSddl("O:BAG:BAD:(A;;CCDC;;;WD)S:(AU;SA;CC;;;WD)"));
  EXPECT_TRUE(HasError(problems, "C6"));
}

TEST(ComValidation, NullDaclIsOnlyAWarning) {
  auto problems = ValidateComSecurityDescriptor(*ParseSddl("O:BAG:BAD:NO_ACCESS_CONTROL"));
  EXPECT_TRUE(IsValidComSecurityDescriptor(problems));
  EXPECT_FALSE(problems.empty());
}

}  // namespace
}  // namespace comsec::security
