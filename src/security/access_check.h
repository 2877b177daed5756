// The discretionary access check: does a token get the requested rights
// from a security descriptor's DACL? Windows's algorithm
// ([MS-DTYP] 2.5.3.2 AccessCheck; the AccessCheck API):
//
//  * generic bits in the request and in each ACE are mapped first;
//  * no DACL, or a NULL DACL, grants everything; an empty DACL nothing;
//  * the owner implicitly holds READ_CONTROL and WRITE_DAC unless the DACL
//    has an OWNER RIGHTS (S-1-3-4) ACE;
//  * ACEs are read in order; inherit-only ACEs are skipped; a deny ACE whose
//    SID matches the token (enabled or deny-only) denies when it names any
//    requested bit not yet granted; an allow ACE whose SID matches an
//    enabled entry grants the requested bits it names;
//  * access is granted once every requested bit is granted, and refused at
//    the first deny that hits an undecided bit or when the ACEs run out.
//
// Only ACCESS_ALLOWED and ACCESS_DENIED ACEs are evaluated; object,
// callback and label ACEs are ignored here, as the plain Windows
// AccessCheck ignores them without object types or a callback.
//
// The result says which ACE decided, so that a denial can be explained.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "comsec/security/access_mask.h"
#include "comsec/security/security_descriptor.h"
#include "comsec/security/token.h"

namespace comsec::security {

struct AccessCheckOptions {
  GenericMapping mapping;
  // COM's rule for pre-XP-SP2 ACLs (R118, access-control-lists-for-com.md):
  // an ACE whose mask is exactly COM_RIGHTS_EXECUTE stands for every COM
  // right, local and remote, launch and activate. Set by ComAccessCheck.
  bool com_legacy_execute = false;
};

enum class AccessReason : uint8_t {
  kNoDacl,          // the descriptor has no DACL: everything is granted
  kNullDacl,        // a NULL DACL: everything is granted
  kGranted,         // allow ACEs granted every requested bit
  kDeniedByAce,     // a deny ACE denied a requested bit
  kNotGranted,      // the ACEs ran out with requested bits still undecided
  kEmptyDacl,       // an empty DACL grants nothing
  kNothingRequested // a request for no rights is refused, as Windows does
};

struct AccessCheckResult {
  bool allowed = false;
  AccessReason reason = AccessReason::kNotGranted;
  // The request after generic mapping (MAXIMUM_ALLOWED removed).
  uint32_t requested = 0;
  // The rights the token holds: the requested ones granted so far, or for a
  // MAXIMUM_ALLOWED request every right the DACL grants it.
  uint32_t granted = 0;
  // Requested bits a deny ACE refused.
  uint32_t denied = 0;
  // Index in the DACL of the ACE that decided: the deny ACE that refused, or
  // the allow ACE that granted the last missing bit. Empty for kNoDacl,
  // kNullDacl, kEmptyDacl, kNotGranted, or when the owner's implicit rights
  // completed the grant.
  std::optional<size_t> deciding_ace;

  // Requested bits that were never granted.
  uint32_t missing() const { return requested & ~granted; }
};

AccessCheckResult AccessCheck(const SecurityDescriptor& sd, const Token& token,
                              uint32_t desired,
                              const AccessCheckOptions& options = {});

// "granted by ACE 2", "denied by ACE 0", "no ACE grants 0x4", ...
std::string DescribeAccessReason(const AccessCheckResult& result);

}  // namespace comsec::security
