// The process's RPC runtime (issue 10 item 1; STYLE.md: process-wide state
// lives in one Runtime that main creates). It owns what every server and
// client of a process shares: the security packages offered (NTLM, the
// local package), the logon validator NTLM servers use, the NTLM
// reflection registry (MS08-068), and the server's limits, and hands every
// part the process's one Logger (base/log.h). comsecd and the example
// servers are thin mains over it: parse flags, build the Logger
// (MakeFdLogger, base/log_sinks.h), build RuntimeOptions from the store,
// create the Runtime, register interfaces, listen, wait for a signal.
//
// RuntimeOptionsFromStore is the one function that maps the machine's
// policy (the store) and the program's own choices to runtime options, so
// that every program decides alike:
//   * the process's authentication level: the program's own
//     CoInitializeSecurity-like choice if it makes one (R68), else the
//     AppID's AuthenticationLevel, else the Ole key's
//     LegacyAuthenticationLevel, else CONNECT (R8, R73, R164), as
//     config::ResolveEffectivePolicy decides; an invalid AppID level makes
//     the process fail (R163);
//   * NTLM null sessions (anonymous logons): allowed only where
//     unauthenticated calls are, i.e. when that level is NONE;
//   * Kerberos: the keytab, SPNs and principal map of the store's Kerberos
//     key (config/kerberos_config.h);
//   * the logon policy of the Lsa key (LmCompatibilityLevel: NTLMv1 only
//     below 5; account lockout; foreign domains), read only when this
//     process validates logons itself (with comsecd's logon service,
//     comsecd applies its own).
//
// Thread-safety: RuntimeOptionsFromStore may run on any thread. A Runtime
// is built on one thread; afterwards every method may be called from any
// number of threads at once, and what it hands out (packages, validator,
// registry, ServerOptions) may be used from any thread. Everything it hands
// out must not outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/reflection_registry.h"
#include "comsec/auth/ntlm/store_logon_validator.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/auth/tls/store_certificate_mapper.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/base/guid.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/config/effective_policy.h"
#include "comsec/config/store.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/security_package.h"
#include "comsec/rpc/server.h"

namespace comsec::runtime {

// How NTLM logons are validated (auth/ntlm/logon_validator.h).
struct LogonValidation {
  enum class Kind : uint8_t {
    // None: servers do not offer NTLM.
    kNone,
    // In this process, against the secrets file beside the policy store at
    // `store_path` (comsecd, or a server that may read that file).
    kSecretsFile,
    // By comsecd's logon service at `logon_service` (ncalrpc), for a
    // server that may not read the secrets (auth/ntlm/logon_service.h).
    kLogonService,
  };
  Kind kind = Kind::kNone;
  std::string store_path;
  rpc::StringBinding logon_service;
};

// What the program decides for itself, which no store value overrides.
struct ProgramSecurity {
  // The program's CoInitializeSecurity (its authentication level floor,
  // R7). Null: the registry decides, as for a program that never calls it
  // (R73).
  std::optional<config::ProcessSecurity> process;
  // The program's AppID; the nil GUID: none (the machine defaults apply).
  Guid appid;
  LogonValidation validation;
  // Whether its servers offer NTLM to callers when logons can be
  // validated (comsecd validates for others but offers NTLM to nobody).
  bool offer_ntlm = true;
};

struct NtlmOptions {
  // Servers offer the NTLM package (with a validator only).
  bool offer = false;
  // Names the CHALLENGE announces; computer_name defaults to
  // config::NetbiosComputerName(), the DNS names to it and the domain.
  std::string computer_name;
  std::string dns_computer_name;
  std::string dns_domain_name;
  // Null sessions become ANONYMOUS LOGON callers; otherwise refused.
  bool allow_anonymous = false;
  // The logon policy an in-process validator applies (kSecretsFile);
  // allow_ntlmv1 is LmCompatibilityLevel below 5.
  auth::ntlm::LogonPolicy logon_policy;
};

struct KerberosOptions {
  // Servers offer Kerberos (auth_type 16), accepting with the keys of
  // `keytab` (empty: KRB5_KTNAME) for `spns` (empty: any principal of the
  // keytab); auth/gssapi/kerberos_package.h. RuntimeOptionsFromStore
  // sets all three from the store's Kerberos key (config/
  // kerberos_config.h) when it names a keytab; a program's own --keytab
  // replaces them.
  bool offer = false;
  std::string keytab;
  std::vector<std::string> spns;
  // The policy store whose principal map (and account database) name
  // Kerberos callers (auth/gssapi/principal_mapping.h); empty: no map.
  std::string principal_map_store;
  // Keep callers' forwardable tickets as evidence for S4U2Proxy (the
  // store's HKLM\SOFTWARE\comsec\Kerberos\ConstrainedDelegation).
  bool constrained_delegation = false;
};

struct TlsOptions {
  // Servers offer TLS (auth_type 14, auth/tls/tls_package.h) with this
  // certificate and key; with a CA file they ask clients for certificates,
  // verify them against it, and map them to accounts through the store at
  // `store_path` (auth/tls/store_certificate_mapper.h; no store: every
  // caller is anonymous). RuntimeOptionsFromStore fills the files and the
  // store path from the store (HKLM\SOFTWARE\comsec\Tls,
  // config/tls_settings.h); offering stays the program's choice.
  bool offer = false;
  std::string certificate_file;
  std::string key_file;
  std::string ca_file;
  std::string store_path;
};

struct RuntimeOptions {
  // The servers' limits, threads, deadlines, max_connections and
  // allow_unverified_requests. Its `packages` and `logger` are the
  // runtime's: ServerOptions() replaces whatever is set here.
  rpc::ServerOptions server;
  // The process's authentication level floor (R7): the minimum level its
  // interfaces are registered with: NONE to PKT_PRIVACY, never DEFAULT.
  security::AuthnLevel authn_level = security::AuthnLevel::kConnect;
  // Where authn_level came from, for logs ("CoInitializeSecurity
  // dwAuthnLevel", "HKLM\\...\\Ole\\LegacyAuthenticationLevel", "built-in (R8)").
  std::string authn_level_origin = "built-in (R8)";
  // ncalrpc callers may authenticate with the local package (R188).
  bool offer_local = true;
  NtlmOptions ntlm;
  KerberosOptions kerberos;
  TlsOptions tls;
  // Servers offer Negotiate (auth_type 9, SPNEGO) over whichever of
  // Kerberos and NTLM they offer; auth/negotiate/negotiate_package.h.
  bool offer_negotiate = true;
  LogonValidation validation;
};

// THE mapping from machine policy to runtime options (see the file
// comment). `store` may be null (no store: every value takes its built-in
// default); with kSecretsFile it is the policy store at
// validation.store_path, whose Lsa key holds the logon policy. `logger`
// (may be null) gets an event for each value ignored or weak:
// config.warning (the effective policy's warnings) and those of
// auth::ntlm::ReadLogonPolicy. Fails with
// CO_E_SERVER_EXEC_FAILURE when the policy makes the process fail (R163),
// E_INVALIDARG for a program choice that cannot work (kSecretsFile without
// a store path, kLogonService with a binding that is not ncalrpc), and with
// the store's error when it cannot be read.
Result<RuntimeOptions> RuntimeOptionsFromStore(config::Store* store,
                                               const ProgramSecurity& program,
                                               const Logger* logger);
// The same, opening the policy store at `store_path` read-only (empty: no
// store).
Result<RuntimeOptions> RuntimeOptionsFromStorePath(const std::string& store_path,
                                                   const ProgramSecurity& program,
                                                   const Logger* logger);

// Raises the process's soft descriptor limit as far as its hard limit
// allows (base/descriptor_limit.h) and logs the limit in force
// (runtime.descriptor_limit, info, extra limit), with a warning when it is
// below what `server` may hold open (runtime.descriptor_limit_low, extra
// wanted) or could not be raised (runtime.descriptor_limit_unchanged).
// `logger` may be null. Servers call it once, before listening.
void RaiseDescriptorLimitFor(const rpc::ServerOptions& server, const Logger* logger);

class Runtime {
 public:
  // Opens the logon validator (the secrets file may refuse: E_ACCESSDENIED,
  // when this user may not read it) and builds the packages (Kerberos
  // fails with SEC_E_NO_CREDENTIALS when the keytab has no keys for an
  // SPN). `logger`
  // (null: no logging; not owned, it must outlive the runtime) gets the
  // runtime's events (ntlm.no_accounts, warning, extra store: a secrets
  // file without accounts) and is handed to every part: the validator,
  // the NTLM package, the reflection registry and every server made with
  // ServerOptions().
  static Result<std::unique_ptr<Runtime>> Create(RuntimeOptions options, const Logger* logger);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const RuntimeOptions& options() const { return options_; }

