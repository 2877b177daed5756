#include "comsec/com/call_access.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "comsec/base/hresult.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::com {
namespace {

using security::AuthnLevel;

// SELF (PS) in a descriptor is the server's own identity.
void SubstituteSelf(config::DescriptorSetting& d, const security::Sid& self) {
  if (!d.sd || !d.sd->dacl) return;
  for (security::Ace& ace : d.sd->dacl->aces) {
    if (ace.sid == security::well_known::PrincipalSelf()) ace.sid = self;
  }
}

}  // namespace

// How comcfg names the caller: uid:N for a Unix account, DOMAIN\name for an
// account of a domain (the store's accounts), AN for an unauthenticated
// caller, else the SID.
std::string ComcfgPrincipal(const rpc::CallContext& call) {
  const rpc::CallSecurity& s = call.security;
  if (s.authn_level == AuthnLevel::kNone || !s.token || s.token->IsAnonymous()) return "AN";
  if (auto uid = security::UnixUidOf(s.token->user())) return "uid:" + std::to_string(*uid);
  const std::string& p = s.principal;
  if (p.find('\\') != std::string::npos && p.rfind("NT AUTHORITY\\", 0) != 0) return p;
  return s.token->user().ToString();
}

std::string RefusingRule(const config::Decision& d) {
  for (const config::CheckStep& s : d.steps) {
    if (s.passed) continue;
    if (s.name == "authentication level") return "R187.1 authentication level";
    if (s.name == "machine access restriction") return "R139 machine access restriction";
    if (s.name == "access permission") return "R137 access permission";
    if (s.name == "authentication service") return "R62 authentication service";
    return s.name;
  }
  return "";
}

Result<std::unique_ptr<CallAccessGate>> CallAccessGate::Open(CallAccessOptions options) {
  std::unique_ptr<CallAccessGate> gate(new CallAccessGate(std::move(options)));
  config::StoreOptions so;
  std::string path = gate->options_.store_path;
  if (path.empty()) {
    // No store: an empty registry, whose every value is the built-in one.
    path = ":memory:";
  } else {
    so.create_if_missing = false;
    so.read_only = true;
  }
  COMSEC_ASSIGN_OR_RETURN(gate->store_, config::Store::Open(path, so));
  return gate;
}

CallAccessGate::CallAccessGate(CallAccessOptions options)
    : options_(std::move(options)), self_(security::UnixUserSid(geteuid())) {}

Result<std::shared_ptr<const ProcessSecuritySettings>> CallAccessGate::Initialize(
    const std::optional<config::ProcessSecurity>& process, ProcessSecuritySettings base) {
  std::lock_guard<std::mutex> lock(store_mu_);
  source_ = Source{process, std::move(base)};
  {
    // A new initialization starts from nothing running.
    std::lock_guard<std::mutex> s(settings_mu_);
    settings_.reset();
  }
  COMSEC_ASSIGN_OR_RETURN(auto settings, ResolveLocked());
  std::lock_guard<std::mutex> s(settings_mu_);
  settings_ = settings;
  return settings;
}

Result<std::shared_ptr<const ProcessSecuritySettings>> CallAccessGate::ResolveLocked() {
  COMSEC_ASSIGN_OR_RETURN(generation_, store_->Generation());
  next_refresh_ = std::chrono::steady_clock::now() + options_.refresh_interval;
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginRead());
  const Source& src = *source_;
  // A refresh keeps the levels the process initialized with (R72).
  const std::shared_ptr<const ProcessSecuritySettings> running = settings();
  COMSEC_ASSIGN_OR_RETURN(
      config::EffectivePolicy policy,
      config::ResolveEffectivePolicy(*tx, src.base.appid, src.process ? &*src.process : nullptr,
                                     running ? &running->policy : nullptr));
  if (policy.process_fails) return Status(CO_E_SERVER_EXEC_FAILURE, policy.process_failure);
  SubstituteSelf(policy.access, self_);
  SubstituteSelf(policy.machine_access_limit, self_);
  auto settings = std::make_shared<ProcessSecuritySettings>(src.base);
  const bool registry_decides =
      !src.process || src.process->access == config::ProcessSecurity::Access::kAppId;
  // R73: without CoInitializeSecurity, LegacySecureReferences decides.
  if (registry_decides) settings->secure_references = policy.secure_references;
  if (settings->access_control) {
    policy.access.origin = "CoInitializeSecurity pSecDesc = IAccessControl";
  }
  settings->policy = std::move(policy);
  return std::shared_ptr<const ProcessSecuritySettings>(std::move(settings));
}

