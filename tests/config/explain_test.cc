// Decisions for launch, activation and calls (config/explain.h): the order
// of checks of R186/R187 (C11), the rights each operation needs, and the
// remedies. Policies are built directly, or resolved from a real Store for
// the "nothing configured" machine; callers are real security::Token values.
#include "comsec/config/explain.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "comsec/config/com_schema.h"
#include "comsec/config/store.h"
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
using security::LogonKind;
using security::Sid;
using security::Token;


const Guid kAppId = *Guid::Parse("{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}");
const Sid kUser(5, {21, 1, 2, 3, 1001});
constexpr char kPrincipal[] = "S-1-5-21-1-2-3-1001";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

DescriptorSetting Descriptor(const char* sddl, PolicySource source,
                             const char* origin = "test descriptor") {
  DescriptorSetting d;
  d.source = source;
  d.origin = origin;
  auto sd = security::ParseSddl(sddl);
  if (!sd.ok()) {
    ADD_FAILURE() << sddl << ": " << sd.status().ToString();
    d.invalid = true;
    d.problem = "test SDDL did not parse";
    return d;
  }
  d.sd = *sd;
  return d;
}

DescriptorSetting Everyone(PolicySource source, const char* origin) {
  DescriptorSetting d;
  d.source = source;
  d.origin = origin;
  d.everyone = true;
  return d;
}

// A machine after `comcfg init` (the restrictions written to Ole, so their
// source is kMachine), with one registered AppID that sets nothing itself.
EffectivePolicy InitializedMachine() {
  EffectivePolicy p;
  p.appid = kAppId;
  p.appid_registered = true;
  p.authn_level = {AuthnLevel::kConnect, PolicySource::kMachineDefault,
                   "Ole\\LegacyAuthenticationLevel"};
  p.imp_level = {ImpLevel::kIdentify, PolicySource::kMachineDefault,
                 "Ole\\LegacyImpersonationLevel"};
  p.launch = Descriptor(kBuiltinLaunchPermission, PolicySource::kMachineDefault,
                        "Ole\\DefaultLaunchPermission");
  p.access = Descriptor(kBuiltinAccessPermission, PolicySource::kBuiltIn,
                        "built-in access permission");
  p.machine_launch_limit =
      Descriptor(kDefaultMachineLaunchRestriction, PolicySource::kMachine,
                 "Ole\\MachineLaunchRestriction");
  p.machine_access_limit =
      Descriptor(kDefaultMachineAccessRestriction, PolicySource::kMachine,
                 "Ole\\MachineAccessRestriction");
  return p;
}

