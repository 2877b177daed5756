#include "comsec/com/process_security.h"

#include <algorithm>

#include "comsec/security/com_rights.h"

namespace comsec::com {
namespace {

Status Invalid(std::string why) { return Status(E_INVALIDARG, std::move(why)); }

// SEC_E_SECPKG_NOT_FOUND: an asAuthSvc entry naming a package this process
// does not have.
inline constexpr HResult SEC_E_SECPKG_NOT_FOUND{0x80090305u};

Status CheckDescriptor(const security::SecurityDescriptor& sd) {
  // R64: owner and group present, no SACL but mandatory labels (C6), and
  // the DACL in a form COM accepts.
  if (!sd.owner || !sd.group) {
    return Invalid("CoInitializeSecurity: the security descriptor needs an owner and a "
                   "group (R64)");
  }
  for (const security::ComSdProblem& p : security::ValidateComSecurityDescriptor(sd)) {
    if (p.severity == security::ComSdProblem::Severity::kError) {
      return Invalid("CoInitializeSecurity: the security descriptor is not valid for COM (" +
                     p.rule + "): " + p.message);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateCoInitializeSecurity(CoInitializeSecurityParams& p,
                                    const std::vector<uint32_t>& available_svcs) {
  const uint32_t caps = p.capabilities;
  if (p.reserved1 || p.reserved3) {
    return Invalid("CoInitializeSecurity: pReserved1 and pReserved3 must be NULL (R61)");
  }
  if (caps & ~kEoacCoInitializeSecurityMask) {
    return Invalid("CoInitializeSecurity: capabilities " +
                   HResult(caps & ~kEoacCoInitializeSecurityMask).Hex() +
                   " are not EOAC values CoInitializeSecurity takes (R43, R47: EOAC_DEFAULT "
                   "is for SetBlanket only)");
  }
  if ((caps & EOAC_STATIC_CLOAKING) && (caps & EOAC_DYNAMIC_CLOAKING)) {
    return Invalid("CoInitializeSecurity: EOAC_STATIC_CLOAKING and EOAC_DYNAMIC_CLOAKING "
                   "exclude each other (R46)");
  }
  if ((caps & EOAC_APPID) && (caps & EOAC_ACCESS_CONTROL)) {
    return Invalid("CoInitializeSecurity: EOAC_APPID and EOAC_ACCESS_CONTROL exclude each "
                   "other (R51)");
  }
  if (p.authn_level > 6) {
    return Invalid("CoInitializeSecurity: dwAuthnLevel " + std::to_string(p.authn_level) +
                   " is not an RPC_C_AUTHN_LEVEL_* value (0-6)");
  }
  if (p.imp_level > 4) {
    return Invalid("CoInitializeSecurity: dwImpLevel " + std::to_string(p.imp_level) +
                   " is not an RPC_C_IMP_LEVEL_* value (0-4)");
  }
  using SecDesc = CoInitializeSecurityParams::SecDesc;
  if (caps & EOAC_APPID) {
    // R50: every other argument is ignored (the registry decides, R67).
    if (p.sec_desc != SecDesc::kAppId && p.sec_desc != SecDesc::kNull) {
      return Invalid("CoInitializeSecurity: with EOAC_APPID, pSecDesc is an AppID or NULL (R50)");
    }
    return Status::Ok();
  }
  switch (p.sec_desc) {
    case SecDesc::kAppId:
      return Invalid("CoInitializeSecurity: an AppID as pSecDesc needs EOAC_APPID (R63)");
    case SecDesc::kAccessControl:
      if (!(caps & EOAC_ACCESS_CONTROL)) {
        return Invalid("CoInitializeSecurity: an IAccessControl as pSecDesc needs "
                       "EOAC_ACCESS_CONTROL (R63)");
      }
      if (!p.access_control) {
        return Invalid("CoInitializeSecurity: EOAC_ACCESS_CONTROL with a NULL pSecDesc (R66)");
      }
      if (p.authn_level == 1) {
        return Invalid("CoInitializeSecurity: an IAccessControl needs an authentication level "
                       "above RPC_C_AUTHN_LEVEL_NONE (R65)");
      }
      break;
    case SecDesc::kNull:
      if (caps & EOAC_ACCESS_CONTROL) {
        return Invalid("CoInitializeSecurity: EOAC_ACCESS_CONTROL with a NULL pSecDesc (R66)");
      }
      break;
    case SecDesc::kDescriptor:
      if (caps & EOAC_ACCESS_CONTROL) {
        return Invalid("CoInitializeSecurity: EOAC_ACCESS_CONTROL needs an IAccessControl, not "
                       "a security descriptor (R64)");
      }
      if (!p.sd) return Invalid("CoInitializeSecurity: pSecDesc names no descriptor");
      COMSEC_RETURN_IF_ERROR(CheckDescriptor(*p.sd));
      break;
  }
  if ((caps & EOAC_SECURE_REFS) && p.authn_level == 1) {
    return Invalid("CoInitializeSecurity: EOAC_SECURE_REFS needs an authentication level "
                   "above RPC_C_AUTHN_LEVEL_NONE (R48)");
  }
  if (p.c_auth_svc < -1) {
    return Invalid("CoInitializeSecurity: cAuthSvc must be -1, 0 or the number of entries (R62)");
  }
  if (p.c_auth_svc == -1 && !p.auth_svc.empty()) {
    return Invalid("CoInitializeSecurity: cAuthSvc -1 (COM chooses) needs asAuthSvc NULL (R62)");
  }
  if (p.c_auth_svc > 0) {
    if (p.auth_svc.size() != static_cast<size_t>(p.c_auth_svc)) {
      return Invalid("CoInitializeSecurity: cAuthSvc is " + std::to_string(p.c_auth_svc) +
                     " but asAuthSvc holds " + std::to_string(p.auth_svc.size()) + " entries");
    }
    bool any = false, schannel = false;
    for (SoleAuthenticationService& s : p.auth_svc) {
      const bool have = std::find(available_svcs.begin(), available_svcs.end(), s.authn_svc) !=
                        available_svcs.end();
      s.hr = have ? S_OK : SEC_E_SECPKG_NOT_FOUND;
      any = any || have;
      schannel = schannel || s.authn_svc == RPC_C_AUTHN_GSS_SCHANNEL;
    }
    if ((caps & (EOAC_STATIC_CLOAKING | EOAC_DYNAMIC_CLOAKING)) && schannel) {
      return Invalid("CoInitializeSecurity: cloaking cannot be used with Schannel (R46)");
    }
    if (!any) {
      return Status(RPC_E_NO_GOOD_SECURITY_PACKAGES,
                    "CoInitializeSecurity: none of the asAuthSvc packages is available here "
                    "(each entry's hr says why)");
    }
  }
  return Status::Ok();
}

std::optional<config::ProcessSecurity> ToConfigProcessSecurity(
    const CoInitializeSecurityParams& p) {
  config::ProcessSecurity out;
  if (p.capabilities & EOAC_APPID) {
    out.access = config::ProcessSecurity::Access::kAppId;
    return out;
  }
  out.authn_level = security::AuthnLevelFromNumber(p.authn_level).value_or(config::AuthnLevel::kDefault);
  out.imp_level = security::ImpLevelFromNumber(p.imp_level).value_or(config::ImpLevel::kDefault);
  using SecDesc = CoInitializeSecurityParams::SecDesc;
  if (p.sec_desc == SecDesc::kDescriptor) {
    out.access = config::ProcessSecurity::Access::kDescriptor;
    out.access_sd = p.sd;
  } else {
    // NULL, or an IAccessControl the call gate asks itself.
    out.access = config::ProcessSecurity::Access::kNull;
  }
  return out;
}

}  // namespace comsec::com
