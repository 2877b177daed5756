#include "auth/ntlm/store_accounts.h"

namespace comsec::auth::ntlm {

Result<std::unique_ptr<StoreAccountSource>> StoreAccountSource::Open(
    config::Store* store) {
  config::AccountDatabase db(store);
  COMSEC_ASSIGN_OR_RETURN(config::MachineDomain d, db.Domain());
  return std::unique_ptr<StoreAccountSource>(new StoreAccountSource(store, std::move(d)));
}

Result<std::optional<AccountRecord>> StoreAccountSource::Lookup(std::string_view user) {
  COMSEC_ASSIGN_OR_RETURN(auto account, db_.FindUser(user));
  if (!account) return std::optional<AccountRecord>();
  AccountRecord r;
  r.name = account->name;
  r.nt_hash = account->nt_hash;
  r.user_sid = account->sid;
  for (const auto& g : account->groups) r.group_sids.push_back(g.second);
  r.disabled = account->disabled;
  return std::optional<AccountRecord>(std::move(r));
}

}  // namespace comsec::auth::ntlm