// The policy ResolveEffectivePolicy gives on a machine where nothing at all
// is configured: an empty Store in a temporary directory.
std::optional<EffectivePolicy> NothingConfigured() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "comsec-explain-XXXXXX")
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl;
    return std::nullopt;
  }
  std::optional<EffectivePolicy> out;
  {
    auto store = Store::Open(tmpl + "/comsec.db");
    if (!store.ok()) {
      ADD_FAILURE() << store.status().ToString();
    } else {
      auto tx = (*store)->BeginRead();
      if (!tx.ok()) {
        ADD_FAILURE() << tx.status().ToString();
      } else {
        auto p = ResolveEffectivePolicy(**tx, kAppId, nullptr);
        if (!p.ok()) {
          ADD_FAILURE() << p.status().ToString();
        } else {
          out = *p;
        }
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return out;
}

Token User(LogonKind logon) {
  return Token::ForAuthenticatedUser(kUser, {}, logon);
}
Token Admin(LogonKind logon) {
  const Sid groups[] = {security::well_known::BuiltinAdministrators()};
  return Token::ForAuthenticatedUser(kUser, groups, logon);
}

Decision Ask(const EffectivePolicy& p, Operation op, const Token& token,
             bool remote, AuthnLevel level = AuthnLevel::kPktPrivacy) {
  AccessRequest r;
  r.operation = op;
  r.token = &token;
  r.remote = remote;
  r.authn_level = level;
  r.principal = kPrincipal;
  return Decide(p, r);
}

const CheckStep* Step(const Decision& d, const std::string& name) {
  for (const CheckStep& s : d.steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The step called `name`; a failure (and an empty step) when absent, so a
// missing step cannot crash the suite.
const CheckStep& MustStep(const Decision& d, const std::string& name) {
  static const CheckStep kMissing{};
  const CheckStep* s = Step(d, name);
  if (s == nullptr) {
    ADD_FAILURE() << "no step \"" << name << "\"";
    return kMissing;
  }
  return *s;
}

// The index of a step, or -1.
int StepIndex(const Decision& d, const std::string& name) {
  for (size_t i = 0; i < d.steps.size(); ++i) {
    if (d.steps[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// ==== RequiredRights (R116, R186.5, R187.2) ====

TEST(RequiredRights, LaunchNeedsLaunchAndActivationRights) {
  // R186.5 decision: a launch needs the launch and the activation right.
  EXPECT_EQ(RequiredRights(Operation::kLaunch, false),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL |
                COM_RIGHTS_ACTIVATE_LOCAL);
  EXPECT_EQ(RequiredRights(Operation::kLaunch, false), 0xBu);
  EXPECT_EQ(RequiredRights(Operation::kLaunch, true),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE |
                COM_RIGHTS_ACTIVATE_REMOTE);
  EXPECT_EQ(RequiredRights(Operation::kLaunch, true), 0x15u);
}

TEST(RequiredRights, ActivateNeedsActivationRight) {
  EXPECT_EQ(RequiredRights(Operation::kActivate, false),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_ACTIVATE_LOCAL);
  EXPECT_EQ(RequiredRights(Operation::kActivate, false), 0x9u);
  EXPECT_EQ(RequiredRights(Operation::kActivate, true),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_ACTIVATE_REMOTE);
  EXPECT_EQ(RequiredRights(Operation::kActivate, true), 0x11u);
}

TEST(RequiredRights, AccessNeedsCallRight) {
  // R116: in an access ACL, EXECUTE_LOCAL is local call and EXECUTE_REMOTE
  // remote call (0x3 is "local call").
  EXPECT_EQ(RequiredRights(Operation::kAccess, false),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL);
  EXPECT_EQ(RequiredRights(Operation::kAccess, false), 0x3u);
  EXPECT_EQ(RequiredRights(Operation::kAccess, true),
            COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE);
  EXPECT_EQ(RequiredRights(Operation::kAccess, true), 0x5u);
}

TEST(OperationName, Names) {
  EXPECT_STREQ(OperationName(Operation::kLaunch), "launch");
  EXPECT_STREQ(OperationName(Operation::kActivate), "activate");
  EXPECT_STREQ(OperationName(Operation::kAccess), "access");
}

// ==== EnableDCOM (R120, R186.2) ====

// R120: with EnableDCOM = N every remote request is refused, even an
// administrator's, and the remedy turns DCOM back on.
TEST(Decide, R120RemoteRefusedWhenDcomDisabled) {
  EffectivePolicy p = InitializedMachine();
  p.enable_dcom = false;
  p.enable_dcom_source = PolicySource::kMachine;
  for (Operation op :
       {Operation::kLaunch, Operation::kActivate, Operation::kAccess}) {
    Decision d = Ask(p, op, Admin(LogonKind::kNetwork), true);
    EXPECT_FALSE(d.allowed) << OperationName(op);
    EXPECT_EQ(d.hr, E_ACCESSDENIED) << OperationName(op);
    EXPECT_EQ(d.remedy, "comcfg machine set EnableDCOM Y");
    ASSERT_EQ(d.steps.size(), 1u);
    EXPECT_EQ(d.steps[0].name, "distributed COM enabled");
    EXPECT_FALSE(d.steps[0].passed);
    EXPECT_TRUE(Contains(d.summary, "R120")) << d.summary;
  }
}

// R120: turning DCOM off does not affect local COM.
TEST(Decide, R120LocalUnaffectedWhenDcomDisabled) {
  EffectivePolicy p = InitializedMachine();
  p.enable_dcom = false;
  Token admin = Admin(LogonKind::kLocal);
  for (Operation op :
       {Operation::kLaunch, Operation::kActivate, Operation::kAccess}) {
    Decision d = Ask(p, op, admin, false);
    EXPECT_TRUE(d.allowed) << OperationName(op) << ": " << d.summary;
    EXPECT_EQ(d.hr, S_OK);
    const CheckStep* dcom = Step(d, "distributed COM enabled");
    ASSERT_NE(dcom, nullptr);
    EXPECT_TRUE(dcom->passed);
  }
}

// ==== Process failure (R163) ====

// R163: a server whose implicit CIS fails can be neither activated nor
// called: CO_E_SERVER_EXEC_FAILURE.
TEST(Decide, R163ProcessFailureIsServerExecFailure) {
  EffectivePolicy p = InitializedMachine();
  p.process_fails = true;
  p.process_failure = "AuthenticationLevel = 7 is outside 1..6 (R163)";
  for (Operation op :
       {Operation::kLaunch, Operation::kActivate, Operation::kAccess}) {
    Decision d = Ask(p, op, Admin(LogonKind::kLocal), false);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.hr, CO_E_SERVER_EXEC_FAILURE);
    EXPECT_EQ(d.hr.value(), 0x80080005u);
    const CheckStep* s = Step(d, "server security initialization");
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->passed);
    EXPECT_TRUE(Contains(d.remedy, "AuthenticationLevel")) << d.remedy;
    EXPECT_TRUE(Contains(d.remedy, kAppId.ToRegistryString())) << d.remedy;
  }
}

// R186.2 before R163: a remote request to a machine with DCOM off is
// refused for that reason first.
TEST(Decide, R120CheckedBeforeProcessFailure) {
  EffectivePolicy p = InitializedMachine();
  p.enable_dcom = false;
  p.process_fails = true;
  p.process_failure = "bad level";
  Decision d = Ask(p, Operation::kAccess, Admin(LogonKind::kNetwork), true);
  EXPECT_EQ(d.hr, E_ACCESSDENIED);
  EXPECT_EQ(Step(d, "server security initialization"), nullptr);
}

// ==== Authentication level (R7, R140, hardening) ====

// R7, R140: a call below the server's process level is refused; at or
// above it, allowed.
TEST(Decide, R140CallBelowProcessLevelIsRefused) {
  EffectivePolicy p = InitializedMachine();
  p.access =
      Everyone(PolicySource::kProcess, "CoInitializeSecurity pSecDesc = NULL");
  p.authn_level = {AuthnLevel::kPktIntegrity, PolicySource::kProcess,
                   "CoInitializeSecurity dwAuthnLevel"};
  Token t = User(LogonKind::kNetwork);
  for (AuthnLevel low : {AuthnLevel::kNone, AuthnLevel::kConnect,
                       AuthnLevel::kPkt}) {
    Decision d = Ask(p, Operation::kAccess, t, true, low);
    EXPECT_FALSE(d.allowed) << low;
    EXPECT_EQ(d.hr, E_ACCESSDENIED) << low;
    const CheckStep* s = Step(d, "authentication level");
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->evaluated);
    EXPECT_FALSE(s->passed);
    // The level check comes before the descriptors (R187.1).
    EXPECT_EQ(Step(d, "machine access restriction"), nullptr);
    EXPECT_TRUE(Contains(d.remedy, "--authn-level 5")) << d.remedy;
  }
  for (AuthnLevel ok :
       {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    Decision d = Ask(p, Operation::kAccess, t, true, ok);
    EXPECT_TRUE(d.allowed) << ok << ": " << d.summary;
    EXPECT_TRUE(MustStep(d, "authentication level").passed);
  }
}

// R7: calls use the process level, not the activation floor.
TEST(Decide, R7CallsUseTheProcessLevel) {
  EffectivePolicy p = InitializedMachine();
  p.access =
      Everyone(PolicySource::kProcess, "CoInitializeSecurity pSecDesc = NULL");
  p.min_activation_authn_level = AuthnLevel::kPktIntegrity;
  EXPECT_TRUE(Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true,
                  AuthnLevel::kConnect)
                  .allowed);
}

// DCOM hardening: a remote activation at CONNECT is refused when the floor
// is PKT_INTEGRITY; at PKT_INTEGRITY it is allowed.
TEST(Decide, HardeningRefusesActivationBelowIntegrity) {
  EffectivePolicy p = InitializedMachine();
  p.min_activation_authn_level = AuthnLevel::kPktIntegrity;
  Token admin = Admin(LogonKind::kNetwork);
  for (Operation op : {Operation::kActivate, Operation::kLaunch}) {
    Decision low = Ask(p, op, admin, true, AuthnLevel::kConnect);
    EXPECT_FALSE(low.allowed) << OperationName(op);
    EXPECT_EQ(low.hr, E_ACCESSDENIED);
    const CheckStep* s = Step(low, "authentication level");
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->passed);
    EXPECT_TRUE(
        Contains(s->detail, "RequireIntegrityActivationAuthenticationLevel"))
        << s->detail;
    EXPECT_TRUE(Contains(low.remedy, "--authn-level 5")) << low.remedy;

    Decision at = Ask(p, op, admin, true, AuthnLevel::kPktIntegrity);
    EXPECT_TRUE(at.allowed) << OperationName(op) << ": " << at.summary;
  }
}

// Hardening off (0): the same activation is allowed.
TEST(Decide, HardeningOffAllowsLowActivation) {
  EffectivePolicy p = InitializedMachine();
  p.min_activation_authn_level = AuthnLevel::kDefault;
  EXPECT_TRUE(Ask(p, Operation::kActivate, Admin(LogonKind::kNetwork), true,
                  AuthnLevel::kConnect)
                  .allowed);
}

// A request whose level is not given: the level step is reported as not
// evaluated, and the descriptors still decide.
TEST(Decide, LevelNotGivenIsNotEvaluated) {
  EffectivePolicy p = InitializedMachine();
  Decision admin = Ask(p, Operation::kActivate, Admin(LogonKind::kNetwork),
                       true, AuthnLevel::kDefault);
  EXPECT_TRUE(admin.allowed) << admin.summary;
  const CheckStep* s = Step(admin, "authentication level");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->evaluated);
  EXPECT_TRUE(s->passed);
  Decision user = Ask(p, Operation::kActivate, User(LogonKind::kNetwork), true,
                      AuthnLevel::kDefault);
  EXPECT_FALSE(user.allowed);
  EXPECT_FALSE(MustStep(user, "authentication level").evaluated);
}

// ==== Order of the descriptor checks (C11, R186.6, R187.2-3) ====

// C11: the machine restriction is checked before the application's
// descriptor. A caller refused by both is reported as refused by the
// machine restriction; both decisions appear, machine first.
TEST(Decide, C11MachineRestrictionCheckedFirst) {
  EffectivePolicy p = InitializedMachine();
  p.machine_access_limit =
      Descriptor("O:BAG:BAD:(A;;CCDCLC;;;SY)", PolicySource::kMachine);
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;SY)", PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kLocal), false);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.hr, E_ACCESSDENIED);
  const int machine = StepIndex(d, "machine access restriction");
  const int app = StepIndex(d, "access permission");
  ASSERT_GE(machine, 0);
  EXPECT_FALSE(d.steps[machine].passed);
  // Per C11 as resolved in section 20, both decisions appear in every
  // explanation, so the application's step is present after the machine's.
  ASSERT_GE(app, 0);
  EXPECT_LT(machine, app);
  EXPECT_FALSE(d.steps[app].passed);
  // The summary names the machine restriction as the refusal.
  EXPECT_EQ(d.summary.rfind("the machine-wide access restriction", 0), 0u)
      << d.summary;
  // The machine remedy comes first.
  EXPECT_EQ(d.remedy.find("comcfg perms grant machine-access-limit"), 0u)
      << d.remedy;
}

// C11: a caller the machine allows but the application refuses is reported
// as refused by the application's descriptor.
TEST(Decide, C11ApplicationRefusal) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;SY)", PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kLocal), false);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(MustStep(d, "machine access restriction").passed);
  EXPECT_FALSE(MustStep(d, "access permission").passed);
  EXPECT_EQ(d.summary.find("machine-wide"), std::string::npos) << d.summary;
  EXPECT_TRUE(Contains(d.summary, "access permission")) << d.summary;
  EXPECT_TRUE(Contains(d.remedy, "comcfg perms grant access --appid " +
                                     kAppId.ToRegistryString()))
      << d.remedy;
}

