// Validates network logons against an AccountSource in this process: what
// comsecd does for every server (and a server that may read the secrets
// itself, such as a test), in the role of Windows's MSV1_0.
//
// Policy, all of it here so that comsecd and an in-process server decide
// alike:
//  * NTLMv2 only unless allow_ntlmv1 (LmCompatibilityLevel below 5); every
//    NTLMv1 logon let through is logged as weak.
//  * A domain name the machine does not own is validated against the local
//    accounts, as a standalone Windows machine and Samba's
//    `map untrusted to domain = auto` do (clients send their workgroup or
//    their own machine name), and logged with the domain as sent — unless
//    the store names it a foreign domain, whose accounts this machine
//    cannot know: those are refused.
//  * Account lockout as Windows's policy of that name: after `threshold`
//    failed logons within `reset_window` the account is locked for
//    `duration`; a locked account's logons fail on the wire exactly as a
//    wrong password does, and the log says which it was.
//
// Thread-safety: safe to call from many threads at once (the lockout
// table has its own lock; the AccountSource must be thread-safe).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "comsec/auth/ntlm/logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/base/log.h"

namespace comsec::auth::ntlm {

// Windows 11's defaults (Local Security Policy, Account Lockout Policy).
struct LockoutPolicy {
  uint32_t threshold = 10;                 // LockoutBadCount; 0: never lock
  std::chrono::minutes duration{10};       // LockoutDuration; 0: until comsecd restarts
  std::chrono::minutes reset_window{10};   // ResetLockoutCount
};

struct LogonPolicy {
  bool allow_ntlmv1 = false;
  // Other names that mean this machine (its DNS domain and computer names);
  // the account domain's own name and "." always do.
  std::vector<std::string> own_names;
  // Domains this machine knows are not its own (comsec's Lsa value
  // ForeignDomains): their users are refused, not mapped to local accounts.
  std::vector<std::string> foreign_domains;
  LockoutPolicy lockout;
};

class LocalLogonValidator : public LogonValidator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `accounts` must outlive the validator, and so must `logger` (null logs
  // nothing). Its events, each with the peer the server reported and the
  // account as the client named it (principal), never a secret:
  //   ntlm.validation_refused     warning  a logon refused (reason, HRESULT)
  //   ntlm.account_locked_out     warning  an account locked out (extras
  //                                        failed_logons, lockout_minutes)
  //   ntlm.foreign_domain_mapped  notice   a domain not this machine's
  //                                        validated against the local
  //                                        accounts (extra domain)
  //   ntlm.ntlmv1_validated       warning  an NTLMv1 logon let in
  LocalLogonValidator(AccountSource* accounts, LogonPolicy policy,
                      const Logger* logger = nullptr, Clock clock = {});

  Result<std::string> DomainName() override;
  Result<NetworkLogonResult> ValidateNetworkLogon(const NetworkLogonRequest& request) override;

 private:
  struct BadLogons {
    uint32_t count = 0;
    std::chrono::steady_clock::time_point last_failure{};
    std::optional<std::chrono::steady_clock::time_point> locked_until;
    bool locked_indefinitely = false;
  };

  Result<NetworkLogonResult> Validate(const NetworkLogonRequest& request,
                                      const std::string& who);
  // Refuses while the account is locked.
  Status CheckNotLockedOut(const std::string& account_key);
  void RecordFailure(const std::string& account_key, const std::string& who,
                     const std::string& peer);
  void RecordSuccess(const std::string& account_key);
  void Log(const LogEvent& event) const {
    if (logger_) logger_->Log(event);
  }
  std::chrono::steady_clock::time_point Now() const {
    return clock_ ? clock_() : std::chrono::steady_clock::now();
  }

  AccountSource* accounts_;
  const LogonPolicy policy_;
  const Logger* const logger_;
  const Clock clock_;
  std::mutex mu_;
  std::map<std::string, BadLogons> bad_logons_;  // by upper-cased account name
};

}  // namespace comsec::auth::ntlm
