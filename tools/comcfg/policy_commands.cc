// comcfg effective | explain — which settings are in force for an
// application, and why a launch, activation or call is allowed or denied.
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/caller.h"
#include "comsec/auth/gssapi/principal_mapping.h"
#include "comcfg/command.h"
#include "comcfg/describe.h"
#include "comcfg/store_access.h"
#include "comsec/config/effective_policy.h"
#include "comsec/config/explain.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::comcfg {

using namespace comsec::config;  // NOLINT: a tool file using its layer

namespace {

template <typename Level>
nlohmann::json LevelJson(const LevelSetting<Level>& l) {
  std::string_view name;
  if constexpr (std::is_same_v<Level, AuthnLevel>) {
    name = AuthnLevelName(l.value);
  } else {
    name = ImpLevelName(l.value);
  }
  return {{"value", security::ToNumber(l.value)},
          {"name", name},
          {"source", PolicySourceName(l.source)},
          {"origin", l.origin}};
}

// --authn-level and --imp-level: a number or a name; absent is DEFAULT.
Status ParseLevelOptions(const std::string& authn, const std::string& imp,
                         AuthnLevel* authn_level, ImpLevel* imp_level) {
  if (!authn.empty()) {
    auto a = security::ParseAuthnLevel(authn);
    if (!a.ok()) return std::move(a).TakeStatus().Prefixed("--authn-level");
    *authn_level = *a;
  }
  if (!imp.empty() && imp_level != nullptr) {
    auto i = security::ParseImpLevel(imp);
    if (!i.ok()) return std::move(i).TakeStatus().Prefixed("--imp-level");
    *imp_level = *i;
  }
  return Status::Ok();
}

std::string DescriptorText(const DescriptorSetting& d) {
  if (d.everyone) return "(every caller)";
  if (d.invalid) return "(invalid: grants nothing)";
  auto s = security::FormatSddl(*d.sd);
  return s.ok() ? *s : "(not expressible as SDDL)";
}

nlohmann::json DescriptorJson(const DescriptorSetting& d) {
  nlohmann::json j = {{"source", PolicySourceName(d.source)},
                      {"origin", d.origin},
                      {"everyone", d.everyone},
                      {"invalid", d.invalid},
                      {"sddl", DescriptorText(d)}};
  if (!d.problem.empty()) j["problem"] = d.problem;
  return j;
}

Result<Guid> ResolveAppId(ReadTransaction& tx, const std::string& appid,
                          const std::string& clsid) {
  if (!clsid.empty()) {
    auto c = Guid::Parse(clsid);
    if (!c.ok()) return std::move(c).TakeStatus();
    return AppIdForClsid(tx, *c);
  }
  auto g = Guid::Parse(appid);
  if (!g.ok()) return std::move(g).TakeStatus();
  return *g;
}

struct EffectiveArgs {
  std::string appid, clsid, access_sd;
  std::string authn_level, imp_level;  // numbers or names; "" is DEFAULT
  bool json = false;
  bool appid_form = false;
};

int RunEffective(const EffectiveArgs& a, const GlobalOptions& global,
                 const Io& io) {
  ProcessSecurity process;
  if (Status s = ParseLevelOptions(a.authn_level, a.imp_level, &process.authn_level,
                                   &process.imp_level);
      !s.ok()) {
    return ReportBadInput(io, s);
  }
  bool has_process = process.authn_level != AuthnLevel::kDefault ||
                     process.imp_level != ImpLevel::kDefault || !a.access_sd.empty() ||
                     a.appid_form;
  if (a.appid_form) {
    process.access = ProcessSecurity::Access::kAppId;
  } else if (!a.access_sd.empty()) {
    auto sd = security::ParseSddl(a.access_sd);
    if (!sd.ok()) return ReportBadInput(io, sd.status());
    process.access = ProcessSecurity::Access::kDescriptor;
    process.access_sd = *sd;
  }
  auto store = OpenStore(global, StoreAccess::kRead);
  if (!store.ok()) return ReportFailure(io, store.status());
  auto tx = (*store)->BeginRead();
  if (!tx.ok()) return ReportFailure(io, tx.status());
  auto appid = ResolveAppId(**tx, a.appid, a.clsid);
  if (!appid.ok()) {
    return appid.status().code() == E_INVALIDARG
               ? ReportBadInput(io, appid.status())
               : ReportFailure(io, appid.status());
  }
  auto p = ResolveEffectivePolicy(**tx, *appid, has_process ? &process : nullptr);
  if (!p.ok()) return ReportFailure(io, p.status());
  if (a.json) {
    nlohmann::json j;
    j["appid"] = p->appid.ToRegistryString();
    j["appid_registered"] = p->appid_registered;
    j["authentication_level"] = LevelJson(p->authn_level);
    j["impersonation_level"] = LevelJson(p->imp_level);
    j["launch_permission"] = DescriptorJson(p->launch);
    j["access_permission"] = DescriptorJson(p->access);
    j["machine_launch_limit"] = DescriptorJson(p->machine_launch_limit);
    j["machine_access_limit"] = DescriptorJson(p->machine_access_limit);
    j["enable_dcom"] = {{"value", p->enable_dcom},
                        {"source", PolicySourceName(p->enable_dcom_source)}};
    j["min_activation_authentication_level"] = security::ToNumber(p->min_activation_authn_level);
    j["secure_references"] = p->secure_references;
    j["process_fails"] = p->process_fails;
    if (p->process_fails) j["process_failure"] = p->process_failure;
    j["warnings"] = p->warnings;
    io.out << j.dump(2) << "\n";
    return kExitOk;
  }
  io.out << "AppID " << p->appid.ToRegistryString()
         << (p->appid_registered ? "" : " (not registered: defaults apply)")
         << "\n";
  auto line = [&io](const char* what, const std::string& value,
                    PolicySource source, const std::string& origin) {
    io.out << "  " << what << ": " << value << "\n      source: "
           << PolicySourceName(source) << " (" << origin << ")\n";
  };
  line("authentication level",
       std::to_string(security::ToNumber(p->authn_level.value)) + " " +
           std::string(AuthnLevelName(p->authn_level.value)),
       p->authn_level.source, p->authn_level.origin);
  line("impersonation level",
       std::to_string(security::ToNumber(p->imp_level.value)) + " " +
           std::string(ImpLevelName(p->imp_level.value)),
       p->imp_level.source, p->imp_level.origin);
  line("launch permission", DescriptorText(p->launch), p->launch.source,
       p->launch.origin);
  line("access permission", DescriptorText(p->access), p->access.source,
       p->access.origin);
  line("machine launch limit", DescriptorText(p->machine_launch_limit),
       p->machine_launch_limit.source, p->machine_launch_limit.origin);
  line("machine access limit", DescriptorText(p->machine_access_limit),
       p->machine_access_limit.source, p->machine_access_limit.origin);
  io.out << "  EnableDCOM: " << (p->enable_dcom ? "Y" : "N") << " ("
         << PolicySourceName(p->enable_dcom_source) << ")\n";
  io.out << "  minimum activation authentication level: "
         << AuthnLevelName(p->min_activation_authn_level) << "\n";
  if (p->process_fails) io.out << "  FAILS: " << p->process_failure << "\n";
  for (const std::string& w : p->warnings) io.out << "  warning: " << w << "\n";
  return kExitOk;
}

struct ExplainArgs {
  std::string operation, appid, clsid;
  CallerArgs caller;
  // --package kerberos --principal P: the caller as that package's server
  // would name it (auth/gssapi/principal_mapping.h), instead of --user.
  std::string package, principal;
  std::string authn_level;  // a number or a name; "" is not evaluated
  bool json = false;
};

int RunExplain(const ExplainArgs& a, const GlobalOptions& global,
               const Io& io) {
  Operation op = a.operation == "launch"     ? Operation::kLaunch
                 : a.operation == "activate" ? Operation::kActivate
                                             : Operation::kAccess;
  if (Status s = CheckDistance(a.caller); !s.ok()) return ReportBadInput(io, s);
  if (a.appid.empty() == a.clsid.empty()) {
    return ReportBadInput(io, Status(E_INVALIDARG,
                                     "give exactly one of --appid and --clsid"));
  }
  AuthnLevel authn_level = AuthnLevel::kDefault;
  if (Status s = ParseLevelOptions(a.authn_level, "", &authn_level, nullptr); !s.ok()) {
    return ReportBadInput(io, s);
  }
  if (a.caller.user.empty() == a.principal.empty()) {
    return ReportBadInput(io, Status(E_INVALIDARG,
                                     "name the caller with --user, or with --package "
                                     "kerberos --principal PRINCIPAL (exactly one)"));
  }
  if (!a.principal.empty() && a.package != "kerberos") {
    return ReportBadInput(io, Status(E_INVALIDARG,
                                     "--principal needs --package kerberos (the only "
                                     "package whose callers are named by principal)"));
  }
  // The identity the package resolved, when named by principal.
  std::optional<auth::gssapi::MappedIdentity> identity;
  Result<security::Token> token = Status(E_UNEXPECTED, "no caller");
  std::string caller_name = a.caller.user;
  if (!a.principal.empty()) {
    auto map = auth::gssapi::StorePrincipalMap::Open(StorePath(global));
    if (!map.ok()) return ReportFailure(io, map.status());
    auto resolved = auth::gssapi::ResolvePrincipal(a.principal, map->get());
    if (!resolved.ok()) {
      io.out << "denied\nthe Kerberos server refuses " << a.principal
             << " before any access check: " << resolved.status().message() << "\n";
      io.err << "comcfg: " << resolved.status().ToString() << "\n";
      return kExitDenied;
    }
    identity = std::move(*resolved);
    token = *identity->token;
  } else {
    StoreAccounts accounts(StorePath(global));
    auto caller = BuildCaller(a.caller, &accounts);
    if (!caller.ok()) return ReportBadInput(io, caller.status());
    if (!caller->logon_refused.empty()) {
      io.out << "denied\nthe server refuses the logon of " << caller->name
             << " before any access check: " << caller->logon_refused << "\n";
      io.err << "comcfg: SEC_E_LOGON_DENIED: " << caller->logon_refused << "\n";
      return kExitDenied;
    }
    token = std::move(caller->token);
    caller_name = caller->name;
  }
  if (!token.ok()) return ReportBadInput(io, token.status());
  auto store = OpenStore(global, StoreAccess::kRead);
  if (!store.ok()) return ReportFailure(io, store.status());
  auto tx = (*store)->BeginRead();
  if (!tx.ok()) return ReportFailure(io, tx.status());
  auto appid = ResolveAppId(**tx, a.appid, a.clsid);
  if (!appid.ok()) {
    return appid.status().code() == E_INVALIDARG
               ? ReportBadInput(io, appid.status())
               : ReportFailure(io, appid.status());
  }
  auto policy = ResolveEffectivePolicy(**tx, *appid, nullptr);
  if (!policy.ok()) return ReportFailure(io, policy.status());
  AccessRequest request;
  request.operation = op;
  request.token = &*token;
  request.remote = a.caller.remote;
  request.authn_level = authn_level;
  request.principal = identity ? identity->token->user().ToString() : caller_name;
  Decision d = Decide(*policy, request);
  if (a.json) {
    nlohmann::json j;
    j["operation"] = OperationName(op);
    j["appid"] = appid->ToRegistryString();
    j["allowed"] = d.allowed;
    j["hresult"] = d.hr.Hex();
    j["hresult_name"] = std::string(d.hr.Name());
    j["summary"] = d.summary;
    j["remedy"] = d.remedy;
    j["required_rights"] = security::FormatComRights(RequiredRights(op, request.remote));
    j["checks"] = nlohmann::json::array();
    for (const CheckStep& s : d.steps) {
      nlohmann::json c = {{"check", s.name},
                          {"evaluated", s.evaluated},
                          {"passed", s.passed},
                          {"detail", s.detail}};
      if (s.ace) c["ace"] = {{"index", *s.ace}, {"sddl", s.ace_sddl}};
      j["checks"].push_back(std::move(c));
    }
    j["token"] = token->Describe();
    j["caller"] = TokenJson(*token);
    if (identity) {
      j["package"] = "kerberos";
      j["identity"] = {{"principal", a.principal},
                       {"name", identity->name},
                       {"source", identity->source},
                       {"sid", identity->token->user().ToString()}};
    }
    io.out << j.dump(2) << "\n";
  } else {
    io.out << (d.allowed ? "allowed" : "denied") << "\n";
    if (identity) {
      io.out << "package: Kerberos (auth_type 16); principal " << a.principal << " is "
             << identity->name << " (" << identity->source << ")\n"
             << "  (a ticket whose PAC has a logon info, as a Windows KDC issues, is mapped from "
                "the PAC's SIDs first; explain has no ticket)\n";
    }
    io.out << OperationName(op) << " of AppID " << appid->ToRegistryString()
           << " by " << token->Describe() << "\n";
    io.out << "needs: "
           << security::FormatComRights(RequiredRights(op, request.remote))
           << "\n";
    for (size_t i = 0; i < d.steps.size(); ++i) {
      const CheckStep& s = d.steps[i];
      io.out << "  " << i + 1 << ". " << s.name << ": "
             << (!s.evaluated ? "not evaluated" : s.passed ? "pass" : "FAIL")
             << "\n     " << s.detail << "\n";
    }
    if (!d.allowed) {
      io.out << "result: " << d.hr.ToString() << ": " << d.summary << "\n";
      io.out << "remedy: " << d.remedy << "\n";
    }
  }
  return d.allowed ? kExitOk : kExitDenied;
}

}  // namespace