// R186, R187: an allowed request lists every step in order.
TEST(Decide, AllowedRequestListsEveryStepInOrder) {
  EffectivePolicy p = InitializedMachine();
  Decision d = Ask(p, Operation::kActivate, Admin(LogonKind::kNetwork), true);
  EXPECT_TRUE(d.allowed) << d.summary;
  EXPECT_EQ(d.hr, S_OK);
  ASSERT_EQ(d.steps.size(), 4u);
  EXPECT_EQ(d.steps[0].name, "distributed COM enabled");
  EXPECT_EQ(d.steps[1].name, "authentication level");
  EXPECT_EQ(d.steps[2].name, "machine launch restriction");
  EXPECT_EQ(d.steps[3].name, "launch permission");
  for (const CheckStep& s : d.steps) EXPECT_TRUE(s.passed) << s.name;
  EXPECT_TRUE(d.remedy.empty());
}

// ==== Machine launch restriction (R119, R175, R176) ====

// R119, R175: by default only administrators may launch remotely; a
// non-administrator is refused by the machine restriction, and the remedy
// edits the machine launch limit. (Restrictions written by `comcfg init`.)
TEST(Decide, R119RemoteLaunchByNonAdminRefusedByRestriction) {
  EffectivePolicy p = InitializedMachine();
  Decision d = Ask(p, Operation::kLaunch, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.hr, E_ACCESSDENIED);
  const CheckStep* s = Step(d, "machine launch restriction");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->passed);
  EXPECT_EQ(s->requested, 0x15u);
  EXPECT_EQ(s->granted, COM_RIGHTS_EXECUTE);  // Everyone's LL LA gives only 0x1
  EXPECT_TRUE(Contains(d.remedy, "machine-launch-limit")) << d.remedy;
  EXPECT_TRUE(Contains(d.remedy, "--principal " + std::string(kPrincipal)))
      << d.remedy;
}

