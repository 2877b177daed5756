// COM access rights (access-control-lists-for-com.md, R115–R118) and the COM
// view of security descriptors: the access check with the legacy-ACL rule,
// rights as names, and the validation that tells which descriptors COM
// treats as invalid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/security/access_check.h"

namespace comsec::security {

// access-control-lists-for-com.md.
inline constexpr uint32_t COM_RIGHTS_EXECUTE = 0x1;
inline constexpr uint32_t COM_RIGHTS_EXECUTE_LOCAL = 0x2;    // LL / LC
inline constexpr uint32_t COM_RIGHTS_EXECUTE_REMOTE = 0x4;   // RL / RC
inline constexpr uint32_t COM_RIGHTS_ACTIVATE_LOCAL = 0x8;   // LA
inline constexpr uint32_t COM_RIGHTS_ACTIVATE_REMOTE = 0x10; // RA
inline constexpr uint32_t kComRightsAll = 0x1F;

// Every generic right means COM_RIGHTS_EXECUTE in a COM descriptor, so a
// generic ACE reads as an old-format ACE and the legacy rule gives it every
// COM right.
inline constexpr GenericMapping kComGenericMapping{
    COM_RIGHTS_EXECUTE, COM_RIGHTS_EXECUTE, COM_RIGHTS_EXECUTE,
    COM_RIGHTS_EXECUTE};

// The access check for launch, activation and call permissions: generic
// bits mapped with kComGenericMapping, and an ACE granting or denying only
// COM_RIGHTS_EXECUTE read as all five COM rights (R118).
inline AccessCheckResult ComAccessCheck(const SecurityDescriptor& sd,
                                        const Token& token, uint32_t rights) {
  return AccessCheck(sd, token, rights,
                     AccessCheckOptions{kComGenericMapping, true});
}

// "execute,execute_local" or "0x3" -> mask. Names are case-insensitive and
// may be separated by commas and spaces; a number is 0x-hex or decimal.
Result<uint32_t> ParseComRights(std::string_view text);
// "execute, execute_local" — the names of the COM bits in `mask`, plus the
// hex of any other bits.
std::string FormatComRights(uint32_t mask);

// One finding of ValidateComSecurityDescriptor.
struct ComSdProblem {
  enum class Severity : uint8_t { kError, kWarning };
  Severity severity;
  // A rule of reference/com-security-rules.md ("R118") or the page's name.
  std::string rule;
  std::string message;
  // The DACL index of the ACE concerned, when there is one.
  std::optional<size_t> ace;
};

// What COM thinks of a descriptor used as a launch or access permission:
// errors for what COM rejects as invalid (an ACE without
// COM_RIGHTS_EXECUTE; old-format and new-format ACEs mixed in one ACL; a
// SACL with anything but mandatory labels, C6), warnings for what is legal
// but risky (a NULL DACL, rights COM does not define, no owner or group).
std::vector<ComSdProblem> ValidateComSecurityDescriptor(
    const SecurityDescriptor& sd);

// True when no problem is an error.
bool IsValidComSecurityDescriptor(const std::vector<ComSdProblem>& problems);

}  // namespace comsec::security
