#include "comsec/auth/ntlm/logon_policy.h"

#include "comsec/config/accounts.h"

namespace comsec::auth::ntlm {
namespace {

// One config.value_ignored event: `name` in the Lsa key was not used.
void ValueIgnored(const Logger* logger, std::string_view name, std::string message) {
  if (!logger) return;
  logger->Log(LogEvent("config.value_ignored", LogSeverity::kWarning, std::move(message))
                  .Extra("key", config::kLsaKey)
                  .Extra("value", name));
}

// A REG_DWORD no larger than `max`, else `fallback` with a warning.
Result<uint32_t> ReadDword(config::ReadTransaction& tx, const config::KeyPath& key,
                           std::string_view name, uint32_t fallback, uint32_t max,
                           const Logger* logger) {
  COMSEC_ASSIGN_OR_RETURN(auto v, tx.GetValue(key, name));
  if (!v) return fallback;
  auto n = v->AsDword();
  if (!n.ok() || *n > max) {
    ValueIgnored(logger, name,
                 std::string(name) + " in " + std::string(config::kLsaKey) +
                     " is not a REG_DWORD 0-" + std::to_string(max) + "; using " +
                     std::to_string(fallback));
    return fallback;
  }
  return *n;
}

}  // namespace

Result<LogonPolicy> ReadLogonPolicy(config::Store* store, const Logger* logger) {
  LogonPolicy p;
  p.own_names.push_back(config::NetbiosComputerName());
  std::string warning;
  COMSEC_ASSIGN_OR_RETURN(uint32_t lm_level, config::ReadLmCompatibilityLevel(store, &warning));
  if (!warning.empty()) ValueIgnored(logger, "LmCompatibilityLevel", warning);
  p.allow_ntlmv1 = lm_level < 5;
  if (p.allow_ntlmv1 && logger) {
    logger->Log(LogEvent("ntlm.ntlmv1_allowed", LogSeverity::kWarning,
                         "WEAK: NTLMv1 responses are accepted (LmCompatibilityLevel " +
                             std::to_string(lm_level) + "); set it to 5 for NTLMv2 only")
                    .Extra("lm_compatibility_level", std::to_string(lm_level)));
  }
  const config::KeyPath lsa = *config::KeyPath::Parse(config::kLsaKey);
  COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginRead());
  const LockoutPolicy d;
  COMSEC_ASSIGN_OR_RETURN(p.lockout.threshold,
                          ReadDword(*tx, lsa, "LockoutBadCount", d.threshold, 999, logger));
  COMSEC_ASSIGN_OR_RETURN(uint32_t duration,
                          ReadDword(*tx, lsa, "LockoutDuration",
                                    static_cast<uint32_t>(d.duration.count()),
                                    kMaxLockoutMinutes, logger));
  COMSEC_ASSIGN_OR_RETURN(uint32_t reset,
                          ReadDword(*tx, lsa, "ResetLockoutCount",
                                    static_cast<uint32_t>(d.reset_window.count()),
                                    kMaxLockoutMinutes, logger));
  p.lockout.duration = std::chrono::minutes(duration);
  p.lockout.reset_window = std::chrono::minutes(reset);
  COMSEC_ASSIGN_OR_RETURN(auto foreign, tx->GetValue(lsa, "ForeignDomains"));
  if (foreign) {
    auto names = foreign->AsMultiString();
    if (names.ok()) {
      p.foreign_domains = *names;
    } else {
      ValueIgnored(logger, "ForeignDomains",
                   "ForeignDomains in " + std::string(config::kLsaKey) +
                       " is not a REG_MULTI_SZ; no domain is treated as foreign");
    }
  }
  return p;
}

}  // namespace comsec::auth::ntlm
