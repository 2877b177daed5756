// Decisions for launch, activation and calls: the order of R186/R187 (C11),
// the rights each needs, and remedies.
#include "config/explain.h"

#include <gtest/gtest.h>

#include "config/com_schema.h"
#include "security/com_rights.h"
#include "security/sddl.h"
#include "security/well_known_sids.h"

namespace comsec::config {
namespace {

using security::LogonKind;
using security::Sid;
using security::Token;

const Guid kAppId = *Guid::Parse("{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}");
const Sid kUser(5, {21, 1, 2, 3, 1001});

DescriptorSetting Descriptor(const char* sddl, PolicySource source) {
  DescriptorSetting d;
  d.source = source;
  d.origin = sddl;
  d.sd = *security::ParseSddl(sddl);
  return d;
}

// The defaults of a machine after `comcfg init`, for one AppID.
EffectivePolicy Defaults() {
  EffectivePolicy p;
  p.appid = kAppId;
  p.appid_registered = true;
  p.authn_level = {RPC_C_AUTHN_LEVEL_CONNECT, PolicySource::kMachineDefault, "Legacy"};
  p.imp_level = {RPC_C_IMP_LEVEL_IDENTIFY, PolicySource::kMachineDefault, "Legacy"};
  p.launch = Descriptor(kBuiltinLaunchPermission, PolicySource::kMachineDefault);
  p.access = Descriptor(kBuiltinAccessPermission, PolicySource::kBuiltIn);
  p.machine_launch_limit =
      Descriptor(kDefaultMachineLaunchRestriction, PolicySource::kMachine);
  p.machine_access_limit =
      Descriptor(kDefaultMachineAccessRestriction, PolicySource::kMachine);
  return p;
}

Token User(LogonKind logon) { return Token::ForAuthenticatedUser(kUser, {}, logon); }
Token Admin(LogonKind logon) {
  const Sid g[] = {security::well_known::BuiltinAdministrators()};
  return Token::ForAuthenticatedUser(kUser, g, logon);
}

Decision Ask(const EffectivePolicy& p, Operation op, const Token& t, bool remote,
             uint32_t level = 6) {
  AccessRequest r;
  r.operation = op;
  r.token = &t;
  r.remote = remote;
  r.authn_level = level;
  r.principal = "S-1-5-21-1-2-3-1001";
  return Decide(p, r);
}

const CheckStep* Step(const Decision& d, const std::string& name) {
  for (const CheckStep& s : d.steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// R116, R186.5 (a launch needs launch and activation rights), R187.2.
TEST(Decide, RequiredRights) {
  using namespace security;
  EXPECT_EQ(RequiredRights(Operation::kLaunch, false),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL | COM_RIGHTS_ACTIVATE_LOCAL);
  EXPECT_EQ(RequiredRights(Operation::kLaunch, true),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE | COM_RIGHTS_ACTIVATE_REMOTE);
  EXPECT_EQ(RequiredRights(Operation::kActivate, true),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_ACTIVATE_REMOTE);
  EXPECT_EQ(RequiredRights(Operation::kAccess, false),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL);
}

// R120: remote requests are refused when DCOM is off; local ones are not.
TEST(Decide, EnableDcomOffRefusesRemoteOnly) {
  EffectivePolicy p = Defaults();
  p.enable_dcom = false;
  Decision remote = Ask(p, Operation::kActivate, Admin(LogonKind::kNetwork), true);
  EXPECT_FALSE(remote.allowed);
  EXPECT_EQ(remote.hr, E_ACCESSDENIED);
  EXPECT_EQ(remote.remedy, "comcfg machine set EnableDCOM Y");
  EXPECT_TRUE(Ask(p, Operation::kActivate, Admin(LogonKind::kLocal), false).allowed);
}

// R163: a server whose security cannot initialize cannot be reached.
TEST(Decide, ProcessFailureIsServerExecFailure) {
  EffectivePolicy p = Defaults();
  p.process_fails = true;
  p.process_failure = "bad AuthenticationLevel";
  Decision d = Ask(p, Operation::kAccess, Admin(LogonKind::kLocal), false);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.hr.value(), 0x80080005u);  // CO_E_SERVER_EXEC_FAILURE
}

// R7, R140: calls below the server's level are refused.
TEST(Decide, CallBelowTheProcessLevelIsRefused) {
  EffectivePolicy p = Defaults();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;WD)", PolicySource::kAppId);
  p.authn_level.value = RPC_C_AUTHN_LEVEL_PKT_INTEGRITY;
  Token t = User(LogonKind::kNetwork);
  Decision low = Ask(p, Operation::kAccess, t, true, RPC_C_AUTHN_LEVEL_CONNECT);
  EXPECT_FALSE(low.allowed);
  EXPECT_FALSE(Step(low, "authentication level")->passed);
  EXPECT_TRUE(Ask(p, Operation::kAccess, t, true, 5).allowed);
  EXPECT_TRUE(Ask(p, Operation::kAccess, t, true, 6).allowed);
}

// DCOM hardening: activations below PKT_INTEGRITY are refused.
TEST(Decide, HardenedActivationFloor) {
  EffectivePolicy p = Defaults();
  Token admin = Admin(LogonKind::kNetwork);
  EXPECT_FALSE(Ask(p, Operation::kActivate, admin, true, 2).allowed);
  EXPECT_TRUE(Ask(p, Operation::kActivate, admin, true, 5).allowed);
  Decision unknown = Ask(p, Operation::kActivate, admin, true, 0);
  EXPECT_TRUE(unknown.allowed);
  EXPECT_FALSE(Step(unknown, "authentication level")->evaluated);
  p.min_activation_authn_level = 0;
  EXPECT_TRUE(Ask(p, Operation::kActivate, admin, true, 2).allowed);
}

// R119, R175: only administrators may launch remotely by default; the
// machine restriction is checked first and both checks are shown (C11).
TEST(Decide, MachineRestrictionFirstAndBothShown) {
  EffectivePolicy p = Defaults();
  Decision d = Ask(p, Operation::kLaunch, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  ASSERT_GE(d.steps.size(), 2u);
  EXPECT_EQ(d.steps[d.steps.size() - 2].name, "machine launch restriction");
  EXPECT_FALSE(d.steps[d.steps.size() - 2].passed);
  EXPECT_EQ(d.steps.back().name, "launch permission");
  EXPECT_NE(d.summary.find("machine-wide launch restriction"), std::string::npos);
  EXPECT_NE(d.remedy.find("comcfg perms grant machine-launch-limit"),
            std::string::npos) << d.remedy;
  EXPECT_NE(d.remedy.find("comcfg perms grant launch --appid " +
                          kAppId.ToRegistryString()),
            std::string::npos) << d.remedy;
  EXPECT_TRUE(Ask(p, Operation::kLaunch, Admin(LogonKind::kNetwork), true).allowed);
}

// R186.5: a launch needs the activation right too.
TEST(Decide, LaunchNeedsActivationRight) {
  EffectivePolicy p = Defaults();
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDC;;;WD)", PolicySource::kAppId);
  Token t = User(LogonKind::kLocal);
  Decision d = Ask(p, Operation::kLaunch, t, false);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(Step(d, "launch permission")->granted,
            security::COM_RIGHTS_EXECUTE | security::COM_RIGHTS_EXECUTE_LOCAL);
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDCSW;;;WD)", PolicySource::kAppId);
  EXPECT_TRUE(Ask(p, Operation::kLaunch, t, false).allowed);
}

// R118: an old-format ACE grants every right.
TEST(Decide, LegacyAclGrantsEverything) {
  EffectivePolicy p = Defaults();
  p.machine_launch_limit = Descriptor("O:BAG:BAD:(A;;CC;;;WD)", PolicySource::kMachine);
  p.launch = Descriptor("O:BAG:BAD:(A;;CC;;;AU)", PolicySource::kAppId);
  EXPECT_TRUE(Ask(p, Operation::kLaunch, User(LogonKind::kNetwork), true).allowed);
}

// R139, R175: anonymous callers may not call remotely by default.
TEST(Decide, AnonymousRemoteCallRefused) {
  EffectivePolicy p = Defaults();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDCLC;;;AN)", PolicySource::kAppId);
  Token anon = Token::Anonymous(LogonKind::kNetwork, false);
  Decision d = Ask(p, Operation::kAccess, anon, true, 2);
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(Step(d, "machine access restriction")->passed);
  EXPECT_TRUE(Step(d, "access permission")->passed);
  Token anon_local = Token::Anonymous(LogonKind::kLocal, false);
  EXPECT_TRUE(Ask(p, Operation::kAccess, anon_local, false, 2).allowed);
}

