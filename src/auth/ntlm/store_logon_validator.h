// The logon validator comsecd runs (and a server that may read the secrets
// itself): the accounts of the store's secrets file (created 0600 and an
// older store's accounts migrated into it on open, config/secrets.h) and
// the logon policy of the store's Lsa key (auth/ntlm/logon_policy.h), read
// once at open.
//
// Thread-safety: safe from many threads at once, like its parts.
#pragma once

#include <memory>
#include <string>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/store_accounts.h"

namespace comsec::auth::ntlm {

class StoreLogonValidator : public LogonValidator {
 public:
  // `logger` (null: none; must outlive the validator) gets the policy's
  // warnings now (auth/ntlm/logon_policy.h) and the validator's events
  // later (auth/ntlm/local_logon_validator.h).
  static Result<std::unique_ptr<StoreLogonValidator>> Open(const std::string& store_path,
                                                           const Logger* logger);
  // The same with the logon policy already read (ReadLogonPolicy; the
  // runtime reads it with the rest of the machine's policy,
  // runtime/runtime.h): only the secrets file is opened.
  static Result<std::unique_ptr<StoreLogonValidator>> Open(const std::string& store_path,
                                                           LogonPolicy policy,
                                                           const Logger* logger);

  // The machine domain's name; empty while the store has no accounts.
  std::string AccountDomain() const { return accounts_->DomainName(); }

  Result<std::string> DomainName() override { return validator_->DomainName(); }
  Result<NetworkLogonResult> ValidateNetworkLogon(const NetworkLogonRequest& request) override {
    return validator_->ValidateNetworkLogon(request);
  }

 private:
  StoreLogonValidator() = default;
  std::unique_ptr<StoreAccountSource> accounts_;
  std::unique_ptr<LocalLogonValidator> validator_;
};

}  // namespace comsec::auth::ntlm
