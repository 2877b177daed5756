#include "comsec/auth/gssapi/principal_mapping.h"

#include <krb5.h>
#include <openssl/evp.h>

#include <array>

#include "comsec/auth/gssapi/pac.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"
#include "comsec/config/kerberos_config.h"
#include "comsec/config/secrets.h"
#include "comsec/security/unix_identity.h"

namespace comsec::auth::gssapi {
namespace {

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

uint32_t Word(const std::array<uint8_t, 32>& d, size_t i) {
  return uint32_t{d[i]} | uint32_t{d[i + 1]} << 8 | uint32_t{d[i + 2]} << 16 |
         uint32_t{d[i + 3]} << 24;
}

// krb5.conf's auth_to_local answer for the principal; nullopt when the
// rules give none (or the name does not parse).
std::optional<std::string> AuthToLocal(const std::string& principal) {
  krb5_context kc = nullptr;
  if (krb5_init_context(&kc) != 0) return std::nullopt;
  std::optional<std::string> local;
  krb5_principal p = nullptr;
  if (krb5_parse_name(kc, principal.c_str(), &p) == 0) {
    char name[256];
    if (krb5_aname_to_localname(kc, p, sizeof name, name) == 0) local = name;
    krb5_free_principal(kc, p);
  }
  krb5_free_context(kc);
  return local;
}

}  // namespace

security::Sid PrincipalSid(const std::string& principal) {
  const size_t at = principal.rfind('@');
  const std::string realm = at == std::string::npos ? std::string() : principal.substr(at + 1);
  const auto domain = Sha256("comsec-krb5-realm:" + realm);
  const auto user = Sha256("comsec-krb5-principal:" + principal);
  // RIDs below 1000 are the well-known ones (Administrator 500...).
  const uint32_t rid = 1000 + Word(user, 0) % 0x7FFFFC00u;
  return security::Sid(5, {21, Word(domain, 0), Word(domain, 4), Word(domain, 8), rid});
}

Result<std::unique_ptr<StorePrincipalMap>> StorePrincipalMap::Open(const std::string& store_path) {
  config::StoreOptions read_only;
  read_only.create_if_missing = false;
  read_only.read_only = true;
  COMSEC_ASSIGN_OR_RETURN(auto policy, config::Store::Open(store_path, read_only));
  return std::unique_ptr<StorePrincipalMap>(new StorePrincipalMap(store_path, std::move(policy)));
}

Result<std::optional<MappedIdentity>> StorePrincipalMap::Find(const std::string& principal) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<std::string> account;
  {
    COMSEC_ASSIGN_OR_RETURN(auto tx, policy_->BeginRead());
    COMSEC_ASSIGN_OR_RETURN(account, config::FindPrincipalMapping(*tx, principal));
  }
  if (!account) return std::optional<MappedIdentity>();
  const std::string where = "the store's principal map (" + std::string(config::kKerberosPrincipalMapKey) +
                            ") maps " + principal + " to account '" + *account + "'";
  if (!secrets_) {
    config::SecretsOptions o;
    o.create_if_missing = false;
    o.read_only = true;
    auto opened = config::OpenSecrets(path_, o);
    if (!opened.ok()) {
      return Status(opened.status().code(),
                    where + ", but its account database cannot be read: " +
                        std::string(opened.status().message()));
    }
    secrets_ = std::move(*opened);
  }
  config::AccountDatabase db(secrets_.get());
  auto found = db.FindUser(*account);
  if (!found.ok()) return Status(found.status().code(), where + ": " + std::string(found.status().message()));
  if (!*found) return Status(SEC_E_LOGON_DENIED, where + ", which does not exist");
  if ((*found)->disabled) return Status(SEC_E_LOGON_DENIED, where + ", which is disabled");
  COMSEC_ASSIGN_OR_RETURN(config::MachineDomain domain, db.Domain());
  auto logon = config::LogonOf(**found);
  if (!logon.ok()) return Status(SEC_E_LOGON_DENIED, where + ": " + std::string(logon.status().message()));
  MappedIdentity id;
  id.name = domain.name + "\\" + (*found)->name;
  id.token = std::make_shared<const security::Token>(
      config::AccountLogonToken(*logon, security::LogonKind::kNetwork));
  id.source = "store principal map";
  return std::optional<MappedIdentity>(std::move(id));
}

Result<std::optional<MappedIdentity>> IdentityFromPac(std::span<const uint8_t> pac) {
  COMSEC_ASSIGN_OR_RETURN(std::optional<PacLogonInfo> info, LogonInfoFromPac(pac));
  if (!info) return std::optional<MappedIdentity>();
  MappedIdentity id;
  id.name = info->QualifiedName();
  id.token = std::make_shared<const security::Token>(info->ToToken());
  id.source = "PAC logon info";
  return std::optional<MappedIdentity>(std::move(id));
}

Result<MappedIdentity> ResolvePrincipal(const std::string& principal, PrincipalMap* map) {
  if (map != nullptr) {
    COMSEC_ASSIGN_OR_RETURN(auto mapped, map->Find(principal));
    if (mapped) return std::move(*mapped);
  }
  if (std::optional<std::string> local = AuthToLocal(principal)) {
    auto id = security::LookupUnixUserByName(*local);
    if (id.ok() && id->uid != 0) {
      security::UnixTokenOptions o;
      o.logon = security::LogonKind::kNetwork;
      MappedIdentity m;
      m.name = "unix:" + *local;
      m.token = std::make_shared<const security::Token>(security::TokenForUnixIdentity(*id, o));
      m.source = "auth_to_local";
      return m;
    }
  }
  MappedIdentity m;
  m.name = principal;
  m.token = std::make_shared<const security::Token>(security::Token::ForAuthenticatedUser(
      PrincipalSid(principal), {}, security::LogonKind::kNetwork));
  m.source = "principal SID";
  return m;
}

Result<CallerResolution> ResolveCaller(const std::string& principal, const TicketPac& pac,
                                       PrincipalMap* map) {
  CallerResolution r;
  r.pac_state = "absent";
  std::optional<MappedIdentity> id;
  if (pac.present && !pac.verified) {
    r.pac_state = "unverified, ignored";
  } else if (pac.present) {
    auto from_pac = IdentityFromPac(pac.bytes);
    if (!from_pac.ok()) {
      return Status(from_pac.status().code(),
                    principal + "'s ticket carries a PAC that cannot be used: " +
                        std::string(from_pac.status().message()));
    }
    id = std::move(*from_pac);
    r.pac_state = id ? "logon info" : "no logon info";
  }
  if (!id) {
    COMSEC_ASSIGN_OR_RETURN(MappedIdentity rest, ResolvePrincipal(principal, map));
    id = std::move(rest);
  }
  r.identity = std::move(*id);
  return r;
}

}  // namespace comsec::auth::gssapi