void AddPolicyCommands(CLI::App& app, const GlobalOptions& global,
                       const Io& io, int* exit_code) {
  auto e = std::make_shared<EffectiveArgs>();
  CLI::App* eff = app.add_subcommand(
      "effective", "the settings in force for an application, each with its "
                   "source (process / AppID / machine default / built-in)");
  auto* appid_opt = eff->add_option("--appid", e->appid, "the AppID");
  auto* clsid_opt = eff->add_option("--clsid", e->clsid, "or a class");
  appid_opt->excludes(clsid_opt);
  eff->add_option("--authn-level", e->authn_level,
                  "CoInitializeSecurity dwAuthnLevel: 0-6 or a name "
                  "(PKT_INTEGRITY, RPC_C_AUTHN_LEVEL_PKT_PRIVACY, ...)");
  eff->add_option("--imp-level", e->imp_level,
                  "CoInitializeSecurity dwImpLevel: 1-4 or a name (IDENTIFY, ...)");
  eff->add_option("--access-sd", e->access_sd,
                  "CoInitializeSecurity pSecDesc, as SDDL");
  eff->add_flag("--eoac-appid", e->appid_form,
                "CoInitializeSecurity with EOAC_APPID (the registry decides)");
  eff->add_flag("--json", e->json, "print JSON");
  eff->callback([e, appid_opt, clsid_opt, &global, &io, exit_code] {
    if (!appid_opt->count() && !clsid_opt->count()) {
      *exit_code = ReportBadInput(
          io, Status(E_INVALIDARG, "give --appid GUID or --clsid GUID"));
      return;
    }
    *exit_code = RunEffective(*e, global, io);
  });

  auto x = std::make_shared<ExplainArgs>();
  CLI::App* ex = app.add_subcommand(
      "explain", "decide a launch, activation or call and show every check, "
                 "the deciding ACE and the remedy; exit 0 allowed, 1 denied");
  ex->add_option("OPERATION", x->operation, "launch, activate or access")
      ->required()
      ->check(CLI::IsMember({"launch", "activate", "access"}));
  ex->add_option("--appid", x->appid, "the AppID");
  ex->add_option("--clsid", x->clsid, "or a class");
  AddCallerOptions(ex, x->caller, /*user_optional=*/true);
  ex->add_option("--package", x->package,
                 "the security package the caller authenticates with (kerberos)")
      ->check(CLI::IsMember({"kerberos"}));
  ex->add_option("--principal", x->principal,
                 "with --package kerberos: the client principal (alice@REALM), named as "
                 "the server would name it (PAC, store map, auth_to_local)");
  ex->add_option("--authn-level", x->authn_level,
                 "the request's authentication level: 1-6 or a name (PKT_PRIVACY, ...)");
  ex->add_flag("--json", x->json, "print JSON");
  ex->callback([x, &global, &io, exit_code] {
    *exit_code = RunExplain(*x, global, io);
  });
}

}  // namespace comsec::comcfg