void CallAccessGate::MaybeRefresh(bool force) {
  std::unique_lock<std::mutex> lock(store_mu_, std::defer_lock);
  if (force) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return;  // another thread is refreshing
  }
  if (!source_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now < next_refresh_) return;
  next_refresh_ = now + options_.refresh_interval;
  auto generation = store_->Generation();
  if (!generation.ok() || *generation == generation_) return;
  auto settings = ResolveLocked();
  if (!settings.ok()) {
    // Keep the settings in force: a store that cannot be read now does not
    // open the process, and a policy that became invalid is reported.
    if (options_.logger) {
      options_.logger->Log(LogEvent("com.policy_refresh_failed", LogSeverity::kError,
                                    "the changed access policy could not be read; the "
                                    "previous one stays in force")
                               .Hresult(settings.status().code())
                               .Reason(std::string(settings.status().message())));
    }
    return;
  }
  std::lock_guard<std::mutex> s(settings_mu_);
  settings_ = std::move(*settings);
}

std::shared_ptr<const ProcessSecuritySettings> CallAccessGate::settings() const {
  std::lock_guard<std::mutex> lock(settings_mu_);
  return settings_;
}

config::Decision CallAccessGate::Decide(const ProcessSecuritySettings& settings,
                                        const rpc::CallContext& call) const {
  static const security::Token kAnonymousNetwork =
      security::Token::Anonymous(security::LogonKind::kNetwork, false);
  static const security::Token kAnonymousLocal =
      security::Token::Anonymous(security::LogonKind::kLocal, false);
  const rpc::CallSecurity& s = call.security;
  // R62: a process that listed its packages (cAuthSvc 0 or n) receives no
  // call authenticated by another network package. Windows never binds
  // such a call (the package has no server credentials registered); here
  // the exporter offers its packages before CoInitializeSecurity runs, so
  // the call is refused, E_ACCESSDENIED like every refusal of this gate.
  if (settings.authn_services_listed && s.authn_level > AuthnLevel::kNone &&
      s.authn_svc != rpc::RPC_C_AUTHN_NONE && s.authn_svc != rpc::RPC_C_AUTHN_KERNEL &&
      std::find(settings.authn_services.begin(), settings.authn_services.end(), s.authn_svc) ==
          settings.authn_services.end()) {
    config::Decision d;
    d.hr = E_ACCESSDENIED;
    config::CheckStep step;
    step.name = "authentication service";
    step.passed = false;
    const std::string registered =
        settings.authn_services.empty()
            ? std::string("cAuthSvc 0: none")
            : std::to_string(settings.authn_services.size()) + " listed";
    step.detail = "authentication service " + std::to_string(s.authn_svc) +
                  " is not among the packages CoInitializeSecurity registered (" + registered +
                  ")";
    d.steps.push_back(std::move(step));
    d.summary = "the process registered no such authentication service (R62)";
    d.remedy = "list authentication service " + std::to_string(s.authn_svc) +
               " in the server's CoInitializeSecurity asAuthSvc (its code), or call with one it "
               "registered";
    return d;
  }
  config::AccessRequest request;
  request.operation = config::Operation::kAccess;
  request.remote = !call.local;
  const security::Token& anonymous = call.local ? kAnonymousLocal : kAnonymousNetwork;
  request.token = s.token ? s.token.get() : &anonymous;
  request.authn_level = s.authn_level;
  request.principal = ComcfgPrincipal(call);
  config::Decision d = config::Decide(settings.policy, request);
  if (d.allowed && settings.access_control) {
    // R143: the process's IAccessControl, asked with COM_RIGHTS_EXECUTE.
    const security::Token& subject =
        s.authn_level == AuthnLevel::kNone ? anonymous : *request.token;
    auto allowed = settings.access_control->IsAccessAllowed(subject, security::COM_RIGHTS_EXECUTE);
    config::CheckStep step;
    step.name = "access permission";
    step.requested = security::COM_RIGHTS_EXECUTE;
    step.passed = allowed.ok() && *allowed;
    step.detail = !allowed.ok() ? "IAccessControl::IsAccessAllowed failed: " +
                                      allowed.status().ToString()
                  : *allowed    ? "IAccessControl::IsAccessAllowed grants COM_RIGHTS_EXECUTE"
                                : "IAccessControl::IsAccessAllowed refuses COM_RIGHTS_EXECUTE";
    d.steps.push_back(step);
    if (!step.passed) {
      d.allowed = false;
      d.hr = E_ACCESSDENIED;
      d.summary = "the process's IAccessControl does not grant execute";
      d.remedy = "grant " + request.principal +
                 " COM_RIGHTS_EXECUTE in the server's IAccessControl object (its code)";
    }
  }
  return d;
}