// R124, R186.3-4: an unauthenticated activation is checked as ANONYMOUS.
TEST(Decide, UnauthenticatedActivationIsAnonymous) {
  EffectivePolicy p = Defaults();
  p.machine_launch_limit = Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)(A;;CCDCLCSWRP;;;AN)",
                                      PolicySource::kMachine);
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)", PolicySource::kAppId);
  Decision d = Ask(p, Operation::kActivate, Admin(LogonKind::kNetwork), true,
                   RPC_C_AUTHN_LEVEL_NONE);
  EXPECT_FALSE(d.allowed) << "the admin's token is not used unauthenticated";
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;AN)", PolicySource::kAppId);
  EXPECT_TRUE(Ask(p, Operation::kActivate, User(LogonKind::kNetwork), true,
                  RPC_C_AUTHN_LEVEL_NONE)
                  .allowed);
}

// R151: an invalid descriptor grants nothing.
TEST(Decide, InvalidDescriptorGrantsNothing) {
  EffectivePolicy p = Defaults();
  p.access = DescriptorSetting{};
  p.access.source = PolicySource::kAppId;
  p.access.origin = "AccessPermission";
  p.access.invalid = true;
  p.access.problem = "truncated";
  Decision d = Ask(p, Operation::kAccess, Admin(LogonKind::kLocal), false);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(Step(d, "access permission")->detail.find("R151"), std::string::npos);
}

