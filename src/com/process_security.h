// CoInitializeSecurity (rules section 5, R43-R73): the arguments a process
// passes, the checks Windows makes on them, and what they resolve to.
//
//   CoInitializeSecurityParams p;                    // CoInitializeSecurity(
//   p.descriptor = SecDescKind::kDescriptor;         //   pSecDesc = an SD,
//   p.sd = *security::ParseSddl("O:BAG:BAD:(A;;CCDCLC;;;AU)");
//   p.authn_level = RPC_C_AUTHN_LEVEL_PKT_PRIVACY;   //   -1, NULL, NULL, 6,
//   p.imp_level = RPC_C_IMP_LEVEL_IDENTIFY;          //   2, NULL, EOAC_NONE, NULL)
//   HResult hr = runtime->InitializeSecurity(p);     // S_OK, or RPC_E_TOO_LATE
//
// A process that never calls it gets the implicit initialization at its
// first marshal or unmarshal (R59, R73): the registry (its AppID, the Ole
// key's Legacy* values, the built-in defaults) decides, through the config
// layer's one decision function, config::ResolveEffectivePolicy. An
// explicit call other than the EOAC_APPID form ignores the AppID's values
// (R68) but never the machine-wide restriction (R69).
//
// What an access check asks of the process's IAccessControl object
// (EOAC_ACCESS_CONTROL, R49, R65, R143) is the AccessControl interface below:
// IsAccessAllowed for the caller's token with COM_RIGHTS_EXECUTE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/hresult.h"
#include "comsec/base/result.h"
#include "comsec/com/client_security.h"
#include "comsec/config/effective_policy.h"
#include "comsec/rpc/client.h"
#include "comsec/security/security_descriptor.h"
#include "comsec/security/token.h"

namespace comsec::com {

// The EOAC_*, RPC_C_AUTHN_* and RPC_C_AUTHZ_* constants are
// com/client_security.h's.
// Every bit CoInitializeSecurity knows; EOAC_DEFAULT is for SetBlanket only
// (R47).
inline constexpr uint32_t kEoacCoInitializeSecurityMask = 0x7FFF & ~EOAC_DEFAULT;

// The IAccessControl seam: what COM asks of a process's access control
// object on each call (R143: trustee = the caller, rights =
// COM_RIGHTS_EXECUTE). The object must not change once given to
// CoInitializeSecurity (R65). Thread-safety: called from any thread.
class AccessControl {
 public:
  virtual ~AccessControl() = default;
  // S_OK and *allowed; an error refuses the call.
  virtual Result<bool> IsAccessAllowed(const security::Token& trustee, uint32_t rights) = 0;
};

// SOLE_AUTHENTICATION_SERVICE: one package the process registers as a
// server; CoInitializeSecurity fills `hr` (R60).
struct SoleAuthenticationService {
  uint32_t authn_svc = RPC_C_AUTHN_WINNT;
  uint32_t authz_svc = 0;
  std::u16string principal;
  HResult hr = S_OK;
};

// SOLE_AUTHENTICATION_INFO: the identity the process presents to one
// package as a client (pAuthList).
struct SoleAuthenticationInfo {
  uint32_t authn_svc = RPC_C_AUTHN_WINNT;
  uint32_t authz_svc = 0;
  std::shared_ptr<const rpc::Credentials> identity;
};

struct CoInitializeSecurityParams {
  // What pSecDesc points at (R63, R66).
  enum class SecDesc : uint8_t {
    kNull,           // NULL: every caller (R66), or under EOAC_APPID the exe's AppID
    kDescriptor,     // a SECURITY_DESCRIPTOR
    kAccessControl,  // an IAccessControl (needs EOAC_ACCESS_CONTROL)
    kAppId,          // a GUID* (needs EOAC_APPID)
  };
  SecDesc sec_desc = SecDesc::kNull;
  std::optional<security::SecurityDescriptor> sd;
  std::shared_ptr<AccessControl> access_control;
  Guid appid;
  // cAuthSvc: -1 COM chooses, 0 none, n the entries of auth_svc (R62).
  int32_t c_auth_svc = -1;
  std::vector<SoleAuthenticationService> auth_svc;
  // pReserved1 / pReserved3 were non-NULL (R61).
  bool reserved1 = false;
  bool reserved3 = false;
  uint32_t authn_level = 0;  // RPC_C_AUTHN_LEVEL_*, 0 = DEFAULT
  uint32_t imp_level = 0;    // RPC_C_IMP_LEVEL_*, 0 = DEFAULT
  std::vector<SoleAuthenticationInfo> auth_list;
  uint32_t capabilities = EOAC_NONE;
};

// CoInitializeSecurity's argument checks (R46, R48-R51, R61-R66, C6):
// E_INVALIDARG with the rule broken; the SD's and level's problems named.
// `available_svcs` are the packages this process can register (cAuthSvc
// > 0 with none of them: RPC_E_NO_GOOD_SECURITY_PACKAGES, each entry's hr
// filled).
Status ValidateCoInitializeSecurity(CoInitializeSecurityParams& params,
                                    const std::vector<uint32_t>& available_svcs);

// RPC_E_TOO_LATE (R59) and RPC_E_NO_GOOD_SECURITY_PACKAGES (R60).
inline constexpr HResult RPC_E_TOO_LATE{0x80010119u};
inline constexpr HResult RPC_E_NO_GOOD_SECURITY_PACKAGES{0x8001011Au};

// What the process's security resolved to, explicit or implicit; immutable
// once made and shared by every thread.
struct ProcessSecuritySettings {
  bool explicit_call = false;  // CoInitializeSecurity was called
  // The authentication level floor (R7) and default outgoing level, the
  // impersonation level, the capabilities (EOAC_DEFAULT means these, R47),
  // secure references (R48, R145), the packages registered as a server
  // (empty with cAuthSvc 0) and the client identities (pAuthList).
  config::EffectivePolicy policy;
  uint32_t capabilities = EOAC_NONE;
  bool secure_references = false;
  std::vector<uint32_t> authn_services;
  // CoInitializeSecurity listed the packages (cAuthSvc 0 or n, R62): a call
  // authenticated by any other network package is refused (the local
  // package is the transport's own identity and always comes in). False
  // for COM's choice (cAuthSvc -1) and the implicit initialization.
  bool authn_services_listed = false;
  std::vector<SoleAuthenticationInfo> auth_list;
  // CoInitializeSecurity's dwAuthnLevel and dwImpLevel as given (0:
  // DEFAULT), for the client role (R58, R75).
  uint32_t client_authn_level = 0;
  uint32_t client_imp_level = 0;
  std::shared_ptr<AccessControl> access_control;
  // The AppID whose values the registry part came from (nil: none).
  Guid appid;
};

// The config layer's view of an explicit call: null for the implicit
// initialization and the EOAC_APPID form reads the registry (R67).
std::optional<config::ProcessSecurity> ToConfigProcessSecurity(
    const CoInitializeSecurityParams& params);

}  // namespace comsec::com
