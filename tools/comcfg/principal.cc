#include "comcfg/principal.h"

#include <charconv>
#include <string>

#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/secrets.h"
#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::comcfg {

namespace {

Result<uint32_t> ParseId(std::string_view digits, std::string_view whole) {
  uint32_t value = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size()) {
    return Status(E_INVALIDARG, "principal \"" + std::string(whole) +
                                    "\": expected a decimal id after ':'");
  }
  return value;
}

Principal OfSid(const security::Sid& sid) {
  Principal p;
  p.sid = sid;
  return p;
}

constexpr char kForms[] =
    "a SID, an SDDL alias, DOMAIN\\name or a bare name of a store account or "
    "local group, unix:NAME, uid:N or gid:N";

// A store account or local group named `name` (bare or after DOMAIN\),
// as `use` allows. `whole` is the text as written, for messages.
Result<Principal> StoreName(std::string_view name, std::string_view whole, PrincipalUse use,
                            StoreAccounts& accounts) {
  auto cannot = [&](const Status& s) {
    return Status(s.code(), "principal \"" + std::string(whole) +
                                "\" names a store account, but the store's account "
                                "database cannot be read: " +
                                std::string(s.message()));
  };
  auto db = accounts.Database();
  if (!db.ok()) return cannot(db.status());
  auto domain = accounts.Domain();
  if (!domain.ok()) return cannot(domain.status());
  std::optional<config::Account> user;
  std::optional<config::LocalGroup> group;
  if (*db != nullptr) {
    if (use != PrincipalUse::kGroup) {
      COMSEC_ASSIGN_OR_RETURN(user, (*db)->FindUser(name));
    }
    if (!user) {
      COMSEC_ASSIGN_OR_RETURN(group, (*db)->FindGroup(name));
    }
  }
  if (user) {
    Principal p;
    p.sid = user->sid;
    p.qualified_name = (*domain)->name + "\\" + user->name;
    p.account = std::move(user);
    return p;
  }
  if (group) {
    if (use == PrincipalUse::kUser) {
      return Status(E_INVALIDARG, "principal \"" + std::string(whole) + "\" is the local group " +
                                      (*domain)->name + "\\" + group->name +
                                      ", which cannot log on; name a member with --user and "
                                      "the group with --group");
    }
    Principal p;
    p.sid = group->sid;
    p.qualified_name = (*domain)->name + "\\" + group->name;
    return p;
  }
  const bool wanted_group = use == PrincipalUse::kGroup;
  std::string message = "principal \"" + std::string(whole) + "\": no store " +
                        (wanted_group ? "local group" : "account or local group") + " named '" +
                        std::string(name) + "' (`comcfg user list`, `comcfg group list`)";
  if (whole.find('\\') == std::string_view::npos) {
    const bool unix_known = wanted_group ? security::LookupUnixGroupByName(name).ok()
                                         : security::LookupUnixUserByName(name).ok();
    if (unix_known) {
      message += "; for the Unix " + std::string(wanted_group ? "group" : "user") +
                 " of that name write unix:" + std::string(name);
    } else {
      message += std::string("; a principal is ") + kForms;
    }
  }
  return Status(wanted_group ? ERROR_NO_SUCH_GROUP : ERROR_NO_SUCH_USER, message);
}

}  // namespace

Result<config::AccountDatabase*> StoreAccounts::Database() {
  if (!opened_) {
    config::SecretsOptions o;
    o.create_if_missing = false;
    o.read_only = true;
    auto secrets = config::OpenSecrets(store_path_, o);
    if (!secrets.ok()) {
      if (secrets.status().code() != ERROR_NOT_FOUND) return secrets.status();
    } else {
      secrets_ = std::move(*secrets);
      db_ = std::make_unique<config::AccountDatabase>(secrets_.get());
    }
    opened_ = true;
  }
  return db_.get();
}

Result<std::optional<config::MachineDomain>> StoreAccounts::Domain() {
  COMSEC_ASSIGN_OR_RETURN(config::AccountDatabase * db, Database());
  if (db == nullptr) return std::optional<config::MachineDomain>();
  auto d = db->Domain();
  if (!d.ok()) {
    if (d.status().code() == ERROR_NOT_FOUND) return std::optional<config::MachineDomain>();
    return d.status();
  }
  return std::optional<config::MachineDomain>(std::move(*d));
}

Result<Principal> ParsePrincipal(std::string_view text, PrincipalUse use,
                                 StoreAccounts* accounts) {
  if (text.starts_with("uid:")) {
    COMSEC_ASSIGN_OR_RETURN(uint32_t uid, ParseId(text.substr(4), text));
    Principal p = OfSid(security::UnixUserSid(uid));
    auto id = security::LookupUnixUser(uid);
    p.unix_user = id.ok() ? *id : security::UnixIdentity{uid, "", {}, {}};
    return p;
  }
  if (text.starts_with("gid:")) {
    COMSEC_ASSIGN_OR_RETURN(uint32_t gid, ParseId(text.substr(4), text));
    return OfSid(security::UnixGroupSid(gid));
  }
  if (text.starts_with("unix:")) {
    std::string_view name = text.substr(5);
    if (use != PrincipalUse::kGroup) {
      auto id = security::LookupUnixUserByName(name);
      if (id.ok() || use == PrincipalUse::kUser) {
        COMSEC_RETURN_IF_ERROR(id.status());
        Principal p = OfSid(security::UnixUserSid(id->uid));
        p.unix_user = std::move(*id);
        return p;
      }
    }
    COMSEC_ASSIGN_OR_RETURN(uint32_t gid, security::LookupUnixGroupByName(name));
    return OfSid(security::UnixGroupSid(gid));
  }
  if (size_t slash = text.find('\\'); slash != std::string_view::npos) {
    const std::string_view domain = text.substr(0, slash);
    const std::string_view name = text.substr(slash + 1);
    if (accounts == nullptr) {
      return Status(E_INVALIDARG, "principal \"" + std::string(text) +
                                      "\": this command does not know store accounts");
    }
    auto store_domain = accounts->Domain();
    if (!store_domain.ok()) {
      return Status(store_domain.status().code(),
                    "principal \"" + std::string(text) +
                        "\" names a store account, but the store's account database cannot "
                        "be read: " + std::string(store_domain.status().message()));
    }
    if (!*store_domain) {
      return Status(ERROR_NO_SUCH_USER, "principal \"" + std::string(text) +
                                            "\": the store has no accounts yet (`comcfg user "
                                            "add` creates the machine domain)");
    }
    if (domain != "." && !AccountNamesEqual(domain, (*store_domain)->name)) {
      return Status(E_INVALIDARG,
                    "principal \"" + std::string(text) + "\": '" + std::string(domain) +
                        "' is not the store's machine domain (" + (*store_domain)->name +
                        "); comcfg knows this store's accounts only: name others by SID");
    }
    return StoreName(name, text, use, *accounts);
  }
  auto sid = security::ParseSddlSid(text);
  if (sid.ok()) return OfSid(*sid);
  // Not a SID or an alias: a store account's bare name, when it can be one.
  if (accounts != nullptr && !text.empty() && !text.starts_with("S-") &&
      !text.starts_with("s-") && text.find(':') == std::string_view::npos) {
    return StoreName(text, text, use, *accounts);
  }
  return Status(E_INVALIDARG, "principal \"" + std::string(text) + "\" is not " + kForms +
                                  " (" + std::string(sid.status().message()) + ")");
}

}  // namespace comsec::comcfg
