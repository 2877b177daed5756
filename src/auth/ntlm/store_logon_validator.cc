#include "comsec/auth/ntlm/store_logon_validator.h"

#include "comsec/auth/ntlm/logon_policy.h"
#include "comsec/config/secrets.h"

namespace comsec::auth::ntlm {

Result<std::unique_ptr<StoreLogonValidator>> StoreLogonValidator::Open(
    const std::string& store_path, const Logger* logger) {
  // The policy store is only read here; whoever may read the secrets file
  // can read it too.
  config::StoreOptions read_only;
  read_only.create_if_missing = false;
  read_only.read_only = true;
  COMSEC_ASSIGN_OR_RETURN(auto policy_store, config::Store::Open(store_path, read_only));
  COMSEC_ASSIGN_OR_RETURN(LogonPolicy policy, ReadLogonPolicy(policy_store.get(), logger));
  policy_store.reset();
  return Open(store_path, std::move(policy), logger);
}

Result<std::unique_ptr<StoreLogonValidator>> StoreLogonValidator::Open(
    const std::string& store_path, LogonPolicy policy, const Logger* logger) {
  COMSEC_ASSIGN_OR_RETURN(auto secrets, config::OpenSecrets(store_path));
  std::unique_ptr<StoreLogonValidator> v(new StoreLogonValidator());
  v->accounts_ = std::make_unique<StoreAccountSource>(std::move(secrets));
  v->validator_ =
      std::make_unique<LocalLogonValidator>(v->accounts_.get(), std::move(policy), logger);
  return v;
}

}  // namespace comsec::auth::ntlm