namespace {
// Enough for a server's concurrent callers; past it the oldest go.
constexpr size_t kAllowedCacheSize = 64;

// The same object, alive: a weak pointer to a freed object never matches
// another that took its address.
template <class T>
bool Same(const std::weak_ptr<const T>& w, const std::shared_ptr<const T>& t) {
  return !w.owner_before(t) && !t.owner_before(w) && !w.expired();
}
}  // namespace

bool CallAccessGate::CachedAllowed(const std::shared_ptr<const ProcessSecuritySettings>& settings,
                                   const rpc::CallContext& call) {
  const auto& token = call.security.token;
  if (!token) return false;  // anonymous calls are decided each time
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (!Same(cache_for_, settings)) return false;
  for (const Allowed& a : allowed_) {
    if (a.level == call.security.authn_level && a.local == call.local && Same(a.token, token)) {
      return true;
    }
  }
  return false;
}

void CallAccessGate::RememberAllowed(
    const std::shared_ptr<const ProcessSecuritySettings>& settings, const rpc::CallContext& call) {
  if (!call.security.token) return;
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (!Same(cache_for_, settings)) {
    allowed_.clear();
    cache_for_ = settings;
  }
  std::erase_if(allowed_, [](const Allowed& a) { return a.token.expired(); });
  if (allowed_.size() >= kAllowedCacheSize) allowed_.erase(allowed_.begin());
  allowed_.push_back({call.security.token, call.security.authn_level, call.local});
}

HResult CallAccessGate::Check(const rpc::CallContext& call) {
  MaybeRefresh(false);
  std::shared_ptr<const ProcessSecuritySettings> settings = this->settings();
  if (!settings) {
    if (options_.logger) {
      options_.logger->Log(LogEvent("com.access_denied", LogSeverity::kWarning,
                                    "call refused: the process's security is not initialized")
                               .Peer(call.peer)
                               .Hresult(E_ACCESSDENIED)
                               .Reason("security_not_initialized"));
    }
    return E_ACCESSDENIED;
  }
  if (CachedAllowed(settings, call)) return S_OK;
  config::Decision d = Decide(*settings, call);
  if (d.allowed) {
    RememberAllowed(settings, call);
    return S_OK;
  }
  // A refusal re-reads a changed store first: a remedy just applied counts.
  MaybeRefresh(true);
  settings = this->settings();
  d = Decide(*settings, call);
  if (d.allowed) return S_OK;
  LogDenial(*settings, call, d);
  return E_ACCESSDENIED;
}

std::string CallAccessGate::ExplainCommand(const ProcessSecuritySettings& settings,
                                           const rpc::CallContext& call) const {
  if (settings.policy.access.source == config::PolicySource::kProcess) return "";
  std::string cmd = "comcfg";
  if (!options_.store_path.empty()) cmd += " --store " + config::ShellWord(options_.store_path);
  cmd += " explain access --appid " + settings.policy.appid.ToRegistryString();
  cmd += " --user " + config::ShellWord(ComcfgPrincipal(call));
  cmd += call.local ? " --local" : " --remote";
  cmd += " --authn-level " + std::to_string(security::ToNumber(call.security.authn_level));
  return cmd;
}

void CallAccessGate::LogDenial(const ProcessSecuritySettings& settings,
                               const rpc::CallContext& call,
                               const config::Decision& d) const {
  if (options_.logger == nullptr) return;
  const rpc::CallSecurity& s = call.security;
  const std::string rule = RefusingRule(d);
  LogEvent e("com.access_denied", LogSeverity::kWarning,
             "call refused (" + rule + "): " + d.summary);
  e.Peer(call.peer)
      .Principal(s.principal.empty() ? "NT AUTHORITY\\ANONYMOUS LOGON" : s.principal)
      .AuthnLevel(security::ToNumber(s.authn_level), security::AuthnLevelName(s.authn_level))
      .Interface(call.interface.uuid, call.interface.major, call.interface.minor)
      .Opnum(call.opnum)
      .Hresult(E_ACCESSDENIED)
      .Reason(rule);
  e.Extra("appid", settings.policy.appid.ToRegistryString());
  e.Extra("distance", call.local ? "local" : "remote");
  if (s.token) e.Extra("sid", s.token->user().ToString());
  for (const config::CheckStep& step : d.steps) {
    if (step.passed) continue;
    e.Extra("check", step.name);
    e.Extra("detail", step.detail);
    if (!step.ace_sddl.empty()) e.Extra("ace", step.ace_sddl);
    break;
  }
  e.Extra("remedy", d.remedy);
  // comcfg cannot see which packages the process registered (R62).
  if (std::string cmd = ExplainCommand(settings, call);
      !cmd.empty() && rule != "R62 authentication service") {
    e.Extra("explain", cmd);
  }
  options_.logger->Log(e);
}

}  // namespace comsec::com
