// Client certificates mapped to accounts by the store's table
// (config/tls_settings.h): the thumbprint's mapping, else the subject's,
// names an account, which becomes the caller's network logon token:
//   "NAME"       an account of the store's account database (the secrets
//                file, config/secrets.h): its SID and local groups, as NTLM
//                logons get them; PeerName "DOMAIN\NAME";
//   "unix:NAME"  a Unix user (not uid 0: a certificate must not become
//                root): S-1-22-1-uid and its groups, R188; PeerName
//                "unix:NAME".
// A mapping naming an account that does not exist, is disabled, or cannot
// be read (the secrets file is not readable by this process) fails the
// logon closed (SEC_E_LOGON_DENIED), logged by the package; it never falls
// back to anonymous, which would hide the administrator's mistake.
//
// Thread-safety: Map may be called from many threads at once; it owns its
// SQLite connections and serialises lookups on them.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "comsec/auth/tls/tls_package.h"
#include "comsec/config/store.h"

namespace comsec::auth::tls {

class StoreCertificateMapper : public CertificateMapper {
 public:
  // Opens the policy store at `store_path` read-only, and its secrets file
  // if this process may read it (else only "unix:" mappings resolve).
  static Result<std::unique_ptr<StoreCertificateMapper>> Open(const std::string& store_path);
  // Over open stores, which the mapper then owns; `secrets` may be null.
  StoreCertificateMapper(std::unique_ptr<config::Store> policy,
                         std::unique_ptr<config::Store> secrets);

  Result<std::optional<MappedAccount>> Map(const ClientCertificate& certificate) override;

 private:
  Result<MappedAccount> Resolve(const std::string& account);

  std::mutex mu_;
  std::unique_ptr<config::Store> policy_;
  std::unique_ptr<config::Store> secrets_;
};

}  // namespace comsec::auth::tls
