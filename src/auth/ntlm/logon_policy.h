// The logon policy a LocalLogonValidator applies, read from the policy
// store's HKLM\SYSTEM\CurrentControlSet\Control\Lsa key (readable by all,
// written by the store's owner):
//
//   LmCompatibilityLevel  REG_DWORD 0-5   below 5 accepts NTLMv1 (default 5)
//   LockoutBadCount       REG_DWORD       failed logons before lockout
//                                         (default 10; 0 never locks)
//   LockoutDuration       REG_DWORD       minutes locked (default 10; 0 until
//                                         comsecd restarts)
//   ResetLockoutCount     REG_DWORD       minutes after which the failure count
//                                         starts again (default 10)
//   ForeignDomains        REG_MULTI_SZ    domains whose users are refused rather
//                                         than mapped to local accounts (comsec's)
//
// The lockout values carry the names Windows's security templates (secedit
// [System Access]) give the Account Lockout Policy, with Windows 11's
// defaults. A value of the wrong type or out of range is replaced by its
// default, with a warning.
#pragma once

#include <string>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/base/log.h"
#include "comsec/config/store.h"

namespace comsec::auth::ntlm {

// Largest accepted LockoutDuration / ResetLockoutCount (Windows: 99999).
inline constexpr uint32_t kMaxLockoutMinutes = 99999;

// Reads the policy. `logger` (may be null) gets a config.value_ignored
// event (warning) for each value replaced by its default, and an
// ntlm.ntlmv1_allowed event (warning, extra lm_compatibility_level) when
// LmCompatibilityLevel lets NTLMv1 in.
Result<LogonPolicy> ReadLogonPolicy(config::Store* policy_store, const Logger* logger);

}  // namespace comsec::auth::ntlm
