#include "comsec/runtime/runtime.h"

#include "comsec/auth/ntlm/logon_policy.h"
#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/base/descriptor_limit.h"
#include "comsec/config/accounts.h"
#include "comsec/config/kerberos_config.h"
#include "comsec/config/tls_settings.h"

namespace comsec::runtime {
namespace {

// CO_E_SERVER_EXEC_FAILURE (0x80080005), what COM reports for a server
// whose security cannot be initialized (config/explain.cc names it too).

// Descriptors a server holds besides its connections: listeners, the
// store and secrets files, logs, the logon service's short connections.
constexpr uint64_t kDescriptorMargin = 64;

// The authentication level without a store: the program's own, else
// CONNECT (R8), as ResolveEffectivePolicy decides with an empty registry.
config::LevelSetting<security::AuthnLevel> LevelWithoutStore(const ProgramSecurity& program) {
  using security::AuthnLevel;
  if (program.process && program.process->access != config::ProcessSecurity::Access::kAppId) {
    const AuthnLevel level = program.process->authn_level == AuthnLevel::kDefault
                                 ? AuthnLevel::kConnect
                                 : program.process->authn_level;
    return {level, config::PolicySource::kProcess, "CoInitializeSecurity dwAuthnLevel"};
  }
  return {AuthnLevel::kConnect, config::PolicySource::kBuiltIn, "built-in (R8)"};
}

}  // namespace

Result<RuntimeOptions> RuntimeOptionsFromStore(config::Store* store,
                                               const ProgramSecurity& program,
                                               const Logger* logger) {
  RuntimeOptions o;
  o.validation = program.validation;
  using Kind = LogonValidation::Kind;
  if (o.validation.kind == Kind::kSecretsFile && o.validation.store_path.empty()) {
    return Status(E_INVALIDARG,
                  "validating NTLM logons in this process needs the store whose secrets "
                  "file holds the accounts (--store PATH)");
  }
  if (o.validation.kind == Kind::kLogonService && !o.validation.logon_service.IsLocal()) {
    return Status(E_INVALIDARG,
                  "comsecd's logon service answers on ncalrpc only (the kernel names its "
                  "callers there), not on " +
                      o.validation.logon_service.ToString() +
                      "; use --logon-service ncalrpc:[epmapper] or the socket it listens on");
  }

  // ---- The process's authentication level (R7, R8, R68, R73, R163).
  config::LevelSetting<security::AuthnLevel> level = LevelWithoutStore(program);
  if (store != nullptr) {
    COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginRead());
    COMSEC_ASSIGN_OR_RETURN(
        config::EffectivePolicy policy,
        config::ResolveEffectivePolicy(*tx, program.appid,
                                       program.process ? &*program.process : nullptr));
    if (policy.process_fails) {
      return Status(CO_E_SERVER_EXEC_FAILURE, policy.process_failure);
    }
    if (logger) {
      for (const std::string& w : policy.warnings) {
        logger->Log(LogEvent("config.warning", LogSeverity::kWarning, w));
      }
    }
    level = policy.authn_level;
  }
  const uint32_t level_number = security::ToNumber(level.value);
  if (level_number < 1 || level_number > 6) {
    return Status(E_INVALIDARG, "authentication level " + std::to_string(level_number) +
                                    " from " + level.origin + " is not 1-6");
  }
  o.authn_level = level.value;
  o.authn_level_origin = level.origin;

  // ---- NTLM. A null session is an unauthenticated caller: allowed only
  // where unauthenticated calls are.
  o.ntlm.offer = program.offer_ntlm && o.validation.kind != Kind::kNone;
  o.ntlm.allow_anonymous = o.authn_level == security::AuthnLevel::kNone;
  o.ntlm.computer_name = config::NetbiosComputerName();
  o.ntlm.logon_policy.own_names.push_back(o.ntlm.computer_name);
  if (o.validation.kind == Kind::kSecretsFile && store != nullptr) {
    // LmCompatibilityLevel, lockout, foreign domains: this process applies
    // them. (comsecd applies its own for kLogonService.)
    COMSEC_ASSIGN_OR_RETURN(o.ntlm.logon_policy, auth::ntlm::ReadLogonPolicy(store, logger));
  }

