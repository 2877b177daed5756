#include "comsec/auth/ntlm/store_accounts.h"

#include "comsec/base/win32_error.h"

namespace comsec::auth::ntlm {

StoreAccountSource::StoreAccountSource(std::unique_ptr<config::Store> store)
    : store_(std::move(store)), db_(store_.get()) {}

Status StoreAccountSource::LoadDomain() const {
  if (domain_) return Status();
  auto d = db_.Domain();
  if (!d.ok()) return d.status();
  domain_ = std::move(*d);
  return Status();
}

std::string StoreAccountSource::DomainName() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadDomain().ok() ? domain_->name : std::string();
}

Result<std::optional<AccountRecord>> StoreAccountSource::Lookup(std::string_view user) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Status s = LoadDomain(); !s.ok()) {
    if (s.code() == ERROR_NOT_FOUND) return std::optional<AccountRecord>();  // no accounts yet
    return s;
  }
  COMSEC_ASSIGN_OR_RETURN(auto account, db_.FindUser(user));
  if (!account) return std::optional<AccountRecord>();
  auto logon = config::LogonOf(*account);
  if (!logon.ok()) {
    // Refused like any logon the account cannot make; the message is for
    // the server's log only.
    return Status(SEC_E_LOGON_DENIED, std::string(logon.status().message()));
  }
  AccountRecord r;
  r.name = account->name;
  r.nt_hash = account->nt_hash;
  r.user_sid = logon->user_sid;
  r.group_sids = std::move(logon->group_sids);
  r.unix_identity = std::move(logon->unix_identity);
  r.disabled = account->disabled;
  return std::optional<AccountRecord>(std::move(r));
}

}  // namespace comsec::auth::ntlm
