#include "comsec/security/access_check.h"

#include <cstdio>

#include "comsec/security/com_rights.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

constexpr uint32_t kOwnerImplicitRights = READ_CONTROL | WRITE_DAC;

bool HasOwnerRightsAce(const Acl& dacl) {
  for (const Ace& ace : dacl.aces) {
    if ((ace.IsAllow() || ace.IsDeny()) &&
        ace.sid == well_known::OwnerRights()) {
      return true;
    }
  }
  return false;
}

}  // namespace

AccessCheckResult AccessCheck(const SecurityDescriptor& sd, const Token& token,
                              uint32_t desired,
                              const AccessCheckOptions& options) {
  AccessCheckResult r;
  const bool maximum = desired & MAXIMUM_ALLOWED;
  r.requested = options.mapping.Map(desired & ~MAXIMUM_ALLOWED);

  if (!sd.DaclPresent() || !sd.dacl) {
    r.reason = sd.DaclPresent() ? AccessReason::kNullDacl : AccessReason::kNoDacl;
    r.allowed = maximum || r.requested != 0;
    if (!r.allowed) r.reason = AccessReason::kNothingRequested;
    r.granted = r.requested | (maximum ? options.mapping.Map(GENERIC_ALL) : 0);
    return r;
  }
  if (!maximum && r.requested == 0) {
    r.reason = AccessReason::kNothingRequested;
    return r;
  }

  const Acl& dacl = *sd.dacl;
  // Bits still open: for a plain request, the requested bits neither granted
  // nor denied yet; for MAXIMUM_ALLOWED, every bit.
  const uint32_t want = maximum ? ~uint32_t{0} : r.requested;
  if (sd.owner && token.IsMember(*sd.owner) && !HasOwnerRightsAce(dacl)) {
    r.granted |= kOwnerImplicitRights & want;
  }
  uint32_t open = want & ~r.granted;

  for (size_t i = 0; i < dacl.aces.size() && open != 0; ++i) {
    const Ace& ace = dacl.aces[i];
    if (ace.flags & INHERIT_ONLY_ACE) continue;
    const bool allow = ace.IsAllow();
    if (!allow && !ace.IsDeny()) continue;
    SidMatch match = token.Match(ace.sid);
    if (match == SidMatch::kNone) continue;
    uint32_t mask = options.mapping.Map(ace.mask);
    if (options.com_legacy_execute && mask == COM_RIGHTS_EXECUTE) {
      mask = kComRightsAll;
    }
    const uint32_t hit = mask & open;
    if (hit == 0) continue;
    if (allow) {
      if (match != SidMatch::kEnabled) continue;
      r.granted |= hit;
      open &= ~hit;
      if (open == 0 && !maximum) r.deciding_ace = i;
    } else {
      r.denied |= hit & r.requested;
      open &= ~hit;
      if (!maximum) {
        r.deciding_ace = i;
        r.reason = AccessReason::kDeniedByAce;
        return r;
      }
    }
  }

  if (maximum) {
    // Granted when something was granted and every explicitly requested bit
    // is among it.
    r.allowed = r.granted != 0 && (r.requested & ~r.granted) == 0;
    if (r.allowed) {
      r.reason = AccessReason::kGranted;
    } else if (r.denied) {
      r.reason = AccessReason::kDeniedByAce;
    } else {
      r.reason = dacl.aces.empty() ? AccessReason::kEmptyDacl
                                   : AccessReason::kNotGranted;
    }
    return r;
  }
  if (open == 0) {
    r.allowed = true;
    r.reason = AccessReason::kGranted;
  } else {
    r.reason = dacl.aces.empty() ? AccessReason::kEmptyDacl
                                 : AccessReason::kNotGranted;
  }
  return r;
}

std::string DescribeAccessReason(const AccessCheckResult& r) {
  char buf[160];
  switch (r.reason) {
    case AccessReason::kNoDacl:
      return "the descriptor has no DACL, which grants every right";
    case AccessReason::kNullDacl:
      return "the DACL is NULL (NO_ACCESS_CONTROL), which grants every right";
    case AccessReason::kEmptyDacl:
      return "the DACL is empty, which grants nothing";
    case AccessReason::kNothingRequested:
      return "no rights were requested";
    case AccessReason::kGranted:
      if (r.deciding_ace) {
        std::snprintf(buf, sizeof buf, "granted by ACE %zu", *r.deciding_ace);
        return buf;
      }
      return "granted by the owner's implicit rights and allow ACEs";
    case AccessReason::kDeniedByAce:
      if (r.deciding_ace) {
        std::snprintf(buf, sizeof buf, "denied by ACE %zu, which denies 0x%x",
                      *r.deciding_ace, r.denied);
        return buf;
      }
      std::snprintf(buf, sizeof buf, "deny ACEs refuse 0x%x", r.denied);
      return buf;
    case AccessReason::kNotGranted:
      std::snprintf(buf, sizeof buf,
                    "no ACE grants 0x%x to this caller", r.missing());
      return buf;
  }
  return "";
}

}  // namespace comsec::security
