// Effective policy: for one application, which authentication level,
// impersonation level, launch and access permissions and machine limits are
// in force, and where each came from. This is the one place that decides
// which setting wins (R166), following R67, R68, R73, R113, R114, R137,
// R141, R144, R151, R163, R164, R165, R175 and the decisions C2, C3, C7.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/config/store.h"
#include "comsec/security/authn_level.h"
#include "comsec/security/security_descriptor.h"

namespace comsec::config {

// rpcdce.h levels (R1, R12): security/authn_level.h's types and names.
using security::AuthnLevel;
using security::AuthnLevelName;  // "RPC_C_AUTHN_LEVEL_CONNECT"
using security::ImpLevel;
using security::ImpLevelName;

enum class PolicySource : uint8_t {
  kProcess,         // CoInitializeSecurity arguments
  kAppId,           // the AppID's registry value
  kMachineDefault,  // Ole Legacy*/Default* values
  kPolicy,          // the policy override of a restriction (R165)
  kMachine,         // an Ole value that is not a default (restrictions)
  kBuiltIn,         // nothing configured
};
const char* PolicySourceName(PolicySource source);  // "process", "AppID", ...

// The process-wide settings a server passed to CoInitializeSecurity (R58).
struct ProcessSecurity {
  AuthnLevel authn_level = AuthnLevel::kDefault;
  ImpLevel imp_level = ImpLevel::kDefault;
  // pSecDesc: a descriptor, NULL (every caller allowed, R66), or EOAC_APPID
  // (the registry decides, R67).
  enum class Access : uint8_t { kDescriptor, kNull, kAppId };
  Access access = Access::kNull;
  std::optional<security::SecurityDescriptor> access_sd;
};

// Level is AuthnLevel or ImpLevel.
template <typename Level>
struct LevelSetting {
  Level value{};
  PolicySource source = PolicySource::kBuiltIn;
  std::string origin;  // "AppID {...}\\AuthenticationLevel", "built-in"
};

struct DescriptorSetting {
  PolicySource source = PolicySource::kBuiltIn;
  std::string origin;
  // The descriptor to check; empty when `everyone` or `invalid`.
  std::optional<security::SecurityDescriptor> sd;
  // No check at all: CoInitializeSecurity with a NULL pSecDesc (R66), or an
  // application whose registry level is NONE (R141).
  bool everyone = false;
  // The configured value cannot be used (wrong type, malformed, or a
  // descriptor COM treats as invalid): it grants nothing (R151, fail closed).
  bool invalid = false;
  std::string problem;
};

struct EffectivePolicy {
  Guid appid;
  bool appid_registered = false;
  LevelSetting<AuthnLevel> authn_level;
  LevelSetting<ImpLevel> imp_level;
  DescriptorSetting launch;
  DescriptorSetting access;
  DescriptorSetting machine_launch_limit;
  DescriptorSetting machine_access_limit;
  bool enable_dcom = true;
  PolicySource enable_dcom_source = PolicySource::kBuiltIn;
  // DCOM hardening: activations below this level are refused (PKT_INTEGRITY
  // by default; kDefault, no floor, when
  // RequireIntegrityActivationAuthenticationLevel = 0).
  AuthnLevel min_activation_authn_level = AuthnLevel::kPktIntegrity;
  bool secure_references = false;
  uint32_t activation_failure_logging = 0;
  uint32_t call_failure_logging = 2;
  uint32_t invalid_sd_logging = 1;
  // R163: an invalid AuthenticationLevel makes the implicit CIS fail, so the
  // server can neither be activated nor called.
  bool process_fails = false;
  std::string process_failure;
  // Values that were present but ignored, with the reason.
  std::vector<std::string> warnings;
};

// Resolves the policy of `appid`; `process` is null for a server that does
// not call CoInitializeSecurity. Reads everything in the transaction's one
// snapshot.
// `running`, for a server re-reading its policy after the store changed:
// the policy it initialized with, whose authentication and impersonation
// levels stay (R72: once CIS ran, explicitly or implicitly, the process's
// blanket does not change; R141 is decided with that level); everything
// else is read again.
Result<EffectivePolicy> ResolveEffectivePolicy(ReadTransaction& tx,
                                               const Guid& appid,
                                               const ProcessSecurity* process,
                                               const EffectivePolicy* running = nullptr);

// The AppID a class names (R159). REGDB_E_CLASSNOTREG when the class is
// not registered; REGDB_E_INVALIDVALUE when it names no valid AppID.
Result<Guid> AppIdForClsid(ReadTransaction& tx, const Guid& clsid);

}  // namespace comsec::config
