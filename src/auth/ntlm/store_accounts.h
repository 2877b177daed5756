// The NTLM accounts of the configuration store's account database
// (config/accounts.h), read from the secrets file (config/secrets.h).
//
// Thread-safety: safe from many threads at once. It owns its own SQLite
// connection (a config::Store is one-thread-at-a-time) and serialises the
// lookups on it; a lookup is one indexed read, far shorter than the
// network round trips around it.
#pragma once

#include <memory>
#include <mutex>

#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/config/accounts.h"

namespace comsec::auth::ntlm {

class StoreAccountSource : public AccountSource {
 public:
  // Over an open store, which the source then owns: nothing else may use
  // it. A store without a machine domain yet is fine: there are no
  // accounts until `comcfg user add` creates the domain and the first one.
  explicit StoreAccountSource(std::unique_ptr<config::Store> store);

  // The machine domain's name; empty while the store has none.
  std::string DomainName() const override;
  Result<std::optional<AccountRecord>> Lookup(std::string_view user) override;

 private:
  // Reads the domain once it exists (with mu_ held).
  Status LoadDomain() const;

  mutable std::mutex mu_;
  std::unique_ptr<config::Store> store_;
  mutable config::AccountDatabase db_;
  mutable std::optional<config::MachineDomain> domain_;
};

}  // namespace comsec::auth::ntlm