  // ---- TLS: the files `comcfg tls set` stored, and the store whose
  // certificate mappings servers use.
  if (store != nullptr) {
    COMSEC_ASSIGN_OR_RETURN(config::TlsFiles files, config::ReadTlsFiles(store));
    o.tls.certificate_file = std::move(files.certificate_file);
    o.tls.key_file = std::move(files.key_file);
    o.tls.ca_file = std::move(files.ca_file);
    o.tls.store_path = store->path();
  }
  // ---- Kerberos: offered when the store names a keytab; its principal map
  // names the callers whenever Kerberos is offered.
  if (store != nullptr) {
    COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginRead());
    COMSEC_ASSIGN_OR_RETURN(config::KerberosConfig krb, config::ReadKerberosConfig(*tx));
    if (!krb.keytab.empty()) {
      o.kerberos.offer = true;
      o.kerberos.keytab = krb.keytab;
      o.kerberos.spns = krb.spns;
    }
    o.kerberos.constrained_delegation = krb.constrained_delegation;
    o.kerberos.principal_map_store = store->path();
  }
  return o;
}

Result<RuntimeOptions> RuntimeOptionsFromStorePath(const std::string& store_path,
                                                   const ProgramSecurity& program,
                                                   const Logger* logger) {
  if (store_path.empty()) return RuntimeOptionsFromStore(nullptr, program, logger);
  // Only read: every local COM process may read the policy store.
  config::StoreOptions read_only;
  read_only.create_if_missing = false;
  read_only.read_only = true;
  COMSEC_ASSIGN_OR_RETURN(auto store, config::Store::Open(store_path, read_only));
  return RuntimeOptionsFromStore(store.get(), program, logger);
}

void RaiseDescriptorLimitFor(const rpc::ServerOptions& server, const Logger* logger) {
  Result<uint64_t> limit = RaiseDescriptorLimit();
  if (!logger) return;
  if (!limit.ok()) {
    logger->Log(LogEvent("runtime.descriptor_limit_unchanged", LogSeverity::kWarning,
                         "descriptors: the open-file limit could not be raised: " +
                             limit.status().ToString())
                    .Hresult(limit.status().code()));
    return;
  }
  const uint64_t wanted = server.max_connections + server.max_local_connections +
                          kDescriptorMargin;
  logger->Log(LogEvent("runtime.descriptor_limit", LogSeverity::kInfo,
                       "descriptors: up to " + std::to_string(*limit) +
                           " open files (soft RLIMIT_NOFILE)")
                  .Extra("limit", std::to_string(*limit)));
  if (*limit < wanted) {
    logger->Log(LogEvent("runtime.descriptor_limit_low", LogSeverity::kWarning,
                         "descriptors: " + std::to_string(server.max_connections) +
                             " TCP and " + std::to_string(server.max_local_connections) +
                             " ncalrpc connections may need about " + std::to_string(wanted) +
                             " descriptors; raise the hard limit (ulimit -Hn, LimitNOFILE=) "
                             "or lower --max-connections")
                    .Extra("limit", std::to_string(*limit))
                    .Extra("wanted", std::to_string(wanted)));
  }
}

// ==== Runtime ===============================================================

Runtime::Runtime(RuntimeOptions options, const Logger* logger)
    : options_(std::move(options)),
      logger_(logger),
      reflection_(auth::ntlm::ReflectionLimits{}, logger) {}

Runtime::~Runtime() = default;

