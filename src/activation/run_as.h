// The identity the SCM launches a server as (issue 15, "Launching"): an
// AppID's RunAs value (R127, R128) resolved to a Unix user, group and
// supplementary groups, which activation/launcher.h then switches to.
//
// RunAs forms (R128) and what comsec makes of them:
//   absent                      As Activator (R127): the activator's Unix
//                               identity, the one its token acts as when
//                               impersonated (security::
//                               ImpersonationIdentityOf: a local caller's
//                               uid, or a store account mapped with
//                               `comcfg user set NAME --unix-user U`).
//   "Interactive User"          the owner of the active logind session,
//                               seat0 first (R127: the server does not start
//                               when no one is logged on).
//   "nt authority\localservice" RunAsContext::service_user, comsecd's
//   "nt authority\networkservice" service account (DECISION: Linux has no
//                               machine account to tell the two apart).
//   "nt authority\system"       refused: COM cannot launch a server as
//                               SYSTEM (R128).
//   "unix:NAME"                 the Unix user NAME (comsec's own form).
//   "DOMAIN\name", ".\name",    the store account's Unix mapping
//   "name"                      (config/accounts.h UnixMapping); DOMAIN is
//                               the store's machine domain or this host's
//                               NetBIOS name.
// Names are matched case-insensitively, as Windows matches them.
// Supplementary groups are those initgroups(3) would set (getgrouplist), or
// a numeric mapping's exact list.
//
// Root (uid 0) is never the target of a configured RunAs (DECISION: as
// Windows never launches a server as SYSTEM, comsec never launches one as
// root because of a configuration value; Interactive User when root is the
// one logged on is refused too, where Windows would give a filtered token).
// As Activator is the one way to a root server: a root activator's own
// identity, which grants nothing it does not already hold.
//
// Every failure is CO_E_RUNAS_LOGON_FAILURE (as Windows reports a RunAs
// logon that fails) with a sentence naming the RunAs value and what to do,
// except a RunAsContext used wrongly (E_INVALIDARG).
//
// Thread-safety: ResolveRunAs reads the system's user database and the
// store; safe from any thread that may use `ctx.store` (one thread at a
// time per Store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/config/store.h"
#include "comsec/security/token.h"

namespace comsec::activation {

struct LaunchIdentity {
  uint32_t uid = 0;
  uint32_t gid = 0;
  // The supplementary groups the server gets, primary group included
  // (as initgroups sets them).
  std::vector<uint32_t> groups;
  // "" for a numeric mapping to a uid the system does not name.
  std::string user_name;
  // From the user's passwd entry; "/" and "" when it has none.
  std::string home = "/";
  std::string shell;
  // For messages and logs: "nt authority\localservice: unix:daemon (uid 1)",
  // "As Activator: unix:alice (uid 1001)".
  std::string description;
};

struct RunAsContext {
  // The caller's token (required for As Activator).
  const security::Token* activator = nullptr;
  // The Unix user "nt authority\localservice" runs as: comsecd's configured
  // service user.
  std::string service_user = "daemon";
  // logind's session files, read for "Interactive User".
  std::string sessions_dir = "/run/systemd/sessions";
  // The store holding the account database (HKLM\SAM: the secrets file,
  // config/secrets.h OpenSecrets), for store-account names; may be null,
  // and such names then fail. Not const: reading opens a transaction.
  config::Store* store = nullptr;
};

// `run_as` is the AppID's RunAs value, std::nullopt when absent.
Result<LaunchIdentity> ResolveRunAs(const std::optional<std::string>& run_as,
                                    const RunAsContext& ctx);

// One logind session, as read from a file in the sessions directory.
struct LogindSession {
  std::string id;  // the file's name
  uint32_t uid = 0;
  std::string user;
  std::string seat;  // "" when the session has none (ssh, cron)
  bool active = false;
  std::string session_class;  // "user", "greeter", ...
};

// The sessions in `sessions_dir` (files whose names do not start with '.');
// an absent directory has none. Files without a UID= line are skipped.
Result<std::vector<LogindSession>> ReadLogindSessions(const std::string& sessions_dir);

}  // namespace comsec::activation
