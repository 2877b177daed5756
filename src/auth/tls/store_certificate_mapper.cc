#include "comsec/auth/tls/store_certificate_mapper.h"

#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/config/tls_settings.h"
#include "comsec/security/unix_identity.h"

namespace comsec::auth::tls {

Result<std::unique_ptr<StoreCertificateMapper>> StoreCertificateMapper::Open(
    const std::string& store_path) {
  config::StoreOptions read_only;
  read_only.create_if_missing = false;
  read_only.read_only = true;
  COMSEC_ASSIGN_OR_RETURN(auto policy, config::Store::Open(store_path, read_only));
  config::SecretsOptions secrets_options;
  secrets_options.create_if_missing = false;
  secrets_options.read_only = true;
  auto secrets = config::OpenSecrets(store_path, secrets_options);
  return std::make_unique<StoreCertificateMapper>(
      std::move(policy), secrets.ok() ? std::move(*secrets) : nullptr);
}

StoreCertificateMapper::StoreCertificateMapper(std::unique_ptr<config::Store> policy,
                                               std::unique_ptr<config::Store> secrets)
    : policy_(std::move(policy)), secrets_(std::move(secrets)) {}

Result<std::optional<MappedAccount>> StoreCertificateMapper::Map(
    const ClientCertificate& certificate) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<std::string> account;
  {
    COMSEC_ASSIGN_OR_RETURN(auto reader, policy_->BeginRead());
    COMSEC_ASSIGN_OR_RETURN(account, config::FindTlsMapping(*reader, certificate.subject,
                                                            certificate.thumbprint));
  }
  if (!account) return std::optional<MappedAccount>();
  COMSEC_ASSIGN_OR_RETURN(MappedAccount mapped, Resolve(*account));
  return std::optional<MappedAccount>(std::move(mapped));
}

Result<MappedAccount> StoreCertificateMapper::Resolve(const std::string& account) {
  auto denied = [&](const std::string& why) {
    return Status(SEC_E_LOGON_DENIED,
                  "the client's certificate maps to '" + account + "', " + why);
  };
  if (account.rfind("unix:", 0) == 0) {
    const std::string name = account.substr(5);
    auto id = security::LookupUnixUserByName(name);
    if (!id.ok()) return denied("which is not a Unix user here");
    if (id->uid == 0) return denied("which is uid 0: root is never a mapping target");
    security::UnixTokenOptions o;
    o.logon = security::LogonKind::kNetwork;
    return MappedAccount{account, std::make_shared<const security::Token>(
                                      security::TokenForUnixIdentity(*id, o))};
  }
  if (!secrets_) {
    return denied("but this process cannot read the account database (the secrets file)");
  }
  config::AccountDatabase db(secrets_.get());
  auto domain = db.Domain();
  if (!domain.ok()) return denied("but the store has no account database: " + std::string(domain.status().message()));
  COMSEC_ASSIGN_OR_RETURN(std::optional<config::Account> found, db.FindUser(account));
  if (!found) return denied("which is not an account of the store");
  if (found->disabled) return denied("which is disabled");
  auto logon = config::LogonOf(*found);
  if (!logon.ok()) return denied("which cannot log on: " + std::string(logon.status().message()));
  return MappedAccount{domain->name + "\\" + found->name,
                       std::make_shared<const security::Token>(config::AccountLogonToken(
                           *logon, security::LogonKind::kNetwork))};
}

}  // namespace comsec::auth::tls