// R119, R175: the same on a machine where nothing is configured at all (the
// restriction is the built-in default): the remedy must still name the
// machine launch limit, since no per-application grant can lift it.
TEST(Decide, R175BuiltInRestrictionRemedyNamesMachineLaunchLimit) {
  std::optional<EffectivePolicy> p = NothingConfigured();
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->machine_launch_limit.source, PolicySource::kBuiltIn);
  Decision d = Ask(*p, Operation::kLaunch, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(MustStep(d, "machine launch restriction").passed);
  EXPECT_TRUE(Contains(d.remedy, "machine-launch-limit")) << d.remedy;
}

// R175, R176: administrators may launch and activate remotely.
TEST(Decide, R175AdminMayLaunchRemotely) {
  EffectivePolicy p = InitializedMachine();
  Token admin = Admin(LogonKind::kNetwork);
  EXPECT_TRUE(Ask(p, Operation::kLaunch, admin, true).allowed);
  EXPECT_TRUE(Ask(p, Operation::kActivate, admin, true).allowed);
  std::optional<EffectivePolicy> fresh = NothingConfigured();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_TRUE(Ask(*fresh, Operation::kLaunch, admin, true).allowed);
}

// R176: every local scenario keeps working: Everyone has LL and LA, and
// the built-in launch permission grants INTERACTIVE.
TEST(Decide, R176LocalLaunchByInteractiveUserAllowed) {
  std::optional<EffectivePolicy> p = NothingConfigured();
  ASSERT_TRUE(p.has_value());
  Token user = User(LogonKind::kLocal);
  EXPECT_TRUE(Ask(*p, Operation::kLaunch, user, false).allowed);
  EXPECT_TRUE(Ask(*p, Operation::kActivate, user, false).allowed);
}