  // Options for an rpc::Server: options().server with this runtime's
  // packages and logger.
  rpc::ServerOptions ServerOptions() const;
  // The packages servers offer: local (if offered), then NTLM (if offered
  // and a validator exists), then Kerberos (if offered), then TLS (if
  // offered).
  const rpc::SecurityPackageRegistry& packages() const { return packages_; }

  // The validator NTLM servers use; null with LogonValidation::kNone.
  // comsecd's logon service serves it to other processes.
  auth::ntlm::LogonValidator* logon_validator() const { return validator_.get(); }
  // With kSecretsFile, the machine domain's name; empty while the store has
  // no accounts, and with the other kinds.
  std::string AccountDomain() const;

  // The process's one reflection registry, shared by its NTLM servers and
  // the clients NtlmClient makes.
  auth::ntlm::ReflectionRegistry& reflection_registry() { return reflection_; }

  // An NTLM client package authenticating as `credentials` by default,
  // which records the challenges it receives in this runtime's reflection
  // registry. Must not outlive the runtime.
  std::unique_ptr<auth::ntlm::NtlmPackage> NtlmClient(
      auth::ntlm::ClientCredentials credentials);
  // The local package (for ncalrpc clients and servers alike).
  rpc::SecurityPackage* local_package() { return &local_; }

  // The process's logger, for the program's own events; may be null.
  const Logger* logger() const { return logger_; }

 private:
  Runtime(RuntimeOptions options, const Logger* logger);

  const RuntimeOptions options_;
  const Logger* const logger_;
  auth::ntlm::ReflectionRegistry reflection_;
  auth::LocalPackage local_;
  std::unique_ptr<auth::ntlm::LogonValidator> validator_;
  // validator_ itself with kSecretsFile, else null.
  auth::ntlm::StoreLogonValidator* store_validator_ = nullptr;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_server_;
  std::unique_ptr<auth::gssapi::StorePrincipalMap> principal_map_;
  std::unique_ptr<auth::gssapi::KerberosPackage> kerberos_server_;
  std::unique_ptr<auth::tls::StoreCertificateMapper> tls_mapper_;
  std::unique_ptr<auth::tls::TlsPackage> tls_server_;
  std::unique_ptr<auth::negotiate::NegotiatePackage> negotiate_server_;
  rpc::SecurityPackageRegistry packages_;
};

}  // namespace comsec::runtime