Result<std::unique_ptr<Runtime>> Runtime::Create(RuntimeOptions options,
                                                 const Logger* logger) {
  std::unique_ptr<Runtime> rt(new Runtime(std::move(options), logger));
  const RuntimeOptions& o = rt->options_;
  using Kind = LogonValidation::Kind;
  switch (o.validation.kind) {
    case Kind::kSecretsFile: {
      // Creates the secrets file (0600) and moves an older store's
      // accounts into it.
      COMSEC_ASSIGN_OR_RETURN(
          auto opened,
          auth::ntlm::StoreLogonValidator::Open(o.validation.store_path,
                                                o.ntlm.logon_policy, logger));
      rt->store_validator_ = opened.get();
      rt->validator_ = std::move(opened);
      if (rt->store_validator_->AccountDomain().empty() && logger) {
        logger->Log(LogEvent("ntlm.no_accounts", LogSeverity::kWarning,
                             o.validation.store_path +
                                 " has no accounts yet; NTLM logons will fail until "
                                 "'comcfg user add NAME' creates one")
                        .Extra("store", o.validation.store_path));
      }
      break;
    }
    case Kind::kLogonService:
      rt->validator_ =
          std::make_unique<auth::ntlm::RemoteLogonValidator>(o.validation.logon_service);
      break;
    case Kind::kNone:
      break;
  }
  if (o.offer_local) rt->packages_.Add(&rt->local_);
  if (o.ntlm.offer && rt->validator_) {
    auth::ntlm::ServerOptions ntlm;
    ntlm.validator = rt->validator_.get();
    ntlm.computer_name = o.ntlm.computer_name;
    ntlm.dns_computer_name = o.ntlm.dns_computer_name;
    ntlm.dns_domain_name = o.ntlm.dns_domain_name;
    ntlm.allow_anonymous = o.ntlm.allow_anonymous;
    ntlm.reflection = &rt->reflection_;
    // Refusals (ntlm.logon_refused) and weak logons, as they happen; the
    // RPC runtime logs the connection's close besides.
    ntlm.logger = logger;
    rt->ntlm_server_ = std::make_unique<auth::ntlm::NtlmPackage>(std::move(ntlm));
    rt->packages_.Add(rt->ntlm_server_.get());
  }
  if (o.kerberos.offer) {
    auth::gssapi::KerberosServerOptions krb;
    krb.keytab = o.kerberos.keytab;
    krb.spns = o.kerberos.spns;
    krb.constrained_delegation = o.kerberos.constrained_delegation;
    krb.logger = logger;
    if (!o.kerberos.principal_map_store.empty()) {
      COMSEC_ASSIGN_OR_RETURN(rt->principal_map_, auth::gssapi::StorePrincipalMap::Open(
                                                      o.kerberos.principal_map_store));
      krb.principal_map = rt->principal_map_.get();
    }
    COMSEC_ASSIGN_OR_RETURN(rt->kerberos_server_,
                            auth::gssapi::KerberosPackage::CreateServer(std::move(krb)));
    rt->packages_.Add(rt->kerberos_server_.get());
  }
  if (o.tls.offer) {
    auth::tls::TlsServerOptions tls;
    tls.certificate_file = o.tls.certificate_file;
    tls.key_file = o.tls.key_file;
    tls.ca_file = o.tls.ca_file;
    tls.logger = logger;
    if (!o.tls.ca_file.empty() && !o.tls.store_path.empty()) {
      COMSEC_ASSIGN_OR_RETURN(rt->tls_mapper_,
                              auth::tls::StoreCertificateMapper::Open(o.tls.store_path));
      tls.mapper = rt->tls_mapper_.get();
    }
    COMSEC_ASSIGN_OR_RETURN(rt->tls_server_, auth::tls::TlsPackage::CreateServer(std::move(tls)));
    rt->packages_.Add(rt->tls_server_.get());
  }
  if (o.offer_negotiate && (rt->ntlm_server_ || rt->kerberos_server_)) {
    auth::negotiate::NegotiateOptions negotiate;
    negotiate.kerberos = rt->kerberos_server_.get();
    negotiate.ntlm = rt->ntlm_server_.get();
    negotiate.logger = logger;
    rt->negotiate_server_ = std::make_unique<auth::negotiate::NegotiatePackage>(negotiate);
    rt->packages_.Add(rt->negotiate_server_.get());
  }
  return rt;
}

rpc::ServerOptions Runtime::ServerOptions() const {
  rpc::ServerOptions s = options_.server;
  s.packages = &packages_;
  s.logger = logger_;
  return s;
}

std::string Runtime::AccountDomain() const {
  return store_validator_ ? store_validator_->AccountDomain() : std::string();
}

std::unique_ptr<auth::ntlm::NtlmPackage> Runtime::NtlmClient(
    auth::ntlm::ClientCredentials credentials) {
  return std::make_unique<auth::ntlm::NtlmPackage>(std::move(credentials), &reflection_);
}

}  // namespace comsec::runtime