// ==== Launch versus activation rights (R115, R186.5) ====

// R186.5: an SD granting EXECUTE + EXECUTE_LOCAL (LL) but not
// ACTIVATE_LOCAL refuses a local launch, and a local activation.
TEST(Decide, R186LaunchRightAloneIsNotEnough) {
  EffectivePolicy p = InitializedMachine();
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDC;;;WD)", PolicySource::kAppId);
  Token t = User(LogonKind::kLocal);
  Decision launch = Ask(p, Operation::kLaunch, t, false);
  EXPECT_FALSE(launch.allowed);
  const CheckStep* s = Step(launch, "launch permission");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->requested, 0xBu);
  EXPECT_EQ(s->granted, COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL);
  EXPECT_TRUE(Contains(launch.remedy, "activate_local")) << launch.remedy;
  EXPECT_FALSE(Ask(p, Operation::kActivate, t, false).allowed);
}

// R115, R186.5: an SD granting EXECUTE + ACTIVATE_LOCAL (LA) allows a local
// activation of a running server but not a local launch.
TEST(Decide, R186ActivationRightAllowsActivationOnly) {
  EffectivePolicy p = InitializedMachine();
  p.launch = Descriptor("O:BAG:BAD:(A;;CCSW;;;WD)", PolicySource::kAppId);
  Token t = User(LogonKind::kLocal);
  EXPECT_TRUE(Ask(p, Operation::kActivate, t, false).allowed);
  Decision launch = Ask(p, Operation::kLaunch, t, false);
  EXPECT_FALSE(launch.allowed);
  EXPECT_TRUE(Contains(launch.remedy, "execute_local")) << launch.remedy;
}

// R186.5: LL + LA together allow both.
TEST(Decide, R186LaunchAndActivationRightsAllowLaunch) {
  EffectivePolicy p = InitializedMachine();
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDCSW;;;WD)", PolicySource::kAppId);
  Token t = User(LogonKind::kLocal);
  EXPECT_TRUE(Ask(p, Operation::kLaunch, t, false).allowed);
  EXPECT_TRUE(Ask(p, Operation::kActivate, t, false).allowed);
  // Local rights do not reach remote requests (R117).
  p.machine_launch_limit =
      Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)", PolicySource::kMachine);
  EXPECT_FALSE(
      Ask(p, Operation::kActivate, User(LogonKind::kNetwork), true).allowed);
}

