// The security of an activation call (issue 15, client side): which
// package, level, identity, impersonation level and principal a client's
// RemoteCreateInstance / RemoteGetClassObject to an SCM is made with, from
// the COAUTHINFO the application passed in COSERVERINFO or else the
// process's own blanket. Rules R121-R124 of com-security-rules.md,
// [MS-DCOM] 3.2.4.1.1.2 and KB5004442 (conformance case 39).
//
// With a COAUTHINFO (R121, R122) its values are used, as
// RpcBindingSetAuthInfoEx would take them:
//   authn_svc      the package of that service among the process's
//                  (ComRuntimeOptions::client_auth's and client_packages);
//                  RPC_C_AUTHN_DEFAULT: the process's own package; none
//                  for it: RPC_S_UNKNOWN_AUTHN_SERVICE. RPC_C_AUTHN_NONE
//                  is an unsecure activation, as level NONE.
//   authz_svc      not used (AUTHZ_NONE with every package comsec has).
//   principal      the SPN expected of the SCM for Kerberos and Negotiate;
//                  empty: "RPCSS/<server name>" (3.2.4.1.1.2). Ignored
//                  with NTLM, which must have none (R122: quietly).
//   authn_level    DEFAULT: the process's level; NONE: unsecure activation
//                  (R123), nothing authenticated; other levels as given,
//                  then raised (below). Above PKT_PRIVACY: E_INVALIDARG.
//   imp_level      at least IMPERSONATE: below it (DEFAULT included) is
//                  quietly raised to IMPERSONATE (R122), except that an
//                  unsecure activation below IMPERSONATE fails with
//                  RPC_S_SERVER_UNAVAILABLE, as Windows's does (R123).
//                  Above DELEGATE: IMPERSONATE.
//   identity       who to authenticate as (COAUTHIDENTITY's analog: the
//                  package's own credentials type); null: the process's
//                  identity for that package.
//   capabilities   EOAC_MUTUAL_AUTH asks the package to prove the SCM;
//                  other bits are quietly ignored (R122: 0 or 1).
// Without one, the process's blanket (R124): its package, level, identity
// and impersonation level (at least IMPERSONATE); a process without a
// package activates unauthenticated, and the SCM decides.
//
// RaiseActivationAuthenticationLevel = 2 (KB5004442, case 39): every
// authenticated activation is made at RPC_C_AUTHN_LEVEL_PKT_INTEGRITY at
// least, whatever the COAUTHINFO or the process asked for (CONNECT, CALL
// and PKT are raised; PKT_PRIVACY stays); ActivationAuth records it. An
// unsecure activation (level NONE) is not raised: it is anonymous, and
// the SCM refuses it unless its launch and activation permissions grant
// ANONYMOUS LOGON (R123, case 38).
//
// Over ncalrpc (the local SCM, comsecd) the kernel authenticates: the
// local package is the only one, whatever authn_svc names, and an
// identity in the COAUTHINFO is not used (a process cannot present
// another identity to the kernel). The levels are as over TCP.
//
// Thread-safety: free functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "comsec/base/result.h"
#include "comsec/com/client_security.h"
#include "comsec/rpc/client.h"
#include "comsec/security/authn_level.h"

namespace comsec::activation {

// COAUTHINFO (wtypesbase.h, R122). Levels are RPC_C_AUTHN_LEVEL_* and
// RPC_C_IMP_LEVEL_* numbers, as the Windows structure holds them.
struct COAUTHINFO {
  uint32_t authn_svc = com::RPC_C_AUTHN_WINNT;
  uint32_t authz_svc = com::RPC_C_AUTHZ_NONE;
  // Empty: NULL.
  std::u16string server_princ_name;
  uint32_t authn_level = 0;  // RPC_C_AUTHN_LEVEL_DEFAULT
  uint32_t imp_level = 3;    // RPC_C_IMP_LEVEL_IMPERSONATE
  // COAUTHIDENTITY: credentials of the service's package
  // (auth::ntlm::NtlmCredentials, a Kerberos ccache...); null: the
  // process's identity.
  std::shared_ptr<const rpc::Credentials> identity;
  uint32_t capabilities = com::EOAC_NONE;
};

// Where the activation call goes.
enum class ScmTransport : uint8_t {
  kLocal,   // ncalrpc, comsecd on this machine
  kRemote,  // ncacn_ip_tcp, another machine's SCM
};

// The security the activation call is made with.
struct ActivationAuth {
  // The bind's authentication context; nullopt: unauthenticated (level
  // NONE, no package).
  std::optional<rpc::ClientAuth> auth;
  // What the COAUTHINFO or the process asked for, DEFAULT resolved, and
  // what goes on the wire.
  security::AuthnLevel requested_level = security::AuthnLevel::kNone;
  security::AuthnLevel level = security::AuthnLevel::kNone;
  security::ImpLevel imp_level = security::ImpLevel::kImpersonate;
  // RaiseActivationAuthenticationLevel changed the level (requested_level
  // < level).
  bool raised = false;
  // Whose values these are: "COAUTHINFO", "the process's blanket" or "no
  // package: unauthenticated".
  std::string source;
};

// The level every authenticated activation is raised to (KB5004442).
inline constexpr security::AuthnLevel kMinActivationAuthnLevel =
    security::AuthnLevel::kPktIntegrity;

// The activation call's security, as the file comment says. `process` is
// the runtime's (com::ComRuntime::ClientSecurity()); `server_name` the host
// the SPN names (remote only); `local_package` the kernel's package, used
// for kLocal. Errors: E_INVALIDARG (a level above PKT_PRIVACY),
// RPC_S_UNKNOWN_AUTHN_SERVICE, RPC_S_SERVER_UNAVAILABLE (an unsecure
// activation below IMPERSONATE), each with its sentence.
Result<ActivationAuth> EffectiveActivationAuth(
    const COAUTHINFO* info, const com::ClientProcessSecurity& process,
    ScmTransport transport, std::string_view server_name,
    rpc::SecurityPackage* local_package);

}  // namespace comsec::activation
