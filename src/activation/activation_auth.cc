#include "comsec/activation/activation_auth.h"

#include <algorithm>
#include <utility>

#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"

namespace comsec::activation {
namespace {

using security::AuthnLevel;
using security::ImpLevel;

// The SPN an SCM is expected to have (3.2.4.1.1.2): the application's, else
// "RPCSS/<server>" for the packages that authenticate the server. NTLM takes
// none (R122).
std::string Principal(const rpc::SecurityPackage& package,
                      std::u16string_view given, std::string_view server_name,
                      const std::string& fallback) {
  const uint32_t svc = package.auth_type();
  if (svc != com::RPC_C_AUTHN_GSS_KERBEROS &&
      svc != com::RPC_C_AUTHN_GSS_NEGOTIATE) {
    return fallback;
  }
  if (!given.empty()) return Utf16ToUtf8Lossy(given);
  return "RPCSS/" + std::string(server_name);
}

ImpLevel AtLeastImpersonate(ImpLevel imp) {
  return imp < ImpLevel::kImpersonate ? ImpLevel::kImpersonate : imp;
}

}  // namespace

Result<ActivationAuth> EffectiveActivationAuth(
    const COAUTHINFO* info, const com::ClientProcessSecurity& process,
    ScmTransport transport, std::string_view server_name,
    rpc::SecurityPackage* local_package) {
  const bool local = transport == ScmTransport::kLocal;
  if (local && local_package == nullptr) {
    return Status(E_INVALIDARG,
                  "a local activation needs the local (kernel) package");
  }
  const std::optional<rpc::ClientAuth>& own = process.auth;
  const bool own_package = own.has_value() && own->package != nullptr;
  // The process's level: its blanket's; without one, CONNECT over ncalrpc
  // (the local package, com/com_runtime.h) and nothing over TCP.
  AuthnLevel process_level =
      own ? own->level : (local ? AuthnLevel::kConnect : AuthnLevel::kNone);
  if (process_level == AuthnLevel::kDefault)
    process_level = AuthnLevel::kConnect;

  ActivationAuth out;
  AuthnLevel level = AuthnLevel::kNone;
  rpc::ClientAuth auth;
  if (info != nullptr) {
    out.source = "COAUTHINFO";
    const std::optional<AuthnLevel> asked =
        security::AuthnLevelFromNumber(info->authn_level);
    if (!asked) {
      return Status(E_INVALIDARG,
                    "COAUTHINFO.dwAuthnLevel " +
                        std::to_string(info->authn_level) +
                        " is not an RPC_C_AUTHN_LEVEL_* value (0-6)");
    }
    level = *asked == AuthnLevel::kDefault ? process_level : *asked;
    if (info->authn_svc == com::RPC_C_AUTHN_NONE) level = AuthnLevel::kNone;
    const std::optional<ImpLevel> imp =
        security::ImpLevelFromNumber(info->imp_level);
    if (level == AuthnLevel::kNone && (!imp || *imp < ImpLevel::kImpersonate)) {
      // R123: Windows's unsecure activation works only at IMPERSONATE.
      return Status(
          RPC_S_SERVER_UNAVAILABLE,
          "an unsecure activation (COAUTHINFO at RPC_C_AUTHN_LEVEL_NONE) needs "
          "dwImpersonationLevel RPC_C_IMP_LEVEL_IMPERSONATE or above, not " +
              std::to_string(info->imp_level));
    }
    // R122: a wrong impersonation level is quietly replaced.
    out.imp_level = imp ? AtLeastImpersonate(*imp) : ImpLevel::kImpersonate;
    if (level != AuthnLevel::kNone) {
      if (local) {
        auth.package = local_package;
      } else {
        const uint32_t svc = info->authn_svc != com::RPC_C_AUTHN_DEFAULT
                                 ? info->authn_svc
                             : own_package ? own->package->auth_type()
                                           : com::RPC_C_AUTHN_DEFAULT;
        auth.package = process.Package(svc);
        if (auth.package == nullptr) {
          return Status(
              RPC_S_UNKNOWN_AUTHN_SERVICE,
              "COAUTHINFO names authentication service " +
                  (svc == com::RPC_C_AUTHN_DEFAULT ? std::string("DEFAULT")
                                                   : std::to_string(svc)) +
                  ", for which this process has no package (give it in "
                  "ComRuntimeOptions::client_auth or client_packages)");
        }
        auth.credentials = info->identity ? info->identity
                           : own_package && own->package == auth.package
                               ? own->credentials
                               : nullptr;
        auth.target_name =
            Principal(*auth.package, info->server_princ_name, server_name, "");
        if ((info->capabilities & com::EOAC_MUTUAL_AUTH) != 0) {
          auth.wanted |= rpc::kFeatureMutualAuth;
        }
      }
    }
  } else if (local || own_package) {
    // R124: COM first tries to authenticate the client, with the process's
    // blanket, at least at IMPERSONATE (3.2.4.1.1.2).
    out.source = "the process's blanket";
    level = std::max(process_level, AuthnLevel::kConnect);
    out.imp_level =
        AtLeastImpersonate(own ? own->imp_level : ImpLevel::kImpersonate);
    if (local) {
      auth.package = local_package;
    } else {
      auth.package = own->package;
      auth.credentials = own->credentials;
      auth.target_name =
          Principal(*own->package, u"", server_name, own->target_name);
      auth.wanted = own->wanted;
    }
  } else {
    // No package to try: the SCM decides on an anonymous caller (R124).
    out.source = "no package: unauthenticated";
    out.imp_level =
        AtLeastImpersonate(own ? own->imp_level : ImpLevel::kImpersonate);
  }

  out.requested_level = level;
  if (level == AuthnLevel::kNone) {
    out.level = AuthnLevel::kNone;
    return out;
  }
  // RaiseActivationAuthenticationLevel = 2 (KB5004442).
  out.level = std::max(level, kMinActivationAuthnLevel);
  out.raised = out.level != level;
  auth.level = out.level;
  auth.imp_level = out.imp_level;
  out.auth = std::move(auth);
  return out;
}

}  // namespace comsec::activation
