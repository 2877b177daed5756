// The NTLM server's accounts from the configuration store's account
// database (config/accounts.h).
#pragma once

#include "auth/ntlm/ntlm_package.h"
#include "config/accounts.h"

namespace comsec::auth::ntlm {

class StoreAccountSource : public AccountSource {
 public:
  // Reads the machine domain once; HRESULT_NOT_FOUND when the store has
  // none (no account was ever created).
  static Result<std::unique_ptr<StoreAccountSource>> Open(config::Store* store);

  std::string DomainName() const override { return domain_.name; }
  Result<std::optional<AccountRecord>> Lookup(std::string_view user) override;

 private:
  StoreAccountSource(config::Store* store, config::MachineDomain d)
      : db_(store), domain_(std::move(d)) {}
  config::AccountDatabase db_;
  config::MachineDomain domain_;
};

}  // namespace comsec::auth::ntlm
