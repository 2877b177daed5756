#include "comsec/config/explain.h"

#include <cstdio>

#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::config {
namespace {

using namespace security;  // NOLINT: this file reads the security layer


// The `comcfg perms` target that edits a descriptor setting. A machine
// restriction is edited as the machine limit whatever its source: no grant
// to an application can lift it (R119, R139).
std::string PermsTarget(const DescriptorSetting& d, const std::string& which,
                        const Guid& appid, bool machine_limit) {
  if (machine_limit) {
    return which == "launch" ? "machine-launch-limit" : "machine-access-limit";
  }
  switch (d.source) {
    case PolicySource::kAppId:
    case PolicySource::kMachineDefault:
    case PolicySource::kBuiltIn:
      // An application with no descriptor of its own follows the default;
      // giving it its own is the narrower change.
      return which + " --appid " + appid.ToRegistryString();
    case PolicySource::kMachine:
    case PolicySource::kPolicy:
    case PolicySource::kProcess:
      return "";
  }
  return "";
}

// Runs one descriptor check and records it; returns whether it passed.
bool CheckDescriptor(const char* name, const DescriptorSetting& d,
                     const Token& token, uint32_t rights,
                     std::vector<CheckStep>& steps) {
  CheckStep step;
  step.name = name;
  step.requested = rights;
  if (d.everyone) {
    step.detail = d.origin + ": every caller is allowed";
    step.granted = rights;
    steps.push_back(std::move(step));
    return true;
  }
  if (d.invalid) {
    step.passed = false;
    step.detail = d.origin + " is invalid, and an invalid descriptor grants "
                             "nothing (R151): " + d.problem;
    steps.push_back(std::move(step));
    return false;
  }
  AccessCheckResult r = ComAccessCheck(*d.sd, token, rights);
  step.passed = r.allowed;
  step.granted = r.granted;
  step.ace = r.deciding_ace;
  if (r.deciding_ace) {
    auto ace = FormatSddlAce(d.sd->dacl->aces[*r.deciding_ace]);
    step.ace_sddl = ace.ok() ? *ace : "";
  }
  step.detail = d.origin + ": " + DescribeAccessReason(r) +
                (step.ace_sddl.empty() ? "" : " " + step.ace_sddl) +
                " (needs " + FormatComRights(rights) + ")";
  steps.push_back(std::move(step));
  return r.allowed;
}

}  // namespace

std::string ShellWord(const std::string& principal) {
  const bool plain = !principal.empty() &&
                     principal.find_first_not_of(
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                         "_-.:,@/+=%") == std::string::npos;
  if (plain) return principal;
  std::string out = "'";
  for (char c : principal) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

namespace {

std::string Remedy(const DescriptorSetting& d, const std::string& which,
                   const Guid& appid, const CheckStep& step,
                   const std::string& principal, bool machine_limit) {
  if (d.source == PolicySource::kProcess) {
    return "the server sets its access descriptor in CoInitializeSecurity; "
           "change the server's code";
  }
  if (d.source == PolicySource::kPolicy) {
    // R165: the policy override hides the Ole value, so editing that value
    // would change nothing.
    return "the restriction comes from the policy override " + d.origin +
           "; change it with 'comcfg machine set policy:" +
           (which == "launch" ? "MachineLaunchRestriction"
                              : "MachineAccessRestriction") +
           " SDDL' to grant " + principal + " " +
           FormatComRights(step.requested);
  }
  std::string target = PermsTarget(d, which, appid, machine_limit);
  if (d.invalid) {
    return "replace the invalid descriptor, e.g. 'comcfg perms grant " +
           target + " --principal " + ShellWord(principal) + " --rights " +
           FormatComRights(step.requested) + "' after 'comcfg reg delete'"
           " of " + d.origin;
  }
  uint32_t missing = step.requested & ~step.granted;
  std::string rights = FormatComRights(missing ? missing | COM_RIGHTS_EXECUTE
                                   : step.requested);
  // FormatComRights separates with ", "; the command line takes ",".
  std::string arg;
  for (char c : rights) {
    if (c != ' ') arg += c;
  }
  if (step.ace && !step.ace_sddl.empty() && step.ace_sddl[1] == 'D') {
    return "remove the deny entry " + step.ace_sddl + ": 'comcfg perms revoke " +
           target + " --principal " +
           FormatSddlSid(d.sd->dacl->aces[*step.ace].sid) + " --deny'";
  }
  return "comcfg perms grant " + target + " --principal " + ShellWord(principal) +
         " --rights " + arg;
}

}  // namespace

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kLaunch: return "launch";
    case Operation::kActivate: return "activate";
    case Operation::kAccess: return "access";
  }
  return "";
}

uint32_t RequiredRights(Operation op, bool remote) {
  switch (op) {
    case Operation::kLaunch:
      // R186.5 decision: a launch needs the launch and the activation right.
      return COM_RIGHTS_EXECUTE |
             (remote ? COM_RIGHTS_EXECUTE_REMOTE | COM_RIGHTS_ACTIVATE_REMOTE
                     : COM_RIGHTS_EXECUTE_LOCAL | COM_RIGHTS_ACTIVATE_LOCAL);
    case Operation::kActivate:
      return COM_RIGHTS_EXECUTE |
             (remote ? COM_RIGHTS_ACTIVATE_REMOTE : COM_RIGHTS_ACTIVATE_LOCAL);
    case Operation::kAccess:
      return COM_RIGHTS_EXECUTE |
             (remote ? COM_RIGHTS_EXECUTE_REMOTE : COM_RIGHTS_EXECUTE_LOCAL);
  }
  return 0;
}

