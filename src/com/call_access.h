// The check every incoming ORPC call passes before any stub code runs,
// IRemUnknown's included (R187, C11):
//   1. the call's authentication level at or above the process's floor (R7,
//      R140);
//   2. MachineAccessRestriction grants the caller EXECUTE and LC or RC for
//      its distance (R139; ncalrpc is local, TCP remote, R117/R188);
//   3. the process's access permission: CoInitializeSecurity's descriptor,
//      its IAccessControl (R143), or the AppID's AccessPermission /
//      DefaultAccessPermission / the built-in default (R137, R144), unless
//      the process resolved to level NONE from the registry (R141) or has a
//      NULL descriptor (R66);
// and, before them, when CoInitializeSecurity listed its packages (cAuthSvc
// 0 or n), the call's package among them unless it is the local package
// (R62);
// with the caller's token from the call's CallSecurity (ANONYMOUS LOGON for
// an unauthenticated call). The decision is config::Decide's, the same
// function `comcfg explain access` runs, so the offline explanation and
// the live answer cannot disagree. A refusal is E_ACCESSDENIED and one
// `com.access_denied` event naming the caller, the check and ACE that
// decided, the remedy and the exact `comcfg explain access ...` command
// that reproduces it (when the registry decided; a CoInitializeSecurity
// descriptor lives only in the process).
//
// The policy follows the store without a restart: a call re-reads it when
// the store changed (PRAGMA data_version) at most every `refresh_interval`,
// and a call about to be refused always re-reads first, so a remedy applied
// with comcfg lets the very next call through.
//
// SELF in a descriptor (S-1-5-10, the built-in access permission's PS)
// stands for this process's own identity, S-1-22-1-euid.
//
// Thread-safety: Check may run on any number of threads at once;
// Initialize runs once, before calls are served.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/com/process_security.h"
#include "comsec/config/explain.h"
#include "comsec/config/store.h"
#include "comsec/rpc/interface.h"

namespace comsec::com {

struct CallAccessOptions {
  // The policy store ("" for none: every value its built-in default).
  std::string store_path;
  std::chrono::milliseconds refresh_interval{1000};
  const Logger* logger = nullptr;
};

class CallAccessGate {
 public:
  static Result<std::unique_ptr<CallAccessGate>> Open(CallAccessOptions options);

  // The process's security: `process` null for the implicit initialization
  // (and EOAC_APPID's registry form), from `appid`'s registry values. Fails
  // with CO_E_SERVER_EXEC_FAILURE when the registry makes the process fail
  // (R163), with the store's error when it cannot be read.
  // `base` holds what CoInitializeSecurity set beyond the registry (its
  // appid, capabilities, packages, identities, IAccessControl); the
  // policy part is resolved here and again whenever the store changes.
  Result<std::shared_ptr<const ProcessSecuritySettings>> Initialize(
      const std::optional<config::ProcessSecurity>& process, ProcessSecuritySettings base);

  // R187 for one call: S_OK, or E_ACCESSDENIED after logging why. Before
  // Initialize, every call is refused (RPC_E_NO_GOOD_SECURITY_PACKAGES is
  // not what a caller should see: E_ACCESSDENIED).
  HResult Check(const rpc::CallContext& call);

  // The settings in force (null before Initialize).
  std::shared_ptr<const ProcessSecuritySettings> settings() const;

  // The `comcfg explain access ...` command that reproduces offline the
  // decision `settings` made on `call` (the same settings, so an event and
  // its command agree); empty when the process's own CoInitializeSecurity
  // descriptor decided (comcfg cannot see it).
  std::string ExplainCommand(const ProcessSecuritySettings& settings,
                             const rpc::CallContext& call) const;

 private:
  struct Source {
    std::optional<config::ProcessSecurity> process;
    ProcessSecuritySettings base;
  };

  explicit CallAccessGate(CallAccessOptions options);
  // Resolves the settings from the store now. REQUIRES: store_mu_ held.
  Result<std::shared_ptr<const ProcessSecuritySettings>> ResolveLocked();
  // Re-resolves when the store changed; `force` skips the interval.
  void MaybeRefresh(bool force);
  config::Decision Decide(const ProcessSecuritySettings& settings,
                          const rpc::CallContext& call) const;
  void LogDenial(const ProcessSecuritySettings& settings, const rpc::CallContext& call,
                 const config::Decision& decision) const;

  const CallAccessOptions options_;
  const security::Sid self_;

  // The store and what the settings were resolved from.
  std::mutex store_mu_;
  std::unique_ptr<config::Store> store_;
  std::optional<Source> source_;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point next_refresh_{};

  mutable std::mutex settings_mu_;
  std::shared_ptr<const ProcessSecuritySettings> settings_;

  // Callers allowed under the settings in force, by token: the calls of one
  // authentication context share its token, so a repeated caller costs a
  // lookup. Entries hold the token weakly (a freed token's address reused
  // by another never matches) and go when the settings change; refusals
  // are never cached.
  struct Allowed {
    std::weak_ptr<const security::Token> token;
    security::AuthnLevel level;
    bool local;
  };
  bool CachedAllowed(const std::shared_ptr<const ProcessSecuritySettings>& settings,
                     const rpc::CallContext& call);
  void RememberAllowed(const std::shared_ptr<const ProcessSecuritySettings>& settings,
                       const rpc::CallContext& call);
  std::mutex cache_mu_;
  std::weak_ptr<const ProcessSecuritySettings> cache_for_;
  std::vector<Allowed> allowed_;  // small: the process's distinct callers, capped
};

// How comcfg's --user names the caller of `call`: uid:N for a Unix
// account, DOMAIN\name for a store account, AN for an unauthenticated
// caller, else the SID.
std::string ComcfgPrincipal(const rpc::CallContext& call);
// The rule R187's step that refused, for logs: "R187.1 authentication
// level", "R139 machine access restriction", "R137 access permission",
// "R62 authentication service".
std::string RefusingRule(const config::Decision& decision);

}  // namespace comsec::com