// ==== Old-format ACEs (R118) ====

// R118: an ACE whose mask is only EXECUTE (0x1) allows local and remote,
// launch and activation together.
TEST(Decide, R118LegacyAceGrantsEverything) {
  EffectivePolicy p = InitializedMachine();
  p.machine_launch_limit =
      Descriptor("O:BAG:BAD:(A;;CC;;;WD)", PolicySource::kMachine);
  p.launch = Descriptor("O:BAG:BAD:(A;;CC;;;AU)", PolicySource::kAppId);
  Token remote = User(LogonKind::kNetwork);
  Decision d = Ask(p, Operation::kLaunch, remote, true);
  EXPECT_TRUE(d.allowed) << d.summary;
  const CheckStep* s = Step(d, "launch permission");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->granted, s->requested);
  EXPECT_TRUE(Ask(p, Operation::kActivate, remote, true).allowed);
  EXPECT_TRUE(
      Ask(p, Operation::kLaunch, User(LogonKind::kLocal), false).allowed);
}

// R118: an old-format deny ACE denies local and remote together.
TEST(Decide, R118LegacyDenyAceDeniesEverything) {
  EffectivePolicy p = InitializedMachine();
  p.access =
      Descriptor("O:BAG:BAD:(D;;CC;;;NU)(A;;CC;;;WD)", PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  const CheckStep* s = Step(d, "access permission");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ace, std::optional<size_t>(0));
  EXPECT_TRUE(
      Ask(p, Operation::kAccess, User(LogonKind::kLocal), false).allowed);
}

// ==== Machine access restriction (R139, R175) ====

// R139, R175: the default machine access restriction gives Anonymous LC
// only, so an anonymous remote call is refused even by a server that lets
// everyone in.
TEST(Decide, R139AnonymousRemoteCallRefusedByDefaultRestriction) {
  EffectivePolicy p = InitializedMachine();
  p.access =
      Everyone(PolicySource::kProcess, "CoInitializeSecurity pSecDesc = NULL");
  Token anon = Token::Anonymous(LogonKind::kNetwork, false);
  Decision d =
      Ask(p, Operation::kAccess, anon, true, AuthnLevel::kConnect);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.hr, E_ACCESSDENIED);
  const CheckStep* machine = Step(d, "machine access restriction");
  ASSERT_NE(machine, nullptr);
  EXPECT_FALSE(machine->passed);
  EXPECT_EQ(machine->requested, 0x5u);
  EXPECT_EQ(machine->granted, COM_RIGHTS_EXECUTE);
  const CheckStep* app = Step(d, "access permission");
  ASSERT_NE(app, nullptr);
  EXPECT_TRUE(app->passed);

  Token anon_local = Token::Anonymous(LogonKind::kLocal, false);
  EXPECT_TRUE(
      Ask(p, Operation::kAccess, anon_local, false, AuthnLevel::kConnect)
          .allowed);
}

// R139, R141: an application with no access check (registry level NONE)
// is still behind the machine restriction.
TEST(Decide, R139RestrictionAppliesWithoutAccessCheck) {
  std::optional<EffectivePolicy> p = NothingConfigured();
  ASSERT_TRUE(p.has_value());
  p->authn_level = {AuthnLevel::kNone, PolicySource::kAppId,
                    "AppID level 1"};
  p->access = Everyone(PolicySource::kAppId, "AppID level NONE (R141)");
  Decision d =
      Ask(*p, Operation::kAccess, Token::Anonymous(LogonKind::kNetwork, false),
          true, AuthnLevel::kNone);
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(MustStep(d, "machine access restriction").passed);
  EXPECT_TRUE(MustStep(d, "access permission").passed);
}

// R144 with C2: the built-in access descriptor lets Administrators and
// SYSTEM call but not an ordinary user.
TEST(Decide, R144BuiltInAccessDescriptor) {
  std::optional<EffectivePolicy> p = NothingConfigured();
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(
      Ask(*p, Operation::kAccess, Admin(LogonKind::kNetwork), true).allowed);
  Token local_system(security::well_known::LocalSystem(), LogonKind::kLocal);
  local_system.AddGroup(security::well_known::Everyone());
  EXPECT_TRUE(Ask(*p, Operation::kAccess, local_system, false).allowed);
  Decision user = Ask(*p, Operation::kAccess, User(LogonKind::kLocal), false);
  EXPECT_FALSE(user.allowed);
  EXPECT_TRUE(MustStep(user, "machine access restriction").passed);
  EXPECT_FALSE(MustStep(user, "access permission").passed);
}

