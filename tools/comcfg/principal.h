// Principals as comcfg's users write them, everywhere a command takes one
// (perms --principal, access-check and explain --user/--group):
//   S-1-5-32-544     a SID
//   BA               an SDDL alias
//   unix:NAME        a Unix user (or, where a group is wanted, a Unix group)
//   uid:N, gid:N     a Unix user or group by number
//   DOMAIN\name      a store account or local group (config/accounts.h);
//                    DOMAIN is the store's machine domain, any case, or "."
//   name             a store account or local group by its bare name
//
// A bare name means the store's account, never a Unix user of that name:
// Unix users are always written unix:NAME, so what a bare name names does
// not depend on /etc/passwd, and it is what an NTLM client typing "alice"
// logs on as. A bare name that is an SDDL alias ("BA", "WD") stays the
// alias; write DOMAIN\BA for an account of that name. A bare name that is
// no store account but is a Unix user is refused with the advice to write
// unix:NAME.
//
// Store accounts live in the store's secrets file, which only its owner
// may read: comcfg opens it only when a principal needs it, and says so
// when it cannot.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "comsec/base/result.h"
#include "comsec/config/accounts.h"
#include "comsec/config/store.h"
#include "comsec/security/sid.h"
#include "comsec/security/unix_identity.h"

namespace comsec::comcfg {

// The account database of the store at `store_path`, opened read-only at
// first use. One thread.
class StoreAccounts {
 public:
  explicit StoreAccounts(std::string store_path) : store_path_(std::move(store_path)) {}

  // The database, or why it cannot be read; nullptr (no error) when the
  // store has no accounts yet.
  Result<config::AccountDatabase*> Database();
  // The machine domain; nullopt when there is none yet.
  Result<std::optional<config::MachineDomain>> Domain();

 private:
  std::string store_path_;
  bool opened_ = false;
  std::unique_ptr<config::Store> secrets_;
  std::unique_ptr<config::AccountDatabase> db_;
};

struct Principal {
  security::Sid sid;
  // For unix:NAME and uid:N users: the identity, with its groups when the
  // system knows the user (otherwise just the uid).
  std::optional<security::UnixIdentity> unix_user;
  // For a store account named as a user: the account.
  std::optional<config::Account> account;
  // For a store account or local group: "DOMAIN\name" as stored.
  std::string qualified_name;
};

// What the principal is wanted as, which decides what unix:NAME and a
// store name may be. uid:N always names a user and gid:N a group.
enum class PrincipalUse {
  kUser,   // a caller (--user): a Unix user or a store account
  kGroup,  // a group of a caller (--group): a Unix group or a local group
  kAny,    // an ACE's trustee (perms): a user, else a group of that name
};

// `accounts` (null: store names are refused) resolves DOMAIN\name and bare
// names. E_INVALIDARG for text that names nothing; ERROR_NO_SUCH_USER /
// ERROR_NO_SUCH_GROUP for names that are not there.
Result<Principal> ParsePrincipal(std::string_view text, PrincipalUse use,
                                 StoreAccounts* accounts);

}  // namespace comsec::comcfg