// R66, R141: "everyone" settings pass without a check.
TEST(Decide, EveryoneSettingsPass) {
  EffectivePolicy p = Defaults();
  p.access = DescriptorSetting{};
  p.access.everyone = true;
  p.access.origin = "CoInitializeSecurity pSecDesc = NULL";
  EXPECT_TRUE(Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true, 2).allowed);
}

// A deny ACE is named, with its SDDL, and the remedy revokes it.
TEST(Decide, DenyAceIsNamedAndRevoked) {
  EffectivePolicy p = Defaults();
  p.access = Descriptor("O:BAG:BAD:(D;;CCDCLC;;;NU)(A;;CCDCLC;;;WD)", PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true, 6);
  EXPECT_FALSE(d.allowed);
  const CheckStep* s = Step(d, "access permission");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ace, 0u);
  EXPECT_EQ(s->ace_sddl, "(D;;CCDCLC;;;NU)");
  EXPECT_NE(d.remedy.find("comcfg perms revoke access"), std::string::npos) << d.remedy;
  EXPECT_NE(d.remedy.find("--principal NU --deny"), std::string::npos) << d.remedy;
}

// A process descriptor cannot be changed from the registry.
TEST(Decide, ProcessDescriptorRemedyPointsAtTheCode) {
  EffectivePolicy p = Defaults();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;SY)", PolicySource::kProcess);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kLocal), false, 6);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.remedy.find("CoInitializeSecurity"), std::string::npos);
}

}  // namespace
}  // namespace comsec::config