// ==== Invalid and "everyone" descriptors (R64, R66, R141, R151) ====

// R151: an invalid application descriptor grants nothing, not even to
// Administrators, and the step and remedy say so.
TEST(Decide, R151InvalidDescriptorGrantsNothing) {
  EffectivePolicy p = InitializedMachine();
  p.launch = DescriptorSetting{};
  p.launch.source = PolicySource::kAppId;
  p.launch.origin = "AppID\\LaunchPermission";
  p.launch.invalid = true;
  p.launch.problem = "ACE 0 has mask 0x6 without COM_RIGHTS_EXECUTE";
  Token admin = Admin(LogonKind::kLocal);
  for (Operation op : {Operation::kLaunch, Operation::kActivate}) {
    Decision d = Ask(p, op, admin, false);
    EXPECT_FALSE(d.allowed) << OperationName(op);
    EXPECT_EQ(d.hr, E_ACCESSDENIED);
    const CheckStep* s = Step(d, "launch permission");
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->passed);
    EXPECT_EQ(s->granted, 0u);
    EXPECT_TRUE(Contains(s->detail, "R151")) << s->detail;
    EXPECT_TRUE(Contains(d.remedy, "invalid")) << d.remedy;
  }
}

// R151: an invalid machine restriction fails closed too.
TEST(Decide, R151InvalidRestrictionGrantsNothing) {
  EffectivePolicy p = InitializedMachine();
  p.machine_access_limit = DescriptorSetting{};
  p.machine_access_limit.source = PolicySource::kMachine;
  p.machine_access_limit.origin = "Ole\\MachineAccessRestriction";
  p.machine_access_limit.invalid = true;
  p.machine_access_limit.problem = "truncated";
  p.access =
      Everyone(PolicySource::kProcess, "CoInitializeSecurity pSecDesc = NULL");
  Decision d = Ask(p, Operation::kAccess, Admin(LogonKind::kLocal), false);
  EXPECT_FALSE(d.allowed);
  EXPECT_FALSE(MustStep(d, "machine access restriction").passed);
}

// R66: CIS with a NULL pSecDesc lets every caller past the process check
// without an access check.
TEST(Decide, R66EveryoneSettingPassesTheProcessCheck) {
  EffectivePolicy p = InitializedMachine();
  p.access =
      Everyone(PolicySource::kProcess, "CoInitializeSecurity pSecDesc = NULL");
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true,
                   AuthnLevel::kConnect);
  EXPECT_TRUE(d.allowed) << d.summary;
  const CheckStep* s = Step(d, "access permission");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->passed);
  EXPECT_FALSE(s->ace.has_value());
}

// R64: an empty DACL allows nobody; a NULL DACL everybody.
TEST(Decide, R64EmptyAndNullDacl) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:", PolicySource::kAppId);
  EXPECT_FALSE(
      Ask(p, Operation::kAccess, Admin(LogonKind::kLocal), false).allowed);
  p.access = Descriptor("O:BAG:BAD:NO_ACCESS_CONTROL", PolicySource::kAppId);
  EXPECT_TRUE(
      Ask(p, Operation::kAccess, User(LogonKind::kLocal), false).allowed);
}

// ==== Explanations: deciding ACE and remedies ====

// The step names the ACE that decided, with its index and SDDL.
TEST(Decide, DecidingAceIsReported) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDC;;;SY)(A;;CCDCLC;;;WD)",
                        PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true);
  EXPECT_TRUE(d.allowed) << d.summary;
  const CheckStep* s = Step(d, "access permission");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ace, std::optional<size_t>(1));
  EXPECT_EQ(s->ace_sddl, "(A;;CCDCLC;;;WD)");
  EXPECT_EQ(s->requested, 0x5u);
  EXPECT_EQ(s->granted, 0x5u);
  EXPECT_TRUE(Contains(s->detail, "ACE 1")) << s->detail;
  EXPECT_TRUE(Contains(s->detail, "(A;;CCDCLC;;;WD)")) << s->detail;
}