Decision Decide(const EffectivePolicy& policy, const AccessRequest& request) {
  COMSEC_CHECK(request.token != nullptr, "Decide without a token");
  const Token& token = *request.token;
  const bool activation = request.operation != Operation::kAccess;
  const std::string principal =
      request.principal.empty() ? FormatSddlSid(token.user()) : request.principal;
  Decision d;
  auto deny = [&d](HResult hr, std::string summary, std::string remedy) {
    d.allowed = false;
    d.hr = hr;
    d.summary = std::move(summary);
    d.remedy = std::move(remedy);
    return d;
  };

  // 1. Distance and EnableDCOM (R117, R120, R186.1–2).
  {
    CheckStep step;
    step.name = "distributed COM enabled";
    if (!request.remote) {
      step.detail = "local request: EnableDCOM does not apply";
    } else {
      step.passed = policy.enable_dcom;
      step.detail = std::string("EnableDCOM = ") +
                    (policy.enable_dcom ? "Y" : "N") + " (" +
                    PolicySourceName(policy.enable_dcom_source) + ")";
    }
    d.steps.push_back(step);
    if (!step.passed) {
      return deny(E_ACCESSDENIED,
                  "remote requests are refused because DCOM is disabled on "
                  "this machine (R120)",
                  "comcfg machine set EnableDCOM Y");
    }
  }

  // 2. The server process can initialize its security at all (R163).
  if (policy.process_fails) {
    CheckStep step;
    step.name = "server security initialization";
    step.passed = false;
    step.detail = policy.process_failure;
    d.steps.push_back(step);
    return deny(CO_E_SERVER_EXEC_FAILURE, policy.process_failure,
                "comcfg app set " + policy.appid.ToRegistryString() +
                    " AuthenticationLevel 5");
  }

  // 3. Authentication level: the activation floor (DCOM hardening) or the
  //    server's process level (R7, R140, R187.1).
  {
    CheckStep step;
    step.name = "authentication level";
    const AuthnLevel floor = activation ? policy.min_activation_authn_level
                                      : policy.authn_level.value;
    const std::string floor_origin =
        activation ? "DCOM hardening (RequireIntegrityActivationAuthenticationLevel)"
                   : policy.authn_level.origin;
    if (request.authn_level == AuthnLevel::kDefault) {
      step.evaluated = false;
      step.detail = std::string("not evaluated (no --authn-level given); the "
                                "floor is ") +
                    AuthnLevelName(floor) + " from " + floor_origin;
    } else if (activation && request.authn_level == AuthnLevel::kNone) {
      // An unauthenticated activation runs as ANONYMOUS LOGON (R186.3-4);
      // the descriptors below decide.
      step.detail = "unauthenticated activation: checked as ANONYMOUS LOGON "
                    "(R124)";
    } else if (request.authn_level < floor) {
      step.passed = false;
      step.detail = std::string(AuthnLevelName(request.authn_level)) +
                    " is below " + AuthnLevelName(floor) + " required by " +
                    floor_origin;
    } else {
      step.detail = std::string(AuthnLevelName(request.authn_level)) +
                    " meets " + AuthnLevelName(floor) + " from " +
                    floor_origin;
    }
    d.steps.push_back(step);
    if (!step.passed) {
      return deny(E_ACCESSDENIED, step.detail,
                  std::string("call at ") + AuthnLevelName(floor) +
                      " or higher (--authn-level " +
                      std::to_string(security::ToNumber(floor)) + ")");
    }
  }

  const uint32_t rights = RequiredRights(request.operation, request.remote);
  Token anonymous = Token::Anonymous(token.logon(), false);
  // An unauthenticated request, activation or call, is ANONYMOUS LOGON
  // whatever identity it claims (R121, R124).
  const Token& subject =
      request.authn_level == AuthnLevel::kNone ? anonymous : token;

  // 4. The machine-wide restriction, then the application's descriptor
  //    (R113, R119, R137, R139). C11: both decisions appear in every
  //    explanation, so the second check runs even when the first failed,
  //    and the remedy covers every check that failed.
  const DescriptorSetting& limit =
      activation ? policy.machine_launch_limit : policy.machine_access_limit;
  const char* kind = activation ? "launch" : "access";
  const bool limit_ok = CheckDescriptor(
      activation ? "machine launch restriction" : "machine access restriction",
      limit, subject, rights, d.steps);
  const std::string limit_remedy =
      limit_ok ? ""
               : Remedy(limit, kind, policy.appid, d.steps.back(), principal,
                        /*machine_limit=*/true);
  const DescriptorSetting& app = activation ? policy.launch : policy.access;
  const bool app_ok =
      CheckDescriptor(activation ? "launch permission" : "access permission",
                      app, subject, rights, d.steps);
  const std::string app_remedy =
      app_ok ? ""
             : Remedy(app, kind, policy.appid, d.steps.back(), principal,
                      /*machine_limit=*/false);
  if (!limit_ok || !app_ok) {
    std::string summary =
        !limit_ok ? std::string("the machine-wide ") + kind +
                        " restriction does not grant " +
                        FormatComRights(rights)
                  : std::string("the ") + kind + " permission does not grant " +
                        FormatComRights(rights);
    if (!limit_ok && !app_ok) {
      summary += std::string(", nor does the ") + kind + " permission";
    }
    std::string remedy = limit_remedy;
    if (!app_remedy.empty()) {
      remedy += (remedy.empty() ? "" : "; then ") + app_remedy;
    }
    return deny(E_ACCESSDENIED, summary, remedy);
  }

  d.allowed = true;
  d.hr = S_OK;
  d.summary = std::string(OperationName(request.operation)) + " allowed";
  return d;
}

}  // namespace comsec::config