// A deny ACE is named and the remedy revokes it.
TEST(Decide, DenyAceRemedyRevokes) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(D;;CCDCLC;;;NU)(A;;CCDCLC;;;WD)",
                        PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.hr, E_ACCESSDENIED);
  const CheckStep* s = Step(d, "access permission");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ace, std::optional<size_t>(0));
  EXPECT_EQ(s->ace_sddl, "(D;;CCDCLC;;;NU)");
  EXPECT_TRUE(Contains(s->detail, "denied by ACE 0")) << s->detail;
  EXPECT_TRUE(Contains(d.remedy, "revoke")) << d.remedy;
  EXPECT_TRUE(Contains(d.remedy, "comcfg perms revoke access --appid " +
                                     kAppId.ToRegistryString()))
      << d.remedy;
  EXPECT_TRUE(Contains(d.remedy, "--principal NU --deny")) << d.remedy;
}

// A missing right: the remedy grants exactly what is missing, plus
// EXECUTE, to the caller.
TEST(Decide, GrantRemedyNamesMissingRights) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDC;;;WD)", PolicySource::kAppId);
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remedy, "comcfg perms grant access --appid " +
                          kAppId.ToRegistryString() + " --principal " +
                          kPrincipal + " --rights execute,execute_remote");
}

// Without a principal in the request, the remedy names the token's user.
TEST(Decide, RemedyDefaultsToTheTokenUser) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDC;;;SY)", PolicySource::kAppId);
  Token t = User(LogonKind::kLocal);
  AccessRequest r;
  r.operation = Operation::kAccess;
  r.token = &t;
  r.remote = false;
  r.authn_level = AuthnLevel::kPktPrivacy;
  Decision d = Decide(p, r);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(Contains(d.remedy, "--principal S-1-5-21-1-2-3-1001"))
      << d.remedy;
}

// R68: a descriptor set by CoInitializeSecurity cannot be changed from the
// registry; the remedy says to change the server.
TEST(Decide, R68ProcessDescriptorRemedyPointsAtTheCode) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;SY)", PolicySource::kProcess,
                        "CoInitializeSecurity pSecDesc");
  Decision d = Ask(p, Operation::kAccess, User(LogonKind::kLocal), false);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(Contains(d.remedy, "CoInitializeSecurity")) << d.remedy;
  EXPECT_EQ(d.remedy.find("comcfg perms"), std::string::npos) << d.remedy;
}

// ==== Unauthenticated activation (R123, R124, R186.3-4) ====

// An activation at level NONE is checked as ANONYMOUS LOGON, whoever the
// token says the caller is.
TEST(Decide, R124UnauthenticatedActivationIsAnonymous) {
  EffectivePolicy p = InitializedMachine();
  p.machine_launch_limit =
      Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;WD)(A;;CCDCLCSWRP;;;AN)",
                 PolicySource::kMachine);
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)", PolicySource::kAppId);
  Decision admin = Ask(p, Operation::kActivate, Admin(LogonKind::kNetwork),
                       true, AuthnLevel::kNone);
  EXPECT_FALSE(admin.allowed) << "the admin token must not be used";
  p.launch = Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;AN)", PolicySource::kAppId);
  EXPECT_TRUE(Ask(p, Operation::kActivate, User(LogonKind::kNetwork), true,
                  AuthnLevel::kNone)
                  .allowed);
}

// R165: when the policy override is in force, the remedy edits the
// override, since the Ole value it hides would change nothing.
TEST(Decide, R165PolicyOverrideRemedyEditsTheOverride) {
  EffectivePolicy p = InitializedMachine();
  p.machine_launch_limit =
      Descriptor("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)", PolicySource::kPolicy,
                 "Policies\\DCOM\\MachineLaunchRestriction");
  Decision d = Ask(p, Operation::kLaunch, User(LogonKind::kNetwork), true);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(Contains(d.remedy, "comcfg machine set policy:MachineLaunchRestriction"))
      << d.remedy;
  EXPECT_FALSE(Contains(d.remedy, "perms grant machine-launch-limit")) << d.remedy;
}

// R121: an unauthenticated call is checked as ANONYMOUS LOGON, not as the
// identity it claims.
TEST(Decide, UnauthenticatedCallIsAnonymous) {
  EffectivePolicy p = InitializedMachine();
  p.access = Descriptor("O:BAG:BAD:(A;;CCDCLC;;;BA)", PolicySource::kAppId);
  EXPECT_TRUE(Ask(p, Operation::kAccess, Admin(LogonKind::kLocal), false,
                  AuthnLevel::kConnect)
                  .allowed);
  p.authn_level.value = AuthnLevel::kNone;
  EXPECT_FALSE(Ask(p, Operation::kAccess, Admin(LogonKind::kLocal), false,
                   AuthnLevel::kNone)
                   .allowed);
}

}  // namespace
}  // namespace comsec::config
